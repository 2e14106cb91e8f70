/*
 * snapshot.c: snapshot__save. Runs the handlers' source-side lifecycle
 * with no precopy iterations (setup, complete, state, cleanup), writes
 * each part into a temporary directory next to the target, fsyncs
 * everything, writes the MANIFEST last, and renames the directory into
 * place (RENAME_EXCHANGE with an older snapshot that is then removed).
 */
#include "migration/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "migration/ram.h"
#include "migration/registry.h"
#include "migration/snapshot-internal.h"
#include "migration/state-fdt.h"
#include "vmm/api-version.h"
#include "vmm/mem.h"

/* Temporary names stay well inside NAME_MAX with the suffix added. */
#define SNAP_BASE_MAX 200

/* A device's data stream going into devices/<id>.bin. */
struct file_sink {
	struct mig_sink sink;
	int fd;        /* owned; -1 when the handler has no data stream */
	uint32_t crc;
	uint64_t size;
};

struct save_ctx {
	struct migration *mig;
	const struct snapshot_save_opts *opts;
	const char *dir;
	char *err;
	size_t errlen;
	bool failed;
	int parent_fd;
	int tmp_fd;
	char base[NAME_MAX + 1];
	char tmpname[NAME_MAX + 64]; /* "." base ".tmp-" pid "-" seq */
	uint64_t done, total;
	struct snap_manifest m;
	struct file_sink sinks[MIG_MAX_HANDLERS];
	bool setup_done[MIG_MAX_HANDLERS];
};

static int fail(struct save_ctx *c, int ret, const char *fmt, ...)
	__printf(3, 4);

static int fail(struct save_ctx *c, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return ret;
	c->failed = true;
	n = snprintf(c->err, c->errlen, "snapshot %s: ", c->dir);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_sink_write(struct mig_sink *s, const void *buf, size_t len)
{
	struct file_sink *f = container_of(s, struct file_sink, sink);
	int ret = write_all(f->fd, buf, len);

	if (ret)
		return ret;
	f->crc = crc32c__update(f->crc, buf, len);
	f->size += len;
	s->written += len;
	return 0;
}

static int create_file(struct save_ctx *c, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			0600);

	if (fd < 0)
		return fail(c, -errno, "cannot create %s: %s", name,
			    strerror(errno));
	return fd;
}

/* Write @buf as file @name (fsynced) and record it as a manifest part. */
static int write_part(struct save_ctx *c, enum snap_part_kind kind,
		      const char *name, const void *buf, size_t len)
{
	struct snap_part *p = &c->m.parts[c->m.nr_parts];
	int fd, ret;

	if (c->m.nr_parts >= SNAP_MAX_PARTS)
		return fail(c, -E2BIG, "too many parts");
	fd = create_file(c, c->tmp_fd, name);
	if (fd < 0)
		return fd;
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (ret)
		return fail(c, ret, "writing %s: %s", name, strerror(-ret));
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->size = len;
	p->crc = crc32c__update(CRC32C_INIT, buf, len);
	c->m.nr_parts++;
	return 0;
}

static void progress(struct save_ctx *c)
{
	if (c->opts->progress)
		c->opts->progress(c->opts->opaque, c->done, c->total);
}

static void ram_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct save_ctx *c = opaque;

	c->opts->progress(c->opts->opaque, c->done + done, c->total);
}

