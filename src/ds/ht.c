/*
 * ht.c - intrusive chained hash table.
 *
 * Design
 *   Power-of-two bucket arrays with separate chaining through the embedded
 *   ht_node. Growth and shrinking are incremental: a second array is
 *   allocated and every keyed operation moves one bucket from tables[0] to
 *   tables[1] (plus ht_rehash_ms() from the cron), so no single command
 *   pays for a whole resize. When tables[0] is empty the arrays swap.
 *
 *   ht_scan() uses a reverse-binary cursor: the cursor's bits are
 *   incremented from the most significant end, so the set of buckets already
 *   visited maps onto a prefix-closed set in a table of any other power-of-
 *   two size. That is what makes the guarantee hold across resizes: a
 *   bucket of a smaller table is visited together with all the buckets of
 *   the larger table it expands to.
 *
 * Invariants
 *   (1) A node with hash x lives in tables[t][x & (sizes[t]-1)] for exactly
 *       one t; while rehashing, buckets of tables[0] below rehash_idx are
 *       empty.
 *   (2) used[0] + used[1] is the number of nodes.
 *   (3) Not rehashing implies tables[1] == NULL and used[1] == 0.
 *
 * Threads
 *   The owner's thread only.
 */
#include "ds/ht.h"

#include "core/assert.h"
#include "core/clock.h"
#include "core/mem.h"

#define HT_INITIAL_SIZE 4
/* Empty buckets skipped per rehash step before giving up the step. */
#define HT_EMPTY_VISITS_PER_STEP 10

void ht_create(struct ht *h, const struct ht_type *type)
{
    h->type = type;
    h->tables[0] = h->tables[1] = NULL;
    h->sizes[0] = h->sizes[1] = 0;
    h->used[0] = h->used[1] = 0;
    h->rehash_idx = -1;
}

void ht_destroy(struct ht *h, ht_visit_fn *free_fn, void *ctx)
{
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; free_fn && i < h->sizes[t]; i++) {
            struct ht_node *n = h->tables[t][i];
            while (n) {
                struct ht_node *next = n->next;
                free_fn(n, ctx);
                n = next;
            }
        }
        mem_free(h->tables[t]);
    }
    ht_create(h, h->type);
}

static void start_resize(struct ht *h, size_t size)
{
    ASSERT(!ht_is_rehashing(h));
    ASSERT((size & (size - 1)) == 0);
    if (h->sizes[0] == 0) {
        h->tables[0] = mem_calloc(size * sizeof(struct ht_node *));
        h->sizes[0] = size;
        return;
    }
    h->tables[1] = mem_calloc(size * sizeof(struct ht_node *));
    h->sizes[1] = size;
    h->rehash_idx = 0;
}

static void finish_rehash(struct ht *h)
{
    ASSERT(h->used[0] == 0);
    mem_free(h->tables[0]);
    h->tables[0] = h->tables[1];
    h->sizes[0] = h->sizes[1];
    h->used[0] = h->used[1];
    h->tables[1] = NULL;
    h->sizes[1] = 0;
    h->used[1] = 0;
    h->rehash_idx = -1;
}

/*
 * Prefetch for the steps to come. Moving a bucket waits for memory twice
 * per node (the node, to hash its key, and its slot in the new table), and
 * a keyed operation moves one bucket, so the next step runs a whole command
 * later: time enough for the lines asked for here to arrive. This asks for
 * the first node of the bucket after next, and the new-table slot of the
 * next bucket's first node, which the previous step asked for.
 */
static void rehash_prefetch(const struct ht *h)
{
    size_t i = (size_t)h->rehash_idx;
    if (i + 2 < h->sizes[0] && h->tables[0][i + 2])
        __builtin_prefetch(h->tables[0][i + 2]);
    if (i + 1 < h->sizes[0] && h->tables[0][i + 1]) {
        uint64_t hash = h->type->hash_node(h->tables[0][i + 1]);
        __builtin_prefetch(&h->tables[1][hash & (h->sizes[1] - 1)], 1);
    }
}

