/*
 * server.c - the server: listeners, the client I/O cycle, the cron, and
 * start-up and shutdown.
 *
 * Design
 *   One loop thread does everything (DESIGN.md "Threads"):
 *
 *     readable socket --> read into qbuf --> parse --> cmd_dispatch --> obuf
 *     before sleep     --> write every client's obuf (one write each)
 *                      --> free clients marked for closing
 *     cron (hz/s)      --> active expiry, idle timeouts, rehash, stats
 *
 *   Replies are not written from inside command execution: they go out in
 *   before_sleep, so a pipeline of N commands read in one read(2) costs one
 *   write(2). (The WAL, issue 3, will hold replies of writes here until
 *   their record is durable: this is the place where that check goes.)
 *
 *   Clients are never freed while they may be on the stack: closing marks
 *   them CLOSE_ASAP and pushes them on server.closing, and before_sleep
 *   frees them.
 *
 * Invariants
 *   (1) A client is on server.pending_writes iff CLIENT_PENDING_WRITE.
 *   (2) A client marked CLOSE_ASAP executes no further command.
 *   (3) Replies leave in the order the commands were read.
 *
 * Threads
 *   Loop thread; the signal handler only sets a flag.
 */
#include "server/server.h"

#include "cmd/cmd.h"
#include "core/assert.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/version.h"
#include "db/effect.h"
#include "net/sock.h"
#include "server/durable.h"
#include "db/hash.h"
#include "db/set.h"
#include "db/zset.h"
#include "server/block.h"
#include "server/multi.h"
#include "server/prefetch.h"
#include "server/reply.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>


struct server server;
static volatile sig_atomic_t signal_shutdown;
/* An eventfd in the loop's epoll set that the signal handler writes, so a
 * signal that lands between before_sleep's check and epoll_wait (or in a
 * busy poll) still ends the wait at once; -1 if eventfd failed (a signal
 * then waits for the next event or cron tick). */
static int signal_fd = -1;
static bool errinj_no_signal_fd; /* server_errinj_no_signal_fd() */

#ifdef DEBUG
bool server_errinj_no_signal_fd(void)
{
    errinj_no_signal_fd = true;
    return true;
}
#else
bool server_errinj_no_signal_fd(void)
{
    return false;
}
#endif

static void on_client_readable(struct ev *ev, int fd, void *data, unsigned mask);
static void on_client_writable(struct ev *ev, int fd, void *data, unsigned mask);
static void unpause_unlink(struct client *c);

int64_t server_uptime_s(void)
{
    return (clock_mono_us() - server.start_mono_us) / 1000000;
}

void server_queue_write(struct client *c)
{
    if (c->flags & CLIENT_PENDING_WRITE)
        return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pw_next = server.pending_writes;
    server.pending_writes = c;
}

void server_close_client(struct client *c, bool after_reply)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    if (after_reply && client_pending_bytes(c) > 0) {
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        server_queue_write(c);
        return;
    }
    c->flags |= CLIENT_CLOSE_ASAP;
    c->close_next = server.closing;
    server.closing = c;
}

void server_close_after_reply(struct client *c)
{
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    /* Queued even if no reply was produced (CLIENT REPLY OFF), so that
     * write_client() sees an empty buffer and closes. */
    server_queue_write(c);
}

struct client *server_find_client(uint64_t id)
{
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->id == id && !(c->flags & CLIENT_CLOSE_ASAP))
            return c;
    }
    return NULL;
}

void server_request_shutdown(void)
{
    server.shutdown_asap = true;
    server.exit_code = 0;
}

static void unlink_client(struct client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        server.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->flags & CLIENT_MONITOR)
        server.monitors_count--;
    durable_forget_client(c);
    multi_client_free(c);
    block_client_free(c);
    if (c->flags & CLIENT_UNBLOCKED) {
        struct client **link = &server.unblocked;
        while (*link && *link != c)
            link = &(*link)->unblocked_next;
        if (*link)
            *link = c->unblocked_next;
    }
    unpause_unlink(c);
    server.clients_count--;
    ev_del(&server.ev, c->fd, EV_READABLE | EV_WRITABLE);
}

