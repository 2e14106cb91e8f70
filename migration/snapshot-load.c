/*
 * snapshot-load.c: the restore side of snapshots. snapshot__open reads
 * and checks the MANIFEST, reads and checksums every small part, checks
 * the state tree's structure and header and the memory node, and keeps
 * it all in a struct snapshot; memory is mapped or copied on request;
 * snapshot__restore drives the handlers' destination lifecycle in two
 * phases; snapshot__inspect validates everything and prints a summary.
 */
#include "migration/snapshot-load.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "migration/ram.h"
#include "migration/registry.h"
#include "migration/snapshot-internal.h"
#include "migration/state-fdt-read.h"
#include "vmm/mem.h"

/* Device data is streamed to handlers in pieces of this size. */
#define LOAD_CHUNK (1u << 20)

struct snapshot {
	char dir[PATH_MAX];
	int dirfd;                 /* owned */
	int mem_fd;                /* owned: memory.img, read-only */
	struct snap_manifest m;
	void *state;               /* owned: state.dtb */
	size_t state_size;
	int mem_node;
	uint64_t nr_chunks;
	uint32_t *crcs;            /* owned: chunk CRCs, host order */
	uint64_t data_bytes;
	char *config;              /* owned: NUL-terminated, or NULL */
};

struct lerr {
	const char *dir;
	char *buf;
	size_t len;
};

static int lfail(const struct lerr *e, int ret, const char *fmt, ...)
	__printf(3, 4);

