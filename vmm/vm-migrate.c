/*
 * vm-migrate.c: the source side of live migration for a VM. One
 * migration thread (SC_ROLE_MIGRATION) takes a job at a time: connect,
 * live_save__run, and on success ask the VM to stop. The engine's
 * run_paused/resume requests go to the VMM thread through an eventfd on
 * its event loop: the VMM thread pauses (or resumes) the VM and answers;
 * the stop-copy part then runs on the migration thread, whose seccomp
 * role can read the paused vCPUs' and irqchip's state. The handshake carries
 * the VM configuration and the CPUID the guest may rely on.
 */
#include "vmm/vm-migrate.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "migration/live-wire.h"
#include "migration/registry.h"
#include "migration/state-fdt.h"
#include "seccomp/policy.h"
#include "seccomp/sandbox.h"
#include "vmm/config-json-emit.h"
#include "vmm/config-json.h"
#include "vmm/event.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/vm-dirty.h"
#include "vmm/vm-internal.h"

/* How long a migrated source waits for its final status to be read. */
#define MIG_LINGER_MS 1000L

enum mig_req {
	MIG_REQ_NONE = 0,
	MIG_REQ_PAUSE,
	MIG_REQ_RESUME,
};

struct vm_migrate {
	struct vm *vm;            /* borrowed */
	struct vm_dirty *dirty;   /* owned */
	int evfd;                 /* owned: requests to the VMM thread */
	bool ev_registered;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;     /* protects everything below */
	pthread_cond_t cond;
	bool ready, quit, running, job;
	bool final_seen;          /* the completed status was read */
	struct live_addr addr;
	struct live_save *ls;     /* owned: the running or last migration */
	/* A request to the VMM thread and its answer. */
	enum mig_req req;
	bool req_done, req_paused;
	int req_ret;
	bool we_paused;           /* VMM thread only */
};

/* ---- VMM-thread side ---- */

