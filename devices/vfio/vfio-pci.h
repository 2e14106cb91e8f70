/*
 * vfio-pci.h: the VFIO PCI passthrough device model. It turns one device
 * behind a struct vfio_backend (vfio-backend.h: vfio-user today, kernel
 * VFIO later) into a PCI function on ferry's bus 0: config space built
 * from the device's config region (BARs, command register, MSI/MSI-X and
 * the expansion ROM virtualized, the rest passed through), BARs served by
 * KVM memslots over the device's mmap-able areas and by trapped region
 * accesses elsewhere, MSI/MSI-X vectors delivered by eventfd -> KVM irqfd
 * -> GSI route, and all guest RAM mapped for device DMA through the RAM
 * memfd. Once the backend fails the device is marked failed (one log
 * line); the guest then reads all ones and its writes are dropped, and
 * ferry keeps running. See docs/vfio.md.
 *
 * As a ferry device type (vfio_pci_type, phase DEVICE_PHASE_PCI), create()
 * takes a struct vfio_config (vmm/config.h) and needs the VM's PCI host
 * bridge (pci-host.h). vfio_pci__create() builds the same model over an
 * explicit environment, so unit tests run it without KVM.
 */
#ifndef DEVICES_VFIO_VFIO_PCI_H
#define DEVICES_VFIO_VFIO_PCI_H

#include <stdint.h>

#include "devices/device.h"
#include "vmm/util.h"

struct vfio_backend;
struct vfio_pci;
struct pci_bus;
struct pci_dev;
struct irq_route;
struct guest_mem;
struct event_loop;

extern const struct device_type vfio_pci_type;

/*
 * Add / remove a KVM memory slot mapping host memory @hva at guest
 * [@gpa, @gpa+@size) (vm__map_memslot shape). Thread-safe; called from
 * vCPU threads with PCI locks held.
 */
typedef int (*vfio_pci_map_fn)(void *opaque, uint64_t gpa, uint64_t size,
			       void *hva, unsigned int *slot);
typedef int (*vfio_pci_unmap_fn)(void *opaque, unsigned int slot);

/*
 * What the model needs from its VM; every pointer is borrowed and must
 * outlive the model. @routes NULL: no irqfds, every interrupt goes through
 * the event loop and the PCI core's MSI sink (slower, still correct).
 * @map NULL: BARs are always trapped. @loop may be NULL only in tests
 * that call vfio_pci__poll_irqs() themselves.
 */
struct vfio_pci_env {
	struct pci_bus *pbus;
	struct irq_route *routes;
	struct guest_mem *mem;
	struct event_loop *loop;
	vfio_pci_map_fn map;
	vfio_pci_unmap_fn unmap;
	void *opaque; /* for map/unmap */
};

/*
 * Build the model for device @id over @be (ownership taken: destroyed on
 * failure too) and plug it into env->pbus (any free slot). Reads the
 * config region and regions 0..5, mmaps the mmap-able areas, maps all
 * guest RAM for DMA, creates the vector eventfds. VMM thread, before the
 * vCPUs run. Returns 0 and *out, or -errno after logging the reason.
 */
int __must_check vfio_pci__create(const struct vfio_pci_env *env,
				  const char *id, struct vfio_backend *be,
				  struct vfio_pci **out);

/*
 * Unplug and free: memslots, irqfds and routes, DMA mappings, eventfds,
 * BAR mappings, the backend. NULL-safe. vCPUs must be stopped.
 */
void vfio_pci__destroy(struct vfio_pci *vp);

/* The ferry device embedded in the model (id, failed). */
struct device *vfio_pci__device(struct vfio_pci *vp);

/* The PCI function (borrowed; lives as long as @vp). */
struct pci_dev *vfio_pci__pci_dev(struct vfio_pci *vp);

/* 0 while healthy, -errno once the device failed. Any thread. */
int vfio_pci__failed(const struct vfio_pci *vp);

/*
 * Handle signalled vector eventfds that have no irqfd bound (masked
 * vectors, or a route KVM refused): raise them in the PCI core, which
 * latches pending bits or sends the MSI. The event loop calls this; tests
 * may call it directly. Returns the number of vector signals handled.
 */
int vfio_pci__poll_irqs(struct vfio_pci *vp);

#endif /* DEVICES_VFIO_VFIO_PCI_H */
