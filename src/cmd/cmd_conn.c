/*
 * cmd_conn.c - connection commands: PING ECHO QUIT RESET HELLO AUTH CLIENT.
 *
 * Design
 *   Handlers touch only the calling client (and, for CLIENT KILL/LIST, the
 *   server's client list). AUTH checks requirepass against the "default"
 *   user, the only user until the ACL issue.
 *
 * Threads
 *   Loop thread.
 */
#include "cmd/cmd.h"

#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/version.h"
#include "proto/resp_write.h"
#include "server/block.h"
#include "server/multi.h"
#include "server/reply.h"
#include "server/server.h"

#include <string.h>


static bool arg_eq(const struct client_arg *a, const char *s)
{
    return a->len == strlen(s) && memcmp(a->p, s, a->len) == 0;
}

void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_err_arity(c);
        return;
    }
    if (c->argc == 2)
        reply_bulk(c, c->argv[1].p, c->argv[1].len);
    else
        reply_simple(c, "PONG");
}

void cmd_echo(struct client *c)
{
    reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

void cmd_quit(struct client *c)
{
    reply_ok(c);
    server_close_after_reply(c);
}

void cmd_reset(struct client *c)
{
    if (c->flags & CLIENT_MONITOR)
        server.monitors_count--;
    c->flags &= ~(CLIENT_MONITOR | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT |
                  CLIENT_NO_TOUCH);
    multi_discard(c); /* leaves MULTI and unwatches */
    mem_free(c->name);
    c->name = NULL;
    c->resp = 2;
    c->db = &server.dbs[0];
    c->db_index = 0;
    c->authenticated = server.cfg.requirepass[0] == '\0';
    reply_simple(c, "RESET");
}

/* Check user/password against the default user. Replies on failure. */
static bool check_password(struct client *c, const struct client_arg *user,
                           const struct client_arg *pass)
{
    const char *req = server.cfg.requirepass;
    bool ok;
    if (user && !arg_eq(user, "default")) {
        ok = false;
    } else if (req[0] == '\0') {
        ok = true; /* the default user has no password: any password works */
    } else {
        ok = pass->len == strlen(req) && memcmp(pass->p, req, pass->len) == 0;
    }
    if (!ok) {
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return false;
    }
    c->authenticated = true;
    return true;
}

void cmd_auth(struct client *c)
{
    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 2 && server.cfg.requirepass[0] == '\0') {
        reply_error(c, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
        return;
    }
    if (check_password(c, c->argc == 3 ? &c->argv[1] : NULL, &c->argv[c->argc - 1]))
        reply_ok(c);
}

/* Names may not contain spaces, newlines or non-printable bytes. */
static bool valid_name(const struct client_arg *a)
{
    if (a->len > CLIENT_NAME_BYTES_MAX)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        if (a->p[i] < '!' || a->p[i] > '~')
            return false;
    }
    return true;
}

static bool set_name(struct client *c, const struct client_arg *a)
{
    if (!valid_name(a)) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
                       "characters.");
        return false;
    }
    mem_free(c->name);
    c->name = a->len ? mem_strndup(a->p, a->len) : NULL;
    return true;
}

static void reply_hello_map(struct client *c)
{
    struct buf *b = reply_buf(c);
    if (!b)
        return;
    resp_w_map(b, c->resp, 7);
    resp_w_bulk(b, "server", 6);
    resp_w_bulk(b, "redis", 5);
    resp_w_bulk(b, "version", 7);
    resp_w_bulk(b, COMPAT_REDIS_VERSION, strlen(COMPAT_REDIS_VERSION));
    resp_w_bulk(b, "proto", 5);
    resp_w_int(b, c->resp);
    resp_w_bulk(b, "id", 2);
    resp_w_int(b, (long long)c->id);
    resp_w_bulk(b, "mode", 4);
    resp_w_bulk(b, "standalone", 10);
    resp_w_bulk(b, "role", 4);
    resp_w_bulk(b, "master", 6);
    resp_w_bulk(b, "modules", 7);
    resp_w_array(b, 0);
    reply_done(c);
}

void cmd_hello(struct client *c)
{
    long long ver = 0;
    int i;
    const struct client_arg *user = NULL, *pass = NULL, *name = NULL;

    if (c->argc >= 2) {
        if (!util_str_to_ll(c->argv[1].p, c->argv[1].len, &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (i = 2; i < c->argc; i++) {
        bool more = i + 1 < c->argc;
        if (client_arg_is(c, i, "AUTH") && i + 2 < c->argc) {
            user = &c->argv[i + 1];
            pass = &c->argv[i + 2];
            i += 2;
        } else if (client_arg_is(c, i, "SETNAME") && more) {
            name = &c->argv[++i];
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[i].len,
                         c->argv[i].p);
            return;
        }
    }
    if (user && !check_password(c, user, pass))
        return;
    if (!c->authenticated) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the "
                       "same time");
        return;
    }
    if (name && !set_name(c, name))
        return;
    if (ver)
        c->resp = (int)ver;
    reply_hello_map(c);
}

