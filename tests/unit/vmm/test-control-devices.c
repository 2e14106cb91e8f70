/*
 * test-control-devices.c: the device list of GET /vm as the VMM thread
 * gathers it, over a hand-built struct vm (vmm/vm-internal.h) holding
 * devices of made-up types: generic facts for every device, the
 * optional describe hook called (and not needed), a failed device's
 * error, VFIO backend and path taken from the configuration by id, and
 * the output bounded by the caller's room.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/device-info.h"
#include "devices/device.h"
#include "vmm/config.h"
#include "vmm/control-devices.h"
#include "vmm/vm-internal.h"

static unsigned int describe_calls;

static void fake_describe(struct device *dev, struct device_info *info)
{
	describe_calls++;
	/* The caller set the generic fields first. */
	assert_string_equal(info->id, dev->id);
	info->pci.present = true;
	info->pci.slot = 5;
	info->vfio.mig_known = true;
	info->vfio.stop_copy = true;
	strcpy(info->vfio.blocker, "");
}

static const struct device_type plain_type = { .name = "plain" };
static const struct device_type pci_type = { .name = "fake-pci",
					     .describe = fake_describe };

static struct vm *make_vm(struct device *devs, unsigned int n)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	unsigned int i;

	assert_non_null(vm);
	config__init(&vm->cfg);
	for (i = 0; i < n; i++)
		vm->devices[i] = &devs[i];
	vm->nr_devices = n;
	return vm;
}

static void test_control_devices__list(void **state)
{
	struct device devs[3] = {
		{ .type = &plain_type, .id = "serial0" },
		{ .type = &pci_type, .id = "vfio0" },
		{ .type = &pci_type, .id = "vfio1", .failed = -EIO },
	};
	struct device_info out[VM_MAX_DEVICES];
	struct vm *vm = make_vm(devs, 3);

	vm->cfg.nr_vfio = 2;
	vm->cfg.vfio[0] = (struct vfio_config){ .kind = VFIO_KIND_KERNEL,
						.id = "vfio1",
						.path = "/dev/vfio/devices/vfio3" };
	vm->cfg.vfio[1] = (struct vfio_config){ .kind = VFIO_KIND_USER,
						.id = "vfio0",
						.path = "/run/dev.sock" };
	memset(out, 0xa5, sizeof(out)); /* entries are zeroed first */
	describe_calls = 0;
	assert_int_equal(control__describe_devices(vm, out, VM_MAX_DEVICES), 3);
	assert_int_equal(describe_calls, 2);

	assert_string_equal(out[0].id, "serial0");
	assert_string_equal(out[0].type, "plain");
	assert_int_equal(out[0].failed, 0);
	assert_false(out[0].pci.present);
	assert_false(out[0].vfio.present);

	assert_string_equal(out[1].id, "vfio0");
	assert_string_equal(out[1].type, "fake-pci");
	assert_true(out[1].pci.present);
	assert_int_equal(out[1].pci.slot, 5);
	assert_int_equal(out[1].pci.bus, 0);
	assert_true(out[1].vfio.present);
	assert_string_equal(out[1].vfio.backend, "vfio-user");
	assert_string_equal(out[1].vfio.path, "/run/dev.sock");
	assert_true(out[1].vfio.mig_known);
	assert_true(out[1].vfio.stop_copy);
	assert_false(out[1].vfio.pre_copy);

	assert_string_equal(out[2].id, "vfio1");
	assert_int_equal(out[2].failed, -EIO);
	assert_string_equal(out[2].vfio.backend, "vfio");
	assert_string_equal(out[2].vfio.path, "/dev/vfio/devices/vfio3");
	free(vm);
}

static void test_control_devices__bounded(void **state)
{
	struct device devs[3] = {
		{ .type = &plain_type, .id = "a" },
		{ .type = &plain_type, .id = "b" },
		{ .type = &plain_type, .id = "c" },
	};
	struct device_info out[3];
	struct vm *vm = make_vm(devs, 3);

	memset(out, 0, sizeof(out));
	assert_int_equal(control__describe_devices(vm, out, 2), 2);
	assert_string_equal(out[1].id, "b");
	assert_string_equal(out[2].id, ""); /* untouched */
	assert_int_equal(control__describe_devices(vm, out, 0), 0);
	/* A hole in the table is skipped, not reported. */
	vm->devices[1] = NULL;
	assert_int_equal(control__describe_devices(vm, out, 3), 2);
	assert_string_equal(out[1].id, "c");
	vm->nr_devices = 0;
	assert_int_equal(control__describe_devices(vm, out, 3), 0);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_devices__list),
		cmocka_unit_test(test_control_devices__bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