bool ht_rehash_step(struct ht *h, size_t buckets)
{
    size_t empty_left = buckets * HT_EMPTY_VISITS_PER_STEP;
    if (!ht_is_rehashing(h))
        return false;
    while (buckets > 0 && h->used[0] > 0) {
        struct ht_node *n;
        ASSERT((size_t)h->rehash_idx < h->sizes[0]);
        n = h->tables[0][h->rehash_idx];
        if (!n) {
            h->rehash_idx++;
            if (--empty_left == 0)
                return true;
            continue;
        }
        while (n) {
            struct ht_node *next = n->next;
            size_t idx = h->type->hash_node(n) & (h->sizes[1] - 1);
            n->next = h->tables[1][idx];
            h->tables[1][idx] = n;
            h->used[0]--;
            h->used[1]++;
            n = next;
        }
        h->tables[0][h->rehash_idx] = NULL;
        h->rehash_idx++;
        buckets--;
    }
    if (h->used[0] == 0) {
        finish_rehash(h);
        return false;
    }
    rehash_prefetch(h);
    return true;
}

bool ht_rehash_ms(struct ht *h, int ms)
{
    int64_t deadline = clock_mono_us() + (int64_t)ms * 1000;
    while (ht_rehash_step(h, 100)) {
        if (clock_mono_us() >= deadline)
            return true;
    }
    return false;
}

void ht_reserve(struct ht *h, size_t n)
{
    size_t size = HT_INITIAL_SIZE;
    if (ht_count(h) != 0 || ht_is_rehashing(h))
        return;
    while (size < n && size < ((size_t)1 << 40))
        size *= 2;
    mem_free(h->tables[0]);
    h->tables[0] = NULL;
    h->sizes[0] = 0;
    start_resize(h, size);
}

static void maybe_grow(struct ht *h)
{
    if (ht_is_rehashing(h))
        return;
    if (h->sizes[0] == 0) {
        start_resize(h, HT_INITIAL_SIZE);
        return;
    }
    if (h->used[0] >= h->sizes[0])
        start_resize(h, h->sizes[0] * 2);
}

void ht_maybe_shrink(struct ht *h)
{
    size_t size = HT_INITIAL_SIZE;
    if (ht_is_rehashing(h) || h->sizes[0] <= HT_INITIAL_SIZE)
        return;
    if (h->used[0] * 10 >= h->sizes[0])
        return;
    while (size < h->used[0])
        size *= 2;
    if (size < h->sizes[0])
        start_resize(h, size);
}

struct ht_node *ht_find(struct ht *h, const void *key, size_t len, uint64_t hash)
{
    if (ht_count(h) == 0)
        return NULL;
    if (ht_is_rehashing(h))
        ht_rehash_step(h, 1);
    for (int t = 0; t < 2; t++) {
        if (h->sizes[t] == 0)
            continue;
        for (struct ht_node *n = h->tables[t][hash & (h->sizes[t] - 1)]; n; n = n->next) {
            if (h->type->key_eq(n, key, len))
                return n;
        }
        if (!ht_is_rehashing(h))
            break;
    }
    return NULL;
}

void ht_insert(struct ht *h, struct ht_node *n, uint64_t hash)
{
    int t;
    size_t idx;
    if (ht_is_rehashing(h))
        ht_rehash_step(h, 1);
    maybe_grow(h);
    t = ht_is_rehashing(h) ? 1 : 0;
    idx = hash & (h->sizes[t] - 1);
    n->next = h->tables[t][idx];
    h->tables[t][idx] = n;
    h->used[t]++;
}

/* Find the link that points at the node matching (key or exact node). */
static struct ht_node **find_link(struct ht *h, const void *key, size_t len, uint64_t hash,
                                  const struct ht_node *exact, int *table_out)
{
    for (int t = 0; t < 2; t++) {
        struct ht_node **link;
        if (h->sizes[t] == 0)
            continue;
        link = &h->tables[t][hash & (h->sizes[t] - 1)];
        for (; *link; link = &(*link)->next) {
            if (exact ? *link == exact : h->type->key_eq(*link, key, len)) {
                *table_out = t;
                return link;
            }
        }
        if (!ht_is_rehashing(h))
            break;
    }
    return NULL;
}

struct ht_node *ht_remove(struct ht *h, const void *key, size_t len, uint64_t hash)
{
    struct ht_node **link, *n;
    int t = 0;
    if (ht_count(h) == 0)
        return NULL;
    if (ht_is_rehashing(h))
        ht_rehash_step(h, 1);
    link = find_link(h, key, len, hash, NULL, &t);
    if (!link)
        return NULL;
    n = *link;
    *link = n->next;
    h->used[t]--;
    return n;
}

void ht_remove_node(struct ht *h, struct ht_node *n, uint64_t hash)
{
    int t = 0;
    struct ht_node **link = find_link(h, NULL, 0, hash, n, &t);
    ASSERT(link != NULL);
    *link = n->next;
    h->used[t]--;
}

