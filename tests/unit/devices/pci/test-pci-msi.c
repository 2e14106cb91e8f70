/*
 * test-pci-msi.c: MSI and MSI-X emulation: capability layout and write
 * masks, the MSI-X table and PBA as the guest sees them through a BAR,
 * per-vector and function masking, pending bits, delivery through a
 * fake MSI sink, the vector_changed hook a VFIO model relies on, INTx
 * suppression, reset, and bad set-up arguments.
 */
#include "pci-fixture.h"

#define TABLE_OFF 0x2000
#define PBA_OFF 0x3000
#define NVEC 70
#define SLOT 4

#define MAX_EV 256

struct model {
	unsigned int reads;
	unsigned int nr_ev;
	struct pci_msi_vector ev[MAX_EV];
};

static void m_bar_read(void *opaque, unsigned int bar, uint64_t off,
		       void *data, uint32_t len)
{
	struct model *m = opaque;

	m->reads++;
	memset(data, 0x5a, len);
}

static void m_vector_changed(void *opaque, const struct pci_msi_vector *v)
{
	struct model *m = opaque;

	if (m->nr_ev < MAX_EV)
		m->ev[m->nr_ev] = *v;
	m->nr_ev++;
}

static const struct pci_dev_ops m_ops = {
	.bar_read = m_bar_read,
	.vector_changed = m_vector_changed,
};

struct msix_fix {
	struct fixture *f;
	struct model m;
	struct pci_dev *dev;
	uint64_t bar;
	unsigned int cap;
};

static void msix_setup(struct fixture *f, struct msix_fix *x)
{
	memset(x, 0, sizeof(*x));
	x->f = f;
	assert_int_equal(pci_dev__create("msix", &test_ident, &m_ops, &x->m,
					 &x->dev), 0);
	assert_int_equal(pci_dev__set_bar(x->dev, 0, 0x4000, 0), 0);
	assert_int_equal(pci_dev__msix_init(x->dev, 0, NVEC, 0, TABLE_OFF, 0,
					    PBA_OFF), 0);
	assert_int_equal(pci__register_device(f->pbus, x->dev, SLOT), 0);
	x->cap = pci_dev__find_cap(x->dev, PCI_CAP_ID_MSIX);
	assert_int_not_equal(x->cap, 0);
	x->bar = pci_dev__bar_addr(x->dev, 0);
	conf1_write(f, SLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
}

static uint64_t tbl_read(struct msix_fix *x, unsigned int vec,
			 unsigned int field, unsigned int len)
{
	uint8_t d[8];

	assert_int_equal(mmio(x->f, x->bar + TABLE_OFF + vec * 16 + field, d,
			      len, false), 0);
	return le_val(d, len);
}

static void tbl_write(struct msix_fix *x, unsigned int vec, unsigned int field,
		      unsigned int len, uint64_t v)
{
	uint8_t d[8];

	put_val(d, len, v);
	assert_int_equal(mmio(x->f, x->bar + TABLE_OFF + vec * 16 + field, d,
			      len, true), 0);
}

static uint64_t pba_read(struct msix_fix *x, unsigned int qword)
{
	uint8_t d[8];

	assert_int_equal(mmio(x->f, x->bar + PBA_OFF + 8 * qword, d, 8, false), 0);
	return le_val(d, 8);
}

static void msix_ctrl(struct msix_fix *x, uint16_t v)
{
	conf1_write(x->f, SLOT, x->cap + PCI_MSIX_FLAGS, 2, v);
}

static void program(struct msix_fix *x, unsigned int vec, uint64_t addr,
		    uint32_t data)
{
	tbl_write(x, vec, PCI_MSIX_ENTRY_ADDR_LO, 8, addr);
	tbl_write(x, vec, PCI_MSIX_ENTRY_DATA, 4, data);
}

static void test_pci_msix__capability_layout(void **state)
{
	struct msix_fix x;

	msix_setup(*state, &x);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 2, 2), NVEC - 1);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 4, 4), TABLE_OFF | 0);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 8, 4), PBA_OFF | 0);
	/* Only enable and function mask are writable. */
	msix_ctrl(&x, 0xffff);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 2, 2),
			 0xc000 | (NVEC - 1));
	conf1_write(x.f, SLOT, x.cap + 4, 4, 0xffffffff);
	conf1_write(x.f, SLOT, x.cap + 8, 4, 0);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 4, 4), TABLE_OFF);
	assert_int_equal(conf1_read(x.f, SLOT, x.cap + 8, 4), PBA_OFF);
	assert_true(pci_dev__msix_enabled(x.dev));
	pci_dev__destroy(x.dev);
}

