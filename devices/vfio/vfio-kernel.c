/*
 * vfio-kernel.c: opening a kernel VFIO device and tearing it down. A
 * device cdev goes through iommufd (open /dev/iommu, allocate one IOAS,
 * bind the device, attach it to the IOAS); a sysfs device path, or a cdev
 * on a host without /dev/iommu, goes through the legacy interface (type1v2
 * container, viable group, device fd by name). Also the backend's failure
 * latch and the real system-call table. Nothing here calls the kernel
 * directly: every call goes through struct vfio_kernel_sys.
 */
#include "devices/vfio/vfio-kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-kernel-internal.h"
#include "vmm/compat/iommufd-compat.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define CDEV_PREFIX "/dev/vfio/devices/"
#define SYSFS_PREFIX "/sys/"
/* A PCI name is "DDDD:BB:DD.F" (12); leave room for other bus names. */
#define DEV_NAME_MAX 64
/* offsetofend(): the kernel's minimum argsz for a struct's fields. */
#define OFFSETOFEND(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

static int real_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	return open(path, flags);
}

static int real_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

static int real_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg);
}

static ssize_t real_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	(void)ctx;
	return pread(fd, buf, len, off);
}

static ssize_t real_pwrite(void *ctx, int fd, const void *buf, size_t len,
			   off_t off)
{
	(void)ctx;
	return pwrite(fd, buf, len, off);
}

static ssize_t real_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	return read(fd, buf, len);
}

static ssize_t real_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	return write(fd, buf, len);
}

static void *real_mmap(void *ctx, void *addr, size_t len, int prot, int flags,
		       int fd, off_t off)
{
	(void)ctx;
	return mmap(addr, len, prot, flags, fd, off);
}

static int real_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len);
}

static ssize_t real_readlink(void *ctx, const char *path, char *buf,
			     size_t len)
{
	(void)ctx;
	return readlink(path, buf, len);
}

const struct vfio_kernel_sys vfio_kernel_sys_real = {
	.ctx = NULL,
	.open = real_open,
	.close = real_close,
	.ioctl = real_ioctl,
	.pread = real_pread,
	.pwrite = real_pwrite,
	.read = real_read,
	.write = real_write,
	.mmap = real_mmap,
	.munmap = real_munmap,
	.readlink = real_readlink,
};

bool vfk__failed(const struct vfk_dev *d)
{
	return __atomic_load_n(&d->be.failed, __ATOMIC_ACQUIRE) != 0;
}

