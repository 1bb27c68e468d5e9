/*
 * cmd_keys.c - keyspace commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS,
 * SCAN, RANDOMKEY, RENAME, RENAMENX, MOVE, COPY, DBSIZE, FLUSHDB, FLUSHALL,
 * SELECT, SWAPDB and OBJECT.
 *
 * Design
 *   Every handler works on the client's selected database (c->db) through
 *   the db.h API; only the commands that name another database (MOVE, COPY
 *   ... DB, SELECT, SWAPDB, FLUSHALL) reach into server.dbs[]. Replies and
 *   error texts follow Redis 7.0 byte for byte, because client libraries
 *   match on them; tests/integration/test_keyspace.py is the specification.
 *
 *   KEYS and SCAN first collect borrowed entry pointers (db_foreach/db_scan
 *   callbacks must not modify the db), then filter and reply. Neither
 *   deletes expired keys it meets: they are skipped, and lazy or active
 *   expiry reclaims them. SCAN does at most 10 x COUNT cursor steps per
 *   call, as Redis does, so a sparse table cannot make one call slow.
 *
 *   UNLINK frees synchronously: values are small enough here that a
 *   background free thread would buy nothing yet.
 *
 * Invariants
 *   (1) Every change to a keyspace records its canonical effect (effect.h):
 *       DEL of the keys that existed (UNLINK too), RENAME src dst, MOVE key
 *       db, COPY src dst DB n REPLACE, FLUSHDB, FLUSHALL, SWAPDB a b.
 *       A command that changes nothing records nothing.
 *   (2) Argument errors are replied before any key is touched, so a failed
 *       command has no effect.
 *   (3) Entry pointers collected by KEYS/SCAN are used only before the next
 *       write to the db.
 *
 * Threads
 *   Loop thread only.
 */
#include "cmd/cmd.h"

#include "cmd/cmd_util.h"
#include "core/mem.h"
#include "core/assert.h"
#include "core/util.h"
#include "db/effect.h"
#include "server/block.h"
#include "server/multi.h"
#include "server/reply.h"
#include "server/server.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Redis's getIntFromObjectOrReply wording, grammar included. */
#define INT_RANGE_ERR "ERR value is out of range, value must between -2147483648 and 2147483647"
/* Room for any int in decimal and its NUL ("-2147483648" is 12 bytes). */
#define DB_INDEX_STR_BYTES 16

/* ---------------------------------------------------------------- helpers */

/* Parse argv[i] as a C int like Redis's getIntFromObject. Returns false if
 * it is not a long long or does not fit an int; *too_big tells which. */
static bool parse_int(const struct client *c, int i, int *out, bool *too_big)
{
    long long v;
    *too_big = false;
    if (!util_str_to_ll(c->argv[i].p, c->argv[i].len, &v))
        return false;
    if (v < INT_MIN || v > INT_MAX) {
        *too_big = true;
        return false;
    }
    *out = (int)v;
    return true;
}

/* getIntFromObjectOrReply: the two Redis errors for a bad int argument. */
static bool parse_int_or_reply(struct client *c, int i, int *out)
{
    bool too_big;
    if (parse_int(c, i, out, &too_big))
        return true;
    if (too_big)
        reply_error(c, INT_RANGE_ERR);
    else
        reply_err_not_int(c);
    return false;
}

/* The database with this index, or NULL if out of range. */
static struct db *db_at(int id)
{
    if (id < 0 || id >= server.cfg.databases)
        return NULL;
    return &server.dbs[id];
}

static bool same_arg(const struct client *c, int i, int j)
{
    return c->argv[i].len == c->argv[j].len &&
           memcmp(c->argv[i].p, c->argv[j].p, c->argv[i].len) == 0;
}

/* A growable array of borrowed entries (KEYS, SCAN). */
struct entry_list {
    struct db_entry **items; /* owned array of borrowed entries */
    size_t count;            /* used slots */
    size_t cap;              /* allocated slots */
};

static void list_push(struct entry_list *l, struct db_entry *e)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = mem_realloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->count++] = e;
}

