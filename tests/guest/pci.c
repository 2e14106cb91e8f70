/*
 * pci.c: configuration mechanism #1, bus 0 scan, BAR sizing, the
 * capability list and high MMIO mappings for the test guest (see
 * pci.h). Everything runs at CPL3: the ports are open through the TSS
 * I/O bitmap, and the page tables are user-writable.
 */
#include "pci.h"

#include "guest.h"
#include "io.h"
#include "layout.h"
#include "serial.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define PCI_CONF_ENABLE 0x80000000u /* bit 31: a configuration cycle */
#define PCI_SLOTS 32
#define PCI_FNS 8
#define PCI_CAP_MIN 0x40  /* capabilities live above the header */
#define PCI_CAP_MAX_WALK 48 /* (256 - 64) / 4: more is a loop */

/* BAR register bits. */
#define BAR_IO 0x1
#define BAR_MEM_TYPE 0x6
#define BAR_MEM_TYPE_64 0x4
#define BAR_MEM_PREFETCH 0x8
#define BAR_MEM_MASK (~0xfULL)
#define BAR_IO_MASK (~0x3ULL)

#define MAP_LIMIT (512 * GiB) /* one PDPT */

extern uint64_t pdpt[512]; /* tables.S */

/* io.h has byte accesses only; configuration space needs 16 and 32 bits. */
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void select_reg(unsigned int slot, unsigned int fn, unsigned int off)
{
	outl(PCI_CONF_ADDR, PCI_CONF_ENABLE | (slot << 11) | (fn << 8) |
			    (off & 0xfc));
}

static uint32_t raw_read32(unsigned int slot, unsigned int fn,
			   unsigned int off)
{
	select_reg(slot, fn, off);
	return inl(PCI_CONF_DATA);
}

uint32_t pci__read32(const struct pci_fn *f, unsigned int off)
{
	return raw_read32(f->slot, f->fn, off);
}

uint16_t pci__read16(const struct pci_fn *f, unsigned int off)
{
	select_reg(f->slot, f->fn, off);
	return inw((uint16_t)(PCI_CONF_DATA + (off & 2)));
}

uint8_t pci__read8(const struct pci_fn *f, unsigned int off)
{
	select_reg(f->slot, f->fn, off);
	return io_inb((uint16_t)(PCI_CONF_DATA + (off & 3)));
}

void pci__write32(const struct pci_fn *f, unsigned int off, uint32_t val)
{
	select_reg(f->slot, f->fn, off);
	outl(PCI_CONF_DATA, val);
}

void pci__write16(const struct pci_fn *f, unsigned int off, uint16_t val)
{
	select_reg(f->slot, f->fn, off);
	outw((uint16_t)(PCI_CONF_DATA + (off & 2)), val);
}

static void add_fn(struct pci_fn *out, unsigned int slot, unsigned int fn,
		   uint32_t id)
{
	uint32_t cr;

	out->slot = (uint8_t)slot;
	out->fn = (uint8_t)fn;
	out->vendor = (uint16_t)id;
	out->device = (uint16_t)(id >> 16);
	cr = raw_read32(slot, fn, PCI_CLASS_REVISION);
	out->revision = (uint8_t)cr;
	out->class_code = cr >> 8;
	serial__snprintf(out->name, sizeof(out->name), "00:%02x.%x", slot, fn);
}

unsigned int pci__scan(struct pci_fn *out, unsigned int max)
{
	unsigned int slot, fn, n = 0;

	for (slot = 0; slot < PCI_SLOTS && n < max; slot++) {
		uint32_t id = raw_read32(slot, 0, PCI_VENDOR_ID);
		unsigned int nfn = 1;

		if ((id & 0xffff) == PCI_VENDOR_NONE)
			continue;
		if ((raw_read32(slot, 0, PCI_HEADER_TYPE & ~3u) >> 16) &
		    PCI_HEADER_MULTI_FN)
			nfn = PCI_FNS;
		add_fn(&out[n++], slot, 0, id);
		for (fn = 1; fn < nfn && n < max; fn++) {
			id = raw_read32(slot, fn, PCI_VENDOR_ID);
			if ((id & 0xffff) != PCI_VENDOR_NONE)
				add_fn(&out[n++], slot, fn, id);
		}
	}
	return n;
}

