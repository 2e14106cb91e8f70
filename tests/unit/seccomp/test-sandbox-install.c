/*
 * test-sandbox-install.c: how filters are installed and extended, each
 * in a forked child: rules added at run time (a device's extra rule, a
 * per-fd rule with runtime argument values) and bad rules refused,
 * sandbox__enter before sandbox__init or with a bad role refused, a
 * filter that stays on the thread that installed it, threads created
 * under main's filter adding their own, and --seccomp=off installing
 * nothing. Role-by-role filter behaviour is test-sandbox-filter.c.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

#include "sandbox-test-fixture.h"
#include "seccomp/sandbox.h"

static void test_sandbox__added_rule_allows(void **state)
{
	static const struct sc_rule getppid_rule =
		SC_ALLOW(getppid, "test: a device's extra rule");
	struct child_result res = { 0 };

	(void)state;
	/* without the rule: getppid is forbidden for vCPUs */
	run_child(SC_ROLE_VCPU, SECCOMP_MODE_KILL, NULL, probe_getppid, &res);
	assert_killed(&res);
	/* in this process only; children inherit the table */
	assert_int_equal(sandbox__add_rule(SC_ROLE_VCPU, &getppid_rule), 0);
	memset(&res, 0, sizeof(res));
	run_child(SC_ROLE_VCPU, SECCOMP_MODE_KILL, probe_getppid,
		  probe_socket_inet, &res);
	assert_killed(&res); /* got past getppid, died on socket */
}

/*
 * The per-fd pattern: a server that must remove its socket at exit
 * opens the socket's directory before the filter and gets unlinkat
 * relative to that fd only.
 */
static int dir_fd = -1;

static int probe_unlinkat_dirfd(void)
{
	return syscall(SYS_unlinkat, dir_fd, "sock", 0) == 0 ? 0 : -1;
}

static int probe_unlinkat_cwd(void)
{
	syscall(SYS_unlinkat, AT_FDCWD, "sock", 0);
	return 0;
}

static void test_sandbox__per_fd_rule(void **state)
{
	char dir[] = "/tmp/ferry-sc-fd-XXXXXX";
	char path[sizeof(dir) + 8];
	struct child_result res = { 0 };
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir_fd >= 0);
	{
		/* runtime values: an automatic rule, copied by add_rule */
		const struct sc_rule r = SC_ALLOW2(unlinkat, SC_EQ(0, dir_fd),
			SC_EQ(2, 0), "test: remove our socket, in our dir only");

		assert_int_equal(sandbox__add_rule(SC_ROLE_TESTDEV, &r), 0);
	}
	run_child(SC_ROLE_TESTDEV, SECCOMP_MODE_TRAP, probe_unlinkat_dirfd,
		  probe_unlinkat_cwd, &res);
	assert_trapped(&res, "testdev", "unlinkat");
	assert_int_equal(access(path, F_OK), -1); /* the child removed it */
	close(dir_fd);
	assert_int_equal(rmdir(dir), 0);
}

static void test_sandbox__add_rule_rejects_bad_input(void **state)
{
	struct sc_rule r = SC_ALLOW(getppid, "x");

	(void)state;
	assert_int_equal(sandbox__add_rule(SC_ROLE_COUNT, &r), -EINVAL);
	assert_int_equal(sandbox__add_rule(SC_ROLE_VCPU, NULL), -EINVAL);
	r.argc = SC_MAX_ARGS + 1;
	assert_int_equal(sandbox__add_rule(SC_ROLE_VCPU, &r), -EINVAL);
	r.argc = 0;
	r.why = NULL;
	assert_int_equal(sandbox__add_rule(SC_ROLE_VCPU, &r), -EINVAL);
}

static void test_sandbox__enter_needs_init_and_valid_role(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO); /* expected error lines */
		if (sandbox__enter(SC_ROLE_VCPU) != -EINVAL)
			_exit(1);
		if (sandbox__init(SECCOMP_MODE_KILL))
			_exit(2);
		if (sandbox__enter(SC_ROLE_COUNT) != -EINVAL)
			_exit(3);
		if (sandbox__init((enum seccomp_mode)99) != -EINVAL)
			_exit(4);
		if (prctl(PR_GET_SECCOMP) != 0) /* nothing was installed */
			_exit(5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * "Seccomp:" from a /proc/thread-self/status fd opened before the
 * filter (opening is not allowed after it; pread is, for main and vCPU).
 */
static int seccomp_mode_from(int fd)
{
	char buf[2048]; /* the whole status file is about 1.5 KiB */
	const char *p;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nSeccomp:");
	return p ? atoi(p + strlen("\nSeccomp:")) : -1;
}

static int open_thread_status(void)
{
	return open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
}

static void *enter_vcpu_thread(void *arg)
{
	int *mode = arg;
	int fd = open_thread_status();

	*mode = seccomp_mode_from(fd); /* before: 0 */
	if (*mode != 0 || sandbox__enter(SC_ROLE_VCPU) != 0 ||
	    seccomp_mode_from(fd) != 2)
		*mode = -2;
	return NULL;
}

static void test_sandbox__filter_is_per_thread(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;
		int mode = -1, fd;

		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (sandbox__init(SECCOMP_MODE_KILL))
			_exit(1);
		if (pthread_create(&t, NULL, enter_vcpu_thread, &mode) ||
		    pthread_join(t, NULL) || mode != 0)
			_exit(2);
		/* the sibling's filter did not reach this thread */
		fd = open_thread_status();
		if (seccomp_mode_from(fd) != 0)
			_exit(3);
		if (sandbox__enter(SC_ROLE_MAIN) || seccomp_mode_from(fd) != 2)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void *api_thread(void *arg)
{
	int *ok = arg;

	/* a thread created under main's filter adds its own role */
	*ok = sandbox__enter(SC_ROLE_API) == 0;
	return NULL;
}

static void test_sandbox__main_creates_filtered_threads(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t t;
		int ok = 0;

		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (sandbox__init(SECCOMP_MODE_TRAP) ||
		    sandbox__enter(SC_ROLE_MAIN))
			_exit(1);
		/* runs clone3 (fails ENOSYS), then clone with thread flags */
		if (pthread_create(&t, NULL, api_thread, &ok) ||
		    pthread_join(t, NULL))
			_exit(2);
		_exit(ok ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_sandbox__off_mode_installs_nothing(void **state)
{
	struct child_result res = { 0 };
	size_t got = 0;
	int pfd[2];
	pid_t pid;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		if (sandbox__init(SECCOMP_MODE_OFF) ||
		    sandbox__enter(SC_ROLE_VCPU))
			_exit(1);
		if (prctl(PR_GET_SECCOMP) != 0 || probe_socket_inet() != 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	/* read to EOF: the child must never block or die on a full pipe */
	while ((n = read(pfd[0], res.err + got, sizeof(res.err) - 1 - got)) > 0)
		got += (size_t)n;
	res.err[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &res.status, 0), pid);
	assert_true(WIFEXITED(res.status));
	assert_int_equal(WEXITSTATUS(res.status), 0);
	assert_non_null(strstr(res.err, "seccomp is OFF"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox__added_rule_allows),
		cmocka_unit_test(test_sandbox__per_fd_rule),
		cmocka_unit_test(test_sandbox__add_rule_rejects_bad_input),
		cmocka_unit_test(test_sandbox__enter_needs_init_and_valid_role),
		cmocka_unit_test(test_sandbox__filter_is_per_thread),
		cmocka_unit_test(test_sandbox__main_creates_filtered_threads),
		cmocka_unit_test(test_sandbox__off_mode_installs_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
