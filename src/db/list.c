/*
 * list.c - list values: a ring buffer of element pointers (see list.h).
 *
 * Design
 *   ring[(head + i) & (cap - 1)] is element i. cap is a power of two,
 *   doubled when full and halved when under a quarter used (never below
 *   LIST_RING_MIN), so a push or pop is amortized O(1) and memory follows
 *   the length. Inserting or removing in the middle moves the pointers of
 *   the shorter side. LREM and LTRIM take their elements out in one
 *   compacting pass (list_remove_equal, list_trim), and can hand them over
 *   with their old indexes (struct list_taken) to the undo log, whose
 *   rollback merges them back in one pass (list_put_back).
 *
 * Invariants
 *   (1) count <= cap; cap is 0 or a power of two >= LIST_RING_MIN.
 *   (2) Lists in the keyspace are never empty (the command layer deletes
 *       the key); an empty list object exists only transiently.
 *
 * Threads
 *   Loop thread, or a forked snapshot child reading its copy.
 */
#include "db/list.h"

#include "core/assert.h"
#include "core/mem.h"
#include "core/varint.h"

#include <string.h>

#define LIST_RING_MIN 4

struct list {
    struct list_elem **ring; /* owned array of cap owned elements */
    size_t cap;              /* slots, see invariant 1 */
    size_t head;             /* slot of element 0 */
    size_t count;            /* elements */
};

static struct list *list_of(const struct obj *o)
{
    struct list *l;
    ASSERT(o->type == OBJ_LIST);
    memcpy(&l, o->data, sizeof(l));
    return l;
}

static size_t slot(const struct list *l, size_t i)
{
    return (l->head + i) & (l->cap - 1);
}

struct list_elem *list_elem_new(const char *p, size_t len)
{
    struct list_elem *e = mem_alloc(sizeof(*e) + len);
    ASSERT(len <= UINT32_MAX);
    e->len = (uint32_t)len;
    memcpy(e->data, p, len);
    return e;
}

void list_elem_free(struct list_elem *e)
{
    mem_free(e);
}

/* Re-lay the ring into new_cap slots, element 0 at slot 0. */
static void resize(struct list *l, size_t new_cap)
{
    struct list_elem **ring = mem_alloc(new_cap * sizeof(*ring));
    ASSERT(new_cap >= l->count);
    for (size_t i = 0; i < l->count; i++)
        ring[i] = l->ring[slot(l, i)];
    mem_free(l->ring);
    l->ring = ring;
    l->cap = new_cap;
    l->head = 0;
}

static void grow_if_full(struct list *l)
{
    if (l->count == l->cap)
        resize(l, l->cap ? l->cap * 2 : LIST_RING_MIN);
}

static void shrink_if_sparse(struct list *l)
{
    if (l->cap > LIST_RING_MIN && l->count < l->cap / 4)
        resize(l, l->cap / 2);
}

struct obj *list_new(void)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + sizeof(struct list *));
    struct list *l = mem_calloc(sizeof(*l));
    o->type = OBJ_LIST;
    o->encoding = OBJ_ENC_LIST;
    o->lru = 0;
    o->len = sizeof(l);
    memcpy(o->data, &l, sizeof(l));
    return o;
}

size_t list_len(const struct obj *o)
{
    return list_of(o)->count;
}

void list_push(struct obj *o, enum list_end end, const char *p, size_t len)
{
    struct list *l = list_of(o);
    grow_if_full(l);
    if (end == LIST_HEAD) {
        l->head = (l->head + l->cap - 1) & (l->cap - 1);
        l->ring[l->head] = list_elem_new(p, len);
    } else {
        l->ring[slot(l, l->count)] = list_elem_new(p, len);
    }
    l->count++;
}

struct list_elem *list_pop(struct obj *o, enum list_end end)
{
    struct list *l = list_of(o);
    struct list_elem *e;
    if (l->count == 0)
        return NULL;
    if (end == LIST_HEAD) {
        e = l->ring[l->head];
        l->head = (l->head + 1) & (l->cap - 1);
    } else {
        e = l->ring[slot(l, l->count - 1)];
    }
    l->count--;
    shrink_if_sparse(l);
    return e;
}

const struct list_elem *list_at(const struct obj *o, size_t i)
{
    const struct list *l = list_of(o);
    ASSERT(i < l->count);
    return l->ring[slot(l, i)];
}

void list_set(struct obj *o, size_t i, const char *p, size_t len)
{
    mem_free(list_exchange(o, i, list_elem_new(p, len)));
}

struct list_elem *list_exchange(struct obj *o, size_t i, struct list_elem *x)
{
    struct list *l = list_of(o);
    size_t s = slot(l, i);
    struct list_elem *old;
    ASSERT(i < l->count);
    old = l->ring[s];
    l->ring[s] = x;
    return old;
}

