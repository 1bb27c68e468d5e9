/*
 * durable.c - the life of a write: effects -> WAL record -> held reply.
 *
 * Design
 *   After each command, cmd_dispatch() calls durable_after_command(). If
 *   the command recorded effects, they become one WAL record (one lsn, D2
 *   of DESIGN.md's "Life of a write"). The command's reply must not leave
 *   before that lsn is durable (D1); neither may the reply of any command
 *   that read a key whose last write is not yet durable (D2). Both are the
 *   same mechanism: the reply's "requirement" is the highest lsn it depends
 *   on, and if that is above durable_lsn the client gets a hold at the
 *   offset where the reply starts. Replies leave in order, so a hold blocks
 *   everything after it.
 *
 *   Dirty keys: a hash table of (db, key) -> lsn of the last write not yet
 *   durable, plus a FIFO in lsn order to drop entries once durable. Writes
 *   that touch whole databases (FLUSHDB, FLUSHALL, SWAPDB, MOVE, COPY) set
 *   a global lsn that every reply depends on until it is durable.
 *
 *   Recovery replays each record's effects through the command handlers on
 *   a private client whose replies are discarded, with the clock set to the
 *   record's time, so expiry decisions are the ones made when it ran.
 *
 * Invariants
 *   (1) D1/D2: a client's bytes from holds[oldest].start on are not written
 *       while that hold's lsn > durable_lsn.
 *   (2) A dirty entry's lsn is above durable_lsn, or it is in the FIFO
 *       waiting to be dropped.
 *   (3) D4: once the WAL failed, no write command runs and held replies
 *       are replaced by an error.
 *   (4) During replay nothing is appended to the WAL.
 *
 * Threads
 *   Loop thread.
 */
#include "server/durable.h"

#include "cmd/cmd.h"
#include "core/assert.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/effect.h"
#include "db/undo.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/snapshot.h"
#include "storage/recovery.h"
#include "storage/snap.h"
#include "storage/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct dirty_key {
    struct ht_node node; /* link in dirty.keys */
    lsn_t lsn;           /* last write of this key */
    uint64_t hash;       /* dirty_hash_raw(db, key, len), kept for rehash and removal */
    int db;              /* database index */
    uint32_t len;        /* key bytes */
    uint32_t cap;        /* bytes allocated for key */
    char key[];          /* key */
};

struct dirty_slot {
    struct dirty_key *key; /* entry */
    lsn_t lsn;             /* its lsn when queued */
};

static struct {
    bool enabled;            /* appendonly yes */
    bool loading;            /* replaying the WAL */
    struct wal wal;          /* the log */
    int lock_fd;             /* flock'ed <dir>/engram.lock */
    struct ht keys;          /* struct dirty_key */
    struct dirty_slot *fifo; /* ring of entries in queued-lsn order */
    struct dirty_key *pool;  /* dropped entries kept for reuse, linked by node.next */
    size_t pool_count;       /* entries in pool, at most DIRTY_POOL_MAX */
    size_t fifo_cap, fifo_head, fifo_count; /* ring geometry */
    lsn_t global_lsn;        /* a db-wide write not yet durable, or 0 */
    struct client *held;     /* clients with holds (doubly linked) */
    struct client replay;    /* private client for recovery */
    struct effect_view replay_view;   /* the effect being replayed */
    uint64_t loaded_records; /* replayed at start */
    uint64_t loaded_keys;    /* from the snapshot at start */
    uint64_t snap_wal_bytes; /* wal bytes written when the last snapshot started */
    bool failed_handled;     /* D4 cleanup done */
    bool wal_open;           /* wal_open() succeeded */
    int64_t last_yield_us;   /* last time loading served the network */
    size_t open_bytes_peak;  /* largest open batch seen (INFO) */
    bool bgsave_after_exec;  /* BGSAVE ran inside EXEC: start it once EXEC is logged */
    lsn_t prune_pending;     /* a finished snapshot's lsn, above durable_lsn then */
    uint32_t await_records;  /* records of the batch that became durable last ... */
    uint32_t await_base;     /* ... the open batch's records at that moment ... */
    int64_t await_until_us;  /* ... and until when to wait for that many more */
} dur;

/* What the commands of the EXEC being run depend on and write; folded into
 * the EXEC's own requirement and marks by durable_after_command(). */
static struct {
    lsn_t need;      /* highest lsn the queued commands' replies depend on */
    bool db_wide;    /* a queued FLUSHDB, FLUSHALL, SWAPDB, MOVE or COPY */
    bool writes;     /* a queued write command ran */
    struct buf keys; /* keys written: (int db, uint32 len, bytes) records */
} txn;

static void remove_temp_snapshots(void);

static uint64_t dirty_hash_raw(int db, const char *key, size_t len)
{
    return util_hash(key, len, 0x9e3779b97f4a7c15ull + (uint64_t)db);
}

static uint64_t dirty_hash(const struct ht_node *n)
{
    return ((const struct dirty_key *)n)->hash;
}

/* Keys are compared with their db: the lookup key is "db" in the first 4
 * bytes of a small struct (see dirty_find). */
struct dirty_probe {
    int db;
    const char *key;
    size_t len;
};