static void free_closing_clients(void)
{
    while (server.closing) {
        struct client *c = server.closing;
        server.closing = c->close_next;
        unlink_client(c);
        client_delete(c);
    }
}

/* ---- Output ---------------------------------------------------------- */

/* Write what c has pending. Returns false if c was closed. */
static bool write_client(struct client *c)
{
    /* Bytes past `end` wait for the WAL (D1, D2): see durable.c. */
    size_t end = durable_writable_end(c);
    while (c->opos < end) {
        ssize_t n = write(c->fd, c->obuf.data + c->opos, end - c->opos);
        if (n > 0) {
            c->opos += (size_t)n;
            c->net_out_bytes += (uint64_t)n;
            server.stats.net_output_bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        server_close_client(c, false);
        return false;
    }
    if (c->opos == c->obuf.len) {
        /* A hold can sit at the very end (a reply skipped by CLIENT REPLY
         * SKIP/OFF still holds what follows it): it moves to the start. */
        durable_shift_holds(c, c->obuf.len);
        c->obuf.len = 0;
        c->opos = 0;
        buf_shrink(&c->obuf, 16 * 1024);
        if (c->flags & CLIENT_WRITE_INSTALLED) {
            ev_del(&server.ev, c->fd, EV_WRITABLE);
            c->flags &= ~CLIENT_WRITE_INSTALLED;
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            server_close_client(c, false);
            return false;
        }
        return true;
    }
    if (c->opos >= CLIENT_OBUF_COMPACT_BYTES && c->opos * 2 >= c->obuf.len) {
        /* A client that pipelines writes always has a held tail, so the
         * buffer would never empty: drop the bytes already sent. */
        size_t sent = c->opos;
        buf_consume(&c->obuf, sent);
        c->opos = 0;
        end -= sent;
        durable_shift_holds(c, sent);
    }
    if (c->opos == end) {
        /* Everything allowed is out; the rest leaves when the WAL event
         * releases it (durable.c queues the client then). */
        if (c->flags & CLIENT_WRITE_INSTALLED) {
            ev_del(&server.ev, c->fd, EV_WRITABLE);
            c->flags &= ~CLIENT_WRITE_INSTALLED;
        }
        return true;
    }
    if (client_pending_bytes(c) > CLIENT_REPLY_BYTES_MAX) {
        log_warning("Client id=%llu addr=%s closed for overcoming of output buffer limits.",
                    (unsigned long long)c->id, c->addr);
        server_close_client(c, false);
        return false;
    }
    if (!(c->flags & CLIENT_WRITE_INSTALLED)) {
        if (ev_add(&server.ev, c->fd, EV_WRITABLE, on_client_writable, c) == 0)
            c->flags |= CLIENT_WRITE_INSTALLED;
    }
    return true;
}

static void on_client_writable(struct ev *ev, int fd, void *data, unsigned mask)
{
    struct client *c = data;
    (void)ev, (void)fd, (void)mask;
    if (!(c->flags & CLIENT_CLOSE_ASAP))
        write_client(c);
}

static void write_pending_clients(void)
{
    while (server.pending_writes) {
        struct client *c = server.pending_writes;
        server.pending_writes = c->pw_next;
        c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->flags & CLIENT_CLOSE_ASAP)
            continue;
        if (c->flags & CLIENT_WRITE_INSTALLED)
            continue; /* the writable handler will continue */
        write_client(c);
    }
}

/* ---- Input ----------------------------------------------------------- */

