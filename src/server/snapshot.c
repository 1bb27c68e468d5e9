/*
 * snapshot.c - snapshots of the keyspace (BGSAVE, SAVE, start-up load).
 *
 * Design
 *   BGSAVE forks (DESIGN.md "Snapshot child"): the child has a copy-on-
 *   write image of the keyspace as it was after WAL record `lsn`, writes it
 *   with storage/snap.c (temp file, fsync, rename, fsync dir: D6) and
 *   exits. The parent reaps it in the cron; only then may WAL segments that
 *   hold nothing after `lsn` and older snapshots be deleted (durable.c does
 *   the WAL side).
 *
 *   The snapshot may contain effects of records that were not yet durable
 *   in the WAL when the child forked. That is safe: they were never
 *   acknowledged, and recovery continues from the snapshot's lsn, starting
 *   a fresh segment if the WAL ends before it (see durable_init).
 *
 * Invariants
 *   (1) At most one child at a time.
 *   (2) Values are written as their string form (type 0 = string); the
 *       loader re-encodes them, so the file does not depend on encodings.
 *
 * Threads
 *   Loop thread; the child runs snapshot_write() and _exit()s.
 */
#include "server/snapshot.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/hash.h"
#include "db/list.h"
#include "db/zset.h"
#include "db/set.h"
#include "server/durable.h"
#include "server/server.h"
#include "storage/snap.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAP_TYPE_STRING 0
#define SNAP_TYPE_LIST 1 /* value: list_encode() (db/list.h) */
#define SNAP_TYPE_SET 2  /* value: set_encode() (db/set.h) */
#define SNAP_TYPE_ZSET 3 /* value: zset_encode() (db/zset.h) */
#define SNAP_TYPE_HASH 4 /* value: hash_encode() (db/hash.h) */
_Static_assert(SNAP_TYPE_LIST == OBJ_LIST && SNAP_TYPE_SET == OBJ_SET && SNAP_TYPE_HASH == OBJ_HASH &&
                   SNAP_TYPE_ZSET == OBJ_ZSET,
               "snapshot type codes are the obj types");

static struct {
    pid_t child;            /* running BGSAVE child, or -1 */
    lsn_t child_lsn;        /* lsn it covers */
    int64_t child_start_us; /* monotonic start */
    uint64_t dirty_at_start;/* server.dirty when it started */
    bool last_ok;           /* rdb_last_bgsave_status */
    int64_t last_duration_s;/* rdb_last_bgsave_time_sec, -1 if none */
    uint64_t last_bytes;    /* size of the newest snapshot loaded or written, 0 if none */
} snap = {.child = -1, .last_ok = true, .last_duration_s = -1};

struct write_ctx {
    struct snap_writer *w; /* destination */
    int db;                /* database being written */
    int rc;                /* first error */
    struct buf tmp;        /* serialized collection */
};

static void write_entry(struct db_entry *e, void *arg)
{
    struct write_ctx *x = arg;
    char tmp[32];
    size_t len;
    const char *val;
    if (x->rc != 0 || db_entry_expired(e, db_now()))
        return;
    if (e->val->type != OBJ_STRING) {
        uint8_t type = (uint8_t)e->val->type; /* the SNAP_TYPE_* codes are obj types */
        buf_clear(&x->tmp);
        if (e->val->type == OBJ_HASH)
            hash_encode(e->val, &x->tmp);
        else if (e->val->type == OBJ_SET)
            set_encode(e->val, &x->tmp);
        else if (e->val->type == OBJ_ZSET)
            zset_encode(e->val, &x->tmp);
        else
            list_encode(e->val, &x->tmp);
        if (x->tmp.len > UINT32_MAX) {
            x->rc = -EFBIG; /* the format's value length is 32 bits */
            return;
        }
        x->rc = snap_write_key(x->w, x->db, type, e->expire_ms, e->key, e->key_len,
                               x->tmp.data, (uint32_t)x->tmp.len);
        return;
    }
    val = obj_str(e->val, tmp, &len);
    x->rc = snap_write_key(x->w, x->db, SNAP_TYPE_STRING, e->expire_ms, e->key, e->key_len,
                           val, (uint32_t)len);
}

/*
 * Write every database as of now_ms (keys expired then are left out); 0 or
 * -errno. now_ms is read before the child is forked: every command logged
 * after the snapshot's lsn then runs with a "now" at least as late, so no
 * such command can see alive (and, say, PERSIST) a key the snapshot left
 * out as expired, which replay could not bring back.
 */
