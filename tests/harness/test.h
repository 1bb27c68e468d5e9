#pragma once
/*
 * test.h - the in-house unit-test harness (STYLE.md C8), modelled on libuv's runner.
 *
 * Writing a test
 *   #include "harness/test.h"
 *
 *   TEST(buf_append_grows)
 *   {
 *       T_EQ_INT(1 + 1, 2);
 *   }
 *
 *   TEST(name) defines a test function and registers it from an
 *   __attribute__((constructor)), so there is no list to edit. The name must be a
 *   valid C identifier, unique across the whole test binary: prefix it with the
 *   module. (The compiler catches a clash within one file; the runner refuses to
 *   start when two files define the same name.)
 *
 * Running
 *   The runner (runner.c) runs every registered test, in order of source file
 *   name and then line, each in a forked child with a timeout, and prints TAP:
 *       1..3
 *       ok 1 - buf_append_grows
 *       not ok 2 - buf_shrink
 *       ok 3 - buf_huge # SKIP needs 8 GB
 *       1 passed, 1 failed, 1 skipped
 *   The last line is always "N passed, N failed" (", N skipped" only when there
 *   are skips); the exit code is 0 iff nothing failed (2 for bad usage). Options:
 *       --filter SUBSTR   run only tests whose name contains SUBSTR
 *       --no-fork         run in-process (for gdb); a crash then ends the run
 *       --timeout SEC     per-test timeout in forked mode (default 60)
 *       --list            print the selected test names and exit
 *
 * Assertions
 *   Each T_* macro evaluates its arguments exactly once. On failure it prints
 *   "# file:line: <macro>(<expr>...): <values>" to stderr and ends the test as
 *   failed at once (it does not return). T_SKIP ends the test as skipped. They
 *   may be called from helper functions called by a test, but only on the thread
 *   that runs the test.
 *
 *   T_ASSERT(cond)                 cond is true
 *   T_EQ_INT(a, b)                 equal as long long
 *   T_EQ_U64(a, b)                 equal as uint64_t
 *   T_EQ_STR(a, b)                 equal NUL-terminated strings (both NULL is equal)
 *   T_EQ_MEM(a, alen, b, blen)     equal lengths and bytes
 *   T_OK(rc)                       rc == 0 (prints rc, and strerror(-rc) if it looks
 *                                  like a -errno)
 *   T_NULL(p), T_NOT_NULL(p)       pointer is / is not NULL
 *   T_SKIP(reason)                 end the test as skipped; reason is a string
 *
 * Memory: a test that fails leaks whatever it allocated; in forked mode the
 * child exits, so this only matters with --no-fork. A forked child that passes
 * leaves through exit(), so LeakSanitizer (in ASan builds) checks it for leaks,
 * and a leak fails the test.
 */
#include <stddef.h>
#include <stdint.h>

/* One registered test. Static storage, created by TEST(); the runner only reads it. */
struct test_case {
    const char *name;       /* the identifier given to TEST() */
    void (*fn)(void);       /* the test body */
    const char *file;       /* __FILE__ of the definition */
    int line;               /* __LINE__ of the definition */
    struct test_case *next; /* registration list, owned by the runner */
};

/* Adds t to the runner's list. t must have static storage. Called from constructors. */
void test__register(struct test_case *t);

/* Report a failure at file:line (printf-style message) and end the test. Never returns. */
void test__fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* End the test as skipped with reason (borrowed; copied). Never returns. */
void test__skip(const char *file, int line, const char *reason) __attribute__((noreturn));

/* Helpers behind T_EQ_STR / T_EQ_MEM / T_OK: they print and end the test on mismatch. */
void test__eq_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                  const char *b);
void test__eq_mem(const char *file, int line, const char *ea, const char *eb, const void *a,
                  size_t alen, const void *b, size_t blen);
void test__ok(const char *file, int line, const char *expr, long long rc);

#define TEST(name)                                                                                 \
    static void test_fn_##name(void);                                                              \
    static struct test_case test_case_##name = {#name, test_fn_##name, __FILE__, __LINE__, NULL};  \
    __attribute__((constructor)) static void test_register_##name(void)                            \
    {                                                                                              \
        test__register(&test_case_##name);                                                         \
    }                                                                                              \
    static void test_fn_##name(void)

#define T_ASSERT(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test__fail(__FILE__, __LINE__, "T_ASSERT(%s) failed", #cond);                          \
    } while (0)

#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t__a = (long long)(a);                                                           \
        long long t__b = (long long)(b);                                                           \
        if (t__a != t__b)                                                                          \
            test__fail(__FILE__, __LINE__, "T_EQ_INT(%s, %s): %lld != %lld", #a, #b, t__a, t__b);  \
    } while (0)

#define T_EQ_U64(a, b)                                                                             \
    do {                                                                                           \
        uint64_t t__a = (uint64_t)(a);                                                             \
        uint64_t t__b = (uint64_t)(b);                                                             \
        if (t__a != t__b)                                                                          \
            test__fail(__FILE__, __LINE__, "T_EQ_U64(%s, %s): %llu != %llu (0x%llx != 0x%llx)",    \
                       #a, #b, (unsigned long long)t__a, (unsigned long long)t__b,                 \
                       (unsigned long long)t__a, (unsigned long long)t__b);                        \
    } while (0)

#define T_EQ_STR(a, b) test__eq_str(__FILE__, __LINE__, #a, #b, (a), (b))

#define T_EQ_MEM(a, alen, b, blen)                                                                 \
    test__eq_mem(__FILE__, __LINE__, #a, #b, (a), (size_t)(alen), (b), (size_t)(blen))

#define T_OK(rc) test__ok(__FILE__, __LINE__, #rc, (long long)(rc))

#define T_NULL(p)                                                                                  \
    do {                                                                                           \
        const void *t__p = (p);                                                                    \
        if (t__p != NULL)                                                                          \
            test__fail(__FILE__, __LINE__, "T_NULL(%s): got %p", #p, t__p);                        \
    } while (0)

#define T_NOT_NULL(p)                                                                              \
    do {                                                                                           \
        if ((p) == NULL)                                                                           \
            test__fail(__FILE__, __LINE__, "T_NOT_NULL(%s): got NULL", #p);                        \
    } while (0)

#define T_SKIP(reason) test__skip(__FILE__, __LINE__, (reason))
