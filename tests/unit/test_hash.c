/*
 * test_hash.c - unit tests of hash values (src/db/hash.h): both encodings,
 * the conversion between them, HSCAN, deep copies, memory reporting and the
 * snapshot form (hash_encode / hash_decode), checked against a model.
 *
 * Design
 *   The model (struct model) is an array of (field, value) byte strings in
 *   insertion order: a new field is appended, a replaced value stays in its
 *   slot, a deleted pair closes its gap. That is also the order of a packed
 *   hash, so for OBJ_ENC_PACKED check_hash() compares hash_pairs() with the
 *   model pair by pair, and checks o->len against the packed size the model
 *   predicts (4 + per pair: varint length, field, varint length, value),
 *   which pins down the varint length of every field and value. A table has
 *   no order: both sides are sorted before they are compared.
 *
 *   When a hash becomes a table is predicted from hash.h's contract (more
 *   than hash_max_packed_entries fields, a field or value longer than
 *   hash_max_packed_value, more than HASH_PACKED_BYTES_MAX bytes), and every
 *   operation checks the encoding against the prediction. A table never
 *   goes back.
 *
 *   check_deep() adds what costs O(n^2) or allocates: hash_get() of every
 *   model field and of absent ones, a full hash_scan(), hash_dup() (and that
 *   changing the copy leaves the original alone), an encode / decode round
 *   trip through this file's own parser of the serialized form, and the
 *   memory report against mem_used_bytes().
 *
 *   hash_decode() gets its input in a heap block of exactly the input's
 *   length (decode_exact()), so under ASan a read past the end is reported.
 *
 * Invariants
 *   (1) Between operations the model describes the hash exactly: the same
 *       pairs, and for a packed hash the same order and byte size.
 *   (2) mem_used_bytes() is back at the fixture's baseline at the end of
 *       every test (fixture_end()), so a leak that LeakSanitizer cannot see
 *       (a still reachable block) fails too.
 *   (3) Every loop that should end has an explicit bound (T_ASSERT).
 *
 * Threads
 *   Single-threaded (the test plays the loop thread).
 *
 * Conventions
 *   Model memory comes from malloc(), not mem_alloc(), so mem_used_bytes()
 *   counts only what hash.c allocates. Randomness is a seeded splitmix64,
 *   so a failure reproduces. fixture_begin() resets the thresholds to their
 *   defaults and fixture_end() restores what they were, since tests change
 *   them (in --no-fork mode the globals outlive a test).
 */
#include "harness/test.h"

#include "core/buf.h"
#include "core/limits.h"
#include "core/mem.h"
#include "db/db.h"
#include "db/hash.h"
#include "db/obj.h"
#include "ds/ht.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slack allowed between mem_used_bytes() growth and hash_mem_bytes(): the
 * report counts bucket arrays by their requested size, the allocator may
 * round each of the two up a little (never under ASan). */
#define MEM_SLACK_BYTES_MAX 64
/* Bound on hash_scan() steps in one full scan (invariant (3)). */
#define SCAN_STEPS_MAX (1u << 20)
/* Pairs a scan_while_growing() run adds at most during its scan. */
#define SCAN_GROWTH_MAX 3000

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test__fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
    } while (0)

/* ---- Fixture ----------------------------------------------------------- */

static struct {
    size_t mem_baseline;  /* mem_used_bytes() when the test began */
    size_t saved_entries; /* hash_max_packed_entries before the test */
    size_t saved_value;   /* hash_max_packed_value before the test */
    uint64_t rng;         /* splitmix64 state */
} fx;

static void fixture_begin(uint64_t seed)
{
    db_module_init(0x4a54ULL + seed); /* db_hash() seeds the table encoding */
    fx.rng = seed;
    fx.saved_entries = hash_max_packed_entries;
    fx.saved_value = hash_max_packed_value;
    hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
    hash_max_packed_value = HASH_PACKED_VALUE_DEFAULT;
    fx.mem_baseline = mem_used_bytes();
}

static void fixture_end(void)
{
    T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    hash_max_packed_entries = fx.saved_entries;
    hash_max_packed_value = fx.saved_value;
}

static uint64_t rnd(void)
{
    uint64_t z = (fx.rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

/* Random bytes, a quarter of them NUL. */
static void rnd_bytes(char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = rnd_below(4) == 0 ? '\0' : (char)rnd();
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        abort();
    return p;
}

static char *xdup(const void *p, size_t len)
{
    char *c = xmalloc(len);
    if (len)
        memcpy(c, p, len);
    return c;
}

/* A deterministic byte pattern (with NULs) of len bytes, different per tag. */
static char *pattern(size_t len, unsigned tag)
{
    char *p = xmalloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)((i * 31 + tag * 7) % 251);
    return p;
}

static size_t vint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t vint_put(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        p[n++] = v ? b | 0x80 : b;
    } while (v);
    return n;
}

/* Bytes one pair takes in the packed block and in the serialized form. */
static size_t pair_bytes(size_t flen, size_t vlen)
{
    return vint_len(flen) + flen + vint_len(vlen) + vlen;
}

/* ---- The model --------------------------------------------------------- */

struct mpair {
    char *f;     /* field bytes, malloc()ed */
    size_t flen; /* bytes */
    char *v;     /* value bytes, malloc()ed */
    size_t vlen; /* bytes */
};

struct model {
    struct mpair *p; /* pairs in insertion order */
    size_t n;        /* pairs in use */
    size_t cap;      /* pairs allocated */
};

static void model_destroy(struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->p[i].f);
        free(m->p[i].v);
    }
    free(m->p);
    memset(m, 0, sizeof(*m));
}

static long model_find(const struct model *m, const char *f, size_t flen)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->p[i].flen == flen && (flen == 0 || memcmp(m->p[i].f, f, flen) == 0))
            return (long)i;
    }
    return -1;
}

/* Returns true if f is new (appended), false if its value was replaced. */
static bool model_set(struct model *m, const char *f, size_t flen, const char *v, size_t vlen)
{
    long at = model_find(m, f, flen);
    if (at >= 0) {
        free(m->p[at].v);
        m->p[at].v = xdup(v, vlen);
        m->p[at].vlen = vlen;
        return false;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->p = realloc(m->p, m->cap * sizeof(*m->p));
        if (!m->p)
            abort();
    }
    m->p[m->n++] = (struct mpair){xdup(f, flen), flen, xdup(v, vlen), vlen};
    return true;
}

static bool model_del(struct model *m, const char *f, size_t flen)
{
    long at = model_find(m, f, flen);
    if (at < 0)
        return false;
    free(m->p[at].f);
    free(m->p[at].v);
    memmove(&m->p[at], &m->p[at + 1], (m->n - (size_t)at - 1) * sizeof(*m->p));
    m->n--;
    return true;
}

static void model_copy(struct model *dst, const struct model *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++)
        model_set(dst, src->p[i].f, src->p[i].flen, src->p[i].v, src->p[i].vlen);
}

/* o->len of a packed hash holding exactly the model's pairs. */
static size_t model_packed_bytes(const struct model *m)
{
    size_t bytes = sizeof(uint32_t);
    for (size_t i = 0; i < m->n; i++)
        bytes += pair_bytes(m->p[i].flen, m->p[i].vlen);
    return bytes;
}

