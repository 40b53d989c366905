/* unit_alloc.c -- see unit_alloc.h. */
#include "unit_alloc.h"

#include "swarm/alloc.h"

static long failAfter = -1;
static long attempts;

static int shouldFail(void) {
    attempts++;
    return failAfter >= 0 && attempts > failAfter;
}

static void *unitMalloc(size_t n) {
    return shouldFail() ? NULL : test_malloc(n);
}
static void *unitCalloc(size_t n, size_t s) {
    return shouldFail() ? NULL : test_calloc(n, s);
}
static void *unitRealloc(void *p, size_t n) {
    return shouldFail() ? NULL : test_realloc(p, n);
}
static void unitFree(void *p) {
    test_free(p);
}

static const swAllocator unitAllocator = {unitMalloc, unitCalloc, unitRealloc, unitFree, NULL};

int unitAllocSetup(void **state) {
    (void)state;
    swSetAllocator(&unitAllocator);
    failAfter = -1;
    attempts = 0;
    return 0;
}

int unitAllocTeardown(void **state) {
    (void)state;
    swSetAllocator(NULL);
    return 0;
}

void unitAllocFailAfter(long n) {
    failAfter = n;
    attempts = 0;
}

long unitAllocCount(void) {
    return attempts;
}

long unitAllocSweep(swStatus (*step)(void *arg), void (*failed)(void *arg), void *arg) {
    for (long n = 0; n < 1000000; n++) {
        unitAllocFailAfter(n);
        swStatus st = step(arg);
        unitAllocFailAfter(-1);
        if (st == SW_OK) return n;
        if (st != SW_ERR_NOMEM)
            fail_msg("run %ld of the sweep returned %d, not SW_ERR_NOMEM", n, st);
        if (failed) failed(arg);
    }
    fail_msg("no run of the allocation-failure sweep succeeded");
    return -1;
}
