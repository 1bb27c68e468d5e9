/*
 * test_zset.c - unit tests of sorted set values (src/db/zset.h): both
 * encodings (packed "listpack", skiplist), the conversion between them,
 * lookups, ranks, score and lex bounds, iteration in both directions from
 * every start rank, ZSCAN steps, deep copies, memory reporting and the
 * snapshot form (zset_encode / zset_decode), checked against a model.
 *
 * Design
 *   The model (struct model) is an array of (score, member) sorted by score,
 *   then by member bytes (memcmp, a prefix first), exactly the order zset.h
 *   promises. Scores are compared as doubles (so -0.0 == 0.0 and a tie is
 *   broken by the member) but checked bit for bit: zset_set() of a score
 *   equal to the stored one changes nothing, so a stored 0.0 stays 0.0 when
 *   set to -0.0 and the other way round; a packed set stores -0.0 as 0.0
 *   (do_set and model_as_decoded apply the same rule to the model).
 *
 *   The encoding is predicted from Redis's rule, which zset.h's limits
 *   describe: a packed set converts for good when a NEW member would make
 *   it exceed zset_max_packed_entries members, is longer than
 *   zset_max_packed_value bytes, or would grow the block past
 *   ZSET_PACKED_BYTES_MAX; updating the score of a member already there
 *   never converts. zset_decode() (and so a snapshot load) builds a packed
 *   set iff all of it fits.
 *
 *   check_zset() compares zset_len(), the encoding, the packed block byte
 *   by byte (u32 count, then per element an 8-byte double, a varint length
 *   and the member) or the skiplist's shape (see below), an ascending walk,
 *   zset_score() (bits) and zset_rank() of every member. check_deep() adds
 *   what costs more: lookups of absent look-alikes, walks in both
 *   directions from every start rank, every score and lex bound the model
 *   can think of, a full zset_scan(), zset_dup() (changing either copy
 *   leaves the other alone), an encode / decode round trip checked against
 *   this file's own encoder, and zset_mem_bytes() against mem_used_bytes().
 *
 *   The skiplist's shape is checked through a mirror of zset.c's private
 *   structs (struct zsl_mirror): level-0 order, backward links, the tail,
 *   the dict's count, each node on exactly the levels below its height, and
 *   invariant (2) of zset.c, the span of every link == the level-0 steps it
 *   skips. If zset.c changes its layout, the sanity checks at the top of
 *   check_skiplist() fail first; update the mirror then.
 *
 *   zset_decode() gets its input in a heap block of exactly the input's
 *   length (decode_exact()), so under ASan a read past the end is reported.
 *   For damaged input: if this file's parser rejects the bytes (count 0,
 *   fewer or more elements than the count, a NaN score, a repeated member,
 *   a bad varint) zset_decode() must return NULL; if it returns a set, the
 *   set holds exactly the parsed elements; and a well-formed input in
 *   order must decode.
 *
 * Invariants
 *   (1) Between operations the model describes the set exactly: the same
 *       elements with the same score bits, and the predicted encoding.
 *   (2) mem_used_bytes() is back at the fixture's baseline at the end of
 *       every test (fixture_end()), so a leak LeakSanitizer cannot see (a
 *       still reachable block) fails too.
 *   (3) Every loop that should end has an explicit bound (T_ASSERT).
 *
 * Threads
 *   Single-threaded (the test plays the loop thread).
 *
 * Conventions
 *   Model memory comes from malloc(), not mem_alloc(), so mem_used_bytes()
 *   counts only what zset.c allocates. Randomness is a seeded splitmix64
 *   here and util_rand_seed() for the skiplist's levels, so a failure
 *   reproduces. fixture_begin() resets the limits to their defaults and
 *   fixture_end() restores what they were (in --no-fork mode the globals
 *   outlive a test).
 */
#include "harness/test.h"

#include "core/buf.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/db.h"
#include "db/obj.h"
#include "db/zset.h"
#include "ds/ht.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slack allowed between mem_used_bytes() growth and zset_mem_bytes(): the
 * report counts bucket arrays by their requested size, the allocator may
 * round each of the two up a little (never under ASan). */
#define MEM_SLACK_BYTES_MAX 64
/* Bound on zset_scan() steps in one full scan (invariant (3)). */
#define SCAN_STEPS_MAX (1u << 22)
/* Levels of the skiplist header (ZSL_MAX_LEVEL in zset.c). */
#define MIRROR_MAX_LEVEL 32
/* Members in the large test: enough for a skiplist of several levels. */
#define BIG_MEMBERS 12000

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) test__fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)

/* ---- Fixture ----------------------------------------------------------- */

static struct {
    size_t mem_baseline;  /* mem_used_bytes() when the test began */
    size_t saved_entries; /* zset_max_packed_entries before the test */
    size_t saved_value;   /* zset_max_packed_value before the test */
    uint64_t rng;         /* splitmix64 state */
} fx;

static void fixture_begin(uint64_t seed)
{
    db_module_init(0x25e7ULL + seed); /* db_hash() seeds the dict */
    util_rand_seed(seed + 1);         /* the skiplist's random levels */
    fx.rng = seed;
    fx.saved_entries = zset_max_packed_entries;
    fx.saved_value = zset_max_packed_value;
    zset_max_packed_entries = ZSET_PACKED_ENTRIES_DEFAULT;
    zset_max_packed_value = ZSET_PACKED_VALUE_DEFAULT;
    fx.mem_baseline = mem_used_bytes();
}

static void fixture_end(void)
{
    T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    zset_max_packed_entries = fx.saved_entries;
    zset_max_packed_value = fx.saved_value;
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

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(double)) == 0;
}

/* memcmp order, a prefix first. */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen;
}

/* ---- The model ----------------------------------------------------------- */

struct melem {
    double score; /* never NaN */
    char *m;      /* malloc()ed member bytes */
    size_t len;   /* bytes */
};

struct model {
    struct melem *e; /* elements in (score, member) order */
    size_t n;        /* elements */
    size_t cap;      /* slots in e */
    bool skiplist;   /* the encoding the set must have */
};

static int cmp_elem(double as, const char *a, size_t alen, double bs, const char *b, size_t blen)
{
    if (as < bs) return -1;
    if (as > bs) return 1;
    return cmp_bytes(a, alen, b, blen);
}

static int cmp_melem(const void *x, const void *y)
{
    const struct melem *a = x, *b = y;
    return cmp_elem(a->score, a->m, a->len, b->score, b->m, b->len);
}

static void model_destroy(struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].m);
    free(m->e);
    memset(m, 0, sizeof(*m));
}

static long model_find(const struct model *m, const char *p, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].len == len && (len == 0 || memcmp(m->e[i].m, p, len) == 0)) return (long)i;
    return -1;
}

/* Insert a member that is not there, in order. */
static void model_insert(struct model *m, const char *p, size_t len, double score)
{
    size_t at = 0;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->e = realloc(m->e, m->cap * sizeof(*m->e));
        if (!m->e) abort();
    }
    while (at < m->n && cmp_elem(m->e[at].score, m->e[at].m, m->e[at].len, score, p, len) < 0)
        at++;
    memmove(m->e + at + 1, m->e + at, (m->n - at) * sizeof(*m->e));
    m->e[at] = (struct melem){score, xdup(p, len), len};
    m->n++;
}

static void model_remove_at(struct model *m, size_t at)
{
    free(m->e[at].m);
    memmove(m->e + at, m->e + at + 1, (m->n - at - 1) * sizeof(*m->e));
    m->n--;
}

static void model_copy(struct model *dst, const struct model *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++)
        model_insert(dst, src->e[i].m, src->e[i].len, src->e[i].score);
    dst->skiplist = src->skiplist;
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

/* Bytes of one element in the packed block. */
static size_t packed_elem_bytes(size_t len)
{
    return sizeof(double) + vint_len(len) + len;
}

/* Payload bytes of the packed block of m (o->len of a packed set). */
static size_t packed_bytes(const struct model *m)
{
    size_t b = sizeof(uint32_t);
    for (size_t i = 0; i < m->n; i++)
        b += packed_elem_bytes(m->e[i].len);
    return b;
}

/* The encoding a set built from nothing (zset_decode) must have. */
static bool fits_packed(const struct model *m)
{
    if (m->n > zset_max_packed_entries) return false;
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].len > zset_max_packed_value) return false;
    return packed_bytes(m) <= ZSET_PACKED_BYTES_MAX;
}

/* ---- Operations on a set and its model alike ---------------------------- */

static struct obj *new_zset(struct model *m)
{
    struct obj *o = zset_new();
    memset(m, 0, sizeof(*m));
    T_EQ_INT(o->type, OBJ_ZSET);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    T_EQ_U64(zset_len(o), 0);
    return o;
}

static void do_set(struct obj **o, struct model *m, const void *p, size_t len, double score)
{
    long at = model_find(m, p, len);
    bool is_new = at < 0;
    double stored = score;
    if (is_new) {
        if (!m->skiplist && (m->n + 1 > zset_max_packed_entries || len > zset_max_packed_value ||
                             packed_bytes(m) + packed_elem_bytes(len) > ZSET_PACKED_BYTES_MAX))
            m->skiplist = true;
    }
    /* A packed set stores -0 as 0 (as Redis's listpack); the skiplist keeps
     * it, also for the member whose insertion converted the set. */
    if (!m->skiplist && score == 0)
        stored = 0.0;
    if (is_new) {
        model_insert(m, p, len, stored);
    } else if (m->e[at].score != score) { /* equal (-0.0 == 0.0): nothing changes */
        model_remove_at(m, (size_t)at);
        model_insert(m, p, len, stored);
    }
    CHECK(zset_set(o, p, len, score) == is_new, "zset_set(\"%.*s\", %g) should return %d", (int)len,
          (const char *)p, score, is_new);
    CHECK((*o)->encoding == (m->skiplist ? OBJ_ENC_SKIPLIST : OBJ_ENC_PACKED),
          "zset_set(\"%.*s\") left encoding %d, expected %s (%zu members)", (int)len,
          (const char *)p, (*o)->encoding, m->skiplist ? "skiplist" : "packed", m->n);
    T_EQ_U64(zset_len(*o), m->n);
}

static void do_set_str(struct obj **o, struct model *m, const char *s, double score)
{
    do_set(o, m, s, strlen(s), score);
}