/* Split @dir into its parent (opened) and last component. */
static int open_parent(struct save_ctx *c)
{
	char buf[PATH_MAX];
	char *slash, *name;
	size_t len = strlen(c->dir);

	if (len == 0 || len >= sizeof(buf))
		return fail(c, -EINVAL, "bad directory name");
	memcpy(buf, c->dir, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	slash = strrchr(buf, '/');
	name = slash ? slash + 1 : buf;
	/* Checked before copying: a truncated name would be another path. */
	if (strlen(name) > SNAP_BASE_MAX || !name[0] || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return fail(c, -EINVAL, "bad directory name");
	memcpy(c->base, name, strlen(name) + 1);
	if (!slash)
		strcpy(buf, ".");
	else if (slash == buf)
		slash[1] = '\0';
	else
		*slash = '\0';
	c->parent_fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->parent_fd < 0)
		return fail(c, -errno, "cannot open parent directory %s: %s", buf,
			    strerror(errno));
	return 0;
}

/* 1: a snapshot exists at the target, 0: nothing there, <0: refuse. */
static int check_target(struct save_ctx *c)
{
	char magic[sizeof(SNAP_MAGIC)];
	struct stat st;
	int fd, dfd;
	ssize_t n;

	if (fstatat(c->parent_fd, c->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(c, -errno, "%s", strerror(errno));
	}
	if (!c->opts->replace)
		return fail(c, -EEXIST, "already exists (replace not requested)");
	if (!S_ISDIR(st.st_mode))
		return fail(c, -EEXIST, "refusing to replace: not a directory");
	dfd = openat(c->parent_fd, c->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = dfd < 0 ? -1 : openat(dfd, SNAP_MANIFEST, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, magic, sizeof(magic) - 1);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (n != (ssize_t)sizeof(magic) - 1 ||
	    memcmp(magic, SNAP_MAGIC, sizeof(magic) - 1))
		return fail(c, -EEXIST, "refusing to replace: not a ferry snapshot");
	return 1;
}

/* Data-stream files for handlers that have one; then save_setup. */
static int setup_handlers(struct save_ctx *c)
{
	size_t i, n = migration__count(c->mig);
	bool devdir = false;
	int ret;

	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(c->mig, i);
		struct file_sink *f = &c->sinks[i];
		char name[SNAP_PART_NAME_MAX];

		f->fd = -1;
		f->sink.write = file_sink_write;
		if (!h->ops->save_setup && !h->ops->save_complete)
			continue;
		if (!devdir) {
			if (mkdirat(c->tmp_fd, SNAP_DEVICES, 0700) < 0)
				return fail(c, -errno, "cannot create %s/: %s",
					    SNAP_DEVICES, strerror(errno));
			devdir = true;
		}
		snprintf(name, sizeof(name), SNAP_DEVICES "/%s.bin", h->id);
		f->fd = create_file(c, c->tmp_fd, name);
		if (f->fd < 0)
			return f->fd;
	}
	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(c->mig, i);

		if (!h->ops->save_setup)
			continue;
		ret = h->ops->save_setup(h->opaque, &c->sinks[i].sink);
		c->setup_done[i] = true;
		if (ret)
			return fail(c, ret, "%s: save setup failed: %s", h->id,
				    strerror(-ret));
	}
	return 0;
}

static void cleanup_handlers(struct save_ctx *c)
{
	size_t i, n = migration__count(c->mig);

	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(c->mig, i);

		if (c->setup_done[i] && h->ops->save_cleanup)
			h->ops->save_cleanup(h->opaque);
		c->setup_done[i] = false;
	}
}

/* Stop-and-copy: the rest of every data stream, then the files synced. */
static int complete_handlers(struct save_ctx *c)
{
	size_t i, n = migration__count(c->mig);
	int ret;

	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(c->mig, i);
		struct file_sink *f = &c->sinks[i];
		struct snap_part *p;

		if (f->fd < 0)
			continue;
		if (h->ops->save_complete) {
			ret = h->ops->save_complete(h->opaque, &f->sink);
			if (ret)
				return fail(c, ret, "%s: saving device data failed: %s",
					    h->id, strerror(-ret));
		}
		if (fsync(f->fd) < 0)
			return fail(c, -errno, "%s: fsync: %s", h->id,
				    strerror(errno));
		p = &c->m.parts[c->m.nr_parts++];
		memset(p, 0, sizeof(*p));
		p->kind = SNAP_PART_DEVICE;
		snprintf(p->name, sizeof(p->name), SNAP_DEVICES "/%s.bin", h->id);
		snprintf(p->id, sizeof(p->id), "%s", h->id);
		p->size = f->size;
		p->crc = f->crc;
		c->done += f->size;
		progress(c);
	}
	return 0;
}

