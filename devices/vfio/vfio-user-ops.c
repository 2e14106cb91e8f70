/*
 * vfio-user-ops.c: the vfio-user client's struct vfio_backend_ops. Each
 * operation turns into one or more vfio-user requests (split to the
 * negotiated transfer size and fd limit) and checks its reply field by
 * field before copying anything to the caller: sizes, echoed offsets and
 * indexes, counts and fds. A mismatch fails the backend (vfu__fail).
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

static struct vfu_client *to_c(struct vfio_backend *be)
{
	return container_of(be, struct vfu_client, be);
}

/* Take the lock unless failed; -EIO if failed. */
static int enter(struct vfu_client *c)
{
	if (vfu__failed(c))
		return -EIO;
	pthread_mutex_lock(&c->lock);
	return 0;
}

static void leave(struct vfu_client *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* Reply must be exactly @len bytes without fds, else fail. */
static int expect_len(struct vfu_client *c, struct vfio_user_msg *r,
		      size_t len, const char *what)
{
	if (r->nr_fds || r->len != len) {
		int ret = vfu__fail(c, "bad %s reply (%zu bytes, %u fds; "
				    "expected %zu bytes)", what, r->len,
				    r->nr_fds, len);

		vfio_user__msg_release(r);
		return ret;
	}
	return 0;
}

static int get_device_info(struct vfio_backend *be, struct vfio_device_desc *out)
{
	struct vfu_client *c = to_c(be);

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
	struct vfu_client *c = to_c(be);
	int ret;

	if (index >= c->num_regions)
		return -EINVAL;
	ret = enter(c);
	if (ret)
		return ret;
	ret = region_info_locked(c, index);
	if (!ret)
		*out = c->regions[index].desc;
	leave(c);
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
	struct vfu_client *c = to_c(be);
	uint8_t *p = buf;
	uint64_t end;
	int ret;

	ret = enter(c);
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
		ret = expect_len(c, &r, sizeof(a) + (write ? 0 : a.count),
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
	leave(c);
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
	struct vfu_client *c = to_c(be);
	struct vfu_region *reg;
	uint64_t end, foff;
	unsigned int i;
	void *p;
	int ret;

	if ((prot & ~(PROT_READ | PROT_WRITE)) || !size ||
	    (offset | size) & (PAGE - 1) || add_overflow(offset, size, &end))
		return -EINVAL;
	ret = enter(c);
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
	leave(c);
	return ret;
}

static int get_irq_info(struct vfio_backend *be, uint32_t index,
			struct vfio_irq_desc *out)
{
	const uint32_t known = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			       VFIO_IRQ_INFO_AUTOMASKED | VFIO_IRQ_INFO_NORESIZE;
	struct vfio_user_irq_info ii = { .argsz = sizeof(ii), .index = index };
	struct vfu_client *c = to_c(be);
	struct vfio_user_msg r;
	int ret;

	if (index >= c->num_irqs)
		return -EINVAL;
	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL,
			0, NULL, 0, c->timeout_ms, &r);
	if (!ret)
		ret = expect_len(c, &r, sizeof(ii), "GET_IRQ_INFO");
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
	leave(c);
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
		ret = expect_len(c, &r, 0, "SET_IRQS");
	if (!ret)
		vfio_user__msg_release(&r);
	return ret;
}

static int set_irqs(struct vfio_backend *be, uint32_t index, uint32_t flags,
		    uint32_t start, uint32_t count, const int *fds)
{
	struct vfu_client *c = to_c(be);
	uint32_t data = flags & VFIO_IRQ_SET_DATA_TYPE_MASK, i = 0, n;
	uint32_t action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int ret;

	if ((data != VFIO_IRQ_SET_DATA_NONE && data != VFIO_IRQ_SET_DATA_EVENTFD) ||
	    __builtin_popcount(action) != 1 || (flags & ~(data | action)) ||
	    index >= c->num_irqs || (uint64_t)start + count > VFU_MAX_IRQ_COUNT ||
	    (data == VFIO_IRQ_SET_DATA_EVENTFD && count && !fds))
		return -EINVAL;
	ret = enter(c);
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
	leave(c);
	return ret;
}

static int reset(struct vfio_backend *be)
{
	struct vfu_client *c = to_c(be);
	struct vfio_user_msg r;
	int ret;

	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL, 0,
			c->state_timeout_ms, &r);
	if (!ret)
		ret = expect_len(c, &r, 0, "DEVICE_RESET");
	if (!ret) {
		vfio_user__msg_release(&r);
		c->mig_state = VFIO_DEVICE_STATE_RUNNING;
	} else {
		c->mig_state = VFU_STATE_UNKNOWN;
	}
	leave(c);
	return ret;
}

static int device_feature(struct vfio_backend *be, uint32_t flags, void *data,
			  size_t len)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
	struct vfu_client *c = to_c(be);
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
	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, flags, set ? data : NULL, set ? len : 0,
			   get ? data : NULL, get ? len : 0, c->timeout_ms);
	leave(c);
	return ret;
}

