/*
 * api-queue.c: the request queue between the API thread and the VMM
 * thread: a mutex-protected FIFO of heap-allocated calls, an eventfd
 * that wakes the VMM loop, and one condition variable on which callers
 * wait (CLOCK_MONOTONIC, bounded) for their call to complete, or, for
 * posted calls, a completion callback instead of a wait. Each call is
 * reference-counted (caller + queue/executor) so whichever side
 * finishes last frees it.
 */
#include "vmm/api-queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/request.h"

struct api_call {
	struct api_call *next;        /* protected by q->lock */
	struct vmm_request req;
	struct vmm_response resp;     /* written by the executor only */
	bool queued;                  /* protected by q->lock */
	bool done;                    /* protected by q->lock */
	unsigned int refs;            /* protected by q->lock */
	api_done_fn notify;           /* posted calls: run once on completion */
	void *notify_opaque;
};

struct api_queue {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;     /* signalled when any call completes */
	struct api_call *head, *tail; /* protected by lock */
	bool closed;                  /* protected by lock */
	int efd;
};

int api_queue__create(struct api_queue **out)
{
	struct api_queue *q;
	pthread_condattr_t attr;
	int ret;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = -pthread_condattr_init(&attr);
	if (ret)
		goto err_close;
	ret = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = -pthread_cond_init(&q->done_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		goto err_close;
	ret = -pthread_mutex_init(&q->lock, NULL);
	if (ret)
		goto err_cond;
	*out = q;
	return 0;

err_cond:
	pthread_cond_destroy(&q->done_cond);
err_close:
	close(q->efd);
err_free:
	free(q);
	return ret;
}

/* Called with q->lock held: drop @n references, free on the last. */
static void call_put(struct api_call *call, unsigned int n)
{
	call->refs -= n;
	if (call->refs == 0)
		free(call);
}

/* Called with q->lock held: unlink @call, which is queued. */
static void unlink_call(struct api_queue *q, struct api_call *call)
{
	struct api_call **pp, *prev = NULL;

	for (pp = &q->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == call) {
			*pp = call->next;
			if (q->tail == call)
				q->tail = prev;
			call->next = NULL;
			call->queued = false;
			return;
		}
	}
}

/*
 * Mark @call, which the calling side holds a reference to, done and
 * wake its waiter; posted calls are notified with the lock dropped (the
 * callback may take other locks). Drops that reference. Called with
 * q->lock held; returns with it held.
 */
static void complete_call(struct api_queue *q, struct api_call *call)
{
	call->done = true;
	pthread_cond_broadcast(&q->done_cond);
	if (call->notify) {
		pthread_mutex_unlock(&q->lock);
		call->notify(call->notify_opaque);
		pthread_mutex_lock(&q->lock);
	}
	call_put(call, 1);
}

void api_queue__close(struct api_queue *q)
{
	struct api_call *call;

	pthread_mutex_lock(&q->lock);
	q->closed = true;
	while ((call = q->head)) {
		unlink_call(q, call);
		call->resp.ret = -ESHUTDOWN;
		snprintf(call->resp.message, sizeof(call->resp.message),
			 "the VM is shutting down");
		complete_call(q, call);
	}
	pthread_cond_broadcast(&q->done_cond);
	pthread_mutex_unlock(&q->lock);
}

void api_queue__destroy(struct api_queue *q)
{
	if (!q)
		return;
	api_queue__close(q);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->done_cond);
	close(q->efd);
	free(q);
}

int api_queue__fd(const struct api_queue *q)
{
	return q->efd;
}

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Queue a new call for @req and wake the VMM thread. */
static int enqueue(struct api_queue *q, const struct vmm_request *req,
		   api_done_fn notify, void *opaque, struct api_call **out)
{
	struct api_call *call;
	uint64_t one = 1;
	ssize_t w;

	call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->req = *req;
	call->refs = 2; /* this caller + the queue (later the executor) */
	call->notify = notify;
	call->notify_opaque = opaque;

	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		free(call);
		return -ESHUTDOWN;
	}
	call->queued = true;
	if (q->tail)
		q->tail->next = call;
	else
		q->head = call;
	q->tail = call;
	pthread_mutex_unlock(&q->lock);

	/* Cannot fail short of a counter overflow (2^64 - 1 posts). */
	w = write(q->efd, &one, sizeof(one));
	(void)w;
	*out = call;
	return 0;
}

int api_queue__post(struct api_queue *q, const struct vmm_request *req,
		    api_done_fn notify, void *opaque, struct api_call **out)
{
	return enqueue(q, req, notify, opaque, out);
}

int api_queue__result(struct api_queue *q, struct api_call *call,
		      struct vmm_response *resp)
{
	int ret = -EAGAIN;

	pthread_mutex_lock(&q->lock);
	if (call->done) {
		*resp = call->resp;
		ret = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void api_queue__release(struct api_queue *q, struct api_call *call)
{
	unsigned int drop = 1;

	if (!call)
		return;
	pthread_mutex_lock(&q->lock);
	if (call->queued) {
		/* Never started: withdraw it with the queue's reference. */
		unlink_call(q, call);
		drop = 2;
	}
	call_put(call, drop);
	pthread_mutex_unlock(&q->lock);
}

int api_queue__call(struct api_queue *q, const struct vmm_request *req,
		    struct vmm_response *resp, unsigned int timeout_ms)
{
	struct api_call *call;
	struct timespec deadline;
	unsigned int drop = 1; /* this caller's reference */
	int ret;

	ret = enqueue(q, req, NULL, NULL, &call);
	if (ret)
		return ret;

	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&q->lock);
	while (!call->done && ret == 0)
		ret = -pthread_cond_timedwait(&q->done_cond, &q->lock,
					      &deadline);
	if (call->done) {
		*resp = call->resp;
		ret = 0;
	} else {
		ret = -ETIMEDOUT;
		if (call->queued) {
			/* Never started: withdraw it with the queue's ref. */
			unlink_call(q, call);
			drop = 2;
		}
	}
	call_put(call, drop);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

unsigned int api_queue__drain(struct api_queue *q, api_exec_fn exec,
			      void *opaque)
{
	struct api_call *call;
	unsigned int n = 0;
	uint64_t cnt;
	ssize_t r;

	/* Nonblocking; EAGAIN just means nobody posted since last time. */
	r = read(q->efd, &cnt, sizeof(cnt));
	(void)r;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		call = q->head;
		if (call)
			unlink_call(q, call);
		pthread_mutex_unlock(&q->lock);
		if (!call)
			break;

		/* The executor now holds the queue's reference. */
		memset(&call->resp, 0, sizeof(call->resp));
		exec(opaque, &call->req, &call->resp);
		n++;

		pthread_mutex_lock(&q->lock);
		complete_call(q, call);
		pthread_mutex_unlock(&q->lock);
	}
	return n;
}
