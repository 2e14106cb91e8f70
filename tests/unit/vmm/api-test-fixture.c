/*
 * api-test-fixture.c: the shared fixture of the API server tests
 * (test-api.c, test-api-input.c): a temporary directory, an API server
 * on a socket in it, and a fake VMM thread that executes the queued
 * requests against a fake VM with a small device list.
 */
#include "api-test-fixture.h"

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
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/device-info.h"
#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/config.h"
#include "vmm/op-progress.h"
#include "vmm/request.h"

char tmpdir[] = "/tmp/ferry-test-api-XXXXXX";
char sock[128];
struct api *api;
char resp[TC_RESP_MAX];

/* The fake VMM thread and its VM. */
static pthread_t vmm_thread;
static volatile bool vmm_stop;
enum vm_state fake_state;
int fake_delay_ms;      /* atomic */
int shutdown_seen;      /* atomic */
unsigned int executed;  /* atomic */
pid_t hook_tid;

/*
 * The devices of the fake VM, as the VMM thread would describe them: a
 * legacy device, the host bridge, a healthy vfio-user device that can
 * migrate, and a failed kernel VFIO device with a blocker.
 */
static unsigned int fake_devices(struct device_info *d)
{
	memset(d, 0, 4 * sizeof(*d));
	strcpy(d[0].id, "serial0");
	strcpy(d[0].type, "serial-8250");
	strcpy(d[1].id, "pci0");
	strcpy(d[1].type, "pci-host");
	d[1].pci.present = true;
	strcpy(d[2].id, "vfio0");
	strcpy(d[2].type, "vfio-pci");
	d[2].pci = (struct device_info_pci){ .present = true, .slot = 0x1f,
					     .function = 0 };
	d[2].vfio.present = true;
	strcpy(d[2].vfio.backend, "vfio-user");
	strcpy(d[2].vfio.path, "/run/testdev.sock");
	d[2].vfio.mig_known = true;
	d[2].vfio.stop_copy = true;
	d[2].vfio.pre_copy = true;
	d[2].vfio.dirty_tracking = true;
	strcpy(d[3].id, "vfio1");
	strcpy(d[3].type, "vfio-pci");
	d[3].failed = -EIO;
	d[3].pci = (struct device_info_pci){ .present = true, .slot = 3 };
	d[3].vfio.present = true;
	strcpy(d[3].vfio.backend, "vfio");
	strcpy(d[3].vfio.path, "/dev/vfio/devices/vfio0");
	d[3].vfio.mig_known = true;
	strcpy(d[3].vfio.blocker, "vfio1: the device does not support migration");
	return 4;
}

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
		r->nr_devices = fake_devices(r->devices);
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

void start_api(unsigned int max_conns)
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

void stop_api(void)
{
	vmm_stop = true;
	pthread_join(vmm_thread, NULL);
	api_queue__close(api__queue(api));
	api__destroy(api);
	api = NULL;
}

int setup(void **state)
{
	start_api(0);
	return 0;
}

int setup_limit4(void **state)
{
	start_api(4);
	return 0;
}

int teardown(void **state)
{
	stop_api();
	return 0;
}

int group_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

int group_teardown(void **state)
{
	return rmdir(tmpdir);
}

int req(const char *method, const char *url, const char *ctype,
	       const char *body)
{
	return tc_request(sock, method, url, ctype, body, resp, sizeof(resp));
}

void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, hay);
}
