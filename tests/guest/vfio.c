/*
 * vfio.c: mode=vfio. Drives one or more ferry-testdev devices passed
 * through by ferry's vfio-pci model and checks everything each pass:
 * the scratch and DMA registers, device memory written through the
 * directly mapped BAR2, DMA in both directions with its completion
 * interrupt (MSI-X, or INTx through the IOAPIC with irq=intx), the
 * activity counter, and the device's digest, which the
 * guest recomputes from what it knows. Device memory is cut into chunks
 * of the DMA size; chunk write number w (counting from 0) goes to chunk
 * w % n with generation w + 1, so the content every chunk must have
 * follows from the number of writes, a counter kept in guest RAM. That
 * keeps the state checkable across a snapshot or migration of the VM.
 */
#include "cmdline.h"
#include "guest.h"
#include "layout.h"
#include "modes.h"
#include "serial.h"
#include "timing.h"
#include "vfio-internal.h"

#define DEFAULT_CHUNK MiB
#define DEFAULT_TIMEOUT_MS 1000
#define MIN_CHUNK PAGE_SIZE
#define MAX_REPORTS 4 /* MISMATCH lines per check; the rest are counted */
#define POISON 0xdeadbeefdeadbeefULL /* DMA buffer before a DMA to guest */
#define MAX_COUNTER_TRIES 100000 /* counter values tried for one digest */
#define CORRUPT_OFFSET 0x123 /* byte flipped by corrupt_at_pass, in a chunk */
#define CORRUPT_XOR 0x5a
#define CORRUPT_STRIDE 7919  /* a prime: spreads the chosen chunk over passes */
/* Multipliers from the splitmix64 family; any odd constants would do. */
#define GEN_MUL 0x9e3779b97f4a7c15ULL
#define DEV_MUL 0xd6e8feb86659fd93ULL
#define MIX_MUL 0xbf58476d1ce4e5b9ULL

struct vfio_dev_run {
	uint64_t nchunks;
	uint64_t writes;        /* chunk writes so far, initial fill included */
	uint32_t scratch[TD_NR_SCRATCH];
	uint32_t dma_count;     /* DMA_COUNT the device must report */
	uint64_t counter_first, counter_last;
	uint64_t digest;
	bool writer;            /* the device rewrites its own memory (--dirty-rate) */
};

struct vfio_run {
	struct vfio_dev devs[VFIO_MAX_DEVS];
	struct vfio_dev_run st[VFIO_MAX_DEVS];
	uint64_t ndev, passes, chunk, timeout_ms, pause_ms;
	uint64_t corrupt_pass, mask_pass; /* self-tests on the first device; 0: off */
	bool intx;              /* irq=intx: INTx instead of MSI-X */
	uint64_t pass;          /* current pass, kept in guest RAM */
	uint64_t bad;
	unsigned int reports;
};

/* Word at device offset @off of a chunk of generation @gen on device @k. */
static inline uint64_t pattern(uint64_t off, uint64_t gen, unsigned int k)
{
	uint64_t x = off ^ (gen * GEN_MUL) ^ ((k + 1) * DEV_MUL);

	x ^= x >> 31;
	x *= MIX_MUL;
	x ^= x >> 29;
	return x;
}

/* Generation chunk @i holds after @w chunk writes (w >= nchunks). */
static uint64_t chunk_gen(uint64_t i, uint64_t w, uint64_t n)
{
	return i + n * ((w - 1 - i) / n) + 1;
}

static void fill(volatile uint64_t *p, uint64_t off, uint64_t len,
		 uint64_t gen, unsigned int k)
{
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = pattern(off + i * 8, gen, k);
}

static const char *prefix(const struct vfio_run *r, const struct vfio_dev *d)
{
	static char buf[16];

	if (r->ndev == 1)
		return "";
	serial__snprintf(buf, sizeof(buf), "%s ", d->fn.name);
	return buf;
}

