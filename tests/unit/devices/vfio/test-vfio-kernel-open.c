/*
 * test-vfio-kernel-open.c: the kernel VFIO backend's open sequences
 * against the scripted fake kernel: iommufd with a device cdev, the
 * legacy group/container interface from a sysfs path, the fallback from
 * a cdev to the legacy interface when /dev/iommu is missing, and every
 * failure on the way, each of which must return -errno and close exactly
 * what was opened, in reverse order.
 */
#include <errno.h>
#include <limits.h>
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

#define IOAS_ALLOC_OK                                                   \
	{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_ALLOC, \
	  .out = &alloc_out, .out_len = sizeof(alloc_out) }

static const struct iommu_ioas_alloc alloc_out = { .size = 12,
						   .out_ioas_id = FKD_IOAS };
static const struct vfio_group_status viable = {
	.argsz = 8, .flags = VFIO_GROUP_FLAGS_VIABLE,
};
static const struct vfio_group_status not_viable = { .argsz = 8 };

/* Run @steps as the kernel for opening @path; expect @want. */
static void expect_open(const char *path, const struct fake_step *steps,
			size_t n, int want)
{
	struct vfio_backend *be = (struct vfio_backend *)0x1;

	fake_vfio__start(steps, n);
	assert_int_equal(vfio_kernel__open("kdev0", path, &fake_vfio_sys, &be),
			 want);
	fake_vfio__done();
	/* On failure *out is untouched. */
	assert_ptr_equal(be, (struct vfio_backend *)0x1);
}

static void test_vfio_kernel__iommufd_open(void **state)
{
	struct vfio_device_desc dd;
	struct vfio_backend *be;

	(void)state;
	fkd__open_iommufd(&be);
	assert_string_equal(be->ops->name, "vfio");
	assert_string_equal(be->id, "kdev0");
	assert_int_equal(be->failed, 0);
	assert_int_equal(be->ops->get_device_info(be, &dd), 0);
	assert_int_equal(dd.flags, VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(dd.num_regions, FKD_REGIONS);
	assert_int_equal(dd.num_irqs, FKD_IRQS);
	/* Cached: no system call. */
	assert_int_equal(fake_vfio__calls(), 0);
	fkd__destroy(be, false, -1);
}

static void test_vfio_kernel__legacy_sysfs_open(void **state)
{
	struct vfio_backend *be;

	(void)state;
	fkd__open_legacy(&be);
	fkd__destroy(be, true, -1);
}

static void test_vfio_kernel__cdev_falls_back_without_iommufd(void **state)
{
	static const struct fake_step steps[] = {
		FK_OPEN_ERR("/dev/iommu", ENOENT),
		{ .call = FK_READLINK, .path = "/sys/class/vfio-dev/vfio3/device",
		  .link = "../../../0000:01:00.0" },
		{ .call = FK_READLINK,
		  .path = "/sys/class/vfio-dev/vfio3/device/iommu_group",
		  .link = "../../../../kernel/iommu_groups/7" },
		FK_OPEN_OK("/dev/vfio/vfio", FKD_CONTAINER),
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_GET_API_VERSION },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_CHECK_EXTENSION,
		  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU, .ret = 1 },
		FK_OPEN_OK("/dev/vfio/7", FKD_GROUP),
		{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_STATUS,
		  .out = &viable, .out_len = 8 },
		{ .call = FK_IOCTL, .fd = FKD_GROUP,
		  .req = VFIO_GROUP_SET_CONTAINER },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_SET_IOMMU,
		  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU },
		{ .call = FK_IOCTL, .fd = FKD_GROUP,
		  .req = VFIO_GROUP_GET_DEVICE_FD, .str_arg = "0000:01:00.0",
		  .ret = FKD_LDEV },
		{ .call = FK_IOCTL, .fd = FKD_LDEV, .req = VFIO_DEVICE_GET_INFO },
	};
	struct vfio_backend *be;

	(void)state;
	fake_vfio__start(steps, FK_N(steps));
	assert_int_equal(vfio_kernel__open("kdev0", FKD_CDEV, &fake_vfio_sys,
					   &be), 0);
	fake_vfio__done();
	fkd__destroy(be, true, -1);
}

static void test_vfio_kernel__sysfs_trailing_slash(void **state)
{
	static const struct fake_step steps[] = {
		{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
		  .err = ENOENT },
	};

	(void)state;
	/* The name is the last component even with trailing slashes. */
	expect_open(FKD_SYSFS "//", steps, FK_N(steps), -ENOENT);
}

