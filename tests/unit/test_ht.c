/*
 * test_ht.c - unit tests of the intrusive hash table (src/ds/ht.h).
 *
 * Design
 *   Every test keeps a model next to the table: an array of test keys
 *   (struct tkey, the node embedded first) indexed by their integer key k,
 *   and a flag per key saying whether it is in the table. After each phase
 *   (and, in the rehash tests, after every single operation while
 *   ht_is_rehashing()) the test checks ht_count() against the model and
 *   runs debug_check_ht(), so a node in the wrong bucket or a lost count is
 *   caught where it happens.
 *
 *   Two hash functions are used: a good one (util_hash of the 8 key bytes)
 *   and deliberately terrible ones (k & 3, and a constant) that put every
 *   node into at most four chains, so the chain handling (removal from the
 *   middle of a chain, replacement, moving whole chains while rehashing) is
 *   exercised on long chains.
 *
 *   The ht_scan() tests check the guarantee of ht.h: every node present for
 *   the whole scan is visited at least once, while the table grows (inserts
 *   between calls), shrinks (deletes and ht_maybe_shrink() between calls)
 *   and is mid-rehash when the scan starts or continues.
 *
 * Invariants
 *   (1) model.present[k] is true iff keys[k] is linked into the table.
 *   (2) model.count == number of true flags == ht_count() after each step.
 *   (3) Every loop that should end has an explicit bound (T_ASSERT).
 *
 * Threads
 *   Single-threaded, like the table.
 *
 * Conventions
 *   Test key memory comes from calloc() (the harness's rule: tests do not
 *   disturb mem.c accounting with their own objects); bucket arrays are the
 *   table's and are freed by ht_destroy(). Randomness is seeded, so a
 *   failure reproduces.
 */
#include "harness/test.h"

#include "core/util.h"
#include "ds/ht.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Seed of the good hash: fixed, so bucket layouts and failures reproduce. */
#define HT_TEST_SEED 0x9e3779b97f4a7c15ull
/* Bound on ht_scan() calls in one scan: far above any table size used here. */
#define SCAN_CALLS_MAX 10000000

struct tkey {
    struct ht_node node; /* first member, linked by the table */
    uint64_t k;          /* the key; the key bytes are these 8 bytes */
};

static struct tkey *tkey_of(const struct ht_node *n)
{
    return (struct tkey *)(void *)((char *)(uintptr_t)n - offsetof(struct tkey, node));
}

static uint64_t hash_good(const struct ht_node *n)
{
    uint64_t k = tkey_of(n)->k;
    return util_hash(&k, sizeof(k), HT_TEST_SEED);
}

static uint64_t hash_and3(const struct ht_node *n)
{
    return tkey_of(n)->k & 3;
}

static uint64_t hash_const(const struct ht_node *n)
{
    (void)n;
    return 42;
}

static bool key_eq(const struct ht_node *n, const void *key, size_t len)
{
    uint64_t k;
    if (len != sizeof(k))
        return false;
    memcpy(&k, key, sizeof(k));
    return tkey_of(n)->k == k;
}

static const struct ht_type type_good = {hash_good, key_eq};
static const struct ht_type type_and3 = {hash_and3, key_eq};
static const struct ht_type type_const = {hash_const, key_eq};

/* The table under test plus its model, invariants (1) and (2). */
struct model {
    struct ht h;      /* the table */
    struct tkey *keys; /* keys[k].k == k; calloc'd */
    bool *present;    /* present[k]: keys[k] is in the table */
    size_t n;         /* entries of keys[] and present[] */
    size_t count;     /* true flags in present[] */
};

/* Hash of key k as the caller computes it: through the type, like the table does. */
static uint64_t key_hash(const struct ht_type *type, uint64_t k)
{
    struct tkey tmp = {.node = {NULL}, .k = k};
    return type->hash_node(&tmp.node);
}

static void model_create(struct model *m, const struct ht_type *type, size_t n)
{
    ht_create(&m->h, type);
    m->keys = calloc(n, sizeof(*m->keys));
    m->present = calloc(n, sizeof(*m->present));
    T_NOT_NULL(m->keys);
    T_NOT_NULL(m->present);
    for (size_t i = 0; i < n; i++)
        m->keys[i].k = i;
    m->n = n;
    m->count = 0;
}

