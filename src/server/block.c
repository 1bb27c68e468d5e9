/*
 * block.c - clients blocked on keys.
 *
 * Design
 *   A registry `waiting` maps (db, key) to the clients waiting on it, in
 *   the order they blocked (FIFO fairness, as Redis). A blocked client owns
 *   a block_state: a copy of its command (the query buffer moves on), the
 *   registry entries it is in, its deadline and its timeout reply.
 *
 *   Readiness comes from the effects: multi.c's observer calls
 *   block_signal() for every key a change names; the key is queued once
 *   (copied, since its registry entry may go before it is served).
 *   block_serve_ready() re-runs waiters' commands through the dispatcher
 *   (cmd_rerun), which logs and holds them like any command: a served pop
 *   is durable before its reply leaves (D1). Serving may push elsewhere
 *   (BLMOVE) and queue more keys; every serve unblocks one client or stops
 *   the key's loop, so the work is bounded by the blocked clients.
 *
 *   Timeouts: block_expire() walks the blocked clients before the loop
 *   sleeps and returns the earliest deadline, which the server passes to
 *   the event loop as its wake-up time, so fractional timeouts are kept to
 *   the millisecond.
 *
 * Invariants
 *   (1) c->blk != NULL iff CLIENT_BLOCKED iff c is on the blocked list.
 *   (2) A registry entry has at least one waiter; each waiter's blk->keys
 *       holds the entry exactly once.
 *
 * Threads
 *   Loop thread.
 */
#include "server/block.h"

#include "cmd/cmd.h"
#include "core/assert.h"
#include "core/mem.h"
#include "core/util.h"
#include "server/reply.h"
#include "server/server.h"

#include <string.h>

struct waiting_key {
    struct ht_node node;       /* link in `waiting` */
    int db;                    /* database index */
    bool queued;               /* on the ready queue */
    int count, cap;            /* waiters used / allocated */
    struct client **waiters;   /* owned array, oldest first */
    uint32_t len;              /* key bytes */
    char key[];                /* the key */
};

struct block_state {
    const struct cmd_def *cmd;   /* the blocked command */
    int argc;                    /* its arguments */
    struct client_arg *argv;     /* owned block: array then bytes */
    struct waiting_key **keys;   /* owned array of borrowed entries */
    int nkeys;                   /* entries in keys */
    int64_t deadline_us;         /* monotonic; 0 = none */
    int type;                    /* enum obj_type of the data it waits for */
    bool reblocked;              /* set when a re-run blocked again */
    const struct waiting_key *serving; /* the ready key during a re-run */
    struct client *prev, *next;  /* blocked list */
};

struct wk_probe {
    int db;
    const char *key;
    size_t len;
};

static struct {
    struct ht waiting;       /* struct waiting_key */
    struct client *blocked;  /* list of blocked clients */
    size_t count;            /* blocked clients */
    struct buf ready;        /* queued keys: (int db, uint32 len, bytes) */
} blk;

static uint64_t wk_hash_raw(int db, const char *key, size_t len)
{
    return util_hash(key, len, 0x626c6f636bull + (uint64_t)db);
}

static uint64_t wk_hash(const struct ht_node *n)
{
    const struct waiting_key *w = (const struct waiting_key *)n;
    return wk_hash_raw(w->db, w->key, w->len);
}

static bool wk_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct waiting_key *w = (const struct waiting_key *)n;
    const struct wk_probe *p = key;
    (void)len;
    return w->db == p->db && w->len == p->len && memcmp(w->key, p->key, p->len) == 0;
}

static const struct ht_type wk_type = {.hash_node = wk_hash, .key_eq = wk_eq};

static void ensure_init(void)
{
    if (!blk.waiting.type)
        ht_create(&blk.waiting, &wk_type);
}

static struct waiting_key *wk_find(int db, const char *key, size_t len)
{
    struct wk_probe p = {db, key, len};
    ensure_init();
    return (struct waiting_key *)ht_find(&blk.waiting, &p, len, wk_hash_raw(db, key, len));
}

