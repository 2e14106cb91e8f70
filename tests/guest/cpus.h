/*
 * cpus.h: finding the vCPUs for mode=smp. ferry describes them in an
 * Intel MP table (floating pointer "_MP_"), QEMU microvm in the ACPI
 * MADT; both give local APIC ids. Table contents come from the VMM and
 * are checked (signatures, checksums, lengths, mapped addresses) before
 * use.
 */
#ifndef GUEST_CPUS_H
#define GUEST_CPUS_H

#include <stdint.h>

#include "layout.h"

#define LAPIC_DEFAULT_BASE 0xfee00000U /* architectural xAPIC MMIO base */

struct cpu_list {
	unsigned int n;
	uint32_t apic_id[GUEST_MAX_CPUS];
	uint32_t lapic_base;  /* xAPIC MMIO address from the table */
	const char *source;   /* "ACPI MADT", "MP table", "cpus=" */
};

/*
 * Enabled processors from the MADT reached through the RSDP at @rsdp
 * (0: scan the EBDA and 0xE0000-0xFFFFF for it). Returns 0 when found,
 * 1 when there is no RSDP or MADT, -1 after printing what is malformed.
 */
int cpus__from_acpi(uint64_t rsdp, struct cpu_list *cl);

/*
 * Enabled processors from the MP table (floating pointer in the EBDA's
 * first KiB, the last KiB of base memory or 0xF0000-0xFFFFF). Same
 * returns as cpus__from_acpi().
 */
int cpus__from_mptable(struct cpu_list *cl);

/* Helpers shared by both parsers (cpus-acpi.c). */
uint8_t cpus__checksum(const void *p, uint64_t len);
int cpus__mapped(uint64_t addr, uint64_t len);
int cpus__add(struct cpu_list *cl, uint32_t apic_id);

#endif /* GUEST_CPUS_H */
