/*
 * live-save-copy.c: the two copying phases of the live-migration
 * source. The precopy loop sends dirty RAM and device precopy data
 * round after round while the VM runs, measures bandwidth and dirty
 * rate, and decides when the expected downtime fits the limit (or gives
 * up, or switches over anyway, as the parameters say). The stop-copy
 * runs with the VM paused (under the VM side's run_paused): the last
 * dirty RAM, the rest of every device's data, then all device state and
 * END.
 */
#include "migration/live-save-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "migration/live-wire.h"
#include "migration/state-fdt.h"
#include "vmm/log.h"

/* Bandwidth assumed until one is measured: 1 Gbit/s. */
#define LIVE_BW_GUESS (125ULL << 20)
/* An iteration must carry this much to give a usable bandwidth sample. */
#define LIVE_BW_MIN_SAMPLE (1u << 20)
/* Device data per save_iterate round before RAM gets its turn again. */
#define LIVE_DEV_ITER_CALLS 64
/* Idle iterations (nothing dirty, waiting for an ack) wait this long. */
#define LIVE_IDLE_SLEEP_NS 5000000L
#define LIVE_IDLE_WAIT_MS 5u

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

int live_save__precopy(struct live_save *ls)
{
	uint64_t bw = LIVE_BW_GUESS, last_sync = live__now_ns();
	uint64_t pre_start = last_sync;
	uint32_t it, ack_waits = 0;
	int ret;

	for (it = 0;; it++) {
		uint64_t t0 = live__now_ns(), sent0 = ls->sent, ram, dev, exp;
		bool limit;

		ret = live_save__poll_peer(ls);
		if (ret)
			return ret;
		if (it > 0) {
			ret = live_save__sync_sources(ls);
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
		live_save__publish(ls, LIVE_PHASE_PRECOPY);
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
		/*
		 * A round that would switch over but for the destination's
		 * switchover ack is the destination's set-up time, not a
		 * failure to converge: only the timeout bounds those.
		 */
		if (it > 0 && !ls->acked && exp <= ls->p.downtime_limit_ms)
			ack_waits++;
		limit = it - ack_waits >= ls->p.max_iterations ||
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
		ret = it == 0 ? live_save__first_pass(ls) :
				 live_save__send_dirty(ls, true);
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
			else if (bytes < 4096 && !ls->acked)
				ret = live_save__wait_peer(ls, LIVE_IDLE_WAIT_MS);
			else if (bytes < 4096 && !ram)
				nanosleep(&(struct timespec){ 0, LIVE_IDLE_SLEEP_NS },
					  NULL);
			if (ret)
				return ret;
		}
	}
}

/* ---- switchover (VM paused; may run on another thread) ---- */

int live_save__stop_copy(void *arg)
{
	struct live_save *ls = arg;
	struct state_writer *w = NULL;
	const void *blob;
	size_t i, size;
	struct iovec iov;
	uint64_t t0 = live__now_ns(), t1, t2;
	int ret;

	ret = live_save__sync_sources(ls);
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