static void do_del(struct obj **o, struct model *m, const void *p, size_t len)
{
    long at = model_find(m, p, len);
    if (at >= 0) model_remove_at(m, (size_t)at);
    CHECK(zset_del(o, p, len) == (at >= 0), "zset_del(\"%.*s\") should return %d", (int)len,
          (const char *)p, at >= 0);
    T_EQ_INT((*o)->encoding, m->skiplist ? OBJ_ENC_SKIPLIST : OBJ_ENC_PACKED);
    T_EQ_U64(zset_len(*o), m->n);
}

static void do_del_str(struct obj **o, struct model *m, const char *s)
{
    do_del(o, m, s, strlen(s));
}

/* Delete the member at model rank r (a copy of its bytes: the model frees). */
static void do_del_rank(struct obj **o, struct model *m, size_t r)
{
    char *x = xdup(m->e[r].m, m->e[r].len);
    size_t len = m->e[r].len;
    do_del(o, m, x, len);
    free(x);
}

/* ---- A mirror of zset.c's skiplist structs -------------------------------- */

struct zsl_level_mirror {
    struct zsl_node_mirror *forward; /* next node on this level */
    size_t span;                     /* level-0 steps to it */
};

struct zsl_node_mirror {
    struct ht_node hnode;             /* link in the dict */
    double score;                     /* the score */
    struct zsl_node_mirror *backward; /* previous node on level 0 */
    uint32_t mlen;                    /* member bytes */
    uint32_t nlevels;                 /* entries in level[] */
    struct zsl_level_mirror level[];  /* then the member bytes */
};

struct zsl_mirror {
    struct zsl_node_mirror *header; /* sentinel with MIRROR_MAX_LEVEL levels */
    struct zsl_node_mirror *tail;   /* last node or NULL */
    size_t length;                  /* nodes */
    int level;                      /* levels in use */
    struct ht dict;                 /* member -> node */
};

static struct zsl_mirror *zsl_of(const struct obj *o)
{
    struct zsl_mirror *z;
    memcpy(&z, o->data, sizeof(z));
    return z;
}

static const char *node_member(const struct zsl_node_mirror *n)
{
    return (const char *)&n->level[n->nlevels];
}

/* Levels in use by a skiplist (for tests that want several). */
static int skiplist_levels(const struct obj *o)
{
    T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
    return zsl_of(o)->level;
}

static void check_skiplist_levels(const struct zsl_mirror *z, struct zsl_node_mirror *const *nodes,
                                  size_t n)
{
    for (int i = 0; i < z->level; i++) {
        const struct zsl_node_mirror *x = z->header;
        size_t rank = 0, k = 0, steps = 0;
        while (x->level[i].forward) {
            const struct zsl_node_mirror *y = x->level[i].forward;
            size_t r;
            /* the next node of height > i on level 0 */
            while (k < n && nodes[k]->nlevels <= (uint32_t)i)
                k++;
            CHECK(k < n && nodes[k] == y, "level %d skips a node of its height", i);
            r = k + 1;
            k++;
            CHECK(x->level[i].span == r - rank, "level %d: span %zu, the link skips %zu", i,
                  x->level[i].span, r - rank);
            rank = r;
            x = y;
            T_ASSERT(++steps <= n);
        }
        while (k < n && nodes[k]->nlevels <= (uint32_t)i)
            k++;
        CHECK(k == n, "level %d ends before its last node", i);
    }
}

/* The skiplist's shape against the model (see the design block). */
static void check_skiplist(const struct obj *o, const struct model *m)
{
    const struct zsl_mirror *z = zsl_of(o);
    struct zsl_node_mirror **nodes;
    const struct zsl_node_mirror *x, *prev = NULL;
    size_t i = 0;
    T_EQ_U64(o->len, sizeof(void *));
    T_EQ_U64(z->length, m->n);
    T_EQ_U64(ht_count(&z->dict), m->n);
    T_EQ_U64(z->header->nlevels, MIRROR_MAX_LEVEL);
    T_ASSERT(z->level >= 1 && z->level <= MIRROR_MAX_LEVEL);
    T_ASSERT(z->level == 1 || z->header->level[z->level - 1].forward != NULL);
    for (int l = z->level; l < MIRROR_MAX_LEVEL; l++)
        T_NULL(z->header->level[l].forward);
    T_ASSERT(debug_check_ht(&z->dict));
    nodes = xmalloc((m->n ? m->n : 1) * sizeof(*nodes));
    for (x = z->header->level[0].forward; x; x = x->level[0].forward, i++) {
        T_ASSERT(i < m->n);
        T_ASSERT(x->nlevels >= 1 && x->nlevels <= (uint32_t)z->level);
        T_ASSERT(x->backward == prev);
        CHECK(same_bits(x->score, m->e[i].score), "node %zu: score %g, model %g", i, x->score,
              m->e[i].score);
        T_EQ_MEM(node_member(x), x->mlen, m->e[i].m, m->e[i].len);
        nodes[i] = (struct zsl_node_mirror *)x;
        prev = x;
    }
    T_EQ_U64(i, m->n);
    T_ASSERT(z->tail == prev);
    check_skiplist_levels(z, nodes, m->n);
    free(nodes);
}

/* ---- Checks ------------------------------------------------------------- */

/* The packed block, byte by byte. */
static void check_packed(const struct obj *o, const struct model *m)
{
    const unsigned char *p = (const unsigned char *)o->data;
    uint32_t count;
    size_t pos = sizeof(uint32_t);
    T_EQ_U64(o->len, packed_bytes(m));
    memcpy(&count, p, sizeof(count));
    T_EQ_U64(count, m->n);
    for (size_t i = 0; i < m->n; i++) {
        double s;
        unsigned char v[10];
        size_t vl = vint_put(v, m->e[i].len);
        memcpy(&s, p + pos, sizeof(s));
        CHECK(same_bits(s, m->e[i].score), "packed element %zu: score %g, model %g", i, s,
              m->e[i].score);
        pos += sizeof(double);
        T_EQ_MEM(p + pos, vl, v, vl);
        pos += vl;
        T_EQ_MEM(p + pos, m->e[i].len, m->e[i].m, m->e[i].len);
        pos += m->e[i].len;
    }
    T_EQ_U64(pos, o->len);
}

static void check_elem(const struct zset_elem *e, const struct melem *x, size_t rank)
{
    CHECK(same_bits(e->score, x->score), "rank %zu: score %.17g, model %.17g", rank, e->score,
          x->score);
    CHECK(e->mlen == x->len && (x->len == 0 || memcmp(e->m, x->m, x->len) == 0),
          "rank %zu: member \"%.*s\", model \"%.*s\"", rank, (int)e->mlen, e->m, (int)x->len, x->m);
}

static void check_zset(const struct obj *o, const struct model *m)
{
    struct zset_iter it;
    struct zset_elem e;
    size_t i = 0;
    T_EQ_INT(o->type, OBJ_ZSET);
    T_EQ_INT(o->encoding, m->skiplist ? OBJ_ENC_SKIPLIST : OBJ_ENC_PACKED);
    T_EQ_U64(zset_len(o), m->n);
    if (m->skiplist)
        check_skiplist(o, m);
    else
        check_packed(o, m);
    zset_iter_init(&it, o, 0, false);
    while (zset_iter_next(&it, &e)) {
        T_ASSERT(i < m->n);
        check_elem(&e, &m->e[i], i);
        i++;
    }
    T_EQ_U64(i, m->n);
    for (i = 0; i < m->n; i++) {
        double s = NAN;
        CHECK(zset_score(o, m->e[i].m, m->e[i].len, &s), "member %zu not found", i);
        T_ASSERT(same_bits(s, m->e[i].score));
        T_EQ_INT(zset_rank(o, m->e[i].m, m->e[i].len), (long long)i);
    }
}

/* Lookups of strings that look like members but are not. */
static void check_absent(struct obj **o, const struct model *m)
{
    static const struct {
        const char *p;
        size_t len;
    } extra[] = {{"", 0}, {"\0", 1}, {"a", 1}, {"zz", 2}, {"\xff", 1}, {"m", 1}, {"0", 1}};
    char buf[128];
    for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
        double s;
        if (model_find(m, extra[k].p, extra[k].len) >= 0) continue;
        T_ASSERT(!zset_score(*o, extra[k].p, extra[k].len, &s));
        T_EQ_INT(zset_rank(*o, extra[k].p, extra[k].len), -1);
    }
    for (size_t i = 0; i < m->n && i < 32; i++) {
        const struct melem *x = &m->e[i];
        double s;
        if (x->len + 1 > sizeof(buf)) continue;
        memcpy(buf, x->m, x->len);
        buf[x->len] = '\0'; /* longer by a NUL */
        if (model_find(m, buf, x->len + 1) < 0) {
            T_ASSERT(!zset_score(*o, buf, x->len + 1, &s));
            T_EQ_INT(zset_rank(*o, buf, x->len + 1), -1);
        }
        if (x->len > 0 && model_find(m, buf, x->len - 1) < 0) { /* shorter by one */
            T_ASSERT(!zset_score(*o, buf, x->len - 1, &s));
            T_EQ_INT(zset_rank(*o, buf, x->len - 1), -1);
        }
    }
    if (model_find(m, "no such member", 14) < 0) T_ASSERT(!zset_del(o, "no such member", 14));
}

/* Walks from start rank `start`, both directions, against the model. */
static void check_walk_from(const struct obj *o, const struct model *m, size_t start)
{
    struct zset_iter it;
    struct zset_elem e;
    size_t i = start;
    zset_iter_init(&it, o, start, false);
    while (zset_iter_next(&it, &e)) {
        CHECK(i < m->n, "ascending walk from %zu goes past the end", start);
        check_elem(&e, &m->e[i], i);
        i++;
    }
    CHECK(i == (start < m->n ? m->n : start), "ascending walk from %zu stopped at %zu of %zu",
          start, i, m->n);
    zset_iter_init(&it, o, start, true);
    i = start;
    {
        size_t seen = 0;
        while (zset_iter_next(&it, &e)) {
            CHECK(start < m->n && seen <= start, "descending walk from %zu overruns", start);
            check_elem(&e, &m->e[i], i);
            i--;
            seen++;
        }
        T_EQ_U64(seen, start < m->n ? start + 1 : 0);
    }
    /* a walk stopped half-way is no problem either */
    zset_iter_init(&it, o, start, start % 2 == 0);
    if (start < m->n) {
        T_ASSERT(zset_iter_next(&it, &e));
        check_elem(&e, &m->e[start], start);
    } else {
        T_ASSERT(!zset_iter_next(&it, &e));
    }
}

