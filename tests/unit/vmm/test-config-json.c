/*
 * test-config-json.c: the JSON configuration schema: a full round trip
 * (struct -> JSON -> struct) is lossless, sizes are accepted as bytes
 * or suffixed strings, and every bad key, type or value is rejected
 * with the JSON path of the offending member, leaving the config alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/config-json-emit.h"
#include "vmm/config-json.h"
#include "vmm/config.h"

static char tmpdir[] = "/tmp/ferry-test-cfgjson-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *text, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static void assert_config_equal(const struct vm_config *a,
				const struct vm_config *b)
{
	unsigned int i;

	assert_string_equal(a->kernel, b->kernel);
	assert_string_equal(a->initrd, b->initrd);
	assert_string_equal(a->cmdline, b->cmdline);
	assert_int_equal(a->mem_size, b->mem_size);
	assert_int_equal(a->vcpus, b->vcpus);
	assert_int_equal(a->serial, b->serial);
	if (a->serial == SERIAL_FILE)
		assert_string_equal(a->serial_path, b->serial_path);
	assert_string_equal(a->api_sock, b->api_sock);
	assert_int_equal(a->seccomp, b->seccomp);
	assert_int_equal(a->cpuid_compat, b->cpuid_compat);
	assert_int_equal(a->no_acpi, b->no_acpi);
	assert_int_equal(a->nr_vfio, b->nr_vfio);
	for (i = 0; i < a->nr_vfio; i++) {
		assert_int_equal(a->vfio[i].kind, b->vfio[i].kind);
		assert_string_equal(a->vfio[i].id, b->vfio[i].id);
		assert_string_equal(a->vfio[i].path, b->vfio[i].path);
		assert_int_equal(a->vfio[i].migration, b->vfio[i].migration);
	}
}

static void round_trip(const struct vm_config *in)
{
	struct vm_config out;
	char err[256];
	const char *path;
	char *text;

	text = config__to_json(in);
	assert_non_null(text);
	path = write_tmp("rt.json", text, strlen(text));
	config__init(&out);
	assert_int_equal(config__load_json(&out, path, err, sizeof(err)), 0);
	assert_config_equal(in, &out);
	free(text);
}

static void test_config_json__round_trip_full(void **state)
{
	struct vm_config cfg;

	config__init(&cfg);
	strcpy(cfg.kernel, "/boot/vmlinux \"quoted\" / slash");
	strcpy(cfg.initrd, "/boot/initrd.img");
	strcpy(cfg.cmdline, "console=ttyS0 mode=memtest\tmem=64M é");
	cfg.mem_size = 3ULL << 30;
	cfg.vcpus = 8;
	cfg.serial = SERIAL_FILE;
	strcpy(cfg.serial_path, "/tmp/serial.log");
	strcpy(cfg.api_sock, "/run/ferry.sock");
	cfg.seccomp = SECCOMP_MODE_TRAP;
	cfg.cpuid_compat = true;
	cfg.no_acpi = true;
	cfg.nr_vfio = 2;
	cfg.vfio[0] = (struct vfio_config){ .kind = VFIO_KIND_USER,
					    .id = "nic0",
					    .path = "/run/nic0.sock",
					    .migration = VFIO_MIGRATION_ON };
	cfg.vfio[1] = (struct vfio_config){ .kind = VFIO_KIND_KERNEL,
					    .id = "gpu1",
					    .path = "/dev/vfio/devices/vfio0",
					    .migration = VFIO_MIGRATION_OFF };
	round_trip(&cfg);
}

static void test_config_json__round_trip_defaults(void **state)
{
	struct vm_config cfg;

	config__init(&cfg);
	strcpy(cfg.kernel, "k");
	round_trip(&cfg);
	cfg.serial = SERIAL_NONE;
	cfg.seccomp = SECCOMP_MODE_OFF;
	round_trip(&cfg);
}

static int load_text(struct vm_config *cfg, const char *text, char *err,
		     size_t errlen)
{
	return config__load_json(cfg, write_tmp("t.json", text, strlen(text)),
				 err, errlen);
}

static void test_config_json__memory_forms(void **state)
{
	struct vm_config cfg;
	char err[256];

	config__init(&cfg);
	assert_int_equal(load_text(&cfg, "{\"memory\": \"512M\"}", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.mem_size, 512ULL << 20);
	assert_int_equal(load_text(&cfg, "{\"memory\": 67108864}", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.mem_size, 64ULL << 20);
	assert_int_equal(load_text(&cfg, "{\"memory\": \"2GiB\"}", err,
				   sizeof(err)), 0);
	assert_int_equal(cfg.mem_size, 2ULL << 30);
}

static void test_config_json__partial_keeps_rest(void **state)
{
	struct vm_config cfg;
	char err[256];

	config__init(&cfg);
	strcpy(cfg.kernel, "/from/flags");
	cfg.vcpus = 3;
	assert_int_equal(load_text(&cfg, "  {\"cmdline\": \"x\"}\n", err,
				   sizeof(err)), 0);
	assert_string_equal(cfg.kernel, "/from/flags");
	assert_string_equal(cfg.cmdline, "x");
	assert_int_equal(cfg.vcpus, 3);
	assert_int_equal(cfg.mem_size, CONFIG_DEFAULT_MEM);
	/* An empty object changes nothing. */
	assert_int_equal(load_text(&cfg, "{}", err, sizeof(err)), 0);
	assert_int_equal(cfg.vcpus, 3);
}

