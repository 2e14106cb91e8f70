/*
 * test-crc32c.c: CRC-32C against the standard check value, the
 * hardware 3-lane path against the table path at every length around
 * the lane boundaries, incremental updates, and zero-run extension.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "migration/crc32c.h"

static void test_crc32c__check_value(void **state)
{
	crc32c__force_sw(0);
	assert_int_equal(crc32c__update(CRC32C_INIT, "123456789", 9),
			 0xe3069283);
	crc32c__force_sw(1);
	assert_int_equal(crc32c__update(CRC32C_INIT, "123456789", 9),
			 0xe3069283);
	crc32c__force_sw(0);
	assert_int_equal(crc32c__update(CRC32C_INIT, "", 0), 0);
}

static void test_crc32c__hw_matches_sw(void **state)
{
	size_t len, max = 3 * 24576 + 77;
	uint8_t *buf = malloc(max);
	unsigned int i;

	assert_non_null(buf);
	srand(7);
	for (i = 0; i < max; i++)
		buf[i] = (uint8_t)rand();
	for (len = 0; len <= max; len += (len < 4200 ? 1 : 97)) {
		if (len > 4200 && len < 24000)
			len = 24000;
		uint32_t a, b;

		crc32c__force_sw(1);
		a = crc32c__update(0x1234, buf + 1, len - (len ? 1 : 0));
		crc32c__force_sw(0);
		b = crc32c__update(0x1234, buf + 1, len - (len ? 1 : 0));
		if (a != b)
			fail_msg("len %zu: sw %08x hw %08x", len, a, b);
	}
	free(buf);
}

static void test_crc32c__incremental_and_zeros(void **state)
{
	static uint8_t buf[3 * 4096 + 5];
	uint32_t whole, part;
	unsigned int i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31);
	/* Make the middle page zero. */
	memset(buf + 4096, 0, 4096);
	whole = crc32c__update(CRC32C_INIT, buf, sizeof(buf));
	part = crc32c__update(CRC32C_INIT, buf, 4096);
	part = crc32c__zeros(part, 4096);
	part = crc32c__update(part, buf + 8192, sizeof(buf) - 8192);
	assert_int_equal(whole, part);
	/* Zero runs that are not page multiples. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32c__zeros(CRC32C_INIT, sizeof(buf)),
			 crc32c__update(CRC32C_INIT, buf, sizeof(buf)));
	assert_int_equal(crc32c__zeros(5, 13), crc32c__update(5, buf, 13));
}

static void test_crc32c__speed(void **state)
{
	size_t len = 64 << 20;
	uint8_t *buf = malloc(len);
	struct timespec a, b;
	volatile uint32_t c;
	double s;

	assert_non_null(buf);
	memset(buf, 0x5a, len);
	c = crc32c__update(0, buf, len); /* warm up caches and TLB */
	clock_gettime(CLOCK_MONOTONIC, &a);
	c = crc32c__update(0, buf, len);
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)c;
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("crc32c (%s): %.2f GB/s\n", crc32c__hw() ? "sse4.2" : "table",
		      (double)len / s / 1e9);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c__check_value),
		cmocka_unit_test(test_crc32c__hw_matches_sw),
		cmocka_unit_test(test_crc32c__incremental_and_zeros),
		cmocka_unit_test(test_crc32c__speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
