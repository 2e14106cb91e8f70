/*
 * memtest-internal.h: state shared by memtest.c (passes, patterns,
 * reports) and memtest-area.c (which RAM is tested and where the
 * generation table lives).
 */
#ifndef GUEST_MEMTEST_INTERNAL_H
#define GUEST_MEMTEST_INTERNAL_H

#include <stdint.h>

#include "bootinfo.h"

#define MT_MAX_EXTENTS BOOTINFO_MEMMAP_MAX

/* A run of test pages: @pages pages at @base, global page indices from @first. */
struct mt_extent {
	uint64_t base;
	uint64_t pages;
	uint64_t first;
};

struct memtest {
	unsigned int nr_ext;
	struct mt_extent ext[MT_MAX_EXTENTS];
	uint64_t npages;     /* pages under test */
	uint32_t *gen;       /* generation of each page; outside the test area */
	uint64_t meta_base;  /* first byte of the table (and high-map PDs) */
	uint64_t meta_bytes;
};

/*
 * Choose @bytes of RAM above the image from the memmap, put the
 * generation table (and any page directories needed to map RAM above
 * 4 GiB) below it, and fill mt->ext. Returns 0, or -1 after printing
 * why (no memmap, not enough RAM).
 */
int memtest_area__setup(const struct boot_info *bi, uint64_t bytes,
			struct memtest *mt);

/* Guest-physical address of test page @idx (< mt->npages). */
uint64_t memtest_area__page(const struct memtest *mt, uint64_t idx);

#endif /* GUEST_MEMTEST_INTERNAL_H */
