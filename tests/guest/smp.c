/*
 * smp.c: mode=smp. The BSP finds the CPUs (cpus=N, the ACPI MADT or
 * the MP table), copies the AP trampoline below 1 MiB and starts each
 * AP with INIT and SIPI through its xAPIC. Each AP reaches CPL3 in
 * smp__ap_main(), prints its line and counts itself in; the BSP waits
 * for all of them with a TSC deadline and prints the verdict.
 */
#include "bootinfo.h"
#include "cmdline.h"
#include "cpus.h"
#include "guest.h"
#include "io.h"
#include "modes.h"
#include "serial.h"
#include "timing.h"

/* xAPIC registers (offsets from the MMIO base) and ICR commands. */
#define APIC_SVR 0x0f0
#define APIC_SVR_ENABLE 0x100    /* software enable; vector 0xff spurious */
#define APIC_SVR_VALUE (APIC_SVR_ENABLE | 0xff)
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_INIT 0x00004500      /* delivery mode INIT, level assert */
#define ICR_SIPI 0x00004600      /* delivery mode start-up; vector = page */
#define ICR_DEST_SHIFT 24

#define TRAMP_LOW 0x8000         /* lowest page considered for the trampoline */
#define TRAMP_HIGH 0x9f000       /* it must be below 1 MiB, under the EBDA */
#define RESEND_MS 200            /* second SIPI for APs not in by then */
#define DEFAULT_TIMEOUT_MS 5000

extern const char ap_tramp_start[], ap_tramp_end[]; /* trampoline.S */

static struct cpu_list cpus;
static volatile uint32_t checked_in; /* APs that printed their line */
static volatile uint32_t bad;        /* unexpected or repeated check-ins */
static volatile uint8_t seen[GUEST_MAX_CPUS];

static int cpu_index(uint32_t apic_id)
{
	unsigned int i;

	for (i = 0; i < cpus.n; i++)
		if (cpus.apic_id[i] == apic_id)
			return (int)i;
	return -1;
}

void smp__ap_main(uint32_t slot)
{
	uint32_t id = io_apic_id();
	int idx = cpu_index(id);

	if (idx < 0 || __atomic_exchange_n(&seen[idx], 1, __ATOMIC_ACQ_REL)) {
		serial__printf("smp: error: unexpected cpu (apic id %u, slot %u)\n",
			       id, slot);
		__atomic_add_fetch(&bad, 1, __ATOMIC_RELEASE);
	} else {
		serial__printf("smp: cpu %d (apic id %u) online\n", idx, id);
		__atomic_add_fetch(&checked_in, 1, __ATOMIC_RELEASE);
	}
	guest__park();
}

static void apic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(cpus.lapic_base + reg) = val;
}

static void send_ipi(uint32_t apic_id, uint32_t icr)
{
	apic_write(APIC_ICR_HI, apic_id << ICR_DEST_SHIFT);
	apic_write(APIC_ICR_LO, icr);
}

/* The lowest RAM page in [TRAMP_LOW, TRAMP_HIGH) per the memmap, or 0. */
static uint64_t tramp_page(const struct boot_info *bi)
{
	uint64_t best = 0;
	unsigned int i;

	for (i = 0; i < bi->nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &bi->memmap[i];
		uint64_t p = ALIGN_UP(MAX(e->addr, TRAMP_LOW), PAGE_SIZE);

		if (e->type == HVM_MEMMAP_TYPE_RAM && p < TRAMP_HIGH &&
		    p + PAGE_SIZE <= e->addr + e->size && (!best || p < best))
			best = p;
	}
	if (!bi->nr_memmap) /* no memmap: base memory is RAM on every PC */
		best = TRAMP_LOW;
	return best;
}