/* Walks from every start rank (up to n + 2), or a sample of them in a big set. */
static void check_walks(const struct obj *o, const struct model *m)
{
    if (m->n <= 400) {
        for (size_t s = 0; s <= m->n + 2; s++)
            check_walk_from(o, m, s);
        return;
    }
    {
        const size_t fixed[] = {0, 1, 2, m->n / 2, m->n - 2, m->n - 1, m->n, m->n + 1};
        for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
            check_walk_from(o, m, fixed[k]);
        for (int k = 0; k < 24; k++)
            check_walk_from(o, m, rnd_below(m->n));
    }
}

/* Expected zset_score_lower / zset_score_upper, by a linear scan. */
static size_t model_score_lower(const struct model *m, double min, bool ex)
{
    size_t i = 0;
    while (i < m->n && !(ex ? m->e[i].score > min : m->e[i].score >= min))
        i++;
    return i;
}

static size_t model_score_upper(const struct model *m, double max, bool ex)
{
    size_t i = 0;
    while (i < m->n && (ex ? m->e[i].score < max : m->e[i].score <= max))
        i++;
    return i;
}

static void check_score_bound(const struct obj *o, const struct model *m, double b)
{
    for (int ex = 0; ex < 2; ex++) {
        size_t lo = zset_score_lower(o, b, ex), hi = zset_score_upper(o, b, ex);
        CHECK(lo == model_score_lower(m, b, ex), "score_lower(%.17g, %d) = %zu, model %zu", b, ex,
              lo, model_score_lower(m, b, ex));
        CHECK(hi == model_score_upper(m, b, ex), "score_upper(%.17g, %d) = %zu, model %zu", b, ex,
              hi, model_score_upper(m, b, ex));
    }
}

/* Every score bound the model suggests: each score, its neighbours, and the
 * special values. A sample of the scores in a big set. */
static void check_score_bounds(const struct obj *o, const struct model *m)
{
    static const double special[] = {-INFINITY, INFINITY, -0.0, 0.0,  DBL_MAX, -DBL_MAX, DBL_MIN,
                                     -DBL_MIN,  4.9e-324, 1.0,  -1.0, 0.5,     1e300};
    size_t step = m->n > 200 ? m->n / 97 : 1;
    for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++)
        check_score_bound(o, m, special[k]);
    for (size_t i = 0; i < m->n; i += step) {
        double s = m->e[i].score;
        check_score_bound(o, m, s);
        check_score_bound(o, m, nextafter(s, INFINITY));
        check_score_bound(o, m, nextafter(s, -INFINITY));
    }
}

/* The predicates of a lex bound, as zset.h defines them. */
static bool past_lex_min(const struct melem *x, const struct zset_lex *b)
{
    int c;
    if (b->kind != 0) return b->kind < 0;
    c = cmp_bytes(x->m, x->len, b->p, b->len);
    return b->exclusive ? c > 0 : c >= 0;
}

static bool past_lex_max(const struct melem *x, const struct zset_lex *b)
{
    int c;
    if (b->kind != 0) return b->kind < 0;
    c = cmp_bytes(x->m, x->len, b->p, b->len);
    return b->exclusive ? c >= 0 : c > 0;
}

static void check_lex_bound(const struct obj *o, const struct model *m, const struct zset_lex *b)
{
    size_t lo = 0, hi = 0, got;
    while (lo < m->n && !past_lex_min(&m->e[lo], b))
        lo++;
    while (hi < m->n && !past_lex_max(&m->e[hi], b))
        hi++;
    got = zset_lex_lower(o, b);
    CHECK(got == lo, "lex_lower(kind %d, ex %d, \"%.*s\") = %zu, model %zu", b->kind, b->exclusive,
          (int)b->len, b->p ? b->p : "", got, lo);
    got = zset_lex_upper(o, b);
    CHECK(got == hi, "lex_upper(kind %d, ex %d, \"%.*s\") = %zu, model %zu", b->kind, b->exclusive,
          (int)b->len, b->p ? b->p : "", got, hi);
}

static void check_lex_value(const struct obj *o, const struct model *m, const char *p, size_t len)
{
    for (int ex = 0; ex < 2; ex++) {
        struct zset_lex b = {0, ex, p, len};
        check_lex_bound(o, m, &b);
    }
}

/* Lex bounds are defined when every score is equal: check them then. */
static void check_lex_bounds(const struct obj *o, const struct model *m)
{
    static const struct zset_lex inf[] = {
        {-1, false, NULL, 0}, {1, false, NULL, 0}, {-1, true, NULL, 0}, {1, true, NULL, 0}};
    char buf[80];
    size_t step = m->n > 200 ? m->n / 61 : 1;
    for (size_t i = 1; i < m->n; i++)
        if (m->e[i].score != m->e[0].score) return;
    for (size_t k = 0; k < 4; k++)
        check_lex_bound(o, m, &inf[k]);
    check_lex_value(o, m, "", 0);
    check_lex_value(o, m, "\xff\xff\xff", 3);
    check_lex_value(o, m, "\0", 1);
    for (size_t i = 0; i < m->n; i += step) {
        const struct melem *x = &m->e[i];
        check_lex_value(o, m, x->m, x->len);
        if (x->len > 0) check_lex_value(o, m, x->m, x->len - 1);
        if (x->len + 1 <= sizeof(buf)) {
            memcpy(buf, x->m, x->len);
            buf[x->len] = '\0';
            check_lex_value(o, m, buf, x->len + 1);
            buf[x->len] = '\xff';
            check_lex_value(o, m, buf, x->len + 1);
        }
    }
}

/* Binary search of the model by (score, member). */
static long model_bsearch(const struct model *m, double score, const char *p, size_t len)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_elem(m->e[mid].score, m->e[mid].m, m->e[mid].len, score, p, len);
        if (c == 0) return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* What one full scan saw, per model index. */
struct scan_seen {
    const struct model *m; /* borrowed */
    unsigned *visits;      /* per model index, visits_cap entries */
    size_t visits_cap;     /* entries in visits */
    size_t unknown;        /* visited elements not in the model (or other score bits) */
    size_t calls;          /* visits in all */
};

