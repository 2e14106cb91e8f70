/*
 * test-bus.c: range registration (overlap, overflow), dispatch with
 * offsets, misses, and unregistration from inside a handler.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/bus.h"

struct recorder {
	uint64_t last_off;
	uint32_t last_len;
	uint32_t last_val;
	int reads, writes;
	struct bus *bus;
	bool unregister_on_write;
};

static void rec_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct recorder *r = opaque;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	memset(data, 0xab, len);
}

static void rec_write(void *opaque, uint64_t off, const void *data,
		      uint32_t len)
{
	struct recorder *r = opaque;

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->last_val = 0;
	memcpy(&r->last_val, data, len < 4 ? len : 4);
	if (r->unregister_on_write)
		assert_int_equal(bus__unregister(r->bus, BUS_MMIO, 0x1000), 0);
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

static void test_bus__register_rejects_overlap_and_overflow(void **state)
{
	struct recorder r = { 0 };
	struct bus *bus;

	assert_int_equal(bus__create(&bus), 0);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x3f8, 8, &rec_ops, &r), 0);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x3f8, 1, &rec_ops, &r), -EEXIST);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x3f0, 9, &rec_ops, &r), -EEXIST);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x3ff, 1, &rec_ops, &r), -EEXIST);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x400, 1, &rec_ops, &r), 0);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x3f0, 8, &rec_ops, &r), 0);
	assert_int_equal(bus__register(bus, BUS_PIO, 0x10, 0, &rec_ops, &r), -EINVAL);
	assert_int_equal(bus__register(bus, BUS_MMIO, UINT64_MAX - 1, 4, &rec_ops, &r),
			 -EINVAL);
	/* The same address in the other space is independent. */
	assert_int_equal(bus__register(bus, BUS_MMIO, 0x3f8, 8, &rec_ops, &r), 0);
	bus__destroy(bus);
	bus__destroy(NULL);
}

static void test_bus__dispatch_offsets_and_misses(void **state)
{
	struct recorder a = { 0 }, b = { 0 };
	uint32_t v = 0x12345678;
	uint8_t buf[4];
	struct bus *bus;

	assert_int_equal(bus__create(&bus), 0);
	/* Register out of order to exercise the sorted insert. */
	assert_int_equal(bus__register(bus, BUS_MMIO, 0x2000, 0x100, &rec_ops, &b), 0);
	assert_int_equal(bus__register(bus, BUS_MMIO, 0x1000, 0x100, &rec_ops, &a), 0);
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x1010, &v, 4, true), 0);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_off, 0x10);
	assert_int_equal(a.last_val, 0x12345678);
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x20fc, buf, 4, false), 0);
	assert_int_equal(b.reads, 1);
	assert_int_equal(b.last_off, 0xfc);
	assert_int_equal(buf[0], 0xab);
	/* Straddling the end of a range, gaps and the other space miss. */
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x20fe, buf, 4, false), -ENOENT);
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x1800, buf, 1, false), -ENOENT);
	assert_int_equal(bus__access(bus, BUS_PIO, 0x1010, buf, 1, false), -ENOENT);
	assert_int_equal(bus__unregister(bus, BUS_MMIO, 0x1000), 0);
	assert_int_equal(bus__unregister(bus, BUS_MMIO, 0x1000), -ENOENT);
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x1010, &v, 4, true), -ENOENT);
	bus__destroy(bus);
}

static void test_bus__handler_may_unregister(void **state)
{
	struct recorder r = { 0 };
	uint32_t v = 1;
	struct bus *bus;

	assert_int_equal(bus__create(&bus), 0);
	r.bus = bus;
	r.unregister_on_write = true;
	assert_int_equal(bus__register(bus, BUS_MMIO, 0x1000, 0x10, &rec_ops, &r), 0);
	/* Would deadlock if the handler ran under the bus lock. */
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x1000, &v, 4, true), 0);
	assert_int_equal(bus__access(bus, BUS_MMIO, 0x1000, &v, 4, true), -ENOENT);
	bus__destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus__register_rejects_overlap_and_overflow),
		cmocka_unit_test(test_bus__dispatch_offsets_and_misses),
		cmocka_unit_test(test_bus__handler_may_unregister),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
