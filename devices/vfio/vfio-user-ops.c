/*
 * vfio-user-ops.c: the vfio-user client's struct vfio_backend_ops: device,
 * region, IRQ, reset and generic feature operations (migration and DMA are
 * in vfio-user-mig.c). Each operation turns into one or more vfio-user
 * requests (split to the negotiated transfer size and fd limit) and checks
 * its reply field by field before copying anything to the caller: sizes,
 * echoed offsets and indexes, counts and fds. A mismatch fails the backend
 * (vfu__fail).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-user-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/util.h"

/* A region info reply with up to VFIO_BACKEND_MAX_AREAS areas fits here. */
#define REGION_INFO_ARGSZ 512u
/* Largest region info reply we accept when the server asks for more. */
#define REGION_INFO_ARGSZ_MAX 65536u
#define PAGE 4096ULL


/* Take the lock unless failed; -EIO if failed. */


/* Reply must be exactly @len bytes without fds, else fail. */

static int get_device_info(struct vfio_backend *be, struct vfio_device_desc *out)
{
	struct vfu_client *c = vfu__to_c(be);

	if (vfu__failed(c))
		return -EIO;
	out->flags = c->dev_flags;
	out->num_regions = c->num_regions;
	out->num_irqs = c->num_irqs;
	return 0;
}

static int region_info_locked(struct vfu_client *c, uint32_t index)
{
	struct vfio_user_region_info req = { .argsz = REGION_INFO_ARGSZ,
					     .index = index };
	struct vfio_user_sparse_area areas[VFIO_BACKEND_MAX_AREAS];
	struct vfio_user_region_info ri;
	struct vfu_region *reg = &c->regions[index];
	struct vfio_user_msg r;
	unsigned int nr, i;
	int ret, tries;

	for (tries = 0; tries < 2; tries++) {
		ret = vfu__xact(c, VFIO_USER_DEVICE_GET_REGION_INFO, &req,
				sizeof(req), NULL, 0, NULL, 0, c->timeout_ms, &r);
		if (ret)
			return ret;
		ret = vfio_user__parse_region_info(r.data, r.len, index, &ri,
						   areas, VFIO_BACKEND_MAX_AREAS,
						   &nr);
		if (ret != -ENOSPC)
			break;
		vfio_user__msg_release(&r);
		if (ri.argsz > REGION_INFO_ARGSZ_MAX || tries)
			return vfu__fail(c, "region %u info needs %u bytes",
					 index, ri.argsz);
		req.argsz = ri.argsz;
	}
	if (ret) {
		vfio_user__msg_release(&r);
		return vfu__fail(c, "malformed region %u info", index);
	}
	/* An mmap-able region comes with exactly one fd, others with none. */
	if (r.nr_fds != (nr ? 1u : 0u)) {
		vfio_user__msg_release(&r);
		return vfu__fail(c, "region %u info carries %u fds", index,
				 r.nr_fds);
	}
	if (reg->fd >= 0)
		close(reg->fd);
	reg->fd = nr ? vfio_user__msg_take_fd(&r, 0) : -1;
	vfio_user__msg_release(&r);
	reg->mmap_offset = ri.offset;
	reg->desc.index = index;
	reg->desc.flags = ri.flags & (VFIO_REGION_INFO_FLAG_READ |
				      VFIO_REGION_INFO_FLAG_WRITE |
				      VFIO_REGION_INFO_FLAG_MMAP);
	reg->desc.size = ri.size;
	reg->desc.nr_areas = nr;
	for (i = 0; i < nr; i++) {
		reg->desc.areas[i].offset = areas[i].offset;
		reg->desc.areas[i].size = areas[i].size;
	}
	reg->valid = true;
	return 0;
}

static int get_region_info(struct vfio_backend *be, uint32_t index,
			   struct vfio_region_desc *out)
{
	struct vfu_client *c = vfu__to_c(be);
	int ret;

	if (index >= c->num_regions)
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = region_info_locked(c, index);
	if (!ret)
		*out = c->regions[index].desc;
	vfu__leave(c);
	return ret;
}

/* Caller holds the lock: make sure region @index is described. */
static int region_locked(struct vfu_client *c, uint32_t index)
{
	if (index >= c->num_regions)
		return -EINVAL;
	return c->regions[index].valid ? 0 : region_info_locked(c, index);
}

