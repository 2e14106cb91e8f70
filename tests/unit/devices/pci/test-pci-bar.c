/*
 * test-pci-bar.c: BAR declaration, allocation from the windows, sizing
 * the way guest drivers do it, and programming: decode enable/disable,
 * moves, 64-bit halves written separately, and what happens when a
 * hostile guest points a BAR at RAM, platform devices, CF8 or another
 * BAR. Uses a real struct bus, so "mapped" means bus__access reaches
 * the device model.
 */
#include "pci-fixture.h"

#include <pthread.h>

#define EV_MAX 64

struct model {
	unsigned int reads, writes;
	unsigned int last_bar;
	uint64_t last_off;
	uint32_t last_len;
	uint8_t last_data[8];
	unsigned int nr_ev;
	struct {
		bool map;
		unsigned int bar;
		uint64_t addr, size;
	} ev[EV_MAX];
};

static void m_bar_read(void *opaque, unsigned int bar, uint64_t off,
		       void *data, uint32_t len)
{
	struct model *m = opaque;

	m->reads++;
	m->last_bar = bar;
	m->last_off = off;
	m->last_len = len;
	/* Reads return bar number in byte 0 and low offset bits after. */
	memset(data, 0, len);
	((uint8_t *)data)[0] = 0xb0 | bar;
	if (len > 1)
		((uint8_t *)data)[1] = (uint8_t)off;
}

static void m_bar_write(void *opaque, unsigned int bar, uint64_t off,
			const void *data, uint32_t len)
{
	struct model *m = opaque;

	m->writes++;
	m->last_bar = bar;
	m->last_off = off;
	m->last_len = len;
	memcpy(m->last_data, data, MIN(len, 8u));
}

static void m_event(struct model *m, bool map, unsigned int bar,
		    uint64_t addr, uint64_t size)
{
	if (m->nr_ev < EV_MAX) {
		m->ev[m->nr_ev].map = map;
		m->ev[m->nr_ev].bar = bar;
		m->ev[m->nr_ev].addr = addr;
		m->ev[m->nr_ev].size = size;
	}
	m->nr_ev++;
}

static void m_bar_map(void *opaque, unsigned int bar, uint64_t addr,
		      uint64_t size)
{
	m_event(opaque, true, bar, addr, size);
}

static void m_bar_unmap(void *opaque, unsigned int bar, uint64_t addr,
			uint64_t size)
{
	m_event(opaque, false, bar, addr, size);
}

static const struct pci_dev_ops m_ops = {
	.bar_read = m_bar_read,
	.bar_write = m_bar_write,
	.bar_map = m_bar_map,
	.bar_unmap = m_bar_unmap,
};

/* BAR0 mem32 4 KiB, BAR1 I/O 32 B, BAR2/3 mem64 pf 1 MiB, BAR4/5 mem64 8 GiB. */
static struct pci_dev *make_full(struct fixture *f, struct model *m, int slot)
{
	struct pci_dev *dev;

	assert_int_equal(pci_dev__create("bars", &test_ident, &m_ops, m, &dev), 0);
	assert_int_equal(pci_dev__set_bar(dev, 0, 4096, 0), 0);
	assert_int_equal(pci_dev__set_bar(dev, 1, 32, PCI_BAR_F_IO), 0);
	assert_int_equal(pci_dev__set_bar(dev, 2, 1 << 20,
					  PCI_BAR_F_MEM64 | PCI_BAR_F_PREFETCH), 0);
	assert_int_equal(pci_dev__set_bar(dev, 4, 8ULL << 30, PCI_BAR_F_MEM64), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, slot), 0);
	return dev;
}

static bool mmio_hits(struct fixture *f, struct model *m, uint64_t addr)
{
	uint8_t d[4];
	unsigned int before = m->reads;

	return mmio(f, addr, d, 4, false) == 0 && m->reads == before + 1;
}

