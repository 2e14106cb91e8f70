/*
 * pci-internal.h: the live structures shared by the PCI core's files
 * (pci.c: the bus; pci-window.c: windows, BAR allocation and mapping;
 * pci-dev.c: config space and BARs; pci-msi.c: MSI and MSI-X). Device
 * models use pci-dev.h and pci-msi.h, never this.
 */
#ifndef DEVICES_PCI_PCI_INTERNAL_H
#define DEVICES_PCI_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-layout.h"
#include "devices/pci/pci-msi.h"
#include "devices/pci/pci-regs.h"
#include "devices/pci/pci.h"
#include "vmm/bus.h"

struct pci_bar {
	struct pci_dev *dev;  /* back pointer for the bus dispatcher */
	unsigned int index;
	uint64_t size;        /* 0: not implemented (or upper half) */
	unsigned int flags;   /* PCI_BAR_F_* */
	/* Mapping state; protected by the bus's map_lock. */
	bool want;            /* decode on: should be mapped at want_addr */
	uint64_t want_addr;
	bool mapped;          /* registered on the bus at mapped_addr */
	uint64_t mapped_addr;
	bool complained;      /* logged why want_addr cannot be mapped */
};

struct pci_msi_state {
	unsigned int cap;     /* config offset; 0: no MSI */
	unsigned int nvec;    /* vectors the function supports */
	bool is64, maskable;
	uint32_t pending;     /* pending bits, mirrored into config space */
	/* Last state reported through ops->vector_changed, per vector. */
	struct pci_msi_vector reported[PCI_MSI_MAX_VECTORS];
};

struct pci_msix_state {
	unsigned int cap;     /* config offset; 0: no MSI-X */
	unsigned int nvec;
	unsigned int table_bar, pba_bar;
	uint64_t table_off, pba_off;
	uint8_t *table;       /* nvec * 16 bytes, little endian */
	uint64_t *pba;        /* (nvec + 63) / 64 qwords */
	struct pci_msi_vector *reported; /* nvec entries */
};

/* Windows BARs are allocated from. */
enum pci_window { WIN_MMIO32, WIN_MMIO64, WIN_IO, NR_WINDOWS };

/* Every BAR of every slot could land in one window. */
#define PCI_ALLOC_MAX (PCI_MAX_SLOTS * PCI_BAR_COUNT)

/* Ranges handed out from one window, sorted by base; never freed. */
struct pci_alloc {
	uint64_t base, end;            /* the window */
	unsigned int n;
	struct {
		uint64_t base, end;
	} r[PCI_ALLOC_MAX];
};

struct pci_bus {
	struct bus *bus;               /* borrowed */
	struct pci_windows win;
	struct pci_irq_ops irq;
	void *irq_opaque;
	uint32_t conf1_addr;           /* atomic: last dword written to CF8 */

	pthread_mutex_t map_lock;      /* slots, BAR mapping state, allocator */
	struct pci_dev *slots[PCI_MAX_SLOTS];
	struct pci_alloc alloc[NR_WINDOWS];

	pthread_mutex_t intx_lock;     /* leaf */
	unsigned int intx_count[PCI_INTX_GSI_COUNT];

	struct pci_dev *host;          /* owned: 00:00.0 */
	bool conf1_on, ecam_on;        /* ranges registered on the bus */
};

struct pci_dev {
	char id[32];
	const struct pci_dev_ops *ops;
	void *opaque;
	pthread_mutex_t lock; /* recursive; everything below */

	/* Set by pci__register_device; read-only while registered. */
	struct pci_bus *bus;
	int slot;             /* -1: not registered */
	int gsi;              /* INTx GSI, -1: none */

	uint8_t cfg[PCI_CFG_EXT_SIZE];
	uint8_t wmask[PCI_CFG_EXT_SIZE];
	uint8_t w1cmask[PCI_CFG_EXT_SIZE];
	uint8_t pt[PCI_CFG_EXT_SIZE];       /* 1: pass-through byte */
	uint8_t *reset_cfg;                 /* power-on image, when registered */
	unsigned int cap_end;               /* first free byte for new caps */

	struct pci_bar bars[PCI_BAR_COUNT];
	struct pci_msi_state msi;
	struct pci_msix_state msix;

	bool intx_level;      /* as driven by the model */
	bool intx_asserted;   /* as seen by the bus */
};

/* Little-endian helpers over config space and tables. */
static inline uint32_t pci_le_get(const uint8_t *p, unsigned int len)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline void pci_le_put(uint8_t *p, unsigned int len, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- pci-window.c --- */

/* Windows are ordered, non-overlapping, and clear of the ECAM window. */
bool pci__windows_valid(const struct pci_windows *w);

/* Set up the allocators of @pbus for its windows. */
void pci__alloc_init(struct pci_bus *pbus);

/*
 * Assign every BAR of @dev an address from the windows and write it to
 * the BAR registers, all or nothing. map_lock held. Returns 0 or
 * -ENOSPC (logged).
 */
int pci__assign_bars(struct pci_bus *pbus, struct pci_dev *dev);

/* --- pci-window.c, called by pci-dev.c with dev->lock held --- */

/*
 * Re-evaluate BAR @bar's mapping: unmap it if it moved or decode went
 * off, map it if it should decode and can, and retry BARs that were
 * blocked by the range just released. No-op when @dev is unregistered.
 */
void pci__bar_update(struct pci_dev *dev, unsigned int bar, bool want,
		     uint64_t addr);

/* --- pci.c, called by pci-dev.c and pci-msi.c with dev->lock held --- */

/* Account @dev's INTx assertion on its GSI (transitions only). */
void pci__intx_update(struct pci_dev *dev, bool asserted);

/* Send one MSI message through the bus's sink. Returns 0 or -errno. */
int pci__msi_send(struct pci_dev *dev, uint64_t addr, uint32_t data);

/* --- pci-dev.c --- */

/* The bus_ops that BAR trap ranges use (opaque: struct pci_bar *). */
extern const struct bus_ops pci_dev__bar_bus_ops;

/* Recompute every BAR's desired mapping from config space and apply it. */
void pci_dev__bars_refresh(struct pci_dev *dev);

/* Recompute INTx as the bus sees it and apply it. */
void pci_dev__intx_refresh(struct pci_dev *dev);

/*
 * Back to the power-on image captured at registration: config space,
 * MSI/MSI-X state, INTx low, BARs re-evaluated (decode off), then the
 * model's reset hook.
 */
void pci_dev__power_on(struct pci_dev *dev);

/* --- pci-msi.c, called with dev->lock held --- */

/*
 * A config write hit [off, off+len) inside the MSI or MSI-X capability:
 * apply side effects (enable, masks, vector changes, pending delivery).
 */
void pci_msi__cfg_written(struct pci_dev *dev, unsigned int off,
			  unsigned int len);

/*
 * Guest access to BAR @bar at @offset. Returns true when it fell into
 * the MSI-X table or PBA and was handled.
 */
bool pci_msi__bar_access(struct pci_dev *dev, unsigned int bar,
			 uint64_t offset, void *data, uint32_t len,
			 bool is_write);

/* Back to power-on: everything off, all MSI-X vectors masked, no pending. */
void pci_msi__reset(struct pci_dev *dev);

/* Free MSI-X tables. */
void pci_msi__destroy(struct pci_dev *dev);

#endif /* DEVICES_PCI_PCI_INTERNAL_H */
