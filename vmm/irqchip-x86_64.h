/*
 * irqchip-x86_64.h: the in-kernel interrupt controllers (PIC, IOAPIC,
 * LAPIC) and PIT, created once per VM.
 */
#ifndef VMM_IRQCHIP_X86_64_H
#define VMM_IRQCHIP_X86_64_H

/* IOAPIC MMIO base and its GSI count with KVM's in-kernel IOAPIC. */
#define IRQCHIP_IOAPIC_ADDR 0xfec00000ULL
#define IRQCHIP_IOAPIC_PINS 24

/*
 * Create the in-kernel irqchip and PIT2 on VM fd @vm_fd, and place the
 * TSS/identity-map pages KVM needs for real-mode emulation on some
 * hosts. Returns 0 or -errno after logging.
 */
int irqchip__create(int vm_fd);

#endif /* VMM_IRQCHIP_X86_64_H */
