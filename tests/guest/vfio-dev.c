/*
 * vfio-dev.c: the test guest's driver for ferry-testdev (see
 * vfio-internal.h and docs/vfio-user.md): finding the devices on bus 0,
 * BARs and decode, the xAPIC (the device interrupt itself is
 * vfio-irq.c's), guest RAM for DMA buffers, trapped register access with
 * dead-device detection, DMA with its completion interrupt, and the
 * device digest's hash. All of it runs
 * at CPL3; interrupts are handled at CPL0 by the stubs in tables.S.
 */
#include "bootinfo.h"
#include "guest.h"
#include "io.h"
#include "layout.h"
#include "serial.h"
#include "timing.h"
#include "vfio-internal.h"

/* xAPIC at its default base (ferry and QEMU do not move it). */
#define LAPIC_BASE 0xfee00000ULL
#define APIC_SVR 0x0f0
#define APIC_SVR_ENABLE 0x100 /* software enable */
#define APIC_SPURIOUS_VEC 0xff /* beyond the IDT: a spurious interrupt faults loudly */
#define APIC_LVT0 0x350
#define APIC_LVT_MASKED 0x10000
#define APIC_ICR_LO 0x300
#define APIC_ICR_SELF 0x40000 /* destination shorthand 01: self; fixed, edge */
/* The interrupt path is checked with a self-IPI on the last vector. */
#define SELFTEST_INDEX (IRQ_VECTORS - 1)

#define MAX_FNS 64          /* functions remembered from the bus scan */
#define DEFAULT_SELFTEST_MS 1000 /* a self-IPI takes microseconds; generous */
#define PAUSE_CAP_MS 10     /* a longer TSC jump in a wait is a VM pause */
#define TD_VERSION_MIN 1    /* the register layout this driver knows */

static const char *tag = "vfio";
static uint64_t ram_next, ram_end; /* guest RAM handed out for buffers */

/* --- guest RAM ------------------------------------------------------ */

/*
 * Take the largest memmap RAM range above the image and below 4 GiB
 * (identity mapped, so a buffer's virtual address is its DMA address).
 */
static int ram_init(const struct boot_info *bi)
{
	uint64_t floor = ALIGN_UP((uint64_t)(uintptr_t)_image_end, PAGE_SIZE);
	unsigned int i;

	for (i = 0; i < bi->nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &bi->memmap[i];
		uint64_t lo, hi;

		if (e->type != HVM_MEMMAP_TYPE_RAM || e->addr >= 4 * GiB)
			continue;
		lo = ALIGN_UP(MAX(e->addr, floor), PAGE_SIZE);
		hi = ALIGN_DOWN(MIN(e->addr + e->size, 4 * GiB), PAGE_SIZE);
		if (hi > lo && hi - lo > ram_end - ram_next) {
			ram_next = lo;
			ram_end = hi;
		}
	}
	if (ram_end == ram_next) {
		serial__printf("%s: error: no free RAM below 4 GiB in the memory "
			       "map (%u entries)\n", tag, bi->nr_memmap);
		return -1;
	}
	return 0;
}

static uint64_t ram_alloc(uint64_t bytes)
{
	uint64_t p = ram_next;

	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	if (bytes > ram_end - ram_next)
		return 0;
	ram_next += bytes;
	return p;
}

static uint64_t ram_alloc_page(void)
{
	return ram_alloc(PAGE_SIZE);
}

/* --- registers ------------------------------------------------------ */

const char *vfio_dev__reg_name(unsigned int reg)
{
	static const struct {
		unsigned int reg;
		const char *name;
	} names[] = {
		{ TD_REG_ID, "ID" }, { TD_REG_VERSION, "VERSION" },
		{ TD_REG_MEM_SIZE, "MEM_SIZE_LO" },
		{ TD_REG_MEM_SIZE + 4, "MEM_SIZE_HI" },
		{ TD_REG_MIG_STATE, "MIG_STATE" },
		{ TD_REG_FEATURES, "FEATURES" },
		{ TD_REG_COUNTER, "COUNTER_LO" },
		{ TD_REG_COUNTER + 4, "COUNTER_HI" },
		{ TD_REG_DMA_DEV, "DMA_DEV_LO" },
		{ TD_REG_DMA_DEV + 4, "DMA_DEV_HI" },
		{ TD_REG_DMA_ADDR, "DMA_ADDR_LO" },
		{ TD_REG_DMA_ADDR + 4, "DMA_ADDR_HI" },
		{ TD_REG_DMA_LEN, "DMA_LEN" }, { TD_REG_DMA_CTRL, "DMA_CTRL" },
		{ TD_REG_DMA_STATUS, "DMA_STATUS" },
		{ TD_REG_DMA_ERROR, "DMA_ERROR" },
		{ TD_REG_DMA_COUNT, "DMA_COUNT" },
		{ TD_REG_DIGEST, "DIGEST_LO" },
		{ TD_REG_DIGEST + 4, "DIGEST_HI" },
	};
	unsigned int i;

	if (reg >= TD_REG_SCRATCH0 &&
	    reg < TD_REG_SCRATCH0 + 4 * TD_NR_SCRATCH)
		return "SCRATCH";
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].reg == reg)
			return names[i].name;
	return "?";
}

