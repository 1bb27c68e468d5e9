/*
 * obj.c - value objects.
 *
 * Design
 *   Header and payload share one allocation, so a GET touches two cache
 *   lines at most (entry, value). Strings are not NUL-terminated: a 16-byte
 *   value is then a 24-byte block, the smallest glibc chunk.
 *
 * Invariants
 *   (1) An OBJ_ENC_INT object's payload is an int64 and len is 8.
 *   (2) OBJ_ENC_EMBSTR implies len <= OBJ_EMBSTR_BYTES_MAX.
 *
 * Threads
 *   Loop thread (or a snapshot child working on its copy).
 */
#include "db/obj.h"

#include "core/assert.h"
#include "core/mem.h"
#include "core/util.h"
#include "db/hash.h"
#include "db/list.h"
#include "db/set.h"
#include "db/zset.h"

#include <string.h>

static struct obj *alloc_obj(enum obj_type type, enum obj_encoding enc, size_t payload)
{
    struct obj *o = mem_alloc(sizeof(struct obj) + payload);
    o->type = type;
    o->encoding = enc;
    o->lru = 0;
    o->len = (uint32_t)payload;
    return o;
}

struct obj *obj_new_int(long long v)
{
    struct obj *o = alloc_obj(OBJ_STRING, OBJ_ENC_INT, sizeof(int64_t));
    int64_t x = v;
    memcpy(o->data, &x, sizeof(x));
    return o;
}

struct obj *obj_new_string(const void *p, size_t len)
{
    long long v;
    /* 20 bytes holds every long long, as Redis's int encoding check. */
    if (len <= 20 && util_str_to_ll(p, len, &v))
        return obj_new_int(v);
    return obj_new_string_bytes(p, len);
}

struct obj *obj_new_string_bytes(const void *p, size_t len)
{
    struct obj *o;
    ASSERT(len <= UINT32_MAX);
    o = alloc_obj(OBJ_STRING, len <= OBJ_EMBSTR_BYTES_MAX ? OBJ_ENC_EMBSTR : OBJ_ENC_RAW, len);
    if (len)
        memcpy(o->data, p, len);
    return o;
}

struct obj *obj_try_new_raw(size_t len)
{
    struct obj *o;
    if (len > UINT32_MAX)
        return NULL;
    o = mem_try_alloc(sizeof(struct obj) + len);
    if (!o)
        return NULL;
    o->type = OBJ_STRING;
    o->encoding = OBJ_ENC_RAW;
    o->lru = 0;
    o->len = (uint32_t)len;
    return o;
}

struct obj *obj_dup(const struct obj *o)
{
    size_t bytes = sizeof(struct obj) + o->len;
    struct obj *c;
    if (o->type == OBJ_HASH)
        return hash_dup(o);
    if (o->type == OBJ_SET)
        return set_dup(o);
    if (o->type == OBJ_LIST)
        return list_dup(o);
    if (o->type == OBJ_ZSET)
        return zset_dup(o);
    ASSERT(o->type == OBJ_STRING);
    c = mem_alloc(bytes);
    memcpy(c, o, bytes);
    return c;
}

void obj_delete(struct obj *o)
{
    if (o->type == OBJ_HASH) {
        hash_free(o);
        return;
    }
    if (o->type == OBJ_SET) {
        set_free(o);
        return;
    }
    if (o->type == OBJ_LIST) {
        list_free(o);
        return;
    }
    if (o->type == OBJ_ZSET) {
        zset_free(o);
        return;
    }
    mem_free(o);
}

long long obj_int(const struct obj *o)
{
    int64_t v;
    ASSERT(o->encoding == OBJ_ENC_INT);
    memcpy(&v, o->data, sizeof(v));
    return v;
}

const char *obj_str(const struct obj *o, char *tmp, size_t *len_out)
{
    ASSERT(o->type == OBJ_STRING);
    if (o->encoding == OBJ_ENC_INT) {
        *len_out = (size_t)util_ll_to_str(tmp, 32, obj_int(o));
        return tmp;
    }
    *len_out = o->len;
    return o->data;
}

size_t obj_strlen(const struct obj *o)
{
    char tmp[32];
    size_t len;
    (void)obj_str(o, tmp, &len);
    return len;
}

bool obj_get_ll(const struct obj *o, long long *v)
{
    if (o->type != OBJ_STRING)
        return false;
    if (o->encoding == OBJ_ENC_INT) {
        *v = obj_int(o);
        return true;
    }
    return util_str_to_ll(o->data, o->len, v);
}

struct obj *obj_try_resize(struct obj *o, size_t len)
{
    size_t old = o->len;
    struct obj *n;
    ASSERT(o->type == OBJ_STRING);
    ASSERT(o->encoding != OBJ_ENC_INT);
    if (len > UINT32_MAX)
        return NULL;
    n = mem_try_realloc(o, sizeof(struct obj) + len);
    if (!n)
        return NULL;
    if (len > old)
        memset(n->data + old, 0, len - old);
    n->len = (uint32_t)len;
    n->encoding = OBJ_ENC_RAW;
    return n;
}

const char *obj_encoding_name(const struct obj *o)
{
    switch (o->encoding) {
    case OBJ_ENC_PACKED:
        return "listpack";
    case OBJ_ENC_TABLE:
        return "hashtable";
    case OBJ_ENC_INTSET:
        return "intset";
    case OBJ_ENC_LIST:
        return "quicklist";
    case OBJ_ENC_SKIPLIST:
        return "skiplist";
    case OBJ_ENC_INT:
        return "int";
    case OBJ_ENC_EMBSTR:
        return "embstr";
    default:
        return "raw";
    }
}

const char *obj_type_name(const struct obj *o)
{
    static const char *const names[] = {"string", "list", "set", "zset", "hash", "stream"};
    ASSERT(o->type <= OBJ_STREAM);
    return names[o->type];
}

size_t obj_mem_bytes(const struct obj *o)
{
    if (o->type == OBJ_HASH)
        return hash_mem_bytes(o);
    if (o->type == OBJ_SET)
        return set_mem_bytes(o);
    if (o->type == OBJ_LIST)
        return list_mem_bytes(o);
    if (o->type == OBJ_ZSET)
        return zset_mem_bytes(o);
    return mem_usable_bytes(o);
}
