/*
 * log.c - the server log.
 *
 * Design
 *   One FILE*, line buffered, written with one fprintf per line so lines
 *   from different threads do not interleave (stdio locks the stream).
 *
 * Threads
 *   Any thread; log_open() and log_set_level() at start-up or on the loop.
 */
#include "core/log.h"

#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static FILE *log_file;
static enum log_level log_level = LOG_NOTICE;

static const char *const level_names[] = {"debug", "verbose", "notice", "warning"};

int log_open(const char *path)
{
    FILE *f;
    if (!path || !*path) {
        log_file = NULL;
        return 0;
    }
    f = fopen(path, "a");
    if (!f)
        return -1;
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file)
        fclose(log_file);
    log_file = f;
    return 0;
}

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

bool log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    char msg[2048], stamp[64];
    va_list ap;
    int64_t now_ms = clock_wall_ms();
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    FILE *f = log_file ? log_file : stdout;

    if (level < log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    localtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%d %b %Y %H:%M:%S", &tm);
    fprintf(f, "%d:M %s.%03d %c %s\n", (int)getpid(), stamp, (int)(now_ms % 1000), marks[level],
            msg);
    fflush(f);
}
