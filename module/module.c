/* module.c -- the swarm module's entry point: allocator, configuration, INFO, command
 * registration helpers and the status-to-reply mapping shared by every command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "swarm.h"
#include "swarm/alloc.h"

SwarmConfig swarmConfig;
SwarmCounters swarmCounters;

/* ---- Allocator: the core allocates through Redis so INFO memory sees it ---- */

static void *SwarmAlloc(size_t n) {
    return RedisModule_Alloc(n);
}
static void *SwarmCalloc(size_t n, size_t s) {
    return RedisModule_Calloc(n, s);
}
static void *SwarmRealloc(void *p, size_t n) {
    return RedisModule_Realloc(p, n);
}
static void SwarmFree(void *p) {
    RedisModule_Free(p);
}
static size_t SwarmMallocSize(void *p) {
    return RedisModule_MallocSize(p);
}

/* ---- Replies ---- */

int SwarmReplyStatus(RedisModuleCtx *ctx, swStatus st, const swError *err) {
    const char *code = "ERR";
    switch (st) {
    case SW_ERR_EVENTTYPE:
        code = "EVENTTYPE";
        break;
    case SW_ERR_DENIED:
        code = "DENIED";
        break;
    case SW_ERR_PAYLOAD:
        code = "PAYLOAD";
        break;
    case SW_ERR_CONFLICT:
        code = "CONFLICT";
        break;
    case SW_ERR_NOVERSION:
        code = "NOVERSION";
        break;
    case SW_ERR_NOMEM:
        return RedisModule_ReplyWithError(ctx, "OOM out of memory");
    default:
        break;
    }
    char buf[SW_ERRMSG_MAX + 32];
    snprintf(buf, sizeof(buf), "%s %s", code, err ? err->msg : "error");
    return RedisModule_ReplyWithError(ctx, buf);
}

int SwarmParseRangeOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                           long long max, const char *what, long long *out) {
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK) {
        RedisModule_ReplyWithError(ctx, "ERR value is not an integer or out of range");
        return REDISMODULE_ERR;
    }
    if (v < min || v > max) {
        char buf[160];
        snprintf(buf, sizeof(buf), "ERR %s must be between %lld and %lld", what, min, max);
        RedisModule_ReplyWithError(ctx, buf);
        return REDISMODULE_ERR;
    }
    *out = v;
    return REDISMODULE_OK;
}

/* cluster-enabled cannot change while the server runs: read it once, at load. */
static int swarmClusterMode;

int SwarmInCluster(RedisModuleCtx *ctx) {
    (void)ctx;
    return swarmClusterMode;
}

/* ---- Keys ---- */

int SwarmOpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                     RedisModuleType *type, RedisModuleKey **key, void **value) {
    /* In READ mode a missing key opens as NULL; RedisModule_CloseKey(NULL) is a no-op. */
    *key = RedisModule_OpenKey(ctx, keyname, mode);
    *value = NULL;
    int kt = RedisModule_KeyType(*key);
    if (kt == REDISMODULE_KEYTYPE_EMPTY) return REDISMODULE_OK;
    if (kt != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(*key) != type) {
        RedisModule_CloseKey(*key);
        *key = NULL;
        RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
        return REDISMODULE_ERR;
    }
    *value = RedisModule_ModuleTypeGetValue(*key);
    return REDISMODULE_OK;
}

void SwarmTouched(RedisModuleCtx *ctx, RedisModuleString *keyname, const char *event) {
    RedisModule_SignalModifiedKey(ctx, keyname);
    RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_MODULE, event, keyname);
}

/* ---- Command registration ---- */

int SwarmRegister(RedisModuleCtx *ctx, const char *parent, const char *name, RedisModuleCmdFunc fn,
                  const char *flags, int firstkey, const RedisModuleCommandInfo *info) {
    char full[128];
    int keystep = firstkey > 0 ? 1 : 0;
    if (parent) {
        RedisModuleCommand *p = RedisModule_GetCommand(ctx, parent);
        if (p == NULL || RedisModule_CreateSubcommand(p, name, fn, flags, firstkey, firstkey,
                                                      keystep) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
        snprintf(full, sizeof(full), "%s|%s", parent, name);
    } else {
        if (RedisModule_CreateCommand(ctx, name, fn, flags, firstkey, firstkey, keystep) ==
            REDISMODULE_ERR)
            return REDISMODULE_ERR;
        snprintf(full, sizeof(full), "%s", name);
    }
    if (info == NULL) return REDISMODULE_OK;
    RedisModuleCommandInfo ci = *info;
    ci.version = REDISMODULE_COMMAND_INFO_VERSION;
    if (ci.since == NULL) ci.since = SWARM_VERSION;
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, full);
    return cmd ? RedisModule_SetCommandInfo(cmd, &ci) : REDISMODULE_ERR;
}

int SwarmReplyHelp(RedisModuleCtx *ctx, const char *const *lines) {
    long n = 0;
    while (lines[n]) n++;
    RedisModule_ReplyWithArray(ctx, n);
    for (long i = 0; i < n; i++) RedisModule_ReplyWithSimpleString(ctx, lines[i]);
    return REDISMODULE_OK;
}