/* hash.h's rule: does a packed hash stay packed when f is set to vlen bytes? */
static bool model_stays_packed(const struct model *m, const char *f, size_t flen, size_t vlen)
{
    long at = model_find(m, f, flen);
    size_t bytes = model_packed_bytes(m) + pair_bytes(flen, vlen);
    if (at >= 0)
        bytes -= pair_bytes(m->p[at].flen, m->p[at].vlen);
    return flen <= hash_max_packed_value && vlen <= hash_max_packed_value &&
           (at >= 0 || m->n < hash_max_packed_entries) && bytes <= HASH_PACKED_BYTES_MAX;
}

/* ---- Applying operations to hash and model ----------------------------- */

static void do_set(struct obj **o, struct model *m, const void *f, size_t flen, const void *v,
                   size_t vlen)
{
    bool is_new = model_set(m, f, flen, v, vlen);
    T_EQ_INT(hash_set(o, f, flen, v, vlen), is_new);
}

static void do_del(struct obj **o, struct model *m, const void *f, size_t flen)
{
    bool existed = model_del(m, f, flen);
    T_EQ_INT(hash_del(o, f, flen), existed);
}

/* Set a NUL-terminated field to a NUL-terminated value. */
static void do_set_str(struct obj **o, struct model *m, const char *f, const char *v)
{
    do_set(o, m, f, strlen(f), v, strlen(v));
}

/* Set field "f<i>" to value "v<i>" for i in [from, to). */
static void do_set_range(struct obj **o, struct model *m, int from, int to)
{
    char f[32], v[32];
    for (int i = from; i < to; i++) {
        size_t flen = (size_t)snprintf(f, sizeof(f), "f%d", i);
        size_t vlen = (size_t)snprintf(v, sizeof(v), "v%d", i);
        do_set(o, m, f, flen, v, vlen);
    }
}

/* ---- Checks ------------------------------------------------------------ */

static struct ht *table_of(const struct obj *o)
{
    struct ht *t; /* hash.h: the payload of a table holds a struct ht pointer */
    memcpy(&t, o->data, sizeof(t));
    return t;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t common = alen < blen ? alen : blen;
    int c = common ? memcmp(a, b, common) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int cmp_pair(const void *a, const void *b)
{
    const struct hash_pair *x = a, *y = b;
    return cmp_bytes(x->f, x->flen, y->f, y->flen);
}

static void check_pair(const struct hash_pair *got, const struct hash_pair *want)
{
    T_EQ_MEM(got->f, got->flen, want->f, want->flen);
    T_EQ_MEM(got->v, got->vlen, want->v, want->vlen);
}

/* hash_pairs() against the model: in order if packed, as sets if a table. */
static void check_pairs(const struct obj *o, const struct model *m)
{
    struct hash_pair *got = hash_pairs(o), *want;
    if (m->n == 0) {
        T_NULL(got);
        return;
    }
    T_NOT_NULL(got);
    want = xmalloc(m->n * sizeof(*want));
    for (size_t i = 0; i < m->n; i++)
        want[i] = (struct hash_pair){m->p[i].f, m->p[i].flen, m->p[i].v, m->p[i].vlen};
    if (o->encoding == OBJ_ENC_TABLE) {
        qsort(got, m->n, sizeof(*got), cmp_pair);
        qsort(want, m->n, sizeof(*want), cmp_pair);
    }
    for (size_t i = 0; i < m->n; i++)
        check_pair(&got[i], &want[i]);
    free(want);
    mem_free(got);
}

/* Cheap enough for every operation: type, count, layout size, all pairs. */
static void check_hash(const struct obj *o, const struct model *m)
{
    T_EQ_INT(o->type, OBJ_HASH);
    T_EQ_U64(hash_len(o), m->n);
    if (o->encoding == OBJ_ENC_PACKED) {
        T_EQ_U64(o->len, model_packed_bytes(m)); /* hash.c invariant (1) */
        T_ASSERT(o->len <= HASH_PACKED_BYTES_MAX);
    } else {
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        T_EQ_U64(o->len, sizeof(struct ht *));
        T_ASSERT(debug_check_ht(table_of(o)));
        T_EQ_U64(ht_count(table_of(o)), m->n);
    }
    check_pairs(o, m);
}

static void check_get(const struct obj *o, const char *f, size_t flen, const char *v, size_t vlen)
{
    const char *got = NULL;
    size_t got_len = (size_t)-1;
    T_ASSERT(hash_get(o, f, flen, &got, &got_len));
    T_EQ_MEM(got, got_len, v, vlen);
}

static void check_absent(const struct obj *o, const char *f, size_t flen)
{
    const char *got = NULL;
    size_t got_len = 0;
    T_ASSERT(!hash_get(o, f, flen, &got, &got_len));
}

static void check_gets(const struct obj *o, const struct model *m)
{
    static const char zero = '\0';
    for (size_t i = 0; i < m->n; i++)
        check_get(o, m->p[i].f, m->p[i].flen, m->p[i].v, m->p[i].vlen);
    if (model_find(m, "no such field", 13) < 0)
        check_absent(o, "no such field", 13);
    if (model_find(m, "", 0) < 0)
        check_absent(o, "", 0);
    if (model_find(m, &zero, 1) < 0)
        check_absent(o, &zero, 1);
}

/* What one full scan saw, per model index. */
struct scan_seen {
    const struct model *m; /* borrowed; may grow during the scan */
    unsigned *visits;      /* per model index, visits_cap entries */
    size_t visits_cap;     /* entries in visits */
    size_t unknown;        /* visited pairs whose field is not in the model */
    size_t wrong_value;    /* visited pairs whose value differs from the model */
};

static void scan_visit(const struct hash_pair *p, void *ctx)
{
    struct scan_seen *s = ctx;
    long at = model_find(s->m, p->f, p->flen);
    if (at < 0 || (size_t)at >= s->visits_cap) {
        s->unknown += at < 0;
        return;
    }
    if (cmp_bytes(p->v, p->vlen, s->m->p[at].v, s->m->p[at].vlen) != 0)
        s->wrong_value++;
    s->visits[at]++;
}

static void scan_seen_create(struct scan_seen *s, const struct model *m, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->m = m;
    s->visits_cap = cap;
    s->visits = calloc(cap ? cap : 1, sizeof(*s->visits));
    if (!s->visits)
        abort();
}

/* A full scan of an unchanging hash: each field at least once (packed:
 * exactly once, in one step). */
static void check_scan(const struct obj *o, const struct model *m)
{
    struct scan_seen s;
    uint64_t cursor = 0;
    unsigned steps = 0;
    scan_seen_create(&s, m, m->n);
    do {
        cursor = hash_scan(o, cursor, scan_visit, &s);
        T_ASSERT(++steps < SCAN_STEPS_MAX);
    } while (cursor != 0);
    T_EQ_U64(s.unknown, 0);
    T_EQ_U64(s.wrong_value, 0);
    if (o->encoding == OBJ_ENC_PACKED)
        T_EQ_U64(steps, 1);
    for (size_t i = 0; i < m->n; i++) {
        CHECK(s.visits[i] >= 1, "scan missed model pair %zu of %zu", i, m->n);
        if (o->encoding == OBJ_ENC_PACKED)
            T_EQ_U64(s.visits[i], 1);
    }
    free(s.visits);
}

/* Memory: hash_mem_bytes() against what mem.c counted since base. */
static void check_mem(const struct obj *o, size_t base)
{
    size_t used = mem_used_bytes() - base, reported = hash_mem_bytes(o);
    T_ASSERT(reported >= mem_usable_bytes(o));
    T_ASSERT(used >= reported);
    CHECK(used - reported <= MEM_SLACK_BYTES_MAX, "mem used %zu, reported %zu", used, reported);
    if (o->encoding == OBJ_ENC_PACKED) {
        T_EQ_U64(reported, mem_usable_bytes(o));
        T_EQ_U64(used, reported);
    }
}

/* One varint of the serialized form, or false if truncated or over 64 bits. */
static bool parse_vint(const unsigned char *u, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) { /* at most 10 bytes */
        unsigned char b;
        if (*pos >= len)
            return false;
        b = u[(*pos)++];
        if (shift == 63 && (b & 0x7f) > 1)
            return false; /* bits above 2^64 */
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

/* Parse the serialized form (hash.h) independently of hash.c into a model;
 * returns false unless p[0..len) is exactly a count and that many pairs
 * with distinct fields. The caller destroys *out either way. */
static bool parse_encoding(const char *p, size_t len, struct model *out)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t pos = 0;
    uint64_t n;
    memset(out, 0, sizeof(*out));
    if (!parse_vint(u, len, &pos, &n))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t flen, vlen;
        const char *f, *v;
        if (!parse_vint(u, len, &pos, &flen) || flen > len - pos)
            return false;
        f = p + pos;
        pos += flen;
        if (!parse_vint(u, len, &pos, &vlen) || vlen > len - pos)
            return false;
        v = p + pos;
        pos += vlen;
        if (!model_set(out, f, flen, v, vlen))
            return false; /* a repeated field */
    }
    return pos == len;
}

