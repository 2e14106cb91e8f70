/*
 * vfio-pci-mig.c: the VFIO PCI model's part of migration. The device's
 * internal state travels through migration/vfio-migration.c (uAPI v2);
 * this file supplies what the VMM itself virtualizes: the emulated
 * config space with BARs and the command register, and the MSI/MSI-X
 * state, saved as the device's "config state" after its data. On load
 * the PCI core re-applies BAR decode (memslots) and the vectors
 * (irqfds), and the command register is pushed to the device again,
 * which the device's own state replay does not do.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/pci-dev-state.h"
#include "devices/pci/pci-regs.h"
#include "devices/vfio/vfio-pci-internal.h"
#include "migration/state-fdt-read.h"
#include "migration/state-fdt.h"
#include "migration/vfio-migration.h"
#include "vmm/log.h"

#define PBA_WORDS (PCI_MSIX_MAX_VECTORS / 64)

static int cfg_save(void *opaque, struct state_writer *w)
{
	struct vfio_pci *vp = opaque;
	struct pci_dev_state *st;

	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	pci_dev__save_state(vp->pdev, st);
	state__put_u16(w, "pci-vendor-id", st->vendor_id);
	state__put_u16(w, "pci-device-id", st->device_id);
	state__put_u16(w, "pci-msi-cap", st->msi_cap);
	state__put_u16(w, "pci-msix-cap", st->msix_cap);
	state__put_u16(w, "pci-msix-nvec", st->msix_nvec);
	state__put_bytes(w, "pci-config", st->cfg, sizeof(st->cfg));
	state__put_u32(w, "pci-msi-pending", st->msi_pending);
	state__put_bytes(w, "pci-msix-table", st->msix_table,
			 sizeof(st->msix_table));
	state__put_u64_array(w, "pci-msix-pba", st->msix_pba, PBA_WORDS);
	state__put_u8(w, "pci-intx-level", st->intx_level);
	free(st);
	return state_writer__status(w);
}

static int cfg_load(void *opaque, struct state_reader *r, int node)
{
	struct vfio_pci *vp = opaque;
	struct pci_dev_state *st;
	size_t n;
	uint8_t intx;

	if (!vp->staged) {
		vp->staged = calloc(1, sizeof(*vp->staged));
		if (!vp->staged)
			return -ENOMEM;
	}
	st = vp->staged;
	if (state__get_u16(r, node, "pci-vendor-id", &st->vendor_id) ||
	    state__get_u16(r, node, "pci-device-id", &st->device_id) ||
	    state__get_u16(r, node, "pci-msi-cap", &st->msi_cap) ||
	    state__get_u16(r, node, "pci-msix-cap", &st->msix_cap) ||
	    state__get_u16(r, node, "pci-msix-nvec", &st->msix_nvec) ||
	    state__get_bytes(r, node, "pci-config", st->cfg, sizeof(st->cfg)) ||
	    state__get_u32(r, node, "pci-msi-pending", &st->msi_pending) ||
	    state__get_bytes(r, node, "pci-msix-table", st->msix_table,
			     sizeof(st->msix_table)) ||
	    state__get_u64_array(r, node, "pci-msix-pba", st->msix_pba,
				 PBA_WORDS, &n) ||
	    state__get_u8(r, node, "pci-intx-level", &intx))
		return -EINVAL;
	if (n != PBA_WORDS)
		return state__fail(r, node, "pci-msix-pba has %zu words, expected %d",
				   n, PBA_WORDS);
	st->intx_level = intx != 0;
	return 0;
}

static int cfg_apply(void *opaque)
{
	struct vfio_pci *vp = opaque;
	uint16_t cmd;
	int ret;

	if (!vp->staged)
		return -EINVAL;
	ret = pci_dev__load_state(vp->pdev, vp->staged);
	if (ret)
		return ret;
	/* INTx follows the restored MSI/MSI-X enables. */
	pthread_mutex_lock(&vp->irq_lock);
	vfio_pci__intx_sync(vp);
	pthread_mutex_unlock(&vp->irq_lock);
	/* The device's command register: memory decode, bus master. */
	memcpy(&cmd, &vp->staged->cfg[PCI_COMMAND], sizeof(cmd));
	ret = vp->be->ops->region_write(vp->be, VFIO_PCI_CONFIG_REGION_INDEX,
					PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		log_err("%s: restoring the command register failed: %s",
			vp->dev.id, strerror(-ret));
	free(vp->staged);
	vp->staged = NULL;
	return ret;
}

static const struct vfio_mig_config_ops cfg_ops = {
	.save = cfg_save,
	.load = cfg_load,
	.apply = cfg_apply,
};

int vfio_pci__mig_init(struct vfio_pci *vp, enum vfio_migration_mode mode)
{
	return vfio_mig__create(vp->be, vp->dev.id, mode, &cfg_ops, vp,
				&vp->mig);
}

void vfio_pci__mig_exit(struct vfio_pci *vp)
{
	vfio_mig__destroy(vp->mig);
	vp->mig = NULL;
	free(vp->staged);
	vp->staged = NULL;
}
