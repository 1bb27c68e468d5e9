#pragma once
/*
 * prefetch.h - memory prefetch for the keys of pipelined commands.
 *
 * A lookup in a large keyspace waits for memory two or three times (bucket
 * slot, entry, value), and those waits, not the work, dominate a pipeline
 * of commands on random keys. When a client's input holds more requests
 * after the one about to run, the loop looks ahead at them, computes the
 * hashes of their keys and issues prefetches for all of them in stages
 * (db_prefetch), so the cache misses of the batch overlap instead of
 * following one another. Nothing is executed or consumed here: the
 * requests are parsed again, normally, when their turn comes.
 *
 * Threads: loop thread.
 */
#include "server/client.h"

#include <stddef.h>

void prefetch_init(void);
void prefetch_free(void);

/*
 * Look ahead at the whole requests at the start of buf[0..len) (input of c
 * not yet parsed), at most PREFETCH_COMMANDS_MAX of them, and prefetch the
 * keys of those whose key positions are fixed, in c's selected database.
 * Returns how many requests it looked at (0 if none is whole yet), or
 * PREFETCH_COMMANDS_MAX without looking when the database is smaller than
 * PREFETCH_KEYSPACE_MIN (the caller asks again after that many).
 */
int prefetch_requests(const struct client *c, const char *buf, size_t len);
