/*
 * mem.c - allocation with exact accounting.
 *
 * Design
 *   Thin wrappers over the C allocator. The size of each block is read back
 *   with malloc_usable_size() so no header is added, and an atomic counter
 *   holds the total. Under ASan the same code runs, so ASan sees every block.
 *
 * Invariants
 *   (1) used_bytes equals the sum of malloc_usable_size() of live blocks.
 *
 * Threads
 *   Any thread.
 */
#include "core/mem.h"

#include "core/assert.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_size_t used_bytes;

static void oom(size_t bytes)
{
    PANIC("out of memory allocating %zu bytes", bytes);
}

void *mem_try_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p)
        atomic_fetch_add_explicit(&used_bytes, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

void *mem_alloc(size_t bytes)
{
    void *p = mem_try_alloc(bytes);
    if (!p)
        oom(bytes);
    return p;
}

void *mem_calloc(size_t bytes)
{
    void *p = mem_alloc(bytes);
    memset(p, 0, bytes);
    return p;
}

void *mem_try_realloc(void *p, size_t bytes)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        return NULL;
    atomic_fetch_sub_explicit(&used_bytes, old, memory_order_relaxed);
    atomic_fetch_add_explicit(&used_bytes, malloc_usable_size(q), memory_order_relaxed);
    return q;
}

void *mem_realloc(void *p, size_t bytes)
{
    void *q = mem_try_realloc(p, bytes);
    if (!q)
        oom(bytes);
    return q;
}

void mem_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&used_bytes, malloc_usable_size(p), memory_order_relaxed);
    free(p);
}

char *mem_strndup(const char *s, size_t len)
{
    char *p = mem_alloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t mem_used_bytes(void)
{
    return atomic_load_explicit(&used_bytes, memory_order_relaxed);
}

size_t mem_usable_bytes(const void *p)
{
    return p ? malloc_usable_size((void *)p) : 0;
}
