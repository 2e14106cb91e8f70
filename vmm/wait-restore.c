/*
 * wait-restore.c: the VMM thread's loop while ferry waits for a
 * snapshot to load through the API. It plays the control side of the
 * request queue (vmm/control.c takes over once the VM exists): the load
 * itself runs here, on the VMM thread, like every request that changes
 * VM state.
 */
#include "vmm/wait-restore.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm/api-queue.h"
#include "vmm/api.h"
#include "vmm/control.h"
#include "vmm/event.h"
#include "vmm/log.h"
#include "vmm/request.h"
#include "vmm/vm-snapshot.h"

struct waiter {
	const struct vm_config *host;
	struct event_loop *loop;
	struct api_queue *queue;
	int sigfd;
	struct vm *vm;  /* the restored VM, once loaded */
	int result;     /* 1 while waiting */
};

static void load(struct waiter *w, const struct vmm_snapshot_load_params *p,
		 struct vmm_response *resp)
{
	char err[VMM_MESSAGE_MAX];
	int ret;

	log_info("control: loading snapshot %s", p->path);
	ret = vm__restore(w->host, p->path,
			  p->copy ? VM_RESTORE_COPY : VM_RESTORE_LAZY, p->resume,
			  &w->vm, err, sizeof(err));
	if (ret) {
		log_err("cannot restore: %s", err);
		control__error(resp, ret, "%s", err);
		return;
	}
	resp->info.state = p->resume ? VM_STATE_RUNNING : VM_STATE_PAUSED;
	w->result = 0;
	event__stop(w->loop);
}

static void execute(void *opaque, const struct vmm_request *req,
		    struct vmm_response *resp)
{
	struct waiter *w = opaque;

	resp->info.state = VM_STATE_CREATED;
	if (w->result != 1) { /* a load or shutdown already ended the wait */
		control__error(resp, -EBUSY, "ferry is starting the loaded VM; retry");
		return;
	}
	switch (req->type) {
	case VMM_REQ_GET_INFO:
		return; /* no VM yet: state "created", empty configuration */
	case VMM_REQ_SNAPSHOT_LOAD:
		load(w, &req->load, resp);
		return;
	case VMM_REQ_SHUTDOWN:
		log_info("control: shutdown requested while waiting for a snapshot");
		resp->info.state = VM_STATE_STOPPING;
		w->result = -ECANCELED;
		event__stop(w->loop);
		return;
	default:
		control__error(resp, -EBUSY,
		       "no VM yet: load a snapshot first (PUT /snapshot/load)");
		return;
	}
}

static void on_queue(void *opaque, uint32_t events)
{
	struct waiter *w = opaque;

	api_queue__drain(w->queue, execute, w);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct waiter *w = opaque;
	struct signalfd_siginfo si;

	if (read(w->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("received %s while waiting for a snapshot",
		 strsignal((int)si.ssi_signo));
	w->result = -EINTR;
	event__stop(w->loop);
}

int wait_restore__run(struct api *api, const struct vm_config *host,
		      struct vm **out)
{
	struct waiter w = {
		.host = host, .queue = api__queue(api), .sigfd = -1, .result = 1,
	};
	sigset_t set;
	int ret;

	ret = event__create(&w.loop);
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	w.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w.sigfd < 0) {
		ret = -errno;
		goto out;
	}
	ret = event__add(w.loop, w.sigfd, EPOLLIN, on_signal, &w);
	if (!ret)
		ret = event__add(w.loop, api_queue__fd(w.queue), EPOLLIN, on_queue,
				 &w);
	if (ret)
		goto out;
	log_info("waiting for a snapshot: PUT /snapshot/load on %s",
		 api__sock_path(api));
	/* Anything queued before we listened is in the queue already. */
	on_queue(&w, EPOLLIN);
	if (w.result == 1)
		ret = event__run(w.loop);
	event__del(w.loop, api_queue__fd(w.queue));
	if (!ret)
		ret = w.result;
	if (!ret)
		*out = w.vm;
out:
	if (w.sigfd >= 0)
		close(w.sigfd);
	event__destroy(w.loop);
	return ret;
}
