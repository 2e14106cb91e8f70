/*
 * live.h: live migration of a running VM to another ferry process over
 * a stream socket (format: migration/live-wire.h, docs/live-migration.md).
 *
 * Source (live-save*.c): handshake -> the destination accepts or refuses
 * (compatibility) -> dirty tracking starts and every handler's
 * save_setup runs -> precopy iterations (dirty RAM from every dirty
 * source, device data from save_iterate) until the estimated time for
 * what remains fits the downtime limit at the measured bandwidth and
 * every device's switchover-ack has arrived -> the VM is paused and the
 * rest goes (final dirty pages, save_complete, save_state) -> the
 * destination answers DONE -> the caller stops the source VM. Any
 * failure or a cancel before DONE leaves the source VM running with its
 * devices back in RUNNING (save_cleanup, then resume).
 *
 * Destination (live-load.c): checks the handshake before any state
 * flows, builds the VM through a callback, streams RAM and device data
 * into it, loads and applies the state, answers DONE; the caller then
 * runs the VM.
 */
#ifndef MIGRATION_LIVE_H
#define MIGRATION_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/util.h"

struct migration;
struct state_writer;
struct state_reader;

/* Defaults of struct live_params (0 in a field means "default"). */
#define LIVE_DEFAULT_DOWNTIME_MS 300u
#define LIVE_DEFAULT_MAX_ITERATIONS 30u
#define LIVE_DEFAULT_TIMEOUT_MS 60000u
/*
 * RAM connections of the first pass when not asked: two keep a sending
 * and a receiving thread busy on each side of a 2-core host and cut the
 * 1 GiB first pass by about a fifth here (tools/bench.sh migrate).
 */
#define LIVE_DEFAULT_CHANNELS 2u

struct live_params {
	uint32_t downtime_limit_ms; /* switch over when the rest fits */
	uint32_t max_iterations;    /* precopy iterations before giving up */
	uint32_t timeout_ms;        /* precopy time before giving up */
	/* At the iteration or time limit: switch over anyway, or fail. */
	bool switchover_on_timeout;
	uint64_t max_bandwidth;     /* bytes/s; 0 = unlimited */
	/*
	 * Do not wait for the destination's switchover-ack (devices'
	 * initial precopy data loaded) before switching over.
	 */
	bool no_switchover_ack;
	/*
	 * Connections for the first RAM pass (1..LIVE_MAX_CHANNELS; 0 means
	 * LIVE_DEFAULT_CHANNELS). More than one needs env.connect; with
	 * max_bandwidth set it is 1, the cap being per migration.
	 */
	uint32_t channels;
};

enum live_phase {
	LIVE_PHASE_NONE = 0,
	LIVE_PHASE_SETUP,      /* connecting, handshake, device setup */
	LIVE_PHASE_PRECOPY,    /* iterating while the VM runs */
	LIVE_PHASE_SWITCHOVER, /* VM paused, sending the rest */
	LIVE_PHASE_COMPLETED,
	LIVE_PHASE_FAILED,
	LIVE_PHASE_CANCELLED,
};

/* Name for JSON ("precopy", ...). */
const char *live__phase_name(enum live_phase p);

/* Progress and result, plain data (copied out under a lock). */
struct live_status {
	enum live_phase phase;
	uint32_t iteration;
	uint64_t bytes_sent;           /* on the wire */
	uint64_t pages_sent;           /* RAM pages with data */
	uint64_t zero_pages;           /* RAM pages sent as ZERO */
	uint64_t device_bytes_sent;
	uint64_t dirty_rate;           /* bytes/s dirtied, last iteration */
	uint64_t bandwidth;            /* bytes/s, measured */
	uint64_t pending_ram;          /* bytes of dirty RAM at the last sync */
	uint64_t pending_device;       /* bytes the devices still hold */
	uint64_t expected_downtime_ms;
	bool switchover_acked;
	uint64_t total_ms;             /* so far / in total */
	uint64_t downtime_ms;          /* measured: pause -> DONE (completed) */
	uint64_t setup_ms;             /* connect -> precopy start */
	char message[256];             /* failed/cancelled: why */
};

