/*
 * vfio-user-payload.c: the vfio-user payloads with nested structure,
 * shared by ferry's client backend and ferry-testdev: the VERSION
 * payload and its JSON capability string (parsed over the protocol's
 * defaults, range-checked, and formatted for our own proposal), the
 * REGION_INFO reply with its capability chain (sparse mmap areas), and
 * printable names of commands and migration states. Nothing here
 * trusts a length, an offset or a link it was given.
 */
#include "devices/vfio/vfio-user-payload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <linux/vfio.h>

#include "devices/vfio/vfio-user-proto.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

/* SCM_MAX_FD: the kernel's limit on fds in one SCM_RIGHTS message. */
#define SCM_FDS_MAX 253
/* Bounds on negotiated transfer size: one page .. 1 GiB. */
#define CAPS_XFER_MIN 4096ULL
#define CAPS_XFER_MAX (1ULL << 30)
/* A capability chain longer than this is hostile (ferry knows one cap). */
#define REGION_CAPS_MAX 16

int vfio_user__parse_version(const void *data, size_t len, uint16_t *major,
			     uint16_t *minor, const char **caps)
{
	struct vfio_user_version v;
	const char *s;
	size_t slen;

	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, data, sizeof(v));
	*major = v.major;
	*minor = v.minor;
	*caps = NULL;
	if (len == sizeof(v))
		return 0;
	s = (const char *)data + sizeof(v);
	slen = len - sizeof(v);
	if (slen > VFIO_USER_MAX_CAPS_LEN + 1 || !memchr(s, '\0', slen))
		return -EINVAL;
	*caps = s;
	return 0;
}

void vfio_user__caps_defaults(struct vfio_user_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->max_msg_fds = 1;
	caps->max_data_xfer_size = VFIO_USER_DEFAULT_MAX_XFER;
	caps->max_dma_maps = 65535; /* the spec's default */
	caps->pgsizes = 4096;
}