static int region_rw(struct vfio_backend *be, uint32_t index, uint64_t offset,
		     void *buf, size_t len, bool write)
{
	struct vfu_client *c = vfu__to_c(be);
	uint8_t *p = buf;
	uint64_t end;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = region_locked(c, index);
	if (!ret && (add_overflow(offset, (uint64_t)len, &end) ||
		     end > c->regions[index].desc.size))
		ret = -EINVAL;
	while (!ret && len) {
		struct vfio_user_region_access a = {
			.offset = offset, .region = index,
			.count = (uint32_t)MIN(len, (size_t)c->max_xfer),
		};
		struct vfio_user_region_access e;
		struct vfio_user_msg r;

		ret = vfu__xact(c, write ? VFIO_USER_REGION_WRITE :
					   VFIO_USER_REGION_READ,
				&a, sizeof(a), write ? p : NULL,
				write ? a.count : 0, NULL, 0, c->timeout_ms, &r);
		if (ret)
			break;
		ret = vfu__expect_len(c, &r, sizeof(a) + (write ? 0 : a.count),
				 write ? "REGION_WRITE" : "REGION_READ");
		if (ret)
			break;
		memcpy(&e, r.data, sizeof(e));
		if (e.offset != a.offset || e.region != a.region ||
		    e.count != a.count) {
			vfio_user__msg_release(&r);
			ret = vfu__fail(c, "region access reply does not match "
					"the request");
			break;
		}
		if (!write)
			memcpy(p, r.data + sizeof(e), a.count);
		vfio_user__msg_release(&r);
		p += a.count;
		offset += a.count;
		len -= a.count;
	}
	vfu__leave(c);
	return ret;
}

static int region_read(struct vfio_backend *be, uint32_t index,
		       uint64_t offset, void *buf, size_t len)
{
	return region_rw(be, index, offset, buf, len, false);
}

static int region_write(struct vfio_backend *be, uint32_t index,
			uint64_t offset, const void *buf, size_t len)
{
	return region_rw(be, index, offset, (void *)buf, len, true);
}

static int region_mmap(struct vfio_backend *be, uint32_t index,
		       uint64_t offset, uint64_t size, int prot, void **out)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfu_region *reg;
	uint64_t end, foff;
	unsigned int i;
	void *p;
	int ret;

	if ((prot & ~(PROT_READ | PROT_WRITE)) || !size ||
	    (offset | size) & (PAGE - 1) || add_overflow(offset, size, &end))
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = region_locked(c, index);
	if (ret)
		goto out;
	reg = &c->regions[index];
	ret = -EINVAL;
	for (i = 0; i < reg->desc.nr_areas; i++)
		if (offset >= reg->desc.areas[i].offset &&
		    end <= reg->desc.areas[i].offset + reg->desc.areas[i].size)
			ret = 0;
	if (ret || reg->fd < 0 || add_overflow(reg->mmap_offset, offset, &foff) ||
	    foff > INT64_MAX) {
		ret = -EINVAL;
		goto out;
	}
	p = mmap(NULL, size, prot, MAP_SHARED, reg->fd, (off_t)foff);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	*out = p;
out:
	vfu__leave(c);
	return ret;
}

static int get_irq_info(struct vfio_backend *be, uint32_t index,
			struct vfio_irq_desc *out)
{
	const uint32_t known = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			       VFIO_IRQ_INFO_AUTOMASKED | VFIO_IRQ_INFO_NORESIZE;
	struct vfio_user_irq_info ii = { .argsz = sizeof(ii), .index = index };
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_msg r;
	int ret;

	if (index >= c->num_irqs)
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL,
			0, NULL, 0, c->timeout_ms, &r);
	if (!ret)
		ret = vfu__expect_len(c, &r, sizeof(ii), "GET_IRQ_INFO");
	if (!ret) {
		memcpy(&ii, r.data, sizeof(ii));
		vfio_user__msg_release(&r);
		if (ii.index != index || ii.count > VFU_MAX_IRQ_COUNT ||
		    (ii.flags & ~known))
			ret = vfu__fail(c, "bad irq %u info (count %u flags 0x%x)",
					index, ii.count, ii.flags);
		else
			*out = (struct vfio_irq_desc){ index, ii.flags, ii.count };
	}
	vfu__leave(c);
	return ret;
}

/* One SET_IRQS message; caller holds the lock. */
static int set_irqs_one(struct vfu_client *c, uint32_t index, uint32_t flags,
			uint32_t start, uint32_t count, const int *fds,
			unsigned int nfds)
{
	struct vfio_user_irq_set s = { .argsz = sizeof(s), .flags = flags,
				       .index = index, .start = start,
				       .count = count };
	struct vfio_user_msg r;
	int ret;

	ret = vfu__xact(c, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), NULL, 0,
			fds, nfds, c->timeout_ms, &r);
	if (!ret)
		ret = vfu__expect_len(c, &r, 0, "SET_IRQS");
	if (!ret)
		vfio_user__msg_release(&r);
	return ret;
}

