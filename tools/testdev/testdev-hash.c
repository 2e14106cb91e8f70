/*
 * testdev-hash.c: the one hash ferry-testdev uses for page hashes, stream
 * record checks and the device digest. Four independent lanes of a
 * xor-multiply-xorshift step over 8-byte words: every step is a bijection
 * of the lane state for a fixed word and of the word for a fixed state, so
 * changing any single word always changes the result (what precopy's
 * per-page change detection needs); it is not a cryptographic hash. The
 * memory hash of the digest is two-level: a chain over page fingerprints.
 */
#include "tools/testdev/testdev-internal.h"

#include <string.h>

/* 2^64 / golden ratio, odd: the usual Fibonacci-hashing multiplier. */
#define TD_HASH_K 0x9e3779b97f4a7c15ULL
/* Second odd constant to seed the lanes apart (from splitmix64). */
#define TD_HASH_K2 0xbf58476d1ce4e5b9ULL

uint64_t td__mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= TD_HASH_K;
	h ^= h >> 29;
	return h;
}

uint64_t td__hash(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t l0 = seed ^ len, l1 = l0 + TD_HASH_K2, l2 = l0 + 2 * TD_HASH_K2,
		 l3 = l0 + 3 * TD_HASH_K2, w[4], tail = 0;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		memcpy(w, b + i, 32);
		l0 = td__mix(l0, w[0]);
		l1 = td__mix(l1, w[1]);
		l2 = td__mix(l2, w[2]);
		l3 = td__mix(l3, w[3]);
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(w, b + i, 8);
		l0 = td__mix(l0, w[0]);
	}
	if (i < len) {
		memcpy(&tail, b + i, len - i);
		l1 = td__mix(l1, tail);
	}
	return td__mix(td__mix(td__mix(td__mix(l0, l1), l2), l3), len);
}

uint64_t td__page_fp(const void *page)
{
	/*
	 * Eight independent multiply chains keep the multiplier busy every
	 * cycle (a single chain waits on each multiply's latency): about
	 * four times the speed of td__hash, so the precopy rescan of all
	 * device memory stays short. Not a checksum for the stream.
	 */
	uint64_t a[8], w[8], h;
	const uint8_t *p = page;
	size_t i;
	int k;

	for (k = 0; k < 8; k++)
		a[k] = TD_HASH_K2 * (uint64_t)(k + 1);
	for (i = 0; i < TD_PAGE_SIZE; i += sizeof(w)) {
		memcpy(w, p + i, sizeof(w));
		for (k = 0; k < 8; k++)
			a[k] = (a[k] ^ w[k]) * TD_HASH_K;
	}
	h = 0;
	for (k = 0; k < 8; k++)
		h = td__mix(h, a[k]);
	return h;
}

uint64_t td__mem_hash(const uint8_t *mem, uint64_t len)
{
	uint64_t h = td__mem_hash_init(len), off;

	for (off = 0; off + TD_PAGE_SIZE <= len; off += TD_PAGE_SIZE)
		h = td__mem_hash_step(h, td__page_fp(mem + off));
	return td__mem_hash_final(h, len);
}
