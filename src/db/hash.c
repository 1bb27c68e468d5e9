/*
 * hash.c - hash values in two encodings (see hash.h).
 *
 * Design
 *   Packed: [u32 count][varint flen][f][varint vlen][v]... right after the
 *   obj header, so a small hash is one allocation and a field costs its
 *   bytes plus one length byte (under 128 bytes). Changes rebuild the
 *   block: O(size), which the entry limit keeps small.
 *
 *   Table: a struct ht of hnode (field, then value, in one allocation),
 *   hashed with the keyspace's seeded hash. Replacing a value reallocates
 *   the node and swaps it in place in its bucket.
 *
 * Invariants
 *   (1) Packed: count equals the number of pairs, and the bytes after the
 *       count are exactly count pairs (o->len = 4 + their bytes).
 *   (2) Packed: fields are unique; every field and value is at most
 *       hash_max_packed_value bytes as of when it was stored.
 *   (3) Table: o->len == sizeof(struct ht *).
 *
 * Threads
 *   Loop thread, or a forked snapshot child reading its copy.
 */
#include "db/hash.h"

#include "core/assert.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/varint.h"
#include "db/db.h"
#include "ds/ht.h"

#include <string.h>

size_t hash_max_packed_entries = HASH_PACKED_ENTRIES_DEFAULT;
size_t hash_max_packed_value = HASH_PACKED_VALUE_DEFAULT;

struct hnode {
    struct ht_node node; /* link in the table */
    uint32_t flen;       /* field bytes */
    uint32_t vlen;       /* value bytes */
    char data[];         /* field, then value */
};

static uint64_t hnode_hash(const struct ht_node *n)
{
    const struct hnode *h = (const struct hnode *)n;
    return db_hash(h->data, h->flen);
}

static bool hnode_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct hnode *h = (const struct hnode *)n;
    return h->flen == len && memcmp(h->data, key, len) == 0;
}

static const struct ht_type hnode_type = {.hash_node = hnode_hash, .key_eq = hnode_eq};

/* ---- Packed ------------------------------------------------------------ */

static uint32_t packed_count(const struct obj *o)
{
    uint32_t n;
    memcpy(&n, o->data, sizeof(n));
    return n;
}

/* Walk to the next element at *pos; the layout is trusted (invariant 1). */
static void packed_next(const struct obj *o, size_t *pos, const char **p, size_t *len)
{
    uint64_t l;
    size_t used = varint_get(o->data + *pos, o->data + o->len, &l);
    ASSERT(used > 0);
    *p = o->data + *pos + used;
    *len = (size_t)l;
    *pos += used + (size_t)l;
}

/* Offset of field f's pair, or -1. */
static long packed_find(const struct obj *o, const char *f, size_t flen)
{
    size_t pos = sizeof(uint32_t);
    uint32_t n = packed_count(o);
    for (uint32_t i = 0; i < n; i++) {
        size_t start = pos, elen, vlen;
        const char *e, *v;
        packed_next(o, &pos, &e, &elen);
        packed_next(o, &pos, &v, &vlen);
        if (elen == flen && memcmp(e, f, flen) == 0)
            return (long)start;
    }
    return -1;
}

static struct obj *packed_alloc(size_t payload)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + payload);
    o->type = OBJ_HASH;
    o->encoding = OBJ_ENC_PACKED;
    o->lru = 0;
    o->len = (uint32_t)payload;
    return o;
}

struct obj *hash_new(void)
{
    struct obj *o = packed_alloc(sizeof(uint32_t));
    uint32_t zero = 0;
    memcpy(o->data, &zero, sizeof(zero));
    return o;
}

/* ---- Table ------------------------------------------------------------- */

static struct ht *table_of(const struct obj *o)
{
    struct ht *t;
    memcpy(&t, o->data, sizeof(t));
    return t;
}

static struct hnode *hnode_new(const char *f, size_t flen, const char *v, size_t vlen)
{
    struct hnode *h = mem_alloc(sizeof(*h) + flen + vlen);
    ASSERT(flen <= UINT32_MAX && vlen <= UINT32_MAX);
    h->flen = (uint32_t)flen;
    h->vlen = (uint32_t)vlen;
    memcpy(h->data, f, flen);
    memcpy(h->data + flen, v, vlen);
    return h;
}

static struct obj *table_new(size_t reserve)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + sizeof(struct ht *));
    struct ht *t = mem_alloc(sizeof(*t));
    ht_create(t, &hnode_type);
    if (reserve)
        ht_reserve(t, reserve);
    o->type = OBJ_HASH;
    o->encoding = OBJ_ENC_TABLE;
    o->lru = 0;
    o->len = sizeof(t);
    memcpy(o->data, &t, sizeof(t));
    return o;
}

static void table_put(struct ht *t, const char *f, size_t flen, const char *v, size_t vlen)
{
    ht_insert(t, &hnode_new(f, flen, v, vlen)->node, db_hash(f, flen));
}

