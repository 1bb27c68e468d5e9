/*
 * cmd_zset.c - sorted set commands (ZADD ... ZSCAN, BZPOPMIN, BZMPOP).
 *
 * Design
 *   Values are db/zset.h objects. Ranges are computed as rank intervals
 *   [lo, hi) in ascending order (by rank, score or lex), then walked
 *   forwards or backwards (REV) with LIMIT applied in walk order, so
 *   ZRANGE and its older forms share one path.
 *
 *   Effects: ZADD/ZINCRBY record "ZADD key <final score> member" of what
 *   changed (scores printed with 17 significant digits, so they replay
 *   exactly); pops record "ZPOPMIN|ZPOPMAX key count"; the range removals
 *   and *STORE commands record themselves (deterministic).
 *
 *   Blocking (BZPOPMIN, BZPOPMAX, BZMPOP) uses server/block.h like the
 *   list commands.
 *
 * Invariants
 *   (1) No sorted set in the keyspace is empty.
 *   (2) No stored score is NaN.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "cmd/cmd_util.h"
#include "core/assert.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/set.h"
#include "db/undo.h"
#include "db/zset.h"
#include "proto/resp_write.h"
#include "server/block.h"
#include "server/reply.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* e as a sorted set (NULL if missing); WRONGTYPE replied and *bad set for
 * another type. */
static struct db_entry *as_zset(struct client *c, struct db_entry *e, bool *bad)
{
    *bad = false;
    if (e && e->val->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        *bad = true;
        return NULL;
    }
    return e;
}

/* Key argv[i] as a sorted set, for reading. */
static struct db_entry *zset_at_arg(struct client *c, int i, bool *bad)
{
    return as_zset(c, lookup_read(c, i), bad);
}

/* Key argv[1] for a member-level write (ZADD, ZINCRBY, ZREM, ZPOP*,
 * ZREMRANGEBY*), which logs each member it changes (log_member,
 * pop_member) instead of a copy of the whole set being saved for undo. */
static struct db_entry *zset_logged(struct client *c, bool *bad)
{
    return as_zset(c, db_lookup_write_logged(c->db, c->argv[1].p, c->argv[1].len), bad);
}

/* Member (p, len) of o (argv[1]'s sorted set) is about to change: log it. */
static void log_member(struct client *c, const struct obj *o, const char *p, size_t len)
{
    undo_zset_member(c->db, c->argv[1].p, c->argv[1].len, o, p, len);
}

/* Pop member (m, mlen), which may point into *o (argv[key]'s sorted set):
 * log it, then delete a copy (a deletion may rebuild a packed set). */
static void pop_member(struct client *c, int key, struct obj **o, const char *m, size_t mlen)
{
    char *copy = mem_alloc(mlen + 1);
    memcpy(copy, m, mlen);
    undo_zset_member(c->db, c->argv[key].p, c->argv[key].len, *o, copy, mlen);
    (void)zset_del(o, copy, mlen);
    mem_free(copy);
}

static void store(struct client *c, struct db_entry *e, struct obj *o)
{
    e->val = o;
    db_replace_value(c->db, e, o);
}

static void drop_if_empty(struct client *c, struct db_entry *e)
{
    if (zset_len(e->val) == 0)
        db_delete_entry(c->db, e); /* invariant 1 */
}

/* Record argv as one effect, with argv[0] replaced by name. */
static void effect_self(struct client *c, const char *name)
{
    struct effect_arg stack[16];
    struct effect_arg *args = c->argc <= 16 ? stack : mem_alloc((size_t)c->argc * sizeof(*args));
    args[0] = EFFECT_ARG(name, strlen(name));
    for (int i = 1; i < c->argc; i++)
        args[i] = arg_of(c, i);
    effect_add(c->db_index, c->argc, args);
    if (args != stack)
        mem_free(args);
}

/* Record "ZADD key score member". */
static void effect_zadd(struct client *c, int key, double score, const char *m, size_t len)
{
    char num[UTIL_DOUBLE_STR_BYTES];
    int n = util_double_to_str(num, sizeof(num), score);
    struct effect_arg args[4] = {EFFECT_LIT("ZADD"), arg_of(c, key), EFFECT_ARG(num, (size_t)n),
                                 EFFECT_ARG(m, len)};
    effect_add(c->db_index, 4, args);
}

static bool client_gone(const struct client *c)
{
    return (c->flags & CLIENT_CLOSE_ASAP) != 0;
}

/* One element: member, then its score if withscores; RESP3 pairs them. */
static void reply_elem(struct client *c, const struct zset_elem *e, bool withscores)
{
    if (withscores && c->resp == 3)
        reply_array(c, 2);
    reply_bulk(c, e->m, e->mlen);
    if (withscores)
        reply_double(c, e->score);
}

/* The array header for n elements. */
static void reply_elems_header(struct client *c, size_t n, bool withscores)
{
    reply_array(c, (long long)(withscores && c->resp == 2 ? n * 2 : n));
}

/* ---- ZADD, ZINCRBY, ZREM, lookups -------------------------------------- */

enum { ZA_NX = 1, ZA_XX = 2, ZA_GT = 4, ZA_LT = 8, ZA_CH = 16, ZA_INCR = 32 };

