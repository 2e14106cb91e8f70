/*
 * memtest.c: mode=memtest. Every 8-byte word of the test area holds
 * pattern(address, generation of its page). The initial fill writes
 * generation 1 everywhere; each pass then rewrites `rate` pages (a
 * window that walks round the area), bumping their generation, and
 * verifies every page of the area against the generation it must
 * have. That generation follows from the number of rewrites done so
 * far, so it is computed, not trusted: the table of generations kept in
 * guest memory is checked against it too. A page that went stale
 * (older generation), was lost (zeros) or landed at another address
 * fails the check in every one of its words.
 */
#include "cmdline.h"
#include "guest.h"
#include "memtest-internal.h"
#include "modes.h"
#include "serial.h"
#include "timing.h"

#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))
#define MAX_REPORTS 8     /* MISMATCH lines per verify; the rest are counted */
#define GEN_SEARCH 64     /* how many older generations a report looks for */
#define CORRUPT_OFFSET 0x123 /* byte flipped inside the chosen page */
#define CORRUPT_XOR 0x5a
#define CORRUPT_STRIDE 7919  /* a prime: spreads the chosen page over passes */

/* Multipliers from the splitmix64 family; any odd constants would do. */
#define GEN_MUL 0x9e3779b97f4a7c15ULL
#define MIX_MUL 0xbf58476d1ce4e5b9ULL

enum corrupt_kind { CORRUPT_BYTE, CORRUPT_STALE };

struct mt_run {
	struct memtest mt;
	uint64_t rewrites;   /* page writes so far, initial fill included */
	uint64_t rate;       /* pages rewritten per pass */
	uint64_t passes;     /* 0: until a byte arrives on COM1 */
	uint64_t pause_ms;
	uint64_t corrupt_pass; /* 0: never */
	enum corrupt_kind corrupt_kind;
	uint64_t bad_pages;
	unsigned int reports;
};

/*
 * x -> word is a bijection (xor with a constant, xor-shift, odd
 * multiply), so two generations never give the same word at one address.
 */
static inline uint64_t pattern(uint64_t addr, uint64_t gen)
{
	uint64_t x = addr ^ (gen * GEN_MUL);

	x ^= x >> 31;
	x *= MIX_MUL;
	x ^= x >> 29;
	return x;
}

static void fill_page(uint64_t addr, uint64_t gen)
{
	uint64_t *p = (uint64_t *)(uintptr_t)addr;
	unsigned int i;

	for (i = 0; i < WORDS_PER_PAGE; i++)
		p[i] = pattern(addr + i * sizeof(uint64_t), gen);
}

/* Index of the first wrong word of the page, or -1. */
static int check_page(uint64_t addr, uint64_t gen)
{
	const uint64_t *p = (const uint64_t *)(uintptr_t)addr;
	uint64_t diff = 0;
	unsigned int i;

	for (i = 0; i < WORDS_PER_PAGE; i++)
		diff |= p[i] ^ pattern(addr + i * sizeof(uint64_t), gen);
	if (!diff)
		return -1;
	for (i = 0; i < WORDS_PER_PAGE; i++)
		if (p[i] != pattern(addr + i * sizeof(uint64_t), gen))
			return (int)i;
	return -1;
}

/* Generation page @idx must have after r->rewrites page writes. */
static uint64_t expected_gen(const struct mt_run *r, uint64_t idx)
{
	uint64_t n = r->mt.npages;

	return (r->rewrites - idx + n - 1) / n;
}

static void describe(uint64_t addr, uint64_t got, uint64_t gen, char *buf,
		     size_t size)
{
	uint64_t g, lo = gen > GEN_SEARCH ? gen - GEN_SEARCH : 0;

	for (g = gen + 2; g + 1 > lo; g--) {
		if (g != gen && got == pattern(addr, g)) {
			serial__snprintf(buf, size, "data of gen %lu", g);
			return;
		}
	}
	serial__snprintf(buf, size, got ? "unknown data" : "zeros");
}

