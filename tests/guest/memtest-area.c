/*
 * memtest-area.c: finds the memory memtest uses. Free RAM is every
 * memmap RAM range above the end of the image (stacks and .bss
 * included), in address order. The generation table, and a page
 * directory for each GiB above the statically mapped 4 GiB that the
 * test area reaches, are taken from the lowest free RAM; the test area
 * follows. The start info, command line and ACPI tables may be
 * overwritten: bootinfo.c copied what the guest needs.
 */
#include "guest.h"
#include "layout.h"
#include "memtest-internal.h"
#include "serial.h"

#define MAP_LIMIT (512 * GiB) /* one PDPT: the guest maps at most 512 GiB */

extern uint64_t pdpt[512]; /* tables.S */

struct range {
	uint64_t lo, hi;
};

/* Free RAM ranges above the image, sorted by address. */
static unsigned int free_ranges(const struct boot_info *bi, struct range *r)
{
	uint64_t floor = ALIGN_UP((uint64_t)(uintptr_t)_image_end, PAGE_SIZE);
	unsigned int i, n = 0;

	for (i = 0; i < bi->nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &bi->memmap[i];
		uint64_t lo, hi;
		unsigned int j;

		if (e->type != HVM_MEMMAP_TYPE_RAM || e->addr >= MAP_LIMIT)
			continue;
		lo = ALIGN_UP(MAX(e->addr, floor), PAGE_SIZE);
		hi = e->size > MAP_LIMIT - e->addr ? MAP_LIMIT : e->addr + e->size;
		hi = ALIGN_DOWN(hi, PAGE_SIZE);
		if (hi <= lo)
			continue;
		for (j = n; j > 0 && r[j - 1].lo > lo; j--) /* insertion sort */
			r[j] = r[j - 1];
		r[j] = (struct range){ lo, hi };
		n++;
	}
	return n;
}

/* Map GiB number @gib (>= PT_STATIC_GIB) through the page directory at @pd. */
static void map_gib(uint64_t gib, uint64_t pd)
{
	uint64_t *e = (uint64_t *)(uintptr_t)pd;
	unsigned int i;

	if (pdpt[gib])
		return;
	for (i = 0; i < 512; i++)
		e[i] = (gib << 30) + ((uint64_t)i << 21) + PTE_LARGE;
	__asm__ volatile("" : : : "memory");
	/* A not-present entry is never cached in the TLB: no flush needed. */
	pdpt[gib] = pd + PTE_TABLE;
}

int memtest_area__setup(const struct boot_info *bi, uint64_t bytes,
			struct memtest *mt)
{
	struct range r[BOOTINFO_MEMMAP_MAX];
	uint64_t total = 0, table, pds = 0, need, left, idx = 0;
	uint64_t high_gib[512];
	unsigned int n, i, nr_high = 0;

	if (!bi->nr_memmap) {
		serial__printf("memtest: error: no memory map in the start info "
			       "(version %u)\n", bi->version);
		return -1;
	}
	n = free_ranges(bi, r);
	for (i = 0; i < n; i++)
		total += r[i].hi - r[i].lo;

	mt->npages = bytes / PAGE_SIZE;
	table = ALIGN_UP(mt->npages * sizeof(uint32_t), PAGE_SIZE);
	/* Upper bound on page directories: every free GiB above the static map. */
	for (i = 0; i < n; i++) {
		uint64_t g;

		for (g = MAX(r[i].lo >> 30, PT_STATIC_GIB); g < 512 &&
		     (g << 30) < r[i].hi; g++) {
			if (nr_high && high_gib[nr_high - 1] == g)
				continue;
			high_gib[nr_high++] = g;
		}
	}
	pds = nr_high * PAGE_SIZE;
	need = table + pds + bytes;
	if (total < need || !n || r[0].lo + table + pds > PT_STATIC_GIB * GiB ||
	    r[0].hi - r[0].lo < table + pds) {
		serial__printf("memtest: error: not enough RAM: %lu MiB to test "
			       "plus %lu KiB of tables, %lu MiB free above 0x%lx\n",
			       bytes / MiB, (table + pds) / KiB, total / MiB,
			       (uint64_t)(uintptr_t)_image_end);
		return -1;
	}

	/* Tables from the bottom of the first range; the test area after them. */
	mt->meta_base = r[0].lo;
	mt->meta_bytes = table + pds;
	mt->gen = (uint32_t *)(uintptr_t)(r[0].lo + pds);
	r[0].lo += table + pds;

	left = bytes;
	mt->nr_ext = 0;
	for (i = 0; i < n && left; i++) {
		uint64_t len = MIN(left, r[i].hi - r[i].lo);
		struct mt_extent *x;

		if (!len)
			continue;
		x = &mt->ext[mt->nr_ext++];
		x->base = r[i].lo;
		x->pages = len / PAGE_SIZE;
		x->first = idx;
		idx += x->pages;
		left -= len;
	}

	/* Map the GiBs above 4 GiB that the test area reaches. */
	for (i = 0; i < nr_high; i++) {
		uint64_t g = high_gib[i];
		unsigned int k;

		for (k = 0; k < mt->nr_ext; k++) {
			const struct mt_extent *x = &mt->ext[k];

			if ((g << 30) < x->base + x->pages * PAGE_SIZE &&
			    ((g + 1) << 30) > x->base) {
				map_gib(g, mt->meta_base + i * PAGE_SIZE);
				break;
			}
		}
	}
	return 0;
}

uint64_t memtest_area__page(const struct memtest *mt, uint64_t idx)
{
	unsigned int k;

	for (k = 0; k + 1 < mt->nr_ext; k++)
		if (idx < mt->ext[k + 1].first)
			break;
	return mt->ext[k].base + (idx - mt->ext[k].first) * PAGE_SIZE;
}
