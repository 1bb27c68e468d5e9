#pragma once
/*
 * list.h - list values (LPUSH, LRANGE, ...): sequences of byte strings.
 *
 * One encoding: a ring buffer of element pointers (struct list) behind the
 * obj, so pushes and pops at both ends and LINDEX are O(1) and LRANGE is a
 * walk. OBJECT ENCODING reports "quicklist", which is what Redis 7.0
 * reports for every list (clients and tests match on it). The ring grows
 * and shrinks by halving/doubling; elements are one allocation each.
 *
 * Indexes are 0-based from the head here; the command layer turns Redis's
 * negative indexes into these.
 * Threads: loop thread (or a snapshot child reading its copy).
 */
#include "core/buf.h"
#include "db/obj.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum list_end { LIST_HEAD = 0, LIST_TAIL = 1 };

/* One element (owned by its list). */
struct list_elem {
    uint32_t len; /* bytes */
    char data[];  /* the element */
};

/* An empty list. Caller owns. */
struct obj *list_new(void);
size_t list_len(const struct obj *o);
void list_push(struct obj *o, enum list_end end, const char *p, size_t len);
/* Remove and return the element at end (caller frees it with
 * list_elem_free), or NULL if empty. */
struct list_elem *list_pop(struct obj *o, enum list_end end);
void list_elem_free(struct list_elem *e);
/* The element at index i (< list_len), borrowed. */
const struct list_elem *list_at(const struct obj *o, size_t i);
/* A new element holding a copy of p[0..len). Caller owns. */
struct list_elem *list_elem_new(const char *p, size_t len);
/* Replace the element at index i. */
void list_set(struct obj *o, size_t i, const char *p, size_t len);
/* Put x (taken) at index i and return the element that was there (caller
 * owns it). */
struct list_elem *list_exchange(struct obj *o, size_t i, struct list_elem *x);
/* Insert before index i (i == list_len appends). */
void list_insert(struct obj *o, size_t i, const char *p, size_t len);
/* Remove the element at index i. */
void list_remove(struct obj *o, size_t i);

/*
 * Elements taken out of a list by list_remove_equal or list_trim, each with
 * the index it had in the list just before that call, ascending: exactly
 * what list_put_back needs to undo the call in one pass (the undo log keeps
 * one). Owns its elements. Zero-initialize before use.
 */
struct list_taken {
    size_t n, cap;             /* entries used / allocated */
    size_t *at;                /* owned: index of each element, ascending */
    struct list_elem **elems;  /* owned: the elements, owned */
};
/* Free the elements and arrays; t is left empty (reusable). */
void list_taken_free(struct list_taken *t);
/* Put t's elements back at their indexes, in O(len + t->n); t is left
 * empty. Undoes the list_remove_equal / list_trim that filled t, if the
 * list is as that call left it. */
void list_put_back(struct obj *o, struct list_taken *t);

/* Remove the elements equal to p[0..len): the first `limit` of them from
 * the head, or from the tail if from_tail, or all if limit is 0 (LREM).
 * Removed elements go to taken if it is not NULL, else they are freed.
 * Returns how many were removed. O(len), whatever the number removed. */
size_t list_remove_equal(struct obj *o, const char *p, size_t len, bool from_tail,
                         size_t limit, struct list_taken *taken);
/* Keep only [start, end] (inclusive, start <= end < len), or nothing if
 * start > end or keep_none. The rest goes to taken if it is not NULL,
 * else it is freed. */
void list_trim(struct obj *o, size_t start, size_t end, bool keep_none, struct list_taken *taken);

/* For obj.c. */
struct obj *list_dup(const struct obj *o);
void list_free(struct obj *o);
size_t list_mem_bytes(const struct obj *o);

/* Snapshot form: varint count, then varint length + bytes per element.
 * list_decode returns NULL on malformed input. */
void list_encode(const struct obj *o, struct buf *out);
struct obj *list_decode(const char *p, size_t len);
