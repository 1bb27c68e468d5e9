/*
 * cmd_list.c - list commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN
 * LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP and the
 * blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
 *
 * Design
 *   Values are db/list.h objects; a list left empty is deleted with its
 *   key. Effects: deterministic commands record themselves; pops record
 *   "LPOP|RPOP key count" of what they took, moves "LMOVE src dst FROM TO",
 *   so the blocking forms log their non-blocking equivalent.
 *
 *   Blocking: when every key is empty the command parks the client
 *   (server/block.h) and replies nothing; block.c re-runs it when a key
 *   gets data, so the serving code is this same handler. Inside MULTI the
 *   command replies the timeout reply at once, as Redis.
 *
 * Invariants
 *   (1) No list in the keyspace is empty.
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
#include "db/list.h"
#include "db/undo.h"
#include "server/block.h"
#include "server/reply.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* e as a list (NULL if missing); WRONGTYPE replied and *bad set for
 * another type. */
static struct db_entry *as_list(struct client *c, struct db_entry *e, bool *bad)
{
    *bad = false;
    if (e && e->val->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        *bad = true;
        return NULL;
    }
    return e;
}

/* Key argv[i] as a list, for reading. */
static struct db_entry *list_at_arg(struct client *c, int i, bool *bad)
{
    return as_list(c, lookup_read(c, i), bad);
}

/* Key argv[i] for a change that logs itself to the undo log (pushes, pops,
 * LSET, LINSERT, LREM, LTRIM: O(change) in a transaction, not a copy). */
static struct db_entry *lookup_logged(struct client *c, int i)
{
    return db_lookup_write_logged(c->db, c->argv[i].p, c->argv[i].len);
}

