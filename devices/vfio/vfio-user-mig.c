/*
 * vfio-user-mig.c: the vfio-user client's migration and DMA operations:
 * device state changes (refreshing the cached state after a refusal),
 * the saving/resuming stream over MIG_DATA_READ/WRITE split to the
 * negotiated transfer size, ferry's precopy-info extension (remembered as
 * absent once a server says ENOTTY), DMA map/unmap of the guest RAM memfd
 * and device DMA dirty logging with inline ranges and bitmaps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-user-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

#define PAGE 4096ULL

int vfu__mig_set_state(struct vfio_backend *be, uint32_t state)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_mig_state st = { .device_state = state,
					  .data_fd = UINT32_MAX };
	int ret;

	if (state >= VFIO_COMPAT_DEVICE_STATE_NR)
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			   &st, sizeof(st), NULL, 0, c->state_timeout_ms);
	c->mig_state = ret ? VFU_STATE_UNKNOWN : state;
	/* Refused: the device may be anywhere on the path; ask where. */
	if (ret && ret != -EIO &&
	    !vfu__feature(c, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  NULL, 0, &st, sizeof(st), c->timeout_ms) &&
	    st.device_state < VFIO_COMPAT_DEVICE_STATE_NR)
		c->mig_state = st.device_state;
	vfu__leave(c);
	return ret;
}

int vfu__mig_get_state(struct vfio_backend *be, uint32_t *state)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_mig_state st;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			   NULL, 0, &st, sizeof(st), c->timeout_ms);
	if (!ret && st.device_state >= VFIO_COMPAT_DEVICE_STATE_NR)
		ret = vfu__fail(c, "unknown migration state %u", st.device_state);
	if (!ret)
		*state = c->mig_state = st.device_state;
	vfu__leave(c);
	return ret;
}

ssize_t vfu__mig_read(struct vfio_backend *be, void *buf, size_t len)
{
	struct vfu_client *c = vfu__to_c(be);
	uint8_t *p = buf;
	size_t total = 0;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	while (total < len) {
		struct vfio_user_mig_data d = { .size = (uint32_t)MIN(
							len - total, (size_t)c->max_xfer) };
		struct vfio_user_mig_data e;
		struct vfio_user_msg r;

		d.argsz = sizeof(d) + d.size;
		ret = vfu__xact(c, VFIO_USER_MIG_DATA_READ, &d, sizeof(d), NULL,
				0, NULL, 0, c->timeout_ms, &r);
		if (ret)
			break;
		if (r.nr_fds || r.len < sizeof(e)) {
			ret = vfu__expect_len(c, &r, sizeof(e), "MIG_DATA_READ");
			break;
		}
		memcpy(&e, r.data, sizeof(e));
		if (e.size > d.size || r.len != sizeof(e) + e.size ||
		    e.argsz != sizeof(e) + e.size) {
			vfio_user__msg_release(&r);
			ret = vfu__fail(c, "bad MIG_DATA_READ reply (%u of %u bytes)",
					e.size, d.size);
			break;
		}
		memcpy(p + total, r.data + sizeof(e), e.size);
		vfio_user__msg_release(&r);
		total += e.size;
		if (e.size < d.size)
			break; /* no more data right now */
	}
	if (!ret && total == 0 && len &&
	    c->mig_state != VFIO_DEVICE_STATE_STOP_COPY)
		ret = -ENOMSG; /* PRE_COPY: nothing now, maybe later */
	vfu__leave(c);
	if (ret && total == 0)
		return ret;
	return vfu__failed(c) ? -EIO : (ssize_t)total;
}

int vfu__mig_write(struct vfio_backend *be, const void *buf, size_t len)
{
	struct vfu_client *c = vfu__to_c(be);
	const uint8_t *p = buf;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	while (!ret && len) {
		struct vfio_user_mig_data d = { .size = (uint32_t)MIN(
							len, (size_t)c->max_xfer) };
		struct vfio_user_msg r;

		d.argsz = sizeof(d) + d.size;
		ret = vfu__xact(c, VFIO_USER_MIG_DATA_WRITE, &d, sizeof(d), p,
				d.size, NULL, 0, c->timeout_ms, &r);
		if (!ret)
			ret = vfu__expect_len(c, &r, 0, "MIG_DATA_WRITE");
		if (!ret)
			vfio_user__msg_release(&r);
		p += d.size;
		len -= d.size;
	}
	vfu__leave(c);
	return ret;
}

int vfu__mig_precopy_info(struct vfio_backend *be, uint64_t *initial,
			    uint64_t *dirty)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_precopy_info pi;
	int ret;

	if (c->precopy_info < 0)
		return -EOPNOTSUPP;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_GET |
			      VFIO_USER_FEATURE_FERRY_PRECOPY_INFO,
			   NULL, 0, &pi, sizeof(pi), c->timeout_ms);
	if (ret == -ENOTTY || ret == -EOPNOTSUPP || ret == -ENOSYS) {
		c->precopy_info = -1; /* a server without ferry's extension */
		ret = -EOPNOTSUPP;
	} else if (!ret) {
		c->precopy_info = 1;
		*initial = pi.initial_bytes;
		*dirty = pi.dirty_bytes;
	}
	vfu__leave(c);
	return ret;
}

