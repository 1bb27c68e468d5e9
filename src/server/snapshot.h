#pragma once
/*
 * snapshot.h - BGSAVE/SAVE: write the keyspace to a snapshot file that
 * covers the WAL up to an lsn, load the newest one at start-up, and delete
 * the WAL segments and older snapshots it makes unnecessary (D6).
 * Threads: loop thread (the writing happens in a forked child for BGSAVE).
 */
#include "storage/wal.h"

#include <stdbool.h>
#include <stdint.h>

struct buf;

/* Load the newest valid snapshot into the databases. Sets *lsn (0 if
 * none). 0, or -1 after logging why. */
int snapshot_load(lsn_t *lsn, uint64_t *keys);
/* Start a background snapshot covering `lsn`. 0, -EBUSY if one is
 * running, or -errno. */
int snapshot_start_bg(lsn_t lsn);
/* Write a snapshot covering `lsn` in the loop (SAVE). 0 or -errno. */
int snapshot_save_sync(lsn_t lsn);
/* Reap a finished child; called from the cron. Returns the lsn of a
 * snapshot that just completed, or 0. */
lsn_t snapshot_cron(void);
bool snapshot_in_progress(void);
/* Bytes of the newest snapshot this process loaded or wrote, 0 if none. */
uint64_t snapshot_last_bytes(void);
/* INFO fields (rdb_*) */
void snapshot_info(struct buf *b);
/* Debug builds: make background snapshots slow by ms (0: off), in the
 * parent after fork() (a large process) or in the child before it writes.
 * Returns false in release builds. */
enum { SNAPSHOT_DELAY_PARENT = 0, SNAPSHOT_DELAY_CHILD = 1 };
bool snapshot_errinj_delay(int which, int ms);
/* Kill a running child at shutdown. */
void snapshot_shutdown(void);
/* Kill and reap a background snapshot child, if any, whatever it got to;
 * returns the lsn it was to cover, or 0 if there was none. */
lsn_t snapshot_abort(void);
