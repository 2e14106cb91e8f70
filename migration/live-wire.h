/*
 * live-wire.h: the live-migration stream: addresses (tcp:HOST:PORT,
 * unix:PATH), connecting and listening, and the message framing both
 * sides speak. The format (documented in docs/live-migration.md):
 *
 *   preamble   "FERRYLIV" | be32 version | be32 flags (0)   source first
 *   message    be32 type | be32 crc32c(payload) | be64 length | payload
 *
 * Source -> destination: HELLO (the handshake: a state tree with the VM
 * configuration, CPUID, memory size and the handler set), RAM (be64
 * gpa, be64 npages, page data), ZERO (be64 gpa, be64 npages), DEVICE
 * (be32 handler index, be32 0, a chunk of that handler's data stream),
 * STATE (the state tree of every handler, written with the VM paused),
 * END, ABORT (text). Destination -> source (the return path): ACCEPT,
 * REFUSE (text), SWITCHOVER_ACK, DONE, ERROR (text).
 *
 * Every length is bounded per type before anything is allocated; the
 * receiver treats the stream as untrusted. The CRC of a RAM message
 * covers only its 16-byte page header: the pages are sent straight from
 * guest memory while the guest may still write them (the dirty log
 * sends them again), so their bytes cannot be checksummed up front;
 * TCP's checksum covers them in transit.
 */
#ifndef MIGRATION_LIVE_WIRE_H
#define MIGRATION_LIVE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "vmm/util.h"

#define LIVE_MAGIC "FERRYLIV"
/*
 * 2: handlers carry a compatibility word (VFIO migration flags).
 * 3: RAM channels (extra connections for the first RAM pass).
 */
#define LIVE_VERSION 3u
#define LIVE_PREAMBLE_SIZE 16
#define LIVE_HDR_SIZE 16

enum live_msg_type {
	LIVE_MSG_HELLO = 1,
	LIVE_MSG_RAM = 2,
	LIVE_MSG_ZERO = 3,
	LIVE_MSG_DEVICE = 4,
	LIVE_MSG_STATE = 5,
	LIVE_MSG_END = 6,
	LIVE_MSG_ABORT = 7,
	LIVE_MSG_CHANNEL = 8,       /* first on a RAM channel: session, index */
	LIVE_MSG_CHANNEL_END = 9,   /* a RAM channel has sent all it will */
	LIVE_MSG_CHANNELS_DONE = 10, /* main: every channel ended; join them */
	LIVE_MSG_ACCEPT = 0x81,
	LIVE_MSG_REFUSE = 0x82,
	LIVE_MSG_SWITCHOVER_ACK = 0x83,
	LIVE_MSG_DONE = 0x84,
	LIVE_MSG_ERROR = 0x85,
};

/* Pages per RAM message: 1 MiB of data, a good unit for a socket. */
#define LIVE_RAM_MSG_PAGES 256u
/* RAM / ZERO payload header: be64 gpa, be64 npages. */
#define LIVE_RAM_HDR 16u
/* DEVICE payload header: be32 handler index, be32 reserved. */
#define LIVE_DEV_HDR 8u
/* Largest DEVICE chunk a sender emits / a receiver accepts. */
#define LIVE_DEV_CHUNK_MAX (16u << 20)
/* HELLO: a configuration of a few KiB plus CPUID and handler ids. */
#define LIVE_HELLO_MAX (2u << 20)
/* Text of REFUSE / ERROR / ABORT. */
#define LIVE_TEXT_MAX 512u
/* CHANNEL payload: be64 session, be32 channel index (1..), be32 0. */
#define LIVE_CHANNEL_LEN 16u
/* RAM connections at most (the main one included). */
#define LIVE_MAX_CHANNELS 8u
/*
 * First-pass pages are dealt to channels in shards of this many pages
 * by memfd page number: a multiple of 64, so no two channels ever touch
 * the same word of a page bitmap (either side), and each page always
 * travels on the same connection.
 */
#define LIVE_SHARD_PAGES 512u
/* Preamble flag of a RAM channel connection. */
#define LIVE_PREAMBLE_F_CHANNEL 1u

/* Name of a message type for errors ("RAM", "DONE", ...). */
const char *live_wire__type_name(uint32_t type);

/* Largest payload a receiver accepts for @type; 0 for unknown types. */
uint64_t live_wire__max_len(uint32_t type);

/* A parsed address. */
struct live_addr {
	int family; /* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[128]; /* as given, for messages */
};

/*
 * Parse "tcp:HOST:PORT" (IPv4 literal, [IPv6] literal or "localhost")
 * or "unix:PATH". No name resolution. Returns 0 or -EINVAL with a
 * reason in @err.
 */
int live_addr__parse(const char *url, struct live_addr *out, char *err,
		     size_t errlen);