/* Write all-ones to BAR register @off, read the mask, restore. */
static uint32_t size_mask(const struct pci_fn *f, unsigned int off,
			  uint32_t orig)
{
	uint32_t m;

	pci__write32(f, off, 0xffffffffu);
	m = pci__read32(f, off);
	pci__write32(f, off, orig);
	return m;
}

int pci__read_bars(const struct pci_fn *f, struct pci_bar bars[PCI_NR_BARS])
{
	uint16_t cmd = pci__read16(f, PCI_COMMAND);
	unsigned int i;
	int ret = 0;

	pci__write16(f, PCI_COMMAND,
		     cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (i = 0; i < PCI_NR_BARS; i++) {
		unsigned int off = PCI_BAR0 + 4 * i;
		uint32_t lo = pci__read32(f, off), mlo = size_mask(f, off, lo);
		struct pci_bar *b = &bars[i];
		uint64_t mask;

		*b = (struct pci_bar){ 0 };
		if (lo & BAR_IO) {
			b->io = true;
			b->addr = lo & BAR_IO_MASK;
			mask = mlo & BAR_IO_MASK;
			if (mask) /* 16-bit decode: bits 31:16 may read as 0 */
				mask |= 0xffff0000u;
		} else if ((lo & BAR_MEM_TYPE) == BAR_MEM_TYPE_64) {
			uint32_t hi, mhi;

			if (i == PCI_NR_BARS - 1) {
				serial__printf("pci: error: %s: BAR5 claims to be "
					       "64-bit\n", f->name);
				ret = -1;
				break;
			}
			hi = pci__read32(f, off + 4);
			mhi = size_mask(f, off + 4, hi);
			b->mem64 = true;
			b->prefetch = lo & BAR_MEM_PREFETCH;
			b->addr = ((uint64_t)hi << 32) | (lo & BAR_MEM_MASK);
			mask = ((uint64_t)mhi << 32) | (mlo & BAR_MEM_MASK);
		} else {
			b->prefetch = lo & BAR_MEM_PREFETCH;
			b->addr = lo & BAR_MEM_MASK;
			mask = mlo & BAR_MEM_MASK;
		}
		/* The lowest writable address bit is the size; no bits: no BAR. */
		b->size = mask & (~mask + 1);
		if (b->mem64)
			bars[++i] = (struct pci_bar){ 0 };
	}
	pci__write16(f, PCI_COMMAND, cmd);
	return ret;
}

unsigned int pci__find_cap(const struct pci_fn *f, uint8_t id)
{
	unsigned int off, n;

	if (!(pci__read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = pci__read8(f, PCI_CAP_PTR) & 0xfc;
	for (n = 0; n < PCI_CAP_MAX_WALK && off >= PCI_CAP_MIN; n++) {
		uint16_t hdr = pci__read16(f, off);

		if ((hdr & 0xff) == id)
			return off;
		off = (hdr >> 8) & 0xfc;
	}
	return 0;
}

int pci__map_mmio(uint64_t addr, uint64_t size, uint64_t (*alloc_page)(void))
{
	uint64_t gib, end;

	if (!size || __builtin_add_overflow(addr, size, &end) ||
	    end > MAP_LIMIT) {
		serial__printf("pci: error: cannot map 0x%lx+0x%lx: the guest "
			       "maps at most 512 GiB\n", addr, size);
		return -1;
	}
	for (gib = MAX(addr >> 30, PT_STATIC_GIB); (gib << 30) < end; gib++) {
		uint64_t *pd, pdpa;
		unsigned int i;

		if (pdpt[gib])
			continue;
		pdpa = alloc_page();
		if (!pdpa) {
			serial__printf("pci: error: no RAM left for a page "
				       "directory to map 0x%lx\n", gib << 30);
			return -1;
		}
		pd = (uint64_t *)(uintptr_t)pdpa;
		for (i = 0; i < 512; i++)
			pd[i] = (gib << 30) + ((uint64_t)i << 21) + PTE_LARGE;
		__asm__ volatile("" : : : "memory");
		/* A not-present entry is never cached in the TLB: no flush. */
		pdpt[gib] = pdpa + PTE_TABLE;
	}
	return 0;
}
