/*
 * fake-vfio-backend.c: the fake VFIO device behind fake-vfio-backend.h.
 */
#include "fake-vfio-backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

static struct fake_be *fk(struct vfio_backend *be)
{
	return (struct fake_be *)be;
}

/* Every op starts here: a failed fake answers -EIO, like vfio-user. */
static int gate(struct vfio_backend *be)
{
	if (fk(be)->fail)
		be->failed = -EIO;
	return be->failed ? -EIO : 0;
}

static void put(uint8_t *p, unsigned int len, uint32_t v)
{
	while (len--) {
		*p++ = v & 0xff;
		v >>= 8;
	}
}

static int get_device_info(struct vfio_backend *be, struct vfio_device_desc *d)
{
	if (gate(be))
		return -EIO;
	d->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	d->num_regions = VFIO_PCI_NUM_REGIONS;
	d->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

static int get_region_info(struct vfio_backend *be, uint32_t index,
			   struct vfio_region_desc *d)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ |
			    VFIO_REGION_INFO_FLAG_WRITE;

	if (gate(be))
		return -EIO;
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->index = index;
	if (index == 0) {
		d->size = 4096;
		d->flags = rw;
	} else if (index == 2) {
		d->size = FAKE_BAR2_SIZE;
		d->flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
		d->nr_areas = 1;
		d->areas[0].size = FAKE_BAR2_SIZE;
	} else if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		d->size = fk(be)->o.cfg_size;
		d->flags = rw;
	}
	return 0;
}

