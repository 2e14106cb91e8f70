/*
 * vfio-user-proto.h: the vfio-user wire protocol as ferry speaks it, shared
 * by the client backend (vfio-user.c) and ferry-testdev: message header and
 * per-command payload layouts (packed, host byte order, exactly as the
 * vfio-user specification lays them out), bounded message I/O over an
 * AF_UNIX stream socket with SCM_RIGHTS fd passing and reply validation
 * (vfio-user-proto.c); the payload decoders that must never trust their
 * input are in vfio-user-payload.h. Nothing here keeps state; every
 * function works on caller-owned buffers.
 */
#ifndef DEVICES_VFIO_VFIO_USER_PROTO_H
#define DEVICES_VFIO_VFIO_USER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol version ferry proposes (client) and accepts (server). */
#define VFIO_USER_MAJOR 0
#define VFIO_USER_MINOR 2

enum vfio_user_command {
	VFIO_USER_VERSION = 1,
	VFIO_USER_DMA_MAP = 2,
	VFIO_USER_DMA_UNMAP = 3,
	VFIO_USER_DEVICE_GET_INFO = 4,
	VFIO_USER_DEVICE_GET_REGION_INFO = 5,
	VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
	VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
	VFIO_USER_DEVICE_SET_IRQS = 8,
	VFIO_USER_REGION_READ = 9,
	VFIO_USER_REGION_WRITE = 10,
	VFIO_USER_DMA_READ = 11,
	VFIO_USER_DMA_WRITE = 12,
	VFIO_USER_DEVICE_RESET = 13,
	/* 14 was the removed DIRTY_PAGES command. */
	VFIO_USER_REGION_WRITE_MULTI = 15,
	VFIO_USER_DEVICE_FEATURE = 16,
	VFIO_USER_MIG_DATA_READ = 17,
	VFIO_USER_MIG_DATA_WRITE = 18,
	VFIO_USER_MAX_COMMAND,
};

/* Header flags: bits 0-3 message type, then No_reply and Error. */
#define VFIO_USER_F_TYPE_MASK 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0u
#define VFIO_USER_F_TYPE_REPLY 1u
#define VFIO_USER_F_NO_REPLY (1u << 4)
#define VFIO_USER_F_ERROR (1u << 5)

struct vfio_user_hdr {
	uint16_t msg_id;
	uint16_t cmd;
	uint32_t msg_size; /* whole message, header included */
	uint32_t flags;
	uint32_t error_no; /* errno of an error reply; 0 in commands */
} __attribute__((packed));

#define VFIO_USER_HDR_SIZE 16u

/*
 * Limits. max_data_xfer_size is the spec's default (1 MiB); ferry never
 * negotiates more. A message is at most a header, a small fixed part
 * (the largest is DEVICE_FEATURE + DMA logging report, 8 + 24 bytes) and
 * one transfer, so 4 KiB of slack above the transfer covers every command.
 * 16 fds per message is ample: SET_IRQS is sent in batches of at most
 * this many eventfds and every other command carries at most one fd.
 */
#define VFIO_USER_DEFAULT_MAX_XFER (1024u * 1024u)
#define VFIO_USER_MAX_MSG_SIZE (VFIO_USER_DEFAULT_MAX_XFER + 4096u)
#define VFIO_USER_MAX_MSG_FDS 16u
/* The capability JSON string is small; 4 KiB bounds what we parse. */
#define VFIO_USER_MAX_CAPS_LEN 4096u
/* At most this many DMA logging ranges in one START (kernel: one page / 16). */
#define VFIO_USER_MAX_LOG_RANGES 256u

/* VERSION (1): major, minor, then an optional NUL-terminated JSON string. */
struct vfio_user_version {
	uint16_t major;
	uint16_t minor;
} __attribute__((packed));

/* DMA_MAP (2). flags: VFIO_USER_F_DMA_READ/WRITE. One fd if mappable. */
struct vfio_user_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t offset; /* offset into the passed fd */
	uint64_t addr;   /* IOVA */
	uint64_t size;
} __attribute__((packed));

#define VFIO_USER_F_DMA_READ (1u << 0)
#define VFIO_USER_F_DMA_WRITE (1u << 1)

