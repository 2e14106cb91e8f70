/*
 * irq-route.c: the KVM GSI routing table (irqchip defaults + MSI routes)
 * and irqfd bindings, sent to KVM through an injectable ioctl.
 */
#include "devices/pci/irq-route.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/log.h"

/* Default irqchip routes: two per PIC-capable GSI, one per IOAPIC-only GSI. */
#define IRQCHIP_ENTRIES (2 * IRQ_ROUTE_PIC_GSIS + \
			 (IRQ_ROUTE_IRQCHIP_GSIS - IRQ_ROUTE_PIC_GSIS))

struct msi_route {
	bool used;
	uint64_t addr;
	uint32_t data;
};

struct irqfd_binding {
	unsigned int gsi;
	int fd;
};

struct irq_route {
	int vm_fd;
	irq_route_ioctl_fn ioctl_fn;
	pthread_mutex_t lock; /* everything below */
	struct msi_route msi[IRQ_ROUTE_MAX_GSI]; /* index = GSI; < 24 unused */
	unsigned int nr_msi;
	unsigned int batch;   /* nesting depth of batch_begin */
	bool dirty;           /* table changed since last sent */
	unsigned int nr_entries;
	struct irqfd_binding *irqfds;
	unsigned int nr_irqfds, cap_irqfds;
};

static int sys_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

int irq_route__create(int vm_fd, irq_route_ioctl_fn ioctl_fn,
		      struct irq_route **out)
{
	struct irq_route *rt;

	if (vm_fd < 0)
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->vm_fd = vm_fd;
	rt->ioctl_fn = ioctl_fn ? ioctl_fn : sys_ioctl;
	rt->nr_entries = IRQCHIP_ENTRIES;
	pthread_mutex_init(&rt->lock, NULL);
	*out = rt;
	return 0;
}

void irq_route__destroy(struct irq_route *rt)
{
	if (!rt)
		return;
	free(rt->irqfds);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}

static void irqchip_entry(struct kvm_irq_routing_entry *e, unsigned int gsi,
			  unsigned int chip, unsigned int pin)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* Build and send the whole table. Called with rt->lock held. */
static int commit(struct irq_route *rt)
{
	unsigned int n = IRQCHIP_ENTRIES + rt->nr_msi, i = 0, gsi;
	struct kvm_irq_routing *tbl;
	int ret = 0;

	if (rt->batch) {
		rt->dirty = true;
		return 0;
	}
	tbl = calloc(1, sizeof(*tbl) + n * sizeof(tbl->entries[0]));
	if (!tbl)
		return -ENOMEM;
	/* The same layout KVM_CREATE_IRQCHIP installs (see irq-route.h). */
	for (gsi = 0; gsi < IRQ_ROUTE_IRQCHIP_GSIS; gsi++) {
		irqchip_entry(&tbl->entries[i++], gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < IRQ_ROUTE_PIC_GSIS)
			irqchip_entry(&tbl->entries[i++], gsi,
				      gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
					      : KVM_IRQCHIP_PIC_SLAVE,
				      gsi % 8);
	}
	for (gsi = IRQ_ROUTE_IRQCHIP_GSIS; gsi < IRQ_ROUTE_MAX_GSI; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (!rt->msi[gsi].used)
			continue;
		e = &tbl->entries[i++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)rt->msi[gsi].addr;
		e->u.msi.address_hi = (uint32_t)(rt->msi[gsi].addr >> 32);
		e->u.msi.data = rt->msi[gsi].data;
	}
	tbl->nr = i;
	if (rt->ioctl_fn(rt->vm_fd, KVM_SET_GSI_ROUTING, tbl) < 0) {
		ret = -errno;
		log_ratelimited(LOG_LEVEL_ERR,
				"irq-route: KVM_SET_GSI_ROUTING (%u entries) failed: %d",
				i, ret);
		rt->dirty = true;
	} else {
		rt->dirty = false;
		rt->nr_entries = i;
	}
	free(tbl);
	return ret;
}

static bool is_msi_gsi(const struct irq_route *rt, unsigned int gsi)
{
	return gsi >= IRQ_ROUTE_IRQCHIP_GSIS && gsi < IRQ_ROUTE_MAX_GSI &&
	       rt->msi[gsi].used;
}

