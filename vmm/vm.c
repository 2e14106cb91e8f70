/*
 * vm.c: the VM object and its lifecycle. vm__create assembles KVM, guest
 * memory, the irqchip, devices, the loaded kernel and the vCPUs;
 * vm__run starts the vCPU threads and turns the calling thread into the
 * VMM thread (event loop) until something stops the VM. Pause/resume
 * park the vCPUs through the kick protocol in vcpu.c.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "devices/device.h"
#include "devices/pci/pci-host.h"
#include "devices/registry.h"
#include "seccomp/policy.h"
#include "seccomp/sandbox.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/bus.h"
#include "vmm/event.h"
#include "vmm/irqchip-x86_64.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/mptable.h"
#include "vmm/util.h"
#include "vmm/vcpu.h"
#include "vmm/vm-internal.h"
#include "vmm/vm-migrate.h"
#include "migration/registry.h"

/*
 * A vCPU leaves KVM_RUN within microseconds of a kick; only a vCPU stuck
 * in a blocking device write (a full console pipe) takes longer.
 */
#define VM_PAUSE_TIMEOUT_S 5

static int add_device(struct vm *vm, const struct device_type *type,
		      const void *arg)
{
	struct device *dev;
	int ret;

	if (vm->nr_devices == VM_MAX_DEVICES)
		return -ENOSPC;
	ret = type->create(vm, arg, &dev);
	if (ret)
		return ret;
	vm->devices[vm->nr_devices++] = dev;
	return 0;
}

/* Guest physical address bits: CPUID 0x80000008 EAX[7:0] as KVM passes it. */
static unsigned int guest_phys_bits(const struct vm *vm)
{
	const struct kvm_cpuid2 *c = vm->kvm->cpuid;
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			return c->entries[i].eax & 0xff;
	return 36; /* the architectural minimum with PAE */
}

/*
 * Legacy devices always; the PCI host bridge and the passthrough
 * devices only when the configuration has any (the bridge's routing
 * table costs a KVM grace period at startup).
 */