void list_insert(struct obj *o, size_t i, const char *p, size_t len)
{
    struct list *l = list_of(o);
    ASSERT(i <= l->count);
    grow_if_full(l);
    if (i < l->count - i || l->count == 0) {
        /* Move elements [0, i) one slot towards the head. */
        l->head = (l->head + l->cap - 1) & (l->cap - 1);
        for (size_t k = 0; k < i; k++)
            l->ring[slot(l, k)] = l->ring[slot(l, k + 1)];
    } else {
        /* Move elements [i, count) one slot towards the tail. */
        for (size_t k = l->count; k > i; k--)
            l->ring[slot(l, k)] = l->ring[slot(l, k - 1)];
    }
    l->ring[slot(l, i)] = list_elem_new(p, len);
    l->count++;
}

void list_remove(struct obj *o, size_t i)
{
    struct list *l = list_of(o);
    ASSERT(i < l->count);
    mem_free(l->ring[slot(l, i)]);
    if (i < l->count - 1 - i) {
        for (size_t k = i; k > 0; k--)
            l->ring[slot(l, k)] = l->ring[slot(l, k - 1)];
        l->head = (l->head + 1) & (l->cap - 1);
    } else {
        for (size_t k = i; k + 1 < l->count; k++)
            l->ring[slot(l, k)] = l->ring[slot(l, k + 1)];
    }
    l->count--;
    shrink_if_sparse(l);
}

/* ---- Taking elements out, and putting them back ---------------------- */

void list_taken_free(struct list_taken *t)
{
    for (size_t k = 0; k < t->n; k++)
        mem_free(t->elems[k]);
    mem_free(t->at);
    mem_free(t->elems);
    memset(t, 0, sizeof(*t));
}

/* Element x, which had index i, was taken: keep it in t, or free it.
 * Indexes arrive ascending, or all descending (descending: the caller
 * reverses t's entries afterwards, see reverse_taken). */
static void take(struct list_taken *t, size_t i, struct list_elem *x, bool descending)
{
    if (!t) {
        mem_free(x);
        return;
    }
    ASSERT(t->n == 0 || (descending ? t->at[t->n - 1] > i : t->at[t->n - 1] < i));
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->at = mem_realloc(t->at, t->cap * sizeof(*t->at));
        t->elems = mem_realloc(t->elems, t->cap * sizeof(*t->elems));
    }
    t->at[t->n] = i;
    t->elems[t->n++] = x;
}

static void reverse_taken(struct list_taken *t)
{
    for (size_t a = 0, b = t ? t->n : 0; t && a + 1 < b; a++, b--) {
        size_t i = t->at[a];
        struct list_elem *x = t->elems[a];
        t->at[a] = t->at[b - 1];
        t->elems[a] = t->elems[b - 1];
        t->at[b - 1] = i;
        t->elems[b - 1] = x;
    }
}

/* The smallest power of two >= n and >= LIST_RING_MIN. */
static size_t ring_cap_for(size_t n)
{
    size_t cap = LIST_RING_MIN;
    while (cap < n)
        cap *= 2;
    return cap;
}

void list_put_back(struct obj *o, struct list_taken *t)
{
    struct list *l = list_of(o);
    size_t total = l->count + t->n, k = 0, j = 0;
    struct list_elem **ring;
    if (t->n == 0)
        return;
    ASSERT(t->at[t->n - 1] < total);
    ring = mem_alloc(ring_cap_for(total) * sizeof(*ring));
    for (size_t i = 0; i < total; i++)
        ring[i] = j < t->n && t->at[j] == i ? t->elems[j++] : l->ring[slot(l, k++)];
    ASSERT(j == t->n && k == l->count);
    mem_free(l->ring);
    l->ring = ring;
    l->cap = ring_cap_for(total);
    l->head = 0;
    l->count = total;
    t->n = 0; /* the elements are the list's now */
    list_taken_free(t);
}

/* Close the gap [a, b) of l, whose elements were taken, by moving the
 * shorter side: the elements before it towards the tail, or those after it
 * towards the head. */
static void close_gap(struct list *l, size_t a, size_t b)
{
    size_t gap = b - a;
    if (gap == 0)
        return;
    if (a <= l->count - b) {
        for (size_t k = a; k > 0; k--)
            l->ring[slot(l, k - 1 + gap)] = l->ring[slot(l, k - 1)];
        l->head = (l->head + gap) & (l->cap - 1);
    } else {
        for (size_t k = b; k < l->count; k++)
            l->ring[slot(l, k - gap)] = l->ring[slot(l, k)];
    }
    l->count -= gap;
}

