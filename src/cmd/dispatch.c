/*
 * dispatch.c - the command table and the dispatcher.
 *
 * Design
 *   commands.def is expanded three times: to declare the handlers (cmd.h),
 *   to build the table of struct cmd_def below, and (SUBCMD lines) to build
 *   the subcommand table. cmd_init() links subcommands to their container
 *   and fills an open-addressing index keyed by lowercase name, so a lookup
 *   is one hash of at most CMD_NAME_BYTES_MAX bytes and usually one compare.
 *
 *   cmd_dispatch() is where every request passes: lookup, arity, auth,
 *   then the handler between effect_begin() and effect_commit(), so every
 *   write's canonical effects are collected as one unit. Inside MULTI the
 *   command is queued instead (a refusal dooms the transaction), and EXEC
 *   runs the whole queue as that one unit (cmd_multi.c).
 *
 * Invariants
 *   (1) Handlers run only with an argc that satisfies their arity.
 *   (2) Every handler call is bracketed by effect_begin()/effect_commit().
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "core/assert.h"
#include "core/clock.h"
#include "core/util.h"
#include "db/effect.h"
#include "server/durable.h"
#include "server/multi.h"
#include "server/reply.h"
#include "server/server.h"

#include <stdio.h>
#include <string.h>

/* Longest command name we look up; longer names are unknown commands. */
#define CMD_NAME_BYTES_MAX 40
/* Index slots: a power of two well above the command count. */
#define CMD_INDEX_SLOTS 1024

#define CMD(name_, fn_, arity_, flags_, first_, last_, step_, group_, summary_)              \
    {.name = name_, .fn = fn_, .arity = arity_, .flags = flags_, .first_key = first_,       \
     .last_key = last_, .key_step = step_, .group = group_, .summary = summary_},
#define CONTAINER(name_, arity_, flags_, group_, summary_)                                 \
    {.name = name_, .fn = NULL, .arity = arity_, .flags = flags_, .group = group_,          \
     .summary = summary_},
#define SUBCMD(...)
static struct cmd_def table[] = {
#include "cmd/commands.def"
};
#undef CMD
#undef CONTAINER
#undef SUBCMD

struct sub_def {
    const char *parent;  /* container name */
    struct cmd_def def;  /* the subcommand */
};

#define CMD(...)
#define CONTAINER(...)
#define SUBCMD(parent_, name_, fn_, arity_, flags_, first_, last_, step_, summary_)          \
    {parent_, {.name = name_, .fn = fn_, .arity = arity_, .flags = flags_,                  \
               .first_key = first_, .last_key = last_, .key_step = step_,                   \
               .summary = summary_}},
static struct sub_def sub_table[] = {
#include "cmd/commands.def"
    {NULL, {.name = NULL}},
};
#undef CMD
#undef CONTAINER
#undef SUBCMD

#define TABLE_COUNT ((int)(sizeof(table) / sizeof(table[0])))
#define SUB_COUNT ((int)(sizeof(sub_table) / sizeof(sub_table[0])) - 1)

static struct cmd_def *index_slots[CMD_INDEX_SLOTS];
/* Subcommand pointer arrays, one NULL-terminated run per container. */
static const struct cmd_def *sub_ptrs[sizeof(sub_table) / sizeof(sub_table[0]) + TABLE_COUNT];

static uint64_t name_hash(const char *lower, size_t len)
{
    return util_hash(lower, len, 0x656e6772616dull);
}