void cmd_client_id(struct client *c)
{
    reply_int(c, (long long)c->id);
}

void cmd_client_setname(struct client *c)
{
    if (set_name(c, &c->argv[2]))
        reply_ok(c);
}

void cmd_client_getname(struct client *c)
{
    if (c->name)
        reply_bulk_str(c, c->name);
    else
        reply_null(c);
}

void cmd_client_info(struct client *c)
{
    struct buf b;
    buf_create(&b);
    client_describe(c, &b, db_now());
    reply_verbatim(c, b.data, b.len);
    buf_destroy(&b);
}

static bool parse_ids(struct client *c, int from, uint64_t **ids_out, int *count_out)
{
    int n = c->argc - from;
    uint64_t *ids = mem_alloc((size_t)n * sizeof(*ids));
    for (int i = 0; i < n; i++) {
        long long v;
        /* Ids that cannot exist (0, negative) are fine: they match nothing. */
        if (!util_str_to_ll(c->argv[from + i].p, c->argv[from + i].len, &v)) {
            mem_free(ids);
            reply_error(c, "ERR Invalid client ID");
            return false;
        }
        ids[i] = (uint64_t)v;
    }
    *ids_out = ids;
    *count_out = n;
    return true;
}

void cmd_client_list(struct client *c)
{
    struct buf b;
    uint64_t *ids = NULL;
    int ids_count = 0;
    bool normal_only = true;
    int64_t now = db_now();

    if (c->argc >= 4 && client_arg_is(c, 2, "TYPE") && c->argc == 4) {
        if (!client_arg_is(c, 3, "normal") && !client_arg_is(c, 3, "master") &&
            !client_arg_is(c, 3, "replica") && !client_arg_is(c, 3, "slave") &&
            !client_arg_is(c, 3, "pubsub")) {
            reply_errorf(c, "ERR Unknown client type '%.*s'", (int)c->argv[3].len,
                         c->argv[3].p);
            return;
        }
        normal_only = client_arg_is(c, 3, "normal");
    } else if (c->argc >= 4 && client_arg_is(c, 2, "ID")) {
        if (!parse_ids(c, 3, &ids, &ids_count))
            return;
    } else if (c->argc != 2) {
        reply_err_syntax(c);
        return;
    }
    buf_create(&b);
    for (struct client *o = server.clients; normal_only && o; o = o->next) {
        bool match = ids_count == 0;
        for (int i = 0; i < ids_count; i++)
            match = match || ids[i] == o->id;
        if (match && !(o->flags & CLIENT_CLOSE_ASAP))
            client_describe(o, &b, now);
    }
    reply_verbatim(c, b.data ? b.data : "", b.len);
    buf_destroy(&b);
    mem_free(ids);
}

struct kill_filter {
    uint64_t id;            /* 0 = any */
    const struct client_arg *addr;  /* NULL = any */
    const struct client_arg *laddr; /* NULL = any */
    bool skipme;            /* default yes */
    long long maxage_s;     /* 0 = any */
    bool type_normal_only;  /* TYPE given and not normal: matches nothing here */
    bool type_none;         /* TYPE names a type that has no clients here */
};

static bool kill_matches(const struct kill_filter *f, const struct client *self,
                         const struct client *o, int64_t now)
{
    if (o->flags & CLIENT_CLOSE_ASAP)
        return false;
    if (f->type_none)
        return false;
    if (f->id && o->id != f->id)
        return false;
    if (f->addr && !arg_eq(f->addr, o->addr))
        return false;
    if (f->laddr && !arg_eq(f->laddr, o->laddr))
        return false;
    if (f->skipme && o == self)
        return false;
    if (f->maxage_s && (now - o->ctime_ms) / 1000 < f->maxage_s)
        return false;
    return true;
}

/* Parse the filter form of CLIENT KILL. Replies on error. */
static bool parse_kill_filter(struct client *c, struct kill_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->skipme = true;
    for (int i = 2; i < c->argc; i += 2) {
        const struct client_arg *v;
        long long n;
        if (i + 1 >= c->argc) {
            reply_err_syntax(c);
            return false;
        }
        v = &c->argv[i + 1];
        if (client_arg_is(c, i, "ID")) {
            if (!util_str_to_ll(v->p, v->len, &n) || n <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return false;
            }
            f->id = (uint64_t)n;
        } else if (client_arg_is(c, i, "ADDR")) {
            f->addr = v;
        } else if (client_arg_is(c, i, "LADDR")) {
            f->laddr = v;
        } else if (client_arg_is(c, i, "SKIPME")) {
            if (util_strcaseeq(v->p, v->len, "yes"))
                f->skipme = true;
            else if (util_strcaseeq(v->p, v->len, "no"))
                f->skipme = false;
            else {
                reply_err_syntax(c);
                return false;
            }
        } else if (client_arg_is(c, i, "MAXAGE")) {
            if (!util_str_to_ll(v->p, v->len, &n)) {
                reply_err_syntax(c); /* as Redis 7.0 */
                return false;
            }
            f->maxage_s = n;
        } else if (client_arg_is(c, i, "TYPE")) {
            if (util_strcaseeq(v->p, v->len, "normal"))
                continue;
            if (!util_strcaseeq(v->p, v->len, "master") &&
                !util_strcaseeq(v->p, v->len, "replica") &&
                !util_strcaseeq(v->p, v->len, "slave") &&
                !util_strcaseeq(v->p, v->len, "pubsub")) {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)v->len, v->p);
                return false;
            }
            f->type_none = true;
        } else if (client_arg_is(c, i, "USER")) {
            if (!util_strcaseeq(v->p, v->len, "default"))
                f->type_none = true;
        } else {
            reply_err_syntax(c);
            return false;
        }
    }
    return true;
}

