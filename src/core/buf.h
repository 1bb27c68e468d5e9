#pragma once
/*
 * buf.h - a binary-safe growable byte buffer.
 *
 * The buffer owns its bytes. data is valid until the next call that grows
 * it (buf_reserve, buf_append*). Loop thread, or any single owner.
 */
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;  /* owned; NULL when cap_bytes is 0 */
    size_t len;  /* bytes in use */
    size_t cap;  /* bytes allocated */
};

void buf_create(struct buf *b);
void buf_destroy(struct buf *b);
/* Make room for `extra` more bytes; aborts on OOM. */
void buf_reserve(struct buf *b, size_t extra);
/* Like buf_reserve but returns false instead of aborting. */
bool buf_try_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t len);
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
