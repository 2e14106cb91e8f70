/*
 * testdev-regs.c: ferry-testdev's device core: the BAR0 register file
 * (identity, scratch, activity counter, DMA engine registers, digest, IRQ
 * trigger, MSI-X table bytes), PCI config space (with the bits INTx
 * follows), the interrupt choice (INTx or MSI-X), the background activity
 * that runs while the device is in a running state (counter and
 * deterministic rewriting of device memory at --dirty-rate), the digest
 * over all device state, and device reset.
 */
#include "tools/testdev/testdev-internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vmm/compat/vfio-compat.h"
#include "vmm/log.h"
#include "vmm/util.h"

/* Config space offsets (PCI 3.0 type 0 header) and the MSI-X capability. */
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CLASS 0x09
#define CFG_BAR0 0x10
#define CFG_BAR2 0x18
#define CFG_BAR3 0x1c
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d
#define CFG_MSIX 0x40
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_STATUS_INTERRUPT 0x08 /* INTx asserted (status bit 3) */
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_INT_PIN_INTA 1
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_CAP_ID_MSIX 0x11
#define PCI_BAR_MEM64_PREFETCH 0x0c /* type 64-bit (bits 2:1 = 10), prefetchable */
/* Command bits a driver may set: I/O, memory, bus master, INTx disable. */
#define CFG_COMMAND_WMASK 0x0407
/* MSI-X message control: enable (bit 15) and function mask (bit 14). */
#define CFG_MSIX_CTRL_WMASK 0xc000

/* A long pause must not turn into one huge burst of background writes. */
#define TICK_DIRTY_MAX_MS 1000

static uint8_t cfg_wmask[TD_CFG_SIZE];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void mask32(unsigned int off, uint32_t m)
{
	memcpy(&cfg_wmask[off], &m, 4);
}

void td__cfg_init(struct testdev *td)
{
	uint8_t *c = td->cfg;
	uint64_t bar2_mask = ~(td->mem_size - 1);

	memset(c, 0, TD_CFG_SIZE);
	memset(cfg_wmask, 0, sizeof(cfg_wmask));
	put16(c + 0x00, TD_VENDOR_ID);
	put16(c + 0x02, TD_DEVICE_ID);
	put16(c + CFG_STATUS, PCI_STATUS_CAP_LIST);
	c[CFG_REVISION] = 1;
	/* Class 0xff0000: "device does not fit any defined class". */
	c[CFG_CLASS + 2] = 0xff;
	put32(c + CFG_BAR0, 0); /* 32-bit, non-prefetchable memory */
	put32(c + CFG_BAR2, PCI_BAR_MEM64_PREFETCH);
	put16(c + CFG_SUBSYS_VENDOR, TD_VENDOR_ID);
	put16(c + CFG_SUBSYS_VENDOR + 2, TD_DEVICE_ID);
	c[CFG_CAP_PTR] = CFG_MSIX;
	c[CFG_INT_PIN] = td->intx ? PCI_INT_PIN_INTA : 0;
	c[CFG_MSIX] = PCI_CAP_ID_MSIX;
	c[CFG_MSIX + 1] = 0; /* last capability */
	put16(c + CFG_MSIX + 2, TD_MSIX_VECTORS - 1);
	put32(c + CFG_MSIX + 4, TD_MSIX_TABLE_OFF | 0); /* BIR 0 */
	put32(c + CFG_MSIX + 8, TD_MSIX_PBA_OFF | 0);

	put16(&cfg_wmask[CFG_COMMAND], CFG_COMMAND_WMASK);
	mask32(CFG_BAR0, ~(TD_BAR0_SIZE - 1));
	mask32(CFG_BAR2, (uint32_t)bar2_mask & ~0xfu);
	mask32(CFG_BAR3, (uint32_t)(bar2_mask >> 32));
	cfg_wmask[CFG_INT_LINE] = 0xff;
	put16(&cfg_wmask[CFG_MSIX + 2], CFG_MSIX_CTRL_WMASK);
}

int td__cfg_read(struct testdev *td, uint64_t off, void *buf, uint32_t len)
{
	if (off > TD_CFG_SIZE || len > TD_CFG_SIZE - off)
		return -EINVAL;
	memcpy(buf, td->cfg + off, len);
	return 0;
}

int td__cfg_write(struct testdev *td, uint64_t off, const void *buf,
		  uint32_t len)
{
	const uint8_t *v = buf;
	uint32_t i;

	if (off > TD_CFG_SIZE || len > TD_CFG_SIZE - off)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		uint8_t m = cfg_wmask[off + i];

		td->cfg[off + i] = (uint8_t)((td->cfg[off + i] & ~m) | (v[i] & m));
	}
	return 0;
}

bool td__running(const struct testdev *td)
{
	switch (td->mig.state) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_RUNNING_P2P:
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return true;
	default:
		return false;
	}
}