static void test_pci_msix__table_reads_and_writes(void **state)
{
	struct msix_fix x;
	uint8_t d[4];
	unsigned int v;

	msix_setup(*state, &x);
	/* Power-on: zero messages, every vector masked, no pending. */
	for (v = 0; v < NVEC; v++) {
		assert_int_equal(tbl_read(&x, v, 0, 8), 0);
		assert_int_equal(tbl_read(&x, v, 8, 4), 0);
		assert_int_equal(tbl_read(&x, v, 12, 4), 1);
	}
	assert_int_equal(pba_read(&x, 0), 0);
	assert_int_equal(pba_read(&x, 1), 0);
	/* Dword and qword writes; address bits 1:0 and reserved control
	 * bits are read-only. */
	tbl_write(&x, 5, 0, 4, 0xfee01003);
	tbl_write(&x, 5, 4, 4, 0x12345678);
	tbl_write(&x, 5, 8, 4, 0xdeadbeef);
	tbl_write(&x, 5, 12, 4, 0xfffffffe);
	assert_int_equal(tbl_read(&x, 5, 0, 8), 0x12345678fee01000ULL);
	assert_int_equal(tbl_read(&x, 5, 8, 4), 0xdeadbeef);
	assert_int_equal(tbl_read(&x, 5, 12, 4), 0);
	tbl_write(&x, 69, 8, 8, 0xffffffff00000042ULL); /* data + control */
	assert_int_equal(tbl_read(&x, 69, 8, 4), 0x42);
	assert_int_equal(tbl_read(&x, 69, 12, 4), 1);
	/* Byte access works and neighbours are untouched. */
	tbl_write(&x, 5, 9, 1, 0x11);
	assert_int_equal(tbl_read(&x, 5, 8, 4), 0xdead11ef);
	assert_int_equal(tbl_read(&x, 5, 10, 1), 0xad);
	/* The PBA is read-only. */
	put_val(d, 4, 0xffffffff);
	assert_int_equal(mmio(x.f, x.bar + PBA_OFF, d, 4, true), 0);
	assert_int_equal(pba_read(&x, 0), 0);
	/* An access straddling the table's end: table bytes + all ones. */
	assert_int_equal(mmio(x.f, x.bar + TABLE_OFF + NVEC * 16 - 2, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0xffff0000u);
	/* Outside table and PBA, the model answers. */
	assert_int_equal(mmio(x.f, x.bar + 0x100, d, 4, false), 0);
	assert_int_equal(le_val(d, 4), 0x5a5a5a5au);
	assert_int_equal(mmio(x.f, x.bar + PBA_OFF + 16, d, 4, false), 0);
	assert_int_equal(x.m.reads, 2);
	pci_dev__destroy(x.dev);
}

static void test_pci_msix__masking_pending_delivery(void **state)
{
	struct fixture *f = *state;
	struct msix_fix x;

	msix_setup(f, &x);
	program(&x, 3, 0xfee00000, 0x4031);
	program(&x, 65, 0xfee01000, 0x4041);
	/* Disabled: notifications are dropped. */
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), -EAGAIN);
	assert_false(pci_dev__msix_pending(x.dev, 3));
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE);
	/* Enabled but the vector is masked: pending, visible in the PBA. */
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), 0);
	assert_int_equal(pci_dev__msix_notify(x.dev, 65), 0);
	assert_int_equal(f->sink.nr_msi, 0);
	assert_true(pci_dev__msix_pending(x.dev, 3));
	assert_int_equal(pba_read(&x, 0), 1ULL << 3);
	assert_int_equal(pba_read(&x, 1), 1ULL << 1);
	/* Unmask: the pending message goes out and the bit clears. */
	tbl_write(&x, 3, 12, 4, 0);
	assert_int_equal(f->sink.nr_msi, 1);
	assert_int_equal(f->sink.msi_addr[0], 0xfee00000);
	assert_int_equal(f->sink.msi_data[0], 0x4031);
	assert_int_equal(pba_read(&x, 0), 0);
	/* Unmasked: direct delivery. */
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), 0);
	assert_int_equal(f->sink.nr_msi, 2);
	/* Function mask holds everything back, per-vector state intact. */
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), 0);
	assert_int_equal(f->sink.nr_msi, 2);
	assert_true(pci_dev__msix_pending(x.dev, 3));
	tbl_write(&x, 65, 12, 4, 0); /* unmask 65 under the function mask */
	assert_int_equal(f->sink.nr_msi, 2);
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE);
	/* Both pending vectors fire on function unmask, in vector order. */
	assert_int_equal(f->sink.nr_msi, 4);
	assert_int_equal(f->sink.msi_data[2], 0x4031);
	assert_int_equal(f->sink.msi_data[3], 0x4041);
	assert_int_equal(f->sink.msi_addr[3], 0xfee01000);
	assert_false(pci_dev__msix_pending(x.dev, 65));
	/* Masked again, then MSI-X disabled: pending stays latched and is
	 * not delivered while disabled. */
	tbl_write(&x, 3, 12, 4, 1);
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), 0);
	msix_ctrl(&x, 0);
	tbl_write(&x, 3, 12, 4, 0);
	assert_int_equal(f->sink.nr_msi, 4);
	assert_true(pci_dev__msix_pending(x.dev, 3));
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->sink.nr_msi, 5);
	/* Bad vectors. */
	assert_int_equal(pci_dev__msix_notify(x.dev, NVEC), -EINVAL);
	assert_false(pci_dev__msix_pending(x.dev, 5000));
	/* A failing sink is reported to the caller. */
	f->sink.fail = -EIO;
	assert_int_equal(pci_dev__msix_notify(x.dev, 3), -EIO);
	pci_dev__destroy(x.dev);
}

