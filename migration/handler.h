/*
 * handler.h: what every stateful component (vCPU, irqchip, PIT, clock,
 * serial, PCI, each VFIO device) gives the migration framework: one
 * table of lifecycle hooks plus an opaque pointer. The same hooks serve
 * snapshots (no precopy iterations, written to a directory) and live
 * migration (iterations over a connection).
 *
 * A component has two kinds of state:
 *  - "config state": small, plain data written with the state visitor
 *    into the component's own node of the state tree (save_state /
 *    load_state). Every handler has it.
 *  - an optional "data stream": an opaque byte stream the component
 *    produces in order (a VFIO device's migration data). Snapshots
 *    store it as devices/<id>.bin; live migration will frame it.
 *
 * Source side, in order (VM running until "complete"):
 *   save_setup -> { pending_estimate / pending_exact, save_iterate }*
 *   -> VM paused -> save_complete -> save_state -> save_cleanup
 * A snapshot calls save_setup, save_complete, save_state, save_cleanup
 * with the VM already paused. save_cleanup runs whenever save_setup
 * ran (also after an error), so slow device transitions (VFIO
 * STOP_COPY -> STOP) happen outside the downtime.
 *
 * Destination side, two phases, so a bad snapshot never half-restores:
 *   1. load_state for every handler: parse and validate the node into
 *      the handler's own staging area. NO side effects on the live
 *      component or KVM; may fail with a message.
 *   2. only if every handler accepted its state: load_setup ->
 *      load_data (the data stream, in order, any chunking) ->
 *      load_apply (push staged state into the component/KVM) ->
 *      load_cleanup (always, once load_setup ran).
 *
 * Handlers run in ascending `order`, then registration order, on both
 * sides: irqchip before vCPUs before devices, the KVM clock last.
 * All hooks run on the thread that drives the migration (the VMM thread
 * for snapshots). Return values: 0 or -errno unless stated.
 */
#ifndef MIGRATION_HANDLER_H
#define MIGRATION_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state_writer;
struct state_reader;
struct mig_sink;

/* Apply/save order classes (lower first). */
enum mig_order {
	MIG_ORDER_IRQCHIP = 0, /* PIC, IOAPIC, PIT: before LAPICs and vCPUs */
	MIG_ORDER_VCPU,        /* registers, MSRs, LAPIC, events */
	MIG_ORDER_DEVICE,      /* serial, PCI, VFIO */
	MIG_ORDER_CLOCK,       /* KVM clock: last, right before resuming */
};

/*
 * Where a handler's data stream goes. write() must consume all @len
 * bytes or fail (-ENOSPC, -EIO, ...). Provided by the orchestrator.
 */
struct mig_sink {
	int (*write)(struct mig_sink *sink, const void *buf, size_t len);
	uint64_t written; /* maintained by the orchestrator's write() */
};

static inline int mig_sink__write(struct mig_sink *sink, const void *buf,
				  size_t len)
{
	return sink->write(sink, buf, len);
}

struct mig_handler_ops {
	/* Version of this handler's state node format; written as "version". */
	uint32_t version;
	enum mig_order order;

	/* ---- source ---- */
	/* Optional. Start saving; may emit initial data to @data. */
	int (*save_setup)(void *opaque, struct mig_sink *data);
	/*
	 * Optional. Bytes still to send: a cheap estimate (while
	 * iterating) and an exact figure (may query the device). Sizes are
	 * estimates and may grow or shrink between calls.
	 */
	void (*pending_estimate)(void *opaque, uint64_t *bytes);
	void (*pending_exact)(void *opaque, uint64_t *bytes);
	/*
	 * Optional (precopy). Emit one bounded chunk of the data stream.
	 * Returns 1 when nothing is left for now, 0 when more is pending,
	 * or -errno. Never called by snapshots.
	 */
	int (*save_iterate)(void *opaque, struct mig_sink *data);
	/* Optional. VM paused: emit the rest of the data stream. */
	int (*save_complete)(void *opaque, struct mig_sink *data);
	/*
	 * REQUIRED. VM paused: write the config state as properties of the
	 * node the framework opened for this handler (child nodes allowed).
	 */
	int (*save_state)(void *opaque, struct state_writer *w);
	/* Optional. Always after save_setup, success or not. */
	void (*save_cleanup)(void *opaque);

	/* ---- destination ---- */
	/*
	 * REQUIRED. Phase 1: parse node @node written with version
	 * @version (<= ops->version; the framework rejects newer) into
	 * private staging. Report problems with state__fail(). No side
	 * effects outside the staging area.
	 */
	int (*load_state)(void *opaque, struct state_reader *r, int node,
			  uint32_t version);
	/* Optional. Phase 2 starts: e.g. VFIO -> RESUMING. */
	int (*load_setup)(void *opaque);
	/* Optional. The data stream, in order; required if one was saved. */
	int (*load_data)(void *opaque, const void *buf, size_t len);
	/* REQUIRED. Apply the staged state to the live component / KVM. */
	int (*load_apply)(void *opaque);
	/* Optional. Always after load_setup ran, success or not. */
	void (*load_cleanup)(void *opaque);

	/*
	 * Optional (live migration). True if the destination must see this
	 * handler's initial precopy data before the source may switch over;
	 * the handler then calls migration__approve_switchover() when its
	 * data stream says the initial data has arrived.
	 */
	bool (*switchover_ack_needed)(void *opaque);

	/*
	 * Optional. A word the peer's handler of the same id must report
	 * identically, checked in the live-migration handshake before any
	 * state flows (a VFIO device: its VFIO_MIGRATION_* flags). Without
	 * it the word is 0.
	 */
	uint64_t (*compat)(void *opaque);
	/* Optional. Free @opaque when the migration object is destroyed. */
	void (*release)(void *opaque);
};

/* Longest handler id including NUL; ids name state nodes and files. */
#define MIG_ID_MAX 32

struct mig_handler {
	char id[MIG_ID_MAX];             /* "vcpu0", "irqchip", "serial0" */
	const struct mig_handler_ops *ops; /* borrowed, static */
	void *opaque;                    /* owned iff ops->release */
};

#endif /* MIGRATION_HANDLER_H */
