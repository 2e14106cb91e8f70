/*
 * snapshot-load.h: opening, validating and restoring a snapshot written
 * by snapshot__save (snapshot.h), and printing what one holds.
 *
 * Restore is two-phase. snapshot__open validates everything that can be
 * validated without the new VM: manifest (magic, version, checksum,
 * known parts), every part's size and CRC-32C except the memory image's
 * chunks, fdt_check_full and the header of the state tree, the memory
 * node. snapshot__restore first parses every handler's state into
 * staging (phase 1) and applies nothing unless all of it is accepted.
 * A bad snapshot gets one line naming the part, node or property.
 */
#ifndef MIGRATION_SNAPSHOT_LOAD_H
#define MIGRATION_SNAPSHOT_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/util.h"

struct snapshot;
struct migration;
struct guest_mem;

enum snapshot_restore_mode {
	/*
	 * Map memory.img MAP_PRIVATE: nothing is read up front, pages come
	 * in on first touch, writes are private. Only without DMA-capable
	 * devices (the result has no shareable fd). Chunk checksums are not
	 * checked (that would read the whole image); see docs/snapshot.md.
	 */
	SNAPSHOT_RESTORE_LAZY = 0,
	/* Read memory.img into a new memfd, verifying every chunk. */
	SNAPSHOT_RESTORE_COPY,
};

/*
 * Open and validate the snapshot in directory @dir (see above). Does not
 * read memory.img. Returns 0 and *out (close with snapshot__close), or
 * -errno with one line in @err: -ENOENT (no such directory, no
 * MANIFEST), -EINVAL (invalid or corrupt), -EFBIG (a part over its
 * size limit), or an I/O error.
 */
int __must_check snapshot__open(const char *dir, struct snapshot **out,
				char *err, size_t errlen);

/* Close. NULL-safe. Memory mapped by snapshot__load_memory stays valid. */
void snapshot__close(struct snapshot *s);

/* Guest RAM size recorded in the snapshot. */
uint64_t snapshot__mem_size(const struct snapshot *s);

/* The saved VM configuration (JSON text), or NULL if none was saved. */
const char *snapshot__config_json(const struct snapshot *s);

/*
 * Build the guest memory for the restored VM: @expected_size (from the
 * VM configuration) must equal the snapshot's. LAZY maps the image,
 * COPY reads and verifies it (see enum). Returns 0 and *out (owned by
 * the caller, mem__destroy), or -errno with one line in @err.
 */
int __must_check snapshot__load_memory(struct snapshot *s,
				       uint64_t expected_size,
				       enum snapshot_restore_mode mode,
				       struct guest_mem **out, char *err,
				       size_t errlen);

/* Read all of memory.img and check every chunk CRC. 0 or -errno + @err. */
int __must_check snapshot__verify_memory(struct snapshot *s, char *err,
					 size_t errlen);

/*
 * Restore the state of every handler registered in @mig from @s.
 * Phase 1: every state node must belong to a handler and every handler
 * must have a node (same ids), versions must not be newer than the
 * handler's, data streams must match load_data; every load_state must
 * accept its node. Nothing is applied if any of this fails.
 * Phase 2: load_setup, load_data (device files re-checked against their
 * CRC while streamed), load_apply in handler order, load_cleanup.
 * A phase-2 failure leaves the new VM partly restored: the caller must
 * destroy it without running it. Returns 0 or -errno with @err.
 */
int __must_check snapshot__restore(struct snapshot *s, struct migration *mig,
				   char *err, size_t errlen);

/*
 * Validate the snapshot in @dir completely (including every memory
 * chunk) and print a summary to @out. Returns 0, or -errno with @err
 * (the summary printed so far is kept).
 */
int snapshot__inspect(const char *dir, FILE *out, char *err, size_t errlen);

#endif /* MIGRATION_SNAPSHOT_LOAD_H */