static void test_pci_msix__vector_changed_hook(void **state)
{
	struct msix_fix x;
	struct pci_msi_vector v;

	msix_setup(*state, &x);
	assert_int_equal(x.m.nr_ev, 0);
	/* Programming a masked vector while disabled: reported, masked. */
	tbl_write(&x, 7, 0, 4, 0xfee00000);
	assert_int_equal(x.m.nr_ev, 1);
	assert_int_equal(x.m.ev[0].kind, PCI_MSI_KIND_MSIX);
	assert_int_equal(x.m.ev[0].vec, 7);
	assert_int_equal(x.m.ev[0].addr, 0xfee00000);
	assert_true(x.m.ev[0].masked);
	assert_false(x.m.ev[0].enabled);
	/* Writing the same value again reports nothing. */
	tbl_write(&x, 7, 0, 4, 0xfee00000);
	assert_int_equal(x.m.nr_ev, 1);
	/* Enable: every vector's enabled state changes. */
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(x.m.nr_ev, 1 + NVEC);
	assert_true(x.m.ev[1].enabled);
	/* Unmask vector 7: one event, unmasked. */
	tbl_write(&x, 7, 12, 4, 0);
	assert_int_equal(x.m.nr_ev, 2 + NVEC);
	v = x.m.ev[1 + NVEC];
	assert_int_equal(v.vec, 7);
	assert_false(v.masked);
	assert_true(v.enabled);
	/* Function mask: only vector 7 changes its effective mask. */
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(x.m.nr_ev, 3 + NVEC);
	assert_true(x.m.ev[2 + NVEC].masked);
	assert_int_equal(pci_dev__msix_vector(x.dev, 7, &v), 0);
	assert_true(v.masked && v.enabled);
	assert_int_equal(pci_dev__msix_vector(x.dev, NVEC, &v), -EINVAL);
	pci_dev__destroy(x.dev);
}

