/*
 * vfio-bench.c: mode=vfio-bench. Times, from CPL3 with the TSC, what a
 * passed-through ferry-testdev costs the guest: a trapped BAR0 register
 * read and write (each a VM exit to ferry and a vfio-user round trip to
 * the device server), a read and a write of directly mapped BAR2 memory,
 * a bare port-I/O exit for scale, DMA throughput in both directions
 * timed from the DMA_CTRL write to the completion interrupt's handler,
 * and interrupt latency from an IRQ_TRIGGER write to the handler. One
 * machine-readable result line; see README.md.
 */
#include "cmdline.h"
#include "guest.h"
#include "io.h"
#include "layout.h"
#include "modes.h"
#include "serial.h"
#include "timing.h"
#include "vfio-internal.h"

#define DEFAULT_ITERATIONS 1000
#define DEFAULT_DMA (16 * MiB)
#define DEFAULT_DMA_REPS 8
#define DEFAULT_TIMEOUT_MS 1000
#define MMAP_SPAN MiB       /* BAR2 bytes swept per round (pages pre-touched) */
#define MMAP_ROUNDS 64      /* 64 x 1 MiB: 8 Mi accesses of 8 bytes */
#define PIO_PORT PORT_COM1_LSR /* a port ferry handles with no side effect */

/*
 * TSC calibration against PIT channel 2 (8254 input clock 1.193182 MHz)
 * when CPUID names no TSC rate (timing.c then assumes 3 GHz; ferry has
 * no leaf 0x40000010 yet): one-shot mode 0 with the gate on through
 * port 0x61, polling OUT2 (port 0x61 bit 5). Each poll is a port exit
 * (~20 us), which bounds the error to about 0.05% over CAL_MS.
 */
#define PIT_HZ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_MODE0 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_SPEAKER 0x61
#define SPEAKER_GATE2 0x01
#define SPEAKER_DATA 0x02
#define SPEAKER_OUT2 0x20
#define CAL_MS 50
#define CAL_TIMEOUT_MS 2000
#define CPUID_FALLBACK_PER_MS 3000000 /* timing.c's assumption */

struct bench {
	uint64_t iterations, dma, dma_reps, timeout_ms;
	uint64_t per_ms;      /* TSC ticks per ms used for the results */
	const char *per_ms_src;
	struct vfio_dev dev;
};

/* TSC ticks per ms measured with the PIT, or 0 when OUT2 never rises. */
static uint64_t pit_calibrate(void)
{
	uint32_t count = PIT_HZ / 1000 * CAL_MS;
	uint64_t t0, t1, give_up;
	uint8_t spk = io_inb(PORT_SPEAKER);

	io_outb(PORT_SPEAKER, (spk & ~SPEAKER_DATA) | SPEAKER_GATE2);
	io_outb(PIT_CMD, PIT_CMD_CH2_MODE0);
	io_outb(PIT_CH2, count & 0xff);
	io_outb(PIT_CH2, (count >> 8) & 0xff); /* counting starts here */
	t0 = io_rdtsc();
	give_up = timing__deadline(CAL_TIMEOUT_MS);
	while (!(io_inb(PORT_SPEAKER) & SPEAKER_OUT2))
		if (timing__expired(give_up))
			return 0;
	t1 = io_rdtsc();
	io_outb(PORT_SPEAKER, spk);
	return (t1 - t0) / CAL_MS;
}

static void choose_tsc_rate(struct bench *b)
{
	uint64_t cal;

	b->per_ms = timing__tsc_per_ms();
	b->per_ms_src = "CPUID";
	if (b->per_ms != CPUID_FALLBACK_PER_MS)
		return;
	cal = pit_calibrate();
	if (cal) {
		b->per_ms = cal;
		b->per_ms_src = "PIT-calibrated";
	} else {
		b->per_ms_src = "assumed; no CPUID rate, no PIT";
	}
}

static uint64_t time_trapped_reads(struct bench *b)
{
	uint64_t t = io_rdtsc(), i;

	for (i = 0; i < b->iterations; i++)
		(void)vfio_dev__rd(&b->dev, TD_REG_SCRATCH0);
	return io_rdtsc() - t;
}

static uint64_t time_trapped_writes(struct bench *b)
{
	uint64_t t = io_rdtsc(), i;

	for (i = 0; i < b->iterations; i++)
		vfio_dev__wr(&b->dev, TD_REG_SCRATCH0, (uint32_t)i);
	return io_rdtsc() - t;
}

static uint64_t time_pio(struct bench *b)
{
	uint64_t t = io_rdtsc(), i;

	for (i = 0; i < b->iterations; i++)
		(void)io_inb(PIO_PORT);
	return io_rdtsc() - t;
}

/* Ticks for MMAP_ROUNDS sweeps over @span bytes of BAR2; *@n accesses. */
static uint64_t time_mmap(struct bench *b, bool write, uint64_t span,
			  uint64_t *n)
{
	volatile uint64_t *m = b->dev.mem;
	uint64_t t, i, r, sink = 0, words = span / 8;

	for (i = 0; i < words; i++) /* fault the pages in first */
		m[i] = i;
	t = io_rdtsc();
	for (r = 0; r < MMAP_ROUNDS; r++) {
		if (write)
			for (i = 0; i < words; i++)
				m[i] = i ^ r;
		else
			for (i = 0; i < words; i++)
				sink += m[i];
	}
	t = io_rdtsc() - t;
	__asm__ volatile("" : : "r"(sink));
	*n = MMAP_ROUNDS * words;
	return t;
}

