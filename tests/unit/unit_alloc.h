/* unit_alloc.h -- routes the core allocator through cmocka's leak-checking allocator and
 * injects allocation failures. */
#ifndef SWARM_UNIT_ALLOC_H
#define SWARM_UNIT_ALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "swarm/status.h"

/* Installs cmocka's test_malloc family as the core allocator (use as group setup). */
int unitAllocSetup(void **state);
int unitAllocTeardown(void **state);
/* The next n allocations succeed, then every one fails until unitAllocFailAfter(-1). */
void unitAllocFailAfter(long n);
/* How many allocations have been attempted since the last unitAllocFailAfter. */
long unitAllocCount(void);

/* The allocation-failure sweep: runs step(arg) with the first n allocations succeeding and
 * every later one failing, for n = 0, 1, 2, ... until step returns SW_OK, and returns that n
 * (how many runs failed first). Allocation works again around step's runs, so checks may
 * allocate: a failed run must return SW_ERR_NOMEM (anything else fails the test) and is
 * then checked by failed(arg) when failed is not NULL (typically: the inputs are unchanged
 * and nothing leaked). step keeps the successful run's result in arg for the caller.
 * Fails the test after 1,000,000 runs. */
long unitAllocSweep(swStatus (*step)(void *arg), void (*failed)(void *arg), void *arg);

#endif