static void test_pci_msix__intx_suppressed_and_reset(void **state)
{
	struct fixture *f = *state;
	struct msix_fix x;
	int gsi;

	msix_setup(f, &x);
	gsi = pci_dev__intx_gsi(x.dev);
	assert_int_equal(pci_dev__set_intx(x.dev, 1), 0);
	assert_int_equal(f->sink.level[gsi], 1);
	msix_ctrl(&x, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->sink.level[gsi], 0);
	program(&x, 1, 0xfee00000, 0x55);
	tbl_write(&x, 1, 12, 4, 0);
	x.m.nr_ev = 0;
	pci__reset(f->pbus);
	assert_false(pci_dev__msix_enabled(x.dev));
	/* BAR decode is off after reset: the table is not reachable. */
	{
		uint8_t d[4];

		assert_int_equal(mmio(f, x.bar + TABLE_OFF, d, 4, false), -ENOENT);
	}
	conf1_write(f, SLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(tbl_read(&x, 1, 0, 8), 0);
	assert_int_equal(tbl_read(&x, 1, 8, 4), 0);
	assert_int_equal(tbl_read(&x, 1, 12, 4), 1);
	/* The model heard about every vector that was enabled. */
	assert_int_equal(x.m.nr_ev, NVEC);
	assert_false(x.m.ev[1].enabled);
	assert_int_equal(f->sink.level[gsi], 0);
	pci_dev__destroy(x.dev);
}

static void test_pci_msix__init_errors(void **state)
{
	struct pci_dev *dev;

	(void)state;
	assert_int_equal(pci_dev__create("e", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__set_bar(dev, 0, 0x1000, 0), 0);
	assert_int_equal(pci_dev__set_bar(dev, 1, 0x100, PCI_BAR_F_IO), 0);
	/* Missing BAR, I/O BAR, too big, misaligned, overlapping, sizes. */
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 2, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 1, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 256, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 4, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 0, 0, 0x20), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 0, 0, 0xff8 + 8), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 0, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 2049, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 6, 0, 0, 0x800), -EINVAL);
	/* Taking over a capability that is not MSI-X. */
	assert_int_equal(pci_dev__msix_init(dev, 0x40, 4, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_dev__find_cap(dev, PCI_CAP_ID_MSIX), 0);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 0, 0, 0x800), 0);
	assert_int_equal(pci_dev__msix_init(dev, 0, 4, 0, 0, 0, 0x800), -EEXIST);
	assert_int_equal(pci_dev__msix_notify(dev, 0), -EAGAIN);
	/* MSI bad args. */
	assert_int_equal(pci_dev__msi_init(dev, 0, 3, 0), -EINVAL);
	assert_int_equal(pci_dev__msi_init(dev, 0, 64, 0), -EINVAL);
	assert_int_equal(pci_dev__msi_init(dev, 0, 1, 0x10), -EINVAL);
	assert_int_equal(pci_dev__msi_notify(dev, 0), -EINVAL);
	pci_dev__destroy(dev);
}

