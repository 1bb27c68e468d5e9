/*
 * test_undo.c - unit tests for db/undo.c, the undo log of a transaction,
 * driven through the db layer (db.c calls the undo hooks while
 * undo_active()).
 *
 * Design
 *   A fixture owns DBS_COUNT databases and a model of their keyspace. Keys
 *   are named "k<i>" for i < KEYS_COUNT, so the model is a fixed array:
 *   for each (db, i) whether the key is present, its value bytes and
 *   encoding, and its TTL. Each op_*() helper applies one operation to the
 *   real db and to the model, the way a command would (lookups first, then
 *   the db.c mutators, in-place edits only after db_lookup_write()).
 *   check_model() compares db and model completely: db_size() and
 *   db_expires_count() against the model's counts, every model key (value
 *   bytes, encoding, TTL, presence in the TTL table), every absent key, the
 *   databases' ids and the hash tables' own consistency checks. Equal
 *   counts plus every model key found means the key sets are equal.
 *
 *   A transaction test copies the model at undo_begin(); after
 *   undo_rollback() the copy becomes the model again, so check_model()
 *   then proves that the keyspace is exactly what it was at undo_begin().
 *
 *   Lazy expiry is modelled: a key whose TTL is <= db_now() stays present
 *   (db_find_raw() still sees it) until an operation looks it up, which
 *   deletes it and records a DEL effect. An effect observer counts the DEL
 *   effects db.c records; the model counts the ones it expects.
 *
 *   Memory: fixture_begin() reads mem_used_bytes() and fixture_end()
 *   destroys the databases and expects the same count again. The undo log
 *   keeps its record stack between transactions unless one needed more
 *   than 1024 slots (undo.c finish()), so both ends first run
 *   drain_undo_stack(), a transaction of more records than that. A leak
 *   that is still reachable (which LeakSanitizer does not report) then
 *   shows as a difference.
 *
 * Invariants
 *   (1) Between operations, fx.m describes the databases exactly.
 *   (2) fx.dels_seen == fx.dels_expected after every operation.
 *   (3) Only keys i < fx.keys_used are ever touched, so check_model() is
 *       O(keys_used), and cheap enough to run after every random operation.
 *
 * Threads
 *   The test's thread only (it plays the loop thread of db.c and undo.c).
 */
#include "harness/test.h"

#include "core/limits.h"
#include "core/mem.h"
#include "db/db.h"
#include "db/effect.h"
#include "db/obj.h"
#include "db/undo.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DBS_COUNT 2
/* Key names k0..k2047; the random test uses only the first RANDOM_KEYS_COUNT. */
#define KEYS_COUNT        2048
#define RANDOM_KEYS_COUNT 24
/* Values longer than this are never built (appends turn into overwrites). */
#define VAL_BYTES_MAX 120
#define KEY_BYTES_MAX 16
/* The clock the tests run at (db_set_now); any fixed time will do. */
#define NOW_MS 1700000000000LL
/* More records than the undo log keeps its stack for (undo.c finish()). */
#define DRAIN_RECORDS_COUNT 1100
/* A time ms after the tests' clock. */
#define LATER(ms) (NOW_MS + (ms))

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test__fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
    } while (0)

/* The expected state of one key. */
struct mkey {
    bool present;
    uint8_t encoding;  /* enum obj_encoding */
    int64_t expire_ms; /* -1 for none */
    uint32_t len;      /* bytes of data */
    char data[VAL_BYTES_MAX];
};

struct model {
    struct mkey keys[DBS_COUNT][KEYS_COUNT];
};

static struct {
    struct db dbs[DBS_COUNT];
    struct model m;        /* expected state now */
    struct model at_begin; /* m when the transaction began */
    int keys_used;         /* invariant (3) */
    size_t mem_baseline;   /* mem_used_bytes() before the databases existed */
    uint64_t rng;          /* splitmix64 state */
    uint64_t dels_seen;    /* DEL effects recorded by db.c */
    uint64_t dels_expected;
} fx;

/* ---- small helpers ---- */

