/* table.h -- a swarm's routing table (the value of a swarm-rtb key).
 *
 * A table holds routes (subject patterns in a token trie, regex routes in id order),
 * ALLOW/DENY admission rules, an optional default (dead-letter) target, counters and the
 * message id clock. Ids are positive, shared by routes and rules, never reused: lastId only
 * grows. Routes and rules are kept sorted by id.
 *
 * Resolution of an event type (admission verdict and matching routes) is cached per type;
 * every change to routes or rules drops the cache, so callers never see stale routes. The
 * route and rule pointers handed out stay valid until the next change to the table.
 *
 * Callers read the struct fields directly but change a table only through these functions. */
#ifndef SWARM_TABLE_H
#define SWARM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/regex.h"
#include "swarm/status.h"
#include "swarm/trie.h"

/* Hard cap on pattern and event type sizes in serialized tables, whatever the config. */
#define SW_TABLE_MAX_PATTERN 65536
#define SW_TABLE_MAX_TARGET 65536

typedef enum swRouteKind { SW_ROUTE_SUBJECT = 0, SW_ROUTE_REGEX = 1 } swRouteKind;
typedef enum swBreaker {
    SW_BREAKER_CLOSED = 0,
    SW_BREAKER_OPEN = 1,
    SW_BREAKER_HALF_OPEN = 2
} swBreaker;
typedef enum swRuleAction { SW_RULE_ALLOW = 0, SW_RULE_DENY = 1 } swRuleAction;
typedef enum swTargetKind { SW_TARGET_CHANNEL = 0, SW_TARGET_STREAM = 1 } swTargetKind;

typedef struct swRouteCounters {
    uint64_t matched, delivered, missed, failed, shed;
} swRouteCounters;

typedef struct swRoute {
    uint64_t id;
    char *pattern; /* NUL-terminated copies */
    size_t patternLen;
    char *target;
    size_t targetLen;
    swRouteKind kind;
    int pmin, pmax; /* priority range, 1 <= pmin <= pmax <= 9 */
    swRouteCounters c;
    swBreaker breaker;
    uint32_t failures; /* consecutive missed/failed deliveries */
    int64_t openedMs;  /* when the breaker last opened */
    swRegex *re;       /* regex routes only */
} swRoute;

typedef struct swRule {
    uint64_t id;
    swRuleAction action;
    char *regex;
    size_t regexLen;
    uint64_t hits;
    swRegex *re;
} swRule;

typedef struct swTableStats {
    uint64_t published, delivered, rejected, unrouted, deadlettered, shed;
} swTableStats;

typedef struct swTableCache swTableCache;

typedef struct swTable {
    swRoute **routes; /* sorted by id */
    size_t nroutes, capRoutes;
    swRule **rules; /* sorted by id */
    size_t nrules, capRules;
    size_t nallow; /* how many rules are ALLOW rules */
    swTrie *trie;  /* subject routes */
    swRoute **regexRoutes; /* regex routes, sorted by id (also in routes) */
    size_t nregex, capRegex;
    char *deflt;   /* default target, NULL when none */
    size_t defltLen;
    uint64_t lastId;
    int64_t clockMs; /* last message id issued: <clockMs>-<clockSeq> */
    uint64_t clockSeq;
    swTableStats stats;
    swTableCache *cache;
} swTable;

/* A new empty table, or NULL when out of memory. Free with swTableFree. */
swTable *swTableNew(void);
void swTableFree(swTable *t);

/* 1 when the table holds no routes, rules or default: such a key is deleted. */
int swTableIsEmpty(const swTable *t);

/* Checks a target ("channel:<name>" or "stream:<key>", non-empty name). On success stores
 * the kind and the name's offset in the target when the pointers are not NULL. */
swStatus swTargetCheck(const char *target, size_t len, swTargetKind *kind, size_t *nameOff,
                       swError *err);

/* Adds a route. An identical route (pattern, kind, target and priority range) already in
 * the table leaves it unchanged: *id gets the existing id and *created 0. Validates the
 * pattern (subject syntax against maxTypeBytes, or PCRE2), the target and the range. On
 * error the table is unchanged. */
swStatus swTableAddRoute(swTable *t, const char *pattern, size_t plen, const char *target,
                         size_t tlen, swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes,
                         uint64_t *id, int *created, swError *err);

/* Adds an ALLOW or DENY rule; an identical rule returns its id with *created 0. */
swStatus swTableAddRule(swTable *t, swRuleAction action, const char *regex, size_t len,
                        uint64_t *id, int *created, swError *err);

/* Removes the routes and rules with these ids; returns how many were removed (ids not in
 * the table, or repeated, count once or not at all). */
size_t swTableDel(swTable *t, const uint64_t *ids, size_t n);

/* Sets the default target, or clears it when target is NULL. */
swStatus swTableSetDefault(swTable *t, const char *target, size_t len, swError *err);

/* The route or rule with this id, or NULL. */
swRoute *swTableRoute(const swTable *t, uint64_t id);
swRule *swTableRule(const swTable *t, uint64_t id);

/* The resolution of an event type, valid until the next swTableResolve or change to the
 * table (resolving another type may grow or reset the cache). */
typedef struct swResolution {
    swRule *denyRule;  /* the first DENY rule matching, or NULL */
    swRule *allowRule; /* the first ALLOW rule matching, or NULL */
    int admitted;      /* not denied, and allowed when any ALLOW rule exists */
    swRoute **routes;  /* matching routes in id order (any priority) */
    size_t nroutes;
} swResolution;

/* Resolves an already syntax-checked event type, from the cache when possible. */
swStatus swTableResolve(swTable *t, const char *type, size_t len, const swResolution **res);

/* Stores in out (room for res->nroutes entries) the routes of res whose priority range
 * holds priority, keeping only the first route of each distinct target; returns how many. */
size_t swResolutionTargets(const swResolution *res, int priority, swRoute **out);

/* Issues the next message id for a message published at nowMs: strictly greater than any
 * id issued before, even if the clock went backwards. */
void swTableNextId(swTable *t, int64_t nowMs, int64_t *ms, uint64_t *seq);

/* Serialization (RDB, AOF rewrite, DUMP, COPY). swTableEncode returns a swAlloc'ed buffer
 * the caller frees with swFree. swTableDecode validates everything (lengths, ids, patterns,
 * targets, ranges, enums) and recompiles regexes; on failure returns SW_ERR_CORRUPT or
 * SW_ERR_NOMEM with a message and creates nothing. */
swStatus swTableEncode(const swTable *t, char **buf, size_t *len);
swStatus swTableDecode(const char *buf, size_t len, swTable **out, swError *err);

/* Heap bytes held by the table (for MEMORY USAGE). */
size_t swTableMemUsage(const swTable *t);

/* ---- Circuit breaker (SPEC section 6) ---- */

/* Whether a message of this priority is attempted on the route at nowMs. An open breaker
 * whose cooldown has passed goes half-open and lets this message probe it. */
int swRouteAttempt(swRoute *r, int priority, int64_t nowMs, int64_t cooldownMs);

/* Records a delivery outcome: ok closes the breaker and resets the failure run; a miss or
 * failure extends it and opens the breaker at threshold (or at once when half-open). */
void swRouteOutcome(swRoute *r, int ok, int64_t nowMs, uint32_t threshold);

#endif
