/*
 * wal.c - write-ahead log: record format, open batch, WAL thread.
 *
 * Format (little-endian; docs/formats/wal.md is the reference copy)
 *
 *   segment file <dir>/wal/<first lsn, 20 digits>.wal
 *   +0  8  magic "ENGRMWAL"
 *   +8  4  format version (3)
 *   +12 4  header bytes (32)
 *   +16 8  lsn of the first record in this segment
 *   +24 4  reserved, zero
 *   +28 4  crc32c of bytes 0..27
 *   then batches, back to back, each a header and records:
 *   +0  4  batch magic 0x54414245 ("EBAT")
 *   +4  4  records in the batch (at least 1)
 *   +8  8  lsn of its first record
 *   +16 8  bytes of its records
 *   +24 4  crc32c of bytes 0..23
 *   +28 4  reserved, zero
 *   record:
 *   +0  4  body bytes
 *   +4  8  lsn
 *   +12 8  time, unix ms (signed)
 *   +20 4  crc32c of header bytes 0..19 followed by the body
 *   +24 .. body: the effects of one command/EXEC (proto/effect_codec.h)
 *
 * Design
 *   Group commit: the loop fills `open` (which starts with room for a batch
 *   header, so a batch is written with one pwrite and never copied to make
 *   room); before it sleeps, wal_flush() moves
 *   it to the end of `ready` under the lock (a swap when `ready` is empty)
 *   and signals. The thread takes all of `ready` as its next batch
 *   (`flight`) as soon as it has finished the previous one, without a round
 *   trip through the loop: one pwrite at flight_offset, one fdatasync
 *   (appendfsync always), then it stores durable_lsn, writes the eventfd and
 *   looks for the next batch. The thread fills in the batch header when it
 *   takes the batch: a batch is exactly one write unit, which is what lets
 *   recovery tell a torn last batch from damage (wal_valid_batch_after).
 *   Zero-ahead: when a batch grows the segment file, zeros are written past
 *   it before the same fdatasync, so the next batches overwrite blocks inside
 *   the durable file size and their fdatasync flushes data only, with no
 *   journal commit. The price is that a power cut can then leave any subset
 *   of the last batch's sectors on disk, hence batch framing. A batch never spans segments: when the thread
 *   takes a batch it decides whether it starts a new segment (when the
 *   current one would pass segment_bytes_max), so it needs no record
 *   boundaries.
 *
 * Invariants
 *   (1) D1: durable_lsn only grows, and is stored after the fdatasync that
 *       covers it returned 0 (always), or after the write (everysec, no).
 *   (2) D3: lsns are assigned densely by wal_append, in execution order.
 *   (3) D4: after a failed write or fsync, failed_errno is set for good,
 *       durable_lsn never moves again, and no fsync is retried.
 *   (4) `ready`, `busy` and the ready_* fields are touched under the lock
 *       only; `flight`, seg_fd and seg_offset by the thread only, once it
 *       has started.
 *   (5) Past the last batch of the open segment there are only zero bytes
 *       (zero-ahead, see write_batch), so a reader stops there (D5).
 *   (6) Batch N+1 is written only after batch N's fdatasync returned
 *       (always): only the last batch can be torn by a crash.
 *
 * Threads
 *   wal_open/close/append/flush/poll: loop thread. wal_thread_main: the
 *   WAL thread, the only code that writes or syncs segment files.
 */
#include "storage/wal.h"

#include "core/assert.h"
#include "core/clock.h"
#include "core/crc32c.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_SEGMENT_BYTES_DEFAULT (64ull * 1024 * 1024)

