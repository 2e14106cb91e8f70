/*
 * test-sandbox-filter.c: behaviour of the installed filters. For every
 * thread role a forked child installs the role's filter, makes an
 * allowed syscall, then a forbidden one: in kill mode the kernel kills
 * it with SIGSYS; in trap mode the SIGSYS reporter names role and
 * syscall on stderr and exits with SANDBOX_EXIT_SECCOMP; in log mode
 * the call goes through. Also: argument filters (ioctl numbers, socket
 * families, PROT_EXEC), per-thread installation, thread creation under
 * a filter, added rules, and --seccomp=off.
 */
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp/sandbox.h"

/* Exit codes of the child: distinct from SANDBOX_EXIT_SECCOMP (12). */
#define CHILD_OK 0
#define CHILD_SETUP_FAILED 40
#define CHILD_ALLOWED_FAILED 41
#define CHILD_FORBIDDEN_RAN 42

/* A syscall the child makes; returns 0 when it behaved as allowed. */
typedef int (*probe_fn)(void);

struct child_result {
	int status;      /* from waitpid */
	char err[1024];  /* what the child wrote on stderr */
};

static int probe_write(void)
{
	/* an invalid fd: the filter decides before the kernel says EBADF */
	return syscall(SYS_write, -1, "", 0) == -1 && errno == EBADF ? 0 : -1;
}

static int probe_execve(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };

	syscall(SYS_execve, "/bin/true", argv, NULL);
	return 0;
}

static int probe_socket_inet(void)
{
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	return fd >= 0 ? 0 : -1;
}

static int probe_socket_netlink(void)
{
	long fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0);

	return fd >= 0 ? 0 : -1;
}

static int probe_openat(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);

	return fd >= 0 ? 0 : -1;
}

static int probe_kvm_run(void)
{
	/* not a KVM fd: the filter lets it through, the kernel says ENOTTY */
	long r = syscall(SYS_ioctl, 0, KVM_RUN, 0);

	return r == -1 && (errno == ENOTTY || errno == EBADF || errno == EINVAL)
		       ? 0 : -1;
}

static int probe_kvm_create_vm(void)
{
	syscall(SYS_ioctl, 0, KVM_CREATE_VM, 0);
	return 0;
}

static int probe_mmap_exec(void)
{
	void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 0 : -1;
}

static int probe_mmap_rw(void)
{
	void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 0 : -1;
}

static int probe_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p > 0 ? 0 : -1;
}

static int probe_getppid(void)
{
	return syscall(SYS_getppid) > 0 ? 0 : -1;
}

static int probe_epoll_wait(void)
{
	long r = syscall(SYS_epoll_wait, -1, NULL, 1, 0);

	return r == -1 && (errno == EBADF || errno == EINVAL) ? 0 : -1;
}

/*
 * Fork; the child installs @role's filter in @mode, runs @allowed (must
 * succeed) and @forbidden, then exits CHILD_FORBIDDEN_RAN (or CHILD_OK
 * when @forbidden returned 0 and @mode is LOG). The child's stderr is
 * captured into @res->err.
 */
static void run_child(enum sc_role role, enum seccomp_mode mode,
		      probe_fn allowed, probe_fn forbidden,
		      struct child_result *res)
{
	int pfd[2];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		/* a SIGSYS kill would otherwise dump core into the build dir */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (sandbox__init(mode) || sandbox__enter(role))
			_exit(CHILD_SETUP_FAILED);
		if (allowed && allowed() != 0)
			_exit(CHILD_ALLOWED_FAILED);
		if (forbidden() == 0 && mode == SECCOMP_MODE_LOG)
			_exit(CHILD_OK);
		_exit(CHILD_FORBIDDEN_RAN);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], res->err + got, sizeof(res->err) - 1 - got)) > 0)
		got += (size_t)n;
	res->err[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &res->status, 0), pid);
}

static void assert_killed(const struct child_result *res)
{
	if (!WIFSIGNALED(res->status))
		fail_msg("child not killed: exit %d, stderr: %s",
			 WEXITSTATUS(res->status), res->err);
	assert_int_equal(WTERMSIG(res->status), SIGSYS);
}

static void assert_trapped(const struct child_result *res, const char *role,
			   const char *name)
{
	char want[128];

	if (!WIFEXITED(res->status))
		fail_msg("child killed by signal %d", WTERMSIG(res->status));
	assert_int_equal(WEXITSTATUS(res->status), SANDBOX_EXIT_SECCOMP);
	snprintf(want, sizeof(want), "thread role %s made forbidden syscall %s (nr",
		 role, name);
	if (!strstr(res->err, want))
		fail_msg("report missing '%s' in: %s", want, res->err);
}

/* Per role: a forbidden call that is not execve, and its name. */
struct role_case {
	enum sc_role role;
	const char *name;
	probe_fn allowed;   /* role-specific allowed call */
	probe_fn forbidden;
	const char *forbidden_name;
};

