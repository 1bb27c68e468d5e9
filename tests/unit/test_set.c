/*
 * test_set.c - unit tests of set values (src/db/set.h): both encodings
 * (intset, hashtable), the conversion between them, the intset's order and
 * boundary values, SSCAN steps, deep copies, memory reporting and the
 * snapshot form (set_encode / set_decode), checked against a model.
 *
 * Design
 *   The model (struct model) is an unordered array of member byte strings
 *   plus the encoding the set must have. When a set becomes a table is
 *   predicted from set.h's contract, independently of set.c: a new set is
 *   an intset iff its first member is a canonical decimal long long and
 *   set_max_intset_entries > 0; an intset converts when a new member is not
 *   such an integer or when it already holds set_max_intset_entries
 *   members; a table never goes back. "Canonical" is decided here by a
 *   strtoll / snprintf round trip (is_int()), not by util_str_to_ll().
 *
 *   check_set() compares set_len(), the encoding, the intset's byte size
 *   (invariant (1) of set.c), set_members() (sorted on both sides; an
 *   intset's own order must be strictly ascending by value) and set_has()
 *   of every member. check_deep() adds what allocates or costs more:
 *   set_has() of absent look-alikes ("01", "+1", "-0", " 1", ...), a full
 *   set_scan(), set_dup() (and that changing either copy leaves the other
 *   alone), an encode / decode round trip through this file's own parser of
 *   the serialized form, and set_mem_bytes() against mem_used_bytes().
 *
 *   set_decode() gets its input in a heap block of exactly the input's
 *   length (decode_exact()), so under ASan a read past the end is reported.
 *   For corrupted input the property is exact: set_decode() returns a set
 *   iff this file's parser accepts the bytes (a count > 0, that many
 *   length-prefixed members, no repeated member, nothing after them), and
 *   then the set holds the parsed members.
 *
 * Invariants
 *   (1) Between operations the model describes the set exactly: the same
 *       members and the same encoding.
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
 *   counts only what set.c allocates. Randomness is a seeded splitmix64, so
 *   a failure reproduces. fixture_begin() resets set_max_intset_entries to
 *   its default and fixture_end() restores what it was (in --no-fork mode
 *   the global outlives a test).
 */
#include "harness/test.h"

#include "core/buf.h"
#include "core/limits.h"
#include "core/mem.h"
#include "db/db.h"
#include "db/obj.h"
#include "db/set.h"
#include "ds/ht.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slack allowed between mem_used_bytes() growth and set_mem_bytes(): the
 * report counts bucket arrays by their requested size, the allocator may
 * round each of the two up a little (never under ASan). */
#define MEM_SLACK_BYTES_MAX 64
/* Bound on set_scan() steps in one full scan (invariant (3)). */
#define SCAN_STEPS_MAX (1u << 20)
/* Longest member the random test builds. */
#define RANDOM_MEMBER_BYTES_MAX 40

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) test__fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)

/* ---- Fixture ----------------------------------------------------------- */

static struct {
    size_t mem_baseline;  /* mem_used_bytes() when the test began */
    size_t saved_entries; /* set_max_intset_entries before the test */
    uint64_t rng;         /* splitmix64 state */
} fx;

static void fixture_begin(uint64_t seed)
{
    db_module_init(0x5e7ULL + seed); /* db_hash() seeds the table encoding */
    fx.rng = seed;
    fx.saved_entries = set_max_intset_entries;
    set_max_intset_entries = SET_INTSET_ENTRIES_DEFAULT;
    fx.mem_baseline = mem_used_bytes();
}

static void fixture_end(void)
{
    T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    set_max_intset_entries = fx.saved_entries;
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

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) abort();
    return p;
}

static char *xdup(const void *p, size_t len)
{
    char *c = xmalloc(len);
    if (len) memcpy(c, p, len);
    return c;
}

/* ---- Integers, decided independently of util.c -------------------------- */

/* True if p[0..len) is exactly what "%lld" prints for some long long. */
static bool is_int(const char *p, size_t len, long long *out)
{
    char s[32], back[32];
    char *end;
    long long v;
    if (len == 0 || len > 20) return false;
    memcpy(s, p, len);
    s[len] = '\0';
    if (strlen(s) != len) return false; /* a NUL inside */
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    snprintf(back, sizeof(back), "%lld", v);
    if (strcmp(back, s) != 0) return false;
    if (out) *out = v;
    return true;
}

/* ---- The model ----------------------------------------------------------- */

struct mmember {
    char *p;    /* malloc()ed bytes */
    size_t len; /* bytes */
};

struct model {
    struct mmember *m; /* members, unordered */
    size_t n;          /* members */
    size_t cap;        /* slots in m */
    bool table;        /* the encoding the set must have */
};

static void model_destroy(struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->m[i].p);
    free(m->m);
    memset(m, 0, sizeof(*m));
}

static long model_find(const struct model *m, const char *p, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->m[i].len == len && (len == 0 || memcmp(m->m[i].p, p, len) == 0)) return (long)i;
    return -1;
}

/* Adds p if new; returns true if it was. */
static bool model_add(struct model *m, const char *p, size_t len)
{
    if (model_find(m, p, len) >= 0) return false;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->m = realloc(m->m, m->cap * sizeof(*m->m));
        if (!m->m) abort();
    }
    m->m[m->n].p = xdup(p, len);
    m->m[m->n].len = len;
    m->n++;
    return true;
}

static bool model_del(struct model *m, const char *p, size_t len)
{
    long at = model_find(m, p, len);
    if (at < 0) return false;
    free(m->m[at].p);
    m->m[at] = m->m[m->n - 1];
    m->n--;
    return true;
}

static void model_copy(struct model *dst, const struct model *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++)
        model_add(dst, src->m[i].p, src->m[i].len);
    dst->table = src->table;
}

static bool model_all_ints(const struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (!is_int(m->m[i].p, m->m[i].len, NULL)) return false;
    return true;
}

/* ---- Operations on a set and its model alike ---------------------------- */

