/*
 * sigsys.c: the SIGSYS reporter for --seccomp=trap. The kernel raises
 * SIGSYS on the offending thread with the syscall number in si_syscall;
 * the handler names it from a table resolved in advance, writes one
 * line to stderr with write(2) and ends the process with _exit(
 * SANDBOX_EXIT_SECCOMP). This is the single place outside vmm/main.c
 * that ends ferry: trap mode's contract is to stop at the first
 * forbidden syscall, and nothing else can run safely from a handler.
 */
#include "seccomp/sigsys.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "seccomp/sandbox.h"
#include "vmm/util.h"

/*
 * x86_64 syscall numbers are dense and below 1024 (Linux 6.18 ends
 * near 470); numbers at or above this get reported as "unknown".
 */
#define SIGSYS_NAME_TABLE 1024

/* si_code of a SIGSYS raised by a seccomp filter (SYS_SECCOMP). */
#define SIGSYS_CODE_SECCOMP 1

static const char *syscall_names[SIGSYS_NAME_TABLE];
static pthread_once_t prepare_once = PTHREAD_ONCE_INIT;
static int prepare_ret;
static uint32_t native_arch;

/* initial-exec: a plain %fs-relative load, safe inside a signal handler */
static __thread const char *thread_role
	__attribute__((tls_model("initial-exec")));

static void prepare_names(void)
{
	unsigned int nr;

	native_arch = seccomp_arch_native();
	for (nr = 0; nr < SIGSYS_NAME_TABLE; nr++) {
		/* returns a malloc'd copy, or NULL for an unused number */
		syscall_names[nr] = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_NATIVE, (int)nr);
	}
	if (!syscall_names[0]) /* "read" is nr 0 on x86_64: resolver broken */
		prepare_ret = -ENOMEM;
}

int sigsys__prepare(void)
{
	pthread_once(&prepare_once, prepare_names);
	return prepare_ret;
}

const char *sigsys__syscall_name(long nr)
{
	if (nr < 0 || nr >= SIGSYS_NAME_TABLE)
		return NULL;
	return syscall_names[nr];
}

void sigsys__set_role(const char *role)
{
	thread_role = role;
}

/* Append @s to @buf at *@pos, keeping room for the final NUL. */
static void put_str(char *buf, size_t len, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < len)
		buf[(*pos)++] = *s++;
}

/* Append @v in @base (10 or 16), no prefix. */
static void put_num(char *buf, size_t len, size_t *pos, unsigned long v,
		    unsigned int base)
{
	char tmp[24]; /* 2^64 has 20 decimal digits */
	unsigned int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i < sizeof(tmp));
	while (i && *pos + 1 < len)
		buf[(*pos)++] = tmp[--i];
}

size_t sigsys__format(char *buf, size_t len, const char *role, long nr,
		      uint32_t arch)
{
	const char *name = NULL;
	size_t pos = 0;

	if (!len)
		return 0;
	if (arch == native_arch || !native_arch)
		name = sigsys__syscall_name(nr);
	put_str(buf, len, &pos, "ferry: seccomp: thread role ");
	put_str(buf, len, &pos, role ? role : "inherited");
	put_str(buf, len, &pos, " made forbidden syscall ");
	put_str(buf, len, &pos, name ? name : "unknown");
	put_str(buf, len, &pos, " (nr ");
	if (nr < 0) {
		put_str(buf, len, &pos, "-");
		put_num(buf, len, &pos, -(unsigned long)nr, 10);
	} else {
		put_num(buf, len, &pos, (unsigned long)nr, 10);
	}
	if (native_arch && arch != native_arch) {
		put_str(buf, len, &pos, ", arch 0x");
		put_num(buf, len, &pos, arch, 16);
	}
	put_str(buf, len, &pos, ")\n");
	buf[pos] = '\0';
	return pos;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	char line[192]; /* fixed text ~60 + role + longest name ~25 + numbers */
	size_t n;
	ssize_t w;

	(void)sig;
	(void)uctx;
	if (si->si_code != SIGSYS_CODE_SECCOMP) {
		static const char other[] =
			"ferry: seccomp: SIGSYS not raised by a filter\n";
		w = write(STDERR_FILENO, other, sizeof(other) - 1);
	} else {
		n = sigsys__format(line, sizeof(line), thread_role,
				   si->si_syscall, si->si_arch);
		w = write(STDERR_FILENO, line, n);
	}
	(void)w;
	_exit(SANDBOX_EXIT_SECCOMP);
}

int sigsys__install(void)
{
	struct sigaction sa;
	int ret;

	ret = sigsys__prepare();
	if (ret)
		return ret;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask); /* nothing else runs on top of the report */
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	return 0;
}
