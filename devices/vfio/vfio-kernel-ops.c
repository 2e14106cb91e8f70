/*
 * vfio-kernel-ops.c: the kernel VFIO backend's struct vfio_backend_ops for
 * the device itself: device and region info (with the sparse mmap
 * capability chain, bound-checked before anything is believed), trapped
 * region access by pread/pwrite at the region's file offset, region mmap,
 * IRQ info, VFIO_DEVICE_SET_IRQS with eventfd arrays, reset and generic
 * pointer-free device features. Migration and DMA are in
 * vfio-kernel-mig.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-kernel-internal.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* mmap granularity: the x86-64 host page. */
#define PAGE 4096ULL
/*
 * Region info with capabilities is a few hundred bytes (a sparse cap
 * with a handful of areas); a kernel asking for more than this is broken.
 */
#define REGION_INFO_ARGSZ_MAX 65536u
/* Feature payloads we pass are a few bytes; a page bounds the copy. */
#define FEATURE_MAX_LEN 4096u
/* vfio_info_cap_header: u16 id, u16 version, u32 next. */
#define CAP_HDR_LEN 8u
/* Sparse cap: header, u32 nr_areas, u32 reserved, then {u64,u64} areas. */
#define SPARSE_HDR_LEN 16u
#define SPARSE_AREA_LEN 16u

static int get_device_info(struct vfio_backend *be, struct vfio_device_desc *out)
{
	struct vfk_dev *d = vfk__to_dev(be);

	if (vfk__failed(d))
		return -EIO;
	out->flags = d->dev_flags;
	out->num_regions = d->num_regions;
	out->num_irqs = d->num_irqs;
	return 0;
}

/* Keep the page-aligned part of [@off, @off+@size) as area @n of @r. */
static void add_area(struct vfk_region *r, uint64_t off, uint64_t size)
{
	uint64_t start = ALIGN_UP(off, PAGE), end = ALIGN_DOWN(off + size, PAGE);

	if (end <= start || r->desc.nr_areas >= VFIO_BACKEND_MAX_AREAS)
		return;
	r->desc.areas[r->desc.nr_areas].offset = start;
	r->desc.areas[r->desc.nr_areas].size = end - start;
	r->desc.nr_areas++;
}

/*
 * Walk the capability chain of the region info in @buf (@valid bytes the
 * kernel filled) and take the mmap areas from the first sparse mmap cap.
 * Offsets must stay inside @valid and strictly increase (so the walk
 * ends). Returns 0 or -EIO (failed: the chain is malformed).
 */
static int parse_caps(struct vfk_dev *d, const uint8_t *buf, size_t valid,
		      uint32_t first, struct vfk_region *r, bool *sparse)
{
	uint64_t prev = 0, off = first;
	uint32_t i;

	*sparse = false;
	while (off) {
		struct vfio_info_cap_header h;
		uint32_t nr;

		if (off < sizeof(struct vfio_region_info) || off <= prev ||
		    off + CAP_HDR_LEN > valid)
			return vfk__fail(d, "region %u capability at %llu outside "
					 "the %zu-byte info or out of order",
					 r->desc.index, (unsigned long long)off,
					 valid);
		memcpy(&h, buf + off, sizeof(h));
		if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP && !*sparse) {
			if (off + SPARSE_HDR_LEN > valid)
				return vfk__fail(d, "region %u sparse cap truncated",
						 r->desc.index);
			memcpy(&nr, buf + off + CAP_HDR_LEN, sizeof(nr));
			if (off + SPARSE_HDR_LEN + (uint64_t)nr * SPARSE_AREA_LEN >
			    valid)
				return vfk__fail(d, "region %u sparse cap claims %u "
						 "areas past the info's end",
						 r->desc.index, nr);
			*sparse = true;
			/* An unknown version: trap the whole region. */
			for (i = 0; h.version == 1 && i < nr; i++) {
				struct vfio_region_sparse_mmap_area a;
				uint64_t end;

				memcpy(&a, buf + off + SPARSE_HDR_LEN +
					   (uint64_t)i * SPARSE_AREA_LEN,
				       sizeof(a));
				if (add_overflow(a.offset, a.size, &end) ||
				    end > r->desc.size)
					return vfk__fail(d, "region %u sparse area "
							 "%u outside the region",
							 r->desc.index, i);
				if (r->desc.nr_areas == VFIO_BACKEND_MAX_AREAS) {
					log_warn("vfio %s: region %u: %u sparse "
						 "areas, trapping all past %u",
						 d->be.id, r->desc.index, nr,
						 VFIO_BACKEND_MAX_AREAS);
					break;
				}
				add_area(r, a.offset, a.size);
			}
		}
		prev = off;
		off = h.next;
	}
	return 0;
}

