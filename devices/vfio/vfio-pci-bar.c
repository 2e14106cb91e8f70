/*
 * vfio-pci-bar.c: guest access to a VFIO PCI function's BARs. Areas the
 * device lets us mmap are mapped once at creation; while the guest
 * decodes the BAR they become KVM memslots (guest loads and stores go
 * straight to device memory without exits), minus the pages that hold
 * the MSI-X table or PBA, which the PCI core must keep trapping. Every
 * other access exits to ferry and becomes a backend region access; a
 * trapped access inside an mmapped area (a memslot KVM refused, an
 * unaligned BAR) is served from the mapping. A failed device reads all
 * ones and ignores writes, and has no memslots.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/vfio.h>

#include "devices/pci/pci-dev.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "vmm/log.h"

/* KVM memslots are made of whole 4 KiB pages. */
#define SLOT_PAGE 4096ULL

struct piece {
	uint64_t off, end; /* BAR-relative [off, end) */
};

/* Remove [hs, he) from the @n pieces in @p (room for VFIO_PCI_MAX_PIECES). */
static unsigned int cut(struct piece *p, unsigned int n, uint64_t hs,
			uint64_t he)
{
	struct piece out[VFIO_PCI_MAX_PIECES];
	unsigned int i, m = 0;

	for (i = 0; i < n; i++) {
		if (he <= p[i].off || p[i].end <= hs) {
			out[m++] = p[i];
			continue;
		}
		if (p[i].off < hs && m < VFIO_PCI_MAX_PIECES)
			out[m++] = (struct piece){ p[i].off, hs };
		if (he < p[i].end && m < VFIO_PCI_MAX_PIECES)
			out[m++] = (struct piece){ he, p[i].end };
	}
	memcpy(p, out, m * sizeof(*p));
	return m;
}

