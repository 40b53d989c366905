/* cmd_publish.c -- SWARM.PUBLISH: validated, routed events.
 *
 *   validate everything -> open the table (NOSWARM when missing) -> resolve routes (cached
 *   per type) -> a remembered MSGID answers the original id -> plan (core publish.h:
 *   selection, id, MSGID, breakers, dead letter) -> deliver what the plan asks, reporting
 *   each outcome -> reply [id, delivered, receivers, lost, duplicate] -> commit the delta ->
 *   one SWARM.APPLY.
 *
 * What to deliver and what the outcomes mean is the core's; this file only performs the
 * deliveries.
 * Channels get the envelope through RedisModule_PublishMessage; streams get an entry
 * through RedisModule_StreamAdd, with what XADD does around it (message.c). In cluster mode
 * a stream key must be served here, the slot check RM_Call made for XADD.
 *
 * Replication is deterministic and costs one command per publish, whatever the targets:
 *
 *   SWARM.APPLY key PUBLISH <delta> <effects> <type> <payload> [<sender>] [<msgid>]
 *                                                                  [<reply-to>]
 *
 * <delta> is the table's change (delta.h), <effects> the id, ts, priority and deliveries
 * (effect.h: stream entries with their exact ids and trimmed lengths, channel publishes),
 * and the rest are this command's own argument strings, passed by reference. cmd_effect.c
 * applies it: a replica rebuilds the same envelope and entries and never reads a clock or a
 * subscriber count of its own. In cluster mode envelopes travel over the cluster bus
 * instead, so no channel delivery is recorded. A rejected publish replicates
 * SWARM.APPLY key ROUTE <delta> (the rejection counters). */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cmd_publish.h"
#include "config.h"
#include "glue.h"
#include "message.h"
#include "stats.h"
#include "swarm/buf.h"
#include "swarm/delta.h"
#include "swarm/effect.h"
#include "swarm/envelope.h"
#include "swarm/event.h"
#include "swarm/keyslot.h"
#include "swarm/publish.h"
#include "swarm/resolve.h"
#include "type_rtb.h"

/* ---- Replication state ---- */

/* Replicas attached to this node (ReplicaChange events): they publish every envelope to
 * their own subscribers, which this node cannot count. */
static int attachedReplicas;

/* Whether anything can receive what this node propagates. Redis drops every propagated
 * command when the AOF is off and no replica ever attached (no replication backlog), and
 * then building the delta and effect record and calling RM_Replicate would cost more than
 * the rest of a channel publish. A module cannot see the backlog, so this is a latch that
 * opens for good at the first sign of replication since load: a child process (every full
 * sync forks one, before the replica receives any command), a replica coming or going, a
 * role or master link change, or a backlog, replica or master already there at load. The
 * AOF is checked on every call. */
static int replicationSeen;

static int propagationPossible(RedisModuleCtx *ctx) {
    return replicationSeen || (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_AOF);
}

/* Nothing receives the effect: mark the dataset changed (what RM_Replicate also does, for
 * save points) through RedisModule_ReplicateVerbatim, which then propagates nothing. */
static void markChanged(RedisModuleCtx *ctx) {
    RedisModule_ReplicateVerbatim(ctx);
}

static void onReplicaChange(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)ctx;
    (void)e;
    (void)data;
    replicationSeen = 1;
    if (sub == REDISMODULE_SUBEVENT_REPLICA_CHANGE_ONLINE)
        attachedReplicas++;
    else if (attachedReplicas > 0)
        attachedReplicas--;
}

static void onReplicationSign(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)ctx;
    (void)e;
    (void)sub;
    (void)data;
    replicationSeen = 1;
}

/* Opens the latch when the server's replication state shows a replica, a master or a
 * backlog. */
