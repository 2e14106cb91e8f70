/*
 * testdev-internal.h: ferry-testdev's private declarations shared by its
 * files: the device object (options, device memory, registers, the one
 * client connection, DMA mappings, dirty log, migration session), the BAR0
 * register map (documented for guests in docs/vfio-user.md) and the
 * cross-file functions, grouped by the file that defines them.
 */
#ifndef TOOLS_TESTDEV_TESTDEV_INTERNAL_H
#define TOOLS_TESTDEV_TESTDEV_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vfio/vfio-user-payload.h"
#include "devices/vfio/vfio-user-proto.h"

/* --- device identity and layout (docs/vfio-user.md) --- */
#define TD_VENDOR_ID 0x4654 /* "FT": not a registered vendor; test only */
#define TD_DEVICE_ID 0x0001
#define TD_ID_VALUE 0x54444556u /* BAR0 ID register: bytes "VEDT" */
#define TD_VERSION 1u

#define TD_BAR0_SIZE 4096u
#define TD_CFG_SIZE 256u
#define TD_NUM_REGIONS 9u /* VFIO_PCI_NUM_REGIONS: BAR0-5, ROM, config, VGA */
#define TD_NUM_IRQS 5u    /* VFIO_PCI_NUM_IRQS: INTx, MSI, MSI-X, ERR, REQ */
#define TD_MSIX_VECTORS 4u
#define TD_MSIX_TABLE_OFF 0x800u
#define TD_MSIX_PBA_OFF 0xc00u
#define TD_PAGE_SIZE 4096u

/* BAR0 registers (32-bit; 64-bit values are LO/HI pairs). */
#define TD_REG_ID 0x000
#define TD_REG_VERSION 0x004
#define TD_REG_MEM_SIZE_LO 0x008
#define TD_REG_MEM_SIZE_HI 0x00c
#define TD_REG_MIG_STATE 0x010
#define TD_REG_FEATURES 0x014
#define TD_REG_SCRATCH0 0x020 /* 8 registers up to 0x03c */
#define TD_NR_SCRATCH 8
#define TD_REG_COUNTER_LO 0x040
#define TD_REG_COUNTER_HI 0x044
#define TD_REG_DMA_DEV_LO 0x050
#define TD_REG_DMA_DEV_HI 0x054
#define TD_REG_DMA_ADDR_LO 0x058
#define TD_REG_DMA_ADDR_HI 0x05c
#define TD_REG_DMA_LEN 0x060
#define TD_REG_DMA_CTRL 0x064
#define TD_REG_DMA_STATUS 0x068
#define TD_REG_DMA_ERROR 0x06c
#define TD_REG_DMA_COUNT 0x070
#define TD_REG_DIGEST_LO 0x080
#define TD_REG_DIGEST_HI 0x084
#define TD_REG_IRQ_TRIGGER 0x090

#define TD_FEATURE_PRECOPY (1u << 0)

#define TD_DMA_CTRL_START (1u << 0)
#define TD_DMA_CTRL_FROM_GUEST (1u << 1) /* guest -> device memory */
#define TD_DMA_CTRL_IRQ (1u << 2)       /* interrupt when finished (td__raise_irq) */

enum td_dma_status {
	TD_DMA_IDLE = 0,
	TD_DMA_DONE = 1,
	TD_DMA_FAILED = 2,
};

enum td_dma_error {
	TD_DMA_OK = 0,
	TD_DMA_ERR_DEV_RANGE = 1,   /* device memory range out of bounds */
	TD_DMA_ERR_NOT_MAPPED = 2,  /* guest range not inside one mapping */
	TD_DMA_ERR_PERM = 3,        /* mapping lacks the needed permission */
	TD_DMA_ERR_NOT_RUNNING = 4, /* device stopped */
	TD_DMA_ERR_LEN = 5,         /* zero length or longer than 16 MiB */
};

/* Longest single DMA: bounds the work one register write triggers. */
#define TD_DMA_MAX_LEN (16u << 20)

/* Most DMA mappings a client may hold (advertised as max_dma_maps). */
#define TD_MAX_DMA_MAPS 64u

