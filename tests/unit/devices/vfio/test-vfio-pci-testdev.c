/*
 * test-vfio-pci-testdev.c: the VFIO PCI model over the real vfio-user
 * client and real ferry-testdev processes, still without KVM (PCI bus
 * and guest RAM are real, KVM routes are recorded): BAR0 registers
 * through trapped accesses, BAR2 through its mmap, DMA in both directions
 * through the guest RAM memfd with the MSI-X completion interrupt, two
 * devices at once, and a device server killed under the model.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "testdev-harness.h"
#include "vfio-pci-env.h"

/* ferry-testdev's BAR0 registers (docs/vfio-user.md). */
#define TD_ID 0x000
#define TD_ID_VALUE 0x54444556
#define TD_MEM_SIZE_LO 0x008
#define TD_SCRATCH0 0x020
#define TD_DMA_DEV_LO 0x050
#define TD_DMA_ADDR_LO 0x058
#define TD_DMA_LEN 0x060
#define TD_DMA_CTRL 0x064
#define TD_DMA_STATUS 0x068
#define TD_IRQ_TRIGGER 0x090
#define TD_CTRL_START 1u
#define TD_CTRL_FROM_GUEST 2u
#define TD_CTRL_IRQ 4u
#define TD_MSIX_CAP 0x40
#define TD_MSIX_TABLE 0x800
#define TD_MEM_SIZE (64 * 1024)

struct dev {
	struct testdev_proc td;
	struct vfio_pci *vp;
	struct pci_dev *pdev;
	unsigned int slot;
	uint64_t bar0, bar2;
};

static const char *const td_args[] = { "--mem-size", "64K", NULL };

static void dev_start(struct test_env *e, struct dev *d, const char *id)
{
	struct vfio_backend *be;

	assert_int_equal(harness__start(&d->td, td_args), 0);
	assert_int_equal(harness__connect(&d->td, &be), 0);
	assert_int_equal(vfio_pci__create(&e->env, id, be, &d->vp), 0);
	d->pdev = vfio_pci__pci_dev(d->vp);
	d->slot = (unsigned int)pci_dev__slot(d->pdev);
	d->bar0 = pci_dev__bar_addr(d->pdev, 0);
	d->bar2 = pci_dev__bar_addr(d->pdev, 2);
	conf1_write(e->f, d->slot, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void dev_stop(struct dev *d)
{
	vfio_pci__destroy(d->vp);
	harness__stop(&d->td);
}

static uint32_t rd32(struct test_env *e, uint64_t a)
{
	uint32_t v = 0;

	assert_int_equal(mmio(e->f, a, &v, 4, false), 0);
	return v;
}

static void wr32(struct test_env *e, uint64_t a, uint32_t v)
{
	assert_int_equal(mmio(e->f, a, &v, 4, true), 0);
}

/* The host mapping behind BAR2's memslot. */
static uint8_t *bar2_hva(struct test_env *e, struct dev *d)
{
	unsigned int i;

	for (i = 0; i < ENV_MAX_SLOTS; i++)
		if (e->used[i] && e->slot_gpa[i] == d->bar2)
			return e->slot_hva[i];
	fail_msg("no memslot for BAR2 at 0x%llx", (unsigned long long)d->bar2);
	return NULL;
}

static void dma(struct test_env *e, struct dev *d, uint64_t dev_off,
		uint64_t gpa, uint32_t len, uint32_t ctrl)
{
	wr32(e, d->bar0 + TD_DMA_DEV_LO, (uint32_t)dev_off);
	wr32(e, d->bar0 + TD_DMA_DEV_LO + 4, 0);
	wr32(e, d->bar0 + TD_DMA_ADDR_LO, (uint32_t)gpa);
	wr32(e, d->bar0 + TD_DMA_ADDR_LO + 4, (uint32_t)(gpa >> 32));
	wr32(e, d->bar0 + TD_DMA_LEN, len);
	wr32(e, d->bar0 + TD_DMA_CTRL, ctrl | TD_CTRL_START);
	assert_int_equal(rd32(e, d->bar0 + TD_DMA_STATUS), 1);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed) ^ (i >> 8));
}

