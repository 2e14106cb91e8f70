/*
 * api-queue.c: the request queue between the API thread and the VMM
 * thread: a mutex-protected FIFO of heap-allocated calls, an eventfd
 * that wakes the VMM loop, and one condition variable on which callers
 * wait (CLOCK_MONOTONIC, bounded) for their call to complete. Each call
 * is reference-counted (caller + queue/executor) so whichever side
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
		call->done = true;
		call_put(call, 1);
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

int api_queue__call(struct api_queue *q, const struct vmm_request *req,
		    struct vmm_response *resp, unsigned int timeout_ms)
{
	struct api_call *call;
	struct timespec deadline;
	unsigned int drop = 1; /* this caller's reference */
	uint64_t one = 1;
	ssize_t w;
	int ret = 0;

	call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->req = *req;
	call->refs = 2; /* this caller + the queue (later the executor) */

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
		call->done = true;
		pthread_cond_broadcast(&q->done_cond);
		call_put(call, 1);
		pthread_mutex_unlock(&q->lock);
	}
	return n;
}
