/*
 * vm-migrate.h: live migration of a VM (migration/live.h) wired to the
 * VM object. Source: a migration thread, created before the VMM thread
 * confines itself and confined as SC_ROLE_MIGRATION, runs precopy while
 * the VMM thread keeps serving devices; at the switchover the VMM
 * thread pauses the VM and sends the stop-copy part (its seccomp role
 * has the vCPU/irqchip state ioctls), and on success the VM stops with
 * VM_STOP_MIGRATED. Destination: `ferry --incoming URL` waits for one
 * source, builds the VM from the handshake's configuration (host-side
 * settings and device paths from the command line, by device id, as
 * --restore does), loads it and returns it ready to run.
 */
#ifndef VMM_VM_MIGRATE_H
#define VMM_VM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "migration/live.h"
#include "vmm/util.h"

struct vm;
struct vm_config;
struct vm_migrate;

/* Longest migration URL ("tcp:[v6 address]:port", "unix:PATH"). */
#define VM_MIGRATE_URL_MAX 120

struct vm_migrate_params {
	char url[VM_MIGRATE_URL_MAX]; /* tcp:ADDR:PORT or unix:PATH */
	struct live_params live;      /* 0 fields: defaults */
	bool ignore_blockers;         /* migrate despite live-only blockers */
};

/*
 * Prepare live migration for @vm: KVM dirty-log source, the VMM-thread
 * request eventfd, and the migration thread. Call after
 * sandbox__drop_privileges and before vm__run (the thread must confine
 * itself before the VMM thread does). Returns 0 or -errno (logged).
 */
int __must_check vm__migrate_init(struct vm *vm);

/*
 * VMM thread. Start migrating the running (or paused) VM to @p->url.
 * Answers at once; progress in vm__migrate_status. Returns 0, -EBUSY
 * (a migration runs, or the VM is not running), -EOPNOTSUPP (a blocker,
 * named in @err), -EINVAL (bad URL or parameters), -ENOTSUP (no
 * vm__migrate_init), with one line in @err.
 */
int vm__migrate_start(struct vm *vm, const struct vm_migrate_params *p,
		      char *err, size_t errlen);

/* Any thread. Cancel the running migration: 0, or -ENOENT if none runs. */
int vm__migrate_cancel(struct vm *vm);

/* Any thread. Progress of the running or last migration (NONE if never). */
void vm__migrate_status(struct vm *vm, struct live_status *out);

/* Stop the thread (cancelling a migration) and free. NULL-safe. */
void vm_migrate__destroy(struct vm_migrate *m);

/* Called once the incoming VM exists, before state flows (see below). */
typedef int (*vm_incoming_ready_fn)(void *opaque, struct vm *vm);

/* Called on the loader thread before it parses any state (see below). */
typedef int (*vm_incoming_confine_fn)(void *opaque);

/*
 * Destination: listen on @url, take one source, build the VM (host-side
 * settings from @host) and load it. With @prealloc_size (0: none) the
 * guest memory is made and filled before the first connection is taken,
 * and a source with another memory size is refused. Once the VM is built and found
 * compatible, @ready_fn (optional) runs with it: the caller's set-up
 * that must not land in the source's downtime. With @confine_fn
 * (optional), the rest of the stream is then parsed on a loader thread
 * that calls it first (to install its seccomp filter) and ends with the
 * load; both callbacks get @opaque. Returns 0 and *out (a VM holding the
 * migrated state, to be run with vm__run), or -errno with one line in
 * @err; then *out is a VM to destroy (after undoing what @ready_fn did)
 * or NULL. Runs on the main thread.
 */
int vm__migrate_incoming(const struct vm_config *host, const char *url,
			 uint64_t prealloc_size, vm_incoming_ready_fn ready_fn,
			 vm_incoming_confine_fn confine_fn, void *opaque,
			 struct vm **out, char *err, size_t errlen);

#endif /* VMM_VM_MIGRATE_H */
