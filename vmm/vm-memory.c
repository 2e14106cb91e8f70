/*
 * vm-memory.c: the VM's KVM memory slots: guest RAM (slots 0 and 1,
 * registered before the irqchip exists, while SRCU grace periods are
 * still instant) and extra slots for device memory the guest maps
 * directly (mmapped BAR areas).
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

/*
 * Each memslot change ends in an SRCU grace period. On a fresh VM that
 * is over at once (0.1-3 ms for 128 MiB-4 GiB here); once the irqchip
 * and PIT exist it takes a scheduler tick or two (4-8 ms on this class
 * of host, measured with a bare KVM program in either order), and it
 * sat on the path to the first KVM_RUN. So RAM is registered first,
 * synchronously (tools/bench.sh startup measures the effect).
 */
int vm__register_memory(struct vm *vm)
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

