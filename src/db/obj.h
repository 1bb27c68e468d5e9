#pragma once
/*
 * obj.h - value objects stored in the keyspace.
 *
 * A value is one heap block: an 8-byte header followed by the payload. For
 * strings the payload is the bytes themselves (OBJ_ENC_EMBSTR / OBJ_ENC_RAW,
 * which differ only in what OBJECT ENCODING reports, as in Redis) or an
 * int64 (OBJ_ENC_INT, for values that are exactly a decimal long long).
 * Later types (lists, hashes, ...) put a pointer to their structure in the
 * payload. Values are owned by the keyspace entry that holds them.
 *
 * Threads: loop thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum obj_type { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4,
                OBJ_STREAM = 5 };
enum obj_encoding { OBJ_ENC_RAW = 0, OBJ_ENC_INT = 1, OBJ_ENC_EMBSTR = 2,
                    OBJ_ENC_PACKED = 3, /* collections: one packed block ("listpack") */
                    OBJ_ENC_TABLE = 4,  /* hashes, sets: a hash table ("hashtable") */
                    OBJ_ENC_INTSET = 5, /* sets: sorted int64s ("intset") */
                    OBJ_ENC_LIST = 6,   /* lists: a ring of elements ("quicklist", as 7.0) */
                    OBJ_ENC_SKIPLIST = 7 }; /* sorted sets: skiplist + table ("skiplist") */

/* Redis reports strings up to this length as "embstr". */
#define OBJ_EMBSTR_BYTES_MAX 44
/* The LRU clock has 24 bits of seconds, as Redis's. */
#define OBJ_LRU_BITS 24
#define OBJ_LRU_MAX ((1u << OBJ_LRU_BITS) - 1)

struct obj {
    uint32_t type : 4;        /* enum obj_type */
    uint32_t encoding : 4;    /* enum obj_encoding */
    uint32_t lru : OBJ_LRU_BITS; /* LRU clock (seconds) of the last access */
    uint32_t len;             /* strings: payload bytes; INT: 8 */
    char data[];              /* payload */
};
_Static_assert(sizeof(struct obj) == 8, "object header is 8 bytes");

/* A new string value holding a copy of p[0..len). Int-encoded when p is a
 * canonical decimal long long. Caller owns; free with obj_delete(). */
struct obj *obj_new_string(const void *p, size_t len);
/* The same, never int-encoded (INCRBYFLOAT's result, as Redis). */
struct obj *obj_new_string_bytes(const void *p, size_t len);
/* NULL if len bytes cannot be allocated (client-chosen sizes). */
struct obj *obj_try_new_raw(size_t len);
struct obj *obj_new_int(long long v);
/* A copy of o (deep for collections). Caller owns. */
struct obj *obj_dup(const struct obj *o);
void obj_delete(struct obj *o);

/* For a string value: its bytes. INT values are formatted into tmp (at
 * least 32 bytes). The pointer is valid while o and tmp are. */
const char *obj_str(const struct obj *o, char *tmp, size_t *len_out);
/* String length in bytes (of the decimal form for INT). */
size_t obj_strlen(const struct obj *o);
/* If the value is an integer (INT encoded, or a canonical decimal), set *v. */
bool obj_get_ll(const struct obj *o, long long *v);
/* Int value of an OBJ_ENC_INT object. */
long long obj_int(const struct obj *o);

/* Grow a RAW/EMBSTR string to len bytes (new bytes zeroed), making it RAW.
 * Takes ownership of o, returns the moved object, or NULL if the memory
 * cannot be had (o is then unchanged and still owned by the caller). */
struct obj *obj_try_resize(struct obj *o, size_t len) __attribute__((warn_unused_result));

/* "int", "embstr", "raw", ... as OBJECT ENCODING reports. */
const char *obj_encoding_name(const struct obj *o);
/* "string", "list", ... as TYPE reports. */
const char *obj_type_name(const struct obj *o);
/* Bytes of memory owned by o. */
size_t obj_mem_bytes(const struct obj *o);