/* What a bad word holds, for the report. */
static void describe(const struct vfio_run *r, const struct vfio_dev *d,
		     uint64_t off, uint64_t got, uint64_t gen, char *buf,
		     size_t size)
{
	uint64_t n = r->st[d->index].nchunks;
	int j;

	/* The same chunk's neighbouring generations: stale or from the future. */
	for (j = -3; j <= 1; j++) {
		uint64_t g = gen + (uint64_t)(int64_t)j * n;

		if (j && g >= 1 && g <= gen + n &&
		    got == pattern(off, g, d->index)) {
			serial__snprintf(buf, size, "data of gen %lu", g);
			return;
		}
	}
	serial__snprintf(buf, size, got == POISON ? "the DMA buffer poison" :
				    !got ? "zeros" : got == ~0ULL ? "all-ones" :
				    "unknown data");
}

static void mismatch(struct vfio_run *r, const struct vfio_dev *d,
		     const char *where, uint64_t addr, uint64_t off,
		     uint64_t got, uint64_t gen)
{
	char what[40];

	r->bad++;
	if (r->reports++ >= MAX_REPORTS)
		return;
	describe(r, d, off, got, gen, what, sizeof(what));
	serial__printf("vfio: %sMISMATCH in %s at 0x%lx (device offset 0x%lx) "
		       "expected 0x%016lx got 0x%016lx (gen %lu, found %s)\n",
		       prefix(r, d), where, addr, off, pattern(off, gen, d->index),
		       got, gen, what);
}

/*
 * The device's background writer (ferry-testdev --dirty-rate) owns some
 * words from now on: accept them, and stop recomputing the digest, which
 * then covers writer state the guest cannot see.
 */
static void note_writer(struct vfio_run *r, struct vfio_dev *d)
{
	struct vfio_dev_run *s = &r->st[d->index];

	if (s->writer)
		return;
	s->writer = true;
	serial__printf("vfio: %s rewrites its own memory (ferry-testdev "
		       "--dirty-rate): its words are accepted, the digest is "
		       "no longer recomputed\n", d->fn.name);
}

/*
 * Check @len bytes at @p against chunk data of @gen from device offset
 * @off; background-writer words pass. Returns false after reporting the
 * first bad word.
 */
static bool check_buf(struct vfio_run *r, struct vfio_dev *d,
		      const char *where, const volatile uint64_t *p,
		      uint64_t off, uint64_t len, uint64_t gen)
{
	uint64_t i, diff = 0;

	for (i = 0; i < len / 8; i++)
		diff |= p[i] ^ pattern(off + i * 8, gen, d->index);
	if (!diff)
		return true;
	for (i = 0; i < len / 8; i++) {
		uint64_t w = p[i], o = off + i * 8;

		if (w == pattern(o, gen, d->index))
			continue;
		if (vfio_dev__writer_word(o, w)) {
			note_writer(r, d);
			continue;
		}
		mismatch(r, d, where, (uint64_t)(uintptr_t)&p[i], o, w, gen);
		return false;
	}
	return true;
}

/*
 * Verify all device memory through BAR2 against the write count and
 * hash it as the device's digest does. Returns the number of bad chunks.
 */
