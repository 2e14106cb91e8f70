/*
 * policy-internal.h: the per-role tables, defined one per file in
 * seccomp/policy-<role>.c and collected by seccomp/policy.c. Only
 * seccomp/ includes this; everyone else goes through policy__get().
 */
#ifndef SECCOMP_POLICY_INTERNAL_H
#define SECCOMP_POLICY_INTERNAL_H

#include "seccomp/policy.h"

extern const struct sc_policy policy_common;
extern const struct sc_policy policy_threads;
extern const struct sc_policy policy_main;
extern const struct sc_policy policy_vcpu;
extern const struct sc_policy policy_api;
extern const struct sc_policy policy_migration;
extern const struct sc_policy policy_device;
extern const struct sc_policy policy_testdev;
extern const struct sc_policy policy_incoming;

#endif /* SECCOMP_POLICY_INTERNAL_H */