static void test_pci_bar__declare_errors(void **state)
{
	struct pci_dev *dev;

	(void)state;
	assert_int_equal(pci_dev__create("e", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__set_bar(dev, 6, 4096, 0), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 3000, 0), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 8, 0), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 512, PCI_BAR_F_IO), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 2, PCI_BAR_F_IO), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 4, PCI_BAR_F_IO | PCI_BAR_F_MEM64),
			 -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 4ULL << 30, 0), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 5, 4096, PCI_BAR_F_MEM64), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 0, 4096, 0x80), -EINVAL);
	assert_int_equal(pci_dev__set_bar(dev, 1, 4096, PCI_BAR_F_MEM64), 0);
	/* BAR2 is the upper half of BAR1; BAR1 is taken. */
	assert_int_equal(pci_dev__set_bar(dev, 2, 4096, 0), -EBUSY);
	assert_int_equal(pci_dev__set_bar(dev, 1, 4096, 0), -EBUSY);
	assert_int_equal(pci_dev__set_bar(dev, 0, 4096, PCI_BAR_F_MEM64), -EBUSY);
	assert_int_equal(pci_dev__bar_size(dev, 1), 4096);
	assert_int_equal(pci_dev__bar_size(dev, 2), 0);
	pci_dev__destroy(dev);
}

static void test_pci_bar__allocation(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 }, m2 = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1), *dev2;

	assert_int_equal(pci_dev__bar_addr(dev, 0), 0xC0000000ULL);
	assert_int_equal(pci_dev__bar_addr(dev, 1), 0xC000);
	assert_int_equal(pci_dev__bar_addr(dev, 2), FIX_RAM_END);
	/* 8 GiB BAR, naturally aligned above the 1 MiB one. */
	assert_int_equal(pci_dev__bar_addr(dev, 4), 8ULL << 30);
	/* Registers hold address | flags. */
	assert_int_equal(conf1_read(f, 1, 0x10, 4), 0xC0000000u);
	assert_int_equal(conf1_read(f, 1, 0x14, 4), 0xC001u);
	assert_int_equal(conf1_read(f, 1, 0x18, 4), (uint32_t)FIX_RAM_END | 0xc);
	assert_int_equal(conf1_read(f, 1, 0x1c, 4), (uint32_t)(FIX_RAM_END >> 32));
	assert_int_equal(conf1_read(f, 1, 0x20, 4), 0x00000004u);
	assert_int_equal(conf1_read(f, 1, 0x24, 4), 2);
	/* Decode is off after "firmware": nothing mapped yet. */
	assert_false(pci_dev__bar_mapped(dev, 0));
	assert_false(mmio_hits(f, &m, 0xC0000000ULL));

	/* A second device continues where the first one stopped. */
	dev2 = make_full(f, &m2, 2);
	assert_int_equal(pci_dev__bar_addr(dev2, 0), 0xC0001000ULL);
	assert_int_equal(pci_dev__bar_addr(dev2, 1), 0xC020);
	assert_int_equal(pci_dev__bar_addr(dev2, 2), FIX_RAM_END + (1 << 20));
	assert_int_equal(pci_dev__bar_addr(dev2, 4), 16ULL << 30);
	pci_dev__destroy(dev2);
	pci_dev__destroy(dev);
}

static void test_pci_bar__allocation_exhausted(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;

	assert_int_equal(pci_dev__create("big", &test_ident, NULL, NULL, &dev), 0);
	/* 1 GiB 32-bit BAR: larger than the 512 MiB window. */
	assert_int_equal(pci_dev__set_bar(dev, 0, 1ULL << 30, 0), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, 7), -ENOSPC);
	assert_int_equal(pci_dev__slot(dev), -1);
	assert_null(pci__slot_device(f->pbus, 7));
	assert_int_equal(conf1_read(f, 7, 0, 4), 0xffffffffu);
	pci_dev__destroy(dev);
}