static void test_vfio_kernel__iommufd_errors_close_in_order(void **state)
{
	static const struct fake_step ioas_fails[] = {
		FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD),
		{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_ALLOC,
		  .err = ENOMEM },
		FK_CLOSE_OK(FKD_IOMMUFD),
	};
	static const struct fake_step cdev_missing[] = {
		FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD), IOAS_ALLOC_OK,
		FK_OPEN_ERR(FKD_CDEV, ENOENT),
		FK_CLOSE_OK(FKD_IOMMUFD),
	};
	static const struct fake_step bind_busy[] = {
		FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD), IOAS_ALLOC_OK,
		FK_OPEN_OK(FKD_CDEV, FKD_DEV),
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_BIND_IOMMUFD,
		  .err = EBUSY },
		FK_CLOSE_OK(FKD_DEV), FK_CLOSE_OK(FKD_IOMMUFD),
	};
	static const struct fake_step attach_fails[] = {
		FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD), IOAS_ALLOC_OK,
		FK_OPEN_OK(FKD_CDEV, FKD_DEV),
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_BIND_IOMMUFD },
		{ .call = FK_IOCTL, .fd = FKD_DEV,
		  .req = VFIO_DEVICE_ATTACH_IOMMUFD_PT, .err = EINVAL },
		FK_CLOSE_OK(FKD_DEV), FK_CLOSE_OK(FKD_IOMMUFD),
	};
	static const struct fake_step iommu_denied[] = {
		/* Not "missing": no silent fallback to the legacy interface. */
		FK_OPEN_ERR("/dev/iommu", EACCES),
	};
	static const struct vfio_device_info huge = {
		.argsz = 16, .num_regions = 100000, .num_irqs = 5,
	};
	static const struct fake_step info_huge[] = {
		FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD), IOAS_ALLOC_OK,
		FK_OPEN_OK(FKD_CDEV, FKD_DEV),
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_BIND_IOMMUFD },
		{ .call = FK_IOCTL, .fd = FKD_DEV,
		  .req = VFIO_DEVICE_ATTACH_IOMMUFD_PT },
		{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_GET_INFO,
		  .out = &huge, .out_len = 16 },
		FK_CLOSE_OK(FKD_DEV), FK_CLOSE_OK(FKD_IOMMUFD),
	};

	(void)state;
	expect_open(FKD_CDEV, ioas_fails, FK_N(ioas_fails), -ENOMEM);
	expect_open(FKD_CDEV, cdev_missing, FK_N(cdev_missing), -ENOENT);
	expect_open(FKD_CDEV, bind_busy, FK_N(bind_busy), -EBUSY);
	expect_open(FKD_CDEV, attach_fails, FK_N(attach_fails), -EINVAL);
	expect_open(FKD_CDEV, iommu_denied, FK_N(iommu_denied), -EACCES);
	expect_open(FKD_CDEV, info_huge, FK_N(info_huge), -EINVAL);
}

