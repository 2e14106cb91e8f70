/*
 * worker.h: a helper thread that runs jobs for the VMM thread under a
 * seccomp role of its own. ferry's main role opens no files, so the
 * snapshot I/O (creating a directory, files, fsync, rename, given a
 * path over the API) runs on a worker confined as SC_ROLE_MIGRATION.
 * The thread must be created before the VMM thread confines itself:
 * a thread inherits its creator's filter and can only narrow it
 * (docs/security.md). Jobs are synchronous: the caller blocks until the
 * job returns, so a job may touch whatever the caller owns (the VM is
 * paused and its VMM thread waits) without any further locking.
 */
#ifndef VMM_WORKER_H
#define VMM_WORKER_H

#include "seccomp/policy.h"
#include "vmm/util.h"

struct worker;

/* A job: returns 0 or -errno, passed back to worker__run's caller. */
typedef int (*worker_job_fn)(void *opaque);

/*
 * Start a worker thread that first installs the filter of @role
 * (sandbox__enter), then waits for jobs; its log tag is @tag (copied).
 * Call after sandbox__drop_privileges and before the creating thread
 * confines itself. Returns 0 and *out, or -errno (logged).
 */
int __must_check worker__create(enum sc_role role, const char *tag,
				struct worker **out);

/*
 * Run @fn(@opaque) on the worker and wait for it. Any thread, one job
 * at a time (concurrent callers queue up). Returns @fn's result, or
 * -ESHUTDOWN when the worker failed to confine itself (the job never
 * runs unconfined).
 */
int worker__run(struct worker *w, worker_job_fn fn, void *opaque);

/* Stop and join the thread, then free. No job may be running. NULL-safe. */
void worker__destroy(struct worker *w);

#endif /* VMM_WORKER_H */