static bool dirty_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct dirty_key *d = (const struct dirty_key *)n;
    const struct dirty_probe *p = key;
    (void)len;
    return d->db == p->db && d->len == p->len && memcmp(d->key, p->key, p->len) == 0;
}

static const struct ht_type dirty_type = {.hash_node = dirty_hash, .key_eq = dirty_eq};

static struct dirty_key *dirty_find_hashed(int db, const char *key, size_t len, uint64_t hash)
{
    struct dirty_probe p = {db, key, len};
    return (struct dirty_key *)ht_find(&dur.keys, &p, len, hash);
}

static struct dirty_key *dirty_find(int db, const char *key, size_t len)
{
    return dirty_find_hashed(db, key, len, dirty_hash_raw(db, key, len));
}

static void fifo_push(struct dirty_key *d)
{
    if (dur.fifo_count == dur.fifo_cap) {
        size_t cap = dur.fifo_cap ? dur.fifo_cap * 2 : 1024;
        struct dirty_slot *n = mem_alloc(cap * sizeof(*n));
        for (size_t i = 0; i < dur.fifo_count; i++)
            n[i] = dur.fifo[(dur.fifo_head + i) % dur.fifo_cap];
        mem_free(dur.fifo);
        dur.fifo = n;
        dur.fifo_cap = cap;
        dur.fifo_head = 0;
    }
    dur.fifo[(dur.fifo_head + dur.fifo_count) % dur.fifo_cap] =
        (struct dirty_slot){.key = d, .lsn = d->lsn};
    dur.fifo_count++;
}

/*
 * Every write allocates a dirty entry and the batch's fsync frees it, a few
 * hundred at a time under load: more than malloc's per-thread cache holds.
 * Dropped entries go to a bounded pool instead and are reused when their
 * key fits (keys of one workload tend to have one length).
 */
static struct dirty_key *dirty_alloc(size_t len)
{
    struct dirty_key *d = dur.pool;
    if (d && d->cap >= len) {
        dur.pool = (struct dirty_key *)d->node.next;
        dur.pool_count--;
        return d;
    }
    d = mem_alloc(sizeof(*d) + (len < 32 ? 32 : len));
    d->cap = (uint32_t)(len < 32 ? 32 : len);
    return d;
}

static void dirty_release(struct dirty_key *d)
{
    /* Only small entries are kept: a pooled block keeps its size, and a
     * few thousand large keys would otherwise stay allocated for good. */
    if (dur.pool_count >= DIRTY_POOL_MAX || d->cap > DIRTY_POOL_KEY_BYTES_MAX) {
        mem_free(d);
        return;
    }
    d->node.next = dur.pool ? &dur.pool->node : NULL;
    dur.pool = d;
    dur.pool_count++;
}

static void mark_dirty(int db, const char *key, size_t len, lsn_t lsn)
{
    uint64_t hash = dirty_hash_raw(db, key, len);
    struct dirty_key *d = ht_count(&dur.keys) ? dirty_find_hashed(db, key, len, hash) : NULL;
    if (d) {
        d->lsn = lsn; /* still queued under its older lsn; see drop_durable */
        return;
    }
    d = dirty_alloc(len);
    d->lsn = lsn;
    d->hash = hash;
    d->db = db;
    d->len = (uint32_t)len;
    memcpy(d->key, key, len);
    ht_insert(&dur.keys, &d->node, hash);
    fifo_push(d);
}

/* Drop dirty entries that are durable now (invariant 2). The ring is in
 * order of queued lsn; an entry rewritten since it was queued is queued
 * again under its new lsn, which is above durable, so this ends. */
static void drop_durable(lsn_t durable)
{
    while (dur.fifo_count > 0 && dur.fifo[dur.fifo_head].lsn <= durable) {
        struct dirty_key *d = dur.fifo[dur.fifo_head].key;
        dur.fifo_head = (dur.fifo_head + 1) % dur.fifo_cap;
        dur.fifo_count--;
        if (d->lsn > durable) {
            fifo_push(d);
            continue;
        }
        ht_remove_node(&dur.keys, &d->node, d->hash);
        dirty_release(d);
    }
    if (dur.global_lsn && dur.global_lsn <= durable)
        dur.global_lsn = 0;
}

/* ---- Holds ------------------------------------------------------------ */

static void held_link(struct client *c)
{
    if (c->on_held_list)
        return;
    c->held_prev = NULL;
    c->held_next = dur.held;
    if (dur.held)
        dur.held->held_prev = c;
    dur.held = c;
    c->on_held_list = true;
}

static void held_unlink(struct client *c)
{
    if (!c->on_held_list)
        return;
    if (c->held_prev)
        c->held_prev->held_next = c->held_next;
    else
        dur.held = c->held_next;
    if (c->held_next)
        c->held_next->held_prev = c->held_prev;
    c->on_held_list = false;
}

