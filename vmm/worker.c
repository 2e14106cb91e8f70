/*
 * worker.c: a job thread with its own seccomp role. One job slot under
 * a mutex; the caller posts a job, signals the thread and waits on the
 * same condition variable for the result. The thread confines itself
 * before it takes its first job; if that fails it refuses every job.
 */
#include "vmm/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp/sandbox.h"
#include "vmm/log.h"

/* Log tags are short ("migration"). */
#define WORKER_TAG_MAX 16

struct worker {
	pthread_t thread;
	enum sc_role role;
	char tag[WORKER_TAG_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* job posted, job done, state changed */
	pthread_mutex_t run_lock; /* serializes worker__run callers */
	worker_job_fn job;     /* protected by lock; NULL: none pending */
	void *opaque;          /* protected by lock */
	int result;            /* protected by lock */
	bool done;             /* protected by lock */
	bool ready;            /* protected by lock: confined, taking jobs */
	bool broken;           /* protected by lock: could not confine */
	bool quit;             /* protected by lock */
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	worker_job_fn job;
	void *opaque;
	int ret;

	log__set_tag("%s", w->tag);
	ret = sandbox__enter(w->role);
	pthread_mutex_lock(&w->lock);
	if (ret) {
		w->broken = true;
		log_err("cannot confine the %s worker: %s", w->tag,
			strerror(-ret));
	}
	w->ready = true;
	pthread_cond_broadcast(&w->cond);
	for (;;) {
		while (!w->job && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->job)
			break;
		job = w->job;
		opaque = w->opaque;
		pthread_mutex_unlock(&w->lock);
		ret = w->broken ? -ESHUTDOWN : job(opaque);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
		w->result = ret;
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int worker__create(enum sc_role role, const char *tag, struct worker **out)
{
	struct worker *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->role = role;
	snprintf(w->tag, sizeof(w->tag), "%s", tag);
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->run_lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	ret = -pthread_create(&w->thread, NULL, worker_thread, w);
	if (ret) {
		log_err("cannot start the %s worker: %s", tag, strerror(-ret));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->run_lock);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return ret;
	}
	/* Wait until it is confined, so its filter predates the caller's. */
	pthread_mutex_lock(&w->lock);
	while (!w->ready)
		pthread_cond_wait(&w->cond, &w->lock);
	ret = w->broken ? -EPERM : 0;
	pthread_mutex_unlock(&w->lock);
	if (ret) {
		worker__destroy(w);
		return ret;
	}
	*out = w;
	return 0;
}

int worker__run(struct worker *w, worker_job_fn fn, void *opaque)
{
	int ret;

	pthread_mutex_lock(&w->run_lock);
	pthread_mutex_lock(&w->lock);
	w->job = fn;
	w->opaque = opaque;
	w->done = false;
	pthread_cond_broadcast(&w->cond);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	ret = w->result;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&w->run_lock);
	return ret;
}

void worker__destroy(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->run_lock);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
