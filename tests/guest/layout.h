/*
 * layout.h: constants shared by the test guest's assembly and C code:
 * segment selectors, per-CPU stack and TSS sizes, IDT vectors, control
 * register bits and the flags of the static identity page tables. It is
 * included from .S files, so it holds only #defines.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* PVH loads the image here (see guest.lds): the first byte above legacy low memory. */
#define GUEST_LOAD_ADDR 0x100000

/* Highest number of vCPUs smp mode handles (ferry's CONFIG_MAX_VCPUS). */
#define GUEST_MAX_CPUS 64

/* GDT selectors; the order is fixed by the table in tables.S. */
#define SEL_KCODE 0x08 /* 64-bit code, DPL 0 */
#define SEL_KDATA 0x10 /* flat data, DPL 0 */
#define SEL_UDATA 0x18 /* flat data, DPL 3 */
#define SEL_UCODE 0x20 /* 64-bit code, DPL 3 */
#define SEL_TSS0 0x28  /* first of GUEST_MAX_CPUS 16-byte TSS descriptors */
#define SEL_RPL3 3     /* requested privilege level 3 in a selector */
#define GDT_SIZE (SEL_TSS0 + 16 * GUEST_MAX_CPUS)

/* Per-CPU stacks (arrays in .bss, indexed by the CPU's slot). */
#define KSTACK_SHIFT 12 /* 4 KiB: only exception reports run at CPL0 */
#define KSTACK_SIZE (1 << KSTACK_SHIFT)
#define USTACK_SHIFT 14 /* 16 KiB: all guest work runs at CPL3 */
#define USTACK_SIZE (1 << USTACK_SHIFT)

/*
 * One 64-bit TSS per CPU (104 bytes, padded to TSS_STRIDE), followed by
 * one I/O permission bitmap that all of them share: each TSS's I/O map
 * base points past the end of the TSS array (the base is an offset from
 * that TSS, so it is TSS_STRIDE smaller per slot), and each TSS's limit
 * reaches the bitmap's 0xff terminator byte. The bitmap opens ports
 * 0-0x3ff (legacy devices) and 0xcf8-0xcff (PCI configuration mechanism
 * #1) and closes 0x400-0xcf7; ports above 0xcff lie beyond it (closed).
 */
#define TSS_STRIDE 256
#define TSS_HW_SIZE 104   /* the 64-bit TSS proper */
#define TSS_IOMAP_OFF 102 /* offset of the I/O map base field */
#define TSS_IOMAP_LEGACY_PORTS 0x400 /* ports 0..0x3ff are open to CPL3 */
#define TSS_IOMAP_PCI_PORT 0xcf8 /* ...and the 8 ports 0xcf8..0xcff */
#define TSS_IOMAP_BYTES ((TSS_IOMAP_PCI_PORT + 8) / 8) /* one bit per port */
/* I/O map base and limit (terminator included) of slot @i's TSS. */
#define TSS_IOMAP_BASE(i) ((GUEST_MAX_CPUS - (i)) * TSS_STRIDE)
#define TSS_LIMIT(i) (TSS_IOMAP_BASE(i) + TSS_IOMAP_BYTES)

/*
 * IDT: the 32 architectural exceptions, vectors 32..IRQ_VECTOR_BASE-1
 * not present, then IRQ_VECTORS interrupt vectors for device interrupts
 * (MSI/MSI-X, or INTx through the IOAPIC). Interrupts are only enabled
 * by modes that program a device (guest__irq_enable()); each vector's
 * CPL0 handler records the TSC, counts the interrupt and sends the xAPIC
 * EOI (tables.S), which the xAPIC also broadcasts to the IOAPIC for a
 * level-triggered (INTx) vector.
 */
#define IDT_VECTORS 32
#define STUB_SIZE 16 /* bytes per exception stub in .boot.stubs */
#define IRQ_VECTOR_BASE 0x40
#define IRQ_VECTORS 8
#define IDT_ENTRIES (IRQ_VECTOR_BASE + IRQ_VECTORS)
#define IRQ_STUBS_OFF 0x400 /* from exc_stubs: after exc_common, same 4 KiB page */
#define IRQ_STUB_SIZE 64
#define LAPIC_EOI_ADDR 0xfee000b0 /* xAPIC EOI register (default base) */

/*
 * RFLAGS for CPL3: IOPL=3 (bits 12-13) for port I/O, bit 1 is
 * reserved-one, IF=0. The software KVM ignores IOPL for CPL3 (RFLAGS
 * reads back IOPL=0), so the TSS I/O bitmap above opens the ports too.
 */
#define RFLAGS_USER 0x3002
#define RFLAGS_IF 0x200 /* set and cleared on request: guest__irq_enable() */

/* Control registers and MSRs used on the way to long mode. */
#define CR0_PE 0x00000001
#define CR0_ET 0x00000010
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100

/*
 * Page-table entry bits. Entries are built with Accessed (and Dirty for
 * leaves) already set so the CPU never has to write them back.
 */
#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_U 0x004
#define PTE_A 0x020
#define PTE_D 0x040
#define PTE_PS 0x080 /* 2 MiB page in a PD entry */
#define PTE_TABLE (PTE_P | PTE_W | PTE_U | PTE_A)
#define PTE_LARGE (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | PTE_PS)

/* The image maps this many GiB statically (2 MiB pages, one PD per GiB). */
#define PT_STATIC_GIB 4

/* Ports. */
#define PORT_COM1 0x3f8       /* 8250/16550 data register */
#define PORT_COM1_LSR 0x3fd   /* line status register */
#define PORT_DEBUG_EXIT 0xf4  /* isa-debug-exit: VMM exits (v << 1) | 1 */

#endif /* GUEST_LAYOUT_H */
