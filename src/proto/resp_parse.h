#pragma once
/*
 * resp_parse.h - incremental parser of client requests: RESP multibulk
 * arrays of bulk strings, and inline commands (a line of words).
 *
 * The caller keeps every unconsumed byte of the current request in one
 * contiguous buffer and calls resp_parse() with it each time more bytes
 * arrive; the parser remembers how far it got, so each byte is examined
 * once however the request is split. Argument positions are offsets from the
 * start of the request, so the caller may move the buffer between calls.
 *
 * Return values (STYLE.md C3.2): >0 a whole request was parsed and this
 * many bytes consumed; 0 more input is needed; RESP_ERR_PROTOCOL the input
 * is malformed, resp_parser.error names why (Redis's exact text, without the
 * "ERR " prefix) and the connection must be closed after replying.
 *
 * Threads: the owner's (loop) thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_ERR_PROTOCOL (-4001)

/* One argument of a parsed request. */
struct resp_arg {
    size_t off; /* multibulk: offset from the request start; inline: into inline_buf */
    size_t len; /* bytes */
};

struct resp_parser {
    /* Limits, set by the owner before each call. */
    uint64_t bulk_bytes_max; /* proto-max-bulk-len */
    bool unauthenticated;     /* apply the pre-AUTH limits */
    /* State of the request being parsed. */
    int state;               /* RESP_STATE_* (resp_parse.c) */
    size_t pos;              /* bytes of the request examined so far */
    int64_t multibulk_count; /* elements announced by '*N' */
    int64_t bulk_len;        /* announced length of the current bulk, -1 if none */
    size_t scan;             /* '$' header line: where the search for '\r' resumes */
    bool is_inline;          /* the parsed request was an inline command */
    /* Result: argc arguments, valid until the next resp_parse(). */
    struct resp_arg *args; /* owned */
    int argc;              /* arguments parsed */
    int args_cap;          /* allocated entries of args */
    char *inline_buf;      /* owned; unescaped inline arguments */
    size_t inline_cap;     /* bytes allocated for inline_buf */
    char error[128];       /* protocol error text when RESP_ERR_PROTOCOL */
};

void resp_parser_create(struct resp_parser *p);
void resp_parser_destroy(struct resp_parser *p);
/* Forget any partial request. */
void resp_parser_reset(struct resp_parser *p);

/*
 * Parse from buf[0..len), which starts at the first byte of the current
 * request (the same first byte as in the previous call, if that one
 * returned 0). See the header comment for return values. A parsed request
 * with argc == 0 (empty line, '*0') is legal and is to be skipped.
 */
int64_t resp_parse(struct resp_parser *p, const char *buf, size_t len);

/* Bytes the request still needs to complete the current bulk, when known
 * (so the caller can size its buffer), else 0. */
size_t resp_parse_bulk_bytes_wanted(const struct resp_parser *p);

/* Pointer to argument i of the last parsed request in buf (the same buffer
 * resp_parse() consumed from). Valid as long as buf is. */
static inline const char *resp_arg_ptr(const struct resp_parser *p, const char *buf, int i)
{
    return (p->is_inline ? p->inline_buf : buf) + p->args[i].off;
}
