/*
 * test-irq-route.c: the KVM GSI routing table and irqfd bookkeeping,
 * against a fake ioctl layer that records what would reach KVM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/pci/irq-route.h"

#define FAKE_FD 42

static struct {
	unsigned int set_calls, irqfd_calls;
	unsigned int nr;             /* entries in the last table */
	struct kvm_irq_routing_entry e[IRQ_ROUTE_MAX_GSI];
	struct kvm_irqfd last_irqfd;
	int fail_errno;              /* next call fails with this */
	int bad_fd;
} fake;

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (fd != FAKE_FD) {
		fake.bad_fd = 1;
		errno = EBADF;
		return -1;
	}
	if (fake.fail_errno) {
		errno = fake.fail_errno;
		fake.fail_errno = 0;
		return -1;
	}
	if (req == KVM_SET_GSI_ROUTING) {
		const struct kvm_irq_routing *t = arg;

		fake.set_calls++;
		assert_true(t->nr <= IRQ_ROUTE_MAX_GSI);
		assert_int_equal(t->flags, 0);
		fake.nr = t->nr;
		memcpy(fake.e, t->entries, t->nr * sizeof(t->entries[0]));
		return 0;
	}
	if (req == KVM_IRQFD) {
		fake.irqfd_calls++;
		fake.last_irqfd = *(const struct kvm_irqfd *)arg;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int setup(void **state)
{
	struct irq_route *rt;

	memset(&fake, 0, sizeof(fake));
	assert_int_equal(irq_route__create(FAKE_FD, fake_ioctl, &rt), 0);
	*state = rt;
	return 0;
}

static int teardown(void **state)
{
	irq_route__destroy(*state);
	assert_false(fake.bad_fd);
	return 0;
}

/* Entries of the last table for @gsi. */
static unsigned int find(unsigned int gsi, struct kvm_irq_routing_entry *out,
			 unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < fake.nr; i++)
		if (fake.e[i].gsi == gsi && n < max)
			out[n++] = fake.e[i];
	return n;
}

static void assert_irqchip_defaults(void)
{
	struct kvm_irq_routing_entry e[4];
	unsigned int gsi, n, i;

	for (gsi = 0; gsi < 24; gsi++) {
		bool ioapic = false, pic = false;

		n = find(gsi, e, 4);
		assert_int_equal(n, gsi < 16 ? 2 : 1);
		for (i = 0; i < n; i++) {
			assert_int_equal(e[i].type, KVM_IRQ_ROUTING_IRQCHIP);
			if (e[i].u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
				assert_int_equal(e[i].u.irqchip.pin, gsi);
				ioapic = true;
			} else {
				assert_int_equal(e[i].u.irqchip.irqchip,
						 gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							 : KVM_IRQCHIP_PIC_SLAVE);
				assert_int_equal(e[i].u.irqchip.pin, gsi % 8);
				pic = true;
			}
		}
		assert_true(ioapic);
		assert_int_equal(pic, gsi < 16);
	}
}

static void test_irq_route__create_sends_nothing(void **state)
{
	struct irq_route *rt = *state;
	struct irq_route *bad;

	assert_int_equal(fake.set_calls, 0);
	assert_int_equal(irq_route__nr_entries(rt), 40);
	assert_int_equal(irq_route__create(-1, fake_ioctl, &bad), -EINVAL);
	irq_route__destroy(NULL);
}

static void test_irq_route__add_keeps_irqchip_defaults(void **state)
{
	struct irq_route *rt = *state;
	struct kvm_irq_routing_entry e[2];
	unsigned int gsi, gsi2;
	uint64_t addr;
	uint32_t data;

	assert_int_equal(irq_route__add_msi(rt, 0x1fee01000ULL, 0x4041, &gsi), 0);
	assert_int_equal(gsi, 24);
	assert_int_equal(fake.set_calls, 1);
	assert_int_equal(fake.nr, 41);
	assert_irqchip_defaults();
	assert_int_equal(find(24, e, 2), 1);
	assert_int_equal(e[0].type, KVM_IRQ_ROUTING_MSI);
	assert_int_equal(e[0].u.msi.address_lo, 0xfee01000);
	assert_int_equal(e[0].u.msi.address_hi, 1);
	assert_int_equal(e[0].u.msi.data, 0x4041);
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 0x4042, &gsi2), 0);
	assert_int_equal(gsi2, 25);
	assert_int_equal(fake.nr, 42);
	assert_int_equal(irq_route__get_msi(rt, 25, &addr, &data), 0);
	assert_int_equal(addr, 0xfee00000);
	assert_int_equal(data, 0x4042);
	assert_int_equal(irq_route__get_msi(rt, 26, &addr, &data), -ENOENT);
	assert_int_equal(irq_route__get_msi(rt, 3, &addr, &data), -ENOENT);
	assert_int_equal(irq_route__nr_entries(rt), 42);
}

