/*
 * policy-migration.c: the allowlist of the snapshot / live-migration
 * worker. It is the one role that may create sockets (AF_UNIX, AF_INET
 * and AF_INET6 stream sockets to reach a peer) and open files (the
 * snapshot path given over the API). It reads dirty logs from the VM
 * fd, reads (never sets) the paused VM's vCPU and irqchip state for a
 * snapshot, and drives VFIO migration, but it never runs the guest.
 * The worker thread is created before the main thread confines itself
 * (vmm/worker.h), so main's narrower table does not apply to it. It may
 * start threads (the RAM channel senders of a live migration's first
 * pass), which keep this filter.
 */
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <sys/socket.h>

#include <fcntl.h>

#include "seccomp/policy-internal.h"
#include "vmm/util.h"

static const struct sc_rule migration_rules[] = {
	/* the peer */
	SC_ALLOW1(socket, SC_EQ(0, AF_UNIX), "connect to a local peer"),
	SC_ALLOW1(socket, SC_EQ(0, AF_INET), "connect to a TCP peer"),
	SC_ALLOW1(socket, SC_EQ(0, AF_INET6), "connect to a TCP peer over IPv6"),
	SC_ALLOW(connect, "reach the migration peer"),
	SC_ALLOW(accept4, "take the incoming connection on a listening socket"),
	SC_ALLOW(setsockopt, "TCP_NODELAY and buffer sizes on the stream"),
	SC_ALLOW(getsockopt, "SO_ERROR after a non-blocking connect"),
	SC_ALLOW(getpeername, "log the peer address"),
	SC_ALLOW(shutdown, "end the stream cleanly"),
	SC_ALLOW(sendto, "send() of stream data"),
	SC_ALLOW(recvfrom, "recv() of stream data"),
	SC_ALLOW(sendmsg, "stream data, and fds between local peers"),
	SC_ALLOW(recvmsg, "stream data, and fds between local peers"),
	SC_ALLOW(poll, "bounded waits on the peer"),
	SC_ALLOW(ppoll, "bounded waits on the peer"),
	/* snapshot files */
	SC_ALLOW(openat, "create or open the snapshot file named over the API"),
	SC_ALLOW(read, "snapshot file, stream, eventfds"),
	SC_ALLOW(readv, "vectored snapshot reads"),
	SC_ALLOW(writev, "vectored snapshot and stream writes"),
	SC_ALLOW(pread64, "snapshot sections by offset"),
	SC_ALLOW(pwrite64, "snapshot sections by offset"),
	SC_ALLOW(lseek, "snapshot file position"),
	SC_ALLOW(ftruncate, "size the snapshot file"),
	SC_ALLOW(fsync, "make the snapshot durable"),
	SC_ALLOW(fdatasync, "make the snapshot durable"),
	SC_ALLOW(close, "close the snapshot file or stream"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETFL), "read O_NONBLOCK"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFL), "set O_NONBLOCK"),
	SC_ALLOW(getrandom, "json-c's hash seed (config next to the snapshot)"),
	SC_ALLOW(newfstatat, "look at the snapshot target before replacing it"),
	SC_ALLOW(mkdirat, "create the snapshot's temporary directory"),
	SC_ALLOW(renameat2, "move the finished snapshot into place (NOREPLACE/EXCHANGE)"),
	SC_ALLOW(unlinkat, "remove a failed temporary directory or the replaced snapshot"),
	SC_ALLOW(getdents64, "list a snapshot directory being removed"),
	SC_ALLOW(dup, "a directory fd for fdopendir while removing a snapshot"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETFD), "fdopendir sets close-on-exec on that fd"),
	SC_ALLOW(pipe2, "the pipe that splices live-migration RAM to the socket"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_SETPIPE_SZ), "size that pipe (1 MiB)"),
	SC_ALLOW1(fcntl, SC_EQ(1, F_GETPIPE_SZ), "read that pipe's size"),
	SC_ALLOW(vmsplice, "guest RAM pages into that pipe, without a copy"),
	SC_ALLOW(splice, "from that pipe to the migration socket"),
	/* state of the paused VM (read only: restore happens before confinement) */
	SC_IOCTL(KVM_GET_REGS, "vCPU general registers"),
	SC_IOCTL(KVM_GET_SREGS, "vCPU segment and control registers"),
	SC_IOCTL(KVM_GET_XSAVE, "vCPU FPU/vector state"),
	SC_IOCTL(KVM_GET_XSAVE2, "vCPU FPU/vector state (dynamic size)"),
	SC_IOCTL(KVM_GET_XCRS, "vCPU extended control registers"),
	SC_IOCTL(KVM_GET_MSRS, "vCPU model-specific registers"),
	SC_IOCTL(KVM_GET_LAPIC, "vCPU local APIC registers"),
	SC_IOCTL(KVM_GET_VCPU_EVENTS, "vCPU pending exceptions and interrupts"),
	SC_IOCTL(KVM_GET_MP_STATE, "vCPU run state (halted, waiting for SIPI)"),
	SC_IOCTL(KVM_GET_DEBUGREGS, "vCPU debug registers"),
	SC_IOCTL(KVM_GET_TSC_KHZ, "vCPU TSC frequency"),
	SC_IOCTL(KVM_GET_IRQCHIP, "PIC and IOAPIC state"),
	SC_IOCTL(KVM_GET_PIT2, "PIT state"),
	SC_IOCTL(KVM_GET_CLOCK, "kvmclock"),
	/* dirty tracking and device state */
	SC_IOCTL(KVM_SET_USER_MEMORY_REGION, "turn dirty logging on/off on the RAM slots (live migration)"),
	SC_IOCTL(KVM_GET_DIRTY_LOG, "dirty-page bitmap per memory slot"),
	SC_IOCTL(KVM_CLEAR_DIRTY_LOG, "re-protect pages after reading the log"),
	SC_IOCTL(KVM_RESET_DIRTY_RINGS, "recycle dirty-ring entries"),
	SC_IOCTL(VFIO_DEVICE_FEATURE, "VFIO migration state and device dirty tracking"),
};

const struct sc_policy policy_migration = {
	.name = "migration",
	.rules = migration_rules,
	.nr_rules = ARRAY_SIZE(migration_rules),
	/* threads: the RAM channel senders of a live migration's first pass */
	.bases = SC_BASE_COMMON | SC_BASE_THREADS,
};
