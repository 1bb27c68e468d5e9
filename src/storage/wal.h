#pragma once
/*
 * wal.h - the write-ahead log: record format, the open batch, and the WAL
 * thread that writes and fsyncs batches (group commit).
 *
 * The loop thread appends one record per command (or EXEC) with effects
 * (wal_append), and before it sleeps publishes the open batch to the WAL
 * thread (wal_flush), adding it to the `ready` batch. The WAL thread takes
 * all that is ready as one batch, does one pwrite and one fdatasync,
 * publishes durable_lsn and writes to an eventfd, and at once takes the next
 * ready batch, without waiting for the loop; the loop reads the eventfd
 * (wal_poll) and releases replies whose lsn is now durable. While a batch
 * is being synced the loop goes on executing and filling the next batch.
 *
 * Byte layout: docs/formats/wal.md (and wal.c's header comment).
 * Threads: wal_* on the loop thread; the WAL thread is internal.
 */
#include "core/buf.h"
#include "storage/io.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t lsn_t;

#define WAL_SEGMENT_MAGIC "ENGRMWAL"
#define WAL_FORMAT_VERSION 3u
#define WAL_SEGMENT_HEADER_BYTES 32u
#define WAL_RECORD_HEADER_BYTES 24u
#define WAL_BATCH_MAGIC 0x54414245u /* "EBAT" little-endian */
#define WAL_BATCH_HEADER_BYTES 32u

enum wal_fsync { WAL_FSYNC_ALWAYS = 0, WAL_FSYNC_EVERYSEC = 1, WAL_FSYNC_NO = 2 };

/* A decoded record: points into the buffer it was decoded from. */
struct wal_record {
    lsn_t lsn;          /* log sequence number */
    int64_t time_ms;    /* wall clock when the command ran */
    const char *body;   /* effects, proto/effect_codec.h encoding */
    uint32_t body_bytes;/* length of body */
};

/* A checked batch: its header and every record in it are valid. */
struct wal_batch {
    lsn_t first_lsn;    /* lsn of its first record */
    uint32_t records;   /* records in it, at least 1 */
    uint64_t size;      /* bytes, header included */
};

enum wal_decode_rc {
    WAL_DECODE_OK = 1,      /* a record was decoded */
    WAL_DECODE_END = 0,     /* zeros or end of data: no more records */
    WAL_DECODE_TORN = -1,   /* truncated, or a header/body that fails its checks */
};

/*
 * Encode a record header for body into hdr[WAL_RECORD_HEADER_BYTES].
 */
void wal_encode_header(uint8_t *hdr, lsn_t lsn, int64_t time_ms, const void *body,
                       uint32_t body_bytes);
/*
 * Decode the record at p[0..avail). On WAL_DECODE_OK, *r points into p and
 * *size_out is the record's total size. Never trusts the input.
 */
int wal_decode(const uint8_t *p, size_t avail, struct wal_record *r, size_t *size_out);
/*
 * Encode the header of a batch of `records` records, body_bytes bytes in
 * all, the first with lsn first_lsn, into hdr[WAL_BATCH_HEADER_BYTES].
 */
void wal_encode_batch_header(uint8_t *hdr, lsn_t first_lsn, uint32_t records,
                             uint64_t body_bytes);
/*
 * Check the batch at p[0..avail): its header, and that its records are all
 * valid, dense from first_lsn and fill it exactly. WAL_DECODE_END on zeros
 * (the caller decides whether data follows them), WAL_DECODE_TORN if any
 * check fails. Never trusts the input. Its records are then read with
 * wal_decode() from p + WAL_BATCH_HEADER_BYTES.
 */
int wal_decode_batch(const uint8_t *p, size_t avail, struct wal_batch *b);
/*
 * The record at p, inside a batch that wal_decode_batch() accepted (so
 * nothing is checked again, the crc included); returns its size.
 */
size_t wal_record_at(const uint8_t *p, struct wal_record *r);
/*
 * The torn-tail vs corruption rule (D5), shared by recovery and
 * engram-check. The WAL thread writes batch N+1 only after batch N's
 * fdatasync returned, so a crash can damage the last batch only, in any of
 * its sectors. A bad batch at `off` is damage in the middle of the log if
 * a valid batch header with a first lsn of at least `min_first` (the lsn
 * the bad batch should start with) exists anywhere past it: every offset
 * is tried, since the bad batch's own length may be what is damaged, so
 * this is O(bytes) and runs only on a bad batch. Valid records after the
 * bad spot prove nothing: they may be the torn batch's own. A header whose
 * first lsn is further past min_first than one lsn per 24 bytes (a record
 * header) from off does not count (no real batch can be there: it is data
 * inside a value).
 * When the bad batch's own header is intact (checksum and lsn), only the
 * bytes past the length it declares are searched, for a first lsn past its
 * records: a header-shaped value inside the torn batch is then not taken
 * for a later batch.
 */
bool wal_valid_batch_after(const uint8_t *p, size_t size, uint64_t off, lsn_t min_first);
/* True if any byte of p[off..size) is not zero (zeros followed by data are
 * damage, not the end of the log). */
bool wal_nonzero_after(const uint8_t *p, size_t size, uint64_t off);
/* Encode/check a segment header. */
void wal_encode_segment_header(uint8_t *hdr, lsn_t first_lsn);
int wal_check_segment_header(const uint8_t *hdr, size_t avail, lsn_t *first_lsn);
/* What to tell someone whose segment has another format version (the
 * header checks out but wal_check_segment_header() returned -2): the
 * version found and how to upgrade, without engram-check repair (which
 * would cut the whole segment). Into out. */
