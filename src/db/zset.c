/*
 * zset.c - sorted sets in two encodings (see zset.h).
 *
 * Design
 *   Packed: [u32 count] then elements [double score][varint len][bytes] in
 *   (score, member) order. Every change rebuilds the block (bounded by the
 *   entry and byte limits); lookups scan.
 *
 *   Skiplist: William Pugh's skiplist with a span per forward link, so the
 *   rank of a node is the sum of the spans walked to it (O(log n)), plus a
 *   hash table from member to node for O(1) ZSCORE. Each node is one
 *   allocation: its hash-table link, score, backward link, levels, then the
 *   member bytes. A score change removes and re-inserts the node's member.
 *
 * Invariants
 *   (1) Elements are strictly ordered by (score, memcmp of members with the
 *       shorter first on a common prefix); members are unique; no score is
 *       NaN.
 *   (2) Skiplist: length == number of nodes == ht_count(dict); span of a
 *       link == number of level-0 steps it skips.
 *
 * Threads
 *   Loop thread, or a forked snapshot child reading its copy.
 */
#include "db/zset.h"

#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/varint.h"
#include "db/db.h"
#include "ds/ht.h"

#include <math.h>
#include <string.h>

size_t zset_max_packed_entries = ZSET_PACKED_ENTRIES_DEFAULT;
size_t zset_max_packed_value = ZSET_PACKED_VALUE_DEFAULT;

#define ZSL_MAX_LEVEL 32

struct zsl_level {
    struct zsl_node *forward; /* next node on this level */
    size_t span;              /* level-0 steps to it */
};

struct zsl_node {
    struct ht_node hnode;      /* link in the dict */
    double score;              /* the score */
    struct zsl_node *backward; /* previous node on level 0 */
    uint32_t mlen;             /* member bytes */
    uint32_t nlevels;          /* entries in level[] */
    struct zsl_level level[];  /* then the member bytes */
};

struct zsl {
    struct zsl_node *header; /* sentinel with ZSL_MAX_LEVEL levels */
    struct zsl_node *tail;   /* last node or NULL */
    size_t length;           /* nodes */
    int level;               /* levels in use */
    struct ht dict;          /* member -> node */
};

static char *node_member(const struct zsl_node *n)
{
    return (char *)&n->level[n->nlevels];
}

static uint64_t node_hash(const struct ht_node *h)
{
    const struct zsl_node *n = (const struct zsl_node *)h;
    return db_hash(node_member(n), n->mlen);
}

static bool node_eq(const struct ht_node *h, const void *key, size_t len)
{
    const struct zsl_node *n = (const struct zsl_node *)h;
    return n->mlen == len && memcmp(node_member(n), key, len) == 0;
}

static const struct ht_type node_type = {.hash_node = node_hash, .key_eq = node_eq};

/* memcmp order, a prefix first. */
static int cmp_member(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* (score, member) order: < 0 if a sorts first. */
static int cmp_elem(double as, const char *a, size_t alen, double bs, const char *b, size_t blen)
{
    if (as < bs)
        return -1;
    if (as > bs)
        return 1;
    return cmp_member(a, alen, b, blen);
}

/* ---- Skiplist ---------------------------------------------------------- */

static struct zsl_node *node_new(int levels, double score, const char *m, size_t len)
{
    struct zsl_node *n = mem_alloc(sizeof(*n) + (size_t)levels * sizeof(struct zsl_level) + len);
    ASSERT(len <= UINT32_MAX);
    n->score = score;
    n->backward = NULL;
    n->mlen = (uint32_t)len;
    n->nlevels = (uint32_t)levels;
    for (int i = 0; i < levels; i++)
        n->level[i] = (struct zsl_level){NULL, 0};
    memcpy(node_member(n), m, len);
    return n;
}

static int random_level(void)
{
    int level = 1;
    while (level < ZSL_MAX_LEVEL && (util_rand_u64() & 0xffff) < 0xffff / 4)
        level++;
    return level;
}

static struct zsl *zsl_of(const struct obj *o)
{
    struct zsl *z;
    memcpy(&z, o->data, sizeof(z));
    return z;
}

static struct obj *zsl_obj_new(void)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + sizeof(struct zsl *));
    struct zsl *z = mem_alloc(sizeof(*z));
    z->header = node_new(ZSL_MAX_LEVEL, 0, "", 0);
    z->tail = NULL;
    z->length = 0;
    z->level = 1;
    ht_create(&z->dict, &node_type);
    o->type = OBJ_ZSET;
    o->encoding = OBJ_ENC_SKIPLIST;
    o->lru = 0;
    o->len = sizeof(z);
    memcpy(o->data, &z, sizeof(z));
    return o;
}

