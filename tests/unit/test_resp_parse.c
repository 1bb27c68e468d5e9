/*
 * test_resp_parse.c - unit tests of the incremental request parser
 * (src/proto/resp_parse.h).
 *
 * Design
 *   feed() drives the parser exactly as the server's read loop does: the
 *   query buffer always starts at the first byte of the current request;
 *   when resp_parse() returns 0 the next chunk is appended and the parser is
 *   called again with the longer buffer; when it returns >0 the consumed
 *   bytes are dropped; a negative return ends the feed. Between chunks the
 *   unconsumed bytes are copied into a freshly allocated buffer, so the
 *   buffer moves between calls (allowed by the contract) and ASan catches a
 *   parser that keeps a pointer into the old one.
 *
 *   feed() records the outcome as one byte string (struct outcome), so two
 *   feeds compare with a single T_EQ_MEM:
 *       M(3:SET,1:k,1:v)   a multibulk request and its arguments (len:bytes)
 *       I(4:PING)          an inline request
 *       !<error text>      the protocol error that ended the feed
 *       +<n>               n bytes left over (an incomplete request)
 *
 *   check_splits() is the key property of the parser: feeding the input in
 *   two pieces split at every byte boundary, byte by byte, and in other
 *   chunk sizes gives the same outcome as feeding it whole. The tests then
 *   compare that outcome with the expected one.
 *
 * Invariants
 *   (1) An outcome depends only on the input bytes and the parser limits,
 *       never on how the input was chunked (for inputs whose meaning does
 *       not itself depend on timing, which excludes only the 64 KB
 *       "line too long" limits checked in dedicated tests).
 *
 * Threads
 *   Single-threaded.
 *
 * Conventions
 *   Test buffers come from malloc(); the parser's own arrays are freed with
 *   resp_parser_destroy(), so LeakSanitizer checks the parser.
 */
#include "harness/test.h"

#include "core/limits.h"
#include "proto/resp_parse.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inputs up to this size are fed split at every position and byte by byte. */
#define EXHAUSTIVE_BYTES_MAX 4096

/* Limits a test sets on the parser before each call, as the server does. */
struct limits {
    uint64_t bulk_bytes_max; /* 0 = the parser's default */
    bool unauthenticated;    /* apply the pre-AUTH limits */
};

/* A growable byte string (malloc'd) holding one feed's outcome. */
struct outcome {
    char *data; /* owned */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    int args_cap_max; /* largest p.args_cap seen during the feed */
};

static void out_put(struct outcome *o, const void *p, size_t len)
{
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->len + len)
            cap *= 2;
        o->data = realloc(o->data, cap);
        T_NOT_NULL(o->data);
        o->cap = cap;
    }
    if (len)
        memcpy(o->data + o->len, p, len);
    o->len += len;
}

__attribute__((format(printf, 2, 3))) static void out_printf(struct outcome *o,
                                                              const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    T_ASSERT(n >= 0 && (size_t)n < sizeof(tmp));
    out_put(o, tmp, (size_t)n);
}

static void out_free(struct outcome *o)
{
    free(o->data);
    memset(o, 0, sizeof(*o));
}

static void record_request(struct outcome *o, const struct resp_parser *p, const char *buf)
{
    out_put(o, p->is_inline ? "I(" : "M(", 2);
    for (int i = 0; i < p->argc; i++) {
        size_t len = p->args[i].len;
        out_printf(o, "%s%zu:", i ? "," : "", len);
        if (len)
            out_put(o, resp_arg_ptr(p, buf, i), len);
    }
    out_put(o, ")", 1);
}

/*
 * Feeds in[0..len) in chunks ending at cuts[0] < cuts[1] < ... (the last
 * chunk ends at len) and records the outcome. The parser is created and
 * destroyed here.
 */
