/*
 * pci-fixture.h: shared set-up for the PCI unit tests: a real struct bus
 * (vmm/bus.h), bus 0 with the default layout for a guest whose RAM ends
 * at 6 GiB, and a fake interrupt sink that records what the PCI core
 * asked for. Guest accesses go through bus__access exactly as vCPU
 * exits would.
 */
#ifndef TESTS_UNIT_DEVICES_PCI_PCI_FIXTURE_H
#define TESTS_UNIT_DEVICES_PCI_PCI_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/pci/pci-dev.h"
#include "devices/pci/pci-layout.h"
#include "devices/pci/pci-msi.h"
#include "devices/pci/pci-regs.h"
#include "devices/pci/pci.h"
#include "vmm/bus.h"

#define FIX_RAM_END (6ULL << 30)
#define FIX_PHYS_BITS 40
#define FIX_MAX_MSI 64

struct fake_sink {
	int level[64];           /* last level per GSI, -1 never set */
	unsigned int irq_calls;
	unsigned int nr_msi;
	uint64_t msi_addr[FIX_MAX_MSI];
	uint32_t msi_data[FIX_MAX_MSI];
	int fail;                /* returned by the hooks when nonzero */
};

struct fixture {
	struct bus *bus;
	struct pci_bus *pbus;
	struct pci_windows win;
	struct fake_sink sink;
};

static int fake_set_irq(void *opaque, unsigned int gsi, int level)
{
	struct fake_sink *s = opaque;

	assert_true(gsi < 64);
	s->level[gsi] = level;
	s->irq_calls++;
	return s->fail;
}

static int fake_signal_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct fake_sink *s = opaque;

	if (s->nr_msi < FIX_MAX_MSI) {
		s->msi_addr[s->nr_msi] = addr;
		s->msi_data[s->nr_msi] = data;
	}
	s->nr_msi++;
	return s->fail;
}

static const struct pci_irq_ops fake_irq_ops = {
	.set_irq = fake_set_irq,
	.signal_msi = fake_signal_msi,
};

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	unsigned int i;

	assert_non_null(f);
	for (i = 0; i < 64; i++)
		f->sink.level[i] = -1;
	assert_int_equal(bus__create(&f->bus), 0);
	assert_int_equal(pci__default_windows(FIX_RAM_END, FIX_PHYS_BITS,
					      &f->win), 0);
	assert_int_equal(pci__create(f->bus, &f->win, &fake_irq_ops, &f->sink,
				     &f->pbus), 0);
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	pci__destroy(f->pbus);
	bus__destroy(f->bus);
	free(f);
	return 0;
}

/* Raw bus accesses; return bus__access's result. */
static inline int pio(struct fixture *f, uint64_t port, void *data,
		      uint32_t len, bool wr)
{
	return bus__access(f->bus, BUS_PIO, port, data, len, wr);
}

static inline int mmio(struct fixture *f, uint64_t addr, void *data,
		       uint32_t len, bool wr)
{
	return bus__access(f->bus, BUS_MMIO, addr, data, len, wr);
}

static inline uint64_t le_val(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void put_val(uint8_t *p, unsigned int len, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t conf1_addr(unsigned int slot, unsigned int fn,
				  unsigned int reg)
{
	return 0x80000000u | (slot << 11) | (fn << 8) | (reg & 0xfc);
}

/* Mechanism #1 read of @len bytes at @reg of slot/function 0. */
static inline uint32_t conf1_read(struct fixture *f, unsigned int slot,
				  unsigned int reg, unsigned int len)
{
	uint8_t a[4], d[4] = { 0 };

	put_val(a, 4, conf1_addr(slot, 0, reg));
	assert_int_equal(pio(f, PCI_CONF1_PORT, a, 4, true), 0);
	assert_int_equal(pio(f, PCI_CONF1_PORT + 4 + (reg & 3), d, len, false), 0);
	return (uint32_t)le_val(d, len);
}

static inline void conf1_write(struct fixture *f, unsigned int slot,
			       unsigned int reg, unsigned int len, uint32_t v)
{
	uint8_t a[4], d[4];

	put_val(a, 4, conf1_addr(slot, 0, reg));
	put_val(d, len, v);
	assert_int_equal(pio(f, PCI_CONF1_PORT, a, 4, true), 0);
	assert_int_equal(pio(f, PCI_CONF1_PORT + 4 + (reg & 3), d, len, true), 0);
}

static inline uint64_t ecam_addr(struct fixture *f, unsigned int slot,
				 unsigned int fn, unsigned int reg)
{
	return f->win.ecam_base + ((uint64_t)slot << 15) + (fn << 12) + reg;
}

static inline uint64_t ecam_read(struct fixture *f, unsigned int slot,
				 unsigned int reg, unsigned int len)
{
	uint8_t d[8] = { 0 };

	assert_int_equal(mmio(f, ecam_addr(f, slot, 0, reg), d, len, false), 0);
	return le_val(d, len);
}

static inline void ecam_write(struct fixture *f, unsigned int slot,
			      unsigned int reg, unsigned int len, uint64_t v)
{
	uint8_t d[8];

	put_val(d, len, v);
	assert_int_equal(mmio(f, ecam_addr(f, slot, 0, reg), d, len, true), 0);
}

static const struct pci_dev_ident test_ident = {
	.vendor_id = 0x1234,
	.device_id = 0x5678,
	.class_code = 0xff0000,
	.revision = 3,
	.subsys_vendor_id = 0x1234,
	.subsys_id = 0x0001,
	.intx_pin = 1,
};

#endif /* TESTS_UNIT_DEVICES_PCI_PCI_FIXTURE_H */
