/* type_snp.c -- the swarm-snp data type: a versioned JSON state history as a Redis value.
 *
 * Like swarm-rtb, RDB, AOF rewrite (SWARM.RESTORE) and DEBUG DIGEST work on the core's one
 * serialized form (swSnapEncode/Decode), so they see exactly the same versions, timestamps
 * and checksums. Decoding re-verifies every checksum and re-validates every document as
 * JSON, so neither a corrupt RDB nor a forged SWARM.RESTORE payload is ever served. COPY is
 * a deep copy (swSnapDup) of an already verified history. */
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "swarm/json.h"
#include "type_codec.h"
#include "type_snp.h"

#define SWARM_SNP_ENCVER 1

RedisModuleType *SwarmSnapType;

/* Counts a history in (sign 1) or out of (-1) INFO swarm. */
static void SwarmSnapType_Account(const swSnap *s, int sign) {
    SwarmStats_Add(SWARM_STAT_SNAPSHOTS, sign);
    SwarmStats_Add(SWARM_STAT_SNAPSHOT_BYTES, sign * (long long)swSnapBytes(s));
}

int SwarmSnapType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                              RedisModuleKey **key, swSnap **snap) {
    void *value;
    int rc = SwarmOpenOrReply(ctx, keyname, mode, SwarmSnapType, key, &value);
    *snap = value;
    return rc;
}

/* ---- Writes ---- */

swStatus SwarmSnapType_Write(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                             swSnap *existing, const SwarmSnapWrite *w, swSnap **out,
                             swError *err) {
    swSnap *s = existing ? existing : swSnapNew();
    if (s == NULL) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    if (existing) SwarmSnapType_Account(s, -1);
    swStatus st = w->from ? swSnapRestore(s, w->from, w->ts, w->keep, NULL, err)
                          : swSnapSave(s, w->text, w->len, w->ts, w->keep, NULL, err);
    if (st != SW_OK) {
        if (existing) {
            SwarmSnapType_Account(s, 1);
        } else {
            swSnapFree(s);
        }
        return st;
    }
    if (w->unique) swSnapMarkHeadUnique(s);
    if (w->keepBytes) swSnapTrimBytes(s, w->keepBytes);
    SwarmSnapType_Account(s, 1);
    if (!existing) RedisModule_ModuleTypeSetValue(key, SwarmSnapType, s);
    SwarmTouched(ctx, keyname, w->event ? w->event : "swarm.snapshot.save");
    RedisModule_SignalKeyAsReady(ctx, keyname);
    *out = s;
    return SW_OK;
}

/* ---- Serialized form ---- */

static swStatus encodeValue(const void *value, char **buf, size_t *len) {
    return swSnapEncode(value, buf, len);
}

static swStatus decodeValue(const char *buf, size_t len, void **value, swError *err) {
    swSnap *v;
    swStatus st = swSnapDecode(buf, len, &v, err);
    if (st != SW_OK) return st;
    for (size_t i = 0; i < swSnapCount(v); i++) {
        const swSnapVersion *ver = swSnapAt(v, i);
        swError jerr;
        if (swJsonValidate(ver->text, ver->len, SWARM_SNAPSHOT_MAX_DEPTH, &jerr) != SW_OK) {
            swErrorSet(err, SW_ERR_CORRUPT, 0, "version %llu is not valid JSON: %s",
                       (unsigned long long)ver->version, jerr.msg);
            swSnapFree(v); /* ver points into v: free it only once the message is written */
            return SW_ERR_CORRUPT;
        }
    }
    *value = v;
    return SW_OK;
}

static void accountValue(const void *value, int sign) {
    SwarmSnapType_Account(value, sign);
}

static const SwarmCodec codec = {"swarm-snp", SWARM_SNP_ENCVER, encodeValue, decodeValue,
                                 accountValue};

int SwarmSnapType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                 size_t len) {
    if (SwarmCodec_RestoreOrReply(&codec, SwarmSnapType, ctx, key, buf, len) != REDISMODULE_OK)
        return REDISMODULE_ERR;
    RedisModule_SignalKeyAsReady(ctx,
                                 (RedisModuleString *)RedisModule_GetKeyNameFromModuleKey(key));
    return REDISMODULE_OK;
}

/* ---- Type methods ---- */

static void *SwarmSnapType_RdbLoad(RedisModuleIO *rdb, int encver) {
    return SwarmCodec_RdbLoad(&codec, rdb, encver);
}

static void SwarmSnapType_RdbSave(RedisModuleIO *rdb, void *value) {
    SwarmCodec_RdbSave(&codec, rdb, value);
}

static void SwarmSnapType_AofRewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    SwarmCodec_AofRewrite(&codec, aof, key, value);
}

static size_t SwarmSnapType_MemUsage(const void *value) {
    return swSnapMemUsage(value);
}

static void SwarmSnapType_Digest(RedisModuleDigest *md, void *value) {
    SwarmCodec_Digest(&codec, md, value);
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
