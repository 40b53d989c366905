/* unit_alloc.h -- routes the core allocator through cmocka's leak-checking allocator and
 * injects allocation failures. */
#ifndef SWARM_UNIT_ALLOC_H
#define SWARM_UNIT_ALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Installs cmocka's test_malloc family as the core allocator (use as group setup). */
int unitAllocSetup(void **state);
int unitAllocTeardown(void **state);
/* The next n allocations succeed, then every one fails until unitAllocFailAfter(-1). */
void unitAllocFailAfter(long n);
/* How many allocations have been attempted since the last unitAllocFailAfter. */
long unitAllocCount(void);

#endif
