/*
 * test-pci-config.c: configuration mechanism #1 and ECAM dispatch, the
 * host bridge, header field semantics (read-only, write-1-to-clear,
 * command register), the capability list, pass-through hooks, INTx
 * routing and the MP table hand-over.
 */
#include "pci-fixture.h"

#include "vmm/mptable.h"

static void test_pci__host_bridge_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(conf1_read(f, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
	assert_int_equal(conf1_read(f, 0, PCI_DEVICE_ID, 2), PCI_HOST_DEVICE_ID);
	assert_int_equal(conf1_read(f, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_VENDOR_ID | (PCI_HOST_DEVICE_ID << 16));
	/* Class 0x060000 in the top three bytes of dword 2. */
	assert_int_equal(conf1_read(f, 0, 0x08, 4) >> 8, PCI_CLASS_BRIDGE_HOST);
	assert_int_equal(conf1_read(f, 0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(ecam_read(f, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_VENDOR_ID | (PCI_HOST_DEVICE_ID << 16));
}

static void test_pci__conf1_address_register(void **state)
{
	struct fixture *f = *state;
	uint8_t d[4];

	/* Linux's type 1 probe: write 0x80000000, read it back. */
	put_val(d, 4, 0x80000000u);
	assert_int_equal(pio(f, 0xcf8, d, 4, true), 0);
	memset(d, 0, 4);
	assert_int_equal(pio(f, 0xcf8, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0x80000000u);
	/* Reserved bits 30:24 and bits 1:0 read back as zero. */
	put_val(d, 4, 0xffffffffu);
	assert_int_equal(pio(f, 0xcf8, d, 4, true), 0);
	assert_int_equal(pio(f, 0xcf8, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0x80fffffcu);
	/* A byte write to 0xCFB (also part of Linux's probe) changes nothing. */
	d[0] = 0x01;
	assert_int_equal(pio(f, 0xcfb, d, 1, true), 0);
	assert_int_equal(pio(f, 0xcf8, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0x80fffffcu);
	/* Narrow reads of the address ports see all ones. */
	assert_int_equal(pio(f, 0xcf9, d, 1, false), 0);
	assert_int_equal(d[0], 0xff);
}

static void test_pci__conf1_every_width(void **state)
{
	struct fixture *f = *state;
	uint32_t id = PCI_HOST_VENDOR_ID | (PCI_HOST_DEVICE_ID << 16);
	unsigned int off;

	for (off = 0; off < 4; off++)
		assert_int_equal(conf1_read(f, 0, off, 1), (id >> (8 * off)) & 0xff);
	assert_int_equal(conf1_read(f, 0, 0, 2), id & 0xffff);
	assert_int_equal(conf1_read(f, 0, 1, 2), (id >> 8) & 0xffff);
	assert_int_equal(conf1_read(f, 0, 2, 2), id >> 16);
	assert_int_equal(conf1_read(f, 0, 0, 4), id);
}

static void test_pci__conf1_disabled_or_absent_reads_all_ones(void **state)
{
	struct fixture *f = *state;
	uint8_t a[4], d[4];

	/* Enable bit clear. */
	put_val(a, 4, 0x00000000u);
	assert_int_equal(pio(f, 0xcf8, a, 4, true), 0);
	assert_int_equal(pio(f, 0xcfc, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0xffffffffu);
	/* Empty slot, non-zero function, other bus. */
	assert_int_equal(conf1_read(f, 7, 0, 4), 0xffffffffu);
	put_val(a, 4, conf1_addr(0, 1, 0));
	assert_int_equal(pio(f, 0xcf8, a, 4, true), 0);
	assert_int_equal(pio(f, 0xcfc, d, 2, false), 0);
	assert_int_equal(le_val(d, 2), 0xffff);
	put_val(a, 4, 0x80000000u | (1u << 16));
	assert_int_equal(pio(f, 0xcf8, a, 4, true), 0);
	assert_int_equal(pio(f, 0xcfc, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0xffffffffu);
	/* Writes to absent functions go nowhere (and do not crash). */
	put_val(d, 4, 0x12345678);
	assert_int_equal(pio(f, 0xcfc, d, 4, true), 0);
	conf1_write(f, 9, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(conf1_read(f, 9, PCI_COMMAND, 2), 0xffff);
	/* A dword at 0xCFD would leave the port range: not ours. */
	assert_int_equal(pio(f, 0xcfd, d, 4, false), -ENOENT);
}

static void test_pci__ecam_every_width_and_unaligned(void **state)
{
	struct fixture *f = *state;
	uint64_t id = PCI_HOST_VENDOR_ID | (PCI_HOST_DEVICE_ID << 16);
	uint64_t dw2 = ((uint64_t)PCI_CLASS_BRIDGE_HOST << 8);
	uint8_t d[8];

	assert_int_equal(ecam_read(f, 0, 0, 1), id & 0xff);
	assert_int_equal(ecam_read(f, 0, 3, 1), id >> 24);
	assert_int_equal(ecam_read(f, 0, 2, 2), id >> 16);
	/* Cross-dword reads are split as a root complex would. */
	assert_int_equal(ecam_read(f, 0, 2, 4), id >> 16); /* + command 0 */
	assert_int_equal(ecam_read(f, 0, 3, 2), (id >> 24));
	/* An 8-byte read returns dwords 0 and 1; 0x06 status has caps bit 0. */
	assert_int_equal(ecam_read(f, 0, 0, 8), id);
	assert_int_equal(ecam_read(f, 0, 8, 4), dw2);
	/* Extended config space of an emulated function reads as zero. */
	assert_int_equal(ecam_read(f, 0, 0x100, 4), 0);
	assert_int_equal(ecam_read(f, 0, 0xffc, 4), 0);
	/* Crossing into the next (absent) function: tail is all ones. */
	assert_int_equal(ecam_read(f, 0, 0xffe, 4), 0xffff0000u);
	/* Absent slot. */
	assert_int_equal(ecam_read(f, 31, 0, 4), 0xffffffffu);
	/* Outside the 1 MiB window is not the ECAM's. */
	assert_int_equal(mmio(f, f->win.ecam_base + PCI_ECAM_SIZE, d, 4, false),
			 -ENOENT);
}

static int make_dev(struct fixture *f, struct pci_dev **dev, int slot)
{
	int ret = pci_dev__create("t0", &test_ident, NULL, NULL, dev);

	if (ret)
		return ret;
	return pci__register_device(f->pbus, *dev, slot);
}

static void test_pci__header_read_only_fields(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	unsigned int reg;
	uint32_t before[16];

	assert_int_equal(make_dev(f, &dev, 3), 0);
	for (reg = 0; reg < 64; reg += 4)
		before[reg / 4] = conf1_read(f, 3, reg, 4);
	assert_int_equal(before[0], 0x56781234);
	assert_int_equal(before[2], 0xff000003);
	/* A hostile guest writes all ones everywhere except BARs/command. */
	for (reg = 0; reg < 64; reg += 4)
		if (reg != PCI_COMMAND && (reg < PCI_BAR0 || reg >= 0x28) &&
		    reg != PCI_CACHE_LINE_SIZE && reg != PCI_INTERRUPT_LINE)
			conf1_write(f, 3, reg, 4, 0xffffffff);
	for (reg = 0; reg < 64; reg += 4)
		if (reg != PCI_COMMAND && (reg < PCI_BAR0 || reg >= 0x28) &&
		    reg != PCI_CACHE_LINE_SIZE && reg != PCI_INTERRUPT_LINE)
			assert_int_equal(conf1_read(f, 3, reg, 4), before[reg / 4]);
	/* Expansion ROM BAR: unimplemented, reads 0 even after sizing. */
	conf1_write(f, 3, PCI_ROM_ADDRESS, 4, 0xfffff801);
	assert_int_equal(conf1_read(f, 3, PCI_ROM_ADDRESS, 4), 0);
	/* Cache line size is read/write; latency timer, BIST are not. */
	conf1_write(f, 3, PCI_CACHE_LINE_SIZE, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, 3, PCI_CACHE_LINE_SIZE, 4), 0x000000ff);
	/* Interrupt Line writable, pin fixed at INTA. */
	conf1_write(f, 3, PCI_INTERRUPT_LINE, 2, 0xff42);
	assert_int_equal(conf1_read(f, 3, PCI_INTERRUPT_LINE, 2), 0x0142);
	pci_dev__destroy(dev);
}

static void test_pci__command_and_status(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	uint16_t st = 0xf900 | PCI_STATUS_CAP_LIST;

	assert_int_equal(make_dev(f, &dev, 2), 0);
	conf1_write(f, 2, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(conf1_read(f, 2, PCI_COMMAND, 2), 0x0547);
	/* Status error bits are write-1-to-clear; others read-only. */
	assert_int_equal(pci_dev__cfg_load(dev, PCI_STATUS, &st, 2), 0);
	conf1_write(f, 2, PCI_STATUS, 2, 0x0100 | 0x2000);
	assert_int_equal(conf1_read(f, 2, PCI_STATUS, 2),
			 (0xf900 & ~0x2100) | PCI_STATUS_CAP_LIST);
	/* Writing zeros clears nothing; a dword write to command+status
	 * sets command and clears the status bits given as ones. */
	conf1_write(f, 2, PCI_STATUS, 2, 0);
	assert_int_equal(conf1_read(f, 2, PCI_STATUS, 2),
			 (0xf900 & ~0x2100) | PCI_STATUS_CAP_LIST);
	conf1_write(f, 2, PCI_COMMAND, 4, 0xffff0000u);
	assert_int_equal(conf1_read(f, 2, PCI_COMMAND, 4),
			 (uint32_t)PCI_STATUS_CAP_LIST << 16);
	pci_dev__destroy(dev);
}

static void test_pci__capability_list_walk(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	unsigned int a, b, c, ptr, ids[8], n = 0;

	assert_int_equal(pci_dev__create("caps", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_VNDR), 0);
	assert_int_equal(pci_dev__add_cap(dev, PCI_CAP_ID_VNDR, 8, &a), 0);
	assert_int_equal(pci_dev__add_cap(dev, PCI_CAP_ID_EXP, 0x3c, &b), 0);
	assert_int_equal(pci_dev__set_bar(dev, 0, 0x1000, 0), 0);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 0, 0, 0x800), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 1, PCI_MSI_F_64BIT), 0);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x48);
	/* 0x40 + 8 + 0x3c + 12 + 16 bytes used: 0xc0 more do not fit. */
	assert_int_equal(pci_dev__add_cap(dev, PCI_CAP_ID_VNDR, 0xc0, &c), -ENOSPC);
	assert_int_equal(pci__register_device(f->pbus, dev, 4), 0);
	/* Walk the list exactly as a guest does, through CF8/CFC. */
	assert_true(conf1_read(f, 4, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ptr = conf1_read(f, 4, PCI_CAPABILITY_LIST, 1);
	while (ptr && n < 8) {
		ids[n++] = conf1_read(f, 4, ptr, 1);
		ptr = conf1_read(f, 4, ptr + 1, 1);
	}
	assert_int_equal(n, 4);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], PCI_CAP_ID_EXP);
	assert_int_equal(ids[2], PCI_CAP_ID_MSIX);
	assert_int_equal(ids[3], PCI_CAP_ID_MSI);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_MSIX), 0x84);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_MSI), 0x90);
	/* The list is read-only to the guest. */
	conf1_write(f, 4, PCI_CAPABILITY_LIST, 1, 0x44);
	conf1_write(f, 4, a, 2, 0x0000);
	assert_int_equal(conf1_read(f, 4, PCI_CAPABILITY_LIST, 1), a);
	assert_int_equal(conf1_read(f, 4, a, 2), PCI_CAP_ID_VNDR | (b << 8));
	/* The layout is frozen once registered. */
	assert_int_equal(pci_dev__add_cap(dev, PCI_CAP_ID_VNDR, 0xc0, &c), -EBUSY);
	pci_dev__destroy(dev);
}

static void test_pci__capability_walk_survives_loops(void **state)
{
	struct pci_dev *dev;
	uint8_t loop[2] = { PCI_CAP_ID_VNDR, 0x40 }; /* points at itself */
	uint8_t ptr = 0x40, st = PCI_STATUS_CAP_LIST;
	unsigned int off;

	(void)state;
	assert_int_equal(pci_dev__create("loop", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__cfg_load(dev, 0x40, loop, 2), 0);
	assert_int_equal(pci_dev__cfg_load(dev, PCI_CAPABILITY_LIST, &ptr, 1), 0);
	assert_int_equal(pci_dev__cfg_load(dev, PCI_STATUS, &st, 1), 0);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_MSI), 0);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_VNDR), 0x40);
	/* A pointer into the header ends the walk. */
	loop[1] = 0x10;
	assert_int_equal(pci_dev__cfg_load(dev, 0x40, loop, 2), 0);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_MSI), 0);
	/* Bad arguments. */
	assert_int_equal(pci_dev__add_cap(dev, 1, 1, &off), -EINVAL);
	assert_int_equal(pci_dev__cfg_load(dev, 4090, loop, 8), -EINVAL);
	assert_int_equal(pci_dev__cfg_init(dev, 3, 2, 0, 0, 0), -EINVAL);
	pci_dev__destroy(dev);
}

