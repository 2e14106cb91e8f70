/*
 * live-save-internal.h: what the parts of the live-migration source
 * share: live-save.c (object, status, handshake, setup, the run and its
 * failure handling), live-save-copy.c (the precopy loop and the
 * stop-copy) and live-save-ram.c (sending RAM pages and device data,
 * bandwidth accounting). Not for use outside migration/.
 */
#ifndef MIGRATION_LIVE_SAVE_INTERNAL_H
#define MIGRATION_LIVE_SAVE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/handler.h"
#include "migration/live.h"
#include "migration/registry.h"

/* Device data is gathered into messages of up to this size. */
#define LIVE_DEV_BUF (1u << 20)

struct live_save;

/*
 * One sender of RAM: the main connection (ls->tx0) or a RAM channel
 * (ls->chans[], first pass only). A channel's thread touches only its
 * own struct and the pages of its shards (see LIVE_SHARD_PAGES).
 */
struct live_tx {
	struct live_save *ls;
	int fd;                  /* main: borrowed (ls->fd); channel: owned */
	struct live_splice sp;   /* RAM pages to the socket without a copy */
	bool use_splice;
	uint64_t ext_start, ext_end; /* first pass: memfd data extent, pages */
	unsigned int index, nr;  /* shards s with s % nr == index; nr <= 1: all */
	/* A channel's own first error (the main one records into ls). */
	int err_ret;
	char err[160];
	pthread_t thread;
	bool running;            /* thread started and not joined */
};

/* A handler's data stream, framed into DEVICE messages. */
struct live_dev_sink {
	struct mig_sink sink;
	struct live_save *ls;
	uint32_t index;   /* the handler's index in the handshake */
	uint8_t *buf;     /* owned, LIVE_DEV_BUF */
	size_t len;
};

struct live_save {
	struct live_save_env env;
	struct live_params p;
	struct guest_mem *mem;
	int fd;                    /* borrowed during run; protected by lock */
	atomic_bool cancel;
	pthread_mutex_t lock;      /* protects st and fd */
	struct live_status st;

	/* Only the running thread (or the VMM thread under run_paused). */
	struct mig_dirty_bitmap dirty;
	size_t nr_handlers;
	struct live_dev_sink sinks[MIG_MAX_HANDLERS];
	bool setup_done[MIG_MAX_HANDLERS];
	size_t nr_sources_started;
	uint64_t start_ns;         /* run start */
	uint64_t sent;             /* wire bytes (st.bytes_sent lags) */
	uint64_t pages, zeros, dev_bytes;
	bool acked;
	bool first_pass;           /* iteration 0: the destination is all zero */
	struct live_tx tx0;        /* RAM on the main connection */
	struct live_tx chans[LIVE_MAX_CHANNELS - 1]; /* RAM channels 1.. */
	unsigned int nr_chans;     /* connected channels */
	atomic_bool chan_failed;   /* a channel thread gave up */
	uint64_t session;          /* ties channels to this migration */
	char err[256];
	int err_ret;
};

/* CLOCK_MONOTONIC in ns / ms. */
uint64_t live__now_ns(void);

/* Record the first error (printf-style); returns @ret. */
int live_save__error(struct live_save *ls, int ret, const char *fmt, ...)
	__printf(3, 4);

/*
 * Send every page marked in ls->dirty, clearing the bits: data pages as
 * RAM messages straight from guest memory, zero pages as ZERO messages
 * (skipped in the first pass, and holes of the memfd are not even read
 * then). Polls the return path and the cancel flag between messages
 * when @poll_peer. Returns 0 or -errno (recorded).
 */
int live_save__send_dirty(struct live_save *ls, bool poll_peer);

/*
 * The same for sender @tx over its shards only (all pages when
 * tx->nr <= 1). The main sender (ls->tx0) records errors into ls; a
 * channel into tx->err. Returns 0 or -errno.
 */
int live_save__send_dirty_tx(struct live_tx *tx, bool poll_peer);

/* Set up / tear down a sender's splice pipe (best effort). */
void live_tx__init(struct live_tx *tx, struct live_save *ls, int fd);
void live_tx__exit(struct live_tx *tx);

/* --- live-save-chan.c: RAM channels --- */

/*
 * After ACCEPT: open the extra connections ls->p.channels asks for
 * (env.connect) and introduce each (preamble with the channel flag,
 * CHANNEL with the session and its index). Returns 0 or -errno
 * (recorded).
 */
int live_save__channels_open(struct live_save *ls);

/*
 * Iteration 0 over all connections: every channel thread sends its
 * shards, the main thread its own (polling the return path), then each
 * channel sends CHANNEL_END and closes, and the main connection carries
 * CHANNELS_DONE. With no channels: live_save__send_dirty. Returns 0 or
 * -errno (recorded).
 */
int live_save__first_pass(struct live_save *ls);

/* Stop and close every channel (after a failure; idempotent). */
void live_save__channels_close(struct live_save *ls);

/*
 * Read return-path messages that have arrived, without blocking:
 * SWITCHOVER_ACK sets ls->acked; ERROR fails. Also the cancel check.
 * Returns 0 or -errno (recorded).
 */
int live_save__poll_peer(struct live_save *ls);

/*
 * As live_save__poll_peer, after waiting up to @ms for the destination
 * to say something (returns at once when it does: the switchover ack).
 */
int live_save__wait_peer(struct live_save *ls, unsigned int ms);

/* Wire accounting and the bandwidth limit (sleeps when ahead). */
void live_save__account(struct live_save *ls, uint64_t bytes);

/* Set up the per-handler sinks / free their buffers. */
int live_save__sinks_init(struct live_save *ls);
void live_save__sinks_exit(struct live_save *ls);

/* Send what sink @s has gathered as one DEVICE message. */
int live_save__sink_flush(struct live_dev_sink *s);

/* --- live-save.c --- */

/*
 * Publish the running counters and @phase to the status (under
 * ls->lock), then pass a copy to the env's progress hook, if any.
 */
void live_save__publish(struct live_save *ls, enum live_phase phase);

/*
 * OR every started dirty source's dirty pages into ls->dirty (which
 * resets the sources). Returns 0 or -errno (recorded, with the source).
 */
int live_save__sync_sources(struct live_save *ls);

/* --- live-save-copy.c --- */

/*
 * The precopy loop on the running thread: each iteration syncs the
 * dirty sources (not the first: everything is marked then), publishes
 * its figures, and switches over once acknowledged and the expected
 * downtime fits the limit (confirmed with exact device figures);
 * otherwise it sends the dirty RAM and a round of device data. At the
 * iteration or time limit it fails with -ETIMEDOUT, or returns 0 with a
 * status message when switchover_on_timeout is set. Returns 0 (switch
 * over now) or -errno (recorded).
 */
int live_save__precopy(struct live_save *ls);

/*
 * The stop-copy, a run_paused callback (@arg is the struct live_save;
 * the VM is paused, possibly on another thread): the last dirty RAM,
 * each handler's save_complete data, then all device state as one
 * STATE message and END. Returns 0 or -errno (recorded).
 */
int live_save__stop_copy(void *arg);

#endif /* MIGRATION_LIVE_SAVE_INTERNAL_H */
