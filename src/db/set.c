/*
 * set.c - set values in two encodings (see set.h).
 *
 * Design
 *   Intset: [u32 count][int64 sorted ascending] after the obj header;
 *   lookups are binary searches, inserts and removals move the tail
 *   (bounded by set_max_intset_entries). Table: a struct ht of snode
 *   (member bytes inline), hashed with the keyspace's seeded hash.
 *
 * Invariants
 *   (1) Intset: members strictly ascending, count of them, o->len ==
 *       4 + 8 * count.
 *   (2) Table: o->len == sizeof(struct ht *).
 *
 * Threads
 *   Loop thread, or a forked snapshot child reading its copy.
 */
#include "db/set.h"

#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/varint.h"
#include "db/db.h"
#include "ds/ht.h"

#include <string.h>

size_t set_max_intset_entries = SET_INTSET_ENTRIES_DEFAULT;

struct snode {
    struct ht_node node; /* link in the table */
    uint32_t len;        /* member bytes */
    char data[];         /* member */
};

static uint64_t snode_hash(const struct ht_node *n)
{
    const struct snode *s = (const struct snode *)n;
    return db_hash(s->data, s->len);
}

static bool snode_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct snode *s = (const struct snode *)n;
    return s->len == len && memcmp(s->data, key, len) == 0;
}

static const struct ht_type snode_type = {.hash_node = snode_hash, .key_eq = snode_eq};

/* ---- Intset ------------------------------------------------------------ */

static uint32_t iset_count(const struct obj *o)
{
    uint32_t n;
    memcpy(&n, o->data, sizeof(n));
    return n;
}

static int64_t iset_at(const struct obj *o, uint32_t i)
{
    int64_t v;
    memcpy(&v, o->data + sizeof(uint32_t) + (size_t)i * sizeof(v), sizeof(v));
    return v;
}

/* Index of v, or of where it would go (*found false). */
static uint32_t iset_search(const struct obj *o, int64_t v, bool *found)
{
    uint32_t lo = 0, hi = iset_count(o);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t m = iset_at(o, mid);
        if (m == v) {
            *found = true;
            return mid;
        }
        if (m < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct obj *iset_alloc(uint32_t count)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + sizeof(uint32_t) + count * sizeof(int64_t));
    o->type = OBJ_SET;
    o->encoding = OBJ_ENC_INTSET;
    o->lru = 0;
    o->len = (uint32_t)(sizeof(uint32_t) + count * sizeof(int64_t));
    memcpy(o->data, &count, sizeof(count));
    return o;
}

static bool as_int(const char *m, size_t len, int64_t *v)
{
    long long x;
    if (len > 20 || !util_str_to_ll(m, len, &x))
        return false;
    *v = x;
    return true;
}

/* ---- Table ------------------------------------------------------------- */

static struct ht *table_of(const struct obj *o)
{
    struct ht *t;
    memcpy(&t, o->data, sizeof(t));
    return t;
}

static struct obj *table_new(size_t reserve)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + sizeof(struct ht *));
    struct ht *t = mem_alloc(sizeof(*t));
    ht_create(t, &snode_type);
    if (reserve)
        ht_reserve(t, reserve);
    o->type = OBJ_SET;
    o->encoding = OBJ_ENC_TABLE;
    o->lru = 0;
    o->len = sizeof(t);
    memcpy(o->data, &t, sizeof(t));
    return o;
}

static void table_put(struct ht *t, const char *m, size_t len)
{
    struct snode *s = mem_alloc(sizeof(*s) + len);
    ASSERT(len <= UINT32_MAX);
    s->len = (uint32_t)len;
    memcpy(s->data, m, len);
    ht_insert(t, &s->node, db_hash(m, len));
}

