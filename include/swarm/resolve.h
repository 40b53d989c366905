/* resolve.h -- which routes of a table an event type reaches, and whether it is admitted.
 *
 * Resolving a type runs every rule's regex, the subject trie and every regex route, so the
 * result is cached per type in the table (up to a bound, then the cache starts over).
 * Every change to the table's routes or rules drops the cache (table.c), so a cached
 * resolution is never stale. Counters and breakers are read through the route pointers and
 * are always current. */
#ifndef SWARM_RESOLVE_H
#define SWARM_RESOLVE_H

#include <stddef.h>

#include "swarm/status.h"
#include "swarm/table.h"

/* The resolution of an event type, valid until the next swTableResolve or change to the
 * table (resolving another type may grow or reset the cache). */
typedef struct swResolution {
    swRule *denyRule;  /* the first DENY rule matching, or NULL */
    swRule *allowRule; /* the first ALLOW rule matching, or NULL */
    int admitted;      /* not denied, and allowed when any ALLOW rule exists */
    swRoute **routes;  /* matching routes in id order (any priority) */
    size_t nroutes;
} swResolution;

/* Resolves an already syntax-checked event type, from the cache when possible. SW_OK with
 * *res set, or SW_ERR_NOMEM (the cache and table unchanged). A rule that cannot decide (its
 * match limit is reached) fails closed: it denies, never allows. */
swStatus swTableResolve(swTable *t, const char *type, size_t len, const swResolution **res);

/* SW_OK when res admits the type; otherwise (swResolutionDenied) SW_ERR_DENIED with the one message
 * every command replies: "event type '<type>' is denied by rule <id>" or "event type '<type>'
 * matches no ALLOW rule of the table" (the type quoted up to 128 bytes). */
swStatus swResolutionDenied(const swResolution *res, const char *type, size_t len, swError *err);
static inline swStatus swResolutionAdmit(const swResolution *res, const char *type, size_t len,
                                         swError *err) {
    return res->admitted ? SW_OK : swResolutionDenied(res, type, len, err);
}

/* Stores in out (room for res->nroutes entries) the routes of res whose priority range
 * holds priority, keeping only the first route of each distinct target; returns how many. */
size_t swResolutionTargets(const swResolution *res, int priority, swRoute **out);

#endif
