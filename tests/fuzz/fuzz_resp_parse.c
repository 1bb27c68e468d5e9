/*
 * fuzz_resp_parse.c - fuzz target for the request parser
 * (src/proto/resp_parse.h).
 *
 * Design
 *   Input layout: byte 0 chooses how the bytes arrive, byte 1 the parser
 *   limits, and the rest is what the client sent:
 *       byte 0   0        everything in one read
 *                1..127   two reads, split at byte0 * n / 127 of the n bytes
 *                128..255 reads of (byte0 & 127) + 1 bytes each (1..128)
 *       byte 1   bit 0    start unauthenticated (the pre-AUTH limits)
 *                bit 1    toggle unauthenticated after every request, as if
 *                         each one were an AUTH that changed the state
 *                bits 2-3 bulk_bytes_max: 512 MB default, UINT64_MAX (what
 *                         WAL replay uses), 16, 0
 *   feed() drives the parser as process_input() in server.c does: the buffer
 *   given to resp_parse() starts at the current request and holds every byte
 *   received so far; 0 means wait for the next read, >0 drops that many
 *   bytes, <0 ends the connection. Each call gets a fresh malloc'd copy of
 *   exactly the unconsumed bytes, so the buffer moves between calls (the
 *   contract allows it) and ASan flags any read past its end or through a
 *   pointer kept from an earlier call.
 *
 *   The input is fed whole and then with the chosen schedule; both feeds
 *   must give the same outcome (the requests, then the error or the bytes
 *   left over), since the parser promises a split-independent result. The
 *   64 KB header/inline limits legitimately depend on how much has arrived,
 *   so inputs above PROTO_INLINE_BYTES_MAX are only checked for safety.
 *
 * Invariants checked
 *   (1) A >0 return is at most the bytes given; a 0 return leaves
 *       pos <= the bytes given; a <0 return is RESP_ERR_PROTOCOL with a
 *       NUL-terminated, non-empty error text.
 *   (2) Multibulk arguments lie within the consumed bytes; inline arguments
 *       lie within inline_buf and their lengths sum to at most the bytes
 *       consumed (unquoting only shrinks).
 *   (3) The parser frees everything it allocated (mem_used_bytes() is back
 *       to its value before the input).
 *   (4) Whole and split feeds agree (inputs up to PROTO_INLINE_BYTES_MAX).
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/limits.h"
#include "core/mem.h"
#include "proto/resp_parse.h"

#include <stdbool.h>
#include <string.h>

/* How the bytes are delivered: all at once, one split, or fixed chunks. */
struct schedule {
    size_t split; /* first read ends here if chunk == 0 (n = one read) */
    size_t chunk; /* bytes per read, 0 = use split */
};

/* The result of one feed, reduced to a hash so two feeds compare cheaply. */
struct outcome {
    uint64_t hash;   /* FNV-1a of every event */
    size_t requests; /* requests parsed */
};

static const uint64_t bulk_maxes[4] = {BULK_BYTES_DEFAULT, UINT64_MAX, 16, 0};

static void mix(struct outcome *o, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        o->hash ^= b[i];
        o->hash *= 0x100000001b3ull;
    }
}

static void mix_u64(struct outcome *o, uint64_t v)
{
    mix(o, &v, sizeof(v));
}

/* End of the read that follows one ending at recv. */
static size_t next_read(const struct schedule *s, size_t recv, size_t n)
{
    if (s->chunk == 0)
        return recv < s->split ? s->split : n;
    return n - recv > s->chunk ? recv + s->chunk : n;
}

/* Checks invariant (2) for a request that consumed `used` bytes of buf and
 * folds its arguments into the outcome. */
