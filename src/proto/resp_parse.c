/*
 * resp_parse.c - incremental request parser (RESP2/RESP3 requests and
 * inline commands).
 *
 * Design
 *   A request is either '*<n>\r\n' followed by n '$<len>\r\n<bytes>\r\n'
 *   elements, or any other line, which is an inline command split like a
 *   redis.conf line. The parser keeps `pos`, the first byte it has not yet
 *   examined, and the state it was in there, so a request split at any byte
 *   boundary is parsed in O(bytes), and the outcome does not depend on the
 *   split (tested at every boundary in tests/unit/test_resp_parse.c).
 *
 *       START --'*'--> MB_COUNT --> BULK_HDR --> BULK_BODY --+--> DONE
 *         |                           ^                      |
 *         +--other--> INLINE          +----------------------+
 *
 *   Limits mirror Redis: a header line or inline line without '\n' within
 *   64 KB is an error; multibulk counts above INT32_MAX, bulk lengths above
 *   proto-max-bulk-len, and (before AUTH) more than 10 elements or bulks
 *   over 16 KB are errors. Nothing is allocated in proportion to a count the
 *   client announced: args[] grows as elements actually arrive, so
 *   '*1000000' followed by silence costs nothing.
 *
 * Invariants
 *   (1) pos <= the len of the last call; bytes before pos are never re-read.
 *   (2) argc <= multibulk_count while parsing a multibulk.
 *
 * Threads
 *   The owner's thread.
 */
#include "proto/resp_parse.h"

#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

enum { RESP_STATE_START, RESP_STATE_MB_COUNT, RESP_STATE_BULK_HDR, RESP_STATE_BULK_BODY,
       RESP_STATE_DONE };

void resp_parser_create(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->bulk_bytes_max = BULK_BYTES_DEFAULT;
    p->bulk_len = -1;
}

void resp_parser_destroy(struct resp_parser *p)
{
    mem_free(p->args);
    mem_free(p->inline_buf);
    memset(p, 0, sizeof(*p));
}

void resp_parser_reset(struct resp_parser *p)
{
    p->state = RESP_STATE_START;
    p->pos = 0;
    p->multibulk_count = 0;
    p->bulk_len = -1;
    p->scan = 0;
    p->argc = 0;
    p->is_inline = false;
    p->error[0] = '\0';
}

static int64_t fail(struct resp_parser *p, const char *msg)
{
    snprintf(p->error, sizeof(p->error), "Protocol error: %s", msg);
    return RESP_ERR_PROTOCOL;
}

static void push_arg(struct resp_parser *p, size_t off, size_t len)
{
    if (p->argc == p->args_cap) {
        int cap = p->args_cap ? p->args_cap * 2 : 8;
        p->args = mem_realloc(p->args, (size_t)cap * sizeof(*p->args));
        p->args_cap = cap;
    }
    p->args[p->argc].off = off;
    p->args[p->argc].len = len;
    p->argc++;
}

/* Find "\r" in buf[from..len). Returns its index, or -1. */
static int64_t find_cr(const char *buf, size_t from, size_t len)
{
    const char *cr = from < len ? memchr(buf + from, '\r', len - from) : NULL;
    return cr ? cr - buf : -1;
}

static int64_t parse_inline(struct resp_parser *p, const char *buf, size_t len)
{
    const char *nl = memchr(buf + p->pos, '\n', len - p->pos);
    size_t line_len, total = 0;
    char **argv;
    size_t *lens;
    int argc;

    if (!nl) {
        if (len > PROTO_INLINE_BYTES_MAX)
            return fail(p, "too big inline request");
        p->pos = len;
        return 0;
    }
    line_len = (size_t)(nl - buf);
    if (line_len > 0 && buf[line_len - 1] == '\r')
        line_len--;
    if (util_split_args(buf, line_len, &argv, &lens, &argc) != 0)
        return fail(p, "unbalanced quotes in request");
    for (int i = 0; i < argc; i++)
        total += lens[i];
    if (total > p->inline_cap) {
        p->inline_buf = mem_realloc(p->inline_buf, total);
        p->inline_cap = total;
    }
    total = 0;
    for (int i = 0; i < argc; i++) {
        if (lens[i] > 0) /* inline_buf is NULL until a non-empty argument */
            memcpy(p->inline_buf + total, argv[i], lens[i]);
        push_arg(p, total, lens[i]);
        total += lens[i];
    }
    util_free_args(argv, lens, argc);
    p->is_inline = true;
    p->state = RESP_STATE_DONE;
    return (int64_t)(nl - buf) + 1;
}

