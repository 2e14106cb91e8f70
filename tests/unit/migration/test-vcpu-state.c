/*
 * test-vcpu-state.c: x86-64 vCPU state. Without KVM: the state-tree
 * encoding is symmetric (save -> load -> save gives the same blob) and
 * a missing or malformed field is rejected naming the node and the
 * property. With /dev/kvm (skipped otherwise): set distinctive state
 * in a vCPU, get -> save -> load -> set into a vCPU of a fresh VM ->
 * get, and compare every part; also through the "vcpu0" handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "kvm-helper.h"
#include "migration/registry.h"
#include "migration/state-fdt-read.h"
#include "vmm/vcpu-state-x86_64.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_CR_PAT 0x277
#define APIC_TPR 0x80
#define APIC_SPIV 0xf0
#define APIC_TMCCT 0x390 /* timer current count: moves with time */

/* Encode @s into a fresh blob under node "vcpu0"; caller frees. */
static void *encode(const struct vcpu_state *s, size_t *size)
{
	struct state_writer *w;
	const void *blob;
	void *copy;

	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "vcpu0");
	assert_int_equal(vcpu_state__save(w, s), 0);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, size), 0);
	copy = malloc(*size);
	memcpy(copy, blob, *size);
	state_writer__destroy(w);
	return copy;
}

static int decode(const void *blob, size_t size, struct vcpu_state *s,
		  struct state_reader *r)
{
	int node;

	assert_int_equal(state_reader__init(r, blob, size, STATE_MAX_SIZE), 0);
	node = state__node(r, STATE_ROOT, "vcpu0");
	return vcpu_state__load(r, node, s);
}

static void fill_pattern(struct vcpu_state *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->regs.rax = 0x1111111111111111ULL;
	s->regs.r15 = 0xf0f0f0f0f0f0f0f0ULL;
	s->regs.rip = 0xfff0;
	s->regs.rflags = 0x202;
	s->sregs.cs.selector = 0xf000;
	s->sregs.cs.base = 0xffff0000;
	s->sregs.cs.limit = 0xffff;
	s->sregs.tr.type = 11;
	s->sregs.gdt.base = 0x5000;
	s->sregs.gdt.limit = 0x27;
	s->sregs.cr0 = 0x60000010;
	s->sregs.efer = 0x500;
	s->sregs.apic_base = 0xfee00900;
	s->sregs.interrupt_bitmap[3] = 1ULL << 63;
	s->xsave_len = 4096;
	for (i = 0; i < s->xsave_len; i++)
		s->xsave[i] = (uint8_t)(i * 7);
	s->xcrs.nr_xcrs = 1;
	s->xcrs.xcrs[0].value = 7;
	s->nr_msrs = 3;
	s->msrs[0] = (struct vcpu_state_msr){ 0x10, 123456 };
	s->msrs[1] = (struct vcpu_state_msr){ 0x174, 0x10 };
	s->msrs[2] = (struct vcpu_state_msr){ 0xc0000082, 0xffffffff81000000ULL };
	for (i = 0; i < sizeof(s->lapic.regs); i++)
		s->lapic.regs[i] = (char)i;
	s->events.nmi.masked = 1;
	s->events.sipi_vector = 0x9a;
	s->events.flags = KVM_VCPUEVENT_VALID_SHADOW;
	s->events.exception_payload = 0xabcdef;
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	s->debugregs.db[2] = 0x2222;
	s->debugregs.dr7 = 0x400;
	s->tsc_khz = 2000000;
}

