/*
 * test_config.c - unit tests of the option table (src/server/config.h):
 * defaults, config_set, config files, command-line arguments, CONFIG GET
 * patterns and CONFIG REWRITE.
 *
 * Design
 *   Values are checked twice: through the struct config fields and through
 *   config_get(), which formats them as CONFIG GET replies, so the parse and
 *   format halves of each option row are both covered.
 *
 *   File tests work in a private directory made with mkdtemp() under /tmp
 *   (struct tmpdir); every file is written with write_file() and the
 *   directory is removed at the end of the test. Paths are absolute, since
 *   `include` resolves relative paths against the process's working
 *   directory.
 *
 *   The rewrite round trip compares two configs by the full CONFIG GET *
 *   listing (struct listing), so an option that REWRITE forgets, or writes
 *   in a form the loader reads back differently, shows up as a differing
 *   name=value line.
 *
 * Invariants
 *   (1) A failed config_set() leaves the config unchanged (config.c (1)):
 *       checked by comparing listings before and after each failure.
 *   (2) Every struct config is destroyed before the test returns.
 *
 * Threads
 *   Single-threaded.
 */
#include "harness/test.h"

#include "core/limits.h"
#include "core/log.h"
#include "server/config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for an error message from the config module. */
#define ERR_BYTES 1024
/* Room for one listing line "name=value". */
#define LINE_BYTES 1200

/* ---- helpers ---- */

/* argv strings for the config API, which takes char ** like main(); never written. */
#define ARG(s) ((char *)(uintptr_t)(s))

/* The CONFIG GET output of one or more patterns, as "name=value" lines. */
struct listing {
    char **lines; /* malloc'd strings, in visit order */
    int count;    /* lines used */
    int cap;      /* lines allocated */
};

static void listing_visit(const char *name, const char *value, void *ctx)
{
    struct listing *l = ctx;
    size_t nlen = strlen(name), vlen = strlen(value);
    char *line = malloc(nlen + 1 + vlen + 1);
    T_NOT_NULL(line);
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->lines = realloc(l->lines, (size_t)l->cap * sizeof(*l->lines));
        T_NOT_NULL(l->lines);
    }
    memcpy(line, name, nlen);
    line[nlen] = '=';
    memcpy(line + nlen + 1, value, vlen + 1);
    l->lines[l->count++] = line;
}

static void listing_free(struct listing *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof(*l));
}

/* Lists the options matching each pattern in turn, sharing one seen[] array. */
static void get_patterns(const struct config *cfg, const char *const *patterns, int n,
                         struct listing *out)
{
    bool *seen = calloc((size_t)config_count(), sizeof(bool));
    T_NOT_NULL(seen);
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < n; i++)
        config_get(cfg, patterns[i], strlen(patterns[i]), seen, listing_visit, out);
    free(seen);
}

static void get_all(const struct config *cfg, struct listing *out)
{
    static const char *const star[] = {"*"};
    get_patterns(cfg, star, 1, out);
}

/* The CONFIG GET value of one option, copied into out. */
static const char *get_one(const struct config *cfg, const char *name, char *out, size_t cap)
{
    struct listing l;
    const char *pats[] = {name};
    get_patterns(cfg, pats, 1, &l);
    T_EQ_INT(l.count, 1);
    T_ASSERT(strncmp(l.lines[0], name, strlen(name)) == 0);
    snprintf(out, cap, "%s", l.lines[0] + strlen(name) + 1);
    listing_free(&l);
    return out;
}

#define T_GET(cfg, name, expected)                                                         \
    do {                                                                                   \
        char t__v[LINE_BYTES];                                                             \
        T_EQ_STR(get_one((cfg), (name), t__v, sizeof(t__v)), (expected));                  \
    } while (0)

static void expect_same_listing(const struct listing *a, const struct listing *b)
{
    T_EQ_INT(a->count, b->count);
    for (int i = 0; i < a->count; i++)
        T_EQ_STR(a->lines[i], b->lines[i]);
}

/* config_set with one argument; err is filled on failure. */
static int set1(struct config *cfg, const char *name, const char *value, bool at_startup,
                char *err)
{
    char *argv[1] = {(char *)(uintptr_t)value};
    err[0] = '\0';
    return config_set(cfg, name, 1, argv, at_startup, err, ERR_BYTES);
}

/* Expects config_set(name, value) to fail with rc and an error containing reason,
 * leaving the config unchanged (invariant (1)). */
