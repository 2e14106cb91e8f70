/*
 * bootinfo.h: what the guest takes from the PVH struct hvm_start_info
 * (Xen public/arch-x86/hvm/start_info.h): the command line, the memory
 * map and the ACPI RSDP address. bootinfo__read() copies them into
 * guest-owned storage, so later phases (memtest, the AP trampoline) may
 * overwrite the VMM's copies.
 */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578 /* "xEn3" with the 0x80 bit of the "E" set */
#define HVM_MEMMAP_TYPE_RAM 1

#define BOOTINFO_CMDLINE_MAX 1024 /* longer command lines are refused */
#define BOOTINFO_MEMMAP_MAX 32    /* ferry gives <= 4 entries, QEMU a few */

/* Layout of struct hvm_start_info (version 1; the memmap fields are v1). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;   /* version >= 1 */
	uint32_t memmap_entries; /* version >= 1 */
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct boot_info {
	uint32_t start_info;  /* paddr of hvm_start_info */
	uint32_t version;
	uint64_t rsdp;        /* 0: none given */
	char cmdline[BOOTINFO_CMDLINE_MAX];
	unsigned int nr_memmap;
	struct hvm_memmap_entry memmap[BOOTINFO_MEMMAP_MAX];
	uint64_t ram_bytes;   /* sum of RAM entries */
};

/*
 * Validate the start info at @paddr and copy what we use into @bi.
 * Returns 0, or -1 after printing why (bad magic, command line too
 * long, too many memmap entries).
 */
int bootinfo__read(uint32_t paddr, struct boot_info *bi);

#endif /* GUEST_BOOTINFO_H */
