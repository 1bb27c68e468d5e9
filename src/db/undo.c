/*
 * undo.c - the undo log of one transaction.
 *
 * Design
 *   A stack of records (an array of pointers, grown by doubling). Key
 *   records are also linked into `seen`, a hash table keyed by (db, key),
 *   so a key is saved only the first time the transaction touches it: its
 *   state at undo_begin() is all rollback needs, and a transaction of a
 *   thousand INCRs on one key saves one copy.
 *
 *   FLUSH and SWAPDB records change what a (db, key) pair refers to, so
 *   `seen` is emptied after them: a key touched again afterwards is saved
 *   again.
 *
 *   A long string changed by APPEND/SETRANGE is logged change by change
 *   (STRING_RANGE: the bytes overwritten and the old length). `strings`
 *   maps (db, key) to its first STRING_RANGE record, which counts the bytes
 *   logged for the key: once they would pass the value's own size, the key
 *   is saved whole instead, so its log never costs much more than one copy
 *   (a transaction of 100,000 one-byte APPENDs would otherwise log 100,000
 *   records). Rollback walks the stack from the top, so each record restores
 *   the state just before it, and the oldest record of a key restores the
 *   state at undo_begin().
 *
 * Invariants
 *   (1) Every node in `seen` is a KEY record on the stack; every node in
 *       `strings` is a STRING_RANGE record on the stack.
 *   (2) While rolling back, the log is inactive: the db.c calls it makes
 *       to restore keys are not recorded.
 *   (3) A KEY record with val == NULL means "absent at that point".
 *   (4) Logged-change records (TTL, MOVE, LIST_*, HASH_FIELD, *_MEMBER,
 *       STRING_RANGE)
 *       are not in `seen`: they undo one change each, and are written
 *       only for keys not in `seen` (a saved value already restores
 *       everything after it). Rollback reaches each one with the key
 *       exactly as that change left it, so the key exists then.
 *   (5) A MOVE record takes its destination key out of `seen` (the KEY
 *       record stays on the stack): rollback needs the destination as the
 *       move left it, so whatever the transaction does to it afterwards is
 *       saved or logged again, and restored before the MOVE record.
 *
 * Threads
 *   Loop thread only.
 */
#include "db/undo.h"

#include "core/assert.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/hash.h"
#include "db/set.h"
#include "db/zset.h"

#include <string.h>

enum undo_kind {
    UNDO_KEY,
    UNDO_TABLES,
    UNDO_SWAP,
    UNDO_TTL,
    UNDO_MOVE,
    UNDO_LIST_PUSH,
    UNDO_LIST_POP,
    UNDO_LIST_SET,
    UNDO_LIST_INSERT,
    UNDO_LIST_TAKEN,
    UNDO_HASH_FIELD,
    UNDO_ZSET_MEMBER,
    UNDO_SET_MEMBER,
    UNDO_STRING_RANGE,
};

struct undo_rec {
    struct ht_node node;  /* link in seen (KEY records) */
    enum undo_kind kind;  /* what to restore */
    struct db *db;        /* the database (KEY, TABLES) or first of a pair (SWAP) */
    struct db *other;     /* second of a SWAP pair; MOVE: the destination db */
    struct db *tables;    /* TABLES: the flushed tables, owned (a pointer: most records
                           * are logged changes, which need it not) */
    struct obj *val;      /* KEY: owned value, NULL if the key was absent */
    int64_t expire_ms;    /* KEY, TTL: its TTL, -1 for none */
    enum list_end end;    /* LIST_*: which end */
    size_t count;         /* LIST_PUSH: elements pushed; LIST_SET, LIST_INSERT: the index;
                           * STRING_RANGE: the old length */
    size_t at;            /* STRING_RANGE: offset of the saved bytes (in aux) */
    size_t logged;        /* STRING_RANGE, first of its key (in `strings`): bytes logged
                           * for the key (records and saved bytes) */
    struct list_elem *elem; /* LIST_POP: the element popped; LIST_SET: the old one; owned */
    struct list_taken taken; /* LIST_TAKEN: the elements taken out, owned */
    char *aux;            /* HASH_FIELD, *_MEMBER: field/member then old value; MOVE: the
                           * destination key; STRING_RANGE: the old bytes; owned */
    size_t aux_name;      /* ... bytes of the field/member in aux */
    size_t aux_value;     /* ... bytes of the old value after it (HASH_FIELD) */
    bool had;             /* ... whether the field/member was there */
    double score;         /* ZSET_MEMBER: its old score */
    uint32_t lru;         /* logged kinds: the value's LRU stamp before the change */
    uint32_t key_len;     /* KEY, logged kinds: bytes */
    char key[];           /* KEY, logged kinds: the key (MOVE: the source key) */
};

