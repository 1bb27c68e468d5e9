#pragma once
/*
 * config.h - server options: defaults, redis.conf-syntax files, command
 * line `--name value`, CONFIG GET/SET/REWRITE.
 *
 * Every option is a row of one table in config.c (name, type, bounds,
 * whether CONFIG SET may change it at run time). A bad value or unknown
 * name is an error with a reason; at start-up the caller prints it with the
 * file and line and refuses to start.
 * Threads: loop thread (or start-up).
 */
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_BIND_MAX 16

struct config {
    int port;                        /* TCP port; 0 = no TCP listener */
    char *bind;                      /* owned; space-separated addresses */
    char *unixsocket;                /* owned; path or "" */
    int unixsocketperm;              /* permission bits of the socket file, 0 = umask */
    char *dir;                       /* owned; data directory */
    int maxclients;                  /* connected clients at most */
    int timeout_s;                   /* idle seconds before closing a client, 0 = never */
    int tcp_keepalive_s;             /* SO_KEEPALIVE period, 0 = off */
    int loglevel;                    /* enum log_level */
    char *logfile;                   /* owned; "" = stdout */
    int databases;                   /* number of databases */
    char *requirepass;               /* owned; "" = no password */
    long long proto_max_bulk_len;    /* largest bulk string accepted, bytes */
    long long client_query_buffer_limit; /* largest query buffer, bytes */
    int hz;                          /* cron frequency */
    int busy_poll_us;                /* ev.c busy polling, 0 = off */
    int appendonly;                  /* 1: write the WAL; 0: memory only */
    int appendfsync;                 /* enum wal_fsync: always, everysec, no */
    char *save;                      /* owned; save rules "<secs> <changes> ...", "" = none */
    long long hash_max_listpack_entries; /* a packed hash holds at most this many fields */
    long long hash_max_listpack_value; /* ... and fields and values of at most this size */
    long long set_max_intset_entries; /* an intset holds at most this many members */
    long long zset_max_listpack_entries; /* a packed sorted set holds at most this many */
    long long zset_max_listpack_value;   /* ... members of at most this size */
    int list_max_listpack_size;      /* accepted for Redis configs; lists have one encoding */
    long long wal_snapshot_bytes;    /* snapshot when the WAL grew this much since the last */
    int wal_snapshot_percentage;     /* ... and this % of the last snapshot's size (0: off) */
};

/* Fill cfg with the defaults. Strings are heap copies. */
void config_create(struct config *cfg);
void config_destroy(struct config *cfg);

/*
 * Set one option from its arguments (as split from a config line).
 * at_startup allows immutable options. Returns 0, or -1 with a reason in
 * err (e.g. "argument must be an integer"); -2 if the name is unknown or
 * the number of arguments is wrong.
 */
int config_set(struct config *cfg, const char *name, int argc, char **argv, bool at_startup,
               char *err, size_t err_cap);

/*
 * Parse a config file. On error returns -1 with "path:line: reason ..." in
 * err. Lines are redis.conf syntax: comments, quoted arguments, `include`.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t err_cap);

/*
 * Apply command-line arguments after the config file: argv[i] = "--name",
 * followed by its values. Returns 0 or -1 with a reason in err.
 */
int config_load_args(struct config *cfg, int argc, char **argv, char *err, size_t err_cap);

/* Call fn for every option whose name matches the glob pattern (each
 * option once even if several patterns match: the caller passes a seen[]
 * array of config_count() bools). */
typedef void config_visit_fn(const char *name, const char *value, void *ctx);
int config_count(void);
void config_get(const struct config *cfg, const char *pattern, size_t pattern_len, bool *seen,
                config_visit_fn *fn, void *ctx);

/* Rewrite the config file at path with the current values. 0 or -errno. */
int config_rewrite(const struct config *cfg, const char *path);