/* Convert a packed hash to a table (frees o). */
static struct obj *to_table(struct obj *o)
{
    struct obj *n = table_new(packed_count(o));
    struct ht *t = table_of(n);
    size_t pos = sizeof(uint32_t);
    for (uint32_t i = packed_count(o); i > 0; i--) {
        const char *f, *v;
        size_t flen, vlen;
        packed_next(o, &pos, &f, &flen);
        packed_next(o, &pos, &v, &vlen);
        table_put(t, f, flen, v, vlen);
    }
    n->lru = o->lru;
    mem_free(o);
    return n;
}

/* ---- API --------------------------------------------------------------- */

size_t hash_len(const struct obj *o)
{
    ASSERT(o->type == OBJ_HASH);
    return o->encoding == OBJ_ENC_PACKED ? packed_count(o) : ht_count(table_of(o));
}

bool hash_get(const struct obj *o, const char *f, size_t flen, const char **v, size_t *vlen)
{
    if (o->encoding == OBJ_ENC_PACKED) {
        long at = packed_find(o, f, flen);
        size_t pos, elen;
        const char *e;
        if (at < 0)
            return false;
        pos = (size_t)at;
        packed_next(o, &pos, &e, &elen);
        packed_next(o, &pos, v, vlen);
        return true;
    }
    struct hnode *h = (struct hnode *)ht_find(table_of(o), f, flen, db_hash(f, flen));
    if (!h)
        return false;
    *v = h->data + h->flen;
    *vlen = h->vlen;
    return true;
}

/* Packed set: rebuild the block with f = v (replacing its old pair). */
static struct obj *packed_set(struct obj *o, long at, const char *f, size_t flen, const char *v,
                              size_t vlen)
{
    size_t old_start = 0, old_end = 0, add = varint_len(flen) + flen + varint_len(vlen) + vlen;
    uint32_t count = packed_count(o);
    struct obj *n;
    char *p;
    if (at >= 0) {
        const char *e;
        size_t elen;
        old_start = old_end = (size_t)at;
        packed_next(o, &old_end, &e, &elen);
        packed_next(o, &old_end, &e, &elen);
    } else {
        old_start = old_end = o->len; /* append */
        count++;
    }
    n = packed_alloc(o->len - (old_end - old_start) + add);
    n->lru = o->lru;
    memcpy(n->data, &count, sizeof(count));
    memcpy(n->data + sizeof(count), o->data + sizeof(count), old_start - sizeof(count));
    p = n->data + old_start;
    p += varint_put(p, flen);
    memcpy(p, f, flen);
    p += flen;
    p += varint_put(p, vlen);
    memcpy(p, v, vlen);
    p += vlen;
    memcpy(p, o->data + old_end, o->len - old_end);
    mem_free(o);
    return n;
}

bool hash_set(struct obj **op, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct obj *o = *op;
    ASSERT(o->type == OBJ_HASH);
    if (o->encoding == OBJ_ENC_PACKED) {
        long at = packed_find(o, f, flen);
        size_t grow = varint_len(flen) + flen + varint_len(vlen) + vlen;
        /* An update converts too once the limit was lowered below the
         * size (CONFIG SET), as Redis checks the length on every write. */
        bool fits = flen <= hash_max_packed_value && vlen <= hash_max_packed_value &&
                    packed_count(o) + (at >= 0 ? 0 : 1) <= hash_max_packed_entries &&
                    o->len + grow <= HASH_PACKED_BYTES_MAX;
        if (fits) {
            *op = packed_set(o, at, f, flen, v, vlen);
            return at < 0;
        }
        o = *op = to_table(o);
    }
    struct ht *t = table_of(o);
    uint64_t hash = db_hash(f, flen);
    struct hnode *old = (struct hnode *)ht_find(t, f, flen, hash);
    if (!old) {
        ht_insert(t, &hnode_new(f, flen, v, vlen)->node, hash);
        return true;
    }
    ht_replace_node(t, &old->node, &hnode_new(f, flen, v, vlen)->node, hash);
    mem_free(old);
    return false;
}

bool hash_del(struct obj **op, const char *f, size_t flen)
{
    struct obj *o = *op;
    if (o->encoding == OBJ_ENC_PACKED) {
        long at = packed_find(o, f, flen);
        size_t end;
        const char *e;
        size_t elen;
        uint32_t count;
        if (at < 0)
            return false;
        end = (size_t)at;
        packed_next(o, &end, &e, &elen);
        packed_next(o, &end, &e, &elen);
        memmove(o->data + at, o->data + end, o->len - end);
        o->len -= (uint32_t)(end - (size_t)at);
        count = packed_count(o) - 1;
        memcpy(o->data, &count, sizeof(count));
        /* Shrinking in place keeps the block; realloc would only save a few bytes. */
        return true;
    }
    struct ht_node *n = ht_remove(table_of(o), f, flen, db_hash(f, flen));
    if (!n)
        return false;
    mem_free(n);
    ht_maybe_shrink(table_of(o)); /* memory follows the size (rehashed incrementally) */
    return true;
}

