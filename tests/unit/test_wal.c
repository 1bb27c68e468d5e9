/*
 * test_wal.c - unit tests for the WAL format code of storage/wal.c: batch
 * encoding and decoding, and the torn-tail vs corruption rule (D5) that
 * recovery and engram-check share.
 *
 * Design
 *   build_log() lays out, in memory, what the WAL thread writes: a segment
 *   header, then BATCHES batches of 1, 3 and 4 records (lsn 1..8), then
 *   zeros (zero-ahead). Each test damages a copy the way a crash or a bad
 *   disk would and checks how the first bad batch is classified: damage in
 *   the last batch is a torn tail (no valid later batch header), damage in
 *   an earlier one is corruption.
 *
 * Invariants
 *   (1) Every byte of a batch is covered by a check (batch header crc,
 *       record crc, the reserved fields), so any single flipped byte makes
 *       its batch bad.
 */
#include "harness/test.h"

#include "storage/wal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCHES 3
#define LOG_BYTES 4096
#define ZERO_TAIL_BYTES 512

static const uint32_t batch_records[BATCHES] = {1, 3, 4};

struct log {
    uint8_t bytes[LOG_BYTES];
    size_t size;                    /* data plus the zero tail */
    uint64_t batch_off[BATCHES];    /* where each batch starts */
    uint64_t batch_end[BATCHES];    /* where each ends */
    lsn_t batch_first[BATCHES];     /* its first lsn */
};

/* One record of lsn `lsn` with a body that depends on it, at p. */
static size_t put_record(uint8_t *p, lsn_t lsn)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "*4\r\n$1\r\n0\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n%02u\r\n",
                     (unsigned)lsn);
    wal_encode_header(p, lsn, 1700000000000 + (int64_t)lsn, body, (uint32_t)n);
    memcpy(p + WAL_RECORD_HEADER_BYTES, body, (size_t)n);
    return WAL_RECORD_HEADER_BYTES + (size_t)n;
}

static void build_log(struct log *l)
{
    uint64_t off = WAL_SEGMENT_HEADER_BYTES;
    lsn_t lsn = 1;
    memset(l, 0, sizeof(*l));
    wal_encode_segment_header(l->bytes, 1);
    for (int b = 0; b < BATCHES; b++) {
        uint64_t at = off + WAL_BATCH_HEADER_BYTES;
        l->batch_off[b] = off;
        l->batch_first[b] = lsn;
        for (uint32_t i = 0; i < batch_records[b]; i++)
            at += put_record(l->bytes + at, lsn++);
        wal_encode_batch_header(l->bytes + off, l->batch_first[b], batch_records[b],
                                at - off - WAL_BATCH_HEADER_BYTES);
        l->batch_end[b] = at;
        off = at;
    }
    l->size = off + ZERO_TAIL_BYTES;
    T_ASSERT(l->size <= LOG_BYTES);
}

/* How the batch b of l reads: WAL_DECODE_* with zeros followed by data
 * counted as bad, as recovery does. */
static int read_batch(const struct log *l, int b, struct wal_batch *out)
{
    uint64_t off = l->batch_off[b];
    int rc = wal_decode_batch(l->bytes + off, l->size - off, out);
    if (rc == WAL_DECODE_END && wal_nonzero_after(l->bytes, l->size, off))
        rc = WAL_DECODE_TORN;
    return rc;
}

/* Batch b is bad and classified as a torn tail (want_torn) or corruption. */
static void expect_bad(const struct log *l, int b, bool want_torn)
{
    struct wal_batch wb;
    int rc = read_batch(l, b, &wb);
    if (want_torn && rc == WAL_DECODE_END)
        return; /* zeros to the end: the log simply ends there */
    T_EQ_INT(rc, WAL_DECODE_TORN);
    T_EQ_INT(wal_valid_batch_after(l->bytes, l->size, l->batch_off[b], l->batch_first[b]),
             !want_torn);
}

