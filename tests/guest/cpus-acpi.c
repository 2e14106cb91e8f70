/*
 * cpus-acpi.c: RSDP -> RSDT/XSDT -> MADT ("APIC") -> processor local
 * APIC (type 0) and x2APIC (type 9) entries. Layouts are those of the
 * ACPI specification: RSDP revision at 15, RSDT address at 16, length
 * at 20, XSDT address at 24; every SDT starts with a 36-byte header
 * (signature, length at 4); the MADT's local APIC address is at 36 and
 * its entries start at 44.
 */
#include "cpus.h"

#include "guest.h"
#include "io.h"
#include "serial.h"

#define SDT_HDR_LEN 36
#define SDT_MAX_LEN (1024 * 1024) /* far above any real table; bounds bad input */
#define RSDP_V1_LEN 20
#define MADT_ENTRIES_OFF 44
#define MADT_LAPIC 0    /* processor local APIC: 8 bytes */
#define MADT_X2APIC 9   /* processor local x2APIC: 16 bytes */
#define MADT_ENABLED 1  /* flags bit 0 */
#define XAPIC_MAX_ID 254 /* 255 is the broadcast id */
#define BDA_EBDA_SEG 0x40e /* BIOS data area: EBDA segment */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint8_t cpus__checksum(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

int cpus__mapped(uint64_t addr, uint64_t len)
{
	return addr && addr < PT_STATIC_GIB * GiB &&
	       len <= PT_STATIC_GIB * GiB - addr;
}

int cpus__add(struct cpu_list *cl, uint32_t apic_id)
{
	unsigned int i;

	for (i = 0; i < cl->n; i++)
		if (cl->apic_id[i] == apic_id)
			return 0; /* listed twice (e.g. type 0 and 9): once is enough */
	if (cl->n == GUEST_MAX_CPUS) {
		serial__printf("smp: error: more than %u cpus listed\n",
			       GUEST_MAX_CPUS);
		return -1;
	}
	cl->apic_id[cl->n++] = apic_id;
	return 0;
}

static const uint8_t *find_rsdp_in(uint64_t lo, uint64_t hi)
{
	for (; lo + RSDP_V1_LEN <= hi; lo += 16) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)lo;

		if (!memcmp(p, "RSD PTR ", 8) && !cpus__checksum(p, RSDP_V1_LEN))
			return p;
	}
	return NULL;
}

static const uint8_t *find_rsdp(void)
{
	uint64_t ebda = (uint64_t)io_phys_read16(BDA_EBDA_SEG) << 4;
	const uint8_t *p = NULL;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		p = find_rsdp_in(ebda, ebda + 1024);
	return p ? p : find_rsdp_in(0xe0000, 0x100000);
}

/* The SDT at @addr if its length is sane and its checksum holds. */
static const uint8_t *sdt(uint64_t addr, const char *want)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
	uint32_t len;

	if (!cpus__mapped(addr, SDT_HDR_LEN))
		return NULL;
	len = rd32(p + 4);
	if (len < SDT_HDR_LEN || len > SDT_MAX_LEN || !cpus__mapped(addr, len) ||
	    (want && memcmp(p, want, 4)))
		return NULL;
	if (cpus__checksum(p, len)) {
		char sig[5] = { 0 };

		memcpy(sig, p, 4);
		serial__printf("smp: error: ACPI table %s at 0x%lx has a bad "
			       "checksum\n", sig, addr);
		return NULL;
	}
	return p;
}

static int parse_madt(const uint8_t *m, struct cpu_list *cl)
{
	uint32_t len = rd32(m + 4);
	uint32_t off = MADT_ENTRIES_OFF;

	cl->lapic_base = rd32(m + 36);
	while (off + 2 <= len) {
		const uint8_t *e = m + off;
		uint8_t type = e[0], elen = e[1];

		if (elen < 2 || off + elen > len) {
			serial__printf("smp: error: MADT entry at offset %u has "
				       "bad length %u\n", off, elen);
			return -1;
		}
		if (type == MADT_LAPIC && elen >= 8 && (rd32(e + 4) & MADT_ENABLED)) {
			if (cpus__add(cl, e[3]))
				return -1;
		} else if (type == MADT_X2APIC && elen >= 16 &&
			   (rd32(e + 8) & MADT_ENABLED)) {
			if (rd32(e + 4) > XAPIC_MAX_ID) {
				serial__printf("smp: error: x2APIC id %u needs "
					       "x2APIC mode\n", rd32(e + 4));
				return -1;
			}
			if (cpus__add(cl, rd32(e + 4)))
				return -1;
		}
		off += elen;
	}
	return cl->n ? 0 : 1;
}

int cpus__from_acpi(uint64_t rsdp_addr, struct cpu_list *cl)
{
	const uint8_t *rsdp, *root;
	unsigned int i, n, width;

	if (rsdp_addr) {
		rsdp = (const uint8_t *)(uintptr_t)rsdp_addr;
		if (!cpus__mapped(rsdp_addr, RSDP_V1_LEN) ||
		    memcmp(rsdp, "RSD PTR ", 8) || cpus__checksum(rsdp, RSDP_V1_LEN)) {
			serial__printf("smp: error: no valid RSDP at 0x%lx\n",
				       rsdp_addr);
			return -1;
		}
	} else if (!(rsdp = find_rsdp())) {
		return 1;
	}
	if (rsdp[15] >= 2 && rd64(rsdp + 24)) {
		root = sdt(rd64(rsdp + 24), "XSDT");
		width = 8;
	} else {
		root = sdt(rd32(rsdp + 16), "RSDT");
		width = 4;
	}
	if (!root) {
		serial__printf("smp: error: RSDP points to no valid RSDT/XSDT\n");
		return -1;
	}
	n = (rd32(root + 4) - SDT_HDR_LEN) / width;
	for (i = 0; i < n; i++) {
		const uint8_t *e = root + SDT_HDR_LEN + i * width;
		const uint8_t *t = sdt(width == 8 ? rd64(e) : rd32(e), "APIC");

		if (t) {
			cl->source = "ACPI MADT";
			return parse_madt(t, cl);
		}
	}
	return 1;
}