static uint64_t rnd(void)
{
    uint64_t z = (fx.rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static size_t kname(int i, char *buf)
{
    return (size_t)snprintf(buf, KEY_BYTES_MAX, "k%d", i);
}

static void use_key(int i)
{
    CHECK(i >= 0 && i < KEYS_COUNT, "key index %d out of range", i);
    if (i >= fx.keys_used)
        fx.keys_used = i + 1;
}

static void observe_effect(int db, int argc, const struct effect_arg *args)
{
    (void)db;
    if (argc == 2 && args[0].len == 3 && memcmp(args[0].p, "DEL", 3) == 0)
        fx.dels_seen++;
}

/* Pushes more records than the undo log keeps a stack for, so it frees it. */
static void drain_undo_stack(void)
{
    struct db scratch;
    char k[32];
    T_ASSERT(!undo_active());
    db_create(&scratch, 99);
    undo_begin();
    for (int i = 0; i < DRAIN_RECORDS_COUNT; i++) {
        size_t len = (size_t)snprintf(k, sizeof(k), "drain%d", i);
        db_add(&scratch, k, len, obj_new_int(i));
    }
    T_EQ_U64(undo_record_count(), DRAIN_RECORDS_COUNT);
    undo_rollback();
    T_EQ_U64(db_size(&scratch), 0);
    db_destroy(&scratch);
}

static void fixture_begin(uint64_t seed)
{
    memset(&fx, 0, sizeof(fx));
    fx.rng = seed;
    db_module_init(0x5eedULL + seed);
    db_set_now(NOW_MS);
    effect_set_recording(false); /* effects are counted by the observer, nothing is kept */
    effect_set_observer(observe_effect);
    drain_undo_stack();
    fx.mem_baseline = mem_used_bytes();
    for (int d = 0; d < DBS_COUNT; d++)
        db_create(&fx.dbs[d], d);
}

static void fixture_end(void)
{
    T_ASSERT(!undo_active());
    T_EQ_U64(undo_record_count(), 0);
    for (int d = 0; d < DBS_COUNT; d++)
        db_destroy(&fx.dbs[d]);
    drain_undo_stack();
    T_EQ_U64(mem_used_bytes(), fx.mem_baseline);
    effect_set_observer(NULL);
    effect_set_recording(true);
}

/* ---- the comparison ---- */

static void check_key(int d, int i)
{
    struct db *db = &fx.dbs[d];
    const struct mkey *mk = &fx.m.keys[d][i];
    char k[KEY_BYTES_MAX], tmp[32];
    size_t klen = kname(i, k), vlen;
    struct db_entry *e = db_find_raw(db, k, klen);
    struct ht_node *vol;
    const char *v;

    if (!mk->present) {
        CHECK(e == NULL, "db %d key %s: present, expected absent", d, k);
        return;
    }
    CHECK(e != NULL, "db %d key %s: absent, expected present", d, k);
    CHECK(e->val->type == OBJ_STRING, "db %d key %s: type %u", d, k, (unsigned)e->val->type);
    CHECK(e->val->encoding == mk->encoding, "db %d key %s: encoding %u, expected %u", d, k,
          (unsigned)e->val->encoding, (unsigned)mk->encoding);
    v = obj_str(e->val, tmp, &vlen);
    CHECK(vlen == mk->len && memcmp(v, mk->data, vlen) == 0,
          "db %d key %s: value \"%.*s\", expected \"%.*s\"", d, k, (int)vlen, v, (int)mk->len,
          mk->data);
    CHECK(e->expire_ms == mk->expire_ms, "db %d key %s: expire %" PRId64 ", expected %" PRId64, d,
          k, e->expire_ms, mk->expire_ms);
    vol = ht_find(&db->expires, k, klen, db_hash(k, klen));
    CHECK((vol != NULL) == (mk->expire_ms >= 0), "db %d key %s: TTL table entry %s", d, k,
          vol ? "present without a TTL" : "missing");
}

static void check_model(void)
{
    for (int d = 0; d < DBS_COUNT; d++) {
        struct db *db = &fx.dbs[d];
        size_t count = 0, vols = 0;
        CHECK(db->id == d, "db %d has id %d", d, db->id);
        for (int i = 0; i < fx.keys_used; i++) {
            const struct mkey *mk = &fx.m.keys[d][i];
            count += mk->present;
            vols += mk->present && mk->expire_ms >= 0;
            check_key(d, i);
        }
        CHECK(db_size(db) == count, "db %d: db_size %zu, expected %zu", d, db_size(db), count);
        CHECK(db_expires_count(db) == vols, "db %d: db_expires_count %zu, expected %zu", d,
              db_expires_count(db), vols);
        T_ASSERT(debug_check_ht(&db->keys));
        T_ASSERT(debug_check_ht(&db->expires));
    }
    T_EQ_U64(fx.dels_seen, fx.dels_expected);
}

/* ---- the operations: each changes db and model alike ---- */

/* Lazy expiry in the model: what db.c's lookup does. Returns the key or NULL. */
static struct mkey *m_lookup(int d, int i)
{
    struct mkey *mk = &fx.m.keys[d][i];
    use_key(i);
    if (!mk->present)
        return NULL;
    if (mk->expire_ms >= 0 && mk->expire_ms <= db_now()) {
        mk->present = false;
        fx.dels_expected++;
        return NULL;
    }
    return mk;
}

static void m_store(struct mkey *mk, const char *p, size_t len, const struct obj *o)
{
    T_ASSERT(len <= VAL_BYTES_MAX);
    mk->present = true;
    mk->encoding = (uint8_t)o->encoding;
    mk->len = (uint32_t)len;
    memcpy(mk->data, p, len);
}

/* Random value bytes: an integer, a short (embstr) or a long (raw) string. */
static size_t random_bytes(char *out)
{
    unsigned kind = rnd_below(4), len;
    if (kind == 0)
        return (size_t)snprintf(out, 32, "%lld", (long long)rnd_below(2000001) - 1000000);
    len = kind == 3 ? 45 + rnd_below(50) : rnd_below(30);
    for (unsigned j = 0; j < len; j++)
        out[j] = (char)('a' + rnd_below(26));
    return len;
}

/* db_set (SET): adds or replaces; the TTL is cleared unless keep_ttl. */
static void op_set_bytes(int d, int i, const char *p, size_t len, bool keep_ttl)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct obj *o = obj_new_string(p, len);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e;
    bool existed = mk != NULL;
    mk = &fx.m.keys[d][i];
    m_store(mk, p, len, o);
    if (!existed || !keep_ttl)
        mk->expire_ms = -1;
    e = db_set(&fx.dbs[d], k, klen, o, keep_ttl);
    T_ASSERT(e->val == o);
}

static void op_set(int d, int i, bool keep_ttl)
{
    char v[VAL_BYTES_MAX];
    size_t len = random_bytes(v);
    op_set_bytes(d, i, v, len, keep_ttl);
}

/* db_lookup_write, then db_add if absent (SETNX). */
static void op_add(int d, int i)
{
    char k[KEY_BYTES_MAX], v[VAL_BYTES_MAX];
    size_t klen = kname(i, k), len = random_bytes(v);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_write(&fx.dbs[d], k, klen);
    struct obj *o;
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: lookup disagrees with model", d, k);
    if (e)
        return;
    o = obj_new_string(v, len);
    m_store(&fx.m.keys[d][i], v, len, o);
    fx.m.keys[d][i].expire_ms = -1;
    T_ASSERT(db_add(&fx.dbs[d], k, klen, o)->val == o);
}

/* db_delete (DEL). */
static void op_delete(int d, int i)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct mkey *mk = m_lookup(d, i);
    bool existed = mk != NULL;
    if (mk)
        mk->present = false;
    T_EQ_INT(db_delete(&fx.dbs[d], k, klen), existed);
}

/* db_lookup_write, checked against the model; NULL if absent. */
static struct db_entry *lookup_write(int d, int i)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_write(&fx.dbs[d], k, klen);
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: lookup disagrees with model", d, k);
    return e;
}

/* db_set_expire on a looked-up key (PEXPIREAT when_ms >= 0, PERSIST when -1). */
static void op_expire(int d, int i, int64_t when_ms)
{
    struct db_entry *e = lookup_write(d, i);
    if (!e)
        return;
    db_set_expire(&fx.dbs[d], e, when_ms);
    fx.m.keys[d][i].expire_ms = when_ms;
}

