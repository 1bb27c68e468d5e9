/*
 * fuzz_wal.c - fuzz target for the WAL decoders (src/storage/wal.h), which
 * read segment files from disk in recovery and engram-check: the segment
 * header, batches, records, the torn-tail rule's searches, and the effects
 * in each record body.
 *
 * Design
 *   The input is read as a segment: its header, then batches back to back
 *   as recovery walks them, each record's body decoded into effects. Where
 *   the walk stops (end, zeros or a bad batch), the D5 helpers
 *   (wal_valid_batch_after, wal_nonzero_after) run from that offset. Every
 *   offset is also tried as a lone record (wal_decode), so record headers
 *   are fuzzed without a valid batch checksum in front of them.
 *
 * Invariants checked
 *   (1) An accepted batch lies inside the input, holds >= 1 records, and
 *       its records are dense from first_lsn and fill it exactly.
 *   (2) A decoded record lies inside the input, body included.
 *   (3) Nothing allocated through mem.c is left behind.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/mem.h"
#include "proto/effect_codec.h"
#include "storage/wal.h"

static void decode_body(const struct wal_record *r, struct effect_view *v)
{
    size_t pos = 0;
    while (pos < r->body_bytes) {
        const char *why;
        int64_t n = effect_decode(r->body + pos, r->body_bytes - pos, v, &why);
        if (n < 0)
            return;
        FUZZ_CHECK(n > 0 && (size_t)n <= r->body_bytes - pos);
        pos += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mem_before = mem_used_bytes();
    struct effect_view v = {0};
    uint64_t off = 0;
    lsn_t first = 0, next;

    if (wal_check_segment_header(data, size, &first) == 0)
        off = WAL_SEGMENT_HEADER_BYTES;
    next = first;
    while (off < size) {
        struct wal_batch b;
        const uint8_t *p;
        uint64_t at = WAL_BATCH_HEADER_BYTES;
        if (wal_decode_batch(data + off, size - off, &b) != WAL_DECODE_OK)
            break;
        FUZZ_CHECK(b.records >= 1 && b.size > WAL_BATCH_HEADER_BYTES && b.size <= size - off);
        p = data + off;
        for (uint32_t i = 0; i < b.records; i++) {
            struct wal_record r;
            size_t n;
            FUZZ_CHECK(at < b.size);
            n = wal_record_at(p + at, &r);
            FUZZ_CHECK(n > 0 && n <= b.size - at);
            FUZZ_CHECK(r.lsn == b.first_lsn + i);
            FUZZ_CHECK((const uint8_t *)r.body >= p + at && r.body_bytes <= n);
            decode_body(&r, &v);
            at += n;
        }
        FUZZ_CHECK(at == b.size);
        next = b.first_lsn + b.records;
        off += b.size;
    }
    if (off < size) {
        (void)wal_valid_batch_after(data, size, off, next);
        (void)wal_nonzero_after(data, size, off);
    }
    for (size_t i = 0; i < size; i++) {
        struct wal_record r;
        size_t n = 0;
        if (wal_decode(data + i, size - i, &r, &n) == WAL_DECODE_OK) {
            FUZZ_CHECK(n > 0 && n <= size - i);
            FUZZ_CHECK((const uint8_t *)r.body >= data + i && r.body_bytes <= n);
            decode_body(&r, &v);
        }
    }
    effect_view_free(&v);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
    return 0;
}