/* x was popped from key argv[key]: the undo log keeps it, or it is freed. */
static void popped(struct client *c, int key, enum list_end end, struct list_elem *x)
{
    if (!undo_list_popped(c->db, c->argv[key].p, c->argv[key].len, end, x))
        list_elem_free(x);
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

static void reply_elem(struct client *c, const struct list_elem *e)
{
    reply_bulk(c, e->data, e->len);
}

/* After a removal: delete the key if its list is empty (invariant 1). */
static void drop_if_empty(struct client *c, struct db_entry *e)
{
    if (list_len(e->val) == 0)
        db_delete_entry(c->db, e);
}

/* Resolve a Redis index (negative from the end) against len; false if out
 * of range. */
static bool index_of(long long idx, size_t len, size_t *out)
{
    if (idx < 0)
        idx += (long long)len;
    if (idx < 0 || (unsigned long long)idx >= len)
        return false;
    *out = (size_t)idx;
    return true;
}

/* ---- Pushes ------------------------------------------------------------ */

static void push_generic(struct client *c, enum list_end end, bool only_existing,
                         const char *name)
{
    bool bad;
    struct db_entry *e = as_list(c, lookup_logged(c, 1), &bad);
    struct obj *o;
    if (bad)
        return;
    if (!e && only_existing) {
        reply_int(c, 0);
        return;
    }
    o = e ? e->val : list_new();
    for (int i = 2; i < c->argc; i++)
        list_push(o, end, c->argv[i].p, c->argv[i].len);
    if (e) {
        /* Logged before the value is stamped as used (undo keeps the stamp). */
        undo_list_pushed(c->db, c->argv[1].p, c->argv[1].len, end, (size_t)c->argc - 2);
        db_replace_value(c->db, e, o);
    } else {
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    }
    effect_self(c, name);
    reply_int(c, (long long)list_len(o));
}

void cmd_lpush(struct client *c)
{
    push_generic(c, LIST_HEAD, false, "LPUSH");
}

void cmd_rpush(struct client *c)
{
    push_generic(c, LIST_TAIL, false, "RPUSH");
}

void cmd_lpushx(struct client *c)
{
    push_generic(c, LIST_HEAD, true, "LPUSHX");
}

void cmd_rpushx(struct client *c)
{
    push_generic(c, LIST_TAIL, true, "RPUSHX");
}

/* ---- Pops -------------------------------------------------------------- */

/* Pop up to count elements of entry e (of key argv[key]) from end, reply
 * them as an array (or one bulk if !as_array), record the effect. */
static void pop_elems(struct client *c, struct db_entry *e, int key, enum list_end end,
                      long long count, bool as_array)
{
    size_t n = list_len(e->val);
    size_t k = (unsigned long long)count < n ? (size_t)count : n;
    char num[UTIL_LL_STR_BYTES];
    int numlen = util_ll_to_str(num, sizeof(num), (long long)k);
    struct effect_arg args[3] = {end == LIST_HEAD ? EFFECT_LIT("LPOP") : EFFECT_LIT("RPOP"),
                                 arg_of(c, key), EFFECT_ARG(num, (size_t)numlen)};
    if (as_array)
        reply_array(c, (long long)k);
    for (size_t i = 0; i < k; i++) {
        struct list_elem *x = list_pop(e->val, end);
        reply_elem(c, x);
        popped(c, key, end, x);
    }
    effect_add(c->db_index, 3, args);
    drop_if_empty(c, e);
}

static void pop_generic(struct client *c, enum list_end end)
{
    bool bad;
    long long count = 1;
    struct db_entry *e;
    if (c->argc > 3) {
        reply_err_arity(c);
        return;
    }
    if (c->argc == 3 && (!arg_ll(c, 2, &count) || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    e = as_list(c, lookup_logged(c, 1), &bad);
    if (bad)
        return;
    if (!e) {
        if (c->argc == 3)
            reply_null_array(c);
        else
            reply_null(c);
        return;
    }
    pop_elems(c, e, 1, end, count, c->argc == 3);
}

void cmd_lpop(struct client *c)
{
    pop_generic(c, LIST_HEAD);
}

void cmd_rpop(struct client *c)
{
    pop_generic(c, LIST_TAIL);
}

void cmd_llen(struct client *c)
{
    bool bad;
    struct db_entry *e = list_at_arg(c, 1, &bad);
    if (!bad)
        reply_int(c, e ? (long long)list_len(e->val) : 0);
}

void cmd_lrange(struct client *c)
{
    bool bad;
    long long start, stop, len;
    struct db_entry *e;
    if (!arg_ll(c, 2, &start) || !arg_ll(c, 3, &stop)) {
        reply_err_not_int(c);
        return;
    }
    e = list_at_arg(c, 1, &bad);
    if (bad)
        return;
    len = e ? (long long)list_len(e->val) : 0;
    if (start < 0)
        start = start + len < 0 ? 0 : start + len;
    if (stop < 0)
        stop += len;
    if (stop >= len)
        stop = len - 1;
    if (!e || start > stop || start >= len) {
        reply_array(c, 0);
        return;
    }
    reply_array(c, stop - start + 1);
    for (long long i = start; i <= stop; i++)
        reply_elem(c, list_at(e->val, (size_t)i));
}

void cmd_lindex(struct client *c)
{
    bool bad;
    long long idx;
    size_t at;
    struct db_entry *e = list_at_arg(c, 1, &bad); /* the key first, as Redis */
    if (bad)
        return;
    if (!e) {
        reply_null(c);
        return;
    }
    if (!arg_ll(c, 2, &idx)) {
        reply_err_not_int(c);
        return;
    }
    if (index_of(idx, list_len(e->val), &at))
        reply_elem(c, list_at(e->val, at));
    else
        reply_null(c);
}

void cmd_lset(struct client *c)
{
    bool bad;
    long long idx;
    size_t at;
    struct list_elem *old;
    struct db_entry *e = as_list(c, lookup_logged(c, 1), &bad); /* the key first, as Redis */
    if (bad)
        return;
    if (!e) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (!arg_ll(c, 2, &idx)) {
        reply_err_not_int(c);
        return;
    }
    if (!index_of(idx, list_len(e->val), &at)) {
        reply_error(c, "ERR index out of range");
        return;
    }
    old = list_exchange(e->val, at, list_elem_new(c->argv[3].p, c->argv[3].len));
    if (!undo_list_set(c->db, c->argv[1].p, c->argv[1].len, at, old))
        list_elem_free(old);
    db_replace_value(c->db, e, e->val);
    effect_self(c, "LSET");
    reply_ok(c);
}

static bool elem_is(const struct list_elem *x, const struct client_arg *a)
{
    return x->len == a->len && memcmp(x->data, a->p, a->len) == 0;
}

void cmd_linsert(struct client *c)
{
    bool bad, after;
    struct db_entry *e;
    size_t n;
    if (client_arg_is(c, 2, "after"))
        after = true;
    else if (client_arg_is(c, 2, "before"))
        after = false;
    else {
        reply_err_syntax(c);
        return;
    }
    e = as_list(c, lookup_logged(c, 1), &bad);
    if (bad)
        return;
    if (!e) {
        reply_int(c, 0);
        return;
    }
    n = list_len(e->val);
    for (size_t i = 0; i < n; i++) {
        if (!elem_is(list_at(e->val, i), &c->argv[3]))
            continue;
        size_t at = after ? i + 1 : i;
        list_insert(e->val, at, c->argv[4].p, c->argv[4].len);
        undo_list_inserted(c->db, c->argv[1].p, c->argv[1].len, at);
        db_replace_value(c->db, e, e->val);
        effect_self(c, "LINSERT");
        reply_int(c, (long long)list_len(e->val));
        return;
    }
    reply_int(c, -1);
}

void cmd_lrem(struct client *c)
{
    bool bad;
    long long count;
    size_t removed = 0;
    struct db_entry *e;
    if (!arg_ll(c, 2, &count)) {
        reply_err_not_int(c);
        return;
    }
    e = as_list(c, lookup_logged(c, 1), &bad);
    if (bad)
        return;
    if (e) {
        /* |count| computed in size_t: -LLONG_MIN does not fit a long long. */
        _Static_assert(sizeof(size_t) >= sizeof(long long), "LREM's count fits a size_t");
        size_t limit = count < 0 ? (size_t)0 - (size_t)count : (size_t)count;
        struct list_taken *taken = undo_list_taking(c->db, c->argv[1].p, c->argv[1].len);
        removed = list_remove_equal(e->val, c->argv[3].p, c->argv[3].len, count < 0, limit,
                                    taken);
        if (removed > 0) {
            db_replace_value(c->db, e, e->val);
            effect_self(c, "LREM");
            drop_if_empty(c, e);
        }
    }
    reply_int(c, (long long)removed);
}

void cmd_ltrim(struct client *c)
{
    bool bad;
    long long start, stop, len;
    struct db_entry *e;
    if (!arg_ll(c, 2, &start) || !arg_ll(c, 3, &stop)) {
        reply_err_not_int(c);
        return;
    }
    e = as_list(c, lookup_logged(c, 1), &bad);
    if (bad)
        return;
    if (e) {
        len = (long long)list_len(e->val);
        if (start < 0)
            start = start + len < 0 ? 0 : start + len;
        if (stop < 0)
            stop += len;
        if (stop >= len)
            stop = len - 1;
        if (start > 0 || stop < len - 1) {
            bool none = start > stop || start >= len;
            list_trim(e->val, none ? 0 : (size_t)start, none ? 0 : (size_t)stop, none,
                      undo_list_taking(c->db, c->argv[1].p, c->argv[1].len));
            db_replace_value(c->db, e, e->val);
            effect_self(c, "LTRIM");
            drop_if_empty(c, e);
        }
    }
    reply_ok(c);
}

void cmd_lpos(struct client *c)
{
    bool bad, has_count = false;
    long long rank = 1, count = 1, maxlen = 0, found = 0;
    struct db_entry *e;
    size_t n, scanned = 0;
    for (int i = 3; i < c->argc; i += 2) {
        long long v;
        /* As Redis: the option's name is checked before its value. */
        if (i + 1 >= c->argc || !(client_arg_is(c, i, "rank") || client_arg_is(c, i, "count") ||
                                   client_arg_is(c, i, "maxlen"))) {
            reply_err_syntax(c);
            return;
        }
        if (!arg_ll(c, i + 1, &v)) {
            /* Redis words COUNT's and MAXLEN's parse errors as range errors. */
            if (client_arg_is(c, i, "count"))
                reply_error(c, "ERR COUNT can't be negative");
            else if (client_arg_is(c, i, "maxlen"))
                reply_error(c, "ERR MAXLEN can't be negative");
            else
                reply_err_not_int(c);
            return;
        }
        if (client_arg_is(c, i, "rank")) {
            /* Redis 7.0 took LLONG_MIN for -1 (its negation overflows);
             * 7.2 refuses it, and so does engram, with 7.2's words. */
            if (v == LLONG_MIN) {
                reply_error(c, "ERR value is out of range, value must between "
                               "-9223372036854775807 and 9223372036854775807");
                return;
            }
            if (v == 0) {
                reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 "
                               "from the second ... or use negative to start from the end of "
                               "the list");
                return;
            }
            rank = v;
        } else if (client_arg_is(c, i, "count")) {
            if (v < 0) {
                reply_error(c, "ERR COUNT can't be negative");
                return;
            }
            count = v;
            has_count = true;
        } else if (client_arg_is(c, i, "maxlen")) {
            if (v < 0) {
                reply_error(c, "ERR MAXLEN can't be negative");
                return;
            }
            maxlen = v;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    e = list_at_arg(c, 1, &bad);
    if (bad)
        return;
    n = e ? list_len(e->val) : 0;
    {
        /* Collect matches first: the reply's length is known at the end. */
        long long skip = (rank < 0 ? (rank == LLONG_MIN ? LLONG_MAX : -rank) : rank) - 1;
        long long *hits = NULL;
        size_t hits_cap = 0;
        for (size_t k = 0; k < n && (maxlen == 0 || scanned < (unsigned long long)maxlen);
             k++, scanned++) {
            size_t i = rank > 0 ? k : n - 1 - k;
            if (!elem_is(list_at(e->val, i), &c->argv[2]))
                continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            if ((size_t)found == hits_cap) {
                hits_cap = hits_cap ? hits_cap * 2 : 8;
                hits = mem_realloc(hits, hits_cap * sizeof(*hits));
            }
            hits[found++] = (long long)i;
            if (count > 0 && found >= count)
                break;
        }
        if (has_count) {
            reply_array(c, found);
            for (long long j = 0; j < found; j++)
                reply_int(c, hits[j]);
        } else if (found) {
            reply_int(c, hits[0]);
        } else {
            reply_null(c);
        }
        mem_free(hits);
    }
}

/* ---- LMOVE, RPOPLPUSH -------------------------------------------------- */

static bool parse_end(const struct client *c, int i, enum list_end *end)
{
    if (client_arg_is(c, i, "left"))
        *end = LIST_HEAD;
    else if (client_arg_is(c, i, "right"))
        *end = LIST_TAIL;
    else
        return false;
    return true;
}

/* Move one element from argv[1] (at `from`) to argv[2] (at `to`). Returns
 * false, having replied nothing, if the source is missing or empty, so a
 * blocking caller may block; true after replying (element or error). */
static bool move_one(struct client *c, enum list_end from, enum list_end to)
{
    struct db_entry *src = lookup_logged(c, 1), *dst;
    struct list_elem *x;
    struct obj *d;
    bool kept;
    if (src && src->val->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        return true;
    }
    if (!src)
        return false;
    dst = lookup_logged(c, 2);
    if (dst && dst->val->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        return true;
    }
    x = list_pop(src->val, from);
    ASSERT(x != NULL); /* invariant 1 */
    /* Logged before the value is stamped as used and before the deletion
     * below, so rollback meets them in reverse; x stays valid until the
     * transaction ends if the log keeps it. */
    kept = undo_list_popped(c->db, c->argv[1].p, c->argv[1].len, from, x);
    db_replace_value(c->db, src, src->val);
    if (src == dst) {
        list_push(src->val, to, x->data, x->len);
        undo_list_pushed(c->db, c->argv[1].p, c->argv[1].len, to, 1);
    } else {
        if (list_len(src->val) == 0)
            db_delete_entry(c->db, src); /* another key: dst stays valid */
        d = dst ? dst->val : list_new();
        list_push(d, to, x->data, x->len);
        if (dst) {
            undo_list_pushed(c->db, c->argv[2].p, c->argv[2].len, to, 1);
            db_replace_value(c->db, dst, d);
        } else {
            db_add(c->db, c->argv[2].p, c->argv[2].len, d);
        }
    }
    {
        struct effect_arg args[5] = {
            EFFECT_LIT("LMOVE"), arg_of(c, 1), arg_of(c, 2),
            from == LIST_HEAD ? EFFECT_LIT("LEFT") : EFFECT_LIT("RIGHT"),
            to == LIST_HEAD ? EFFECT_LIT("LEFT") : EFFECT_LIT("RIGHT")};
        effect_add(c->db_index, 5, args);
    }
    reply_elem(c, x);
    if (!kept)
        list_elem_free(x);
    return true;
}

void cmd_lmove(struct client *c)
{
    enum list_end from, to;
    if (!parse_end(c, 3, &from) || !parse_end(c, 4, &to)) {
        reply_err_syntax(c);
        return;
    }
    if (!move_one(c, from, to))
        reply_null(c);
}

void cmd_rpoplpush(struct client *c)
{
    if (!move_one(c, LIST_TAIL, LIST_HEAD))
        reply_null(c);
}

/* ---- Blocking ---------------------------------------------------------- */

static void bpop_generic(struct client *c, enum list_end end)
{
    int64_t deadline;
    struct db_entry *e;
    int i;
    if (!cmd_parse_timeout(c, c->argc - 1, &deadline))
        return;
    i = cmd_first_existing(c, 1, c->argc - 2, OBJ_LIST, &e);
    if (i == -2)
        return;
    if (i > 0) {
        reply_array(c, 2);
        reply_bulk(c, c->argv[i].p, c->argv[i].len);
        pop_elems(c, e, i, end, 1, false);
        return;
    }
    cmd_block_or_null(c, 1, c->argc - 2, deadline, false);
}

void cmd_blpop(struct client *c)
{
    bpop_generic(c, LIST_HEAD);
}

void cmd_brpop(struct client *c)
{
    bpop_generic(c, LIST_TAIL);
}

static void bmove_generic(struct client *c, enum list_end from, enum list_end to, int tmo)
{
    int64_t deadline;
    if (!cmd_parse_timeout(c, tmo, &deadline))
        return;
    if (!move_one(c, from, to))
        cmd_block_or_null(c, 1, 1, deadline, true);
}

void cmd_blmove(struct client *c)
{
    enum list_end from, to;
    if (!parse_end(c, 3, &from) || !parse_end(c, 4, &to)) {
        reply_err_syntax(c);
        return;
    }
    bmove_generic(c, from, to, 5);
}

void cmd_brpoplpush(struct client *c)
{
    bmove_generic(c, LIST_TAIL, LIST_HEAD, 3);
}

/* LMPOP/BLMPOP arguments from argv[first] (cmd_parse_mpop). */
static bool parse_mpop(struct client *c, int first, long long *numkeys, enum list_end *end,
                       long long *count)
{
    bool right;
    if (!cmd_parse_mpop(c, first, "left", "right", numkeys, &right, count))
        return false;
    *end = right ? LIST_TAIL : LIST_HEAD;
    return true;
}

/* Pop from the first non-empty key of argv[first..first+numkeys). Returns
 * false (nothing replied) if all are empty; true after replying. */
static bool mpop_first(struct client *c, int first, long long numkeys, enum list_end end,
                       long long count)
{
    struct db_entry *e;
    int i = cmd_first_existing(c, first, first + (int)numkeys - 1, OBJ_LIST, &e);
    if (i == -1)
        return false;
    if (i > 0) {
        reply_array(c, 2);
        reply_bulk(c, c->argv[i].p, c->argv[i].len);
        pop_elems(c, e, i, end, count, true);
    }
    return true;
}

void cmd_lmpop(struct client *c)
{
    long long numkeys, count;
    enum list_end end;
    if (!parse_mpop(c, 1, &numkeys, &end, &count))
        return;
    if (!mpop_first(c, 2, numkeys, end, count))
        reply_null_array(c);
}

void cmd_blmpop(struct client *c)
{
    long long numkeys, count;
    enum list_end end;
    int64_t deadline;
    if (!cmd_parse_timeout(c, 1, &deadline) || !parse_mpop(c, 2, &numkeys, &end, &count))
        return;
    if (!mpop_first(c, 3, numkeys, end, count))
        cmd_block_or_null(c, 3, (int)numkeys, deadline, false);
}
