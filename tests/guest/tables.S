/*
 * tables.S: everything the CPU needs for long mode, prebuilt in the
 * image so the CPL0 path never loops: the GDT (kernel and user
 * segments plus one TSS descriptor per CPU), the TSSs, the IDT with its
 * exception stubs, and identity page tables mapping the first
 * PT_STATIC_GIB GiB with user-accessible 2 MiB pages. Fields that hold
 * split addresses (IDT offsets, TSS bases) use symbols that guest.lds
 * computes at link time (stubs_lo16, tss_lo16, ...).
 */
#include "layout.h"

/* Vectors whose exceptions push an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			(v) == 21 || (v) == 29 || (v) == 30)

/*
 * Exception stubs, one per STUB_SIZE bytes from a 4 KiB-aligned base so
 * IDT entry v can point at stubs + v * STUB_SIZE. Each pushes a zero
 * error code if the CPU did not, then the vector, and joins exc_common.
 */
	.section .boot.stubs, "ax", @progbits
	.code64
	.globl	exc_stubs
exc_stubs:
	.set	vec, 0
	.rept	32
	.org	vec * STUB_SIZE
	.if	!HAS_ERRCODE(vec)
	pushq	$0
	.endif
	pushq	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr

	.org	IDT_VECTORS * STUB_SIZE
/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS (struct fault_frame). */
exc_common:
	cld
	mov	%rsp, %rdi
	and	$-16, %rsp
	call	fault__report			/* does not return */
	int3

	.data
	.balign 16
	.globl	gdt
gdt:
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x08: code, L=1, DPL 0 */
	.quad	0x00cf92000000ffff		/* 0x10: data, DPL 0 */
	.quad	0x00cff2000000ffff		/* 0x18: data, DPL 3 */
	.quad	0x00affa000000ffff		/* 0x20: code, L=1, DPL 3 */
	.set	i, 0
	.rept	GUEST_MAX_CPUS			/* 0x28 + 16 * i: TSS of slot i */
	.word	TSS_LIMIT
	.word	tss_lo16 + i * TSS_STRIDE	/* base 15:0 (no carry: see guest.lds) */
	.byte	tss_b2				/* base 23:16 */
	.byte	0x89				/* present, 64-bit TSS, available */
	.byte	0
	.byte	tss_b3				/* base 31:24 */
	.long	0				/* base 63:32 */
	.long	0
	.set	i, i + 1
	.endr
gdt_end:
	.if	gdt_end - gdt != GDT_SIZE
	.error	"GDT_SIZE in layout.h does not match the table"
	.endif

	.balign 8
	.globl	gdt_ptr
gdt_ptr:
	.word	GDT_SIZE - 1
	.quad	gdt

	.balign 16
idt:
	.set	vec, 0
	.rept	IDT_VECTORS
	.word	stubs_lo16 + vec * STUB_SIZE	/* offset 15:0 (no carry: see guest.lds) */
	.word	SEL_KCODE
	.byte	0				/* no IST */
	.byte	0x8e				/* present, DPL 0, interrupt gate */
	.word	stubs_hi16			/* offset 31:16 */
	.long	0				/* offset 63:32 */
	.long	0
	.set	vec, vec + 1
	.endr
idt_end:

	.balign 8
	.globl	idt_ptr
idt_ptr:
	.word	idt_end - idt - 1
	.quad	idt
	.globl	null_idt_ptr
null_idt_ptr:
	.word	0
	.quad	0

/* TSSs: RSP0 (this slot's kernel stack) and the I/O permission bitmap. */
	.section .boot.tss, "aw", @progbits
	.globl	tss
tss:
	.set	i, 0
	.rept	GUEST_MAX_CPUS
	.org	i * TSS_STRIDE
	.long	0
	.quad	kstacks + (i + 1) * KSTACK_SIZE	/* RSP0 */
	.org	i * TSS_STRIDE + TSS_IOMAP_OFF
	.word	TSS_HW_SIZE			/* I/O bitmap right after the TSS */
	.fill	TSS_IOMAP_PORTS / 8, 1, 0	/* 0 bits: ports allowed */
	.byte	0xff				/* terminator */
	.set	i, i + 1
	.endr
	.org	GUEST_MAX_CPUS * TSS_STRIDE

/* Identity page tables: PML4 -> one PDPT -> PT_STATIC_GIB PDs of 2 MiB pages. */
	.section .boot.pt, "aw", @progbits
	.balign 4096
	.globl	pml4, pdpt, pd
pml4:
	.quad	pdpt + PTE_TABLE
	.fill	511, 8, 0
pdpt:
	.set	i, 0
	.rept	PT_STATIC_GIB
	.quad	pd + i * 4096 + PTE_TABLE
	.set	i, i + 1
	.endr
	.fill	512 - PT_STATIC_GIB, 8, 0	/* higher GiBs: memtest maps them on demand */
pd:
	.set	i, 0
	.rept	PT_STATIC_GIB * 512
	.quad	(i << 21) + PTE_LARGE
	.set	i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits
