#pragma once
/*
 * multi.h - transaction state of clients: the MULTI queue and WATCH.
 *
 *   MULTI        client flag CLIENT_MULTI; later commands are queued
 *                (multi_queue) and answered +QUEUED
 *   refusal      a command refused while queueing sets CLIENT_DIRTY_EXEC
 *                (multi_flag_error): EXEC then answers EXECABORT
 *   WATCH        (db, key) pairs; a change to one sets CLIENT_DIRTY_CAS
 *                on every client watching it, and EXEC answers null
 *
 * Changes are learnt from the effects (db/effect.h): every command that
 * changes a key records an effect naming it, including the DEL of an
 * expired key, so nothing else has to remember to "signal" a change.
 * Database-wide changes (FLUSHDB, FLUSHALL, SWAPDB) call watch_touch_db()
 * before they happen, since what they touch depends on what exists.
 *
 * Running a queue (EXEC) is cmd/cmd_multi.c's job.
 * Threads: loop thread.
 */
#include "server/client.h"

#include <stdbool.h>
#include <stddef.h>

struct cmd_def;

/* One queued command: its arguments are copied (the query buffer moves on). */
struct multi_cmd {
    const struct cmd_def *cmd; /* resolved at queue time */
    int argc;                  /* arguments including the name */
    struct client_arg *argv;   /* owned block: the array, then the bytes */
};

/* Register the effect observer (once, at start-up). */
void multi_init(void);
/* Queue c's current command. False (error replied, transaction flagged) if
 * a limit is reached. */
bool multi_queue(struct client *c);
/* If c is in MULTI, mark its transaction as aborted (EXECABORT). */
void multi_flag_error(struct client *c);
/* Leave MULTI: free the queue, clear the flags, unwatch every key. */
void multi_discard(struct client *c);
/* Everything of c, when it is freed. */
void multi_client_free(struct client *c);

/* WATCH key in c's selected db. False (error replied) past WATCH_KEYS_MAX. */
bool watch_key(struct client *c, const char *key, size_t len);
void watch_unwatch_all(struct client *c);
/* True if c's EXEC may run: no watched key was modified, and none that was
 * alive when watched has expired since (Redis 7 semantics). */
bool watch_exec_allowed(struct client *c);
/* Before FLUSHDB/FLUSHALL empties db (other == NULL) or SWAPDB replaces its
 * contents with other's. */
void watch_touch_db(struct db *db, struct db *other);
/* A change that records no effect but counts as a write for WATCH in
 * Redis (APPEND of an empty string to an existing key). */
void watch_signal(int db, const char *key, size_t len);
/* Number of (db, key) pairs watched by anyone (INFO watching_keys). */
size_t watch_keys_count(void);