/* DMA_UNMAP (3); the reply echoes it. */
struct vfio_user_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t addr;
	uint64_t size;
} __attribute__((packed));

/* DEVICE_GET_INFO (4), request and reply. */
struct vfio_user_device_info {
	uint32_t argsz;
	uint32_t flags; /* VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_PCI */
	uint32_t num_regions;
	uint32_t num_irqs;
} __attribute__((packed));

/* DEVICE_GET_REGION_INFO (5): struct vfio_region_info's layout. */
struct vfio_user_region_info {
	uint32_t argsz;
	uint32_t flags; /* VFIO_REGION_INFO_FLAG_* */
	uint32_t index;
	uint32_t cap_offset; /* from the start of this struct */
	uint64_t size;
	uint64_t offset; /* mmap offset into the fd sent with the reply */
} __attribute__((packed));

struct vfio_user_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next; /* from the start of the region info; 0 ends */
} __attribute__((packed));

/* VFIO_REGION_INFO_CAP_SPARSE_MMAP (1), version 1. */
struct vfio_user_sparse_mmap {
	struct vfio_user_cap_header header;
	uint32_t nr_areas;
	uint32_t reserved;
} __attribute__((packed));

struct vfio_user_sparse_area {
	uint64_t offset; /* inside the region */
	uint64_t size;
} __attribute__((packed));

/* DEVICE_GET_IRQ_INFO (7). */
struct vfio_user_irq_info {
	uint32_t argsz;
	uint32_t flags; /* VFIO_IRQ_INFO_* */
	uint32_t index;
	uint32_t count;
} __attribute__((packed));

/* DEVICE_SET_IRQS (8); eventfds travel as SCM_RIGHTS. */
struct vfio_user_irq_set {
	uint32_t argsz;
	uint32_t flags; /* VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_* */
	uint32_t index;
	uint32_t start;
	uint32_t count;
} __attribute__((packed));

/* REGION_READ (9) / REGION_WRITE (10): header, then count data bytes. */
struct vfio_user_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
} __attribute__((packed));

/* DEVICE_FEATURE (16): struct vfio_device_feature, data follows. */
struct vfio_user_device_feature {
	uint32_t argsz; /* request: max reply payload; reply: payload size */
	uint32_t flags; /* index | VFIO_DEVICE_FEATURE_GET/SET/PROBE */
} __attribute__((packed));

/* Feature 2 payload. data_fd is unused in vfio-user (always sent as -1). */
struct vfio_user_mig_state {
	uint32_t device_state;
	uint32_t data_fd;
} __attribute__((packed));

/* Feature 6 payload; ranges follow inline. num_ranges 0: log everything. */
struct vfio_user_dma_log_control {
	uint64_t page_size;
	uint32_t num_ranges;
	uint32_t reserved;
} __attribute__((packed));

struct vfio_user_dma_log_range {
	uint64_t iova;
	uint64_t length;
} __attribute__((packed));

/* Feature 8 payload; the reply appends the u64 bitmap inline. */
struct vfio_user_dma_log_report {
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
} __attribute__((packed));

/* Feature 9 (kernel MIG_DATA_SIZE), carried by ferry as a vfio-user extension. */
struct vfio_user_mig_data_size {
	uint64_t stop_copy_length;
} __attribute__((packed));

/*
 * ferry extension (docs/vfio-user.md): GET of this feature index in
 * PRE_COPY states returns the kernel's vfio_precopy_info counters. The
 * index is far above the kernel's (12 in 2026) so it cannot collide.
 */
#define VFIO_USER_FEATURE_FERRY_PRECOPY_INFO 0xf001u
struct vfio_user_precopy_info {
	uint64_t initial_bytes;
	uint64_t dirty_bytes;
} __attribute__((packed));

/* MIG_DATA_READ (17) / MIG_DATA_WRITE (18). */
struct vfio_user_mig_data {
	uint32_t argsz; /* request: max reply payload; reply: 8 + size */
	uint32_t size;  /* bytes wanted / carried / returned */
} __attribute__((packed));

