#pragma once
/*
 * fuzz.h - what every fuzz target shares (STYLE.md C8, example 11).
 *
 * A target defines LLVMFuzzerTestOneInput() and nothing else global. It is
 * built twice (tests/fuzz/fuzz.mk): with clang and libFuzzer for `make fuzz`,
 * and with gcc against replay_main.c, which feeds it every file of its
 * corpus once, for `make fuzz-replay` (part of `make test`).
 *
 * A target checks properties with FUZZ_CHECK, which reports and aborts;
 * both builds treat the abort as a crash. Targets must be deterministic (no
 * clock, no randomness, no state kept between inputs) so that a crashing
 * input replays.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(x)                                                                       \
    do {                                                                                    \
        if (!(x)) {                                                                         \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #x);      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)
