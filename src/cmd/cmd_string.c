/*
 * cmd_string.c - the string commands: GET SET SETNX SETEX PSETEX MGET MSET
 * MSETNX GETSET GETDEL GETEX APPEND STRLEN INCR DECR INCRBY DECRBY
 * INCRBYFLOAT GETRANGE SUBSTR SETRANGE LCS.
 *
 * Design
 *   Each handler validates its arguments, looks its key up once (keeping
 *   the db_entry pointer for the write that follows), changes the keyspace,
 *   records the canonical effect and replies. The order of the checks is
 *   the order Redis 7.0 uses, because clients see which error wins:
 *     SET      options (syntax) -> expire value -> GET's type check -> NX/XX
 *     GETEX    options (syntax) -> key lookup (missing: nil, whatever the
 *              expire value) -> type -> expire value
 *     INCRBY   increment -> type -> stored value -> overflow
 *     INCRBYFLOAT  type -> stored value -> increment -> NaN/Infinity
 *     SETRANGE, GETRANGE  offsets -> type -> size
 *     LCS      types of both keys -> options -> LEN with IDX -> table size
 *
 *   SET and GETEX share one option parser driven by a table: each option
 *   has a flag, the flags it conflicts with and whether it takes a value.
 *   A repeated option is allowed (the last expire value wins), as in Redis.
 *
 *   Expire values become absolute unix milliseconds at once (expire_abs_ms),
 *   with Redis's overflow rules: the value must be > 0, seconds * 1000 must
 *   not overflow, and now + relative must not overflow; an absolute time in
 *   the past is valid and deletes the key.
 *
 *   Canonical effects (DESIGN.md "Life of a write", item 1):
 *     SET, SETEX, PSETEX, GETSET, SETNX  SET k v [KEEPTTL | PXAT <abs-ms>]
 *     past EXAT/PXAT, GETDEL             DEL k
 *     GETEX                              PEXPIREAT k <abs-ms> | PERSIST k | DEL k
 *     MSET, MSETNX                       MSET k v ... (in chunks of MSET_EFFECT_PAIRS)
 *     APPEND / SETRANGE                  APPEND k chunk / SETRANGE k offset value
 *     INCR, DECR, INCRBY, DECRBY         INCRBY k <signed delta>
 *     INCRBYFLOAT                        SET k <result> KEEPTTL
 *
 * Invariants
 *   (1) An error reply means the keyspace was not changed by this command
 *       (apart from lazily expired keys, which the db layer records).
 *   (2) Every change to the keyspace records exactly one effect describing
 *       it; a command that changed nothing records nothing.
 *   (3) No string grows beyond STRING_BYTES_MAX, and the check comes before
 *       the allocation. Sizes chosen by the client are allocated with
 *       mem_try_* / obj_try_*, and a failure is an error reply.
 *   (4) LCS never allocates a table of more than LCS_CELLS_MAX cells.
 *
 * Threads
 *   Loop thread (handlers run from cmd_dispatch()).
 */
#include "cmd/cmd.h"

#include "cmd/cmd_util.h"
#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/db.h"
#include "db/effect.h"
#include "db/obj.h"
#include "db/undo.h"
#include "server/multi.h"
#include "server/reply.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define ERR_TOO_BIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define ERR_OOM "ERR out of memory for the string value"
/* MSET effects carry at most this many pairs each, so they are built on the
 * stack; a longer MSET records several MSET effects in the same unit. */
#define MSET_EFFECT_PAIRS 64

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static bool is_string(const struct db_entry *e)
{
    return e->val->type == OBJ_STRING;
}

/* Record "<cmd> argv[key]" (DEL, PERSIST). */
static void effect_key(struct client *c, const char *cmd, int key)
{
    struct effect_arg args[2] = {EFFECT_ARG(cmd, strlen(cmd)), arg_of(c, key)};
    effect_add(c->db_index, 2, args);
}

