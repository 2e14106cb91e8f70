/*
 * pci.c: bus 0 and its host bridge: configuration mechanism #1 and ECAM
 * dispatch to the function in each slot, slot and BAR window
 * allocation, BAR (un)registration on the vmm bus as the guest moves
 * BARs and toggles decode, and INTx wiring of slots to IOAPIC GSIs.
 */
#include "devices/pci/pci-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci-layout.h"
#include "vmm/log.h"

/* CF8 address register: enable, bus, device, function, register. */
#define CONF1_ENABLE 0x80000000u
/* Bits 30:24 are reserved and bits 1:0 read as 0 (dword register number). */
#define CONF1_ADDR_MASK 0x80fffffcu

struct pci_bus {
	struct bus *bus;               /* borrowed */
	struct pci_windows win;
	struct pci_irq_ops irq;
	void *irq_opaque;
	uint32_t conf1_addr;           /* atomic: last dword written to CF8 */

	pthread_mutex_t map_lock;      /* slots, BAR mapping state, allocator */
	struct pci_dev *slots[PCI_MAX_SLOTS];
	uint64_t next_mmio32, next_mmio64, next_io;

	pthread_mutex_t intx_lock;     /* leaf */
	unsigned int intx_count[PCI_INTX_GSI_COUNT];

	struct pci_dev *host;          /* owned: 00:00.0 */
	bool conf1_on, ecam_on;        /* ranges registered on the bus */
};

int pci__default_windows(uint64_t ram_end, unsigned int phys_bits,
			 struct pci_windows *out)
{
	uint64_t base, limit;

	/* Below 32 bits the hole itself is unreachable; x86 stops at 52. */
	if (phys_bits < 32 || phys_bits > 52)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->mmio32_base = PCI_MMIO32_BASE;
	out->mmio32_end = PCI_MMIO32_END;
	out->io_base = PCI_IO_BASE;
	out->io_end = PCI_IO_END;
	out->ecam_base = PCI_ECAM_BASE;
	base = ALIGN_UP(MAX(ram_end, MEM_HIGH_START), PCI_MMIO64_ALIGN);
	limit = 1ULL << phys_bits;
	out->mmio64_base = base;
	out->mmio64_end = base < limit ? MIN(base + PCI_MMIO64_SIZE, limit) : base;
	return 0;
}

/* --- config space dispatch --- */

static struct pci_dev *slot_dev(struct pci_bus *pbus, unsigned int slot)
{
	struct pci_dev *dev;

	pthread_mutex_lock(&pbus->map_lock);
	dev = pbus->slots[slot];
	pthread_mutex_unlock(&pbus->map_lock);
	return dev;
}

/*
 * Access @len bytes at register @reg of slot/function: split into
 * pieces that stay inside one dword (1, 2 or 4 bytes), as a root
 * complex would for an unaligned request. Absent functions read as all
 * ones and ignore writes (master abort). Devices are only unregistered
 * with vCPUs stopped, so the pointer stays valid after the lookup.
 */
static void cfg_access(struct pci_bus *pbus, unsigned int slot,
		       unsigned int fn, unsigned int reg, uint8_t *data,
		       uint32_t len, bool is_write)
{
	struct pci_dev *dev = fn == 0 ? slot_dev(pbus, slot) : NULL;

	while (len) {
		unsigned int chunk = MIN(len, 4 - (reg & 3));

		if (chunk == 3)
			chunk = 2;
		if (!dev || reg >= PCI_CFG_EXT_SIZE) {
			if (!is_write)
				memset(data, 0xff, chunk);
		} else if (is_write) {
			pci_dev__config_write(dev, reg, chunk,
					      pci_le_get(data, chunk));
		} else {
			pci_le_put(data, chunk,
				   pci_dev__config_read(dev, reg, chunk));
		}
		data += chunk;
		reg += chunk;
		len -= chunk;
	}
}

static void conf1_access(struct pci_bus *pbus, uint64_t offset, uint8_t *data,
			 uint32_t len, bool is_write)
{
	uint32_t addr;

	if (offset == 0 && len == 4) {
		if (is_write)
			__atomic_store_n(&pbus->conf1_addr,
					 pci_le_get(data, 4) & CONF1_ADDR_MASK,
					 __ATOMIC_RELAXED);
		else
			pci_le_put(data, 4, __atomic_load_n(&pbus->conf1_addr,
							    __ATOMIC_RELAXED));
		return;
	}
	addr = __atomic_load_n(&pbus->conf1_addr, __ATOMIC_RELAXED);
	/*
	 * Only dword accesses reach the address register; narrower ones at
	 * 0xCF8..0xCFB (e.g. PIIX's reset control at 0xCF9) are not
	 * emulated. Data port accesses need the enable bit and bus 0.
	 */
	if (offset < 4 || !(addr & CONF1_ENABLE) || ((addr >> 16) & 0xff)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	cfg_access(pbus, (addr >> 11) & 0x1f, (addr >> 8) & 0x7,
		   (addr & 0xfc) + (unsigned int)(offset - 4), data, len,
		   is_write);
}

static void conf1_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	conf1_access(opaque, offset, data, len, false);
}

