/*
 * test-serial-state.c: the 8250 UART state round-trips through the
 * state tree (registers and pending input in order) and bad values
 * (reserved bits, oversized input, wrong widths) are rejected by name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/serial-8250-state.h"
#include "migration/state-fdt-read.h"

static void *encode(const struct serial_state *s, size_t *size)
{
	struct state_writer *w;
	const void *blob;
	void *copy;

	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "serial0");
	assert_int_equal(serial_state__save(w, s), 0);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &blob, size), 0);
	copy = malloc(*size);
	memcpy(copy, blob, *size);
	state_writer__destroy(w);
	return copy;
}

static int decode(void *blob, size_t size, struct serial_state *s,
		  struct state_reader *r)
{
	assert_int_equal(state_reader__init(r, blob, size, STATE_MAX_SIZE), 0);
	return serial_state__load(r, state__node(r, STATE_ROOT, "serial0"), s);
}

static void test_serial_state__round_trip(void **state)
{
	struct serial_state a = { .ier = 0x03, .lcr = 0x03, .mcr = 0x0b,
				  .scr = 0x5a, .fcr = 0xc1, .dll = 1, .dlm = 0,
				  .thri_pending = 1, .rx_count = 5 };
	struct serial_state b;
	struct state_reader r;
	size_t size;
	void *blob;

	memcpy(a.rx, "hello", 5);
	blob = encode(&a, &size);
	assert_int_equal(decode(blob, size, &b, &r), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	free(blob);

	/* A full ring survives too. */
	a.rx_count = SERIAL_STATE_RX_MAX;
	memset(a.rx, 'x', sizeof(a.rx));
	blob = encode(&a, &size);
	assert_int_equal(decode(blob, size, &b, &r), 0);
	assert_int_equal(b.rx_count, SERIAL_STATE_RX_MAX);
	free(blob);
}

static void test_serial_state__rejects(void **state)
{
	struct serial_state a = { .ier = 0x13 }, b;
	struct state_writer *w;
	struct state_reader r;
	const void *cblob;
	size_t size;
	void *blob;
	uint8_t big[SERIAL_STATE_RX_MAX + 1];

	blob = encode(&a, &size);
	assert_int_equal(decode(blob, size, &b, &r), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/serial0: ier 0x13 has reserved bits set");
	free(blob);

	/* More pending input than the ring holds. */
	memset(big, 'y', sizeof(big));
	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "serial0");
	state__put_u8(w, "ier", 0);
	state__put_u8(w, "lcr", 0);
	state__put_u8(w, "mcr", 0);
	state__put_u8(w, "scr", 0);
	state__put_u8(w, "fcr", 0);
	state__put_u8(w, "dll", 0);
	state__put_u8(w, "dlm", 0);
	state__put_u8(w, "thri-pending", 0);
	state__put_bytes(w, "rx", big, sizeof(big));
	state__end(w);
	assert_int_equal(state_writer__finish(w, &cblob, &size), 0);
	assert_int_equal(state_reader__init(&r, cblob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(serial_state__load(&r, state__node(&r, STATE_ROOT, "serial0"),
					    &b), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/serial0: property 'rx' has 1025 bytes, expected 0 to 1024");
	state_writer__destroy(w);

	/* Wrong width: lcr as u32. */
	assert_int_equal(state_writer__create(&w), 0);
	state__begin(w, "serial0");
	state__put_u8(w, "ier", 0);
	state__put_u32(w, "lcr", 3);
	state__end(w);
	assert_int_equal(state_writer__finish(w, &cblob, &size), 0);
	assert_int_equal(state_reader__init(&r, cblob, size, STATE_MAX_SIZE), 0);
	assert_int_equal(serial_state__load(&r, state__node(&r, STATE_ROOT, "serial0"),
					    &b), -EINVAL);
	assert_string_equal(state_reader__error(&r),
			    "/serial0: property 'lcr' has 4 bytes, expected 1");
	state_writer__destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_state__round_trip),
		cmocka_unit_test(test_serial_state__rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
