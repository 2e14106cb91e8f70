/*
 * testdev-feature.c: ferry-testdev's VFIO_USER_DEVICE_FEATURE handling,
 * with the kernel's rules for the flags (GET and SET exclusive unless
 * PROBE, unsupported operations refused, short payloads refused): the
 * migration capability and device state (1, 2), DMA logging (6, 7, 8), the
 * stop-copy size (9) and ferry's precopy-info extension
 * (VFIO_USER_FEATURE_FERRY_PRECOPY_INFO). See docs/vfio-user.md.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define OP_GET VFIO_DEVICE_FEATURE_GET
#define OP_SET VFIO_DEVICE_FEATURE_SET
#define OP_PROBE VFIO_DEVICE_FEATURE_PROBE

static uint32_t supported_ops(const struct testdev *td, uint32_t index)
{
	switch (index) {
	case VFIO_DEVICE_FEATURE_MIGRATION: return OP_GET;
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: return OP_GET | OP_SET;
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START: return OP_SET;
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: return OP_SET;
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: return OP_GET;
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: return OP_GET;
	case VFIO_USER_FEATURE_FERRY_PRECOPY_INFO:
		return td->precopy ? OP_GET : 0;
	default: return 0;
	}
}

/* GET reply: feature header with argsz = 8 + @len, then @data. */
static int reply_get(struct testdev *td, struct vfio_user_msg *m,
		     const struct vfio_user_device_feature *f, const void *data,
		     size_t len)
{
	struct vfio_user_device_feature h = { .argsz = (uint32_t)(sizeof(h) + len),
					      .flags = f->flags };
	uint8_t *buf;

	if (f->argsz < sizeof(h) + len)
		return -EINVAL; /* the client did not leave room */
	buf = malloc(sizeof(h) + len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), data, len);
	td__reply(td, m, buf, sizeof(h) + len, NULL, 0);
	free(buf);
	return 0;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int get_report(struct testdev *td, struct vfio_user_msg *m,
		      const struct vfio_user_device_feature *f,
		      const uint8_t *in, size_t inlen)
{
	struct vfio_user_dma_log_report q;
	uint64_t nbits, bytes;
	uint8_t *buf;
	int ret;

	if (inlen != sizeof(q))
		return -EINVAL;
	memcpy(&q, in, sizeof(q));
	if (!is_pow2(q.page_size) || q.page_size < TD_PAGE_SIZE || !q.length)
		return -EINVAL;
	nbits = q.length / q.page_size + (q.length % q.page_size != 0);
	bytes = (nbits + 63) / 64 * 8;
	if (bytes > VFIO_USER_DEFAULT_MAX_XFER)
		return -E2BIG;
	buf = malloc(sizeof(q) + bytes);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &q, sizeof(q));
	/* Bitmap words sit 24 bytes in: copy through an aligned buffer. */
	{
		uint64_t *bm = calloc(1, bytes);

		ret = bm ? td__log_report(td, &q, bm, bytes) : -ENOMEM;
		if (!ret)
			memcpy(buf + sizeof(q), bm, bytes);
		free(bm);
	}
	if (!ret)
		ret = reply_get(td, m, f, buf, sizeof(q) + bytes);
	free(buf);
	return ret;
}

int td__feature(struct testdev *td, struct vfio_user_msg *m)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | OP_GET | OP_SET | OP_PROBE;
	struct vfio_user_device_feature f;
	const uint8_t *in;
	uint32_t index, ops;
	size_t inlen;
	int ret;

	if (m->len < sizeof(f))
		return -EINVAL;
	memcpy(&f, m->data, sizeof(f));
	in = m->data + sizeof(f);
	inlen = m->len - sizeof(f);
	index = f.flags & VFIO_DEVICE_FEATURE_MASK;
	ops = f.flags & (OP_GET | OP_SET | OP_PROBE);
	if (f.argsz < sizeof(f) || (f.flags & ~known) ||
	    ((ops & OP_GET) && (ops & OP_SET) && !(ops & OP_PROBE)) || !ops)
		return -EINVAL;
	if (!supported_ops(td, index))
		return -ENOTTY;
	if (ops & ~OP_PROBE & ~supported_ops(td, index))
		return -EINVAL;
	if (ops & OP_PROBE)
		return td__reply(td, m, m->data, m->len, NULL, 0);

	switch (index) {
	case VFIO_DEVICE_FEATURE_MIGRATION: {
		uint64_t flags = VFIO_MIGRATION_STOP_COPY |
				 (td->precopy ? VFIO_MIGRATION_PRE_COPY : 0) |
				 (td->p2p ? VFIO_MIGRATION_P2P : 0);

		return reply_get(td, m, &f, &flags, sizeof(flags));
	}
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: {
		struct vfio_user_mig_state st;

		if (ops & OP_GET) {
			st.device_state = td->mig.state;
			st.data_fd = UINT32_MAX; /* unused in vfio-user: -1 */
			return reply_get(td, m, &f, &st, sizeof(st));
		}
		if (inlen < sizeof(st))
			return -EINVAL;
		memcpy(&st, in, sizeof(st));
		ret = td__mig_set_state(td, st.device_state);
		return ret ? ret : td__reply(td, m, m->data, m->len, NULL, 0);
	}
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		ret = td__log_start(td, in, inlen);
		return ret ? ret : td__reply(td, m, m->data, m->len, NULL, 0);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		td__log_stop(td);
		return td__reply(td, m, m->data, m->len, NULL, 0);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return get_report(td, m, &f, in, inlen);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: {
		struct vfio_user_mig_data_size ds = {
			.stop_copy_length = td__mig_stop_copy_size(td),
		};

		return reply_get(td, m, &f, &ds, sizeof(ds));
	}
	case VFIO_USER_FEATURE_FERRY_PRECOPY_INFO: {
		struct vfio_user_precopy_info pi;
		uint64_t initial, dirty;

		ret = td__mig_precopy_info(td, &initial, &dirty);
		pi.initial_bytes = initial;
		pi.dirty_bytes = dirty;
		return ret ? ret : reply_get(td, m, &f, &pi, sizeof(pi));
	}
	}
	return -ENOTTY;
}
