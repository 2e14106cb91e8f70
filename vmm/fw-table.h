/*
 * fw-table.h: byte-level helpers for the firmware tables ferry writes
 * into guest memory (mptable.c, acpi.c): little-endian stores into a
 * table being built, and the 8-bit checksum both specifications use (the
 * byte that makes the covered bytes sum to zero).
 */
#ifndef VMM_FW_TABLE_H
#define VMM_FW_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian stores (x86 guests; the host is x86 too). */
static inline void fw_table__put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void fw_table__put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void fw_table__put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The byte that makes @len bytes at @p (with it in place of 0) sum to 0. */
static inline uint8_t fw_table__checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

#endif /* VMM_FW_TABLE_H */
