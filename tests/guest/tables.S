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
/*
 * Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS (struct
 * fault_frame). A #UD at ud2_irq_on or ud2_irq_off (entry.S) is CPL3
 * asking for interrupts on or off, since it cannot execute sti/cli
 * itself: set or clear IF in the saved RFLAGS, step over the ud2 and
 * return. Everything else is reported by fault__report().
 */
#define VEC_UD 6
#define FRAME_RIP 16
#define FRAME_RFLAGS 32
exc_common:
	cmpq	$VEC_UD, (%rsp)
	je	exc_ud
exc_report:
	cld
	mov	%rsp, %rdi
	and	$-16, %rsp
	call	fault__report			/* does not return */
	int3
exc_ud:
	cmpq	$ud2_irq_on, FRAME_RIP(%rsp)
	jne	1f
	orq	$RFLAGS_IF, FRAME_RFLAGS(%rsp)
	jmp	2f
1:	cmpq	$ud2_irq_off, FRAME_RIP(%rsp)
	jne	exc_report
	andq	$~RFLAGS_IF, FRAME_RFLAGS(%rsp)
2:	addq	$2, FRAME_RIP(%rsp)		/* ud2 is two bytes */
	add	$16, %rsp			/* vector and error code */
	iretq

/*
 * Device interrupt handlers, one per vector IRQ_VECTOR_BASE + k, at
 * exc_stubs + IRQ_STUBS_OFF + k * IRQ_STUB_SIZE. Each records the TSC
 * in irq_tsc[k], counts the interrupt in irq_count[k] (both read by CPL3
 * code) and sends the xAPIC EOI: 11 emulated instructions.
 */
	.org	IRQ_STUBS_OFF
	.set	k, 0
	.rept	IRQ_VECTORS
	.org	IRQ_STUBS_OFF + k * IRQ_STUB_SIZE
	push	%rax
	push	%rdx
	rdtsc
	mov	%eax, irq_tsc + 8 * k(%rip)
	mov	%edx, irq_tsc + 8 * k + 4(%rip)
	incl	irq_count + 4 * k(%rip)
	mov	$LAPIC_EOI_ADDR, %eax		/* zero-extends into %rax */
	movl	$0, (%rax)
	pop	%rdx
	pop	%rax
	iretq
	.set	k, k + 1
	.endr
	.if	IRQ_STUBS_OFF + IRQ_VECTORS * IRQ_STUB_SIZE > 4096
	.error	"IRQ stubs must stay in the 4 KiB page of exc_stubs (see guest.lds)"
	.endif

	.data
	.balign 8
	.globl	irq_tsc, irq_count
irq_tsc:
	.fill	IRQ_VECTORS, 8, 0
irq_count:
	.fill	IRQ_VECTORS, 4, 0

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
	.word	TSS_LIMIT(i)			/* < 64 KiB: limit 19:16 stay 0 */
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
	.fill	(IRQ_VECTOR_BASE - IDT_VECTORS) * 2, 8, 0 /* not present: #NP */
	.set	k, 0
	.rept	IRQ_VECTORS
	.word	stubs_lo16 + IRQ_STUBS_OFF + k * IRQ_STUB_SIZE
	.word	SEL_KCODE
	.byte	0
	.byte	0x8e				/* interrupt gate: IF=0 inside */
	.word	stubs_hi16
	.long	0
	.long	0
	.set	k, k + 1
	.endr
idt_end:
	.if	idt_end - idt != IDT_ENTRIES * 16
	.error	"IDT_ENTRIES in layout.h does not match the table"
	.endif

	.balign 8
	.globl	idt_ptr
idt_ptr:
	.word	idt_end - idt - 1
	.quad	idt
	.globl	null_idt_ptr
null_idt_ptr:
	.word	0
	.quad	0

/*
 * TSSs: RSP0 (this slot's kernel stack) and the I/O map base, which
 * points at the bitmap after the array that all TSSs share (layout.h).
 */
	.section .boot.tss, "aw", @progbits
	.globl	tss
tss:
	.set	i, 0
	.rept	GUEST_MAX_CPUS
	.org	i * TSS_STRIDE
	.long	0
	.quad	kstacks + (i + 1) * KSTACK_SIZE	/* RSP0 */
	.org	i * TSS_STRIDE + TSS_IOMAP_OFF
	.word	TSS_IOMAP_BASE(i)		/* the shared bitmap below */
	.set	i, i + 1
	.endr
	.org	GUEST_MAX_CPUS * TSS_STRIDE
iomap:						/* 0 bits: ports allowed */
	.fill	TSS_IOMAP_LEGACY_PORTS / 8, 1, 0
	.fill	(TSS_IOMAP_PCI_PORT - TSS_IOMAP_LEGACY_PORTS) / 8, 1, 0xff
	.byte	0				/* 0xcf8..0xcff */
	.byte	0xff				/* terminator */
	.if	. - iomap != TSS_IOMAP_BYTES + 1
	.error	"I/O bitmap size does not match TSS_IOMAP_BYTES"
	.endif

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
