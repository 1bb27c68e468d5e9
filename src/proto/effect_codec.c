/*
 * effect_codec.c - binary encoding of canonical effects (effect_codec.h).
 *
 * Invariants
 *   (1) A decoded effect has 1 <= argc and every argument lies inside the
 *       decoded bytes: argc is checked against the bytes left before the
 *       args array is grown, so a corrupt count cannot make it allocate.
 *
 * Threads
 *   Any; no shared state.
 */
#include "proto/effect_codec.h"

#include "core/assert.h"
#include "core/mem.h"
#include "core/varint.h"

#include <string.h>

void effect_encode(struct buf *out, int db, int argc, const struct effect_arg *args)
{
    size_t need = 20;
    char *p;
    ASSERT(db >= 0 && argc > 0);
    for (int i = 0; i < argc; i++)
        need += 10 + args[i].len;
    buf_reserve(out, need);
    p = out->data + out->len;
    p += varint_put(p, (uint64_t)db);
    p += varint_put(p, (uint64_t)argc);
    for (int i = 0; i < argc; i++) {
        p += varint_put(p, args[i].len);
        memcpy(p, args[i].p, args[i].len);
        p += args[i].len;
    }
    out->len = (size_t)(p - out->data);
}

void effect_view_free(struct effect_view *v)
{
    mem_free(v->args);
    v->args = NULL;
    v->args_cap = 0;
    v->argc = 0;
}

int64_t effect_decode(const char *p, size_t len, struct effect_view *v, const char **why)
{
    uint64_t db, argc;
    size_t pos = 0, used;
    used = varint_get(p, p + len, &db);
    if (used == 0) {
        *why = "an effect is truncated";
        return -1;
    }
    pos += used;
    if (db > EFFECT_DB_MAX) {
        *why = "an effect's database is out of range";
        return -1;
    }
    used = varint_get(p + pos, p + len, &argc);
    if (used == 0) {
        *why = "an effect is truncated";
        return -1;
    }
    pos += used;
    if (argc == 0) {
        *why = "an effect has no command";
        return -1;
    }
    /* Invariant (1): every element takes at least its length byte. */
    if (argc > len - pos || argc > INT32_MAX) {
        *why = "an effect has more elements than bytes left";
        return -1;
    }
    if (argc > (uint64_t)v->args_cap) {
        v->args = mem_realloc(v->args, (size_t)argc * sizeof(*v->args));
        v->args_cap = (int)argc;
    }
    for (uint64_t i = 0; i < argc; i++) {
        const char *s;
        size_t slen;
        if (!varint_get_bytes(p, len, &pos, &s, &slen)) {
            *why = "an effect is truncated";
            return -1;
        }
        v->args[i] = EFFECT_ARG(s, slen);
    }
    v->db = (int)db;
    v->argc = (int)argc;
    return (int64_t)pos;
}