/* Same pairs, in any order. */
static void check_same_set(const struct model *a, const struct model *b)
{
    T_EQ_U64(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        long at = model_find(b, a->p[i].f, a->p[i].flen);
        CHECK(at >= 0, "pair %zu of %zu missing", i, a->n);
        T_EQ_MEM(a->p[i].v, a->p[i].vlen, b->p[at].v, b->p[at].vlen);
    }
}

/* hash_decode() of a copy of p[0..len) in a block of exactly len bytes. */
static struct obj *decode_exact(const void *p, size_t len)
{
    char *copy = malloc(len);
    struct obj *o;
    if (!copy)
        copy = xmalloc(1);
    if (len)
        memcpy(copy, p, len);
    o = hash_decode(copy, len);
    free(copy);
    return o;
}

/* The encoding a decoder must produce for model m under the thresholds. */
static int expected_decoded_encoding(const struct model *m)
{
    bool packed = m->n <= hash_max_packed_entries && model_packed_bytes(m) <= HASH_PACKED_BYTES_MAX;
    for (size_t i = 0; i < m->n && packed; i++)
        packed = m->p[i].flen <= hash_max_packed_value && m->p[i].vlen <= hash_max_packed_value;
    return packed ? OBJ_ENC_PACKED : OBJ_ENC_TABLE;
}

/* Encode o (described by m), check the bytes, decode them, check the copy. */
static void check_roundtrip(const struct obj *o, const struct model *m)
{
    struct buf b;
    struct model parsed;
    struct obj *d;
    size_t bytes = vint_len(m->n);
    buf_create(&b);
    hash_encode(o, &b);
    for (size_t i = 0; i < m->n; i++)
        bytes += pair_bytes(m->p[i].flen, m->p[i].vlen);
    T_EQ_U64(b.len, bytes);
    T_ASSERT(parse_encoding(b.data, b.len, &parsed));
    check_same_set(&parsed, m);
    if (o->encoding == OBJ_ENC_PACKED) /* the serialized form keeps a packed order */
        for (size_t i = 0; i < m->n; i++)
            T_EQ_MEM(parsed.p[i].f, parsed.p[i].flen, m->p[i].f, m->p[i].flen);
    d = decode_exact(b.data, b.len);
    buf_destroy(&b);
    if (m->n == 0) {
        T_NULL(d); /* a zero count is malformed: empty hashes are never stored */
    } else {
        T_NOT_NULL(d);
        T_EQ_INT(d->encoding, expected_decoded_encoding(&parsed));
        check_hash(d, &parsed); /* in the serialized order if packed */
        check_gets(d, &parsed);
        hash_free(d);
    }
    model_destroy(&parsed);
}

/* A copy equals the original, and changing either leaves the other alone. */
static void check_dup(struct obj **op, const struct model *m)
{
    struct model mc;
    struct obj *o = *op, *d = hash_dup(o);
    T_EQ_INT(d->encoding, o->encoding);
    T_EQ_U64(d->lru, o->lru);
    check_hash(d, m);
    model_copy(&mc, m);
    do_set_str(&d, &mc, "only in the copy", "x");
    if (mc.n > 1) {
        char *f = xdup(mc.p[0].f, mc.p[0].flen);
        size_t flen = mc.p[0].flen;
        do_set(&d, &mc, f, flen, "changed in the copy", 19);
        free(f);
        flen = mc.p[mc.n - 2].flen;
        f = xdup(mc.p[mc.n - 2].f, flen);
        do_del(&d, &mc, f, flen);
        free(f);
    }
    check_hash(o, m);
    check_gets(o, m);
    check_hash(d, &mc);
    check_gets(d, &mc);
    if (m->n > 0 && m->p[0].vlen > 0) { /* and the other way round */
        char *f = xdup(m->p[0].f, m->p[0].flen), *v = xdup(m->p[0].v, m->p[0].vlen);
        size_t flen = m->p[0].flen;
        struct model mo;
        model_copy(&mo, m);
        v[0] ^= 1; /* the same length: the original keeps its encoding */
        do_set(op, &mo, f, flen, v, m->p[0].vlen);
        free(v);
        check_hash(d, &mc);
        do_set(op, &mo, f, flen, m->p[0].v, m->p[0].vlen); /* put it back */
        check_hash(*op, m);
        model_destroy(&mo);
        free(f);
    }
    hash_free(d);
    model_destroy(&mc);
}

/* Everything; base is mem_used_bytes() from before *op was created. */
static void check_deep(struct obj **op, const struct model *m, size_t base)
{
    check_hash(*op, m);
    check_gets(*op, m);
    check_scan(*op, m);
    check_mem(*op, base);
    check_roundtrip(*op, m);
    check_dup(op, m); /* may move *op (it changes the original and back) */
    check_mem(*op, base);
}

/* ---- Basic operations -------------------------------------------------- */

