/*
 * json-util.h: small json-c helpers that the API replies and the
 * configuration writer share.
 */
#ifndef VMM_JSON_UTIL_H
#define VMM_JSON_UTIL_H

#include <stdbool.h>

struct json_object;

/*
 * Add @v (taken over, may be NULL) to object @o under @key. Returns
 * false when @v is NULL or the add fails (allocation); @v is then freed.
 * Chains with && so one false ends a batch of adds.
 */
bool json_util__add(struct json_object *o, const char *key,
		    struct json_object *v);

#endif /* VMM_JSON_UTIL_H */
