/*
 * test-live.c: the live-migration engine in one process: a source and
 * a destination thread over a socketpair, guest memory from mem__create,
 * a fake dirty source standing in for KVM/VFIO (the "guest" writes
 * pages between iterations and reports them), a precopy device with
 * save_iterate and switchover-ack, and the snapshot tests' fake device.
 * Checks memory and device state end to end, refusal, cancel,
 * non-convergence both ways, a destination error, hostile streams, and
 * the dirty bitmap helpers.
 */
#include <endian.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-handlers.h"
#include "migration/crc32c.h"
#include "migration/dirty.h"
#include "migration/live-wire.h"
#include "migration/live.h"
#include "migration/registry.h"
#include "migration/state-fdt.h"
#include "vmm/mem.h"

#define MEM_SIZE (32ULL << 20)

/* ---- a precopy device: data in save_iterate, ack on the destination ---- */

#define PRE_INIT 300000u /* initial precopy bytes */

struct pre_dev {
	struct migration *mig; /* destination: where to approve */
	uint8_t data[PRE_INIT];
	uint32_t sent, got;
	bool approved;
	int applies, cleanups;
	int fail_load; /* destination: -errno from load_data */
};

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

struct fake_guest {
	struct guest_mem *mem;
	uint64_t pending[MEM_SIZE / 4096 / 64];
	int starts, stops, syncs;
	unsigned int gen;
	unsigned int writes_per_iter; /* pages dirtied per progress call */
};

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

struct side {
	struct migration *mig;
	struct guest_mem *mem;
	struct fake_dev dev;
	struct pre_dev pre;
	struct fake_guest guest;
	bool extra_handler; /* destination: one component more */
};

struct harness {
	struct side src, dst;
	int sv[2];
	struct live_params params;
	struct live_save *ls;
	int src_ret, dst_ret;
	char dst_err[512];
	int pauses, resumes, progress_calls;
	int cancel_at; /* progress call that cancels; 0 = never */
	bool dst_close_early; /* destination drops the connection at once */
	int confine;          /* 0: no confine hook; 1: it succeeds; 2: it fails */
	pid_t dst_tid, confine_tid;
};

static void side_init(struct side *s, bool source)
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

static void side_exit(struct side *s)
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

static void *dst_thread(void *arg)
{
	struct harness *h = arg;
	struct live_load_env env = { .prepare = prepare, .opaque = h,
				     .confine = h->confine ? h_confine : NULL };

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

static void run(struct harness *h)
{
	struct live_save_env env = {
		.mig = h->src.mig, .hello = hello, .run_paused = h_run_paused,
		.resume = h_resume, .progress = h_progress, .opaque = h,
	};
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h->sv), 0);
	assert_int_equal(live_save__create(&env, &h->params, &h->ls), 0);
	assert_int_equal(pthread_create(&t, NULL, dst_thread, h), 0);
	h->src_ret = live_save__run(h->ls, h->sv[0]);
	close(h->sv[0]);
	pthread_join(t, NULL);
}

static struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	side_init(&h->src, true);
	side_init(&h->dst, false);
	h->src.guest.writes_per_iter = 20;
	return h;
}

static void harness_free(struct harness *h)
{
	live_save__destroy(h->ls);
	side_exit(&h->src);
	side_exit(&h->dst);
	free(h);
}

static void test_migrate_all(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, 0);
	assert_int_equal(h->dst_ret, 0);
	assert_int_equal(st.phase, LIVE_PHASE_COMPLETED);
	assert_true(st.iteration >= 1);
	assert_true(st.switchover_acked);
	/* Every byte of RAM arrived, including the page zeroed late. */
	assert_memory_equal(h->src.mem->base, h->dst.mem->base, MEM_SIZE);
	assert_int_equal(h->dst.mem->base[5 * 4096], 0);
	assert_true(st.zero_pages >= 1);
	/* Device stream and state. */
	assert_int_equal(h->dst.dev.data_len, 200000);
	assert_memory_equal(h->src.dev.data, h->dst.dev.data, 200000);
	assert_int_equal(h->dst.dev.reg_a, h->src.dev.reg_a);
	assert_int_equal(h->dst.dev.applies, 1);
	assert_int_equal(h->dst.dev.load_cleanups, 1);
	assert_memory_equal(h->src.pre.data, h->dst.pre.data, PRE_INIT);
	assert_int_equal(h->dst.pre.applies, 1);
	/* Source: one pause, no resume, cleanup once, tracking stopped. */
	assert_int_equal(h->pauses, 1);
	assert_int_equal(h->resumes, 0);
	assert_int_equal(h->src.dev.cleanups, 1);
	assert_int_equal(h->src.pre.cleanups, 1);
	assert_int_equal(h->src.guest.starts, 1);
	assert_int_equal(h->src.guest.stops, 1);
	/* Holes were never read, so never sent: 1024 data pages + rewrites. */
	assert_true(st.pages_sent >= 1024 && st.pages_sent < 1024 + 2000);
	assert_true(st.downtime_ms < 5000);
	harness_free(h);
}

