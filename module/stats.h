/* stats.h -- module-wide counters and the INFO swarm section.
 *
 * Every counter moves through SwarmStats_Add (or the two publish helpers built on it), and
 * nothing else writes them. Two kinds:
 *
 *   gauges   tables, routes, rules, snapshots, snapshot_bytes: what the keyspace holds now.
 *            A value is counted when it enters the keyspace (RDB load, RESTORE, COPY, a
 *            first write) and uncounted when it is freed; a write takes the value's counts
 *            out before changing it and puts them back after (type_rtb.h, type_snp.h).
 *   events   published ... duplicates ... regex_limit_hits, targets_refused: what commands on this
 * node did. Effects replicated from a master (SWARM.APPLY) are not counted again.
 *
 * Counters are atomic: values are also freed by the lazy-free thread. */
#ifndef SWARM_STATS_H
#define SWARM_STATS_H

#include "redismodule.h"
#include "swarm/status.h"
#include "swarm/table.h"

/* In INFO order; "rejected" (the sum of the rejected_* counters) follows "duplicates". */
typedef enum SwarmStat {
    SWARM_STAT_TABLES,
    SWARM_STAT_ROUTES,
    SWARM_STAT_RULES,
    SWARM_STAT_PUBLISHED,
    SWARM_STAT_DELIVERED,
    SWARM_STAT_UNROUTED,
    SWARM_STAT_DEADLETTERED,
    SWARM_STAT_SHED,
    SWARM_STAT_DUPLICATES, /* publishes answered as a remembered MSGID's duplicate */
    SWARM_STAT_REJECTED_EVENTTYPE,
    SWARM_STAT_REJECTED_DENIED,
    SWARM_STAT_REJECTED_PAYLOAD,
    SWARM_STAT_REJECTED_NOSWARM,
    SWARM_STAT_REJECTED_OOM, /* stream deliveries would pass maxmemory */
    SWARM_STAT_REJECTED_OTHER,
    SWARM_STAT_SNAPSHOTS,
    SWARM_STAT_SNAPSHOTS_SAVED,
    SWARM_STAT_SNAPSHOT_BYTES,
    SWARM_STAT_SNAPSHOTS_REJECTED_OOM, /* snapshot writes that would pass maxmemory */
    SWARM_STAT_REGEX_LIMIT_HITS,       /* rules and regex routes that could not decide */
    SWARM_STAT_TARGETS_REFUSED,        /* ROUTE ADD/DEFAULT targets the caller may not write */
    SWARM_STAT_COUNT
} SwarmStat;

/* Adds delta (may be negative) to a counter. */
void SwarmStats_Add(SwarmStat s, long long delta);

/* A counter's value now. */
unsigned long long SwarmStats_Get(SwarmStat s);

/* The name INFO swarm gives a counter ("published", "rejected_denied", ...). */
const char *SwarmStats_Name(SwarmStat s);

/* Counts one publish, accepted or answered as a duplicate, from the table increments of its
 * delta (published, delivered, unrouted, deadlettered, shed, duplicates). */
void SwarmStats_CountPublish(const swTableStats *inc);

/* Counts one rejected publish under the rejected_* counter of its status. */
void SwarmStats_CountRejection(swStatus st);

/* Registers the INFO swarm section. */
int SwarmStats_Register(RedisModuleCtx *ctx);

#endif
