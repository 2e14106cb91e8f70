/*
 * vcpu-x86_64.c: x86-64 vCPU set-up. CPUID comes from
 * KVM_GET_SUPPORTED_CPUID with the fix-ups a guest needs to find its
 * topology (APIC ids in leaves 1, 0xB and 0x1F, the hypervisor bit);
 * --cpuid-compat additionally hides features this machine's
 * instruction emulator cannot execute. MSRs, FPU and LAPIC get the
 * values firmware would leave behind.
 */
#include "vmm/vcpu-x86_64.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/boot.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vcpu.h"
#include "vmm/vm-internal.h"

/* CPUID leaf 1 ECX bits. */
#define CPUID_1_ECX_CX16 (1u << 13)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* CPUID leaf 1 EDX bit 28: HTT, "EBX[23:16] is valid". */
#define CPUID_1_EDX_HTT (1u << 28)

/* MSR numbers (Intel SDM vol. 4). */
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1ULL
#define MSR_MTRR_DEF_TYPE 0x2ff
/* MTRRs enabled (bit 11), default memory type write-back (6). */
#define MTRR_DEF_TYPE_VALUE ((1ULL << 11) | 6)

/* LAPIC register offsets and LVT delivery modes (Intel SDM vol. 3, 10.5.1). */
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* Next power of two >= n, as a shift: topology fields are bit widths. */
static unsigned int order_base_2(unsigned int n)
{
	unsigned int s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

static void fix_cpuid_entry(struct kvm_cpuid_entry2 *e, unsigned int id,
			    unsigned int nr, int compat)
{
	switch (e->function) {
	case 1:
		/* EBX[31:24] initial APIC id, [23:16] logical processors. */
		e->ebx = (e->ebx & 0x0000ffffu) | (id << 24) |
			 ((nr > 255 ? 255 : nr) << 16);
		e->edx |= CPUID_1_EDX_HTT;
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (compat)
			e->ecx &= ~(CPUID_1_ECX_CX16 | CPUID_1_ECX_XSAVE |
				    CPUID_1_ECX_OSXSAVE);
		break;
	case 4:
		/* EAX[31:26]: max cores per package - 1 (one thread each). */
		e->eax = (e->eax & 0x03ffffffu) | ((nr - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		/* Level 0: SMT (one thread per core); level 1: cores. */
		e->edx = id;
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | e->index;
		} else if (e->index == 1) {
			e->eax = order_base_2(nr);
			e->ebx = nr;
			e->ecx = (2u << 8) | e->index;
		} else {
			e->eax = 0;
			e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0xd:
		if (compat) {
			e->eax = e->ebx = e->ecx = e->edx = 0;
		}
		break;
	default:
		break;
	}
}

/*
 * Hypervisor timing leaf 0x40000010 (the de-facto standard VMware
 * introduced and KVM guests read): EAX = TSC frequency in kHz, EBX =
 * LAPIC timer frequency in kHz (KVM's APIC timer ticks at 1 GHz). Lets
 * a guest time things without calibrating against the PIT.
 */
#define CPUID_TIMING_LEAF 0x40000010u
#define KVM_APIC_BUS_KHZ 1000000u

static void add_timing_leaf(struct vcpu *vcpu, struct kvm_cpuid2 *c)
{
	int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	unsigned int i;

	if (khz <= 0)
		return;
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0x40000000 && e->eax < CPUID_TIMING_LEAF)
			e->eax = CPUID_TIMING_LEAF; /* max hypervisor leaf */
		if (e->function == CPUID_TIMING_LEAF)
			return;
	}
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = CPUID_TIMING_LEAF,
		.eax = (uint32_t)khz,
		.ebx = KVM_APIC_BUS_KHZ,
	};
}

static int setup_cpuid(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *src = vcpu->vm->kvm->cpuid;
	struct kvm_cpuid2 *c;
	size_t sz = sizeof(*c) + src->nent * sizeof(src->entries[0]);
	unsigned int i;
	int ret = 0;

	/* Room for one added leaf. */
	c = malloc(sz + sizeof(src->entries[0]));
	if (!c)
		return -ENOMEM;
	memcpy(c, src, sz);
	for (i = 0; i < c->nent; i++)
		fix_cpuid_entry(&c->entries[i], vcpu->id, vcpu->vm->nr_vcpus,
				vcpu->vm->cfg.cpuid_compat);
	add_timing_leaf(vcpu, c);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		log_err("vcpu%u: KVM_SET_CPUID2: %s", vcpu->id, strerror(-ret));
	}
	free(c);
	return ret;
}

static int setup_msrs(struct vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_DEF_TYPE_VALUE },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(boot_msrs)];
	} m;
	unsigned int i;
	int n;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = ARRAY_SIZE(boot_msrs);
	for (i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		m.e[i].index = boot_msrs[i].index;
		m.e[i].data = boot_msrs[i].value;
	}
	n = ioctl(vcpu->fd, KVM_SET_MSRS, &m);
	if (n < 0) {
		n = -errno;
		log_err("vcpu%u: KVM_SET_MSRS: %s", vcpu->id, strerror(-n));
		return n;
	}
	/* KVM stops at the first MSR it refuses; the rest are optional. */
	if ((unsigned int)n < ARRAY_SIZE(boot_msrs))
		log_debug("vcpu%u: KVM accepted %d of %zu boot MSRs", vcpu->id,
			  n, ARRAY_SIZE(boot_msrs));
	return 0;
}

static int setup_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;     /* x87 power-on control word (FNINIT value) */
	fpu.mxcsr = 0x1f80;  /* SSE power-on value: all exceptions masked */
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		int ret = -errno;

		log_err("vcpu%u: KVM_SET_FPU: %s", vcpu->id, strerror(-ret));
		return ret;
	}
	return 0;
}

static void set_lvt_mode(struct kvm_lapic_state *l, unsigned int reg,
			 uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	v = (v & ~0x700u) | (mode << 8); /* delivery mode: bits 10:8 */
	memcpy(&l->regs[reg], &v, sizeof(v));
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI: what a PC BIOS leaves. */
static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state l;
	int ret;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &l) < 0)
		goto err;
	set_lvt_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	set_lvt_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &l) < 0)
		goto err;
	return 0;
err:
	ret = -errno;
	log_err("vcpu%u: LAPIC set-up: %s", vcpu->id, strerror(-ret));
	return ret;
}

static int setup_boot_regs(struct vcpu *vcpu, const struct boot_info *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto err;
	ret = boot__bsp_regs(boot, &regs, &sregs);
	if (ret) {
		log_err("vcpu%u: no register state for this boot kind", vcpu->id);
		return ret;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		goto err;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		goto err;
	return 0;
err:
	ret = -errno;
	log_err("vcpu%u: boot registers: %s", vcpu->id, strerror(-ret));
	return ret;
}

int vcpu_x86__setup(struct vcpu *vcpu, const struct boot_info *boot)
{
	int ret;

	ret = setup_cpuid(vcpu);
	if (!ret)
		ret = setup_msrs(vcpu);
	if (!ret)
		ret = setup_fpu(vcpu);
	if (!ret)
		ret = setup_lapic(vcpu);
	/* APs wait for INIT/SIPI in the in-kernel LAPIC; only the BSP boots. */
	if (!ret && vcpu->id == 0 && boot)
		ret = setup_boot_regs(vcpu, boot);
	return ret;
}
