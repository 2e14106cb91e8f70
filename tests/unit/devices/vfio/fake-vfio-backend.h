/*
 * fake-vfio-backend.h: an in-process struct vfio_backend for the VFIO PCI
 * model's unit tests. It emulates a small PCI device: config space with
 * MSI (optional), MSI-X and a vendor capability, BAR0 4 KiB of trapped
 * registers, BAR2 a memfd that can be mmapped, and it records what the
 * model asked for (SET_IRQS, DMA maps, resets). Setting @fail makes it
 * behave like a backend whose device died.
 */
#ifndef TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_BACKEND_H
#define TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/vfio-backend.h"

#define FAKE_BAR2_SIZE (64 * 1024)
#define FAKE_MAX_DMA 4

/* Layout choices, fixed before fake_be__create. */
struct fake_opts {
	unsigned int msi_count;  /* device MSI vectors (0: MSI cap hidden) */
	unsigned int msix_count; /* device MSI-X vectors (cap has 4) */
	bool msix_in_bar2;       /* table/PBA in BAR2's mmapped page 1 */
	uint8_t header_type;     /* default 0x80: multi-function bit set */
	uint32_t cfg_size;       /* config region size (default 256) */
	unsigned int intx_count; /* INTx (index 0) vectors: 1 backs pin INTA */
};

struct fake_be {
	struct vfio_backend be;
	struct fake_opts o;
	uint8_t cfg[256];
	uint8_t bar0[4096];
	int bar2_fd;
	int *destroyed;         /* incremented by destroy (outlives us) */
	/* Recorded calls. */
	unsigned int set_irqs_calls;
	uint32_t irq_index, irq_flags, irq_count;
	int irq_fds[8];
	/* INTx as the model set it: -1 when none. */
	int intx_trigger, intx_unmask;
	unsigned int intx_enables;
	bool intx_conflict;     /* MSI(-X) enabled while INTx was (VFIO refuses) */
	unsigned int nr_dma, dma_unmaps;
	uint64_t dma_iova[FAKE_MAX_DMA], dma_size[FAKE_MAX_DMA];
	int dma_fd[FAKE_MAX_DMA];
	unsigned int resets;
	unsigned int region_reads, region_writes;
	/* Behaviour. */
	bool fail;              /* next call fails the backend (-EIO) */
	int set_irqs_ret;       /* returned by set_irqs when nonzero */
};

/* Create a fake device; @o NULL means the defaults. Never fails in tests. */
struct fake_be *fake_be__create(const struct fake_opts *o, int *destroyed);

/* Offsets in the fake's config space. */
#define FAKE_CAP_MSI 0x40
#define FAKE_CAP_MSIX 0x50
#define FAKE_CAP_VNDR 0x60

#endif /* TESTS_UNIT_DEVICES_VFIO_FAKE_VFIO_BACKEND_H */
