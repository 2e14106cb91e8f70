/*
 * pci-regs.h: PCI configuration space register offsets and bits that
 * ferry's PCI emulation uses. The values are the ones the PCI Local Bus
 * and PCI Express specifications define (type 0 header, MSI and MSI-X
 * capabilities); only the names are ferry's.
 */
#ifndef DEVICES_PCI_PCI_REGS_H
#define DEVICES_PCI_PCI_REGS_H

/* Config space sizes: conventional (CF8/CFC) and PCIe extended (ECAM). */
#define PCI_CFG_SIZE 256
#define PCI_CFG_EXT_SIZE 4096

/* Type 0 header. */
#define PCI_VENDOR_ID 0x00 /* 16 bits */
#define PCI_DEVICE_ID 0x02 /* 16 bits */
#define PCI_COMMAND 0x04   /* 16 bits */
#define PCI_STATUS 0x06    /* 16 bits */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09 /* class code: prog-if, subclass, base class */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BIST 0x0f
#define PCI_BAR0 0x10 /* six 32-bit BAR registers: 0x10..0x27 */
#define PCI_BAR_COUNT 6
#define PCI_CARDBUS_CIS 0x28
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d /* 0 none, 1 INTA# .. 4 INTD# */
#define PCI_MIN_GNT 0x3e
#define PCI_MAX_LAT 0x3f
#define PCI_STD_HEADER_END 0x40 /* capabilities live in 0x40..0xff */

/* Command register bits. */
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* Status register bits. */
#define PCI_STATUS_INTERRUPT 0x0008 /* INTx asserted (read-only) */
#define PCI_STATUS_CAP_LIST 0x0010  /* capability list present (RO) */
/*
 * Error bits, all write-1-to-clear: master data parity error (8),
 * signaled target abort (11), received target abort (12), received
 * master abort (13), signaled system error (14), detected parity error
 * (15).
 */
#define PCI_STATUS_W1C_MASK 0xf900

#define PCI_HEADER_TYPE_NORMAL 0x00

/* BAR low bits. */
#define PCI_BAR_SPACE_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8
#define PCI_BAR_MEM_FLAGS_MASK 0xfULL /* bits 3:0 of a memory BAR */
#define PCI_BAR_IO_FLAGS_MASK 0x3ULL  /* bits 1:0 of an I/O BAR */

/* Capability IDs and header layout (ID byte, next-pointer byte). */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_NEXT 1

/* MSI capability. */
#define PCI_MSI_FLAGS 2 /* message control, 16 bits */
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_QMASK 0x000e  /* multiple message capable (log2) */
#define PCI_MSI_FLAGS_QSIZE 0x0070  /* multiple message enable (log2) */
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO 4
#define PCI_MSI_ADDRESS_HI 8        /* 64-bit capable only */
#define PCI_MSI_DATA_32 8
#define PCI_MSI_DATA_64 12
#define PCI_MSI_MASK_32 12
#define PCI_MSI_MASK_64 16
#define PCI_MSI_PENDING_32 16
#define PCI_MSI_PENDING_64 20
#define PCI_MSI_MAX_VECTORS 32

/* MSI-X capability. */
#define PCI_MSIX_FLAGS 2 /* message control, 16 bits */
#define PCI_MSIX_FLAGS_QSIZE 0x07ff /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4 /* table offset | BIR */
#define PCI_MSIX_PBA 8   /* PBA offset | BIR */
#define PCI_MSIX_BIR_MASK 0x7
#define PCI_MSIX_CAP_SIZE 12
#define PCI_MSIX_MAX_VECTORS 2048

/* MSI-X table entry (16 bytes each). */
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_CTRL 12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

/* Class code of a host bridge: base class 06 (bridge), subclass 00. */
#define PCI_CLASS_BRIDGE_HOST 0x060000

#endif /* DEVICES_PCI_PCI_REGS_H */
