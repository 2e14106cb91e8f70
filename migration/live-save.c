/*
 * live-save.c: the live-migration source: the object and its status,
 * the handshake, dirty tracking and device setup, and live_save__run,
 * which goes through the phases (the precopy loop and the stop-copy are
 * live-save-copy.c) to one of the two endings: DONE from the
 * destination, or any failure/cancel, after which every device is
 * cleaned up and the VM resumed. Sending is live-save-ram.c.
 */
#include "migration/live-save-internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "migration/live-wire.h"
#include "migration/state-fdt.h"
#include "vmm/log.h"
#include "vmm/mem.h"

/* Socket timeouts: a peer silent this long is gone. */
#define LIVE_SEND_TIMEOUT_MS 30000u
/* The destination builds its VM (devices connect) and, at the end, loads all state. */
#define LIVE_REPLY_TIMEOUT_MS 60000u

const char *live__phase_name(enum live_phase p)
{
	switch (p) {
	case LIVE_PHASE_NONE: return "none";
	case LIVE_PHASE_SETUP: return "setup";
	case LIVE_PHASE_PRECOPY: return "precopy";
	case LIVE_PHASE_SWITCHOVER: return "switchover";
	case LIVE_PHASE_COMPLETED: return "completed";
	case LIVE_PHASE_FAILED: return "failed";
	case LIVE_PHASE_CANCELLED: return "cancelled";
	}
	return "unknown";
}

int live_save__create(const struct live_save_env *env,
		      const struct live_params *params, struct live_save **out)
{
	struct live_save *ls;

	if (!env->mig || !migration__memory(env->mig) || !env->run_paused ||
	    !env->resume)
		return -EINVAL;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->env = *env;
	ls->p = params ? *params : (struct live_params){ 0 };
	/* Without switchover-ack the source behaves as if acknowledged. */
	ls->acked = ls->p.no_switchover_ack;
	if (!ls->p.downtime_limit_ms)
		ls->p.downtime_limit_ms = LIVE_DEFAULT_DOWNTIME_MS;
	if (!ls->p.max_iterations)
		ls->p.max_iterations = LIVE_DEFAULT_MAX_ITERATIONS;
	if (!ls->p.timeout_ms)
		ls->p.timeout_ms = LIVE_DEFAULT_TIMEOUT_MS;
	ls->mem = migration__memory(env->mig);
	ls->fd = -1;
	ls->tx0.sp.pipe[0] = ls->tx0.sp.pipe[1] = -1;
	for (unsigned int i = 0; i < ARRAY_SIZE(ls->chans); i++) {
		ls->chans[i].fd = -1;
		ls->chans[i].sp.pipe[0] = ls->chans[i].sp.pipe[1] = -1;
	}
	if (!ls->p.channels)
		ls->p.channels = LIVE_DEFAULT_CHANNELS;
	if (ls->p.max_bandwidth || !env->connect)
		ls->p.channels = 1;
	if (ls->p.channels > LIVE_MAX_CHANNELS)
		ls->p.channels = LIVE_MAX_CHANNELS;
	pthread_mutex_init(&ls->lock, NULL);
	ls->st.phase = LIVE_PHASE_SETUP;
	*out = ls;
	return 0;
}

void live_save__destroy(struct live_save *ls)
{
	if (!ls)
		return;
	mig_dirty__exit(&ls->dirty);
	live_save__sinks_exit(ls);
	live_save__channels_close(ls);
	live_tx__exit(&ls->tx0);
	pthread_mutex_destroy(&ls->lock);
	free(ls);
}

