/*
 * pci.h: ferry's PCI bus: bus 0 behind one host bridge, reached through
 * configuration mechanism #1 (ports 0xCF8/0xCFC) and an ECAM window;
 * BAR windows for 32-bit MMIO, 64-bit MMIO and I/O; INTx wired to IOAPIC
 * GSIs 16..23. The bus is independent of struct vm: it takes a struct
 * bus (vmm/bus.h) and an interrupt sink, so unit tests build it without
 * KVM; devices/pci/pci-host.c adapts it to a VM.
 *
 * Locks: pci_dev lock -> bus map lock -> vmm bus lock; the INTx lock is
 * a leaf. Config accesses run on vCPU threads, concurrently.
 */
#ifndef DEVICES_PCI_PCI_H
#define DEVICES_PCI_PCI_H

#include <stdint.h>

#include "vmm/util.h"

struct bus;
struct pci_bus;
struct pci_dev;
struct mptable_config;

/*
 * Where interrupts go. Both hooks are called from vCPU threads and the
 * VMM thread, concurrently; return 0 or -errno (the bus logs failures,
 * rate-limited). The real VM adapter calls vm__irq_line/vm__signal_msi.
 */
struct pci_irq_ops {
	/* Drive GSI @gsi to @level (1 asserted, 0 deasserted). */
	int (*set_irq)(void *opaque, unsigned int gsi, int level);
	/* Deliver one MSI message. */
	int (*signal_msi)(void *opaque, uint64_t addr, uint32_t data);
};

/*
 * Address windows the host bridge decodes: BARs are allocated from them
 * and a BAR the guest moves outside every window of its kind is not
 * mapped (ranges are [base, end)). A 64-bit window with end == base is
 * absent; 64-bit BARs are then allocated from the 32-bit window.
 */
struct pci_windows {
	uint64_t mmio32_base, mmio32_end;
	uint64_t mmio64_base, mmio64_end;
	uint64_t io_base, io_end;
	uint64_t ecam_base; /* PCI_ECAM_SIZE bytes; 0: no ECAM window */
};

/*
 * The layout of pci-layout.h for a guest whose RAM ends at @ram_end
 * (mem__end()) and whose CPUID reports @phys_bits physical address bits
 * (32..52): the 64-bit window is trimmed to end at 2^phys_bits, or left
 * out when nothing fits. Returns 0 or -EINVAL (phys_bits out of range).
 */
int __must_check pci__default_windows(uint64_t ram_end, unsigned int phys_bits,
				      struct pci_windows *out);

/*
 * Create bus 0 on @bus (borrowed; must outlive the PCI bus): register
 * CF8/CFC and the ECAM window, and the host bridge at 00:00.0. @win and
 * @irq are copied; @irq_opaque is passed to the hooks. Windows must not
 * overlap each other or the ECAM window. Returns 0 and *out, or -errno
 * (-EINVAL bad windows, -EEXIST a port or range is taken, -ENOMEM).
 */
int __must_check pci__create(struct bus *bus, const struct pci_windows *win,
			     const struct pci_irq_ops *irq, void *irq_opaque,
			     struct pci_bus **out);

/*
 * Unregister every device (without destroying endpoints: their owners
 * do that), remove CF8/ECAM from the bus, free the host bridge and the
 * bus. NULL-safe. vCPUs must be stopped.
 */
void pci__destroy(struct pci_bus *pbus);

/*
 * Plug @dev (built with pci_dev__create, BARs and capabilities already
 * declared) into slot @slot (1..31), or the first free slot when @slot
 * is -1. Like firmware would: assigns every BAR an address from the
 * windows (decode stays off until the guest sets the command bits),
 * routes its INTx pin to a GSI and writes it to the Interrupt Line
 * register. The resulting config space is the device's power-on image
 * for pci__reset(). Call before the vCPUs run. Returns 0, -EBUSY (slot
 * taken or @dev already registered), -ENOSPC (no slot or window space),
 * -EINVAL.
 */
int __must_check pci__register_device(struct pci_bus *pbus,
				      struct pci_dev *dev, int slot);

/*
 * Unplug @dev: unmap its BARs, deassert its INTx, free the slot. Window
 * space is not reused. NULL-safe; no-op when not registered.
 */
void pci__unregister_device(struct pci_bus *pbus, struct pci_dev *dev);

/*
 * Return every device to its power-on image (BAR decode off, MSI and
 * MSI-X off and masked, INTx deasserted) and call each model's reset
 * hook. VMM thread, vCPUs stopped.
 */
void pci__reset(struct pci_bus *pbus);

/* The host bridge device at 00:00.0 (owned by the bus). */
struct pci_dev *pci__host_bridge(struct pci_bus *pbus);

/* The device in @slot, or NULL. */
struct pci_dev *pci__slot_device(struct pci_bus *pbus, unsigned int slot);

/* The bus's windows (borrowed, constant). */
const struct pci_windows *pci__windows(const struct pci_bus *pbus);

/*
 * One PCI interrupt source for the MP table: device @slot on bus 0,
 * pin @pin (0 INTA# .. 3 INTD#), wired to IOAPIC input @gsi, level
 * triggered, active low. In MP table terms (I/O interrupt entry, type
 * 3): source bus = the PCI bus's id, source bus IRQ = (slot << 2) | pin,
 * destination = the IOAPIC, pin @gsi.
 */
struct pci_intx_route {
	uint8_t slot;
	uint8_t pin;
	uint8_t gsi;
};

/*
 * Fill @out (room for @max) with the INTx routes of every registered
 * device that has an interrupt pin, by slot. Returns the count, or
 * -ENOSPC when @max is too small. PCI_MAX_SLOTS entries always suffice.
 */
int pci__intx_routes(struct pci_bus *pbus, struct pci_intx_route *out,
		     unsigned int max);

/*
 * Describe the bus in @cfg for vmm/mptable.h: set cfg->pci and append
 * one entry per registered device with an interrupt pin (device =
 * slot, pin = config value 1..4, ioapic_pin = GSI). Returns 0 or
 * -ENOSPC when cfg->pci_irqs is full.
 */
int __must_check pci__mptable_irqs(struct pci_bus *pbus,
				   struct mptable_config *cfg);

#endif /* DEVICES_PCI_PCI_H */
