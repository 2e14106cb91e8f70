/*
 * vfio-migration.h: migration of one VFIO device's internal state
 * through the VFIO migration uAPI v2, over any struct vfio_backend
 * (vfio-user or kernel VFIO). It probes what the device supports at
 * realize, keeps the device's FSM state, changes it with the recover-
 * state discipline (try the recover state, else reset), and plugs into
 * migration/ as a handler: stop-and-copy for snapshots, PRE_COPY for
 * live migration. The device model supplies its config state (virtual
 * config space, MSI-X) through struct vfio_mig_config_ops.
 */
#ifndef MIGRATION_VFIO_MIGRATION_H
#define MIGRATION_VFIO_MIGRATION_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/util.h"

struct vfio_backend;
struct vfio_migration;
struct migration;
struct state_writer;
struct state_reader;

/* The device model's config state, saved after the device's data. */
struct vfio_mig_config_ops {
	/* Write config state as properties/child nodes of the open node. */
	int (*save)(void *opaque, struct state_writer *w);
	/* Parse @node into staging (no side effects). */
	int (*load)(void *opaque, struct state_reader *r, int node);
	/* Apply the staged config after the device state is loaded. */
	int (*apply)(void *opaque);
};

/*
 * Probe @be's migration support for device @id (borrowed, must outlive
 * the result). @mode: AUTO (unsupported -> blocker with the reason), ON
 * (unsupported -> -EOPNOTSUPP, logged), OFF (always a blocker). Returns
 * 0 and *out, or -errno.
 */
int __must_check vfio_mig__create(struct vfio_backend *be, const char *id,
				  enum vfio_migration_mode mode,
				  const struct vfio_mig_config_ops *cfg,
				  void *cfg_opaque, struct vfio_migration **out);

/* Free. The device is left in whatever state it is. NULL-safe. */
void vfio_mig__destroy(struct vfio_migration *m);

/*
 * Register the handler (id = the device id) in @mig, or the device's
 * blockers when it cannot migrate. Returns 0 or -errno.
 */
int __must_check vfio_mig__register(struct vfio_migration *m,
				    struct migration *mig);

/* Why the device cannot be snapshotted/migrated; NULL when it can. */
const char *vfio_mig__blocker(const struct vfio_migration *m);

/* VFIO_MIGRATION_* flags the device reported (0 when unsupported). */
uint64_t vfio_mig__flags(const struct vfio_migration *m);

/* The device offers DMA dirty logging (what live migration needs). */
bool vfio_mig__dirty_tracking(const struct vfio_migration *m);

/*
 * VM pause / resume: RUNNING -> STOP (no DMA, no interrupts) and back.
 * A device without migration support is left alone. Returns 0 or -errno
 * (after recovering: the device is then RUNNING again or reset).
 */
int vfio_mig__vm_stop(struct vfio_migration *m);
int vfio_mig__vm_start(struct vfio_migration *m);

/*
 * The P2P phases around them (devices with VFIO_MIGRATION_P2P; a no-op
 * for others): before any device stops, every device quiesces peer-to-
 * peer DMA (RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P); before
 * any device runs again, every device goes STOP -> RUNNING_P2P. Returns
 * 0 or -errno (after recovering or resetting).
 */
int vfio_mig__vm_prepare_stop(struct vfio_migration *m);
int vfio_mig__vm_prepare_start(struct vfio_migration *m);

/* Current cached FSM state (enum vfio_device_mig_state). */
uint32_t vfio_mig__state(const struct vfio_migration *m);

/* Name of an FSM state for logs ("RUNNING", "STOP_COPY", ...). */
const char *vfio_mig__state_name(uint32_t state);

#endif /* MIGRATION_VFIO_MIGRATION_H */
