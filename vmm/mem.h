/*
 * mem.h: guest RAM. One memfd holds all of it (so device servers and
 * snapshot code see the same pages); it is mapped once into ferry and
 * split into at most two guest-physical regions around the 32-bit MMIO
 * hole. Every access to guest memory from ferry goes through
 * mem__gpa_ptr(), which checks bounds and overflow.
 */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * x86 guest-physical layout. RAM starts at 0 and stops at the 32-bit
 * MMIO hole, which holds PCI BARs, the PCI ECAM window, the IOAPIC
 * (0xfec00000) and the LAPIC (0xfee00000). RAM that does not fit below
 * the hole continues at 4 GiB.
 */
#define MEM_HOLE_START 0xC0000000ULL /* 3 GiB: 1 GiB hole for 32-bit MMIO */
#define MEM_HOLE_END 0x100000000ULL  /* 4 GiB */
#define MEM_HIGH_START MEM_HOLE_END

/* Legacy low-memory reserved area: EBDA/VGA/BIOS (MP table lives here). */
#define MEM_EBDA_START 0x9FC00ULL
#define MEM_BIOS_END 0x100000ULL

/* Smallest and largest RAM ferry accepts (test guest needs ~2 MiB). */
#define MEM_MIN_SIZE (16ULL << 20)
#define MEM_MAX_SIZE (1ULL << 40) /* 1 TiB: far beyond this machine */

#define MEM_MAX_REGIONS 2

struct mem_region {
	uint64_t gpa;    /* guest-physical start */
	uint64_t size;   /* bytes */
	uint64_t offset; /* offset into the memfd */
	uint8_t *hva;    /* host address (base + offset) */
};

struct guest_mem {
	int fd;              /* owned memfd; -1 once destroyed */
	uint64_t size;       /* total RAM bytes */
	uint8_t *base;       /* owned mapping of the whole memfd */
	unsigned int nr_regions;
	struct mem_region regions[MEM_MAX_REGIONS];
};

/* e820 types (the Linux boot protocol's values). */
#define E820_RAM 1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* At most: low RAM, EBDA/BIOS reserved, RAM to hole, RAM above 4 GiB. */
#define MEM_MAX_E820 8

/*
 * Create guest RAM of @size bytes (a multiple of 4 KiB, between
 * MEM_MIN_SIZE and MEM_MAX_SIZE) backed by a new memfd and mapped
 * shared. Pages are not touched. Returns 0 and *out, or -errno
 * (-EINVAL for a bad size).
 */
int mem__create(uint64_t size, struct guest_mem **out);

/* Unmap and close. NULL-safe. */
void mem__destroy(struct guest_mem *mem);

/*
 * Host pointer for [gpa, gpa+len) if the whole range lies inside one
 * RAM region, else NULL. Checks overflow. len may be 0 (then gpa must
 * still be inside or at the end of a region). The pointer is borrowed:
 * do not keep it across pause, snapshot or restore.
 */
void *mem__gpa_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy to/from guest memory; -EFAULT if the range is not all RAM. */
int mem__write(struct guest_mem *mem, uint64_t gpa, const void *buf,
	       uint64_t len);
int mem__read(const struct guest_mem *mem, uint64_t gpa, void *buf,
	      uint64_t len);

/*
 * Fill @out (room for @max entries) with the guest's e820 map.
 * Returns the number of entries, or -ENOSPC if @max is too small.
 */
int mem__e820(const struct guest_mem *mem, struct e820_entry *out,
	      unsigned int max);

/* Highest guest-physical address of RAM, plus one. */
uint64_t mem__end(const struct guest_mem *mem);

#endif /* VMM_MEM_H */