static void test_vcpu_state__encoding_round_trip(void **state)
{
	struct vcpu_state *a = calloc(1, sizeof(*a));
	struct vcpu_state *b = calloc(1, sizeof(*b));
	struct state_reader r;
	size_t size1, size2;
	void *blob1, *blob2;

	fill_pattern(a);
	blob1 = encode(a, &size1);
	assert_int_equal(decode(blob1, size1, b, &r), 0);
	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
	assert_int_equal(b->xsave_len, 4096);
	assert_memory_equal(a->xsave, b->xsave, 4096);
	assert_int_equal(b->nr_msrs, 3);
	assert_memory_equal(a->msrs, b->msrs, 3 * sizeof(a->msrs[0]));
	assert_memory_equal(&a->lapic, &b->lapic, sizeof(a->lapic));
	assert_memory_equal(&a->events, &b->events, sizeof(a->events));
	assert_memory_equal(&a->debugregs, &b->debugregs, sizeof(a->debugregs));
	assert_int_equal(b->xcrs.nr_xcrs, 1);
	assert_true(b->xcrs.xcrs[0].value == 7);
	assert_int_equal(b->mp_state.mp_state, KVM_MP_STATE_HALTED);
	assert_int_equal(b->tsc_khz, 2000000);
	blob2 = encode(b, &size2);
	assert_int_equal(size1, size2);
	assert_memory_equal(blob1, blob2, size1);
	free(blob1);
	free(blob2);
	free(a);
	free(b);
}