/* Rewrite @bytes (multiple of 8) of device memory from the cursor on. */
static void background_write(struct testdev *td, uint64_t bytes)
{
	struct td_regs *r = &td->regs;

	td__touch(td);
	/* A migrated cursor from a device with another window: clamp it. */
	if (r->dirty_cursor < td->dirty_offset || r->dirty_cursor >= td->mem_size)
		r->dirty_cursor = td->dirty_offset;
	while (bytes) {
		uint64_t n = MIN(bytes, td->mem_size - r->dirty_cursor), i;

		for (i = 0; i < n; i += 8) {
			uint64_t off = r->dirty_cursor + i;
			uint64_t w = td__mix(r->dirty_gen + 1, off);

			memcpy(td->mem + off, &w, 8);
		}
		r->dirty_cursor += n;
		bytes -= n;
		if (r->dirty_cursor >= td->mem_size) {
			r->dirty_cursor = td->dirty_offset;
			r->dirty_gen++;
		}
	}
}

void td__tick(struct testdev *td)
{
	int64_t now = now_ms(), dt = now - td->last_tick_ms;
	uint64_t bytes;

	td->last_tick_ms = now;
	if (dt <= 0 || !td__running(td))
		return;
	td->regs.counter += (uint64_t)dt;
	if (!td->dirty_rate)
		return;
	/* Rate is bytes/s and dt is ms: carry the remainder in byte-ms. */
	td->dirty_carry += td->dirty_rate * (uint64_t)MIN(dt, TICK_DIRTY_MAX_MS);
	bytes = td->dirty_carry / 1000;
	bytes = MIN(bytes, td->mem_size) & ~7ULL;
	td->dirty_carry -= bytes * 1000;
	if (td->dirty_carry > td->dirty_rate * TICK_DIRTY_MAX_MS)
		td->dirty_carry = 0;
	background_write(td, bytes);
}

uint64_t td__digest_cached(struct testdev *td)
{
	uint32_t st = td->mig.state;
	uint64_t d;

	if (td->dcache_valid)
		return td->dcache;
	d = td__digest(td);
	if (st == VFIO_DEVICE_STATE_STOP || st == VFIO_DEVICE_STATE_STOP_COPY ||
	    st == VFIO_DEVICE_STATE_RESUMING) {
		td->dcache = d;
		td->dcache_valid = true;
	}
	return d;
}

uint64_t td__digest_with(const struct testdev *td, uint64_t mem_hash)
{
	/* Seeds only keep the two parts apart. */
	uint64_t h = td__hash(&td->regs, sizeof(td->regs), 0x5245);

	return td__mix(h, mem_hash);
}

uint64_t td__digest(const struct testdev *td)
{
	return td__digest_with(td, td__mem_hash(td->mem, td->mem_size));
}

void td__fire_irq(struct testdev *td, unsigned int vector)
{
	uint64_t one = 1;

	if (vector >= TD_MSIX_VECTORS || td->irq_fds[vector] < 0)
		return;
	if (write(td->irq_fds[vector], &one, sizeof(one)) != sizeof(one))
		log_warn("MSI-X vector %u: eventfd write failed", vector);
}

void td__raise_irq(struct testdev *td, unsigned int vector)
{
	if (td__intx_in_use(td))
		td__intx_raise(td);
	else
		td__fire_irq(td, vector);
}

static uint16_t cfg16(const struct testdev *td, unsigned int off)
{
	uint16_t v;

	memcpy(&v, td->cfg + off, 2);
	return v;
}

bool td__cfg_msix_enabled(const struct testdev *td)
{
	return cfg16(td, CFG_MSIX + 2) & PCI_MSIX_CTRL_ENABLE;
}

bool td__cfg_intx_disabled(const struct testdev *td)
{
	return cfg16(td, CFG_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

void td__cfg_set_intx_status(struct testdev *td, bool on)
{
	uint16_t st = cfg16(td, CFG_STATUS);

	st = on ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT;
	put16(td->cfg + CFG_STATUS, st);
}

static uint32_t reg_read32(struct testdev *td, uint64_t r)
{
	if (r >= TD_REG_SCRATCH0 &&
	    r < TD_REG_SCRATCH0 + 4 * TD_NR_SCRATCH)
		return td->regs.scratch[(r - TD_REG_SCRATCH0) / 4];
	switch (r) {
	case TD_REG_ID: return TD_ID_VALUE;
	case TD_REG_VERSION: return TD_VERSION;
	case TD_REG_MEM_SIZE_LO: return (uint32_t)td->mem_size;
	case TD_REG_MEM_SIZE_HI: return (uint32_t)(td->mem_size >> 32);
	case TD_REG_MIG_STATE: return td->mig.state;
	case TD_REG_FEATURES: return td->precopy ? TD_FEATURE_PRECOPY : 0;
	case TD_REG_COUNTER_LO: return (uint32_t)td->regs.counter;
	case TD_REG_COUNTER_HI: return (uint32_t)(td->regs.counter >> 32);
	case TD_REG_DMA_DEV_LO: return (uint32_t)td->regs.dma_dev_off;
	case TD_REG_DMA_DEV_HI: return (uint32_t)(td->regs.dma_dev_off >> 32);
	case TD_REG_DMA_ADDR_LO: return (uint32_t)td->regs.dma_addr;
	case TD_REG_DMA_ADDR_HI: return (uint32_t)(td->regs.dma_addr >> 32);
	case TD_REG_DMA_LEN: return td->regs.dma_len;
	case TD_REG_DMA_CTRL: return td->regs.dma_ctrl;
	case TD_REG_DMA_STATUS: return td->regs.dma_status;
	case TD_REG_DMA_ERROR: return td->regs.dma_error;
	case TD_REG_DMA_COUNT: return td->regs.dma_count;
	case TD_REG_DIGEST_LO:
		td->digest_latch = td__digest(td);
		return (uint32_t)td->digest_latch;
	case TD_REG_DIGEST_HI: return (uint32_t)(td->digest_latch >> 32);
	default: return 0;
	}
}

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffULL) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | ((uint64_t)v << 32);
}

