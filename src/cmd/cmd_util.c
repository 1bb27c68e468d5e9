/*
 * cmd_util.c - helpers shared by the command families (cmd_util.h).
 *
 * Design
 *   The SCAN family: cursor parsing as Redis's strtoull-based parse, the
 *   MATCH/COUNT options of HSCAN/SSCAN/ZSCAN, and the [cursor, elements]
 *   reply.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd_util.h"

#include "core/clock.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "server/block.h"
#include "server/reply.h"

#include <limits.h>
#include <math.h>

#include <stdio.h>
#include <stdlib.h>

static bool is_c_space(char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/*
 * Parse a SCAN cursor as Redis does (strtoull base 10, then reject a
 * leading space, trailing bytes and overflow): an optional sign, digits,
 * and the text ends there or at a NUL byte. "" is cursor 0, and so is a
 * text that starts with NUL; "-1" wraps like strtoull.
 */
bool cmd_parse_cursor(const char *p, size_t len, uint64_t *out)
{
    size_t i = 0, digits_start;
    bool neg = false;
    uint64_t v = 0;
    if (len == 0 || p[0] == '\0') {
        *out = 0;
        return true;
    }
    if (is_c_space(p[0]))
        return false;
    if (p[0] == '+' || p[0] == '-')
        neg = p[i++] == '-';
    digits_start = i;
    for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false; /* ERANGE */
        v = v * 10 + d;
    }
    if (i == digits_start)
        return false; /* no conversion: strtoull's end is p, which is not NUL */
    if (i < len && p[i] != '\0')
        return false;
    *out = neg ? (uint64_t)0 - v : v;
    return true;
}