static int lfail(const struct lerr *e, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(e->buf, e->len, "snapshot %s: ", e->dir);

	if (n >= 0 && (size_t)n < e->len) {
		va_start(ap, fmt);
		vsnprintf(e->buf + n, e->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Open part @name and check it is a regular file of @size bytes. */
static int open_part(int dirfd, const char *name, uint64_t size,
		     const struct lerr *e)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return lfail(e, -errno, "%s: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lfail(e, -EINVAL, "%s: not a regular file", name);
	}
	if ((uint64_t)st.st_size != size) {
		close(fd);
		return lfail(e, -EINVAL, "%s: %llu bytes, MANIFEST says %llu (truncated or replaced?)",
			     name, (unsigned long long)st.st_size,
			     (unsigned long long)size);
	}
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read a whole small part into a new buffer (+1 NUL) and check its CRC. */
static int read_part(struct snapshot *s, const struct snap_part *p,
		     uint64_t max, void **out, const struct lerr *e)
{
	uint8_t *buf;
	int fd, ret;

	if (p->size > max)
		return lfail(e, -EFBIG, "%s: %llu bytes exceeds the limit of %llu",
			     p->name, (unsigned long long)p->size,
			     (unsigned long long)max);
	fd = open_part(s->dirfd, p->name, p->size, e);
	if (fd < 0)
		return fd;
	buf = malloc(p->size + 1);
	if (!buf) {
		close(fd);
		return lfail(e, -ENOMEM, "%s: out of memory", p->name);
	}
	ret = read_full(fd, buf, p->size);
	close(fd);
	if (ret) {
		free(buf);
		return lfail(e, ret, "%s: read: %s", p->name, strerror(-ret));
	}
	if (crc32c__update(CRC32C_INIT, buf, p->size) != p->crc) {
		free(buf);
		return lfail(e, -EINVAL, "%s: checksum mismatch (corrupted)", p->name);
	}
	buf[p->size] = '\0';
	*out = buf;
	return 0;
}

/* Stream a device part, checking its CRC; feed @fn if given. */
static int stream_part(int dirfd, const struct snap_part *p,
		       int (*fn)(void *opaque, const void *buf, size_t len),
		       void *opaque, const struct lerr *e)
{
	uint64_t left = p->size;
	uint32_t crc = CRC32C_INIT;
	uint8_t *buf;
	int fd, ret = 0;

	fd = open_part(dirfd, p->name, p->size, e);
	if (fd < 0)
		return fd;
	buf = malloc(LOAD_CHUNK);
	if (!buf) {
		close(fd);
		return lfail(e, -ENOMEM, "%s: out of memory", p->name);
	}
	while (left && !ret) {
		size_t n = (size_t)MIN(left, (uint64_t)LOAD_CHUNK);

		ret = read_full(fd, buf, n);
		if (ret) {
			lfail(e, ret, "%s: read: %s", p->name, strerror(-ret));
			break;
		}
		crc = crc32c__update(crc, buf, n);
		left -= n;
		if (fn && (ret = fn(opaque, buf, n)))
			lfail(e, ret, "%s: loading device data failed: %s",
			      p->id, strerror(-ret));
	}
	if (!ret && crc != p->crc)
		ret = lfail(e, -EINVAL, "%s: checksum mismatch (corrupted)", p->name);
	free(buf);
	close(fd);
	return ret;
}

/* Header of the state tree and the memory node. */
static int check_state(struct snapshot *s, const struct lerr *e)
{
	struct state_reader r;
	char format[32];
	const uint8_t *arr;
	uint32_t version, chunk;
	uint64_t size, i;
	size_t len;
	int ret;

	ret = state_reader__init(&r, s->state, s->state_size, STATE_MAX_SIZE);
	if (ret)
		return lfail(e, ret, "%s: %s", SNAP_STATE, state_reader__error(&r));
	if (state__get_string(&r, STATE_ROOT, "format", format, sizeof(format)) ||
	    strcmp(format, SNAP_STATE_FORMAT))
		return lfail(e, -EINVAL, "%s: not a ferry state tree", SNAP_STATE);
	if (state__get_u32(&r, STATE_ROOT, "version", &version))
		return lfail(e, -EINVAL, "%s: %s", SNAP_STATE, state_reader__error(&r));
	if (version != SNAP_STATE_VERSION)
		return lfail(e, -EINVAL, "%s: state format version %u is not supported (this ferry reads %u)",
			     SNAP_STATE, version, SNAP_STATE_VERSION);
	s->mem_node = state__node(&r, STATE_ROOT, "memory");
	state__get_u64(&r, s->mem_node, "size", &size);
	state__get_u32(&r, s->mem_node, "chunk-size", &chunk);
	state__get_u64(&r, s->mem_node, "data-bytes", &s->data_bytes);
	arr = state__get_array(&r, s->mem_node, "crc32c", 4, &len);
	if (state_reader__status(&r))
		return lfail(e, -EINVAL, "%s: %s", SNAP_STATE, state_reader__error(&r));
	if (size != s->m.mem_size)
		return lfail(e, -EINVAL, "%s: memory size %llu differs from the MANIFEST's %llu",
			     SNAP_STATE, (unsigned long long)size,
			     (unsigned long long)s->m.mem_size);
	if (chunk != RAM_CHUNK_SIZE)
		return lfail(e, -EINVAL, "%s: memory chunk size %u is not supported (expected %u)",
			     SNAP_STATE, chunk, RAM_CHUNK_SIZE);
	s->nr_chunks = ram__nr_chunks(size);
	if (len / 4 != s->nr_chunks)
		return lfail(e, -EINVAL, "%s: %zu memory checksums for %llu chunks",
			     SNAP_STATE, len / 4, (unsigned long long)s->nr_chunks);
	s->crcs = malloc(len + 1);
	if (!s->crcs)
		return lfail(e, -ENOMEM, "out of memory");
	for (i = 0; i < s->nr_chunks; i++)
		s->crcs[i] = ((uint32_t)arr[4 * i] << 24) | ((uint32_t)arr[4 * i + 1] << 16) |
			     ((uint32_t)arr[4 * i + 2] << 8) | arr[4 * i + 3];
	return 0;
}

static int load_parts(struct snapshot *s, const struct lerr *e)
{
	const struct snap_part *mp;
	unsigned int i;
	int ret;

	if (!snap_manifest__find(&s->m, SNAP_STATE))
		return lfail(e, -EINVAL, "MANIFEST lists no %s", SNAP_STATE);
	mp = snap_manifest__find(&s->m, SNAP_MEMORY);
	if (!mp)
		return lfail(e, -EINVAL, "MANIFEST lists no %s", SNAP_MEMORY);
	if (s->m.mem_size < MEM_MIN_SIZE || s->m.mem_size > MEM_MAX_SIZE ||
	    s->m.mem_size % 4096)
		return lfail(e, -EINVAL, "memory size %llu is out of range",
			     (unsigned long long)s->m.mem_size);
	if (mp->size != s->m.mem_size)
		return lfail(e, -EINVAL, "%s: size %llu differs from mem-size %llu",
			     SNAP_MEMORY, (unsigned long long)mp->size,
			     (unsigned long long)s->m.mem_size);
	for (i = 0; i < s->m.nr_parts; i++) {
		const struct snap_part *p = &s->m.parts[i];
		void *buf;

		switch (p->kind) {
		case SNAP_PART_STATE:
			ret = read_part(s, p, STATE_MAX_SIZE, &s->state, e);
			s->state_size = (size_t)p->size;
			break;
		case SNAP_PART_CONFIG:
			ret = read_part(s, p, SNAP_CONFIG_MAX, &buf, e);
			if (!ret && strlen(buf) != p->size) {
				free(buf);
				ret = lfail(e, -EINVAL, "%s: contains NUL bytes", p->name);
			} else if (!ret) {
				s->config = buf;
			}
			break;
		case SNAP_PART_DEVICE:
			if (p->size > SNAP_DEVICE_DATA_MAX)
				return lfail(e, -EFBIG, "%s: %llu bytes exceeds the limit",
					     p->name, (unsigned long long)p->size);
			ret = stream_part(s->dirfd, p, NULL, NULL, e);
			break;
		case SNAP_PART_MEMORY:
		default:
			s->mem_fd = open_part(s->dirfd, p->name, p->size, e);
			ret = s->mem_fd < 0 ? s->mem_fd : 0;
			break;
		}
		if (ret)
			return ret;
	}
	return check_state(s, e);
}

int snapshot__open(const char *dir, struct snapshot **out, char *err,
		   size_t errlen)
{
	struct lerr e = { dir, err, errlen };
	struct snapshot *s;
	char *text = NULL;
	size_t mf_size;
	struct stat st;
	int fd, ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return lfail(&e, -ENOMEM, "out of memory");
	s->mem_fd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = lfail(&e, -errno, "%s", strerror(errno));
		goto err;
	}
	fd = openat(s->dirfd, SNAP_MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = lfail(&e, -errno, "no MANIFEST (%s): not a snapshot, or an interrupted save",
			    strerror(errno));
		goto err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ret = lfail(&e, -EINVAL, "MANIFEST is not a regular file");
		goto err;
	}
	if ((uint64_t)st.st_size > SNAP_MANIFEST_MAX) {
		close(fd);
		ret = lfail(&e, -EFBIG, "MANIFEST is %llu bytes, over the limit of %u",
			    (unsigned long long)st.st_size, SNAP_MANIFEST_MAX);
		goto err;
	}
	mf_size = (size_t)st.st_size;
	text = malloc(mf_size + 1);
	ret = text ? read_full(fd, text, mf_size) : -ENOMEM;
	close(fd);
	if (ret) {
		ret = lfail(&e, ret, "MANIFEST: %s", strerror(-ret));
		goto err;
	}
	{
		char msg[256];

		ret = snap_manifest__parse(text, mf_size, &s->m, msg, sizeof(msg));
		if (ret) {
			lfail(&e, ret, "%s", msg);
			goto err;
		}
	}
	ret = load_parts(s, &e);
	if (ret)
		goto err;
	free(text);
	*out = s;
	return 0;
err:
	free(text);
	snapshot__close(s);
	return ret;
}

void snapshot__close(struct snapshot *s)
{
	if (!s)
		return;
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->state);
	free(s->crcs);
	free(s->config);
	free(s);
}

uint64_t snapshot__mem_size(const struct snapshot *s)
{
	return s->m.mem_size;
}

const char *snapshot__config_json(const struct snapshot *s)
{
	return s->config;
}

int snapshot__load_memory(struct snapshot *s, uint64_t expected_size,
			  enum snapshot_restore_mode mode,
			  struct guest_mem **out, char *err, size_t errlen)
{
	struct lerr e = { s->dir, err, errlen };
	struct guest_mem *mem;
	char msg[256];
	int ret;

	if (expected_size != s->m.mem_size)
		return lfail(&e, -EINVAL, "snapshot has %llu MiB of RAM, the configuration %llu MiB",
			     (unsigned long long)(s->m.mem_size >> 20),
			     (unsigned long long)(expected_size >> 20));
	if (mode == SNAPSHOT_RESTORE_LAZY) {
		ret = ram__map_image(s->mem_fd, s->m.mem_size, out, msg, sizeof(msg));
		return ret ? lfail(&e, ret, "%s", msg) : 0;
	}
	ret = mem__create(s->m.mem_size, &mem);
	if (ret)
		return lfail(&e, ret, "cannot allocate guest memory: %s",
			     strerror(-ret));
	ret = ram__load_copy(mem, s->mem_fd, s->crcs, msg, sizeof(msg));
	if (ret) {
		mem__destroy(mem);
		return lfail(&e, ret, "%s", msg);
	}
	*out = mem;
	return 0;
}

int snapshot__verify_memory(struct snapshot *s, char *err, size_t errlen)
{
	struct lerr e = { s->dir, err, errlen };
	char msg[256];
	int ret;

	ret = ram__verify(s->mem_fd, s->m.mem_size, s->crcs, msg, sizeof(msg));
	return ret ? lfail(&e, ret, "%s", msg) : 0;
}

/* Phase 1: ids match, versions, data streams, every load_state. */
static int restore_check(struct snapshot *s, struct migration *mig,
			 struct state_reader *r, const struct lerr *e)
{
	size_t i, n = migration__count(mig);
	int node;

	for (node = state__first_child(r, STATE_ROOT); node >= 0;
	     node = state__next_child(r, node)) {
		const char *name = state__node_name(r, node);

		if (name && strcmp(name, "memory") && !migration__find(mig, name))
			return lfail(e, -EINVAL, "has state for '%s', which this VM does not have",
				     name);
	}
	for (i = 0; i < s->m.nr_parts; i++) {
		const struct snap_part *p = &s->m.parts[i];
		struct mig_handler *h;

		if (p->kind != SNAP_PART_DEVICE)
			continue;
		h = migration__find(mig, p->id);
		if (!h)
			return lfail(e, -EINVAL, "%s: no component '%s' in this VM",
				     p->name, p->id);
		if (!h->ops->load_data)
			return lfail(e, -EINVAL, "%s: '%s' takes no data stream",
				     p->name, p->id);
	}
	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(mig, i);
		char name[SNAP_PART_NAME_MAX];
		uint32_t version;
		int ret;

		node = state__find_node(r, STATE_ROOT, h->id);
		if (node < 0)
			return lfail(e, -EINVAL, "has no state for '%s'", h->id);
		if (state__get_u32(r, node, "version", &version))
			return lfail(e, -EINVAL, "%s", state_reader__error(r));
		if (version == 0 || version > h->ops->version)
			return lfail(e, -EINVAL, "%s: state version %u is not supported (this ferry reads up to %u)",
				     h->id, version, h->ops->version);
		snprintf(name, sizeof(name), SNAP_DEVICES "/%s.bin", h->id);
		if (h->ops->load_data && !snap_manifest__find(&s->m, name))
			return lfail(e, -EINVAL, "has no data stream (%s) for '%s'",
				     name, h->id);
		ret = h->ops->load_state(h->opaque, r, node, version);
		if (ret) {
			if (state_reader__status(r))
				return lfail(e, ret, "%s", state_reader__error(r));
			return lfail(e, ret, "%s: state rejected: %s", h->id,
				     strerror(-ret));
		}
	}
	return 0;
}

