/*
 * test-pci-state.c: save/load of a PCI function's emulated state: a
 * round trip into a fresh device on a second bus (as on a migration
 * target), rejection of a state for a different device, and a corrupt
 * state that tries to change read-only registers.
 */
#include "pci-fixture.h"

#include "devices/pci/pci-dev-state.h"

#define SLOT 5

struct model {
	unsigned int nr_ev;
	struct pci_msi_vector last;
};

static void m_vector_changed(void *opaque, const struct pci_msi_vector *v)
{
	struct model *m = opaque;

	m->nr_ev++;
	m->last = *v;
}

static const struct pci_dev_ops m_ops = { .vector_changed = m_vector_changed };

static struct pci_dev *build(struct fixture *f, struct model *m)
{
	struct pci_dev *dev;

	assert_int_equal(pci_dev__create("st", &test_ident, &m_ops, m, &dev), 0);
	assert_int_equal(pci_dev__set_bar(dev, 0, 0x4000, 0), 0);
	assert_int_equal(pci_dev__set_bar(dev, 2, 1 << 20, PCI_BAR_F_MEM64), 0);
	assert_int_equal(pci_dev__msi_init(dev, 0, 4, PCI_MSI_F_MASKABLE), 0);
	assert_int_equal(pci_dev__msix_init(dev, 0, 8, 0, 0x2000, 0, 0x3000), 0);
	assert_int_equal(pci__register_device(f->pbus, dev, SLOT), 0);
	return dev;
}