/* db_lookup_read (GET); touches the LRU clock unless no_touch. */
static void op_read(int d, int i, bool no_touch)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_read(&fx.dbs[d], k, klen, no_touch);
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: read disagrees with model", d, k);
}

/* GETEX: db_lookup_read, then db_set_expire on that entry (no write lookup). */
static void op_getex(int d, int i, int64_t when_ms)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_read(&fx.dbs[d], k, klen, false);
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: read disagrees with model", d, k);
    if (!e)
        return;
    db_set_expire(&fx.dbs[d], e, when_ms);
    mk->expire_ms = when_ms;
}

/* GETDEL as cmd_string does it: db_lookup_read, then db_delete_entry. */
static void op_getdel(int d, int i)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(i, k);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_read(&fx.dbs[d], k, klen, true);
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: read disagrees with model", d, k);
    if (!e)
        return;
    mk->present = false;
    db_delete_entry(&fx.dbs[d], e);
}

/* GETSET: db_lookup_read, then db_replace_value with a new value and no TTL. */
static void op_getset(int d, int i)
{
    char k[KEY_BYTES_MAX], v[VAL_BYTES_MAX];
    size_t klen = kname(i, k), len = random_bytes(v);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_read(&fx.dbs[d], k, klen, false);
    struct obj *o;
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: read disagrees with model", d, k);
    if (!e)
        return;
    o = obj_new_string(v, len);
    m_store(mk, v, len, o);
    mk->expire_ms = -1;
    db_replace_value(&fx.dbs[d], e, o);
    db_set_expire(&fx.dbs[d], e, -1);
}

/*
 * Change the value in place after db_lookup_write(), then tell the db with
 * db_replace_value(db, e, e->val): an INT payload is incremented (INCR), a
 * string's bytes are rotated without changing its length.
 */
static void op_overwrite(int d, int i)
{
    struct db_entry *e = lookup_write(d, i);
    struct mkey *mk = &fx.m.keys[d][i];
    if (!e)
        return;
    if (e->val->encoding == OBJ_ENC_INT) {
        char digits[32];
        long long v;
        int64_t x;
        size_t len;
        T_ASSERT(mk->len < sizeof(digits));
        memcpy(digits, mk->data, mk->len); /* the model's bytes, NUL-ended */
        digits[mk->len] = '\0';
        v = strtoll(digits, NULL, 10) + 1;
        len = (size_t)snprintf(digits, sizeof(digits), "%lld", v);
        x = v;
        memcpy(e->val->data, &x, sizeof(x));
        memcpy(mk->data, digits, len);
        mk->len = (uint32_t)len;
    } else {
        for (uint32_t j = 0; j < e->val->len; j++) {
            e->val->data[j] = (char)('a' + (e->val->data[j] - 'a' + 1 + 26) % 26);
            mk->data[j] = (char)('a' + (mk->data[j] - 'a' + 1 + 26) % 26);
        }
    }
    db_replace_value(&fx.dbs[d], e, e->val);
}

/*
 * APPEND: a string grows with obj_try_resize() (the block may move: the
 * new pointer is stored in e->val, then db_replace_value(db, e, e->val));
 * an INT becomes a new string value. Too long: an overwrite instead.
 */
static void op_append(int d, int i)
{
    struct db_entry *e = lookup_write(d, i);
    struct mkey *mk = &fx.m.keys[d][i];
    char add[8];
    size_t add_len = 1 + rnd_below(6);
    struct obj *o;
    if (!e)
        return;
    if (mk->len + add_len + 1 > VAL_BYTES_MAX) {
        op_overwrite(d, i);
        return;
    }
    for (size_t j = 0; j < add_len; j++)
        add[j] = (char)('a' + rnd_below(26));
    memcpy(mk->data + mk->len, add, add_len);
    mk->len += (uint32_t)add_len;
    if (e->val->encoding == OBJ_ENC_INT) {
        o = obj_new_string(mk->data, mk->len);
        db_replace_value(&fx.dbs[d], e, o);
    } else {
        o = obj_try_resize(e->val, mk->len);
        T_NOT_NULL(o);
        memcpy(o->data + o->len - add_len, add, add_len);
        e->val = o;
        db_replace_value(&fx.dbs[d], e, o);
    }
    mk->encoding = (uint8_t)o->encoding;
}

/*
 * APPEND (append) or SETRANGE as cmd_string does them: db_lookup_write_logged,
 * undo_string_range() for the bytes about to be written, then the value
 * grown (an INT rewritten as its digits, anything else resized, which
 * leaves it raw) and n random bytes written at the end or at a random
 * offset up to 8 bytes past it (the gap becomes zeros). Too long: an
 * overwrite instead.
 */
static void op_write_range(int d, int i, bool append)
{
    char k[KEY_BYTES_MAX], tmp[32], add[8];
    size_t klen = kname(i, k), cur, at, n = 1 + rnd_below(8), len;
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_write_logged(&fx.dbs[d], k, klen);
    const char *bytes;
    struct obj *o;
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: lookup disagrees with model", d, k);
    if (!e)
        return;
    cur = mk->len;
    at = append ? cur : rnd_below((unsigned)cur + 9);
    if (at + n + 1 > VAL_BYTES_MAX) {
        op_overwrite(d, i);
        return;
    }
    len = at + n > cur ? at + n : cur;
    for (size_t j = 0; j < n; j++)
        add[j] = (char)('a' + rnd_below(26));
    undo_string_range(&fx.dbs[d], e, at, n);
    if (e->val->encoding == OBJ_ENC_INT) {
        bytes = obj_str(e->val, tmp, &cur);
        o = obj_try_new_raw(len);
        T_NOT_NULL(o);
        memset(o->data, 0, len);
        memcpy(o->data, bytes, cur);
        db_replace_value(&fx.dbs[d], e, o);
    } else {
        o = obj_try_resize(e->val, len);
        T_NOT_NULL(o);
        e->val = o;
        db_replace_value(&fx.dbs[d], e, o);
    }
    memcpy(o->data + at, add, n);
    if (at > mk->len)
        memset(mk->data + mk->len, 0, at - mk->len);
    memcpy(mk->data + at, add, n);
    mk->len = (uint32_t)len;
    mk->encoding = (uint8_t)o->encoding;
}

