/*
 * vfio-kernel-internal.h: the kernel VFIO backend's private state, shared
 * by vfio-kernel.c (open sequences, failure latch, destroy),
 * vfio-kernel-ops.c (device, regions, IRQs, reset, features) and
 * vfio-kernel-mig.c (migration, DMA mapping, DMA logging).
 *
 * Locking: @lock protects the region cache, @dma_lock the DMA mapping
 * table, @mig_lock the migration state, the data_fd and the logging flag.
 * None is held across another; vCPU threads only ever take @lock briefly
 * (never across a pread/pwrite), so a long migration or DMA-map ioctl
 * does not stall them.
 */
#ifndef DEVICES_VFIO_VFIO_KERNEL_INTERNAL_H
#define DEVICES_VFIO_VFIO_KERNEL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-kernel.h"
#include "vmm/util.h"

/*
 * Region indexes we cache: vfio-pci has 9 fixed ones, device-specific
 * regions (IGD OpRegion, NVLink, ...) follow; 32 leaves ample room.
 */
#define VFK_MAX_REGIONS 32u
/* IRQ indexes: vfio-pci has 5 (INTx, MSI, MSI-X, ERR, REQ). */
#define VFK_MAX_IRQS 16u
/* MSI-X allows at most 2048 vectors per function. */
#define VFK_MAX_IRQ_COUNT 2048u
/* Migration state not known (start, or after a failed SET/reset). */
#define VFK_STATE_UNKNOWN UINT32_MAX
/* DMA mappings we track; guest RAM comes in a handful of slots. */
#define VFK_MAX_DMA 64u

enum vfk_iommu {
	VFK_IOMMUFD, /* cdev bound to /dev/iommu, one IOAS */
	VFK_TYPE1,   /* legacy group + type1v2 container */
};

struct vfk_region {
	bool valid;             /* desc filled by a region info query */
	struct vfio_region_desc desc;
	uint64_t fd_offset;     /* region's offset in the device fd */
};

struct vfk_dma {
	uint64_t iova;
	uint64_t size;
};

struct vfk_dev {
	struct vfio_backend be; /* first: ops, id, failed */
	const struct vfio_kernel_sys *sys; /* borrowed */
	enum vfk_iommu iommu;
	int device_fd;          /* owned */
	int iommufd;            /* owned; VFK_IOMMUFD only */
	uint32_t ioas_id;       /* VFK_IOMMUFD only */
	int container_fd;       /* owned; VFK_TYPE1 only */
	int group_fd;           /* owned; VFK_TYPE1 only */
	uint32_t dev_flags;
	uint32_t num_regions;
	uint32_t num_irqs;

	pthread_mutex_t lock;
	struct vfk_region regions[VFK_MAX_REGIONS]; /* protected by lock */

	pthread_mutex_t dma_lock;
	struct vfk_dma dma[VFK_MAX_DMA];            /* protected by dma_lock */
	unsigned int nr_dma;                        /* protected by dma_lock */

	pthread_mutex_t mig_lock;
	uint32_t mig_state;     /* cached; protected by mig_lock */
	int data_fd;            /* owned; -1 without a session; mig_lock */
	bool logging;           /* DMA logging started; mig_lock */
};

/* The backend's vtable (vfio-kernel-ops.c). */
extern const struct vfio_backend_ops vfk_ops;

static inline struct vfk_dev *vfk__to_dev(struct vfio_backend *be)
{
	return container_of(be, struct vfk_dev, be);
}

/* True once failed; lock-free. */
bool vfk__failed(const struct vfk_dev *d);

/*
 * The kernel answered something impossible: log "@fmt" once with the
 * device id and fail the backend. Returns -EIO for convenience.
 */
int vfk__fail(struct vfk_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ioctl through d->sys: 0 or the ioctl's result (>= 0), or -errno. */
int vfk__ioctl(struct vfk_dev *d, int fd, unsigned long req, void *arg);

/* Close @*fd through d->sys (if >= 0) and set it to -1. */
void vfk__close(struct vfk_dev *d, int *fd);

/* Close all fds and free @be. NULL-safe (vtable destroy). */
void vfk__destroy(struct vfio_backend *be);

/* Operations in vfio-kernel-mig.c (see struct vfio_backend_ops). */
int vfk__mig_set_state(struct vfio_backend *be, uint32_t state);
int vfk__mig_get_state(struct vfio_backend *be, uint32_t *state);
ssize_t vfk__mig_read(struct vfio_backend *be, void *buf, size_t len);
int vfk__mig_write(struct vfio_backend *be, const void *buf, size_t len);
int vfk__mig_precopy_info(struct vfio_backend *be, uint64_t *initial,
			  uint64_t *dirty);
int vfk__dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		 int fd, uint64_t fd_offset, void *vaddr, uint32_t prot);
int vfk__dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size);
int vfk__dma_logging_start(struct vfio_backend *be, uint64_t page_size,
			   const struct vfio_dma_range *ranges, uint32_t nr);
int vfk__dma_logging_stop(struct vfio_backend *be);
int vfk__dma_logging_report(struct vfio_backend *be, uint64_t iova,
			    uint64_t length, uint64_t page_size,
			    uint64_t *bitmap);

/*
 * Drop the migration session, if any, and forget the cached state
 * (reset: RUNNING; failure: VFK_STATE_UNKNOWN). Caller holds mig_lock.
 */
void vfk__mig_forget(struct vfk_dev *d, uint32_t state);

#endif /* DEVICES_VFIO_VFIO_KERNEL_INTERNAL_H */
