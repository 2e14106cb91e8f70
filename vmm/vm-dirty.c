/*
 * vm-dirty.c: the "kvm" dirty source. Start sets KVM_MEM_LOG_DIRTY_PAGES
 * on each RAM slot; sync reads each slot's bitmap, hands the same
 * bitmap back to KVM_CLEAR_DIRTY_LOG (which re-protects exactly those
 * pages, before they are sent, so a write after this point is caught
 * again) and merges it at the slot's memfd page offset; stop clears the
 * flag. Without manual protection KVM_GET_DIRTY_LOG re-protects by itself.
 */
#include "vmm/vm-dirty.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "migration/dirty.h"
#include "migration/registry.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/mem.h"
#include "vmm/vm-internal.h"

struct vm_dirty {
	struct vm *vm;      /* borrowed */
	bool manual;        /* MANUAL_DIRTY_LOG_PROTECT2 enabled */
	uint64_t *tmp;      /* owned: one slot's bitmap */
	bool logging;
};

static int set_logging(struct vm_dirty *d, unsigned int i, bool on)
{
	const struct mem_region *r = &d->vm->mem->regions[i];
	struct kvm_userspace_memory_region region = {
		.slot = i, /* RAM regions are slots 0..nr_regions-1 (vm.c) */
		.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uint64_t)(uintptr_t)r->hva,
	};

	if (ioctl(d->vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

static void dirty_stop(void *opaque)
{
	struct vm_dirty *d = opaque;
	unsigned int i;
	int ret;

	for (i = 0; i < d->vm->mem->nr_regions; i++) {
		ret = set_logging(d, i, false);
		if (ret)
			log_warn("migration: cannot stop dirty logging on slot %u: %s",
				 i, strerror(-ret));
	}
	d->logging = false;
}

static int dirty_start(void *opaque)
{
	struct vm_dirty *d = opaque;
	unsigned int i;
	int ret;

	for (i = 0; i < d->vm->mem->nr_regions; i++) {
		ret = set_logging(d, i, true);
		if (ret) {
			log_err("migration: cannot start dirty logging on slot %u: %s",
				i, strerror(-ret));
			while (i-- > 0)
				set_logging(d, i, false);
			return ret;
		}
	}
	d->logging = true;
	return 0;
}

static int dirty_sync(void *opaque, struct mig_dirty_bitmap *bm)
{
	struct vm_dirty *d = opaque;
	unsigned int i;
	int ret;

	for (i = 0; i < d->vm->mem->nr_regions; i++) {
		const struct mem_region *r = &d->vm->mem->regions[i];
		uint64_t pages = r->size >> 12;
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = d->tmp };

		memset(d->tmp, 0, ((pages + 63) / 64) * 8);
		if (ioctl(d->vm->fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		if (d->manual) {
			struct kvm_clear_dirty_log clear = {
				.slot = i,
				.num_pages = (uint32_t)pages,
				.first_page = 0,
				.dirty_bitmap = d->tmp,
			};

			if (ioctl(d->vm->fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
				return -errno;
		}
		ret = mig_dirty__or_words(bm, r->offset >> 12, d->tmp, pages);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct mig_dirty_source_ops kvm_dirty_ops = {
	.start = dirty_start,
	.sync = dirty_sync,
	.stop = dirty_stop,
};

int vm_dirty__create(struct vm *vm, struct vm_dirty **out)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		/* KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET */
		.args = { 1 | 2 },
	};
	struct vm_dirty *d;
	uint64_t max_pages = 0;
	unsigned int i;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	for (i = 0; i < vm->mem->nr_regions; i++) {
		max_pages = MAX(max_pages, vm->mem->regions[i].size >> 12);
		/* Slot bitmaps are merged word-wise at the region's offset. */
		if (vm->mem->regions[i].offset % (64 * 4096)) {
			free(d);
			return -EINVAL;
		}
	}
	d->tmp = calloc((max_pages + 63) / 64 + 1, 8);
	if (!d->tmp) {
		free(d);
		return -ENOMEM;
	}
	d->manual = kvm__has_cap(vm->kvm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) &&
		    ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0;
	if (!d->manual)
		log_info("migration: no manual dirty-log protection; using plain KVM_GET_DIRTY_LOG");
	ret = migration__add_dirty_source(vm->mig, "kvm", &kvm_dirty_ops, d);
	if (ret) {
		free(d->tmp);
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

void vm_dirty__destroy(struct vm_dirty *d)
{
	if (!d)
		return;
	if (d->logging)
		dirty_stop(d);
	free(d->tmp);
	free(d);
}