static int mig_set_state(struct vfio_backend *be, uint32_t state)
{
	struct vfu_client *c = to_c(be);
	struct vfio_user_mig_state st = { .device_state = state,
					  .data_fd = UINT32_MAX };
	int ret;

	if (state >= VFIO_COMPAT_DEVICE_STATE_NR)
		return -EINVAL;
	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			   &st, sizeof(st), NULL, 0, c->state_timeout_ms);
	c->mig_state = ret ? VFU_STATE_UNKNOWN : state;
	leave(c);
	return ret;
}

static int mig_get_state(struct vfio_backend *be, uint32_t *state)
{
	struct vfu_client *c = to_c(be);
	struct vfio_user_mig_state st;
	int ret;

	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			   NULL, 0, &st, sizeof(st), c->timeout_ms);
	if (!ret && st.device_state >= VFIO_COMPAT_DEVICE_STATE_NR)
		ret = vfu__fail(c, "unknown migration state %u", st.device_state);
	if (!ret)
		*state = c->mig_state = st.device_state;
	leave(c);
	return ret;
}

static ssize_t mig_read(struct vfio_backend *be, void *buf, size_t len)
{
	struct vfu_client *c = to_c(be);
	uint8_t *p = buf;
	size_t total = 0;
	int ret;

	ret = enter(c);
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
			ret = expect_len(c, &r, sizeof(e), "MIG_DATA_READ");
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
	leave(c);
	if (ret && total == 0)
		return ret;
	return vfu__failed(c) ? -EIO : (ssize_t)total;
}

static int mig_write(struct vfio_backend *be, const void *buf, size_t len)
{
	struct vfu_client *c = to_c(be);
	const uint8_t *p = buf;
	int ret;

	ret = enter(c);
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
			ret = expect_len(c, &r, 0, "MIG_DATA_WRITE");
		if (!ret)
			vfio_user__msg_release(&r);
		p += d.size;
		len -= d.size;
	}
	leave(c);
	return ret;
}

static int mig_precopy_info(struct vfio_backend *be, uint64_t *initial,
			    uint64_t *dirty)
{
	struct vfu_client *c = to_c(be);
	struct vfio_user_precopy_info pi;
	int ret;

	if (c->precopy_info < 0)
		return -EOPNOTSUPP;
	ret = enter(c);
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
	leave(c);
	return ret;
}

static int dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		   int fd, uint64_t fd_offset, void *vaddr, uint32_t prot)
{
	struct vfu_client *c = to_c(be);
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
	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &fd, 1,
			c->timeout_ms, &r);
	if (!ret)
		ret = expect_len(c, &r, 0, "DMA_MAP");
	if (!ret)
		vfio_user__msg_release(&r);
	leave(c);
	return ret;
}

static int dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size)
{
	struct vfu_client *c = to_c(be);
	struct vfio_user_dma_unmap u = { .argsz = sizeof(u), .addr = iova,
					 .size = size };
	struct vfio_user_msg r;
	int ret;

	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__xact(c, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL, 0, NULL, 0,
			c->timeout_ms, &r);
	/* The spec has the reply echo the entry; tolerate an empty reply. */
	if (!ret && r.len != 0)
		ret = expect_len(c, &r, sizeof(u), "DMA_UNMAP");
	if (!ret && r.len && memcmp(r.data, &u, sizeof(u))) {
		vfio_user__msg_release(&r);
		ret = vfu__fail(c, "DMA_UNMAP reply does not echo the request");
	}
	if (!ret)
		vfio_user__msg_release(&r);
	leave(c);
	return ret;
}

static int dma_logging_start(struct vfio_backend *be, uint64_t page_size,
			     const struct vfio_dma_range *ranges, uint32_t nr)
{
	struct vfu_client *c = to_c(be);
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
	ret = enter(c);
	if (!ret) {
		ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
				      VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				   buf, len, NULL, 0, c->timeout_ms);
		leave(c);
	}
	free(buf);
	return ret;
}

static int dma_logging_stop(struct vfio_backend *be)
{
	struct vfu_client *c = to_c(be);
	int ret;

	ret = enter(c);
	if (ret)
		return ret;
	ret = vfu__feature(c, VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			   NULL, 0, NULL, 0, c->timeout_ms);
	leave(c);
	return ret;
}

static int dma_logging_report(struct vfio_backend *be, uint64_t iova,
			      uint64_t length, uint64_t page_size,
			      uint64_t *bitmap)
{
	struct vfu_client *c = to_c(be);
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
	ret = enter(c);
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
		leave(c);
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
	.mig_set_state = mig_set_state,
	.mig_get_state = mig_get_state,
	.mig_read = mig_read,
	.mig_write = mig_write,
	.mig_precopy_info = mig_precopy_info,
	.dma_map = dma_map,
	.dma_unmap = dma_unmap,
	.dma_logging_start = dma_logging_start,
	.dma_logging_stop = dma_logging_stop,
	.dma_logging_report = dma_logging_report,
	.destroy = vfu__destroy,
};
