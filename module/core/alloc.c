/* alloc.c -- the swappable allocator table (see alloc.h). */
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"

static swAllocator swAllocTable = {malloc, calloc, realloc, free, NULL};

void swSetAllocator(const swAllocator *a) {
    if (a == NULL) {
        swAllocTable = (swAllocator){malloc, calloc, realloc, free, NULL};
    } else {
        swAllocTable = *a;
    }
}

const swAllocator *swGetAllocator(void) {
    return &swAllocTable;
}

void *swAlloc(size_t size) {
    return swAllocTable.alloc(size ? size : 1);
}

void *swCalloc(size_t nmemb, size_t size) {
    return swAllocTable.calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *swRealloc(void *ptr, size_t size) {
    return swAllocTable.realloc(ptr, size ? size : 1);
}

void swFree(void *ptr) {
    if (ptr != NULL) swAllocTable.free(ptr);
}

size_t swAllocSize(void *ptr, size_t requested) {
    return ptr != NULL && swAllocTable.size != NULL ? swAllocTable.size(ptr) : requested;
}

char *swMemdup(const char *s, size_t len) {
    char *p = swAlloc(len + 1);
    if (p == NULL) return NULL;
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
