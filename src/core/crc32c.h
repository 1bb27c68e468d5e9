#pragma once
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of WAL records and
 * snapshots. Uses the SSE4.2 crc32 instruction when the CPU has it, a
 * table otherwise; both give the same values. Any thread.
 */
#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) with p[0..len). */
uint32_t crc32c(uint32_t crc, const void *p, size_t len);