/* Lookup key of `seen`: the db pointer with the key bytes. */
struct undo_probe {
    const struct db *db;
    const char *key;
    size_t len;
};

bool undo_recording; /* see undo_active() */

static struct {
    struct undo_rec **recs; /* stack, oldest first */
    size_t count, cap;      /* used and allocated slots */
    struct ht seen;         /* KEY records by (db, key) */
    struct ht strings;      /* first STRING_RANGE record by (db, key) */
    size_t bytes;           /* allocated by this transaction's log: records, saved bytes,
                             * copied values (not values taken over) */
    size_t last_bytes;      /* `bytes` of the last transaction, when it ended */
} ulog;

static uint64_t seen_hash_raw(const struct db *db, const char *key, size_t len)
{
    return util_hash(key, len, 0x756e646fu + (uint64_t)(uintptr_t)db);
}

static uint64_t seen_hash(const struct ht_node *n)
{
    const struct undo_rec *r = (const struct undo_rec *)n;
    return seen_hash_raw(r->db, r->key, r->key_len);
}

static bool seen_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct undo_rec *r = (const struct undo_rec *)n;
    const struct undo_probe *p = key;
    (void)len;
    return r->db == p->db && r->key_len == p->len && memcmp(r->key, p->key, p->len) == 0;
}

static const struct ht_type seen_type = {.hash_node = seen_hash, .key_eq = seen_eq};

static void forget_node(struct ht_node *n, void *ctx)
{
    (void)n, (void)ctx; /* records belong to the stack (invariant 1) */
}

static void seen_reset(void)
{
    ht_destroy(&ulog.seen, forget_node, NULL);
    ht_create(&ulog.seen, &seen_type);
    ht_destroy(&ulog.strings, forget_node, NULL);
    ht_create(&ulog.strings, &seen_type); /* also keyed by the records' (db, key) */
}

void undo_begin(void)
{
    ASSERT(!undo_recording && ulog.count == 0);
    if (!ulog.seen.type) {
        ht_create(&ulog.seen, &seen_type);
        ht_create(&ulog.strings, &seen_type);
    }
    ulog.bytes = 0;
    undo_recording = true;
}

size_t undo_record_count(void)
{
    return ulog.count;
}

size_t undo_last_bytes(void)
{
    return undo_recording ? ulog.bytes : ulog.last_bytes;
}

static struct undo_rec *push(enum undo_kind kind, size_t key_len)
{
    struct undo_rec *r;
    if (ulog.count == ulog.cap) {
        ulog.cap = ulog.cap ? ulog.cap * 2 : 16;
        ulog.recs = mem_realloc(ulog.recs, ulog.cap * sizeof(*ulog.recs));
    }
    r = mem_alloc(sizeof(*r) + key_len);
    ulog.bytes += sizeof(*r) + key_len;
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->expire_ms = -1;
    ulog.recs[ulog.count++] = r;
    return r;
}

/* A KEY record for (db, key) unless one is already in `seen`; NULL if one is. */
static struct undo_rec *push_key(struct db *db, const char *key, size_t len)
{
    struct undo_probe p = {db, key, len};
    uint64_t hash = seen_hash_raw(db, key, len);
    struct undo_rec *r;
    ASSERT(undo_recording);
    if (ht_find(&ulog.seen, &p, len, hash))
        return NULL;
    r = push(UNDO_KEY, len);
    r->db = db;
    r->key_len = (uint32_t)len;
    memcpy(r->key, key, len);
    ht_insert(&ulog.seen, &r->node, hash);
    return r;
}

bool undo_save_entry(struct db *db, struct db_entry *e, bool steal)
{
    struct undo_rec *r = push_key(db, e->key, e->key_len);
    if (!r)
        return false;
    r->expire_ms = e->expire_ms;
    r->val = steal ? e->val : obj_dup(e->val);
    if (!steal)
        ulog.bytes += obj_mem_bytes(r->val);
    return steal;
}

void undo_save_absent(struct db *db, const char *key, size_t len)
{
    (void)push_key(db, key, len);
}

/* True if (db, key)'s whole state is saved already. */
static bool key_saved(struct db *db, const char *key, size_t len)
{
    struct undo_probe p = {db, key, len};
    return ht_find(&ulog.seen, &p, len, seen_hash_raw(db, key, len)) != NULL;
}