static int kill_matching(struct client *c, const struct kill_filter *f)
{
    int killed = 0;
    int64_t now = db_now();
    for (struct client *o = server.clients; o; o = o->next) {
        if (!kill_matches(f, c, o, now))
            continue;
        killed++;
        if (o == c)
            server_close_after_reply(c);
        else
            server_close_client(o, false);
    }
    return killed;
}

void cmd_client_kill(struct client *c)
{
    struct kill_filter f;
    if (c->argc == 3) {
        /* Old form: CLIENT KILL ip:port. */
        memset(&f, 0, sizeof(f));
        f.addr = &c->argv[2];
        if (kill_matching(c, &f) == 0) {
            reply_error(c, "ERR No such client");
            return;
        }
        reply_ok(c);
        return;
    }
    if (!parse_kill_filter(c, &f))
        return;
    reply_int(c, kill_matching(c, &f));
}

void cmd_client_setinfo(struct client *c)
{
    char **slot;
    if (client_arg_is(c, 2, "LIB-NAME"))
        slot = &c->lib_name;
    else if (client_arg_is(c, 2, "LIB-VER"))
        slot = &c->lib_ver;
    else {
        reply_errorf(c, "ERR Unrecognized option '%.*s'", (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    if (!valid_name(&c->argv[3])) {
        reply_errorf(c, "ERR %s cannot contain spaces, newlines or special characters.",
                     slot == &c->lib_name ? "lib-name" : "lib-ver");
        return;
    }
    mem_free(*slot);
    *slot = c->argv[3].len ? mem_strndup(c->argv[3].p, c->argv[3].len) : NULL;
    reply_ok(c);
}

static void set_flag_on_off(struct client *c, unsigned flag)
{
    if (client_arg_is(c, 2, "on"))
        c->flags |= flag;
    else if (client_arg_is(c, 2, "off"))
        c->flags &= ~flag;
    else {
        reply_err_syntax(c);
        return;
    }
    reply_ok(c);
}

void cmd_client_no_evict(struct client *c)
{
    set_flag_on_off(c, CLIENT_NO_EVICT);
}

void cmd_client_no_touch(struct client *c)
{
    set_flag_on_off(c, CLIENT_NO_TOUCH);
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: checked in Redis 7.0's order (the
 * reason, then the id, then the lookup); 1 if the client was blocked, else 0. */
void cmd_client_unblock(struct client *c)
{
    long long id;
    bool error = false;
    struct client *target;
    if (c->argc > 4) {
        size_t len = c->argv[1].len > 128 ? 128 : c->argv[1].len;
        reply_errorf(c,
                     "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                     "CLIENT HELP.",
                     (int)len, c->argv[1].p);
        return;
    }
    if (c->argc == 4) {
        if (client_arg_is(c, 3, "ERROR")) {
            error = true;
        } else if (!client_arg_is(c, 3, "TIMEOUT")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    if (!util_str_to_ll(c->argv[2].p, c->argv[2].len, &id)) {
        reply_err_not_int(c);
        return;
    }
    target = id > 0 ? server_find_client((uint64_t)id) : NULL;
    reply_int(c, target != NULL && block_unblock(target, error));
}

void cmd_client_reply(struct client *c)
{
    if (client_arg_is(c, 2, "on")) {
        c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT);
        reply_ok(c);
    } else if (client_arg_is(c, 2, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (client_arg_is(c, 2, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF))
            c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_err_syntax(c);
    }
}

void cmd_reply_help(struct client *c, const char *const *lines)
{
    int n = 0;
    while (lines[n])
        n++;
    reply_array(c, n);
    for (int i = 0; i < n; i++)
        reply_simple(c, lines[i]);
}

void cmd_client_help(struct client *c)
{
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
        "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
        "    Return information about client connections.",
        "NO-EVICT (ON|OFF)",
        "    Protect the current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Set client library name or version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    cmd_reply_help(c, lines);
}
