/*
 * test-cli.c: command-line parsing: defaults, every flag, sizes with
 * suffixes, device arguments, and one clear error per bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/cli.h"
#include "vmm/config.h"
#include "vmm/util.h"

static struct cli_options opts;
static char err[512];

/* getopt may permute the pointer array (never the strings): copy it. */
static int parse_args(const char *const *a)
{
	static char *argv[64];
	int n;

	for (n = 0; a[n] && n < 63; n++)
		argv[n] = (char *)(uintptr_t)a[n];
	argv[n] = NULL;
	return cli__parse(n, argv, &opts, err, sizeof(err));
}

#define PARSE(...) parse_args((const char *const[]){ "ferry", __VA_ARGS__, NULL })

static void expect_error(int ret, const char *needle)
{
	assert_int_equal(ret, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_cli__size_suffixes(void **state)
{
	uint64_t v;

	assert_int_equal(config__parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config__parse_size("64K", &v), 0);
	assert_int_equal(v, 64 * KiB);
	assert_int_equal(config__parse_size("256M", &v), 0);
	assert_int_equal(v, 256 * MiB);
	assert_int_equal(config__parse_size("2G", &v), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(config__parse_size("1GiB", &v), 0);
	assert_int_equal(v, GiB);
	assert_int_equal(config__parse_size("512MB", &v), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(config__parse_size("0x1000", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config__parse_size("010M", &v), 0);
	assert_int_equal(v, 10 * MiB);
	assert_int_equal(config__parse_size("", &v), -EINVAL);
	assert_int_equal(config__parse_size("-1M", &v), -EINVAL);
	assert_int_equal(config__parse_size("12Q", &v), -EINVAL);
	assert_int_equal(config__parse_size("1MX", &v), -EINVAL);
	assert_int_equal(config__parse_size("M", &v), -EINVAL);
	assert_int_equal(config__parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(config__parse_size("17179869184G", &v), -ERANGE);
}

static void test_cli__defaults_and_all_flags(void **state)
{
	assert_int_equal(PARSE("--kernel", "k.elf"), CLI_RUN);
	assert_string_equal(opts.vm.kernel, "k.elf");
	assert_int_equal(opts.vm.mem_size, CONFIG_DEFAULT_MEM);
	assert_int_equal(opts.vm.vcpus, 1);
	assert_int_equal(opts.vm.serial, SERIAL_STDOUT);
	assert_int_equal(opts.vm.seccomp, SECCOMP_MODE_KILL);

	assert_int_equal(PARSE("--kernel", "k", "--initrd", "i", "--cmdline",
			       "console=ttyS0 x=1", "--memory", "1G", "--vcpus",
			       "4", "--serial", "file:/tmp/log", "--api-sock",
			       "/tmp/api", "--seccomp", "trap", "--cpuid-compat",
			       "--no-acpi",
			       "--log-level", "debug", "--user", "1000:1001",
			       "--chroot", "/srv/jail"),
			 CLI_RUN);
	assert_string_equal(opts.vm.initrd, "i");
	assert_string_equal(opts.vm.cmdline, "console=ttyS0 x=1");
	assert_int_equal(opts.vm.mem_size, GiB);
	assert_int_equal(opts.vm.vcpus, 4);
	assert_int_equal(opts.vm.serial, SERIAL_FILE);
	assert_string_equal(opts.vm.serial_path, "/tmp/log");
	assert_string_equal(opts.vm.api_sock, "/tmp/api");
	assert_int_equal(opts.vm.seccomp, SECCOMP_MODE_TRAP);
	assert_true(opts.vm.cpuid_compat);
	assert_true(opts.vm.no_acpi);
	assert_int_equal(opts.log_level, LOG_LEVEL_DEBUG);
	assert_true(opts.have_user);
	assert_int_equal(opts.uid, 1000);
	assert_int_equal(opts.gid, 1001);
	assert_string_equal(opts.chroot_dir, "/srv/jail");

	assert_int_equal(PARSE("--kernel=k", "--serial=none"), CLI_RUN);
	assert_int_equal(opts.vm.serial, SERIAL_NONE);
	assert_int_equal(PARSE("--help"), CLI_HELP);
	assert_int_equal(PARSE("--kernel", "k", "--version"), CLI_VERSION);
}

static void test_cli__vfio_devices(void **state)
{
	assert_int_equal(PARSE("--kernel", "k", "--vfio-user",
			       "id=dev0,socket=/run/d0.sock", "--vfio",
			       "id=nic,path=/dev/vfio/devices/vfio3,migration=off"),
			 CLI_RUN);
	assert_int_equal(opts.vm.nr_vfio, 2);
	assert_int_equal(opts.vm.vfio[0].kind, VFIO_KIND_USER);
	assert_string_equal(opts.vm.vfio[0].id, "dev0");
	assert_string_equal(opts.vm.vfio[0].path, "/run/d0.sock");
	assert_int_equal(opts.vm.vfio[0].migration, VFIO_MIGRATION_AUTO);
	assert_int_equal(opts.vm.vfio[1].kind, VFIO_KIND_KERNEL);
	assert_int_equal(opts.vm.vfio[1].migration, VFIO_MIGRATION_OFF);

	expect_error(PARSE("--kernel", "k", "--vfio-user", "id=a"), "socket=");
	expect_error(PARSE("--kernel", "k", "--vfio-user", "socket=/x"), "id=");
	expect_error(PARSE("--kernel", "k", "--vfio-user", "id=a,socket=/x,color=red"),
		     "unknown key 'color'");
	expect_error(PARSE("--kernel", "k", "--vfio-user", "garbage"), "expected id=NAME");
	expect_error(PARSE("--kernel", "k", "--vfio", "id=a,path=/x,migration=maybe"),
		     "migration must be");
	expect_error(PARSE("--kernel", "k", "--vfio-user", "id=a,socket=/x",
			   "--vfio-user", "id=a,socket=/y"),
		     "duplicate device id 'a'");
	expect_error(PARSE("--kernel", "k", "--vfio-user",
			   "id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,socket=/x"),
		     "too long");
}

static void test_cli__bad_values(void **state)
{
	expect_error(PARSE("--memory", "1G"), "--kernel is required");
	expect_error(PARSE("--kernel", "k", "--memory", "lots"), "--memory 'lots'");
	expect_error(PARSE("--kernel", "k", "--memory", "1M"), "out of range");
	expect_error(PARSE("--kernel", "k", "--memory", "16773120"), "out of range");
	expect_error(PARSE("--kernel", "k", "--memory", "20000001"), "multiple of 4 KiB");
	expect_error(PARSE("--kernel", "k", "--vcpus", "0"), "--vcpus '0'");
	expect_error(PARSE("--kernel", "k", "--vcpus", "65"), "--vcpus '65'");
	expect_error(PARSE("--kernel", "k", "--vcpus", "2x"), "--vcpus '2x'");
	expect_error(PARSE("--kernel", "k", "--serial", "tcp:1"), "--serial 'tcp:1'");
	expect_error(PARSE("--kernel", "k", "--serial", "file:"), "--serial 'file:'");
	expect_error(PARSE("--kernel", "k", "--seccomp", "maybe"), "--seccomp 'maybe'");
	expect_error(PARSE("--kernel", "k", "--user", "root"), "UID:GID");
	expect_error(PARSE("--kernel", "k", "--log-level", "loud"), "--log-level");
	expect_error(PARSE("--kernel", "k", "--frobnicate"), "unknown option '--frobnicate'");
	expect_error(PARSE("--kernel", "k", "stray"), "unexpected argument 'stray'");
	expect_error(PARSE("--kernel"), "needs a value");
}

static void test_cli__restore_and_incoming_modes(void **state)
{
	assert_int_equal(PARSE("--restore", "snap", "--resume", "--restore-mode",
			       "copy"), CLI_RUN);
	assert_string_equal(opts.restore_dir, "snap");
	assert_true(opts.resume);
	assert_true(opts.restore_copy);
	assert_int_equal(PARSE("--wait-restore", "--api-sock", "/tmp/a"), CLI_RUN);
	assert_true(opts.wait_restore);
	assert_int_equal(PARSE("--incoming", "tcp:127.0.0.1:4444"), CLI_RUN);
	assert_string_equal(opts.incoming, "tcp:127.0.0.1:4444");
	assert_int_equal(opts.incoming_mem, 0); /* the source decides */
	/* --memory with --incoming: made while waiting. */
	assert_int_equal(PARSE("--incoming", "tcp:127.0.0.1:4444", "--memory", "1G"),
			 CLI_RUN);
	assert_int_equal(opts.incoming_mem, 1ULL << 30);

	expect_error(PARSE("--restore", "snap", "--kernel", "k"), "from the snapshot");
	expect_error(PARSE("--kernel", "k", "--resume"), "need --restore");
	expect_error(PARSE("--restore", "s", "--restore-mode", "fast"), "lazy or copy");
	expect_error(PARSE("--wait-restore"), "--wait-restore needs --api-sock");
	expect_error(PARSE("--wait-restore", "--api-sock", "a", "--kernel", "k"),
		     "--wait-restore needs --api-sock");
	expect_error(PARSE("--wait-restore", "--api-sock", "a", "--chroot", "/j"),
		     "--wait-restore needs --api-sock");
	expect_error(PARSE("--incoming", "tcp:1.2.3.4:1", "--restore", "s"),
		     "--incoming excludes");
	expect_error(PARSE("--incoming", "tcp:1.2.3.4:1", "--kernel", "k"),
		     "from the source");
}

static void test_cli__config_file_then_flags(void **state)
{
	char path[] = "/tmp/ferry-test-cli-XXXXXX";
	int fd = mkstemp(path);
	const char *json = "{\"kernel\": \"from-file.elf\", \"vcpus\": 2}";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (int)strlen(json));
	close(fd);
	/* The file gives kernel and vcpus; the flag overrides vcpus. */
	assert_int_equal(PARSE("--vcpus", "3", "--config", path), CLI_RUN);
	assert_string_equal(opts.vm.kernel, "from-file.elf");
	assert_int_equal(opts.vm.vcpus, 3);
	expect_error(PARSE("--config", "/nonexistent/ferry.json"), "/nonexistent/ferry.json");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli__size_suffixes),
		cmocka_unit_test(test_cli__defaults_and_all_flags),
		cmocka_unit_test(test_cli__vfio_devices),
		cmocka_unit_test(test_cli__bad_values),
		cmocka_unit_test(test_cli__restore_and_incoming_modes),
		cmocka_unit_test(test_cli__config_file_then_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
