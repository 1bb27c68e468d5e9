/*
 * runner.c - main() of the unit-test binary: runs the tests that test.h registered.
 *
 * Design
 *   TEST() registers each test from a constructor, before main() runs. The
 *   registration keeps the list sorted by (file, line), so the run order does not
 *   depend on link order or constructor order, and needs no allocation.
 *
 *   By default each test runs in a forked child (libuv's model), so a crash, an
 *   abort() from ASSERT, a sanitizer report or a hang fails that test only. The
 *   child reports through a pipe with one status byte:
 *       'P'            the test body returned
 *       'F'            a T_* assertion failed (its message is already on stderr)
 *       'S' <reason>   T_SKIP(reason)
 *   and then exits: a pass leaves through exit(0), so that atexit handlers run
 *   (among them LeakSanitizer in ASan builds, which turns a leak into a non-zero
 *   exit); a failure or a skip leaves through _exit(), since the test's state is
 *   abandoned half-way. The parent waits for the child with a deadline and kills
 *   it with SIGKILL when the deadline passes.
 *
 *   T_* failures end the test with longjmp() back to the runner. That is the
 *   same in forked and in --no-fork mode, so a failing test behaves the same way
 *   under gdb as in CI.
 *
 * Invariants
 *   (1) The list at `registered` is sorted by (file, line).
 *   (2) The run prints exactly one TAP line per selected test, and the last line
 *       of stdout is "N passed, N failed" (plus ", N skipped" if any were skipped).
 *   (3) The exit code is 0 iff no test failed (2 for bad arguments or a test
 *       name defined twice, before anything runs).
 *
 * Threads
 *   Single-threaded. T_* macros must run on the thread that runs the test (a
 *   longjmp across threads is undefined).
 *
 * Conventions
 *   The harness uses the C library directly (printf, no mem_alloc): it must not
 *   disturb the memory accounting of the code under test. Diagnostics go to
 *   stderr as "# ..." lines, TAP lines to stdout.
 */
#include "harness/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Default per-test timeout in forked mode: generous, since ASan/UBSan slow tests down a lot. */
#define RUNNER_TIMEOUT_S_DEFAULT 60
/* Skip reasons longer than this are cut; they are one-line notes. */
#define RUNNER_REASON_BYTES_MAX 256
/* T_EQ_MEM prints at most this many bytes of each side. */
#define RUNNER_DUMP_BYTES_MAX 64

enum result {
    RESULT_PASS,
    RESULT_FAIL,
    RESULT_SKIP,
};

/* Values passed to longjmp(); 0 is what setjmp() returns first. */
enum {
    JUMP_FAIL = 1,
    JUMP_SKIP = 2,
};

struct options {
    const char *filter; /* substring a test name must contain; NULL selects all */
    bool no_fork;       /* run tests in this process */
    bool list;          /* only print the selected names */
    long timeout_s;     /* per-test deadline in forked mode */
};

static struct test_case *registered; /* sorted list, invariant (1) */
static jmp_buf test_jump;            /* where T_* failures and skips return to */
static bool test_running;            /* test_jump is valid */
static char skip_reason[RUNNER_REASON_BYTES_MAX];

void test__register(struct test_case *t)
{
    struct test_case **at = &registered;

    while (*at) {
        int c = strcmp((*at)->file, t->file);
        if (c > 0 || (c == 0 && (*at)->line > t->line))
            break;
        at = &(*at)->next;
    }
    t->next = *at;
    *at = t;
}

__attribute__((noreturn)) static void end_test(int how)
{
    fflush(stdout);
    fflush(stderr);
    if (!test_running) {
        fprintf(stderr, "# T_* macro used outside a running test\n");
        abort();
    }
    longjmp(test_jump, how);
}

void test__fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "# %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    end_test(JUMP_FAIL);
}

void test__skip(const char *file, int line, const char *reason)
{
    (void)file;
    (void)line;
    snprintf(skip_reason, sizeof(skip_reason), "%s", reason ? reason : "");
    for (char *p = skip_reason; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' '; /* a TAP directive is one line */
    }
    end_test(JUMP_SKIP);
}

