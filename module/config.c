/* config.c -- module configs and load arguments (see config.h). */
#include <strings.h>

#include "config.h"
#include "swarm/regex.h"
#include "swarm/resolve.h"
#include "swarm/snapshot.h"

SwarmConfig swarmConfig;

typedef struct SwarmNumConfig {
    const char *name;
    long long def, min, max;
    unsigned int flags;
    long long *val;
    void (*apply)(long long val); /* hands the value to the core, or NULL */
} SwarmNumConfig;

static void applyRegexHeapLimit(long long kb) {
    swRegexSetHeapLimitKb((uint32_t)kb);
}

static void applyResolveCacheBytes(long long bytes) {
    swResolveSetCacheBytes((size_t)bytes);
}

#define MB (1024LL * 1024LL)
static SwarmNumConfig numConfigs[] = {
    {"max-type-bytes", 256, 1, 65536, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.maxTypeBytes, NULL},
    {"max-payload-bytes", 1 * MB, 2, 512 * MB, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.maxPayloadBytes, NULL},
    {"max-snapshot-bytes", 64 * MB, 2, 512 * MB, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.maxSnapshotBytes, NULL},
    {"snapshot-keep", SW_SNAP_KEEP_DEFAULT, 1, SW_SNAP_KEEP_MAX, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.snapshotKeep, NULL},
    {"snapshot-keep-bytes", 16 * MB, 0, SWARM_LLONG_BOUND, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.snapshotKeepBytes, NULL},
    {"stream-maxlen", 100000, 1, SWARM_LLONG_BOUND, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.streamMaxlen, NULL},
    {"breaker-threshold", 5, 1, 1000000, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.breakerThreshold,
     NULL},
    {"breaker-cooldown-ms", 30000, 1, 86400000LL * 30, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.breakerCooldownMs, NULL},
    {"regex-heap-limit-kb", SW_REGEX_HEAP_LIMIT_KB_DEFAULT, SW_REGEX_HEAP_LIMIT_KB_MIN,
     SW_REGEX_HEAP_LIMIT_KB_MAX, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.regexHeapLimitKb,
     applyRegexHeapLimit},
    {"resolve-cache-bytes", SW_RESOLVE_CACHE_BYTES_DEFAULT, 0, 1024 * MB, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.resolveCacheBytes, applyResolveCacheBytes},
    {"dedup-window-ms", 120000, 0, 86400000LL * 30, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.dedupWindowMs, NULL},
    {"dedup-max", 100000, 1, 100000000, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.dedupMax, NULL},
};
#define NUM_CONFIGS (sizeof(numConfigs) / sizeof(numConfigs[0]))

static const char *pubsubNames[] = {"shard", "global"};
static const int pubsubValues[] = {0, 1};
#define PUBSUB_CONFIG "cluster-pubsub"

static long long SwarmConfig_GetNum(const char *name, void *privdata) {
    (void)name;
    return *((SwarmNumConfig *)privdata)->val;
}

static int SwarmConfig_SetNum(const char *name, long long val, void *privdata,
                              RedisModuleString **err) {
    (void)name;
    (void)err;
    SwarmNumConfig *c = privdata;
    *c->val = val;
    if (c->apply) c->apply(val);
    return REDISMODULE_OK;
}

static int SwarmConfig_GetPubsub(const char *name, void *privdata) {
    (void)name;
    (void)privdata;
    return swarmConfig.clusterPubsubGlobal;
}

static int SwarmConfig_SetPubsub(const char *name, int val, void *privdata,
                                 RedisModuleString **err) {
    (void)name;
    (void)privdata;
    (void)err;
    swarmConfig.clusterPubsubGlobal = val;
    return REDISMODULE_OK;
}

/* Yes/no configs. An immutable one (CONFIG SET refuses it) is set only at load. */
typedef struct SwarmBoolConfig {
    const char *name;
    int def;
    unsigned int flags;
    int *val;
} SwarmBoolConfig;

static SwarmBoolConfig boolConfigs[] = {
    {"debug-internal-commands", 0, REDISMODULE_CONFIG_IMMUTABLE,
     &swarmConfig.debugInternalCommands},
};
#define BOOL_CONFIGS (sizeof(boolConfigs) / sizeof(boolConfigs[0]))

static int SwarmConfig_GetBool(const char *name, void *privdata) {
    (void)name;
    return *((SwarmBoolConfig *)privdata)->val;
}

