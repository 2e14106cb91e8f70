/*
 * vfio-user-payload.h: decoding the vfio-user payloads that carry nested
 * structure (VERSION with its JSON capabilities, REGION_INFO with its
 * capability chain), formatting our own capabilities, and printable
 * names (vfio-user-payload.c). The wire layouts are in
 * vfio-user-proto.h. Stateless: every function works on caller-owned
 * buffers.
 */
#ifndef DEVICES_VFIO_VFIO_USER_PAYLOAD_H
#define DEVICES_VFIO_VFIO_USER_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

struct vfio_user_caps;
struct vfio_user_region_info;
struct vfio_user_sparse_area;

/*
 * Decode a VERSION payload. *caps points into @data (NUL-terminated
 * inside it) or is NULL when no JSON follows. Returns 0 or -EINVAL
 * (short payload, missing NUL, JSON longer than VFIO_USER_MAX_CAPS_LEN).
 */
int vfio_user__parse_version(const void *data, size_t len, uint16_t *major,
			     uint16_t *minor, const char **caps);

/* The protocol's defaults for capabilities a peer did not mention. */
void vfio_user__caps_defaults(struct vfio_user_caps *caps);

/*
 * Parse a capability JSON string ({"capabilities": {...}}) over the
 * defaults already in @caps. Unknown keys are ignored. Returns 0, or
 * -EINVAL for malformed JSON, wrong types or out-of-range values
 * (max_msg_fds 1..253, max_data_xfer_size >= 4 KiB and <= 1 GiB,
 * pgsizes / migration.pgsize containing 4 KiB).
 */
int vfio_user__caps_parse(const char *json, struct vfio_user_caps *caps);

/*
 * Format @caps as a NUL-terminated JSON capability string into @buf.
 * Returns the length without the NUL, or -ENOSPC.
 */
int vfio_user__caps_format(const struct vfio_user_caps *caps, char *buf,
			   size_t len);

/*
 * Decode a REGION_INFO reply payload for region @index: fills @info and
 * the mmap-able areas (@areas, room for @max_areas): the sparse mmap
 * capability's areas, or one area covering the region when the MMAP flag
 * is set without that capability; none without the MMAP flag. Every
 * offset, size and capability link is bounds-checked (no loops, no
 * overflow, areas inside the region). Returns 0, -ENOSPC when the reply
 * says it needs a larger buffer (info->argsz > len; retry with that
 * argsz), or -EPROTO for anything malformed.
 */
int vfio_user__parse_region_info(const void *data, size_t len, uint32_t index,
				 struct vfio_user_region_info *info,
				 struct vfio_user_sparse_area *areas,
				 unsigned int max_areas, unsigned int *nr_areas);

/* Printable name of a command or migration state (never NULL). */
const char *vfio_user__cmd_name(uint32_t cmd);
const char *vfio_user__mig_state_name(uint32_t state);

#endif /* DEVICES_VFIO_VFIO_USER_PAYLOAD_H */
