/*
 * op-progress.c: the thread-safe progress record of long-running
 * operations: one struct vmm_op_progress under a mutex, plus the start
 * time so that a running operation reports a live elapsed time.
 */
#include "vmm/op-progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/request.h"

struct op_progress {
	pthread_mutex_t lock;
	struct vmm_op_progress op; /* protected by lock */
	uint64_t start_ms;         /* protected by lock */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int op_progress__create(struct op_progress **out)
{
	struct op_progress *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	ret = -pthread_mutex_init(&p->lock, NULL);
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void op_progress__destroy(struct op_progress *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int op_progress__begin(struct op_progress *p, const char *name,
		       uint64_t total_bytes)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->op.state == VMM_OP_RUNNING) {
		ret = -EBUSY;
	} else {
		uint64_t id = p->op.id + 1;

		memset(&p->op, 0, sizeof(p->op));
		p->op.id = id;
		p->op.state = VMM_OP_RUNNING;
		snprintf(p->op.name, sizeof(p->op.name), "%s", name);
		p->op.total_bytes = total_bytes;
		p->start_ms = now_ms();
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void op_progress__update(struct op_progress *p, uint64_t done_bytes,
			 uint64_t total_bytes)
{
	pthread_mutex_lock(&p->lock);
	if (p->op.state == VMM_OP_RUNNING) {
		p->op.done_bytes = done_bytes;
		if (total_bytes)
			p->op.total_bytes = total_bytes;
	}
	pthread_mutex_unlock(&p->lock);
}

void op_progress__end(struct op_progress *p, int ret, const char *message)
{
	pthread_mutex_lock(&p->lock);
	if (p->op.state == VMM_OP_RUNNING) {
		p->op.state = ret ? VMM_OP_FAILED : VMM_OP_SUCCEEDED;
		p->op.elapsed_ms = now_ms() - p->start_ms;
		snprintf(p->op.message, sizeof(p->op.message), "%s",
			 ret ? (message ? message : strerror(-ret)) : "");
	}
	pthread_mutex_unlock(&p->lock);
}

void op_progress__get(struct op_progress *p, struct vmm_op_progress *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->op;
	if (p->op.state == VMM_OP_RUNNING)
		out->elapsed_ms = now_ms() - p->start_ms;
	pthread_mutex_unlock(&p->lock);
}
