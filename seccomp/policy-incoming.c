/*
 * policy-incoming.c: the allowlist of the loader thread of an incoming
 * live migration (`ferry --incoming`). Once the handshake has built the
 * VM and privileges are dropped, the rest of the stream (RAM, device
 * data, the state of every component) is parsed on this thread under
 * this filter; the thread ends with the load. It is the main role's
 * table (the device backends the load drives: vfio-user sockets, VFIO
 * fds, irq routing, memslots) plus what loading needs: RAM spliced from
 * the socket into the guest memfd, and setting the vCPU state on the
 * vCPU fds. It creates no threads and opens nothing.
 */
#include <linux/kvm.h>

#include <fcntl.h>
#include <sys/mman.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

/* MADV_POPULATE_WRITE (Linux 5.14): the receive fallback without splice. */
#define INCOMING_MADV_POPULATE_WRITE 23

static const struct sc_rule incoming_rules[] = {
	/*
	 * RAM from the stream into the guest memfd (migration/live-load*.c);
	 * the pipes are made before the threads confine themselves.
	 */
	SC_ALLOW(splice, "socket -> pipe -> guest memfd, without mapping the pages"),
	SC_ALLOW1(madvise, SC_EQ(2, INCOMING_MADV_POPULATE_WRITE),
		  "fault fresh guest pages in at once when splice is unavailable"),
	/* vCPU state from the stream, set on the vCPU fds before they run */
	SC_IOCTL(KVM_SET_REGS, "general registers"),
	SC_IOCTL(KVM_SET_SREGS, "segment and control registers"),
	SC_IOCTL(KVM_SET_XSAVE, "extended register state"),
	SC_IOCTL(KVM_SET_XCRS, "XCR0, the enabled XSAVE features"),
	SC_IOCTL(KVM_SET_MSRS, "the saved MSRs"),
	SC_IOCTL(KVM_SET_LAPIC, "local APIC registers"),
	SC_IOCTL(KVM_SET_MP_STATE, "runnable / halted / waiting for SIPI"),
	SC_IOCTL(KVM_SET_VCPU_EVENTS, "pending exceptions, interrupts and NMIs"),
	SC_IOCTL(KVM_SET_DEBUGREGS, "debug registers"),
	SC_IOCTL(KVM_SET_TSC_KHZ, "the source's TSC frequency, where it differs"),
	SC_IOCTL(KVM_GET_TSC_KHZ, "compare the TSC frequency with the source's"),
	SC_IOCTL(KVM_CHECK_EXTENSION, "capabilities the loaded state relies on"),
	SC_IOCTL(KVM_ENABLE_CAP, "manual dirty-log protection for a later migration"),
};

const struct sc_policy policy_incoming = {
	.name = "incoming",
	.rules = incoming_rules,
	.nr_rules = ARRAY_SIZE(incoming_rules),
	.bases = SC_BASE_COMMON | SC_BASE_MAIN,
};