/* Little-endian stores; a memcpy on little-endian hosts (one instruction,
 * where gcc does not merge the byte loop). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, sizeof(v));
}
#else
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
#endif

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void wal_encode_header(uint8_t *hdr, lsn_t lsn, int64_t time_ms, const void *body,
                       uint32_t body_bytes)
{
    uint32_t crc;
    put32(hdr, body_bytes);
    put64(hdr + 4, lsn);
    put64(hdr + 12, (uint64_t)time_ms);
    crc = crc32c(0, hdr, 20);
    crc = crc32c(crc, body, body_bytes);
    put32(hdr + 20, crc);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return false;
    }
    return true;
}

int wal_decode(const uint8_t *p, size_t avail, struct wal_record *r, size_t *size_out)
{
    uint32_t body_bytes, crc;
    if (avail == 0)
        return WAL_DECODE_END;
    if (avail < WAL_RECORD_HEADER_BYTES)
        return all_zero(p, avail) ? WAL_DECODE_END : WAL_DECODE_TORN;
    if (all_zero(p, WAL_RECORD_HEADER_BYTES))
        return WAL_DECODE_END;
    body_bytes = get32(p);
    if (body_bytes > avail - WAL_RECORD_HEADER_BYTES)
        return WAL_DECODE_TORN;
    crc = crc32c(0, p, 20);
    crc = crc32c(crc, p + WAL_RECORD_HEADER_BYTES, body_bytes);
    if (crc != get32(p + 20))
        return WAL_DECODE_TORN;
    r->lsn = get64(p + 4);
    r->time_ms = (int64_t)get64(p + 12);
    r->body = (const char *)p + WAL_RECORD_HEADER_BYTES;
    r->body_bytes = body_bytes;
    *size_out = WAL_RECORD_HEADER_BYTES + body_bytes;
    return WAL_DECODE_OK;
}

void wal_encode_batch_header(uint8_t *hdr, lsn_t first_lsn, uint32_t records,
                             uint64_t body_bytes)
{
    put32(hdr, WAL_BATCH_MAGIC);
    put32(hdr + 4, records);
    put64(hdr + 8, first_lsn);
    put64(hdr + 16, body_bytes);
    put32(hdr + 24, crc32c(0, hdr, 24));
    put32(hdr + 28, 0);
}

/* The header alone: magic, crc, reserved field, at least one record. */
static bool batch_header_ok(const uint8_t *p)
{
    return get32(p) == WAL_BATCH_MAGIC && get32(p + 24) == crc32c(0, p, 24) &&
           get32(p + 28) == 0 && get32(p + 4) != 0;
}

int wal_decode_batch(const uint8_t *p, size_t avail, struct wal_batch *b)
{
    uint64_t body_bytes, off = WAL_BATCH_HEADER_BYTES;
    uint32_t records;
    lsn_t first;
    if (avail == 0)
        return WAL_DECODE_END;
    if (avail < WAL_BATCH_HEADER_BYTES)
        return all_zero(p, avail) ? WAL_DECODE_END : WAL_DECODE_TORN;
    if (!batch_header_ok(p))
        return all_zero(p, WAL_BATCH_HEADER_BYTES) ? WAL_DECODE_END : WAL_DECODE_TORN;
    records = get32(p + 4);
    first = get64(p + 8);
    body_bytes = get64(p + 16);
    if (body_bytes > avail - WAL_BATCH_HEADER_BYTES)
        return WAL_DECODE_TORN;
    for (uint32_t i = 0; i < records; i++) {
        struct wal_record r;
        size_t rec_size;
        if (wal_decode(p + off, (size_t)(WAL_BATCH_HEADER_BYTES + body_bytes - off), &r,
                       &rec_size) != WAL_DECODE_OK ||
            r.lsn != first + i)
            return WAL_DECODE_TORN;
        off += rec_size;
    }
    if (off != WAL_BATCH_HEADER_BYTES + body_bytes)
        return WAL_DECODE_TORN;
    b->first_lsn = first;
    b->records = records;
    b->size = off;
    return WAL_DECODE_OK;
}

size_t wal_record_at(const uint8_t *p, struct wal_record *r)
{
    r->body_bytes = get32(p);
    r->lsn = get64(p + 4);
    r->time_ms = (int64_t)get64(p + 12);
    r->body = (const char *)p + WAL_RECORD_HEADER_BYTES;
    return WAL_RECORD_HEADER_BYTES + r->body_bytes;
}

