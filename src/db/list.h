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
/* Replace the element at index i. */
void list_set(struct obj *o, size_t i, const char *p, size_t len);
/* Insert before index i (i == list_len appends). */
void list_insert(struct obj *o, size_t i, const char *p, size_t len);
/* Remove the element at index i. */
void list_remove(struct obj *o, size_t i);
/* Keep only [start, end] (inclusive, start <= end < len), or nothing if
 * start > end. */
void list_trim(struct obj *o, size_t start, size_t end, bool keep_none);

/* For obj.c. */
struct obj *list_dup(const struct obj *o);
void list_free(struct obj *o);
size_t list_mem_bytes(const struct obj *o);

/* Snapshot form: varint count, then varint length + bytes per element.
 * list_decode returns NULL on malformed input. */
void list_encode(const struct obj *o, struct buf *out);
struct obj *list_decode(const char *p, size_t len);