static __noreturn void device_dead(struct vfio_dev *d, unsigned int reg,
				   uint64_t val)
{
	serial__printf("%s: device %s stopped responding (read 0x%lx from "
		       "BAR0+0x%x %s)\n", tag, d->fn.name, val, reg,
		       vfio_dev__reg_name(reg));
	guest__exit(false);
}

/*
 * All-ones is what a master abort or a dead vfio-user server reads as;
 * a live device never has it in its ID register, so ask that.
 */
static void check_all_ones(struct vfio_dev *d, unsigned int reg, uint64_t val)
{
	if (reg == TD_REG_ID || d->regs[TD_REG_ID / 4] != TD_ID_VALUE)
		device_dead(d, reg, val);
}

uint32_t vfio_dev__rd(struct vfio_dev *d, unsigned int reg)
{
	uint32_t v = d->regs[reg / 4];

	if (v == 0xffffffffu)
		check_all_ones(d, reg, v);
	return v;
}

uint64_t vfio_dev__rd64(struct vfio_dev *d, unsigned int reg)
{
	uint64_t v = *(volatile uint64_t *)(uintptr_t)(d->bar0 + reg);

	if (v == ~0ULL)
		check_all_ones(d, reg, v);
	return v;
}

void vfio_dev__wr(struct vfio_dev *d, unsigned int reg, uint32_t val)
{
	d->regs[reg / 4] = val;
}

void vfio_dev__wr64(struct vfio_dev *d, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)(uintptr_t)(d->bar0 + reg) = val;
}

/* --- interrupts and DMA --------------------------------------------- */

uint32_t vfio_dev__irq_count(const struct vfio_dev *d)
{
	return ((volatile uint32_t *)irq_count)[d->index];
}

uint64_t vfio_dev__irq_tsc(const struct vfio_dev *d)
{
	return ((volatile uint64_t *)irq_tsc)[d->index];
}

int vfio_dev__wait_irq(struct vfio_dev *d, uint64_t timeout_ms,
		       const char *what)
{
	uint64_t per_ms = timing__tsc_per_ms(), cap = PAUSE_CAP_MS * per_ms;
	uint64_t last = io_rdtsc(), ran = 0, limit = timeout_ms * per_ms;
	uint32_t want = d->irqs + 1, n;

	/*
	 * Count only the time this vCPU ran: a TSC jump above PAUSE_CAP_MS
	 * between two looks is the VM being paused (snapshot, migration),
	 * which must not turn into a missing interrupt.
	 */
	while ((n = vfio_dev__irq_count(d)) < want) {
		uint64_t now = io_rdtsc(), dt = now - last;

		last = now;
		if ((int64_t)dt > 0 && dt < cap)
			ran += dt;
		if (ran > limit) {
			serial__printf("%s: %s: no interrupt on vector 0x%x "
				       "within %lu ms after %s (irqs %u, "
				       "expected %u)\n", tag, d->fn.name,
				       IRQ_VECTOR_BASE + d->index, timeout_ms,
				       what, n, want);
			return -1;
		}
		io_pause();
	}
	if (n != want) {
		serial__printf("%s: %s: unexpected interrupt on vector 0x%x "
			       "after %s: irqs %u, expected %u\n", tag,
			       d->fn.name, IRQ_VECTOR_BASE + d->index, what, n,
			       want);
		return -1;
	}
	d->irqs = want;
	return 0;
}

static const char *dma_error_name(uint32_t e)
{
	static const char *const names[] = {
		"ok", "device range out of bounds",
		"guest range not inside one DMA mapping",
		"mapping lacks read/write permission", "device not running",
		"bad length",
	};

	return e < ARRAY_SIZE(names) ? names[e] : "unknown error";
}

