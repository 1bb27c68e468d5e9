/*
 * fuzz_glob.c - fuzz target for util_glob_match() (src/core/util.h), the
 * KEYS / SCAN MATCH / CONFIG GET pattern matcher.
 *
 * Design
 *   The input is split at its first NUL into pattern and string. An input
 *   without a NUL is matched against itself (pattern == string), which
 *   reaches more matches than an empty string would.
 *
 *   Both nocase values are checked against ref_match(), a port of Redis
 *   7.0.15's stringmatchlen() (util.c, with the CVE-2024-31228 nesting
 *   limit and the skipLongerMatches cut-off), changed only where
 *   util_glob_match() documents a difference: range ends compare as
 *   unsigned bytes, and Redis's reads of the NUL past the end of the
 *   pattern are written as length checks (same result, since that NUL is
 *   never '*', '^', ']' or '\\'). The port is a second, independent
 *   reading of the same rules: a disagreement is a bug in one of the two,
 *   to be settled with KEYS on a real redis-server.
 *
 *   util_glob_match() bounds its work to O(plen * slen) steps, so even the
 *   pathological patterns of the corpus ("a*a*a*...b") finish at once; the
 *   fuzzer's per-input timeout enforces it.
 *
 * Invariants checked
 *   (1) util_glob_match() == ref_match() for both nocase values.
 *   (2) Neither reads outside the pattern or the string (ASan: both are
 *       exact-size heap copies).
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/util.h"

#include <stdbool.h>
#include <string.h>

/* Redis's recursion limit (stringmatchlen_impl, CVE-2024-31228). */
#define REF_NESTING_MAX 1000

static unsigned char ref_fold(unsigned char c, bool nocase)
{
    /* tolower() in the C locale, which is the server's locale. */
    return (nocase && c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool ref_eq(unsigned char a, unsigned char b, bool nocase)
{
    return ref_fold(a, nocase) == ref_fold(b, nocase);
}

/* Redis's stringmatchlen_impl(), see the header comment. */
static bool ref_match(const unsigned char *pat, size_t plen, const unsigned char *s,
                      size_t slen, bool nocase, bool *skip_longer, int nesting)
{
    if (nesting > REF_NESTING_MAX)
        return false;
    while (plen && slen) {
        switch (pat[0]) {
        case '*':
            while (plen > 1 && pat[1] == '*') {
                pat++;
                plen--;
            }
            if (plen == 1)
                return true;
            while (slen) {
                if (ref_match(pat + 1, plen - 1, s, slen, nocase, skip_longer, nesting + 1))
                    return true;
                if (*skip_longer)
                    return false;
                s++;
                slen--;
            }
            *skip_longer = true;
            return false;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            bool not, match = false;
            pat++;
            plen--;
            not = plen > 0 && pat[0] == '^';
            if (not) {
                pat++;
                plen--;
            }
            for (;;) {
                if (plen >= 2 && pat[0] == '\\') {
                    pat++;
                    plen--;
                    if (pat[0] == s[0])
                        match = true;
                } else if (plen == 0) {
                    pat--;
                    plen++;
                    break;
                } else if (pat[0] == ']') {
                    break;
                } else if (plen >= 3 && pat[1] == '-') {
                    unsigned start = pat[0], end = pat[2], c = s[0];
                    if (start > end) {
                        unsigned t = start;
                        start = end;
                        end = t;
                    }
                    start = ref_fold((unsigned char)start, nocase);
                    end = ref_fold((unsigned char)end, nocase);
                    c = ref_fold((unsigned char)c, nocase);
                    pat += 2;
                    plen -= 2;
                    if (c >= start && c <= end)
                        match = true;
                } else if (ref_eq(pat[0], s[0], nocase)) {
                    match = true;
                }
                pat++;
                plen--;
            }
            if (not)
                match = !match;
            if (!match)
                return false;
            s++;
            slen--;
            break;
        }
        default:
            if (pat[0] == '\\' && plen >= 2) { /* Redis: case '\\' falls through */
                pat++;
                plen--;
            }
            if (!ref_eq(pat[0], s[0], nocase))
                return false;
            s++;
            slen--;
            break;
        }
        pat++;
        plen--;
        if (slen == 0) {
            while (plen > 0 && pat[0] == '*') {
                pat++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

static void *copy(const uint8_t *p, size_t len)
{
    void *c = malloc(len); /* even for 0: ASan then flags any read */
    FUZZ_CHECK(c != NULL || len == 0);
    if (len)
        memcpy(c, p, len);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    const uint8_t *str = nul ? nul + 1 : data;
    size_t slen = nul ? size - plen - 1 : size;
    char *pat = copy(data, plen), *s = copy(str, slen);

    for (int nocase = 0; nocase <= 1; nocase++) {
        bool skip_longer = false;
        bool got = util_glob_match(pat, plen, s, slen, nocase);
        bool want = ref_match((const unsigned char *)pat, plen, (const unsigned char *)s, slen,
                              nocase, &skip_longer, 0);
        if (got != want) {
            fprintf(stderr, "glob mismatch: nocase=%d util_glob_match=%d redis=%d\n", nocase,
                    got, want);
            FUZZ_CHECK(got == want);
        }
    }
    free(pat);
    free(s);
    return 0;
}
