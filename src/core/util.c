/*
 * util.c - number parsing and formatting with Redis 7.0's rules, glob matching,
 * the sdssplitargs tokenizer, hashing and randomness.
 *
 * Design
 *   Each function reproduces the observable behaviour of its Redis counterpart
 *   (checked against redis-server 7.0.15), written from the documented and
 *   observed behaviour, not from Redis's source. Where we differ on purpose the
 *   header says so (util_parse_memory's overflow and empty-input cases, glob
 *   ranges over bytes >= 0x80).
 *
 *   Float parsing uses strtod/strtold because matching their exact syntax (hex
 *   floats, "infinity", denormals) any other way would be a project of its own.
 *   They need a NUL-terminated copy; that copy is also what makes an embedded
 *   NUL end the number early, so such input is rejected as trailing garbage.
 *
 *   Glob matching is iterative with a single backtrack point (the last '*'):
 *   O(plen * slen) worst case instead of Redis's recursion, same results.
 *
 *   The hash is a wyhash-style design: the input is read as 64-bit words that
 *   are mixed by 64x64->128-bit multiplies whose halves are folded with xor.
 *
 * Invariants
 *   (1) util_ll_to_str(util_str_to_ll(s)) == s for every s util_str_to_ll accepts.
 *   (2) util_glob_match never reads outside pat[0..plen) or s[0..slen).
 *   (3) The xoshiro state is never all zero (it would then stay zero forever).
 *
 * Threads
 *   Everything is reentrant except util_rand_u64/util_rand_seed, which share one
 *   generator state and belong to the loop thread.
 */
#include "core/util.h"

#include "core/assert.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* util_str_to_double copies inputs up to this size to the stack, longer ones to the heap. */
#define DOUBLE_STACK_BYTES 256
/* Redis with the CVE-2024-31228 fix (Debian's 7.0.15 has it) gives up past 1000 nested '*'
 * recursions. Every star run that has pattern after it costs one level, and a
 * successful match passes through all of them, so a pattern with more such runs
 * never matches. */
#define GLOB_STARS_MAX 1000
/* Redis's memtoull refuses digit strings that do not fit its 128-byte buffer. */
#define MEMORY_DIGITS_MAX 127

/* The C locale's isspace(), without locale lookups or sign-extension pitfalls. */
static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

