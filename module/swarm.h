/* swarm.h -- what the Redis glue files share: configuration, module-wide counters, the
 * data types and small reply helpers. Only glue files (module/ sources) include this. */
#ifndef SWARM_SWARM_H
#define SWARM_SWARM_H

#include <stdatomic.h>

#include "redismodule.h"
#include "swarm/status.h"
#include "swarm/snapshot.h"
#include "swarm/table.h"

#define SWARM_VERSION "0.1.0"

/* Nesting limit for payloads and snapshot documents (SPEC section 5). */
#define SWARM_JSON_MAX_DEPTH 128
#define SWARM_SNAPSHOT_MAX_DEPTH SWARM_JSON_MAX_DEPTH

/* ---- Configuration (SPEC section 9), set through module configs ---- */

typedef struct SwarmConfig {
    long long maxTypeBytes;
    long long maxPayloadBytes;
    long long maxSnapshotBytes;
    long long snapshotKeep;
    long long streamMaxlen;
    long long breakerThreshold;
    long long breakerCooldownMs;
    int clusterPubsubGlobal; /* 0: shard channels in cluster mode, 1: global */
} SwarmConfig;

extern SwarmConfig swarmConfig;

/* ---- Module-wide counters for INFO swarm ----
 * Atomic because values are also freed by the lazy-free thread. */

typedef struct SwarmCounters {
    atomic_ullong tables, routes, rules;
    atomic_ullong published, delivered, deadlettered, shed, unrouted;
    atomic_ullong rejectedEventType, rejectedDenied, rejectedPayload, rejectedOther;
    atomic_ullong snapshots, snapshotsSaved, snapshotBytes;
} SwarmCounters;

extern SwarmCounters swarmCounters;

/* ---- What the two data types share (type_codec.c) ---- */

/* A data type's one serialized form, used by RDB, AOF rewrite, DEBUG DIGEST and
 * SWARM.RESTORE alike. decode validates everything and creates nothing on failure. */
typedef struct SwarmCodec {
    const char *name; /* the type name, "swarm-rtb" or "swarm-snp" */
    int encver;
    swStatus (*encode)(const void *value, char **buf, size_t *len);
    swStatus (*decode)(const char *buf, size_t len, void **value, swError *err);
    void (*account)(const void *value, int sign); /* INFO swarm counters */
} SwarmCodec;

void *SwarmCodec_RdbLoad(const SwarmCodec *c, RedisModuleIO *rdb, int encver);
void SwarmCodec_RdbSave(const SwarmCodec *c, RedisModuleIO *rdb, const void *value);
void SwarmCodec_AofRewrite(const SwarmCodec *c, RedisModuleIO *aof, RedisModuleString *key,
                           const void *value);
void SwarmCodec_Digest(const SwarmCodec *c, RedisModuleDigest *md, const void *value);
/* Decodes a value into key, or replies the error and returns REDISMODULE_ERR. */
int SwarmCodec_RestoreOrReply(const SwarmCodec *c, RedisModuleType *type, RedisModuleCtx *ctx,
                              RedisModuleKey *key, const char *buf, size_t len);

/* ---- Routing table type (type_rtb.c) ---- */

extern RedisModuleType *SwarmRouteType;
int SwarmRouteType_Register(RedisModuleCtx *ctx);

/* Accounting hooks: call when a table enters or leaves the keyspace, or changes size. */
void SwarmRouteType_Account(const swTable *t, int sign);

/* Opens the routing table at keyname into *key. Replies WRONGTYPE and returns
 * REDISMODULE_ERR when the key holds another type. *table is NULL when the key is missing
 * (and *key may then be NULL in READ mode; closing NULL is fine). */
int SwarmRouteType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                               RedisModuleKey **key, swTable **table);

/* Stores a value decoded from its serialized form (SWARM.RESTORE, AOF rewrite); on a bad
 * payload replies the error and returns REDISMODULE_ERR, the key untouched. */
int SwarmRouteType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                  size_t len);

/* ---- Snapshot history type (type_snp.c) ---- */

extern RedisModuleType *SwarmSnapType;
int SwarmSnapType_Register(RedisModuleCtx *ctx);
void SwarmSnapType_Account(const swSnap *s, int sign);
/* As SwarmRouteType_OpenOrReply, for snapshot histories. */
int SwarmSnapType_OpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                              RedisModuleKey **key, swSnap **snap);
int SwarmSnapType_RestoreOrReply(RedisModuleCtx *ctx, RedisModuleKey *key, const char *buf,
                                 size_t len);

