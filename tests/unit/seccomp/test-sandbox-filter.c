/*
 * test-sandbox-filter.c: behaviour of the installed filters, role by
 * role. For every thread role a forked child installs the role's filter,
 * makes an allowed syscall, then a forbidden one: in kill mode the
 * kernel kills it with SIGSYS; in trap mode the SIGSYS reporter names
 * role and syscall on stderr and exits with SANDBOX_EXIT_SECCOMP; in log
 * mode the call goes through. Also the argument filters (ioctl numbers,
 * socket families, PROT_EXEC), openat refused rather than killed, and no
 * fork for main. Installation, added rules and threads are
 * test-sandbox-install.c.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox-test-fixture.h"
#include "seccomp/sandbox.h"

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

static void test_sandbox__main_cannot_fork(void **state)
{
	struct child_result res = { 0 };

	(void)state;
	/* fork() is clone without CLONE_THREAD */
	run_child(SC_ROLE_MAIN, SECCOMP_MODE_TRAP, probe_write,
		  probe_fork, &res);
	assert_trapped(&res, "main", "clone");
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
		cmocka_unit_test(test_sandbox__main_cannot_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
