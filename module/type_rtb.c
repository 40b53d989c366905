/* type_rtb.c -- the swarm-rtb data type: a routing table as a Redis value.
 *
 * Every type method works on the core's one serialized form (swTableEncode/Decode), so RDB,
 * AOF rewrite (SWARM.RESTORE), COPY and DEBUG DIGEST all see exactly the same state, and a
 * corrupt payload is caught by the same validating decoder everywhere. */
#include <stdio.h>

#include <string.h>

#include "glue.h"
#include "stats.h"
#include "swarm/alloc.h"
#include "swarm/table_codec.h"
#include "type_codec.h"
#include "type_rtb.h"

#define SWARM_RTB_ENCVER 1

RedisModuleType *SwarmRouteType;

/* Counts a table in (sign 1) or out of (-1) INFO swarm. */
static void SwarmRouteType_Account(const swTable *t, int sign) {
    SwarmStats_Add(SWARM_STAT_TABLES, sign);
    SwarmStats_Add(SWARM_STAT_ROUTES, sign * (long long)t->nroutes);
    SwarmStats_Add(SWARM_STAT_RULES, sign * (long long)t->nrules);
}

int SwarmRouteType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                               RedisModuleKey **key, swTable **table) {
    void *value;
    int rc = SwarmOpenOrReply(ctx, keyname, mode, SwarmRouteType, key, &value);
    *table = value;
    return rc;
}

/* ---- Writes ---- */

swTable *SwarmRouteType_BeginWrite(swTable *existing) {
    if (existing == NULL) return swTableNew();
    SwarmRouteType_Account(existing, -1);
    return existing;
}

void SwarmRouteType_EndWrite(RedisModuleKey *key, swTable *existing, swTable *t) {
    if (t == NULL) return;
    if (existing == NULL && swTableIsEmpty(t)) {
        swTableFree(t);
        return;
    }
    SwarmRouteType_Account(t, 1);
    if (existing == NULL) {
        RedisModule_ModuleTypeSetValue(key, SwarmRouteType, t);
    } else if (swTableIsEmpty(t)) {
        RedisModule_DeleteKey(key); /* frees t through the type's free method */
    }
}

/* ---- Serialized form ---- */

static swStatus encodeValue(const void *value, char **buf, size_t *len) {
    return swTableEncode(value, buf, len);
}

static swStatus decodeValue(const char *buf, size_t len, void **value, swError *err) {
    swTable *v;
    /* The format's hard limits only, never swarm.max-type-bytes: a table written under a
     * larger setting (on this node before a CONFIG SET, or on a master configured
     * otherwise) must load wherever it is loaded. RDB, DUMP/RESTORE, COPY and the AOF's
     * SWARM.RESTORE all decode through here. */
    swStatus st = swTableDecode(buf, len, SW_TABLE_MAX_PATTERN, &v, err);
    if (st == SW_OK) *value = v;
    return st;
}

static void accountValue(const void *value, int sign) {
    SwarmRouteType_Account(value, sign);
}

static const SwarmCodec codec = {"swarm-rtb", SWARM_RTB_ENCVER, encodeValue, decodeValue,
                                 accountValue};

int SwarmRouteType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                  size_t len) {
    return SwarmCodec_RestoreOrReply(&codec, SwarmRouteType, ctx, key, buf, len);
}

/* ---- Type methods ---- */

static void *SwarmRouteType_RdbLoad(RedisModuleIO *rdb, int encver) {
    return SwarmCodec_RdbLoad(&codec, rdb, encver);
}

static void SwarmRouteType_RdbSave(RedisModuleIO *rdb, void *value) {
    SwarmCodec_RdbSave(&codec, rdb, value);
}

static void SwarmRouteType_AofRewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    SwarmCodec_AofRewrite(&codec, aof, key, value);
}

static size_t SwarmRouteType_MemUsage(const void *value) {
    return swTableMemUsage(value);
}

static void SwarmRouteType_Digest(RedisModuleDigest *md, void *value) {
    SwarmCodec_Digest(&codec, md, value);
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
    /* The source is already in the keyspace: copy it whatever the config says now. */
    if (swTableDecode(buf, len, SW_TABLE_MAX_PATTERN, &t, NULL) != SW_OK) t = NULL;
    swFree(buf);
    if (t) SwarmRouteType_Account(t, 1);
    return t;
}

/* ---- Resolution ---- */

swStatus SwarmRouteType_Resolve(swTable *t, const char *type, size_t len, const swResolution **res,
                                swError *err) {
    *res = NULL;
    if (swTableResolve(t, type, len, res) != SW_OK) {
        *res = NULL;
        return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    }
    if ((*res)->limitHits)
        SwarmStats_Add(SWARM_STAT_REGEX_LIMIT_HITS, (long long)(*res)->limitHits);
    swStatus st = swResolutionAdmit(*res, type, len, err);
    if (st == SW_ERR_LIMIT && (*res)->limitResult == SW_REGEX_LIMIT_HEAP && err) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n, " (swarm.regex-heap-limit-kb)");
    }
    return st;
}

/* ---- Replies ---- */

void SwarmRouteType_ReplyStats(RedisModuleCtx *ctx, const swTable *t, int withBreakers) {
    static const swTableStats zero;
    const swTableStats *s = t ? &t->stats : &zero;
    SwarmMap m = SwarmMapBegin(ctx);
    SwarmMapInt(&m, "published", (long long)s->published);
    SwarmMapInt(&m, "delivered", (long long)s->delivered);
    SwarmMapInt(&m, "rejected", (long long)s->rejected);
    SwarmMapInt(&m, "unrouted", (long long)s->unrouted);
    SwarmMapInt(&m, "deadlettered", (long long)s->deadlettered);
    SwarmMapInt(&m, "shed", (long long)s->shed);
    SwarmMapInt(&m, "routes", t ? (long long)t->nroutes : 0);
    SwarmMapInt(&m, "rules", t ? (long long)t->nrules : 0);
    char id[48];
    int idlen = snprintf(id, sizeof(id), "%lld-%llu", t ? (long long)t->clockMs : 0LL,
                         t ? (unsigned long long)t->clockSeq : 0ULL);
    SwarmMapStr(&m, "last-id", id, (size_t)idlen);
    SwarmMapKey(&m, "default");
    if (t && t->deflt) {
        RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
    } else {
        RedisModule_ReplyWithNull(ctx);
    }
    if (withBreakers) {
        long long open = 0;
        for (size_t i = 0; t && i < t->nroutes; i++) {
            if (t->routes[i]->breaker != SW_BREAKER_CLOSED) open++;
        }
        SwarmMapInt(&m, "breakers-open", open);
    }
    SwarmMapEnd(&m);
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
