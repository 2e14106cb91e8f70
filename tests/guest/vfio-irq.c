/*
 * vfio-irq.c: the test guest's side of ferry-testdev's interrupt: MSI-X
 * table entry 0 (the default), or with irq=intx the legacy INTx line.
 * For INTx it reads the function's Interrupt Pin and Interrupt Line (the
 * GSI the VMM routed the pin to), points that GSI's IOAPIC redirection
 * entry at the device's IRQ vector on this CPU (fixed, physical,
 * level-triggered, active high) and clears the command register's INTx
 * Disable bit. All of it runs once at setup, at CPL3 like the rest of
 * the driver: the MSI-X table and the IOAPIC's two registers are MMIO in
 * the identity map. The vector's handler (tables.S) counts the interrupt
 * and sends the xAPIC EOI, which the xAPIC broadcasts to the IOAPIC for
 * a level-triggered vector: that ends the interrupt and lets the VMM
 * resample the line.
 */
#include "serial.h"
#include "vfio-internal.h"

/* MSI address: 0xfee00000 | destination APIC id << 12 (physical, fixed). */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_DEST_SHIFT 12
/* MSI-X table entry: address lo/hi, data, vector control (bit 0 masked). */
#define MSIX_ENTRY_SIZE 16
#define MSIX_ADDR_LO 0
#define MSIX_ADDR_HI 4
#define MSIX_DATA 8
#define MSIX_VCTRL 12

/* The IOAPIC at its default base: index register, then data window. */
#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REG_VER 0x01        /* bits 23:16: highest redirection entry */
#define IOAPIC_VER_MAXRED_SHIFT 16
#define IOAPIC_REG_RTE_LO(n) (0x10 + 2 * (n))
#define IOAPIC_REG_RTE_HI(n) (0x11 + 2 * (n))
/* Redirection entry low word: vector in 7:0; fixed, physical, high = 0. */
#define IOAPIC_RTE_LEVEL 0x8000    /* bit 15: level-triggered */
#define IOAPIC_RTE_MASKED 0x10000  /* bit 16 */
#define IOAPIC_RTE_DEST_SHIFT 24   /* high word: physical APIC id */

/* Config space: line and pin bytes, the command register's INTx Disable. */
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_INTERRUPT_LINE_NONE 0xff /* "unknown / not connected" */
#define PCI_PIN_MAX 4                /* INTA..INTD */
#define PCI_COMMAND_INTX_DISABLE 0x0400

static uint32_t ioapic_read(unsigned int reg)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)IOAPIC_BASE;

	io[IOAPIC_REGSEL / 4] = reg;
	return io[IOAPIC_WIN / 4];
}

static void ioapic_write(unsigned int reg, uint32_t val)
{
	volatile uint32_t *io = (volatile uint32_t *)(uintptr_t)IOAPIC_BASE;

	io[IOAPIC_REGSEL / 4] = reg;
	io[IOAPIC_WIN / 4] = val;
}

