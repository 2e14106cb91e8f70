/*
 * ram.c: the guest RAM image of a snapshot. Saving walks the memfd's
 * data extents (SEEK_DATA/SEEK_HOLE, so never-touched RAM is neither
 * read nor faulted in), tests each page for zero with wide compares,
 * checksums non-zero pages with CRC-32C and extends the checksum over
 * zero pages arithmetically, and pwrites runs of non-zero pages
 * straight from the guest mapping into a sparse file. Loading either
 * copies the image's data extents into a fresh memfd, verifying each
 * chunk, or maps the image MAP_PRIVATE for lazy, copy-on-write restore.
 */
#include "migration/ram.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration/crc32c.h"
#include "vmm/mem.h"

#define RAM_PAGE 4096u
/* Largest single pwrite: big enough that syscalls cost nothing. */
#define RAM_RUN_MAX (8u << 20)
/* Data is checksummed in batches of this size, while still cached. */
#define RAM_CRC_BATCH (256u << 10)

/* All-zero test, 64 bytes per step; stops at the first non-zero block. */
static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	unsigned int i;

	for (i = 0; i < RAM_PAGE / 8; i += 8)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] |
		    q[i + 5] | q[i + 6] | q[i + 7])
			return false;
	return true;
}

/*
 * The data extent of @fd at or after @off: [*start, *end), page
 * aligned; *start = @size when there is no more data. Without an fd
 * (or when the file system cannot tell) everything is data.
 */
static void next_extent(int fd, uint64_t off, uint64_t size, uint64_t *start,
			uint64_t *end)
{
	off_t d, h;

	*start = off;
	*end = size;
	if (fd < 0)
		return;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		if (errno == ENXIO)
			*start = size; /* only a hole is left */
		return;
	}
	h = lseek(fd, d, SEEK_HOLE);
	*start = ALIGN_DOWN((uint64_t)d, RAM_PAGE);
	if (*start < off)
		*start = off;
	if (h > d)
		*end = MIN(ALIGN_UP((uint64_t)h, RAM_PAGE), size);
}

