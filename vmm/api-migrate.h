/*
 * api-migrate.h: the JSON side of the live-migration endpoints
 * (PUT/GET/DELETE /migration), used by api-routes.c's route table:
 * parsing the PUT body into struct vm_migrate_params and turning a
 * struct live_status into the reply. API thread only.
 */
#ifndef VMM_API_MIGRATE_H
#define VMM_API_MIGRATE_H

#include <stddef.h>

struct api;
struct json_object;
struct vmm_request;
struct vmm_response;

/*
 * Body of PUT /migration into req->migrate:
 *   {"url": "tcp:ADDR:PORT" | "unix:PATH",   required
 *    "downtime_limit_ms": 1..60000, "max_iterations": 1..10000,
 *    "timeout_ms": 1..86400000, "on_timeout": "switchover" | "fail",
 *    "max_bandwidth": bytes/s (0 = unlimited), "ignore_blockers": bool,
 *    "channels": 1..LIVE_MAX_CHANNELS (RAM connections of the first pass)}
 * Returns 0, or -EINVAL with "$.key: reason" in @err.
 */
int api_migrate__parse(struct json_object *o, struct vmm_request *req,
		       char *err, size_t errlen);

/* The reply of all three endpoints: resp->migration as JSON (NULL: ENOMEM). */
struct json_object *api_migrate__reply(const struct api *api,
				       const struct vmm_response *resp);

#endif /* VMM_API_MIGRATE_H */
