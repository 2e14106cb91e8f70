/*
 * test-state-fdt.c: the state visitor: every width round-trips
 * big-endian, nested nodes and field tables, blob growth past the first
 * buffer, and the reader's rejections (missing node/property, wrong
 * width, bad string, truncated, corrupted, oversized blobs) with
 * messages that name the node path and the property.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "migration/state-fdt-read.h"

struct sample {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
};

static const struct state_field sample_fields[] = {
	STATE_FIELD(struct sample, a),
	STATE_FIELD(struct sample, b),
	STATE_FIELD(struct sample, c),
	STATE_FIELD(struct sample, d),
};

/* Build a small blob; the caller frees the copy. */
static void *build(size_t *size)
{
	struct sample s = { 0x12, 0x3456, 0x789abcde, 0x0123456789abcdefULL };
	struct state_writer *w;
	const void *blob;
	void *copy;

	assert_int_equal(state_writer__create(&w), 0);
	state__put_string(w, "format", "test");
	state__begin(w, "dev0");
	state__put_u8(w, "u8", 0xa5);
	state__put_u16(w, "u16", 0xbeef);
	state__put_u32(w, "u32", 0xdeadbeef);
	state__put_u64(w, "u64", 0x1122334455667788ULL);
	state__put_bytes(w, "raw", "\x01\x02\x03", 3);
	state__begin(w, "fields");
	state__put_fields(w, sample_fields, 4, &s);
	state__end(w);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, size), 0);
	copy = malloc(*size);
	memcpy(copy, blob, *size);
	state_writer__destroy(w);
	return copy;
}