static void expect_set_fails(struct config *cfg, const char *name, const char *value,
                             bool at_startup, int rc, const char *reason)
{
    struct listing before, after;
    char err[ERR_BYTES];
    get_all(cfg, &before);
    T_EQ_INT(set1(cfg, name, value, at_startup, err), rc);
    if (strstr(err, reason) == NULL)
        test__fail(__FILE__, __LINE__, "set %s %s: error \"%s\" lacks \"%s\"", name, value,
                   err, reason);
    get_all(cfg, &after);
    expect_same_listing(&before, &after);
    listing_free(&before);
    listing_free(&after);
}

#define T_CONTAINS(hay, needle)                                                            \
    do {                                                                                   \
        const char *t__h = (hay), *t__n = (needle);                                        \
        if (strstr(t__h, t__n) == NULL)                                                    \
            test__fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", t__h, t__n);  \
    } while (0)

/* A private temporary directory and the files created in it. */
struct tmpdir {
    char path[64];      /* "/tmp/engram-test-config.XXXXXX" */
    char files[8][128]; /* absolute paths of files written, for cleanup */
    int nfiles;         /* entries of files[] used */
};

static void tmpdir_create(struct tmpdir *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "/tmp/engram-test-config.XXXXXX");
    T_NOT_NULL(mkdtemp(d->path));
}

/* Writes text to <dir>/<name> and returns the absolute path (valid as long as d). */
static const char *write_file(struct tmpdir *d, const char *name, const char *text)
{
    char *path;
    FILE *f;
    int i;
    for (i = 0; i < d->nfiles; i++) {
        const char *slash = strrchr(d->files[i], '/');
        if (strcmp(slash + 1, name) == 0)
            break;
    }
    T_ASSERT(i < 8);
    {
        char full[sizeof(d->files[0])];
        T_ASSERT((size_t)snprintf(full, sizeof(full), "%s/%s", d->path, name) < sizeof(full));
        path = d->files[i];
        memcpy(path, full, sizeof(full));
    }
    if (i == d->nfiles)
        d->nfiles++;
    f = fopen(path, "w");
    T_NOT_NULL(f);
    T_EQ_INT(fwrite(text, 1, strlen(text), f), strlen(text));
    T_EQ_INT(fclose(f), 0);
    return path;
}

/* Reads a whole file into a malloc'd NUL-terminated string. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *s;
    long n;
    T_NOT_NULL(f);
    T_EQ_INT(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    T_ASSERT(n >= 0);
    rewind(f);
    s = malloc((size_t)n + 1);
    T_NOT_NULL(s);
    T_EQ_INT(fread(s, 1, (size_t)n, f), n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void tmpdir_destroy(struct tmpdir *d)
{
    for (int i = 0; i < d->nfiles; i++)
        unlink(d->files[i]);
    T_EQ_INT(rmdir(d->path), 0); /* fails if a stray file (a .tmp) was left behind */
}

/* ---- defaults and config_set ---- */

TEST(config_defaults)
{
    struct config cfg;
    config_create(&cfg);
    T_EQ_INT(cfg.port, 6379);
    T_EQ_STR(cfg.bind, "127.0.0.1");
    T_EQ_INT(cfg.databases, 16);
    T_EQ_INT(cfg.maxclients, 10000);
    T_EQ_INT(cfg.proto_max_bulk_len, 536870912LL);
    T_EQ_INT(cfg.client_query_buffer_limit, 1073741824LL);
    T_EQ_INT(cfg.hz, 10);
    T_EQ_INT(cfg.loglevel, LOG_NOTICE);
    T_EQ_STR(cfg.requirepass, "");
    T_EQ_STR(cfg.unixsocket, "");

    T_GET(&cfg, "port", "6379");
    T_GET(&cfg, "bind", "127.0.0.1");
    T_GET(&cfg, "databases", "16");
    T_GET(&cfg, "maxclients", "10000");
    T_GET(&cfg, "proto-max-bulk-len", "536870912");
    T_GET(&cfg, "client-query-buffer-limit", "1073741824");
    T_GET(&cfg, "hz", "10");
    T_GET(&cfg, "loglevel", "notice");
    T_GET(&cfg, "requirepass", "");
    T_GET(&cfg, "unixsocketperm", "0");
    config_destroy(&cfg);
}

