/*
 * multi.c - the MULTI queue and WATCH.
 *
 * Design
 *   Queue: a growing array of struct multi_cmd per client; each command's
 *   arguments are copied into one block, since argv points into a query
 *   buffer that is reused for the next request.
 *
 *   WATCH: a registry `watched` of (db index, key) -> the clients watching
 *   it, each with the flag "the key existed but had expired when it was
 *   watched" (Redis 7: an expired key that is then deleted is no logical
 *   change). A client keeps pointers to its registry entries, so UNWATCH is
 *   O(keys watched). An entry with no watcher left is freed.
 *
 *   Touch: the effect observer gets every effect as it is recorded, looks
 *   its command up in the command table and flags the watchers of the keys
 *   in it. MOVE and COPY name a key of another database in an argument and
 *   are decoded here. Cost when nobody watches anything: one test.
 *
 * Invariants
 *   (1) A registry entry has at least one watcher and appears exactly once
 *       in each of its watchers' c->watched.
 *   (2) CLIENT_DIRTY_EXEC and CLIENT_DIRTY_CAS are only meaningful with
 *       CLIENT_MULTI / a watched key; multi_discard() clears both.
 *
 * Threads
 *   Loop thread.
 */
#include "server/multi.h"

#include "cmd/cmd.h"
#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/effect.h"
#include "server/block.h"
#include "server/reply.h"
#include "server/server.h"

#include <string.h>

struct watcher {
    struct client *c; /* borrowed */
    bool expired;     /* the key had expired when c watched it */
};

struct watched_key {
    struct ht_node node;       /* link in registry */
    int db;                    /* database index */
    int count, cap;            /* watchers used / allocated */
    struct watcher *watchers;  /* owned array */
    uint32_t len;              /* key bytes */
    char key[];                /* the key */
};

struct watch_ref {
    struct watched_key *wk; /* borrowed from the registry */
};

struct watch_probe {
    int db;
    const char *key;
    size_t len;
};

static struct ht registry;

static void touch_key(int db, const char *key, size_t len, bool expiry);

static uint64_t wk_hash_raw(int db, const char *key, size_t len)
{
    return util_hash(key, len, 0x7761746368ull + (uint64_t)db);
}

static uint64_t wk_hash(const struct ht_node *n)
{
    const struct watched_key *w = (const struct watched_key *)n;
    return wk_hash_raw(w->db, w->key, w->len);
}

static bool wk_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct watched_key *w = (const struct watched_key *)n;
    const struct watch_probe *p = key;
    (void)len;
    return w->db == p->db && w->len == p->len && memcmp(w->key, p->key, p->len) == 0;
}

static const struct ht_type wk_type = {.hash_node = wk_hash, .key_eq = wk_eq};

static struct watched_key *wk_find(int db, const char *key, size_t len)
{
    struct watch_probe p = {db, key, len};
    return (struct watched_key *)ht_find(&registry, &p, len, wk_hash_raw(db, key, len));
}

size_t watch_keys_count(void)
{
    return ht_count(&registry);
}

/* ---- Queue ------------------------------------------------------------- */

bool multi_queue(struct client *c)
{
    size_t bytes = 0;
    struct multi_cmd *m;
    char *p;
    if (c->flags & (CLIENT_DIRTY_EXEC | CLIENT_DIRTY_CAS))
        return true; /* EXEC will not run it: answer +QUEUED, keep nothing (as Redis) */
    for (int i = 0; i < c->argc; i++)
        bytes += c->argv[i].len + sizeof(struct client_arg); /* what the copy costs */
    if (c->mqueue_count >= MULTI_QUEUED_MAX ||
        c->mqueue_bytes + bytes > MULTI_QUEUED_BYTES_MAX) {
        reply_errorf(c, "ERR transaction too large: at most %d commands and %llu bytes of "
                        "arguments may be queued", MULTI_QUEUED_MAX,
                     (unsigned long long)MULTI_QUEUED_BYTES_MAX);
        multi_flag_error(c);
        return false;
    }
    if (c->mqueue_count == c->mqueue_cap) {
        c->mqueue_cap = c->mqueue_cap ? c->mqueue_cap * 2 : 8;
        c->mqueue = mem_realloc(c->mqueue, (size_t)c->mqueue_cap * sizeof(*c->mqueue));
    }
    m = &c->mqueue[c->mqueue_count++];
    m->cmd = c->cmd;
    m->argc = c->argc;
    m->argv = mem_alloc(bytes);
    p = (char *)(m->argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].p, c->argv[i].len);
        m->argv[i].p = p;
        m->argv[i].len = c->argv[i].len;
        p += c->argv[i].len;
    }
    c->mqueue_bytes += bytes;
    return true;
}

