/*
 * snapshot.h: writing a snapshot: the migration flow with no precopy
 * iterations, into a directory:
 *   MANIFEST            format magic/version, creation info, every part
 *                       with its size and CRC-32C; written last
 *   state.dtb           all handlers' config state (flattened device tree)
 *   memory.img          guest RAM, raw and sparse; chunk CRCs in state.dtb
 *   config.json         the VM configuration (if the caller gives one)
 *   devices/<id>.bin    data stream of each handler that produces one
 * The directory is built under a temporary name next to the target,
 * every file and directory is fsynced, then it is renamed into place
 * (atomically exchanged with an older snapshot when replacing). A crash,
 * ENOSPC or an error midway leaves no directory under the target name
 * that restores as valid, and never touches an existing snapshot.
 * Restore: snapshot-load.h. Layout and rationale: docs/snapshot.md.
 */
#ifndef MIGRATION_SNAPSHOT_H
#define MIGRATION_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

struct migration;

/* Progress: @done of @total bytes (RAM plus device data). */
typedef void (*snapshot_progress_fn)(void *opaque, uint64_t done,
				     uint64_t total);

struct snapshot_save_opts {
	/* VM configuration as JSON text (config__to_json); NULL: none. */
	const char *config_json;
	/* Replace an existing snapshot at the target (only if it is one). */
	bool replace;
	/*
	 * Threads for the RAM image: 2 = checksums on a helper thread
	 * (needs thread creation allowed by seccomp), 0 or 1 = one thread.
	 */
	unsigned int threads;
	snapshot_progress_fn progress; /* optional */
	void *opaque;
};

/*
 * Save the paused VM described by @mig (its handlers and its guest
 * memory, which must be set) to directory @dir. Preconditions: vCPUs
 * out of KVM_RUN and devices quiesced; called on the thread that owns
 * the VM. Calls save_setup, save_complete, save_state and save_cleanup
 * of every handler (cleanup always, once setup ran).
 * Returns 0, or -errno with one line in @err:
 *   -EEXIST  @dir exists and !opts->replace (or it is not a snapshot)
 *   -ENOSPC  the file system filled up (nothing left behind)
 *   -EINVAL  no guest memory set, bad @dir
 *   other    a handler's error, an I/O error.
 */
int __must_check snapshot__save(struct migration *mig, const char *dir,
				const struct snapshot_save_opts *opts,
				char *err, size_t errlen);

#endif /* MIGRATION_SNAPSHOT_H */