int vfio_dev__dma(struct vfio_dev *d, bool to_dev, uint64_t dev_off,
		  uint64_t gpa, uint32_t len, uint64_t timeout_ms,
		  uint64_t *t0, uint64_t *t1)
{
	const char *what = to_dev ? "DMA from guest" : "DMA to guest";
	uint32_t status, err;
	uint64_t start;
	int ret;

	vfio_dev__wr64(d, TD_REG_DMA_DEV, dev_off);
	vfio_dev__wr64(d, TD_REG_DMA_ADDR, gpa);
	vfio_dev__wr(d, TD_REG_DMA_LEN, len);
	start = io_rdtsc();
	vfio_dev__wr(d, TD_REG_DMA_CTRL, TD_DMA_START | TD_DMA_IRQ |
					 (to_dev ? TD_DMA_FROM_GUEST : 0));
	ret = vfio_dev__wait_irq(d, timeout_ms, what);
	if (t0)
		*t0 = start;
	if (t1)
		*t1 = vfio_dev__irq_tsc(d);
	status = vfio_dev__rd(d, TD_REG_DMA_STATUS);
	err = vfio_dev__rd(d, TD_REG_DMA_ERROR);
	if (ret || status != TD_DMA_DONE || err) {
		serial__printf("%s: %s: %s %s: DMA_STATUS %u, DMA_ERROR %u (%s); "
			       "device offset 0x%lx, guest 0x%lx, %u bytes\n",
			       tag, d->fn.name, what,
			       ret ? "lost its interrupt" : "failed", status,
			       err, dma_error_name(err), dev_off, gpa, len);
		return -1;
	}
	return 0;
}

/* --- setup ---------------------------------------------------------- */

static void fmt_size(char *buf, size_t size, uint64_t bytes)
{
	if (bytes >= GiB && !(bytes % GiB))
		serial__snprintf(buf, size, "%lu GiB", bytes / GiB);
	else if (bytes >= MiB && !(bytes % MiB))
		serial__snprintf(buf, size, "%lu MiB", bytes / MiB);
	else if (bytes >= KiB && !(bytes % KiB))
		serial__snprintf(buf, size, "%lu KiB", bytes / KiB);
	else
		serial__snprintf(buf, size, "%lu bytes", bytes);
}

static void apic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = val;
}

static int check_bars(struct vfio_dev *d, const struct pci_bar *bars)
{
	const struct pci_bar *r = &bars[TD_BAR_REGS], *m = &bars[TD_BAR_MEM];

	if (r->io || r->size < TD_BAR0_MIN || !r->addr ||
	    r->addr + r->size > 4 * GiB) {
		serial__printf("%s: error: %s: BAR0 is not a 32-bit memory BAR "
			       "of at least 4 KiB with an address (addr 0x%lx, "
			       "size 0x%lx%s)\n", tag, d->fn.name, r->addr,
			       r->size, r->io ? ", I/O" : "");
		return -1;
	}
	if (m->io || !m->mem64 || !m->size || !m->addr ||
	    m->addr & (m->size - 1)) {
		serial__printf("%s: error: %s: BAR2 is not an assigned, aligned "
			       "64-bit memory BAR (addr 0x%lx, size 0x%lx)\n",
			       tag, d->fn.name, m->addr, m->size);
		return -1;
	}
	d->bar0 = r->addr;
	d->bar0_size = r->size;
	d->bar2 = m->addr;
	d->mem_size = m->size;
	d->regs = (volatile uint32_t *)(uintptr_t)d->bar0;
	d->mem = (volatile uint64_t *)(uintptr_t)d->bar2;
	return 0;
}

