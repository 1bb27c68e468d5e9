/*
 * fuzz_effect.c - fuzz target for effect_decode() (src/proto/effect_codec.h),
 * the decoder of WAL record bodies: recovery and engram-check read it from
 * files on disk.
 *
 * Design
 *   The whole input is one body: effects are decoded back to back until the
 *   end or the first error. Every decoded effect is re-encoded and decoded
 *   again, and must come back the same.
 *
 * Invariants checked
 *   (1) A decoded effect has size 1..remaining bytes, db in 0..EFFECT_DB_MAX,
 *       argc >= 1, and every argument inside the input (ASan checks the
 *       bytes as they are read).
 *   (2) A failure gives -1 and a reason.
 *   (3) effect_encode(decoded) decodes to the same db and arguments, and is
 *       no longer than the input it came from (the encoding is minimal).
 *   (4) Nothing allocated through mem.c is left behind.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/buf.h"
#include "core/mem.h"
#include "proto/effect_codec.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mem_before = mem_used_bytes();
    struct effect_view v = {0}, again = {0};
    struct buf out;
    const char *p = (const char *)data;
    size_t pos = 0;
    volatile unsigned sink = 0;

    buf_create(&out);
    while (pos < size) {
        const char *why = NULL;
        int64_t n = effect_decode(p + pos, size - pos, &v, &why);
        if (n < 0) {
            FUZZ_CHECK(n == -1 && why != NULL);
            break;
        }
        FUZZ_CHECK(n > 0 && (size_t)n <= size - pos);
        FUZZ_CHECK(v.db >= 0 && v.argc >= 1 && v.argc <= v.args_cap);
        for (int i = 0; i < v.argc; i++) {
            FUZZ_CHECK(v.args[i].p >= p + pos && v.args[i].len <= (size_t)n);
            FUZZ_CHECK(v.args[i].p + v.args[i].len <= p + pos + n);
            for (size_t k = 0; k < v.args[i].len; k++)
                sink += (unsigned char)v.args[i].p[k];
        }
        buf_clear(&out);
        effect_encode(&out, v.db, v.argc, v.args);
        FUZZ_CHECK(out.len <= (size_t)n);
        why = NULL;
        FUZZ_CHECK(effect_decode(out.data, out.len, &again, &why) == (int64_t)out.len);
        FUZZ_CHECK(again.db == v.db && again.argc == v.argc);
        for (int i = 0; i < v.argc; i++)
            FUZZ_CHECK(again.args[i].len == v.args[i].len &&
                       memcmp(again.args[i].p, v.args[i].p, v.args[i].len) == 0);
        pos += (size_t)n;
    }
    (void)sink;
    buf_destroy(&out);
    effect_view_free(&v);
    effect_view_free(&again);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
    return 0;
}