static void zsl_insert(struct zsl *z, double score, const char *m, size_t len)
{
    struct zsl_node *update[ZSL_MAX_LEVEL], *x = z->header, *n;
    size_t rank[ZSL_MAX_LEVEL];
    int level;
    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward &&
               cmp_elem(x->level[i].forward->score, node_member(x->level[i].forward),
                        x->level[i].forward->mlen, score, m, len) < 0) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    level = random_level();
    if (level > z->level) {
        for (int i = z->level; i < level; i++) {
            rank[i] = 0;
            update[i] = z->header;
            update[i]->level[i].span = z->length;
        }
        z->level = level;
    }
    n = node_new(level, score, m, len);
    for (int i = 0; i < level; i++) {
        n->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = n;
        n->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < z->level; i++)
        update[i]->level[i].span++;
    n->backward = update[0] == z->header ? NULL : update[0];
    if (n->level[0].forward)
        n->level[0].forward->backward = n;
    else
        z->tail = n;
    z->length++;
    ht_insert(&z->dict, &n->hnode, db_hash(m, len));
}

/* Unlink (not free) the node equal to (score, m). */
static struct zsl_node *zsl_unlink(struct zsl *z, double score, const char *m, size_t len)
{
    struct zsl_node *update[ZSL_MAX_LEVEL], *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               cmp_elem(x->level[i].forward->score, node_member(x->level[i].forward),
                        x->level[i].forward->mlen, score, m, len) < 0)
            x = x->level[i].forward;
        update[i] = x;
    }
    x = x->level[0].forward;
    ASSERT(x && x->score == score && x->mlen == len && memcmp(node_member(x), m, len) == 0);
    for (int i = 0; i < z->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span--;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        z->tail = x->backward;
    while (z->level > 1 && z->header->level[z->level - 1].forward == NULL)
        z->level--;
    z->length--;
    ht_remove_node(&z->dict, &x->hnode, db_hash(m, len));
    return x;
}

/* The node at 0-based rank r. */
static struct zsl_node *zsl_at(const struct zsl *z, size_t r)
{
    struct zsl_node *x = z->header;
    size_t traversed = 0, want = r + 1;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= want) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == want)
            return x;
    }
    return NULL;
}

/* Elements strictly before the first one for which `past` is true (past is
 * monotonic along the order): the rank where it starts. */
typedef bool zsl_past_fn(const struct zsl_node *n, const void *arg);

static size_t zsl_count_before(const struct zsl *z, zsl_past_fn *past, const void *arg)
{
    struct zsl_node *x = z->header;
    size_t rank = 0;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !past(x->level[i].forward, arg)) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    return rank;
}

/* ---- Packed ------------------------------------------------------------ */

static uint32_t packed_count(const struct obj *o)
{
    uint32_t n;
    memcpy(&n, o->data, sizeof(n));
    return n;
}

/* Read the element at *pos and advance. */
static void packed_read(const struct obj *o, size_t *pos, struct zset_elem *e)
{
    uint64_t l;
    size_t used;
    memcpy(&e->score, o->data + *pos, sizeof(double));
    used = varint_get(o->data + *pos + sizeof(double), o->data + o->len, &l);
    ASSERT(used > 0);
    e->m = o->data + *pos + sizeof(double) + used;
    e->mlen = (size_t)l;
    *pos += sizeof(double) + used + (size_t)l;
}

static struct obj *packed_alloc(size_t payload)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + payload);
    o->type = OBJ_ZSET;
    o->encoding = OBJ_ENC_PACKED;
    o->lru = 0;
    o->len = (uint32_t)payload;
    return o;
}

struct obj *zset_new(void)
{
    struct obj *o = packed_alloc(sizeof(uint32_t));
    uint32_t zero = 0;
    memcpy(o->data, &zero, sizeof(zero));
    return o;
}

/* Offset and rank of member m in a packed set; false if absent. */
static bool packed_find(const struct obj *o, const char *m, size_t len, size_t *at,
                        size_t *rank, struct zset_elem *e)
{
    size_t pos = sizeof(uint32_t);
    uint32_t n = packed_count(o);
    for (uint32_t i = 0; i < n; i++) {
        size_t start = pos;
        packed_read(o, &pos, e);
        if (e->mlen == len && memcmp(e->m, m, len) == 0) {
            *at = start;
            *rank = i;
            return true;
        }
    }
    return false;
}