static int set_irqs(struct vfio_backend *be, uint32_t index, uint32_t flags,
		    uint32_t start, uint32_t count, const int *fds)
{
	struct vfu_client *c = vfu__to_c(be);
	uint32_t data = flags & VFIO_IRQ_SET_DATA_TYPE_MASK, i = 0, n;
	uint32_t action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int ret;

	if ((data != VFIO_IRQ_SET_DATA_NONE && data != VFIO_IRQ_SET_DATA_EVENTFD) ||
	    __builtin_popcount(action) != 1 || (flags & ~(data | action)) ||
	    index >= c->num_irqs || (uint64_t)start + count > VFU_MAX_IRQ_COUNT ||
	    (data == VFIO_IRQ_SET_DATA_EVENTFD && count && !fds))
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	if (data == VFIO_IRQ_SET_DATA_NONE || count == 0)
		ret = set_irqs_one(c, index, flags, start, count, NULL, 0);
	/*
	 * Eventfds: runs of valid fds go in batches the server accepts;
	 * runs of -1 are sent without fds, which de-assigns them.
	 */
	while (!ret && data == VFIO_IRQ_SET_DATA_EVENTFD && i < count) {
		bool assign = fds[i] >= 0;

		for (n = 1; i + n < count && (fds[i + n] >= 0) == assign &&
			    (!assign || n < c->max_fds); n++)
			;
		ret = set_irqs_one(c, index, flags, start + i, n,
				   assign ? fds + i : NULL, assign ? n : 0);
		i += n;
	}
	vfu__leave(c);
	return ret;
}

static int reset(struct vfio_backend *be)
{
	struct vfu_client *c = vfu__to_c(be);
	struct vfio_user_msg r;
	int ret;

	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL, 0,
			c->state_timeout_ms, &r);
	if (!ret)
		ret = vfu__expect_len(c, &r, 0, "DEVICE_RESET");
	if (!ret) {
		vfio_user__msg_release(&r);
		c->mig_state = VFIO_DEVICE_STATE_RUNNING;
	} else {
		c->mig_state = VFU_STATE_UNKNOWN;
	}
	vfu__leave(c);
	return ret;
}

static int device_feature(struct vfio_backend *be, uint32_t flags, void *data,
			  size_t len)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
	struct vfu_client *c = vfu__to_c(be);
	bool probe = flags & VFIO_DEVICE_FEATURE_PROBE;
	bool get = (flags & VFIO_DEVICE_FEATURE_GET) && !probe;
	bool set = (flags & VFIO_DEVICE_FEATURE_SET) && !probe;
	uint32_t index = flags & VFIO_DEVICE_FEATURE_MASK;
	int ret;

	if ((flags & ~known) || (get && set) || (!get && !set && !probe) ||
	    ((get || set) && len && !data))
		return -EINVAL;
	/* These carry state the backend must track: use their own ops. */
	if ((index == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE && set) ||
	    (index >= VFIO_DEVICE_FEATURE_DMA_LOGGING_START &&
	     index <= VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT && !probe))
		return -EINVAL;
	ret = vfu__enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, flags, set ? data : NULL, set ? len : 0,
			   get ? data : NULL, get ? len : 0, c->timeout_ms);
	vfu__leave(c);
	return ret;
}











const struct vfio_backend_ops vfu_ops = {
	.name = "vfio-user",
	.get_device_info = get_device_info,
	.get_region_info = get_region_info,
	.region_read = region_read,
	.region_write = region_write,
	.region_mmap = region_mmap,
	.get_irq_info = get_irq_info,
	.set_irqs = set_irqs,
	.reset = reset,
	.device_feature = device_feature,
	.mig_set_state = vfu__mig_set_state,
	.mig_get_state = vfu__mig_get_state,
	.mig_read = vfu__mig_read,
	.mig_write = vfu__mig_write,
	.mig_precopy_info = vfu__mig_precopy_info,
	.dma_map = vfu__dma_map,
	.dma_unmap = vfu__dma_unmap,
	.dma_logging_start = vfu__dma_logging_start,
	.dma_logging_stop = vfu__dma_logging_stop,
	.dma_logging_report = vfu__dma_logging_report,
	.destroy = vfu__destroy,
};