static void test_state__round_trip(void **state)
{
	struct state_reader r;
	struct sample s = { 0 };
	uint8_t v8, raw[3];
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	char str[16];
	size_t size;
	void *blob = build(&size);
	int dev, f;

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(state__get_string(&r, STATE_ROOT, "format", str,
					   sizeof(str)), 0);
	assert_string_equal(str, "test");
	dev = state__node(&r, STATE_ROOT, "dev0");
	assert_true(dev > 0);
	assert_int_equal(state__get_u8(&r, dev, "u8", &v8), 0);
	assert_int_equal(v8, 0xa5);
	assert_int_equal(state__get_u16(&r, dev, "u16", &v16), 0);
	assert_int_equal(v16, 0xbeef);
	assert_int_equal(state__get_u32(&r, dev, "u32", &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(state__get_u64(&r, dev, "u64", &v64), 0);
	assert_true(v64 == 0x1122334455667788ULL);
	assert_int_equal(state__get_bytes(&r, dev, "raw", raw, 3), 0);
	assert_memory_equal(raw, "\x01\x02\x03", 3);
	f = state__node(&r, dev, "fields");
	assert_int_equal(state__get_fields(&r, f, sample_fields, 4, &s), 0);
	assert_int_equal(s.a, 0x12);
	assert_int_equal(s.b, 0x3456);
	assert_int_equal(s.c, 0x789abcde);
	assert_true(s.d == 0x0123456789abcdefULL);
	assert_int_equal(state_reader__status(&r), 0);
	assert_string_equal(state_reader__error(&r), "");
	free(blob);
}

static void test_state__big_endian_on_the_wire(void **state)
{
	struct state_reader r;
	const uint8_t *p;
	size_t size, len;
	void *blob = build(&size);
	int dev;

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	dev = state__node(&r, STATE_ROOT, "dev0");
	p = state__get_array(&r, dev, "u32", 1, &len);
	assert_non_null(p);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\xde\xad\xbe\xef", 4);
	p = state__get_array(&r, dev, "u16", 1, &len);
	assert_memory_equal(p, "\xbe\xef", 2);
	free(blob);
}

static void test_state__missing_and_wrong_width(void **state)
{
	struct state_reader r;
	uint32_t v32 = 7;
	uint64_t v64;
	size_t size;
	void *blob = build(&size);
	int dev;

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	dev = state__node(&r, STATE_ROOT, "dev0");
	assert_int_equal(state__get_u32(&r, dev, "nope", &v32), -EINVAL);
	assert_int_equal(v32, 7);
	assert_string_equal(state_reader__error(&r),
			    "/dev0: property 'nope' is missing");
	/* Sticky: later calls fail with the first message kept. */
	assert_int_equal(state__get_u64(&r, dev, "u64", &v64), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/dev0: property 'nope' is missing");

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	dev = state__node(&r, STATE_ROOT, "dev0");
	assert_int_equal(state__get_u32(&r, dev, "u64", &v32), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/dev0: property 'u64' has 8 bytes, expected 4");

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(state__node(&r, STATE_ROOT, "dev1"), -ENOENT);
	assert_string_equal(state_reader__error(&r), "/: node 'dev1' is missing");
	assert_int_equal(state__find_node(&r, STATE_ROOT, "dev1"), -ENOENT);

	/* A property of a missing node is an error, not a silent 0. */
	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(state__get_u32(&r, -ENOENT, "u32", &v32), -EINVAL);
	assert_int_equal(v32, 7);
	free(blob);
}

static void test_state__strings(void **state)
{
	struct state_reader r;
	char small[3];
	size_t size;
	void *blob = build(&size);
	int dev;

	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(state__get_string(&r, STATE_ROOT, "format", small,
					   sizeof(small)), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/: property 'format' has 5 bytes, expected 1 to 3");
	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	dev = state__node(&r, STATE_ROOT, "dev0");
	/* "raw" is 01 02 03: no NUL. */
	assert_int_equal(state__get_string(&r, dev, "raw", small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/dev0: property 'raw' is not a string");
	free(blob);
}

static void test_state__truncated_corrupt_oversized(void **state)
{
	struct state_reader r;
	size_t size;
	uint8_t *blob = build(&size);
	uint8_t *bad = malloc(size);

	/* Truncated. */
	assert_int_equal(state_reader__init(&r, blob, size - 8, STATE_MAX_SIZE),
			 -EINVAL);
	assert_non_null(strstr(state_reader__error(&r), "truncated"));
	/* Too short for a header. */
	assert_int_equal(state_reader__init(&r, blob, 10, STATE_MAX_SIZE),
			 -EINVAL);
	assert_non_null(strstr(state_reader__error(&r), "bad magic"));
	/* Over the caller's cap. */
	assert_int_equal(state_reader__init(&r, blob, size, size - 1), -EFBIG);
	assert_non_null(strstr(state_reader__error(&r), "exceeds the limit"));
	/* Bad magic. */
	memcpy(bad, blob, size);
	bad[0] ^= 0xff;
	assert_int_equal(state_reader__init(&r, bad, size, STATE_MAX_SIZE),
			 -EINVAL);
	/* Structure block corrupted: a node-begin token becomes garbage. */
	memcpy(bad, blob, size);
	{
		uint32_t off_struct = ((uint32_t)bad[8] << 24) | (bad[9] << 16) |
				      (bad[10] << 8) | bad[11];

		bad[off_struct + 3] = 0x77;
	}
	assert_int_equal(state_reader__init(&r, bad, size, STATE_MAX_SIZE),
			 -EINVAL);
	assert_non_null(strstr(state_reader__error(&r), "corrupt blob"));
	/* Strings-block offset out of range. */
	memcpy(bad, blob, size);
	bad[12] = 0x7f;
	assert_int_equal(state_reader__init(&r, bad, size, STATE_MAX_SIZE),
			 -EINVAL);
	free(bad);
	free(blob);
}

static void test_state__writer_grows_and_rejects_bad_names(void **state)
{
	struct state_writer *w;
	struct state_reader r;
	size_t len = 300 << 10, size, got;
	uint8_t *big = malloc(len);
	const void *blob;
	const uint8_t *p;

	memset(big, 0xab, len);
	assert_int_equal(state_writer__create(&w), 0);
	assert_int_equal(state__put_bytes(w, "big", big, len), 0);
	assert_int_equal(state_writer__finish(w, &blob, &size), 0);
	assert_true(size > len);
	assert_int_equal(state_reader__init(&r, blob, size, STATE_MAX_SIZE), 0);
	p = state__get_array(&r, STATE_ROOT, "big", 1, &got);
	assert_int_equal(got, len);
	assert_memory_equal(p, big, len);
	state_writer__destroy(w);

	assert_int_equal(state_writer__create(&w), 0);
	assert_int_equal(state__begin(w, "a/b"), -EINVAL);
	assert_non_null(strstr(state_writer__error(w), "invalid node name 'a/b'"));
	assert_int_equal(state__put_u32(w, "x", 1), -EINVAL);
	assert_int_equal(state_writer__finish(w, &blob, &size), -EINVAL);
	state_writer__destroy(w);

	/* FDT order: a node's properties come before its children. */
	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "n");
	state__begin(w, "child");
	state__end(w);
	assert_int_equal(state__put_u32(w, "late", 1), -EINVAL);
	assert_string_equal(state_writer__error(w),
			    "state /n: property 'late' after child nodes");
	state_writer__destroy(w);

	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "n");
	assert_int_equal(state_writer__finish(w, &blob, &size), -EINVAL);
	assert_non_null(strstr(state_writer__error(w), "still open"));
	state_writer__destroy(w);
	state_writer__destroy(NULL);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state__round_trip),
		cmocka_unit_test(test_state__big_endian_on_the_wire),
		cmocka_unit_test(test_state__missing_and_wrong_width),
		cmocka_unit_test(test_state__strings),
		cmocka_unit_test(test_state__truncated_corrupt_oversized),
		cmocka_unit_test(test_state__writer_grows_and_rejects_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
