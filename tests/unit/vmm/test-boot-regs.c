/*
 * test-boot-regs.c: boot__bsp_regs() for both entry kinds: segment
 * registers, control registers, EFER and general registers, and that
 * the state KVM_GET_SREGS returned is otherwise left alone.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/boot-layout.h"
#include "vmm/boot.h"

/* Roughly what KVM_GET_SREGS returns for a fresh vCPU. */
static void reset_sregs(struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	s->cs = (struct kvm_segment){ .base = 0xffff0000, .limit = 0xffff,
				      .selector = 0xf000, .type = 0xb,
				      .present = 1, .s = 1 };
	s->tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb,
				      .present = 1 };
	s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2,
				       .present = 1 };
	s->idt.limit = 0xffff;
	s->cr0 = 0x60000010;
	s->efer = 0x1; /* SCE: must survive */
	s->apic_base = 0xfee00900;
	s->interrupt_bitmap[0] = 0x5;
}

static void check_flat(const struct kvm_segment *s, uint16_t sel,
		       uint8_t type)
{
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xffffffff);
	assert_int_equal(s->selector, sel);
	assert_int_equal(s->type, type);
	assert_int_equal(s->present, 1);
	assert_int_equal(s->s, 1);
	assert_int_equal(s->g, 1);
	assert_int_equal(s->dpl, 0);
}

static void check_untouched(const struct kvm_sregs *s)
{
	struct kvm_sregs r;

	reset_sregs(&r);
	assert_memory_equal(&s->tr, &r.tr, sizeof(r.tr));
	assert_memory_equal(&s->ldt, &r.ldt, sizeof(r.ldt));
	assert_memory_equal(&s->idt, &r.idt, sizeof(r.idt));
	assert_int_equal(s->apic_base, r.apic_base);
	assert_int_equal(s->interrupt_bitmap[0], 0x5);
	assert_int_equal(s->efer & 1, 1);
}

static void test_pvh(void **state)
{
	struct boot_info bi = {
		.kind = BOOT_KIND_PVH, .entry = 0x1000123,
		.params_addr = BOOT_START_INFO_ADDR, .gdt_base = BOOT_GDT_ADDR,
		.gdt_limit = 31, .stack_top = BOOT_STACK_TOP,
	};
	struct kvm_regs regs;
	struct kvm_sregs s;

	(void)state;
	memset(&regs, 0xff, sizeof(regs));
	reset_sregs(&s);
	s.efer |= 0x500; /* stale LME|LMA must be cleared */
	assert_int_equal(boot__bsp_regs(&bi, &regs, &s), 0);
	assert_int_equal(regs.rip, 0x1000123);
	assert_int_equal(regs.rbx, BOOT_START_INFO_ADDR);
	assert_int_equal(regs.rflags, 0x2);
	assert_int_equal(regs.rsp, BOOT_STACK_TOP);
	assert_int_equal(regs.rsi, 0);
	assert_int_equal(regs.rax, 0);
	check_flat(&s.cs, 0x8, 0xb);
	assert_int_equal(s.cs.db, 1);
	assert_int_equal(s.cs.l, 0);
	check_flat(&s.ds, 0x18, 0x3);
	check_flat(&s.es, 0x18, 0x3);
	check_flat(&s.fs, 0x18, 0x3);
	check_flat(&s.gs, 0x18, 0x3);
	check_flat(&s.ss, 0x18, 0x3);
	assert_int_equal(s.ss.db, 1);
	assert_int_equal(s.cr0, 0x11); /* PE | ET, no paging, caches on */
	assert_int_equal(s.cr3, 0);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer & 0x500, 0);
	assert_int_equal(s.gdt.base, BOOT_GDT_ADDR);
	assert_int_equal(s.gdt.limit, 31);
	check_untouched(&s);
}

static void test_linux64(void **state)
{
	struct boot_info bi = {
		.kind = BOOT_KIND_LINUX64, .entry = 0x1000200,
		.params_addr = BOOT_ZERO_PAGE_ADDR, .cr3 = BOOT_PML4_ADDR,
		.gdt_base = BOOT_GDT_ADDR, .gdt_limit = 31,
		.stack_top = BOOT_STACK_TOP,
	};
	struct kvm_regs regs;
	struct kvm_sregs s;

	(void)state;
	memset(&regs, 0xff, sizeof(regs));
	reset_sregs(&s);
	assert_int_equal(boot__bsp_regs(&bi, &regs, &s), 0);
	assert_int_equal(regs.rip, 0x1000200);
	assert_int_equal(regs.rsi, BOOT_ZERO_PAGE_ADDR);
	assert_int_equal(regs.rbx, 0);
	assert_int_equal(regs.rflags, 0x2);
	/* Linux: CS = __BOOT_CS (0x10), DS/ES/SS = __BOOT_DS (0x18). */
	check_flat(&s.cs, 0x10, 0xb);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	check_flat(&s.ds, 0x18, 0x3);
	check_flat(&s.es, 0x18, 0x3);
	check_flat(&s.ss, 0x18, 0x3);
	assert_int_equal(s.cr0, 0x80000011); /* PG | ET | PE */
	assert_int_equal(s.cr3, BOOT_PML4_ADDR);
	assert_int_equal(s.cr4, 0x20); /* PAE */
	assert_int_equal(s.efer, 0x501); /* LMA | LME | SCE kept */
	check_untouched(&s);
}

static void test_invalid(void **state)
{
	struct boot_info bi = { .kind = BOOT_KIND_NONE };
	struct kvm_regs regs;
	struct kvm_sregs s;

	(void)state;
	reset_sregs(&s);
	assert_int_equal(boot__bsp_regs(&bi, &regs, &s), -EINVAL);
	bi.kind = 42;
	assert_int_equal(boot__bsp_regs(&bi, &regs, &s), -EINVAL);
	assert_int_equal(boot__bsp_regs(NULL, &regs, &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh),
		cmocka_unit_test(test_linux64),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
