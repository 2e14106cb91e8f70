/*
 * test-mptable.c: the MP table as a guest would find and parse it:
 * floating pointer in the EBDA, checksums, entry counts and lengths,
 * processor/bus/IOAPIC/interrupt entries, placement for many CPUs, PCI
 * interrupt entries, and refusal of bad configurations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/mem.h"
#include "vmm/mptable.h"

static uint8_t sum(const uint8_t *p, unsigned int len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint16_t g16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t g32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* What a guest learns from the table. */
struct parsed {
	uint64_t table_addr;
	unsigned int cpus, bsp_count, buses, ioapics, ioints, lints;
	uint8_t cpu_id[64], cpu_flags[64];
	uint32_t cpu_sig, cpu_feat;
	uint8_t ioapic_id, ioapic_ver;
	uint32_t ioapic_addr;
	int isa_bus, pci_bus;
	uint8_t ioint[160][8];
	uint8_t lint[2][8];
};

static void parse(struct guest_mem *mem, struct parsed *r)
{
	const uint8_t *fp = mem__gpa_ptr(mem, MEM_EBDA_START, 16);
	const uint8_t *t, *p;
	unsigned int len, count, i;

	memset(r, 0, sizeof(*r));
	r->isa_bus = r->pci_bus = -1;
	assert_non_null(fp);
	assert_memory_equal(fp, "_MP_", 4);
	assert_int_equal(fp[8], 1);
	assert_int_equal(fp[9], 4);
	assert_int_equal(sum(fp, 16), 0);
	assert_int_equal(fp[11], 0); /* feature 1: a table is present */
	r->table_addr = g32(fp + 4);

	t = mem__gpa_ptr(mem, r->table_addr, 44);
	assert_non_null(t);
	assert_memory_equal(t, "PCMP", 4);
	len = g16(t + 4);
	count = g16(t + 34);
	assert_int_equal(t[6], 4);
	assert_int_equal(g32(t + 36), 0xfee00000);
	assert_int_equal(g16(t + 40), 0); /* no extended table */
	t = mem__gpa_ptr(mem, r->table_addr, len);
	assert_non_null(t);
	assert_int_equal(sum(t, len), 0);

	p = t + 44;
	for (i = 0; i < count; i++) {
		assert_true(p < t + len);
		switch (p[0]) {
		case 0:
			r->cpu_id[r->cpus] = p[1];
			r->cpu_flags[r->cpus] = p[3];
			r->bsp_count += !!(p[3] & 2);
			r->cpu_sig = g32(p + 4);
			r->cpu_feat = g32(p + 8);
			r->cpus++;
			p += 20;
			break;
		case 1:
			if (!memcmp(p + 2, "ISA   ", 6))
				r->isa_bus = p[1];
			else if (!memcmp(p + 2, "PCI   ", 6))
				r->pci_bus = p[1];
			else
				fail_msg("unknown bus type");
			r->buses++;
			p += 8;
			break;
		case 2:
			r->ioapic_id = p[1];
			r->ioapic_ver = p[2];
			assert_int_equal(p[3], 1);
			r->ioapic_addr = g32(p + 4);
			r->ioapics++;
			p += 8;
			break;
		case 3:
			memcpy(r->ioint[r->ioints++], p, 8);
			p += 8;
			break;
		case 4:
			assert_true(r->lints < 2);
			memcpy(r->lint[r->lints++], p, 8);
			p += 8;
			break;
		default:
			fail_msg("unknown entry type %u", p[0]);
		}
	}
	assert_ptr_equal(p, t + len);
}

static struct guest_mem *new_mem(void)
{
	struct guest_mem *mem;

	assert_int_equal(mem__create(32ULL << 20, &mem), 0);
	return mem;
}

static void test_basic(void **state)
{
	struct guest_mem *mem = new_mem();
	struct mptable_config cfg = { .nr_cpus = 4 };
	struct parsed r;
	unsigned int i;
	uint16_t seg, kb;

	(void)state;
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.table_addr, MEM_EBDA_START + 16);
	assert_int_equal(r.table_addr + mptable__table_size(&cfg),
			 MEM_EBDA_START + 16 + mptable__table_size(&cfg));
	assert_int_equal(r.cpus, 4);
	assert_int_equal(r.bsp_count, 1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(r.cpu_id[i], i);
		assert_int_equal(r.cpu_flags[i] & 1, 1);
	}
	assert_int_equal(r.cpu_flags[0], 3);
	assert_int_equal(r.cpu_sig, 0x600);
	assert_int_equal(r.cpu_feat, 0x201);
	assert_int_equal(r.buses, 1);
	assert_int_equal(r.isa_bus, 0);
	assert_int_equal(r.pci_bus, -1);
	assert_int_equal(r.ioapics, 1);
	assert_int_equal(r.ioapic_id, 4);
	assert_int_equal(r.ioapic_ver, 0x11);
	assert_int_equal(r.ioapic_addr, 0xfec00000);
	/* ISA IRQ n -> IOAPIC pin n, edge/high (conforming). */
	assert_int_equal(r.ioints, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(r.ioint[i][1], 0);
		assert_int_equal(g16(&r.ioint[i][2]), 0);
		assert_int_equal(r.ioint[i][4], 0);
		assert_int_equal(r.ioint[i][5], i);
		assert_int_equal(r.ioint[i][6], 4);
		assert_int_equal(r.ioint[i][7], i);
	}
	/* LINT0 ExtINT, LINT1 NMI, to every local APIC. */
	assert_int_equal(r.lints, 2);
	assert_int_equal(r.lint[0][1], 3);
	assert_int_equal(r.lint[0][6], 0xff);
	assert_int_equal(r.lint[0][7], 0);
	assert_int_equal(r.lint[1][1], 1);
	assert_int_equal(r.lint[1][7], 1);
	/* BIOS data area points at the EBDA. */
	assert_int_equal(mem__read(mem, 0x40e, &seg, 2), 0);
	assert_int_equal(mem__read(mem, 0x413, &kb, 2), 0);
	assert_int_equal(seg, 0x9fc0);
	assert_int_equal(kb, 639);
	mem__destroy(mem);
}

