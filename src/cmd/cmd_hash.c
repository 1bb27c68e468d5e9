/*
 * cmd_hash.c - hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HDEL
 * HLEN HSTRLEN HEXISTS HKEYS HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * Design
 *   Values are db/hash.h objects. A change may move a packed hash, so
 *   handlers store the pointer back with store(); a hash left empty is
 *   deleted with its key, as in Redis.
 *
 *   Effects: HSET/HMSET/HSETNX record "HSET key f v ..." of what was set,
 *   HDEL and HINCRBY their own command (deterministic), HINCRBYFLOAT the
 *   HSET of its result (float arithmetic is never replayed).
 *
 * Invariants
 *   (1) No hash in the keyspace is empty.
 *   (2) Every loop over a client-chosen count stops when the client is
 *       being closed (its output limit was hit), so HRANDFIELD -1e18
 *       cannot hold the loop.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "cmd/cmd_util.h"
#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/hash.h"
#include "db/set.h"
#include "db/undo.h"
#include "proto/resp_write.h"
#include "server/reply.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The hash at argv[1] for reading; NULL if missing. Replies WRONGTYPE and
 * sets *bad if the key holds another type. */
static struct db_entry *read_hash(struct client *c, bool *bad)
{
    struct db_entry *e = lookup_read(c, 1);
    *bad = false;
    if (e && e->val->type != OBJ_HASH) {
        reply_err_wrongtype(c);
        *bad = true;
        return NULL;
    }
    return e;
}

/* The same for a field-level write (HSET, HDEL, HINCRBY...): each command
 * logs the fields it changes to the undo log (undo_hash_field) instead of
 * a copy of the whole hash being saved. */
static struct db_entry *write_hash(struct client *c, bool *bad)
{
    struct db_entry *e = db_lookup_write_logged(c->db, c->argv[1].p, c->argv[1].len);
    *bad = false;
    if (e && e->val->type != OBJ_HASH) {
        reply_err_wrongtype(c);
        *bad = true;
        return NULL;
    }
    return e;
}

/* Field argv[i] of o (argv[1]'s hash) is about to change: log it. */
static void log_field(struct client *c, const struct obj *o, int i)
{
    undo_hash_field(c->db, c->argv[1].p, c->argv[1].len, o, c->argv[i].p, c->argv[i].len);
}

/* Store a (possibly moved) hash back into its entry. */
static void store(struct client *c, struct db_entry *e, struct obj *o)
{
    e->val = o;
    db_replace_value(c->db, e, o);
}

/* Record "<name> argv[1] argv[first..argc)" as one effect. */
static void effect_args(struct client *c, const char *name, int first)
{
    int argc = 2 + c->argc - first;
    struct effect_arg stack[16];
    struct effect_arg *args = argc <= 16 ? stack : mem_alloc((size_t)argc * sizeof(*args));
    args[0] = EFFECT_ARG(name, strlen(name));
    args[1] = arg_of(c, 1);
    for (int i = first; i < c->argc; i++)
        args[2 + i - first] = arg_of(c, i);
    effect_add(c->db_index, argc, args);
    if (args != stack)
        mem_free(args);
}

/* Set the pairs argv[2..]; returns the number of new fields. */
static long long set_pairs(struct client *c, struct db_entry *e)
{
    struct obj *o = e ? e->val : hash_new();
    long long added = 0;
    for (int i = 2; i + 1 < c->argc; i += 2) {
        if (e)
            log_field(c, o, i);
        added += hash_set(&o, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p,
                          c->argv[i + 1].len);
    }
    if (e)
        store(c, e, o);
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    effect_args(c, "HSET", 2);
    return added;
}

static bool pairs_ok(struct client *c)
{
    if (c->argc % 2 == 0)
        return true;
    reply_err_arity(c);
    return false;
}

void cmd_hset(struct client *c)
{
    bool bad;
    struct db_entry *e;
    if (!pairs_ok(c))
        return;
    e = write_hash(c, &bad);
    if (!bad)
        reply_int(c, set_pairs(c, e));
}

void cmd_hmset(struct client *c)
{
    bool bad;
    struct db_entry *e;
    if (!pairs_ok(c))
        return;
    e = write_hash(c, &bad);
    if (bad)
        return;
    (void)set_pairs(c, e);
    reply_ok(c);
}

void cmd_hsetnx(struct client *c)
{
    bool bad;
    struct db_entry *e = write_hash(c, &bad);
    const char *v;
    size_t vlen;
    if (bad)
        return;
    if (e && hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen)) {
        reply_int(c, 0);
        return;
    }
    (void)set_pairs(c, e);
    reply_int(c, 1);
}

