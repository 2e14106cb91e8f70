/*
 * vcpu-state-x86_64.c: x86-64 vCPU state between KVM and plain data:
 * probing what to save (XSAVE size, the saveable MSR list), reading it
 * with the vCPU stopped, and writing it back in the order KVM's
 * dependencies require; its encoding in the state tree (one child node
 * per KVM structure, one property per field); and the migration
 * handler that ties the two together.
 */
#include "vmm/vcpu-state-x86_64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "migration/registry.h"
#include "migration/state-fdt-read.h"
#include "vmm/log.h"

#define MSR_IA32_TSC 0x10

/* struct kvm_msrs followed by its entries, sized for any MSR list. */
struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[VCPU_STATE_MAX_MSRS];
};

/* Does KVM_GET_MSRS read @index on @vcpu_fd? */
static bool msr_readable(int vcpu_fd, uint32_t index)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	return ioctl(vcpu_fd, KVM_GET_MSRS, &m) == 1;
}

int vcpu_state__probe(int kvm_fd, int vm_fd, int vcpu_fd,
		      struct vcpu_state_caps *caps)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;
	uint32_t i, n;
	int r, ret;

	memset(caps, 0, sizeof(*caps));
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0) {
		log_err("vcpu state: KVM lacks KVM_CAP_XSAVE");
		return -ENOTSUP;
	}
	r = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	caps->has_xsave2 = r > 0;
	caps->xsave_size = r > VCPU_STATE_XSAVE_MIN ? (uint32_t)r
						    : VCPU_STATE_XSAVE_MIN;
	if (caps->xsave_size > VCPU_STATE_XSAVE_MAX) {
		log_err("vcpu state: XSAVE area of %u bytes exceeds %u",
			caps->xsave_size, VCPU_STATE_XSAVE_MAX);
		return -E2BIG;
	}

	/* First call only learns the count (E2BIG). */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
		ret = -errno;
		log_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
		return ret;
	}
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		ret = -errno;
		log_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
		goto out;
	}
	/* IA32_TSC first: KVM applies TSC-relative MSRs against it. */
	n = 0;
	for (i = 0; i < list->nmsrs; i++)
		if (list->indices[i] == MSR_IA32_TSC && msr_readable(vcpu_fd, MSR_IA32_TSC))
			caps->msrs[n++] = MSR_IA32_TSC;
	for (i = 0; i < list->nmsrs; i++) {
		uint32_t idx = list->indices[i];

		if (idx == MSR_IA32_TSC || !msr_readable(vcpu_fd, idx))
			continue;
		if (n == VCPU_STATE_MAX_MSRS) {
			log_err("vcpu state: KVM reports more than %u saveable MSRs",
				VCPU_STATE_MAX_MSRS);
			ret = -E2BIG;
			goto out;
		}
		caps->msrs[n++] = idx;
	}
	caps->nr_msrs = n;
	log_debug("vcpu state: %u of %u listed MSRs readable, XSAVE %u bytes",
		  n, list->nmsrs, caps->xsave_size);
	ret = 0;
out:
	free(list);
	return ret;
}

/* Log and return -errno for a failed vCPU ioctl. */
static int vfail(unsigned int id, const char *what)
{
	int ret = -errno;

	log_err("vcpu%u: %s: %s", id, what, strerror(-ret));
	return ret;
}

