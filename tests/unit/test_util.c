/*
 * test_util.c - unit tests for core/util.c.
 *
 * Design
 *   The expected values were checked against redis-server 7.0.15 (INCRBY,
 *   INCRBYFLOAT, ZADD/ZSCORE, KEYS, CONFIG SET maxmemory and inline commands),
 *   plus randomized differential runs against that server during development.
 *   Each function gets its accepted forms, its boundaries (one past each limit)
 *   and its rejected forms.
 *
 * Conventions
 *   S("lit") expands to a string literal and its length without the NUL, so
 *   literals with embedded NUL bytes keep their full length.
 */
#include "harness/test.h"

#include "core/mem.h"
#include "core/util.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- util_str_to_ll / util_ll_to_str ---- */

static long long parse_ll_ok(const char *s, size_t len)
{
    long long v = 0;
    if (!util_str_to_ll(s, len, &v))
        test__fail(__FILE__, __LINE__, "util_str_to_ll rejected \"%.*s\"", (int)len, s);
    return v;
}

TEST(util_str_to_ll_accepts)
{
    T_EQ_INT(parse_ll_ok(S("0")), 0);
    T_EQ_INT(parse_ll_ok(S("1")), 1);
    T_EQ_INT(parse_ll_ok(S("-1")), -1);
    T_EQ_INT(parse_ll_ok(S("1234567890")), 1234567890LL);
    T_EQ_INT(parse_ll_ok(S("9223372036854775807")), LLONG_MAX);
    T_EQ_INT(parse_ll_ok(S("-9223372036854775808")), LLONG_MIN);
    T_EQ_INT(parse_ll_ok(S("-9223372036854775807")), -LLONG_MAX);
    T_EQ_INT(parse_ll_ok("123456", 3), 123); /* length, not NUL, ends the input */
    T_ASSERT(util_str_to_ll(S("42"), NULL)); /* out may be NULL */
}

TEST(util_str_to_ll_rejects)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {S("")},
        {S("-")},
        {S("-0")},
        {S("01")},
        {S("-01")},
        {S("00")},
        {S("+1")},
        {S(" 1")},
        {S("1 ")},
        {S("1a")},
        {S("1.0")},
        {S("1e3")},
        {S("--1")},
        {S("1\0")},
        {S("9223372036854775808")},   /* LLONG_MAX + 1 */
        {S("-9223372036854775809")},  /* LLONG_MIN - 1 */
        {S("18446744073709551616")},  /* 2^64: wraps an unsigned accumulator */
        {S("99999999999999999999")},  /* 20 digits */
        {S("100000000000000000000")}, /* 21 bytes */
        {S("-100000000000000000000")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v = 77;
        if (util_str_to_ll(bad[i].s, bad[i].len, &v))
            test__fail(__FILE__, __LINE__, "accepted \"%.*s\"", (int)bad[i].len, bad[i].s);
        T_EQ_INT(v, 77); /* untouched on failure */
    }
}

static void check_ll_str(long long v, const char *want)
{
    char buf[UTIL_LL_STR_BYTES];
    int n = util_ll_to_str(buf, sizeof(buf), v);
    T_EQ_INT(n, (long long)strlen(want));
    T_EQ_STR(buf, want);
}

TEST(util_ll_to_str_values)
{
    check_ll_str(0, "0");
    check_ll_str(7, "7");
    check_ll_str(-7, "-7");
    check_ll_str(1000000, "1000000");
    check_ll_str(LLONG_MAX, "9223372036854775807");
    check_ll_str(LLONG_MIN, "-9223372036854775808");
}

TEST(util_ll_to_str_capacity)
{
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    T_EQ_INT(util_ll_to_str(buf, 4, -123), -1); /* needs 5 with the NUL */
    T_EQ_INT(util_ll_to_str(buf, 5, -123), 4);
    T_EQ_STR(buf, "-123");
    T_EQ_INT(util_ll_to_str(buf, 0, 0), -1);
    T_EQ_INT(util_ll_to_str(buf, 1, 0), -1);
    T_EQ_INT(util_ll_to_str(buf, 2, 0), 1);
    T_EQ_STR(buf, "0");
}

