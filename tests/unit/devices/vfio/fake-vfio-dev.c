/*
 * fake-vfio-dev.c: the canned open and teardown scripts of
 * fake-vfio-dev.h, written out call by call with the exact argument
 * bytes the uAPI prescribes.
 */
#include "fake-vfio-dev.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "fake-vfio.h"
#include "vmm/compat/iommufd-compat.h"
#include "vmm/compat/vfio-compat.h"

static const struct iommu_ioas_alloc alloc_in = { .size = 12 };
static const struct iommu_ioas_alloc alloc_out = { .size = 12,
						   .out_ioas_id = FKD_IOAS };
static const struct vfio_device_bind_iommufd bind_in = {
	.argsz = 16, .iommufd = FKD_IOMMUFD,
};
static const struct vfio_device_bind_iommufd bind_out = {
	.argsz = 16, .iommufd = FKD_IOMMUFD, .out_devid = 77,
};
static const struct vfio_device_attach_iommufd_pt attach_in = {
	.argsz = 12, .pt_id = FKD_IOAS,
};
/* The kernel answers with the HWPT it created for the IOAS. */
static const struct vfio_device_attach_iommufd_pt attach_out = {
	.argsz = 12, .pt_id = 9,
};
/* argsz 16: no capabilities wanted. */
static const struct vfio_device_info info_in = { .argsz = 16 };
static const struct vfio_device_info info_out = {
	.argsz = 16, .flags = VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
	.num_regions = FKD_REGIONS, .num_irqs = FKD_IRQS,
};

static const struct fake_step iommufd_open[] = {
	FK_OPEN_OK("/dev/iommu", FKD_IOMMUFD),
	{ .call = FK_IOCTL, .fd = FKD_IOMMUFD, .req = IOMMU_IOAS_ALLOC,
	  .in = &alloc_in, .in_len = sizeof(alloc_in),
	  .out = &alloc_out, .out_len = sizeof(alloc_out) },
	FK_OPEN_OK(FKD_CDEV, FKD_DEV),
	{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_BIND_IOMMUFD,
	  .in = &bind_in, .in_len = sizeof(bind_in),
	  .out = &bind_out, .out_len = sizeof(bind_out) },
	{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_ATTACH_IOMMUFD_PT,
	  .in = &attach_in, .in_len = sizeof(attach_in),
	  .out = &attach_out, .out_len = sizeof(attach_out) },
	{ .call = FK_IOCTL, .fd = FKD_DEV, .req = VFIO_DEVICE_GET_INFO,
	  .in = &info_in, .in_len = 16, .out = &info_out, .out_len = 16 },
};

static const struct vfio_group_status status_in = { .argsz = 8 };
static const struct vfio_group_status status_out = {
	.argsz = 8, .flags = VFIO_GROUP_FLAGS_VIABLE,
};

static void check_set_container(const struct fake_step *s, void *arg,
				size_t len)
{
	(void)s;
	(void)len;
	assert_non_null(arg);
	assert_int_equal(*(int *)arg, FKD_CONTAINER);
}

static const struct fake_step legacy_open[] = {
	{ .call = FK_READLINK, .path = FKD_SYSFS "/iommu_group",
	  .link = "../../../../kernel/iommu_groups/12" },
	FK_OPEN_OK("/dev/vfio/vfio", FKD_CONTAINER),
	{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_GET_API_VERSION,
	  .ret = VFIO_API_VERSION },
	{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_CHECK_EXTENSION,
	  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU, .ret = 1 },
	FK_OPEN_OK("/dev/vfio/12", FKD_GROUP),
	{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_STATUS,
	  .in = &status_in, .in_len = 8, .out = &status_out, .out_len = 8 },
	{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_SET_CONTAINER,
	  .check = check_set_container },
	{ .call = FK_IOCTL, .fd = FKD_CONTAINER, .req = VFIO_SET_IOMMU,
	  .int_arg = true, .ival = VFIO_TYPE1v2_IOMMU },
	{ .call = FK_IOCTL, .fd = FKD_GROUP, .req = VFIO_GROUP_GET_DEVICE_FD,
	  .str_arg = FKD_NAME, .ret = FKD_LDEV },
	{ .call = FK_IOCTL, .fd = FKD_LDEV, .req = VFIO_DEVICE_GET_INFO,
	  .in = &info_in, .in_len = 16, .out = &info_out, .out_len = 16 },
};

void fkd__open_iommufd_as(const char *id, struct vfio_backend **be)
{
	fake_vfio__start(iommufd_open, FK_N(iommufd_open));
	assert_int_equal(vfio_kernel__open(id, FKD_CDEV, &fake_vfio_sys, be), 0);
	fake_vfio__done();
}

void fkd__open_iommufd(struct vfio_backend **be)
{
	fkd__open_iommufd_as("kdev0", be);
}

void fkd__open_legacy(struct vfio_backend **be)
{
	fake_vfio__start(legacy_open, FK_N(legacy_open));
	assert_int_equal(vfio_kernel__open("kdev0", FKD_SYSFS, &fake_vfio_sys,
					   be), 0);
	fake_vfio__done();
}

void fkd__destroy(struct vfio_backend *be, bool legacy, int data_fd)
{
	static struct fake_step steps[4];
	size_t n = 0;

	if (data_fd >= 0)
		steps[n++] = (struct fake_step)FK_CLOSE_OK(data_fd);
	if (legacy) {
		steps[n++] = (struct fake_step)FK_CLOSE_OK(FKD_LDEV);
		steps[n++] = (struct fake_step)FK_CLOSE_OK(FKD_GROUP);
		steps[n++] = (struct fake_step)FK_CLOSE_OK(FKD_CONTAINER);
	} else {
		steps[n++] = (struct fake_step)FK_CLOSE_OK(FKD_DEV);
		steps[n++] = (struct fake_step)FK_CLOSE_OK(FKD_IOMMUFD);
	}
	fake_vfio__start(steps, n);
	be->ops->destroy(be);
	fake_vfio__done();
}