static void scan_visit(const struct zset_elem *e, void *ctx)
{
    struct scan_seen *s = ctx;
    long at = model_bsearch(s->m, e->score, e->m, e->mlen);
    s->calls++;
    if (at < 0 || (size_t)at >= s->visits_cap || !same_bits(s->m->e[at].score, e->score)) {
        s->unknown++;
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

/* A full scan of an unchanging set: each element at least once (packed:
 * exactly once, in one step, whatever the cursor). */
static void check_scan(const struct obj *o, const struct model *m)
{
    struct scan_seen s;
    uint64_t cursor = 0;
    unsigned steps = 0;
    scan_seen_create(&s, m, m->n);
    do {
        cursor = zset_scan(o, cursor, scan_visit, &s);
        T_ASSERT(++steps < SCAN_STEPS_MAX);
    } while (cursor != 0);
    T_EQ_U64(s.unknown, 0);
    if (!m->skiplist) T_EQ_U64(steps, 1);
    for (size_t i = 0; i < m->n; i++) {
        CHECK(s.visits[i] >= 1, "scan missed element %zu of %zu", i, m->n);
        if (!m->skiplist) T_EQ_U64(s.visits[i], 1);
    }
    if (!m->skiplist) { /* a stale cursor changes nothing */
        free(s.visits);
        scan_seen_create(&s, m, m->n);
        T_EQ_U64(zset_scan(o, 12345, scan_visit, &s), 0);
        T_EQ_U64(s.calls, m->n);
    }
    free(s.visits);
}

/* Memory: zset_mem_bytes() against what mem.c counted since base. */
static void check_mem(const struct obj *o, size_t base)
{
    size_t used = mem_used_bytes() - base, reported = zset_mem_bytes(o);
    T_ASSERT(reported >= mem_usable_bytes(o));
    T_ASSERT(used >= reported);
    CHECK(used - reported <= MEM_SLACK_BYTES_MAX, "mem used %zu, reported %zu", used, reported);
    T_EQ_U64(obj_mem_bytes(o), reported);
    if (o->encoding == OBJ_ENC_PACKED) {
        T_EQ_U64(reported, mem_usable_bytes(o));
        T_EQ_U64(used, reported);
    }
}

/* ---- The serialized form, built and parsed here --------------------------- */

/* A varint as varint.h reads it: up to 10 bytes, low bits first, the 10th
 * holding only bit 63. */
static bool get_vint(const unsigned char *u, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        if (*pos >= len) return false;
        if (i == 9 && u[*pos] > 1) return false;
        x |= (uint64_t)(u[*pos] & 0x7f) << (7 * i);
        if (!(u[(*pos)++] & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

/* Serialized input, built by hand or from a model. */
struct enc {
    unsigned char *d; /* malloc()ed bytes */
    size_t n;         /* bytes used */
    size_t cap;       /* bytes allocated */
};

static void enc_reserve(struct enc *e, size_t more)
{
    if (e->n + more <= e->cap) return;
    e->cap = (e->n + more) * 2;
    e->d = realloc(e->d, e->cap);
    if (!e->d) abort();
}

static void enc_vint(struct enc *e, uint64_t v)
{
    enc_reserve(e, 10);
    e->n += vint_put(e->d + e->n, v);
}

static void enc_raw(struct enc *e, const void *p, size_t len)
{
    enc_reserve(e, len);
    if (len) memcpy(e->d + e->n, p, len);
    e->n += len;
}

static void enc_double(struct enc *e, double s)
{
    enc_raw(e, &s, sizeof(s)); /* little-endian hosts, as zset.c says */
}

static void enc_elem(struct enc *e, double s, const void *p, size_t len)
{
    enc_double(e, s);
    enc_vint(e, len);
    enc_raw(e, p, len);
}

static void enc_model(struct enc *e, const struct model *m)
{
    e->n = 0;
    enc_vint(e, m->n);
    for (size_t i = 0; i < m->n; i++)
        enc_elem(e, m->e[i].score, m->e[i].m, m->e[i].len);
}

static void enc_free(struct enc *e)
{
    free(e->d);
    memset(e, 0, sizeof(*e));
}

/* Parse p[0..len) into a model; false unless it is a count > 0, that many
 * (score, member) elements with no NaN and no repeated member, and nothing
 * else. *in_order: the elements were strictly ascending. */
static bool parse_encoding(const char *p, size_t len, struct model *out, bool *in_order)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t pos = 0;
    uint64_t n;
    double prev_s = 0;
    const char *prev_m = NULL;
    size_t prev_len = 0;
    memset(out, 0, sizeof(*out));
    *in_order = true;
    if (!get_vint(u, len, &pos, &n) || n == 0) return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t mlen;
        double s;
        if (len - pos < sizeof(double)) return false;
        memcpy(&s, p + pos, sizeof(double));
        pos += sizeof(double);
        if (isnan(s) || !get_vint(u, len, &pos, &mlen) || mlen > len - pos) return false;
        if (model_find(out, p + pos, (size_t)mlen) >= 0) return false; /* repeated */
        if (prev_m && cmp_elem(prev_s, prev_m, prev_len, s, p + pos, (size_t)mlen) >= 0)
            *in_order = false;
        model_insert(out, p + pos, (size_t)mlen, s);
        prev_s = s;
        prev_m = p + pos;
        prev_len = (size_t)mlen;
        pos += (size_t)mlen;
    }
    return pos == len;
}

/* zset_decode() of a copy of p[0..len) in a block of exactly len bytes. */
static struct obj *decode_exact(const void *p, size_t len)
{
    char *copy = xmalloc(len);
    struct obj *o;
    if (len) memcpy(copy, p, len);
    o = zset_decode(copy, len);
    free(copy);
    return o;
}

/* Encode o (described by m), check the bytes, decode them, check the copy. */
/* The model of a decoded set: packed if it fits, and a packed set holds
 * -0 as 0 (zset_decode stores as read, then fixes a set that stayed packed). */
static void model_as_decoded(struct model *m)
{
    m->skiplist = !fits_packed(m);
    for (size_t i = 0; i < m->n && !m->skiplist; i++) {
        if (m->e[i].score == 0)
            m->e[i].score = 0.0;
    }
}

static void check_roundtrip(const struct obj *o, const struct model *m)
{
    struct buf b;
    struct enc want = {0};
    struct model parsed;
    struct obj *d;
    bool in_order;
    buf_create(&b);
    zset_encode(o, &b);
    enc_model(&want, m);
    T_EQ_MEM(b.data, b.len, want.d, want.n);
    enc_free(&want);
    d = decode_exact(b.data, b.len);
    if (m->n == 0) {
        T_NULL(d); /* a zero count is malformed: empty sets are never stored */
        T_ASSERT(!parse_encoding(b.data, b.len, &parsed, &in_order));
        model_destroy(&parsed);
        buf_destroy(&b);
        return;
    }
    T_ASSERT(parse_encoding(b.data, b.len, &parsed, &in_order));
    T_ASSERT(in_order);
    buf_destroy(&b);
    T_NOT_NULL(d);
    model_as_decoded(&parsed);
    check_zset(d, &parsed);
    zset_free(d);
    model_destroy(&parsed);
}

/* A copy equals the original, and changing either leaves the other alone. */
static void check_dup(struct obj **o, const struct model *m)
{
    struct model mc, mo;
    struct obj *d = zset_dup(*o);
    T_EQ_INT(d->encoding, (*o)->encoding);
    T_EQ_U64(d->lru, (*o)->lru);
    check_zset(d, m);
    model_copy(&mc, m);
    do_set_str(&d, &mc, "only in the copy", 42.5);
    if (mc.n > 2) do_del_rank(&d, &mc, 0);
    if (mc.n > 2) {
        char *x = xdup(mc.e[mc.n - 1].m, mc.e[mc.n - 1].len);
        do_set(&d, &mc, x, mc.e[mc.n - 1].len, -7.25);
        free(x);
    }
    check_zset(*o, m);
    check_zset(d, &mc);
    /* and the other way round, where re-adding cannot convert o */
    model_copy(&mo, m);
    for (size_t i = 0; i < 3 && i < m->n; i++) {
        char *x = xdup(m->e[i].m, m->e[i].len);
        size_t len = m->e[i].len;
        double s = m->e[i].score;
        if (!m->skiplist && (len > zset_max_packed_value || m->n > zset_max_packed_entries)) {
            free(x);
            break;
        }
        do_del(o, &mo, x, len);
        check_zset(d, &mc);
        do_set(o, &mo, x, len, s);
        free(x);
    }
    check_zset(*o, m);
    model_destroy(&mo);
    zset_free(d);
    model_destroy(&mc);
}

/* Everything; base is mem_used_bytes() from before o was created. */
static void check_deep(struct obj **o, const struct model *m, size_t base)
{
    check_zset(*o, m);
    check_absent(o, m);
    check_walks(*o, m);
    check_score_bounds(*o, m);
    check_lex_bounds(*o, m);
    check_scan(*o, m);
    check_mem(*o, base);
    check_roundtrip(*o, m);
    check_dup(o, m);
    check_mem(*o, base);
}

/* A set of n members "m<i>" with score i * mul (mul 0: all equal). */
static struct obj *build(struct model *m, size_t n, double mul)
{
    struct obj *o = new_zset(m);
    for (size_t i = 0; i < n; i++) {
        char s[32];
        do_set(&o, m, s, (size_t)snprintf(s, sizeof(s), "m%zu", i), (double)i * mul);
    }
    return o;
}

/* ---- Basic operations ---------------------------------------------------- */

TEST(zset_new_is_an_empty_packed_set)
{
    struct model m;
    struct obj *o;
    double s;
    struct zset_iter it;
    struct zset_elem e;
    struct zset_lex minus = {-1, false, NULL, 0}, plus = {1, false, NULL, 0};
    fixture_begin(1);
    o = new_zset(&m);
    T_EQ_U64(o->len, sizeof(uint32_t));
    T_ASSERT(!zset_score(o, "a", 1, &s));
    T_EQ_INT(zset_rank(o, "a", 1), -1);
    T_ASSERT(!zset_del(&o, "a", 1));
    T_EQ_U64(zset_score_lower(o, -INFINITY, false), 0);
    T_EQ_U64(zset_score_upper(o, INFINITY, false), 0);
    T_EQ_U64(zset_lex_lower(o, &minus), 0);
    T_EQ_U64(zset_lex_upper(o, &plus), 0);
    zset_iter_init(&it, o, 0, false);
    T_ASSERT(!zset_iter_next(&it, &e));
    zset_iter_init(&it, o, 0, true);
    T_ASSERT(!zset_iter_next(&it, &e));
    T_EQ_STR(obj_type_name(o), "zset");
    T_EQ_STR(obj_encoding_name(o), "listpack");
    check_deep(&o, &m, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(zset_set_del_score_rank_both_encodings)
{
    fixture_begin(2);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        struct model m;
        struct obj *o;
        zset_max_packed_entries = skiplist ? 0 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = new_zset(&m);
        for (int i = 0; i < 40; i++) {
            char s[16];
            do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "k%d", (i * 7) % 23),
                   (double)((i * 13) % 5) - 2);
        }
        T_EQ_U64(m.n, 23);
        check_deep(&o, &m, fx.mem_baseline);
        for (int i = 0; i < 23; i += 2) { /* new scores, the same score again */
            char s[16];
            size_t len = (size_t)snprintf(s, sizeof(s), "k%d", i);
            do_set(&o, &m, s, len, (double)i / 4);
            do_set(&o, &m, s, len, (double)i / 4);
            do_del_str(&o, &m, "nope");
        }
        check_deep(&o, &m, fx.mem_baseline);
        while (m.n > 0) { /* first, last, middle, ... */
            size_t at = m.n % 3 == 0 ? 0 : m.n % 3 == 1 ? m.n - 1 : m.n / 2;
            char *x = xdup(m.e[at].m, m.e[at].len);
            size_t len = m.e[at].len;
            do_del(&o, &m, x, len);
            do_del(&o, &m, x, len); /* twice: gone */
            free(x);
            if (m.n % 5 == 0) check_zset(o, &m);
        }
        check_deep(&o, &m, fx.mem_baseline);
        T_EQ_INT(o->encoding, skiplist ? OBJ_ENC_SKIPLIST : OBJ_ENC_PACKED);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* Members whose order is decided by bytes alone: NULs, high bytes, prefixes. */
static const struct {
    const char *p;
    size_t len;
} tie_members[] = {{"", 0},     {"\0", 1},   {"\0\0", 2},     {"a", 1},     {"a\0", 2},
                   {"ab", 2},   {"abc", 3},  {"b", 1},        {"B", 1},     {"\x7f", 1},
                   {"\x80", 1}, {"\xff", 1}, {"\xff\xff", 2}, {"a\xff", 2}, {"ab\0", 3},
                   {"0", 1},    {"00", 2},   {"1", 1},        {"10", 2},    {"9", 1}};

TEST(zset_ties_are_ordered_by_member_bytes)
{
    size_t n = sizeof(tie_members) / sizeof(tie_members[0]);
    fixture_begin(3);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        for (size_t rot = 0; rot < n; rot += 3) { /* several insertion orders */
            struct model m;
            struct obj *o;
            zset_max_packed_entries = skiplist ? 5 : ZSET_PACKED_ENTRIES_DEFAULT;
            o = new_zset(&m);
            for (size_t i = 0; i < n; i++) {
                size_t k = (rot + i * 7) % n;
                do_set(&o, &m, tie_members[k].p, tie_members[k].len, 1.0);
            }
            for (size_t i = 0; i < n; i += 4) /* a second score group */
                do_set(&o, &m, tie_members[i].p, tie_members[i].len, 2.0);
            check_deep(&o, &m, fx.mem_baseline);
            /* all equal again: the lex bounds apply */
            for (size_t i = 0; i < n; i += 4)
                do_set(&o, &m, tie_members[i].p, tie_members[i].len, 1.0);
            check_deep(&o, &m, fx.mem_baseline);
            T_EQ_INT(zset_rank(o, "", 0), 0);
            T_EQ_INT(zset_rank(o, "\xff\xff", 2), (long long)n - 1);
            T_EQ_INT(zset_rank(o, "a", 1), zset_rank(o, "a\0", 2) - 1);
            zset_free(o);
            model_destroy(&m);
        }
    }
    fixture_end();
}

/* zset_pack_if_fits: a skiplist within the packed limits becomes packed,
 * in the same order, its -0 scores 0; anything else is returned as is. */
TEST(zset_pack_if_fits_converts_only_what_fits)
{
    struct obj *o;
    struct zset_iter it;
    struct zset_elem e;
    double s;
    char m[8], longm[ZSET_PACKED_VALUE_DEFAULT + 1];
    size_t i = 0;
    fixture_begin(31);
    o = zset_new();
    T_ASSERT(zset_pack_if_fits(o) == o); /* already packed */
    zset_free(o);
    o = zset_new_skiplist();
    T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
    for (int k = 0; k < 10; k++) {
        int n = snprintf(m, sizeof(m), "m%d", 9 - k);
        T_ASSERT(zset_set(&o, m, (size_t)n, k % 2 ? -0.0 : (double)k));
    }
    T_ASSERT(zset_score(o, "m8", 2, &s) && signbit(s)); /* the skiplist keeps -0 */
    o = zset_pack_if_fits(o);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    T_EQ_U64(zset_len(o), 10);
    T_ASSERT(zset_score(o, "m8", 2, &s) && s == 0 && !signbit(s));
    zset_iter_init(&it, o, 0, false);
    for (double prev = -1; zset_iter_next(&it, &e); i++) {
        T_ASSERT(e.score >= prev);
        prev = e.score;
    }
    T_EQ_U64(i, 10);
    zset_free(o);
    /* a member longer than the packed value limit: stays a skiplist */
    memset(longm, 'x', sizeof(longm));
    o = zset_new_skiplist();
    T_ASSERT(zset_set(&o, "a", 1, -0.0));
    T_ASSERT(zset_set(&o, longm, sizeof(longm), 1));
    T_ASSERT(zset_pack_if_fits(o) == o);
    T_ASSERT(zset_score(o, "a", 1, &s) && signbit(s));
    zset_free(o);
    /* more members than the packed entry limit: stays a skiplist */
    zset_max_packed_entries = 4;
    o = zset_new_skiplist();
    for (int k = 0; k < 5; k++) {
        int n = snprintf(m, sizeof(m), "k%d", k);
        T_ASSERT(zset_set(&o, m, (size_t)n, k));
    }
    T_ASSERT(zset_pack_if_fits(o) == o);
    T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
    zset_free(o);
    fixture_end();
}

/* zset_lex_may_overlap: with equal scores it is false exactly when the
 * range is empty at an end (last below min, first above max); with mixed
 * scores it is Redis's check of the two ends. */
TEST(zset_lex_may_overlap_checks_the_ends)
{
    const struct zset_lex minus = {-1, false, NULL, 0}, plus = {1, false, NULL, 0};
    const struct zset_lex b_ex = {0, true, "b", 1}, m_ex = {0, true, "m", 1};
    const struct zset_lex c_in = {0, false, "c", 1}, d_ex = {0, true, "d", 1};
    struct obj *o;
    fixture_begin(32);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        zset_max_packed_entries = skiplist ? 0 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = zset_new();
        T_ASSERT(zset_set(&o, "a", 1, 0));
        T_ASSERT(zset_set(&o, "b", 1, 0));
        T_ASSERT(zset_set(&o, "c", 1, 0));
        T_ASSERT(zset_lex_may_overlap(o, &minus, &plus));
        T_ASSERT(zset_lex_may_overlap(o, &b_ex, &m_ex));  /* c is in (b, m) */
        T_ASSERT(zset_lex_may_overlap(o, &c_in, &plus));  /* [c: the last member */
        T_ASSERT(!zset_lex_may_overlap(o, &d_ex, &plus)); /* all below (d */
        T_ASSERT(zset_lex_may_overlap(o, &minus, &c_in));
        zset_free(o);
        /* mixed scores: c first (0), a last (1.5); (b, (m misses at the end */
        o = zset_new();
        T_ASSERT(zset_set(&o, "c", 1, 0));
        T_ASSERT(zset_set(&o, "a", 1, 1.5));
        T_ASSERT(!zset_lex_may_overlap(o, &b_ex, &m_ex));
        T_ASSERT(zset_lex_may_overlap(o, &minus, &plus));
        zset_free(o);
    }
    fixture_end();
}

TEST(zset_minus_zero_and_zero)
{
    fixture_begin(4);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        struct model m;
        struct obj *o;
        double s;
        zset_max_packed_entries = skiplist ? 0 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = new_zset(&m);
        do_set_str(&o, &m, "b", -0.0);
        do_set_str(&o, &m, "a", 0.0);
        do_set_str(&o, &m, "c", -0.0);
        do_set_str(&o, &m, "neg", -1.0);
        do_set_str(&o, &m, "pos", 1.0);
        /* -0.0 == 0.0: a tie, broken by the member */
        T_EQ_INT(zset_rank(o, "a", 1), 1);
        T_EQ_INT(zset_rank(o, "b", 1), 2);
        T_EQ_INT(zset_rank(o, "c", 1), 3);
        /* setting an equal score changes nothing, not even the sign; a
         * packed set stored b's -0 as 0 (Redis's listpack does) */
        do_set_str(&o, &m, "b", 0.0);
        T_ASSERT(zset_score(o, "b", 1, &s) && (signbit(s) != 0) == (skiplist != 0));
        do_set_str(&o, &m, "a", -0.0);
        T_ASSERT(zset_score(o, "a", 1, &s) && !signbit(s));
        T_EQ_U64(zset_score_lower(o, 0.0, false), 1);
        T_EQ_U64(zset_score_lower(o, -0.0, true), 4);
        T_EQ_U64(zset_score_upper(o, -0.0, false), 4);
        T_EQ_U64(zset_score_upper(o, 0.0, true), 1);
        check_deep(&o, &m, fx.mem_baseline); /* the round trip keeps the bits */
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_infinities_and_extremes)
{
    static const double scores[] = {INFINITY,
                                    -INFINITY,
                                    DBL_MAX,
                                    -DBL_MAX,
                                    4.9e-324,
                                    -4.9e-324,
                                    DBL_MIN,
                                    1e308,
                                    -1e-308,
                                    0.1,
                                    0.30000000000000004,
                                    9007199254740993.0,
                                    1e17,
                                    -1e17};
    size_t n = sizeof(scores) / sizeof(scores[0]);
    fixture_begin(5);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        struct model m;
        struct obj *o;
        zset_max_packed_entries = skiplist ? 3 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = new_zset(&m);
        for (size_t i = 0; i < n; i++) {
            char s[16];
            do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "x%zu", i), scores[i]);
            do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "y%zu", i), scores[n - 1 - i]);
        }
        T_EQ_INT(zset_rank(o, "x1", 2), 0); /* -inf first, then by member */
        T_EQ_INT(zset_rank(o, "y12", 3), 1);
        T_EQ_INT(zset_rank(o, "x0", 2), (long long)m.n - 2);
        T_EQ_INT(zset_rank(o, "y13", 3), (long long)m.n - 1);
        T_EQ_U64(zset_score_lower(o, INFINITY, false), m.n - 2);
        T_EQ_U64(zset_score_lower(o, INFINITY, true), m.n);
        T_EQ_U64(zset_score_upper(o, -INFINITY, false), 2);
        T_EQ_U64(zset_score_upper(o, -INFINITY, true), 0);
        check_deep(&o, &m, fx.mem_baseline);
        do_set_str(&o, &m, "x0", -INFINITY); /* from one end to the other */
        do_set_str(&o, &m, "x1", INFINITY);
        check_deep(&o, &m, fx.mem_baseline);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_walks_from_every_start_rank)
{
    static const size_t sizes[] = {0, 1, 2, 3, 10, 128, 129, 300};
    fixture_begin(6);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (int skiplist = 0; skiplist < 2; skiplist++) {
            struct model m;
            struct obj *o;
            zset_max_packed_entries = skiplist ? 0 : 1000;
            o = build(&m, sizes[k], k % 2 ? 0.5 : -3.0);
            check_zset(o, &m);
            check_walks(o, &m);
            zset_free(o);
            model_destroy(&m);
        }
    }
    fixture_end();
}