static void report(struct mt_run *r, uint64_t idx, uint64_t page, int word,
		   uint64_t gen)
{
	uint64_t addr = page + (uint64_t)word * sizeof(uint64_t);
	uint64_t got = *(volatile uint64_t *)(uintptr_t)addr;
	char what[48];

	r->bad_pages++;
	if (r->reports++ >= MAX_REPORTS)
		return;
	describe(addr, got, gen, what, sizeof(what));
	serial__printf("memtest: MISMATCH at 0x%lx expected 0x%016lx got "
		       "0x%016lx (page %lu gen %lu, found %s)\n", addr,
		       pattern(addr, gen), got, idx, gen, what);
}

/* Check every page and its table entry; returns true when all match. */
static bool verify(struct mt_run *r)
{
	const struct memtest *mt = &r->mt;
	unsigned int k;

	r->bad_pages = 0;
	r->reports = 0;
	for (k = 0; k < mt->nr_ext; k++) {
		const struct mt_extent *x = &mt->ext[k];
		uint64_t j;

		for (j = 0; j < x->pages; j++) {
			uint64_t idx = x->first + j;
			uint64_t page = x->base + j * PAGE_SIZE;
			uint64_t gen = expected_gen(r, idx);
			int w;

			if (mt->gen[idx] != gen) {
				r->bad_pages++;
				if (r->reports++ < MAX_REPORTS)
					serial__printf("memtest: GENERATION TABLE "
						       "MISMATCH for page %lu at "
						       "0x%lx: table %u expected %lu\n",
						       idx, page, mt->gen[idx], gen);
				continue;
			}
			w = check_page(page, gen);
			if (w >= 0)
				report(r, idx, page, w, gen);
		}
	}
	return r->bad_pages == 0;
}

/* Rewrite the next r->rate pages of the walking window with a new generation. */
static void rewrite(struct mt_run *r)
{
	const struct memtest *mt = &r->mt;
	uint64_t i, idx = r->rewrites % mt->npages;

	for (i = 0; i < r->rate; i++) {
		uint32_t gen = ++mt->gen[idx];

		fill_page(memtest_area__page(mt, idx), gen);
		r->rewrites++;
		if (++idx == mt->npages)
			idx = 0;
	}
}

static void corrupt(struct mt_run *r, uint64_t pass)
{
	const struct memtest *mt = &r->mt;

	if (r->corrupt_kind == CORRUPT_BYTE) {
		uint64_t idx = (pass * CORRUPT_STRIDE + 1) % mt->npages;
		volatile uint8_t *b = (volatile uint8_t *)(uintptr_t)
			(memtest_area__page(mt, idx) + CORRUPT_OFFSET);

		serial__printf("memtest: corrupting byte at 0x%lx in pass %lu "
			       "(corrupt_at_pass)\n", (uint64_t)(uintptr_t)b, pass);
		*b ^= CORRUPT_XOR;
	} else {
		/* The page written last: its previous generation is a stale copy. */
		uint64_t idx = (r->rewrites + mt->npages - 1) % mt->npages;
		uint64_t page = memtest_area__page(mt, idx);
		uint64_t gen = mt->gen[idx];

		serial__printf("memtest: making page %lu at 0x%lx stale (gen %lu "
			       "data, table gen %lu) in pass %lu (corrupt_at_pass)\n",
			       idx, page, gen - 1, gen, pass);
		fill_page(page, gen - 1);
	}
}

static bool fail(struct mt_run *r, const char *when)
{
	serial__printf("memtest: FAILED: %lu bad pages %s\n", r->bad_pages, when);
	return false;
}

