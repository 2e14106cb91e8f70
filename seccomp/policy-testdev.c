/*
 * policy-testdev.c: the allowlist of ferry-testdev, the vfio-user
 * device server used by the tests, once its listening socket is open:
 * accept the VMM, exchange messages with fds, map the DMA regions the
 * VMM shares, signal interrupts through eventfds. It runs no guest and
 * opens no files.
 */
#include <errno.h>
#include <fcntl.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule testdev_rules[] = {
	SC_ALLOW(accept4, "accept the VMM on the listening socket"),
	SC_ALLOW(recvmsg, "vfio-user requests, with fds (DMA regions, irq eventfds)"),
	SC_ALLOW(sendmsg, "vfio-user replies, with fds (region and migration fds)"),
	SC_ALLOW(sendto, "send() of replies"),
	SC_ALLOW(recvfrom, "recv() of requests"),
	SC_ALLOW(read, "requests; eventfds"),
	SC_ALLOW(readv, "vectored reads"),
	SC_ALLOW(writev, "vectored replies"),
	SC_ALLOW(pread64, "device state kept in a memfd"),
	SC_ALLOW(pwrite64, "device state kept in a memfd"),
	SC_ALLOW(lseek, "device state kept in a memfd"),
	SC_ALLOW(ftruncate, "size a memfd-backed region"),
	SC_ALLOW(memfd_create, "back a BAR region shared with the VMM"),
	SC_ALLOW(shutdown, "end a session"),
	SC_ALLOW(close, "end a session; drop fds received with a message"),
	SC_ALLOW(poll, "wait for the socket and timers"),
	SC_ALLOW(ppoll, "wait for the socket and timers"),
	SC_ALLOW(epoll_wait, "event loop"),
	SC_ALLOW(epoll_pwait, "event loop"),
	SC_ALLOW(epoll_ctl, "event loop"),
	SC_ALLOW(timerfd_settime, "device timers (DMA pacing, test interrupts)"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETFL), "read O_NONBLOCK"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFL), "set O_NONBLOCK"),
	SC_ALLOW(getrandom, "test data patterns"),
	SC_FAIL(openat, EACCES,
		"glibc malloc probes /proc/sys/vm/overcommit_memory once; a failed open is its fallback"),
};

const struct sc_policy policy_testdev = {
	.name = "testdev",
	.rules = testdev_rules,
	.nr_rules = ARRAY_SIZE(testdev_rules),
	.bases = SC_BASE_COMMON,
};