static void feed(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                 const struct limits *lim, struct outcome *o)
{
    struct resp_parser p;
    char *q = NULL;       /* query buffer: the unconsumed bytes */
    size_t qlen = 0;      /* bytes in q */
    size_t fed = 0;       /* bytes of in[] appended so far */
    bool failed = false;

    memset(o, 0, sizeof(*o));
    resp_parser_create(&p);
    for (size_t c = 0; c <= ncuts && !failed; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        size_t qpos = 0;
        char *moved;
        T_ASSERT(end >= fed && end <= len);
        /* Append the chunk into a new buffer, so the bytes move. */
        moved = malloc(qlen + (end - fed) + 1);
        T_NOT_NULL(moved);
        if (qlen)
            memcpy(moved, q, qlen);
        if (end > fed)
            memcpy(moved + qlen, in + fed, end - fed);
        free(q);
        q = moved;
        qlen += end - fed;
        fed = end;
        while (qpos < qlen) {
            int64_t rc;
            if (lim) {
                if (lim->bulk_bytes_max)
                    p.bulk_bytes_max = lim->bulk_bytes_max;
                p.unauthenticated = lim->unauthenticated;
            }
            rc = resp_parse(&p, q + qpos, qlen - qpos);
            if (p.args_cap > o->args_cap_max)
                o->args_cap_max = p.args_cap;
            if (rc == 0)
                break;
            if (rc < 0) {
                T_EQ_INT(rc, RESP_ERR_PROTOCOL);
                out_printf(o, "!%s", p.error);
                failed = true;
                break;
            }
            T_ASSERT((size_t)rc <= qlen - qpos);
            record_request(o, &p, q + qpos);
            qpos += (size_t)rc;
        }
        if (!failed && qpos > 0) {
            memmove(q, q + qpos, qlen - qpos);
            qlen -= qpos;
        }
    }
    if (!failed && qlen > 0)
        out_printf(o, "+%zu", qlen);
    free(q);
    resp_parser_destroy(&p);
}

static void feed_whole(const char *in, size_t len, const struct limits *lim, struct outcome *o)
{
    feed(in, len, NULL, 0, lim, o);
}

/* Feeds in chunks of `chunk` bytes. */
static void feed_chunked(const char *in, size_t len, size_t chunk, const struct limits *lim,
                         struct outcome *o)
{
    size_t ncuts = len / chunk, n = 0;
    size_t *cuts = calloc(ncuts + 1, sizeof(*cuts));
    T_NOT_NULL(cuts);
    for (size_t at = chunk; at < len; at += chunk)
        cuts[n++] = at;
    feed(in, len, cuts, n, lim, o);
    free(cuts);
}

static void expect_same(const struct outcome *whole, const struct outcome *other)
{
    T_EQ_MEM(other->data, other->len, whole->data, whole->len);
}

/*
 * Invariant (1): every two-piece split, byte by byte, and a few chunk
 * sizes give the outcome of the whole input, which must equal `expected`.
 * Inputs above EXHAUSTIVE_BYTES_MAX are split every `stride` bytes instead.
 */
static void check_splits_lim(const char *in, size_t len, const struct limits *lim,
                             const char *expected, size_t expected_len)
{
    static const size_t chunks[] = {2, 3, 7, 16, 100, 1024};
    struct outcome whole, other;
    size_t stride = len <= EXHAUSTIVE_BYTES_MAX ? 1 : len / 997 + 1;

    feed_whole(in, len, lim, &whole);
    T_EQ_MEM(whole.data, whole.len, expected, expected_len);
    for (size_t at = 1; at < len; at += stride) {
        feed(in, len, &at, 1, lim, &other);
        expect_same(&whole, &other);
        out_free(&other);
    }
    if (len <= EXHAUSTIVE_BYTES_MAX) {
        feed_chunked(in, len, 1, lim, &other);
        expect_same(&whole, &other);
        out_free(&other);
    }
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        if (len > EXHAUSTIVE_BYTES_MAX && chunks[i] < 100)
            continue;
        feed_chunked(in, len, chunks[i], lim, &other);
        expect_same(&whole, &other);
        out_free(&other);
    }
    out_free(&whole);
}

/* String-literal inputs and outcomes (sizeof - 1 keeps embedded NULs). */
#define CHECK(in, expected) check_splits_lim((in), sizeof(in) - 1, NULL, (expected), \
                                             sizeof(expected) - 1)
#define CHECK_LIM(in, lim, expected) check_splits_lim((in), sizeof(in) - 1, (lim), (expected), \
                                                      sizeof(expected) - 1)