/* Device state that migrates: plain data, explicit widths, no padding. */
struct td_regs {
	uint32_t scratch[TD_NR_SCRATCH];
	uint64_t counter;      /* ms spent in running states */
	uint64_t dma_dev_off;
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t dma_ctrl;
	uint32_t dma_status;
	uint32_t dma_error;
	uint32_t dma_count;
	uint32_t reserved;
	uint64_t dirty_cursor; /* background writer: next byte offset */
	uint64_t dirty_gen;    /* background writer: pass number */
};
/* Naturally aligned, no padding: the stream carries it byte for byte. */
_Static_assert(sizeof(struct td_regs) == 96, "td_regs layout");

struct td_dma_map {
	bool used;
	uint64_t iova;
	uint64_t size;
	uint32_t flags; /* VFIO_USER_F_DMA_READ/WRITE */
	uint8_t *hva;   /* our mapping of the client's fd */
};

struct td_log_range {
	uint64_t iova;
	uint64_t length;
	uint64_t *bitmap; /* one bit per log page */
};

struct td_log {
	bool active;
	uint64_t page_size;
	unsigned int nr;
	struct td_log_range ranges[VFIO_USER_MAX_LOG_RANGES];
};

enum td_load_stage {
	TD_LOAD_HEADER = 0,
	TD_LOAD_REC_HDR,
	TD_LOAD_PAYLOAD,
	TD_LOAD_DONE,   /* END record accepted; nothing may follow */
	TD_LOAD_FAILED, /* sticky */
};

struct td_mig {
	uint32_t state; /* enum vfio_device_mig_state */
	/* saving session */
	bool saving;
	uint64_t *sent_hash;  /* per page: hash of what was last sent */
	uint64_t *sent_fp;    /* per page: td__page_fp of what was last sent */
	uint64_t *pending;    /* bitmap: pages to (re)send */
	uint64_t *sent_once;  /* bitmap: pages sent at least once */
	uint64_t unsent_initial; /* pages never sent yet */
	uint64_t scan_pos;
	bool sc_scanned;      /* in STOP_COPY and rescanned: nothing changes now */
	bool header_sent;
	bool end_sent;
	uint8_t *stage;       /* record being handed out */
	size_t stage_len, stage_off;
	uint64_t nr_records, chain;
	/* resuming session */
	bool resuming;
	enum td_load_stage load;
	uint8_t *lbuf;        /* header / record being assembled */
	size_t lneed, lgot;
	uint32_t ltype, llen;
	uint64_t larg, lhash;
	uint64_t lrecords, lchain;
	bool lhave_regs;
	struct td_regs lregs;
	uint64_t lsrc_digest;
	uint64_t *lfp;        /* per page: td__page_fp of what was loaded */
	uint64_t *lloaded;    /* bitmap: pages loaded (lfp valid) */
	int lerr;
};

struct testdev {
	/* options */
	const char *socket_path;
	uint64_t mem_size;
	uint64_t dirty_rate; /* bytes per second while running */
	uint64_t dirty_offset; /* background writes stay in [offset, mem_size) */
	/* Digest cache while stopped (td__digest_cached); td__touch clears it. */
	bool dcache_valid;
	uint64_t dcache;
	bool precopy;
	bool p2p;            /* --p2p: VFIO_MIGRATION_P2P (the *_P2P states) */
	unsigned int resume_delay_ms;
	bool intx; /* --intx on: Interrupt Pin INTA, IRQ index 0 offered */
	/* device */
	int mem_fd;
	uint8_t *mem;
	uint64_t npages;
	struct td_regs regs;
	uint8_t cfg[TD_CFG_SIZE];
	uint8_t msix[TD_BAR0_SIZE - TD_MSIX_TABLE_OFF]; /* table + PBA bytes */
	uint64_t digest_latch;
	int64_t last_tick_ms;
	uint64_t dirty_carry; /* bytes owed to the writer (rate * ms) / 1000 */
	/* connection */
	int conn;
	bool conn_dead; /* a reply could not be sent: drop the client */
	bool negotiated;
	struct vfio_user_caps peer;
	int irq_fds[TD_MSIX_VECTORS];
	/*
	 * INTx (testdev-intx.c). Connection state like irq_fds; masked and
	 * pending are device state that reset clears and that does not
	 * migrate (docs/vfio-user.md).
	 */
	int intx_trigger;  /* eventfd the line is signalled on, or -1 */
	int intx_unmask;   /* eventfd the client unmasks through, or -1 */
	bool intx_masked;  /* signalled (automasked) or MASKed, not unmasked yet */
	bool intx_pending; /* raised while masked: signal again on unmask */
	struct td_dma_map maps[TD_MAX_DMA_MAPS];
	struct td_log log;
	struct td_mig mig;
};

