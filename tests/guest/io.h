/*
 * io.h: inline wrappers for the few privileged-looking instructions the
 * guest uses from CPL3: port I/O (allowed by the TSS I/O bitmap),
 * CPUID, RDTSC and PAUSE. Each port access or CPUID is a VM exit, so
 * callers keep them rare.
 */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdint.h>

static inline void io_outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t io_inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline void io_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline uint64_t io_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void io_pause(void)
{
	__asm__ volatile("pause");
}

/*
 * Read a 16-bit value at a low physical address (BIOS data area). The
 * empty asm hides the constant address, which GCC otherwise takes for
 * a NULL dereference.
 */
static inline uint16_t io_phys_read16(uint64_t addr)
{
	const volatile uint16_t *p = (const volatile uint16_t *)(uintptr_t)addr;

	__asm__("" : "+r"(p));
	return *p;
}

/* Initial APIC id of the calling CPU (CPUID leaf 1, EBX bits 31:24). */
static inline uint32_t io_apic_id(void)
{
	uint32_t r[4];

	io_cpuid(1, 0, r);
	return r[1] >> 24;
}

#endif /* GUEST_IO_H */
