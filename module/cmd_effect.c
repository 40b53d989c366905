/* cmd_effect.c -- the internal commands that carry state exactly, so replicas and the AOF
 * reach the master's state without re-running anything that depends on its clock or its
 * subscribers:
 *
 *   SWARM.APPLY key PUBLISH <delta> <effects> <type> <payload> [<sender>] [<msgid>]
 *                                                                     [<reply-to>]
 *                                            a publish (delta.h, effect.h; cmd_publish.c)
 *   SWARM.APPLY key ROUTE <delta>            a rejected publish (its counters)
 *   SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json> [<keep-bytes>]
 *                                            a snapshot write
 *   SWARM.RESTORE key <type> <payload> [REPLACE]               a whole value (AOF rewrite)
 *
 * They take ids, counters, clocks and envelopes as given, so they refuse every call that
 * does not come from the master link or from loading the AOF (a client could forge
 * messages to any channel otherwise). Each checks its input as strictly as RDB loading does
 * and changes nothing when it fails. */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "cmd_effect.h"
#include "config.h"
#include "glue.h"
#include "message.h"
#include "swarm/delta.h"
#include "swarm/effect.h"
#include "swarm/snapshot.h"
#include "type_rtb.h"
#include "type_snp.h"

/* ---- Who may run them ---- */

static int internalAllowed(RedisModuleCtx *ctx) {
    return SwarmIsReplay(ctx) || swarmConfig.debugInternalCommands;
}

static int replyInternal(RedisModuleCtx *ctx, const char *command) {
    return SwarmReplyError(ctx, SW_ERR_NOTALLOWED,
                           "%s is internal: only the master link and AOF loading may run it",
                           command);
}

/* ---- Opening the table ---- */

/* Opens the routing table an effect applies to, or replies (WRONGTYPE, or ERR when the
 * table is missing: the master had it) and returns REDISMODULE_ERR. */
