/* cmd_publish.h -- SWARM.PUBLISH (cmd_publish.c). Its effect replicates as SWARM.APPLY key
 * PUBLISH ... (a rejection as SWARM.APPLY key ROUTE <delta>), which cmd_effect.c applies. */
#ifndef SWARM_CMD_PUBLISH_H
#define SWARM_CMD_PUBLISH_H

#include "redismodule.h"

/* Registers SWARM.PUBLISH and its documentation. */
int SwarmPublish_Register(RedisModuleCtx *ctx);

#endif
