/*
 * api-devices.c: the device list of `GET /vm` as JSON. Each entry has
 * the device's id, type and health; PCI functions add their address in
 * the usual domain:bus:slot.function form, VFIO devices their backend,
 * its socket or device path, and the migration support the device
 * reported (docs/api.md, "Devices"). Only what the VMM thread copied
 * into struct device_info is shown; nothing here knows a device.
 */
#include "vmm/api-devices.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "devices/device-info.h"
#include "vmm/json-util.h"

/* "0000:00:1f.7" and a NUL: PCI segment 0 is the only one ferry has. */
#define BDF_LEN 13

static struct json_object *migration_json(const struct device_info_vfio *v)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	if (!o)
		return NULL;
	ok = json_util__add(o, "stop_copy", json_object_new_boolean(v->stop_copy)) &&
	     json_util__add(o, "pre_copy", json_object_new_boolean(v->pre_copy)) &&
	     json_util__add(o, "p2p", json_object_new_boolean(v->p2p)) &&
	     json_util__add(o, "dirty_tracking", json_object_new_boolean(v->dirty_tracking));
	/* null: nothing blocks snapshots or migration. */
	if (v->blocker[0])
		ok = ok &&
		     json_util__add(o, "blocker", json_object_new_string(v->blocker));
	else if (ok && json_object_object_add(o, "blocker", NULL))
		ok = false;
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *vfio_json(const struct device_info_vfio *v)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	if (!o)
		return NULL;
	ok = json_util__add(o, "backend", json_object_new_string(v->backend)) &&
	     json_util__add(o, "path", json_object_new_string(v->path)) &&
	     (!v->mig_known || json_util__add(o, "migration", migration_json(v)));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *device_json(const struct device_info *d)
{
	struct json_object *o = json_object_new_object();
	char bdf[BDF_LEN];
	bool ok;

	if (!o)
		return NULL;
	snprintf(bdf, sizeof(bdf), "0000:%02x:%02x.%x", d->pci.bus,
		 d->pci.slot & 0x1f, d->pci.function & 0x7);
	ok = json_util__add(o, "id", json_object_new_string(d->id)) &&
	     json_util__add(o, "type", json_object_new_string(d->type)) &&
	     json_util__add(o, "failed", json_object_new_boolean(d->failed != 0)) &&
	     (!d->failed ||
	      json_util__add(o, "error", json_object_new_string(strerror(-d->failed)))) &&
	     (!d->pci.present || json_util__add(o, "pci", json_object_new_string(bdf))) &&
	     (!d->vfio.present || json_util__add(o, "vfio", vfio_json(&d->vfio)));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *api_devices__to_json(const struct device_info *devs,
					 unsigned int n)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	if (!arr)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *d = device_json(&devs[i]);

		if (!d || json_object_array_add(arr, d)) {
			json_object_put(d);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}