static void conf1_write(void *opaque, uint64_t offset, const void *data,
			uint32_t len)
{
	conf1_access(opaque, offset, (uint8_t *)data, len, true);
}

static const struct bus_ops conf1_ops = {
	.read = conf1_read,
	.write = conf1_write,
};

/* ECAM offset: bus [27:20] (always 0 here), device [19:15], function [14:12]. */
static void ecam_access(struct pci_bus *pbus, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	/* Walk per 4 KiB function space; cfg_access splits per dword. */
	while (len) {
		unsigned int reg = offset & 0xfff;
		uint32_t chunk = MIN(len, (uint32_t)(PCI_CFG_EXT_SIZE - reg));

		if (offset >= PCI_ECAM_SIZE) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		cfg_access(pbus, (offset >> 15) & 0x1f, (offset >> 12) & 0x7,
			   reg, data, chunk, is_write);
		data += chunk;
		offset += chunk;
		len -= chunk;
	}
}

static void ecam_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
	ecam_access(opaque, offset, data, len, false);
}

static void ecam_write(void *opaque, uint64_t offset, const void *data,
		       uint32_t len)
{
	ecam_access(opaque, offset, (uint8_t *)data, len, true);
}

static const struct bus_ops ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

/* --- BAR mapping --- */

static bool in_range(uint64_t addr, uint64_t size, uint64_t base, uint64_t end)
{
	uint64_t last;

	return !add_overflow(addr, size, &last) && addr >= base && last <= end;
}

static bool bar_decodable(const struct pci_bus *pbus, const struct pci_bar *b,
			  uint64_t addr)
{
	const struct pci_windows *w = &pbus->win;

	if (b->flags & PCI_BAR_F_IO)
		return in_range(addr, b->size, w->io_base, w->io_end);
	return in_range(addr, b->size, w->mmio32_base, w->mmio32_end) ||
	       in_range(addr, b->size, w->mmio64_base, w->mmio64_end);
}

static enum bus_space bar_space(const struct pci_bar *b)
{
	return (b->flags & PCI_BAR_F_IO) ? BUS_PIO : BUS_MMIO;
}

/* map_lock held. */
static void bar_unmap(struct pci_bus *pbus, struct pci_bar *b)
{
	struct pci_dev *dev = b->dev;

	bus__unregister(pbus->bus, bar_space(b), b->mapped_addr);
	__atomic_store_n(&b->mapped, false, __ATOMIC_RELEASE);
	if (dev->ops && dev->ops->bar_unmap)
		dev->ops->bar_unmap(dev->opaque, b->index, b->mapped_addr,
				    b->size);
}

/*
 * map_lock held. A BAR decodes only inside a window of its kind (never
 * RAM, the LAPIC/IOAPIC, ECAM or legacy ports) and only where no other
 * range is registered: the first BAR to claim an address keeps it and
 * the other stays unmapped until the range frees up.
 */
static void bar_try_map(struct pci_bus *pbus, struct pci_bar *b)
{
	struct pci_dev *dev = b->dev;
	int ret = -ERANGE;

	if (bar_decodable(pbus, b, b->want_addr))
		ret = bus__register(pbus->bus, bar_space(b), b->want_addr,
				    b->size, &pci_dev__bar_bus_ops, b);
	if (ret) {
		if (!b->complained)
			log_ratelimited(LOG_LEVEL_WARN,
					"%s: BAR%u at 0x%llx (+0x%llx) not decoded: %s",
					dev->id, b->index,
					(unsigned long long)b->want_addr,
					(unsigned long long)b->size,
					ret == -ERANGE ? "outside the PCI windows"
					: ret == -EEXIST ? "overlaps another range"
							 : "bus error");
		b->complained = true;
		return;
	}
	b->mapped_addr = b->want_addr;
	__atomic_store_n(&b->mapped, true, __ATOMIC_RELEASE);
	if (dev->ops && dev->ops->bar_map)
		dev->ops->bar_map(dev->opaque, b->index, b->mapped_addr, b->size);
}

