/*
 * api-routes.h: the API's endpoints as data: for each path and method,
 * where the request runs (API thread or VMM thread), how its JSON body
 * is parsed into a struct vmm_request and how the answer is turned into
 * the JSON reply. vmm/api-routes.c defines the table; vmm/api-http.c
 * serves it. Not for use outside vmm/api*.c. API thread only.
 */
#ifndef VMM_API_ROUTES_H
#define VMM_API_ROUTES_H

#include <stddef.h>

#include "vmm/request.h"

struct api;
struct json_object;

enum api_route_kind {
	API_ROUTE_LOCAL,    /* answered by the API thread (no VM state) */
	API_ROUTE_VMM,      /* queued for the VMM thread, bounded wait */
	API_ROUTE_VMM_LONG, /* queued; the connection is suspended until done */
};

/*
 * Build the JSON reply of a successful request (@resp is NULL for
 * API_ROUTE_LOCAL routes). The caller owns the result. NULL: out of
 * memory.
 */
typedef struct json_object *(*api_reply_fn)(const struct api *api,
					    const struct vmm_response *resp);

/*
 * Fill @req's parameters from the request body @o (a JSON object, or
 * NULL when there was no body). 0, or -EINVAL with the reason in @err.
 */
typedef int (*api_parse_fn)(struct json_object *o, struct vmm_request *req,
			    char *err, size_t errlen);

struct api_route {
	const char *path;
	const char *method;
	enum api_route_kind kind;
	enum vmm_req_type req;
	api_reply_fn reply;
	api_parse_fn parse; /* NULL: no parameters (body empty or {}) */
};

/*
 * The route for @method on @url (exact match), or NULL. When the path
 * exists with other methods only, *allow is set to one of them (for a
 * 405 with Allow); else *allow is NULL. The result is static.
 */
const struct api_route *api_routes__find(const char *url, const char *method,
					 const char **allow);

#endif /* VMM_API_ROUTES_H */
