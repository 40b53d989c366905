/* type_codec.h -- the type methods both data types share, written once over a type's one
 * serialized form: RDB save/load, AOF rewrite (as SWARM.RESTORE), DEBUG DIGEST and
 * SWARM.RESTORE itself. A value that fails the core's validating decoder is refused (with a
 * logged reason or an error reply), never loaded and never a crash. */
#ifndef SWARM_TYPE_CODEC_H
#define SWARM_TYPE_CODEC_H

#include <stddef.h>

#include "redismodule.h"
#include "swarm/status.h"

/* A data type's serialized form. decode validates everything and creates nothing on
 * failure. account counts a value in (sign 1) or out of (-1) INFO swarm (stats.h). */
typedef struct SwarmCodec {
    const char *name; /* the type name, "swarm-rtb" or "swarm-snp" */
    int encver;
    swStatus (*encode)(const void *value, char **buf, size_t *len);
    swStatus (*decode)(const char *buf, size_t len, void **value, swError *err);
    void (*account)(const void *value, int sign);
} SwarmCodec;

void *SwarmCodec_RdbLoad(const SwarmCodec *c, RedisModuleIO *rdb, int encver);
void SwarmCodec_RdbSave(const SwarmCodec *c, RedisModuleIO *rdb, const void *value);
void SwarmCodec_AofRewrite(const SwarmCodec *c, RedisModuleIO *aof, RedisModuleString *key,
                           const void *value);
void SwarmCodec_Digest(const SwarmCodec *c, RedisModuleDigest *md, const void *value);

/* Decodes a value into key (counted in INFO swarm), or replies the error and returns
 * REDISMODULE_ERR with the key untouched. */
int SwarmCodec_RestoreOrReply(const SwarmCodec *c, RedisModuleType *type, RedisModuleCtx *ctx,
                              RedisModuleKey *key, const char *buf, size_t len);

#endif
