/*
 * snapshot-internal.h: what snapshot.c (save), snapshot-load.c (open,
 * restore, inspect) and snapshot-manifest.c share: the file names of a
 * snapshot directory, the manifest as plain data with its writer and
 * strict parser, and small directory helpers. Not for use outside
 * migration/.
 */
#ifndef MIGRATION_SNAPSHOT_INTERNAL_H
#define MIGRATION_SNAPSHOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "migration/handler.h"

#define SNAP_MAGIC "FERRYSNP"
#define SNAP_VERSION 1u
#define SNAP_ARCH "x86_64"
#define SNAP_STATE_FORMAT "ferry-state"
#define SNAP_STATE_VERSION 1u

#define SNAP_MANIFEST "MANIFEST"
#define SNAP_STATE "state.dtb"
#define SNAP_MEMORY "memory.img"
#define SNAP_CONFIG "config.json"
#define SNAP_DEVICES "devices"

/* The manifest is a few hundred bytes; refuse anything absurd. */
#define SNAP_MANIFEST_MAX (64u << 10)
/* A VM configuration as JSON is a few KiB (paths are up to 4 KiB each). */
#define SNAP_CONFIG_MAX (1u << 20)
/* One device's migration data: mlx5-class devices send 100s of MiB. */
#define SNAP_DEVICE_DATA_MAX (16ULL << 30)
/* Parts: state, memory, config and one per handler with a data stream. */
#define SNAP_MAX_PARTS (4 + 128)
/* "devices/" + id + ".bin" + NUL. */
#define SNAP_PART_NAME_MAX (8 + MIG_ID_MAX + 4 + 1)

enum snap_part_kind {
	SNAP_PART_STATE = 0,
	SNAP_PART_MEMORY,
	SNAP_PART_CONFIG,
	SNAP_PART_DEVICE,
};

struct snap_part {
	enum snap_part_kind kind;
	char name[SNAP_PART_NAME_MAX]; /* path relative to the snapshot dir */
	char id[MIG_ID_MAX];           /* SNAP_PART_DEVICE: handler id */
	uint64_t size;
	uint32_t crc;                  /* CRC-32C; memory: chunk CRCs in state */
};

struct snap_manifest {
	uint32_t version;
	char arch[16];
	char created[32];   /* UTC, ISO 8601 */
	char ferry[32];     /* ferry version that wrote it */
	uint64_t mem_size;
	unsigned int nr_parts;
	struct snap_part parts[SNAP_MAX_PARTS];
};

/*
 * Format @m as manifest text into @buf (room for @len bytes), with the
 * trailing "end crc32c" line. Returns the text length, or -ENOSPC.
 */
int snap_manifest__format(const struct snap_manifest *m, char *buf,
			  size_t len);

/*
 * Parse manifest text @text of @len bytes strictly into @m: magic and
 * version, known keys only, part names, sizes, the end checksum.
 * Returns 0 or -EINVAL with one line in @err.
 */
int snap_manifest__parse(const char *text, size_t len,
			 struct snap_manifest *m, char *err, size_t errlen);

/* The part named @name, or NULL. */
const struct snap_part *snap_manifest__find(const struct snap_manifest *m,
					    const char *name);

/*
 * Remove the snapshot directory @name under @dirfd: its regular files,
 * the regular files in its devices/ subdirectory, then the two
 * directories. Anything else in it makes removal stop with -ENOTEMPTY
 * (we only delete what a snapshot consists of). Returns 0 or -errno.
 */
int snap_dir__remove(int dirfd, const char *name);

#endif /* MIGRATION_SNAPSHOT_INTERNAL_H */