bool util_str_to_ll(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    bool negative = false;
    unsigned long long v = 0;
    /* |LLONG_MIN| = LLONG_MAX + 1, computed without signed overflow. */
    unsigned long long limit = (unsigned long long)LLONG_MAX;

    if (len == 0 || len >= UTIL_LL_STR_BYTES)
        return false;
    if (len == 1 && s[0] == '0') {
        if (out)
            *out = 0;
        return true;
    }
    if (s[0] == '-') {
        negative = true;
        limit += 1;
        i = 1;
    }
    /* The first digit must be 1-9: this rejects "", "-", "-0", "01" and "+1". */
    if (i == len || s[i] < '1' || s[i] > '9')
        return false;
    for (; i < len; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (limit - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    if (out)
        *out = negative ? (long long)(0 - v) : (long long)v;
    return true;
}

/*
 * The checks string2ld/string2d apply after strto*: all bytes consumed, no
 * leading space, no overflow to infinity or underflow to zero, no NaN.
 * err is the errno the conversion left.
 */
static bool float_parse_ok(const char *buf, size_t len, const char *end, int err, bool is_inf,
                           bool is_zero, bool is_nan)
{
    if (is_space((unsigned char)buf[0]) || (size_t)(end - buf) != len || is_nan)
        return false;
    if (err == ERANGE && (is_inf || is_zero))
        return false;
    return true;
}

bool util_str_to_ld(const char *s, size_t len, long double *out)
{
    char buf[UTIL_LD_STR_BYTES];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (!float_parse_ok(buf, len, end, errno, isinf(v), v == 0, isnan(v)))
        return false;
    if (out)
        *out = v;
    return true;
}

bool util_str_to_double(const char *s, size_t len, double *out)
{
    char stack[DOUBLE_STACK_BYTES];
    char *buf = len < sizeof(stack) ? stack : mem_alloc(len + 1);
    char *end;
    double v;
    bool ok = false;

    if (len == 0)
        goto out;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    ok = float_parse_ok(buf, len, end, errno, isinf(v), v == 0, isnan(v));
    if (ok && out)
        *out = v;
out:
    if (buf != stack)
        mem_free(buf);
    return ok;
}

int util_ll_to_str(char *buf, size_t cap, long long v)
{
    char tmp[UTIL_LL_STR_BYTES];
    size_t n = 0, len;
    /* Work on the magnitude as unsigned so LLONG_MIN does not overflow. */
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[n++] = '-';
    len = n;
    if (len + 1 > cap)
        return -1;
    ASSERT(len < sizeof(tmp));
    for (size_t i = 0; i < len; i++)
        buf[i] = tmp[len - 1 - i];
    buf[len] = '\0';
    return (int)len;
}

/* Writes "inf" or "-inf"; returns the length or -1. */
static int inf_to_str(char *buf, size_t cap, bool negative)
{
    const char *text = negative ? "-inf" : "inf";
    size_t len = strlen(text);

    if (len + 1 > cap)
        return -1;
    memcpy(buf, text, len + 1);
    return (int)len;
}

int util_ld_to_str(char *buf, size_t cap, long double v, bool human)
{
    int n;
    size_t len;

    if (isinf(v))
        return inf_to_str(buf, cap, v < 0);
    n = snprintf(buf, cap, human ? "%.17Lf" : "%.17Lg", v);
    if (n < 0 || (size_t)n + 1 > cap)
        return -1;
    len = (size_t)n;
    if (!human)
        return n;
    /* "%.17Lf" always prints 17 decimals; the human form drops the useless ones. */
    if (memchr(buf, '.', len) != NULL) {
        while (buf[len - 1] == '0')
            len--;
        if (buf[len - 1] == '.')
            len--;
    }
    ASSERT(len >= 1); /* the digit before the '.' is never stripped */
    /* A negative value that rounds to zero at 17 decimals prints as "0". */
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return (int)len;
}

int util_double_to_str(char *buf, size_t cap, double v)
{
    int n;

    if (isinf(v))
        return inf_to_str(buf, cap, v < 0);
    n = snprintf(buf, cap, "%.17g", v);
    if (n < 0 || (size_t)n + 1 > cap)
        return -1;
    return n;
}

static bool byte_eq(unsigned char a, unsigned char b, bool nocase)
{
    return nocase ? fold(a) == fold(b) : a == b;
}

/*
 * Matches the bracket set starting at pat[*pi] == '[' against c and moves *pi
 * past the set (past its ']', or to plen if the set is unterminated).
 */
static bool glob_set(const char *pat, size_t plen, size_t *pi, unsigned char c, bool nocase)
{
    size_t i = *pi + 1;
    bool negate = false, hit = false;

    if (i < plen && pat[i] == '^') {
        negate = true;
        i++;
    }
    while (i < plen) {
        unsigned char p = (unsigned char)pat[i];
        if (p == '\\' && i + 1 < plen) {
            hit |= (unsigned char)pat[i + 1] == c; /* escapes compare exactly, as Redis */
            i += 2;
        } else if (p == ']') {
            i++;
            break;
        } else if (i + 2 < plen && pat[i + 1] == '-') {
            unsigned char lo = p, hi = (unsigned char)pat[i + 2], x = c;
            if (lo > hi) {
                unsigned char t = lo;
                lo = hi;
                hi = t;
            }
            /* Redis orders the ends first and folds after, so [Z-a] is empty with nocase. */
            if (nocase) {
                lo = fold(lo);
                hi = fold(hi);
                x = fold(x);
            }
            hit |= x >= lo && x <= hi;
            i += 3;
        } else {
            hit |= byte_eq(p, c, nocase);
            i++;
        }
    }
    *pi = i;
    return hit != negate;
}

/*
 * Matches the single-byte element at pat[*pi] (anything but '*') against c and
 * moves *pi past it. Returns whether it matched.
 */
static bool glob_elem(const char *pat, size_t plen, size_t *pi, unsigned char c, bool nocase)
{
    unsigned char p = (unsigned char)pat[*pi];

    if (p == '?') {
        *pi += 1;
        return true;
    }
    if (p == '[')
        return glob_set(pat, plen, pi, c, nocase);
    if (p == '\\' && *pi + 1 < plen) {
        *pi += 2;
        return byte_eq((unsigned char)pat[*pi - 1], c, nocase);
    }
    *pi += 1;
    return byte_eq(p, c, nocase);
}

bool util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase)
{
    size_t pi = 0, si = 0;
    size_t star_pi = SIZE_MAX; /* pattern index just after the last '*' seen */
    size_t star_si = 0;        /* string index that star currently stops at */
    size_t stars = 0;          /* star runs passed that have pattern after them */

    /* Redis quirk: an empty string matches only the empty pattern, not even "*". */
    if (slen == 0)
        return plen == 0;
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            if (pi == plen)
                return true;
            /* Redis gives up past this many nested stars; a match needs them all. */
            if (++stars > GLOB_STARS_MAX)
                return false;
            star_pi = pi;
            star_si = si;
            continue;
        }
        DEBUG_ASSERT(pi <= plen);
        size_t next = pi;
        if (pi < plen && glob_elem(pat, plen, &next, (unsigned char)s[si], nocase)) {
            pi = next;
            si++;
            continue;
        }
        /* Mismatch: let the last star swallow one more byte and retry after it.
         * An earlier star never needs to move, since anything it could absorb the
         * later star can absorb too. */
        if (star_pi == SIZE_MAX)
            return false;
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

/* The multiplier for a memtoull unit (s[0..len), case-insensitive), or 0 if unknown. */
static long long memory_unit(const char *s, size_t len)
{
    static const struct {
        const char *name;
        long long mul;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1024},
        {"m", 1000 * 1000},
        {"mb", 1024 * 1024},
        {"g", 1000LL * 1000 * 1000},
        {"gb", 1024LL * 1024 * 1024},
    };

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (util_strcaseeq(s, len, units[i].name))
            return units[i].mul;
    }
    return 0;
}