static void load_argv(struct client *c)
{
    const struct resp_parser *p = &c->parser;
    const char *base = c->qbuf.data + c->qpos;
    if (p->argc > c->argv_cap) {
        int cap = p->argc < 16 ? 16 : p->argc;
        c->argv = mem_realloc(c->argv, (size_t)cap * sizeof(*c->argv));
        c->argv_cap = cap;
    }
    for (int i = 0; i < p->argc; i++) {
        c->argv[i].p = resp_arg_ptr(p, base, i);
        c->argv[i].len = p->args[i].len;
    }
    c->argc = p->argc;
}

static void execute(struct client *c)
{
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    }
    c->last_cmd = cmd_dispatch(c);
    if (!c->last_cmd)
        c->last_cmd = c->cmd;
    block_serve_ready(); /* keys this command gave data to */
    c->flags &= ~CLIENT_REPLY_SKIP;
    c->commands++;
    server.stats.commands_processed++;
    c->cmd = NULL;
    c->argc = 0;
}

static void protocol_error(struct client *c)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "ERR %s", c->parser.error);
    log_verbose("Protocol error (%s) from client: id=%llu addr=%s", c->parser.error,
                (unsigned long long)c->id, c->addr);
    /* Protocol errors are answered even under CLIENT REPLY OFF, as Redis. */
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP);
    reply_error(c, msg);
    server_close_after_reply(c);
}

/* Back-pressure (C10): the open WAL batch is full, so stop executing this
 * client's commands and reading its socket until before_sleep() resumes it. */
static void pause_client(struct client *c)
{
    if (c->flags & CLIENT_WAL_PAUSED)
        return;
    c->flags |= CLIENT_WAL_PAUSED;
    ev_del(&server.ev, c->fd, EV_READABLE);
    c->paused_next = server.paused;
    server.paused = c;
}

static void unpause_unlink(struct client *c)
{
    struct client **link = &server.paused;
    if (!(c->flags & CLIENT_WAL_PAUSED))
        return;
    while (*link && *link != c)
        link = &(*link)->paused_next;
    if (*link)
        *link = c->paused_next;
    c->flags &= ~CLIENT_WAL_PAUSED;
}

static void process_input(struct client *c)
{
    int prefetched = 0; /* requests after the current one already prefetched */
    cmd_clock_reset();
    while (c->qpos < c->qbuf.len &&
           !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_BLOCKED))) {
        int64_t rc;
        if (durable_wal_full()) {
            pause_client(c);
            break;
        }
        c->parser.unauthenticated = !c->authenticated;
        c->parser.bulk_bytes_max = (uint64_t)server.cfg.proto_max_bulk_len;
        rc = resp_parse(&c->parser, c->qbuf.data + c->qpos, c->qbuf.len - c->qpos);
        if (rc == 0)
            break;
        if (rc < 0) {
            protocol_error(c);
            break;
        }
        load_argv(c);
        c->qpos += (size_t)rc;
        /* At the last prefetched request, look ahead past it, so the one
         * after it is prefetched too. */
        if (prefetched > 1)
            prefetched--;
        else if (c->qpos < c->qbuf.len)
            prefetched = prefetch_requests(c, c->qbuf.data + c->qpos, c->qbuf.len - c->qpos);
        if (c->argc > 0)
            execute(c);
    }
    if (c->qpos == c->qbuf.len) {
        c->qbuf.len = 0;
        c->qpos = 0;
        /* A client that once sent a large value must not keep that much
         * memory while idle. */
        if (c->qbuf.cap > QUERY_BUF_KEEP_BYTES)
            buf_shrink(&c->qbuf, READ_CHUNK_BYTES);
    }
}

/* Bytes to ask read(2) for: a chunk, or more while a large bulk arrives. */
static size_t read_size(const struct client *c)
{
    size_t want = READ_CHUNK_BYTES;
    size_t bulk = resp_parse_bulk_bytes_wanted(&c->parser);
    if (bulk > 0) {
        size_t have = c->qbuf.len - c->qpos - c->parser.pos;
        size_t missing = bulk > have ? bulk - have : 0;
        /* Grow with the data actually received, never to the announced size
         * at once: an announced length costs nothing until bytes arrive. */
        size_t cap = c->qbuf.len > want ? c->qbuf.len : want;
        want = missing < cap ? missing : cap;
        if (want < READ_CHUNK_BYTES)
            want = READ_CHUNK_BYTES;
    }
    return want;
}

