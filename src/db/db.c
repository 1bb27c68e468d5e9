/*
 * db.c - one logical database.
 *
 * Design
 *   Two intrusive hash tables: `keys` holds db_entry nodes (key bytes
 *   inline, so a lookup costs one hash, one bucket walk and one memcmp);
 *   `expires` holds small db_vol nodes pointing at the entries that have a
 *   TTL. The TTL itself lives in the entry, so reading it costs nothing
 *   extra; the second table only exists to find volatile keys quickly.
 *
 *   Expiry is lazy (every lookup checks the entry's TTL against db_now_ms
 *   and deletes the key) and active: db_expire_cycle() walks `expires` with
 *   an ht_scan cursor, so over successive cron ticks every volatile key is
 *   examined, and stops at a CPU deadline or when a sample finds under 10%
 *   of keys expired (Redis's adaptive rule).
 *
 * Invariants
 *   (1) e->expire_ms >= 0 iff a db_vol node for e is in `expires`.
 *   (2) Both tables hash a key with db_hash(), so one hash serves both.
 *   (3) Deleting an expired key records a DEL effect.
 *   (4) While a transaction runs (undo_active()), every change to an entry
 *       or a table is preceded by an undo hook (undo.h), so EXEC can roll
 *       back; outside one the hooks cost one test of a flag.
 *
 * Threads
 *   Loop thread only.
 */
#include "db/db.h"

#include "core/assert.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/effect.h"
#include "db/undo.h"

#include <string.h>

struct db_vol {
    struct ht_node node;  /* link in db.expires */
    struct db_entry *e;   /* borrowed: the entry owns its TTL */
};

struct db_stats db_stats;
static uint64_t hash_seed;
static int64_t now_ms;

static uint64_t entry_hash(const struct ht_node *n)
{
    const struct db_entry *e = (const struct db_entry *)n;
    return db_hash(e->key, e->key_len);
}

static bool entry_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct db_entry *e = (const struct db_entry *)n;
    return e->key_len == len && memcmp(e->key, key, len) == 0;
}

static uint64_t vol_hash(const struct ht_node *n)
{
    const struct db_vol *v = (const struct db_vol *)n;
    return db_hash(v->e->key, v->e->key_len);
}

static bool vol_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct db_vol *v = (const struct db_vol *)n;
    return v->e->key_len == len && memcmp(v->e->key, key, len) == 0;
}

static const struct ht_type keys_type = {.hash_node = entry_hash, .key_eq = entry_eq};
static const struct ht_type vol_type = {.hash_node = vol_hash, .key_eq = vol_eq};

void db_module_init(uint64_t seed)
{
    hash_seed = seed;
    now_ms = clock_wall_ms();
}

void db_set_now(int64_t ms)
{
    now_ms = ms;
}

int64_t db_now(void)
{
    return now_ms;
}

uint32_t db_lru_clock(void)
{
    return (uint32_t)(now_ms / 1000) & OBJ_LRU_MAX;
}

uint64_t db_hash(const void *key, size_t len)
{
    return util_hash(key, len, hash_seed);
}

void db_prefetch(const struct db *db, uint64_t hash, int stage)
{
    const struct db_entry *e;
    switch (stage) {
    case 0:
        ht_prefetch_bucket(&db->keys, hash);
        break;
    case 1:
        ht_prefetch_head(&db->keys, hash);
        break;
    default:
        /* The bucket's first entry is the key's own unless the bucket
         * holds several; only a hint, so no key compare. */
        e = (const struct db_entry *)ht_prefetch_head(&db->keys, hash);
        if (e && e->val)
            __builtin_prefetch(e->val);
        break;
    }
}

void db_create(struct db *db, int id)
{
    db->id = id;
    ht_create(&db->keys, &keys_type);
    ht_create(&db->expires, &vol_type);
    db->expire_cursor = 0;
    db->avg_ttl_ms = 0;
}

static void free_entry(struct ht_node *n, void *ctx)
{
    struct db_entry *e = (struct db_entry *)n;
    (void)ctx;
    obj_delete(e->val);
    mem_free(e);
}