/* map_lock held: give BARs blocked by an overlap another chance. */
static void retry_blocked(struct pci_bus *pbus)
{
	unsigned int s, i;

	for (s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *dev = pbus->slots[s];

		if (!dev)
			continue;
		for (i = 0; i < PCI_BAR_COUNT; i++) {
			struct pci_bar *b = &dev->bars[i];

			if (b->size && b->want && !b->mapped)
				bar_try_map(pbus, b);
		}
	}
}

void pci__bar_update(struct pci_dev *dev, unsigned int bar, bool want,
		     uint64_t addr)
{
	struct pci_bus *pbus = dev->bus;
	struct pci_bar *b = &dev->bars[bar];
	bool released = false;

	if (!pbus)
		return;
	pthread_mutex_lock(&pbus->map_lock);
	if (b->mapped && (!want || addr != b->mapped_addr)) {
		bar_unmap(pbus, b);
		released = true;
	}
	if (want != b->want || addr != b->want_addr)
		b->complained = false;
	b->want = want;
	b->want_addr = addr;
	if (want && !b->mapped)
		bar_try_map(pbus, b);
	if (released)
		retry_blocked(pbus);
	pthread_mutex_unlock(&pbus->map_lock);
}

/* --- interrupts --- */

void pci__intx_update(struct pci_dev *dev, bool asserted)
{
	struct pci_bus *pbus = dev->bus;
	unsigned int idx;
	int ret = 0;

	if (!pbus || dev->gsi < 0)
		return;
	idx = dev->gsi - PCI_INTX_GSI_BASE;
	pthread_mutex_lock(&pbus->intx_lock);
	/* A shared level-triggered line is high while any device drives it. */
	if (asserted) {
		if (pbus->intx_count[idx]++ == 0)
			ret = pbus->irq.set_irq(pbus->irq_opaque, dev->gsi, 1);
	} else if (pbus->intx_count[idx] > 0) {
		if (--pbus->intx_count[idx] == 0)
			ret = pbus->irq.set_irq(pbus->irq_opaque, dev->gsi, 0);
	}
	pthread_mutex_unlock(&pbus->intx_lock);
	if (ret)
		log_ratelimited(LOG_LEVEL_WARN, "%s: setting GSI %d failed: %d",
				dev->id, dev->gsi, ret);
}

int pci__msi_send(struct pci_dev *dev, uint64_t addr, uint32_t data)
{
	struct pci_bus *pbus = dev->bus;
	int ret;

	if (!pbus)
		return -ENODEV;
	ret = pbus->irq.signal_msi(pbus->irq_opaque, addr, data);
	if (ret)
		log_ratelimited(LOG_LEVEL_WARN,
				"%s: MSI 0x%llx/0x%x not delivered: %d", dev->id,
				(unsigned long long)addr, data, ret);
	return ret;
}

/* --- devices --- */

static int alloc_from(uint64_t *next, uint64_t end, uint64_t size,
		      uint64_t align, uint64_t *out)
{
	uint64_t base = ALIGN_UP(*next, align), last;

	if (base < *next || add_overflow(base, size, &last) || last > end)
		return -ENOSPC;
	*next = last;
	*out = base;
	return 0;
}

/* map_lock held. Assign every BAR an address, all or nothing. */
static int assign_bars(struct pci_bus *pbus, struct pci_dev *dev)
{
	uint64_t n32 = pbus->next_mmio32, n64 = pbus->next_mmio64;
	uint64_t nio = pbus->next_io, addrs[PCI_BAR_COUNT] = { 0 };
	const struct pci_windows *w = &pbus->win;
	bool have64 = w->mmio64_end > w->mmio64_base;
	unsigned int i;
	int ret;

	for (i = 0; i < PCI_BAR_COUNT; i++) {
		const struct pci_bar *b = &dev->bars[i];
		uint64_t align = MAX(b->size, PCI_BAR_MEM_MIN_ALIGN);

		if (!b->size)
			continue;
		if (b->flags & PCI_BAR_F_IO)
			ret = alloc_from(&nio, w->io_end, b->size, b->size,
					 &addrs[i]);
		else if ((b->flags & PCI_BAR_F_MEM64) && have64)
			ret = alloc_from(&n64, w->mmio64_end, b->size, align,
					 &addrs[i]);
		else
			ret = alloc_from(&n32, w->mmio32_end, b->size, align,
					 &addrs[i]);
		if (ret) {
			log_err("%s: no room for BAR%u (0x%llx bytes) in the PCI windows",
				dev->id, i, (unsigned long long)b->size);
			return ret;
		}
	}
	for (i = 0; i < PCI_BAR_COUNT; i++) {
		unsigned int reg = PCI_BAR0 + 4 * i;
		uint32_t lo;

		if (!dev->bars[i].size)
			continue;
		lo = pci_le_get(&dev->cfg[reg], 4);
		lo = (lo & (uint32_t)((dev->bars[i].flags & PCI_BAR_F_IO)
					      ? PCI_BAR_IO_FLAGS_MASK
					      : PCI_BAR_MEM_FLAGS_MASK)) |
		     (uint32_t)addrs[i];
		pci_le_put(&dev->cfg[reg], 4, lo);
		if (dev->bars[i].flags & PCI_BAR_F_MEM64)
			pci_le_put(&dev->cfg[reg + 4], 4,
				   (uint32_t)(addrs[i] >> 32));
	}
	pbus->next_mmio32 = n32;
	pbus->next_mmio64 = n64;
	pbus->next_io = nio;
	return 0;
}