static void reply_entry_keys(struct client *c, const struct entry_list *l)
{
    reply_array(c, (long long)l->count);
    for (size_t i = 0; i < l->count; i++)
        reply_bulk(c, l->items[i]->key, l->items[i]->key_len);
}

/* -------------------------------------------- DEL, UNLINK, EXISTS, TOUCH */

static void del_generic(struct client *c)
{
    struct effect_arg *args = mem_alloc((size_t)c->argc * sizeof(*args));
    int deleted = 0;
    args[0] = EFFECT_LIT("DEL");
    for (int i = 1; i < c->argc; i++) {
        /* A key given twice is found only the first time: counted once. */
        if (db_delete(c->db, c->argv[i].p, c->argv[i].len))
            args[1 + deleted++] = arg_of(c, i);
    }
    if (deleted > 0)
        effect_add(c->db_index, deleted + 1, args);
    mem_free(args);
    reply_int(c, deleted);
}

void cmd_del(struct client *c)
{
    del_generic(c);
}

void cmd_unlink(struct client *c)
{
    del_generic(c);
}

/* EXISTS and TOUCH count every argument that names a live key, repeats
 * included. */
static void count_existing(struct client *c, bool no_touch)
{
    long long found = 0;
    for (int i = 1; i < c->argc; i++) {
        if (db_lookup_read(c->db, c->argv[i].p, c->argv[i].len, no_touch))
            found++;
    }
    reply_int(c, found);
}

void cmd_exists(struct client *c)
{
    count_existing(c, true);
}

void cmd_touch(struct client *c)
{
    /* TOUCH stamps the access time even under CLIENT NO-TOUCH: that is
     * its whole purpose (Redis 7.2 makes the same exception). */
    count_existing(c, false);
}

/* ------------------------------------------------------------ TYPE, KEYS */

void cmd_type(struct client *c)
{
    struct db_entry *e = db_lookup_read(c->db, c->argv[1].p, c->argv[1].len, true);
    reply_simple(c, e ? obj_type_name(e->val) : "none");
}

struct keys_ctx {
    const struct client_arg *pattern; /* borrowed glob */
    bool match_all;                   /* pattern is "*" */
    int64_t now_ms;                   /* command time, to hide expired keys */
    struct entry_list out;            /* matching live keys */
};

static bool key_matches(const struct client_arg *pat, const struct db_entry *e)
{
    return util_glob_match(pat->p, pat->len, e->key, e->key_len, false);
}

static void keys_visit(struct db_entry *e, void *ctx)
{
    struct keys_ctx *k = ctx;
    if (db_entry_expired(e, k->now_ms))
        return;
    if (k->match_all || key_matches(k->pattern, e))
        list_push(&k->out, e);
}

void cmd_keys(struct client *c)
{
    struct keys_ctx k = {.pattern = &c->argv[1], .now_ms = db_now()};
    k.match_all = c->argv[1].len == 1 && c->argv[1].p[0] == '*';
    db_foreach(c->db, keys_visit, &k);
    reply_entry_keys(c, &k.out);
    mem_free(k.out.items);
}

/* ------------------------------------------------------------------ SCAN */

struct scan_opts {
    long long count;                  /* COUNT, at least 1 */
    const struct client_arg *pattern; /* MATCH, or NULL for all keys */
    const struct client_arg *type;    /* TYPE, or NULL */
};