/* Phase 2: setup, data, apply, cleanup. */
static int restore_apply(struct snapshot *s, struct migration *mig,
			 const struct lerr *e)
{
	size_t i, n = migration__count(mig), nsetup = 0;
	int ret = 0;

	for (i = 0; i < n && !ret; i++, nsetup = i) {
		struct mig_handler *h = migration__handler(mig, i);

		if (h->ops->load_setup && (ret = h->ops->load_setup(h->opaque)))
			lfail(e, ret, "%s: load setup failed: %s", h->id,
			      strerror(-ret));
	}
	for (i = 0; i < n && !ret; i++) {
		struct mig_handler *h = migration__handler(mig, i);
		char name[SNAP_PART_NAME_MAX];
		const struct snap_part *p;

		snprintf(name, sizeof(name), SNAP_DEVICES "/%s.bin", h->id);
		p = snap_manifest__find(&s->m, name);
		if (p && h->ops->load_data)
			ret = stream_part(s->dirfd, p, h->ops->load_data,
					  h->opaque, e);
	}
	for (i = 0; i < n && !ret; i++) {
		struct mig_handler *h = migration__handler(mig, i);

		ret = h->ops->load_apply(h->opaque);
		if (ret)
			lfail(e, ret, "%s: applying state failed: %s", h->id,
			      strerror(-ret));
	}
	for (i = 0; i < nsetup; i++) {
		struct mig_handler *h = migration__handler(mig, i);

		if (h->ops->load_setup && h->ops->load_cleanup)
			h->ops->load_cleanup(h->opaque);
	}
	return ret;
}

