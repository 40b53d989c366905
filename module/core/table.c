/* table.c -- the routing table (see table.h).
 *
 * Layout of the serialized form (all integers little-endian), format version 1:
 *
 *   u8 version | u64 lastId | u64 clockMs | u64 clockSeq | 6 x u64 stats
 *   str default (length 0: none)
 *   u32 nroutes, then per route: u64 id | u8 kind | u8 pmin | u8 pmax | str pattern |
 *       str target | 5 x u64 counters | u8 breaker | u32 failures | u64 openedMs
 *   u32 nrules, then per rule: u64 id | u8 action | str regex | u64 hits
 *
 * where str is a u32 length and the bytes. */
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/event.h"
#include "swarm/table.h"

#define SW_TABLE_FORMAT 1
#define SW_CACHE_MAX 1024 /* resolutions cached per table before the cache is reset */

/* ---- Resolution cache ---- */

typedef struct swCacheEntry {
    char *type; /* NULL: free slot */
    size_t len;
    uint64_t hash;
    swResolution res;
} swCacheEntry;

struct swTableCache {
    swCacheEntry *slots;
    size_t cap, used;
    size_t bytes;
};

static uint64_t typeHash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void cacheClear(swTableCache *c) {
    if (c == NULL) return;
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slots[i].type) {
            swFree(c->slots[i].type);
            swFree(c->slots[i].res.routes);
        }
    }
    swFree(c->slots);
    memset(c, 0, sizeof(*c));
}

static void cacheInvalidate(swTable *t) {
    cacheClear(t->cache);
}

/* ---- Routes and rules ---- */

static void routeFree(swRoute *r) {
    if (r == NULL) return;
    swFree(r->pattern);
    swFree(r->target);
    swRegexFree(r->re);
    swFree(r);
}

static void ruleFree(swRule *r) {
    if (r == NULL) return;
    swFree(r->regex);
    swRegexFree(r->re);
    swFree(r);
}

swTable *swTableNew(void) {
    swTable *t = swCalloc(1, sizeof(*t));
    if (t == NULL) return NULL;
    t->trie = swTrieNew();
    t->cache = swCalloc(1, sizeof(*t->cache));
    if (t->trie == NULL || t->cache == NULL) {
        swTableFree(t);
        return NULL;
    }
    return t;
}

void swTableFree(swTable *t) {
    if (t == NULL) return;
    for (size_t i = 0; i < t->nroutes; i++) routeFree(t->routes[i]);
    for (size_t i = 0; i < t->nrules; i++) ruleFree(t->rules[i]);
    swFree(t->routes);
    swFree(t->regexRoutes);
    swFree(t->rules);
    swTrieFree(t->trie);
    swFree(t->deflt);
    cacheClear(t->cache);
    swFree(t->cache);
    swFree(t);
}

int swTableIsEmpty(const swTable *t) {
    return t->nroutes == 0 && t->nrules == 0 && t->deflt == NULL;
}

swStatus swTargetCheck(const char *target, size_t len, swTargetKind *kind, size_t *nameOff,
                       swError *err) {
    static const struct {
        const char *prefix;
        size_t len;
        swTargetKind kind;
    } kinds[] = {{"channel:", 8, SW_TARGET_CHANNEL}, {"stream:", 7, SW_TARGET_STREAM}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (len > kinds[i].len && memcmp(target, kinds[i].prefix, kinds[i].len) == 0) {
            if (kind) *kind = kinds[i].kind;
            if (nameOff) *nameOff = kinds[i].len;
            if (len > SW_TABLE_MAX_TARGET) {
                return swErrorSet(err, SW_ERR_SYNTAX, 0, "target is longer than %d bytes",
                                  SW_TABLE_MAX_TARGET);
            }
            return SW_OK;
        }
    }
    return swErrorSet(err, SW_ERR_SYNTAX, 0,
                      "invalid target '%.*s', expected channel:<name> or stream:<key>",
                      (int)(len < 128 ? len : 128), target);
}

/* Binary search over an id-sorted array of pointers to structs whose first field is id. */
#define FIND_BY_ID(arr, n, key)                                                                \
    do {                                                                                       \
        size_t lo_ = 0, hi_ = (n);                                                             \
        while (lo_ < hi_) {                                                                    \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                                               \
            if ((arr)[mid_]->id == (key)) return (arr)[mid_];                                  \
            if ((arr)[mid_]->id < (key))                                                       \
                lo_ = mid_ + 1;                                                                \
            else                                                                               \
                hi_ = mid_;                                                                    \
        }                                                                                      \
        return NULL;                                                                           \
    } while (0)

