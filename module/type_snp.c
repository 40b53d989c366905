/* type_snp.c -- the swarm-snp data type: a versioned JSON state history as a Redis value.
 *
 * Like swarm-rtb, every type method works on the core's one serialized form
 * (swSnapEncode/Decode): RDB, AOF rewrite (SWARM.RESTORE), COPY and DEBUG DIGEST see exactly
 * the same versions, timestamps and checksums, and RDB loading re-verifies every checksum. */
#include "swarm.h"
#include "swarm/alloc.h"

#define SWARM_SNP_ENCVER 1

RedisModuleType *SwarmSnapType;

void SwarmSnapType_Account(const swSnap *s, int sign) {
    long long d = sign;
    atomic_fetch_add(&swarmCounters.snapshots, (unsigned long long)d);
    atomic_fetch_add(&swarmCounters.snapshotBytes,
                     (unsigned long long)(d * (long long)swSnapBytes(s)));
}

int SwarmSnapType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                              RedisModuleKey **key, swSnap **snap) {
    void *value;
    int rc = SwarmOpenOrReply(ctx, keyname, mode, SwarmSnapType, key, &value);
    *snap = value;
    return rc;
}

int SwarmSnapType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                 size_t len) {
    swSnap *s;
    swError err;
    swStatus st = swSnapDecode(buf, len, &s, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
        return REDISMODULE_ERR;
    }
    SwarmSnapType_Account(s, 1);
    RedisModule_ModuleTypeSetValue(key, SwarmSnapType, s);
    return REDISMODULE_OK;
}

/* ---- Type methods ---- */

static void *SwarmSnapType_RdbLoad(RedisModuleIO *rdb, int encver) {
    if (encver != SWARM_SNP_ENCVER) {
        RedisModule_LogIOError(rdb, "warning", "swarm: unknown swarm-snp encoding version %d",
                               encver);
        return NULL;
    }
    size_t len;
    char *buf = RedisModule_LoadStringBuffer(rdb, &len);
    if (RedisModule_IsIOError(rdb)) {
        if (buf) RedisModule_Free(buf);
        RedisModule_LogIOError(rdb, "warning", "swarm: truncated swarm-snp value");
        return NULL;
    }
    swSnap *s = NULL;
    swError err;
    if (swSnapDecode(buf, len, &s, &err) != SW_OK) {
        RedisModule_LogIOError(rdb, "warning", "swarm: refusing corrupt swarm-snp value: %s",
                               err.msg);
        s = NULL;
    }
    RedisModule_Free(buf);
    if (s) SwarmSnapType_Account(s, 1);
    return s;
}

static void SwarmSnapType_RdbSave(RedisModuleIO *rdb, void *value) {
    char *buf;
    size_t len;
    swSnapEncode(value, &buf, &len); /* the Redis allocator aborts rather than fail */
    RedisModule_SaveStringBuffer(rdb, buf, len);
    swFree(buf);
}

static void SwarmSnapType_AofRewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    char *buf;
    size_t len;
    swSnapEncode(value, &buf, &len);
    RedisModule_EmitAOF(aof, "SWARM.RESTORE", "scb", key, "swarm-snp", buf, len);
    swFree(buf);
}

static size_t SwarmSnapType_MemUsage(const void *value) {
    return swSnapMemUsage(value);
}

static void SwarmSnapType_Digest(RedisModuleDigest *md, void *value) {
    char *buf;
    size_t len;
    swSnapEncode(value, &buf, &len);
    RedisModule_DigestAddStringBuffer(md, buf, len);
    RedisModule_DigestEndSequence(md);
    swFree(buf);
}

static void SwarmSnapType_Free(void *value) {
    SwarmSnapType_Account(value, -1);
    swSnapFree(value);
}

/* Freeing costs one free per version plus the pages of the documents: a long history of
 * large documents goes to the lazy-free thread (UNLINK, FLUSHALL ASYNC, lazyfree-*). */
static size_t SwarmSnapType_FreeEffort(RedisModuleString *key, const void *value) {
    (void)key;
    return 1 + swSnapCount(value) + swSnapBytes(value) / 4096;
}

static void *SwarmSnapType_Copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    (void)from;
    (void)to;
    swSnap *s = swSnapDup(value);
    if (s) SwarmSnapType_Account(s, 1);
    return s;
}

int SwarmSnapType_Register(RedisModuleCtx *ctx) {
    RedisModuleTypeMethods tm = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = SwarmSnapType_RdbLoad,
        .rdb_save = SwarmSnapType_RdbSave,
        .aof_rewrite = SwarmSnapType_AofRewrite,
        .mem_usage = SwarmSnapType_MemUsage,
        .digest = SwarmSnapType_Digest,
        .free = SwarmSnapType_Free,
        .free_effort = SwarmSnapType_FreeEffort,
        .copy = SwarmSnapType_Copy,
    };
    SwarmSnapType = RedisModule_CreateDataType(ctx, "swarm-snp", SWARM_SNP_ENCVER, &tm);
    return SwarmSnapType ? REDISMODULE_OK : REDISMODULE_ERR;
}