/* ---- Encodings and conversions --------------------------------------------- */

TEST(zset_converts_above_max_entries)
{
    static const size_t limits[] = {0, 1, 2, 16, ZSET_PACKED_ENTRIES_DEFAULT};
    fixture_begin(7);
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        struct model m;
        struct obj *o;
        zset_max_packed_entries = limits[k];
        o = build(&m, limits[k], 1.5);
        o->lru = 4242;
        T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
        if (limits[k] > 0) {
            do_set_str(&o, &m, "m0", 99.0); /* an update: no conversion */
            T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
        }
        check_deep(&o, &m, fx.mem_baseline);
        do_set_str(&o, &m, "new", 0.0); /* one more: converts */
        T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
        T_EQ_U64(o->lru, 4242);
        check_deep(&o, &m, fx.mem_baseline);
        while (m.n > 1) /* never back */
            do_del_rank(&o, &m, m.n / 2);
        T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
        check_deep(&o, &m, fx.mem_baseline);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_converts_for_a_long_member)
{
    static const size_t limits[] = {0, 1, 10, ZSET_PACKED_VALUE_DEFAULT, 200};
    char big[300];
    memset(big, 'v', sizeof(big));
    fixture_begin(8);
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        struct model m;
        struct obj *o;
        zset_max_packed_value = limits[k];
        o = new_zset(&m);
        do_set(&o, &m, big, 0, 1.0);
        do_set(&o, &m, "w", limits[k] > 0 ? 1 : 0, 2.0);
        do_set(&o, &m, big, limits[k], 3.0); /* exactly the limit: fits */
        T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
        check_deep(&o, &m, fx.mem_baseline);
        do_set(&o, &m, big, limits[k] + 1, 4.0);
        T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
        check_deep(&o, &m, fx.mem_baseline);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_updates_under_lowered_limits_keep_a_packed_set)
{
    /* Redis converts a listpack only when a member is added: an update of a
     * member that no longer fits the lowered limits keeps it. */
    struct model m;
    struct obj *o;
    fixture_begin(9);
    o = new_zset(&m);
    do_set_str(&o, &m, "abcdefghij", 1.0);
    do_set_str(&o, &m, "x", 2.0);
    do_set_str(&o, &m, "y", 3.0);
    zset_max_packed_entries = 2;
    do_set_str(&o, &m, "y", 30.0);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    zset_max_packed_value = 5;
    do_set_str(&o, &m, "x", 20.0);
    do_set_str(&o, &m, "abcdefghij", 10.0);
    T_EQ_INT(o->encoding, OBJ_ENC_PACKED);
    check_deep(&o, &m, fx.mem_baseline);
    do_del_str(&o, &m, "x");
    do_set_str(&o, &m, "z", 0.0); /* a new member: 3 > 2 converts */
    T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
    check_deep(&o, &m, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(zset_packed_block_is_bounded)
{
    /* With the entry and value limits out of the way, a packed set converts
     * when its block would pass ZSET_PACKED_BYTES_MAX. */
    struct model m;
    struct obj *o;
    char member[1000];
    int i = 0;
    fixture_begin(10);
    zset_max_packed_entries = 1000000;
    zset_max_packed_value = 1000000;
    memset(member, 'p', sizeof(member));
    o = new_zset(&m);
    while (!m.skiplist) {
        snprintf(member, sizeof(member), "%06d", i);
        member[6] = 'p';
        do_set(&o, &m, member, sizeof(member), (double)(i % 7));
        T_ASSERT(++i < 1000);
        if (!m.skiplist) T_ASSERT(packed_bytes(&m) <= ZSET_PACKED_BYTES_MAX);
    }
    T_ASSERT(i > 200);
    check_zset(o, &m);
    check_roundtrip(o, &m); /* decodes as a skiplist: it does not fit */
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

/* ---- Bounds ------------------------------------------------------------------ */

TEST(zset_score_and_lex_bounds_by_hand)
{
    struct model m;
    struct obj *o;
    struct zset_lex b;
    fixture_begin(11);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        zset_max_packed_entries = skiplist ? 0 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = new_zset(&m);
        do_set_str(&o, &m, "a", 1.0);
        do_set_str(&o, &m, "b", 2.0);
        do_set_str(&o, &m, "c", 2.0);
        do_set_str(&o, &m, "d", 3.0);
        T_EQ_U64(zset_score_lower(o, 2.0, false), 1);
        T_EQ_U64(zset_score_lower(o, 2.0, true), 3);
        T_EQ_U64(zset_score_upper(o, 2.0, false), 3);
        T_EQ_U64(zset_score_upper(o, 2.0, true), 1);
        T_EQ_U64(zset_score_lower(o, -INFINITY, false), 0);
        T_EQ_U64(zset_score_lower(o, -INFINITY, true), 0);
        T_EQ_U64(zset_score_upper(o, INFINITY, true), 4);
        T_EQ_U64(zset_score_lower(o, 3.5, false), 4);
        T_EQ_U64(zset_score_upper(o, 0.5, false), 0);
        zset_free(o);
        model_destroy(&m);
        o = build(&m, 0, 0);
        do_set_str(&o, &m, "apple", 0);
        do_set_str(&o, &m, "apricot", 0);
        do_set_str(&o, &m, "banana", 0);
        do_set_str(&o, &m, "ap", 0);
        b = (struct zset_lex){0, false, "ap", 2};
        T_EQ_U64(zset_lex_lower(o, &b), 0);
        b.exclusive = true;
        T_EQ_U64(zset_lex_lower(o, &b), 1);
        T_EQ_U64(zset_lex_upper(o, &b), 0);
        b = (struct zset_lex){0, false, "apz", 3};
        T_EQ_U64(zset_lex_upper(o, &b), 3);
        b = (struct zset_lex){0, true, "banana", 6};
        T_EQ_U64(zset_lex_upper(o, &b), 3);
        b.exclusive = false;
        T_EQ_U64(zset_lex_upper(o, &b), 4);
        b = (struct zset_lex){1, false, NULL, 0};
        T_EQ_U64(zset_lex_lower(o, &b), 4);
        T_EQ_U64(zset_lex_upper(o, &b), 4);
        b.kind = -1;
        T_EQ_U64(zset_lex_lower(o, &b), 0);
        T_EQ_U64(zset_lex_upper(o, &b), 0);
        check_deep(&o, &m, fx.mem_baseline);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* ---- Scan, dup, memory, obj layer ------------------------------------------ */

TEST(zset_scan_visits_every_element)
{
    fixture_begin(12);
    for (size_t n = 0; n < 5000; n = n * 2 + 1) {
        for (int skiplist = 0; skiplist < 2; skiplist++) {
            struct model m;
            struct obj *o;
            zset_max_packed_entries = skiplist ? 0 : 100000;
            zset_max_packed_value = 100000;
            o = build(&m, n < 3000 || skiplist ? n : 3000, 0.25);
            check_scan(o, &m);
            zset_free(o);
            model_destroy(&m);
        }
    }
    fixture_end();
}

/* A full scan of a skiplist whose dict grows (and rehashes) between steps:
 * every element present throughout is visited. */
#define SCAN_GROWTH_MAX 4000
TEST(zset_scan_while_growing)
{
    struct model m;
    struct obj *o;
    struct scan_seen s;
    uint64_t cursor = 0;
    unsigned steps = 0;
    size_t original;
    int next = 0;
    struct model first;
    fixture_begin(13);
    o = build(&m, 200, 1.0);
    original = m.n;
    model_copy(&first, &m);
    scan_seen_create(&s, &first, original);
    do {
        cursor = zset_scan(o, cursor, scan_visit, &s);
        for (int j = 0; j < 20 && next < SCAN_GROWTH_MAX; j++) {
            char b[32];
            int g = next++;
            do_set(&o, &m, b, (size_t)snprintf(b, sizeof(b), "grow%d", g), -1.0 * g);
        }
        T_ASSERT(++steps < SCAN_STEPS_MAX);
    } while (cursor != 0);
    for (size_t i = 0; i < original; i++)
        CHECK(s.visits[i] >= 1, "scan missed original element %zu", i);
    free(s.visits);
    model_destroy(&first);
    check_deep(&o, &m, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(zset_dup_is_deep_both_encodings)
{
    fixture_begin(14);
    for (size_t n = 0; n < 700; n = n * 3 + 1) {
        struct model m;
        struct obj *o = build(&m, n, -0.5);
        o->lru = 99;
        check_dup(&o, &m);
        check_zset(o, &m);
        zset_free(o);
        model_destroy(&m);
    }
    { /* a dict in the middle of a rehash */
        struct model m;
        struct obj *o;
        zset_max_packed_entries = 0;
        o = build(&m, 4, 1.0);
        for (int i = 4; i < 10000 && !ht_is_rehashing(&zsl_of(o)->dict); i++) {
            char b[32];
            do_set(&o, &m, b, (size_t)snprintf(b, sizeof(b), "r%d", i), (double)(i % 13));
        }
        T_ASSERT(ht_is_rehashing(&zsl_of(o)->dict));
        check_dup(&o, &m);
        check_deep(&o, &m, fx.mem_baseline);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_mem_bytes_tracks_allocations)
{
    fixture_begin(15);
    for (int skiplist = 0; skiplist < 2; skiplist++) {
        struct model m;
        struct obj *o;
        zset_max_packed_entries = skiplist ? 0 : ZSET_PACKED_ENTRIES_DEFAULT;
        o = new_zset(&m);
        check_mem(o, fx.mem_baseline);
        for (int i = 0; i < 600; i++) {
            char s[32];
            do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "member%d", i * 17), i * 0.5);
            check_mem(o, fx.mem_baseline);
        }
        T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST); /* 600 > 128 */
        for (int i = 0; i < 600; i += 2) {
            char s[32];
            do_del(&o, &m, s, (size_t)snprintf(s, sizeof(s), "member%d", i * 17));
            check_mem(o, fx.mem_baseline);
        }
        zset_free(o);
        model_destroy(&m);
        T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    }
    { /* a packed block shrinks with each removal */
        struct model m;
        struct obj *o;
        zset_max_packed_entries = ZSET_PACKED_ENTRIES_DEFAULT;
        o = build(&m, 100, 1.0);
        while (m.n > 0) {
            do_del_str(&o, &m, "nope");
            do_del_rank(&o, &m, m.n / 3);
            T_EQ_U64(o->len, packed_bytes(&m));
            check_mem(o, fx.mem_baseline);
        }
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

TEST(zset_obj_layer_dispatch)
{
    struct model m;
    struct obj *o, *d;
    fixture_begin(16);
    o = build(&m, 3, 1.0);
    T_EQ_STR(obj_type_name(o), "zset");
    T_EQ_STR(obj_encoding_name(o), "listpack");
    T_EQ_U64(obj_mem_bytes(o), zset_mem_bytes(o));
    d = obj_dup(o);
    check_zset(d, &m);
    obj_delete(d);
    do_set(&o, &m, "x", 0, 1.0);
    zset_max_packed_entries = 3;
    do_set_str(&o, &m, "more", 2.0);
    T_EQ_STR(obj_encoding_name(o), "skiplist");
    T_EQ_U64(obj_mem_bytes(o), zset_mem_bytes(o));
    d = obj_dup(o);
    check_zset(d, &m);
    obj_delete(d);
    obj_delete(o);
    model_destroy(&m);
    fixture_end();
}

/* ---- Serialized form ------------------------------------------------------ */

TEST(zset_encode_decode_round_trip)
{
    fixture_begin(17);
    for (size_t n = 1; n < 1200; n = n * 2 + 1) {
        struct model m;
        struct obj *o = build(&m, n, 0.1);
        check_roundtrip(o, &m);
        zset_max_packed_entries = 3; /* decode converts what no longer fits */
        check_roundtrip(o, &m);
        zset_max_packed_entries = 0;
        check_roundtrip(o, &m);
        zset_max_packed_entries = 100000; /* and keeps packed what fits again */
        check_roundtrip(o, &m);
        zset_max_packed_value = 1;
        check_roundtrip(o, &m);
        zset_max_packed_entries = ZSET_PACKED_ENTRIES_DEFAULT;
        zset_max_packed_value = ZSET_PACKED_VALUE_DEFAULT;
        {
            char *big = xmalloc(20000);
            memset(big, 'b', 20000);
            do_set(&o, &m, big, 16384, -INFINITY); /* a 3-byte length */
            do_set(&o, &m, big, 200, INFINITY);    /* a 2-byte length */
            do_set(&o, &m, "", 0, -0.0);
            free(big);
        }
        check_roundtrip(o, &m);
        zset_free(o);
        model_destroy(&m);
    }
    fixture_end();
}

/* The encoding of a sample set: n elements, some long, -0.0, inf, ties. */
static void encode_sample(struct enc *e, size_t n)
{
    struct model m;
    struct obj *o = new_zset(&m);
    char v[300];
    memset(v, 'v', sizeof(v));
    for (size_t i = 0; i < n; i++) {
        char s[32];
        do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "e%zu", i), (double)(i % 4) - 1.5);
    }
    do_set(&o, &m, v, sizeof(v), -0.0);
    do_set(&o, &m, "", 0, INFINITY);
    memset(e, 0, sizeof(*e));
    enc_model(e, &m);
    zset_free(o);
    model_destroy(&m);
}

TEST(zset_decode_rejects_truncated_input)
{
    static const size_t sizes[] = {1, 5, 130};
    fixture_begin(18);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct enc e;
        struct obj *o;
        encode_sample(&e, sizes[k]);
        for (size_t cut = 0; cut < e.n; cut++)
            CHECK(decode_exact(e.d, cut) == NULL, "decoded a prefix of %zu of %zu bytes", cut, e.n);
        o = decode_exact(e.d, e.n);
        T_NOT_NULL(o);
        T_EQ_U64(zset_len(o), sizes[k] + 2);
        T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST); /* the 300-byte member */
        zset_free(o);
        enc_free(&e);
    }
    fixture_end();
}

/* Expect zset_decode() to refuse e, and this file's parser too. */
static void expect_bad(const struct enc *e, const char *what)
{
    struct model parsed;
    bool in_order;
    struct obj *o = decode_exact(e->d, e->n);
    CHECK(o == NULL, "decoded malformed input: %s", what);
    CHECK(!parse_encoding((const char *)e->d, e->n, &parsed, &in_order), "parser accepted: %s",
          what);
    model_destroy(&parsed);
}

/* Expect zset_decode() to accept e with n elements and this encoding. */
static void expect_good(const struct enc *e, size_t n, int encoding)
{
    struct model parsed;
    bool in_order;
    struct obj *o = decode_exact(e->d, e->n);
    T_NOT_NULL(o);
    T_ASSERT(parse_encoding((const char *)e->d, e->n, &parsed, &in_order));
    T_EQ_U64(parsed.n, n);
    T_EQ_INT(o->encoding, encoding);
    parsed.skiplist = encoding == OBJ_ENC_SKIPLIST;
    check_zset(o, &parsed);
    zset_free(o);
    model_destroy(&parsed);
}

TEST(zset_decode_rejects_nan_scores)
{
    static const uint64_t nans[] = {0x7ff8000000000000ull, 0xfff8000000000000ull,
                                    0x7ff0000000000001ull, 0x7fffffffffffffffull,
                                    0xfff0000000000001ull};
    fixture_begin(19);
    for (size_t k = 0; k < sizeof(nans) / sizeof(nans[0]); k++) {
        for (size_t n = 1; n <= 140; n = n < 4 ? n + 1 : n * 6) {
            for (size_t at = 0; at < n; at += (n > 10 ? n / 5 : 1)) {
                struct enc e = {0};
                enc_vint(&e, n);
                for (size_t i = 0; i < n; i++) {
                    char s[32];
                    size_t len = (size_t)snprintf(s, sizeof(s), "n%zu", i);
                    if (i == at) {
                        double d;
                        memcpy(&d, &nans[k], sizeof(d));
                        enc_elem(&e, d, s, len);
                    } else {
                        enc_elem(&e, (double)i, s, len);
                    }
                }
                expect_bad(&e, "a NaN score");
                enc_free(&e);
            }
        }
    }
    fixture_end();
}

TEST(zset_decode_rejects_repeated_member)
{
    fixture_begin(20);
    for (size_t n = 2; n <= 300; n = n * 3) {
        for (int kind = 0; kind < 4; kind++) {
            struct enc e = {0};
            enc_vint(&e, n);
            for (size_t i = 0; i < n; i++) {
                char s[32];
                size_t j = i;
                /* the repeat: adjacent with the same score, with another
                 * score, far apart, or the empty member */
                if (i == n - 1) j = kind == 2 ? 0 : kind == 3 ? (size_t)-1 : n - 2;
                if (j == (size_t)-1) {
                    enc_elem(&e, (double)i, "", 0);
                    continue;
                }
                if (i == 0 && kind == 3) {
                    enc_elem(&e, -1.0, "", 0);
                    continue;
                }
                enc_elem(&e, kind == 0 && i == n - 1 ? (double)(n - 2) : (double)i, s,
                         (size_t)snprintf(s, sizeof(s), "r%zu", j));
            }
            expect_bad(&e, "a repeated member");
            enc_free(&e);
        }
    }
    fixture_end();
}

TEST(zset_decode_rejects_bad_counts_and_trailing_bytes)
{
    struct enc e = {0};
    fixture_begin(21);
    enc_vint(&e, 0);
    expect_bad(&e, "count 0");
    enc_elem(&e, 1.0, "a", 1);
    expect_bad(&e, "count 0 and an element");
    e.n = 0;
    enc_vint(&e, 3);
    enc_elem(&e, 1.0, "a", 1);
    enc_elem(&e, 2.0, "b", 1);
    expect_bad(&e, "count 3, two elements");
    e.n = 0;
    enc_vint(&e, 2);
    enc_elem(&e, 1.0, "a", 1);
    enc_elem(&e, 2.0, "b", 1);
    expect_good(&e, 2, OBJ_ENC_PACKED);
    enc_raw(&e, "\0", 1);
    expect_bad(&e, "a trailing byte");
    e.n -= 1;
    enc_elem(&e, 3.0, "c", 1);
    expect_bad(&e, "a trailing element");
    e.n = 0;
    enc_vint(&e, 1);
    enc_elem(&e, 1.0, "a", 1);
    enc_raw(&e, "\x01\x02\x03\x04\x05\x06\x07", 7); /* less than a score */
    expect_bad(&e, "7 trailing bytes");
    static const uint64_t counts[] = {
        UINT64_MAX, (uint64_t)1 << 63, (uint64_t)1 << 32, UINT32_MAX, 1000, 3};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        e.n = 0;
        enc_vint(&e, counts[k]);
        enc_elem(&e, 1.0, "a", 1);
        enc_elem(&e, 2.0, "b", 1);
        expect_bad(&e, "a count larger than the elements");
    }
    /* a count just above what the bytes could hold (9 bytes per element) */
    e.n = 0;
    enc_vint(&e, 12);
    for (int i = 0; i < 11; i++) {
        char s[2] = {(char)('a' + i), 0};
        enc_elem(&e, 0.0, s, 0 == i ? 0 : 1);
    }
    expect_bad(&e, "count 12, 11 elements");
    enc_free(&e);
    fixture_end();
}

TEST(zset_decode_rejects_bad_varints_and_lengths)
{
    struct enc e = {0};
    fixture_begin(22);
    for (int i = 0; i < 11; i++) /* a count varint that never ends */
        enc_raw(&e, "\x81", 1);
    enc_raw(&e, "\x01", 1);
    enc_elem(&e, 1.0, "a", 1);
    expect_bad(&e, "an 11-byte count");
    e.n = 0; /* a 10-byte count whose last byte overflows 64 bits */
    enc_raw(&e, "\x81\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
    enc_elem(&e, 1.0, "a", 1);
    expect_bad(&e, "a count over 64 bits");
    e.n = 0; /* a member length varint that never ends */
    enc_vint(&e, 1);
    enc_double(&e, 1.0);
    for (int i = 0; i < 11; i++)
        enc_raw(&e, "\xff", 1);
    expect_bad(&e, "an endless length");
    static const uint64_t lens[] = {4, UINT64_MAX, (uint64_t)UINT32_MAX + 1, SIZE_MAX - 1};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        e.n = 0;
        enc_vint(&e, 1);
        enc_double(&e, 1.0);
        enc_vint(&e, lens[k]);
        enc_raw(&e, "abc", 3);
        expect_bad(&e, "a length past the end");
    }
    e.n = 0;
    enc_vint(&e, 2);
    enc_elem(&e, 1.0, "a", 1);
    enc_double(&e, 2.0);
    enc_vint(&e, SIZE_MAX - 1);
    expect_bad(&e, "second length SIZE_MAX-1");
    /* an overlong but terminated varint is a valid varint (varint.h) */
    e.n = 0;
    enc_raw(&e, "\x81\x00", 2); /* count 1 */
    enc_double(&e, 7.0);
    enc_raw(&e, "\x81\x80\x00", 3); /* length 1 */
    enc_raw(&e, "7", 1);
    expect_good(&e, 1, OBJ_ENC_PACKED);
    enc_free(&e);
    fixture_end();
}

TEST(zset_decode_of_valid_input)
{
    struct enc e = {0};
    struct obj *o;
    char big[70000];
    double s;
    fixture_begin(23);
    memset(big, 'q', sizeof(big));
    enc_vint(&e, 4);
    enc_elem(&e, -0.0, "", 0);
    enc_elem(&e, 0.0, "\0", 1);
    enc_elem(&e, INFINITY, big, 16384);
    enc_elem(&e, INFINITY, big, sizeof(big));
    expect_good(&e, 4, OBJ_ENC_SKIPLIST);
    o = decode_exact(e.d, e.n);
    T_ASSERT(zset_score(o, "", 0, &s) && signbit(s) && s == 0);
    zset_free(o);
    /* 128 elements are packed, 129 are not */
    for (size_t n = 128; n <= 129; n++) {
        e.n = 0;
        enc_vint(&e, n);
        for (size_t i = 0; i < n; i++) {
            char m[16];
            enc_elem(&e, (double)i, m, (size_t)snprintf(m, sizeof(m), "%05zu", i));
        }
        expect_good(&e, n, n == 128 ? OBJ_ENC_PACKED : OBJ_ENC_SKIPLIST);
    }
    /* Out of order: whatever zset_decode() decides, it never builds a wrong
     * set (zset_encode() writes elements in order). */
    e.n = 0;
    enc_vint(&e, 3);
    enc_elem(&e, 3.0, "c", 1);
    enc_elem(&e, 1.0, "a", 1);
    enc_elem(&e, 2.0, "b", 1);
    o = decode_exact(e.d, e.n);
    if (o) {
        struct model parsed;
        bool in_order;
        T_ASSERT(parse_encoding((const char *)e.d, e.n, &parsed, &in_order));
        T_ASSERT(!in_order);
        check_zset(o, &parsed);
        zset_free(o);
        model_destroy(&parsed);
    }
    enc_free(&e);
    fixture_end();
}

/* Damage p[0..len) (room for cap bytes) one to three times; returns the
 * new length. */
static size_t corrupt(unsigned char *p, size_t len, size_t cap)
{
    for (size_t hits = 1 + rnd_below(3); hits > 0 && len < cap; hits--) {
        size_t at = len ? rnd_below(len) : 0;
        switch (rnd_below(7)) {
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
        case 5: /* make a score NaN or another number (bytes 1..8 of an element) */
            if (len > 9) p[1 + rnd_below(len - 9) + 7] ^= 0x7f;
            break;
        default: /* bump the count */
            if (len && !(p[0] & 0x80)) p[0] = (unsigned char)((p[0] + 1) & 0x7f);
            break;
        }
    }
    return len;
}

/* Random damage to valid encodings: zset_decode() refuses what the parser
 * refuses, never builds a wrong set, and accepts what is well formed. */
TEST(zset_decode_survives_random_corruption)
{
    fixture_begin(24);
    for (int round = 0; round < 4000; round++) {
        struct model m, parsed;
        struct obj *o, *d;
        struct enc e = {0};
        unsigned char *p;
        size_t len, cap;
        bool ok, in_order;
        size_t n = 1 + rnd_below(rnd_below(4) == 0 ? 150 : 8);
        o = new_zset(&m);
        for (size_t i = 0; i < n; i++) {
            char s[32];
            do_set(&o, &m, s, (size_t)snprintf(s, sizeof(s), "c%zu", rnd_below(3 * n)),
                   (double)rnd_below(5) - 2);
        }
        enc_model(&e, &m);
        zset_free(o);
        model_destroy(&m);
        cap = e.n + 8;
        p = xmalloc(cap);
        memcpy(p, e.d, e.n);
        len = corrupt(p, e.n, cap);
        enc_free(&e);
        ok = parse_encoding((const char *)p, len, &parsed, &in_order);
        d = decode_exact(p, len);
        if (!ok) CHECK(d == NULL, "round %d: decoded input the parser refuses", round);
        if (ok && in_order) CHECK(d != NULL, "round %d: refused well-formed input", round);
        if (d) {
            model_as_decoded(&parsed);
            check_zset(d, &parsed);
            zset_free(d);
        }
        model_destroy(&parsed);
        free(p);
    }
    fixture_end();
}

/* ---- Randomized operations against the model ------------------------------ */

/* A pool of members (ties, prefixes, binary, long) and of scores. */
struct pool {
    char m[64][80];
    size_t len[64];
    size_t n;
};

static void pool_fill(struct pool *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t k = 0; k < sizeof(tie_members) / sizeof(tie_members[0]); k++) {
        memcpy(p->m[p->n], tie_members[k].p, tie_members[k].len);
        p->len[p->n++] = tie_members[k].len;
    }
    while (p->n < 64) {
        size_t len = rnd_below(4) == 0 ? 1 + rnd_below(79) : 1 + rnd_below(8);
        for (size_t j = 0; j < len; j++)
            p->m[p->n][j] = (char)(rnd_below(3) == 0 ? rnd() : 'a' + rnd_below(4));
        p->len[p->n++] = len;
    }
}