static void model_destroy(struct model *m)
{
    ht_destroy(&m->h, NULL, NULL);
    free(m->keys);
    free(m->present);
}

static void model_check(struct model *m)
{
    T_EQ_U64(ht_count(&m->h), m->count);
    T_ASSERT(debug_check_ht(&m->h));
}

static uint64_t hash_of(const struct model *m, uint64_t k)
{
    return key_hash(m->h.type, k);
}

static struct ht_node *find_key(struct model *m, uint64_t k)
{
    return ht_find(&m->h, &k, sizeof(k), hash_of(m, k));
}

static void insert_key(struct model *m, uint64_t k)
{
    T_ASSERT(!m->present[k]);
    ht_insert(&m->h, &m->keys[k].node, hash_of(m, k));
    m->present[k] = true;
    m->count++;
}

static void remove_key(struct model *m, uint64_t k)
{
    struct ht_node *n = ht_remove(&m->h, &k, sizeof(k), hash_of(m, k));
    if (m->present[k]) {
        T_ASSERT(n == &m->keys[k].node);
        m->present[k] = false;
        m->count--;
    } else {
        T_NULL(n);
    }
}

/* Every key's lookup agrees with the model and returns the exact node. */
static void model_find_all(struct model *m)
{
    for (uint64_t k = 0; k < m->n; k++) {
        struct ht_node *n = find_key(m, k);
        if (m->present[k])
            T_ASSERT(n == &m->keys[k].node);
        else
            T_NULL(n);
    }
}

/* A small deterministic generator (splitmix64), independent of util_rand. */
static uint64_t next_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Runs rehash steps one bucket at a time to the end, checking after each. */
static void rehash_to_end_checked(struct model *m)
{
    size_t steps = 0;
    while (ht_rehash_step(&m->h, 1)) {
        model_check(m);
        T_ASSERT(++steps < 100000000);
    }
    model_check(m);
    T_ASSERT(!ht_is_rehashing(&m->h));
}

/*
 * Inserts keys 0, 1, ... until at least min_keys are in and a grow rehash has
 * just started (the insert that found used[0] == sizes[0]), so nearly all
 * nodes are still in tables[0]. Returns the next unused key.
 */
static uint64_t fill_until_rehashing(struct model *m, size_t min_keys)
{
    uint64_t k = 0;
    while (!ht_is_rehashing(&m->h) || m->count < min_keys) {
        T_ASSERT(k < m->n);
        insert_key(m, k++);
    }
    return k;
}

TEST(ht_empty_table)
{
    struct model m;
    uint64_t k = 7;
    model_create(&m, &type_good, 8);
    model_check(&m);
    T_NULL(ht_find(&m.h, &k, sizeof(k), hash_of(&m, k)));
    T_NULL(ht_remove(&m.h, &k, sizeof(k), hash_of(&m, k)));
    T_NULL(ht_random(&m.h, util_rand_u64));
    T_EQ_U64(ht_scan(&m.h, 0, NULL, NULL), 0);
    T_EQ_U64(ht_scan(&m.h, 12345, NULL, NULL), 0);
    T_ASSERT(!ht_rehash_step(&m.h, 10));
    ht_maybe_shrink(&m.h);
    T_ASSERT(!ht_is_rehashing(&m.h));
    T_EQ_U64(ht_overhead_bytes(&m.h), 0);
    ht_foreach(&m.h, NULL, NULL); /* no bucket, so fn is never called */

    /* Emptied again after use: the arrays remain, the scan still ends at once. */
    insert_key(&m, 1);
    remove_key(&m, 1);
    model_check(&m);
    T_EQ_U64(ht_scan(&m.h, 0, NULL, NULL), 0);
    T_NULL(ht_random(&m.h, util_rand_u64));
    model_destroy(&m);
}

/* Insert, find and remove `n` keys in phases, checking the model after each phase. */
static void run_phases(const struct ht_type *type, size_t n)
{
    struct model m;
    model_create(&m, type, n + 100);

    for (uint64_t k = 0; k < n; k++)
        insert_key(&m, k);
    model_check(&m);
    model_find_all(&m); /* keys n..n+99 are the absent ones */
    model_check(&m);

    for (uint64_t k = 1; k < n; k += 2)
        remove_key(&m, k);
    model_check(&m);
    for (uint64_t k = 1; k < n; k += 2)
        remove_key(&m, k); /* second removal of an absent key finds nothing */
    model_check(&m);
    model_find_all(&m);

    for (uint64_t k = 1; k < n; k += 2)
        insert_key(&m, k);
    model_check(&m);
    model_find_all(&m);

    for (uint64_t k = 0; k < n; k++)
        remove_key(&m, k);
    model_check(&m);
    T_EQ_U64(ht_count(&m.h), 0);
    model_find_all(&m);
    model_destroy(&m);
}

