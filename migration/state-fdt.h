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
 * This header has the writer and the field tables; the reader is in
 * state-fdt-read.h.
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

/*
 * Add a property to the open node. All properties of a node come before
 * its first child node (the FDT format); a property after a child is
 * -EINVAL. Sticky errors, as above.
 */
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

#endif /* MIGRATION_STATE_FDT_H */
