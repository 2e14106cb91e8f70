/*
 * pci-dev.c: configuration space emulation for one PCI function: the
 * type 0 header, per-byte write and write-1-to-clear masks, BAR sizing
 * and programming, the capability list, INTx, pass-through hooks, and
 * the bus_ops through which BAR trap ranges reach the device model.
 */
#include "devices/pci/pci-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"

/*
 * Guest-writable command bits: I/O and memory decode, bus master,
 * parity and SERR# response, INTx disable. The rest (special cycles,
 * MWI, VGA snoop, fast back-to-back) read as 0, as on PCIe functions.
 */
#define CMD_WMASK                                                     \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |   \
	 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

/* Capabilities may walk at most this many entries (256 - 64) / 4. */
#define CAP_WALK_MAX 48

/* Internal marker for the upper half of a 64-bit BAR. */
#define BAR_F_UPPER 0x100

static bool cfg_range_ok(unsigned int off, unsigned int len)
{
	return (len == 1 || len == 2 || len == 4) && off < PCI_CFG_EXT_SIZE &&
	       (off & 3) + len <= 4;
}

static void set_field(struct pci_dev *dev, unsigned int off, unsigned int len,
		      uint32_t val, uint32_t wmask, uint32_t w1cmask)
{
	pci_le_put(&dev->cfg[off], len, val);
	pci_le_put(&dev->wmask[off], len, wmask);
	pci_le_put(&dev->w1cmask[off], len, w1cmask);
}

int pci_dev__create(const char *id, const struct pci_dev_ident *ident,
		    const struct pci_dev_ops *ops, void *opaque,
		    struct pci_dev **out)
{
	struct pci_dev *dev;
	pthread_mutexattr_t attr;