TEST(util_ll_roundtrip)
{
    char buf[UTIL_LL_STR_BYTES];
    long long back;

    util_rand_seed(12345);
    for (int i = 0; i < 100000; i++) {
        uint64_t r = util_rand_u64();
        /* Vary the magnitude so short and long numbers are both covered. */
        long long v = (long long)(r >> (r & 63));
        if (i & 1)
            v = -v;
        int n = util_ll_to_str(buf, sizeof(buf), v);
        T_ASSERT(n > 0);
        T_ASSERT(util_str_to_ll(buf, (size_t)n, &back));
        T_EQ_INT(back, v);
    }
}

/* ---- util_str_to_ld / util_ld_to_str ---- */

TEST(util_str_to_ld_accepts)
{
    long double v;

    T_ASSERT(util_str_to_ld(S("1.5"), &v));
    T_ASSERT(v == 1.5L);
    T_ASSERT(util_str_to_ld(S("+1"), &v));
    T_ASSERT(v == 1.0L);
    T_ASSERT(util_str_to_ld(S(".5"), &v));
    T_ASSERT(v == 0.5L);
    T_ASSERT(util_str_to_ld(S("5."), &v));
    T_ASSERT(v == 5.0L);
    T_ASSERT(util_str_to_ld(S("-3e2"), &v));
    T_ASSERT(v == -300.0L);
    T_ASSERT(util_str_to_ld(S("0x1p3"), &v)); /* strtold syntax: hex floats */
    T_ASSERT(v == 8.0L);
    T_ASSERT(util_str_to_ld(S("0x10"), &v));
    T_ASSERT(v == 16.0L);
    T_ASSERT(util_str_to_ld(S("inf"), &v));
    T_ASSERT(isinf(v) && v > 0);
    T_ASSERT(util_str_to_ld(S("-Infinity"), &v));
    T_ASSERT(isinf(v) && v < 0);
    T_ASSERT(util_str_to_ld(S("1e-4950"), &v)); /* denormal: ERANGE but not zero */
    T_ASSERT(v > 0);
    T_ASSERT(util_str_to_ld("2.5junk", 3, &v)); /* only len bytes are read */
    T_ASSERT(v == 2.5L);
}

TEST(util_str_to_ld_rejects)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {S("")},        {S(" 1")},      {S("1 ")},   {S("\t1")},    {S("1\n")}, {S("1e")},
        {S("nan")},     {S("NaN")},     {S("-nan")}, {S("1e5000")}, /* overflow */
        {S("-1e5000")}, {S("1e-5000")},                             /* underflow to zero */
        {S("abc")},     {S("1\0002")},  {S("1,5")},  {S("+")},      {S(".")},   {S("0x")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long double v = 7;
        if (util_str_to_ld(bad[i].s, bad[i].len, &v))
            test__fail(__FILE__, __LINE__, "accepted \"%.*s\"", (int)bad[i].len, bad[i].s);
        T_ASSERT(v == 7);
    }
}

TEST(util_str_to_ld_length_cap)
{
    /* "1." followed by zeros: valid at any length, so only the cap can reject it. */
    char *s = mem_alloc(UTIL_LD_STR_BYTES + 1);
    long double v;

    memset(s, '0', UTIL_LD_STR_BYTES + 1);
    s[0] = '1';
    s[1] = '.';
    T_ASSERT(util_str_to_ld(s, UTIL_LD_STR_BYTES - 1, &v)); /* 5119 bytes: accepted */
    T_ASSERT(v == 1.0L);
    T_ASSERT(!util_str_to_ld(s, UTIL_LD_STR_BYTES, &v)); /* 5120 bytes: rejected */
    mem_free(s);
}

static void check_ld_str(long double v, bool human, const char *want)
{
    char buf[UTIL_LD_STR_BYTES];
    int n = util_ld_to_str(buf, sizeof(buf), v, human);
    T_EQ_STR(buf, want);
    T_EQ_INT(n, (long long)strlen(want));
}

TEST(util_ld_to_str_human)
{
    check_ld_str(10.5L + 0.1L, true, "10.6");
    check_ld_str(3.0L, true, "3");
    check_ld_str(3000.0L, true, "3000");
    check_ld_str(0.1L, true, "0.1");
    check_ld_str(-4.5L, true, "-4.5");
    check_ld_str(1e20L, true, "100000000000000000000");
    check_ld_str(0.0L, true, "0");
    check_ld_str(-0.0L, true, "0");
    check_ld_str(-1e-20L, true, "0"); /* rounds to -0 at 17 decimals */
    check_ld_str(1e-20L, true, "0");
    check_ld_str(1.23456789012345678L, true, "1.23456789012345678");
    check_ld_str(INFINITY, true, "inf");
    check_ld_str(-INFINITY, true, "-inf");
}

