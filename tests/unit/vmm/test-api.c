/*
 * test-api.c: the API server in-process against a fake VMM thread that
 * executes queued requests (api-test-fixture.h): every endpoint and its
 * reply, including the device list of GET /vm checked member by member,
 * snapshot requests running long on the VMM thread, a VMM that does not
 * answer in time (504) or is gone (503), the socket's mode and
 * stale-socket handling, and the shutdown reply reaching the client
 * during teardown. Bad input and abusive clients: test-api-input.c.
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

#include <json-c/json.h>

#include "api-test-fixture.h"
#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/op-progress.h"

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

/* The device list: every field of every kind of entry, parsed as JSON. */
static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member \"%s\" in %s", key,
			 json_object_to_json_string(o));
	return v;
}

static void assert_str(struct json_object *o, const char *key,
		       const char *want)
{
	struct json_object *v = get(o, key);

	assert_true(json_object_is_type(v, json_type_string));
	assert_string_equal(json_object_get_string(v), want);
}

static void assert_bool(struct json_object *o, const char *key, bool want)
{
	struct json_object *v = get(o, key);

	assert_true(json_object_is_type(v, json_type_boolean));
	assert_int_equal(json_object_get_boolean(v), want);
}

static void test_api__get_vm_devices(void **state)
{
	struct json_object *root, *devs, *d, *vfio, *mig;

	assert_int_equal(req("GET", "/vm", NULL, NULL), 200);
	root = json_tokener_parse(tc_body(resp));
	assert_non_null(root);
	devs = get(root, "devices");
	assert_true(json_object_is_type(devs, json_type_array));
	assert_int_equal(json_object_array_length(devs), 4);

	/* A legacy device: id, type, health, nothing else. */
	d = json_object_array_get_idx(devs, 0);
	assert_str(d, "id", "serial0");
	assert_str(d, "type", "serial-8250");
	assert_bool(d, "failed", false);
	assert_int_equal(json_object_object_length(d), 3);

	d = json_object_array_get_idx(devs, 1);
	assert_str(d, "id", "pci0");
	assert_str(d, "type", "pci-host");
	assert_str(d, "pci", "0000:00:00.0");
	assert_false(json_object_object_get_ex(d, "vfio", NULL));

	/* vfio-user, healthy, migratable: blocker is null. */
	d = json_object_array_get_idx(devs, 2);
	assert_str(d, "id", "vfio0");
	assert_str(d, "type", "vfio-pci");
	assert_bool(d, "failed", false);
	assert_false(json_object_object_get_ex(d, "error", NULL));
	assert_str(d, "pci", "0000:00:1f.0");
	vfio = get(d, "vfio");
	assert_str(vfio, "backend", "vfio-user");
	assert_str(vfio, "path", "/run/testdev.sock");
	mig = get(vfio, "migration");
	assert_bool(mig, "stop_copy", true);
	assert_bool(mig, "pre_copy", true);
	assert_bool(mig, "p2p", false);
	assert_bool(mig, "dirty_tracking", true);
	assert_null(get(mig, "blocker"));

	/* Kernel VFIO, failed, blocked. */
	d = json_object_array_get_idx(devs, 3);
	assert_str(d, "id", "vfio1");
	assert_bool(d, "failed", true);
	assert_str(d, "error", "Input/output error");
	assert_str(d, "pci", "0000:00:03.0");
	vfio = get(d, "vfio");
	assert_str(vfio, "backend", "vfio");
	assert_str(vfio, "path", "/dev/vfio/devices/vfio0");
	mig = get(vfio, "migration");
	assert_bool(mig, "stop_copy", false);
	assert_bool(mig, "pre_copy", false);
	assert_str(mig, "blocker", "vfio1: the device does not support migration");

	/* The other members are still there. */
	assert_str(root, "state", "running");
	assert_str(get(root, "config"), "kernel", "/fake/kernel");
	json_object_put(root);
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
		cmocka_unit_test_setup_teardown(test_api__get_vm_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__snapshot_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__snapshot_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__vmm_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__queue_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api__socket_file, setup, teardown),
		cmocka_unit_test(test_api__create_errors),
		cmocka_unit_test_setup_teardown(test_api__shutdown_reply_survives_teardown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
