/*
 * resp_write.c - reply encoder.
 *
 * Design
 *   Appends directly into the caller's buffer. The common elements
 *   (+OK, :0, :1, $-1, shared headers) are written from constants; numbers
 *   are formatted by put_u64 (no printf or division loop for small values on the hot path).
 *
 * Invariants
 *   (1) Every function appends exactly one complete element or header.
 *
 * Threads
 *   The buffer owner's.
 */
#include "proto/resp_write.h"

#include "core/assert.h"
#include "core/util.h"

#include <string.h>

/* Write the decimal digits of v at p (room for 20); returns how many.
 * Replies write a length or count per element, so small values are the
 * common case and get a branch each instead of a division loop. */
static size_t put_u64(char *p, unsigned long long v)
{
    char tmp[20];
    size_t n = 0;
    if (v < 10) {
        p[0] = (char)('0' + v);
        return 1;
    }
    if (v < 100) {
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return 2;
    }
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* "<prefix><n>\r\n" written straight into b (reserved: 24 bytes). */
static void w_prefixed_num(struct buf *b, char prefix, long long n)
{
    char *p;
    buf_reserve(b, 24);
    p = b->data + b->len;
    *p++ = prefix;
    if (n < 0) {
        *p++ = '-';
        p += put_u64(p, 0 - (unsigned long long)n);
    } else {
        p += put_u64(p, (unsigned long long)n);
    }
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
}

void resp_w_simple(struct buf *b, const char *s, size_t len)
{
    buf_reserve(b, len + 3);
    b->data[b->len++] = '+';
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void resp_w_error(struct buf *b, const char *s, size_t len)
{
    size_t start;
    buf_reserve(b, len + 3);
    b->data[b->len++] = '-';
    start = b->len;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    /* An error is one line: a newline inside would split the reply. */
    for (size_t i = start; i < b->len; i++) {
        if (b->data[i] == '\r' || b->data[i] == '\n')
            b->data[i] = ' ';
    }
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void resp_w_int(struct buf *b, long long v)
{
    if (v == 0 || v == 1) {
        buf_append(b, v ? ":1\r\n" : ":0\r\n", 4);
        return;
    }
    w_prefixed_num(b, ':', v);
}

void resp_w_bulk(struct buf *b, const void *p, size_t len)
{
    char *q;
    buf_reserve(b, len + 26); /* one reservation: "$<len>\r\n", bytes, "\r\n" */
    q = b->data + b->len;
    *q++ = '$';
    q += put_u64(q, len);
    *q++ = '\r';
    *q++ = '\n';
    if (len)
        memcpy(q, p, len);
    q += len;
    *q++ = '\r';
    *q++ = '\n';
    b->len = (size_t)(q - b->data);
}

void resp_w_bulk_ll(struct buf *b, long long v)
{
    char tmp[32];
    int len = util_ll_to_str(tmp, sizeof(tmp), v);
    resp_w_bulk(b, tmp, (size_t)len);
}

void resp_w_null(struct buf *b, int proto)
{
    if (proto == 3)
        buf_append(b, "_\r\n", 3);
    else
        buf_append(b, "$-1\r\n", 5);
}

void resp_w_null_array(struct buf *b, int proto)
{
    if (proto == 3)
        buf_append(b, "_\r\n", 3);
    else
        buf_append(b, "*-1\r\n", 5);
}

void resp_w_array(struct buf *b, long long n)
{
    w_prefixed_num(b, '*', n);
}

void resp_w_map(struct buf *b, int proto, long long n)
{
    if (proto == 3)
        w_prefixed_num(b, '%', n);
    else
        w_prefixed_num(b, '*', n * 2);
}

void resp_w_set(struct buf *b, int proto, long long n)
{
    w_prefixed_num(b, proto == 3 ? '~' : '*', n);
}

void resp_w_push(struct buf *b, int proto, long long n)
{
    w_prefixed_num(b, proto == 3 ? '>' : '*', n);
}

void resp_w_double(struct buf *b, int proto, double d)
{
    char tmp[64];
    int len = util_double_to_str(tmp, sizeof(tmp), d);
    ASSERT(len > 0);
    if (proto != 3) {
        resp_w_bulk(b, tmp, (size_t)len);
        return;
    }
    buf_reserve(b, (size_t)len + 3);
    b->data[b->len++] = ',';
    memcpy(b->data + b->len, tmp, (size_t)len);
    b->len += (size_t)len;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void resp_w_bool(struct buf *b, int proto, bool v)
{
    if (proto == 3)
        buf_append(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        resp_w_int(b, v ? 1 : 0);
}

void resp_w_verbatim(struct buf *b, int proto, const char *p, size_t len)
{
    if (proto != 3) {
        resp_w_bulk(b, p, len);
        return;
    }
    w_prefixed_num(b, '=', (long long)len + 4);
    buf_append(b, "txt:", 4);
    buf_append(b, p, len);
    buf_append(b, "\r\n", 2);
}
