/* delta.c -- publish effects, applied on the master and on replicas alike (see delta.h). */
#include "swarm/alloc.h"
#include "swarm/delta.h"

/* Bytes of one route entry and one rule entry in the encoded form. */
#define SW_DELTA_ROUTE_BYTES (8 + 5 * 4 + 1 + 4 + 8)
#define SW_DELTA_RULE_BYTES 8

void swDeltaCommit(swTable *t, swDelta *d) {
    t->clockMs = d->clockMs;
    t->clockSeq = d->clockSeq;
    swTableStats *st = &t->stats;
    st->published += d->inc.published;
    st->delivered += d->inc.delivered;
    st->rejected += d->inc.rejected;
    st->unrouted += d->inc.unrouted;
    st->deadlettered += d->inc.deadlettered;
    st->shed += d->inc.shed;
    for (size_t i = 0; i < d->nroutes; i++) {
        const swDeltaRoute *e = &d->routes[i];
        swRoute *r = e->route;
        r->c.matched += e->matched;
        r->c.delivered += e->delivered;
        r->c.missed += e->missed;
        r->c.failed += e->failed;
        r->c.shed += e->shed;
        r->breaker = e->breaker;
        r->failures = e->failures;
        r->openedMs = e->openedMs;
    }
    for (size_t i = 0; i < d->nrules; i++) d->rules[i]->hits++;
    st->duplicates += d->inc.duplicates;
    if (d->node) {
        if (t->dedup == NULL) {
            t->dedup = d->newDedup;
            d->newDedup = NULL;
        }
        swDedupCommit(t->dedup, d->node, d->clockMs, d->clockSeq, d->dedupExpiresMs, d->dedupNowMs,
                      d->dedupMax);
        d->node = NULL;
    }
}

swStatus swDeltaPrepareMsgid(const swTable *t, swDelta *d) {
    /* Preparing only reserves room: the window's content does not change until the
     * commit, so the table stays as it was if the delta is released instead. */
    swDedup *w = t->dedup;
    if (w == NULL) {
        if ((d->newDedup = swDedupNew()) == NULL) return SW_ERR_NOMEM;
        w = d->newDedup;
    }
    if (swDedupPrepare(w, d->msgid, d->msgidLen, &d->node) != SW_OK) {
        swDedupFree(d->newDedup);
        d->newDedup = NULL;
        return SW_ERR_NOMEM;
    }
    return SW_OK;
}

void swDeltaEncode(swBuf *b, const swDelta *d) {
    swBufPutU8(b, SW_DELTA_FORMAT);
    swBufPutU64(b, (uint64_t)d->clockMs);
    swBufPutU64(b, d->clockSeq);
    const swTableStats *inc = &d->inc;
    uint64_t s[6] = {inc->published, inc->delivered,    inc->rejected,
                     inc->unrouted,  inc->deadlettered, inc->shed};
    for (int i = 0; i < 6; i++) swBufPutU64(b, s[i]);
    swBufPutU32(b, (uint32_t)d->nroutes);
    for (size_t i = 0; i < d->nroutes; i++) {
        const swDeltaRoute *e = &d->routes[i];
        swBufPutU64(b, e->route->id);
        uint32_t c[5] = {e->matched, e->delivered, e->missed, e->failed, e->shed};
        for (int k = 0; k < 5; k++) swBufPutU32(b, c[k]);
        swBufPutU8(b, (uint8_t)e->breaker);
        swBufPutU32(b, e->failures);
        swBufPutU64(b, (uint64_t)e->openedMs);
    }
    swBufPutU32(b, (uint32_t)d->nrules);
    for (size_t i = 0; i < d->nrules; i++) swBufPutU64(b, d->rules[i]->id);
    if (d->inc.duplicates || d->msgid) {
        swBufPutU64(b, d->inc.duplicates);
        swBufPutU8(b, d->msgid != NULL);
        if (d->msgid) {
            swBufPutStr(b, d->msgid, d->msgidLen);
            swBufPutU64(b, (uint64_t)d->dedupNowMs);
            swBufPutU64(b, (uint64_t)d->dedupExpiresMs);
            swBufPutU64(b, d->dedupMax);
        }
    }
}

