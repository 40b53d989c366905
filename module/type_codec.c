/* type_codec.c -- the type methods both data types share (see type_codec.h). */
#include "glue.h"
#include "swarm/alloc.h"
#include "type_codec.h"

void *SwarmCodec_RdbLoad(const SwarmCodec *c, RedisModuleIO *rdb, int encver) {
    if (encver != c->encver) {
        RedisModule_LogIOError(rdb, "warning", "swarm: unknown %s encoding version %d", c->name,
                               encver);
        return NULL;
    }
    size_t len;
    char *buf = RedisModule_LoadStringBuffer(rdb, &len);
    if (RedisModule_IsIOError(rdb)) {
        if (buf) RedisModule_Free(buf);
        RedisModule_LogIOError(rdb, "warning", "swarm: truncated %s value", c->name);
        return NULL;
    }
    void *value = NULL;
    swError err;
    if (c->decode(buf, len, &value, &err) != SW_OK) {
        RedisModule_LogIOError(rdb, "warning", "swarm: refusing corrupt %s value: %s", c->name,
                               err.msg);
        value = NULL;
    }
    RedisModule_Free(buf);
    if (value) c->account(value, 1);
    return value;
}

/* The Redis allocator aborts rather than fail, so encoding cannot fail in the methods. */

void SwarmCodec_RdbSave(const SwarmCodec *c, RedisModuleIO *rdb, const void *value) {
    char *buf;
    size_t len;
    c->encode(value, &buf, &len);
    RedisModule_SaveStringBuffer(rdb, buf, len);
    swFree(buf);
}

void SwarmCodec_AofRewrite(const SwarmCodec *c, RedisModuleIO *aof, RedisModuleString *key,
                           const void *value) {
    char *buf;
    size_t len;
    c->encode(value, &buf, &len);
    RedisModule_EmitAOF(aof, "SWARM.RESTORE", "scb", key, c->name, buf, len);
    swFree(buf);
}

void SwarmCodec_Digest(const SwarmCodec *c, RedisModuleDigest *md, const void *value) {
    char *buf;
    size_t len;
    c->encode(value, &buf, &len);
    RedisModule_DigestAddStringBuffer(md, buf, len);
    RedisModule_DigestEndSequence(md);
    swFree(buf);
}

int SwarmCodec_RestoreOrReply(const SwarmCodec *c, RedisModuleType *type, RedisModuleCtx *ctx,
                              RedisModuleKey *key, const char *buf, size_t len) {
    void *value;
    swError err;
    swStatus st = c->decode(buf, len, &value, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
        return REDISMODULE_ERR;
    }
    c->account(value, 1);
    RedisModule_ModuleTypeSetValue(key, type, value);
    return REDISMODULE_OK;
}
