/*
 * client.c - client objects.
 *
 * Design
 *   A client owns its query buffer, parser, argv array and reply buffer.
 *   Reading, parsing and executing live in server.c; this file creates,
 *   frees and describes clients.
 *
 * Invariants
 *   (1) opos <= obuf.len; qpos <= qbuf.len.
 *
 * Threads
 *   Loop thread.
 */
#include "server/client.h"

#include "cmd/cmd.h"
#include "core/mem.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct client *client_new(int fd, const char *addr, bool unix_socket)
{
    struct client *c = mem_calloc(sizeof(*c));
    c->fd = fd;
    c->resp = 2;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    if (unix_socket)
        c->flags |= CLIENT_UNIX_SOCKET;
    buf_create(&c->qbuf);
    buf_create(&c->obuf);
    resp_parser_create(&c->parser);
    return c;
}

void client_delete(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    buf_destroy(&c->qbuf);
    buf_destroy(&c->obuf);
    resp_parser_destroy(&c->parser);
    mem_free(c->argv);
    mem_free(c->name);
    mem_free(c->lib_name);
    mem_free(c->lib_ver);
    mem_free(c);
}

bool client_arg_is(const struct client *c, int i, const char *word)
{
    return i < c->argc && util_strcaseeq(c->argv[i].p, c->argv[i].len, word);
}

static void describe_flags(const struct client *c, char *out)
{
    char *p = out;
    if (c->flags & CLIENT_MONITOR)
        *p++ = 'O';
    if (c->flags & CLIENT_MULTI)
        *p++ = 'x';
    if (c->flags & CLIENT_BLOCKED)
        *p++ = 'b';
    if (c->flags & CLIENT_DIRTY_CAS)
        *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_ASAP)
        *p++ = 'A';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY)
        *p++ = 'c';
    if (c->flags & CLIENT_UNIX_SOCKET)
        *p++ = 'U';
    if (c->flags & CLIENT_NO_EVICT)
        *p++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH)
        *p++ = 'T';
    if (p == out)
        *p++ = 'N';
    *p = '\0';
}

void client_describe(const struct client *c, struct buf *b, int64_t now_ms)
{
    char flags[16];
    const char *cmd = c->last_cmd ? c->last_cmd->fullname : "NULL";
    describe_flags(c, flags);
    buf_appendf(b,
                "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
                "sub=0 psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 "
                "multi-mem=0 rbs=%zu rbp=0 obl=%zu oll=0 omem=%zu tot-mem=%zu events=r "
                "cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
                (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                (long long)((now_ms - c->ctime_ms) / 1000),
                (long long)((now_ms - c->last_io_ms) / 1000), flags, c->db_index,
                (c->flags & CLIENT_MULTI) ? c->mqueue_count : -1,
                c->qbuf.len - c->qpos, c->qbuf.cap - c->qbuf.len, c->qbuf.cap,
                client_pending_bytes(c), c->obuf.cap,
                sizeof(*c) + c->qbuf.cap + c->obuf.cap, cmd, c->resp,
                c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
}
