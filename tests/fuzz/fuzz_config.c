/*
 * fuzz_config.c - fuzz target for the config file parser and config_set()
 * (src/server/config.h).
 *
 * Design
 *   The input is written to a fresh mkstemp() file in /tmp, loaded into a
 *   fresh struct config with config_load_file(), and removed. Then the
 *   tokens of its first line are applied with config_set(), first as at
 *   run time (CONFIG SET) and then as at start-up.
 *
 *   `include` must not reach the real file system: "include /dev/zero"
 *   would read forever and "include /dev/stdin" would block. The target is
 *   linked with -Wl,--wrap=fopen (tests/fuzz/fuzz.mk), and while
 *   config_load_file() runs, fopen() opens only the input file itself,
 *   under its own name or the fixed name "fuzz-self.conf" (so an input can
 *   include itself and reach the nesting limit); every other path fails
 *   with ENOENT, like a missing file. Outside that call fopen() is the real
 *   one, which libFuzzer itself relies on.
 *
 * Invariants checked
 *   (1) config_load_file() returns 0, or -1 with a non-empty error text.
 *   (2) config_set() returns 0, -1 or -2, with an error text when not 0,
 *       and a failed call leaves every option's CONFIG GET value unchanged
 *       (config.c invariant (1)).
 *   (3) config_destroy() frees everything: mem_used_bytes() is back to its
 *       value before the input (and LeakSanitizer sees the libc side).
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/mem.h"
#include "core/util.h"
#include "server/config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* An include of this name opens the input file itself. */
#define SELF_NAME "fuzz-self.conf"

FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

static const char *sandbox_path; /* the input file while config_load_file() runs */

FILE *__wrap_fopen(const char *path, const char *mode)
{
    if (!sandbox_path)
        return __real_fopen(path, mode);
    if (strcmp(path, sandbox_path) == 0 || strcmp(path, SELF_NAME) == 0)
        return __real_fopen(sandbox_path, mode);
    errno = ENOENT;
    return NULL;
}

static void hash_option(const char *name, const char *value, void *ctx)
{
    uint64_t *h = ctx;
    const char *parts[2] = {name, value};
    for (int k = 0; k < 2; k++) {
        for (const char *p = parts[k]; ; p++) {
            *h = (*h ^ (unsigned char)*p) * 0x100000001b3ull;
            if (!*p)
                break;
        }
    }
}

/* A hash of every option's CONFIG GET value. */
static uint64_t config_hash(const struct config *cfg)
{
    bool seen[64] = {false};
    uint64_t h = 0xcbf29ce484222325ull;
    FUZZ_CHECK(config_count() <= 64);
    config_get(cfg, "*", 1, seen, hash_option, &h);
    return h;
}

static void check_set(struct config *cfg, int argc, char **argv, bool at_startup)
{
    char err[256] = "";
    uint64_t before = config_hash(cfg);
    int rc = config_set(cfg, argv[0], argc - 1, argv + 1, at_startup, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(config_hash(cfg) == before);
    }
}

/* Writes data to a new file made from the mkstemp() template in path. */
static void write_temp(const uint8_t *data, size_t size, char *path)
{
    int fd = mkstemp(path);
    size_t done = 0;
    FUZZ_CHECK(fd >= 0);
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        FUZZ_CHECK(n > 0);
        done += (size_t)n;
    }
    FUZZ_CHECK(close(fd) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/engram-fuzz-config-XXXXXX";
    char err[1024] = "";
    struct config cfg;
    size_t mem_before = mem_used_bytes();
    const uint8_t *nl = memchr(data, '\n', size);
    char **argv;
    size_t *lens;
    int argc, rc;

    write_temp(data, size, path);
    config_create(&cfg);
    sandbox_path = path;
    rc = config_load_file(&cfg, path, err, sizeof(err));
    sandbox_path = NULL;
    FUZZ_CHECK(unlink(path) == 0);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(rc == 0 || err[0] != '\0');

    if (util_split_args((const char *)data, nl ? (size_t)(nl - data) : size, &argv, &lens,
                        &argc) == 0) {
        if (argc > 0) {
            check_set(&cfg, argc, argv, false);
            check_set(&cfg, argc, argv, true);
        }
        util_free_args(argv, lens, argc);
    }
    config_destroy(&cfg);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
    return 0;
}
