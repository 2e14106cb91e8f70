/*
 * config-json-emit.c: writing struct vm_config as JSON, for the "config"
 * member of `GET /vm` and the configuration saved with snapshots and
 * sent ahead of a live migration. The output is exactly what
 * config-json.c reads back (docs/api.md, "Configuration schema"), so a
 * running VM's configuration can be saved and started again.
 */
#include "vmm/config-json-emit.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vmm/config-json-internal.h"
#include "vmm/config.h"
#include "vmm/json-util.h"

static struct json_object *vfio_to_json(const struct vfio_config *dev)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	if (!o)
		return NULL;
	ok = json_util__add(o, "kind", json_object_new_string(config_json_vfio_kind_names[dev->kind])) &&
	     json_util__add(o, "id", json_object_new_string(dev->id)) &&
	     json_util__add(o, dev->kind == VFIO_KIND_USER ? "socket" : "path",
		 json_object_new_string(dev->path)) &&
	     json_util__add(o, "migration",
		 json_object_new_string(config_json_migration_names[dev->migration]));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *config__to_json_object(const struct vm_config *cfg)
{
	struct json_object *o, *arr;
	char serial[PATH_MAX + 8];
	unsigned int i;
	bool ok;

	o = json_object_new_object();
	arr = json_object_new_array();
	if (!o || !arr)
		goto err;
	if (cfg->serial == SERIAL_FILE)
		snprintf(serial, sizeof(serial), "file:%s", cfg->serial_path);
	else
		snprintf(serial, sizeof(serial), "%s",
			 config_json_serial_names[cfg->serial]);
	ok = json_util__add(o, "kernel", json_object_new_string(cfg->kernel)) &&
	     (!cfg->initrd[0] ||
	      json_util__add(o, "initrd", json_object_new_string(cfg->initrd))) &&
	     json_util__add(o, "cmdline", json_object_new_string(cfg->cmdline)) &&
	     json_util__add(o, "memory", json_object_new_int64((int64_t)cfg->mem_size)) &&
	     json_util__add(o, "vcpus", json_object_new_int64(cfg->vcpus)) &&
	     json_util__add(o, "serial", json_object_new_string(serial)) &&
	     (!cfg->api_sock[0] ||
	      json_util__add(o, "api_sock", json_object_new_string(cfg->api_sock))) &&
	     json_util__add(o, "seccomp",
		 json_object_new_string(config_json_seccomp_names[cfg->seccomp])) &&
	     json_util__add(o, "cpuid_compat", json_object_new_boolean(cfg->cpuid_compat)) &&
	     json_util__add(o, "acpi", json_object_new_boolean(!cfg->no_acpi));
	if (!ok)
		goto err;
	for (i = 0; i < cfg->nr_vfio && i < CONFIG_MAX_VFIO; i++) {
		struct json_object *dev = vfio_to_json(&cfg->vfio[i]);

		if (!dev || json_object_array_add(arr, dev)) {
			json_object_put(dev);
			goto err;
		}
	}
	if (!json_util__add(o, "vfio", arr)) {
		arr = NULL; /* json_util__add() dropped it */
		goto err;
	}
	return o;

err:
	json_object_put(arr);
	json_object_put(o);
	return NULL;
}

char *config__to_json(const struct vm_config *cfg)
{
	struct json_object *o = config__to_json_object(cfg);
	const char *s;
	size_t len;
	char *out = NULL;

	if (!o)
		return NULL;
	s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	if (s) {
		out = malloc(len + 2);
		if (out) {
			memcpy(out, s, len);
			out[len] = '\n';
			out[len + 1] = '\0';
		}
	}
	json_object_put(o);
	return out;
}
