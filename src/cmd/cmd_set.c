/*
 * cmd_set.c - set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
 * SDIFF SDIFFSTORE SSCAN.
 *
 * Design
 *   Values are db/set.h objects. Changes may move an intset, so handlers
 *   store the pointer back (store()); a set left empty is deleted with its
 *   key, as in Redis.
 *
 *   Effects: SADD/SREM record themselves; SPOP records the SREM of the
 *   members it chose (DEL when it took them all), SMOVE an SREM and an
 *   SADD; the *STORE commands record themselves (deterministic given the
 *   state the WAL order reproduces).
 *
 *   Random picks (SPOP, SRANDMEMBER) list the members and shuffle an index
 *   array: O(size) per call, simple and uniform.
 *
 * Invariants
 *   (1) No set in the keyspace is empty.
 *   (2) Loops over a client-chosen count stop when the client is being
 *       closed (its output limit was hit).
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
#include "db/set.h"
#include "db/undo.h"
#include "proto/resp_write.h"
#include "server/reply.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Key argv[i] as a set: NULL if missing. Replies WRONGTYPE and sets *bad
 * if it holds another type. */
static struct db_entry *as_set(struct client *c, struct db_entry *e, bool *bad)
{
    *bad = false;
    if (e && e->val->type != OBJ_SET) {
        reply_err_wrongtype(c);
        *bad = true;
        return NULL;
    }
    return e;
}

/* Key argv[i] as a set, for reading. */
static struct db_entry *set_at(struct client *c, int i, bool *bad)
{
    return as_set(c, lookup_read(c, i), bad);
}

/* Key argv[i] for SADD, SREM, SPOP and SMOVE, which log each member they
 * change to the undo log (log_member) instead of a copy of the whole set
 * being saved. */
static struct db_entry *lookup_logged(struct client *c, int i)
{
    return db_lookup_write_logged(c->db, c->argv[i].p, c->argv[i].len);
}

static struct db_entry *set_logged(struct client *c, bool *bad)
{
    return as_set(c, lookup_logged(c, 1), bad);
}

/* Member (p, len) of o (argv[key]'s set) is about to change: log it. */
static void log_member_of(struct client *c, int key, const struct obj *o, const char *p,
                          size_t len)
{
    undo_set_member(c->db, c->argv[key].p, c->argv[key].len, o, p, len);
}

/* Member argv[i] of o (argv[1]'s set) is about to change: log it. */
static void log_member(struct client *c, const struct obj *o, int i)
{
    log_member_of(c, 1, o, c->argv[i].p, c->argv[i].len);
}

static void store(struct client *c, struct db_entry *e, struct obj *o)
{
    e->val = o;
    db_replace_value(c->db, e, o);
}

/* Record "<name> argv[first..argc)" (name replaces nothing: argv[first] is
 * the key). */
static void effect_argv(struct client *c, const char *name, int first)
{
    int argc = 1 + c->argc - first;
    struct effect_arg stack[16];
    struct effect_arg *args = argc <= 16 ? stack : mem_alloc((size_t)argc * sizeof(*args));
    args[0] = EFFECT_ARG(name, strlen(name));
    for (int i = first; i < c->argc; i++)
        args[1 + i - first] = arg_of(c, i);
    effect_add(c->db_index, argc, args);
    if (args != stack)
        mem_free(args);
}

static bool client_gone(const struct client *c)
{
    return (c->flags & CLIENT_CLOSE_ASAP) != 0;
}

void cmd_sadd(struct client *c)
{
    bool bad;
    struct db_entry *e = set_logged(c, &bad);
    struct obj *o;
    long long added = 0;
    if (bad)
        return;
    o = e ? e->val : set_new_for(c->argv[2].p, c->argv[2].len);
    for (int i = 2; i < c->argc; i++) {
        if (e)
            log_member(c, o, i);
        added += set_add(&o, c->argv[i].p, c->argv[i].len);
    }
    if (e)
        store(c, e, o);
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    if (added > 0)
        effect_argv(c, "SADD", 1);
    reply_int(c, added);
}

