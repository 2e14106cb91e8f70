/*
 * pci-dev.h: one PCI function's configuration space, emulated: per-byte
 * write masks and write-1-to-clear masks over 4 KiB of config space,
 * command/status, BARs (sizing, programming, decode enable), the
 * capability list, INTx, and hooks through which a device model (e.g.
 * VFIO passthrough) passes selected config bytes to real hardware and
 * learns where its BARs and MSI vectors are. MSI and MSI-X live in
 * pci-msi.h. The expansion ROM BAR is not implemented: it reads 0 and
 * ignores writes.
 *
 * Threads: guest config and BAR accesses arrive on vCPU threads,
 * concurrently; every function here takes the device's (recursive)
 * lock, so hooks may call back into pci_dev__* functions, except
 * bar_map/bar_unmap (see there).
 */
#ifndef DEVICES_PCI_PCI_DEV_H
#define DEVICES_PCI_PCI_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/util.h"

struct pci_dev;
struct pci_msi_vector;

/* pci_dev__set_bar() flags. */
#define PCI_BAR_F_IO 0x1       /* I/O space (else memory) */
#define PCI_BAR_F_MEM64 0x2    /* 64-bit memory BAR: uses @bar and @bar+1 */
#define PCI_BAR_F_PREFETCH 0x4 /* prefetchable memory */

/*
 * Hooks into the device model. All optional (NULL). @opaque is the
 * pointer given to pci_dev__create.
 */
struct pci_dev_ops {
	/*
	 * Guest access to BAR @bar at @offset (MSI-X table and PBA ranges
	 * are handled by the PCI core and never reach these). Called on
	 * vCPU threads without PCI locks. Without bar_read, reads see all
	 * ones; without bar_write, writes are dropped.
	 */
	void (*bar_read)(void *opaque, unsigned int bar, uint64_t offset,
			 void *data, uint32_t len);
	void (*bar_write)(void *opaque, unsigned int bar, uint64_t offset,
			  const void *data, uint32_t len);
	/*
	 * BAR @bar now decodes [addr, addr+size) / stopped decoding it
	 * (the PCI core already (un)registered the trap range on the bus;
	 * a model may add a faster path, e.g. a KVM memslot). Called with
	 * the PCI bus's map lock held, possibly while another device's
	 * config write runs: must not call pci_dev__* or pci__* functions.
	 */
	void (*bar_map)(void *opaque, unsigned int bar, uint64_t addr,
			uint64_t size);
	void (*bar_unmap)(void *opaque, unsigned int bar, uint64_t addr,
			  uint64_t size);
	/*
	 * Config read of [off, off+len) (len 1, 2 or 4, inside one dword)
	 * touching at least one pass-through byte: return the value; only
	 * the pass-through bytes of it are used.
	 */
	uint32_t (*cfg_read)(void *opaque, unsigned int off, unsigned int len);
	/*
	 * Every guest config write, after the emulated bytes took effect.
	 * @pt_mask has 0xff in each byte lane of @val that is pass-through
	 * (the model forwards those); lanes outside @len are 0.
	 */
	void (*cfg_write)(void *opaque, unsigned int off, unsigned int len,
			  uint32_t val, uint32_t pt_mask);
	/*
	 * An MSI or MSI-X vector's address, data, enable or mask state
	 * changed (see struct pci_msi_vector). Called with the device lock
	 * held; a model uses it to (re)program a KVM route or irqfd.
	 */
	void (*vector_changed)(void *opaque, const struct pci_msi_vector *v);
	/* After pci__reset() restored the power-on config image. */
	void (*reset)(void *opaque);
};

/* Identity written into the header at creation (read-only to the guest). */
struct pci_dev_ident {
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code;    /* 24 bits: base class, subclass, prog-if */
	uint8_t revision;
	uint16_t subsys_vendor_id;
	uint16_t subsys_id;
	uint8_t intx_pin;       /* 0 none, 1 INTA# .. 4 INTD# */
};

/*
 * Create a function with a type 0 header from @ident, no BARs and no
 * capabilities. @id (copied, truncated to 31 chars) prefixes log lines.
 * @ops is borrowed and must outlive the device. Returns 0 and *out, or
 * -EINVAL (bad pin, vendor 0xffff) / -ENOMEM.
 */
int __must_check pci_dev__create(const char *id,
				 const struct pci_dev_ident *ident,
				 const struct pci_dev_ops *ops, void *opaque,
				 struct pci_dev **out);

/*
 * Free @dev. NULL-safe. It must be unregistered from its bus first
 * (pci__unregister_device) and no vCPU may still be running: the bus
 * dispatches to it without holding references.
 */
