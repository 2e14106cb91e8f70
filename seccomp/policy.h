/*
 * policy.h: the vocabulary of ferry's seccomp allowlists. A policy is a
 * constant table of rules, one per allowed syscall (or syscall plus
 * argument condition), each with a one-line reason a reviewer can
 * check. Every thread of ferry runs under exactly one role; the tables
 * themselves live in seccomp/policy-<role>.c and are turned into BPF
 * by seccomp/sandbox.c.
 */
#ifndef SECCOMP_POLICY_H
#define SECCOMP_POLICY_H

#include <stddef.h>

#include <seccomp.h>

/* The thread roles. Each ferry thread installs the filter of its role. */
enum sc_role {
	SC_ROLE_MAIN = 0,  /* VMM thread: event loop, device backends, irq routing */
	SC_ROLE_VCPU,      /* one per vCPU: KVM_RUN and exit dispatch */
	SC_ROLE_API,       /* HTTP API thread (libmicrohttpd) */
	SC_ROLE_MIGRATION, /* snapshot / live-migration worker */
	SC_ROLE_DEVICE,    /* helper thread serving a vfio-user device socket */
	SC_ROLE_TESTDEV,   /* ferry-testdev, the vfio-user device server */
	SC_ROLE_INCOMING,  /* loader thread of an incoming live migration */
	SC_ROLE_COUNT,
};

/*
 * Argument conditions per rule. libseccomp can compare up to six, but
 * no ferry rule needs more than two; three leaves room.
 */
#define SC_MAX_ARGS 3

/*
 * One allowlist entry. @nr is SCMP_SYS(name). All @args must match
 * (AND); several rules for the same syscall are alternatives (OR).
 * @errno_ret 0 allows the call; non-zero makes it fail with that errno
 * instead of running (used to steer glibc off clone3, whose arguments
 * a filter cannot see).
 */
struct sc_rule {
	int nr;
	int errno_ret;
	unsigned int argc;
	struct scmp_arg_cmp args[SC_MAX_ARGS];
	const char *why;
};

/* A role's table. */
struct sc_policy {
	const char *name; /* "main", "vcpu", ... (file and CLI name) */
	const struct sc_rule *rules;
	size_t nr_rules;
	unsigned int bases; /* SC_BASE_* tables added underneath */
};

/* Shared tables a role can build on (see policy-common.c). */
#define SC_BASE_COMMON (1u << 0)  /* glibc basics every thread needs */
#define SC_BASE_THREADS (1u << 1) /* create threads that load their own filter */
#define SC_BASE_MAIN (1u << 2)    /* the main role's own table (incoming) */

/* Argument conditions, written as plain initializers so tables stay const. */
#define SC_EQ(i, v) \
	{ .arg = (i), .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)(v) }
#define SC_MASKED_EQ(i, mask, v)                                      \
	{ .arg = (i), .op = SCMP_CMP_MASKED_EQ,                        \
	  .datum_a = (scmp_datum_t)(mask), .datum_b = (scmp_datum_t)(v) }

/*
 * ioctl request numbers are 32 bits in the kernel (unsigned int cmd);
 * comparing only the low 32 bits keeps a caller that sign-extends a
 * request with bit 31 set (_IOR/_IOW) from being killed by mistake.
 */
#define SC_IOCTL_CMD_MASK 0xffffffffULL

/* Allow @name unconditionally. */
#define SC_ALLOW(name, reason) { .nr = SCMP_SYS(name), .why = (reason) }
/* Allow @name when one / two argument conditions hold. */
#define SC_ALLOW1(name, c0, reason) \
	{ .nr = SCMP_SYS(name), .argc = 1, .args = { c0 }, .why = (reason) }
#define SC_ALLOW2(name, c0, c1, reason) \
	{ .nr = SCMP_SYS(name), .argc = 2, .args = { c0, c1 }, .why = (reason) }
/* Allow ioctl(fd, @cmd, ...) for one request number. */
#define SC_IOCTL(cmd, reason) \
	SC_ALLOW1(ioctl, SC_MASKED_EQ(1, SC_IOCTL_CMD_MASK, cmd), reason)
/* Make @name fail with @err without running it. */
#define SC_FAIL(name, err, reason) \
	{ .nr = SCMP_SYS(name), .errno_ret = (err), .why = (reason) }

/*
 * The table for @role, or NULL for a value outside the enum. The
 * returned tables are static and immutable.
 */
const struct sc_policy *policy__get(enum sc_role role);

/*
 * The shared base table for one SC_BASE_* bit, or NULL for anything
 * else. Static and immutable.
 */
const struct sc_policy *policy__base(unsigned int base);

/* "main", "vcpu", ...; "unknown" for a value outside the enum. */
const char *policy__role_name(enum sc_role role);

/* Look a role up by its name. Returns 0, or -EINVAL for an unknown name. */
int policy__role_from_name(const char *name, enum sc_role *out);

#endif /* SECCOMP_POLICY_H */
