/*
 * test-api-ferryctl.c: ferryctl against the in-process API server with
 * a fake VMM thread (no /dev/kvm needed): every command's human and
 * --json output, server errors (exit 1 with the server's message),
 * unreachable sockets (exit 3), usage errors (exit 2), `ferryctl config`
 * output loadable by `ferry --config`, the progress display of
 * `ferryctl wait` following a simulated long-running operation, and
 * `ferryctl snapshot create` (whose request holds the fake VMM thread
 * for 400 ms while the progress is polled from the operation record on
 * the API thread). Also the progress line formatter on its own.
 * argv[1]: the ferryctl binary.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "progress.h"
#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/config-json.h"
#include "vmm/config.h"
#include "vmm/op-progress.h"
#include "vmm/request.h"
#include "vmm/util.h"

static const char *ferryctl;
static char tmpdir[] = "/tmp/ferry-test-ferryctl-XXXXXX";
static char sock[128];
static struct api *api;
static pthread_t vmm_thread;
static volatile bool vmm_stop;
static enum vm_state fake_state;
static char out[65536], err[8192];
static char snap_path[4096]; /* the last PUT /snapshot/create's path */

/*
 * A simulated long operation in the API's record: 1 GiB in four steps
 * of 25 % every 100 ms, then success or ENOSPC. Begun by the caller.
 */
static int simulate_op(bool fail)
{
	struct op_progress *ops = api__op_progress(api);
	unsigned int i;

	for (i = 1; i <= 4; i++) {
		usleep(100 * 1000);
		op_progress__update(ops, (uint64_t)i << 28, 0);
	}
	op_progress__end(ops, fail ? -ENOSPC : 0,
			 fail ? "No space left on device" : NULL);
	return fail ? -ENOSPC : 0;
}

static void *simulate_thread(void *arg)
{
	simulate_op(arg != NULL);
	return NULL;
}