bool wal_valid_batch_after(const uint8_t *p, size_t size, uint64_t off, lsn_t min_first)
{
    static const uint8_t magic[4] = {0x45, 0x42, 0x41, 0x54}; /* "EBAT" */
    uint64_t from = off + 1;
    lsn_t later_first = min_first;
    if (size - off >= WAL_BATCH_HEADER_BYTES && batch_header_ok(p + off) &&
        get64(p + off + 8) == min_first) {
        /* The bad batch's own header is intact: a later batch starts past
         * the length it declares, with a later lsn. Headers inside its
         * records (a value may hold any bytes) are not searched. */
        uint64_t body = get64(p + off + 16);
        if (body > size - off - WAL_BATCH_HEADER_BYTES)
            return false; /* it runs to the end of the file: nothing follows */
        from = off + WAL_BATCH_HEADER_BYTES + body;
        later_first = min_first + get32(p + off + 4);
    }
    for (uint64_t at = from; at + WAL_BATCH_HEADER_BYTES <= size; at++) {
        const uint8_t *hit = memchr(p + at, magic[0], size - at);
        if (!hit)
            return false;
        at = (uint64_t)(hit - p);
        if (size - at < WAL_BATCH_HEADER_BYTES || memcmp(hit, magic, 4) != 0)
            continue;
        /* A real later batch starts at most one lsn per 24 bytes (the
         * smallest record) after min_first: a header found inside some
         * value with a far-off lsn is not evidence. */
        if (batch_header_ok(hit) && get64(hit + 8) >= later_first &&
            get64(hit + 8) - min_first <= (at - off) / WAL_RECORD_HEADER_BYTES)
            return true;
    }
    return false;
}

bool wal_nonzero_after(const uint8_t *p, size_t size, uint64_t off)
{
    for (uint64_t i = off; i < size; i++) {
        if (p[i])
            return true;
    }
    return false;
}

void wal_encode_segment_header(uint8_t *hdr, lsn_t first_lsn)
{
    memcpy(hdr, WAL_SEGMENT_MAGIC, 8);
    put32(hdr + 8, WAL_FORMAT_VERSION);
    put32(hdr + 12, WAL_SEGMENT_HEADER_BYTES);
    put64(hdr + 16, first_lsn);
    put32(hdr + 24, 0);
    put32(hdr + 28, crc32c(0, hdr, 28));
}

int wal_check_segment_header(const uint8_t *hdr, size_t avail, lsn_t *first_lsn)
{
    if (avail < WAL_SEGMENT_HEADER_BYTES || memcmp(hdr, WAL_SEGMENT_MAGIC, 8) != 0)
        return -1;
    if (get32(hdr + 28) != crc32c(0, hdr, 28))
        return -1;
    if (get32(hdr + 8) != WAL_FORMAT_VERSION || get32(hdr + 12) != WAL_SEGMENT_HEADER_BYTES)
        return -2;
    *first_lsn = get64(hdr + 16);
    return 0;
}

void wal_version_advice(char *out, size_t cap, const char *path, const uint8_t *hdr)
{
    snprintf(out, cap,
             "WAL segment %s is in format version %u; this build reads version %u. It is "
             "not damaged: do NOT run engram-check repair on it (that would cut the whole "
             "segment). To upgrade: start the engram build that wrote it, run SAVE, stop "
             "it, move <dir>/wal aside, then start this build, which loads the snapshot "
             "(docs/formats/wal.md, Upgrading)",
             path, get32(hdr + 8), WAL_FORMAT_VERSION);
}

void wal_segment_path(char *out, size_t cap, const char *dir, lsn_t first_lsn)
{
    snprintf(out, cap, "%s/wal/%020" PRIu64 ".wal", dir, first_lsn);
}

/* ---- WAL thread ------------------------------------------------------- */

