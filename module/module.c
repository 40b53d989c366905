/* module.c -- the swarm module's entry point, and nothing else: it sets up the glue, then
 * registers configs, the data types, the commands and INFO swarm. Every other glue file is
 * reached from here and none calls back into it (see docs/design/01-core-glue-split.md). */
#include "cmd_effect.h"
#include "cmd_publish.h"
#include "cmd_route.h"
#include "cmd_snapshot.h"
#include "cmd_stats.h"
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "type_rtb.h"
#include "type_snp.h"

/* The one exported symbol: everything else is hidden (-fvisibility=hidden). */
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc);

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_Init(ctx, "swarm", SWARM_VERSION_NUM, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    SwarmGlue_Init(ctx);
    if (SwarmConfig_Load(ctx, argv, argc) == REDISMODULE_ERR) {
        RedisModule_Log(ctx, "warning", "swarm: bad configuration");
        return REDISMODULE_ERR;
    }
    if (SwarmRouteType_Register(ctx) == REDISMODULE_ERR ||
        SwarmSnapType_Register(ctx) == REDISMODULE_ERR ||
        SwarmSnapshot_Register(ctx) == REDISMODULE_ERR ||
        SwarmRoute_Register(ctx) == REDISMODULE_ERR ||
        SwarmEffect_Register(ctx) == REDISMODULE_ERR ||
        SwarmPublish_Register(ctx) == REDISMODULE_ERR ||
        SwarmStatsCmd_Register(ctx) == REDISMODULE_ERR ||
        SwarmStats_Register(ctx) == REDISMODULE_ERR) {
        RedisModule_Log(ctx, "warning", "swarm: registration failed");
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
