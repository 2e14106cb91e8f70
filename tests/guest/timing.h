/*
 * timing.h: coarse time from the TSC, for timeouts and pauses only.
 * The guest has no timer interrupts; the TSC rate comes from CPUID
 * (hypervisor leaf 0x40000010, then leaf 0x15, then leaf 0x16) and
 * falls back to an assumed 3 GHz, so on a slower host waits run long,
 * never short.
 */
#ifndef GUEST_TIMING_H
#define GUEST_TIMING_H

#include <stdint.h>

/* TSC ticks per millisecond (CPUID is asked once, then cached). */
uint64_t timing__tsc_per_ms(void);

/* Busy-wait @ms milliseconds. */
void timing__delay_ms(uint64_t ms);

/* TSC value @ms milliseconds from now. */
uint64_t timing__deadline(uint64_t ms);

/* True once the TSC has passed @deadline. */
int timing__expired(uint64_t deadline);

#endif /* GUEST_TIMING_H */
