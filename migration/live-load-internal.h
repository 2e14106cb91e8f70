/*
 * live-load-internal.h: what the parts of the live-migration destination
 * share: live-load.c (handshake, the main stream, apply) and
 * live-load-ram.c (RAM into guest memory on the main connection and on
 * RAM channels, and the channels' threads). Not for use outside
 * migration/.
 */
#ifndef MIGRATION_LIVE_LOAD_INTERNAL_H
#define MIGRATION_LIVE_LOAD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/live.h"
#include "migration/registry.h"
#include "vmm/util.h"

/* The source may pause between messages (bandwidth limit, idle waits). */
#define LOAD_RECV_TIMEOUT_MS 60000u
#define LOAD_SEND_TIMEOUT_MS 30000u
/* How long the source has to open its RAM channels after ACCEPT. */
#define LOAD_CHANNEL_ACCEPT_MS 10000u

struct load;

/* One connection RAM arrives on: the main one (rx0) or a RAM channel. */
struct live_rx {
	struct load *l;
	int fd;                  /* main: borrowed; channel: owned */
	unsigned int index;      /* 0: main; 1..: channel */
	struct live_splice sp;   /* RAM payloads into the memfd */
	bool use_splice;
	/* A channel's own result and first error (the main one's go to l). */
	int ret;
	char err[192];           /* "RAM channel N: " + a 160-byte reason */
	pthread_t thread;
	bool running;
};

struct load {
	int fd;
	struct migration *mig;
	struct guest_mem *mem;
	size_t nr;                          /* handlers */
	int map[MIG_MAX_HANDLERS];          /* source index -> ours, -1 */
	size_t nr_setup;
	unsigned int ack_pending;
	bool ack_sent;
	/*
	 * Pages that hold data. A channel thread touches only the words of
	 * its own shards (LIVE_SHARD_PAGES), the main one the rest, and all
	 * of it once the channels are joined.
	 */
	struct mig_dirty_bitmap written;
	struct live_rx rx0;
	struct live_rx chans[LIVE_MAX_CHANNELS - 1];
	uint32_t channels;                  /* from the handshake (1..) */
	uint64_t session;                   /* from the handshake */
	bool chans_joined;
	const struct live_load_env *env;    /* for the channel threads */
	uint8_t *buf;                       /* DEVICE payloads */
	void *state;                        /* STATE blob */
	size_t state_size;
	char *err;
	size_t errlen;
	bool failed;
	uint64_t check_us;                  /* time spent checking STATE */
};

/* CLOCK_MONOTONIC in microseconds. */
uint64_t live_load__now_us(void);

/* Record the first failure (printf-style) into l->err; returns @ret. */
int live_load__fail(struct load *l, int ret, const char *fmt, ...)
	__printf(3, 4);

/* Set up / tear down a receiver's splice pipe (best effort). */
void live_rx__init(struct live_rx *rx, struct load *l, int fd,
		   unsigned int index);
void live_rx__exit(struct live_rx *rx);

/*
 * A RAM or ZERO message @m whose header was read from rx->fd: check the
 * page range (inside guest RAM, page aligned, consistent with the
 * length, header CRC) and read the pages into guest memory. Errors go
 * to l (main) or rx->err (channel). Returns 0 or -errno.
 */
int live_load__recv_ram(struct load *l, struct live_rx *rx,
			const struct live_msg *m);

/*
 * After ACCEPT: take the l->channels - 1 RAM channels from
 * env->accept (each must open with the channel preamble and a CHANNEL
 * message naming this session and a new index), and start a thread per
 * channel that confines itself (env->confine) and reads RAM until
 * CHANNEL_END. Returns 0 or -errno (recorded).
 */
int live_load__channels_start(struct load *l, const struct live_load_env *env);

/*
 * CHANNELS_DONE: wait for every channel thread; a channel's failure
 * becomes the load's. Returns 0 or -errno (recorded). Idempotent.
 */
int live_load__channels_join(struct load *l);

/* Stop (shut the sockets down), join and close every channel. */
void live_load__channels_stop(struct load *l);

#endif /* MIGRATION_LIVE_LOAD_INTERNAL_H */
