/* publish.h -- the publish plan: which targets a message is delivered to, in which order,
 * and what the outcomes do to the table.
 *
 * The plan decides; the caller delivers. A publish runs as
 *
 *   swPublishSelect(p, t, res, priority)   routes in the priority range, targets de-duplicated
 *   swPublishStart(p, now, cfg, &ms, &seq) issues the message id
 *   while (swPublishNext(p, &slot))         the next target to try (the breaker consulted:
 *       swPublishReport(p, outcome)         a route it sheds is skipped and counted)
 *   swPublishCommit(p)                      the delta (delta.h), applied to the table
 *   swPublishSlotAt(p, i, &slot)            per target: delivered, or lost and why
 *   swPublishFree(p)
 *
 * and SWARM.ROUTE MATCH, a dry run, stops after swPublishSelect: the slots then hold what a
 * publish would try if every delivery succeeded, so MATCH shows exactly what PUBLISH selects.
 *
 * Slots: one per selected route in route id order, and one more (the last) for the table's
 * default target when it has one. A route whose target an earlier selected route already
 * has is not a slot of its own (each target gets a message once); its counters follow the
 * slot's outcome. The default target is tried, and then counted as dead-lettered, only when
 * no route delivered the message: none selected, or every one missed, failed or was shed.
 *
 * Routes: each route in the range counts as matched; a delivery's outcome moves the route's
 * breaker (breaker.h); an open breaker sheds messages below SW_PRIORITY_CRITICAL, and a
 * later route with the same target may then deliver it. Nothing here reads a clock: the
 * time comes in through swPublishStart. */
#ifndef SWARM_PUBLISH_H
#define SWARM_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/delta.h"
#include "swarm/resolve.h"
#include "swarm/status.h"
#include "swarm/table.h"

typedef enum swOutcome {
    SW_OUTCOME_OK = 0,      /* stream appended, or a channel had a receiver */
    SW_OUTCOME_MISSED = 1,  /* a channel with no receiver */
    SW_OUTCOME_FAILED = 2,  /* the target refused it (another type, another slot) */
    SW_OUTCOME_SHED = 3,    /* skipped by an open breaker */
    SW_OUTCOME_PENDING = 4, /* selected, not delivered (yet) */
    SW_OUTCOME_NONE = 5     /* not tried: a default target no message needed */
} swOutcome;

/* "ok", "missed", "failed", "shed" (what a publish reply names); "pending", "none". */
const char *swOutcomeName(swOutcome o);

typedef struct swPublishConfig {
    int64_t breakerCooldownMs;
    uint32_t breakerThreshold;
} swPublishConfig;

/* A target of the plan. */
typedef struct swPublishSlot {
    const char *target; /* "channel:<name>" or "stream:<key>", owned by the table */
    size_t len;
    uint64_t routeId; /* the route that names it, 0 for the default target */
    swOutcome outcome;
} swPublishSlot;

#define SW_PUBLISH_STACK_ROUTES 16

/* A plan. Its fields are private: use the functions. Lives on the caller's stack; a
 * resolution of more than SW_PUBLISH_STACK_ROUTES routes takes one heap block. */
typedef struct swPublish {
    swTable *t;
    const char *deflt; /* the table's default target, NULL when none */
    size_t defltLen;
    const swResolution *res;
    int priority;
    int64_t now;
    swPublishConfig cfg;
    size_t n;           /* routes selected */
    swDeltaRoute *d;    /* per selected route: its delta entry */
    uint32_t *rep;      /* per selected route: the index of its target's slot */
    unsigned char *out; /* per selected route: its slot's outcome (swOutcome) */
    size_t next;        /* the route swPublishNext looks at next */
    size_t pending;     /* the route whose delivery awaits swPublishReport, or SIZE_MAX */
    size_t nok, nlost;  /* targets delivered to / lost, the default target included */
    swOutcome dead;     /* the default target's slot */
    swRule *hit;
    swDelta delta;
    void *heap;
    swDeltaRoute dstack[SW_PUBLISH_STACK_ROUTES];
    uint32_t rstack[SW_PUBLISH_STACK_ROUTES];
    unsigned char ostack[SW_PUBLISH_STACK_ROUTES];
} swPublish;