TEST(resp_parse_multibulk_simple)
{
    CHECK("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", "M(3:SET,3:key,5:value)");
    CHECK("*1\r\n$4\r\nPING\r\n", "M(4:PING)");
}

TEST(resp_parse_multibulk_binary_and_empty_args)
{
    CHECK("*4\r\n$0\r\n\r\n$4\r\n\x00\x01\xff\x7f\r\n$1\r\n\x00\r\n$0\r\n\r\n",
          "M(0:,4:\x00\x01\xff\x7f,1:\x00,0:)");
}

TEST(resp_parse_bulk_containing_crlf)
{
    CHECK("*2\r\n$2\r\n\r\n\r\n$6\r\n*1\r\n$1\r\n", "M(2:\r\n,6:*1\r\n$1)");
    CHECK("*1\r\n$8\r\n\n\r\n\r\r\n\n\r\r\n", "M(8:\n\r\n\r\r\n\n\r)");
}

TEST(resp_parse_pipelined)
{
    CHECK("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n"
          "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO x\n",
          "M(4:PING)M(4:ECHO,2:hi)I(4:PING)M(3:GET,1:k)I(4:ECHO,1:x)");
}

TEST(resp_parse_inline_quotes_and_escapes)
{
    CHECK("SET \"a b\" 'c d' \"x\\x41\\n\\\"\" 'it\\'s'\r\n",
          "I(3:SET,3:a b,3:c d,4:xA\n\",4:it's)");
    CHECK("  lpush\tlist  \"\" ''  \r\n", "I(5:lpush,4:list,0:,0:)");
    CHECK("echo \"\\x00\\r\\t\\\\\"\r\n", "I(4:echo,4:\x00\r\t\\)");
    CHECK("a\"b c\"d \"\"\n", "!Protocol error: unbalanced quotes in request");
    CHECK("x foo\"bar\"\n", "I(1:x,6:foobar)");
}

TEST(resp_parse_inline_lf_only_and_empty_lines)
{
    CHECK("PING\nECHO hi\n", "I(4:PING)I(4:ECHO,2:hi)");
    CHECK("\r\n\n  \r\n\t\nPING\r\n", "I()I()I()I()I(4:PING)");
    /* A lone '\r' is not a line end, but it separates arguments like a space. */
    CHECK("a\rb\n", "I(1:a,1:b)");
}

TEST(resp_parse_zero_and_negative_multibulk)
{
    CHECK("*0\r\n", "M()");
    CHECK("*-1\r\n", "M()");
    CHECK("*-5\r\n*0\r\nPING\r\n*-1\r\n*1\r\n$1\r\nx\r\n", "M()M()I(4:PING)M()M(1:x)");
}

TEST(resp_parse_incomplete_leaves_bytes)
{
    CHECK("*2\r\n$3\r\nGET\r\n$3\r\nke", "+19");
    CHECK("*1\r\n$1\r\nx\r\n*2\r\n$3\r\nGET", "M(1:x)+11");
    CHECK("PING", "+4");
    CHECK("*", "+1");
    CHECK("*1\r", "+3");
    CHECK("*1\r\n$", "+5");
    CHECK("*1\r\n$3\r\nfoo\r", "+12");
}

TEST(resp_parse_many_args)
{
    char in[4096], expected[4096];
    size_t n = 0, e = 0;
    n += (size_t)snprintf(in + n, sizeof(in) - n, "*100\r\n");
    e += (size_t)snprintf(expected + e, sizeof(expected) - e, "M(");
    for (int i = 0; i < 100; i++) {
        n += (size_t)snprintf(in + n, sizeof(in) - n, "$%d\r\n%d\r\n", i < 10 ? 1 : 2, i);
        e += (size_t)snprintf(expected + e, sizeof(expected) - e, "%s%d:%d", i ? "," : "",
                              i < 10 ? 1 : 2, i);
    }
    e += (size_t)snprintf(expected + e, sizeof(expected) - e, ")");
    T_ASSERT(n < sizeof(in) && e < sizeof(expected));
    check_splits_lim(in, n, NULL, expected, e);
}