#define GROUP_LINK                                                 \
	{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",   \
	  .link = "/sys/kernel/iommu_groups/12" }
#define CONTAINER_OK                                                        \
	FK_OPEN_OK("/dev/vfio/vfio", FKD_CONTAINER),                        \
	{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_GET_API_VERSION }, \
	{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_CHECK_EXTENSION, \
	  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU, .ret = 1 }

static void test_vfio_kernel__legacy_errors_close_in_order(void **state)
{
	static const struct fake_step api_mismatch[] = {
		GROUP_LINK,
		FK_OPEN_OK("/dev/vfio/vfio", FKD_CONTAINER),
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER,
		  .req = VFIO_GET_API_VERSION, .ret = 1 },
		FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step no_type1v2[] = {
		GROUP_LINK,
		FK_OPEN_OK("/dev/vfio/vfio", FKD_CONTAINER),
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_GET_API_VERSION },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_CHECK_EXTENSION,
		  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU, .ret = 0 },
		FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step group_busy[] = {
		GROUP_LINK, CONTAINER_OK,
		FK_OPEN_ERR("/dev/vfio/12", EBUSY),
		FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step group_not_viable[] = {
		GROUP_LINK, CONTAINER_OK,
		FK_OPEN_OK("/dev/vfio/12", FKD_GROUP),
		{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_STATUS,
		  .out = &not_viable, .out_len = 8 },
		FK_CLOSE_OK(FKD_GROUP), FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step set_iommu_fails[] = {
		GROUP_LINK, CONTAINER_OK,
		FK_OPEN_OK("/dev/vfio/12", FKD_GROUP),
		{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_STATUS,
		  .out = &viable, .out_len = 8 },
		{ .call = FK_IOCTL, .fd = FKD_GROUP,
		  .req = VFIO_GROUP_SET_CONTAINER },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_SET_IOMMU,
		  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU, .err = EPERM },
		FK_CLOSE_OK(FKD_GROUP), FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step no_device[] = {
		GROUP_LINK, CONTAINER_OK,
		FK_OPEN_OK("/dev/vfio/12", FKD_GROUP),
		{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_STATUS,
		  .out = &viable, .out_len = 8 },
		{ .call = FK_IOCTL, .fd = FKD_GROUP,
		  .req = VFIO_GROUP_SET_CONTAINER },
		{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_SET_IOMMU,
		  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU },
		{ .call = FK_IOCTL, .fd = FKD_GROUP,
		  .req = VFIO_GROUP_GET_DEVICE_FD, .str_arg = FKD_NAME,
		  .err = ENODEV },
		FK_CLOSE_OK(FKD_GROUP), FK_CLOSE_OK(FKD_CONTAINER),
	};
	static const struct fake_step noiommu_group[] = {
		{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
		  .link = "../kernel/iommu_groups/noiommu-0" },
	};
	static const struct fake_step no_group[] = {
		{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
		  .err = ENOENT },
	};

	(void)state;
	expect_open(FKD_SYSFS, api_mismatch, FK_N(api_mismatch), -EINVAL);
	expect_open(FKD_SYSFS, no_type1v2, FK_N(no_type1v2), -EOPNOTSUPP);
	expect_open(FKD_SYSFS, group_busy, FK_N(group_busy), -EBUSY);
	expect_open(FKD_SYSFS, group_not_viable, FK_N(group_not_viable), -EBUSY);
	expect_open(FKD_SYSFS, set_iommu_fails, FK_N(set_iommu_fails), -EPERM);
	expect_open(FKD_SYSFS, no_device, FK_N(no_device), -ENODEV);
	expect_open(FKD_SYSFS, noiommu_group, FK_N(noiommu_group), -EINVAL);
	expect_open(FKD_SYSFS, no_group, FK_N(no_group), -ENOENT);
}

static void test_vfio_kernel__bad_paths_make_no_calls(void **state)
{
	static const char *const bad[] = {
		"/tmp/vfio3", "vfio3", "", "/dev/vfio/devices/vfio",
		"/dev/vfio/devices/vfio3x", "/dev/vfio/devices/../../iommu",
		"/dev/vfio/devices/vfio12345678901", "/sys/bus/pci/devices/..",
	};
	struct vfio_backend *be = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < FK_N(bad); i++) {
		fake_vfio__start(NULL, 0);
		assert_int_equal(vfio_kernel__open("kdev0", bad[i], &fake_vfio_sys,
						   &be), -EINVAL);
		fake_vfio__done();
	}
	assert_null(be);
	assert_int_equal(vfio_kernel__open(NULL, FKD_CDEV, &fake_vfio_sys, &be),
			 -EINVAL);
	assert_int_equal(vfio_kernel__open("x", NULL, &fake_vfio_sys, &be),
			 -EINVAL);
	assert_int_equal(vfio_kernel__open("x", FKD_CDEV, &fake_vfio_sys, NULL),
			 -EINVAL);
}

static char long_link[PATH_MAX + 16];

static void test_vfio_kernel__hostile_links(void **state)
{
	static const struct fake_step too_long[] = {
		{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
		  .link = long_link },
	};
	static const struct fake_step bad_name[] = {
		FK_OPEN_ERR("/dev/iommu", ENOENT),
		{ .call = FK_READLINK, .path = "/sys/class/vfio-dev/vfio3/device",
		  .link = "../../.." },
	};
	static const struct fake_step group_digits[] = {
		{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
		  .link = "../iommu_groups/12345678901" },
	};

	(void)state;
	memset(long_link, 'a', sizeof(long_link) - 1);
	expect_open(FKD_SYSFS, too_long, FK_N(too_long), -ENAMETOOLONG);
	expect_open(FKD_CDEV, bad_name, FK_N(bad_name), -EINVAL);
	expect_open(FKD_SYSFS, group_digits, FK_N(group_digits), -EINVAL);
}

static void test_vfio_kernel__long_id_is_truncated(void **state)
{
	char id[100];
	struct vfio_backend *be;

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	fkd__open_iommufd_as(id, &be);
	assert_int_equal(strlen(be->id), sizeof(be->id) - 1);
	assert_memory_equal(be->id, id, sizeof(be->id) - 1);
	fkd__destroy(be, false, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vfio_kernel__iommufd_open),
		cmocka_unit_test(test_vfio_kernel__legacy_sysfs_open),
		cmocka_unit_test(test_vfio_kernel__cdev_falls_back_without_iommufd),
		cmocka_unit_test(test_vfio_kernel__sysfs_trailing_slash),
		cmocka_unit_test(test_vfio_kernel__iommufd_errors_close_in_order),
		cmocka_unit_test(test_vfio_kernel__legacy_errors_close_in_order),
		cmocka_unit_test(test_vfio_kernel__bad_paths_make_no_calls),
		cmocka_unit_test(test_vfio_kernel__hostile_links),
		cmocka_unit_test(test_vfio_kernel__long_id_is_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
