/*
 * test-control.c: the VMM-thread executor against a fake VM (this file
 * defines the vm__*, event__* and control__describe_devices functions
 * control.c calls): state preconditions answer -EBUSY with the reason,
 * shutdown requests an orderly stop, GET /vm copies the configuration
 * and the device list, the operation record tracks progress, a snapshot request checks its preconditions and
 * reports vm__snapshot's result and progress (a fake vm__snapshot, run
 * on a real migration worker thread with seccomp off), and
 * attach/detach wire the API queue to the event
 * loop (a request posted through a real API object is executed when
 * the loop's callback runs; after detach it is refused).
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
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/config.h"
#include "devices/device-info.h"
#include "vmm/control-devices.h"
#include "vmm/control.h"
#include "vmm/event.h"
#include "seccomp/sandbox.h"
#include "vmm/op-progress.h"
#include "vmm/request.h"
#include "vmm/vm-snapshot.h"
#include "vmm/vm.h"

/* --- fake VM and event loop --- */
static struct {
	enum vm_state state;
	int pause_ret;
	unsigned int pauses, resumes, stops;
	enum vm_stop_reason stop_reason;
	struct vm_config cfg;
} fake;

static struct {
	int ret;
	unsigned int calls;
	char path[64];
	bool replace;
	pthread_t thread;
	struct vmm_op_progress mid; /* the record seen during the save */
} fake_snap;

static struct api *api;

int vm__snapshot(struct vm *vm, const char *dir, bool replace,
		 vm_progress_fn progress, void *opaque, char *err,
		 size_t errlen)
{
	fake_snap.calls++;
	fake_snap.thread = pthread_self();
	snprintf(fake_snap.path, sizeof(fake_snap.path), "%s", dir);
	fake_snap.replace = replace;
	progress(opaque, 300, 1000);
	op_progress__get(api__op_progress(api), &fake_snap.mid);
	if (fake_snap.ret)
		snprintf(err, errlen, "snapshot %s: disk full", dir);
	return fake_snap.ret;
}

static struct {
	int fd;
	event_fn cb;
	void *opaque;
	unsigned int adds, dels;
} loop_reg;

void vm__get_info(struct vm *vm, struct vm_info *info)
{
	info->state = fake.state;
	info->uptime_ms = 42;
	info->vcpus = fake.cfg.vcpus;
	info->mem_size = fake.cfg.mem_size;
}

int vm__pause(struct vm *vm)
{
	fake.pauses++;
	if (fake.pause_ret)
		return fake.pause_ret;
	fake.state = VM_STATE_PAUSED;
	return 0;
}

int vm__resume(struct vm *vm)
{
	fake.resumes++;
	fake.state = VM_STATE_RUNNING;
	return 0;
}

void vm__request_stop(struct vm *vm, enum vm_stop_reason reason, int status)
{
	fake.stops++;
	fake.stop_reason = reason;
}

const struct vm_config *vm__config(const struct vm *vm)
{
	return &fake.cfg;
}

/* The real one walks struct vm; test-control-devices.c tests it. */
unsigned int control__describe_devices(struct vm *vm, struct device_info *out,
				       unsigned int max)
{
	assert_true(max >= 2);
	memset(out, 0, 2 * sizeof(*out));
	strcpy(out[0].id, "serial0");
	strcpy(out[0].type, "serial-8250");
	strcpy(out[1].id, "vfio0");
	strcpy(out[1].type, "vfio-pci");
	out[1].vfio.present = true;
	return 2;
}

struct event_loop *vm__event_loop(struct vm *vm)
{
	return (struct event_loop *)&loop_reg;
}

int event__add(struct event_loop *loop, int fd, uint32_t events, event_fn cb,
	       void *opaque)
{
	loop_reg.fd = fd;
	loop_reg.cb = cb;
	loop_reg.opaque = opaque;
	loop_reg.adds++;
	return 0;
}

int event__del(struct event_loop *loop, int fd)
{
	assert_int_equal(fd, loop_reg.fd);
	loop_reg.dels++;
	return 0;
}

/* --- tests --- */
static char tmpdir[] = "/tmp/ferry-test-control-XXXXXX";
static struct vm *const vm = (struct vm *)&fake;
static struct control *ctl;
static struct vmm_response resp;