/* ---- Commands ---- */

int SwarmRoute_Register(RedisModuleCtx *ctx);
int SwarmRestore_Register(RedisModuleCtx *ctx);
int SwarmPublish_Register(RedisModuleCtx *ctx);
int SwarmSnapshot_Register(RedisModuleCtx *ctx);
int SwarmStats_Register(RedisModuleCtx *ctx);
/* SWARM.APPLY key SNAPSHOT version ts keep json (argv as received). */
int SwarmSnapshot_Apply(RedisModuleCtx *ctx, RedisModuleString **argv);

/* ---- Helpers (module.c) ---- */

/* Replies with the error of a core status, prefixed by its code word. */
int SwarmReplyStatus(RedisModuleCtx *ctx, swStatus st, const swError *err);

/* Registers a command, or a subcommand of the command named parent, with its documentation
 * (info may be NULL; its version and since are filled in). REDISMODULE_ERR when refused. */
int SwarmRegister(RedisModuleCtx *ctx, const char *parent, const char *name, RedisModuleCmdFunc fn,
                  const char *flags, int firstkey, const RedisModuleCommandInfo *info);

/* Opens keyname into *key and its value of the given module type into *value (NULL when
 * the key is missing; *key may then be NULL in READ mode, and closing NULL is fine).
 * Replies WRONGTYPE and returns REDISMODULE_ERR when the key holds anything else. */
int SwarmOpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                     RedisModuleType *type, RedisModuleKey **key, void **value);

/* A subcommand of a command family (SWARM.ROUTE, SWARM.SNAPSHOT): key at argv[2]. */
typedef struct SwarmSubcommand {
    const char *name;
    RedisModuleCmdFunc fn;
    const char *flags;
    RedisModuleCommandInfo info;
} SwarmSubcommand;

/* Registers the container command, its subcommands and a HELP subcommand. */
int SwarmRegisterFamily(RedisModuleCtx *ctx, const char *parent, const char *summary,
                        const SwarmSubcommand *subs, size_t n, RedisModuleCmdFunc help);

/* Key specs and argument docs shared by the command tables. */
#define SWARM_KEYSPEC(kpos, kflags)                                                                \
    (RedisModuleCommandKeySpec[]) {                                                                \
        {.flags = (kflags),                                                                        \
         .begin_search_type = REDISMODULE_KSPEC_BS_INDEX,                                          \
         .bs.index.pos = (kpos),                                                                   \
         .find_keys_type = REDISMODULE_KSPEC_FK_RANGE,                                             \
         .fk.range = {0, 1, 0}},                                                                   \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
#define SWARM_KS_READ SWARM_KEYSPEC(2, REDISMODULE_CMD_KEY_RO | REDISMODULE_CMD_KEY_ACCESS)
#define SWARM_KS_WRITE SWARM_KEYSPEC(2, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE)
#define SWARM_ARG_KEY                                                                              \
    { .name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0 }
#define SWARM_ARG(n, t)                                                                            \
    { .name = (n), .type = (t) }
#define SWARM_ARG_OPT(n, t, tok)                                                                   \
    { .name = (n), .type = (t), .token = (tok), .flags = REDISMODULE_CMD_ARG_OPTIONAL }
#define SWARM_ARG_END                                                                              \
    { 0 }

/* Records a change to keyname: signals WATCH and fires the keyspace event (class
 * REDISMODULE_NOTIFY_MODULE, e.g. "swarm.route.add"). Every write that changed a value
 * calls it; commands that changed nothing do not. */
void SwarmTouched(RedisModuleCtx *ctx, RedisModuleString *keyname, const char *event);

/* Replies a NULL-terminated list of lines, as the built-in HELP subcommands do. */
int SwarmReplyHelp(RedisModuleCtx *ctx, const char *const *lines);

/* 1 when the server runs in cluster mode. */
int SwarmInCluster(RedisModuleCtx *ctx);

/* Parses a long long in [min, max] or replies "ERR <what> ..." and returns REDISMODULE_ERR. */
int SwarmParseRangeOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                           long long max, const char *what, long long *out);

#endif
