/*
 * test-api-input.c: the API server in-process (api-test-fixture.h)
 * against every class of bad input and abusive client: unknown path
 * 404, wrong method 405, malformed JSON 400, wrong content type 415,
 * oversized body 413 (declared or chunked), garbage instead of HTTP,
 * slow and half-open clients timed out, 50 concurrent clients, and the
 * connection limit. The well-behaved endpoints are in test-api.c.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "api-test-fixture.h"

static void test_api__unknown_path_and_method(void **state)
{
	assert_int_equal(req("GET", "/nope", NULL, NULL), 404);
	assert_contains(tc_body(resp), "{\"error\":\"no such endpoint: /nope\"}");
	assert_int_equal(req("GET", "/vm/", NULL, NULL), 404);
	assert_int_equal(req("GET", "/", NULL, NULL), 404);
	assert_int_equal(req("POST", "/vm", "application/json", "{}"), 405);
	assert_contains(resp, "Allow: GET");
	assert_contains(tc_body(resp), "POST is not allowed on /vm (use GET)");
	assert_int_equal(req("GET", "/vm/pause", NULL, NULL), 405);
	assert_contains(resp, "Allow: PUT");
	assert_int_equal(req("DELETE", "/version", NULL, NULL), 405);
	/* Nothing was sent to the VMM for any of these. */
	assert_int_equal(req("GET", "/vm", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"running\"");
}

static void test_api__bad_bodies(void **state)
{
	unsigned int before = __atomic_load_n(&executed, __ATOMIC_ACQUIRE);

	assert_int_equal(req("PUT", "/vm/pause", "application/json", "{"), 400);
	assert_contains(tc_body(resp), "malformed JSON");
	assert_int_equal(req("PUT", "/vm/pause", "application/json", "{\"a\":1,}"), 400);
	assert_contains(tc_body(resp), "malformed JSON at byte");
	assert_int_equal(req("PUT", "/vm/pause", "application/json", "{} x"), 400);
	assert_int_equal(req("PUT", "/vm/pause", "application/json", "[]"), 400);
	assert_contains(tc_body(resp), "expected a JSON object");
	assert_int_equal(req("PUT", "/vm/pause", "application/json",
			     "{\"force\": true}"), 400);
	assert_contains(tc_body(resp), "$.force: unknown key");
	assert_int_equal(req("PUT", "/vm/pause", "text/plain", "{}"), 415);
	assert_contains(tc_body(resp), "must be application/json (got text/plain)");
	assert_int_equal(req("PUT", "/vm/pause", NULL, "{}"), 415);
	assert_int_equal(req("PUT", "/vm/pause", "application/jsonx", "{}"), 415);
	assert_int_equal(__atomic_load_n(&executed, __ATOMIC_ACQUIRE), before);
	/* Parameters on the content type are fine. */
	assert_int_equal(req("PUT", "/vm/pause",
			     "application/json; charset=utf-8", "{}"), 200);
}

