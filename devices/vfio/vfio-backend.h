/*
 * vfio-backend.h: the small interface between ferry's VFIO device model
 * and the thing that actually talks to the device. Two backends implement
 * it: the vfio-user client (vfio-user.c, a device server over a UNIX
 * socket) and kernel VFIO (a /dev/vfio device fd). The operations follow
 * kernel VFIO semantics; where the kernel hands out a file descriptor
 * (migration data_fd) or user pointers (DMA logging), the interface takes
 * plain buffers instead, so both backends fit.
 *
 * Constants are the kernel's: VFIO_REGION_INFO_FLAG_*, VFIO_IRQ_INFO_*,
 * VFIO_IRQ_SET_*, VFIO_DEVICE_FEATURE_*, enum vfio_device_mig_state (with
 * vmm/compat/vfio-compat.h for PRE_COPY and newer).
 *
 * Threads: every operation may be called from any thread; a backend
 * serialises its own calls (vCPU threads do trapped region accesses while
 * the VMM thread migrates). Operations block for at most the backend's
 * documented timeout.
 *
 * Failure: once a backend has seen its device misbehave (a vfio-user
 * server sending a malformed reply, disconnecting or hanging), it logs one
 * line naming the device, sets failed to a negative errno and answers every
 * later call with -EIO at once. A plain error answer from the device (for
 * instance a refused migration arc) is returned as -errno and does not
 * fail the backend.
 */
#ifndef DEVICES_VFIO_VFIO_BACKEND_H
#define DEVICES_VFIO_VFIO_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vfio_backend;

/* Room for mmap-able areas per region (sparse mmap capability). */
#define VFIO_BACKEND_MAX_AREAS 8

struct vfio_device_desc {
	uint32_t flags; /* VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_PCI */
	uint32_t num_regions;
	uint32_t num_irqs;
};

struct vfio_mmap_area {
	uint64_t offset; /* inside the region */
	uint64_t size;
};

struct vfio_region_desc {
	uint32_t index;
	uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP */
	uint64_t size;  /* 0: region not implemented */
	/*
	 * Areas that may be mmapped with region_mmap(); everything else
	 * is trapped (region_read/write). Empty without FLAG_MMAP; one
	 * whole-region area when the device gave no sparse capability.
	 */
	unsigned int nr_areas;
	struct vfio_mmap_area areas[VFIO_BACKEND_MAX_AREAS];
};

struct vfio_irq_desc {
	uint32_t index;
	uint32_t flags; /* VFIO_IRQ_INFO_EVENTFD, _MASKABLE, ... */
	uint32_t count;
};

struct vfio_dma_range {
	uint64_t iova;
	uint64_t length;
};

struct vfio_backend_ops {
	/* Backend kind for logs: "vfio-user", "vfio". */
	const char *name;

	/* Device flags and region/IRQ counts. */
	int (*get_device_info)(struct vfio_backend *be,
			       struct vfio_device_desc *out);

	/* Describe region @index. -EINVAL for an index the device lacks. */
	int (*get_region_info)(struct vfio_backend *be, uint32_t index,
			       struct vfio_region_desc *out);

	/*
	 * Trapped access of @len bytes at @offset of region @index. The
	 * range must lie inside the region (-EINVAL otherwise). Returns 0
	 * only when all @len bytes were transferred.
	 */
	int (*region_read)(struct vfio_backend *be, uint32_t index,
			   uint64_t offset, void *buf, size_t len);
	int (*region_write)(struct vfio_backend *be, uint32_t index,
			    uint64_t offset, const void *buf, size_t len);

	/*
	 * mmap [@offset, @offset+@size) of region @index (MAP_SHARED, @prot
	 * PROT_READ|PROT_WRITE subset). The range must lie inside one area
	 * from get_region_info and be page aligned. The caller owns the
	 * mapping (munmap it); it stays valid after the backend is
	 * destroyed or fails. Returns 0 and *out, or -errno.
	 */
	int (*region_mmap)(struct vfio_backend *be, uint32_t index,
			   uint64_t offset, uint64_t size, int prot,
			   void **out);

	/* Describe IRQ index @index (VFIO_PCI_MSIX_IRQ_INDEX, ...). */
	int (*get_irq_info)(struct vfio_backend *be, uint32_t index,
			    struct vfio_irq_desc *out);

	/*
	 * VFIO_DEVICE_SET_IRQS. @flags: one VFIO_IRQ_SET_DATA_* (NONE or
	 * EVENTFD; BOOL is not supported) and one VFIO_IRQ_SET_ACTION_*.
	 * With DATA_EVENTFD, @fds holds @count eventfds (borrowed; -1
	 * de-assigns that vector). DATA_NONE|ACTION_TRIGGER with start =
	 * count = 0 disables the whole index.
	 */
	int (*set_irqs)(struct vfio_backend *be, uint32_t index,
			uint32_t flags, uint32_t start, uint32_t count,
			const int *fds);

