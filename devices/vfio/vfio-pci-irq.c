/*
 * vfio-pci-irq.c: MSI and MSI-X delivery for a VFIO PCI function. The
 * PCI core emulates the capabilities, the MSI-X table and the PBA; this
 * file follows each vector through vector_changed. Every vector the
 * device backs has an eventfd the device signals. While the guest has
 * the vector enabled and unmasked, the eventfd is bound with a KVM irqfd
 * to an MSI GSI route carrying the guest's message, so an interrupt goes
 * device -> eventfd -> KVM -> LAPIC without ferry. While it is masked the
 * irqfd is unbound and the event loop reads the eventfd instead and
 * raises the vector in the PCI core, which sets its pending bit (the
 * guest sees it in the PBA) and sends it on unmask. The same userspace
 * path covers a route KVM refused. The backend holds the eventfds only
 * while the guest has MSI (MSI-X) enabled, as a physical function would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "devices/pci/irq-route.h"
#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-msi.h"
#include "devices/pci/pci-regs.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "vmm/event.h"
#include "vmm/log.h"

/* epoll data: the MSI-X flag above the vector number (< 2048). */
#define EV_MSIX (1u << 31)
/* Events taken per epoll_wait; more just loop. */
#define EV_BATCH 32

static int vecs_create(struct vfio_pci *vp, struct vfio_pci_irqs *irqs,
		       uint32_t index, unsigned int cap_nvec)
{
	struct vfio_irq_desc d;
	unsigned int i;
	int ret;

	irqs->index = index;
	if (!cap_nvec)
		return 0;
	ret = vp->be->ops->get_irq_info(vp->be, index, &d);
	if (ret)
		return vfio_pci__backend_error(vp, "IRQ info", ret);
	irqs->nvec = MIN(cap_nvec, d.count);
	if (d.count < cap_nvec)
		log_info("%s: %s capability has %u vectors, the device backs %u",
			 vp->dev.id, index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI",
			 cap_nvec, d.count);
	irqs->vec = calloc(irqs->nvec, sizeof(*irqs->vec));
	if (!irqs->vec)
		return -ENOMEM;
	for (i = 0; i < irqs->nvec; i++)
		irqs->vec[i] = (struct vfio_pci_vec){ .efd = -1, .gsi = -1 };
	for (i = 0; i < irqs->nvec; i++) {
		struct epoll_event ev = {
			.events = EPOLLIN,
			.data.u32 = i | (index == VFIO_PCI_MSIX_IRQ_INDEX ? EV_MSIX : 0),
		};
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			ret = -errno;
			log_err("%s: eventfd for vector %u: %s", vp->dev.id, i,
				strerror(-ret));
			return ret;
		}
		irqs->vec[i].efd = fd;
		if (epoll_ctl(vp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ret = -errno;
			log_err("%s: epoll_ctl: %s", vp->dev.id, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void on_irq_event(void *opaque, uint32_t events)
{
	(void)events;
	vfio_pci__poll_irqs(opaque);
}

int vfio_pci__irqs_init(struct vfio_pci *vp, unsigned int msi_nvec,
			unsigned int msix_nvec)
{
	int ret;

	vp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vp->epfd < 0) {
		ret = -errno;
		log_err("%s: epoll_create1: %s", vp->dev.id, strerror(-ret));
		return ret;
	}
	ret = vecs_create(vp, &vp->msi, VFIO_PCI_MSI_IRQ_INDEX, msi_nvec);
	if (!ret)
		ret = vecs_create(vp, &vp->msix, VFIO_PCI_MSIX_IRQ_INDEX,
				  msix_nvec);
	if (!ret && vp->env.loop) {
		ret = event__add(vp->env.loop, vp->epfd, EPOLLIN, on_irq_event,
				 vp);
		if (ret)
			log_err("%s: cannot watch vector eventfds: %s",
				vp->dev.id, strerror(-ret));
	}
	return ret;
}

int vfio_pci__poll_irqs(struct vfio_pci *vp)
{
	struct epoll_event ev[EV_BATCH];
	int n, i, handled = 0;

	do {
		n = epoll_wait(vp->epfd, ev, EV_BATCH, 0);
		for (i = 0; i < n; i++) {
			bool msix = ev[i].data.u32 & EV_MSIX;
			unsigned int vec = ev[i].data.u32 & ~EV_MSIX;
			struct vfio_pci_irqs *irqs = msix ? &vp->msix : &vp->msi;
			uint64_t cnt;

			/* Nothing to read: KVM's irqfd took it first. */
			if (vec >= irqs->nvec ||
			    read(irqs->vec[vec].efd, &cnt, sizeof(cnt)) !=
				    sizeof(cnt))
				continue;
			handled++;
			__atomic_fetch_add(&vp->irqs_from_user, cnt,
					   __ATOMIC_RELAXED);
			if (msix)
				pci_dev__msix_notify(vp->pdev, vec);
			else
				pci_dev__msi_notify(vp->pdev, vec);
		}
	} while (n == EV_BATCH);
	return handled;
}

/* Vectors the backend should hold eventfds for now. irq_lock held. */
static unsigned int wanted_on(struct vfio_pci *vp, struct vfio_pci_irqs *irqs)
{
	struct pci_msi_vector v;
	unsigned int i, n = 0;

	if (irqs->index == VFIO_PCI_MSIX_IRQ_INDEX)
		return pci_dev__msix_enabled(vp->pdev) ? irqs->nvec : 0;
	if (!pci_dev__msi_enabled(vp->pdev))
		return 0;
	/* MSI: the vectors the guest enabled (multiple message enable). */
	for (i = 0; i < irqs->nvec; i++)
		if (!pci_dev__msi_vector(vp->pdev, i, &v) && v.enabled)
			n = i + 1;
	return n;
}

static int backend_disable(struct vfio_pci *vp, struct vfio_pci_irqs *irqs)
{
	int ret = 0;

	if (irqs->nr_on && !vfio_pci__failed(vp))
		ret = vp->be->ops->set_irqs(vp->be, irqs->index,
					    VFIO_IRQ_SET_DATA_NONE |
						    VFIO_IRQ_SET_ACTION_TRIGGER,
					    0, 0, NULL);
	irqs->nr_on = 0;
	return ret;
}

/* Hand the backend eventfds for the enabled vectors. irq_lock held. */
static void backend_sync(struct vfio_pci *vp, struct vfio_pci_irqs *irqs)
{
	unsigned int want = wanted_on(vp, irqs), i;
	int fds[PCI_MSIX_MAX_VECTORS]; /* 8 KiB: vCPU stacks are MiBs */
	const char *what = irqs->index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X"
								   : "MSI";
	int ret;

	if (want == irqs->nr_on)
		return;
	/* A device's MSI vector count only changes through disable. */
	ret = backend_disable(vp, irqs);
	if (!ret && want) {
		for (i = 0; i < want; i++)
			fds[i] = irqs->vec[i].efd;
		ret = vp->be->ops->set_irqs(vp->be, irqs->index,
					    VFIO_IRQ_SET_DATA_EVENTFD |
						    VFIO_IRQ_SET_ACTION_TRIGGER,
					    0, want, fds);
		if (!ret)
			irqs->nr_on = want;
	}
	if (ret) {
		vfio_pci__fail(vp, want ? "enabling interrupts"
				       : "disabling interrupts", ret);
		return;
	}
	log_debug("%s: %s %s with %u vector(s)", vp->dev.id, what,
		  want ? "enabled" : "disabled", want);
}

static void irqfd_off(struct vfio_pci *vp, struct vfio_pci_vec *vec)
{
	int ret;

	if (!vec->irqfd)
		return;
	ret = irq_route__irqfd_deassign(vp->env.routes, vec->gsi, vec->efd);
	if (ret)
		log_ratelimited(LOG_LEVEL_WARN, "%s: irqfd deassign (GSI %d): %s",
				vp->dev.id, vec->gsi, strerror(-ret));
	vec->irqfd = false;
}

/* Route and bind vector @v, or unbind it. irq_lock held. */
static void vector_route(struct vfio_pci *vp, struct vfio_pci_irqs *irqs,
			 const struct pci_msi_vector *v)
{
	struct vfio_pci_vec *vec = &irqs->vec[v->vec];
	unsigned int gsi;
	int ret;

	if (!v->enabled || v->masked || v->vec >= irqs->nr_on ||
	    !vp->env.routes || vfio_pci__failed(vp)) {
		irqfd_off(vp, vec);
		return;
	}
	if (vec->gsi < 0) {
		ret = irq_route__add_msi(vp->env.routes, v->addr, v->data, &gsi);
		if (!ret)
			vec->gsi = (int)gsi;
	} else {
		ret = irq_route__update_msi(vp->env.routes, (unsigned int)vec->gsi,
					    v->addr, v->data);
	}
	if (ret) {
		/* The event loop delivers it through the PCI core instead. */
		log_ratelimited(LOG_LEVEL_WARN,
				"%s: no KVM route for vector %u (%s); delivering from userspace",
				vp->dev.id, v->vec, strerror(-ret));
		irqfd_off(vp, vec);
		return;
	}
	if (vec->irqfd)
		return;
	ret = irq_route__irqfd_assign(vp->env.routes, (unsigned int)vec->gsi,
				      vec->efd, -1);
	if (ret) {
		log_ratelimited(LOG_LEVEL_WARN,
				"%s: irqfd for vector %u (GSI %d): %s; delivering from userspace",
				vp->dev.id, v->vec, vec->gsi, strerror(-ret));
		return;
	}
	vec->irqfd = true;
	log_debug("%s: vector %u -> GSI %d (irqfd), message 0x%llx/0x%x",
		  vp->dev.id, v->vec, vec->gsi, (unsigned long long)v->addr,
		  v->data);
}

void vfio_pci__vector_changed(void *opaque, const struct pci_msi_vector *v)
{
	struct vfio_pci *vp = opaque;
	struct vfio_pci_irqs *irqs =
		v->kind == PCI_MSI_KIND_MSIX ? &vp->msix : &vp->msi;

	pthread_mutex_lock(&vp->irq_lock);
	/* INTx off before MSI(-X) is enabled, on again after it is off. */
	vfio_pci__intx_sync(vp);
	if (v->vec < irqs->nvec) {
		backend_sync(vp, irqs);
		vector_route(vp, irqs, v);
	}
	vfio_pci__intx_sync(vp);
	pthread_mutex_unlock(&vp->irq_lock);
}

static void irqs_off_one(struct vfio_pci *vp, struct vfio_pci_irqs *irqs)
{
	unsigned int i;
	int ret;

	for (i = 0; i < irqs->nvec; i++)
		irqfd_off(vp, &irqs->vec[i]);
	ret = backend_disable(vp, irqs);
	if (ret)
		vfio_pci__backend_error(vp, "disabling interrupts", ret);
}

void vfio_pci__irqs_off(struct vfio_pci *vp)
{
	pthread_mutex_lock(&vp->irq_lock);
	vfio_pci__intx_off(vp);
	irqs_off_one(vp, &vp->msi);
	irqs_off_one(vp, &vp->msix);
	pthread_mutex_unlock(&vp->irq_lock);
}

static void vecs_destroy(struct vfio_pci *vp, struct vfio_pci_irqs *irqs)
{
	unsigned int i;
	int ret;

	for (i = 0; i < irqs->nvec; i++) {
		struct vfio_pci_vec *vec = &irqs->vec[i];

		if (vec->gsi >= 0) {
			ret = irq_route__remove_msi(vp->env.routes,
						    (unsigned int)vec->gsi);
			if (ret)
				log_warn("%s: removing GSI %d: %s", vp->dev.id,
					 vec->gsi, strerror(-ret));
			vec->gsi = -1;
		}
		if (vec->efd >= 0)
			close(vec->efd);
		vec->efd = -1;
	}
	free(irqs->vec);
	irqs->vec = NULL;
	irqs->nvec = 0;
}

void vfio_pci__irqs_exit(struct vfio_pci *vp)
{
	if (vp->msi.nvec || vp->msix.nvec)
		log_debug("%s: %llu interrupt(s) went through the event loop (masked vectors or no irqfd)",
			  vp->dev.id, (unsigned long long)vp->irqs_from_user);
	if (vp->epfd >= 0 && vp->env.loop)
		event__del(vp->env.loop, vp->epfd);
	vfio_pci__irqs_off(vp);
	pthread_mutex_lock(&vp->irq_lock);
	vfio_pci__intx_exit(vp);
	vecs_destroy(vp, &vp->msi);
	vecs_destroy(vp, &vp->msix);
	pthread_mutex_unlock(&vp->irq_lock);
	if (vp->epfd >= 0)
		close(vp->epfd);
	vp->epfd = -1;
}
