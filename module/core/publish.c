/* publish.c -- the publish plan (see publish.h). */
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/breaker.h"
#include "swarm/publish.h"

#define NO_SLOT UINT32_MAX

const char *swOutcomeName(swOutcome o) {
    static const char *const names[] = {"ok", "missed", "failed", "shed", "pending", "none"};
    return (unsigned)o <= SW_OUTCOME_NONE ? names[o] : "none";
}

swStatus swPublishSelect(swPublish *p, swTable *t, const swResolution *res, int priority) {
    size_t nr = res->nroutes, nt = res->ntargets;
    p->delta = (swDelta){.inc = {.published = 1}};
    p->t = t;
    p->deflt = t->deflt;
    p->defltLen = t->defltLen;
    p->res = res;
    p->priority = priority;
    p->heap = NULL;
    p->n = p->next = p->nok = p->nlost = 0;
    p->pending = SIZE_MAX;
    p->hit = res->allowRule;
    /* Per distinct target (the resolution numbers them): the slot that holds it, so a route
     * finds its target's slot in O(1). */
    uint32_t slotStack[SW_PUBLISH_STACK_ROUTES], *slotOf = slotStack;
    if (nr <= SW_PUBLISH_STACK_ROUTES) {
        p->d = p->dstack;
        p->rep = p->rstack;
        p->out = p->ostack;
    } else {
        size_t bytes = nr * (sizeof(swDeltaRoute) + sizeof(uint32_t) + 1) + nt * sizeof(uint32_t);
        char *b = swAlloc(bytes);
        if (b == NULL) return SW_ERR_NOMEM;
        p->heap = b;
        p->d = (swDeltaRoute *)(void *)b;
        p->rep = (uint32_t *)(void *)(b + nr * sizeof(swDeltaRoute));
        slotOf = p->rep + nr;
        p->out = (unsigned char *)(slotOf + nt);
    }
    for (size_t i = 0; i < nt; i++) slotOf[i] = NO_SLOT;
    size_t n = 0;
    for (size_t i = 0; i < nr; i++) {
        swRoute *r = res->routes[i];
        if (priority < r->pmin || priority > r->pmax) continue;
        p->d[n] = (swDeltaRoute){.route = r, .matched = 1};
        uint32_t *s = &slotOf[res->targetIndex[i]];
        if (*s == NO_SLOT) *s = (uint32_t)n;
        p->rep[n] = *s;
        p->out[n] = SW_OUTCOME_PENDING;
        n++;
    }
    p->n = n;
    /* As a dry run sees it: the default target only when no route is selected. */
    p->dead = n == 0 && p->deflt ? SW_OUTCOME_PENDING : SW_OUTCOME_NONE;
    p->delta.routes = p->d;
    return SW_OK;
}

swStatus swPublishStart(swPublish *p, int64_t nowMs, const swPublishConfig *cfg, int64_t *ms,
                        uint64_t *seq) {
    swStatus st = swTableNextId(p->t, nowMs, ms, seq);
    if (st != SW_OK) return st;
    p->now = nowMs;
    p->cfg = *cfg;
    p->dead = SW_OUTCOME_NONE;
    return SW_OK;
}

/* Counts a delivery outcome on route entry e. */
static void record(swPublish *p, swDeltaRoute *e, swOutcome o) {
    e->delivered = o == SW_OUTCOME_OK;
    e->missed = o == SW_OUTCOME_MISSED;
    e->failed = o == SW_OUTCOME_FAILED;
    swRouteOutcome(e->route, o == SW_OUTCOME_OK, p->now, p->cfg.breakerThreshold);
    swDeltaRouteTakeBreaker(e, e->route);
}

