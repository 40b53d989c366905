/* cmd_route.h -- SWARM.ROUTE, the routing table's subcommands (cmd_route.c). */
#ifndef SWARM_CMD_ROUTE_H
#define SWARM_CMD_ROUTE_H

#include "redismodule.h"

/* Registers SWARM.ROUTE, its subcommands and their documentation. */
int SwarmRoute_Register(RedisModuleCtx *ctx);

#endif
