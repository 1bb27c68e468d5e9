/*
 * effect.c - recorder of canonical effects.
 *
 * Design
 *   One process-wide buffer for the command being executed (commands run
 *   one at a time on the loop thread). effect_commit() closes the unit.
 *
 * Invariants
 *   (1) count is the number of effects encoded in rec.
 *
 * Threads
 *   Loop thread only.
 */
#include "db/effect.h"

#include "core/assert.h"

static struct buf rec;
static int count;
static uint64_t units_total;
static bool recording = true;
static effect_observer_fn *observer;

void effect_set_observer(effect_observer_fn *fn)
{
    observer = fn;
}

void effect_set_recording(bool on)
{
    recording = on;
}

void effect_begin(void)
{
    buf_clear(&rec);
    count = 0;
}

void effect_add(int db, int argc, const struct effect_arg *args)
{
    ASSERT(argc > 0);
    count++; /* counted even when not recorded: INFO's changes since save */
    if (observer)
        observer(db, argc, args);
    if (!recording)
        return;
    effect_encode(&rec, db, argc, args);
}

int effect_count(void)
{
    return count;
}

const struct buf *effect_data(void)
{
    return &rec;
}

uint64_t effect_units_total(void)
{
    return units_total;
}

int effect_commit(void)
{
    if (count > 0)
        units_total++;
    return count;
}