static bool parse_zadd_flags(struct client *c, int *flags, int *first)
{
    static const char *const names[] = {"nx", "xx", "gt", "lt", "ch", "incr"};
    int i = 2, pairs;
    *flags = 0;
    for (; i < c->argc; i++) {
        int f = 0;
        for (int k = 0; k < 6 && !f; k++)
            f = client_arg_is(c, i, names[k]) ? 1 << k : 0;
        if (!f)
            break;
        *flags |= f;
    }
    *first = i;
    pairs = c->argc - i;
    if (pairs == 0 || pairs % 2) {
        reply_err_syntax(c);
        return false;
    }
    if ((*flags & ZA_NX) && (*flags & ZA_XX)) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return false;
    }
    if (((*flags & ZA_GT) && (*flags & (ZA_LT | ZA_NX))) || ((*flags & ZA_LT) && (*flags & ZA_NX))) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return false;
    }
    if ((*flags & ZA_INCR) && pairs > 2) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return false;
    }
    return true;
}

void cmd_zadd(struct client *c)
{
    int flags, first;
    bool bad;
    double *scores;
    struct db_entry *e;
    struct obj *o;
    long long added = 0, changed = 0;
    bool incr_done = false;
    double incr_result = 0;
    if (!parse_zadd_flags(c, &flags, &first))
        return;
    scores = mem_alloc((size_t)(c->argc - first) / 2 * sizeof(double));
    for (int i = first; i < c->argc; i += 2) {
        if (!util_str_to_double(c->argv[i].p, c->argv[i].len, &scores[(i - first) / 2])) {
            reply_err_not_float(c);
            mem_free(scores);
            return;
        }
    }
    e = zset_logged(c, &bad);
    if (bad || (!e && (flags & ZA_XX))) {
        if (!bad)
            flags & ZA_INCR ? reply_null(c) : reply_int(c, 0);
        mem_free(scores);
        return;
    }
    o = e ? e->val : zset_new();
    for (int i = first; i < c->argc; i += 2) {
        const struct client_arg *m = &c->argv[i + 1];
        double score = scores[(i - first) / 2], cur;
        bool exists = zset_score(o, m->p, m->len, &cur);
        if ((exists && (flags & ZA_NX)) || (!exists && (flags & ZA_XX)))
            continue;
        if (flags & ZA_INCR) {
            if (exists)
                score += cur;
            if (isnan(score)) {
                reply_error(c, "ERR resulting score is not a number (NaN)");
                goto out;
            }
        }
        if (exists && (((flags & ZA_GT) && score <= cur) || ((flags & ZA_LT) && score >= cur)))
            continue;
        incr_done = true;
        incr_result = score; /* the reply shows the score computed, -0 included */
        if (exists && score == cur)
            continue;
        if (e)
            log_member(c, o, m->p, m->len);
        (void)zset_set(&o, m->p, m->len, score);
        effect_zadd(c, 1, score, m->p, m->len);
        if (exists)
            changed++;
        else
            added++;
    }
    if (flags & ZA_INCR) {
        if (incr_done)
            reply_double(c, incr_result);
        else
            reply_null(c);
    } else {
        reply_int(c, (flags & ZA_CH) ? added + changed : added);
    }
out:
    if (e)
        store(c, e, o);
    else if (zset_len(o) > 0)
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    else
        obj_delete(o);
    mem_free(scores);
}

/* ZADD's flag words. */
static const char *const zadd_flags[] = {"nx", "xx", "gt", "lt", "ch", "incr"};

void cmd_zincrby(struct client *c)
{
    bool bad, exists;
    double incr, cur = 0, score;
    struct db_entry *e;
    struct obj *o;
    /* As Redis, whose ZINCRBY is ZADD INCR: ZADD's flag words are taken as
     * flags, which leaves one argument where a score and member are due. */
    for (size_t i = 0; i < sizeof(zadd_flags) / sizeof(zadd_flags[0]); i++) {
        if (client_arg_is(c, 2, zadd_flags[i])) {
            reply_err_syntax(c);
            return;
        }
    }
    if (!util_str_to_double(c->argv[2].p, c->argv[2].len, &incr)) {
        reply_err_not_float(c);
        return;
    }
    e = zset_logged(c, &bad);
    if (bad)
        return;
    o = e ? e->val : NULL;
    exists = o && zset_score(o, c->argv[3].p, c->argv[3].len, &cur);
    score = exists ? cur + incr : incr; /* a new member takes the increment as is (-0) */
    if (isnan(score)) {
        reply_error(c, "ERR resulting score is not a number (NaN)");
        return;
    }
    if (exists && score == cur) {
        reply_double(c, score); /* nothing changed: no effect, no WATCH touch */
        return;
    }
    if (!o)
        o = zset_new();
    else
        log_member(c, o, c->argv[3].p, c->argv[3].len);
    (void)zset_set(&o, c->argv[3].p, c->argv[3].len, score);
    if (e)
        store(c, e, o);
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    effect_zadd(c, 1, score, c->argv[3].p, c->argv[3].len);
    reply_double(c, score);
}

void cmd_zrem(struct client *c)
{
    bool bad;
    struct db_entry *e = zset_logged(c, &bad);
    long long removed = 0;
    struct obj *o;
    if (bad)
        return;
    if (e) {
        o = e->val;
        for (int i = 2; i < c->argc; i++) {
            log_member(c, o, c->argv[i].p, c->argv[i].len);
            removed += zset_del(&o, c->argv[i].p, c->argv[i].len);
        }
        store(c, e, o);
        if (removed > 0) {
            effect_self(c, "ZREM");
            drop_if_empty(c, e);
        }
    }
    reply_int(c, removed);
}

void cmd_zcard(struct client *c)
{
    bool bad;
    struct db_entry *e = zset_at_arg(c, 1, &bad);
    if (!bad)
        reply_int(c, e ? (long long)zset_len(e->val) : 0);
}

void cmd_zscore(struct client *c)
{
    bool bad;
    double s;
    struct db_entry *e = zset_at_arg(c, 1, &bad);
    if (bad)
        return;
    if (e && zset_score(e->val, c->argv[2].p, c->argv[2].len, &s))
        reply_double(c, s);
    else
        reply_null(c);
}