static int save_states(struct save_ctx *c, struct state_writer *w)
{
	size_t i, n = migration__count(c->mig);
	int ret;

	state__put_string(w, "format", SNAP_STATE_FORMAT);
	state__put_u32(w, "version", SNAP_STATE_VERSION);
	state__put_string(w, "arch", SNAP_ARCH);
	for (i = 0; i < n; i++) {
		struct mig_handler *h = migration__handler(c->mig, i);

		state__begin(w, h->id);
		state__put_u32(w, "version", h->ops->version);
		ret = h->ops->save_state(h->opaque, w);
		state__end(w);
		if (state_writer__status(w))
			return fail(c, state_writer__status(w), "%s",
				    state_writer__error(w));
		if (ret)
			return fail(c, ret, "%s: saving state failed: %s", h->id,
				    strerror(-ret));
	}
	return 0;
}

static int save_memory(struct save_ctx *c, struct state_writer *w)
{
	struct guest_mem *mem = migration__memory(c->mig);
	uint64_t nr = ram__nr_chunks(mem->size), data = 0;
	char msg[STATE_MSG_MAX];
	struct snap_part *p;
	uint32_t *crcs;
	int fd, ret;

	crcs = calloc(nr, sizeof(*crcs));
	if (!crcs)
		return fail(c, -ENOMEM, "out of memory");
	fd = create_file(c, c->tmp_fd, SNAP_MEMORY);
	if (fd < 0) {
		free(crcs);
		return fd;
	}
	ret = ram__save(mem, fd, crcs, &data, c->opts->threads,
			c->opts->progress ? ram_progress : NULL, c, msg,
			sizeof(msg));
	if (ret) {
		fail(c, ret, "%s", msg);
	} else if (fsync(fd) < 0) {
		ret = fail(c, -errno, "%s: fsync: %s", SNAP_MEMORY, strerror(errno));
	}
	close(fd);
	if (!ret) {
		c->done += mem->size;
		state__begin(w, "memory");
		state__put_u64(w, "size", mem->size);
		state__put_u32(w, "chunk-size", RAM_CHUNK_SIZE);
		state__put_u64(w, "data-bytes", data);
		state__put_u32_array(w, "crc32c", crcs, nr);
		state__end(w);
		if (state_writer__status(w))
			ret = fail(c, state_writer__status(w), "%s",
				   state_writer__error(w));
		p = &c->m.parts[c->m.nr_parts++];
		memset(p, 0, sizeof(*p));
		p->kind = SNAP_PART_MEMORY;
		strcpy(p->name, SNAP_MEMORY);
		p->size = mem->size;
	}
	free(crcs);
	return ret;
}

