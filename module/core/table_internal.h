/* table_internal.h -- what the files of the routing table share and nothing else includes:
 * building and inserting routes and rules (table.c, used again by the decoder in
 * table_codec.c) and the life cycle of the resolution cache (resolve.c, dropped by every
 * change in table.c). Callers outside module/core/table*.c and resolve.c use table.h. */
#ifndef SWARM_TABLE_INTERNAL_H
#define SWARM_TABLE_INTERNAL_H

#include "swarm/table.h"

/* ---- Routes and rules (table.c) ---- */

/* Builds a route with the given id, validating pattern, target and priority range, without
 * inserting it. On failure nothing is allocated. Free with swRouteFree. */
swStatus swRouteNew(uint64_t id, const char *pattern, size_t plen, const char *target, size_t tlen,
                    swRouteKind kind, int pmin, int pmax, size_t maxTypeBytes, swRoute **out,
                    swError *err);
void swRouteFree(swRoute *r);

/* Appends a route whose id is above every id in the table (the table takes it over only on
 * SW_OK; on SW_ERR_NOMEM the caller still owns it and the table is unchanged). Does not
 * touch lastId or the cache. */
swStatus swTableInsertRoute(swTable *t, swRoute *r);

/* As swRouteNew and swTableInsertRoute, for rules. */
swStatus swRuleNew(uint64_t id, swRuleAction action, const char *regex, size_t len, swRule **out,
                   swError *err);
void swRuleFree(swRule *r);
swStatus swTableInsertRule(swTable *t, swRule *r);

/* ---- Resolution cache (resolve.c) ---- */

/* An empty cache, or NULL when out of memory. */
swTableCache *swTableCacheNew(void);
/* Drops every cached resolution (a change to routes or rules). NULL is a no-op. */
void swTableCacheClear(swTableCache *c);
/* Clears and frees the cache. NULL is a no-op. */
void swTableCacheFree(swTableCache *c);
/* Heap bytes held by the cache. */
size_t swTableCacheMemUsage(const swTableCache *c);

#endif