int vcpu_state__get(int vcpu_fd, unsigned int id,
		    const struct vcpu_state_caps *caps, struct vcpu_state *s)
{
	struct msr_buf *m;
	uint32_t i;
	int n;

	memset(s, 0, sizeof(*s));
	if (ioctl(vcpu_fd, KVM_GET_REGS, &s->regs) < 0)
		return vfail(id, "KVM_GET_REGS");
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &s->sregs) < 0)
		return vfail(id, "KVM_GET_SREGS");
	if (ioctl(vcpu_fd, caps->has_xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
		  s->xsave) < 0)
		return vfail(id, "KVM_GET_XSAVE");
	s->xsave_len = caps->xsave_size;
	if (ioctl(vcpu_fd, KVM_GET_XCRS, &s->xcrs) < 0)
		return vfail(id, "KVM_GET_XCRS");
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &s->lapic) < 0)
		return vfail(id, "KVM_GET_LAPIC");
	if (ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return vfail(id, "KVM_GET_VCPU_EVENTS");
	if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &s->mp_state) < 0)
		return vfail(id, "KVM_GET_MP_STATE");
	if (ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
		return vfail(id, "KVM_GET_DEBUGREGS");
	n = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	s->tsc_khz = n > 0 ? (uint32_t)n : 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->hdr.nmsrs = caps->nr_msrs;
	for (i = 0; i < caps->nr_msrs; i++)
		m->e[i].index = caps->msrs[i];
	n = ioctl(vcpu_fd, KVM_GET_MSRS, m);
	if (n < 0) {
		n = vfail(id, "KVM_GET_MSRS");
		free(m);
		return n;
	}
	if ((uint32_t)n != caps->nr_msrs) {
		log_err("vcpu%u: KVM_GET_MSRS stopped at MSR 0x%x (%d of %u)",
			id, caps->msrs[n], n, caps->nr_msrs);
		free(m);
		return -EIO;
	}
	s->nr_msrs = caps->nr_msrs;
	for (i = 0; i < caps->nr_msrs; i++) {
		s->msrs[i].index = m->e[i].index;
		s->msrs[i].value = m->e[i].data;
	}
	free(m);
	return 0;
}

static int set_msrs(int vcpu_fd, unsigned int id, const struct vcpu_state *s)
{
	struct msr_buf *m;
	uint32_t i;
	int n;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->hdr.nmsrs = s->nr_msrs;
	for (i = 0; i < s->nr_msrs; i++) {
		m->e[i].index = s->msrs[i].index;
		m->e[i].data = s->msrs[i].value;
	}
	n = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	if (n < 0) {
		n = vfail(id, "KVM_SET_MSRS");
	} else if ((uint32_t)n != s->nr_msrs) {
		log_err("vcpu%u: KVM_SET_MSRS refused MSR 0x%x = 0x%llx (entry %d of %u)",
			id, s->msrs[n].index,
			(unsigned long long)s->msrs[n].value, n, s->nr_msrs);
		n = -EINVAL;
	} else {
		n = 0;
	}
	free(m);
	return n;
}

int vcpu_state__set(int vcpu_fd, unsigned int id,
		    const struct vcpu_state_caps *caps,
		    const struct vcpu_state *s)
{
	struct kvm_vcpu_events ev;
	int ret, khz;

	if (s->xsave_len > caps->xsave_size) {
		log_err("vcpu%u: saved XSAVE area (%u bytes) is larger than this host's (%u)",
			id, s->xsave_len, caps->xsave_size);
		return -EINVAL;
	}
	/* The guest's TSC rate: only settable with KVM_CAP_TSC_CONTROL. */
	khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (s->tsc_khz && khz > 0 && (uint32_t)khz != s->tsc_khz &&
	    ioctl(vcpu_fd, KVM_SET_TSC_KHZ, (unsigned long)s->tsc_khz) < 0)
		log_warn("vcpu%u: TSC runs at %d kHz, snapshot had %u kHz; guest time may drift",
			 id, khz, s->tsc_khz);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s->sregs) < 0)
		return vfail(id, "KVM_SET_SREGS");
	if (ioctl(vcpu_fd, KVM_SET_REGS, &s->regs) < 0)
		return vfail(id, "KVM_SET_REGS");
	if (ioctl(vcpu_fd, KVM_SET_XCRS, &s->xcrs) < 0)
		return vfail(id, "KVM_SET_XCRS");
	/* KVM reads its own XSAVE size; the tail past xsave_len is zero. */
	if (ioctl(vcpu_fd, KVM_SET_XSAVE, s->xsave) < 0)
		return vfail(id, "KVM_SET_XSAVE");
	ret = set_msrs(vcpu_fd, id, s);
	if (ret)
		return ret;
	if (ioctl(vcpu_fd, KVM_SET_MP_STATE, &s->mp_state) < 0)
		return vfail(id, "KVM_SET_MP_STATE");
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &s->lapic) < 0)
		return vfail(id, "KVM_SET_LAPIC");
	/*
	 * Pass back the validity flags KVM gave us, plus the SIPI vector
	 * (KVM_GET_VCPU_EVENTS fills it but does not flag it).
	 */
	ev = s->events;
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return vfail(id, "KVM_SET_VCPU_EVENTS");
	if (ioctl(vcpu_fd, KVM_SET_DEBUGREGS, &s->debugregs) < 0)
		return vfail(id, "KVM_SET_DEBUGREGS");
	return 0;
}

