#pragma once
/*
 * effect.h - the canonical effects of the command being executed
 * (DESIGN.md "Life of a write", item 1).
 *
 * Every write records what it did as deterministic commands: EXPIRE 10
 * becomes PEXPIREAT <abs ms>, INCRBYFLOAT becomes SET of the result, a key
 * that expires becomes DEL. Replay (and later replicas) apply effects and
 * never re-run non-deterministic logic. All effects of one command form one
 * unit; the WAL (issue 3) makes that unit one record. Until the WAL exists
 * the unit is counted (INFO's rdb_changes_since_last_save) and kept for
 * inspection by DEBUG EFFECTS.
 *
 * Encoding: proto/effect_codec.h (the database number, then the command
 * and its arguments, each length-prefixed); the WAL stores it as is.
 *
 * Threads: loop thread.
 */
#include "core/buf.h"
#include "proto/effect_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* Called for every effect as it is added (recording or not): WATCH learns
 * here which keys were modified. NULL for none. */
typedef void effect_observer_fn(int db, int argc, const struct effect_arg *args);
void effect_set_observer(effect_observer_fn *fn);

/* Switch recording off (WAL replay: the effects being applied are already
 * logged; appendonly no: nothing is logged) or back on. Effects are still
 * counted while off. */
void effect_set_recording(bool on);
/* Start collecting effects for a new command (drops the previous ones). */
void effect_begin(void);
/* Record one effect on database db. */
void effect_add(int db, int argc, const struct effect_arg *args);
/* Effects recorded since effect_begin(). */
int effect_count(void);
/* The encoded effects; valid until the next effect_begin(). */
const struct buf *effect_data(void);
/* Units (commands with effects) since start. */
uint64_t effect_units_total(void);
/* Count the current command's effects as one unit if it had any; called by
 * the dispatcher after each command. Returns the number of effects. */
int effect_commit(void);