static void test_pci_bar__sizing(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1);
	uint32_t saved[6];
	unsigned int i;

	for (i = 0; i < 6; i++)
		saved[i] = conf1_read(f, 1, 0x10 + 4 * i, 4);
	/* The Linux sequence: decode off, write ~0, read, restore. */
	for (i = 0; i < 6; i++)
		conf1_write(f, 1, 0x10 + 4 * i, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, 1, 0x10, 4), 0xfffff000u);
	assert_int_equal(conf1_read(f, 1, 0x14, 4), 0x0000ffe1u);
	assert_int_equal(conf1_read(f, 1, 0x18, 4), 0xfff0000cu);
	assert_int_equal(conf1_read(f, 1, 0x1c, 4), 0xffffffffu);
	assert_int_equal(conf1_read(f, 1, 0x20, 4), 0x00000004u);
	assert_int_equal(conf1_read(f, 1, 0x24, 4), 0xfffffffeu);
	for (i = 0; i < 6; i++)
		conf1_write(f, 1, 0x10 + 4 * i, 4, saved[i]);
	for (i = 0; i < 6; i++)
		assert_int_equal(conf1_read(f, 1, 0x10 + 4 * i, 4), saved[i]);
	/* Flag bits are read-only whatever the guest writes. */
	conf1_write(f, 1, 0x10, 4, 0xC0000000u | 0xf);
	assert_int_equal(conf1_read(f, 1, 0x10, 4), 0xC0000000u);
	conf1_write(f, 1, 0x18, 4, 0x0);
	assert_int_equal(conf1_read(f, 1, 0x18, 4), 0x0000000cu);
	conf1_write(f, 1, 0x14, 4, 0xC000);
	assert_int_equal(conf1_read(f, 1, 0x14, 4), 0xC001u);
	/* Byte-wise sizing works too (hostile or odd guests). */
	for (i = 0; i < 4; i++)
		conf1_write(f, 1, 0x10 + i, 1, 0xff);
	assert_int_equal(conf1_read(f, 1, 0x10, 4), 0xfffff000u);
	conf1_write(f, 1, 0x12, 2, 0x0000);
	assert_int_equal(conf1_read(f, 1, 0x10, 4), 0x0000f000u);
	/* No sizing happened on the empty (ROM) or absent registers. */
	pci_dev__destroy(dev);
}

static void test_pci_bar__decode_and_dispatch(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1);
	uint8_t d[8];

	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_dev__bar_mapped(dev, 0));
	assert_true(pci_dev__bar_mapped(dev, 2));
	assert_true(pci_dev__bar_mapped(dev, 4));
	assert_false(pci_dev__bar_mapped(dev, 1));
	assert_int_equal(m.nr_ev, 3);
	assert_true(m.ev[0].map);
	assert_int_equal(m.ev[0].bar, 0);
	assert_int_equal(m.ev[0].addr, 0xC0000000ULL);
	assert_int_equal(m.ev[0].size, 4096);

	/* Accesses reach the model with the BAR index and offset. */
	assert_int_equal(mmio(f, 0xC0000000ULL + 0x10, d, 4, false), 0);
	assert_int_equal(d[0], 0xb0);
	assert_int_equal(d[1], 0x10);
	put_val(d, 8, 0x1122334455667788ULL);
	assert_int_equal(mmio(f, FIX_RAM_END + 0x800, d, 8, true), 0);
	assert_int_equal(m.last_bar, 2);
	assert_int_equal(m.last_off, 0x800);
	assert_int_equal(m.last_len, 8);
	assert_int_equal(le_val(m.last_data, 8), 0x1122334455667788ULL);
	assert_int_equal(mmio(f, (8ULL << 30) + (8ULL << 30) - 4, d, 4, false), 0);
	assert_int_equal(m.last_bar, 4);
	assert_int_equal(m.last_off, (8ULL << 30) - 4);
	/* Past the BAR's end is not the device's. */
	assert_int_equal(mmio(f, 0xC0001000ULL, d, 4, false), -ENOENT);
	/* I/O decode. */
	assert_int_equal(pio(f, 0xC000, d, 1, false), -ENOENT);
	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(pio(f, 0xC01f, d, 1, false), 0);
	assert_int_equal(m.last_bar, 1);
	assert_int_equal(m.last_off, 0x1f);
	/* Decode off: everything goes away, with unmap callbacks. */
	m.nr_ev = 0;
	conf1_write(f, 1, PCI_COMMAND, 2, 0);
	assert_int_equal(m.nr_ev, 4);
	assert_false(m.ev[0].map);
	assert_false(mmio_hits(f, &m, 0xC0000000ULL));
	assert_int_equal(pio(f, 0xC000, d, 1, false), -ENOENT);
	pci_dev__destroy(dev);
}