static int register_at(struct pci_bus *pbus, struct pci_dev *dev, int slot)
{
	uint8_t pin;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&pbus->map_lock);
	if (dev->bus) {
		ret = -EBUSY;
		goto out;
	}
	if (slot < 0) {
		for (slot = 1; slot < PCI_MAX_SLOTS && pbus->slots[slot]; slot++)
			;
		if (slot == PCI_MAX_SLOTS) {
			log_err("%s: no free PCI slot", dev->id);
			ret = -ENOSPC;
			goto out;
		}
	} else if (pbus->slots[slot]) {
		log_err("%s: PCI slot %d is taken", dev->id, slot);
		ret = -EBUSY;
		goto out;
	}
	if (!dev->reset_cfg) {
		dev->reset_cfg = malloc(PCI_CFG_EXT_SIZE);
		if (!dev->reset_cfg) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = assign_bars(pbus, dev);
	if (ret)
		goto out;
	pin = dev->cfg[PCI_INTERRUPT_PIN];
	dev->gsi = pin ? PCI_INTX_GSI_BASE +
				 (slot + pin - 1) % PCI_INTX_GSI_COUNT
		       : -1;
	/* Firmware writes the IOAPIC input into Interrupt Line. */
	dev->cfg[PCI_INTERRUPT_LINE] = pin ? dev->gsi : 0xff;
	memcpy(dev->reset_cfg, dev->cfg, PCI_CFG_EXT_SIZE);
	dev->bus = pbus;
	dev->slot = slot;
	pbus->slots[slot] = dev;
out:
	pthread_mutex_unlock(&pbus->map_lock);
	if (!ret) {
		/* A level the model set before registration now reaches the bus. */
		dev->intx_asserted = false;
		pci_dev__intx_refresh(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int pci__register_device(struct pci_bus *pbus, struct pci_dev *dev, int slot)
{
	if (!pbus || !dev || slot == 0 || slot >= PCI_MAX_SLOTS || slot < -1)
		return -EINVAL;
	return register_at(pbus, dev, slot);
}

void pci__unregister_device(struct pci_bus *pbus, struct pci_dev *dev)
{
	unsigned int i;

	if (!pbus || !dev)
		return;
	pthread_mutex_lock(&dev->lock);
	if (dev->bus != pbus)
		goto out;
	for (i = 0; i < PCI_BAR_COUNT; i++)
		if (dev->bars[i].size)
			pci__bar_update(dev, i, false, 0);
	if (dev->intx_asserted) {
		pci__intx_update(dev, false);
		dev->intx_asserted = false;
	}
	pthread_mutex_lock(&pbus->map_lock);
	pbus->slots[dev->slot] = NULL;
	pthread_mutex_unlock(&pbus->map_lock);
	dev->bus = NULL;
	dev->slot = -1;
	dev->gsi = -1;
out:
	pthread_mutex_unlock(&dev->lock);
}

static bool windows_ok(const struct pci_windows *w)
{
	uint64_t ecam_end = w->ecam_base + PCI_ECAM_SIZE;

	if (w->mmio32_base > w->mmio32_end || w->mmio32_end > MEM_HOLE_END ||
	    w->mmio64_base > w->mmio64_end || w->io_base > w->io_end ||
	    w->io_end > 0x10000 || (w->ecam_base & (PCI_ECAM_SIZE - 1)))
		return false;
	/* Non-empty windows must not overlap. */
	if (w->mmio64_end > w->mmio64_base && w->mmio32_end > w->mmio32_base &&
	    w->mmio32_end > w->mmio64_base && w->mmio64_end > w->mmio32_base)
		return false;
	if (w->ecam_base &&
	    ((w->ecam_base < w->mmio32_end && w->mmio32_base < ecam_end) ||
	     (w->ecam_base < w->mmio64_end && w->mmio64_base < ecam_end)))
		return false;
	return true;
}

int pci__create(struct bus *bus, const struct pci_windows *win,
		const struct pci_irq_ops *irq, void *irq_opaque,
		struct pci_bus **out)
{
	static const struct pci_dev_ident host_ident = {
		.vendor_id = PCI_HOST_VENDOR_ID,
		.device_id = PCI_HOST_DEVICE_ID,
		.class_code = PCI_CLASS_BRIDGE_HOST,
	};
	struct pci_bus *pbus;
	int ret;

	if (!bus || !win || !irq || !irq->set_irq || !irq->signal_msi ||
	    !windows_ok(win)) {
		log_err("pci: invalid bus parameters");
		return -EINVAL;
	}
	pbus = calloc(1, sizeof(*pbus));
	if (!pbus)
		return -ENOMEM;
	pbus->bus = bus;
	pbus->win = *win;
	pbus->irq = *irq;
	pbus->irq_opaque = irq_opaque;
	pbus->next_mmio32 = win->mmio32_base;
	pbus->next_mmio64 = win->mmio64_base;
	pbus->next_io = win->io_base;
	pthread_mutex_init(&pbus->map_lock, NULL);
	pthread_mutex_init(&pbus->intx_lock, NULL);

	ret = pci_dev__create("pci-host", &host_ident, NULL, NULL, &pbus->host);
	if (ret)
		goto err;
	ret = register_at(pbus, pbus->host, 0);
	if (ret)
		goto err;
	ret = bus__register(bus, BUS_PIO, PCI_CONF1_PORT, PCI_CONF1_LEN,
			    &conf1_ops, pbus);
	if (ret) {
		log_err("pci: cannot claim ports 0x%x..0x%x: %d", PCI_CONF1_PORT,
			PCI_CONF1_PORT + PCI_CONF1_LEN - 1, ret);
		goto err;
	}
	pbus->conf1_on = true;
	if (win->ecam_base) {
		ret = bus__register(bus, BUS_MMIO, win->ecam_base, PCI_ECAM_SIZE,
				    &ecam_ops, pbus);
		if (ret) {
			log_err("pci: cannot claim ECAM at 0x%llx: %d",
				(unsigned long long)win->ecam_base, ret);
			goto err;
		}
		pbus->ecam_on = true;
	}
	*out = pbus;
	return 0;

err:
	pci__destroy(pbus);
	return ret;
}

void pci__destroy(struct pci_bus *pbus)
{
	unsigned int s;

	if (!pbus)
		return;
	for (s = 0; s < PCI_MAX_SLOTS; s++)
		if (pbus->slots[s])
			pci__unregister_device(pbus, pbus->slots[s]);
	if (pbus->conf1_on)
		bus__unregister(pbus->bus, BUS_PIO, PCI_CONF1_PORT);
	if (pbus->ecam_on)
		bus__unregister(pbus->bus, BUS_MMIO, pbus->win.ecam_base);
	pci_dev__destroy(pbus->host);
	pthread_mutex_destroy(&pbus->map_lock);
	pthread_mutex_destroy(&pbus->intx_lock);
	free(pbus);
}

void pci__reset(struct pci_bus *pbus)
{
	unsigned int s;

	for (s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *dev = slot_dev(pbus, s);

		if (dev)
			pci_dev__power_on(dev);
	}
	__atomic_store_n(&pbus->conf1_addr, 0, __ATOMIC_RELAXED);
}

struct pci_dev *pci__host_bridge(struct pci_bus *pbus)
{
	return pbus->host;
}

struct pci_dev *pci__slot_device(struct pci_bus *pbus, unsigned int slot)
{
	return slot < PCI_MAX_SLOTS ? slot_dev(pbus, slot) : NULL;
}

const struct pci_windows *pci__windows(const struct pci_bus *pbus)
{
	return &pbus->win;
}

int pci__intx_routes(struct pci_bus *pbus, struct pci_intx_route *out,
		     unsigned int max)
{
	unsigned int s, n = 0;
	int ret;

	pthread_mutex_lock(&pbus->map_lock);
	for (s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *dev = pbus->slots[s];

		if (!dev || dev->gsi < 0)
			continue;
		if (n == max) {
			ret = -ENOSPC;
			goto out;
		}
		out[n++] = (struct pci_intx_route){
			.slot = s,
			.pin = dev->cfg[PCI_INTERRUPT_PIN] - 1,
			.gsi = dev->gsi,
		};
	}
	ret = n;
out:
	pthread_mutex_unlock(&pbus->map_lock);
	return ret;
}
