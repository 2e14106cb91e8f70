/*
 * vm.h: the VM object: /dev/kvm and the VM fd, guest memory, buses,
 * in-kernel irqchip, vCPUs, devices and the lifecycle state machine
 *   CREATED -> RUNNING <-> PAUSED -> STOPPING -> STOPPED.
 * Threads: the VMM thread (the caller of vm__run) owns all of this and
 * runs the event loop; vCPU threads only run guest code and dispatch
 * exits to the buses; the API thread never touches a struct vm.
 * Functions marked "VMM thread" must only be called from it.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vm_config;
struct guest_mem;
struct bus;
struct event_loop;

enum vm_state {
	VM_STATE_CREATED = 0,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_STOPPING,
	VM_STATE_STOPPED,
};

/* Why the VM stopped; main() turns it into the process exit status. */
enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_GUEST_EXIT,  /* debug-exit port: status (v<<1)|1 */
	VM_STOP_SHUTDOWN,    /* orderly stop requested (API, guest power-off) */
	VM_STOP_RESET,       /* guest asked for a reset (i8042, triple fault) */
	VM_STOP_SIGNAL,      /* SIGTERM or SIGINT */
	VM_STOP_ERROR,       /* KVM or device failure that ended the VM */
	VM_STOP_MIGRATED,    /* live migration completed: the VM runs elsewhere */
};

struct vm_stop {
	enum vm_stop_reason reason;
	int guest_status; /* VM_STOP_GUEST_EXIT: value written to the port */
	int signo;        /* VM_STOP_SIGNAL */
};

struct vm_info {
	enum vm_state state;
	uint64_t uptime_ms; /* since the vCPUs first ran; 0 before */
	unsigned int vcpus;
	uint64_t mem_size;
};

/*
 * Block SIGTERM/SIGINT (delivered later through the VM's signalfd) and
 * the vCPU kick signal in the calling thread. main() calls it first,
 * before any thread exists, so that every thread inherits the mask and
 * a signal can never take the default action on some helper thread.
 * Returns 0 or -errno.
 */
int vm__block_signals(void);

/*
 * Build a VM from @cfg (borrowed; copied): open /dev/kvm, check
 * capabilities, create memory, irqchip, vCPUs and devices, load the
 * kernel. Nothing runs yet. Logs the reason and returns -errno on
 * failure.
 */
int vm__create(const struct vm_config *cfg, struct vm **out);

/*
 * Start the vCPUs and run the event loop on the calling thread (which
 * becomes the VMM thread) until the VM stops; then join the vCPUs and
 * fill @stop. Returns 0 or -errno.
 */
int vm__run(struct vm *vm, struct vm_stop *stop);

/* Tear everything down. NULL-safe; call after vm__run returned. */
void vm__destroy(struct vm *vm);

/*
 * VMM thread. Stop all vCPUs (each out of KVM_RUN) and quiesce devices.
 * Returns 0, or -EBUSY when the VM is not running.
 */
int vm__pause(struct vm *vm);

/* VMM thread. Resume a paused VM. Returns 0 or -EBUSY when not paused. */
int vm__resume(struct vm *vm);

/*
 * Ask the VM to stop for @reason. Thread-safe (vCPU threads, signal
 * handling); the first request wins.
 */
void vm__request_stop(struct vm *vm, enum vm_stop_reason reason,
		      int guest_status);

/* VMM thread. Current state and basic facts. */
void vm__get_info(struct vm *vm, struct vm_info *info);

/* The configuration the VM was created with (borrowed, read-only). */
const struct vm_config *vm__config(const struct vm *vm);

/* Borrowed handles for device models (valid for the VM's lifetime). */
struct guest_mem *vm__mem(struct vm *vm);
struct bus *vm__bus(struct vm *vm);
struct event_loop *vm__event_loop(struct vm *vm);
int vm__fd(const struct vm *vm);

/*
 * Map host memory @hva (e.g. an mmapped device BAR) at guest-physical
 * [@gpa, @gpa+@size) as a KVM memory slot, so guest accesses go straight
 * to it without exits. Page-aligned. Thread-safe. Returns 0 and the slot
 * id in *slot, -EEXIST if it overlaps RAM or another slot, -ENOSPC, or
 * the ioctl's -errno.
 */
int vm__map_memslot(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
		    unsigned int *slot);

/* Remove a slot added by vm__map_memslot. Thread-safe. */
int vm__unmap_memslot(struct vm *vm, unsigned int slot);

/* Set in-kernel irqchip line @gsi to @level. Thread-safe. Returns 0 or -errno. */
int vm__irq_line(struct vm *vm, unsigned int gsi, int level);

/* Inject an MSI. Thread-safe. Returns 0 or -errno. */
int vm__signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

#endif /* VMM_VM_H */
