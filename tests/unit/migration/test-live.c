/*
 * test-live.c: the live-migration engine end to end in one process
 * (live-test-fixture.h): memory and device state arrive intact, the
 * loader confined on a thread of its own (and failing to confine),
 * refusal, cancel, non-convergence both ways, a destination error and
 * a destination that vanishes. Hostile streams, the dirty bitmap and
 * addresses are test-live-input.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "live-test-fixture.h"
#include "migration/live.h"
#include "vmm/mem.h"

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

/* RAM channels: the first pass dealt over three connections. */
static void test_channels(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->params.channels = 3;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, 0);
	assert_int_equal(h->dst_ret, 0);
	assert_int_equal(st.phase, LIVE_PHASE_COMPLETED);
	assert_int_equal(h->chan_made, 2);
	assert_int_equal(h->chan_taken, 2);
	/* Every byte, later rewrites included, and the device state. */
	assert_memory_equal(h->src.mem->base, h->dst.mem->base, MEM_SIZE);
	assert_int_equal(h->dst.dev.data_len, 200000);
	assert_memory_equal(h->src.dev.data, h->dst.dev.data, 200000);
	assert_int_equal(h->dst.dev.applies, 1);
	assert_true(st.pages_sent >= 1024);
	harness_free(h);
}

/* A destination that takes one connection refuses before state flows. */
static void test_channels_refused(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->params.channels = 2;
	h->dst_no_accept = true;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_equal(h->src_ret, -EREMOTEIO);
	assert_non_null(strstr(st.message, "takes one"));
	assert_int_equal(h->pauses, 0);
	assert_int_equal(h->src.guest.starts, 0);
	harness_free(h);
}

/* A channel that does not belong to this migration: refused, no load. */
static void test_channel_stranger(void **state)
{
	struct harness *h = harness_new();
	struct live_status st;

	h->params.channels = 2;
	h->chan_bad_session = true;
	run(h);
	live_save__status(h->ls, &st);
	assert_int_not_equal(h->src_ret, 0);
	assert_int_not_equal(h->dst_ret, 0);
	assert_non_null(strstr(h->dst_err, "RAM channel"));
	assert_int_equal(st.phase, LIVE_PHASE_FAILED);
	assert_int_equal(h->dst.dev.applies, 0);
	assert_int_equal(h->resumes, h->pauses);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_all),
		cmocka_unit_test(test_confined_loader),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_channels_refused),
		cmocka_unit_test(test_channel_stranger),
		cmocka_unit_test(test_confine_fails),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_nonconverge_fail),
		cmocka_unit_test(test_nonconverge_switchover),
		cmocka_unit_test(test_destination_error),
		cmocka_unit_test(test_destination_vanishes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
