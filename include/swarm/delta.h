/* delta.h -- the deterministic effect of one SWARM.PUBLISH on a routing table.
 *
 * A publish changes counters, breakers, rule hits and the id clock in ways that depend on
 * the master's clock and its subscribers. Replicas and the AOF must not re-run it; they get
 * the delta instead (as SWARM.APPLY) and apply it to reach the master's exact state:
 *
 *   u8 version | u64 clockMs | u64 clockSeq | 6 x u64 stats increments
 *   u32 nroutes, per route: u64 id | 5 x u32 counter increments | u8 breaker |
 *       u32 failures | u64 openedMs                      (breaker fields are absolute)
 *   u32 nrules, per rule: u64 id                          (hits + 1 each)
 *
 * The recorder writes into a swBuf as a publish goes; swDeltaApply checks the whole delta
 * before changing anything. */
#ifndef SWARM_DELTA_H
#define SWARM_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/status.h"
#include "swarm/table.h"

typedef struct swDeltaRoute {
    swRoute *route;
    uint32_t matched, delivered, missed, failed, shed;
} swDeltaRoute;

/* Encodes the effect of a publish: the table's current clock, the stats increments, the
 * final breaker state of each listed route with its counter increments, and rule hits. */
void swDeltaEncode(swBuf *b, const swTable *t, const swTableStats *inc,
                   const swDeltaRoute *routes, size_t nroutes, const swRule *const *rules,
                   size_t nrules);

/* Applies an encoded delta; SW_ERR_CORRUPT (table unchanged) when it is malformed or names
 * a route or rule the table does not hold. */
swStatus swDeltaApply(swTable *t, const char *buf, size_t len, swError *err);

#endif
