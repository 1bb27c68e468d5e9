#pragma once
/*
 * limits.h - every bound of the server, in one place (STYLE.md C10).
 *
 * Each constant says why it has its value. Bounds that are also options
 * (proto-max-bulk-len, client-query-buffer-limit, maxclients) hold their
 * defaults here; the option can lower or raise them within the _MAX.
 */
#include <assert.h>
#include <stdint.h>

/* Redis's default proto-max-bulk-len: 512 MB. */
#define BULK_BYTES_DEFAULT (512ull * 1024 * 1024)
/* Largest value any string may reach (SETRANGE, APPEND), as Redis: 512 MB. */
#define STRING_BYTES_MAX (512ull * 1024 * 1024)
/* Redis's default client-query-buffer-limit: 1 GB. */
#define QUERY_BYTES_DEFAULT (1024ull * 1024 * 1024)
/* A '*N' or '$N' header line, or an inline command, longer than this with
 * no newline is a protocol error (Redis's PROTO_INLINE_MAX_SIZE). */
#define PROTO_INLINE_BYTES_MAX (64u * 1024)
/* Redis rejects multibulk counts above INT32_MAX. */
#define ARGC_MAX INT32_MAX
/* Before AUTH, Redis limits requests to 10 arguments of 16 KB each so an
 * unauthenticated peer cannot make the server allocate. */
#define UNAUTH_ARGC_MAX 10
#define UNAUTH_BULK_BYTES_MAX (16u * 1024)
/* A read(2) takes at most this much at once; larger bulks are read into a
 * buffer sized for them. */
#define READ_CHUNK_BYTES (16u * 1024)
/* Pipelined requests looked at ahead, and keys prefetched, per batch
 * (prefetch.h): 16 covers a typical client pipeline; more would let the
 * first prefetched lines leave the cache before their command runs. */
#define PREFETCH_COMMANDS_MAX 16
#define PREFETCH_KEYS_MAX 32
/* Keys a database needs before the look-ahead runs: below this its bucket
 * array (512 KB) and entries stay in the caches of a typical server. */
#define PREFETCH_KEYSPACE_MIN 65536
/* Argument slots the look-ahead parser keeps between batches. */
#define PREFETCH_PARSER_KEEP_ARGS 1024
/* Records waiting for the WAL thread (the open batch): past this the loop
 * stops executing commands from clients until the batch is handed over
 * (back-pressure when the disk is slower than the clients). */
#define WAL_OPEN_BYTES_MAX (64u * 1024 * 1024)
/* An empty query buffer larger than this is given back to the allocator. */
#define QUERY_BUF_KEEP_BYTES (256u * 1024)
/* A client whose pending reply bytes pass this is disconnected (a reader
 * that never reads must not exhaust memory). Redis's normal class has no
 * limit; we bound it above any single reply of a 512 MB value. */
#define CLIENT_REPLY_BYTES_MAX (1024ull * 1024 * 1024)
/* Sent bytes at the front of a reply buffer are dropped past this. */
#define CLIENT_OBUF_COMPACT_BYTES (64u * 1024)
/* Redis's default maxclients; file descriptors are reserved above it. */
#define CLIENTS_DEFAULT 10000
#define CLIENTS_MAX 100000
/* Descriptors kept for listeners, the log, the WAL and snapshots. */
#define FDS_RESERVED 32
/* Number of logical databases: default and upper bound for `databases`. */
#define DATABASES_DEFAULT 16
#define DATABASES_MAX 1024
/* hz: cron ticks per second, bounded like Redis (1..500). */
#define HZ_DEFAULT 10
#define HZ_MIN 1
#define HZ_MAX 500
/* busy-poll-us: how long the loop polls for events before it sleeps, when
 * the last idle gap was at most that long (ev.c, "Busy polling"). Default
 * (0 when the server may use only one CPU: config.c) and upper bound: past
 * a millisecond a poll only burns the CPU. */
#define BUSY_POLL_US_DEFAULT 50
#define BUSY_POLL_US_MAX 1000
/* Active expiry: keys sampled per loop of the cycle and the share of one
 * tick it may use (Redis uses 20 keys and 25% of CPU). */
#define EXPIRE_SAMPLE_KEYS 20
#define EXPIRE_CYCLE_CPU_PERCENT 25
/* Client names, lib names: Redis has no bound; ours keeps CLIENT LIST sane. */
#define CLIENT_NAME_BYTES_MAX 4096
/* Config file: one line at most this long. */
#define CONFIG_LINE_BYTES_MAX (64u * 1024)
/* LCS allocates an (n+1)*(m+1) table of uint32_t; refuse beyond this. */
#define LCS_CELLS_MAX (256ull * 1024 * 1024)
/* SCAN COUNT is a hint; the work per call is capped at this many buckets. */
#define SCAN_BUCKETS_MAX_FACTOR 10

static_assert(UNAUTH_BULK_BYTES_MAX <= PROTO_INLINE_BYTES_MAX * 1024, "sane unauth bulk");
static_assert(BULK_BYTES_DEFAULT <= QUERY_BYTES_DEFAULT, "one bulk fits in a query buffer");
static_assert(CLIENTS_DEFAULT <= CLIENTS_MAX, "default within bound");