	/* VFIO_DEVICE_RESET. The migration state is RUNNING afterwards. */
	int (*reset)(struct vfio_backend *be);

	/*
	 * VFIO_DEVICE_FEATURE for features whose payload has no pointers
	 * and no fds (MIGRATION, MIG_DATA_SIZE, PROBEs, ...). @flags is the
	 * feature index | GET/SET/PROBE; @data/@len is the payload after
	 * the 8-byte header: input for SET, output for GET (exactly @len
	 * bytes are returned). -ENOTTY/-EINVAL/-EOPNOTSUPP for features the
	 * device lacks (whatever the device says).
	 */
	int (*device_feature)(struct vfio_backend *be, uint32_t flags,
			      void *data, size_t len);

	/*
	 * Migration. set_state moves the device to @state, walking
	 * combination arcs (the kernel core or the vfio-user server does
	 * the walking). A saving or resuming session (the kernel's data_fd)
	 * is opened and closed by the backend as the arcs dictate. On
	 * failure the device may be anywhere on the path; the backend drops
	 * any session and the caller should get_state, recover or reset.
	 */
	int (*mig_set_state)(struct vfio_backend *be, uint32_t state);
	int (*mig_get_state)(struct vfio_backend *be, uint32_t *state);

	/*
	 * Read up to @len bytes of the saving stream (PRE_COPY, STOP_COPY).
	 * Returns the byte count (> 0), 0 at the end of the stream
	 * (STOP_COPY: all state transferred), -ENOMSG when PRE_COPY has no
	 * data right now, or -errno.
	 */
	ssize_t (*mig_read)(struct vfio_backend *be, void *buf, size_t len);

	/* Append @len bytes to the resuming stream (RESUMING); all or -errno. */
	int (*mig_write)(struct vfio_backend *be, const void *buf, size_t len);

	/*
	 * PRE_COPY states only: the device's estimate of initial and dirty
	 * bytes still to read (kernel VFIO_MIG_GET_PRECOPY_INFO). Returns
	 * -EOPNOTSUPP when the device cannot tell (the caller must then
	 * assume the worst), -EINVAL outside PRE_COPY.
	 */
	int (*mig_precopy_info)(struct vfio_backend *be, uint64_t *initial,
				uint64_t *dirty);

	/*
	 * Map guest memory for device DMA: IOVA [@iova, @iova+@size) is
	 * backed by @fd (borrowed; the guest RAM memfd) at @fd_offset,
	 * which ferry maps at @vaddr. @prot: VFIO_DMA_MAP_FLAG_READ/WRITE.
	 */
	int (*dma_map)(struct vfio_backend *be, uint64_t iova, uint64_t size,
		       int fd, uint64_t fd_offset, void *vaddr, uint32_t prot);
	/* Undo a dma_map; (@iova, @size) must match a mapping exactly. */
	int (*dma_unmap)(struct vfio_backend *be, uint64_t iova, uint64_t size);

	/*
	 * Device DMA dirty logging (kernel DMA_LOGGING_START/STOP/REPORT).
	 * start: @nr (1..256) page-aligned, non-overlapping ranges at
	 * @page_size. report: read and clear the log of [@iova,
	 * @iova+@length) at @page_size (power of two >= 4 KiB); bit i of
	 * @bitmap (u64 word i/64, bit i%64) stands for page i of the range.
	 * Bits are only ever set, never cleared: zero @bitmap first. Any
	 * report error means the log is lost: treat all memory as dirty.
	 */
	int (*dma_logging_start)(struct vfio_backend *be, uint64_t page_size,
				 const struct vfio_dma_range *ranges,
				 uint32_t nr);
	int (*dma_logging_stop)(struct vfio_backend *be);
	int (*dma_logging_report)(struct vfio_backend *be, uint64_t iova,
				  uint64_t length, uint64_t page_size,
				  uint64_t *bitmap);

	/* Close the device and free @be. NULL-safe. */
	void (*destroy)(struct vfio_backend *be);
};

/*
 * Embedded at the start of every backend's private struct. @failed is 0
 * while healthy and -errno once failed; read it with
 * __atomic_load_n(&be->failed, __ATOMIC_ACQUIRE).
 */
struct vfio_backend {
	const struct vfio_backend_ops *ops;
	char id[32]; /* device id for log lines */
	int failed;
};

#endif /* DEVICES_VFIO_VFIO_BACKEND_H */
