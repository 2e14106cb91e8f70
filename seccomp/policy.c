/*
 * policy.c: the index of ferry's seccomp policies: maps each thread
 * role to its constant table and to its name, which is used on the
 * command line of ferry-seccomp-export, in golden file names and in
 * the SIGSYS report.
 */
#include "seccomp/policy.h"

#include <errno.h>
#include <string.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_policy *const policies[SC_ROLE_COUNT] = {
	[SC_ROLE_MAIN] = &policy_main,
	[SC_ROLE_VCPU] = &policy_vcpu,
	[SC_ROLE_API] = &policy_api,
	[SC_ROLE_MIGRATION] = &policy_migration,
	[SC_ROLE_DEVICE] = &policy_device,
	[SC_ROLE_TESTDEV] = &policy_testdev,
	[SC_ROLE_INCOMING] = &policy_incoming,
};

const struct sc_policy *policy__get(enum sc_role role)
{
	if ((unsigned int)role >= ARRAY_SIZE(policies))
		return NULL;
	return policies[role];
}

const struct sc_policy *policy__base(unsigned int base)
{
	switch (base) {
	case SC_BASE_COMMON:
		return &policy_common;
	case SC_BASE_THREADS:
		return &policy_threads;
	case SC_BASE_MAIN:
		return &policy_main;
	default:
		return NULL;
	}
}

const char *policy__role_name(enum sc_role role)
{
	const struct sc_policy *p = policy__get(role);

	return p ? p->name : "unknown";
}

int policy__role_from_name(const char *name, enum sc_role *out)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(policies); i++) {
		if (strcmp(name, policies[i]->name) == 0) {
			*out = (enum sc_role)i;
			return 0;
		}
	}
	return -EINVAL;
}