TEST(config_set_good_values)
{
    struct config cfg;
    char err[ERR_BYTES];
    config_create(&cfg);

    T_OK(set1(&cfg, "maxclients", "500", false, err));
    T_EQ_INT(cfg.maxclients, 500);
    T_OK(set1(&cfg, "MaxClients", "1", false, err)); /* names ignore case */
    T_EQ_INT(cfg.maxclients, 1);
    T_OK(set1(&cfg, "maxclients", "100000", false, err));
    T_EQ_INT(cfg.maxclients, CLIENTS_MAX);
    T_OK(set1(&cfg, "timeout", "0", false, err));
    T_OK(set1(&cfg, "timeout", "2147483647", false, err));
    T_EQ_INT(cfg.timeout_s, 2147483647);
    T_OK(set1(&cfg, "hz", "100", false, err));
    T_EQ_INT(cfg.hz, 100);
    T_OK(set1(&cfg, "requirepass", "s3cret pass", false, err));
    T_EQ_STR(cfg.requirepass, "s3cret pass");
    T_OK(set1(&cfg, "requirepass", "", false, err));
    T_EQ_STR(cfg.requirepass, "");
    T_OK(set1(&cfg, "unixsocketperm", "700", true, err));
    T_EQ_INT(cfg.unixsocketperm, 0700);
    T_GET(&cfg, "unixsocketperm", "700");

    /* Immutable options are fine at start-up. */
    T_OK(set1(&cfg, "port", "0", true, err));
    T_EQ_INT(cfg.port, 0);
    T_OK(set1(&cfg, "port", "65535", true, err));
    T_EQ_INT(cfg.port, 65535);
    T_OK(set1(&cfg, "databases", "1024", true, err));
    T_EQ_INT(cfg.databases, DATABASES_MAX);
    T_OK(set1(&cfg, "dir", "/var/lib/engram", true, err));
    T_EQ_STR(cfg.dir, "/var/lib/engram");
    config_destroy(&cfg);
}

TEST(config_set_memory_units)
{
    struct config cfg;
    char err[ERR_BYTES];
    config_create(&cfg);

    T_OK(set1(&cfg, "proto-max-bulk-len", "1gb", false, err));
    T_EQ_INT(cfg.proto_max_bulk_len, 1073741824LL);
    T_GET(&cfg, "proto-max-bulk-len", "1073741824");
    T_OK(set1(&cfg, "proto-max-bulk-len", "512mb", false, err));
    T_EQ_INT(cfg.proto_max_bulk_len, 536870912LL);
    T_OK(set1(&cfg, "proto-max-bulk-len", "1G", false, err));
    T_EQ_INT(cfg.proto_max_bulk_len, 1000000000LL);
    T_OK(set1(&cfg, "client-query-buffer-limit", "2048kb", false, err));
    T_EQ_INT(cfg.client_query_buffer_limit, 2097152LL);
    T_OK(set1(&cfg, "client-query-buffer-limit", "2000k", false, err));
    T_EQ_INT(cfg.client_query_buffer_limit, 2000000LL);
    T_OK(set1(&cfg, "client-query-buffer-limit", "3MB", false, err));
    T_EQ_INT(cfg.client_query_buffer_limit, 3145728LL);
    T_OK(set1(&cfg, "client-query-buffer-limit", "1048576", false, err));
    T_EQ_INT(cfg.client_query_buffer_limit, 1048576LL);

    /* 100k parses (100000 bytes) but is below the 1 MB minimum of both options. */
    expect_set_fails(&cfg, "proto-max-bulk-len", "100k", false, -1,
                     "argument must be between 1048576 and 2147483648 inclusive");
    expect_set_fails(&cfg, "client-query-buffer-limit", "100kb", false, -1,
                     "argument must be between 1048576");
    config_destroy(&cfg);
}

