#pragma once
/*
 * undo.h - the undo log of the transaction being executed (EXEC).
 *
 * engram rolls a transaction back when one of its commands fails (issue 4,
 * README "Differences from Redis"). While the log is active, db.c saves the
 * state a key had before the transaction first changed it:
 *
 *   before a key is added             -> "absent"
 *   before a key is changed or removed -> a copy of its value and its TTL
 *                                         (the value itself when removed)
 *   FLUSHDB/FLUSHALL of a database     -> the whole tables, moved, O(1)
 *   SWAPDB                             -> the pair, swapped back on undo
 *   RENAME/MOVE of an unsaved key      -> the move, moved back on undo
 *                                         (undo_moved)
 *
 * undo_rollback() restores these in reverse order, so the keyspace is
 * exactly what it was at undo_begin(). undo_commit() drops the saved state.
 * Only the keyspace is restored: effects outside it (CONFIG SET, CLIENT
 * SETNAME, ...) are the caller's business.
 *
 * Contract with db.c: db.c's mutators (db_set, db_replace_value with a new
 * value, db_delete_entry, ...) save what they replace. A value may be
 * changed in place only after it was saved: db_lookup_write() saves it, or
 * the caller calls undo_save_entry() itself (INCR), or the change is
 * logged with one of the "logged changes" below (after
 * db_lookup_write_logged(), which saves nothing).
 *
 * Threads: loop thread.
 */
#include "db/db.h"
#include "db/list.h"

#include <stdbool.h>
#include <stddef.h>

/* Start recording. The log must be idle. */
void undo_begin(void);
/* True between undo_begin() and undo_commit()/undo_rollback(). Inline:
 * db.c tests it on every change. */
extern bool undo_recording;
static inline bool undo_active(void)
{
    return undo_recording;
}
/* Keep the changes: free the saved state, stop recording. */
void undo_commit(void);
/* Undo every change since undo_begin(), stop recording. */
void undo_rollback(void);
/* Saved records (tests). */
size_t undo_record_count(void);
/* Bytes the undo log of the transaction running, or else of the last one,
 * allocated: its records, the bytes logged changes saved and the values it
 * copied (not values it took over from deleted or replaced keys). DEBUG
 * UNDO-BYTES. */
size_t undo_last_bytes(void);

/* ---- Hooks for db.c (only called while undo_active()) --------------- */

/* Before e (of db) is changed or removed. If steal, the caller is about to
 * free e->val: the log may keep it instead; returns true if it did (the
 * caller must then not free it). */
bool undo_save_entry(struct db *db, struct db_entry *e, bool steal);
/* Before key is added to db (it is absent now). */
void undo_save_absent(struct db *db, const char *key, size_t len);
/* FLUSH of db: moves db's tables into the log and leaves db empty. */
void undo_take_tables(struct db *db);
/* Before SWAPDB of a and b. */
void undo_save_swap(struct db *a, struct db *b);
/* Before e's TTL changes (db_set_expire): saves only the TTL. */
void undo_save_ttl(struct db *db, struct db_entry *e);
/* db_move_entry: true if the key about to be moved needs saving (then the
 * move is logged with undo_moved instead of a copy of the value). */
bool undo_move_wanted(struct db *db, const char *key, size_t len);
/* The value of (from, key), with TTL expire_ms and LRU stamp lru, was moved
 * to (to, to_key) (RENAME, MOVE). Rollback moves it back. The destination
 * is forgotten as saved: rollback needs it as the move left it, so later
 * changes to it are saved again. */
void undo_moved(struct db *from, const char *key, size_t len, int64_t expire_ms, uint32_t lru,
                struct db *to, const char *to_key, size_t to_len);

/* ---- Logged changes (O(change) instead of a copy of the value) -------
 *
 * A command that changes a big value in place can, instead of
 * db_lookup_write() (which saves a copy of the whole value on the first
 * change in a transaction), look the key up with db_lookup_write_logged()
 * and tell the log what it did, after doing it. Rollback then applies the
 * inverse. All are no-ops outside a transaction and for a key whose whole
 * value is already saved. */

/* Field f of the hash h (the value of key) is about to be set or deleted:
 * saves whether it was there and its value. */
void undo_hash_field(struct db *db, const char *key, size_t len, const struct obj *h,
                     const char *f, size_t flen);
/* Member m of the sorted set z (the value of key) is about to be set or
 * deleted: saves whether it was there and its score. */
void undo_zset_member(struct db *db, const char *key, size_t len, const struct obj *z,
                      const char *m, size_t mlen);
/* Member m of the set s (the value of key) is about to be added or
 * removed: saves whether it was there. */
void undo_set_member(struct db *db, const char *key, size_t len, const struct obj *s,
                     const char *m, size_t mlen);
/* Strings of at most this many bytes are saved whole by undo_string_range
 * (UNDO_STRING_COPY_BYTES; a variable so that tests can lower it). */
extern size_t undo_string_copy_bytes;
/* Bytes [at, at + n) of e's string value (e is a key of db) are about to be
 * written, growing the value if they pass its end (APPEND, SETRANGE: bytes
 * between the old end and at become zeros). Saves the bytes there and the
 * length, so rollback writes them back and cuts the value to its old
 * length. A value that is not raw-encoded or has at most
 * undo_string_copy_bytes bytes is saved whole instead (rollback then also
 * restores its encoding). */
void undo_string_range(struct db *db, struct db_entry *e, size_t at, size_t n);
/* count elements were pushed at `end` of the list of key (in db). */
void undo_list_pushed(struct db *db, const char *key, size_t len, enum list_end end,
                      size_t count);
/* x was popped from `end` of the list of key. Takes x (the caller must not
 * free it) if it returns true. */
bool undo_list_popped(struct db *db, const char *key, size_t len, enum list_end end,
                      struct list_elem *x);
/* The element at index i of the list of key was replaced; x is the old
 * one. Takes x (the caller must not free it) if it returns true. */
bool undo_list_set(struct db *db, const char *key, size_t len, size_t i, struct list_elem *x);
/* An element was inserted at index i of the list of key. */
void undo_list_inserted(struct db *db, const char *key, size_t len, size_t i);
/* Elements are about to be taken out of the list of key (LREM, LTRIM):
 * returns where the caller puts them (list_remove_equal / list_trim fill
 * it; the log owns it), or NULL if nothing needs saving. */
struct list_taken *undo_list_taking(struct db *db, const char *key, size_t len);