static void test_vcpu_state__rejects_bad_fields(void **state)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	struct state_writer *w;
	struct state_reader r;
	const void *blob;
	size_t size;

	/* regs node without rip; everything else absent too. */
	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "vcpu0");
	state__begin(w, "regs");
	state__put_u64(w, "rax", 1);
	state__end(w);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);
	assert_int_equal(decode(blob, size, s, &r), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/vcpu0/regs: property 'rbx' is missing");
	state_writer__destroy(w);

	/* MSR arrays of different lengths; xsave too short. */
	fill_pattern(s);
	s->xsave_len = 100;
	blob = encode(s, &size);
	assert_int_equal(decode(blob, size, s, &r), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/vcpu0: xsave has 100 bytes, at least 4096 expected");
	free((void *)blob);
	free(s);
}

/* Put distinctive values into vCPU @fd. */
static void set_distinctive(int fd)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[6];
	} m;
	static const struct kvm_msr_entry msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS, .data = 0x10 },
		{ .index = MSR_IA32_SYSENTER_ESP, .data = 0xffff8000deadb000ULL },
		{ .index = MSR_IA32_SYSENTER_EIP, .data = 0xffffffff81234567ULL },
		{ .index = MSR_STAR, .data = 0x0023001000000000ULL },
		{ .index = MSR_LSTAR, .data = 0xffffffff81a00000ULL },
		{ .index = MSR_KERNEL_GS_BASE, .data = 0xffff888012340000ULL },
	};
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dbg;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_HALTED };
	struct kvm_xsave xs;
	uint32_t v;

	assert_int_equal(ioctl(fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cr2 = 0xdeadb000;
	sregs.gdt.base = 0x5000;
	sregs.gdt.limit = 0x27;
	sregs.idt.base = 0x6000;
	sregs.idt.limit = 0x7ff;
	sregs.ds.base = 0x100;
	sregs.ds.selector = 0x10;
	assert_int_equal(ioctl(fd, KVM_SET_SREGS, &sregs), 0);

	memset(&regs, 0, sizeof(regs));
	regs.rax = 0x1111111111111111ULL;
	regs.rbx = 0x2222;
	regs.rsi = 0x3333;
	regs.r8 = 0x8888888888888888ULL;
	regs.r15 = 0xf0f0f0f0f0f0f0f0ULL;
	regs.rip = 0x1000;
	regs.rsp = 0x8000;
	regs.rflags = 0x2 | 0x40 | 0x200; /* reserved bit 1, ZF, IF */
	assert_int_equal(ioctl(fd, KVM_SET_REGS, &regs), 0);

	/* MXCSR (offset 24) and XMM0 (offset 160) in the legacy area. */
	assert_int_equal(ioctl(fd, KVM_GET_XSAVE, &xs), 0);
	v = 0x1f00;
	memcpy((uint8_t *)xs.region + 24, &v, 4);
	memset((uint8_t *)xs.region + 160, 0x5c, 16);
	((uint8_t *)xs.region)[512] |= 0x3; /* XSTATE_BV: x87, SSE */
	assert_int_equal(ioctl(fd, KVM_SET_XSAVE, &xs), 0);

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = ARRAY_SIZE(msrs);
	memcpy(m.e, msrs, sizeof(msrs));
	assert_int_equal(ioctl(fd, KVM_SET_MSRS, &m), (int)ARRAY_SIZE(msrs));

	assert_int_equal(ioctl(fd, KVM_GET_LAPIC, &lapic), 0);
	v = 0x20;
	memcpy(&lapic.regs[APIC_TPR], &v, 4);
	v = 0x1ff; /* software-enabled, spurious vector 0xff */
	memcpy(&lapic.regs[APIC_SPIV], &v, 4);
	assert_int_equal(ioctl(fd, KVM_SET_LAPIC, &lapic), 0);

	memset(&dbg, 0, sizeof(dbg));
	dbg.db[0] = 0x1000;
	dbg.db[3] = 0x4000;
	dbg.dr6 = 0xffff0ff0;
	dbg.dr7 = 0x401;
	assert_int_equal(ioctl(fd, KVM_SET_DEBUGREGS, &dbg), 0);

	assert_int_equal(ioctl(fd, KVM_GET_VCPU_EVENTS, &ev), 0);
	ev.nmi.masked = 1;
	ev.sipi_vector = 0x12;
	ev.flags |= KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_NMI_PENDING;
	assert_int_equal(ioctl(fd, KVM_SET_VCPU_EVENTS, &ev), 0);
	assert_int_equal(ioctl(fd, KVM_SET_MP_STATE, &mp), 0);
}

static void compare_states(const struct vcpu_state *a,
			   const struct vcpu_state *b)
{
	unsigned int i, diffs = 0;
	uint32_t off;

	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
	assert_int_equal(a->xsave_len, b->xsave_len);
	assert_memory_equal(a->xsave, b->xsave, a->xsave_len);
	assert_memory_equal(&a->xcrs, &b->xcrs, sizeof(a->xcrs));
	assert_memory_equal(&a->events, &b->events, sizeof(a->events));
	assert_int_equal(a->mp_state.mp_state, b->mp_state.mp_state);
	assert_memory_equal(&a->debugregs, &b->debugregs, sizeof(a->debugregs));
	for (off = 0; off < sizeof(a->lapic.regs); off += 16) {
		if (off == APIC_TMCCT)
			continue;
		if (memcmp(&a->lapic.regs[off], &b->lapic.regs[off], 4)) {
			print_message("LAPIC register 0x%x differs\n", off);
			diffs++;
		}
	}
	assert_int_equal(a->nr_msrs, b->nr_msrs);
	for (i = 0; i < a->nr_msrs; i++) {
		assert_int_equal(a->msrs[i].index, b->msrs[i].index);
		if (a->msrs[i].index == MSR_IA32_TSC)
			continue; /* runs on; checked below */
		if (a->msrs[i].value != b->msrs[i].value) {
			print_message("MSR 0x%x: 0x%llx != 0x%llx\n",
				      a->msrs[i].index,
				      (unsigned long long)a->msrs[i].value,
				      (unsigned long long)b->msrs[i].value);
			diffs++;
		}
	}
	assert_int_equal(diffs, 0);
}

static uint64_t msr_value(const struct vcpu_state *s, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < s->nr_msrs; i++)
		if (s->msrs[i].index == index)
			return s->msrs[i].value;
	fail_msg("MSR 0x%x not saved", index);
	return 0;
}

