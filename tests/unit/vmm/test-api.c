/*
 * test-api.c: the API server in-process against a fake VMM thread that
 * executes queued requests: every endpoint, every class of bad input
 * (unknown path 404, wrong method 405, malformed JSON 400, wrong
 * content type 415, oversized body 413, VMM timeout 504, closed queue
 * 503), slow and half-open clients timed out, 50 concurrent clients,
 * the connection limit, the socket's mode and stale-socket handling,
 * and the shutdown reply reaching the client during teardown.
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

#include "api-test-client.h"
#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/config.h"
#include "vmm/op-progress.h"
#include "vmm/request.h"

static char tmpdir[] = "/tmp/ferry-test-api-XXXXXX";
static char sock[128];
static struct api *api;
static char resp[TC_RESP_MAX];

/* The fake VMM thread and its VM. */
static pthread_t vmm_thread;
static volatile bool vmm_stop;
static enum vm_state fake_state;
static int fake_delay_ms;      /* atomic */
static int shutdown_seen;      /* atomic */
static unsigned int executed;  /* atomic */
static pid_t hook_tid;

static void fake_exec(void *opaque, const struct vmm_request *req,
		      struct vmm_response *r)
{
	int delay = __atomic_load_n(&fake_delay_ms, __ATOMIC_ACQUIRE);

	if (delay)
		usleep((useconds_t)delay * 1000);
	__atomic_add_fetch(&executed, 1, __ATOMIC_ACQ_REL);
	switch (req->type) {
	case VMM_REQ_GET_INFO:
		r->info = (struct vm_info){ .state = fake_state,
					    .uptime_ms = 1234,
					    .vcpus = 2,
					    .mem_size = 64ULL << 20 };
		config__init(&r->config);
		strcpy(r->config.kernel, "/fake/kernel");
		r->config.vcpus = 2;
		r->config.mem_size = 64ULL << 20;
		break;
	case VMM_REQ_PAUSE:
		if (fake_state != VM_STATE_RUNNING) {
			r->ret = -EBUSY;
			snprintf(r->message, sizeof(r->message),
				 "cannot pause: the VM is %s",
				 vmm_state_name(fake_state));
			break;
		}
		fake_state = VM_STATE_PAUSED;
		r->info.state = fake_state;
		break;
	case VMM_REQ_RESUME:
		if (fake_state != VM_STATE_PAUSED) {
			r->ret = -EBUSY;
			snprintf(r->message, sizeof(r->message),
				 "cannot resume: the VM is %s",
				 vmm_state_name(fake_state));
			break;
		}
		fake_state = VM_STATE_RUNNING;
		r->info.state = fake_state;
		break;
	case VMM_REQ_SHUTDOWN:
		fake_state = VM_STATE_STOPPING;
		r->info.state = fake_state;
		__atomic_store_n(&shutdown_seen, 1, __ATOMIC_RELEASE);
		break;
	case VMM_REQ_SNAPSHOT_CREATE:
		/* Holds this thread 800 ms, longer than the 500 ms limit. */
		if (op_progress__begin(api__op_progress(api), "snapshot", 100)) {
			r->ret = -EBUSY;
			break;
		}
		usleep(400 * 1000);
		op_progress__update(api__op_progress(api), 50, 0);
		usleep(400 * 1000);
		if (strcmp(req->snapshot.path, "/exists") == 0)
			r->ret = -EEXIST;
		else if (strcmp(req->snapshot.path, "/full") == 0)
			r->ret = -ENOSPC;
		if (r->ret)
			snprintf(r->message, sizeof(r->message), "snapshot %.200s: %s%s",
				 req->snapshot.path, strerror(-r->ret),
				 req->snapshot.replace ? " (replace)" : "");
		op_progress__end(api__op_progress(api), r->ret, r->message);
		op_progress__get(api__op_progress(api), &r->op);
		break;
	default:
		r->ret = -ENOTSUP;
	}
}

static void *vmm_main(void *arg)
{
	struct pollfd p = { .fd = api_queue__fd(api__queue(api)),
			    .events = POLLIN };

	while (!vmm_stop) {
		if (poll(&p, 1, 20) > 0)
			api_queue__drain(api__queue(api), fake_exec, NULL);
	}
	return NULL;
}

static int hook(void *opaque)
{
	hook_tid = (pid_t)syscall(SYS_gettid);
	return 0;
}

static void start_api(unsigned int max_conns)
{
	struct api_params p = {
		.thread_start = hook,
		.conn_timeout_s = 1,
		.request_timeout_ms = 500,
		.max_conns = max_conns,
	};

	snprintf(sock, sizeof(sock), "%s/api.sock", tmpdir);
	assert_int_equal(api__create(sock, &api), 0);
	assert_int_equal(api__start(api, &p), 0);
	fake_state = VM_STATE_RUNNING;
	__atomic_store_n(&fake_delay_ms, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&shutdown_seen, 0, __ATOMIC_RELEASE);
	vmm_stop = false;
	assert_int_equal(pthread_create(&vmm_thread, NULL, vmm_main, NULL), 0);
}

