#pragma once
/*
 * effect_codec.h - the binary encoding of canonical effects (effect.h), as
 * stored in WAL record bodies (docs/formats/wal.md, "Body").
 *
 * An effect is: varint database number, varint k (the command name plus
 * its arguments, k >= 1), then k times a varint length and that many
 * bytes. Varints are LEB128 (core/varint.h). A body is one or more effects
 * back to back. Compared with RESP this costs 1 byte of framing per
 * argument instead of 5 or more, which halves a typical record.
 *
 * Threads: any (no shared state).
 */
#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

struct effect_arg {
    const char *p; /* borrowed */
    size_t len;    /* bytes */
};
#define EFFECT_ARG(p, len) ((struct effect_arg){(p), (len)})
#define EFFECT_LIT(s) ((struct effect_arg){(s), sizeof(s) - 1})

/* Largest database number an effect may carry. */
#define EFFECT_DB_MAX INT32_MAX

/* Append one effect on database db with argc >= 1 elements. */
void effect_encode(struct buf *out, int db, int argc, const struct effect_arg *args);

/* A decoded effect; args point into the decoded bytes and are valid as long
 * as they are. The args array is owned (grown as needed, reused across
 * calls); free it with effect_view_free(). */
struct effect_view {
    int db;                   /* database number, 0..EFFECT_DB_MAX */
    int argc;                 /* elements: command name and its arguments */
    struct effect_arg *args;  /* owned array, args_cap entries */
    int args_cap;
};

void effect_view_free(struct effect_view *v);

/*
 * Decode the effect at p[0..len) into v. Returns its size in bytes (> 0),
 * or -1 with *why set to a static reason if the bytes are not one whole
 * valid effect. Never trusts the input: every count is bounded by the
 * bytes that are there.
 */
int64_t effect_decode(const char *p, size_t len, struct effect_view *v, const char **why);