static void add_hold(struct client *c, size_t start, lsn_t lsn)
{
    struct client_hold *last;
    if (!c->holds)
        c->holds = mem_alloc(CLIENT_HOLDS_MAX * sizeof(*c->holds));
    if (c->holds_count > 0) {
        last = &c->holds[(c->holds_head + c->holds_count - 1) % CLIENT_HOLDS_MAX];
        /* A later lsn behind an earlier hold: the earlier one already blocks
         * these bytes, only the lsn must rise. Merging is also the answer
         * when the ring is full (bytes then wait a little longer). */
        if (lsn <= last->lsn)
            return;
        if (c->holds_count == CLIENT_HOLDS_MAX) {
            last->lsn = lsn;
            return;
        }
    }
    c->holds[(c->holds_head + c->holds_count) % CLIENT_HOLDS_MAX] =
        (struct client_hold){.start = start, .lsn = lsn};
    c->holds_count++;
    held_link(c);
}

/* Drop c's holds that durable covers; unlink c if none is left. */
static void release_durable_holds(struct client *c, lsn_t durable)
{
    while (c->holds_count > 0 && c->holds[c->holds_head].lsn <= durable) {
        c->holds_head = (c->holds_head + 1) % CLIENT_HOLDS_MAX;
        c->holds_count--;
    }
    if (c->holds_count == 0)
        held_unlink(c);
}

size_t durable_writable_end(struct client *c)
{
    if (c->holds_count == 0)
        return c->obuf.len;
    release_durable_holds(c, wal_durable_lsn(&dur.wal));
    if (c->holds_count == 0)
        return c->obuf.len;
    /* A few replies before the first hold wait for it (at most a group
     * commit) and leave in the same write: MULTI ... EXEC sent as one
     * pipeline is then answered with one write and wakes its client once,
     * not twice. Larger ones go now, so big read replies are not delayed. */
    ASSERT(c->holds[c->holds_head].start >= c->opos); /* invariant (1) */
    if (c->holds[c->holds_head].start - c->opos <= REPLY_COALESCE_BYTES)
        return c->opos;
    return c->holds[c->holds_head].start;
}

void durable_shift_holds(struct client *c, size_t bytes)
{
    for (int i = 0; i < c->holds_count; i++) {
        struct client_hold *h = &c->holds[(c->holds_head + i) % CLIENT_HOLDS_MAX];
        ASSERT(h->start >= bytes); /* nothing held was written (invariant 1) */
        h->start -= bytes;
    }
}

void durable_forget_client(struct client *c)
{
    held_unlink(c);
    mem_free(c->holds);
    c->holds = NULL;
    c->holds_count = 0;
}

/* ---- After each command ----------------------------------------------- */

/* Highest lsn among the not-yet-durable writes c's reply depends on: those
 * of its declared keys, a pending db-wide write, and, for reads that scan
 * the keyspace (DBSIZE, KEYS, SCAN, RANDOMKEY), every pending write. */
static lsn_t keys_requirement(struct client *c, const struct cmd_def *d)
{
    lsn_t need = 0;
    int last;
    if (!(d->flags & (CMD_READONLY | CMD_WRITE)))
        return 0; /* PING, INFO, CONFIG, ...: not about the keyspace */
    need = dur.global_lsn;
    if (d->first_key <= 0) {
        if (d->flags & CMD_READONLY)
            need = dur.wal.next_lsn - 1;
        return need;
    }
    if (ht_count(&dur.keys) == 0)
        return need;
    last = d->last_key < 0 ? c->argc + d->last_key : d->last_key;
    for (int i = d->first_key; i <= last && i < c->argc; i += d->key_step) {
        struct dirty_key *k = dirty_find(c->db_index, c->argv[i].p, c->argv[i].len);
        if (k && k->lsn > need)
            need = k->lsn;
    }
    return need;
}

static void mark_keys(struct client *c, const struct cmd_def *d, lsn_t lsn)
{
    int last;
    if (d->flags & CMD_DB_WIDE)
        dur.global_lsn = lsn;
    if (d->first_key <= 0)
        return;
    last = d->last_key < 0 ? c->argc + d->last_key : d->last_key;
    for (int i = d->first_key; i <= last && i < c->argc; i += d->key_step)
        mark_dirty(c->db_index, c->argv[i].p, c->argv[i].len, lsn);
}

void durable_txn_command(struct client *c, const struct cmd_def *d)
{
    lsn_t need;
    int last;
    if (!dur.wal_open || dur.loading)
        return;
    need = keys_requirement(c, d);
    if (need > txn.need)
        txn.need = need;
    if (!(d->flags & CMD_WRITE))
        return;
    txn.writes = true;
    if (d->flags & CMD_DB_WIDE)
        txn.db_wide = true;
    if (d->first_key <= 0)
        return;
    last = d->last_key < 0 ? c->argc + d->last_key : d->last_key;
    for (int i = d->first_key; i <= last && i < c->argc; i += d->key_step) {
        uint32_t len = (uint32_t)c->argv[i].len;
        buf_append(&txn.keys, &c->db_index, sizeof(c->db_index));
        buf_append(&txn.keys, &len, sizeof(len));
        buf_append(&txn.keys, c->argv[i].p, len);
    }
}

