/*
 * boot.h: load a guest kernel into guest memory and describe how the
 * bootstrap vCPU must start. Two protocols:
 *   - PVH: an ELF (ELF64 or ELF32; a Linux vmlinux, or any kernel) that
 *     carries the XEN_ELFNOTE_PHYS32_ENTRY note. Entered in 32-bit
 *     protected mode without paging, EBX = struct hvm_start_info.
 *   - Linux bzImage through the 64-bit boot protocol (header >= 2.12,
 *     XLF_KERNEL_64): entered in long mode at load address + 0x200 with
 *     RSI = boot_params and identity page tables.
 * The loaders are pure functions over struct guest_mem (no KVM), so unit
 * tests run them on memory from mem__create(). Where things go in guest
 * memory is documented in boot-layout.h.
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

struct guest_mem;
struct kvm_regs;
struct kvm_sregs;

enum boot_kind {
	BOOT_KIND_NONE = 0,
	BOOT_KIND_PVH,     /* 32-bit protected mode, EBX = start_info */
	BOOT_KIND_LINUX64, /* long mode, RSI = boot_params */
};

/*
 * Result of a load: the entry state of the BSP and where things went.
 * Plain data.
 */
struct boot_info {
	enum boot_kind kind;
	uint64_t entry;        /* guest-physical entry point (EIP / RIP) */
	uint64_t params_addr;  /* start_info (PVH) or boot_params (LINUX64) */
	uint64_t cr3;          /* PML4 (LINUX64); 0 for PVH */
	uint64_t gdt_base;     /* GDT in guest memory (both kinds) */
	uint16_t gdt_limit;    /* GDT size - 1 */
	uint64_t stack_top;    /* initial RSP/ESP */
	uint64_t kernel_start; /* lowest guest-physical byte loaded */
	uint64_t kernel_end;   /* end of the kernel's footprint (exclusive) */
	uint64_t initrd_addr;  /* 0 when there is no initrd */
	uint64_t initrd_size;
	uint64_t cmdline_addr;
	uint64_t cmdline_len;  /* without the NUL */
};

/* A kernel or initrd image in host memory (borrowed). */
struct boot_image {
	const uint8_t *data;
	size_t size;
	const char *name; /* for error messages (usually the path) */
};

/*
 * Read @kernel_path (and @initrd_path when it is neither NULL nor ""),
 * detect the kernel's kind (ELF with a PVH note, or bzImage) and load it
 * into @mem with @cmdline (NULL means ""). Fills @bi. On failure logs
 * one line naming the file and what is wrong, and returns -errno:
 * -ENOENT/-EACCES/... (cannot read), -ENOEXEC (not a kernel ferry can
 * boot), -EINVAL (malformed image), -E2BIG (command line too long),
 * -ENOMEM (does not fit into guest RAM). Nothing outside guest RAM is
 * ever written; guest RAM may be partly written on failure.
 */
int boot__load(struct guest_mem *mem, const char *kernel_path,
	       const char *initrd_path, const char *cmdline,
	       struct boot_info *bi) __must_check;

/*
 * Tell the kernel loaded into @bi where the ACPI RSDP is: start_info's
 * rsdp_paddr (PVH) or boot_params.acpi_rsdp_addr (bzImage; read from
 * boot protocol 2.14 on, older kernels scan the BIOS area). Returns 0 or
 * -EFAULT / -EINVAL.
 */
int boot__set_acpi_rsdp(struct guest_mem *mem, const struct boot_info *bi,
			uint64_t rsdp) __must_check;

/*
 * Same as boot__load() on images already in host memory. @initrd may be
 * NULL. The images are only read.
 */
int boot__load_image(struct guest_mem *mem, const struct boot_image *kernel,
		     const struct boot_image *initrd, const char *cmdline,
		     struct boot_info *bi) __must_check;

/*
 * Turn @bi into the BSP's initial register state. The caller fills
 * @sregs with KVM_GET_SREGS first; this modifies only CS/DS/ES/FS/GS/SS,
 * the GDT register, CR0, CR3, CR4 and EFER (LME/LMA), and leaves TR, LDT,
 * IDT, APIC base and the interrupt bitmap as KVM reset them (KVM's reset
 * TR is a busy 32-bit TSS, which is what the PVH ABI asks for). @regs is
 * overwritten completely (zero, RFLAGS = 0x2 reserved bit, RIP, RSP, and
 * EBX or RSI). Then the caller does KVM_SET_SREGS and KVM_SET_REGS.
 * Returns 0, or -EINVAL for an unknown kind.
 */
int boot__bsp_regs(const struct boot_info *bi, struct kvm_regs *regs,
		   struct kvm_sregs *sregs) __must_check;

#endif /* VMM_BOOT_H */