static void stop_api(void)
{
	vmm_stop = true;
	pthread_join(vmm_thread, NULL);
	api_queue__close(api__queue(api));
	api__destroy(api);
	api = NULL;
}

static int setup(void **state)
{
	start_api(0);
	return 0;
}

static int setup_limit4(void **state)
{
	start_api(4);
	return 0;
}

static int teardown(void **state)
{
	stop_api();
	return 0;
}

static int group_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	return rmdir(tmpdir);
}

static int req(const char *method, const char *url, const char *ctype,
	       const char *body)
{
	return tc_request(sock, method, url, ctype, body, resp, sizeof(resp));
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void test_api__version(void **state)
{
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
	assert_contains(resp, "Content-Type: application/json");
	assert_contains(tc_body(resp), "\"name\": \"ferry\"");
	assert_contains(tc_body(resp), "\"api_version\": 1");
	assert_contains(tc_body(resp), "\"version\": \"");
	assert_int_equal(hook_tid != 0 && hook_tid != (pid_t)syscall(SYS_gettid), 1);
}

static void test_api__get_vm(void **state)
{
	assert_int_equal(req("GET", "/vm", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"running\"");
	assert_contains(tc_body(resp), "\"uptime_ms\": 1234");
	assert_contains(tc_body(resp), "\"vcpus\": 2");
	assert_contains(tc_body(resp), "\"memory\": 67108864");
	assert_contains(tc_body(resp), "\"kernel\": \"/fake/kernel\"");
}

static void test_api__pause_resume(void **state)
{
	assert_int_equal(req("PUT", "/vm/pause", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"paused\"");
	assert_int_equal(req("PUT", "/vm/pause", NULL, NULL), 409);
	assert_contains(tc_body(resp),
			"{\"error\":\"cannot pause: the VM is paused\"}");
	assert_int_equal(req("PUT", "/vm/resume", "application/json", "{}"), 200);
	assert_contains(tc_body(resp), "\"state\": \"running\"");
	assert_int_equal(req("PUT", "/vm/resume", NULL, NULL), 409);
	assert_contains(tc_body(resp), "cannot resume: the VM is running");
}

static void test_api__operation(void **state)
{
	struct op_progress *ops = api__op_progress(api);

	/* Served from the record by the API thread, not the VMM thread. */
	assert_int_equal(req("GET", "/vm/operation", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"none\"");
	assert_int_equal(op_progress__begin(ops, "snapshot", 200), 0);
	op_progress__update(ops, 50, 0);
	assert_int_equal(req("GET", "/vm/operation", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"running\"");
	assert_contains(tc_body(resp), "\"operation\": \"snapshot\"");
	assert_contains(tc_body(resp), "\"done_bytes\": 50");
	assert_contains(tc_body(resp), "\"total_bytes\": 200");
}

struct snap_call {
	const char *body;
	int status;
	char resp[TC_RESP_MAX];
};

static void *snap_thread(void *arg)
{
	struct snap_call *c = arg;

	c->status = tc_request(sock, "PUT", "/snapshot/create",
			       "application/json", c->body, c->resp,
			       sizeof(c->resp));
	return NULL;
}

static void test_api__snapshot_create(void **state)
{
	struct snap_call c = { .body = "{\"path\": \"/s\", \"replace\": true}" };
	unsigned int before = __atomic_load_n(&executed, __ATOMIC_ACQUIRE);
	char big[5000];
	pthread_t t;
	long t0;

	assert_int_equal(req("PUT", "/snapshot/create", NULL, NULL), 400);
	assert_contains(tc_body(resp), "a JSON body with path");
	assert_int_equal(req("PUT", "/snapshot/create", "application/json",
			     "{\"path\": 1}"), 400);
	assert_contains(tc_body(resp), "$.path: expected a string");
	assert_int_equal(req("PUT", "/snapshot/create", "application/json",
			     "{\"replace\": true}"), 400);
	assert_contains(tc_body(resp), "$.path: required");
	assert_int_equal(req("PUT", "/snapshot/create", "application/json",
			     "{\"path\": \"/s\", \"replace\": 1}"), 400);
	assert_contains(tc_body(resp), "$.replace: expected true or false");
	assert_int_equal(req("PUT", "/snapshot/create", "application/json",
			     "{\"path\": \"/s\", \"x\": 1}"), 400);
	assert_contains(tc_body(resp), "$.x: unknown key");
	memset(big, 'a', sizeof(big));
	memcpy(big, "{\"path\": \"/", 11);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	assert_int_equal(req("PUT", "/snapshot/create", "application/json",
			     big), 400);
	assert_contains(tc_body(resp), "$.path: expected 1 to 4095 bytes");
	/* Rejected by the API thread: never reached the VMM thread. */
	assert_int_equal(__atomic_load_n(&executed, __ATOMIC_ACQUIRE), before);

	/*
	 * 800 ms on the VMM thread: not cut off by the 500 ms request
	 * limit, and the API thread serves others meanwhile.
	 */
	assert_int_equal(pthread_create(&t, NULL, snap_thread, &c), 0);
	usleep(200 * 1000);
	t0 = tc_now_ms();
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
	assert_int_equal(req("GET", "/vm/operation", NULL, NULL), 200);
	assert_true(tc_now_ms() - t0 < 150);
	assert_contains(tc_body(resp), "\"state\": \"running\"");
	assert_contains(tc_body(resp), "\"total_bytes\": 100");
	pthread_join(t, NULL);
	assert_int_equal(c.status, 200);
	assert_contains(tc_body(c.resp), "\"state\": \"succeeded\"");
	assert_contains(tc_body(c.resp), "\"operation\": \"snapshot\"");
	assert_contains(tc_body(c.resp), "\"done_bytes\": 50");

	/* Errors map to statuses, with the VMM side's message. */
	c.body = "{\"path\": \"/exists\"}";
	snap_thread(&c);
	assert_int_equal(c.status, 409);
	assert_contains(tc_body(c.resp), "snapshot /exists: File exists");
	c.body = "{\"path\": \"/full\", \"replace\": true}";
	snap_thread(&c);
	assert_int_equal(c.status, 507);
	assert_contains(tc_body(c.resp), "No space left on device (replace)");
	assert_int_equal(req("GET", "/vm/operation", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"failed\"");
	assert_contains(tc_body(resp), "\"error\": \"snapshot /full: No space");
}

static void test_api__snapshot_after_close(void **state)
{
	struct snap_call c = { .body = "{\"path\": \"/s\"}" };

	/* The VMM side is gone: 503 at once, the connection not left hanging. */
	api_queue__close(api__queue(api));
	snap_thread(&c);
	assert_int_equal(c.status, 503);
	assert_contains(tc_body(c.resp), "shutting down");
}

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

static void test_api__vmm_timeout(void **state)
{
	long t0;

	__atomic_store_n(&fake_delay_ms, 1500, __ATOMIC_RELEASE);
	t0 = tc_now_ms();
	assert_int_equal(req("PUT", "/vm/pause", NULL, NULL), 504);
	assert_contains(tc_body(resp), "the VMM did not answer within 500 ms");
	assert_true(tc_now_ms() - t0 < 1400);
	__atomic_store_n(&fake_delay_ms, 0, __ATOMIC_RELEASE);
	/* The abandoned pause still runs to completion on the VMM side. */
	usleep(1500 * 1000);
	assert_int_equal(req("GET", "/vm", NULL, NULL), 200);
	assert_contains(tc_body(resp), "\"state\": \"paused\"");
}

static void test_api__queue_closed(void **state)
{
	api_queue__close(api__queue(api));
	assert_int_equal(req("GET", "/vm", NULL, NULL), 503);
	assert_contains(tc_body(resp), "shutting down");
	/* Local endpoints still answer. */
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

static void test_api__socket_file(void **state)
{
	struct api *other;
	struct stat st;

	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live socket is never replaced. */
	assert_int_equal(api__create(sock, &other), -EADDRINUSE);
	assert_int_equal(req("GET", "/version", NULL, NULL), 200);
}

static void test_api__create_errors(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[200], lng[200];
	struct api *a;
	struct stat st;
	FILE *f;
	int fd;

	/* A stale socket (bound, never served) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", tmpdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(api__create(path, &a), 0);
	api__destroy(a); /* never started: still removes the path */
	assert_int_equal(stat(path, &st), -1);

	/* A regular file is never replaced. */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(api__create(path, &a), -EEXIST);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);

	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(api__create(lng, &a), -ENAMETOOLONG);
	assert_int_equal(api__create("", &a), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "%s/no/such/dir.sock", tmpdir);
	assert_int_equal(api__create(path, &a), -ENOENT);
	api__destroy(NULL);
}

static void *shutdown_client(void *arg)
{
	char *buf = malloc(TC_RESP_MAX);
	long st = tc_request(sock, "PUT", "/vm/shutdown", NULL, NULL, buf,
			     TC_RESP_MAX);

	if (st == 200 && !strstr(buf, "\"state\": \"stopping\""))
		st = -1;
	free(buf);
	return (void *)st;
}

static void test_api__shutdown_reply_survives_teardown(void **state)
{
	pthread_t t;
	void *st;
	struct stat sb;

	assert_int_equal(pthread_create(&t, NULL, shutdown_client, NULL), 0);
	while (!__atomic_load_n(&shutdown_seen, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* What vmm/main.c does as soon as the VM has stopped. */
	stop_api();
	pthread_join(t, &st);
	assert_int_equal((long)st, 200);
	assert_int_equal(stat(sock, &sb), -1);
	assert_int_equal(errno, ENOENT);
	start_api(0); /* for the teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_api__version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__get_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__snapshot_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__snapshot_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__unknown_path_and_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__garbage_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__slow_and_half_open_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__concurrent_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__connection_limit, setup_limit4, teardown),
		cmocka_unit_test_setup_teardown(test_api__vmm_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__queue_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__socket_file, setup, teardown),
		cmocka_unit_test(test_api__create_errors),
		cmocka_unit_test_setup_teardown(test_api__shutdown_reply_survives_teardown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
