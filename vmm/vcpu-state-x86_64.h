/*
 * vcpu-state-x86_64.h: everything KVM keeps about one x86-64 vCPU that
 * an exact resume needs, as plain data: general and special registers,
 * XSAVE area (FPU/SSE/AVX...), XCRs, the saveable MSRs, LAPIC, pending
 * events, MP state, debug registers and the TSC frequency. Read from
 * and written to KVM with the vCPU stopped; saved to / loaded from the
 * state tree. CPUID is not part of it: the destination programs CPUID
 * from its own configuration when it creates the vCPU, before the state
 * is set.
 */
#ifndef VMM_VCPU_STATE_X86_64_H
#define VMM_VCPU_STATE_X86_64_H

#include <linux/kvm.h>
#include <stdint.h>

#include "vmm/util.h"

struct state_writer;
struct state_reader;
struct migration;

/* KVM reports ~50-150 saveable MSRs on current kernels; room to spare. */
#define VCPU_STATE_MAX_MSRS 512
/* XSAVE area: 4 KiB legacy size; AMX needs ~11 KiB (KVM_GET_XSAVE2). */
#define VCPU_STATE_XSAVE_MIN 4096
#define VCPU_STATE_XSAVE_MAX 16384

/* Probed once per VM: what to save and how big the XSAVE area is. */
struct vcpu_state_caps {
	uint32_t xsave_size;   /* bytes KVM_GET_XSAVE(2) fills */
	int has_xsave2;        /* KVM_CAP_XSAVE2: use KVM_GET_XSAVE2 */
	uint32_t nr_msrs;
	uint32_t msrs[VCPU_STATE_MAX_MSRS]; /* IA32_TSC first, if present */
};

struct vcpu_state_msr {
	uint32_t index;
	uint64_t value;
};

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_debugregs debugregs;
	uint32_t tsc_khz;      /* 0: unknown */
	uint32_t nr_msrs;
	struct vcpu_state_msr msrs[VCPU_STATE_MAX_MSRS];
	uint32_t xsave_len;
	uint8_t xsave[VCPU_STATE_XSAVE_MAX] __attribute__((aligned(64)));
};

/*
 * Fill @caps: XSAVE size (KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) on
 * @vm_fd, else 4 KiB) and the MSR list: KVM_GET_MSR_INDEX_LIST on
 * @kvm_fd filtered to the MSRs KVM_GET_MSRS accepts on @vcpu_fd (any
 * vCPU of the VM). Returns 0, -ENOTSUP (no XSAVE), -E2BIG (more MSRs
 * than VCPU_STATE_MAX_MSRS) or another -errno, after logging.
 */
int __must_check vcpu_state__probe(int kvm_fd, int vm_fd, int vcpu_fd,
				   struct vcpu_state_caps *caps);

/*
 * Read the whole state of the stopped vCPU @vcpu_fd (@id for messages).
 * Returns 0 or -errno after logging which ioctl failed.
 */
int __must_check vcpu_state__get(int vcpu_fd, unsigned int id,
				 const struct vcpu_state_caps *caps,
				 struct vcpu_state *s);

/*
 * Write @s into the stopped vCPU @vcpu_fd, whose CPUID is already set.
 * Order: TSC frequency (best effort), sregs (modes, CRs, APIC base),
 * regs, XCRs, XSAVE, MSRs (IA32_TSC first), MP state, LAPIC (needs the
 * APIC base), events, debug registers. Returns 0 or -errno after
 * logging (for MSRs: the first index KVM refused).
 */
int __must_check vcpu_state__set(int vcpu_fd, unsigned int id,
				 const struct vcpu_state_caps *caps,
				 const struct vcpu_state *s);

/*
 * Write @s as properties and child nodes of the open node of @w.
 * Returns the writer's status.
 */
int vcpu_state__save(struct state_writer *w, const struct vcpu_state *s);

/*
 * Read node @node into @s (zeroed first), validating counts and sizes.
 * Returns 0 or -EINVAL with the message in the reader.
 */
int vcpu_state__load(struct state_reader *r, int node, struct vcpu_state *s);

/*
 * Register handler "vcpu<id>" (order MIG_ORDER_VCPU) for vCPU
 * @vcpu_fd in @mig: save = get + save, load = load into staging,
 * apply = set. @vcpu_fd and @caps are borrowed and must outlive @mig.
 * Returns 0 or -errno.
 */
int __must_check vcpu_state__register(struct migration *mig, unsigned int id,
				      int vcpu_fd,
				      const struct vcpu_state_caps *caps);

#endif /* VMM_VCPU_STATE_X86_64_H */
