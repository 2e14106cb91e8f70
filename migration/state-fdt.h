/*
 * state-fdt.h: the symmetric state visitor: component state is written
 * as a flattened device tree (libfdt), one node per component, one
 * named property per field with an explicit width, so
 * `dtc -I dtb -O dts state.dtb` shows a snapshot's state.
 *
 * Byte order: big-endian, libfdt's and dtc's convention (a u32 shows as
 * <0x12345678>, a u64 as two cells). u8 is one byte, u16 two bytes;
 * byte arrays (bytes) are copied as-is; strings carry their NUL.
 *
 * Errors: both the writer and the reader keep the FIRST error (code and
 * a one-line message naming the node path and the property); later
 * calls return that code without doing anything. So a save function can
 * emit many properties and check once at the end, and a load function
 * can report exactly which field was bad.
 */
#ifndef MIGRATION_STATE_FDT_H
#define MIGRATION_STATE_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

/* Largest state blob ferry writes or accepts (the manifest also caps it). */
#define STATE_MAX_SIZE (64u << 20)
/* Node offset of the root, for the @node arguments below. */
#define STATE_ROOT 0
#define STATE_MSG_MAX 256

/*
 * Field tables: name, offset and width (1, 2, 4 or 8 bytes) of an
 * integer member of a plain-data struct, for state__put_fields /
 * state__get_fields.
 */
struct state_field {
	const char *name;
	size_t offset;
	size_t width;
};

#define STATE_FIELD(type, member)                                         \
	{ #member, offsetof(type, member), sizeof(((type *)0)->member) }
#define STATE_FIELD_NAMED(name, type, member)                             \
	{ name, offsetof(type, member), sizeof(((type *)0)->member) }

/* ---- writer ---- */

struct state_writer;

/*
 * Start a new blob with its root node open. Returns 0 and *out, or
 * -ENOMEM.
 */
int __must_check state_writer__create(struct state_writer **out);

/* Free the writer and its buffer. NULL-safe. */
void state_writer__destroy(struct state_writer *w);

/*
 * Open child node @name (characters [A-Za-z0-9,._+-], at most 31) of
 * the currently open node / close the innermost open node. Sticky
 * errors as described above: -EINVAL (bad name, unbalanced end),
 * -ENOSPC (blob would exceed STATE_MAX_SIZE), -ENOMEM.
 */
int state__begin(struct state_writer *w, const char *name);
int state__end(struct state_writer *w);

/* Add a property to the open node. Sticky errors, as above. */
int state__put_u8(struct state_writer *w, const char *name, uint8_t v);
int state__put_u16(struct state_writer *w, const char *name, uint16_t v);
int state__put_u32(struct state_writer *w, const char *name, uint32_t v);
int state__put_u64(struct state_writer *w, const char *name, uint64_t v);
int state__put_bytes(struct state_writer *w, const char *name,
		     const void *buf, size_t len);
int state__put_string(struct state_writer *w, const char *name,
		      const char *s);
/* Arrays of big-endian integers (a u32 array shows as <a b c> in dtc). */
int state__put_u32_array(struct state_writer *w, const char *name,
			 const uint32_t *v, size_t n);
int state__put_u64_array(struct state_writer *w, const char *name,
			 const uint64_t *v, size_t n);
/* One property per entry of @f, read from the struct at @base. */
int state__put_fields(struct state_writer *w, const struct state_field *f,
		      size_t n, const void *base);

/*
 * Close the root node and finish the blob. On success *blob and *size
 * describe it (owned by the writer, valid until destroy). Returns 0 or
 * the first error of any earlier call.
 */
int __must_check state_writer__finish(struct state_writer *w,
				      const void **blob, size_t *size);

/* First error (0 if none) and its message ("" if none). */
int state_writer__status(const struct state_writer *w);
const char *state_writer__error(const struct state_writer *w);

/* ---- reader ---- */

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

#endif /* MIGRATION_STATE_FDT_H */
