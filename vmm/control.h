/*
 * control.h: the VMM-thread side of the API. Registers the API's
 * request eventfd with the VM's event loop and executes each queued
 * struct vmm_request against the VM (pause, resume, shutdown, info),
 * checking the preconditions documented in vmm/request.h. Snapshots
 * run on a migration worker thread (vmm/worker.h) started by
 * control__start; their progress goes to the API's operation record
 * (vmm/op-progress.h) that `GET /vm/operation` reports.
 */
#ifndef VMM_CONTROL_H
#define VMM_CONTROL_H

#include <stdint.h>

#include "vmm/util.h"

struct api;
struct vm;
struct control;
struct vmm_request;
struct vmm_response;

/*
 * Execute @req on the VM @vm and fill @resp. VMM thread. Exposed so the
 * executor can be tested with a fake VM.
 */
/*
 * Fail @resp: ret = @ret (-errno) and a one-line message for the client.
 * For every code that answers API requests on the VMM thread.
 */
void control__error(struct vmm_response *resp, int ret, const char *fmt, ...)
	__printf(3, 4);

void control__execute(struct control *ctl, const struct vmm_request *req,
		      struct vmm_response *resp);

/*
 * Create the control side for @vm (borrowed; must outlive the control)
 * and register @api's request eventfd on vm__event_loop(@vm): queued
 * requests are then executed on the VMM thread. Call after vm__create,
 * before vm__run. Returns 0 or -errno (logged).
 */
int __must_check control__attach(struct api *api, struct vm *vm,
				  struct control **out);

/*
 * Start the migration worker (a thread confined as SC_ROLE_MIGRATION)
 * that snapshot requests run on. Call after sandbox__drop_privileges
 * and before vm__run (the VMM thread must not be confined yet, or the
 * worker would inherit its filter). Without it snapshots run on the
 * VMM thread itself. Returns 0 or -errno (logged). NULL-safe.
 */
int __must_check control__start(struct control *ctl);

/*
 * Unregister from the event loop and close the request queue, so API
 * requests still arriving get 503 instead of waiting; stop the worker.
 * Call after vm__run returned, before api__destroy. NULL-safe.
 */
void control__detach(struct control *ctl);

/*
 * Progress of long-running operations, in the API's record
 * (op_progress__*). Thread-safe (a migration worker may report). Begin returns -EBUSY while another operation runs;
 * otherwise it starts a new one (id + 1) named @name (e.g. "snapshot")
 * of @total_bytes (0: unknown).
 */
int __must_check control__op_begin(struct control *ctl, const char *name,
				   uint64_t total_bytes);
/* Report @done_bytes of the running operation (and a new total if not 0). */
void control__op_update(struct control *ctl, uint64_t done_bytes,
			uint64_t total_bytes);
/* End the running operation: @ret 0 (succeeded) or -errno with @message. */
void control__op_end(struct control *ctl, int ret, const char *message);

#endif /* VMM_CONTROL_H */