static void on_client_readable(struct ev *ev, int fd, void *data, unsigned mask)
{
    struct client *c = data;
    size_t want;
    ssize_t n;
    (void)ev, (void)mask;
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) {
        /* Nothing more will be read from it; stop epoll (level-triggered)
         * from reporting it readable again and again. */
        ev_del(&server.ev, fd, EV_READABLE);
        return;
    }
    if (c->qpos > 0) {
        buf_consume(&c->qbuf, c->qpos);
        c->qpos = 0;
    }
    want = read_size(c);
    if (!buf_try_reserve(&c->qbuf, want)) {
        log_warning("Closing client id=%llu: out of memory for its query buffer",
                    (unsigned long long)c->id);
        server_close_client(c, false);
        return;
    }
    n = read(fd, c->qbuf.data + c->qbuf.len, want);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        server_close_client(c, false);
        return;
    }
    c->qbuf.len += (size_t)n;
    c->net_in_bytes += (uint64_t)n;
    server.stats.net_input_bytes += (uint64_t)n;
    c->last_io_ms = clock_wall_ms();
    if (c->qbuf.len - c->qpos > (size_t)server.cfg.client_query_buffer_limit) {
        log_warning("Closing client that reached max query buffer length: id=%llu addr=%s "
                    "qbuf=%zu", (unsigned long long)c->id, c->addr, c->qbuf.len);
        server_close_client(c, false);
        return;
    }
    process_input(c);
}

/* ---- Accepting ------------------------------------------------------- */

static void accept_one(int cfd, const char *addr, bool unix_socket)
{
    struct client *c;
    if (server.clients_count >= (uint32_t)server.cfg.maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        ssize_t ignored = write(cfd, msg, sizeof(msg) - 1);
        (void)ignored;
        close(cfd);
        server.stats.rejected_connections++;
        return;
    }
    if (!unix_socket)
        sock_tune_tcp(cfd, server.cfg.tcp_keepalive_s);
    c = client_new(cfd, addr, unix_socket);
    if (ev_add(&server.ev, cfd, EV_READABLE, on_client_readable, c) != 0) {
        log_warning("Error registering fd %d for client %s", cfd, addr);
        client_delete(c);
        return;
    }
    c->id = server.next_client_id++;
    c->authenticated = server.cfg.requirepass[0] == '\0';
    c->db = &server.dbs[0];
    c->ctime_ms = c->last_io_ms = clock_wall_ms();
    if (unix_socket)
        snprintf(c->laddr, sizeof(c->laddr), "%s:0", server.cfg.unixsocket);
    else
        sock_local_addr(cfd, c->laddr, sizeof(c->laddr));
    c->next = server.clients;
    if (server.clients)
        server.clients->prev = c;
    server.clients = c;
    server.clients_count++;
    server.stats.connections_received++;
    log_verbose("Accepted %s", addr);
}

/* Out of file descriptors: stop listening until the cron (epoll is level-
 * triggered, so a pending connection would otherwise spin the loop). */
static bool accept_paused;

static void pause_accepting(int err)
{
    log_warning("Accepting client connection: %s; not accepting for a moment",
                strerror(-err));
    for (int i = 0; i < server.tcp_fds_count; i++)
        ev_del(&server.ev, server.tcp_fds[i], EV_READABLE);
    if (server.unix_fd >= 0)
        ev_del(&server.ev, server.unix_fd, EV_READABLE);
    accept_paused = true;
}

static void on_accept(struct ev *ev, int fd, void *data, unsigned mask);

