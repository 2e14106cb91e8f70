/*
 * state-fdt-read.h: the reading half of the state visitor (the writer
 * and the conventions are in state-fdt.h). A reader checks a blob once
 * (size cap, header, fdt_check_full) and then fetches nodes and
 * properties by name, each length checked against the width the caller
 * expects; the first error is kept with a message naming the node path
 * and the property.
 */
#ifndef MIGRATION_STATE_FDT_READ_H
#define MIGRATION_STATE_FDT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/state-fdt.h"

/* Plain struct so it can live on the stack; fields are private. */
struct state_reader {
	const void *blob; /* borrowed */
	size_t size;
	int err;
	char msg[STATE_MSG_MAX];
};

/*
 * Check @blob (@size bytes, borrowed until the reader is dropped):
 * size within [header, @max_size], header total size == @size,
 * fdt_check_full. Returns 0, or -EINVAL / -EFBIG with the message in
 * state_reader__error(). The reader needs no exit call.
 */
int __must_check state_reader__init(struct state_reader *r, const void *blob,
				    size_t size, size_t max_size);

/* First error (0 if none) and its message ("" if none). */
int state_reader__status(const struct state_reader *r);
const char *state_reader__error(const struct state_reader *r);

/*
 * Offset of child @name of node @parent: >= 0, or -ENOENT (recorded as
 * "<parent path>: node 'name' is missing").
 */
int state__node(struct state_reader *r, int parent, const char *name);

/* Like state__node but a missing node is not an error (-ENOENT). */
int state__find_node(const struct state_reader *r, int parent,
		     const char *name);

/*
 * Iterate over the children of @node: first child, next sibling; -ENOENT
 * when there are no more. state__node_name gives a child's name
 * (borrowed from the blob) or NULL.
 */
int state__first_child(const struct state_reader *r, int node);
int state__next_child(const struct state_reader *r, int child);
const char *state__node_name(const struct state_reader *r, int node);

/* True if node @node has property @name. */
bool state__has(const struct state_reader *r, int node, const char *name);

/*
 * Read a property that must exist with exactly the given width.
 * Returns 0, or -EINVAL recorded as "<path>: property 'x' is missing" /
 * "... has N bytes, expected M". On error *v is left unchanged.
 */
int state__get_u8(struct state_reader *r, int node, const char *name,
		  uint8_t *v);
int state__get_u16(struct state_reader *r, int node, const char *name,
		   uint16_t *v);
int state__get_u32(struct state_reader *r, int node, const char *name,
		   uint32_t *v);
int state__get_u64(struct state_reader *r, int node, const char *name,
		   uint64_t *v);
/* Exactly @len bytes. */
int state__get_bytes(struct state_reader *r, int node, const char *name,
		     void *buf, size_t len);
/* At most @max bytes; the length found goes to *len. */
int state__get_bytes_max(struct state_reader *r, int node, const char *name,
			 void *buf, size_t max, size_t *len);
/*
 * Borrowed pointer to the value of property @name (any length, valid
 * while the blob is); for large arrays. Returns NULL after recording
 * "missing" or when the length is not a multiple of @unit.
 */
const void *state__get_array(struct state_reader *r, int node,
			     const char *name, size_t unit, size_t *len);
/*
 * Arrays of at most @max integers; the count found goes to *n.
 * Rejects lengths that are not a multiple of the element width.
 */
int state__get_u32_array(struct state_reader *r, int node, const char *name,
			 uint32_t *v, size_t max, size_t *n);
int state__get_u64_array(struct state_reader *r, int node, const char *name,
			 uint64_t *v, size_t max, size_t *n);
/* A NUL-terminated string that fits in @bufsz bytes. */
int state__get_string(struct state_reader *r, int node, const char *name,
		      char *buf, size_t bufsz);
/* One property per entry of @f, stored into the struct at @base. */
int state__get_fields(struct state_reader *r, int node,
		      const struct state_field *f, size_t n, void *base);

/*
 * Record a semantic error about node @node ("<path>: <message>") unless
 * an earlier error is recorded; returns -EINVAL for convenience.
 */
int state__fail(struct state_reader *r, int node, const char *fmt, ...)
	__printf(3, 4);

#endif /* MIGRATION_STATE_FDT_READ_H */
