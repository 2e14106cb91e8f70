/*
 * timing.c: TSC-based delays (see timing.h). Each CPUID is a VM exit
 * (~13 us), so the rate is looked up once.
 */
#include "timing.h"

#include "io.h"

#define CPUID_HV_BASE 0x40000000   /* hypervisor leaves: EAX = highest */
#define CPUID_HV_TIMING 0x40000010 /* EAX = TSC kHz (VMware/QEMU convention) */
#define CPUID_TSC_CRYSTAL 0x15     /* EBX/EAX ratio times ECX Hz */
#define CPUID_FREQ 0x16            /* EAX = base MHz */
#define FALLBACK_PER_MS 3000000ULL /* 3 GHz: errs on the long side */

static uint64_t per_ms;

static uint64_t probe(void)
{
	uint32_t r[4];
	uint32_t max;

	io_cpuid(CPUID_HV_BASE, 0, r);
	if (r[0] >= CPUID_HV_TIMING && r[0] < CPUID_HV_BASE + 0x100) {
		io_cpuid(CPUID_HV_TIMING, 0, r);
		if (r[0])
			return r[0];
	}
	io_cpuid(0, 0, r);
	max = r[0];
	if (max >= CPUID_TSC_CRYSTAL) {
		io_cpuid(CPUID_TSC_CRYSTAL, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] / 1000 * r[1] / r[0];
	}
	if (max >= CPUID_FREQ) {
		io_cpuid(CPUID_FREQ, 0, r);
		if (r[0] & 0xffff)
			return (uint64_t)(r[0] & 0xffff) * 1000;
	}
	return FALLBACK_PER_MS;
}

uint64_t timing__tsc_per_ms(void)
{
	if (!per_ms)
		per_ms = probe();
	return per_ms;
}

uint64_t timing__deadline(uint64_t ms)
{
	return io_rdtsc() + ms * timing__tsc_per_ms();
}

int timing__expired(uint64_t deadline)
{
	return (int64_t)(io_rdtsc() - deadline) >= 0;
}

void timing__delay_ms(uint64_t ms)
{
	uint64_t end = timing__deadline(ms);

	while (!timing__expired(end))
		io_pause();
}