static void test_vcpu_state__kvm_round_trip(void **state)
{
	struct vcpu_state_caps *caps = calloc(1, sizeof(*caps));
	struct vcpu_state *a = calloc(1, sizeof(*a));
	struct vcpu_state *b = calloc(1, sizeof(*b));
	struct vcpu_state *c = calloc(1, sizeof(*c));
	struct kvm_helper k1, k2;
	struct state_reader r;
	size_t size;
	void *blob;
	int fd1, fd2;

	if (kvm_helper_open(&k1) == -1)
		skip();
	assert_int_equal(kvm_helper_open(&k2), 0);
	fd1 = kvm_helper_vcpu(&k1, 0);
	fd2 = kvm_helper_vcpu(&k2, 0);
	assert_true(fd1 >= 0 && fd2 >= 0);
	assert_int_equal(vcpu_state__probe(k1.kvm_fd, k1.vm_fd, fd1, caps), 0);
	print_message("%u MSRs, XSAVE %u bytes\n", caps->nr_msrs, caps->xsave_size);
	assert_true(caps->nr_msrs > 10);
	assert_int_equal(caps->msrs[0], MSR_IA32_TSC);

	set_distinctive(fd1);
	assert_int_equal(vcpu_state__get(fd1, 0, caps, a), 0);
	assert_true(a->regs.rax == 0x1111111111111111ULL);
	assert_true(msr_value(a, MSR_LSTAR) == 0xffffffff81a00000ULL);
	assert_int_equal(a->mp_state.mp_state, KVM_MP_STATE_HALTED);

	blob = encode(a, &size);
	assert_int_equal(decode(blob, size, b, &r), 0);
	assert_int_equal(vcpu_state__set(fd2, 0, caps, b), 0);
	assert_int_equal(vcpu_state__get(fd2, 0, caps, c), 0);
	compare_states(a, c);
	/* The TSC continues from the saved value (within 10 s of cycles). */
	assert_true(msr_value(c, MSR_IA32_TSC) >= msr_value(a, MSR_IA32_TSC));
	assert_true(msr_value(c, MSR_IA32_TSC) - msr_value(a, MSR_IA32_TSC) <
		    10ULL * a->tsc_khz * 1000);
	print_message("state blob for one vCPU: %zu bytes\n", size);

	free(blob);
	close(fd1);
	close(fd2);
	kvm_helper_close(&k1);
	kvm_helper_close(&k2);
	free(caps);
	free(a);
	free(b);
	free(c);
}

static void test_vcpu_state__handler(void **state)
{
	struct vcpu_state_caps *caps = calloc(1, sizeof(*caps));
	struct vcpu_state *a = calloc(1, sizeof(*a));
	struct vcpu_state *c = calloc(1, sizeof(*c));
	struct migration *src, *dst;
	struct mig_handler *h;
	struct kvm_helper k1, k2;
	struct state_writer *w;
	struct state_reader r;
	const void *blob;
	size_t size;
	int fd1, fd2, node;

	if (kvm_helper_open(&k1) == -1)
		skip();
	assert_int_equal(kvm_helper_open(&k2), 0);
	fd1 = kvm_helper_vcpu(&k1, 0);
	fd2 = kvm_helper_vcpu(&k2, 0);
	assert_int_equal(vcpu_state__probe(k1.kvm_fd, k1.vm_fd, fd1, caps), 0);
	set_distinctive(fd1);
	assert_int_equal(migration__create(&src), 0);
	assert_int_equal(migration__create(&dst), 0);
	assert_int_equal(vcpu_state__register(src, 0, fd1, caps), 0);
	assert_int_equal(vcpu_state__register(dst, 0, fd2, caps), 0);
	assert_int_equal(vcpu_state__register(dst, 0, fd2, caps), -EEXIST);

	h = migration__find(src, "vcpu0");
	assert_non_null(h);
	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "vcpu0");
	assert_int_equal(h->ops->save_state(h->opaque, w), 0);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);

	h = migration__find(dst, "vcpu0");
	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	node = state__node(&r, STATE_ROOT, "vcpu0");
	assert_int_equal(h->ops->load_state(h->opaque, &r, node, 1), 0);
	assert_int_equal(h->ops->load_apply(h->opaque), 0);
	assert_int_equal(vcpu_state__get(fd1, 0, caps, a), 0);
	assert_int_equal(vcpu_state__get(fd2, 0, caps, c), 0);
	compare_states(a, c);

	state_writer__destroy(w);
	migration__destroy(src);
	migration__destroy(dst);
	close(fd1);
	close(fd2);
	kvm_helper_close(&k1);
	kvm_helper_close(&k2);
	free(caps);
	free(a);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_state__encoding_round_trip),
		cmocka_unit_test(test_vcpu_state__rejects_bad_fields),
		cmocka_unit_test(test_vcpu_state__kvm_round_trip),
		cmocka_unit_test(test_vcpu_state__handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
