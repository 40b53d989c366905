/* stats.c -- module-wide counters and INFO swarm (see stats.h). */
#include <stdatomic.h>

#include "glue.h"
#include "stats.h"

static atomic_ullong counters[SWARM_STAT_COUNT];

static const char *const names[SWARM_STAT_COUNT] = {
    [SWARM_STAT_TABLES] = "tables",
    [SWARM_STAT_ROUTES] = "routes",
    [SWARM_STAT_RULES] = "rules",
    [SWARM_STAT_PUBLISHED] = "published",
    [SWARM_STAT_DELIVERED] = "delivered",
    [SWARM_STAT_UNROUTED] = "unrouted",
    [SWARM_STAT_DEADLETTERED] = "deadlettered",
    [SWARM_STAT_SHED] = "shed",
    [SWARM_STAT_DUPLICATES] = "duplicates",
    [SWARM_STAT_REJECTED_EVENTTYPE] = "rejected_eventtype",
    [SWARM_STAT_REJECTED_DENIED] = "rejected_denied",
    [SWARM_STAT_REJECTED_PAYLOAD] = "rejected_payload",
    [SWARM_STAT_REJECTED_NOSWARM] = "rejected_noswarm",
    [SWARM_STAT_REJECTED_OOM] = "rejected_oom",
    [SWARM_STAT_REJECTED_OTHER] = "rejected_other",
    [SWARM_STAT_SNAPSHOTS] = "snapshots",
    [SWARM_STAT_SNAPSHOTS_SAVED] = "snapshots_saved",
    [SWARM_STAT_SNAPSHOT_BYTES] = "snapshot_bytes",
    [SWARM_STAT_SNAPSHOTS_REJECTED_OOM] = "snapshots_rejected_oom",
    [SWARM_STAT_REGEX_LIMIT_HITS] = "regex_limit_hits",
    [SWARM_STAT_TARGETS_REFUSED] = "targets_refused",
};

void SwarmStats_Add(SwarmStat s, long long delta) {
    /* Unsigned wrap-around makes a negative delta a subtraction. */
    atomic_fetch_add_explicit(&counters[s], (unsigned long long)delta, memory_order_relaxed);
}

unsigned long long SwarmStats_Get(SwarmStat s) {
    return atomic_load_explicit(&counters[s], memory_order_relaxed);
}

const char *SwarmStats_Name(SwarmStat s) {
    return names[s];
}

void SwarmStats_CountPublish(const swTableStats *inc) {
    SwarmStats_Add(SWARM_STAT_PUBLISHED, (long long)inc->published);
    if (inc->delivered) SwarmStats_Add(SWARM_STAT_DELIVERED, (long long)inc->delivered);
    if (inc->unrouted) SwarmStats_Add(SWARM_STAT_UNROUTED, (long long)inc->unrouted);
    if (inc->deadlettered) SwarmStats_Add(SWARM_STAT_DEADLETTERED, (long long)inc->deadlettered);
    if (inc->shed) SwarmStats_Add(SWARM_STAT_SHED, (long long)inc->shed);
    if (inc->duplicates) SwarmStats_Add(SWARM_STAT_DUPLICATES, (long long)inc->duplicates);
}

void SwarmStats_CountRejection(swStatus st) {
    SwarmStats_Add(st == SW_ERR_EVENTTYPE ? SWARM_STAT_REJECTED_EVENTTYPE
                   : st == SW_ERR_DENIED  ? SWARM_STAT_REJECTED_DENIED
                   : st == SW_ERR_PAYLOAD ? SWARM_STAT_REJECTED_PAYLOAD
                                          : SWARM_STAT_REJECTED_OTHER,
                   1);
}

static void SwarmStats_Info(RedisModuleInfoCtx *ctx, int for_crash_report) {
    (void)for_crash_report;
    RedisModule_InfoAddSection(ctx, "");
    RedisModule_InfoAddFieldCString(ctx, "version", SWARM_VERSION);
    RedisModule_InfoAddFieldCString(ctx, "allocator", SwarmAllocatorName());
    for (int s = 0; s < SWARM_STAT_COUNT; s++) {
        RedisModule_InfoAddFieldULongLong(ctx, names[s], SwarmStats_Get((SwarmStat)s));
        if (s == SWARM_STAT_DUPLICATES) {
            unsigned long long rejected = 0;
            for (int r = SWARM_STAT_REJECTED_EVENTTYPE; r <= SWARM_STAT_REJECTED_OTHER; r++)
                rejected += SwarmStats_Get((SwarmStat)r);
            RedisModule_InfoAddFieldULongLong(ctx, "rejected", rejected);
        }
    }
}

int SwarmStats_Register(RedisModuleCtx *ctx) {
    return RedisModule_RegisterInfoFunc(ctx, SwarmStats_Info);
}