void live_save__cancel(struct live_save *ls)
{
	atomic_store(&ls->cancel, true);
	pthread_mutex_lock(&ls->lock);
	/* Unblock a send or receive in progress; not after the switchover. */
	if (ls->fd >= 0 && ls->st.phase != LIVE_PHASE_SWITCHOVER &&
	    ls->st.phase != LIVE_PHASE_COMPLETED) {
		shutdown(ls->fd, SHUT_RDWR);
		for (unsigned int i = 0; i < ls->nr_chans; i++)
			if (ls->chans[i].fd >= 0)
				shutdown(ls->chans[i].fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&ls->lock);
}

void live_save__status(struct live_save *ls, struct live_status *out)
{
	pthread_mutex_lock(&ls->lock);
	*out = ls->st;
	if (ls->start_ns && ls->st.phase != LIVE_PHASE_COMPLETED &&
	    ls->st.phase != LIVE_PHASE_FAILED &&
	    ls->st.phase != LIVE_PHASE_CANCELLED)
		out->total_ms = (live__now_ns() - ls->start_ns) / 1000000;
	pthread_mutex_unlock(&ls->lock);
}

void live_save__fail(struct live_save *ls, int ret, const char *msg)
{
	pthread_mutex_lock(&ls->lock);
	ls->st.phase = ret == -ECANCELED ? LIVE_PHASE_CANCELLED : LIVE_PHASE_FAILED;
	snprintf(ls->st.message, sizeof(ls->st.message), "%s", msg);
	pthread_mutex_unlock(&ls->lock);
}

/* Publish the running counters (and @phase) to the status. */
void live_save__publish(struct live_save *ls, enum live_phase phase)
{
	struct live_status copy;

	pthread_mutex_lock(&ls->lock);
	ls->st.phase = phase;
	ls->st.bytes_sent = ls->sent;
	ls->st.pages_sent = ls->pages;
	ls->st.zero_pages = ls->zeros;
	ls->st.device_bytes_sent = ls->dev_bytes;
	ls->st.switchover_acked = ls->acked;
	ls->st.total_ms = (live__now_ns() - ls->start_ns) / 1000000;
	copy = ls->st;
	pthread_mutex_unlock(&ls->lock);
	if (ls->env.progress)
		ls->env.progress(ls->env.opaque, &copy);
}

/* ---- handshake ---- */

static int send_hello(struct live_save *ls)
{
	struct state_writer *w;
	const void *blob;
	size_t size, i;
	struct iovec iov;
	int ret;

	if (state_writer__create(&w))
		return live_save__error(ls, -ENOMEM, "out of memory");
	state__put_string(w, "format", "ferry-live");
	state__put_u32(w, "version", LIVE_VERSION);
	state__put_string(w, "arch", "x86_64");
	/* RAM connections (the main one included) and their session. */
	state__put_u32(w, "channels", ls->p.channels);
	state__put_u64(w, "session", ls->session);
	state__begin(w, "memory");
	state__put_u64(w, "size", ls->mem->size);
	state__end(w);
	state__begin(w, "handlers");
	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		state__begin(w, h->id);
		state__put_u32(w, "index", (uint32_t)i);
		state__put_u32(w, "version", h->ops->version);
		state__put_u8(w, "data", ls->sinks[i].buf != NULL);
		state__put_u64(w, "compat",
			       h->ops->compat ? h->ops->compat(h->opaque) : 0);
		state__end(w);
	}
	state__end(w);
	state__begin(w, "vm");
	ret = ls->env.hello ? ls->env.hello(ls->env.opaque, w) : 0;
	state__end(w);
	if (!ret)
		ret = state_writer__finish(w, &blob, &size);
	if (ret) {
		live_save__error(ls, ret, "handshake: %s",
				 state_writer__status(w) ? state_writer__error(w) :
							   strerror(-ret));
		state_writer__destroy(w);
		return ret;
	}
	iov.iov_base = (void *)(uintptr_t)blob;
	iov.iov_len = size;
	ret = live_wire__send_preamble(ls->fd);
	if (!ret)
		ret = live_wire__send(ls->fd, LIVE_MSG_HELLO, &iov, 1);
	state_writer__destroy(w);
	if (ret)
		return live_save__error(ls, ret, "sending the handshake: %s",
					strerror(-ret));
	live_save__account(ls, LIVE_PREAMBLE_SIZE + LIVE_HDR_SIZE + size);
	return 0;
}

/*
 * Wait (blocking, with the socket's receive timeout) for one reply of
 * type @want; ERROR/REFUSE become the failure with their text.
 */
