#pragma once
/*
 * block.h - clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
 *
 *   block_on_keys()     the command found nothing: park the client with a
 *                       copy of its command, its keys and a deadline
 *   (any change)        every effect naming a key someone waits on marks
 *                       the key ready (via the effect observer, multi.c)
 *   block_serve_ready() after each command: for each ready key, re-run
 *                       the waiters' commands in FIFO order while the key
 *                       has data; a served command replies, logs its pop
 *                       and is held until durable like any write
 *   block_expire()      before the loop sleeps: reply the timeout reply to
 *                       clients past their deadline
 *   block_unblock()     CLIENT UNBLOCK: the same at once, or -UNBLOCKED
 *
 * A blocked client executes nothing else; its later input waits in its
 * query buffer. Inside MULTI/EXEC blocking commands never block (they
 * reply as if timed out), as in Redis.
 * Threads: loop thread.
 */
#include "server/client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Park c on keys argv[first .. first + nkeys) (the blocking commands' keys
 * are contiguous) in its selected db until deadline_us (monotonic; 0 = no
 * timeout). The timeout reply is a null array (every blocking command in
 * Redis 7.0). A command re-run for a blocked client that again finds
 * nothing calls this too: the client then keeps its place and deadline. */
void block_on_keys(struct client *c, int first, int nkeys, int64_t deadline_us);
/* While c's blocked command is re-run for a ready key: the argv index in
 * [first, last] of that key, so the command serves it first (Redis 7.0
 * serves the key that became ready, not the first with data); else -1. */
int block_serving_arg(const struct client *c, int first, int last);
/* Mark (db, key) ready if someone waits on it. */
void block_signal(int db, const char *key, size_t len);
/* Mark every waited-on key of database db ready (SWAPDB). */
void block_signal_db(int db);
/* Serve the waiters of the keys marked ready (after each command). */
void block_serve_ready(void);
/* Time out clients past their deadline; returns the earliest remaining
 * deadline (monotonic us) or 0 if none. */
int64_t block_expire(int64_t now_us);
/* CLIENT UNBLOCK: end c's blocking command now with its timeout reply, or
 * with -UNBLOCKED if error; false (nothing done) if c is not blocked. */
bool block_unblock(struct client *c, bool error);
/* c is being freed: forget it. */
void block_client_free(struct client *c);
/* Number of blocked clients (INFO blocked_clients). */
size_t block_count(void);
/* True if anyone is blocked on anything (fast path for the observer). */
bool block_any(void);
