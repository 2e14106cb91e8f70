/*
 * policy-vcpu.c: the allowlist of a vCPU thread: KVM_RUN and the few
 * vCPU ioctls ferry issues on the thread that owns the vCPU (register
 * and state access for setup, snapshot and restore), plus what exit
 * handling needs: device emulation writes serial output, raises
 * interrupts on the VM fd, reaches VFIO regions through pread/pwrite and
 * vfio-user devices through their existing socket. It opens, creates
 * and closes nothing and cannot create threads or sockets.
 */
#include <linux/kvm.h>
#include <linux/vfio.h>

#include <errno.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule vcpu_rules[] = {
	/* the vCPU fd */
	SC_IOCTL(KVM_RUN, "run the guest; every exit comes back through here"),
	SC_IOCTL(KVM_GET_REGS, "general registers: exit handling, snapshot"),
	SC_IOCTL(KVM_SET_REGS, "general registers: boot setup, restore"),
	SC_IOCTL(KVM_GET_SREGS, "segment/control registers: snapshot"),
	SC_IOCTL(KVM_SET_SREGS, "segment/control registers: boot setup, restore"),
	SC_IOCTL(KVM_GET_FPU, "FPU state: snapshot"),
	SC_IOCTL(KVM_SET_FPU, "FPU state: restore"),
	SC_IOCTL(KVM_GET_XSAVE, "extended FPU state: snapshot"),
	SC_IOCTL(KVM_SET_XSAVE, "extended FPU state: restore"),
	SC_IOCTL(KVM_GET_XCRS, "XCR0: snapshot"),
	SC_IOCTL(KVM_SET_XCRS, "XCR0: restore"),
	SC_IOCTL(KVM_GET_MSRS, "MSRs: snapshot"),
	SC_IOCTL(KVM_SET_MSRS, "MSRs: boot setup, restore"),
	SC_IOCTL(KVM_GET_LAPIC, "local APIC: snapshot"),
	SC_IOCTL(KVM_SET_LAPIC, "local APIC: restore"),
	SC_IOCTL(KVM_GET_VCPU_EVENTS, "pending exceptions/interrupts: snapshot"),
	SC_IOCTL(KVM_SET_VCPU_EVENTS, "pending exceptions/interrupts: restore"),
	SC_IOCTL(KVM_GET_MP_STATE, "runnable/halted state: snapshot"),
	SC_IOCTL(KVM_SET_MP_STATE, "runnable/halted state: restore"),
	SC_IOCTL(KVM_GET_DEBUGREGS, "debug registers: snapshot"),
	SC_IOCTL(KVM_SET_DEBUGREGS, "debug registers: restore"),
	SC_IOCTL(KVM_KVMCLOCK_CTRL, "tell the guest it was paused (no soft-lockup)"),
	/* the VM fd, from device emulation running in exit context */
	SC_IOCTL(KVM_IRQ_LINE, "a device raises its irq while handling an exit"),
	SC_IOCTL(KVM_IRQ_LINE_STATUS, "irqchip line with delivery status"),
	SC_IOCTL(KVM_SIGNAL_MSI, "a device injects an MSI while handling an exit"),
	SC_IOCTL(KVM_SET_GSI_ROUTING, "guest writes to an MSI-X table or MSI capability"),
	SC_IOCTL(KVM_IRQFD, "guest enables an MSI-X vector of a passthrough device"),
	SC_IOCTL(KVM_SET_USER_MEMORY_REGION, "guest enables BAR decode: memslots over mmapped VFIO BAR areas"),
	/* passthrough devices, from exit context */
	SC_IOCTL(VFIO_DEVICE_SET_IRQS, "guest enables MSI/MSI-X on a VFIO device"),
	SC_ALLOW(pread64, "VFIO region read on an MMIO/PIO exit"),
	SC_ALLOW(pwrite64, "VFIO region write on an MMIO/PIO exit"),
	SC_ALLOW(sendmsg, "vfio-user region access request on an MMIO exit"),
	SC_ALLOW(recvmsg, "vfio-user region access reply"),
	SC_ALLOW(ppoll, "bounded wait for a vfio-user reply"),
	SC_ALLOW(poll, "bounded wait for a vfio-user reply"),
	SC_ALLOW(shutdown, "a vfio-user device that fails during an exit: its socket is shut down"),
	SC_FAIL(openat, EACCES,
		"glibc malloc probes /proc/sys/vm/overcommit_memory once; a failed open is its fallback"),
	/* the rest of the VM */
	SC_ALLOW(read, "eventfd reads (pause/resume handshake)"),
	SC_ALLOW(tgkill, "a stopping vCPU kicks its siblings out of KVM_RUN"),
};

const struct sc_policy policy_vcpu = {
	.name = "vcpu",
	.rules = vcpu_rules,
	.nr_rules = ARRAY_SIZE(vcpu_rules),
	.bases = SC_BASE_COMMON,
};