static uint64_t verify_mem(struct vfio_run *r, struct vfio_dev *d,
			   uint64_t *mem_hash)
{
	struct vfio_dev_run *s = &r->st[d->index];
	uint64_t i, bad = 0, words = r->chunk / 8;
	uint64_t h = VFIO_DIGEST_SEED_MEM ^ d->mem_size; /* td__mem_hash_init */

	for (i = 0; i < s->nchunks; i++) {
		uint64_t gen = chunk_gen(i, s->writes, s->nchunks);
		uint64_t base = i * r->chunk, j, diff = 0;
		const volatile uint64_t *p = d->mem + base / 8;
		struct vfio_page_fp fp;

		/* Chunks are whole pages (dma= is a power of two >= 4K). */
		for (j = 0; j < words; j += 8) {
			uint64_t w[8] = { p[j], p[j + 1], p[j + 2], p[j + 3],
					  p[j + 4], p[j + 5], p[j + 6], p[j + 7] };
			unsigned int k;

			if (j % (PAGE_SIZE / 8) == 0)
				vfio_page_fp__init(&fp);
			for (k = 0; k < 8; k++)
				diff |= w[k] ^ pattern(base + (j + k) * 8, gen, d->index);
			vfio_page_fp__block(&fp, w);
			if ((j + 8) % (PAGE_SIZE / 8) == 0)
				h = vfio_hash__mix(h, vfio_page_fp__final(&fp));
		}
		if (diff && !check_buf(r, d, "device memory", p, base, r->chunk,
				       gen))
			bad++;
	}
	*mem_hash = vfio_hash__mix(h, d->mem_size); /* td__mem_hash_final */
	return bad;
}

static uint32_t scratch_value(uint64_t pass, unsigned int k, unsigned int i)
{
	uint32_t v = (uint32_t)pattern(pass << 8 | i, pass, k);

	return v == 0xffffffffu ? 0 : v; /* all-ones reads as a dead device */
}

static bool expect_reg(struct vfio_run *r, struct vfio_dev *d,
		       unsigned int reg, uint64_t got, uint64_t want)
{
	if (got == want)
		return true;
	serial__printf("vfio: %sregister BAR0+0x%x %s reads 0x%lx, expected "
		       "0x%lx\n", prefix(r, d), reg, vfio_dev__reg_name(reg), got,
		       want);
	return false;
}

/* Scratch registers round trip, ID, and a counter that never goes back. */
static bool check_regs(struct vfio_run *r, struct vfio_dev *d, uint64_t pass)
{
	struct vfio_dev_run *s = &r->st[d->index];
	unsigned int i;
	uint64_t c;
	bool ok = true;

	for (i = 0; i < TD_NR_SCRATCH; i++) {
		s->scratch[i] = scratch_value(pass, d->index, i);
		vfio_dev__wr(d, TD_REG_SCRATCH0 + 4 * i, s->scratch[i]);
	}
	for (i = 0; i < TD_NR_SCRATCH; i++)
		ok &= expect_reg(r, d, TD_REG_SCRATCH0 + 4 * i,
				 vfio_dev__rd(d, TD_REG_SCRATCH0 + 4 * i),
				 s->scratch[i]);
	ok &= expect_reg(r, d, TD_REG_ID, vfio_dev__rd(d, TD_REG_ID),
			 TD_ID_VALUE);
	c = vfio_dev__rd64(d, TD_REG_COUNTER);
	if (c < s->counter_last) {
		serial__printf("vfio: %sactivity counter went back from %lu to "
			       "%lu ms\n", prefix(r, d), s->counter_last, c);
		ok = false;
	}
	s->counter_last = c;
	return ok;
}

/*
 * Check the DMA registers, then read COUNTER, DIGEST, COUNTER and find
 * the counter value between the two reads that makes the recomputed
 * digest match the device's.
 */