/* A logged-change record for (db, key), or NULL if none is needed. */
static struct undo_rec *push_logged(enum undo_kind kind, struct db *db, const char *key,
                                    size_t len)
{
    struct undo_rec *r;
    struct db_entry *e;
    if (!undo_recording || key_saved(db, key, len))
        return NULL;
    r = push(kind, len);
    r->db = db;
    r->key_len = (uint32_t)len;
    memcpy(r->key, key, len);
    /* Called before the command stamps the value as used: rollback puts
     * the stamp back too (OBJECT IDLETIME must not move). */
    e = db_find_raw(db, key, len);
    ASSERT(e != NULL);
    r->lru = e->val->lru;
    return r;
}

void undo_save_ttl(struct db *db, struct db_entry *e)
{
    struct undo_rec *r = push_logged(UNDO_TTL, db, e->key, e->key_len);
    if (r)
        r->expire_ms = e->expire_ms;
}

bool undo_move_wanted(struct db *db, const char *key, size_t len)
{
    return undo_recording && !key_saved(db, key, len);
}

void undo_list_pushed(struct db *db, const char *key, size_t len, enum list_end end,
                      size_t count)
{
    struct undo_rec *r = push_logged(UNDO_LIST_PUSH, db, key, len);
    if (r) {
        r->end = end;
        r->count = count;
    }
}

bool undo_list_popped(struct db *db, const char *key, size_t len, enum list_end end,
                      struct list_elem *x)
{
    struct undo_rec *r = push_logged(UNDO_LIST_POP, db, key, len);
    if (!r)
        return false;
    r->end = end;
    r->elem = x;
    return true;
}

bool undo_list_set(struct db *db, const char *key, size_t len, size_t i, struct list_elem *x)
{
    struct undo_rec *r = push_logged(UNDO_LIST_SET, db, key, len);
    if (!r)
        return false;
    r->count = i;
    r->elem = x;
    return true;
}

void undo_list_inserted(struct db *db, const char *key, size_t len, size_t i)
{
    struct undo_rec *r = push_logged(UNDO_LIST_INSERT, db, key, len);
    if (r)
        r->count = i;
}

struct list_taken *undo_list_taking(struct db *db, const char *key, size_t len)
{
    struct undo_rec *r = push_logged(UNDO_LIST_TAKEN, db, key, len);
    return r ? &r->taken : NULL;
}

/* aux = name bytes followed by value bytes (value may be NULL). */
static void set_aux(struct undo_rec *r, const char *name, size_t nlen, const char *v, size_t vlen)
{
    r->aux = mem_alloc(nlen + vlen + 1);
    ulog.bytes += nlen + vlen + 1;
    memcpy(r->aux, name, nlen);
    if (vlen)
        memcpy(r->aux + nlen, v, vlen);
    r->aux_name = nlen;
    r->aux_value = vlen;
}

void undo_moved(struct db *from, const char *key, size_t len, int64_t expire_ms, uint32_t lru,
                struct db *to, const char *to_key, size_t to_len)
{
    struct undo_rec *r = push(UNDO_MOVE, len);
    struct undo_probe p = {to, to_key, to_len};
    ASSERT(undo_recording && !key_saved(from, key, len));
    r->db = from;
    r->other = to;
    r->key_len = (uint32_t)len;
    memcpy(r->key, key, len);
    r->expire_ms = expire_ms;
    r->lru = lru;
    set_aux(r, to_key, to_len, NULL, 0);
    (void)ht_remove(&ulog.seen, &p, to_len, seen_hash_raw(to, to_key, to_len));
}

/*
 * A packed (listpack, intset) value is small, and a change may convert it
 * to the big encoding, which no inverse change converts back: save it
 * whole instead, so rollback restores its encoding too. True if it did.
 */
static bool save_packed_whole(struct db *db, const char *key, size_t len, const struct obj *o)
{
    struct db_entry *e;
    if (o->encoding != OBJ_ENC_PACKED && o->encoding != OBJ_ENC_INTSET)
        return false;
    e = db_find_raw(db, key, len);
    ASSERT(e != NULL && e->val == o);
    (void)undo_save_entry(db, e, false);
    return true;
}

void undo_hash_field(struct db *db, const char *key, size_t len, const struct obj *h,
                     const char *f, size_t flen)
{
    const char *v = NULL;
    size_t vlen = 0;
    struct undo_rec *r;
    if (!undo_recording || key_saved(db, key, len) || save_packed_whole(db, key, len, h))
        return;
    r = push_logged(UNDO_HASH_FIELD, db, key, len);
    r->had = hash_get(h, f, flen, &v, &vlen);
    set_aux(r, f, flen, v, r->had ? vlen : 0);
}

