/* breaker.c -- the per-route circuit breaker (see breaker.h). */
#include "swarm/breaker.h"

int swRouteAttempt(swRoute *r, int priority, int64_t nowMs, int64_t cooldownMs) {
    if (r->breaker == SW_BREAKER_OPEN && nowMs - r->openedMs >= cooldownMs) {
        r->breaker = SW_BREAKER_HALF_OPEN;
    }
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
