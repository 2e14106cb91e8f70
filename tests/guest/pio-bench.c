/*
 * pio-bench.c: mode=pio-bench count=N. Times N port-I/O exits from CPL3
 * (an `inb` from the UART's scratch register, which ferry emulates and
 * QEMU too) with RDTSC, and prints the average round trip. It is the
 * yardstick other benchmarks compare against (tools/bench.sh seccomp).
 */
#include "cmdline.h"
#include "guest.h"
#include "io.h"
#include "modes.h"
#include "serial.h"
#include "timing.h"

/* UART scratch register: side-effect free and always handled by the VMM. */
#define PIO_BENCH_PORT 0x3ff
/* Default: enough exits (~0.5 s at ~27 us) for a stable average. */
#define PIO_BENCH_DEFAULT 20000

bool pio_bench__run(const struct boot_info *bi, struct cmdline *cl)
{
	uint64_t count, i, t0, t1, per_ms;
	volatile uint8_t sink = 0;

	(void)bi;
	if (cmdline__get_u64(cl, "count", PIO_BENCH_DEFAULT, false, &count) ||
	    cmdline__check_unused(cl))
		return false;
	if (count == 0) {
		serial__printf("pio-bench: error: count must be at least 1\n");
		return false;
	}
	t0 = io_rdtsc();
	for (i = 0; i < count; i++)
		sink += io_inb(PIO_BENCH_PORT);
	t1 = io_rdtsc();
	(void)sink;
	per_ms = timing__tsc_per_ms();
	serial__printf("pio-bench: %lu exits, avg_ns=%lu\n", count,
		       (t1 - t0) * 1000000 / per_ms / count);
	return true;
}