static void test_api__oversized(void **state)
{
	const char *head = "PUT /vm/pause HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 100000\r\n\r\n{";
	char chunk[4200];
	long t0, got;
	int fd, i;

	/* Declared too large: refused before the body is read. */
	fd = tc_connect(sock);
	assert_true(fd >= 0);
	assert_int_equal(tc_send(fd, head, strlen(head)), 0);
	t0 = tc_now_ms();
	got = tc_recv_all(fd, resp, sizeof(resp), 3000);
	assert_true(got > 0);
	assert_true(tc_now_ms() - t0 < 900); /* not the 1 s idle timeout */
	close(fd);
	assert_contains(resp, "HTTP/1.1 413");
	assert_contains(tc_body(resp), "request body larger than 65536 bytes");

	/* Chunked, so no length up front: cut off once over the cap. */
	fd = tc_connect(sock);
	assert_true(fd >= 0);
	head = "PUT /vm/pause HTTP/1.1\r\nHost: x\r\n"
	       "Content-Type: application/json\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n";
	assert_int_equal(tc_send(fd, head, strlen(head)), 0);
	memset(chunk, ' ', sizeof(chunk));
	memcpy(chunk, "1000\r\n", 6);
	memcpy(chunk + 6 + 4096, "\r\n", 2);
	for (i = 0; i < 20; i++) /* 80 KiB */
		assert_int_equal(tc_send(fd, chunk, 6 + 4096 + 2), 0);
	assert_int_equal(tc_send(fd, "0\r\n\r\n", 5), 0);
	got = tc_recv_all(fd, resp, sizeof(resp), 3000);
	close(fd);
	assert_true(got > 0);
	assert_contains(resp, "HTTP/1.1 413");
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

static void test_api__garbage_request(void **state)
{
	const char *junk[] = {
		"HELLO\r\n\r\n",
		"GET /version HTTP/9.9\r\n\r\n",
		"\x01\x02\x03\x04\r\n\r\n",
		"GET /version HTTP/1.1\r\nno colon here\r\n\r\n",
	};
	size_t i;
	long got;
	int fd;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		fd = tc_connect(sock);
		assert_true(fd >= 0);
		assert_int_equal(tc_send(fd, junk[i], strlen(junk[i])), 0);
		got = tc_recv_all(fd, resp, sizeof(resp), 3000);
		close(fd);
		/* An error status or a dropped connection, never a hang. */
		assert_true(got >= 0);
		if (got > 0 && strncmp(resp, "HTTP/1.1 4", 10) != 0 &&
		    strncmp(resp, "HTTP/1.1 505", 12) != 0)
			fail_msg("junk %zu answered: %.40s", i, resp);
	}
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

static void test_api__slow_and_half_open_clients(void **state)
{
	const char *partial = "GET /version HTTP/1.1\r\nHost: x\r\n";
	int slow, idle;
	long t0, got;

	slow = tc_connect(sock);
	idle = tc_connect(sock);
	assert_true(slow >= 0 && idle >= 0);
	assert_int_equal(tc_send(slow, partial, strlen(partial)), 0);
	t0 = tc_now_ms();
	/* Others are served while those two dawdle. */
	assert_int_equal(req("GET", "/vm", NULL, NULL), 200);
	assert_true(tc_now_ms() - t0 < 500);
	/* Both are dropped after the 1 s idle timeout. */
	got = tc_recv_all(slow, resp, sizeof(resp), 5000);
	assert_true(got >= 0);
	got = tc_recv_all(idle, resp, sizeof(resp), 5000);
	assert_int_equal(got, 0);
	assert_true(tc_now_ms() - t0 >= 900);
	assert_true(tc_now_ms() - t0 < 4000);
	close(slow);
	close(idle);
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

#define NR_CLIENTS 50
#define REQS_PER_CLIENT 5

static void *client_main(void *arg)
{
	char *buf = malloc(TC_RESP_MAX);
	long ok = 0;
	int i;

	for (i = 0; buf && i < REQS_PER_CLIENT; i++)
		if (tc_request(sock, "GET", "/vm", NULL, NULL, buf,
			       TC_RESP_MAX) == 200 &&
		    strstr(buf, "\"kernel\": \"/fake/kernel\""))
			ok++;
	free(buf);
	return (void *)ok;
}

static void test_api__concurrent_clients(void **state)
{
	pthread_t t[NR_CLIENTS];
	long total = 0;
	void *ok;
	int i;

	for (i = 0; i < NR_CLIENTS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, client_main, NULL), 0);
	for (i = 0; i < NR_CLIENTS; i++) {
		pthread_join(t[i], &ok);
		total += (long)ok;
	}
	assert_int_equal(total, NR_CLIENTS * REQS_PER_CLIENT);
}

static void test_api__connection_limit(void **state)
{
	const char *get = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int held[4], extra, i;
	long got, t0;

	for (i = 0; i < 4; i++) {
		held[i] = tc_connect(sock);
		assert_true(held[i] >= 0);
	}
	usleep(100 * 1000); /* let the server accept them */
	/* The fifth waits in the listen backlog: no answer yet... */
	t0 = tc_now_ms();
	extra = tc_connect(sock);
	assert_true(extra >= 0);
	assert_int_equal(tc_send(extra, get, strlen(get)), 0);
	got = tc_recv_all(extra, resp, sizeof(resp), 500);
	assert_int_equal(got, -ETIMEDOUT);
	/* ...until the idle ones time out (1 s) and free their slots. */
	got = tc_recv_all(extra, resp, sizeof(resp), 5000);
	assert_true(got > 0);
	assert_contains(resp, "HTTP/1.1 200");
	assert_true(tc_now_ms() - t0 >= 800);
	close(extra);
	for (i = 0; i < 4; i++) {
		/* Dropped by the server without a response. */
		assert_int_equal(tc_recv_all(held[i], resp, sizeof(resp), 1000), 0);
		close(held[i]);
	}
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_api__unknown_path_and_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__garbage_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__slow_and_half_open_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__concurrent_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__connection_limit, setup_limit4, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