/* Set by SIGINT/SIGTERM (testdev-main.c): finish the client and exit. */
extern volatile sig_atomic_t td_quit;

/* --- testdev-hash.c --- */
/* 64-bit hash of @len bytes; any single changed 8-byte word changes it. */
uint64_t td__hash(const void *p, size_t len, uint64_t seed);

/*
 * Hash of all device memory, as the digest uses it: a td__mix chain over
 * the td__page_fp of each TD_PAGE_SIZE page in order, started from
 * TD_DIGEST_MEM_SEED ^ length and closed with the length. Two levels, so
 * page fingerprints computed anyway (precopy's change scan, a page as it
 * is loaded) make the whole hash without reading memory again; the guest
 * computes the same (tests/guest/vfio-dev.c).
 */
static inline uint64_t td__mem_hash_init(uint64_t len);
static inline uint64_t td__mem_hash_step(uint64_t h, uint64_t page_fp);
static inline uint64_t td__mem_hash_final(uint64_t h, uint64_t len);
/* The whole memory hash of @len bytes at @mem (a multiple of pages). */
uint64_t td__mem_hash(const uint8_t *mem, uint64_t len);

/* Seed of the memory hash in the digest (the guest uses it too). */
#define TD_DIGEST_MEM_SEED 0x4d45

/* Digest of the registers combined with a memory hash (as td__digest). */
uint64_t td__digest_with(const struct testdev *td, uint64_t mem_hash);
uint64_t td__mix(uint64_t h, uint64_t v);

/*
 * Fast fingerprint of one TD_PAGE_SIZE page, to spot changed pages and
 * as the unit of the memory hash. Not a checksum for the stream.
 */
uint64_t td__page_fp(const void *page);

static inline uint64_t td__mem_hash_init(uint64_t len)
{
	return TD_DIGEST_MEM_SEED ^ len;
}

static inline uint64_t td__mem_hash_step(uint64_t h, uint64_t page_fp)
{
	return td__mix(h, page_fp);
}

static inline uint64_t td__mem_hash_final(uint64_t h, uint64_t len)
{
	return td__mix(h, len);
}

/*
 * The digest, computed at most once while the device stays stopped
 * (STOP, STOP_COPY, RESUMING): then only the server changes device state
 * (each such write calls td__touch) and the VMM keeps vCPUs off the
 * mapped BAR2, as the uAPI asks. Hashing 1 GiB takes about half a second
 * here, and state changes during a switchover log the digest several
 * times; this keeps that cost out of the downtime.
 */
uint64_t td__digest_cached(struct testdev *td);
/* Device state changed through the server: forget a cached digest. */
static inline void td__touch(struct testdev *td)
{
	td->dcache_valid = false;
}

/* --- testdev-regs.c: registers, config space, activity, digest --- */
void td__regs_power_on(struct testdev *td);
void td__cfg_init(struct testdev *td);
int td__bar0_read(struct testdev *td, uint64_t off, void *buf, uint32_t len);
int td__bar0_write(struct testdev *td, uint64_t off, const void *buf,
		  uint32_t len);
int td__cfg_read(struct testdev *td, uint64_t off, void *buf, uint32_t len);
int td__cfg_write(struct testdev *td, uint64_t off, const void *buf,
		 uint32_t len);
bool td__running(const struct testdev *td);
void td__tick(struct testdev *td);
uint64_t td__digest(const struct testdev *td);
/* Signal MSI-X vector @vector's eventfd, if it has one. */
void td__fire_irq(struct testdev *td, unsigned int vector);
/*
 * The device's interrupt for @vector (DMA completion, IRQ_TRIGGER): INTx
 * when td__intx_in_use, else MSI-X vector @vector as td__fire_irq.
 */
void td__raise_irq(struct testdev *td, unsigned int vector);
/* Config space bits INTx follows: MSI-X Enable, command INTx Disable. */
bool td__cfg_msix_enabled(const struct testdev *td);
bool td__cfg_intx_disabled(const struct testdev *td);
/* Set or clear the status register's Interrupt Status bit. */
void td__cfg_set_intx_status(struct testdev *td, bool on);