/* Taking over capabilities loaded from "hardware", as VFIO would. */
static void test_pci_msix__take_over_loaded_caps(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	/* MSI at 0x50 -> MSI-X at 0x60 -> end; garbage in the bodies. */
	uint8_t caps[0x20];
	uint8_t ptr = 0x50, st = PCI_STATUS_CAP_LIST;

	memset(caps, 0xee, sizeof(caps));
	caps[0] = PCI_CAP_ID_MSI;
	caps[1] = 0x60;
	caps[0x10] = PCI_CAP_ID_MSIX;
	caps[0x11] = 0;
	assert_int_equal(pci_dev__create("hw", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__cfg_load(dev, 0x50, caps, sizeof(caps)), 0);
	assert_int_equal(pci_dev__cfg_load(dev, PCI_CAPABILITY_LIST, &ptr, 1), 0);
	assert_int_equal(pci_dev__cfg_load(dev, PCI_STATUS, &st, 1), 0);
	assert_int_equal(pci_dev__set_bar(dev, 2, 0x2000, 0), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0x50, 4, PCI_MSI_F_64BIT), 0);
	assert_int_equal(pci_dev__msix_init(dev, 0x60, 16, 2, 0x1000, 2, 0x1800), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, 8), 0);
	/* Links preserved, bodies replaced by emulated registers. */
	assert_int_equal(conf1_read(f, 8, 0x50, 4),
			 PCI_CAP_ID_MSI | (0x60 << 8) |
			 ((PCI_MSI_FLAGS_64BIT | (2 << 1)) << 16));
	assert_int_equal(conf1_read(f, 8, 0x54, 4), 0);
	assert_int_equal(conf1_read(f, 8, 0x60, 4),
			 PCI_CAP_ID_MSIX | (15u << 16));
	assert_int_equal(conf1_read(f, 8, 0x64, 4), 0x1000 | 2);
	assert_int_equal(conf1_read(f, 8, 0x68, 4), 0x1800 | 2);
	pci_dev__destroy(dev);
}

/* --- MSI --- */

static void test_pci_msi__layout_and_masks(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	unsigned int cap;

	assert_int_equal(pci_dev__create("msi", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 8,
					   PCI_MSI_F_64BIT | PCI_MSI_F_MASKABLE), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, SLOT), 0);
	cap = pci_dev__find_cap(dev, PCI_CAP_ID_MSI);
	assert_int_equal(cap, 0x40);
	/* MMC = log2(8) = 3, 64-bit, per-vector masking. */
	assert_int_equal(conf1_read(f, SLOT, cap + 2, 2), 0x0186);
	conf1_write(f, SLOT, cap + 2, 2, 0xffff);
	/* Only enable and MME are writable. */
	assert_int_equal(conf1_read(f, SLOT, cap + 2, 2), 0x01f7);
	conf1_write(f, SLOT, cap + 2, 2, 0);
	conf1_write(f, SLOT, cap + 4, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, SLOT, cap + 4, 4), 0xfffffffc);
	conf1_write(f, SLOT, cap + 8, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, SLOT, cap + 8, 4), 0xffffffff);
	conf1_write(f, SLOT, cap + 12, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, SLOT, cap + 12, 4), 0xffff);
	/* Mask bits exist for the 8 vectors only; pending is read-only. */
	conf1_write(f, SLOT, cap + 16, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, SLOT, cap + 16, 4), 0xff);
	conf1_write(f, SLOT, cap + 20, 4, 0xffffffff);
	assert_int_equal(conf1_read(f, SLOT, cap + 20, 4), 0);
	pci_dev__destroy(dev);
}

