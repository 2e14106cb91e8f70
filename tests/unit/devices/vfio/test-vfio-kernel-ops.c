/*
 * test-vfio-kernel-ops.c: the kernel VFIO backend's IRQ, reset and feature
 * operations against the scripted fake kernel: IRQ info (and hostile
 * counts), the SET_IRQS payload layout (MSI-X eventfd arrays, INTx trigger
 * + resample unmask, disable, refusals that make no call), reset and
 * generic device features with their 8-byte header.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "fake-vfio-dev.h"
#include "fake-vfio.h"
#include "vmm/compat/vfio-compat.h"

static void test_vfio_kernel__irq_info(void **state)
{
	static const struct vfio_irq_info in = { .argsz = 16, .index = 2 };
	static const struct vfio_irq_info out = {
		.argsz = 16, .flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE |
				      (1u << 30) /* unknown: dropped */,
		.index = 2, .count = 64,
	};
	static const struct vfio_irq_info too_many = {
		.argsz = 16, .flags = VFIO_IRQ_INFO_EVENTFD, .index = 2,
		.count = 5000,
	};
	struct fake_step steps[] = {
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_GET_IRQ_INFO,
		  .in = &in, .in_len = 16, .out = &out, .out_len = 16 },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_GET_IRQ_INFO,
		  .err = EINVAL },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_GET_IRQ_INFO,
		  .in = &in, .in_len = 16, .out = &too_many, .out_len = 16 },
	};
	struct vfio_irq_desc d;
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->get_irq_info(be, 2, &d), 0);
	assert_int_equal(d.index, 2);
	assert_int_equal(d.count, 64);
	assert_int_equal(d.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(be->ops->get_irq_info(be, 3, &d), -EINVAL);
	assert_int_equal(be->failed, 0);
	assert_int_equal(be->ops->get_irq_info(be, FKD_IRQS, &d), -EINVAL);
	assert_int_equal(be->ops->get_irq_info(be, 2, &d), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, -1);
}

/* struct vfio_irq_set + @n int32 fds, as bytes. */
static size_t irq_set(uint8_t *b, uint32_t flags, uint32_t index,
		      uint32_t start, uint32_t count, const int32_t *fds,
		      uint32_t n)
{
	put32(b, 0, 20 + 4 * n);
	put32(b, 4, flags);
	put32(b, 8, index);
	put32(b, 12, start);
	put32(b, 16, count);
	if (n)
		memcpy(b + 20, fds, 4 * n);
	return 20 + 4 * n;
}

