/*
 * pci-window.c: the host bridge's address windows: their default
 * layout, first-fit allocation of BAR addresses at plug-in time (like
 * firmware would), and (un)registering BAR trap ranges on the vmm bus as
 * the guest moves BARs and toggles decode. A BAR decodes only inside a
 * window of its kind and only where nothing else is registered.
 */
#include "devices/pci/pci-internal.h"

#include <errno.h>
#include <string.h>

#include "vmm/log.h"

int pci__default_windows(uint64_t ram_end, unsigned int phys_bits,
			 struct pci_windows *out)
{
	uint64_t base, limit;

	/* Below 32 bits the hole itself is unreachable; x86 stops at 52. */
	if (phys_bits < 32 || phys_bits > 52)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->mmio32_base = PCI_MMIO32_BASE;
	out->mmio32_end = PCI_MMIO32_END;
	out->io_base = PCI_IO_BASE;
	out->io_end = PCI_IO_END;
	out->ecam_base = PCI_ECAM_BASE;
	base = ALIGN_UP(MAX(ram_end, MEM_HIGH_START), PCI_MMIO64_ALIGN);
	limit = 1ULL << phys_bits;
	out->mmio64_base = base;
	out->mmio64_end = base < limit ? MIN(base + PCI_MMIO64_SIZE, limit) : base;
	return 0;
}

bool pci__windows_valid(const struct pci_windows *w)
{
	uint64_t ecam_end = w->ecam_base + PCI_ECAM_SIZE;

	if (w->mmio32_base > w->mmio32_end || w->mmio32_end > MEM_HOLE_END ||
	    w->mmio64_base > w->mmio64_end || w->io_base > w->io_end ||
	    w->io_end > 0x10000 || (w->ecam_base & (PCI_ECAM_SIZE - 1)))
		return false;
	/* Non-empty windows must not overlap. */
	if (w->mmio64_end > w->mmio64_base && w->mmio32_end > w->mmio32_base &&
	    w->mmio32_end > w->mmio64_base && w->mmio64_end > w->mmio32_base)
		return false;
	if (w->ecam_base &&
	    ((w->ecam_base < w->mmio32_end && w->mmio32_base < ecam_end) ||
	     (w->ecam_base < w->mmio64_end && w->mmio64_base < ecam_end)))
		return false;
	return true;
}

/* --- BAR mapping --- */

static bool in_range(uint64_t addr, uint64_t size, uint64_t base, uint64_t end)
{
	uint64_t last;

	return !add_overflow(addr, size, &last) && addr >= base && last <= end;
}

static bool bar_decodable(const struct pci_bus *pbus, const struct pci_bar *b,
			  uint64_t addr)
{
	const struct pci_windows *w = &pbus->win;

	if (b->flags & PCI_BAR_F_IO)
		return in_range(addr, b->size, w->io_base, w->io_end);
	return in_range(addr, b->size, w->mmio32_base, w->mmio32_end) ||
	       in_range(addr, b->size, w->mmio64_base, w->mmio64_end);
}

static enum bus_space bar_space(const struct pci_bar *b)
{
	return (b->flags & PCI_BAR_F_IO) ? BUS_PIO : BUS_MMIO;
}

/* map_lock held. */
static void bar_unmap(struct pci_bus *pbus, struct pci_bar *b)
{
	struct pci_dev *dev = b->dev;

	bus__unregister(pbus->bus, bar_space(b), b->mapped_addr);
	__atomic_store_n(&b->mapped, false, __ATOMIC_RELEASE);
	if (dev->ops && dev->ops->bar_unmap)
		dev->ops->bar_unmap(dev->opaque, b->index, b->mapped_addr,
				    b->size);
}

/*
 * map_lock held. A BAR decodes only inside a window of its kind (never
 * RAM, the LAPIC/IOAPIC, ECAM or legacy ports) and only where no other
 * range is registered: the first BAR to claim an address keeps it and
 * the other stays unmapped until the range frees up.
 */
static void bar_try_map(struct pci_bus *pbus, struct pci_bar *b)
{
	struct pci_dev *dev = b->dev;
	int ret = -ERANGE;

	if (bar_decodable(pbus, b, b->want_addr))
		ret = bus__register(pbus->bus, bar_space(b), b->want_addr,
				    b->size, &pci_dev__bar_bus_ops, b);
	if (ret) {
		if (!b->complained)
			log_ratelimited(LOG_LEVEL_WARN,
					"%s: BAR%u at 0x%llx (+0x%llx) not decoded: %s",
					dev->id, b->index,
					(unsigned long long)b->want_addr,
					(unsigned long long)b->size,
					ret == -ERANGE ? "outside the PCI windows"
					: ret == -EEXIST ? "overlaps another range"
							 : "bus error");
		b->complained = true;
		return;
	}
	b->mapped_addr = b->want_addr;
	__atomic_store_n(&b->mapped, true, __ATOMIC_RELEASE);
	if (dev->ops && dev->ops->bar_map)
		dev->ops->bar_map(dev->opaque, b->index, b->mapped_addr, b->size);
}

/* map_lock held: give BARs blocked by an overlap another chance. */
static void retry_blocked(struct pci_bus *pbus)
{
	unsigned int s, i;

	for (s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *dev = pbus->slots[s];

		if (!dev)
			continue;
		for (i = 0; i < PCI_BAR_COUNT; i++) {
			struct pci_bar *b = &dev->bars[i];

			if (b->size && b->want && !b->mapped)
				bar_try_map(pbus, b);
		}
	}
}