static bool check_digest(struct vfio_run *r, struct vfio_dev *d,
			 uint64_t last_off, uint64_t mem_hash)
{
	struct vfio_dev_run *s = &r->st[d->index];
	struct vfio_td_regs t = {
		.dma_dev_off = last_off,
		.dma_addr = d->buf,
		.dma_len = (uint32_t)r->chunk,
		.dma_ctrl = TD_DMA_IRQ | TD_DMA_FROM_GUEST, /* START cleared */
		.dma_status = TD_DMA_DONE,
		.dma_error = 0,
		.dma_count = s->dma_count,
	};
	uint64_t c1, c2, dig;
	bool ok = true;

	memcpy(t.scratch, s->scratch, sizeof(t.scratch));
	ok &= expect_reg(r, d, TD_REG_DMA_DEV, vfio_dev__rd64(d, TD_REG_DMA_DEV),
			 t.dma_dev_off);
	ok &= expect_reg(r, d, TD_REG_DMA_ADDR,
			 vfio_dev__rd64(d, TD_REG_DMA_ADDR), t.dma_addr);
	ok &= expect_reg(r, d, TD_REG_DMA_LEN, vfio_dev__rd(d, TD_REG_DMA_LEN),
			 t.dma_len);
	ok &= expect_reg(r, d, TD_REG_DMA_CTRL, vfio_dev__rd(d, TD_REG_DMA_CTRL),
			 t.dma_ctrl);
	ok &= expect_reg(r, d, TD_REG_DMA_COUNT,
			 vfio_dev__rd(d, TD_REG_DMA_COUNT), t.dma_count);
	if (!ok)
		return false;
	c1 = vfio_dev__rd64(d, TD_REG_COUNTER);
	dig = vfio_dev__rd64(d, TD_REG_DIGEST);
	c2 = vfio_dev__rd64(d, TD_REG_COUNTER);
	s->digest = dig;
	if (c2 < c1) {
		serial__printf("vfio: %sactivity counter went back from %lu to "
			       "%lu ms\n", prefix(r, d), c1, c2);
		return false;
	}
	s->counter_last = c2;
	if (s->writer)
		return true;
	for (t.counter = c1; t.counter <= c2 &&
	     t.counter - c1 < MAX_COUNTER_TRIES; t.counter++)
		if (vfio_hash__mix(vfio_hash__buf(&t, sizeof(t),
						  VFIO_DIGEST_SEED_REGS),
				   mem_hash) == dig)
			return true;
	/* The background writer may have started after the verify: look again. */
	if (!verify_mem(r, d, &mem_hash) && s->writer)
		return true;
	serial__printf("vfio: %sdigest mismatch: device 0x%016lx, no counter "
		       "value in %lu..%lu ms gives it (memory hash 0x%016lx)\n",
		       prefix(r, d), dig, c1, c2, mem_hash);
	return false;
}

/* One pass on one device; see the file comment. */
static bool run_pass(struct vfio_run *r, struct vfio_dev *d, uint64_t pass)
{
	struct vfio_dev_run *s = &r->st[d->index];
	volatile uint64_t *buf = (volatile uint64_t *)(uintptr_t)d->buf;
	uint64_t a, b, mem_hash, bad, i;

	r->bad = 0;
	r->reports = 0;
	if (!check_regs(r, d, pass))
		return false;

	/* CPU write through BAR2, then DMA that chunk to guest RAM. */
	if (pass == r->mask_pass && !d->index) {
		serial__printf("vfio: masking the interrupt (%s) of %s in pass "
			       "%lu (mask_at_pass)\n", vfio_irq__name(d),
			       d->fn.name, pass);
		vfio_irq__mask(d, true);
	}
	a = s->writes % s->nchunks;
	fill(d->mem + a * r->chunk / 8, a * r->chunk, r->chunk, s->writes + 1,
	     d->index);
	s->writes++;
	for (i = 0; i < r->chunk / 8; i++)
		buf[i] = POISON;
	if (vfio_dev__dma(d, false, a * r->chunk, d->buf, (uint32_t)r->chunk,
			  r->timeout_ms, NULL, NULL))
		return false;
	s->dma_count++;
	if (!check_buf(r, d, "DMA buffer after DMA to guest", buf, a * r->chunk,
		       r->chunk, s->writes))
		return false;

	/* Guest buffer to the next chunk by DMA. */
	b = s->writes % s->nchunks;
	fill(buf, b * r->chunk, r->chunk, s->writes + 1, d->index);
	if (vfio_dev__dma(d, true, b * r->chunk, d->buf, (uint32_t)r->chunk,
			  r->timeout_ms, NULL, NULL))
		return false;
	s->writes++;
	s->dma_count++;
	if (pass == r->corrupt_pass && !d->index) {
		uint64_t off = (pass * CORRUPT_STRIDE) % s->nchunks * r->chunk +
			       CORRUPT_OFFSET;
		volatile uint8_t *p = (volatile uint8_t *)d->mem + off;

		serial__printf("vfio: corrupting device memory of %s at offset "
			       "0x%lx in pass %lu (corrupt_at_pass)\n",
			       d->fn.name, off, pass);
		*p ^= CORRUPT_XOR;
	}

	bad = verify_mem(r, d, &mem_hash);
	if (bad) {
		serial__printf("vfio: %s%lu bad chunk(s) of %lu in device "
			       "memory\n", prefix(r, d), bad, s->nchunks);
		return false;
	}
	return check_digest(r, d, b * r->chunk, mem_hash);
}