static struct obj *to_table(struct obj *o)
{
    uint32_t n = iset_count(o);
    struct obj *t = table_new(n + 1);
    for (uint32_t i = 0; i < n; i++) {
        char num[UTIL_LL_STR_BYTES];
        int len = util_ll_to_str(num, sizeof(num), iset_at(o, i));
        table_put(table_of(t), num, (size_t)len);
    }
    t->lru = o->lru;
    mem_free(o);
    return t;
}

/* ---- API --------------------------------------------------------------- */

struct obj *set_new_for(const char *m, size_t len)
{
    int64_t v;
    if (set_max_intset_entries > 0 && as_int(m, len, &v))
        return iset_alloc(0);
    return table_new(0);
}

size_t set_len(const struct obj *o)
{
    ASSERT(o->type == OBJ_SET);
    return o->encoding == OBJ_ENC_INTSET ? iset_count(o) : ht_count(table_of(o));
}

bool set_has(const struct obj *o, const char *m, size_t len)
{
    if (o->encoding == OBJ_ENC_INTSET) {
        int64_t v;
        bool found;
        if (!as_int(m, len, &v))
            return false;
        (void)iset_search(o, v, &found);
        return found;
    }
    return ht_find(table_of(o), m, len, db_hash(m, len)) != NULL;
}

bool set_add(struct obj **op, const char *m, size_t len)
{
    struct obj *o = *op;
    if (o->encoding == OBJ_ENC_INTSET) {
        int64_t v;
        bool found;
        uint32_t at, n = iset_count(o);
        if (as_int(m, len, &v)) {
            at = iset_search(o, v, &found);
            if (found)
                return false;
            if (n < set_max_intset_entries) {
                struct obj *g = mem_realloc(o, sizeof(struct obj) + o->len + sizeof(int64_t));
                char *base = g->data + sizeof(uint32_t);
                memmove(base + (at + 1) * sizeof(int64_t), base + at * sizeof(int64_t),
                        (n - at) * sizeof(int64_t));
                memcpy(base + at * sizeof(int64_t), &v, sizeof(v));
                n++;
                memcpy(g->data, &n, sizeof(n));
                g->len += sizeof(int64_t);
                *op = g;
                return true;
            }
        }
        o = *op = to_table(o);
    }
    struct ht *t = table_of(o);
    if (ht_find(t, m, len, db_hash(m, len)))
        return false;
    table_put(t, m, len);
    return true;
}

bool set_rem(struct obj **op, const char *m, size_t len)
{
    struct obj *o = *op;
    if (o->encoding == OBJ_ENC_INTSET) {
        int64_t v;
        bool found;
        uint32_t at, n = iset_count(o);
        char *base = o->data + sizeof(uint32_t);
        if (!as_int(m, len, &v))
            return false;
        at = iset_search(o, v, &found);
        if (!found)
            return false;
        memmove(base + at * sizeof(int64_t), base + (at + 1) * sizeof(int64_t),
                (n - at - 1) * sizeof(int64_t));
        n--;
        memcpy(o->data, &n, sizeof(n));
        o->len -= sizeof(int64_t);
        return true;
    }
    struct ht_node *node = ht_remove(table_of(o), m, len, db_hash(m, len));
    if (!node)
        return false;
    mem_free(node);
    ht_maybe_shrink(table_of(o)); /* memory follows the size (rehashed incrementally) */
    return true;
}

struct collect_ctx {
    struct set_member *out;
    size_t n;
};

static void member_of(const struct snode *s, struct set_member *m)
{
    m->p = s->data;
    m->len = s->len;
}

static void collect(struct ht_node *n, void *arg)
{
    struct collect_ctx *x = arg;
    member_of((const struct snode *)n, &x->out[x->n++]);
}