/* The score a packed set stores: -0 as 0, as Redis's listpack, which keeps
 * scores as text and reads "-0" back as 0. The skiplist keeps -0. */
static double packed_form(double score)
{
    return score == 0 ? 0.0 : score;
}

/* Write one element (score, member) at n->data + *out and advance *out. */
static void packed_put(struct obj *n, size_t *out, double score, const char *m, size_t len)
{
    memcpy(n->data + *out, &score, sizeof(double));
    *out += sizeof(double);
    *out += varint_put(n->data + *out, len);
    memcpy(n->data + *out, m, len);
    *out += len;
}

/* A copy of o without the element at [from, to), with (score, m) inserted
 * in order if m != NULL. Frees o. */
static struct obj *packed_rebuild(struct obj *o, size_t from, size_t to, bool remove,
                                  double score, const char *m, size_t len)
{
    size_t add = m ? sizeof(double) + varint_len(len) + len : 0;
    size_t payload = o->len - (remove ? to - from : 0) + add;
    struct obj *n = packed_alloc(payload);
    uint32_t count = packed_count(o) - (remove ? 1 : 0) + (m ? 1 : 0);
    size_t pos = sizeof(uint32_t), out = sizeof(uint32_t);
    bool placed = m == NULL;
    memcpy(n->data, &count, sizeof(count));
    while (pos < o->len) {
        size_t start = pos;
        struct zset_elem e;
        packed_read(o, &pos, &e);
        if (remove && start == from)
            continue;
        if (!placed && cmp_elem(score, m, len, e.score, e.m, e.mlen) < 0) {
            packed_put(n, &out, score, m, len);
            placed = true;
        }
        memcpy(n->data + out, o->data + start, pos - start);
        out += pos - start;
    }
    if (!placed)
        packed_put(n, &out, score, m, len);
    ASSERT(out == payload);
    n->lru = o->lru;
    mem_free(o);
    return n;
}

static struct obj *to_skiplist(struct obj *o)
{
    struct obj *n = zsl_obj_new();
    struct zsl *z = zsl_of(n);
    size_t pos = sizeof(uint32_t);
    ht_reserve(&z->dict, packed_count(o) + 1);
    while (pos < o->len) {
        struct zset_elem e;
        packed_read(o, &pos, &e);
        zsl_insert(z, e.score, e.m, e.mlen);
    }
    n->lru = o->lru;
    mem_free(o);
    return n;
}

/* ---- API --------------------------------------------------------------- */

struct obj *zset_new_skiplist(void)
{
    return zsl_obj_new();
}

struct obj *zset_pack_if_fits(struct obj *o)
{
    size_t payload = sizeof(uint32_t), out = sizeof(uint32_t);
    uint32_t count;
    struct zset_iter it;
    struct zset_elem e;
    struct obj *n;
    if (o->encoding == OBJ_ENC_PACKED || zset_len(o) > zset_max_packed_entries)
        return o;
    zset_iter_init(&it, o, 0, false);
    while (zset_iter_next(&it, &e)) {
        if (e.mlen > zset_max_packed_value)
            return o;
        payload += sizeof(double) + varint_len(e.mlen) + e.mlen;
    }
    if (payload > ZSET_PACKED_BYTES_MAX)
        return o;
    n = packed_alloc(payload);
    count = (uint32_t)zset_len(o);
    memcpy(n->data, &count, sizeof(count));
    zset_iter_init(&it, o, 0, false);
    while (zset_iter_next(&it, &e))
        packed_put(n, &out, packed_form(e.score), e.m, e.mlen);
    ASSERT(out == payload);
    n->lru = o->lru;
    zset_free(o);
    return n;
}

size_t zset_len(const struct obj *o)
{
    ASSERT(o->type == OBJ_ZSET);
    return o->encoding == OBJ_ENC_PACKED ? packed_count(o) : zsl_of(o)->length;
}

bool zset_score(const struct obj *o, const char *m, size_t len, double *score)
{
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t at, rank;
        struct zset_elem e;
        if (!packed_find(o, m, len, &at, &rank, &e))
            return false;
        *score = e.score;
        return true;
    }
    struct zsl_node *n = (struct zsl_node *)ht_find(&zsl_of(o)->dict, m, len, db_hash(m, len));
    if (!n)
        return false;
    *score = n->score;
    return true;
}

