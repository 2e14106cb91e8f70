/*
 * pci-host.h: the PCI host bridge as a ferry device (phase
 * DEVICE_PHASE_BUS): creates bus 0 on the VM's buses with the layout of
 * pci-layout.h, wires INTx to vm__irq_line and MSI to vm__signal_msi,
 * and owns the VM's KVM GSI routing table (irq-route.h) for MSI routes
 * and irqfds. PCI endpoints (VFIO) find the bus and the routing table
 * through the VM with the accessors below. One host bridge per VM.
 */
#ifndef DEVICES_PCI_PCI_HOST_H
#define DEVICES_PCI_PCI_HOST_H

#include "devices/device.h"
#include "vmm/util.h"

struct vm;
struct pci_bus;
struct irq_route;
struct mptable_config;

/* Optional create() argument; NULL: phys bits from the host's CPUID. */
struct pci_host_config {
	unsigned int phys_bits; /* guest physical address bits (32..52) */
};

extern const struct device_type pci_host_type;

/* The VM's PCI bus, or NULL when the VM has no host bridge. */
struct pci_bus *pci_host__bus(struct vm *vm);

/* The VM's GSI routing table, or NULL when the VM has no host bridge. */
struct irq_route *pci_host__irq_route(struct vm *vm);

/*
 * Add the PCI bus and its interrupt entries to @cfg (see
 * pci__mptable_irqs). No-op returning 0 when @vm has no host bridge.
 * Call after all PCI devices are registered, before mptable__write.
 */
int __must_check pci_host__mptable(struct vm *vm, struct mptable_config *cfg);

#endif /* DEVICES_PCI_PCI_HOST_H */
