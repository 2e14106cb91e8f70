/*
 * testdev-harness.h: start and stop ferry-testdev instances for the
 * vfio-user tests (the binary's path comes from $FERRY_TESTDEV).
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_TESTDEV_HARNESS_H
#define TESTS_UNIT_DEVICES_VFIO_TESTDEV_HARNESS_H

#include <sys/types.h>

struct vfio_backend;

struct testdev_proc {
	pid_t pid;
	char dir[64];
	char sock[128];
	char log[128];
};

/*
 * Start ferry-testdev with extra arguments (NULL-terminated @args),
 * wait until it accepts connections. Returns 0 or -1.
 */
int harness__start(struct testdev_proc *p, const char *const *args);

/* Connect a vfio-user client backend to @p. Returns 0 or -errno. */
int harness__connect(struct testdev_proc *p, struct vfio_backend **out);

/* SIGTERM, wait, remove the directory. */
void harness__stop(struct testdev_proc *p);

/* Count lines in @p's log containing @needle. */
int harness__log_count(const struct testdev_proc *p, const char *needle);

#endif /* TESTS_UNIT_DEVICES_VFIO_TESTDEV_HARNESS_H */