size_t block_count(void)
{
    return blk.count;
}

bool block_any(void)
{
    return blk.count > 0;
}

static struct waiting_key *wk_get(int db, const char *key, size_t len)
{
    struct waiting_key *w = wk_find(db, key, len);
    if (w)
        return w;
    w = mem_alloc(sizeof(*w) + len);
    w->db = db;
    w->queued = false;
    w->count = w->cap = 0;
    w->waiters = NULL;
    w->len = (uint32_t)len;
    memcpy(w->key, key, len);
    ht_insert(&blk.waiting, &w->node, wk_hash_raw(db, key, len));
    return w;
}

void block_on_keys(struct client *c, int first, int nkeys, int64_t deadline_us)
{
    struct block_state *b;
    size_t bytes = 0;
    char *p;
    if (c->blk) {
        c->blk->reblocked = true; /* a re-run found nothing: keep place and deadline */
        return;
    }
    b = mem_calloc(sizeof(*b));
    for (int i = 0; i < c->argc; i++)
        bytes += c->argv[i].len;
    b->cmd = c->cmd;
    b->argc = c->argc;
    b->argv = mem_alloc((size_t)c->argc * sizeof(*b->argv) + bytes);
    p = (char *)(b->argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].p, c->argv[i].len);
        b->argv[i] = (struct client_arg){p, c->argv[i].len};
        p += c->argv[i].len;
    }
    b->keys = mem_alloc((size_t)nkeys * sizeof(*b->keys));
    for (int i = 0; i < nkeys; i++) {
        const struct client_arg *k = &c->argv[first + i];
        struct waiting_key *w = wk_get(c->db_index, k->p, k->len);
        bool dup = false;
        for (int j = 0; j < b->nkeys; j++)
            dup = dup || b->keys[j] == w; /* BLPOP k k: wait once */
        if (dup)
            continue;
        if (w->count == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 2;
            w->waiters = mem_realloc(w->waiters, (size_t)w->cap * sizeof(*w->waiters));
        }
        w->waiters[w->count++] = c;
        b->keys[b->nkeys++] = w;
    }
    b->deadline_us = deadline_us;
    b->type = strcmp(c->cmd->group, "sorted-set") == 0 ? OBJ_ZSET : OBJ_LIST;
    b->next = blk.blocked;
    if (blk.blocked)
        blk.blocked->blk->prev = c;
    blk.blocked = c;
    c->blk = b;
    c->flags |= CLIENT_BLOCKED;
    blk.count++;
}

/* Leave every registry entry and the blocked list; free the state. */
static void unblock(struct client *c)
{
    struct block_state *b = c->blk;
    ASSERT(b != NULL);
    for (int i = 0; i < b->nkeys; i++) {
        struct waiting_key *w = b->keys[i];
        int at = 0;
        while (at < w->count && w->waiters[at] != c)
            at++;
        ASSERT(at < w->count); /* invariant 2 */
        memmove(&w->waiters[at], &w->waiters[at + 1],
                (size_t)(w->count - at - 1) * sizeof(*w->waiters));
        if (--w->count == 0) {
            ht_remove_node(&blk.waiting, &w->node, wk_hash_raw(w->db, w->key, w->len));
            mem_free(w->waiters);
            mem_free(w);
        }
    }
    if (b->prev)
        b->prev->blk->next = b->next;
    else
        blk.blocked = b->next;
    if (b->next)
        b->next->blk->prev = b->prev;
    mem_free(b->keys);
    mem_free(b->argv);
    mem_free(b);
    c->blk = NULL;
    c->flags &= ~CLIENT_BLOCKED;
    blk.count--;
}

void block_client_free(struct client *c)
{
    if (c->blk)
        unblock(c);
}