/* Mark the keys of the EXEC just logged at lsn (durable_txn_command). */
static void mark_txn_keys(lsn_t lsn)
{
    size_t pos = 0;
    if (txn.db_wide)
        dur.global_lsn = lsn;
    while (pos < txn.keys.len) {
        int db;
        uint32_t len;
        memcpy(&db, txn.keys.data + pos, sizeof(db));
        memcpy(&len, txn.keys.data + pos + sizeof(db), sizeof(len));
        pos += sizeof(db) + sizeof(len);
        mark_dirty(db, txn.keys.data + pos, len, lsn);
        pos += len;
    }
}

void durable_after_command(struct client *c, size_t reply_start)
{
    const struct cmd_def *d = c->cmd;
    lsn_t need, lsn = 0;
    bool wrote;
    if (!dur.wal_open || dur.loading || !d)
        return;
    wrote = (d->flags & CMD_WRITE) || txn.writes;
    if (effect_count() > 0 && (wrote || !wal_failed(&dur.wal))) {
        /* After a failure (the WAL thread sets it at any moment) the record
         * is never written, so its lsn never becomes durable: the keys
         * marked with it answer MISCONF below, to this client and to every
         * reader, instead of showing a write the disk does not have (D2,
         * D4). A read's expiry DELs are dropped then; replay redoes them. */
        const struct buf *e = effect_data();
        lsn = wal_append(&dur.wal, db_now(), e->data, e->len);
        mark_keys(c, d, lsn);
        mark_txn_keys(lsn);
        need = lsn; /* above every lsn the reply could depend on */
    } else {
        need = keys_requirement(c, d);
        if (txn.need > need)
            need = txn.need;
    }
    txn.need = 0;
    txn.db_wide = false;
    txn.writes = false;
    buf_clear(&txn.keys);
    if (dur.bgsave_after_exec) {
        int rc;
        dur.bgsave_after_exec = false;
        rc = durable_bgsave(false);
        if (rc != 0)
            log_warning("BGSAVE inside EXEC could not start after it: %s", strerror(-rc));
    }
    if (need <= wal_durable_lsn(&dur.wal) || c->fd < 0)
        return;
    if (wal_failed(&dur.wal)) {
        /* D2 + D4: this reply shows a write that will never be durable. */
        c->obuf.len = reply_start;
        reply_errorf(c, "MISCONF Errors writing to the WAL (%s): %s", strerror(wal_failed(&dur.wal)),
                     lsn ? "this write was not made durable"
                         : "the data this command reads was not made durable");
        return;
    }
    add_hold(c, reply_start, need);
}

bool durable_in_flight(void)
{
    return dur.wal_open && dur.wal.in_flight;
}

bool durable_wal_full(void)
{
    size_t open_bytes;
    if (!dur.wal_open || wal_failed(&dur.wal))
        return false;
    open_bytes = wal_pending_bytes(&dur.wal);
    if (open_bytes > dur.open_bytes_peak)
        dur.open_bytes_peak = open_bytes;
    return open_bytes >= WAL_OPEN_BYTES_MAX;
}

void durable_log_effects(void)
{
    if (dur.wal_open && !dur.loading && effect_count() > 0 && !wal_failed(&dur.wal))
        (void)wal_append(&dur.wal, db_now(), effect_data()->data, effect_data()->len);
}

bool durable_write_refused(struct client *c)
{
    return durable_write_refused_for(c, c->cmd);
}

bool durable_refusal(const struct cmd_def *d, char *msg, size_t cap)
{
    int err;
    if (!dur.wal_open || !(d->flags & CMD_WRITE))
        return false;
    err = wal_failed(&dur.wal);
    if (!err)
        return false;
    snprintf(msg, cap, "MISCONF Errors writing to the WAL (%s): writes are refused until the "
                       "server is restarted and the disk is fixed; reads go on.", strerror(err));
    return true;
}

bool durable_write_refused_for(struct client *c, const struct cmd_def *d)
{
    char msg[256];
    if (!durable_refusal(d, msg, sizeof(msg)))
        return false;
    reply_error(c, msg);
    return true;
}

/* ---- WAL completion --------------------------------------------------- */

/* D4: replace every held reply with an error and close those clients. */
static void fail_held_clients(int err)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "-MISCONF Errors writing to the WAL (%s): this write was not made durable\r\n",
             strerror(err));
    lsn_t durable = wal_durable_lsn(&dur.wal); /* final: D4 */
    while (dur.held) {
        struct client *c = dur.held;
        size_t cut;
        /* Replies whose writes were durable before the failure go out as
         * they are; the error replaces the rest. */
        release_durable_holds(c, durable);
        if (c->holds_count == 0) {
            server_queue_write(c);
            continue;
        }
        cut = c->holds[c->holds_head].start;
        held_unlink(c);
        c->holds_count = 0;
        if (cut < c->opos)
            cut = c->opos;
        c->obuf.len = cut;
        buf_append(&c->obuf, msg, strlen(msg));
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        server_queue_write(c);
    }
}

/*
 * How long the open batch may wait for the clients a commit released (see
 * commit_should_wait). Pipelined, those clients' next writes would go in the
 * following batch and wait about 1.5 fsyncs (F) plus a round trip; waiting
 * for them makes it F plus the time until the last of them is back. So the
 * wait only pays while it is under F / 2: bounded by half the last fsync.
 */