/* Create the segment named first_lsn and make its existence durable. */
static int start_segment(struct wal *w, lsn_t first_lsn)
{
    char path[4096], wal_dir[4096];
    uint8_t hdr[WAL_SEGMENT_HEADER_BYTES];
    int fd, rc;

    if (w->seg_fd >= 0) {
        /* The old segment is complete; everysec/no may not have synced it. */
        if (w->dirty && (rc = w->io->fdatasync(w->seg_fd)) != 0)
            return rc;
        w->dirty = false;
        close(w->seg_fd);
        w->seg_fd = -1;
    }
    wal_segment_path(path, sizeof(path), w->dir, first_lsn);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    /* Reserve the blocks up front without changing the size, so appends do
     * not allocate; failure (unsupported filesystem) is harmless. */
    (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)w->segment_bytes_max);
    wal_encode_segment_header(hdr, first_lsn);
    rc = io_pwrite_all(w->io, fd, hdr, sizeof(hdr), 0);
    if (rc == 0)
        rc = w->io->fdatasync(fd);
    snprintf(wal_dir, sizeof(wal_dir), "%s/wal", w->dir);
    if (rc == 0)
        rc = w->io->fsync_dir(wal_dir);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    w->seg_fd = fd;
    w->zeroed_to = WAL_SEGMENT_HEADER_BYTES;
    return 0;
}

/*
 * Zero-ahead: when the batch ending at `end` grows the file, write zeros up
 * to WAL_ZERO_AHEAD_BYTES past it (not past the segment's size limit), so
 * the fdatasync that makes the batch durable also makes that size durable
 * and the next batches' fdatasyncs carry no metadata. Returns 0 or -errno.
 */
static int zero_ahead(struct wal *w, uint64_t end)
{
    static const uint8_t zeros[64 * 1024];
    uint64_t target = end + WAL_ZERO_AHEAD_BYTES;
    if (end <= w->zeroed_to) /* within the written part: nothing to do */
        return 0;
    /* Only for appendfsync always, where it pays. Under everysec/no several
     * unsynced batches can be partly on disk after a power cut, and with the
     * size already durable a hole then sits before a whole later batch,
     * which recovery must refuse; growing appends make that less likely. */
    if (atomic_load(&w->fsync_mode) != WAL_FSYNC_ALWAYS)
        return 0;
    if (target > w->segment_bytes_max)
        target = end > w->segment_bytes_max ? end : w->segment_bytes_max;
    for (uint64_t at = end; at < target;) {
        size_t n = target - at < sizeof(zeros) ? (size_t)(target - at) : sizeof(zeros);
        int rc = io_pwrite_all(w->io, w->seg_fd, zeros, n, (off_t)at);
        if (rc != 0)
            return rc;
        at += n;
    }
    w->zeroed_to = target;
    return 0;
}


static void record_stats(struct wal *w, int64_t fsync_us, uint32_t records, uint64_t bytes)
{
    uint32_t i = w->stats.ring_pos++ % 256;
    w->stats.fsync_us[i] = (uint32_t)(fsync_us > UINT32_MAX ? UINT32_MAX : fsync_us);
    w->stats.batch_records[i] = records;
    w->stats.bytes += bytes;
    w->stats.batches++;
    if (fsync_us >= 0)
        w->stats.fsyncs++;
}

