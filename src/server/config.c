/*
 * config.c - option table, parsing, CONFIG GET/SET/REWRITE.
 *
 * Design
 *   One row per option. A row knows its type (integer with bounds, memory
 *   size with units, yes/no, string, log level, octal mode), where the value
 *   lives in struct config, and whether it may change at run time. Parsing,
 *   CONFIG GET formatting and REWRITE all read the same row, so an option
 *   cannot be known to one and missing from another.
 *
 * Invariants
 *   (1) A failed config_set() leaves cfg unchanged.
 *
 * Threads
 *   Start-up and the loop thread.
 */
#include "server/config.h"

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum opt_type { OPT_INT, OPT_LONG, OPT_MEMORY, OPT_STRING, OPT_LOGLEVEL, OPT_OCTAL, OPT_BOOL, OPT_FSYNC };

struct opt {
    const char *name;  /* lowercase option name */
    enum opt_type type;
    size_t offset;     /* of the field in struct config */
    long long min;     /* numeric bounds, inclusive */
    long long max;
    bool immutable;    /* only at start-up */
};

#define OFF(field) offsetof(struct config, field)

static const struct opt opts[] = {
    {"port", OPT_INT, OFF(port), 0, 65535, true},
    {"bind", OPT_STRING, OFF(bind), 0, 0, true},
    {"unixsocket", OPT_STRING, OFF(unixsocket), 0, 0, true},
    {"unixsocketperm", OPT_OCTAL, OFF(unixsocketperm), 0, 0777, true},
    {"dir", OPT_STRING, OFF(dir), 0, 0, true},
    {"maxclients", OPT_INT, OFF(maxclients), 1, CLIENTS_MAX, false},
    {"timeout", OPT_INT, OFF(timeout_s), 0, INT_MAX, false},
    {"tcp-keepalive", OPT_INT, OFF(tcp_keepalive_s), 0, INT_MAX, false},
    {"loglevel", OPT_LOGLEVEL, OFF(loglevel), 0, 0, false},
    {"logfile", OPT_STRING, OFF(logfile), 0, 0, true},
    {"databases", OPT_INT, OFF(databases), 1, DATABASES_MAX, true},
    {"requirepass", OPT_STRING, OFF(requirepass), 0, 0, false},
    {"proto-max-bulk-len", OPT_MEMORY, OFF(proto_max_bulk_len), 1024 * 1024,
     QUERY_BYTES_CONFIG_MAX, false},
    {"client-query-buffer-limit", OPT_MEMORY, OFF(client_query_buffer_limit), 1024 * 1024,
     QUERY_BYTES_CONFIG_MAX, false},
    {"hz", OPT_INT, OFF(hz), 0, INT_MAX, false},
    {"busy-poll-us", OPT_INT, OFF(busy_poll_us), 0, BUSY_POLL_US_MAX, false},
    {"appendonly", OPT_BOOL, OFF(appendonly), 0, 1, true},
    {"appendfsync", OPT_FSYNC, OFF(appendfsync), 0, 2, false},
    {"save", OPT_STRING, OFF(save), 0, 0, false},
    {"wal-snapshot-bytes", OPT_MEMORY, OFF(wal_snapshot_bytes), 1024 * 1024, LLONG_MAX, false},
    {"wal-snapshot-percentage", OPT_INT, OFF(wal_snapshot_percentage), 0, WAL_SNAPSHOT_PERCENTAGE_MAX,
     false},
    {"hash-max-listpack-entries", OPT_LONG, OFF(hash_max_listpack_entries), 0, LLONG_MAX, false},
    {"hash-max-listpack-value", OPT_MEMORY, OFF(hash_max_listpack_value), 0, LLONG_MAX, false},
    {"set-max-intset-entries", OPT_LONG, OFF(set_max_intset_entries), 0, LLONG_MAX, false},
    {"zset-max-listpack-entries", OPT_LONG, OFF(zset_max_listpack_entries), 0, LLONG_MAX, false},
    {"zset-max-listpack-value", OPT_MEMORY, OFF(zset_max_listpack_value), 0, LLONG_MAX, false},
    /* Accepted so Redis configs load; engram's lists have one encoding, so
     * it changes nothing (README "Differences from Redis"). */
    {"list-max-listpack-size", OPT_INT, OFF(list_max_listpack_size), INT_MIN, INT_MAX, false},
    /* Redis 7 keeps the old names as aliases. */
    {"hash-max-ziplist-entries", OPT_LONG, OFF(hash_max_listpack_entries), 0, LLONG_MAX, false},
    {"hash-max-ziplist-value", OPT_MEMORY, OFF(hash_max_listpack_value), 0, LLONG_MAX, false},
    {"list-max-ziplist-size", OPT_INT, OFF(list_max_listpack_size), INT_MIN, INT_MAX, false},
    {"zset-max-ziplist-entries", OPT_LONG, OFF(zset_max_listpack_entries), 0, LLONG_MAX, false},
    {"zset-max-ziplist-value", OPT_MEMORY, OFF(zset_max_listpack_value), 0, LLONG_MAX, false},
};

