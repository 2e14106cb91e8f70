/*
 * vfio-user-internal.h: the vfio-user client's private state and the
 * transport helpers (vfio-user.c) its operations (vfio-user-ops.c) use.
 */
#ifndef DEVICES_VFIO_VFIO_USER_INTERNAL_H
#define DEVICES_VFIO_VFIO_USER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>

#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-user-payload.h"
#include "devices/vfio/vfio-user-proto.h"
#include "vmm/util.h"

/* Regions and IRQ indexes a device may declare (vfio-pci has 9 and 5). */
#define VFU_MAX_REGIONS 32u
#define VFU_MAX_IRQS 16u
/* MSI-X allows at most 2048 vectors per function. */
#define VFU_MAX_IRQ_COUNT 2048u
/* Migration state not known (after a failed SET). */
#define VFU_STATE_UNKNOWN UINT32_MAX

struct vfu_region {
	bool valid;             /* desc filled by get_region_info */
	struct vfio_region_desc desc;
	uint64_t mmap_offset;   /* file offset of the region in fd */
	int fd;                 /* owned; -1 if not mmap-able */
};

struct vfu_client {
	struct vfio_backend be; /* first: ops, id, failed */
	pthread_mutex_t lock;   /* one request/reply at a time */
	int sock;               /* owned */
	uint16_t next_id;       /* protected by lock */
	int timeout_ms;
	int state_timeout_ms;
	struct vfio_user_caps server; /* what the server announced */
	uint32_t max_xfer;      /* negotiated data per message */
	uint32_t max_fds;       /* fds per message the server accepts */
	uint16_t minor;
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t dev_flags;
	uint32_t mig_state;     /* cached; protected by lock */
	int precopy_info;       /* 1 supported, 0 unknown, -1 unsupported */
	struct vfu_region regions[VFU_MAX_REGIONS]; /* protected by lock */
};

/* The backend's vtable (vfio-user-ops.c). */
extern const struct vfio_backend_ops vfu_ops;

/*
 * Mark the client failed (first call logs "@fmt" once with the device id
 * and shuts the socket down). Returns -EIO for convenience.
 */
int vfu__fail(struct vfu_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Close the socket and region fds, free @be. NULL-safe (vtable destroy). */
void vfu__destroy(struct vfio_backend *be);

/* True once failed; lock-free. */
bool vfu__failed(const struct vfu_client *c);

/*
 * One request/reply exchange; caller holds c->lock. Sends @cmd with
 * payload @p1/@l1 + @p2/@l2 and @nfds fds, waits up to @timeout_ms.
 * Returns 0 with *reply holding a valid non-error reply (release it),
 * -errno for a well-formed error reply (nothing to release), or -EIO
 * when the client failed (now or before).
 */
int vfu__xact(struct vfu_client *c, uint16_t cmd, const void *p1, size_t l1,
	      const void *p2, size_t l2, const int *fds, unsigned int nfds,
	      int timeout_ms, struct vfio_user_msg *reply);

/*
 * DEVICE_FEATURE exchange; caller holds c->lock. @flags: index |
 * GET/SET/PROBE. Sends @in/@inlen after the header (SET, and GETs with
 * inputs); a GET reply must carry exactly @outlen bytes, copied to @out;
 * a SET/PROBE reply must echo the request. Returns as vfu__xact.
 */
int vfu__feature(struct vfu_client *c, uint32_t flags, const void *in,
		 size_t inlen, void *out, size_t outlen, int timeout_ms);

/* Reply @r must be exactly @len bytes without fds; else release and fail. */
int vfu__expect_len(struct vfu_client *c, struct vfio_user_msg *r, size_t len,
		    const char *what);

static inline struct vfu_client *vfu__to_c(struct vfio_backend *be)
{
	return container_of(be, struct vfu_client, be);
}

/* Take the request lock unless failed (-EIO without waiting). */
static inline int vfu__enter(struct vfu_client *c)
{
	if (vfu__failed(c))
		return -EIO;
	pthread_mutex_lock(&c->lock);
	return 0;
}

static inline void vfu__leave(struct vfu_client *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* Operations in vfio-user-mig.c (see struct vfio_backend_ops). */
int vfu__mig_set_state(struct vfio_backend *be, uint32_t state);
int vfu__mig_get_state(struct vfio_backend *be, uint32_t *state);
ssize_t vfu__mig_read(struct vfio_backend *be, void *buf, size_t len);
int vfu__mig_write(struct vfio_backend *be, const void *buf, size_t len);
int vfu__mig_precopy_info(struct vfio_backend *be, uint64_t *initial,
			  uint64_t *dirty);
int vfu__dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		 int fd, uint64_t fd_offset, void *vaddr, uint32_t prot);
int vfu__dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size);
int vfu__dma_logging_start(struct vfio_backend *be, uint64_t page_size,
			   const struct vfio_dma_range *ranges, uint32_t nr);
int vfu__dma_logging_stop(struct vfio_backend *be);
int vfu__dma_logging_report(struct vfio_backend *be, uint64_t iova,
			    uint64_t length, uint64_t page_size,
			    uint64_t *bitmap);

#endif /* DEVICES_VFIO_VFIO_USER_INTERNAL_H */
