/*
 * api-routes.c: what each API endpoint means: the route table (path,
 * method, where the request runs), the parsers that turn request bodies
 * into struct vmm_request parameters, and the builders that turn the
 * VMM thread's struct vmm_response into the JSON reply. The HTTP
 * mechanics (validation, queueing, suspension, sending) are in
 * vmm/api-http.c; live migration's endpoints in vmm/api-migrate.c.
 * API thread only.
 */
#include "vmm/api-routes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "vmm/api-devices.h"
#include "vmm/api-internal.h"
#include "vmm/api-migrate.h"
#include "vmm/api-version.h"
#include "vmm/config-json-emit.h"
#include "vmm/op-progress.h"
#include "vmm/util.h"

static struct json_object *reply_version(const struct api *api,
					 const struct vmm_response *resp)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string("ferry"));
	json_object_object_add(o, "version",
			       json_object_new_string(FERRY_VERSION));
	json_object_object_add(o, "api_version",
			       json_object_new_int(API_VERSION));
	return o;
}

static struct json_object *reply_info(const struct api *api,
				      const struct vmm_response *resp)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cfg = config__to_json_object(&resp->config);
	struct json_object *devs = api_devices__to_json(
		resp->devices, resp->nr_devices < ARRAY_SIZE(resp->devices) ?
				       resp->nr_devices :
				       ARRAY_SIZE(resp->devices));

	if (!o || !cfg || !devs) {
		json_object_put(o);
		json_object_put(cfg);
		json_object_put(devs);
		return NULL;
	}
	json_object_object_add(o, "state", json_object_new_string(
				   vmm_state_name(resp->info.state)));
	json_object_object_add(o, "uptime_ms",
			       json_object_new_int64((int64_t)resp->info.uptime_ms));
	json_object_object_add(o, "vcpus",
			       json_object_new_int64(resp->info.vcpus));
	json_object_object_add(o, "memory",
			       json_object_new_int64((int64_t)resp->info.mem_size));
	json_object_object_add(o, "config", cfg);
	json_object_object_add(o, "devices", devs);
	return o;
}

static struct json_object *reply_state(const struct api *api,
				       const struct vmm_response *resp)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "state", json_object_new_string(
				   vmm_state_name(resp->info.state)));
	return o;
}

static struct json_object *operation_json(const struct vmm_op_progress *op)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "state", json_object_new_string(
				   vmm_op_state_name(op->state)));
	if (op->state == VMM_OP_NONE)
		return o;
	json_object_object_add(o, "id", json_object_new_int64((int64_t)op->id));
	json_object_object_add(o, "operation", json_object_new_string(op->name));
	json_object_object_add(o, "done_bytes",
			       json_object_new_int64((int64_t)op->done_bytes));
	json_object_object_add(o, "total_bytes",
			       json_object_new_int64((int64_t)op->total_bytes));
	json_object_object_add(o, "elapsed_ms",
			       json_object_new_int64((int64_t)op->elapsed_ms));
	if (op->state == VMM_OP_FAILED)
		json_object_object_add(o, "error",
				       json_object_new_string(op->message));
	return o;
}

/* GET /vm/operation: from the thread-safe record, not the VMM thread. */
static struct json_object *reply_operation(const struct api *api,
					   const struct vmm_response *resp)
{
	struct vmm_op_progress op;

	(void)resp;
	op_progress__get(api->ops, &op);
	return operation_json(&op);
}

/* PUT /snapshot/create: the finished operation. */
static struct json_object *reply_snapshot(const struct api *api,
					  const struct vmm_response *resp)
{
	return operation_json(&resp->op);
}

