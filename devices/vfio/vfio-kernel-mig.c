/*
 * vfio-kernel-mig.c: the kernel VFIO backend's migration and DMA
 * operations. Device state changes are one VFIO_DEVICE_FEATURE SET of
 * MIG_DEVICE_STATE (the kernel walks combination arcs); the backend knows
 * from the (from, to) pair whether the arc opens a saving or resuming
 * session (and must return a data_fd), keeps it within the session, or
 * ends it (the fd is closed), and drops the session on any failure. The
 * stream is read()/write() on that data_fd, precopy estimates are
 * VFIO_MIG_GET_PRECOPY_INFO on it. Guest RAM is mapped for device DMA by
 * its virtual address into the iommufd IOAS or the type1 container; DMA
 * logging passes the kernel user pointers to range and bitmap arrays.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "devices/vfio/vfio-kernel-internal.h"
#include "vmm/compat/iommufd-compat.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* IOMMU mapping granularity we require: the x86-64 host page. */
#define PAGE 4096ULL
/* The kernel core accepts at most PAGE_SIZE / 16 logging ranges. */
#define MAX_LOG_RANGES 256u

/* A feature ioctl buffer: 8-byte header + payload (at most 32 bytes). */
struct feature_buf {
	struct vfio_device_feature hdr;
	uint64_t payload[4];
};

static const char *state_name(uint32_t s)
{
	static const char *const names[VFIO_COMPAT_DEVICE_STATE_NR] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return s < VFIO_COMPAT_DEVICE_STATE_NR ? names[s] : "UNKNOWN";
}

/* The saving group shares one session. */
static bool saving(uint32_t s)
{
	return s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       s == VFIO_DEVICE_STATE_STOP_COPY;
}

static bool in_session(uint32_t s)
{
	return saving(s) || s == VFIO_DEVICE_STATE_RESUMING;
}

/* Does the arc @from -> @to start a new session (kernel returns an fd)? */
static bool opens_session(uint32_t from, uint32_t to)
{
	return (saving(to) && !saving(from)) ||
	       (to == VFIO_DEVICE_STATE_RESUMING &&
		from != VFIO_DEVICE_STATE_RESUMING);
}

void vfk__mig_forget(struct vfk_dev *d, uint32_t state)
{
	vfk__close(d, &d->data_fd);
	d->mig_state = state;
}

/* One MIG_DEVICE_STATE feature call; fills *st. Caller holds mig_lock. */
static int mig_feature(struct vfk_dev *d, uint32_t op,
		       struct vfio_device_feature_mig_state *st)
{
	struct feature_buf b = {
		.hdr = { .argsz = sizeof(b.hdr) + sizeof(*st),
			 .flags = op | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE },
	};
	int ret;

	memcpy(b.payload, st, sizeof(*st));
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_FEATURE, &b);
	memcpy(st, b.payload, sizeof(*st));
	return ret < 0 ? ret : 0;
}

/* GET the device state into the cache. Caller holds mig_lock. */
static int get_state_locked(struct vfk_dev *d, uint32_t *out)
{
	struct vfio_device_feature_mig_state st = { .data_fd = -1 };
	int ret;

	ret = mig_feature(d, VFIO_DEVICE_FEATURE_GET, &st);
	if (ret) {
		log_err("vfio %s: reading the migration state: %s", d->be.id,
			strerror(-ret));
		return ret;
	}
	if (st.device_state >= VFIO_COMPAT_DEVICE_STATE_NR)
		return vfk__fail(d, "unknown migration state %u", st.device_state);
	/* Out of every session state, no session can be alive. */
	if (!in_session(st.device_state))
		vfk__close(d, &d->data_fd);
	d->mig_state = st.device_state;
	*out = st.device_state;
	return 0;
}