TEST(config_set_bad_values)
{
    struct config cfg;
    config_create(&cfg);

    expect_set_fails(&cfg, "maxclients", "abc", false, -1,
                     "argument couldn't be parsed into an integer");
    expect_set_fails(&cfg, "maxclients", "", false, -1,
                     "argument couldn't be parsed into an integer");
    expect_set_fails(&cfg, "maxclients", "10 ", false, -1,
                     "argument couldn't be parsed into an integer");
    expect_set_fails(&cfg, "maxclients", "1.5", false, -1,
                     "argument couldn't be parsed into an integer");
    expect_set_fails(&cfg, "maxclients", "99999999999999999999", false, -1,
                     "argument couldn't be parsed into an integer");
    expect_set_fails(&cfg, "maxclients", "0", false, -1,
                     "argument must be between 1 and 100000 inclusive");
    expect_set_fails(&cfg, "maxclients", "100001", false, -1,
                     "argument must be between 1 and 100000 inclusive");
    expect_set_fails(&cfg, "timeout", "-1", false, -1,
                     "argument must be between 0 and 2147483647 inclusive");
    expect_set_fails(&cfg, "timeout", "2147483648", false, -1,
                     "argument must be between 0 and 2147483647 inclusive");
    expect_set_fails(&cfg, "port", "65536", true, -1,
                     "argument must be between 0 and 65535 inclusive");
    expect_set_fails(&cfg, "databases", "0", true, -1, "argument must be between 1 and 1024");

    /* Memory values: bad unit, sign, fraction, garbage. */
    expect_set_fails(&cfg, "proto-max-bulk-len", "1xb", false, -1,
                     "argument must be a memory value");
    expect_set_fails(&cfg, "proto-max-bulk-len", "-1mb", false, -1,
                     "argument must be a memory value");
    expect_set_fails(&cfg, "proto-max-bulk-len", "1.5gb", false, -1,
                     "argument must be a memory value");
    expect_set_fails(&cfg, "proto-max-bulk-len", "gb", false, -1,
                     "argument must be a memory value");
    expect_set_fails(&cfg, "client-query-buffer-limit", "", false, -1,
                     "argument must be a memory value");
    expect_set_fails(&cfg, "client-query-buffer-limit", "17179869184gb", false, -1,
                     "argument must be a memory value");

    /* Octal. */
    expect_set_fails(&cfg, "unixsocketperm", "800", true, -1, "octal");
    expect_set_fails(&cfg, "unixsocketperm", "", true, -1, "octal");
    expect_set_fails(&cfg, "unixsocketperm", "1000", true, -1, "argument must be between");
    config_destroy(&cfg);
}

TEST(config_set_unknown_and_arity)
{
    struct config cfg;
    char err[ERR_BYTES];
    char *two[2] = {ARG("1"), ARG("2")};
    config_create(&cfg);

    expect_set_fails(&cfg, "no-such-option", "1", false, -2, "");
    expect_set_fails(&cfg, "no-such-option", "1", true, -2, "");
    expect_set_fails(&cfg, "", "1", true, -2, "");
    T_EQ_INT(config_set(&cfg, "maxclients", 0, NULL, false, err, sizeof(err)), -2);
    T_EQ_INT(config_set(&cfg, "maxclients", 2, two, false, err, sizeof(err)), -2);
    T_EQ_INT(cfg.maxclients, 10000);
    /* bind is the one option that takes several words. */
    T_OK(config_set(&cfg, "bind", 2, two, true, err, sizeof(err)));
    T_EQ_STR(cfg.bind, "1 2");
    config_destroy(&cfg);
}

TEST(config_set_immutable_at_runtime)
{
    static const char *const immutable[][2] = {
        {"port", "7000"},          {"bind", "0.0.0.0"},   {"unixsocket", "/tmp/s"},
        {"unixsocketperm", "700"}, {"dir", "/tmp"},       {"logfile", "/tmp/log"},
        {"databases", "4"},
    };
    struct config cfg;
    config_create(&cfg);
    for (size_t i = 0; i < sizeof(immutable) / sizeof(immutable[0]); i++)
        expect_set_fails(&cfg, immutable[i][0], immutable[i][1], false, -1,
                         "can't set immutable config");
    config_destroy(&cfg);
}

TEST(config_loglevel_names)
{
    static const struct {
        const char *in;   /* value given */
        int level;        /* enum log_level expected */
        const char *name; /* CONFIG GET value expected */
    } cases[] = {
        {"debug", LOG_DEBUG, "debug"},       {"verbose", LOG_VERBOSE, "verbose"},
        {"notice", LOG_NOTICE, "notice"},    {"warning", LOG_WARNING, "warning"},
        {"WARNING", LOG_WARNING, "warning"}, {"Debug", LOG_DEBUG, "debug"},
    };
    struct config cfg;
    char err[ERR_BYTES];
    config_create(&cfg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        T_OK(set1(&cfg, "loglevel", cases[i].in, false, err));
        T_EQ_INT(cfg.loglevel, cases[i].level);
        T_GET(&cfg, "loglevel", cases[i].name);
    }
    expect_set_fails(&cfg, "loglevel", "loud", false, -1,
                     "argument(s) must be one of the following: debug, verbose, notice, "
                     "warning");
    expect_set_fails(&cfg, "loglevel", "", false, -1, "must be one of the following");
    expect_set_fails(&cfg, "loglevel", "nothing", false, -1, "must be one of the following");
    config_destroy(&cfg);
}

