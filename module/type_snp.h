/* type_snp.h -- the swarm-snp data type: a versioned JSON history (swarm/snapshot.h) as a
 * Redis value, and the one path every snapshot write takes (SwarmSnapType_Write), whether
 * it comes from SWARM.SNAPSHOT SAVE, PATCH and RESTORE or from a replicated SWARM.APPLY. */
#ifndef SWARM_TYPE_SNP_H
#define SWARM_TYPE_SNP_H

#include <stddef.h>
#include <stdint.h>

#include "redismodule.h"
#include "swarm/snapshot.h"
#include "swarm/status.h"

extern RedisModuleType *SwarmSnapType;

int SwarmSnapType_Register(RedisModuleCtx *ctx);

/* As SwarmRouteType_OpenOrReply (type_rtb.h), for snapshot histories. */
int SwarmSnapType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                              RedisModuleKey **key, swSnap **snap);

/* Stores a value decoded from its serialized form (SWARM.RESTORE); on a bad payload replies
 * the error and returns REDISMODULE_ERR, the key untouched. Every version is re-validated as
 * JSON. On success the key is signalled as ready (SWARM.SNAPSHOT WAIT). */
int SwarmSnapType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                 size_t len);

/* One write to a history: a new head from text (from == 0; swSnapSave) or retained version
 * from saved again (swSnapRestore). keep 0 leaves the history's keep limit. The caller has
 * validated text. event is the keyspace event to fire (NULL: "swarm.snapshot.save"). */
typedef struct SwarmSnapWrite {
    const char *text;
    size_t len;
    uint64_t from;
    int64_t ts;
    size_t keep;
    size_t keepBytes; /* > 0: evict the oldest versions while the older versions, as stored,
                         take more bytes than this (swSnapTrimBytes); the head always stays */
    const char *event;
    int unique; /* text is known to repeat no member name: the new head is marked so
                   (swSnapMarkHeadUnique) */
} SwarmSnapWrite;

/* Applies w to the history at key (existing, or a new one when existing is NULL), keeps
 * INFO swarm's counts right, records the change (w->event, WATCH) and signals the key as
 * ready, which wakes the clients blocked in SWARM.SNAPSHOT WAIT on it. SW_OK with the
 * history in *out; on failure the key is unchanged and the status and err tell why. */
swStatus SwarmSnapType_Write(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                             swSnap *existing, const SwarmSnapWrite *w, swSnap **out, swError *err);

#endif
