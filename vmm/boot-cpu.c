/*
 * boot-cpu.c: the x86 CPU state a kernel is entered with: the boot GDT
 * (written to guest memory from the same segment definitions that are
 * loaded into the segment registers, so the two always agree), the
 * identity page tables for long-mode entry, and boot__bsp_regs(), which
 * turns a struct boot_info into KVM register state.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "vmm/boot-internal.h"
#include "vmm/boot-layout.h"
#include "vmm/mem.h"
#include "vmm/util.h"

#define X86_CR0_PE (1ULL << 0)  /* protected mode */
#define X86_CR0_ET (1ULL << 4)  /* extension type: always 1 on modern CPUs */
#define X86_CR0_PG (1ULL << 31) /* paging */
#define X86_CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)    /* long mode enable */
#define EFER_LMA (1ULL << 10)   /* long mode active */
#define X86_RFLAGS_RESERVED 0x2ULL /* bit 1 always reads as 1 */

#define PTE_P (1ULL << 0)  /* present */
#define PTE_RW (1ULL << 1) /* writable */
#define PTE_PS (1ULL << 7) /* 2 MiB page in a PD entry */
#define PAGE_4K 4096ULL
#define PAGE_2M (2ULL << 20)
#define PT_ENTRIES 512

/* Descriptor types: code execute/read accessed, data read/write accessed. */
#define SEG_TYPE_CODE 0xb
#define SEG_TYPE_DATA 0x3

static const struct kvm_segment seg_code32 = {
	.base = 0, .limit = 0xffffffff, .selector = BOOT_SEL_CODE32,
	.type = SEG_TYPE_CODE, .present = 1, .dpl = 0, .db = 1, .s = 1,
	.l = 0, .g = 1,
};

static const struct kvm_segment seg_code64 = {
	.base = 0, .limit = 0xffffffff, .selector = BOOT_SEL_CODE64,
	.type = SEG_TYPE_CODE, .present = 1, .dpl = 0, .db = 0, .s = 1,
	.l = 1, .g = 1,
};

static const struct kvm_segment seg_data = {
	.base = 0, .limit = 0xffffffff, .selector = BOOT_SEL_DATA,
	.type = SEG_TYPE_DATA, .present = 1, .dpl = 0, .db = 1, .s = 1,
	.l = 0, .g = 1,
};

/* Encode a segment as an 8-byte GDT descriptor (Intel SDM vol. 3 3.4.5). */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t base = s->base;

	return (limit & 0xffff) | (base & 0xffffff) << 16 |
	       (uint64_t)(s->type & 0xf) << 40 | (uint64_t)(s->s & 1) << 44 |
	       (uint64_t)(s->dpl & 3) << 45 | (uint64_t)(s->present & 1) << 47 |
	       ((limit >> 16) & 0xf) << 48 | (uint64_t)(s->avl & 1) << 52 |
	       (uint64_t)(s->l & 1) << 53 | (uint64_t)(s->db & 1) << 54 |
	       (uint64_t)(s->g & 1) << 55 | ((base >> 24) & 0xff) << 56;
}

int boot__write_gdt(struct guest_mem *mem, struct boot_info *bi)
{
	uint64_t gdt[BOOT_GDT_ENTRIES] = { 0 };
	int ret;

	gdt[BOOT_SEL_CODE32 / 8] = gdt_entry(&seg_code32);
	gdt[BOOT_SEL_CODE64 / 8] = gdt_entry(&seg_code64);
	gdt[BOOT_SEL_DATA / 8] = gdt_entry(&seg_data);
	ret = mem__write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
	if (ret)
		return ret;
	bi->gdt_base = BOOT_GDT_ADDR;
	bi->gdt_limit = sizeof(gdt) - 1;
	return 0;
}

int boot__write_page_tables(struct guest_mem *mem, struct boot_info *bi)
{
	uint64_t pml4[PT_ENTRIES] = { 0 }, pdpt[PT_ENTRIES] = { 0 };
	uint64_t pd[PT_ENTRIES];
	unsigned int i, j;
	int ret;

	_Static_assert(BOOT_PD_ADDR + BOOT_PD_COUNT * PAGE_4K <=
			       BOOT_CMDLINE_ADDR, "page tables overlap cmdline");
	pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
	for (i = 0; i < BOOT_PD_COUNT; i++) {
		pdpt[i] = (BOOT_PD_ADDR + i * PAGE_4K) | PTE_P | PTE_RW;
		for (j = 0; j < PT_ENTRIES; j++)
			pd[j] = ((uint64_t)i * PT_ENTRIES + j) * PAGE_2M |
				PTE_P | PTE_RW | PTE_PS;
		ret = mem__write(mem, BOOT_PD_ADDR + i * PAGE_4K, pd,
				 sizeof(pd));
		if (ret)
			return ret;
	}
	ret = mem__write(mem, BOOT_PDPT_ADDR, pdpt, sizeof(pdpt));
	if (!ret)
		ret = mem__write(mem, BOOT_PML4_ADDR, pml4, sizeof(pml4));
	if (ret)
		return ret;
	bi->cr3 = BOOT_PML4_ADDR;
	return 0;
}

static void set_data_segs(struct kvm_sregs *sregs)
{
	sregs->ds = seg_data;
	sregs->es = seg_data;
	sregs->fs = seg_data;
	sregs->gs = seg_data;
	sregs->ss = seg_data;
}

int boot__bsp_regs(const struct boot_info *bi, struct kvm_regs *regs,
		   struct kvm_sregs *sregs)
{
	if (!bi || !regs || !sregs)
		return -EINVAL;
	if (bi->kind != BOOT_KIND_PVH && bi->kind != BOOT_KIND_LINUX64)
		return -EINVAL;

	memset(regs, 0, sizeof(*regs));
	regs->rflags = X86_RFLAGS_RESERVED; /* IF clear: interrupts off */
	regs->rip = bi->entry;
	regs->rsp = bi->stack_top;

	sregs->gdt.base = bi->gdt_base;
	sregs->gdt.limit = bi->gdt_limit;
	set_data_segs(sregs);

	if (bi->kind == BOOT_KIND_PVH) {
		/* PVH ABI: 32-bit protected mode, paging off, EBX = start_info. */
		regs->rbx = bi->params_addr;
		sregs->cs = seg_code32;
		sregs->cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs->cr3 = 0;
		sregs->cr4 = 0;
		sregs->efer &= ~(EFER_LME | EFER_LMA);
	} else {
		/* Linux 64-bit boot protocol: RSI = boot_params. */
		regs->rsi = bi->params_addr;
		sregs->cs = seg_code64;
		sregs->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
		sregs->cr3 = bi->cr3;
		sregs->cr4 = X86_CR4_PAE;
		sregs->efer |= EFER_LME | EFER_LMA;
	}
	return 0;
}
