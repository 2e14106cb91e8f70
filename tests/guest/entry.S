/*
 * entry.S: the PVH entry point and the short CPL0 path. The VMM enters
 * pvh_entry32 in 32-bit protected mode with paging off and %ebx holding
 * the guest-physical address of struct hvm_start_info. We load the
 * prebuilt GDT, page tables and IDT (tables.S), switch to long mode,
 * load the TSS (whose I/O bitmap opens the legacy ports to CPL3) and
 * iretq to CPL3; every instruction here is emulated (~2.2 us each on a
 * software KVM), so nothing loops: about 30 instructions in all. APs
 * arrive at ap_long_entry from the real-mode trampoline (trampoline.S)
 * and take the same way down to CPL3.
 */
#include "layout.h"

/* ELF note XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit entry point for PVH loaders. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.xen, "a", @note
	.balign 4
	.long	4				/* namesz: "Xen" plus NUL */
	.long	4				/* descsz: a 32-bit address */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign 4
	.long	pvh_entry32

	.section .boot.text, "ax", @progbits

	.code32
	.globl	pvh_entry32
pvh_entry32:
	lgdt	gdt_ptr
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$MSR_EFER, %ecx
	xor	%edx, %edx
	mov	$EFER_LME, %eax
	wrmsr
	mov	$(CR0_PG | CR0_ET | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$SEL_KCODE, $bsp_long_entry

	.code64
bsp_long_entry:
	lidt	idt_ptr
	mov	$SEL_TSS0, %ax
	ltr	%ax
	mov	$(kstacks + KSTACK_SIZE), %esp
	xor	%edi, %edi			/* slot 0: the BSP */
	mov	%ebx, %esi			/* hvm_start_info paddr */
	jmp	enter_user

/*
 * AP path, entered in long mode from the trampoline. Claim a slot (the
 * index of this CPU's TSS and stacks), load IDT and TSS, then go to CPL3.
 */
	.globl	ap_long_entry
ap_long_entry:
	lidt	idt_ptr
	mov	$1, %edi
	lock xadd %edi, ap_next_slot
	cmp	$GUEST_MAX_CPUS, %edi
	jae	ap_no_slot
	mov	%edi, %eax
	shl	$4, %eax			/* TSS descriptors are 16 bytes */
	add	$SEL_TSS0, %eax
	ltr	%ax
	lea	1(%rdi), %eax
	shl	$KSTACK_SHIFT, %eax
	add	$kstacks, %eax
	mov	%eax, %esp
	xor	%esi, %esi			/* APs get no start info */
	jmp	enter_user
ap_no_slot:					/* more CPUs than slots: park */
	cli
1:	hlt
	jmp	1b

/*
 * %edi = slot, %esi = start info (or 0), %rsp = this slot's kernel
 * stack. Build an iretq frame to user_entry on the slot's user stack.
 */
enter_user:
	lea	1(%rdi), %eax
	shl	$USTACK_SHIFT, %eax
	add	$ustacks, %eax
	pushq	$(SEL_UDATA | SEL_RPL3)
	push	%rax
	pushq	$RFLAGS_USER
	pushq	$(SEL_UCODE | SEL_RPL3)
	pushq	$user_entry
	iretq

/* First CPL3 instruction: %rsp is 16-byte aligned, so a call fits the ABI. */
	.text
user_entry:
	call	guest__main
	jmp	ud2_reset

/*
 * CPL3 cannot halt, and this software KVM answers "int $n" from CPL3
 * with #UD, so these two ud2s are the way down: fault__report()
 * recognises their addresses and parks the CPU (cli; hlt) or resets
 * the VM (triple fault) instead of reporting an exception.
 */
	.globl	guest__park, ud2_park, ud2_reset
guest__park:
ud2_park:
	ud2
	jmp	ud2_park
ud2_reset:
	ud2
	jmp	ud2_reset

/*
 * Interrupts on and off for CPL3, which may not execute sti/cli: the
 * #UD path in tables.S recognises these two ud2s, flips RFLAGS.IF in
 * the frame and resumes at the ret (about 10 emulated instructions).
 */
	.globl	guest__irq_enable, guest__irq_disable, ud2_irq_on, ud2_irq_off
guest__irq_enable:
ud2_irq_on:
	ud2
	ret
guest__irq_disable:
ud2_irq_off:
	ud2
	ret

	.data
	.balign 4
	.globl	ap_next_slot
ap_next_slot:
	.long	1				/* slot 0 is the BSP's */

	.bss
	.balign 4096
	.globl	kstacks, ustacks
kstacks:
	.skip	GUEST_MAX_CPUS * KSTACK_SIZE
ustacks:
	.skip	GUEST_MAX_CPUS * USTACK_SIZE

	.section .note.GNU-stack, "", @progbits