static void on_request(void *opaque, uint32_t events)
{
	struct vm_migrate *m = opaque;
	struct vm_info info;
	enum mig_req req;
	uint64_t v;
	bool paused = false;
	int ret = 0;

	(void)events;
	if (read(m->evfd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&m->lock);
	req = m->req;
	m->req = MIG_REQ_NONE;
	pthread_mutex_unlock(&m->lock);
	if (req == MIG_REQ_PAUSE) {
		vm__get_info(m->vm, &info);
		m->we_paused = false;
		if (info.state == VM_STATE_RUNNING) {
			ret = vm__pause(m->vm);
			m->we_paused = ret == 0;
		} else if (info.state != VM_STATE_PAUSED) {
			ret = -ESHUTDOWN;
		}
		paused = ret == 0;
	} else if (req == MIG_REQ_RESUME) {
		if (m->we_paused)
			ret = vm__resume(m->vm);
		m->we_paused = false;
		if (ret)
			log_err("migration: cannot resume the VM: %s", strerror(-ret));
	} else {
		return;
	}
	pthread_mutex_lock(&m->lock);
	m->req_done = true;
	m->req_ret = ret;
	m->req_paused = paused;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* Migration thread: post @req to the VMM thread and wait for it. */
static int post(struct vm_migrate *m, enum mig_req req, bool *paused)
{
	uint64_t one = 1;
	int ret;

	pthread_mutex_lock(&m->lock);
	m->req = req;
	m->req_done = false;
	m->req_paused = false;
	pthread_mutex_unlock(&m->lock);
	if (write(m->evfd, &one, sizeof(one)) != sizeof(one))
		return -EIO;
	pthread_mutex_lock(&m->lock);
	while (!m->req_done && !m->quit)
		pthread_cond_wait(&m->cond, &m->lock);
	ret = m->req_done ? m->req_ret : -ESHUTDOWN;
	if (paused)
		*paused = m->req_done && m->req_paused;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int env_run_paused(void *opaque, int (*fn)(void *), void *arg,
			  bool *paused)
{
	int ret = post(opaque, MIG_REQ_PAUSE, paused);

	return ret ? ret : fn(arg);
}

static void env_resume(void *opaque)
{
	post(opaque, MIG_REQ_RESUME, NULL);
}

/* A RAM channel: one more connection to the same destination. */
static int env_connect(void *opaque)
{
	struct vm_migrate *m = opaque;
	struct live_addr addr;

	pthread_mutex_lock(&m->lock);
	addr = m->addr;
	pthread_mutex_unlock(&m->lock);
	return live_addr__connect(&addr);
}

/* CPUID the guest sees: (function, index, eax, ebx, ecx, edx) each. */
static int env_hello(void *opaque, struct state_writer *w)
{
	struct vm_migrate *m = opaque;
	const struct kvm_cpuid2 *c = m->vm->kvm->cpuid;
	uint32_t *cpuid;
	char *json;
	unsigned int i;

	json = config__to_json(&m->vm->cfg);
	if (!json)
		return -ENOMEM;
	state__put_string(w, "config", json);
	free(json);
	cpuid = calloc(c->nent ? c->nent : 1, 6 * sizeof(uint32_t));
	if (!cpuid)
		return -ENOMEM;
	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		cpuid[6 * i + 0] = e->function;
		cpuid[6 * i + 1] = e->index;
		cpuid[6 * i + 2] = e->eax;
		cpuid[6 * i + 3] = e->ebx;
		cpuid[6 * i + 4] = e->ecx;
		cpuid[6 * i + 5] = e->edx;
	}
	state__put_u32_array(w, "cpuid", cpuid, 6 * (size_t)c->nent);
	free(cpuid);
	return state_writer__status(w);
}

/* ---- the migration thread ---- */

static void run_job(struct vm_migrate *m)
{
	struct live_save *ls;
	struct live_addr addr;
	char msg[256];
	int fd, ret;

	pthread_mutex_lock(&m->lock);
	ls = m->ls;
	addr = m->addr;
	pthread_mutex_unlock(&m->lock);
	log_info("migration: connecting to %s", addr.text);
	fd = live_addr__connect(&addr);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", addr.text,
			 strerror(-fd));
		live_save__fail(ls, fd, msg);
		log_err("migration: %s", msg);
		return;
	}
	ret = live_save__run(ls, fd);
	close(fd);
	if (ret) {
		struct live_status st;

		live_save__status(ls, &st);
		log_err("migration to %s %s: %s", addr.text,
			ret == -ECANCELED ? "cancelled" : "failed", st.message);
		return;
	}
	{
		struct live_status st;

		live_save__status(ls, &st);
		log_info("migration to %s completed: %llu ms total, %llu ms downtime, %u iterations, %llu bytes sent",
			 addr.text, (unsigned long long)st.total_ms,
			 (unsigned long long)st.downtime_ms, st.iteration,
			 (unsigned long long)st.bytes_sent);
	}
	/*
	 * The paused source lingers until a client has read "completed"
	 * (ferryctl polls every 200 ms), at most MIG_LINGER_MS, so the
	 * result is not lost with the process.
	 */
	{
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += MIG_LINGER_MS * 1000000L;
		deadline.tv_sec += deadline.tv_nsec / 1000000000L;
		deadline.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&m->lock);
		while (!m->final_seen && !m->quit &&
		       pthread_cond_timedwait(&m->cond, &m->lock, &deadline) == 0)
			;
		pthread_mutex_unlock(&m->lock);
	}
	vm__request_stop(m->vm, VM_STOP_MIGRATED, 0);
}

