/*
 * prefetch.c - memory prefetch for the keys of pipelined commands.
 *
 * Design
 *   A private parser reads the requests ahead with the client's limits; a
 *   request it cannot read (partial, malformed, inline) ends the look-ahead
 *   and is left to the client's own parser, which reports any error. Keys
 *   come from the command table's first_key / last_key / key_step; commands
 *   with movable keys are skipped. A SELECT inside the batch makes the
 *   later prefetches hit the wrong database: harmless, they are hints.
 *
 * Threads
 *   Loop thread only.
 */
#include "server/prefetch.h"

#include "cmd/cmd.h"
#include "core/limits.h"
#include "db/db.h"
#include "proto/resp_parse.h"
#include "server/server.h"

static struct resp_parser ahead;

void prefetch_init(void)
{
    resp_parser_create(&ahead);
}

void prefetch_free(void)
{
    resp_parser_destroy(&ahead);
}

/* Appends the hashes of the keys of the request ahead holds to hashes[];
 * returns the new count. */
static int add_keys(const char *buf, uint64_t *hashes, int n)
{
    int idx[PREFETCH_KEYS_MAX], found;
    const struct cmd_def *d;
    if (ahead.argc < 2)
        return n;
    d = cmd_lookup(resp_arg_ptr(&ahead, buf, 0), ahead.args[0].len);
    if (!d || !d->fn || (d->flags & CMD_MOVABLE_KEYS))
        return n;
    /* Fixed positions only need argc (-1: wrong arity, the dispatcher says so). */
    found = cmd_get_keys(d, ahead.argc, NULL, idx, PREFETCH_KEYS_MAX - n);
    for (int i = 0; i < found; i++)
        hashes[n++] = db_hash(resp_arg_ptr(&ahead, buf, idx[i]), ahead.args[idx[i]].len);
    return n;
}

int prefetch_requests(const struct client *c, const char *buf, size_t len)
{
    uint64_t hashes[PREFETCH_KEYS_MAX];
    int requests = 0, keys = 0;
    size_t off = 0;
    /* A small keyspace stays in the cache: the look-ahead would only cost
     * (a second parse and command lookup of every request). Saying the
     * next batch was looked at makes the caller ask again after it. */
    if (ht_count(&c->db->keys) < PREFETCH_KEYSPACE_MIN)
        return PREFETCH_COMMANDS_MAX;
    /* Inline commands (telnet, redis-cli --pipe of text) are not pipelined
     * at a rate where this matters; they stop the look-ahead. */
    while (requests < PREFETCH_COMMANDS_MAX && keys < PREFETCH_KEYS_MAX && off < len &&
           buf[off] == '*') {
        int64_t rc;
        resp_parser_reset(&ahead);
        ahead.unauthenticated = !c->authenticated;
        ahead.bulk_bytes_max = (uint64_t)server.cfg.proto_max_bulk_len;
        rc = resp_parse(&ahead, buf + off, len - off);
        if (rc <= 0)
            break;
        keys = add_keys(buf + off, hashes, keys);
        off += (size_t)rc;
        requests++;
    }
    /* A huge request (MSET of a million keys) grew the private parser's
     * argument array; do not keep that memory for the rest of the run. */
    if (ahead.args_cap > PREFETCH_PARSER_KEEP_ARGS) {
        resp_parser_destroy(&ahead);
        resp_parser_create(&ahead);
    }
    for (int stage = 0; stage < 3; stage++) {
        for (int i = 0; i < keys; i++)
            db_prefetch(c->db, hashes[i], stage);
    }
    return requests;
}