static void test_irq_route__update_and_remove(void **state)
{
	struct irq_route *rt = *state;
	struct kvm_irq_routing_entry e[2];
	unsigned int a, b, c;

	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 1, &a), 0);
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 2, &b), 0);
	assert_int_equal(irq_route__update_msi(rt, a, 0xfee02000, 7), 0);
	assert_int_equal(fake.set_calls, 3);
	assert_int_equal(find(a, e, 2), 1);
	assert_int_equal(e[0].u.msi.address_lo, 0xfee02000);
	assert_int_equal(e[0].u.msi.data, 7);
	/* No change, no ioctl. */
	assert_int_equal(irq_route__update_msi(rt, a, 0xfee02000, 7), 0);
	assert_int_equal(fake.set_calls, 3);
	/* Removing frees the GSI for reuse (lowest first). */
	assert_int_equal(irq_route__remove_msi(rt, a), 0);
	assert_int_equal(fake.nr, 41);
	assert_int_equal(find(a, e, 2), 0);
	assert_irqchip_defaults();
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 3, &c), 0);
	assert_int_equal(c, a);
	/* Irqchip GSIs and unknown GSIs are not ours to change. */
	assert_int_equal(irq_route__update_msi(rt, 5, 0, 0), -ENOENT);
	assert_int_equal(irq_route__remove_msi(rt, 23), -ENOENT);
	assert_int_equal(irq_route__remove_msi(rt, 4096), -ENOENT);
	assert_int_equal(irq_route__remove_msi(rt, 999), -ENOENT);
	(void)b;
}

static void test_irq_route__ioctl_failure_rolls_back(void **state)
{
	struct irq_route *rt = *state;
	unsigned int a, g = 1234;
	uint64_t addr;
	uint32_t data;

	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 1, &a), 0);
	fake.fail_errno = ENOMEM;
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 2, &g), -ENOMEM);
	assert_int_equal(g, 1234);
	fake.fail_errno = EINVAL;
	assert_int_equal(irq_route__update_msi(rt, a, 0xfee03000, 9), -EINVAL);
	assert_int_equal(irq_route__get_msi(rt, a, &addr, &data), 0);
	assert_int_equal(addr, 0xfee00000);
	assert_int_equal(data, 1);
	fake.fail_errno = EIO;
	assert_int_equal(irq_route__remove_msi(rt, a), -EIO);
	assert_int_equal(irq_route__get_msi(rt, a, &addr, &data), 0);
	/* The next successful change sends a consistent table. */
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 2, &g), 0);
	assert_int_equal(g, 25);
	assert_int_equal(fake.nr, 42);
	assert_irqchip_defaults();
}

