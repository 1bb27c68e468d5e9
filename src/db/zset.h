#pragma once
/*
 * zset.h - sorted set values: members (byte strings) ordered by (score,
 * member), in one of two encodings, as Redis:
 *
 *   OBJ_ENC_PACKED    ("listpack") one block: the obj header, a u32
 *                     count, then (double score, varint length, bytes) in
 *                     order. Used up to zset_max_packed_entries members of
 *                     at most zset_max_packed_value bytes.
 *   OBJ_ENC_SKIPLIST  ("skiplist") a skiplist with spans (ranks in
 *                     O(log n)) plus a hash table member -> node.
 *
 * Ranks are 0-based in ascending order. Functions that may move a packed
 * set take struct obj **; the caller stores the new pointer.
 * Threads: loop thread (or a snapshot child reading its copy).
 */
#include "core/buf.h"
#include "db/obj.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern size_t zset_max_packed_entries;
extern size_t zset_max_packed_value;

struct zset_elem {
    const char *m; /* member bytes, borrowed */
    size_t mlen;   /* bytes */
    double score;  /* never NaN */
};

/* An empty packed sorted set. Caller owns. */
struct obj *zset_new(void);
/* An empty set in the skiplist encoding, whatever its future size (a
 * result computed before it is stored or replied: it keeps -0 scores). */
struct obj *zset_new_skiplist(void);
/* o in the packed encoding if it is within the packed limits (members,
 * member bytes), with -0 scores as 0, else o unchanged. Frees o when it
 * converts. */
struct obj *zset_pack_if_fits(struct obj *o);
size_t zset_len(const struct obj *o);
bool zset_score(const struct obj *o, const char *m, size_t len, double *score);
/* Set m's score (adding m if new). Returns true if m is new. An equal
 * score (-0 == 0) changes nothing; a packed set stores -0 as 0, as Redis's
 * listpack does, and the skiplist keeps it. */
bool zset_set(struct obj **o, const char *m, size_t len, double score);
/* Remove m. Returns true if it was there. */
bool zset_del(struct obj **o, const char *m, size_t len);
/* Rank of m, or -1. */
long long zset_rank(const struct obj *o, const char *m, size_t len);

/* Rank of the first element with score > min (exclusive) or >= min;
 * zset_len() if none. */
size_t zset_score_lower(const struct obj *o, double min, bool exclusive);
/* Number of elements with score < max (exclusive) or <= max, i.e. the rank
 * just past the range. */
size_t zset_score_upper(const struct obj *o, double max, bool exclusive);

/* A lexicographic bound: -, +, [x (inclusive) or (x (exclusive). */
struct zset_lex {
    int kind;      /* -1: minus infinity, 1: plus infinity, 0: a value */
    bool exclusive;
    const char *p; /* value bytes (kind 0) */
    size_t len;
};
size_t zset_lex_lower(const struct obj *o, const struct zset_lex *min);
size_t zset_lex_upper(const struct obj *o, const struct zset_lex *max);
/* Redis's check before a lex range: false when the last member is below min
 * or the first above max. With equal scores (the only case Redis specifies)
 * the range is then empty anyway; with mixed scores, Redis answers empty. */
bool zset_lex_may_overlap(const struct obj *o, const struct zset_lex *min,
                          const struct zset_lex *max);

/* Walk elements from rank `start`, ascending or (reverse) descending. */
struct zset_iter {
    const struct obj *o;
    bool reverse;
    size_t rank;     /* rank of the next element */
    size_t pos;      /* packed: byte offset of the next element (ascending walks) */
    const void *node;/* skiplist: next node */
};
void zset_iter_init(struct zset_iter *it, const struct obj *o, size_t start, bool reverse);
/* False at the end. The element is valid until the set changes. */
bool zset_iter_next(struct zset_iter *it, struct zset_elem *out);

/* One step of ZSCAN (packed sets in one step); returns the next cursor. */
typedef void zset_visit_fn(const struct zset_elem *e, void *ctx);
uint64_t zset_scan(const struct obj *o, uint64_t cursor, zset_visit_fn *fn, void *ctx);

/* For obj.c. */
struct obj *zset_dup(const struct obj *o);
void zset_free(struct obj *o);
size_t zset_mem_bytes(const struct obj *o);

/* Snapshot form: varint count, then per element 8 bytes of IEEE double
 * (little-endian) and a varint length + bytes. NULL on malformed input. */
void zset_encode(const struct obj *o, struct buf *out);
struct obj *zset_decode(const char *p, size_t len);