static void test_registers_dma_and_irq(void **state)
{
	struct test_env *e = env_setup(true);
	uint8_t want[4096], got[4096], *hva;
	uint64_t table, cnt;
	struct dev d;
	int efd0;

	(void)state;
	dev_start(e, &d, "vfio0");
	assert_int_equal(conf1_read(e->f, d.slot, PCI_VENDOR_ID, 4), 0x00014654);
	assert_int_equal(conf1_read(e->f, d.slot, PCI_CAPABILITY_LIST, 1),
			 TD_MSIX_CAP);
	assert_int_equal(conf1_read(e->f, d.slot, TD_MSIX_CAP + 2, 2), 3);
	/* Trapped BAR0 registers reach the device. */
	assert_int_equal(rd32(e, d.bar0 + TD_ID), TD_ID_VALUE);
	assert_int_equal(rd32(e, d.bar0 + TD_MEM_SIZE_LO), TD_MEM_SIZE);
	wr32(e, d.bar0 + TD_SCRATCH0, 0xcafe0001);
	assert_int_equal(rd32(e, d.bar0 + TD_SCRATCH0), 0xcafe0001);
	/* BAR2 is a memslot over the device's memory. */
	assert_int_equal(env_live_slots(e), 1);
	hva = bar2_hva(e, &d);

	/* MSI-X on, vector 0 masked: completions become pending bits. */
	table = d.bar0 + TD_MSIX_TABLE;
	conf1_write(e->f, d.slot, TD_MSIX_CAP + 2, 2, PCI_MSIX_FLAGS_ENABLE);
	env_msix_entry(e, table, 0, 0xfee00000, 0x45, true);

	/* Guest -> device: a page from RAM lands in BAR2 at 0x3000. */
	fill(want, sizeof(want), 1);
	assert_int_equal(mem__write(e->mem, 0x100000, want, sizeof(want)), 0);
	dma(e, &d, 0x3000, 0x100000, sizeof(want),
	    TD_CTRL_FROM_GUEST | TD_CTRL_IRQ);
	assert_memory_equal(hva + 0x3000, want, sizeof(want));
	assert_int_equal(vfio_pci__poll_irqs(d.vp), 1);
	assert_true(pci_dev__msix_pending(d.pdev, 0));
	assert_int_equal(e->f->sink.nr_msi, 0);

	/* Device -> guest: what the guest wrote through BAR2 comes back. */
	fill(hva + 0x5000, sizeof(want), 7);
	memcpy(want, hva + 0x5000, sizeof(want));
	dma(e, &d, 0x5000, 0x200000, sizeof(want), TD_CTRL_IRQ);
	assert_int_equal(mem__read(e->mem, 0x200000, got, sizeof(got)), 0);
	assert_memory_equal(got, want, sizeof(want));
	/* A second completion while pending: still one pending bit. */
	assert_int_equal(vfio_pci__poll_irqs(d.vp), 1);
	assert_true(pci_dev__msix_pending(d.pdev, 0));
	assert_int_equal(e->f->sink.nr_msi, 0);

	/* Unmask: the pending completion is delivered, once. */
	env_msix_entry(e, table, 0, 0xfee00000, 0x45, false);
	assert_int_equal(e->f->sink.nr_msi, 1);
	assert_int_equal(e->f->sink.msi_data[0], 0x45);
	/* Unmasked, the vector is bound with an irqfd: KVM would take it. */
	efd0 = -1;
	assert_int_equal(e->nr_irqfd, 1);
	efd0 = e->irqfd_fd[0];
	assert_true(e->irqfd_gsi[0] >= IRQ_ROUTE_IRQCHIP_GSIS);
	assert_true(read(efd0, &cnt, 8) < 0); /* nothing left behind */
	wr32(e, d.bar0 + TD_IRQ_TRIGGER, 0);
	assert_int_equal(read(efd0, &cnt, 8), 8);
	assert_int_equal(cnt, 1);
	dev_stop(&d);
	env_teardown(e);
}

static void test_two_devices(void **state)
{
	struct test_env *e = env_setup(true);
	uint8_t a[512], b[512];
	struct dev d1, d2;

	(void)state;
	dev_start(e, &d1, "vfio0");
	dev_start(e, &d2, "vfio1");
	assert_int_not_equal(d1.slot, d2.slot);
	assert_true(d1.bar2 != d2.bar2 && d1.bar0 != d2.bar0);
	assert_int_equal(env_live_slots(e), 2);
	wr32(e, d1.bar0 + TD_SCRATCH0, 111);
	wr32(e, d2.bar0 + TD_SCRATCH0, 222);
	assert_int_equal(rd32(e, d1.bar0 + TD_SCRATCH0), 111);
	assert_int_equal(rd32(e, d2.bar0 + TD_SCRATCH0), 222);
	fill(a, sizeof(a), 3);
	fill(b, sizeof(b), 4);
	assert_int_equal(mem__write(e->mem, 0x300000, a, sizeof(a)), 0);
	assert_int_equal(mem__write(e->mem, 0x400000, b, sizeof(b)), 0);
	dma(e, &d1, 0, 0x300000, sizeof(a), TD_CTRL_FROM_GUEST);
	dma(e, &d2, 0, 0x400000, sizeof(b), TD_CTRL_FROM_GUEST);
	assert_memory_equal(bar2_hva(e, &d1), a, sizeof(a));
	assert_memory_equal(bar2_hva(e, &d2), b, sizeof(b));
	dev_stop(&d2);
	dev_stop(&d1);
	assert_int_equal(env_live_slots(e), 0);
	env_teardown(e);
}

static void test_server_killed(void **state)
{
	struct test_env *e = env_setup(true);
	struct dev d, d2;

	(void)state;
	dev_start(e, &d, "vfio0");
	dev_start(e, &d2, "vfio1");
	assert_int_equal(rd32(e, d.bar0 + TD_ID), TD_ID_VALUE);
	assert_int_equal(env_live_slots(e), 2);
	kill(d.td.pid, SIGKILL);
	waitpid(d.td.pid, NULL, 0);
	d.td.pid = 0;
	/* The next access finds the server gone: all ones from now on. */
	assert_int_equal(rd32(e, d.bar0 + TD_ID), 0xffffffff);
	assert_true(vfio_pci__failed(d.vp) < 0);
	assert_true(vfio_pci__device(d.vp)->failed < 0);
	assert_int_equal(rd32(e, d.bar2), 0xffffffff); /* memslot dropped */
	assert_int_equal(conf1_read(e->f, d.slot, TD_MSIX_CAP + 4, 4),
			 0x800); /* emulated config still answers */
	/* The other device is unaffected. */
	assert_int_equal(vfio_pci__failed(d2.vp), 0);
	assert_int_equal(rd32(e, d2.bar0 + TD_ID), TD_ID_VALUE);
	assert_int_equal(env_live_slots(e), 1);
	dev_stop(&d);
	dev_stop(&d2);
	env_teardown(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_dma_and_irq),
		cmocka_unit_test(test_two_devices),
		cmocka_unit_test(test_server_killed),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
