/*
 * sandbox.h: confining ferry's threads. Once everything privileged is
 * open, the process drops all capabilities (with the bounding set),
 * optionally chroots and changes user, and sets no_new_privs; then
 * each thread, right before entering its loop, installs the seccomp
 * filter of its role (seccomp/policy.h). Filters are per thread (no
 * TSYNC): a thread created later inherits its creator's filter and
 * narrows it further with its own.
 *
 * Order, in the process: sandbox__init() -> open devices, sockets,
 * files -> sandbox__drop_privileges() while still single-threaded ->
 * create threads -> each thread: sandbox__enter(role) -> its loop.
 */
#ifndef SECCOMP_SANDBOX_H
#define SECCOMP_SANDBOX_H

#include <sys/types.h>

#include "seccomp/policy.h"
#include "vmm/config.h"

/*
 * Exit status of a process stopped by a forbidden syscall under
 * --seccomp=trap. Even, so it cannot be a guest debug-exit status
 * ((v << 1) | 1), and distinct from ferry's other statuses (0, 2, 4,
 * 6, 8, 10). In kill mode the kernel kills the process with SIGSYS
 * instead (a shell shows 128 + 31 = 159).
 */
#define SANDBOX_EXIT_SECCOMP 12

/* Target identity for a jailer-style start (--user UID:GID). */
struct sandbox_user {
	uid_t uid;
	gid_t gid;
};

/*
 * Choose the process-wide mode; call once, first, from the main thread.
 * KILL: a syscall off the allowlist kills the process (SIGSYS).
 * TRAP: the SIGSYS handler reports role and syscall name on stderr and
 *       exits with SANDBOX_EXIT_SECCOMP.
 * LOG:  the kernel logs the syscall (audit / kernel log) and allows it.
 * OFF:  no filters; warns loudly once.
 * Also loads the time zone (tzset), so that no confined thread opens
 * /etc/localtime later, and for TRAP installs the SIGSYS reporter
 * (process-wide). Checks that kernel and libseccomp support the mode.
 * Returns 0,
 * -EINVAL for an unknown mode, -ENOSYS when unsupported, or -errno.
 */
int sandbox__init(enum seccomp_mode mode);

/*
 * Drop privileges for the whole process; call once, after everything
 * privileged is open (/dev/kvm, sockets, files) and before any thread
 * is created (capabilities and no_new_privs are per thread and are
 * inherited). In order:
 *   - @chroot_dir (NULL or "": none): chdir + chroot + chdir("/");
 *   - drop the capability bounding set (when CAP_SETPCAP is held);
 *   - @user (NULL: keep the ids): setgroups to just the gid, setresgid,
 *     setresuid; then check that the old ids cannot be regained;
 *   - clear effective, permitted, inheritable and ambient capabilities;
 *   - set no_new_privs.
 * Verifies the result with libcap-ng. Logs the failing step; returns 0,
 * -EBUSY when more than one thread exists, or -errno.
 */
int sandbox__drop_privileges(const char *chroot_dir,
			     const struct sandbox_user *user);

/*
 * Add @rule (copied; @rule->why must stay valid, e.g. a literal) to
 * @role's filter on top of its static table, for per-fd rules a device
 * contributes at setup (e.g. pwrite64 with arg0 == its fd). Only
 * affects threads that call sandbox__enter(@role) afterwards. Returns
 * 0, -EINVAL (bad role or argc), or -ENOSPC (table full).
 */
int sandbox__add_rule(enum sc_role role, const struct sc_rule *rule);

/*
 * Install @role's filter on the calling thread only, with the default
 * action of the mode chosen in sandbox__init(). Call right before the
 * thread enters its loop (vCPU threads: before the first KVM_RUN). With
 * --seccomp=off it only records the role. Returns 0, -EINVAL (bad role,
 * or sandbox__init() not called), or -errno from building or loading
 * the filter (logged).
 */
int sandbox__enter(enum sc_role role);

/*
 * Write @role's filter, as it would be built for @mode, to @fd in
 * libseccomp's PFC text form (for review and golden files). Needs no
 * sandbox__init(). Returns 0, -EINVAL (bad role, or mode OFF), or
 * -errno.
 */
int sandbox__export_pfc(enum sc_role role, enum seccomp_mode mode, int fd);

/*
 * Parse "UID:GID" (decimal numbers) into @out. Names are not accepted:
 * no NSS lookup, which would not work inside a chroot anyway. Returns
 * 0 or -EINVAL.
 */
int sandbox__parse_user(const char *s, struct sandbox_user *out);

/* The mode chosen by sandbox__init(); SECCOMP_MODE_KILL before it. */
enum seccomp_mode sandbox__mode(void);

#endif /* SECCOMP_SANDBOX_H */
