/*
 * main.c - argv -> config -> server_init() -> event loop.
 *
 * Command line as Redis: engram-server [config-file] [--name value ...].
 * A bad option refuses to start with the file, line and reason (exit 1).
 */
#include "core/log.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/version.h"
#include "server/durable.h"
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "Usage: engram-server [/path/to/engram.conf] [--option value ...]\n"
                    "       engram-server --version\n"
                    "Examples:\n"
                    "       engram-server engram.conf --port 7000\n"
                    "       engram-server --port 6380 --dir /var/lib/engram\n");
}

static int load_config(int argc, char **argv)
{
    char err[1024];
    int first_opt = 1;
    config_create(&server.cfg);
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char abs[PATH_MAX];
        if (!realpath(argv[1], abs))
            snprintf(abs, sizeof(abs), "%s", argv[1]);
        server.config_file = mem_strndup(abs, strlen(abs));
        if (config_load_file(&server.cfg, argv[1], err, sizeof(err)) != 0) {
            fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (engram) ***\n%s\n", err);
            return -1;
        }
        first_opt = 2;
    }
    if (config_load_args(&server.cfg, argc - first_opt, argv + first_opt, err, sizeof(err)) !=
        0) {
        fprintf(stderr, "\n*** FATAL CONFIG ERROR (engram) ***\n%s\n", err);
        return -1;
    }
    return 0;
}

/*
 * ENGRAM_ERRINJ="<point> <N> [EIO|ENOSPC]" arms an error injection point as
 * DEBUG ERRINJ does, but before start-up, so the crash tests can fail the
 * I/O the server does before it serves (the WAL's start-up fdatasync).
 * "signal-eventfd 1", for start-up only, starts without the signal eventfd
 * (as when eventfd() fails).
 * Testing only: a build without error injection (release) refuses to start
 * with it set rather than ignore it.
 */
static int arm_startup_errinj(void)
{
    const char *spec = getenv("ENGRAM_ERRINJ");
    char point[32], count[24], errname[16] = "EIO", extra[2];
    long long n = 0;
    int fields;
    if (!spec || !*spec)
        return 0;
    fields = sscanf(spec, "%31s %23s %15s %1s", point, count, errname, extra);
    if (fields == 2 && strcmp(point, "signal-eventfd") == 0 && strcmp(count, "1") == 0 &&
        server_errinj_no_signal_fd()) {
        /* A start-up-only point: start without the signal eventfd. */
    } else if (fields < 2 || fields > 3 || !util_str_to_ll(count, strlen(count), &n) || n < 1 ||
               n > INT_MAX || (strcmp(errname, "EIO") != 0 && strcmp(errname, "ENOSPC") != 0) ||
               !durable_errinj(point, (int)n, strcmp(errname, "ENOSPC") == 0 ? ENOSPC : EIO)) {
        fprintf(stderr, "ENGRAM_ERRINJ=\"%s\": expected \"<point> <N> [EIO|ENOSPC]\" with a "
                        "point this build injects (debug and ASan builds only)\n", spec);
        return -1;
    }
    log_warning("ENGRAM_ERRINJ=\"%s\" armed: for tests only", spec);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("engram server v=%s (Redis %s compatible)\n", ENGRAM_VERSION,
               COMPAT_REDIS_VERSION);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage();
        return 0;
    }
    if (load_config(argc, argv) != 0)
        return 1;
    if (log_open(server.cfg.logfile) != 0) {
        fprintf(stderr, "Can't open the log file %s\n", server.cfg.logfile);
        return 1;
    }
    if (arm_startup_errinj() != 0 || server_init() != 0)
        return 1;
    server_run();
    server_free();
    return server.exit_code;
}