/* set_new_for(first) and the encoding it must pick. */
static struct obj *new_set(struct model *m, const char *first, size_t len)
{
    struct obj *o = set_new_for(first, len);
    memset(m, 0, sizeof(*m));
    m->table = !(set_max_intset_entries > 0 && is_int(first, len, NULL));
    T_EQ_INT(o->type, OBJ_SET);
    T_EQ_INT(o->encoding, m->table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
    T_EQ_U64(set_len(o), 0);
    return o;
}

static void do_add(struct obj **o, struct model *m, const void *p, size_t len)
{
    bool is_new = model_find(m, p, len) < 0;
    if (is_new && !m->table && (!is_int(p, len, NULL) || m->n >= set_max_intset_entries))
        m->table = true;
    if (is_new) model_add(m, p, len);
    CHECK(set_add(o, p, len) == is_new, "set_add(\"%.*s\") should return %d", (int)len,
          (const char *)p, is_new);
    T_EQ_INT((*o)->encoding, m->table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
    T_EQ_U64(set_len(*o), m->n);
}

static void do_add_str(struct obj **o, struct model *m, const char *s)
{
    do_add(o, m, s, strlen(s));
}

static void do_add_ll(struct obj **o, struct model *m, long long v)
{
    char s[32];
    do_add(o, m, s, (size_t)snprintf(s, sizeof(s), "%lld", v));
}

static void do_rem(struct obj **o, struct model *m, const void *p, size_t len)
{
    bool was = model_del(m, p, len);
    CHECK(set_rem(o, p, len) == was, "set_rem(\"%.*s\") should return %d", (int)len,
          (const char *)p, was);
    T_EQ_INT((*o)->encoding, m->table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
    T_EQ_U64(set_len(*o), m->n);
}

static void do_rem_str(struct obj **o, struct model *m, const char *s)
{
    do_rem(o, m, s, strlen(s));
}

/* ---- Checks ------------------------------------------------------------- */

static struct ht *table_of(const struct obj *o)
{
    struct ht *t;
    memcpy(&t, o->data, sizeof(t));
    return t;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen;
}

static int cmp_member(const void *a, const void *b)
{
    const struct mmember *x = a, *y = b;
    return cmp_bytes(x->p, x->len, y->p, y->len);
}

/* The model's members, sorted (a new malloc()ed array of borrowed bytes). */
static struct mmember *model_sorted(const struct model *m)
{
    struct mmember *s = xmalloc(m->n * sizeof(*s));
    if (m->n) memcpy(s, m->m, m->n * sizeof(*s));
    qsort(s, m->n, sizeof(*s), cmp_member);
    return s;
}

static void check_members(const struct obj *o, const struct model *m)
{
    struct set_member *all = set_members(o);
    struct mmember *got, *want;
    if (m->n == 0) {
        T_NULL(all);
        return;
    }
    T_NOT_NULL(all);
    got = xmalloc(m->n * sizeof(*got));
    for (size_t i = 0; i < m->n; i++) {
        got[i].p = (char *)all[i].p;
        got[i].len = all[i].len;
    }
    if (o->encoding == OBJ_ENC_INTSET) { /* strictly ascending by value */
        long long prev = 0, v;
        for (size_t i = 0; i < m->n; i++) {
            CHECK(is_int(got[i].p, got[i].len, &v), "intset member %zu is \"%.*s\"", i,
                  (int)got[i].len, got[i].p);
            CHECK(i == 0 || v > prev, "intset member %zu (%lld) not above %lld", i, v, prev);
            prev = v;
        }
    }
    qsort(got, m->n, sizeof(*got), cmp_member);
    want = model_sorted(m);
    for (size_t i = 0; i < m->n; i++)
        T_EQ_MEM(got[i].p, got[i].len, want[i].p, want[i].len);
    free(want);
    free(got);
    mem_free(all);
}

static void check_set(const struct obj *o, const struct model *m)
{
    T_EQ_INT(o->type, OBJ_SET);
    T_EQ_INT(o->encoding, m->table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
    T_EQ_U64(set_len(o), m->n);
    if (o->encoding == OBJ_ENC_INTSET) {
        uint32_t count;
        memcpy(&count, o->data, sizeof(count));
        T_EQ_U64(count, m->n);
        T_EQ_U64(o->len, sizeof(uint32_t) + m->n * sizeof(int64_t));
    } else {
        T_EQ_U64(o->len, sizeof(struct ht *));
        T_EQ_U64(ht_count(table_of(o)), m->n);
    }
    check_members(o, m);
    for (size_t i = 0; i < m->n; i++)
        CHECK(set_has(o, m->m[i].p, m->m[i].len), "member \"%.*s\" not found", (int)m->m[i].len,
              m->m[i].p);
}

/* set_has() of strings that look like members but are not. */
static void check_absent(const struct obj *o, const struct model *m)
{
    static const struct {
        const char *p;
        size_t len;
    } extra[] = {{"", 0},
                 {"-0", 2},
                 {"+0", 2},
                 {"00", 2},
                 {" 0", 2},
                 {"0 ", 2},
                 {"-", 1},
                 {"+", 1},
                 {"x", 1},
                 {"0x0", 3},
                 {"\0", 1},
                 {"0\0", 2},
                 {"9223372036854775808", 19},
                 {"-9223372036854775809", 20},
                 {"18446744073709551616", 20}};
    char buf[64];
    for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++)
        if (model_find(m, extra[k].p, extra[k].len) < 0)
            CHECK(!set_has(o, extra[k].p, extra[k].len), "absent \"%.*s\" found", (int)extra[k].len,
                  extra[k].p);
    for (size_t i = 0; i < m->n && i < 64; i++) {
        const struct mmember *x = &m->m[i];
        static const char *const prefix[] = {"0", "+", " ", "-0", "00"};
        if (x->len + 3 > sizeof(buf)) continue;
        for (size_t k = 0; k < 5; k++) {
            size_t pl = strlen(prefix[k]);
            memcpy(buf, prefix[k], pl);
            memcpy(buf + pl, x->p, x->len);
            if (model_find(m, buf, pl + x->len) < 0)
                CHECK(!set_has(o, buf, pl + x->len), "absent \"%.*s\" found", (int)(pl + x->len),
                      buf);
        }
        memcpy(buf, x->p, x->len);
        buf[x->len] = ' ';
        if (model_find(m, buf, x->len + 1) < 0)
            CHECK(!set_has(o, buf, x->len + 1), "absent \"%.*s \" found", (int)x->len, buf);
        buf[x->len] = '\0';
        if (model_find(m, buf, x->len + 1) < 0)
            CHECK(!set_has(o, buf, x->len + 1), "absent \"%.*s\\0\" found", (int)x->len, buf);
    }
}

/* What one full scan saw, per model index. */
struct scan_seen {
    const struct model *m; /* borrowed */
    unsigned *visits;      /* per model index, visits_cap entries */
    size_t visits_cap;     /* entries in visits */
    size_t unknown;        /* visited members not in the model */
    size_t calls;          /* visits in all */
};

static void scan_visit(const struct set_member *x, void *ctx)
{
    struct scan_seen *s = ctx;
    long at = model_find(s->m, x->p, x->len);
    s->calls++;
    if (at < 0 || (size_t)at >= s->visits_cap) {
        s->unknown += at < 0;
        return;
    }
    s->visits[at]++;
}

static void scan_seen_create(struct scan_seen *s, const struct model *m, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->m = m;
    s->visits_cap = cap;
    s->visits = calloc(cap ? cap : 1, sizeof(*s->visits));
    if (!s->visits) abort();
}

/* A full scan of an unchanging set: each member at least once (intset:
 * exactly once, in one step, whatever the cursor). */
static void check_scan(const struct obj *o, const struct model *m)
{
    struct scan_seen s;
    uint64_t cursor = 0;
    unsigned steps = 0;
    scan_seen_create(&s, m, m->n);
    do {
        cursor = set_scan(o, cursor, scan_visit, &s);
        T_ASSERT(++steps < SCAN_STEPS_MAX);
    } while (cursor != 0);
    T_EQ_U64(s.unknown, 0);
    if (o->encoding == OBJ_ENC_INTSET || m->n == 0) T_EQ_U64(steps, 1);
    for (size_t i = 0; i < m->n; i++) {
        CHECK(s.visits[i] >= 1, "scan missed member %zu of %zu", i, m->n);
        if (o->encoding == OBJ_ENC_INTSET) T_EQ_U64(s.visits[i], 1);
    }
    if (o->encoding == OBJ_ENC_INTSET) { /* a stale cursor changes nothing */
        free(s.visits);
        scan_seen_create(&s, m, m->n);
        T_EQ_U64(set_scan(o, 12345, scan_visit, &s), 0);
        T_EQ_U64(s.calls, m->n);
    }
    free(s.visits);
}

/* Memory: set_mem_bytes() against what mem.c counted since base. */
static void check_mem(const struct obj *o, size_t base)
{
    size_t used = mem_used_bytes() - base, reported = set_mem_bytes(o);
    T_ASSERT(reported >= mem_usable_bytes(o));
    T_ASSERT(used >= reported);
    CHECK(used - reported <= MEM_SLACK_BYTES_MAX, "mem used %zu, reported %zu", used, reported);
    T_EQ_U64(obj_mem_bytes(o), reported);
    if (o->encoding == OBJ_ENC_INTSET) {
        T_EQ_U64(reported, mem_usable_bytes(o));
        T_EQ_U64(used, reported);
    }
}

/* ---- The serialized form, parsed here ------------------------------------ */

/* A varint as varint.h reads it: up to 10 bytes, low bits first. */
static bool get_vint(const unsigned char *u, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        if (*pos >= len) return false;
        x |= (uint64_t)(u[*pos] & 0x7f) << (7 * i);
        if (!(u[(*pos)++] & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

/* Parse p[0..len) into a model; false unless it is a count > 0, that many
 * distinct length-prefixed members and nothing else. */
static bool parse_encoding(const char *p, size_t len, struct model *out)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t pos = 0;
    uint64_t n;
    memset(out, 0, sizeof(*out));
    if (!get_vint(u, len, &pos, &n) || n == 0) return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t mlen;
        if (!get_vint(u, len, &pos, &mlen) || mlen > len - pos) return false;
        if (!model_add(out, p + pos, (size_t)mlen)) return false; /* a repeated member */
        pos += (size_t)mlen;
    }
    return pos == len;
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
        p[n++] = (unsigned char)(v ? b | 0x80 : b);
    } while (v);
    return n;
}

/* set_decode() of a copy of p[0..len) in a block of exactly len bytes. */
static struct obj *decode_exact(const void *p, size_t len)
{
    char *copy = xmalloc(len);
    struct obj *o;
    if (len) memcpy(copy, p, len);
    o = set_decode(copy, len);
    free(copy);
    return o;
}

/* The encoding set_decode() must produce for these members (in any order). */
static bool decoded_is_table(const struct model *m)
{
    return !(set_max_intset_entries > 0 && m->n <= set_max_intset_entries && model_all_ints(m));
}

/* Same members, in any order. */
static void check_same_members(const struct model *a, const struct model *b)
{
    T_EQ_U64(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        CHECK(model_find(b, a->m[i].p, a->m[i].len) >= 0, "member %zu of %zu missing", i, a->n);
}

/* Encode o (described by m), check the bytes, decode them, check the copy. */
static void check_roundtrip(const struct obj *o, const struct model *m)
{
    struct buf b;
    struct model parsed;
    struct obj *d;
    size_t bytes = vint_len(m->n);
    buf_create(&b);
    set_encode(o, &b);
    for (size_t i = 0; i < m->n; i++)
        bytes += vint_len(m->m[i].len) + m->m[i].len;
    T_EQ_U64(b.len, bytes);
    d = decode_exact(b.data, b.len);
    if (m->n == 0) {
        T_EQ_MEM(b.data, b.len, "\0", 1);
        T_NULL(d); /* a zero count is malformed: empty sets are never stored */
        buf_destroy(&b);
        return;
    }
    T_ASSERT(parse_encoding(b.data, b.len, &parsed));
    check_same_members(&parsed, m);
    if (o->encoding == OBJ_ENC_INTSET) { /* ascending, as set_members() lists them */
        struct set_member *all = set_members(o);
        for (size_t i = 0; i < m->n; i++)
            T_EQ_MEM(parsed.m[i].p, parsed.m[i].len, all[i].p, all[i].len);
        mem_free(all);
    }
    buf_destroy(&b);
    T_NOT_NULL(d);
    parsed.table = decoded_is_table(&parsed);
    check_set(d, &parsed);
    set_free(d);
    model_destroy(&parsed);
}

/* A copy equals the original, and changing either leaves the other alone. */
static void check_dup(struct obj **o, const struct model *m)
{
    struct model mc, mo;
    struct obj *d = set_dup(*o);
    T_EQ_INT(d->encoding, (*o)->encoding);
    T_EQ_U64(d->lru, (*o)->lru);
    check_set(d, m);
    model_copy(&mc, m);
    do_add_str(&d, &mc, "42424242");
    do_add_str(&d, &mc, "only in the copy");
    if (mc.n > 2) {
        char *x = xdup(mc.m[0].p, mc.m[0].len);
        do_rem(&d, &mc, x, mc.m[0].len);
        free(x);
    }
    check_set(*o, m);
    check_set(d, &mc);
    /* And the other way round, where re-adding cannot convert o (an intset
     * above a lowered limit would). */
    model_copy(&mo, m);
    for (size_t i = 0; i < 3 && i < m->n && (m->table || m->n <= set_max_intset_entries); i++) {
        char *x = xdup(m->m[i].p, m->m[i].len);
        size_t len = m->m[i].len;
        do_rem(o, &mo, x, len);
        check_set(d, &mc);
        do_add(o, &mo, x, len); /* it was there: an intset stays one */
        free(x);
    }
    check_set(*o, m);
    model_destroy(&mo);
    set_free(d);
    model_destroy(&mc);
}

/* Everything; base is mem_used_bytes() from before o was created. */
static void check_deep(struct obj **o, const struct model *m, size_t base)
{
    check_set(*o, m);
    check_absent(*o, m);
    check_scan(*o, m);
    check_mem(*o, base);
    check_roundtrip(*o, m);
    check_dup(o, m);
    check_mem(*o, base);
}

/* A set of the integers from..to-1 (each times step), created from the first. */
static struct obj *build_ints(struct model *m, long long from, long long to, long long step)
{
    char s[32];
    struct obj *o = new_set(m, s, (size_t)snprintf(s, sizeof(s), "%lld", from * step));
    for (long long i = from; i < to; i++)
        do_add_ll(&o, m, i * step);
    return o;
}

/* A table of n strings "m<i>". */
static struct obj *build_strs(struct model *m, int n)
{
    struct obj *o = new_set(m, "m", 1);
    for (int i = 0; i < n; i++) {
        char s[32];
        do_add(&o, m, s, (size_t)snprintf(s, sizeof(s), "m%d", i));
    }
    return o;
}

/* ---- Basic operations ---------------------------------------------------- */

TEST(set_new_for_picks_the_encoding)
{
    static const struct {
        const char *m;
        bool table;
    } cases[] = {{"0", false},
                 {"1", false},
                 {"-1", false},
                 {"123", false},
                 {"-0", true},
                 {"+1", true},
                 {"007", true},
                 {"01", true},
                 {" 1", true},
                 {"1 ", true},
                 {"", true},
                 {"a", true},
                 {"1.0", true},
                 {"0x10", true},
                 {"1e3", true},
                 {"-", true},
                 {"9223372036854775807", false},
                 {"-9223372036854775808", false},
                 {"9223372036854775808", true},
                 {"-9223372036854775809", true},
                 {"99999999999999999999", true},
                 {"-99999999999999999999", true},
                 {"000000000000000000001", true}};
    fixture_begin(1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct model m;
        struct obj *o = new_set(&m, cases[i].m, strlen(cases[i].m));
        CHECK(m.table == cases[i].table, "case \"%s\": the model disagrees with the table",
              cases[i].m);
        CHECK(o->encoding == (cases[i].table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET),
              "set_new_for(\"%s\") has encoding %d", cases[i].m, o->encoding);
        T_ASSERT(!set_has(o, cases[i].m, strlen(cases[i].m)));
        T_ASSERT(!set_rem(&o, cases[i].m, strlen(cases[i].m)));
        check_deep(&o, &m, fx.mem_baseline);
        do_add_str(&o, &m, cases[i].m);
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    { /* a NUL inside is never an integer */
        struct model m;
        struct obj *o = new_set(&m, "1\0", 2);
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        set_free(o);
        model_destroy(&m);
    }
    set_max_intset_entries = 0; /* no intsets at all */
    {
        struct model m;
        struct obj *o = new_set(&m, "1", 1);
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        do_add_str(&o, &m, "1");
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_add_rem_has_both_encodings)
{
    fixture_begin(2);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = table ? new_set(&m, "x", 1) : new_set(&m, "5", 1);
        for (int i = 0; i < 40; i++)
            do_add_ll(&o, &m, (i * 7919) % 101 - 50);
        for (int i = 0; i < 40; i++) /* again: nothing is new */
            do_add_ll(&o, &m, (i * 7919) % 101 - 50);
        check_deep(&o, &m, fx.mem_baseline);
        for (int i = -60; i < 60; i += 3) {
            do_rem(&o, &m, "", 0);
            do_add_ll(&o, &m, i);
            do_rem_str(&o, &m, "nope");
        }
        check_deep(&o, &m, fx.mem_baseline);
        while (m.n > 0) { /* first, last, middle, ... */
            size_t at = m.n % 3 == 0 ? 0 : m.n % 3 == 1 ? m.n - 1 : m.n / 2;
            char *x = xdup(m.m[at].p, m.m[at].len);
            size_t len = m.m[at].len;
            do_rem(&o, &m, x, len);
            do_rem(&o, &m, x, len); /* twice: gone */
            free(x);
        }
        check_deep(&o, &m, fx.mem_baseline);
        T_EQ_INT(o->encoding, table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_intset_order_and_boundaries)
{
    static const long long values[] = {LLONG_MAX,
                                       LLONG_MIN,
                                       0,
                                       -1,
                                       1,
                                       LLONG_MAX - 1,
                                       LLONG_MIN + 1,
                                       INT32_MAX,
                                       INT32_MIN,
                                       (long long)INT32_MAX + 1,
                                       (long long)INT32_MIN - 1,
                                       UINT32_MAX,
                                       -(long long)UINT32_MAX,
                                       INT16_MAX,
                                       INT16_MIN,
                                       65536,
                                       -65536,
                                       1000000000000LL,
                                       -1000000000000LL,
                                       2,
                                       -2};
    size_t n = sizeof(values) / sizeof(values[0]);
    fixture_begin(3);
    for (size_t rot = 0; rot < n; rot++) { /* every insertion order of a rotation */
        struct model m;
        char s[32];
        struct obj *o = new_set(&m, s, (size_t)snprintf(s, sizeof(s), "%lld", values[rot]));
        for (size_t i = 0; i < n; i++)
            do_add_ll(&o, &m, values[(rot + i * 5) % n]);
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        T_EQ_U64(m.n, n);
        check_deep(&o, &m, fx.mem_baseline);
        {
            struct set_member *all = set_members(o);
            T_EQ_MEM(all[0].p, all[0].len, "-9223372036854775808", 20);
            T_EQ_MEM(all[n - 1].p, all[n - 1].len, "9223372036854775807", 19);
            mem_free(all);
        }
        T_ASSERT(set_has(o, "-9223372036854775808", 20));
        T_ASSERT(!set_has(o, "-9223372036854775809", 20));
        T_ASSERT(!set_has(o, "9223372036854775808", 19));
        T_ASSERT(!set_has(o, "-0", 2));
        T_ASSERT(set_has(o, "0", 1));
        do_rem_str(&o, &m, "-0"); /* not the integer 0 */
        do_rem_str(&o, &m, "9223372036854775808");
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        do_rem_str(&o, &m, "-9223372036854775808");
        do_rem_str(&o, &m, "9223372036854775807");
        do_rem_str(&o, &m, "0");
        check_set(o, &m);
        do_add_str(&o, &m, "-0"); /* converts: "-0" is a string */
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        do_add_str(&o, &m, "0");
        T_ASSERT(set_has(o, "-0", 2));
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_non_integers_convert_an_intset)
{
    static const char *const strs[] = {
        "-0", "+1", "007", " 1", "1 ", "", "a", "9223372036854775808", "-9223372036854775809",
        "1.5"};
    fixture_begin(4);
    for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
        struct model m;
        struct obj *o = build_ints(&m, -5, 6, 1);
        o->lru = 777;
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        T_ASSERT(!set_has(o, strs[k], strlen(strs[k])));
        do_rem_str(&o, &m, strs[k]); /* no conversion */
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        do_add_str(&o, &m, strs[k]);
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        T_EQ_U64(o->lru, 777);
        T_EQ_U64(m.n, 12);
        check_deep(&o, &m, fx.mem_baseline);
        do_rem_str(&o, &m, strs[k]); /* a table stays a table */
        check_deep(&o, &m, fx.mem_baseline);
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_converts_above_max_entries)
{
    static const size_t limits[] = {1, 2, 3, 16, SET_INTSET_ENTRIES_DEFAULT};
    fixture_begin(5);
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        struct model m;
        struct obj *o;
        set_max_intset_entries = limits[k];
        o = build_ints(&m, 0, (long long)limits[k], 3);
        o->lru = 4242;
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        T_EQ_U64(set_len(o), limits[k]);
        do_add_ll(&o, &m, 0); /* not new: no conversion at the limit */
        T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
        check_deep(&o, &m, fx.mem_baseline);
        do_add_ll(&o, &m, 1); /* new: converts */
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        T_EQ_U64(o->lru, 4242);
        check_deep(&o, &m, fx.mem_baseline);
        while (m.n > 1) { /* never back */
            char *x = xdup(m.m[0].p, m.m[0].len);
            do_rem(&o, &m, x, m.m[0].len);
            free(x);
        }
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_lowering_the_limit_converts_on_the_next_new_member)
{
    struct model m;
    struct obj *o;
    fixture_begin(6);
    o = build_ints(&m, 0, 10, 1);
    set_max_intset_entries = 4; /* already above: nothing happens yet */
    T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
    do_add_ll(&o, &m, 5);
    do_rem_str(&o, &m, "9");
    T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
    check_deep(&o, &m, fx.mem_baseline);
    do_add_ll(&o, &m, 100);
    T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
    check_deep(&o, &m, fx.mem_baseline);
    set_free(o);
    model_destroy(&m);
    /* CONFIG takes up to LLONG_MAX: a limit beyond the u32 count is no limit. */
    set_max_intset_entries = (size_t)LLONG_MAX;
    o = build_ints(&m, -1000, 1000, 1);
    T_EQ_INT(o->encoding, OBJ_ENC_INTSET);
    check_deep(&o, &m, fx.mem_baseline);
    set_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(set_binary_members)
{
    struct model m;
    struct obj *o;
    char big[70000];
    fixture_begin(7);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 131);
    o = new_set(&m, "\0", 1);
    do_add(&o, &m, "\0", 1);
    do_add(&o, &m, "", 0);
    do_add(&o, &m, "a\0b", 3);
    do_add(&o, &m, "a\0c", 3);
    do_add(&o, &m, "\r\n", 2);
    do_add(&o, &m, "\xff\xfe", 2);
    static const size_t lens[] = {126, 127, 128, 129, 16383, 16384, 16385, sizeof(big)};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
        do_add(&o, &m, big, lens[k]);
    do_add(&o, &m, big, 127); /* again */
    check_deep(&o, &m, fx.mem_baseline);
    do_rem(&o, &m, "a\0", 2);
    do_rem(&o, &m, "a\0b", 3);
    do_rem(&o, &m, big, 128);
    check_deep(&o, &m, fx.mem_baseline);
    set_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(set_members_of_an_empty_set)
{
    struct model m;
    struct obj *o;
    fixture_begin(8);
    for (int table = 0; table < 2; table++) {
        o = table ? new_set(&m, "a", 1) : new_set(&m, "1", 1);
        T_NULL(set_members(o));
        do_add_str(&o, &m, table ? "a" : "1");
        do_rem_str(&o, &m, table ? "a" : "1");
        T_NULL(set_members(o));
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* ---- Scan, dup, memory, obj layer ---------------------------------------- */

TEST(set_scan_visits_every_member)
{
    fixture_begin(9);
    for (int n = 0; n < 3000; n = n * 2 + 1) {
        struct model m;
        struct obj *o = build_strs(&m, n);
        check_scan(o, &m);
        set_free(o);
        model_destroy(&m);
        o = build_ints(&m, 0, n < 512 ? n : 512, -1);
        check_scan(o, &m);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* A full scan of a table that grows (and so rehashes) between steps: every
 * member present throughout is visited. The growth stops after
 * SCAN_GROWTH_MAX members, or the scan would chase the table for ever. */
#define SCAN_GROWTH_MAX 4000
TEST(set_scan_table_grows_between_steps)
{
    struct model m;
    struct obj *o;
    struct scan_seen s;
    uint64_t cursor = 0;
    unsigned steps = 0;
    size_t original;
    int next = 100000;
    fixture_begin(10);
    o = build_strs(&m, 50);
    original = m.n;
    scan_seen_create(&s, &m, original);
    do {
        cursor = set_scan(o, cursor, scan_visit, &s);
        for (int j = 0; j < 20 && next < 100000 + SCAN_GROWTH_MAX; j++) {
            char b[32];
            do_add(&o, &m, b, (size_t)snprintf(b, sizeof(b), "grow%d", next++));
        }
        T_ASSERT(++steps < SCAN_STEPS_MAX);
    } while (cursor != 0);
    for (size_t i = 0; i < original; i++)
        CHECK(s.visits[i] >= 1, "scan missed original member %zu", i);
    free(s.visits);
    check_deep(&o, &m, fx.mem_baseline);
    set_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(set_dup_is_deep_both_encodings)
{
    fixture_begin(11);
    for (int n = 0; n < 700; n = n * 3 + 1) {
        struct model m;
        struct obj *o = build_strs(&m, n);
        o->lru = 99;
        check_dup(&o, &m);
        check_set(o, &m);
        set_free(o);
        model_destroy(&m);
        o = build_ints(&m, -n / 2, n - n / 2, 1000003);
        o->lru = 98;
        check_dup(&o, &m);
        check_set(o, &m);
        set_free(o);
        model_destroy(&m);
    }
    { /* a table in the middle of a rehash */
        struct model m;
        struct obj *o = build_strs(&m, 4);
        for (int i = 4; i < 10000 && !ht_is_rehashing(table_of(o)); i++) {
            char b[32];
            do_add(&o, &m, b, (size_t)snprintf(b, sizeof(b), "r%d", i));
        }
        T_ASSERT(ht_is_rehashing(table_of(o)));
        check_dup(&o, &m);
        check_deep(&o, &m, fx.mem_baseline);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_mem_bytes_tracks_allocations)
{
    fixture_begin(12);
    for (int table = 0; table < 2; table++) {
        struct model m;
        struct obj *o = table ? new_set(&m, "s", 1) : new_set(&m, "1", 1);
        size_t last = set_mem_bytes(o);
        check_mem(o, fx.mem_baseline);
        for (int i = 0; i < 600; i++) {
            char s[32];
            size_t len = (size_t)snprintf(s, sizeof(s), table ? "member%d" : "%d", i * 17);
            do_add(&o, &m, s, len);
            check_mem(o, fx.mem_baseline);
            if (o->encoding == OBJ_ENC_INTSET) /* a table shrinks when a rehash ends */
                T_ASSERT(set_mem_bytes(o) > last || mem_usable_bytes(o) == last);
            last = set_mem_bytes(o);
        }
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE); /* 600 > 512 */
        for (int i = 0; i < 600; i += 2) {
            char s[32];
            size_t len = (size_t)snprintf(s, sizeof(s), table ? "member%d" : "%d", i * 17);
            do_rem(&o, &m, s, len);
            check_mem(o, fx.mem_baseline);
        }
        set_free(o);
        model_destroy(&m);
        T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    }
    { /* an intset shrinks its byte count (o->len) with each removal */
        struct model m;
        struct obj *o = build_ints(&m, 0, 100, 1);
        for (int i = 0; i < 100; i++) {
            do_rem_str(&o, &m, "nope");
            do_add_ll(&o, &m, i); /* not new */
            {
                char s[32];
                do_rem(&o, &m, s, (size_t)snprintf(s, sizeof(s), "%d", i));
            }
            T_EQ_U64(o->len, sizeof(uint32_t) + m.n * sizeof(int64_t));
            check_mem(o, fx.mem_baseline);
        }
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(set_obj_layer_dispatch)
{
    struct model m;
    struct obj *o, *d;
    fixture_begin(13);
    o = build_ints(&m, 0, 3, 1);
    T_EQ_STR(obj_type_name(o), "set");
    T_EQ_STR(obj_encoding_name(o), "intset");
    T_EQ_U64(obj_mem_bytes(o), set_mem_bytes(o));
    d = obj_dup(o);
    check_set(d, &m);
    obj_delete(d);
    do_add_str(&o, &m, "word");
    T_EQ_STR(obj_encoding_name(o), "hashtable");
    T_EQ_U64(obj_mem_bytes(o), set_mem_bytes(o));
    d = obj_dup(o);
    check_set(d, &m);
    obj_delete(d);
    obj_delete(o);
    model_destroy(&m);
    fixture_end();
}

/* ---- Serialized form ------------------------------------------------------ */

TEST(set_encode_decode_round_trip)
{
    fixture_begin(14);
    for (int n = 1; n < 1200; n = n * 2 + 1) {
        struct model m;
        struct obj *o = build_ints(&m, -n / 2, n - n / 2, 7);
        check_roundtrip(o, &m);
        set_max_intset_entries = 3; /* decode converts what no longer fits */
        check_roundtrip(o, &m);
        set_max_intset_entries = 0;
        check_roundtrip(o, &m);
        set_max_intset_entries = 100000; /* and keeps an intset what fits again */
        check_roundtrip(o, &m);
        set_max_intset_entries = SET_INTSET_ENTRIES_DEFAULT;
        do_add_str(&o, &m, "x"); /* a table of integers and one string */
        check_roundtrip(o, &m);
        do_rem_str(&o, &m, "x"); /* a table of integers: decodes as an intset if it fits */
        T_EQ_INT(o->encoding, OBJ_ENC_TABLE);
        check_roundtrip(o, &m);
        set_free(o);
        model_destroy(&m);
        o = build_strs(&m, n);
        {
            char *big = xmalloc(20000);
            memset(big, 'b', 20000);
            do_add(&o, &m, big, 16384); /* a 3-byte length */
            do_add(&o, &m, big, 200);   /* a 2-byte length */
            do_add(&o, &m, "", 0);
            free(big);
        }
        check_roundtrip(o, &m);
        set_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* The encoding of a sample set: ints, strings and a 2-byte length. */
static void encode_sample(struct buf *b, bool ints_only)
{
    struct model m;
    struct obj *o = build_ints(&m, -3, 4, 1000);
    if (!ints_only) {
        char v[300];
        memset(v, 'v', sizeof(v));
        do_add_str(&o, &m, "str");
        do_add(&o, &m, v, sizeof(v));
        do_add(&o, &m, "", 0);
    }
    buf_create(b);
    set_encode(o, b);
    set_free(o);
    model_destroy(&m);
}

TEST(set_decode_rejects_truncated_input)
{
    fixture_begin(15);
    for (int k = 0; k < 2; k++) {
        struct buf b;
        struct obj *o;
        encode_sample(&b, k == 0);
        for (size_t cut = 0; cut < b.len; cut++)
            CHECK(decode_exact(b.data, cut) == NULL, "decoded a prefix of %zu of %zu bytes", cut,
                  b.len);
        o = decode_exact(b.data, b.len);
        T_NOT_NULL(o);
        T_EQ_INT(o->encoding, k == 0 ? OBJ_ENC_INTSET : OBJ_ENC_TABLE);
        T_EQ_U64(set_len(o), k == 0 ? 7 : 10);
        set_free(o);
        T_NULL(decode_exact(b.data, 0));
        buf_destroy(&b);
    }
    fixture_end();
}

/* Serialized input built by hand. */
struct enc {
    unsigned char d[4096];
    size_t n;
};

static void enc_vint(struct enc *e, uint64_t v)
{
    e->n += vint_put(e->d + e->n, v);
}

static void enc_raw(struct enc *e, const void *p, size_t len)
{
    memcpy(e->d + e->n, p, len);
    e->n += len;
}

static void enc_str(struct enc *e, const char *s)
{
    enc_vint(e, strlen(s));
    enc_raw(e, s, strlen(s));
}

/* Expect set_decode() to refuse e, and this file's parser too. */
static void expect_bad(const struct enc *e, const char *what)
{
    struct model parsed;
    struct obj *o = decode_exact(e->d, e->n);
    CHECK(o == NULL, "decoded malformed input: %s", what);
    CHECK(!parse_encoding((const char *)e->d, e->n, &parsed), "parser accepted: %s", what);
    model_destroy(&parsed);
}

/* Expect set_decode() to accept e with n members and this encoding. */
static void expect_good(const struct enc *e, size_t n, int encoding)
{
    struct model parsed;
    struct obj *o = decode_exact(e->d, e->n);
    T_NOT_NULL(o);
    T_ASSERT(parse_encoding((const char *)e->d, e->n, &parsed));
    T_EQ_U64(parsed.n, n);
    T_EQ_INT(o->encoding, encoding);
    parsed.table = encoding == OBJ_ENC_TABLE;
    check_set(o, &parsed);
    set_free(o);
    model_destroy(&parsed);
}

TEST(set_decode_rejects_bad_counts_and_trailing_bytes)
{
    struct enc e;
    fixture_begin(16);
    e.n = 0;
    enc_vint(&e, 0);
    expect_bad(&e, "count 0");
    e.n = 0;
    enc_vint(&e, 0);
    enc_str(&e, "a");
    expect_bad(&e, "count 0 and a member");
    for (int ints = 0; ints < 2; ints++) {
        const char *a = ints ? "1" : "a", *b = ints ? "2" : "b";
        e.n = 0;
        enc_vint(&e, 3);
        enc_str(&e, a);
        enc_str(&e, b);
        expect_bad(&e, "count 3, two members");
        e.n = 0;
        enc_vint(&e, 2);
        enc_str(&e, a);
        enc_str(&e, b);
        expect_good(&e, 2, ints ? OBJ_ENC_INTSET : OBJ_ENC_TABLE);
        enc_raw(&e, "\0", 1);
        expect_bad(&e, "a trailing byte");
        e.n -= 1;
        enc_str(&e, "c");
        expect_bad(&e, "a trailing member");
        e.n = 0;
        enc_vint(&e, 1);
        enc_str(&e, a);
        enc_str(&e, b);
        expect_bad(&e, "count 1, two members");
        e.n = 0;
        enc_vint(&e, UINT64_MAX);
        enc_str(&e, a);
        expect_bad(&e, "count 2^64-1");
        e.n = 0;
        enc_vint(&e, (uint64_t)1 << 32);
        enc_str(&e, a);
        expect_bad(&e, "count 2^32");
        e.n = 0;
        enc_vint(&e, 1000);
        for (int i = 0; i < 100; i++)
            enc_str(&e, a);
        expect_bad(&e, "count 1000, 100 bytes of repeats");
    }
    fixture_end();
}

TEST(set_decode_rejects_repeated_member)
{
    struct enc e;
    fixture_begin(17);
    static const char *const dups[][3] = {
        {"1", "1", NULL}, /* in an intset */
        {"a", "a", NULL}, /* in a table */
        {"1", "x", "1"},  /* an integer again after the conversion */
        {"", "", NULL},   /* the empty member */
        {"-9223372036854775808", "-9223372036854775808", NULL},
        {"x", "-0", "-0"},
    };
    for (size_t k = 0; k < sizeof(dups) / sizeof(dups[0]); k++) {
        size_t n = dups[k][2] ? 3 : 2;
        e.n = 0;
        enc_vint(&e, n);
        for (size_t i = 0; i < n; i++)
            enc_str(&e, dups[k][i]);
        expect_bad(&e, dups[k][0]);
    }
    /* Look-alikes are different members. */
    e.n = 0;
    enc_vint(&e, 5);
    enc_str(&e, "1");
    enc_str(&e, "01");
    enc_str(&e, "+1");
    enc_str(&e, " 1");
    enc_str(&e, "1 ");
    expect_good(&e, 5, OBJ_ENC_TABLE);
    e.n = 0;
    enc_vint(&e, 2);
    enc_str(&e, "0");
    enc_str(&e, "-0");
    expect_good(&e, 2, OBJ_ENC_TABLE);
    /* Intset members need not come in order. */
    e.n = 0;
    enc_vint(&e, 4);
    enc_str(&e, "9223372036854775807");
    enc_str(&e, "-5");
    enc_str(&e, "-9223372036854775808");
    enc_str(&e, "0");
    expect_good(&e, 4, OBJ_ENC_INTSET);
    /* More members than set_max_intset_entries: a table. */
    set_max_intset_entries = 3;
    expect_good(&e, 4, OBJ_ENC_TABLE);
    fixture_end();
}

TEST(set_decode_rejects_bad_varints_and_lengths)
{
    struct enc e;
    fixture_begin(18);
    /* A count varint that never ends within 10 bytes. */
    e.n = 0;
    for (int i = 0; i < 11; i++)
        enc_raw(&e, "\x81", 1);
    enc_raw(&e, "\x01", 1);
    enc_str(&e, "a");
    expect_bad(&e, "an 11-byte count");
    /* A member length varint that never ends. */
    e.n = 0;
    enc_vint(&e, 1);
    for (int i = 0; i < 11; i++)
        enc_raw(&e, "\xff", 1);
    expect_bad(&e, "an endless length");
    /* A length past the end, by one and by a lot. */
    e.n = 0;
    enc_vint(&e, 1);
    enc_vint(&e, 4);
    enc_raw(&e, "abc", 3);
    expect_bad(&e, "length one past the end");
    e.n = 0;
    enc_vint(&e, 1);
    enc_vint(&e, UINT64_MAX);
    enc_raw(&e, "abc", 3);
    expect_bad(&e, "length 2^64-1");
    e.n = 0;
    enc_vint(&e, 1);
    enc_vint(&e, (uint64_t)UINT32_MAX + 1);
    enc_raw(&e, "abc", 3);
    expect_bad(&e, "length 2^32");
    e.n = 0;
    enc_vint(&e, 2);
    enc_str(&e, "a");
    enc_vint(&e, SIZE_MAX - 1);
    expect_bad(&e, "second length SIZE_MAX-1");
    /* An overlong but terminated varint is a valid varint (varint.h). */
    e.n = 0;
    enc_raw(&e, "\x81\x00", 2);     /* count 1 */
    enc_raw(&e, "\x81\x80\x00", 3); /* length 1 */
    enc_raw(&e, "7", 1);
    expect_good(&e, 1, OBJ_ENC_INTSET);
    fixture_end();
}

/* Damage p[0..len) (room for cap bytes) one to three times; returns the
 * new length. */
static size_t corrupt(unsigned char *p, size_t len, size_t cap)
{
    for (size_t hits = 1 + rnd_below(3); hits > 0 && len < cap; hits--) {
        size_t at = len ? rnd_below(len) : 0;
        switch (rnd_below(6)) {
        case 0: /* flip a bit */
            if (len) p[at] ^= (unsigned char)(1u << rnd_below(8));
            break;
        case 1: /* a random byte */
            if (len) p[at] = (unsigned char)rnd();
            break;
        case 2: /* truncate */
            len = at;
            break;
        case 3: /* append a byte */
            p[len++] = (unsigned char)rnd();
            break;
        case 4: /* delete a byte */
            if (len) {
                memmove(p + at, p + at + 1, len - at - 1);
                len--;
            }
            break;
        default: /* bump the count */
            if (len && !(p[0] & 0x80)) p[0] = (unsigned char)((p[0] + 1) & 0x7f);
            break;
        }
    }
    return len;
}

/* Random damage to valid encodings: set_decode() returns a set iff the
 * parser accepts the bytes, and then the set holds the parsed members. */
TEST(set_decode_survives_random_corruption)
{
    fixture_begin(19);
    for (int round = 0; round < 3000; round++) {
        struct model m, parsed;
        struct obj *o, *d;
        struct buf b;
        unsigned char *p;
        size_t len, cap;
        bool ok;
        int n = 1 + (int)rnd_below(12);
        if (rnd_below(2)) {
            o = build_ints(&m, -(long long)rnd_below(5), n, 1 + (long long)rnd_below(300));
        } else {
            o = build_strs(&m, n);
            if (rnd_below(2)) do_add_ll(&o, &m, (long long)rnd_below(100));
        }
        buf_create(&b);
        set_encode(o, &b);
        set_free(o);
        model_destroy(&m);
        cap = b.len + 8;
        p = xmalloc(cap);
        memcpy(p, b.data, b.len);
        len = corrupt(p, b.len, cap);
        buf_destroy(&b);
        ok = parse_encoding((const char *)p, len, &parsed);
        d = decode_exact(p, len);
        CHECK((d != NULL) == ok, "round %d: decode %s, parser %s", round, d ? "ok" : "failed",
              ok ? "ok" : "failed");
        if (d) {
            parsed.table = decoded_is_table(&parsed);
            check_set(d, &parsed);
            set_free(d);
        }
        model_destroy(&parsed);
        free(p);
    }
    fixture_end();
}

/* ---- Randomized operations against the model ------------------------------ */

/* A pool of members: integers (small, boundaries), look-alikes, strings. */
struct pool {
    char m[96][RANDOM_MEMBER_BYTES_MAX];
    size_t len[96];
    size_t n;
};

static void pool_put(struct pool *p, const void *s, size_t len)
{
    memcpy(p->m[p->n], s, len);
    p->len[p->n++] = len;
}

static void pool_fill(struct pool *p)
{
    static const char *const fixed[] = {"-9223372036854775808",
                                        "9223372036854775807",
                                        "-9223372036854775807",
                                        "9223372036854775806",
                                        "2147483647",
                                        "2147483648",
                                        "-2147483648",
                                        "-2147483649",
                                        "4294967296",
                                        "-0",
                                        "+1",
                                        "007",
                                        " 1",
                                        "1 ",
                                        "",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "1.0",
                                        "a",
                                        "b",
                                        "hello world"};
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        pool_put(p, fixed[i], strlen(fixed[i]));
    for (int i = -25; i <= 25; i++) {
        char s[16];
        pool_put(p, s, (size_t)snprintf(s, sizeof(s), "%d", i * 3));
    }
    pool_put(p, "\0", 1);
    pool_put(p, "1\0", 2);
    while (p->n < 96) {
        char s[RANDOM_MEMBER_BYTES_MAX];
        size_t len = 1 + rnd_below(RANDOM_MEMBER_BYTES_MAX - 1);
        for (size_t j = 0; j < len; j++)
            s[j] = (char)rnd();
        pool_put(p, s, len);
    }
}

/* One random run: ops on one set with a mostly-integer or a mixed pool. */
static void random_run(uint64_t seed, bool mostly_ints)
{
    static const size_t limits[] = {0, 1, 3, 16, 64, SET_INTSET_ENTRIES_DEFAULT};
    struct pool pool;
    struct model m;
    struct obj *o;
    size_t pick;
    fixture_begin(seed);
    pool_fill(&pool);
    set_max_intset_entries = limits[rnd_below(6)];
    pick = mostly_ints ? 21 + rnd_below(51) : rnd_below(pool.n);
    o = new_set(&m, pool.m[pick], pool.len[pick]);
    for (int op = 0; op < 4000; op++) {
        unsigned r = (unsigned)rnd_below(100);
        pick = mostly_ints && rnd_below(50) != 0 ? 21 + rnd_below(51) : rnd_below(pool.n);
        if (r < 55) {
            do_add(&o, &m, pool.m[pick], pool.len[pick]);
        } else if (r < 90) {
            do_rem(&o, &m, pool.m[pick], pool.len[pick]);
        } else if (r < 92) {
            set_max_intset_entries = limits[rnd_below(6)];
        } else if (r < 94) { /* replace by a copy */
            struct obj *d = set_dup(o);
            set_free(o);
            o = d;
        } else if (r < 96 && m.n > 0) { /* replace by a decoded copy */
            struct buf b;
            buf_create(&b);
            set_encode(o, &b);
            set_free(o);
            o = decode_exact(b.data, b.len);
            buf_destroy(&b);
            T_NOT_NULL(o);
            m.table = decoded_is_table(&m);
        } else if (r < 98) {
            T_EQ_INT(set_has(o, pool.m[pick], pool.len[pick]),
                     model_find(&m, pool.m[pick], pool.len[pick]) >= 0);
        } else {
            check_deep(&o, &m, fx.mem_baseline);
        }
        T_EQ_U64(set_len(o), m.n);
        T_EQ_INT(o->encoding, m.table ? OBJ_ENC_TABLE : OBJ_ENC_INTSET);
        if (op % 97 == 0) check_set(o, &m);
        if (m.n == 0 && rnd_below(4) == 0) { /* an emptied set is dropped, as SREM does */
            set_free(o);
            model_destroy(&m);
            pick = rnd_below(pool.n);
            o = new_set(&m, pool.m[pick], pool.len[pick]);
        }
    }
    check_deep(&o, &m, fx.mem_baseline);
    set_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(set_random_ops_against_model)
{
    for (uint64_t seed = 100; seed < 124; seed++)
        random_run(seed, seed % 2 == 0);
}