TEST(wal_batch_round_trip)
{
    struct log l;
    struct wal_batch wb;
    build_log(&l);
    for (int b = 0; b < BATCHES; b++) {
        uint64_t at = l.batch_off[b] + WAL_BATCH_HEADER_BYTES;
        T_EQ_INT(read_batch(&l, b, &wb), WAL_DECODE_OK);
        T_EQ_U64(wb.first_lsn, l.batch_first[b]);
        T_EQ_INT(wb.records, batch_records[b]);
        T_EQ_U64(wb.size, l.batch_end[b] - l.batch_off[b]);
        for (uint32_t i = 0; i < wb.records; i++) {
            struct wal_record r;
            size_t n;
            T_EQ_INT(wal_decode(l.bytes + at, l.size - at, &r, &n), WAL_DECODE_OK);
            T_EQ_U64(r.lsn, wb.first_lsn + i);
            at += n;
        }
        T_EQ_U64(at, l.batch_end[b]);
    }
    /* After the last batch: zeros, the end of the log. */
    T_EQ_INT(wal_decode_batch(l.bytes + l.batch_end[BATCHES - 1],
                              l.size - l.batch_end[BATCHES - 1], &wb),
             WAL_DECODE_END);
    T_ASSERT(!wal_nonzero_after(l.bytes, l.size, l.batch_end[BATCHES - 1]));
}

TEST(wal_batch_every_flipped_byte_is_torn_in_the_last_batch_corrupt_before)
{
    struct log pristine, l;
    build_log(&pristine);
    for (int b = 0; b < BATCHES; b++) {
        for (uint64_t off = pristine.batch_off[b]; off < pristine.batch_end[b]; off++) {
            l = pristine;
            l.bytes[off] ^= 0x10;
            expect_bad(&l, b, b == BATCHES - 1);
        }
    }
}

TEST(wal_batch_any_sectors_of_the_last_batch_is_a_torn_tail)
{
    /* A power cut during the last batch's fdatasync, with the file size
     * already durable: each 16-byte piece of the batch is old (zero) or new,
     * in every combination a seeded generator picks. */
    struct log pristine, l;
    uint64_t start, end;
    unsigned seed = 12345;
    build_log(&pristine);
    start = pristine.batch_off[BATCHES - 1];
    end = pristine.batch_end[BATCHES - 1];
    for (int round = 0; round < 2000; round++) {
        bool any = false;
        l = pristine;
        for (uint64_t at = start; at < end; at += 16) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0) {
                memset(l.bytes + at, 0, at + 16 <= end ? 16 : (size_t)(end - at));
                any = true;
            }
        }
        if (any)
            expect_bad(&l, BATCHES - 1, true);
    }
}

TEST(wal_batch_a_cut_anywhere_in_the_last_batch_is_a_torn_tail)
{
    struct log pristine, l;
    build_log(&pristine);
    for (uint64_t cut = pristine.batch_off[BATCHES - 1] + 1;
         cut < pristine.batch_end[BATCHES - 1]; cut++) {
        l = pristine;
        l.size = cut;
        expect_bad(&l, BATCHES - 1, true);
    }
}

TEST(wal_batch_hole_with_valid_records_after_it)
{
    /* The case batch framing exists for: the last batch's second record is
     * gone and its third and fourth are intact. A torn tail; the same hole
     * in the middle batch, with the last batch intact, is corruption. */
    struct log pristine, l;
    struct wal_batch wb;
    uint64_t rec2;
    build_log(&pristine);
    for (int b = 1; b < BATCHES; b++) {
        l = pristine;
        rec2 = l.batch_off[b] + WAL_BATCH_HEADER_BYTES;
        T_EQ_INT(wal_decode_batch(l.bytes + l.batch_off[b], l.size - l.batch_off[b], &wb),
                 WAL_DECODE_OK);
        {
            struct wal_record r;
            size_t n;
            T_EQ_INT(wal_decode(l.bytes + rec2, l.size - rec2, &r, &n), WAL_DECODE_OK);
            rec2 += n;
            T_EQ_INT(wal_decode(l.bytes + rec2, l.size - rec2, &r, &n), WAL_DECODE_OK);
            memset(l.bytes + rec2, 0, n);
        }
        expect_bad(&l, b, b == BATCHES - 1);
    }
}

