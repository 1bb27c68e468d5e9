#pragma once
/*
 * snap.h - snapshot files: a point-in-time image of every key, covering
 * the WAL up to an lsn (DESIGN.md D6).
 *
 * The format knows keys and values as bytes; what a value means (type,
 * encoding) is the caller's. Writing: snap_writer_open() ... snap_write_key()
 * ... snap_writer_commit() writes "<dir>/snap/<lsn>.snap.tmp", fsyncs it,
 * renames it to "<lsn>.snap" and fsyncs the directory. Loading verifies the
 * CRC32C of the whole file before handing out a single key.
 * Byte layout: docs/formats/snapshot.md and snap.c.
 * Threads: the writer runs in the snapshot child (or the loop for SAVE);
 * loading at start-up.
 */
#include "storage/io.h"
#include "storage/wal.h"

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "ENGRMSNP"
#define SNAP_FORMAT_VERSION 1u
#define SNAP_HEADER_BYTES 32u
#define SNAP_WRITE_BUF_BYTES (1024u * 1024u)

struct snap_writer {
    const struct io_ops *io;   /* borrowed */
    int fd;                    /* temp file */
    char tmp_path[4104];       /* <dir>/snap/<lsn>.snap.tmp */
    char final_path[4096];     /* <dir>/snap/<lsn>.snap */
    char snap_dir[4096];       /* <dir>/snap */
    uint8_t *buf;              /* owned write buffer */
    size_t len;                /* bytes in buf */
    uint64_t offset;           /* file offset of buf[0] */
    uint32_t crc;              /* crc32c of everything written so far */
    uint64_t keys;             /* keys written */
};

/* 0 or -errno. */
int snap_writer_open(struct snap_writer *w, const char *dir, lsn_t lsn, int64_t now_ms);
/* Append one key. value_type is the caller's type code (0..255). */
int snap_write_key(struct snap_writer *w, int db, uint8_t value_type, int64_t expire_ms,
                   const void *key, uint32_t key_len, const void *val, uint32_t val_len);
/* Trailer, fsync, rename, fsync dir. 0 or -errno; the writer is closed. */
int snap_writer_commit(struct snap_writer *w);
/* Close and remove the temp file. */
void snap_writer_abort(struct snap_writer *w);

/* Called once before the keys, with their number and the time the
 * snapshot was taken as of (wall clock ms: keys expired then are not in it). */
typedef void snap_begin_fn(void *ctx, uint64_t keys, int64_t time_ms);
typedef int snap_key_fn(void *ctx, int db, uint8_t value_type, int64_t expire_ms,
                        const char *key, uint32_t key_len, const char *val, uint32_t val_len);

/*
 * Load a snapshot file: verify it whole, then call fn for each key. Sets
 * *lsn_out to the lsn it covers. 0, or -1 with a reason in err.
 */
int snap_load(const char *path, snap_begin_fn *begin, snap_key_fn *fn, void *ctx,
              lsn_t *lsn_out, uint64_t *keys_out, char *err, size_t cap);

/* The lsns of the finished snapshots in <dir>/snap, newest first.
 * Caller frees *lsns_out with mem_free. Count or -errno. */
int snap_list(const char *dir, lsn_t **lsns_out);
void snap_path(char *out, size_t cap, const char *dir, lsn_t lsn);