TEST(resp_parse_medium_bulk)
{
    size_t body = 3000;
    char *in = malloc(body + 64), *expected = malloc(body + 64);
    size_t n, e;
    n = (size_t)sprintf(in, "*2\r\n$3\r\nSET\r\n$%zu\r\n", body);
    e = (size_t)sprintf(expected, "M(3:SET,%zu:", body);
    for (size_t i = 0; i < body; i++)
        in[n + i] = expected[e + i] = (char)(i * 7 + 1);
    n += body;
    e += body;
    memcpy(in + n, "\r\n", 2);
    n += 2;
    expected[e++] = ')';
    check_splits_lim(in, n, NULL, expected, e);
    free(in);
    free(expected);
}

TEST(resp_parse_many_pipelined_requests)
{
    size_t cap = 64 * 1024, n = 0, e = 0;
    char *in = malloc(cap), *expected = malloc(cap);
    for (int i = 0; i < 1000; i++) {
        char key[16];
        int klen = snprintf(key, sizeof(key), "key:%d", i);
        if (i % 3 == 2) {
            n += (size_t)snprintf(in + n, cap - n, "GET %s\r\n", key);
            e += (size_t)snprintf(expected + e, cap - e, "I(3:GET,%d:%s)", klen, key);
        } else {
            n += (size_t)snprintf(in + n, cap - n, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", klen,
                                  key);
            e += (size_t)snprintf(expected + e, cap - e, "M(3:GET,%d:%s)", klen, key);
        }
    }
    T_ASSERT(n < cap && e < cap);
    check_splits_lim(in, n, NULL, expected, e);
    free(in);
    free(expected);
}

/* ---- errors ---- */

TEST(resp_parse_error_invalid_multibulk_length)
{
    CHECK("*abc\r\n", "!Protocol error: invalid multibulk length");
    CHECK("*3000000000\r\n", "!Protocol error: invalid multibulk length");
    CHECK("*2147483648\r\n", "!Protocol error: invalid multibulk length");
    CHECK("*\r\n", "!Protocol error: invalid multibulk length");
    CHECK("*1x\r\n", "!Protocol error: invalid multibulk length");
    CHECK("*99999999999999999999\r\n", "!Protocol error: invalid multibulk length");
    /* The first request is served before the error is seen. */
    CHECK("PING\r\n*x\r\n", "I(4:PING)!Protocol error: invalid multibulk length");
    /* INT32_MAX itself is a legal count: it just waits for the elements. */
    CHECK("*2147483647\r\n", "+13");
}

TEST(resp_parse_error_invalid_bulk_length)
{
    struct limits small = {.bulk_bytes_max = 1024 * 1024};
    CHECK("*1\r\n$-1\r\n", "!Protocol error: invalid bulk length");
    CHECK("*2\r\n$1\r\na\r\n$-5\r\n", "!Protocol error: invalid bulk length");
    CHECK("*1\r\n$abc\r\n", "!Protocol error: invalid bulk length");
    CHECK("*1\r\n$\r\n", "!Protocol error: invalid bulk length");
    /* 2 GB is above the default proto-max-bulk-len (512 MB). */
    CHECK("*1\r\n$2147483648\r\n", "!Protocol error: invalid bulk length");
    CHECK("*1\r\n$536870913\r\n", "!Protocol error: invalid bulk length");
    CHECK("*1\r\n$536870912\r\n", "+16");
    CHECK_LIM("*1\r\n$1048577\r\n", &small, "!Protocol error: invalid bulk length");
    CHECK_LIM("*1\r\n$1048576\r\n", &small, "+14");
}

TEST(resp_parse_error_expected_dollar)
{
    CHECK("*1\r\nx\r\n", "!Protocol error: expected '$', got 'x'");
    CHECK("*2\r\n$1\r\na\r\n:1\r\n", "!Protocol error: expected '$', got ':'");
    /* Redis skips the two bytes after a bulk unchecked; a longer body then
     * lands on a wrong header byte. */
    CHECK("*2\r\n$1\r\nabcd\r\n$1\r\nb\r\n", "!Protocol error: expected '$', got 'd'");
}