static int discover(const struct boot_info *bi, struct cmdline *cl)
{
	const char *src = cmdline__get(cl, "cpu_tables");
	uint64_t n;
	int ret = 1;

	if (cmdline__get_u64(cl, "cpus", 0, false, &n))
		return -1;
	if (n) {
		unsigned int i;

		if (n > GUEST_MAX_CPUS) {
			serial__printf("smp: error: cpus=%lu is more than %u\n", n,
				       GUEST_MAX_CPUS);
			return -1;
		}
		for (i = 0; i < n; i++)
			cpus.apic_id[i] = i;
		cpus.n = (unsigned int)n;
		cpus.source = "cpus=";
		return 0;
	}
	if (!src)
		src = "auto";
	if (strcmp(src, "auto") && strcmp(src, "acpi") && strcmp(src, "mptable")) {
		serial__printf("smp: error: cpu_tables=%s: use auto, acpi or "
			       "mptable\n", src);
		return -1;
	}
	/* auto: the RSDP the VMM gave, else the MP table, else an RSDP scan. */
	if (strcmp(src, "mptable") && bi->rsdp)
		ret = cpus__from_acpi(bi->rsdp, &cpus);
	if (ret == 1 && strcmp(src, "acpi")) {
		cpus.n = 0;
		ret = cpus__from_mptable(&cpus);
	}
	if (ret == 1 && strcmp(src, "mptable")) {
		cpus.n = 0;
		ret = cpus__from_acpi(0, &cpus);
	}
	if (ret == 1)
		serial__printf("smp: error: found no %s; pass cpus=N\n",
			       !strcmp(src, "acpi") ? "ACPI MADT" :
			       !strcmp(src, "mptable") ? "MP table" :
			       "MP table or ACPI MADT");
	return ret ? -1 : 0;
}

static bool report_missing(void)
{
	unsigned int i;

	for (i = 0; i < cpus.n; i++)
		if (!seen[i])
			serial__printf("smp: error: cpu %u (apic id %u) did not "
				       "check in\n", i, cpus.apic_id[i]);
	serial__printf("smp: %u/%u cpus online\n", checked_in + 1, cpus.n);
	return false;
}

bool smp__run(const struct boot_info *bi, struct cmdline *cl)
{
	uint64_t timeout_ms, page, resend, deadline;
	uint32_t bsp = io_apic_id(), vector;
	unsigned int i;
	int idx;

	cpus.lapic_base = LAPIC_DEFAULT_BASE;
	if (cmdline__get_u64(cl, "timeout_ms", DEFAULT_TIMEOUT_MS, false,
			     &timeout_ms) || discover(bi, cl) ||
	    cmdline__check_unused(cl))
		return false;
	if (!cpus.lapic_base)
		cpus.lapic_base = LAPIC_DEFAULT_BASE;
	idx = cpu_index(bsp);
	if (idx < 0) {
		serial__printf("smp: error: the BSP (apic id %u) is not in the "
			       "cpu list\n", bsp);
		return false;
	}
	serial__printf("smp: %u cpus from %s, bsp apic id %u\n", cpus.n,
		       cpus.source, bsp);
	seen[idx] = 1;
	serial__printf("smp: cpu %d (apic id %u) online\n", idx, bsp);
	if (cpus.n == 1) {
		serial__printf("smp: 1/1 cpus online\n");
		return true;
	}

	page = tramp_page(bi);
	if (!page) {
		serial__printf("smp: error: no free page below 1 MiB for the AP "
			       "trampoline\n");
		return false;
	}
	memcpy((void *)(uintptr_t)page, ap_tramp_start,
	       (size_t)(ap_tramp_end - ap_tramp_start));
	vector = (uint32_t)(page >> 12);

	apic_write(APIC_SVR, APIC_SVR_VALUE);
	for (i = 0; i < cpus.n; i++) {
		if (cpus.apic_id[i] == bsp)
			continue;
		send_ipi(cpus.apic_id[i], ICR_INIT);
		send_ipi(cpus.apic_id[i], ICR_SIPI | vector);
	}

	resend = timing__deadline(RESEND_MS);
	deadline = timing__deadline(timeout_ms);
	while (checked_in + bad < cpus.n - 1) {
		if (resend && timing__expired(resend)) {
			/* The MP spec's second SIPI, only for CPUs still missing. */
			for (i = 0; i < cpus.n; i++)
				if (!seen[i])
					send_ipi(cpus.apic_id[i], ICR_SIPI | vector);
			resend = 0;
		}
		if (timing__expired(deadline)) {
			serial__printf("smp: error: timeout after %lu ms\n",
				       timeout_ms);
			return report_missing();
		}
		io_pause();
	}
	if (bad)
		return report_missing();
	serial__printf("smp: %u/%u cpus online\n", checked_in + 1, cpus.n);
	return true;
}