static void resume_accepting(void)
{
    if (!accept_paused)
        return;
    accept_paused = false;
    for (int i = 0; i < server.tcp_fds_count; i++)
        ev_add(&server.ev, server.tcp_fds[i], EV_READABLE, on_accept, NULL);
    if (server.unix_fd >= 0)
        ev_add(&server.ev, server.unix_fd, EV_READABLE, on_accept, &server);
}

static void on_accept(struct ev *ev, int fd, void *data, unsigned mask)
{
    bool unix_socket = data != NULL;
    (void)ev, (void)mask;
    /* Bounded: at most this many per turn so one listener cannot starve. */
    for (int i = 0; i < 1000; i++) {
        char addr[64];
        int cfd = sock_accept(fd, addr, sizeof(addr));
        if (cfd >= 0 && unix_socket)
            snprintf(addr, sizeof(addr), "%s:0", server.cfg.unixsocket);
        if (cfd < 0) {
            if (cfd == -EMFILE || cfd == -ENFILE || cfd == -ENOBUFS || cfd == -ENOMEM)
                pause_accepting(cfd);
            else if (cfd != -EAGAIN && cfd != -EINTR)
                log_warning("Accepting client connection: %s", strerror(-cfd));
            return;
        }
        accept_one(cfd, addr, unix_socket);
    }
}

/* ---- Cron and the loop ----------------------------------------------- */

static void close_idle_clients(int64_t now_ms)
{
    int64_t limit_ms = (int64_t)server.cfg.timeout_s * 1000;
    if (server.cfg.timeout_s <= 0)
        return;
    for (struct client *c = server.clients; c; c = c->next) {
        if (c->flags & (CLIENT_MONITOR | CLIENT_CLOSE_ASAP))
            continue;
        if (now_ms - c->last_io_ms > limit_ms) {
            log_verbose("Closing idle client id=%llu", (unsigned long long)c->id);
            server_close_client(c, false);
        }
    }
}

static void sample_ops(void)
{
    int64_t now_us = clock_mono_us();
    int64_t dt = now_us - server.stats.ops_last_us;
    uint64_t ops = server.stats.commands_processed - server.stats.ops_last_count;
    if (dt < 100000)
        return;
    server.stats.ops_samples[server.stats.ops_sample_idx] = ops * 1000000u / (uint64_t)dt;
    server.stats.ops_sample_idx = (server.stats.ops_sample_idx + 1) % 16;
    server.stats.ops_last_us = now_us;
    server.stats.ops_last_count = server.stats.commands_processed;
}

static void active_expire(void)
{
    int64_t start = clock_mono_us();
    int64_t budget_us = 1000000 / server.cfg.hz * EXPIRE_CYCLE_CPU_PERCENT / 100;
    int64_t deadline = start + budget_us;
    db_set_now(clock_wall_ms());
    for (int i = 0; i < server.cfg.databases; i++) {
        effect_begin();
        db_expire_cycle(&server.dbs[i], deadline);
        server.dirty += (uint64_t)effect_commit();
        durable_log_effects();
        if (clock_mono_us() >= deadline)
            break;
    }
    db_stats.expire_cycle_us += (uint64_t)(clock_mono_us() - start);
}

static void cron(struct ev *ev, void *data)
{
    (void)ev, (void)data;
    server.cron_loops++;
    active_expire();
    close_idle_clients(clock_wall_ms());
    for (int i = 0; i < server.cfg.databases; i++)
        db_rehash(&server.dbs[i], 1);
    durable_cron();
    resume_accepting();
    sample_ops();
}

/* Give paused clients their turn again once the WAL batch has room. */
static void resume_paused_clients(void)
{
    struct client *list;
    if (!server.paused || durable_wal_full())
        return;
    list = server.paused;
    server.paused = NULL;
    while (list) {
        struct client *c = list;
        list = c->paused_next;
        c->flags &= ~CLIENT_WAL_PAUSED;
        if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))
            continue;
        ev_add(&server.ev, c->fd, EV_READABLE, on_client_readable, c);
        process_input(c); /* may pause it again */
    }
}