void cmd_hget(struct client *c)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    const char *v;
    size_t vlen;
    if (bad)
        return;
    if (e && hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen))
        reply_bulk(c, v, vlen);
    else
        reply_null(c);
}

void cmd_hmget(struct client *c)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    if (bad)
        return;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const char *v;
        size_t vlen;
        if (e && hash_get(e->val, c->argv[i].p, c->argv[i].len, &v, &vlen))
            reply_bulk(c, v, vlen);
        else
            reply_null(c);
    }
}

void cmd_hdel(struct client *c)
{
    bool bad;
    struct db_entry *e = write_hash(c, &bad);
    long long deleted = 0;
    if (bad)
        return;
    if (e) {
        struct obj *o = e->val;
        for (int i = 2; i < c->argc; i++) {
            log_field(c, o, i);
            deleted += hash_del(&o, c->argv[i].p, c->argv[i].len);
        }
        store(c, e, o);
        if (deleted > 0) {
            effect_args(c, "HDEL", 2);
            if (hash_len(o) == 0)
                db_delete_entry(c->db, e); /* invariant 1 */
        }
    }
    reply_int(c, deleted);
}

void cmd_hlen(struct client *c)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    if (!bad)
        reply_int(c, e ? (long long)hash_len(e->val) : 0);
}

void cmd_hstrlen(struct client *c)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    const char *v;
    size_t vlen = 0;
    if (bad)
        return;
    if (!e || !hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen))
        vlen = 0;
    reply_int(c, (long long)vlen);
}

void cmd_hexists(struct client *c)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    const char *v;
    size_t vlen;
    if (!bad)
        reply_int(c, e && hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen));
}

enum which { FIELDS = 1, VALUES = 2, BOTH = 3 };

/* Reply fields, values or both of all pairs (HKEYS, HVALS, HGETALL). */
static void reply_all(struct client *c, enum which w)
{
    bool bad;
    struct db_entry *e = read_hash(c, &bad);
    size_t n;
    struct hash_pair *all;
    if (bad)
        return;
    n = e ? hash_len(e->val) : 0;
    if (w == BOTH)
        reply_map(c, (long long)n);
    else
        reply_array(c, (long long)n);
    all = e ? hash_pairs(e->val) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (w & FIELDS)
            reply_bulk(c, all[i].f, all[i].flen);
        if (w & VALUES)
            reply_bulk(c, all[i].v, all[i].vlen);
    }
    mem_free(all);
}

void cmd_hkeys(struct client *c)
{
    reply_all(c, FIELDS);
}

void cmd_hvals(struct client *c)
{
    reply_all(c, VALUES);
}

void cmd_hgetall(struct client *c)
{
    reply_all(c, BOTH);
}

void cmd_hincrby(struct client *c)
{
    bool bad;
    struct db_entry *e;
    long long delta, old = 0;
    const char *v;
    size_t vlen;
    char out[UTIL_LL_STR_BYTES];
    int len;
    struct obj *o;
    if (!arg_ll(c, 3, &delta)) {
        reply_err_not_int(c);
        return;
    }
    e = write_hash(c, &bad);
    if (bad)
        return;
    if (e && hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen) &&
        !util_str_to_ll(v, vlen, &old)) {
        reply_error(c, "ERR hash value is not an integer");
        return;
    }
    if ((delta < 0 && old < 0 && delta < LLONG_MIN - old) ||
        (delta > 0 && old > 0 && delta > LLONG_MAX - old)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    len = util_ll_to_str(out, sizeof(out), old + delta);
    o = e ? e->val : hash_new();
    if (e)
        log_field(c, o, 2);
    (void)hash_set(&o, c->argv[2].p, c->argv[2].len, out, (size_t)len);
    if (e)
        store(c, e, o);
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    effect_args(c, "HINCRBY", 2);
    reply_int(c, old + delta);
}