/* A received message. Owns data and fds until released. */
struct vfio_user_msg {
	struct vfio_user_hdr hdr;
	uint8_t *data; /* hdr.msg_size - 16 payload bytes (malloc'd) or NULL */
	size_t len;
	int fds[VFIO_USER_MAX_MSG_FDS];
	unsigned int nr_fds;
};

/* Capabilities exchanged in VERSION (JSON "capabilities" object). */
struct vfio_user_caps {
	uint32_t max_msg_fds;        /* default 1 */
	uint64_t max_data_xfer_size; /* default 1 MiB */
	uint32_t max_dma_maps;       /* default 65535 */
	uint64_t pgsizes;            /* default 4096 */
	uint64_t migration_pgsize;   /* 0: no "migration" object */
	bool write_multiple;
};

/* Prepare an empty message (no data, no fds). */
void vfio_user__msg_init(struct vfio_user_msg *msg);

/* Close every fd still owned and free the data; the message is empty after. */
void vfio_user__msg_release(struct vfio_user_msg *msg);

/*
 * Take ownership of fd @i of @msg (it will not be closed by release).
 * Returns the fd, or -1 when there is no such fd.
 */
int vfio_user__msg_take_fd(struct vfio_user_msg *msg, unsigned int i);

/*
 * Send one message: @hdr (msg_size is filled in here), then @p1/@l1 and
 * @p2/@l2 (either may be empty), with @nr_fds fds (borrowed) attached to
 * the first byte. Waits at most @timeout_ms (< 0: forever) for socket
 * space. Returns 0, -EINVAL (too many fds, message too large), -ETIMEDOUT,
 * -EPIPE / -ECONNRESET (peer gone) or another -errno. Never raises SIGPIPE.
 */
int vfio_user__send(int sock, struct vfio_user_hdr *hdr, const void *p1,
		    size_t l1, const void *p2, size_t l2, const int *fds,
		    unsigned int nr_fds, int timeout_ms);

/*
 * Receive exactly one message into @msg (which must be empty). At most
 * @max_size bytes (header included) and @max_fds fds are accepted.
 * Waits at most @timeout_ms (< 0: forever) for the whole message.
 * Returns:
 *   0             complete message in @msg (caller releases it);
 *   -ETOOMANYREFS the message was read completely but carried more than
 *                 @max_fds fds: all were closed, @msg holds the header and
 *                 data, the stream is still in sync;
 *   -E2BIG        hdr.msg_size > @max_size: only the header was read
 *                 (@msg->hdr valid), the stream cannot be resynchronised;
 *   -EPROTO       hdr.msg_size < 16 (header valid, stream lost);
 *   -ECONNRESET   the peer closed the socket (before or inside a message);
 *   -ETIMEDOUT, -ENOMEM or another -errno.
 * On every error the message owns no fds and no data.
 */
int vfio_user__recv(int sock, struct vfio_user_msg *msg, size_t max_size,
		    unsigned int max_fds, int timeout_ms);

/*
 * Is @reply a well-formed reply to command (@id, @cmd)? Checks the type
 * bits, id, command, unknown flag bits and the size floor. Returns 0 or
 * -EPROTO. An error reply that passes is still valid: see reply_errno.
 */
int vfio_user__check_reply(const struct vfio_user_hdr *reply, uint16_t id,
			   uint16_t cmd);

/*
 * The errno of an error reply as a positive number (error_no if it is a
 * plausible errno, EIO otherwise), or 0 if @hdr is not an error reply.
 */
int vfio_user__reply_errno(const struct vfio_user_hdr *hdr);

/*
 * Send a reply to @req with payload @p/@l and @nr_fds fds. Returns as
 * vfio_user__send(). Nothing is sent if @req had No_reply set.
 */
int vfio_user__send_reply(int sock, const struct vfio_user_hdr *req,
			  const void *p, size_t l, const int *fds,
			  unsigned int nr_fds, int timeout_ms);

/* Send an error reply (header only) to @req carrying positive @err. */
int vfio_user__send_error(int sock, const struct vfio_user_hdr *req, int err,
			  int timeout_ms);


#endif /* DEVICES_VFIO_VFIO_USER_PROTO_H */