int vfk__mig_set_state(struct vfio_backend *be, uint32_t state)
{
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfio_device_feature_mig_state st = { .device_state = state,
						    .data_fd = -1 };
	uint32_t from, now;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	/* ERROR cannot be requested; the kernel would say EINVAL too. */
	if (state >= VFIO_COMPAT_DEVICE_STATE_NR ||
	    state == VFIO_DEVICE_STATE_ERROR)
		return -EINVAL;
	pthread_mutex_lock(&d->mig_lock);
	from = d->mig_state;
	if (from == VFK_STATE_UNKNOWN) {
		ret = get_state_locked(d, &from);
		if (ret)
			goto out;
	}
	ret = mig_feature(d, VFIO_DEVICE_FEATURE_SET, &st);
	if (ret) {
		log_err("vfio %s: migration state %s -> %s: %s", d->be.id,
			state_name(from), state_name(state), strerror(-ret));
		/* Anywhere on the path, maybe past the session's end: drop it. */
		vfk__mig_forget(d, VFK_STATE_UNKNOWN);
		get_state_locked(d, &now);
		goto out;
	}
	if (opens_session(from, state)) {
		if (st.data_fd < 0) {
			vfk__mig_forget(d, state);
			ret = vfk__fail(d, "no data_fd on %s -> %s", state_name(from),
					state_name(state));
			goto out;
		}
		vfk__close(d, &d->data_fd); /* a stale one cannot be in use */
		d->data_fd = st.data_fd;
	} else {
		if (st.data_fd >= 0) {
			/* An fd we did not expect (async reset?): not ours to keep. */
			int stray = st.data_fd;

			vfk__close(d, &stray);
			log_err("vfio %s: data_fd out of sync on %s -> %s",
				d->be.id, state_name(from), state_name(state));
			ret = -EBADF;
		}
		if (in_session(from) && !(saving(from) && saving(state)) &&
		    from != state)
			vfk__close(d, &d->data_fd);
	}
	d->mig_state = state;
out:
	pthread_mutex_unlock(&d->mig_lock);
	return ret;
}

int vfk__mig_get_state(struct vfio_backend *be, uint32_t *state)
{
	struct vfk_dev *d = vfk__to_dev(be);
	int ret;

	if (vfk__failed(d))
		return -EIO;
	pthread_mutex_lock(&d->mig_lock);
	ret = get_state_locked(d, state);
	pthread_mutex_unlock(&d->mig_lock);
	return ret;
}