swStatus swDeltaCheck(const swTable *t, const char *buf, size_t len, swDelta *d, swError *err) {
    swReader r;
    swReaderInit(&r, buf, len);
    *d = (swDelta){0};
    if (swReadU8(&r) != SW_DELTA_FORMAT) {
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "unknown publish delta format");
    }
    swDelta out = {0};
    uint64_t clockMs = swReadU64(&r);
    out.clockSeq = swReadU64(&r);
    /* The same range the table codec enforces: a table must stay loadable after a delta. */
    if (clockMs > (uint64_t)SW_TABLE_CLOCK_MAX_MS) {
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta id clock out of range");
    }
    out.clockMs = (int64_t)clockMs;
    uint64_t *s[6] = {&out.inc.published, &out.inc.delivered,    &out.inc.rejected,
                      &out.inc.unrouted,  &out.inc.deadlettered, &out.inc.shed};
    for (int i = 0; i < 6; i++) *s[i] = swReadU64(&r);
    uint32_t nroutes = swReadU32(&r);
    /* Never allocate more entries than the buffer could hold: a count beyond that makes the
     * reader run out below, and the delta is refused as malformed. */
    if (nroutes > len / SW_DELTA_ROUTE_BYTES) nroutes = (uint32_t)(len / SW_DELTA_ROUTE_BYTES + 1);
    size_t nrulesMax = len / SW_DELTA_RULE_BYTES + 1;
    /* One block: the route entries, then room for every rule the bytes could name. */
    out.owned = swAlloc(nroutes * sizeof(swDeltaRoute) + nrulesMax * sizeof(swRule *));
    if (out.owned == NULL) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    out.routes = out.owned;
    out.rules = (swRule **)(out.routes + nroutes);
    swStatus st = SW_ERR_CORRUPT;
    for (uint32_t i = 0; i < nroutes && !swReaderFailed(&r); i++) {
        swDeltaRoute *e = &out.routes[i];
        uint64_t id = swReadU64(&r);
        uint32_t *c[5] = {&e->matched, &e->delivered, &e->missed, &e->failed, &e->shed};
        for (int k = 0; k < 5; k++) *c[k] = swReadU32(&r);
        uint8_t breaker = swReadU8(&r);
        e->failures = swReadU32(&r);
        uint64_t openedMs = swReadU64(&r);
        if (swReaderFailed(&r)) break;
        e->openedMs = (int64_t)openedMs;
        e->route = swTableRoute(t, id);
        if (openedMs > (uint64_t)SW_TABLE_CLOCK_MAX_MS) {
            swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta breaker time out of range");
            goto fail;
        }
        if (e->route == NULL || breaker > SW_BREAKER_HALF_OPEN) {
            swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta names unknown route %llu",
                       (unsigned long long)id);
            goto fail;
        }
        e->breaker = (swBreaker)breaker;
        out.nroutes++;
    }
    uint32_t nrules = swReadU32(&r);
    for (uint32_t i = 0; i < nrules && !swReaderFailed(&r); i++) {
        swRule *rule = swTableRule(t, swReadU64(&r));
        if (swReaderFailed(&r)) break;
        if (rule == NULL) {
            swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta names unknown rule");
            goto fail;
        }
        if (out.nrules == nrulesMax) break; /* more rules than bytes: not at the end */
        out.rules[out.nrules++] = rule;
    }
    if (!swReaderFailed(&r) && !swReaderAtEnd(&r)) {
        out.inc.duplicates = swReadU64(&r);
        uint8_t remember = swReadU8(&r);
        if (remember == 1) {
            out.msgid = swReadStr(&r, SW_DEDUP_KEY_MAX, &out.msgidLen);
            out.dedupNowMs = (int64_t)swReadU64(&r);
            out.dedupExpiresMs = (int64_t)swReadU64(&r);
            out.dedupMax = swReadU64(&r);
            if (!swReaderFailed(&r) && (out.msgidLen == 0 || out.dedupMax == 0)) {
                swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta has a bad msgid or bound");
                goto fail;
            }
        } else if (remember != 0) {
            swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish delta");
            goto fail;
        }
    }
    if (!swReaderAtEnd(&r)) {
        swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish delta");
        goto fail;
    }
    if (out.msgid && swDeltaPrepareMsgid(t, &out) != SW_OK) {
        st = swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
        goto fail;
    }
    *d = out;
    return SW_OK;

fail:
    swFree(out.owned);
    return st;
}

void swDeltaRelease(swDelta *d) {
    swFree(d->owned);
    d->owned = NULL;
    swDedupDiscard(d->node);
    d->node = NULL;
    swDedupFree(d->newDedup);
    d->newDedup = NULL;
}
