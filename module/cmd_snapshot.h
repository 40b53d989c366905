/* cmd_snapshot.h -- SWARM.SNAPSHOT, versioned JSON state (cmd_snapshot.c). Its writes
 * replicate as SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json>, which cmd_effect.c
 * applies. */
#ifndef SWARM_CMD_SNAPSHOT_H
#define SWARM_CMD_SNAPSHOT_H

#include "redismodule.h"

/* Registers SWARM.SNAPSHOT, its subcommands and their documentation. */
int SwarmSnapshot_Register(RedisModuleCtx *ctx);

#endif