void wal_version_advice(char *out, size_t cap, const char *path, const uint8_t *hdr);
/* "<dir>/wal/<20-digit lsn>.wal" into out. */
void wal_segment_path(char *out, size_t cap, const char *dir, lsn_t first_lsn);

struct wal_stats {
    uint64_t fsyncs;          /* fdatasync calls */
    uint64_t bytes;           /* bytes written */
    uint64_t batches;         /* batches written */
    uint32_t fsync_us[256];   /* ring of recent fsync durations */
    uint32_t batch_records[256]; /* ring of recent batch sizes */
    uint32_t ring_pos;        /* next slot in the rings */
};

struct wal {
    /* Loop-thread state. */
    char *dir;                /* data directory (owned) */
    const struct io_ops *io;  /* borrowed */
    atomic_int fsync_mode;    /* enum wal_fsync (appendfsync); CONFIG SET may change it */
    uint64_t segment_bytes_max; /* start a new segment past this size */
    lsn_t next_lsn;           /* lsn of the next record */
    struct buf open;          /* records not yet handed over */
    lsn_t open_first_lsn;     /* first lsn in `open` */
    uint32_t open_records;    /* records in `open` */
    int64_t open_first_us;    /* monotonic time the first record of `open` was appended */
    bool in_flight;           /* published records are not all durable yet (as of the
                                 last wal_flush/wal_poll) */
    size_t ready_bytes_seen;  /* ready.len as of the last wal_flush/wal_poll */
    uint32_t done_records;    /* records of the batch the last wal_poll saw finish */
    int event_fd;             /* the WAL thread signals the loop here */
    /* Shared with the WAL thread. */
    pthread_t thread;         /* the WAL thread */
    pthread_mutex_t lock;     /* guards the fields below */
    pthread_cond_t cond;      /* signals a new batch or stop */
    struct buf ready;         /* published records the thread has not taken yet */
    lsn_t ready_first_lsn;    /* first lsn in `ready` */
    lsn_t ready_last_lsn;     /* last lsn in `ready` */
    uint32_t ready_records;   /* records in `ready` */
    bool busy;                /* the thread is writing `flight` */
    uint32_t last_batch_records; /* records of the last batch the thread finished */
    bool stop;                /* the thread must exit */
    /* WAL thread only (set up by wal_open before it starts). */
    struct buf flight;        /* batch being written */
    lsn_t flight_first_lsn;   /* first lsn in `flight` */
    lsn_t flight_last_lsn;    /* last lsn in `flight` */
    uint32_t flight_records;  /* records in `flight` */
    uint64_t flight_offset;   /* segment offset for `flight` */
    lsn_t flight_new_segment; /* if nonzero: start a segment named so first */
    uint64_t seg_offset;      /* where the next batch goes in the segment */
    int seg_fd;               /* open segment */
    uint64_t zeroed_to;       /* seg_fd bytes [0, zeroed_to) are written (thread) */
    bool dirty;               /* written but not fsynced (everysec) */
    int64_t dirty_since_us;   /* monotonic time dirty became true */
    atomic_uint_least64_t durable_lsn; /* highest lsn known durable */
    atomic_int failed_errno;  /* 0, or the errno of the failed write/fsync */
    atomic_uint last_fsync_us; /* duration of the last batch's fdatasync (0: none yet) */
    struct wal_stats stats;   /* written by the thread, read under lock */
};

/*
 * Open the WAL for appending after recovery: the segment named
 * seg_first_lsn (0 = none yet) whose valid data ends at seg_offset, and the
 * next lsn to assign. Starts the WAL thread. 0 or -errno.
 */
int wal_open(struct wal *w, const char *dir, enum wal_fsync mode, lsn_t seg_first_lsn,
             uint64_t seg_offset, lsn_t next_lsn);
/* Stop the thread after writing and syncing what was handed over. */
void wal_close(struct wal *w);

/* Append one record (copying body). Returns its lsn. Loop thread. */
lsn_t wal_append(struct wal *w, int64_t time_ms, const void *body, size_t body_bytes);
/* Publish the open batch to the thread (it takes it as soon as it is done
 * with the batch it is writing). Loop thread. */
void wal_flush(struct wal *w);
/* Bytes appended and not yet taken by the thread (as far as the loop knows:
 * an upper bound, refreshed by wal_flush and wal_poll). Loop thread. */
static inline size_t wal_pending_bytes(const struct wal *w)
{
    return w->open.len + w->ready_bytes_seen;
}
/* Change appendfsync at run time: the next batch follows the new mode
 * (its fdatasync also covers whatever an earlier mode left unsynced). */
void wal_set_fsync(struct wal *w, enum wal_fsync mode);
/* Consume the eventfd; returns the new durable lsn. Loop thread. */
lsn_t wal_poll(struct wal *w);

static inline lsn_t wal_durable_lsn(struct wal *w)
{
    return atomic_load_explicit(&w->durable_lsn, memory_order_acquire);
}

static inline int wal_failed(struct wal *w)
{
    return atomic_load_explicit(&w->failed_errno, memory_order_acquire);
}

/* Percentiles of the recent fsync durations (us) and batch sizes. */
void wal_stats_percentiles(struct wal *w, uint32_t *fsync_p50, uint32_t *fsync_p99,
                           uint32_t *batch_p50, uint32_t *batch_p99, uint64_t *fsyncs,
                           uint64_t *bytes);