ssize_t vfk__mig_read(struct vfio_backend *be, void *buf, size_t len)
{
	struct vfk_dev *d = vfk__to_dev(be);
	ssize_t n;
	int err;

	if (vfk__failed(d))
		return -EIO;
	if (!len || !buf)
		return -EINVAL;
	pthread_mutex_lock(&d->mig_lock);
	if (!saving(d->mig_state) || d->data_fd < 0) {
		pthread_mutex_unlock(&d->mig_lock);
		return -EINVAL;
	}
	do {
		n = d->sys->read(d->sys->ctx, d->data_fd, buf, len);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? (errno > 0 ? errno : EIO) : 0;
	if (n > (ssize_t)len) {
		n = vfk__fail(d, "data_fd read returned %zd of %zu bytes", n, len);
	} else if (d->mig_state != VFIO_DEVICE_STATE_STOP_COPY &&
		   (n == 0 || err == ENOMSG)) {
		n = -ENOMSG; /* PRE_COPY: nothing now, maybe later */
	} else if (n < 0) {
		log_err("vfio %s: reading the %s stream: %s", d->be.id,
			state_name(d->mig_state), strerror(err));
		/* ENOMSG is not allowed in STOP_COPY: callers must not spin. */
		n = err == ENOMSG ? -EIO : -err;
	}
	pthread_mutex_unlock(&d->mig_lock);
	return n;
}

int vfk__mig_write(struct vfio_backend *be, const void *buf, size_t len)
{
	struct vfk_dev *d = vfk__to_dev(be);
	const uint8_t *p = buf;
	int ret = 0;

	if (vfk__failed(d))
		return -EIO;
	if (len && !buf)
		return -EINVAL;
	pthread_mutex_lock(&d->mig_lock);
	if (d->mig_state != VFIO_DEVICE_STATE_RESUMING || d->data_fd < 0)
		ret = -EINVAL;
	while (!ret && len) {
		ssize_t n = d->sys->write(d->sys->ctx, d->data_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 && errno > 0 ? -errno : -EIO;
			log_err("vfio %s: writing the resuming stream: %s",
				d->be.id, n ? strerror(-ret) : "wrote nothing");
		} else if ((size_t)n > len) {
			ret = vfk__fail(d, "data_fd write returned %zd of %zu "
					"bytes", n, len);
		} else {
			p += n;
			len -= (size_t)n;
		}
	}
	pthread_mutex_unlock(&d->mig_lock);
	return ret;
}

int vfk__mig_precopy_info(struct vfio_backend *be, uint64_t *initial,
			  uint64_t *dirty)
{
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfio_precopy_info pi = { .argsz = sizeof(pi) };
	int ret;

	if (vfk__failed(d))
		return -EIO;
	pthread_mutex_lock(&d->mig_lock);
	if ((d->mig_state != VFIO_DEVICE_STATE_PRE_COPY &&
	     d->mig_state != VFIO_DEVICE_STATE_PRE_COPY_P2P) || d->data_fd < 0) {
		ret = -EINVAL;
	} else {
		ret = vfk__ioctl(d, d->data_fd, VFIO_MIG_GET_PRECOPY_INFO, &pi);
		if (ret == -ENOTTY) {
			ret = -EOPNOTSUPP;
		} else if (ret < 0) {
			log_err("vfio %s: VFIO_MIG_GET_PRECOPY_INFO: %s", d->be.id,
				strerror(-ret));
		} else {
			*initial = pi.initial_bytes;
			*dirty = pi.dirty_bytes;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&d->mig_lock);
	return ret;
}

int vfk__dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		 int fd, uint64_t fd_offset, void *vaddr, uint32_t prot)
{
	struct vfk_dev *d = vfk__to_dev(be);
	uint64_t end, va = (uintptr_t)vaddr;
	unsigned int i;
	int ret;

	/* The kernel pins the pages at @vaddr; the memfd is not needed. */
	(void)fd;
	(void)fd_offset;
	if (vfk__failed(d))
		return -EIO;
	if (!vaddr || !size || add_overflow(iova, size, &end) ||
	    ((iova | size | va) & (PAGE - 1)) || !prot ||
	    (prot & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	pthread_mutex_lock(&d->dma_lock);
	ret = d->nr_dma == VFK_MAX_DMA ? -ENOSPC : 0;
	for (i = 0; !ret && i < d->nr_dma; i++)
		if (iova < d->dma[i].iova + d->dma[i].size &&
		    d->dma[i].iova < end)
			ret = -EEXIST;
	if (ret)
		goto out;
	if (d->iommu == VFK_IOMMUFD) {
		struct iommu_ioas_map m = {
			.size = sizeof(m), .flags = IOMMU_IOAS_MAP_FIXED_IOVA,
			.ioas_id = d->ioas_id, .user_va = va, .length = size,
			.iova = iova,
		};

		if (prot & VFIO_DMA_MAP_FLAG_READ)
			m.flags |= IOMMU_IOAS_MAP_READABLE;
		if (prot & VFIO_DMA_MAP_FLAG_WRITE)
			m.flags |= IOMMU_IOAS_MAP_WRITEABLE;
		ret = vfk__ioctl(d, d->iommufd, IOMMU_IOAS_MAP, &m);
		if (ret >= 0 && m.iova != iova)
			ret = vfk__fail(d, "IOAS map moved IOVA 0x%llx to 0x%llx",
					(unsigned long long)iova,
					(unsigned long long)m.iova);
	} else {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m), .flags = prot, .vaddr = va,
			.iova = iova, .size = size,
		};

		ret = vfk__ioctl(d, d->container_fd, VFIO_IOMMU_MAP_DMA, &m);
	}
	if (ret == -EIO && vfk__failed(d))
		goto out;
	if (ret < 0) {
		log_err("vfio %s: DMA map IOVA [0x%llx, +0x%llx): %s", d->be.id,
			(unsigned long long)iova, (unsigned long long)size,
			strerror(-ret));
		goto out;
	}
	d->dma[d->nr_dma++] = (struct vfk_dma){ iova, size };
	ret = 0;
out:
	pthread_mutex_unlock(&d->dma_lock);
	return ret;
}

int vfk__dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size)
{
	struct vfk_dev *d = vfk__to_dev(be);
	uint64_t done;
	unsigned int i;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	pthread_mutex_lock(&d->dma_lock);
	for (i = 0; i < d->nr_dma; i++)
		if (d->dma[i].iova == iova && d->dma[i].size == size)
			break;
	if (i == d->nr_dma) {
		ret = -EINVAL; /* not one of our mappings, exactly */
		goto out;
	}
	if (d->iommu == VFK_IOMMUFD) {
		struct iommu_ioas_unmap u = { .size = sizeof(u),
					      .ioas_id = d->ioas_id,
					      .iova = iova, .length = size };

		ret = vfk__ioctl(d, d->iommufd, IOMMU_IOAS_UNMAP, &u);
		done = u.length;
	} else {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u),
							.iova = iova,
							.size = size };

		ret = vfk__ioctl(d, d->container_fd, VFIO_IOMMU_UNMAP_DMA, &u);
		done = u.size;
	}
	if (ret < 0) {
		log_err("vfio %s: DMA unmap IOVA [0x%llx, +0x%llx): %s", d->be.id,
			(unsigned long long)iova, (unsigned long long)size,
			strerror(-ret));
		goto out;
	}
	/* The kernel says how much it unmapped: exactly our mapping. */
	if (done != size) {
		ret = vfk__fail(d, "DMA unmap of 0x%llx bytes unmapped 0x%llx",
				(unsigned long long)size,
				(unsigned long long)done);
		goto out;
	}
	d->dma[i] = d->dma[--d->nr_dma];
	ret = 0;
