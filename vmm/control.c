/*
 * control.c: executes API requests on the VMM thread. The API thread
 * has already validated syntax; here the VM's state decides: pausing a
 * paused VM is a 409 with the reason, shutdown starts an orderly stop
 * (vm__request_stop) and answers at once. A snapshot runs on the
 * migration worker (vmm/worker.h: the main role opens no files) while
 * this thread waits for it; its progress goes to the API's operation
 * record (vmm/op-progress.h), which the API thread reads directly.
 */
#include "vmm/control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "seccomp/policy.h"
#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/control-devices.h"
#include "vmm/event.h"
#include "vmm/log.h"
#include "vmm/op-progress.h"
#include "vmm/request.h"
#include "vmm/vm-migrate.h"
#include "vmm/vm-snapshot.h"
#include "vmm/vm.h"
#include "vmm/worker.h"

struct control {
	struct vm *vm;
	struct api_queue *queue;  /* borrowed from the api */
	struct op_progress *ops;  /* borrowed from the api */
	struct event_loop *loop;
	struct worker *worker;    /* owned; NULL until control__start */
	bool registered;
};

void control__error(struct vmm_response *resp, int ret, const char *fmt, ...)
{
	va_list ap;

	resp->ret = ret;
	va_start(ap, fmt);
	vsnprintf(resp->message, sizeof(resp->message), fmt, ap);
	va_end(ap);
}

