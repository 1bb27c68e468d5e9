/*
 * recovery.c - WAL replay at start-up.
 *
 * Design
 *   Each segment is mapped read-only and walked batch by batch: a batch is
 *   checked whole (wal_decode_batch) before any of its records is applied,
 *   so the effects of a batch are replayed entirely or not at all. The
 *   decision between "torn tail" and "corruption" (D5): a bad batch is a
 *   torn tail only if it is in the newest segment and no valid batch header
 *   of a later lsn follows it (a crash mid-write damages the one batch that
 *   was being synced, never acknowledged: cutting it loses nothing that was
 *   acknowledged). Anything else refuses to start.
 *
 * Invariants
 *   (1) D3: applied lsns are consecutive.
 *   (2) The newest segment ends at a batch boundary when this returns 0.
 *
 * Threads
 *   Start-up only.
 */
#include "storage/recovery.h"

#include "core/log.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int recovery_list_segments(const char *dir, lsn_t **lsns_out)
{
    char path[4096];
    int n;
    snprintf(path, sizeof(path), "%s/wal", dir);
    n = io_list_numbered(path, ".wal", lsns_out);
    if (n == 0) {
        struct stat st;
        if (stat(path, &st) != 0) /* a missing wal dir is an error here */
            return -errno;
    }
    return n;
}

struct segment_scan {
    const char *path;    /* file being read */
    bool newest;         /* the last segment */
    lsn_t expect;        /* lsn the next record must have */
    uint64_t valid_end;  /* offset after the last good batch */
    bool torn;           /* a torn tail was found */
};

static int scan_records(struct segment_scan *s, const uint8_t *p, size_t size, lsn_t after_lsn,
                        recovery_apply_fn *fn, void *ctx, struct recovery_result *res,
                        char *err, size_t cap)
{
    uint64_t off = WAL_SEGMENT_HEADER_BYTES;
    char why[256];
    for (;;) {
        struct wal_batch b;
        uint64_t at;
        int rc = wal_decode_batch(p + off, size - off, &b);
        /* Zeros followed by data are not the end of the log. */
        if (rc == WAL_DECODE_END && wal_nonzero_after(p, size, off))
            rc = WAL_DECODE_TORN;
        if (rc == WAL_DECODE_END)
            break;
        if (rc == WAL_DECODE_OK && b.first_lsn != s->expect) {
            snprintf(err, cap, "WAL corruption in %s at offset %" PRIu64 ": lsn %" PRIu64
                     " where %" PRIu64 " was expected (D3). Repair with: bin/engram-check "
                     "repair <dir>", s->path, off, b.first_lsn, s->expect);
            return -1;
        }
        if (rc == WAL_DECODE_TORN) {
            if (!s->newest || wal_valid_batch_after(p, size, off, s->expect)) {
                snprintf(err, cap, "WAL corruption in %s at offset %" PRIu64 " (batch from lsn %"
                         PRIu64 "): bad checksum or header. Repair with: bin/engram-check "
                         "repair <dir> (it truncates at the last valid batch and keeps the "
                         "cut bytes)", s->path, off, s->expect);
                return -1;
            }
            s->torn = true;
            break;
        }
        at = off + WAL_BATCH_HEADER_BYTES;
        for (uint32_t i = 0; i < b.records; i++) {
            struct wal_record r;
            size_t rec_size = wal_record_at(p + at, &r); /* checked by wal_decode_batch */
            if (r.lsn > after_lsn) {
                if (fn(ctx, &r, why, sizeof(why)) != 0) {
                    snprintf(err, cap, "WAL record lsn %" PRIu64 " in %s at offset %" PRIu64
                             " has invalid effects: %s", r.lsn, s->path, at, why);
                    return -1;
                }
                res->records++;
            }
            res->last_lsn = r.lsn;
            res->wal_last_lsn = r.lsn;
            at += rec_size;
        }
        s->expect = b.first_lsn + b.records;
        off += b.size;
    }
    s->valid_end = off;
    return 0;
}