/* ---- config_get ---- */

/* Expects the listing's option names (before '=') to be exactly names[], in order. */
static void expect_names(const struct listing *l, const char *const *names, int n)
{
    T_EQ_INT(l->count, n);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        T_ASSERT(strncmp(l->lines[i], names[i], len) == 0);
        T_EQ_INT(l->lines[i][len], '=');
    }
}

TEST(config_get_patterns)
{
    struct config cfg;
    struct listing l;
    config_create(&cfg);

    {
        const char *p[] = {"port"};
        const char *want[] = {"port"};
        get_patterns(&cfg, p, 1, &l);
        expect_names(&l, want, 1);
        T_EQ_STR(l.lines[0], "port=6379");
        listing_free(&l);
    }
    {
        const char *p[] = {"PORT"}; /* matching ignores case, like Redis */
        const char *want[] = {"port"};
        get_patterns(&cfg, p, 1, &l);
        expect_names(&l, want, 1);
        listing_free(&l);
    }
    {
        const char *p[] = {"*max*"};
        const char *want[] = {"maxclients",
                              "proto-max-bulk-len",
                              "hash-max-listpack-entries",
                              "hash-max-listpack-value",
                              "set-max-intset-entries",
                              "zset-max-listpack-entries",
                              "zset-max-listpack-value",
                              "list-max-listpack-size",
                              "hash-max-ziplist-entries",
                              "hash-max-ziplist-value",
                              "list-max-ziplist-size",
                              "zset-max-ziplist-entries",
                              "zset-max-ziplist-value"};
        get_patterns(&cfg, p, 1, &l);
        expect_names(&l, want, 13);
        listing_free(&l);
    }
    {
        const char *p[] = {"unixsocket?*"};
        const char *want[] = {"unixsocketperm"};
        get_patterns(&cfg, p, 1, &l);
        expect_names(&l, want, 1);
        listing_free(&l);
    }
    {
        const char *p[] = {"[bd]*"};
        const char *want[] = {"bind", "dir", "databases", "busy-poll-us"};
        get_patterns(&cfg, p, 1, &l);
        expect_names(&l, want, 4);
        listing_free(&l);
    }
    {
        const char *p[] = {"nomatch*"};
        get_patterns(&cfg, p, 1, &l);
        T_EQ_INT(l.count, 0);
        listing_free(&l);
    }
    {
        const char *p[] = {"*"};
        get_patterns(&cfg, p, 1, &l);
        T_EQ_INT(l.count, config_count());
        listing_free(&l);
    }
    config_destroy(&cfg);
}

TEST(config_get_seen_dedup)
{
    struct config cfg;
    struct listing l, all;
    config_create(&cfg);

    {
        /* Overlapping patterns: each option once, in pattern order. */
        const char *p[] = {"port", "p*", "port", "*port*"};
        const char *want[] = {"port", "proto-max-bulk-len"};
        get_patterns(&cfg, p, 4, &l);
        expect_names(&l, want, 2);
        listing_free(&l);
    }
    {
        const char *p[] = {"maxclients", "*", "*"};
        get_patterns(&cfg, p, 3, &l);
        get_all(&cfg, &all);
        T_EQ_INT(l.count, config_count());
        T_EQ_STR(l.lines[0], "maxclients=10000");
        /* Every option of the full listing appears exactly once. */
        for (int i = 0; i < all.count; i++) {
            int found = 0;
            for (int j = 0; j < l.count; j++)
                found += strcmp(all.lines[i], l.lines[j]) == 0;
            T_EQ_INT(found, 1);
        }
        listing_free(&l);
        listing_free(&all);
    }
    config_destroy(&cfg);
}

/* ---- config_load_file ---- */