static void replicationRead(RedisModuleCtx *ctx) {
    RedisModuleServerInfoData *info = RedisModule_GetServerInfo(ctx, "replication");
    if (info) {
        attachedReplicas =
            (int)RedisModule_ServerInfoGetFieldSigned(info, "connected_slaves", NULL);
        const char *role = RedisModule_ServerInfoGetFieldC(info, "role");
        if (attachedReplicas > 0 || (role && strcmp(role, "master") != 0) ||
            RedisModule_ServerInfoGetFieldSigned(info, "repl_backlog_active", NULL) != 0)
            replicationSeen = 1;
        RedisModule_FreeServerInfo(ctx, info);
    } else {
        replicationSeen = 1;
    }
}

/* Loading an RDB or AOF can restore a replication id and create a backlog (so that replicas
 * may resume with PSYNC after a restart): read the state again once loading ends. */
static void onLoadingEvent(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)e;
    (void)data;
    if (sub == REDISMODULE_SUBEVENT_LOADING_ENDED) replicationRead(ctx);
}

/* Reads the replication state at load (a MODULE LOAD may come late) and follows it. */
static int replicationInit(RedisModuleCtx *ctx) {
    replicationRead(ctx);
    if (RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_Loading, onLoadingEvent) ==
            REDISMODULE_ERR ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ReplicationRoleChanged,
                                           onReplicationSign) == REDISMODULE_ERR ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_MasterLinkChange,
                                           onReplicationSign) == REDISMODULE_ERR ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ForkChild, onReplicationSign) ==
            REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ReplicaChange, onReplicaChange);
}

/* ---- Delivery ---- */

/* One publish as the glue performs it. */
typedef struct Publish {
    SwarmMessage m;
    swBuf *effects; /* deliveries for replicas, NULL when nothing receives them */
    long long receivers;
    int priority;
    int senderArg, msgidArg, replyToArg; /* argv index of each option's value, 0 when none */
    const char *msgid;
    size_t msgidLen;
    long long now;
    swRule *deny; /* the DENY rule that refused the type, if one did */
    swPublish plan;
} Publish;

static swOutcome deliverStream(RedisModuleCtx *ctx, Publish *p, uint64_t target, const char *name,
                               size_t nlen) {
    /* What RM_Call checked for XADD: in cluster mode the key must be served here. */
    if (SwarmInCluster() && swKeySlot(name, nlen) != swKeySlot(p->m.facts.key, p->m.facts.klen))
        return SW_OUTCOME_FAILED;
    RedisModuleStreamID sid;
    int64_t trimmed;
    if (SwarmMessage_Append(ctx, &p->m, name, nlen, NULL, swarmConfig.streamMaxlen, -1, &sid,
                            &trimmed) != REDISMODULE_OK)
        return SW_OUTCOME_FAILED;
    if (p->effects) {
        swEffectAdd(p->effects, &(swEffect){.kind = SW_EFFECT_STREAM,
                                            .target = target,
                                            .ms = sid.ms,
                                            .seq = sid.seq,
                                            .trimTo = trimmed});
    }
    return SW_OUTCOME_OK;
}

static swOutcome deliverChannel(RedisModuleCtx *ctx, Publish *p, uint64_t target, const char *name,
                                size_t nlen) {
    int cluster = SwarmInCluster(), shard = cluster && !swarmConfig.clusterPubsubGlobal;
    /* A shard channel outside the table's slot has its subscribers on another shard. */
    if (shard && swKeySlot(name, nlen) != swKeySlot(p->m.facts.key, p->m.facts.klen))
        return SW_OUTCOME_FAILED;
    int n = SwarmMessage_Publish(ctx, &p->m, name, nlen, shard);
    p->receivers += n;
    /* In cluster mode the message travels to the other nodes (and the shard's replicas)
     * over the cluster bus; otherwise replicas publish it from SWARM.APPLY. */
    if (!cluster && p->effects)
        swEffectAdd(p->effects, &(swEffect){.kind = SW_EFFECT_CHANNEL, .target = target});
    /* Subscribers this node cannot count -- a replica's, or another node's in global mode --
     * receive it too, so no local receiver is not a miss then. */
    if (n > 0 || attachedReplicas > 0 || (cluster && !shard)) return SW_OUTCOME_OK;
    return SW_OUTCOME_MISSED;
}