static const struct role_case cases[] = {
	{ SC_ROLE_MAIN, "main", probe_epoll_wait, probe_socket_inet, "socket" },
	{ SC_ROLE_VCPU, "vcpu", probe_kvm_run, probe_socket_inet, "socket" },
	{ SC_ROLE_API, "api", probe_epoll_wait, probe_socket_inet, "socket" },
	{ SC_ROLE_MIGRATION, "migration", probe_socket_inet, probe_socket_netlink, "socket" },
	{ SC_ROLE_DEVICE, "device", probe_write, probe_kvm_run, "ioctl" },
	{ SC_ROLE_TESTDEV, "testdev", probe_epoll_wait, probe_socket_inet, "socket" },
};

static void test_sandbox__kill_mode_kills_each_role(void **state)
{
	struct child_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_KILL, cases[i].allowed,
			  cases[i].forbidden, &res);
		assert_killed(&res);
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_KILL, probe_mmap_rw,
			  probe_execve, &res);
		assert_killed(&res);
	}
}

static void test_sandbox__trap_mode_reports_name(void **state)
{
	struct child_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_TRAP, cases[i].allowed,
			  cases[i].forbidden, &res);
		assert_trapped(&res, cases[i].name, cases[i].forbidden_name);
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_TRAP, probe_write,
			  probe_execve, &res);
		assert_trapped(&res, cases[i].name, "execve");
	}
}

static void test_sandbox__log_mode_allows(void **state)
{
	struct child_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_LOG, cases[i].allowed,
			  cases[i].forbidden, &res);
		assert_true(WIFEXITED(res.status));
		assert_int_equal(WEXITSTATUS(res.status), CHILD_OK);
	}
}

/* openat fails with EACCES (not a kill) where files are not allowed */
static int probe_openat_refused(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);

	return fd == -1 && errno == EACCES ? 0 : -1;
}

static void test_sandbox__openat_refused_not_killed(void **state)
{
	struct child_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].role == SC_ROLE_MIGRATION) {
			/* the one role that opens snapshot files */
			memset(&res, 0, sizeof(res));
			run_child(cases[i].role, SECCOMP_MODE_KILL, probe_openat,
				  probe_execve, &res);
			assert_killed(&res); /* opened, then died on execve */
			continue;
		}
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_KILL,
			  probe_openat_refused, probe_execve, &res);
		assert_killed(&res); /* got past openat, died on execve */
	}
}

static void test_sandbox__vcpu_ioctl_filtered_by_number(void **state)
{
	struct child_result res = { 0 };

	(void)state;
	run_child(SC_ROLE_VCPU, SECCOMP_MODE_TRAP, probe_kvm_run,
		  probe_kvm_create_vm, &res);
	assert_trapped(&res, "vcpu", "ioctl");
}

static void test_sandbox__migration_socket_family_filtered(void **state)
{
	struct child_result res = { 0 };

	(void)state;
	run_child(SC_ROLE_MIGRATION, SECCOMP_MODE_KILL, probe_socket_inet,
		  probe_socket_netlink, &res);
	assert_killed(&res);
}

static void test_sandbox__no_executable_mappings(void **state)
{
	struct child_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&res, 0, sizeof(res));
		run_child(cases[i].role, SECCOMP_MODE_TRAP, probe_mmap_rw,
			  probe_mmap_exec, &res);
		assert_trapped(&res, cases[i].name, "mmap");
	}
}

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

static void test_sandbox__main_cannot_fork(void **state)
{
	struct child_result res = { 0 };

	(void)state;
	/* fork() is clone without CLONE_THREAD */
	run_child(SC_ROLE_MAIN, SECCOMP_MODE_TRAP, probe_write,
		  probe_fork, &res);
	assert_trapped(&res, "main", "clone");
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
		cmocka_unit_test(test_sandbox__kill_mode_kills_each_role),
		cmocka_unit_test(test_sandbox__trap_mode_reports_name),
		cmocka_unit_test(test_sandbox__log_mode_allows),
		cmocka_unit_test(test_sandbox__openat_refused_not_killed),
		cmocka_unit_test(test_sandbox__vcpu_ioctl_filtered_by_number),
		cmocka_unit_test(test_sandbox__migration_socket_family_filtered),
		cmocka_unit_test(test_sandbox__no_executable_mappings),
		cmocka_unit_test(test_sandbox__added_rule_allows),
		cmocka_unit_test(test_sandbox__per_fd_rule),
		cmocka_unit_test(test_sandbox__add_rule_rejects_bad_input),
		cmocka_unit_test(test_sandbox__enter_needs_init_and_valid_role),
		cmocka_unit_test(test_sandbox__filter_is_per_thread),
		cmocka_unit_test(test_sandbox__main_creates_filtered_threads),
		cmocka_unit_test(test_sandbox__main_cannot_fork),
		cmocka_unit_test(test_sandbox__off_mode_installs_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