	if (!ident || ident->intx_pin > 4 || ident->vendor_id == 0xffff ||
	    ident->class_code > 0xffffff)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	snprintf(dev->id, sizeof(dev->id), "%s", id ? id : "pci");
	dev->ops = ops;
	dev->opaque = opaque;
	dev->slot = -1;
	dev->gsi = -1;
	dev->cap_end = PCI_STD_HEADER_END;
	pthread_mutexattr_init(&attr);
	/* Recursive: hooks called with the lock held may call back in. */
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&dev->lock, &attr);
	pthread_mutexattr_destroy(&attr);

	set_field(dev, PCI_VENDOR_ID, 2, ident->vendor_id, 0, 0);
	set_field(dev, PCI_DEVICE_ID, 2, ident->device_id, 0, 0);
	set_field(dev, PCI_COMMAND, 2, 0, CMD_WMASK, 0);
	set_field(dev, PCI_STATUS, 2, 0, 0, PCI_STATUS_W1C_MASK);
	set_field(dev, PCI_REVISION_ID, 1, ident->revision, 0, 0);
	pci_le_put(&dev->cfg[PCI_CLASS_PROG], 3, ident->class_code);
	/* Cache line size is a plain read/write register; latency timer 0. */
	set_field(dev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	set_field(dev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0, 0);
	set_field(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, ident->subsys_vendor_id,
		  0, 0);
	set_field(dev, PCI_SUBSYSTEM_ID, 2, ident->subsys_id, 0, 0);
	/* Interrupt Line is scratch for software; the pin is read-only. */
	set_field(dev, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
	set_field(dev, PCI_INTERRUPT_PIN, 1, ident->intx_pin, 0, 0);
	*out = dev;
	return 0;
}

void pci_dev__destroy(struct pci_dev *dev)
{
	if (!dev)
		return;
	if (dev->bus)
		pci__unregister_device(dev->bus, dev);
	pci_msi__destroy(dev);
	free(dev->reset_cfg);
	dev->reset_cfg = NULL;
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

const char *pci_dev__id(const struct pci_dev *dev)
{
	return dev->id;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

int pci_dev__set_bar(struct pci_dev *dev, unsigned int bar, uint64_t size,
		     unsigned int flags)
{
	bool io = flags & PCI_BAR_F_IO, m64 = flags & PCI_BAR_F_MEM64;
	unsigned int reg = PCI_BAR0 + 4 * bar;
	uint32_t lo_flags = 0, lo_mask;
	int ret = 0;

	if (bar >= PCI_BAR_COUNT || !is_pow2(size) ||
	    (flags & ~(PCI_BAR_F_IO | PCI_BAR_F_MEM64 | PCI_BAR_F_PREFETCH)))
		return -EINVAL;
	if (io && (flags != PCI_BAR_F_IO || size < 4 || size > 256))
		return -EINVAL;
	/* The spec's minimum memory BAR is 16 bytes; 32-bit BARs <= 2 GiB. */
	if (!io && (size < 16 || (!m64 && size > (1ULL << 31)) ||
		    (m64 && (bar == PCI_BAR_COUNT - 1 || size > (1ULL << 63)))))
		return -EINVAL;

	pthread_mutex_lock(&dev->lock);
	if (dev->bus || dev->bars[bar].size || dev->bars[bar].flags ||
	    (m64 && (dev->bars[bar + 1].size || dev->bars[bar + 1].flags))) {
		ret = -EBUSY;
		goto out;
	}
	if (io) {
		lo_flags = PCI_BAR_SPACE_IO;
		/* 16-bit I/O decode: address bits 31:16 read as zero. */
		lo_mask = (uint32_t)~(size - 1) & 0xfffc;
	} else {
		lo_flags = (m64 ? PCI_BAR_MEM_TYPE_64 : 0) |
			   ((flags & PCI_BAR_F_PREFETCH) ? PCI_BAR_MEM_PREFETCH : 0);
		lo_mask = (uint32_t)~(size - 1) & ~(uint32_t)PCI_BAR_MEM_FLAGS_MASK;
	}
	dev->bars[bar] = (struct pci_bar){ .dev = dev, .index = bar,
					   .size = size, .flags = flags };
	set_field(dev, reg, 4, lo_flags, lo_mask, 0);
	if (m64) {
		dev->bars[bar + 1] = (struct pci_bar){
			.dev = dev, .index = bar + 1, .flags = BAR_F_UPPER };
		set_field(dev, reg + 4, 4, 0, (uint32_t)(~(size - 1) >> 32), 0);
	}
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

uint64_t pci_dev__bar_size(struct pci_dev *dev, unsigned int bar)
{
	return bar < PCI_BAR_COUNT ? dev->bars[bar].size : 0;
}

/* Address in BAR @bar's registers. Called with dev->lock held. */
static uint64_t bar_addr_locked(struct pci_dev *dev, unsigned int bar)
{
	const struct pci_bar *b = &dev->bars[bar];
	unsigned int reg = PCI_BAR0 + 4 * bar;
	uint64_t addr = pci_le_get(&dev->cfg[reg], 4);

	if (b->flags & PCI_BAR_F_IO)
		return addr & ~PCI_BAR_IO_FLAGS_MASK;
	addr &= ~PCI_BAR_MEM_FLAGS_MASK;
	if (b->flags & PCI_BAR_F_MEM64)
		addr |= (uint64_t)pci_le_get(&dev->cfg[reg + 4], 4) << 32;
	return addr;
}

uint64_t pci_dev__bar_addr(struct pci_dev *dev, unsigned int bar)
{
	uint64_t addr = 0;

	if (bar >= PCI_BAR_COUNT)
		return 0;
	pthread_mutex_lock(&dev->lock);
	if (dev->bars[bar].size)
		addr = bar_addr_locked(dev, bar);
	pthread_mutex_unlock(&dev->lock);
	return addr;
}

bool pci_dev__bar_mapped(struct pci_dev *dev, unsigned int bar)
{
	bool mapped;

	if (bar >= PCI_BAR_COUNT)
		return false;
	/* Written under the bus's map lock; a snapshot read is enough here. */
	mapped = __atomic_load_n(&dev->bars[bar].mapped, __ATOMIC_ACQUIRE);
	return mapped;
}

void pci_dev__bars_refresh(struct pci_dev *dev)
{
	uint16_t cmd = pci_le_get(&dev->cfg[PCI_COMMAND], 2);
	unsigned int i;

	for (i = 0; i < PCI_BAR_COUNT; i++) {
		const struct pci_bar *b = &dev->bars[i];
		bool want;

		if (!b->size)
			continue;
		want = (b->flags & PCI_BAR_F_IO) ? (cmd & PCI_COMMAND_IO)
						 : (cmd & PCI_COMMAND_MEMORY);
		pci__bar_update(dev, i, want, bar_addr_locked(dev, i));
	}
}

int pci_dev__add_cap(struct pci_dev *dev, uint8_t cap_id, unsigned int len,
		     unsigned int *off)
{
	unsigned int at, ptr, n = 0;
	int ret = 0;

	if (len < 2 || len > PCI_CFG_SIZE - PCI_STD_HEADER_END)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	at = ALIGN_UP(dev->cap_end, 4u);
	if (dev->bus || at + len > PCI_CFG_SIZE) {
		ret = dev->bus ? -EBUSY : -ENOSPC;
		goto out;
	}
	dev->cap_end = at + ALIGN_UP(len, 4u);
	memset(&dev->cfg[at], 0, len);
	memset(&dev->wmask[at], 0, len);
	memset(&dev->w1cmask[at], 0, len);
	dev->cfg[at] = cap_id;
	/* Append at the tail, so the list reads in the order caps were added. */
	ptr = dev->cfg[PCI_CAPABILITY_LIST];
	if (!ptr) {
		dev->cfg[PCI_CAPABILITY_LIST] = at;
	} else {
		while (dev->cfg[ptr + PCI_CAP_NEXT] && ++n < CAP_WALK_MAX)
			ptr = dev->cfg[ptr + PCI_CAP_NEXT];
		dev->cfg[ptr + PCI_CAP_NEXT] = at;
	}
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	*off = at;
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

unsigned int pci_dev__find_cap(struct pci_dev *dev, uint8_t cap_id)
{
	unsigned int ptr, n, found = 0;

	pthread_mutex_lock(&dev->lock);
	if (!(dev->cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		goto out;
	/* The low two bits of a pointer are reserved: mask them, as guests do. */
	ptr = dev->cfg[PCI_CAPABILITY_LIST] & ~3u;
	for (n = 0; n < CAP_WALK_MAX && ptr >= PCI_STD_HEADER_END; n++) {
		if (dev->cfg[ptr] == cap_id) {
			found = ptr;
			break;
		}
		ptr = dev->cfg[ptr + PCI_CAP_NEXT] & ~3u;
	}
out:
	pthread_mutex_unlock(&dev->lock);
	return found;
}

int pci_dev__cfg_init(struct pci_dev *dev, unsigned int off, unsigned int len,
		      uint32_t val, uint32_t wmask, uint32_t w1cmask)
{
	if (!cfg_range_ok(off, len))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	set_field(dev, off, len, val, wmask & ~w1cmask, w1cmask);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int pci_dev__cfg_load(struct pci_dev *dev, unsigned int off, const void *buf,
		      unsigned int len)
{
	if (off > PCI_CFG_EXT_SIZE || len > PCI_CFG_EXT_SIZE - off)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	memcpy(&dev->cfg[off], buf, len);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int pci_dev__cfg_passthrough(struct pci_dev *dev, unsigned int off,
			     unsigned int len, bool pt)
{
	if (off > PCI_CFG_EXT_SIZE || len > PCI_CFG_EXT_SIZE - off)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	memset(&dev->pt[off], pt, len);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

uint32_t pci_dev__cfg_get(struct pci_dev *dev, unsigned int off,
			  unsigned int len)
{
	uint32_t v;

	if (!cfg_range_ok(off, len))
		return 0;
	pthread_mutex_lock(&dev->lock);
	v = pci_le_get(&dev->cfg[off], len);
	pthread_mutex_unlock(&dev->lock);
	return v;
}

static uint32_t pt_mask_of(const struct pci_dev *dev, unsigned int off,
			   unsigned int len)
{
	uint32_t mask = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		if (dev->pt[off + i])
			mask |= 0xffu << (8 * i);
	return mask;
}

uint32_t pci_dev__config_read(struct pci_dev *dev, unsigned int off,
			      unsigned int len)
{
	uint32_t v, pt;

	if (!cfg_range_ok(off, len))
		return 0xffffffffu;
	pthread_mutex_lock(&dev->lock);
	v = pci_le_get(&dev->cfg[off], len);
	pt = pt_mask_of(dev, off, len);
	if (pt && dev->ops && dev->ops->cfg_read)
		v = (v & ~pt) | (dev->ops->cfg_read(dev->opaque, off, len) & pt);
	pthread_mutex_unlock(&dev->lock);
	return v;
}

static bool overlaps(unsigned int off, unsigned int len, unsigned int start,
		     unsigned int size)
{
	return off < start + size && start < off + len;
}

void pci_dev__config_write(struct pci_dev *dev, unsigned int off,
			   unsigned int len, uint32_t val)
{
	uint32_t pt;
	unsigned int i;

	if (!cfg_range_ok(off, len))
		return;
	pthread_mutex_lock(&dev->lock);
	pt = pt_mask_of(dev, off, len);
	for (i = 0; i < len; i++) {
		unsigned int b = off + i;
		uint8_t in = val >> (8 * i);
		uint8_t wm = dev->wmask[b] & ~dev->w1cmask[b];

		if (dev->pt[b])
			continue;
		dev->cfg[b] = (dev->cfg[b] & ~wm) | (in & wm);
		dev->cfg[b] &= ~(in & dev->w1cmask[b]);
	}
	if (overlaps(off, len, PCI_COMMAND, 2)) {
		pci_dev__bars_refresh(dev);
		pci_dev__intx_refresh(dev);
	} else if (overlaps(off, len, PCI_BAR0, 4 * PCI_BAR_COUNT)) {
		pci_dev__bars_refresh(dev);
	}
	pci_msi__cfg_written(dev, off, len);
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev->opaque, off, len,
				    val & (0xffffffffu >> (32 - 8 * len)), pt);
	pthread_mutex_unlock(&dev->lock);
}

void pci_dev__intx_refresh(struct pci_dev *dev)
{
	uint16_t cmd = pci_le_get(&dev->cfg[PCI_COMMAND], 2);
	bool asserted;

	if (dev->intx_level)
		dev->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		dev->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
	/* INTx is silent while disabled or while MSI/MSI-X is in use. */
	asserted = dev->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
		   !pci_dev__msi_enabled(dev) && !pci_dev__msix_enabled(dev);
	if (asserted != dev->intx_asserted) {
		dev->intx_asserted = asserted;
		pci__intx_update(dev, asserted);
	}
}

int pci_dev__set_intx(struct pci_dev *dev, int level)
{
	int ret = 0;

	if (!dev->cfg[PCI_INTERRUPT_PIN])
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->intx_level = level != 0;
	pci_dev__intx_refresh(dev);
	if (!dev->bus)
		ret = -ENODEV;
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci_dev__slot(struct pci_dev *dev)
{
	int slot;

	pthread_mutex_lock(&dev->lock);
	slot = dev->slot;
	pthread_mutex_unlock(&dev->lock);
	return slot;
}

int pci_dev__intx_gsi(struct pci_dev *dev)
{
	int gsi;

	pthread_mutex_lock(&dev->lock);
	gsi = dev->gsi;
	pthread_mutex_unlock(&dev->lock);
	return gsi;
}

void pci_dev__power_on(struct pci_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	if (dev->reset_cfg)
		memcpy(dev->cfg, dev->reset_cfg, sizeof(dev->cfg));
	dev->intx_level = false;
	pci_msi__reset(dev);
	pci_dev__bars_refresh(dev);
	pci_dev__intx_refresh(dev);
	if (dev->ops && dev->ops->reset)
		dev->ops->reset(dev->opaque);
	pthread_mutex_unlock(&dev->lock);
}

static void bar_bus_read(void *opaque, uint64_t offset, void *data,
			 uint32_t len)
{
	struct pci_bar *b = opaque;
	struct pci_dev *dev = b->dev;

	if (pci_msi__bar_access(dev, b->index, offset, data, len, false))
		return;
	if (dev->ops && dev->ops->bar_read)
		dev->ops->bar_read(dev->opaque, b->index, offset, data, len);
	else
		memset(data, 0xff, len);
}

static void bar_bus_write(void *opaque, uint64_t offset, const void *data,
			  uint32_t len)
{
	struct pci_bar *b = opaque;
	struct pci_dev *dev = b->dev;

	if (pci_msi__bar_access(dev, b->index, offset, (void *)data, len, true))
		return;
	if (dev->ops && dev->ops->bar_write)
		dev->ops->bar_write(dev->opaque, b->index, offset, data, len);
}

const struct bus_ops pci_dev__bar_bus_ops = {
	.read = bar_bus_read,
	.write = bar_bus_write,
};
