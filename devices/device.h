/*
 * device.h: the one interface every device model implements. A device
 * type is a const table of hooks, listed in devices/registry.c; a
 * device instance embeds struct device (use container_of to reach the
 * model's own struct). Devices reach the VM only through the vm__*
 * accessors (memory, bus, irq, event loop).
 */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

#include <stdint.h>

struct vm;
struct device;
struct device_info;
struct migration;

/* Order in which the VM creates devices (lower first). */
enum device_phase {
	DEVICE_PHASE_LEGACY = 0, /* serial, i8042, debug-exit */
	DEVICE_PHASE_BUS,        /* PCI host bridge */
	DEVICE_PHASE_PCI,        /* PCI endpoints (VFIO) */
};

struct device_type {
	const char *name;
	enum device_phase phase;
	/*
	 * Create an instance for @vm. @arg is type-specific plain data
	 * (e.g. a struct vfio_config), borrowed for the call. Returns 0
	 * and *out, or -errno after logging the reason with the device id.
	 */
	int (*create)(struct vm *vm, const void *arg, struct device **out);
	/* Free the instance and everything it owns. NULL-safe. */
	void (*destroy)(struct device *dev);
	/* Optional: return to power-on state. */
	int (*reset)(struct device *dev);
	/*
	 * Optional, VM pause, phase 1: every device's pause_prepare runs
	 * before any device's pause, so devices that can quiesce peer-to-
	 * peer traffic (VFIO RUNNING_P2P) all do so before any of them
	 * stops. Returns 0 or -errno.
	 */
	int (*pause_prepare)(struct device *dev);
	/* Optional, phase 2: stop DMA and interrupts. Returns 0 or -errno. */
	int (*pause)(struct device *dev);
	/* Optional: resume, phase 1 (all devices before any resume). */
	int (*resume_prepare)(struct device *dev);
	/* Optional: undo pause. */
	int (*resume)(struct device *dev);
	/*
	 * Optional: register the device's snapshot/migration handlers
	 * (migration/handler.h) in @mig. A stateful device without it
	 * cannot be snapshotted. Returns 0 or -errno.
	 */
	int (*mig_register)(struct device *dev, struct migration *mig);
	/*
	 * Optional: add what only the model knows to @info (devices/
	 * device-info.h) for `GET /vm`, e.g. its PCI address. The caller
	 * has zeroed @info and set id, type and failed. VMM thread; reads
	 * cached facts only (no device I/O, no blocking).
	 */
	void (*describe)(struct device *dev, struct device_info *info);
};

struct device {
	const struct device_type *type;
	char id[32];    /* stable name: "serial0", "vfio0", ... */
	int failed;     /* set once the device stopped working (-errno) */
};

#endif /* DEVICES_DEVICE_H */
