/*
 * op-progress.h: the progress record of ferry's long-running operations
 * (snapshot, later migration). One record per VM, shared by the thread
 * doing the work (VMM thread or migration worker), which reports, and
 * the API thread, which answers `GET /vm/operation` straight from it
 * without going through the VMM thread (that thread is busy for the
 * whole of a snapshot). Thread-safe: every function takes the record's
 * own lock, and nothing in it is VM state.
 */
#ifndef VMM_OP_PROGRESS_H
#define VMM_OP_PROGRESS_H

#include <stdint.h>

#include "vmm/util.h"

struct op_progress;
struct vmm_op_progress;

/* Create an empty record (state VMM_OP_NONE). Returns 0 or -ENOMEM. */
int __must_check op_progress__create(struct op_progress **out);

/* Free the record. No thread may still use it. NULL-safe. */
void op_progress__destroy(struct op_progress *p);

/*
 * Start operation @name ("snapshot", ...; truncated to VMM_OP_NAME_MAX)
 * of @total_bytes (0: unknown): id + 1, state VMM_OP_RUNNING. Returns 0,
 * or -EBUSY while another operation is running.
 */
int __must_check op_progress__begin(struct op_progress *p, const char *name,
				    uint64_t total_bytes);

/* Report @done_bytes (and a new total when not 0) of the running one. */
void op_progress__update(struct op_progress *p, uint64_t done_bytes,
			 uint64_t total_bytes);

/*
 * End the running operation: @ret 0 succeeded, or -errno failed with
 * @message (NULL: strerror). No-op when none is running.
 */
void op_progress__end(struct op_progress *p, int ret, const char *message);

/* Copy the current (or last) operation out; elapsed_ms is live while running. */
void op_progress__get(struct op_progress *p, struct vmm_op_progress *out);

#endif /* VMM_OP_PROGRESS_H */
