/*
 * crc32c.c - CRC-32C.
 *
 * Design
 *   Reflected polynomial 0x82F63B78, initial and final xor 0xFFFFFFFF (the
 *   iSCSI/ext4 convention, check value crc32c("123456789") = 0xE3069283).
 *   On x86-64 with SSE4.2 the hardware instruction processes 8 bytes per
 *   step; the choice is made once, by cpuid, at the first call.
 *
 * Threads
 *   Any thread (the table and the choice are set up once, idempotently).
 */
#include "core/crc32c.h"

#include <stdbool.h>
#include <string.h>

static uint32_t table[256];
static int mode; /* 0 = not chosen, 1 = table, 2 = hardware */

static void init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc_table(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
                                                          size_t len)
{
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    crc = (uint32_t)c;
    while (len--)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return crc;
}

static bool have_hw(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#endif

uint32_t crc32c(uint32_t crc, const void *p, size_t len)
{
    if (mode == 0) {
        init_table();
#if defined(__x86_64__)
        mode = have_hw() ? 2 : 1;
#else
        mode = 1;
#endif
    }
    crc = ~crc;
#if defined(__x86_64__)
    if (mode == 2)
        return ~crc_hw(crc, p, len);
#endif
    return ~crc_table(crc, p, len);
}