static int64_t commit_delay_us(void)
{
    int64_t half = (int64_t)atomic_load(&dur.wal.last_fsync_us) / 2;
    return half < WAL_COMMIT_DELAY_US ? half : WAL_COMMIT_DELAY_US;
}

/*
 * D4: a snapshot covers writes up to its lsn, taken when it started, and
 * some of them may not have been durable yet. If the WAL then fails, those
 * writes' clients are told they failed, so such a snapshot must not
 * survive: stop a running child, and remove every snapshot file above the
 * final durable_lsn. That loses nothing: the WAL is pruned for a snapshot
 * only once its lsn is durable (snapshot_finished). (A crash before this
 * runs leaves such a snapshot: those writes are then in doubt, as is a
 * write whose fsync failed, which may be in the file too.)
 */
static void discard_snapshots_after_failure(void)
{
    char path[4200], dir[4200];
    lsn_t durable = wal_durable_lsn(&dur.wal), *lsns = NULL;
    int n, removed = 0;
    if (snapshot_abort() != 0)
        log_warning("WAL failed: stopped the background snapshot");
    n = snap_list(server.cfg.dir, &lsns);
    for (int i = 0; i < n; i++) {
        if (lsns[i] <= durable)
            continue;
        snap_path(path, sizeof(path), server.cfg.dir, lsns[i]);
        if (unlink(path) == 0) {
            removed++;
            log_warning("WAL failed: removed snapshot %s, which covered writes that were "
                        "not durable", path);
        } else {
            /* Nothing acknowledged depends on it, but a restart would load
             * it and bring back writes whose clients got an error. */
            log_warning("WAL failed: could not remove snapshot %s, which covers writes that "
                        "were not durable (%s): remove it before restarting, or a restart "
                        "brings those writes back", path, strerror(errno));
        }
    }
    mem_free(lsns);
    dur.prune_pending = 0;
    if (removed) {
        snprintf(dir, sizeof(dir), "%s/snap", server.cfg.dir);
        (void)dur.wal.io->fsync_dir(dir);
    }
}

static void on_wal_event(struct ev *ev, int fd, void *data, unsigned mask)
{
    lsn_t durable = wal_poll(&dur.wal);
    int err = wal_failed(&dur.wal);
    (void)ev, (void)fd, (void)data, (void)mask;
    if (err) {
        if (!dur.failed_handled) {
            log_warning("WAL failed (%s): refusing writes, serving reads (D4)", strerror(err));
            dur.failed_handled = true;
            discard_snapshots_after_failure();
        }
        fail_held_clients(err);
        return;
    }
    drop_durable(durable);
    if (!dur.wal.in_flight) { /* the batch in flight is durable: its clients come back */
        dur.await_records = dur.wal.done_records;
        dur.await_base = dur.wal.open_records;
        dur.await_until_us = clock_mono_us() + commit_delay_us();
    }
    for (struct client *c = dur.held, *next; c; c = next) {
        next = c->held_next;
        if (c->holds[c->holds_head].lsn <= durable)
            server_queue_write(c);
    }
}

/*
 * Group commit delay. Pipelined group commit splits busy clients into two
 * groups that alternate (one batch syncing while the other fills), so each
 * write waits about two fsyncs. When a batch becomes durable, its clients
 * are released and answer within a network round trip; waiting up to
 * WAL_COMMIT_DELAY_US for as many records as that batch had lets the next
 * fsync carry both groups. The wait ends as soon as they have arrived, so
 * a lone client (one record released, one back) never waits.
 */
static bool commit_should_wait(void)
{
    if (dur.wal.in_flight || dur.wal.open.len == 0 || wal_failed(&dur.wal))
        return false;
    if (dur.wal.open_records >= dur.await_base + dur.await_records)
        return false;
    if (clock_mono_us() >= dur.await_until_us)
        return false;
    ev_wake_at(&server.ev, dur.await_until_us);
    return true;
}

void durable_before_sleep(void)
{
    if (!dur.wal_open || commit_should_wait())
        return;
    wal_flush(&dur.wal);
}

/* While loading, serve the network now and then (commands get -LOADING). */
static void loading_yield(void)
{
    int64_t now = clock_mono_us();
    if (now - dur.last_yield_us < 20000)
        return;
    dur.last_yield_us = now;
    server_process_events_while_loading();
}

/* ---- Recovery --------------------------------------------------------- */

/* Apply one decoded effect (v) with the replay client rc; 0, or -1 with the
 * reason in err. */
