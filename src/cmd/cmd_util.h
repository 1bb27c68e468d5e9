#pragma once
/*
 * cmd_util.h - small helpers shared by the command handlers: arguments as
 * effect arguments and numbers, key lookups honouring CLIENT NO-TOUCH, and
 * the SCAN-family cursor.
 *
 * Threads: loop thread.
 */
#include "core/buf.h"
#include "core/util.h"
#include "db/db.h"
#include "db/obj.h"
#include "db/effect.h"
#include "server/client.h"

#include <stdbool.h>
#include <stdint.h>

/* Redis's reply to a count of LLONG_MIN (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER). */
#define ERR_COUNT_RANGE                                                                    \
    "ERR value is out of range, value must between -9223372036854775807 and "              \
    "9223372036854775807"

/* argv[i] as an effect argument. */
static inline struct effect_arg arg_of(const struct client *c, int i)
{
    return EFFECT_ARG(c->argv[i].p, c->argv[i].len);
}

/* Key argv[i] looked up for reading (hit/miss stats, LRU unless NO-TOUCH). */
static inline struct db_entry *lookup_read(struct client *c, int i)
{
    return db_lookup_read(c->db, c->argv[i].p, c->argv[i].len,
                          (c->flags & CLIENT_NO_TOUCH) != 0);
}

/* Key argv[i] looked up for a write that changes it only through db.c's
 * mutators (db_set, db_replace_value, db_delete_entry ...), which save what
 * they replace or delete for a transaction's undo log. The lookup itself
 * saves nothing (db_lookup_write_logged), so a command that then fails
 * (WRONGTYPE, not an integer, ...) or changes nothing (SET NX on an
 * existing key) costs a transaction no copy of the value. A caller that
 * changes the value in place saves it first (undo_save_entry) or logs the
 * change (undo.h). */
static inline struct db_entry *lookup_change(struct client *c, int i)
{
    return db_lookup_write_logged(c->db, c->argv[i].p, c->argv[i].len);
}

/* argv[i] as a long long. */
static inline bool arg_ll(const struct client *c, int i, long long *out)
{
    return util_str_to_ll(c->argv[i].p, c->argv[i].len, out);
}

/* A SCAN cursor: an unsigned decimal, as Redis's strtoull-based parse. */
bool cmd_parse_cursor(const char *p, size_t len, uint64_t *out);
/* MATCH and COUNT options from argv[first] on (HSCAN, SSCAN, ZSCAN):
 * *count defaults to 10, *pattern to NULL (also for "*"). False after
 * replying the error. */
bool cmd_parse_scan_opts(struct client *c, int first, long long *count,
                         const struct client_arg **pattern);
/* A blocking command's timeout argv[i] (seconds, fractional) as a
 * monotonic deadline, 0 = wait forever. False after replying Redis's
 * error ("timeout is not a float or out of range" / "timeout is negative"). */
bool cmd_parse_timeout(struct client *c, int i, int64_t *deadline_us);
/* Reply [cursor, <elements> already RESP-encoded in encoded]. */
void cmd_reply_scan(struct client *c, uint64_t cursor, long long elements,
                    const struct buf *encoded);

/* LMPOP/ZMPOP and their blocking forms: "numkeys key... A|B [COUNT n]" from
 * argv[first], A and B being LEFT/RIGHT or MIN/MAX; *second is true for B.
 * False after replying Redis's error. */
bool cmd_parse_mpop(struct client *c, int first, const char *a, const char *b,
                    long long *numkeys, bool *second, long long *count);
/* HRANDFIELD/ZRANDMEMBER: "key [count [<with>]]". *count is set if given;
 * *with for WITHVALUES/WITHSCORES. False after replying Redis's error. */
bool cmd_parse_rand(struct client *c, const char *with, long long *count, bool *with_out);
/* k distinct random indexes below n, in random order, for a few of many
 * (k * 3 < n): O(k log k) time and O(k) memory instead of a shuffle of all
 * n. Caller frees. NULL if the picks stall (not seen; bounded), then the
 * caller shuffles instead. */
size_t *cmd_pick_few_indexes(size_t n, size_t k);

/*
 * The pop commands' key search: the first of keys argv[first..last] that
 * exists (checked for `type`), trying first the key being served when a
 * blocked command is re-run (block_serving_arg). Returns its argv index
 * with *e set; -1 if none exists; -2 after replying WRONGTYPE. The entry
 * is looked up for a logged write (db_lookup_write_logged): the caller
 * logs each element it pops to the undo log.
 */
int cmd_first_existing(struct client *c, int first, int last, int type, struct db_entry **e);

/* A blocking command found no data in keys argv[first .. first + nkeys):
 * block the client, or inside MULTI (which never blocks) reply at once: a
 * null array, or a null bulk for BLMOVE/BRPOPLPUSH (multi_null_bulk). */
void cmd_block_or_null(struct client *c, int first, int nkeys, int64_t deadline_us,
                       bool multi_null_bulk);

/* HSCAN/SSCAN/ZSCAN: what a type's step adds to, and the MATCH test. */
struct cmd_scan {
    struct buf out;                   /* RESP-encoded strings of the reply */
    long long count;                  /* elements collected (pairs count once) */
    const struct client_arg *pattern; /* MATCH, or NULL */
};
bool cmd_scan_match(const struct cmd_scan *x, const char *p, size_t len);
/* One scan step of value o from cursor; returns the next cursor. */
typedef uint64_t cmd_scan_step_fn(const struct obj *o, uint64_t cursor, struct cmd_scan *x);
/*
 * The whole of "XSCAN key cursor [MATCH p] [COUNT n]" for values of `type`,
 * in Redis's order of checks (cursor, then key: missing -> empty scan,
 * other type -> WRONGTYPE, then options). strings: RESP strings per element.
 */
void cmd_scan_key(struct client *c, int type, cmd_scan_step_fn *step, int strings);