/* Delivers to the plan's target ("channel:..." or "stream:..."); the effect record names it
 * by route id, 0 for the default target. */
static swOutcome deliver(RedisModuleCtx *ctx, Publish *p, const swPublishSlot *s) {
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(s->target, s->len, &kind, &off, NULL) != SW_OK) return SW_OUTCOME_FAILED;
    if (kind == SW_TARGET_CHANNEL)
        return deliverChannel(ctx, p, s->routeId, s->target + off, s->len - off);
    return deliverStream(ctx, p, s->routeId, s->target + off, s->len - off);
}

/* ---- Validation ---- */

/* Checks options, type and payload: SW_OK, or a status with err filled in. */
static swStatus validate(RedisModuleString **argv, int argc, Publish *p, swError *err) {
    enum { O_PRIORITY, O_SENDER, O_MSGID, O_REPLYTO, O_COUNT };
    SwarmOption opts[O_COUNT] = {SWARM_OPT("PRIORITY", 1), SWARM_OPT("SENDER", 1),
                                 SWARM_OPT("MSGID", 1), SWARM_OPT("REPLYTO", 1)};
    swStatus st = SwarmParseOptions(argv, argc, 4, opts, O_COUNT, err);
    if (st != SW_OK) return st;
    long long priority = SW_PRIORITY_DEFAULT;
    if (opts[O_PRIORITY].at &&
        (st = SwarmParseRange(argv[opts[O_PRIORITY].at + 1], SW_PRIORITY_MIN, SW_PRIORITY_MAX,
                              "PRIORITY", &priority, err)) != SW_OK)
        return st;
    p->priority = (int)priority;
    p->senderArg = opts[O_SENDER].at ? opts[O_SENDER].at + 1 : 0;
    p->msgidArg = opts[O_MSGID].at ? opts[O_MSGID].at + 1 : 0;
    p->replyToArg = opts[O_REPLYTO].at ? opts[O_REPLYTO].at + 1 : 0;
    size_t len;
    const char *s;
    if (p->senderArg) {
        s = RedisModule_StringPtrLen(argv[p->senderArg], &len);
        if ((st = swMessageCheckLabel("SENDER", s, len, err)) != SW_OK) return st;
    }
    if (p->msgidArg) {
        p->msgid = RedisModule_StringPtrLen(argv[p->msgidArg], &p->msgidLen);
        if ((st = swMessageCheckLabel("MSGID", p->msgid, p->msgidLen, err)) != SW_OK) return st;
    }
    if (p->replyToArg) {
        s = RedisModule_StringPtrLen(argv[p->replyToArg], &len);
        if (swTargetCheck(s, len, NULL, NULL, NULL) != SW_OK)
            return swErrorSet(err, SW_ERR_SYNTAX, 0,
                              "invalid REPLYTO target '%.*s', expected channel:<name> or "
                              "stream:<key>",
                              (int)(len > 128 ? 128 : len), s);
    }
    size_t tlen, plen;
    const char *type = RedisModule_StringPtrLen(argv[2], &tlen);
    st = swEventTypeCheck(type, tlen, (size_t)swarmConfig.maxTypeBytes, err);
    if (st != SW_OK) return st;
    const char *payload = RedisModule_StringPtrLen(argv[3], &plen);
    if ((long long)plen > swarmConfig.maxPayloadBytes) {
        return swErrorSet(err, SW_ERR_PAYLOAD, (size_t)swarmConfig.maxPayloadBytes,
                          "payload is %zu bytes, more than swarm.max-payload-bytes (%lld)", plen,
                          swarmConfig.maxPayloadBytes);
    }
    return SwarmJsonCheck(payload, plen, SWARM_JSON_MAX_DEPTH, err);
}