swRoute *swTableRoute(const swTable *t, uint64_t id) {
    FIND_BY_ID(t->routes, t->nroutes, id);
}

swRule *swTableRule(const swTable *t, uint64_t id) {
    FIND_BY_ID(t->rules, t->nrules, id);
}

/* Makes room for one more pointer in a growable array. */
static swStatus reserve(void ***arr, size_t n, size_t *cap) {
    if (n < *cap) return SW_OK;
    size_t ncap = *cap ? *cap * 2 : 8;
    void **a = swRealloc(*arr, ncap * sizeof(void *));
    if (a == NULL) return SW_ERR_NOMEM;
    *arr = a;
    *cap = ncap;
    return SW_OK;
}

static swRoute *findIdenticalRoute(const swTable *t, const char *pattern, size_t plen,
                                   const char *target, size_t tlen, swRouteKind kind, int pmin,
                                   int pmax) {
    if (kind == SW_ROUTE_SUBJECT) {
        size_t n;
        const uint64_t *ids = swTrieExact(t->trie, pattern, plen, &n);
        for (size_t i = 0; i < n; i++) {
            swRoute *r = swTableRoute(t, ids[i]);
            if (r && r->targetLen == tlen && memcmp(r->target, target, tlen) == 0 &&
                r->pmin == pmin && r->pmax == pmax)
                return r;
        }
        return NULL;
    }
    for (size_t i = 0; i < t->nregex; i++) {
        swRoute *r = t->regexRoutes[i];
        if (r->patternLen == plen && memcmp(r->pattern, pattern, plen) == 0 &&
            r->targetLen == tlen && memcmp(r->target, target, tlen) == 0 && r->pmin == pmin &&
            r->pmax == pmax)
            return r;
    }
    return NULL;
}

/* Builds a route with the given id (validating everything) without inserting it. */
static swStatus routeNew(uint64_t id, const char *pattern, size_t plen, const char *target,
                         size_t tlen, swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes,
                         swRoute **out, swError *err) {
    swStatus st;
    if (pmin < 1 || pmax > 9 || pmin > pmax) {
        return swErrorSet(err, SW_ERR_RANGE, 0,
                          "PRIORITY range %d..%d is invalid, expected 1 <= min <= max <= 9",
                          pmin, pmax);
    }
    if ((st = swTargetCheck(target, tlen, NULL, NULL, err)) != SW_OK) return st;
    swRegex *re = NULL;
    if (kind == SW_ROUTE_SUBJECT) {
        if ((st = swPatternCheck(pattern, plen, maxTypeBytes, err)) != SW_OK) return st;
    } else {
        if (plen > SW_TABLE_MAX_PATTERN) {
            return swErrorSet(err, SW_ERR_SYNTAX, 0, "regex is longer than %d bytes",
                              SW_TABLE_MAX_PATTERN);
        }
        if ((st = swRegexCompile(pattern, plen, &re, err)) != SW_OK) return st;
    }
    swRoute *r = swCalloc(1, sizeof(*r));
    if (r) {
        r->re = re;
        r->pattern = swMemdup(pattern, plen);
        r->target = swMemdup(target, tlen);
    }
    if (r == NULL || r->pattern == NULL || r->target == NULL) {
        if (r == NULL) swRegexFree(re);
        routeFree(r);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    r->id = id;
    r->patternLen = plen;
    r->targetLen = tlen;
    r->kind = kind;
    r->pmin = pmin;
    r->pmax = pmax;
    *out = r;
    return SW_OK;
}

/* Appends a route whose id is above every id in the table. */
static swStatus routeInsert(swTable *t, swRoute *r) {
    if (reserve((void ***)&t->routes, t->nroutes, &t->capRoutes) != SW_OK) return SW_ERR_NOMEM;
    if (r->kind == SW_ROUTE_REGEX) {
        if (reserve((void ***)&t->regexRoutes, t->nregex, &t->capRegex) != SW_OK)
            return SW_ERR_NOMEM;
        t->regexRoutes[t->nregex++] = r;
    } else if (swTrieInsert(t->trie, r->pattern, r->patternLen, r->id) != SW_OK) {
        return SW_ERR_NOMEM;
    }
    t->routes[t->nroutes++] = r;
    return SW_OK;
}

/* Removes p from an array of pointers, keeping the order. */
static void removePtr(void **arr, size_t *n, const void *p) {
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == p) {
            memmove(arr + i, arr + i + 1, (*n - i - 1) * sizeof(*arr));
            (*n)--;
            return;
        }
    }
}