static void fake_exec(void *opaque, const struct vmm_request *req,
		      struct vmm_response *r)
{
	switch (req->type) {
	case VMM_REQ_GET_INFO:
		r->info = (struct vm_info){ .state = fake_state,
					    .uptime_ms = 61500,
					    .vcpus = 2,
					    .mem_size = 64ULL << 20 };
		config__init(&r->config);
		strcpy(r->config.kernel, "/fake/guest.elf");
		strcpy(r->config.cmdline, "mode=memtest mem=64M");
		r->config.vcpus = 2;
		r->config.mem_size = 64ULL << 20;
		r->config.serial = SERIAL_NONE;
		r->nr_devices = 2;
		strcpy(r->devices[0].id, "serial0");
		strcpy(r->devices[0].type, "serial-8250");
		strcpy(r->devices[1].id, "vfio0");
		strcpy(r->devices[1].type, "vfio-pci");
		r->devices[1].failed = -EIO;
		r->devices[1].pci.present = true;
		r->devices[1].pci.slot = 2;
		r->devices[1].vfio.present = true;
		strcpy(r->devices[1].vfio.backend, "vfio-user");
		strcpy(r->devices[1].vfio.path, "/run/dev.sock");
		r->devices[1].vfio.mig_known = true;
		r->devices[1].vfio.stop_copy = true;
		r->devices[1].vfio.p2p = true;
		break;
	case VMM_REQ_PAUSE:
		if (fake_state != VM_STATE_RUNNING) {
			r->ret = -EBUSY;
			snprintf(r->message, sizeof(r->message),
				 "cannot pause: the VM is %s",
				 vmm_state_name(fake_state));
		} else {
			fake_state = VM_STATE_PAUSED;
		}
		r->info.state = fake_state;
		break;
	case VMM_REQ_RESUME:
		fake_state = VM_STATE_RUNNING;
		r->info.state = fake_state;
		break;
	case VMM_REQ_SHUTDOWN:
		r->info.state = VM_STATE_STOPPING;
		break;
	case VMM_REQ_SNAPSHOT_CREATE:
		/* Like control.c: holds this (VMM) thread until it is done. */
		snprintf(snap_path, sizeof(snap_path), "%s", req->snapshot.path);
		if (op_progress__begin(api__op_progress(api), "snapshot",
				       1ULL << 30)) {
			r->ret = -EBUSY;
			break;
		}
		r->ret = simulate_op(strstr(req->snapshot.path, "full") != NULL);
		if (r->ret)
			snprintf(r->message, sizeof(r->message),
				 "snapshot %.200s: No space left on device",
				 req->snapshot.path);
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

	while (!vmm_stop)
		if (poll(&p, 1, 20) > 0)
			api_queue__drain(api__queue(api), fake_exec, NULL);
	return NULL;
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/api.sock", tmpdir);
	if (api__create(sock, &api) || api__start(api, NULL))
		return -1;
	fake_state = VM_STATE_RUNNING;
	return pthread_create(&vmm_thread, NULL, vmm_main, NULL);
}

static int teardown(void **state)
{
	char cmd[256];

	vmm_stop = true;
	pthread_join(vmm_thread, NULL);
	api_queue__close(api__queue(api));
	api__destroy(api);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Run ferryctl with @args; returns its exit status, output in out/err. */
static int __attribute__((format(printf, 1, 2))) ctl(const char *fmt, ...)
{
	char args[512], cmd[2048], o[200], e[200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(o, sizeof(o), "%s/out", tmpdir);
	snprintf(e, sizeof(e), "%s/err", tmpdir);
	snprintf(cmd, sizeof(cmd), "'%s' %s >'%s' 2>'%s' </dev/null",
		 ferryctl, args, o, e);
	st = system(cmd);
	slurp(o, out, sizeof(out));
	slurp(e, err, sizeof(err));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void test_ferryctl__status(void **state)
{
	assert_int_equal(ctl("--api-sock %s status", sock), 0);
	assert_contains(out, "state:    running\n");
	assert_contains(out, "uptime:   1m01s\n");
	assert_contains(out, "vcpus:    2\n");
	assert_contains(out, "memory:   64 MiB\n");
	assert_contains(out, "kernel:   /fake/guest.elf\n");
	assert_contains(out, "cmdline:  mode=memtest mem=64M\n");
	assert_contains(out, "device:   serial0 serial-8250\n");
	assert_contains(out, "device:   vfio0 vfio-pci pci 0000:00:02.0 vfio-user "
			     "/run/dev.sock migration: stop_copy p2p FAILED: "
			     "Input/output error\n");
	assert_int_equal(ctl("--api-sock %s --json status", sock), 0);
	assert_contains(out, "\"state\": \"running\"");
	assert_contains(out, "\"config\": {");
	/* The environment variable works instead of --api-sock. */
	setenv("FERRY_API_SOCK", sock, 1);
	assert_int_equal(ctl("version"), 0);
	assert_contains(out, "(API version 1)");
	unsetenv("FERRY_API_SOCK");
}

static void test_ferryctl__pause_resume_shutdown(void **state)
{
	assert_int_equal(ctl("--api-sock %s pause", sock), 0);
	assert_string_equal(out, "VM paused\n");
	assert_int_equal(ctl("--api-sock %s pause", sock), 1);
	assert_string_equal(err, "ferryctl: cannot pause: the VM is paused (HTTP 409)\n");
	assert_int_equal(ctl("--api-sock %s --json pause", sock), 1);
	assert_contains(out, "\"error\": \"cannot pause: the VM is paused\"");
	assert_int_equal(ctl("--api-sock %s resume", sock), 0);
	assert_string_equal(out, "VM resumed\n");
	assert_int_equal(ctl("--api-sock %s --json resume", sock), 0);
	assert_contains(out, "\"state\": \"running\"");
	assert_int_equal(ctl("--api-sock %s shutdown", sock), 0);
	assert_string_equal(out, "VM shutting down\n");
}

static void test_ferryctl__version(void **state)
{
	assert_int_equal(ctl("--api-sock %s version", sock), 0);
	assert_contains(out, "ferry ");
	assert_contains(out, "(API version 1)");
	assert_int_equal(ctl("--version"), 0);
	assert_contains(out, "ferryctl ");
	assert_int_equal(ctl("--help"), 0);
	assert_contains(out, "Exit status");
}

static void test_ferryctl__config_reusable(void **state)
{
	struct vm_config cfg;
	char path[256], msg[256];
	FILE *f;

	assert_int_equal(ctl("--api-sock %s config", sock), 0);
	snprintf(path, sizeof(path), "%s/saved.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
	config__init(&cfg);
	assert_int_equal(config__load_json(&cfg, path, msg, sizeof(msg)), 0);
	assert_string_equal(cfg.kernel, "/fake/guest.elf");
	assert_string_equal(cfg.cmdline, "mode=memtest mem=64M");
	assert_int_equal(cfg.vcpus, 2);
	assert_int_equal(cfg.mem_size, 64ULL << 20);
	assert_int_equal(cfg.serial, SERIAL_NONE);
}

static void test_ferryctl__errors(void **state)
{
	assert_int_equal(ctl("--api-sock %s/none.sock status", tmpdir), 3);
	assert_contains(err, "cannot reach ferry");
	assert_contains(err, "No such file or directory");
	assert_int_equal(ctl("--api-sock %s frobnicate", sock), 2);
	assert_contains(err, "unknown command 'frobnicate'");
	assert_int_equal(ctl("status"), 2);
	assert_contains(err, "--api-sock PATH is required");
	assert_int_equal(ctl("--api-sock %s", sock), 2);
	assert_int_equal(ctl("--api-sock %s --timeout 0 status", sock), 2);
	assert_int_equal(ctl("--bogus"), 2);
}

/* Run `ferryctl wait` (with @json) against a simulated operation. */
static int wait_for_sim(bool fail, bool json)
{
	pthread_t t;
	int ret;

	assert_int_equal(op_progress__begin(api__op_progress(api), "snapshot",
					    1ULL << 30), 0);
	assert_int_equal(pthread_create(&t, NULL, simulate_thread,
					fail ? (void *)1 : NULL), 0);
	ret = ctl("--api-sock %s %swait", sock, json ? "--json " : "");
	pthread_join(t, NULL);
	return ret;
}

static void test_ferryctl__wait_progress(void **state)
{
	/* First test touching the record: no operation yet. */
	assert_int_equal(ctl("--api-sock %s wait", sock), 0);
	assert_contains(out, "no long-running operation has run");

	assert_int_equal(wait_for_sim(false, false), 0);
	/* Not a terminal: progress lines, then the final one. */
	assert_contains(out, "snapshot [");
	assert_contains(out, "snapshot [##############################] 100%  1.0 GiB / 1.0 GiB");
	assert_contains(out, "done in 0s");

	assert_int_equal(wait_for_sim(true, false), 1);
	assert_contains(err, "ferryctl: snapshot failed: No space left on device");

	assert_int_equal(wait_for_sim(false, true), 0);
	/* One JSON line per poll, the last one final. */
	assert_contains(out, "\"state\":\"running\"");
	assert_contains(out, "\"state\":\"succeeded\"");
}

static void test_ferryctl__snapshot_create(void **state)
{
	char cwd[4096], want[8192];

	/* Progress from the record while the request holds the VMM thread. */
	assert_int_equal(ctl("--api-sock %s snapshot create %s/snap", sock,
			     tmpdir), 0);
	assert_string_equal(snap_path + strlen(tmpdir), "/snap");
	assert_contains(out, "snapshot [");
	assert_contains(out, " / 1.0 GiB");
	assert_contains(out, "snapshot saved to ");
	assert_contains(out, "/snap: 1.00 GiB in 0.");

	/* A relative path is made absolute against ferryctl's directory. */
	assert_int_equal(ctl("--api-sock %s snapshot create rel --replace", sock), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/rel", cwd);
	assert_string_equal(snap_path, want);

	assert_int_equal(ctl("--api-sock %s snapshot create %s/full", sock,
			     tmpdir), 1);
	assert_contains(err, "/full: No space left on device (HTTP 507)");

	assert_int_equal(ctl("--api-sock %s --json snapshot create %s/j", sock,
			     tmpdir), 0);
	assert_contains(out, "\"state\": \"succeeded\"");
	assert_contains(out, "\"total_bytes\": 1073741824");

	assert_int_equal(ctl("--api-sock %s snapshot create", sock), 2);
	assert_int_equal(ctl("--api-sock %s snapshot frob x", sock), 2);
	assert_int_equal(ctl("snapshot create x"), 2);
	assert_contains(err, "--api-sock PATH is required");
	assert_int_equal(ctl("--api-sock %s --replace status", sock), 2);
	/* inspect needs no server; a directory that is no snapshot: 1. */
	assert_int_equal(ctl("snapshot inspect %s", tmpdir), 1);
	assert_contains(err, "invalid snapshot");
	assert_contains(err, "MANIFEST");
}

static void test_ferryctl__progress_format(void **state)
{
	struct progress_sample s = { .name = "migrate",
				     .done_bytes = 256ULL << 20,
				     .total_bytes = 1ULL << 30 };
	char line[256];

	progress__format(line, sizeof(line), &s, 64.0 * (1 << 20), 20);
	assert_string_equal(line, "migrate [#####...............]  25%  256.0 MiB / 1.0 GiB  64.0 MiB/s  12s left");
	s.total_bytes = 0; /* unknown total: no bar, no ETA */
	progress__format(line, sizeof(line), &s, 0, 20);
	assert_string_equal(line, "migrate 256.0 MiB");
	s.total_bytes = 1ULL << 40;
	s.done_bytes = 0;
	progress__format(line, sizeof(line), &s, 100.0 * (1 << 20), 10);
	assert_string_equal(line, "migrate [..........]   0%  0 B / 1.0 TiB  100.0 MiB/s  2h54m left");
	/* A tiny buffer is cut, never overrun. */
	progress__format(line, 8, &s, 1, 10);
	assert_int_equal(strlen(line), 7);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ferryctl__status),
		cmocka_unit_test(test_ferryctl__pause_resume_shutdown),
		cmocka_unit_test(test_ferryctl__version),
		cmocka_unit_test(test_ferryctl__config_reusable),
		cmocka_unit_test(test_ferryctl__errors),
		cmocka_unit_test(test_ferryctl__wait_progress),
		cmocka_unit_test(test_ferryctl__snapshot_create),
		cmocka_unit_test(test_ferryctl__progress_format),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-FERRYCTL\n", argv[0]);
		return 2;
	}
	ferryctl = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
