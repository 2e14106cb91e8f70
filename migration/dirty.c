/*
 * dirty.c: the merged dirty-page bitmap of live migration: one bit per
 * 4 KiB page of guest RAM in memfd order, with helpers for sources that
 * report guest-physical ranges (VFIO DMA logging) or per-slot word
 * bitmaps (KVM), and word-at-a-time run walking for the sender.
 */
#include "migration/dirty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/mem.h"

#define WORDS(n) (((n) + 63) / 64)

int mig_dirty__init(struct mig_dirty_bitmap *bm, const struct guest_mem *mem)
{
	bm->mem = mem;
	bm->nr_pages = mem->size >> DIRTY_PAGE_SHIFT;
	bm->bits = calloc(WORDS(bm->nr_pages) ? WORDS(bm->nr_pages) : 1,
			  sizeof(uint64_t));
	return bm->bits ? 0 : -ENOMEM;
}

void mig_dirty__exit(struct mig_dirty_bitmap *bm)
{
	free(bm->bits);
	bm->bits = NULL;
	bm->nr_pages = 0;
}

void mig_dirty__clear_all(struct mig_dirty_bitmap *bm)
{
	memset(bm->bits, 0, WORDS(bm->nr_pages) * sizeof(uint64_t));
}

void mig_dirty__set_all(struct mig_dirty_bitmap *bm)
{
	uint64_t n = WORDS(bm->nr_pages);

	memset(bm->bits, 0xff, n * sizeof(uint64_t));
	/* Bits past the last page stay clear so counts are exact. */
	if (bm->nr_pages % 64)
		bm->bits[n - 1] = (1ULL << (bm->nr_pages % 64)) - 1;
}

void mig_dirty__set(struct mig_dirty_bitmap *bm, uint64_t page)
{
	if (page < bm->nr_pages)
		bm->bits[page / 64] |= 1ULL << (page % 64);
}

bool mig_dirty__test(const struct mig_dirty_bitmap *bm, uint64_t page)
{
	return page < bm->nr_pages && (bm->bits[page / 64] >> (page % 64)) & 1;
}

static void set_range(struct mig_dirty_bitmap *bm, uint64_t start,
		      uint64_t end)
{
	for (; start < end && start % 64; start++)
		mig_dirty__set(bm, start);
	for (; start + 64 <= end; start += 64)
		bm->bits[start / 64] = ~0ULL;
	for (; start < end; start++)
		mig_dirty__set(bm, start);
}

int mig_dirty__mark_gpa(struct mig_dirty_bitmap *bm, uint64_t gpa,
			uint64_t len)
{
	const struct guest_mem *mem = bm->mem;
	uint64_t end, covered = 0;
	unsigned int i;

	if (!len)
		return 0;
	if (add_overflow(gpa, len, &end))
		return -EFAULT;
	for (i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];
		uint64_t s = MAX(gpa, r->gpa), e = MIN(end, r->gpa + r->size);

		if (s >= e)
			continue;
		covered += e - s;
		set_range(bm, (r->offset + (s - r->gpa)) >> DIRTY_PAGE_SHIFT,
			  (r->offset + (e - r->gpa) + DIRTY_PAGE_SIZE - 1) >>
				  DIRTY_PAGE_SHIFT);
	}
	return covered == len ? 0 : -EFAULT;
}

int mig_dirty__or_words(struct mig_dirty_bitmap *bm, uint64_t first,
			const uint64_t *src, uint64_t nbits)
{
	uint64_t w, nw = WORDS(nbits);

	if (first % 64 || first > bm->nr_pages || nbits > bm->nr_pages - first)
		return -EINVAL;
	for (w = 0; w < nw; w++) {
		uint64_t v = src[w];

		if (w == nw - 1 && nbits % 64)
			v &= (1ULL << (nbits % 64)) - 1;
		bm->bits[first / 64 + w] |= v;
	}
	return 0;
}

uint64_t mig_dirty__count(const struct mig_dirty_bitmap *bm)
{
	uint64_t w, n = 0;

	for (w = 0; w < WORDS(bm->nr_pages); w++)
		n += (uint64_t)__builtin_popcountll(bm->bits[w]);
	return n;
}

uint64_t mig_dirty__next_set(const struct mig_dirty_bitmap *bm, uint64_t from)
{
	uint64_t w, v;

	if (from >= bm->nr_pages)
		return bm->nr_pages;
	w = from / 64;
	v = bm->bits[w] & (~0ULL << (from % 64));
	while (!v) {
		if (++w >= WORDS(bm->nr_pages))
			return bm->nr_pages;
		v = bm->bits[w];
	}
	return MIN(w * 64 + (uint64_t)__builtin_ctzll(v), bm->nr_pages);
}

uint64_t mig_dirty__next_clear(const struct mig_dirty_bitmap *bm,
			       uint64_t from)
{
	uint64_t w, v;

	if (from >= bm->nr_pages)
		return bm->nr_pages;
	w = from / 64;
	v = ~bm->bits[w] & (~0ULL << (from % 64));
	while (!v) {
		if (++w >= WORDS(bm->nr_pages))
			return bm->nr_pages;
		v = ~bm->bits[w];
	}
	return MIN(w * 64 + (uint64_t)__builtin_ctzll(v), bm->nr_pages);
}

void mig_dirty__clear_range(struct mig_dirty_bitmap *bm, uint64_t start,
			    uint64_t end)
{
	end = MIN(end, bm->nr_pages);
	for (; start < end && start % 64; start++)
		bm->bits[start / 64] &= ~(1ULL << (start % 64));
	for (; start + 64 <= end; start += 64)
		bm->bits[start / 64] = 0;
	for (; start < end; start++)
		bm->bits[start / 64] &= ~(1ULL << (start % 64));
}
