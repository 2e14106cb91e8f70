/*
 * vfio-pci.c: the VFIO PCI device type: opens the backend named by a
 * struct vfio_config, builds the PCI function (vfio-pci-config.c), maps
 * its BARs (vfio-pci-bar.c) and interrupts (vfio-pci-irq.c), maps all
 * guest RAM for device DMA by handing the backend the RAM memfd, and
 * owns the device's failure state: the first backend failure logs one
 * line, drops the BAR memslots and turns the function into one that
 * reads all ones, while the VM keeps running.
 */
#include "devices/vfio/vfio-pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "devices/device-info.h"
#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-host.h"
#include "devices/pci/pci-regs.h"
#include "devices/pci/pci.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "migration/vfio-migration.h"
#include "devices/vfio/vfio-kernel.h"
#include "devices/vfio/vfio-user.h"
#include "vmm/compat/vfio-compat.h"
#include "vmm/config.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/vm.h"

int vfio_pci__failed(const struct vfio_pci *vp)
{
	return __atomic_load_n(&vp->dev.failed, __ATOMIC_ACQUIRE);
}

void vfio_pci__fail(struct vfio_pci *vp, const char *op, int err)
{
	int expected = 0;

	if (err >= 0)
		err = -EIO;
	if (!__atomic_compare_exchange_n(&vp->dev.failed, &expected, err, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	log_err("%s: device failed (%s: %s); the guest now reads all ones from it",
		vp->dev.id, op, strerror(-err));
	if (vp->env.unmap)
		vfio_pci__drop_memslots(vp);
}

int vfio_pci__backend_error(struct vfio_pci *vp, const char *op, int ret)
{
	if (__atomic_load_n(&vp->be->failed, __ATOMIC_ACQUIRE))
		vfio_pci__fail(vp, op, ret);
	else
		log_ratelimited(LOG_LEVEL_WARN, "%s: %s: %s", vp->dev.id, op,
				strerror(-ret));
	return ret;
}

/* pci_dev_ops.reset: after pci__reset restored the config image. */
static void pci_reset(void *opaque)
{
	struct vfio_pci *vp = opaque;
	uint16_t cmd = 0;
	int ret;

	vfio_pci__irqs_off(vp);
	if (vfio_pci__failed(vp))
		return;
	if (vp->dev_flags & VFIO_DEVICE_FLAGS_RESET) {
		ret = vp->be->ops->reset(vp->be);
		if (ret)
			vfio_pci__backend_error(vp, "device reset", ret);
	}
	ret = vp->be->ops->region_write(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
					PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		vfio_pci__backend_error(vp, "command write", ret);
	/* MSI and MSI-X are off after a reset: back to INTx. */
	pthread_mutex_lock(&vp->irq_lock);
	vfio_pci__intx_sync(vp);
	pthread_mutex_unlock(&vp->irq_lock);
}

static const struct pci_dev_ops vfio_pci_dev_ops = {
	.bar_read = vfio_pci__bar_read,
	.bar_write = vfio_pci__bar_write,
	.bar_map = vfio_pci__bar_map,
	.bar_unmap = vfio_pci__bar_unmap,
	.cfg_read = vfio_pci__cfg_read,
	.cfg_write = vfio_pci__cfg_write,
	.vector_changed = vfio_pci__vector_changed,
	.reset = pci_reset,
};

/* Map every guest RAM region at IOVA = guest-physical address. */
static int dma_map_ram(struct vfio_pci *vp)
{
	const struct guest_mem *mem = vp->env.mem;
	unsigned int i;
	int ret;

	for (i = 0; mem && i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		ret = vp->be->ops->dma_map(vp->be, r->gpa, r->size, mem->fd,
					   r->offset, r->hva,
					   VFIO_DMA_MAP_FLAG_READ |
						   VFIO_DMA_MAP_FLAG_WRITE);
		if (ret) {
			log_err("%s: DMA map of guest RAM 0x%llx+0x%llx: %s",
				vp->dev.id, (unsigned long long)r->gpa,
				(unsigned long long)r->size, strerror(-ret));
			return ret;
		}
		vp->nr_dma = i + 1;
	}
	return 0;
}

static void dma_unmap_ram(struct vfio_pci *vp)
{
	const struct guest_mem *mem = vp->env.mem;
	unsigned int i;
	int ret;

	for (i = 0; i < vp->nr_dma; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (vfio_pci__failed(vp))
			break;
		ret = vp->be->ops->dma_unmap(vp->be, r->gpa, r->size);
		if (ret)
			log_warn("%s: DMA unmap 0x%llx: %s", vp->dev.id,
				 (unsigned long long)r->gpa, strerror(-ret));
	}
	vp->nr_dma = 0;
}

static void log_layout(struct vfio_pci *vp)
{
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NR_BARS; i++) {
		const struct vfio_pci_bar *b = &vp->bars[i];

		if (!b->size)
			continue;
		log_debug("%s: BAR%u %s%s 0x%llx bytes at 0x%llx, %u mmapped area(s)",
			  vp->dev.id, i, (b->flags & PCI_BAR_F_IO) ? "io" : "mem",
			  (b->flags & PCI_BAR_F_MEM64) ? "64" : "",
			  (unsigned long long)b->size,
			  (unsigned long long)pci_dev__bar_addr(vp->pdev, i),
			  b->nr_maps);
	}
	log_info("%s: PCI slot %d, %u MSI-X and %u MSI vector(s), %u RAM region(s) mapped for DMA",
		 vp->dev.id, pci_dev__slot(vp->pdev), vp->msix.nvec,
		 vp->msi.nvec, vp->nr_dma);
}

int vfio_pci__create(const struct vfio_pci_env *env, const char *id,
		     struct vfio_backend *be, struct vfio_pci **out)
{
	struct vfio_device_desc desc;
	struct vfio_pci *vp;
	int ret;

	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		be->ops->destroy(be);
		return -ENOMEM;
	}
	vp->dev.type = &vfio_pci_type;
	snprintf(vp->dev.id, sizeof(vp->dev.id), "%s", id);
	vp->env = *env;
	vp->be = be;
	vp->epfd = -1;
	vp->intx = (struct vfio_pci_intx){ .trigger = -1, .resample = -1, .gsi = -1 };
	pthread_mutex_init(&vp->bar_lock, NULL);
	pthread_mutex_init(&vp->irq_lock, NULL);

	ret = be->ops->get_device_info(be, &desc);
	if (ret) {
		log_err("%s: device info: %s", id, strerror(-ret));
		goto err;
	}
	if (!(desc.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    desc.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		log_err("%s: not a PCI device (flags 0x%x, %u regions)", id,
			desc.flags, desc.num_regions);
		ret = -ENOTSUP;
		goto err;
	}
	vp->dev_flags = desc.flags;
	ret = vfio_pci__build_config(vp, &vfio_pci_dev_ops);
	if (ret)
		goto err;
	ret = vfio_pci__map_regions(vp);
	if (ret)
		goto err;
	ret = dma_map_ram(vp);
	if (ret)
		goto err;
	ret = pci__register_device(env->pbus, vp->pdev, -1);
	if (ret) {
		log_err("%s: cannot plug into the PCI bus: %s", id,
			strerror(-ret));
		goto err;
	}
	/* Routed now: INTx is live until the guest turns MSI(-X) on. */
	pthread_mutex_lock(&vp->irq_lock);
	vfio_pci__intx_sync(vp);
	pthread_mutex_unlock(&vp->irq_lock);
	log_layout(vp);
	*out = vp;
	return 0;

err:
	vfio_pci__destroy(vp);
	return ret;
}

void vfio_pci__destroy(struct vfio_pci *vp)
{
	if (!vp)
		return;
	vfio_pci__mig_exit(vp);
	/* Interrupts first: the event loop must not reach a freed pdev. */
	vfio_pci__irqs_exit(vp);
	pci_dev__destroy(vp->pdev); /* unplugs: bar_unmap drops memslots */
	vp->pdev = NULL;
	if (vp->env.unmap)
		vfio_pci__drop_memslots(vp);
	vfio_pci__unmap_regions(vp);
	dma_unmap_ram(vp);
	if (vp->be)
		vp->be->ops->destroy(vp->be);
	vp->be = NULL;
	pthread_mutex_destroy(&vp->irq_lock);
	pthread_mutex_destroy(&vp->bar_lock);
	free(vp);
}

struct device *vfio_pci__device(struct vfio_pci *vp)
{
	return &vp->dev;
}

struct pci_dev *vfio_pci__pci_dev(struct vfio_pci *vp)
{
	return vp->pdev;
}

/* --- the ferry device type --- */

static int vm_map(void *opaque, uint64_t gpa, uint64_t size, void *hva,
		  unsigned int *slot)
{
	return vm__map_memslot(opaque, gpa, size, hva, slot);
}

static int vm_unmap(void *opaque, unsigned int slot)
{
	return vm__unmap_memslot(opaque, slot);
}

/* The one place that knows the backends. */
static int open_backend(const struct vfio_config *cfg,
			struct vfio_backend **out)
{
	switch (cfg->kind) {
	case VFIO_KIND_USER:
		return vfio_user__connect(cfg->id, cfg->path, NULL, out);
	case VFIO_KIND_KERNEL:
		return vfio_kernel__open(cfg->id, cfg->path, NULL, out);
	default:
		log_err("%s: unknown VFIO backend kind %d", cfg->id, cfg->kind);
		return -EINVAL;
	}
}

static int vfio_pci_type_create(struct vm *vm, const void *arg,
				struct device **out)
{
	const struct vfio_config *cfg = arg;
	struct vfio_backend *be;
	struct vfio_pci_env env;
	struct vfio_pci *vp;
	int ret;

	if (!cfg)
		return -EINVAL;
	env = (struct vfio_pci_env){
		.pbus = pci_host__bus(vm),
		.routes = pci_host__irq_route(vm),
		.mem = vm__mem(vm),
		.loop = vm__event_loop(vm),
		.map = vm_map,
		.unmap = vm_unmap,
		.opaque = vm,
	};
	if (!env.pbus) {
		log_err("%s: the VM has no PCI host bridge", cfg->id);
		return -ENODEV;
	}
	ret = open_backend(cfg, &be);
	if (ret)
		return ret;
	ret = vfio_pci__create(&env, cfg->id, be, &vp);
	if (ret)
		return ret;
	ret = vfio_pci__mig_init(vp, cfg->migration);
	if (ret) {
		vfio_pci__destroy(vp);
		return ret;
	}
	*out = &vp->dev;
	return 0;
}

static void vfio_pci_type_destroy(struct device *dev)
{
	if (dev)
		vfio_pci__destroy(container_of(dev, struct vfio_pci, dev));
}

/*
 * VM pause: the vCPUs are stopped; the device must stop its DMA and
 * interrupts too, which the migration FSM does (RUNNING -> STOP). A
 * device without migration support cannot be stopped: it keeps
 * running while the VM is paused (and blocks snapshots).
 */
static int vfio_pci_type_pause(struct device *dev)
{
	struct vfio_pci *vp = container_of(dev, struct vfio_pci, dev);

	vp->paused = true;
	return vfio_mig__vm_stop(vp->mig);
}

static int vfio_pci_type_pause_prepare(struct device *dev)
{
	return vfio_mig__vm_prepare_stop(container_of(dev, struct vfio_pci, dev)->mig);
}

static int vfio_pci_type_resume_prepare(struct device *dev)
{
	return vfio_mig__vm_prepare_start(container_of(dev, struct vfio_pci, dev)->mig);
}

static int vfio_pci_type_resume(struct device *dev)
{
	struct vfio_pci *vp = container_of(dev, struct vfio_pci, dev);

	vp->paused = false;
	return vfio_mig__vm_start(vp->mig);
}

static int vfio_pci_type_mig_register(struct device *dev, struct migration *mig)
{
	struct vfio_pci *vp = container_of(dev, struct vfio_pci, dev);

	return vp->mig ? vfio_mig__register(vp->mig, mig) : 0;
}

/*
 * GET /vm: the PCI address and the migration support probed at create
 * (vfio-migration.c caches both; nothing here talks to the device).
 */
static void vfio_pci_type_describe(struct device *dev, struct device_info *info)
{
	struct vfio_pci *vp = container_of(dev, struct vfio_pci, dev);
	int slot = pci_dev__slot(vp->pdev);
	const char *blocker;
	uint64_t flags;

	if (slot >= 0) {
		info->pci.present = true;
		info->pci.slot = (uint8_t)slot;
	}
	if (!vp->mig)
		return;
	flags = vfio_mig__flags(vp->mig);
	blocker = vfio_mig__blocker(vp->mig);
	info->vfio.mig_known = true;
	info->vfio.stop_copy = flags & VFIO_MIGRATION_STOP_COPY;
	info->vfio.pre_copy = flags & VFIO_MIGRATION_PRE_COPY;
	info->vfio.p2p = flags & VFIO_MIGRATION_P2P;
	info->vfio.dirty_tracking = vfio_mig__dirty_tracking(vp->mig);
	snprintf(info->vfio.blocker, sizeof(info->vfio.blocker), "%s",
		 blocker ? blocker : "");
}

/*
 * No .reset: the function is reset with its bus (pci-host's reset ->
 * pci__reset -> pci_dev_ops.reset above), which also restores config.
 */
const struct device_type vfio_pci_type = {
	.name = "vfio-pci",
	.phase = DEVICE_PHASE_PCI,
	.create = vfio_pci_type_create,
	.destroy = vfio_pci_type_destroy,
	.pause_prepare = vfio_pci_type_pause_prepare,
	.pause = vfio_pci_type_pause,
	.resume_prepare = vfio_pci_type_resume_prepare,
	.resume = vfio_pci_type_resume,
	.mig_register = vfio_pci_type_mig_register,
	.describe = vfio_pci_type_describe,
};