/* ---- Replication ---- */

static RedisModuleString *kindPublish, *kindRoute; /* shared by every SWARM.APPLY replicated */
static swBuf effectsBuf;                           /* reused across calls */

/* The delta encoded into a buffer reused across calls. */
static swBuf *encodeDelta(const swDelta *d) {
    static swBuf buf;
    buf.len = 0;
    swDeltaEncode(&buf, d);
    return &buf;
}

/* One SWARM.APPLY key PUBLISH for the whole publish (or nothing, when nothing receives it). */
static void replicatePublish(RedisModuleCtx *ctx, RedisModuleString **argv, const Publish *p,
                             const swDelta *d) {
    if (p->effects == NULL) {
        markChanged(ctx);
        return;
    }
    swBuf *b = encodeDelta(d);
    RedisModuleString *extra[3];
    size_t n = 0;
    if (p->m.senderStr) extra[n++] = p->m.senderStr;
    if (p->m.msgidStr) extra[n++] = p->m.msgidStr;
    if (p->m.replyToStr) extra[n++] = p->m.replyToStr;
    RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbbssv", argv[1], kindPublish, b->data, b->len,
                          p->effects->data, p->effects->len, argv[2], argv[3], extra, n);
}

/* The delta of a publish that changed only counters (a rejection, a duplicate), as
 * SWARM.APPLY key ROUTE <delta>. */
static void replicateCounters(RedisModuleCtx *ctx, RedisModuleString *keyname, const swDelta *d) {
    if (propagationPossible(ctx)) {
        swBuf *b = encodeDelta(d);
        RedisModule_Replicate(ctx, "SWARM.APPLY", "ssb", keyname, kindRoute, b->data, b->len);
    } else {
        markChanged(ctx);
    }
}

/* Rejections count on the table too: only the rejection counters (and the DENY rule's
 * hits) change, on the master and, through SWARM.APPLY key ROUTE <delta>, on replicas and
 * in the AOF. Replies the error and closes the key. */
static int rejectAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                          swTable *t, Publish *p, swStatus st, const swError *err) {
    SwarmStats_CountRejection(st);
    if (t) replicateCounters(ctx, keyname, swPublishReject(&p->plan, t, p->deny));
    RedisModule_CloseKey(key);
    return SwarmReplyStatus(ctx, st, err);
}

/* ---- SWARM.PUBLISH key type payload [PRIORITY p] [SENDER id] [MSGID mid] [REPLYTO target]
 * ---- */

/* The table is there: resolves the type, selects the targets and issues the id. SW_OK with
 * the plan ready to run (free it with swPublishFree), or the status of the rejection. */
static swStatus plan(RedisModuleCtx *ctx, RedisModuleString **argv, swTable *t, Publish *p,
                     swError *err) {
    size_t tlen;
    const char *type = RedisModule_StringPtrLen(argv[2], &tlen);
    const swResolution *res;
    swStatus st = SwarmRouteType_Resolve(t, type, tlen, &res, err);
    if (st != SW_OK) {
        p->deny = res ? res->denyRule : NULL;
        return st;
    }
    if ((st = swPublishSelect(&p->plan, t, res, p->priority)) != SW_OK)
        return swErrorSet(err, st, 0, "out of memory");
    SwarmMessage_Set(&p->m, argv[1], argv[2], argv[3], p->senderArg ? argv[p->senderArg] : NULL,
                     p->priority, p->now);
    if (p->msgidArg || p->replyToArg)
        SwarmMessage_SetExtras(&p->m, p->msgidArg ? argv[p->msgidArg] : NULL,
                               p->replyToArg ? argv[p->replyToArg] : NULL);
    int64_t ms;
    uint64_t seq;
    swPublishConfig cfg = {swarmConfig.breakerCooldownMs, (uint32_t)swarmConfig.breakerThreshold};
    if ((st = swPublishStart(&p->plan, p->m.facts.ts, &cfg, &ms, &seq)) != SW_OK) {
        /* Only a table whose clock was restored at its very end gets here. */
        swPublishFree(&p->plan);
        return swErrorSet(err, st, 0, "message ids of this table are used up");
    }
    SwarmMessage_SetId(&p->m, ms, seq);
    if (p->msgidArg && swarmConfig.dedupWindowMs > 0 &&
        (st = swPublishRemember(&p->plan, p->msgid, p->msgidLen, swarmConfig.dedupWindowMs,
                                (uint64_t)swarmConfig.dedupMax)) != SW_OK) {
        swPublishFree(&p->plan);
        return swErrorSet(err, st, 0, "out of memory");
    }
    if (propagationPossible(ctx)) {
        effectsBuf.len = 0;
        p->effects = &effectsBuf;
        swEffectBegin(&effectsBuf, &(swEffectHead){.idMs = ms,
                                                   .idSeq = seq,
                                                   .ts = p->m.facts.ts,
                                                   .priority = p->priority,
                                                   .hasSender = p->senderArg != 0,
                                                   .hasMsgid = p->msgidArg != 0,
                                                   .hasReplyTo = p->replyToArg != 0});
    }
    return SW_OK;
}

