/*
 * cpus-mptable.c: the Intel MultiProcessor Specification 1.4 tables.
 * Floating pointer: "_MP_", config table address at 4, length in
 * 16-byte units at 8, checksum over that length, feature byte 1 at 11
 * (non-zero: a default configuration without a table). Config table:
 * "PCMP", base length at 4, local APIC address at 36, entry count at
 * 34, entries from 44: processor entries (type 0) are 20 bytes with the
 * APIC id at 1 and flags at 3 (bit 0 enabled); types 1-4 are 8 bytes.
 */
#include "cpus.h"

#include "guest.h"
#include "io.h"
#include "serial.h"

#define MPF_LEN 16
#define MPC_HDR_LEN 44
#define MPC_PROCESSOR 0
#define MPC_PROCESSOR_LEN 20
#define MPC_OTHER_LEN 8  /* bus, I/O APIC, I/O and local interrupt entries */
#define MPC_LAST_TYPE 4
#define MPC_CPU_ENABLED 1
#define BDA_EBDA_SEG 0x40e  /* BIOS data area: EBDA segment */
#define BDA_BASE_KB 0x413   /* BIOS data area: base memory in KiB */

static const uint8_t *find_in(uint64_t lo, uint64_t hi)
{
	for (; lo + MPF_LEN <= hi; lo += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)lo;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && !cpus__checksum(p, MPF_LEN))
			return p;
	}
	return NULL;
}

static const uint8_t *find_mpf(void)
{
	uint64_t ebda = (uint64_t)io_phys_read16(BDA_EBDA_SEG) << 4;
	uint64_t base_kb = io_phys_read16(BDA_BASE_KB);
	const uint8_t *p = NULL;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		p = find_in(ebda, ebda + 1024);
	if (!p && base_kb >= 512 && base_kb <= 640)
		p = find_in(base_kb * 1024 - 1024, base_kb * 1024);
	if (!p) /* no BIOS data area (PVH): ferry's fixed spot 0x9fc00 */
		p = find_in(0x9fc00, 0xa0000);
	return p ? p : find_in(0xf0000, 0x100000);
}

int cpus__from_mptable(struct cpu_list *cl)
{
	const uint8_t *mpf = find_mpf(), *mpc, *e, *end;
	uint32_t addr;
	uint16_t len, count, i;

	if (!mpf)
		return 1;
	if (mpf[11]) {
		serial__printf("smp: error: MP default configuration %u is not "
			       "supported\n", mpf[11]);
		return -1;
	}
	memcpy(&addr, mpf + 4, sizeof(addr));
	mpc = (const uint8_t *)(uintptr_t)addr;
	if (!cpus__mapped(addr, MPC_HDR_LEN) || memcmp(mpc, "PCMP", 4)) {
		serial__printf("smp: error: MP floating pointer at %p points to "
			       "no config table (0x%x)\n", (const void *)mpf, addr);
		return -1;
	}
	memcpy(&len, mpc + 4, sizeof(len));
	memcpy(&count, mpc + 34, sizeof(count));
	memcpy(&cl->lapic_base, mpc + 36, sizeof(cl->lapic_base));
	if (len < MPC_HDR_LEN || !cpus__mapped(addr, len) ||
	    cpus__checksum(mpc, len)) {
		serial__printf("smp: error: MP config table at 0x%x: bad length "
			       "%u or checksum\n", addr, len);
		return -1;
	}
	e = mpc + MPC_HDR_LEN;
	end = mpc + len;
	for (i = 0; i < count; i++) {
		unsigned int elen = e < end && e[0] == MPC_PROCESSOR ?
			MPC_PROCESSOR_LEN : MPC_OTHER_LEN;

		if (e >= end || e[0] > MPC_LAST_TYPE || elen > (uint64_t)(end - e)) {
			serial__printf("smp: error: MP config entry %u is bad\n", i);
			return -1;
		}
		if (e[0] == MPC_PROCESSOR && (e[3] & MPC_CPU_ENABLED) &&
		    cpus__add(cl, e[1]))
			return -1;
		e += elen;
	}
	cl->source = "MP table";
	return cl->n ? 0 : 1;
}
