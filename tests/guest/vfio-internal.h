/*
 * vfio-internal.h: what mode=vfio (vfio.c) and mode=vfio-bench
 * (vfio-bench.c) share through vfio-dev.c: the ferry-testdev device as
 * the guest drives it (PCI function, BARs, MSI-X vector or INTx line,
 * DMA buffer),
 * its BAR0 register map (docs/vfio-user.md), guest RAM for DMA buffers,
 * and the register, DMA and interrupt helpers. A device that stops
 * answering (a trapped read returns all-ones and the ID register does
 * too) ends the run from inside the helpers with one line:
 *   vfio: device 00:02.0 stopped responding (read 0xffffffff from BAR0+0x68 DMA_STATUS)
 */
#ifndef GUEST_VFIO_INTERNAL_H
#define GUEST_VFIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "layout.h"
#include "pci.h"

struct boot_info;

/* ferry-testdev's identity (docs/vfio-user.md; not registered IDs). */
#define TD_VENDOR_ID 0x4654
#define TD_DEVICE_ID 0x0001
#define TD_ID_VALUE 0x54444556u
#define TD_BAR_REGS 0 /* BAR0: registers, MSI-X table and PBA */
#define TD_BAR_MEM 2  /* BAR2 (+BAR3): device memory, 64-bit prefetchable */
#define TD_BAR0_MIN 4096

/* BAR0 registers: 32-bit; 64-bit values are LO/HI pairs. */
#define TD_REG_ID 0x000
#define TD_REG_VERSION 0x004
#define TD_REG_MEM_SIZE 0x008 /* LO/HI */
#define TD_REG_MIG_STATE 0x010
#define TD_REG_FEATURES 0x014
#define TD_REG_SCRATCH0 0x020
#define TD_NR_SCRATCH 8
#define TD_REG_COUNTER 0x040  /* LO/HI: ms the device spent running */
#define TD_REG_DMA_DEV 0x050  /* LO/HI: offset in device memory */
#define TD_REG_DMA_ADDR 0x058 /* LO/HI: guest address */
#define TD_REG_DMA_LEN 0x060
#define TD_REG_DMA_CTRL 0x064
#define TD_REG_DMA_STATUS 0x068
#define TD_REG_DMA_ERROR 0x06c
#define TD_REG_DMA_COUNT 0x070
#define TD_REG_DIGEST 0x080   /* LO/HI: reading LO computes and latches */
#define TD_REG_IRQ_TRIGGER 0x090

#define TD_DMA_START 0x1
#define TD_DMA_FROM_GUEST 0x2 /* guest -> device memory */
#define TD_DMA_IRQ 0x4        /* interrupt when finished: MSI-X vector 0 or INTx */
#define TD_DMA_DONE 1
#define TD_DMA_FAILED 2
#define TD_DMA_MAX (16 * MiB)

/*
 * Most devices one run drives: one interrupt vector each (layout.h);
 * the last vector is kept for the self-IPI check of the interrupt path.
 */
#define VFIO_MAX_DEVS (IRQ_VECTORS - 1)

struct vfio_dev {
	struct pci_fn fn;
	unsigned int index;        /* 0..: interrupt vector IRQ_VECTOR_BASE + index */
	uint64_t bar0, bar0_size;
	uint64_t bar2, mem_size;
	volatile uint32_t *regs;   /* BAR0, trapped */
	volatile uint64_t *mem;    /* BAR2, mapped directly */
	unsigned int msix_cap;
	unsigned int msix_vectors;
	uint32_t msix_table, msix_pba; /* offsets in BAR0 */
	uint64_t buf;              /* guest RAM DMA buffer (identity mapped) */
	uint64_t buf_size;
	uint32_t irqs;             /* interrupts expected so far on our vector */
	uint32_t version;
	bool intx;                 /* INTx through the IOAPIC instead of MSI-X */
	uint8_t intx_pin;          /* config Interrupt Pin: 1 = INTA */
	uint8_t gsi;               /* config Interrupt Line: the IOAPIC input */
};

