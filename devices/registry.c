/*
 * registry.c: the table of all device types, ordered by init phase.
 * Legacy devices are created for every VM; bus and PCI devices when the
 * configuration asks for them.
 */
#include "devices/registry.h"

#include <string.h>

#include "devices/device.h"
#include "devices/legacy/debug-exit.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/serial-8250.h"
#include "devices/pci/pci-host.h"
#include "devices/vfio/vfio-pci.h"
#include "vmm/util.h"

static const struct device_type *const types[] = {
	&serial_8250_type,
	&i8042_type,
	&debug_exit_type,
	&pci_host_type,
	&vfio_pci_type,
};

const struct device_type *const *registry__types(size_t *n)
{
	*n = ARRAY_SIZE(types);
	return types;
}

const struct device_type *registry__find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}