void multi_flag_error(struct client *c)
{
    if (c->flags & CLIENT_MULTI)
        c->flags |= CLIENT_DIRTY_EXEC;
}

void watch_signal(int db, const char *key, size_t len)
{
    if (ht_count(&registry) > 0)
        touch_key(db, key, len, false);
}

void multi_discard(struct client *c)
{
    for (int i = 0; i < c->mqueue_count; i++)
        mem_free(c->mqueue[i].argv);
    mem_free(c->mqueue);
    c->mqueue = NULL;
    c->mqueue_count = c->mqueue_cap = 0;
    c->mqueue_bytes = 0;
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC | CLIENT_DIRTY_CAS);
    watch_unwatch_all(c);
}

void multi_client_free(struct client *c)
{
    multi_discard(c);
    mem_free(c->watched);
    c->watched = NULL;
    c->watched_cap = 0;
}

/* ---- WATCH ------------------------------------------------------------- */

bool watch_key(struct client *c, const char *key, size_t len)
{
    struct watched_key *wk = wk_find(c->db_index, key, len);
    struct db_entry *e;
    if (wk) {
        for (int i = 0; i < wk->count; i++) {
            if (wk->watchers[i].c == c)
                return true; /* already watched */
        }
    }
    if (c->watched_count >= WATCH_KEYS_MAX) {
        reply_errorf(c, "ERR too many watched keys (at most %d per connection)",
                     WATCH_KEYS_MAX);
        return false;
    }
    if (!wk) {
        wk = mem_alloc(sizeof(*wk) + len);
        wk->db = c->db_index;
        wk->count = wk->cap = 0;
        wk->watchers = NULL;
        wk->len = (uint32_t)len;
        memcpy(wk->key, key, len);
        ht_insert(&registry, &wk->node, wk_hash_raw(wk->db, key, len));
    }
    if (wk->count == wk->cap) {
        wk->cap = wk->cap ? wk->cap * 2 : 2;
        wk->watchers = mem_realloc(wk->watchers, (size_t)wk->cap * sizeof(*wk->watchers));
    }
    e = db_find_raw(c->db, key, len);
    wk->watchers[wk->count++] =
        (struct watcher){.c = c, .expired = e && db_entry_expired(e, db_now())};
    if (c->watched_count == c->watched_cap) {
        c->watched_cap = c->watched_cap ? c->watched_cap * 2 : 4;
        c->watched = mem_realloc(c->watched, (size_t)c->watched_cap * sizeof(*c->watched));
    }
    c->watched[c->watched_count++] = (struct watch_ref){.wk = wk};
    return true;
}

static struct watcher *watcher_of(struct watched_key *wk, const struct client *c)
{
    for (int i = 0; i < wk->count; i++) {
        if (wk->watchers[i].c == c)
            return &wk->watchers[i];
    }
    PANIC("watch registry out of step with a client (invariant 1)");
}

void watch_unwatch_all(struct client *c)
{
    for (int i = 0; i < c->watched_count; i++) {
        struct watched_key *wk = c->watched[i].wk;
        struct watcher *w = watcher_of(wk, c);
        *w = wk->watchers[--wk->count];
        if (wk->count == 0) {
            ht_remove_node(&registry, &wk->node, wk_hash_raw(wk->db, wk->key, wk->len));
            mem_free(wk->watchers);
            mem_free(wk);
        }
    }
    c->watched_count = 0;
    c->flags &= ~CLIENT_DIRTY_CAS;
}

bool watch_exec_allowed(struct client *c)
{
    if (c->flags & CLIENT_DIRTY_CAS)
        return false;
    for (int i = 0; i < c->watched_count; i++) {
        struct watched_key *wk = c->watched[i].wk;
        struct db_entry *e;
        if (watcher_of(wk, c)->expired)
            continue;
        e = db_find_raw(&server.dbs[wk->db], wk->key, wk->len);
        if (e && db_entry_expired(e, db_now()))
            return false; /* alive when watched, expired since */
    }
    return true;
}