/* Selects the routes of res (a resolution of t that admits the type) whose priority range
 * holds priority, de-duplicating targets. SW_OK, or SW_ERR_NOMEM with nothing to free and t
 * unchanged. Free with swPublishFree in every case (a no-op after a failure). */
swStatus swPublishSelect(swPublish *p, swTable *t, const swResolution *res, int priority);

/* Issues the message id (swTableNextId at nowMs) and fixes the time and configuration of
 * the breakers. SW_OK, or SW_ERR_LIMIT when the table's ids are used up (t unchanged). */
swStatus swPublishStart(swPublish *p, int64_t nowMs, const swPublishConfig *cfg, int64_t *ms,
                        uint64_t *seq);

/* The next target to deliver to: 1 with *slot set (then report its outcome with
 * swPublishReport before calling again), or 0 when the plan is done. */
int swPublishNext(swPublish *p, swPublishSlot *slot);

/* The outcome of the delivery swPublishNext asked for: SW_OUTCOME_OK, _MISSED or _FAILED. */
void swPublishReport(swPublish *p, swOutcome o);

/* Ends a plan run to completion: applies its delta to the table (counters, breakers, the
 * ALLOW rule's hit, the id clock) and returns it for replication (swDeltaEncode), valid
 * until swPublishFree. Never fails. */
const swDelta *swPublishCommit(swPublish *p);

/* The number of slots, and slot i (0 .. swPublishSlots-1): 1 with *slot set when slot i is
 * a target of its own, 0 when it is a route whose target an earlier slot holds. Inline:
 * every publish reply reads them. */
static inline size_t swPublishSlots(const swPublish *p) {
    return p->n + (p->deflt != NULL);
}

static inline int swPublishSlotAt(const swPublish *p, size_t i, swPublishSlot *slot) {
    if (i < p->n) {
        if (p->rep[i] != i) return 0;
        const swRoute *r = p->d[i].route;
        slot->target = r->target;
        slot->len = r->targetLen;
        slot->routeId = r->id;
        slot->outcome = (swOutcome)p->out[i];
        return 1;
    }
    if (i != p->n || p->deflt == NULL) return 0;
    slot->target = p->deflt;
    slot->len = p->defltLen;
    slot->routeId = 0;
    slot->outcome = p->dead;
    return 1;
}

/* Targets delivered to, and lost (shed, missed or failed), default target included. */
static inline size_t swPublishDelivered(const swPublish *p) {
    return p->nok;
}

static inline size_t swPublishLost(const swPublish *p) {
    return p->nlost;
}

/* Frees what the plan allocated. */
void swPublishFree(swPublish *p);

/* ---- Idempotent publishes (dedup.h) ---- */

/* 1 when t remembers msgid, not expired at nowMs, with the id it was accepted as in *ms,
 * *seq; 0 otherwise. O(1). */
int swPublishFindDuplicate(const swTable *t, const char *msgid, size_t len, int64_t nowMs,
                           int64_t *ms, uint64_t *seq);

/* A publish answered as a duplicate: counts it on t (duplicates, nothing else) through a
 * delta recorded in p and returned for replication, as swPublishReject does. */
const swDelta *swPublishDuplicate(swPublish *p, swTable *t);

/* After swPublishStart: the message is remembered under msgid (1 to SW_DEDUP_KEY_MAX bytes)
 * when the plan commits, for windowMs (> 0) from its time, in a window of at most max
 * (>= 1) MSGIDs. Allocates now: SW_OK, or SW_ERR_NOMEM with t unchanged (free the plan). */
swStatus swPublishRemember(swPublish *p, const char *msgid, size_t len, int64_t windowMs,
                           uint64_t max);

/* A publish refused (bad input, denied, no id left): counts the rejection on t, and a hit
 * on denyRule (may be NULL), through a delta recorded in p and returned for replication,
 * valid until the next use of p. p needs no selection and nothing to free. */
const swDelta *swPublishReject(swPublish *p, swTable *t, swRule *denyRule);

#endif
