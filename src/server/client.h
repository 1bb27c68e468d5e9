#pragma once
/*
 * client.h - one connected client: socket, query buffer, parser, argv of
 * the command being executed, reply buffer and per-connection state.
 *
 * Command handlers (src/cmd) receive the client: argv/argc are the
 * request, c->db the selected database, and replies go through reply.h.
 * This is the one place where the cmd layer sees server/ (Redis's model);
 * cmd code reads the fields documented "for handlers" and nothing else.
 *
 * Life:  accepted --> (read, parse, execute, reply)* --> closing --> freed
 *   client_new()        client_process_input()   client_close_async()
 *                                                  (freed in before_sleep
 *                                                   after its last reply)
 * Threads: loop thread.
 */
#include "core/buf.h"
#include "db/db.h"
#include "proto/resp_parse.h"

#include <stdbool.h>
#include <stdint.h>

#define CLIENT_CLOSE_AFTER_REPLY (1u << 0) /* QUIT, protocol error: close once written */
#define CLIENT_CLOSE_ASAP (1u << 1)        /* close now, drop pending output */
#define CLIENT_MONITOR (1u << 2)           /* receives MONITOR lines */
#define CLIENT_REPLY_OFF (1u << 3)         /* CLIENT REPLY OFF */
#define CLIENT_REPLY_SKIP_NEXT (1u << 4)   /* CLIENT REPLY SKIP: skip the next command */
#define CLIENT_REPLY_SKIP (1u << 5)        /* replies of the current command are dropped */
#define CLIENT_PENDING_WRITE (1u << 6)     /* on the server's pending-write list */
#define CLIENT_UNIX_SOCKET (1u << 7)       /* connected through the Unix socket */
#define CLIENT_NO_EVICT (1u << 8)          /* CLIENT NO-EVICT on */
#define CLIENT_NO_TOUCH (1u << 9)          /* CLIENT NO-TOUCH on */
#define CLIENT_WRITE_INSTALLED (1u << 10)  /* EV_WRITABLE is registered */
#define CLIENT_WAL_PAUSED (1u << 11)       /* on server.paused: waits for WAL room */
#define CLIENT_MULTI (1u << 12)            /* between MULTI and EXEC/DISCARD */
#define CLIENT_DIRTY_EXEC (1u << 13)       /* a command was refused while queueing */
#define CLIENT_DIRTY_CAS (1u << 14)        /* a watched key was modified */
#define CLIENT_BLOCKED (1u << 15)          /* waiting on keys (server/block.c) */
#define CLIENT_UNBLOCKED (1u << 16)        /* on server.unblocked: resume its input */

struct cmd_def;
struct multi_cmd;
struct watch_ref;
struct block_state;

/* Replies from obuf offset `start` on may not leave before lsn is durable
 * (DESIGN.md D1, D2). Holds are kept in a small ring, oldest first. */
struct client_hold {
    size_t start; /* offset in obuf of the first held byte */
    uint64_t lsn; /* WAL record that must be durable first */
};
#define CLIENT_HOLDS_MAX 64

struct client_arg {
    const char *p; /* borrowed: into the query buffer or parser; valid during the command */
    size_t len;    /* bytes */
};

struct client {
    /* For handlers. */
    int argc;                 /* arguments of the current command, argv[0] = name */
    struct client_arg *argv;  /* owned array; see struct client_arg */
    struct db *db;            /* selected database (borrowed from the server) */
    int db_index;             /* its index */
    int resp;                 /* protocol: 2 or 3 */
    uint64_t id;              /* CLIENT ID, unique, increasing */
    unsigned flags;           /* CLIENT_* */
    bool authenticated;       /* passed AUTH (or no password is set) */
    const struct cmd_def *cmd;      /* command being executed */
    const struct cmd_def *last_cmd; /* for CLIENT LIST cmd= */
    /* Connection. */
    int fd;                   /* socket */
    char addr[64];            /* peer "ip:port" */
    char laddr[64];           /* local "ip:port" */
    char *name;               /* CLIENT SETNAME, owned, NULL if none */
    char *lib_name;           /* CLIENT SETINFO LIB-NAME, owned or NULL */
    char *lib_ver;            /* CLIENT SETINFO LIB-VER, owned or NULL */
    int64_t ctime_ms;         /* connected at (wall) */
    int64_t last_io_ms;       /* last read or command (wall), for timeout and idle= */
    /* Input. */
    struct buf qbuf;          /* received bytes */
    size_t qpos;              /* start of the unparsed request in qbuf */
    struct resp_parser parser;/* state of the request at qpos */
    int argv_cap;             /* allocated entries of argv */
    /* Output. */
    struct buf obuf;          /* encoded replies not yet written */
    size_t opos;              /* bytes of obuf already written */
    uint64_t net_in_bytes;    /* total read */
    uint64_t net_out_bytes;   /* total written */
    uint64_t commands;        /* commands executed */
    /* Lists. */
    struct client *prev, *next;            /* server.clients, all clients */
    struct client *pw_next;                /* server.pending_writes, a stack */
    struct client *close_next;             /* server.closing, a stack */
    struct client *paused_next;            /* server.paused, a stack */
    /* Durability (server/durable.c). */
    struct client_hold *holds;             /* owned ring of CLIENT_HOLDS_MAX, or NULL */
    int holds_head;                        /* index of the oldest hold */
    int holds_count;                       /* holds in the ring */
    struct client *held_prev, *held_next;  /* list of clients with holds */
    bool on_held_list;                     /* linked in that list */
    /* Transactions (server/multi.c). */
    struct multi_cmd *mqueue;              /* owned: commands queued since MULTI */
    int mqueue_count, mqueue_cap;          /* used and allocated entries */
    size_t mqueue_bytes;                   /* argument bytes queued */
    struct watch_ref *watched;             /* owned: WATCHed keys */
    int watched_count, watched_cap;        /* used and allocated entries */
    uint64_t error_replies;                /* errors replied so far (EXEC: did a command fail) */
    /* Blocking (server/block.c). */
    struct block_state *blk;               /* owned while CLIENT_BLOCKED, else NULL */
    struct client *unblocked_next;         /* server.unblocked, a stack */
};

/* Create a client for an accepted socket. Caller (the server) owns it. */
struct client *client_new(int fd, const char *addr, bool unix_socket);
/* Close the socket and free everything. The client must be unlinked. */
void client_delete(struct client *c);
/* Bytes of reply not yet written. */
static inline size_t client_pending_bytes(const struct client *c)
{
    return c->obuf.len - c->opos;
}
/* Case-insensitive compare of argv[i] with an ASCII word. */
bool client_arg_is(const struct client *c, int i, const char *word);
/* Fill one line of CLIENT LIST / CLIENT INFO for c into b (with "\n"). */
void client_describe(const struct client *c, struct buf *b, int64_t now_ms);
