#pragma once
/*
 * ht.h - intrusive chained hash table with incremental rehash and a
 * resize-proof cursor scan.
 *
 * Nodes are embedded in the caller's structs (first member by convention)
 * and never allocated or freed by the table. Keys are byte strings that the
 * caller's ht_type reads out of a node. The caller passes the key's hash
 * (computed once by the caller, the same function ht_type.hash_node uses) to every keyed call, so a lookup
 * followed by an insert hashes once.
 *
 * Threads: a table belongs to one thread (the loop).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ht_node {
    struct ht_node *next; /* next node in the same bucket */
};

struct ht_type {
    /* Hash of a stored node's key (used when moving nodes while rehashing). */
    uint64_t (*hash_node)(const struct ht_node *n);
    /* True if node n has the key key[0..len). */
    bool (*key_eq)(const struct ht_node *n, const void *key, size_t len);
};

struct ht {
    const struct ht_type *type; /* borrowed; static in practice */
    struct ht_node **tables[2]; /* [0] main, [1] target while rehashing */
    size_t sizes[2];            /* buckets, a power of two, or 0 */
    size_t used[2];             /* nodes in each table */
    int64_t rehash_idx;         /* next bucket of tables[0] to move; -1 when idle */
};

typedef void ht_visit_fn(struct ht_node *n, void *ctx);

void ht_create(struct ht *h, const struct ht_type *type);
/* Frees the bucket arrays. If free_fn is not NULL it is called on every
 * node (which then belongs to free_fn); nodes must not be touched after. */
void ht_destroy(struct ht *h, ht_visit_fn *free_fn, void *ctx);

static inline size_t ht_count(const struct ht *h)
{
    return h->used[0] + h->used[1];
}

static inline bool ht_is_rehashing(const struct ht *h)
{
    return h->rehash_idx >= 0;
}

/* Borrowed pointer to the node with this key, or NULL. Does one rehash step. */
struct ht_node *ht_find(struct ht *h, const void *key, size_t len, uint64_t hash);
/*
 * Prefetch hints for a lookup of this hash that comes soon, so a batch of
 * lookups (pipelined commands) waits for memory once instead of once per
 * key. ht_prefetch_bucket() starts loading the bucket slots the hash may
 * live in; ht_prefetch_head(), called after it (when the slots have
 * arrived), starts loading the first node of those buckets and returns the
 * first of them (or NULL). Neither changes the table nor does a rehash step.
 *
 * ht_slots_of() puts in slots[] the buckets ht_find() walks for hash, in
 * its order, and returns how many (0 to 2): while rehashing, a bucket of
 * tables[0] below rehash_idx has moved (ht.c invariant 1), and nodes
 * inserted since the rehash began are in tables[1].
 */
static inline int ht_slots_of(const struct ht *h, uint64_t hash, struct ht_node **slots[2])
{
    size_t idx;
    int n = 0;
    if (h->sizes[0] == 0)
        return 0;
    idx = hash & (h->sizes[0] - 1);
    if (!ht_is_rehashing(h) || (int64_t)idx >= h->rehash_idx)
        slots[n++] = &h->tables[0][idx];
    if (ht_is_rehashing(h))
        slots[n++] = &h->tables[1][hash & (h->sizes[1] - 1)];
    return n;
}

static inline void ht_prefetch_bucket(const struct ht *h, uint64_t hash)
{
    struct ht_node **slots[2];
    int n = ht_slots_of(h, hash, slots);
    for (int i = 0; i < n; i++)
        __builtin_prefetch(slots[i]);
}

static inline struct ht_node *ht_prefetch_head(const struct ht *h, uint64_t hash)
{
    struct ht_node **slots[2], *first = NULL;
    int n = ht_slots_of(h, hash, slots);
    for (int i = 0; i < n; i++) {
        struct ht_node *head = *slots[i];
        if (head) {
            __builtin_prefetch(head);
            if (!first)
                first = head;
        }
    }
    return first;
}

/* Insert a node whose key is not in the table (caller checked). */
void ht_insert(struct ht *h, struct ht_node *n, uint64_t hash);
/* Unlink and return the node with this key, or NULL. The caller owns it. */
struct ht_node *ht_remove(struct ht *h, const void *key, size_t len, uint64_t hash);
/* Unlink this exact node (which must be in the table). */
void ht_remove_node(struct ht *h, struct ht_node *n, uint64_t hash);
/* Replace node old (in the table, same key) with node new in place. */
void ht_replace_node(struct ht *h, struct ht_node *old, struct ht_node *new_node, uint64_t hash);

/* Size an empty table for about n nodes at once (bulk loading), so no
 * incremental rehash happens while they are inserted. */
void ht_reserve(struct ht *h, size_t n);
/* Move up to `buckets` buckets to the new table. Returns true if more
 * rehashing remains. */
bool ht_rehash_step(struct ht *h, size_t buckets);
/* Rehash for about ms milliseconds. Returns true if more remains. */
bool ht_rehash_ms(struct ht *h, int ms);
/* Start shrinking if the table is under 10% full. */
void ht_maybe_shrink(struct ht *h);

/*
 * Visit the nodes of one cursor position; returns the next cursor (0 when
 * the scan is complete). Every node present for the whole scan is visited
 * at least once, even if the table grows, shrinks or rehashes between calls.
 * fn must not insert or remove nodes. One call visits one cursor
 * position (one bucket, plus its expansions in the larger table while
 * rehashing).
 */
uint64_t ht_scan(struct ht *h, uint64_t cursor, ht_visit_fn *fn, void *ctx);

/* A node chosen at random (not perfectly uniform), or NULL if empty. */
struct ht_node *ht_random(struct ht *h, uint64_t (*rand_fn)(void));

/* For tables whose nodes are single mem_alloc blocks: free every node, then
 * the table (ht_destroy with mem_free). */
void ht_destroy_mem_nodes(struct ht *h);
/* Bytes the table owns: its bucket arrays, plus its nodes' blocks when
 * they are single mem_alloc blocks (memory reports). */
size_t ht_mem_bytes(struct ht *h, bool mem_nodes);

/* Visit every node; fn must not modify the table. */
void ht_foreach(struct ht *h, ht_visit_fn *fn, void *ctx);

/* Bytes used by the bucket arrays (for memory reporting). */
size_t ht_overhead_bytes(const struct ht *h);

/* O(n) consistency check: every node is in the bucket its hash names and
 * the counts match. Returns true if consistent. */
bool debug_check_ht(const struct ht *h);
