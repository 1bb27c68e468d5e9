/*
 * fuzz_wal_damage.c - property fuzz target for the torn-tail rule (D5) of
 * src/storage/wal.h: a crash tears only the last batch, so a bad batch
 * with a valid one after it is damage in the middle of the log (recovery
 * refuses to start), and a bad last batch is a torn tail (recovery cuts
 * it). fuzz_wal feeds the decoders raw bytes, whose checksums almost never
 * hold; this target builds a valid segment from the input instead, damages
 * it in one place, and checks what the decoders make of it.
 *
 * Design
 *   Input: kind (byte 0 mod 3: none, truncate, flip a byte), position
 *   (bytes 1-2), flip mask (byte 3, 0 taken as 1), records per batch
 *   (1 + byte 4 mod 8), then record bodies, each a length byte (mod 64)
 *   and that many bytes, at most RECORDS_MAX. The segment is written with
 *   the WAL's own encoders (segment header, batch headers, record headers
 *   with their checksums), lsns from 1. Damage at a position inside the
 *   segment header is applied but no property is checked (recovery refuses
 *   such a segment before it walks it).
 *
 * Invariants checked
 *   (1) Undamaged: every batch decodes, with its records dense from its
 *       first lsn, and the walk ends exactly at the end.
 *   (2) Truncated at k: exactly the batches that end at or before k decode,
 *       and wal_valid_batch_after() finds no later batch (a torn tail).
 *   (3) One byte flipped in batch j: batches 0..j-1 decode, batch j does
 *       not, and wal_valid_batch_after() finds a later batch exactly when j
 *       is not the last one. (For a last batch whose own header was hit,
 *       a header-shaped value inside it may be taken for a later batch;
 *       that errs towards refusing to start and is not checked.)
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "storage/wal.h"

#include <string.h>

#define RECORDS_MAX 128
#define SEGMENT_BYTES_MAX                                                                 \
    (WAL_SEGMENT_HEADER_BYTES +                                                           \
     RECORDS_MAX * (WAL_BATCH_HEADER_BYTES + WAL_RECORD_HEADER_BYTES + 64))

static uint8_t seg[SEGMENT_BYTES_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t batch_off[RECORDS_MAX + 1], total, pos = 5, off, k;
    int nbatches = 0, nrecords = 0, per_batch, kind, walked = 0;
    unsigned at;
    uint8_t mask;
    lsn_t first = 0, next;

    if (size < 5)
        return 0;
    kind = data[0] % 3;
    at = (unsigned)data[1] | (unsigned)data[2] << 8;
    mask = data[3] ? data[3] : 1;
    per_batch = 1 + data[4] % 8;

    /* Build the segment: batches of per_batch records (the last may have
     * fewer). */
    wal_encode_segment_header(seg, 1);
    total = WAL_SEGMENT_HEADER_BYTES;
    while (pos < size && nrecords < RECORDS_MAX) {
        size_t hdr = total, body = 0;
        uint32_t records = 0;
        batch_off[nbatches] = total;
        total += WAL_BATCH_HEADER_BYTES;
        while (records < (uint32_t)per_batch && pos < size && nrecords < RECORDS_MAX) {
            size_t len = data[pos++] % 64;
            if (len > size - pos)
                len = size - pos;
            wal_encode_header(seg + total, (lsn_t)nrecords + 1, 0, data + pos, (uint32_t)len);
            memcpy(seg + total + WAL_RECORD_HEADER_BYTES, data + pos, len);
            total += WAL_RECORD_HEADER_BYTES + len;
            body += WAL_RECORD_HEADER_BYTES + len;
            pos += len;
            records++;
            nrecords++;
        }
        wal_encode_batch_header(seg + hdr, (lsn_t)nrecords - records + 1, records, body);
        nbatches++;
    }
    batch_off[nbatches] = total;
    if (nbatches == 0)
        return 0;

    /* Damage it. */
    k = total;
    if (kind == 1)
        k = at % total;
    else if (kind == 2)
        seg[at % total] ^= mask;

    /* Walk it as recovery does. */
    if (wal_check_segment_header(seg, k, &first) != 0) {
        FUZZ_CHECK(kind != 0);
        return 0;
    }
    FUZZ_CHECK(first == 1);
    off = WAL_SEGMENT_HEADER_BYTES;
    next = first;
    while (off < k) {
        struct wal_batch b;
        uint64_t in = WAL_BATCH_HEADER_BYTES;
        if (wal_decode_batch(seg + off, k - off, &b) != WAL_DECODE_OK)
            break;
        FUZZ_CHECK(walked < nbatches && off == batch_off[walked]);
        FUZZ_CHECK(b.first_lsn == next && b.size == batch_off[walked + 1] - off);
        for (uint32_t i = 0; i < b.records; i++) {
            struct wal_record r;
            size_t n = wal_record_at(seg + off + in, &r);
            FUZZ_CHECK(r.lsn == b.first_lsn + i && n <= b.size - in);
            in += n;
        }
        FUZZ_CHECK(in == b.size);
        next += b.records;
        off += b.size;
        walked++;
    }

    if (kind == 0) { /* (1) */
        FUZZ_CHECK(walked == nbatches && off == total && next == (lsn_t)nrecords + 1);
    } else if (kind == 1) { /* (2) */
        int whole = 0;
        while (whole < nbatches && batch_off[whole + 1] <= k)
            whole++;
        FUZZ_CHECK(walked == whole);
        if (off < k)
            FUZZ_CHECK(!wal_valid_batch_after(seg, k, off, next));
    } else { /* (3) */
        size_t q = at % total;
        int j = 0;
        while (batch_off[j + 1] <= q)
            j++;
        FUZZ_CHECK(walked == j && off == batch_off[j]);
        if (j < nbatches - 1)
            FUZZ_CHECK(wal_valid_batch_after(seg, total, off, next));
        else if (q >= off + WAL_BATCH_HEADER_BYTES)
            FUZZ_CHECK(!wal_valid_batch_after(seg, total, off, next));
    }
    return 0;
}
