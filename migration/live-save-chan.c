/*
 * live-save-chan.c: RAM channels on the live-migration source. The first
 * RAM pass is most of a migration's bytes, and one connection leaves it
 * to one sending and one receiving thread; with ls->p.channels = N the
 * source opens N - 1 more connections after ACCEPT and deals the first
 * pass out by shard of LIVE_SHARD_PAGES pages (shard s goes on
 * connection s % N), one thread per extra connection. A page thus
 * always travels on one connection, in order, and the destination joins
 * all channels (CHANNEL_END on each, then CHANNELS_DONE on the main
 * connection) before it reads anything later on the main connection, so
 * a page resent by a later iteration can never be overtaken by its
 * first-pass copy. Later iterations and the stop-copy use the main
 * connection only.
 */
#include "migration/live-save-internal.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migration/live-wire.h"
#include "vmm/log.h"

/* Socket timeouts of a channel: as the main connection's sends. */
#define CHAN_SEND_TIMEOUT_MS 30000u

static int open_one(struct live_save *ls, unsigned int index)
{
	struct live_tx *tx = &ls->chans[index - 1];
	uint32_t body[4] = { 0, 0, htobe32(index), 0 };
	uint64_t session = htobe64(ls->session);
	struct iovec iov = { body, sizeof(body) };
	int fd, ret;

	memcpy(body, &session, sizeof(session));
	fd = ls->env.connect(ls->env.opaque);
	if (fd < 0)
		return live_save__error(ls, fd, "RAM channel %u: cannot connect: %s",
					index, strerror(-fd));
	ret = live_wire__set_timeouts(fd, CHAN_SEND_TIMEOUT_MS,
				      CHAN_SEND_TIMEOUT_MS);
	if (!ret)
		ret = live_wire__send_preamble_flags(fd, LIVE_PREAMBLE_F_CHANNEL);
	if (!ret)
		ret = live_wire__send(fd, LIVE_MSG_CHANNEL, &iov, 1);
	if (ret) {
		close(fd);
		return live_save__error(ls, ret, "RAM channel %u: %s", index,
					strerror(-ret));
	}
	live_tx__init(tx, ls, fd);
	tx->index = index;
	tx->nr = ls->p.channels;
	/* Visible to live_save__cancel, which shuts the socket down. */
	pthread_mutex_lock(&ls->lock);
	ls->nr_chans = index;
	pthread_mutex_unlock(&ls->lock);
	return 0;
}

int live_save__channels_open(struct live_save *ls)
{
	unsigned int i;
	int ret;

	for (i = 1; i < ls->p.channels; i++) {
		ret = open_one(ls, i);
		if (ret)
			return ret;
	}
	if (ls->p.channels > 1)
		log_debug("migration: %u RAM channels open", ls->p.channels);
	return 0;
}

static void *chan_main(void *arg)
{
	struct live_tx *tx = arg;

	live_save__send_dirty_tx(tx, false);
	return NULL;
}

/* Wait for every channel thread; shut the sockets first on failure. */
static void join_all(struct live_save *ls, bool failed)
{
	unsigned int i;

	for (i = 0; i < ls->nr_chans; i++) {
		struct live_tx *tx = &ls->chans[i];

		if (failed && tx->fd >= 0)
			shutdown(tx->fd, SHUT_RDWR);
	}
	for (i = 0; i < ls->nr_chans; i++) {
		struct live_tx *tx = &ls->chans[i];

		if (tx->running) {
			pthread_join(tx->thread, NULL);
			tx->running = false;
		}
	}
}

int live_save__first_pass(struct live_save *ls)
{
	unsigned int i;
	int ret = 0, cret;

	if (!ls->nr_chans)
		return live_save__send_dirty(ls, true);
	for (i = 0; i < ls->nr_chans; i++) {
		struct live_tx *tx = &ls->chans[i];

		cret = -pthread_create(&tx->thread, NULL, chan_main, tx);
		if (cret) {
			ret = live_save__error(ls, cret, "RAM channel %u: cannot start: %s",
					       tx->index, strerror(-cret));
			break;
		}
		tx->running = true;
	}
	ls->tx0.index = 0;
	ls->tx0.nr = ls->p.channels;
	if (!ret)
		ret = live_save__send_dirty_tx(&ls->tx0, true);
	ls->tx0.nr = 1;
	join_all(ls, ret != 0 || atomic_load(&ls->chan_failed));
	/*
	 * Unless the main side recorded a cause of its own (the destination's
	 * error, a cancel), a channel's error is the cause: the main side
	 * stopped because of it, or finished while it failed.
	 */
	for (i = 0; !ls->err_ret && i < ls->nr_chans; i++) {
		struct live_tx *tx = &ls->chans[i];

		if (tx->err_ret)
			return live_save__error(ls, tx->err_ret, "%s", tx->err);
	}
	if (ret)
		return ls->err_ret ? ls->err_ret : ret;
	for (i = 0; i < ls->nr_chans; i++) {
		struct live_tx *tx = &ls->chans[i];

		ret = live_wire__send(tx->fd, LIVE_MSG_CHANNEL_END, NULL, 0);
		if (ret)
			return live_save__error(ls, ret, "RAM channel %u: ending: %s",
						tx->index, strerror(-ret));
		live_save__account(ls, LIVE_HDR_SIZE);
	}
	ret = live_wire__send(ls->fd, LIVE_MSG_CHANNELS_DONE, NULL, 0);
	if (ret)
		return live_save__error(ls, ret, "sending CHANNELS_DONE: %s",
					strerror(-ret));
	live_save__account(ls, LIVE_HDR_SIZE);
	/* The destination reads each channel to its end; done with them. */
	live_save__channels_close(ls);
	return 0;
}

void live_save__channels_close(struct live_save *ls)
{
	unsigned int i, n;

	pthread_mutex_lock(&ls->lock);
	n = ls->nr_chans;
	pthread_mutex_unlock(&ls->lock);
	for (i = 0; i < n; i++) {
		struct live_tx *tx = &ls->chans[i];

		if (tx->running) {
			shutdown(tx->fd, SHUT_RDWR);
			pthread_join(tx->thread, NULL);
			tx->running = false;
		}
		live_tx__exit(tx);
	}
	pthread_mutex_lock(&ls->lock);
	for (i = 0; i < n; i++) {
		if (ls->chans[i].fd >= 0)
			close(ls->chans[i].fd);
		ls->chans[i].fd = -1;
	}
	ls->nr_chans = 0;
	pthread_mutex_unlock(&ls->lock);
}