TEST(util_ld_to_str_auto)
{
    check_ld_str(0.1L, false, "0.1");
    check_ld_str((long double)0.1, false, "0.10000000000000001");
    check_ld_str(1e20L, false, "1e+20");
    check_ld_str(3.0L, false, "3");
    check_ld_str(-0.0L, false, "-0");
    check_ld_str(INFINITY, false, "inf");
    check_ld_str(-INFINITY, false, "-inf");
}

TEST(util_ld_to_str_capacity)
{
    char *buf = mem_alloc(UTIL_LD_STR_BYTES);
    char small[8];

    /* The largest finite value in human form still fits the documented size. */
    T_ASSERT(util_ld_to_str(buf, UTIL_LD_STR_BYTES, -LDBL_MAX, true) > 4900);
    T_EQ_INT(util_ld_to_str(small, sizeof(small), 1e20L, true), -1);
    T_EQ_INT(util_ld_to_str(small, 4, -INFINITY, true), -1);
    T_EQ_INT(util_ld_to_str(small, 5, -INFINITY, true), 4);
    T_EQ_INT(util_ld_to_str(small, 4, 123.0L, true), -1); /* "%.17Lf" needs room first */
    mem_free(buf);
}

/* ---- util_str_to_double / util_double_to_str ---- */

TEST(util_str_to_double_accepts)
{
    double v;

    T_ASSERT(util_str_to_double(S("1"), &v));
    T_ASSERT(v == 1.0);
    T_ASSERT(util_str_to_double(S("-1.5"), &v));
    T_ASSERT(v == -1.5);
    T_ASSERT(util_str_to_double(S("+1.5"), &v));
    T_ASSERT(v == 1.5);
    T_ASSERT(util_str_to_double(S("0x10"), &v));
    T_ASSERT(v == 16.0);
    T_ASSERT(util_str_to_double(S("inf"), &v));
    T_ASSERT(isinf(v) && v > 0);
    T_ASSERT(util_str_to_double(S("+inf"), &v));
    T_ASSERT(isinf(v) && v > 0);
    T_ASSERT(util_str_to_double(S("-INF"), &v));
    T_ASSERT(isinf(v) && v < 0);
    T_ASSERT(util_str_to_double(S("Infinity"), &v));
    T_ASSERT(isinf(v));
    T_ASSERT(util_str_to_double(S("1e-310"), &v)); /* denormal */
    T_ASSERT(v > 0 && v < DBL_MIN);
    T_ASSERT(util_str_to_double(S("1.7976931348623157e308"), &v));
    T_ASSERT(v == DBL_MAX);
    T_ASSERT(util_str_to_double(S("-0"), &v));
    T_ASSERT(v == 0 && signbit(v));
    T_ASSERT(util_str_to_double("7.25xyz", 4, &v)); /* only len bytes are read */
    T_ASSERT(v == 7.25);
}

TEST(util_str_to_double_rejects)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {S("")},     {S(" 1")},    {S("1 ")},     {S("\n1")},    {S("nan")},
        {S("-nan")}, {S("1e400")}, {S("-1e400")}, {S("1e-400")}, {S("1e")},
        {S("1\0")},  {S("1,5")},   {S("inf ")},   {S("infx")},   {S("x")},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v = 7;
        if (util_str_to_double(bad[i].s, bad[i].len, &v))
            test__fail(__FILE__, __LINE__, "accepted \"%.*s\"", (int)bad[i].len, bad[i].s);
        T_ASSERT(v == 7);
    }
}

TEST(util_str_to_double_long_input)
{
    /* Longer than the stack copy: "1" + 300 zeros is 1e300, "1" + 400 zeros overflows,
     * and "0." + 400 zeros + "1" underflows to zero. */
    char *s = mem_alloc(500);
    double v;

    memset(s, '0', 500);
    s[0] = '1';
    T_ASSERT(util_str_to_double(s, 301, &v));
    T_ASSERT(v == 1e300);
    T_ASSERT(!util_str_to_double(s, 401, &v));
    s[0] = '0';
    s[1] = '.';
    s[402] = '1';
    T_ASSERT(!util_str_to_double(s, 403, &v));
    s[402] = '0';
    T_ASSERT(util_str_to_double(s, 403, &v)); /* an exact zero is fine */
    T_ASSERT(v == 0);
    mem_free(s);
}