static int setup_intx(struct vfio_dev *d, const char *tag, uint32_t apic_id,
		      uint32_t vector)
{
	const struct pci_fn *f = &d->fn;
	unsigned int nr_rte;
	uint16_t cmd;

	d->intx_pin = pci__read8(f, PCI_INTERRUPT_PIN);
	d->gsi = pci__read8(f, PCI_INTERRUPT_LINE);
	nr_rte = ((ioapic_read(IOAPIC_REG_VER) >> IOAPIC_VER_MAXRED_SHIFT) &
		  0xff) + 1;
	if (!d->intx_pin || d->intx_pin > PCI_PIN_MAX) {
		serial__printf("%s: error: %s: irq=intx but Interrupt Pin is %u "
			       "(no INTx; ferry-testdev needs --intx on)\n",
			       tag, f->name, d->intx_pin);
		return -1;
	}
	if (d->gsi == PCI_INTERRUPT_LINE_NONE || d->gsi >= nr_rte) {
		serial__printf("%s: error: %s: Interrupt Line %u is not a GSI "
			       "of the IOAPIC (%u entries)\n", tag, f->name,
			       d->gsi, nr_rte);
		return -1;
	}
	/* Masked while the destination changes; the last write unmasks. */
	ioapic_write(IOAPIC_REG_RTE_LO(d->gsi), IOAPIC_RTE_MASKED);
	ioapic_write(IOAPIC_REG_RTE_HI(d->gsi),
		     apic_id << IOAPIC_RTE_DEST_SHIFT);
	ioapic_write(IOAPIC_REG_RTE_LO(d->gsi), IOAPIC_RTE_LEVEL | vector);
	cmd = pci__read16(f, PCI_COMMAND);
	pci__write16(f, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	if (pci__read16(f, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) {
		serial__printf("%s: error: %s: INTx Disable does not clear\n",
			       tag, f->name);
		return -1;
	}
	d->intx = true;
	return 0;
}

static void mask_intx(struct vfio_dev *d, bool masked)
{
	uint32_t lo = ioapic_read(IOAPIC_REG_RTE_LO(d->gsi));

	ioapic_write(IOAPIC_REG_RTE_LO(d->gsi),
		     masked ? lo | IOAPIC_RTE_MASKED : lo & ~IOAPIC_RTE_MASKED);
}

int vfio_irq__find_msix(struct vfio_dev *d, const char *tag)
{
	const struct pci_fn *f = &d->fn;
	uint32_t table, pba;

	d->msix_cap = pci__find_cap(f, PCI_CAP_ID_MSIX);
	if (!d->msix_cap) {
		serial__printf("%s: error: %s has no MSI-X capability\n", tag,
			       f->name);
		return -1;
	}
	d->msix_vectors = (pci__read16(f, d->msix_cap + PCI_MSIX_CTRL) &
			   PCI_MSIX_CTRL_SIZE) + 1;
	table = pci__read32(f, d->msix_cap + PCI_MSIX_TABLE);
	pba = pci__read32(f, d->msix_cap + PCI_MSIX_PBA);
	d->msix_table = table & ~PCI_MSIX_BIR;
	d->msix_pba = pba & ~PCI_MSIX_BIR;
	if ((table & PCI_MSIX_BIR) != TD_BAR_REGS ||
	    d->msix_table + MSIX_ENTRY_SIZE > d->bar0_size) {
		serial__printf("%s: error: %s: MSI-X table 0x%x is not inside "
			       "BAR0\n", tag, f->name, table);
		return -1;
	}
	return 0;
}

/* Route table entry 0 to @vector on @apic_id and enable MSI-X. */
static void program_msix(struct vfio_dev *d, uint32_t apic_id,
			 uint32_t vector)
{
	volatile uint32_t *e =
		(volatile uint32_t *)(uintptr_t)(d->bar0 + d->msix_table);
	unsigned int ctrl = d->msix_cap + PCI_MSIX_CTRL;
	uint16_t c = pci__read16(&d->fn, ctrl);

	/* Enabled but function-masked while the entry is written. */
	pci__write16(&d->fn, ctrl,
		     c | PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	e[MSIX_ADDR_LO / 4] = MSI_ADDR_BASE | (apic_id << MSI_ADDR_DEST_SHIFT);
	e[MSIX_ADDR_HI / 4] = 0;
	e[MSIX_DATA / 4] = vector; /* fixed delivery, edge */
	e[MSIX_VCTRL / 4] = 0;     /* unmasked */
	pci__write16(&d->fn, ctrl,
		     (c | PCI_MSIX_CTRL_ENABLE) & ~PCI_MSIX_CTRL_MASKALL);
}

void vfio_irq__mask(struct vfio_dev *d, bool masked)
{
	volatile uint32_t *e =
		(volatile uint32_t *)(uintptr_t)(d->bar0 + d->msix_table);

	if (d->intx)
		mask_intx(d, masked);
	else
		e[MSIX_VCTRL / 4] = masked;
}

const char *vfio_irq__name(const struct vfio_dev *d)
{
	static char buf[24];

	if (!d->intx)
		return "msix";
	serial__snprintf(buf, sizeof(buf), "intx gsi %u", d->gsi);
	return buf;
}

int vfio_irq__setup(struct vfio_dev *d, const char *tag, uint32_t apic_id,
		    bool intx, char *route, size_t size)
{
	uint32_t vector = IRQ_VECTOR_BASE + d->index;

	if (!intx) {
		program_msix(d, apic_id, vector);
		serial__snprintf(route, size, "MSI-X vector 0");
		return 0;
	}
	if (setup_intx(d, tag, apic_id, vector))
		return -1;
	serial__snprintf(route, size, "INTx pin %c GSI %u",
			 'A' + d->intx_pin - 1, d->gsi);
	return 0;
}