static void test_pci_msi__multi_vector_delivery(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	struct model m = { 0 };
	struct pci_msi_vector v;
	unsigned int cap;
	int gsi;

	assert_int_equal(pci_dev__create("msi", &test_ident, &m_ops, &m, &dev), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 8,
					   PCI_MSI_F_64BIT | PCI_MSI_F_MASKABLE), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, SLOT), 0);
	cap = pci_dev__find_cap(dev, PCI_CAP_ID_MSI);
	gsi = pci_dev__intx_gsi(dev);
	assert_int_equal(pci_dev__set_intx(dev, 1), 0);
	assert_int_equal(f->sink.level[gsi], 1);

	conf1_write(f, SLOT, cap + 4, 4, 0xfee00000);
	conf1_write(f, SLOT, cap + 8, 4, 0);
	conf1_write(f, SLOT, cap + 12, 2, 0x4023); /* low 2 bits replaced */
	assert_int_equal(pci_dev__msi_notify(dev, 0), -EAGAIN);
	m.nr_ev = 0;
	/* Enable with MME = 2: four vectors. */
	conf1_write(f, SLOT, cap + 2, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
	assert_true(pci_dev__msi_enabled(dev));
	assert_int_equal(f->sink.level[gsi], 0); /* INTx silenced */
	assert_int_equal(m.nr_ev, 4);
	assert_int_equal(m.ev[3].kind, PCI_MSI_KIND_MSI);
	assert_int_equal(m.ev[3].data, 0x4023);
	assert_true(m.ev[3].enabled);
	assert_int_equal(pci_dev__msi_notify(dev, 1), 0);
	assert_int_equal(f->sink.nr_msi, 1);
	assert_int_equal(f->sink.msi_addr[0], 0xfee00000);
	assert_int_equal(f->sink.msi_data[0], 0x4021);
	assert_int_equal(pci_dev__msi_notify(dev, 3), 0);
	assert_int_equal(f->sink.msi_data[1], 0x4023);
	/* Vector 5 is beyond the enabled count. */
	assert_int_equal(pci_dev__msi_notify(dev, 5), -EAGAIN);
	assert_int_equal(pci_dev__msi_notify(dev, 8), -EINVAL);
	/* Mask vector 2: pending, visible in config space; unmask sends. */
	conf1_write(f, SLOT, cap + 16, 4, 1 << 2);
	assert_int_equal(pci_dev__msi_notify(dev, 2), 0);
	assert_int_equal(f->sink.nr_msi, 2);
	assert_true(pci_dev__msi_pending(dev, 2));
	assert_int_equal(conf1_read(f, SLOT, cap + 20, 4), 1 << 2);
	conf1_write(f, SLOT, cap + 16, 4, 0);
	assert_int_equal(f->sink.nr_msi, 3);
	assert_int_equal(f->sink.msi_data[2], 0x4022);
	assert_int_equal(conf1_read(f, SLOT, cap + 20, 4), 0);
	/* MME beyond MMC (8) is clamped to 8 vectors. */
	conf1_write(f, SLOT, cap + 2, 2, PCI_MSI_FLAGS_ENABLE | (5 << 4));
	assert_int_equal(pci_dev__msi_vector(dev, 7, &v), 0);
	assert_true(v.enabled);
	assert_int_equal(v.data, 0x4027);
	/* Disable: INTx comes back. */
	conf1_write(f, SLOT, cap + 2, 2, 0);
	assert_int_equal(f->sink.level[gsi], 1);
	assert_int_equal(pci_dev__msi_vector(dev, 0, &v), 0);
	assert_false(v.enabled);
	pci_dev__destroy(dev);
}

static void test_pci_msi__32bit_without_masking(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *dev;
	unsigned int cap;

	assert_int_equal(pci_dev__create("msi32", &test_ident, NULL, NULL, &dev), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 1, 0), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 1, 0), -EEXIST);
	assert_int_equal(pci__register_device(f->pbus, dev, SLOT), 0);
	cap = pci_dev__find_cap(dev, PCI_CAP_ID_MSI);
	assert_int_equal(conf1_read(f, SLOT, cap + 2, 2), 0);
	conf1_write(f, SLOT, cap + 4, 4, 0xfee0100c);
	conf1_write(f, SLOT, cap + 8, 2, 0x0041);
	conf1_write(f, SLOT, cap + 2, 2, PCI_MSI_FLAGS_ENABLE | (3 << 4));
	assert_int_equal(pci_dev__msi_notify(dev, 0), 0);
	assert_int_equal(f->sink.msi_addr[0], 0xfee0100c);
	assert_int_equal(f->sink.msi_data[0], 0x0041);
	/* Next capability (none) follows the 10-byte body. */
	assert_int_equal(conf1_read(f, SLOT, cap + 10, 2), 0);
	pci_dev__destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_pci_msix__capability_layout),
		T(test_pci_msix__table_reads_and_writes),
		T(test_pci_msix__masking_pending_delivery),
		T(test_pci_msix__vector_changed_hook),
		T(test_pci_msix__intx_suppressed_and_reset),
		T(test_pci_msix__init_errors),
		T(test_pci_msix__take_over_loaded_caps),
		T(test_pci_msi__layout_and_masks),
		T(test_pci_msi__multi_vector_delivery),
		T(test_pci_msi__32bit_without_masking),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
