/* cmd_stats.c -- SWARM.STATS: the counters of every routing table of the current database,
 * a page at a time, for monitoring (the Prometheus exporter script in contrib/prometheus).
 *
 *   SWARM.STATS cursor [COUNT count]
 *   -> [next-cursor, [[key, {published, delivered, ..., breakers-open}], ...]]
 *
 * The walk is SCAN's own (SCAN cursor TYPE swarm-rtb COUNT count), so it has SCAN's
 * guarantees: a full iteration from cursor 0 back to 0 returns every table present from
 * start to end at least once (and none twice unless the database shrinks meanwhile), a
 * call does work proportional to COUNT however many keys the database holds, and a page
 * may be empty while the cursor is not 0. Tables are opened without touching their LRU/LFU
 * clock, so a monitor reading them does not keep them from being evicted.
 *
 * The command is keyless: key-based ACL selectors (~pattern) cannot restrict it, just as
 * they do not restrict SCAN. Grant it only to users allowed to see every table's name. */
#include <stdio.h>

#include "cmd_stats.h"
#include "glue.h"
#include "swarm/table.h"
#include "type_rtb.h"

#define STATS_COUNT_DEFAULT 100
#define STATS_COUNT_MAX 1000

/* ---- SWARM.STATS cursor [COUNT count] ---- */

/* A SCAN cursor: an unsigned 64-bit decimal, as SCAN itself accepts. */
static int parseCursorOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, char *out,
                              size_t outlen) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(arg, &len);
    unsigned long long v;
    int digits = len > 0 && len < 21;
    for (size_t i = 0; digits && i < len; i++) digits = s[i] >= '0' && s[i] <= '9';
    if (!digits || RedisModule_StringToULongLong(arg, &v) != REDISMODULE_OK) {
        SwarmReplyError(ctx, SW_ERR_SYNTAX, "invalid cursor");
        return REDISMODULE_ERR;
    }
    snprintf(out, outlen, "%llu", v);
    return REDISMODULE_OK;
}

static int SwarmStatsCmd_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    char cursor[24], count[8];
    long long n = STATS_COUNT_DEFAULT;
    if (parseCursorOrReply(ctx, argv[1], cursor, sizeof(cursor)) != REDISMODULE_OK)
        return REDISMODULE_OK;
    SwarmOption opt = SWARM_OPT("COUNT", 1);
    if (SwarmParseOptionsOrReply(ctx, argv, argc, 2, &opt, 1) != REDISMODULE_OK ||
        (opt.at && SwarmParseRangeOrReply(ctx, argv[opt.at + 1], 1, STATS_COUNT_MAX, "COUNT", &n) !=
                       REDISMODULE_OK))
        return REDISMODULE_OK;
    snprintf(count, sizeof(count), "%lld", n);

    RedisModuleCallReply *scan =
        RedisModule_Call(ctx, "SCAN", "ccccc", cursor, "TYPE", "swarm-rtb", "COUNT", count);
    RedisModuleCallReply *next = NULL, *keys = NULL;
    if (scan && RedisModule_CallReplyType(scan) == REDISMODULE_REPLY_ARRAY &&
        RedisModule_CallReplyLength(scan) == 2) {
        next = RedisModule_CallReplyArrayElement(scan, 0);
        keys = RedisModule_CallReplyArrayElement(scan, 1);
    }
    if (next == NULL || keys == NULL ||
        RedisModule_CallReplyType(keys) != REDISMODULE_REPLY_ARRAY) {
        if (scan) RedisModule_FreeCallReply(scan);
        return SwarmReplyError(ctx, SW_ERR_SERVER, "SCAN failed while listing routing tables");
    }

    RedisModule_ReplyWithArray(ctx, 2);
    size_t clen;
    const char *c = RedisModule_CallReplyStringPtr(next, &clen);
    RedisModule_ReplyWithStringBuffer(ctx, c, clen);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    long replied = 0;
    size_t nkeys = RedisModule_CallReplyLength(keys);
    for (size_t i = 0; i < nkeys; i++) {
        RedisModuleString *name =
            RedisModule_CreateStringFromCallReply(RedisModule_CallReplyArrayElement(keys, i));
        if (name == NULL) continue;
        RedisModuleKey *key =
            RedisModule_OpenKey(ctx, name, REDISMODULE_READ | REDISMODULE_OPEN_KEY_NOTOUCH);
        /* SCAN filtered by type name, and nothing runs in between; check anyway. */
        if (RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE &&
            RedisModule_ModuleTypeGetType(key) == SwarmRouteType) {
            RedisModule_ReplyWithArray(ctx, 2);
            RedisModule_ReplyWithString(ctx, name);
            SwarmRouteType_ReplyStats(ctx, RedisModule_ModuleTypeGetValue(key), 1);
            replied++;
        }
        RedisModule_CloseKey(key);
        RedisModule_FreeString(ctx, name);
    }
    RedisModule_ReplySetArrayLength(ctx, replied);
    RedisModule_FreeCallReply(scan);
    return REDISMODULE_OK;
}

/* ---- Registration ---- */

int SwarmStatsCmd_Register(RedisModuleCtx *ctx) {
    const RedisModuleCommandInfo info = {
        .summary = "Incrementally lists the routing tables of the current database with their "
                   "counters and open breakers",
        .complexity = "O(1) for every call. O(N) for a complete iteration, with N the number "
                      "of keys in the database, plus O(R) per table returned for its R routes",
        .arity = -2,
        .args = (RedisModuleCommandArg[]){
            SWARM_ARG("cursor", REDISMODULE_ARG_TYPE_INTEGER),
            SWARM_ARG_OPT("count", REDISMODULE_ARG_TYPE_INTEGER, "COUNT"), SWARM_ARG_END}};
    return SwarmRegister(ctx, NULL, "swarm.stats", SwarmStatsCmd_RedisCommand, "readonly", 0,
                         &info);
}
