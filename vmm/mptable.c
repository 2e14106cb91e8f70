/*
 * mptable.c: builds the MP Specification 1.4 floating pointer and base
 * configuration table (processors, buses, IOAPIC, I/O and local
 * interrupt assignments) in a host buffer, checksums it, and copies it
 * into guest memory at the addresses described in mptable.h.
 */
#include "vmm/mptable.h"

#include <errno.h>
#include <string.h>

#include "vmm/fw-table.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/util.h"

#define MP_SPEC_REV 4 /* MP Specification 1.4 */

/* Entry types and sizes (MP spec 4.3). */
#define MP_ENT_PROC 0
#define MP_ENT_BUS 1
#define MP_ENT_IOAPIC 2
#define MP_ENT_IOINT 3
#define MP_ENT_LINT 4
#define MP_PROC_SIZE 20
#define MP_ENT_SIZE 8 /* every other entry type */
#define MP_FP_SIZE 16
#define MP_HDR_SIZE 44

#define MP_CPU_EN 0x01 /* processor usable */
#define MP_CPU_BP 0x02 /* bootstrap processor */
#define MP_IOAPIC_EN 0x01
#define MP_LAPIC_VERSION 0x14  /* integrated APIC, as KVM reports */
#define MP_IOAPIC_VERSION 0x11 /* 82093AA-compatible, KVM's IOAPIC */

#define MP_INT_INT 0    /* vectored interrupt through the IOAPIC */
#define MP_INT_NMI 1
#define MP_INT_EXTINT 3 /* 8259A-compatible interrupt */
#define MP_IRQ_FLAGS_CONFORM 0x0 /* polarity/trigger per bus (ISA: edge high) */
#define MP_IRQ_FLAGS_PCI 0xf     /* active low (3) | level (3 << 2) */
#define MP_LAPIC_ALL 0xff        /* destination: every local APIC */

#define MP_DEFAULT_SIGNATURE 0x600 /* family 6, model 0, stepping 0 */
#define MP_DEFAULT_FEATURES 0x201  /* CPUID.1 EDX: FPU (bit 0), APIC (bit 9) */
#define ISA_IRQS 16

/* BIOS data area: EBDA segment and base memory size in KiB. */
#define BDA_EBDA_SEG 0x40e
#define BDA_BASE_KB 0x413
#define EBDA_SIZE 0x400       /* the MP spec's "first KiB of the EBDA" */
#define ROM_AREA_SIZE 0x10000 /* 0xf0000..0x100000 */

/* Largest table the limits of mptable.h allow: 2516 bytes. */
#define MP_TABLE_MAX                                                   \
	(MP_HDR_SIZE + MPTABLE_MAX_CPUS * MP_PROC_SIZE +                \
	 (2 + 1 + ISA_IRQS + MPTABLE_MAX_PCI_IRQS + 2) * MP_ENT_SIZE)
_Static_assert(MP_TABLE_MAX <= 4096, "MP table buffer");
_Static_assert(MP_TABLE_MAX <= ROM_AREA_SIZE, "MP table fits the BIOS area");

static unsigned int isa_bus_id(const struct mptable_config *cfg)
{
	return cfg->pci ? MPTABLE_BUS_PCI + 1 : 0;
}

unsigned int mptable__table_size(const struct mptable_config *cfg)
{
	unsigned int n = MP_HDR_SIZE + cfg->nr_cpus * MP_PROC_SIZE;

	n += (cfg->pci ? 2 : 1) * MP_ENT_SIZE;           /* buses */
	n += MP_ENT_SIZE;                                 /* IOAPIC */
	n += (ISA_IRQS - (cfg->irq0_to_pin2 ? 1 : 0)) * MP_ENT_SIZE;
	n += cfg->nr_pci_irqs * MP_ENT_SIZE;
	n += 2 * MP_ENT_SIZE;                             /* LINT0, LINT1 */
	return n;
}

static uint8_t *put_ioint(uint8_t *p, uint8_t type, uint16_t flags,
			  uint8_t bus, uint8_t bus_irq, uint8_t ioapic_id,
			  uint8_t pin)
{
	p[0] = MP_ENT_IOINT;
	p[1] = type;
	fw_table__put16(p + 2, flags);
	p[4] = bus;
	p[5] = bus_irq;
	p[6] = ioapic_id;
	p[7] = pin;
	return p + MP_ENT_SIZE;
}

static int check_config(const struct mptable_config *cfg)
{
	unsigned int i;

	if (cfg->nr_cpus < 1 || cfg->nr_cpus > MPTABLE_MAX_CPUS) {
		log_err("mptable: %u CPUs (want 1..%u)", cfg->nr_cpus,
			MPTABLE_MAX_CPUS);
		return -EINVAL;
	}
	if (cfg->nr_pci_irqs > MPTABLE_MAX_PCI_IRQS ||
	    (cfg->nr_pci_irqs && !cfg->pci)) {
		log_err("mptable: %u PCI interrupt entries%s", cfg->nr_pci_irqs,
			cfg->pci ? " (too many)" : " without a PCI bus");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_pci_irqs; i++) {
		const struct mptable_pci_irq *q = &cfg->pci_irqs[i];

		if (q->device > 31 || q->pin < 1 || q->pin > 4 ||
		    q->ioapic_pin >= MPTABLE_IOAPIC_PINS) {
			log_err("mptable: PCI entry %u (device %u pin %u -> "
				"IOAPIC pin %u) out of range", i, q->device,
				q->pin, q->ioapic_pin);
			return -EINVAL;
		}
	}
	return 0;
}