void server_client_unblocked(struct client *c)
{
    if (c->flags & CLIENT_UNBLOCKED)
        return;
    c->flags |= CLIENT_UNBLOCKED;
    c->unblocked_next = server.unblocked;
    server.unblocked = c;
}

/* Time out blocked clients, then run the input that waited behind the
 * blocking commands that ended. Bounded: a resumed client that blocks
 * again is not resumed twice in one turn. */
static void resume_unblocked_clients(struct ev *ev)
{
    int64_t next = block_expire(clock_mono_us());
    struct client *list = server.unblocked;
    server.unblocked = NULL;
    while (list) {
        struct client *c = list;
        list = c->unblocked_next;
        c->flags &= ~CLIENT_UNBLOCKED;
        if (!(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_WAL_PAUSED)))
            process_input(c);
    }
    ev_wake_at(ev, next);
}

static void before_sleep(struct ev *ev, void *data)
{
    (void)data;
    resume_unblocked_clients(ev); /* before the WAL hand-off: they may write */
    /* ORDER MATTERS: hand this turn's records to the WAL thread first, so
     * the fsync starts while replies that need no fsync are written. */
    durable_before_sleep();
    /* Busy polling would wait on a core the WAL thread and the clients
     * need, for an event at least an fsync away (ev.c "Busy polling"). */
    ev->poll_skip = durable_in_flight();
    resume_paused_clients();
    write_pending_clients();
    free_closing_clients();
    if (signal_shutdown) {
        log_warning("Received %s scheduling shutdown...",
                    signal_shutdown == SIGINT ? "SIGINT" : "SIGTERM");
        server.shutdown_asap = true;
    }
    if (server.shutdown_asap)
        ev->stop = true;
}

void server_process_events_while_loading(void)
{
    ev_run_once(&server.ev);
}

void server_apply_encodings(void)
{
    hash_max_packed_entries = (size_t)server.cfg.hash_max_listpack_entries;
    hash_max_packed_value = (size_t)server.cfg.hash_max_listpack_value;
    set_max_intset_entries = (size_t)server.cfg.set_max_intset_entries;
    zset_max_packed_entries = (size_t)server.cfg.zset_max_listpack_entries;
    zset_max_packed_value = (size_t)server.cfg.zset_max_listpack_value;
}

void server_apply_loop(void)
{
    if (server.cfg.hz < HZ_MIN)
        server.cfg.hz = HZ_MIN;
    if (server.cfg.hz > HZ_MAX)
        server.cfg.hz = HZ_MAX;
    ev_set_timer(&server.ev, 1000 / server.cfg.hz, cron);
    server.ev.busy_poll_us = server.cfg.busy_poll_us;
}

static void on_signal(int sig)
{
    int saved_errno = errno;
    uint64_t one = 1;
    signal_shutdown = sig;
    if (signal_fd >= 0 && write(signal_fd, &one, sizeof(one)) < 0) {
        /* full counter (EAGAIN): a wake-up is pending already */
    }
    errno = saved_errno;
}

/* The signal eventfd is readable: drain it; before_sleep acts on the flag. */
static void on_signal_fd(struct ev *ev, int fd, void *data, unsigned mask)
{
    uint64_t count;
    (void)ev, (void)data, (void)mask;
    if (read(fd, &count, sizeof(count)) < 0) {
        /* EAGAIN: drained by an earlier turn */
    }
}