int vfu__dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		   int fd, uint64_t fd_offset, void *vaddr, uint32_t prot)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_dma_map m = {
		.argsz = sizeof(m), .flags = 0, .offset = fd_offset,
		.addr = iova, .size = size,
	};
	struct vfio_user_msg r;
	uint64_t end;
	int ret;

	(void)vaddr; /* the server maps the fd itself */
	if (fd < 0 || !size || add_overflow(iova, size, &end) ||
	    (prot & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	if (prot & VFIO_DMA_MAP_FLAG_READ)
		m.flags |= VFIO_USER_F_DMA_READ;
	if (prot & VFIO_DMA_MAP_FLAG_WRITE)
		m.flags |= VFIO_USER_F_DMA_WRITE;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &fd, 1,
			c->timeout_ms, &r);
	if (!ret)
		ret = vfu__expect_len(c, &r, 0, "DMA_MAP");
	if (!ret)
		vfio_user__msg_release(&r);
	vfu__leave(c);
	return ret;
}

int vfu__dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_dma_unmap u = { .argsz = sizeof(u), .addr = iova,
					 .size = size };
	struct vfio_user_msg r;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL, 0, NULL, 0,
			c->timeout_ms, &r);
	/* The spec has the reply echo the entry; tolerate an empty reply. */
	if (!ret && r.len != 0)
		ret = vfu__expect_len(c, &r, sizeof(u), "DMA_UNMAP");
	if (!ret && r.len && memcmp(r.data, &u, sizeof(u))) {
		vfio_user__msg_release(&r);
		ret = vfu__fail(c, "DMA_UNMAP reply does not echo the request");
	}
	if (!ret)
		vfio_user__msg_release(&r);
	vfu__leave(c);
	return ret;
}

int vfu__dma_logging_start(struct vfio_backend *be, uint64_t page_size,
			     const struct vfio_dma_range *ranges, uint32_t nr)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_dma_log_control ctl = { .page_size = page_size,
						 .num_ranges = nr };
	struct vfio_user_dma_log_range *buf;
	size_t len;
	uint32_t i;
	int ret;

	if (nr == 0 || nr > VFIO_USER_MAX_LOG_RANGES || !ranges ||
	    page_size < PAGE || (page_size & (page_size - 1)))
		return -EINVAL;
	len = sizeof(ctl) + nr * sizeof(*buf);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &ctl, sizeof(ctl));
	for (i = 0; i < nr; i++) {
		struct vfio_user_dma_log_range r = { ranges[i].iova,
						     ranges[i].length };

		memcpy((uint8_t *)buf + sizeof(ctl) + i * sizeof(r), &r,
		       sizeof(r));
	}
	ret = vfu__enter(c);
	if (!ret) {
		ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
				      VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				   buf, len, NULL, 0, c->timeout_ms);
		vfu__leave(c);
	}
	free(buf);
	return ret;
}

int vfu__dma_logging_stop(struct vfio_backend *be)
{
	struct vfu_client *c = vfu__to_c(be);
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			   NULL, 0, NULL, 0, c->timeout_ms);
	vfu__leave(c);
	return ret;
}

int vfu__dma_logging_report(struct vfio_backend *be, uint64_t iova,
			      uint64_t length, uint64_t page_size,
			      uint64_t *bitmap)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_dma_log_report q = { iova, length, page_size };
	struct vfio_user_dma_log_report e;
	uint64_t nbits, words, i, end;
	uint8_t *out;
	int ret;

	if (!bitmap || page_size < PAGE || (page_size & (page_size - 1)) ||
	    !length || add_overflow(iova, length, &end))
		return -EINVAL;
	nbits = length / page_size + (length % page_size != 0);
	words = (nbits + 63) / 64;
	if (words * 8 + sizeof(q) > c->max_xfer)
		return -E2BIG; /* caller must split the range */
	out = malloc(sizeof(q) + words * 8);
	if (!out)
		return -ENOMEM;
	ret = vfu__enter(c);
	if (!ret) {
		ret = vfu__feature(c, VFIO_DEVICE_FEATURE_GET |
				      VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
				   &q, sizeof(q), out, sizeof(q) + words * 8,
				   c->timeout_ms);
		if (!ret) {
			memcpy(&e, out, sizeof(e));
			if (memcmp(&e, &q, sizeof(q)))
				ret = vfu__fail(c, "DMA log report for another range");
		}
		vfu__leave(c);
	}
	/* Only set bits, and never past the end of the range. */
	for (i = 0; !ret && i < words; i++) {
		uint64_t w;

		memcpy(&w, out + sizeof(q) + i * 8, 8);
		if (i == words - 1 && nbits % 64)
			w &= (1ULL << (nbits % 64)) - 1;
		bitmap[i] |= w;
	}
	free(out);
	return ret;
}