/* ---- state tree encoding ---- */

#define VF(type, m) STATE_FIELD(type, m)
#define VFN(n, type, m) STATE_FIELD_NAMED(n, type, m)

static const struct state_field regs_fields[] = {
	VF(struct kvm_regs, rax), VF(struct kvm_regs, rbx),
	VF(struct kvm_regs, rcx), VF(struct kvm_regs, rdx),
	VF(struct kvm_regs, rsi), VF(struct kvm_regs, rdi),
	VF(struct kvm_regs, rsp), VF(struct kvm_regs, rbp),
	VF(struct kvm_regs, r8), VF(struct kvm_regs, r9),
	VF(struct kvm_regs, r10), VF(struct kvm_regs, r11),
	VF(struct kvm_regs, r12), VF(struct kvm_regs, r13),
	VF(struct kvm_regs, r14), VF(struct kvm_regs, r15),
	VF(struct kvm_regs, rip), VF(struct kvm_regs, rflags),
};

static const struct state_field seg_fields[] = {
	VF(struct kvm_segment, base), VF(struct kvm_segment, limit),
	VF(struct kvm_segment, selector), VF(struct kvm_segment, type),
	VF(struct kvm_segment, present), VF(struct kvm_segment, dpl),
	VF(struct kvm_segment, db), VF(struct kvm_segment, s),
	VF(struct kvm_segment, l), VF(struct kvm_segment, g),
	VF(struct kvm_segment, avl), VF(struct kvm_segment, unusable),
};

static const struct state_field dtable_fields[] = {
	VF(struct kvm_dtable, base), VF(struct kvm_dtable, limit),
};

static const struct state_field sregs_fields[] = {
	VF(struct kvm_sregs, cr0), VF(struct kvm_sregs, cr2),
	VF(struct kvm_sregs, cr3), VF(struct kvm_sregs, cr4),
	VF(struct kvm_sregs, cr8), VF(struct kvm_sregs, efer),
	VFN("apic-base", struct kvm_sregs, apic_base),
};

static const struct state_field events_fields[] = {
	VFN("exception-injected", struct kvm_vcpu_events, exception.injected),
	VFN("exception-nr", struct kvm_vcpu_events, exception.nr),
	VFN("exception-has-ec", struct kvm_vcpu_events, exception.has_error_code),
	VFN("exception-pending", struct kvm_vcpu_events, exception.pending),
	VFN("exception-ec", struct kvm_vcpu_events, exception.error_code),
	VFN("interrupt-injected", struct kvm_vcpu_events, interrupt.injected),
	VFN("interrupt-nr", struct kvm_vcpu_events, interrupt.nr),
	VFN("interrupt-soft", struct kvm_vcpu_events, interrupt.soft),
	VFN("interrupt-shadow", struct kvm_vcpu_events, interrupt.shadow),
	VFN("nmi-injected", struct kvm_vcpu_events, nmi.injected),
	VFN("nmi-pending", struct kvm_vcpu_events, nmi.pending),
	VFN("nmi-masked", struct kvm_vcpu_events, nmi.masked),
	VFN("sipi-vector", struct kvm_vcpu_events, sipi_vector),
	VFN("flags", struct kvm_vcpu_events, flags),
	VFN("smi-smm", struct kvm_vcpu_events, smi.smm),
	VFN("smi-pending", struct kvm_vcpu_events, smi.pending),
	VFN("smi-inside-nmi", struct kvm_vcpu_events, smi.smm_inside_nmi),
	VFN("smi-latched-init", struct kvm_vcpu_events, smi.latched_init),
	VFN("triple-fault", struct kvm_vcpu_events, triple_fault.pending),
	VFN("exception-has-payload", struct kvm_vcpu_events, exception_has_payload),
	VFN("exception-payload", struct kvm_vcpu_events, exception_payload),
};