/* Builds prefix + `fill` bytes of `c` (no CR, no LF); the caller frees. */
static char *make_long(const char *prefix, char c, size_t fill, size_t *len_out)
{
    size_t plen = strlen(prefix);
    char *s = malloc(plen + fill);
    T_NOT_NULL(s);
    memcpy(s, prefix, plen);
    memset(s + plen, c, fill);
    *len_out = plen + fill;
    return s;
}

static void check_long_line(const char *prefix, char c, size_t fill, const char *expected)
{
    size_t len;
    char *s = make_long(prefix, c, fill, &len);
    check_splits_lim(s, len, NULL, expected, strlen(expected));
    free(s);
}

TEST(resp_parse_error_too_big_count_strings)
{
    /* 65 KB without a CR: above PROTO_INLINE_BYTES_MAX (64 KB). */
    check_long_line("*", '1', 65 * 1024, "!Protocol error: too big mbulk count string");
    check_long_line("*1\r\n$", '1', 65 * 1024, "!Protocol error: too big bulk count string");
    check_long_line("", 'A', 65 * 1024, "!Protocol error: too big inline request");
    check_long_line("GET ", 'k', 65 * 1024, "!Protocol error: too big inline request");
    /* Just under the limit it is only incomplete. */
    check_long_line("*", '1', 64 * 1024 - 1, "+65536");
    check_long_line("", 'A', 64 * 1024, "+65536");
}

TEST(resp_parse_error_unbalanced_quotes)
{
    CHECK("SET \"abc\r\n", "!Protocol error: unbalanced quotes in request");
    CHECK("SET 'abc\n", "!Protocol error: unbalanced quotes in request");
    CHECK("SET \"a\"b\r\n", "!Protocol error: unbalanced quotes in request");
    CHECK("PING\r\nSET \"x\r\n", "I(4:PING)!Protocol error: unbalanced quotes in request");
}

TEST(resp_parse_unauthenticated_limits)
{
    struct limits unauth = {.unauthenticated = true};
    char *in = malloc(UNAUTH_BULK_BYTES_MAX + 64);
    char *expected = malloc(UNAUTH_BULK_BYTES_MAX + 64);
    size_t n, e;

    /* Redis 7.0's texts for the pre-AUTH limits (networking.c). */
    CHECK_LIM("*11\r\n", &unauth, "!Protocol error: unauthenticated multibulk length");
    CHECK_LIM("*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
              "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n",
              &unauth, "M(1:a,1:b,1:c,1:d,1:e,1:f,1:g,1:h,1:i,1:j)");
    CHECK_LIM("*1\r\n$16385\r\n", &unauth, "!Protocol error: unauthenticated bulk length");
    /* The general checks come first: a bad length is "invalid" even before AUTH. */
    CHECK_LIM("*x\r\n", &unauth, "!Protocol error: invalid multibulk length");
    CHECK_LIM("*1\r\n$-1\r\n", &unauth, "!Protocol error: invalid bulk length");
    CHECK_LIM("*1\r\n$16384\r\n", &unauth, "+12");
    /* The same requests are fine once authenticated. */
    CHECK("*11\r\n", "+5");
    CHECK("*1\r\n$16385\r\n", "+12");

    /* A whole 16 KB bulk is accepted before AUTH. */
    n = (size_t)snprintf(in, 64, "*1\r\n$%u\r\n", UNAUTH_BULK_BYTES_MAX);
    e = (size_t)snprintf(expected, 64, "M(%u:", UNAUTH_BULK_BYTES_MAX);
    memset(in + n, 'z', UNAUTH_BULK_BYTES_MAX);
    memset(expected + e, 'z', UNAUTH_BULK_BYTES_MAX);
    n += UNAUTH_BULK_BYTES_MAX;
    e += UNAUTH_BULK_BYTES_MAX;
    memcpy(in + n, "\r\n", 2);
    n += 2;
    expected[e++] = ')';
    check_splits_lim(in, n, &unauth, expected, e);
    free(in);
    free(expected);
}

/* ---- allocation and bulk sizing ---- */