/* INCR as cmd_string does it: db_lookup_write_logged (nothing saved), then
 * an INT payload incremented in place after undo_save_entry() (a
 * transaction only), or anything else replaced by a new INT value (when it
 * is an integer) through db_replace_value, which saves the old one. */
static void op_incr(int d, int i)
{
    char k[KEY_BYTES_MAX], digits[32];
    size_t klen = kname(i, k), len;
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_write_logged(&fx.dbs[d], k, klen);
    long long v;
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: lookup disagrees with model", d, k);
    if (!e || !obj_get_ll(e->val, &v) || v >= 1000000000)
        return; /* not an integer: INCR fails and changes nothing */
    v++;
    if (e->val->encoding == OBJ_ENC_INT) {
        int64_t x = v;
        if (undo_active())
            (void)undo_save_entry(&fx.dbs[d], e, false);
        memcpy(e->val->data, &x, sizeof(x));
        db_replace_value(&fx.dbs[d], e, e->val);
        mk->encoding = OBJ_ENC_INT;
    } else {
        struct obj *o = obj_new_int(v);
        db_replace_value(&fx.dbs[d], e, o);
        mk->encoding = (uint8_t)o->encoding;
    }
    len = (size_t)snprintf(digits, sizeof(digits), "%lld", v);
    memcpy(mk->data, digits, len);
    mk->len = (uint32_t)len;
}

/* db_replace_value with a new value (keeps the TTL, as INCRBYFLOAT). */
static void op_replace(int d, int i)
{
    struct db_entry *e = lookup_write(d, i);
    char v[VAL_BYTES_MAX];
    size_t len = random_bytes(v);
    struct obj *o;
    if (!e)
        return;
    o = obj_new_string(v, len);
    m_store(&fx.m.keys[d][i], v, len, o);
    db_replace_value(&fx.dbs[d], e, o);
}

/* RENAME / MOVE: db_take_value from (d, i), then db_set at (d2, j) with the TTL. */
static void op_take(int d, int i, int d2, int j)
{
    char k[KEY_BYTES_MAX];
    size_t klen = kname(j, k);
    struct db_entry *e = lookup_write(d, i);
    struct mkey moved;
    struct obj *val;
    if (!e)
        return;
    moved = fx.m.keys[d][i];
    fx.m.keys[d][i].present = false;
    val = db_take_value(&fx.dbs[d], e);
    (void)m_lookup(d2, j); /* a stale target expires first */
    fx.m.keys[d2][j] = moved;
    e = db_set(&fx.dbs[d2], k, klen, val, false);
    if (moved.expire_ms >= 0)
        db_set_expire(&fx.dbs[d2], e, moved.expire_ms);
}

/* RENAME / MOVE as the commands do it: the source looked up without saving
 * (db_lookup_write_logged), an existing destination deleted, then
 * db_move_entry, which logs the move in a transaction instead of a copy. */
static void op_move(int d, int i, int d2, int j)
{
    char k[KEY_BYTES_MAX], k2[KEY_BYTES_MAX];
    size_t klen = kname(i, k), k2len = kname(j, k2);
    struct mkey *mk = m_lookup(d, i);
    struct db_entry *e = db_lookup_write_logged(&fx.dbs[d], k, klen), *old;
    struct mkey moved;
    CHECK((e != NULL) == (mk != NULL), "db %d key %s: lookup disagrees with model", d, k);
    if (!e || (d == d2 && i == j))
        return;
    moved = *mk;
    mk->present = false;
    old = db_lookup_write_logged(&fx.dbs[d2], k2, k2len);
    CHECK((old != NULL) == (m_lookup(d2, j) != NULL), "db %d key %s: lookup disagrees", d2, k2);
    if (old)
        db_delete_entry(&fx.dbs[d2], old);
    fx.m.keys[d2][j] = moved;
    e = db_move_entry(&fx.dbs[d], e, &fx.dbs[d2], k2, k2len);
    T_EQ_INT(e->expire_ms, moved.expire_ms);
}

/* GETDEL: db_take_value, and the caller frees the value. */
static void op_take_free(int d, int i)
{
    struct db_entry *e = lookup_write(d, i);
    if (!e)
        return;
    fx.m.keys[d][i].present = false;
    obj_delete(db_take_value(&fx.dbs[d], e));
}

/* FLUSHDB. */
static void op_flush(int d)
{
    for (int i = 0; i < KEYS_COUNT; i++)
        fx.m.keys[d][i].present = false;
    db_flush(&fx.dbs[d]);
    T_EQ_U64(db_size(&fx.dbs[d]), 0);
    T_EQ_U64(db_expires_count(&fx.dbs[d]), 0);
}

/* SWAPDB a b: contents change places, ids stay. */
static void op_swap(int a, int b)
{
    static struct mkey tmp[KEYS_COUNT];
    memcpy(tmp, fx.m.keys[a], sizeof(tmp));
    memmove(fx.m.keys[a], fx.m.keys[b], sizeof(tmp));
    memcpy(fx.m.keys[b], tmp, sizeof(tmp));
    db_swap(&fx.dbs[a], &fx.dbs[b]);
}

static void op_put_int(int d, int i, long long v, int64_t expire_ms)
{
    char s[32];
    size_t len = (size_t)snprintf(s, sizeof(s), "%lld", v);
    op_set_bytes(d, i, s, len, false);
    T_EQ_INT(fx.m.keys[d][i].encoding, OBJ_ENC_INT);
    if (expire_ms >= 0)
        op_expire(d, i, expire_ms);
}

static void op_put_str(int d, int i, const char *s, int64_t expire_ms)
{
    op_set_bytes(d, i, s, strlen(s), false);
    if (expire_ms >= 0)
        op_expire(d, i, expire_ms);
}

/* ---- transactions on the model ---- */

static void txn_begin(void)
{
    T_ASSERT(!undo_active());
    T_EQ_U64(undo_record_count(), 0);
    fx.at_begin = fx.m;
    undo_begin();
    T_ASSERT(undo_active());
}

