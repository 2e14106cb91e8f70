/*
 * test-policy.c: the policy tables themselves. Each role's filter,
 * exported as PFC, must equal tests/golden/seccomp/<role>.pfc, so any
 * change to an allowlist shows up in review (regenerate with
 * `ninja -C BUILD update-seccomp-golden`). Every rule must carry a
 * reason and name a real syscall, no rule may be repeated, and no role
 * may allow the syscalls that would undo the sandbox.
 */
#include <sys/mman.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp/policy.h"
#include "seccomp/sandbox.h"

/* Golden files are small (a few KiB); anything bigger is a failure. */
#define PFC_MAX (256 * 1024)

static char *read_all(int fd, size_t *len)
{
	char *buf = malloc(PFC_MAX + 1);
	size_t got = 0;
	ssize_t n;

	assert_non_null(buf);
	while ((n = read(fd, buf + got, PFC_MAX - got)) > 0)
		got += (size_t)n;
	assert_true(n == 0);
	assert_true(got < PFC_MAX);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static char *export_role(enum sc_role role, enum seccomp_mode mode,
			 size_t *len)
{
	FILE *tmp = tmpfile();
	char *buf;

	assert_non_null(tmp);
	assert_int_equal(sandbox__export_pfc(role, mode, fileno(tmp)), 0);
	assert_int_equal(lseek(fileno(tmp), 0, SEEK_SET), 0);
	buf = read_all(fileno(tmp), len);
	fclose(tmp);
	return buf;
}

static void test_policy__golden_pfc(void **state)
{
	const char *dir = getenv("SECCOMP_GOLDEN_DIR");
	char path[4096];

	(void)state;
	if (!dir)
		fail_msg("SECCOMP_GOLDEN_DIR not set (run through meson test)");
	for (int r = 0; r < SC_ROLE_COUNT; r++) {
		const char *name = policy__role_name((enum sc_role)r);
		size_t want_len, got_len;
		char *want, *got;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.pfc", dir, name);
		f = fopen(path, "re");
		if (!f)
			fail_msg("%s: %s (generate with update-seccomp-golden)",
				 path, strerror(errno));
		want = read_all(fileno(f), &want_len);
		fclose(f);
		got = export_role((enum sc_role)r, SECCOMP_MODE_KILL, &got_len);
		if (want_len != got_len || memcmp(want, got, got_len) != 0)
			fail_msg("role %s: filter differs from %s; if intended, "
				 "run `ninja update-seccomp-golden` and review "
				 "the diff", name, path);
		free(want);
		free(got);
	}
}

static void test_policy__default_action_follows_mode(void **state)
{
	/* PFC spells the default action at the end of the filter */
	static const struct {
		enum seccomp_mode mode;
		const char *action;
	} modes[] = {
		{ SECCOMP_MODE_KILL, "action KILL_PROCESS;" },
		{ SECCOMP_MODE_TRAP, "action TRAP;" },
		{ SECCOMP_MODE_LOG, "action LOG;" },
	};
	size_t len;
	char *pfc;

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		pfc = export_role(SC_ROLE_VCPU, modes[i].mode, &len);
		if (!strstr(pfc, modes[i].action))
			fail_msg("mode %d: no '%s' in the filter", modes[i].mode,
				 modes[i].action);
		free(pfc);
	}
	assert_int_equal(sandbox__export_pfc(SC_ROLE_VCPU, SECCOMP_MODE_OFF, 1),
			 -EINVAL);
	assert_int_equal(sandbox__export_pfc(SC_ROLE_COUNT, SECCOMP_MODE_KILL, 1),
			 -EINVAL);
}

static void check_table(const struct sc_policy *p)
{
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct sc_rule *r = &p->rules[i];
		char *name;

		if (!r->why || strlen(r->why) < 8)
			fail_msg("%s rule %zu: missing reason", p->name, i);
		if (r->argc > SC_MAX_ARGS)
			fail_msg("%s rule %zu: argc %u", p->name, i, r->argc);
		/* negative: a pseudo number, i.e. no such syscall here */
		if (r->nr < 0)
			fail_msg("%s rule %zu (%s): not a syscall on this arch",
				 p->name, i, r->why);
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
		if (!name)
			fail_msg("%s rule %zu: unknown nr %d", p->name, i, r->nr);
		free(name);
		for (size_t j = 0; j < i; j++) {
			const struct sc_rule *o = &p->rules[j];

			if (o->nr == r->nr && o->argc == r->argc &&
			    memcmp(o->args, r->args, sizeof(o->args)) == 0)
				fail_msg("%s rules %zu and %zu are the same",
					 p->name, j, i);
		}
	}
}

static void test_policy__rules_have_reasons(void **state)
{
	(void)state;
	check_table(policy__base(SC_BASE_COMMON));
	check_table(policy__base(SC_BASE_THREADS));
	for (int r = 0; r < SC_ROLE_COUNT; r++)
		check_table(policy__get((enum sc_role)r));
}

/* Would undo the sandbox or reach beyond ferry: never on any list. */
static const int never[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(chroot), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups),
	SCMP_SYS(capset), SCMP_SYS(unshare), SCMP_SYS(setns),
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(kexec_load),
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(keyctl),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(userfaultfd),
	SCMP_SYS(open_by_handle_at), SCMP_SYS(kill), SCMP_SYS(reboot),
	SCMP_SYS(swapon), SCMP_SYS(iopl), SCMP_SYS(ioperm),
};

static void check_never(const struct sc_policy *p)
{
	for (size_t i = 0; i < p->nr_rules; i++)
		for (size_t j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			if (p->rules[i].nr == never[j] && !p->rules[i].errno_ret)
				fail_msg("%s allows forbidden syscall nr %d",
					 p->name, never[j]);
}

static void test_policy__dangerous_syscalls_never_allowed(void **state)
{
	(void)state;
	check_never(policy__base(SC_BASE_COMMON));
	check_never(policy__base(SC_BASE_THREADS));
	for (int r = 0; r < SC_ROLE_COUNT; r++)
		check_never(policy__get((enum sc_role)r));
}

static void test_policy__role_names(void **state)
{
	enum sc_role role;

	(void)state;
	for (int r = 0; r < SC_ROLE_COUNT; r++) {
		assert_int_equal(policy__role_from_name(
				 policy__role_name((enum sc_role)r), &role), 0);
		assert_int_equal(role, r);
	}
	assert_string_equal(policy__role_name(SC_ROLE_VCPU), "vcpu");
	assert_string_equal(policy__role_name(SC_ROLE_COUNT), "unknown");
	assert_int_equal(policy__role_from_name("root", &role), -EINVAL);
	assert_null(policy__get(SC_ROLE_COUNT));
	assert_null(policy__base(1u << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__golden_pfc),
		cmocka_unit_test(test_policy__default_action_follows_mode),
		cmocka_unit_test(test_policy__rules_have_reasons),
		cmocka_unit_test(test_policy__dangerous_syscalls_never_allowed),
		cmocka_unit_test(test_policy__role_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
