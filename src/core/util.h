#pragma once
/*
 * util.h - small pure helpers: number parsing and formatting with Redis 7.0's
 * exact rules, glob matching, the sdssplitargs tokenizer, hashing, randomness.
 *
 * Unless a function says otherwise it is pure, allocates nothing, may be
 * called from any thread, and takes binary strings as (pointer, length): the
 * bytes need not be NUL-terminated and may contain NUL. Pointer arguments are
 * borrowed for the duration of the call.
 *
 * The float parsers and formatters use the C library (strtod, snprintf), so
 * they assume the "C" LC_NUMERIC locale, which is in force because the
 * server never calls setlocale().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer that holds any util_ll_to_str() result plus its NUL: "-9223372036854775808". */
#define UTIL_LL_STR_BYTES 21
/* Buffer that holds any util_double_to_str() result plus its NUL ("%.17g" needs at
 * most 24 characters, e.g. "-2.2250738585072014e-308"). */
#define UTIL_DOUBLE_STR_BYTES 32
/* Redis's MAX_LONG_DOUBLE_CHARS. util_str_to_ld() rejects inputs of this many bytes
 * or more, and a buffer of this size holds any util_ld_to_str() result, including
 * "%.17Lf" of LDBL_MAX (4,933 integer digits). */
#define UTIL_LD_STR_BYTES 5120

/*
 * Parses s[0..len) as a long long with Redis's string2ll rules: an optional '-',
 * then "0" alone or a digit 1-9 followed by digits; no '+', no spaces, no leading
 * zeros, no "-0", not empty, within LLONG_MIN..LLONG_MAX. These are exactly the
 * strings that util_ll_to_str() produces, so a value that passes can be stored
 * as an integer and printed back unchanged.
 * Returns true and sets *out (if out is not NULL) on success; false leaves *out alone.
 */
bool util_str_to_ll(const char *s, size_t len, long long *out);

/*
 * Parses s[0..len) as a long double like Redis's string2ld (INCRBYFLOAT): strtold
 * syntax (so "+1", ".5", "5.", "1e3", "0x1p3", "inf", "infinity" are accepted), but
 * the whole input must be consumed; rejects empty input, len >= UTIL_LD_STR_BYTES,
 * leading whitespace, trailing bytes (including whitespace and NUL), NaN, overflow
 * to infinity and underflow to zero ("1e-5000"); a denormal result is accepted.
 * Returns true and sets *out (if not NULL) on success.
 */
bool util_str_to_ld(const char *s, size_t len, long double *out);

/*
 * Parses s[0..len) as a double like Redis's string2d (sorted-set scores): the same
 * rules as util_str_to_ld() with strtod and no length cap. "inf", "+inf", "-inf",
 * "Infinity" (any case) are accepted; "nan", "1e400", "1e-400", " 1", "1 " and ""
 * are not. Inputs longer than 255 bytes are copied to a temporary heap buffer
 * (mem_alloc, freed before returning); shorter ones use the stack.
 * Returns true and sets *out (if not NULL) on success.
 */
bool util_str_to_double(const char *s, size_t len, double *out);

/*
 * Writes v in decimal to buf, followed by a NUL. LLONG_MIN works.
 * Returns the length without the NUL, or -1 if cap is too small for the digits and
 * the NUL (UTIL_LL_STR_BYTES is always enough); on -1 buf's content is unspecified.
 */
int util_ll_to_str(char *buf, size_t cap, long long v);

/*
 * Formats a long double as Redis's ld2string. human=true is LD_STR_HUMAN, used for
 * INCRBYFLOAT values and replies: "%.17Lf", then trailing zeros after the '.' and
 * a trailing '.' are removed, and "-0" becomes "0" (so 3.0 -> "3", 10.6 -> "10.6",
 * -1e-20 -> "0"). human=false is LD_STR_AUTO: "%.17Lg". Infinities are written
 * "inf" and "-inf" in both modes; NaN is written as the C library does ("nan").
 * Writes a NUL after the text. Returns the length without the NUL, or -1 if the
 * unstripped snprintf text and its NUL do not fit in cap bytes, as in Redis (so
 * 123.0 needs 22 bytes although "123" is the result). UTIL_LD_STR_BYTES always fits.
 */
int util_ld_to_str(char *buf, size_t cap, long double v, bool human);

/*
 * Formats a double as Redis 7.0 replies with one (RESP2 bulk or RESP3 double,
 * ZSCORE, ZRANGE WITHSCORES): "%.17g", with "inf" and "-inf" for infinities.
 * So 1 -> "1", 0.1 -> "0.10000000000000001", 1e16 -> "10000000000000000",
 * 1e17 -> "1e+17", -0.0 -> "-0". (Redis 7.2 switched to shortest round-trip
 * output; 7.0 is the reference here.)
 * Writes a NUL after the text. Returns the length without the NUL, or -1 if it
 * does not fit (UTIL_DOUBLE_STR_BYTES always fits).
 */
int util_double_to_str(char *buf, size_t cap, double v);