static void free_vol(struct ht_node *n, void *ctx)
{
    (void)ctx;
    mem_free(n);
}

void db_destroy(struct db *db)
{
    ht_destroy(&db->expires, free_vol, NULL);
    ht_destroy(&db->keys, free_entry, NULL);
}

void db_flush(struct db *db)
{
    if (undo_active()) {
        undo_take_tables(db); /* leaves db empty; rollback puts them back */
        return;
    }
    db_destroy(db);
    db->expire_cursor = 0;
    db->avg_ttl_ms = 0;
}

void db_swap(struct db *a, struct db *b)
{
    struct db tmp = *a;
    int a_id = a->id, b_id = b->id;
    if (undo_active())
        undo_save_swap(a, b);
    *a = *b;
    *b = tmp;
    a->id = a_id;
    b->id = b_id;
}

static void unlink_vol(struct db *db, struct db_entry *e, uint64_t hash)
{
    struct ht_node *v = ht_remove(&db->expires, e->key, e->key_len, hash);
    ASSERT(v != NULL);
    mem_free(v);
}

/* Remove e from both tables and free it (value included). */
/* Take e out of db's tables (the entry itself stays allocated). */
static void unlink_entry(struct db *db, struct db_entry *e, uint64_t hash)
{
    if (e->expire_ms >= 0)
        unlink_vol(db, e, hash);
    ht_remove_node(&db->keys, &e->node, hash);
}

static void remove_entry(struct db *db, struct db_entry *e, uint64_t hash, bool free_val)
{
    unlink_entry(db, e, hash);
    if (undo_active() && undo_save_entry(db, e, free_val))
        free_val = false; /* the undo log keeps the value */
    if (free_val)
        obj_delete(e->val);
    mem_free(e);
}

static void expire_now(struct db *db, struct db_entry *e, uint64_t hash)
{
    struct effect_arg args[2] = {EFFECT_LIT("DEL"), EFFECT_ARG(e->key, e->key_len)};
    effect_add(db->id, 2, args);
    db_stats.expired_keys++;
    remove_entry(db, e, hash, true);
}

static struct db_entry *lookup(struct db *db, const char *key, size_t len, uint64_t hash)
{
    struct db_entry *e = (struct db_entry *)ht_find(&db->keys, key, len, hash);
    if (e && db_entry_expired(e, now_ms)) {
        expire_now(db, e, hash);
        return NULL;
    }
    return e;
}

struct db_entry *db_lookup_read(struct db *db, const char *key, size_t len, bool no_touch)
{
    struct db_entry *e = lookup(db, key, len, db_hash(key, len));
    if (!e) {
        db_stats.keyspace_misses++;
        return NULL;
    }
    db_stats.keyspace_hits++;
    if (!no_touch)
        e->val->lru = db_lru_clock();
    return e;
}

struct db_entry *db_lookup_write(struct db *db, const char *key, size_t len)
{
    struct db_entry *e = lookup(db, key, len, db_hash(key, len));
    if (e && undo_active())
        (void)undo_save_entry(db, e, false); /* the caller may change it in place */
    return e;
}

struct db_entry *db_lookup_write_logged(struct db *db, const char *key, size_t len)
{
    return lookup(db, key, len, db_hash(key, len));
}

struct db_entry *db_find_raw(struct db *db, const char *key, size_t len)
{
    return (struct db_entry *)ht_find(&db->keys, key, len, db_hash(key, len));
}

static struct db_entry *insert_new(struct db *db, const char *key, size_t len, uint64_t hash,
                                   struct obj *val)
{
    struct db_entry *e;
    ASSERT(len <= UINT32_MAX);
    if (undo_active())
        undo_save_absent(db, key, len);
    e = mem_alloc(sizeof(struct db_entry) + len);
    e->val = val;
    e->expire_ms = -1;
    e->key_len = (uint32_t)len;
    memcpy(e->key, key, len);
    val->lru = db_lru_clock();
    ht_insert(&db->keys, &e->node, hash);
    return e;
}

