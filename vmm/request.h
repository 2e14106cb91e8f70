/*
 * request.h: the plain-data requests the API thread hands to the VMM
 * thread, and the plain-data answers it gets back. The API thread turns
 * HTTP+JSON into a struct vmm_request (validated: only the VMM-side
 * preconditions are left to check), the VMM thread executes it
 * (vmm/control.c) and fills a struct vmm_response, which the API thread
 * turns back into JSON. Nothing here holds a pointer or an fd, so the
 * structs can be copied freely across the queue (vmm/api-queue.h).
 *
 * Errors are -errno values; the API maps them to HTTP statuses:
 *   -EBUSY     409 Conflict   (the VM is in the wrong state for this)
 *   -EINVAL    400 Bad Request
 *   -ENOTSUP   501 Not Implemented
 *   -EEXIST    409 Conflict   (the snapshot target exists)
 *   -ENOENT    404 Not Found  (a path does not exist)
 *   -EACCES    403 Forbidden  (the file system refused access)
 *   -ENOSPC    507 Insufficient Storage
 *   -EOPNOTSUPP 501 Not Implemented (e.g. a migration blocker)
 *   -ESHUTDOWN 503 Service Unavailable (the VM is stopping or stopped)
 *   -ETIMEDOUT 504 Gateway Timeout (the VMM thread did not answer)
 *   other      500 Internal Server Error
 */
#ifndef VMM_REQUEST_H
#define VMM_REQUEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device-info.h"
#include "vmm/config.h"
#include "vmm/vm-migrate.h"
#include "vmm/vm.h"

enum vmm_req_type {
	/*
	 * GET /vm. Any state. Fills resp.info, resp.config and the device
	 * list (resp.nr_devices, resp.devices, in creation order).
	 */
	VMM_REQ_GET_INFO = 0,
	/*
	 * PUT /vm/pause. Precondition: RUNNING (else -EBUSY). Answers once
	 * every vCPU is out of the guest and devices are quiesced.
	 */
	VMM_REQ_PAUSE,
	/* PUT /vm/resume. Precondition: PAUSED (else -EBUSY). */
	VMM_REQ_RESUME,
	/*
	 * PUT /vm/shutdown. Precondition: CREATED, RUNNING or PAUSED (else
	 * -EBUSY: a stop is already under way). Starts an orderly stop and
	 * answers at once; the process exits 0 once the VM has stopped.
	 */
	VMM_REQ_SHUTDOWN,
	/*
	 * GET /vm/operation. Any state. Fills resp.op with the progress of
	 * the current (or last) long-running operation (snapshot,
	 * migration); op.state is VMM_OP_NONE when there never was one.
	 */
	VMM_REQ_GET_OPERATION,
	/*
	 * PUT /snapshot/create. Precondition: PAUSED (else -EBUSY) and no
	 * other long-running operation (else -EBUSY). Writes the snapshot
	 * (vm__snapshot) and answers when it is complete; progress meanwhile
	 * in GET /vm/operation (operation "snapshot"). Errors: -EEXIST (the
	 * target exists and replace is false, or it is not a snapshot),
	 * -ENOSPC, -ENOENT, -EACCES, -EINVAL, other -errno, with vm__snapshot's
	 * one-line reason in resp.message.
	 */
	VMM_REQ_SNAPSHOT_CREATE,
	/*
	 * live migration (issue 6). PUT /migration: precondition RUNNING or
	 * PAUSED, no migration running (else -EBUSY), no blocker (else
	 * -EOPNOTSUPP with the reason), a valid URL (else -EINVAL). Starts
	 * the migration on the migration thread and answers at once with
	 * resp.migration. GET /migration: any state; resp.migration (phase
	 * "none" when there never was one). DELETE /migration: cancels
	 * (-ENOENT: none running); the source keeps running.
	 */
	VMM_REQ_MIGRATE_START,
	VMM_REQ_MIGRATE_STATUS,
	VMM_REQ_MIGRATE_CANCEL,
	/*
	 * PUT /snapshot/load. Only in a ferry started with --wait-restore,
	 * before any VM exists (else -EBUSY): builds the VM from the
	 * snapshot (vm__restore) and runs it, paused unless resume. Errors:
	 * -EINVAL (bad snapshot, named), -ENOENT, other -errno.
	 */
	VMM_REQ_SNAPSHOT_LOAD,
	VMM_REQ__COUNT,
};