static double random_score(void)
{
    static const double special[] = {-INFINITY, INFINITY, -0.0, 0.0, DBL_MAX,
                                     -DBL_MAX,  4.9e-324, 0.1,  0.2, 0.30000000000000004,
                                     1e300,     -1e-300};
    if (rnd_below(5) == 0) return special[rnd_below(sizeof(special) / sizeof(special[0]))];
    return (double)((int)rnd_below(21) - 10) / (rnd_below(2) ? 1 : 4);
}

static void random_step(struct obj **o, struct model *m, const struct pool *pool, int op)
{
    static const size_t entries[] = {0, 1, 3, 16, 64, ZSET_PACKED_ENTRIES_DEFAULT};
    unsigned r = (unsigned)rnd_below(100);
    size_t pick = rnd_below(pool->n);
    if (r < 50) {
        do_set(o, m, pool->m[pick], pool->len[pick], random_score());
    } else if (r < 62 && m->n > 0) { /* a new score for a member that is there */
        size_t at = rnd_below(m->n);
        char *x = xdup(m->e[at].m, m->e[at].len);
        do_set(o, m, x, m->e[at].len, random_score());
        free(x);
    } else if (r < 85) {
        do_del(o, m, pool->m[pick], pool->len[pick]);
    } else if (r < 87) { /* entries only: a lowered value limit is tested apart */
        zset_max_packed_entries = entries[rnd_below(6)];
    } else if (r < 89) { /* replace by a copy */
        struct obj *d = zset_dup(*o);
        zset_free(*o);
        *o = d;
    } else if (r < 91 && m->n > 0) { /* replace by a decoded copy */
        struct buf b;
        buf_create(&b);
        zset_encode(*o, &b);
        zset_free(*o);
        *o = decode_exact(b.data, b.len);
        buf_destroy(&b);
        T_NOT_NULL(*o);
        model_as_decoded(m);
    } else if (r < 95) {
        check_walk_from(*o, m, rnd_below(m->n + 2));
        check_score_bound(*o, m, random_score());
    } else if (r < 99) {
        double s;
        long at = model_find(m, pool->m[pick], pool->len[pick]);
        T_EQ_INT(zset_score(*o, pool->m[pick], pool->len[pick], &s), at >= 0);
        T_EQ_INT(zset_rank(*o, pool->m[pick], pool->len[pick]), at);
    } else {
        check_deep(o, m, fx.mem_baseline);
    }
    if (op % 97 == 0) check_zset(*o, m);
}

