/*
 * vcpu-x86_64.h: the x86-64 architectural set-up of a vCPU at creation:
 * CPUID (KVM's supported set with per-vCPU fix-ups), boot MSRs, FPU,
 * LAPIC LINT pins, and the BSP's boot registers.
 */
#ifndef VMM_VCPU_X86_64_H
#define VMM_VCPU_X86_64_H

struct vcpu;
struct boot_info;

/*
 * Program @vcpu's CPUID, MSRs, FPU and LAPIC; for the BSP (id 0) also
 * its registers from @boot. Returns 0 or -errno after logging.
 */
int vcpu_x86__setup(struct vcpu *vcpu, const struct boot_info *boot);

#endif /* VMM_VCPU_X86_64_H */
