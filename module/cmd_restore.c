/* cmd_restore.c -- SWARM.RESTORE key type payload [REPLACE]: recreates a swarm value from
 * its serialized form. AOF rewrite emits it so a rewritten AOF rebuilds every value exactly
 * (ids, counters, clocks and all); it validates the payload as strictly as RDB loading.
 * Internal: only AOF loading and the master link run it (clients use DUMP/RESTORE). */
#include <string.h>
#include <strings.h>

#include "swarm.h"

static int SwarmRestore_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!SwarmInternalAllowed(ctx)) return SwarmReplyInternal(ctx, "SWARM.RESTORE");
    if (argc != 4 && argc != 5) return RedisModule_WrongArity(ctx);
    int replace = 0;
    if (argc == 5) {
        if (strcasecmp(RedisModule_StringPtrLen(argv[4], NULL), "REPLACE") != 0)
            return RedisModule_ReplyWithError(ctx, "ERR syntax error");
        replace = 1;
    }
    const char *type = RedisModule_StringPtrLen(argv[2], NULL);
    int snp = strcmp(type, "swarm-snp") == 0;
    if (!snp && strcmp(type, "swarm-rtb") != 0) {
        return RedisModule_ReplyWithError(ctx, "ERR unknown type, expected swarm-rtb or swarm-snp");
    }
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (!replace && RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "BUSYKEY Target key name already exists.");
    }
    size_t len;
    const char *buf = RedisModule_StringPtrLen(argv[3], &len);
    int ok = snp ? SwarmSnapType_RestoreOrReply(ctx, key, buf, len)
                 : SwarmRouteType_RestoreOrReply(ctx, key, buf, len);
    if (ok == REDISMODULE_OK) {
        SwarmTouched(ctx, argv[1], "swarm.restore");
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

int SwarmRestore_Register(RedisModuleCtx *ctx) {
    return SwarmRegister(
        ctx, NULL, "swarm.restore", SwarmRestore_RedisCommand, "write deny-oom", 1,
        &(RedisModuleCommandInfo){
            .summary = "Recreates a swarm value from its serialized form (emitted by AOF "
                       "rewrite)",
            .complexity = "O(N) in the size of the payload",
            .arity = -4,
            .key_specs =
                (RedisModuleCommandKeySpec[]){
                    {.flags = REDISMODULE_CMD_KEY_OW | REDISMODULE_CMD_KEY_UPDATE,
                     .begin_search_type = REDISMODULE_KSPEC_BS_INDEX,
                     .bs.index.pos = 1,
                     .find_keys_type = REDISMODULE_KSPEC_FK_RANGE,
                     .fk.range = {0, 1, 0}},
                    {0}},
            .args = (RedisModuleCommandArg[]){
                {.name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0},
                {.name = "type", .type = REDISMODULE_ARG_TYPE_STRING},
                {.name = "payload", .type = REDISMODULE_ARG_TYPE_STRING},
                {.name = "replace",
                 .type = REDISMODULE_ARG_TYPE_PURE_TOKEN,
                 .token = "REPLACE",
                 .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                {0}}});
}
