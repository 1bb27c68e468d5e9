/*
 * cmd_expire.c - key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
 * (with NX, XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Design
 *   All four setters share expire_generic(), which follows the order in
 *   which Redis 7.0 checks things, because the tests (and clients) can see
 *   it: options first (so "EXPIRE k abc NX XX" is an options error), then
 *   the number, then overflow of the unit conversion and of the addition of
 *   the base time, then the key lookup, then the NX/XX/GT/LT condition. A
 *   time at or before the command's time deletes the key at once.
 *
 *   Times are absolute unix milliseconds (db_entry.expire_ms); "now" is the
 *   command's time (db_now()), fixed for the whole command.
 *
 * Invariants
 *   (1) A successful setter records exactly one effect: PEXPIREAT key <abs
 *       ms> if it set a TTL, DEL key if the time was already past. A setter
 *       that replies 0 or an error records nothing.
 *   (2) PERSIST records PERSIST key only when it removed a TTL.
 *   (3) TTL-style replies never show a negative remaining time for a live
 *       key: a key that expires this very millisecond reports 0.
 *
 * Threads
 *   Loop thread only.
 */
#include "cmd/cmd.h"

#include "core/util.h"
#include "db/effect.h"
#include "server/reply.h"

#include <limits.h>

#define EXPIRE_NX (1u << 0) /* only if the key has no TTL */
#define EXPIRE_XX (1u << 1) /* only if the key has a TTL */
#define EXPIRE_GT (1u << 2) /* only if the new time is later (no TTL = infinite) */
#define EXPIRE_LT (1u << 3) /* only if the new time is earlier (no TTL = infinite) */

/* Parse NX/XX/GT/LT (any case, repeatable) from argv[3] on. Replies with
 * the error and returns false on an unknown or incompatible option. */
static bool parse_expire_flags(struct client *c, unsigned *flags)
{
    static const char *const names[] = {"nx", "xx", "gt", "lt"};
    *flags = 0;
    for (int i = 3; i < c->argc; i++) {
        unsigned flag = 0;
        for (unsigned j = 0; j < 4 && !flag; j++) {
            if (client_arg_is(c, i, names[j]))
                flag = 1u << j;
        }
        if (!flag) {
            reply_errorf(c, "ERR Unsupported option %.*s", (int)c->argv[i].len, c->argv[i].p);
            return false;
        }
        *flags |= flag;
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* Parse argv[2] and turn it into an absolute time in ms. Replies with the
 * error and returns false if it is not an integer or would overflow. */
static bool parse_when(struct client *c, int64_t base_ms, bool seconds, int64_t *when_ms)
{
    long long when;
    if (!util_str_to_ll(c->argv[2].p, c->argv[2].len, &when)) {
        reply_err_not_int(c);
        return false;
    }
    /* Negative times are allowed (they delete the key); only overflow of
     * the unit conversion or of adding the base time is an error. */
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto out_invalid;
        when *= 1000;
    }
    if (when > LLONG_MAX - base_ms)
        goto out_invalid;
    *when_ms = when + base_ms;
    return true;
out_invalid:
    reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->fullname);
    return false;
}

/* Whether the NX/XX/GT/LT condition allows replacing current_ms (-1 = no
 * TTL, which counts as an infinite TTL for GT and LT) by when_ms. */
static bool condition_holds(unsigned flags, int64_t current_ms, int64_t when_ms)
{
    if ((flags & EXPIRE_NX) && current_ms != -1)
        return false;
    if ((flags & EXPIRE_XX) && current_ms == -1)
        return false;
    if ((flags & EXPIRE_GT) && (current_ms == -1 || when_ms <= current_ms))
        return false;
    if ((flags & EXPIRE_LT) && current_ms != -1 && when_ms >= current_ms)
        return false;
    return true;
}

static void expire_generic(struct client *c, int64_t base_ms, bool seconds)
{
    unsigned flags;
    int64_t when_ms;
    struct db_entry *e;
    if (!parse_expire_flags(c, &flags) || !parse_when(c, base_ms, seconds, &when_ms))
        return;
    e = db_lookup_write_logged(c->db, c->argv[1].p, c->argv[1].len); /* TTL or delete only */
    if (!e || !condition_holds(flags, e->expire_ms, when_ms)) {
        reply_int(c, 0);
        return;
    }
    if (when_ms <= db_now()) {
        struct effect_arg del[2] = {EFFECT_LIT("DEL"), EFFECT_ARG(c->argv[1].p, c->argv[1].len)};
        db_delete_entry(c->db, e);
        effect_add(c->db_index, 2, del);
    } else {
        char when_str[UTIL_LL_STR_BYTES];
        int n = util_ll_to_str(when_str, sizeof(when_str), when_ms);
        struct effect_arg set[3] = {EFFECT_LIT("PEXPIREAT"),
                                    EFFECT_ARG(c->argv[1].p, c->argv[1].len),
                                    EFFECT_ARG(when_str, (size_t)n)};
        db_set_expire(c->db, e, when_ms);
        effect_add(c->db_index, 3, set);
    }
    reply_int(c, 1);
}

void cmd_expire(struct client *c)
{
    expire_generic(c, db_now(), true);
}

void cmd_pexpire(struct client *c)
{
    expire_generic(c, db_now(), false);
}

void cmd_expireat(struct client *c)
{
    expire_generic(c, 0, true);
}

void cmd_pexpireat(struct client *c)
{
    expire_generic(c, 0, false);
}

/*
 * TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for no TTL,
 * else the remaining (or absolute) time, in seconds rounded to the nearest
 * one or in ms. The lookup does not touch the key's access time.
 */
static void ttl_generic(struct client *c, bool ms, bool absolute)
{
    struct db_entry *e = db_lookup_read(c->db, c->argv[1].p, c->argv[1].len, true);
    int64_t t;
    if (!e) {
        reply_int(c, -2);
        return;
    }
    if (e->expire_ms < 0) {
        reply_int(c, -1);
        return;
    }
    t = absolute ? e->expire_ms : e->expire_ms - db_now();
    if (t < 0)
        t = 0;
    /* Round half up without overflowing: (t + 500) / 1000 would wrap for
     * PEXPIREAT INT64_MAX. */
    reply_int(c, ms ? t : t / 1000 + (t % 1000 >= 500));
}

void cmd_ttl(struct client *c)
{
    ttl_generic(c, false, false);
}

void cmd_pttl(struct client *c)
{
    ttl_generic(c, true, false);
}

void cmd_expiretime(struct client *c)
{
    ttl_generic(c, false, true);
}

void cmd_pexpiretime(struct client *c)
{
    ttl_generic(c, true, true);
}

void cmd_persist(struct client *c)
{
    struct db_entry *e = db_lookup_write_logged(c->db, c->argv[1].p, c->argv[1].len);
    if (!e || e->expire_ms < 0) {
        reply_int(c, 0);
        return;
    }
    struct effect_arg args[2] = {EFFECT_LIT("PERSIST"), EFFECT_ARG(c->argv[1].p, c->argv[1].len)};
    db_set_expire(c->db, e, -1);
    effect_add(c->db_index, 2, args);
    reply_int(c, 1);
}