size_t undo_string_copy_bytes = UNDO_STRING_COPY_BYTES;

void undo_string_range(struct db *db, struct db_entry *e, size_t at, size_t n)
{
    const struct obj *o = e->val;
    struct undo_probe p = {db, e->key, e->key_len};
    uint64_t hash;
    struct undo_rec *r, *first;
    size_t saved, cost;
    if (!undo_recording || key_saved(db, e->key, e->key_len))
        return; /* outside a transaction: one test of a flag */
    ASSERT(o->type == OBJ_STRING);
    if (o->encoding != OBJ_ENC_RAW || o->len <= undo_string_copy_bytes) {
        (void)undo_save_entry(db, e, false); /* small: saved whole */
        return;
    }
    /* Bytes the change overwrites; none if it starts at or past the end.
     * The record's offset is then the old end: if the write does not happen
     * after all (out of memory growing the value), rollback finds the value
     * as it was and must stay inside it. */
    if (at > o->len)
        at = o->len;
    saved = n < o->len - at ? n : o->len - at;
    cost = sizeof(*r) + e->key_len + saved + 1;
    hash = seen_hash_raw(db, e->key, e->key_len);
    first = (struct undo_rec *)ht_find(&ulog.strings, &p, e->key_len, hash);
    if (first && first->logged + cost > o->len) {
        (void)undo_save_entry(db, e, false); /* logged about a copy's worth already */
        return;
    }
    r = push_logged(UNDO_STRING_RANGE, db, e->key, e->key_len);
    r->count = o->len;
    r->at = at;
    set_aux(r, "", 0, o->data + at, saved);
    if (first) {
        first->logged += cost;
    } else {
        r->logged = cost;
        ht_insert(&ulog.strings, &r->node, hash);
    }
}

/* A *_MEMBER record for member m of o (key's value), or NULL if none is
 * needed (not recording, the key saved whole, or o small: saved whole now). */
static struct undo_rec *push_member(enum undo_kind kind, struct db *db, const char *key,
                                    size_t len, const struct obj *o, const char *m, size_t mlen)
{
    struct undo_rec *r;
    if (!undo_recording || key_saved(db, key, len) || save_packed_whole(db, key, len, o))
        return NULL;
    r = push_logged(kind, db, key, len);
    set_aux(r, m, mlen, NULL, 0);
    return r;
}

void undo_zset_member(struct db *db, const char *key, size_t len, const struct obj *z,
                      const char *m, size_t mlen)
{
    struct undo_rec *r = push_member(UNDO_ZSET_MEMBER, db, key, len, z, m, mlen);
    if (r)
        r->had = zset_score(z, m, mlen, &r->score);
}

void undo_set_member(struct db *db, const char *key, size_t len, const struct obj *s,
                     const char *m, size_t mlen)
{
    struct undo_rec *r = push_member(UNDO_SET_MEMBER, db, key, len, s, m, mlen);
    if (r)
        r->had = set_has(s, m, mlen);
}

/* The entry a logged change left (invariant 4). */
static struct db_entry *logged_entry(const struct undo_rec *r)
{
    struct db_entry *e = db_find_raw(r->db, r->key, r->key_len);
    ASSERT(e != NULL);
    return e;
}

void undo_take_tables(struct db *db)
{
    struct undo_rec *r = push(UNDO_TABLES, 0);
    int id = db->id;
    r->db = db;
    r->tables = mem_alloc(sizeof(*r->tables));
    ulog.bytes += sizeof(*r->tables);
    *r->tables = *db;
    db_create(db, id);
    seen_reset();
}

void undo_save_swap(struct db *a, struct db *b)
{
    struct undo_rec *r = push(UNDO_SWAP, 0);
    r->db = a;
    r->other = b;
    seen_reset();
}

static void free_rec(struct undo_rec *r)
{
    if (r->kind == UNDO_KEY && r->val)
        obj_delete(r->val);
    else if ((r->kind == UNDO_LIST_POP || r->kind == UNDO_LIST_SET) && r->elem)
        list_elem_free(r->elem);
    else if (r->kind == UNDO_LIST_TAKEN)
        list_taken_free(&r->taken);
    else if (r->kind == UNDO_TABLES && r->tables) {
        if (r->tables->keys.type)
            db_destroy(r->tables); /* committed: the flushed keys go now */
        mem_free(r->tables);
    }
    mem_free(r->aux); /* NULL unless HASH_FIELD / *_MEMBER / MOVE / STRING_RANGE */
    mem_free(r);
}

