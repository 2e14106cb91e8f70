/*
 * vm-memory.c: the VM's KVM memory slots: guest RAM (slots 0 and 1,
 * registered on a helper thread while the rest of the VM is built,
 * because each registration waits out an SRCU grace period) and extra
 * slots for device memory the guest maps directly (mmapped BAR areas).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/util.h"
#include "vmm/vm-internal.h"
#include "vmm/vm.h"

/* Slot ids 0..MEM_MAX_REGIONS-1 are RAM; extra slots follow. */
static int set_slot(struct vm *vm, unsigned int id, uint64_t gpa,
		    uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = id,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

int vm__map_memslot(struct vm *vm, uint64_t gpa, uint64_t size, void *hva,
		    unsigned int *slot)
{
	uint64_t end;
	unsigned int i, free_i = VM_MAX_EXTRA_SLOTS;
	int ret;

	if (!size || (gpa | size) & 4095 || add_overflow(gpa, size, &end))
		return -EINVAL;
	for (i = 0; i < vm->mem->nr_regions; i++) {
		const struct mem_region *r = &vm->mem->regions[i];

		if (gpa < r->gpa + r->size && end > r->gpa)
			return -EEXIST;
	}
	pthread_mutex_lock(&vm->slot_lock);
	for (i = 0; i < VM_MAX_EXTRA_SLOTS; i++) {
		const struct vm_slot *s = &vm->slots[i];

		if (!s->used) {
			if (free_i == VM_MAX_EXTRA_SLOTS)
				free_i = i;
			continue;
		}
		if (gpa < s->gpa + s->size && end > s->gpa) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (free_i == VM_MAX_EXTRA_SLOTS) {
		ret = -ENOSPC;
		goto out;
	}
	ret = set_slot(vm, MEM_MAX_REGIONS + free_i, gpa, size, hva);
	if (ret)
		goto out;
	vm->slots[free_i] = (struct vm_slot){ true, gpa, size, hva };
	*slot = MEM_MAX_REGIONS + free_i;
out:
	pthread_mutex_unlock(&vm->slot_lock);
	return ret;
}

int vm__unmap_memslot(struct vm *vm, unsigned int slot)
{
	unsigned int i = slot - MEM_MAX_REGIONS;
	int ret;

	if (slot < MEM_MAX_REGIONS || i >= VM_MAX_EXTRA_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&vm->slot_lock);
	if (!vm->slots[i].used) {
		ret = -ENOENT;
		goto out;
	}
	/* A zero-sized region deletes the slot. */
	ret = set_slot(vm, slot, vm->slots[i].gpa, 0, vm->slots[i].hva);
	if (!ret)
		vm->slots[i].used = false;
out:
	pthread_mutex_unlock(&vm->slot_lock);
	return ret;
}

static int register_memory(struct vm *vm)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->mem->nr_regions; i++) {
		const struct mem_region *r = &vm->mem->regions[i];

		ret = set_slot(vm, i, r->gpa, r->size, r->hva);
		if (ret) {
			log_err("KVM_SET_USER_MEMORY_REGION slot %u: %s", i,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void *register_memory_thread(void *arg)
{
	struct vm *vm = arg;

	return (void *)(intptr_t)register_memory(vm);
}

/*
 * Registering guest RAM ends in an SRCU grace period, and so do the
 * irqchip's routing and I/O-bus set-up: milliseconds each on a nested
 * or software KVM (3-10 ms here). The memslots are only needed by the
 * first KVM_RUN, so they are registered on a helper thread while the
 * VMM thread creates the irqchip, devices, kernel image and vCPUs, and
 * joined at the end of vm__build (tools/bench.sh startup measures it).
 */
void vm__start_memory_registration(struct vm *vm)
{
	vm->memreg_pending =
		pthread_create(&vm->memreg_thread, NULL, register_memory_thread,
			       vm) == 0;
	if (!vm->memreg_pending)
		vm->memreg_ret = register_memory(vm);
}

int vm__finish_memory_registration(struct vm *vm)
{
	void *res;

	if (vm->memreg_pending) {
		pthread_join(vm->memreg_thread, &res);
		vm->memreg_pending = false;
		vm->memreg_ret = (int)(intptr_t)res;
	}
	return vm->memreg_ret;
}

