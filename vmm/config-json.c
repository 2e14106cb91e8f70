/*
 * config-json.c: reading the JSON form of struct vm_config (`ferry
 * --config`, snapshot and migration configs). Parsing is strict: the
 * text must be RFC 8259 JSON, every member is type- and range-checked,
 * unknown keys are errors, and each error names the JSON path of the
 * offending member. json-c does the parsing; this file only maps
 * members to fields. Writing is in config-json-emit.c.
 */
#include "vmm/config-json.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vmm/config-json-internal.h"
#include "vmm/config.h"
#include "vmm/mem.h"

/* Room for "$.vfio[7].migration" and a quoted, clipped unknown key. */
#define PATH_BUF 96
/* Unknown keys are quoted in errors clipped to this many bytes. */
#define KEY_CLIP 40

const char *const config_json_serial_names[CONFIG_JSON_NR_SERIAL] = {
	[SERIAL_STDOUT] = "stdout",
	[SERIAL_FILE] = "file",
	[SERIAL_NONE] = "none",
};
const char *const config_json_seccomp_names[CONFIG_JSON_NR_SECCOMP] = {
	[SECCOMP_MODE_KILL] = "kill",
	[SECCOMP_MODE_TRAP] = "trap",
	[SECCOMP_MODE_LOG] = "log",
	[SECCOMP_MODE_OFF] = "off",
};
const char *const config_json_vfio_kind_names[CONFIG_JSON_NR_VFIO_KIND] = {
	[VFIO_KIND_USER] = "vfio-user",
	[VFIO_KIND_KERNEL] = "vfio",
};
const char *const config_json_migration_names[CONFIG_JSON_NR_MIGRATION] = {
	[VFIO_MIGRATION_AUTO] = "auto",
	[VFIO_MIGRATION_ON] = "on",
	[VFIO_MIGRATION_OFF] = "off",
};

static int __printf(4, 5) fail(char *err, size_t errlen, const char *path,
			       const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", path, msg);
	return -EINVAL;
}

/* "$.parent.key" with @key clipped and non-printables replaced. */
static void child_path(char *out, const char *parent, const char *key)
{
	char k[KEY_CLIP + 1];
	size_t i;

	for (i = 0; key[i] && i < KEY_CLIP; i++)
		k[i] = isprint((unsigned char)key[i]) ? key[i] : '?';
	k[i] = '\0';
	snprintf(out, PATH_BUF, "%s.%s%s", parent, k, key[i] ? "..." : "");
}