/* Final check for passes=0: registers as left, memory and digest. */
static bool final_verify(struct vfio_run *r, struct vfio_dev *d)
{
	struct vfio_dev_run *s = &r->st[d->index];
	uint64_t mem_hash, bad, last = (s->writes - 1) % s->nchunks;
	unsigned int i;
	bool ok = true;

	r->bad = 0;
	r->reports = 0;
	for (i = 0; i < TD_NR_SCRATCH; i++)
		ok &= expect_reg(r, d, TD_REG_SCRATCH0 + 4 * i,
				 vfio_dev__rd(d, TD_REG_SCRATCH0 + 4 * i),
				 s->scratch[i]);
	bad = verify_mem(r, d, &mem_hash);
	if (bad)
		serial__printf("vfio: %s%lu bad chunk(s) of %lu in device "
			       "memory\n", prefix(r, d), bad, s->nchunks);
	return ok && !bad && check_digest(r, d, last * r->chunk, mem_hash);
}

static int parse(struct vfio_run *r, struct cmdline *cl)
{
	const char *irq = cmdline__get(cl, "irq");

	if (irq && strcmp(irq, "msix") && strcmp(irq, "intx")) {
		serial__printf("vfio: error: irq=%s: use msix or intx\n", irq);
		return -1;
	}
	r->intx = irq && !strcmp(irq, "intx");
	if (cmdline__get_u64(cl, "passes", 1, false, &r->passes) ||
	    cmdline__get_u64(cl, "devices", 1, false, &r->ndev) ||
	    cmdline__get_u64(cl, "dma", DEFAULT_CHUNK, true, &r->chunk) ||
	    cmdline__get_u64(cl, "timeout_ms", DEFAULT_TIMEOUT_MS, false,
			     &r->timeout_ms) ||
	    cmdline__get_u64(cl, "pause_ms", 0, false, &r->pause_ms) ||
	    cmdline__get_u64(cl, "corrupt_at_pass", 0, false,
			     &r->corrupt_pass) ||
	    cmdline__get_u64(cl, "mask_at_pass", 0, false, &r->mask_pass) ||
	    cmdline__check_unused(cl))
		return -1;
	if (!r->ndev || r->ndev > VFIO_MAX_DEVS) {
		serial__printf("vfio: error: devices=%lu: use 1..%u\n", r->ndev,
			       VFIO_MAX_DEVS);
		return -1;
	}
	if (r->chunk < MIN_CHUNK || r->chunk > TD_DMA_MAX ||
	    r->chunk & (r->chunk - 1)) {
		serial__printf("vfio: error: dma=%lu: use a power of two from "
			       "4K to 16M\n", r->chunk);
		return -1;
	}
	if (!r->timeout_ms) {
		serial__printf("vfio: error: timeout_ms must not be 0\n");
		return -1;
	}
	return 0;
}