/* Record "<cmd> argv[key] <n>" (PEXPIREAT, INCRBY). */
static void effect_key_ll(struct client *c, const char *cmd, int key, long long n)
{
    char num[UTIL_LL_STR_BYTES];
    int len = util_ll_to_str(num, sizeof(num), n);
    struct effect_arg args[3] = {EFFECT_ARG(cmd, strlen(cmd)), arg_of(c, key),
                                 EFFECT_ARG(num, (size_t)len)};
    effect_add(c->db_index, 3, args);
}

/* Record "SET argv[key] v[0..len) [KEEPTTL | PXAT abs_ms]": abs_ms >= 0 for PXAT. */
static void effect_set(struct client *c, int key, const char *v, size_t len, bool keep_ttl,
                       int64_t abs_ms)
{
    char num[UTIL_LL_STR_BYTES];
    struct effect_arg args[5] = {EFFECT_LIT("SET"), arg_of(c, key), EFFECT_ARG(v, len)};
    int argc = 3;
    if (abs_ms >= 0) {
        int n = util_ll_to_str(num, sizeof(num), abs_ms);
        args[argc++] = EFFECT_LIT("PXAT");
        args[argc++] = EFFECT_ARG(num, (size_t)n);
    } else if (keep_ttl) {
        args[argc++] = EFFECT_LIT("KEEPTTL");
    }
    effect_add(c->db_index, argc, args);
}

/* Record "MSET argv[first] argv[first+1] ..." for the pairs from first to argc. */
static void effect_mset(struct client *c, int first)
{
    struct effect_arg args[1 + 2 * MSET_EFFECT_PAIRS];
    int i = first;
    while (i < c->argc) {
        int argc = 1;
        args[0] = EFFECT_LIT("MSET");
        for (; i + 1 < c->argc && argc < 1 + 2 * MSET_EFFECT_PAIRS; i += 2) {
            args[argc++] = arg_of(c, i);
            args[argc++] = arg_of(c, i + 1);
        }
        ASSERT(argc > 1);
        effect_add(c->db_index, argc, args);
    }
}

/* ------------------------------------------------------------------------ */
/* SET / GETEX options and expire times                                     */
/* ------------------------------------------------------------------------ */

enum {
    OPT_NX = 1u << 0,
    OPT_XX = 1u << 1,
    OPT_GET = 1u << 2,
    OPT_KEEPTTL = 1u << 3,
    OPT_PERSIST = 1u << 4,
    OPT_EX = 1u << 5,
    OPT_PX = 1u << 6,
    OPT_EXAT = 1u << 7,
    OPT_PXAT = 1u << 8,
};
#define OPT_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)
#define OPT_TTL (OPT_EXPIRE | OPT_KEEPTTL | OPT_PERSIST)
#define OPT_SET_ALLOWED (OPT_NX | OPT_XX | OPT_GET | OPT_KEEPTTL | OPT_EXPIRE)
#define OPT_GETEX_ALLOWED (OPT_PERSIST | OPT_EXPIRE)

struct opt_def {
    const char *name;   /* option token, matched without case */
    unsigned flag;      /* OPT_* */
    unsigned conflicts; /* flags that make this option a syntax error */
    bool has_value;     /* followed by an expire value */
};

/* Every TTL option conflicts with every other one, but not with itself. */
static const struct opt_def opt_defs[] = {
    {"nx", OPT_NX, OPT_XX, false},
    {"xx", OPT_XX, OPT_NX, false},
    {"get", OPT_GET, 0, false},
    {"keepttl", OPT_KEEPTTL, OPT_TTL & ~OPT_KEEPTTL, false},
    {"persist", OPT_PERSIST, OPT_TTL & ~OPT_PERSIST, false},
    {"ex", OPT_EX, OPT_TTL & ~OPT_EX, true},
    {"px", OPT_PX, OPT_TTL & ~OPT_PX, true},
    {"exat", OPT_EXAT, OPT_TTL & ~OPT_EXAT, true},
    {"pxat", OPT_PXAT, OPT_TTL & ~OPT_PXAT, true},
};

struct str_opts {
    unsigned flags; /* OPT_* given */
    int expire_arg; /* argv index of the (last) expire value, 0 if none */
};

