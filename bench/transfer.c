/*
 * transfer.c - bank-transfer load generator for bench/transfer.sh (issue 4).
 *
 *   transfer init [options]   SET acct:0..acct:N-1 to the initial balance
 *   transfer run  [options]   run the transfer workload, print one result line
 *   transfer sum  [options]   print "sum=S keys=K" over all accounts
 *
 * Options: -h HOST (127.0.0.1), -p PORT (6379), -c CLIENTS (50),
 *          -j THREADS (1, at most 64 and CLIENTS), -n ACCOUNTS (10000), -b INITIAL_BALANCE (1000),
 *          -d DURATION_S (10), -w WARMUP_S (2), -s SEED (time),
 *          -t REPLY_TIMEOUT_S (10; a reply slower than this is an error)
 *
 * Design
 *   One non-blocking TCP connection (TCP_NODELAY) per client, speaking RESP
 *   directly; THREADS load threads each drive a slice of the clients with
 *   an epoll loop (as redis-benchmark and pgbench -j do: a thread per
 *   client made the 2-core machine spend a quarter of its transfers on the
 *   client threads' context switches). Each client has one request out at
 *   a time. A transfer is what a redis-py app does with pipeline.watch() /
 *   pipeline.multi(), in four round trips:
 *
 *     WATCH acct:a acct:b      -> +OK
 *     GET acct:a               -> balance(a)
 *     GET acct:b               -> balance(b)
 *     (if balance(a) < amt: UNWATCH -> +OK, counted as skipped, done)
 *     MULTI, DECRBY acct:a amt, INCRBY acct:b amt, EXEC   (one write)
 *                              -> +OK +QUEUED +QUEUED, then EXEC's reply
 *
 *   a != b are uniform over the accounts, amt is uniform in 1..10. EXEC
 *   replying a null array (*-1: a watched key changed) retries the whole
 *   transfer with the same a, b, amt, and counts a retry. EXEC replying
 *   *2 :x :y must give x == balance(a) - amt and y == balance(b) + amt, since
 *   WATCH guarantees neither key changed after the GETs; anything else is
 *   counted as a "stale" result (a WATCH bug in the server).
 *
 *   Timing: every client runs from its connect until DURATION_S after the
 *   WARMUP_S warm-up. A committed transfer counts if its EXEC reply arrives
 *   inside the measurement window [start + warmup, start + warmup +
 *   duration); its latency runs from its first WATCH to that EXEC reply,
 *   retries included. Retries and skips count by the same rule.
 *
 * Output of run (one line, key=value, for the script):
 *   committed= tps= p50_ms= p99_ms= mean_ms= max_ms= retries= skipped=
 *   stale= errors= clients= threads= rt_plain_us= rt_exec_us=
 *   The last two are mean round trips whose reply arrived in the window:
 *   rt_plain_us over WATCH, GET a and GET b (one command each), rt_exec_us
 *   over MULTI ... EXEC (sent together, until EXEC's reply is complete).
 *   On a durable server their difference is about what waiting for the
 *   EXEC's fsync adds to a transfer.
 *   Exit status 0 if no thread hit an error, 1 otherwise (the line is
 *   printed in both cases), 2 for usage errors.
 *
 * Threads
 *   Load threads share only the read-only options; each owns its clients
 *   (connection, transfer state, results), which main() reads after
 *   pthread_join(). A reply slower than REPLY_TIMEOUT_S is an error, checked
 *   every TIMEOUT_CHECK_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_BYTES 65536
#define REPLY_STR_BYTES 256
#define BATCH_KEYS 500   /* keys per MSET / MGET in init and sum */
#define ERRORS_SHOWN_MAX 5 /* error messages printed per client */
#define AMOUNT_MAX 10
#define EPOLL_EVENTS_MAX 64
#define TIMEOUT_CHECK_MS 100 /* how often a load thread looks for late replies */
#define THREADS_MAX 64

struct options {
    const char *host;
    int port;
    int clients;
    int threads;
    int accounts;
    long long initial;
    double duration_s;
    double warmup_s;
    uint64_t seed;
    int timeout_s;
};