void cmd_zmscore(struct client *c)
{
    bool bad;
    struct db_entry *e = zset_at_arg(c, 1, &bad);
    if (bad)
        return;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        double s;
        if (e && zset_score(e->val, c->argv[i].p, c->argv[i].len, &s))
            reply_double(c, s);
        else
            reply_null(c);
    }
}

static void rank_generic(struct client *c, bool rev)
{
    bool bad;
    long long r;
    struct db_entry *e = zset_at_arg(c, 1, &bad);
    if (bad)
        return;
    r = e ? zset_rank(e->val, c->argv[2].p, c->argv[2].len) : -1;
    if (r < 0)
        reply_null(c);
    else
        reply_int(c, rev ? (long long)zset_len(e->val) - 1 - r : r);
}

void cmd_zrank(struct client *c)
{
    rank_generic(c, false);
}

void cmd_zrevrank(struct client *c)
{
    rank_generic(c, true);
}

/* ---- Ranges ------------------------------------------------------------ */

/* A score bound as Redis reads it: an optional '(' then strtod() of the
 * rest, which must be used up ("" reads 0, leading blanks are allowed,
 * 1e400 is inf), and not NaN. */
static bool parse_score_bound(const struct client_arg *a, double *v, bool *ex)
{
    char stack[128], *buf, *end;
    size_t skip;
    bool ok;
    *ex = a->len > 0 && a->p[0] == '(';
    skip = *ex ? 1 : 0;
    if (memchr(a->p, '\0', a->len))
        return false; /* strtod would stop at the NUL */
    buf = a->len - skip < sizeof(stack) ? stack : mem_alloc(a->len - skip + 1);
    memcpy(buf, a->p + skip, a->len - skip);
    buf[a->len - skip] = '\0';
    *v = strtod(buf, &end);
    ok = *end == '\0' && !isnan(*v);
    if (buf != stack)
        mem_free(buf);
    return ok;
}

static bool parse_lex_bound(const struct client_arg *a, struct zset_lex *b)
{
    if (a->len == 1 && (a->p[0] == '-' || a->p[0] == '+')) {
        b->kind = a->p[0] == '-' ? -1 : 1;
        return true;
    }
    if (a->len == 0 || (a->p[0] != '[' && a->p[0] != '('))
        return false;
    b->kind = 0;
    b->exclusive = a->p[0] == '(';
    b->p = a->p + 1;
    b->len = a->len - 1;
    return true;
}

enum zby { BY_RANK, BY_SCORE, BY_LEX };

struct zrange {
    enum zby by;
    bool rev;
    bool withscores;
    bool limited;
    long long offset, count;
};

/* The ascending rank interval [*lo, *hi) of arguments a (start/min) and b
 * (stop/max). False after replying the error. */
static bool range_interval(struct client *c, const struct obj *o, const struct zrange *r,
                           const struct client_arg *a, const struct client_arg *b, size_t *lo,
                           size_t *hi)
{
    size_t len = o ? zset_len(o) : 0;
    if (r->by == BY_RANK) {
        long long start, stop;
        if (!util_str_to_ll(a->p, a->len, &start) || !util_str_to_ll(b->p, b->len, &stop)) {
            reply_err_not_int(c);
            return false;
        }
        if (start < 0)
            start = start + (long long)len < 0 ? 0 : start + (long long)len;
        if (stop < 0)
            stop += (long long)len;
        if (stop >= (long long)len)
            stop = (long long)len - 1;
        if (start > stop || start >= (long long)len) {
            *lo = *hi = 0;
            return true;
        }
        /* With REV, ranks count from the top. */
        *lo = r->rev ? len - 1 - (size_t)stop : (size_t)start;
        *hi = r->rev ? len - (size_t)start : (size_t)stop + 1;
        return true;
    }
    if (r->by == BY_SCORE) {
        double min, max;
        bool minex, maxex;
        const struct client_arg *amin = r->rev ? b : a, *amax = r->rev ? a : b;
        if (!parse_score_bound(amin, &min, &minex) || !parse_score_bound(amax, &max, &maxex)) {
            reply_error(c, "ERR min or max is not a float");
            return false;
        }
        *lo = o ? zset_score_lower(o, min, minex) : 0;
        *hi = o ? zset_score_upper(o, max, maxex) : 0;
    } else {
        struct zset_lex min, max;
        const struct client_arg *amin = r->rev ? b : a, *amax = r->rev ? a : b;
        if (!parse_lex_bound(amin, &min) || !parse_lex_bound(amax, &max)) {
            reply_error(c, "ERR min or max not valid string range item");
            return false;
        }
        if (o && zset_lex_may_overlap(o, &min, &max)) {
            *lo = zset_lex_lower(o, &min);
            *hi = zset_lex_upper(o, &max);
        } else {
            *lo = *hi = 0;
        }
    }
    if (*hi < *lo)
        *hi = *lo;
    return true;
}

/* The elements of [lo, hi) in walk order after LIMIT, into a new array
 * (mem_free it); *n their number. Borrowed from o. */
static struct zset_elem *range_collect(const struct obj *o, const struct zrange *r, size_t lo,
                                       size_t hi, size_t *n)
{
    size_t span = hi - lo, skip = 0, take = span;
    struct zset_elem *out;
    struct zset_iter it;
    *n = 0;
    if (r->limited) {
        if (r->offset < 0 || (unsigned long long)r->offset >= span)
            return NULL;
        skip = (size_t)r->offset;
        take = span - skip;
        if (r->count >= 0 && (unsigned long long)r->count < take)
            take = (size_t)r->count;
    }
    if (take == 0)
        return NULL;
    out = mem_alloc(take * sizeof(*out));
    zset_iter_init(&it, o, r->rev ? hi - 1 - skip : lo + skip, r->rev);
    while (*n < take && zset_iter_next(&it, &out[*n]))
        (*n)++;
    return out;
}