static const struct state_field debugregs_fields[] = {
	VFN("db0", struct kvm_debugregs, db[0]),
	VFN("db1", struct kvm_debugregs, db[1]),
	VFN("db2", struct kvm_debugregs, db[2]),
	VFN("db3", struct kvm_debugregs, db[3]),
	VF(struct kvm_debugregs, dr6), VF(struct kvm_debugregs, dr7),
	VF(struct kvm_debugregs, flags),
};

/* Segment and descriptor-table registers, by node name. */
static const struct {
	const char *name;
	size_t offset;
} sregs_segs[] = {
	{ "cs", offsetof(struct kvm_sregs, cs) },
	{ "ds", offsetof(struct kvm_sregs, ds) },
	{ "es", offsetof(struct kvm_sregs, es) },
	{ "fs", offsetof(struct kvm_sregs, fs) },
	{ "gs", offsetof(struct kvm_sregs, gs) },
	{ "ss", offsetof(struct kvm_sregs, ss) },
	{ "tr", offsetof(struct kvm_sregs, tr) },
	{ "ldt", offsetof(struct kvm_sregs, ldt) },
}, sregs_dtables[] = {
	{ "gdt", offsetof(struct kvm_sregs, gdt) },
	{ "idt", offsetof(struct kvm_sregs, idt) },
};

static void put_node(struct state_writer *w, const char *name,
		     const struct state_field *f, size_t n, const void *base)
{
	state__begin(w, name);
	state__put_fields(w, f, n, base);
	state__end(w);
}

int vcpu_state__save(struct state_writer *w, const struct vcpu_state *s)
{
	uint32_t idx[VCPU_STATE_MAX_MSRS];
	uint64_t val[VCPU_STATE_MAX_MSRS];
	uint32_t xidx[KVM_MAX_XCRS];
	uint64_t xval[KVM_MAX_XCRS];
	const uint8_t *sr = (const uint8_t *)&s->sregs;
	uint32_t i, nx;

	state__put_u32(w, "mp-state", s->mp_state.mp_state);
	state__put_u32(w, "tsc-khz", s->tsc_khz);
	state__put_bytes(w, "xsave", s->xsave, s->xsave_len);
	put_node(w, "regs", regs_fields, ARRAY_SIZE(regs_fields), &s->regs);

	state__begin(w, "sregs");
	state__put_fields(w, sregs_fields, ARRAY_SIZE(sregs_fields), &s->sregs);
	state__put_u64_array(w, "interrupt-bitmap",
			     (const uint64_t *)s->sregs.interrupt_bitmap,
			     ARRAY_SIZE(s->sregs.interrupt_bitmap));
	for (i = 0; i < ARRAY_SIZE(sregs_segs); i++)
		put_node(w, sregs_segs[i].name, seg_fields,
			 ARRAY_SIZE(seg_fields), sr + sregs_segs[i].offset);
	for (i = 0; i < ARRAY_SIZE(sregs_dtables); i++)
		put_node(w, sregs_dtables[i].name, dtable_fields,
			 ARRAY_SIZE(dtable_fields), sr + sregs_dtables[i].offset);
	state__end(w);

	nx = s->xcrs.nr_xcrs <= KVM_MAX_XCRS ? s->xcrs.nr_xcrs : KVM_MAX_XCRS;
	for (i = 0; i < nx; i++) {
		xidx[i] = s->xcrs.xcrs[i].xcr;
		xval[i] = s->xcrs.xcrs[i].value;
	}
	state__begin(w, "xcrs");
	state__put_u32(w, "flags", s->xcrs.flags);
	state__put_u32_array(w, "index", xidx, nx);
	state__put_u64_array(w, "value", xval, nx);
	state__end(w);

	for (i = 0; i < s->nr_msrs && i < VCPU_STATE_MAX_MSRS; i++) {
		idx[i] = s->msrs[i].index;
		val[i] = s->msrs[i].value;
	}
	state__begin(w, "msrs");
	state__put_u32_array(w, "index", idx, i);
	state__put_u64_array(w, "value", val, i);
	state__end(w);

	/* The APIC register page as KVM returns it (32-bit LE registers). */
	state__begin(w, "lapic");
	state__put_bytes(w, "regs", s->lapic.regs, sizeof(s->lapic.regs));
	state__end(w);

	put_node(w, "events", events_fields, ARRAY_SIZE(events_fields),
		 &s->events);
	put_node(w, "debugregs", debugregs_fields,
		 ARRAY_SIZE(debugregs_fields), &s->debugregs);
	return state_writer__status(w);
}

