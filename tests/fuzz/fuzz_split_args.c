/*
 * fuzz_split_args.c - fuzz target for util_split_args() (src/core/util.h),
 * the tokenizer of redis.conf lines and inline commands.
 *
 * Design
 *   The whole input is one line. On success every token is read in full
 *   (ASan checks each lens[i]) and freed with util_free_args().
 *
 * Invariants checked
 *   (1) Success gives argc >= 0, NULL arrays exactly when argc is 0, and
 *       argv[i][lens[i]] == '\0'; failure gives NULL arrays and argc 0.
 *   (2) The token lengths sum to at most the input length: quotes and
 *       escapes only ever shrink the text.
 *   (3) Nothing allocated through mem.c is left behind.
 *
 * Threads
 *   Single-threaded.
 */
#include "fuzz/fuzz.h"

#include "core/mem.h"
#include "core/util.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t mem_before = mem_used_bytes();
    static char *argv_sentinel[1];
    static size_t lens_sentinel[1];
    char **argv = argv_sentinel; /* both paths must overwrite all three outputs */
    size_t *lens = lens_sentinel;
    int argc = -1;
    size_t total = 0;
    volatile unsigned sink = 0;

    if (util_split_args((const char *)data, size, &argv, &lens, &argc) != 0) {
        FUZZ_CHECK(argv == NULL && lens == NULL && argc == 0);
        FUZZ_CHECK(mem_used_bytes() == mem_before);
        return 0;
    }
    FUZZ_CHECK(argc >= 0);
    FUZZ_CHECK((argc == 0) == (argv == NULL) && (argc == 0) == (lens == NULL));
    for (int i = 0; i < argc; i++) {
        FUZZ_CHECK(argv[i] != NULL);
        FUZZ_CHECK(lens[i] <= size - total);
        total += lens[i];
        for (size_t k = 0; k < lens[i]; k++)
            sink += (unsigned char)argv[i][k];
        FUZZ_CHECK(argv[i][lens[i]] == '\0');
    }
    (void)sink;
    util_free_args(argv, lens, argc);
    FUZZ_CHECK(mem_used_bytes() == mem_before);
    return 0;
}
