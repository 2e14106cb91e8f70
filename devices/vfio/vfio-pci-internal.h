/*
 * vfio-pci-internal.h: the live state of a VFIO PCI device model, shared
 * by vfio-pci.c (lifecycle, DMA, failure), vfio-pci-config.c (config
 * space), vfio-pci-bar.c (BAR access and memslots) and vfio-pci-irq.c
 * (MSI/MSI-X delivery).
 *
 * Locks: the pci_dev lock (held by the PCI core around config accesses,
 * vector_changed and reset) -> vp->irq_lock -> vp->bar_lock (a failure
 * found while programming interrupts drops the memslots); the PCI bus map
 * lock (held around bar_map/bar_unmap) -> vp->bar_lock. bar_read and
 * bar_write run with no lock of ours: they touch only data fixed at
 * creation, the failed flag and the backend (which serialises itself).
 */
#ifndef DEVICES_VFIO_VFIO_PCI_INTERNAL_H
#define DEVICES_VFIO_VFIO_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/vfio/vfio-backend.h"
#include "devices/vfio/vfio-pci.h"
#include "vmm/config.h"

struct pci_msi_vector;
struct pci_dev_ops;
struct vfio_migration;
struct pci_dev_state;

/* Six BARs (the expansion ROM, region 6, is virtualized as absent). */
#define VFIO_PCI_NR_BARS 6
/* vfio_region_desc areas, each cut at most twice (MSI-X table, PBA). */
#define VFIO_PCI_MAX_PIECES (3 * VFIO_BACKEND_MAX_AREAS)
/* PCI config space: 256 bytes conventional + extended up to 4 KiB. */
#define VFIO_PCI_CFG_MAX 4096

/* One mmapped area of a BAR (owned mapping). */
struct vfio_pci_map {
	uint64_t off;  /* inside the region */
	uint64_t size;
	void *hva;
};

/* A BAR-relative range the memslots must leave trapped (MSI-X). */
struct vfio_pci_hole {
	uint64_t off;
	uint64_t size;
};

struct vfio_pci_bar {
	uint64_t region_size; /* bytes the device implements (0: no BAR) */
	uint64_t size;        /* the BAR: region_size rounded to a power of 2 */
	unsigned int flags;   /* PCI_BAR_F_* */
	unsigned int nr_maps;
	struct vfio_pci_map maps[VFIO_BACKEND_MAX_AREAS];
	unsigned int nr_holes;
	struct vfio_pci_hole holes[2];
	/* Memslots while the guest decodes the BAR; protected by bar_lock. */
	bool mapped;
	uint64_t addr;
	unsigned int nr_slots;
	unsigned int slots[VFIO_PCI_MAX_PIECES];
};

/* One MSI or MSI-X vector. */
struct vfio_pci_vec {
	int efd;      /* owned eventfd the device signals; -1 none */
	int gsi;      /* KVM MSI route, -1 none */
	bool irqfd;   /* efd bound to gsi with KVM_IRQFD */
};

/* The vectors of one VFIO IRQ index (MSI or MSI-X); under irq_lock. */
struct vfio_pci_irqs {
	uint32_t index;      /* VFIO_PCI_MSI_IRQ_INDEX / _MSIX_ */
	unsigned int nvec;   /* vectors the capability and the device share */
	unsigned int nr_on;  /* vectors whose eventfds the backend has */
	struct vfio_pci_vec *vec;
};

/* Legacy INTx (vfio-pci-intx.c); under irq_lock. */
struct vfio_pci_intx {
	uint8_t pin;   /* 1..4 (INTA..INTD); 0: the guest sees no pin */
	int trigger;   /* owned eventfd the device writes; -1 none */
	int resample;  /* owned eventfd KVM writes on EOI (device unmask) */
	int gsi;       /* IOAPIC pin the bus routed it to; -1 not yet */
	bool irqfd;    /* trigger bound to gsi with a resampling KVM irqfd */
	bool on;       /* the device has the trigger eventfd */
};

struct vfio_pci {
	struct device dev;
	struct vfio_pci_env env;
	struct vfio_backend *be; /* owned */
	struct pci_dev *pdev;    /* owned */
	uint32_t dev_flags;      /* VFIO_DEVICE_FLAGS_* */

	/* Config region (index 7) size, capped at VFIO_PCI_CFG_MAX. */
	uint32_t cfg_size;

	struct vfio_pci_bar bars[VFIO_PCI_NR_BARS];
	pthread_mutex_t bar_lock;

	pthread_mutex_t irq_lock;
	struct vfio_pci_irqs msi, msix;
	struct vfio_pci_intx intx;
	int epfd;                /* owned epoll set of all vector eventfds */
	uint64_t irqs_from_user; /* signals taken by the event loop (atomic) */