static const char *type_name(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

static int get_string(struct json_object *v, const char *path, char *dst,
		      size_t dstlen, char *err, size_t errlen)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, path, "expected a string, got %s",
			    type_name(v));
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return fail(err, errlen, path, "contains a NUL character");
	if (len >= dstlen)
		return fail(err, errlen, path,
			    "too long (%zu bytes, at most %zu)", len,
			    dstlen - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

static int get_uint(struct json_object *v, const char *path, uint64_t min,
		    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return fail(err, errlen, path, "expected an integer, got %s",
			    type_name(v));
	n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return fail(err, errlen, path,
			    "%lld is out of range (%llu to %llu)", (long long)n,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

/* Map a string member onto an index of @names (NULL entries skipped). */
static int get_enum(struct json_object *v, const char *path,
		    const char *const *names, size_t n, int *out, char *err,
		    size_t errlen)
{
	char choices[128] = "";
	const char *s;
	size_t i;

	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, path, "expected a string, got %s",
			    type_name(v));
	s = json_object_get_string(v);
	for (i = 0; i < n; i++) {
		if (names[i] && strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(choices);

		snprintf(choices + l, sizeof(choices) - l, "%s\"%s\"",
			 i ? ", " : "", names[i]);
	}
	return fail(err, errlen, path, "must be one of %s", choices);
}

static int get_memory(struct json_object *v, uint64_t *out, char *err,
		      size_t errlen)
{
	const char *path = "$.memory";
	uint64_t n;
	int ret;

	if (json_object_is_type(v, json_type_string)) {
		ret = config__parse_size(json_object_get_string(v), &n);
		if (ret)
			return fail(err, errlen, path,
				    "\"%s\" is not a size (bytes, or a number with K, M, G or T)",
				    json_object_get_string(v));
	} else if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return fail(err, errlen, path, "must not be negative");
		n = (uint64_t)json_object_get_int64(v);
	} else {
		return fail(err, errlen, path,
			    "expected a number of bytes or a size string, got %s",
			    type_name(v));
	}
	if (n < MEM_MIN_SIZE || n > MEM_MAX_SIZE)
		return fail(err, errlen, path,
			    "%llu bytes is out of range (%llu MiB to %llu GiB)",
			    (unsigned long long)n,
			    (unsigned long long)(MEM_MIN_SIZE >> 20),
			    (unsigned long long)(MEM_MAX_SIZE >> 30));
	/* Guest RAM is mapped in whole 4 KiB pages. */
	if (n % 4096)
		return fail(err, errlen, path,
			    "must be a multiple of 4 KiB (%llu is not)",
			    (unsigned long long)n);
	*out = n;
	return 0;
}

static int get_serial(struct json_object *v, struct vm_config *cfg,
		      char *err, size_t errlen)
{
	const char *path = "$.serial";
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, path, "expected a string, got %s",
			    type_name(v));
	s = json_object_get_string(v);
	if (strcmp(s, config_json_serial_names[SERIAL_STDOUT]) == 0) {
		cfg->serial = SERIAL_STDOUT;
		cfg->serial_path[0] = '\0';
	} else if (strcmp(s, config_json_serial_names[SERIAL_NONE]) == 0) {
		cfg->serial = SERIAL_NONE;
		cfg->serial_path[0] = '\0';
	} else if (strncmp(s, "file:", 5) == 0 && s[5]) {
		if (strlen(s + 5) >= sizeof(cfg->serial_path))
			return fail(err, errlen, path, "file path too long");
		cfg->serial = SERIAL_FILE;
		snprintf(cfg->serial_path, sizeof(cfg->serial_path), "%s",
			 s + 5);
	} else {
		return fail(err, errlen, path,
			    "must be \"stdout\", \"none\" or \"file:PATH\"");
	}
	return 0;
}

static int get_vfio_one(struct json_object *o, const char *path,
			struct vfio_config *dev, char *err, size_t errlen)
{
	struct json_object *kind;
	const char *where_key;
	char sub[PATH_BUF];
	bool have_id = false, have_where = false;
	int ret, k;

	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, path, "expected an object, got %s",
			    type_name(o));
	memset(dev, 0, sizeof(*dev));
	if (!json_object_object_get_ex(o, "kind", &kind))
		return fail(err, errlen, path, "missing \"kind\"");
	child_path(sub, path, "kind");
	ret = get_enum(kind, sub, config_json_vfio_kind_names,
		       ARRAY_SIZE(config_json_vfio_kind_names), &k, err, errlen);
	if (ret)
		return ret;
	dev->kind = (enum vfio_kind)k;
	where_key = dev->kind == VFIO_KIND_USER ? "socket" : "path";

	json_object_object_foreach(o, key, val) {
		child_path(sub, path, key);
		if (strcmp(key, "kind") == 0) {
			continue;
		} else if (strcmp(key, "id") == 0) {
			ret = get_string(val, sub, dev->id, sizeof(dev->id),
					 err, errlen);
			if (!ret && !dev->id[0])
				ret = fail(err, errlen, sub, "must not be empty");
			have_id = true;
		} else if (strcmp(key, where_key) == 0) {
			ret = get_string(val, sub, dev->path,
					 sizeof(dev->path), err, errlen);
			if (!ret && !dev->path[0])
				ret = fail(err, errlen, sub, "must not be empty");
			have_where = true;
		} else if (strcmp(key, "socket") == 0 ||
			   strcmp(key, "path") == 0) {
			ret = fail(err, errlen, sub,
				   "not valid for kind \"%s\" (use \"%s\")",
				   config_json_vfio_kind_names[dev->kind], where_key);
		} else if (strcmp(key, "migration") == 0) {
			ret = get_enum(val, sub, config_json_migration_names,
				       ARRAY_SIZE(config_json_migration_names), &k, err,
				       errlen);
			dev->migration = (enum vfio_migration_mode)k;
		} else {
			ret = fail(err, errlen, sub, "unknown key");
		}
		if (ret)
			return ret;
	}
	if (!have_id)
		return fail(err, errlen, path, "missing \"id\"");
	if (!have_where)
		return fail(err, errlen, path, "missing \"%s\"", where_key);
	return 0;
}

static int get_vfio(struct json_object *v, struct vm_config *cfg, char *err,
		    size_t errlen)
{
	char path[PATH_BUF];
	size_t i, n;
	int ret;

	if (!json_object_is_type(v, json_type_array))
		return fail(err, errlen, "$.vfio", "expected an array, got %s",
			    type_name(v));
	n = json_object_array_length(v);
	if (n > CONFIG_MAX_VFIO)
		return fail(err, errlen, "$.vfio",
			    "%zu devices, at most %d are supported", n,
			    CONFIG_MAX_VFIO);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "$.vfio[%zu]", i);
		ret = get_vfio_one(json_object_array_get_idx(v, i), path,
				   &cfg->vfio[i], err, errlen);
		if (ret)
			return ret;
	}
	cfg->nr_vfio = (unsigned int)n;
	return 0;
}

