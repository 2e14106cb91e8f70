/*
 * live-test-fixture.c: the precopy device, the fake dirty source and
 * "guest", and the source/destination harness the live tests share
 * (live-test-fixture.h).
 */
#include "live-test-fixture.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/live.h"
#include "migration/registry.h"
#include "migration/state-fdt.h"
#include "vmm/mem.h"

/* ---- a precopy device: data in save_iterate, ack on the destination ---- */

static int pre_setup(void *o, struct mig_sink *s)
{
	((struct pre_dev *)o)->sent = 0;
	return mig_sink__write(s, "PRE!", 4);
}

static void pre_estimate(void *o, uint64_t *b)
{
	*b += PRE_INIT - ((struct pre_dev *)o)->sent;
}

static int pre_iterate(void *o, struct mig_sink *s)
{
	struct pre_dev *d = o;
	uint32_t n = MIN(PRE_INIT - d->sent, 65536u);
	int ret;

	if (!n)
		return 1;
	ret = mig_sink__write(s, d->data + d->sent, n);
	d->sent += n;
	return ret ? ret : d->sent == PRE_INIT;
}

static int pre_complete(void *o, struct mig_sink *s)
{
	struct pre_dev *d = o;

	/* Whatever precopy did not send goes now. */
	if (d->sent < PRE_INIT) {
		int ret = mig_sink__write(s, d->data + d->sent, PRE_INIT - d->sent);

		d->sent = PRE_INIT;
		return ret;
	}
	return 0;
}

static int pre_save_state(void *o, struct state_writer *w)
{
	return state__put_u32(w, "sent", ((struct pre_dev *)o)->sent);
}

static void pre_cleanup(void *o)
{
	((struct pre_dev *)o)->cleanups++;
}

static int pre_load_state(void *o, struct state_reader *r, int node, uint32_t v)
{
	uint32_t sent;

	return state__get_u32(r, node, "sent", &sent);
}

static int pre_load_data(void *o, const void *buf, size_t len)
{
	struct pre_dev *d = o;
	const uint8_t *p = buf;

	if (d->fail_load)
		return d->fail_load;
	while (len) {
		if (d->got < 4) {
			d->got++;
		} else {
			if (d->got - 4 >= PRE_INIT)
				return -EFBIG;
			d->data[d->got - 4] = *p;
			d->got++;
		}
		p++;
		len--;
	}
	if (!d->approved && d->got == PRE_INIT + 4) {
		d->approved = true;
		return migration__approve_switchover(d->mig);
	}
	return 0;
}

static int pre_apply(void *o)
{
	struct pre_dev *d = o;

	d->applies++;
	return d->got == PRE_INIT + 4 ? 0 : -EINVAL;
}

static bool pre_ack(void *o)
{
	return true;
}

static const struct mig_handler_ops pre_ops = {
	.version = 1,
	.order = MIG_ORDER_DEVICE,
	.save_setup = pre_setup,
	.pending_estimate = pre_estimate,
	.save_iterate = pre_iterate,
	.save_complete = pre_complete,
	.save_state = pre_save_state,
	.save_cleanup = pre_cleanup,
	.load_state = pre_load_state,
	.load_data = pre_load_data,
	.load_apply = pre_apply,
	.switchover_ack_needed = pre_ack,
};

/* ---- the fake dirty source and "guest" ---- */

static int fg_start(void *o)
{
	((struct fake_guest *)o)->starts++;
	return 0;
}

static int fg_sync(void *o, struct mig_dirty_bitmap *bm)
{
	struct fake_guest *g = o;

	g->syncs++;
	assert_int_equal(mig_dirty__or_words(bm, 0, g->pending, MEM_SIZE / 4096), 0);
	memset(g->pending, 0, sizeof(g->pending));
	return 0;
}

static void fg_stop(void *o)
{
	((struct fake_guest *)o)->stops++;
}

static const struct mig_dirty_source_ops fg_ops = {
	.start = fg_start, .sync = fg_sync, .stop = fg_stop,
};

/* The guest writes: new data in some pages, zeroes one that had data. */
static void guest_writes(struct fake_guest *g)
{
	unsigned int i;

	g->gen++;
	for (i = 0; i < g->writes_per_iter; i++) {
		uint64_t page = (g->gen * 7919ULL + i * 104729ULL) % (MEM_SIZE / 4096);

		memset(g->mem->base + page * 4096, (int)(g->gen + i) | 1, 4096);
		g->pending[page / 64] |= 1ULL << (page % 64);
	}
	/* Page 5 had data from the start: now it is zero again. */
	memset(g->mem->base + 5 * 4096, 0, 4096);
	g->pending[0] |= 1ULL << 5;
}

/* ---- the test harness ---- */

void side_init(struct side *s, bool source)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(mem__create(MEM_SIZE, &s->mem), 0);
	assert_int_equal(migration__create(&s->mig), 0);
	migration__set_memory(s->mig, s->mem);
	fake_dev_init(&s->dev, source ? 200000 : 0, 3);
	s->pre.mig = s->mig;
	if (source)
		for (uint32_t i = 0; i < PRE_INIT; i++)
			s->pre.data[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(migration__register(s->mig, "dev0", &fake_dev_ops, &s->dev), 0);
	assert_int_equal(migration__register(s->mig, "pre0", &pre_ops, &s->pre), 0);
	if (source) {
		s->guest.mem = s->mem;
		assert_int_equal(migration__add_dirty_source(s->mig, "fake", &fg_ops,
							     &s->guest), 0);
		/* Initial contents: a pattern in the first 4 MiB, the rest holes. */
		for (uint64_t p = 0; p < 1024; p++)
			memset(s->mem->base + p * 4096, (int)(p % 251) + 1, 4096);
	}
}

