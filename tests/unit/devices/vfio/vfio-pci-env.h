/*
 * vfio-pci-env.h: the environment the VFIO PCI model tests build around
 * it without KVM: the PCI fixture (real bus, fake MSI sink), a GSI
 * routing table over a fake ioctl that records irqfds, real guest RAM
 * (memfd), and a memslot recorder.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_VFIO_PCI_ENV_H
#define TESTS_UNIT_DEVICES_VFIO_VFIO_PCI_ENV_H

#include <linux/kvm.h>

#include "../pci/pci-fixture.h"
#include "devices/pci/irq-route.h"
#include "devices/vfio/vfio-pci.h"
#include "vmm/mem.h"

#define ENV_MAX_SLOTS 32

struct test_env {
	struct fixture *f;
	struct irq_route *rt;
	struct guest_mem *mem;
	struct vfio_pci_env env;
	/* memslots: live ones have used[i] */
	bool used[ENV_MAX_SLOTS];
	uint64_t slot_gpa[ENV_MAX_SLOTS], slot_size[ENV_MAX_SLOTS];
	void *slot_hva[ENV_MAX_SLOTS];
	unsigned int maps, unmaps;
	/* irqfds bound now, by eventfd */
	int irqfd_fd[16];
	unsigned int irqfd_gsi[16];
	int irqfd_resample[16];     /* resamplefd of a resampling irqfd, or -1 */
	unsigned int nr_irqfd, routing_calls;
};

static struct test_env *cur_env;

static int env_ioctl(int fd, unsigned long req, void *arg)
{
	struct test_env *e = cur_env;
	unsigned int i;

	(void)fd;
	if (req == KVM_SET_GSI_ROUTING) {
		e->routing_calls++;
		return 0;
	}
	if (req == KVM_IRQFD) {
		struct kvm_irqfd *q = arg;

		if (q->flags & KVM_IRQFD_FLAG_DEASSIGN) {
			for (i = 0; i < e->nr_irqfd; i++)
				if (e->irqfd_fd[i] == (int)q->fd)
					break;
			assert_true(i < e->nr_irqfd);
			e->irqfd_fd[i] = e->irqfd_fd[--e->nr_irqfd];
			e->irqfd_gsi[i] = e->irqfd_gsi[e->nr_irqfd];
			e->irqfd_resample[i] = e->irqfd_resample[e->nr_irqfd];
			return 0;
		}
		assert_true(e->nr_irqfd < 16);
		e->irqfd_resample[e->nr_irqfd] =
			(q->flags & KVM_IRQFD_FLAG_RESAMPLE) ? (int)q->resamplefd : -1;
		e->irqfd_fd[e->nr_irqfd] = (int)q->fd;
		e->irqfd_gsi[e->nr_irqfd++] = q->gsi;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int env_map(void *opaque, uint64_t gpa, uint64_t size, void *hva,
		   unsigned int *slot)
{
	struct test_env *e = opaque;
	unsigned int i;

	for (i = 0; i < ENV_MAX_SLOTS && e->used[i]; i++)
		;
	if (i == ENV_MAX_SLOTS)
		return -ENOSPC;
	e->used[i] = true;
	e->slot_gpa[i] = gpa;
	e->slot_size[i] = size;
	e->slot_hva[i] = hva;
	e->maps++;
	*slot = i;
	return 0;
}

static int env_unmap(void *opaque, unsigned int slot)
{
	struct test_env *e = opaque;

	assert_true(slot < ENV_MAX_SLOTS && e->used[slot]);
	e->used[slot] = false;
	e->unmaps++;
	return 0;
}

static inline unsigned int env_live_slots(struct test_env *e)
{
	unsigned int i, n = 0;

	for (i = 0; i < ENV_MAX_SLOTS; i++)
		n += e->used[i];
	return n;
}

/* The GSI the irqfd on @efd is bound to, or -1. */
/* The resamplefd of @efd's irqfd (-1: none or not resampling). */
static inline int env_irqfd_resample(struct test_env *e, int efd)
{
	unsigned int i;

	for (i = 0; i < e->nr_irqfd; i++)
		if (e->irqfd_fd[i] == efd)
			return e->irqfd_resample[i];
	return -1;
}

static inline int env_irqfd_gsi(struct test_env *e, int efd)
{
	unsigned int i;

	for (i = 0; i < e->nr_irqfd; i++)
		if (e->irqfd_fd[i] == efd)
			return (int)e->irqfd_gsi[i];
	return -1;
}

static inline struct test_env *env_setup(bool with_routes)
{
	struct test_env *e = calloc(1, sizeof(*e));
	void *st;

	assert_non_null(e);
	cur_env = e;
	fixture_setup(&st);
	e->f = st;
	if (with_routes)
		assert_int_equal(irq_route__create(3, env_ioctl, &e->rt), 0);
	assert_int_equal(mem__create(16 << 20, &e->mem), 0);
	e->env = (struct vfio_pci_env){
		.pbus = e->f->pbus,
		.routes = e->rt,
		.mem = e->mem,
		.loop = NULL,
		.map = env_map,
		.unmap = env_unmap,
		.opaque = e,
	};
	return e;
}

static inline void env_teardown(struct test_env *e)
{
	void *st = e->f;

	fixture_teardown(&st);
	irq_route__destroy(e->rt);
	mem__destroy(e->mem);
	cur_env = NULL;
	free(e);
}

/* Program BAR @bar (and the next for 64-bit) to @addr, enable decode. */
static inline void env_decode(struct test_env *e, unsigned int slot,
			      unsigned int bar, uint64_t addr, bool is64)
{
	conf1_write(e->f, slot, PCI_BAR0 + 4 * bar, 4, (uint32_t)addr);
	if (is64)
		conf1_write(e->f, slot, PCI_BAR0 + 4 * (bar + 1), 4,
			    (uint32_t)(addr >> 32));
	conf1_write(e->f, slot, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/* Program MSI-X entry @vec of a table at @table_gpa. */
static inline void env_msix_entry(struct test_env *e, uint64_t table_gpa,
				  unsigned int vec, uint64_t addr,
				  uint32_t data, bool masked)
{
	uint64_t a = table_gpa + 16ULL * vec;
	uint32_t v;

	v = (uint32_t)addr;
	assert_int_equal(mmio(e->f, a, &v, 4, true), 0);
	v = (uint32_t)(addr >> 32);
	assert_int_equal(mmio(e->f, a + 4, &v, 4, true), 0);
	assert_int_equal(mmio(e->f, a + 8, &data, 4, true), 0);
	v = masked;
	assert_int_equal(mmio(e->f, a + 12, &v, 4, true), 0);
}

#endif /* TESTS_UNIT_DEVICES_VFIO_VFIO_PCI_ENV_H */
