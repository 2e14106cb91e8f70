/*
 * debug-exit.c: the isa-debug-exit compatible port. The guest's value is
 * handed to the VM's stop request; vmm/main.c turns it into the exit
 * status, since only main() ends the process.
 */
#include "devices/legacy/debug-exit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* QEMU's device uses iosize=1 in the documented set-up; accept up to 4. */
#define DEBUG_EXIT_LEN 4

struct debug_exit {
	struct device dev;
	struct vm *vm;
};

static void debug_exit_read(void *opaque, uint64_t off, void *data,
			    uint32_t len)
{
	memset(data, 0xff, len);
}

static void debug_exit_write(void *opaque, uint64_t off, const void *data,
			     uint32_t len)
{
	struct debug_exit *d = opaque;
	uint32_t v = 0;

	if (off != 0)
		return;
	memcpy(&v, data, MIN(len, sizeof(v)));
	vm__request_stop(d->vm, VM_STOP_GUEST_EXIT, (int)(v & 0xff));
}

static const struct bus_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

static int debug_exit_create(struct vm *vm, const void *arg,
			     struct device **out)
{
	struct debug_exit *d;
	int ret;

	(void)arg;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev.type = &debug_exit_type;
	strcpy(d->dev.id, "debug-exit");
	d->vm = vm;
	ret = bus__register(vm__bus(vm), BUS_PIO, DEBUG_EXIT_PORT,
			    DEBUG_EXIT_LEN, &debug_exit_ops, d);
	if (ret) {
		log_err("debug-exit: cannot claim port 0x%x", DEBUG_EXIT_PORT);
		free(d);
		return ret;
	}
	*out = &d->dev;
	return 0;
}

static void debug_exit_destroy(struct device *dev)
{
	struct debug_exit *d;

	if (!dev)
		return;
	d = container_of(dev, struct debug_exit, dev);
	bus__unregister(vm__bus(d->vm), BUS_PIO, DEBUG_EXIT_PORT);
	free(d);
}

const struct device_type debug_exit_type = {
	.name = "debug-exit",
	.phase = DEVICE_PHASE_LEGACY,
	.create = debug_exit_create,
	.destroy = debug_exit_destroy,
};
