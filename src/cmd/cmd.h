#pragma once
/*
 * cmd.h - the command table and the dispatcher.
 *
 * Commands are data: src/cmd/commands.def includes one .def file per family,
 * each a list of CMD(...) / SUBCMD(...) X-macro lines:
 *
 *   CMD(name, handler, arity, flags, first_key, last_key, key_step, group, summary)
 *   CONTAINER(name, arity, flags, group, summary)
 *   SUBCMD(parent, name, handler, arity, flags, first_key, last_key, key_step, summary)
 *
 * arity as Redis: N means exactly N arguments including the name, -N means
 * at least N. A command with subcommands is declared with CONTAINER and
 * its subcommands with SUBCMD (parent is the container's name as a string); the dispatcher then picks the subcommand by
 * argv[1] and checks the subcommand's arity. Arity, authentication and
 * unknown-command errors are produced here, never in handlers.
 *
 * Threads: loop thread.
 */
#include "server/client.h"

#include <stdbool.h>
#include <stdint.h>

typedef void cmd_fn(struct client *c);

#define CMD_WRITE (1u << 0)      /* may modify the keyspace */
#define CMD_READONLY (1u << 1)   /* reads the keyspace only */
#define CMD_DENYOOM (1u << 2)    /* may grow memory: refused over maxmemory */
#define CMD_ADMIN (1u << 3)      /* administrative */
#define CMD_PUBSUB (1u << 4)     /* pub/sub related */
#define CMD_NOSCRIPT (1u << 5)   /* not allowed in scripts */
#define CMD_BLOCKING (1u << 6)   /* may block the client */
#define CMD_LOADING (1u << 7)    /* allowed while loading */
#define CMD_STALE (1u << 8)      /* allowed on a stale replica */
#define CMD_FAST (1u << 9)       /* O(1) or O(log n) */
#define CMD_NO_AUTH (1u << 10)   /* allowed before AUTH */
#define CMD_NO_MULTI (1u << 11)  /* not allowed inside MULTI */
#define CMD_MOVABLE_KEYS (1u << 12) /* key positions depend on arguments */
#define CMD_TXN_CONTROL (1u << 13)  /* runs at once inside MULTI (not queued) */
#define CMD_DB_WIDE (1u << 14)      /* engram only: a write whose effects are not per key
                                       (FLUSHDB, FLUSHALL, SWAPDB, MOVE, COPY; durable.c) */

struct cmd_def {
    const char *name;       /* lowercase; subcommands: "sub" with parent set */
    cmd_fn *fn;             /* handler, NULL for a container of subcommands */
    int arity;              /* see the header comment */
    unsigned flags;         /* CMD_* */
    int first_key;          /* argv index of the first key, 0 if none */
    int last_key;           /* of the last key; -1 = last argument */
    int key_step;           /* distance between keys */
    const char *group;      /* COMMAND DOCS group: "string", "generic", ... */
    const char *summary;    /* one line for COMMAND DOCS */
    const struct cmd_def *parent; /* container, for subcommands */
    const struct cmd_def **subs;  /* subcommands (container only), NULL-terminated */
    char fullname[48];      /* "get" or "client|id" */
    uint64_t calls;         /* INFO commandstats */
    uint64_t usec;          /* total execution time */
    uint64_t failed_calls;  /* rejected or error replies */
};

/* Build the lookup table (once, at start-up). */
void cmd_init(void);
/* The command named name[0..len) (any case), or NULL. */
const struct cmd_def *cmd_lookup(const char *name, size_t len);
/* Subcommand of parent, or NULL. */
const struct cmd_def *cmd_lookup_sub(const struct cmd_def *parent, const char *name, size_t len);
/* Number of top-level commands. */
int cmd_count(void);
/* The i-th top-level command, for COMMAND / COMMAND LIST. */
const struct cmd_def *cmd_at(int i);
/*
 * Validate and run the command in c->argv (arity, subcommand, auth) and
 * record its effects and statistics. Replies go to c. Returns the command
 * run, or NULL if it was rejected.
 */
const struct cmd_def *cmd_dispatch(struct client *c);
/*
 * Start of a run of back-to-back cmd_dispatch() calls (one client's
 * pipelined input): the first command reads the clock, and each later one
 * starts at the previous one's end, so a command costs one clock read, not
 * two. Call it before every such run: time passes between runs.
 */
void cmd_clock_reset(void);
/*
 * Run a resolved command's handler with its statistics and MONITOR feed,
 * no checks (EXEC runs its queue with it). Replies go to c.
 */
void cmd_call(struct client *c, const struct cmd_def *d);
/* Run c->cmd again for a blocked client whose key got data, as a command of
 * its own (effects, WAL record, held reply). */
void cmd_rerun(struct client *c);
/*
 * Key positions of a command line, for COMMAND GETKEYS: fills idx[] with up
 * to idx_cap argv indexes; returns the count, or -1 if the arguments are
 * invalid for the command.
 */
int cmd_get_keys(const struct cmd_def *cmd, int argc, const struct client_arg *argv, int *idx,
                 int idx_cap);

/* Reply with a HELP text: an array of simple strings (NULL-terminated). */
void cmd_reply_help(struct client *c, const char *const *lines);

/* Handlers. */
#define CMD(name, fn, ...) cmd_fn fn;
#define CONTAINER(...)
#define SUBCMD(parent, name, fn, ...) cmd_fn fn;
#include "cmd/commands.def"
#undef CMD
#undef CONTAINER
#undef SUBCMD
