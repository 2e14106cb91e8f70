/*
 * live-save.c: the live-migration source: handshake, dirty tracking
 * and device setup, the precopy loop with its convergence decision, the
 * switchover (under the VM side's run_paused), and the two endings:
 * DONE from the destination, or any failure/cancel, after which every
 * device is cleaned up and the VM resumed. Sending is live-save-ram.c.
 */
#include "migration/live-save-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "migration/live-wire.h"
#include "migration/state-fdt.h"
#include "vmm/log.h"
#include "vmm/mem.h"

/* Bandwidth assumed until one is measured: 1 Gbit/s. */
#define LIVE_BW_GUESS (125ULL << 20)
/* An iteration must carry this much to give a usable bandwidth sample. */
#define LIVE_BW_MIN_SAMPLE (1u << 20)
/* Socket timeouts: a peer silent this long is gone. */
#define LIVE_SEND_TIMEOUT_MS 30000u
/* The destination builds its VM (devices connect) and, at the end, loads all state. */
#define LIVE_REPLY_TIMEOUT_MS 60000u
/* Device data per save_iterate round before RAM gets its turn again. */
#define LIVE_DEV_ITER_CALLS 64
/* Idle iterations (nothing dirty, waiting for an ack) sleep this long. */
#define LIVE_IDLE_SLEEP_NS 5000000L

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
	ls->sp.pipe[0] = ls->sp.pipe[1] = -1;
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
	live_splice__exit(&ls->sp);
	pthread_mutex_destroy(&ls->lock);
	free(ls);
}

void live_save__cancel(struct live_save *ls)
{
	atomic_store(&ls->cancel, true);
	pthread_mutex_lock(&ls->lock);
	/* Unblock a send or receive in progress; not after the switchover. */
	if (ls->fd >= 0 && ls->st.phase != LIVE_PHASE_SWITCHOVER &&
	    ls->st.phase != LIVE_PHASE_COMPLETED)
		shutdown(ls->fd, SHUT_RDWR);
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
static void publish(struct live_save *ls, enum live_phase phase)
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

static int sync_sources(struct live_save *ls)
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

/* ---- precopy ---- */

static uint64_t device_pending(struct live_save *ls, bool exact)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		if (exact && h->ops->pending_exact)
			h->ops->pending_exact(h->opaque, &total);
		else if (h->ops->pending_estimate)
			h->ops->pending_estimate(h->opaque, &total);
	}
	return total;
}

