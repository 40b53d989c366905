/* alloc.h -- the allocator table of the swarm core.
 *
 * Every heap allocation of the pure core goes through swAlloc/swCalloc/swRealloc/swFree.
 * The table defaults to libc; the module installs RedisModule_Alloc and friends in
 * OnLoad so INFO memory, maxmemory and MEMORY USAGE account for it, and unit tests
 * install cmocka's test_malloc so leaks fail them.
 *
 * Contract: swAlloc/swCalloc/swRealloc return NULL on failure (the libc and cmocka
 * tables can fail; Redis's aborts instead), and a failed swRealloc leaves the old block
 * untouched. swFree(NULL) is a no-op. */
#ifndef SWARM_ALLOC_H
#define SWARM_ALLOC_H

#include <stddef.h>

typedef struct swAllocator {
    void *(*alloc)(size_t size);
    void *(*calloc)(size_t nmemb, size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
    /* Optional: the bytes an allocation really occupies (allocator rounding included), so
     * MEMORY USAGE can report them. NULL: the requested size is reported. */
    size_t (*size)(void *ptr);
} swAllocator;

/* Installs a table (copied); NULL restores libc. Not thread-safe: call before any use. */
void swSetAllocator(const swAllocator *a);
/* The table in force, for code that hands the allocator to a library taking its own
 * hooks. */
const swAllocator *swGetAllocator(void);

void *swAlloc(size_t size);
void *swCalloc(size_t nmemb, size_t size);
void *swRealloc(void *ptr, size_t size);
void swFree(void *ptr);
/* What ptr, allocated with requested bytes, really occupies (see swAllocator.size). */
size_t swAllocSize(void *ptr, size_t requested);
/* A NUL-terminated copy of len bytes of s (which may hold NULs); free with swFree. */
char *swMemdup(const char *s, size_t len);

#endif
