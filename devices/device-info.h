/*
 * device-info.h: the plain-data description of one device instance that
 * `GET /vm` reports in its "devices" list (docs/api.md): id and type for
 * every device, the PCI address of PCI functions, and for VFIO
 * passthrough devices the backend and the migration support the device
 * reported when it was opened. The VMM thread fills it (vmm/control-
 * devices.c, with the optional device_type.describe hook), the API queue
 * copies it and the API thread turns it into JSON: no pointers, no fds.
 */
#ifndef DEVICES_DEVICE_INFO_H
#define DEVICES_DEVICE_INFO_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* struct device.id and device_type.name both fit in 31 bytes + NUL. */
#define DEVICE_INFO_NAME_MAX 32
/* Room for a VFIO backend's name: "vfio-user" or "vfio". */
#define DEVICE_INFO_BACKEND_MAX 16
/* One human-readable line (a migration blocker's reason). */
#define DEVICE_INFO_LINE_MAX 160

/* Where a PCI function sits; valid when @present. */
struct device_info_pci {
	bool present;
	uint8_t bus;      /* ferry has bus 0 only */
	uint8_t slot;     /* 0..31 */
	uint8_t function; /* 0..7 */
};

/* A VFIO passthrough device; valid when @present. */
struct device_info_vfio {
	bool present;
	char backend[DEVICE_INFO_BACKEND_MAX]; /* "vfio-user" or "vfio" */
	char path[PATH_MAX];    /* server socket or kernel device path */
	bool mig_known;         /* the fields below were probed */
	bool stop_copy;         /* VFIO_MIGRATION_STOP_COPY */
	bool pre_copy;          /* VFIO_MIGRATION_PRE_COPY */
	bool p2p;               /* VFIO_MIGRATION_P2P */
	bool dirty_tracking;    /* DMA dirty logging (live migration) */
	/* Why the device cannot be snapshotted or migrated; "" if it can. */
	char blocker[DEVICE_INFO_LINE_MAX];
};

struct device_info {
	char id[DEVICE_INFO_NAME_MAX];   /* struct device.id */
	char type[DEVICE_INFO_NAME_MAX]; /* device_type.name ("serial-8250") */
	int failed;                      /* 0, or -errno once the device failed */
	struct device_info_pci pci;
	struct device_info_vfio vfio;
};

#endif /* DEVICES_DEVICE_INFO_H */