void test__eq_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                  const char *b)
{
    if (a == b || (a && b && strcmp(a, b) == 0))
        return;
    test__fail(file, line, "T_EQ_STR(%s, %s): %s%s%s != %s%s%s", ea, eb, a ? "\"" : "",
               a ? a : "NULL", a ? "\"" : "", b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
}

/* Prints up to RUNNER_DUMP_BYTES_MAX bytes, escaping what is not printable ASCII. */
static void dump_bytes(const char *label, const unsigned char *p, size_t len)
{
    size_t shown = len < RUNNER_DUMP_BYTES_MAX ? len : RUNNER_DUMP_BYTES_MAX;

    fprintf(stderr, "#   %s (%zu bytes): \"", label, len);
    for (size_t i = 0; i < shown; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            fputc(p[i], stderr);
        else
            fprintf(stderr, "\\x%02x", p[i]);
    }
    fprintf(stderr, "\"%s\n", shown < len ? "..." : "");
}

void test__eq_mem(const char *file, int line, const char *ea, const char *eb, const void *a,
                  size_t alen, const void *b, size_t blen)
{
    const unsigned char *pa = a, *pb = b;
    size_t common = alen < blen ? alen : blen, diff = 0;

    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
        return;
    while (diff < common && pa[diff] == pb[diff])
        diff++;
    fprintf(stderr, "# %s:%d: T_EQ_MEM(%s, %s): differ at offset %zu\n", file, line, ea, eb, diff);
    dump_bytes(ea, pa, alen);
    dump_bytes(eb, pb, blen);
    end_test(JUMP_FAIL);
}

void test__ok(const char *file, int line, const char *expr, long long rc)
{
    if (rc == 0)
        return;
    /* errno values are small; engram's own codes (core/err.h) are below -4000. */
    if (rc < 0 && rc > -4000)
        test__fail(file, line, "T_OK(%s): rc = %lld (%s)", expr, rc, strerror((int)-rc));
    test__fail(file, line, "T_OK(%s): rc = %lld", expr, rc);
}

/* Runs the body in this process; T_* failures and skips land here through longjmp(). */
static enum result run_body(const struct test_case *t)
{
    int how;

    skip_reason[0] = '\0';
    how = setjmp(test_jump);
    if (how == 0) {
        test_running = true;
        t->fn();
        test_running = false;
        return RESULT_PASS;
    }
    test_running = false;
    return how == JUMP_SKIP ? RESULT_SKIP : RESULT_FAIL;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the parent is gone; nothing useful left to do */
        p += n;
        len -= (size_t)n;
    }
}

static void child_main(const struct test_case *t, int status_fd)
{
    enum result r;

    /* If the runner dies (^C), the child must not keep running a hung test. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    r = run_body(t);
    fflush(stdout);
    fflush(stderr);
    if (r == RESULT_PASS) {
        write_all(status_fd, "P", 1);
        exit(0);
    }
    if (r == RESULT_SKIP) {
        write_all(status_fd, "S", 1);
        write_all(status_fd, skip_reason, strlen(skip_reason));
        _exit(0);
    }
    write_all(status_fd, "F", 1);
    _exit(1);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Status bytes from the child, accumulated until EOF. */
struct child_report {
    char bytes[RUNNER_REASON_BYTES_MAX + 2]; /* marker, reason, NUL */
    size_t len;                              /* bytes used, excluding the NUL */
    bool eof;                                /* the pipe reached end of file */
};

static void read_report(int fd, struct child_report *rep)
{
    char scratch[256];
    size_t room = sizeof(rep->bytes) - 1 - rep->len;
    ssize_t n = read(fd, room ? rep->bytes + rep->len : scratch, room ? room : sizeof(scratch));

    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        rep->eof = true;
        return;
    }
    if (room)
        rep->len += (size_t)n;
    rep->bytes[rep->len] = '\0';
}

/*
 * Waits for pid until the deadline, reading the child's report meanwhile.
 * Returns true if the child exited (status in *status), false if it timed out
 * and was killed.
 */
static bool wait_child(pid_t pid, int fd, long timeout_s, struct child_report *rep, int *status)
{
    long long deadline_ms = now_ms() + timeout_s * 1000;

    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            break;
        long long left_ms = deadline_ms - now_ms();
        if (left_ms <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            return false;
        }
        /* EOF on the pipe normally means the child is exiting; then poll briefly. */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int wait_ms = (int)(left_ms < 100 ? left_ms : 100);
        if (poll(&pfd, rep->eof ? 0 : 1, rep->eof ? 1 : wait_ms) > 0)
            read_report(fd, rep);
    }
    while (!rep->eof) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        /* A grandchild may still hold the pipe open: do not wait for it. */
        if (poll(&pfd, 1, 0) <= 0)
            break;
        read_report(fd, rep);
    }
    return true;
}