static void signal_loop(struct wal *w)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(w->event_fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/* Write and sync one batch. Called without the lock. Returns 0 or -errno. */
static int write_batch(struct wal *w, int64_t *fsync_us)
{
    int rc = 0;
    *fsync_us = -1;
    if (w->flight_new_segment)
        rc = start_segment(w, w->flight_new_segment);
    if (rc == 0)
        rc = io_pwrite_all(w->io, w->seg_fd, w->flight.data, w->flight.len,
                           (off_t)w->flight_offset);
    if (rc == 0)
        rc = zero_ahead(w, w->flight_offset + w->flight.len);
    if (rc == 0 && atomic_load(&w->fsync_mode) == WAL_FSYNC_ALWAYS) {
        int64_t t0 = clock_mono_us();
        rc = w->io->fdatasync(w->seg_fd);
        *fsync_us = clock_mono_us() - t0;
        if (rc == 0)
            w->dirty = false; /* also covers what an earlier everysec/no left */
    } else if (rc == 0 && !w->dirty) {
        w->dirty = true;
        w->dirty_since_us = clock_mono_us();
    }
    return rc;
}

/* everysec: sync what was written if a second passed. Lock held. */
static void periodic_sync(struct wal *w)
{
    int rc;
    if (!w->dirty || w->seg_fd < 0 || atomic_load(&w->failed_errno))
        return;
    pthread_mutex_unlock(&w->lock);
    rc = w->io->fdatasync(w->seg_fd);
    pthread_mutex_lock(&w->lock);
    w->dirty = false;
    w->stats.fsyncs++;
    if (rc != 0) {
        atomic_store(&w->failed_errno, -rc);
        log_warning("WAL fdatasync failed: %s (the WAL is now failed; writes are refused)",
                    strerror(-rc));
        signal_loop(w);
    }
}

/* everysec: microseconds until written data has waited a second for its
 * fdatasync (0: due now), or INT64_MAX if nothing waits. Lock held. */
static int64_t everysec_due_in_us(struct wal *w)
{
    int64_t left;
    if (atomic_load(&w->fsync_mode) != WAL_FSYNC_EVERYSEC || !w->dirty || w->seg_fd < 0 ||
        atomic_load(&w->failed_errno))
        return INT64_MAX;
    left = w->dirty_since_us + 1000000 - clock_mono_us();
    return left > 0 ? left : 0;
}

/* everysec: sync if it is due. Also called after every batch: under a
 * steady load the thread never waits long enough for a timeout (a wait
 * restarted at every batch once meant no fsync at all). Lock held. */
static void everysec_sync_if_due(struct wal *w)
{
    if (everysec_due_in_us(w) == 0)
        periodic_sync(w);
}

static void wait_for_work(struct wal *w)
{
    while (w->ready.len == 0 && !w->stop) {
        int64_t due = everysec_due_in_us(w);
        struct timespec ts;
        if (due == 0) {
            periodic_sync(w);
        } else if (due == INT64_MAX) {
            pthread_cond_wait(&w->cond, &w->lock);
        } else {
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(due / 1000000);
            ts.tv_nsec += (long)(due % 1000000) * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        }
    }
}

/* Move `ready` to `flight` and place it in the log. Lock held. */
static void take_batch(struct wal *w)
{
    struct buf tmp = w->flight;
    size_t len = w->ready.len;
    w->flight = w->ready;
    w->ready = tmp;
    buf_clear(&w->ready);
    w->flight_first_lsn = w->ready_first_lsn;
    w->flight_last_lsn = w->ready_last_lsn;
    w->flight_records = w->ready_records;
    w->ready_records = 0;
    ASSERT(len > WAL_BATCH_HEADER_BYTES && w->flight_records > 0);
    wal_encode_batch_header((uint8_t *)w->flight.data, w->flight_first_lsn, w->flight_records,
                            len - WAL_BATCH_HEADER_BYTES);
    w->flight_new_segment = 0;
    if (w->seg_fd < 0 && w->seg_offset == 0) {
        w->flight_new_segment = w->flight_first_lsn;
    } else if (w->seg_offset > WAL_SEGMENT_HEADER_BYTES &&
               w->seg_offset + len > w->segment_bytes_max) {
        w->flight_new_segment = w->flight_first_lsn;
    }
    if (w->flight_new_segment)
        w->seg_offset = WAL_SEGMENT_HEADER_BYTES;
    w->flight_offset = w->seg_offset;
    w->seg_offset += len;
    w->busy = true;
}

static void *wal_thread_main(void *arg)
{
    struct wal *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        int64_t fsync_us;
        int rc;
        wait_for_work(w);
        if (w->ready.len == 0)
            break; /* stop, nothing pending */
        take_batch(w);
        pthread_mutex_unlock(&w->lock);
        rc = atomic_load(&w->failed_errno) ? -EIO : write_batch(w, &fsync_us);
        pthread_mutex_lock(&w->lock);
        if (rc != 0 && !atomic_load(&w->failed_errno)) {
            /* D4: sticky. Never retry an fsync that failed. */
            atomic_store(&w->failed_errno, -rc);
            log_warning("WAL write/fdatasync failed at lsn %" PRIu64 ": %s. The WAL is now "
                        "failed: writes are refused, reads go on.",
                        w->flight_last_lsn, strerror(-rc));
        } else if (rc == 0) {
            atomic_store_explicit(&w->durable_lsn, w->flight_last_lsn, memory_order_release);
            record_stats(w, fsync_us, w->flight_records, w->flight.len);
            if (fsync_us >= 0)
                atomic_store(&w->last_fsync_us,
                             (unsigned)(fsync_us > UINT32_MAX ? UINT32_MAX : fsync_us));
        }
        w->last_batch_records = w->flight_records;
        w->busy = false;
        signal_loop(w);
        everysec_sync_if_due(w);
    }
    if (w->dirty && w->seg_fd >= 0 && !atomic_load(&w->failed_errno))
        (void)w->io->fdatasync(w->seg_fd);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- Loop side -------------------------------------------------------- */

int wal_open(struct wal *w, const char *dir, enum wal_fsync mode, lsn_t seg_first_lsn,
             uint64_t seg_offset, lsn_t next_lsn)
{
    char path[4096];
    memset(w, 0, sizeof(*w));
    w->dir = mem_strndup(dir, strlen(dir));
    w->io = io_default();
    atomic_store(&w->fsync_mode, (int)mode);
    w->segment_bytes_max = WAL_SEGMENT_BYTES_DEFAULT;
    w->next_lsn = next_lsn;
    w->seg_fd = -1;
    buf_create(&w->open);
    buf_create(&w->ready);
    buf_create(&w->flight);
    atomic_store(&w->durable_lsn, next_lsn - 1);
    atomic_store(&w->failed_errno, 0);
    atomic_store(&w->last_fsync_us, 0u);
    if (seg_first_lsn) {
        struct stat st;
        wal_segment_path(path, sizeof(path), dir, seg_first_lsn);
        w->seg_fd = open(path, O_WRONLY | O_CLOEXEC);
        if (w->seg_fd < 0 || fstat(w->seg_fd, &st) != 0)
            return -errno;
        /* Recovery cut any torn tail: what is there is batches, then zeros.
         * Recovery also replayed batches a crash may have left written but
         * not synced (still in the page cache): sync them before anything
         * is served (D2), so that after this only the batch being synced
         * can be torn, across restarts too (invariant 6). */
        int rc = w->io->fdatasync(w->seg_fd);
        if (rc != 0)
            return rc;
        w->zeroed_to = (uint64_t)st.st_size;
        (void)fallocate(w->seg_fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)w->segment_bytes_max);
        w->seg_offset = seg_offset;
    }
    w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->event_fd < 0)
        return -errno;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    (void)crc32c(0, "", 0); /* choose the implementation before the thread starts */
    if (pthread_create(&w->thread, NULL, wal_thread_main, w) != 0)
        return -EAGAIN;
    return 0;
}