TEST(ht_insert_find_remove_100k)
{
    run_phases(&type_good, 100000);
}

TEST(ht_insert_find_remove_bad_hash_and3)
{
    /* Four chains: quadratic, so fewer keys. */
    run_phases(&type_and3, 3000);
}

TEST(ht_insert_find_remove_const_hash)
{
    run_phases(&type_const, 1000);
}

/*
 * Random inserts and deletes in waves (mostly inserts, then mostly deletes
 * sweeping the key space, with ht_maybe_shrink()), so the table grows and shrinks many times.
 * While a rehash is in progress the whole table is checked after every
 * operation. Returns how many checks happened mid-rehash.
 */
static size_t run_interleaved(const struct ht_type *type, size_t keys, size_t ops, uint64_t seed)
{
    struct model m;
    uint64_t rs = seed, sweep = 0;
    size_t mid_rehash_checks = 0, grows = 0, shrinks = 0;

    model_create(&m, type, keys);
    for (size_t i = 0; i < ops; i++) {
        bool insert_wave = (i / (ops / 8)) % 2 == 0; /* 4 grow waves, 4 shrink waves */
        uint64_t r = next_rand(&rs);
        uint64_t k = (r >> 8) % keys;
        bool want_insert = (r & 0xff) < (insert_wave ? 200u : 10u);
        bool was_rehashing = ht_is_rehashing(&m.h);
        size_t size_before = m.h.sizes[0];

        /* Random deletes alone decay too slowly to reach the 10% shrink
         * threshold; a sweep over the key space gets there within a wave. */
        if (!insert_wave && !want_insert)
            k = sweep++ % keys;
        if (want_insert && !m.present[k])
            insert_key(&m, k);
        else if (!want_insert)
            remove_key(&m, k);
        else
            T_ASSERT(find_key(&m, k) == &m.keys[k].node);
        if (!insert_wave && (r & 0x300) == 0)
            ht_maybe_shrink(&m.h);
        if (!was_rehashing && ht_is_rehashing(&m.h)) {
            if (m.h.sizes[1] > size_before)
                grows++;
            else
                shrinks++;
        }
        if (ht_is_rehashing(&m.h)) {
            model_check(&m);
            mid_rehash_checks++;
        }
    }
    model_check(&m);
    model_find_all(&m);
    T_ASSERT(grows >= 4);
    T_ASSERT(shrinks >= 1);
    model_destroy(&m);
    return mid_rehash_checks;
}

TEST(ht_incremental_rehash_interleaved)
{
    T_ASSERT(run_interleaved(&type_good, 4096, 40000, 1) > 1000);
    T_ASSERT(run_interleaved(&type_good, 4096, 40000, 2) > 1000);
}

TEST(ht_incremental_rehash_interleaved_bad_hash)
{
    T_ASSERT(run_interleaved(&type_and3, 1024, 12000, 3) > 10);
}

TEST(ht_grow_rehash_steps)
{
    struct model m;
    size_t size;
    model_create(&m, &type_good, 5000);

    /* Fill exactly to the load factor, then one insert starts the grow. */
    fill_until_rehashing(&m, 1000);
    size = m.h.sizes[0];
    T_EQ_U64(m.h.sizes[1], size * 2);
    T_EQ_U64(m.h.used[0] + m.h.used[1], m.count);
    model_check(&m);
    /* Nodes in both tables are found while rehashing. */
    model_find_all(&m);
    rehash_to_end_checked(&m);
    T_EQ_U64(m.h.sizes[0], size * 2);
    T_NULL(m.h.tables[1]);
    T_EQ_U64(ht_overhead_bytes(&m.h), size * 2 * sizeof(struct ht_node *));
    model_find_all(&m);
    model_destroy(&m);
}

