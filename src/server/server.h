#pragma once
/*
 * server.h - the server singleton: configuration, databases, clients,
 * listeners, statistics and the lifecycle (init, run, shutdown).
 *
 * Only server/ and main.c include this file (plus cmd/ handlers of server
 * commands: INFO, CONFIG, CLIENT, SHUTDOWN, ...).
 * Threads: loop thread.
 */
#include "db/db.h"
#include "net/ev.h"
#include "server/client.h"
#include "server/config.h"

#include <stdbool.h>
#include <stdint.h>

struct server_stats {
    uint64_t connections_received; /* total_connections_received */
    uint64_t commands_processed;   /* total_commands_processed */
    uint64_t rejected_connections; /* maxclients reached */
    uint64_t net_input_bytes;      /* total_net_input_bytes */
    uint64_t net_output_bytes;     /* total_net_output_bytes */
    uint64_t error_replies;        /* total_error_replies */
    uint64_t unexpected_error_replies; /* unexpected_error_replies (always 0 here) */
    /* instantaneous_ops_per_sec: samples taken by the cron. */
    uint64_t ops_samples[16];      /* ops/sec of the last 16 samples */
    int ops_sample_idx;            /* next slot */
    uint64_t ops_last_count;       /* commands_processed at the last sample */
    int64_t ops_last_us;           /* time of the last sample */
};

struct server {
    struct config cfg;              /* options in force */
    char *config_file;              /* absolute path, owned, NULL if none */
    struct ev ev;                   /* the event loop */
    struct db *dbs;                 /* cfg.databases databases, owned */
    struct client *clients;         /* all clients, newest first */
    uint32_t clients_count;         /* connected clients */
    uint32_t monitors_count;        /* clients in MONITOR mode */
    struct client *pending_writes;  /* clients with replies to write */
    struct client *closing;         /* clients to free before the loop sleeps */
    struct client *paused;          /* clients waiting for room in the WAL batch */
    struct client *unblocked;       /* clients whose blocking command ended: resume input */
    int tcp_fds[CONFIG_BIND_MAX];   /* TCP listeners, one per bind address */
    int tcp_fds_count;              /* used entries of tcp_fds */
    int unix_fd;                    /* Unix socket listener or -1 */
    uint64_t next_client_id;        /* CLIENT ID of the next client */
    int64_t start_ms;               /* wall time at start */
    int64_t start_mono_us;          /* monotonic time at start */
    char run_id[41];                /* 40 hex chars */
    uint64_t dirty;                 /* writes since the last save */
    int64_t last_save_s;            /* unix time of the last save */
    bool shutdown_asap;             /* leave the loop at the next turn */
    int exit_code;                  /* process exit code after shutdown */
    uint64_t cron_loops;            /* cron ticks since start */
    struct server_stats stats;      /* INFO stats */
};

extern struct server server;

/* Load config (already parsed into server.cfg), open listeners, etc.
 * 0 or a negative code; the reason has been logged. */
int server_init(void);
/* Run the loop until shutdown. */
void server_run(void);
/* Close listeners and clients, free everything. */
void server_free(void);

/* Queue c for output before the loop sleeps. */
void server_queue_write(struct client *c);
/* Close c once everything it was sent has been written (QUIT, CLIENT KILL
 * of itself, SHUTDOWN, protocol errors), even when replies are off. */
void server_close_after_reply(struct client *c);
/* Schedule c to be closed (after its pending reply if gentle). */
void server_close_client(struct client *c, bool after_reply);
/* The client with this id, or NULL. */
struct client *server_find_client(uint64_t id);
/* Send a MONITOR line about c's current command to every monitor. */
void server_feed_monitors(struct client *c);
/* c's blocking command has ended: process its pending input before the
 * loop sleeps. */
void server_client_unblocked(struct client *c);
/* Ask the loop to stop; exit code 0. */
void server_request_shutdown(void);
/* Apply the event loop's options of server.cfg: hz, busy-poll-us. */
void server_apply_loop(void);
/* Error injection (debug builds; false otherwise): start-up then runs
 * without the signal eventfd, as when eventfd() fails. */
bool server_errinj_no_signal_fd(void);
/* Apply the packed-encoding thresholds of server.cfg (hash.h). */
void server_apply_encodings(void);
/* One non-blocking turn of the event loop while the data loads. */
void server_process_events_while_loading(void);
/* Seconds since start. */
int64_t server_uptime_s(void);
