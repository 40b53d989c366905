/* resolve.h -- which routes of a table an event type reaches, and whether it is admitted.
 *
 * Resolving a type runs every rule's regex, the subject trie and every regex route, so the
 * result is cached per type in the table, up to a byte bound (swResolveSetCacheBytes; a
 * resolution that would pass it starts the cache over). Every change to the table's routes
 * or rules drops the cache (table.c), so a cached resolution is never stale. Counters and
 * breakers are read through the route pointers and are always current.
 *
 * A regex that cannot decide (a PCRE2 match, depth or heap limit, or a PCRE2 error) is never
 * read as a match or a non-match: a rule that cannot decide refuses the type with its own
 * error, a regex route that cannot decide is left out and counted (limitHits), and such a
 * resolution is never cached, so a later configuration or a later call decides again. */
#ifndef SWARM_RESOLVE_H
#define SWARM_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/regex.h"
#include "swarm/status.h"
#include "swarm/table.h"

/* The default of swResolveSetCacheBytes: per table. */
#define SW_RESOLVE_CACHE_BYTES_DEFAULT (1024 * 1024)

/* The resolution of an event type, valid until the next swTableResolve or change to the
 * table (resolving another type may grow or reset the cache). */
typedef struct swResolution {
    swRule *denyRule;  /* the first DENY rule matching, or NULL */
    swRule *allowRule; /* the first ALLOW rule matching, or NULL */
    int admitted;      /* not denied, and allowed when any ALLOW rule exists */
    swRoute **routes;  /* matching routes in id order (any priority) */
    size_t nroutes;
    /* Per route, the number of its target among the distinct targets of routes, 0 ..
     * ntargets-1 in order of first appearance: two routes share a target exactly when they
     * share this number, so the publish plan (publish.h) de-duplicates targets in O(1) per
     * route with an array of ntargets entries. */
    uint32_t *targetIndex;
    size_t ntargets;
    /* When the type is refused because a rule could not decide: that rule and what its
     * regex returned (an SW_REGEX_LIMIT_* value or SW_REGEX_ERROR); NULL otherwise. */
    swRule *limitRule;
    swRegexResult limitResult;
    /* Rules and regex routes that could not decide in this resolution (0 when cached). */
    size_t limitHits;
} swResolution;

/* Resolves an already syntax-checked event type, from the cache when possible. SW_OK with
 * *res set, or SW_ERR_NOMEM (the cache and table unchanged). */
swStatus swTableResolve(swTable *t, const char *type, size_t len, const swResolution **res);

/* SW_OK when res admits the type; otherwise (swResolutionDenied) the one error every command
 * replies:
 *   SW_ERR_DENIED "event type '<type>' is denied by rule <id>"
 *   SW_ERR_DENIED "event type '<type>' matches no ALLOW rule of the table"
 *   SW_ERR_LIMIT  "regex rule <id> hit the PCRE2 heap limit" (match, depth; "regex rule
 *                 <id> failed with a PCRE2 error") when a rule could not decide
 * (the type quoted up to 128 bytes). */
swStatus swResolutionDenied(const swResolution *res, const char *type, size_t len, swError *err);
static inline swStatus swResolutionAdmit(const swResolution *res, const char *type, size_t len,
                                         swError *err) {
    return res->admitted ? SW_OK : swResolutionDenied(res, type, len, err);
}

/* The byte bound of every table's resolution cache, process-wide (the
 * swarm.resolve-cache-bytes config); 0 caches nothing. Not thread-safe, like the allocator
 * table: set it from the thread that resolves. */
void swResolveSetCacheBytes(size_t bytes);
size_t swResolveCacheBytes(void);

#endif