int snapshot__restore(struct snapshot *s, struct migration *mig, char *err,
		      size_t errlen)
{
	struct lerr e = { s->dir, err, errlen };
	struct state_reader r;
	int ret;

	ret = state_reader__init(&r, s->state, s->state_size, STATE_MAX_SIZE);
	if (ret)
		return lfail(&e, ret, "%s: %s", SNAP_STATE, state_reader__error(&r));
	ret = restore_check(s, mig, &r, &e);
	if (ret)
		return ret;
	return restore_apply(s, mig, &e);
}

int snapshot__inspect(const char *dir, FILE *out, char *err, size_t errlen)
{
	struct snapshot *s;
	struct state_reader r;
	unsigned int i;
	int node, ret;

	ret = snapshot__open(dir, &s, err, errlen);
	if (ret)
		return ret;
	fprintf(out, "snapshot  %s\n", dir);
	fprintf(out, "format    %s version %u, %s, created %s by ferry %s\n",
		SNAP_MAGIC, s->m.version, s->m.arch, s->m.created, s->m.ferry);
	for (i = 0; i < s->m.nr_parts; i++) {
		const struct snap_part *p = &s->m.parts[i];

		if (p->kind == SNAP_PART_MEMORY)
			fprintf(out, "part      %-24s %14llu bytes  %llu chunk CRCs\n",
				p->name, (unsigned long long)p->size,
				(unsigned long long)s->nr_chunks);
		else
			fprintf(out, "part      %-24s %14llu bytes  crc32c %08x ok\n",
				p->name, (unsigned long long)p->size, p->crc);
	}
	ret = state_reader__init(&r, s->state, s->state_size, STATE_MAX_SIZE);
	for (node = ret ? -ENOENT : state__first_child(&r, STATE_ROOT); node >= 0;
	     node = state__next_child(&r, node)) {
		const char *name = state__node_name(&r, node);
		uint32_t version = 0;

		if (!name || !strcmp(name, "memory"))
			continue;
		state__get_u32(&r, node, "version", &version);
		fprintf(out, "state     %-24s version %u\n", name, version);
	}
	fprintf(out, "memory    %llu MiB, %llu bytes of data (the rest zero pages)\n",
		(unsigned long long)(s->m.mem_size >> 20),
		(unsigned long long)s->data_bytes);
	fflush(out);
	ret = snapshot__verify_memory(s, err, errlen);
	if (!ret)
		fprintf(out, "verified  all parts and %llu memory chunks\n",
			(unsigned long long)s->nr_chunks);
	snapshot__close(s);
	return ret;
}