static bool elem_eq(const struct list_elem *x, const char *p, size_t len)
{
    return x->len == len && memcmp(x->data, p, len) == 0;
}

/*
 * One pass from the chosen end that stops at the limit: from the head,
 * the kept elements are compacted towards the head as it goes, so when it
 * stops at i the list is [kept 0..w) [gap w..i) [untouched i..n), and the
 * gap is closed by moving its shorter side (LREM 1 near either end moves
 * little). From the tail, the mirror image.
 */
size_t list_remove_equal(struct obj *o, const char *p, size_t len, bool from_tail,
                         size_t limit, struct list_taken *taken)
{
    struct list *l = list_of(o);
    size_t n = l->count, removed = 0, lim = limit ? limit : SIZE_MAX;
    if (!from_tail) {
        size_t i = 0, w;
        while (i < n && !elem_eq(l->ring[slot(l, i)], p, len))
            i++;
        for (w = i; i < n && removed < lim; i++) {
            struct list_elem *x = l->ring[slot(l, i)];
            if (elem_eq(x, p, len)) {
                take(taken, i, x, false);
                removed++;
            } else {
                l->ring[slot(l, w++)] = x;
            }
        }
        close_gap(l, w, i);
    } else {
        size_t i = n, w;
        while (i > 0 && !elem_eq(l->ring[slot(l, i - 1)], p, len))
            i--;
        for (w = i; i > 0 && removed < lim; i--) {
            struct list_elem *x = l->ring[slot(l, i - 1)];
            if (elem_eq(x, p, len)) {
                take(taken, i - 1, x, true);
                removed++;
            } else {
                l->ring[slot(l, --w)] = x;
            }
        }
        close_gap(l, i, w);
        reverse_taken(taken);
    }
    ASSERT(l->count == n - removed);
    while (l->cap > LIST_RING_MIN && l->count < l->cap / 4)
        resize(l, l->cap / 2);
    return removed;
}

void list_trim(struct obj *o, size_t start, size_t end, bool keep_none, struct list_taken *taken)
{
    struct list *l = list_of(o);
    size_t keep;
    if (keep_none || start > end) {
        for (size_t k = 0; k < l->count; k++)
            take(taken, k, l->ring[slot(l, k)], false);
        l->count = 0;
        shrink_if_sparse(l);
        return;
    }
    ASSERT(end < l->count);
    for (size_t k = 0; k < start; k++)
        take(taken, k, l->ring[slot(l, k)], false);
    for (size_t k = end + 1; k < l->count; k++)
        take(taken, k, l->ring[slot(l, k)], false);
    keep = end - start + 1;
    l->head = slot(l, start);
    l->count = keep;
    while (l->cap > LIST_RING_MIN && l->count < l->cap / 4)
        resize(l, l->cap / 2);
}

struct obj *list_dup(const struct obj *o)
{
    struct obj *n = list_new();
    const struct list *l = list_of(o);
    for (size_t i = 0; i < l->count; i++) {
        const struct list_elem *e = l->ring[slot(l, i)];
        list_push(n, LIST_TAIL, e->data, e->len);
    }
    n->lru = o->lru;
    return n;
}

void list_free(struct obj *o)
{
    struct list *l = list_of(o);
    for (size_t i = 0; i < l->count; i++)
        mem_free(l->ring[slot(l, i)]);
    mem_free(l->ring);
    mem_free(l);
    mem_free(o);
}

size_t list_mem_bytes(const struct obj *o)
{
    const struct list *l = list_of(o);
    size_t bytes = mem_usable_bytes(o) + mem_usable_bytes(l) + l->cap * sizeof(void *);
    for (size_t i = 0; i < l->count; i++)
        bytes += mem_usable_bytes(l->ring[slot(l, i)]);
    return bytes;
}

void list_encode(const struct obj *o, struct buf *out)
{
    const struct list *l = list_of(o);
    varint_append(out, l->count);
    for (size_t i = 0; i < l->count; i++) {
        const struct list_elem *e = l->ring[slot(l, i)];
        varint_append_bytes(out, e->data, e->len);
    }
}

struct obj *list_decode(const char *p, size_t len)
{
    uint64_t n;
    size_t pos = varint_get(p, p + len, &n);
    struct obj *o;
    if (pos == 0 || n == 0 || n > len) /* every element takes at least 1 byte */
        return NULL;
    o = list_new();
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t slen;
        if (!varint_get_bytes(p, len, &pos, &s, &slen)) {
            list_free(o);
            return NULL;
        }
        list_push(o, LIST_TAIL, s, slen);
    }
    if (pos != len) {
        list_free(o);
        return NULL;
    }
    return o;
}