static void txn_rollback(void)
{
    uint64_t dels = fx.dels_seen;
    undo_rollback();
    T_ASSERT(!undo_active());
    T_EQ_U64(undo_record_count(), 0);
    T_EQ_U64(fx.dels_seen, dels); /* restoring records no effects */
    fx.m = fx.at_begin;
    check_model();
}

static void txn_commit(void)
{
    undo_commit();
    T_ASSERT(!undo_active());
    T_EQ_U64(undo_record_count(), 0);
    check_model();
}

/* ---- fixed scenarios ---- */

/* db0: k0..k11, db1: k0..k7, with every encoding, some with a TTL. */
static void seed_keyspace(void)
{
    static const char long_a[] = "a string longer than forty-four bytes, so it is raw";
    static const char long_b[] = "another long value, long enough to be encoded raw";
    op_put_str(0, 0, "v0", LATER(1000));
    op_put_str(0, 1, "v1 volatile", LATER(2000));
    op_put_int(0, 2, 2, -1);
    op_put_str(0, 3, long_a, LATER(3000));
    op_put_str(0, 4, "persistent", -1);
    op_put_int(0, 5, -55, LATER(4000));
    op_put_str(0, 6, "v6", LATER(5000));
    op_put_str(0, 7, "moved away", LATER(6000));
    op_put_str(0, 8, long_b, -1);
    op_put_int(0, 9, 41, LATER(7000));
    op_put_str(0, 10, long_a, -1);
    op_put_str(0, 11, "short", -1);
    op_put_str(1, 0, "one-zero", -1);
    op_put_int(1, 1, 11, LATER(8000));
    op_put_str(1, 2, long_b, LATER(9000));
    op_put_str(1, 3, "one-three", -1);
    for (int i = 4; i < 8; i++)
        op_put_int(1, i, 100 + i, i % 2 ? LATER(100 * i) : -1);
    op_put_str(0, 14, "getex", -1);
    op_put_str(0, 15, "getex persist", LATER(10000));
    op_put_str(0, 16, "getdel", LATER(11000));
    op_put_str(0, 17, "getset", LATER(12000));
    op_put_str(0, 18, long_a, -1);
    op_put_str(0, 19, long_b, LATER(13000));
    T_EQ_INT(fx.m.keys[0][3].encoding, OBJ_ENC_RAW);
    T_EQ_INT(fx.m.keys[0][11].encoding, OBJ_ENC_EMBSTR);
    check_model();
}

/* One of each kind of change, on both databases. */
static void mixed_ops(void)
{
    op_set(0, 12, false); /* new key through db_set */
    op_add(0, 13);        /* new key through db_add */
    op_add(1, 20);
    op_set_bytes(0, 1, "new", 3, false);   /* replaces, drops the TTL */
    op_set_bytes(0, 3, "kept", 4, true);   /* replaces, keeps the TTL */
    op_set_bytes(0, 4, "12345", 5, false); /* replaces a string by an INT */
    op_delete(0, 2);
    op_delete(0, 23);            /* absent */
    op_expire(0, 4, LATER(500)); /* TTL on a persistent key */
    op_expire(0, 5, LATER(900)); /* TTL changed */
    op_expire(0, 6, -1);         /* TTL cleared */
    op_take(0, 7, 1, 21);        /* MOVE/RENAME to db1, with its TTL */
    op_take(0, 0, 0, 11);        /* RENAME over an existing key */
    op_take_free(0, 8);          /* GETDEL */
    op_overwrite(0, 9);          /* INT payload in place */
    op_overwrite(0, 10);         /* RAW bytes in place */
    op_append(0, 10);            /* RAW resized */
    op_append(0, 5);             /* INT becomes a string */
    op_write_range(0, 18, true); /* logged APPEND (or saved whole: see the caller) */
    op_write_range(0, 18, false); /* logged SETRANGE */
    op_write_range(0, 19, false);
    op_incr(0, 2);               /* INT in place, saved by the command */
    op_incr(0, 2);
    op_replace(1, 1);            /* new value, TTL kept */
    op_getex(0, 14, LATER(50));  /* changes after a read lookup */
    op_getex(0, 15, -1);
    op_getdel(0, 16);
    op_getset(0, 17);
    check_model();
    op_flush(1);
    op_set(1, 0, false); /* a write to the flushed db */
    op_put_str(1, 2, "after flush", LATER(100));
    op_swap(0, 1);
    op_set(0, 1, false); /* in what was db1 */
    op_delete(1, 3);     /* in what was db0 */
    op_overwrite(1, 12);
    check_model();
}

TEST(undo_rollback_restores_every_kind_of_change)
{
    fixture_begin(1);
    seed_keyspace();
    txn_begin();
    mixed_ops();
    T_ASSERT(undo_record_count() > 0);
    txn_rollback();
    /* The restored keyspace works as usual afterwards. */
    op_set(0, 3, true);
    op_delete(1, 4);
    op_flush(0);
    check_model();
    fixture_end();
}

/* The same with APPEND/SETRANGE logged (undo_string_range) instead of saved
 * whole: raw strings of more than 8 bytes are logged. */
TEST(undo_rollback_restores_logged_string_ranges)
{
    undo_string_copy_bytes = 8;
    fixture_begin(3);
    seed_keyspace();
    txn_begin();
    mixed_ops();
    txn_rollback();
    fixture_end();
    undo_string_copy_bytes = UNDO_STRING_COPY_BYTES;
}

/* A long string changed by APPEND/SETRANGE costs the log only the bytes
 * overwritten, not a copy; rollback restores its bytes, length and
 * encoding. */
