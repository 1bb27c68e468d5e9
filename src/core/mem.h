#pragma once
/*
 * mem.h - every allocation of the server goes through here.
 *
 * Keeps an exact count of bytes in use (malloc_usable_size), which INFO
 * reports as used_memory and the later maxmemory logic will read.
 * mem_alloc()/mem_realloc() abort on out-of-memory (Redis's default), so
 * ordinary code has no NULL checks. Sizes chosen by a client go through
 * mem_try_alloc()/mem_try_realloc(), which return NULL instead.
 * Thread-safe (the counter is atomic).
 */
#include <stddef.h>

/* Caller owns the result; free with mem_free(). Never returns NULL. */
void *mem_alloc(size_t bytes);
/* Like mem_alloc() but zero-filled. */
void *mem_calloc(size_t bytes);
/* Takes ownership of p (may be NULL); returns the moved block. Never NULL. */
void *mem_realloc(void *p, size_t bytes) __attribute__((warn_unused_result));
/* NULL on failure; the caller replies with an error. */
void *mem_try_alloc(size_t bytes);
/* NULL on failure, p then still valid. */
void *mem_try_realloc(void *p, size_t bytes) __attribute__((warn_unused_result));
/* Takes ownership of p; NULL is allowed. */
void mem_free(void *p);
/* Copy of s[0..len) plus a NUL; caller owns, mem_free(). */
char *mem_strndup(const char *s, size_t len);
/* Bytes currently allocated through this module. */
size_t mem_used_bytes(void);
/* Bytes the allocator really reserved for p (>= what was asked). */
size_t mem_usable_bytes(const void *p);
