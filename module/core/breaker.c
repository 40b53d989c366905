/* breaker.c -- the per-route circuit breaker (see breaker.h). */
#include "swarm/breaker.h"

/* Whether cooldownMs has passed since openedMs at nowMs, for any int64 values: no signed
 * overflow, and a breaker opened "after" nowMs (the clock went back, or a table was
 * restored with a future openedMs) counts as cooled down, so it is probed, never stuck. */
static int cooledDown(int64_t openedMs, int64_t nowMs, int64_t cooldownMs) {
    if (nowMs < openedMs || cooldownMs <= 0) return 1;
    /* nowMs >= openedMs, so the difference fits an unsigned 64-bit integer exactly. */
    uint64_t elapsed = (uint64_t)nowMs - (uint64_t)openedMs;
    return elapsed >= (uint64_t)cooldownMs;
}

swBreaker swRouteBreakerAt(const swRoute *r, int64_t nowMs, int64_t cooldownMs) {
    if (r->breaker == SW_BREAKER_OPEN && cooledDown(r->openedMs, nowMs, cooldownMs))
        return SW_BREAKER_HALF_OPEN;
    return r->breaker;
}

int swRouteAttempt(swRoute *r, int priority, int64_t nowMs, int64_t cooldownMs) {
    r->breaker = swRouteBreakerAt(r, nowMs, cooldownMs);
    return r->breaker != SW_BREAKER_OPEN || priority >= SW_PRIORITY_CRITICAL;
}

void swRouteOutcome(swRoute *r, int ok, int64_t nowMs, uint32_t threshold) {
    if (ok) {
        r->failures = 0;
        r->breaker = SW_BREAKER_CLOSED;
        return;
    }
    if (r->failures < UINT32_MAX) r->failures++;
    /* A failed probe reopens at once; an open breaker's cooldown is not extended by the
     * critical messages that are still attempted through it. */
    if (r->breaker == SW_BREAKER_HALF_OPEN ||
        (r->breaker == SW_BREAKER_CLOSED && r->failures >= threshold)) {
        r->breaker = SW_BREAKER_OPEN;
        r->openedMs = nowMs;
    }
}