TEST(undo_string_range_saves_only_the_change)
{
    const size_t big = 1u << 20;
    struct obj *o;
    struct db_entry *e;
    size_t before;
    fixture_begin(6);
    o = obj_try_new_raw(big);
    T_NOT_NULL(o);
    memset(o->data, 'x', big);
    (void)db_add(&fx.dbs[0], "big", 3, o);
    undo_begin();
    before = mem_used_bytes();
    e = db_lookup_write_logged(&fx.dbs[0], "big", 3);
    undo_string_range(&fx.dbs[0], e, big - 10, 20); /* overwrites 10 bytes, appends 10 */
    T_ASSERT(mem_used_bytes() - before < 4096);
    o = obj_try_resize(e->val, big + 10);
    T_NOT_NULL(o);
    e->val = o;
    db_replace_value(&fx.dbs[0], e, o);
    memset(o->data + big - 10, 'y', 20);
    undo_string_range(&fx.dbs[0], e, big + 100, 5); /* past the end: 90 zero bytes, then 5 */
    o = obj_try_resize(e->val, big + 105);
    T_NOT_NULL(o);
    e->val = o;
    db_replace_value(&fx.dbs[0], e, o);
    memset(o->data + big + 100, 'z', 5);
    T_EQ_U64(undo_record_count(), 2);
    T_ASSERT(mem_used_bytes() - before < big / 2); /* still no copy */
    T_ASSERT(undo_last_bytes() < 4096);
    undo_rollback();
    e = db_find_raw(&fx.dbs[0], "big", 3);
    T_NOT_NULL(e);
    T_EQ_U64(e->val->len, big);
    T_EQ_INT(e->val->encoding, OBJ_ENC_RAW);
    for (size_t i = 0; i < big; i++) {
        if (e->val->data[i] != 'x') {
            T_ASSERT(!"byte not restored");
            break;
        }
    }
    T_ASSERT(db_delete(&fx.dbs[0], "big", 3));
    fixture_end();
}

/* The grow after undo_string_range() fails (out of memory): the command
 * fails, the value is unchanged, and rollback must leave it so, whether
 * the write was to start inside the value, across its end or past it. */
TEST(undo_string_range_write_that_did_not_happen)
{
    static const size_t offsets[] = {10, 4990, 5000, 9000};
    struct obj *o;
    struct db_entry *e;
    undo_string_copy_bytes = 100;
    fixture_begin(7);
    for (size_t t = 0; t < sizeof(offsets) / sizeof(offsets[0]); t++) {
        o = obj_try_new_raw(5000);
        T_NOT_NULL(o);
        memset(o->data, 'x', 5000);
        (void)db_add(&fx.dbs[0], "s", 1, o);
        undo_begin();
        e = db_lookup_write_logged(&fx.dbs[0], "s", 1);
        undo_string_range(&fx.dbs[0], e, offsets[t], 20); /* then no write */
        T_EQ_U64(undo_record_count(), 1);
        undo_rollback();
        e = db_find_raw(&fx.dbs[0], "s", 1);
        T_NOT_NULL(e);
        T_EQ_U64(e->val->len, 5000);
        T_ASSERT(e->val->data[0] == 'x' && e->val->data[4999] == 'x');
        T_ASSERT(db_delete(&fx.dbs[0], "s", 1));
    }
    fixture_end();
    undo_string_copy_bytes = UNDO_STRING_COPY_BYTES;
}

/* Many small changes to one long string: once the bytes logged for it
 * would pass its size the log saves it whole, so the log stays within
 * about one copy plus what was logged before; rollback still restores it. */
TEST(undo_string_range_many_changes_cost_about_one_copy)
{
    const size_t len0 = 6000;
    struct obj *o;
    struct db_entry *e;
    size_t records;
    fixture_begin(8);
    o = obj_try_new_raw(len0);
    T_NOT_NULL(o);
    for (size_t j = 0; j < len0; j++)
        o->data[j] = (char)('a' + j % 26);
    (void)db_add(&fx.dbs[0], "s", 1, o);
    undo_begin();
    for (int n = 0; n < 3000; n++) {
        e = db_lookup_write_logged(&fx.dbs[0], "s", 1);
        undo_string_range(&fx.dbs[0], e, e->val->len, 1); /* APPEND one byte */
        o = obj_try_resize(e->val, e->val->len + 1);
        T_NOT_NULL(o);
        e->val = o;
        db_replace_value(&fx.dbs[0], e, o);
        o->data[o->len - 1] = '!';
        if (n % 2) { /* and a SETRANGE over the first bytes */
            undo_string_range(&fx.dbs[0], e, 0, 3);
            memcpy(o->data, "ZZZ", 3);
        }
    }
    records = undo_record_count();
    T_ASSERT(records < 100);                 /* not one per change */
    T_ASSERT(undo_last_bytes() < 3 * len0); /* logged ~len0, then one copy */
    T_ASSERT(undo_last_bytes() > len0);     /* the copy is counted */
    undo_rollback();
    e = db_find_raw(&fx.dbs[0], "s", 1);
    T_NOT_NULL(e);
    T_EQ_U64(e->val->len, len0);
    for (size_t j = 0; j < len0; j++) {
        if (e->val->data[j] != (char)('a' + j % 26)) {
            T_ASSERT(!"byte not restored");
            break;
        }
    }
    T_ASSERT(db_delete(&fx.dbs[0], "s", 1));
    fixture_end();
}

TEST(undo_commit_keeps_changes)
{
    fixture_begin(2);
    seed_keyspace();
    txn_begin();
    mixed_ops();
    txn_commit();
    op_set(0, 3, true);
    op_delete(1, 4);
    check_model();
    fixture_end(); /* with the mem_used_bytes() check */
}

/*
 * After commit the log holds nothing: memory is what the same operations
 * use outside a transaction (the saved values and the flushed tables are
 * freed at commit, not later).
 */
TEST(undo_commit_frees_saved_state)
{
    size_t plain, in_txn;
    fixture_begin(3);
    seed_keyspace();
    mixed_ops();
    plain = mem_used_bytes() - fx.mem_baseline;
    fixture_end();

    fixture_begin(3);
    seed_keyspace();
    txn_begin();
    mixed_ops();
    T_ASSERT(mem_used_bytes() - fx.mem_baseline > plain); /* the log holds copies */
    txn_commit();
    drain_undo_stack();
    in_txn = mem_used_bytes() - fx.mem_baseline;
    T_EQ_U64(in_txn, plain);
    fixture_end();
}

/* Entries found by db_lookup_read() and then changed: the mutators save them. */
TEST(undo_changes_after_read_lookup)
{
    fixture_begin(13);
    seed_keyspace();
    txn_begin();
    op_getex(0, 14, LATER(50)); /* GETEX PX: a TTL on a persistent key */
    op_getex(0, 15, -1);        /* GETEX PERSIST */
    op_getex(1, 5, LATER(60));  /* GETEX on a volatile key */
    op_getdel(0, 16);
    op_getset(0, 17);
    T_EQ_U64(undo_record_count(), 5);
    check_model();
    txn_rollback();
    fixture_end();
}