/* Size checks, the initial fill and the counters' starting values. */
static bool start_dev(struct vfio_run *r, struct vfio_dev *d)
{
	struct vfio_dev_run *s = &r->st[d->index];
	uint64_t i;

	if (d->mem_size < 2 * r->chunk) {
		serial__printf("vfio: error: %s: device memory 0x%lx is less than "
			       "two dma=%lu chunks\n", d->fn.name, d->mem_size,
			       r->chunk);
		return false;
	}
	s->nchunks = d->mem_size / r->chunk;
	s->counter_first = s->counter_last = vfio_dev__rd64(d, TD_REG_COUNTER);
	s->dma_count = vfio_dev__rd(d, TD_REG_DMA_COUNT);
	for (i = 0; i < s->nchunks; i++)
		fill(d->mem + i * r->chunk / 8, i * r->chunk, r->chunk, i + 1,
		     d->index);
	s->writes = s->nchunks;
	return true;
}

static void pass_line(const struct vfio_run *r, const struct vfio_dev *d,
		      uint64_t pass)
{
	char of[24] = "";

	if (r->passes)
		serial__snprintf(of, sizeof(of), "/%lu", r->passes);
	serial__printf("vfio: %spass %lu%s ok, digest 0x%016lx, irqs %u, "
		       "irq %s\n", prefix(r, d), pass, of,
		       r->st[d->index].digest, d->irqs, vfio_irq__name(d));
}

static bool finish(struct vfio_run *r, uint64_t passes)
{
	uint64_t k;

	for (k = 0; k < r->ndev; k++) {
		struct vfio_dev *d = &r->devs[k];
		struct vfio_dev_run *s = &r->st[k];

		if (s->counter_last <= s->counter_first) {
			serial__printf("vfio: %sFAILED: the activity counter did "
				       "not advance (%lu ms at the start, %lu ms "
				       "now)\n", prefix(r, d), s->counter_first,
				       s->counter_last);
			return false;
		}
		serial__printf("vfio: final digest 0x%016lx (%s, counter %lu ms, "
			       "%u DMAs, irqs %u, irq %s)\n", s->digest,
			       d->fn.name, s->counter_last, s->dma_count,
			       d->irqs, vfio_irq__name(d));
	}
	serial__printf("vfio: PASSED (%lu passes, %lu device%s)\n", passes,
		       r->ndev, r->ndev == 1 ? "" : "s");
	return true;
}

bool vfio__run(const struct boot_info *bi, struct cmdline *cl)
{
	static struct vfio_run run;
	struct vfio_run *r = &run;
	char sz[16];
	uint64_t k;

	if (parse(r, cl) ||
	    vfio_dev__setup_all(bi, "vfio", r->devs, (unsigned int)r->ndev,
				r->chunk, r->intx))
		return false;
	for (k = 0; k < r->ndev; k++)
		if (!start_dev(r, &r->devs[k]))
			return false;
	serial__snprintf(sz, sizeof(sz), "%lu KiB", r->chunk / KiB);
	serial__printf("vfio: initial fill done: %lu device%s, %s chunks, "
		       "passes %lu\n", r->ndev, r->ndev == 1 ? "" : "s", sz,
		       r->passes);

	for (r->pass = 1; !r->passes || r->pass <= r->passes; r->pass++) {
		for (k = 0; k < r->ndev; k++) {
			if (!run_pass(r, &r->devs[k], r->pass)) {
				serial__printf("vfio: FAILED in pass %lu\n",
					       r->pass);
				return false;
			}
			pass_line(r, &r->devs[k], r->pass);
		}
		if (r->pause_ms)
			timing__delay_ms(r->pause_ms);
		if (!r->passes && serial__input_ready()) {
			serial__drain();
			serial__printf("vfio: stop requested after pass %lu\n",
				       r->pass);
			for (k = 0; k < r->ndev; k++) {
				if (!final_verify(r, &r->devs[k])) {
					serial__printf("vfio: FAILED in the final "
						       "verify\n");
					return false;
				}
			}
			serial__printf("vfio: final verify ok\n");
			return finish(r, r->pass);
		}
	}
	return finish(r, r->passes);
}