/* Wait until the thread has written everything published. */
static void wait_idle(struct wal *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->busy || w->ready.len > 0) {
        pthread_mutex_unlock(&w->lock);
        usleep(500);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    w->in_flight = false;
    w->ready_bytes_seen = 0;
}

void wal_close(struct wal *w)
{
    /* Hand over what is left, then let the thread drain and exit. */
    wait_idle(w);
    if (w->open.len > 0 && !wal_failed(w)) {
        wal_flush(w);
        wait_idle(w);
    }
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->seg_fd >= 0)
        close(w->seg_fd);
    close(w->event_fd);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    buf_destroy(&w->open);
    buf_destroy(&w->ready);
    buf_destroy(&w->flight);
    mem_free(w->dir);
}

lsn_t wal_append(struct wal *w, int64_t time_ms, const void *body, size_t body_bytes)
{
    lsn_t lsn = w->next_lsn++;
    ASSERT(body_bytes <= UINT32_MAX);
    if (w->open.len == 0) {
        /* Room for the batch header, filled in by take_batch. */
        buf_reserve(&w->open, WAL_BATCH_HEADER_BYTES);
        w->open.len = WAL_BATCH_HEADER_BYTES;
        w->open_first_lsn = lsn;
        w->open_first_us = clock_mono_us();
    }
    buf_reserve(&w->open, WAL_RECORD_HEADER_BYTES + body_bytes);
    wal_encode_header((uint8_t *)w->open.data + w->open.len, lsn, time_ms, body,
                      (uint32_t)body_bytes);
    w->open.len += WAL_RECORD_HEADER_BYTES;
    buf_append(&w->open, body, body_bytes);
    w->open_records++;
    return lsn;
}