bool cmd_parse_scan_opts(struct client *c, int first, long long *count,
                         const struct client_arg **pattern)
{
    *count = 10;
    *pattern = NULL;
    for (int i = first; i < c->argc; i += 2) {
        if (i + 1 < c->argc && client_arg_is(c, i, "count")) {
            if (!arg_ll(c, i + 1, count)) {
                reply_err_not_int(c);
                return false;
            }
            if (*count < 1) {
                reply_err_syntax(c);
                return false;
            }
        } else if (i + 1 < c->argc && client_arg_is(c, i, "match")) {
            const struct client_arg *pat = &c->argv[i + 1];
            *pattern = pat->len == 1 && pat->p[0] == '*' ? NULL : pat;
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    return true;
}

bool cmd_parse_mpop(struct client *c, int first, const char *a, const char *b,
                    long long *numkeys, bool *second, long long *count)
{
    int after;
    if (!arg_ll(c, first, numkeys) || *numkeys <= 0) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return false;
    }
    if (*numkeys > c->argc - first - 1) {
        reply_err_syntax(c);
        return false;
    }
    after = first + 1 + (int)*numkeys;
    if (after >= c->argc || (!client_arg_is(c, after, a) && !client_arg_is(c, after, b))) {
        reply_err_syntax(c);
        return false;
    }
    *second = client_arg_is(c, after, b);
    *count = 1;
    if (after + 1 == c->argc)
        return true;
    if (after + 3 != c->argc || !client_arg_is(c, after + 1, "count")) {
        reply_err_syntax(c);
        return false;
    }
    if (!arg_ll(c, after + 2, count) || *count <= 0) {
        reply_error(c, "ERR count should be greater than 0");
        return false;
    }
    return true;
}

bool cmd_parse_rand(struct client *c, const char *with, long long *count, bool *with_out)
{
    /* Redis's order: the count, then the syntax, then the WITH* range. */
    if (c->argc >= 3 && !arg_ll(c, 2, count)) {
        reply_err_not_int(c);
        return false;
    }
    if (c->argc >= 3 && *count == LLONG_MIN) {
        reply_error(c, ERR_COUNT_RANGE);
        return false;
    }
    if (c->argc > 4 || (c->argc == 4 && !client_arg_is(c, 3, with))) {
        reply_err_syntax(c);
        return false;
    }
    *with_out = c->argc == 4;
    /* Twice the count is replied with values: keep it a long long. */
    if (*with_out && (*count < -LLONG_MAX / 2 || *count > LLONG_MAX / 2)) {
        reply_error(c, "ERR value is out of range");
        return false;
    }
    return true;
}

void cmd_block_or_null(struct client *c, int first, int nkeys, int64_t deadline_us,
                       bool multi_null_bulk)
{
    if (!(c->flags & CLIENT_MULTI))
        block_on_keys(c, first, nkeys, deadline_us);
    else if (multi_null_bulk)
        reply_null(c);
    else
        reply_null_array(c);
}

int cmd_first_existing(struct client *c, int first, int last, int type, struct db_entry **e)
{
    int pref = block_serving_arg(c, first, last);
    for (int k = first - 1; k <= last; k++) {
        int i = k < first ? pref : k; /* the key being served first */
        if (i < 0 || (k >= first && i == pref))
            continue;
        *e = db_lookup_write_logged(c->db, c->argv[i].p, c->argv[i].len);
        if (*e && (int)(*e)->val->type != type) {
            reply_err_wrongtype(c);
            return -2;
        }
        if (*e)
            return i;
    }
    return -1;
}

bool cmd_scan_match(const struct cmd_scan *x, const char *p, size_t len)
{
    return !x->pattern || util_glob_match(x->pattern->p, x->pattern->len, p, len, false);
}

void cmd_scan_key(struct client *c, int type, cmd_scan_step_fn *step, int strings)
{
    struct cmd_scan x = {.count = 0, .pattern = NULL};
    uint64_t cursor;
    long long want = 10, steps;
    struct db_entry *e;
    if (!cmd_parse_cursor(c->argv[2].p, c->argv[2].len, &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    e = lookup_read(c, 1);
    if (e && (int)e->val->type != type) {
        reply_err_wrongtype(c);
        return;
    }
    if (e && !cmd_parse_scan_opts(c, 3, &want, &x.pattern))
        return;
    buf_create(&x.out);
    if (!e) {
        cursor = 0;
    } else {
        /* Bound the work: at most 10 cursor steps per element asked for. */
        steps = want > LLONG_MAX / 10 ? LLONG_MAX : want * 10;
        do {
            cursor = step(e->val, cursor, &x);
        } while (cursor != 0 && --steps > 0 && x.count < want);
    }
    cmd_reply_scan(c, cursor, x.count * strings, &x.out);
    buf_destroy(&x.out);
}

void cmd_reply_scan(struct client *c, uint64_t cursor, long long elements,
                    const struct buf *encoded)
{
    char cursor_str[UTIL_LL_STR_BYTES];
    snprintf(cursor_str, sizeof(cursor_str), "%llu", (unsigned long long)cursor);
    reply_array(c, 2);
    reply_bulk_str(c, cursor_str);
    reply_array(c, elements);
    reply_raw(c, encoded->data ? encoded->data : "", encoded->len);
}

/*
 * Parse a blocking timeout (seconds, fractional) into a monotonic deadline
 * (0 = wait forever), as Redis: not a number -> "not a float", negative or
 * too large for milliseconds -> "negative" (Redis's overflow reads so).
 */
bool cmd_parse_timeout(struct client *c, int i, int64_t *deadline_us)
{
    long double t;
    if (!util_str_to_ld(c->argv[i].p, c->argv[i].len, &t) || isnan(t)) {
        reply_error(c, "ERR timeout is not a float or out of range");
        return false;
    }
    if (t < 0 || isinf(t) || t * 1000.0L > (long double)INT64_MAX) {
        reply_error(c, "ERR timeout is negative"); /* Redis's words for the overflow */
        return false;
    }
    /* Saturate: a deadline past INT64_MAX us is forever in practice. */
    if (t * 1000000.0L >= (long double)(INT64_MAX - clock_mono_us()))
        *deadline_us = INT64_MAX;
    else
        *deadline_us = t == 0 ? 0 : clock_mono_us() + (int64_t)(t * 1000000.0L);
    if (t > 0 && *deadline_us == 0)
        *deadline_us = 1;
    return true;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

size_t *cmd_pick_few_indexes(size_t n, size_t k)
{
    size_t *idx = mem_alloc((k ? k : 1) * sizeof(*idx)), have = 0;
    for (int round = 0; round < RANDOM_PICK_ROUNDS_MAX && have < k; round++) {
        size_t w = 0;
        for (size_t i = have; i < k; i++)
            idx[i] = (size_t)(util_rand_u64() % n);
        qsort(idx, k, sizeof(*idx), cmp_size);
        for (size_t i = 0; i < k; i++) /* keep one of each */
            if (w == 0 || idx[i] != idx[w - 1])
                idx[w++] = idx[i];
        have = w;
    }
    if (have < k) {
        mem_free(idx);
        return NULL;
    }
    for (size_t i = 0; i + 1 < k; i++) { /* sorted: shuffle into a random order */
        size_t j = i + (size_t)(util_rand_u64() % (k - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return idx;
}