static int apply_effect(struct client *rc, const struct effect_view *v, char *err, size_t cap)
{
    const struct cmd_def *d;
    if (v->db >= server.cfg.databases) {
        snprintf(err, cap, "effect on database %d, but databases is %d", v->db,
                 server.cfg.databases);
        return -1;
    }
    d = cmd_lookup(v->args[0].p, v->args[0].len);
    if (!d || !d->fn || !(d->flags & CMD_WRITE)) {
        snprintf(err, cap, "unknown effect '%.*s'", (int)(v->args[0].len > 64 ? 64 : v->args[0].len),
                 v->args[0].p);
        return -1;
    }
    if (v->argc > rc->argv_cap) {
        rc->argv = mem_realloc(rc->argv, (size_t)v->argc * sizeof(*rc->argv));
        rc->argv_cap = v->argc;
    }
    for (int i = 0; i < v->argc; i++) {
        rc->argv[i].p = v->args[i].p;
        rc->argv[i].len = v->args[i].len;
    }
    rc->argc = v->argc;
    rc->db = &server.dbs[v->db];
    rc->db_index = v->db;
    rc->cmd = d;
    effect_begin();
    if ((d->arity > 0 && rc->argc != d->arity) || (d->arity < 0 && rc->argc < -d->arity))
        snprintf(err, cap, "wrong arity for effect '%s'", d->name);
    else
        d->fn(rc);
    return err[0] ? -1 : 0;
}

static int apply_record(void *ctx, const struct wal_record *r, char *err, size_t cap)
{
    struct client *rc = ctx;
    size_t off = 0;
    int result = 0;
    if ((r->lsn & 1023) == 0)
        loading_yield();
    err[0] = '\0';
    db_set_now(r->time_ms);
    if (r->body_bytes == 0) {
        snprintf(err, cap, "empty body (a record holds at least one effect)");
        return -1;
    }
    while (off < r->body_bytes && result == 0) {
        const char *why;
        int64_t n = effect_decode(r->body + off, r->body_bytes - off, &dur.replay_view, &why);
        if (n < 0) {
            snprintf(err, cap, "%s", why);
            return -1;
        }
        result = apply_effect(rc, &dur.replay_view, err, cap);
        off += (size_t)n;
    }
    return result;
}

static int lock_dir(void)
{
    char path[4096], pid[32];
    int fd, n;
    snprintf(path, sizeof(path), "%s/engram.lock", server.cfg.dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_warning("Can't open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        log_warning("The data directory %s is in use by another engram server (pid %s); "
                    "refusing to start.", server.cfg.dir, pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warning("Can't write the pid to %s", path);
    dur.lock_fd = fd;
    return 0;
}

/* Before replaying into an empty db 0, size it for the WAL at hand: one key
 * per ~48 bytes of log is an upper estimate for typical records (a SET of a
 * 16-byte key is a 51-byte record), and it saves rehashing the table again
 * and again while it fills. */
static void presize_for_wal(void)
{
    char path[4096];
    struct stat st;
    lsn_t *lsns = NULL;
    uint64_t bytes = 0;
    int n = recovery_list_segments(server.cfg.dir, &lsns);
    for (int i = 0; i < n; i++) {
        wal_segment_path(path, sizeof(path), server.cfg.dir, lsns[i]);
        if (stat(path, &st) == 0)
            bytes += (uint64_t)st.st_size;
    }
    mem_free(lsns);
    if (db_size(&server.dbs[0]) == 0 && bytes / 48 > 1024)
        db_reserve(&server.dbs[0], (size_t)(bytes / 48));
}

static int replay(struct recovery_result *res)
{
    char err[1024];
    int64_t t0 = clock_mono_us();
    lsn_t snap_lsn = 0;
    int rc;
    memset(&dur.replay, 0, sizeof(dur.replay));
    dur.replay.fd = -1;
    dur.replay.flags = CLIENT_REPLY_OFF;
    dur.replay.authenticated = true;
    dur.loading = true;
    effect_set_recording(false);
    rc = snapshot_load(&snap_lsn, &dur.loaded_keys);
    if (rc != 0) {
        dur.loading = false;
        effect_set_recording(true);
        return -1;
    }
    presize_for_wal();
    rc = recovery_run(server.cfg.dir, snap_lsn, apply_record, &dur.replay, res, err,
                      sizeof(err));
    dur.loading = false;
    effect_set_recording(true);
    mem_free(dur.replay.argv);
    effect_view_free(&dur.replay_view);
    if (rc != 0) {
        log_warning("Can't load the data: %s", err);
        return -1;
    }
    /* Keys whose absolute expiry has passed are not kept. */
    db_set_now(clock_wall_ms());
    effect_begin();
    for (int i = 0; i < server.cfg.databases; i++)
        db_expire_all(&server.dbs[i]);
    effect_begin();
    dur.loaded_records = res->records;
    log_notice("DB loaded from WAL: %" PRIu64 " records replayed from %" PRIu64
               " segments, last lsn %" PRIu64 ", %.3f seconds",
               res->records, res->segments, res->last_lsn,
               (double)(clock_mono_us() - t0) / 1e6);
    return 0;
}

int durable_lock(void)
{
    dur.lock_fd = -1;
    ht_create(&dur.keys, &dirty_type);
    return lock_dir();
}

int durable_init(void)
{
    struct recovery_result res;
    int rc;
    dur.enabled = server.cfg.appendonly != 0;
    if (!dur.enabled) {
        effect_set_recording(false); /* memory only: encoding them is wasted work */
        return 0;
    }
    if (replay(&res) != 0)
        return -1;
    /* If a snapshot is ahead of the WAL's last record (it held writes that
     * never became durable in the WAL), continue in a new segment so lsns
     * stay dense within every segment (D3). */
    if (res.wal_last_lsn < res.last_lsn)
        res.seg_first_lsn = 0;
    remove_temp_snapshots();
    rc = wal_open(&dur.wal, server.cfg.dir, (enum wal_fsync)server.cfg.appendfsync,
                  res.seg_first_lsn, res.seg_offset, res.last_lsn + 1);
    if (rc != 0) {
        log_warning("Can't open the WAL: %s", strerror(-rc));
        return -1;
    }
    if (ev_add(&server.ev, dur.wal.event_fd, EV_READABLE, on_wal_event, NULL) != 0)
        return -1;
    dur.wal_open = true;
    return 0;
}

/* Leftovers of a snapshot child that died: "<lsn>.snap.tmp". */
static void remove_temp_snapshots(void)
{
    char path[4096];
    DIR *d;
    struct dirent *de;
    snprintf(path, sizeof(path), "%s/snap", server.cfg.dir);
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 9 && strcmp(de->d_name + n - 9, ".snap.tmp") == 0) {
            char f[4400];
            snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
            unlink(f);
        }
    }
    closedir(d);
}

