/*
 * acpi.h: the ACPI tables through which a guest finds its CPUs and its
 * interrupt controllers when it does not read the MP table (Linux
 * kernels built without CONFIG_X86_MPPARSE, and every ACPI-first OS).
 * They are written only for VMs without PCI devices (vm.c): the DSDT
 * does not describe the PCI bus yet. ferry is a hardware-reduced ACPI
 * platform: an RSDP (revision 2), an
 * XSDT, a FADT with HW_REDUCED_ACPI (no PM blocks, no SCI, no FACS), an
 * empty DSDT, and a MADT with one local APIC per vCPU (APIC id = vCPU
 * index, as in the MP table), the IOAPIC, and the same ISA IRQ 0 wiring
 * as the MP table. PCI devices are found by configuration mechanism #1
 * and their INTx lines through the Interrupt Line register (there is no
 * _PRT); they use MSI/MSI-X first anyway. The tables live in the BIOS
 * area at ACPI_TABLES_ADDR (reserved in the e820 map, below the MP
 * table's ROM fallback at 0xf0000) with the RSDP first, so guests that
 * scan 0xe0000-0xfffff for "RSD PTR " find it too; PVH and bzImage
 * guests are also told its address (boot__set_acpi_rsdp).
 */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define ACPI_TABLES_ADDR 0xe0000ULL /* the RSDP, then the tables */
#define ACPI_TABLES_MAX 0x10000u    /* up to 0xf0000 (MP table ROM area) */
#define ACPI_MAX_CPUS 64            /* ferry's CONFIG_MAX_VCPUS */

struct acpi_config {
	unsigned int nr_cpus;   /* 1..ACPI_MAX_CPUS; APIC ids 0..n-1 */
	uint8_t ioapic_id;      /* the MP table's (nr_cpus) */
	bool irq0_to_pin2;      /* ISA IRQ 0 on IOAPIC pin 2 (see mptable.h) */
};

/*
 * Write the tables for @cfg into @mem at ACPI_TABLES_ADDR and return the
 * RSDP's guest-physical address in *@rsdp. Returns 0, -EINVAL (bad cpu
 * count) or -EFAULT (the area is not guest RAM).
 */
int acpi__write(struct guest_mem *mem, const struct acpi_config *cfg,
		uint64_t *rsdp);

/*
 * Build the same tables into @buf (at least ACPI_TABLES_MAX bytes) as
 * if placed at @base; returns the bytes used or -EINVAL. For tests.
 */
int acpi__build(uint8_t *buf, uint64_t base, const struct acpi_config *cfg);

#endif /* VMM_ACPI_H */
