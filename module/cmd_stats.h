/* cmd_stats.h -- SWARM.STATS, the counters of every routing table of a database, a page
 * at a time (cmd_stats.c). */
#ifndef SWARM_CMD_STATS_H
#define SWARM_CMD_STATS_H

#include "redismodule.h"

/* Registers SWARM.STATS and its documentation. */
int SwarmStatsCmd_Register(RedisModuleCtx *ctx);

#endif