/* D6: after a snapshot covering lsn is durable, delete the WAL segments
 * that hold nothing after lsn, and the older snapshots. The newest
 * segment is never deleted (it is the open one). */
static void prune(lsn_t lsn);

/* A snapshot covering lsn is on disk: prune the WAL behind it once lsn is
 * durable (at once, or from the cron), never before (D4: see
 * discard_snapshots_after_failure). */
static void snapshot_finished(lsn_t lsn)
{
    if (lsn <= wal_durable_lsn(&dur.wal) && !wal_failed(&dur.wal))
        prune(lsn);
    else if (lsn > dur.prune_pending)
        dur.prune_pending = lsn;
}

static void prune(lsn_t lsn)
{
    char path[4096];
    lsn_t *lsns = NULL;
    int n = recovery_list_segments(server.cfg.dir, &lsns);
    for (int i = 0; i + 1 < n; i++) {
        if (lsns[i + 1] - 1 > lsn)
            break;
        wal_segment_path(path, sizeof(path), server.cfg.dir, lsns[i]);
        if (unlink(path) == 0)
            log_verbose("Deleted WAL segment %s (covered by snapshot %" PRIu64 ")", path, lsn);
    }
    mem_free(lsns);
    n = snap_list(server.cfg.dir, &lsns);
    for (int i = 0; i < n; i++) {
        if (lsns[i] >= lsn)
            continue;
        snap_path(path, sizeof(path), server.cfg.dir, lsns[i]);
        unlink(path);
    }
    mem_free(lsns);
}

int durable_bgsave(bool sync)
{
    lsn_t lsn;
    int rc;
    if (!dur.wal_open)
        return -ENOTSUP;
    /* D4: after a failed WAL write or fsync, memory holds the effects of
     * writes whose clients were told they failed; a snapshot would make
     * them durable after all. Restarting recovers the durable state. */
    if (wal_failed(&dur.wal))
        return -ENOTRECOVERABLE;
    if (undo_active()) {
        /* Inside EXEC the keyspace is half-way through the transaction; a
         * snapshot of it would hold part of an EXEC record (and roll-back
         * could not reach it). Start it right after the EXEC instead. */
        ASSERT(!sync); /* SAVE is refused inside MULTI (CMD_NO_MULTI) */
        if (snapshot_in_progress())
            return -EBUSY;
        dur.bgsave_after_exec = true;
        return 0;
    }
    lsn = dur.wal.next_lsn - 1;
    pthread_mutex_lock(&dur.wal.lock); /* the WAL thread updates stats under it */
    dur.snap_wal_bytes = dur.wal.stats.bytes + wal_pending_bytes(&dur.wal);
    pthread_mutex_unlock(&dur.wal.lock);
    if (!sync)
        return snapshot_start_bg(lsn);
    rc = snapshot_save_sync(lsn);
    if (rc == 0)
        snapshot_finished(lsn);
    return rc;
}

/* Save rules: "<seconds> <changes> ..." pairs, as Redis's `save`. */
static bool save_rule_due(void)
{
    const char *p = server.cfg.save;
    int64_t elapsed = clock_wall_ms() / 1000 - server.last_save_s;
    while (*p) {
        long long secs, changes;
        int used = 0;
        if (sscanf(p, "%lld %lld%n", &secs, &changes, &used) != 2 || used == 0)
            return false;
        if (elapsed >= secs && server.dirty >= (uint64_t)changes && changes > 0)
            return true;
        p += used;
        while (*p == ' ')
            p++;
    }
    return false;
}

/*
 * WAL bytes since the last snapshot that call for the next one: at least
 * wal-snapshot-bytes, and at least wal-snapshot-percentage of the last
 * snapshot's size. The second part keeps the cost of snapshots in
 * proportion to the writes (as Redis's auto-aof-rewrite-percentage): a
 * 10 GB dataset is not rewritten for every 64 MB of WAL, and a restart
 * never replays more WAL than about that share of the snapshot it loads.
 */
