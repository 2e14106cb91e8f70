/*
 * policy-device.c: the allowlist of a device helper thread that serves
 * one vfio-user device socket for the VMM (server-to-client requests
 * such as DMA reads/writes and interrupts), if ferry runs one. It talks
 * over its existing socket, touches guest RAM through mappings it
 * already has, and raises interrupts; nothing else.
 */
#include <linux/kvm.h>

#include <errno.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule device_rules[] = {
	SC_ALLOW(recvmsg, "vfio-user messages from the device server, with fds"),
	SC_ALLOW(sendmsg, "vfio-user replies to the device server"),
	SC_ALLOW(sendto, "send() of replies"),
	SC_ALLOW(recvfrom, "recv() of messages"),
	SC_ALLOW(read, "eventfds (stop request, interrupt eventfds)"),
	SC_ALLOW(poll, "wait for the socket or the stop eventfd"),
	SC_ALLOW(ppoll, "wait for the socket or the stop eventfd"),
	SC_ALLOW(close, "fds received with a message and not kept"),
	SC_FAIL(openat, EACCES,
		"glibc malloc probes /proc/sys/vm/overcommit_memory once; a failed open is its fallback"),
	SC_IOCTL(KVM_IRQ_LINE, "the device server asked for an INTx change"),
	SC_IOCTL(KVM_SIGNAL_MSI, "the device server asked for an MSI"),
};

const struct sc_policy policy_device = {
	.name = "device",
	.rules = device_rules,
	.nr_rules = ARRAY_SIZE(device_rules),
	.bases = SC_BASE_COMMON,
};