/*
 * Find @want devices 4654:0001 on bus 0 (the first @want in slot
 * order), read and size their BARs, map BAR2, enable memory decode and
 * bus mastering, check the ID, VERSION and MEM_SIZE registers, give
 * each a DMA buffer of @buf_size bytes of guest RAM, route the
 * interrupt of device k to IRQ_VECTOR_BASE + k on this CPU's xAPIC, and
 * enable interrupts. The interrupt is MSI-X vector 0, or with @intx the
 * INTx line through the IOAPIC (vfio_irq__setup; devices must not share
 * a GSI). @tag prefixes the messages ("vfio", "vfio-bench").
 * Returns 0, or -1 after printing why.
 */
int vfio_dev__setup_all(const struct boot_info *bi, const char *tag,
			struct vfio_dev *devs, unsigned int want,
			uint64_t buf_size, bool intx);

/* Trapped register read; all-ones with a dead ID register ends the run. */
uint32_t vfio_dev__rd(struct vfio_dev *d, unsigned int reg);
uint64_t vfio_dev__rd64(struct vfio_dev *d, unsigned int reg);

/* Trapped register writes (a 64-bit write is one 8-byte access). */
void vfio_dev__wr(struct vfio_dev *d, unsigned int reg, uint32_t val);
void vfio_dev__wr64(struct vfio_dev *d, unsigned int reg, uint64_t val);

/* Name of register @reg for messages ("DMA_STATUS"), "?" if unknown. */
const char *vfio_dev__reg_name(unsigned int reg);

/*
 * Run one DMA of @len bytes between device memory offset @dev_off and
 * guest address @gpa (@to_dev: guest -> device), asking for the
 * completion interrupt (MSI-X or INTx), and wait up to @timeout_ms for it. *@t0 gets
 * the TSC just before the DMA_CTRL write, *@t1 the TSC recorded by the
 * interrupt handler (either may be NULL). Checks DMA_STATUS (done),
 * DMA_ERROR (0) and that exactly one interrupt arrived. Returns 0, or
 * -1 after printing what went wrong.
 */
int vfio_dev__dma(struct vfio_dev *d, bool to_dev, uint64_t dev_off,
		  uint64_t gpa, uint32_t len, uint64_t timeout_ms,
		  uint64_t *t0, uint64_t *t1);

/*
 * Wait up to @timeout_ms for interrupt number d->irqs + 1 on the
 * device's vector; on success bump d->irqs. More than one new
 * interrupt is an error too. @what names the cause in messages.
 * Returns 0, or -1 after printing why.
 */
int vfio_dev__wait_irq(struct vfio_dev *d, uint64_t timeout_ms,
		       const char *what);

/* --- vfio-irq.c: the device's interrupt --- */
/*
 * Find the MSI-X capability and check its table lies in BAR0 (sets the
 * msix_* fields). Returns 0, or -1 after printing why (@tag prefixes it).
 */
int vfio_irq__find_msix(struct vfio_dev *d, const char *tag);

/*
 * Route @d's interrupt to IRQ_VECTOR_BASE + d->index on @apic_id.
 * Without @intx: MSI-X table entry 0, then MSI-X enabled. With @intx:
 * read the Interrupt Pin and Line (d->intx_pin, d->gsi), program the
 * IOAPIC entry of that GSI (fixed, physical, level-triggered, active
 * high, unmasked), clear INTx Disable, set d->intx; MSI-X stays off.
 * Writes a description ("MSI-X vector 0", "INTx pin A GSI 17") to
 * @route. Returns 0, or -1 after printing why: no pin, or a line the
 * IOAPIC does not have.
 */
int vfio_irq__setup(struct vfio_dev *d, const char *tag, uint32_t apic_id,
		    bool intx, char *route, size_t size);

/*
 * Mask or unmask the device's interrupt (self-tests): MSI-X table entry
 * 0, or the IOAPIC redirection entry of its GSI.
 */
void vfio_irq__mask(struct vfio_dev *d, bool masked);

/* "msix" or "intx gsi N" for messages (a static buffer). */
const char *vfio_irq__name(const struct vfio_dev *d);

/* Interrupts counted on the device's vector so far. */
uint32_t vfio_dev__irq_count(const struct vfio_dev *d);