swStatus swTableAddRoute(swTable *t, const char *pattern, size_t plen, const char *target,
                         size_t tlen, swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes,
                         uint64_t *id, int *created, swError *err) {
    if (t->lastId >= (uint64_t)INT64_MAX)
        return swErrorSet(err, SW_ERR_LIMIT, 0, "the table has used up its route and rule ids");
    swRoute *r;
    swStatus st =
        routeNew(t->lastId + 1, pattern, plen, target, tlen, kind, pmin, pmax, maxTypeBytes, &r, err);
    if (st != SW_OK) return st;
    swRoute *same = findIdenticalRoute(t, pattern, plen, target, tlen, kind, pmin, pmax);
    if (same) {
        routeFree(r);
        *id = same->id;
        *created = 0;
        return SW_OK;
    }
    if (routeInsert(t, r) != SW_OK) {
        routeFree(r);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    cacheInvalidate(t);
    t->lastId = r->id;
    *id = r->id;
    *created = 1;
    return SW_OK;
}

static swStatus ruleNew(uint64_t id, swRuleAction action, const char *regex, size_t len,
                        swRule **out, swError *err) {
    if (len > SW_TABLE_MAX_PATTERN) {
        return swErrorSet(err, SW_ERR_SYNTAX, 0, "regex is longer than %d bytes",
                          SW_TABLE_MAX_PATTERN);
    }
    swRegex *re;
    swStatus st = swRegexCompile(regex, len, &re, err);
    if (st != SW_OK) return st;
    swRule *r = swCalloc(1, sizeof(*r));
    if (r == NULL || (r->regex = swMemdup(regex, len)) == NULL) {
        swFree(r);
        swRegexFree(re);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    r->id = id;
    r->action = action;
    r->regexLen = len;
    r->re = re;
    *out = r;
    return SW_OK;
}

static swStatus ruleInsert(swTable *t, swRule *r) {
    if (reserve((void ***)&t->rules, t->nrules, &t->capRules) != SW_OK) return SW_ERR_NOMEM;
    t->rules[t->nrules++] = r;
    if (r->action == SW_RULE_ALLOW) t->nallow++;
    return SW_OK;
}

swStatus swTableAddRule(swTable *t, swRuleAction action, const char *regex, size_t len,
                        uint64_t *id, int *created, swError *err) {
    if (t->lastId >= (uint64_t)INT64_MAX)
        return swErrorSet(err, SW_ERR_LIMIT, 0, "the table has used up its route and rule ids");
    swRule *r;
    swStatus st = ruleNew(t->lastId + 1, action, regex, len, &r, err);
    if (st != SW_OK) return st;
    for (size_t i = 0; i < t->nrules; i++) {
        swRule *o = t->rules[i];
        if (o->action == action && o->regexLen == len && memcmp(o->regex, regex, len) == 0) {
            ruleFree(r);
            *id = o->id;
            *created = 0;
            return SW_OK;
        }
    }
    if (ruleInsert(t, r) != SW_OK) {
        ruleFree(r);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    cacheInvalidate(t);
    t->lastId = r->id;
    *id = r->id;
    *created = 1;
    return SW_OK;
}

size_t swTableDel(swTable *t, const uint64_t *ids, size_t n) {
    size_t removed = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < t->nroutes; i++) {
            swRoute *r = t->routes[i];
            if (r->id != ids[k]) continue;
            if (r->kind == SW_ROUTE_SUBJECT) {
                swTrieRemove(t->trie, r->pattern, r->patternLen, r->id);
            } else {
                removePtr((void **)t->regexRoutes, &t->nregex, r);
            }
            memmove(t->routes + i, t->routes + i + 1, (t->nroutes - i - 1) * sizeof(*t->routes));
            t->nroutes--;
            routeFree(r);
            removed++;
            break;
        }
        for (size_t i = 0; i < t->nrules; i++) {
            swRule *r = t->rules[i];
            if (r->id != ids[k]) continue;
            if (r->action == SW_RULE_ALLOW) t->nallow--;
            memmove(t->rules + i, t->rules + i + 1, (t->nrules - i - 1) * sizeof(*t->rules));
            t->nrules--;
            ruleFree(r);
            removed++;
            break;
        }
    }
    if (removed) cacheInvalidate(t);
    return removed;
}

swStatus swTableSetDefault(swTable *t, const char *target, size_t len, swError *err) {
    char *copy = NULL;
    if (target) {
        swStatus st = swTargetCheck(target, len, NULL, NULL, err);
        if (st != SW_OK) return st;
        if ((copy = swMemdup(target, len)) == NULL)
            return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    swFree(t->deflt);
    t->deflt = copy;
    t->defltLen = target ? len : 0;
    return SW_OK;
}

/* ---- Resolution ---- */

static int idCmp(const void *a, const void *b) {
    const swRoute *x = *(swRoute *const *)a, *y = *(swRoute *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Computes a resolution from scratch into res (routes array swAlloc'ed). */
static swStatus resolveSlow(swTable *t, const char *type, size_t len, swResolution *res) {
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < t->nrules; i++) {
        swRule *r = t->rules[i];
        if (r->action == SW_RULE_DENY ? res->denyRule != NULL : res->allowRule != NULL) continue;
        int m = swRegexMatch(r->re, type, len);
        /* A rule that cannot decide (match limit) fails closed: it denies, never allows. */
        if (r->action == SW_RULE_DENY && m != 0) res->denyRule = r;
        if (r->action == SW_RULE_ALLOW && m > 0) res->allowRule = r;
    }
    res->admitted = res->denyRule == NULL && (t->nallow == 0 || res->allowRule != NULL);

    swIdVec ids = {0};
    swStatus st = swTrieMatch(t->trie, type, len, &ids);
    size_t cap = ids.len + 4, n = 0;
    swRoute **routes = st == SW_OK ? swAlloc(cap * sizeof(*routes)) : NULL;
    if (routes == NULL) {
        swIdVecFree(&ids);
        return SW_ERR_NOMEM;
    }
    for (size_t i = 0; i < ids.len; i++) {
        swRoute *r = swTableRoute(t, ids.ids[i]);
        if (r) routes[n++] = r;
    }
    swIdVecFree(&ids);
    int sorted = 1;
    for (size_t i = 0; i < t->nregex; i++) {
        swRoute *r = t->regexRoutes[i];
        if (swRegexMatch(r->re, type, len) <= 0) continue;
        if (n == cap) {
            swRoute **more = swRealloc(routes, (cap *= 2) * sizeof(*routes));
            if (more == NULL) {
                swFree(routes);
                return SW_ERR_NOMEM;
            }
            routes = more;
        }
        routes[n++] = r;
        sorted = 0;
    }
    if (!sorted || n > 1) qsort(routes, n, sizeof(*routes), idCmp);
    res->routes = routes;
    res->nroutes = n;
    return SW_OK;
}

static swStatus cacheGrow(swTableCache *c) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    swCacheEntry *slots = swCalloc(cap, sizeof(*slots));
    if (slots == NULL) return SW_ERR_NOMEM;
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slots[i].type == NULL) continue;
        size_t j = c->slots[i].hash & (cap - 1);
        while (slots[j].type) j = (j + 1) & (cap - 1);
        slots[j] = c->slots[i];
    }
    c->bytes += (cap - c->cap) * sizeof(*slots);
    swFree(c->slots);
    c->slots = slots;
    c->cap = cap;
    return SW_OK;
}

swStatus swTableResolve(swTable *t, const char *type, size_t len, const swResolution **out) {
    swTableCache *c = t->cache;
    uint64_t h = typeHash(type, len);
    if (c->cap) {
        for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
            swCacheEntry *e = &c->slots[i];
            if (e->type == NULL) break;
            if (e->hash == h && e->len == len && memcmp(e->type, type, len) == 0) {
                *out = &e->res;
                return SW_OK;
            }
        }
    }
    if (c->used >= SW_CACHE_MAX) cacheClear(c);
    if ((c->used + 1) * 2 > c->cap && cacheGrow(c) != SW_OK) return SW_ERR_NOMEM;
    swResolution res;
    if (resolveSlow(t, type, len, &res) != SW_OK) return SW_ERR_NOMEM;
    char *copy = swMemdup(type, len);
    if (copy == NULL) {
        swFree(res.routes);
        return SW_ERR_NOMEM;
    }
    size_t i = h & (c->cap - 1);
    while (c->slots[i].type) i = (i + 1) & (c->cap - 1);
    c->slots[i] = (swCacheEntry){copy, len, h, res};
    c->used++;
    c->bytes += len + 1 + (res.nroutes + 4) * sizeof(swRoute *);
    *out = &c->slots[i].res;
    return SW_OK;
}

