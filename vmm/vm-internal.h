/*
 * vm-internal.h: struct vm, shared by the files of the VM core (vm.c,
 * vcpu.c, vcpu-x86_64.c, irqchip-x86_64.c). Nothing outside vmm/ sees
 * it; devices use the accessors in vm.h.
 *
 * Lock order: vm->lock -> vm->pause_lock. Device locks are leaves.
 */
#ifndef VMM_VM_INTERNAL_H
#define VMM_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmm/config.h"
#include "vmm/vm.h"

struct kvm;
struct vcpu;
struct device;
struct boot_info;
struct migration;
struct vcpu_state_caps;
struct vm_migrate;

/* Devices of all kinds a VM can hold: legacy + PCI bus + VFIO. */
#define VM_MAX_DEVICES (8 + CONFIG_MAX_VFIO)

/* Extra KVM memory slots for mmapped device memory (BAR areas). */
#define VM_MAX_EXTRA_SLOTS 64

struct vm_slot {
	bool used;
	uint64_t gpa, size;
	void *hva; /* borrowed: the device model owns the mapping */
};

struct vm {
	struct vm_config cfg;
	struct kvm *kvm;           /* owned */
	int fd;                    /* owned: KVM VM fd */
	struct guest_mem *mem;     /* owned */
	struct bus *bus;           /* owned */
	struct event_loop *loop;   /* owned */
	int sigfd;                 /* owned: signalfd for SIGTERM/SIGINT */

	unsigned int nr_vcpus;
	struct vcpu **vcpus;       /* owned */

	/* Extra memory slots (device BARs), after the RAM regions' slots. */
	pthread_mutex_t slot_lock; /* protects slots[] */
	struct vm_slot slots[VM_MAX_EXTRA_SLOTS];

	unsigned int nr_devices;
	struct device *devices[VM_MAX_DEVICES]; /* owned, in creation order */

	/* Snapshot/migration handlers of every component (vm-snapshot.c). */
	struct migration *mig;             /* owned */
	struct vcpu_state_caps *vcpu_caps; /* owned; borrowed by mig */
	bool restored;                     /* built from a snapshot */
	bool start_paused;                 /* restored VMs come up paused */
	/* live migration (issue 6): thread and dirty log (vm-migrate.c) */
	struct vm_migrate *migrate;        /* owned; NULL until vm__migrate_init */

	pthread_mutex_t lock;      /* protects state and stop */
	enum vm_state state;
	struct vm_stop stop;
	atomic_bool stopping;      /* vCPUs leave their loops */
	struct timespec started;   /* CLOCK_MONOTONIC at first run */

	/* Pause handshake with the vCPU threads. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool pause_req;     /* vCPUs park when set */
	unsigned int parked;       /* protected by pause_lock */
};

/*
 * Build a VM from @cfg. @mem (taken over, also on failure) is guest RAM
 * restored from a snapshot, or NULL for fresh RAM with the kernel
 * loaded. Registers every component's migration handlers. Returns 0 or
 * -errno after logging.
 */
int vm__build(const struct vm_config *cfg, struct guest_mem *mem,
	      struct vm **out);

/*
 * Register guest RAM with KVM (vm-memory.c): call right after
 * KVM_CREATE_VM, before the irqchip exists. Returns 0 or -errno.
 */
int vm__register_memory(struct vm *vm);

/* Register all components' snapshot handlers in vm->mig (vm-snapshot.c). */
int vm__register_migration(struct vm *vm);

#endif /* VMM_VM_INTERNAL_H */