/*
 * Parse argv[first..argc) as options among `allowed`. Only the syntax is
 * checked here; expire values are parsed later, because Redis reports a
 * syntax error anywhere in the line before a bad expire value.
 * Returns false after replying "syntax error".
 */
static bool parse_opts(struct client *c, int first, unsigned allowed, struct str_opts *o)
{
    o->flags = 0;
    o->expire_arg = 0;
    for (int i = first; i < c->argc; i++) {
        const struct opt_def *d = NULL;
        for (size_t k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++) {
            if (util_strcaseeq(c->argv[i].p, c->argv[i].len, opt_defs[k].name)) {
                d = &opt_defs[k];
                break;
            }
        }
        if (!d || !(d->flag & allowed) || (o->flags & d->conflicts) ||
            (d->has_value && i + 1 >= c->argc)) {
            reply_err_syntax(c);
            return false;
        }
        o->flags |= d->flag;
        if (d->has_value)
            o->expire_arg = ++i;
    }
    return true;
}

/*
 * Turn argv[i], an expire in the unit of `unit` (one OPT_EX/PX/EXAT/PXAT),
 * into absolute unix ms in *abs_ms. Returns false after replying "not an
 * integer" or "invalid expire time".
 */
static bool expire_abs_ms(struct client *c, int i, unsigned unit, int64_t *abs_ms)
{
    long long v;
    bool seconds = (unit & (OPT_EX | OPT_EXAT)) != 0;
    bool relative = (unit & (OPT_EX | OPT_PX)) != 0;
    if (!arg_ll(c, i, &v)) {
        reply_err_not_int(c);
        return false;
    }
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000))
        goto invalid;
    if (seconds)
        v *= 1000;
    if (relative) {
        if (v > LLONG_MAX - db_now())
            goto invalid;
        v += db_now();
    }
    *abs_ms = v;
    return true;
invalid:
    reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->fullname);
    return false;
}

/* ------------------------------------------------------------------------ */
/* GET, SET and friends                                                     */
/* ------------------------------------------------------------------------ */

/* Reply with the string at e (nil if e is NULL), as GET does. Returns
 * false, after a WRONGTYPE reply, if e holds another type. */
static bool reply_string_or_nil(struct client *c, const struct db_entry *e)
{
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return false;
    }
    if (e)
        reply_bulk_obj(c, e->val);
    else
        reply_null(c);
    return true;
}

void cmd_get(struct client *c)
{
    (void)reply_string_or_nil(c, lookup_read(c, 1));
}

/*
 * The write of SET/SETEX/PSETEX: argv[1] = key, argv[val] = value, flags
 * from struct str_opts, abs_ms the absolute expire or -1. Replies.
 */
static void set_generic(struct client *c, int val, unsigned flags, int64_t abs_ms)
{
    const struct client_arg *v = &c->argv[val];
    bool keep_ttl = (flags & OPT_KEEPTTL) != 0;
    struct db_entry *e = NULL;
    if (flags & OPT_GET) {
        e = lookup_read(c, 1);
        if (!reply_string_or_nil(c, e))
            return;
    } else if (flags & (OPT_NX | OPT_XX)) {
        e = lookup_change(c, 1);
    }
    if (((flags & OPT_NX) && e) || ((flags & OPT_XX) && !e)) {
        if (!(flags & OPT_GET))
            reply_null(c);
        return;
    }
    if (abs_ms >= 0 && abs_ms <= db_now()) {
        /* Already expired: the value would be deleted at once, so it is
         * never stored. */
        if (!(flags & (OPT_GET | OPT_NX | OPT_XX)))
            e = lookup_change(c, 1);
        if (e) {
            db_delete_entry(c->db, e);
            effect_key(c, "DEL", 1);
        }
    } else {
        struct obj *o = obj_new_string(v->p, v->len);
        if (!(flags & (OPT_GET | OPT_NX | OPT_XX)))
            /* Keep the TTL when a new one is set anyway: that updates it
             * in place instead of unlinking and relinking the key. */
            e = db_set(c->db, c->argv[1].p, c->argv[1].len, o, keep_ttl || abs_ms >= 0);
        else if (e)
            db_replace_value(c->db, e, o);
        else
            e = db_add(c->db, c->argv[1].p, c->argv[1].len, o);
        if (abs_ms >= 0 || (!keep_ttl && e->expire_ms >= 0))
            db_set_expire(c->db, e, abs_ms);
        effect_set(c, 1, v->p, v->len, keep_ttl, abs_ms);
    }
    if (!(flags & OPT_GET))
        reply_ok(c);
}