struct bad_case {
	const char *json;
	const char *want; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
	{ "{\"foo\": 1}", "$.foo: unknown key" },
	{ "{\"Kernel\": \"x\"}", "$.Kernel: unknown key" },
	{ "{\"kernel\": 5}", "$.kernel: expected a string, got int" },
	{ "{\"kernel\": null}", "$.kernel: expected a string, got null" },
	{ "{\"kernel\": \"a\\u0000b\"}", "$.kernel: contains a NUL" },
	{ "{\"initrd\": []}", "$.initrd: expected a string" },
	{ "{\"cmdline\": {}}", "$.cmdline: expected a string" },
	{ "{\"api_sock\": false}", "$.api_sock: expected a string" },
	{ "{\"vcpus\": \"2\"}", "$.vcpus: expected an integer, got string" },
	{ "{\"vcpus\": 1.5}", "$.vcpus: expected an integer, got double" },
	{ "{\"vcpus\": 0}", "$.vcpus: 0 is out of range (1 to 64)" },
	{ "{\"vcpus\": 65}", "$.vcpus: 65 is out of range" },
	{ "{\"vcpus\": -1}", "$.vcpus: -1 is out of range" },
	{ "{\"memory\": \"12Q\"}", "$.memory: \"12Q\" is not a size" },
	{ "{\"memory\": \"\"}", "$.memory: \"\" is not a size" },
	{ "{\"memory\": -4096}", "$.memory: must not be negative" },
	{ "{\"memory\": 4096}", "$.memory: 4096 bytes is out of range" },
	{ "{\"memory\": \"2T\"}", "$.memory: 2199023255552 bytes is out of range" },
	{ "{\"memory\": 16777217}", "$.memory: must be a multiple of 4 KiB" },
	{ "{\"memory\": true}", "$.memory: expected a number of bytes or a size string, got boolean" },
	{ "{\"serial\": \"tty\"}", "$.serial: must be \"stdout\", \"none\" or \"file:PATH\"" },
	{ "{\"serial\": \"file:\"}", "$.serial: must be" },
	{ "{\"serial\": 1}", "$.serial: expected a string" },
	{ "{\"seccomp\": \"maybe\"}", "$.seccomp: must be one of \"kill\", \"trap\", \"log\", \"off\"" },
	{ "{\"cpuid_compat\": 1}", "$.cpuid_compat: expected true or false" },
	{ "{\"acpi\": \"yes\"}", "$.acpi: expected true or false" },
	{ "{\"vfio\": {}}", "$.vfio: expected an array, got object" },
	{ "{\"vfio\": [1]}", "$.vfio[0]: expected an object, got int" },
	{ "{\"vfio\": [{\"id\": \"a\", \"socket\": \"/s\"}]}", "$.vfio[0]: missing \"kind\"" },
	{ "{\"vfio\": [{\"kind\": \"pci\", \"id\": \"a\"}]}", "$.vfio[0].kind: must be one of \"vfio-user\", \"vfio\"" },
	{ "{\"vfio\": [{\"kind\": \"vfio-user\", \"id\": \"a\", \"socket\": \"/s\"},"
	  " {\"kind\": \"vfio\", \"id\": \"b\", \"socket\": \"/x\"}]}",
	  "$.vfio[1].socket: not valid for kind \"vfio\" (use \"path\")" },
	{ "{\"vfio\": [{\"kind\": \"vfio\", \"id\": \"b\", \"path\": \"/x\", \"migration\": \"maybe\"}]}",
	  "$.vfio[0].migration: must be one of \"auto\", \"on\", \"off\"" },
	{ "{\"vfio\": [{\"kind\": \"vfio\", \"id\": \"b\", \"path\": \"/x\", \"bar\": 1}]}",
	  "$.vfio[0].bar: unknown key" },
	{ "{\"vfio\": [{\"kind\": \"vfio\", \"path\": \"/x\"}]}", "$.vfio[0]: missing \"id\"" },
	{ "{\"vfio\": [{\"kind\": \"vfio-user\", \"id\": \"x\"}]}", "$.vfio[0]: missing \"socket\"" },
	{ "{\"vfio\": [{\"kind\": \"vfio\", \"id\": \"\", \"path\": \"/x\"}]}", "$.vfio[0].id: must not be empty" },
	{ "{\"vfio\": [{\"kind\": \"vfio\", \"id\": \"0123456789012345678901234567890123\", \"path\": \"/x\"}]}",
	  "$.vfio[0].id: too long (34 bytes, at most 31)" },
	{ "[1, 2]", "$: expected an object, got array" },
	{ "\"kernel\"", "$: expected an object, got string" },
	{ "{\"kernel\": \"x\"", "malformed JSON: unexpected end of input" },
	{ "{\"kernel\": \"x\"} {}", "malformed JSON at byte 16" },
	{ "{'kernel': 'x'}", "malformed JSON at byte" },
	{ "{\"kernel\": \"x\",}", "malformed JSON at byte" },
	{ "{\"kernel\": \"\xff\xfe\"}", "malformed JSON at byte" },
	{ "", "malformed JSON: unexpected end of input" },
};

