/*
 * test-vfio-kernel-dma.c: the kernel VFIO backend's DMA operations
 * against the scripted fake kernel: map/unmap through iommufd and type1
 * with their exact argument layouts (overlaps, misalignment and partial
 * unmaps refused), and DMA logging's user-pointer payloads (the ranges
 * the kernel reads, the bitmap it writes) with bad arguments refused
 * before the kernel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "fake-vfio-dev.h"
#include "fake-vfio.h"
#include "vmm/compat/iommufd-compat.h"
#include "vmm/compat/vfio-compat.h"

#define VA ((void *)0x7f0000000000ULL)

static void test_vfio_kernel__dma_iommufd(void **state)
{
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	static const struct iommu_ioas_map map_in = {
		.size = 40, .flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				     IOMMU_IOAS_MAP_READABLE |
				     IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = FKD_IOAS, .user_va = 0x7f0000000000ULL,
		.length = 0x200000, .iova = 0x100000,
	};
	static const struct iommu_ioas_map map_ro_in = {
		.size = 40, .flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				     IOMMU_IOAS_MAP_READABLE,
		.ioas_id = FKD_IOAS, .user_va = 0x7f0000400000ULL,
		.length = 0x1000, .iova = 0x400000,
	};
	static const struct iommu_ioas_unmap unmap_in = {
		.size = 24, .ioas_id = FKD_IOAS, .iova = 0x100000,
		.length = 0x200000,
	};
	static const struct iommu_ioas_unmap unmap_short = {
		.size = 24, .ioas_id = FKD_IOAS, .iova = 0x400000,
		.length = 0x800,
	};
	struct fake_step steps[] = {
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_MAP,
		  .in = &map_in, .in_len = 40 },
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_MAP,
		  .err = ENOMEM },
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_UNMAP,
		  .in = &unmap_in, .in_len = 24, .out = &unmap_in,
		  .out_len = 24 },
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_MAP,
		  .in = &map_ro_in, .in_len = 40 },
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_UNMAP,
		  .out = &unmap_short, .out_len = 24 },
	};
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->dma_map(be, 0x100000, 0x200000, 3, 0, VA, rw),
			 0);
	/* Overlap, misalignment, no access, NULL vaddr: no call. */
	assert_int_equal(be->ops->dma_map(be, 0x200000, 0x1000, 3, 0, VA, rw),
			 -EEXIST);
	assert_int_equal(be->ops->dma_map(be, 0x300800, 0x1000, 3, 0, VA, rw),
			 -EINVAL);
	assert_int_equal(be->ops->dma_map(be, 0x300000, 0x1000, 3, 0, VA, 0),
			 -EINVAL);
	assert_int_equal(be->ops->dma_map(be, 0x300000, 0x1000, 3, 0, NULL, rw),
			 -EINVAL);
	assert_int_equal(be->ops->dma_map(be, UINT64_MAX & ~0xfffULL, 0x2000, 3,
					  0, VA, rw), -EINVAL);
	/* A refused map is not remembered. */
	assert_int_equal(be->ops->dma_map(be, 0x300000, 0x1000, 3, 0, VA, rw),
			 -ENOMEM);
	assert_int_equal(be->ops->dma_unmap(be, 0x300000, 0x1000), -EINVAL);
	/* Unmap must match a mapping exactly. */
	assert_int_equal(be->ops->dma_unmap(be, 0x100000, 0x100000), -EINVAL);
	assert_int_equal(be->ops->dma_unmap(be, 0x100000, 0x200000), 0);
	assert_int_equal(be->ops->dma_unmap(be, 0x100000, 0x200000), -EINVAL);
	assert_int_equal(be->ops->dma_map(be, 0x400000, 0x1000, 3, 0,
					  (void *)0x7f0000400000ULL,
					  VFIO_DMA_MAP_FLAG_READ), 0);
	/* The kernel unmapped less than the mapping: failed. */
	assert_int_equal(be->ops->dma_unmap(be, 0x400000, 0x1000), -EIO);
	fake_vfio__done();
	assert_int_equal(be->failed, -EIO);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__dma_type1(void **state)
{
	static const struct vfio_iommu_type1_dma_map map_in = {
		.argsz = 32, .flags = VFIO_DMA_MAP_FLAG_READ |
				      VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = 0x7f0000000000ULL, .iova = 0, .size = 0x80000000ULL,
	};
	static const struct vfio_iommu_type1_dma_unmap unmap_in = {
		.argsz = 24, .iova = 0, .size = 0x80000000ULL,
	};
	struct fake_step steps[] = {
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_IOMMU_MAP_DMA,
		  .in = &map_in, .in_len = 32 },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER,
		  .req = VFIO_IOMMU_UNMAP_DMA, .in = &unmap_in, .in_len = 24,
		  .out = &unmap_in, .out_len = 24 },
	};
	struct vfio_backend *be;

	(void)state;
	fkd__open_legacy(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->dma_map(be, 0, 0x80000000ULL, 3, 0, VA,
					  VFIO_DMA_MAP_FLAG_READ |
					  VFIO_DMA_MAP_FLAG_WRITE), 0);
	assert_int_equal(be->ops->dma_unmap(be, 0, 0x80000000ULL), 0);
	fake_vfio__done();
	fkd__destroy(be, true, -1);
}