/* Parse the options after the cursor; replies with the error on failure. */
static bool parse_scan_opts(struct client *c, struct scan_opts *o)
{
    o->count = 10;
    o->pattern = NULL;
    o->type = NULL;
    for (int i = 2; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (has_value && client_arg_is(c, i, "count")) {
            if (!util_str_to_ll(c->argv[i + 1].p, c->argv[i + 1].len, &o->count)) {
                reply_err_not_int(c);
                return false;
            }
            if (o->count < 1) {
                reply_err_syntax(c);
                return false;
            }
        } else if (has_value && client_arg_is(c, i, "match")) {
            const struct client_arg *pat = &c->argv[i + 1];
            o->pattern = pat->len == 1 && pat->p[0] == '*' ? NULL : pat;
        } else if (has_value && client_arg_is(c, i, "type")) {
            o->type = &c->argv[i + 1];
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    return true;
}

static void scan_visit(struct db_entry *e, void *ctx)
{
    list_push(ctx, e);
}

/* Drop the collected keys that are expired or fail MATCH / TYPE. */
static void scan_filter(struct entry_list *l, const struct scan_opts *o)
{
    int64_t now_ms = db_now();
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        struct db_entry *e = l->items[i];
        if (db_entry_expired(e, now_ms))
            continue;
        if (o->pattern && !key_matches(o->pattern, e))
            continue;
        if (o->type && !util_strcaseeq(o->type->p, o->type->len, obj_type_name(e->val)))
            continue;
        l->items[kept++] = e;
    }
    l->count = kept;
}

void cmd_scan(struct client *c)
{
    struct entry_list keys = {NULL, 0, 0};
    struct scan_opts o;
    uint64_t cursor;
    long long steps_max;
    char cursor_str[UTIL_LL_STR_BYTES];
    if (!cmd_parse_cursor(c->argv[1].p, c->argv[1].len, &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    if (!parse_scan_opts(c, &o))
        return;
    /* Bound the work: at most 10 cursor steps per key asked for. */
    steps_max = o.count > LLONG_MAX / 10 ? LLONG_MAX : o.count * 10;
    do {
        cursor = db_scan(c->db, cursor, scan_visit, &keys);
    } while (cursor != 0 && --steps_max > 0 && keys.count < (unsigned long long)o.count);
    scan_filter(&keys, &o);
    snprintf(cursor_str, sizeof(cursor_str), "%llu", (unsigned long long)cursor);
    reply_array(c, 2);
    reply_bulk_str(c, cursor_str);
    reply_entry_keys(c, &keys);
    mem_free(keys.items);
}

/* ------------------------------------------------------------- RANDOMKEY */

void cmd_randomkey(struct client *c)
{
    struct db_entry *e = db_random(c->db);
    if (e)
        reply_bulk(c, e->key, e->key_len);
    else
        reply_null(c);
}

/* ---------------------------------------------------------- RENAME, MOVE */

/* A key for RENAME, MOVE or COPY. Looked up without saving its value for
 * a transaction's undo log: these commands never change a value in place
 * (they move, delete or copy it, and db.c logs that). */
static struct db_entry *lookup_key(struct db *db, const struct client_arg *a)
{
    return db_lookup_write_logged(db, a->p, a->len);
}

static void rename_generic(struct client *c, bool nx)
{
    struct db_entry *src = lookup_key(c->db, &c->argv[1]);
    struct effect_arg args[3] = {EFFECT_LIT("RENAME"), arg_of(c, 1), arg_of(c, 2)};
    if (!src) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (same_arg(c, 1, 2)) {
        if (nx)
            reply_int(c, 0);
        else
            reply_ok(c);
        return;
    }
    struct db_entry *dst = lookup_key(c->db, &c->argv[2]);
    if (dst) {
        if (nx) {
            reply_int(c, 0);
            return;
        }
        db_delete_entry(c->db, dst);
    }
    (void)db_move_entry(c->db, src, c->db, c->argv[2].p, c->argv[2].len);
    effect_add(c->db_index, 3, args);
    if (nx)
        reply_int(c, 1);
    else
        reply_ok(c);
}

void cmd_rename(struct client *c)
{
    rename_generic(c, false);
}

void cmd_renamenx(struct client *c)
{
    rename_generic(c, true);
}

void cmd_move(struct client *c)
{
    int dst_id;
    struct db *dst;
    char id_str[DB_INDEX_STR_BYTES];
    if (!parse_int_or_reply(c, 2, &dst_id))
        return;
    dst = db_at(dst_id);
    if (!dst) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    /* The same-db check comes before the key lookup, as in Redis. */
    if (dst == c->db) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    struct db_entry *e = lookup_key(c->db, &c->argv[1]);
    if (!e || lookup_key(dst, &c->argv[1])) {
        reply_int(c, 0);
        return;
    }
    (void)db_move_entry(c->db, e, dst, c->argv[1].p, c->argv[1].len);
    int n = snprintf(id_str, sizeof(id_str), "%d", dst_id);
    struct effect_arg args[3] = {EFFECT_LIT("MOVE"), arg_of(c, 1), EFFECT_ARG(id_str, (size_t)n)};
    effect_add(c->db_index, 3, args);
    reply_int(c, 1);
}

/* ------------------------------------------------------------------ COPY */

/* Parse COPY's options: DB n and REPLACE, in any order, repeatable. */
static bool parse_copy_opts(struct client *c, int *dst_id, bool *replace)
{
    *dst_id = c->db_index;
    *replace = false;
    for (int i = 3; i < c->argc; i++) {
        if (client_arg_is(c, i, "replace")) {
            *replace = true;
        } else if (client_arg_is(c, i, "db") && i + 1 < c->argc) {
            if (!parse_int_or_reply(c, i + 1, dst_id))
                return false;
            /* As Redis: checked where it is read, before later options. */
            if (!db_at(*dst_id)) {
                reply_error(c, "ERR DB index is out of range");
                return false;
            }
            i++;
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    return true;
}

static void copy_effect(struct client *c, int dst_id)
{
    char id_str[DB_INDEX_STR_BYTES];
    int n = snprintf(id_str, sizeof(id_str), "%d", dst_id);
    /* Always REPLACE: when the original had no REPLACE the destination was
     * absent, so replaying with it does the same thing. */
    struct effect_arg args[6] = {EFFECT_LIT("COPY"), arg_of(c, 1), arg_of(c, 2),
                                 EFFECT_LIT("DB"), EFFECT_ARG(id_str, (size_t)n),
                                 EFFECT_LIT("REPLACE")};
    effect_add(c->db_index, 6, args);
}

void cmd_copy(struct client *c)
{
    int dst_id;
    bool replace;
    struct db *dst;
    if (!parse_copy_opts(c, &dst_id, &replace))
        return;
    dst = db_at(dst_id);
    ASSERT(dst); /* parse_copy_opts checked it */
    if (dst == c->db && same_arg(c, 1, 2)) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    struct db_entry *src = lookup_key(c->db, &c->argv[1]);
    if (!src) {
        reply_int(c, 0);
        return;
    }
    /* src stays valid: at most the destination entry, another key or
     * another db, is deleted below. */
    struct db_entry *old = lookup_key(dst, &c->argv[2]);
    if (old) {
        if (!replace) {
            reply_int(c, 0);
            return;
        }
        db_delete_entry(dst, old);
    }
    int64_t expire_ms = src->expire_ms;
    struct obj *val = obj_dup(src->val);
    struct db_entry *ne = db_add(dst, c->argv[2].p, c->argv[2].len, val);
    if (expire_ms >= 0)
        db_set_expire(dst, ne, expire_ms);
    copy_effect(c, dst_id);
    reply_int(c, 1);
}

/* ---------------------------------------- DBSIZE, FLUSHDB, FLUSHALL, ... */

void cmd_dbsize(struct client *c)
{
    reply_int(c, (long long)db_size(c->db));
}

/* FLUSHDB/FLUSHALL take at most one of ASYNC and SYNC. Both flush at once
 * here: freeing in the background is not needed yet. */
static bool parse_flush_opts(struct client *c)
{
    if (c->argc == 1)
        return true;
    if (c->argc == 2 && (client_arg_is(c, 1, "sync") || client_arg_is(c, 1, "async")))
        return true;
    reply_err_syntax(c);
    return false;
}

void cmd_flushdb(struct client *c)
{
    if (!parse_flush_opts(c))
        return;
    if (db_size(c->db) > 0) {
        struct effect_arg args[1] = {EFFECT_LIT("FLUSHDB")};
        watch_touch_db(c->db, NULL);
        db_flush(c->db);
        effect_add(c->db_index, 1, args);
    }
    reply_ok(c);
}

void cmd_flushall(struct client *c)
{
    bool changed = false;
    if (!parse_flush_opts(c))
        return;
    for (int i = 0; i < server.cfg.databases; i++) {
        if (db_size(&server.dbs[i]) == 0)
            continue;
        watch_touch_db(&server.dbs[i], NULL);
        db_flush(&server.dbs[i]);
        changed = true;
    }
    if (changed) {
        struct effect_arg args[1] = {EFFECT_LIT("FLUSHALL")};
        effect_add(c->db_index, 1, args);
    }
    reply_ok(c);
}

void cmd_select(struct client *c)
{
    int id;
    struct db *db;
    if (!parse_int_or_reply(c, 1, &id))
        return;
    db = db_at(id);
    if (!db) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = db;
    c->db_index = id;
    reply_ok(c);
}

void cmd_swapdb(struct client *c)
{
    int a, b;
    bool too_big;
    struct db *da, *db;
    if (!parse_int(c, 1, &a, &too_big)) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (!parse_int(c, 2, &b, &too_big)) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    da = db_at(a);
    db = db_at(b);
    if (!da || !db) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    /* Clients keep pointing at server.dbs[i], so they see the new data. */
    if (da != db && db_size(da) + db_size(db) > 0) {
        struct effect_arg args[3] = {EFFECT_LIT("SWAPDB"), arg_of(c, 1), arg_of(c, 2)};
        watch_touch_db(da, db);
        watch_touch_db(db, da);
        db_swap(da, db);
        block_signal_db(a); /* waiters on keys that now have data */
        block_signal_db(b);
        effect_add(c->db_index, 3, args);
    }
    reply_ok(c);
}

/* ---------------------------------------------------------------- OBJECT */

/* Redis's shared integers: OBJECT REFCOUNT reports INT_MAX for them. */
#define SHARED_INTEGERS_MAX 10000

/* The value of argv[2] without touching its access time, or NULL after
 * replying nil. */
static struct obj *object_lookup(struct client *c)
{
    struct db_entry *e = db_lookup_read(c->db, c->argv[2].p, c->argv[2].len, true);
    if (!e) {
        reply_null(c);
        return NULL;
    }
    return e->val;
}

void cmd_object_encoding(struct client *c)
{
    struct obj *o = object_lookup(c);
    if (o)
        reply_bulk_str(c, obj_encoding_name(o));
}

void cmd_object_freq(struct client *c)
{
    /* No LFU policy exists yet, so frequencies are never tracked. */
    if (object_lookup(c))
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not "
                       "tracked. Please note that when switching between policies at runtime "
                       "LRU and LFU data will take some time to adjust.");
}

void cmd_object_idletime(struct client *c)
{
    struct obj *o = object_lookup(c);
    uint32_t now, idle_s;
    if (!o)
        return;
    now = db_lru_clock();
    /* The 24-bit clock wraps about every 194 days. */
    idle_s = now >= o->lru ? now - o->lru : now + (OBJ_LRU_MAX - o->lru);
    reply_int(c, (long long)idle_s);
}

void cmd_object_refcount(struct client *c)
{
    struct obj *o = object_lookup(c);
    if (!o)
        return;
    /* Values are never shared here, but Redis stores small integers as
     * shared objects and reports INT_MAX for them; clients see the same. */
    if (o->type == OBJ_STRING && o->encoding == OBJ_ENC_INT && obj_int(o) >= 0 &&
        obj_int(o) < SHARED_INTEGERS_MAX)
        reply_int(c, INT_MAX);
    else
        reply_int(c, 1);
}

void cmd_object_help(struct client *c)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the internal encoding of the value stored at <key>.",
        "FREQ <key>",
        "    Return the logarithmic access frequency counter of <key> (LFU policies only).",
        "IDLETIME <key>",
        "    Return the number of seconds since <key> was last accessed.",
        "REFCOUNT <key>",
        "    Return the reference count of the value stored at <key>.",
        "HELP",
        "    Print this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_simple(c, lines[i]);
}
