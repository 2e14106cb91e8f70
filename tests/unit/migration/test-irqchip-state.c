/*
 * test-irqchip-state.c: PIC/IOAPIC/PIT and KVM clock state. Without
 * KVM: the encoding round-trips and bad values are rejected by name.
 * With /dev/kvm (skipped otherwise): program distinctive PIC, IOAPIC,
 * PIT and clock state, get -> save -> load -> set into a fresh VM ->
 * get and compare; and through the "irqchip"/"clock" handlers.
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
#include "vmm/irqchip-state-x86_64.h"

static void *encode(const struct irqchip_state *s, const struct clock_state *c,
		    size_t *size)
{
	struct state_writer *w;
	const void *blob;
	void *copy;

	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "irqchip");
	assert_int_equal(irqchip_state__save(w, s), 0);
	state__end(w);
	state__begin(w, "clock");
	assert_int_equal(clock_state__save(w, c), 0);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, size), 0);
	copy = malloc(*size);
	memcpy(copy, blob, *size);
	state_writer__destroy(w);
	return copy;
}

static int decode(const void *blob, size_t size, struct irqchip_state *s,
		  struct clock_state *c, struct state_reader *r)
{
	assert_int_equal(state_reader__init(r, blob, size, STATE_MAX_SIZE), 0);
	irqchip_state__load(r, state__node(r, STATE_ROOT, "irqchip"), s);
	clock_state__load(r, state__node(r, STATE_ROOT, "clock"), c);
	return state_reader__status(r);
}

static void pattern(struct irqchip_state *s, struct clock_state *c)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->pic[0].imr = 0xfb;
	s->pic[0].irq_base = 0x20;
	s->pic[1].irq_base = 0x28;
	s->pic[1].elcr = 0x0c;
	s->pic[1].elcr_mask = 0xde;
	s->ioapic.base_address = 0xfec00000;
	s->ioapic.id = 2;
	s->ioapic.ioregsel = 0x10;
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		s->ioapic.redirtbl[i].bits = (1ULL << 16) | (0x30 + i);
	s->pit.flags = 0;
	s->pit.channels[0].count = 0x1234;
	s->pit.channels[0].mode = 2;
	s->pit.channels[0].rw_mode = 3;
	s->pit.channels[0].gate = 1;
	s->pit.channels[2].count = 0x10000;
	memset(c, 0, sizeof(*c));
	c->clock = 123456789000ULL;
	c->flags = 2;
}

static void test_irqchip_state__encoding(void **state)
{
	struct irqchip_state a, b;
	struct clock_state ca, cb;
	struct state_reader r;
	size_t size;
	void *blob;

	pattern(&a, &ca);
	blob = encode(&a, &ca, &size);
	assert_int_equal(decode(blob, size, &b, &cb, &r), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_equal(&ca, &cb, sizeof(ca));
	free(blob);

	/* Out-of-range PIT mode is refused with the node named. */
	a.pit.channels[1].mode = 9;
	blob = encode(&a, &ca, &size);
	assert_int_equal(decode(blob, size, &b, &cb, &r), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/irqchip/pit: channel1: count 0 / mode 9 out of range");
	free(blob);
}