/* --- testdev-dma.c: DMA mappings, DMA engine, dirty logging --- */
int td__dma_map(struct testdev *td, const struct vfio_user_dma_map *m, int fd);
int td__dma_unmap(struct testdev *td, const struct vfio_user_dma_unmap *u);
void td__dma_unmap_all(struct testdev *td);
void td__dma_run(struct testdev *td);
int td__log_start(struct testdev *td, const uint8_t *data, size_t len);
void td__log_stop(struct testdev *td);
int td__log_report(struct testdev *td, const struct vfio_user_dma_log_report *r,
		  uint64_t *bitmap, size_t bitmap_bytes);

/*
 * --- the migration data stream (testdev-mig-save.c writes it,
 * testdev-mig-load.c reads it; described in docs/vfio-user.md) ---
 *
 * Host byte order:
 *   header  { u32 magic, u32 version, u64 mem_size, u32 page_size,
 *             u32 flags, u64 reserved }                          32 bytes
 *   records { u32 type, u32 len, u64 arg, u64 hash } + len bytes
 *     PAGE (1): arg = page index, 4096 bytes of device memory
 *     REGS (2): struct td_regs
 *     END  (3): { u64 records before END, u64 chain, u64 digest }
 *   hash  = mix(hash(payload), mix(type, arg))
 *   chain = hash(header), then mix(chain, mix(hash, type << 32 | len))
 *           over every record before END.
 */
#define TD_STREAM_MAGIC 0x53445446u /* "FTDS" */
#define TD_STREAM_VERSION 1u

enum { TD_REC_PAGE = 1, TD_REC_REGS = 2, TD_REC_END = 3 };

struct td_stream_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t mem_size;
	uint32_t page_size;
	uint32_t flags;
	uint64_t reserved;
} __attribute__((packed));

struct td_rec_hdr {
	uint32_t type;
	uint32_t len;
	uint64_t arg;
	uint64_t hash;
} __attribute__((packed));

struct td_rec_end {
	uint64_t records;
	uint64_t chain;
	uint64_t digest;
} __attribute__((packed));

/* A record's hash from its type, argument and the hash of its payload. */
static inline uint64_t td__rec_hash(uint32_t type, uint64_t arg,
				    uint64_t payload_hash)
{
	return td__mix(payload_hash, td__mix(type, arg));
}

/* The stream's chain value after record header @h (not END). */
static inline uint64_t td__chain_step(uint64_t chain,
				      const struct td_rec_hdr *h)
{
	return td__mix(chain, td__mix(h->hash, (uint64_t)h->type << 32 | h->len));
}

/* Bit @i of the page bitmap @b: test, set, clear. */
static inline bool td__bit_test(const uint64_t *b, uint64_t i)
{
	return b[i / 64] & (1ULL << (i % 64));
}

static inline void td__bit_set(uint64_t *b, uint64_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}

static inline void td__bit_clear(uint64_t *b, uint64_t i)
{
	b[i / 64] &= ~(1ULL << (i % 64));
}

/* --- testdev-mig.c: the migration state machine --- */
/* Initialise td->mig: no session, state RUNNING. Returns 0. */
int td__mig_init(struct testdev *td);
/* Free both sessions' buffers (as td__mig_reset). */
void td__mig_fini(struct testdev *td);
/*
 * Walk to @target one single-step arc at a time (the kernel's next-step
 * table, unsupported states skipped), opening, switching over and
 * closing the saving and resuming sessions on the way. Returns 0;
 * -EINVAL for an unsupported or unreachable target or while in ERROR;
 * or a failed arc's -errno, the state then being the last one reached,
 * except that a failed RESUMING -> STOP leaves ERROR. Logs every arc
 * with the digest.
 */
int td__mig_set_state(struct testdev *td, uint32_t target);
/* DEVICE_RESET: drop both sessions and return to RUNNING (even from ERROR). */
void td__mig_reset(struct testdev *td);

/* --- testdev-mig-save.c: the saving stream --- */
/*
 * Start a saving session (STOP -> STOP_COPY, RUNNING -> PRE_COPY): every
 * page pending, nothing sent. Any old session is dropped first. Returns
 * 0 or -ENOMEM (no session then).
 */
int td__mig_save_open(struct testdev *td);
/* End the saving session and free its buffers; idempotent. */
void td__mig_save_close(struct td_mig *m);
/*
 * PRE_COPY(_P2P) -> STOP_COPY, in the VM's downtime: queue the pages
 * changed since sent and cache the digest, in one pass over memory; no
 * rescans after it. Needs an open saving session.
 */