static int create_devices(struct vm *vm)
{
	const struct device_type *const *types;
	const struct device_type *vfio_type;
	struct pci_host_config pci = { .phys_bits = guest_phys_bits(vm) };
	size_t n, i;
	int ret;

	types = registry__types(&n);
	for (i = 0; i < n; i++) {
		if (types[i]->phase != DEVICE_PHASE_LEGACY)
			continue;
		ret = add_device(vm, types[i], NULL);
		if (ret)
			return ret;
	}
	if (!vm->cfg.nr_vfio)
		return 0;
	ret = add_device(vm, &pci_host_type, &pci);
	if (ret)
		return ret;
	vfio_type = registry__find("vfio-pci");
	if (!vfio_type) {
		log_err("this ferry was built without the vfio-pci device");
		return -ENOTSUP;
	}
	for (i = 0; i < vm->cfg.nr_vfio; i++) {
		ret = add_device(vm, vfio_type, &vm->cfg.vfio[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(vm->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("received %s, stopping the VM", strsignal((int)si.ssi_signo));
	pthread_mutex_lock(&vm->lock);
	if (vm->stop.reason == VM_STOP_NONE) {
		vm->stop.reason = VM_STOP_SIGNAL;
		vm->stop.signo = (int)si.ssi_signo;
	}
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&vm->stopping, true);
	event__stop(vm->loop);
}

/*
 * SIGTERM/SIGINT arrive through a signalfd on the event loop; they are
 * blocked in every thread (vCPU threads inherit the mask). The kick
 * signal is blocked here too and unblocked only in vCPU threads.
 */
int vm__block_signals(void)
{
	sigset_t set;
	int ret;

	ret = vcpu__init_signals();
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int setup_signals(struct vm *vm)
{
	sigset_t set;
	int ret;

	/* Normally done by main() before any thread; harmless twice. */
	ret = vm__block_signals();
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	vm->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sigfd < 0)
		return -errno;
	return event__add(vm->loop, vm->sigfd, EPOLLIN, on_signal, vm);
}

static int load_kernel(struct vm *vm, struct boot_info *bi)
{
	struct mptable_config mp = { .nr_cpus = vm->nr_vcpus };
	uint64_t rsdp;
	int ret;

	ret = boot__load(vm->mem, vm->cfg.kernel, vm->cfg.initrd,
			 vm->cfg.cmdline, bi);
	if (ret)
		return ret;
	if (vm->cfg.nr_vfio) {
		ret = pci_host__mptable(vm, &mp);
		if (ret)
			return ret;
	}
	ret = mptable__write(vm->mem, &mp);
	if (ret) {
		log_err("cannot write the MP table for %u vCPUs: %s",
			vm->nr_vcpus, strerror(-ret));
		return ret;
	}
	/*
	 * The same CPUs and IOAPIC for ACPI-first guests (vmm/acpi.h). Not
	 * with PCI devices: the DSDT does not describe the PCI bus (no root
	 * bridge, no _PRT), and a Linux guest that boots from ACPI scans PCI
	 * only through the DSDT, so the devices would vanish; the MP table
	 * describes them.
	 */
	if (vm->cfg.no_acpi)
		return 0;
	if (vm->cfg.nr_vfio) {
		log_info("no ACPI tables: they do not describe the PCI bus yet, the MP table does");
		return 0;
	}
	ret = acpi__write(vm->mem, &(struct acpi_config){
					   .nr_cpus = vm->nr_vcpus,
					   .ioapic_id = (uint8_t)vm->nr_vcpus,
					   .irq0_to_pin2 = mp.irq0_to_pin2,
				   }, &rsdp);
	if (!ret)
		ret = boot__set_acpi_rsdp(vm->mem, bi, rsdp);
	if (ret)
		log_err("cannot write the ACPI tables for %u vCPUs: %s",
			vm->nr_vcpus, strerror(-ret));
	return ret;
}

int vm__build(const struct vm_config *cfg, struct guest_mem *mem,
	      struct vm **out)
{
	struct boot_info bi, *boot = NULL;
	struct vm *vm;
	unsigned int i;
	int ret;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		mem__destroy(mem);
		return -ENOMEM;
	}
	vm->cfg = *cfg;
	vm->fd = -1;
	vm->sigfd = -1;
	vm->nr_vcpus = cfg->vcpus;
	vm->mem = mem;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_mutex_init(&vm->slot_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);

	ret = kvm__open("/dev/kvm", &vm->kvm);
	if (ret)
		goto err;
	if (vm->nr_vcpus > vm->kvm->max_vcpus) {
		log_err("%u vCPUs requested, KVM allows %u", vm->nr_vcpus,
			vm->kvm->max_vcpus);
		ret = -EINVAL;
		goto err;
	}
	vm->fd = ioctl(vm->kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VM: %s", strerror(-ret));
		goto err;
	}
	if (!vm->mem) {
		ret = mem__create(cfg->mem_size, &vm->mem);
		if (ret) {
			log_err("cannot allocate %llu MiB of guest memory: %s",
				(unsigned long long)(cfg->mem_size >> 20),
				strerror(-ret));
			goto err;
		}
		boot = &bi; /* fresh memory: load the kernel */
	}
	ret = vm__register_memory(vm);
	if (ret)
		goto err;
	ret = irqchip__create(vm->fd);
	if (ret)
		goto err;
	ret = bus__create(&vm->bus);
	if (ret)
		goto err;
	ret = event__create(&vm->loop);
	if (ret)
		goto err;
	ret = create_devices(vm);
	if (ret)
		goto err;
	if (boot) {
		ret = load_kernel(vm, boot);
		if (ret)
			goto err;
	}
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu__create(vm, i, boot, &vm->vcpus[i]);
		if (ret)
			goto err;
	}
	ret = vm__register_migration(vm);
	if (ret)
		goto err;
	vm->state = VM_STATE_CREATED;
	*out = vm;
	return 0;

err:
	vm__destroy(vm);
	return ret;
}

int vm__create(const struct vm_config *cfg, struct vm **out)
{
	return vm__build(cfg, NULL, out);
}

void vm__destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	/* live migration (issue 6): its thread uses everything below. */
	vm_migrate__destroy(vm->migrate);
	vm->migrate = NULL;
	/* Handlers borrow vCPU and VM fds: drop them first. */
	migration__destroy(vm->mig);
	vm->mig = NULL;
	free(vm->vcpu_caps);
	vm->vcpu_caps = NULL;
	for (i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		vcpu__join(vm->vcpus[i]);
		vcpu__destroy(vm->vcpus[i]);
	}
	free(vm->vcpus);
	for (i = vm->nr_devices; i-- > 0;)
		vm->devices[i]->type->destroy(vm->devices[i]);
	if (vm->sigfd >= 0)
		close(vm->sigfd);
	event__destroy(vm->loop);
	bus__destroy(vm->bus);
	mem__destroy(vm->mem);
	if (vm->fd >= 0)
		close(vm->fd);
	kvm__close(vm->kvm);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_mutex_destroy(&vm->slot_lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

static void resume_devices(struct vm *vm);

static void kick_all(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu__kick(vm->vcpus[i]);
}

int vm__run(struct vm *vm, struct vm_stop *stop)
{
	unsigned int i;
	int ret;

	ret = setup_signals(vm);
	if (ret) {
		log_err("cannot set up signal handling: %s", strerror(-ret));
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	/* Restored devices wait in STOP; a VM restored to run starts them. */
	if (vm->restored && !vm->start_paused)
		resume_devices(vm);
	pthread_mutex_lock(&vm->lock);
	/* A restored VM starts paused: its vCPUs park before running. */
	vm->state = vm->start_paused ? VM_STATE_PAUSED : VM_STATE_RUNNING;
	atomic_store(&vm->pause_req, vm->start_paused);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu__start(vm->vcpus[i]);
		if (ret) {
			vm__request_stop(vm, VM_STOP_ERROR, 0);
			break;
		}
	}
	/* vCPU threads exist and confined themselves; now the VMM thread. */
	if (!ret) {
		ret = sandbox__enter(SC_ROLE_MAIN);
		if (ret)
			vm__request_stop(vm, VM_STOP_ERROR, 0);
	}
	if (!ret)
		ret = event__run(vm->loop);

	/* Stop: make every vCPU leave KVM_RUN, then wait for them. */
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_STATE_STOPPING;
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&vm->stopping, true);
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	kick_all(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu__join(vm->vcpus[i]);

	pthread_mutex_lock(&vm->lock);
	vm->state = VM_STATE_STOPPED;
	*stop = vm->stop;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void vm__request_stop(struct vm *vm, enum vm_stop_reason reason,
		      int guest_status)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stop.reason == VM_STOP_NONE) {
		vm->stop.reason = reason;
		vm->stop.guest_status = guest_status;
	}
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&vm->stopping, true);
	event__stop(vm->loop);
}

