#pragma once
/*
 * assert.h - the three assertion tiers (STYLE.md C5).
 *
 * ASSERT(x) and PANIC(fmt, ...) are always on: they log file:line, the
 * expression and a backtrace, then abort(). DEBUG_ASSERT(x) is compiled only
 * in debug builds (-DDEBUG). Never use any of them on bytes from outside.
 */
#include <assert.h>

#define ASSERT(x)                                                                          \
    do {                                                                                   \
        if (__builtin_expect(!(x), 0))                                                     \
            assert_fail(__FILE__, __LINE__, #x);                                           \
    } while (0)

#define PANIC(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#ifdef DEBUG
#define DEBUG_ASSERT(x) ASSERT(x)
#else
#define DEBUG_ASSERT(x) ((void)0)
#endif

/* Log and abort. Never returns. Any thread. */
void assert_fail(const char *file, int line, const char *expr) __attribute__((noreturn));
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
