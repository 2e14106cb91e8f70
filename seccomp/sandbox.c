/*
 * sandbox.c: privilege drop and per-thread seccomp filters. Filters are
 * built with libseccomp from the role tables of seccomp/policy-*.c plus
 * rules devices add at setup, and loaded for the calling thread only.
 * The default action follows the --seccomp mode: kill the process,
 * trap into the SIGSYS reporter (seccomp/sigsys.c), or log and allow.
 * Capabilities are dropped with libcap-ng, bounding set included.
 */
#include "seccomp/sandbox.h"

#include <sys/prctl.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "seccomp/sigsys.h"
#include "vmm/log.h"
#include "vmm/util.h"

/*
 * Per-fd rules a role can get on top of its table: a device adds a
 * handful (its fds times the calls it makes), a VM has few devices.
 */
#define SANDBOX_MAX_EXTRA_RULES 64

/*
 * libseccomp API level with SCMP_ACT_KILL_PROCESS (3) and SCMP_ACT_LOG
 * (also 3, kernel >= 4.14).
 */
#define SANDBOX_MIN_SECCOMP_API 3

static enum seccomp_mode sandbox_mode = SECCOMP_MODE_KILL;
static int sandbox_ready;

static pthread_mutex_t extra_lock = PTHREAD_MUTEX_INITIALIZER;
/* protected by extra_lock */
static struct sc_rule extra_rules[SC_ROLE_COUNT][SANDBOX_MAX_EXTRA_RULES];
static unsigned int nr_extra[SC_ROLE_COUNT];

static const char *const mode_names[] = {
	[SECCOMP_MODE_KILL] = "kill",
	[SECCOMP_MODE_TRAP] = "trap",
	[SECCOMP_MODE_LOG] = "log",
	[SECCOMP_MODE_OFF] = "off",
};

enum seccomp_mode sandbox__mode(void)
{
	return sandbox_mode;
}

static int mode_action(enum seccomp_mode mode, uint32_t *action)
{
	switch (mode) {
	case SECCOMP_MODE_KILL:
		*action = SCMP_ACT_KILL_PROCESS;
		return 0;
	case SECCOMP_MODE_TRAP:
		*action = SCMP_ACT_TRAP;
		return 0;
	case SECCOMP_MODE_LOG:
		*action = SCMP_ACT_LOG;
		return 0;
	default:
		return -EINVAL;
	}
}

static void warn_off(void)
{
	log_warn("********************************************************");
	log_warn("* seccomp is OFF (--seccomp=off): no ferry thread is    *");
	log_warn("* confined. A guest or device server that compromises   *");
	log_warn("* ferry gets every syscall this user may make.          *");
	log_warn("* Use it only to debug a missing rule; prefer =trap.    *");
	log_warn("********************************************************");
}

int sandbox__init(enum seccomp_mode mode)
{
	unsigned int api;
	int ret;

	if ((unsigned int)mode >= ARRAY_SIZE(mode_names)) {
		log_err("seccomp: unknown mode %d", (int)mode);
		return -EINVAL;
	}
	/*
	 * Load the time zone now: glibc reads /etc/localtime on first use
	 * of localtime/gmtime (libmicrohttpd's Date header), which a
	 * confined thread may not open, and which a chroot hides.
	 */
	tzset();
	if (mode == SECCOMP_MODE_OFF) {
		warn_off();
		goto out;
	}
	api = seccomp_api_get();
	if (api < SANDBOX_MIN_SECCOMP_API) {
		log_err("seccomp: kernel/libseccomp API level %u, need %u "
			"(SECCOMP_RET_KILL_PROCESS and SECCOMP_RET_LOG)",
			api, SANDBOX_MIN_SECCOMP_API);
		return -ENOSYS;
	}
	if (mode == SECCOMP_MODE_TRAP) {
		ret = sigsys__install();
		if (ret) {
			log_err("seccomp: installing the SIGSYS reporter: %s",
				strerror(-ret));
			return ret;
		}
	}
out:
	sandbox_mode = mode;
	sandbox_ready = 1;
	return 0;
}