int swPublishNext(swPublish *p, swPublishSlot *slot) {
    while (p->next < p->n) {
        size_t i = p->next++;
        swDeltaRoute *e = &p->d[i];
        swRoute *r = e->route;
        uint32_t k = p->rep[i];
        /* The target already has its outcome from an earlier route: the route shares it. */
        if (k != i && p->out[k] != SW_OUTCOME_SHED) {
            record(p, e, (swOutcome)p->out[k]);
            continue;
        }
        if (!swRouteAttempt(r, p->priority, p->now, p->cfg.breakerCooldownMs)) {
            /* Shed: the target is lost unless a later route with the same target delivers. */
            e->shed = 1;
            p->delta.inc.shed++;
            swDeltaRouteTakeBreaker(e, r);
            p->out[k] = SW_OUTCOME_SHED;
            continue;
        }
        p->pending = i;
        *slot = (swPublishSlot){r->target, r->targetLen, r->id, SW_OUTCOME_PENDING};
        return 1;
    }
    /* Dead letter: nothing delivered, and a default target to try once. */
    if (p->nok == 0 && p->dead == SW_OUTCOME_NONE && p->deflt) {
        p->dead = SW_OUTCOME_PENDING;
        p->pending = p->n;
        *slot = (swPublishSlot){p->deflt, p->defltLen, 0, SW_OUTCOME_PENDING};
        return 1;
    }
    return 0;
}

void swPublishReport(swPublish *p, swOutcome o) {
    size_t i = p->pending;
    p->pending = SIZE_MAX;
    if (o == SW_OUTCOME_OK) p->nok++;
    if (i == p->n) {
        p->dead = o;
        return;
    }
    record(p, &p->d[i], o);
    p->out[p->rep[i]] = (unsigned char)o;
}

const swDelta *swPublishCommit(swPublish *p) {
    swDelta *d = &p->delta;
    swTable *t = p->t;
    p->nlost = 0;
    for (size_t i = 0; i < p->n; i++) p->nlost += p->rep[i] == i && p->out[i] != SW_OUTCOME_OK;
    int tried = p->dead != SW_OUTCOME_NONE;
    p->nlost += tried && p->dead != SW_OUTCOME_OK;
    d->nroutes = p->n;
    d->inc.unrouted = p->n == 0;
    d->inc.deadlettered = (uint64_t)tried;
    d->inc.delivered = p->nok;
    d->rules = &p->hit;
    d->nrules = p->hit ? 1 : 0;
    d->clockMs = t->clockMs;
    d->clockSeq = t->clockSeq;
    swDeltaCommit(t, d);
    return d;
}

void swPublishFree(swPublish *p) {
    swFree(p->heap);
    p->heap = NULL;
    swDedupDiscard(p->delta.node);
    p->delta.node = NULL;
    swDedupFree(p->delta.newDedup);
    p->delta.newDedup = NULL;
}

int swPublishFindDuplicate(const swTable *t, const char *msgid, size_t len, int64_t nowMs,
                           int64_t *ms, uint64_t *seq) {
    swDedupEntry e;
    if (!swDedupFind(t->dedup, msgid, len, nowMs, &e)) return 0;
    *ms = e.idMs;
    *seq = e.idSeq;
    return 1;
}

const swDelta *swPublishDuplicate(swPublish *p, swTable *t) {
    p->delta = (swDelta){.clockMs = t->clockMs, .clockSeq = t->clockSeq, .inc = {.duplicates = 1}};
    swDeltaCommit(t, &p->delta);
    return &p->delta;
}

swStatus swPublishRemember(swPublish *p, const char *msgid, size_t len, int64_t windowMs,
                           uint64_t max) {
    swDelta *d = &p->delta;
    d->msgid = msgid;
    d->msgidLen = len;
    d->dedupNowMs = p->now;
    d->dedupExpiresMs = p->now + windowMs;
    d->dedupMax = max;
    if (swDeltaPrepareMsgid(p->t, d) != SW_OK) {
        d->msgid = NULL;
        return SW_ERR_NOMEM;
    }
    return SW_OK;
}

const swDelta *swPublishReject(swPublish *p, swTable *t, swRule *denyRule) {
    p->hit = denyRule;
    p->delta = (swDelta){.clockMs = t->clockMs,
                         .clockSeq = t->clockSeq,
                         .inc = {.rejected = 1},
                         .rules = &p->hit,
                         .nrules = denyRule ? 1 : 0};
    swDeltaCommit(t, &p->delta);
    return &p->delta;
}