/* What the logging checks compare against. */
static const struct vfio_dma_range log_ranges[2] = {
	{ 0, 0xa0000 }, { 0x100000, 0x7ff00000 },
};
static uint64_t *report_bitmap;

static void check_log_start(const struct fake_step *s, void *arg, size_t len)
{
	const struct vfio_device_feature_dma_logging_range *r;
	struct vfio_device_feature_dma_logging_control c;
	uint32_t hdr[2];

	(void)s;
	(void)len;
	memcpy(hdr, arg, 8);
	assert_int_equal(hdr[0], 8 + 24);
	assert_int_equal(hdr[1], VFIO_DEVICE_FEATURE_SET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	memcpy(&c, (uint8_t *)arg + 8, sizeof(c));
	assert_int_equal(c.page_size, 4096);
	assert_int_equal(c.num_ranges, 2);
	assert_int_equal(c.__reserved, 0);
	/* The kernel reads the ranges through the user pointer. */
	r = (const void *)(uintptr_t)c.ranges;
	assert_non_null(r);
	assert_int_equal(r[0].iova, log_ranges[0].iova);
	assert_int_equal(r[0].length, log_ranges[0].length);
	assert_int_equal(r[1].iova, log_ranges[1].iova);
	assert_int_equal(r[1].length, log_ranges[1].length);
}

static void check_log_report(const struct fake_step *s, void *arg, size_t len)
{
	struct vfio_device_feature_dma_logging_report r;
	uint64_t *bm;
	uint32_t hdr[2];

	(void)s;
	(void)len;
	memcpy(hdr, arg, 8);
	assert_int_equal(hdr[0], 8 + 32);
	assert_int_equal(hdr[1], VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
	memcpy(&r, (uint8_t *)arg + 8, sizeof(r));
	assert_int_equal(r.iova, 0x100000);
	assert_int_equal(r.length, 0x100000);
	assert_int_equal(r.page_size, 4096);
	/* The kernel writes straight into the caller's bitmap. */
	bm = (uint64_t *)(uintptr_t)r.bitmap;
	assert_ptr_equal(bm, report_bitmap);
	bm[0] |= 1ULL << 3;
	bm[3] |= 1ULL << 63; /* page 255, the range's last */
}

static void test_vfio_kernel__dma_logging(void **state)
{
	static const uint32_t stop_in[2] = {
		8, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	};
	struct fake_step steps[] = {
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .check = check_log_start },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .check = check_log_report },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .err = EINVAL },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .in = stop_in, .in_len = 8 },
		/* Stopped: a new start goes to the kernel again. */
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_FEATURE,
		  .err = E2BIG },
	};
	uint64_t bitmap[4] = { 0 };
	struct vfio_dma_range bad[2] = { { 0x800, 0x1000 }, { 0, 0 } };
	struct vfio_backend *be;

	(void)state;
	report_bitmap = bitmap;
	fkd__open_iommufd(&be);
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(be->ops->dma_logging_start(be, 4096, log_ranges, 2), 0);
	/* Only one logging session at a time. */
	assert_int_equal(be->ops->dma_logging_start(be, 4096, log_ranges, 2),
			 -EBUSY);
	assert_int_equal(be->ops->dma_logging_report(be, 0x100000, 0x100000,
						     4096, bitmap), 0);
	assert_int_equal(bitmap[0], 1ULL << 3);
	assert_int_equal(bitmap[1], 0);
	assert_int_equal(bitmap[3], 1ULL << 63);
	assert_int_equal(be->ops->dma_logging_report(be, 0, 0x1000, 4096,
						     bitmap), -EINVAL);
	/* Refused before the kernel. */
	assert_int_equal(be->ops->dma_logging_report(be, 0, 0x1000, 3000,
						     bitmap), -EINVAL);
	assert_int_equal(be->ops->dma_logging_report(be, 0, 0, 4096, bitmap),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_report(be, 0, 0x1000, 4096, NULL),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_report(be, UINT64_MAX, 2, 4096,
						     bitmap), -EINVAL);
	assert_int_equal(be->ops->dma_logging_stop(be), 0);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, log_ranges, 0),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, log_ranges, 257),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, NULL, 1), -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 6000, log_ranges, 2),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, bad, 1), -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, bad + 1, 1),
			 -EINVAL);
	assert_int_equal(be->ops->dma_logging_start(be, 4096, log_ranges, 2),
			 -E2BIG);
	fake_vfio__done();
	assert_int_equal(be->failed, 0);
	fkd__destroy(be, false, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_kernel__dma_iommufd),
		cmocka_unit_test(test_vfio_kernel__dma_type1),
		cmocka_unit_test(test_vfio_kernel__dma_logging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
