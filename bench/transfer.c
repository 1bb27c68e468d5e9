/*
 * transfer.c - bank-transfer load generator for bench/transfer.sh (issue 4).
 *
 *   transfer init [options]   SET acct:0..acct:N-1 to the initial balance
 *   transfer run  [options]   run the transfer workload, print one result line
 *   transfer sum  [options]   print "sum=S keys=K" over all accounts
 *
 * Options: -h HOST (127.0.0.1), -p PORT (6379), -c CLIENTS (50),
 *          -n ACCOUNTS (10000), -b INITIAL_BALANCE (1000),
 *          -d DURATION_S (10), -w WARMUP_S (2), -s SEED (time),
 *          -t REPLY_TIMEOUT_S (10; a reply slower than this is an error)
 *
 * Design
 *   One thread and one blocking TCP connection (TCP_NODELAY) per client,
 *   speaking RESP directly. A transfer is what a redis-py app does with
 *   pipeline.watch() / pipeline.multi(), in four round trips:
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
 *   Timing: every thread runs from its connect until DURATION_S after the
 *   WARMUP_S warm-up. A committed transfer counts if its EXEC reply arrives
 *   inside the measurement window [start + warmup, start + warmup +
 *   duration); its latency runs from its first WATCH to that EXEC reply,
 *   retries included. Retries and skips count by the same rule.
 *
 * Output of run (one line, key=value, for the script):
 *   committed= tps= p50_ms= p99_ms= mean_ms= max_ms= retries= skipped=
 *   stale= errors= clients=
 *   Exit status 0 if no thread hit an error, 1 otherwise (the line is
 *   printed in both cases), 2 for usage errors.
 *
 * Threads
 *   Workers share only the read-only options; each owns its connection and
 *   its result struct, which main() reads after pthread_join().
 */
#include <errno.h>
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
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_BYTES 65536
#define REPLY_STR_BYTES 256
#define BATCH_KEYS 500   /* keys per MSET / MGET in init and sum */
#define ERRORS_SHOWN_MAX 5 /* error messages printed per thread */
#define AMOUNT_MAX 10

