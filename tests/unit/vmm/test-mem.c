/*
 * test-mem.c: guest memory layout around the MMIO hole, the e820 map,
 * and the bounds/overflow checks of the guest-memory accessor.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/mem.h"

static void test_mem__rejects_bad_sizes(void **state)
{
	struct guest_mem *m = NULL;

	assert_int_equal(mem__create(0, &m), -EINVAL);
	assert_int_equal(mem__create(MEM_MIN_SIZE - 4096, &m), -EINVAL);
	assert_int_equal(mem__create(MEM_MIN_SIZE + 1, &m), -EINVAL);
	assert_int_equal(mem__create(MEM_MAX_SIZE + 4096, &m), -EINVAL);
	assert_null(m);
}

static void test_mem__small_layout_and_e820(void **state)
{
	struct e820_entry e[MEM_MAX_E820];
	struct guest_mem *m;
	int n;

	assert_int_equal(mem__create(64ULL << 20, &m), 0);
	assert_int_equal(m->nr_regions, 1);
	assert_int_equal(mem__end(m), 64ULL << 20);
	n = mem__e820(m, e, MEM_MAX_E820);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].size, MEM_EBDA_START);
	assert_int_equal(e[0].type, E820_RAM);
	assert_int_equal(e[1].addr, MEM_EBDA_START);
	assert_int_equal(e[1].type, E820_RESERVED);
	assert_int_equal(e[2].addr, MEM_BIOS_END);
	assert_int_equal(e[2].addr + e[2].size, 64ULL << 20);
	assert_int_equal(mem__e820(m, e, 2), -ENOSPC);
	mem__destroy(m);
}

static void test_mem__large_layout_splits_at_hole(void **state)
{
	struct e820_entry e[MEM_MAX_E820];
	struct guest_mem *m;
	int n;

	/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB. */
	assert_int_equal(mem__create(4ULL << 30, &m), 0);
	assert_int_equal(m->nr_regions, 2);
	assert_int_equal(m->regions[0].size, MEM_HOLE_START);
	assert_int_equal(m->regions[1].gpa, MEM_HIGH_START);
	assert_int_equal(m->regions[1].size, 1ULL << 30);
	assert_int_equal(mem__end(m), MEM_HIGH_START + (1ULL << 30));
	n = mem__e820(m, e, MEM_MAX_E820);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].addr + e[2].size, MEM_HOLE_START);
	assert_int_equal(e[3].addr, MEM_HIGH_START);
	/* Nothing maps inside the hole. */
	assert_null(mem__gpa_ptr(m, MEM_HOLE_START, 1));
	assert_null(mem__gpa_ptr(m, 0xfee00000ULL, 4));
	/* The two regions are distinct host ranges of one memfd. */
	assert_ptr_equal(mem__gpa_ptr(m, MEM_HIGH_START, 8),
			 m->base + MEM_HOLE_START);
	mem__destroy(m);
}

static void test_mem__accessor_bounds(void **state)
{
	struct guest_mem *m;
	uint64_t size = 32ULL << 20;
	uint8_t buf[16] = { 1, 2, 3 }, back[16];

	assert_int_equal(mem__create(size, &m), 0);
	assert_non_null(mem__gpa_ptr(m, 0, size));
	assert_non_null(mem__gpa_ptr(m, size - 1, 1));
	assert_non_null(mem__gpa_ptr(m, size, 0));
	assert_null(mem__gpa_ptr(m, size - 1, 2));
	assert_null(mem__gpa_ptr(m, size, 1));
	/* gpa + len wraps around 2^64. */
	assert_null(mem__gpa_ptr(m, UINT64_MAX - 3, 8));
	assert_null(mem__gpa_ptr(m, 8, UINT64_MAX));
	assert_int_equal(mem__write(m, 0x1000, buf, sizeof(buf)), 0);
	assert_int_equal(mem__read(m, 0x1000, back, sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(mem__write(m, size - 8, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(mem__read(m, UINT64_MAX, back, 2), -EFAULT);
	assert_null(mem__gpa_ptr(NULL, 0, 1));
	mem__destroy(m);
	mem__destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem__rejects_bad_sizes),
		cmocka_unit_test(test_mem__small_layout_and_e820),
		cmocka_unit_test(test_mem__large_layout_splits_at_hole),
		cmocka_unit_test(test_mem__accessor_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