TEST(config_load_file_full)
{
    struct tmpdir d;
    struct config cfg;
    char err[ERR_BYTES], text[2048];
    const char *second;
    const char *main_path;

    tmpdir_create(&d);
    second = write_file(&d, "second.conf",
                        "# included\r\n"
                        "timeout 30\r\n"
                        "hz 15\n"
                        "databases 4");
    snprintf(text, sizeof(text),
             "# engram test config\n"
             "   # an indented comment\n"
             "\n"
             "  \t \n"
             "port 7001\n"
             "bind 127.0.0.1 ::1\n"
             "dir \"/tmp/a b\"\n"
             "requirepass 'p \"w\"'\n"
             "logfile \"/tmp/x\\x41\\ty\"\n"
             "loglevel WARNING\n"
             "  maxclients   123  \n"
             "proto-max-bulk-len 2mb\n"
             "unixsocketperm 755\n"
             "include %s\n"
             "hz 20\n",
             second);
    main_path = write_file(&d, "main.conf", text);

    config_create(&cfg);
    err[0] = '\0';
    T_OK(config_load_file(&cfg, main_path, err, sizeof(err)));
    T_EQ_INT(cfg.port, 7001);
    T_EQ_STR(cfg.bind, "127.0.0.1 ::1");
    T_EQ_STR(cfg.dir, "/tmp/a b");
    T_EQ_STR(cfg.requirepass, "p \"w\"");
    T_EQ_STR(cfg.logfile, "/tmp/xA\ty");
    T_EQ_INT(cfg.loglevel, LOG_WARNING);
    T_EQ_INT(cfg.maxclients, 123);
    T_EQ_INT(cfg.proto_max_bulk_len, 2 * 1024 * 1024);
    T_EQ_INT(cfg.unixsocketperm, 0755);
    /* From the included file; hz is overridden by the line after the include. */
    T_EQ_INT(cfg.timeout_s, 30);
    T_EQ_INT(cfg.databases, 4);
    T_EQ_INT(cfg.hz, 20);
    config_destroy(&cfg);
    tmpdir_destroy(&d);
}

/* Loads `text` as a config file and expects failure with err containing each of parts. */
static void expect_load_fails(struct tmpdir *d, const char *text, const char *const *parts,
                              int nparts)
{
    struct config cfg;
    char err[ERR_BYTES];
    const char *path = write_file(d, "bad.conf", text);
    config_create(&cfg);
    err[0] = '\0';
    T_EQ_INT(config_load_file(&cfg, path, err, sizeof(err)), -1);
    T_CONTAINS(err, path);
    for (int i = 0; i < nparts; i++)
        T_CONTAINS(err, parts[i]);
    config_destroy(&cfg);
}

TEST(config_load_file_errors)
{
    struct tmpdir d;
    char text[512], err[ERR_BYTES];
    const char *inc;
    struct config cfg;

    tmpdir_create(&d);
    {
        const char *parts[] = {":3:", "Bad directive or wrong number of arguments",
                               "no-such-directive"};
        expect_load_fails(&d, "# c\nport 7000\nno-such-directive yes\nhz 5\n", parts, 3);
    }
    {
        const char *parts[] = {":2:", "argument couldn't be parsed into an integer"};
        expect_load_fails(&d, "port 7000\nmaxclients lots\n", parts, 2);
    }
    {
        const char *parts[] = {":1:", "argument must be between 0 and 65535 inclusive"};
        expect_load_fails(&d, "port 70000\n", parts, 2);
    }
    {
        const char *parts[] = {":4:", "argument must be a memory value"};
        expect_load_fails(&d, "\n\n# x\nproto-max-bulk-len 1zb\n", parts, 2);
    }
    {
        const char *parts[] = {":1:", "Bad directive or wrong number of arguments"};
        expect_load_fails(&d, "maxclients 1 2\n", parts, 2);
    }
    {
        const char *parts[] = {":2:", "Unbalanced quotes"};
        expect_load_fails(&d, "port 1\ndir \"/tmp\n", parts, 2);
    }
    {
        const char *parts[] = {":1:", "must be one of the following"};
        expect_load_fails(&d, "loglevel shouty\n", parts, 2);
    }

    /* An error inside an included file names that file and its line. */
    inc = write_file(&d, "inc.conf", "hz 5\nbogus 1\n");
    snprintf(text, sizeof(text), "port 1\ninclude %s\n", inc);
    {
        const char *parts[] = {inc, ":2:", "Bad directive"};
        expect_load_fails(&d, text, parts, 3);
    }

    /* A file that includes itself stops at the nesting limit. */
    {
        char self[256];
        snprintf(self, sizeof(self), "%s/bad.conf", d.path);
        snprintf(text, sizeof(text), "include %s\n", self);
        {
            const char *parts[] = {"include nesting too deep"};
            expect_load_fails(&d, text, parts, 1);
        }
    }

    /* A missing file. */
    config_create(&cfg);
    snprintf(text, sizeof(text), "%s/missing.conf", d.path);
    T_EQ_INT(config_load_file(&cfg, text, err, sizeof(err)), -1);
    T_CONTAINS(err, text);
    config_destroy(&cfg);
    tmpdir_destroy(&d);
}

