/*
 * control-devices.c: gathers the device list that `GET /vm` reports.
 * Runs on the VMM thread, the owner of struct vm: it walks the VM's
 * devices in creation order, copies the generic facts (id, type name,
 * failure), lets each type's optional describe hook add what only the
 * model knows (PCI address, VFIO migration support), and adds a VFIO
 * device's backend and path from the VM's configuration. The result is
 * plain data; the API thread never sees a device.
 */
#include "vmm/control-devices.h"

#include <stdio.h>
#include <string.h>

#include "devices/device-info.h"
#include "devices/device.h"
#include "vmm/config.h"
#include "vmm/request.h"
#include "vmm/vm-internal.h"

/* GET /vm has room for every device a VM can hold. */
_Static_assert(VMM_MAX_DEVICES >= VM_MAX_DEVICES, "VMM_MAX_DEVICES");

/* The configured VFIO device with id @id, or NULL. */
static const struct vfio_config *vfio_config_of(const struct vm_config *cfg,
						const char *id)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_vfio && i < CONFIG_MAX_VFIO; i++)
		if (strcmp(cfg->vfio[i].id, id) == 0)
			return &cfg->vfio[i];
	return NULL;
}

static void describe_one(struct vm *vm, struct device *dev,
			 struct device_info *info)
{
	const struct vfio_config *vc;

	memset(info, 0, sizeof(*info));
	snprintf(info->id, sizeof(info->id), "%s", dev->id);
	snprintf(info->type, sizeof(info->type), "%s",
		 dev->type && dev->type->name ? dev->type->name : "unknown");
	/* Set by whichever thread saw the failure first. */
	info->failed = __atomic_load_n(&dev->failed, __ATOMIC_ACQUIRE);
	if (dev->type && dev->type->describe)
		dev->type->describe(dev, info);
	vc = vfio_config_of(&vm->cfg, dev->id);
	if (!vc)
		return;
	info->vfio.present = true;
	snprintf(info->vfio.backend, sizeof(info->vfio.backend), "%s",
		 vc->kind == VFIO_KIND_USER ? "vfio-user" : "vfio");
	snprintf(info->vfio.path, sizeof(info->vfio.path), "%s", vc->path);
}

unsigned int control__describe_devices(struct vm *vm, struct device_info *out,
				       unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_devices && i < VM_MAX_DEVICES && n < max; i++) {
		if (!vm->devices[i])
			continue;
		describe_one(vm, vm->devices[i], &out[n++]);
	}
	return n;
}