/* zset_set(); a packed set stores -0 as 0 only if zero_minus_zero (the
 * snapshot decoder stores scores as read and fixes up at the end, so a set
 * that becomes a skiplist while it is read keeps its -0s). */
static bool set_score(struct obj **op, const char *m, size_t len, double score,
                      bool zero_minus_zero)
{
    struct obj *o = *op;
    ASSERT(!isnan(score));
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t at = 0, rank, grow = sizeof(double) + varint_len(len) + len;
        struct zset_elem e = {NULL, 0, 0};
        bool found = packed_find(o, m, len, &at, &rank, &e);
        /* Only a new member converts (as Redis): an update keeps the size. */
        bool fits = found || (len <= zset_max_packed_value &&
                              packed_count(o) < zset_max_packed_entries &&
                              o->len + grow <= ZSET_PACKED_BYTES_MAX);
        if (fits) {
            size_t to = at;
            /* A set that outgrows the packed form keeps the 0s. */
            if (zero_minus_zero)
                score = packed_form(score);
            if (found) {
                if (e.score == score)
                    return false;
                packed_read(o, &to, &e);
            }
            *op = packed_rebuild(o, at, to, found, score, m, len);
            return !found;
        }
        o = *op = to_skiplist(o);
    }
    struct zsl *z = zsl_of(o);
    struct zsl_node *n = (struct zsl_node *)ht_find(&z->dict, m, len, db_hash(m, len));
    if (n) {
        if (n->score == score)
            return false;
        mem_free(zsl_unlink(z, n->score, m, len));
        zsl_insert(z, score, m, len);
        return false;
    }
    zsl_insert(z, score, m, len);
    return true;
}

bool zset_set(struct obj **op, const char *m, size_t len, double score)
{
    return set_score(op, m, len, score, true);
}

bool zset_del(struct obj **op, const char *m, size_t len)
{
    struct obj *o = *op;
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t at, rank, to;
        struct zset_elem e;
        if (!packed_find(o, m, len, &at, &rank, &e))
            return false;
        to = at;
        packed_read(o, &to, &e);
        *op = packed_rebuild(o, at, to, true, 0, NULL, 0);
        return true;
    }
    struct zsl *z = zsl_of(o);
    struct zsl_node *n = (struct zsl_node *)ht_find(&z->dict, m, len, db_hash(m, len));
    if (!n)
        return false;
    mem_free(zsl_unlink(z, n->score, m, len));
    ht_maybe_shrink(&z->dict); /* memory follows the size (rehashed incrementally) */
    return true;
}

struct past_member {
    double score;
    const char *m;
    size_t len;
};

static bool past_member(const struct zsl_node *n, const void *arg)
{
    const struct past_member *p = arg;
    return cmp_elem(n->score, node_member(n), n->mlen, p->score, p->m, p->len) >= 0;
}

long long zset_rank(const struct obj *o, const char *m, size_t len)
{
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t at, rank;
        struct zset_elem e;
        return packed_find(o, m, len, &at, &rank, &e) ? (long long)rank : -1;
    }
    const struct zsl *z = zsl_of(o);
    struct zsl_node *n = (struct zsl_node *)ht_find((struct ht *)&z->dict, m, len,
                                                    db_hash(m, len));
    struct past_member p;
    if (!n)
        return -1;
    p = (struct past_member){n->score, m, len};
    return (long long)zsl_count_before(z, past_member, &p);
}

/* Bounds as predicates ("this element is past the start of the range"). */
struct score_bound {
    double v;
    bool exclusive;
};

static bool past_score_min(double s, const struct score_bound *b)
{
    return b->exclusive ? s > b->v : s >= b->v;
}

static bool past_score_max(double s, const struct score_bound *b)
{
    return b->exclusive ? s >= b->v : s > b->v;
}

static bool lex_past_min(const char *m, size_t len, const struct zset_lex *b)
{
    int c;
    if (b->kind != 0)
        return b->kind < 0;
    c = cmp_member(m, len, b->p, b->len);
    return b->exclusive ? c > 0 : c >= 0;
}

static bool lex_past_max(const char *m, size_t len, const struct zset_lex *b)
{
    int c;
    if (b->kind != 0)
        return b->kind < 0;
    c = cmp_member(m, len, b->p, b->len);
    return b->exclusive ? c >= 0 : c > 0;
}

