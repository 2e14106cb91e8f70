/*
 * config-json-emit.h: struct vm_config -> JSON (vmm/config-json-emit.c),
 * in the schema config-json.h reads (docs/api.md, "Configuration
 * schema"). Uses json-c; callable from any thread (no shared state).
 */
#ifndef VMM_CONFIG_JSON_EMIT_H
#define VMM_CONFIG_JSON_EMIT_H

struct vm_config;
struct json_object;

/*
 * Build the JSON object for @cfg. The caller owns the result
 * (json_object_put). Returns NULL on allocation failure.
 */
struct json_object *config__to_json_object(const struct vm_config *cfg);

/*
 * @cfg as pretty-printed JSON text with a trailing newline; the caller
 * frees it. Returns NULL on allocation failure.
 */
char *config__to_json(const struct vm_config *cfg);

#endif /* VMM_CONFIG_JSON_EMIT_H */