void ht_replace_node(struct ht *h, struct ht_node *old, struct ht_node *new_node, uint64_t hash)
{
    int t = 0;
    struct ht_node **link = find_link(h, NULL, 0, hash, old, &t);
    ASSERT(link != NULL);
    new_node->next = old->next;
    *link = new_node;
}

static void visit_bucket(struct ht_node *n, ht_visit_fn *fn, void *ctx)
{
    while (n) {
        struct ht_node *next = n->next;
        fn(n, ctx);
        n = next;
    }
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(v);
}

/* Add one to the cursor counting from its most significant unmasked bit. */
static uint64_t next_cursor(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    v = rev64(v);
    v++;
    return rev64(v);
}

uint64_t ht_scan(struct ht *h, uint64_t cursor, ht_visit_fn *fn, void *ctx)
{
    uint64_t v = cursor, m0, m1;
    int small, large;
    if (ht_count(h) == 0)
        return 0;
    if (!ht_is_rehashing(h)) {
        m0 = h->sizes[0] - 1;
        visit_bucket(h->tables[0][v & m0], fn, ctx);
        return next_cursor(v, m0);
    }
    small = h->sizes[0] <= h->sizes[1] ? 0 : 1;
    large = 1 - small;
    m0 = h->sizes[small] - 1;
    m1 = h->sizes[large] - 1;
    visit_bucket(h->tables[small][v & m0], fn, ctx);
    /* Visit every bucket of the larger table that expands v & m0. */
    do {
        visit_bucket(h->tables[large][v & m1], fn, ctx);
        v = next_cursor(v, m1);
    } while (v & (m0 ^ m1));
    return v;
}

struct ht_node *ht_random(struct ht *h, uint64_t (*rand_fn)(void))
{
    struct ht_node *bucket = NULL, *n;
    size_t chain = 0, pick;
    if (ht_count(h) == 0)
        return NULL;
    if (ht_is_rehashing(h))
        ht_rehash_step(h, 1);
    /* Buckets below rehash_idx in tables[0] are empty; skip them. */
    while (!bucket) {
        uint64_t r = rand_fn();
        if (ht_is_rehashing(h)) {
            size_t lo = (size_t)h->rehash_idx, span = h->sizes[0] - lo + h->sizes[1];
            size_t i = lo + r % span;
            bucket = i < h->sizes[0] ? h->tables[0][i] : h->tables[1][i - h->sizes[0]];
        } else {
            bucket = h->tables[0][r & (h->sizes[0] - 1)];
        }
    }
    for (n = bucket; n; n = n->next)
        chain++;
    pick = rand_fn() % chain;
    for (n = bucket; pick > 0; pick--)
        n = n->next;
    return n;
}

void ht_foreach(struct ht *h, ht_visit_fn *fn, void *ctx)
{
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < h->sizes[t]; i++)
            visit_bucket(h->tables[t][i], fn, ctx);
    }
}

size_t ht_overhead_bytes(const struct ht *h)
{
    return (h->sizes[0] + h->sizes[1]) * sizeof(struct ht_node *);
}

bool debug_check_ht(const struct ht *h)
{
    for (int t = 0; t < 2; t++) {
        size_t count = 0;
        for (size_t i = 0; i < h->sizes[t]; i++) {
            for (struct ht_node *n = h->tables[t][i]; n; n = n->next) {
                if ((h->type->hash_node(n) & (h->sizes[t] - 1)) != i)
                    return false;
                if (t == 0 && ht_is_rehashing(h) && (int64_t)i < h->rehash_idx)
                    return false;
                count++;
            }
        }
        if (count != h->used[t])
            return false;
    }
    return ht_is_rehashing(h) || (h->tables[1] == NULL && h->used[1] == 0);
}

static void free_mem_node(struct ht_node *n, void *ctx)
{
    (void)ctx;
    mem_free(n);
}

void ht_destroy_mem_nodes(struct ht *h)
{
    ht_destroy(h, free_mem_node, NULL);
}

static void add_node_bytes(struct ht_node *n, void *arg)
{
    *(size_t *)arg += mem_usable_bytes(n);
}

size_t ht_mem_bytes(struct ht *h, bool mem_nodes)
{
    size_t bytes = (h->sizes[0] + h->sizes[1]) * sizeof(struct ht_node *);
    if (mem_nodes)
        ht_foreach(h, add_node_bytes, &bytes);
    return bytes;
}