static const char *const fsync_names[] = {"always", "everysec", "no"};
#define OPTS_COUNT ((int)(sizeof(opts) / sizeof(opts[0])))

static void *field(struct config *cfg, const struct opt *o)
{
    return (char *)cfg + o->offset;
}

static const void *cfield(const struct config *cfg, const struct opt *o)
{
    return (const char *)cfg + o->offset;
}

/* busy-poll-us's default: polling pays only when the clients have another
 * CPU to run on; with a CPU set of one (taskset, a cpuset container) it
 * took CPU from them (SET -c 50 -P 1 and -P 16: 8-10% slower with 50 us).
 * A CPU quota (docker --cpus) keeps the full set and is not seen. Read at
 * the first call (start-up), so that CONFIG REWRITE compares with the
 * default the server started with. */
static int busy_poll_default(void)
{
    static int cached = -1;
    cpu_set_t set;
    if (cached < 0)
        cached = sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2
                     ? 0
                     : BUSY_POLL_US_DEFAULT;
    return cached;
}

void config_create(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 6379;
    cfg->bind = mem_strndup("127.0.0.1", 9);
    cfg->unixsocket = mem_strndup("", 0);
    cfg->dir = mem_strndup("./data", 6);
    cfg->maxclients = CLIENTS_DEFAULT;
    cfg->tcp_keepalive_s = 300;
    cfg->loglevel = LOG_NOTICE;
    cfg->logfile = mem_strndup("", 0);
    cfg->databases = DATABASES_DEFAULT;
    cfg->requirepass = mem_strndup("", 0);
    cfg->proto_max_bulk_len = (long long)BULK_BYTES_DEFAULT;
    cfg->client_query_buffer_limit = (long long)QUERY_BYTES_DEFAULT;
    cfg->hz = HZ_DEFAULT;
    cfg->busy_poll_us = busy_poll_default();
    cfg->appendonly = 1;
    cfg->save = mem_strndup("3600 1 300 100 60 10000", 23);
    cfg->wal_snapshot_bytes = 64ll * 1024 * 1024;
    cfg->wal_snapshot_percentage = 100;
    cfg->hash_max_listpack_entries = HASH_PACKED_ENTRIES_DEFAULT;
    cfg->hash_max_listpack_value = HASH_PACKED_VALUE_DEFAULT;
    cfg->set_max_intset_entries = SET_INTSET_ENTRIES_DEFAULT;
    cfg->zset_max_listpack_entries = ZSET_PACKED_ENTRIES_DEFAULT;
    cfg->zset_max_listpack_value = ZSET_PACKED_VALUE_DEFAULT;
    cfg->list_max_listpack_size = -2; /* Redis's default: 8 kB nodes */
    cfg->appendfsync = 0;
}