void cmd_hincrbyfloat(struct client *c)
{
    bool bad;
    struct db_entry *e;
    long double value = 0, incr;
    const char *v;
    size_t vlen;
    char out[UTIL_LD_STR_BYTES];
    int len;
    struct obj *o;
    if (!util_str_to_ld(c->argv[3].p, c->argv[3].len, &incr)) {
        reply_err_not_float(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    e = write_hash(c, &bad);
    if (bad)
        return;
    if (e && hash_get(e->val, c->argv[2].p, c->argv[2].len, &v, &vlen) &&
        !util_str_to_ld(v, vlen, &value)) {
        reply_error(c, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    len = util_ld_to_str(out, sizeof(out), value, true);
    ASSERT(len > 0);
    o = e ? e->val : hash_new();
    if (e)
        log_field(c, o, 2);
    (void)hash_set(&o, c->argv[2].p, c->argv[2].len, out, (size_t)len);
    if (e)
        store(c, e, o);
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    {
        struct effect_arg args[4] = {EFFECT_LIT("HSET"), arg_of(c, 1), arg_of(c, 2),
                                     EFFECT_ARG(out, (size_t)len)};
        effect_add(c->db_index, 4, args);
    }
    reply_bulk(c, out, (size_t)len);
}

/* ---- HRANDFIELD -------------------------------------------------------- */

static bool client_gone(const struct client *c)
{
    return (c->flags & CLIENT_CLOSE_ASAP) != 0;
}

static void reply_pair(struct client *c, const struct hash_pair *p, bool withvalues)
{
    if (withvalues && c->resp == 3)
        reply_array(c, 2);
    reply_bulk(c, p->f, p->flen);
    if (withvalues)
        reply_bulk(c, p->v, p->vlen);
}

/*
 * HRANDFIELD with a positive count of at most a third of the fields: k
 * distinct fields by repeated O(1) random picks, remembered in a set of
 * field names, O(k) instead of a copy and shuffle of the whole hash.
 * Replies only if it found all k (true); false, having replied nothing,
 * if the picks stalled.
 */
static bool reply_few_random(struct client *c, const struct obj *h, size_t k, bool withvalues)
{
    struct hash_pair *got = mem_alloc(k * sizeof(*got));
    struct obj *seen = NULL;
    size_t have = 0;
    for (size_t tries = 0; have < k && tries < k * RANDOM_PICK_TRIES_PER_ITEM_MAX; tries++) {
        struct hash_pair p;
        hash_random(h, &p);
        if (!seen)
            seen = set_new_for(p.f, p.flen);
        if (set_add(&seen, p.f, p.flen))
            got[have++] = p;
    }
    if (seen)
        set_free(seen);
    if (have == k) {
        reply_array(c, (long long)(withvalues && c->resp == 2 ? k * 2 : k));
        for (size_t i = 0; i < k; i++)
            reply_pair(c, &got[i], withvalues);
    }
    mem_free(got);
    return have == k;
}

void cmd_hrandfield(struct client *c)
{
    bool bad, withvalues = false;
    struct db_entry *e;
    long long count;
    size_t n;
    struct hash_pair *all;
    if (!cmd_parse_rand(c, "withvalues", &count, &withvalues))
        return;
    e = read_hash(c, &bad);
    if (bad)
        return;
    if (c->argc == 2) {
        struct hash_pair p;
        if (!e) {
            reply_null(c);
            return;
        }
        hash_random(e->val, &p);
        reply_bulk(c, p.f, p.flen);
        return;
    }
    n = e ? hash_len(e->val) : 0;
    if (!e || count == 0) {
        reply_array(c, 0);
        return;
    }
    if (count < 0) {
        /* Repeats allowed: |count| independent O(1) picks. */
        unsigned long long picks = (unsigned long long)(-count);
        reply_array(c, (long long)(withvalues && c->resp == 2 ? picks * 2 : picks));
        for (unsigned long long i = 0; i < picks && !client_gone(c); i++) {
            struct hash_pair p;
            hash_random(e->val, &p);
            reply_pair(c, &p, withvalues);
        }
        return;
    }
    if ((unsigned long long)count * 3 < n && reply_few_random(c, e->val, (size_t)count, withvalues))
        return;
    all = hash_pairs(e->val);
    {
        /* Distinct: a partial Fisher-Yates shuffle of the pairs. */
        size_t picks = (unsigned long long)count < n ? (size_t)count : n;
        reply_array(c, (long long)(withvalues && c->resp == 2 ? picks * 2 : picks));
        for (size_t i = 0; i < picks; i++) {
            size_t j = i + (size_t)(util_rand_u64() % (n - i));
            struct hash_pair tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
            reply_pair(c, &all[i], withvalues);
        }
    }
    mem_free(all);
}

/* ---- HSCAN ------------------------------------------------------------- */

static void hscan_visit(const struct hash_pair *p, void *arg)
{
    struct cmd_scan *x = arg;
    if (!cmd_scan_match(x, p->f, p->flen))
        return;
    resp_w_bulk(&x->out, p->f, p->flen);
    resp_w_bulk(&x->out, p->v, p->vlen);
    x->count++;
}

static uint64_t hscan_step(const struct obj *o, uint64_t cursor, struct cmd_scan *x)
{
    return hash_scan(o, cursor, hscan_visit, x);
}

void cmd_hscan(struct client *c)
{
    cmd_scan_key(c, OBJ_HASH, hscan_step, 2);
}
