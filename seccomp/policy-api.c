/*
 * policy-api.c: the allowlist of the HTTP API thread (libmicrohttpd on
 * a listening UNIX socket opened before the filter, plus json-c). It
 * accepts connections and talks over them, hands requests to the VMM
 * thread through an eventfd and waits for the reply. It never touches
 * the VM: no KVM ioctls, no files, no new listening sockets. Thread
 * creation is allowed so libmicrohttpd's own polling thread can be
 * started from a thread that already runs under this role.
 */
#include <errno.h>
#include <fcntl.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule api_rules[] = {
	SC_ALLOW(accept4, "accept a client on the API socket"),
	SC_ALLOW(read, "request bodies; eventfd replies from the VMM thread"),
	SC_ALLOW(recvfrom, "recv() of request data"),
	SC_ALLOW(sendto, "send() of responses (MSG_NOSIGNAL)"),
	SC_ALLOW(writev, "vectored responses"),
	SC_ALLOW(sendmsg, "libmicrohttpd sends header and body in one call"),
	SC_ALLOW(recvmsg, "recv of request data"),
	SC_ALLOW(shutdown, "close a finished connection"),
	SC_ALLOW(close, "close a finished connection"),
	SC_ALLOW(poll, "libmicrohttpd's poll mode"),
	SC_ALLOW(ppoll, "libmicrohttpd's poll mode"),
	SC_ALLOW(select, "libmicrohttpd's select mode"),
	SC_ALLOW(pselect6, "libmicrohttpd's select mode"),
	SC_ALLOW(epoll_create1, "libmicrohttpd's epoll mode, created at daemon start"),
	SC_ALLOW(epoll_ctl, "libmicrohttpd's epoll mode"),
	SC_ALLOW(epoll_wait, "libmicrohttpd's epoll mode"),
	SC_ALLOW(epoll_pwait, "libmicrohttpd's epoll mode"),
	SC_ALLOW(eventfd2, "libmicrohttpd's inter-thread wake-up, created at daemon start"),
	SC_ALLOW(pipe2, "libmicrohttpd's inter-thread wake-up (pipe fallback)"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETFL), "libmicrohttpd: read socket flags"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFL), "libmicrohttpd: make sockets non-blocking"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETFD), "libmicrohttpd: read close-on-exec"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFD), "libmicrohttpd: set close-on-exec"),
	SC_ALLOW(setsockopt, "libmicrohttpd tunes accepted sockets (TCP_NODELAY, SO_NOSIGPIPE)"),
	SC_ALLOW(getsockopt, "libmicrohttpd reads socket state"),
	SC_ALLOW(getsockname, "libmicrohttpd reads the listening address"),
	SC_ALLOW(getrandom, "json-c's hash seed"),
	SC_FAIL(openat, EACCES,
		"glibc malloc probes /proc/sys/vm/overcommit_memory once; a failed open is its fallback"),
};

const struct sc_policy policy_api = {
	.name = "api",
	.rules = api_rules,
	.nr_rules = ARRAY_SIZE(api_rules),
	.bases = SC_BASE_COMMON | SC_BASE_THREADS,
};