/* Add one table rule to @ctx; logs and returns -errno on failure. */
static int add_one(scmp_filter_ctx ctx, const char *role,
		   const struct sc_rule *r)
{
	uint32_t action = SCMP_ACT_ALLOW;
	char *name;
	int ret;

	if (r->errno_ret)
		action = SCMP_ACT_ERRNO((uint32_t)r->errno_ret);
	ret = seccomp_rule_add_array(ctx, action, r->nr, r->argc, r->args);
	if (ret < 0) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
		log_err("seccomp: role %s: rule for %s (%s): %s", role,
			name ? name : "?", r->why, strerror(-ret));
		free(name);
		return ret;
	}
	return 0;
}

static int add_table(scmp_filter_ctx ctx, const char *role,
		     const struct sc_rule *rules, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = add_one(ctx, role, &rules[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Build @role's filter for @mode into *@out (caller releases it). */
static int build_filter(enum sc_role role, enum seccomp_mode mode,
			scmp_filter_ctx *out)
{
	const struct sc_policy *p = policy__get(role);
	const struct sc_policy *base;
	scmp_filter_ctx ctx;
	uint32_t action;
	unsigned int bit;
	int ret;

	if (!p)
		return -EINVAL;
	ret = mode_action(mode, &action);
	if (ret)
		return ret;
	ctx = seccomp_init(action);
	if (!ctx)
		return -ENOMEM;
	/* other-arch syscalls (int $0x80, x32) get the same treatment */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, action);
	if (ret < 0)
		goto err_ctx;
	/* per thread: never sync siblings (the default, made explicit) */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0);
	if (ret < 0)
		goto err_ctx;
	/* binary tree of syscall numbers: O(log n) checks per syscall */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (ret < 0)
		goto err_ctx;
	/* report the kernel's errno from seccomp_load, not -ECANCELED */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (ret < 0)
		goto err_ctx;

	for (bit = 1; bit; bit <<= 1) {
		if (!(p->bases & bit))
			continue;
		base = policy__base(bit);
		if (!base) {
			ret = -EINVAL;
			goto err_ctx;
		}
		ret = add_table(ctx, p->name, base->rules, base->nr_rules);
		if (ret)
			goto err_ctx;
	}
	ret = add_table(ctx, p->name, p->rules, p->nr_rules);
	if (ret)
		goto err_ctx;
	pthread_mutex_lock(&extra_lock);
	ret = add_table(ctx, p->name, extra_rules[role], nr_extra[role]);
	pthread_mutex_unlock(&extra_lock);
	if (ret)
		goto err_ctx;
	*out = ctx;
	return 0;

err_ctx:
	seccomp_release(ctx);
	return ret;
}

int sandbox__add_rule(enum sc_role role, const struct sc_rule *rule)
{
	int ret = 0;

	if ((unsigned int)role >= SC_ROLE_COUNT || !rule ||
	    rule->argc > SC_MAX_ARGS || !rule->why)
		return -EINVAL;
	pthread_mutex_lock(&extra_lock);
	if (nr_extra[role] >= SANDBOX_MAX_EXTRA_RULES)
		ret = -ENOSPC;
	else
		extra_rules[role][nr_extra[role]++] = *rule;
	pthread_mutex_unlock(&extra_lock);
	return ret;
}

int sandbox__enter(enum sc_role role)
{
	const char *name = policy__role_name(role);
	scmp_filter_ctx ctx;
	sigset_t sys;
	int ret;

	if (!policy__get(role)) {
		log_err("seccomp: unknown thread role %d", (int)role);
		return -EINVAL;
	}
	if (!sandbox_ready) {
		log_err("seccomp: role %s: sandbox__init() was not called", name);
		return -EINVAL;
	}
	sigsys__set_role(name);
	if (sandbox_mode == SECCOMP_MODE_OFF)
		return 0;

	ret = build_filter(role, sandbox_mode, &ctx);
	if (ret) {
		log_err("seccomp: role %s: building the filter: %s", name,
			strerror(-ret));
		return ret;
	}
	if (sandbox_mode == SECCOMP_MODE_TRAP) {
		/* a blocked SIGSYS would turn the report into a plain kill */
		sigemptyset(&sys);
		sigaddset(&sys, SIGSYS);
		pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	}
	ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0) {
		log_err("seccomp: role %s: loading the filter: %s", name,
			strerror(-ret));
		return ret;
	}
	log_debug("seccomp: role %s confined (%s mode)", name,
		  mode_names[sandbox_mode]);
	return 0;
}

int sandbox__export_pfc(enum sc_role role, enum seccomp_mode mode, int fd)
{
	scmp_filter_ctx ctx;
	int ret;

	ret = build_filter(role, mode, &ctx);
	if (ret)
		return ret;
	ret = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}