static int SwarmConfig_SetBool(const char *name, int val, void *privdata, RedisModuleString **err) {
    (void)name;
    (void)err;
    *((SwarmBoolConfig *)privdata)->val = val;
    return REDISMODULE_OK;
}

static int SwarmConfig_Register(RedisModuleCtx *ctx) {
    for (size_t i = 0; i < NUM_CONFIGS; i++) {
        SwarmNumConfig *c = &numConfigs[i];
        *c->val = c->def;
        if (c->apply) c->apply(c->def);
        if (RedisModule_RegisterNumericConfig(ctx, c->name, c->def, c->flags, c->min, c->max,
                                              SwarmConfig_GetNum, SwarmConfig_SetNum, NULL,
                                              c) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    swarmConfig.clusterPubsubGlobal = 0;
    for (size_t i = 0; i < BOOL_CONFIGS; i++) {
        SwarmBoolConfig *c = &boolConfigs[i];
        *c->val = c->def;
        if (RedisModule_RegisterBoolConfig(ctx, c->name, c->def, c->flags, SwarmConfig_GetBool,
                                           SwarmConfig_SetBool, NULL, c) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    return RedisModule_RegisterEnumConfig(ctx, PUBSUB_CONFIG, 0, REDISMODULE_CONFIG_DEFAULT,
                                          pubsubNames, pubsubValues, 2, SwarmConfig_GetPubsub,
                                          SwarmConfig_SetPubsub, NULL, NULL);
}

/* Applies one load argument through CONFIG SET, which checks it exactly as it checks
 * CONFIG SET swarm.<name> (ranges, memory units, enum names); the log names the rule. */
static int SwarmConfig_ApplyArg(RedisModuleCtx *ctx, const char *name, const char *value) {
    if (strncasecmp(name, "swarm.", 6) == 0) name += 6;
    for (size_t k = 0; k < BOOL_CONFIGS; k++) {
        SwarmBoolConfig *c = &boolConfigs[k];
        if (strcasecmp(name, c->name) != 0 || !(c->flags & REDISMODULE_CONFIG_IMMUTABLE)) continue;
        /* CONFIG SET refuses an immutable config even now: set it through the table. */
        if (strcasecmp(value, "yes") != 0 && strcasecmp(value, "no") != 0) {
            RedisModule_Log(ctx, "warning", "swarm: %s must be yes or no, not '%s'", c->name,
                            value);
            return REDISMODULE_ERR;
        }
        return SwarmConfig_SetBool(c->name, strcasecmp(value, "yes") == 0, c, NULL);
    }
    const SwarmNumConfig *num = NULL;
    for (size_t k = 0; k < NUM_CONFIGS; k++) {
        if (strcasecmp(name, numConfigs[k].name) == 0) num = &numConfigs[k];
    }
    if (num == NULL && strcasecmp(name, PUBSUB_CONFIG) != 0) {
        RedisModule_Log(ctx, "warning", "swarm: unknown load argument '%s'", name);
        return REDISMODULE_ERR;
    }
    RedisModuleString *full = RedisModule_CreateStringPrintf(ctx, "swarm.%s", name);
    RedisModuleCallReply *r = RedisModule_Call(ctx, "CONFIG", "csc", "SET", full, value);
    int ok = r && RedisModule_CallReplyType(r) != REDISMODULE_REPLY_ERROR;
    if (r) RedisModule_FreeCallReply(r);
    RedisModule_FreeString(ctx, full);
    if (ok) return REDISMODULE_OK;
    if (num) {
        RedisModule_Log(ctx, "warning", "swarm: %s must be between %lld and %lld, not '%s'",
                        num->name, num->min, num->max, value);
    } else {
        RedisModule_Log(ctx, "warning", "swarm: %s must be shard or global, not '%s'",
                        PUBSUB_CONFIG, value);
    }
    return REDISMODULE_ERR;
}

int SwarmConfig_Load(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (SwarmConfig_Register(ctx) == REDISMODULE_ERR ||
        RedisModule_LoadConfigs(ctx) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    if (argc % 2 != 0) {
        RedisModule_Log(ctx, "warning", "swarm: load arguments must be name/value pairs");
        return REDISMODULE_ERR;
    }
    for (int i = 0; i < argc; i += 2) {
        if (SwarmConfig_ApplyArg(ctx, RedisModule_StringPtrLen(argv[i], NULL),
                                 RedisModule_StringPtrLen(argv[i + 1], NULL)) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
