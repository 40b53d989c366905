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
 *   then, only when the publish was a duplicate or remembers a MSGID (dedup.h):
 *   u64 duplicates increment | u8 remember (0 or 1), and when 1:
 *       str msgid | u64 nowMs | u64 expiresMs | u64 max   (remembered as the new clock's id)
 */
#ifndef SWARM_DELTA_H
#define SWARM_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/dedup.h"
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
    /* A MSGID to remember as message <clockMs>-<clockSeq> until expiresMs, the window
     * forgetting what expired at nowMs and keeping at most max (dedup.h); msgid NULL when
     * none. node is the prepared entry (swDedupPrepare), which swDeltaCommit consumes;
     * newDedup the window to install when the table has none yet. */
    const char *msgid;
    size_t msgidLen;
    int64_t dedupNowMs, dedupExpiresMs;
    uint64_t dedupMax;
    swDedupNode *node;
    swDedup *newDedup;
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
 * hit to each rule, remembers the MSGID (consuming d's prepared entry). Never fails; d must
 * have been recorded against t or checked by swDeltaCheck against t with no change to t
 * since. */
void swDeltaCommit(swTable *t, swDelta *d);

/* Prepares the MSGID d names (d->msgid set) for swDeltaCommit: allocates its entry, and the
 * window when t has none. SW_OK, or SW_ERR_NOMEM with nothing to release and t unchanged.
 * swDeltaCheck calls it; a publish recording a delta calls it before delivering. */
swStatus swDeltaPrepareMsgid(const swTable *t, swDelta *d);

/* Appends d's encoded form to b (check swBufFailed once at the end). */
void swDeltaEncode(swBuf *b, const swDelta *d);

/* Decodes and validates buf[0..len) against t without changing it: SW_OK with d ready for
 * swDeltaCommit (release with swDeltaRelease); SW_ERR_CORRUPT when it is malformed or names
 * a route or rule t does not hold; SW_ERR_NOMEM. On failure d holds nothing to release. */
swStatus swDeltaCheck(const swTable *t, const char *buf, size_t len, swDelta *d, swError *err);

/* Frees what swDeltaCheck allocated in d (and a prepared MSGID entry not committed). */
void swDeltaRelease(swDelta *d);

#endif