/* Devices back to running (after a pause, or a restore into STOP). */
static void resume_devices(struct vm *vm)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->nr_devices; i++) {
		const struct device_type *t = vm->devices[i]->type;

		if (t->resume_prepare && (ret = t->resume_prepare(vm->devices[i])))
			log_warn("%s: resume (P2P phase) failed: %s",
				 vm->devices[i]->id, strerror(-ret));
	}
	for (i = 0; i < vm->nr_devices; i++) {
		const struct device_type *t = vm->devices[i]->type;

		if (!t->resume)
			continue;
		ret = t->resume(vm->devices[i]);
		if (ret)
			log_warn("%s: resume failed: %s", vm->devices[i]->id,
				 strerror(-ret));
	}
}

int vm__pause(struct vm *vm)
{
	struct timespec deadline;
	bool timed_out;
	unsigned int i;
	int ret;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_RUNNING) {
		pthread_mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&vm->lock);

	atomic_store(&vm->pause_req, true);
	kick_all(vm);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VM_PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < vm->nr_vcpus) {
		if (pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock,
					   &deadline) == ETIMEDOUT)
			break;
	}
	timed_out = vm->parked < vm->nr_vcpus;
	if (timed_out) {
		/* Let the parked ones go again: the VM stays running. */
		atomic_store(&vm->pause_req, false);
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->pause_lock);
	if (timed_out) {
		log_err("pause: vCPUs did not stop within %d s", VM_PAUSE_TIMEOUT_S);
		return -ETIMEDOUT;
	}

	/* vCPUs are out of the guest: now quiesce the devices, in two phases. */
	for (i = 0; i < vm->nr_devices; i++) {
		const struct device_type *t = vm->devices[i]->type;

		if (t->pause_prepare && (ret = t->pause_prepare(vm->devices[i])))
			log_warn("%s: pause (P2P quiesce) failed: %s",
				 vm->devices[i]->id, strerror(-ret));
	}
	for (i = 0; i < vm->nr_devices; i++) {
		const struct device_type *t = vm->devices[i]->type;

		if (!t->pause)
			continue;
		ret = t->pause(vm->devices[i]);
		if (ret)
			log_warn("%s: pause failed: %s", vm->devices[i]->id,
				 strerror(-ret));
	}
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_STATE_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vm__resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_PAUSED) {
		pthread_mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&vm->lock);

	resume_devices(vm);
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_STATE_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_req, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

void vm__get_info(struct vm *vm, struct vm_info *info)
{
	struct timespec now;

	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&vm->lock);
	info->state = vm->state;
	if (vm->state != VM_STATE_CREATED) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		info->uptime_ms =
			(uint64_t)(now.tv_sec - vm->started.tv_sec) * 1000 +
			(uint64_t)((now.tv_nsec - vm->started.tv_nsec) / 1000000);
	}
	pthread_mutex_unlock(&vm->lock);
	info->vcpus = vm->nr_vcpus;
	info->mem_size = vm->cfg.mem_size;
}

const struct vm_config *vm__config(const struct vm *vm)
{
	return &vm->cfg;
}

struct guest_mem *vm__mem(struct vm *vm)
{
	return vm->mem;
}

struct bus *vm__bus(struct vm *vm)
{
	return vm->bus;
}

struct event_loop *vm__event_loop(struct vm *vm)
{
	return vm->loop;
}

int vm__fd(const struct vm *vm)
{
	return vm->fd;
}
