#pragma once
/*
 * hash.h - hash values (HSET, HGET, ...): field -> value maps of byte
 * strings, in one of two encodings, as Redis:
 *
 *   OBJ_ENC_PACKED  ("listpack") one block: the obj header, a u32 count
 *                   of fields, then field, value, field, value, ... each a
 *                   varint length and its bytes. Lookups scan; small.
 *   OBJ_ENC_TABLE   ("hashtable") the payload holds a pointer to a struct
 *                   ht of nodes (field and value bytes in one allocation).
 *
 * A packed hash becomes a table when it would hold more than
 * hash_max_packed_entries fields, a field or value longer than
 * hash_max_packed_value bytes, or more than HASH_PACKED_BYTES_MAX bytes;
 * it never goes back (Redis neither).
 *
 * Functions that may grow a packed hash take struct obj ** and may move
 * the object: the caller stores the new pointer (db_replace_value).
 * Threads: loop thread (or a snapshot child reading its copy).
 */
#include "core/buf.h"
#include "db/obj.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Thresholds (CONFIG hash-max-listpack-entries / -value). */
extern size_t hash_max_packed_entries;
extern size_t hash_max_packed_value;

/* One field and its value, borrowed from the hash. */
struct hash_pair {
    const char *f; /* field bytes */
    size_t flen;   /* bytes */
    const char *v; /* value bytes */
    size_t vlen;   /* bytes */
};

/* An empty packed hash. Caller owns. */
struct obj *hash_new(void);
size_t hash_len(const struct obj *o);
/* The value of field f, or false. *v borrows from o until it changes. */
bool hash_get(const struct obj *o, const char *f, size_t flen, const char **v, size_t *vlen);
/* Set f to v. Returns true if f is new. */
bool hash_set(struct obj **o, const char *f, size_t flen, const char *v, size_t vlen);
/* Delete f. Returns true if it existed. */
bool hash_del(struct obj **o, const char *f, size_t flen);
/* Every pair, in the hash's order, into a new array (mem_free it) of
 * hash_len() entries; NULL when empty. Valid until o changes. */
struct hash_pair *hash_pairs(const struct obj *o);
/* A random pair of a non-empty hash (a table's pick is close to uniform). */
void hash_random(const struct obj *o, struct hash_pair *out);
/* One step of HSCAN from cursor: calls fn for the pairs at that position;
 * returns the next cursor (0 at the end). A packed hash is done in one step. */
typedef void hash_visit_fn(const struct hash_pair *p, void *ctx);
uint64_t hash_scan(const struct obj *o, uint64_t cursor, hash_visit_fn *fn, void *ctx);

/* For obj.c: deep copy, free, memory. */
struct obj *hash_dup(const struct obj *o);
void hash_free(struct obj *o);
size_t hash_mem_bytes(const struct obj *o);

/* Serialized form (snapshots): varint count, then varint length + bytes
 * for each field and value. hash_decode returns NULL on malformed input. */
void hash_encode(const struct obj *o, struct buf *out);
struct obj *hash_decode(const char *p, size_t len);