static int setup_one(struct vfio_dev *d, uint32_t apic_id, uint64_t buf_size,
		     bool intx)
{
	struct pci_bar bars[PCI_NR_BARS];
	const struct pci_fn *f = &d->fn;
	char s0[16], s2[16], sb[16], route[48];
	uint16_t cmd;
	uint32_t id;
	uint64_t msize;

	if (pci__read_bars(f, bars) || check_bars(d, bars))
		return -1;
	if (pci__map_mmio(d->bar0, d->bar0_size, ram_alloc_page) ||
	    pci__map_mmio(d->bar2, d->mem_size, ram_alloc_page))
		return -1;
	cmd = pci__read16(f, PCI_COMMAND);
	pci__write16(f, PCI_COMMAND,
		     cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cmd = pci__read16(f, PCI_COMMAND);
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) !=
	    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) {
		serial__printf("%s: error: %s: command register reads 0x%x "
			       "after enabling memory and bus master\n", tag,
			       f->name, cmd);
		return -1;
	}
	id = vfio_dev__rd(d, TD_REG_ID);
	d->version = vfio_dev__rd(d, TD_REG_VERSION);
	msize = vfio_dev__rd64(d, TD_REG_MEM_SIZE);
	if (id != TD_ID_VALUE || d->version < TD_VERSION_MIN ||
	    msize != d->mem_size) {
		serial__printf("%s: error: %s: ID 0x%x VERSION %u MEM_SIZE 0x%lx; "
			       "expected ID 0x%x and MEM_SIZE = BAR2 size 0x%lx\n",
			       tag, f->name, id, d->version, msize, TD_ID_VALUE,
			       d->mem_size);
		return -1;
	}
	if (vfio_irq__find_msix(d, tag))
		return -1;
	d->buf_size = buf_size;
	d->buf = ram_alloc(buf_size);
	if (!d->buf) {
		fmt_size(sb, sizeof(sb), buf_size);
		serial__printf("%s: error: not enough RAM for a %s DMA buffer "
			       "for %s (0x%lx free below 4 GiB)\n", tag, sb,
			       f->name, ram_end - ram_next);
		return -1;
	}
	d->irqs = vfio_dev__irq_count(d);
	if (vfio_irq__setup(d, tag, apic_id, intx, route, sizeof(route)))
		return -1;
	fmt_size(s0, sizeof(s0), d->bar0_size);
	fmt_size(s2, sizeof(s2), d->mem_size);
	fmt_size(sb, sizeof(sb), buf_size);
	serial__printf("%s: %s %04x:%04x rev %u, BAR0 0x%lx (%s), BAR2 0x%lx "
		       "(%s, 64-bit%s), MSI-X %u vectors at BAR0+0x%x\n", tag,
		       f->name, f->vendor, f->device, f->revision, d->bar0, s0,
		       d->bar2, s2, bars[TD_BAR_MEM].prefetch ?
		       " prefetchable" : "", d->msix_vectors, d->msix_table);
	serial__printf("%s: %s ready: ID 0x%x version %u, %s -> "
		       "apic id %u vector 0x%x, DMA buffer 0x%lx (%s)\n", tag,
		       f->name, id, d->version, route, apic_id,
		       IRQ_VECTOR_BASE + d->index, d->buf, sb);
	return 0;
}

/*
 * Check the CPU side of interrupts (IDT vector, handler, EOI, IF) with a
 * self-IPI, so that a missing device interrupt later is the device's.
 */
static int selftest_irq(void)
{
	struct vfio_dev probe = { .index = SELFTEST_INDEX };

	serial__snprintf(probe.fn.name, sizeof(probe.fn.name), "self");
	probe.irqs = vfio_dev__irq_count(&probe);
	apic_write(APIC_ICR_LO, APIC_ICR_SELF | (IRQ_VECTOR_BASE + SELFTEST_INDEX));
	if (vfio_dev__wait_irq(&probe, DEFAULT_SELFTEST_MS, "a self-IPI")) {
		serial__printf("%s: error: this CPU takes no interrupts\n", tag);
		return -1;
	}
	return 0;
}

static void list_fns(const struct pci_fn *fns, unsigned int n)
{
	char line[SERIAL_LINE_MAX];
	size_t len = 0;
	unsigned int i;

	line[0] = 0;
	for (i = 0; i < n && len + 24 < sizeof(line); i++)
		len += serial__snprintf(line + len, sizeof(line) - len,
					"%s%s %04x:%04x", i ? ", " : "",
					fns[i].name, fns[i].vendor,
					fns[i].device);
	serial__printf("%s: bus 0: %s\n", tag, n ? line : "no functions");
}