static bool to_lower(const char *name, size_t len, char *out)
{
    if (len == 0 || len > CMD_NAME_BYTES_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    return true;
}

static void index_add(struct cmd_def *d)
{
    size_t len = strlen(d->name);
    uint64_t h = name_hash(d->name, len);
    for (size_t probe = 0; probe < CMD_INDEX_SLOTS; probe++) {
        struct cmd_def **slot = &index_slots[(h + probe) & (CMD_INDEX_SLOTS - 1)];
        ASSERT(*slot == NULL || strcmp((*slot)->name, d->name) != 0);
        if (!*slot) {
            *slot = d;
            return;
        }
    }
    PANIC("command index full");
}

static void link_subcommands(struct cmd_def *parent, int *next_ptr)
{
    parent->subs = &sub_ptrs[*next_ptr];
    for (int j = 0; j < SUB_COUNT; j++) {
        struct cmd_def *s = &sub_table[j].def;
        if (strcmp(sub_table[j].parent, parent->name) != 0)
            continue;
        s->parent = parent;
        s->group = parent->group;
        snprintf(s->fullname, sizeof(s->fullname), "%s|%s", parent->name, s->name);
        sub_ptrs[(*next_ptr)++] = s;
    }
    sub_ptrs[(*next_ptr)++] = NULL;
}

void cmd_init(void)
{
    int next_ptr = 0;
    static_assert(TABLE_COUNT * 2 < CMD_INDEX_SLOTS, "index has room");
    for (int i = 0; i < TABLE_COUNT; i++) {
        struct cmd_def *d = &table[i];
        snprintf(d->fullname, sizeof(d->fullname), "%s", d->name);
        index_add(d);
        if (!d->fn)
            link_subcommands(d, &next_ptr);
    }
    for (int j = 0; j < SUB_COUNT; j++)
        ASSERT(sub_table[j].def.parent != NULL); /* every SUBCMD names a CONTAINER */
}

const struct cmd_def *cmd_lookup(const char *name, size_t len)
{
    char lower[CMD_NAME_BYTES_MAX];
    uint64_t h;
    if (!to_lower(name, len, lower))
        return NULL;
    h = name_hash(lower, len);
    for (size_t probe = 0; probe < CMD_INDEX_SLOTS; probe++) {
        const struct cmd_def *d = index_slots[(h + probe) & (CMD_INDEX_SLOTS - 1)];
        if (!d)
            return NULL;
        if (strlen(d->name) == len && memcmp(d->name, lower, len) == 0)
            return d;
    }
    return NULL;
}

const struct cmd_def *cmd_lookup_sub(const struct cmd_def *parent, const char *name, size_t len)
{
    if (!parent->subs)
        return NULL;
    for (const struct cmd_def **s = parent->subs; *s; s++) {
        if (util_strcaseeq(name, len, (*s)->name))
            return *s;
    }
    return NULL;
}

int cmd_count(void)
{
    return TABLE_COUNT;
}

const struct cmd_def *cmd_at(int i)
{
    ASSERT(i >= 0 && i < TABLE_COUNT);
    return &table[i];
}

static bool arity_ok(const struct cmd_def *d, int argc)
{
    return d->arity > 0 ? argc == d->arity : argc >= -d->arity;
}

static void reply_unknown_command(struct client *c)
{
    struct buf args;
    size_t name_len = c->argv[0].len > 128 ? 128 : c->argv[0].len;
    buf_create(&args);
    for (int i = 1; i < c->argc && args.len < 128; i++) {
        size_t room = 128 - args.len;
        size_t len = c->argv[i].len < room ? c->argv[i].len : room;
        buf_appendf(&args, "'%.*s' ", (int)len, c->argv[i].p);
    }
    buf_append(&args, "", 1);
    reply_errorf(c, "ERR unknown command '%.*s', with args beginning with: %s", (int)name_len,
                 c->argv[0].p, args.data);
    buf_destroy(&args);
}

/* Resolve argv to a runnable command, or reply with the error and return NULL. */
static const struct cmd_def *resolve(struct client *c)
{
    const struct cmd_def *d = cmd_lookup(c->argv[0].p, c->argv[0].len);
    c->cmd = NULL;
    if (!d) {
        reply_unknown_command(c);
        return NULL;
    }
    c->cmd = d;
    if (!d->fn) {
        const struct cmd_def *s;
        if (c->argc < 2) {
            reply_err_arity(c);
            return NULL;
        }
        s = cmd_lookup_sub(d, c->argv[1].p, c->argv[1].len);
        if (!s) {
            reply_err_subcommand(c);
            return NULL;
        }
        c->cmd = d = s;
    }
    if (!arity_ok(d, c->argc)) {
        if ((c->flags & CLIENT_MULTI) && d->fn == cmd_exec) {
            /* As Redis: a refused EXEC ends the transaction at once. */
            multi_discard(c);
            reply_errorf(c, "EXECABORT Transaction discarded because of: wrong number of "
                            "arguments for '%s' command", d->fullname);
            return NULL;
        }
        reply_err_arity(c);
        return NULL;
    }
    return d;
}

/*
 * The end of the last command cmd_dispatch() ran (wall clock, us), or -1
 * after cmd_clock_reset(): where the next command of the same run starts.
 * Two clock reads per command were 5% of the loop's CPU with -P 16
 * pipelines. The end is read after everything the command did, its WAL
 * hand-off and any fork for a BGSAVE inside EXEC included, so the next
 * command's "now" (expiry decisions) is never older than what this one
 * did. A command's usec thus covers its own handling from the end of the
 * one before, the next one's parse aside.
 */
static int64_t last_end_us = -1;

void cmd_clock_reset(void)
{
    last_end_us = -1;
}

/* Run d's handler for c and count the call (the caller adds its usec). */
static void run(struct client *c, const struct cmd_def *d)
{
    c->cmd = d;
    d->fn(c);
    ((struct cmd_def *)d)->calls++;
    if (server.monitors_count && !(d->flags & CMD_ADMIN))
        server_feed_monitors(c);
}

static void add_usec(const struct cmd_def *d, int64_t start_us, int64_t end_us)
{
    ((struct cmd_def *)d)->usec += (uint64_t)(end_us > start_us ? end_us - start_us : 0);
}

void cmd_call(struct client *c, const struct cmd_def *d)
{
    int64_t start_us = clock_wall_us();
    run(c, d);
    add_usec(d, start_us, clock_wall_us());
}

/* Inside MULTI: queue the command, or refuse it and doom the transaction. */
static void queue_command(struct client *c, const struct cmd_def *d)
{
    if (d->flags & CMD_NO_MULTI) {
        reply_error(c, "ERR Command not allowed inside a transaction");
        multi_flag_error(c);
        return;
    }
    if (durable_write_refused(c)) { /* as Redis: MISCONF is found while queueing */
        multi_flag_error(c);
        return;
    }
    if (multi_queue(c))
        reply_simple(c, "QUEUED");
}

const struct cmd_def *cmd_dispatch(struct client *c)
{
    const struct cmd_def *d;
    size_t reply_start;
    int64_t start_us;
    ASSERT(c->argc > 0);
    d = resolve(c);
    if (!d) {
        multi_flag_error(c);
        return NULL;
    }
    if (!c->authenticated && !(d->flags & CMD_NO_AUTH)) {
        reply_error(c, "NOAUTH Authentication required.");
        multi_flag_error(c);
        return NULL;
    }
    if (durable_loading() && !(d->flags & CMD_LOADING)) {
        reply_error(c, "LOADING engram is loading the dataset in memory");
        multi_flag_error(c);
        return NULL;
    }
    if ((c->flags & CLIENT_MONITOR) && (d->flags & (CMD_WRITE | CMD_READONLY))) {
        reply_error(c, "ERR Replica can't interact with the keyspace");
        multi_flag_error(c);
        return NULL;
    }
    c->last_cmd = d;
    if ((c->flags & CLIENT_MULTI) && !(d->flags & CMD_TXN_CONTROL)) {
        queue_command(c, d);
        return d;
    }
    if (durable_write_refused(c))
        return NULL;
    reply_start = c->obuf.len;
    start_us = last_end_us >= 0 ? last_end_us : clock_wall_us();
    db_set_now(start_us / 1000);
    effect_begin();
    run(c, d);
    server.dirty += (uint64_t)effect_commit();
    durable_after_command(c, reply_start); /* D1, D2: may hold the reply */
    last_end_us = clock_wall_us();
    add_usec(d, start_us, last_end_us);
    return d;
}

void cmd_rerun(struct client *c)
{
    size_t reply_start = c->obuf.len;
    int64_t start_us = clock_wall_us();
    db_set_now(start_us / 1000);
    effect_begin();
    run(c, c->cmd);
    server.dirty += (uint64_t)effect_commit();
    durable_after_command(c, reply_start); /* a served pop is durable before its reply */
    add_usec(c->cmd, start_us, clock_wall_us());
}

int cmd_get_keys(const struct cmd_def *cmd, int argc, const struct client_arg *argv, int *idx,
                 int idx_cap)
{
    int last, n = 0;
    (void)argv;
    if (!arity_ok(cmd, argc))
        return -1;
    if (cmd->first_key <= 0)
        return 0;
    last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    for (int i = cmd->first_key; i <= last && i < argc && n < idx_cap; i += cmd->key_step)
        idx[n++] = i;
    return n;
}