/* A change to wk's key. expiry: it is the deletion of an expired key. */
static void touch(struct watched_key *wk, bool expiry)
{
    for (int i = 0; i < wk->count; i++) {
        struct watcher *w = &wk->watchers[i];
        if (expiry && w->expired) {
            w->expired = false; /* deleted now: no logical change */
            continue;
        }
        w->c->flags |= CLIENT_DIRTY_CAS;
    }
}

static void touch_key(int db, const char *key, size_t len, bool expiry)
{
    struct watched_key *wk = ht_count(&registry) ? wk_find(db, key, len) : NULL;
    if (wk)
        touch(wk, expiry);
    block_signal(db, key, len); /* blocked clients wait for changes too */
}

struct touch_db_ctx {
    struct db *db, *other;
};

/* Redis 7's rule for a database that is emptied or swapped: a watched key
 * is touched if it exists on either side, unless it was expired and stays
 * absent or expired. */
static void touch_db_visit(struct ht_node *n, void *arg)
{
    struct watched_key *wk = (struct watched_key *)n;
    struct touch_db_ctx *ctx = arg;
    struct db_entry *in_db, *in_other;
    bool other_expired;
    if (wk->db != ctx->db->id)
        return;
    in_db = db_find_raw(ctx->db, wk->key, wk->len);
    in_other = ctx->other ? db_find_raw(ctx->other, wk->key, wk->len) : NULL;
    if (!in_db && !in_other)
        return;
    other_expired = in_other && db_entry_expired(in_other, db_now());
    for (int i = 0; i < wk->count; i++) {
        struct watcher *w = &wk->watchers[i];
        if (w->expired) {
            if (!in_other) {
                w->expired = false; /* the expired key is gone: no change */
                continue;
            }
            if (other_expired)
                continue; /* replaced by a key that is expired too */
        } else if (!in_db && other_expired) {
            w->expired = true; /* a missing key replaced by an expired one */
            continue;
        }
        w->c->flags |= CLIENT_DIRTY_CAS;
    }
}

void watch_touch_db(struct db *db, struct db *other)
{
    struct touch_db_ctx ctx = {db, other};
    if (ht_count(&registry) == 0)
        return;
    ht_foreach(&registry, touch_db_visit, &ctx);
}

static int parse_db(const struct effect_arg *a)
{
    long long v;
    if (!util_str_to_ll(a->p, a->len, &v) || v < 0 || v >= server.cfg.databases)
        return -1;
    return (int)v;
}

/* The effect observer: flag the watchers of every key an effect changes. */
static void on_effect(int db, int argc, const struct effect_arg *args)
{
    const struct cmd_def *d;
    int last;
    if (ht_count(&registry) == 0 && !block_any())
        return;
    d = cmd_lookup(args[0].p, args[0].len);
    if (!d || d->first_key <= 0)
        return; /* FLUSHDB, FLUSHALL, SWAPDB: watch_touch_db() did it */
    if (strcmp(d->name, "copy") == 0) {
        /* COPY src dst DB n REPLACE (effect form): only dst changes. */
        int dst = argc >= 5 ? parse_db(&args[4]) : db;
        if (dst >= 0)
            touch_key(dst, args[2].p, args[2].len, false);
        return;
    }
    if (strcmp(d->name, "move") == 0 && argc >= 3) {
        int dst = parse_db(&args[2]);
        if (dst >= 0)
            touch_key(dst, args[1].p, args[1].len, false);
    }
    if (strcmp(d->name, "del") == 0 && argc == 2) {
        /* The DEL of an expired key is recorded before the key goes. */
        struct db_entry *e = db_find_raw(&server.dbs[db], args[1].p, args[1].len);
        if (e && db_entry_expired(e, db_now())) {
            touch_key(db, args[1].p, args[1].len, true);
            return;
        }
    }
    last = d->last_key < 0 ? argc + d->last_key : d->last_key;
    for (int i = d->first_key; i <= last && i < argc; i += d->key_step)
        touch_key(db, args[i].p, args[i].len, false);
}

void multi_init(void)
{
    ht_create(&registry, &wk_type);
    effect_set_observer(on_effect);
}