/*
 * Matches s[0..slen) against the glob pattern pat[0..plen) with the semantics of
 * Redis's stringmatchlen (KEYS, SCAN MATCH, PSUBSCRIBE):
 *   *        any run of bytes, including none
 *   ?        any one byte
 *   [abc]    one byte of the set; [^abc] one byte not in it; [a-z] a range, also
 *            reversed ([z-a] is [a-z]); \x inside brackets is the literal byte x
 *            (compared exactly, even with nocase); a ']' right after '[' or '[^'
 *            closes an empty set (no POSIX "[]a]"); an unterminated '[' set ends at
 *            the end of the pattern; "[a-]" is the range 'a'..']' (the '-' binds
 *            the next byte, even ']').
 *   \x       the literal byte x; a lone trailing '\' matches a '\'.
 * An empty s matches only an empty pattern: in Redis not even "*" or "**" matches
 * the empty string. KEYS and SCAN test for the pattern "*" before calling the
 * matcher and then match every key, the empty key included; callers that want
 * that must do the same. A pattern with more than 1000 runs of '*' followed by
 * more pattern never matches (Redis's recursion limit, CVE-2024-31228).
 * nocase folds ASCII letters only. Bytes compare as unsigned; Redis compares
 * ranges with plain (signed on x86) char, which differs only for ranges whose
 * ends straddle 0x7f/0x80.
 * Work is bounded by O(plen * slen) byte steps with no recursion and no
 * allocation: a star only ever backtracks to the most recent star, which is
 * enough because every other element consumes exactly one byte. So
 * "a*a*a*a*a*a*a*a*b" against a long run of 'a' is quadratic at worst, not
 * exponential.
 */
bool util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

/*
 * Parses a memory size like Redis's memtoull (maxmemory, client-output-buffer-limit):
 * decimal digits, then an optional unit, case-insensitive: b = 1, k = 1000,
 * kb = 1024, m = 1000^2, mb = 1024^2, g = 1000^3, gb = 1024^3. Leading zeros are
 * allowed; signs, spaces, fractions and other units are not.
 * Returns 0 and sets *out, or -1 (garbage, bad unit, a '-', more than 127 digits,
 * or a result above LLONG_MAX).
 * Deliberate differences from Redis 7.0.15, which accepts "" and a bare unit such
 * as "kb" as 0, saturates digits above ULLONG_MAX, and lets the unit multiplication
 * wrap ("17179869184gb" is 0): all of those are -1 here.
 */
int util_parse_memory(const char *s, size_t len, long long *out);

/*
 * Splits a redis.conf line or an inline command like Redis's sdssplitargs.
 *   - Tokens are separated by whitespace (" \t\n\v\f\r" between tokens).
 *   - An unquoted token ends at ' ', '\t', '\n', '\r' or the end of the line
 *     (so '\v' and '\f' inside a token are kept).
 *   - "double quotes" take \n \r \t \b \a \xHH (two hex digits), and \c for any
 *     other c means c itself (\" \\ \z).
 *   - 'single quotes' take \' as a quote; every other byte, '\' included, is literal.
 *   - A quote inside an unquoted token opens a quoted part of the same token
 *     (foo"bar" is the one token foobar).
 *   - A closing quote must be followed by whitespace or the end of the line;
 *     otherwise, and for an unterminated quote, the whole line is an error.
 *   - A NUL byte ends the line, as in Redis (which works on C strings); the rest is
 *     ignored. (A NUL inside a token can still be written as "\x00".)
 * On success returns 0 and sets *argc_out (0 for an empty or blank line), *argv_out
 * and *lens_out; argv[i] is NUL-terminated and lens[i] is its length, since a token
 * may contain NUL. The caller owns the result and frees it with util_free_args()
 * (for argc 0 both arrays are NULL). On error returns -1 and sets *argv_out and
 * *lens_out to NULL and *argc_out to 0; there is nothing to free.
 * Allocates through mem_alloc (aborts on OOM). Any thread.
 */
int util_split_args(const char *line, size_t len, char ***argv_out, size_t **lens_out,
                    int *argc_out);

/* Frees a util_split_args() result (takes ownership). NULL arrays are allowed. */
void util_free_args(char **argv, size_t *lens, int argc);

/*
 * A fast 64-bit hash for in-memory hash tables (a wyhash-style multiply-fold
 * design; short keys take one or two 128-bit multiplies). The seed selects the
 * function: pick it at random at startup so clients cannot aim collisions. Not
 * cryptographic, and not stable across CPU byte orders: never persist the values.
 * Reads data[0..len) with memcpy, so any alignment is fine. data may be NULL if
 * len is 0.
 */
uint64_t util_hash(const void *data, size_t len, uint64_t seed);

/*
 * Fills buf with len bytes from the kernel's CSPRNG (getrandom(2), or /dev/urandom
 * where getrandom is missing). Panics if neither works: running without entropy is
 * not an option. Any thread; may block only at early boot before the pool is ready.
 */
void util_rand_bytes(void *buf, size_t len);

/*
 * A fast non-cryptographic 64-bit random number (xoshiro256**), for sampling
 * (eviction, RANDOMKEY, SRANDMEMBER). Seeded from util_rand_bytes() on first use.
 * NOT thread-safe: one global state, meant for the loop thread; another thread
 * needs its own generator. A forked child continues the parent's sequence.
 */
uint64_t util_rand_u64(void);

/* Reseeds util_rand_u64() deterministically (tests, reproducible runs). Same thread rule. */
void util_rand_seed(uint64_t seed);

/*
 * True iff a[0..alen) equals the NUL-terminated ASCII word b ignoring ASCII case
 * ("Ex" vs "EX"). The lengths must match: an a containing NUL never matches.
 */
bool util_strcaseeq(const char *a, size_t alen, const char *b);

/* Writes the lowercase hex of in[0..len) to out: 2 * len characters and a NUL. */
void util_hex(const unsigned char *in, size_t len, char *out);