int vfio_pci__map_regions(struct vfio_pci *vp)
{
	struct vfio_region_desc rd;
	unsigned int i, a;
	int ret, prot;

	for (i = 0; i < VFIO_PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &vp->bars[i];

		if (!b->region_size)
			continue;
		ret = vp->be->ops->get_region_info(vp->be, i, &rd);
		if (ret)
			return vfio_pci__backend_error(vp, "region info", ret);
		if (!(rd.flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		prot = ((rd.flags & VFIO_REGION_INFO_FLAG_READ) ? PROT_READ : 0) |
		       ((rd.flags & VFIO_REGION_INFO_FLAG_WRITE) ? PROT_WRITE : 0);
		for (a = 0; a < rd.nr_areas && a < VFIO_BACKEND_MAX_AREAS; a++) {
			struct vfio_pci_map *m = &b->maps[b->nr_maps];

			if (!rd.areas[a].size)
				continue;
			ret = vp->be->ops->region_mmap(vp->be, i,
						       rd.areas[a].offset,
						       rd.areas[a].size, prot,
						       &m->hva);
			if (ret) {
				if (vp->be->failed)
					return vfio_pci__backend_error(
						vp, "region mmap", ret);
				log_warn("%s: BAR%u area 0x%llx+0x%llx stays trapped: mmap: %s",
					 vp->dev.id, i,
					 (unsigned long long)rd.areas[a].offset,
					 (unsigned long long)rd.areas[a].size,
					 strerror(-ret));
				continue;
			}
			m->off = rd.areas[a].offset;
			m->size = rd.areas[a].size;
			b->nr_maps++;
			log_debug("%s: BAR%u area 0x%llx+0x%llx mmapped",
				  vp->dev.id, i, (unsigned long long)m->off,
				  (unsigned long long)m->size);
		}
	}
	return 0;
}

void vfio_pci__unmap_regions(struct vfio_pci *vp)
{
	unsigned int i, a;

	for (i = 0; i < VFIO_PCI_NR_BARS; i++) {
		struct vfio_pci_bar *b = &vp->bars[i];

		for (a = 0; a < b->nr_maps; a++)
			munmap(b->maps[a].hva, b->maps[a].size);
		b->nr_maps = 0;
	}
}

/* bar_lock held. */
static void slots_drop(struct vfio_pci *vp, struct vfio_pci_bar *b)
{
	unsigned int s;
	int ret;

	for (s = 0; s < b->nr_slots; s++) {
		ret = vp->env.unmap(vp->env.opaque, b->slots[s]);
		if (ret)
			log_ratelimited(LOG_LEVEL_WARN,
					"%s: removing memslot %u: %s",
					vp->dev.id, b->slots[s], strerror(-ret));
	}
	b->nr_slots = 0;
}

/* bar_lock held: memslots for every mmapped piece of BAR @b at b->addr. */
static void slots_add(struct vfio_pci *vp, unsigned int bar,
		      struct vfio_pci_bar *b)
{
	unsigned int a, h, k, n;
	int ret;

	for (a = 0; a < b->nr_maps; a++) {
		const struct vfio_pci_map *m = &b->maps[a];
		struct piece p[VFIO_PCI_MAX_PIECES] = {
			{ m->off, m->off + m->size } };

		n = 1;
		for (h = 0; h < b->nr_holes; h++)
			n = cut(p, n, ALIGN_DOWN(b->holes[h].off, SLOT_PAGE),
				ALIGN_UP(b->holes[h].off + b->holes[h].size,
					 SLOT_PAGE));
		for (k = 0; k < n && b->nr_slots < VFIO_PCI_MAX_PIECES; k++) {
			uint64_t gpa = b->addr + p[k].off;
			uint64_t len = ALIGN_DOWN(p[k].end - p[k].off, SLOT_PAGE);
			unsigned int slot;

			if (!len || (gpa & (SLOT_PAGE - 1)))
				continue; /* stays trapped */
			ret = vp->env.map(vp->env.opaque, gpa, len,
					  (uint8_t *)m->hva + (p[k].off - m->off),
					  &slot);
			if (ret) {
				log_ratelimited(LOG_LEVEL_WARN,
						"%s: BAR%u 0x%llx+0x%llx stays trapped: memslot: %s",
						vp->dev.id, bar,
						(unsigned long long)gpa,
						(unsigned long long)len,
						strerror(-ret));
				continue;
			}
			b->slots[b->nr_slots++] = slot;
			log_debug("%s: BAR%u 0x%llx+0x%llx -> memslot %u",
				  vp->dev.id, bar, (unsigned long long)gpa,
				  (unsigned long long)len, slot);
		}
	}
}

void vfio_pci__bar_map(void *opaque, unsigned int bar, uint64_t addr,
		       uint64_t size)
{
	struct vfio_pci *vp = opaque;
	struct vfio_pci_bar *b;

	(void)size;
	if (bar >= VFIO_PCI_NR_BARS)
		return;
	b = &vp->bars[bar];
	pthread_mutex_lock(&vp->bar_lock);
	if (b->mapped)
		slots_drop(vp, b);
	b->mapped = true;
	b->addr = addr;
	if (vp->env.map && !vfio_pci__failed(vp))
		slots_add(vp, bar, b);
	pthread_mutex_unlock(&vp->bar_lock);
}

void vfio_pci__bar_unmap(void *opaque, unsigned int bar, uint64_t addr,
			 uint64_t size)
{
	struct vfio_pci *vp = opaque;
	struct vfio_pci_bar *b;

	(void)addr;
	(void)size;
	if (bar >= VFIO_PCI_NR_BARS)
		return;
	b = &vp->bars[bar];
	pthread_mutex_lock(&vp->bar_lock);
	slots_drop(vp, b);
	b->mapped = false;
	pthread_mutex_unlock(&vp->bar_lock);
}

void vfio_pci__drop_memslots(struct vfio_pci *vp)
{
	unsigned int i;

	pthread_mutex_lock(&vp->bar_lock);
	for (i = 0; i < VFIO_PCI_NR_BARS; i++)
		slots_drop(vp, &vp->bars[i]);
	pthread_mutex_unlock(&vp->bar_lock);
}

/* The mapping holding [off, off+len) of BAR @b, or NULL. */
static uint8_t *mapped_at(struct vfio_pci_bar *b, uint64_t off, uint32_t len)
{
	unsigned int a;

	for (a = 0; a < b->nr_maps; a++) {
		const struct vfio_pci_map *m = &b->maps[a];

		if (off >= m->off && off - m->off + len <= m->size)
			return (uint8_t *)m->hva + (off - m->off);
	}
	return NULL;
}

/* One access of the guest's width, as the device would see it. */
static void copy_sized(void *dst, const void *src, uint32_t len)
{
	if (((uintptr_t)dst | (uintptr_t)src) & (len - 1))
		len = 0; /* unaligned: bytewise below */
	switch (len) {
	case 1: *(volatile uint8_t *)dst = *(const volatile uint8_t *)src; return;
	case 2: *(volatile uint16_t *)dst = *(const volatile uint16_t *)src; return;
	case 4: *(volatile uint32_t *)dst = *(const volatile uint32_t *)src; return;
	case 8: *(volatile uint64_t *)dst = *(const volatile uint64_t *)src; return;
	default: break;
	}
	memcpy(dst, src, len);
}

static bool access_ok(struct vfio_pci *vp, unsigned int bar, uint64_t offset,
		      uint32_t len)
{
	return bar < VFIO_PCI_NR_BARS && !vfio_pci__failed(vp) &&
	       offset < vp->bars[bar].region_size &&
	       len <= vp->bars[bar].region_size - offset;
}

void vfio_pci__bar_read(void *opaque, unsigned int bar, uint64_t offset,
			void *data, uint32_t len)
{
	struct vfio_pci *vp = opaque;
	uint8_t *p;
	int ret;

	if (!access_ok(vp, bar, offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	p = mapped_at(&vp->bars[bar], offset, len);
	if (p) {
		if (len <= 8)
			copy_sized(data, p, len);
		else
			memcpy(data, p, len);
		return;
	}
	ret = vp->be->ops->region_read(vp->be, bar, offset, data, len);
	if (ret) {
		vfio_pci__backend_error(vp, "BAR read", ret);
		memset(data, 0xff, len);
	}
}

void vfio_pci__bar_write(void *opaque, unsigned int bar, uint64_t offset,
			 const void *data, uint32_t len)
{
	struct vfio_pci *vp = opaque;
	uint8_t *p;
	int ret;

	if (!access_ok(vp, bar, offset, len))
		return;
	p = mapped_at(&vp->bars[bar], offset, len);
	if (p) {
		if (len <= 8)
			copy_sized(p, data, len);
		else
			memcpy(p, data, len);
		return;
	}
	ret = vp->be->ops->region_write(vp->be, bar, offset, data, len);
	if (ret)
		vfio_pci__backend_error(vp, "BAR write", ret);
}
