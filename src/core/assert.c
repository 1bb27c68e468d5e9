/*
 * assert.c - failure reporting for ASSERT and PANIC.
 *
 * Design
 *   Writes the message and a backtrace to stderr with async-signal-safe
 *   calls where possible, then abort()s so a core dump can be taken.
 *
 * Threads
 *   Any thread.
 */
#include "core/assert.h"

#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void backtrace_to_stderr(void)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void assert_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "=== ASSERTION FAILED ===\n%s:%d: %s\n", file, line, expr);
    backtrace_to_stderr();
    abort();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "=== PANIC ===\n%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    backtrace_to_stderr();
    abort();
}
