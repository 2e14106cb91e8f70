/*
 * state-fdt.c: the writing half of the state visitor over libfdt: the
 * sequential-write API on a buffer that grows (fdt_resize) when libfdt
 * runs out of room, with node-path tracking for error messages and the
 * FDT rule that a node's properties precede its children enforced.
 */
#include "migration/state-fdt.h"

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First buffer for a blob; vCPU state alone is ~6 KiB per vCPU. */
#define WRITER_INITIAL_SIZE (64u << 10)
/* dtc warns about node and property names longer than this. */
#define STATE_NAME_MAX 31
/* Deepest node nesting ferry uses is 3; the path buffer allows more. */
#define WRITER_PATH_MAX 256

struct state_writer {
	void *buf;
	size_t bufsize;
	int err;
	char msg[STATE_MSG_MAX];
	unsigned int depth;       /* open nodes below the root */
	char path[WRITER_PATH_MAX];
	/* Per open node (root = 0): a child node was written, so no more
	 * properties (the FDT format puts all properties first). */
	bool has_child[WRITER_PATH_MAX / 2];
	bool finished;
};

static int wfail(struct state_writer *w, int err, const char *fmt, ...)
	__printf(3, 4);

static int wfail(struct state_writer *w, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->err)
		return w->err;
	w->err = err;
	n = snprintf(w->msg, sizeof(w->msg), "state %s: ",
		     w->path[0] ? w->path : "/");
	if (n < 0 || (size_t)n >= sizeof(w->msg))
		return err;
	va_start(ap, fmt);
	vsnprintf(w->msg + n, sizeof(w->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static bool valid_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > STATE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == ',' || c == '.' ||
		      c == '_' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* Double the buffer (up to STATE_MAX_SIZE) after FDT_ERR_NOSPACE. */
static int grow(struct state_writer *w)
{
	size_t nsize = w->bufsize * 2;
	void *nbuf;

	if (w->bufsize >= STATE_MAX_SIZE)
		return -ENOSPC;
	if (nsize > STATE_MAX_SIZE)
		nsize = STATE_MAX_SIZE;
	nbuf = malloc(nsize);
	if (!nbuf)
		return -ENOMEM;
	if (fdt_resize(w->buf, nbuf, (int)nsize) < 0) {
		free(nbuf);
		return -EIO;
	}
	free(w->buf);
	w->buf = nbuf;
	w->bufsize = nsize;
	return 0;
}

int state_writer__create(struct state_writer **out)
{
	struct state_writer *w;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->bufsize = WRITER_INITIAL_SIZE;
	w->buf = malloc(w->bufsize);
	if (!w->buf) {
		free(w);
		return -ENOMEM;
	}
	if (fdt_create(w->buf, (int)w->bufsize) || fdt_finish_reservemap(w->buf) ||
	    fdt_begin_node(w->buf, "")) {
		/* Cannot happen with 64 KiB; keep it an error, not an abort. */
		state_writer__destroy(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

void state_writer__destroy(struct state_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

int state__begin(struct state_writer *w, const char *name)
{
	size_t len;
	int r;

	if (w->err)
		return w->err;
	if (w->finished)
		return wfail(w, -EINVAL, "node '%s' begun after finish", name);
	if (!valid_name(name))
		return wfail(w, -EINVAL, "invalid node name '%s'", name);
	len = strlen(w->path);
	if (len + 1 + strlen(name) >= sizeof(w->path) ||
	    w->depth + 1 >= ARRAY_SIZE(w->has_child))
		return wfail(w, -EINVAL, "node path too long at '%s'", name);
	while ((r = fdt_begin_node(w->buf, name)) == -FDT_ERR_NOSPACE) {
		r = grow(w);
		if (r)
			return wfail(w, r, "node '%s': blob too large", name);
	}
	if (r)
		return wfail(w, -EIO, "node '%s': %s", name, fdt_strerror(r));
	w->path[len] = '/';
	strcpy(w->path + len + 1, name);
	w->has_child[w->depth] = true;
	w->depth++;
	w->has_child[w->depth] = false;
	return 0;
}

int state__end(struct state_writer *w)
{
	char *slash;
	int r;

	if (w->err)
		return w->err;
	if (w->depth == 0)
		return wfail(w, -EINVAL, "state__end without an open node");
	while ((r = fdt_end_node(w->buf)) == -FDT_ERR_NOSPACE) {
		r = grow(w);
		if (r)
			return wfail(w, r, "blob too large");
	}
	if (r)
		return wfail(w, -EIO, "end node: %s", fdt_strerror(r));
	slash = strrchr(w->path, '/');
	if (slash)
		*slash = '\0';
	w->depth--;
	return 0;
}

int state__put_bytes(struct state_writer *w, const char *name,
		     const void *buf, size_t len)
{
	int r;

	if (w->err)
		return w->err;
	if (w->finished)
		return wfail(w, -EINVAL, "property '%s' after finish", name);
	if (!valid_name(name))
		return wfail(w, -EINVAL, "invalid property name '%s'", name);
	if (w->has_child[w->depth])
		return wfail(w, -EINVAL, "property '%s' after child nodes", name);
	if (len > STATE_MAX_SIZE)
		return wfail(w, -ENOSPC, "property '%s': %zu bytes is too large",
			     name, len);
	while ((r = fdt_property(w->buf, name, buf, (int)len)) ==
	       -FDT_ERR_NOSPACE) {
		r = grow(w);
		if (r)
			return wfail(w, r, "property '%s': blob too large", name);
	}
	if (r)
		return wfail(w, -EIO, "property '%s': %s", name, fdt_strerror(r));
	return 0;
}

int state__put_u8(struct state_writer *w, const char *name, uint8_t v)
{
	return state__put_bytes(w, name, &v, sizeof(v));
}

int state__put_u16(struct state_writer *w, const char *name, uint16_t v)
{
	uint16_t be = htobe16(v);

	return state__put_bytes(w, name, &be, sizeof(be));
}

int state__put_u32(struct state_writer *w, const char *name, uint32_t v)
{
	uint32_t be = htobe32(v);

	return state__put_bytes(w, name, &be, sizeof(be));
}

int state__put_u64(struct state_writer *w, const char *name, uint64_t v)
{
	uint64_t be = htobe64(v);

	return state__put_bytes(w, name, &be, sizeof(be));
}

int state__put_string(struct state_writer *w, const char *name, const char *s)
{
	return state__put_bytes(w, name, s, strlen(s) + 1);
}

int state__put_u32_array(struct state_writer *w, const char *name,
			 const uint32_t *v, size_t n)
{
	uint32_t *be;
	size_t i;
	int ret;

	if (w->err)
		return w->err;
	if (n > STATE_MAX_SIZE / sizeof(*be))
		return wfail(w, -ENOSPC, "property '%s': %zu entries", name, n);
	be = malloc(n * sizeof(*be) + 1);
	if (!be)
		return wfail(w, -ENOMEM, "property '%s': out of memory", name);
	for (i = 0; i < n; i++)
		be[i] = htobe32(v[i]);
	ret = state__put_bytes(w, name, be, n * sizeof(*be));
	free(be);
	return ret;
}

int state__put_u64_array(struct state_writer *w, const char *name,
			 const uint64_t *v, size_t n)
{
	uint64_t *be;
	size_t i;
	int ret;

	if (w->err)
		return w->err;
	if (n > STATE_MAX_SIZE / sizeof(*be))
		return wfail(w, -ENOSPC, "property '%s': %zu entries", name, n);
	be = malloc(n * sizeof(*be) + 1);
	if (!be)
		return wfail(w, -ENOMEM, "property '%s': out of memory", name);
	for (i = 0; i < n; i++)
		be[i] = htobe64(v[i]);
	ret = state__put_bytes(w, name, be, n * sizeof(*be));
	free(be);
	return ret;
}

int state__put_fields(struct state_writer *w, const struct state_field *f,
		      size_t n, const void *base)
{
	const uint8_t *b = base;
	size_t i;

	for (i = 0; i < n; i++) {
		const void *p = b + f[i].offset;
		uint16_t v16;
		uint32_t v32;
		uint64_t v64;

		switch (f[i].width) {
		case 1:
			state__put_u8(w, f[i].name, *(const uint8_t *)p);
			break;
		case 2:
			memcpy(&v16, p, 2);
			state__put_u16(w, f[i].name, v16);
			break;
		case 4:
			memcpy(&v32, p, 4);
			state__put_u32(w, f[i].name, v32);
			break;
		case 8:
			memcpy(&v64, p, 8);
			state__put_u64(w, f[i].name, v64);
			break;
		default:
			return wfail(w, -EINVAL, "field '%s' has width %zu",
				     f[i].name, f[i].width);
		}
	}
	return w->err;
}

int state_writer__finish(struct state_writer *w, const void **blob,
			 size_t *size)
{
	int r;

	if (w->err)
		return w->err;
	if (!w->finished) {
		if (w->depth)
			return wfail(w, -EINVAL, "%u node(s) still open",
				     w->depth);
		while ((r = fdt_end_node(w->buf)) == -FDT_ERR_NOSPACE)
			if ((r = grow(w)))
				return wfail(w, r, "blob too large");
		while (!r && (r = fdt_finish(w->buf)) == -FDT_ERR_NOSPACE)
			if ((r = grow(w)))
				return wfail(w, r, "blob too large");
		if (r)
			return wfail(w, -EIO, "finish: %s", fdt_strerror(r));
		w->finished = true;
	}
	*blob = w->buf;
	*size = fdt_totalsize(w->buf);
	return 0;
}

int state_writer__status(const struct state_writer *w)
{
	return w->err;
}

const char *state_writer__error(const struct state_writer *w)
{
	return w->msg;
}