/* Read an integer member; 1 if absent, 0 if present and valid, -EINVAL. */
static int caps_get_u64(struct json_object *obj, const char *key,
			uint64_t min, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(obj, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return -EINVAL;
	*out = (uint64_t)x;
	return 0;
}

static int caps_parse_obj(struct json_object *c, struct vfio_user_caps *caps)
{
	struct json_object *v, *mig;
	uint64_t x;
	int ret;

	ret = caps_get_u64(c, "max_msg_fds", 1, SCM_FDS_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_msg_fds = (uint32_t)x;
	ret = caps_get_u64(c, "max_data_xfer_size", CAPS_XFER_MIN,
			   CAPS_XFER_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_data_xfer_size = x;
	ret = caps_get_u64(c, "max_dma_maps", 1, UINT32_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0)
		caps->max_dma_maps = (uint32_t)x;
	ret = caps_get_u64(c, "pgsizes", 1, INT64_MAX, &x);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		if (!(x & 4096))
			return -EINVAL;
		caps->pgsizes = x;
	}
	if (json_object_object_get_ex(c, "write_multiple", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return -EINVAL;
		caps->write_multiple = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(c, "migration", &mig)) {
		if (!json_object_is_type(mig, json_type_object))
			return -EINVAL;
		ret = caps_get_u64(mig, "pgsize", 4096, 4096, &x);
		if (ret < 0)
			return ret;
		caps->migration_pgsize = ret == 0 ? x : 4096;
	}
	return 0;
}

int vfio_user__caps_parse(const char *json, struct vfio_user_caps *caps)
{
	struct json_tokener *tok;
	struct json_object *root, *c;
	size_t len = strnlen(json, VFIO_USER_MAX_CAPS_LEN + 1);
	int ret = -EINVAL;

	if (len > VFIO_USER_MAX_CAPS_LEN)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	/* Reject trailing garbage and incomplete documents alike. */
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len)
		goto out;
	if (!json_object_is_type(root, json_type_object))
		goto out;
	if (!json_object_object_get_ex(root, "capabilities", &c)) {
		ret = 0; /* no capabilities: defaults */
		goto out;
	}
	if (!json_object_is_type(c, json_type_object))
		goto out;
	ret = caps_parse_obj(c, caps);
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int vfio_user__caps_format(const struct vfio_user_caps *caps, char *buf,
			   size_t len)
{
	char mig[64] = "";
	int n;

	if (caps->migration_pgsize)
		snprintf(mig, sizeof(mig), ", \"migration\": {\"pgsize\": %llu}",
			 (unsigned long long)caps->migration_pgsize);
	n = snprintf(buf, len,
		     "{\"capabilities\": {\"max_msg_fds\": %u, "
		     "\"max_data_xfer_size\": %llu, \"max_dma_maps\": %u, "
		     "\"pgsizes\": %llu, \"write_multiple\": %s%s}}",
		     caps->max_msg_fds,
		     (unsigned long long)caps->max_data_xfer_size,
		     caps->max_dma_maps, (unsigned long long)caps->pgsizes,
		     caps->write_multiple ? "true" : "false", mig);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* Walk the capability chain looking for the sparse mmap capability. */
static int parse_region_caps(const uint8_t *p, size_t len,
			     const struct vfio_user_region_info *info,
			     struct vfio_user_sparse_area *areas,
			     unsigned int max_areas, unsigned int *nr,
			     bool *have_sparse)
{
	uint32_t off = info->cap_offset, hops = 0;

	while (off) {
		struct vfio_user_cap_header ch;
		struct vfio_user_sparse_mmap sm;
		uint64_t end;
		uint32_t k;

		if (++hops > REGION_CAPS_MAX || off < sizeof(*info) ||
		    (uint64_t)off + sizeof(ch) > len)
			return -EPROTO;
		memcpy(&ch, p + off, sizeof(ch));
		/* Links must go forward: no loops, no overlap. */
		if (ch.next && ch.next < off + sizeof(ch))
			return -EPROTO;
		if (ch.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			if (*have_sparse || ch.version != 1 ||
			    (uint64_t)off + sizeof(sm) > len)
				return -EPROTO;
			memcpy(&sm, p + off, sizeof(sm));
			end = (uint64_t)off + sizeof(sm) +
			      (uint64_t)sm.nr_areas * sizeof(areas[0]);
			if (sm.nr_areas > max_areas || end > len ||
			    (ch.next && ch.next < end))
				return -EPROTO;
			for (k = 0; k < sm.nr_areas; k++) {
				struct vfio_user_sparse_area a;
				uint64_t aend;

				memcpy(&a, p + off + sizeof(sm) + k * sizeof(a),
				       sizeof(a));
				if (a.size == 0 ||
				    add_overflow(a.offset, a.size, &aend) ||
				    aend > info->size)
					return -EPROTO;
				areas[k] = a;
			}
			*nr = sm.nr_areas;
			*have_sparse = true;
		}
		off = ch.next;
	}
	return 0;
}

int vfio_user__parse_region_info(const void *data, size_t len, uint32_t index,
				 struct vfio_user_region_info *info,
				 struct vfio_user_sparse_area *areas,
				 unsigned int max_areas, unsigned int *nr_areas)
{
	const uint32_t known = VFIO_REGION_INFO_FLAG_READ |
			       VFIO_REGION_INFO_FLAG_WRITE |
			       VFIO_REGION_INFO_FLAG_MMAP |
			       VFIO_REGION_INFO_FLAG_CAPS;
	bool have_sparse = false;
	uint64_t end;
	int ret;

	*nr_areas = 0;
	if (len < sizeof(*info))
		return -EPROTO;
	memcpy(info, data, sizeof(*info));
	if (info->argsz < sizeof(*info) || info->index != index)
		return -EPROTO;
	if (info->argsz > len)
		return -ENOSPC;
	if (info->argsz < len || (info->flags & ~known))
		return -EPROTO;
	if (add_overflow(info->offset, info->size, &end))
		return -EPROTO;
	if (info->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		if (info->cap_offset == 0)
			return -EPROTO;
		ret = parse_region_caps(data, len, info, areas, max_areas,
					nr_areas, &have_sparse);
		if (ret)
			return ret;
	} else if (info->cap_offset) {
		return -EPROTO;
	}
	if (!(info->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		*nr_areas = 0;
	} else if (!have_sparse && info->size) {
		if (max_areas < 1)
			return -EPROTO;
		areas[0].offset = 0;
		areas[0].size = info->size;
		*nr_areas = 1;
	}
	return 0;
}

const char *vfio_user__cmd_name(uint32_t cmd)
{
	static const char *const names[] = {
		[VFIO_USER_VERSION] = "VERSION",
		[VFIO_USER_DMA_MAP] = "DMA_MAP",
		[VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
		[VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFIO_USER_REGION_READ] = "REGION_READ",
		[VFIO_USER_REGION_WRITE] = "REGION_WRITE",
		[VFIO_USER_DMA_READ] = "DMA_READ",
		[VFIO_USER_DMA_WRITE] = "DMA_WRITE",
		[VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
		[VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFIO_USER_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFIO_USER_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (cmd < ARRAY_SIZE(names) && names[cmd])
		return names[cmd];
	return "UNKNOWN";
}

const char *vfio_user__mig_state_name(uint32_t state)
{
	return vfio_compat__state_name(state);
}