static void test_config_json__bad_input_names_path(void **state)
{
	struct vm_config cfg, orig;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		config__init(&cfg);
		strcpy(cfg.kernel, "/orig");
		orig = cfg;
		err[0] = '\0';
		assert_int_equal(load_text(&cfg, bad_cases[i].json, err,
					   sizeof(err)), -EINVAL);
		if (!strstr(err, bad_cases[i].want))
			fail_msg("case %zu: %s\n  got:  %s\n  want: %s", i,
				 bad_cases[i].json, err, bad_cases[i].want);
		/* The error names the file, then the member. */
		assert_non_null(strstr(err, "/t.json: "));
		assert_config_equal(&orig, &cfg);
	}
}

static void test_config_json__error_leaves_config_unchanged(void **state)
{
	struct vm_config cfg;
	char err[256];

	config__init(&cfg);
	assert_int_equal(load_text(&cfg, "{\"vcpus\": 4, \"cmdline\": \"y\", \"zzz\": 1}",
				   err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg.vcpus, 1);
	assert_string_equal(cfg.cmdline, "");
}

static void test_config_json__too_long_and_deep(void **state)
{
	struct vm_config cfg;
	char err[256];
	char *big;
	size_t n;

	/* A path one byte over PATH_MAX - 1. */
	big = malloc(PATH_MAX + 64);
	assert_non_null(big);
	n = (size_t)snprintf(big, 32, "{\"kernel\": \"");
	memset(big + n, 'a', PATH_MAX);
	strcpy(big + n + PATH_MAX, "\"}");
	config__init(&cfg);
	assert_int_equal(load_text(&cfg, big, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "$.kernel: too long (4096 bytes, at most 4095)"));
	free(big);

	/* Nesting deeper than json-c's limit of 32 is refused. */
	big = malloc(200);
	assert_non_null(big);
	memset(big, '[', 40);
	big[40] = '\0';
	assert_int_equal(load_text(&cfg, big, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed JSON"));
	free(big);

	/* Too many VFIO devices. */
	big = malloc(4096);
	assert_non_null(big);
	strcpy(big, "{\"vfio\": [");
	for (n = 0; n < CONFIG_MAX_VFIO + 1; n++)
		sprintf(big + strlen(big),
			"%s{\"kind\": \"vfio\", \"id\": \"d%zu\", \"path\": \"/p\"}",
			n ? "," : "", n);
	strcat(big, "]}");
	assert_int_equal(load_text(&cfg, big, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "$.vfio: 9 devices, at most 8"));
	free(big);
}

static void test_config_json__file_errors(void **state)
{
	struct vm_config cfg;
	char err[256], path[256];
	FILE *f;

	config__init(&cfg);
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_int_equal(config__load_json(&cfg, path, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "missing.json: No such file"));
	assert_int_equal(config__load_json(&cfg, tmpdir, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fseek(f, CONFIG_JSON_MAX_FILE + 1, SEEK_SET), 0);
	fputc(' ', f);
	fclose(f);
	assert_int_equal(config__load_json(&cfg, path, err, sizeof(err)),
			 -EFBIG);
}

static void test_config_json__output_shape(void **state)
{
	struct vm_config cfg;
	char *text;

	config__init(&cfg);
	strcpy(cfg.kernel, "/k/vmlinux");
	text = config__to_json(&cfg);
	assert_non_null(text);
	/* Slashes are not escaped, sizes are bytes, empty optionals omitted. */
	assert_non_null(strstr(text, "\"kernel\": \"/k/vmlinux\""));
	assert_non_null(strstr(text, "\"memory\": 134217728"));
	assert_non_null(strstr(text, "\"serial\": \"stdout\""));
	assert_non_null(strstr(text, "\"vfio\": ["));
	assert_null(strstr(text, "initrd"));
	assert_null(strstr(text, "api_sock"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_json__round_trip_full),
		cmocka_unit_test(test_config_json__round_trip_defaults),
		cmocka_unit_test(test_config_json__memory_forms),
		cmocka_unit_test(test_config_json__partial_keeps_rest),
		cmocka_unit_test(test_config_json__bad_input_names_path),
		cmocka_unit_test(test_config_json__error_leaves_config_unchanged),
		cmocka_unit_test(test_config_json__too_long_and_deep),
		cmocka_unit_test(test_config_json__file_errors),
		cmocka_unit_test(test_config_json__output_shape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