size_t swResolutionTargets(const swResolution *res, int priority, swRoute **out) {
    size_t n = 0;
    for (size_t i = 0; i < res->nroutes; i++) {
        swRoute *r = res->routes[i];
        if (priority < r->pmin || priority > r->pmax) continue;
        size_t k = 0;
        while (k < n && !(out[k]->targetLen == r->targetLen &&
                          memcmp(out[k]->target, r->target, r->targetLen) == 0))
            k++;
        if (k == n) out[n++] = r;
    }
    return n;
}

void swTableNextId(swTable *t, int64_t nowMs, int64_t *ms, uint64_t *seq) {
    if (nowMs > t->clockMs) {
        t->clockMs = nowMs;
        t->clockSeq = 0;
    } else if (t->clockSeq == UINT64_MAX) {
        /* The millisecond's sequence is exhausted: borrow the next one, as Redis streams do. */
        t->clockMs++;
        t->clockSeq = 0;
    } else {
        t->clockSeq++;
    }
    *ms = t->clockMs;
    *seq = t->clockSeq;
}

/* ---- Breaker ---- */

int swRouteAttempt(swRoute *r, int priority, int64_t nowMs, int64_t cooldownMs) {
    if (r->breaker == SW_BREAKER_OPEN && nowMs - r->openedMs >= cooldownMs) {
        r->breaker = SW_BREAKER_HALF_OPEN;
    }
    return r->breaker != SW_BREAKER_OPEN || priority >= 8;
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

/* ---- Serialization ---- */

swStatus swTableEncode(const swTable *t, char **buf, size_t *len) {
    swBuf b = {0};
    swBufPutU8(&b, SW_TABLE_FORMAT);
    swBufPutU64(&b, t->lastId);
    swBufPutU64(&b, (uint64_t)t->clockMs);
    swBufPutU64(&b, t->clockSeq);
    const swTableStats *s = &t->stats;
    uint64_t stats[6] = {s->published, s->delivered, s->rejected, s->unrouted, s->deadlettered,
                         s->shed};
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
    if (swBufFailed(&b)) {
        swBufFree(&b);
        return SW_ERR_NOMEM;
    }
    *buf = b.data;
    *len = b.len;
    return SW_OK;
}

swStatus swTableDecode(const char *buf, size_t len, swTable **out, swError *err) {
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
    if (t->lastId > (uint64_t)INT64_MAX) {
        swErrorSet(&e, SW_ERR_CORRUPT, 0, "last id %llu out of range",
                   (unsigned long long)t->lastId);
        goto fail;
    }
    t->clockMs = (int64_t)swReadU64(&rd);
    t->clockSeq = swReadU64(&rd);
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
        int64_t openedMs = (int64_t)swReadU64(&rd);
        if (swReaderFailed(&rd)) break;
        if (id <= prevId || id > t->lastId || kind > SW_ROUTE_REGEX ||
            breaker > SW_BREAKER_HALF_OPEN) {
            swErrorSet(&e, SW_ERR_CORRUPT, 0, "route %llu: bad id, kind or breaker state",
                       (unsigned long long)id);
            goto fail;
        }
        swRoute *r;
        st = routeNew(id, pattern, plen, target, tlen, (swRouteKind)kind, pmin, pmax,
                      SW_TABLE_MAX_PATTERN, &r, &e);
        if (st != SW_OK) goto fail;
        r->c = (swRouteCounters){c[0], c[1], c[2], c[3], c[4]};
        r->breaker = (swBreaker)breaker;
        r->failures = failures;
        r->openedMs = openedMs;
        if (routeInsert(t, r) != SW_OK) {
            routeFree(r);
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
        swRule *r;
        if ((st = ruleNew(id, (swRuleAction)action, regex, rlen, &r, &e)) != SW_OK) goto fail;
        r->hits = hits;
        if (ruleInsert(t, r) != SW_OK) {
            ruleFree(r);
            st = swErrorSet(&e, SW_ERR_NOMEM, 0, "out of memory");
            goto fail;
        }
        prevId = id;
    }
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

size_t swTableMemUsage(const swTable *t) {
    size_t bytes =
        sizeof(*t) + (t->capRoutes + t->capRegex + t->capRules) * sizeof(void *) + t->defltLen;
    for (size_t i = 0; i < t->nroutes; i++) {
        const swRoute *r = t->routes[i];
        bytes += sizeof(*r) + r->patternLen + r->targetLen + 2;
        if (r->re) bytes += swRegexMemUsage(r->re);
    }
    for (size_t i = 0; i < t->nrules; i++) {
        bytes += sizeof(*t->rules[i]) + t->rules[i]->regexLen + 1 + swRegexMemUsage(t->rules[i]->re);
    }
    return bytes + swTrieMemUsage(t->trie) + sizeof(*t->cache) + t->cache->bytes;
}
