#pragma once
/*
 * varint.h - LEB128 unsigned varints: 7 bits per byte, low bits first, the
 * top bit set on every byte but the last. Used by packed collections and
 * their snapshot forms, where most lengths fit in one byte.
 *
 * Threads: any.
 */
#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes a varint of v takes (1..10). */
static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Write v at p (room for varint_len(v) bytes); returns the bytes written. */
static inline size_t varint_put(char *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (char)(v ? b | 0x80 : b);
    } while (v);
    return n;
}

/* Read a varint from p[0..end); returns the bytes used, 0 if it is
 * truncated or longer than 10 bytes. */
static inline size_t varint_get(const char *p, const char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        uint8_t b = (uint8_t)p[i];
        if (i == 9 && b > 1)
            return 0; /* the 10th byte holds only bit 63: more would overflow */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* A varint length and that many bytes at p[*pos..len): sets *s, *slen and
 * advances *pos. False if truncated or longer than UINT32_MAX. */
static inline bool varint_get_bytes(const char *p, size_t len, size_t *pos, const char **s,
                                    size_t *slen)
{
    uint64_t l;
    size_t used = varint_get(p + *pos, p + len, &l);
    if (used == 0 || l > len - *pos - used || l > UINT32_MAX)
        return false;
    *s = p + *pos + used;
    *slen = (size_t)l;
    *pos += used + (size_t)l;
    return true;
}

/* Append a varint. */
static inline void varint_append(struct buf *out, uint64_t v)
{
    char tmp[10];
    buf_append(out, tmp, varint_put(tmp, v));
}

/* Append a varint length and the bytes (the snapshot forms' strings). */
static inline void varint_append_bytes(struct buf *out, const char *p, size_t len)
{
    varint_append(out, len);
    buf_append(out, p, len);
}