/* Query region @index into d->regions; caller holds d->lock. */
static int region_info_locked(struct vfk_dev *d, uint32_t index)
{
	const uint32_t known = VFIO_REGION_INFO_FLAG_READ |
			       VFIO_REGION_INFO_FLAG_WRITE |
			       VFIO_REGION_INFO_FLAG_MMAP;
	uint32_t argsz = sizeof(struct vfio_region_info);
	struct vfk_region r = { .valid = true };
	struct vfio_region_info ri;
	uint8_t *buf = NULL;
	bool sparse = false;
	uint64_t end;
	size_t valid;
	int ret, tries;

	for (tries = 0;; tries++) {
		free(buf);
		buf = calloc(1, argsz);
		if (!buf)
			return -ENOMEM;
		ri = (struct vfio_region_info){ .argsz = argsz, .index = index };
		memcpy(buf, &ri, sizeof(ri));
		ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_GET_REGION_INFO, buf);
		if (ret < 0) {
			log_err("vfio %s: region %u info: %s", d->be.id, index,
				strerror(-ret));
			goto out;
		}
		memcpy(&ri, buf, sizeof(ri));
		if (ri.argsz <= argsz)
			break;
		/* The capabilities did not fit: ask again, once, bounded. */
		if (tries || ri.argsz > REGION_INFO_ARGSZ_MAX) {
			ret = vfk__fail(d, "region %u info needs %u bytes", index,
					ri.argsz);
			goto out;
		}
		argsz = ri.argsz;
	}
	valid = ri.argsz;
	if (ri.argsz < sizeof(ri) || ri.index != index ||
	    add_overflow(ri.offset, ri.size, &end) || end > INT64_MAX) {
		ret = vfk__fail(d, "malformed region %u info (argsz %u index %u "
				"offset 0x%llx size 0x%llx)", index, ri.argsz,
				ri.index, (unsigned long long)ri.offset,
				(unsigned long long)ri.size);
		goto out;
	}
	r.fd_offset = ri.offset;
	r.desc.index = index;
	r.desc.flags = ri.flags & known;
	r.desc.size = ri.size;
	if ((ri.flags & VFIO_REGION_INFO_FLAG_CAPS) && ri.cap_offset) {
		ret = parse_caps(d, buf, valid, ri.cap_offset, &r, &sparse);
		if (ret)
			goto out;
	}
	if (!(r.desc.flags & VFIO_REGION_INFO_FLAG_MMAP))
		r.desc.nr_areas = 0;
	else if (!sparse)
		add_area(&r, 0, r.desc.size);
	d->regions[index] = r;
	ret = 0;
out:
	free(buf);
	return ret;
}