static void get_node(struct state_reader *r, int parent, const char *name,
		     const struct state_field *f, size_t n, void *base)
{
	int node = state__node(r, parent, name);

	state__get_fields(r, node, f, n, base);
}

int vcpu_state__load(struct state_reader *r, int node, struct vcpu_state *s)
{
	uint32_t idx[VCPU_STATE_MAX_MSRS];
	uint64_t val[VCPU_STATE_MAX_MSRS];
	uint32_t xidx[KVM_MAX_XCRS];
	uint64_t xval[KVM_MAX_XCRS];
	uint8_t *sr = (uint8_t *)&s->sregs;
	size_t n, nv, len, i;
	int sub;

	memset(s, 0, sizeof(*s));
	get_node(r, node, "regs", regs_fields, ARRAY_SIZE(regs_fields), &s->regs);

	sub = state__node(r, node, "sregs");
	for (i = 0; i < ARRAY_SIZE(sregs_segs); i++)
		get_node(r, sub, sregs_segs[i].name, seg_fields,
			 ARRAY_SIZE(seg_fields), sr + sregs_segs[i].offset);
	for (i = 0; i < ARRAY_SIZE(sregs_dtables); i++)
		get_node(r, sub, sregs_dtables[i].name, dtable_fields,
			 ARRAY_SIZE(dtable_fields), sr + sregs_dtables[i].offset);
	state__get_fields(r, sub, sregs_fields, ARRAY_SIZE(sregs_fields),
			  &s->sregs);
	if (!state__get_u64_array(r, sub, "interrupt-bitmap", val,
				  ARRAY_SIZE(s->sregs.interrupt_bitmap), &n)) {
		if (n != ARRAY_SIZE(s->sregs.interrupt_bitmap))
			return state__fail(r, sub, "interrupt-bitmap has %zu entries, expected %zu",
					   n, ARRAY_SIZE(s->sregs.interrupt_bitmap));
		memcpy(s->sregs.interrupt_bitmap, val,
		       sizeof(s->sregs.interrupt_bitmap));
	}

	if (!state__get_bytes_max(r, node, "xsave", s->xsave,
				  VCPU_STATE_XSAVE_MAX, &len)) {
		if (len < VCPU_STATE_XSAVE_MIN)
			return state__fail(r, node, "xsave has %zu bytes, at least %u expected",
					   len, VCPU_STATE_XSAVE_MIN);
		s->xsave_len = (uint32_t)len;
	}

	sub = state__node(r, node, "xcrs");
	state__get_u32(r, sub, "flags", &s->xcrs.flags);
	state__get_u32_array(r, sub, "index", xidx, KVM_MAX_XCRS, &n);
	state__get_u64_array(r, sub, "value", xval, KVM_MAX_XCRS, &nv);
	if (state_reader__status(r))
		return state_reader__status(r);
	if (n != nv)
		return state__fail(r, sub, "%zu indices but %zu values", n, nv);
	s->xcrs.nr_xcrs = (uint32_t)n;
	for (i = 0; i < n; i++) {
		s->xcrs.xcrs[i].xcr = xidx[i];
		s->xcrs.xcrs[i].value = xval[i];
	}

	sub = state__node(r, node, "msrs");
	state__get_u32_array(r, sub, "index", idx, VCPU_STATE_MAX_MSRS, &n);
	state__get_u64_array(r, sub, "value", val, VCPU_STATE_MAX_MSRS, &nv);
	if (state_reader__status(r))
		return state_reader__status(r);
	if (n != nv)
		return state__fail(r, sub, "%zu indices but %zu values", n, nv);
	s->nr_msrs = (uint32_t)n;
	for (i = 0; i < n; i++) {
		s->msrs[i].index = idx[i];
		s->msrs[i].value = val[i];
	}

	sub = state__node(r, node, "lapic");
	state__get_bytes(r, sub, "regs", s->lapic.regs, sizeof(s->lapic.regs));
	get_node(r, node, "events", events_fields, ARRAY_SIZE(events_fields),
		 &s->events);
	get_node(r, node, "debugregs", debugregs_fields,
		 ARRAY_SIZE(debugregs_fields), &s->debugregs);
	state__get_u32(r, node, "mp-state", &s->mp_state.mp_state);
	state__get_u32(r, node, "tsc-khz", &s->tsc_khz);
	return state_reader__status(r);
}