/*
 * Connect to @a (blocking, with TCP_NODELAY off and large buffers).
 * Returns the socket fd or -errno.
 */
int live_addr__connect(const struct live_addr *a);

/*
 * Listen on @a (SO_REUSEADDR; a unix path must not exist). Returns the
 * listening fd or -errno.
 */
int live_addr__listen(const struct live_addr *a);

/*
 * Timeouts on a connected socket for blocking send/recv, so a peer that
 * stops reading or writing is noticed. Returns 0 or -errno.
 */
int live_wire__set_timeouts(int fd, unsigned int send_ms, unsigned int recv_ms);

/* Write all of @len bytes (MSG_NOSIGNAL). 0 or -errno (-EPIPE on a reset). */
int live_wire__send_all(int fd, const void *buf, size_t len);

/* Read exactly @len bytes. 0, -ECONNRESET on EOF, or -errno. */
int live_wire__recv_all(int fd, void *buf, size_t len);

/*
 * A pipe for moving socket data straight into a file's page cache with
 * splice(2), without mapping the pages in this process: on hosts where
 * page-table updates are costly (nested or software KVM) mapping fresh
 * guest pages costs more than copying them. Owned by its user;
 * live_splice__exit is NULL-safe and idempotent.
 */
struct live_splice {
	int pipe[2];        /* -1 when not set up */
	size_t cap;         /* pipe capacity in bytes */
	bool no_vmsplice;   /* vmsplice refused once: send copies instead */
};

/*
 * Set up the pipe (as large as allowed, up to 1 MiB), and block SIGPIPE
 * on the calling thread, the one that will splice. 0 or -errno.
 */
int live_splice__init(struct live_splice *sp);
void live_splice__exit(struct live_splice *sp);

/*
 * Read exactly @len bytes from socket @fd into file @file at @off.
 * 0, -ECONNRESET on EOF, -ETIMEDOUT when the socket's receive timeout
 * expires, -EINVAL when this kernel cannot splice these files (nothing
 * was read then, so the caller may fall back to recv), or -errno.
 */
int live_splice__recv_to_file(struct live_splice *sp, int fd, int file,
			      uint64_t off, size_t len);

/*
 * Send one message whose CRC covers @head only (RAM pages may change
 * while they are sent: live-wire's RAM rule), then @len bytes at @data
 * spliced from memory without copying them here (vmsplice + splice).
 * The pages stay referenced until the peer has read them, so what it
 * reads is at least as new as the bytes at the call; live migration
 * resends pages written after the dirty-log clear anyway. Falls back to
 * an ordinary send where splicing is refused; @sp may be NULL for that.
 * Returns 0 or -errno (-ETIMEDOUT when the peer stops reading).
 */
int live_wire__send_spliced(int fd, struct live_splice *sp, uint32_t type,
			    const struct iovec *head, unsigned int nhead,
			    const void *data, size_t len);

/* Send the preamble / check a received one (-EPROTO with @err). */
int live_wire__send_preamble(int fd);
int live_wire__recv_preamble(int fd, char *err, size_t errlen);
/* The same with @flags (LIVE_PREAMBLE_F_CHANNEL or 0). */
int live_wire__send_preamble_flags(int fd, uint32_t flags);
/* Accepts exactly @flags. */
int live_wire__recv_preamble_flags(int fd, uint32_t flags, char *err,
				   size_t errlen);

/*
 * Send one message: header then @nparts buffers as its payload (the
 * CRC covers them all). Returns 0 or -errno.
 */
int live_wire__send(int fd, uint32_t type, const struct iovec *parts,
		    unsigned int nparts);

/* Same, with the CRC over the first @ncrc parts only (RAM messages). */
int live_wire__send_partial_crc(int fd, uint32_t type,
				const struct iovec *parts, unsigned int nparts,
				unsigned int ncrc);

/* A message with a short text payload (REFUSE, ERROR, ABORT). */
int live_wire__send_text(int fd, uint32_t type, const char *text);

/* A received header. */
struct live_msg {
	uint32_t type;
	uint32_t crc;
	uint64_t len;
};

/*
 * Read a header and check the type is known and the length within its
 * bound. Returns 0, or -EPROTO / -errno with @err.
 */
int live_wire__recv_hdr(int fd, struct live_msg *m, char *err, size_t errlen);

/*
 * Read the payload of @m into @buf (room for m->len) and check its CRC.
 * Returns 0, or -EPROTO / -errno with @err.
 */
int live_wire__recv_payload(int fd, const struct live_msg *m, void *buf,
			    char *err, size_t errlen);

/* Copy a text payload into @out (NUL-terminated, non-printables as '?'). */
void live_wire__text(const void *buf, uint64_t len, char *out, size_t outlen);

#endif /* MIGRATION_LIVE_WIRE_H */
