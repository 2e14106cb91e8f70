/*
 * config-json.h: JSON -> struct vm_config (vmm/config-json.c), the
 * schema of `ferry --config FILE.json` and of the "config" member of
 * `GET /vm`, so a running VM's configuration can be saved and started
 * again; the other direction is config-json-emit.h. The schema is
 * documented in docs/api.md ("Configuration schema").
 * Uses json-c; callable from any thread (no shared state).
 */
#ifndef VMM_CONFIG_JSON_H
#define VMM_CONFIG_JSON_H

#include <stddef.h>

#include "vmm/util.h"

struct vm_config;
struct json_object;

/* Largest configuration file accepted (a full config is ~40 KiB). */
#define CONFIG_JSON_MAX_FILE (1U << 20)

/*
 * Read the JSON file @path and apply it over @cfg (call config__init
 * first): members present replace the field, absent members keep it;
 * "vfio", when present, replaces the whole device list. Unknown keys,
 * wrong types and out-of-range values are rejected with the JSON path
 * of the offending member ("$.vfio[1].migration: ..."). Whole-config
 * checks (kernel given, unique ids) are left to config__validate, since
 * command-line flags may still change the result. On error @cfg is
 * unchanged, one line goes to @err, and -EINVAL (content), -EFBIG (file
 * too large), -ENOMEM or the open/read -errno is returned.
 */
int __must_check config__load_json(struct vm_config *cfg, const char *path,
				   char *err, size_t errlen);

/*
 * Apply the JSON object @root over @cfg, with the rules of
 * config__load_json. Returns 0 or -EINVAL/-ENOMEM with @err filled.
 */
int __must_check config__from_json_object(struct vm_config *cfg,
					  struct json_object *root,
					  char *err, size_t errlen);

/*
 * Parse @len bytes of @text strictly (RFC 8259, valid UTF-8, nesting
 * bounded, nothing but whitespace after the value). Returns the new
 * object (caller puts it), or NULL with a one-line reason in @err.
 */
struct json_object *config__json_parse_text(const char *text, size_t len,
					    char *err, size_t errlen);

#endif /* VMM_CONFIG_JSON_H */