void config_destroy(struct config *cfg)
{
    for (int i = 0; i < OPTS_COUNT; i++) {
        if (opts[i].type == OPT_STRING)
            mem_free(*(char **)field(cfg, &opts[i]));
    }
    memset(cfg, 0, sizeof(*cfg));
}

static const struct opt *find_opt(const char *name)
{
    for (int i = 0; i < OPTS_COUNT; i++) {
        if (strcasecmp(opts[i].name, name) == 0)
            return &opts[i];
    }
    return NULL;
}

static int set_err(char *err, size_t cap, const char *msg)
{
    snprintf(err, cap, "%s", msg);
    return -1;
}

static int parse_number(const struct opt *o, const char *v, long long *out, char *err,
                        size_t cap)
{
    long long n;
    char *end;
    if (o->type == OPT_MEMORY) {
        if (util_parse_memory(v, strlen(v), &n) != 0)
            return set_err(err, cap, "argument must be a memory value");
    } else if (o->type == OPT_OCTAL) {
        errno = 0;
        n = strtoll(v, &end, 8);
        if (!*v || *end || errno)
            return set_err(err, cap, "argument must be an octal number");
    } else if (!util_str_to_ll(v, strlen(v), &n)) {
        return set_err(err, cap, "argument couldn't be parsed into an integer");
    }
    if (n < o->min || n > o->max) {
        snprintf(err, cap, "argument must be between %lld and %lld inclusive", o->min, o->max);
        return -1;
    }
    *out = n;
    return 0;
}

int config_set(struct config *cfg, const char *name, int argc, char **argv, bool at_startup,
               char *err, size_t err_cap)
{
    const struct opt *o = find_opt(name);
    long long n;
    enum log_level level;

    if (!o || argc < 1 || (argc > 1 && strcasecmp(o->name, "bind") != 0))
        return set_err(err, err_cap, "Bad directive or wrong number of arguments"), -2;
    if (o->immutable && !at_startup)
        return set_err(err, err_cap, "can't set immutable config");
    switch (o->type) {
    case OPT_INT:
    case OPT_LONG:
    case OPT_MEMORY:
    case OPT_OCTAL:
        if (parse_number(o, argv[0], &n, err, err_cap) != 0)
            return -1;
        if (o->type == OPT_MEMORY || o->type == OPT_LONG)
            *(long long *)field(cfg, o) = n;
        else
            *(int *)field(cfg, o) = (int)n;
        return 0;
    case OPT_BOOL:
        if (strcasecmp(argv[0], "yes") != 0 && strcasecmp(argv[0], "no") != 0)
            return set_err(err, err_cap, "argument must be 'yes' or 'no'");
        *(int *)field(cfg, o) = strcasecmp(argv[0], "yes") == 0;
        return 0;
    case OPT_FSYNC:
        for (int i = 0; i < 3; i++) {
            if (strcasecmp(argv[0], fsync_names[i]) == 0) {
                *(int *)field(cfg, o) = i;
                return 0;
            }
        }
        return set_err(err, err_cap,
                       "argument(s) must be one of the following: always, everysec, no");
    case OPT_LOGLEVEL:
        if (!log_parse_level(argv[0], &level))
            return set_err(err, err_cap, "argument(s) must be one of the following: debug, "
                                         "verbose, notice, warning");
        *(int *)field(cfg, o) = (int)level;
        return 0;
    case OPT_STRING: {
        struct buf joined;
        char **slot = field(cfg, o);
        buf_create(&joined);
        for (int i = 0; i < argc; i++) {
            if (i)
                buf_append(&joined, " ", 1);
            buf_append_str(&joined, argv[i]);
        }
        mem_free(*slot);
        *slot = mem_strndup(joined.data ? joined.data : "", joined.len);
        buf_destroy(&joined);
        return 0;
    }
    }
    return -1;
}

/* The value of o as CONFIG GET shows it. Numbers are formatted into out
 * (at least 64 bytes); strings are returned as stored, whatever their
 * length. The result is valid while cfg and out are. */