struct db_entry *db_add(struct db *db, const char *key, size_t len, struct obj *val)
{
    uint64_t hash = db_hash(key, len);
    DEBUG_ASSERT(ht_find(&db->keys, key, len, hash) == NULL);
    return insert_new(db, key, len, hash, val);
}

struct db_entry *db_set(struct db *db, const char *key, size_t len, struct obj *val,
                        bool keep_ttl)
{
    uint64_t hash = db_hash(key, len);
    struct db_entry *e = lookup(db, key, len, hash);
    if (!e)
        return insert_new(db, key, len, hash, val);
    db_replace_value(db, e, val);
    if (!keep_ttl && e->expire_ms >= 0) {
        unlink_vol(db, e, hash);
        e->expire_ms = -1;
    }
    return e;
}

void db_replace_value(struct db *db, struct db_entry *e, struct obj *val)
{
    bool kept = e->val != val && undo_active() && undo_save_entry(db, e, true);
    if (e->val != val && !kept)
        obj_delete(e->val);
    val->lru = db_lru_clock();
    e->val = val;
}

bool db_delete(struct db *db, const char *key, size_t len)
{
    uint64_t hash = db_hash(key, len);
    struct db_entry *e = lookup(db, key, len, hash);
    if (!e)
        return false;
    remove_entry(db, e, hash, true);
    return true;
}

void db_delete_entry(struct db *db, struct db_entry *e)
{
    remove_entry(db, e, db_hash(e->key, e->key_len), true);
}

struct obj *db_take_value(struct db *db, struct db_entry *e)
{
    struct obj *val = e->val;
    remove_entry(db, e, db_hash(e->key, e->key_len), false);
    return val;
}

struct db_entry *db_move_entry(struct db *from, struct db_entry *e, struct db *to,
                               const char *key, size_t len)
{
    int64_t expire_ms = e->expire_ms;
    uint32_t lru = e->val->lru;
    struct obj *val = e->val;
    struct db_entry *ne;
    char *src = NULL;
    size_t src_len = e->key_len;
    if (undo_active() && undo_move_wanted(from, e->key, e->key_len)) {
        /* Log the move instead of a copy of the value (undo_moved). */
        src = mem_alloc(src_len ? src_len : 1);
        memcpy(src, e->key, src_len);
        unlink_entry(from, e, db_hash(e->key, e->key_len));
        mem_free(e);
    } else {
        remove_entry(from, e, db_hash(e->key, e->key_len), false);
    }
    ne = db_add(to, key, len, val);
    if (expire_ms >= 0)
        db_set_expire(to, ne, expire_ms);
    if (src) {
        undo_moved(from, src, src_len, expire_ms, lru, to, key, len);
        mem_free(src);
    }
    return ne;
}

void db_set_expire(struct db *db, struct db_entry *e, int64_t when_ms)
{
    uint64_t hash;
    struct db_vol *v;
    if (undo_active())
        undo_save_ttl(db, e);
    if (when_ms < 0) {
        if (e->expire_ms >= 0)
            unlink_vol(db, e, db_hash(e->key, e->key_len));
        e->expire_ms = -1;
        return;
    }
    if (e->expire_ms < 0) {
        hash = db_hash(e->key, e->key_len);
        v = mem_alloc(sizeof(*v));
        v->e = e;
        ht_insert(&db->expires, &v->node, hash);
    }
    e->expire_ms = when_ms;
}

struct db_entry *db_random(struct db *db)
{
    /* Bounded: if every sampled key is expired we give up (Redis does the
     * same to avoid looping on a keyspace of expired keys). */
    for (int tries = 0; tries < 100 && db_size(db) > 0; tries++) {
        struct db_entry *e = (struct db_entry *)ht_random(&db->keys, util_rand_u64);
        if (!db_entry_expired(e, now_ms))
            return e;
        expire_now(db, e, db_hash(e->key, e->key_len));
    }
    return NULL;
}

struct visit_ctx {
    db_visit_fn *fn;
    void *ctx;
};

