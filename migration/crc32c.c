/*
 * crc32c.c: CRC-32C for snapshot parts. The CRC register is linear over
 * GF(2), so "feed n zero bytes" is a fixed linear map of the register;
 * we tabulate that map (four 256-entry tables, one per register byte)
 * for the lengths we need. That gives two things: crc32c__zeros() for
 * zero pages that are never read, and the combine step of the 3-lane
 * hardware loop: the three lanes run independently (the crc32
 * instruction has a latency of 3 cycles but a throughput of 1 per
 * cycle) and are joined as shift(shift(A) ^ B) ^ C.
 */
#include "migration/crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* Castagnoli polynomial, bit-reversed (the CRC is LSB-first). */
#define CRC32C_POLY 0x82f63b78u

/*
 * Lane length of the 3-lane loop: 3 * 1360 = 4080 bytes, so a 4 KiB
 * page is one 3-lane block plus two 8-byte words. A multiple of 8.
 */
#define LANE_LEN 1360
/*
 * Long inputs use 8 KiB lanes (24 KiB blocks): fewer combine steps, and
 * three sequential streams the prefetcher follows well.
 */
#define BIG_LANE_LEN 8192
#define ZERO_PAGE 4096

/* A "feed n zero bytes" map: shift[k][b] = image of byte b at byte k. */
struct shift_table {
	uint32_t t[4][256];
};

static uint32_t byte_table[256];
static struct shift_table shift_lane;
static struct shift_table shift_big_lane;
static struct shift_table shift_page;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool use_hw;
static int force_sw;

static uint32_t sw_bytes(uint32_t raw, const uint8_t *p, size_t len)
{
	while (len--)
		raw = byte_table[(raw ^ *p++) & 0xff] ^ (raw >> 8);
	return raw;
}

static uint32_t sw_zero_bytes(uint32_t raw, size_t len)
{
	while (len--)
		raw = byte_table[raw & 0xff] ^ (raw >> 8);
	return raw;
}

static void build_shift(struct shift_table *st, size_t len)
{
	uint32_t basis[32];
	unsigned int i, k, b;

	for (i = 0; i < 32; i++)
		basis[i] = sw_zero_bytes(1u << i, len);
	for (k = 0; k < 4; k++) {
		for (b = 0; b < 256; b++) {
			uint32_t v = 0;

			for (i = 0; i < 8; i++)
				if (b & (1u << i))
					v ^= basis[8 * k + i];
			st->t[k][b] = v;
		}
	}
}

static inline uint32_t shift(const struct shift_table *st, uint32_t raw)
{
	return st->t[0][raw & 0xff] ^ st->t[1][(raw >> 8) & 0xff] ^
	       st->t[2][(raw >> 16) & 0xff] ^ st->t[3][raw >> 24];
}

static void crc_init(void)
{
	unsigned int i, j;

	for (i = 0; i < 256; i++) {
		uint32_t c = i;

		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		byte_table[i] = c;
	}
	build_shift(&shift_lane, LANE_LEN);
	build_shift(&shift_big_lane, BIG_LANE_LEN);
	build_shift(&shift_page, ZERO_PAGE);
#if defined(__x86_64__)
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

__attribute__((target("sse4.2"))) static uint32_t
hw_bytes(uint32_t raw, const uint8_t *p, size_t len)
{
	uint64_t a = raw, b, c;
	size_t i;

	while (len >= 3 * BIG_LANE_LEN) {
		b = 0;
		c = 0;
		for (i = 0; i < BIG_LANE_LEN; i += 16) {
			a = _mm_crc32_u64(a, load64(p + i));
			b = _mm_crc32_u64(b, load64(p + BIG_LANE_LEN + i));
			c = _mm_crc32_u64(c, load64(p + 2 * BIG_LANE_LEN + i));
			a = _mm_crc32_u64(a, load64(p + i + 8));
			b = _mm_crc32_u64(b, load64(p + BIG_LANE_LEN + i + 8));
			c = _mm_crc32_u64(c, load64(p + 2 * BIG_LANE_LEN + i + 8));
		}
		a = shift(&shift_big_lane, (uint32_t)a) ^ (uint32_t)b;
		a = shift(&shift_big_lane, (uint32_t)a) ^ (uint32_t)c;
		p += 3 * BIG_LANE_LEN;
		len -= 3 * BIG_LANE_LEN;
	}
	while (len >= 3 * LANE_LEN) {
		b = 0;
		c = 0;
		for (i = 0; i < LANE_LEN; i += 8) {
			a = _mm_crc32_u64(a, load64(p + i));
			b = _mm_crc32_u64(b, load64(p + LANE_LEN + i));
			c = _mm_crc32_u64(c, load64(p + 2 * LANE_LEN + i));
		}
		a = shift(&shift_lane, (uint32_t)a) ^ (uint32_t)b;
		a = shift(&shift_lane, (uint32_t)a) ^ (uint32_t)c;
		p += 3 * LANE_LEN;
		len -= 3 * LANE_LEN;
	}
	for (; len >= 8; len -= 8, p += 8)
		a = _mm_crc32_u64(a, load64(p));
	for (; len; len--, p++)
		a = _mm_crc32_u8((uint32_t)a, *p);
	return (uint32_t)a;
}
#endif

uint32_t crc32c__update(uint32_t crc, const void *buf, size_t len)
{
	uint32_t raw = ~crc;

	pthread_once(&init_once, crc_init);
#if defined(__x86_64__)
	if (use_hw && !force_sw)
		return ~hw_bytes(raw, buf, len);
#endif
	return ~sw_bytes(raw, buf, len);
}

uint32_t crc32c__zeros(uint32_t crc, uint64_t len)
{
	uint32_t raw = ~crc;

	pthread_once(&init_once, crc_init);
	for (; len >= ZERO_PAGE; len -= ZERO_PAGE)
		raw = shift(&shift_page, raw);
	return ~sw_zero_bytes(raw, (size_t)len);
}

int crc32c__hw(void)
{
	pthread_once(&init_once, crc_init);
	return use_hw && !force_sw;
}

void crc32c__force_sw(int force)
{
	force_sw = force;
}