/* Turns the child's exit and report into a result, printing why a test failed. */
static enum result judge_child(bool exited, int status, const struct child_report *rep,
                               long timeout_s)
{
    char marker = rep->len > 0 ? rep->bytes[0] : '\0';

    if (!exited) {
        fprintf(stderr, "# timed out after %ld s, killed\n", timeout_s);
        return RESULT_FAIL;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "# killed by signal %d (%s)\n", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
        return RESULT_FAIL;
    }
    if (WEXITSTATUS(status) != 0) {
        if (marker != 'F')
            fprintf(stderr, "# exited with status %d%s\n", WEXITSTATUS(status),
                    marker == 'P' ? " after the test body returned (leak report?)" : "");
        return RESULT_FAIL;
    }
    if (marker == 'P')
        return RESULT_PASS;
    if (marker == 'S') {
        snprintf(skip_reason, sizeof(skip_reason), "%s", rep->bytes + 1);
        return RESULT_SKIP;
    }
    fprintf(stderr, "# the child exited with status 0 before the test finished\n");
    return RESULT_FAIL;
}

static enum result run_forked(const struct test_case *t, long timeout_s)
{
    struct child_report rep = {.len = 0};
    int pfd[2], status = 0;
    pid_t pid;
    bool exited;

    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "# pipe: %s\n", strerror(errno));
        return RESULT_FAIL;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "# fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return RESULT_FAIL;
    }
    if (pid == 0) {
        close(pfd[0]);
        child_main(t, pfd[1]);
    }
    close(pfd[1]);
    exited = wait_child(pid, pfd[0], timeout_s, &rep, &status);
    close(pfd[0]);
    skip_reason[0] = '\0';
    return judge_child(exited, status, &rep, timeout_s);
}

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--filter SUBSTR] [--no-fork] [--timeout SEC] [--list]\n"
            "  --filter SUBSTR  run only tests whose name contains SUBSTR\n"
            "  --no-fork        run tests in this process (for gdb)\n"
            "  --timeout SEC    per-test timeout in forked mode (default %d)\n"
            "  --list           print the selected test names and exit\n",
            prog, RUNNER_TIMEOUT_S_DEFAULT);
}

/* Returns 0, or -1 after printing usage (bad arguments). */
static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.timeout_s = RUNNER_TIMEOUT_S_DEFAULT};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-fork") == 0) {
            o->no_fork = true;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
            o->filter = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            char *end;
            o->timeout_s = strtol(argv[++i], &end, 10);
            if (*end != '\0' || o->timeout_s <= 0 || o->timeout_s > 86400) {
                fprintf(stderr, "bad --timeout: %s\n", argv[i]);
                return -1;
            }
        } else {
            usage(strcmp(a, "--help") == 0 ? stdout : stderr, argv[0]);
            return -1;
        }
    }
    return 0;
}

/* Returns 0, or -1 after naming a test defined twice (static names do not clash at link). */
static int check_unique_names(void)
{
    int rc = 0;

    for (const struct test_case *a = registered; a; a = a->next) {
        for (const struct test_case *b = a->next; b; b = b->next) {
            if (strcmp(a->name, b->name) != 0)
                continue;
            fprintf(stderr, "# duplicate test name %s: %s:%d and %s:%d\n", a->name, a->file,
                    a->line, b->file, b->line);
            rc = -1;
        }
    }
    return rc;
}

static bool selected(const struct test_case *t, const struct options *o)
{
    return o->filter == NULL || strstr(t->name, o->filter) != NULL;
}

int main(int argc, char **argv)
{
    struct options o;
    size_t total = 0, n = 0, passed = 0, failed = 0, skipped = 0;

    if (parse_options(argc, argv, &o) != 0 || check_unique_names() != 0)
        return 2;
    for (const struct test_case *t = registered; t; t = t->next)
        total += selected(t, &o);
    if (!o.list) {
        printf("1..%zu\n", total);
        fflush(stdout); /* before any child or test writes to stderr */
    }
    for (const struct test_case *t = registered; t; t = t->next) {
        if (!selected(t, &o))
            continue;
        if (o.list) {
            printf("%s\n", t->name);
            continue;
        }
        enum result r = o.no_fork ? run_body(t) : run_forked(t, o.timeout_s);
        n++;
        if (r == RESULT_PASS) {
            passed++;
            printf("ok %zu - %s\n", n, t->name);
        } else if (r == RESULT_SKIP) {
            skipped++;
            printf("ok %zu - %s # SKIP %s\n", n, t->name, skip_reason);
        } else {
            failed++;
            printf("not ok %zu - %s\n", n, t->name);
        }
        fflush(stdout);
    }
    if (o.list)
        return 0;
    if (total == 0 && o.filter)
        fprintf(stderr, "# no test name contains \"%s\"\n", o.filter);
    printf("%zu passed, %zu failed", passed, failed);
    if (skipped)
        printf(", %zu skipped", skipped);
    printf("\n");
    return failed == 0 ? 0 : 1;
}
