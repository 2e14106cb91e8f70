/*
 * mptable.h: the Intel MultiProcessor Specification 1.4 tables through
 * which a guest without ACPI finds its CPUs, its IOAPIC and how ISA and
 * PCI interrupts are wired. The floating pointer ("_MP_") always sits at
 * MEM_EBDA_START (0x9fc00, the first KiB of the EBDA, which Linux scans
 * and the e820 map reserves); the configuration table ("PCMP") follows
 * it there when it fits into that KiB (up to 40 vCPUs, 39 with a PCI
 * bus, fewer with PCI interrupt entries), and otherwise goes to MPTABLE_ROM_ADDR (0xf0000,
 * the BIOS area, also reserved in the e820 and also scanned by guests).
 * The BIOS data area's EBDA segment pointer (0x40e) and base memory size
 * (0x413) are written to match.
 *
 * ISA wiring: ISA IRQ n goes to IOAPIC pin n for n = 0..15 (identity),
 * because that is KVM's default GSI routing, where the in-kernel PIT
 * raises GSI 0 on IOAPIC pin 0. A VMM that installs QEMU-style routing
 * (GSI 0 -> pin 2) sets irq0_to_pin2 instead; then IRQ0 is listed on
 * pin 2 and IRQ2 (the PIC cascade) is not listed.
 */
#ifndef VMM_MPTABLE_H
#define VMM_MPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/util.h"

struct guest_mem;

#define MPTABLE_ROM_ADDR 0xf0000ULL     /* config table when the EBDA is full */
#define MPTABLE_IOAPIC_ADDR 0xfec00000U /* architectural default */
#define MPTABLE_LAPIC_ADDR 0xfee00000U  /* architectural default */
#define MPTABLE_IOAPIC_PINS 24          /* KVM's in-kernel IOAPIC */
#define MPTABLE_MAX_CPUS 64             /* ferry's CONFIG_MAX_VCPUS */
#define MPTABLE_MAX_PCI_IRQS 128        /* 32 devices x 4 pins */

/* Bus ids in the table: PCI is bus 0 when present, ISA follows it. */
#define MPTABLE_BUS_PCI 0

/* One PCI interrupt line: bus 0 device @device pin @pin -> IOAPIC pin. */
struct mptable_pci_irq {
	uint8_t device;     /* 0..31 */
	uint8_t pin;        /* 1 = INTA# .. 4 = INTD# (config space value) */
	uint8_t ioapic_pin; /* 0..MPTABLE_IOAPIC_PINS-1, level/active-low */
};

struct mptable_config {
	unsigned int nr_cpus;   /* 1..MPTABLE_MAX_CPUS; APIC ids 0..n-1 */
	uint32_t cpu_signature; /* CPUID.1 EAX; 0: family 6 */
	uint32_t cpu_features;  /* CPUID.1 EDX; 0: FPU and APIC */
	bool irq0_to_pin2;      /* see the header comment */
	bool pci;               /* add a "PCI   " bus (bus 0) */
	unsigned int nr_pci_irqs; /* entries in pci_irqs; needs pci */
	struct mptable_pci_irq pci_irqs[MPTABLE_MAX_PCI_IRQS];
};

/*
 * Write the floating pointer, the configuration table and the BDA
 * pointers for @cfg into @mem. Returns 0, -EINVAL (bad cpu count, PCI
 * entry out of range, PCI entries without pci), -ENOSPC (table larger
 * than the BIOS area; cannot happen within the limits above) or -EFAULT
 * (guest RAM smaller than 1 MiB). Logs the reason.
 */
int mptable__write(struct guest_mem *mem, const struct mptable_config *cfg)
	__must_check;

/*
 * Size in bytes of the configuration table (without the 16-byte
 * floating pointer) that mptable__write() would write for @cfg.
 */
unsigned int mptable__table_size(const struct mptable_config *cfg);

#endif /* VMM_MPTABLE_H */