struct set_member *set_members(const struct obj *o)
{
    size_t n = set_len(o);
    struct collect_ctx x = {NULL, 0};
    if (n == 0)
        return NULL;
    x.out = mem_alloc(n * sizeof(*x.out));
    if (o->encoding == OBJ_ENC_INTSET) {
        for (uint32_t i = 0; i < n; i++) {
            struct set_member *m = &x.out[i];
            m->len = (size_t)util_ll_to_str(m->num, sizeof(m->num), iset_at(o, i));
            m->p = m->num;
        }
        return x.out;
    }
    ht_foreach(table_of(o), collect, &x);
    ASSERT(x.n == n);
    return x.out;
}

void set_random(const struct obj *o, struct set_member *out)
{
    ASSERT(set_len(o) > 0);
    if (o->encoding == OBJ_ENC_INTSET) {
        uint32_t i = (uint32_t)(util_rand_u64() % iset_count(o));
        out->len = (size_t)util_ll_to_str(out->num, sizeof(out->num), iset_at(o, i));
        out->p = out->num;
        return;
    }
    member_of((const struct snode *)ht_random(table_of(o), util_rand_u64), out);
}

struct scan_ctx {
    set_visit_fn *fn;
    void *ctx;
};

static void scan_node(struct ht_node *n, void *arg)
{
    struct scan_ctx *x = arg;
    struct set_member m;
    member_of((const struct snode *)n, &m);
    x->fn(&m, x->ctx);
}

uint64_t set_scan(const struct obj *o, uint64_t cursor, set_visit_fn *fn, void *ctx)
{
    if (o->encoding == OBJ_ENC_INTSET) {
        struct set_member *all = set_members(o);
        size_t n = set_len(o);
        (void)cursor;
        for (size_t i = 0; i < n; i++)
            fn(&all[i], ctx);
        mem_free(all);
        return 0;
    }
    struct scan_ctx x = {fn, ctx};
    return ht_scan(table_of(o), cursor, scan_node, &x);
}

struct obj *set_dup(const struct obj *o)
{
    struct obj *n;
    struct set_member *all;
    size_t count = set_len(o);
    if (o->encoding == OBJ_ENC_INTSET) {
        n = mem_alloc(sizeof(struct obj) + o->len);
        memcpy(n, o, sizeof(struct obj) + o->len);
        return n;
    }
    n = table_new(count);
    all = set_members(o);
    for (size_t i = 0; i < count; i++)
        table_put(table_of(n), all[i].p, all[i].len);
    mem_free(all);
    n->lru = o->lru;
    return n;
}

void set_free(struct obj *o)
{
    if (o->encoding == OBJ_ENC_TABLE) {
        struct ht *t = table_of(o);
        ht_destroy_mem_nodes(t);
        mem_free(t);
    }
    mem_free(o);
}

size_t set_mem_bytes(const struct obj *o)
{
    size_t bytes = mem_usable_bytes(o);
    if (o->encoding == OBJ_ENC_TABLE) {
        struct ht *t = table_of(o);
        bytes += mem_usable_bytes(t) + ht_mem_bytes(t, true);
    }
    return bytes;
}

void set_encode(const struct obj *o, struct buf *out)
{
    size_t n = set_len(o);
    struct set_member *all = set_members(o);
    varint_append(out, n);
    for (size_t i = 0; i < n; i++)
        varint_append_bytes(out, all[i].p, all[i].len);
    mem_free(all);
}

struct obj *set_decode(const char *p, size_t len)
{
    uint64_t n;
    size_t pos = varint_get(p, p + len, &n);
    struct obj *o = NULL;
    if (pos == 0 || n == 0 || n > len) /* every member takes at least 1 byte */
        return NULL;
    for (uint64_t i = 0; i < n; i++) {
        const char *m;
        size_t mlen;
        if (!varint_get_bytes(p, len, &pos, &m, &mlen))
            goto bad;
        if (!o)
            o = set_new_for(m, mlen);
        if (!set_add(&o, m, mlen))
            goto bad; /* a repeated member */
    }
    if (pos == len)
        return o;
bad:
    if (o)
        set_free(o);
    return NULL;
}