/* Options after the two bounds, from argv[first]. store: ZRANGESTORE (no
 * WITHSCORES). by_allowed: ZRANGE/ZRANGESTORE take BYSCORE, BYLEX and REV;
 * the older forms (ZREVRANGE, ZRANGEBYSCORE, ...) fix them. A repeated or
 * conflicting BYSCORE/BYLEX/REV is a syntax error. False after replying. */
static bool parse_zrange_opts(struct client *c, int first, struct zrange *r, bool store,
                              bool by_allowed)
{
    bool by_seen = false, rev_seen = false;
    for (int i = first; i < c->argc; i++) {
        if (by_allowed && !by_seen && client_arg_is(c, i, "byscore")) {
            r->by = BY_SCORE;
            by_seen = true;
        } else if (by_allowed && !by_seen && client_arg_is(c, i, "bylex")) {
            r->by = BY_LEX;
            by_seen = true;
        } else if (by_allowed && !rev_seen && client_arg_is(c, i, "rev")) {
            r->rev = true;
            rev_seen = true;
        } else if (!store && client_arg_is(c, i, "withscores")) {
            r->withscores = true;
        } else if (client_arg_is(c, i, "limit") && i + 2 < c->argc) {
            if (!arg_ll(c, i + 1, &r->offset) || !arg_ll(c, i + 2, &r->count)) {
                reply_err_not_int(c);
                return false;
            }
            r->limited = true;
            i += 2;
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    if (r->limited && r->by == BY_RANK) {
        /* As Redis 7.0: a count of -1 (no limit) is accepted by rank, and
         * then the offset is ignored too. */
        if (r->count != -1) {
            reply_error(c, "ERR syntax error, LIMIT is only supported in combination with "
                           "either BYSCORE or BYLEX");
            return false;
        }
        r->limited = false;
    }
    if (r->withscores && r->by == BY_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return false;
    }
    return true;
}

/* Reply (or, with dst > 0, store into argv[dst]) the range of key argv[key]
 * between argv[key + 1] and argv[key + 2]. */
static void zrange_run(struct client *c, int key, const struct zrange *r, int dst)
{
    bool bad;
    struct db_entry *e;
    size_t lo, hi, n;
    struct zset_elem *elems;
    /* As Redis: the bounds are checked before the key's type. */
    if (!range_interval(c, NULL, r, &c->argv[key + 1], &c->argv[key + 2], &lo, &hi))
        return;
    e = zset_at_arg(c, key, &bad);
    if (bad)
        return;
    if (e && !range_interval(c, e->val, r, &c->argv[key + 1], &c->argv[key + 2], &lo, &hi))
        return;
    elems = e ? range_collect(e->val, r, lo, hi, &n) : (n = 0, NULL);
    if (dst > 0) {
        /* As Redis, which sizes the destination for n members: a result
         * too long for the packed form is a skiplist from its first member
         * and keeps its -0 scores; a shorter one starts packed (0 for -0,
         * also in members added before a long member converts it). */
        struct obj *o = n > zset_max_packed_entries ? zset_new_skiplist() : zset_new();
        for (size_t i = 0; i < n; i++)
            (void)zset_set(&o, elems[i].m, elems[i].mlen, elems[i].score);
        mem_free(elems); /* borrowed from the source, which db_set may replace */
        if (n > 0) {
            (void)db_set(c->db, c->argv[dst].p, c->argv[dst].len, o, false);
            effect_self(c, "ZRANGESTORE");
        } else {
            obj_delete(o);
            if (db_delete(c->db, c->argv[dst].p, c->argv[dst].len))
                effect_self(c, "ZRANGESTORE");
        }
        reply_int(c, (long long)n);
        return;
    }
    reply_elems_header(c, n, r->withscores);
    for (size_t i = 0; i < n; i++)
        reply_elem(c, &elems[i], r->withscores);
    mem_free(elems);
}

void cmd_zrange(struct client *c)
{
    struct zrange r = {BY_RANK, false, false, false, 0, -1};
    if (parse_zrange_opts(c, 4, &r, false, true))
        zrange_run(c, 1, &r, 0);
}

void cmd_zrangestore(struct client *c)
{
    struct zrange r = {BY_RANK, false, false, false, 0, -1};
    if (parse_zrange_opts(c, 5, &r, true, true))
        zrange_run(c, 2, &r, 1);
}

void cmd_zrevrange(struct client *c)
{
    struct zrange r = {BY_RANK, true, false, false, 0, -1};
    if (parse_zrange_opts(c, 4, &r, false, false))
        zrange_run(c, 1, &r, 0);
}

/* ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX. */
static void range_by_generic(struct client *c, enum zby by, bool rev)
{
    struct zrange r = {by, rev, false, false, 0, -1};
    if (parse_zrange_opts(c, 4, &r, false, false))
        zrange_run(c, 1, &r, 0);
}

void cmd_zrangebyscore(struct client *c)
{
    range_by_generic(c, BY_SCORE, false);
}

void cmd_zrevrangebyscore(struct client *c)
{
    range_by_generic(c, BY_SCORE, true);
}

void cmd_zrangebylex(struct client *c)
{
    range_by_generic(c, BY_LEX, false);
}

void cmd_zrevrangebylex(struct client *c)
{
    range_by_generic(c, BY_LEX, true);
}

static void count_generic(struct client *c, enum zby by)
{
    struct zrange r = {by, false, false, false, 0, -1};
    bool bad;
    size_t lo, hi;
    struct db_entry *e;
    if (!range_interval(c, NULL, &r, &c->argv[2], &c->argv[3], &lo, &hi))
        return; /* the bounds before the key's type, as Redis */
    e = zset_at_arg(c, 1, &bad);
    if (!bad && (!e || range_interval(c, e->val, &r, &c->argv[2], &c->argv[3], &lo, &hi)))
        reply_int(c, (long long)(hi - lo));
}

void cmd_zcount(struct client *c)
{
    count_generic(c, BY_SCORE);
}

void cmd_zlexcount(struct client *c)
{
    count_generic(c, BY_LEX);
}

static void remrange_generic(struct client *c, enum zby by, const char *name)
{
    struct zrange r = {by, false, false, false, 0, -1};
    bool bad;
    size_t lo, hi, n;
    struct zset_elem *elems;
    struct db_entry *e;
    struct obj *o;
    char **copies;
    if (!range_interval(c, NULL, &r, &c->argv[2], &c->argv[3], &lo, &hi))
        return; /* the bounds before the key's type, as Redis */
    e = zset_logged(c, &bad);
    if (bad || (e && !range_interval(c, e->val, &r, &c->argv[2], &c->argv[3], &lo, &hi)))
        return;
    if (!e || hi == lo) {
        reply_int(c, 0);
        return;
    }
    elems = range_collect(e->val, &r, lo, hi, &n);
    /* Copy the members: each deletion may rebuild a packed set. */
    copies = mem_alloc(n * sizeof(*copies));
    for (size_t i = 0; i < n; i++) {
        copies[i] = mem_alloc(elems[i].mlen + 1);
        memcpy(copies[i], elems[i].m, elems[i].mlen);
        copies[i][elems[i].mlen] = '\0';
        elems[i].m = copies[i];
    }
    o = e->val;
    for (size_t i = 0; i < n; i++) {
        log_member(c, o, elems[i].m, elems[i].mlen);
        (void)zset_del(&o, elems[i].m, elems[i].mlen);
        mem_free(copies[i]);
    }
    mem_free(copies);
    mem_free(elems);
    store(c, e, o);
    effect_self(c, name);
    drop_if_empty(c, e);
    reply_int(c, (long long)n);
}

void cmd_zremrangebyrank(struct client *c)
{
    remrange_generic(c, BY_RANK, "ZREMRANGEBYRANK");
}

void cmd_zremrangebyscore(struct client *c)
{
    remrange_generic(c, BY_SCORE, "ZREMRANGEBYSCORE");
}

void cmd_zremrangebylex(struct client *c)
{
    remrange_generic(c, BY_LEX, "ZREMRANGEBYLEX");
}

/* ---- Pops -------------------------------------------------------------- */

/*
 * Pop up to count elements from the min (or max) end of entry e (key
 * argv[key]), replying them: nested pairs (ZMPOP, RESP3 with a count) or
 * flat. Records "ZPOPMIN|ZPOPMAX key count".
 */
static void pop_elems(struct client *c, struct db_entry *e, int key, bool max, long long count,
                      bool nested)
{
    struct obj *o = e->val;
    size_t n = zset_len(o), k = (unsigned long long)count < n ? (size_t)count : n;
    char num[UTIL_LL_STR_BYTES];
    int numlen = util_ll_to_str(num, sizeof(num), (long long)k);
    struct effect_arg args[3] = {max ? EFFECT_LIT("ZPOPMAX") : EFFECT_LIT("ZPOPMIN"),
                                 arg_of(c, key), EFFECT_ARG(num, (size_t)numlen)};
    reply_array(c, (long long)(nested ? k : k * 2));
    for (size_t i = 0; i < k; i++) {
        struct zset_iter it;
        struct zset_elem el;
        zset_iter_init(&it, o, max ? zset_len(o) - 1 : 0, max);
        (void)zset_iter_next(&it, &el);
        if (nested)
            reply_array(c, 2);
        reply_bulk(c, el.m, el.mlen);
        reply_double(c, el.score);
        pop_member(c, key, &o, el.m, el.mlen);
    }
    store(c, e, o);
    effect_add(c->db_index, 3, args);
    drop_if_empty(c, e);
}

static void zpop_generic(struct client *c, bool max)
{
    bool bad;
    long long count = 1;
    struct db_entry *e;
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3 && (!arg_ll(c, 2, &count) || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    e = zset_logged(c, &bad);
    if (bad)
        return;
    if (!e || count == 0) {
        reply_array(c, 0);
        return;
    }
    pop_elems(c, e, 1, max, count, c->argc == 3 && c->resp == 3);
}

void cmd_zpopmin(struct client *c)
{
    zpop_generic(c, false);
}

void cmd_zpopmax(struct client *c)
{
    zpop_generic(c, true);
}

/* numkeys key... MIN|MAX [COUNT n] from argv[first]. */
static bool parse_zmpop(struct client *c, int first, long long *numkeys, bool *max,
                        long long *count)
{
    return cmd_parse_mpop(c, first, "min", "max", numkeys, max, count);
}

/* ZMPOP from the first non-empty key; false (nothing replied) if none. */
static bool zmpop_first(struct client *c, int first, long long numkeys, bool max,
                        long long count)
{
    struct db_entry *e;
    int i = cmd_first_existing(c, first, first + (int)numkeys - 1, OBJ_ZSET, &e);
    if (i == -1)
        return false;
    if (i > 0) {
        reply_array(c, 2);
        reply_bulk(c, c->argv[i].p, c->argv[i].len);
        pop_elems(c, e, i, max, count, true);
    }
    return true;
}

void cmd_zmpop(struct client *c)
{
    long long numkeys, count;
    bool max;
    if (!parse_zmpop(c, 1, &numkeys, &max, &count))
        return;
    if (!zmpop_first(c, 2, numkeys, max, count))
        reply_null_array(c);
}

/* BZPOPMIN/BZPOPMAX keys... timeout. */
static void bzpop_generic(struct client *c, bool max)
{
    int64_t deadline;
    if (!cmd_parse_timeout(c, c->argc - 1, &deadline))
        return;
    {
        struct db_entry *e;
        int i = cmd_first_existing(c, 1, c->argc - 2, OBJ_ZSET, &e);
        if (i == -2)
            return;
        if (i > 0) {
            /* [key, member, score]: the pop's pair without its own header. */
            struct zset_iter it;
            struct zset_elem el;
            reply_array(c, 3);
            reply_bulk(c, c->argv[i].p, c->argv[i].len);
            zset_iter_init(&it, e->val, max ? zset_len(e->val) - 1 : 0, max);
            (void)zset_iter_next(&it, &el);
            reply_bulk(c, el.m, el.mlen);
            reply_double(c, el.score);
            {
                struct obj *o = e->val;
                struct effect_arg args[3] = {max ? EFFECT_LIT("ZPOPMAX") : EFFECT_LIT("ZPOPMIN"),
                                             arg_of(c, i), EFFECT_LIT("1")};
                pop_member(c, i, &o, el.m, el.mlen);
                store(c, e, o);
                effect_add(c->db_index, 3, args);
                drop_if_empty(c, e);
            }
            return;
        }
    }
    cmd_block_or_null(c, 1, c->argc - 2, deadline, false);
}

void cmd_bzpopmin(struct client *c)
{
    bzpop_generic(c, false);
}

void cmd_bzpopmax(struct client *c)
{
    bzpop_generic(c, true);
}

void cmd_bzmpop(struct client *c)
{
    long long numkeys, count;
    bool max;
    int64_t deadline;
    if (!cmd_parse_timeout(c, 1, &deadline) || !parse_zmpop(c, 2, &numkeys, &max, &count))
        return;
    if (!zmpop_first(c, 3, numkeys, max, count))
        cmd_block_or_null(c, 3, (int)numkeys, deadline, false);
}

/* ---- ZRANDMEMBER ------------------------------------------------------- */

void cmd_zrandmember(struct client *c)
{
    bool bad, withscores;
    long long count = 0;
    struct db_entry *e;
    size_t n;
    struct zset_elem *all;
    struct zrange r = {BY_RANK, false, false, false, 0, -1};
    if (!cmd_parse_rand(c, "withscores", &count, &withscores))
        return;
    e = zset_at_arg(c, 1, &bad);
    if (bad)
        return;
    if (c->argc == 2 && !e) {
        reply_null(c);
        return;
    }
    if (!e || (c->argc >= 3 && count == 0)) {
        reply_array(c, 0);
        return;
    }
    n = zset_len(e->val);
    if (c->argc == 2 || count < 0) {
        /* One or |count| independent picks: a random rank each, O(log n). */
        unsigned long long picks = c->argc == 2 ? 1 : (unsigned long long)(-count);
        if (c->argc >= 3)
            reply_elems_header(c, (size_t)picks, withscores);
        for (unsigned long long i = 0; i < picks && !client_gone(c); i++) {
            struct zset_iter it;
            struct zset_elem el;
            zset_iter_init(&it, e->val, (size_t)(util_rand_u64() % n), false);
            (void)zset_iter_next(&it, &el);
            if (c->argc == 2)
                reply_bulk(c, el.m, el.mlen);
            else
                reply_elem(c, &el, withscores);
        }
        return;
    }
    if ((unsigned long long)count * 3 < n) {
        /* Few of many: k random distinct ranks, O(log n) each. */
        size_t k = (size_t)count, *ranks = cmd_pick_few_indexes(n, k);
        if (ranks) {
            reply_elems_header(c, k, withscores);
            for (size_t i = 0; i < k; i++) {
                struct zset_iter it;
                struct zset_elem el;
                zset_iter_init(&it, e->val, ranks[i], false);
                (void)zset_iter_next(&it, &el);
                reply_elem(c, &el, withscores);
            }
            mem_free(ranks);
            return;
        }
    }
    all = range_collect(e->val, &r, 0, n, &n);
    {
        size_t k = (unsigned long long)count < n ? (size_t)count : n;
        reply_elems_header(c, k, withscores);
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)(util_rand_u64() % (n - i));
            struct zset_elem t = all[i];
            all[i] = all[j];
            all[j] = t;
            reply_elem(c, &all[i], withscores);
        }
    }
    mem_free(all);
}

/* ---- ZUNION, ZINTER, ZDIFF and their STORE forms, ZINTERCARD ------------ */

enum zop { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum zagg { AGG_SUM, AGG_MIN, AGG_MAX };

/* One input: a sorted set, a set (every score 1), or missing (NULL). */
struct zin {
    const struct obj *o;
    double weight;
};

static bool in_has(const struct zin *in, const char *m, size_t len, double *score)
{
    if (!in->o)
        return false;
    if (in->o->type == OBJ_SET) {
        *score = 1.0;
        return set_has(in->o, m, len);
    }
    return zset_score(in->o, m, len, score);
}

static size_t in_len(const struct zin *in)
{
    return !in->o ? 0 : in->o->type == OBJ_SET ? set_len(in->o) : zset_len(in->o);
}

static double weighted(double score, double weight)
{
    double v = score * weight;
    return isnan(v) ? 0 : v; /* inf * 0, as Redis */
}

/* Fold val into acc. A NaN val (inf * 0) leaves MIN and MAX unchanged (the
 * comparison is false) and makes SUM 0, as Redis; acc is never NaN. */
static double aggregate(enum zagg agg, double acc, double val)
{
    double v;
    if (agg == AGG_MIN)
        return val < acc ? val : acc;
    if (agg == AGG_MAX)
        return val > acc ? val : acc;
    v = acc + val;
    return isnan(v) ? 0 : v; /* inf + -inf, or a NaN val */
}

/* Visit one member of an input; false stops the walk (ZINTERCARD's LIMIT). */
typedef bool zin_visit_fn(const char *m, size_t len, double score, void *ctx);

static void in_foreach(const struct zin *in, zin_visit_fn *fn, void *ctx)
{
    if (!in->o)
        return;
    if (in->o->type == OBJ_SET) {
        struct set_member *all = set_members(in->o);
        size_t n = set_len(in->o);
        for (size_t i = 0; i < n && fn(all[i].p, all[i].len, 1.0, ctx); i++)
            ;
        mem_free(all);
        return;
    }
    {
        struct zset_iter it;
        struct zset_elem el;
        zset_iter_init(&it, in->o, 0, false);
        while (zset_iter_next(&it, &el) && fn(el.m, el.mlen, el.score, ctx))
            ;
    }
}

struct zop_ctx {
    struct obj *out;        /* result being built */
    const struct zin *ins;  /* inputs, smallest first (UNION, INTER) */
    int nin;                /* number of inputs */
    int self;               /* index of the input being walked */
    enum zop op;
    enum zagg agg;
    size_t limit;           /* ZINTERCARD: stop at this many (0 = none) */
};

static bool zop_visit(const char *m, size_t len, double score, void *arg)
{
    struct zop_ctx *x = arg;
    double acc = weighted(score, x->ins[x->self].weight), cur;
    if (x->op == ZOP_UNION) {
        /* As Redis 7.0: in a union every input's weighted score has NaN
         * (inf * 0) as 0 before it is aggregated. */
        if (zset_score(x->out, m, len, &cur)) {
            acc = aggregate(x->agg, cur, acc);
            if (acc == cur && signbit(acc) != signbit(cur))
                (void)zset_del(&x->out, m, len); /* -0 + 0 is 0: zset_set keeps an equal score */
        }
        (void)zset_set(&x->out, m, len, acc);
        return true;
    }
    for (int i = 0; i < x->nin; i++) {
        double s;
        bool has;
        if (i == x->self || (x->op == ZOP_DIFF && i == 0))
            continue;
        has = in_has(&x->ins[i], m, len, &s);
        if (x->op == ZOP_DIFF ? has : !has)
            return true;
        /* Redis: only the first input's NaN (inf * 0) becomes 0; the
         * others are aggregated as they are (MIN/MAX then keep acc). */
        if (x->op == ZOP_INTER)
            acc = aggregate(x->agg, acc, s * x->ins[i].weight);
    }
    if (x->op == ZOP_DIFF)
        acc = score;
    (void)zset_set(&x->out, m, len, acc);
    return !(x->limit && zset_len(x->out) >= x->limit);
}

/* Sort inputs by size, smallest first, keeping the order of equals (Redis
 * aggregates in this order, which floating-point sums can tell). */
static void sort_by_size(struct zin *ins, int n)
{
    for (int i = 1; i < n; i++) {
        struct zin t = ins[i];
        int j = i;
        for (; j > 0 && in_len(&ins[j - 1]) > in_len(&t); j--)
            ins[j] = ins[j - 1];
        ins[j] = t;
    }
}

/* Compute the result of op into a new sorted set. */
static struct obj *zop_compute(enum zop op, enum zagg agg, struct zin *ins, int n, size_t limit)
{
    /* As Redis: the result is built as a skiplist, so -0 scores survive
     * into ZUNION/ZINTER/ZDIFF replies; a stored result is packed if it
     * fits (zop_store), which makes them 0. */
    struct zop_ctx x = {zset_new_skiplist(), ins, n, 0, op, agg, limit};
    if (op != ZOP_DIFF)
        sort_by_size(ins, n);
    if (op == ZOP_UNION) {
        for (int i = 0; i < n; i++) {
            x.self = i;
            in_foreach(&ins[i], zop_visit, &x);
        }
        return x.out;
    }
    if (op == ZOP_INTER && !ins[0].o)
        return x.out; /* a missing input: empty */
    in_foreach(&ins[0], zop_visit, &x);
    return x.out;
}

/*
 * Parse "numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]"
 * from argv[first] and load the inputs. Returns the inputs (mem_free) or
 * NULL after replying the error.
 */
static struct zin *parse_zop(struct client *c, int first, enum zop op, bool allow_scores,
                             int *nin, enum zagg *agg, bool *withscores, size_t *limit)
{
    long long numkeys;
    struct zin *ins;
    int i;
    *agg = AGG_SUM;
    *withscores = false;
    if (!arg_ll(c, first, &numkeys)) {
        reply_err_not_int(c);
        return NULL;
    }
    if (numkeys < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->name);
        return NULL;
    }
    if (numkeys > c->argc - first - 1) {
        reply_err_syntax(c);
        return NULL;
    }
    ins = mem_alloc((size_t)numkeys * sizeof(*ins));
    /* As Redis: the inputs' types are checked before the options. */
    for (i = 0; i < numkeys; i++) {
        struct db_entry *e = lookup_read(c, first + 1 + i);
        if (e && e->val->type != OBJ_ZSET && e->val->type != OBJ_SET) {
            reply_err_wrongtype(c);
            goto bad;
        }
        ins[i].o = e ? e->val : NULL;
        ins[i].weight = 1.0;
    }
    for (i = first + 1 + (int)numkeys; i < c->argc; i++) {
        if (limit && client_arg_is(c, i, "limit") && i + 1 < c->argc) {
            long long l;
            if (!arg_ll(c, i + 1, &l) || l < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                goto bad;
            }
            *limit = (size_t)l;
            i++;
        } else if (op != ZOP_DIFF && !limit && client_arg_is(c, i, "weights") &&
                   i + numkeys < c->argc) {
            for (int k = 0; k < numkeys; k++) {
                const struct client_arg *a = &c->argv[i + 1 + k];
                if (!util_str_to_double(a->p, a->len, &ins[k].weight)) {
                    reply_error(c, "ERR weight value is not a float");
                    goto bad;
                }
            }
            i += (int)numkeys;
        } else if (op != ZOP_DIFF && !limit && client_arg_is(c, i, "aggregate") &&
                   i + 1 < c->argc) {
            i++;
            if (client_arg_is(c, i, "sum"))
                *agg = AGG_SUM;
            else if (client_arg_is(c, i, "min"))
                *agg = AGG_MIN;
            else if (client_arg_is(c, i, "max"))
                *agg = AGG_MAX;
            else {
                reply_err_syntax(c);
                goto bad;
            }
        } else if (allow_scores && client_arg_is(c, i, "withscores")) {
            *withscores = true;
        } else {
            reply_err_syntax(c);
            goto bad;
        }
    }
    *nin = (int)numkeys;
    return ins;
bad:
    mem_free(ins);
    return NULL;
}

static void zop_reply(struct client *c, enum zop op)
{
    int n;
    enum zagg agg;
    bool withscores;
    struct zin *ins = parse_zop(c, 1, op, true, &n, &agg, &withscores, NULL);
    struct obj *out;
    struct zset_iter it;
    struct zset_elem el;
    if (!ins)
        return;
    out = zop_compute(op, agg, ins, n, 0);
    mem_free(ins);
    reply_elems_header(c, zset_len(out), withscores);
    zset_iter_init(&it, out, 0, false);
    while (zset_iter_next(&it, &el))
        reply_elem(c, &el, withscores);
    obj_delete(out);
}

static void zop_store(struct client *c, enum zop op, const char *name)
{
    int n;
    enum zagg agg;
    bool withscores;
    struct zin *ins = parse_zop(c, 2, op, false, &n, &agg, &withscores, NULL);
    struct obj *out;
    if (!ins)
        return;
    out = zset_pack_if_fits(zop_compute(op, agg, ins, n, 0));
    mem_free(ins);
    reply_int(c, (long long)zset_len(out));
    if (zset_len(out) > 0) {
        (void)db_set(c->db, c->argv[1].p, c->argv[1].len, out, false);
        effect_self(c, name);
    } else {
        obj_delete(out);
        if (db_delete(c->db, c->argv[1].p, c->argv[1].len))
            effect_self(c, name);
    }
}

void cmd_zunion(struct client *c)
{
    zop_reply(c, ZOP_UNION);
}

void cmd_zinter(struct client *c)
{
    zop_reply(c, ZOP_INTER);
}

void cmd_zdiff(struct client *c)
{
    zop_reply(c, ZOP_DIFF);
}

void cmd_zunionstore(struct client *c)
{
    zop_store(c, ZOP_UNION, "ZUNIONSTORE");
}

void cmd_zinterstore(struct client *c)
{
    zop_store(c, ZOP_INTER, "ZINTERSTORE");
}

void cmd_zdiffstore(struct client *c)
{
    zop_store(c, ZOP_DIFF, "ZDIFFSTORE");
}

void cmd_zintercard(struct client *c)
{
    int n;
    enum zagg agg;
    bool withscores;
    size_t limit = 0;
    struct zin *ins = parse_zop(c, 1, ZOP_INTER, false, &n, &agg, &withscores, &limit);
    struct obj *out;
    if (!ins)
        return;
    out = zop_compute(ZOP_INTER, AGG_SUM, ins, n, limit);
    mem_free(ins);
    reply_int(c, (long long)zset_len(out));
    obj_delete(out);
}

/* ---- ZSCAN ------------------------------------------------------------- */

/* The encoding of the set being scanned: Redis's listpack keeps scores as
 * text and ZSCAN returns that text, integers in decimal. */
static bool zscan_packed;

static void zscan_visit(const struct zset_elem *e, void *arg)
{
    struct cmd_scan *x = arg;
    char num[UTIL_DOUBLE_STR_BYTES];
    int len;
    if (!cmd_scan_match(x, e->m, e->mlen))
        return;
    /* Redis's double2ll: integral and within +-(LLONG_MAX / 2) as doubles. */
    if (zscan_packed && e->score >= (double)(-LLONG_MAX / 2) &&
        e->score <= (double)(LLONG_MAX / 2) && e->score == (double)(long long)e->score)
        len = util_ll_to_str(num, sizeof(num), (long long)e->score);
    else
        len = util_double_to_str(num, sizeof(num), e->score);
    resp_w_bulk(&x->out, e->m, e->mlen);
    resp_w_bulk(&x->out, num, (size_t)len); /* scores are strings in SCAN replies */
    x->count++;
}

static uint64_t zscan_step(const struct obj *o, uint64_t cursor, struct cmd_scan *x)
{
    zscan_packed = o->encoding == OBJ_ENC_PACKED;
    return zset_scan(o, cursor, zscan_visit, x);
}

void cmd_zscan(struct client *c)
{
    cmd_scan_key(c, OBJ_ZSET, zscan_step, 2);
}
