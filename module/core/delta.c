/* delta.c -- publish effects for replication and the AOF (see delta.h). */
#include "swarm/delta.h"

#define SW_DELTA_FORMAT 1

void swDeltaEncode(swBuf *b, const swTable *t, const swTableStats *inc,
                   const swDeltaRoute *routes, size_t nroutes, const swRule *const *rules,
                   size_t nrules) {
    swBufPutU8(b, SW_DELTA_FORMAT);
    swBufPutU64(b, (uint64_t)t->clockMs);
    swBufPutU64(b, t->clockSeq);
    uint64_t s[6] = {inc->published,    inc->delivered, inc->rejected, inc->unrouted,
                     inc->deadlettered, inc->shed};
    for (int i = 0; i < 6; i++) swBufPutU64(b, s[i]);
    swBufPutU32(b, (uint32_t)nroutes);
    for (size_t i = 0; i < nroutes; i++) {
        const swDeltaRoute *d = &routes[i];
        swBufPutU64(b, d->route->id);
        uint32_t c[5] = {d->matched, d->delivered, d->missed, d->failed, d->shed};
        for (int k = 0; k < 5; k++) swBufPutU32(b, c[k]);
        swBufPutU8(b, (uint8_t)d->route->breaker);
        swBufPutU32(b, d->route->failures);
        swBufPutU64(b, (uint64_t)d->route->openedMs);
    }
    swBufPutU32(b, (uint32_t)nrules);
    for (size_t i = 0; i < nrules; i++) swBufPutU64(b, rules[i]->id);
}

/* Reads (and when apply is set, applies) a delta; the first pass only validates. */
static swStatus walk(swTable *t, const char *buf, size_t len, int apply, swError *err) {
    swReader r;
    swReaderInit(&r, buf, len);
    if (swReadU8(&r) != SW_DELTA_FORMAT) {
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "unknown publish delta format");
    }
    int64_t ms = (int64_t)swReadU64(&r);
    uint64_t seq = swReadU64(&r);
    uint64_t s[6];
    for (int i = 0; i < 6; i++) s[i] = swReadU64(&r);
    if (apply) {
        t->clockMs = ms;
        t->clockSeq = seq;
        swTableStats *st = &t->stats;
        st->published += s[0];
        st->delivered += s[1];
        st->rejected += s[2];
        st->unrouted += s[3];
        st->deadlettered += s[4];
        st->shed += s[5];
    }
    uint32_t n = swReadU32(&r);
    for (uint32_t i = 0; i < n && !swReaderFailed(&r); i++) {
        uint64_t id = swReadU64(&r);
        uint32_t c[5];
        for (int k = 0; k < 5; k++) c[k] = swReadU32(&r);
        uint8_t breaker = swReadU8(&r);
        uint32_t failures = swReadU32(&r);
        int64_t openedMs = (int64_t)swReadU64(&r);
        swRoute *rt = swTableRoute(t, id);
        if (swReaderFailed(&r)) break;
        if (rt == NULL || breaker > SW_BREAKER_HALF_OPEN) {
            return swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta names unknown route %llu",
                              (unsigned long long)id);
        }
        if (apply) {
            rt->c.matched += c[0];
            rt->c.delivered += c[1];
            rt->c.missed += c[2];
            rt->c.failed += c[3];
            rt->c.shed += c[4];
            rt->breaker = (swBreaker)breaker;
            rt->failures = failures;
            rt->openedMs = openedMs;
        }
    }
    n = swReadU32(&r);
    for (uint32_t i = 0; i < n && !swReaderFailed(&r); i++) {
        swRule *rule = swTableRule(t, swReadU64(&r));
        if (swReaderFailed(&r)) break;
        if (rule == NULL) return swErrorSet(err, SW_ERR_CORRUPT, 0, "publish delta names unknown rule");
        if (apply) rule->hits++;
    }
    if (!swReaderAtEnd(&r)) return swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish delta");
    return SW_OK;
}

swStatus swDeltaApply(swTable *t, const char *buf, size_t len, swError *err) {
    swStatus st = walk(t, buf, len, 0, err);
    return st == SW_OK ? walk(t, buf, len, 1, err) : st;
}
