/*
 * registry.h: the per-VM migration object: the list of registered
 * state handlers (in apply order) and the guest memory to save. The
 * orchestrators (snapshot.c, later live migration) iterate over it;
 * components register themselves once, after they are created.
 * Threads: VMM thread only.
 */
#ifndef MIGRATION_REGISTRY_H
#define MIGRATION_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "migration/handler.h"
#include "vmm/util.h"

struct migration;
struct guest_mem;

/* Most handlers per VM: vCPUs + irqchip + clock + devices, with room. */
#define MIG_MAX_HANDLERS 128

/* Create an empty migration object. Returns 0 and *out or -ENOMEM. */
int __must_check migration__create(struct migration **out);

/*
 * Destroy: calls ops->release(opaque) for every handler that has it,
 * in reverse order. NULL-safe.
 */
void migration__destroy(struct migration *mig);

/*
 * Register a handler. @id: 1..31 characters of [A-Za-z0-9_.,+-], not
 * "memory" (reserved), unique in @mig. @ops is borrowed (static),
 * must have save_state, load_state and load_apply. On success the
 * handler owns @opaque iff ops->release is set; on failure nothing is
 * taken. Returns 0, -EINVAL (bad id or ops), -EEXIST, -ENOSPC.
 */
int __must_check migration__register(struct migration *mig, const char *id,
				     const struct mig_handler_ops *ops,
				     void *opaque);

/*
 * Remove handler @id (calling release). Returns 0 or -ENOENT. For a
 * component that is destroyed before the VM (hot-unplug).
 */
int migration__unregister(struct migration *mig, const char *id);

/* Number of handlers, and handler @i (0-based, in apply order) or NULL. */
size_t migration__count(const struct migration *mig);
struct mig_handler *migration__handler(struct migration *mig, size_t i);

/* Handler with id @id, or NULL. */
struct mig_handler *migration__find(struct migration *mig, const char *id);

/* Guest memory to save (borrowed; NULL: none). */
void migration__set_memory(struct migration *mig, struct guest_mem *mem);
struct guest_mem *migration__memory(const struct migration *mig);

/* True if @id is acceptable as a handler id (see migration__register). */
bool migration__valid_id(const char *id);

/*
 * Switchover-ack accounting for the destination of a live migration:
 * reset counts the handlers whose switchover_ack_needed() says true;
 * each approve decrements (-EINVAL if already 0); pending is what is
 * left. Snapshots do not use it.
 */
unsigned int migration__switchover_reset(struct migration *mig);
int migration__approve_switchover(struct migration *mig);
unsigned int migration__switchover_pending(const struct migration *mig);

/*
 * Migration blockers: a component that cannot be migrated says why.
 * A blocker stops snapshots and live migration, or with @live_only
 * live migration only (e.g. a device without DMA dirty tracking).
 */
#define MIG_MAX_BLOCKERS 16
#define MIG_BLOCKER_REASON_MAX 160

struct mig_blocker {
	char id[MIG_ID_MAX];
	char reason[MIG_BLOCKER_REASON_MAX];
	bool live_only;
};

/* Record a blocker (copied). Returns 0 or -ENOSPC. */
int migration__add_blocker(struct migration *mig, const char *id,
			   const char *reason, bool live_only);

/*
 * The first blocker that applies: to a snapshot (@live false: only
 * blockers that are not live_only) or to live migration (@live true:
 * all). NULL when nothing blocks.
 */
const struct mig_blocker *migration__blocker(const struct migration *mig,
					     bool live);

/*
 * Dirty sources for live migration (migration/dirty.h): KVM's dirty
 * log, each VFIO device's DMA logging. @id as for handlers (copied);
 * @ops borrowed (static), @opaque borrowed (must outlive the
 * registration). Returns 0, -EINVAL, -EEXIST or -ENOSPC. Remove
 * returns 0 or -ENOENT. A migration in progress keeps using the sources
 * it started with, so (un)register only while none runs.
 */
#define MIG_MAX_DIRTY_SOURCES (2 + 8)

struct mig_dirty_source;
struct mig_dirty_source_ops;

int migration__add_dirty_source(struct migration *mig, const char *id,
				const struct mig_dirty_source_ops *ops,
				void *opaque);
int migration__remove_dirty_source(struct migration *mig, const char *id);
size_t migration__dirty_count(const struct migration *mig);
const struct mig_dirty_source *migration__dirty_source(
	const struct migration *mig, size_t i);

#endif /* MIGRATION_REGISTRY_H */