static void test_pci_bar__move_with_decode_on(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1);

	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	m.nr_ev = 0;
	conf1_write(f, 1, 0x10, 4, 0xC8000000u);
	assert_int_equal(m.nr_ev, 2);
	assert_false(m.ev[0].map);
	assert_int_equal(m.ev[0].addr, 0xC0000000ULL);
	assert_true(m.ev[1].map);
	assert_int_equal(m.ev[1].addr, 0xC8000000ULL);
	assert_false(mmio_hits(f, &m, 0xC0000000ULL));
	assert_true(mmio_hits(f, &m, 0xC8000000ULL));
	/* Rewriting the same address changes nothing. */
	m.nr_ev = 0;
	conf1_write(f, 1, 0x10, 4, 0xC8000000u);
	assert_int_equal(m.nr_ev, 0);
	pci_dev__destroy(dev);
}

static void test_pci_bar__64bit_halves(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1);
	uint64_t target;

	/* Decode off: write high then low, then enable. */
	target = (20ULL << 30) + (3 << 20);
	conf1_write(f, 1, 0x1c, 4, (uint32_t)(target >> 32));
	conf1_write(f, 1, 0x18, 4, (uint32_t)target);
	assert_int_equal(pci_dev__bar_addr(dev, 2), target);
	assert_false(pci_dev__bar_mapped(dev, 2));
	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_dev__bar_mapped(dev, 2));
	assert_true(mmio_hits(f, &m, target));

	/* Decode on: low half first maps at an intermediate address, the
	 * high half then completes the move; nothing is left behind. */
	target = (30ULL << 30) + (5 << 20);
	conf1_write(f, 1, 0x18, 4, (uint32_t)target);
	conf1_write(f, 1, 0x1c, 4, (uint32_t)(target >> 32));
	assert_true(pci_dev__bar_mapped(dev, 2));
	assert_true(mmio_hits(f, &m, target));
	assert_false(mmio_hits(f, &m, (20ULL << 30) + (3 << 20)));
	assert_false(mmio_hits(f, &m, ((20ULL << 30) & ~0xffffffffULL) |
					      (uint32_t)target));
	/* A qword ECAM write sets both halves at once. */
	target = (40ULL << 30);
	ecam_write(f, 1, 0x18, 8, target | 0xc);
	assert_true(mmio_hits(f, &m, target));
	assert_int_equal(pci_dev__bar_addr(dev, 2), target);
	pci_dev__destroy(dev);
}

