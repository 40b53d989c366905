/* type_rtb.h -- the swarm-rtb data type: a routing table (swarm/table.h) as a Redis value.
 *
 * Commands open a table with SwarmRouteType_OpenOrReply and change it inside a write:
 *
 *   t = SwarmRouteType_BeginWrite(existing);   the existing table, or a new empty one
 *   ... swTableAddRoute(t, ...) ...             any core change, successful or not
 *   SwarmRouteType_EndWrite(key, existing, t); stores, deletes or frees, and counts
 *
 * so a table that became empty is deleted, a new table that stayed empty is never stored,
 * and INFO swarm's tables/routes/rules stay exact. */
#ifndef SWARM_TYPE_RTB_H
#define SWARM_TYPE_RTB_H

#include <stddef.h>

#include "redismodule.h"
#include "swarm/resolve.h"
#include "swarm/status.h"
#include "swarm/table.h"

extern RedisModuleType *SwarmRouteType;

int SwarmRouteType_Register(RedisModuleCtx *ctx);

/* Opens the routing table at keyname into *key. Replies WRONGTYPE and returns
 * REDISMODULE_ERR when the key holds another type. *table is NULL when the key is missing
 * (and *key may then be NULL in READ mode; closing NULL is fine). */
int SwarmRouteType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                               RedisModuleKey **key, swTable **table);

/* Starts a change to the table opened for writing at key: returns existing (its counts
 * taken out of INFO swarm until SwarmRouteType_EndWrite), or a new empty table when existing
 * is NULL (NULL when out of memory). */
swTable *SwarmRouteType_BeginWrite(swTable *existing);

/* Ends a change begun with SwarmRouteType_BeginWrite, whether the change succeeded or not:
 * stores a new table that holds something, frees one that stayed empty, deletes the key of
 * an existing table that became empty, and counts what is stored. t may be NULL. */
void SwarmRouteType_EndWrite(RedisModuleKey *key, swTable *existing, swTable *t);

/* Stores a value decoded from its serialized form (SWARM.RESTORE); on a bad payload replies
 * the error and returns REDISMODULE_ERR, the key untouched. */
int SwarmRouteType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                  size_t len);

/* Resolves an already checked event type in t for a command (PUBLISH, MATCH):
 * swTableResolve, then swResolutionAdmit. SW_OK with *res admitting the type; otherwise the
 * status and err to reply: SW_ERR_NOMEM, SW_ERR_DENIED, or SW_ERR_LIMIT when a rule's regex
 * could not decide ("regex rule 3 hit the PCRE2 heap limit (swarm.regex-heap-limit-kb)").
 * *res is set whenever the type was resolved, refused or not (NULL on SW_ERR_NOMEM). Counts
 * every rule and regex route that could not decide in INFO swarm's regex_limit_hits. */
swStatus SwarmRouteType_Resolve(swTable *t, const char *type, size_t len, const swResolution **res,
                                swError *err);

/* Replies the counters of SWARM.ROUTE STATS for t (all zero when t is NULL): a map in
 * RESP3, flat field/value pairs in RESP2; with withBreakers, a last field "breakers-open",
 * the routes whose breaker is open or half-open. */
void SwarmRouteType_ReplyStats(RedisModuleCtx *ctx, const swTable *t, int withBreakers);

#endif
