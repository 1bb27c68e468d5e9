/*
 * test_effect_codec.c - unit tests of the WAL body encoding of effects
 * (src/proto/effect_codec.h).
 *
 * Design
 *   Random effects (databases up to EFFECT_DB_MAX, 1..40 elements, lengths
 *   around the one- and two-byte varint boundaries) are encoded back to
 *   back and decoded again: every field must come back. Then every strict
 *   prefix of an encoded effect, and random bytes, must be refused or
 *   decoded strictly inside the bytes given (ASan catches a read past
 *   them), and each named malformation gives its reason.
 *
 * Conventions
 *   Seeded generator, so a failure reproduces. Buffers come from the buf
 *   API (mem.c), which the harness checks for leaks.
 */
#include "harness/test.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/varint.h"
#include "proto/effect_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EFFECTS_PER_ROUND 200
#define ARGS_MAX 40

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A length that often sits on a varint boundary. */
static size_t pick_len(uint64_t *s)
{
    static const size_t edges[] = {0, 1, 127, 128, 129, 16383, 16384, 20000};
    if (rnd(s) % 3 == 0)
        return edges[rnd(s) % (sizeof(edges) / sizeof(edges[0]))];
    return (size_t)(rnd(s) % 40);
}

struct fx {
    int db, argc;
    struct effect_arg args[ARGS_MAX];
};

TEST(effect_codec_round_trip)
{
    static char pool[20000];
    uint64_t seed = 7;
    struct buf b;
    struct effect_view v = {0};
    struct fx *fx = calloc(EFFECTS_PER_ROUND, sizeof(*fx));
    size_t off = 0;
    T_NOT_NULL(fx);
    buf_create(&b);
    for (size_t i = 0; i < sizeof(pool); i++)
        pool[i] = (char)rnd(&seed);
    for (int i = 0; i < EFFECTS_PER_ROUND; i++) {
        uint64_t r = rnd(&seed) % 4;
        fx[i].db = r == 0 ? EFFECT_DB_MAX : r == 1 ? 0 : (int)(rnd(&seed) % 2000);
        fx[i].argc = 1 + (int)(rnd(&seed) % ARGS_MAX);
        for (int a = 0; a < fx[i].argc; a++) {
            size_t len = pick_len(&seed);
            fx[i].args[a] = EFFECT_ARG(pool + rnd(&seed) % (sizeof(pool) - len + 1), len);
        }
        effect_encode(&b, fx[i].db, fx[i].argc, fx[i].args);
    }
    for (int i = 0; i < EFFECTS_PER_ROUND; i++) {
        const char *why = NULL;
        int64_t n = effect_decode(b.data + off, b.len - off, &v, &why);
        T_ASSERT(n > 0);
        T_EQ_INT(v.db, fx[i].db);
        T_EQ_INT(v.argc, fx[i].argc);
        for (int a = 0; a < v.argc; a++)
            T_EQ_MEM(v.args[a].p, v.args[a].len, fx[i].args[a].p, fx[i].args[a].len);
        off += (size_t)n;
    }
    T_EQ_U64(off, b.len);
    effect_view_free(&v);
    buf_destroy(&b);
    free(fx);
}

TEST(effect_codec_every_prefix_is_refused)
{
    struct buf b;
    struct effect_view v = {0};
    char big[300];
    struct effect_arg args[] = {EFFECT_LIT("SET"), EFFECT_LIT("key"), EFFECT_ARG(big, sizeof(big)),
                                EFFECT_LIT("")};
    memset(big, 'x', sizeof(big));
    buf_create(&b);
    effect_encode(&b, 70000, 4, args); /* a three-byte db varint */
    for (size_t len = 0; len < b.len; len++) {
        /* Copied to an exact-size block, so ASan sees a read past it. */
        char *p = mem_alloc(len ? len : 1);
        const char *why = NULL;
        memcpy(p, b.data, len);
        T_EQ_INT(effect_decode(p, len, &v, &why), -1);
        T_NOT_NULL(why);
        mem_free(p);
    }
    effect_view_free(&v);
    buf_destroy(&b);
}

static const char *decode_why(const char *p, size_t len)
{
    struct effect_view v = {0};
    const char *why = "decoded";
    if (effect_decode(p, len, &v, &why) >= 0)
        why = "decoded";
    T_ASSERT(v.args_cap <= (int)len); /* a count is never trusted for memory */
    effect_view_free(&v);
    return why;
}

TEST(effect_codec_malformed_reasons)
{
    char p[16];
    size_t n;
    T_EQ_STR(decode_why("", 0), "an effect is truncated");
    T_EQ_STR(decode_why("\x00", 1), "an effect is truncated");
    T_EQ_STR(decode_why("\x00\x00", 2), "an effect has no command");
    T_EQ_STR(decode_why("\x00\x05\x01x", 4), "an effect has more elements than bytes left");
    T_EQ_STR(decode_why("\x00\x02\x01x\x05" "ab", 7), "an effect is truncated");
    T_EQ_STR(decode_why("\x00\x01\x01x", 4), "decoded");
    n = varint_put(p, (uint64_t)EFFECT_DB_MAX + 1);
    p[n] = 1, p[n + 1] = 1, p[n + 2] = 'x';
    T_EQ_STR(decode_why(p, n + 3), "an effect's database is out of range");
    /* A huge element count is refused before anything is allocated. */
    p[0] = 0;
    n = 1 + varint_put(p + 1, UINT64_MAX / 2);
    T_EQ_STR(decode_why(p, n), "an effect has more elements than bytes left");
}

TEST(effect_codec_random_bytes_stay_in_bounds)
{
    uint64_t seed = 99;
    struct effect_view v = {0};
    int decoded = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rnd(&seed) % 24);
        char *p = mem_alloc(len ? len : 1);
        const char *why;
        int64_t n;
        for (size_t i = 0; i < len; i++) /* small values: plausible counts */
            p[i] = (char)(rnd(&seed) % 5);
        n = effect_decode(p, len, &v, &why);
        if (n > 0) {
            T_ASSERT((size_t)n <= len);
            for (int a = 0; a < v.argc; a++)
                T_ASSERT(v.args[a].p >= p && v.args[a].p + v.args[a].len <= p + len);
            decoded++;
        }
        mem_free(p);
    }
    T_ASSERT(decoded > 100); /* the generator does reach valid effects */
    effect_view_free(&v);
}
