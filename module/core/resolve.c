/* resolve.c -- resolution of event types and its per-table cache (see resolve.h).
 *
 * A resolution's arrays live in one block: the routes, then their target numbers. The cache counts
 * what the allocator really holds for every block it owns (swAllocSize), so its byte bound and
 * MEMORY USAGE agree. */
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/resolve.h"
#include "table_internal.h"

static size_t cacheMaxBytes = SW_RESOLVE_CACHE_BYTES_DEFAULT;

void swResolveSetCacheBytes(size_t bytes) {
    cacheMaxBytes = bytes;
}

size_t swResolveCacheBytes(void) {
    return cacheMaxBytes;
}

/* ---- The cache: open addressing over the type's hash ---- */

typedef struct swCacheEntry {
    char *type; /* NULL: free slot */
    size_t len;
    uint64_t hash;
    size_t bytes; /* the type copy and the resolution's block, as allocated */
    swResolution res;
} swCacheEntry;

struct swTableCache {
    swCacheEntry *slots;
    size_t cap, used;
    size_t bytes; /* slots and entries, as allocated */
    /* The last resolution that was not cached (a regex could not decide, or it alone
     * passes the bound): it must stay valid until the next resolve, like a cached one. */
    swResolution uncached;
    size_t uncachedBytes;
};

static size_t blockSize(const void *p, size_t requested) {
    return p ? swAllocSize((void *)p, requested) : 0;
}

static uint64_t typeHash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void dropUncached(swTableCache *c) {
    swFree(c->uncached.routes);
    memset(&c->uncached, 0, sizeof(c->uncached));
    c->uncachedBytes = 0;
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
    dropUncached(c);
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
    return blockSize(c, sizeof(*c)) + c->bytes + c->uncachedBytes;
}

/* ---- Resolution ---- */

