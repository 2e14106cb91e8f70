/*
 * test-api-queue.c: the API <-> VMM request queue with a fake VMM
 * thread: answers are delivered, order is kept, the eventfd wakes the
 * VMM side, a caller that times out withdraws a queued request (it is
 * never executed) or abandons a running one safely, close fails pending
 * and future calls, and many threads can call at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/api-queue.h"
#include "vmm/request.h"

static struct api_queue *q;
static struct vmm_response resp;
static unsigned int seen[64];
static unsigned int nr_seen;
static int exec_sleep_ms;

static void exec_record(void *opaque, const struct vmm_request *req,
			struct vmm_response *r)
{
	if (exec_sleep_ms)
		usleep((useconds_t)exec_sleep_ms * 1000);
	if (nr_seen < 64)
		seen[nr_seen++] = req->type;
	r->info.uptime_ms = 1000 + req->type;
	if (req->type == VMM_REQ_PAUSE) {
		r->ret = -EBUSY;
		strcpy(r->message, "already paused");
	}
}

static volatile bool vmm_stop;

static void *vmm_main(void *arg)
{
	struct pollfd p = { .fd = api_queue__fd(q), .events = POLLIN };

	while (!vmm_stop)
		if (poll(&p, 1, 10) > 0)
			api_queue__drain(q, exec_record, NULL);
	return NULL;
}

static int setup(void **state)
{
	nr_seen = 0;
	exec_sleep_ms = 0;
	vmm_stop = false;
	return api_queue__create(&q);
}

static int teardown(void **state)
{
	api_queue__destroy(q);
	q = NULL;
	return 0;
}

static void test_api_queue__call_answered(void **state)
{
	struct vmm_request req = { .type = VMM_REQ_GET_INFO };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, vmm_main, NULL), 0);
	assert_int_equal(api_queue__call(q, &req, &resp, 2000), 0);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(resp.info.uptime_ms, 1000 + VMM_REQ_GET_INFO);
	req.type = VMM_REQ_PAUSE;
	assert_int_equal(api_queue__call(q, &req, &resp, 2000), 0);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message, "already paused");
	vmm_stop = true;
	pthread_join(t, NULL);
	assert_int_equal(nr_seen, 2);
}

static void test_api_queue__eventfd_signals(void **state)
{
	struct pollfd p = { .fd = api_queue__fd(q), .events = POLLIN };
	struct vmm_request req = { .type = VMM_REQ_RESUME };

	assert_int_equal(poll(&p, 1, 0), 0);
	/* Nobody drains: the call times out and withdraws its request. */
	assert_int_equal(api_queue__call(q, &req, &resp, 50), -ETIMEDOUT);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(api_queue__drain(q, exec_record, NULL), 0);
	assert_int_equal(nr_seen, 0);
	/* Drain reset the eventfd. */
	assert_int_equal(poll(&p, 1, 0), 0);
}

struct caller {
	enum vmm_req_type type;
	int ret;
	struct vmm_response r;
	unsigned int timeout_ms;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct vmm_request req = { .type = c->type };

	c->ret = api_queue__call(q, &req, &c->r, c->timeout_ms);
	return NULL;
}

static void wait_pending(void)
{
	struct pollfd p = { .fd = api_queue__fd(q), .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
}

static void test_api_queue__fifo_order(void **state)
{
	struct caller c[3] = {
		{ .type = VMM_REQ_GET_INFO, .timeout_ms = 5000 },
		{ .type = VMM_REQ_RESUME, .timeout_ms = 5000 },
		{ .type = VMM_REQ_SHUTDOWN, .timeout_ms = 5000 },
	};
	pthread_t t[3];
	int i;

	/* Post one at a time so the order is known, then drain once. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, caller_main, &c[i]), 0);
		wait_pending();
		usleep(20 * 1000);
	}
	assert_int_equal(api_queue__drain(q, exec_record, NULL), 3);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].ret, 0);
		assert_int_equal(c[i].r.info.uptime_ms, 1000 + c[i].type);
		assert_int_equal(seen[i], c[i].type);
	}
}

static void test_api_queue__timeout_while_executing(void **state)
{
	struct caller c = { .type = VMM_REQ_GET_INFO, .timeout_ms = 50 };
	pthread_t t;

	exec_sleep_ms = 300;
	assert_int_equal(pthread_create(&t, NULL, caller_main, &c), 0);
	wait_pending();
	/* The caller gives up while the executor is still running. */
	assert_int_equal(api_queue__drain(q, exec_record, NULL), 1);
	pthread_join(t, NULL);
	assert_int_equal(c.ret, -ETIMEDOUT);
	assert_int_equal(nr_seen, 1);
}

static void test_api_queue__close_fails_pending(void **state)
{
	struct caller c = { .type = VMM_REQ_PAUSE, .timeout_ms = 5000 };
	struct vmm_request req = { .type = VMM_REQ_GET_INFO };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, caller_main, &c), 0);
	wait_pending();
	usleep(20 * 1000);
	api_queue__close(q);
	pthread_join(t, NULL);
	assert_int_equal(c.ret, 0);
	assert_int_equal(c.r.ret, -ESHUTDOWN);
	assert_int_equal(api_queue__call(q, &req, &resp, 1000), -ESHUTDOWN);
	assert_int_equal(api_queue__drain(q, exec_record, NULL), 0);
	api_queue__close(q); /* idempotent */
}

#define NR_THREADS 8
#define CALLS_PER_THREAD 200

static void *stress_main(void *arg)
{
	struct vmm_request req = { .type = VMM_REQ_GET_OPERATION };
	struct vmm_response *r = malloc(sizeof(*r));
	long ok = 0;
	int i;

	for (i = 0; r && i < CALLS_PER_THREAD; i++)
		if (api_queue__call(q, &req, r, 5000) == 0 &&
		    r->info.uptime_ms == 1000 + VMM_REQ_GET_OPERATION)
			ok++;
	free(r);
	return (void *)ok;
}

static void test_api_queue__many_callers(void **state)
{
	pthread_t vmm, t[NR_THREADS];
	long total = 0;
	void *ok;
	int i;

	assert_int_equal(pthread_create(&vmm, NULL, vmm_main, NULL), 0);
	for (i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, stress_main, NULL), 0);
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(t[i], &ok);
		total += (long)ok;
	}
	vmm_stop = true;
	pthread_join(vmm, NULL);
	assert_int_equal(total, NR_THREADS * CALLS_PER_THREAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_api_queue__call_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_queue__eventfd_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_queue__fifo_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_queue__timeout_while_executing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_queue__close_fails_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_queue__many_callers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