TEST(wal_batch_header_checks)
{
    struct log l;
    struct wal_batch wb;
    uint8_t *h;
    build_log(&l);
    h = l.bytes + l.batch_off[1];
    /* A header whose count disagrees with its records, with a good crc. */
    wal_encode_batch_header(h, l.batch_first[1], batch_records[1] - 1,
                            l.batch_end[1] - l.batch_off[1] - WAL_BATCH_HEADER_BYTES);
    T_EQ_INT(wal_decode_batch(h, l.size - l.batch_off[1], &wb), WAL_DECODE_TORN);
    /* A first lsn that does not match its records'. */
    wal_encode_batch_header(h, l.batch_first[1] + 1, batch_records[1],
                            l.batch_end[1] - l.batch_off[1] - WAL_BATCH_HEADER_BYTES);
    T_EQ_INT(wal_decode_batch(h, l.size - l.batch_off[1], &wb), WAL_DECODE_TORN);
    /* No records at all. */
    wal_encode_batch_header(h, l.batch_first[1], 0, 0);
    T_EQ_INT(wal_decode_batch(h, l.size - l.batch_off[1], &wb), WAL_DECODE_TORN);
    /* A length past the end of the data. */
    wal_encode_batch_header(h, l.batch_first[1], batch_records[1], (uint64_t)l.size);
    T_EQ_INT(wal_decode_batch(h, l.size - l.batch_off[1], &wb), WAL_DECODE_TORN);
    /* A header with a first lsn further ahead than one per 32 bytes could
     * reach is not evidence (a value that looks like a header). */
    {
        struct log far = l;
        wal_encode_batch_header(far.bytes + far.batch_off[2], (lsn_t)1 << 62, batch_records[2],
                                far.batch_end[2] - far.batch_off[2] - WAL_BATCH_HEADER_BYTES);
        T_ASSERT(!wal_valid_batch_after(far.bytes, far.size, far.batch_off[1],
                                        far.batch_first[1]));
    }
    /* A later batch header with an older first lsn is not evidence. */
    T_ASSERT(!wal_valid_batch_after(l.bytes, l.size, l.batch_off[0], l.batch_first[2] + 1));
    T_ASSERT(wal_valid_batch_after(l.bytes, l.size, l.batch_off[0], l.batch_first[2]));
}

/*
 * A value can hold any bytes, a whole valid batch header included. Put one
 * (with a plausible lsn: just past the last batch's records) in the body of
 * the last batch's last record, then tear that batch in its first record.
 * Its own header is intact, so the search for a later batch starts past
 * the length it declares and the header-shaped value is not evidence: a
 * torn tail. With the batch's header torn too, its length is unknown and
 * every offset is searched: the value is then taken for a later batch and
 * the log refused (corruption; engram-check repair recovers it). That
 * residual case is documented in docs/formats/wal.md.
 */
TEST(wal_batch_header_shaped_value_inside_the_torn_batch)
{
    struct log l;
    int last = BATCHES - 1;
    uint8_t fake[WAL_BATCH_HEADER_BYTES];
    uint64_t rec, at;
    lsn_t lsn;
    build_log(&l);
    /* Rewrite the last batch's last record with the fake header as body. */
    rec = l.batch_off[last] + WAL_BATCH_HEADER_BYTES;
    lsn = l.batch_first[last];
    for (uint32_t i = 0; i + 1 < batch_records[last]; i++) {
        struct wal_record r;
        size_t n;
        T_EQ_INT(wal_decode(l.bytes + rec, l.size - rec, &r, &n), WAL_DECODE_OK);
        rec += n;
        lsn++;
    }
    wal_encode_batch_header(fake, l.batch_first[last] + batch_records[last], 1, 64);
    memset(l.bytes + rec, 0, l.size - rec);
    wal_encode_header(l.bytes + rec, lsn, 1700000000000, (const char *)fake, sizeof(fake));
    memcpy(l.bytes + rec + WAL_RECORD_HEADER_BYTES, fake, sizeof(fake));
    at = rec + WAL_RECORD_HEADER_BYTES + sizeof(fake);
    wal_encode_batch_header(l.bytes + l.batch_off[last], l.batch_first[last], batch_records[last],
                            at - l.batch_off[last] - WAL_BATCH_HEADER_BYTES);
    l.batch_end[last] = at;
    T_ASSERT(at + ZERO_TAIL_BYTES <= LOG_BYTES);
    l.size = at + ZERO_TAIL_BYTES;
    {
        struct wal_batch wb;
        T_EQ_INT(read_batch(&l, last, &wb), WAL_DECODE_OK);
    }
    /* Tear the first record of the last batch. */
    l.bytes[l.batch_off[last] + WAL_BATCH_HEADER_BYTES + 5] ^= 0x40;
    expect_bad(&l, last, true);
    /* Its header torn too: the value is found, and the log refused. */
    l.bytes[l.batch_off[last] + 9] ^= 0x01;
    expect_bad(&l, last, false);
}