static void program(int vm_fd)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clk;

	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_PIC_MASTER;
	assert_int_equal(ioctl(vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.pic.imr = 0xfa;
	chip.chip.pic.irq_base = 0x20;
	chip.chip.pic.elcr = 0x08;
	assert_int_equal(ioctl(vm_fd, KVM_SET_IRQCHIP, &chip), 0);
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	assert_int_equal(ioctl(vm_fd, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[5].bits = (1ULL << 16) | 0x35;
	chip.chip.ioapic.redirtbl[9].bits = (0x3ULL << 56) | (1ULL << 15) | 0x49;
	chip.chip.ioapic.id = 3;
	assert_int_equal(ioctl(vm_fd, KVM_SET_IRQCHIP, &chip), 0);
	assert_int_equal(ioctl(vm_fd, KVM_GET_PIT2, &pit), 0);
	pit.channels[0].count = 0x1234;
	pit.channels[0].mode = 2;
	pit.channels[0].rw_mode = 3;
	pit.channels[2].count = 0x4321;
	pit.channels[2].mode = 3;
	assert_int_equal(ioctl(vm_fd, KVM_SET_PIT2, &pit), 0);
	memset(&clk, 0, sizeof(clk));
	clk.clock = 50ULL * 1000 * 1000 * 1000; /* 50 s */
	assert_int_equal(ioctl(vm_fd, KVM_SET_CLOCK, &clk), 0);
}

static void compare(const struct irqchip_state *a, const struct irqchip_state *b,
		    const struct clock_state *ca, const struct clock_state *cb)
{
	unsigned int i;

	assert_memory_equal(&a->pic, &b->pic, sizeof(a->pic));
	assert_memory_equal(&a->ioapic, &b->ioapic, sizeof(a->ioapic));
	assert_int_equal(a->pit.flags, b->pit.flags);
	for (i = 0; i < 3; i++) {
		/* count_load_time is host time: KVM restarts the counter. */
		assert_int_equal(a->pit.channels[i].count, b->pit.channels[i].count);
		assert_int_equal(a->pit.channels[i].mode, b->pit.channels[i].mode);
		assert_int_equal(a->pit.channels[i].rw_mode,
				 b->pit.channels[i].rw_mode);
		assert_int_equal(a->pit.channels[i].gate, b->pit.channels[i].gate);
		assert_int_equal(a->pit.channels[i].bcd, b->pit.channels[i].bcd);
	}
	/* The clock continues from the saved value: later, but < 5 s. */
	assert_true(cb->clock >= ca->clock);
	assert_true(cb->clock - ca->clock < 5ULL * 1000 * 1000 * 1000);
}

static void test_irqchip_state__kvm_round_trip(void **state)
{
	struct irqchip_state a, b, c;
	struct clock_state ca, cb, cc;
	struct kvm_helper k1, k2;
	struct state_reader r;
	size_t size;
	void *blob;

	if (kvm_helper_open(&k1) == -1)
		skip();
	assert_int_equal(kvm_helper_open(&k2), 0);
	program(k1.vm_fd);
	assert_int_equal(irqchip_state__get(k1.vm_fd, &a), 0);
	assert_int_equal(clock_state__get(k1.vm_fd, &ca), 0);
	assert_int_equal(a.pic[0].imr, 0xfa);
	assert_true(a.ioapic.redirtbl[5].bits == ((1ULL << 16) | 0x35));
	assert_int_equal(a.pit.channels[0].count, 0x1234);
	assert_true(ca.clock >= 50ULL * 1000 * 1000 * 1000);

	blob = encode(&a, &ca, &size);
	if (decode(blob, size, &b, &cb, &r))
		fail_msg("%s", state_reader__error(&r));
	assert_int_equal(irqchip_state__set(k2.vm_fd, &b), 0);
	assert_int_equal(clock_state__set(k2.vm_fd, &cb), 0);
	assert_int_equal(irqchip_state__get(k2.vm_fd, &c), 0);
	assert_int_equal(clock_state__get(k2.vm_fd, &cc), 0);
	compare(&a, &c, &ca, &cc);
	free(blob);
	kvm_helper_close(&k1);
	kvm_helper_close(&k2);
}

static void test_irqchip_state__handlers(void **state)
{
	struct irqchip_state a, c;
	struct clock_state ca, cc;
	struct migration *src, *dst;
	struct kvm_helper k1, k2;
	struct state_writer *w;
	struct state_reader r;
	const void *blob;
	size_t size, i;

	if (kvm_helper_open(&k1) == -1)
		skip();
	assert_int_equal(kvm_helper_open(&k2), 0);
	program(k1.vm_fd);
	assert_int_equal(migration__create(&src), 0);
	assert_int_equal(migration__create(&dst), 0);
	assert_int_equal(irqchip_state__register(src, k1.vm_fd), 0);
	assert_int_equal(irqchip_state__register(dst, k2.vm_fd), 0);
	assert_int_equal(irqchip_state__register(dst, k2.vm_fd), -EEXIST);
	assert_int_equal(migration__count(dst), 2);

	assert_int_equal(state_writer__create(&w), 0);
	for (i = 0; i < migration__count(src); i++) {
		struct mig_handler *h = migration__handler(src, i);

		state__begin(w, h->id);
		assert_int_equal(h->ops->save_state(h->opaque, w), 0);
		state__end(w);
	}
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);
	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	for (i = 0; i < migration__count(dst); i++) {
		struct mig_handler *h = migration__handler(dst, i);
		int node = state__node(&r, STATE_ROOT, h->id);

		assert_int_equal(h->ops->load_state(h->opaque, &r, node, 1), 0);
	}
	for (i = 0; i < migration__count(dst); i++) {
		struct mig_handler *h = migration__handler(dst, i);

		assert_int_equal(h->ops->load_apply(h->opaque), 0);
	}
	assert_int_equal(irqchip_state__get(k1.vm_fd, &a), 0);
	assert_int_equal(clock_state__get(k1.vm_fd, &ca), 0);
	assert_int_equal(irqchip_state__get(k2.vm_fd, &c), 0);
	assert_int_equal(clock_state__get(k2.vm_fd, &cc), 0);
	/* Saved clock <= source now; destination restarted from saved. */
	assert_true(cc.clock <= ca.clock + 5ULL * 1000 * 1000 * 1000);
	assert_memory_equal(&a.pic, &c.pic, sizeof(a.pic));
	assert_memory_equal(&a.ioapic, &c.ioapic, sizeof(a.ioapic));
	state_writer__destroy(w);
	migration__destroy(src);
	migration__destroy(dst);
	kvm_helper_close(&k1);
	kvm_helper_close(&k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irqchip_state__encoding),
		cmocka_unit_test(test_irqchip_state__kvm_round_trip),
		cmocka_unit_test(test_irqchip_state__handlers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