struct pairs_ctx {
    struct hash_pair *out;
    size_t n;
};

static void pair_of(const struct hnode *h, struct hash_pair *p)
{
    *p = (struct hash_pair){h->data, h->flen, h->data + h->flen, h->vlen};
}

static void collect_pair(struct ht_node *n, void *arg)
{
    struct pairs_ctx *x = arg;
    pair_of((const struct hnode *)n, &x->out[x->n++]);
}

struct hash_pair *hash_pairs(const struct obj *o)
{
    size_t n = hash_len(o);
    struct pairs_ctx x = {NULL, 0};
    if (n == 0)
        return NULL;
    x.out = mem_alloc(n * sizeof(*x.out));
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t pos = sizeof(uint32_t);
        for (size_t i = 0; i < n; i++) {
            struct hash_pair *p = &x.out[i];
            packed_next(o, &pos, &p->f, &p->flen);
            packed_next(o, &pos, &p->v, &p->vlen);
        }
        return x.out;
    }
    ht_foreach(table_of(o), collect_pair, &x);
    ASSERT(x.n == n);
    return x.out;
}

void hash_random(const struct obj *o, struct hash_pair *out)
{
    ASSERT(hash_len(o) > 0);
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t pos = sizeof(uint32_t);
        uint32_t i = (uint32_t)(util_rand_u64() % packed_count(o));
        for (uint32_t k = 0; k <= i; k++) { /* small: bounded by the packed limits */
            packed_next(o, &pos, &out->f, &out->flen);
            packed_next(o, &pos, &out->v, &out->vlen);
        }
        return;
    }
    pair_of((const struct hnode *)ht_random(table_of(o), util_rand_u64), out);
}

struct scan_ctx {
    hash_visit_fn *fn;
    void *ctx;
};

static void scan_pair(struct ht_node *n, void *arg)
{
    struct scan_ctx *x = arg;
    struct hash_pair p;
    pair_of((const struct hnode *)n, &p);
    x->fn(&p, x->ctx);
}

uint64_t hash_scan(const struct obj *o, uint64_t cursor, hash_visit_fn *fn, void *ctx)
{
    if (o->encoding == OBJ_ENC_PACKED) {
        struct hash_pair *all = hash_pairs(o);
        size_t n = hash_len(o);
        (void)cursor;
        for (size_t i = 0; i < n; i++)
            fn(&all[i], ctx);
        mem_free(all);
        return 0;
    }
    struct scan_ctx x = {fn, ctx};
    return ht_scan(table_of(o), cursor, scan_pair, &x);
}

struct obj *hash_dup(const struct obj *o)
{
    struct obj *n;
    struct hash_pair *all;
    size_t count;
    if (o->encoding == OBJ_ENC_PACKED) {
        n = packed_alloc(o->len);
        memcpy(n, o, sizeof(struct obj) + o->len);
        return n;
    }
    count = hash_len(o);
    n = table_new(count);
    all = hash_pairs(o);
    for (size_t i = 0; i < count; i++)
        table_put(table_of(n), all[i].f, all[i].flen, all[i].v, all[i].vlen);
    mem_free(all);
    n->lru = o->lru;
    return n;
}

void hash_free(struct obj *o)
{
    if (o->encoding == OBJ_ENC_TABLE) {
        struct ht *t = table_of(o);
        ht_destroy_mem_nodes(t);
        mem_free(t);
    }
    mem_free(o);
}

size_t hash_mem_bytes(const struct obj *o)
{
    size_t bytes = mem_usable_bytes(o);
    if (o->encoding == OBJ_ENC_TABLE) {
        struct ht *t = table_of(o);
        bytes += mem_usable_bytes(t) + ht_mem_bytes(t, true);
    }
    return bytes;
}

void hash_encode(const struct obj *o, struct buf *out)
{
    size_t n = hash_len(o);
    struct hash_pair *all = hash_pairs(o);
    varint_append(out, n);
    for (size_t i = 0; i < n; i++) {
        varint_append_bytes(out, all[i].f, all[i].flen);
        varint_append_bytes(out, all[i].v, all[i].vlen);
    }
    mem_free(all);
}

struct obj *hash_decode(const char *p, size_t len)
{
    uint64_t n;
    size_t pos = varint_get(p, p + len, &n);
    struct obj *o;
    if (pos == 0 || n > len) /* every pair takes at least 2 bytes */
        return NULL;
    o = hash_new();
    for (uint64_t i = 0; i < n; i++) {
        const char *f, *v;
        size_t flen, vlen;
        if (!varint_get_bytes(p, len, &pos, &f, &flen) || !varint_get_bytes(p, len, &pos, &v, &vlen) ||
            !hash_set(&o, f, flen, v, vlen)) { /* a repeated field is corruption too */
            hash_free(o);
            return NULL;
        }
    }
    if (pos != len || n == 0) {
        hash_free(o);
        return NULL;
    }
    return o;
}