static void test_pci_bar__hostile_ram_and_platform(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 1);
	uint8_t d[4];

	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	/* 64-bit BAR moved onto RAM (RAM ends at 6 GiB): not decoded. */
	assert_true(pci_dev__bar_mapped(dev, 2));
	conf1_write(f, 1, 0x18, 4, 0); /* 0x1_0000_0000: 4 GiB, RAM */
	assert_int_equal(pci_dev__bar_addr(dev, 2), 4ULL << 30);
	assert_false(pci_dev__bar_mapped(dev, 2));
	assert_int_equal(mmio(f, 4ULL << 30, d, 4, false), -ENOENT);
	conf1_write(f, 1, 0x1c, 4, 0); /* address 0: RAM */
	assert_false(pci_dev__bar_mapped(dev, 2));
	assert_int_equal(mmio(f, 0, d, 4, false), -ENOENT);
	/* The 8 GiB BAR at 64 GiB would straddle the window's end (70 GiB). */
	assert_true(pci_dev__bar_mapped(dev, 4));
	conf1_write(f, 1, 0x24, 4, 0x10);
	assert_int_equal(pci_dev__bar_addr(dev, 4), 64ULL << 30);
	assert_false(pci_dev__bar_mapped(dev, 4));
	conf1_write(f, 1, 0x24, 4, 0xe); /* 56..64 GiB: inside */
	assert_true(pci_dev__bar_mapped(dev, 4));
	/* Beyond the guest's physical address space entirely. */
	conf1_write(f, 1, 0x24, 4, 0xfffffffe);
	assert_false(pci_dev__bar_mapped(dev, 4));
	/* The 32-bit BAR over the IOAPIC / LAPIC / ECAM: not decoded, and
	 * the ECAM window keeps working. */
	conf1_write(f, 1, 0x10, 4, 0xfec00000u);
	assert_false(pci_dev__bar_mapped(dev, 0));
	conf1_write(f, 1, 0x10, 4, 0xfee00000u);
	assert_false(pci_dev__bar_mapped(dev, 0));
	conf1_write(f, 1, 0x10, 4, (uint32_t)f->win.ecam_base);
	assert_false(pci_dev__bar_mapped(dev, 0));
	assert_int_equal(ecam_read(f, 0, 0, 2), PCI_HOST_VENDOR_ID);
	/* The I/O BAR over CF8: not decoded; config access still works. */
	conf1_write(f, 1, 0x14, 4, 0xce0);
	assert_false(pci_dev__bar_mapped(dev, 1));
	assert_int_equal(conf1_read(f, 1, 0x14, 4), 0xce1);
	/* Back inside a window: decoded again. */
	conf1_write(f, 1, 0x10, 4, 0xD0000000u);
	assert_true(pci_dev__bar_mapped(dev, 0));
	assert_true(mmio_hits(f, &m, 0xD0000000ULL));
	/* A 64-bit BAR placed in the 32-bit window is fine. */
	conf1_write(f, 1, 0x1c, 4, 0);
	conf1_write(f, 1, 0x18, 4, 0xD0100000u);
	assert_true(pci_dev__bar_mapped(dev, 2));
	/* Sizing with decode on unmaps (all-ones address is outside). */
	conf1_write(f, 1, 0x10, 4, 0xffffffffu);
	assert_false(pci_dev__bar_mapped(dev, 0));
	conf1_write(f, 1, 0x10, 4, 0xD0000000u);
	assert_true(pci_dev__bar_mapped(dev, 0));
	pci_dev__destroy(dev);
}

