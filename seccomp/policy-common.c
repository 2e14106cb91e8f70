/*
 * policy-common.c: the base every ferry thread role starts from: what
 * glibc needs underneath any thread (memory allocation, locks, clocks,
 * signal return, exit) plus write(2) for log lines on stderr. Anything
 * that reaches the host beyond that belongs in a role's own table.
 * Also the "threads" base for roles that create threads after their
 * filter is in place.
 */
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <errno.h>
#include <sched.h>

#include <fcntl.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule common_rules[] = {
	SC_ALLOW(exit_group, "process exit, including the SIGSYS reporter's _exit"),
	SC_ALLOW(exit, "a thread returning from its start routine"),
	SC_ALLOW(rt_sigreturn, "return from any signal handler (vCPU kick, SIGSYS report)"),
	SC_ALLOW(restart_syscall, "kernel restart of a sleep interrupted by a handled signal"),
	SC_ALLOW(futex, "pthread mutexes, condition variables and joins"),
	SC_ALLOW(write, "log lines on stderr; eventfd signalling; serial output"),
	SC_ALLOW(rt_sigprocmask, "pthread_sigmask; glibc masks signals around thread ops"),
	SC_ALLOW(sched_yield, "glibc lock back-off"),
	SC_ALLOW(getpid, "pthread_kill and log prefixes"),
	SC_ALLOW(gettid, "pthread_kill and log prefixes"),
	SC_ALLOW(clock_gettime, "vDSO fallback: timestamps, log rate limiting, timeouts"),
	SC_ALLOW(gettimeofday, "vDSO fallback for wall-clock time"),
	SC_ALLOW(clock_nanosleep, "nanosleep/usleep (glibc implements both with it)"),
	SC_ALLOW(sched_getaffinity, "malloc sizes its arena limit from the usable CPUs"),
	SC_ALLOW(brk, "malloc: grow and shrink the main arena"),
	SC_ALLOW1(mmap, SC_MASKED_EQ(2, PROT_EXEC, 0),
		  "malloc, thread stacks, guest/device mappings; never executable"),
	SC_ALLOW1(mprotect, SC_MASKED_EQ(2, PROT_EXEC, 0),
		  "malloc arena growth, stack guard pages; never executable"),
	SC_ALLOW(munmap, "free of large blocks, unmapping device regions"),
	SC_ALLOW(mremap, "realloc of large (mmap-backed) blocks"),
	SC_ALLOW1(madvise, SC_EQ(2, MADV_DONTNEED),
		  "malloc trimming and glibc freeing a dead thread's stack"),
	SC_ALLOW(fstat, "stdio buffering decision on first output"),
	SC_ALLOW1(newfstatat, SC_MASKED_EQ(3, AT_EMPTY_PATH, AT_EMPTY_PATH),
		  "glibc's fstat(fd) is fstatat(fd, \"\", AT_EMPTY_PATH)"),
};

const struct sc_policy policy_common = {
	.name = "common",
	.rules = common_rules,
	.nr_rules = ARRAY_SIZE(common_rules),
};

/*
 * glibc's pthread_create, as seen by the kernel: clone3 first (its
 * flags sit in memory a filter cannot read), clone on ENOSYS. Failing
 * clone3 with ENOSYS moves glibc to clone, whose flags can be checked:
 * only threads sharing memory, files and signal handlers (no fork, no
 * new namespaces outside a thread's rules).
 */
#define SC_THREAD_FLAGS \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)

/*
 * glibc's internal signal for set*id() across threads (SIGRTMIN + 1 of
 * the kernel, 33); the handler is installed on first use.
 */
#define SC_GLIBC_SIGSETXID 33

static const struct sc_rule thread_rules[] = {
	SC_FAIL(clone3, ENOSYS,
		"flags unfilterable: glibc falls back to clone on ENOSYS"),
	SC_ALLOW1(clone, SC_MASKED_EQ(0, SC_THREAD_FLAGS, SC_THREAD_FLAGS),
		  "pthread_create: threads only, never fork"),
	SC_ALLOW1(rt_sigaction, SC_EQ(0, SC_GLIBC_SIGSETXID),
		  "the first pthread_create installs glibc's SIGSETXID handler"),
	SC_ALLOW(set_robust_list, "a new thread registering its robust futex list"),
	SC_ALLOW(rseq, "a new thread registering restartable sequences (glibc >= 2.35)"),
	SC_ALLOW2(seccomp, SC_EQ(0, SECCOMP_SET_MODE_FILTER), SC_EQ(1, 0),
		  "a new thread adding its own role's filter (only narrows; no TSYNC)"),
	SC_ALLOW2(prctl, SC_EQ(0, PR_SET_NO_NEW_PRIVS), SC_EQ(1, 1),
		  "libseccomp sets no_new_privs before loading (already set)"),
};

const struct sc_policy policy_threads = {
	.name = "threads",
	.rules = thread_rules,
	.nr_rules = ARRAY_SIZE(thread_rules),
};