/* A MSGID remembered: answers [original id, [], 0, [], 1], counts the duplicate and returns
 * 1; 0 when the publish goes on. */
static int answerDuplicate(RedisModuleCtx *ctx, RedisModuleString **argv, swTable *t, Publish *p) {
    if (swarmConfig.dedupWindowMs == 0) return 0;
    int64_t ms;
    uint64_t seq;
    if (!swPublishFindDuplicate(t, p->msgid, p->msgidLen, p->now, &ms, &seq)) return 0;
    const swDelta *d = swPublishDuplicate(&p->plan, t);
    replicateCounters(ctx, argv[1], d);
    SwarmStats_CountPublish(&d->inc);
    SwarmTouched(ctx, argv[1], "swarm.publish");
    char id[SW_MESSAGE_ID_MAX];
    char *e = swPutU64(id, (uint64_t)ms);
    *e++ = '-';
    e = swPutU64(e, seq);
    RedisModule_ReplyWithArray(ctx, 5);
    RedisModule_ReplyWithStringBuffer(ctx, id, (size_t)(e - id));
    RedisModule_ReplyWithArray(ctx, 0);
    RedisModule_ReplyWithLongLong(ctx, 0);
    RedisModule_ReplyWithArray(ctx, 0);
    RedisModule_ReplyWithLongLong(ctx, 1);
    return 1;
}

/* [id, delivered targets, receivers, lost [target, outcome] pairs, duplicate 0] */
static void reply(RedisModuleCtx *ctx, const Publish *p) {
    const swPublish *pl = &p->plan;
    size_t n = swPublishSlots(pl);
    swPublishSlot s;
    RedisModule_ReplyWithArray(ctx, 5);
    RedisModule_ReplyWithStringBuffer(ctx, p->m.facts.id, p->m.facts.idlen);
    RedisModule_ReplyWithArray(ctx, (long)swPublishDelivered(pl));
    for (size_t i = 0; i < n; i++) {
        if (swPublishSlotAt(pl, i, &s) && s.outcome == SW_OUTCOME_OK)
            RedisModule_ReplyWithStringBuffer(ctx, s.target, s.len);
    }
    RedisModule_ReplyWithLongLong(ctx, p->receivers);
    RedisModule_ReplyWithArray(ctx, (long)swPublishLost(pl));
    for (size_t i = 0; i < n; i++) {
        if (swPublishSlotAt(pl, i, &s) && s.outcome != SW_OUTCOME_OK &&
            s.outcome < SW_OUTCOME_PENDING) {
            RedisModule_ReplyWithArray(ctx, 2);
            RedisModule_ReplyWithStringBuffer(ctx, s.target, s.len);
            RedisModule_ReplyWithCString(ctx, swOutcomeName(s.outcome));
        }
    }
    RedisModule_ReplyWithLongLong(ctx, 0);
}

