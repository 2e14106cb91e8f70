/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82f63b78, the
 * iSCSI/ext4 checksum) for every part of a snapshot. Uses the SSE4.2
 * crc32 instruction in three interleaved lanes when the CPU has it
 * (~10 GB/s and more), a table implementation otherwise. Also extends a
 * CRC over runs of zero bytes without reading them, which is how the
 * memory image's checksum covers zero pages that are never written.
 */
#ifndef MIGRATION_CRC32C_H
#define MIGRATION_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of the empty message; start value for crc32c__update. */
#define CRC32C_INIT 0u

/*
 * Continue @crc (the result of a previous call, or CRC32C_INIT) over
 * @len bytes at @buf. crc32c__update(0, "123456789", 9) == 0xe3069283.
 * Thread-safe.
 */
uint32_t crc32c__update(uint32_t crc, const void *buf, size_t len);

/*
 * Continue @crc over @len zero bytes without touching memory. Cost is
 * proportional to @len / 4096 (a few table lookups per page).
 */
uint32_t crc32c__zeros(uint32_t crc, uint64_t len);

/* True when the hardware (SSE4.2) path is in use; for tests and logs. */
int crc32c__hw(void);

/* Force the portable table path (tests compare both). 0 = auto. */
void crc32c__force_sw(int force);

#endif /* MIGRATION_CRC32C_H */