static void check_double_str(double v, const char *want)
{
    char buf[UTIL_DOUBLE_STR_BYTES];
    int n = util_double_to_str(buf, sizeof(buf), v);
    T_EQ_STR(buf, want);
    T_EQ_INT(n, (long long)strlen(want));
}

TEST(util_double_to_str_values)
{
    check_double_str(1, "1");
    check_double_str(3.0, "3");
    check_double_str(-1.5, "-1.5");
    check_double_str(0.1, "0.10000000000000001");
    check_double_str(0.3, "0.29999999999999999");
    check_double_str(1e16, "10000000000000000");
    check_double_str(1e17, "1e+17");
    check_double_str(1e20, "1e+20");
    check_double_str(123456789012345678.0, "1.2345678901234568e+17");
    check_double_str(1e-5, "1.0000000000000001e-05");
    check_double_str(5e-324, "4.9406564584124654e-324");
    check_double_str(-0.0, "-0");
    check_double_str(0.0, "0");
    check_double_str(INFINITY, "inf");
    check_double_str(-INFINITY, "-inf");
    check_double_str(-DBL_MAX, "-1.7976931348623157e+308");
    check_double_str(-DBL_MIN, "-2.2250738585072014e-308"); /* the longest form: 24 */
}

TEST(util_double_to_str_capacity)
{
    char buf[8];
    T_EQ_INT(util_double_to_str(buf, sizeof(buf), 0.1), -1);
    T_EQ_INT(util_double_to_str(buf, 3, 12.0), 2);
    T_EQ_STR(buf, "12");
    T_EQ_INT(util_double_to_str(buf, 2, 12.0), -1);
    T_EQ_INT(util_double_to_str(buf, 3, INFINITY), -1);
    T_EQ_INT(util_double_to_str(buf, 4, INFINITY), 3);
}

/* ---- util_glob_match ---- */

struct glob_case {
    const char *pat;
    const char *s;
    bool nocase;
    bool want;
};

static const struct glob_case glob_cases[] = {
    {"", "", false, true},
    {"", "a", false, false},
    {"*", "", false, false}, /* Redis quirk: an empty string never matches "*" */
    {"**", "", false, false},
    {"*", "anything", false, true},
    {"a*", "a", false, true},
    {"a*", "abc", false, true},
    {"*c", "abc", false, true},
    {"*c", "abd", false, false},
    {"a*b*c", "aXXbYYc", false, true},
    {"a*b*c", "aXXbYY", false, false},
    {"a**b", "ab", false, true},
    {"?", "", false, false},
    {"?", "x", false, true},
    {"??", "x", false, false},
    {"h?llo", "hello", false, true},
    {"h[ae]llo", "hallo", false, true},
    {"h[ae]llo", "hillo", false, false},
    {"h[^e]llo", "hallo", false, true},
    {"h[^e]llo", "hello", false, false},
    {"h[a-b]llo", "hbllo", false, true},
    {"h[a-b]llo", "hcllo", false, false},
    {"[z-a]", "m", false, true}, /* reversed range */
    {"[z-a]", "A", false, false},
    {"[]", "a", false, false}, /* ']' right after '[' closes an empty set */
    {"[]a]", "a", false, false},
    {"[]a]", "]", false, false},
    {"[]a]", "]a]", false, false},
    {"[^]", "a", false, true}, /* negated empty set: any byte */
    {"[^]a", "xa", false, true},
    {"[a-]", "a", false, true}, /* 'a'..']' */
    {"[a-]", "]", false, true},
    {"[a-]", "^", false, true},
    {"[a-]", "-", false, false},
    {"[abc", "b", false, true}, /* unterminated set ends at the pattern end */
    {"[abc", "[abc", false, false},
    {"[^", "a", false, true},
    {"[", "a", false, false},
    {"\\[a]", "[a]", false, true},
    {"\\*", "*", false, true},
    {"\\*", "a", false, false},
    {"\\?", "?", false, true},
    {"a\\", "a\\", false, true}, /* trailing backslash is literal */
    {"[\\]]", "]", false, true},
    {"[\\-z]", "-", false, true}, /* escaped '-' is not a range */
    {"[\\-z]", "b", false, false},
    {"[a\\", "\\", false, true},
    {"[a\\", "a", false, true},
    {"HELLO", "hello", true, true},
    {"hello", "HELLO", true, true},
    {"HELLO", "hello", false, false},
    {"h[A-Z]llo", "hello", true, true},
    {"h[^E]llo", "hello", true, false},
    {"[Z-a]", "b", true, false}, /* Redis folds after ordering: [z-a] folded is empty */
    {"[\\A]", "a", true, false}, /* escapes inside a set compare exactly */
    {"\\A", "a", true, true},    /* but not outside a set */
    {"*.txt", "notes.txt", false, true},
    {"user:*:name", "user:42:name", false, true},
    {"user:*:name", "user:42:mail", false, false},
};