static int snapshot_write(lsn_t lsn, int64_t now_ms)
{
    struct snap_writer w;
    struct write_ctx x = {.w = &w, .rc = 0};
    int rc;
    buf_create(&x.tmp);
    rc = snap_writer_open(&w, server.cfg.dir, lsn, now_ms);
    if (rc != 0) {
        snap_writer_abort(&w);
        return rc;
    }
    db_set_now(now_ms);
    for (int i = 0; i < server.cfg.databases && x.rc == 0; i++) {
        x.db = i;
        db_foreach(&server.dbs[i], write_entry, &x);
    }
    buf_destroy(&x.tmp);
    if (x.rc != 0) {
        snap_writer_abort(&w);
        return x.rc;
    }
    return snap_writer_commit(&w);
}

/* The size of snapshot `lsn` in dir, or 0 if it cannot be read. */
static uint64_t file_bytes(lsn_t lsn)
{
    char path[4096];
    struct stat st;
    snap_path(path, sizeof(path), server.cfg.dir, lsn);
    return stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

uint64_t snapshot_last_bytes(void)
{
    return snap.last_bytes;
}

static void finished(bool ok, lsn_t lsn, int64_t start_us)
{
    snap.last_ok = ok;
    snap.last_duration_s = (clock_mono_us() - start_us) / 1000000;
    if (!ok)
        return;
    snap.last_bytes = file_bytes(lsn);
    server.last_save_s = clock_wall_ms() / 1000;
    server.dirty = server.dirty > snap.dirty_at_start ? server.dirty - snap.dirty_at_start : 0;
    log_notice("Snapshot covering lsn %" PRIu64 " saved", lsn);
}

int snapshot_save_sync(lsn_t lsn)
{
    int64_t start = clock_mono_us();
    int rc;
    if (snap.child >= 0)
        return -EBUSY;
    snap.dirty_at_start = server.dirty;
    rc = snapshot_write(lsn, clock_wall_ms());
    finished(rc == 0, lsn, start);
    return rc;
}

#ifdef DEBUG
static int delay_ms[2]; /* SNAPSHOT_DELAY_PARENT, SNAPSHOT_DELAY_CHILD */

bool snapshot_errinj_delay(int which, int ms)
{
    delay_ms[which] = ms;
    return true;
}

static void fork_delay(int which)
{
    if (delay_ms[which] > 0)
        usleep((useconds_t)delay_ms[which] * 1000);
}
#else
bool snapshot_errinj_delay(int which, int ms)
{
    (void)which, (void)ms;
    return false;
}

static void fork_delay(int which)
{
    (void)which;
}
#endif

int snapshot_start_bg(lsn_t lsn)
{
    pid_t pid;
    int64_t now_ms = clock_wall_ms(); /* before the fork: see snapshot_write */
    if (snap.child >= 0)
        return -EBUSY;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* Child: only this thread exists; touch nothing but the keyspace
         * image and the snapshot file. Die with the parent, and drop the
         * inherited data-directory lock, so a kill -9 of the server leaves
         * no process behind that holds the lock or renames a file later. */
        int rc;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(1);
        durable_child_after_fork();
        fork_delay(SNAPSHOT_DELAY_CHILD);
        rc = snapshot_write(lsn, now_ms);
        _exit(rc == 0 ? 0 : 1);
    }
    fork_delay(SNAPSHOT_DELAY_PARENT);
    snap.child = pid;
    snap.child_lsn = lsn;
    snap.child_start_us = clock_mono_us();
    snap.dirty_at_start = server.dirty;
    log_notice("Background snapshot started by pid %d (lsn %" PRIu64 ")", (int)pid, lsn);
    return 0;
}

lsn_t snapshot_cron(void)
{
    int status;
    pid_t pid;
    if (snap.child < 0)
        return 0;
    pid = waitpid(snap.child, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR))
        return 0;
    snap.child = -1;
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        finished(true, snap.child_lsn, snap.child_start_us);
        return snap.child_lsn;
    }
    log_warning("Background snapshot failed (status %d)", status);
    finished(false, snap.child_lsn, snap.child_start_us);
    return 0;
}

bool snapshot_in_progress(void)
{
    return snap.child >= 0;
}

void snapshot_shutdown(void)
{
    if (snap.child < 0)
        return;
    kill(snap.child, SIGKILL);
    waitpid(snap.child, NULL, 0);
    snap.child = -1;
}

lsn_t snapshot_abort(void)
{
    lsn_t lsn = snap.child_lsn;
    if (snap.child < 0)
        return 0;
    snapshot_shutdown();
    finished(false, lsn, snap.child_start_us);
    return lsn;
}