static void restore(struct undo_rec *r)
{
    struct db_entry *e = NULL;
    switch (r->kind) {
    case UNDO_KEY:
        e = db_find_raw(r->db, r->key, r->key_len);
        if (e)
            db_delete_entry(r->db, e);
        if (r->val) {
            uint32_t lru = r->val->lru; /* db_add stamps it; OBJECT IDLETIME must not move */
            e = db_add(r->db, r->key, r->key_len, r->val);
            e->val->lru = lru;
            r->val = NULL; /* now the db's */
            if (r->expire_ms >= 0)
                db_set_expire(r->db, e, r->expire_ms);
        }
        break;
    case UNDO_TABLES:
        db_destroy(r->db);
        r->tables->id = r->db->id;
        *r->db = *r->tables;
        memset(r->tables, 0, sizeof(*r->tables)); /* the db's now */
        break;
    case UNDO_SWAP:
        db_swap(r->db, r->other);
        break;
    case UNDO_TTL:
        e = logged_entry(r);
        db_set_expire(r->db, e, r->expire_ms);
        break;
    case UNDO_MOVE: {
        /* Later records restored the destination as the move left it. */
        struct db_entry *d = db_find_raw(r->other, r->aux, r->aux_name);
        ASSERT(d != NULL && db_find_raw(r->db, r->key, r->key_len) == NULL);
        e = db_add(r->db, r->key, r->key_len, db_take_value(r->other, d));
        if (r->expire_ms >= 0)
            db_set_expire(r->db, e, r->expire_ms);
        break;
    }
    case UNDO_LIST_PUSH:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_LIST && list_len(e->val) >= r->count);
        for (size_t i = 0; i < r->count; i++)
            list_elem_free(list_pop(e->val, r->end));
        break;
    case UNDO_LIST_POP:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_LIST);
        list_push(e->val, r->end, r->elem->data, r->elem->len);
        break;
    case UNDO_LIST_SET:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_LIST && r->count < list_len(e->val));
        list_elem_free(list_exchange(e->val, r->count, r->elem));
        r->elem = NULL; /* the list's now */
        break;
    case UNDO_LIST_INSERT:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_LIST && r->count < list_len(e->val));
        list_remove(e->val, r->count);
        break;
    case UNDO_LIST_TAKEN:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_LIST);
        list_put_back(e->val, &r->taken);
        break;
    case UNDO_HASH_FIELD:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_HASH);
        if (r->had)
            (void)hash_set(&e->val, r->aux, r->aux_name, r->aux + r->aux_name, r->aux_value);
        else
            (void)hash_del(&e->val, r->aux, r->aux_name);
        break;
    case UNDO_ZSET_MEMBER:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_ZSET);
        if (r->had)
            (void)zset_set(&e->val, r->aux, r->aux_name, r->score);
        else
            (void)zset_del(&e->val, r->aux, r->aux_name);
        break;
    case UNDO_SET_MEMBER:
        e = logged_entry(r);
        ASSERT(e->val->type == OBJ_SET);
        if (r->had)
            (void)set_add(&e->val, r->aux, r->aux_name);
        else
            (void)set_rem(&e->val, r->aux, r->aux_name);
        break;
    case UNDO_STRING_RANGE: {
        struct obj *o, *smaller;
        e = logged_entry(r);
        o = e->val;
        /* Exactly as the change left it: raw, at least as long as before. */
        ASSERT(o->type == OBJ_STRING && o->encoding == OBJ_ENC_RAW && o->len >= r->count &&
               r->at + r->aux_value <= o->len);
        memcpy(o->data + r->at, r->aux, r->aux_value);
        if (o->len > r->count) {
            smaller = obj_try_resize(o, r->count);
            if (smaller)
                e->val = smaller;
            else
                o->len = (uint32_t)r->count; /* no smaller block: keep this one */
        }
        break;
    }
    }
    if (e && r->kind >= UNDO_TTL) /* logged kinds (enum order) */
        e->val->lru = r->lru;
}

static void finish(bool roll_back)
{
    ASSERT(undo_recording);
    undo_recording = false; /* invariant 2 */
    seen_reset();
    ulog.last_bytes = ulog.bytes;
    for (size_t i = ulog.count; i > 0; i--) {
        struct undo_rec *r = ulog.recs[i - 1];
        if (roll_back)
            restore(r);
        free_rec(r);
    }
    ulog.count = 0;
    if (ulog.cap > 1024) {
        /* Do not keep a huge stack around after one big transaction. */
        mem_free(ulog.recs);
        ulog.recs = NULL;
        ulog.cap = 0;
    }
}

void undo_commit(void)
{
    finish(false);
}

void undo_rollback(void)
{
    finish(true);
}
