/*
 * vfio-kernel.h: the kernel VFIO backend. It opens a device bound to a
 * host VFIO driver (vfio-pci) and returns a struct vfio_backend
 * (vfio-backend.h) whose operations are ioctls, preads and pwrites on the
 * device fd. Two ways in: a VFIO device cdev (/dev/vfio/devices/vfioN)
 * bound to an iommufd (/dev/iommu) with one IOAS for guest RAM, or the
 * legacy group/container interface (a type1v2 IOMMU container) when the
 * path is a sysfs PCI device or the host has no /dev/iommu.
 *
 * Every system call goes through struct vfio_kernel_sys so unit tests
 * can stand in for the kernel. Malformed kernel answers (impossible
 * sizes, broken capability chains, a migration fd where none belongs)
 * fail the backend as vfio-backend.h describes; errno answers are
 * returned as -errno.
 */
#ifndef DEVICES_VFIO_VFIO_KERNEL_H
#define DEVICES_VFIO_VFIO_KERNEL_H

#include <stddef.h>
#include <sys/types.h>

struct vfio_backend;

/*
 * The system calls the backend makes, with libc semantics (-1 and errno
 * on failure; mmap returns MAP_FAILED). @ctx is handed back on every
 * call. ioctl's @arg is a pointer or, for the ioctls that take an int
 * (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU), the value cast to a pointer.
 */
struct vfio_kernel_sys {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len,
			  off_t off);
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	void *(*mmap)(void *ctx, void *addr, size_t len, int prot, int flags,
		      int fd, off_t off);
	int (*munmap)(void *ctx, void *addr, size_t len);
	ssize_t (*readlink)(void *ctx, const char *path, char *buf, size_t len);
};

/* The real system calls (what a NULL @sys means). */
extern const struct vfio_kernel_sys vfio_kernel_sys_real;

/*
 * Open the VFIO device at @path for device @id (copied, truncated to the
 * backend's id size, for log lines):
 *  - "/dev/vfio/devices/vfioN": iommufd (open /dev/iommu, IOMMU_IOAS_ALLOC,
 *    VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT); if the host
 *    has no /dev/iommu, the device's sysfs node
 *    (/sys/class/vfio-dev/vfioN/device) is used with the legacy interface;
 *  - a sysfs device directory ("/sys/bus/pci/devices/0000:01:00.0"): the
 *    legacy interface (container /dev/vfio/vfio with type1v2, group
 *    /dev/vfio/GROUP from the device's iommu_group link, then
 *    VFIO_GROUP_GET_DEVICE_FD with the device name). One device per
 *    IOMMU group: a group already in use (EBUSY) is an error.
 * @sys: system calls; NULL for the real ones. It must outlive the
 * backend. Returns 0 and *out (destroy with (*out)->ops->destroy), or
 * -errno after logging why with @id.
 */
int vfio_kernel__open(const char *id, const char *path,
		      const struct vfio_kernel_sys *sys,
		      struct vfio_backend **out);

#endif /* DEVICES_VFIO_VFIO_KERNEL_H */
