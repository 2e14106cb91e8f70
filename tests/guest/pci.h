/*
 * pci.h: the test guest's PCI access: configuration space through
 * configuration mechanism #1 (address at port 0xcf8, data at 0xcfc;
 * the TSS I/O bitmap opens both to CPL3), a scan of bus 0, BAR decoding
 * and sizing, the capability list, and identity mappings for BARs that
 * the firmware (the VMM) placed above the statically mapped 4 GiB. Each
 * configuration access is two port exits (~55 us from CPL3), so callers
 * read what they need once.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* Configuration header offsets and bits (PCI Local Bus 3.0, type 0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CLASS_REVISION 0x08 /* revision in bits 7:0, class code above */
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTI_FN 0x80
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_NR_BARS 6

/* Capability IDs and the MSI-X capability's registers. */
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSIX_CTRL 2         /* message control (16 bits) */
#define PCI_MSIX_CTRL_SIZE 0x07ff /* table size - 1 */
#define PCI_MSIX_CTRL_MASKALL 0x4000
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_MSIX_TABLE 4        /* table offset | BIR */
#define PCI_MSIX_PBA 8          /* PBA offset | BIR */
#define PCI_MSIX_BIR 0x7

/* A vendor ID nothing answers with: an empty slot (master abort). */
#define PCI_VENDOR_NONE 0xffff

/* One function found on bus 0. */
struct pci_fn {
	uint8_t slot, fn;
	uint16_t vendor, device;
	uint8_t revision;
	uint32_t class_code;  /* base class, subclass, prog-if: 24 bits */
	char name[8];         /* "00:02.0" */
};

/* A decoded BAR. */
struct pci_bar {
	uint64_t addr;  /* as assigned by firmware; 0 = unassigned */
	uint64_t size;  /* 0 = not implemented */
	bool io;        /* I/O space (else memory) */
	bool mem64;     /* 64-bit memory BAR (takes the next BAR too) */
	bool prefetch;
};

/* Configuration reads and writes of one function on bus 0. */
uint32_t pci__read32(const struct pci_fn *f, unsigned int off);
uint16_t pci__read16(const struct pci_fn *f, unsigned int off);
uint8_t pci__read8(const struct pci_fn *f, unsigned int off);
void pci__write32(const struct pci_fn *f, unsigned int off, uint32_t val);
void pci__write16(const struct pci_fn *f, unsigned int off, uint16_t val);

/*
 * Scan bus 0 (32 slots; functions 1-7 of multi-function devices) into
 * @out, at most @max entries. Returns how many functions answered.
 */
unsigned int pci__scan(struct pci_fn *out, unsigned int max);

/*
 * Read and size all six BARs of @f into @bars, the way firmware does:
 * memory and I/O decode are switched off while all-ones are written
 * and the size mask read back, then the BARs and the command register
 * are restored. The upper half of a 64-bit BAR reads as not
 * implemented. Returns 0, or -1 after printing why (a 64-bit BAR in
 * slot 5).
 */
int pci__read_bars(const struct pci_fn *f, struct pci_bar bars[PCI_NR_BARS]);

/*
 * Offset of the first capability with @id, or 0. The walk stops after
 * 48 entries and on pointers below 0x40, so a looped list cannot hang.
 */
unsigned int pci__find_cap(const struct pci_fn *f, uint8_t id);

/*
 * Make [addr, addr + size) reachable through the identity map. Below
 * 4 GiB it already is; above, each GiB gets a page directory of 2 MiB
 * pages from @alloc_page (a zeroed-or-not 4 KiB page below 4 GiB, 0
 * when none is left). Up to 512 GiB. Returns 0, or -1 after printing
 * why.
 */
int pci__map_mmio(uint64_t addr, uint64_t size, uint64_t (*alloc_page)(void));

#endif /* GUEST_PCI_H */
