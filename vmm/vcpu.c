/*
 * vcpu.c: vCPU creation, the vCPU thread and its KVM_RUN loop. Exits
 * for port I/O and MMIO go to the buses; shutdown, internal errors and
 * failed entries stop the VM with a reason. Nothing a guest does makes
 * ferry crash: unknown exits end the VM with VM_STOP_ERROR.
 *
 * Pause/kick protocol: the requester sets vm->pause_req (or
 * vm->stopping) and sends VCPU_KICK_SIGNAL to the thread. The handler
 * sets run->immediate_exit, so a signal that lands just before KVM_RUN
 * still makes KVM_RUN return at once (-EINTR). After each return the
 * loop clears immediate_exit and re-checks the flags.
 */
#include "vmm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seccomp/policy.h"
#include "seccomp/sandbox.h"
#include "vmm/bus.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/vcpu-x86_64.h"
#include "vmm/vm-internal.h"

static __thread struct kvm_run *current_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (current_run)
		current_run->immediate_exit = 1;
}

int vcpu__init_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return -EINTR. */
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int vcpu__create(struct vm *vm, unsigned int id, const struct boot_info *boot,
		 struct vcpu **out)
{
	struct vcpu *vcpu;
	int ret;

	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->run = NULL;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		log_err("vcpu%u: KVM_CREATE_VCPU: %s", id, strerror(-ret));
		goto err_free;
	}
	vcpu->run = mmap(NULL, (size_t)vm->kvm->vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		log_err("vcpu%u: mmap kvm_run: %s", id, strerror(-ret));
		goto err_close;
	}
	ret = vcpu_x86__setup(vcpu, boot);
	if (ret)
		goto err_unmap;
	*out = vcpu;
	return 0;

err_unmap:
	munmap(vcpu->run, (size_t)vm->kvm->vcpu_mmap_size);
err_close:
	close(vcpu->fd);
err_free:
	free(vcpu);
	return ret;
}

void vcpu__destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->kvm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	/* count > 1 for rep ins/outs; each element is one access. */
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (bus__access(vcpu->vm->bus, BUS_PIO, run->io.port, data,
				run->io.size, is_write) == 0)
			continue;
		if (!is_write)
			memset(data, 0xff, run->io.size);
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (bus__access(vcpu->vm->bus, BUS_MMIO, run->mmio.phys_addr,
			run->mmio.data, len, run->mmio.is_write) == 0)
		return;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
	log_ratelimited(LOG_LEVEL_DEBUG, "vcpu%u: unhandled MMIO %s at 0x%llx",
			vcpu->id, run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr);
}

/* Returns false when the vCPU must stop running. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* With the in-kernel LAPIC, HLT is handled by KVM. */
		return true;
	case KVM_EXIT_SHUTDOWN:
		log_info("vcpu%u: guest shutdown (triple fault): treating as reset",
			 vcpu->id);
		vm__request_stop(vm, VM_STOP_RESET, 0);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			vm__request_stop(vm, VM_STOP_RESET, 0);
		} else {
			vm__request_stop(vm, VM_STOP_SHUTDOWN, 0);
		}
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vcpu%u: KVM internal error, suberror %u%s", vcpu->id,
			run->internal.suberror,
			run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				" (instruction emulation failed)" : "");
		vm__request_stop(vm, VM_STOP_ERROR, 0);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vcpu%u: VM entry failed, hardware reason 0x%llx",
			vcpu->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm__request_stop(vm, VM_STOP_ERROR, 0);
		return false;
	default:
		log_err("vcpu%u: unexpected KVM exit reason %u", vcpu->id,
			run->exit_reason);
		vm__request_stop(vm, VM_STOP_ERROR, 0);
		return false;
	}
}

/* At most this many exits while completing I/O (a long `rep outs`). */
#define VCPU_COMPLETE_IO_MAX 64

/*
 * KVM finishes an emulated port or MMIO access (the register update of
 * a read, the RIP advance) only on the next KVM_RUN. Parking right
 * after such an exit would leave it half done, and a snapshot taken
 * then would replay the access (a duplicate serial byte) or lose a read
 * value on restore. Re-enter with immediate_exit: KVM completes the
 * access and returns -EINTR without running guest code. Returns false
 * when the vCPU must stop.
 */
static bool complete_io(struct vcpu *vcpu)
{
	unsigned int i;

	for (i = 0; i < VCPU_COMPLETE_IO_MAX; i++) {
		vcpu->run->immediate_exit = 1;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			vcpu->run->immediate_exit = 0;
			return true; /* -EINTR: completed */
		}
		/* The completion itself exited again (string I/O): handle it. */
		vcpu->run->immediate_exit = 0;
		if (!handle_exit(vcpu))
			return false;
	}
	log_err("vcpu%u: I/O still pending after %d completions", vcpu->id,
		VCPU_COMPLETE_IO_MAX);
	return true;
}

/* Park while a pause is requested. Called with no lock held. */
static void park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_req) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	bool io_pending = false; /* last exit was PIO/MMIO, not yet completed */
	sigset_t set;

	log__set_tag("vcpu%u", vcpu->id);
	current_run = vcpu->run;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	/* Confined before the first KVM_RUN: the guest never sees us unfiltered. */
	if (sandbox__enter(SC_ROLE_VCPU)) {
		vm__request_stop(vm, VM_STOP_ERROR, 0);
		atomic_store(&vm->stopping, true);
	}

	while (!atomic_load(&vm->stopping)) {
		if (atomic_load(&vm->pause_req)) {
			if (io_pending && !complete_io(vcpu))
				break;
			io_pending = false;
			park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			vcpu->run->immediate_exit = 0;
			io_pending = false; /* KVM completes I/O before -EINTR */
			if (err == EINTR || err == EAGAIN)
				continue;
			log_err("vcpu%u: KVM_RUN: %s", vcpu->id, strerror(err));
			vm__request_stop(vm, VM_STOP_ERROR, 0);
			break;
		}
		vcpu->run->immediate_exit = 0;
		io_pending = vcpu->run->exit_reason == KVM_EXIT_IO ||
			     vcpu->run->exit_reason == KVM_EXIT_MMIO;
		if (!handle_exit(vcpu))
			break;
	}
	/* Count as parked so a concurrent pause request never waits for us. */
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return NULL;
}

int vcpu__start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret) {
		log_err("vcpu%u: cannot start thread: %s", vcpu->id,
			strerror(ret));
		return -ret;
	}
	vcpu->thread_started = true;
	return 0;
}

void vcpu__kick(struct vcpu *vcpu)
{
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu__join(struct vcpu *vcpu)
{
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
}