/* {"path": "DIR", "replace": false}: path required, replace optional. */
static int parse_snapshot(struct json_object *o, struct vmm_request *req,
			  char *err, size_t errlen)
{
	struct vmm_snapshot_params *p = &req->snapshot;
	const char *path;
	size_t len;
	bool have_path = false;

	if (!o) {
		snprintf(err, errlen, "a JSON body with path (and optionally replace) is required");
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "path") == 0) {
			if (!json_object_is_type(val, json_type_string)) {
				snprintf(err, errlen, "$.path: expected a string");
				return -EINVAL;
			}
			path = json_object_get_string(val);
			len = (size_t)json_object_get_string_len(val);
			if (len == 0 || len >= sizeof(p->path) ||
			    strlen(path) != len) {
				snprintf(err, errlen,
					 "$.path: expected 1 to %zu bytes without NUL",
					 sizeof(p->path) - 1);
				return -EINVAL;
			}
			memcpy(p->path, path, len + 1);
			have_path = true;
		} else if (strcmp(key, "replace") == 0) {
			if (!json_object_is_type(val, json_type_boolean)) {
				snprintf(err, errlen, "$.replace: expected true or false");
				return -EINVAL;
			}
			p->replace = json_object_get_boolean(val);
		} else {
			snprintf(err, errlen, "$.%.40s: unknown key", key);
			return -EINVAL;
		}
	}
	if (!have_path) {
		snprintf(err, errlen, "$.path: required");
		return -EINVAL;
	}
	return 0;
}

/* {"path": "DIR", "resume": false, "mode": "lazy"|"copy"}. */
static int parse_load(struct json_object *o, struct vmm_request *req,
		      char *err, size_t errlen)
{
	struct vmm_snapshot_load_params *p = &req->load;
	bool have_path = false;

	if (!o) {
		snprintf(err, errlen, "a JSON body with path is required");
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "path") == 0) {
			const char *path = json_object_get_string(val);
			size_t len = (size_t)json_object_get_string_len(val);

			if (!json_object_is_type(val, json_type_string) ||
			    len == 0 || len >= sizeof(p->path) ||
			    strlen(path) != len) {
				snprintf(err, errlen,
					 "$.path: expected a string of 1 to %zu bytes",
					 sizeof(p->path) - 1);
				return -EINVAL;
			}
			memcpy(p->path, path, len + 1);
			have_path = true;
		} else if (strcmp(key, "resume") == 0) {
			if (!json_object_is_type(val, json_type_boolean)) {
				snprintf(err, errlen, "$.resume: expected true or false");
				return -EINVAL;
			}
			p->resume = json_object_get_boolean(val);
		} else if (strcmp(key, "mode") == 0) {
			const char *m = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(m, "lazy") && strcmp(m, "copy"))) {
				snprintf(err, errlen, "$.mode: expected \"lazy\" or \"copy\"");
				return -EINVAL;
			}
			p->copy = strcmp(m, "copy") == 0;
		} else {
			snprintf(err, errlen, "$.%.40s: unknown key", key);
			return -EINVAL;
		}
	}
	if (!have_path) {
		snprintf(err, errlen, "$.path: required");
		return -EINVAL;
	}
	return 0;
}

static const struct api_route routes[] = {
	{ "/version", "GET", API_ROUTE_LOCAL, 0, reply_version },
	{ "/vm", "GET", API_ROUTE_VMM, VMM_REQ_GET_INFO, reply_info },
	{ "/vm/pause", "PUT", API_ROUTE_VMM, VMM_REQ_PAUSE, reply_state },
	{ "/vm/resume", "PUT", API_ROUTE_VMM, VMM_REQ_RESUME, reply_state },
	{ "/vm/shutdown", "PUT", API_ROUTE_VMM, VMM_REQ_SHUTDOWN, reply_state },
	{ "/vm/operation", "GET", API_ROUTE_LOCAL, 0, reply_operation },
	{ "/snapshot/create", "PUT", API_ROUTE_VMM_LONG, VMM_REQ_SNAPSHOT_CREATE,
	  reply_snapshot, parse_snapshot },
	{ "/snapshot/load", "PUT", API_ROUTE_VMM_LONG, VMM_REQ_SNAPSHOT_LOAD,
	  reply_state, parse_load },
	/* live migration (issue 6): vmm/api-migrate.c */
	{ "/migration", "PUT", API_ROUTE_VMM, VMM_REQ_MIGRATE_START,
	  api_migrate__reply, api_migrate__parse },
	{ "/migration", "GET", API_ROUTE_VMM, VMM_REQ_MIGRATE_STATUS,
	  api_migrate__reply },
	{ "/migration", "DELETE", API_ROUTE_VMM, VMM_REQ_MIGRATE_CANCEL,
	  api_migrate__reply },
};

const struct api_route *api_routes__find(const char *url, const char *method,
					 const char **allow)
{
	size_t i;

	*allow = NULL;
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(routes[i].path, url) != 0)
			continue;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		*allow = routes[i].method;
	}
	return NULL;
}