static bool node_past_score_min(const struct zsl_node *n, const void *arg)
{
    return past_score_min(n->score, arg);
}

static bool node_past_score_max(const struct zsl_node *n, const void *arg)
{
    return past_score_max(n->score, arg);
}

static bool node_past_lex_min(const struct zsl_node *n, const void *arg)
{
    return lex_past_min(node_member(n), n->mlen, arg);
}

static bool node_past_lex_max(const struct zsl_node *n, const void *arg)
{
    return lex_past_max(node_member(n), n->mlen, arg);
}

enum bound_kind { SCORE_MIN, SCORE_MAX, LEX_MIN, LEX_MAX };

static bool elem_past(const struct zset_elem *e, enum bound_kind k, const void *b)
{
    switch (k) {
    case SCORE_MIN:
        return past_score_min(e->score, b);
    case SCORE_MAX:
        return past_score_max(e->score, b);
    case LEX_MIN:
        return lex_past_min(e->m, e->mlen, b);
    default:
        return lex_past_max(e->m, e->mlen, b);
    }
}

static size_t count_before(const struct obj *o, enum bound_kind k, const void *b)
{
    static zsl_past_fn *const fns[] = {node_past_score_min, node_past_score_max,
                                        node_past_lex_min, node_past_lex_max};
    if (o->encoding == OBJ_ENC_PACKED) {
        size_t pos = sizeof(uint32_t), i = 0;
        uint32_t n = packed_count(o);
        for (; i < n; i++) {
            struct zset_elem e;
            packed_read(o, &pos, &e);
            if (elem_past(&e, k, b))
                break;
        }
        return i;
    }
    return zsl_count_before(zsl_of(o), fns[k], b);
}

size_t zset_score_lower(const struct obj *o, double min, bool exclusive)
{
    struct score_bound b = {min, exclusive};
    return count_before(o, SCORE_MIN, &b);
}

size_t zset_score_upper(const struct obj *o, double max, bool exclusive)
{
    struct score_bound b = {max, exclusive};
    return count_before(o, SCORE_MAX, &b);
}

size_t zset_lex_lower(const struct obj *o, const struct zset_lex *min)
{
    return count_before(o, LEX_MIN, min);
}

size_t zset_lex_upper(const struct obj *o, const struct zset_lex *max)
{
    return count_before(o, LEX_MAX, max);
}

bool zset_lex_may_overlap(const struct obj *o, const struct zset_lex *min,
                          const struct zset_lex *max)
{
    struct zset_iter it;
    struct zset_elem first, last;
    size_t n = zset_len(o);
    if (n == 0)
        return false;
    zset_iter_init(&it, o, 0, false);
    if (!zset_iter_next(&it, &first))
        return false;
    zset_iter_init(&it, o, n - 1, false);
    if (!zset_iter_next(&it, &last))
        return false;
    return lex_past_min(last.m, last.mlen, min) && !lex_past_max(first.m, first.mlen, max);
}

/* ---- Iteration --------------------------------------------------------- */

/* Byte offset of the element at rank r of a packed set. */
static size_t packed_offset(const struct obj *o, size_t r)
{
    size_t pos = sizeof(uint32_t);
    for (size_t i = 0; i < r; i++) {
        struct zset_elem e;
        packed_read(o, &pos, &e);
    }
    return pos;
}

void zset_iter_init(struct zset_iter *it, const struct obj *o, size_t start, bool reverse)
{
    it->o = o;
    it->reverse = reverse;
    it->rank = start;
    it->node = NULL;
    it->pos = 0;
    if (start >= zset_len(o))
        return;
    if (o->encoding == OBJ_ENC_PACKED)
        it->pos = packed_offset(o, start);
    else
        it->node = zsl_at(zsl_of(o), start);
}

bool zset_iter_next(struct zset_iter *it, struct zset_elem *out)
{
    if (it->rank >= zset_len(it->o))
        return false; /* also ends a reverse walk: rank wraps below 0 */
    if (it->o->encoding == OBJ_ENC_PACKED) {
        size_t pos = it->pos;
        packed_read(it->o, &pos, out);
        if (!it->reverse)
            it->pos = pos;
        else if (it->rank > 0)
            it->pos = packed_offset(it->o, it->rank - 1); /* small: bounded by the limits */
    } else {
        const struct zsl_node *n = it->node;
        out->score = n->score;
        out->m = node_member(n);
        out->mlen = n->mlen;
        it->node = it->reverse ? n->backward : n->level[0].forward;
    }
    it->rank = it->reverse ? it->rank - 1 : it->rank + 1;
    return true;
}