/* Pass-through hooks: what a VFIO model sees. */
struct pt_model {
	uint8_t hw[256];
	unsigned int writes;
	unsigned int last_off, last_len;
	uint32_t last_val, last_mask;
};

static uint32_t pt_cfg_read(void *opaque, unsigned int off, unsigned int len)
{
	struct pt_model *m = opaque;

	return (uint32_t)le_val(&m->hw[off], len);
}

static void pt_cfg_write(void *opaque, unsigned int off, unsigned int len,
			 uint32_t val, uint32_t pt_mask)
{
	struct pt_model *m = opaque;
	unsigned int i;

	m->writes++;
	m->last_off = off;
	m->last_len = len;
	m->last_val = val;
	m->last_mask = pt_mask;
	for (i = 0; i < len; i++)
		if ((pt_mask >> (8 * i)) & 0xff)
			m->hw[off + i] = val >> (8 * i);
}

static const struct pt_model_ops_holder {
	struct pci_dev_ops ops;
} pt_ops = { { .cfg_read = pt_cfg_read, .cfg_write = pt_cfg_write } };

static void test_pci__passthrough_hooks(void **state)
{
	struct fixture *f = *state;
	struct pt_model m = { 0 };
	struct pci_dev *dev;
	unsigned int i;

	for (i = 0; i < 256; i++)
		m.hw[i] = i;
	assert_int_equal(pci_dev__create("pt", &test_ident, &pt_ops.ops, &m, &dev), 0);
	/* Pass 0x40..0x47 through (a device-specific register block). */
	assert_int_equal(pci_dev__cfg_passthrough(dev, 0x40, 8, true), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, 5), 0);
	assert_int_equal(conf1_read(f, 5, 0x40, 4), 0x43424140);
	/* Mixed dword 0x3c..0x3f: emulated line/pin, no pt bytes → no hook data. */
	assert_int_equal(conf1_read(f, 5, 0x3c, 1), pci_dev__intx_gsi(dev));
	conf1_write(f, 5, 0x42, 2, 0xbeef);
	assert_int_equal(m.hw[0x42], 0xef);
	assert_int_equal(m.hw[0x43], 0xbe);
	assert_int_equal(m.last_mask, 0xffff);
	/* Emulated bytes are not forwarded as pass-through, but the hook still
	 * sees the write (e.g. to forward Bus Master to the device). */
	conf1_write(f, 5, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(m.last_off, PCI_COMMAND);
	assert_int_equal(m.last_mask, 0);
	assert_int_equal(m.last_val, PCI_COMMAND_MASTER);
	assert_int_equal(m.hw[PCI_COMMAND], PCI_COMMAND);
	assert_int_equal(conf1_read(f, 5, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	pci_dev__destroy(dev);
}

static void test_pci__intx_routing_and_sharing(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *a, *b;
	struct pci_dev_ident id_b = test_ident;
	int gsi;

	assert_int_equal(make_dev(f, &a, 3), 0);
	/* Slot 3, INTA: 16 + (3 + 0) % 8 = 19; Interrupt Line says so. */
	gsi = pci_dev__intx_gsi(a);
	assert_int_equal(gsi, 19);
	assert_int_equal(conf1_read(f, 3, PCI_INTERRUPT_LINE, 1), 19);
	/* Slot 10, INTB: 16 + (10 + 1) % 8 = 19 too: a shared line. */
	id_b.intx_pin = 2;
	assert_int_equal(pci_dev__create("t1", &id_b, NULL, NULL, &b), 0);
	assert_int_equal(pci__register_device(f->pbus, b, 10), 0);
	assert_int_equal(pci_dev__intx_gsi(b), 19);

	assert_int_equal(pci_dev__set_intx(a, 1), 0);
	assert_int_equal(f->sink.level[19], 1);
	assert_true(conf1_read(f, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(pci_dev__set_intx(b, 1), 0);
	assert_int_equal(pci_dev__set_intx(a, 0), 0);
	/* Still high: b drives it. */
	assert_int_equal(f->sink.level[19], 1);
	assert_int_equal(f->sink.irq_calls, 1);
	assert_int_equal(pci_dev__set_intx(b, 0), 0);
	assert_int_equal(f->sink.level[19], 0);
	assert_int_equal(f->sink.irq_calls, 2);
	assert_false(conf1_read(f, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);

	/* INTx Disable masks the line but not the status bit. */
	conf1_write(f, 3, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(pci_dev__set_intx(a, 1), 0);
	assert_int_equal(f->sink.level[19], 0);
	assert_true(conf1_read(f, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	conf1_write(f, 3, PCI_COMMAND, 2, 0);
	assert_int_equal(f->sink.level[19], 1);
	/* Repeated asserts are idempotent; unregister drops the level. */
	assert_int_equal(pci_dev__set_intx(a, 1), 0);
	pci__unregister_device(f->pbus, a);
	assert_int_equal(f->sink.level[19], 0);
	assert_int_equal(pci_dev__set_intx(a, 1), -ENODEV);
	assert_int_equal(f->sink.level[19], 0);
	pci_dev__destroy(a);
	pci_dev__destroy(b);
}

static void test_pci__intx_no_pin(void **state)
{
	struct fixture *f = *state;
	struct pci_dev_ident id = test_ident;
	struct pci_dev *dev;

	id.intx_pin = 0;
	assert_int_equal(pci_dev__create("nopin", &id, NULL, NULL, &dev), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, -1), 0);
	assert_int_equal(pci_dev__slot(dev), 1);
	assert_int_equal(pci_dev__intx_gsi(dev), -1);
	assert_int_equal(pci_dev__set_intx(dev, 1), -EINVAL);
	assert_int_equal(conf1_read(f, 1, PCI_INTERRUPT_LINE, 2), 0x00ff);
	id.intx_pin = 5;
	assert_int_equal(pci_dev__create("badpin", &id, NULL, NULL, &dev), -EINVAL);
	assert_ptr_equal(pci__slot_device(f->pbus, 1), dev);
	pci__unregister_device(f->pbus, dev);
	assert_null(pci__slot_device(f->pbus, 1));
	pci_dev__destroy(dev);
}

static void test_pci__slots_and_mptable(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *devs[PCI_MAX_SLOTS];
	struct pci_dev_ident id = test_ident;
	struct mptable_config *mp = calloc(1, sizeof(*mp));
	struct pci_intx_route r[PCI_MAX_SLOTS];
	struct pci_dev *extra;
	unsigned int i;
	int n;

	assert_non_null(mp);
	for (i = 1; i < PCI_MAX_SLOTS; i++) {
		id.intx_pin = 1 + i % 4;
		assert_int_equal(pci_dev__create("d", &id, NULL, NULL, &devs[i]), 0);
		assert_int_equal(pci__register_device(f->pbus, devs[i], -1), 0);
		assert_int_equal(pci_dev__slot(devs[i]), (int)i);
	}
	assert_int_equal(pci_dev__create("x", &id, NULL, NULL, &extra), 0);
	assert_int_equal(pci__register_device(f->pbus, extra, -1), -ENOSPC);
	assert_int_equal(pci__register_device(f->pbus, extra, 0), -EINVAL);
	assert_int_equal(pci__register_device(f->pbus, extra, 32), -EINVAL);
	assert_int_equal(pci__register_device(f->pbus, devs[1], 5), -EBUSY);

	n = pci__intx_routes(f->pbus, r, PCI_MAX_SLOTS);
	assert_int_equal(n, 31);
	for (i = 0; i < (unsigned int)n; i++) {
		assert_int_equal(r[i].slot, i + 1);
		assert_int_equal(r[i].pin, (i + 1) % 4);
		assert_int_equal(r[i].gsi, 16 + (r[i].slot + r[i].pin) % 8);
	}
	assert_int_equal(pci__intx_routes(f->pbus, r, 30), -ENOSPC);

	mp->nr_pci_irqs = 2; /* entries someone else already added */
	assert_int_equal(pci__mptable_irqs(f->pbus, mp), 0);
	assert_true(mp->pci);
	assert_int_equal(mp->nr_pci_irqs, 33);
	assert_int_equal(mp->pci_irqs[2].device, 1);
	assert_int_equal(mp->pci_irqs[2].pin, 2);
	assert_int_equal(mp->pci_irqs[2].ioapic_pin, 16 + (1 + 1) % 8);
	mp->nr_pci_irqs = MPTABLE_MAX_PCI_IRQS - 3;
	assert_int_equal(pci__mptable_irqs(f->pbus, mp), -ENOSPC);

	for (i = 1; i < PCI_MAX_SLOTS; i++)
		pci_dev__destroy(devs[i]); /* unregisters too */
	assert_null(pci__slot_device(f->pbus, 1));
	pci_dev__destroy(extra);
	free(mp);
}

static void test_pci__windows_layout(void **state)
{
	struct pci_windows w;
	struct bus *bus;
	struct pci_bus *pbus;
	struct fake_sink s = { 0 };

	(void)state;
	assert_int_equal(pci__default_windows(128ULL << 20, 40, &w), 0);
	assert_int_equal(w.mmio32_base, 0xC0000000ULL);
	assert_int_equal(w.mmio32_end, 0xE0000000ULL);
	assert_int_equal(w.ecam_base, 0xE0000000ULL);
	assert_int_equal(w.mmio64_base, 4ULL << 30);
	assert_int_equal(w.mmio64_end, 68ULL << 30);
	/* RAM above 4 GiB: window starts at the next 1 GiB boundary. */
	assert_int_equal(pci__default_windows((5ULL << 30) + 4096, 40, &w), 0);
	assert_int_equal(w.mmio64_base, 6ULL << 30);
	/* Trimmed to the phys bits; absent when nothing fits. */
	assert_int_equal(pci__default_windows(128ULL << 20, 36, &w), 0);
	assert_int_equal(w.mmio64_end, 64ULL << 30);
	assert_int_equal(pci__default_windows(64ULL << 30, 36, &w), 0);
	assert_int_equal(w.mmio64_end, w.mmio64_base);
	assert_int_equal(pci__default_windows(0, 31, &w), -EINVAL);
	assert_int_equal(pci__default_windows(0, 53, &w), -EINVAL);

	/* Bad windows are refused; CF8 cannot be claimed twice. */
	assert_int_equal(bus__create(&bus), 0);
	assert_int_equal(pci__default_windows(0, 40, &w), 0);
	w.ecam_base = 0xD0000000ULL; /* inside the 32-bit window */
	assert_int_equal(pci__create(bus, &w, &fake_irq_ops, &s, &pbus), -EINVAL);
	assert_int_equal(pci__default_windows(0, 40, &w), 0);
	w.io_end = 0x20000;
	assert_int_equal(pci__create(bus, &w, &fake_irq_ops, &s, &pbus), -EINVAL);
	assert_int_equal(pci__default_windows(0, 40, &w), 0);
	assert_int_equal(pci__create(bus, &w, &fake_irq_ops, &s, &pbus), 0);
	{
		struct pci_bus *second;

		w.ecam_base = 0;
		assert_int_equal(pci__create(bus, &w, &fake_irq_ops, &s, &second),
				 -EEXIST);
	}
	pci__destroy(pbus);
	/* After destroy the ports are free again. */
	assert_int_equal(pci__create(bus, &w, &fake_irq_ops, &s, &pbus), 0);
	pci__destroy(pbus);
	pci__destroy(NULL);
	bus__destroy(bus);
}

static void test_pci__reset_restores_power_on(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;

	assert_int_equal(make_dev(f, &dev, 6), 0);
	conf1_write(f, 6, PCI_COMMAND, 2, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
	conf1_write(f, 6, PCI_INTERRUPT_LINE, 1, 5);
	assert_int_equal(pci_dev__set_intx(dev, 1), 0);
	assert_int_equal(f->sink.level[22], 1);
	pci__reset(f->pbus);
	/* CF8 is back to 0 too. */
	{
		uint8_t d[4];

		assert_int_equal(pio(f, 0xcf8, d, 4, false), 0);
		assert_int_equal(le_val(d, 4), 0);
	}
	assert_int_equal(conf1_read(f, 6, PCI_COMMAND, 2), 0);
	assert_int_equal(conf1_read(f, 6, PCI_INTERRUPT_LINE, 1), 22);
	assert_int_equal(f->sink.level[22], 0);
	pci_dev__destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_pci__host_bridge_identity),
		T(test_pci__conf1_address_register),
		T(test_pci__conf1_every_width),
		T(test_pci__conf1_disabled_or_absent_reads_all_ones),
		T(test_pci__ecam_every_width_and_unaligned),
		T(test_pci__header_read_only_fields),
		T(test_pci__command_and_status),
		T(test_pci__capability_list_walk),
		T(test_pci__capability_walk_survives_loops),
		T(test_pci__passthrough_hooks),
		T(test_pci__intx_routing_and_sharing),
		T(test_pci__intx_no_pin),
		T(test_pci__slots_and_mptable),
		T(test_pci__windows_layout),
		T(test_pci__reset_restores_power_on),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
