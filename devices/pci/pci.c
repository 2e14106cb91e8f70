/*
 * pci.c: bus 0 and its host bridge: configuration mechanism #1 and ECAM
 * dispatch to the function in each slot, plugging functions into slots,
 * INTx wiring of slots to IOAPIC GSIs, MSI delivery, reset, and the MP
 * table hand-over. Windows and BAR mapping live in pci-window.c.
 */
#include "devices/pci/pci-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci-layout.h"
#include "vmm/log.h"
#include "vmm/mptable.h"

/* CF8 address register: enable, bus, device, function, register. */
#define CONF1_ENABLE 0x80000000u
/* Bits 30:24 are reserved and bits 1:0 read as 0 (dword register number). */
#define CONF1_ADDR_MASK 0x80fffffcu

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

/*
 * Plugging a function in powers it on: decode, bus mastering and
 * message interrupts off, whatever a model loaded or an earlier
 * registration left behind.
 */
static void power_on_state(struct pci_dev *dev)
{
	pci_le_put(&dev->cfg[PCI_COMMAND], 2, 0);
	if (dev->msi.cap)
		pci_le_put(&dev->cfg[dev->msi.cap + PCI_MSI_FLAGS], 2,
			   pci_le_get(&dev->cfg[dev->msi.cap + PCI_MSI_FLAGS], 2) &
				   ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
	if (dev->msix.cap)
		pci_le_put(&dev->cfg[dev->msix.cap + PCI_MSIX_FLAGS], 2,
			   pci_le_get(&dev->cfg[dev->msix.cap + PCI_MSIX_FLAGS], 2) &
				   ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
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
	ret = pci__assign_bars(pbus, dev);
	if (ret)
		goto out;
	pin = dev->cfg[PCI_INTERRUPT_PIN];
	dev->gsi = pin ? PCI_INTX_GSI_BASE +
				 (slot + pin - 1) % PCI_INTX_GSI_COUNT
		       : -1;
	/* Firmware writes the IOAPIC input into Interrupt Line. */
	dev->cfg[PCI_INTERRUPT_LINE] = pin ? dev->gsi : 0xff;
	power_on_state(dev);
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
	    !pci__windows_valid(win)) {
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
	pci__alloc_init(pbus);
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

int pci__mptable_irqs(struct pci_bus *pbus, struct mptable_config *cfg)
{
	struct pci_intx_route r[PCI_MAX_SLOTS];
	int n, i;

	n = pci__intx_routes(pbus, r, PCI_MAX_SLOTS);
	if (n < 0)
		return n;
	if (cfg->nr_pci_irqs > MPTABLE_MAX_PCI_IRQS ||
	    (unsigned int)n > MPTABLE_MAX_PCI_IRQS - cfg->nr_pci_irqs)
		return -ENOSPC;
	cfg->pci = true;
	for (i = 0; i < n; i++)
		cfg->pci_irqs[cfg->nr_pci_irqs++] = (struct mptable_pci_irq){
			.device = r[i].slot,
			.pin = r[i].pin + 1,
			.ioapic_pin = r[i].gsi,
		};
	return 0;
}