struct conn {
    int fd;
    size_t rpos, rlen;
    char rbuf[READ_BUF_BYTES];
};

/* One parsed RESP reply header. '+' '-': str; ':': n; '$': n = length (-1
 * for nil), str = the first REPLY_STR_BYTES - 1 bytes; '*': n = count. */
struct reply {
    char type;
    long long n;
    char str[REPLY_STR_BYTES];
};

struct wbuf {
    char *p;
    size_t len, cap;
};

/* One client: its connection, the transfer it is running, its results. */
struct worker {
    int index;
    const struct options *opt;
    uint64_t t_start_ns, t_end_ns; /* measurement window, CLOCK_MONOTONIC */
    uint64_t rng;
    struct conn conn;
    struct wbuf out;   /* the request being sent */
    int step;          /* enum step: the reply awaited */
    int pending;       /* replies still awaited for this step */
    uint64_t sent_ns;  /* when the request went out (reply timeout) */
    bool finished;     /* the window is over; the client stops */
    /* the transfer in progress */
    char ka[32], kb[32], samt[32];
    long long amt, bal_a, bal_b, x, y;
    uint64_t t0;          /* its first WATCH */
    uint64_t retries_now; /* its null EXECs so far */
    /* results */
    uint64_t committed, retries, skipped, stale, errors;
    uint64_t rt_ns[2], rt_n[2]; /* round trips in the window: RT_PLAIN, RT_EXEC */
    uint32_t *lat_us; /* owned; one entry per committed transfer */
    size_t lat_count, lat_cap;
};

/* One load thread and the clients it drives. */
struct loop {
    pthread_t tid;
    struct worker *ws;
    int count;
    int ep;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) /* xorshift64* */
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void die_oom(void)
{
    fprintf(stderr, "transfer: out of memory\n");
    exit(1);
}

/* ------------------------------------------------------------ connection --- */

/* Returns 0 or -1 (message printed). */
static int conn_open(struct conn *c, const struct options *opt)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[16];
    int rc, one = 1;

    c->fd = -1;
    c->rpos = c->rlen = 0;
    snprintf(port, sizeof(port), "%d", opt->port);
    rc = getaddrinfo(opt->host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "transfer: %s: %s\n", opt->host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            c->fd = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        fprintf(stderr, "transfer: connect %s:%d: %s\n", opt->host, opt->port, strerror(errno));
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {.tv_sec = opt->timeout_s, .tv_usec = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int conn_write(struct conn *c, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Refill the read buffer. Returns 0, or -1 on EOF, error or timeout. */
static int conn_fill(struct conn *c)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == sizeof(c->rbuf))
        return -1; /* a line longer than the buffer: not a reply we expect */
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            return 0;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = ECONNRESET;
        return -1;
    }
}

/* Parse one reply header (and a bulk string's body) from p[0..len). Returns
 * the bytes it takes, 0 if p holds only part of it, -1 on a protocol error. */
