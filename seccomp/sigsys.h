/*
 * sigsys.h: the reporter behind --seccomp=trap. A SIGSYS handler that
 * names the thread role and the forbidden syscall on stderr, then ends
 * the process with SANDBOX_EXIT_SECCOMP. Internal to seccomp/.
 */
#ifndef SECCOMP_SIGSYS_H
#define SECCOMP_SIGSYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Resolve every syscall name of the native architecture into a static
 * table once, so the handler can look names up without calling
 * libseccomp (whose resolver allocates and is not async-signal-safe).
 * Idempotent and thread-safe. Returns 0 or -ENOMEM.
 */
int sigsys__prepare(void);

/*
 * Install the SIGSYS handler for the whole process (signal handlers
 * are per process). Calls sigsys__prepare(). Returns 0 or -errno.
 */
int sigsys__install(void);

/*
 * Name the calling thread's role for reports. @role must be a static
 * string. Threads that never call this report "inherited".
 */
void sigsys__set_role(const char *role);

/*
 * The name of native syscall @nr from the prepared table, or NULL when
 * unknown or not prepared. Async-signal-safe.
 */
const char *sigsys__syscall_name(long nr);

/*
 * Write the report line
 *   "ferry: seccomp: thread role ROLE made forbidden syscall NAME (nr N)\n"
 * into @buf (always NUL-terminated; truncated to fit). A non-native
 * @arch (AUDIT_ARCH_*) is appended, since @nr then means something else.
 * Returns the length written. Async-signal-safe.
 */
size_t sigsys__format(char *buf, size_t len, const char *role, long nr,
		      uint32_t arch);

#endif /* SECCOMP_SIGSYS_H */