int irq_route__add_msi(struct irq_route *rt, uint64_t addr, uint32_t data,
		       unsigned int *gsi)
{
	unsigned int g;
	int ret;

	pthread_mutex_lock(&rt->lock);
	for (g = IRQ_ROUTE_IRQCHIP_GSIS; g < IRQ_ROUTE_MAX_GSI; g++)
		if (!rt->msi[g].used)
			break;
	/* The table must stay within KVM_MAX_IRQ_ROUTES entries as well. */
	if (g == IRQ_ROUTE_MAX_GSI ||
	    IRQCHIP_ENTRIES + rt->nr_msi + 1 > IRQ_ROUTE_MAX_GSI) {
		ret = -ENOSPC;
		goto out;
	}
	rt->msi[g] = (struct msi_route){ true, addr, data };
	rt->nr_msi++;
	ret = commit(rt);
	if (ret) {
		rt->msi[g].used = false;
		rt->nr_msi--;
		goto out;
	}
	*gsi = g;
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_route__update_msi(struct irq_route *rt, unsigned int gsi,
			  uint64_t addr, uint32_t data)
{
	struct msi_route old;
	int ret = 0;

	pthread_mutex_lock(&rt->lock);
	if (!is_msi_gsi(rt, gsi)) {
		ret = -ENOENT;
		goto out;
	}
	old = rt->msi[gsi];
	if (old.addr == addr && old.data == data && !rt->dirty)
		goto out;
	rt->msi[gsi].addr = addr;
	rt->msi[gsi].data = data;
	ret = commit(rt);
	if (ret)
		rt->msi[gsi] = old;
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

static bool has_irqfd(const struct irq_route *rt, unsigned int gsi)
{
	unsigned int i;

	for (i = 0; i < rt->nr_irqfds; i++)
		if (rt->irqfds[i].gsi == gsi)
			return true;
	return false;
}

int irq_route__remove_msi(struct irq_route *rt, unsigned int gsi)
{
	int ret;

	pthread_mutex_lock(&rt->lock);
	if (!is_msi_gsi(rt, gsi)) {
		ret = -ENOENT;
		goto out;
	}
	if (has_irqfd(rt, gsi)) {
		ret = -EBUSY;
		goto out;
	}
	rt->msi[gsi].used = false;
	rt->nr_msi--;
	ret = commit(rt);
	if (ret) {
		rt->msi[gsi].used = true;
		rt->nr_msi++;
	}
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_route__get_msi(struct irq_route *rt, unsigned int gsi, uint64_t *addr,
		       uint32_t *data)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&rt->lock);
	if (is_msi_gsi(rt, gsi)) {
		*addr = rt->msi[gsi].addr;
		*data = rt->msi[gsi].data;
		ret = 0;
	}
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

void irq_route__batch_begin(struct irq_route *rt)
{
	pthread_mutex_lock(&rt->lock);
	rt->batch++;
	pthread_mutex_unlock(&rt->lock);
}

int irq_route__batch_end(struct irq_route *rt)
{
	int ret = 0;

	pthread_mutex_lock(&rt->lock);
	if (rt->batch && --rt->batch == 0 && rt->dirty)
		ret = commit(rt);
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_route__irqfd_assign(struct irq_route *rt, unsigned int gsi, int fd,
			    int resample_fd)
{
	struct kvm_irqfd req;
	int ret = 0;

	if (fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&rt->lock);
	if (gsi >= IRQ_ROUTE_IRQCHIP_GSIS && !is_msi_gsi(rt, gsi)) {
		ret = -ENOENT;
		goto out;
	}
	/* Resampling only makes sense for a level-triggered irqchip input. */
	if (resample_fd >= 0 && gsi >= IRQ_ROUTE_IRQCHIP_GSIS) {
		ret = -EINVAL;
		goto out;
	}
	if (rt->nr_irqfds == rt->cap_irqfds) {
		unsigned int cap = rt->cap_irqfds ? 2 * rt->cap_irqfds : 16;
		struct irqfd_binding *b = realloc(rt->irqfds, cap * sizeof(*b));

		if (!b) {
			ret = -ENOMEM;
			goto out;
		}
		rt->irqfds = b;
		rt->cap_irqfds = cap;
	}
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.gsi = gsi;
	if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = resample_fd;
	}
	if (rt->ioctl_fn(rt->vm_fd, KVM_IRQFD, &req) < 0) {
		ret = -errno;
		log_err("irq-route: KVM_IRQFD fd %d -> GSI %u failed: %d", fd,
			gsi, ret);
		goto out;
	}
	rt->irqfds[rt->nr_irqfds++] = (struct irqfd_binding){ gsi, fd };
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int irq_route__irqfd_deassign(struct irq_route *rt, unsigned int gsi, int fd)
{
	struct kvm_irqfd req;
	unsigned int i;
	int ret = -ENOENT;

	pthread_mutex_lock(&rt->lock);
	for (i = 0; i < rt->nr_irqfds; i++)
		if (rt->irqfds[i].gsi == gsi && rt->irqfds[i].fd == fd)
			break;
	if (i == rt->nr_irqfds)
		goto out;
	memset(&req, 0, sizeof(req));
	req.fd = fd;
	req.gsi = gsi;
	req.flags = KVM_IRQFD_FLAG_DEASSIGN;
	if (rt->ioctl_fn(rt->vm_fd, KVM_IRQFD, &req) < 0) {
		ret = -errno;
		log_err("irq-route: KVM_IRQFD deassign fd %d GSI %u failed: %d",
			fd, gsi, ret);
		goto out;
	}
	rt->irqfds[i] = rt->irqfds[--rt->nr_irqfds];
	ret = 0;
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

unsigned int irq_route__nr_entries(struct irq_route *rt)
{
	unsigned int n;

	pthread_mutex_lock(&rt->lock);
	n = rt->nr_entries;
	pthread_mutex_unlock(&rt->lock);
	return n;
}