/* Transactions: commands queued between MULTI and EXEC, their argument
 * bytes, and keys one client may WATCH. Past a limit the command gets an
 * error and the transaction is aborted (EXECABORT), so a client cannot grow
 * the server without bound. */
#define MULTI_QUEUED_MAX (1024 * 1024)
#define MULTI_QUEUED_BYTES_MAX (1024ull * 1024 * 1024)
#define WATCH_KEYS_MAX (1024 * 1024)

/* In a transaction, APPEND and SETRANGE save a string value of up to this
 * many bytes whole for rollback; a longer one saves only the bytes the
 * command overwrites and its length (undo_string_range), so appending to a
 * 512 MB value in MULTI does not copy 512 MB. */
#define UNDO_STRING_COPY_BYTES 4096u

/* Small hashes are packed (hash.h) up to these sizes, Redis's defaults for
 * hash-max-listpack-entries / -value; CONFIG SET may change them within
 * the _MAX bounds. Whatever they say, a packed hash never exceeds
 * HASH_PACKED_BYTES_MAX bytes: every change rebuilds the block, so its size
 * bounds the cost of one HSET. */
#define HASH_PACKED_ENTRIES_DEFAULT 128
#define HASH_PACKED_VALUE_DEFAULT 64
#define HASH_PACKED_BYTES_MAX (1024u * 1024)

/* Sets of integers stay an intset (set.h) up to this many members, Redis's
 * default for set-max-intset-entries. */
#define SET_INTSET_ENTRIES_DEFAULT 512

/* Small sorted sets are packed (zset.h) up to these sizes, Redis's defaults
 * for zset-max-listpack-entries / -value; the byte cap bounds one rebuild. */
#define ZSET_PACKED_ENTRIES_DEFAULT 128
#define ZSET_PACKED_VALUE_DEFAULT 64
#define ZSET_PACKED_BYTES_MAX (256u * 1024)

/* One WAL record (one command or one EXEC) holds at most this many bytes of
 * effects: the format's length field is 32 bits. A single command's effects
 * are about its arguments, which the query limits below keep under it; an
 * EXEC that would pass it is rolled back with an error. */
#define WAL_RECORD_BYTES_MAX (3ull * 1024 * 1024 * 1024)
/* Largest proto-max-bulk-len and client-query-buffer-limit accepted (Redis
 * accepts more), so one command always fits in one WAL record. */
#define QUERY_BYTES_CONFIG_MAX (2ll * 1024 * 1024 * 1024)

/* Longest the open WAL batch waits, after a commit released its clients,
 * for their next writes before it goes to the idle WAL thread (durable.c);
 * the wait is also at most half the last fdatasync. About a loopback round
 * trip, well under one fsync (~0.2-1 ms here), so a commit is never delayed
 * by more than a fraction of what it costs. */
#define WAL_COMMIT_DELAY_US 250

/* Replies queued before a client's first reply held for durability (D1/D2)
 * wait for it and leave in one write if they are at most this many bytes
 * (durable.c durable_writable_end): one syscall and one client wake-up
 * instead of two for MULTI ... EXEC, at the price of up to one group commit
 * of latency for those few bytes. */
#define REPLY_COALESCE_BYTES 1024u

/* When a WAL batch grows its segment file, the WAL thread writes this many
 * zero bytes past it before the same fdatasync, so the batches that follow
 * overwrite allocated, already-sized blocks and their fdatasync flushes data
 * only, with no journal commit for the file size (measured on ext4 here:
 * 210 us against 300 us per write+fdatasync). Recovery reads zeros as the
 * end of the log; batch framing (wal.c) makes a partly written last batch a
 * torn tail. */
#define WAL_ZERO_AHEAD_BYTES (1024u * 1024)

/* Dropped dirty-key entries (durable.c) kept for reuse: at most this many,
 * and only those whose key room is at most DIRTY_POOL_KEY_BYTES_MAX, so the
 * pool holds at most about 4096 * (64 + 128) bytes. */
#define DIRTY_POOL_MAX 4096
#define DIRTY_POOL_KEY_BYTES_MAX 128

/* Largest wal-snapshot-percentage (config.c): a snapshot after WAL growth of
 * up to 100 times the last snapshot's size. Beyond that a restart would
 * replay a log far larger than the data; 0 turns the rule off. */
#define WAL_SNAPSHOT_PERCENTAGE_MAX 10000

/* Random distinct picks for a few of many (HRANDFIELD, ZRANDMEMBER with a
 * positive count under a third of the size). cmd_pick_few_indexes draws in
 * rounds, keeping every new index: with at most a third wanted, at most a
 * third of a round's draws repeat, so 64 rounds fall short only with a
 * vanishing probability. HRANDFIELD's random field picks are not exactly
 * uniform over a hash table, so they get 64 tries per field wanted. Either
 * way, running out falls back to a shuffle of the whole value. */
#define RANDOM_PICK_ROUNDS_MAX 64
#define RANDOM_PICK_TRIES_PER_ITEM_MAX 64
