#pragma once
/*
 * db.h - one logical database (SELECT n): the keyspace and its expiry.
 *
 * Keys are binary strings. Each key is a db_entry in the `keys` hash table
 * (key bytes inline, a pointer to the value, the absolute expiry time);
 * keys with a TTL are also in the `expires` table, which the active expiry
 * cycle scans so that keys nobody touches are still reclaimed.
 *
 * Time: expiry compares against db_now_ms, which the dispatcher sets once
 * per command (db_set_now), so a key cannot expire half-way through one.
 *
 * Writes that delete expired keys record a DEL effect (effect.h).
 * Threads: loop thread.
 */
#include "db/obj.h"
#include "ds/ht.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db_entry {
    struct ht_node node; /* link in db.keys */
    struct obj *val;     /* owned */
    int64_t expire_ms;   /* absolute unix ms, or -1 for no TTL */
    uint32_t key_len;    /* bytes of key */
    char key[];          /* key bytes, not NUL-terminated */
};

struct db {
    int id;                 /* SELECT index */
    struct ht keys;         /* struct db_entry */
    struct ht expires;      /* struct db_vol: the entries with a TTL */
    uint64_t expire_cursor; /* ht_scan cursor of the active expiry cycle */
    int64_t avg_ttl_ms;     /* running estimate for INFO keyspace */
};

struct db_stats {
    uint64_t expired_keys;     /* keys deleted because their TTL passed */
    uint64_t keyspace_hits;    /* read lookups that found a key */
    uint64_t keyspace_misses;  /* read lookups that did not */
    uint64_t expire_cycle_us;  /* time spent in the active expiry cycle */
};

extern struct db_stats db_stats;

/* Seed the key hash (once, at start-up). */
void db_module_init(uint64_t hash_seed);
/* Set the time commands see; the LRU clock is derived from it. */
void db_set_now(int64_t now_ms);
int64_t db_now(void);
/* LRU clock in seconds (24 bits), as stored in obj.lru. */
uint32_t db_lru_clock(void);

void db_create(struct db *db, int id);
/* Frees every key and value. */
void db_destroy(struct db *db);
/* Delete every key (FLUSHDB). */
void db_flush(struct db *db);
/* Exchange the contents of two databases (SWAPDB); ids stay. */
void db_swap(struct db *a, struct db *b);

static inline size_t db_size(const struct db *db)
{
    return ht_count(&db->keys);
}

static inline size_t db_expires_count(const struct db *db)
{
    return ht_count(&db->expires);
}

uint64_t db_hash(const void *key, size_t len);
/*
 * Memory prefetch for a batch of keys about to be looked up (pipelined
 * commands): call stage 0 for every key of the batch, then stage 1 for
 * every key, then stage 2, then do the lookups. Stage 0 starts loading the
 * bucket slot, 1 the first entry of the bucket, 2 that entry's value.
 * Hints only: nothing changes, a wrong guess costs one cache line.
 */
void db_prefetch(const struct db *db, uint64_t hash, int stage);

/*
 * Look up a key, deleting it first if it has expired. Returns a borrowed
 * entry, valid until the next write to this db, or NULL.
 * db_lookup_read() also counts a hit or miss and, unless no_touch, stamps
 * the LRU clock.
 */
struct db_entry *db_lookup_read(struct db *db, const char *key, size_t len, bool no_touch);
struct db_entry *db_lookup_write(struct db *db, const char *key, size_t len);
/* Like db_lookup_write, but saves nothing for a transaction's undo log: the
 * caller changes the value in place and logs what it did (undo.h, logged
 * changes). */
struct db_entry *db_lookup_write_logged(struct db *db, const char *key, size_t len);
/* Like db_lookup_write but neither deletes nor hides an expired key. */
struct db_entry *db_find_raw(struct db *db, const char *key, size_t len);

/* Add a key that is not present. Takes ownership of val. Returns the entry. */
struct db_entry *db_add(struct db *db, const char *key, size_t len, struct obj *val);
/* Set a key's value, adding the key if needed. Takes ownership of val. The
 * TTL is cleared unless keep_ttl. Returns the entry. */
struct db_entry *db_set(struct db *db, const char *key, size_t len, struct obj *val,
                        bool keep_ttl);
/* Replace an entry's value in place (frees the old one). Takes ownership.
 * val may be e->val itself after changing it in place, which is allowed
 * only for a value already saved for the undo log or a logged change
 * (undo.h, "Contract with db.c"). */
void db_replace_value(struct db *db, struct db_entry *e, struct obj *val);
/* Delete a key (with its TTL). Returns true if it existed (expired keys
 * count as absent). */
bool db_delete(struct db *db, const char *key, size_t len);
/* Delete an entry found by a lookup; the pointer is invalid afterwards. */
void db_delete_entry(struct db *db, struct db_entry *e);
/* Unlink an entry without freeing its value: caller takes ownership of the
 * returned value; the entry is freed. */
struct obj *db_take_value(struct db *db, struct db_entry *e);
/* Move entry e of `from`, value and TTL, to the key (key, len) of `to`,
 * which must be absent (RENAME, MOVE); e is invalid afterwards. Returns the
 * new entry. In a transaction the move itself is logged (undo_moved), not a
 * copy of the value. */
struct db_entry *db_move_entry(struct db *from, struct db_entry *e, struct db *to,
                               const char *key, size_t len);

/* Set (when_ms >= 0) or clear (-1) an entry's TTL. */
void db_set_expire(struct db *db, struct db_entry *e, int64_t when_ms);

static inline bool db_entry_expired(const struct db_entry *e, int64_t now_ms)
{
    return e->expire_ms >= 0 && e->expire_ms <= now_ms;
}

/* A random live key (expired ones met on the way are deleted), or NULL. */
struct db_entry *db_random(struct db *db);

typedef void db_visit_fn(struct db_entry *e, void *ctx);
/* One step of SCAN over the keyspace; returns the next cursor. fn must not
 * modify the db. */
uint64_t db_scan(struct db *db, uint64_t cursor, db_visit_fn *fn, void *ctx);
/* Visit every entry (expired or not); fn must not modify the db. */
void db_foreach(struct db *db, db_visit_fn *fn, void *ctx);

/*
 * Active expiry: scan the TTL table from the saved cursor, deleting expired
 * keys, until deadline_us (monotonic) or until a sample shows few expired
 * keys. Returns the number of keys deleted.
 */
size_t db_expire_cycle(struct db *db, int64_t deadline_us);
/* Size an empty database for about n keys (loading). */
void db_reserve(struct db *db, size_t n);
/* Delete every key whose TTL has passed (after loading). Returns the
 * number deleted. */
size_t db_expire_all(struct db *db);
/* Incremental rehash and shrink of the tables, bounded to about ms. */
void db_rehash(struct db *db, int ms);