static int wait_reply(struct live_save *ls, uint32_t want, const char *what)
{
	char msg[LIVE_TEXT_MAX + 1], text[LIVE_TEXT_MAX + 1];
	struct live_msg m;
	int ret;

	for (;;) {
		ret = live_wire__recv_hdr(ls->fd, &m, msg, sizeof(msg));
		if (!ret)
			ret = live_wire__recv_payload(ls->fd, &m, text, msg,
						      sizeof(msg));
		if (ret)
			return live_save__error(ls, ret, "waiting for %s: %s", what,
						atomic_load(&ls->cancel) ? "cancelled" :
									   msg);
		if (m.type == want)
			return 0;
		if (m.type == LIVE_MSG_SWITCHOVER_ACK) {
			ls->acked = true;
			continue;
		}
		live_wire__text(text, m.len, msg, sizeof(msg));
		if (m.type == LIVE_MSG_REFUSE)
			return live_save__error(ls, -EREMOTEIO,
						"the destination refused: %s", msg);
		if (m.type == LIVE_MSG_ERROR)
			return live_save__error(ls, -EREMOTEIO,
						"destination failed: %s", msg);
		return live_save__error(ls, -EPROTO,
					"destination sent %s while we waited for %s",
					live_wire__type_name(m.type), what);
	}
}

/* ---- setup and cleanup ---- */

static int start_sources(struct live_save *ls)
{
	size_t i, n = migration__dirty_count(ls->env.mig);
	int ret;

	for (i = 0; i < n; i++) {
		const struct mig_dirty_source *d =
			migration__dirty_source(ls->env.mig, i);

		ret = d->ops->start(d->opaque);
		if (ret)
			return live_save__error(ls, ret, "%s: cannot start dirty tracking: %s",
						d->id, strerror(-ret));
		ls->nr_sources_started = i + 1;
	}
	return 0;
}

int live_save__sync_sources(struct live_save *ls)
{
	size_t i;
	int ret;

	for (i = 0; i < ls->nr_sources_started; i++) {
		const struct mig_dirty_source *d =
			migration__dirty_source(ls->env.mig, i);

		ret = d->ops->sync(d->opaque, &ls->dirty);
		if (ret)
			return live_save__error(ls, ret, "%s: reading dirty pages failed: %s",
						d->id, strerror(-ret));
	}
	return 0;
}

static void stop_sources(struct live_save *ls)
{
	while (ls->nr_sources_started) {
		const struct mig_dirty_source *d = migration__dirty_source(
			ls->env.mig, --ls->nr_sources_started);

		d->ops->stop(d->opaque);
	}
}

static int setup_handlers(struct live_save *ls)
{
	size_t i;
	int ret;

	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		if (!h->ops->save_setup)
			continue;
		ls->setup_done[i] = true;
		ret = h->ops->save_setup(h->opaque, &ls->sinks[i].sink);
		if (!ret)
			ret = live_save__sink_flush(&ls->sinks[i]);
		if (ret)
			return live_save__error(ls, ret, "%s: save setup failed: %s",
						h->id, strerror(-ret));
	}
	return 0;
}

static void cleanup_handlers(struct live_save *ls)
{
	size_t i;

	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		if (ls->setup_done[i] && h->ops->save_cleanup)
			h->ops->save_cleanup(h->opaque);
		ls->setup_done[i] = false;
	}
}

/* How long a failed source waits for the destination's ERROR. */
#define PEER_REASON_WAIT_MS 200

/*
 * A send failed because the destination closed the connection: it may
 * have said why first (ERROR), which is a better reason than EPIPE.
 */
static int peer_reason(struct live_save *ls, int ret)
{
	char msg[LIVE_TEXT_MAX + 1], text[LIVE_TEXT_MAX + 1];
	struct live_msg m;

	if (ret != -EPIPE && ret != -ECONNRESET)
		return ret;
	/*
	 * Only if it has said something: a RAM channel's broken pipe leaves
	 * the main connection healthy and silent.
	 */
	if (poll(&(struct pollfd){ .fd = ls->fd, .events = POLLIN }, 1,
		 PEER_REASON_WAIT_MS) != 1)
		return ret;
	if (live_wire__recv_hdr(ls->fd, &m, msg, sizeof(msg)) ||
	    m.type != LIVE_MSG_ERROR ||
	    live_wire__recv_payload(ls->fd, &m, text, msg, sizeof(msg)))
		return ret;
	live_wire__text(text, m.len, msg, sizeof(msg));
	snprintf(ls->err, sizeof(ls->err), "destination failed: %.200s", msg);
	ls->err_ret = -EREMOTEIO;
	return -EREMOTEIO;
}