static void test_irq_route__batch(void **state)
{
	struct irq_route *rt = *state;
	unsigned int g[16], i;

	irq_route__batch_begin(rt);
	irq_route__batch_begin(rt); /* nests */
	for (i = 0; i < 16; i++)
		assert_int_equal(irq_route__add_msi(rt, 0xfee00000, i, &g[i]), 0);
	assert_int_equal(irq_route__update_msi(rt, g[3], 0xfee01000, 33), 0);
	assert_int_equal(fake.set_calls, 0);
	assert_int_equal(irq_route__batch_end(rt), 0);
	assert_int_equal(fake.set_calls, 0);
	assert_int_equal(irq_route__batch_end(rt), 0);
	assert_int_equal(fake.set_calls, 1);
	assert_int_equal(fake.nr, 40 + 16);
	/* A failed flush stays pending and goes out with the next change. */
	irq_route__batch_begin(rt);
	assert_int_equal(irq_route__update_msi(rt, g[0], 0xfee02000, 1), 0);
	fake.fail_errno = EFAULT;
	assert_int_equal(irq_route__batch_end(rt), -EFAULT);
	assert_int_equal(irq_route__update_msi(rt, g[0], 0xfee02000, 1), 0);
	assert_int_equal(fake.set_calls, 2);
	/* An empty batch sends nothing; an unbalanced end is harmless. */
	irq_route__batch_begin(rt);
	assert_int_equal(irq_route__batch_end(rt), 0);
	assert_int_equal(irq_route__batch_end(rt), 0);
	assert_int_equal(fake.set_calls, 2);
}

static void test_irq_route__gsi_exhaustion(void **state)
{
	struct irq_route *rt = *state;
	unsigned int i, g;
	int ret = 0;

	irq_route__batch_begin(rt);
	/* 4096 table entries in all: 40 irqchip + 4056 MSI routes. */
	for (i = 0; i < 4056; i++) {
		ret = irq_route__add_msi(rt, 0xfee00000, i, &g);
		if (ret)
			break;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(g, 24 + 4055);
	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 0, &g), -ENOSPC);
	assert_int_equal(irq_route__batch_end(rt), 0);
	assert_int_equal(fake.nr, 4096);
}

static void test_irq_route__irqfd(void **state)
{
	struct irq_route *rt = *state;
	unsigned int g;

	assert_int_equal(irq_route__add_msi(rt, 0xfee00000, 1, &g), 0);
	assert_int_equal(irq_route__irqfd_assign(rt, g, 7, -1), 0);
	assert_int_equal(fake.last_irqfd.fd, 7);
	assert_int_equal(fake.last_irqfd.gsi, g);
	assert_int_equal(fake.last_irqfd.flags, 0);
	/* A bound GSI cannot be removed. */
	assert_int_equal(irq_route__remove_msi(rt, g), -EBUSY);
	/* Resample only on irqchip GSIs. */
	assert_int_equal(irq_route__irqfd_assign(rt, g, 8, 9), -EINVAL);
	assert_int_equal(irq_route__irqfd_assign(rt, 19, 8, 9), 0);
	assert_int_equal(fake.last_irqfd.flags, KVM_IRQFD_FLAG_RESAMPLE);
	assert_int_equal(fake.last_irqfd.resamplefd, 9);
	assert_int_equal(fake.last_irqfd.gsi, 19);
	/* Unknown GSIs, bad fds. */
	assert_int_equal(irq_route__irqfd_assign(rt, 300, 10, -1), -ENOENT);
	assert_int_equal(irq_route__irqfd_assign(rt, g, -1, -1), -EINVAL);
	assert_int_equal(irq_route__irqfd_deassign(rt, g, 8), -ENOENT);
	/* KVM refusing is reported and not recorded. */
	fake.fail_errno = EBUSY;
	assert_int_equal(irq_route__irqfd_assign(rt, g, 11, -1), -EBUSY);
	assert_int_equal(irq_route__irqfd_deassign(rt, g, 11), -ENOENT);
	/* Deassign, then the route can go. */
	assert_int_equal(irq_route__irqfd_deassign(rt, g, 7), 0);
	assert_int_equal(fake.last_irqfd.flags, KVM_IRQFD_FLAG_DEASSIGN);
	assert_int_equal(fake.last_irqfd.fd, 7);
	assert_int_equal(irq_route__remove_msi(rt, g), 0);
	assert_int_equal(irq_route__irqfd_deassign(rt, 19, 8), 0);
	assert_int_equal(fake.irqfd_calls, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_irq_route__create_sends_nothing),
		T(test_irq_route__add_keeps_irqchip_defaults),
		T(test_irq_route__update_and_remove),
		T(test_irq_route__ioctl_failure_rolls_back),
		T(test_irq_route__batch),
		T(test_irq_route__gsi_exhaustion),
		T(test_irq_route__irqfd),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
