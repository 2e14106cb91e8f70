/*
 * sandbox-test-fixture.h: what the installed-filter tests
 * (test-sandbox-filter.c, test-sandbox-install.c) share: a forked child
 * that installs one role's filter and makes an allowed and a forbidden
 * syscall, the checks on how it ended, and the syscalls ("probes") the
 * children make. Each probe calls the raw syscall and returns 0 when it
 * behaved as allowed, -1 otherwise; forbidden ones never return under a
 * kill or trap filter.
 */
#ifndef TESTS_UNIT_SECCOMP_SANDBOX_TEST_FIXTURE_H
#define TESTS_UNIT_SECCOMP_SANDBOX_TEST_FIXTURE_H

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

/* write(-1): allowed means the kernel's EBADF comes back. */
int probe_write(void);
/* execve("/bin/true"): forbidden for every role. */
int probe_execve(void);
/* socket(AF_INET, SOCK_STREAM) / socket(AF_NETLINK, SOCK_RAW). */
int probe_socket_inet(void);
int probe_socket_netlink(void);
/* openat("/dev/null", O_RDONLY) succeeds. */
int probe_openat(void);
/* ioctl(0, KVM_RUN): the filter lets it through, the kernel refuses. */
int probe_kvm_run(void);
/* ioctl(0, KVM_CREATE_VM): not a vCPU ioctl. */
int probe_kvm_create_vm(void);
/* An anonymous PROT_READ|PROT_EXEC / PROT_READ|PROT_WRITE mapping. */
int probe_mmap_exec(void);
int probe_mmap_rw(void);
/* fork(), the child exiting at once: clone without CLONE_THREAD. */
int probe_fork(void);
/* getppid() returns the parent. */
int probe_getppid(void);
/* epoll_wait(-1): allowed means EBADF or EINVAL. */
int probe_epoll_wait(void);

/*
 * Fork; the child installs @role's filter in @mode, runs @allowed (must
 * succeed; may be NULL) and @forbidden, then exits CHILD_FORBIDDEN_RAN
 * (or CHILD_OK when @forbidden returned 0 and @mode is LOG). The child's
 * stderr is captured into @res->err, its wait status into @res->status.
 */
void run_child(enum sc_role role, enum seccomp_mode mode, probe_fn allowed,
	       probe_fn forbidden, struct child_result *res);

/* Fail the test unless the child was killed by SIGSYS. */
void assert_killed(const struct child_result *res);

/*
 * Fail the test unless the child exited SANDBOX_EXIT_SECCOMP and its
 * stderr names thread role @role and forbidden syscall @name.
 */
void assert_trapped(const struct child_result *res, const char *role,
		    const char *name);

#endif /* TESTS_UNIT_SECCOMP_SANDBOX_TEST_FIXTURE_H */