static void test_pci_bar__hostile_overlap_other_bar(void **state)
{
	struct fixture *f = *state;
	struct model ma = { 0 }, mb = { 0 };
	struct pci_dev *a = make_full(f, &ma, 1), *b = make_full(f, &mb, 2);
	uint64_t a0 = pci_dev__bar_addr(a, 0);

	conf1_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	conf1_write(f, 2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_dev__bar_mapped(b, 0));
	/* B's BAR0 onto A's: A keeps the range, B is not decoded. */
	conf1_write(f, 2, 0x10, 4, (uint32_t)a0);
	assert_false(pci_dev__bar_mapped(b, 0));
	assert_true(pci_dev__bar_mapped(a, 0));
	assert_true(mmio_hits(f, &ma, a0));
	/* B's 8 GiB BAR4 onto A's (8..16 GiB): refused. */
	conf1_write(f, 2, 0x24, 4, 2);
	assert_int_equal(pci_dev__bar_addr(b, 4), 8ULL << 30);
	assert_false(pci_dev__bar_mapped(b, 4));
	assert_true(pci_dev__bar_mapped(a, 4));
	/* Within one device: BAR2 onto its own BAR0. */
	conf1_write(f, 1, 0x1c, 4, 0);
	conf1_write(f, 1, 0x18, 4, (uint32_t)a0);
	assert_false(pci_dev__bar_mapped(a, 2));
	/* When A's BAR0 moves away, blocked BARs are retried in slot and
	 * BAR order: A's BAR2 (slot 1) takes the range, B's BAR0 stays off. */
	conf1_write(f, 1, 0x10, 4, 0xD8000000u);
	assert_true(pci_dev__bar_mapped(a, 0));
	assert_true(pci_dev__bar_mapped(a, 2));
	assert_false(pci_dev__bar_mapped(b, 0));
	assert_true(mmio_hits(f, &ma, a0));
	/* A's memory decode off: now B's BAR0 gets it. */
	mb.nr_ev = 0;
	conf1_write(f, 1, PCI_COMMAND, 2, 0);
	assert_true(pci_dev__bar_mapped(b, 0));
	assert_true(mmio_hits(f, &mb, a0));
	/* ... and B's BAR4 too, once A's BAR4 is gone. */
	assert_true(pci_dev__bar_mapped(b, 4));
	assert_int_equal(mb.nr_ev, 2);
	assert_true(mb.ev[0].map && mb.ev[1].map);
	assert_int_equal(mb.ev[0].bar, 0);
	assert_int_equal(mb.ev[0].addr, a0);
	assert_int_equal(mb.ev[1].bar, 4);
	assert_int_equal(mb.ev[1].addr, 8ULL << 30);
	/* Disabling decode on both leaves nothing registered. */
	conf1_write(f, 1, PCI_COMMAND, 2, 0);
	conf1_write(f, 2, PCI_COMMAND, 2, 0);
	assert_false(mmio_hits(f, &ma, a0));
	assert_false(mmio_hits(f, &mb, a0));
	pci_dev__destroy(b);
	pci_dev__destroy(a);
}

