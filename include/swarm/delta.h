/* delta.h -- the effect of one SWARM.PUBLISH on a routing table, applied in one place.
 *
 * A publish changes counters, breakers, rule hits and the id clock in ways that depend on
 * the master's clock and its subscribers. Replicas and the AOF must not re-run it; they get
 * the delta instead (as SWARM.APPLY) and apply it to reach the master's exact state. The
 * master applies the very same delta to its own table, so every increment exists once:
 *
 *   SWARM.PUBLISH:  attempts + outcomes (breaker.h) -> swDelta -> swDeltaCommit (table)
 *                                                               -> swDeltaEncode (replicas)
 *   SWARM.APPLY:    bytes -> swDeltaCheck (nothing changes) -> swDeltaCommit (table)
 *
 * Encoded form, integers little-endian:
 *
 *   u8 version | u64 clockMs | u64 clockSeq | 6 x u64 stats increments
 *   u32 nroutes, per route: u64 id | 5 x u32 counter increments | u8 breaker |
 *       u32 failures | u64 openedMs                      (breaker fields are absolute)
 *   u32 nrules, per rule: u64 id                          (hits + 1 each)
 */
#ifndef SWARM_DELTA_H
#define SWARM_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/status.h"
#include "swarm/table.h"

#define SW_DELTA_FORMAT 1

/* One route's part of a delta: counter increments and the breaker state to set. */
typedef struct swDeltaRoute {
    swRoute *route;
    uint32_t matched, delivered, missed, failed, shed;
    swBreaker breaker;
    uint32_t failures;
    int64_t openedMs;
} swDeltaRoute;

/* A decoded or recorded delta. The arrays belong to whoever filled them: the publish that
 * recorded it, or swDeltaCheck (then release with swDeltaRelease). */
typedef struct swDelta {
    int64_t clockMs; /* the table's id clock after the publish (absolute) */
    uint64_t clockSeq;
    swTableStats inc; /* table counter increments */
    swDeltaRoute *routes;
    size_t nroutes;
    swRule **rules; /* each gains one hit */
    size_t nrules;
    void *owned; /* swDeltaCheck's allocation, NULL for a recorded delta */
} swDelta;

/* Copies route r's breaker state as it is now into e (after swRouteAttempt and
 * swRouteOutcome ran on it). Inline: it runs per route on the publish path. */
static inline void swDeltaRouteTakeBreaker(swDeltaRoute *e, const swRoute *r) {
    e->breaker = r->breaker;
    e->failures = r->failures;
    e->openedMs = r->openedMs;
}

/* Applies d to t: adds the counter increments, sets the breakers and the clock, adds one
 * hit to each rule. Never fails; d must have been recorded against t or checked by
 * swDeltaCheck against t with no change to t's routes or rules since. */
void swDeltaCommit(swTable *t, const swDelta *d);

/* Appends d's encoded form to b (check swBufFailed once at the end). */
void swDeltaEncode(swBuf *b, const swDelta *d);

/* Decodes and validates buf[0..len) against t without changing it: SW_OK with d ready for
 * swDeltaCommit (release with swDeltaRelease); SW_ERR_CORRUPT when it is malformed or names
 * a route or rule t does not hold; SW_ERR_NOMEM. On failure d holds nothing to release. */
swStatus swDeltaCheck(const swTable *t, const char *buf, size_t len, swDelta *d, swError *err);

/* Frees what swDeltaCheck allocated in d; a no-op for a recorded delta. */
void swDeltaRelease(swDelta *d);

#endif
