/*
 * ferry-seccomp-export.c: print a thread role's seccomp filter for
 * review. By default the filter as libseccomp's PFC text (what the
 * golden files under tests/golden/seccomp/ hold); with --list, the
 * rule table with each rule's reason.
 *
 *   ferry-seccomp-export [--mode kill|trap|log] [--list] ROLE|all
 *   ferry-seccomp-export --roles      (one role name per line)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "seccomp/policy.h"
#include "seccomp/sandbox.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ferry-seccomp-export [--mode kill|trap|log] "
		   "[--list] ROLE|all\n       ferry-seccomp-export --roles\n"
		   "roles:");
	for (int r = 0; r < SC_ROLE_COUNT; r++)
		fprintf(f, " %s", policy__role_name((enum sc_role)r));
	fprintf(f, "\n");
}

static const char *const op_names[] = {
	[SCMP_CMP_NE] = "!=", [SCMP_CMP_LT] = "<", [SCMP_CMP_LE] = "<=",
	[SCMP_CMP_EQ] = "==", [SCMP_CMP_GE] = ">=", [SCMP_CMP_GT] = ">",
	[SCMP_CMP_MASKED_EQ] = "&",
};

static void list_table(const struct sc_policy *p)
{
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct sc_rule *r = &p->rules[i];
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
							      r->nr);

		printf("%-10s %-18s", p->name, name ? name : "?");
		free(name);
		for (unsigned int a = 0; a < r->argc; a++) {
			const struct scmp_arg_cmp *c = &r->args[a];

			if (c->op == SCMP_CMP_MASKED_EQ)
				printf(" a%u&0x%llx==0x%llx", c->arg,
				       (unsigned long long)c->datum_a,
				       (unsigned long long)c->datum_b);
			else
				printf(" a%u%s0x%llx", c->arg, op_names[c->op],
				       (unsigned long long)c->datum_a);
		}
		if (r->errno_ret)
			printf(" -> errno %d", r->errno_ret);
		printf("  # %s\n", r->why);
	}
}

static int list_role(enum sc_role role)
{
	const struct sc_policy *p = policy__get(role);

	for (unsigned int bit = 1; bit; bit <<= 1)
		if (p->bases & bit)
			list_table(policy__base(bit));
	list_table(p);
	return 0;
}

static int do_role(enum sc_role role, enum seccomp_mode mode, int list)
{
	int ret;

	if (list)
		return list_role(role);
	fflush(stdout);
	ret = sandbox__export_pfc(role, mode, STDOUT_FILENO);
	if (ret) {
		fprintf(stderr, "ferry-seccomp-export: %s: %s\n",
			policy__role_name(role), strerror(-ret));
		return ret;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum seccomp_mode mode = SECCOMP_MODE_KILL;
	enum sc_role role;
	int list = 0, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			list = 1;
		} else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			const char *m = argv[++i];

			if (strcmp(m, "kill") == 0)
				mode = SECCOMP_MODE_KILL;
			else if (strcmp(m, "trap") == 0)
				mode = SECCOMP_MODE_TRAP;
			else if (strcmp(m, "log") == 0)
				mode = SECCOMP_MODE_LOG;
			else {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "--roles") == 0) {
			for (int r = 0; r < SC_ROLE_COUNT; r++)
				printf("%s\n", policy__role_name((enum sc_role)r));
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "all") == 0) {
		for (int r = 0; r < SC_ROLE_COUNT; r++)
			if (do_role((enum sc_role)r, mode, list))
				return 1;
		return 0;
	}
	if (policy__role_from_name(argv[i], &role)) {
		fprintf(stderr, "ferry-seccomp-export: unknown role '%s'\n",
			argv[i]);
		usage(stderr);
		return 2;
	}
	return do_role(role, mode, list) ? 1 : 0;
}