/* Parameters of VMM_REQ_SNAPSHOT_CREATE. */
struct vmm_snapshot_params {
	char path[PATH_MAX]; /* directory to create; NUL-terminated, non-empty */
	bool replace;        /* replace an existing snapshot at path */
};

/* Parameters of VMM_REQ_SNAPSHOT_LOAD. */
struct vmm_snapshot_load_params {
	char path[PATH_MAX]; /* snapshot directory; NUL-terminated, non-empty */
	bool resume;         /* run at once (default: come up paused) */
	bool copy;           /* read memory eagerly instead of mapping it */
};

/* A request: the type and its parameters (plain data). */
struct vmm_request {
	enum vmm_req_type type;
	union {
		struct vmm_snapshot_params snapshot; /* VMM_REQ_SNAPSHOT_CREATE */
		struct vmm_snapshot_load_params load; /* VMM_REQ_SNAPSHOT_LOAD */
		struct vm_migrate_params migrate;    /* VMM_REQ_MIGRATE_START */
	};
};

enum vmm_op_state {
	VMM_OP_NONE = 0,  /* no long-running operation ever started */
	VMM_OP_RUNNING,
	VMM_OP_SUCCEEDED,
	VMM_OP_FAILED,
};

#define VMM_OP_NAME_MAX 32     /* "snapshot", "migrate", ... */
#define VMM_MESSAGE_MAX 256    /* one human-readable line */
/* Devices in GET /vm: the legacy set, the PCI host and every VFIO device. */
#define VMM_MAX_DEVICES (8 + CONFIG_MAX_VFIO)

/* Progress of a long-running operation; plain data, copied out. */
struct vmm_op_progress {
	enum vmm_op_state state;
	uint64_t id;              /* increments with each operation started */
	char name[VMM_OP_NAME_MAX];
	uint64_t done_bytes;
	uint64_t total_bytes;     /* 0: unknown */
	uint64_t elapsed_ms;      /* since the start (until the end) */
	char message[VMM_MESSAGE_MAX]; /* VMM_OP_FAILED: the reason */
};

struct vmm_response {
	int ret;                       /* 0 or -errno (see the table above) */
	char message[VMM_MESSAGE_MAX]; /* ret != 0: why, for the client */
	struct vm_info info;           /* VMM_REQ_GET_INFO */
	struct vm_config config;       /* VMM_REQ_GET_INFO: effective config */
	unsigned int nr_devices;       /* VMM_REQ_GET_INFO: entries in devices */
	struct device_info devices[VMM_MAX_DEVICES];
	struct vmm_op_progress op;     /* VMM_REQ_GET_OPERATION */
	struct live_status migration;  /* VMM_REQ_MIGRATE_* */
};

/* Name of a VM state for JSON and logs ("running", ...). */
static inline const char *vmm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_STATE_CREATED:
		return "created";
	case VM_STATE_RUNNING:
		return "running";
	case VM_STATE_PAUSED:
		return "paused";
	case VM_STATE_STOPPING:
		return "stopping";
	case VM_STATE_STOPPED:
		return "stopped";
	}
	return "unknown";
}

/* Name of an operation state for JSON ("none", "running", ...). */
static inline const char *vmm_op_state_name(enum vmm_op_state s)
{
	switch (s) {
	case VMM_OP_NONE:
		return "none";
	case VMM_OP_RUNNING:
		return "running";
	case VMM_OP_SUCCEEDED:
		return "succeeded";
	case VMM_OP_FAILED:
		return "failed";
	}
	return "unknown";
}

#endif /* VMM_REQUEST_H */