TEST(util_glob_match_table)
{
    for (size_t i = 0; i < sizeof(glob_cases) / sizeof(glob_cases[0]); i++) {
        const struct glob_case *c = &glob_cases[i];
        bool got = util_glob_match(c->pat, strlen(c->pat), c->s, strlen(c->s), c->nocase);
        if (got != c->want)
            test__fail(__FILE__, __LINE__, "glob \"%s\" vs \"%s\" (nocase %d): got %d", c->pat,
                       c->s, c->nocase, got);
    }
}

TEST(util_glob_match_binary)
{
    T_ASSERT(util_glob_match(S("a\0*"), S("a\0bc"), false));
    T_ASSERT(!util_glob_match(S("a\0*"), S("a\1bc"), false));
    T_ASSERT(util_glob_match(S("?\0"), S("\xff\0"), false));
    T_ASSERT(util_glob_match(S("[\x80-\xff]"), S("\x90"), false));
    T_ASSERT(!util_glob_match(S("[\x80-\xff]"), S("a"), false));
    /* Only len bytes count: the pattern "ab" of "abc" does not match "abc". */
    T_ASSERT(!util_glob_match("abc", 2, "abc", 3, false));
    T_ASSERT(util_glob_match("abc", 2, "abX", 2, false));
}

TEST(util_glob_match_pathological_is_fast)
{
    size_t n = 200000;
    char *s = mem_alloc(n);
    struct timespec t0, t1;

    memset(s, 'a', n);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_ASSERT(!util_glob_match(S("a*a*a*a*a*a*a*a*b"), s, n, false));
    T_ASSERT(!util_glob_match(S("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"), s, n, true));
    T_ASSERT(util_glob_match(S("a*a*a*a*a*a*a*a*a"), s, n, false));
    T_ASSERT(!util_glob_match(S("*[^a]*"), s, n, false));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* O(plen * slen) is about 8M steps here: milliseconds, even under ASan. An
     * exponential matcher would not finish at all. */
    T_ASSERT(secs < 2.0);
    mem_free(s);
}

/* Pattern "a*" repeated runs times, then "b", and subject "a" * runs + "b". */
static bool glob_star_runs(size_t runs)
{
    char *pat = mem_alloc(2 * runs + 1), *s = mem_alloc(runs + 1);
    bool got;

    for (size_t i = 0; i < runs; i++) {
        pat[2 * i] = 'a';
        pat[2 * i + 1] = '*';
        s[i] = 'a';
    }
    pat[2 * runs] = 'b';
    s[runs] = 'b';
    got = util_glob_match(pat, 2 * runs + 1, s, runs + 1, false);
    mem_free(pat);
    mem_free(s);
    return got;
}

TEST(util_glob_match_star_limit)
{
    /* Redis (with the CVE-2024-31228 fix) matches 1000 nested stars, not 1001. */
    T_ASSERT(glob_star_runs(1000));
    T_ASSERT(!glob_star_runs(1001));
    /* Trailing stars do not nest. */
    T_ASSERT(util_glob_match(S("a*b**"), S("aXb"), false));
}

/* ---- util_parse_memory ---- */

