/*
 * vm-dirty.h: KVM's dirty log as a migration dirty source
 * (migration/dirty.h): dirty logging on the RAM memory slots, read with
 * KVM_GET_DIRTY_LOG and re-armed with KVM_CLEAR_DIRTY_LOG
 * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with INITIALLY_SET, so enabling
 * the log write-protects nothing up front).
 */
#ifndef VMM_VM_DIRTY_H
#define VMM_VM_DIRTY_H

#include "vmm/util.h"

struct vm;
struct vm_dirty;

/*
 * Enable manual dirty-log protection if KVM has it (needs KVM_ENABLE_CAP:
 * call before the VMM thread confines itself) and register the source
 * "kvm" in the VM's migration object. Returns 0 and *out (freed with
 * vm_dirty__destroy, after the migration object is gone), or -errno.
 */
int __must_check vm_dirty__create(struct vm *vm, struct vm_dirty **out);

/* Free. Logging must be off (the migration stopped the source). NULL-safe. */
void vm_dirty__destroy(struct vm_dirty *d);

#endif /* VMM_VM_DIRTY_H */
