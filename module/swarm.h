/* swarm.h -- what the Redis glue files share: configuration, module-wide counters, the
 * data types and small reply helpers. Only glue files (module/ sources) include this. */
#ifndef SWARM_SWARM_H
#define SWARM_SWARM_H

#include <stdatomic.h>

#include "redismodule.h"
#include "swarm/status.h"
#include "swarm/snapshot.h"
#include "swarm/table.h"

#define SWARM_VERSION "0.1.0"

/* ---- Configuration (SPEC section 9), set through module configs ---- */

typedef struct SwarmConfig {
    long long maxTypeBytes;
    long long maxPayloadBytes;
    long long maxSnapshotBytes;
    long long snapshotKeep;
    long long streamMaxlen;
    long long breakerThreshold;
    long long breakerCooldownMs;
    int clusterPubsubGlobal; /* 0: shard channels in cluster mode, 1: global */
} SwarmConfig;

extern SwarmConfig swarmConfig;

/* ---- Module-wide counters for INFO swarm ----
 * Atomic because values are also freed by the lazy-free thread. */

typedef struct SwarmCounters {
    atomic_ullong tables, routes, rules;
    atomic_ullong published, delivered, deadlettered, shed, unrouted;
    atomic_ullong rejectedEventType, rejectedDenied, rejectedPayload, rejectedOther;
    atomic_ullong snapshots, snapshotsSaved, snapshotBytes;
} SwarmCounters;

extern SwarmCounters swarmCounters;

/* ---- Routing table type (type_rtb.c) ---- */

extern RedisModuleType *SwarmRouteType;
int SwarmRouteType_Register(RedisModuleCtx *ctx);

/* Accounting hooks: call when a table enters or leaves the keyspace, or changes size. */
void SwarmRouteType_Account(const swTable *t, int sign);

/* Opens the routing table at keyname into *key. Replies WRONGTYPE and returns
 * REDISMODULE_ERR when the key holds another type. *table is NULL when the key is missing
 * (and *key may then be NULL in READ mode; closing NULL is fine). */
int SwarmRouteType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                               RedisModuleKey **key, swTable **table);

/* Stores a value decoded from its serialized form (SWARM.RESTORE, AOF rewrite); on a bad
 * payload replies the error and returns REDISMODULE_ERR, the key untouched. */
int SwarmRouteType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                  size_t len);

/* ---- Snapshot history type (type_snp.c) ---- */

extern RedisModuleType *SwarmSnapType;
int SwarmSnapType_Register(RedisModuleCtx *ctx);
void SwarmSnapType_Account(const swSnap *s, int sign);
/* As SwarmRouteType_OpenOrReply, for snapshot histories. */
int SwarmSnapType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                              RedisModuleKey **key, swSnap **snap);
int SwarmSnapType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                 size_t len);

/* ---- Commands ---- */

int SwarmRoute_Register(RedisModuleCtx *ctx);
int SwarmRestore_Register(RedisModuleCtx *ctx);
int SwarmPublish_Register(RedisModuleCtx *ctx);
int SwarmSnapshot_Register(RedisModuleCtx *ctx);
/* SWARM.APPLY key SNAPSHOT version ts keep json (argv as received). */
int SwarmSnapshot_Apply(RedisModuleCtx *ctx, RedisModuleString **argv);

/* ---- Helpers (module.c) ---- */

/* Replies with the error of a core status, prefixed by its code word. */
int SwarmReplyStatus(RedisModuleCtx *ctx, swStatus st, const swError *err);

/* Registers a command, or a subcommand of the command named parent, with its documentation
 * (info may be NULL; its version and since are filled in). REDISMODULE_ERR when refused. */
int SwarmRegister(RedisModuleCtx *ctx, const char *parent, const char *name,
                  RedisModuleCmdFunc fn, const char *flags, int firstkey,
                  const RedisModuleCommandInfo *info);

/* Replies a NULL-terminated list of lines, as the built-in HELP subcommands do. */
int SwarmReplyHelp(RedisModuleCtx *ctx, const char *const *lines);

/* 1 when the server runs in cluster mode. */
int SwarmInCluster(RedisModuleCtx *ctx);

/* Parses a long long in [min, max] or replies "ERR <what> ..." and returns REDISMODULE_ERR. */
int SwarmParseRangeOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                           long long max, const char *what, long long *out);

#endif