/* The stream after the handshake is parsed on a thread of its own. */
static void test_confined_loader(void **state)
{
	struct harness *h = harness_new();

	h->confine = 1;
	run(h);
	assert_int_equal(h->src_ret, 0);
	assert_int_equal(h->dst_ret, 0);
	assert_true(h->confine_tid > 0);
	assert_int_not_equal(h->confine_tid, h->dst_tid);
	assert_memory_equal(h->src.mem->base, h->dst.mem->base, MEM_SIZE);
	assert_int_equal(h->dst.dev.applies, 1);
	harness_free(h);
}

/* A loader that cannot confine itself loads nothing; the source is told. */
static void test_confine_fails(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->confine = 2;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->dst_ret, -EPERM);
	assert_non_null(strstr(h->dst_err, "confine"));
	assert_int_not_equal(h->src_ret, 0);
	assert_int_equal(st.phase, LIVE_PHASE_FAILED);
	assert_non_null(strstr(st.message, "confine"));
	assert_int_equal(h->dst.dev.applies, 0);
	assert_int_equal(h->resumes, h->pauses); /* running again if paused */
	harness_free(h);
}

static void test_refused(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->dst.extra_handler = true;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, -EREMOTEIO);
	assert_int_equal(st.phase, LIVE_PHASE_FAILED);
	assert_non_null(strstr(st.message, "refused"));
	assert_non_null(strstr(st.message, "extra"));
	assert_int_not_equal(h->dst_ret, 0);
	/* Nothing started on the source, nothing paused. */
	assert_int_equal(h->src.dev.setups, 0);
	assert_int_equal(h->src.guest.starts, 0);
	assert_int_equal(h->pauses, 0);
	harness_free(h);
}

static void test_cancel(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	/* Never converges on its own: the guest dirties a lot, the link is slow. */
	h->src.guest.writes_per_iter = 2000;
	h->params.max_bandwidth = 20 << 20;
	h->params.downtime_limit_ms = 1;
	h->cancel_at = 4;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, -ECANCELED);
	assert_int_equal(st.phase, LIVE_PHASE_CANCELLED);
	assert_int_not_equal(h->dst_ret, 0);
	assert_int_equal(h->pauses, 0);
	assert_int_equal(h->src.dev.cleanups, 1);
	assert_int_equal(h->src.pre.cleanups, 1);
	assert_int_equal(h->src.guest.stops, 1);
	/* The destination never applied anything. */
	assert_int_equal(h->dst.dev.applies, 0);
	harness_free(h);
}

static void nonconverge(bool switchover)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->src.guest.writes_per_iter = 3000; /* 12 MiB per iteration */
	h->params.max_bandwidth = 40 << 20;
	h->params.downtime_limit_ms = 10;
	h->params.max_iterations = 3;
	h->params.switchover_on_timeout = switchover;
	run(h);
	live_save__status(h->ls, &st);
	if (switchover) {
		assert_int_equal(h->src_ret, 0);
		assert_int_equal(h->dst_ret, 0);
		assert_non_null(strstr(st.message, "switched over anyway"));
		assert_memory_equal(h->src.mem->base, h->dst.mem->base, MEM_SIZE);
	} else {
		assert_int_equal(h->src_ret, -ETIMEDOUT);
		assert_non_null(strstr(st.message, "did not converge"));
		assert_int_equal(h->pauses, 0);
		assert_int_not_equal(h->dst_ret, 0);
	}
	assert_int_equal(st.iteration, 3);
	harness_free(h);
}

static void test_nonconverge_fail(void **state)
{
	nonconverge(false);
}

static void test_nonconverge_switchover(void **state)
{
	nonconverge(true);
}

static void test_destination_error(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->dst.pre.fail_load = -EIO;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, -EREMOTEIO);
	assert_non_null(strstr(st.message, "pre0"));
	assert_int_equal(h->dst_ret, -EIO);
	assert_int_equal(h->src.dev.cleanups, 1);
	assert_int_equal(h->src.guest.stops, 1);
	harness_free(h);
}

