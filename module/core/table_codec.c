/* table_codec.c -- the routing table's serialized form (layout in table_codec.h). */
#include "swarm/buf.h"
#include "swarm/table_codec.h"
#include "table_internal.h"

swStatus swTableEncode(const swTable *t, char **buf, size_t *len) {
    swBuf b = {0};
    swBufPutU8(&b, SW_TABLE_FORMAT);
    swBufPutU64(&b, t->lastId);
    swBufPutU64(&b, (uint64_t)t->clockMs);
    swBufPutU64(&b, t->clockSeq);
    const swTableStats *s = &t->stats;
    uint64_t stats[6] = {s->published, s->delivered,    s->rejected,
                         s->unrouted,  s->deadlettered, s->shed};
    for (int i = 0; i < 6; i++) swBufPutU64(&b, stats[i]);
    swBufPutStr(&b, t->deflt, t->defltLen);
    swBufPutU32(&b, (uint32_t)t->nroutes);
    for (size_t i = 0; i < t->nroutes; i++) {
        const swRoute *r = t->routes[i];
        swBufPutU64(&b, r->id);
        swBufPutU8(&b, (uint8_t)r->kind);
        swBufPutU8(&b, (uint8_t)r->pmin);
        swBufPutU8(&b, (uint8_t)r->pmax);
        swBufPutStr(&b, r->pattern, r->patternLen);
        swBufPutStr(&b, r->target, r->targetLen);
        uint64_t c[5] = {r->c.matched, r->c.delivered, r->c.missed, r->c.failed, r->c.shed};
        for (int k = 0; k < 5; k++) swBufPutU64(&b, c[k]);
        swBufPutU8(&b, (uint8_t)r->breaker);
        swBufPutU32(&b, r->failures);
        swBufPutU64(&b, (uint64_t)r->openedMs);
    }
    swBufPutU32(&b, (uint32_t)t->nrules);
    for (size_t i = 0; i < t->nrules; i++) {
        const swRule *r = t->rules[i];
        swBufPutU64(&b, r->id);
        swBufPutU8(&b, (uint8_t)r->action);
        swBufPutStr(&b, r->regex, r->regexLen);
        swBufPutU64(&b, r->hits);
    }
    size_t nmsg = swDedupCount(t->dedup);
    if (t->stats.duplicates || nmsg) {
        swBufPutU64(&b, t->stats.duplicates);
        swBufPutU32(&b, (uint32_t)nmsg);
        for (size_t i = 0; i < nmsg; i++) {
            swDedupEntry m;
            swDedupAt(t->dedup, i, &m);
            swBufPutStr(&b, m.msgid, m.len);
            swBufPutU64(&b, (uint64_t)m.idMs);
            swBufPutU64(&b, m.idSeq);
            swBufPutU64(&b, (uint64_t)m.expiresMs);
        }
    }
    if (swBufFailed(&b)) {
        swBufFree(&b);
        return SW_ERR_NOMEM;
    }
    *buf = b.data;
    *len = b.len;
    return SW_OK;
}

/* The optional dedup section: the duplicates counter and the remembered MSGIDs. */
static swStatus decodeDedup(swReader *rd, swTable *t, swError *e) {
    t->stats.duplicates = swReadU64(rd);
    uint32_t n = swReadU32(rd);
    if (swReaderFailed(rd)) return SW_OK; /* the caller reports it truncated */
    if (t->stats.duplicates == 0 && n == 0)
        return swErrorSet(e, SW_ERR_CORRUPT, 0, "empty dedup section"); /* never written */
    if (n && (t->dedup = swDedupNew()) == NULL)
        return swErrorSet(e, SW_ERR_NOMEM, 0, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        swDedupEntry m;
        m.msgid = swReadStr(rd, SW_DEDUP_KEY_MAX, &m.len);
        uint64_t idMs = swReadU64(rd);
        m.idSeq = swReadU64(rd);
        m.expiresMs = (int64_t)swReadU64(rd);
        if (swReaderFailed(rd)) return SW_OK;
        if (idMs > (uint64_t)SW_TABLE_CLOCK_MAX_MS)
            return swErrorSet(e, SW_ERR_CORRUPT, 0, "msgid %u: id out of range", i);
        m.idMs = (int64_t)idMs;
        swStatus st = swDedupAppend(t->dedup, &m);
        if (st == SW_ERR_NOMEM) return swErrorSet(e, SW_ERR_NOMEM, 0, "out of memory");
        if (st != SW_OK)
            return swErrorSet(e, SW_ERR_CORRUPT, 0, "msgid %u: empty, too long or repeated", i);
    }
    return SW_OK;
}