static void reg_write32(struct testdev *td, uint64_t r, uint32_t v)
{
	struct td_regs *s = &td->regs;

	if (r >= TD_REG_SCRATCH0 &&
	    r < TD_REG_SCRATCH0 + 4 * TD_NR_SCRATCH) {
		s->scratch[(r - TD_REG_SCRATCH0) / 4] = v;
		return;
	}
	switch (r) {
	case TD_REG_DMA_DEV_LO: set_lo(&s->dma_dev_off, v); break;
	case TD_REG_DMA_DEV_HI: set_hi(&s->dma_dev_off, v); break;
	case TD_REG_DMA_ADDR_LO: set_lo(&s->dma_addr, v); break;
	case TD_REG_DMA_ADDR_HI: set_hi(&s->dma_addr, v); break;
	case TD_REG_DMA_LEN: s->dma_len = v; break;
	case TD_REG_DMA_CTRL:
		s->dma_ctrl = v;
		if (v & TD_DMA_CTRL_START)
			td__dma_run(td);
		break;
	case TD_REG_IRQ_TRIGGER: td__raise_irq(td, v); break;
	default: break; /* read-only or unassigned: ignored */
	}
}

int td__bar0_read(struct testdev *td, uint64_t off, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	uint64_t dw;

	if (off > TD_BAR0_SIZE || len > TD_BAR0_SIZE - off)
		return -EINVAL;
	if (off >= TD_MSIX_TABLE_OFF) {
		memcpy(buf, td->msix + (off - TD_MSIX_TABLE_OFF), len);
		return 0;
	}
	if (off + len > TD_MSIX_TABLE_OFF)
		return -EINVAL;
	td__tick(td);
	/* Assemble from the 32-bit registers the range touches. */
	for (dw = off & ~3ULL; dw < off + len; dw += 4) {
		uint32_t v = reg_read32(td, dw);
		uint8_t b[4];
		uint64_t i;

		memcpy(b, &v, 4);
		for (i = 0; i < 4; i++)
			if (dw + i >= off && dw + i < off + len)
				out[dw + i - off] = b[i];
	}
	return 0;
}

int td__bar0_write(struct testdev *td, uint64_t off, const void *buf,
		   uint32_t len)
{
	uint32_t v[2];

	td__touch(td);
	if (off > TD_BAR0_SIZE || len > TD_BAR0_SIZE - off)
		return -EINVAL;
	if (off >= TD_MSIX_TABLE_OFF) {
		memcpy(td->msix + (off - TD_MSIX_TABLE_OFF), buf, len);
		return 0;
	}
	if ((len != 4 && len != 8) || (off & (len - 1)))
		return -EINVAL; /* registers take aligned 32/64-bit writes */
	td__tick(td);
	if (!td__running(td)) {
		log_ratelimited(LOG_LEVEL_WARN,
				"BAR0 write at 0x%llx ignored: device is %s",
				(unsigned long long)off,
				vfio_user__mig_state_name(td->mig.state));
		return 0;
	}
	memcpy(v, buf, len);
	reg_write32(td, off, v[0]);
	if (len == 8)
		reg_write32(td, off + 4, v[1]);
	return 0;
}

void td__regs_power_on(struct testdev *td)
{
	memset(&td->regs, 0, sizeof(td->regs));
	memset(td->msix, 0, sizeof(td->msix));
	td->digest_latch = 0;
	td->dirty_carry = 0;
	td->last_tick_ms = now_ms();
}

void td__device_reset(struct testdev *td)
{
	td__touch(td);
	td__mig_reset(td);
	td__regs_power_on(td);
	td__cfg_init(td);
	td__intx_reset(td);
	log_info("device reset: state RUNNING digest=%016llx",
		 (unsigned long long)td__digest(td));
}