void snapshot_info(struct buf *b)
{
    buf_appendf(b,
                "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\n"
                "rdb_last_bgsave_status:%s\r\nrdb_last_bgsave_time_sec:%lld\r\n"
                "rdb_current_bgsave_time_sec:%lld\r\nsnapshot_bytes:%llu\r\n",
                snap.child >= 0 ? 1 : 0, (long long)server.last_save_s,
                snap.last_ok ? "ok" : "err", (long long)snap.last_duration_s,
                snap.child >= 0 ? (long long)((clock_mono_us() - snap.child_start_us) / 1000000)
                                : -1ll,
                (unsigned long long)snap.last_bytes);
}

struct load_ctx {
    int64_t now_ms;    /* keys expired at this time are skipped: the snapshot's */
    uint64_t skipped;  /* expired keys not loaded */
    uint64_t seen;     /* keys read so far */
    int64_t yield_us;  /* last time the network was served */
};

static int load_key(void *arg, int dbi, uint8_t type, int64_t expire_ms, const char *key,
                    uint32_t key_len, const char *val, uint32_t val_len)
{
    struct load_ctx *x = arg;
    struct db_entry *e;
    struct obj *val_obj;
    if (dbi < 0 || dbi >= server.cfg.databases ||
        type > SNAP_TYPE_HASH)
        return -1;
    if ((++x->seen & 4095) == 0 && clock_mono_us() - x->yield_us > 20000) {
        x->yield_us = clock_mono_us();
        server_process_events_while_loading(); /* clients get -LOADING meanwhile */
    }
    if (expire_ms >= 0 && expire_ms <= x->now_ms) {
        x->skipped++;
        return 0;
    }
    if (db_find_raw(&server.dbs[dbi], key, key_len))
        return -1; /* duplicate key: the file is not what we wrote */
    if (type != SNAP_TYPE_STRING) {
        val_obj = type == SNAP_TYPE_HASH   ? hash_decode(val, val_len)
                  : type == SNAP_TYPE_SET  ? set_decode(val, val_len)
                  : type == SNAP_TYPE_ZSET ? zset_decode(val, val_len)
                                           : list_decode(val, val_len);
        if (!val_obj)
            return -1; /* checksummed, so not what we wrote: refuse */
    } else {
        val_obj = obj_new_string(val, val_len);
    }
    e = db_add(&server.dbs[dbi], key, key_len, val_obj);
    if (expire_ms >= 0)
        db_set_expire(&server.dbs[dbi], e, expire_ms);
    return 0;
}

/*
 * Keys are filtered as of the time the snapshot was taken, not as of now:
 * the WAL replayed after it may keep alive a key that has expired since
 * (PERSIST, EXPIRE with a later time, SET KEEPTTL ... run before it
 * expired), and replay finds only keys that were loaded. Keys that expired
 * after the snapshot and stayed expired are removed once replay is done
 * (durable.c).
 */
static void load_begin(void *arg, uint64_t keys, int64_t time_ms)
{
    struct load_ctx *x = arg;
    x->now_ms = time_ms;
    /* Most data lives in db 0; sizing it up front avoids rehashing while
     * a million keys are inserted. */
    db_reserve(&server.dbs[0], (size_t)keys);
}

int snapshot_load(lsn_t *lsn, uint64_t *keys)
{
    lsn_t *lsns = NULL;
    int n = snap_list(server.cfg.dir, &lsns);
    *lsn = 0;
    *keys = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], err[256];
        struct load_ctx x = {.now_ms = clock_wall_ms()};
        int64_t t0 = clock_mono_us();
        snap_path(path, sizeof(path), server.cfg.dir, lsns[i]);
        if (snap_load(path, load_begin, load_key, &x, lsn, keys, err, sizeof(err)) == 0) {
            log_notice("Snapshot %s loaded: %" PRIu64 " keys (%" PRIu64 " expired when it was taken, skipped) "
                       "in %.3f seconds", path, *keys - x.skipped, x.skipped,
                       (double)(clock_mono_us() - t0) / 1e6);
            snap.last_bytes = file_bytes(*lsn);
            mem_free(lsns);
            return 0;
        }
        /* The WAL before the newest snapshot may already be deleted (D6),
         * so an older snapshot cannot stand in for it: refuse to start. */
        log_warning("Snapshot %s is not valid (%s). Refusing to start: check the disk; "
                    "bin/engram-check verify %s tells more.", path, err, server.cfg.dir);
        mem_free(lsns);
        return -1;
    }
    mem_free(lsns);
    return n < 0 ? -1 : 0;
}
