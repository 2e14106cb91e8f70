/*
 * vcpu.h: one vCPU: its KVM fd, the shared kvm_run page, its thread and
 * the KVM_RUN loop that dispatches exits to the buses. Pausing uses a
 * kick signal plus KVM's immediate_exit, so a vCPU is guaranteed out of
 * the guest when it reports parked.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>

struct vm;
struct kvm_run;
struct boot_info;

struct vcpu {
	struct vm *vm;          /* borrowed */
	unsigned int id;
	int fd;                 /* owned */
	struct kvm_run *run;    /* owned mapping */
	pthread_t thread;
	bool thread_started;
};

/*
 * Create vCPU @id of @vm and set its architectural state (CPUID, MSRs,
 * FPU, LAPIC; registers from @boot for the BSP). Returns 0 or -errno
 * after logging.
 */
int vcpu__create(struct vm *vm, unsigned int id, const struct boot_info *boot,
		 struct vcpu **out);

/* Start the vCPU thread. Returns 0 or -errno. */
int vcpu__start(struct vcpu *vcpu);

/* Force the vCPU out of KVM_RUN (it re-checks pause/stop flags). Thread-safe. */
void vcpu__kick(struct vcpu *vcpu);

/* Wait for the thread to finish (after vm->stopping is set). */
void vcpu__join(struct vcpu *vcpu);

/* Unmap and close; joins nothing. NULL-safe. */
void vcpu__destroy(struct vcpu *vcpu);

/* Install the process-wide kick signal handler (once, before threads). */
int vcpu__init_signals(void);

/* The signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif /* VMM_VCPU_H */