static int get_region_info(struct vfio_backend *be, uint32_t index,
			   struct vfio_region_desc *out)
{
	struct vfk_dev *d = vfk__to_dev(be);
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if (index >= d->num_regions)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	ret = region_info_locked(d, index);
	if (!ret)
		*out = d->regions[index].desc;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* A copy of region @index's cache entry, querying it first if needed. */
static int region_get(struct vfk_dev *d, uint32_t index, struct vfk_region *r)
{
	int ret = 0;

	if (vfk__failed(d))
		return -EIO;
	if (index >= d->num_regions)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (!d->regions[index].valid)
		ret = region_info_locked(d, index);
	if (!ret)
		*r = d->regions[index];
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int region_rw(struct vfio_backend *be, uint32_t index, uint64_t offset,
		     void *buf, size_t len, bool write)
{
	struct vfk_dev *d = vfk__to_dev(be);
	uint8_t *p = buf;
	struct vfk_region r;
	uint64_t end;
	int ret;

	ret = region_get(d, index, &r);
	if (ret)
		return ret;
	if (!(r.desc.flags & (write ? VFIO_REGION_INFO_FLAG_WRITE :
				      VFIO_REGION_INFO_FLAG_READ)) ||
	    add_overflow(offset, (uint64_t)len, &end) || end > r.desc.size)
		return -EINVAL;
	while (len) {
		/* In range of off_t: region_info_locked checked the end. */
		off_t off = (off_t)(r.fd_offset + offset);
		ssize_t n = write ? d->sys->pwrite(d->sys->ctx, d->device_fd, p,
						   len, off)
				  : d->sys->pread(d->sys->ctx, d->device_fd, p,
						  len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || n == 0) {
			ret = n < 0 && errno > 0 ? -errno : -EIO;
			log_ratelimited(LOG_LEVEL_WARN, "vfio %s: region %u %s "
					"of %zu bytes at 0x%llx: %s", d->be.id,
					index, write ? "write" : "read", len,
					(unsigned long long)offset,
					n ? strerror(-ret) : "short transfer");
			return ret;
		}
		if ((size_t)n > len)
			return vfk__fail(d, "region %u %s returned %zd of %zu "
					 "bytes", index, write ? "pwrite" : "pread",
					 n, len);
		p += n;
		offset += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
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
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfk_region r;
	uint64_t end;
	unsigned int i;
	void *p;
	int ret;

	if ((prot & ~(PROT_READ | PROT_WRITE)) || !size ||
	    ((offset | size) & (PAGE - 1)) || add_overflow(offset, size, &end) ||
	    size > SIZE_MAX)
		return -EINVAL;
	ret = region_get(d, index, &r);
	if (ret)
		return ret;
	ret = -EINVAL;
	for (i = 0; i < r.desc.nr_areas; i++)
		if (offset >= r.desc.areas[i].offset &&
		    end <= r.desc.areas[i].offset + r.desc.areas[i].size)
			ret = 0;
	if (ret)
		return ret;
	p = d->sys->mmap(d->sys->ctx, NULL, (size_t)size, prot, MAP_SHARED,
			 d->device_fd, (off_t)(r.fd_offset + offset));
	if (p == MAP_FAILED) {
		ret = errno > 0 ? -errno : -EIO;
		log_err("vfio %s: mmap region %u [0x%llx, +0x%llx): %s", d->be.id,
			index, (unsigned long long)offset,
			(unsigned long long)size, strerror(-ret));
		return ret;
	}
	*out = p;
	return 0;
}

static int get_irq_info(struct vfio_backend *be, uint32_t index,
			struct vfio_irq_desc *out)
{
	const uint32_t known = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			       VFIO_IRQ_INFO_AUTOMASKED | VFIO_IRQ_INFO_NORESIZE;
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };
	struct vfk_dev *d = vfk__to_dev(be);
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if (index >= d->num_irqs)
		return -EINVAL;
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	if (ret < 0) {
		log_err("vfio %s: irq %u info: %s", d->be.id, index,
			strerror(-ret));
		return ret;
	}
	if (ii.index != index || ii.count > VFK_MAX_IRQ_COUNT)
		return vfk__fail(d, "bad irq %u info (index %u count %u)", index,
				 ii.index, ii.count);
	*out = (struct vfio_irq_desc){ index, ii.flags & known, ii.count };
	return 0;
}

static int set_irqs(struct vfio_backend *be, uint32_t index, uint32_t flags,
		    uint32_t start, uint32_t count, const int *fds)
{
	struct vfk_dev *d = vfk__to_dev(be);
	uint32_t data = flags & VFIO_IRQ_SET_DATA_TYPE_MASK, i;
	uint32_t action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	bool efd = data == VFIO_IRQ_SET_DATA_EVENTFD;
	struct vfio_irq_set hdr = { .flags = flags, .index = index,
				    .start = start, .count = count };
	size_t len = sizeof(hdr) + (efd ? count * sizeof(int32_t) : 0);
	uint8_t *buf;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if ((data != VFIO_IRQ_SET_DATA_NONE && !efd) ||
	    __builtin_popcount(action) != 1 || (flags & ~(data | action)) ||
	    index >= d->num_irqs || (uint64_t)start + count > VFK_MAX_IRQ_COUNT ||
	    (efd && count && !fds))
		return -EINVAL;
	for (i = 0; efd && i < count; i++)
		if (fds[i] < -1)
			return -EINVAL;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	hdr.argsz = (uint32_t)len;
	memcpy(buf, &hdr, sizeof(hdr));
	for (i = 0; efd && i < count; i++) {
		int32_t fd = fds[i];

		memcpy(buf + sizeof(hdr) + i * sizeof(fd), &fd, sizeof(fd));
	}
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_SET_IRQS, buf);
	free(buf);
	if (ret < 0) {
		log_err("vfio %s: SET_IRQS index %u flags 0x%x [%u, +%u): %s",
			d->be.id, index, flags, start, count, strerror(-ret));
		return ret;
	}
	return 0;
}

static int reset(struct vfio_backend *be)
{
	struct vfk_dev *d = vfk__to_dev(be);
	int ret;

	if (vfk__failed(d))
		return -EIO;
	pthread_mutex_lock(&d->mig_lock);
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_RESET, NULL);
	/* A reset ends any migration session; a failed one leaves it unknown. */
	vfk__mig_forget(d, ret < 0 ? VFK_STATE_UNKNOWN : VFIO_DEVICE_STATE_RUNNING);
	pthread_mutex_unlock(&d->mig_lock);
	if (ret < 0) {
		log_err("vfio %s: reset: %s", d->be.id, strerror(-ret));
		return ret;
	}
	return 0;
}