/* Remove members from entry e of c's db; deletes the key if emptied.
 * Returns the number removed. */
static long long remove_members(struct client *c, struct db_entry *e, int first)
{
    struct obj *o = e->val;
    long long removed = 0;
    for (int i = first; i < c->argc; i++) {
        log_member(c, o, i);
        removed += set_rem(&o, c->argv[i].p, c->argv[i].len);
    }
    store(c, e, o);
    if (set_len(o) == 0)
        db_delete_entry(c->db, e); /* invariant 1 */
    return removed;
}

void cmd_srem(struct client *c)
{
    bool bad;
    struct db_entry *e = set_logged(c, &bad);
    long long removed;
    if (bad)
        return;
    if (!e) {
        reply_int(c, 0);
        return;
    }
    removed = remove_members(c, e, 2);
    if (removed > 0)
        effect_argv(c, "SREM", 1);
    reply_int(c, removed);
}

static void reply_members(struct client *c, const struct set_member *all, size_t n, bool as_set)
{
    if (as_set)
        reply_set(c, (long long)n);
    else
        reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_bulk(c, all[i].p, all[i].len);
}

void cmd_smembers(struct client *c)
{
    bool bad;
    struct db_entry *e = set_at(c, 1, &bad);
    struct set_member *all;
    if (bad)
        return;
    all = e ? set_members(e->val) : NULL;
    reply_members(c, all, e ? set_len(e->val) : 0, true);
    mem_free(all);
}

void cmd_sismember(struct client *c)
{
    bool bad;
    struct db_entry *e = set_at(c, 1, &bad);
    if (!bad)
        reply_int(c, e && set_has(e->val, c->argv[2].p, c->argv[2].len));
}

void cmd_smismember(struct client *c)
{
    bool bad;
    struct db_entry *e = set_at(c, 1, &bad);
    if (bad)
        return;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_int(c, e && set_has(e->val, c->argv[i].p, c->argv[i].len));
}

void cmd_scard(struct client *c)
{
    bool bad;
    struct db_entry *e = set_at(c, 1, &bad);
    if (!bad)
        reply_int(c, e ? (long long)set_len(e->val) : 0);
}