/* ---- config_load_args ---- */

TEST(config_load_args)
{
    struct config cfg;
    char err[ERR_BYTES];
    config_create(&cfg);
    {
        char *argv[] = {ARG("--port"), ARG("7000"), ARG("--bind"), ARG("127.0.0.1"), ARG("::1")};
        T_OK(config_load_args(&cfg, 5, argv, err, sizeof(err)));
        T_EQ_INT(cfg.port, 7000);
        T_EQ_STR(cfg.bind, "127.0.0.1 ::1");
    }
    {
        char *argv[] = {ARG("--maxclients"), ARG("77"),    ARG("--loglevel"),
                        ARG("debug"),        ARG("--dir"), ARG("/tmp/d e")};
        T_OK(config_load_args(&cfg, 6, argv, err, sizeof(err)));
        T_EQ_INT(cfg.maxclients, 77);
        T_EQ_INT(cfg.loglevel, LOG_DEBUG);
        T_EQ_STR(cfg.dir, "/tmp/d e");
    }
    T_OK(config_load_args(&cfg, 0, NULL, err, sizeof(err)));
    {
        char *argv[] = {ARG("port"), ARG("7001")};
        T_EQ_INT(config_load_args(&cfg, 2, argv, err, sizeof(err)), -1);
        T_CONTAINS(err, "port");
    }
    {
        char *argv[] = {ARG("--no-such"), ARG("1")};
        T_EQ_INT(config_load_args(&cfg, 2, argv, err, sizeof(err)), -1);
        T_CONTAINS(err, "--no-such");
    }
    {
        char *argv[] = {ARG("--port")};
        T_EQ_INT(config_load_args(&cfg, 1, argv, err, sizeof(err)), -1);
        T_CONTAINS(err, "--port");
    }
    {
        char *argv[] = {ARG("--hz"), ARG("fast")};
        T_EQ_INT(config_load_args(&cfg, 2, argv, err, sizeof(err)), -1);
        T_CONTAINS(err, "--hz");
        T_CONTAINS(err, "argument couldn't be parsed into an integer");
    }
    {
        char *argv[] = {ARG("--")};
        T_EQ_INT(config_load_args(&cfg, 1, argv, err, sizeof(err)), -1);
    }
    T_EQ_INT(cfg.port, 7000);
    T_EQ_INT(cfg.hz, 10);
    config_destroy(&cfg);
}

/* ---- config_rewrite ---- */

/* Loads path into a fresh config and expects its CONFIG GET * to equal cfg's. */
static void expect_reload_equal(const struct config *cfg, const char *path)
{
    struct config fresh;
    struct listing a, b;
    char err[ERR_BYTES];
    config_create(&fresh);
    err[0] = '\0';
    if (config_load_file(&fresh, path, err, sizeof(err)) != 0)
        test__fail(__FILE__, __LINE__, "reload of %s failed: %s", path, err);
    get_all(cfg, &a);
    get_all(&fresh, &b);
    expect_same_listing(&a, &b);
    listing_free(&a);
    listing_free(&b);
    config_destroy(&fresh);
}

/* Expects each of parts[] in text, each after the end of the previous one. */
static void expect_in_order(const char *text, const char *const *parts, size_t n)
{
    const char *at = text;
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(at, parts[i]);
        if (!hit)
            test__fail(__FILE__, __LINE__, "text lacks (in order) \"%s\":\n%s", parts[i], text);
        at = hit + strlen(parts[i]);
    }
}

