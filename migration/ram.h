/*
 * ram.h: guest RAM as a snapshot image. The image is the memfd's byte
 * range [0, mem->size) (regions in memfd order: RAM below the MMIO
 * hole, then RAM above 4 GiB) as a raw sparse file: zero pages are
 * holes, never written. Integrity: one CRC-32C per RAM_CHUNK_SIZE
 * chunk over the logical contents (zeros included), so copy-mode
 * restore verifies as it reads, and a lazy restore can skip reading
 * entirely (see docs/snapshot.md for the trade-off).
 */
#ifndef MIGRATION_RAM_H
#define MIGRATION_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

struct guest_mem;

/* Checksum granularity: 2 MiB, 512 CRCs (2 KiB) per GiB of RAM. */
#define RAM_CHUNK_SIZE (2u << 20)

/* Progress: @done of @total bytes of RAM processed. */
typedef void (*ram_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* Number of checksum chunks for @size bytes of RAM. */
static inline uint64_t ram__nr_chunks(uint64_t size)
{
	return (size + RAM_CHUNK_SIZE - 1) / RAM_CHUNK_SIZE;
}

/*
 * Write all of @mem to @fd (an empty regular file opened for writing):
 * ftruncate to mem->size, pwrite only runs of non-zero pages. Pages in
 * holes of mem's memfd are not even read (SEEK_DATA), so untouched
 * guest RAM is never faulted in. Fills @crcs (ram__nr_chunks entries)
 * and *data_bytes (bytes actually written). With @threads >= 2 the
 * checksums are computed on one helper thread (pthread_create: the
 * calling thread's seccomp policy must allow thread creation) while the
 * caller writes; if the thread cannot be created, or @threads <= 1, one
 * thread does both. Does not fsync. Returns 0, or -errno (-ENOSPC when
 * the file system is full) with a message in @err.
 */
int __must_check ram__save(const struct guest_mem *mem, int fd, uint32_t *crcs,
			   uint64_t *data_bytes, unsigned int threads,
			   ram_progress_fn progress, void *opaque, char *err,
			   size_t errlen);

/*
 * Check the image @fd of @size bytes against @crcs by reading it
 * (holes are not read). Returns 0, or -EINVAL naming the first bad
 * chunk, or -errno of a failed read, with a message in @err.
 */
int __must_check ram__verify(int fd, uint64_t size, const uint32_t *crcs,
			     char *err, size_t errlen);

/*
 * Copy-mode restore: read the image @fd into @mem (fresh from
 * mem__create, all zero) verifying every chunk as it goes; holes leave
 * mem's pages untouched. On a checksum mismatch returns -EINVAL naming
 * the chunk; @mem then holds partial contents and must be discarded.
 */
int __must_check ram__load_copy(struct guest_mem *mem, int fd,
				const uint32_t *crcs, char *err, size_t errlen);

/*
 * Lazy restore: guest memory of @size bytes whose pages come from the
 * image @fd on first touch (MAP_PRIVATE: reads share the page cache,
 * writes copy). The layout is mem__create's; the result has fd == -1:
 * there is no shareable fd, so it must not be used with DMA-capable
 * devices (vfio-user servers need mem->fd). @fd is borrowed (the
 * mapping keeps the file). The image must not be truncated or rewritten
 * in place while the VM runs. Checks that @fd is a regular file of
 * exactly @size bytes; reads nothing. Returns 0 and *out (free with
 * mem__destroy), or -errno with a message in @err.
 */
int __must_check ram__map_image(int fd, uint64_t size, struct guest_mem **out,
				char *err, size_t errlen);

#endif /* MIGRATION_RAM_H */