int sandbox__parse_user(const char *s, struct sandbox_user *out)
{
	unsigned long uid, gid;
	char *end;

	/* strtoul accepts "-1" and leading blanks; require a digit first */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	uid = strtoul(s, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	gid = strtoul(end + 1, &end, 10);
	if (errno || *end != '\0')
		return -EINVAL;
	/* (uid_t)-1 means "unchanged" to setresuid: not a real id */
	if (uid >= (uid_t)-1 || gid >= (gid_t)-1)
		return -EINVAL;
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	return 0;
}

/*
 * Number of threads in this process from /proc/self/status, or 0 when
 * /proc is not available (then the caller cannot check).
 */
static unsigned int count_threads(void)
{
	char line[128]; /* status lines are short; "Threads:" fits easily */
	unsigned int n = 0;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	}
	fclose(f);
	return n;
}

static int enter_chroot(const char *dir)
{
	int ret;

	if (chdir(dir) < 0) {
		ret = -errno;
		log_err("sandbox: chdir %s: %s", dir, strerror(-ret));
		return ret;
	}
	if (chroot(".") < 0) {
		ret = -errno;
		log_err("sandbox: chroot %s: %s", dir, strerror(-ret));
		return ret;
	}
	if (chdir("/") < 0) {
		ret = -errno;
		log_err("sandbox: chdir / in %s: %s", dir, strerror(-ret));
		return ret;
	}
	return 0;
}

static int change_user(const struct sandbox_user *u)
{
	int ret;

	if (setgroups(1, &u->gid) < 0) {
		ret = -errno;
		log_err("sandbox: setgroups %u: %s", (unsigned int)u->gid,
			strerror(-ret));
		return ret;
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0) {
		ret = -errno;
		log_err("sandbox: setresgid %u: %s", (unsigned int)u->gid,
			strerror(-ret));
		return ret;
	}
	if (setresuid(u->uid, u->uid, u->uid) < 0) {
		ret = -errno;
		log_err("sandbox: setresuid %u: %s", (unsigned int)u->uid,
			strerror(-ret));
		return ret;
	}
	/* the way back must be closed: root must not be regained */
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("sandbox: uid 0 could be regained after dropping to %u",
			(unsigned int)u->uid);
		return -EPERM;
	}
	if (u->gid != 0 && u->uid != 0 && setgid(0) == 0) {
		log_err("sandbox: gid 0 could be regained after dropping to %u",
			(unsigned int)u->gid);
		return -EPERM;
	}
	return 0;
}

int sandbox__drop_privileges(const char *chroot_dir,
			     const struct sandbox_user *user)
{
	int can_drop_bounds;
	unsigned int threads;
	int ret;

	threads = count_threads();
	if (threads > 1) {
		log_err("sandbox: dropping privileges needs a single-threaded "
			"process (%u threads)", threads);
		return -EBUSY;
	}
	if (chroot_dir && *chroot_dir) {
		ret = enter_chroot(chroot_dir);
		if (ret)
			return ret;
	}

	if (capng_get_caps_process() < 0) {
		log_err("sandbox: reading capabilities failed");
		return -EPERM;
	}
	can_drop_bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_ALL);
	/* the bounding set goes first: changing it needs CAP_SETPCAP */
	if (can_drop_bounds && capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
		log_err("sandbox: dropping the capability bounding set failed");
		return -EPERM;
	}
	if (user) {
		ret = change_user(user);
		if (ret)
			return ret;
	}
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		log_err("sandbox: dropping capabilities failed");
		return -EPERM;
	}
	if (capng_apply(CAPNG_SELECT_AMBIENT) < 0) {
		log_err("sandbox: dropping ambient capabilities failed");
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		log_err("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(-ret));
		return ret;
	}

	/* trust, but verify: read the kernel's view back */
	if (capng_get_caps_process() < 0 ||
	    capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		log_err("sandbox: capabilities still present after the drop");
		return -EPERM;
	}
	if (can_drop_bounds &&
	    capng_have_capabilities(CAPNG_SELECT_BOUNDS) != CAPNG_NONE) {
		log_err("sandbox: bounding set not empty after the drop");
		return -EPERM;
	}
	if (!can_drop_bounds)
		log_info("sandbox: no CAP_SETPCAP: bounding set left as is "
			 "(no_new_privs keeps it from being used)");
	return 0;
}