static void visit_node(struct ht_node *n, void *ctx)
{
    struct visit_ctx *v = ctx;
    v->fn((struct db_entry *)n, v->ctx);
}

uint64_t db_scan(struct db *db, uint64_t cursor, db_visit_fn *fn, void *ctx)
{
    struct visit_ctx v = {fn, ctx};
    return ht_scan(&db->keys, cursor, visit_node, &v);
}

void db_foreach(struct db *db, db_visit_fn *fn, void *ctx)
{
    struct visit_ctx v = {fn, ctx};
    ht_foreach(&db->keys, visit_node, &v);
}

/* Collected by the expiry scan; deleted after the scan step returns. */
struct expire_batch {
    struct db_entry *expired[64]; /* entries whose TTL has passed */
    int expired_count;            /* used entries of expired[] */
    int sampled;                  /* volatile keys looked at */
    int64_t ttl_sum_ms;           /* remaining TTLs of live sampled keys */
    int live;                     /* live sampled keys */
};

static void expire_visit(struct ht_node *n, void *ctx)
{
    struct expire_batch *b = ctx;
    struct db_entry *e = ((struct db_vol *)n)->e;
    b->sampled++;
    if (db_entry_expired(e, now_ms)) {
        if (b->expired_count < 64)
            b->expired[b->expired_count++] = e;
    } else {
        b->ttl_sum_ms += e->expire_ms - now_ms;
        b->live++;
    }
}

size_t db_expire_cycle(struct db *db, int64_t deadline_us)
{
    size_t deleted = 0;
    int rounds = 0;
    while (db_expires_count(db) > 0) {
        struct expire_batch b = {.expired_count = 0};
        int steps = 0;
        /* One sample: scan buckets until ~EXPIRE_SAMPLE_KEYS keys seen. */
        do {
            db->expire_cursor = ht_scan(&db->expires, db->expire_cursor, expire_visit, &b);
            steps++;
        } while (b.sampled < 20 && b.expired_count < 64 && db->expire_cursor != 0 &&
                 steps < 400);
        for (int i = 0; i < b.expired_count; i++)
            expire_now(db, b.expired[i], db_hash(b.expired[i]->key, b.expired[i]->key_len));
        deleted += (size_t)b.expired_count;
        if (b.live > 0) {
            int64_t avg = b.ttl_sum_ms / b.live;
            db->avg_ttl_ms = db->avg_ttl_ms ? (db->avg_ttl_ms / 50) * 49 + avg / 50 : avg;
        }
        rounds++;
        /* Stop when few keys were expired: more work would mostly find
         * live keys. Check the clock every round; it is cheap (vDSO). */
        if (b.sampled == 0 || b.expired_count * 10 < b.sampled || db->expire_cursor == 0)
            break;
        if (clock_mono_us() >= deadline_us)
            break;
        ASSERT(rounds < 1000000);
    }
    return deleted;
}

void db_reserve(struct db *db, size_t n)
{
    ht_reserve(&db->keys, n);
}

size_t db_expire_all(struct db *db)
{
    size_t deleted = 0;
    uint64_t cursor = 0;
    /* Scan in steps; deleting between steps keeps the cursor guarantee. */
    do {
        struct expire_batch b = {.expired_count = 0};
        uint64_t next = ht_scan(&db->expires, cursor, expire_visit, &b);
        /* A bucket with more expired keys than the batch holds is
         * visited again. */
        if (b.expired_count < 64)
            cursor = next;
        for (int i = 0; i < b.expired_count; i++)
            expire_now(db, b.expired[i], db_hash(b.expired[i]->key, b.expired[i]->key_len));
        deleted += (size_t)b.expired_count;
    } while (cursor != 0);
    return deleted;
}

void db_rehash(struct db *db, int ms)
{
    ht_maybe_shrink(&db->keys);
    ht_maybe_shrink(&db->expires);
    if (ht_is_rehashing(&db->keys))
        ht_rehash_ms(&db->keys, ms);
    if (ht_is_rehashing(&db->expires))
        ht_rehash_ms(&db->expires, ms);
}