static void do_pause(struct control *ctl, struct vmm_response *resp)
{
	int ret;

	vm__get_info(ctl->vm, &resp->info);
	if (resp->info.state != VM_STATE_RUNNING) {
		control__error(resp, -EBUSY, "cannot pause: the VM is %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	ret = vm__pause(ctl->vm);
	if (ret) {
		control__error(resp, ret, "pause failed: %s", strerror(-ret));
		return;
	}
	vm__get_info(ctl->vm, &resp->info);
	log_info("control: VM paused");
}

static void do_resume(struct control *ctl, struct vmm_response *resp)
{
	int ret;

	vm__get_info(ctl->vm, &resp->info);
	if (resp->info.state != VM_STATE_PAUSED) {
		control__error(resp, -EBUSY, "cannot resume: the VM is %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	ret = vm__resume(ctl->vm);
	if (ret) {
		control__error(resp, ret, "resume failed: %s", strerror(-ret));
		return;
	}
	vm__get_info(ctl->vm, &resp->info);
	log_info("control: VM resumed");
}

static void do_shutdown(struct control *ctl, struct vmm_response *resp)
{
	vm__get_info(ctl->vm, &resp->info);
	if (resp->info.state == VM_STATE_STOPPING ||
	    resp->info.state == VM_STATE_STOPPED) {
		control__error(resp, -EBUSY, "cannot shut down: the VM is already %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	log_info("control: shutdown requested through the API");
	vm__request_stop(ctl->vm, VM_STOP_SHUTDOWN, 0);
	/* The stop completes after this answer; report where it is headed. */
	resp->info.state = VM_STATE_STOPPING;
}

struct snapshot_job {
	struct control *ctl;
	const struct vmm_snapshot_params *params;
	char err[VMM_MESSAGE_MAX];
};

static void on_snapshot_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct control *ctl = opaque;

	op_progress__update(ctl->ops, done, total);
}

static int snapshot_job(void *opaque)
{
	struct snapshot_job *j = opaque;

	return vm__snapshot(j->ctl->vm, j->params->path, j->params->replace,
			    on_snapshot_progress, j->ctl, j->err,
			    sizeof(j->err));
}

static void do_snapshot(struct control *ctl, const struct vmm_request *req,
			struct vmm_response *resp)
{
	struct snapshot_job job = { .ctl = ctl, .params = &req->snapshot };
	struct vmm_op_progress op;
	int ret;

	vm__get_info(ctl->vm, &resp->info);
	if (resp->info.state != VM_STATE_PAUSED) {
		control__error(resp, -EBUSY,
			  "cannot snapshot: the VM is %s (pause it first)",
			  vmm_state_name(resp->info.state));
		return;
	}
	ret = op_progress__begin(ctl->ops, "snapshot", resp->info.mem_size);
	if (ret) {
		op_progress__get(ctl->ops, &op);
		control__error(resp, ret, "cannot snapshot: operation %s is running",
			  op.name);
		return;
	}
	log_info("control: snapshot to %s%s", req->snapshot.path,
		 req->snapshot.replace ? " (replacing)" : "");
	/* Without a worker (not started, e.g. tests) it runs right here. */
	if (ctl->worker)
		ret = worker__run(ctl->worker, snapshot_job, &job);
	else
		ret = snapshot_job(&job);
	if (ret && !job.err[0])
		snprintf(job.err, sizeof(job.err), "snapshot failed: %s",
			 strerror(-ret));
	op_progress__end(ctl->ops, ret, job.err);
	if (ret) {
		log_err("control: %s", job.err);
		control__error(resp, ret, "%s", job.err);
		return;
	}
	op_progress__get(ctl->ops, &resp->op);
}

void control__execute(struct control *ctl, const struct vmm_request *req,
		      struct vmm_response *resp)
{
	const struct vm_config *cfg;

	switch (req->type) {
	case VMM_REQ_GET_INFO:
		vm__get_info(ctl->vm, &resp->info);
		cfg = vm__config(ctl->vm);
		if (cfg)
			resp->config = *cfg;
		resp->nr_devices = control__describe_devices(
			ctl->vm, resp->devices, ARRAY_SIZE(resp->devices));
		return;
	case VMM_REQ_PAUSE:
		do_pause(ctl, resp);
		return;
	case VMM_REQ_RESUME:
		do_resume(ctl, resp);
		return;
	case VMM_REQ_SHUTDOWN:
		do_shutdown(ctl, resp);
		return;
	case VMM_REQ_GET_OPERATION:
		op_progress__get(ctl->ops, &resp->op);
		return;
	case VMM_REQ_SNAPSHOT_CREATE:
		do_snapshot(ctl, req, resp);
		return;
	case VMM_REQ_MIGRATE_START: /* live migration (issue 6) */
		resp->ret = vm__migrate_start(ctl->vm, &req->migrate, resp->message,
					      sizeof(resp->message));
		vm__migrate_status(ctl->vm, &resp->migration);
		return;
	case VMM_REQ_MIGRATE_STATUS:
		vm__migrate_status(ctl->vm, &resp->migration);
		return;
	case VMM_REQ_MIGRATE_CANCEL:
		resp->ret = vm__migrate_cancel(ctl->vm);
		if (resp->ret)
			snprintf(resp->message, sizeof(resp->message),
				 "no migration is running");
		vm__migrate_status(ctl->vm, &resp->migration);
		return;
	case VMM_REQ_SNAPSHOT_LOAD:
		vm__get_info(ctl->vm, &resp->info);
		control__error(resp, -EBUSY,
			  "a VM already exists (%s): snapshots load only into a ferry started with --wait-restore (or use ferry --restore)",
			  vmm_state_name(resp->info.state));
		return;
	case VMM_REQ__COUNT:
		break;
	}
	control__error(resp, -ENOTSUP, "request type %d is not supported",
		  (int)req->type);
}

static void exec_cb(void *opaque, const struct vmm_request *req,
		    struct vmm_response *resp)
{
	control__execute(opaque, req, resp);
}

static void on_request_fd(void *opaque, uint32_t events)
{
	struct control *ctl = opaque;

	api_queue__drain(ctl->queue, exec_cb, ctl);
}

int control__attach(struct api *api, struct vm *vm, struct control **out)
{
	struct control *ctl;
	int ret;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->vm = vm;
	ctl->queue = api__queue(api);
	ctl->ops = api__op_progress(api);
	ctl->loop = vm__event_loop(vm);
	ret = event__add(ctl->loop, api_queue__fd(ctl->queue), EPOLLIN,
			 on_request_fd, ctl);
	if (ret) {
		log_err("control: cannot watch the API queue: %s",
			strerror(-ret));
		free(ctl);
		return ret;
	}
	ctl->registered = true;
	*out = ctl;
	return 0;
}

int control__start(struct control *ctl)
{
	if (!ctl || ctl->worker)
		return 0;
	return worker__create(SC_ROLE_MIGRATION, "migration", &ctl->worker);
}

void control__detach(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->registered)
		event__del(ctl->loop, api_queue__fd(ctl->queue));
	api_queue__close(ctl->queue);
	worker__destroy(ctl->worker);
	free(ctl);
}

int control__op_begin(struct control *ctl, const char *name,
		      uint64_t total_bytes)
{
	return op_progress__begin(ctl->ops, name, total_bytes);
}

void control__op_update(struct control *ctl, uint64_t done_bytes,
			uint64_t total_bytes)
{
	op_progress__update(ctl->ops, done_bytes, total_bytes);
}

void control__op_end(struct control *ctl, int ret, const char *message)
{
	op_progress__end(ctl->ops, ret, message);
}