int SwarmRegisterFamily(RedisModuleCtx *ctx, const char *parent, const char *summary,
                        const SwarmSubcommand *subs, size_t n, RedisModuleCmdFunc help) {
    if (SwarmRegister(ctx, NULL, parent, NULL, "", 0,
                      &(RedisModuleCommandInfo){.summary = summary,
                                                .complexity = "Depends on subcommand.",
                                                .arity = -2}) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    for (size_t i = 0; i < n; i++) {
        if (SwarmRegister(ctx, parent, subs[i].name, subs[i].fn, subs[i].flags, 2, &subs[i].info) ==
            REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    return SwarmRegister(
        ctx, parent, "help", help, "readonly fast", 0,
        &(RedisModuleCommandInfo){.summary = "Shows helpful text about the different subcommands",
                                  .complexity = "O(1)",
                                  .arity = 2});
}

/* ---- Configuration ---- */

typedef struct SwarmNumConfig {
    const char *name;
    long long def, min, max;
    unsigned int flags;
    long long *val;
} SwarmNumConfig;

#define MB (1024LL * 1024LL)
static SwarmNumConfig numConfigs[] = {
    {"max-type-bytes", 256, 1, 65536, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.maxTypeBytes},
    {"max-payload-bytes", 1 * MB, 2, 512 * MB, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.maxPayloadBytes},
    {"max-snapshot-bytes", 64 * MB, 2, 512 * MB, REDISMODULE_CONFIG_MEMORY,
     &swarmConfig.maxSnapshotBytes},
    {"snapshot-keep", SW_SNAP_KEEP_DEFAULT, 1, SW_SNAP_KEEP_MAX, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.snapshotKeep},
    {"stream-maxlen", 100000, 1, (1LL << 62), REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.streamMaxlen},
    {"breaker-threshold", 5, 1, 1000000, REDISMODULE_CONFIG_DEFAULT, &swarmConfig.breakerThreshold},
    {"breaker-cooldown-ms", 30000, 1, 86400000LL * 30, REDISMODULE_CONFIG_DEFAULT,
     &swarmConfig.breakerCooldownMs},
};
#define NUM_CONFIGS (sizeof(numConfigs) / sizeof(numConfigs[0]))

static const char *pubsubNames[] = {"shard", "global"};
static const int pubsubValues[] = {0, 1};

static long long SwarmConfig_GetNum(const char *name, void *privdata) {
    (void)name;
    return *((SwarmNumConfig *)privdata)->val;
}

static int SwarmConfig_SetNum(const char *name, long long val, void *privdata,
                              RedisModuleString **err) {
    (void)name;
    (void)err;
    *((SwarmNumConfig *)privdata)->val = val;
    return REDISMODULE_OK;
}

static int SwarmConfig_GetPubsub(const char *name, void *privdata) {
    (void)name;
    (void)privdata;
    return swarmConfig.clusterPubsubGlobal;
}

static int SwarmConfig_SetPubsub(const char *name, int val, void *privdata,
                                 RedisModuleString **err) {
    (void)name;
    (void)privdata;
    (void)err;
    swarmConfig.clusterPubsubGlobal = val;
    return REDISMODULE_OK;
}

static int SwarmConfig_Register(RedisModuleCtx *ctx) {
    for (size_t i = 0; i < NUM_CONFIGS; i++) {
        SwarmNumConfig *c = &numConfigs[i];
        *c->val = c->def;
        if (RedisModule_RegisterNumericConfig(ctx, c->name, c->def, c->flags, c->min, c->max,
                                              SwarmConfig_GetNum, SwarmConfig_SetNum, NULL,
                                              c) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    swarmConfig.clusterPubsubGlobal = 0;
    return RedisModule_RegisterEnumConfig(ctx, "cluster-pubsub", 0, REDISMODULE_CONFIG_DEFAULT,
                                          pubsubNames, pubsubValues, 2, SwarmConfig_GetPubsub,
                                          SwarmConfig_SetPubsub, NULL, NULL);
}

/* Parses a size such as 65536, 64kb, 1mb or 2gb (Redis's memory units, case-insensitive). */
static int parseMemory(const char *s, long long *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return 0;
    static const struct {
        const char *unit;
        long long mul;
    } units[] = {{"", 1},           {"b", 1},
                 {"k", 1000},       {"kb", 1024},
                 {"m", 1000000},    {"mb", 1024 * 1024},
                 {"g", 1000000000}, {"gb", 1024 * 1024 * 1024}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            if (v > (1LL << 62) / units[i].mul) return 0;
            *out = v * units[i].mul;
            return 1;
        }
    }
    return 0;
}

/* Applies load-time arguments: `--loadmodule swarm.so max-payload-bytes 65536 ...`. Names
 * may carry the "swarm." prefix. Values are range-checked like CONFIG SET. */
static int SwarmConfig_ApplyArgs(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc % 2 != 0) {
        RedisModule_Log(ctx, "warning", "swarm: load arguments must be name/value pairs");
        return REDISMODULE_ERR;
    }
    for (int i = 0; i < argc; i += 2) {
        const char *name = RedisModule_StringPtrLen(argv[i], NULL);
        const char *value = RedisModule_StringPtrLen(argv[i + 1], NULL);
        if (strncasecmp(name, "swarm.", 6) == 0) name += 6;
        if (strcasecmp(name, "cluster-pubsub") == 0) {
            if (strcasecmp(value, "shard") && strcasecmp(value, "global")) {
                RedisModule_Log(ctx, "warning",
                                "swarm: cluster-pubsub must be shard or global, not '%s'", value);
                return REDISMODULE_ERR;
            }
            swarmConfig.clusterPubsubGlobal = strcasecmp(value, "global") == 0;
            continue;
        }
        SwarmNumConfig *c = NULL;
        for (size_t k = 0; k < NUM_CONFIGS; k++) {
            if (strcasecmp(name, numConfigs[k].name) == 0) c = &numConfigs[k];
        }
        if (c == NULL) {
            RedisModule_Log(ctx, "warning", "swarm: unknown load argument '%s'", name);
            return REDISMODULE_ERR;
        }
        long long v;
        char *end;
        int ok = (c->flags & REDISMODULE_CONFIG_MEMORY) ? parseMemory(value, &v)
                                                        : ((v = strtoll(value, &end, 10)),
                                                           end != value && *end == '\0');
        if (!ok || v < c->min || v > c->max) {
            RedisModule_Log(ctx, "warning", "swarm: %s must be between %lld and %lld, not '%s'",
                            c->name, c->min, c->max, value);
            return REDISMODULE_ERR;
        }
        *c->val = v;
    }
    return REDISMODULE_OK;
}

/* ---- INFO swarm ---- */

static void SwarmInfo(RedisModuleInfoCtx *ctx, int for_crash_report) {
    (void)for_crash_report;
    SwarmCounters *c = &swarmCounters;
    RedisModule_InfoAddSection(ctx, "");
    const struct {
        const char *name;
        atomic_ullong *v;
    } fields[] = {
        {"tables", &c->tables},
        {"routes", &c->routes},
        {"rules", &c->rules},
        {"published", &c->published},
        {"delivered", &c->delivered},
        {"unrouted", &c->unrouted},
        {"deadlettered", &c->deadlettered},
        {"shed", &c->shed},
        {"rejected_eventtype", &c->rejectedEventType},
        {"rejected_denied", &c->rejectedDenied},
        {"rejected_payload", &c->rejectedPayload},
        {"rejected_other", &c->rejectedOther},
        {"snapshots", &c->snapshots},
        {"snapshots_saved", &c->snapshotsSaved},
        {"snapshot_bytes", &c->snapshotBytes},
    };
    unsigned long long rejected =
        c->rejectedEventType + c->rejectedDenied + c->rejectedPayload + c->rejectedOther;
    RedisModule_InfoAddFieldCString(ctx, "version", SWARM_VERSION);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        RedisModule_InfoAddFieldULongLong(ctx, fields[i].name, atomic_load(fields[i].v));
        if (strcmp(fields[i].name, "shed") == 0)
            RedisModule_InfoAddFieldULongLong(ctx, "rejected", rejected);
    }
}

/* ---- Entry point ---- */

/* The one exported symbol: everything else is hidden (-fvisibility=hidden). */
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc);

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_Init(ctx, "swarm", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    swarmClusterMode = (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_CLUSTER) != 0;
    static const swAllocator redisAllocator = {SwarmAlloc, SwarmCalloc, SwarmRealloc, SwarmFree,
                                               SwarmMallocSize};
    swSetAllocator(&redisAllocator);
    /* Writes signal WATCH themselves (SwarmTouched), so commands that change nothing, such
     * as a rejected publish or an identical route, leave transactions alone. */
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS |
                                          REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED);

    if (SwarmConfig_Register(ctx) == REDISMODULE_ERR ||
        RedisModule_LoadConfigs(ctx) == REDISMODULE_ERR ||
        SwarmConfig_ApplyArgs(ctx, argv, argc) == REDISMODULE_ERR) {
        RedisModule_Log(ctx, "warning", "swarm: bad configuration");
        return REDISMODULE_ERR;
    }
    if (SwarmRouteType_Register(ctx) == REDISMODULE_ERR ||
        SwarmSnapType_Register(ctx) == REDISMODULE_ERR ||
        SwarmSnapshot_Register(ctx) == REDISMODULE_ERR ||
        SwarmRoute_Register(ctx) == REDISMODULE_ERR ||
        SwarmRestore_Register(ctx) == REDISMODULE_ERR ||
        SwarmPublish_Register(ctx) == REDISMODULE_ERR ||
        SwarmStats_Register(ctx) == REDISMODULE_ERR ||
        RedisModule_RegisterInfoFunc(ctx, SwarmInfo) == REDISMODULE_ERR) {
        RedisModule_Log(ctx, "warning", "swarm: registration failed");
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
