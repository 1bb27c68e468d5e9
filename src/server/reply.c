/*
 * reply.c - replies to the current client.
 *
 * Design
 *   Replies are encoded into the client's obuf at once and written by the
 *   server before the loop sleeps (one write(2) per client per turn, which
 *   is what makes pipelining cheap). CLIENT REPLY OFF/SKIP drop replies
 *   here, so handlers never check.
 *
 * Threads
 *   Loop thread.
 */
#include "server/reply.h"

#include "cmd/cmd.h"
#include "core/limits.h"
#include "core/log.h"
#include "proto/resp_write.h"
#include "server/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct buf *reply_buf(struct client *c)
{
    if (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_ASAP))
        return NULL;
    return &c->obuf;
}

void reply_done(struct client *c)
{
    if (!(c->flags & CLIENT_PENDING_WRITE))
        server_queue_write(c);
    /* Checked as replies are made, not only when writing: one read can
     * carry thousands of pipelined commands (C10: a bounded queue). */
    if (client_pending_bytes(c) > CLIENT_REPLY_BYTES_MAX) {
        log_warning("Client id=%llu addr=%s closed for overcoming of output buffer limits.",
                    (unsigned long long)c->id, c->addr);
        server_close_client(c, false);
    }
}

void reply_raw(struct client *c, const void *p, size_t len)
{
    struct buf *b = reply_buf(c);
    if (!b)
        return;
    buf_append(b, p, len);
    reply_done(c);
}

/* Define a reply function that encodes with one resp_w_* call. */
#define REPLY_WITH(call)                                                                   \
    do {                                                                                   \
        struct buf *b = reply_buf(c);                                                      \
        if (!b)                                                                            \
            return;                                                                        \
        call;                                                                              \
        reply_done(c);                                                                     \
    } while (0)

void reply_ok(struct client *c)
{
    REPLY_WITH(buf_append(b, "+OK\r\n", 5));
}

void reply_simple(struct client *c, const char *s)
{
    REPLY_WITH(resp_w_simple(b, s, strlen(s)));
}

/* The last error text replied, for EXEC's rollback message. */
static char last_error[REPLY_LAST_ERROR_BYTES];

const char *reply_last_error(void)
{
    return last_error;
}

void reply_error(struct client *c, const char *msg)
{
    server.stats.error_replies++;
    c->error_replies++;
    snprintf(last_error, sizeof(last_error), "%s", msg);
    if (c->cmd)
        ((struct cmd_def *)c->cmd)->failed_calls++;
    REPLY_WITH(resp_w_error(b, msg, strlen(msg)));
}

void reply_errorf(struct client *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_error(c, msg);
}

void reply_int(struct client *c, long long v)
{
    REPLY_WITH(resp_w_int(b, v));
}

void reply_bulk(struct client *c, const void *p, size_t len)
{
    REPLY_WITH(resp_w_bulk(b, p, len));
}

void reply_bulk_str(struct client *c, const char *s)
{
    reply_bulk(c, s, strlen(s));
}

void reply_bulk_ll(struct client *c, long long v)
{
    REPLY_WITH(resp_w_bulk_ll(b, v));
}

void reply_bulk_obj(struct client *c, const struct obj *o)
{
    char tmp[32];
    size_t len;
    const char *p = obj_str(o, tmp, &len);
    reply_bulk(c, p, len);
}

void reply_null(struct client *c)
{
    REPLY_WITH(resp_w_null(b, c->resp));
}

void reply_null_array(struct client *c)
{
    REPLY_WITH(resp_w_null_array(b, c->resp));
}

void reply_array(struct client *c, long long n)
{
    REPLY_WITH(resp_w_array(b, n));
}

void reply_map(struct client *c, long long n)
{
    REPLY_WITH(resp_w_map(b, c->resp, n));
}

void reply_set(struct client *c, long long n)
{
    REPLY_WITH(resp_w_set(b, c->resp, n));
}

void reply_double(struct client *c, double d)
{
    REPLY_WITH(resp_w_double(b, c->resp, d));
}

void reply_bool(struct client *c, bool v)
{
    REPLY_WITH(resp_w_bool(b, c->resp, v));
}

void reply_verbatim(struct client *c, const char *p, size_t len)
{
    REPLY_WITH(resp_w_verbatim(b, c->resp, p, len));
}

void reply_err_syntax(struct client *c)
{
    reply_error(c, "ERR syntax error");
}

void reply_err_wrongtype(struct client *c)
{
    reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void reply_err_not_int(struct client *c)
{
    reply_error(c, "ERR value is not an integer or out of range");
}

void reply_err_not_float(struct client *c)
{
    reply_error(c, "ERR value is not a valid float");
}

void reply_err_arity(struct client *c)
{
    reply_errorf(c, "ERR wrong number of arguments for '%s' command",
                 c->cmd ? c->cmd->fullname : "unknown");
}

void reply_err_subcommand(struct client *c)
{
    char upper[48];
    const char *parent = c->cmd && c->cmd->parent ? c->cmd->parent->name
                                                  : (c->cmd ? c->cmd->name : "");
    size_t i;
    for (i = 0; parent[i] && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(parent[i] >= 'a' && parent[i] <= 'z' ? parent[i] - 32 : parent[i]);
    upper[i] = '\0';
    size_t len = c->argc > 1 ? c->argv[1].len : 0;
    reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", (int)(len > 128 ? 128 : len),
                 c->argc > 1 ? c->argv[1].p : "", upper);
}