void td__mig_save_rescan_digest(struct testdev *td);
/*
 * Copy up to @want bytes of the stream into @buf; *@got is what was
 * copied (0: nothing now in PRE_COPY, or the end in STOP_COPY). Returns
 * 0, or -EINVAL without a saving session in a saving state.
 */
int td__mig_read(struct testdev *td, uint8_t *buf, size_t want, size_t *got);
/*
 * VFIO_MIG_GET_PRECOPY_INFO: bytes of the initial pass and of re-sends
 * still to come (rescans memory first). Returns 0, or -EINVAL outside
 * PRE_COPY(_P2P) with a session.
 */
int td__mig_precopy_info(struct testdev *td, uint64_t *initial, uint64_t *dirty);
/*
 * MIG_DATA_SIZE: the bytes still to read to the end of the stream if the
 * device stopped now (before a session: the whole stream).
 */
uint64_t td__mig_stop_copy_size(struct testdev *td);

/* --- testdev-mig-load.c: the resuming parser --- */
/*
 * Start a resuming session (STOP -> RESUMING), dropping any old one,
 * then sleep --resume-delay-ms if set. Returns 0 or -ENOMEM.
 */
int td__mig_load_open(struct testdev *td);
/* End the resuming session and free its buffers; idempotent. */
void td__mig_load_close(struct td_mig *m);
/*
 * Feed @len stream bytes in RESUMING. Returns 0, or -EINVAL without a
 * resuming session or when the stream is bad (logged once; the session
 * then fails every later write and the finish).
 */
int td__mig_write(struct testdev *td, const uint8_t *buf, size_t len);
/*
 * RESUMING -> STOP: the END record and the registers must have arrived
 * and the digest must equal the source's; then the loaded registers are
 * the device's. Returns 0 or -EINVAL (registers unchanged). The caller
 * closes the session.
 */
int td__mig_load_finish(struct testdev *td);

/*
 * --- testdev-intx.c: the INTx line (--intx on), IRQ index 0 ---
 * The line is level-triggered over eventfds as VFIO's: signalling the
 * trigger eventfd asserts it and automasks it; the client unmasks (its
 * unmask eventfd, or SET_IRQS UNMASK) once the guest has handled it, and
 * an interrupt raised while masked is signalled again then.
 */
/* No eventfds, unmasked, nothing pending (a new connection). */
void td__intx_init(struct testdev *td);
/* Close both eventfds and forget the state (disconnect). */
void td__intx_release(struct testdev *td);
/* Device reset: unmasked, nothing pending; eventfds stay. */
void td__intx_reset(struct testdev *td);
/*
 * VFIO_USER_DEVICE_SET_IRQS for index 0, header @s already read from @m
 * and checked for one data and one action type (@data, @action). Replies
 * and returns 0, or returns -errno (refused: nothing changed).
 */
int td__intx_set_irqs(struct testdev *td, struct vfio_user_msg *m,
		      const struct vfio_user_irq_set *s, uint32_t data,
		      uint32_t action);
/* INTx carries the device's interrupt: a trigger and MSI-X not enabled. */
bool td__intx_in_use(const struct testdev *td);
/*
 * Raise the interrupt: dropped while INTx Disable is set; remembered as
 * pending while masked; else the trigger is signalled and masks the line.
 */
void td__intx_raise(struct testdev *td);
/* The unmask eventfd to poll for POLLIN, or -1. */
int td__intx_poll_fd(const struct testdev *td);
/* The unmask eventfd polled @revents: read it and unmask, or drop it. */
void td__intx_poll_event(struct testdev *td, short revents);

/* --- testdev-server.c: one client connection --- */
void td__serve(struct testdev *td, int conn);
/* Reply to @m; a send failure marks the connection dead. Returns 0. */
int td__reply(struct testdev *td, const struct vfio_user_msg *m,
	      const void *p, size_t l, const int *fds, unsigned int nfds);

/* --- testdev-feature.c: DEVICE_FEATURE. 0 (replied) or -errno. --- */
int td__feature(struct testdev *td, struct vfio_user_msg *m);

/* Reset the whole device (DEVICE_RESET, disconnect). */
void td__device_reset(struct testdev *td);

#endif /* TOOLS_TESTDEV_TESTDEV_INTERNAL_H */