TEST(hash_new_is_empty_and_packed)
{
    struct model m = {0};
    struct buf b;
    struct obj *o, *d;
    fixture_begin(1);
    o = hash_new();
    T_EQ_INT(o->type, OBJ_HASH);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    T_EQ_U64(o->len, sizeof(uint32_t));
    T_EQ_U64(hash_len(o), 0);
    T_ASSERT(!hash_del(&o, "a", 1));
    T_EQ_U64(mem_used_bytes() - fx.mem_baseline, hash_mem_bytes(o));
    check_deep(&o, &m, fx.mem_baseline);
    T_EQ_U64(hash_scan(o, 0, scan_visit, NULL), 0); /* visits nothing */
    buf_create(&b);
    hash_encode(o, &b);
    T_EQ_MEM(b.data, b.len, "\0", 1);
    buf_destroy(&b);
    d = hash_dup(o);
    T_EQ_U64(hash_len(d), 0);
    T_EQ_INT(d->encoding, OBJ_ENC_PACKED);
    hash_free(d);
    hash_free(o);
    fixture_end();
}

/* A hash of n pairs "f<i>" -> "v<i>"; table_from_start makes it a table
 * whatever n (also 0). */
static struct obj *build(struct model *m, int n, bool table_from_start)
{
    struct obj *o = hash_new();
    size_t saved = hash_max_packed_entries;
    memset(m, 0, sizeof(*m));
    if (table_from_start)
        hash_max_packed_entries = 0;
    do_set_range(&o, m, 0, n);
    if (table_from_start && n == 0) { /* an empty table */
        do_set_str(&o, m, "gone", "");
        do_del(&o, m, "gone", 4);
    }
    hash_max_packed_entries = saved;
    T_EQ_INT(o->encoding, table_from_start || (size_t)n > hash_max_packed_entries ? OBJ_ENC_TABLE
                                                                                  : OBJ_ENC_PACKED);
    check_hash(o, m);
    return o;
}