/* The prefetch hints look in the buckets ht_find() walks: every present key
 * is in one of the chains ht_slots_of() names (else the prefetch would load
 * the wrong lines, silently), and ht_prefetch_head() returns the first
 * non-empty chain's head. */
static void check_slots(struct model *m)
{
    for (uint64_t k = 0; k < m->n; k++) {
        struct ht_node **slots[2], *head = NULL;
        size_t steps = 0;
        bool found = false;
        int n;
        if (!m->present[k])
            continue;
        n = ht_slots_of(&m->h, hash_of(m, k), slots);
        T_ASSERT(ht_is_rehashing(&m->h) ? n == 1 || n == 2 : n == 1);
        for (int i = 0; i < n; i++) {
            if (!head)
                head = *slots[i];
            for (struct ht_node *x = *slots[i]; x && !found; x = x->next) {
                found = x == &m->keys[k].node;
                T_ASSERT(++steps <= m->count);
            }
        }
        T_ASSERT(found);
        T_ASSERT(ht_prefetch_head(&m->h, hash_of(m, k)) == head);
    }
}

TEST(ht_slots_of_follow_rehash)
{
    struct model m;
    struct ht_node **slots[2];
    size_t steps = 0;
    uint64_t k;
    model_create(&m, &type_good, 3000);
    T_EQ_INT(ht_slots_of(&m.h, 42, slots), 0); /* no bucket array yet */
    k = fill_until_rehashing(&m, 1000);
    check_slots(&m);
    /* Inserts while rehashing land in tables[1], ahead of rehash_idx too. */
    while (ht_rehash_step(&m.h, 7)) {
        if (k < m.n)
            insert_key(&m, k++);
        check_slots(&m);
        T_ASSERT(++steps < 100000);
    }
    check_slots(&m);
    model_destroy(&m);
}

TEST(ht_insert_during_rehash_goes_to_new_table)
{
    struct model m;
    uint64_t k = 0;
    model_create(&m, &type_good, 4096);
    k = fill_until_rehashing(&m, 1025);
    /* Each insert moves one bucket and then links into tables[1]. */
    while (ht_is_rehashing(&m.h) && k < 4096) {
        size_t used1 = m.h.used[1];
        insert_key(&m, k++);
        if (ht_is_rehashing(&m.h))
            T_ASSERT(m.h.used[1] > used1);
        model_check(&m);
    }
    model_find_all(&m);
    model_destroy(&m);
}

static void shrink_case(const struct ht_type *type, size_t n, size_t keep)
{
    struct model m;
    size_t big, expect = 4;
    model_create(&m, type, n);
    for (uint64_t k = 0; k < n; k++)
        insert_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    T_ASSERT(!ht_is_rehashing(&m.h));
    big = m.h.sizes[0];

    /* Above 10% full: no shrink. */
    for (uint64_t k = 0; m.count * 10 > big * 2; k++)
        remove_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    ht_maybe_shrink(&m.h);
    T_ASSERT(!ht_is_rehashing(&m.h));
    T_EQ_U64(m.h.sizes[0], big);

    /* Down to `keep` nodes (ht_remove never shrinks by itself). */
    for (uint64_t k = 0; k < n && m.count > keep; k++) {
        if (m.present[k])
            remove_key(&m, k);
    }
    ht_rehash_ms(&m.h, 1000);
    T_ASSERT(!ht_is_rehashing(&m.h));
    T_EQ_U64(m.h.sizes[0], big);
    model_check(&m);

    ht_maybe_shrink(&m.h);
    T_ASSERT(ht_is_rehashing(&m.h));
    while (expect < keep)
        expect *= 2;
    T_EQ_U64(m.h.sizes[1], expect);
    model_check(&m);
    model_find_all(&m); /* finds do rehash steps, checked afterwards */
    rehash_to_end_checked(&m);
    T_EQ_U64(m.h.sizes[0], expect);
    model_find_all(&m);

    /* A second call on the now right-sized table does nothing. */
    ht_maybe_shrink(&m.h);
    T_ASSERT(!ht_is_rehashing(&m.h));
    model_destroy(&m);
}

TEST(ht_shrink)
{
    shrink_case(&type_good, 10000, 100);
    shrink_case(&type_good, 10000, 1);
    shrink_case(&type_and3, 2000, 37);
}

