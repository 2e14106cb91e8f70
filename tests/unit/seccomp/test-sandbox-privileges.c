/*
 * test-sandbox-privileges.c: sandbox__drop_privileges() and the
 * --user parser. As root, a forked child drops everything and checks
 * the kernel's view: no capabilities in any set (bounding included),
 * no_new_privs on; with a chroot and --user it also checks the new
 * root and ids and that root cannot be regained. Without root these
 * tests are skipped.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp/sandbox.h"

/* The value of a hex "Name:\t%llx" field in /proc/self/status, or -1. */
static long long status_field(const char *field)
{
	size_t flen = strlen(field);
	long long out = -1;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			out = (long long)strtoull(line + flen + 1, NULL, 16);
			break;
		}
	fclose(f);
	return out;
}

static int wait_child(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void test_sandbox__drop_clears_all_capabilities(void **state)
{
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (status_field("CapEff") == 0)
			_exit(1); /* root without caps: nothing to test */
		if (sandbox__drop_privileges(NULL, NULL))
			_exit(2);
		if (capng_get_caps_process() < 0 ||
		    capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
			_exit(3);
		if (status_field("CapEff") != 0 || status_field("CapPrm") != 0 ||
		    status_field("CapInh") != 0 || status_field("CapBnd") != 0 ||
		    status_field("CapAmb") != 0)
			_exit(4);
		if (status_field("NoNewPrivs") != 1)
			_exit(5);
		/* still uid 0, but without CAP_SYS_CHROOT this must fail */
		if (chroot("/") == 0 || errno != EPERM)
			_exit(6);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
}

static void test_sandbox__drop_with_chroot_and_user(void **state)
{
	char dir[] = "/tmp/ferry-sandbox-XXXXXX";
	char marker[sizeof(dir) + 16];
	struct sandbox_user user = { .uid = 65534, .gid = 65534 };
	pid_t pid;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0); /* the new root, for uid 65534 */
	snprintf(marker, sizeof(marker), "%s/marker", dir);
	fd = open(marker, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uid_t r, e, s;
		gid_t gr, ge, gs;
		gid_t groups[4];
		char cwd[64];

		if (sandbox__drop_privileges(dir, &user))
			_exit(2);
		/* the new root: the marker is at /marker, cwd is / */
		if (access("/marker", F_OK) != 0 || !getcwd(cwd, sizeof(cwd)) ||
		    strcmp(cwd, "/") != 0)
			_exit(3);
		if (getresuid(&r, &e, &s) || r != 65534 || e != 65534 ||
		    s != 65534)
			_exit(4);
		if (getresgid(&gr, &ge, &gs) || gr != 65534 || ge != 65534 ||
		    gs != 65534)
			_exit(5);
		if (getgroups(4, groups) != 1 || groups[0] != 65534)
			_exit(6);
		if (setuid(0) == 0 || seteuid(0) == 0)
			_exit(7);
		/* no /proc in the chroot: ask the kernel directly */
		if (capng_get_caps_process() < 0 ||
		    capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
			_exit(8);
		for (int c = 0; c <= CAP_LAST_CAP; c++)
			if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 0)
				_exit(9);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(10);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
	unlink(marker);
	rmdir(dir);
}

static void test_sandbox__drop_bad_chroot_fails(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO); /* expected error line */
		_exit(sandbox__drop_privileges("/nonexistent/ferry", NULL) ==
			      -ENOENT ? 0 : 1);
	}
	assert_int_equal(wait_child(pid), 0);
}

static void *sleeper(void *arg)
{
	int *fds = arg;
	char c;

	return read(fds[0], &c, 1) < 0 ? NULL : arg;
}

static void test_sandbox__drop_refuses_threads(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY), fds[2], ret;
		pthread_t t;

		dup2(fd, STDERR_FILENO); /* expected error line */
		if (pipe(fds) || pthread_create(&t, NULL, sleeper, fds))
			_exit(1);
		ret = sandbox__drop_privileges(NULL, NULL);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pthread_join(t, NULL);
		_exit(ret == -EBUSY ? 0 : 2);
	}
	assert_int_equal(wait_child(pid), 0);
}

static void test_sandbox__parse_user(void **state)
{
	struct sandbox_user u;

	(void)state;
	assert_int_equal(sandbox__parse_user("1000:100", &u), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 100);
	assert_int_equal(sandbox__parse_user("0:0", &u), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(sandbox__parse_user("4294967294:65534", &u), 0);
	assert_int_equal(u.uid, 4294967294u);

	static const char *const bad[] = {
		"", ":", "1000", "1000:", ":100", "-1:0", "0:-1", " 1:1",
		"1:1 ", "1:1:1", "nobody:nogroup", "4294967295:0",
		"0:4294967295", "99999999999999999999:0", "0x10:0", "+1:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sandbox__parse_user(bad[i], &u) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(sandbox__parse_user(NULL, &u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox__drop_clears_all_capabilities),
		cmocka_unit_test(test_sandbox__drop_with_chroot_and_user),
		cmocka_unit_test(test_sandbox__drop_bad_chroot_fails),
		cmocka_unit_test(test_sandbox__drop_refuses_threads),
		cmocka_unit_test(test_sandbox__parse_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