static void test_pci_bar__unregister_unmaps(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *dev = make_full(f, &m, 3);

	conf1_write(f, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_true(mmio_hits(f, &m, 0xC0000000ULL));
	pci__unregister_device(f->pbus, dev);
	assert_false(mmio_hits(f, &m, 0xC0000000ULL));
	assert_false(pci_dev__bar_mapped(dev, 0));
	assert_int_equal(conf1_read(f, 3, 0, 4), 0xffffffffu);
	/* Plugging in again powers on: decode off, new addresses. */
	assert_int_equal(pci__register_device(f->pbus, dev, 3), 0);
	assert_int_equal(conf1_read(f, 3, PCI_COMMAND, 2), 0);
	assert_false(pci_dev__bar_mapped(dev, 0));
	assert_int_equal(pci_dev__bar_addr(dev, 0), 0xC0001000ULL);
	/* Reset unmaps too (decode back to off). */
	conf1_write(f, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_dev__bar_mapped(dev, 0));
	pci__reset(f->pbus);
	assert_false(pci_dev__bar_mapped(dev, 0));
	pci_dev__destroy(dev);
}

static void test_pci_bar__no_model_reads_all_ones(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	uint8_t d[4] = { 0 };

	assert_int_equal(pci_dev__create("bare", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__set_bar(dev, 0, 16, 0), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, 9), 0);
	conf1_write(f, 9, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(mmio(f, pci_dev__bar_addr(dev, 0), d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0xffffffffu);
	assert_int_equal(mmio(f, pci_dev__bar_addr(dev, 0), d, 4, true), 0);
	/* 16-byte BAR sizes as such, allocated page aligned. */
	conf1_write(f, 9, 0x10, 4, 0xffffffffu);
	assert_int_equal(conf1_read(f, 9, 0x10, 4), 0xfffffff0u);
	pci_dev__destroy(dev);
}

/*
 * vCPU threads program BARs concurrently (through ECAM, which has no
 * shared address register) while others access the ranges: no deadlock,
 * no crash, and a consistent final state. Two devices fight over the
 * same addresses so the overlap/retry path runs under contention.
 */
#define STRESS_ITERS 3000

struct stress {
	struct fixture *f;
	unsigned int slot;
	uint32_t a, b;
	bool stop; /* atomic */
};

static void *stress_mover(void *arg)
{
	struct stress *st = arg;
	unsigned int i;

	for (i = 0; i < STRESS_ITERS; i++) {
		ecam_write(st->f, st->slot, 0x10, 4, (i & 1) ? st->a : st->b);
		if (i % 7 == 0)
			ecam_write(st->f, st->slot, PCI_COMMAND, 2,
				   (i & 8) ? 0 : PCI_COMMAND_MEMORY);
	}
	return NULL;
}

static void *stress_reader(void *arg)
{
	struct stress *st = arg;
	uint8_t d[4];

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		mmio(st->f, st->a, d, 4, false);
		mmio(st->f, st->b, d, 4, true);
		assert_int_equal(ecam_read(st->f, 1, 0, 2), 0x1234);
	}
	return NULL;
}

static void test_pci_bar__concurrent_moves(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *a, *b;
	struct stress sa = { f, 1, 0xC8000000u, 0xC9000000u, false };
	struct stress sb = { f, 2, 0xC9000000u, 0xC8000000u, false };
	pthread_t t[3];
	uint8_t d[4];

	assert_int_equal(pci_dev__create("sa", &test_ident, NULL, NULL, &a), 0);
	assert_int_equal(pci_dev__create("sb", &test_ident, NULL, NULL, &b), 0);
	assert_int_equal(pci_dev__set_bar(a, 0, 4096, 0), 0);
	assert_int_equal(pci_dev__set_bar(b, 0, 4096, 0), 0);
	assert_int_equal(pci__register_device(f->pbus, a, 1), 0);
	assert_int_equal(pci__register_device(f->pbus, b, 2), 0);
	assert_int_equal(pthread_create(&t[0], NULL, stress_mover, &sa), 0);
	assert_int_equal(pthread_create(&t[1], NULL, stress_mover, &sb), 0);
	assert_int_equal(pthread_create(&t[2], NULL, stress_reader, &sa), 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	__atomic_store_n(&sa.stop, true, __ATOMIC_RELAXED);
	pthread_join(t[2], NULL);
	/* Settle on distinct addresses with decode on: both decode. */
	ecam_write(f, 1, 0x10, 4, 0xCA000000u);
	ecam_write(f, 2, 0x10, 4, 0xCB000000u);
	ecam_write(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_write(f, 2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(pci_dev__bar_mapped(a, 0));
	assert_true(pci_dev__bar_mapped(b, 0));
	assert_int_equal(mmio(f, 0xCA000000u, d, 4, false), 0);
	assert_int_equal(mmio(f, 0xCB000000u, d, 4, false), 0);
	/* Nothing stale is left at the contested addresses. */
	assert_int_equal(mmio(f, 0xC8000000u, d, 4, false), -ENOENT);
	assert_int_equal(mmio(f, 0xC9000000u, d, 4, false), -ENOENT);
	pci_dev__destroy(a);
	pci_dev__destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_pci_bar__declare_errors),
		T(test_pci_bar__allocation),
		T(test_pci_bar__allocation_exhausted),
		T(test_pci_bar__sizing),
		T(test_pci_bar__decode_and_dispatch),
		T(test_pci_bar__move_with_decode_on),
		T(test_pci_bar__64bit_halves),
		T(test_pci_bar__hostile_ram_and_platform),
		T(test_pci_bar__hostile_overlap_other_bar),
		T(test_pci_bar__unregister_unmaps),
		T(test_pci_bar__no_model_reads_all_ones),
		T(test_pci_bar__concurrent_moves),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