TEST(ht_shrink_to_empty)
{
    struct model m;
    model_create(&m, &type_good, 1000);
    for (uint64_t k = 0; k < 1000; k++)
        insert_key(&m, k);
    for (uint64_t k = 0; k < 1000; k++)
        remove_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    model_check(&m);
    ht_maybe_shrink(&m.h);
    rehash_to_end_checked(&m);
    T_ASSERT(m.h.sizes[0] <= 4);
    insert_key(&m, 5);
    model_check(&m);
    model_find_all(&m);
    model_destroy(&m);
}

/* ---- ht_scan ---- */

struct scan_ctx {
    uint32_t *visits; /* visits[k]: times key k was reported */
    size_t n;         /* entries of visits[] */
};

static void scan_visit(struct ht_node *n, void *arg)
{
    struct scan_ctx *c = arg;
    uint64_t k = tkey_of(n)->k;
    T_ASSERT(k < c->n);
    c->visits[k]++;
}

TEST(ht_scan_stable_table_visits_each_once)
{
    struct model m;
    struct scan_ctx c;
    uint64_t cursor = 0;
    size_t calls = 0;
    model_create(&m, &type_good, 3000);
    c.n = m.n;
    c.visits = calloc(c.n, sizeof(*c.visits));
    for (uint64_t k = 0; k < 3000; k++)
        insert_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    T_ASSERT(!ht_is_rehashing(&m.h));
    do {
        cursor = ht_scan(&m.h, cursor, scan_visit, &c);
        T_ASSERT(++calls < SCAN_CALLS_MAX);
    } while (cursor != 0);
    /* One call per bucket of a table that did not change. */
    T_EQ_U64(calls, m.h.sizes[0]);
    for (uint64_t k = 0; k < 3000; k++)
        T_EQ_INT(c.visits[k], 1);
    free(c.visits);
    model_destroy(&m);
}

enum scan_mutation {
    SCAN_GROW,       /* insert new keys between calls */
    SCAN_SHRINK,     /* delete non-stable keys and ht_maybe_shrink() between calls */
    SCAN_STEP_ONLY,  /* only ht_rehash_step() between calls: starts mid-rehash */
    SCAN_RANDOM_MIX, /* random inserts and deletes of non-stable keys, shrinks too */
};

/*
 * Scans a table holding `stable` keys (0..stable-1) that stay for the whole
 * scan while other keys come and go according to `how`; asserts that every
 * stable key is visited at least once and that no absent key is reported.
 * Returns the number of scan calls made while the table was rehashing.
 */
static size_t scan_case(const struct ht_type *type, size_t stable, size_t extra_start,
                        size_t total, enum scan_mutation how, uint64_t seed)
{
    struct model m;
    struct scan_ctx c;
    uint64_t cursor = 0, rs = seed, next_new;
    size_t calls = 0, calls_rehashing = 0;

    model_create(&m, type, total);
    c.n = total;
    c.visits = calloc(total, sizeof(*c.visits));
    for (uint64_t k = 0; k < stable + extra_start; k++)
        insert_key(&m, k);
    next_new = stable + extra_start;
    if (how == SCAN_SHRINK || how == SCAN_RANDOM_MIX)
        ht_rehash_ms(&m.h, 1000);
    do {
        if (ht_is_rehashing(&m.h))
            calls_rehashing++;
        cursor = ht_scan(&m.h, cursor, scan_visit, &c);
        T_ASSERT(++calls < SCAN_CALLS_MAX);
        switch (how) {
        case SCAN_GROW:
            for (int i = 0; i < 7 && next_new < total; i++)
                insert_key(&m, next_new++);
            break;
        case SCAN_SHRINK:
            for (int i = 0; i < 40 && next_new > stable; i++) {
                uint64_t k = --next_new;
                if (m.present[k])
                    remove_key(&m, k);
            }
            ht_maybe_shrink(&m.h);
            break;
        case SCAN_STEP_ONLY:
            ht_rehash_step(&m.h, 1);
            break;
        case SCAN_RANDOM_MIX:
            for (int i = 0; i < 8; i++) {
                uint64_t r = next_rand(&rs);
                uint64_t k = stable + (r >> 8) % (total - stable);
                if ((r & 0xff) < 110 && !m.present[k])
                    insert_key(&m, k);
                else if ((r & 0xff) >= 110)
                    remove_key(&m, k);
            }
            if ((next_rand(&rs) & 3) == 0)
                ht_maybe_shrink(&m.h);
            break;
        }
        /* The O(n) check after every call would make big scans quadratic. */
        if (m.count < 2000 || calls % 64 == 0)
            model_check(&m);
    } while (cursor != 0);
    model_check(&m);
    for (uint64_t k = 0; k < stable; k++)
        T_ASSERT(c.visits[k] >= 1);
    free(c.visits);
    model_destroy(&m);
    return calls_rehashing;
}

