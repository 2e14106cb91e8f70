/*
 * control.c: executes API requests on the VMM thread. The API thread
 * has already validated syntax; here the VM's state decides: pausing a
 * paused VM is a 409 with the reason, shutdown starts an orderly stop
 * (vm__request_stop) and answers at once. Long-running operations
 * publish their progress through the control__op_* record, read by
 * `GET /vm/operation` (on this thread) under a mutex.
 */
#include "vmm/control.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/event.h"
#include "vmm/log.h"
#include "vmm/request.h"
#include "vmm/vm.h"

struct control {
	struct vm *vm;
	struct api_queue *queue; /* borrowed from the api */
	struct event_loop *loop;
	bool registered;
	pthread_mutex_t op_lock;
	struct vmm_op_progress op; /* protected by op_lock */
	uint64_t op_start_ms;      /* protected by op_lock */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void __printf(3, 4) set_error(struct vmm_response *resp, int ret,
				     const char *fmt, ...)
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
		set_error(resp, -EBUSY, "cannot pause: the VM is %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	ret = vm__pause(ctl->vm);
	if (ret) {
		set_error(resp, ret, "pause failed: %s", strerror(-ret));
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
		set_error(resp, -EBUSY, "cannot resume: the VM is %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	ret = vm__resume(ctl->vm);
	if (ret) {
		set_error(resp, ret, "resume failed: %s", strerror(-ret));
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
		set_error(resp, -EBUSY, "cannot shut down: the VM is already %s",
			  vmm_state_name(resp->info.state));
		return;
	}
	log_info("control: shutdown requested through the API");
	vm__request_stop(ctl->vm, VM_STOP_SHUTDOWN, 0);
	/* The stop completes after this answer; report where it is headed. */
	resp->info.state = VM_STATE_STOPPING;
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
		pthread_mutex_lock(&ctl->op_lock);
		resp->op = ctl->op;
		if (ctl->op.state == VMM_OP_RUNNING)
			resp->op.elapsed_ms = now_ms() - ctl->op_start_ms;
		pthread_mutex_unlock(&ctl->op_lock);
		return;
	case VMM_REQ__COUNT:
		break;
	}
	set_error(resp, -ENOTSUP, "request type %d is not supported",
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
	ret = -pthread_mutex_init(&ctl->op_lock, NULL);
	if (ret)
		goto err_free;
	ctl->vm = vm;
	ctl->queue = api__queue(api);
	ctl->loop = vm__event_loop(vm);
	ret = event__add(ctl->loop, api_queue__fd(ctl->queue), EPOLLIN,
			 on_request_fd, ctl);
	if (ret) {
		log_err("control: cannot watch the API queue: %s",
			strerror(-ret));
		goto err_mutex;
	}
	ctl->registered = true;
	*out = ctl;
	return 0;

err_mutex:
	pthread_mutex_destroy(&ctl->op_lock);
err_free:
	free(ctl);
	return ret;
}

void control__detach(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->registered)
		event__del(ctl->loop, api_queue__fd(ctl->queue));
	api_queue__close(ctl->queue);
	pthread_mutex_destroy(&ctl->op_lock);
	free(ctl);
}

int control__op_begin(struct control *ctl, const char *name,
		      uint64_t total_bytes)
{
	int ret = 0;

	pthread_mutex_lock(&ctl->op_lock);
	if (ctl->op.state == VMM_OP_RUNNING) {
		ret = -EBUSY;
	} else {
		uint64_t id = ctl->op.id + 1;

		memset(&ctl->op, 0, sizeof(ctl->op));
		ctl->op.id = id;
		ctl->op.state = VMM_OP_RUNNING;
		snprintf(ctl->op.name, sizeof(ctl->op.name), "%s", name);
		ctl->op.total_bytes = total_bytes;
		ctl->op_start_ms = now_ms();
	}
	pthread_mutex_unlock(&ctl->op_lock);
	return ret;
}

void control__op_update(struct control *ctl, uint64_t done_bytes,
			uint64_t total_bytes)
{
	pthread_mutex_lock(&ctl->op_lock);
	if (ctl->op.state == VMM_OP_RUNNING) {
		ctl->op.done_bytes = done_bytes;
		if (total_bytes)
			ctl->op.total_bytes = total_bytes;
	}
	pthread_mutex_unlock(&ctl->op_lock);
}

void control__op_end(struct control *ctl, int ret, const char *message)
{
	pthread_mutex_lock(&ctl->op_lock);
	if (ctl->op.state == VMM_OP_RUNNING) {
		ctl->op.state = ret ? VMM_OP_FAILED : VMM_OP_SUCCEEDED;
		ctl->op.elapsed_ms = now_ms() - ctl->op_start_ms;
		snprintf(ctl->op.message, sizeof(ctl->op.message), "%s",
			 ret ? (message ? message : strerror(-ret)) : "");
	}
	pthread_mutex_unlock(&ctl->op_lock);
}