static int region_rw(struct vfio_backend *be, uint32_t index, uint64_t off,
		     void *buf, size_t len, bool wr)
{
	struct fake_be *f = fk(be);
	uint8_t *base;
	uint64_t size;

	if (gate(be))
		return -EIO;
	wr ? f->region_writes++ : f->region_reads++;
	if (index == 2) {
		if (off > FAKE_BAR2_SIZE || len > FAKE_BAR2_SIZE - off)
			return -EINVAL;
		if (wr)
			return pwrite(f->bar2_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
		return pread(f->bar2_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
	}
	if (index == 0) {
		base = f->bar0;
		size = sizeof(f->bar0);
	} else if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		base = f->cfg;
		size = f->o.cfg_size;
	} else {
		return -EINVAL;
	}
	if (off > size || len > size - off)
		return -EINVAL;
	if (off >= sizeof(f->cfg) && base == f->cfg) {
		if (!wr)
			memset(buf, 0, len); /* extended space reads 0 */
		return 0;
	}
	if (wr)
		memcpy(base + off, buf, len);
	else
		memcpy(buf, base + off, len);
	return 0;
}

static int region_read(struct vfio_backend *be, uint32_t index, uint64_t off,
		       void *buf, size_t len)
{
	return region_rw(be, index, off, buf, len, false);
}

static int region_write(struct vfio_backend *be, uint32_t index, uint64_t off,
			const void *buf, size_t len)
{
	return region_rw(be, index, off, (void *)buf, len, true);
}

static int region_mmap(struct vfio_backend *be, uint32_t index, uint64_t off,
		       uint64_t size, int prot, void **out)
{
	void *p;

	if (gate(be))
		return -EIO;
	if (index != 2 || off + size > FAKE_BAR2_SIZE)
		return -EINVAL;
	p = mmap(NULL, size, prot, MAP_SHARED, fk(be)->bar2_fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int get_irq_info(struct vfio_backend *be, uint32_t index,
			struct vfio_irq_desc *d)
{
	if (gate(be))
		return -EIO;
	if (index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	d->index = index;
	d->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	d->count = index == VFIO_PCI_MSI_IRQ_INDEX ? fk(be)->o.msi_count
		 : index == VFIO_PCI_MSIX_IRQ_INDEX ? fk(be)->o.msix_count
		 : index == VFIO_PCI_INTX_IRQ_INDEX ? fk(be)->o.intx_count
						    : 0;
	return 0;
}

static int set_irqs(struct vfio_backend *be, uint32_t index, uint32_t flags,
		    uint32_t start, uint32_t count, const int *fds)
{
	struct fake_be *f = fk(be);
	unsigned int i;

	if (gate(be))
		return -EIO;
	if (f->set_irqs_ret)
		return f->set_irqs_ret;
	if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		bool efd = flags & VFIO_IRQ_SET_DATA_EVENTFD;

		if (!f->o.intx_count || (efd && count != 1) || (!efd && count))
			return -EINVAL;
		if (flags & VFIO_IRQ_SET_ACTION_TRIGGER) {
			f->intx_trigger = efd ? fds[0] : -1;
			f->intx_enables += efd;
			if (!efd)
				f->intx_unmask = -1; /* disabling drops both */
		} else if (flags & VFIO_IRQ_SET_ACTION_UNMASK) {
			if (f->intx_trigger < 0)
				return -EINVAL; /* unmask fd needs INTx on */
			f->intx_unmask = efd ? fds[0] : -1;
		}
		return 0;
	}
	if (count && f->intx_trigger >= 0)
		f->intx_conflict = true;
	f->set_irqs_calls++;
	f->irq_index = index;
	f->irq_flags = flags;
	f->irq_count = count;
	for (i = 0; i < 8; i++)
		f->irq_fds[i] = (fds && i < count && !start) ? fds[i] : -1;
	return 0;
}

static int reset(struct vfio_backend *be)
{
	if (gate(be))
		return -EIO;
	fk(be)->resets++;
	return 0;
}

static int dma_map(struct vfio_backend *be, uint64_t iova, uint64_t size,
		   int fd, uint64_t fd_offset, void *vaddr, uint32_t prot)
{
	struct fake_be *f = fk(be);

	(void)fd_offset;
	(void)vaddr;
	(void)prot;
	if (gate(be))
		return -EIO;
	if (f->nr_dma == FAKE_MAX_DMA)
		return -ENOSPC;
	f->dma_iova[f->nr_dma] = iova;
	f->dma_size[f->nr_dma] = size;
	f->dma_fd[f->nr_dma] = fd;
	f->nr_dma++;
	return 0;
}

static int dma_unmap(struct vfio_backend *be, uint64_t iova, uint64_t size)
{
	(void)iova;
	(void)size;
	if (gate(be))
		return -EIO;
	fk(be)->dma_unmaps++;
	return 0;
}

static int no_feature(struct vfio_backend *be, uint32_t flags, void *data,
		      size_t len)
{
	(void)be;
	(void)flags;
	(void)data;
	(void)len;
	return -ENOTTY;
}

static void destroy(struct vfio_backend *be)
{
	struct fake_be *f = fk(be);

	if (!be)
		return;
	if (f->destroyed)
		(*f->destroyed)++;
	close(f->bar2_fd);
	free(f);
}

static const struct vfio_backend_ops fake_ops = {
	.name = "fake",
	.get_device_info = get_device_info,
	.get_region_info = get_region_info,
	.region_read = region_read,
	.region_write = region_write,
	.region_mmap = region_mmap,
	.get_irq_info = get_irq_info,
	.set_irqs = set_irqs,
	.reset = reset,
	.device_feature = no_feature,
	.dma_map = dma_map,
	.dma_unmap = dma_unmap,
	.destroy = destroy,
};

struct fake_be *fake_be__create(const struct fake_opts *o, int *destroyed)
{
	struct fake_be *f = calloc(1, sizeof(*f));
	uint8_t *c;

	if (!f)
		return NULL;
	f->be.ops = &fake_ops;
	strcpy(f->be.id, "fake0");
	f->destroyed = destroyed;
	f->intx_trigger = f->intx_unmask = -1;
	if (o)
		f->o = *o;
	else
		f->o = (struct fake_opts){ .msix_count = 4, .header_type = 0x80 };
	if (!f->o.cfg_size)
		f->o.cfg_size = 256;
	f->bar2_fd = memfd_create("fake-bar2", MFD_CLOEXEC);
	if (f->bar2_fd < 0 || ftruncate(f->bar2_fd, FAKE_BAR2_SIZE) < 0) {
		free(f);
		return NULL;
	}
	c = f->cfg;
	put(c + 0x00, 2, 0x1234);       /* vendor */
	put(c + 0x02, 2, 0x5678);       /* device */
	put(c + 0x06, 2, 0x0010);       /* status: capability list */
	c[0x08] = 3;                    /* revision */
	put(c + 0x09, 3, 0x020000);     /* class: Ethernet */
	c[0x0e] = f->o.header_type;
	put(c + 0x10, 4, 0x0);          /* BAR0: 32-bit memory */
	put(c + 0x18, 4, 0xc);          /* BAR2: 64-bit prefetchable */
	put(c + 0x2c, 2, 0xaaaa);       /* subsystem vendor */
	put(c + 0x2e, 2, 0xbbbb);       /* subsystem */
	c[0x34] = FAKE_CAP_MSI;
	c[0x3d] = 1;                    /* INTA# (hidden unless intx_count) */
	/* MSI: 64-bit, 4 vectors capable. */
	c[FAKE_CAP_MSI] = 0x05;
	c[FAKE_CAP_MSI + 1] = FAKE_CAP_MSIX;
	put(c + FAKE_CAP_MSI + 2, 2, 0x0080 | (2 << 1));
	/* MSI-X: 4 vectors. */
	c[FAKE_CAP_MSIX] = 0x11;
	c[FAKE_CAP_MSIX + 1] = FAKE_CAP_VNDR;
	put(c + FAKE_CAP_MSIX + 2, 2, 3);
	if (f->o.msix_in_bar2) {
		put(c + FAKE_CAP_MSIX + 4, 4, 0x1000 | 2);
		put(c + FAKE_CAP_MSIX + 8, 4, 0x1800 | 2);
	} else {
		put(c + FAKE_CAP_MSIX + 4, 4, 0x800);
		put(c + FAKE_CAP_MSIX + 8, 4, 0xc00);
	}
	/* Vendor capability, 8 bytes: device-specific data from +3. */
	c[FAKE_CAP_VNDR] = 0x09;
	c[FAKE_CAP_VNDR + 1] = 0;
	c[FAKE_CAP_VNDR + 2] = 8;
	put(c + FAKE_CAP_VNDR + 4, 4, 0xfeedf00d);
	return f;
}