static int openTableOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey **key,
                            swTable **t) {
    if (SwarmRouteType_OpenOrReply(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE, key, t) !=
        REDISMODULE_OK)
        return REDISMODULE_ERR;
    if (*t == NULL) {
        RedisModule_CloseKey(*key);
        SwarmReplyError(ctx, SW_ERR_NOTFOUND, "no such routing table");
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}

/* ---- SWARM.APPLY key PUBLISH delta effects type payload [sender] [msgid] [reply-to] ----
 * The effect's flags say which of the last three are there. */

/* Redoes a publish's deliveries, already checked against t: stream entries with their
 * exact ids (as on the master: keyspace events, wake-ups), and the envelope on each
 * channel unless the AOF is loading (those messages were delivered long ago). Returns how
 * many stream entries could not be appended (a stream that differs from the master's). */
static int redoDeliveries(RedisModuleCtx *ctx, swTable *t, const char *buf, size_t len,
                          SwarmMessage *m) {
    int loading = (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_LOADING) != 0;
    swEffectReader rd;
    swEffectHead h;
    swEffect e;
    int failures = 0;
    swEffectOpen(&rd, buf, len, &h, NULL);
    while (swEffectNext(&rd, &e, NULL) == 1) {
        const char *name;
        size_t nlen;
        swEffectTarget(t, &e, &name, &nlen, NULL);
        if (e.kind == SW_EFFECT_STREAM) {
            RedisModuleStreamID id = {e.ms, e.seq}, out;
            int64_t trimmed;
            if (SwarmMessage_Append(ctx, m, name, nlen, &id, 0, e.trimTo, &out, &trimmed) !=
                REDISMODULE_OK)
                failures++;
        } else if (!loading) {
            SwarmMessage_Publish(ctx, m, name, nlen, 0);
        }
    }
    return failures;
}

static int applyPublish(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 7 || argc > 10) return RedisModule_WrongArity(ctx);
    size_t dlen, elen;
    const char *dbuf = RedisModule_StringPtrLen(argv[3], &dlen);
    const char *ebuf = RedisModule_StringPtrLen(argv[4], &elen);
    swError err;
    swEffectReader rd;
    swEffectHead h;
    if (swEffectOpen(&rd, ebuf, elen, &h, &err) != SW_OK)
        return SwarmReplyStatus(ctx, SW_ERR_CORRUPT, &err);
    if (argc != 7 + h.hasSender + h.hasMsgid + h.hasReplyTo)
        return SwarmReplyError(ctx, SW_ERR_CORRUPT,
                               "publish effect and arguments disagree on SENDER, MSGID or REPLYTO");
    swTable *t;
    RedisModuleKey *key;
    if (openTableOrReply(ctx, argv[1], &key, &t) != REDISMODULE_OK) return REDISMODULE_OK;
    /* Every delivery's target, then the delta, checked before anything changes. */
    swStatus st = SW_OK;
    swEffect e;
    int more;
    while ((more = swEffectNext(&rd, &e, &err)) == 1) {
        const char *name;
        size_t nlen;
        if ((st = swEffectTarget(t, &e, &name, &nlen, &err)) != SW_OK) break;
    }
    if (more < 0) st = SW_ERR_CORRUPT;
    swDelta d;
    if (st == SW_OK) st = swDeltaCheck(t, dbuf, dlen, &d, &err);
    if (st != SW_OK) {
        RedisModule_CloseKey(key);
        return SwarmReplyStatus(ctx, st, &err);
    }
    swDeltaCommit(t, &d);
    swDeltaRelease(&d);
    SwarmMessage m;
    int x = 7;
    RedisModuleString *sender = h.hasSender ? argv[x++] : NULL;
    RedisModuleString *msgid = h.hasMsgid ? argv[x++] : NULL;
    SwarmMessage_Set(&m, argv[1], argv[5], argv[6], sender, h.priority, h.ts);
    SwarmMessage_SetExtras(&m, msgid, h.hasReplyTo ? argv[x] : NULL);
    SwarmMessage_SetId(&m, h.idMs, h.idSeq);
    int failures = redoDeliveries(ctx, t, ebuf, elen, &m);
    RedisModule_CloseKey(key);
    SwarmTouched(ctx, argv[1], "swarm.publish");
    RedisModule_ReplicateVerbatim(ctx);
    if (failures) {
        RedisModule_Log(ctx, "warning",
                        "swarm: SWARM.APPLY could not append %d stream entries of message %s "
                        "(a stream key differs from the master's)",
                        failures, m.facts.id);
        SwarmMessage_Release(ctx, &m);
        return SwarmReplyError(ctx, SW_ERR_DIVERGED,
                               "a stream entry of the publish could not be appended");
    }
    SwarmMessage_Release(ctx, &m);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* ---- SWARM.APPLY key ROUTE delta ---- */

static int applyRoute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 4)
        return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error, ROUTE takes one delta");
    swTable *t;
    RedisModuleKey *key;
    if (openTableOrReply(ctx, argv[1], &key, &t) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t len;
    const char *buf = RedisModule_StringPtrLen(argv[3], &len);
    swError err;
    swDelta d;
    swStatus st = swDeltaCheck(t, buf, len, &d, &err);
    if (st == SW_OK) {
        swDeltaCommit(t, &d);
        swDeltaRelease(&d);
    }
    RedisModule_CloseKey(key);
    if (st != SW_OK) return SwarmReplyStatus(ctx, st, &err);
    SwarmTouched(ctx, argv[1], "swarm.publish");
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* ---- SWARM.APPLY key SNAPSHOT version ts keep json [keep-bytes] ----
 * keep-bytes is the master's swarm.snapshot-keep-bytes at the write (0: no bound); effects
 * written before it existed have none. */

static int applySnapshot(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 7 && argc != 8) return RedisModule_WrongArity(ctx);
    long long version, ts, keep, keepBytes = 0;
    swError err;
    /* Masters write these numbers, not users: any bad one is Redis's integer error. */
    if (SwarmParseRange(argv[3], LLONG_MIN, LLONG_MAX, "version", &version, &err) != SW_OK ||
        SwarmParseRange(argv[4], LLONG_MIN, LLONG_MAX, "ts", &ts, &err) != SW_OK ||
        SwarmParseRange(argv[5], 1, SW_SNAP_KEEP_MAX, "keep", &keep, &err) != SW_OK ||
        (argc == 8 &&
         SwarmParseRange(argv[7], 0, LLONG_MAX, "keep-bytes", &keepBytes, &err) != SW_OK))
        return SwarmReplyError(ctx, SW_ERR_SYNTAX, "value is not an integer or out of range");
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *head = s ? swSnapHead(s) : NULL;
    swStatus st = SW_OK;
    SwarmSnapWrite w = {.ts = ts, .keep = (size_t)keep, .keepBytes = (size_t)keepBytes};
    w.text = RedisModule_StringPtrLen(argv[6], &w.len);
    if ((head ? head->version : 0) + 1 != (unsigned long long)version) {
        st = swErrorSet(&err, SW_ERR_DIVERGED, 0, "snapshot version out of sequence");
    } else if ((st = SwarmJsonCheck(w.text, w.len, SWARM_SNAPSHOT_MAX_DEPTH, &err)) == SW_OK) {
        swSnap *out;
        st = SwarmSnapType_Write(ctx, argv[1], key, s, &w, &out, &err);
    }
    if (st == SW_OK) {
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_ReplyWithSimpleString(ctx, "OK");
    } else {
        SwarmReplyStatus(ctx, st, &err);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

static int SwarmApply_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!internalAllowed(ctx)) return replyInternal(ctx, "SWARM.APPLY");
    const char *kind = RedisModule_StringPtrLen(argv[2], NULL);
    if (strcasecmp(kind, "PUBLISH") == 0) return applyPublish(ctx, argv, argc);
    if (strcasecmp(kind, "SNAPSHOT") == 0) return applySnapshot(ctx, argv, argc);
    if (strcasecmp(kind, "ROUTE") == 0) return applyRoute(ctx, argv, argc);
    return SwarmReplyError(ctx, SW_ERR_SYNTAX,
                           "unknown effect kind, expected PUBLISH, ROUTE or SNAPSHOT");
}

