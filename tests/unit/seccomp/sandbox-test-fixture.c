/*
 * sandbox-test-fixture.c: the forked-child runner, its checks and the
 * syscall probes the installed-filter tests share (sandbox-test-fixture.h).
 */
#include "sandbox-test-fixture.h"

#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

int probe_write(void)
{
	/* an invalid fd: the filter decides before the kernel says EBADF */
	return syscall(SYS_write, -1, "", 0) == -1 && errno == EBADF ? 0 : -1;
}

int probe_execve(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };

	syscall(SYS_execve, "/bin/true", argv, NULL);
	return 0;
}

int probe_socket_inet(void)
{
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

	return fd >= 0 ? 0 : -1;
}

int probe_socket_netlink(void)
{
	long fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0);

	return fd >= 0 ? 0 : -1;
}

int probe_openat(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);

	return fd >= 0 ? 0 : -1;
}

int probe_kvm_run(void)
{
	/* not a KVM fd: the filter lets it through, the kernel says ENOTTY */
	long r = syscall(SYS_ioctl, 0, KVM_RUN, 0);

	return r == -1 && (errno == ENOTTY || errno == EBADF || errno == EINVAL)
		       ? 0 : -1;
}

int probe_kvm_create_vm(void)
{
	syscall(SYS_ioctl, 0, KVM_CREATE_VM, 0);
	return 0;
}

int probe_mmap_exec(void)
{
	void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 0 : -1;
}

int probe_mmap_rw(void)
{
	void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 0 : -1;
}

int probe_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p > 0 ? 0 : -1;
}

int probe_getppid(void)
{
	return syscall(SYS_getppid) > 0 ? 0 : -1;
}

int probe_epoll_wait(void)
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
void run_child(enum sc_role role, enum seccomp_mode mode,
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

void assert_killed(const struct child_result *res)
{
	if (!WIFSIGNALED(res->status))
		fail_msg("child not killed: exit %d, stderr: %s",
			 WEXITSTATUS(res->status), res->err);
	assert_int_equal(WTERMSIG(res->status), SIGSYS);
}

void assert_trapped(const struct child_result *res, const char *role,
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