TEST(ht_scan_while_growing)
{
    /* From 64 keys to 20000: several doublings during one scan. */
    T_ASSERT(scan_case(&type_good, 64, 0, 20000, SCAN_GROW, 1) > 0);
    T_ASSERT(scan_case(&type_good, 1000, 0, 20000, SCAN_GROW, 2) > 0);
    scan_case(&type_and3, 50, 0, 3000, SCAN_GROW, 3);
}

TEST(ht_scan_while_shrinking)
{
    T_ASSERT(scan_case(&type_good, 100, 20000, 20100, SCAN_SHRINK, 1) > 0);
    T_ASSERT(scan_case(&type_good, 7, 5000, 5007, SCAN_SHRINK, 2) > 0);
    scan_case(&type_and3, 20, 2000, 2020, SCAN_SHRINK, 3);
}

TEST(ht_scan_mid_rehash)
{
    struct model m;
    struct scan_ctx c;
    uint64_t cursor = 0, k = 0;
    size_t calls = 0;

    /* Grow rehash in progress for the whole scan: no step happens between calls. */
    model_create(&m, &type_good, 4096);
    c.n = m.n;
    c.visits = calloc(c.n, sizeof(*c.visits));
    k = fill_until_rehashing(&m, 1025);
    for (int i = 0; i < 3; i++)
        ht_rehash_step(&m.h, 1);
    T_ASSERT(ht_is_rehashing(&m.h));
    do {
        T_ASSERT(ht_is_rehashing(&m.h));
        cursor = ht_scan(&m.h, cursor, scan_visit, &c);
        T_ASSERT(++calls < SCAN_CALLS_MAX);
    } while (cursor != 0);
    for (uint64_t i = 0; i < k; i++)
        T_ASSERT(c.visits[i] >= 1);
    free(c.visits);
    model_destroy(&m);

    /* A rehash step between calls: starts mid-rehash, ends after it. */
    T_ASSERT(scan_case(&type_good, 1025, 0, 1025, SCAN_STEP_ONLY, 1) > 0);
    T_ASSERT(scan_case(&type_good, 4097, 0, 4097, SCAN_STEP_ONLY, 2) > 0);
}

TEST(ht_scan_mid_shrink_rehash)
{
    struct model m;
    struct scan_ctx c;
    uint64_t cursor = 0;
    size_t calls = 0;

    model_create(&m, &type_good, 8192);
    c.n = m.n;
    c.visits = calloc(c.n, sizeof(*c.visits));
    for (uint64_t k = 0; k < 8192; k++)
        insert_key(&m, k);
    for (uint64_t k = 100; k < 8192; k++)
        remove_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    ht_maybe_shrink(&m.h);
    ht_rehash_step(&m.h, 1);
    T_ASSERT(ht_is_rehashing(&m.h));
    T_ASSERT(m.h.sizes[1] < m.h.sizes[0]);
    do {
        cursor = ht_scan(&m.h, cursor, scan_visit, &c);
        T_ASSERT(++calls < SCAN_CALLS_MAX);
        if (calls % 3 == 0)
            ht_rehash_step(&m.h, 1);
        model_check(&m);
    } while (cursor != 0);
    for (uint64_t k = 0; k < 100; k++)
        T_ASSERT(c.visits[k] >= 1);
    free(c.visits);
    model_destroy(&m);
}

TEST(ht_scan_random_mutations)
{
    for (uint64_t seed = 1; seed <= 6; seed++)
        scan_case(&type_good, 300, 3000, 8000, SCAN_RANDOM_MIX, seed);
    scan_case(&type_and3, 40, 400, 1200, SCAN_RANDOM_MIX, 7);
    scan_case(&type_const, 10, 50, 200, SCAN_RANDOM_MIX, 8);
}

