/*
 * buf.c - growable byte buffer.
 *
 * Design
 *   Doubles its capacity when it must grow, so appends are amortized O(1).
 *
 * Invariants
 *   (1) len <= cap; data is NULL only while cap is 0.
 *
 * Threads
 *   Owner only.
 */
#include "core/buf.h"

#include "core/assert.h"
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_create(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_destroy(struct buf *b)
{
    mem_free(b->data);
    buf_create(b);
}

static size_t grown_cap(const struct buf *b, size_t extra)
{
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < (1u << 30) ? cap * 2 : cap + (1u << 30);
    return cap;
}

bool buf_try_grow(struct buf *b, size_t extra)
{
    char *p;
    size_t cap;
    if (b->cap - b->len >= extra)
        return true;
    cap = grown_cap(b, extra);
    p = mem_try_realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_grow(struct buf *b, size_t extra)
{
    if (!buf_try_grow(b, extra))
        PANIC("out of memory growing a buffer by %zu bytes", extra);
}

void buf_append_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[256];

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    ASSERT(n >= 0);
    if ((size_t)n < sizeof(small)) {
        buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(struct buf *b, size_t n)
{
    ASSERT(n <= b->len);
    if (n == b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_shrink(struct buf *b, size_t keep_min)
{
    size_t want = b->len > keep_min ? b->len : keep_min;
    if (b->cap <= keep_min || b->cap <= want * 2)
        return;
    if (want == 0) {
        buf_destroy(b);
        return;
    }
    b->data = mem_realloc(b->data, want);
    b->cap = want;
}