out:
	pthread_mutex_unlock(&d->dma_lock);
	return ret;
}

static bool page_size_ok(uint64_t page_size)
{
	return page_size >= PAGE && !(page_size & (page_size - 1));
}

int vfk__dma_logging_start(struct vfio_backend *be, uint64_t page_size,
			   const struct vfio_dma_range *ranges, uint32_t nr)
{
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfio_device_feature_dma_logging_range *arr;
	struct vfio_device_feature_dma_logging_control ctl;
	struct feature_buf b = {
		.hdr = { .argsz = sizeof(b.hdr) + sizeof(ctl),
			 .flags = VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_DMA_LOGGING_START },
	};
	uint64_t end;
	uint32_t i;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if (!nr || nr > MAX_LOG_RANGES || !ranges || !page_size_ok(page_size))
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (!ranges[i].length ||
		    ((ranges[i].iova | ranges[i].length) & (page_size - 1)) ||
		    add_overflow(ranges[i].iova, ranges[i].length, &end))
			return -EINVAL;
	arr = calloc(nr, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		arr[i].iova = ranges[i].iova;
		arr[i].length = ranges[i].length;
	}
	ctl = (struct vfio_device_feature_dma_logging_control){
		.page_size = page_size, .num_ranges = nr,
		.ranges = (uintptr_t)arr,
	};
	memcpy(b.payload, &ctl, sizeof(ctl));
	pthread_mutex_lock(&d->mig_lock);
	if (d->logging) {
		ret = -EBUSY;
	} else {
		ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_FEATURE, &b);
		if (ret < 0)
			log_err("vfio %s: DMA logging start (%u ranges, page "
				"0x%llx): %s", d->be.id, nr,
				(unsigned long long)page_size, strerror(-ret));
		else
			d->logging = true;
	}
	pthread_mutex_unlock(&d->mig_lock);
	free(arr);
	return ret < 0 ? ret : 0;
}

int vfk__dma_logging_stop(struct vfio_backend *be)
{
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfio_device_feature hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	};
	int ret;

	if (vfk__failed(d))
		return -EIO;
	pthread_mutex_lock(&d->mig_lock);
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_FEATURE, &hdr);
	if (ret < 0)
		log_err("vfio %s: DMA logging stop: %s", d->be.id, strerror(-ret));
	else
		d->logging = false;
	pthread_mutex_unlock(&d->mig_lock);
	return ret < 0 ? ret : 0;
}

int vfk__dma_logging_report(struct vfio_backend *be, uint64_t iova,
			    uint64_t length, uint64_t page_size,
			    uint64_t *bitmap)
{
	struct vfk_dev *d = vfk__to_dev(be);
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = iova, .length = length, .page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};
	struct feature_buf b = {
		.hdr = { .argsz = sizeof(b.hdr) + sizeof(rep),
			 .flags = VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT },
	};
	uint64_t end;
	int ret;

	if (vfk__failed(d))
		return -EIO;
	if (!bitmap || !length || !page_size_ok(page_size) ||
	    add_overflow(iova, length, &end))
		return -EINVAL;
	memcpy(b.payload, &rep, sizeof(rep));
	/* The kernel sets bits straight into the caller's @bitmap. */
	ret = vfk__ioctl(d, d->device_fd, VFIO_DEVICE_FEATURE, &b);
	if (ret < 0) {
		log_err("vfio %s: DMA logging report [0x%llx, +0x%llx): %s",
			d->be.id, (unsigned long long)iova,
			(unsigned long long)length, strerror(-ret));
		return ret;
	}
	return 0;
}