/* Fill the configuration table for @cfg at @t (which lives at @addr). */
static void build_table(const struct mptable_config *cfg, uint8_t *t,
			unsigned int len)
{
	uint8_t ioapic_id = (uint8_t)cfg->nr_cpus;
	uint8_t isa = (uint8_t)isa_bus_id(cfg);
	uint8_t *p = t + MP_HDR_SIZE;
	unsigned int i, entries = 0;

	for (i = 0; i < cfg->nr_cpus; i++, entries++) {
		p[0] = MP_ENT_PROC;
		p[1] = (uint8_t)i; /* local APIC id = vCPU index */
		p[2] = MP_LAPIC_VERSION;
		p[3] = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0);
		fw_table__put32(p + 4, cfg->cpu_signature ? cfg->cpu_signature
						: MP_DEFAULT_SIGNATURE);
		fw_table__put32(p + 8, cfg->cpu_features ? cfg->cpu_features
					       : MP_DEFAULT_FEATURES);
		p += MP_PROC_SIZE;
	}
	if (cfg->pci) {
		p[0] = MP_ENT_BUS;
		p[1] = MPTABLE_BUS_PCI;
		memcpy(p + 2, "PCI   ", 6);
		p += MP_ENT_SIZE;
		entries++;
	}
	p[0] = MP_ENT_BUS;
	p[1] = isa;
	memcpy(p + 2, "ISA   ", 6);
	p += MP_ENT_SIZE;
	entries++;

	p[0] = MP_ENT_IOAPIC;
	p[1] = ioapic_id;
	p[2] = MP_IOAPIC_VERSION;
	p[3] = MP_IOAPIC_EN;
	fw_table__put32(p + 4, MPTABLE_IOAPIC_ADDR);
	p += MP_ENT_SIZE;
	entries++;

	for (i = 0; i < ISA_IRQS; i++) {
		uint8_t pin = (uint8_t)i;

		if (cfg->irq0_to_pin2 && i == 2)
			continue;
		if (cfg->irq0_to_pin2 && i == 0)
			pin = 2;
		p = put_ioint(p, MP_INT_INT, MP_IRQ_FLAGS_CONFORM, isa,
			      (uint8_t)i, ioapic_id, pin);
		entries++;
	}
	for (i = 0; i < cfg->nr_pci_irqs; i++) {
		const struct mptable_pci_irq *q = &cfg->pci_irqs[i];

		/* PCI source irq: device number in bits 2..6, INTx# in 0..1. */
		p = put_ioint(p, MP_INT_INT, MP_IRQ_FLAGS_PCI, MPTABLE_BUS_PCI,
			      (uint8_t)(q->device << 2 | (q->pin - 1)),
			      ioapic_id, q->ioapic_pin);
		entries++;
	}
	/* LINT0 = ExtINT (virtual wire to the 8259), LINT1 = NMI. */
	for (i = 0; i < 2; i++) {
		p[0] = MP_ENT_LINT;
		p[1] = i == 0 ? MP_INT_EXTINT : MP_INT_NMI;
		fw_table__put16(p + 2, MP_IRQ_FLAGS_CONFORM);
		p[4] = isa;
		p[5] = 0;
		p[6] = MP_LAPIC_ALL;
		p[7] = (uint8_t)i;
		p += MP_ENT_SIZE;
		entries++;
	}

	memcpy(t, "PCMP", 4);
	fw_table__put16(t + 4, (uint16_t)len);
	t[6] = MP_SPEC_REV;
	memcpy(t + 8, "FERRY   ", 8);      /* OEM id, space padded */
	memcpy(t + 16, "FERRY VM    ", 12); /* product id, space padded */
	fw_table__put16(t + 34, (uint16_t)entries);
	fw_table__put32(t + 36, MPTABLE_LAPIC_ADDR);
	t[7] = fw_table__checksum(t, len);
}

int mptable__write(struct guest_mem *mem, const struct mptable_config *cfg)
{
	uint8_t table[MP_TABLE_MAX];
	uint8_t fp[MP_FP_SIZE] = { 0 };
	uint64_t table_addr;
	unsigned int len;
	uint16_t ebda_seg = MEM_EBDA_START >> 4, base_kb = MEM_EBDA_START >> 10;
	int ret;

	ret = check_config(cfg);
	if (ret)
		return ret;
	len = mptable__table_size(cfg);
	if (len > sizeof(table)) {
		log_err("mptable: %u-byte table does not fit the BIOS area",
			len);
		return -ENOSPC;
	}
	table_addr = MP_FP_SIZE + len <= EBDA_SIZE ? MEM_EBDA_START + MP_FP_SIZE
						   : MPTABLE_ROM_ADDR;
	memset(table, 0, len);
	build_table(cfg, table, len);

	memcpy(fp, "_MP_", 4);
	fw_table__put32(fp + 4, (uint32_t)table_addr);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = MP_SPEC_REV;
	/* Feature bytes 1..5 zero: a config table is present; virtual wire. */
	fp[10] = fw_table__checksum(fp, MP_FP_SIZE);

	ret = mem__write(mem, table_addr, table, len);
	if (!ret)
		ret = mem__write(mem, MEM_EBDA_START, fp, sizeof(fp));
	if (!ret)
		ret = mem__write(mem, BDA_EBDA_SEG, &ebda_seg, sizeof(ebda_seg));
	if (!ret)
		ret = mem__write(mem, BDA_BASE_KB, &base_kb, sizeof(base_kb));
	if (ret) {
		log_err("mptable: cannot write to guest memory at 0x%llx",
			(unsigned long long)table_addr);
		return ret;
	}
	return 0;
}
