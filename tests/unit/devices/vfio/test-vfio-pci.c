/*
 * test-vfio-pci.c: the VFIO PCI device model over a fake backend, on a
 * real PCI bus without KVM: config space (identity, capability mirroring
 * and hiding, pass-through, BAR sizing, command forwarding), BAR memslots
 * around the MSI-X table, trapped BAR access, MSI-X vectors through
 * irqfds and the userspace pending path, DMA mapping of guest RAM, reset,
 * backend failure, and devices the model must refuse.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "fake-vfio-backend.h"
#include "vfio-pci-env.h"

struct t {
	struct test_env *e;
	struct fake_be *fk;
	struct vfio_pci *vp;
	struct pci_dev *pdev;
	int destroyed;
	unsigned int slot;
};

static void make(struct t *t, const struct fake_opts *o, bool routes)
{
	memset(t, 0, sizeof(*t));
	t->e = env_setup(routes);
	t->fk = fake_be__create(o, &t->destroyed);
	assert_non_null(t->fk);
	assert_int_equal(vfio_pci__create(&t->e->env, "vfio0", &t->fk->be,
					  &t->vp), 0);
	t->pdev = vfio_pci__pci_dev(t->vp);
	t->slot = (unsigned int)pci_dev__slot(t->pdev);
}

static void unmake(struct t *t)
{
	vfio_pci__destroy(t->vp);
	assert_int_equal(t->destroyed, 1);
	env_teardown(t->e);
}

static void test_identity_and_caps(void **state)
{
	struct t t;
	unsigned int s;

	(void)state;
	make(&t, NULL, true);
	s = t.slot;
	assert_int_equal(conf1_read(t.e->f, s, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(conf1_read(t.e->f, s, PCI_DEVICE_ID, 2), 0x5678);
	assert_int_equal(conf1_read(t.e->f, s, PCI_REVISION_ID, 4) >> 8, 0x020000);
	assert_int_equal(conf1_read(t.e->f, s, PCI_REVISION_ID, 1), 3);
	assert_int_equal(conf1_read(t.e->f, s, PCI_SUBSYSTEM_VENDOR_ID, 2), 0xaaaa);
	assert_int_equal(conf1_read(t.e->f, s, PCI_SUBSYSTEM_ID, 2), 0xbbbb);
	/* The multi-function bit and the INTx pin are not passed on. */
	assert_int_equal(conf1_read(t.e->f, s, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(conf1_read(t.e->f, s, PCI_INTERRUPT_PIN, 1), 0);
	/* MSI has no device vectors: hidden; MSI-X then the vendor cap. */
	assert_true(conf1_read(t.e->f, s, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(conf1_read(t.e->f, s, PCI_CAPABILITY_LIST, 1), FAKE_CAP_MSIX);
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_MSIX, 2),
			 0x11 | (FAKE_CAP_VNDR << 8));
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_MSIX + 2, 2), 3);
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_MSIX + 4, 4), 0x800);
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_VNDR, 2), 0x09);
	/* Vendor capability body: passed through both ways. */
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_VNDR + 4, 4), 0xfeedf00d);
	t.fk->cfg[FAKE_CAP_VNDR + 4] = 0x42; /* the device changes it */
	assert_int_equal(conf1_read(t.e->f, s, FAKE_CAP_VNDR + 4, 1), 0x42);
	conf1_write(t.e->f, s, FAKE_CAP_VNDR + 4, 4, 0x12345678);
	assert_int_equal(le_val(&t.fk->cfg[FAKE_CAP_VNDR + 4], 4), 0x12345678);
	/* A write to an emulated byte (the cap's ID) is not forwarded. */
	conf1_write(t.e->f, s, FAKE_CAP_VNDR, 1, 0x77);
	assert_int_equal(t.fk->cfg[FAKE_CAP_VNDR], 0x09);
	/* BAR sizing: 4 KiB BAR0, 64 KiB 64-bit prefetchable BAR2. */
	conf1_write(t.e->f, s, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(conf1_read(t.e->f, s, PCI_BAR0, 4), 0xfffff000);
	conf1_write(t.e->f, s, PCI_BAR0 + 8, 4, 0xffffffff);
	conf1_write(t.e->f, s, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_int_equal(conf1_read(t.e->f, s, PCI_BAR0 + 8, 4), 0xffff000c);
	assert_int_equal(conf1_read(t.e->f, s, PCI_BAR0 + 12, 4), 0xffffffff);
	assert_int_equal(conf1_read(t.e->f, s, PCI_BAR0 + 4, 4), 0);
	/* Expansion ROM: virtualized as absent. */
	conf1_write(t.e->f, s, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(conf1_read(t.e->f, s, PCI_ROM_ADDRESS, 4), 0);
	/* The emulated command register reaches the device. */
	assert_int_equal(le_val(&t.fk->cfg[PCI_COMMAND], 2), 0);
	conf1_write(t.e->f, s, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(le_val(&t.fk->cfg[PCI_COMMAND], 2), PCI_COMMAND_MASTER);
	/* All guest RAM mapped for DMA through the RAM memfd. */
	assert_int_equal(t.fk->nr_dma, t.e->mem->nr_regions);
	assert_int_equal(t.fk->dma_fd[0], t.e->mem->fd);
	assert_int_equal(t.fk->dma_iova[0], 0);
	assert_int_equal(t.fk->dma_size[0], t.e->mem->regions[0].size);
	assert_int_equal(vfio_pci__failed(t.vp), 0);
	assert_string_equal(vfio_pci__device(t.vp)->id, "vfio0");
	vfio_pci__destroy(t.vp);
	t.vp = NULL;
	assert_int_equal(t.destroyed, 1);
	env_teardown(t.e);
}

static void test_msi_cap_kept_when_backed(void **state)
{
	struct fake_opts o = { .msi_count = 4, .msix_count = 4 };
	struct t t;

	(void)state;
	make(&t, &o, true);
	assert_int_equal(conf1_read(t.e->f, t.slot, PCI_CAPABILITY_LIST, 1),
			 FAKE_CAP_MSI);
	assert_int_equal(conf1_read(t.e->f, t.slot, FAKE_CAP_MSI, 2),
			 0x05 | (FAKE_CAP_MSIX << 8));
	/* MSI control is emulated: 4 vectors, 64-bit. */
	assert_int_equal(conf1_read(t.e->f, t.slot, FAKE_CAP_MSI + 2, 2) & 0x8e,
			 0x84);
	unmake(&t);
}

static void test_bar_memslots_and_traps(void **state)
{
	struct t t;
	uint64_t a0, a2;
	uint32_t v;
	uint8_t buf[4];
	unsigned int i;

	(void)state;
	make(&t, NULL, true);
	a0 = pci_dev__bar_addr(t.pdev, 0);
	a2 = pci_dev__bar_addr(t.pdev, 2);
	assert_int_equal(env_live_slots(t.e), 0);
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* BAR2 is one mmapped area: one memslot over all of it. */
	assert_int_equal(env_live_slots(t.e), 1);
	for (i = 0; !t.e->used[i]; i++)
		;
	assert_int_equal(t.e->slot_gpa[i], a2);
	assert_int_equal(t.e->slot_size[i], FAKE_BAR2_SIZE);
	/* A trapped access inside the area is served from the mapping. */
	v = 0xabcd1234;
	assert_int_equal(mmio(t.e->f, a2 + 0x100, &v, 4, true), 0);
	assert_int_equal(pread(t.fk->bar2_fd, buf, 4, 0x100), 4);
	assert_int_equal(le_val(buf, 4), 0xabcd1234);
	assert_int_equal(le_val((uint8_t *)t.e->slot_hva[i] + 0x100, 4), 0xabcd1234);
	/* BAR0 is trapped: a backend region access. */
	put_val(&t.fk->bar0[0x10], 4, 0x5555aaaa);
	v = 0;
	assert_int_equal(mmio(t.e->f, a0 + 0x10, &v, 4, false), 0);
	assert_int_equal(v, 0x5555aaaa);
	v = 0x01020304;
	assert_int_equal(mmio(t.e->f, a0 + 0x20, &v, 4, true), 0);
	assert_int_equal(le_val(&t.fk->bar0[0x20], 4), 0x01020304);
	/* Decode off: the memslot goes; moving the BAR maps it anew. */
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, 0);
	assert_int_equal(env_live_slots(t.e), 0);
	env_decode(t.e, t.slot, 2, a2 + 0x100000, true);
	assert_int_equal(env_live_slots(t.e), 1);
	for (i = 0; !t.e->used[i]; i++)
		;
	assert_int_equal(t.e->slot_gpa[i], a2 + 0x100000);
	unmake(&t);
	/* destroy removed the last slot */
}

static void test_memslots_skip_msix_page(void **state)
{
	struct fake_opts o = { .msix_count = 4, .msix_in_bar2 = true };
	struct t t;
	uint64_t a2;
	unsigned int i, n = 0;
	bool lo = false, hi = false;

	(void)state;
	make(&t, &o, true);
	a2 = pci_dev__bar_addr(t.pdev, 2);
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (i = 0; i < ENV_MAX_SLOTS; i++) {
		if (!t.e->used[i])
			continue;
		n++;
		if (t.e->slot_gpa[i] == a2 && t.e->slot_size[i] == 0x1000)
			lo = true;
		if (t.e->slot_gpa[i] == a2 + 0x2000 &&
		    t.e->slot_size[i] == FAKE_BAR2_SIZE - 0x2000)
			hi = true;
	}
	assert_int_equal(n, 2);
	assert_true(lo && hi);
	unmake(&t);
}

static void msix_ctrl(struct t *t, uint16_t v)
{
	conf1_write(t->e->f, t->slot, FAKE_CAP_MSIX + 2, 2, v);
}

static void test_msix_irqfd_and_pending(void **state)
{
	struct t t;
	uint64_t table, one = 1;
	int efd0;

	(void)state;
	make(&t, NULL, true);
	table = pci_dev__bar_addr(t.pdev, 0) + 0x800;
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(t.fk->set_irqs_calls, 0);
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	/* Enabling MSI-X hands the device all four eventfds. */
	assert_int_equal(t.fk->set_irqs_calls, 1);
	assert_int_equal(t.fk->irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	assert_int_equal(t.fk->irq_flags,
			 VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(t.fk->irq_count, 4);
	efd0 = t.fk->irq_fds[0];
	assert_true(efd0 >= 0);
	assert_int_equal(t.e->nr_irqfd, 0); /* all entries start masked */
	/* Unmasking vector 0 routes it and binds its irqfd. */
	env_msix_entry(t.e, table, 0, 0xfee00000, 0x41, false);
	assert_true(env_irqfd_gsi(t.e, efd0) >= IRQ_ROUTE_IRQCHIP_GSIS);
	assert_int_equal(t.e->nr_irqfd, 1);
	/* Masked: irqfd unbound; a device interrupt becomes pending. */
	env_msix_entry(t.e, table, 0, 0xfee00000, 0x41, true);
	assert_int_equal(t.e->nr_irqfd, 0);
	assert_int_equal(write(efd0, &one, 8), 8);
	assert_int_equal(vfio_pci__poll_irqs(t.vp), 1);
	assert_true(pci_dev__msix_pending(t.pdev, 0));
	assert_int_equal(t.e->f->sink.nr_msi, 0);
	assert_int_equal(vfio_pci__poll_irqs(t.vp), 0);
	/* Unmask: the pending message goes out and the irqfd is back. */
	env_msix_entry(t.e, table, 0, 0xfee00000, 0x41, false);
	assert_int_equal(t.e->f->sink.nr_msi, 1);
	assert_int_equal(t.e->f->sink.msi_data[0], 0x41);
	assert_false(pci_dev__msix_pending(t.pdev, 0));
	assert_true(env_irqfd_gsi(t.e, efd0) >= 0);
	/* Function mask unbinds too. */
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(t.e->nr_irqfd, 0);
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(t.e->nr_irqfd, 1);
	/* Disabling MSI-X takes the eventfds back from the device. */
	msix_ctrl(&t, 0);
	assert_int_equal(t.e->nr_irqfd, 0);
	assert_int_equal(t.fk->set_irqs_calls, 2);
	assert_int_equal(t.fk->irq_flags,
			 VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(t.fk->irq_count, 0);
	unmake(&t);
}

/*
 * INTx: the pin is kept when the device backs it, routed to an IOAPIC
 * GSI with a resampling irqfd whose resamplefd is the device's unmask
 * eventfd; it is unwired before MSI-X is enabled (VFIO refuses both)
 * and wired again when MSI-X is off and after a reset.
 */
static void test_intx(void **state)
{
	struct fake_opts o = { .msix_count = 4, .intx_count = 1 };
	struct t t;
	int trig, line;

	(void)state;
	make(&t, &o, true);
	assert_int_equal(conf1_read(t.e->f, t.slot, PCI_INTERRUPT_PIN, 1), 1);
	line = (int)conf1_read(t.e->f, t.slot, PCI_INTERRUPT_LINE, 1);
	assert_true(line >= 16 && line < 24);
	trig = t.fk->intx_trigger;
	assert_true(trig >= 0);
	assert_true(t.fk->intx_unmask >= 0);
	assert_int_equal(env_irqfd_gsi(t.e, trig), line);
	assert_int_equal(env_irqfd_resample(t.e, trig), t.fk->intx_unmask);
	assert_int_equal(t.fk->intx_enables, 1);
	/* MSI-X on: INTx goes first, and MSI-X gets its eventfds. */
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(t.fk->intx_trigger, -1);
	assert_int_equal(env_irqfd_gsi(t.e, trig), -1);
	assert_int_equal(t.fk->irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	assert_int_equal(t.fk->irq_count, 4);
	assert_false(t.fk->intx_conflict);
	/* MSI-X off: INTx back, with the same eventfds. */
	msix_ctrl(&t, 0);
	assert_int_equal(t.fk->irq_count, 0);
	assert_int_equal(t.fk->intx_trigger, trig);
	assert_int_equal(env_irqfd_gsi(t.e, trig), line);
	assert_int_equal(t.fk->intx_enables, 2);
	/* A bus reset with MSI-X on leaves the function on INTx. */
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(t.fk->intx_trigger, -1);
	pci__reset(t.e->f->pbus);
	assert_int_equal(t.fk->intx_trigger, trig);
	assert_int_equal(env_irqfd_gsi(t.e, trig), line);
	assert_false(t.fk->intx_conflict);
	unmake(&t);
}

/* A pin the device does not back with an INTx eventfd is hidden. */
static void test_intx_pin_without_eventfd(void **state)
{
	struct t t;

	(void)state;
	make(&t, NULL, true);
	assert_int_equal(conf1_read(t.e->f, t.slot, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(t.fk->intx_trigger, -1);
	assert_int_equal(t.e->nr_irqfd, 0);
	unmake(&t);
}

static void test_msix_without_routes(void **state)
{
	struct t t;
	uint64_t table, one = 1;

	(void)state;
	make(&t, NULL, false);
	table = pci_dev__bar_addr(t.pdev, 0) + 0x800;
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	env_msix_entry(t.e, table, 2, 0xfee00000, 0x52, false);
	/* No KVM routes: the event loop path sends the MSI itself. */
	assert_int_equal(write(t.fk->irq_fds[2], &one, 8), 8);
	assert_int_equal(vfio_pci__poll_irqs(t.vp), 1);
	assert_int_equal(t.e->f->sink.nr_msi, 1);
	assert_int_equal(t.e->f->sink.msi_data[0], 0x52);
	unmake(&t);
}

static void test_enable_failure_fails_device(void **state)
{
	struct t t;

	(void)state;
	make(&t, NULL, true);
	t.fk->set_irqs_ret = -EINVAL;
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(vfio_pci__failed(t.vp), -EINVAL);
	assert_int_equal(vfio_pci__device(t.vp)->failed, -EINVAL);
	unmake(&t);
}

static void test_backend_failure(void **state)
{
	struct t t;
	uint64_t a0, a2;
	uint32_t v;
	unsigned int writes;

	(void)state;
	make(&t, NULL, true);
	a0 = pci_dev__bar_addr(t.pdev, 0);
	a2 = pci_dev__bar_addr(t.pdev, 2);
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(env_live_slots(t.e), 1);
	t.fk->fail = true; /* the device server dies */
	v = 0;
	assert_int_equal(mmio(t.e->f, a0 + 0x10, &v, 4, false), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(vfio_pci__failed(t.vp), -EIO);
	/* Memslots are gone, so guest reads of BAR2 trap and see all ones. */
	assert_int_equal(env_live_slots(t.e), 0);
	assert_int_equal(mmio(t.e->f, a2, &v, 4, false), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(conf1_read(t.e->f, t.slot, FAKE_CAP_VNDR + 4, 4),
			 0xffffffff);
	/* Writes are dropped without reaching the backend. */
	writes = t.fk->region_writes;
	v = 1;
	assert_int_equal(mmio(t.e->f, a0 + 0x20, &v, 4, true), 0);
	conf1_write(t.e->f, t.slot, FAKE_CAP_VNDR + 4, 4, 1);
	assert_int_equal(t.fk->region_writes, writes);
	/* Decoding again maps no memslot; the emulated config still works. */
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, 0);
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(env_live_slots(t.e), 0);
	assert_int_equal(conf1_read(t.e->f, t.slot, PCI_VENDOR_ID, 2), 0x1234);
	unmake(&t);
}

static void test_reset(void **state)
{
	struct t t;

	(void)state;
	make(&t, NULL, true);
	conf1_write(t.e->f, t.slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	msix_ctrl(&t, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(t.fk->set_irqs_calls, 1);
	pci__reset(t.e->f->pbus);
	assert_int_equal(t.fk->resets, 1);
	assert_int_equal(t.fk->irq_count, 0); /* interrupts taken back */
	assert_int_equal(le_val(&t.fk->cfg[PCI_COMMAND], 2), 0);
	assert_int_equal(env_live_slots(t.e), 0);
	assert_int_equal(conf1_read(t.e->f, t.slot, FAKE_CAP_MSIX + 2, 2), 3);
	unmake(&t);
}

static void expect_refused(const struct fake_opts *o, bool fail, int err)
{
	struct test_env *e = env_setup(true);
	int destroyed = 0;
	struct fake_be *fk = fake_be__create(o, &destroyed);
	struct vfio_pci *vp = NULL;

	assert_non_null(fk);
	fk->fail = fail;
	assert_int_equal(vfio_pci__create(&e->env, "bad0", &fk->be, &vp), err);
	assert_null(vp);
	assert_int_equal(destroyed, 1); /* the backend is freed on failure */
	assert_int_equal(env_live_slots(e), 0);
	assert_null(pci__slot_device(e->f->pbus, 1));
	env_teardown(e);
}

static void test_refused_devices(void **state)
{
	struct fake_opts bridge = { .msix_count = 4, .header_type = 0x01 };
	struct fake_opts tiny = { .msix_count = 4, .cfg_size = 64 };

	(void)state;
	expect_refused(&bridge, false, -ENOTSUP);
	expect_refused(&tiny, false, -EINVAL);
	expect_refused(NULL, true, -EIO);
}

static void test_extended_config(void **state)
{
	struct fake_opts o = { .msix_count = 4, .cfg_size = 4096 };
	struct t t;
	unsigned int reads;

	(void)state;
	make(&t, &o, true);
	/* Extended space is passed through: the device answers. */
	reads = t.fk->region_reads;
	assert_int_equal(ecam_read(t.e->f, t.slot, 0x100, 4), 0);
	assert_int_equal(t.fk->region_reads, reads + 1);
	unmake(&t);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_and_caps),
		T(test_msi_cap_kept_when_backed),
		T(test_bar_memslots_and_traps),
		T(test_memslots_skip_msix_page),
		T(test_msix_irqfd_and_pending),
		T(test_intx),
		T(test_intx_pin_without_eventfd),
		T(test_msix_without_routes),
		T(test_enable_failure_fails_device),
		T(test_backend_failure),
		T(test_reset),
		T(test_refused_devices),
		T(test_extended_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