struct options {
    const char *host;
    int port;
    int clients;
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

struct worker {
    pthread_t tid;
    int index;
    const struct options *opt;
    uint64_t t_start_ns, t_end_ns; /* measurement window, CLOCK_MONOTONIC */
    uint64_t rng;
    /* results */
    uint64_t committed, retries, skipped, stale, errors;
    uint32_t *lat_us; /* owned; one entry per committed transfer */
    size_t lat_count, lat_cap;
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

/* Read one CRLF-terminated line; *line points into the buffer (NUL-terminated
 * in place of the CR), valid until the next read. Returns 0 or -1. */
static int conn_read_line(struct conn *c, char **line, size_t *len)
{
    for (;;) {
        char *start = c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
        if (nl != NULL) {
            size_t l = (size_t)(nl - start);
            if (l == 0 || nl[-1] != '\r')
                return -1;
            nl[-1] = '\0';
            *line = start;
            *len = l - 1;
            c->rpos += l + 1;
            return 0;
        }
        if (conn_fill(c) != 0)
            return -1;
    }
}

/* Read one reply header (and a bulk string's body). Returns 0 or -1. */
static int conn_read_reply(struct conn *c, struct reply *r)
{
    char *line, *end;
    size_t len;

    if (conn_read_line(c, &line, &len) != 0 || len == 0)
        return -1;
    r->type = line[0];
    r->n = 0;
    r->str[0] = '\0';
    switch (r->type) {
    case '+':
    case '-':
        snprintf(r->str, sizeof(r->str), "%s", line + 1);
        return 0;
    case ':':
    case '*':
    case '$':
        errno = 0;
        r->n = strtoll(line + 1, &end, 10);
        if (errno != 0 || *end != '\0' || end == line + 1)
            return -1;
        break;
    default:
        return -1;
    }
    if (r->type != '$' || r->n < 0)
        return 0;
    size_t want = (size_t)r->n + 2, copied = 0;
    while (want > 0) {
        if (c->rpos == c->rlen && conn_fill(c) != 0)
            return -1;
        size_t take = c->rlen - c->rpos;
        if (take > want)
            take = want;
        size_t room = sizeof(r->str) - 1 - copied;
        size_t body_left = want > 2 ? want - 2 : 0;
        size_t cp = take < room ? take : room;
        if (cp > body_left)
            cp = body_left;
        memcpy(r->str + copied, c->rbuf + c->rpos, cp);
        copied += cp;
        c->rpos += take;
        want -= take;
    }
    r->str[copied] = '\0';
    return 0;
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

static void worker_error(struct worker *w, const char *what, const struct reply *r)
{
    if (w->errors < ERRORS_SHOWN_MAX) {
        if (r != NULL)
            fprintf(stderr, "transfer: client %d: %s: got %c%s (n=%lld)\n", w->index, what,
                    r->type ? r->type : '?', r->str, r->n);
        else
            fprintf(stderr, "transfer: client %d: %s: %s\n", w->index, what,
                    errno == EAGAIN || errno == EWOULDBLOCK ? "reply timeout" : strerror(errno));
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

/* GET key; *bal gets the balance. Returns 0, or -1 (counted as an error). */
static int get_balance(struct worker *w, struct conn *c, struct wbuf *out, const char *key,
                       long long *bal)
{
    struct reply r;
    const char *get[] = {"GET", key};

    out->len = 0;
    wbuf_cmd(out, 2, get);
    if (conn_write(c, out->p, out->len) != 0 || conn_read_reply(c, &r) != 0) {
        worker_error(w, "GET", NULL);
        return -1;
    }
    if (r.type != '$' || r.n < 0 || !parse_ll(r.str, bal)) {
        worker_error(w, "GET (expected an integer balance)", &r);
        return -1;
    }
    return 0;
}

/* One transfer, retried until EXEC commits or the balance check skips it.
 * Returns 0, or -1 after a protocol or I/O error (the connection is then
 * unusable: the caller stops). */
static int do_transfer(struct worker *w, struct conn *c, struct wbuf *out)
{
    const int n = w->opt->accounts;
    int a = (int)(rng_next(&w->rng) % (uint64_t)n);
    int b = (int)(rng_next(&w->rng) % (uint64_t)(n - 1));
    if (b >= a)
        b++;
    long long amt = 1 + (long long)(rng_next(&w->rng) % AMOUNT_MAX);
    char ka[32], kb[32], samt[32];
    snprintf(ka, sizeof(ka), "acct:%d", a);
    snprintf(kb, sizeof(kb), "acct:%d", b);
    snprintf(samt, sizeof(samt), "%lld", amt);

    const char *watch[] = {"WATCH", ka, kb};
    const char *unwatch[] = {"UNWATCH"};
    const char *multi[] = {"MULTI"};
    const char *decrby[] = {"DECRBY", ka, samt};
    const char *incrby[] = {"INCRBY", kb, samt};
    const char *exec[] = {"EXEC"};
    struct reply r, x, y;
    uint64_t t0 = now_ns();
    uint64_t retries = 0;

    for (;;) {
        long long bal_a, bal_b;

        out->len = 0;
        wbuf_cmd(out, 3, watch);
        if (conn_write(c, out->p, out->len) != 0 || conn_read_reply(c, &r) != 0) {
            worker_error(w, "WATCH", NULL);
            return -1;
        }
        if (!reply_is(&r, '+', "OK")) {
            worker_error(w, "WATCH", &r);
            return -1;
        }
        if (get_balance(w, c, out, ka, &bal_a) != 0 || get_balance(w, c, out, kb, &bal_b) != 0)
            return -1;

        if (bal_a < amt) {
            out->len = 0;
            wbuf_cmd(out, 1, unwatch);
            if (conn_write(c, out->p, out->len) != 0 || conn_read_reply(c, &r) != 0) {
                worker_error(w, "UNWATCH", NULL);
                return -1;
            }
            if (!reply_is(&r, '+', "OK")) {
                worker_error(w, "UNWATCH", &r);
                return -1;
            }
            uint64_t t1 = now_ns();
            if (t1 >= w->t_start_ns && t1 < w->t_end_ns) {
                w->skipped++;
                w->retries += retries;
            }
            return 0;
        }

        out->len = 0;
        wbuf_cmd(out, 1, multi);
        wbuf_cmd(out, 3, decrby);
        wbuf_cmd(out, 3, incrby);
        wbuf_cmd(out, 1, exec);
        if (conn_write(c, out->p, out->len) != 0) {
            worker_error(w, "MULTI ... EXEC (write)", NULL);
            return -1;
        }
        static const char *const expect[] = {"OK", "QUEUED", "QUEUED"};
        for (int i = 0; i < 3; i++) {
            if (conn_read_reply(c, &r) != 0) {
                worker_error(w, "MULTI/DECRBY/INCRBY", NULL);
                return -1;
            }
            if (!reply_is(&r, '+', expect[i])) {
                worker_error(w, i == 0 ? "MULTI" : "queueing DECRBY/INCRBY", &r);
                /* Leave the connection usable: drain the rest. */
                for (int j = i + 1; j < 4; j++) {
                    if (conn_read_reply(c, &r) != 0)
                        return -1;
                    if (r.type == '*') /* EXEC's reply: drain its elements */
                        for (long long k = 0; k < r.n; k++)
                            if (conn_read_reply(c, &x) != 0)
                                return -1;
                }
                return -1;
            }
        }
        if (conn_read_reply(c, &r) != 0) {
            worker_error(w, "EXEC", NULL);
            return -1;
        }
        if (r.type == '*' && r.n == -1) {
            retries++;
            continue;
        }
        if (r.type != '*' || r.n != 2) {
            worker_error(w, "EXEC (expected *2 or *-1)", &r);
            if (r.type == '*')
                for (long long k = 0; k < r.n; k++)
                    if (conn_read_reply(c, &x) != 0)
                        return -1;
            return -1;
        }
        if (conn_read_reply(c, &x) != 0 || conn_read_reply(c, &y) != 0) {
            worker_error(w, "EXEC elements", NULL);
            return -1;
        }
        uint64_t t1 = now_ns();
        if (x.type != ':' || y.type != ':') {
            worker_error(w, "EXEC elements (expected two integers)", x.type != ':' ? &x : &y);
            return -1;
        }
        bool stale = x.n != bal_a - amt || y.n != bal_b + amt;
        if (stale && w->stale < ERRORS_SHOWN_MAX)
            fprintf(stderr,
                    "transfer: client %d: WATCH violated: read %s=%lld %s=%lld, amt %lld, "
                    "EXEC gave %lld %lld\n",
                    w->index, ka, bal_a, kb, bal_b, amt, x.n, y.n);
        if (t1 >= w->t_start_ns && t1 < w->t_end_ns) {
            w->committed++;
            w->retries += retries;
            w->stale += stale;
            worker_record(w, t1 - t0);
        } else if (stale) {
            w->stale++;
        }
        return 0;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct conn *c = malloc(sizeof(*c));
    struct wbuf out = {0};

    if (c == NULL)
        die_oom();
    if (conn_open(c, w->opt) != 0) {
        w->errors++;
        free(c);
        return NULL;
    }
    while (now_ns() < w->t_end_ns) {
        if (do_transfer(w, c, &out) != 0)
            break;
    }
    conn_close(c);
    free(c);
    free(out.p);
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
    uint64_t t0 = now_ns();
    uint64_t t_start = t0 + (uint64_t)(opt->warmup_s * 1e9);
    uint64_t t_end = t_start + (uint64_t)(opt->duration_s * 1e9);
    int started = 0, rc = 0;

    if (ws == NULL)
        die_oom();
    for (int i = 0; i < opt->clients; i++) {
        ws[i].index = i;
        ws[i].opt = opt;
        ws[i].t_start_ns = t_start;
        ws[i].t_end_ns = t_end;
        ws[i].rng = opt->seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0xBF58476D1CE4E5B9ull + 1;
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "transfer: pthread_create failed\n");
            rc = 1;
            break;
        }
        started++;
    }

    uint64_t committed = 0, retries = 0, skipped = 0, stale = 0, errors = 0;
    size_t nlat = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
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
    for (int i = 0; i < started; i++) {
        memcpy(lat + k, ws[i].lat_us, ws[i].lat_count * sizeof(*lat));
        k += ws[i].lat_count;
        free(ws[i].lat_us);
    }
    for (size_t i = 0; i < nlat; i++)
        sum_ms += lat[i] / 1000.0;
    qsort(lat, nlat, sizeof(*lat), cmp_u32);

    printf("committed=%" PRIu64 " tps=%.1f p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f max_ms=%.3f "
           "retries=%" PRIu64 " skipped=%" PRIu64 " stale=%" PRIu64 " errors=%" PRIu64
           " clients=%d\n",
           committed, (double)committed / opt->duration_s, pct_ms(lat, nlat, 50.0),
           pct_ms(lat, nlat, 99.0), nlat ? sum_ms / (double)nlat : 0.0,
           nlat ? lat[nlat - 1] / 1000.0 : 0.0, retries, skipped, stale, errors, opt->clients);
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
    fprintf(stderr, "usage: transfer init|run|sum [-h host] [-p port] [-c clients] "
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
    while ((ch = getopt(argc, argv, "h:p:c:n:b:d:w:s:t:")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.clients = atoi(optarg); break;
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