static int apply_member(struct vm_config *cfg, const char *key,
			struct json_object *v, char *err, size_t errlen)
{
	char path[PATH_BUF];
	uint64_t n = 0;
	int ret, e = 0;

	child_path(path, "$", key);
	if (strcmp(key, "kernel") == 0)
		return get_string(v, path, cfg->kernel, sizeof(cfg->kernel),
				  err, errlen);
	if (strcmp(key, "initrd") == 0)
		return get_string(v, path, cfg->initrd, sizeof(cfg->initrd),
				  err, errlen);
	if (strcmp(key, "cmdline") == 0)
		return get_string(v, path, cfg->cmdline, sizeof(cfg->cmdline),
				  err, errlen);
	if (strcmp(key, "api_sock") == 0)
		return get_string(v, path, cfg->api_sock,
				  sizeof(cfg->api_sock), err, errlen);
	if (strcmp(key, "memory") == 0)
		return get_memory(v, &cfg->mem_size, err, errlen);
	if (strcmp(key, "vcpus") == 0) {
		ret = get_uint(v, path, 1, CONFIG_MAX_VCPUS, &n, err, errlen);
		if (!ret)
			cfg->vcpus = (unsigned int)n;
		return ret;
	}
	if (strcmp(key, "serial") == 0)
		return get_serial(v, cfg, err, errlen);
	if (strcmp(key, "seccomp") == 0) {
		ret = get_enum(v, path, config_json_seccomp_names,
			       ARRAY_SIZE(config_json_seccomp_names), &e, err, errlen);
		if (!ret)
			cfg->seccomp = (enum seccomp_mode)e;
		return ret;
	}
	if (strcmp(key, "acpi") == 0) {
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, errlen, path,
				    "expected true or false, got %s",
				    type_name(v));
		cfg->no_acpi = !json_object_get_boolean(v);
		return 0;
	}
	if (strcmp(key, "cpuid_compat") == 0) {
		if (!json_object_is_type(v, json_type_boolean))
			return fail(err, errlen, path,
				    "expected true or false, got %s",
				    type_name(v));
		cfg->cpuid_compat = json_object_get_boolean(v);
		return 0;
	}
	if (strcmp(key, "vfio") == 0)
		return get_vfio(v, cfg, err, errlen);
	return fail(err, errlen, path, "unknown key");
}

int config__from_json_object(struct vm_config *cfg, struct json_object *root,
			     char *err, size_t errlen)
{
	struct vm_config *tmp;
	int ret = 0;

	if (!json_object_is_type(root, json_type_object))
		return fail(err, errlen, "$", "expected an object, got %s",
			    type_name(root));
	/* Work on a copy so a failure leaves @cfg untouched. */
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*tmp = *cfg;
	json_object_object_foreach(root, key, val) {
		ret = apply_member(tmp, key, val, err, errlen);
		if (ret)
			break;
	}
	if (!ret)
		*cfg = *tmp;
	free(tmp);
	return ret;
}

struct json_object *config__json_parse_text(const char *text, size_t len,
					    char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	/* json-c takes an int length. */
	if (len > CONFIG_JSON_MAX_FILE) {
		snprintf(err, errlen, "JSON text too large (%zu bytes)", len);
		return NULL;
	}
	tok = json_tokener_new(); /* nesting depth capped at 32 */
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!obj || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			snprintf(err, errlen,
				 "malformed JSON: unexpected end of input");
		else
			snprintf(err, errlen,
				 "malformed JSON at byte %zu: %s", end,
				 json_tokener_error_desc(jerr));
		json_object_put(obj);
		obj = NULL;
	} else {
		while (end < len && isspace((unsigned char)text[end]))
			end++;
		if (end < len) {
			snprintf(err, errlen,
				 "malformed JSON: trailing data at byte %zu",
				 end);
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

static int read_file(const char *path, char **out, size_t *outlen,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	ssize_t r;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto err_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_JSON_MAX_FILE) {
		ret = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err, errlen, "%s: %s", path,
			 ret == -EFBIG ? "larger than 1 MiB" :
					 "not a regular file");
		goto err_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto err_close;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			free(buf);
			goto err_close;
		}
		if (r == 0)
			break; /* shrank under us: parse what is there */
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;

err_close:
	close(fd);
	return ret;
}

int config__load_json(struct vm_config *cfg, const char *path, char *err,
		      size_t errlen)
{
	struct json_object *root;
	char msg[256];
	size_t len = 0;
	char *text = NULL;
	int ret;

	ret = read_file(path, &text, &len, err, errlen);
	if (ret)
		return ret;
	root = config__json_parse_text(text, len, msg, sizeof(msg));
	free(text);
	if (!root) {
		snprintf(err, errlen, "%s: %s", path, msg);
		return -EINVAL;
	}
	ret = config__from_json_object(cfg, root, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", path, msg);
	json_object_put(root);
	return ret;
}
