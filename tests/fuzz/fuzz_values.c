/*
 * fuzz_values.c - fuzz target for the snapshot decoders of the collection
 * types: hash_decode, set_decode, zset_decode, list_decode (src/db), which
 * turn a snapshot's value bytes, read from a file on disk, into objects.
 *
 * Design
 *   The first byte picks the type (its value mod 4), the rest is the value.
 *   A value that decodes is encoded again; that encoding must decode too,
 *   and hold the same elements. Hashes, sets and sorted sets are encoded in
 *   their table's order, which depends on the insertion history, so their
 *   two encodings are compared as sorted lists of elements; a list's must
 *   be equal byte for byte.
 *
 * Invariants checked
 *   (1) Malformed input gives NULL, never a crash or a leak.
 *   (2) decode(encode(decode(x))) succeeds and holds the same elements as
 *       decode(x) (the same order for a list).
 *   (3) Nothing allocated through mem.c is left behind.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/buf.h"
#include "core/mem.h"
#include "core/varint.h"
#include "db/db.h"
#include "db/hash.h"
#include "db/list.h"
#include "db/obj.h"
#include "db/set.h"
#include "db/zset.h"

#include <stdlib.h>
#include <string.h>

#define ELEMS_MAX 65536 /* inputs are far smaller (libFuzzer's max_len) */

struct elem {
    const char *p; /* the element's bytes in an encoding */
    size_t len;
};

static int elem_cmp(const void *a, const void *b)
{
    const struct elem *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Split an encoding of type t into its elements (a hash's is field and
 * value, a sorted set's score and member); returns the count. */
static size_t split(int t, const struct buf *b, struct elem *out)
{
    uint64_t n;
    size_t pos = varint_get(b->data, b->data + b->len, &n);
    FUZZ_CHECK(pos > 0 && n <= ELEMS_MAX);
    for (uint64_t i = 0; i < n; i++) {
        size_t start = pos;
        const char *s;
        size_t slen;
        int strings = t == 0 ? 2 : 1;
        if (t == 2) {
            FUZZ_CHECK(b->len - pos >= 8);
            pos += 8;
        }
        for (int k = 0; k < strings; k++)
            FUZZ_CHECK(varint_get_bytes(b->data, b->len, &pos, &s, &slen));
        out[i] = (struct elem){b->data + start, pos - start};
    }
    FUZZ_CHECK(pos == b->len);
    return (size_t)n;
}

static struct elem ea[ELEMS_MAX], eb[ELEMS_MAX];

typedef struct obj *decode_fn(const char *p, size_t len);
typedef void encode_fn(const struct obj *o, struct buf *out);

static const struct {
    decode_fn *decode;
    encode_fn *encode;
} types[4] = {
    {hash_decode, hash_encode},
    {set_decode, set_encode},
    {zset_decode, zset_encode},
    {list_decode, list_encode},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mem_before;
    struct obj *o, *o2;
    struct buf a, b;
    int t;
    static bool inited;
    if (!inited) {
        db_module_init(1); /* a fixed seed: the target must be deterministic */
        inited = true;
    }
    if (size == 0)
        return 0;
    t = data[0] % 4;
    mem_before = mem_used_bytes();
    o = types[t].decode((const char *)data + 1, size - 1);
    if (!o) {
        FUZZ_CHECK(mem_used_bytes() == mem_before);
        return 0;
    }
    buf_create(&a);
    buf_create(&b);
    types[t].encode(o, &a);
    o2 = types[t].decode(a.data, a.len);
    FUZZ_CHECK(o2 != NULL);
    types[t].encode(o2, &b);
    FUZZ_CHECK(a.len == b.len);
    if (t == 3) {
        FUZZ_CHECK(memcmp(a.data, b.data, a.len) == 0);
    } else {
        size_t na = split(t, &a, ea), nb = split(t, &b, eb);
        FUZZ_CHECK(na == nb);
        qsort(ea, na, sizeof(ea[0]), elem_cmp);
        qsort(eb, nb, sizeof(eb[0]), elem_cmp);
        for (size_t i = 0; i < na; i++)
            FUZZ_CHECK(elem_cmp(&ea[i], &eb[i]) == 0);
    }
    obj_delete(o);
    obj_delete(o2);
    buf_destroy(&a);
    buf_destroy(&b);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
    return 0;
}
