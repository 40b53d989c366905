/* config.h -- the module's configuration and its fixed limits.
 *
 * Every setting is a Redis module config (CONFIG GET/SET swarm.<name>, redis.conf,
 * --swarm.<name> on the command line). Load arguments (`--loadmodule swarm.so name value
 * ...`, names with or without the swarm. prefix) are handed to the same machinery through
 * CONFIG SET, so they take the same ranges, memory units and enum names. */
#ifndef SWARM_CONFIG_H
#define SWARM_CONFIG_H

#include "redismodule.h"

/* Nesting limit for payloads and snapshot documents. */
#define SWARM_JSON_MAX_DEPTH 128
#define SWARM_SNAPSHOT_MAX_DEPTH SWARM_JSON_MAX_DEPTH

/* Upper bound of integer settings and arguments that have no natural one (stream-maxlen,
 * snapshot version numbers): far beyond any real value, and safe to add to. */
#define SWARM_LLONG_BOUND (1LL << 62)

typedef struct SwarmConfig {
    long long maxTypeBytes;
    long long maxPayloadBytes;
    long long maxSnapshotBytes;
    long long snapshotKeep;
    long long snapshotKeepBytes; /* bound on a history's older versions as stored; 0: none */
    long long streamMaxlen;
    long long breakerThreshold;
    long long breakerCooldownMs;
    long long regexHeapLimitKb;  /* applied to the core: swRegexSetHeapLimitKb */
    long long resolveCacheBytes; /* applied to the core: swResolveSetCacheBytes */
    long long dedupWindowMs;     /* how long a MSGID is remembered; 0: not at all */
    long long dedupMax;          /* MSGIDs remembered per table at most */
    int clusterPubsubGlobal;     /* 0: shard channels in cluster mode, 1: global */
    /* Load time only (never CONFIG SET): clients may run SWARM.APPLY and SWARM.RESTORE, so
     * tests can feed them malformed input directly. */
    int debugInternalCommands;
} SwarmConfig;

/* The values in force; read anywhere, written only by Redis through the config callbacks. */
extern SwarmConfig swarmConfig;

/* Registers every config, loads those given in redis.conf or on the command line, then
 * applies the load arguments. REDISMODULE_ERR (with a logged reason) refuses the load. */
int SwarmConfig_Load(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