void cmd_set(struct client *c)
{
    struct str_opts o = {0, 0};
    int64_t abs_ms = -1;
    if (c->argc > 3 && !parse_opts(c, 3, OPT_SET_ALLOWED, &o))
        return;
    if (o.expire_arg && !expire_abs_ms(c, o.expire_arg, o.flags & OPT_EXPIRE, &abs_ms))
        return;
    set_generic(c, 2, o.flags, abs_ms);
}

void cmd_setnx(struct client *c)
{
    const struct client_arg *v = &c->argv[2];
    if (lookup_change(c, 1)) {
        reply_int(c, 0);
        return;
    }
    db_add(c->db, c->argv[1].p, c->argv[1].len, obj_new_string(v->p, v->len));
    effect_set(c, 1, v->p, v->len, false, -1);
    reply_int(c, 1);
}

void cmd_setex(struct client *c)
{
    int64_t abs_ms;
    if (expire_abs_ms(c, 2, OPT_EX, &abs_ms))
        set_generic(c, 3, 0, abs_ms);
}

void cmd_psetex(struct client *c)
{
    int64_t abs_ms;
    if (expire_abs_ms(c, 2, OPT_PX, &abs_ms))
        set_generic(c, 3, 0, abs_ms);
}

void cmd_getset(struct client *c)
{
    const struct client_arg *v = &c->argv[2];
    struct db_entry *e = lookup_read(c, 1);
    struct obj *o;
    if (!reply_string_or_nil(c, e))
        return;
    o = obj_new_string(v->p, v->len);
    if (e) {
        db_replace_value(c->db, e, o);
        db_set_expire(c->db, e, -1);
    } else {
        db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    }
    effect_set(c, 1, v->p, v->len, false, -1);
}