/* A random permutation prefix: idx[0..k) distinct indexes below n. */
static size_t *pick_distinct(size_t n, size_t k)
{
    size_t *idx = mem_alloc(n * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(util_rand_u64() % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return idx;
}

/* k distinct random members of o (k < set_len / 3) as copies in a new set
 * object, by repeated O(1) picks; NULL if the picks stall (ht_random is not
 * perfectly uniform), then the caller shuffles instead. */
static struct obj *pick_few(const struct obj *o, size_t k)
{
    struct obj *got = NULL;
    for (size_t tries = 0; tries < (k + 1) * RANDOM_PICK_TRIES_PER_ITEM_MAX; tries++) {
        struct set_member m;
        set_random(o, &m);
        if (!got)
            got = set_new_for(m.p, m.len);
        (void)set_add(&got, m.p, m.len);
        if (set_len(got) == k)
            return got;
    }
    if (got)
        set_free(got);
    return NULL;
}

/* dst = src, pointing into dst's own number buffer for an intset member. */
static void copy_member(struct set_member *dst, const struct set_member *src)
{
    *dst = *src;
    if (src->p == src->num)
        dst->p = dst->num;
}

void cmd_spop(struct client *c)
{
    bool bad;
    struct db_entry *e;
    long long count = 1;
    size_t n, k;
    struct set_member *chosen;
    struct obj *few = NULL, *o;
    struct effect_arg *args;
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3 && (!arg_ll(c, 2, &count) || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    e = set_logged(c, &bad);
    if (bad)
        return;
    if (!e || count == 0) {
        if (c->argc == 2)
            reply_null(c);
        else
            reply_set(c, 0);
        return;
    }
    o = e->val;
    n = set_len(o);
    k = (unsigned long long)count < n ? (size_t)count : n;
    /* Few of many: O(k) random picks; otherwise list and shuffle, O(n). */
    if (k * 3 < n && (few = pick_few(o, k)) != NULL) {
        chosen = set_members(few);
    } else {
        struct set_member *all = set_members(o);
        size_t *idx = pick_distinct(n, k);
        chosen = mem_alloc(k * sizeof(*chosen));
        for (size_t i = 0; i < k; i++)
            copy_member(&chosen[i], &all[idx[i]]);
        mem_free(idx);
        mem_free(all);
    }
    if (c->argc == 2)
        reply_bulk(c, chosen[0].p, chosen[0].len);
    else
        reply_set(c, (long long)k);
    args = mem_alloc((k + 2) * sizeof(*args));
    args[0] = EFFECT_LIT("SREM");
    args[1] = arg_of(c, 1);
    for (size_t i = 0; i < k; i++) {
        if (c->argc == 3)
            reply_bulk(c, chosen[i].p, chosen[i].len);
        args[2 + i] = EFFECT_ARG(chosen[i].p, chosen[i].len);
    }
    if (k == n) {
        struct effect_arg del[2] = {EFFECT_LIT("DEL"), arg_of(c, 1)};
        effect_add(c->db_index, 2, del);
    } else {
        effect_add(c->db_index, (int)k + 2, args);
    }
    /* Remove after encoding: table members borrow from o, and each removal
     * frees only its own node. */
    for (size_t i = 0; i < k; i++) {
        bool removed;
        log_member_of(c, 1, o, chosen[i].p, chosen[i].len);
        removed = set_rem(&o, chosen[i].p, chosen[i].len);
        ASSERT(removed);
        (void)removed;
    }
    mem_free(args);
    mem_free(chosen);
    if (few)
        set_free(few);
    store(c, e, o);
    if (set_len(o) == 0)
        db_delete_entry(c->db, e);
}

void cmd_srandmember(struct client *c)
{
    bool bad;
    struct db_entry *e;
    long long count;
    size_t n;
    struct set_member m, *all;
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3 && !arg_ll(c, 2, &count)) {
        reply_err_not_int(c);
        return;
    }
    if (c->argc == 3 && count == LLONG_MIN) {
        reply_error(c, ERR_COUNT_RANGE);
        return;
    }
    e = set_at(c, 1, &bad);
    if (bad)
        return;
    if (c->argc == 2) {
        if (!e) {
            reply_null(c);
            return;
        }
        set_random(e->val, &m);
        reply_bulk(c, m.p, m.len);
        return;
    }
    if (!e || count == 0) {
        reply_array(c, 0);
        return;
    }
    n = set_len(e->val);
    if (count < 0) {
        unsigned long long picks = (unsigned long long)(-count);
        reply_array(c, (long long)picks);
        for (unsigned long long i = 0; i < picks && !client_gone(c); i++) {
            set_random(e->val, &m);
            reply_bulk(c, m.p, m.len);
        }
        return;
    }
    if ((unsigned long long)count * 3 < n) {
        /* Few of many: O(count) picks, not a copy of the whole set. */
        struct obj *few = pick_few(e->val, (size_t)count);
        if (few) {
            size_t k = set_len(few);
            all = set_members(few);
            reply_array(c, (long long)k);
            for (size_t i = 0; i < k; i++)
                reply_bulk(c, all[i].p, all[i].len);
            mem_free(all);
            set_free(few);
            return;
        }
    }
    {
        size_t k = (unsigned long long)count < n ? (size_t)count : n;
        size_t *idx = pick_distinct(n, k);
        all = set_members(e->val);
        reply_array(c, (long long)k);
        for (size_t i = 0; i < k; i++)
            reply_bulk(c, all[idx[i]].p, all[idx[i]].len);
        mem_free(idx);
        mem_free(all);
    }
}

void cmd_smove(struct client *c)
{
    struct db_entry *src = lookup_logged(c, 1), *dst;
    const struct client_arg *m = &c->argv[3];
    struct obj *o;
    dst = lookup_logged(c, 2);
    if (!src) {
        reply_int(c, 0);
        return;
    }
    if (src->val->type != OBJ_SET || (dst && dst->val->type != OBJ_SET)) {
        reply_err_wrongtype(c);
        return;
    }
    if (src == dst) {
        reply_int(c, set_has(src->val, m->p, m->len));
        return;
    }
    o = src->val;
    if (!set_has(o, m->p, m->len)) {
        reply_int(c, 0);
        return;
    }
    log_member(c, o, 3);
    (void)set_rem(&o, m->p, m->len);
    store(c, src, o);
    {
        struct effect_arg rem[3] = {EFFECT_LIT("SREM"), arg_of(c, 1), arg_of(c, 3)};
        effect_add(c->db_index, 3, rem);
    }
    if (set_len(o) == 0)
        db_delete_entry(c->db, src); /* another key: dst stays valid */
    o = dst ? dst->val : set_new_for(m->p, m->len);
    if (dst)
        log_member_of(c, 2, o, m->p, m->len);
    if (set_add(&o, m->p, m->len)) {
        /* Only a real addition changes dst (WATCH, the WAL), as Redis. */
        struct effect_arg add[3] = {EFFECT_LIT("SADD"), arg_of(c, 2), arg_of(c, 3)};
        effect_add(c->db_index, 3, add);
    }
    if (dst)
        store(c, dst, o);
    else
        db_add(c->db, c->argv[2].p, c->argv[2].len, o);
    reply_int(c, 1);
}

/* ---- SINTER, SUNION, SDIFF and their STORE forms ------------------------ */

enum setop { OP_INTER, OP_UNION, OP_DIFF };

/* The sets of argv[first..last]: NULL for a missing key. False (WRONGTYPE
 * replied) if one holds another type. */
static bool load_sets(struct client *c, int first, int last, const struct obj **sets)
{
    for (int i = first; i <= last; i++) {
        struct db_entry *e = lookup_read(c, i);
        if (e && e->val->type != OBJ_SET) {
            reply_err_wrongtype(c);
            return false;
        }
        sets[i - first] = e ? e->val : NULL;
    }
    return true;
}

/* Compute op over n sets into a new set object, or NULL when empty. limit
 * (> 0) stops an intersection once it has that many members. */
/* compute()'s walk of the intersection's smallest set or SDIFF's first. */
struct setop_walk {
    enum setop op;
    const struct obj **sets; /* the operands, NULL for missing keys */
    int n;                   /* operands */
    const struct obj *base;  /* the set being walked */
    size_t limit;            /* stop at this many members (0: none) */
    struct obj *out;         /* the result so far, NULL while empty */
};

static void setop_visit(const struct set_member *m, void *arg)
{
    struct setop_walk *x = arg;
    bool keep = true;
    if (x->limit > 0 && x->out && set_len(x->out) >= x->limit)
        return;
    for (int i = 0; i < x->n && keep; i++) {
        if (x->op == OP_INTER ? x->sets[i] == x->base : i == 0)
            continue; /* the set being walked */
        if (x->sets[i] == x->base)
            keep = x->op == OP_INTER; /* and no set_has on the set being scanned: a
                                       * lookup may take a rehash step (ht.h) */
        else if (x->op == OP_INTER)
            keep = set_has(x->sets[i], m->p, m->len);
        else
            keep = !(x->sets[i] && set_has(x->sets[i], m->p, m->len));
    }
    if (!keep)
        return;
    if (!x->out)
        x->out = set_new_for(m->p, m->len);
    (void)set_add(&x->out, m->p, m->len);
}

static struct obj *compute(enum setop op, const struct obj **sets, int n, size_t limit)
{
    struct obj *out = NULL;
    const struct obj *base = sets[0];
    struct set_member *all;
    size_t count;
    if (op == OP_INTER) {
        for (int i = 0; i < n; i++) {
            if (!sets[i])
                return NULL;
            if (set_len(sets[i]) < set_len(base))
                base = sets[i];
        }
    }
    if (op == OP_UNION) {
        for (int i = 0; i < n; i++) {
            if (!sets[i])
                continue;
            all = set_members(sets[i]);
            count = set_len(sets[i]);
            for (size_t j = 0; j < count; j++) {
                if (!out)
                    out = set_new_for(all[j].p, all[j].len);
                (void)set_add(&out, all[j].p, all[j].len);
            }
            mem_free(all);
        }
        return out;
    }
    if (!base)
        return NULL; /* SDIFF of a missing first key */
    {
        /* Walk base with set_scan rather than a copy of its members, so
         * SINTERCARD's LIMIT stops the walk early (a scan may visit a
         * member twice; adding to `out` counts it once). */
        struct setop_walk x = {op, sets, n, base, limit, NULL};
        uint64_t cursor = 0;
        do
            cursor = set_scan(base, cursor, setop_visit, &x);
        while (cursor != 0 && !(limit > 0 && x.out && set_len(x.out) >= limit));
        return x.out;
    }
}

static void setop_reply(struct client *c, enum setop op)
{
    int n = c->argc - 1;
    const struct obj **sets = mem_alloc((size_t)n * sizeof(*sets));
    struct obj *out;
    struct set_member *all;
    if (!load_sets(c, 1, c->argc - 1, sets)) {
        mem_free(sets);
        return;
    }
    out = compute(op, sets, n, 0);
    all = out ? set_members(out) : NULL;
    reply_members(c, all, out ? set_len(out) : 0, true);
    mem_free(all);
    if (out)
        obj_delete(out);
    mem_free(sets);
}

static void setop_store(struct client *c, enum setop op, const char *name)
{
    int n = c->argc - 2;
    const struct obj **sets = mem_alloc((size_t)n * sizeof(*sets));
    struct obj *out;
    if (!load_sets(c, 2, c->argc - 1, sets)) {
        mem_free(sets);
        return;
    }
    out = compute(op, sets, n, 0);
    mem_free(sets);
    if (!out) {
        if (db_delete(c->db, c->argv[1].p, c->argv[1].len))
            effect_argv(c, name, 1);
        reply_int(c, 0);
        return;
    }
    reply_int(c, (long long)set_len(out));
    (void)db_set(c->db, c->argv[1].p, c->argv[1].len, out, false);
    effect_argv(c, name, 1);
}

void cmd_sinter(struct client *c)
{
    setop_reply(c, OP_INTER);
}

void cmd_sunion(struct client *c)
{
    setop_reply(c, OP_UNION);
}

void cmd_sdiff(struct client *c)
{
    setop_reply(c, OP_DIFF);
}

void cmd_sinterstore(struct client *c)
{
    setop_store(c, OP_INTER, "SINTERSTORE");
}

void cmd_sunionstore(struct client *c)
{
    setop_store(c, OP_UNION, "SUNIONSTORE");
}

void cmd_sdiffstore(struct client *c)
{
    setop_store(c, OP_DIFF, "SDIFFSTORE");
}

void cmd_sintercard(struct client *c)
{
    long long numkeys, limit = 0;
    const struct obj **sets;
    struct obj *out;
    if (!arg_ll(c, 1, &numkeys) || numkeys <= 0) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int i = 2 + (int)numkeys; i < c->argc; i += 2) {
        if (i + 1 < c->argc && client_arg_is(c, i, "limit")) {
            if (!arg_ll(c, i + 1, &limit) || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    sets = mem_alloc((size_t)numkeys * sizeof(*sets));
    if (!load_sets(c, 2, 1 + (int)numkeys, sets)) {
        mem_free(sets);
        return;
    }
    out = compute(OP_INTER, sets, (int)numkeys, (size_t)limit);
    reply_int(c, out ? (long long)set_len(out) : 0);
    if (out)
        obj_delete(out);
    mem_free(sets);
}

/* ---- SSCAN ------------------------------------------------------------- */

static void sscan_visit(const struct set_member *m, void *arg)
{
    struct cmd_scan *x = arg;
    if (!cmd_scan_match(x, m->p, m->len))
        return;
    resp_w_bulk(&x->out, m->p, m->len);
    x->count++;
}

static uint64_t sscan_step(const struct obj *o, uint64_t cursor, struct cmd_scan *x)
{
    return set_scan(o, cursor, sscan_visit, x);
}

void cmd_sscan(struct client *c)
{
    cmd_scan_key(c, OBJ_SET, sscan_step, 1);
}
