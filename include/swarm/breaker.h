/* breaker.h -- the per-route circuit breaker.
 *
 *             threshold misses/failures in a row
 *   CLOSED ---------------------------------------> OPEN
 *     ^                                               |  cooldown passed: the next
 *     | delivered                                     v  message probes the route
 *     +-------------------------------------------- HALF_OPEN
 *                                    probe missed/failed: OPEN again at once
 *
 * An open breaker sheds messages below SW_PRIORITY_CRITICAL; critical messages are still
 * attempted (and their outcomes counted) but do not extend the cooldown. The state lives
 * in the route (swRoute.breaker, .failures, .openedMs) and is replicated as absolute
 * values in the publish delta (delta.h). */
#ifndef SWARM_BREAKER_H
#define SWARM_BREAKER_H

#include <stdint.h>

#include "swarm/table.h"

/* Messages of this priority and above pass an open breaker. */
#define SW_PRIORITY_CRITICAL 8

/* The breaker's state as seen at nowMs, without changing the route: an open breaker whose
 * cooldown has passed is half-open (the next message probes it). For ROUTE LIST. Any int64
 * values are safe: an openedMs after nowMs (the clock went back) counts as cooled down. */
swBreaker swRouteBreakerAt(const swRoute *r, int64_t nowMs, int64_t cooldownMs);

/* Whether a message of this priority is attempted on the route at nowMs. An open breaker
 * whose cooldown has passed goes half-open and lets this message probe it. */
int swRouteAttempt(swRoute *r, int priority, int64_t nowMs, int64_t cooldownMs);

/* Records a delivery outcome: ok closes the breaker and resets the failure run; a miss or
 * failure extends it and opens the breaker at threshold (or at once when half-open). */
void swRouteOutcome(swRoute *r, int ok, int64_t nowMs, uint32_t threshold);

#endif
