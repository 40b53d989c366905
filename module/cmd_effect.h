/* cmd_effect.h -- the internal commands that carry state exactly (cmd_effect.c):
 * SWARM.APPLY, the replicated effect of a publish or a snapshot write, and SWARM.RESTORE,
 * a value recreated from its serialized form (what AOF rewrite emits). */
#ifndef SWARM_CMD_EFFECT_H
#define SWARM_CMD_EFFECT_H

#include "redismodule.h"

/* Registers SWARM.APPLY and SWARM.RESTORE and their documentation. */
int SwarmEffect_Register(RedisModuleCtx *ctx);

#endif