static int parse(struct mt_run *r, struct cmdline *cl, uint64_t *bytes)
{
	const char *kind;

	if (cmdline__get_u64(cl, "mem", 16 * MiB, true, bytes) ||
	    cmdline__get_u64(cl, "passes", 1, false, &r->passes) ||
	    cmdline__get_u64(cl, "rate", 0, false, &r->rate) ||
	    cmdline__get_u64(cl, "pause_ms", 0, false, &r->pause_ms) ||
	    cmdline__get_u64(cl, "corrupt_at_pass", 0, false, &r->corrupt_pass))
		return -1;
	kind = cmdline__get(cl, "corrupt");
	if (!kind || !strcmp(kind, "byte")) {
		r->corrupt_kind = CORRUPT_BYTE;
	} else if (!strcmp(kind, "stale")) {
		r->corrupt_kind = CORRUPT_STALE;
	} else {
		serial__printf("memtest: error: corrupt=%s: use byte or stale\n", kind);
		return -1;
	}
	if (cmdline__check_unused(cl))
		return -1;
	if (*bytes < PAGE_SIZE || *bytes % PAGE_SIZE ||
	    *bytes / PAGE_SIZE > UINT32_MAX) {
		serial__printf("memtest: error: mem=%lu must be a multiple of "
			       "4 KiB, at least 4K\n", *bytes);
		return -1;
	}
	if (r->rate > *bytes / PAGE_SIZE) {
		serial__printf("memtest: error: rate=%lu is more than the %lu "
			       "pages under test\n", r->rate, *bytes / PAGE_SIZE);
		return -1;
	}
	if (r->passes && r->corrupt_pass > r->passes) {
		serial__printf("memtest: error: corrupt_at_pass=%lu is after the "
			       "last pass (%lu)\n", r->corrupt_pass, r->passes);
		return -1;
	}
	return 0;
}

bool memtest__run(const struct boot_info *bi, struct cmdline *cl)
{
	static struct mt_run run;
	struct mt_run *r = &run;
	const struct memtest *mt = &r->mt;
	uint64_t bytes, pass, i;

	if (parse(r, cl, &bytes) || memtest_area__setup(bi, bytes, &r->mt))
		return false;
	if (!r->rate)
		r->rate = mt->npages;
	serial__printf("memtest: testing %lu MiB (%lu pages) in %u range(s) "
		       "0x%lx-0x%lx, gen table at 0x%lx, passes %lu, %lu pages "
		       "per pass\n", bytes / MiB, mt->npages, mt->nr_ext,
		       mt->ext[0].base,
		       mt->ext[mt->nr_ext - 1].base +
			       mt->ext[mt->nr_ext - 1].pages * PAGE_SIZE,
		       (uint64_t)(uintptr_t)mt->gen, r->passes, r->rate);

	for (i = 0; i < mt->npages; i++) {
		mt->gen[i] = 1;
		fill_page(memtest_area__page(mt, i), 1);
	}
	r->rewrites = mt->npages;
	serial__printf("memtest: initial fill done, gen 1\n");

	for (pass = 1; !r->passes || pass <= r->passes; pass++) {
		rewrite(r);
		if (pass == r->corrupt_pass)
			corrupt(r, pass);
		if (!verify(r)) {
			char when[32];

			serial__snprintf(when, sizeof(when), "in pass %lu", pass);
			return fail(r, when);
		}
		if (r->passes)
			serial__printf("memtest: pass %lu/%lu ok, gen %lu, %lu "
				       "pages rewritten\n", pass, r->passes,
				       expected_gen(r, 0), r->rate);
		else
			serial__printf("memtest: pass %lu ok, gen %lu, %lu pages "
				       "rewritten\n", pass, expected_gen(r, 0),
				       r->rate);
		if (r->pause_ms)
			timing__delay_ms(r->pause_ms);
		if (!r->passes && serial__input_ready()) {
			serial__drain();
			serial__printf("memtest: stop requested after pass %lu\n",
				       pass);
			if (!verify(r))
				return fail(r, "in the final verify");
			serial__printf("memtest: final verify ok, gen %lu\n",
				       expected_gen(r, 0));
			break;
		}
	}
	serial__printf("memtest: PASSED (%lu passes)\n",
		       r->passes ? r->passes : pass);
	return true;
}