struct scan_ctx {
    zset_visit_fn *fn;
    void *ctx;
};

static void scan_node(struct ht_node *h, void *arg)
{
    const struct zsl_node *n = (const struct zsl_node *)h;
    struct scan_ctx *x = arg;
    struct zset_elem e = {node_member(n), n->mlen, n->score};
    x->fn(&e, x->ctx);
}

uint64_t zset_scan(const struct obj *o, uint64_t cursor, zset_visit_fn *fn, void *ctx)
{
    if (o->encoding == OBJ_ENC_PACKED) {
        struct zset_iter it;
        struct zset_elem e;
        (void)cursor;
        zset_iter_init(&it, o, 0, false);
        while (zset_iter_next(&it, &e))
            fn(&e, ctx);
        return 0;
    }
    struct scan_ctx x = {fn, ctx};
    return ht_scan(&zsl_of(o)->dict, cursor, scan_node, &x);
}

/* ---- Copies, memory, snapshots ----------------------------------------- */

struct obj *zset_dup(const struct obj *o)
{
    struct obj *n;
    struct zset_iter it;
    struct zset_elem e;
    if (o->encoding == OBJ_ENC_PACKED) {
        n = packed_alloc(o->len);
        memcpy(n, o, sizeof(struct obj) + o->len);
        return n;
    }
    n = zsl_obj_new();
    ht_reserve(&zsl_of(n)->dict, zset_len(o));
    zset_iter_init(&it, o, 0, false);
    while (zset_iter_next(&it, &e))
        zsl_insert(zsl_of(n), e.score, e.m, e.mlen);
    n->lru = o->lru;
    return n;
}

void zset_free(struct obj *o)
{
    if (o->encoding == OBJ_ENC_SKIPLIST) {
        struct zsl *z = zsl_of(o);
        struct zsl_node *x = z->header->level[0].forward;
        while (x) {
            struct zsl_node *next = x->level[0].forward;
            mem_free(x);
            x = next;
        }
        mem_free(z->header);
        ht_destroy(&z->dict, NULL, NULL);
        mem_free(z);
    }
    mem_free(o);
}

size_t zset_mem_bytes(const struct obj *o)
{
    size_t bytes = mem_usable_bytes(o);
    if (o->encoding == OBJ_ENC_SKIPLIST) {
        const struct zsl *z = zsl_of(o);
        bytes += mem_usable_bytes(z) + mem_usable_bytes(z->header) +
                 ht_mem_bytes((struct ht *)&z->dict, false);
        for (struct zsl_node *x = z->header->level[0].forward; x; x = x->level[0].forward)
            bytes += mem_usable_bytes(x);
    }
    return bytes;
}

void zset_encode(const struct obj *o, struct buf *out)
{
    struct zset_iter it;
    struct zset_elem e;
    varint_append(out, zset_len(o));
    zset_iter_init(&it, o, 0, false);
    while (zset_iter_next(&it, &e)) {
        buf_append(out, &e.score, sizeof(double)); /* engram runs on little-endian hosts */
        varint_append_bytes(out, e.m, e.mlen);
    }
}

struct obj *zset_decode(const char *p, size_t len)
{
    uint64_t n;
    size_t pos = varint_get(p, p + len, &n);
    struct obj *o;
    if (pos == 0 || n == 0 || n > len / (sizeof(double) + 1))
        return NULL;
    o = zset_new();
    for (uint64_t i = 0; i < n; i++) {
        double score;
        const char *m;
        size_t mlen;
        if (len - pos < sizeof(double))
            goto bad;
        memcpy(&score, p + pos, sizeof(double));
        pos += sizeof(double);
        if (isnan(score) || !varint_get_bytes(p, len, &pos, &m, &mlen) ||
            !set_score(&o, m, mlen, score, false))
            goto bad; /* NaN, truncated, or a repeated member */
    }
    if (pos != len)
        goto bad;
    if (o->encoding == OBJ_ENC_PACKED) { /* it stayed packed: -0 is 0 there */
        size_t at = sizeof(uint32_t);
        while (at < o->len) {
            size_t start = at;
            struct zset_elem e;
            packed_read(o, &at, &e);
            e.score = packed_form(e.score);
            memcpy(o->data + start, &e.score, sizeof(e.score));
        }
    }
    return o;
bad:
    zset_free(o);
    return NULL;
}