static void test_vfio_kernel__set_irqs_layout(void **state)
{
	const uint32_t efd_trig = VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_TRIGGER;
	const uint32_t efd_unmask = VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_UNMASK;
	const uint32_t none_trig = VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_TRIGGER;
	static const int msix[3] = { 30, 31, -1 };
	uint8_t b[5][64];
	size_t l[5];
	struct fake_step steps[6];
	struct vfio_backend *be;
	unsigned int i;

	(void)state;
	fkd__open_iommufd(&be);
	l[0] = irq_set(b[0], efd_trig, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3,
		       (const int32_t[]){ 30, 31, -1 }, 3);
	l[1] = irq_set(b[1], none_trig, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL, 0);
	/* INTx: trigger eventfd, then the resample eventfd as UNMASK. */
	l[2] = irq_set(b[2], efd_trig, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
		       (const int32_t[]){ 40 }, 1);
	l[3] = irq_set(b[3], efd_unmask, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
		       (const int32_t[]){ 41 }, 1);
	l[4] = irq_set(b[4], efd_trig, VFIO_PCI_MSIX_IRQ_INDEX, 5, 1,
		       (const int32_t[]){ 32 }, 1);
	for (i = 0; i < 5; i++)
		steps[i] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
					       .req = VFIO_DEVICE_SET_IRQS,
					       .in = b[i], .in_len = l[i] };
	steps[4].err = EINVAL;
	fake_vfio__start(steps, 5);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_MSIX_IRQ_INDEX, efd_trig,
					   0, 3, msix), 0);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_MSIX_IRQ_INDEX, none_trig,
					   0, 0, NULL), 0);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_INTX_IRQ_INDEX, efd_trig,
					   0, 1, (const int[]){ 40 }), 0);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_INTX_IRQ_INDEX,
					   efd_unmask, 0, 1, (const int[]){ 41 }),
			 0);
	assert_int_equal(be->ops->set_irqs(be, VFIO_PCI_MSIX_IRQ_INDEX, efd_trig,
					   5, 1, (const int[]){ 32 }), -EINVAL);
	/* Refused before the kernel: BOOL data, two actions, no fds, bad fd,
	 * index past num_irqs, beyond 2048 vectors. */
	assert_int_equal(be->ops->set_irqs(be, 2, VFIO_IRQ_SET_DATA_BOOL |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					   msix), -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_MASK |
					   VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
					   NULL), -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, efd_trig, 0, 2, NULL), -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, efd_trig, 0, 1,
					   (const int[]){ -7 }), -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, FKD_IRQS, none_trig, 0, 0, NULL),
			 -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, none_trig, 2040, 9, NULL),
			 -EINVAL);
	assert_int_equal(be->ops->set_irqs(be, 2, none_trig | (1u << 12), 0, 0,
					   NULL), -EINVAL);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__reset_and_features(void **state)
{
	uint8_t get_in[16] = { 0 }, get_out[16] = { 0 }, probe_in[8] = { 0 };
	uint8_t set_in[16] = { 0 };
	struct fake_step steps[6];
	struct vfio_backend *be;
	uint64_t v = 0;

	(void)state;
	fkd__open_iommufd(&be);
	put32(get_in, 0, 16);
	put32(get_in, 4, VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
	memcpy(get_out, get_in, 8);
	put64(get_out, 8, 12345);
	put32(probe_in, 0, 8);
	put32(probe_in, 4, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			   VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	put32(set_in, 0, 16);
	put32(set_in, 4, VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2);
	put64(set_in, 8, 0xabcdef);
	steps[0] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_RESET };
	steps[1] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_RESET, .err = EIO };
	steps[2] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_FEATURE, .in = get_in,
				       .in_len = 16, .out = get_out,
				       .out_len = 16 };
	steps[3] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_FEATURE,
				       .in = probe_in, .in_len = 8 };
	steps[4] = (struct fake_step){ .call = FK_IOCTL, .fd = FKD_DEV,
				       .req = VFIO_DEVICE_FEATURE, .in = set_in,
				       .in_len = 16, .err = ENOTTY };
	fake_vfio__start(steps, 5);
	assert_int_equal(be->ops->reset(be), 0);
	assert_int_equal(be->ops->reset(be), -EIO);
	assert_int_equal(be->failed, 0); /* an errno answer, not a failure */
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
						 &v, sizeof(v)), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_PROBE |
						 VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
						 NULL, 0), 0);
	v = 0xabcdef;
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
						 &v, sizeof(v)), -ENOTTY);
	/* Tracked or pointer/fd-carrying features, bad flags: no call. */
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
						 &v, sizeof(v)), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
						 &v, sizeof(v)), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
						 &v, sizeof(v)), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 VFIO_DEVICE_FEATURE_SET | 1,
						 &v, sizeof(v)), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, 1, &v, sizeof(v)), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET | 1,
						 NULL, 8), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET |
						 (1u << 20) | 1, &v, 8), -EINVAL);
	assert_int_equal(be->ops->device_feature(be, VFIO_DEVICE_FEATURE_GET | 1,
						 &v, 1u << 20), -EINVAL);
	fake_vfio__done();
	fkd__destroy(be, false, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_kernel__irq_info),
		cmocka_unit_test(test_vfio_kernel__set_irqs_layout),
		cmocka_unit_test(test_vfio_kernel__reset_and_features),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
