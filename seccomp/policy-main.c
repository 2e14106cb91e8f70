/*
 * policy-main.c: the allowlist of the VMM thread, which runs the epoll
 * event loop after setup: device backends (serial input, timers,
 * eventfds), interrupt routing on the VM fd, dirty logging, vfio-user
 * and VFIO device control, kicking vCPU threads, and starting helper
 * threads that then install their own filters. It opens nothing and
 * creates no sockets: everything it uses was opened before the filter.
 */
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule main_rules[] = {
	/* the event loop and its fds */
	SC_ALLOW(epoll_wait, "the event loop's wait"),
	SC_ALLOW(epoll_pwait, "the event loop's wait (glibc may use the p-variant)"),
	SC_ALLOW(epoll_ctl, "devices add and remove fds at runtime"),
	SC_ALLOW(read, "eventfds, timerfds, serial input, vfio-user replies"),
	SC_ALLOW(readv, "vectored reads from device backends"),
	SC_ALLOW(writev, "vectored writes to device backends"),
	SC_ALLOW(pread64, "VFIO region and config-space reads"),
	SC_ALLOW(pwrite64, "VFIO region and config-space writes"),
	SC_ALLOW(lseek, "serial output file position"),
	SC_ALLOW(close, "closing fds of devices and finished connections"),
	SC_ALLOW(timerfd_settime, "device timers (RTC, PIT fallback, timeouts)"),
	SC_ALLOW(timerfd_gettime, "device timers"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETFL), "query O_NONBLOCK on backend fds"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFL), "set O_NONBLOCK on backend fds"),
	SC_ALLOW(getrandom, "json-c's hash seed when building API replies"),
	SC_FAIL(openat, EACCES,
		"glibc malloc probes /proc/sys/vm/overcommit_memory once; a failed open is its fallback"),
	/* sockets that already exist (vfio-user, incoming connections) */
	SC_ALLOW(sendmsg, "vfio-user requests, with fds (SCM_RIGHTS)"),
	SC_ALLOW(recvmsg, "vfio-user replies and server requests, with fds"),
	SC_ALLOW(poll, "bounded wait for a vfio-user reply (reset, IRQ and DMA teardown)"),
	SC_ALLOW(ppoll, "bounded wait for a vfio-user reply (glibc may use the p-variant)"),
	SC_ALLOW(sendto, "send() on stream sockets"),
	SC_ALLOW(recvfrom, "recv() on stream sockets"),
	SC_ALLOW(accept4, "accept on listening sockets handed to the loop"),
	SC_ALLOW(shutdown, "orderly close of a peer connection"),
	/* kicking vCPUs and stopping */
	SC_ALLOW(tgkill, "signal a vCPU thread out of KVM_RUN (pause, stop)"),
	/* VM fd: interrupts, memory, dirty tracking */
	SC_IOCTL(KVM_IRQ_LINE, "raise/lower an in-kernel irqchip line"),
	SC_IOCTL(KVM_IRQ_LINE_STATUS, "irqchip line with delivery status"),
	SC_IOCTL(KVM_SIGNAL_MSI, "inject an MSI from a device backend"),
	SC_IOCTL(KVM_IRQFD, "route an eventfd (VFIO, vfio-user) to a GSI"),
	SC_IOCTL(KVM_IOEVENTFD, "doorbell eventfds for device registers"),
	SC_IOCTL(KVM_SET_GSI_ROUTING, "MSI/MSI-X routes as the guest programs them"),
	SC_IOCTL(KVM_SET_USER_MEMORY_REGION, "map/unmap BAR regions and RAM slots"),
	SC_IOCTL(KVM_GET_DIRTY_LOG, "dirty-page bitmap for migration"),
	SC_IOCTL(KVM_CLEAR_DIRTY_LOG, "re-protect pages after reading the dirty log"),
	SC_IOCTL(KVM_RESET_DIRTY_RINGS, "recycle dirty-ring entries"),
	SC_IOCTL(KVM_GET_CLOCK, "kvmclock for snapshots"),
	SC_IOCTL(KVM_SET_CLOCK, "kvmclock on restore"),
	SC_IOCTL(KVM_GET_IRQCHIP, "PIC/IOAPIC state for snapshots"),
	SC_IOCTL(KVM_SET_IRQCHIP, "PIC/IOAPIC state on restore"),
	SC_IOCTL(KVM_GET_PIT2, "PIT state for snapshots"),
	SC_IOCTL(KVM_SET_PIT2, "PIT state on restore"),
	/* VFIO device fds */
	SC_IOCTL(VFIO_DEVICE_SET_IRQS, "(un)wire MSI/MSI-X eventfds as the guest enables vectors"),
	SC_IOCTL(VFIO_DEVICE_RESET, "device reset on guest FLR or VM reset"),
	SC_IOCTL(VFIO_DEVICE_FEATURE, "migration state and dirty tracking (same nr: VFIO_IOMMU_DIRTY_PAGES)"),
	SC_IOCTL(VFIO_IOMMU_MAP_DMA, "map guest RAM for device DMA"),
	SC_IOCTL(VFIO_IOMMU_UNMAP_DMA, "unmap guest RAM for device DMA"),
	/* the console on stdin/stdout */
	SC_IOCTL(TCGETS, "isatty / read the console mode"),
	SC_IOCTL(TCSETS, "restore the console mode at exit"),
	SC_IOCTL(TCSETSW, "restore the console mode at exit (drain first)"),
};

const struct sc_policy policy_main = {
	.name = "main",
	.rules = main_rules,
	.nr_rules = ARRAY_SIZE(main_rules),
	.bases = SC_BASE_COMMON | SC_BASE_THREADS,
};
