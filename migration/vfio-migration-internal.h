/*
 * vfio-migration-internal.h: the per-device migration state shared by
 * vfio-migration.c (FSM), vfio-migration-handler.c (the migration/
 * handler and its registration) and vfio-migration-dirty.c (the
 * device's DMA dirty log as a migration dirty source).
 */
#ifndef MIGRATION_VFIO_MIGRATION_INTERNAL_H
#define MIGRATION_VFIO_MIGRATION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/registry.h"

struct vfio_backend;
struct guest_mem;
struct mig_dirty_source_ops;
struct vfio_mig_config_ops;

/* Device stream record header: be64 tag, be64 length. */
#define VFIO_REC_HDR 16

struct vfio_migration {
	struct vfio_backend *be; /* borrowed */
	const char *id;          /* borrowed */
	uint64_t flags;          /* VFIO_MIGRATION_* (0: unsupported) */
	bool dirty_tracking;     /* DMA logging available */
	char blocker[MIG_BLOCKER_REASON_MAX]; /* empty: can migrate */
	uint32_t state;          /* cached FSM state */
	const struct vfio_mig_config_ops *cfg;
	void *cfg_opaque;

	/* Saving side. */
	uint8_t *buf;
	size_t buf_size;
	uint64_t stop_copy_size;
	uint64_t precopy_initial, precopy_dirty;
	bool precopy_info_ok;    /* the device reports initial/dirty bytes */
	bool initial_sent;

	/* Where the handler is registered (switchover-ack, dirty source). */
	struct migration *mig;   /* borrowed */
	const struct guest_mem *mem; /* borrowed: guest RAM for DMA logging */
	uint64_t *dirty_buf;     /* report bitmap for the largest RAM region */

	/* Loading side: record parser over arbitrarily split chunks. */
	uint8_t hdr[VFIO_REC_HDR];
	size_t hdr_have;
	uint64_t rec_tag, rec_left;
	bool seen_setup, seen_end;
};

/* DMA dirty logging over guest RAM, registered as a dirty source. */
extern const struct mig_dirty_source_ops vfio_mig_dirty_ops;

/*
 * Reset the device (the uAPI's way back to RUNNING from anywhere) and
 * cache RUNNING. Returns 0, or the backend's -errno (logged; the device
 * is then unusable and the cached state unchanged).
 */
int vfio_mig__reset_device(struct vfio_migration *m);

/*
 * Move the device to @new; on failure try @recover (ERROR means: reset
 * at once), then reset. Returns 0 (also when already in @new), or the
 * -errno of the failed change; the device is then in @recover or freshly
 * reset, and m->state says where it really is. Logs failures with m->id.
 */
int vfio_mig__set_state(struct vfio_migration *m, uint32_t new,
			uint32_t recover);

#endif /* MIGRATION_VFIO_MIGRATION_INTERNAL_H */