/* On failure *at is the offset of the write that failed. */
static int pwrite_all(int fd, const uint8_t *buf, uint64_t len, uint64_t off,
		      uint64_t *at)
{
	*at = off;
	while (len) {
		ssize_t n = pwrite(fd, buf, (size_t)MIN(len, (uint64_t)RAM_RUN_MAX),
				   (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		off += (uint64_t)n;
		*at = off;
		len -= (uint64_t)n;
	}
	return 0;
}

static int pread_all(int fd, uint8_t *buf, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, (size_t)MIN(len, (uint64_t)RAM_RUN_MAX),
				  (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA; /* file shorter than it claimed */
		buf += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

struct run {
	int fd;
	const uint8_t *base;
	uint64_t start, len;
	uint64_t written;
	uint64_t fail_at; /* offset of a failed write */
};

static int run_flush(struct run *r)
{
	int ret;

	if (!r->len)
		return 0;
	ret = pwrite_all(r->fd, r->base + r->start, r->len, r->start,
			 &r->fail_at);
	if (!ret)
		r->written += r->len;
	r->len = 0;
	return ret;
}

/*
 * One pass over guest RAM: with @crcs, compute the chunk checksums;
 * with @run->fd >= 0, write the non-zero runs. The save runs both
 * tasks in one pass, or one pass each on two threads.
 */
struct scan {
	const struct guest_mem *mem;
	uint32_t *crcs;          /* NULL: no checksums */
	struct run run;          /* run.fd < 0: no writes */
	ram_progress_fn progress;
	void *opaque;
	int ret;
};

static int scan_ram(struct scan *sc)
{
	const struct guest_mem *mem = sc->mem;
	uint64_t size = mem->size, nr = ram__nr_chunks(size), c;
	uint64_t ext_start = 0, ext_end = 0;
	struct run *run = &sc->run;
	bool write = run->fd >= 0;
	int ret;

	for (c = 0; c < nr; c++) {
		uint64_t off = c * RAM_CHUNK_SIZE;
		uint64_t end = MIN(off + RAM_CHUNK_SIZE, size);
		uint64_t crc_start = 0, crc_len = 0; /* data not yet summed */
		uint32_t crc = CRC32C_INIT;

		while (off < end) {
			uint64_t lim;

			if (off >= ext_end)
				next_extent(mem->fd, off, size, &ext_start, &ext_end);
			if (off < ext_start) {
				lim = MIN(ext_start, end);
				if (sc->crcs)
					crc = crc32c__zeros(crc, lim - off);
				if (write && (ret = run_flush(run)))
					return ret;
				off = lim;
				continue;
			}
			lim = MIN(ext_end, end);
			for (; off < lim; off += RAM_PAGE) {
				const uint8_t *p = mem->base + off;

				if (page_is_zero(p)) {
					/* Checksum the data run before it. */
					if (sc->crcs && crc_len) {
						crc = crc32c__update(crc, mem->base + crc_start,
								     crc_len);
						crc_len = 0;
					}
					if (sc->crcs)
						crc = crc32c__zeros(crc, RAM_PAGE);
					if (write && (ret = run_flush(run)))
						return ret;
					continue;
				}
				if (!crc_len)
					crc_start = off;
				crc_len += RAM_PAGE;
				/* Sum while the data is still in the cache. */
				if (sc->crcs && crc_len >= RAM_CRC_BATCH) {
					crc = crc32c__update(crc, mem->base + crc_start,
							     crc_len);
					crc_len = 0;
				}
				if (!write)
					continue;
				if (!run->len)
					run->start = off;
				run->len += RAM_PAGE;
				if (run->len >= RAM_RUN_MAX && (ret = run_flush(run)))
					return ret;
			}
			if (sc->crcs && crc_len) {
				crc = crc32c__update(crc, mem->base + crc_start, crc_len);
				crc_len = 0;
			}
		}
		if (sc->crcs)
			sc->crcs[c] = crc;
		if (sc->progress)
			sc->progress(sc->opaque, end, size);
	}
	return write ? run_flush(run) : 0;
}

static void *crc_thread(void *arg)
{
	struct scan *sc = arg;

	sc->ret = scan_ram(sc);
	return NULL;
}

int ram__save(const struct guest_mem *mem, int fd, uint32_t *crcs,
	      uint64_t *data_bytes, unsigned int threads,
	      ram_progress_fn progress, void *opaque, char *err, size_t errlen)
{
	struct scan writer = {
		.mem = mem, .crcs = crcs,
		.run = { .fd = fd, .base = mem->base },
		.progress = progress, .opaque = opaque,
	};
	struct scan summer = {
		.mem = mem, .crcs = crcs, .run = { .fd = -1 },
	};
	pthread_t tid;
	bool threaded = false;
	int ret;

	if (ftruncate(fd, (off_t)mem->size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "memory image: cannot size to %llu bytes: %s",
			 (unsigned long long)mem->size, strerror(-ret));
		return ret;
	}
	/* Checksums on a second thread when allowed and possible. */
	if (threads > 1 && pthread_create(&tid, NULL, crc_thread, &summer) == 0) {
		threaded = true;
		writer.crcs = NULL;
	}
	ret = scan_ram(&writer);
	if (threaded) {
		pthread_join(tid, NULL);
		if (!ret)
			ret = summer.ret;
	}
	if (ret) {
		snprintf(err, errlen, "memory image: write at offset %llu failed: %s",
			 (unsigned long long)writer.run.fail_at, strerror(-ret));
		return ret;
	}
	*data_bytes = writer.run.written;
	return 0;
}

/*
 * Read the image @fd chunk by chunk, data extents into @dst (at the
 * image offset) or, when @dst is NULL, into a bounce buffer; check
 * each chunk's CRC against @crcs.
 */
static int read_verify(int fd, uint64_t size, const uint32_t *crcs,
		       uint8_t *dst, char *err, size_t errlen)
{
	uint64_t nr = ram__nr_chunks(size), c;
	uint64_t ext_start = 0, ext_end = 0;
	uint8_t *bounce = NULL;
	int ret = 0;

	if (!dst) {
		bounce = malloc(RAM_CHUNK_SIZE);
		if (!bounce)
			return -ENOMEM;
	}
	for (c = 0; c < nr; c++) {
		uint64_t off = c * RAM_CHUNK_SIZE, start = off;
		uint64_t end = MIN(off + RAM_CHUNK_SIZE, size);
		uint32_t crc = CRC32C_INIT;

		while (off < end) {
			uint64_t lim;
			uint8_t *p;

			if (off >= ext_end)
				next_extent(fd, off, size, &ext_start, &ext_end);
			if (off < ext_start) {
				lim = MIN(ext_start, end);
				crc = crc32c__zeros(crc, lim - off);
				off = lim;
				continue;
			}
			lim = MIN(ext_end, end);
			p = dst ? dst + off : bounce + (off - start);
			ret = pread_all(fd, p, lim - off, off);
			if (ret) {
				snprintf(err, errlen, "memory image: read at offset %llu: %s",
					 (unsigned long long)off,
					 ret == -ENODATA ? "file is truncated"
							 : strerror(-ret));
				goto out;
			}
			crc = crc32c__update(crc, p, lim - off);
			off = lim;
		}
		if (crc != crcs[c]) {
			snprintf(err, errlen,
				 "memory image: checksum mismatch in chunk %llu (bytes %llu-%llu): crc32c %08x, expected %08x",
				 (unsigned long long)c, (unsigned long long)start,
				 (unsigned long long)end - 1, crc, crcs[c]);
			ret = -EINVAL;
			goto out;
		}
	}
out:
	free(bounce);
	return ret;
}

/* The image must be a regular file of exactly @size bytes. */
static int check_size(int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "memory image: %s", strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "memory image: not a regular file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size != size) {
		snprintf(err, errlen, "memory image: %llu bytes, expected %llu",
			 (unsigned long long)st.st_size, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

int ram__verify(int fd, uint64_t size, const uint32_t *crcs, char *err,
		size_t errlen)
{
	int ret = check_size(fd, size, err, errlen);

	return ret ? ret : read_verify(fd, size, crcs, NULL, err, errlen);
}

int ram__load_copy(struct guest_mem *mem, int fd, const uint32_t *crcs,
		   char *err, size_t errlen)
{
	int ret = check_size(fd, mem->size, err, errlen);

	return ret ? ret : read_verify(fd, mem->size, crcs, mem->base, err, errlen);
}

int ram__map_image(int fd, uint64_t size, struct guest_mem **out, char *err,
		   size_t errlen)
{
	struct guest_mem *mem;
	void *p;
	int ret;

	ret = check_size(fd, size, err, errlen);
	if (ret)
		return ret;
	/* mem__create gives the layout; its memfd is never touched. */
	ret = mem__create(size, &mem);
	if (ret) {
		snprintf(err, errlen, "memory image: cannot set up %llu bytes of guest memory: %s",
			 (unsigned long long)size, strerror(-ret));
		return ret;
	}
	p = mmap(mem->base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		 fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "memory image: mmap: %s", strerror(-ret));
		mem__destroy(mem);
		return ret;
	}
	/* No fd may reach the snapshot file: guest_mem has none at all. */
	close(mem->fd);
	mem->fd = -1;
	*out = mem;
	return 0;
}