/* Parse the '*N' line. Returns 1 when done, 0 for more input, or an error. */
static int64_t parse_count(struct resp_parser *p, const char *buf, size_t len)
{
    int64_t cr = find_cr(buf, p->pos, len);
    long long n;
    if (cr < 0) {
        if (len > PROTO_INLINE_BYTES_MAX)
            return fail(p, "too big mbulk count string");
        p->pos = len;
        return 0;
    }
    if ((size_t)cr + 1 >= len) {
        p->pos = (size_t)cr;
        return 0;
    }
    if (!util_str_to_ll(buf + 1, (size_t)cr - 1, &n) || n > ARGC_MAX)
        return fail(p, "invalid multibulk length");
    if (p->unauthenticated && n > UNAUTH_ARGC_MAX)
        return fail(p, "unauthenticated multibulk length");
    p->pos = (size_t)cr + 2;
    p->multibulk_count = n;
    p->state = RESP_STATE_BULK_HDR;
    return 1;
}

/* Parse one '$N' line. Same returns as parse_count(). */
static int64_t parse_bulk_header(struct resp_parser *p, const char *buf, size_t len)
{
    int64_t cr;
    long long n;
    char msg[64];
    if (p->pos >= len)
        return 0;
    if (buf[p->pos] != '$') {
        snprintf(msg, sizeof(msg), "expected '$', got '%c'", buf[p->pos]);
        return fail(p, msg);
    }
    /* Resume the search where the last call stopped (invariant 1). */
    cr = find_cr(buf, p->scan > p->pos ? p->scan : p->pos, len);
    if (cr < 0) {
        if (len - p->pos > PROTO_INLINE_BYTES_MAX)
            return fail(p, "too big bulk count string");
        p->scan = len;
        return 0;
    }
    if ((size_t)cr + 1 >= len)
        return 0;
    if (!util_str_to_ll(buf + p->pos + 1, (size_t)cr - p->pos - 1, &n) || n < 0 ||
        (unsigned long long)n > p->bulk_bytes_max)
        return fail(p, "invalid bulk length");
    if (p->unauthenticated && n > UNAUTH_BULK_BYTES_MAX)
        return fail(p, "unauthenticated bulk length");
    p->pos = (size_t)cr + 2;
    p->scan = 0;
    p->bulk_len = n;
    p->state = RESP_STATE_BULK_BODY;
    return 1;
}

static int64_t parse_multibulk(struct resp_parser *p, const char *buf, size_t len)
{
    int64_t rc;
    if (p->state == RESP_STATE_MB_COUNT) {
        rc = parse_count(p, buf, len);
        if (rc <= 0)
            return rc;
    }
    while (p->argc < p->multibulk_count) {
        if (p->state == RESP_STATE_BULK_HDR) {
            rc = parse_bulk_header(p, buf, len);
            if (rc <= 0)
                return rc;
        }
        ASSERT(p->state == RESP_STATE_BULK_BODY);
        /* Like Redis, the two bytes after the body are skipped unchecked. */
        if (len - p->pos < (size_t)p->bulk_len + 2)
            return 0;
        push_arg(p, p->pos, (size_t)p->bulk_len);
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->state = RESP_STATE_BULK_HDR;
    }
    p->state = RESP_STATE_DONE;
    return (int64_t)p->pos;
}

int64_t resp_parse(struct resp_parser *p, const char *buf, size_t len)
{
    if (p->state == RESP_STATE_DONE)
        resp_parser_reset(p);
    if (len == 0)
        return 0;
    if (p->state == RESP_STATE_START) {
        if (buf[0] != '*')
            return parse_inline(p, buf, len); /* stays in START until a '\n' */
        p->state = RESP_STATE_MB_COUNT;
        p->pos = 1;
    }
    return parse_multibulk(p, buf, len);
}

size_t resp_parse_bulk_bytes_wanted(const struct resp_parser *p)
{
    if (p->state != RESP_STATE_BULK_BODY)
        return 0;
    return (size_t)p->bulk_len + 2;
}
