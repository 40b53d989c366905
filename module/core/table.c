/* table.c -- the routing table's routes, rules, default target and id clock (see table.h).
 * Building and inserting routes and rules is shared with the decoder (table_internal.h). */
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/event.h"
#include "swarm/table.h"
#include "table_internal.h"

/* ---- Routes and rules ---- */

void swRouteFree(swRoute *r) {
    if (r == NULL) return;
    swFree(r->pattern);
    swFree(r->target);
    swRegexFree(r->re);
    swFree(r);
}

void swRuleFree(swRule *r) {
    if (r == NULL) return;
    swFree(r->regex);
    swRegexFree(r->re);
    swFree(r);
}

swTable *swTableNew(void) {
    swTable *t = swCalloc(1, sizeof(*t));
    if (t == NULL) return NULL;
    t->trie = swTrieNew();
    t->cache = swTableCacheNew();
    if (t->trie == NULL || t->cache == NULL) {
        swTableFree(t);
        return NULL;
    }
    return t;
}

void swTableFree(swTable *t) {
    if (t == NULL) return;
    for (size_t i = 0; i < t->nroutes; i++) swRouteFree(t->routes[i]);
    for (size_t i = 0; i < t->nrules; i++) swRuleFree(t->rules[i]);
    swFree(t->routes);
    swFree(t->regexRoutes);
    swFree(t->rules);
    swTrieFree(t->trie);
    swFree(t->deflt);
    swTableCacheFree(t->cache);
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
#define FIND_BY_ID(arr, n, key)                                                                    \
    do {                                                                                           \
        size_t lo_ = 0, hi_ = (n);                                                                 \
        while (lo_ < hi_) {                                                                        \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                                                   \
            if ((arr)[mid_]->id == (key)) return (arr)[mid_];                                      \
            if ((arr)[mid_]->id < (key))                                                           \
                lo_ = mid_ + 1;                                                                    \
            else                                                                                   \
                hi_ = mid_;                                                                        \
        }                                                                                          \
        return NULL;                                                                               \
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

swStatus swRouteNew(uint64_t id, const char *pattern, size_t plen, const char *target, size_t tlen,
                    swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes, swRoute **out,
                    swError *err) {
    swStatus st;
    if (pmin < SW_PRIORITY_MIN || pmax > SW_PRIORITY_MAX || pmin > pmax) {
        return swErrorSet(err, SW_ERR_RANGE, 0,
                          "PRIORITY range %d..%d is invalid, expected %d <= min <= max <= %d", pmin,
                          pmax, SW_PRIORITY_MIN, SW_PRIORITY_MAX);
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
        swRouteFree(r);
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

swStatus swTableInsertRoute(swTable *t, swRoute *r) {
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

swStatus swTableAddRoute(swTable *t, const char *pattern, size_t plen, const char *target,
                         size_t tlen, swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes,
                         uint64_t *id, int *created, swError *err) {
    if (t->lastId >= SW_TABLE_MAX_ID)
        return swErrorSet(err, SW_ERR_LIMIT, 0, "the table has used up its route and rule ids");
    swRoute *r = NULL;
    swStatus st = swRouteNew(t->lastId + 1, pattern, plen, target, tlen, kind, pmin, pmax,
                             maxTypeBytes, &r, err);
    if (st != SW_OK) return st;
    swRoute *same = findIdenticalRoute(t, pattern, plen, target, tlen, kind, pmin, pmax);
    if (same) {
        swRouteFree(r);
        *id = same->id;
        *created = 0;
        return SW_OK;
    }
    if (swTableInsertRoute(t, r) != SW_OK) {
        swRouteFree(r);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    swTableCacheClear(t->cache);
    t->lastId = r->id;
    *id = r->id;
    *created = 1;
    return SW_OK;
}

swStatus swRuleNew(uint64_t id, swRuleAction action, const char *regex, size_t len, swRule **out,
                   swError *err) {
    if (len > SW_TABLE_MAX_PATTERN) {
        return swErrorSet(err, SW_ERR_SYNTAX, 0, "regex is longer than %d bytes",
                          SW_TABLE_MAX_PATTERN);
    }
    swRegex *re = NULL;
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

swStatus swTableInsertRule(swTable *t, swRule *r) {
    if (reserve((void ***)&t->rules, t->nrules, &t->capRules) != SW_OK) return SW_ERR_NOMEM;
    t->rules[t->nrules++] = r;
    if (r->action == SW_RULE_ALLOW) t->nallow++;
    return SW_OK;
}

swStatus swTableAddRule(swTable *t, swRuleAction action, const char *regex, size_t len,
                        uint64_t *id, int *created, swError *err) {
    if (t->lastId >= SW_TABLE_MAX_ID)
        return swErrorSet(err, SW_ERR_LIMIT, 0, "the table has used up its route and rule ids");
    swRule *r = NULL;
    swStatus st = swRuleNew(t->lastId + 1, action, regex, len, &r, err);
    if (st != SW_OK) return st;
    for (size_t i = 0; i < t->nrules; i++) {
        swRule *o = t->rules[i];
        if (o->action == action && o->regexLen == len && memcmp(o->regex, regex, len) == 0) {
            swRuleFree(r);
            *id = o->id;
            *created = 0;
            return SW_OK;
        }
    }
    if (swTableInsertRule(t, r) != SW_OK) {
        swRuleFree(r);
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    swTableCacheClear(t->cache);
    t->lastId = r->id;
    *id = r->id;
    *created = 1;
    return SW_OK;
}

/* ---- Deletion ---- */

/* Where the element with this id sits in an id-sorted array of pointers to structs whose
 * first field is their uint64_t id (routes, rules): 1 and *at, or 0. */
static int findIndex(void *const *arr, size_t n, uint64_t id, size_t *at) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = *(const uint64_t *)arr[mid];
        if (v == id) {
            *at = mid;
            return 1;
        }
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Takes route i out of the trie or the regex list and the route array, and frees it. */
static void delRouteAt(swTable *t, size_t i) {
    swRoute *r = t->routes[i];
    if (r->kind == SW_ROUTE_SUBJECT) {
        swTrieRemove(t->trie, r->pattern, r->patternLen, r->id);
    } else {
        size_t k;
        if (findIndex((void *const *)t->regexRoutes, t->nregex, r->id, &k)) {
            memmove(t->regexRoutes + k, t->regexRoutes + k + 1,
                    (t->nregex - k - 1) * sizeof(*t->regexRoutes));
            t->nregex--;
        }
    }
    memmove(t->routes + i, t->routes + i + 1, (t->nroutes - i - 1) * sizeof(*t->routes));
    t->nroutes--;
    swRouteFree(r);
}

static void delRuleAt(swTable *t, size_t i) {
    swRule *r = t->rules[i];
    if (r->action == SW_RULE_ALLOW) t->nallow--;
    memmove(t->rules + i, t->rules + i + 1, (t->nrules - i - 1) * sizeof(*t->rules));
    t->nrules--;
    swRuleFree(r);
}

/* One id at a time: O(log R) to find each, O(R) to close the gap. Used when the marks of
 * the batch path cannot be allocated. */
static size_t delEach(swTable *t, const uint64_t *ids, size_t n) {
    size_t removed = 0, i;
    for (size_t k = 0; k < n; k++) {
        if (findIndex((void *const *)t->routes, t->nroutes, ids[k], &i)) {
            delRouteAt(t, i);
            removed++;
        } else if (findIndex((void *const *)t->rules, t->nrules, ids[k], &i)) {
            delRuleAt(t, i);
            removed++;
        }
    }
    return removed;
}

#define MARK_SET(m, i) ((m)[(i) / 8] |= (unsigned char)(1u << ((i) % 8)))
#define MARK_GET(m, i) (((m)[(i) / 8] >> ((i) % 8)) & 1u)

/* Takes the marked subject routes out of the trie. One by one, each removal scans and moves
 * the ids that share its trie node: cost, summed over the marked routes, counts them. When
 * that would outweigh building a new trie from the routes that stay (many routes on one
 * pattern), the trie is rebuilt instead, unless that runs out of memory. */
static void trieRemoveMarked(swTable *t, const unsigned char *rmark, size_t cost) {
    if (cost > 16 * t->nroutes + 1024) {
        swTrie *fresh = swTrieNew();
        int ok = fresh != NULL;
        for (size_t i = 0; ok && i < t->nroutes; i++) {
            const swRoute *r = t->routes[i];
            if (r->kind == SW_ROUTE_SUBJECT && !MARK_GET(rmark, i))
                ok = swTrieInsert(fresh, r->pattern, r->patternLen, r->id) == SW_OK;
        }
        if (ok) {
            swTrieFree(t->trie);
            t->trie = fresh;
            return;
        }
        swTrieFree(fresh);
    }
    /* The mark first: reading every route would cost a cache miss per route. */
    for (size_t i = 0; i < t->nroutes; i++) {
        if (!MARK_GET(rmark, i)) continue;
        const swRoute *r = t->routes[i];
        if (r->kind == SW_ROUTE_SUBJECT) swTrieRemove(t->trie, r->pattern, r->patternLen, r->id);
    }
}

/* Every id is looked up by binary search and its route or rule marked, then the trie loses
 * the marked subject routes and each array is compacted in one pass: O(N log(R + U) + R + U)
 * for N ids, R routes and U rules, where deleting ids one by one would move the arrays N
 * times. */
size_t swTableDel(swTable *t, const uint64_t *ids, size_t n) {
    if (n == 0 || (t->nroutes == 0 && t->nrules == 0)) return 0;
    size_t rbytes = (t->nroutes + 7) / 8, ubytes = (t->nrules + 7) / 8;
    unsigned char *marks = swCalloc(1, rbytes + ubytes);
    if (marks == NULL) {
        size_t removed = delEach(t, ids, n);
        if (removed) swTableCacheClear(t->cache);
        return removed;
    }
    unsigned char *rmark = marks, *umark = marks + rbytes;
    size_t removed = 0, nregexDead = 0, nsubjectDead = 0, trieCost = 0, i;
    for (size_t k = 0; k < n; k++) {
        if (findIndex((void *const *)t->routes, t->nroutes, ids[k], &i)) {
            if (MARK_GET(rmark, i)) continue;
            MARK_SET(rmark, i);
            swRoute *r = t->routes[i];
            if (r->kind == SW_ROUTE_SUBJECT) {
                size_t shared;
                swTrieExact(t->trie, r->pattern, r->patternLen, &shared);
                trieCost += shared;
                nsubjectDead++;
            } else {
                nregexDead++;
            }
            removed++;
        } else if (findIndex((void *const *)t->rules, t->nrules, ids[k], &i)) {
            if (MARK_GET(umark, i)) continue;
            MARK_SET(umark, i);
            removed++;
        }
    }
    if (removed == 0) {
        swFree(marks);
        return 0;
    }
    if (nsubjectDead) trieRemoveMarked(t, rmark, trieCost);
    /* Regex routes are a subsequence of routes, both sorted by id: one merged walk. */
    if (nregexDead) {
        size_t w = 0, j = 0;
        for (size_t k = 0; k < t->nregex; k++) {
            swRoute *r = t->regexRoutes[k];
            while (t->routes[j] != r) j++;
            if (!MARK_GET(rmark, j)) t->regexRoutes[w++] = r;
        }
        t->nregex = w;
    }
    size_t w = 0;
    for (i = 0; i < t->nroutes; i++) {
        if (MARK_GET(rmark, i)) {
            swRouteFree(t->routes[i]);
        } else {
            t->routes[w++] = t->routes[i];
        }
    }
    t->nroutes = w;
    w = 0;
    for (i = 0; i < t->nrules; i++) {
        if (MARK_GET(umark, i)) {
            if (t->rules[i]->action == SW_RULE_ALLOW) t->nallow--;
            swRuleFree(t->rules[i]);
        } else {
            t->rules[w++] = t->rules[i];
        }
    }
    t->nrules = w;
    swFree(marks);
    swTableCacheClear(t->cache);
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

/* ---- Message id clock ---- */

swStatus swTableNextId(swTable *t, int64_t nowMs, int64_t *ms, uint64_t *seq) {
    if (nowMs > SW_TABLE_CLOCK_MAX_MS) nowMs = SW_TABLE_CLOCK_MAX_MS;
    if (nowMs > t->clockMs) {
        t->clockMs = nowMs;
        t->clockSeq = 0;
    } else if (t->clockSeq < UINT64_MAX) {
        t->clockSeq++;
    } else if (t->clockMs < SW_TABLE_CLOCK_MAX_MS) {
        /* The millisecond's sequence is exhausted: borrow the next one, as Redis streams do. */
        t->clockMs++;
        t->clockSeq = 0;
    } else {
        return SW_ERR_LIMIT;
    }
    *ms = t->clockMs;
    *seq = t->clockSeq;
    return SW_OK;
}

/* ---- Memory ---- */

/* What a block really occupies; 0 for NULL. */
static size_t blockSize(const void *p, size_t requested) {
    return p ? swAllocSize((void *)p, requested) : 0;
}

size_t swTableMemUsage(const swTable *t) {
    size_t bytes = blockSize(t, sizeof(*t)) + blockSize(t->routes, t->capRoutes * sizeof(void *)) +
                   blockSize(t->regexRoutes, t->capRegex * sizeof(void *)) +
                   blockSize(t->rules, t->capRules * sizeof(void *)) +
                   blockSize(t->deflt, t->defltLen + 1);
    for (size_t i = 0; i < t->nroutes; i++) {
        const swRoute *r = t->routes[i];
        bytes += blockSize(r, sizeof(*r)) + blockSize(r->pattern, r->patternLen + 1) +
                 blockSize(r->target, r->targetLen + 1);
        if (r->re) bytes += swRegexMemUsage(r->re);
    }
    for (size_t i = 0; i < t->nrules; i++) {
        const swRule *r = t->rules[i];
        bytes += blockSize(r, sizeof(*r)) + blockSize(r->regex, r->regexLen + 1) +
                 swRegexMemUsage(r->re);
    }
    return bytes + swTrieMemUsage(t->trie) + swTableCacheMemUsage(t->cache);
}