static void check_request(const struct resp_parser *p, const char *buf, size_t used,
                          struct outcome *o)
{
    size_t total = 0;
    FUZZ_CHECK(p->argc >= 0);
    FUZZ_CHECK(p->argc == 0 || p->args != NULL);
    mix(o, p->is_inline ? "I" : "M", 1);
    mix_u64(o, (uint64_t)used);
    mix_u64(o, (uint64_t)p->argc);
    for (int i = 0; i < p->argc; i++) {
        size_t off = p->args[i].off, len = p->args[i].len;
        size_t bound = p->is_inline ? p->inline_cap : used;
        FUZZ_CHECK(off <= bound && len <= bound - off);
        FUZZ_CHECK(len == 0 || !p->is_inline || p->inline_buf != NULL);
        total += len;
        mix_u64(o, (uint64_t)len);
        if (len > 0) /* reads every byte: ASan checks the pointer */
            mix(o, resp_arg_ptr(p, buf, i), len);
    }
    if (p->is_inline)
        FUZZ_CHECK(total <= used);
}

static void feed(const uint8_t *in, size_t n, const struct schedule *s, uint8_t limits,
                 struct outcome *o)
{
    struct resp_parser p;
    size_t start = 0, recv = next_read(s, 0, n);
    bool unauth = limits & 1;
    size_t mem_before = mem_used_bytes();

    memset(o, 0, sizeof(*o));
    o->hash = 0xcbf29ce484222325ull;
    resp_parser_create(&p);
    for (;;) {
        size_t avail = recv - start;
        char *buf;
        int64_t rc;

        if (avail == 0) {
            if (recv == n)
                break;
            recv = next_read(s, recv, n);
            continue;
        }
        buf = malloc(avail);
        FUZZ_CHECK(buf != NULL);
        memcpy(buf, in + start, avail);
        p.unauthenticated = unauth;
        p.bulk_bytes_max = bulk_maxes[(limits >> 2) & 3];
        rc = resp_parse(&p, buf, avail);
        if (rc > 0) {
            FUZZ_CHECK((uint64_t)rc <= avail);
            check_request(&p, buf, (size_t)rc, o);
            o->requests++;
            start += (size_t)rc;
            if (limits & 2)
                unauth = !unauth;
        } else if (rc == 0) {
            FUZZ_CHECK(p.pos <= avail);
            /* A pending bulk was within the limit (its body and CRLF are wanted).
             * How many 0s a feed sees depends on the split: not in the outcome. */
            size_t wanted = resp_parse_bulk_bytes_wanted(&p);
            FUZZ_CHECK(wanted == 0 || (wanted >= 2 && wanted - 2 <= p.bulk_bytes_max));
            if (recv == n) {
                free(buf);
                mix(o, "+", 1);
                mix_u64(o, (uint64_t)avail);
                break;
            }
            recv = next_read(s, recv, n);
        } else {
            FUZZ_CHECK(rc == RESP_ERR_PROTOCOL);
            FUZZ_CHECK(memchr(p.error, '\0', sizeof(p.error)) != NULL && p.error[0] != '\0');
            mix(o, "!", 1);
            mix(o, p.error, strlen(p.error));
            free(buf);
            break;
        }
        free(buf);
    }
    resp_parser_destroy(&p);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl = size > 0 ? data[0] : 0;
    uint8_t limits = size > 1 ? data[1] : 0;
    size_t hdr = size < 2 ? size : 2, n = size - hdr;
    const uint8_t *in = data + hdr;
    struct schedule whole = {.split = n, .chunk = 0}, split = whole;
    struct outcome a, b;

    feed(in, n, &whole, limits, &a);
    if (ctl == 0)
        return 0;
    if (ctl & 0x80)
        split.chunk = (size_t)(ctl & 0x7f) + 1;
    else
        split.split = (size_t)ctl * n / 127;
    feed(in, n, &split, limits, &b);
    if (n <= PROTO_INLINE_BYTES_MAX) {
        FUZZ_CHECK(a.requests == b.requests);
        FUZZ_CHECK(a.hash == b.hash);
    }
    return 0;
}