static void random_run(uint64_t seed)
{
    struct pool pool;
    struct model m;
    struct obj *o;
    fixture_begin(seed);
    pool_fill(&pool);
    zset_max_packed_value = rnd_below(2) ? ZSET_PACKED_VALUE_DEFAULT : 4;
    o = new_zset(&m);
    for (int op = 0; op < 3000; op++) {
        random_step(&o, &m, &pool, op);
        T_EQ_U64(zset_len(o), m.n);
        T_EQ_INT(o->encoding, m.skiplist ? OBJ_ENC_SKIPLIST : OBJ_ENC_PACKED);
        if (m.n == 0 && rnd_below(4) == 0) { /* an emptied set is dropped, as ZREM does */
            zset_free(o);
            model_destroy(&m);
            o = new_zset(&m);
        }
    }
    check_deep(&o, &m, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(zset_random_ops_against_model)
{
    for (uint64_t seed = 100; seed < 116; seed++)
        random_run(seed);
}

/* ---- A large skiplist ------------------------------------------------------- */

/* Sort the model (after direct changes to e[]). */
static void model_sort(struct model *m)
{
    qsort(m->e, m->n, sizeof(*m->e), cmp_melem);
}

TEST(zset_large_skiplist)
{
    struct model m;
    struct obj *o;
    fixture_begin(25);
    memset(&m, 0, sizeof(m));
    m.cap = BIG_MEMBERS;
    m.e = xmalloc(m.cap * sizeof(*m.e));
    m.skiplist = true;
    o = zset_new();
    /* members are distinct by construction: no model_find() needed */
    for (size_t i = 0; i < BIG_MEMBERS; i++) {
        char s[32];
        size_t len = (size_t)snprintf(s, sizeof(s), "big%07zu", (i * 7919) % BIG_MEMBERS);
        double score = (double)rnd_below(BIG_MEMBERS / 4) / 2; /* many ties */
        T_ASSERT(zset_set(&o, s, len, score));
        m.e[m.n++] = (struct melem){score, xdup(s, len), len};
    }
    model_sort(&m);
    T_EQ_INT(o->encoding, OBJ_ENC_SKIPLIST);
    T_ASSERT(skiplist_levels(o) >= 4);
    check_deep(&o, &m, fx.mem_baseline);
    /* new scores for a third, removal of another third */
    for (size_t i = 0; i < m.n; i += 3) {
        double ns = -m.e[i].score - (double)(i % 5);
        T_ASSERT(!zset_set(&o, m.e[i].m, m.e[i].len, ns));
        if (ns != m.e[i].score) m.e[i].score = ns; /* -0.0 for 0.0 changes nothing */
    }
    for (size_t i = 1; i < m.n; i += 3) {
        T_ASSERT(zset_del(&o, m.e[i].m, m.e[i].len));
        free(m.e[i].m);
        m.e[i].m = NULL;
    }
    {
        size_t k = 0;
        for (size_t i = 0; i < m.n; i++)
            if (m.e[i].m) m.e[k++] = m.e[i];
        m.n = k;
    }
    model_sort(&m);
    check_deep(&o, &m, fx.mem_baseline);
    while (m.n > 10) /* down to a few: the levels shrink */
        do_del_rank(&o, &m, rnd_below(m.n));
    check_deep(&o, &m, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}

TEST(zset_large_skiplist_of_equal_scores)
{
    struct model m;
    struct obj *o;
    fixture_begin(26);
    memset(&m, 0, sizeof(m));
    m.cap = BIG_MEMBERS;
    m.e = xmalloc(m.cap * sizeof(*m.e));
    m.skiplist = true;
    o = zset_new();
    for (size_t i = 0; i < BIG_MEMBERS; i++) {
        char s[32];
        size_t len = (size_t)snprintf(s, sizeof(s), "%zx", (i * 104729) % BIG_MEMBERS);
        T_ASSERT(zset_set(&o, s, len, 0.0));
        m.e[m.n++] = (struct melem){0.0, xdup(s, len), len};
    }
    model_sort(&m);
    T_ASSERT(skiplist_levels(o) >= 4);
    check_zset(o, &m);
    check_lex_bounds(o, &m); /* every score equal: lex bounds over the whole set */
    check_walks(o, &m);
    check_scan(o, &m);
    check_mem(o, fx.mem_baseline);
    zset_free(o);
    model_destroy(&m);
    fixture_end();
}