static int write_manifest(struct save_ctx *c)
{
	time_t now = time(NULL);
	struct tm tm;
	char *buf;
	int len, ret;

	c->m.version = SNAP_VERSION;
	strcpy(c->m.arch, SNAP_ARCH);
	gmtime_r(&now, &tm);
	strftime(c->m.created, sizeof(c->m.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(c->m.ferry, sizeof(c->m.ferry), "%s", FERRY_VERSION);
	c->m.mem_size = migration__memory(c->mig)->size;
	buf = malloc(SNAP_MANIFEST_MAX);
	if (!buf)
		return fail(c, -ENOMEM, "out of memory");
	len = snap_manifest__format(&c->m, buf, SNAP_MANIFEST_MAX);
	if (len < 0) {
		free(buf);
		return fail(c, len, "manifest too large");
	}
	/* write_part appends a part entry; the manifest is not one. */
	ret = write_part(c, SNAP_PART_STATE, SNAP_MANIFEST, buf, (size_t)len);
	c->m.nr_parts--;
	free(buf);
	return ret;
}

static int sync_dirs(struct save_ctx *c)
{
	int fd = openat(c->tmp_fd, SNAP_DEVICES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (fsync(fd) < 0) {
			close(fd);
			return fail(c, -errno, "fsync %s/: %s", SNAP_DEVICES,
				    strerror(errno));
		}
		close(fd);
	}
	if (fsync(c->tmp_fd) < 0)
		return fail(c, -errno, "fsync: %s", strerror(errno));
	return 0;
}

/* Everything but the final rename, into c->tmp_fd. */
static int build(struct save_ctx *c)
{
	const struct mig_blocker *blocker;
	struct state_writer *w = NULL;
	const void *blob;
	size_t i, size;
	int ret;

	blocker = migration__blocker(c->mig, false);
	if (blocker)
		return fail(c, -EOPNOTSUPP, "%s cannot be snapshotted: %s",
			    blocker->id, blocker->reason);
	ret = setup_handlers(c);
	if (ret)
		return ret;
	c->total = migration__memory(c->mig)->size;
	for (i = 0; i < migration__count(c->mig); i++) {
		struct mig_handler *h = migration__handler(c->mig, i);
		uint64_t pending = 0;

		if (h->ops->pending_exact)
			h->ops->pending_exact(h->opaque, &pending);
		c->total += pending;
	}
	progress(c);
	ret = complete_handlers(c);
	if (ret)
		return ret;
	if (state_writer__create(&w))
		return fail(c, -ENOMEM, "out of memory");
	ret = save_states(c, w);
	if (!ret)
		ret = save_memory(c, w);
	if (!ret) {
		ret = state_writer__finish(w, &blob, &size);
		if (ret)
			fail(c, ret, "%s", state_writer__error(w));
	}
	if (!ret)
		ret = write_part(c, SNAP_PART_STATE, SNAP_STATE, blob, size);
	state_writer__destroy(w);
	if (ret)
		return ret;
	if (c->opts->config_json) {
		ret = write_part(c, SNAP_PART_CONFIG, SNAP_CONFIG, c->opts->config_json,
				 strlen(c->opts->config_json));
		if (ret)
			return ret;
	}
	cleanup_handlers(c);
	ret = sync_dirs(c);
	if (!ret)
		ret = write_manifest(c);
	if (!ret)
		ret = sync_dirs(c);
	return ret;
}

static void close_sinks(struct save_ctx *c)
{
	size_t i;

	for (i = 0; i < migration__count(c->mig); i++) {
		if (c->sinks[i].fd >= 0)
			close(c->sinks[i].fd);
		c->sinks[i].fd = -1;
	}
}

int snapshot__save(struct migration *mig, const char *dir,
		   const struct snapshot_save_opts *opts, char *err,
		   size_t errlen)
{
	static const struct snapshot_save_opts defaults;
	static unsigned int seq;
	struct save_ctx *c;
	int ret, exists;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "snapshot %s: out of memory", dir);
		return -ENOMEM;
	}
	c->mig = mig;
	c->opts = opts ? opts : &defaults;
	c->dir = dir;
	c->err = err;
	c->errlen = errlen;
	c->parent_fd = -1;
	c->tmp_fd = -1;
	if (!migration__memory(mig)) {
		ret = fail(c, -EINVAL, "no guest memory registered");
		goto out;
	}
	ret = open_parent(c);
	if (ret)
		goto out;
	exists = check_target(c);
	if (exists < 0) {
		ret = exists;
		goto out;
	}
	snprintf(c->tmpname, sizeof(c->tmpname), ".%s.tmp-%d-%u", c->base,
		 (int)getpid(), __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	if (mkdirat(c->parent_fd, c->tmpname, 0700) < 0) {
		ret = fail(c, -errno, "cannot create a temporary directory: %s",
			   strerror(errno));
		goto out;
	}
	c->tmp_fd = openat(c->parent_fd, c->tmpname,
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->tmp_fd < 0) {
		ret = fail(c, -errno, "%s", strerror(errno));
		goto err_tmp;
	}
	ret = build(c);
	cleanup_handlers(c);
	close_sinks(c);
	if (ret)
		goto err_tmp;
	if (exists)
		ret = renameat2(c->parent_fd, c->tmpname, c->parent_fd, c->base,
				RENAME_EXCHANGE);
	else
		ret = renameat2(c->parent_fd, c->tmpname, c->parent_fd, c->base,
				RENAME_NOREPLACE);
	if (ret < 0) {
		ret = fail(c, -errno, "cannot move into place: %s", strerror(errno));
		goto err_tmp;
	}
	/* After an exchange the temporary name holds the old snapshot. */
	if (exists)
		snap_dir__remove(c->parent_fd, c->tmpname);
	if (fsync(c->parent_fd) < 0) {
		ret = fail(c, -errno, "fsync of the parent directory: %s",
			   strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;

err_tmp:
	snap_dir__remove(c->parent_fd, c->tmpname);
out:
	if (c->tmp_fd >= 0)
		close(c->tmp_fd);
	if (c->parent_fd >= 0)
		close(c->parent_fd);
	free(c);
	return ret;
}