void pci__bar_update(struct pci_dev *dev, unsigned int bar, bool want,
		     uint64_t addr)
{
	struct pci_bus *pbus = dev->bus;
	struct pci_bar *b = &dev->bars[bar];
	bool released = false;

	if (!pbus)
		return;
	pthread_mutex_lock(&pbus->map_lock);
	if (b->mapped && (!want || addr != b->mapped_addr)) {
		bar_unmap(pbus, b);
		released = true;
	}
	if (want != b->want || addr != b->want_addr)
		b->complained = false;
	b->want = want;
	b->want_addr = addr;
	if (want && !b->mapped)
		bar_try_map(pbus, b);
	if (released)
		retry_blocked(pbus);
	pthread_mutex_unlock(&pbus->map_lock);
}


/*
 * First fit: the lowest @align-aligned gap of @size bytes in window @a.
 * Firmware-style allocation happens a few times per VM, so a linear
 * scan is plenty. Returns 0 and *out, or -ENOSPC.
 */
static int alloc_range(struct pci_alloc *a, uint64_t size, uint64_t align,
		       uint64_t *out)
{
	uint64_t cand = ALIGN_UP(a->base, align), last;
	unsigned int i;

	if (a->n == PCI_ALLOC_MAX || cand < a->base)
		return -ENOSPC;
	for (i = 0; i <= a->n; i++) {
		if (add_overflow(cand, size, &last))
			return -ENOSPC;
		if (i == a->n || last <= a->r[i].base)
			break;
		cand = ALIGN_UP(MAX(cand, a->r[i].end), align);
		if (cand < a->r[i].end) /* wrapped */
			return -ENOSPC;
	}
	if (last > a->end)
		return -ENOSPC;
	memmove(&a->r[i + 1], &a->r[i], (a->n - i) * sizeof(a->r[0]));
	a->r[i].base = cand;
	a->r[i].end = last;
	a->n++;
	*out = cand;
	return 0;
}

/* Undo alloc_range() of the range starting at @base. */
static void alloc_release(struct pci_alloc *a, uint64_t base)
{
	unsigned int i;

	for (i = 0; i < a->n; i++) {
		if (a->r[i].base == base) {
			memmove(&a->r[i], &a->r[i + 1],
				(a->n - i - 1) * sizeof(a->r[0]));
			a->n--;
			return;
		}
	}
}

static unsigned int bar_window(const struct pci_bus *pbus,
			       const struct pci_bar *b)
{
	const struct pci_windows *w = &pbus->win;

	if (b->flags & PCI_BAR_F_IO)
		return WIN_IO;
	if ((b->flags & PCI_BAR_F_MEM64) && w->mmio64_end > w->mmio64_base)
		return WIN_MMIO64;
	return WIN_MMIO32;
}

/*
 * map_lock held. Assign every BAR an address, all or nothing. Memory
 * BARs are page aligned at least, I/O BARs aligned to their size.
 */
int pci__assign_bars(struct pci_bus *pbus, struct pci_dev *dev)
{
	uint64_t addrs[PCI_BAR_COUNT] = { 0 };
	unsigned int i, j;
	int ret;

	for (i = 0; i < PCI_BAR_COUNT; i++) {
		const struct pci_bar *b = &dev->bars[i];
		uint64_t align = (b->flags & PCI_BAR_F_IO)
					 ? b->size
					 : MAX(b->size, PCI_BAR_MEM_MIN_ALIGN);

		if (!b->size)
			continue;
		ret = alloc_range(&pbus->alloc[bar_window(pbus, b)], b->size,
				  align, &addrs[i]);
		if (ret) {
			log_err("%s: no room for BAR%u (0x%llx bytes) in the PCI windows",
				dev->id, i, (unsigned long long)b->size);
			for (j = 0; j < i; j++)
				if (dev->bars[j].size)
					alloc_release(&pbus->alloc[bar_window(
							      pbus, &dev->bars[j])],
						      addrs[j]);
			return ret;
		}
	}
	for (i = 0; i < PCI_BAR_COUNT; i++) {
		unsigned int reg = PCI_BAR0 + 4 * i;
		uint32_t lo;

		if (!dev->bars[i].size)
			continue;
		lo = pci_le_get(&dev->cfg[reg], 4);
		lo = (lo & (uint32_t)((dev->bars[i].flags & PCI_BAR_F_IO)
					      ? PCI_BAR_IO_FLAGS_MASK
					      : PCI_BAR_MEM_FLAGS_MASK)) |
		     (uint32_t)addrs[i];
		pci_le_put(&dev->cfg[reg], 4, lo);
		if (dev->bars[i].flags & PCI_BAR_F_MEM64)
			pci_le_put(&dev->cfg[reg + 4], 4,
				   (uint32_t)(addrs[i] >> 32));
	}
	return 0;
}

void pci__alloc_init(struct pci_bus *pbus)
{
	const struct pci_windows *w = &pbus->win;

	memset(pbus->alloc, 0, sizeof(pbus->alloc));
	pbus->alloc[WIN_MMIO32].base = w->mmio32_base;
	pbus->alloc[WIN_MMIO32].end = w->mmio32_end;
	pbus->alloc[WIN_MMIO64].base = w->mmio64_base;
	pbus->alloc[WIN_MMIO64].end = w->mmio64_end;
	pbus->alloc[WIN_IO].base = w->io_base;
	pbus->alloc[WIN_IO].end = w->io_end;
}
