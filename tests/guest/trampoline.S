/*
 * trampoline.S: the AP start-up code. smp.c copies the bytes between
 * ap_tramp_start and ap_tramp_end to a free page below 1 MiB and sends
 * INIT-SIPI-SIPI with that page as the vector. The AP starts in real
 * mode at offset 0 of the page and goes straight to long mode (PAE,
 * CR3, EFER.LME, then CR0.PE and CR0.PG together) using the BSP's GDT
 * and page tables; ap_long_entry (entry.S) does the rest. It runs
 * emulated, so it is as short as possible. It is position-independent
 * in real mode: it only addresses its own page through %ds = %cs.
 */
#include "layout.h"

	.section .rodata, "a", @progbits
	.code16
	.globl	ap_tramp_start, ap_tramp_end
ap_tramp_start:
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	ap_gdt_ptr - ap_tramp_start
	mov	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	xor	%edx, %edx			/* INIT leaves the CPU signature in %edx */
	mov	$EFER_LME, %eax
	wrmsr
	mov	$(CR0_PG | CR0_ET | CR0_PE), %eax
	mov	%eax, %cr0
	ljmpl	$SEL_KCODE, $ap_long_entry
	.balign	4
ap_gdt_ptr:					/* 32-bit form: limit, base */
	.word	GDT_SIZE - 1
	.long	gdt
ap_tramp_end:
	.code64

	.section .note.GNU-stack, "", @progbits