static void setup_signals(void)
{
    struct sigaction sa;
    if (errinj_no_signal_fd) {
        errno = EMFILE;
        signal_fd = -1;
    } else {
        signal_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    if (signal_fd >= 0 && ev_add(&server.ev, signal_fd, EV_READABLE, on_signal_fd, NULL) != 0) {
        close(signal_fd);
        signal_fd = -1;
    }
    if (signal_fd < 0)
        log_warning("No signal eventfd (%s): SIGTERM/SIGINT may wait for the next cron tick",
                    strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int open_tcp_listeners(void)
{
    char addrs[1024];
    char *save = NULL, *tok;
    snprintf(addrs, sizeof(addrs), "%s", server.cfg.bind);
    for (tok = strtok_r(addrs, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int fd;
        if (server.tcp_fds_count == CONFIG_BIND_MAX) {
            log_warning("Too many bind addresses (at most %d)", CONFIG_BIND_MAX);
            return -EINVAL;
        }
        fd = sock_listen_tcp(tok, server.cfg.port, 511);
        if (fd < 0) {
            log_warning("Could not create server TCP listening socket %s:%d: %s", tok,
                        server.cfg.port, strerror(-fd));
            return fd;
        }
        server.tcp_fds[server.tcp_fds_count++] = fd;
        ev_add(&server.ev, fd, EV_READABLE, on_accept, NULL);
    }
    return 0;
}

static int open_listeners(void)
{
    int rc;
    server.unix_fd = -1;
    server.tcp_fds_count = 0;
    if (server.cfg.port > 0) {
        rc = open_tcp_listeners();
        if (rc != 0)
            return rc;
    }
    if (server.cfg.unixsocket[0]) {
        server.unix_fd = sock_listen_unix(server.cfg.unixsocket,
                                          (unsigned)server.cfg.unixsocketperm, 511);
        if (server.unix_fd < 0) {
            log_warning("Failed opening Unix socket %s: %s", server.cfg.unixsocket,
                        strerror(-server.unix_fd));
            return server.unix_fd;
        }
        ev_add(&server.ev, server.unix_fd, EV_READABLE, on_accept, &server);
    }
    if (server.tcp_fds_count == 0 && server.unix_fd < 0) {
        log_warning("Configured to not listen anywhere, exiting.");
        return -EINVAL;
    }
    return 0;
}

/* Make room for maxclients descriptors, or lower maxclients to what the
 * process may open (as Redis does), with a log line either way. */
static void adjust_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)server.cfg.maxclients + FDS_RESERVED;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want) {
        int fit = rl.rlim_cur > FDS_RESERVED + 1 ? (int)(rl.rlim_cur - FDS_RESERVED) : 1;
        log_warning("You requested maxclients of %d requiring at least %llu max file "
                    "descriptors; the limit is %llu, so maxclients is now %d.",
                    server.cfg.maxclients, (unsigned long long)want,
                    (unsigned long long)rl.rlim_cur, fit);
        server.cfg.maxclients = fit;
    }
}

int server_init(void)
{
    unsigned char seed[20];
    uint64_t hash_seed;
    int rc;

    server.start_ms = clock_wall_ms();
    server.start_mono_us = clock_mono_us();
    server.stats.ops_last_us = server.start_mono_us;
    server.last_save_s = server.start_ms / 1000;
    server.next_client_id = 1;
    util_rand_bytes(seed, sizeof(seed));
    util_hex(seed, sizeof(seed), server.run_id);
    memcpy(&hash_seed, seed, sizeof(hash_seed));
    db_module_init(hash_seed);
    cmd_init();
    prefetch_init();
    multi_init();
    log_set_level((enum log_level)server.cfg.loglevel);
    rc = make_dirs(server.cfg.dir);
    if (rc != 0) {
        log_warning("Can't create the data directory '%s': %s", server.cfg.dir, strerror(-rc));
        return rc;
    }
    adjust_fd_limit();
    rc = ev_create(&server.ev, server.cfg.maxclients + FDS_RESERVED + 1024);
    if (rc != 0)
        return rc;
    server.ev.before_sleep_fn = before_sleep;
    server_apply_loop();
    server_apply_encodings();
    server.dbs = mem_calloc((size_t)server.cfg.databases * sizeof(struct db));
    for (int i = 0; i < server.cfg.databases; i++)
        db_create(&server.dbs[i], i);
    setup_signals();
    if (durable_lock() != 0)
        return -1;
    rc = open_listeners();
    if (rc != 0)
        return rc;
    if (durable_init() != 0)
        return -1;
    log_notice("engram %s (Redis %s compatible) started, pid=%d, port=%d", ENGRAM_VERSION,
               COMPAT_REDIS_VERSION, (int)getpid(), server.cfg.port);
    log_notice("Ready to accept connections");
    return 0;
}

void server_run(void)
{
    ev_run(&server.ev);
}

void server_free(void)
{
    while (server.clients) {
        struct client *c = server.clients;
        unlink_client(c);
        client_delete(c);
    }
    for (int i = 0; i < server.tcp_fds_count; i++)
        close(server.tcp_fds[i]);
    if (server.unix_fd >= 0) {
        close(server.unix_fd);
        unlink(server.cfg.unixsocket);
    }
    durable_shutdown();
#ifdef DEBUG
    /* Freeing a large keyspace takes seconds and the process is exiting:
     * only debug builds do it, so the leak checker sees a clean exit. */
    for (int i = 0; i < server.cfg.databases; i++)
        db_destroy(&server.dbs[i]);
    mem_free(server.dbs);
#endif
    ev_destroy(&server.ev);
    prefetch_free();
    log_warning("engram is now ready to exit, bye bye...");
    config_destroy(&server.cfg);
    mem_free(server.config_file);
}

/* Append arg to b quoted as Redis's MONITOR shows it. */
static void append_repr(struct buf *b, const char *p, size_t len)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '\\':
        case '"':
            buf_appendf(b, "\\%c", ch);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        case '\a':
            buf_append(b, "\\a", 2);
            break;
        case '\b':
            buf_append(b, "\\b", 2);
            break;
        default:
            if (ch >= 32 && ch < 127)
                buf_append(b, p + i, 1);
            else
                buf_appendf(b, "\\x%02x", ch);
        }
    }
    buf_append(b, "\"", 1);
}