void block_signal(int db, const char *key, size_t len)
{
    struct waiting_key *w;
    uint32_t l = (uint32_t)len;
    if (blk.count == 0)
        return;
    w = wk_find(db, key, len);
    if (!w || w->queued)
        return;
    w->queued = true;
    buf_append(&blk.ready, &db, sizeof(db));
    buf_append(&blk.ready, &l, sizeof(l));
    buf_append(&blk.ready, key, len);
}

struct signal_db_ctx {
    int db;
};

static void signal_visit(struct ht_node *n, void *arg)
{
    struct waiting_key *w = (struct waiting_key *)n;
    const struct signal_db_ctx *x = arg;
    if (w->db == x->db)
        block_signal(w->db, w->key, w->len);
}

void block_signal_db(int db)
{
    struct signal_db_ctx x = {db};
    if (blk.count == 0)
        return;
    ht_foreach(&blk.waiting, signal_visit, &x);
}

int block_serving_arg(const struct client *c, int first, int last)
{
    const struct waiting_key *w = c->blk ? c->blk->serving : NULL;
    for (int i = first; w && i <= last && i < c->argc; i++) {
        if (c->argv[i].len == w->len && memcmp(c->argv[i].p, w->key, w->len) == 0)
            return i;
    }
    return -1;
}

/* Re-run c's blocked command for ready key w; unblock it unless it blocked
 * again. */
static void serve(struct client *c, const struct waiting_key *w)
{
    struct block_state *b = c->blk;
    struct client_arg *argv = c->argv;
    int argc = c->argc;
    c->argv = b->argv;
    c->argc = b->argc;
    c->cmd = b->cmd;
    b->reblocked = false;
    b->serving = w;
    cmd_rerun(c);
    b->serving = NULL;
    c->argv = argv;
    c->argc = argc;
    c->cmd = NULL;
    if (!b->reblocked) {
        unblock(c);
        server_client_unblocked(c);
    }
}

/* Serve the waiters of (db, key) while it has data. */
static void serve_key(int db, const char *key, size_t len)
{
    struct waiting_key *w = wk_find(db, key, len);
    if (w)
        w->queued = false;
    while ((w = wk_find(db, key, len)) != NULL && w->count > 0) {
        struct client *c = w->waiters[0];
        struct db_entry *e = db_find_raw(&server.dbs[db], key, len);
        if (!e || db_entry_expired(e, db_now()) || e->val->type != c->blk->type)
            break; /* no data of the type the oldest waiter wants */
        serve(c, w);
        if (c->blk)
            break; /* it found nothing after all (another type): leave it */
    }
}

void block_serve_ready(void)
{
    struct buf batch;
    while (blk.ready.len > 0) {
        size_t pos = 0;
        batch = blk.ready;
        buf_create(&blk.ready);
        while (pos < batch.len) {
            int db;
            uint32_t len;
            memcpy(&db, batch.data + pos, sizeof(db));
            memcpy(&len, batch.data + pos + sizeof(db), sizeof(len));
            pos += sizeof(db) + sizeof(len);
            serve_key(db, batch.data + pos, len);
            pos += len;
        }
        buf_destroy(&batch);
    }
}

/* End c's blocking command with the timeout reply or the CLIENT UNBLOCK
 * error, and let it run its later input. */
static void end_blocked(struct client *c, bool error)
{
    if (error)
        reply_error(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        reply_null_array(c);
    unblock(c);
    server_client_unblocked(c);
}

bool block_unblock(struct client *c, bool error)
{
    if (!c->blk)
        return false;
    end_blocked(c, error);
    return true;
}

int64_t block_expire(int64_t now_us)
{
    int64_t next = 0;
    struct client *c = blk.blocked;
    while (c) {
        struct client *after = c->blk->next;
        int64_t d = c->blk->deadline_us;
        if (d > 0 && d <= now_us) {
            end_blocked(c, false);
        } else if (d > 0 && (next == 0 || d < next)) {
            next = d;
        }
        c = after;
    }
    return next;
}
