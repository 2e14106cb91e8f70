/*
 * pci-dev-state.h: the migratable state of one emulated PCI function, as
 * plain data: the guest-visible config space the core emulates, the
 * MSI pending bits, the MSI-X table and PBA, and the INTx level the
 * model drives. Pass-through config bytes are the device model's own
 * business and are not included. The snapshot code serializes this
 * struct field by field; the live struct pci_dev is never copied.
 */
#ifndef DEVICES_PCI_PCI_DEV_STATE_H
#define DEVICES_PCI_PCI_DEV_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci/pci-regs.h"
#include "vmm/util.h"

struct pci_dev;

struct pci_dev_state {
	/* Shape checks: must match the device the state is loaded into. */
	uint16_t vendor_id, device_id;
	uint16_t msi_cap, msix_cap;   /* config offsets, 0: none */
	uint16_t msix_nvec;
	/* State. */
	uint8_t cfg[PCI_CFG_EXT_SIZE];
	uint32_t msi_pending;
	uint8_t msix_table[PCI_MSIX_MAX_VECTORS * PCI_MSIX_ENTRY_SIZE];
	uint64_t msix_pba[PCI_MSIX_MAX_VECTORS / 64];
	bool intx_level;
};

/* Fill @st (about 37 KiB; callers allocate it) from @dev. */
void pci_dev__save_state(struct pci_dev *dev, struct pci_dev_state *st);

/*
 * Load @st into registered @dev (vCPUs paused): only guest-writable
 * bits are taken from @st, so a corrupt state cannot change read-only
 * registers. Then BAR mappings, MSI/MSI-X vectors (through
 * ops->vector_changed) and INTx are re-applied. Returns 0 or -EINVAL
 * when @st describes a different device (IDs, capability offsets,
 * MSI-X size, BAR types); then @dev is unchanged.
 */
int __must_check pci_dev__load_state(struct pci_dev *dev,
				     const struct pci_dev_state *st);

#endif /* DEVICES_PCI_PCI_DEV_STATE_H */
