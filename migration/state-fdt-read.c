/*
 * state-fdt-read.c: the reading half of the state visitor: validates
 * the whole blob once with fdt_check_full, then fetches nodes and
 * properties by name, checking each length against the width the
 * caller expects and decoding big-endian values.
 */
#include "migration/state-fdt-read.h"

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void node_path(const struct state_reader *r, int node, char *buf,
		      size_t len)
{
	if (fdt_get_path(r->blob, node, buf, (int)len) < 0)
		snprintf(buf, len, "<node@%d>", node);
}

static int rfail_v(struct state_reader *r, int node, const char *fmt,
		   va_list ap)
{
	char path[128];
	int n;

	if (r->err)
		return r->err;
	r->err = -EINVAL;
	if (node >= 0 && r->blob)
		node_path(r, node, path, sizeof(path));
	else
		strcpy(path, "state");
	n = snprintf(r->msg, sizeof(r->msg), "%s: ", path);
	if (n >= 0 && (size_t)n < sizeof(r->msg))
		vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	return r->err;
}

int state__fail(struct state_reader *r, int node, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = rfail_v(r, node, fmt, ap);
	va_end(ap);
	return ret;
}

int state_reader__init(struct state_reader *r, const void *blob, size_t size,
		       size_t max_size)
{
	int ret;

	memset(r, 0, sizeof(*r));
	if (size > max_size) {
		snprintf(r->msg, sizeof(r->msg),
			 "state: blob of %zu bytes exceeds the limit of %zu",
			 size, max_size);
		return r->err = -EFBIG;
	}
	if (size < sizeof(struct fdt_header) || fdt_magic(blob) != FDT_MAGIC) {
		snprintf(r->msg, sizeof(r->msg),
			 "state: not a flattened device tree (%zu bytes, bad magic)",
			 size);
		return r->err = -EINVAL;
	}
	if (fdt_totalsize(blob) != size) {
		snprintf(r->msg, sizeof(r->msg),
			 "state: header says %u bytes but the blob has %zu (truncated or padded)",
			 fdt_totalsize(blob), size);
		return r->err = -EINVAL;
	}
	ret = fdt_check_full(blob, size);
	if (ret) {
		snprintf(r->msg, sizeof(r->msg), "state: corrupt blob: %s",
			 fdt_strerror(ret));
		return r->err = -EINVAL;
	}
	r->blob = blob;
	r->size = size;
	return 0;
}

int state_reader__status(const struct state_reader *r)
{
	return r->err;
}

const char *state_reader__error(const struct state_reader *r)
{
	return r->msg;
}

int state__find_node(const struct state_reader *r, int parent,
		     const char *name)
{
	int off;

	if (!r->blob || parent < 0)
		return -ENOENT;
	off = fdt_subnode_offset(r->blob, parent, name);
	return off < 0 ? -ENOENT : off;
}

int state__node(struct state_reader *r, int parent, const char *name)
{
	int off;

	if (r->err)
		return r->err;
	off = state__find_node(r, parent, name);
	if (off < 0) {
		state__fail(r, parent, "node '%s' is missing", name);
		return -ENOENT;
	}
	return off;
}

int state__first_child(const struct state_reader *r, int node)
{
	int off;

	if (!r->blob || node < 0)
		return -ENOENT;
	off = fdt_first_subnode(r->blob, node);
	return off < 0 ? -ENOENT : off;
}

int state__next_child(const struct state_reader *r, int child)
{
	int off;

	if (!r->blob || child < 0)
		return -ENOENT;
	off = fdt_next_subnode(r->blob, child);
	return off < 0 ? -ENOENT : off;
}

const char *state__node_name(const struct state_reader *r, int node)
{
	if (!r->blob || node < 0)
		return NULL;
	return fdt_get_name(r->blob, node, NULL);
}

bool state__has(const struct state_reader *r, int node, const char *name)
{
	return r->blob && node >= 0 && fdt_getprop(r->blob, node, name, NULL);
}

/* The value of @name with its length checked against [min, max]. */
static const void *getprop(struct state_reader *r, int node, const char *name,
			   size_t min, size_t max, size_t *len)
{
	const void *p;
	int l;

	if (r->err)
		return NULL;
	if (!r->blob || node < 0) {
		state__fail(r, -1, "property '%s' of a missing node", name);
		return NULL;
	}
	p = fdt_getprop(r->blob, node, name, &l);
	if (!p) {
		state__fail(r, node, "property '%s' is missing", name);
		return NULL;
	}
	if ((size_t)l < min || (size_t)l > max) {
		if (min == max)
			state__fail(r, node, "property '%s' has %d bytes, expected %zu",
				    name, l, min);
		else
			state__fail(r, node, "property '%s' has %d bytes, expected %zu to %zu",
				    name, l, min, max);
		return NULL;
	}
	*len = (size_t)l;
	return p;
}