static int device_feature(struct vfio_backend *be, uint32_t flags, void *data,
			  size_t len)
{
	const uint32_t known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
	struct vfk_dev *d = vfk__to_dev(be);
	bool probe = flags & VFIO_DEVICE_FEATURE_PROBE;
	bool get = (flags & VFIO_DEVICE_FEATURE_GET) && !probe;
	bool set = (flags & VFIO_DEVICE_FEATURE_SET) && !probe;
	uint32_t index = flags & VFIO_DEVICE_FEATURE_MASK;
	struct vfio_device_feature hdr = { .flags = flags };
	size_t plen = probe ? 0 : len;
	uint8_t *buf;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if ((flags & ~known) || (get && set) || (!get && !set && !probe) ||
	    ((get || set) && len && !data) || plen > FEATURE_MAX_LEN)
		return -EINVAL;
	/*
	 * These carry state the backend tracks (the migration data_fd, the
	 * logging session) or pointers/fds in their payload: use their own
	 * operations.
	 */
	if (!probe &&
	    ((index == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE && set) ||
	     (index >= VFIO_DEVICE_FEATURE_DMA_LOGGING_START &&
	      index <= VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT) ||
	     index == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP ||
	     index == 11 /* DMA_BUF (Linux 6.17): returns an fd */))
		return -EINVAL;
	/* u64-aligned: payloads hold __aligned_u64 fields at offset 8. */
	buf = calloc(1, ALIGN_UP(sizeof(hdr) + plen, 8));
	if (!buf)
		return -ENOMEM;
	hdr.argsz = (uint32_t)(sizeof(hdr) + plen);
	memcpy(buf, &hdr, sizeof(hdr));
	if (set && plen)
		memcpy(buf + sizeof(hdr), data, plen);
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_FEATURE, buf);
	if (ret >= 0 && get && plen)
		memcpy(data, buf + sizeof(hdr), plen);
	free(buf);
	/* Absent features are an answer the caller expects: no log line. */
	if (ret < 0 && ret != -ENOTTY && ret != -EINVAL && ret != -EOPNOTSUPP)
		log_err("vfio %s: device feature 0x%x: %s", d->be.id, flags,
			strerror(-ret));
	return ret < 0 ? ret : 0;
}

const struct vfio_backend_ops vfk_ops = {
	.name = "vfio",
	.get_device_info = get_device_info,
	.get_region_info = get_region_info,
	.region_read = region_read,
	.region_write = region_write,
	.region_mmap = region_mmap,
	.get_irq_info = get_irq_info,
	.set_irqs = set_irqs,
	.reset = reset,
	.device_feature = device_feature,
	.mig_set_state = vfk__mig_set_state,
	.mig_get_state = vfk__mig_get_state,
	.mig_read = vfk__mig_read,
	.mig_write = vfk__mig_write,
	.mig_precopy_info = vfk__mig_precopy_info,
	.dma_map = vfk__dma_map,
	.dma_unmap = vfk__dma_unmap,
	.dma_logging_start = vfk__dma_logging_start,
	.dma_logging_stop = vfk__dma_logging_stop,
	.dma_logging_report = vfk__dma_logging_report,
	.destroy = vfk__destroy,
};
