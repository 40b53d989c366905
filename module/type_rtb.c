/* type_rtb.c -- the swarm-rtb data type: a routing table as a Redis value.
 *
 * Every type method works on the core's one serialized form (swTableEncode/Decode), so RDB,
 * AOF rewrite (SWARM.RESTORE), COPY and DEBUG DIGEST all see exactly the same state, and a
 * corrupt payload is caught by the same validating decoder everywhere. */
#include <string.h>

#include "swarm.h"
#include "swarm/alloc.h"

#define SWARM_RTB_ENCVER 1

RedisModuleType *SwarmRouteType;

void SwarmRouteType_Account(const swTable *t, int sign) {
    long long d = sign;
    atomic_fetch_add(&swarmCounters.tables, (unsigned long long)d);
    atomic_fetch_add(&swarmCounters.routes, (unsigned long long)(d * (long long)t->nroutes));
    atomic_fetch_add(&swarmCounters.rules, (unsigned long long)(d * (long long)t->nrules));
}

int SwarmRouteType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                               RedisModuleKey **key, swTable **table) {
    void *value;
    int rc = SwarmOpenOrReply(ctx, keyname, mode, SwarmRouteType, key, &value);
    *table = value;
    return rc;
}

int SwarmRouteType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                  size_t len) {
    swTable *t;
    swError err;
    swStatus st = swTableDecode(buf, len, &t, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
        return REDISMODULE_ERR;
    }
    SwarmRouteType_Account(t, 1);
    RedisModule_ModuleTypeSetValue(key, SwarmRouteType, t);
    return REDISMODULE_OK;
}

/* ---- Type methods ---- */

static void *SwarmRouteType_RdbLoad(RedisModuleIO *rdb, int encver) {
    if (encver != SWARM_RTB_ENCVER) {
        RedisModule_LogIOError(rdb, "warning", "swarm: unknown swarm-rtb encoding version %d",
                               encver);
        return NULL;
    }
    size_t len;
    char *buf = RedisModule_LoadStringBuffer(rdb, &len);
    if (RedisModule_IsIOError(rdb)) {
        if (buf) RedisModule_Free(buf);
        RedisModule_LogIOError(rdb, "warning", "swarm: truncated swarm-rtb value");
        return NULL;
    }
    swTable *t = NULL;
    swError err;
    if (swTableDecode(buf, len, &t, &err) != SW_OK) {
        RedisModule_LogIOError(rdb, "warning", "swarm: refusing swarm-rtb value: %s", err.msg);
        t = NULL;
    }
    RedisModule_Free(buf);
    if (t) SwarmRouteType_Account(t, 1);
    return t;
}

static void SwarmRouteType_RdbSave(RedisModuleIO *rdb, void *value) {
    char *buf;
    size_t len;
    /* The Redis allocator aborts rather than fail, so encoding cannot fail here. */
    swTableEncode(value, &buf, &len);
    RedisModule_SaveStringBuffer(rdb, buf, len);
    swFree(buf);
}

static void SwarmRouteType_AofRewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    char *buf;
    size_t len;
    swTableEncode(value, &buf, &len);
    RedisModule_EmitAOF(aof, "SWARM.RESTORE", "scb", key, "swarm-rtb", buf, len);
    swFree(buf);
}

static size_t SwarmRouteType_MemUsage(const void *value) {
    return swTableMemUsage(value);
}

static void SwarmRouteType_Digest(RedisModuleDigest *md, void *value) {
    char *buf;
    size_t len;
    swTableEncode(value, &buf, &len);
    RedisModule_DigestAddStringBuffer(md, buf, len);
    RedisModule_DigestEndSequence(md);
    swFree(buf);
}

static void SwarmRouteType_Free(void *value) {
    SwarmRouteType_Account(value, -1);
    swTableFree(value);
}

static size_t SwarmRouteType_FreeEffort(RedisModuleString *key, const void *value) {
    (void)key;
    const swTable *t = value;
    return 1 + t->nroutes + t->nrules;
}

static void *SwarmRouteType_Copy(RedisModuleString *from, RedisModuleString *to,
                                 const void *value) {
    (void)from;
    (void)to;
    char *buf;
    size_t len;
    swTable *t = NULL;
    if (swTableEncode(value, &buf, &len) != SW_OK) return NULL;
    if (swTableDecode(buf, len, &t, NULL) != SW_OK) t = NULL;
    swFree(buf);
    if (t) SwarmRouteType_Account(t, 1);
    return t;
}

int SwarmRouteType_Register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = SwarmRouteType_RdbLoad,
        .rdb_save = SwarmRouteType_RdbSave,
        .aof_rewrite = SwarmRouteType_AofRewrite,
        .mem_usage = SwarmRouteType_MemUsage,
        .digest = SwarmRouteType_Digest,
        .free = SwarmRouteType_Free,
        .free_effort = SwarmRouteType_FreeEffort,
        .copy = SwarmRouteType_Copy,
    };
    SwarmRouteType = RedisModule_CreateDataType(ctx, "swarm-rtb", SWARM_RTB_ENCVER, &tm);
    return SwarmRouteType ? REDISMODULE_OK : REDISMODULE_ERR;
}
