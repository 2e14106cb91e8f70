/*
 * pci-host.c: the host bridge device type: adapts the VM-independent
 * PCI bus (pci.c) to a struct vm, and keeps the VM -> bus association
 * so endpoint device types can find the bus.
 */
#include "devices/pci/pci-host.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device-info.h"
#include "devices/pci/irq-route.h"
#include "devices/pci/pci-dev.h"
#include "devices/pci/pci.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/vm.h"

/* CPUID leaf with the physical address width in EAX[7:0]. */
#define CPUID_ADDR_SIZES 0x80000008u
/* Width to assume when the leaf is missing: the x86 baseline with PAE. */
#define PHYS_BITS_FALLBACK 36

struct pci_host {
	struct device dev;
	struct vm *vm;
	struct pci_bus *pbus;      /* owned */
	struct irq_route *routes;  /* owned */
};

/* ferry runs one VM per process; the table allows a few for tests. */
#define PCI_HOST_MAX 4
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pci_host *hosts[PCI_HOST_MAX];

static struct pci_host *host_of(struct vm *vm)
{
	struct pci_host *h = NULL;
	unsigned int i;

	pthread_mutex_lock(&hosts_lock);
	for (i = 0; i < PCI_HOST_MAX; i++)
		if (hosts[i] && hosts[i]->vm == vm)
			h = hosts[i];
	pthread_mutex_unlock(&hosts_lock);
	return h;
}

static int host_set_irq(void *opaque, unsigned int gsi, int level)
{
	return vm__irq_line(opaque, gsi, level);
}

static int host_signal_msi(void *opaque, uint64_t addr, uint32_t data)
{
	return vm__signal_msi(opaque, addr, data);
}

static const struct pci_irq_ops host_irq_ops = {
	.set_irq = host_set_irq,
	.signal_msi = host_signal_msi,
};

static unsigned int host_phys_bits(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(CPUID_ADDR_SIZES, &eax, &ebx, &ecx, &edx))
		return PHYS_BITS_FALLBACK;
	return eax & 0xff;
}

static void pci_host_destroy(struct device *dev);

static int pci_host_create(struct vm *vm, const void *arg, struct device **out)
{
	const struct pci_host_config *cfg = arg;
	struct pci_windows win;
	struct pci_host *h;
	unsigned int i, bits;
	int ret;

	if (host_of(vm)) {
		log_err("pci0: the VM already has a PCI host bridge");
		return -EEXIST;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->dev.type = &pci_host_type;
	strcpy(h->dev.id, "pci0");
	h->vm = vm;
	bits = cfg ? cfg->phys_bits : host_phys_bits();
	ret = pci__default_windows(mem__end(vm__mem(vm)), bits, &win);
	if (ret) {
		log_err("pci0: cannot place PCI windows for %u phys bits", bits);
		goto err;
	}
	if (win.mmio64_end == win.mmio64_base)
		log_warn("pci0: no 64-bit BAR window (%u phys bits); 64-bit BARs go below 4 GiB",
			 bits);
	ret = pci__create(vm__bus(vm), &win, &host_irq_ops, vm, &h->pbus);
	if (ret)
		goto err;
	ret = irq_route__create(vm__fd(vm), NULL, &h->routes);
	if (ret)
		goto err;
	pthread_mutex_lock(&hosts_lock);
	for (i = 0; i < PCI_HOST_MAX && hosts[i]; i++)
		;
	if (i < PCI_HOST_MAX)
		hosts[i] = h;
	pthread_mutex_unlock(&hosts_lock);
	if (i == PCI_HOST_MAX) {
		ret = -ENOSPC;
		goto err;
	}
	log_debug("pci0: mmio32 0x%llx-0x%llx mmio64 0x%llx-0x%llx ecam 0x%llx",
		  (unsigned long long)win.mmio32_base,
		  (unsigned long long)win.mmio32_end,
		  (unsigned long long)win.mmio64_base,
		  (unsigned long long)win.mmio64_end,
		  (unsigned long long)win.ecam_base);
	*out = &h->dev;
	return 0;

err:
	pci_host_destroy(&h->dev);
	return ret;
}

static void pci_host_destroy(struct device *dev)
{
	struct pci_host *h;
	unsigned int i;

	if (!dev)
		return;
	h = container_of(dev, struct pci_host, dev);
	pthread_mutex_lock(&hosts_lock);
	for (i = 0; i < PCI_HOST_MAX; i++)
		if (hosts[i] == h)
			hosts[i] = NULL;
	pthread_mutex_unlock(&hosts_lock);
	pci__destroy(h->pbus);
	irq_route__destroy(h->routes);
	free(h);
}

static int pci_host_reset(struct device *dev)
{
	struct pci_host *h = container_of(dev, struct pci_host, dev);

	pci__reset(h->pbus);
	return 0;
}

struct pci_bus *pci_host__bus(struct vm *vm)
{
	struct pci_host *h = host_of(vm);

	return h ? h->pbus : NULL;
}

struct irq_route *pci_host__irq_route(struct vm *vm)
{
	struct pci_host *h = host_of(vm);

	return h ? h->routes : NULL;
}

int pci_host__mptable(struct vm *vm, struct mptable_config *cfg)
{
	struct pci_host *h = host_of(vm);

	return h ? pci__mptable_irqs(h->pbus, cfg) : 0;
}

/* GET /vm: the host bridge's own function (00:00.0 today). */
static void pci_host_describe(struct device *dev, struct device_info *info)
{
	struct pci_host *h = container_of(dev, struct pci_host, dev);
	struct pci_dev *bridge = pci__host_bridge(h->pbus);
	int slot = bridge ? pci_dev__slot(bridge) : -1;

	if (slot >= 0) {
		info->pci.present = true;
		info->pci.slot = (uint8_t)slot;
	}
}

const struct device_type pci_host_type = {
	.name = "pci-host",
	.phase = DEVICE_PHASE_BUS,
	.create = pci_host_create,
	.destroy = pci_host_destroy,
	.reset = pci_host_reset,
	.describe = pci_host_describe,
};