TEST(undo_empty_transaction)
{
    fixture_begin(4);
    seed_keyspace();
    txn_begin();
    T_EQ_U64(undo_record_count(), 0);
    txn_rollback();
    txn_begin();
    op_read(0, 0, false); /* reads record nothing */
    op_read(0, 22, true);
    T_EQ_U64(undo_record_count(), 0);
    txn_commit();
    fixture_end();
}

/* 1000 changes of each kind to one key; returns after the last one. */
static void hammer_key(int d, int i)
{
    for (int n = 0; n < 1000; n++) {
        switch (n % 10) {
        case 0:
            op_overwrite(d, i);
            break;
        case 1:
            op_set(d, i, n % 3 == 0);
            break;
        case 2:
            op_expire(d, i, LATER(n));
            break;
        case 3:
            op_append(d, i);
            break;
        case 4:
            op_expire(d, i, -1);
            break;
        case 5:
            op_replace(d, i);
            break;
        case 6:
            op_delete(d, i);
            break;
        case 7:
            op_add(d, i);
            break;
        case 8:
            op_take(d, i, d, i); /* RENAME k k */
            break;
        default:
            op_read(d, i, false);
            break;
        }
    }
}

TEST(undo_one_record_per_key)
{
    fixture_begin(5);
    seed_keyspace();
    for (int commit = 0; commit < 2; commit++) {
        txn_begin();
        hammer_key(0, 9); /* an existing key */
        T_EQ_U64(undo_record_count(), 1);
        hammer_key(1, 9); /* same name, other db: its own record */
        T_EQ_U64(undo_record_count(), 2);
        hammer_key(0, 30); /* absent at begin */
        T_EQ_U64(undo_record_count(), 3);
        for (int n = 0; n < 1000; n++)
            op_overwrite(0, 2); /* INCR in place */
        T_EQ_U64(undo_record_count(), 4);
        check_model();
        if (commit)
            txn_commit();
        else
            txn_rollback();
    }
    fixture_end();
}

TEST(undo_flush_then_writes)
{
    fixture_begin(6);
    seed_keyspace();
    txn_begin();
    op_set(0, 1, false); /* record 1: k1 */
    op_flush(0);         /* record 2: the tables */
    check_model();
    op_set(0, 1, false);              /* record 3: k1 again (absent in the flushed db) */
    op_put_str(0, 2, "x", LATER(10)); /* record 4 */
    op_add(0, 20);                    /* record 5 */
    op_expire(0, 1, LATER(20));
    op_delete(0, 2);
    op_append(0, 1);
    T_EQ_U64(undo_record_count(), 5);
    check_model();
    op_flush(0);        /* record 6 */
    op_set(0, 1, true); /* record 7 */
    op_add(0, 4);       /* record 8 */
    T_EQ_U64(undo_record_count(), 8);
    check_model();
    txn_rollback();

    /* The same, committed. */
    txn_begin();
    op_flush(0);
    op_set(0, 1, false);
    op_flush(0);
    op_put_int(0, 5, 5, LATER(5));
    txn_commit();
    fixture_end();
}

TEST(undo_swap_then_writes)
{
    fixture_begin(7);
    seed_keyspace();
    txn_begin();
    op_set(0, 0, true); /* before the swap */
    op_swap(0, 1);
    op_set(0, 0, true); /* same (db, key) pair, other contents */
    op_set(1, 0, false);
    op_delete(0, 1);
    op_delete(1, 1);
    op_expire(0, 3, LATER(33));
    op_expire(1, 3, -1);
    op_append(0, 2);
    op_overwrite(1, 2);
    op_take(0, 4, 1, 4); /* MOVE back across */
    op_add(1, 25);
    check_model();
    txn_rollback();

    txn_begin();
    op_swap(0, 0); /* SWAPDB 0 0 */
    op_set(0, 0, false);
    txn_rollback();

    txn_begin();
    op_swap(0, 1);
    op_set(0, 0, false);
    op_delete(1, 2);
    txn_commit();
    fixture_end();
}

TEST(undo_swap_twice)
{
    fixture_begin(8);
    seed_keyspace();
    txn_begin();
    op_swap(0, 1);
    op_swap(0, 1); /* back where it started */
    check_model();
    txn_rollback();

    txn_begin();
    op_set(0, 1, false);
    op_swap(0, 1);
    op_set(0, 1, false);
    op_set(1, 1, false);
    op_overwrite(1, 2);
    op_swap(0, 1);
    op_set(0, 1, false);
    op_delete(1, 2);
    op_take(0, 3, 1, 3);
    op_swap(1, 0);
    op_append(0, 0);
    check_model();
    txn_rollback();
    fixture_end();
}

static void flush_both_after_swap(void)
{
    op_set(0, 1, false);
    op_swap(0, 1);
    op_set(0, 5, false);
    op_delete(1, 0);
    op_flush(0);
    op_flush(1);
    check_model();
    op_set(0, 1, false);
    op_put_str(1, 1, "x", LATER(7));
    op_swap(0, 1);
    op_flush(1);
    op_add(1, 2);
    op_expire(0, 1, -1);
    check_model();
}

TEST(undo_flush_both_after_swap)
{
    fixture_begin(9);
    seed_keyspace();
    txn_begin();
    flush_both_after_swap();
    txn_rollback();
    txn_begin();
    flush_both_after_swap();
    txn_commit();
    fixture_end();
}

/* More records than the log keeps a stack for, then a normal transaction. */
TEST(undo_large_transaction)
{
    fixture_begin(10);
    for (int i = 0; i < 500; i++)
        op_put_int(0, i, i, i % 3 ? -1 : LATER(i));
    check_model();
    txn_begin();
    for (int i = 0; i < KEYS_COUNT; i++)
        op_set(i % 2, i, i % 4 == 0);
    for (int i = 0; i < 500; i += 5)
        op_delete(0, i);
    T_EQ_U64(undo_record_count(), KEYS_COUNT + 50); /* + the odd deleted keys */
    check_model();
    txn_rollback();
    txn_begin();
    op_set(0, 1, false);
    op_delete(0, 2);
    T_EQ_U64(undo_record_count(), 2);
    txn_rollback();
    fixture_end();
}

