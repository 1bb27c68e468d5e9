#pragma once
/*
 * resp_write.h - reply encoder for RESP2 and RESP3.
 *
 * Every function appends one element (or an aggregate header) to a buf.
 * Functions that take `proto` (2 or 3) pick the RESP3 type when proto is 3
 * and the RESP2 equivalent otherwise: map -> flat array of 2n, set -> array,
 * null -> $-1 (bulk) or *-1 (array), double -> bulk string, boolean ->
 * integer, push -> array.
 *
 * Threads: the buf owner's.
 */
#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void resp_w_simple(struct buf *b, const char *s, size_t len); /* +s */
void resp_w_error(struct buf *b, const char *s, size_t len);  /* -s (newlines become spaces) */
void resp_w_int(struct buf *b, long long v);                  /* :v */
void resp_w_bulk(struct buf *b, const void *p, size_t len);   /* $len s */
void resp_w_bulk_ll(struct buf *b, long long v);              /* integer as bulk */
void resp_w_null(struct buf *b, int proto);                   /* $-1 or _ */
void resp_w_null_array(struct buf *b, int proto);             /* *-1 or _ */
void resp_w_array(struct buf *b, long long n);                /* *n */
void resp_w_map(struct buf *b, int proto, long long n);       /* %n or *2n */
void resp_w_set(struct buf *b, int proto, long long n);       /* ~n or *n */
void resp_w_push(struct buf *b, int proto, long long n);      /* >n or *n */
void resp_w_double(struct buf *b, int proto, double d);       /* ,d or $ */
void resp_w_bool(struct buf *b, int proto, bool v);           /* #t/#f or :1/:0 */
/* RESP3 verbatim string (=len txt:...) or a bulk string in RESP2. */
void resp_w_verbatim(struct buf *b, int proto, const char *p, size_t len);
