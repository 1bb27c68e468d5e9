#pragma once
/*
 * durable.h - the life of a write (DESIGN.md): the link between command
 * execution and the WAL.
 *
 *   durable_init()           lock the data dir, replay the WAL, open it
 *   durable_write_refused()  D4: a failed WAL refuses writes (-MISCONF)
 *   durable_after_command()  append the command's effects as one record,
 *                            mark its keys dirty, hold its reply (D1, D2)
 *   durable_writable_bytes() how much of a client's output may leave now
 *   durable_before_sleep()   hand the open batch to the WAL thread
 *   (eventfd)                release replies that became durable
 *
 * With appendonly no nothing is logged and nothing is held.
 * Threads: loop thread.
 */
#include "server/client.h"

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct cmd_def;

/* Lock the data directory (one server per directory). 0 or -1 (logged). */
int durable_lock(void);
/* Load the snapshot, replay the WAL, open it. The network is served while
 * loading (commands get -LOADING). 0, or -1 after logging why the server
 * must not start. */
int durable_init(void);
void durable_shutdown(void);
/* True (and an error reply sent) if c's command is a write and the WAL
 * has failed. */
bool durable_write_refused(struct client *c);
/* The same for command d. */
bool durable_write_refused_for(struct client *c, const struct cmd_def *d);
/* If command d would be refused (D4), its error text into msg (no reply). */
bool durable_refusal(const struct cmd_def *d, char *msg, size_t cap);
/* EXEC: called before each queued command runs, with c->argv its
 * arguments; its keys join the EXEC's requirement and marks. */
void durable_txn_command(struct client *c, const struct cmd_def *d);
/* Called after a command ran; reply_start is c->obuf.len before it ran. */
void durable_after_command(struct client *c, size_t reply_start);
/* End offset in c->obuf of the bytes that may be written now. */
size_t durable_writable_end(struct client *c);
/* The first `bytes` of c->obuf were dropped: move the holds down. */
void durable_shift_holds(struct client *c, size_t bytes);
/* Forget c's holds (the client is being freed). */
void durable_forget_client(struct client *c);
void durable_before_sleep(void);
/* True while records handed to the WAL thread are not all durable: the
 * loop's next event is then likely the WAL's, an fsync away. */
bool durable_in_flight(void);
/* True while the open WAL batch is at WAL_OPEN_BYTES_MAX: clients must not
 * execute more commands until it has been handed to the WAL thread. */
bool durable_wal_full(void);
/* Cron: reap the snapshot child, prune the WAL, start automatic snapshots. */
void durable_cron(void);
/* BGSAVE (sync = false) or SAVE (sync = true). 0, -EBUSY, -ENOTSUP
 * (appendonly no), -ENOTRECOVERABLE (the WAL failed: D4) or -errno. */
int durable_bgsave(bool sync);
/* Log the effects recorded outside any command (active expiry). */
void durable_log_effects(void);
/* Apply a changed appendfsync (CONFIG SET). */
void durable_apply_config(void);
/* INFO persistence section. */
void durable_info(struct buf *b);
/* True while the WAL is being replayed. */
bool durable_loading(void);
/* In a forked child: close what belongs to the parent (the lock fd). */
void durable_child_after_fork(void);
/* Debug builds: DEBUG ERRINJ. Returns false if unknown/unsupported. */
bool durable_errinj(const char *point, int countdown, int err);