int live_save__run(struct live_save *ls, int fd)
{
	bool paused = false;
	uint64_t t_pause = 0;
	int ret;

	ls->start_ns = live__now_ns();
	pthread_mutex_lock(&ls->lock);
	ls->fd = fd;
	pthread_mutex_unlock(&ls->lock);
	ls->nr_handlers = migration__count(ls->env.mig);
	ls->first_pass = true;
	live_save__publish(ls, LIVE_PHASE_SETUP);
	ret = live_wire__set_timeouts(fd, LIVE_SEND_TIMEOUT_MS, LIVE_REPLY_TIMEOUT_MS);
	if (ret)
		live_save__error(ls, ret, "socket: %s", strerror(-ret));
	if (!ret && (ret = mig_dirty__init(&ls->dirty, ls->mem)))
		live_save__error(ls, ret, "out of memory");
	if (!ret && (ret = live_save__sinks_init(ls)))
		live_save__error(ls, ret, "out of memory");
	/*
	 * A fresh pipe per run: a failed run may have left bytes in the old.
	 * The session number ties RAM channels to this run.
	 */
	if (!ret) {
		live_tx__init(&ls->tx0, ls, fd);
		if (getrandom(&ls->session, sizeof(ls->session), 0) !=
		    sizeof(ls->session))
			ls->session = live__now_ns();
		ls->nr_chans = 0;
		atomic_store(&ls->chan_failed, false);
	}
	if (!ret)
		ret = send_hello(ls);
	if (!ret)
		ret = wait_reply(ls, LIVE_MSG_ACCEPT, "the destination's answer");
	if (!ret)
		ret = live_save__channels_open(ls);
	if (!ret)
		ret = start_sources(ls);
	if (!ret)
		ret = setup_handlers(ls);
	if (!ret) {
		/* Iteration 0 sends everything; the sync resets the sources. */
		ret = live_save__sync_sources(ls);
		mig_dirty__set_all(&ls->dirty);
		pthread_mutex_lock(&ls->lock);
		ls->st.setup_ms = (live__now_ns() - ls->start_ns) / 1000000;
		pthread_mutex_unlock(&ls->lock);
	}
	log_debug("migration: setup took %llu us",
		  (unsigned long long)(live__now_ns() - ls->start_ns) / 1000);
	if (!ret)
		ret = live_save__precopy(ls);
	if (!ret) {
		live_save__publish(ls, LIVE_PHASE_SWITCHOVER);
		t_pause = live__now_ns();
		ret = ls->env.run_paused(ls->env.opaque, live_save__stop_copy, ls,
					  &paused);
		log_debug("migration: stop-copy sent after %llu us (%llu bytes in total)",
			  (unsigned long long)(live__now_ns() - t_pause) / 1000,
			  (unsigned long long)ls->sent);
		if (ret)
			live_save__error(ls, ret, "switchover failed: %s",
					 strerror(-ret));
	}
	if (!ret)
		ret = wait_reply(ls, LIVE_MSG_DONE, "the destination to confirm");
	if (!ret) {
		pthread_mutex_lock(&ls->lock);
		ls->st.downtime_ms = (live__now_ns() - t_pause) / 1000000;
		pthread_mutex_unlock(&ls->lock);
		cleanup_handlers(ls);
		stop_sources(ls);
		live_save__publish(ls, LIVE_PHASE_COMPLETED);
		pthread_mutex_lock(&ls->lock);
		ls->fd = -1;
		pthread_mutex_unlock(&ls->lock);
		return 0;
	}

	/* Failure: tell the peer (best effort), then undo everything. */
	live_save__channels_close(ls);
	if (!atomic_load(&ls->cancel))
		ret = peer_reason(ls, ret);
	if (ret != -EREMOTEIO)
		live_wire__send_text(fd, LIVE_MSG_ABORT, ls->err);
	cleanup_handlers(ls);
	stop_sources(ls);
	if (paused)
		ls->env.resume(ls->env.opaque);
	if (atomic_load(&ls->cancel) && ret != -EREMOTEIO)
		ret = -ECANCELED;
	live_save__publish(ls, ret == -ECANCELED ? LIVE_PHASE_CANCELLED :
						   LIVE_PHASE_FAILED);
	pthread_mutex_lock(&ls->lock);
	snprintf(ls->st.message, sizeof(ls->st.message), "%s",
		 ret == -ECANCELED ? "cancelled" : ls->err);
	ls->fd = -1;
	pthread_mutex_unlock(&ls->lock);
	return ret;
}
