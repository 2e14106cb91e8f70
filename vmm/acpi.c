/*
 * acpi.c: ferry's ACPI tables (see acpi.h for what and why). Offsets and
 * field layouts are those of the ACPI specification (6.x): the RSDP's
 * checksum covers its first 20 bytes and the extended checksum all 36;
 * every other table starts with the 36-byte system description header
 * and sums to zero over its whole length. All tables are built in host
 * memory and copied into guest RAM once, through mem__write.
 */
#include "vmm/acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/fw-table.h"
#include "vmm/mem.h"
#include "vmm/mptable.h"
#include "vmm/util.h"

#define SDT_HDR_LEN 36
#define RSDP_LEN 36      /* revision 2 */
#define RSDP_V1_LEN 20   /* what the first checksum covers */
#define FADT_LEN 276     /* FADT major version 6 */
#define FADT_REVISION 6
#define MADT_REVISION 4  /* ACPI 6.0 */
#define TABLE_ALIGN 16   /* the RSDP must be; the rest for tidiness */

/* FADT field offsets. */
#define FADT_DSDT 40
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_HYPERVISOR_ID 268
/* IAPC_BOOT_ARCH: legacy devices (the UART), an 8042 (ferry's reset
 * path), no VGA, no CMOS RTC. */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

/* MADT. */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_PCAT_COMPAT 1u /* dual 8259s are present (KVM's PIC) */
#define MADT_ENTRIES 44
#define MADT_T_LAPIC 0      /* 8 bytes */
#define MADT_T_IOAPIC 1     /* 12 bytes */
#define MADT_T_ISO 2        /* interrupt source override, 10 bytes */
#define MADT_T_LAPIC_NMI 4  /* 6 bytes */
#define MADT_LAPIC_ENABLED 1u
#define ACPI_UID_ALL 0xff   /* LAPIC NMI: every processor */
#define LINT1 1             /* NMI is wired to LINT1, as in the MP table */

static void sdt_header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	fw_table__put32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "FERRY ", 6);   /* OEM ID */
	memcpy(p + 16, "FERRYVMM", 8); /* OEM table ID */
	fw_table__put32(p + 24, 1);              /* OEM revision */
	memcpy(p + 28, "FRRY", 4);     /* creator ID */
	fw_table__put32(p + 32, 1);              /* creator revision */
}

static void sdt_finish(uint8_t *p)
{
	uint32_t len;

	memcpy(&len, p + 4, 4);
	p[9] = 0;
	p[9] = fw_table__checksum(p, len);
}

static unsigned int madt_len(const struct acpi_config *cfg)
{
	return MADT_ENTRIES + 8 * cfg->nr_cpus + 12 +
	       (cfg->irq0_to_pin2 ? 10 : 0) + 6;
}

static void build_madt(uint8_t *p, const struct acpi_config *cfg)
{
	uint8_t *e = p + MADT_ENTRIES;
	unsigned int i;

	sdt_header(p, "APIC", madt_len(cfg), MADT_REVISION);
	fw_table__put32(p + MADT_LAPIC_ADDR, MPTABLE_LAPIC_ADDR);
	fw_table__put32(p + MADT_FLAGS, MADT_PCAT_COMPAT);
	for (i = 0; i < cfg->nr_cpus; i++, e += 8) {
		e[0] = MADT_T_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC id */
		fw_table__put32(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_T_IOAPIC;
	e[1] = 12;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	fw_table__put32(e + 4, MPTABLE_IOAPIC_ADDR);
	fw_table__put32(e + 8, 0); /* GSI base: pins 0..23 are GSIs 0..23 */
	e += 12;
	if (cfg->irq0_to_pin2) {
		e[0] = MADT_T_ISO;
		e[1] = 10;
		e[2] = 0; /* bus: ISA */
		e[3] = 0; /* source: IRQ 0 */
		fw_table__put32(e + 4, 2);
		fw_table__put16(e + 8, 0); /* conforms to the bus: edge, high */
		e += 10;
	}
	e[0] = MADT_T_LAPIC_NMI;
	e[1] = 6;
	e[2] = ACPI_UID_ALL;
	fw_table__put16(e + 3, 0); /* conforms to the bus */
	e[5] = LINT1;
	sdt_finish(p);
}

static void build_fadt(uint8_t *p, uint64_t dsdt)
{
	sdt_header(p, "FACP", FADT_LEN, FADT_REVISION);
	fw_table__put32(p + FADT_DSDT, (uint32_t)dsdt);
	fw_table__put16(p + FADT_IAPC_BOOT_ARCH,
	      IAPC_LEGACY_DEVICES | IAPC_8042 | IAPC_VGA_NOT_PRESENT |
		      IAPC_CMOS_RTC_NOT_PRESENT);
	fw_table__put32(p + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI);
	p[FADT_MINOR_VERSION] = 0;
	fw_table__put64(p + FADT_X_DSDT, dsdt);
	memcpy(p + FADT_HYPERVISOR_ID, "FERRYVMM", 8);
	sdt_finish(p);
}

int acpi__build(uint8_t *buf, uint64_t base, const struct acpi_config *cfg)
{
	const unsigned int xsdt_off = ALIGN_UP(RSDP_LEN, TABLE_ALIGN);
	const unsigned int xsdt_len = SDT_HDR_LEN + 2 * 8;
	const unsigned int fadt_off = ALIGN_UP(xsdt_off + xsdt_len, TABLE_ALIGN);
	const unsigned int dsdt_off = ALIGN_UP(fadt_off + FADT_LEN, TABLE_ALIGN);
	const unsigned int madt_off = ALIGN_UP(dsdt_off + SDT_HDR_LEN, TABLE_ALIGN);
	unsigned int end;

	if (!cfg || cfg->nr_cpus < 1 || cfg->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	end = madt_off + madt_len(cfg);
	if (end > ACPI_TABLES_MAX)
		return -EINVAL; /* cannot happen within ACPI_MAX_CPUS */
	memset(buf, 0, end);

	/* RSDP, revision 2: the XSDT only (no RSDT). */
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, "FERRY ", 6);
	buf[15] = 2;
	fw_table__put32(buf + 20, RSDP_LEN);
	fw_table__put64(buf + 24, base + xsdt_off);
	buf[8] = fw_table__checksum(buf, RSDP_V1_LEN);
	buf[32] = fw_table__checksum(buf, RSDP_LEN);

	sdt_header(buf + xsdt_off, "XSDT", xsdt_len, 1);
	fw_table__put64(buf + xsdt_off + SDT_HDR_LEN, base + fadt_off);
	fw_table__put64(buf + xsdt_off + SDT_HDR_LEN + 8, base + madt_off);
	sdt_finish(buf + xsdt_off);

	build_fadt(buf + fadt_off, base + dsdt_off);
	/* An empty definition block: no devices described in AML. */
	sdt_header(buf + dsdt_off, "DSDT", SDT_HDR_LEN, 2);
	sdt_finish(buf + dsdt_off);
	build_madt(buf + madt_off, cfg);
	return (int)end;
}

int acpi__write(struct guest_mem *mem, const struct acpi_config *cfg,
		uint64_t *rsdp)
{
	uint8_t *buf = calloc(1, ACPI_TABLES_MAX);
	int len, ret;

	if (!buf)
		return -ENOMEM;
	len = acpi__build(buf, ACPI_TABLES_ADDR, cfg);
	if (len < 0) {
		ret = len;
		goto out;
	}
	ret = mem__write(mem, ACPI_TABLES_ADDR, buf, (size_t)len);
	if (!ret)
		*rsdp = ACPI_TABLES_ADDR;
out:
	free(buf);
	return ret;
}