/* ---- SWARM.RESTORE key type payload [REPLACE] ---- */

static int SwarmRestore_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!internalAllowed(ctx)) return replyInternal(ctx, "SWARM.RESTORE");
    if (argc != 4 && argc != 5) return RedisModule_WrongArity(ctx);
    SwarmOption opt = SWARM_OPT("REPLACE", 0);
    if (SwarmParseOptionsOrReply(ctx, argv, argc, 4, &opt, 1) != REDISMODULE_OK)
        return REDISMODULE_OK;
    int replace = opt.at != 0;
    const char *type = RedisModule_StringPtrLen(argv[2], NULL);
    int snp = strcmp(type, "swarm-snp") == 0;
    if (!snp && strcmp(type, "swarm-rtb") != 0)
        return SwarmReplyError(ctx, SW_ERR_SYNTAX, "unknown type, expected swarm-rtb or swarm-snp");
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (!replace && RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_CloseKey(key);
        /* Redis's own RESTORE error. */
        return RedisModule_ReplyWithError(ctx, "BUSYKEY Target key name already exists.");
    }
    size_t len;
    const char *buf = RedisModule_StringPtrLen(argv[3], &len);
    int ok = snp ? SwarmSnapType_RestoreOrReply(ctx, key, buf, len)
                 : SwarmRouteType_RestoreOrReply(ctx, key, buf, len);
    if (ok == REDISMODULE_OK) {
        SwarmTouched(ctx, argv[1], "swarm.restore");
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- Registration ---- */

int SwarmEffect_Register(RedisModuleCtx *ctx) {
    if (SwarmRegisterAcl(
            ctx, NULL, "swarm.apply", SwarmApply_RedisCommand, "write", 1,
            &(RedisModuleCommandInfo){
                .summary = "Applies the replicated effect of SWARM.PUBLISH or of a snapshot "
                           "write (internal: what replicas and the AOF receive)",
                .complexity = "O(R + T + P) for R routes in the delta, T deliveries and a "
                              "payload of P bytes; O(N) for a snapshot of N bytes",
                .arity = -4,
                .key_specs = SWARM_KEYSPEC(1, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE),
                .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                                  SWARM_ARG("kind", REDISMODULE_ARG_TYPE_STRING),
                                                  {.name = "effect",
                                                   .type = REDISMODULE_ARG_TYPE_STRING,
                                                   .flags = REDISMODULE_CMD_ARG_MULTIPLE},
                                                  SWARM_ARG_END}},
            "dangerous") == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return SwarmRegisterAcl(
        ctx, NULL, "swarm.restore", SwarmRestore_RedisCommand, "write deny-oom", 1,
        &(RedisModuleCommandInfo){
            .summary = "Recreates a swarm value from its serialized form (emitted by AOF "
                       "rewrite)",
            .complexity = "O(N) in the size of the payload",
            .arity = -4,
            .key_specs = SWARM_KEYSPEC(1, REDISMODULE_CMD_KEY_OW | REDISMODULE_CMD_KEY_UPDATE),
            .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                              SWARM_ARG("type", REDISMODULE_ARG_TYPE_STRING),
                                              SWARM_ARG("payload", REDISMODULE_ARG_TYPE_STRING),
                                              {.name = "replace",
                                               .type = REDISMODULE_ARG_TYPE_PURE_TOKEN,
                                               .token = "REPLACE",
                                               .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                                              SWARM_ARG_END}},
        "dangerous");
}