static void test_destination_vanishes(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->dst_close_early = true;
	run(h);
	live_save__status(h->ls, &st);
	assert_true(h->src_ret < 0);
	assert_int_equal(st.phase, LIVE_PHASE_FAILED);
	assert_int_equal(h->pauses, 0);
	harness_free(h);
}

/* ---- hostile streams into live__load ---- */

struct hostile {
	struct side dst;
	int sv[2];
	char err[512];
};

static int hostile_prepare(void *o, struct state_reader *r, int node,
			   uint64_t size, struct migration **mig, char *err,
			   size_t errlen)
{
	struct hostile *x = o;

	*mig = x->dst.mig;
	return 0;
}

static void send_hdr(int fd, uint32_t type, uint64_t len, uint32_t crc)
{
	uint32_t t = htobe32(type), c = htobe32(crc);
	uint64_t l = htobe64(len);
	uint8_t b[16];

	memcpy(b, &t, 4);
	memcpy(b + 4, &c, 4);
	memcpy(b + 8, &l, 8);
	assert_int_equal(write(fd, b, 16), 16);
}

/* A valid preamble and HELLO for the destination's handler set. */
static void send_good_hello(int fd, struct migration *mig)
{
	struct state_writer *w;
	const void *blob;
	size_t size;
	struct iovec iov;

	assert_int_equal(live_wire__send_preamble(fd), 0);
	assert_int_equal(state_writer__create(&w), 0);
	state__put_string(w, "format", "ferry-live");
	state__put_u32(w, "version", LIVE_VERSION);
	state__begin(w, "memory");
	state__put_u64(w, "size", MEM_SIZE);
	state__end(w);
	state__begin(w, "handlers");
	for (size_t i = 0; i < migration__count(mig); i++) {
		state__begin(w, migration__handler(mig, i)->id);
		state__put_u32(w, "index", (uint32_t)i);
		state__put_u32(w, "version", 1);
		state__put_u8(w, "data", 1);
		state__put_u64(w, "compat", 0);
		state__end(w);
	}
	state__end(w);
	state__begin(w, "vm");
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);
	iov.iov_base = (void *)(uintptr_t)blob;
	iov.iov_len = size;
	assert_int_equal(live_wire__send(fd, LIVE_MSG_HELLO, &iov, 1), 0);
	state_writer__destroy(w);
}

static int hostile_run(struct hostile *x)
{
	struct live_load_env env = { .prepare = hostile_prepare, .opaque = x };

	shutdown(x->sv[0], SHUT_WR);
	return live__load(x->sv[1], &env, x->err, sizeof(x->err));
}

static struct hostile *hostile_new(void)
{
	struct hostile *x = calloc(1, sizeof(*x));

	side_init(&x->dst, false);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x->sv), 0);
	/* Room for everything the destination answers. */
	return x;
}

static void hostile_free(struct hostile *x)
{
	close(x->sv[0]);
	close(x->sv[1]);
	side_exit(&x->dst);
	free(x);
}

static void test_hostile(void **state)
{
	struct hostile *x;
	uint64_t ram[2];
	int ret;

	/* Not our protocol. */
	x = hostile_new();
	assert_int_equal(write(x->sv[0], "GET / HTTP/1.0\r\n", 16), 16);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "magic"));
	hostile_free(x);

	/* A HELLO claiming 1 TiB of payload. */
	x = hostile_new();
	assert_int_equal(live_wire__send_preamble(x->sv[0]), 0);
	send_hdr(x->sv[0], LIVE_MSG_HELLO, 1ULL << 40, 0);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "exceeds its limit"));
	hostile_free(x);

	/* RAM beyond guest memory. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	ram[0] = htobe64(MEM_SIZE);
	ram[1] = htobe64(1);
	send_hdr(x->sv[0], LIVE_MSG_ZERO, 16, crc32c__update(0, ram, 16));
	assert_int_equal(write(x->sv[0], ram, 16), 16);
	ret = hostile_run(x);
	assert_int_equal(ret, -EPROTO);
	assert_non_null(strstr(x->err, "not guest RAM"));
	hostile_free(x);

	/* RAM straddling the end of memory, with a page count that wraps. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	ram[0] = htobe64(MEM_SIZE - 4096);
	ram[1] = htobe64(1ULL << 52);
	send_hdr(x->sv[0], LIVE_MSG_RAM, 16 + 4096, 0);
	assert_int_equal(write(x->sv[0], ram, 16), 16);
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "bad page range"));
	hostile_free(x);

	/* A RAM message whose header checksum does not match. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	{
		static uint8_t page[4096];

		ram[0] = htobe64(0x100000);
		ram[1] = htobe64(1);
		send_hdr(x->sv[0], LIVE_MSG_RAM, 16 + 4096, 0x1234);
		assert_int_equal(write(x->sv[0], ram, 16), 16);
		assert_int_equal(write(x->sv[0], page, 4096), 4096);
	}
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "checksum"));
	hostile_free(x);

	/* END without state; then a truncated stream. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	send_hdr(x->sv[0], LIVE_MSG_END, 0, 0);
	assert_int_equal(hostile_run(x), -EPROTO);
	hostile_free(x);

	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	assert_int_equal(hostile_run(x), -ECONNRESET);
	assert_non_null(strstr(x->err, "closed"));
	hostile_free(x);

	/* A DEVICE message for a component index that does not exist. */
	x = hostile_new();
	send_good_hello(x->sv[0], x->dst.mig);
	{
		uint32_t d[3] = { htobe32(77), 0, 0 };

		send_hdr(x->sv[0], LIVE_MSG_DEVICE, 12, crc32c__update(0, d, 12));
		assert_int_equal(write(x->sv[0], d, 12), 12);
	}
	assert_int_equal(hostile_run(x), -EPROTO);
	assert_non_null(strstr(x->err, "unknown component"));
	hostile_free(x);
}

