/* resolve.c -- resolution of event types and its per-table cache (see resolve.h). */
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/resolve.h"
#include "table_internal.h"

#define SW_CACHE_MAX 1024 /* resolutions cached per table before the cache is reset */

/* ---- The cache: open addressing over the type's hash ---- */

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

void swTableCacheClear(swTableCache *c) {
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

swTableCache *swTableCacheNew(void) {
    return swCalloc(1, sizeof(swTableCache));
}

void swTableCacheFree(swTableCache *c) {
    swTableCacheClear(c);
    swFree(c);
}

size_t swTableCacheMemUsage(const swTableCache *c) {
    return sizeof(*c) + c->bytes;
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
    if (c->used >= SW_CACHE_MAX) swTableCacheClear(c);
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

swStatus swResolutionDenied(const swResolution *res, const char *type, size_t len, swError *err) {
    int n = (int)(len < 128 ? len : 128);
    if (res->denyRule) {
        return swErrorSet(err, SW_ERR_DENIED, 0, "event type '%.*s' is denied by rule %llu", n,
                          type, (unsigned long long)res->denyRule->id);
    }
    return swErrorSet(err, SW_ERR_DENIED, 0, "event type '%.*s' matches no ALLOW rule of the table",
                      n, type);
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