/* Total ticks of b->dma_reps DMAs (after one untimed warm-up), or 0. */
static uint64_t time_dma(struct bench *b, bool to_dev)
{
	struct vfio_dev *d = &b->dev;
	uint64_t i, t0, t1, total = 0;

	for (i = 0; i <= b->dma_reps; i++) {
		if (vfio_dev__dma(d, to_dev, 0, d->buf, (uint32_t)b->dma,
				  b->timeout_ms, &t0, &t1))
			return 0;
		if (i) /* i = 0 warms up: the server faults its pages in */
			total += t1 - t0;
	}
	return total ? total : 1;
}

static uint64_t time_irq(struct bench *b)
{
	struct vfio_dev *d = &b->dev;
	uint64_t i, t0, total = 0;

	for (i = 0; i < b->iterations; i++) {
		t0 = io_rdtsc();
		vfio_dev__wr(d, TD_REG_IRQ_TRIGGER, 0);
		if (vfio_dev__wait_irq(d, b->timeout_ms, "an IRQ_TRIGGER write"))
			return 0;
		total += vfio_dev__irq_tsc(d) - t0;
	}
	return total;
}

/* Bytes per second / 10^6 for @bytes moved in @ticks. */
static uint64_t mbps(const struct bench *b, uint64_t bytes, uint64_t ticks)
{
	return bytes / 1000 * b->per_ms / ticks;
}

static int parse(struct bench *b, struct cmdline *cl)
{
	if (cmdline__get_u64(cl, "iterations", DEFAULT_ITERATIONS, false,
			     &b->iterations) ||
	    cmdline__get_u64(cl, "dma", DEFAULT_DMA, true, &b->dma) ||
	    cmdline__get_u64(cl, "dma_reps", DEFAULT_DMA_REPS, false,
			     &b->dma_reps) ||
	    cmdline__get_u64(cl, "timeout_ms", DEFAULT_TIMEOUT_MS, false,
			     &b->timeout_ms) ||
	    cmdline__check_unused(cl))
		return -1;
	if (!b->iterations || b->iterations > 10000000 || !b->dma_reps ||
	    b->dma_reps > 10000 || !b->timeout_ms) {
		serial__printf("vfio-bench: error: iterations (1..10000000), "
			       "dma_reps (1..10000) and timeout_ms must be "
			       "positive\n");
		return -1;
	}
	if (b->dma < 8 || b->dma > TD_DMA_MAX || b->dma % 8) {
		serial__printf("vfio-bench: error: dma=%lu: use a multiple of 8 "
			       "bytes up to 16M\n", b->dma);
		return -1;
	}
	return 0;
}

#define NS(x) (x) / 100, (x) % 100 /* hundredths of ns as "%lu.%02lu" */

bool vfio_bench__run(const struct boot_info *bi, struct cmdline *cl)
{
	static struct bench bench;
	struct bench *b = &bench;
	uint64_t rd, wr, mr, mw, nr, nw, pio, to_g, from_g, irq, span, i;
	volatile uint64_t *buf;

	if (parse(b, cl) ||
	    vfio_dev__setup_all(bi, "vfio-bench", &b->dev, 1, b->dma,
				false))
		return false;
	if (b->dma > b->dev.mem_size) {
		serial__printf("vfio-bench: error: dma=%lu is larger than the "
			       "device memory (0x%lx)\n", b->dma,
			       b->dev.mem_size);
		return false;
	}
	choose_tsc_rate(b);
	serial__printf("vfio-bench: %s, tsc %lu kHz (%s), iterations %lu, dma "
		       "%lu bytes x %lu\n", b->dev.fn.name, b->per_ms,
		       b->per_ms_src, b->iterations, b->dma, b->dma_reps);
	buf = (volatile uint64_t *)(uintptr_t)b->dev.buf;
	for (i = 0; i < b->dma / 8; i++) /* fault the buffer in */
		buf[i] = i;

	rd = time_trapped_reads(b);
	wr = time_trapped_writes(b);
	span = MIN(MMAP_SPAN, b->dev.mem_size);
	mr = time_mmap(b, false, span, &nr);
	mw = time_mmap(b, true, span, &nw);
	pio = time_pio(b);
	from_g = time_dma(b, true);
	to_g = from_g ? time_dma(b, false) : 0;
	if (!to_g)
		return false;
	for (i = 0; i < b->dma / 8; i++) {
		/* Words of the device's own writer (--dirty-rate) may land in between. */
		if (buf[i] != i && !vfio_dev__writer_word(i * 8, buf[i])) {
			serial__printf("vfio-bench: error: DMA round trip lost "
				       "the buffer's data (word %lu reads 0x%lx)\n",
				       i, buf[i]);
			return false;
		}
	}
	irq = time_irq(b);
	if (!irq)
		return false;

	rd = vfio__ns_x100(rd, b->iterations, b->per_ms);
	wr = vfio__ns_x100(wr, b->iterations, b->per_ms);
	mr = vfio__ns_x100(mr, nr, b->per_ms);
	mw = vfio__ns_x100(mw, nw, b->per_ms);
	pio = vfio__ns_x100(pio, b->iterations, b->per_ms);
	irq = vfio__ns_x100(irq, b->iterations, b->per_ms);
	serial__printf("vfio-bench: trapped_read_ns=%lu.%02lu "
		       "trapped_write_ns=%lu.%02lu mmap_read_ns=%lu.%02lu "
		       "mmap_write_ns=%lu.%02lu pio_exit_ns=%lu.%02lu "
		       "dma_to_guest_MBps=%lu dma_from_guest_MBps=%lu "
		       "irq_latency_ns=%lu.%02lu\n", NS(rd), NS(wr), NS(mr),
		       NS(mw), NS(pio), mbps(b, b->dma * b->dma_reps, to_g),
		       mbps(b, b->dma * b->dma_reps, from_g), NS(irq));
	return true;
}