/* A typo in a table name must not drop messages silently: NOSWARM, counted as rejected. */
static int noTableReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key) {
    RedisModule_CloseKey(key);
    SwarmStats_Add(SWARM_STAT_REJECTED_NOSWARM, 1);
    size_t klen;
    const char *k = RedisModule_StringPtrLen(keyname, &klen);
    return SwarmReplyError(ctx, SW_ERR_NOSWARM, "no routing table at key '%.*s'",
                           (int)(klen > 128 ? 128 : klen), k);
}

static int SwarmPublish_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    Publish p;
    p.effects = NULL;
    p.receivers = 0;
    p.deny = NULL;
    swError err;
    swStatus st = validate(argv, argc, &p, &err);
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (st == SW_OK && t == NULL) return noTableReply(ctx, argv[1], key);
    p.now = RedisModule_Milliseconds();
    if (st == SW_OK && p.msgidArg && answerDuplicate(ctx, argv, t, &p)) {
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }
    if (st == SW_OK) st = plan(ctx, argv, t, &p, &err);
    if (st != SW_OK) return rejectAndReply(ctx, argv[1], key, t, &p, st, &err);
    /* Stream deliveries that would pass maxmemory: refused before anything is written. */
    if (SwarmPublishMemoryOrReply(ctx, &p.plan, argv, argc) != REDISMODULE_OK) {
        swPublishFree(&p.plan);
        SwarmMessage_Release(ctx, &p.m);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }

    swPublishSlot s;
    while (swPublishNext(&p.plan, &s)) swPublishReport(&p.plan, deliver(ctx, &p, &s));
    const swDelta *d = swPublishCommit(&p.plan);
    reply(ctx, &p);
    SwarmTouched(ctx, argv[1], "swarm.publish");
    replicatePublish(ctx, argv, &p, d);
    SwarmStats_CountPublish(&d->inc);
    swPublishFree(&p.plan);
    SwarmMessage_Release(ctx, &p.m);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- Registration ---- */

int SwarmPublish_Register(RedisModuleCtx *ctx) {
    kindPublish = RedisModule_CreateString(NULL, "PUBLISH", 7);
    kindRoute = RedisModule_CreateString(NULL, "ROUTE", 5);
    SwarmMessage_Init();
    if (replicationInit(ctx) == REDISMODULE_ERR) return REDISMODULE_ERR;
    /* The reply names targets, so the key is read too (ACCESS): a write-only ACL user may
     * not publish. */
    return SwarmRegisterAcl(
        ctx, NULL, "swarm.publish", SwarmPublish_RedisCommand, "write deny-oom", 1,
        &(RedisModuleCommandInfo){
            .summary = "Validates an event and delivers it along the swarm's routes",
            .complexity = "O(P + T) for a payload of P bytes and T targets, once the event "
                          "type's routes are cached",
            .arity = -4,
            .key_specs = SWARM_KEYSPEC(1, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_ACCESS |
                                              REDISMODULE_CMD_KEY_UPDATE),
            .args =
                (RedisModuleCommandArg[]){
                    {.name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0},
                    {.name = "type", .type = REDISMODULE_ARG_TYPE_STRING},
                    {.name = "payload", .type = REDISMODULE_ARG_TYPE_STRING},
                    {.name = "priority",
                     .type = REDISMODULE_ARG_TYPE_INTEGER,
                     .token = "PRIORITY",
                     .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                    {.name = "sender",
                     .type = REDISMODULE_ARG_TYPE_STRING,
                     .token = "SENDER",
                     .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                    {.name = "msgid",
                     .type = REDISMODULE_ARG_TYPE_STRING,
                     .token = "MSGID",
                     .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                    {.name = "reply-to",
                     .type = REDISMODULE_ARG_TYPE_STRING,
                     .token = "REPLYTO",
                     .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                    {0}}},
        "pubsub");
}