/* ---- ht_random ---- */

TEST(ht_random_members_and_coverage)
{
    struct model m;
    uint32_t *hits;
    size_t distinct = 0;
    model_create(&m, &type_good, 2000);
    hits = calloc(m.n, sizeof(*hits));
    util_rand_seed(12345);

    insert_key(&m, 77);
    for (int i = 0; i < 10; i++)
        T_ASSERT(ht_random(&m.h, util_rand_u64) == &m.keys[77].node);

    for (uint64_t k = 0; k < 1000; k++) {
        if (!m.present[k])
            insert_key(&m, k);
    }
    for (int i = 0; i < 20000; i++) {
        struct ht_node *n = ht_random(&m.h, util_rand_u64);
        uint64_t k;
        T_NOT_NULL(n);
        k = tkey_of(n)->k;
        T_ASSERT(k < m.n);
        T_ASSERT(m.present[k]);
        T_ASSERT(n == &m.keys[k].node);
        hits[k]++;
    }
    for (uint64_t k = 0; k < m.n; k++)
        distinct += hits[k] > 0;
    /* 20 draws per node: a fair-ish sampler misses almost none. */
    T_ASSERT(distinct >= 950);
    model_check(&m);
    free(hits);
    model_destroy(&m);
}

TEST(ht_random_mid_rehash)
{
    struct model m;
    uint32_t *hits;
    size_t distinct = 0, drawn_rehashing = 0;
    model_create(&m, &type_good, 4096);
    hits = calloc(m.n, sizeof(*hits));
    util_rand_seed(999);
    fill_until_rehashing(&m, 1025);
    /* Each draw moves a bucket; keep the table mid-rehash by drawing in rounds. */
    for (int round = 0; round < 4000; round++) {
        struct ht_node *n;
        if (ht_is_rehashing(&m.h))
            drawn_rehashing++;
        n = ht_random(&m.h, util_rand_u64);
        T_NOT_NULL(n);
        T_ASSERT(tkey_of(n)->k < m.n);
        T_ASSERT(m.present[tkey_of(n)->k]);
        hits[tkey_of(n)->k]++;
        model_check(&m);
    }
    T_ASSERT(drawn_rehashing > 10);
    for (uint64_t i = 0; i < m.n; i++)
        distinct += hits[i] > 0;
    T_ASSERT(distinct >= m.count / 2);
    free(hits);
    model_destroy(&m);
}

TEST(ht_random_bad_hash)
{
    struct model m;
    uint32_t *hits;
    size_t distinct = 0;
    model_create(&m, &type_and3, 200);
    hits = calloc(m.n, sizeof(*hits));
    util_rand_seed(4);
    for (uint64_t k = 0; k < 200; k++)
        insert_key(&m, k);
    for (int i = 0; i < 10000; i++) {
        struct ht_node *n = ht_random(&m.h, util_rand_u64);
        T_NOT_NULL(n);
        T_ASSERT(m.present[tkey_of(n)->k]);
        hits[tkey_of(n)->k]++;
    }
    for (uint64_t i = 0; i < m.n; i++)
        distinct += hits[i] > 0;
    T_ASSERT(distinct >= 190);
    free(hits);
    model_destroy(&m);
}

/* ---- ht_replace_node, ht_remove_node ---- */

/* Replaces keys[k] by a copy with the same key, in the table; checks and swaps back. */
static void replace_and_check(struct model *m, uint64_t k)
{
    struct tkey other = {.node = {NULL}, .k = k};
    size_t count = ht_count(&m->h);
    ht_replace_node(&m->h, &m->keys[k].node, &other.node, hash_of(m, k));
    T_EQ_U64(ht_count(&m->h), count);
    T_ASSERT(debug_check_ht(&m->h));
    /* ht_find may do a rehash step; the replacement node moves with its chain. */
    T_ASSERT(find_key(m, k) == &other.node);
    T_ASSERT(debug_check_ht(&m->h));
    /* Put the original back so the model stays true. */
    ht_replace_node(&m->h, &other.node, &m->keys[k].node, hash_of(m, k));
    T_ASSERT(find_key(m, k) == &m->keys[k].node);
    model_check(m);
}