TEST(config_rewrite_round_trip)
{
    struct tmpdir d;
    struct config cfg;
    char err[ERR_BYTES];
    char *text;
    const char *path;
    char *two[2] = {ARG("127.0.0.1"), ARG("::1")};

    tmpdir_create(&d);
    path = write_file(&d, "engram.conf",
                      "# My engram config\n"
                      "# keep this comment\n"
                      "\n"
                      "port 7002\n"
                      "maxclients 100\n"
                      "    # indented comment stays\n"
                      "maxclients 150\n"
                      "# trailing comment");
    config_create(&cfg);
    T_OK(config_load_file(&cfg, path, err, sizeof(err)));
    T_EQ_INT(cfg.maxclients, 150);

    T_OK(set1(&cfg, "maxclients", "200", false, err));
    T_OK(set1(&cfg, "loglevel", "warning", false, err));
    T_OK(set1(&cfg, "requirepass", "a \"b\"\\c 'd'\t\x01", false, err));
    T_OK(set1(&cfg, "dir", "/tmp/x y", true, err));
    T_OK(set1(&cfg, "unixsocketperm", "700", true, err));
    T_OK(set1(&cfg, "proto-max-bulk-len", "64mb", false, err));
    T_OK(config_set(&cfg, "bind", 2, two, true, err, sizeof(err)));
    T_OK(config_rewrite(&cfg, path));

    text = read_file(path);
    /* Comments and blank lines survive, in order, and lines are whole. */
    {
        const char *order[] = {"# My engram config\n", "# keep this comment\n\n",
                               "port 7002\n", "maxclients 200\n",
                               "    # indented comment stays\n", "# trailing comment\n"};
        expect_in_order(text, order, sizeof(order) / sizeof(order[0]));
    }
    /* The duplicate maxclients line is gone; defaults are not written out. */
    T_ASSERT(strstr(text, "maxclients 100") == NULL);
    T_ASSERT(strstr(text, "maxclients 150") == NULL);
    T_ASSERT(strstr(strstr(text, "maxclients") + 1, "maxclients") == NULL);
    T_ASSERT(strstr(text, "hz ") == NULL);
    T_ASSERT(strstr(text, "databases") == NULL);
    T_CONTAINS(text, "loglevel warning\n");
    T_CONTAINS(text, "bind 127.0.0.1 ::1\n");
    free(text);

    expect_reload_equal(&cfg, path);

    /* A second rewrite of an unchanged config changes nothing. */
    {
        char *before = read_file(path), *after;
        T_OK(config_rewrite(&cfg, path));
        after = read_file(path);
        T_EQ_STR(after, before);
        free(before);
        free(after);
    }
    config_destroy(&cfg);
    tmpdir_destroy(&d);
}

TEST(config_rewrite_new_file)
{
    struct tmpdir d;
    struct config cfg;
    char err[ERR_BYTES], path[128];
    char *text;

    tmpdir_create(&d);
    snprintf(path, sizeof(path), "%s/new.conf", d.path);
    config_create(&cfg);
    /* Only defaults: the file is created and holds no option. */
    T_OK(config_rewrite(&cfg, path));
    text = read_file(path);
    T_EQ_STR(text, "");
    free(text);
    T_OK(set1(&cfg, "timeout", "60", false, err));
    T_OK(set1(&cfg, "bind", "", true, err));
    T_OK(config_rewrite(&cfg, path));
    text = read_file(path);
    T_CONTAINS(text, "timeout 60\n");
    free(text);
    expect_reload_equal(&cfg, path);
    write_file(&d, "new.conf", ""); /* registers the path for cleanup */
    config_destroy(&cfg);
    tmpdir_destroy(&d);
}

TEST(config_long_string_round_trip)
{
    struct tmpdir d;
    struct config cfg, fresh;
    char err[ERR_BYTES], path[128];
    char *longpass = malloc(1501);
    struct listing l;
    const char *pats[] = {"requirepass"};

    T_NOT_NULL(longpass);
    memset(longpass, 'p', 1500);
    longpass[1500] = '\0';
    tmpdir_create(&d);
    snprintf(path, sizeof(path), "%s/long.conf", d.path);
    config_create(&cfg);
    T_OK(set1(&cfg, "requirepass", longpass, false, err));
    T_EQ_STR(cfg.requirepass, longpass);
    get_patterns(&cfg, pats, 1, &l);
    T_EQ_INT(l.count, 1);
    T_EQ_INT(strlen(l.lines[0]), strlen("requirepass=") + 1500);
    listing_free(&l);

    T_OK(config_rewrite(&cfg, path));
    config_create(&fresh);
    T_OK(config_load_file(&fresh, path, err, sizeof(err)));
    T_EQ_STR(fresh.requirepass, longpass);
    config_destroy(&fresh);
    write_file(&d, "long.conf", ""); /* registers the path for cleanup */
    free(longpass);
    config_destroy(&cfg);
    tmpdir_destroy(&d);
}
