/*
 * boot-internal.h: pieces shared by the boot loaders (boot.c, boot-elf.c,
 * boot-bzimage.c, boot-cpu.c) and not meant for the rest of ferry: the
 * one checked reader through which every byte of a kernel or initrd
 * image is read, the per-protocol loaders, and the helpers that place
 * the command line, the initrd, the GDT and the page tables.
 */
#ifndef VMM_BOOT_INTERNAL_H
#define VMM_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/boot.h"

struct guest_mem;

/*
 * Copy @len bytes at @off of @img into @dst. Returns false (and copies
 * nothing) when [off, off+len) is not entirely inside the image,
 * including when off+len overflows. Images are little-endian like the
 * host (ferry is x86_64-only), so fixed-width fields are read straight.
 */
static inline bool boot_img_read(const struct boot_image *img, uint64_t off,
				 void *dst, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(off, len, &end) || end > img->size)
		return false;
	memcpy(dst, img->data + off, len);
	return true;
}

/* Typed shorthands for boot_img_read(). */
static inline bool boot_img_u8(const struct boot_image *img, uint64_t off,
			       uint8_t *v)
{
	return boot_img_read(img, off, v, sizeof(*v));
}

static inline bool boot_img_u16(const struct boot_image *img, uint64_t off,
				uint16_t *v)
{
	return boot_img_read(img, off, v, sizeof(*v));
}

static inline bool boot_img_u32(const struct boot_image *img, uint64_t off,
				uint32_t *v)
{
	return boot_img_read(img, off, v, sizeof(*v));
}

static inline bool boot_img_u64(const struct boot_image *img, uint64_t off,
				uint64_t *v)
{
	return boot_img_read(img, off, v, sizeof(*v));
}

/* Where the RSDP address goes (boot__set_acpi_rsdp). */
#define BOOT_PVH_RSDP_OFF 32     /* hvm_start_info.rsdp_paddr */
#define BOOT_BP_ACPI_RSDP_OFF 0x070 /* boot_params.acpi_rsdp_addr (2.14+) */

/* True when @img starts like an ELF file. */
bool boot_elf__probe(const struct boot_image *img);

/*
 * PVH: load the PT_LOAD segments of the ELF @kernel, place @initrd
 * (may be NULL) as module 0, and write hvm_start_info, the memory map
 * and the command line (already checked to fit BOOT_CMDLINE_MAX).
 * Fills @bi except the GDT fields. Logs and returns -errno.
 */
int boot_elf__load(struct guest_mem *mem, const struct boot_image *kernel,
		   const struct boot_image *initrd, const char *cmdline,
		   struct boot_info *bi);

/* True when @img carries the Linux setup header magic "HdrS". */
bool boot_bzimage__probe(const struct boot_image *img);

/*
 * Linux 64-bit boot protocol: load the protected-mode code of the
 * bzImage @kernel, place @initrd (may be NULL), write boot_params, the
 * command line and the identity page tables. Fills @bi except the GDT
 * fields. Logs and returns -errno.
 */
int boot_bzimage__load(struct guest_mem *mem, const struct boot_image *kernel,
		       const struct boot_image *initrd, const char *cmdline,
		       struct boot_info *bi);

/*
 * Copy @initrd into guest RAM: page-aligned, as high as possible with
 * its end at or below min(end of low RAM, @max_end), and not below
 * @kernel_end. Sets bi->initrd_addr/size. @initrd NULL: no-op.
 * Returns 0, -EINVAL (empty), -ENOMEM (does not fit).
 */
int boot__place_initrd(struct guest_mem *mem, const struct boot_image *initrd,
		       uint64_t kernel_end, uint64_t max_end,
		       struct boot_info *bi);

/*
 * Write @cmdline (NUL-terminated, length already checked) at
 * BOOT_CMDLINE_ADDR and set bi->cmdline_addr/len. Returns 0 or -EFAULT.
 */
int boot__write_cmdline(struct guest_mem *mem, const char *cmdline,
			struct boot_info *bi);

/*
 * Write the GDT (null, 32-bit code, 64-bit code, data; see
 * boot-layout.h) at BOOT_GDT_ADDR and set bi->gdt_base/gdt_limit.
 * Returns 0 or -EFAULT.
 */
int boot__write_gdt(struct guest_mem *mem, struct boot_info *bi);

/*
 * Write PML4, PDPT and page directories identity-mapping 0..4 GiB with
 * 2 MiB pages and set bi->cr3. Returns 0 or -EFAULT.
 */
int boot__write_page_tables(struct guest_mem *mem, struct boot_info *bi);

#endif /* VMM_BOOT_INTERNAL_H */