int vfk__fail(struct vfk_dev *d, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int expected = 0;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Only the first failure logs. */
	if (__atomic_compare_exchange_n(&d->be.failed, &expected, -EIO, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		log_err("vfio %s: device failed: %s", d->be.id, why);
	return -EIO;
}

int vfk__ioctl(struct vfk_dev *d, int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = d->sys->ioctl(d->sys->ctx, fd, req, arg);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno > 0 ? -errno : -EIO;
	return r;
}

void vfk__close(struct vfk_dev *d, int *fd)
{
	if (*fd >= 0)
		d->sys->close(d->sys->ctx, *fd);
	*fd = -1;
}

void vfk__destroy(struct vfio_backend *be)
{
	struct vfk_dev *d;

	if (!be)
		return;
	d = vfk__to_dev(be);
	/* Session first, then the device, then what it was attached to. */
	vfk__close(d, &d->data_fd);
	vfk__close(d, &d->device_fd);
	vfk__close(d, &d->group_fd);
	vfk__close(d, &d->container_fd);
	vfk__close(d, &d->iommufd);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->dma_lock);
	pthread_mutex_destroy(&d->mig_lock);
	free(d);
}

/* open() through sys, retrying EINTR; fd or -errno. */
static int sys_open(struct vfk_dev *d, const char *path, int flags)
{
	int fd;

	do {
		fd = d->sys->open(d->sys->ctx, path, flags);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? (errno > 0 ? -errno : -EIO) : fd;
}

/*
 * The last component of the symlink at @path, into @out (@len bytes).
 * Returns 0 or -errno (-ENAMETOOLONG if it does not fit).
 */
static int link_basename(struct vfk_dev *d, const char *path, char *out,
			 size_t len)
{
	char buf[PATH_MAX];
	const char *base;
	ssize_t n;

	n = d->sys->readlink(d->sys->ctx, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno > 0 ? -errno : -EIO;
	if ((size_t)n >= sizeof(buf) - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

/* A device name we will pass to the kernel: no path tricks, bounded. */
static bool name_ok(const char *s)
{
	return s[0] && strlen(s) < DEV_NAME_MAX && !strchr(s, '/') &&
	       strcmp(s, ".") && strcmp(s, "..");
}

static bool digits_ok(const char *s)
{
	size_t i, n = strlen(s);

	/* An IOMMU group number fits an int: at most 10 digits. */
	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * Legacy interface for the device whose sysfs directory is @sysdir and
 * whose name is @name: container, group, device fd.
 */
static int open_legacy(struct vfk_dev *d, const char *sysdir, const char *name)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char link[PATH_MAX], group[16], gpath[32];
	int ret;

	if (!name_ok(name)) {
		log_err("vfio %s: bad device name '%s'", d->be.id, name);
		return -EINVAL;
	}
	if (snprintf(link, sizeof(link), "%s/iommu_group", sysdir) >=
	    (int)sizeof(link)) {
		log_err("vfio %s: sysfs path too long", d->be.id);
		return -ENAMETOOLONG;
	}
	ret = link_basename(d, link, group, sizeof(group));
	if (ret == 0 && !digits_ok(group))
		ret = -EINVAL; /* e.g. a noiommu group: not supported */
	if (ret) {
		log_err("vfio %s: no usable IOMMU group at %s: %s", d->be.id,
			link, strerror(-ret));
		return ret;
	}
	snprintf(gpath, sizeof(gpath), "/dev/vfio/%s", group);

	ret = sys_open(d, "/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		log_err("vfio %s: open /dev/vfio/vfio: %s", d->be.id,
			strerror(-ret));
		return ret;
	}
	d->container_fd = ret;
	ret = vfk__ioctl(d, d->container_fd, VFIO_GET_API_VERSION, NULL);
	if (ret != VFIO_API_VERSION) {
		log_err("vfio %s: VFIO API version %d, want %d", d->be.id, ret,
			VFIO_API_VERSION);
		return ret < 0 ? ret : -EINVAL;
	}
	ret = vfk__ioctl(d, d->container_fd, VFIO_CHECK_EXTENSION,
			 (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU);
	if (ret <= 0) {
		log_err("vfio %s: host has no type1v2 IOMMU", d->be.id);
		return ret < 0 ? ret : -EOPNOTSUPP;
	}
	ret = sys_open(d, gpath, O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		log_err("vfio %s: open %s: %s", d->be.id, gpath, strerror(-ret));
		return ret;
	}
	d->group_fd = ret;
	ret = vfk__ioctl(d, d->group_fd, VFIO_GROUP_GET_STATUS, &status);
	if (ret < 0) {
		log_err("vfio %s: group status: %s", d->be.id, strerror(-ret));
		return ret;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_err("vfio %s: group %s is not viable (bind every device in "
			"it to vfio-pci)", d->be.id, group);
		return -EBUSY;
	}
	ret = vfk__ioctl(d, d->group_fd, VFIO_GROUP_SET_CONTAINER,
			 &d->container_fd);
	if (ret >= 0)
		ret = vfk__ioctl(d, d->container_fd, VFIO_SET_IOMMU,
				 (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU);
	if (ret < 0) {
		log_err("vfio %s: attaching group %s to a type1v2 container: %s",
			d->be.id, group, strerror(-ret));
		return ret;
	}
	ret = vfk__ioctl(d, d->group_fd, VFIO_GROUP_GET_DEVICE_FD,
			 (void *)name);
	if (ret < 0) {
		log_err("vfio %s: device %s in group %s: %s", d->be.id, name,
			group, strerror(-ret));
		return ret;
	}
	d->device_fd = ret;
	d->iommu = VFK_TYPE1;
	return 0;
}

/* Legacy interface for a sysfs device path such as /sys/bus/pci/devices/X. */
static int open_sysfs(struct vfk_dev *d, const char *path)
{
	char dir[PATH_MAX];
	const char *name;
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		log_err("vfio %s: sysfs path too long", d->be.id);
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	name = strrchr(dir, '/');
	return open_legacy(d, dir, name ? name + 1 : dir);
}

/*
 * iommufd for the cdev at @path (whose name @node is "vfioN"). Returns 0,
 * -errno, or 1 when the host has no /dev/iommu (use the legacy interface).
 */
static int open_iommufd(struct vfk_dev *d, const char *path)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_bind_iommufd bind = {
		.argsz = OFFSETOFEND(struct vfio_device_bind_iommufd, out_devid),
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = OFFSETOFEND(struct vfio_device_attach_iommufd_pt, pt_id),
	};
	int ret;

	ret = sys_open(d, "/dev/iommu", O_RDWR | O_CLOEXEC);
	if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV)
		return 1;
	if (ret < 0) {
		log_err("vfio %s: open /dev/iommu: %s", d->be.id, strerror(-ret));
		return ret;
	}
	d->iommufd = ret;
	ret = vfk__ioctl(d, d->iommufd, IOMMU_IOAS_ALLOC, &alloc);
	if (ret < 0) {
		log_err("vfio %s: IOMMU_IOAS_ALLOC: %s", d->be.id, strerror(-ret));
		return ret;
	}
	d->ioas_id = alloc.out_ioas_id;
	ret = sys_open(d, path, O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		log_err("vfio %s: open %s: %s", d->be.id, path, strerror(-ret));
		return ret;
	}
	d->device_fd = ret;
	bind.iommufd = d->iommufd;
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (ret < 0) {
		log_err("vfio %s: VFIO_DEVICE_BIND_IOMMUFD: %s", d->be.id,
			strerror(-ret));
		return ret;
	}
	attach.pt_id = d->ioas_id;
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
			 &attach);
	if (ret < 0) {
		log_err("vfio %s: VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s",
			d->be.id, d->ioas_id, strerror(-ret));
		return ret;
	}
	d->iommu = VFK_IOMMUFD;
	return 0;
}

static int open_cdev(struct vfk_dev *d, const char *path)
{
	const char *node = path + strlen(CDEV_PREFIX);
	char sysdir[PATH_MAX], name[DEV_NAME_MAX];
	int ret;

	if (strncmp(node, "vfio", 4) || !digits_ok(node + 4)) {
		log_err("vfio %s: %s is not a VFIO device cdev", d->be.id, path);
		return -EINVAL;
	}
	ret = open_iommufd(d, path);
	if (ret <= 0)
		return ret;
	/* No iommufd: the same device through its group. */
	log_info("vfio %s: no /dev/iommu, using the legacy group interface",
		 d->be.id);
	snprintf(sysdir, sizeof(sysdir), "/sys/class/vfio-dev/%s/device", node);
	ret = link_basename(d, sysdir, name, sizeof(name));
	if (ret) {
		log_err("vfio %s: cannot resolve %s: %s", d->be.id, sysdir,
			strerror(-ret));
		return ret;
	}
	return open_legacy(d, sysdir, name);
}

/* Device info, cached for the backend's life. */
static int read_device_info(struct vfk_dev *d)
{
	/* Up to num_irqs: we want no capabilities, so no cap_offset. */
	struct vfio_device_info info = {
		.argsz = OFFSETOFEND(struct vfio_device_info, num_irqs),
	};
	int ret;

	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_GET_INFO, &info);
	if (ret < 0) {
		log_err("vfio %s: VFIO_DEVICE_GET_INFO: %s", d->be.id,
			strerror(-ret));
		return ret;
	}
	if (info.num_regions > VFK_MAX_REGIONS || info.num_irqs > VFK_MAX_IRQS) {
		log_err("vfio %s: implausible device info (%u regions, %u irqs)",
			d->be.id, info.num_regions, info.num_irqs);
		return -EINVAL;
	}
	d->dev_flags = info.flags;
	d->num_regions = info.num_regions;
	d->num_irqs = info.num_irqs;
	return 0;
}

int vfio_kernel__open(const char *id, const char *path,
		      const struct vfio_kernel_sys *sys,
		      struct vfio_backend **out)
{
	struct vfk_dev *d;
	int ret;

	if (!id || !path || !out)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->be.ops = &vfk_ops;
	snprintf(d->be.id, sizeof(d->be.id), "%s", id);
	d->sys = sys ? sys : &vfio_kernel_sys_real;
	d->device_fd = d->iommufd = d->container_fd = d->group_fd = -1;
	d->data_fd = -1;
	d->mig_state = VFK_STATE_UNKNOWN;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->dma_lock, NULL);
	pthread_mutex_init(&d->mig_lock, NULL);

	if (!strncmp(path, CDEV_PREFIX, strlen(CDEV_PREFIX))) {
		ret = open_cdev(d, path);
	} else if (!strncmp(path, SYSFS_PREFIX, strlen(SYSFS_PREFIX))) {
		ret = open_sysfs(d, path);
	} else {
		log_err("vfio %s: path %s is neither %svfioN nor a sysfs device",
			d->be.id, path, CDEV_PREFIX);
		ret = -EINVAL;
	}
	if (!ret)
		ret = read_device_info(d);
	if (ret) {
		vfk__destroy(&d->be);
		return ret;
	}
	log_info("vfio %s: %s via %s (%u regions, %u irq indexes)", d->be.id,
		 path, d->iommu == VFK_IOMMUFD ? "iommufd" : "type1 container",
		 d->num_regions, d->num_irqs);
	*out = &d->be;
	return 0;
}