/* ---- lazy expiry inside a transaction ---- */

/* k0..k5 in db0 expired (TTL at NOW_MS + 100, clock at NOW_MS + 1000), k6, k7 live. */
static void seed_expired(void)
{
    for (int i = 0; i < 6; i++)
        op_put_str(0, i, i % 2 ? "expired" : "an expired value long enough to be raw!!!!!!!!",
                   LATER(100));
    op_put_int(0, 6, 6, LATER(5000));
    op_put_str(0, 7, "live", -1);
    db_set_now(LATER(1000));
    check_model(); /* all still there: nothing looked them up */
    T_EQ_U64(db_expires_count(&fx.dbs[0]), 7);
}

static void expire_by_lookups(void)
{
    uint64_t dels = fx.dels_seen;
    op_read(0, 0, false); /* GET: deletes it, DEL effect */
    op_read(0, 1, true);
    T_NULL(lookup_write(0, 2));
    op_set(0, 3, true); /* replaced by a new key: no TTL to keep */
    op_delete(0, 4);    /* DEL of an expired key: absent */
    T_EQ_U64(fx.dels_seen, dels + 5);
    T_EQ_U64(db_size(&fx.dbs[0]), 4);
    T_EQ_U64(db_expires_count(&fx.dbs[0]), 2);
    T_EQ_INT(fx.m.keys[0][3].expire_ms, -1);
    check_model();
}

TEST(undo_restores_keys_deleted_by_expiry)
{
    fixture_begin(11);
    seed_expired();
    txn_begin();
    expire_by_lookups();
    txn_rollback(); /* back with their TTLs, still expired */
    T_EQ_U64(db_size(&fx.dbs[0]), 8);
    T_EQ_U64(db_expires_count(&fx.dbs[0]), 7);
    T_NOT_NULL(db_find_raw(&fx.dbs[0], "k0", 2));
    T_EQ_INT(db_find_raw(&fx.dbs[0], "k0", 2)->expire_ms, LATER(100));

    /* Outside a transaction the next lookup expires them again. */
    expire_by_lookups();

    txn_begin();
    op_read(0, 5, false);
    txn_commit(); /* the expired value goes for good */
    T_NULL(db_find_raw(&fx.dbs[0], "k5", 2));
    fixture_end();
}

TEST(undo_restores_keys_deleted_by_expire_all)
{
    uint64_t dels;
    fixture_begin(12);
    seed_expired();
    txn_begin();
    dels = fx.dels_seen;
    T_EQ_U64(db_expire_all(&fx.dbs[0]), 6);
    for (int i = 0; i < 6; i++)
        T_NULL(m_lookup(0, i));
    T_EQ_U64(fx.dels_seen, dels + 6);
    check_model();
    T_EQ_U64(undo_record_count(), 6);
    txn_rollback();
    fixture_end();
}

/* ---- randomized ---- */

static void random_op(void)
{
    int d = (int)rnd_below(DBS_COUNT), i = (int)rnd_below(RANDOM_KEYS_COUNT);
    unsigned r = rnd_below(1000);
    if (r < 200)
        op_set(d, i, rnd_below(2));
    else if (r < 260)
        op_add(d, i);
    else if (r < 380)
        op_delete(d, i);
    else if (r < 480)
        op_expire(d, i, LATER(1 + rnd_below(100000)));
    else if (r < 510)
        op_expire(d, i, NOW_MS - rnd_below(1000)); /* expired at once, kept until looked up */
    else if (r < 570)
        op_expire(d, i, -1);
    else if (r < 650)
        op_overwrite(d, i);
    else if (r < 690)
        op_append(d, i);
    else if (r < 715)
        op_write_range(d, i, rnd_below(2));
    else if (r < 730)
        op_incr(d, i);
    else if (r < 790)
        op_replace(d, i);
    else if (r < 815)
        op_take(d, i, (int)rnd_below(DBS_COUNT), (int)rnd_below(RANDOM_KEYS_COUNT));
    else if (r < 850)
        op_move(d, i, (int)rnd_below(DBS_COUNT), (int)rnd_below(RANDOM_KEYS_COUNT));
    else if (r < 870)
        op_take_free(d, i);
    else if (r < 940)
        op_read(d, i, rnd_below(2));
    else if (r < 955)
        op_getex(d, i, rnd_below(2) ? -1 : LATER(1 + rnd_below(100000)));
    else if (r < 970)
        op_getdel(d, i);
    else if (r < 980)
        op_getset(d, i);
    else if (r < 988)
        op_flush(d);
    else
        op_swap(0, 1);
}

/* Odd seeds log APPEND/SETRANGE on raw strings of more than 8 bytes
 * (undo_string_range) instead of saving them whole, as the server does
 * past UNDO_STRING_COPY_BYTES. */
static void random_rounds(uint64_t seed, int rounds, int ops)
{
    undo_string_copy_bytes = seed % 2 ? 8 : UNDO_STRING_COPY_BYTES;
    fixture_begin(seed);
    for (int i = 0; i < 300; i++)
        random_op(); /* a starting keyspace, outside any transaction */
    check_model();
    for (int round = 0; round < rounds; round++) {
        txn_begin();
        for (int n = 0; n < ops; n++) {
            random_op();
            check_model();
        }
        if (round % 2)
            txn_commit();
        else
            txn_rollback();
        for (int n = 0; n < 50; n++)
            random_op(); /* outside a transaction: nothing is recorded */
        T_EQ_U64(undo_record_count(), 0);
        check_model();
    }
    fixture_end();
    undo_string_copy_bytes = UNDO_STRING_COPY_BYTES;
}

TEST(undo_random_ops)
{
    for (uint64_t seed = 100; seed < 104; seed++)
        random_rounds(seed, 8, 3000);
}

/* Short transactions: a rollback right after few changes, many times. */
TEST(undo_random_short_transactions)
{
    random_rounds(200, 400, 12);
    random_rounds(201, 400, 12);
}