TEST(hash_set_get_replace_both_encodings)
{
    static const char *const values[] = {"short", "a much longer value than before", "",
                                         "x",     "a much longer value than before", "mid"};
    fixture_begin(2);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = build(&m, 5, table);
        for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
            for (int i = 0; i < 5; i++) { /* replace each position in turn */
                char f[32];
                snprintf(f, sizeof(f), "f%d", i);
                do_set_str(&o, &m, f, values[k]);
                T_EQ_INT(o->encoding, table ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
                check_hash(o, &m);
                check_gets(o, &m);
            }
        }
        T_EQ_U64(hash_len(o), 5); /* replacing never adds */
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(hash_del_first_middle_last_all)
{
    fixture_begin(3);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = build(&m, 7, table);
        do_del(&o, &m, "f0", 2); /* first */
        check_hash(o, &m);
        do_del(&o, &m, "f3", 2); /* middle */
        check_hash(o, &m);
        do_del(&o, &m, "f6", 2); /* last */
        check_hash(o, &m);
        do_del(&o, &m, "f6", 2); /* again: absent */
        do_del(&o, &m, "f", 1);  /* a prefix of present fields */
        do_del(&o, &m, "f10", 3);
        check_deep(&o, &m, fx.mem_baseline);
        while (m.n > 0) {
            char *f = xdup(m.p[m.n / 2].f, m.p[m.n / 2].flen);
            do_del(&o, &m, f, m.p[m.n / 2].flen);
            free(f);
            check_hash(o, &m);
            check_gets(o, &m);
        }
        T_EQ_U64(hash_len(o), 0);
        T_EQ_INT(o->encoding, table ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
        if (!table)
            T_EQ_U64(o->len, sizeof(uint32_t));
        check_deep(&o, &m, fx.mem_baseline);
        do_set_range(&o, &m, 20, 23); /* usable again after emptying */
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(hash_binary_fields_and_empty_strings)
{
    static const struct {
        const char *f;
        size_t flen;
        const char *v;
        size_t vlen;
    } pairs[] = {
        {"a", 1, "1", 1},   {"a\0", 2, "2\0", 2},       {"a\0b", 3, "\0\0\0", 3},
        {"a\0c", 3, "", 0}, {"", 0, "empty field", 11}, {"\0", 1, "\0", 1},
        {"\0\0", 2, "", 0}, {"b", 1, "x\0y", 3},
    };
    const size_t count = sizeof(pairs) / sizeof(pairs[0]);
    fixture_begin(4);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = build(&m, 0, false);
        if (table)
            hash_max_packed_entries = 0;
        for (size_t i = 0; i < count; i++) {
            do_set(&o, &m, pairs[i].f, pairs[i].flen, pairs[i].v, pairs[i].vlen);
            check_hash(o, &m);
            check_gets(o, &m);
        }
        T_EQ_INT(o->encoding, table ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
        check_deep(&o, &m, fx.mem_baseline);
        do_set(&o, &m, "", 0, "", 0); /* empty field, now empty value */
        do_set(&o, &m, "a\0", 2, "", 0);
        do_del(&o, &m, "a\0b", 3);
        check_deep(&o, &m, fx.mem_baseline);
        do_del(&o, &m, "", 0);
        check_absent(o, "", 0);
        check_deep(&o, &m, fx.mem_baseline);
        hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* Field and value lengths around the varint boundaries (1, 2, 3 bytes). */
static const size_t long_lens[] = {0,   1,     126,   127,   128,   129,
                                   255, 16382, 16383, 16384, 16385, 70000};
#define LONG_LENS_COUNT (sizeof(long_lens) / sizeof(long_lens[0]))

/* Values of every length under one field each, then replacements that
 * cross the boundaries both ways, then the same lengths as fields. */
static void long_lengths_round(struct obj **o, struct model *m)
{
    char f[32];
    for (size_t i = 0; i < LONG_LENS_COUNT; i++) {
        char *v = pattern(long_lens[i], (unsigned)i);
        snprintf(f, sizeof(f), "len%zu", i);
        do_set(o, m, f, strlen(f), v, long_lens[i]);
        check_hash(*o, m);
        free(v);
    }
    for (size_t i = 0; i < LONG_LENS_COUNT; i++) {
        size_t j = LONG_LENS_COUNT - 1 - i; /* longest gets shortest and back */
        char *v = pattern(long_lens[j], 100 + (unsigned)j);
        snprintf(f, sizeof(f), "len%zu", i);
        do_set(o, m, f, strlen(f), v, long_lens[j]);
        check_hash(*o, m);
        free(v);
    }
    for (size_t i = 0; i < LONG_LENS_COUNT; i++) {
        char *lf = pattern(long_lens[i], 200 + (unsigned)i);
        char *v = pattern(long_lens[LONG_LENS_COUNT - 1 - i], 300);
        do_set(o, m, lf, long_lens[i], v, long_lens[LONG_LENS_COUNT - 1 - i]);
        check_hash(*o, m);
        check_get(*o, lf, long_lens[i], v, long_lens[LONG_LENS_COUNT - 1 - i]);
        free(lf);
        free(v);
    }
}

TEST(hash_long_fields_and_values_varint_boundaries)
{
    fixture_begin(5);
    for (int table = 0; table < 2; table++) {
        struct model m = {0};
        struct obj *o = hash_new();
        /* Packed: every length fits; table: the defaults convert at 65. */
        hash_max_packed_value = table ? HASH_PACKED_VALUE_DEFAULT : 100000;
        long_lengths_round(&o, &m);
        T_EQ_INT(o->encoding, table ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
        check_deep(&o, &m, fx.mem_baseline);
        for (size_t i = 0; i < LONG_LENS_COUNT; i += 2) { /* delete half, check the rest */
            char *lf = pattern(long_lens[i], 200 + (unsigned)i);
            do_del(&o, &m, lf, long_lens[i]);
            check_hash(o, &m);
            free(lf);
        }
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* ---- Conversion -------------------------------------------------------- */

TEST(hash_converts_above_max_entries)
{
    static const size_t limits[] = {HASH_PACKED_ENTRIES_DEFAULT, 1, 3};
    fixture_begin(6);
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        struct model m = {0};
        struct obj *o = hash_new();
        hash_max_packed_entries = limits[k];
        do_set_range(&o, &m, 0, (int)limits[k]);
        T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
        do_set_str(&o, &m, "f0", "replaced at the limit"); /* not a new field */
        T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
        check_deep(&o, &m, fx.mem_baseline);
        do_set_range(&o, &m, (int)limits[k], (int)limits[k] + 1);
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* A field, or a value, of max+1 bytes converts; max bytes do not. */
static void convert_by_length(bool by_field, bool replace)
{
    size_t max = hash_max_packed_value;
    char *at_max = pattern(max, 1), *over = pattern(max + 1, 2);
    struct model m = {0};
    struct obj *o = hash_new();
    do_set(&o, &m, "x", 1, "", 0); /* pairs within any limit >= 1 */
    do_set(&o, &m, "y", 1, "1", 1);
    do_set(&o, &m, "z", 1, "", 0);
    if (by_field)
        do_set(&o, &m, at_max, max, "v", 1);
    else
        do_set(&o, &m, "y", 1, at_max, max);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    check_hash(o, &m);
    if (by_field)
        do_set(&o, &m, over, max + 1, "v", 1);
    else if (replace)
        do_set(&o, &m, "z", 1, over, max + 1); /* an existing field gets a long value */
    else
        do_set(&o, &m, "new", 3, over, max + 1);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);
    free(at_max);
    free(over);
}

TEST(hash_converts_on_long_field_or_value)
{
    static const size_t limits[] = {HASH_PACKED_VALUE_DEFAULT, 1, 200};
    fixture_begin(7);
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        hash_max_packed_value = limits[k];
        convert_by_length(true, false);
        convert_by_length(false, false);
        convert_by_length(false, true);
    }
    fixture_end();
}

TEST(hash_converts_above_packed_bytes_max)
{
    /* One pair "a" -> v with a 3-byte varint length: 4 + 1 + 1 + 3 + vlen bytes. */
    const size_t fill = HASH_PACKED_BYTES_MAX - 9;
    char *v = pattern(fill + 1, 3);
    fixture_begin(8);
    hash_max_packed_value = HASH_PACKED_BYTES_MAX;
    hash_max_packed_entries = 1000000;
    for (int over = 0; over < 2; over++) {
        struct model m = {0};
        struct obj *o = hash_new();
        do_set(&o, &m, "a", 1, v, fill + (size_t)over);
        T_EQ_INT(o->encoding, over ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
        check_hash(o, &m);
        if (!over) {
            T_EQ_U64(o->len, HASH_PACKED_BYTES_MAX); /* exactly full is still packed */
            do_set(&o, &m, "", 0, "", 0);            /* 2 more bytes are too many */
            T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        }
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    { /* Many small pairs reach the limit too. */
        struct model m = {0};
        struct obj *o = hash_new();
        char *chunk = pattern(60000, 4);
        for (int i = 0; o->encoding == OBJ_ENC_PACKED; i++) {
            char f[32];
            bool stays;
            T_ASSERT(i < 100);
            snprintf(f, sizeof(f), "c%d", i);
            stays = model_stays_packed(&m, f, strlen(f), 60000);
            do_set(&o, &m, f, strlen(f), chunk, 60000);
            T_EQ_INT(o->encoding, stays ? OBJ_ENC_PACKED : OBJ_ENC_TABLE);
        }
        T_ASSERT(m.n > 10); /* the bytes converted it, not the entries */
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
        free(chunk);
    }
    free(v);
    fixture_end();
}

TEST(hash_never_converts_back)
{
    struct model m = {0};
    struct obj *o;
    fixture_begin(9);
    o = hash_new();
    hash_max_packed_entries = 4;
    do_set_range(&o, &m, 0, 5);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    do_set_range(&o, &m, 0, 0);
    for (int i = 0; i < 5; i++) {
        char f[32];
        snprintf(f, sizeof(f), "f%d", i);
        do_del(&o, &m, f, strlen(f));
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE); /* also with 0..4 pairs left */
        check_hash(o, &m);
    }
    hash_max_packed_entries = 1000;
    hash_max_packed_value = 1000;
    do_set_str(&o, &m, "small", "again");
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(hash_threshold_zero)
{
    struct model m = {0};
    struct obj *o;
    fixture_begin(10);
    hash_max_packed_entries = 0; /* the first field converts */
    o = hash_new();
    do_set(&o, &m, "", 0, "", 0);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);

    hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
    hash_max_packed_value = 0; /* only empty fields and values stay packed */
    o = hash_new();
    do_set(&o, &m, "", 0, "", 0);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    check_deep(&o, &m, fx.mem_baseline);
    do_set(&o, &m, "", 0, "x", 1);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);

    o = hash_new();
    do_set(&o, &m, "y", 1, "", 0);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(hash_changes_keep_lru)
{
    struct model m = {0};
    struct obj *o, *d;
    fixture_begin(11);
    o = hash_new();
    o->lru = 12345;
    do_set_range(&o, &m, 0, 3); /* packed rebuilds */
    T_EQ_U64(o->lru, 12345);
    do_del(&o, &m, "f1", 2);
    T_EQ_U64(o->lru, 12345);
    d = hash_dup(o);
    T_EQ_U64(d->lru, 12345);
    hash_free(d);
    hash_max_packed_entries = 2;
    do_set_range(&o, &m, 3, 5); /* conversion */
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    T_EQ_U64(o->lru, 12345);
    d = hash_dup(o);
    T_EQ_U64(d->lru, 12345);
    hash_free(d);
    check_deep(&o, &m, fx.mem_baseline);
    hash_free(o);
    model_destroy(&m);
    fixture_end();
}

/* ---- Scan -------------------------------------------------------------- */

TEST(hash_scan_visits_every_field)
{
    static const int sizes[] = {1, 2, 5, 64, 128, 129, 1000};
    fixture_begin(12);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct model m;
        struct obj *o = build(&m, sizes[k], false);
        for (int table = 0; table < 2; table++) {
            check_scan(o, &m); /* packed: one step, each exactly once */
            if (o->encoding == OBJ_ENC_TABLE)
                break;
            hash_free(o);
            model_destroy(&m);
            o = build(&m, sizes[k], true);
        }
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* Scan a table of `start` pairs, inserting `grow_per_step` pairs (and deleting
 * one of the new ones) after each step; every original pair must be seen. */
static void scan_while_growing(int start, int grow_per_step, bool mid_rehash_start)
{
    struct model m;
    struct scan_seen s;
    struct obj *o = build(&m, start, true);
    uint64_t cursor = 0;
    int next = start, steps = 0, rehashing_steps = 0;
    if (mid_rehash_start) { /* grow until a rehash is in progress */
        for (int i = 0; i < 100000 && !ht_is_rehashing(table_of(o)); i++) {
            do_set_range(&o, &m, next, next + 1);
            next++;
        }
        T_ASSERT(ht_is_rehashing(table_of(o)));
    }
    scan_seen_create(&s, &m, (size_t)next);
    do {
        char f[32];
        rehashing_steps += ht_is_rehashing(table_of(o));
        cursor = hash_scan(o, cursor, scan_visit, &s);
        T_ASSERT(++steps < (int)SCAN_STEPS_MAX);
        if (next - start > SCAN_GROWTH_MAX)
            continue; /* grown enough; keeps the O(n) model lookups cheap */
        do_set_range(&o, &m, next, next + grow_per_step);
        snprintf(f, sizeof(f), "f%d", next + grow_per_step / 2);
        do_del(&o, &m, f, strlen(f)); /* never one the scan must see */
        next += grow_per_step;
    } while (cursor != 0);
    T_EQ_U64(s.unknown, 0);
    T_EQ_U64(s.wrong_value, 0);
    for (size_t i = 0; i < s.visits_cap; i++)
        CHECK(s.visits[i] >= 1, "pair %zu of %zu not visited (start %d, grow %d)", i, s.visits_cap,
              start, grow_per_step);
    if (mid_rehash_start)
        T_ASSERT(rehashing_steps > 0);
    check_hash(o, &m);
    free(s.visits);
    hash_free(o);
    model_destroy(&m);
}

TEST(hash_scan_table_grows_between_steps)
{
    fixture_begin(13);
    scan_while_growing(1, 1, false);
    scan_while_growing(3, 7, false);
    scan_while_growing(20, 37, false);
    scan_while_growing(200, 3, false);
    scan_while_growing(200, 150, false);
    scan_while_growing(1000, 500, false);
    scan_while_growing(10, 5, true);
    scan_while_growing(300, 64, true);
    fixture_end();
}

/* ---- Dup, memory ------------------------------------------------------- */

TEST(hash_dup_is_deep_both_encodings)
{
    fixture_begin(14);
    for (int n = 0; n < 300; n = n * 3 + 1) {
        for (int table = 0; table < 2; table++) {
            struct model m;
            struct obj *o = build(&m, n, table);
            check_dup(&o, &m);
            check_hash(o, &m);
            hash_free(o);
            model_destroy(&m);
        }
    }
    { /* a table in the middle of a rehash, and an emptied one */
        struct model m;
        struct obj *o = build(&m, 4, true);
        for (int i = 4; i < 10000 && !ht_is_rehashing(table_of(o)); i++)
            do_set_range(&o, &m, i, i + 1);
        T_ASSERT(ht_is_rehashing(table_of(o)));
        check_dup(&o, &m);
        while (m.n > 0) {
            char *f = xdup(m.p[0].f, m.p[0].flen);
            do_del(&o, &m, f, m.p[0].flen);
            free(f);
        }
        check_dup(&o, &m);
        check_deep(&o, &m, fx.mem_baseline);
        hash_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(hash_mem_bytes_tracks_allocations)
{
    fixture_begin(15);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = build(&m, 0, false);
        size_t content = 0;
        if (table)
            hash_max_packed_entries = 0;
        for (int i = 0; i < 300; i++) {
            char *v = pattern((size_t)i % 40, (unsigned)i);
            char f[32];
            snprintf(f, sizeof(f), "field%d", i);
            do_set(&o, &m, f, strlen(f), v, (size_t)i % 40);
            free(v);
            check_mem(o, fx.mem_baseline);
            /* At least the object header and every field and value byte. */
            content += strlen(f) + (size_t)i % 40;
            T_ASSERT(hash_mem_bytes(o) >= sizeof(struct obj) + content);
        }
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        hash_free(o);
        model_destroy(&m);
        T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
        hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
    }
    fixture_end();
}

TEST(hash_obj_layer_dispatch)
{
    struct model m;
    struct obj *o, *d;
    fixture_begin(16);
    o = build(&m, 3, false);
    T_EQ_STR(obj_type_name(o), "hash");
    T_EQ_STR(obj_encoding_name(o), "listpack");
    T_EQ_U64(obj_mem_bytes(o), hash_mem_bytes(o));
    d = obj_dup(o);
    check_hash(d, &m);
    obj_delete(d);
    hash_max_packed_entries = 3;
    do_set_str(&o, &m, "fourth", "converts");
    T_EQ_STR(obj_encoding_name(o), "hashtable");
    T_EQ_U64(obj_mem_bytes(o), hash_mem_bytes(o));
    d = obj_dup(o);
    check_hash(d, &m);
    obj_delete(d);
    obj_delete(o);
    model_destroy(&m);
    fixture_end();
}

/* ---- Serialized form --------------------------------------------------- */

TEST(hash_encode_decode_round_trip)
{
    fixture_begin(17);
    for (int n = 1; n < 400; n = n * 2 + 1) {
        for (int table = 0; table < 2; table++) {
            struct model m;
            struct obj *o;
            char *big = pattern(20000, 5);
            hash_max_packed_value = 20000; /* long lengths stay packed */
            o = build(&m, n, table);
            do_set(&o, &m, "", 0, big, 200);   /* 2-byte length */
            do_set(&o, &m, big, 16384, "", 0); /* 3-byte length field */
            free(big);
            T_EQ_INT(o->encoding,
                     table || m.n > hash_max_packed_entries ? OBJ_ENC_TABLE : OBJ_ENC_PACKED);
            check_roundtrip(o, &m);
            hash_max_packed_value = 1000000; /* decode keeps packing what now fits */
            hash_max_packed_entries = 1000;
            check_roundtrip(o, &m);
            hash_max_packed_entries = 2; /* or converts what no longer fits */
            hash_max_packed_value = 1;
            check_roundtrip(o, &m);
            hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
            hash_max_packed_value = HASH_PACKED_VALUE_DEFAULT;
            hash_free(o);
            model_destroy(&m);
        }
    }
    fixture_end();
}

/* Encode a sample hash (small pairs, a 2-byte length, an empty field). */
static void encode_sample(struct buf *b, int pairs)
{
    struct model m;
    struct obj *o = build(&m, pairs, false);
    char *v = pattern(300, 6);
    do_set(&o, &m, "", 0, v, 300);
    buf_create(b);
    hash_encode(o, b);
    hash_free(o);
    model_destroy(&m);
    free(v);
}

TEST(hash_decode_rejects_truncated_input)
{
    static const size_t entry_limits[] = {HASH_PACKED_ENTRIES_DEFAULT, 2};
    fixture_begin(18);
    for (size_t k = 0; k < 2; k++) {
        struct buf b;
        struct obj *o;
        hash_max_packed_entries = entry_limits[k]; /* decode into packed, then into a table */
        hash_max_packed_value = 1000;
        encode_sample(&b, 5);
        for (size_t cut = 0; cut < b.len; cut++)
            CHECK(decode_exact(b.data, cut) == NULL, "decoded a prefix of %zu of %zu bytes", cut,
                  b.len);
        o = decode_exact(b.data, b.len);
        T_NOT_NULL(o);
        T_EQ_INT(o->encoding, k == 0 ? OBJ_ENC_PACKED : OBJ_ENC_TABLE);
        T_EQ_U64(hash_len(o), 6);
        hash_free(o);
        buf_destroy(&b);
    }
    fixture_end();
}

/* Serialized input built by hand. */
struct enc {
    unsigned char d[512];
    size_t n;
};

static void enc_vint(struct enc *e, uint64_t v)
{
    T_ASSERT(e->n + 10 <= sizeof(e->d));
    e->n += vint_put(e->d + e->n, v);
}

static void enc_raw(struct enc *e, const void *p, size_t len)
{
    T_ASSERT(e->n + len <= sizeof(e->d));
    memcpy(e->d + e->n, p, len);
    e->n += len;
}

static void enc_str(struct enc *e, const char *s)
{
    enc_vint(e, strlen(s));
    enc_raw(e, s, strlen(s));
}

/* n pairs "k<i>" -> "v", and, if dup_at >= 0, pair dup_at repeats field "k0". */
static void enc_pairs(struct enc *e, int n, int dup_at)
{
    e->n = 0;
    enc_vint(e, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        char f[32];
        snprintf(f, sizeof(f), "k%d", i == dup_at ? 0 : i);
        enc_str(e, f);
        enc_str(e, "v");
    }
}

#define EXPECT_REJECTED(e)                                                                         \
    CHECK(decode_exact((e)->d, (e)->n) == NULL, "decoded %zu bad bytes", (e)->n)

TEST(hash_decode_rejects_bad_counts_and_trailing_bytes)
{
    struct enc e;
    struct obj *o;
    fixture_begin(19);
    enc_pairs(&e, 3, -1);
    o = decode_exact(e.d, e.n);
    T_NOT_NULL(o); /* the base case is fine */
    T_EQ_U64(hash_len(o), 3);
    hash_free(o);
    static const uint64_t counts[] = {4, 5, 20, 1000, 1u << 31, (uint64_t)1 << 63, UINT64_MAX};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        enc_pairs(&e, 3, -1);
        memmove(e.d + vint_len(counts[k]), e.d + 1, e.n - 1); /* replace the count */
        e.n = e.n - 1 + vint_put(e.d, counts[k]);
        EXPECT_REJECTED(&e);
    }
    e.n = 0; /* zero count, with and without anything after it */
    enc_vint(&e, 0);
    EXPECT_REJECTED(&e);
    enc_str(&e, "k");
    enc_str(&e, "v");
    EXPECT_REJECTED(&e);
    enc_pairs(&e, 3, -1); /* trailing bytes */
    enc_raw(&e, "x", 1);
    EXPECT_REJECTED(&e);
    enc_pairs(&e, 3, -1);
    enc_raw(&e, "\0", 1);
    EXPECT_REJECTED(&e);
    enc_pairs(&e, 3, -1); /* a whole extra pair beyond the count */
    enc_str(&e, "k9");
    enc_str(&e, "v");
    EXPECT_REJECTED(&e);
    enc_pairs(&e, 1, -1); /* a field without its value */
    e.n -= 2;
    EXPECT_REJECTED(&e);
    fixture_end();
}

TEST(hash_decode_rejects_repeated_field)
{
    fixture_begin(20);
    for (int enc_limit = 0; enc_limit < 3; enc_limit++) {
        struct enc e;
        /* packed throughout; a table from the start; converting in the middle */
        hash_max_packed_entries = enc_limit == 0 ? 100 : enc_limit == 1 ? 0 : 3;
        enc_pairs(&e, 2, 1);
        EXPECT_REJECTED(&e);
        enc_pairs(&e, 8, 7);
        EXPECT_REJECTED(&e);
        enc_pairs(&e, 8, 3);
        EXPECT_REJECTED(&e);
        e.n = 0; /* the same field with the same value */
        enc_vint(&e, 2);
        enc_str(&e, "a");
        enc_str(&e, "1");
        enc_str(&e, "a");
        enc_str(&e, "1");
        EXPECT_REJECTED(&e);
    }
    fixture_end();
}

TEST(hash_decode_rejects_bad_varints)
{
    struct enc e;
    fixture_begin(21);
    for (size_t cont = 10; cont <= 12; cont++) { /* 10+ continuation bytes */
        e.n = 0;
        for (size_t i = 0; i < cont; i++)
            enc_raw(&e, "\x80", 1);
        enc_raw(&e, "\x01", 1);
        enc_str(&e, "k");
        enc_str(&e, "v");
        EXPECT_REJECTED(&e); /* as the count */
        e.n = 0;
        enc_vint(&e, 1);
        for (size_t i = 0; i < cont; i++)
            enc_raw(&e, "\x80", 1);
        enc_raw(&e, "\x01k", 2);
        enc_str(&e, "v");
        EXPECT_REJECTED(&e); /* as a field length */
        e.n = 0;
        enc_vint(&e, 1);
        enc_str(&e, "k");
        for (size_t i = 0; i < cont; i++)
            enc_raw(&e, "\xff", 1);
        EXPECT_REJECTED(&e); /* as a value length, running into the end */
    }
    /* 10 bytes whose last one carries bits above 2^64: the length wraps to
     * 0 (or 1) if the overflow goes unnoticed, and would then "fit". */
    static const unsigned char tops[] = {0x02, 0x03, 0x7e, 0x7f};
    for (size_t k = 0; k < sizeof(tops); k++) {
        e.n = 0;
        enc_vint(&e, 1);
        enc_raw(&e, "\x80\x80\x80\x80\x80\x80\x80\x80\x80", 9);
        enc_raw(&e, &tops[k], 1);
        enc_str(&e, "v");
        CHECK(decode_exact(e.d, e.n) == NULL,
              "decoded a field length varint that overflows 64 bits (last byte 0x%02x)", tops[k]);
    }
    e.n = 0; /* the count overflowing to 1 */
    enc_raw(&e, "\x81\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
    enc_str(&e, "k");
    enc_str(&e, "v");
    CHECK(decode_exact(e.d, e.n) == NULL, "decoded a count varint that overflows 64 bits");
    fixture_end();
}

TEST(hash_decode_rejects_lengths_beyond_buffer)
{
    static const uint64_t lens[] = {2,
                                    3,
                                    100,
                                    127,
                                    128,
                                    16384,
                                    (uint64_t)1 << 32,
                                    ((uint64_t)1 << 32) + 1,
                                    (uint64_t)1 << 63,
                                    UINT64_MAX};
    struct enc e;
    fixture_begin(22);
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        e.n = 0; /* field length past the end */
        enc_vint(&e, 1);
        enc_vint(&e, lens[k]);
        enc_raw(&e, "k", 1);
        EXPECT_REJECTED(&e);
        e.n = 0; /* value length past the end */
        enc_vint(&e, 1);
        enc_str(&e, "k");
        enc_vint(&e, lens[k]);
        enc_raw(&e, "v", 1);
        EXPECT_REJECTED(&e);
        e.n = 0; /* a first pair whose value swallows the second pair */
        enc_vint(&e, 2);
        enc_str(&e, "a");
        enc_vint(&e, lens[k] < 6 ? lens[k] : 6);
        enc_str(&e, "b");
        enc_str(&e, "v");
        EXPECT_REJECTED(&e);
    }
    fixture_end();
}

/* Random corruptions of a valid encoding: each decodes to NULL or to a hash
 * whose own encoding is exactly what the independent parser saw. */
TEST(hash_decode_survives_random_corruption)
{
    fixture_begin(23);
    for (int round = 0; round < 3000; round++) {
        struct buf b;
        struct model parsed;
        unsigned char *p;
        size_t len;
        struct obj *o;
        hash_max_packed_entries = round % 2 ? 2 : HASH_PACKED_ENTRIES_DEFAULT;
        hash_max_packed_value = round % 3 ? 1000 : HASH_PACKED_VALUE_DEFAULT;
        encode_sample(&b, (int)rnd_below(6));
        len = b.len;
        p = xmalloc(len + 4);
        memcpy(p, b.data, len);
        rnd_bytes((char *)p + len, 4);
        buf_destroy(&b);
        for (size_t flips = 1 + rnd_below(3); flips > 0; flips--) {
            size_t at = rnd_below(len);
            if (rnd_below(4) == 0)
                p[at] = (unsigned char)rnd_below(256);
            else
                p[at] ^= (unsigned char)(1u << rnd_below(8));
        }
        if (rnd_below(8) == 0) /* and sometimes cut or extend */
            len = rnd_below(len + 1);
        else if (rnd_below(8) == 0)
            len += 1 + rnd_below(4);
        o = decode_exact(p, len);
        if (parse_encoding((const char *)p, len, &parsed) && parsed.n > 0) {
            T_NOT_NULL(o); /* well-formed by the format's rules */
            check_hash(o, &parsed);
        } else {
            T_NULL(o);
        }
        if (o)
            hash_free(o);
        model_destroy(&parsed);
        free(p);
    }
    fixture_end();
}

/* ---- Randomized model check ------------------------------------------- */

#define FIELD_POOL_COUNT       200
#define FIELD_POOL_LONG_FROM   190 /* pool entries from here on are long fields */
#define RANDOM_OPS_COUNT       6000
#define RANDOM_VALUE_BYTES_MAX 1500

struct field_pool {
    char f[FIELD_POOL_COUNT][100]; /* field bytes */
    size_t flen[FIELD_POOL_COUNT]; /* bytes */
};

static void pool_fill(struct field_pool *pool)
{
    for (int i = 0; i < FIELD_POOL_COUNT; i++) {
        size_t len = i == 0 ? 0 : i < FIELD_POOL_LONG_FROM ? rnd_below(13) : 40 + rnd_below(60);
        rnd_bytes(pool->f[i], len);
        pool->flen[i] = len;
    }
}

static int pool_pick(void)
{
    if (rnd_below(1000) < 3) /* a long field, rarely */
        return FIELD_POOL_LONG_FROM + (int)rnd_below(FIELD_POOL_COUNT - FIELD_POOL_LONG_FROM);
    return (int)rnd_below(FIELD_POOL_LONG_FROM);
}

/* Mostly short values, some up to the threshold, rarely longer than it. */
static size_t value_len_pick(void)
{
    size_t r = rnd_below(1000), maxv = hash_max_packed_value;
    if (r < 900 || maxv <= 16)
        return rnd_below(17);
    if (r < 998)
        return 17 + rnd_below(maxv - 16);
    return maxv + 1 + rnd_below(100);
}

struct random_run {
    struct model m;       /* expected contents */
    struct obj *o;        /* the hash under test */
    bool packed;          /* expected encoding */
    size_t base;          /* mem_used_bytes() before o */
    unsigned conversions; /* packed -> table transitions seen */
    unsigned resets;      /* hashes freed and started again */
    const struct field_pool *pool;
};

/* One random operation; returns true if it converted the hash. */
static bool random_op(struct random_run *r, char *vbuf)
{
    size_t op = rnd_below(100);
    int i = pool_pick();
    const char *f = r->pool->f[i];
    size_t flen = r->pool->flen[i];
    if (op < 30 && r->m.n > 0 && rnd_below(10) < 7) { /* delete a present field */
        size_t at = rnd_below(r->m.n), dflen = r->m.p[at].flen;
        char *df = xdup(r->m.p[at].f, dflen);
        do_del(&r->o, &r->m, df, dflen);
        check_absent(r->o, df, dflen);
        free(df);
    } else if (op < 30) {
        do_del(&r->o, &r->m, f, flen);
    } else if (op < 85) {
        size_t vlen = value_len_pick();
        bool was_packed = r->packed;
        rnd_bytes(vbuf, vlen);
        if (r->packed)
            r->packed = model_stays_packed(&r->m, f, flen, vlen);
        do_set(&r->o, &r->m, f, flen, vbuf, vlen);
        check_get(r->o, f, flen, vbuf, vlen);
        return was_packed && !r->packed;
    } else {
        long at = model_find(&r->m, f, flen);
        if (at >= 0)
            check_get(r->o, f, flen, r->m.p[at].v, r->m.p[at].vlen);
        else
            check_absent(r->o, f, flen);
    }
    return false;
}

static void random_check_pool(const struct random_run *r)
{
    for (int i = 0; i < FIELD_POOL_COUNT; i++) {
        long at = model_find(&r->m, r->pool->f[i], r->pool->flen[i]);
        if (at < 0)
            check_absent(r->o, r->pool->f[i], r->pool->flen[i]);
    }
}

static void random_run(uint64_t seed, size_t max_entries, size_t max_value)
{
    struct field_pool *pool = xmalloc(sizeof(*pool));
    char *vbuf = xmalloc(RANDOM_VALUE_BYTES_MAX);
    struct random_run r = {.pool = pool};
    fx.rng = seed;
    hash_max_packed_entries = max_entries;
    hash_max_packed_value = max_value;
    pool_fill(pool);
    r.base = mem_used_bytes();
    r.o = hash_new();
    r.packed = true;
    for (int op = 0; op < RANDOM_OPS_COUNT; op++) {
        bool converted = random_op(&r, vbuf);
        r.conversions += converted;
        T_EQ_INT(r.o->encoding, r.packed ? OBJ_ENC_PACKED : OBJ_ENC_TABLE);
        check_hash(r.o, &r.m);
        if (converted || op % 97 == 0) {
            check_deep(&r.o, &r.m, r.base);
            random_check_pool(&r);
        }
        if (rnd_below(700) == 0) { /* start again, to convert again */
            check_deep(&r.o, &r.m, r.base);
            hash_free(r.o);
            model_destroy(&r.m);
            T_EQ_U64(mem_used_bytes(), r.base);
            r.o = hash_new();
            r.packed = true;
            r.resets++;
        }
    }
    check_deep(&r.o, &r.m, r.base);
    hash_free(r.o);
    model_destroy(&r.m);
    T_EQ_U64(mem_used_bytes(), r.base);
    fprintf(stderr, "# seed %llu: %u conversions, %u restarts\n", (unsigned long long)seed,
            r.conversions, r.resets);
    if (max_entries > 0)
        T_ASSERT(r.conversions >= 2); /* the run did cross the conversion */
    free(pool);
    free(vbuf);
}

TEST(hash_random_ops_against_model)
{
    fixture_begin(24);
    random_run(1, HASH_PACKED_ENTRIES_DEFAULT, HASH_PACKED_VALUE_DEFAULT);
    random_run(2, 8, 16);
    random_run(3, 0, HASH_PACKED_VALUE_DEFAULT);
    random_run(4, 150, 1000);
    fixture_end();
}