void wal_flush(struct wal *w)
{
    if (w->open.len == 0 || wal_failed(w))
        return;
    pthread_mutex_lock(&w->lock);
    if (w->ready.len == 0) {
        struct buf tmp = w->ready;
        w->ready = w->open;
        w->open = tmp;
        w->ready_first_lsn = w->open_first_lsn;
    } else { /* without open's batch header room */
        buf_append(&w->ready, w->open.data + WAL_BATCH_HEADER_BYTES,
                   w->open.len - WAL_BATCH_HEADER_BYTES);
    }
    w->ready_last_lsn = w->next_lsn - 1;
    w->ready_records += w->open_records;
    w->ready_bytes_seen = w->ready.len;
    if (!w->busy)
        pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    buf_clear(&w->open);
    w->open_records = 0;
    w->in_flight = true;
}

void wal_set_fsync(struct wal *w, enum wal_fsync mode)
{
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->fsync_mode, (int)mode);
    pthread_cond_signal(&w->cond); /* re-evaluate the everysec timer */
    pthread_mutex_unlock(&w->lock);
}

lsn_t wal_poll(struct wal *w)
{
    uint64_t v;
    (void)read(w->event_fd, &v, sizeof(v));
    pthread_mutex_lock(&w->lock);
    w->in_flight = w->busy || w->ready.len > 0;
    w->ready_bytes_seen = w->ready.len;
    w->done_records = w->last_batch_records;
    pthread_mutex_unlock(&w->lock);
    return wal_durable_lsn(w);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void wal_stats_percentiles(struct wal *w, uint32_t *fsync_p50, uint32_t *fsync_p99,
                           uint32_t *batch_p50, uint32_t *batch_p99, uint64_t *fsyncs,
                           uint64_t *bytes)
{
    uint32_t f[256], b[256], n;
    pthread_mutex_lock(&w->lock);
    n = w->stats.batches < 256 ? (uint32_t)w->stats.batches : 256;
    memcpy(f, w->stats.fsync_us, sizeof(f));
    memcpy(b, w->stats.batch_records, sizeof(b));
    *fsyncs = w->stats.fsyncs;
    *bytes = w->stats.bytes;
    pthread_mutex_unlock(&w->lock);
    *fsync_p50 = *fsync_p99 = *batch_p50 = *batch_p99 = 0;
    if (n == 0)
        return;
    qsort(f, n, sizeof(uint32_t), cmp_u32);
    qsort(b, n, sizeof(uint32_t), cmp_u32);
    *fsync_p50 = f[n / 2];
    *fsync_p99 = f[(n * 99) / 100];
    *batch_p50 = b[n / 2];
    *batch_p99 = b[(n * 99) / 100];
}
