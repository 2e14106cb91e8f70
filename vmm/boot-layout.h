/*
 * boot-layout.h: where ferry's boot code puts things in guest memory.
 * One table for both boot protocols (PVH and the Linux 64-bit boot
 * protocol); only one of them is used per boot, but they never share an
 * address, so a dump of low memory is unambiguous.
 *
 *   0x00000 - 0x00fff  real-mode IVT and BIOS data area (left zero except
 *                      the BDA's EBDA pointer, see mptable.h)
 *   0x01000 - 0x01fff  GDT (BOOT_GDT_ADDR)
 *   0x02000 - 0x02fff  Linux boot_params, the "zero page"
 *   0x03000 - 0x03fff  PVH struct hvm_start_info + module list
 *   0x04000 - 0x04fff  PVH memory map (hvm_memmap_table_entry[])
 *   0x05000 - 0x08fff  boot stack; RSP/ESP starts at BOOT_STACK_TOP
 *   0x09000 - 0x09fff  PML4
 *   0x0a000 - 0x0afff  PDPT
 *   0x0b000 - 0x0efff  4 page directories: 0..4 GiB identity, 2 MiB pages
 *   0x20000 - 0x2ffff  kernel command line (NUL-terminated)
 *   0x9fc00 - 0xfffff  reserved in the e820: MP table (mptable.h)
 *   0x100000 -         kernel: PT_LOAD segments at p_paddr, or the bzImage
 *                      protected-mode code at pref_address (usually 16 MiB)
 *   initrd             page-aligned, as high as possible below the end of
 *                      low RAM (and below initrd_addr_max for bzImage),
 *                      above the kernel's end (init_size for bzImage)
 */
#ifndef VMM_BOOT_LAYOUT_H
#define VMM_BOOT_LAYOUT_H

#define BOOT_GDT_ADDR 0x1000ULL
#define BOOT_ZERO_PAGE_ADDR 0x2000ULL
#define BOOT_START_INFO_ADDR 0x3000ULL
/* The module list follows struct hvm_start_info (56 bytes) in its page. */
#define BOOT_MODLIST_ADDR 0x3040ULL
#define BOOT_MEMMAP_ADDR 0x4000ULL
/* Top of the initial stack; 16-byte aligned, grows down towards 0x5000. */
#define BOOT_STACK_TOP 0x8ff0ULL
#define BOOT_PML4_ADDR 0x9000ULL
#define BOOT_PDPT_ADDR 0xa000ULL
#define BOOT_PD_ADDR 0xb000ULL
/* Page directories cover 4 GiB: one 4 KiB PD maps 1 GiB in 2 MiB pages. */
#define BOOT_PD_COUNT 4
#define BOOT_CMDLINE_ADDR 0x20000ULL
/* Room for the command line including its NUL. */
#define BOOT_CMDLINE_MAX 0x10000ULL

/* Kernels must load at or above 1 MiB: everything below is ours or BIOS. */
#define BOOT_KERNEL_MIN 0x100000ULL

/* Initrd alignment: the Linux boot protocol and PVH both accept pages. */
#define BOOT_INITRD_ALIGN 0x1000ULL

/* GDT selectors (byte offsets of the descriptors in the GDT). */
#define BOOT_SEL_CODE32 0x08 /* flat 4 GiB 32-bit code: PVH entry */
#define BOOT_SEL_CODE64 0x10 /* 64-bit code: Linux __BOOT_CS */
#define BOOT_SEL_DATA 0x18   /* flat 4 GiB data: Linux __BOOT_DS, PVH data */
#define BOOT_GDT_ENTRIES 4

#endif /* VMM_BOOT_LAYOUT_H */
