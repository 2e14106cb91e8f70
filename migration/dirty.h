/*
 * dirty.h: dirty-page tracking for live migration. Guest RAM pages are
 * numbered by their offset in the guest memfd divided by 4 KiB (the
 * snapshot image's layout: RAM below the MMIO hole, then RAM above
 * 4 GiB), so one bitmap covers all of RAM. A "dirty source" is anything
 * that can tell which pages were written since it was last asked: KVM's
 * dirty log for vCPU writes (vmm/vm-dirty.c), VFIO DMA logging for
 * device writes (migration/vfio-migration.c). The live-migration
 * orchestrator starts every registered source, merges what each sync
 * reports into one bitmap, and stops them at the end.
 */
#ifndef MIGRATION_DIRTY_H
#define MIGRATION_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

struct guest_mem;

#define DIRTY_PAGE_SIZE 4096u
#define DIRTY_PAGE_SHIFT 12

/* One bit per RAM page (memfd offset / 4 KiB), 64 pages per word. */
struct mig_dirty_bitmap {
	const struct guest_mem *mem; /* borrowed: page numbering */
	uint64_t nr_pages;
	uint64_t *bits;              /* owned; DIV_ROUND_UP(nr_pages, 64) words */
};

/*
 * What a dirty source provides. All run on the thread that drives the
 * migration; sync may also run with the VM paused (the final pass).
 */
struct mig_dirty_source_ops {
	/*
	 * Start tracking. Pages written from now on must be reported by
	 * a later sync (a source may over-report). Returns 0 or -errno.
	 */
	int (*start)(void *opaque);
	/*
	 * OR the pages written since start or the previous sync into @bm
	 * (mig_dirty__mark_gpa / mig_dirty__set) and forget them. Returns
	 * 0 or -errno (the migration then fails).
	 */
	int (*sync)(void *opaque, struct mig_dirty_bitmap *bm);
	/* Stop tracking. Always called once after a successful start. */
	void (*stop)(void *opaque);
};

struct mig_dirty_source {
	char id[32];                          /* "kvm", a device id */
	const struct mig_dirty_source_ops *ops; /* borrowed, static */
	void *opaque;                         /* borrowed */
};

/* Allocate a clear bitmap for all of @mem. Returns 0 or -ENOMEM. */
int __must_check mig_dirty__init(struct mig_dirty_bitmap *bm,
				 const struct guest_mem *mem);

/* Free the bits. Idempotent. */
void mig_dirty__exit(struct mig_dirty_bitmap *bm);

/* Clear every bit / set every bit. */
void mig_dirty__clear_all(struct mig_dirty_bitmap *bm);
void mig_dirty__set_all(struct mig_dirty_bitmap *bm);

/* Mark page @page (memfd page number); ignored beyond nr_pages. */
void mig_dirty__set(struct mig_dirty_bitmap *bm, uint64_t page);

/*
 * Mark every page that guest-physical [@gpa, @gpa+@len) touches (for
 * sources that report guest-physical or IOVA ranges). Returns 0, or
 * -EFAULT when part of the range is not RAM (the RAM part is marked).
 */
int mig_dirty__mark_gpa(struct mig_dirty_bitmap *bm, uint64_t gpa,
			uint64_t len);

/*
 * OR @nbits bits of a little-endian 64-bit-word bitmap @src (bit i =
 * page @first + i) into @bm; @first must be a multiple of 64. For
 * sources with per-slot bitmaps (KVM). Returns 0 or -EINVAL.
 */
int mig_dirty__or_words(struct mig_dirty_bitmap *bm, uint64_t first,
			const uint64_t *src, uint64_t nbits);

/* True if page @page is marked. */
bool mig_dirty__test(const struct mig_dirty_bitmap *bm, uint64_t page);

/* Number of marked pages. */
uint64_t mig_dirty__count(const struct mig_dirty_bitmap *bm);

/*
 * First marked page at or after @from, or nr_pages when none. Used to
 * walk runs: next_set, then next_clear from there.
 */
uint64_t mig_dirty__next_set(const struct mig_dirty_bitmap *bm, uint64_t from);
uint64_t mig_dirty__next_clear(const struct mig_dirty_bitmap *bm,
			       uint64_t from);

/* Clear the pages [@start, @end). */
void mig_dirty__clear_range(struct mig_dirty_bitmap *bm, uint64_t start,
			    uint64_t end);

#endif /* MIGRATION_DIRTY_H */