static void *thread_main(void *arg)
{
	struct vm_migrate *m = arg;
	int ret;

	log__set_tag("migration");
	ret = sandbox__enter(SC_ROLE_MIGRATION);
	pthread_mutex_lock(&m->lock);
	m->ready = true;
	if (ret) {
		log_err("migration: cannot confine the migration thread: %s",
			strerror(-ret));
		m->quit = true;
	}
	pthread_cond_broadcast(&m->cond);
	for (;;) {
		while (!m->job && !m->quit)
			pthread_cond_wait(&m->cond, &m->lock);
		if (m->quit)
			break;
		m->job = false;
		pthread_mutex_unlock(&m->lock);
		run_job(m);
		pthread_mutex_lock(&m->lock);
		m->running = false;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int vm__migrate_init(struct vm *vm)
{
	struct vm_migrate *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->evfd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	vm->migrate = m;
	ret = vm_dirty__create(vm, &m->dirty);
	if (ret) {
		log_err("migration: cannot set up dirty tracking: %s", strerror(-ret));
		goto err;
	}
	m->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->evfd < 0) {
		ret = -errno;
		goto err;
	}
	ret = event__add(vm->loop, m->evfd, EPOLLIN, on_request, m);
	if (ret)
		goto err;
	m->ev_registered = true;
	ret = -pthread_create(&m->thread, NULL, thread_main, m);
	if (ret) {
		log_err("migration: cannot start the migration thread: %s",
			strerror(-ret));
		goto err;
	}
	m->thread_started = true;
	/* Confined before the VMM thread is, or it would inherit main's filter. */
	pthread_mutex_lock(&m->lock);
	while (!m->ready)
		pthread_cond_wait(&m->cond, &m->lock);
	ret = m->quit ? -EPERM : 0;
	pthread_mutex_unlock(&m->lock);
	if (ret)
		goto err;
	return 0;
err:
	vm_migrate__destroy(m);
	vm->migrate = NULL;
	return ret;
}

void vm_migrate__destroy(struct vm_migrate *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->quit = true;
	if (m->ls)
		live_save__cancel(m->ls);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (m->thread_started)
		pthread_join(m->thread, NULL);
	if (m->ev_registered)
		event__del(m->vm->loop, m->evfd);
	if (m->evfd >= 0)
		close(m->evfd);
	migration__remove_dirty_source(m->vm->mig, "kvm");
	vm_dirty__destroy(m->dirty);
	live_save__destroy(m->ls);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int vm__migrate_start(struct vm *vm, const struct vm_migrate_params *p,
		      char *err, size_t errlen)
{
	struct vm_migrate *m = vm->migrate;
	const struct mig_blocker *b;
	struct live_save_env env = {
		.mig = vm->mig, .hello = env_hello,
		.run_paused = env_run_paused, .resume = env_resume,
		.connect = env_connect, .opaque = m,
	};
	struct live_addr addr;
	struct live_save *ls;
	struct vm_info info;
	int ret;

	if (!m) {
		snprintf(err, errlen, "live migration is not available in this process");
		return -ENOTSUP;
	}
	ret = live_addr__parse(p->url, &addr, err, errlen);
	if (ret)
		return ret;
	vm__get_info(vm, &info);
	if (info.state != VM_STATE_RUNNING && info.state != VM_STATE_PAUSED) {
		snprintf(err, errlen, "cannot migrate: the VM is %s",
			 info.state == VM_STATE_CREATED ? "not started" : "stopping");
		return -EBUSY;
	}
	b = migration__blocker(vm->mig, true);
	if (b && (!b->live_only || !p->ignore_blockers)) {
		snprintf(err, errlen, "%s blocks live migration: %s%s", b->id,
			 b->reason, b->live_only ? " (override with ignore_blockers)" : "");
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&m->lock);
	if (m->running) {
		pthread_mutex_unlock(&m->lock);
		snprintf(err, errlen, "a migration is already running");
		return -EBUSY;
	}
	pthread_mutex_unlock(&m->lock);
	ret = live_save__create(&env, &p->live, &ls);
	if (ret) {
		snprintf(err, errlen, "cannot start: %s", strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&m->lock);
	live_save__destroy(m->ls);
	m->ls = ls;
	m->addr = addr;
	m->running = true;
	m->final_seen = false;
	m->job = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	log_info("migration: to %s (downtime limit %u ms)", addr.text,
		 p->live.downtime_limit_ms ? p->live.downtime_limit_ms :
					     LIVE_DEFAULT_DOWNTIME_MS);
	return 0;
}

int vm__migrate_cancel(struct vm *vm)
{
	struct vm_migrate *m = vm->migrate;
	int ret = -ENOENT;

	if (!m)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	if (m->running && m->ls) {
		live_save__cancel(m->ls);
		ret = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

void vm__migrate_status(struct vm *vm, struct live_status *out)
{
	struct vm_migrate *m = vm->migrate;

	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->ls)
		live_save__status(m->ls, out);
	if (out->phase == LIVE_PHASE_COMPLETED && !m->final_seen) {
		m->final_seen = true;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}