void server_feed_monitors(struct client *c)
{
    struct buf line;
    int64_t us = clock_wall_us();
    int redact_from = 0, redact_to = 0;
    /* Passwords never reach a monitor: AUTH's arguments, HELLO's AUTH pair. */
    if (c->cmd && !strcmp(c->cmd->name, "auth")) {
        redact_from = 1;
        redact_to = c->argc;
    }
    for (int i = 2; c->cmd && !strcmp(c->cmd->name, "hello") && i + 2 < c->argc; i++) {
        if (c->argv[i].len == 4 && !strncasecmp(c->argv[i].p, "auth", 4)) {
            redact_from = i + 1;
            redact_to = i + 3;
        }
    }
    buf_create(&line);
    buf_appendf(&line, "+%lld.%06lld [%d %s%s]", (long long)(us / 1000000),
                (long long)(us % 1000000), c->db_index,
                (c->flags & CLIENT_UNIX_SOCKET) ? "unix:" : "",
                (c->flags & CLIENT_UNIX_SOCKET) ? server.cfg.unixsocket : c->addr);
    for (int i = 0; i < c->argc; i++) {
        buf_append(&line, " ", 1);
        if (redact_from > 0 && i >= redact_from && i < redact_to)
            buf_append_str(&line, "\"(redacted)\"");
        else
            append_repr(&line, c->argv[i].p, c->argv[i].len);
    }
    buf_append(&line, "\r\n", 2);
    for (struct client *m = server.clients; m; m = m->next) {
        if ((m->flags & CLIENT_MONITOR) && !(m->flags & CLIENT_CLOSE_ASAP)) {
            reply_raw(m, line.data, line.len); /* honours CLIENT REPLY OFF */
        }
    }
    buf_destroy(&line);
}
