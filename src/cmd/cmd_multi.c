/*
 * cmd_multi.c - MULTI, EXEC, DISCARD, WATCH, UNWATCH.
 *
 * Design
 *   Queueing happens in the dispatcher (cmd_dispatch -> multi_queue). EXEC
 *   runs the queue as one unit: the dispatcher has already called
 *   effect_begin(), so the effects of every queued command accumulate into
 *   one set, which durable_after_command() makes one WAL record (issue 4:
 *   a transaction is wholly in the log or wholly absent).
 *
 *   Rollback, engram's deliberate difference from Redis: the undo log
 *   (db/undo.h) is active while the queue runs. The first command that
 *   replies an error stops the run; the keyspace is restored, the effects
 *   are dropped (nothing reaches the WAL), the selected database is put
 *   back, and EXEC replies one EXECABORT error naming the command:
 *
 *     -EXECABORT Transaction rolled back: command 2 (INCRBY) failed: ERR ...
 *
 *   What is not keyspace (CONFIG SET, CLIENT SETNAME, ...) is not undone.
 *   Other clients' WATCH on keys the transaction wrote stays triggered (a
 *   spurious conflict: their EXEC fails and they retry, which is safe).
 *
 * Invariants
 *   (1) The undo log is active exactly while a queue runs.
 *   (2) After EXEC or DISCARD the client is out of MULTI and watches
 *       nothing.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "core/assert.h"
#include "core/limits.h"
#include "db/effect.h"
#include "db/undo.h"
#include "server/durable.h"
#include "server/multi.h"
#include "server/reply.h"

#include <stdio.h>
#include <string.h>

void cmd_multi(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

void cmd_discard(struct client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(c);
}

void cmd_watch(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) {
        if (!watch_key(c, c->argv[i].p, c->argv[i].len))
            return;
    }
    reply_ok(c);
}

void cmd_unwatch(struct client *c)
{
    watch_unwatch_all(c);
    reply_ok(c);
}

/* "INCRBY" or "CLIENT|SETNAME": the command's name in upper case. */
static void upper_name(const struct cmd_def *d, char *out, size_t cap)
{
    size_t i = 0;
    for (; d->fullname[i] && i + 1 < cap; i++) {
        char ch = d->fullname[i];
        out[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    }
    out[i] = '\0';
}

/* Run c's queue under the undo log. Returns the index of the command that
 * failed (everything is then rolled back), or -1 if all succeeded. The
 * client stays in MULTI meanwhile, as in Redis (CLIENT INFO shows it). */
static int run_queue(struct client *c)
{
    int failed = -1;
    undo_begin();
    for (int i = 0; i < c->mqueue_count && failed < 0; i++) {
        const struct multi_cmd *m = &c->mqueue[i];
        uint64_t errors = c->error_replies;
        c->argc = m->argc;
        c->argv = m->argv;
        durable_txn_command(c, m->cmd);
        cmd_call(c, m->cmd);
        if (c->error_replies == errors && effect_data()->len > WAL_RECORD_BYTES_MAX)
            reply_errorf(c, "ERR the transaction's effects exceed %llu bytes, the most one WAL "
                            "record holds", (unsigned long long)WAL_RECORD_BYTES_MAX);
        if (c->error_replies != errors)
            failed = i;
    }
    if (failed < 0)
        undo_commit();
    else
        undo_rollback();
    return failed;
}

void cmd_exec(struct client *c)
{
    const struct cmd_def *exec_def = c->cmd;
    int argc = c->argc, failed, db_index = c->db_index;
    struct client_arg *argv = c->argv;
    struct db *db = c->db;
    size_t start;
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        multi_discard(c);
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if (!watch_exec_allowed(c)) {
        multi_discard(c);
        reply_null_array(c);
        return;
    }
    for (int i = 0; i < c->mqueue_count; i++) {
        /* D4: the WAL failed since these writes were queued. Redis words a
         * refused EXEC this way. */
        char msg[256];
        if (durable_refusal(c->mqueue[i].cmd, msg, sizeof(msg))) {
            multi_discard(c);
            reply_errorf(c, "EXECABORT Transaction discarded because of: %s", msg);
            return;
        }
    }
    watch_unwatch_all(c); /* nothing to watch any more while it runs */
    start = c->obuf.len;
    reply_array(c, c->mqueue_count);
    failed = run_queue(c);
    if (failed >= 0) {
        char name[64];
        char msg[REPLY_LAST_ERROR_BYTES];
        snprintf(msg, sizeof(msg), "%s", reply_last_error());
        upper_name(c->mqueue[failed].cmd, name, sizeof(name));
        effect_begin(); /* nothing of it reaches the WAL */
        c->db = db;
        c->db_index = db_index;
        if (c->obuf.len >= start)
            c->obuf.len = start;
        c->cmd = exec_def;
        reply_errorf(c, "EXECABORT Transaction rolled back: command %d (%s) failed: %s",
                     failed + 1, name, msg);
    }
    multi_discard(c); /* out of MULTI, nothing watched (invariant 2) */
    c->cmd = exec_def;
    c->argc = argc;
    c->argv = argv;
}