static const char *format_value(const struct config *cfg, const struct opt *o, char *out,
                                size_t cap)
{
    switch (o->type) {
    case OPT_INT:
        snprintf(out, cap, "%d", *(const int *)cfield(cfg, o));
        break;
    case OPT_LONG:
    case OPT_MEMORY:
        snprintf(out, cap, "%lld", *(const long long *)cfield(cfg, o));
        break;
    case OPT_OCTAL:
        snprintf(out, cap, "%o", *(const int *)cfield(cfg, o));
        break;
    case OPT_LOGLEVEL:
        snprintf(out, cap, "%s", log_level_name((enum log_level) * (const int *)cfield(cfg, o)));
        break;
    case OPT_BOOL:
        snprintf(out, cap, "%s", *(const int *)cfield(cfg, o) ? "yes" : "no");
        break;
    case OPT_FSYNC:
        snprintf(out, cap, "%s", fsync_names[*(const int *)cfield(cfg, o)]);
        break;
    case OPT_STRING:
        return *(char *const *)cfield(cfg, o);
    }
    return out;
}

/* Parse one line (already without newline). Returns 0, -1 with err. */
static int load_line(struct config *cfg, const char *line, size_t len, char *err, size_t cap,
                     int depth);

static int load_file_depth(struct config *cfg, const char *path, char *err, size_t err_cap,
                           int depth)
{
    FILE *f;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    char reason[512];

    if (depth > 8)
        return snprintf(err, err_cap, "%s: include nesting too deep", path), -1;
    f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_cap, "%s: can't open the config file: %s", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > (ssize_t)CONFIG_LINE_BYTES_MAX) {
            snprintf(err, err_cap, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        if (load_line(cfg, line, (size_t)n, reason, sizeof(reason), depth) != 0) {
            snprintf(err, err_cap, "%s:%d: %s\n>>> '%.200s'", path, lineno, reason, line);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static int load_line(struct config *cfg, const char *line, size_t len, char *err, size_t cap,
                     int depth)
{
    char **argv;
    size_t *lens;
    int argc, rc = 0;
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return 0;
    if (util_split_args(line, len, &argv, &lens, &argc) != 0)
        return set_err(err, cap, "Unbalanced quotes in configuration line");
    if (argc == 0)
        goto out;
    for (int k = 0; k < argc; k++) {
        if (strlen(argv[k]) != lens[k]) {
            rc = set_err(err, cap, "NUL byte in configuration argument");
            goto out;
        }
    }
    if (strcasecmp(argv[0], "include") == 0 && argc == 2) {
        rc = load_file_depth(cfg, argv[1], err, cap, depth + 1);
        goto out;
    }
    rc = config_set(cfg, argv[0], argc - 1, argv + 1, true, err, cap);
    if (rc == -2)
        rc = -1;
out:
    util_free_args(argv, lens, argc);
    return rc;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t err_cap)
{
    return load_file_depth(cfg, path, err, err_cap, 0);
}

int config_load_args(struct config *cfg, int argc, char **argv, char *err, size_t err_cap)
{
    int i = 0;
    while (i < argc) {
        const char *name;
        int first, rc;
        char reason[256];
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
            snprintf(err, err_cap, "command line: unexpected argument '%s' (options are "
                     "--name value)", argv[i]);
            return -1;
        }
        name = argv[i] + 2;
        first = ++i;
        while (i < argc && strncmp(argv[i], "--", 2) != 0)
            i++;
        rc = config_set(cfg, name, i - first, argv + first, true, reason, sizeof(reason));
        if (rc != 0) {
            snprintf(err, err_cap, "command line: '--%s%s%s': %s", name, i > first ? " " : "",
                     i > first ? argv[first] : "", reason);
            return -1;
        }
    }
    return 0;
}

int config_count(void)
{
    return OPTS_COUNT;
}

void config_get(const struct config *cfg, const char *pattern, size_t pattern_len, bool *seen,
                config_visit_fn *fn, void *ctx)
{
    char tmp[64];
    for (int i = 0; i < OPTS_COUNT; i++) {
        if (seen[i])
            continue;
        if (!util_glob_match(pattern, pattern_len, opts[i].name, strlen(opts[i].name), true))
            continue;
        seen[i] = true;
        fn(opts[i].name, format_value(cfg, &opts[i], tmp, sizeof(tmp)), ctx);
    }
}

/* Quote a value for a config file line if it needs it. */
static void append_quoted(struct buf *b, const char *v)
{
    bool plain = *v != '\0';
    for (const char *p = v; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '\'' || *p == '\\' || (unsigned char)*p >= 127)
            plain = false;
    }
    if (plain) {
        buf_append_str(b, v);
        return;
    }
    buf_append(b, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_appendf(b, "\\%c", *p);
        else if ((unsigned char)*p < ' ' || (unsigned char)*p >= 127)
            buf_appendf(b, "\\x%02x", (unsigned char)*p);
        else
            buf_append(b, p, 1);
    }
    buf_append(b, "\"", 1);
}

static void append_option(struct buf *b, const struct config *cfg, const struct opt *o)
{
    char tmp[64];
    const char *value = format_value(cfg, o, tmp, sizeof(tmp));
    if (o->type == OPT_MEMORY) {
        /* As Redis writes sizes: the largest unit that divides exactly. */
        static const char *const units[] = {"gb", "mb", "kb"};
        long long v = *(const long long *)cfield(cfg, o);
        for (int u = 0; u < 3 && v > 0; u++) {
            long long unit = 1ll << (10 * (3 - u));
            if (v % unit == 0) {
                snprintf(tmp, sizeof(tmp), "%lld%s", v / unit, units[u]);
                break;
            }
        }
    }
    buf_appendf(b, "%s ", o->name);
    if (o->type == OPT_STRING && strcmp(o->name, "bind") == 0 && *value)
        buf_append_str(b, value);
    else
        append_quoted(b, value);
    buf_append(b, "\n", 1);
}

/* The option a config line sets, or NULL (comment, blank, unknown). */
static const struct opt *line_opt(const char *line, size_t len)
{
    char name[64];
    size_t i = 0, n = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    while (i < len && line[i] != ' ' && line[i] != '\t' && n < sizeof(name) - 1)
        name[n++] = line[i++];
    name[n] = '\0';
    return n && name[0] != '#' ? find_opt(name) : NULL;
}

static int write_durable(const char *path, const struct buf *b)
{
    char tmp[PATH_MAX];
    int fd, rc = 0;
    snprintf(tmp, sizeof(tmp), "%s.rewrite.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, b->data, b->len) != (ssize_t)b->len || fsync(fd) != 0)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int config_rewrite(const struct config *cfg, const char *path)
{
    struct buf out;
    bool written[OPTS_COUNT] = {false};
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc;
    struct config defaults;

    buf_create(&out);
    while (f && (n = getline(&line, &cap, f)) >= 0) {
        const struct opt *o = line_opt(line, (size_t)n);
        if (!o) {
            buf_append(&out, line, (size_t)n);
            if (n > 0 && line[n - 1] != '\n')
                buf_append(&out, "\n", 1);
            continue;
        }
        if (!written[o - opts])
            append_option(&out, cfg, o);
        written[o - opts] = true;
    }
    free(line);
    if (f)
        fclose(f);
    config_create(&defaults);
    for (int i = 0; i < OPTS_COUNT; i++) {
        char a[64], d[64];
        if (written[i])
            continue;
        if (strcmp(format_value(cfg, &opts[i], a, sizeof(a)),
                   format_value(&defaults, &opts[i], d, sizeof(d))) != 0)
            append_option(&out, cfg, &opts[i]);
    }
    config_destroy(&defaults);
    rc = write_durable(path, &out);
    buf_destroy(&out);
    return rc;
}