void side_exit(struct side *s)
{
	migration__destroy(s->mig);
	mem__destroy(s->mem);
	free(s->dev.data);
}

static int h_run_paused(void *o, int (*fn)(void *), void *arg, bool *paused)
{
	struct harness *h = o;

	h->pauses++;
	*paused = true;
	return fn(arg);
}

static void h_resume(void *o)
{
	((struct harness *)o)->resumes++;
}

static void h_progress(void *o, const struct live_status *st)
{
	struct harness *h = o;

	h->progress_calls++;
	if (st->phase == LIVE_PHASE_PRECOPY)
		guest_writes(&h->src.guest);
	if (h->cancel_at && h->progress_calls == h->cancel_at)
		live_save__cancel(h->ls);
}

static int hello(void *o, struct state_writer *w)
{
	return state__put_string(w, "config", "{}");
}

static int prepare(void *o, struct state_reader *r, int node, uint64_t size,
		   struct migration **mig, char *err, size_t errlen)
{
	struct harness *h = o;
	char cfg[8];

	if (state__get_string(r, node, "config", cfg, sizeof(cfg))) {
		snprintf(err, errlen, "no config");
		return -EINVAL;
	}
	if (h->dst.extra_handler)
		assert_int_equal(migration__register(h->dst.mig, "extra", &fake_uart_ops,
						     calloc(1, sizeof(struct fake_uart))), 0);
	*mig = h->dst.mig;
	return 0;
}

/* Stands in for installing a seccomp filter: records where it ran. */
static int h_confine(void *o)
{
	struct harness *h = o;

	h->confine_tid = gettid();
	return h->confine == 2 ? -EPERM : 0;
}

/* Source: a RAM channel is one more socketpair; its far end is queued. */
static int h_connect(void *o)
{
	struct harness *h = o;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -errno;
	if (h->chan_bad_session) {
		/* A stranger: the destination must reject what it says. */
		uint8_t junk[LIVE_PREAMBLE_SIZE + LIVE_HDR_SIZE + LIVE_CHANNEL_LEN];

		memset(junk, 0x5a, sizeof(junk));
		close(sv[0]);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return -errno;
		assert_int_equal(write(sv[0], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	}
	pthread_mutex_lock(&h->chan_lock);
	assert_true(h->chan_made < 8);
	h->chan_fds[h->chan_made++] = sv[1];
	pthread_cond_broadcast(&h->chan_cond);
	pthread_mutex_unlock(&h->chan_lock);
	return sv[0];
}

/* Destination: the next queued channel end, within @ms. */
static int h_accept(void *o, unsigned int ms)
{
	struct harness *h = o;
	struct timespec until;
	int fd = -ETIMEDOUT;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000 + 1;
	pthread_mutex_lock(&h->chan_lock);
	while (h->chan_taken == h->chan_made &&
	       pthread_cond_timedwait(&h->chan_cond, &h->chan_lock, &until) == 0)
		;
	if (h->chan_taken < h->chan_made)
		fd = h->chan_fds[h->chan_taken++];
	pthread_mutex_unlock(&h->chan_lock);
	return fd;
}

static void *dst_thread(void *arg)
{
	struct harness *h = arg;
	struct live_load_env env = { .prepare = prepare, .opaque = h,
				     .confine = h->confine ? h_confine : NULL,
				     .accept = h->dst_no_accept ? NULL : h_accept };

	h->dst_tid = gettid();

	if (h->dst_close_early) {
		char buf[64];

		/* Read the preamble, then vanish. */
		h->dst_ret = (int)read(h->sv[1], buf, 16);
		close(h->sv[1]);
		return NULL;
	}
	h->dst_ret = live__load(h->sv[1], &env, h->dst_err, sizeof(h->dst_err));
	close(h->sv[1]);
	return NULL;
}

void run(struct harness *h)
{
	struct live_save_env env = {
		.mig = h->src.mig, .hello = hello, .run_paused = h_run_paused,
		.resume = h_resume, .progress = h_progress,
		.connect = h_connect, .opaque = h,
	};
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h->sv), 0);
	assert_int_equal(live_save__create(&env, &h->params, &h->ls), 0);
	assert_int_equal(pthread_create(&t, NULL, dst_thread, h), 0);
	h->src_ret = live_save__run(h->ls, h->sv[0]);
	close(h->sv[0]);
	pthread_join(t, NULL);
}

struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	pthread_mutex_init(&h->chan_lock, NULL);
	pthread_cond_init(&h->chan_cond, NULL);

	side_init(&h->src, true);
	side_init(&h->dst, false);
	h->src.guest.writes_per_iter = 20;
	return h;
}

void harness_free(struct harness *h)
{
	/* Channel ends the destination never took. */
	while (h->chan_taken < h->chan_made)
		close(h->chan_fds[h->chan_taken++]);
	pthread_cond_destroy(&h->chan_cond);
	pthread_mutex_destroy(&h->chan_lock);
	live_save__destroy(h->ls);
	side_exit(&h->src);
	side_exit(&h->dst);
	free(h);
}