void cmd_getdel(struct client *c)
{
    struct db_entry *e = lookup_read(c, 1);
    if (!e) {
        reply_null(c);
        return;
    }
    if (!is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    reply_bulk_obj(c, e->val);
    db_delete_entry(c->db, e);
    effect_key(c, "DEL", 1);
}

void cmd_getex(struct client *c)
{
    struct str_opts o;
    int64_t abs_ms = -1;
    struct db_entry *e;
    if (!parse_opts(c, 2, OPT_GETEX_ALLOWED, &o))
        return;
    e = lookup_read(c, 1);
    if (!e) {
        reply_null(c);
        return;
    }
    if (!is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (o.expire_arg && !expire_abs_ms(c, o.expire_arg, o.flags & OPT_EXPIRE, &abs_ms))
        return;
    reply_bulk_obj(c, e->val);
    if (abs_ms >= 0 && abs_ms <= db_now()) {
        db_delete_entry(c->db, e);
        effect_key(c, "DEL", 1);
    } else if (abs_ms >= 0) {
        db_set_expire(c->db, e, abs_ms);
        effect_key_ll(c, "PEXPIREAT", 1, abs_ms);
    } else if ((o.flags & OPT_PERSIST) && e->expire_ms >= 0) {
        db_set_expire(c->db, e, -1);
        effect_key(c, "PERSIST", 1);
    }
}

/* ------------------------------------------------------------------------ */
/* MGET, MSET, MSETNX                                                       */
/* ------------------------------------------------------------------------ */

void cmd_mget(struct client *c)
{
    reply_array(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        struct db_entry *e = lookup_read(c, i);
        if (e && is_string(e))
            reply_bulk_obj(c, e->val);
        else
            reply_null(c);
    }
}

/* Set every pair of argv[1..argc), clearing TTLs, and record the effect. */
static void mset_all(struct client *c)
{
    for (int i = 1; i + 1 < c->argc; i += 2) {
        const struct client_arg *v = &c->argv[i + 1];
        db_set(c->db, c->argv[i].p, c->argv[i].len, obj_new_string(v->p, v->len), false);
    }
    effect_mset(c, 1);
}

void cmd_mset(struct client *c)
{
    if (c->argc % 2 == 0) {
        reply_err_arity(c);
        return;
    }
    mset_all(c);
    reply_ok(c);
}

void cmd_msetnx(struct client *c)
{
    if (c->argc % 2 == 0) {
        reply_err_arity(c);
        return;
    }
    /* All or nothing: any existing key (of any type) blocks every write. */
    for (int i = 1; i < c->argc; i += 2) {
        if (lookup_change(c, i)) {
            reply_int(c, 0);
            return;
        }
    }
    mset_all(c);
    reply_int(c, 1);
}

/* ------------------------------------------------------------------------ */
/* APPEND, STRLEN, GETRANGE, SETRANGE                                       */
/* ------------------------------------------------------------------------ */

/*
 * Make e's string value at least len bytes long (new bytes zeroed) and RAW,
 * so the caller can write into its payload. An INT value is rewritten as
 * its digits. Returns the value, or NULL after replying an OOM error (the
 * entry is then unchanged).
 */
static struct obj *grow_value(struct client *c, struct db_entry *e, size_t len)
{
    struct obj *o = e->val;
    if (o->encoding == OBJ_ENC_INT) {
        char tmp[32];
        size_t digits;
        const char *p = obj_str(o, tmp, &digits);
        struct obj *n = obj_try_new_raw(len > digits ? len : digits);
        if (!n)
            goto oom;
        memcpy(n->data, p, digits);
        memset(n->data + digits, 0, n->len - digits);
        db_replace_value(c->db, e, n);
        return n;
    }
    o = obj_try_resize(o, len > o->len ? len : o->len);
    if (!o)
        goto oom;
    /* The old block is already freed (or is o): store the moved pointer
     * directly, then let the db layer refresh its LRU stamp. */
    e->val = o;
    db_replace_value(c->db, e, o);
    return o;
oom:
    reply_error(c, ERR_OOM);
    return NULL;
}

void cmd_append(struct client *c)
{
    const struct client_arg *v = &c->argv[2];
    /* In a transaction, only what APPEND changes is saved for rollback
     * (undo_string_range), not a copy of the whole value. */
    struct db_entry *e = lookup_change(c, 1);
    struct effect_arg args[3] = {EFFECT_LIT("APPEND"), arg_of(c, 1), arg_of(c, 2)};
    size_t cur = 0;
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (e) {
        struct obj *o;
        cur = obj_strlen(e->val);
        if (cur + v->len > STRING_BYTES_MAX) {
            reply_error(c, ERR_TOO_BIG);
            return;
        }
        /* An empty chunk changes no byte, but as in Redis it is a write
         * (WATCH, the log) that leaves the value raw-encoded (OBJECT
         * ENCODING), whatever it was. */
        undo_string_range(c->db, e, cur, v->len);
        o = grow_value(c, e, cur + v->len);
        if (!o)
            return;
        memcpy(o->data + cur, v->p, v->len);
    } else {
        /* Even an empty chunk creates the key (unlike SETRANGE). */
        db_add(c->db, c->argv[1].p, c->argv[1].len, obj_new_string(v->p, v->len));
    }
    effect_add(c->db_index, 3, args);
    reply_int(c, (long long)(cur + v->len));
}

void cmd_strlen(struct client *c)
{
    struct db_entry *e = lookup_read(c, 1);
    if (e && !is_string(e))
        reply_err_wrongtype(c);
    else
        reply_int(c, e ? (long long)obj_strlen(e->val) : 0);
}

/* GETRANGE and SUBSTR. */
void cmd_getrange(struct client *c)
{
    long long start, end, len;
    struct db_entry *e;
    char tmp[32];
    size_t slen;
    const char *s;
    if (!arg_ll(c, 2, &start) || !arg_ll(c, 3, &end)) {
        reply_err_not_int(c);
        return;
    }
    e = lookup_read(c, 1);
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (!e || (start < 0 && end < 0 && start > end)) {
        reply_bulk(c, "", 0);
        return;
    }
    s = obj_str(e->val, tmp, &slen);
    len = (long long)slen;
    /* Negative indexes count from the end, then clamp to the string. As in
     * Redis 7.0 both ends clamp to 0, so (-100, -50) yields the first byte. */
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (len == 0 || start > end)
        reply_bulk(c, "", 0);
    else
        reply_bulk(c, s + start, (size_t)(end - start + 1));
}

/* SETRANGE on a key that does not exist: the value at offset, zero bytes
 * before it. Returns false after replying an OOM error. */
static bool setrange_new(struct client *c, size_t offset)
{
    const struct client_arg *v = &c->argv[3];
    struct obj *o = obj_try_new_raw(offset + v->len);
    if (!o) {
        reply_error(c, ERR_OOM);
        return false;
    }
    memset(o->data, 0, offset);
    memcpy(o->data + offset, v->p, v->len);
    db_add(c->db, c->argv[1].p, c->argv[1].len, o);
    return true;
}

void cmd_setrange(struct client *c)
{
    const struct client_arg *v = &c->argv[3];
    struct effect_arg args[4] = {EFFECT_LIT("SETRANGE"), arg_of(c, 1), arg_of(c, 2),
                                 arg_of(c, 3)};
    long long offset;
    struct db_entry *e;
    size_t cur = 0;
    if (!arg_ll(c, 2, &offset)) {
        reply_err_not_int(c);
        return;
    }
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    e = lookup_change(c, 1); /* only what it changes is saved, as APPEND */
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (e)
        cur = obj_strlen(e->val);
    /* An empty value changes nothing, so there is no size check either. */
    if (v->len == 0) {
        reply_int(c, (long long)cur);
        return;
    }
    if ((unsigned long long)offset + v->len > STRING_BYTES_MAX) {
        reply_error(c, ERR_TOO_BIG);
        return;
    }
    if (!e) {
        if (!setrange_new(c, (size_t)offset))
            return;
        cur = (size_t)offset + v->len;
    } else {
        struct obj *o;
        undo_string_range(c->db, e, (size_t)offset, v->len);
        o = grow_value(c, e, (size_t)offset + v->len);
        if (!o)
            return;
        memcpy(o->data + offset, v->p, v->len);
        cur = o->len;
    }
    effect_add(c->db_index, 4, args);
    reply_int(c, (long long)cur);
}

/* ------------------------------------------------------------------------ */
/* INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT                                  */
/* ------------------------------------------------------------------------ */

static void incr_by(struct client *c, long long delta)
{
    struct db_entry *e = lookup_change(c, 1);
    long long old = 0, v;
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (e && !obj_get_ll(e->val, &old)) {
        reply_err_not_int(c);
        return;
    }
    if ((delta < 0 && old < 0 && delta < LLONG_MIN - old) ||
        (delta > 0 && old > 0 && delta > LLONG_MAX - old)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    v = old + delta;
    if (e && e->val->encoding == OBJ_ENC_INT) {
        /* In place: an INT payload is an int64 (obj.c invariant 1). Saved
         * first in a transaction (a copy of 8 bytes). */
        int64_t x = v;
        if (undo_active())
            (void)undo_save_entry(c->db, e, false);
        memcpy(e->val->data, &x, sizeof(x));
        db_replace_value(c->db, e, e->val);
    } else if (e) {
        db_replace_value(c->db, e, obj_new_int(v)); /* keeps the TTL */
    } else {
        db_add(c->db, c->argv[1].p, c->argv[1].len, obj_new_int(v));
    }
    effect_key_ll(c, "INCRBY", 1, delta);
    reply_int(c, v);
}

void cmd_incr(struct client *c)
{
    incr_by(c, 1);
}

void cmd_decr(struct client *c)
{
    incr_by(c, -1);
}

void cmd_incrby(struct client *c)
{
    long long delta;
    if (!arg_ll(c, 2, &delta))
        reply_err_not_int(c);
    else
        incr_by(c, delta);
}

void cmd_decrby(struct client *c)
{
    long long delta;
    if (!arg_ll(c, 2, &delta))
        reply_err_not_int(c);
    else if (delta == LLONG_MIN)
        reply_error(c, "ERR decrement would overflow");
    else
        incr_by(c, -delta);
}

void cmd_incrbyfloat(struct client *c)
{
    struct db_entry *e = lookup_change(c, 1);
    long double value = 0, incr;
    char out[UTIL_LD_STR_BYTES];
    int len;
    if (e && !is_string(e)) {
        reply_err_wrongtype(c);
        return;
    }
    if (e) {
        char tmp[32];
        size_t slen;
        const char *s = obj_str(e->val, tmp, &slen);
        if (!util_str_to_ld(s, slen, &value)) {
            reply_err_not_float(c);
            return;
        }
    }
    if (!util_str_to_ld(c->argv[2].p, c->argv[2].len, &incr)) {
        reply_err_not_float(c);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    len = util_ld_to_str(out, sizeof(out), value, true);
    ASSERT(len > 0);
    if (e)
        db_replace_value(c->db, e, obj_new_string_bytes(out, (size_t)len)); /* keeps the TTL */
    else
        db_add(c->db, c->argv[1].p, c->argv[1].len, obj_new_string_bytes(out, (size_t)len));
    /* The float arithmetic is not replayed: the effect is the result. */
    effect_set(c, 1, out, (size_t)len, true, -1);
    reply_bulk(c, out, (size_t)len);
}

/* ------------------------------------------------------------------------ */
/* LCS                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * The classic dynamic-programming table: at(i, j) is the length of the
 * longest common subsequence of a[0..i) and b[0..j). Walking it back from
 * (alen, blen) yields the subsequence from its end, and runs of matches
 * that are contiguous in both strings form the IDX ranges, last first.
 */
struct lcs {
    const char *a, *b; /* borrowed: the two values ("" for a missing key) */
    size_t alen, blen; /* their lengths in bytes */
    uint32_t *dp;      /* owned: (alen + 1) x (blen + 1) cells, row-major */
};

struct lcs_opts {
    bool len;           /* LEN: reply only the length */
    bool idx;           /* IDX: reply the matching ranges */
    bool with_len;      /* WITHMATCHLEN: add each range's length */
    long long min_len;  /* MINMATCHLEN: shorter ranges are left out */
};

/* A run of matches: a[a0..a1] == b[b0..b1]. */
struct lcs_run {
    size_t a0, a1, b0, b1; /* inclusive byte ranges */
    bool open;             /* a run has started */
};

static inline uint32_t lcs_at(const struct lcs *l, size_t i, size_t j)
{
    return l->dp[i * (l->blen + 1) + j];
}

static void lcs_fill(struct lcs *l)
{
    size_t w = l->blen + 1;
    for (size_t j = 0; j <= l->blen; j++)
        l->dp[j] = 0;
    for (size_t i = 1; i <= l->alen; i++) {
        uint32_t *row = l->dp + i * w, *up = row - w;
        row[0] = 0;
        for (size_t j = 1; j <= l->blen; j++) {
            if (l->a[i - 1] == l->b[j - 1])
                row[j] = up[j - 1] + 1;
            else
                row[j] = up[j] > row[j - 1] ? up[j] : row[j - 1];
        }
    }
}

/* Count a finished run if long enough, and reply it when c is not NULL. */
static long long lcs_emit(struct client *c, const struct lcs_run *r, const struct lcs_opts *o)
{
    long long len;
    if (!r->open)
        return 0;
    len = (long long)(r->a1 - r->a0 + 1);
    if (len < o->min_len)
        return 0;
    if (c) {
        reply_array(c, o->with_len ? 3 : 2);
        reply_array(c, 2);
        reply_int(c, (long long)r->a0);
        reply_int(c, (long long)r->a1);
        reply_array(c, 2);
        reply_int(c, (long long)r->b0);
        reply_int(c, (long long)r->b1);
        if (o->with_len)
            reply_int(c, len);
    }
    return 1;
}

/*
 * Walk the table back. Writes the subsequence to out if not NULL (room for
 * lcs_at(alen, blen) bytes), replies the ranges to c if not NULL, and
 * returns the number of ranges of at least o->min_len bytes.
 */
static long long lcs_walk(const struct lcs *l, struct client *c, const struct lcs_opts *o,
                          char *out)
{
    size_t i = l->alen, j = l->blen, k = lcs_at(l, i, j);
    struct lcs_run run = {0, 0, 0, 0, false};
    long long ranges = 0;
    while (i > 0 && j > 0) {
        if (l->a[i - 1] == l->b[j - 1]) {
            if (out)
                out[--k] = l->a[i - 1];
            if (run.open && run.a0 == i && run.b0 == j) {
                run.a0--;
                run.b0--;
            } else {
                ranges += lcs_emit(c, &run, o);
                run = (struct lcs_run){i - 1, i - 1, j - 1, j - 1, true};
            }
            i--;
            j--;
        } else if (lcs_at(l, i - 1, j) > lcs_at(l, i, j - 1)) {
            i--;
        } else {
            j--;
        }
    }
    return ranges + lcs_emit(c, &run, o);
}

/* Parse argv[3..argc). Returns false after replying an error. */
static bool lcs_parse(struct client *c, struct lcs_opts *o)
{
    *o = (struct lcs_opts){false, false, false, 0};
    for (int i = 3; i < c->argc; i++) {
        const char *p = c->argv[i].p;
        size_t n = c->argv[i].len;
        if (util_strcaseeq(p, n, "idx")) {
            o->idx = true;
        } else if (util_strcaseeq(p, n, "len")) {
            o->len = true;
        } else if (util_strcaseeq(p, n, "withmatchlen")) {
            o->with_len = true;
        } else if (util_strcaseeq(p, n, "minmatchlen") && i + 1 < c->argc) {
            if (!arg_ll(c, ++i, &o->min_len)) {
                reply_err_not_int(c);
                return false;
            }
            if (o->min_len < 0)
                o->min_len = 0;
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    if (o->idx && o->len) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return false;
    }
    return true;
}

/* Reply from a filled table, as the options ask. */
static void lcs_reply(struct client *c, const struct lcs *l, const struct lcs_opts *o)
{
    uint32_t total = lcs_at(l, l->alen, l->blen);
    if (o->len) {
        reply_int(c, total);
    } else if (o->idx) {
        reply_map(c, 2);
        reply_bulk(c, "matches", 7);
        reply_array(c, lcs_walk(l, NULL, o, NULL));
        (void)lcs_walk(l, c, o, NULL);
        reply_bulk(c, "len", 3);
        reply_int(c, total);
    } else {
        char *out = mem_try_alloc(total ? total : 1);
        if (!out) {
            reply_error(c, "ERR out of memory for the LCS result");
            return;
        }
        (void)lcs_walk(l, NULL, o, out);
        reply_bulk(c, out, total);
        mem_free(out);
    }
}

void cmd_lcs(struct client *c)
{
    struct db_entry *ea = lookup_read(c, 1), *eb = lookup_read(c, 2);
    char tmp_a[32], tmp_b[32];
    struct lcs l = {"", "", 0, 0, NULL};
    struct lcs_opts o;
    if ((ea && !is_string(ea)) || (eb && !is_string(eb))) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    if (!lcs_parse(c, &o))
        return;
    if (ea)
        l.a = obj_str(ea->val, tmp_a, &l.alen);
    if (eb)
        l.b = obj_str(eb->val, tmp_b, &l.blen);
    /* Bound time and memory: the table is O(alen * blen). Written so that
     * the product cannot overflow. */
    if (l.alen + 1 > LCS_CELLS_MAX / (l.blen + 1)) {
        reply_errorf(c, "ERR LCS needs a table of more than %llu cells for these strings",
                     (unsigned long long)LCS_CELLS_MAX);
        return;
    }
    l.dp = mem_try_alloc((l.alen + 1) * (l.blen + 1) * sizeof(uint32_t));
    if (!l.dp) {
        reply_error(c, "ERR out of memory for the LCS table");
        return;
    }
    lcs_fill(&l);
    lcs_reply(c, &l, &o);
    mem_free(l.dp);
}
