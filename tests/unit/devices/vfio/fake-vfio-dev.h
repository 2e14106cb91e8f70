/*
 * fake-vfio-dev.h: canned fake-kernel scripts shared by the kernel VFIO
 * backend's tests: a healthy device opened through iommufd or through
 * the legacy group/container interface, and their teardown. The fd
 * numbers are fixed so scripts can name them.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_DEV_H
#define TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct vfio_backend;

/* iommufd path: /dev/iommu, the cdev, the IOAS id. */
#define FKD_IOMMUFD 10
#define FKD_DEV 11
#define FKD_IOAS 5
#define FKD_CDEV "/dev/vfio/devices/vfio3"
/* Legacy path: container, group, device. */
#define FKD_CONTAINER 20
#define FKD_GROUP 21
#define FKD_LDEV 22
#define FKD_SYSFS "/sys/bus/pci/devices/0000:01:00.0"
#define FKD_NAME "0000:01:00.0"
/* What GET_INFO reports: vfio-pci's 9 regions and 5 IRQ indexes. */
#define FKD_REGIONS 9
#define FKD_IRQS 5

/* Open a healthy device via iommufd (asserts); *be is ready. */
void fkd__open_iommufd(struct vfio_backend **be);
/* The same with device id @id. */
void fkd__open_iommufd_as(const char *id, struct vfio_backend **be);
/* Open a healthy device via sysfs + legacy interface (asserts). */
void fkd__open_legacy(struct vfio_backend **be);
/*
 * Destroy @be expecting the closes of an iommufd (@legacy false) or
 * legacy device, after closing @data_fd first if >= 0.
 */
void fkd__destroy(struct vfio_backend *be, bool legacy, int data_fd);

/* Little helpers for building uAPI byte buffers in scripts. */
static inline void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static inline void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

#endif /* TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_DEV_H */