int vfio_dev__setup_all(const struct boot_info *bi, const char *mode_tag,
			struct vfio_dev *devs, unsigned int want,
			uint64_t buf_size, bool intx)
{
	static struct pci_fn fns[MAX_FNS];
	unsigned int n, i, j, found = 0;
	uint32_t apic_id;

	tag = mode_tag;
	if (want > VFIO_MAX_DEVS) {
		serial__printf("%s: error: at most %u devices\n", tag,
			       VFIO_MAX_DEVS);
		return -1;
	}
	if (ram_init(bi))
		return -1;
	/*
	 * The xAPIC must be software-enabled to accept MSIs. LINT0 is
	 * masked: nothing but our vectors may interrupt.
	 */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VEC);
	apic_write(APIC_LVT0, APIC_LVT_MASKED);
	apic_id = io_apic_id();
	guest__irq_enable();
	if (selftest_irq())
		return -1;
	n = pci__scan(fns, MAX_FNS);
	for (i = 0; i < n && found < want; i++) {
		if (fns[i].vendor != TD_VENDOR_ID ||
		    fns[i].device != TD_DEVICE_ID)
			continue;
		devs[found] = (struct vfio_dev){ .fn = fns[i], .index = found };
		found++;
	}
	if (found < want) {
		list_fns(fns, n);
		serial__printf("%s: error: found %u device(s) %04x:%04x on bus 0, "
			       "need %u\n", tag, found, TD_VENDOR_ID,
			       TD_DEVICE_ID, want);
		return -1;
	}
	for (i = 0; i < want; i++) {
		if (setup_one(&devs[i], apic_id, buf_size, intx))
			return -1;
		/* One IOAPIC entry, one vector: a shared line would mix counts. */
		for (j = 0; intx && j < i; j++) {
			if (devs[j].gsi != devs[i].gsi)
				continue;
			serial__printf("%s: error: %s and %s share GSI %u; "
				       "irq=intx needs one GSI per device\n",
				       tag, devs[j].fn.name, devs[i].fn.name,
				       devs[i].gsi);
			return -1;
		}
	}
	return 0;
}

/* --- digest hash and time ------------------------------------------ */

/* Lane seeds: testdev-hash.c's TD_HASH_K2 (splitmix64's second constant). */
#define HASH_K2 0xbf58476d1ce4e5b9ULL

void vfio_hash__init(struct vfio_hash *h, uint64_t len, uint64_t seed)
{
	uint64_t l0 = seed ^ len;

	h->l[0] = l0;
	h->l[1] = l0 + HASH_K2;
	h->l[2] = l0 + 2 * HASH_K2;
	h->l[3] = l0 + 3 * HASH_K2;
	h->len = len;
}

uint64_t vfio_hash__final(const struct vfio_hash *h)
{
	return vfio_hash__mix(vfio_hash__mix(vfio_hash__mix(
		vfio_hash__mix(h->l[0], h->l[1]), h->l[2]), h->l[3]), h->len);
}

uint64_t vfio_hash__buf(const void *p, uint64_t len, uint64_t seed)
{
	const uint8_t *b = p;
	struct vfio_hash h;
	uint64_t i = 0, w[4], tail = 0;

	vfio_hash__init(&h, len, seed);
	for (; i + 32 <= len; i += 32) {
		memcpy(w, b + i, 32);
		vfio_hash__block(&h, w);
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(w, b + i, 8);
		h.l[0] = vfio_hash__mix(h.l[0], w[0]);
	}
	if (i < len) {
		memcpy(&tail, b + i, len - i);
		h.l[1] = vfio_hash__mix(h.l[1], tail);
	}
	return vfio_hash__final(&h);
}

/* Largest background-writer generation taken as plausible. */
#define WRITER_GEN_MAX 0xffffffffULL

bool vfio_dev__writer_word(uint64_t off, uint64_t w)
{
	static uint64_t k_inv;
	uint64_t x = w, h;
	int i;

	if (!k_inv) { /* Newton: each step doubles the correct low bits */
		k_inv = 0x9e3779b97f4a7c15ULL;
		for (i = 0; i < 5; i++)
			k_inv *= 2 - 0x9e3779b97f4a7c15ULL * k_inv;
	}
	x ^= (x >> 29) ^ (x >> 58); /* undoes h ^= h >> 29 */
	h = (x * k_inv) ^ off;      /* undoes h *= K, then h ^= off */
	return h >= 1 && h <= WRITER_GEN_MAX;
}

uint64_t vfio__ns_x100(uint64_t ticks, uint64_t n, uint64_t per_ms)
{
	uint64_t per_us = per_ms / 1000;

	if (!n || !per_us)
		return 0;
	/* ticks * 100 / n first: per-operation values stay far below 2^64. */
	return ticks * 100 / n * 1000 / per_us;
}
