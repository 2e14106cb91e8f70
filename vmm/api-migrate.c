/*
 * api-migrate.c: JSON for the live-migration endpoints: strict parsing
 * of the PUT /migration body (known keys, types and ranges) and the
 * status object that GET /migration and ferryctl's progress display
 * read.
 */
#include "vmm/api-migrate.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "migration/live-wire.h"
#include "vmm/request.h"

static int get_uint(struct json_object *val, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int)) {
		snprintf(err, errlen, "$.%s: expected an integer", key);
		return -EINVAL;
	}
	v = json_object_get_int64(val);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
		snprintf(err, errlen, "$.%s: expected %llu..%llu", key,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

int api_migrate__parse(struct json_object *o, struct vmm_request *req,
		       char *err, size_t errlen)
{
	struct vm_migrate_params *p = &req->migrate;
	bool have_url = false;
	uint64_t v;
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (!o) {
		snprintf(err, errlen, "a JSON body with \"url\" is required");
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "url")) {
			const char *s = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    strlen(s) == 0 || strlen(s) >= sizeof(p->url)) {
				snprintf(err, errlen, "$.url: expected a string of 1 to %zu bytes",
					 sizeof(p->url) - 1);
				return -EINVAL;
			}
			memcpy(p->url, s, strlen(s) + 1);
			have_url = true;
		} else if (!strcmp(key, "downtime_limit_ms")) {
			/* 60 s: anything longer is not a live migration. */
			ret = get_uint(val, key, 1, 60000, &v, err, errlen);
			p->live.downtime_limit_ms = (uint32_t)v;
		} else if (!strcmp(key, "max_iterations")) {
			ret = get_uint(val, key, 1, 10000, &v, err, errlen);
			p->live.max_iterations = (uint32_t)v;
		} else if (!strcmp(key, "timeout_ms")) {
			ret = get_uint(val, key, 1, 86400000, &v, err, errlen);
			p->live.timeout_ms = (uint32_t)v;
		} else if (!strcmp(key, "max_bandwidth")) {
			ret = get_uint(val, key, 0, INT64_MAX, &v, err, errlen);
			p->live.max_bandwidth = v;
		} else if (!strcmp(key, "channels")) {
			ret = get_uint(val, key, 1, LIVE_MAX_CHANNELS, &v, err, errlen);
			p->live.channels = (uint32_t)v;
		} else if (!strcmp(key, "on_timeout")) {
			const char *s = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(s, "switchover") && strcmp(s, "fail"))) {
				snprintf(err, errlen, "$.on_timeout: expected \"switchover\" or \"fail\"");
				return -EINVAL;
			}
			p->live.switchover_on_timeout = !strcmp(s, "switchover");
		} else if (!strcmp(key, "switchover_ack")) {
			if (!json_object_is_type(val, json_type_boolean)) {
				snprintf(err, errlen, "$.switchover_ack: expected true or false");
				return -EINVAL;
			}
			p->live.no_switchover_ack = !json_object_get_boolean(val);
		} else if (!strcmp(key, "ignore_blockers")) {
			if (!json_object_is_type(val, json_type_boolean)) {
				snprintf(err, errlen, "$.ignore_blockers: expected true or false");
				return -EINVAL;
			}
			p->ignore_blockers = json_object_get_boolean(val);
		} else {
			snprintf(err, errlen, "$.%.40s: unknown key", key);
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (!have_url) {
		snprintf(err, errlen, "$.url: required");
		return -EINVAL;
	}
	return 0;
}

#define ADD_INT(o, k, v) \
	json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))

struct json_object *api_migrate__reply(const struct api *api,
				       const struct vmm_response *resp)
{
	const struct live_status *st = &resp->migration;
	struct json_object *o = json_object_new_object();

	(void)api;
	if (!o)
		return NULL;
	json_object_object_add(o, "phase",
			       json_object_new_string(live__phase_name(st->phase)));
	if (st->phase == LIVE_PHASE_NONE)
		return o;
	ADD_INT(o, "iteration", st->iteration);
	ADD_INT(o, "bytes_sent", st->bytes_sent);
	ADD_INT(o, "pages_sent", st->pages_sent);
	ADD_INT(o, "zero_pages", st->zero_pages);
	ADD_INT(o, "device_bytes_sent", st->device_bytes_sent);
	ADD_INT(o, "dirty_rate", st->dirty_rate);
	ADD_INT(o, "bandwidth", st->bandwidth);
	ADD_INT(o, "pending_ram", st->pending_ram);
	ADD_INT(o, "pending_device", st->pending_device);
	ADD_INT(o, "expected_downtime_ms", st->expected_downtime_ms);
	json_object_object_add(o, "switchover_acked",
			       json_object_new_boolean(st->switchover_acked));
	ADD_INT(o, "setup_ms", st->setup_ms);
	ADD_INT(o, "total_ms", st->total_ms);
	if (st->phase == LIVE_PHASE_COMPLETED)
		ADD_INT(o, "downtime_ms", st->downtime_ms);
	if (st->message[0])
		json_object_object_add(o, st->phase == LIVE_PHASE_COMPLETED ?
						  "note" : "error",
				       json_object_new_string(st->message));
	return o;
}
