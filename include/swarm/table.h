/* table.h -- a swarm's routing table (the value of a swarm-rtb key): routes and rules.
 *
 * A table holds routes (subject patterns in a token trie, regex routes in id order),
 * ALLOW/DENY admission rules, an optional default (dead-letter) target, counters and the
 * message id clock. Ids are positive, shared by routes and rules, never reused: lastId only
 * grows. Routes and rules are kept sorted by id.
 *
 * The table's concepts live in one file each:
 *
 *   table.h / table.c              routes, rules, default target, id clock (this header)
 *   resolve.h / resolve.c          which routes an event type reaches, cached per type
 *   breaker.h / breaker.c          the per-route circuit breaker
 *   table_codec.h / table_codec.c  the one serialized form (RDB, AOF, DUMP, COPY)
 *   delta.h / delta.c              the effect of one publish: counters, breakers, clock
 *
 * Every change to routes or rules drops the resolution cache, so callers never see stale
 * routes. The route and rule pointers handed out stay valid until the next change to the
 * routes or rules of the table.
 *
 * Callers read the struct fields directly but change a table only through these functions
 * (and those of breaker.h and delta.h). */
#ifndef SWARM_TABLE_H
#define SWARM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/event.h"
#include "swarm/regex.h"
#include "swarm/status.h"
#include "swarm/trie.h"

/* Hard cap on pattern and event type sizes in serialized tables, whatever the config. */
#define SW_TABLE_MAX_PATTERN 65536
#define SW_TABLE_MAX_TARGET 65536
/* Route and rule ids are 1..SW_TABLE_MAX_ID: they travel as Redis integers (long long). */
#define SW_TABLE_MAX_ID ((uint64_t)INT64_MAX)
/* The message id clock (clockMs, and a breaker's openedMs) stays in
 * [0, SW_TABLE_CLOCK_MAX_MS], 9999-12-31T23:59:59.999Z: far beyond any real clock, far
 * below INT64_MAX, so no arithmetic on it overflows. The decoder refuses a table outside. */
#define SW_TABLE_CLOCK_MAX_MS 253402300799999LL

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
    int pmin, pmax; /* priority range, SW_PRIORITY_MIN <= pmin <= pmax <= SW_PRIORITY_MAX */
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

typedef struct swTableCache swTableCache; /* see resolve.h */

typedef struct swTable {
    swRoute **routes; /* sorted by id */
    size_t nroutes, capRoutes;
    swRule **rules; /* sorted by id */
    size_t nrules, capRules;
    size_t nallow;         /* how many rules are ALLOW rules */
    swTrie *trie;          /* subject routes */
    swRoute **regexRoutes; /* regex routes, sorted by id (also in routes) */
    size_t nregex, capRegex;
    char *deflt; /* default target, NULL when none */
    size_t defltLen;
    uint64_t lastId;
    int64_t clockMs; /* last message id issued: <clockMs>-<clockSeq> */
    uint64_t clockSeq;
    swTableStats stats;
    swTableCache *cache;
} swTable;

/* A new empty table, or NULL when out of memory. Free with swTableFree (NULL is a no-op). */
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
 * the table, or repeated, count once or not at all). O(N log(R + U) + R + U) for N ids, R
 * routes and U rules, plus the walk of each removed subject pattern in the trie (when many
 * routes share a pattern, the trie is rebuilt from the routes that stay rather than
 * scanning the shared ids once per removal). Never fails: without memory for its marks it
 * removes one id at a time, O(N (log(R + U) + R + U)), and without memory for a rebuilt
 * trie it removes from the one it has. */
size_t swTableDel(swTable *t, const uint64_t *ids, size_t n);

/* Sets the default target, or clears it when target is NULL. */
swStatus swTableSetDefault(swTable *t, const char *target, size_t len, swError *err);

/* The route or rule with this id, or NULL. */
swRoute *swTableRoute(const swTable *t, uint64_t id);
swRule *swTableRule(const swTable *t, uint64_t id);

/* Issues the next message id for a message published at nowMs (read as
 * SW_TABLE_CLOCK_MAX_MS when above it, 0 when negative): strictly greater than any id issued
 * before, even if the clock went backwards. SW_OK, or SW_ERR_LIMIT when every id is used up
 * (clock at SW_TABLE_CLOCK_MAX_MS and sequence at UINT64_MAX, reachable only from a forged
 * table); then the table and *ms, *seq are unchanged. */
swStatus swTableNextId(swTable *t, int64_t nowMs, int64_t *ms, uint64_t *seq);

/* Heap bytes held by the table, resolution cache included (for MEMORY USAGE): what the
 * allocator really holds for each block (swAllocSize), not the sizes requested. */
size_t swTableMemUsage(const swTable *t);

#endif
