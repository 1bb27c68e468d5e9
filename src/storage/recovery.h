#pragma once
/*
 * recovery.h - read the WAL back at start-up (DESIGN.md D3, D5).
 *
 * Segments are read in lsn order; every record is checked (magic, length,
 * crc32c, lsn = previous + 1) and handed to the caller's apply function. A
 * torn record at the tail of the newest segment (a crash mid-write: nothing
 * valid after it) is truncated away with a log line naming file and offset.
 * Any other bad record is corruption: recovery fails naming file, offset and
 * lsn, and the repair command.
 * Threads: start-up (loop thread).
 */
#include "storage/wal.h"

#include <stddef.h>
#include <stdint.h>

/* Apply one record; 0, or -1 with a reason in err (the record's effects are
 * not valid commands: treated as corruption). */
typedef int recovery_apply_fn(void *ctx, const struct wal_record *r, char *err, size_t cap);

struct recovery_result {
    lsn_t last_lsn;       /* last lsn applied: max(snapshot lsn, last WAL record) */
    lsn_t wal_last_lsn;   /* last valid record in the WAL, 0 if none */
    lsn_t seg_first_lsn;  /* newest segment to append to, 0 if none */
    uint64_t seg_offset;  /* end of its valid data */
    uint64_t records;     /* records applied */
    uint64_t segments;    /* segment files read */
    bool truncated;       /* a torn tail was cut off */
};

/*
 * Replay <dir>/wal from the record after after_lsn. Creates <dir>/wal if
 * missing. 0, or -1 with the reason in err.
 */
int recovery_run(const char *dir, lsn_t after_lsn, recovery_apply_fn *fn, void *ctx,
                 struct recovery_result *res, char *err, size_t cap);

/* The segment files of <dir>/wal in lsn order; caller frees with
 * recovery_free_list(). Returns the count, or -errno. */
int recovery_list_segments(const char *dir, lsn_t **lsns_out);