TEST(util_parse_memory_values)
{
    static const struct {
        const char *s;
        long long want;
    } good[] = {
        {"0", 0},
        {"100", 100},
        {"007", 7},
        {"1b", 1},
        {"1B", 1},
        {"1k", 1000},
        {"1K", 1000},
        {"1kb", 1024},
        {"1KB", 1024},
        {"1kB", 1024},
        {"2m", 2000000},
        {"2mb", 2097152},
        {"3g", 3000000000LL},
        {"3Gb", 3221225472LL},
        {"9223372036854775807", LLONG_MAX},
        {"8589934591gb", 8589934591LL * 1073741824LL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        long long v = -1;
        T_OK(util_parse_memory(good[i].s, strlen(good[i].s), &v));
        T_EQ_INT(v, good[i].want);
    }
}

TEST(util_parse_memory_rejects)
{
    static const char *const bad[] = {
        "",
        "kb",
        "-1",
        "-0",
        "+1",
        " 1",
        "1 ",
        "1.5mb",
        "1 mb",
        "1t",
        "1tb",
        "0x10",
        "50%",
        "1kbb",
        "1bk",
        "9223372036854775808", /* LLONG_MAX + 1 */
        "8589934592gb",        /* 2^63: overflow in the multiplication */
        "18446744073709551616",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v = 5;
        if (util_parse_memory(bad[i], strlen(bad[i]), &v) != -1)
            test__fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
        T_EQ_INT(v, 5);
    }
    T_EQ_INT(util_parse_memory(S("1\0"), &(long long){0}), -1);
}

TEST(util_parse_memory_digit_cap)
{
    char s[130];
    long long v;

    memset(s, '0', sizeof(s));
    s[126] = '5';
    T_OK(util_parse_memory(s, 127, &v)); /* 127 digits: Redis accepts */
    T_EQ_INT(v, 5);
    s[126] = '0';
    s[127] = '5';
    T_EQ_INT(util_parse_memory(s, 128, &v), -1); /* 128 digits: Redis refuses */
}

/* ---- util_split_args ---- */

/*
 * Splits line and checks the tokens. want lists the expected tokens, each as a
 * length and bytes, ending with a negative length.
 */
static void check_split(const char *line, size_t len, int want_argc, const char *const *want,
                        const size_t *want_lens)
{
    char **argv;
    size_t *lens;
    int argc = -1;

    T_OK(util_split_args(line, len, &argv, &lens, &argc));
    T_EQ_INT(argc, want_argc);
    for (int i = 0; i < argc; i++) {
        T_EQ_MEM(argv[i], lens[i], want[i], want_lens[i]);
        T_EQ_INT(argv[i][lens[i]], '\0');
    }
    if (argc == 0) {
        T_NULL(argv);
        T_NULL(lens);
    }
    util_free_args(argv, lens, argc);
}

#define SPLIT_OK(line, ...)                                                                        \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        size_t lens_[sizeof(want_) / sizeof(want_[0])];                                            \
        for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++)                           \
            lens_[i_] = strlen(want_[i_]);                                                         \
        check_split(S(line), (int)(sizeof(want_) / sizeof(want_[0])), want_, lens_);               \
    } while (0)

TEST(util_split_args_plain)
{
    SPLIT_OK("set key value", "set", "key", "value");
    SPLIT_OK("  lead\t\ttrail  \r\n", "lead", "trail");
    SPLIT_OK("\v\f x", "x");               /* all C-locale spaces separate tokens ... */
    SPLIT_OK("a\vb c\fd", "a\vb", "c\fd"); /* ... but only " \t\r\n" end an unquoted one */
    SPLIT_OK("a\\nb", "a\\nb");            /* no escapes outside quotes */
    SPLIT_OK("x\0y z", "x");               /* a NUL ends the line, as in Redis */
    check_split(S(""), 0, NULL, NULL);
    check_split(S("   \t \r\n"), 0, NULL, NULL);
    check_split(S("\0abc"), 0, NULL, NULL);
}

TEST(util_split_args_double_quotes)
{
    SPLIT_OK("\"hello world\"", "hello world");
    SPLIT_OK("\"\"", "");
    SPLIT_OK("\"\" \"\"", "", "");
    SPLIT_OK("\"a\\n\\r\\t\\b\\a\"", "a\n\r\t\b\a");
    SPLIT_OK("\"\\\"q\\\\\"", "\"q\\");
    SPLIT_OK("\"\\z\"", "z"); /* unknown escape: the byte itself */
    SPLIT_OK("\"\\x41\\x4a\\x4A\"", "AJJ");
    SPLIT_OK("\"\\x4g\"", "x4g"); /* not two hex digits: plain \x escape */
    SPLIT_OK("\"\\x4\"", "x4");
    SPLIT_OK("foo\"bar baz\"", "foobar baz"); /* a quote inside a token */
    SPLIT_OK("\"a\"\tb", "a", "b");
    SPLIT_OK("\"a\"\v", "a"); /* \v counts as space after a quote */
}

