/*
 * fault.h: the exception report. Every IDT vector below 32 lands in
 * fault__report() at CPL0 (on the CPU's TSS stack when it came from
 * CPL3), which prints the vector, error code and registers to COM1 and
 * exits with failure through the debug-exit port.
 */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

#include <stdint.h>

#include "guest.h"

/* What the stub and the CPU pushed, lowest address first (tables.S). */
struct fault_frame {
	uint64_t vector;
	uint64_t error;
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};

/* Called from exc_common with the frame; never returns. */
__noreturn void fault__report(const struct fault_frame *f);

#endif /* GUEST_FAULT_H */