static void test_irq0_pin2_and_cpuid(void **state)
{
	struct guest_mem *mem = new_mem();
	struct mptable_config cfg = { .nr_cpus = 1, .irq0_to_pin2 = true,
				      .cpu_signature = 0x806f8,
				      .cpu_features = 0x178bfbff };
	struct parsed r;
	unsigned int i;

	(void)state;
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.cpu_sig, 0x806f8);
	assert_int_equal(r.cpu_feat, 0x178bfbff);
	assert_int_equal(r.ioints, 15);
	assert_int_equal(r.ioint[0][5], 0); /* IRQ0 */
	assert_int_equal(r.ioint[0][7], 2); /* -> pin 2 */
	for (i = 1; i < 15; i++) {
		assert_true(r.ioint[i][5] != 2);
		assert_int_equal(r.ioint[i][5], r.ioint[i][7]);
	}
	mem__destroy(mem);
}

static void test_pci(void **state)
{
	struct guest_mem *mem = new_mem();
	struct mptable_config cfg = { .nr_cpus = 2, .pci = true,
				      .nr_pci_irqs = 2 };
	struct parsed r;

	(void)state;
	cfg.pci_irqs[0] = (struct mptable_pci_irq){ 3, 1, 16 };
	cfg.pci_irqs[1] = (struct mptable_pci_irq){ 31, 4, 23 };
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.buses, 2);
	assert_int_equal(r.pci_bus, 0);
	assert_int_equal(r.isa_bus, 1);
	assert_int_equal(r.ioints, 18);
	assert_int_equal(r.ioint[0][4], 1); /* ISA entries on bus 1 */
	assert_int_equal(r.ioint[16][4], 0);
	assert_int_equal(r.ioint[16][5], 3 << 2 | 0);
	assert_int_equal(r.ioint[16][7], 16);
	assert_int_equal(g16(&r.ioint[16][2]), 0xf); /* level, active low */
	assert_int_equal(r.ioint[17][5], 31 << 2 | 3);
	assert_int_equal(r.ioint[17][7], 23);
	assert_int_equal(r.ioapic_id, 2);
	mem__destroy(mem);
}

/* Many CPUs: the table moves to 0xf0000; the pointer stays in the EBDA. */
static void test_many_cpus(void **state)
{
	struct guest_mem *mem = new_mem();
	struct mptable_config cfg = { .nr_cpus = 40 };
	struct parsed r;
	unsigned int i;

	(void)state;
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.table_addr, MEM_EBDA_START + 16);
	assert_true(16 + mptable__table_size(&cfg) <= 1024);

	cfg.nr_cpus = 41;
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.table_addr, MPTABLE_ROM_ADDR);

	cfg.nr_cpus = MPTABLE_MAX_CPUS;
	cfg.pci = true;
	cfg.nr_pci_irqs = MPTABLE_MAX_PCI_IRQS;
	for (i = 0; i < MPTABLE_MAX_PCI_IRQS; i++)
		cfg.pci_irqs[i] = (struct mptable_pci_irq){ i / 4, i % 4 + 1,
							    16 + i % 8 };
	assert_int_equal(mptable__write(mem, &cfg), 0);
	parse(mem, &r);
	assert_int_equal(r.table_addr, MPTABLE_ROM_ADDR);
	assert_int_equal(r.cpus, 64);
	assert_int_equal(r.bsp_count, 1);
	assert_int_equal(r.cpu_id[63], 63);
	assert_int_equal(r.ioapic_id, 64);
	assert_int_equal(r.ioints, 16 + MPTABLE_MAX_PCI_IRQS);
	mem__destroy(mem);
}

static void test_bad_config(void **state)
{
	struct guest_mem *mem = new_mem();
	struct mptable_config cfg = { .nr_cpus = 0 };

	(void)state;
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.nr_cpus = MPTABLE_MAX_CPUS + 1;
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.nr_cpus = 1;
	cfg.nr_pci_irqs = 1; /* without pci */
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.pci = true;
	cfg.pci_irqs[0] = (struct mptable_pci_irq){ 32, 1, 16 };
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.pci_irqs[0] = (struct mptable_pci_irq){ 1, 0, 16 };
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.pci_irqs[0] = (struct mptable_pci_irq){ 1, 5, 16 };
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.pci_irqs[0] = (struct mptable_pci_irq){ 1, 1, 24 };
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	cfg.nr_pci_irqs = MPTABLE_MAX_PCI_IRQS + 1;
	assert_int_equal(mptable__write(mem, &cfg), -EINVAL);
	/* Nothing was written: no floating pointer. */
	assert_int_not_equal(memcmp(mem__gpa_ptr(mem, MEM_EBDA_START, 4),
				    "_MP_", 4), 0);
	mem__destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_irq0_pin2_and_cpuid),
		cmocka_unit_test(test_pci),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
