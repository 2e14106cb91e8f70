/*
 * pci-layout.h: where ferry's PCI bus lives in the guest's address
 * spaces, and why. One place for every address, size, GSI and ID the
 * host bridge uses; pci.c, pci-host.c and docs/pci.md follow it.
 *
 * Guest-physical (MMIO) map around the 32-bit hole (vmm/mem.h):
 *   0xC000_0000 - 0xDFFF_FFFF  32-bit BAR window (512 MiB)
 *   0xE000_0000 - 0xE00F_FFFF  ECAM, bus 0 only (1 MiB)
 *   0xE010_0000 - 0xFEBF_FFFF  unused (no PCI decode)
 *   0xFEC0_0000                IOAPIC;  0xFEE0_0000  LAPIC
 *   above RAM, 1 GiB aligned   64-bit BAR window (up to 64 GiB)
 * Port I/O:
 *   0x0CF8 - 0x0CFF            configuration mechanism #1
 *   0xC000 - 0xFFFF            I/O BAR window (16 KiB)
 */
#ifndef DEVICES_PCI_PCI_LAYOUT_H
#define DEVICES_PCI_PCI_LAYOUT_H

#include "vmm/mem.h"

/* Configuration mechanism #1: address register at 0xCF8, data 0xCFC..0xCFF. */
#define PCI_CONF1_PORT 0xcf8
#define PCI_CONF1_LEN 8

/*
 * ECAM: 1 MiB per bus (32 devices x 8 functions x 4 KiB). ferry has
 * one bus, so the window is 1 MiB; it sits right above the 32-bit BAR
 * window so that the window stays one naturally aligned 512 MiB block.
 * (Linux only uses it when told through ACPI MCFG; the MP table cannot
 * describe it, so guests booted with an MP table use CF8/CFC.)
 */
#define PCI_ECAM_BASE 0xE0000000ULL
#define PCI_ECAM_SIZE (1ULL << 20)

/*
 * 32-bit BAR window: the bottom half of the 1 GiB hole. Everything from
 * the ECAM window up is left for fixed platform devices (IOAPIC, LAPIC,
 * possible HPET at 0xFED00000).
 */
#define PCI_MMIO32_BASE MEM_HOLE_START
#define PCI_MMIO32_END PCI_ECAM_BASE

/*
 * 64-bit BAR window: starts at the first 1 GiB boundary at or above
 * max(4 GiB, end of RAM), so it can never overlap RAM, and is 64 GiB
 * long (room for a few large passthrough BARs). The guest must be able
 * to address it: its CPUID phys bits (leaf 0x80000008 EAX[7:0]) must
 * cover the window's end; pci__default_windows() trims the window to
 * the phys bits it is given (128 MiB RAM: 4..68 GiB needs 37 bits).
 */
#define PCI_MMIO64_ALIGN (1ULL << 30)
#define PCI_MMIO64_SIZE (64ULL << 30)

/*
 * I/O BAR window: the top 16 KiB of the 64 KiB port space, far from
 * the ISA ports ferry's legacy devices use (0x60, 0x64, 0xF4, 0x3F8)
 * and from CF8/CFC.
 */
#define PCI_IO_BASE 0xC000ULL
#define PCI_IO_END 0x10000ULL

/*
 * Allocation alignment for memory BARs: at least one page, so that a
 * passthrough BAR can be mapped into the guest with a KVM memslot.
 * I/O BARs are aligned to their size (at most 256 bytes by the spec).
 */
#define PCI_BAR_MEM_MIN_ALIGN 4096ULL

/*
 * INTx: IOAPIC pins 16..23 are free of ISA interrupts on KVM's
 * in-kernel IOAPIC (24 pins). A device in slot S using pin P (INTA=0 ..
 * INTD=3) is wired to GSI 16 + (S + P) % 8: the usual swizzle, so that
 * neighbouring slots spread over different lines. Lines are level
 * triggered and may be shared; the MP table says "PCI: level, active
 * low" (KVM's IOAPIC treats an asserted line as level 1 either way).
 */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_COUNT 8

/* One bus (bus 0), 32 slots, function 0 only. */
#define PCI_MAX_SLOTS 32

/*
 * Host bridge identity at 00:00.0. 1b36:0008 is Red Hat's ID for a
 * generic virtual "PCIe host bridge" (registered for QEMU and listed in
 * QEMU's docs/specs/pci-ids). It names no real chipset, so no guest
 * chipset driver, AGP driver or EDAC quirk binds to it, and guests
 * treat it by class (0x0600) alone. The rejected alternatives were a
 * real Intel host bridge ID, which invites chipset drivers and quirks
 * written for hardware ferry does not emulate, and an unregistered
 * vendor ID. Revision 0; no subsystem IDs.
 */
#define PCI_HOST_VENDOR_ID 0x1b36
#define PCI_HOST_DEVICE_ID 0x0008

#endif /* DEVICES_PCI_PCI_LAYOUT_H */