TEST(ht_replace_node)
{
    struct model m;
    uint64_t k = 0;

    model_create(&m, &type_and3, 400);
    for (; k < 100; k++)
        insert_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    /* Heads, middles and tails of the four long chains. */
    for (uint64_t i = 0; i < 100; i++)
        replace_and_check(&m, i);
    model_find_all(&m);
    model_destroy(&m);

    /* Mid-rehash, nodes in both tables. */
    model_create(&m, &type_good, 4096);
    k = fill_until_rehashing(&m, 1025);
    for (int i = 0; i < 5; i++)
        insert_key(&m, k++);
    T_ASSERT(ht_is_rehashing(&m.h));
    T_ASSERT(m.h.used[0] > 0 && m.h.used[1] > 0);
    for (uint64_t i = 0; i < k; i += 7)
        replace_and_check(&m, i);
    model_find_all(&m);
    model_destroy(&m);
}

/* Unlinks keys[k] with ht_remove_node and updates the model. */
static void remove_node_key(struct model *m, uint64_t k)
{
    T_ASSERT(m->present[k]);
    ht_remove_node(&m->h, &m->keys[k].node, hash_of(m, k));
    m->present[k] = false;
    m->count--;
    model_check(m);
    T_NULL(find_key(m, k));
}

TEST(ht_remove_node)
{
    struct model m;
    uint64_t k = 0;

    /* One chain (constant hash): remove the head, a middle node and the tail. */
    model_create(&m, &type_const, 10);
    for (; k < 10; k++)
        insert_key(&m, k);
    ht_rehash_ms(&m.h, 1000);
    remove_node_key(&m, 9); /* inserted last: the head */
    remove_node_key(&m, 5);
    remove_node_key(&m, 0); /* inserted first: the tail */
    model_find_all(&m);
    for (uint64_t i = 0; i < 10; i++) {
        if (m.present[i])
            remove_node_key(&m, i);
    }
    T_EQ_U64(ht_count(&m.h), 0);
    model_destroy(&m);

    /* Mid-rehash with the good hash, from both tables. */
    model_create(&m, &type_good, 4096);
    k = fill_until_rehashing(&m, 1025);
    for (int i = 0; i < 5; i++)
        insert_key(&m, k++);
    T_ASSERT(ht_is_rehashing(&m.h));
    for (uint64_t i = 0; i < k; i += 3)
        remove_node_key(&m, i);
    model_find_all(&m);
    model_destroy(&m);
}

/* ---- ht_foreach, ht_destroy ---- */

TEST(ht_foreach_visits_all_once)
{
    struct model m;
    struct scan_ctx c;
    model_create(&m, &type_good, 5000);
    c.n = m.n;
    c.visits = calloc(c.n, sizeof(*c.visits));
    fill_until_rehashing(&m, 2000);
    T_ASSERT(ht_is_rehashing(&m.h));
    for (int pass = 0; pass < 2; pass++) {
        memset(c.visits, 0, c.n * sizeof(*c.visits));
        ht_foreach(&m.h, scan_visit, &c);
        for (uint64_t i = 0; i < m.n; i++)
            T_EQ_INT(c.visits[i], m.present[i] ? 1 : 0);
        ht_rehash_ms(&m.h, 1000); /* second pass on a settled table */
    }
    free(c.visits);
    model_destroy(&m);
}

static void count_free(struct ht_node *n, void *arg)
{
    struct scan_ctx *c = arg;
    c->visits[tkey_of(n)->k]++;
    n->next = (struct ht_node *)(uintptr_t)0xdead; /* the table must not read it again */
}

TEST(ht_destroy_calls_free_fn_once_per_node)
{
    struct model m;
    struct scan_ctx c;
    model_create(&m, &type_good, 3000);
    c.n = m.n;
    c.visits = calloc(c.n, sizeof(*c.visits));
    fill_until_rehashing(&m, 1000);
    T_ASSERT(ht_is_rehashing(&m.h));
    ht_destroy(&m.h, count_free, &c);
    for (uint64_t i = 0; i < m.n; i++)
        T_EQ_INT(c.visits[i], m.present[i] ? 1 : 0);
    /* Destroyed means empty and reusable. */
    T_EQ_U64(ht_count(&m.h), 0);
    T_ASSERT(!ht_is_rehashing(&m.h));
    T_ASSERT(debug_check_ht(&m.h));
    free(c.visits);
    model_destroy(&m);
}