/* TSC recorded by the handler for the device's latest interrupt. */
uint64_t vfio_dev__irq_tsc(const struct vfio_dev *d);

/*
 * ferry-testdev's digest (BAR0 DIGEST register) recomputed from what
 * the guest knows: the register block (struct td_regs in
 * tools/testdev/testdev-internal.h, 96 bytes) hashed with seed 0x5245 by
 * testdev-hash.c's four-lane xor-multiply-xorshift, mixed with the hash
 * of all device memory: a chain over the fingerprints of its 4 KiB pages
 * (td__mem_hash, seed 0x4d45). Must follow any change there.
 */
struct vfio_hash {
	uint64_t l[4];
	uint64_t len;
};
void vfio_hash__init(struct vfio_hash *h, uint64_t len, uint64_t seed);
/* Feed one 32-byte block (4 words) in order. */
static inline uint64_t vfio_hash__mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL; /* testdev-hash.c TD_HASH_K */
	h ^= h >> 29;
	return h;
}
static inline void vfio_hash__block(struct vfio_hash *h, const uint64_t w[4])
{
	h->l[0] = vfio_hash__mix(h->l[0], w[0]);
	h->l[1] = vfio_hash__mix(h->l[1], w[1]);
	h->l[2] = vfio_hash__mix(h->l[2], w[2]);
	h->l[3] = vfio_hash__mix(h->l[3], w[3]);
}
/* Result for a length that is a multiple of 32 bytes (all blocks fed). */
uint64_t vfio_hash__final(const struct vfio_hash *h);
/* The whole hash of @len bytes at @p (any length). */
uint64_t vfio_hash__buf(const void *p, uint64_t len, uint64_t seed);

/*
 * testdev-hash.c's td__page_fp of one 4 KiB page, fed 8 words at a
 * time: eight lanes of (lane ^ word) * K, folded with vfio_hash__mix.
 */
struct vfio_page_fp {
	uint64_t a[8];
};
static inline void vfio_page_fp__init(struct vfio_page_fp *f)
{
	for (int k = 0; k < 8; k++)
		f->a[k] = 0xbf58476d1ce4e5b9ULL * (uint64_t)(k + 1); /* TD_HASH_K2 */
}
static inline void vfio_page_fp__block(struct vfio_page_fp *f,
				       const uint64_t w[8])
{
	for (int k = 0; k < 8; k++)
		f->a[k] = (f->a[k] ^ w[k]) * 0x9e3779b97f4a7c15ULL; /* TD_HASH_K */
}
static inline uint64_t vfio_page_fp__final(const struct vfio_page_fp *f)
{
	uint64_t h = 0;

	for (int k = 0; k < 8; k++)
		h = vfio_hash__mix(h, f->a[k]);
	return h;
}

/*
 * True if @w at device offset @off is a word of ferry-testdev's own
 * background writer (--dirty-rate): td__mix(generation + 1, off) for a
 * generation below 2^32. td__mix is invertible, so this decodes the
 * generation; random data passes with probability 2^-32.
 */
bool vfio_dev__writer_word(uint64_t off, uint64_t w);

/* The register block the digest covers, as testdev lays it out. */
struct vfio_td_regs {
	uint32_t scratch[TD_NR_SCRATCH];
	uint64_t counter;
	uint64_t dma_dev_off;
	uint64_t dma_addr;
	uint32_t dma_len;
	uint32_t dma_ctrl;
	uint32_t dma_status;
	uint32_t dma_error;
	uint32_t dma_count;
	uint32_t reserved;
	uint64_t dirty_cursor; /* 0: the guest needs testdev without --dirty-rate */
	uint64_t dirty_gen;
};
_Static_assert(sizeof(struct vfio_td_regs) == 96, "testdev td_regs layout");

#define VFIO_DIGEST_SEED_REGS 0x5245
#define VFIO_DIGEST_SEED_MEM 0x4d45

/* Nanoseconds x 100 for @ticks TSC ticks (@per_ms a ms) over @n operations. */
uint64_t vfio__ns_x100(uint64_t ticks, uint64_t n, uint64_t per_ms);

#endif /* GUEST_VFIO_INTERNAL_H */
