/*
 * json-util.c: small json-c helpers that the API replies (api-devices.c)
 * and the configuration writer (config-json-emit.c) share.
 */
#include "vmm/json-util.h"

#include <json-c/json.h>

bool json_util__add(struct json_object *o, const char *key,
		    struct json_object *v)
{
	if (!v)
		return false;
	/* json_object_object_add only fails on allocation failure. */
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return false;
	}
	return true;
}