void pci_dev__destroy(struct pci_dev *dev);

/* The id given at creation. */
const char *pci_dev__id(const struct pci_dev *dev);

/*
 * Declare BAR @bar (0..5) of @size bytes, a power of two: memory BARs
 * 16 bytes .. 2^63 (32-bit BARs at most 2 GiB), I/O BARs 4..256. A
 * 64-bit BAR also takes @bar+1. Before registration only. Returns 0,
 * -EINVAL (bad size/flags/index) or -EBUSY (slot already used).
 */
int __must_check pci_dev__set_bar(struct pci_dev *dev, unsigned int bar,
				  uint64_t size, unsigned int flags);

/* Declared size of BAR @bar (0 if none or the upper half of a 64-bit BAR). */
uint64_t pci_dev__bar_size(struct pci_dev *dev, unsigned int bar);

/*
 * Address held in BAR @bar's registers (both halves for a 64-bit BAR),
 * and whether the BAR is currently decoded (mapped on the bus).
 */
uint64_t pci_dev__bar_addr(struct pci_dev *dev, unsigned int bar);
bool pci_dev__bar_mapped(struct pci_dev *dev, unsigned int bar);

/*
 * Append a capability of @len bytes (2..192) with ID @cap_id to the
 * list, at the lowest dword-aligned free offset above the header; its
 * body is zero and read-only until the caller sets masks. Returns 0 and
 * *off, or -ENOSPC / -EINVAL.
 */
int __must_check pci_dev__add_cap(struct pci_dev *dev, uint8_t cap_id,
				  unsigned int len, unsigned int *off);

/*
 * Offset of the first capability with ID @cap_id, walking the list as a
 * guest would (stops after 48 entries, on a pointer below 0x40, or on a
 * loop); 0 when absent.
 */
unsigned int pci_dev__find_cap(struct pci_dev *dev, uint8_t cap_id);

/*
 * Set register [off, off+len) (len 1, 2 or 4, inside one dword) to
 * @val, and its guest-writable bits to @wmask and write-1-to-clear bits
 * to @w1cmask (a bit in both is treated as W1C). Model setup, e.g. for
 * capability bodies. Returns 0 or -EINVAL.
 */
int __must_check pci_dev__cfg_init(struct pci_dev *dev, unsigned int off,
				   unsigned int len, uint32_t val,
				   uint32_t wmask, uint32_t w1cmask);

/*
 * Copy @len raw bytes into config space at @off without touching masks
 * (a VFIO model loads the physical header and capabilities this way).
 * Returns 0 or -EINVAL when the range leaves the 4 KiB space.
 */
int __must_check pci_dev__cfg_load(struct pci_dev *dev, unsigned int off,
				   const void *buf, unsigned int len);

/*
 * Mark [off, off+len) as passed through to ops->cfg_read/cfg_write
 * (@pt true) or emulated (false, the default). BARs, the command
 * register's decode bits and the MSI/MSI-X capabilities must stay
 * emulated. Returns 0 or -EINVAL.
 */
int __must_check pci_dev__cfg_passthrough(struct pci_dev *dev,
					  unsigned int off, unsigned int len,
					  bool pt);

/* Emulated value of [off, off+len) (len 1, 2 or 4), no hooks; 0 if invalid. */
uint32_t pci_dev__cfg_get(struct pci_dev *dev, unsigned int off,
			  unsigned int len);

/*
 * The guest's view: a config read/write of @len bytes (1, 2 or 4, not
 * crossing a dword) at @off (0..4095). Applies masks, side effects (BAR
 * moves, decode changes, INTx disable, MSI/MSI-X) and hooks. Invalid
 * sizes read all ones / are dropped. Used by the bus; also by tests.
 */
uint32_t pci_dev__config_read(struct pci_dev *dev, unsigned int off,
			      unsigned int len);
void pci_dev__config_write(struct pci_dev *dev, unsigned int off,
			   unsigned int len, uint32_t val);

/*
 * Drive the function's INTx line (level 1 asserted). The bus sees it
 * asserted only while the command register's INTx Disable bit is clear
 * and MSI and MSI-X are off; the Status register's interrupt bit always
 * reflects @level. Returns 0, -EINVAL (no interrupt pin) or -ENODEV
 * (not registered: the level is remembered).
 */
int pci_dev__set_intx(struct pci_dev *dev, int level);

/* Slot on bus 0, or -1 when not registered. */
int pci_dev__slot(struct pci_dev *dev);

/* GSI the INTx pin is wired to, or -1 (no pin / not registered). */
int pci_dev__intx_gsi(struct pci_dev *dev);

#endif /* DEVICES_PCI_PCI_DEV_H */