swStatus swTableDecode(const char *buf, size_t len, size_t maxTypeBytes, swTable **out,
                       swError *err) {
    swReader rd;
    swError e;
    swStatus st = SW_ERR_CORRUPT;
    swReaderInit(&rd, buf, len);
    uint8_t version = swReadU8(&rd);
    if (!swReaderFailed(&rd) && version != SW_TABLE_FORMAT) {
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "unknown routing table format %u", version);
    }
    swTable *t = swTableNew();
    if (t == NULL) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    t->lastId = swReadU64(&rd);
    if (t->lastId > SW_TABLE_MAX_ID) {
        swErrorSet(&e, SW_ERR_CORRUPT, 0, "last id %llu out of range",
                   (unsigned long long)t->lastId);
        goto fail;
    }
    uint64_t clockMs = swReadU64(&rd);
    t->clockSeq = swReadU64(&rd);
    if (clockMs > (uint64_t)SW_TABLE_CLOCK_MAX_MS) {
        /* Negative clocks read as huge unsigned values and are refused here too. */
        swErrorSet(&e, SW_ERR_CORRUPT, 0, "id clock %lld out of range", (long long)clockMs);
        goto fail;
    }
    t->clockMs = (int64_t)clockMs;
    swTableStats *s = &t->stats;
    uint64_t *stats[6] = {&s->published, &s->delivered,    &s->rejected,
                          &s->unrouted,  &s->deadlettered, &s->shed};
    for (int i = 0; i < 6; i++) *stats[i] = swReadU64(&rd);
    size_t dlen;
    const char *dflt = swReadStr(&rd, SW_TABLE_MAX_TARGET, &dlen);
    if (dflt && dlen && (st = swTableSetDefault(t, dflt, dlen, &e)) != SW_OK) goto fail;
    st = SW_ERR_CORRUPT;

    uint64_t prevId = 0;
    uint32_t n = swReadU32(&rd);
    for (uint32_t i = 0; i < n && !swReaderFailed(&rd); i++) {
        uint64_t id = swReadU64(&rd);
        uint8_t kind = swReadU8(&rd), pmin = swReadU8(&rd), pmax = swReadU8(&rd);
        size_t plen, tlen;
        const char *pattern = swReadStr(&rd, SW_TABLE_MAX_PATTERN, &plen);
        const char *target = swReadStr(&rd, SW_TABLE_MAX_TARGET, &tlen);
        uint64_t c[5];
        for (int k = 0; k < 5; k++) c[k] = swReadU64(&rd);
        uint8_t breaker = swReadU8(&rd);
        uint32_t failures = swReadU32(&rd);
        uint64_t openedMs = swReadU64(&rd);
        if (swReaderFailed(&rd)) break;
        if (id <= prevId || id > t->lastId || kind > SW_ROUTE_REGEX ||
            breaker > SW_BREAKER_HALF_OPEN) {
            swErrorSet(&e, SW_ERR_CORRUPT, 0, "route %llu: bad id, kind or breaker state",
                       (unsigned long long)id);
            goto fail;
        }
        /* A breaker opens at a publish's time, a clock value. (One after the table's clock
         * or the server's is still safe: the breaker counts it as cooled down.) */
        if (openedMs > (uint64_t)SW_TABLE_CLOCK_MAX_MS) {
            swErrorSet(&e, SW_ERR_CORRUPT, 0, "route %llu: breaker opened at %lld, out of range",
                       (unsigned long long)id, (long long)openedMs);
            goto fail;
        }
        swRoute *r = NULL;
        st = swRouteNew(id, pattern, plen, target, tlen, (swRouteKind)kind, pmin, pmax,
                        maxTypeBytes, &r, &e);
        if (st != SW_OK) goto fail;
        r->c = (swRouteCounters){c[0], c[1], c[2], c[3], c[4]};
        r->breaker = (swBreaker)breaker;
        r->failures = failures;
        r->openedMs = (int64_t)openedMs;
        if (swTableInsertRoute(t, r) != SW_OK) {
            swRouteFree(r);
            st = swErrorSet(&e, SW_ERR_NOMEM, 0, "out of memory");
            goto fail;
        }
        prevId = id;
    }
    n = swReadU32(&rd);
    prevId = 0;
    for (uint32_t i = 0; i < n && !swReaderFailed(&rd); i++) {
        uint64_t id = swReadU64(&rd);
        uint8_t action = swReadU8(&rd);
        size_t rlen;
        const char *regex = swReadStr(&rd, SW_TABLE_MAX_PATTERN, &rlen);
        uint64_t hits = swReadU64(&rd);
        if (swReaderFailed(&rd)) break;
        if (id <= prevId || id > t->lastId || action > SW_RULE_DENY || swTableRoute(t, id)) {
            swErrorSet(&e, SW_ERR_CORRUPT, 0, "rule %llu: bad id or action",
                       (unsigned long long)id);
            goto fail;
        }
        swRule *r = NULL;
        if ((st = swRuleNew(id, (swRuleAction)action, regex, rlen, &r, &e)) != SW_OK) goto fail;
        r->hits = hits;
        if (swTableInsertRule(t, r) != SW_OK) {
            swRuleFree(r);
            st = swErrorSet(&e, SW_ERR_NOMEM, 0, "out of memory");
            goto fail;
        }
        prevId = id;
    }
    if (!swReaderFailed(&rd) && !swReaderAtEnd(&rd) && (st = decodeDedup(&rd, t, &e)) != SW_OK)
        goto fail;
    if (!swReaderAtEnd(&rd)) {
        st = swErrorSet(&e, SW_ERR_CORRUPT, 0, "%s",
                        swReaderFailed(&rd) ? "truncated routing table" : "trailing bytes");
        goto fail;
    }
    *out = t;
    return SW_OK;

fail:
    swTableFree(t);
    if (st == SW_ERR_NOMEM) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    return swErrorSet(err, SW_ERR_CORRUPT, 0, "corrupt routing table: %s", e.msg);
}