TEST(util_split_args_hex_nul)
{
    static const char *const want[] = {"a\0b", "c"};
    static const size_t lens[] = {3, 1};
    check_split(S("\"a\\x00b\" c"), 2, want, lens);
}

TEST(util_split_args_single_quotes)
{
    SPLIT_OK("'hello world'", "hello world");
    SPLIT_OK("''", "");
    SPLIT_OK("'it\\'s'", "it's");
    SPLIT_OK("'a\\nb'", "a\\nb");   /* no other escapes */
    SPLIT_OK("'a\\\\b'", "a\\\\b"); /* not even a backslash */
    SPLIT_OK("'\"'", "\"");
    SPLIT_OK("x'y z'", "xy z");
}

TEST(util_split_args_errors)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {S("\"unterminated")}, {S("'unterminated")},
        {S("a \"b")},          {S("\"abc\"def")},    /* closing quote followed by a non-space */
        {S("'abc'def")},       {S("foo\"bar\"baz")}, /* also for a quote opened inside a token */
        {S("\"a\"'b'")},       {S("'a'\"b\"")},
        {S("\"a\"\"b\"")},     {S("\"a\\\"")}, /* escaped quote: still unterminated */
        {S("'a\\'")},          {S("\"a\\")},   /* backslash at the end inside quotes */
        {S("\"ab\0\" c")},                     /* the NUL ends the line inside the quotes */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char **argv = (char **)1;
        size_t *lens = (size_t *)1;
        int argc = -1;
        if (util_split_args(bad[i].s, bad[i].len, &argv, &lens, &argc) != -1)
            test__fail(__FILE__, __LINE__, "accepted case %zu: %s", i, bad[i].s);
        T_NULL(argv);
        T_NULL(lens);
        T_EQ_INT(argc, 0);
    }
}

TEST(util_split_args_many_tokens)
{
    /* Grows the argv array several times. */
    size_t n = 1000, len = 0;
    char *line = mem_alloc(n * 8);
    char **argv;
    size_t *lens;
    int argc;

    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(line + len, 8, "%zu ", i);
    T_OK(util_split_args(line, len, &argv, &lens, &argc));
    T_EQ_INT(argc, (long long)n);
    T_EQ_STR(argv[0], "0");
    T_EQ_STR(argv[999], "999");
    T_EQ_INT(lens[999], 3);
    util_free_args(argv, lens, argc);
    mem_free(line);
}

/* ---- util_hash ---- */

TEST(util_hash_deterministic_and_seeded)
{
    T_EQ_U64(util_hash(S("hello"), 1), util_hash(S("hello"), 1));
    T_ASSERT(util_hash(S("hello"), 1) != util_hash(S("hello"), 2));
    T_ASSERT(util_hash(S("hello"), 1) != util_hash(S("hellp"), 1));
    T_ASSERT(util_hash(NULL, 0, 1) != util_hash(NULL, 0, 2));
    T_ASSERT(util_hash(S(""), 0) != util_hash(S("\0"), 0));
    T_ASSERT(util_hash(S("\0"), 0) != util_hash(S("\0\0"), 0));
}