static int setup(void **state)
{
	char path[128];

	memset(&fake, 0, sizeof(fake));
	memset(&fake_snap, 0, sizeof(fake_snap));
	memset(&loop_reg, 0, sizeof(loop_reg));
	config__init(&fake.cfg);
	strcpy(fake.cfg.kernel, "/guest.elf");
	fake.cfg.vcpus = 2;
	fake.state = VM_STATE_RUNNING;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	if (api__create(path, &api))
		return -1;
	return control__attach(api, vm, &ctl);
}

static int teardown(void **state)
{
	control__detach(ctl);
	api__destroy(api);
	rmdir(tmpdir);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
	return 0;
}

static void run(enum vmm_req_type type)
{
	struct vmm_request req = { .type = type };

	memset(&resp, 0, sizeof(resp));
	control__execute(ctl, &req, &resp);
}

static void test_control__pause_resume_preconditions(void **state)
{
	run(VMM_REQ_PAUSE);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(resp.info.state, VM_STATE_PAUSED);
	assert_int_equal(fake.pauses, 1);

	run(VMM_REQ_PAUSE);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message, "cannot pause: the VM is paused");
	assert_int_equal(fake.pauses, 1);

	run(VMM_REQ_RESUME);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(resp.info.state, VM_STATE_RUNNING);

	run(VMM_REQ_RESUME);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message, "cannot resume: the VM is running");
	assert_int_equal(fake.resumes, 1);

	fake.state = VM_STATE_CREATED;
	run(VMM_REQ_PAUSE);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message, "cannot pause: the VM is created");
}

static void test_control__pause_failure_reported(void **state)
{
	fake.pause_ret = -EIO;
	run(VMM_REQ_PAUSE);
	assert_int_equal(resp.ret, -EIO);
	assert_non_null(strstr(resp.message, "pause failed"));
}

static void test_control__shutdown(void **state)
{
	fake.state = VM_STATE_PAUSED;
	run(VMM_REQ_SHUTDOWN);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(resp.info.state, VM_STATE_STOPPING);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.stop_reason, VM_STOP_SHUTDOWN);

	fake.state = VM_STATE_STOPPING;
	run(VMM_REQ_SHUTDOWN);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message,
			    "cannot shut down: the VM is already stopping");
	assert_int_equal(fake.stops, 1);
}

static void test_control__get_info(void **state)
{
	run(VMM_REQ_GET_INFO);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(resp.info.state, VM_STATE_RUNNING);
	assert_int_equal(resp.info.uptime_ms, 42);
	assert_int_equal(resp.info.vcpus, 2);
	assert_string_equal(resp.config.kernel, "/guest.elf");
	assert_int_equal(resp.config.mem_size, CONFIG_DEFAULT_MEM);
	/* The device list comes along, as plain data. */
	assert_int_equal(resp.nr_devices, 2);
	assert_string_equal(resp.devices[0].id, "serial0");
	assert_string_equal(resp.devices[1].type, "vfio-pci");
	assert_true(resp.devices[1].vfio.present);
}

static void test_control__bad_type(void **state)
{
	run(VMM_REQ__COUNT);
	assert_int_equal(resp.ret, -ENOTSUP);
	run((enum vmm_req_type)1000);
	assert_int_equal(resp.ret, -ENOTSUP);
}

static void test_control__operation_progress(void **state)
{
	run(VMM_REQ_GET_OPERATION);
	assert_int_equal(resp.op.state, VMM_OP_NONE);

	assert_int_equal(control__op_begin(ctl, "snapshot", 1000), 0);
	assert_int_equal(control__op_begin(ctl, "migrate", 0), -EBUSY);
	control__op_update(ctl, 250, 0);
	usleep(20 * 1000);
	run(VMM_REQ_GET_OPERATION);
	assert_int_equal(resp.op.state, VMM_OP_RUNNING);
	assert_int_equal(resp.op.id, 1);
	assert_string_equal(resp.op.name, "snapshot");
	assert_int_equal(resp.op.done_bytes, 250);
	assert_int_equal(resp.op.total_bytes, 1000);
	assert_true(resp.op.elapsed_ms >= 15);

	control__op_end(ctl, -ENOSPC, "disk full");
	run(VMM_REQ_GET_OPERATION);
	assert_int_equal(resp.op.state, VMM_OP_FAILED);
	assert_string_equal(resp.op.message, "disk full");

	assert_int_equal(control__op_begin(ctl, "migrate", 0), 0);
	control__op_update(ctl, 10, 20);
	control__op_end(ctl, 0, NULL);
	control__op_update(ctl, 99, 0); /* after the end: ignored */
	run(VMM_REQ_GET_OPERATION);
	assert_int_equal(resp.op.state, VMM_OP_SUCCEEDED);
	assert_int_equal(resp.op.id, 2);
	assert_int_equal(resp.op.done_bytes, 10);
	assert_int_equal(resp.op.total_bytes, 20);
}