static uint64_t snapshot_due_bytes(void)
{
    uint64_t floor = (uint64_t)server.cfg.wal_snapshot_bytes;
    uint64_t base = snapshot_last_bytes(), share;
    int pct = server.cfg.wal_snapshot_percentage;
    if (pct <= 0 || base == 0)
        return floor;
    share = base > UINT64_MAX / (uint64_t)pct ? UINT64_MAX : base * (uint64_t)pct / 100;
    return share > floor ? share : floor;
}

void durable_cron(void)
{
    lsn_t done;
    uint64_t written;
    if (!dur.wal_open)
        return;
    done = snapshot_cron();
    if (done)
        snapshot_finished(done);
    if (dur.prune_pending && dur.prune_pending <= wal_durable_lsn(&dur.wal) &&
        !wal_failed(&dur.wal)) {
        prune(dur.prune_pending);
        dur.prune_pending = 0;
    }
    if (snapshot_in_progress() || wal_failed(&dur.wal))
        return;
    pthread_mutex_lock(&dur.wal.lock);
    written = dur.wal.stats.bytes;
    pthread_mutex_unlock(&dur.wal.lock);
    if (written - dur.snap_wal_bytes >= snapshot_due_bytes() || save_rule_due()) {
        int rc = durable_bgsave(false);
        if (rc != 0)
            log_warning("Can't start a background snapshot: %s", strerror(-rc));
    }
}

static void free_dirty(struct ht_node *n, void *ctx)
{
    (void)ctx;
    mem_free(n);
}

void durable_shutdown(void)
{
    snapshot_shutdown();
    if (dur.wal_open) {
        ev_del(&server.ev, dur.wal.event_fd, EV_READABLE);
        wal_close(&dur.wal);
        dur.wal_open = false;
    }
    ht_destroy(&dur.keys, free_dirty, NULL);
    while (dur.pool) {
        struct dirty_key *d = dur.pool;
        dur.pool = (struct dirty_key *)d->node.next;
        mem_free(d);
    }
    dur.pool_count = 0;
    mem_free(dur.fifo);
    if (dur.lock_fd >= 0)
        close(dur.lock_fd);
}

void durable_child_after_fork(void)
{
    if (dur.lock_fd >= 0)
        close(dur.lock_fd);
    dur.lock_fd = -1;
}

void durable_apply_config(void)
{
    if (dur.wal_open)
        wal_set_fsync(&dur.wal, (enum wal_fsync)server.cfg.appendfsync);
}

bool durable_loading(void)
{
    return dur.loading;
}

void durable_info(struct buf *b)
{
    uint32_t f50 = 0, f99 = 0, b50 = 0, b99 = 0;
    uint64_t fsyncs = 0, bytes = 0;
    lsn_t last = 0, durable = 0;
    int err = 0;
    if (dur.wal_open) {
        wal_stats_percentiles(&dur.wal, &f50, &f99, &b50, &b99, &fsyncs, &bytes);
        last = dur.wal.next_lsn - 1;
        durable = wal_durable_lsn(&dur.wal);
        err = wal_failed(&dur.wal);
    }
    buf_appendf(b,
                "# Persistence\r\nloading:%d\r\nasync_loading:0\r\n"
                "rdb_changes_since_last_save:%llu\r\n",
                dur.loading ? 1 : 0, (unsigned long long)server.dirty);
    snapshot_info(b);
    buf_appendf(b,
                "aof_enabled:%d\r\naof_rewrite_in_progress:0\r\n"
                "aof_last_write_status:%s\r\nappendfsync:%s\r\nwal_lsn:%" PRIu64 "\r\n"
                "durable_lsn:%" PRIu64 "\r\nwal_fsyncs:%" PRIu64 "\r\nwal_fsync_us_p50:%u\r\n"
                "wal_fsync_us_p99:%u\r\nwal_batch_records_p50:%u\r\n"
                "wal_batch_records_p99:%u\r\nwal_bytes:%" PRIu64 "\r\n"
                "wal_loaded_records:%" PRIu64 "\r\nsnapshot_loaded_keys:%" PRIu64 "\r\n"
                "wal_open_bytes_peak:%zu\r\n",
                dur.enabled ? 1 : 0, err ? "err" : "ok",
                (const char *[]){"always", "everysec", "no"}[server.cfg.appendfsync], last,
                durable, fsyncs, f50, f99, b50, b99, bytes, dur.loaded_records, dur.loaded_keys,
                dur.open_bytes_peak);
}

bool durable_errinj(const char *point, int countdown, int err)
{
    if (strcasecmp(point, "wal-fsync-delay") == 0)
        return io_errinj_set_fsync_delay(countdown);
    if (strcasecmp(point, "fork-delay") == 0)
        return snapshot_errinj_delay(SNAPSHOT_DELAY_PARENT, countdown);
    if (strcasecmp(point, "snapshot-delay") == 0)
        return snapshot_errinj_delay(SNAPSHOT_DELAY_CHILD, countdown);
    if (strcasecmp(point, "wal-write") == 0)
        return io_errinj_set(IO_ERRINJ_WRITE, countdown, err);
    if (strcasecmp(point, "wal-fsync") == 0)
        return io_errinj_set(IO_ERRINJ_FSYNC, countdown, err);
    return false;
}
