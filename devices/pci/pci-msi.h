/*
 * pci-msi.h: the MSI and MSI-X capabilities of an emulated PCI function.
 * MSI lives entirely in config space; the MSI-X table and pending-bit
 * array (PBA) live in one or two of the function's memory BARs, and the
 * PCI core traps those ranges itself. A device model raises vector N
 * with pci_dev__msi_notify/pci_dev__msix_notify: delivered through the
 * bus's signal_msi sink when enabled and unmasked, else latched as
 * pending and delivered on unmask. A model that delivers interrupts by
 * other means (VFIO: eventfd -> KVM irqfd -> GSI route) follows each
 * vector through ops->vector_changed instead.
 */
#ifndef DEVICES_PCI_PCI_MSI_H
#define DEVICES_PCI_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/util.h"

struct pci_dev;

enum pci_msi_kind {
	PCI_MSI_KIND_MSI = 0,
	PCI_MSI_KIND_MSIX,
};

/*
 * One vector as the guest programmed it. @enabled: MSI (MSI-X) is
 * enabled and, for MSI, @vec is below the enabled vector count.
 * @masked: the vector cannot fire now (per-vector mask, or for MSI-X
 * the function mask). For MSI, @data already carries the vector number
 * in its low bits as the device would send it.
 */
struct pci_msi_vector {
	enum pci_msi_kind kind;
	unsigned int vec;
	uint64_t addr;
	uint32_t data;
	bool enabled;
	bool masked;
};

/* pci_dev__msi_init() flags. */
#define PCI_MSI_F_64BIT 0x1    /* 64-bit message address */
#define PCI_MSI_F_MASKABLE 0x2 /* per-vector mask and pending bits */

/*
 * Add an MSI capability for @nvec vectors (1, 2, 4, 8, 16 or 32). @off
 * 0 appends a new capability; otherwise the capability already in the
 * list at @off (loaded from hardware) is taken over and emulated.
 * Before registration. Returns 0, -EINVAL, -EEXIST (already has MSI),
 * -EBUSY (registered) or -ENOSPC.
 */
int __must_check pci_dev__msi_init(struct pci_dev *dev, unsigned int off,
				   unsigned int nvec, unsigned int flags);

/*
 * Add an MSI-X capability with @nvec vectors (1..2048): the table at
 * @table_off in BAR @table_bar and the PBA at @pba_off in BAR @pba_bar
 * (both 8-byte aligned, inside declared memory BARs, not overlapping).
 * @off as for pci_dev__msi_init. All vectors start masked. Before
 * registration. Returns 0, -EINVAL, -EEXIST, -EBUSY or -ENOSPC/-ENOMEM.
 */
int __must_check pci_dev__msix_init(struct pci_dev *dev, unsigned int off,
				    unsigned int nvec, unsigned int table_bar,
				    uint32_t table_off, unsigned int pba_bar,
				    uint32_t pba_off);

/*
 * Raise MSI vector @vec. Returns 0 (delivered or latched pending),
 * -EAGAIN (MSI disabled or @vec not enabled: dropped) or -EINVAL.
 */
int pci_dev__msi_notify(struct pci_dev *dev, unsigned int vec);

/*
 * Raise MSI-X vector @vec. Returns 0 (delivered, or pending because the
 * vector or function is masked), -EAGAIN (MSI-X disabled: dropped) or
 * -EINVAL.
 */
int pci_dev__msix_notify(struct pci_dev *dev, unsigned int vec);

/* Current state of a vector. Returns 0 or -EINVAL (no such vector). */
int pci_dev__msi_vector(struct pci_dev *dev, unsigned int vec,
			struct pci_msi_vector *out);
int pci_dev__msix_vector(struct pci_dev *dev, unsigned int vec,
			 struct pci_msi_vector *out);

/* Whether @vec's pending bit is set (false for a bad vector). */
bool pci_dev__msi_pending(struct pci_dev *dev, unsigned int vec);
bool pci_dev__msix_pending(struct pci_dev *dev, unsigned int vec);

/* Whether MSI / MSI-X is enabled by the guest. */
bool pci_dev__msi_enabled(struct pci_dev *dev);
bool pci_dev__msix_enabled(struct pci_dev *dev);

#endif /* DEVICES_PCI_PCI_MSI_H */
