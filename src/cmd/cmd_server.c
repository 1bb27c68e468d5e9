/*
 * cmd_server.c - server commands: INFO CONFIG COMMAND TIME SHUTDOWN MONITOR
 * LASTSAVE DEBUG.
 *
 * Design
 *   INFO is table-driven: one function per section, each writing
 *   "field:value" lines from real counters (no invented fields). Field
 *   names are Redis's, since client libraries parse them (BullMQ reads
 *   redis_version and maxmemory_policy). redis_version reports the Redis
 *   version whose behaviour engram implements; engram_version the real one.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/version.h"
#include "db/effect.h"
#include "db/undo.h"
#include "proto/resp_write.h"
#include "server/block.h"
#include "server/durable.h"
#include "server/reply.h"
#include "server/server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>


/* ---- INFO ------------------------------------------------------------- */

static void human_bytes(char *out, size_t cap, double n)
{
    static const char units[] = "BKMGTP";
    int u = 0;
    while (n >= 1024 && u < 5) {
        n /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%.0fB", n);
    else
        snprintf(out, cap, "%.2f%c", n, units[u]);
}

static size_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void info_server(struct buf *b)
{
    struct utsname u;
    char exe[1024] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int64_t up = server_uptime_s();
    if (n > 0)
        exe[n] = '\0';
    uname(&u);
    buf_appendf(b,
                "# Server\r\nredis_version:%s\r\nengram_version:%s\r\nredis_git_sha1:00000000\r\n"
                "redis_git_dirty:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
                "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\n"
                "gcc_version:%d.%d.%d\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\n"
                "server_time_usec:%lld\r\nuptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n"
                "hz:%d\r\nconfigured_hz:%d\r\nlru_clock:%u\r\nexecutable:%s\r\n"
                "config_file:%s\r\n",
                COMPAT_REDIS_VERSION, ENGRAM_VERSION, u.sysname, u.release, u.machine,
                (int)(sizeof(void *) * 8), __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
                (int)getpid(), server.run_id, server.cfg.port, (long long)clock_wall_us(),
                (long long)up, (long long)(up / 86400), server.cfg.hz, server.cfg.hz,
                db_lru_clock(), exe, server.config_file ? server.config_file : "");
}

static void info_clients(struct buf *b)
{
    size_t max_in = 0, max_out = 0;
    for (struct client *o = server.clients; o; o = o->next) {
        if (o->qbuf.cap > max_in)
            max_in = o->qbuf.cap;
        if (o->obuf.cap > max_out)
            max_out = o->obuf.cap;
    }
    buf_appendf(b,
                "# Clients\r\nconnected_clients:%u\r\nmaxclients:%d\r\n"
                "client_recent_max_input_buffer:%zu\r\nclient_recent_max_output_buffer:%zu\r\n"
                "blocked_clients:%zu\r\ntracking_clients:0\r\n",
                server.clients_count, server.cfg.maxclients, max_in, max_out, block_count());
}

static void info_memory(struct buf *b)
{
    static size_t peak;
    size_t used = mem_used_bytes(), rss = rss_bytes();
    char h_used[32], h_rss[32], h_peak[32], h_total[32];
    long long total = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    if (used > peak)
        peak = used;
    human_bytes(h_used, sizeof(h_used), (double)used);
    human_bytes(h_rss, sizeof(h_rss), (double)rss);
    human_bytes(h_peak, sizeof(h_peak), (double)peak);
    human_bytes(h_total, sizeof(h_total), (double)total);
    buf_appendf(b,
                "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
                "used_memory_rss_human:%s\r\nused_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
                "total_system_memory:%lld\r\ntotal_system_memory_human:%s\r\nmaxmemory:0\r\n"
                "maxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n"
                "mem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n",
                used, h_used, rss, h_rss, peak, h_peak, total, h_total,
                used ? (double)rss / (double)used : 0.0);
}

static void info_persistence(struct buf *b)
{
    durable_info(b);
}

static void info_stats(struct buf *b)
{
    uint64_t ops = 0;
    for (int i = 0; i < 16; i++)
        ops += server.stats.ops_samples[i];
    buf_appendf(b,
                "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
                "instantaneous_ops_per_sec:%llu\r\ntotal_net_input_bytes:%llu\r\n"
                "total_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
                "expired_keys:%llu\r\nevicted_keys:0\r\nkeyspace_hits:%llu\r\n"
                "keyspace_misses:%llu\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
                "total_error_replies:%llu\r\n",
                (unsigned long long)server.stats.connections_received,
                (unsigned long long)server.stats.commands_processed,
                (unsigned long long)(ops / 16),
                (unsigned long long)server.stats.net_input_bytes,
                (unsigned long long)server.stats.net_output_bytes,
                (unsigned long long)server.stats.rejected_connections,
                (unsigned long long)db_stats.expired_keys,
                (unsigned long long)db_stats.keyspace_hits,
                (unsigned long long)db_stats.keyspace_misses,
                (unsigned long long)server.stats.error_replies);
}

static void info_replication(struct buf *b)
{
    buf_appendf(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
}

static void info_cpu(struct buf *b)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    buf_appendf(b,
                "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
                "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n",
                (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
                (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
                (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
                (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec);
}

static void info_cluster(struct buf *b)
{
    buf_appendf(b, "# Cluster\r\ncluster_enabled:0\r\n");
}

static void info_keyspace(struct buf *b)
{
    buf_appendf(b, "# Keyspace\r\n");
    for (int i = 0; i < server.cfg.databases; i++) {
        struct db *d = &server.dbs[i];
        if (db_size(d) == 0)
            continue;
        buf_appendf(b, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, db_size(d),
                    db_expires_count(d), (long long)d->avg_ttl_ms);
    }
}

static void info_commandstats(struct buf *b)
{
    buf_appendf(b, "# Commandstats\r\n");
    for (int i = 0; i < cmd_count(); i++) {
        const struct cmd_def *d = cmd_at(i);
        const struct cmd_def *const *subs = d->subs;
        const struct cmd_def *one[2] = {d, NULL};
        for (const struct cmd_def *const *s = subs ? subs : one; *s; s++) {
            if ((*s)->calls == 0)
                continue;
            buf_appendf(b,
                        "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
                        "rejected_calls=0,failed_calls=%llu\r\n",
                        (*s)->fullname, (unsigned long long)(*s)->calls,
                        (unsigned long long)(*s)->usec,
                        (double)(*s)->usec / (double)(*s)->calls,
                        (unsigned long long)(*s)->failed_calls);
        }
    }
}

struct info_section {
    const char *name;          /* lowercase section name */
    void (*fn)(struct buf *b); /* writes the section */
    bool in_default;           /* part of INFO / INFO default */
};

static const struct info_section sections[] = {
    {"server", info_server, true},           {"clients", info_clients, true},
    {"memory", info_memory, true},           {"persistence", info_persistence, true},
    {"stats", info_stats, true},             {"replication", info_replication, true},
    {"cpu", info_cpu, true},                 {"commandstats", info_commandstats, false},
    {"cluster", info_cluster, true},         {"keyspace", info_keyspace, true},
};
#define SECTIONS_COUNT ((int)(sizeof(sections) / sizeof(sections[0])))

void cmd_info(struct client *c)
{
    bool want[SECTIONS_COUNT] = {false};
    struct buf b;
    bool first = true;

    for (int i = 0; i < SECTIONS_COUNT; i++)
        want[i] = c->argc == 1 && sections[i].in_default;
    for (int a = 1; a < c->argc; a++) {
        bool all = client_arg_is(c, a, "all") || client_arg_is(c, a, "everything");
        for (int i = 0; i < SECTIONS_COUNT; i++) {
            if (all || (client_arg_is(c, a, "default") && sections[i].in_default) ||
                client_arg_is(c, a, sections[i].name))
                want[i] = true;
        }
    }
    buf_create(&b);
    for (int i = 0; i < SECTIONS_COUNT; i++) {
        if (!want[i])
            continue;
        if (!first)
            buf_append(&b, "\r\n", 2);
        sections[i].fn(&b);
        first = false;
    }
    reply_verbatim(c, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

/* ---- CONFIG ----------------------------------------------------------- */

struct config_get_ctx {
    struct buf pairs; /* encoded name/value bulk strings */
    int count;        /* pairs */
};

static void config_get_visit(const char *name, const char *value, void *ctx)
{
    struct config_get_ctx *g = ctx;
    resp_w_bulk(&g->pairs, name, strlen(name));
    resp_w_bulk(&g->pairs, value, strlen(value));
    g->count++;
}

void cmd_config_get(struct client *c)
{
    bool *seen = mem_calloc((size_t)config_count() * sizeof(bool));
    struct config_get_ctx g = {.count = 0};
    buf_create(&g.pairs);
    for (int i = 2; i < c->argc; i++)
        config_get(&server.cfg, c->argv[i].p, c->argv[i].len, seen, config_get_visit, &g);
    reply_map(c, g.count);
    reply_raw(c, g.pairs.data ? g.pairs.data : "", g.pairs.len);
    buf_destroy(&g.pairs);
    mem_free(seen);
}

static void apply_config(void)
{
    log_set_level((enum log_level)server.cfg.loglevel);
    server_apply_loop();
    server_apply_encodings();
    durable_apply_config();
}

void cmd_config_set(struct client *c)
{
    struct config trial;
    char err[256];
    if ((c->argc - 2) % 2 != 0) {
        reply_err_syntax(c);
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        for (int j = 2; j < i; j += 2) {
            if (c->argv[i].len == c->argv[j].len &&
                strncasecmp(c->argv[i].p, c->argv[j].p, c->argv[i].len) == 0) {
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - "
                                "duplicate parameter", (int)c->argv[i].len, c->argv[i].p);
                return;
            }
        }
    }
    /* Validate every pair on a scratch config first, so a bad pair changes
     * nothing (CONFIG SET of several options is atomic). */
    config_create(&trial);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 2; i < c->argc; i += 2) {
            char *name = mem_strndup(c->argv[i].p, c->argv[i].len);
            char *value = mem_strndup(c->argv[i + 1].p, c->argv[i + 1].len);
            int rc = config_set(pass ? &server.cfg : &trial, name, 1, &value, false, err,
                                sizeof(err));
            if (rc == -2)
                reply_errorf(c,
                             "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                             name);
            else if (rc != 0)
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                             name, err);
            mem_free(name);
            mem_free(value);
            if (rc != 0) {
                config_destroy(&trial);
                return;
            }
        }
    }
    config_destroy(&trial);
    apply_config();
    reply_ok(c);
}

void cmd_config_resetstat(struct client *c)
{
    memset(&server.stats, 0, sizeof(server.stats));
    server.stats.ops_last_us = clock_mono_us();
    memset(&db_stats, 0, sizeof(db_stats));
    for (int i = 0; i < cmd_count(); i++) {
        struct cmd_def *d = (struct cmd_def *)cmd_at(i);
        d->calls = d->usec = d->failed_calls = 0;
        for (const struct cmd_def *const *s = d->subs; s && *s; s++) {
            struct cmd_def *sd = (struct cmd_def *)*s;
            sd->calls = sd->usec = sd->failed_calls = 0;
        }
    }
    reply_ok(c);
}

void cmd_config_rewrite(struct client *c)
{
    int rc;
    if (!server.config_file) {
        reply_error(c, "ERR The server is running without a config file");
        return;
    }
    rc = config_rewrite(&server.cfg, server.config_file);
    if (rc != 0) {
        reply_errorf(c, "ERR Rewriting config file: %s", strerror(-rc));
        return;
    }
    log_notice("CONFIG REWRITE executed with success.");
    reply_ok(c);
}

void cmd_config_help(struct client *c)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    cmd_reply_help(c, lines);
}

/* ---- COMMAND ---------------------------------------------------------- */

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {CMD_WRITE, "write"},     {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},     {CMD_PUBSUB, "pubsub"},     {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"}, {CMD_STALE, "stale"},
    {CMD_FAST, "fast"},       {CMD_NO_AUTH, "no_auth"},   {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
};

static int count_flags(unsigned flags)
{
    int n = 0;
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        n += (flags & flag_names[i].flag) ? 1 : 0;
    return n;
}

/* ACL categories derived from the flags and the group, as Redis derives
 * @read/@write/@fast/@slow/@admin/@dangerous from its own flags. */
static void write_categories(struct buf *b, const struct cmd_def *d)
{
    const char *cats[6];
    int n = 0;
    const char *group = d->group ? d->group : "";
    if (!strcmp(group, "generic"))
        cats[n++] = "@keyspace";
    else if (!strcmp(group, "string") || !strcmp(group, "connection"))
        cats[n++] = !strcmp(group, "string") ? "@string" : "@connection";
    if (d->flags & CMD_WRITE)
        cats[n++] = "@write";
    if (d->flags & CMD_READONLY)
        cats[n++] = "@read";
    if (d->flags & CMD_ADMIN) {
        cats[n++] = "@admin";
        cats[n++] = "@dangerous";
    }
    cats[n++] = (d->flags & CMD_FAST) ? "@fast" : "@slow";
    resp_w_set(b, 2, n);
    for (int i = 0; i < n; i++)
        resp_w_simple(b, cats[i], strlen(cats[i]));
}

static void write_command_info(struct buf *b, int proto, const struct cmd_def *d)
{
    int subs = 0;
    for (const struct cmd_def *const *s = d->subs; s && *s; s++)
        subs++;
    resp_w_array(b, 10);
    resp_w_bulk(b, d->fullname, strlen(d->fullname));
    resp_w_int(b, d->arity);
    resp_w_set(b, proto, count_flags(d->flags));
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (d->flags & flag_names[i].flag)
            resp_w_simple(b, flag_names[i].name, strlen(flag_names[i].name));
    }
    resp_w_int(b, d->first_key);
    resp_w_int(b, d->last_key);
    resp_w_int(b, d->key_step);
    write_categories(b, d);
    resp_w_array(b, 0); /* tips */
    resp_w_array(b, 0); /* key specs: not described yet */
    resp_w_array(b, subs);
    for (const struct cmd_def *const *s = d->subs; s && *s; s++)
        write_command_info(b, proto, *s);
}

static void write_command_docs(struct buf *b, int proto, const struct cmd_def *d)
{
    int subs = 0;
    for (const struct cmd_def *const *s = d->subs; s && *s; s++)
        subs++;
    resp_w_bulk(b, d->fullname, strlen(d->fullname));
    resp_w_map(b, proto, subs ? 3 : 2);
    resp_w_bulk(b, "summary", 7);
    resp_w_bulk(b, d->summary, strlen(d->summary));
    resp_w_bulk(b, "group", 5);
    resp_w_bulk(b, d->group, strlen(d->group));
    if (!subs)
        return;
    resp_w_bulk(b, "subcommands", 11);
    resp_w_map(b, proto, subs);
    for (const struct cmd_def *const *s = d->subs; *s; s++)
        write_command_docs(b, proto, *s);
}

static void command_getkeys(struct client *c)
{
    const struct cmd_def *d;
    int *idx, n;
    if (c->argc < 4) {
        reply_error(c, "ERR wrong number of arguments for 'command|getkeys' command");
        return;
    }
    d = cmd_lookup(c->argv[2].p, c->argv[2].len);
    if (d && !d->fn && c->argc > 3)
        d = cmd_lookup_sub(d, c->argv[3].p, c->argv[3].len);
    if (!d || !d->fn) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    idx = mem_alloc((size_t)c->argc * sizeof(int));
    n = cmd_get_keys(d, c->argc - 2, c->argv + 2, idx, c->argc);
    if (n < 0)
        reply_error(c, "ERR Invalid number of arguments specified for command");
    else if (n == 0)
        reply_error(c, "ERR The command has no key arguments");
    else {
        reply_array(c, n);
        for (int i = 0; i < n; i++)
            reply_bulk(c, c->argv[2 + idx[i]].p, c->argv[2 + idx[i]].len);
    }
    mem_free(idx);
}

/* COMMAND INFO / DOCS with names (or all commands when none). */
static void command_describe(struct client *c, bool docs)
{
    struct buf *b = reply_buf(c);
    int named = c->argc - 2, total = named ? named : cmd_count(), known = 0;
    if (!b)
        return;
    for (int i = 0; i < named; i++)
        known += cmd_lookup(c->argv[2 + i].p, c->argv[2 + i].len) ? 1 : 0;
    if (docs) /* Redis leaves unknown names out of DOCS. */
        resp_w_map(b, c->resp, named ? known : cmd_count());
    else
        resp_w_array(b, total);
    for (int i = 0; i < total; i++) {
        const struct cmd_def *d = named ? cmd_lookup(c->argv[2 + i].p, c->argv[2 + i].len)
                                        : cmd_at(i);
        if (!d && docs) {
            continue;
        } else if (!d) {
            resp_w_null(b, c->resp);
        } else if (docs) {
            write_command_docs(b, c->resp, d);
        } else {
            write_command_info(b, c->resp, d);
        }
    }
    reply_done(c);
}

static void command_help(struct client *c)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    cmd_reply_help(c, lines);
}

static void command_list(struct client *c)
{
    const struct client_arg *pattern = NULL;
    int n = 0;
    if (c->argc == 5 && client_arg_is(c, 2, "FILTERBY") && client_arg_is(c, 3, "PATTERN"))
        pattern = &c->argv[4];
    else if (c->argc != 2) {
        reply_err_syntax(c);
        return;
    }
    for (int i = 0; i < cmd_count(); i++) {
        const char *name = cmd_at(i)->name;
        if (!pattern || util_glob_match(pattern->p, pattern->len, name, strlen(name), true))
            n++;
    }
    reply_array(c, n);
    for (int i = 0; i < cmd_count(); i++) {
        const char *name = cmd_at(i)->name;
        if (!pattern || util_glob_match(pattern->p, pattern->len, name, strlen(name), true))
            reply_bulk_str(c, name);
    }
}

void cmd_command(struct client *c)
{
    if (c->argc == 1) {
        command_describe(c, false);
    } else if (client_arg_is(c, 1, "COUNT") && c->argc == 2) {
        reply_int(c, cmd_count());
    } else if (client_arg_is(c, 1, "INFO")) {
        command_describe(c, false);
    } else if (client_arg_is(c, 1, "DOCS")) {
        command_describe(c, true);
    } else if (client_arg_is(c, 1, "LIST")) {
        command_list(c);
    } else if (client_arg_is(c, 1, "GETKEYS")) {
        command_getkeys(c);
    } else if (client_arg_is(c, 1, "HELP") && c->argc == 2) {
        command_help(c);
    } else if (client_arg_is(c, 1, "COUNT") || client_arg_is(c, 1, "HELP")) {
        reply_errorf(c, "ERR wrong number of arguments for 'command|%s' command",
                     client_arg_is(c, 1, "COUNT") ? "count" : "help");
    } else {
        reply_err_subcommand(c);
    }
}

/* ---- Small commands --------------------------------------------------- */

void cmd_time(struct client *c)
{
    int64_t us = clock_wall_us();
    reply_array(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}

void cmd_lastsave(struct client *c)
{
    reply_int(c, server.last_save_s);
}

void cmd_shutdown(struct client *c)
{
    for (int i = 1; i < c->argc; i++) {
        if (client_arg_is(c, i, "ABORT")) {
            reply_error(c, "ERR No shutdown in progress.");
            return;
        }
        if (!client_arg_is(c, i, "NOSAVE") && !client_arg_is(c, i, "SAVE") &&
            !client_arg_is(c, i, "NOW") && !client_arg_is(c, i, "FORCE")) {
            reply_err_syntax(c);
            return;
        }
    }
    log_warning("User requested shutdown...");
    server_request_shutdown();
    /* No reply: the connection closes when the server exits, as Redis. */
    server_close_after_reply(c);
}

static void reply_snapshot_error(struct client *c, int rc)
{
    if (rc == -EBUSY)
        reply_error(c, "ERR Background save already in progress");
    else if (rc == -ENOTRECOVERABLE)
        reply_error(c, "MISCONF Errors writing to the WAL: snapshots are refused, because the "
                       "data in memory holds writes that were reported as failed. Restart the "
                       "server to recover the durable state");
    else if (rc == -ENOTSUP)
        reply_error(c, "ERR snapshots need appendonly yes: with appendonly no engram keeps "
                       "data in memory only");
    else
        reply_errorf(c, "ERR snapshot failed: %s", strerror(-rc));
}

void cmd_bgsave(struct client *c)
{
    int rc;
    if (c->argc > 2 || (c->argc == 2 && !client_arg_is(c, 1, "SCHEDULE"))) {
        reply_err_syntax(c);
        return;
    }
    rc = durable_bgsave(false);
    if (rc == 0)
        reply_simple(c, "Background saving started");
    else if (rc == -EBUSY && c->argc == 2)
        reply_simple(c, "Background saving scheduled");
    else
        reply_snapshot_error(c, rc);
}

void cmd_save(struct client *c)
{
    int rc = durable_bgsave(true);
    if (rc == 0)
        reply_ok(c);
    else
        reply_snapshot_error(c, rc);
}

void cmd_bgrewriteaof(struct client *c)
{
    int rc = durable_bgsave(false);
    if (rc == 0)
        reply_simple(c, "Background append only file rewriting started");
    else
        reply_snapshot_error(c, rc);
}

void cmd_monitor(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        /* Queued in a transaction (EXEC runs it with MULTI still set): Redis
         * refuses, since a transaction's client expects one reply each. */
        reply_error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->flags & CLIENT_MONITOR)
        return;
    c->flags |= CLIENT_MONITOR;
    server.monitors_count++;
    reply_ok(c);
}

/* DEBUG ERRINJ point off|N [EIO|ENOSPC] (debug builds only). */
static void debug_errinj(struct client *c)
{
    char point[32];
    long long n = 0;
    int err = EIO;
    size_t len = c->argv[2].len < sizeof(point) - 1 ? c->argv[2].len : sizeof(point) - 1;
    memcpy(point, c->argv[2].p, len);
    point[len] = '\0';
    if (!client_arg_is(c, 3, "off") && (!util_str_to_ll(c->argv[3].p, c->argv[3].len, &n) ||
                                         n < 1 || n > 1000000000)) {
        reply_err_not_int(c);
        return;
    }
    if (c->argc > 4 && client_arg_is(c, 4, "ENOSPC"))
        err = ENOSPC;
    if (!durable_errinj(point, (int)n, err)) {
        reply_error(c, "ERR error injection is not available (debug builds only) or unknown "
                       "point");
        return;
    }
    reply_ok(c);
}

void cmd_debug(struct client *c)
{
    if (client_arg_is(c, 1, "SLEEP") && c->argc == 3) {
        long double secs;
        if (!util_str_to_ld(c->argv[2].p, c->argv[2].len, &secs) || secs < 0 || secs > 3600) {
            reply_err_not_float(c);
            return;
        }
        usleep((useconds_t)(secs * 1000000));
        reply_ok(c);
    } else if (client_arg_is(c, 1, "ERRINJ") && c->argc >= 4) {
        debug_errinj(c);
    } else if (client_arg_is(c, 1, "UNDO-BYTES") && c->argc == 2) {
        reply_int(c, (long long)undo_last_bytes());
    } else if (client_arg_is(c, 1, "HELP")) {
        static const char *const lines[] = {
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ERRINJ <wal-write|wal-fsync> <off|N> [EIO|ENOSPC]",
            "    Debug builds: fail the Nth next WAL write or fsync.",
            "ERRINJ wal-fsync-delay <off|ms>",
            "    Debug builds: every WAL fsync first sleeps ms (a slow disk).",
            "ERRINJ fork-delay <off|ms>",
            "    Debug builds: fork() for a background snapshot takes ms longer in the server.",
            "ERRINJ snapshot-delay <off|ms>",
            "    Debug builds: a background snapshot's child waits ms before it writes.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "UNDO-BYTES",
            "    Bytes the undo log of the EXEC running, or else of the last one, allocated",
            "    (records, saved bytes, copies).",
            "HELP",
            "    Print this help.",
            NULL,
        };
        cmd_reply_help(c, lines);
    } else {
        reply_err_subcommand(c);
    }
}
