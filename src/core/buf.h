#pragma once
/*
 * buf.h - a binary-safe growable byte buffer.
 *
 * The buffer owns its bytes. data is valid until the next call that grows
 * it (buf_reserve, buf_append*). Loop thread, or any single owner.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data;  /* owned; NULL when cap_bytes is 0 */
    size_t len;  /* bytes in use */
    size_t cap;  /* bytes allocated */
};

void buf_create(struct buf *b);
void buf_destroy(struct buf *b);
/* Slow paths of the inline functions below: grow the allocation. */
bool buf_try_grow(struct buf *b, size_t extra);
void buf_grow(struct buf *b, size_t extra);

/* Make room for `extra` more bytes; aborts on OOM. Inline: the hot paths
 * (replies, effects, WAL records) call it for every few bytes. */
static inline void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len < extra)
        buf_grow(b, extra);
}

/* Like buf_reserve but returns false instead of aborting. */
static inline bool buf_try_reserve(struct buf *b, size_t extra)
{
    return b->cap - b->len >= extra || buf_try_grow(b, extra);
}

static inline void buf_append(struct buf *b, const void *p, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, p, len);
    b->len += len;
}
void buf_append_str(struct buf *b, const char *s);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Release memory beyond len when cap is more than twice what is used. */
void buf_shrink(struct buf *b, size_t keep_min);

static inline void buf_clear(struct buf *b)
{
    b->len = 0;
}