TEST(util_hash_every_length_and_alignment)
{
    unsigned char buf[300], shifted[310];
    uint64_t seen[257];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= 256; len++) {
        seen[len] = util_hash(buf, len, 42);
        for (size_t j = 0; j < len; j++)
            T_ASSERT(seen[len] != seen[j]); /* every prefix hashes differently */
        for (size_t off = 1; off < 8; off++) {
            memcpy(shifted + off, buf, len);
            T_EQ_U64(util_hash(shifted + off, len, 42), seen[len]);
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

TEST(util_hash_no_collisions_and_spread)
{
    enum { KEYS = 200000, BUCKETS = 1024 };
    uint64_t *h = mem_alloc(KEYS * sizeof(*h));
    unsigned counts[BUCKETS] = {0};
    char key[32];
    double chi2 = 0, expect = (double)KEYS / BUCKETS;

    for (int i = 0; i < KEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        h[i] = util_hash(key, (size_t)n, 0x1234);
        counts[h[i] & (BUCKETS - 1)]++;
    }
    for (int i = 0; i < BUCKETS; i++)
        chi2 += ((double)counts[i] - expect) * ((double)counts[i] - expect) / expect;
    /* 1023 degrees of freedom: mean 1023, sd about 45; 1300 is beyond 6 sd. */
    T_ASSERT(chi2 < 1300);
    /* Any 64-bit collision among 200k keys (chance about 1e-9) is a bug. */
    qsort(h, KEYS, sizeof(*h), cmp_u64);
    for (int i = 1; i < KEYS; i++)
        T_ASSERT(h[i - 1] != h[i]);
    mem_free(h);
}

TEST(util_hash_avalanche)
{
    /* Flipping one input bit should flip about half of the 64 output bits. */
    unsigned char key[40];
    double total = 0;
    int trials = 0;

    util_rand_seed(7);
    for (size_t len = 1; len <= sizeof(key); len += 3) {
        for (int rep = 0; rep < 20; rep++) {
            util_rand_bytes(key, len);
            uint64_t base = util_hash(key, len, 99);
            for (size_t bit = 0; bit < len * 8; bit++) {
                key[bit / 8] ^= (unsigned char)(1u << (bit % 8));
                total += __builtin_popcountll(base ^ util_hash(key, len, 99));
                key[bit / 8] ^= (unsigned char)(1u << (bit % 8));
                trials++;
            }
        }
    }
    double mean = total / trials;
    T_ASSERT(mean > 31.0 && mean < 33.0);
}

/* ---- randomness ---- */

TEST(util_rand_bytes_fills)
{
    unsigned char a[64], b[64], zero[64] = {0};
    size_t big = 1 << 20;
    unsigned char *p = mem_calloc(big);
    size_t nonzero = 0;

    util_rand_bytes(a, sizeof(a));
    util_rand_bytes(b, sizeof(b));
    T_ASSERT(memcmp(a, zero, sizeof(a)) != 0);
    T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
    util_rand_bytes(p, big); /* more than one getrandom() call may return */
    for (size_t i = big - 4096; i < big; i++)
        nonzero += p[i] != 0;
    T_ASSERT(nonzero > 4000); /* the tail was written too */
    util_rand_bytes(NULL, 0);
    mem_free(p);
}

TEST(util_rand_u64_sequence)
{
    uint64_t first[8];
    int top_bits = 0;

    util_rand_seed(1);
    for (int i = 0; i < 8; i++)
        first[i] = util_rand_u64();
    util_rand_seed(1);
    for (int i = 0; i < 8; i++)
        T_EQ_U64(util_rand_u64(), first[i]);
    util_rand_seed(2);
    T_ASSERT(util_rand_u64() != first[0]);
    util_rand_seed(0); /* a zero seed must still give a working generator */
    T_ASSERT(util_rand_u64() != 0 || util_rand_u64() != 0);
    for (int i = 0; i < 10000; i++)
        top_bits += (int)(util_rand_u64() >> 63);
    T_ASSERT(top_bits > 4500 && top_bits < 5500);
}

/* ---- util_strcaseeq, util_hex ---- */

TEST(util_strcaseeq_cases)
{
    T_ASSERT(util_strcaseeq(S("ex"), "EX"));
    T_ASSERT(util_strcaseeq(S("Nx"), "nX"));
    T_ASSERT(util_strcaseeq(S(""), ""));
    T_ASSERT(!util_strcaseeq(S("exx"), "EX"));
    T_ASSERT(!util_strcaseeq(S("e"), "EX"));
    T_ASSERT(!util_strcaseeq(S(""), "EX"));
    T_ASSERT(!util_strcaseeq(S("e\0"), "E"));
    T_ASSERT(!util_strcaseeq(S("e\0"), "EX"));
    T_ASSERT(!util_strcaseeq(S("ey"), "EX"));
    T_ASSERT(!util_strcaseeq(S("@"), "`")); /* only letters fold */
    T_ASSERT(util_strcaseeq("PXAT", 2, "px"));
}

TEST(util_hex_cases)
{
    char out[16];

    util_hex((const unsigned char *)"\x00\xff\x10"
                                    "ab",
             5, out);
    T_EQ_STR(out, "00ff106162");
    memset(out, 'x', sizeof(out));
    util_hex(NULL, 0, out);
    T_EQ_STR(out, "");
}