/* ---- migration handler: "vcpu<N>" ---- */

struct vcpu_mig {
	int fd;                              /* borrowed */
	unsigned int id;
	const struct vcpu_state_caps *caps;  /* borrowed */
	struct vcpu_state *staged;           /* owned: parsed, not yet applied */
	struct vcpu_state *scratch;          /* owned: for saving */
};

static int vcpu_mig_save_state(void *opaque, struct state_writer *w)
{
	struct vcpu_mig *v = opaque;
	int ret;

	ret = vcpu_state__get(v->fd, v->id, v->caps, v->scratch);
	if (ret)
		return ret;
	return vcpu_state__save(w, v->scratch);
}

static int vcpu_mig_load_state(void *opaque, struct state_reader *r, int node,
			       uint32_t version)
{
	struct vcpu_mig *v = opaque;
	int ret;

	ret = vcpu_state__load(r, node, v->staged);
	if (ret)
		return ret;
	if (v->staged->xsave_len > v->caps->xsave_size)
		return state__fail(r, node,
				   "XSAVE area of %u bytes is larger than this host's %u",
				   v->staged->xsave_len, v->caps->xsave_size);
	return 0;
}

static int vcpu_mig_load_apply(void *opaque)
{
	struct vcpu_mig *v = opaque;

	return vcpu_state__set(v->fd, v->id, v->caps, v->staged);
}

static void vcpu_mig_release(void *opaque)
{
	struct vcpu_mig *v = opaque;

	if (!v)
		return;
	free(v->staged);
	free(v->scratch);
	free(v);
}

static const struct mig_handler_ops vcpu_mig_ops = {
	.version = 1,
	.order = MIG_ORDER_VCPU,
	.save_state = vcpu_mig_save_state,
	.load_state = vcpu_mig_load_state,
	.load_apply = vcpu_mig_load_apply,
	.release = vcpu_mig_release,
};

int vcpu_state__register(struct migration *mig, unsigned int id, int vcpu_fd,
			 const struct vcpu_state_caps *caps)
{
	struct vcpu_mig *v;
	char name[MIG_ID_MAX];
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->fd = vcpu_fd;
	v->id = id;
	v->caps = caps;
	v->staged = calloc(1, sizeof(*v->staged));
	v->scratch = calloc(1, sizeof(*v->scratch));
	if (!v->staged || !v->scratch) {
		vcpu_mig_release(v);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "vcpu%u", id);
	ret = migration__register(mig, name, &vcpu_mig_ops, v);
	if (ret)
		vcpu_mig_release(v);
	return ret;
}
