/*
 * test-acpi.c: ferry's ACPI tables as a guest reads them: the RSDP's
 * two checksums and its XSDT pointer, every table's signature, length
 * and zero checksum, the FADT's hardware-reduced flag and DSDT
 * pointers, and the MADT's local APICs (one per vCPU, ids 0..n-1), the
 * IOAPIC and the IRQ 0 override; bad CPU counts are refused; and the
 * tables land in guest RAM with the RSDP where the boot info says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/mem.h"

#define BASE 0xe0000ULL

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The table at guest address @gpa inside @buf: checked header. */
static const uint8_t *table(const uint8_t *buf, uint64_t gpa, const char *sig)
{
	const uint8_t *t;

	assert_true(gpa >= BASE && gpa < BASE + ACPI_TABLES_MAX);
	t = buf + (gpa - BASE);
	assert_memory_equal(t, sig, 4);
	assert_true(rd32(t + 4) >= 36);
	assert_true(gpa - BASE + rd32(t + 4) <= ACPI_TABLES_MAX);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	assert_memory_equal(t + 10, "FERRY ", 6);
	return t;
}

struct madt_seen {
	unsigned int lapics, ioapics, isos, nmis;
	uint8_t apic_id[ACPI_MAX_CPUS];
	uint32_t ioapic_addr, iso_gsi;
};

static void walk_madt(const uint8_t *m, struct madt_seen *s)
{
	uint32_t len = rd32(m + 4), off = 44;

	memset(s, 0, sizeof(*s));
	assert_int_equal(rd32(m + 36), 0xfee00000u);
	assert_int_equal(rd32(m + 40) & 1, 1); /* PCAT_COMPAT */
	while (off < len) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(rd32(e + 4) & 1, 1);
			s->apic_id[s->lapics++] = e[3];
			break;
		case 1:
			assert_int_equal(e[1], 12);
			s->ioapics++;
			s->ioapic_addr = rd32(e + 4);
			assert_int_equal(rd32(e + 8), 0);
			break;
		case 2:
			assert_int_equal(e[1], 10);
			s->isos++;
			s->iso_gsi = rd32(e + 4);
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[5], 1); /* LINT1 */
			s->nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(off, len);
}

static void check_tables(const uint8_t *buf, const struct acpi_config *cfg)
{
	const uint8_t *xsdt, *fadt, *madt, *dsdt;
	struct madt_seen s;
	unsigned int i;

	/* RSDP: first 20 bytes and all 36 sum to zero; revision 2. */
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(buf, 20), 0);
	assert_int_equal(sum(buf, 36), 0);
	assert_int_equal(buf[15], 2);
	assert_int_equal(rd32(buf + 20), 36);
	xsdt = table(buf, rd64(buf + 24), "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 16);
	fadt = table(buf, rd64(xsdt + 36), "FACP");
	madt = table(buf, rd64(xsdt + 44), "APIC");
	/* FADT 6.x: hardware-reduced; both DSDT pointers agree. */
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	assert_true(rd32(fadt + 112) & (1u << 20));
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
	dsdt = table(buf, rd64(fadt + 140), "DSDT");
	assert_int_equal(rd32(dsdt + 4), 36);
	assert_memory_equal(fadt + 268, "FERRYVMM", 8);
	/* MADT: every vCPU, the IOAPIC, and the IRQ 0 wiring. */
	walk_madt(madt, &s);
	assert_int_equal(s.lapics, cfg->nr_cpus);
	for (i = 0; i < cfg->nr_cpus; i++)
		assert_int_equal(s.apic_id[i], i);
	assert_int_equal(s.ioapics, 1);
	assert_int_equal(s.ioapic_addr, 0xfec00000u);
	assert_int_equal(s.nmis, 1);
	assert_int_equal(s.isos, cfg->irq0_to_pin2 ? 1 : 0);
	if (cfg->irq0_to_pin2)
		assert_int_equal(s.iso_gsi, 2);
}

static void test_acpi__tables(void **state)
{
	static const unsigned int counts[] = { 1, 2, 4, 17, ACPI_MAX_CPUS };
	uint8_t *buf = malloc(ACPI_TABLES_MAX);
	unsigned int i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct acpi_config c = { .nr_cpus = counts[i],
					 .ioapic_id = (uint8_t)counts[i],
					 .irq0_to_pin2 = i % 2 };
		int len = acpi__build(buf, BASE, &c);

		assert_true(len > 36 && len <= (int)ACPI_TABLES_MAX);
		check_tables(buf, &c);
	}
	free(buf);
}

static void test_acpi__bad_cpu_counts(void **state)
{
	uint8_t *buf = malloc(ACPI_TABLES_MAX);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(acpi__build(buf, BASE, &(struct acpi_config){ 0 }), -EINVAL);
	assert_int_equal(acpi__build(buf, BASE,
				     &(struct acpi_config){ .nr_cpus = ACPI_MAX_CPUS + 1 }),
			 -EINVAL);
	assert_int_equal(acpi__build(buf, BASE, NULL), -EINVAL);
	free(buf);
}

/* Into guest RAM, at the address the guest is told. */
static void test_acpi__write_to_guest(void **state)
{
	struct acpi_config c = { .nr_cpus = 3, .ioapic_id = 3 };
	struct guest_mem *mem;
	uint64_t rsdp = 0;
	uint8_t *buf = malloc(ACPI_TABLES_MAX);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(mem__create(64ULL << 20, &mem), 0);
	assert_int_equal(acpi__write(mem, &c, &rsdp), 0);
	assert_int_equal(rsdp, BASE);
	assert_int_equal(mem__read(mem, BASE, buf, ACPI_TABLES_MAX), 0);
	check_tables(buf, &c);
	mem__destroy(mem);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi__tables),
		cmocka_unit_test(test_acpi__bad_cpu_counts),
		cmocka_unit_test(test_acpi__write_to_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
