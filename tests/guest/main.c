/*
 * main.c: the CPL3 entry of the test guest. The BSP reads the PVH start
 * info, parses the command line and runs one mode: hello, memtest,
 * smp, selftest-fault, reset, vfio or vfio-bench; APs go to
 * smp__ap_main(). The verdict leaves through the debug-exit port
 * (0 = success, 1 = failure).
 */
#include <stdarg.h>

#include "bootinfo.h"
#include "cmdline.h"
#include "guest.h"
#include "io.h"
#include "layout.h"
#include "modes.h"
#include "serial.h"

/* An address no page table maps (above the static 4 GiB, below 512 GiB). */
#define UNMAPPED_ADDR 0x7000000000ULL

static struct boot_info boot;

void guest__exit(bool ok)
{
	io_outb(PORT_DEBUG_EXIT, ok ? 0 : 1);
	/* Still here: no debug-exit device. fault.c resets the VM. */
	__asm__ volatile("jmp ud2_reset");
	__builtin_unreachable();
}

void guest__fail(const char *fmt, ...)
{
	char buf[SERIAL_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	serial__vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial__printf("ferry-guest: error: %s\n", buf);
	guest__exit(false);
}

static bool mode_hello(const struct boot_info *bi, struct cmdline *cl)
{
	if (cmdline__check_unused(cl))
		return false;
	serial__printf("ferry-guest: hello from vCPU 0 (%lu MiB RAM)\n",
		       (bi->ram_bytes + MiB / 2) / MiB);
	return true;
}

/* Deliberately fault at CPL3 so tests can see the IDT report it. */
static bool mode_fault(const struct boot_info *bi, struct cmdline *cl)
{
	const char *kind = cmdline__get(cl, "fault");

	(void)bi;
	if (!kind)
		kind = "pf";
	if (cmdline__check_unused(cl))
		return false;
	serial__printf("ferry-guest: selftest-fault: raising %s\n", kind);
	if (!strcmp(kind, "pf")) {
		*(volatile uint64_t *)UNMAPPED_ADDR = 1;
	} else if (!strcmp(kind, "ud")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(kind, "gp")) {
		__asm__ volatile("hlt"); /* privileged: #GP(0) at CPL3 */
	} else if (!strcmp(kind, "de")) {
		volatile uint32_t zero = 0;
		uint32_t q;

		__asm__ volatile("divl %1" : "=a"(q) : "r"(zero), "a"(1), "d"(0));
		(void)q;
	} else {
		serial__printf("ferry-guest: error: unknown fault '%s' (pf, ud, "
			       "gp, de)\n", kind);
		return false;
	}
	serial__printf("ferry-guest: error: %s did not fault\n", kind);
	return false;
}

/* Ask the i8042 to pulse the reset line, as firmware and Linux do. */
static bool mode_reset(const struct boot_info *bi, struct cmdline *cl)
{
	(void)bi;
	if (cmdline__check_unused(cl))
		return false;
	serial__printf("ferry-guest: requesting reset through the i8042\n");
	io_outb(0x64, 0xfe); /* i8042 command 0xfe: pulse reset */
	serial__printf("ferry-guest: error: still running after the reset request\n");
	return false;
}

static const struct {
	const char *name;
	bool (*run)(const struct boot_info *bi, struct cmdline *cl);
} modes[] = {
	{ "hello", mode_hello },
	{ "memtest", memtest__run },
	{ "smp", smp__run },
	{ "selftest-fault", mode_fault },
	{ "reset", mode_reset },
	{ "vfio", vfio__run },
	{ "vfio-bench", vfio_bench__run },
	{ "pio-bench", pio_bench__run },
};

void guest__main(uint32_t slot, uint32_t start_info)
{
	struct cmdline cl;
	const char *mode;
	unsigned int i;

	if (slot)
		smp__ap_main(slot);
	if (bootinfo__read(start_info, &boot) || cmdline__parse(boot.cmdline, &cl))
		guest__exit(false);
	mode = cmdline__get(&cl, "mode");
	if (!mode)
		mode = "hello";
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(mode, modes[i].name))
			guest__exit(modes[i].run(&boot, &cl));
	guest__fail("unknown mode '%s' (hello, memtest, smp, selftest-fault, "
		    "reset, vfio, vfio-bench, pio-bench)", mode);
}