/* Map and scan one segment. */
static int scan_segment(struct segment_scan *s, lsn_t name_lsn, lsn_t after_lsn,
                        recovery_apply_fn *fn, void *ctx, struct recovery_result *res,
                        char *err, size_t cap)
{
    struct stat st;
    const uint8_t *p = NULL;
    lsn_t first;
    int hdr_rc, rc = -1, fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "can't open %s: %s", s->path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0)
        goto out;
    if (st.st_size > 0) {
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(err, cap, "can't map %s: %s", s->path, strerror(errno));
            p = NULL;
            goto out;
        }
    }
    hdr_rc = p ? wal_check_segment_header(p, (size_t)st.st_size, &first) : -1;
    if (hdr_rc == -2) {
        wal_version_advice(err, cap, s->path, p);
        goto out;
    }
    if (hdr_rc != 0 || first != name_lsn) {
        if (s->newest && st.st_size < (off_t)WAL_SEGMENT_HEADER_BYTES * 2) {
            /* Crash while creating the segment: it holds no record. */
            s->torn = true;
            s->valid_end = 0;
            rc = 0;
        } else {
            snprintf(err, cap, "WAL segment %s has a bad header. Repair with: "
                     "bin/engram-check repair <dir>", s->path);
        }
        goto out;
    }
    /* A gap before this segment is fine if the snapshot covers it. */
    if (s->expect == 0 || (first != s->expect && first <= after_lsn + 1))
        s->expect = first;
    rc = scan_records(s, p, (size_t)st.st_size, after_lsn, fn, ctx, res, err, cap);
out:
    if (p)
        munmap((void *)p, (size_t)st.st_size);
    close(fd);
    return rc;
}

/* Cut the newest segment after its last valid record (D5). */
static int truncate_tail(const struct segment_scan *s, char *err, size_t cap)
{
    if (s->valid_end == 0) {
        log_warning("WAL: removing %s, a segment whose creation was interrupted", s->path);
        if (unlink(s->path) != 0) {
            snprintf(err, cap, "can't remove %s: %s", s->path, strerror(errno));
            return -1;
        }
        return 0;
    }
    log_warning("WAL: torn batch at the tail of %s, offset %" PRIu64 ": truncating "
                "(it was never acknowledged)", s->path, s->valid_end);
    if (truncate(s->path, (off_t)s->valid_end) != 0) {
        snprintf(err, cap, "can't truncate %s: %s", s->path, strerror(errno));
        return -1;
    }
    return 0;
}

int recovery_run(const char *dir, lsn_t after_lsn, recovery_apply_fn *fn, void *ctx,
                 struct recovery_result *res, char *err, size_t cap)
{
    char path[4096];
    lsn_t *lsns = NULL;
    struct segment_scan s = {.expect = 0};
    int n, rc = 0;

    memset(res, 0, sizeof(*res));
    snprintf(path, sizeof(path), "%s/wal", dir);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, cap, "can't create %s: %s", path, strerror(errno));
        return -1;
    }
    n = recovery_list_segments(dir, &lsns);
    if (n < 0) {
        snprintf(err, cap, "can't list %s: %s", path, strerror(-n));
        return -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char seg[4096];
        if (i + 1 < n && lsns[i + 1] <= after_lsn + 1) {
            /* Wholly covered by the snapshot: nothing to read. */
            s.expect = lsns[i + 1];
            continue;
        }
        wal_segment_path(seg, sizeof(seg), dir, lsns[i]);
        s.path = seg;
        s.newest = i == n - 1;
        s.torn = false;
        rc = scan_segment(&s, lsns[i], after_lsn, fn, ctx, res, err, cap);
        if (rc == 0 && s.torn) {
            rc = truncate_tail(&s, err, cap);
            res->truncated = true;
        }
        res->segments++;
        if (rc == 0 && s.newest && s.valid_end > 0) {
            res->seg_first_lsn = lsns[i];
            res->seg_offset = s.valid_end;
        }
    }
    mem_free(lsns);
    if (res->last_lsn < after_lsn)
        res->last_lsn = after_lsn;
    return rc;
}