static void snapshot_req(const char *path, bool replace)
{
	struct vmm_request req = { .type = VMM_REQ_SNAPSHOT_CREATE };

	snprintf(req.snapshot.path, sizeof(req.snapshot.path), "%s", path);
	req.snapshot.replace = replace;
	memset(&resp, 0, sizeof(resp));
	control__execute(ctl, &req, &resp);
}

static void test_control__snapshot(void **state)
{
	/* Running: 409 with the reason, vm__snapshot never called. */
	snapshot_req("/tmp/s", false);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message,
			    "cannot snapshot: the VM is running (pause it first)");
	assert_int_equal(fake_snap.calls, 0);

	/* Paused, on the worker thread: progress reported, op succeeded. */
	assert_int_equal(sandbox__init(SECCOMP_MODE_OFF), 0);
	assert_int_equal(control__start(ctl), 0);
	fake.state = VM_STATE_PAUSED;
	fake.cfg.mem_size = 1000;
	snapshot_req("/tmp/s", true);
	assert_int_equal(resp.ret, 0);
	assert_int_equal(fake_snap.calls, 1);
	assert_false(pthread_equal(fake_snap.thread, pthread_self()));
	assert_string_equal(fake_snap.path, "/tmp/s");
	assert_true(fake_snap.replace);
	assert_int_equal(fake_snap.mid.state, VMM_OP_RUNNING);
	assert_string_equal(fake_snap.mid.name, "snapshot");
	assert_int_equal(fake_snap.mid.done_bytes, 300);
	assert_int_equal(resp.op.state, VMM_OP_SUCCEEDED);
	assert_int_equal(resp.op.id, 1);

	/* A failure: the errno and vm__snapshot's message, op failed. */
	fake_snap.ret = -ENOSPC;
	snapshot_req("/tmp/t", false);
	assert_int_equal(resp.ret, -ENOSPC);
	assert_string_equal(resp.message, "snapshot /tmp/t: disk full");
	run(VMM_REQ_GET_OPERATION);
	assert_int_equal(resp.op.state, VMM_OP_FAILED);
	assert_int_equal(resp.op.id, 2);
	assert_string_equal(resp.op.message, "snapshot /tmp/t: disk full");

	/* Another operation running: -EBUSY naming it. */
	assert_int_equal(control__op_begin(ctl, "migrate", 0), 0);
	snapshot_req("/tmp/u", false);
	assert_int_equal(resp.ret, -EBUSY);
	assert_string_equal(resp.message,
			    "cannot snapshot: operation migrate is running");
	assert_int_equal(fake_snap.calls, 2);
	control__op_end(ctl, 0, NULL);
}

static void *post_pause(void *arg)
{
	struct vmm_request req = { .type = VMM_REQ_PAUSE };
	struct vmm_response *r = malloc(sizeof(*r));
	long ret = api_queue__call(api__queue(api), &req, r, 5000);

	if (!ret)
		ret = r->ret ? r->ret : (r->info.state == VM_STATE_PAUSED ? 0 : -1);
	free(r);
	return (void *)ret;
}

static void test_control__attach_wires_queue(void **state)
{
	struct pollfd p;
	pthread_t t;
	void *ret;

	assert_int_equal(loop_reg.adds, 1);
	assert_int_equal(loop_reg.fd, api_queue__fd(api__queue(api)));
	assert_non_null(loop_reg.cb);

	/* Play the event loop: wait for the fd, run the callback. */
	assert_int_equal(pthread_create(&t, NULL, post_pause, NULL), 0);
	p = (struct pollfd){ .fd = loop_reg.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	loop_reg.cb(loop_reg.opaque, EPOLLIN);
	pthread_join(t, &ret);
	assert_int_equal((long)ret, 0);
	assert_int_equal(fake.pauses, 1);

	/* After detach, callers are refused at once. */
	control__detach(ctl);
	ctl = NULL;
	assert_int_equal(loop_reg.dels, 1);
	assert_int_equal(pthread_create(&t, NULL, post_pause, NULL), 0);
	pthread_join(t, &ret);
	assert_int_equal((long)ret, -ESHUTDOWN);
	control__detach(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_control__pause_resume_preconditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__pause_failure_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__get_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__bad_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__operation_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control__attach_wires_queue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
