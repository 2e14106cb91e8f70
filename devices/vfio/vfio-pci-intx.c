/*
 * vfio-pci-intx.c: legacy INTx for a VFIO PCI function. A device whose
 * config space names an interrupt pin and whose VFIO IRQ index 0 (INTx)
 * takes an eventfd keeps its pin in the guest's view; the PCI bus routes
 * the pin to an IOAPIC GSI (16-23). The level is handled in the kernel:
 * the device writes a trigger eventfd bound to that GSI with a resampling
 * KVM irqfd, KVM asserts the line, and on the guest's EOI de-asserts it
 * and writes the resample eventfd, which the device takes as "unmask"
 * (VFIO automasks INTx when it fires). ferry is not on that path. INTx
 * is wired only while neither MSI nor MSI-X is in use: VFIO refuses MSI
 * while INTx is enabled, and a PCI function raises one kind at a time.
 * Both eventfds are made at creation, so turning INTx on and off (from
 * vCPU threads, under their seccomp role) needs no new fds.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "devices/pci/irq-route.h"
#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-msi.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "vmm/log.h"

/* PCI interrupt pins are INTA..INTD: 1..4 in the Interrupt Pin register. */
#define INTX_PIN_MAX 4

int vfio_pci__intx_init(struct vfio_pci *vp, uint8_t pin)
{
	struct vfio_pci_intx *ix = &vp->intx;
	struct vfio_irq_desc d;
	int ret;

	/* The fds are -1 from vfio_pci__create. */
	ix->pin = 0;
	if (!pin || pin > INTX_PIN_MAX)
		return 0;
	ret = vp->be->ops->get_irq_info(vp->be, VFIO_PCI_INTX_IRQ_INDEX, &d);
	if (ret || d.count < 1 || !(d.flags & VFIO_IRQ_INFO_EVENTFD)) {
		log_info("%s: interrupt pin %c without a device INTx eventfd: hidden",
			 vp->dev.id, 'A' + pin - 1);
		return 0;
	}
	ix->trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ix->trigger < 0)
		goto err_errno;
	ix->resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ix->resample < 0)
		goto err_errno;
	ix->pin = pin;
	return 0;

err_errno:
	ret = -errno;
	log_err("%s: eventfd for INTx: %s", vp->dev.id, strerror(-ret));
	vfio_pci__intx_exit(vp);
	return ret;
}

/* Wire INTx: irqfd first, so the first trigger already reaches KVM. */
static int intx_on(struct vfio_pci *vp)
{
	struct vfio_pci_intx *ix = &vp->intx;
	int ret;

	ret = irq_route__irqfd_assign(vp->env.routes, (unsigned int)ix->gsi,
				      ix->trigger, ix->resample);
	if (ret) {
		log_ratelimited(LOG_LEVEL_WARN, "%s: INTx irqfd (GSI %d): %s",
				vp->dev.id, ix->gsi, strerror(-ret));
		return ret;
	}
	ix->irqfd = true;
	ret = vp->be->ops->set_irqs(vp->be, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_DATA_EVENTFD |
					    VFIO_IRQ_SET_ACTION_TRIGGER,
				    0, 1, &ix->trigger);
	if (ret)
		return vfio_pci__backend_error(vp, "enabling INTx", ret);
	ix->on = true;
	ret = vp->be->ops->set_irqs(vp->be, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_DATA_EVENTFD |
					    VFIO_IRQ_SET_ACTION_UNMASK,
				    0, 1, &ix->resample);
	if (ret)
		return vfio_pci__backend_error(vp, "INTx unmask eventfd", ret);
	log_debug("%s: INTx pin %c -> GSI %d (resampling irqfd)", vp->dev.id,
		  'A' + ix->pin - 1, ix->gsi);
	return 0;
}

/* Unwire INTx; the device may keep its line masked until re-enabled. */
static void intx_off(struct vfio_pci *vp)
{
	struct vfio_pci_intx *ix = &vp->intx;
	int ret;

	if (ix->on && !vfio_pci__failed(vp)) {
		ret = vp->be->ops->set_irqs(vp->be, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_DATA_NONE |
						    VFIO_IRQ_SET_ACTION_TRIGGER,
					    0, 0, NULL);
		if (ret)
			vfio_pci__backend_error(vp, "disabling INTx", ret);
	}
	ix->on = false;
	if (ix->irqfd) {
		ret = irq_route__irqfd_deassign(vp->env.routes,
						(unsigned int)ix->gsi,
						ix->trigger);
		if (ret)
			log_ratelimited(LOG_LEVEL_WARN,
					"%s: INTx irqfd deassign (GSI %d): %s",
					vp->dev.id, ix->gsi, strerror(-ret));
		ix->irqfd = false;
	}
}

void vfio_pci__intx_sync(struct vfio_pci *vp)
{
	struct vfio_pci_intx *ix = &vp->intx;
	bool want;

	if (!ix->pin)
		return;
	if (ix->gsi < 0 && vp->pdev)
		ix->gsi = pci_dev__intx_gsi(vp->pdev);
	/* Not while MSI/MSI-X is on, in the guest's view or the device's. */
	want = ix->gsi >= 0 && vp->env.routes && !vfio_pci__failed(vp) &&
	       !vp->msi.nr_on && !vp->msix.nr_on && !pci_dev__msi_enabled(vp->pdev) &&
	       !pci_dev__msix_enabled(vp->pdev);
	if (want == (ix->on && ix->irqfd))
		return;
	intx_off(vp);
	if (want && intx_on(vp))
		intx_off(vp);
}

void vfio_pci__intx_off(struct vfio_pci *vp)
{
	intx_off(vp);
}

void vfio_pci__intx_exit(struct vfio_pci *vp)
{
	struct vfio_pci_intx *ix = &vp->intx;

	intx_off(vp);
	if (ix->trigger >= 0)
		close(ix->trigger);
	if (ix->resample >= 0)
		close(ix->resample);
	ix->trigger = ix->resample = -1;
	ix->pin = 0;
}
