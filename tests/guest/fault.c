/*
 * fault.c: prints an exception report and fails the run. It runs at
 * CPL0, where each instruction is emulated, but only once per run.
 * The output line is the contract for tests:
 *   ferry-guest: EXCEPTION #PF (vector 14) err 0x4 rip 0x... cs 0x23
 *   rflags 0x... rsp 0x... cr2 0x...
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

void fault__report(const struct fault_frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	serial__printf_nolock("\nferry-guest: EXCEPTION %s (vector %lu) err "
			      "0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx rsp 0x%lx "
			      "cr2 0x%lx\n",
			      names[f->vector & 31], f->vector, f->error, f->rip,
			      f->cs, f->rflags, f->rsp, cr2);
	io_outb(PORT_DEBUG_EXIT, 1);
	/* No debug-exit device: an empty IDT turns the next trap into a triple fault. */
	__asm__ volatile("lidt null_idt_ptr\n\tint3" : : : "memory");
	for (;;)
		__asm__ volatile("hlt");
}