static void test_pci_state__round_trip(void **state)
{
	struct fixture *src = *state, *dst;
	struct model ms = { 0 }, md = { 0 };
	struct pci_dev *a = build(src, &ms), *b;
	struct pci_dev_state *st = calloc(1, sizeof(*st));
	unsigned int msix = pci_dev__find_cap(a, PCI_CAP_ID_MSIX);
	uint64_t bar0 = 0xD0000000ULL;
	unsigned int reg;
	uint8_t d[8];

	assert_non_null(st);
	/* Guest activity on the source. */
	conf1_write(src, SLOT, 0x10, 4, (uint32_t)bar0);
	conf1_write(src, SLOT, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	conf1_write(src, SLOT, msix + 2, 2, PCI_MSIX_FLAGS_ENABLE);
	put_val(d, 8, 0x00000000fee02000ULL);
	assert_int_equal(mmio(src, bar0 + 0x2000 + 16 * 6, d, 8, true), 0);
	put_val(d, 4, 0x4066);
	assert_int_equal(mmio(src, bar0 + 0x2000 + 16 * 6 + 8, d, 4, true), 0);
	assert_int_equal(pci_dev__msix_notify(a, 6), 0); /* masked: pending */
	assert_int_equal(pci_dev__set_intx(a, 1), 0);    /* silenced by MSI-X */
	pci_dev__save_state(a, st);
	assert_int_equal(st->msix_nvec, 8);
	assert_true(st->intx_level);

	/* The target: a fresh device with the same shape on another bus. */
	assert_int_equal(fixture_setup((void **)&dst), 0);
	b = build(dst, &md);
	assert_false(pci_dev__bar_mapped(b, 0));
	assert_int_equal(pci_dev__load_state(b, st), 0);
	for (reg = 0; reg < 256; reg += 4)
		assert_int_equal(conf1_read(dst, SLOT, reg, 4),
				 conf1_read(src, SLOT, reg, 4));
	assert_true(pci_dev__bar_mapped(b, 0));
	assert_int_equal(pci_dev__bar_addr(b, 0), bar0);
	assert_int_equal(mmio(dst, bar0 + 0x2000 + 16 * 6, d, 8, false), 0);
	assert_int_equal(le_val(d, 8), 0xfee02000ULL);
	assert_true(pci_dev__msix_pending(b, 6));
	assert_true(pci_dev__msix_enabled(b));
	/* The model heard about every vector now enabled (8 of them). */
	assert_int_equal(md.nr_ev, 8);
	/* Unmasking on the target delivers the migrated pending message. */
	put_val(d, 4, 0);
	assert_int_equal(mmio(dst, bar0 + 0x2000 + 16 * 6 + 12, d, 4, true), 0);
	assert_int_equal(dst->sink.nr_msi, 1);
	assert_int_equal(dst->sink.msi_addr[0], 0xfee02000);
	assert_int_equal(dst->sink.msi_data[0], 0x4066);
	/* INTx: level migrated; asserted once MSI-X goes off. */
	conf1_write(dst, SLOT, msix + 2, 2, 0);
	assert_int_equal(dst->sink.level[pci_dev__intx_gsi(b)], 1);

	pci_dev__destroy(b);
	fixture_teardown((void **)&dst);
	pci_dev__destroy(a);
	free(st);
}

static void test_pci_state__rejects_other_device(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *a = build(f, &m), *c;
	struct pci_dev_state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	pci_dev__save_state(a, st);
	pci__unregister_device(f->pbus, a);
	/* Same IDs, but BAR0 is I/O. */
	assert_int_equal(pci_dev__create("c", &test_ident, NULL, NULL, &c), 0);
	assert_int_equal(pci_dev__set_bar(c, 0, 0x100, PCI_BAR_F_IO), 0);
	assert_int_equal(pci_dev__set_bar(c, 2, 1 << 20, PCI_BAR_F_MEM64), 0);
	assert_int_equal(pci__register_device(f->pbus, c, SLOT), 0);
	assert_int_equal(pci_dev__load_state(c, st), -EINVAL);
	/* Different MSI-X size. */
	st->msix_nvec = 9;
	assert_int_equal(pci_dev__load_state(a, st), -EINVAL);
	st->msix_nvec = 8;
	st->device_id ^= 1;
	assert_int_equal(pci_dev__load_state(a, st), -EINVAL);
	pci_dev__destroy(c);
	pci_dev__destroy(a);
	free(st);
}

static void test_pci_state__corrupt_state_cannot_change_ro(void **state)
{
	struct fixture *f = *state;
	struct model m = { 0 };
	struct pci_dev *a = build(f, &m);
	struct pci_dev_state *st = calloc(1, sizeof(*st));
	unsigned int msix = pci_dev__find_cap(a, PCI_CAP_ID_MSIX);
	uint32_t before[64];
	unsigned int reg, i;

	assert_non_null(st);
	for (reg = 0; reg < 256; reg += 4)
		before[reg / 4] = conf1_read(f, SLOT, reg, 4);
	pci_dev__save_state(a, st);
	/* Flip every bit of the header and the capabilities ... */
	for (i = 0; i < 256; i++)
		st->cfg[i] ^= 0xff;
	/* ... except the BARs, whose read-only bits the shape check covers. */
	for (i = PCI_BAR0; i < PCI_BAR0 + 24; i++)
		st->cfg[i] ^= 0xff;
	memset(st->msix_table, 0xff, sizeof(st->msix_table));
	memset(st->msix_pba, 0xff, sizeof(st->msix_pba));
	st->msi_pending = 0xffffffff;
	assert_int_equal(pci_dev__load_state(a, st), 0);
	/* Read-only registers are untouched. */
	assert_int_equal(conf1_read(f, SLOT, 0, 4), before[0]);
	assert_int_equal(conf1_read(f, SLOT, 8, 4), before[2]);
	assert_int_equal(conf1_read(f, SLOT, PCI_CAPABILITY_LIST, 1),
			 before[PCI_CAPABILITY_LIST / 4] & 0xff);
	assert_int_equal(conf1_read(f, SLOT, msix + 4, 4), 0x2000);
	assert_int_equal(conf1_read(f, SLOT, msix + 2, 2) & 0x7ff, 7);
	/* Only existing vectors can be pending. */
	for (i = 0; i < 8; i++)
		assert_true(pci_dev__msix_pending(a, i));
	assert_true(pci_dev__msi_pending(a, 3));
	assert_false(pci_dev__msi_pending(a, 4));
	pci_dev__destroy(a);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_pci_state__round_trip),
		T(test_pci_state__rejects_other_device),
		T(test_pci_state__corrupt_state_cannot_change_ro),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
