#pragma once
/*
 * reply.h - replies to the current client, in its protocol (RESP2/3).
 *
 * All functions append to c->obuf (unless replies are switched off with
 * CLIENT REPLY) and queue c for writing before the loop sleeps. The wording
 * of errors follows Redis exactly: client libraries match on it.
 * Loop thread.
 */
#include "server/client.h"

#include <stdbool.h>
#include <stddef.h>

void reply_ok(struct client *c);
void reply_simple(struct client *c, const char *s);
/* msg is the whole error line without '-', e.g. "ERR syntax error". */
void reply_error(struct client *c, const char *msg);
/* The text of the last error replied to anyone (truncated to
 * REPLY_LAST_ERROR_BYTES - 1), counted in c->error_replies. */
#define REPLY_LAST_ERROR_BYTES 512
const char *reply_last_error(void);
void reply_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct client *c, long long v);
void reply_bulk(struct client *c, const void *p, size_t len);
void reply_bulk_str(struct client *c, const char *s);
void reply_bulk_ll(struct client *c, long long v);
/* A string value (any encoding). */
void reply_bulk_obj(struct client *c, const struct obj *o);
void reply_null(struct client *c);       /* missing value */
void reply_null_array(struct client *c); /* missing aggregate */
void reply_array(struct client *c, long long n);
void reply_map(struct client *c, long long n);
void reply_set(struct client *c, long long n);
void reply_double(struct client *c, double d);
void reply_bool(struct client *c, bool v);
void reply_verbatim(struct client *c, const char *p, size_t len);

/* Common errors, worded as Redis words them. */
void reply_err_syntax(struct client *c);      /* ERR syntax error */
void reply_err_wrongtype(struct client *c);   /* WRONGTYPE Operation against a key ... */
void reply_err_not_int(struct client *c);     /* ERR value is not an integer or out of range */
void reply_err_not_float(struct client *c);   /* ERR value is not a valid float */
void reply_err_arity(struct client *c);       /* ERR wrong number of arguments for '%s' command */
/* ERR unknown subcommand '<sub>'. Try <CMD> HELP. */
void reply_err_subcommand(struct client *c);

/* Raw bytes already encoded for this client's protocol. */
void reply_raw(struct client *c, const void *p, size_t len);
/* Access the output buffer to encode with resp_w_*() directly, or NULL if
 * replies are switched off. The caller must then call reply_done(c). */
struct buf *reply_buf(struct client *c);
void reply_done(struct client *c);
