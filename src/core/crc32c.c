/* crc32c.c - CRC32C with the SSE4.2 instruction where available, slicing-by-8 otherwise.
 *
 * The hardware path is compiled with a target attribute rather than -msse4.2 so one
 * binary runs everywhere; the choice is made once, on first use. */
#include "finstream/crc32c.h"

#include <string.h>

#define POLY 0x82f63b78u   /* reflected Castagnoli polynomial */

static uint32_t table[8][256];
static int table_ready;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t fin_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    /* Building the table twice from two threads is harmless: both write the same values. */
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
        table_init();
    const unsigned char *b = p;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        w ^= c;
        c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
            table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
            table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        b += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *b++) & 0xff];
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        c = __builtin_ia32_crc32di(c, w);
        b += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *b++);
    return ~c32;
}
#endif

/* 0: not decided yet, 1: hardware, 2: software. */
static int impl;

static int choose(void)
{
    int v = 2;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2"))
        v = 1;
#endif
    __atomic_store_n(&impl, v, __ATOMIC_RELAXED);
    return v;
}

bool fin_crc32c_hw(void)
{
    int v = __atomic_load_n(&impl, __ATOMIC_RELAXED);
    return (v ? v : choose()) == 1;
}

uint32_t fin_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
    int v = __atomic_load_n(&impl, __ATOMIC_RELAXED);
    if (v == 1 || (v == 0 && choose() == 1))
        return crc32c_hw(crc, p, n);
#endif
    return fin_crc32c_sw(crc, p, n);
}