/* One round of device precopy data. */
static int iterate_devices(struct live_save *ls)
{
	size_t i;
	int ret, k;

	for (i = 0; i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		if (!h->ops->save_iterate)
			continue;
		for (k = 0; k < LIVE_DEV_ITER_CALLS; k++) {
			ret = h->ops->save_iterate(h->opaque, &ls->sinks[i].sink);
			if (ret < 0)
				return live_save__error(ls, ret, "%s: precopy failed: %s",
							h->id, strerror(-ret));
			if (ret == 1)
				break;
		}
		ret = live_save__sink_flush(&ls->sinks[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t expected_ms(uint64_t bytes, uint64_t bw)
{
	return (uint64_t)((double)bytes * 1000.0 / (double)(bw ? bw : 1));
}

static int precopy(struct live_save *ls)
{
	uint64_t bw = LIVE_BW_GUESS, last_sync = live__now_ns();
	uint64_t pre_start = last_sync;
	uint32_t it;
	int ret;

	for (it = 0;; it++) {
		uint64_t t0 = live__now_ns(), sent0 = ls->sent, ram, dev, exp;
		bool limit;

		ret = live_save__poll_peer(ls);
		if (ret)
			return ret;
		if (it > 0) {
			ret = sync_sources(ls);
			if (ret)
				return ret;
		}
		ram = mig_dirty__count(&ls->dirty) * DIRTY_PAGE_SIZE;
		dev = device_pending(ls, false);
		exp = expected_ms(ram + dev, bw);
		pthread_mutex_lock(&ls->lock);
		ls->st.iteration = it;
		ls->st.pending_ram = ram;
		ls->st.pending_device = dev;
		ls->st.bandwidth = it > 0 ? bw : 0;
		ls->st.expected_downtime_ms = it > 0 ? exp : 0;
		if (it > 0)
			ls->st.dirty_rate = (uint64_t)((double)ram * 1e9 /
						       (double)(t0 - last_sync + 1));
		pthread_mutex_unlock(&ls->lock);
		last_sync = t0;
		publish(ls, LIVE_PHASE_PRECOPY);
		if (it > 0 && ls->acked && exp <= ls->p.downtime_limit_ms) {
			/* Ask the devices for exact figures before committing. */
			dev = device_pending(ls, true);
			exp = expected_ms(ram + dev, bw);
			pthread_mutex_lock(&ls->lock);
			ls->st.pending_device = dev;
			ls->st.expected_downtime_ms = exp;
			pthread_mutex_unlock(&ls->lock);
			if (exp <= ls->p.downtime_limit_ms)
				return 0;
		}
		limit = it >= ls->p.max_iterations ||
			(t0 - pre_start) / 1000000 >= ls->p.timeout_ms;
		if (limit && ls->p.switchover_on_timeout) {
			pthread_mutex_lock(&ls->lock);
			snprintf(ls->st.message, sizeof(ls->st.message),
				 "did not converge in %u iterations / %llu ms (expected downtime %llu ms); switched over anyway",
				 it, (unsigned long long)(t0 - pre_start) / 1000000,
				 (unsigned long long)exp);
			pthread_mutex_unlock(&ls->lock);
			return 0;
		}
		if (limit)
			return live_save__error(ls, -ETIMEDOUT,
				"did not converge: after %u iterations and %llu ms the expected downtime is %llu ms (limit %u ms; %llu bytes/s dirtied, %llu bytes/s sent)%s",
				it, (unsigned long long)(t0 - pre_start) / 1000000,
				(unsigned long long)exp, ls->p.downtime_limit_ms,
				(unsigned long long)ls->st.dirty_rate,
				(unsigned long long)bw,
				ls->acked ? "" : "; switchover not acknowledged");
		ret = live_save__send_dirty(ls, true);
		if (!ret)
			ret = iterate_devices(ls);
		if (ret)
			return ret;
		ls->first_pass = false;
		{
			uint64_t dt = live__now_ns() - t0, bytes = ls->sent - sent0;

			log_debug("migration: iteration %u: %llu dirty pages, %llu bytes in %llu us",
				  it, (unsigned long long)(ram / DIRTY_PAGE_SIZE),
				  (unsigned long long)bytes, (unsigned long long)dt / 1000);

			if (bytes >= LIVE_BW_MIN_SAMPLE && dt)
				bw = (uint64_t)((double)bytes * 1e9 / (double)dt);
			else if (bytes < 4096 && (!ls->acked || !ram))
				nanosleep(&(struct timespec){ 0, LIVE_IDLE_SLEEP_NS },
					  NULL);
		}
	}
}

/* ---- switchover (VM paused; may run on another thread) ---- */

static int stop_copy(void *arg)
{
	struct live_save *ls = arg;
	struct state_writer *w = NULL;
	const void *blob;
	size_t i, size;
	struct iovec iov;
	uint64_t t0 = live__now_ns(), t1, t2;
	int ret;

	ret = sync_sources(ls);
	if (!ret)
		ret = live_save__send_dirty(ls, false);
	t1 = live__now_ns();
	for (i = 0; !ret && i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		if (!h->ops->save_complete)
			continue;
		ret = h->ops->save_complete(h->opaque, &ls->sinks[i].sink);
		if (ret)
			live_save__error(ls, ret, "%s: saving device data failed: %s",
					 h->id, strerror(-ret));
		else
			ret = live_save__sink_flush(&ls->sinks[i]);
	}
	if (ret)
		return ret;
	t2 = live__now_ns();
	if (state_writer__create(&w))
		return live_save__error(ls, -ENOMEM, "out of memory");
	state__put_string(w, "format", "ferry-state");
	state__put_u32(w, "version", 1);
	state__put_string(w, "arch", "x86_64");
	for (i = 0; !ret && i < ls->nr_handlers; i++) {
		struct mig_handler *h = migration__handler(ls->env.mig, i);

		state__begin(w, h->id);
		state__put_u32(w, "version", h->ops->version);
		ret = h->ops->save_state(h->opaque, w);
		state__end(w);
		if (ret || state_writer__status(w))
			ret = live_save__error(ls, ret ? ret : state_writer__status(w),
					       "%s: saving state failed: %s", h->id,
					       state_writer__status(w) ?
						       state_writer__error(w) :
						       strerror(-ret));
	}
	if (!ret && (ret = state_writer__finish(w, &blob, &size)))
		live_save__error(ls, ret, "state: %s", state_writer__error(w));
	if (!ret) {
		iov.iov_base = (void *)(uintptr_t)blob;
		iov.iov_len = size;
		ret = live_wire__send(ls->fd, LIVE_MSG_STATE, &iov, 1);
		if (!ret)
			ret = live_wire__send(ls->fd, LIVE_MSG_END, NULL, 0);
		if (ret)
			live_save__error(ls, ret, "sending the state: %s",
					 strerror(-ret));
		else
			live_save__account(ls, 2 * LIVE_HDR_SIZE + size);
	}
	state_writer__destroy(w);
	log_debug("migration: stop-copy: final RAM pass %llu us, device data %llu us, state %llu us",
		  (unsigned long long)(t1 - t0) / 1000, (unsigned long long)(t2 - t1) / 1000,
		  (unsigned long long)(live__now_ns() - t2) / 1000);
	return ret;
}

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
	publish(ls, LIVE_PHASE_SETUP);
	ret = live_wire__set_timeouts(fd, LIVE_SEND_TIMEOUT_MS, LIVE_REPLY_TIMEOUT_MS);
	if (ret)
		live_save__error(ls, ret, "socket: %s", strerror(-ret));
	if (!ret && (ret = mig_dirty__init(&ls->dirty, ls->mem)))
		live_save__error(ls, ret, "out of memory");
	if (!ret && (ret = live_save__sinks_init(ls)))
		live_save__error(ls, ret, "out of memory");
	/*
	 * Best effort: without the pipe, RAM is sent with plain copies. A
	 * fresh pipe per run: a failed run may have left bytes in the old.
	 */
	live_splice__exit(&ls->sp);
	if (!ret)
		ls->use_splice = !live_splice__init(&ls->sp);
	if (!ret)
		ret = send_hello(ls);
	if (!ret)
		ret = wait_reply(ls, LIVE_MSG_ACCEPT, "the destination's answer");
	if (!ret)
		ret = start_sources(ls);
	if (!ret)
		ret = setup_handlers(ls);
	if (!ret) {
		/* Iteration 0 sends everything; the sync resets the sources. */
		ret = sync_sources(ls);
		mig_dirty__set_all(&ls->dirty);
		pthread_mutex_lock(&ls->lock);
		ls->st.setup_ms = (live__now_ns() - ls->start_ns) / 1000000;
		pthread_mutex_unlock(&ls->lock);
	}
	log_debug("migration: setup took %llu us",
		  (unsigned long long)(live__now_ns() - ls->start_ns) / 1000);
	if (!ret)
		ret = precopy(ls);
	if (!ret) {
		publish(ls, LIVE_PHASE_SWITCHOVER);
		t_pause = live__now_ns();
		ret = ls->env.run_paused(ls->env.opaque, stop_copy, ls, &paused);
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
		publish(ls, LIVE_PHASE_COMPLETED);
		pthread_mutex_lock(&ls->lock);
		ls->fd = -1;
		pthread_mutex_unlock(&ls->lock);
		return 0;
	}

	/* Failure: tell the peer (best effort), then undo everything. */
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
	publish(ls, ret == -ECANCELED ? LIVE_PHASE_CANCELLED : LIVE_PHASE_FAILED);
	pthread_mutex_lock(&ls->lock);
	snprintf(ls->st.message, sizeof(ls->st.message), "%s",
		 ret == -ECANCELED ? "cancelled" : ls->err);
	ls->fd = -1;
	pthread_mutex_unlock(&ls->lock);
	return ret;
}