static int idCmp(const void *a, const void *b) {
    const swRoute *x = *(swRoute *const *)a, *y = *(swRoute *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Runs the rules: which DENY and ALLOW rules decide, and whether one could not. SW_ERR_NOMEM
 * when PCRE2 ran out of memory. */
static swStatus admit(swTable *t, const char *type, size_t len, swResolution *res) {
    int denyUndecided = 0;
    swRule *allowLimit = NULL;
    swRegexResult allowLimitResult = SW_REGEX_NOMATCH;
    for (size_t i = 0; i < t->nrules; i++) {
        swRule *r = t->rules[i];
        int deny = r->action == SW_RULE_DENY;
        if (deny ? (res->denyRule != NULL || denyUndecided) : res->allowRule != NULL) continue;
        swRegexResult m = swRegexMatch(r->re, type, len);
        if (m == SW_REGEX_NOMEM) return SW_ERR_NOMEM;
        if (m == SW_REGEX_MATCH) {
            if (deny) {
                res->denyRule = r;
            } else {
                res->allowRule = r;
            }
        } else if (m != SW_REGEX_NOMATCH) {
            /* It cannot decide: a DENY rule refuses with its own error, never silently; an
             * ALLOW rule allows nothing, and says why if no other ALLOW rule matches. */
            res->limitHits++;
            if (deny) {
                denyUndecided = 1;
                res->limitRule = r;
                res->limitResult = m;
            } else if (allowLimit == NULL) {
                allowLimit = r;
                allowLimitResult = m;
            }
        }
    }
    int allowed = t->nallow == 0 || res->allowRule != NULL;
    res->admitted = res->denyRule == NULL && !denyUndecided && allowed;
    if (!denyUndecided && res->denyRule == NULL && !allowed && allowLimit != NULL) {
        res->limitRule = allowLimit;
        res->limitResult = allowLimitResult;
    }
    return SW_OK;
}

/* Numbers the distinct targets of res->routes in order of first appearance, in linear
 * expected time: an open-addressing table of route indexes keyed by the target's bytes. */
static swStatus numberTargets(swResolution *res) {
    size_t n = res->nroutes, cap = 16;
    while (cap < 2 * n) cap *= 2;
    uint32_t *slots = swCalloc(cap, sizeof(*slots)); /* route index + 1; 0: free */
    if (slots == NULL) return SW_ERR_NOMEM;
    uint32_t ntargets = 0;
    for (size_t i = 0; i < n; i++) {
        const swRoute *r = res->routes[i];
        size_t j = typeHash(r->target, r->targetLen) & (cap - 1);
        for (;; j = (j + 1) & (cap - 1)) {
            if (slots[j] == 0) {
                slots[j] = (uint32_t)i + 1;
                res->targetIndex[i] = ntargets++;
                break;
            }
            const swRoute *o = res->routes[slots[j] - 1];
            if (o->targetLen == r->targetLen && memcmp(o->target, r->target, r->targetLen) == 0) {
                res->targetIndex[i] = res->targetIndex[slots[j] - 1];
                break;
            }
        }
    }
    swFree(slots);
    res->ntargets = ntargets;
    return SW_OK;
}

/* Computes a resolution from scratch into res (its block swAlloc'ed: free res->routes). */
static swStatus resolveSlow(swTable *t, const char *type, size_t len, swResolution *res) {
    memset(res, 0, sizeof(*res));
    if (admit(t, type, len, res) != SW_OK) return SW_ERR_NOMEM;

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
    for (size_t i = 0; i < t->nregex; i++) {
        swRoute *r = t->regexRoutes[i];
        swRegexResult m = swRegexMatch(r->re, type, len);
        if (m == SW_REGEX_NOMEM) {
            swFree(routes);
            return SW_ERR_NOMEM;
        }
        if (m != SW_REGEX_MATCH) {
            if (m != SW_REGEX_NOMATCH) res->limitHits++; /* left out, but counted */
            continue;
        }
        if (n == cap) {
            swRoute **more = swRealloc(routes, (cap *= 2) * sizeof(*routes));
            if (more == NULL) {
                swFree(routes);
                return SW_ERR_NOMEM;
            }
            routes = more;
        }
        routes[n++] = r;
    }
    if (n > 1) qsort(routes, n, sizeof(*routes), idCmp);

    /* The one block: n route pointers, n target numbers. */
    char *block = swAlloc(n * (sizeof(swRoute *) + sizeof(uint32_t)));
    if (block == NULL) {
        swFree(routes);
        return SW_ERR_NOMEM;
    }
    res->routes = (swRoute **)block;
    if (n) memcpy(res->routes, routes, n * sizeof(*routes));
    swFree(routes);
    res->nroutes = n;
    res->targetIndex = (uint32_t *)(block + n * sizeof(swRoute *));
    if (numberTargets(res) != SW_OK) {
        swFree(block);
        return SW_ERR_NOMEM;
    }
    return SW_OK;
}

static size_t resolutionBytes(const swResolution *res) {
    return blockSize(res->routes, res->nroutes * (sizeof(swRoute *) + sizeof(uint32_t)));
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
    c->bytes -= blockSize(c->slots, c->cap * sizeof(*slots));
    c->bytes += blockSize(slots, cap * sizeof(*slots));
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
    swResolution res;
    if (resolveSlow(t, type, len, &res) != SW_OK) return SW_ERR_NOMEM;
    size_t bytes = resolutionBytes(&res);
    if (c->cap && c->bytes > cacheMaxBytes) swTableCacheClear(c); /* the bound was lowered */
    char *copy = NULL;
    if (res.limitHits == 0 && cacheMaxBytes > 0) {
        copy = swMemdup(type, len);
        if (copy == NULL) {
            swFree(res.routes);
            return SW_ERR_NOMEM;
        }
        bytes += blockSize(copy, len + 1);
        /* Start over when this entry (and the slots it may need) would pass the bound. */
        size_t slotsNeed = (c->used + 1) * 2 > c->cap ? (c->cap ? c->cap * 2 : 16) : 0;
        if (c->used && c->bytes + bytes + slotsNeed * sizeof(swCacheEntry) > cacheMaxBytes)
            swTableCacheClear(c);
        if ((c->used + 1) * 2 > c->cap && cacheGrow(c) != SW_OK) {
            swFree(copy);
            swFree(res.routes);
            return SW_ERR_NOMEM;
        }
        if (c->bytes + bytes > cacheMaxBytes) {
            /* Alone it passes the bound: kept only until the next resolve. */
            swFree(copy);
            copy = NULL;
            bytes = resolutionBytes(&res);
        }
    }
    dropUncached(c);
    if (copy == NULL) {
        c->uncached = res;
        c->uncachedBytes = bytes;
        *out = &c->uncached;
        return SW_OK;
    }
    size_t i = h & (c->cap - 1);
    while (c->slots[i].type) i = (i + 1) & (c->cap - 1);
    c->slots[i] = (swCacheEntry){copy, len, h, bytes, res};
    c->used++;
    c->bytes += bytes;
    *out = &c->slots[i].res;
    return SW_OK;
}

swStatus swResolutionDenied(const swResolution *res, const char *type, size_t len, swError *err) {
    int n = (int)(len < 128 ? len : 128);
    if (res->limitRule) {
        unsigned long long id = (unsigned long long)res->limitRule->id;
        if (swRegexIsLimit(res->limitResult)) {
            return swErrorSet(err, SW_ERR_LIMIT, 0, "regex rule %llu hit %s", id,
                              swRegexResultText(res->limitResult));
        }
        return swErrorSet(err, SW_ERR_LIMIT, 0, "regex rule %llu failed with %s", id,
                          swRegexResultText(res->limitResult));
    }
    if (res->denyRule) {
        return swErrorSet(err, SW_ERR_DENIED, 0, "event type '%.*s' is denied by rule %llu", n,
                          type, (unsigned long long)res->denyRule->id);
    }
    return swErrorSet(err, SW_ERR_DENIED, 0, "event type '%.*s' matches no ALLOW rule of the table",
                      n, type);
}