/* What the VM side provides to a migration source. */
struct live_save_env {
	struct migration *mig; /* borrowed: handlers, memory, dirty sources */
	/*
	 * Write the VM's description into the open "vm" node of the
	 * handshake (configuration, CPUID). May be NULL.
	 */
	int (*hello)(void *opaque, struct state_writer *w);
	/*
	 * Pause the VM, then run @fn(@arg) and return its result; the VM
	 * stays paused either way (*@paused true; resume follows on
	 * failure). Returns the pause's -errno without calling @fn, and
	 * *@paused false, if the VM cannot be paused.
	 */
	int (*run_paused)(void *opaque, int (*fn)(void *arg), void *arg,
			  bool *paused);
	/* After a failed run_paused: the VM runs again. */
	void (*resume)(void *opaque);
	/* Optional: progress changed (for a live display). */
	void (*progress)(void *opaque, const struct live_status *st);
	/*
	 * Optional: open one more connection to the destination (a RAM
	 * channel). Returns the connected fd, which the engine then owns,
	 * or -errno.
	 */
	int (*connect)(void *opaque);
	void *opaque;
};

struct live_save;

/*
 * Create a source for @env (copied) with @params (copied, defaults
 * filled in). Returns 0 and *out, or -ENOMEM / -EINVAL (no memory set
 * in the migration object).
 */
int __must_check live_save__create(const struct live_save_env *env,
				   const struct live_params *params,
				   struct live_save **out);

/* Free. Call after live_save__run returned. NULL-safe. */
void live_save__destroy(struct live_save *ls);

/*
 * Run the whole migration over the connected socket @fd (borrowed; the
 * caller closes it). Blocks until completed, failed or cancelled; runs
 * handler hooks on the calling thread except those under run_paused.
 * Returns 0 when the destination confirmed (the caller must now stop
 * the source VM and never resume it), or -errno with the reason in the
 * status (-ECANCELED after live_save__cancel). On error the VM runs.
 */
int live_save__run(struct live_save *ls, int fd);

/*
 * Ask a running migration to stop (any thread): it fails with
 * -ECANCELED at the next check, or sooner by shutting the socket down.
 * Has no effect after the switchover completed.
 */
void live_save__cancel(struct live_save *ls);

/* Thread-safe copy of the progress. */
void live_save__status(struct live_save *ls, struct live_status *out);

/* Mark a failure before run (e.g. connect failed) in the status. */
void live_save__fail(struct live_save *ls, int ret, const char *msg);

/* What the VM side provides to a migration destination. */
struct live_load_env {
	/*
	 * Check the "vm" node @node of the handshake and build the VM
	 * (not running) with memory of the handshake's size. On success
	 * *mig is the new VM's migration object (memory set). On refusal
	 * returns -errno with the reason in @err (sent to the source).
	 */
	int (*prepare)(void *opaque, struct state_reader *r, int node,
		       uint64_t mem_size, struct migration **mig, char *err,
		       size_t errlen);
	/*
	 * Optional. The VM exists and is compatible: last set-up before
	 * any state flows (API, worker threads, privilege drop), so that
	 * it is paid before the source's downtime, not after the load.
	 * Non-zero refuses the migration with @err.
	 */
	int (*ready)(void *opaque, char *err, size_t errlen);
	/*
	 * Optional. When set, the rest of the stream (RAM, device data,
	 * the state of every component) is parsed on a loader thread that
	 * first calls this, to confine itself (a seccomp filter); the thread
	 * ends with the load, so nothing it installs outlives it or is
	 * inherited by threads made later. Non-zero fails the migration.
	 */
	int (*confine)(void *opaque);
	/*
	 * Optional: take one more connection from the source (a RAM
	 * channel), waiting at most @timeout_ms. Returns the fd, which the
	 * load then owns, or -errno. Without it the destination refuses a
	 * source that wants more than one connection.
	 */
	int (*accept)(void *opaque, unsigned int timeout_ms);
	void *opaque;
};

/*
 * Receive a migration on the connected socket @fd (borrowed). Returns
 * 0 when the VM built by env->prepare holds the complete, applied state
 * and the source was told DONE: the caller runs it. Returns -errno with
 * one line in @err otherwise (the source was told why when possible);
 * a VM that prepare built must then be destroyed unrun.
 */
int live__load(int fd, const struct live_load_env *env, char *err,
	       size_t errlen);

#endif /* MIGRATION_LIVE_H */