	unsigned int nr_dma;     /* guest RAM regions mapped for DMA */
	bool paused;             /* VM pause recorded (VMM thread) */

	/*
	 * Migration state machine, added by migration/vfio-migration.c in
	 * a later step: pause/resume and snapshot hooks will drive it. NULL
	 * while the model has none.
	 */
	struct vfio_migration *mig;         /* owned */
	struct pci_dev_state *staged;       /* restore: config not yet applied */
};

/*
 * Mark the device failed (first call wins): log one line naming the
 * operation and the error, set dev.failed, and remove the BAR memslots so
 * guest reads fall back to the trap path and see all ones. Any thread; may
 * be called with the pci_dev lock and irq_lock held, not with bar_lock.
 */
void vfio_pci__fail(struct vfio_pci *vp, const char *op, int err);

/*
 * After a failed backend call @ret (< 0): fail the device if the backend
 * itself is broken, else log @op rate-limited. Returns @ret.
 */
int vfio_pci__backend_error(struct vfio_pci *vp, const char *op, int ret);

/* --- vfio-pci-mig.c --- */

/* Probe the device's migration support (@mode from --vfio*,migration=). */
int vfio_pci__mig_init(struct vfio_pci *vp, enum vfio_migration_mode mode);
/* Free the migration state. Idempotent. */
void vfio_pci__mig_exit(struct vfio_pci *vp);

/* --- vfio-pci-config.c --- */

/*
 * Read the config region and build vp->pdev: identity, BARs from regions
 * 0..5 (vp->bars filled), capabilities mirrored at their offsets with MSI
 * and MSI-X taken over, the rest of config space passed through.
 */
int vfio_pci__build_config(struct vfio_pci *vp,
			   const struct pci_dev_ops *ops);

uint32_t vfio_pci__cfg_read(void *opaque, unsigned int off, unsigned int len);
void vfio_pci__cfg_write(void *opaque, unsigned int off, unsigned int len,
			 uint32_t val, uint32_t pt_mask);

/* --- vfio-pci-bar.c --- */

/* mmap every mmap-able area of every BAR (vp->bars[].maps). */
int vfio_pci__map_regions(struct vfio_pci *vp);
/* munmap them (after the memslots are gone). Idempotent. */
void vfio_pci__unmap_regions(struct vfio_pci *vp);
/* Drop every memslot (failure, teardown). Takes bar_lock. */
void vfio_pci__drop_memslots(struct vfio_pci *vp);

void vfio_pci__bar_read(void *opaque, unsigned int bar, uint64_t offset,
			void *data, uint32_t len);
void vfio_pci__bar_write(void *opaque, unsigned int bar, uint64_t offset,
			 const void *data, uint32_t len);
void vfio_pci__bar_map(void *opaque, unsigned int bar, uint64_t addr,
		       uint64_t size);
void vfio_pci__bar_unmap(void *opaque, unsigned int bar, uint64_t addr,
			 uint64_t size);

/* --- vfio-pci-irq.c --- */

/*
 * Size vp->msi / vp->msix from the capabilities (@msi_nvec, @msix_nvec, 0
 * when absent) and the device's IRQ info, create their eventfds and the
 * epoll set. Returns 0 or -errno.
 */
int vfio_pci__irqs_init(struct vfio_pci *vp, unsigned int msi_nvec,
			unsigned int msix_nvec);
/* Unbind irqfds, drop routes, disable the backend's vectors, close fds. */
void vfio_pci__irqs_exit(struct vfio_pci *vp);
/* pci_dev_ops.vector_changed. */
void vfio_pci__vector_changed(void *opaque, const struct pci_msi_vector *v);
/* Disable the backend's MSI/MSI-X and every irqfd (device reset). */
void vfio_pci__irqs_off(struct vfio_pci *vp);

/* --- vfio-pci-intx.c --- */

/*
 * Keep interrupt pin @pin (the device's config register) if the device
 * backs it with an INTx eventfd: create the trigger and resample
 * eventfds. vp->intx.pin is then the pin to show the guest (0: none).
 * Returns 0 or -errno.
 */
int vfio_pci__intx_init(struct vfio_pci *vp, uint8_t pin);
/*
 * Wire or unwire INTx to match the guest's state: on while neither MSI
 * nor MSI-X is enabled (in the guest's view or the backend's). irq_lock
 * held; may run inside pci_dev hooks (the pci_dev lock is recursive).
 */
void vfio_pci__intx_sync(struct vfio_pci *vp);
/* Unwire INTx (reset, failure). irq_lock held. */
void vfio_pci__intx_off(struct vfio_pci *vp);
/* Unwire and close the eventfds. Idempotent. */
void vfio_pci__intx_exit(struct vfio_pci *vp);

#endif /* DEVICES_VFIO_VFIO_PCI_INTERNAL_H */
