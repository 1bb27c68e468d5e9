#pragma once
/*
 * set.h - set values (SADD, SMEMBERS, ...): sets of byte strings, in one of
 * two encodings, as Redis 7.0:
 *
 *   OBJ_ENC_INTSET  ("intset") one block: the obj header, a u32 count,
 *                   then the members as sorted int64s. Used while every
 *                   member is a canonical decimal long long and there are
 *                   at most set_max_intset_entries of them.
 *   OBJ_ENC_TABLE   ("hashtable") the payload points to a struct ht of
 *                   member nodes.
 *
 * An intset becomes a table when a non-integer member is added or it
 * would grow past set_max_intset_entries; it never goes back.
 *
 * Functions that may grow an intset take struct obj ** and may move the
 * object: the caller stores the new pointer (db_replace_value).
 * Threads: loop thread (or a snapshot child reading its copy).
 */
#include "core/buf.h"
#include "core/util.h"
#include "db/obj.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Threshold (CONFIG set-max-intset-entries). */
extern size_t set_max_intset_entries;

/* One member, borrowed from the set, or formatted into num for intsets. */
struct set_member {
    const char *p;                /* bytes (may point into num) */
    size_t len;                   /* bytes */
    char num[UTIL_LL_STR_BYTES];  /* an intset member's decimal form */
};

/* An empty set suited to hold m (intset if m is an integer). Caller owns. */
struct obj *set_new_for(const char *m, size_t len);
size_t set_len(const struct obj *o);
bool set_has(const struct obj *o, const char *m, size_t len);
/* Add m. Returns true if it is new. */
bool set_add(struct obj **o, const char *m, size_t len);
/* Remove m. Returns true if it was there. */
bool set_rem(struct obj **o, const char *m, size_t len);
/* Every member into a new array (mem_free it) of set_len() entries; NULL
 * when empty. Valid until o changes (num-backed members: until the array
 * is freed). */
struct set_member *set_members(const struct obj *o);
/* A random member of a non-empty set: O(1) (a table's pick is close to
 * uniform, as ht_random's). */
void set_random(const struct obj *o, struct set_member *out);
/* One step of SSCAN (intsets in one step); returns the next cursor. */
typedef void set_visit_fn(const struct set_member *m, void *ctx);
uint64_t set_scan(const struct obj *o, uint64_t cursor, set_visit_fn *fn, void *ctx);

/* For obj.c. */
struct obj *set_dup(const struct obj *o);
void set_free(struct obj *o);
size_t set_mem_bytes(const struct obj *o);

/* Snapshot form: varint count, then varint length + bytes per member.
 * set_decode returns NULL on malformed input (or a repeated member). */
void set_encode(const struct obj *o, struct buf *out);
struct obj *set_decode(const char *p, size_t len);
