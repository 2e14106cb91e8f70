/*
 * pci-dev-state.c: save and load the emulated state of a PCI function
 * (config space, MSI pending bits, MSI-X table and PBA, INTx level)
 * through the plain-data struct pci_dev_state.
 */
#include "devices/pci/pci-dev-state.h"

#include <errno.h>
#include <string.h>

#include "devices/pci/pci-internal.h"
#include "vmm/log.h"

void pci_dev__save_state(struct pci_dev *dev, struct pci_dev_state *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&dev->lock);
	st->vendor_id = pci_le_get(&dev->cfg[PCI_VENDOR_ID], 2);
	st->device_id = pci_le_get(&dev->cfg[PCI_DEVICE_ID], 2);
	st->msi_cap = dev->msi.cap;
	st->msix_cap = dev->msix.cap;
	st->msix_nvec = dev->msix.nvec;
	for (i = 0; i < PCI_CFG_EXT_SIZE; i++)
		st->cfg[i] = dev->pt[i] ? 0 : dev->cfg[i];
	st->msi_pending = dev->msi.pending;
	if (dev->msix.cap) {
		memcpy(st->msix_table, dev->msix.table,
		       (size_t)dev->msix.nvec * PCI_MSIX_ENTRY_SIZE);
		memcpy(st->msix_pba, dev->msix.pba,
		       (dev->msix.nvec + 63) / 64 * sizeof(uint64_t));
	}
	st->intx_level = dev->intx_level;
	pthread_mutex_unlock(&dev->lock);
}

static bool shape_matches(struct pci_dev *dev, const struct pci_dev_state *st)
{
	unsigned int i;

	if (st->vendor_id != pci_le_get(&dev->cfg[PCI_VENDOR_ID], 2) ||
	    st->device_id != pci_le_get(&dev->cfg[PCI_DEVICE_ID], 2) ||
	    st->msi_cap != dev->msi.cap || st->msix_cap != dev->msix.cap ||
	    st->msix_nvec != dev->msix.nvec)
		return false;
	/* BAR type bits (I/O, 64-bit, prefetchable) are read-only. */
	for (i = 0; i < PCI_BAR_COUNT; i++) {
		unsigned int reg = PCI_BAR0 + 4 * i;
		uint8_t ro = ~dev->wmask[reg];

		if ((st->cfg[reg] & ro) != (dev->cfg[reg] & ro))
			return false;
	}
	return true;
}

/* Guest-writable bits of byte @t of the MSI-X table (see pci-msi.c). */
static uint8_t table_wmask(unsigned int t)
{
	unsigned int b = t % PCI_MSIX_ENTRY_SIZE;

	if (b == PCI_MSIX_ENTRY_ADDR_LO)
		return 0xfc;
	if (b < PCI_MSIX_ENTRY_CTRL)
		return 0xff;
	return b == PCI_MSIX_ENTRY_CTRL ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
}

int pci_dev__load_state(struct pci_dev *dev, const struct pci_dev_state *st)
{
	unsigned int i, nvec;

	pthread_mutex_lock(&dev->lock);
	if (!shape_matches(dev, st)) {
		pthread_mutex_unlock(&dev->lock);
		log_err("%s: saved PCI state is for a different device", dev->id);
		return -EINVAL;
	}
	for (i = 0; i < PCI_CFG_EXT_SIZE; i++) {
		uint8_t wm = dev->wmask[i] | dev->w1cmask[i];

		if (!dev->pt[i])
			dev->cfg[i] = (dev->cfg[i] & ~wm) | (st->cfg[i] & wm);
	}
	if (dev->msi.cap) {
		uint32_t valid = dev->msi.nvec == 32 ? 0xffffffffu
						     : (1u << dev->msi.nvec) - 1;

		dev->msi.pending = dev->msi.maskable ? st->msi_pending & valid : 0;
		if (dev->msi.maskable)
			pci_le_put(&dev->cfg[dev->msi.cap +
					     (dev->msi.is64 ? PCI_MSI_PENDING_64
							    : PCI_MSI_PENDING_32)],
				   4, dev->msi.pending);
	}
	nvec = dev->msix.cap ? dev->msix.nvec : 0;
	for (i = 0; i < nvec * PCI_MSIX_ENTRY_SIZE; i++) {
		uint8_t wm = table_wmask(i);

		dev->msix.table[i] = (dev->msix.table[i] & ~wm) |
				     (st->msix_table[i] & wm);
	}
	for (i = 0; i < (nvec + 63) / 64; i++) {
		uint64_t valid = (nvec - 64 * i) >= 64
					 ? ~0ULL
					 : (1ULL << (nvec - 64 * i)) - 1;

		dev->msix.pba[i] = st->msix_pba[i] & valid;
	}
	dev->intx_level = st->intx_level;
	/* Re-apply everything that follows from the registers. */
	pci_dev__bars_refresh(dev);
	pci_msi__cfg_written(dev, 0, PCI_CFG_SIZE);
	pci_dev__intx_refresh(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}