static long reply_parse(const char *p, size_t len, struct reply *r)
{
    const char *nl = memchr(p, '\n', len);
    char num[32], *end;

    if (nl == NULL)
        return len < READ_BUF_BYTES ? 0 : -1; /* a line longer than the buffer */
    size_t l = (size_t)(nl - p);
    if (l < 2 || nl[-1] != '\r')
        return -1;
    size_t body = l - 2; /* bytes after the type byte, before CR */
    r->type = p[0];
    r->n = 0;
    r->str[0] = '\0';
    switch (r->type) {
    case '+':
    case '-':
        snprintf(r->str, sizeof(r->str), "%.*s",
                 (int)(body < sizeof(r->str) ? body : sizeof(r->str) - 1), p + 1);
        return (long)l + 1;
    case ':':
    case '*':
    case '$':
        if (body == 0 || body >= sizeof(num))
            return -1;
        memcpy(num, p + 1, body);
        num[body] = '\0';
        errno = 0;
        r->n = strtoll(num, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1;
        break;
    default:
        return -1;
    }
    if (r->type != '$' || r->n < 0)
        return (long)l + 1;
    if (r->n > READ_BUF_BYTES)
        return -1; /* no reply of this workload is that long */
    size_t total = l + 1 + (size_t)r->n + 2;
    if (total > READ_BUF_BYTES)
        return -1; /* could never fit in the read buffer */
    if (len < total)
        return 0;
    if (p[total - 2] != '\r' || p[total - 1] != '\n')
        return -1;
    size_t cp = (size_t)r->n < sizeof(r->str) ? (size_t)r->n : sizeof(r->str) - 1;
    memcpy(r->str, nl + 1, cp);
    r->str[cp] = '\0';
    return (long)total;
}

/* Read one reply (blocking). Returns 0 or -1. */
static int conn_read_reply(struct conn *c, struct reply *r)
{
    for (;;) {
        long n = reply_parse(c->rbuf + c->rpos, c->rlen - c->rpos, r);
        if (n > 0) {
            c->rpos += (size_t)n;
            return 0;
        }
        if (n < 0 || conn_fill(c) != 0)
            return -1;
    }
}

/* ------------------------------------------------------- command encoding --- */

static void wbuf_reserve(struct wbuf *w, size_t more)
{
    if (w->len + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + more)
        cap *= 2;
    char *p = realloc(w->p, cap);
    if (p == NULL)
        die_oom();
    w->p = p;
    w->cap = cap;
}

static void wbuf_add(struct wbuf *w, const char *s, size_t len)
{
    wbuf_reserve(w, len);
    memcpy(w->p + w->len, s, len);
    w->len += len;
}

static void wbuf_fmt_head(struct wbuf *w, char type, size_t n)
{
    char tmp[32];
    int l = snprintf(tmp, sizeof(tmp), "%c%zu\r\n", type, n);
    wbuf_add(w, tmp, (size_t)l);
}

static void wbuf_arg(struct wbuf *w, const char *s)
{
    size_t len = strlen(s);
    wbuf_fmt_head(w, '$', len);
    wbuf_add(w, s, len);
    wbuf_add(w, "\r\n", 2);
}

/* Append one command; args are NUL-terminated strings. */
static void wbuf_cmd(struct wbuf *w, int argc, const char *const *argv)
{
    wbuf_fmt_head(w, '*', (size_t)argc);
    for (int i = 0; i < argc; i++)
        wbuf_arg(w, argv[i]);
}

static bool reply_is(const struct reply *r, char type, const char *str)
{
    return r->type == type && strcmp(r->str, str) == 0;
}

static bool parse_ll(const char *s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && end != s && *end == '\0';
}

/* ------------------------------------------------------------- transfers --- */

/* Where a client is in its transfer: the replies it waits for. */
enum step {
    STEP_WATCH,   /* +OK to WATCH a b */
    STEP_GET_A,   /* balance(a) */
    STEP_GET_B,   /* balance(b) */
    STEP_UNWATCH, /* +OK to UNWATCH (balance too low: skipped) */
    STEP_QUEUED,  /* +OK +QUEUED +QUEUED to MULTI DECRBY INCRBY */
    STEP_EXEC,    /* EXEC's header: *2 or *-1 */
    STEP_EXEC_X,  /* EXEC's first element, DECRBY's result */
    STEP_EXEC_Y,  /* EXEC's second element, INCRBY's result */
};

/* Round-trip kinds (output rt_plain_us, rt_exec_us). */
enum { RT_PLAIN, RT_EXEC };

static bool in_window(const struct worker *w, uint64_t t)
{
    return t >= w->t_start_ns && t < w->t_end_ns;
}

/* The reply completing the request sent at w->sent_ns arrived now. */
static void round_trip_done(struct worker *w, int kind)
{
    uint64_t t = now_ns();
    if (in_window(w, t)) {
        w->rt_ns[kind] += t - w->sent_ns;
        w->rt_n[kind]++;
    }
}

static void worker_error(struct worker *w, const char *what, const struct reply *r)
{
    if (w->errors < ERRORS_SHOWN_MAX) {
        if (r != NULL)
            fprintf(stderr, "transfer: client %d: %s: got %c%s (n=%lld)\n", w->index, what,
                    r->type ? r->type : '?', r->str, r->n);
        else
            fprintf(stderr, "transfer: client %d: %s: %s\n", w->index, what, strerror(errno));
    }
    w->errors++;
}

static void worker_record(struct worker *w, uint64_t lat_ns)
{
    if (w->lat_count == w->lat_cap) {
        size_t cap = w->lat_cap ? w->lat_cap * 2 : 4096;
        uint32_t *p = realloc(w->lat_us, cap * sizeof(*p));
        if (p == NULL)
            die_oom();
        w->lat_us = p;
        w->lat_cap = cap;
    }
    uint64_t us = lat_ns / 1000;
    w->lat_us[w->lat_count++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Send what w->out holds and wait for `step`. The socket is non-blocking;
 * a client has at most one request (under 200 bytes) unanswered, so the
 * send buffer always has room: a short send is reported as an error rather
 * than queued. Returns 0 or -1 (counted). */
static int worker_send(struct worker *w, enum step step)
{
    ssize_t n = send(w->conn.fd, w->out.p, w->out.len, MSG_NOSIGNAL);
    if (n != (ssize_t)w->out.len) {
        if (n >= 0)
            errno = EMSGSIZE;
        worker_error(w, "send", NULL);
        return -1;
    }
    w->step = step;
    w->pending = step == STEP_QUEUED ? 3 : 1;
    w->sent_ns = now_ns();
    return 0;
}

static int send_cmd(struct worker *w, int argc, const char *const *argv, enum step step)
{
    w->out.len = 0;
    wbuf_cmd(&w->out, argc, argv);
    return worker_send(w, step);
}

/* Start the current transfer (again, after a null EXEC): WATCH a b. */
static int transfer_watch(struct worker *w)
{
    const char *watch[] = {"WATCH", w->ka, w->kb};
    return send_cmd(w, 3, watch, STEP_WATCH);
}

/* Pick a new transfer and start it. */
static int transfer_begin(struct worker *w)
{
    const int n = w->opt->accounts;
    int a = (int)(rng_next(&w->rng) % (uint64_t)n);
    int b = (int)(rng_next(&w->rng) % (uint64_t)(n - 1));
    if (b >= a)
        b++;
    w->amt = 1 + (long long)(rng_next(&w->rng) % AMOUNT_MAX);
    snprintf(w->ka, sizeof(w->ka), "acct:%d", a);
    snprintf(w->kb, sizeof(w->kb), "acct:%d", b);
    snprintf(w->samt, sizeof(w->samt), "%lld", w->amt);
    w->t0 = now_ns();
    w->retries_now = 0;
    return transfer_watch(w);
}

/* The transfer ended (committed or skipped) at t1. */
static int transfer_done(struct worker *w, uint64_t t1, bool committed, bool stale)
{
    if (stale && w->stale < ERRORS_SHOWN_MAX)
        fprintf(stderr,
                "transfer: client %d: WATCH violated: read %s=%lld %s=%lld, amt %lld, "
                "EXEC gave %lld %lld\n",
                w->index, w->ka, w->bal_a, w->kb, w->bal_b, w->amt, w->x, w->y);
    if (in_window(w, t1)) {
        w->retries += w->retries_now;
        w->stale += stale;
        if (committed) {
            w->committed++;
            worker_record(w, t1 - w->t0);
        } else {
            w->skipped++;
        }
    } else if (stale) {
        w->stale++;
    }
    if (t1 >= w->t_end_ns) {
        w->finished = true;
        return 0;
    }
    return transfer_begin(w);
}

/* A GET's reply: the balance into *bal. */
static int take_balance(struct worker *w, const struct reply *r, long long *bal)
{
    if (r->type != '$' || r->n < 0 || !parse_ll(r->str, bal)) {
        worker_error(w, "GET (expected an integer balance)", r);
        return -1;
    }
    return 0;
}

/* One reply for the client's current step. Returns 0 or -1 (counted: the
 * client stops, its connection is closed). */
static int worker_reply(struct worker *w, const struct reply *r)
{
    static const char *const queued[] = {"OK", "QUEUED", "QUEUED"};
    const char *get_b[] = {"GET", w->kb};

    switch (w->step) {
    case STEP_WATCH:
        if (!reply_is(r, '+', "OK")) {
            worker_error(w, "WATCH", r);
            return -1;
        }
        round_trip_done(w, RT_PLAIN);
        const char *get_a[] = {"GET", w->ka};
        return send_cmd(w, 2, get_a, STEP_GET_A);
    case STEP_GET_A:
        if (take_balance(w, r, &w->bal_a) != 0)
            return -1;
        round_trip_done(w, RT_PLAIN);
        return send_cmd(w, 2, get_b, STEP_GET_B);
    case STEP_GET_B:
        if (take_balance(w, r, &w->bal_b) != 0)
            return -1;
        round_trip_done(w, RT_PLAIN);
        if (w->bal_a < w->amt) {
            const char *unwatch[] = {"UNWATCH"};
            return send_cmd(w, 1, unwatch, STEP_UNWATCH);
        }
        const char *multi[] = {"MULTI"};
        const char *decrby[] = {"DECRBY", w->ka, w->samt};
        const char *incrby[] = {"INCRBY", w->kb, w->samt};
        const char *exec[] = {"EXEC"};
        w->out.len = 0;
        wbuf_cmd(&w->out, 1, multi);
        wbuf_cmd(&w->out, 3, decrby);
        wbuf_cmd(&w->out, 3, incrby);
        wbuf_cmd(&w->out, 1, exec);
        return worker_send(w, STEP_QUEUED);
    case STEP_UNWATCH:
        if (!reply_is(r, '+', "OK")) {
            worker_error(w, "UNWATCH", r);
            return -1;
        }
        return transfer_done(w, now_ns(), false, false);
    case STEP_QUEUED:
        if (!reply_is(r, '+', queued[3 - w->pending])) {
            worker_error(w, w->pending == 3 ? "MULTI" : "queueing DECRBY/INCRBY", r);
            return -1;
        }
        if (--w->pending == 0) {
            w->step = STEP_EXEC;
            w->pending = 1;
        }
        return 0;
    case STEP_EXEC:
        if (r->type == '*' && r->n == -1) {
            round_trip_done(w, RT_EXEC);
            w->retries_now++;
            return transfer_watch(w);
        }
        if (r->type != '*' || r->n != 2) {
            worker_error(w, "EXEC (expected *2 or *-1)", r);
            return -1;
        }
        w->step = STEP_EXEC_X;
        return 0;
    case STEP_EXEC_X:
    case STEP_EXEC_Y:
        if (r->type != ':') {
            worker_error(w, "EXEC elements (expected two integers)", r);
            return -1;
        }
        if (w->step == STEP_EXEC_X) {
            w->x = r->n;
            w->step = STEP_EXEC_Y;
            return 0;
        }
        w->y = r->n;
        round_trip_done(w, RT_EXEC);
        return transfer_done(w, now_ns(), true,
                             w->x != w->bal_a - w->amt || w->y != w->bal_b + w->amt);
    }
    return -1;
}

/* The client's socket is readable: take what arrived and act on every
 * complete reply. Returns 0, or -1 when the client is done with (finished
 * or failed). */
static int worker_readable(struct worker *w)
{
    struct conn *c = &w->conn;
    struct reply r;
    long n;

    if (c->rpos > 0 && c->rpos == c->rlen)
        c->rpos = c->rlen = 0;
    ssize_t got = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
    if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (got == 0)
            errno = ECONNRESET;
        worker_error(w, "recv", NULL);
        return -1;
    }
    c->rlen += (size_t)got;
    while ((n = reply_parse(c->rbuf + c->rpos, c->rlen - c->rpos, &r)) > 0) {
        c->rpos += (size_t)n;
        if (worker_reply(w, &r) != 0)
            return -1;
        if (w->finished)
            return -1;
    }
    if (n < 0) {
        errno = EPROTO;
        worker_error(w, "reply", NULL);
        return -1;
    }
    if (c->rpos > 0) { /* keep a partial reply at the buffer's start */
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    return 0;
}

/* One load thread: an epoll loop over its share of the clients (a
 * contiguous slice: cmd_run), each a non-blocking connection running one
 * transfer at a time. Ends when every client has finished or failed. */
static void *loop_main(void *arg)
{
    struct loop *l = arg;
    struct epoll_event evs[EPOLL_EVENTS_MAX];
    int active = 0;
    uint64_t last_check = now_ns();

    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        perror("transfer: epoll_create1");
        for (int i = 0; i < l->count; i++)
            l->ws[i].errors++;
        return NULL;
    }
    for (int i = 0; i < l->count; i++) {
        struct worker *w = &l->ws[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (conn_open(&w->conn, w->opt) != 0) {
            w->errors++;
            continue;
        }
        if (fcntl(w->conn.fd, F_SETFL, O_NONBLOCK) != 0 ||
            epoll_ctl(l->ep, EPOLL_CTL_ADD, w->conn.fd, &ev) != 0) {
            worker_error(w, "setting up the connection", NULL);
            conn_close(&w->conn);
            continue;
        }
        if (transfer_begin(w) != 0) { /* counted by worker_send */
            conn_close(&w->conn);
            continue;
        }
        active++;
    }
    while (active > 0) {
        int n = epoll_wait(l->ep, evs, EPOLL_EVENTS_MAX, TIMEOUT_CHECK_MS);
        if (n < 0 && errno != EINTR) {
            perror("transfer: epoll_wait");
            for (int i = 0; i < l->count; i++)
                if (l->ws[i].conn.fd >= 0)
                    l->ws[i].errors++; /* its results stop here */
            break;
        }
        for (int i = 0; i < n; i++) {
            struct worker *w = evs[i].data.ptr;
            if (w->conn.fd >= 0 && worker_readable(w) != 0) {
                conn_close(&w->conn); /* also leaves the epoll set */
                active--;
            }
        }
        uint64_t now = now_ns();
        if (now - last_check < TIMEOUT_CHECK_MS * 1000000ull)
            continue;
        last_check = now;
        for (int i = 0; i < l->count; i++) {
            struct worker *w = &l->ws[i];
            if (w->conn.fd >= 0 && now - w->sent_ns > (uint64_t)w->opt->timeout_s * 1000000000ull) {
                errno = ETIMEDOUT;
                worker_error(w, "reply timeout", NULL);
                conn_close(&w->conn);
                active--;
            }
        }
    }
    for (int i = 0; i < l->count; i++) {
        conn_close(&l->ws[i].conn);
        free(l->ws[i].out.p);
    }
    close(l->ep);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n-1], in ms. */
static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1] / 1000.0;
}

static int cmd_run(const struct options *opt)
{
    struct worker *ws = calloc((size_t)opt->clients, sizeof(*ws));
    struct loop *loops = calloc((size_t)opt->threads, sizeof(*loops));
    uint64_t t0 = now_ns();
    uint64_t t_start = t0 + (uint64_t)(opt->warmup_s * 1e9);
    uint64_t t_end = t_start + (uint64_t)(opt->duration_s * 1e9);
    int started = 0, rc = 0;

    if (ws == NULL || loops == NULL)
        die_oom();
    for (int i = 0; i < opt->clients; i++) {
        ws[i].index = i;
        ws[i].opt = opt;
        ws[i].t_start_ns = t_start;
        ws[i].t_end_ns = t_end;
        ws[i].conn.fd = -1;
        ws[i].rng = opt->seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0xBF58476D1CE4E5B9ull + 1;
    }
    /* Thread t drives clients [t * clients / threads, (t + 1) * clients / threads). */
    for (int t = 0; t < opt->threads; t++) {
        int lo = t * opt->clients / opt->threads, hi = (t + 1) * opt->clients / opt->threads;
        loops[t].ws = ws + lo;
        loops[t].count = hi - lo;
        if (pthread_create(&loops[t].tid, NULL, loop_main, &loops[t]) != 0) {
            fprintf(stderr, "transfer: pthread_create failed\n");
            rc = 1;
            break;
        }
        started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(loops[t].tid, NULL);
    free(loops);

    uint64_t committed = 0, retries = 0, skipped = 0, stale = 0, errors = 0;
    uint64_t rt_ns[2] = {0, 0}, rt_n[2] = {0, 0};
    size_t nlat = 0;
    for (int i = 0; i < opt->clients; i++) {
        for (int j = 0; j < 2; j++) {
            rt_ns[j] += ws[i].rt_ns[j];
            rt_n[j] += ws[i].rt_n[j];
        }
        committed += ws[i].committed;
        retries += ws[i].retries;
        skipped += ws[i].skipped;
        stale += ws[i].stale;
        errors += ws[i].errors;
        nlat += ws[i].lat_count;
    }
    uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof(*lat));
    if (lat == NULL)
        die_oom();
    size_t k = 0;
    double sum_ms = 0.0;
    for (int i = 0; i < opt->clients; i++) {
        memcpy(lat + k, ws[i].lat_us, ws[i].lat_count * sizeof(*lat));
        k += ws[i].lat_count;
        free(ws[i].lat_us);
    }
    for (size_t i = 0; i < nlat; i++)
        sum_ms += lat[i] / 1000.0;
    qsort(lat, nlat, sizeof(*lat), cmp_u32);

    printf("committed=%" PRIu64 " tps=%.1f p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f max_ms=%.3f "
           "retries=%" PRIu64 " skipped=%" PRIu64 " stale=%" PRIu64 " errors=%" PRIu64
           " clients=%d threads=%d rt_plain_us=%.1f rt_exec_us=%.1f\n",
           committed, (double)committed / opt->duration_s, pct_ms(lat, nlat, 50.0),
           pct_ms(lat, nlat, 99.0), nlat ? sum_ms / (double)nlat : 0.0,
           nlat ? lat[nlat - 1] / 1000.0 : 0.0, retries, skipped, stale, errors, opt->clients,
           opt->threads, rt_n[RT_PLAIN] ? rt_ns[RT_PLAIN] / 1e3 / (double)rt_n[RT_PLAIN] : 0.0,
           rt_n[RT_EXEC] ? rt_ns[RT_EXEC] / 1e3 / (double)rt_n[RT_EXEC] : 0.0);
    fflush(stdout);
    free(lat);
    free(ws);
    return rc != 0 || errors != 0 || stale != 0 ? 1 : 0;
}

/* ------------------------------------------------------------ init / sum --- */

static int cmd_init(const struct options *opt)
{
    struct conn *c = malloc(sizeof(*c));
    struct wbuf out = {0};
    struct reply r;
    char bal[32];
    int rc = 0, batches = 0;

    if (c == NULL)
        die_oom();
    if (conn_open(c, opt) != 0) {
        free(c);
        return 1;
    }
    snprintf(bal, sizeof(bal), "%lld", opt->initial);
    for (int i = 0; i < opt->accounts; i += BATCH_KEYS) {
        int n = opt->accounts - i < BATCH_KEYS ? opt->accounts - i : BATCH_KEYS;
        char key[32];
        wbuf_fmt_head(&out, '*', (size_t)(1 + 2 * n));
        wbuf_arg(&out, "MSET");
        for (int j = 0; j < n; j++) {
            snprintf(key, sizeof(key), "acct:%d", i + j);
            wbuf_arg(&out, key);
            wbuf_arg(&out, bal);
        }
        batches++;
    }
    if (conn_write(c, out.p, out.len) != 0) {
        fprintf(stderr, "transfer: init: write: %s\n", strerror(errno));
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < batches; i++) {
        if (conn_read_reply(c, &r) != 0 || !reply_is(&r, '+', "OK")) {
            fprintf(stderr, "transfer: init: MSET failed (%c%s)\n", r.type ? r.type : '?',
                    r.str);
            rc = 1;
        }
    }
    conn_close(c);
    free(c);
    free(out.p);
    return rc;
}

static int cmd_sum(const struct options *opt)
{
    struct conn *c = malloc(sizeof(*c));
    struct wbuf out = {0};
    struct reply r;
    long long sum = 0, keys = 0, bad = 0;
    int rc = 0;

    if (c == NULL)
        die_oom();
    if (conn_open(c, opt) != 0) {
        free(c);
        return 1;
    }
    for (int i = 0; rc == 0 && i < opt->accounts; i += BATCH_KEYS) {
        int n = opt->accounts - i < BATCH_KEYS ? opt->accounts - i : BATCH_KEYS;
        char key[32];
        out.len = 0;
        wbuf_fmt_head(&out, '*', (size_t)(1 + n));
        wbuf_arg(&out, "MGET");
        for (int j = 0; j < n; j++) {
            snprintf(key, sizeof(key), "acct:%d", i + j);
            wbuf_arg(&out, key);
        }
        if (conn_write(c, out.p, out.len) != 0 || conn_read_reply(c, &r) != 0 ||
            r.type != '*' || r.n != n) {
            fprintf(stderr, "transfer: sum: MGET failed\n");
            rc = 1;
            break;
        }
        for (int j = 0; j < n; j++) {
            long long v;
            if (conn_read_reply(c, &r) != 0) {
                rc = 1;
                break;
            }
            if (r.type == '$' && r.n >= 0 && parse_ll(r.str, &v)) {
                sum += v;
                keys++;
            } else if (!(r.type == '$' && r.n < 0)) {
                bad++;
            }
        }
    }
    conn_close(c);
    free(c);
    free(out.p);
    if (rc == 0)
        printf("sum=%lld keys=%lld bad=%lld\n", sum, keys, bad);
    return rc;
}

/* ------------------------------------------------------------------ main --- */

static void usage(void)
{
    fprintf(stderr, "usage: transfer init|run|sum [-h host] [-p port] [-c clients] [-j threads] "
                    "[-n accounts] [-b balance] [-d duration_s] [-w warmup_s] [-s seed] "
                    "[-t timeout_s]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options opt = {
        .host = "127.0.0.1",
        .port = 6379,
        .clients = 50,
        .threads = 1,
        .accounts = 10000,
        .initial = 1000,
        .duration_s = 10.0,
        .warmup_s = 2.0,
        .seed = (uint64_t)time(NULL),
        .timeout_s = 10,
    };
    int ch;

    if (argc < 2)
        usage();
    const char *mode = argv[1];
    optind = 2;
    while ((ch = getopt(argc, argv, "h:p:c:j:n:b:d:w:s:t:")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.clients = atoi(optarg); break;
        case 'j': opt.threads = atoi(optarg); break;
        case 'n': opt.accounts = atoi(optarg); break;
        case 'b': opt.initial = atoll(optarg); break;
        case 'd': opt.duration_s = atof(optarg); break;
        case 'w': opt.warmup_s = atof(optarg); break;
        case 's': opt.seed = strtoull(optarg, NULL, 10); break;
        case 't': opt.timeout_s = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind != argc || opt.port <= 0 || opt.port > 65535 || opt.clients < 1 ||
        opt.threads < 1 || opt.threads > THREADS_MAX || opt.threads > opt.clients ||
        opt.accounts < 2 || opt.duration_s <= 0 || opt.warmup_s < 0 || opt.timeout_s < 1)
        usage();
    if (strcmp(mode, "init") == 0)
        return cmd_init(&opt);
    if (strcmp(mode, "run") == 0)
        return cmd_run(&opt);
    if (strcmp(mode, "sum") == 0)
        return cmd_sum(&opt);
    usage();
    return 2;
}
