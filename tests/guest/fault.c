/*
 * fault.c: prints an exception report and fails the run. It runs at
 * CPL0, where each instruction is emulated, but only once per run.
 * The output line is the contract for tests:
 *   ferry-guest: EXCEPTION #PF (vector 14) err 0x6 rip 0x... cs 0x23
 *   rflags 0x... rsp 0x... cr2 0x...
 * Two ud2 instructions in entry.S are not errors but requests from CPL3
 * (park this CPU, reset the VM), since CPL3 cannot halt by itself.
 */
#include "fault.h"

#include "io.h"
#include "layout.h"
#include "serial.h"

static const char *const names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

#define VEC_UD 6

extern const char ud2_park[], ud2_reset[]; /* entry.S */

static __noreturn void reset(void)
{
	/* An empty IDT turns the next trap into a triple fault. */
	__asm__ volatile("lidt null_idt_ptr\n\tud2" : : : "memory");
	for (;;)
		__asm__ volatile("cli; hlt");
}

void fault__report(const struct fault_frame *f)
{
	uint64_t cr2;

	if (f->vector == VEC_UD && f->rip == (uint64_t)(uintptr_t)ud2_park)
		for (;;)
			__asm__ volatile("cli; hlt");
	if (f->vector == VEC_UD && f->rip == (uint64_t)(uintptr_t)ud2_reset) {
		serial__printf_nolock("ferry-guest: no debug-exit device at "
				      "port 0xf4, resetting\n");
		reset();
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	serial__printf_nolock("ferry-guest: EXCEPTION %s (vector %lu) err "
			      "0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx rsp 0x%lx "
			      "cr2 0x%lx\n",
			      names[f->vector & 31], f->vector, f->error, f->rip,
			      f->cs, f->rflags, f->rsp, cr2);
	io_outb(PORT_DEBUG_EXIT, 1);
	reset(); /* no debug-exit device */
}