int state__get_u8(struct state_reader *r, int node, const char *name,
		  uint8_t *v)
{
	const uint8_t *p;
	size_t len;

	p = getprop(r, node, name, 1, 1, &len);
	if (!p)
		return r->err;
	*v = *p;
	return 0;
}

int state__get_u16(struct state_reader *r, int node, const char *name,
		   uint16_t *v)
{
	const void *p;
	uint16_t be;
	size_t len;

	p = getprop(r, node, name, 2, 2, &len);
	if (!p)
		return r->err;
	memcpy(&be, p, 2);
	*v = be16toh(be);
	return 0;
}

int state__get_u32(struct state_reader *r, int node, const char *name,
		   uint32_t *v)
{
	const void *p;
	uint32_t be;
	size_t len;

	p = getprop(r, node, name, 4, 4, &len);
	if (!p)
		return r->err;
	memcpy(&be, p, 4);
	*v = be32toh(be);
	return 0;
}

int state__get_u64(struct state_reader *r, int node, const char *name,
		   uint64_t *v)
{
	const void *p;
	uint64_t be;
	size_t len;

	p = getprop(r, node, name, 8, 8, &len);
	if (!p)
		return r->err;
	memcpy(&be, p, 8);
	*v = be64toh(be);
	return 0;
}

int state__get_bytes(struct state_reader *r, int node, const char *name,
		     void *buf, size_t len)
{
	const void *p;
	size_t l;

	p = getprop(r, node, name, len, len, &l);
	if (!p)
		return r->err;
	memcpy(buf, p, len);
	return 0;
}

int state__get_bytes_max(struct state_reader *r, int node, const char *name,
			 void *buf, size_t max, size_t *len)
{
	const void *p;

	p = getprop(r, node, name, 0, max, len);
	if (!p)
		return r->err;
	memcpy(buf, p, *len);
	return 0;
}

const void *state__get_array(struct state_reader *r, int node,
			     const char *name, size_t unit, size_t *len)
{
	const void *p;

	p = getprop(r, node, name, 0, SIZE_MAX, len);
	if (p && unit && *len % unit) {
		state__fail(r, node, "property '%s' has %zu bytes, not a multiple of %zu",
			    name, *len, unit);
		return NULL;
	}
	return p;
}

int state__get_u32_array(struct state_reader *r, int node, const char *name,
			 uint32_t *v, size_t max, size_t *n)
{
	const uint8_t *p;
	size_t len, i;

	p = getprop(r, node, name, 0, max * 4, &len);
	if (!p)
		return r->err;
	if (len % 4)
		return state__fail(r, node, "property '%s' has %zu bytes, not a multiple of 4",
				   name, len);
	for (i = 0; i < len / 4; i++) {
		uint32_t be;

		memcpy(&be, p + 4 * i, 4);
		v[i] = be32toh(be);
	}
	*n = len / 4;
	return 0;
}

int state__get_u64_array(struct state_reader *r, int node, const char *name,
			 uint64_t *v, size_t max, size_t *n)
{
	const uint8_t *p;
	size_t len, i;

	p = getprop(r, node, name, 0, max * 8, &len);
	if (!p)
		return r->err;
	if (len % 8)
		return state__fail(r, node, "property '%s' has %zu bytes, not a multiple of 8",
				   name, len);
	for (i = 0; i < len / 8; i++) {
		uint64_t be;

		memcpy(&be, p + 8 * i, 8);
		v[i] = be64toh(be);
	}
	*n = len / 8;
	return 0;
}

int state__get_string(struct state_reader *r, int node, const char *name,
		      char *buf, size_t bufsz)
{
	const char *p;
	size_t len;

	p = getprop(r, node, name, 1, bufsz, &len);
	if (!p)
		return r->err;
	if (p[len - 1] != '\0' || strlen(p) != len - 1)
		return state__fail(r, node, "property '%s' is not a string",
				   name);
	memcpy(buf, p, len);
	return 0;
}

int state__get_fields(struct state_reader *r, int node,
		      const struct state_field *f, size_t n, void *base)
{
	uint8_t *b = base;
	size_t i;

	for (i = 0; i < n && !r->err; i++) {
		void *p = b + f[i].offset;
		uint16_t v16;
		uint32_t v32;
		uint64_t v64;

		switch (f[i].width) {
		case 1:
			state__get_u8(r, node, f[i].name, p);
			break;
		case 2:
			if (!state__get_u16(r, node, f[i].name, &v16))
				memcpy(p, &v16, 2);
			break;
		case 4:
			if (!state__get_u32(r, node, f[i].name, &v32))
				memcpy(p, &v32, 4);
			break;
		case 8:
			if (!state__get_u64(r, node, f[i].name, &v64))
				memcpy(p, &v64, 8);
			break;
		default:
			return state__fail(r, node, "field '%s' has width %zu",
					   f[i].name, f[i].width);
		}
	}
	return r->err;
}