TEST(resp_parse_huge_count_does_not_allocate)
{
    struct resp_parser p;
    const char *hdr = "*1000000\r\n";
    char buf[256];
    size_t len;
    int64_t rc;

    resp_parser_create(&p);
    rc = resp_parse(&p, hdr, strlen(hdr));
    T_EQ_INT(rc, 0);
    T_ASSERT(p.args_cap <= 8);
    /* Three elements arrive: args[] grows with them, not with the count. */
    len = (size_t)snprintf(buf, sizeof(buf), "%s$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", hdr);
    rc = resp_parse(&p, buf, len);
    T_EQ_INT(rc, 0);
    T_EQ_INT(p.argc, 3);
    T_ASSERT(p.args_cap <= 8);
    resp_parser_destroy(&p);

    {
        struct outcome o;
        feed_chunked("*2147483647\r\n$1\r\nx\r\n", 20, 1, NULL, &o);
        T_EQ_MEM(o.data, o.len, "+20", 3);
        T_ASSERT(o.args_cap_max <= 8);
        out_free(&o);
    }
}

TEST(resp_parse_bulk_bytes_wanted)
{
    struct resp_parser p;
    size_t body = 100000, hdr_len;
    char *buf = malloc(body + 64);
    int64_t rc;

    resp_parser_create(&p);
    hdr_len = (size_t)sprintf(buf, "*2\r\n$3\r\nSET\r\n$%zu\r\n", body);
    memset(buf + hdr_len, 'v', body);
    memcpy(buf + hdr_len + body, "\r\n", 2);

    /* Header not complete: unknown. */
    T_EQ_INT(resp_parse(&p, buf, hdr_len - 2), 0);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), 0);
    /* Inside the body: the whole bulk plus CRLF, counted from p.pos. */
    T_EQ_INT(resp_parse(&p, buf, hdr_len), 0);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), body + 2);
    T_EQ_U64(p.pos, hdr_len);
    T_EQ_INT(resp_parse(&p, buf, hdr_len + 5000), 0);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), body + 2);
    T_EQ_U64(p.pos, hdr_len);
    T_EQ_INT(resp_parse(&p, buf, hdr_len + body + 1), 0);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), body + 2);
    rc = resp_parse(&p, buf, hdr_len + body + 2);
    T_EQ_INT(rc, (int64_t)(hdr_len + body + 2));
    T_EQ_INT(p.argc, 2);
    T_EQ_U64(p.args[1].len, body);
    T_ASSERT(resp_arg_ptr(&p, buf, 1) == buf + hdr_len);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), 0);

    /* Inline requests never announce a size. */
    T_EQ_INT(resp_parse(&p, "PIN", 3), 0);
    T_EQ_U64(resp_parse_bulk_bytes_wanted(&p), 0);
    resp_parser_destroy(&p);
    free(buf);
}

TEST(resp_parse_reset_and_reuse)
{
    struct resp_parser p;
    const char *full = "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
    int64_t rc;

    resp_parser_create(&p);
    T_EQ_INT(resp_parse(&p, "*3\r\n$3\r\nSET\r\n$1", 15), 0);
    resp_parser_reset(&p);
    rc = resp_parse(&p, full, strlen(full));
    T_EQ_INT(rc, (int64_t)strlen(full));
    T_EQ_INT(p.argc, 2);
    T_ASSERT(!p.is_inline);
    T_EQ_MEM(resp_arg_ptr(&p, full, 1), p.args[1].len, "hi", 2);

    /* Inline, then multibulk again with the same parser. */
    T_EQ_INT(resp_parse(&p, "GET k\r\n", 7), 7);
    T_ASSERT(p.is_inline);
    T_EQ_INT(p.argc, 2);
    T_EQ_MEM(resp_arg_ptr(&p, "GET k\r\n", 1), p.args[1].len, "k", 1);
    rc = resp_parse(&p, full, strlen(full));
    T_EQ_INT(rc, (int64_t)strlen(full));
    T_ASSERT(!p.is_inline);
    T_EQ_MEM(resp_arg_ptr(&p, full, 0), p.args[0].len, "ECHO", 4);
    resp_parser_destroy(&p);
}

TEST(resp_parse_inline_all_empty_args)
{
    /* Only empty arguments: no inline bytes to copy on a fresh parser. */
    CHECK("\"\" ''\r\n", "I(0:,0:)");
    CHECK("''\r\n", "I(0:)");
}