int util_parse_memory(const char *s, size_t len, long long *out)
{
    size_t digits = 0;
    long long v = 0, mul;

    while (digits < len && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits == 0 || digits > MEMORY_DIGITS_MAX)
        return -1;
    mul = memory_unit(s + digits, len - digits);
    if (mul == 0)
        return -1;
    for (size_t i = 0; i < digits; i++) {
        int d = s[i] - '0';
        if (v > (LLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > LLONG_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = fold(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The byte a backslash escape inside double quotes stands for (\n, \r, ...; else c). */
static char dquote_escape(char c)
{
    switch (c) {
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'a':
        return '\a';
    default:
        return c;
    }
}

/* State of one util_split_args() token scan. */
struct split_scan {
    const char *p;   /* next input byte */
    const char *end; /* end of the line (first NUL or len) */
    char *tok;       /* scratch output, large enough for the whole line */
    size_t tok_len;  /* bytes written to tok */
};

/* After a closing quote at sc->p: it must be followed by whitespace or the end. */
static int close_quote(struct split_scan *sc)
{
    sc->p++;
    if (sc->p < sc->end && !is_space((unsigned char)*sc->p))
        return -1;
    return 0;
}

/* Scans a double-quoted part; sc->p is just after the opening quote. */
static int scan_dquote(struct split_scan *sc)
{
    for (;;) {
        if (sc->p == sc->end)
            return -1; /* unterminated */
        char c = *sc->p;
        if (c == '"')
            return close_quote(sc);
        if (c == '\\' && sc->end - sc->p >= 4 && sc->p[1] == 'x' &&
            hex_value((unsigned char)sc->p[2]) >= 0 && hex_value((unsigned char)sc->p[3]) >= 0) {
            int hi = hex_value((unsigned char)sc->p[2]), lo = hex_value((unsigned char)sc->p[3]);
            sc->tok[sc->tok_len++] = (char)(hi * 16 + lo);
            sc->p += 4;
        } else if (c == '\\' && sc->end - sc->p >= 2) {
            sc->tok[sc->tok_len++] = dquote_escape(sc->p[1]);
            sc->p += 2;
        } else {
            sc->tok[sc->tok_len++] = c;
            sc->p++;
        }
    }
}

/* Scans a single-quoted part; sc->p is just after the opening quote. */
static int scan_squote(struct split_scan *sc)
{
    for (;;) {
        if (sc->p == sc->end)
            return -1; /* unterminated */
        char c = *sc->p;
        if (c == '\'')
            return close_quote(sc);
        if (c == '\\' && sc->end - sc->p >= 2 && sc->p[1] == '\'') {
            sc->tok[sc->tok_len++] = '\'';
            sc->p += 2;
        } else {
            sc->tok[sc->tok_len++] = c;
            sc->p++;
        }
    }
}

/*
 * Scans one token starting at a non-space byte into sc->tok. A quoted part ends
 * the token (close_quote checked what follows it). Returns 0 or -1.
 */
static int scan_token(struct split_scan *sc)
{
    sc->tok_len = 0;
    while (sc->p < sc->end) {
        char c = *sc->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            return 0;
        sc->p++;
        if (c == '"')
            return scan_dquote(sc);
        if (c == '\'')
            return scan_squote(sc);
        sc->tok[sc->tok_len++] = c;
    }
    return 0;
}

void util_free_args(char **argv, size_t *lens, int argc)
{
    for (int i = 0; argv && i < argc; i++)
        mem_free(argv[i]);
    mem_free(argv);
    mem_free(lens);
}

int util_split_args(const char *line, size_t len, char ***argv_out, size_t **lens_out,
                    int *argc_out)
{
    struct split_scan sc = {.p = line, .end = line + strnlen(line, len)};
    char **argv = NULL;
    size_t *lens = NULL;
    int argc = 0, cap = 0, rc = 0;

    /* A token is never longer than the line, so one scratch buffer serves all. */
    sc.tok = mem_alloc((size_t)(sc.end - sc.p) + 1);
    for (;;) {
        while (sc.p < sc.end && is_space((unsigned char)*sc.p))
            sc.p++;
        if (sc.p == sc.end)
            break;
        rc = scan_token(&sc);
        if (rc != 0 || argc == INT_MAX)
            goto out_free;
        if (argc == cap) {
            cap = cap < INT_MAX / 2 ? (cap ? cap * 2 : 8) : INT_MAX;
            argv = mem_realloc(argv, (size_t)cap * sizeof(*argv));
            lens = mem_realloc(lens, (size_t)cap * sizeof(*lens));
        }
        ASSERT(sc.tok_len <= len); /* the scratch buffer was sized for the line */
        argv[argc] = mem_strndup(sc.tok, sc.tok_len);
        lens[argc] = sc.tok_len;
        argc++;
    }
    mem_free(sc.tok);
    *argv_out = argv;
    *lens_out = lens;
    *argc_out = argc;
    return 0;
out_free:
    mem_free(sc.tok);
    util_free_args(argv, lens, argc);
    *argv_out = NULL;
    *lens_out = NULL;
    *argc_out = 0;
    return -1;
}

/* Hash constants: odd 64-bit values with balanced bits (those published with wyhash). */
static const uint64_t HASH_P0 = 0xa0761d6478bd642fULL;
static const uint64_t HASH_P1 = 0xe7037ed1a0b428dbULL;
static const uint64_t HASH_P2 = 0x8ebc6af09c88c6e3ULL;
static const uint64_t HASH_P3 = 0x589965cc75374cc3ULL;

/* 64x64 -> 128-bit multiply, halves folded with xor: the mixing step. */
static uint64_t mix(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Reads the last 1..16 bytes into two words (overlapping loads, no loop). */
static void hash_tail(const unsigned char *p, size_t len, uint64_t *a, uint64_t *b)
{
    if (len >= 4) {
        size_t mid = (len >> 3) << 2; /* 0 for 4..7 bytes, 4 for 8..16 */
        *a = (load32(p) << 32) | load32(p + mid);
        *b = (load32(p + len - 4) << 32) | load32(p + len - 4 - mid);
    } else if (len > 0) {
        *a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
        *b = 0;
    } else {
        *a = 0;
        *b = 0;
    }
}

uint64_t util_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    size_t left = len;
    uint64_t a, b;

    seed ^= mix(seed ^ HASH_P0, HASH_P1);
    if (len <= 16) {
        hash_tail(p, len, &a, &b);
    } else {
        if (left > 48) {
            /* Three independent lanes keep the multipliers busy on long keys. */
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = mix(load64(p) ^ HASH_P1, load64(p + 8) ^ seed);
                s1 = mix(load64(p + 16) ^ HASH_P2, load64(p + 24) ^ s1);
                s2 = mix(load64(p + 32) ^ HASH_P3, load64(p + 40) ^ s2);
                p += 48;
                left -= 48;
            } while (left > 48);
            seed ^= s1 ^ s2;
        }
        while (left > 16) {
            seed = mix(load64(p) ^ HASH_P1, load64(p + 8) ^ seed);
            p += 16;
            left -= 16;
        }
        /* The last 16 bytes of the input, possibly overlapping what was mixed. */
        a = load64(p + left - 16);
        b = load64(p + left - 8);
    }
    a ^= HASH_P1;
    b ^= seed;
    unsigned __int128 r = (unsigned __int128)a * b;
    return mix((uint64_t)r ^ HASH_P0 ^ len, (uint64_t)(r >> 64) ^ HASH_P1);
}

/* Reads len bytes from /dev/urandom; returns 0 or -errno. */
static int urandom_read(unsigned char *p, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return rc;
}

void util_rand_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOSYS) {
            int rc = urandom_read(p, len);
            if (rc != 0)
                PANIC("no entropy: getrandom missing and /dev/urandom failed (%d)", rc);
            return;
        }
        if (n <= 0)
            PANIC("getrandom failed: %s", n < 0 ? strerror(errno) : "returned 0");
        p += n;
        len -= (size_t)n;
    }
}

static uint64_t rand_state[4]; /* xoshiro256** state; all zero means "not seeded yet" */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void util_rand_seed(uint64_t seed)
{
    /* splitmix64 expands one word into four that are never all zero (invariant 3):
     * its output is a bijection of a counter, so four steps give four distinct
     * words, at most one of them zero. */
    for (int i = 0; i < 4; i++)
        rand_state[i] = splitmix64(&seed);
    ASSERT((rand_state[0] | rand_state[1] | rand_state[2] | rand_state[3]) != 0);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t util_rand_u64(void)
{
    if ((rand_state[0] | rand_state[1] | rand_state[2] | rand_state[3]) == 0) {
        uint64_t seed;
        util_rand_bytes(&seed, sizeof(seed));
        util_rand_seed(seed);
    }
    uint64_t result = rotl(rand_state[1] * 5, 7) * 9;
    uint64_t t = rand_state[1] << 17;
    rand_state[2] ^= rand_state[0];
    rand_state[3] ^= rand_state[1];
    rand_state[1] ^= rand_state[2];
    rand_state[0] ^= rand_state[3];
    rand_state[2] ^= t;
    rand_state[3] = rotl(rand_state[3], 45);
    return result;
}

bool util_strcaseeq(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        if (b[i] == '\0' || fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return false;
    }
    return b[alen] == '\0';
}

void util_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}