/* ---- the bitmap ---- */

static void test_dirty_bitmap(void **state)
{
	struct guest_mem *mem;
	struct mig_dirty_bitmap bm;
	uint64_t words[2] = { 0x8000000000000001ULL, 0x3 };
	uint64_t hi_page;

	/* 3.5 GiB: 3 GiB below the hole, 512 MiB above 4 GiB. */
	assert_int_equal(mem__create(3584ULL << 20, &mem), 0);
	assert_int_equal(mig_dirty__init(&bm, mem), 0);
	assert_int_equal(mig_dirty__count(&bm), 0);
	mig_dirty__set_all(&bm);
	assert_int_equal(mig_dirty__count(&bm), bm.nr_pages);
	mig_dirty__clear_all(&bm);
	/* A range across the end of low RAM is partly not RAM. */
	assert_int_equal(mig_dirty__mark_gpa(&bm, 0xC0000000ULL - 8192, 16384), -EFAULT);
	assert_int_equal(mig_dirty__count(&bm), 2);
	/* RAM above 4 GiB lands after low RAM in memfd order. */
	assert_int_equal(mig_dirty__mark_gpa(&bm, 0x100000000ULL + 100, 1), 0);
	hi_page = 0xC0000000ULL >> 12;
	assert_true(mig_dirty__test(&bm, hi_page));
	assert_int_equal(mig_dirty__next_set(&bm, 0), hi_page - 2);
	/* Adjacent in memfd order: one run across the hole. */
	assert_int_equal(mig_dirty__next_clear(&bm, hi_page - 2), hi_page + 1);
	assert_int_equal(mig_dirty__next_clear(&bm, hi_page), hi_page + 1);
	mig_dirty__clear_range(&bm, 0, bm.nr_pages);
	assert_int_equal(mig_dirty__next_set(&bm, 0), bm.nr_pages);
	assert_int_equal(mig_dirty__or_words(&bm, 64, words, 66), 0);
	assert_int_equal(mig_dirty__count(&bm), 4);
	assert_true(mig_dirty__test(&bm, 64) && mig_dirty__test(&bm, 127) &&
		    mig_dirty__test(&bm, 128) && mig_dirty__test(&bm, 129));
	assert_int_equal(mig_dirty__or_words(&bm, 3, words, 1), -EINVAL);
	assert_int_equal(mig_dirty__or_words(&bm, 0, words, bm.nr_pages + 1), -EINVAL);
	mig_dirty__exit(&bm);
	mig_dirty__exit(&bm);
	mem__destroy(mem);
}

static void test_addr_parse(void **state)
{
	struct live_addr a;
	char err[256];

	assert_int_equal(live_addr__parse("tcp:10.1.2.3:4444", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(live_addr__parse("tcp:[::1]:80", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(live_addr__parse("tcp:localhost:1", &a, err, sizeof(err)), 0);
	assert_int_equal(live_addr__parse("unix:/tmp/x.sock", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_UNIX);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3:0", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:10.1.2.3:70000", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("tcp:example.com:80", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("udp:1.2.3.4:5", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(live_addr__parse("unix:", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unix:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_bitmap),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_migrate_all),
		cmocka_unit_test(test_confined_loader),
		cmocka_unit_test(test_confine_fails),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_nonconverge_fail),
		cmocka_unit_test(test_nonconverge_switchover),
		cmocka_unit_test(test_destination_error),
		cmocka_unit_test(test_destination_vanishes),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
