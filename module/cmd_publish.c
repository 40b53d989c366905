/* cmd_publish.c -- SWARM.PUBLISH: validated, routed events.
 *
 *   validate everything -> open the table (NOSWARM when missing) -> resolve routes (cached
 *   per type) -> next id -> deliver per distinct target, breaker first -> dead letter ->
 *   reply [id, delivered, receivers, lost] -> commit the delta -> one SWARM.APPLY.
 *
 * Channels get the envelope through RedisModule_PublishMessage; streams get an entry
 * through RedisModule_StreamAdd, with what XADD does around it (message.c). In cluster mode
 * a stream key must be served here, the slot check RM_Call made for XADD.
 *
 * Replication is deterministic and costs one command per publish, whatever the targets:
 *
 *   SWARM.APPLY key PUBLISH <delta> <effects> <type> <payload> [<sender>]
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
#include "swarm/breaker.h"
#include "swarm/buf.h"
#include "swarm/delta.h"
#include "swarm/effect.h"
#include "swarm/event.h"
#include "swarm/keyslot.h"
#include "swarm/resolve.h"
#include "swarm/utf8.h"
#include "type_rtb.h"

#define MAX_SENDER 128

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

typedef enum { OUT_OK, OUT_MISSED, OUT_FAILED, OUT_SHED } Outcome;
static const char *const outcomeNames[] = {"ok", "missed", "failed", "shed"};

typedef struct Publish {
    SwarmMessage m;
    swBuf *effects; /* deliveries for replicas, NULL when nothing receives them */
    long long receivers;
} Publish;

static Outcome deliverStream(RedisModuleCtx *ctx, Publish *p, uint64_t target, const char *name,
                             size_t nlen) {
    /* What RM_Call checked for XADD: in cluster mode the key must be served here. */
    if (SwarmInCluster() && swKeySlot(name, nlen) != swKeySlot(p->m.key, p->m.klen))
        return OUT_FAILED;
    RedisModuleStreamID sid;
    int64_t trimmed;
    if (SwarmMessage_Append(ctx, &p->m, name, nlen, NULL, swarmConfig.streamMaxlen, -1, &sid,
                            &trimmed) != REDISMODULE_OK)
        return OUT_FAILED;
    if (p->effects) {
        swEffectAdd(p->effects, &(swEffect){.kind = SW_EFFECT_STREAM,
                                            .target = target,
                                            .ms = sid.ms,
                                            .seq = sid.seq,
                                            .trimTo = trimmed});
    }
    return OUT_OK;
}

static Outcome deliverChannel(RedisModuleCtx *ctx, Publish *p, uint64_t target, const char *name,
                              size_t nlen) {
    int cluster = SwarmInCluster(), shard = cluster && !swarmConfig.clusterPubsubGlobal;
    /* A shard channel outside the table's slot has its subscribers on another shard. */
    if (shard && swKeySlot(name, nlen) != swKeySlot(p->m.key, p->m.klen)) return OUT_FAILED;
    int n = SwarmMessage_Publish(ctx, &p->m, name, nlen, shard);
    p->receivers += n;
    /* In cluster mode the message travels to the other nodes (and the shard's replicas)
     * over the cluster bus; otherwise replicas publish it from SWARM.APPLY. */
    if (!cluster && p->effects)
        swEffectAdd(p->effects, &(swEffect){.kind = SW_EFFECT_CHANNEL, .target = target});
    /* Subscribers this node cannot count -- a replica's, or another node's in global mode --
     * receive it too, so no local receiver is not a miss then. */
    if (n > 0 || attachedReplicas > 0 || (cluster && !shard)) return OUT_OK;
    return OUT_MISSED;
}

/* Delivers to a target ("channel:..." or "stream:..."); targetId is the route's id, 0 for
 * the default target (how the effect record names it). */
static Outcome deliver(RedisModuleCtx *ctx, Publish *p, uint64_t targetId, const char *target,
                       size_t len) {
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(target, len, &kind, &off, NULL) != SW_OK) return OUT_FAILED;
    if (kind == SW_TARGET_CHANNEL) return deliverChannel(ctx, p, targetId, target + off, len - off);
    return deliverStream(ctx, p, targetId, target + off, len - off);
}

/* ---- Validation ---- */

typedef struct Args {
    int priority;
    const char *sender;
    size_t slen;
    int senderArg; /* argv index of the SENDER value, 0 when none */
} Args;

/* Checks options, type and payload. Returns SW_OK or a status with err filled in. */
static swStatus validate(RedisModuleString **argv, int argc, Args *a, swError *err) {
    a->senderArg = 0;
    a->priority = SW_PRIORITY_DEFAULT;
    a->sender = NULL;
    a->slen = 0;
    for (int i = 4; i < argc; i += 2) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (i + 1 >= argc) return swErrorSet(err, SW_ERR_SYNTAX, 0, "syntax error");
        if (strcasecmp(opt, "PRIORITY") == 0) {
            long long p;
            if (RedisModule_StringToLongLong(argv[i + 1], &p) != REDISMODULE_OK)
                return swErrorSet(err, SW_ERR_SYNTAX, 0, "value is not an integer or out of range");
            if (p < SW_PRIORITY_MIN || p > SW_PRIORITY_MAX)
                return swErrorSet(err, SW_ERR_RANGE, 0, "PRIORITY must be between %d and %d",
                                  SW_PRIORITY_MIN, SW_PRIORITY_MAX);
            a->priority = (int)p;
        } else if (strcasecmp(opt, "SENDER") == 0) {
            a->sender = RedisModule_StringPtrLen(argv[i + 1], &a->slen);
            a->senderArg = i + 1;
            if (a->slen < 1 || a->slen > MAX_SENDER)
                return swErrorSet(err, SW_ERR_RANGE, 0, "SENDER must be 1 to %d bytes", MAX_SENDER);
            for (size_t k = 0; k < a->slen; k++) {
                unsigned char c = (unsigned char)a->sender[k];
                if (c < 0x20 || c == 0x7f)
                    return swErrorSet(err, SW_ERR_SYNTAX, k,
                                      "SENDER has a control character at byte %zu", k);
            }
            size_t bad;
            if (!swUtf8Valid(a->sender, a->slen, &bad))
                return swErrorSet(err, SW_ERR_SYNTAX, bad, "SENDER is not valid UTF-8 at byte %zu",
                                  bad);
        } else {
            return swErrorSet(err, SW_ERR_SYNTAX, 0, "syntax error");
        }
    }
    size_t tlen, plen;
    const char *type = RedisModule_StringPtrLen(argv[2], &tlen);
    swStatus st = swEventTypeCheck(type, tlen, (size_t)swarmConfig.maxTypeBytes, err);
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

/* The delta encoded into a buffer reused across calls. */
static swBuf *encodeDelta(const swDelta *d) {
    static swBuf buf;
    buf.len = 0;
    swDeltaEncode(&buf, d);
    return &buf;
}

/* Rejections count on the table too: only the rejection counters (and the DENY rule's
 * hits) change, on the master and, through SWARM.APPLY key ROUTE <delta>, on replicas and
 * in the AOF. */
static int rejectAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, swTable *t,
                          swRule *denyRule, swStatus st, const swError *err) {
    SwarmStats_CountRejection(st);
    if (t) {
        swDelta d = {.clockMs = t->clockMs,
                     .clockSeq = t->clockSeq,
                     .inc = {.rejected = 1},
                     .rules = &denyRule,
                     .nrules = denyRule ? 1 : 0};
        swDeltaCommit(t, &d);
        if (propagationPossible(ctx)) {
            swBuf *b = encodeDelta(&d);
            RedisModule_Replicate(ctx, "SWARM.APPLY", "ssb", keyname, kindRoute, b->data, b->len);
        } else {
            markChanged(ctx);
        }
    }
    return SwarmReplyStatus(ctx, st, err);
}

/* ---- SWARM.PUBLISH key type payload [PRIORITY p] [SENDER id] ---- */

#define STACK_ROUTES 16

/* Per matching route: its outcome and the index of the first matching route with the same
 * target (its representative), where the target's own outcome is kept. */
typedef struct Slot {
    Outcome out;
    size_t rep;
} Slot;

#define NO_REP SIZE_MAX

static void replyLost(RedisModuleCtx *ctx, const char *target, size_t len, Outcome o) {
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithStringBuffer(ctx, target, len);
    RedisModule_ReplyWithCString(ctx, outcomeNames[o]);
}

static int SwarmPublish_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    Args a;
    swError err;
    swStatus st = validate(argv, argc, &a, &err);
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (st == SW_OK && t == NULL) {
        /* A typo in a table name must not drop messages silently. */
        RedisModule_CloseKey(key);
        SwarmStats_Add(SWARM_STAT_REJECTED_NOSWARM, 1);
        size_t klen;
        const char *k = RedisModule_StringPtrLen(argv[1], &klen);
        return SwarmReplyError(ctx, SW_ERR_NOSWARM, "no routing table at key '%.*s'",
                               (int)(klen > 128 ? 128 : klen), k);
    }
    const swResolution *res = NULL;
    if (st == SW_OK) {
        size_t tlen;
        const char *type = RedisModule_StringPtrLen(argv[2], &tlen);
        st = SwarmRouteType_Resolve(t, type, tlen, &res, &err);
    }
    if (st != SW_OK) {
        rejectAndReply(ctx, argv[1], t, res ? res->denyRule : NULL, st, &err);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }
    /* Stream deliveries that would pass maxmemory: refused before anything is written. */
    if (SwarmPublishMemoryOrReply(ctx, res, t, argv, argc) != REDISMODULE_OK) {
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }

    Publish p = {0};
    SwarmMessage_Set(&p.m, argv[1], argv[2], argv[3], a.senderArg ? argv[a.senderArg] : NULL,
                     a.priority, RedisModule_Milliseconds());
    int64_t ms;
    uint64_t seq;
    if ((st = swTableNextId(t, p.m.ts, &ms, &seq)) != SW_OK) {
        swErrorSet(&err, st, 0, "message ids of this table are used up");
        /* Only a table whose clock was restored at its very end gets here. */
        rejectAndReply(ctx, argv[1], t, NULL, st, &err);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }
    SwarmMessage_SetId(&p.m, ms, seq);
    static swBuf effects; /* reused across calls */
    int propagate = propagationPossible(ctx);
    if (propagate) {
        effects.len = 0;
        p.effects = &effects;
        swEffectBegin(&effects, &(swEffectHead){.idMs = ms,
                                                .idSeq = seq,
                                                .ts = p.m.ts,
                                                .priority = p.m.priority,
                                                .hasSender = p.m.senderStr != NULL});
    }

    /* Per matching route: reuse the outcome of an earlier route with the same target (each
     * target gets the message once), else consult the breaker, else deliver. */
    size_t n = res->nroutes;
    swDeltaRoute dstack[STACK_ROUTES];
    Slot sstack[STACK_ROUTES];
    size_t rstack[STACK_ROUTES];
    swDeltaRoute *d = n <= STACK_ROUTES ? dstack : RedisModule_Alloc(n * sizeof(*d));
    Slot *slot = n <= STACK_ROUTES ? sstack : RedisModule_Alloc(n * sizeof(*slot));
    /* The representative of each distinct target (the resolution numbers them), so a
     * route finds its target's earlier outcome in O(1). */
    size_t nt = res->ntargets;
    size_t *repOf = nt <= STACK_ROUTES ? rstack : RedisModule_Alloc(nt * sizeof(*repOf));
    for (size_t i = 0; i < nt; i++) repOf[i] = NO_REP;
    size_t nd = 0, nok = 0, nlost = 0;
    swDelta delta = {.inc = {.published = 1}, .routes = d};
    swTableStats *inc = &delta.inc;
    for (size_t i = 0; i < n; i++) {
        swRoute *r = res->routes[i];
        if (a.priority < r->pmin || a.priority > r->pmax) continue;
        swDeltaRoute *e = &d[nd];
        *e = (swDeltaRoute){.route = r, .matched = 1};
        size_t k = repOf[res->targetIndex[i]];
        int seen = k != NO_REP;
        if (!seen) repOf[res->targetIndex[i]] = nd;
        Outcome o;
        if (seen && slot[k].out != OUT_SHED) {
            o = slot[k].out;
        } else if (!swRouteAttempt(r, a.priority, p.m.ts, swarmConfig.breakerCooldownMs)) {
            /* Skipped: counted shed, and the target is lost unless a later route with the
             * same target delivers it. */
            e->shed = 1;
            inc->shed++;
            swDeltaRouteTakeBreaker(e, r);
            slot[nd] = (Slot){OUT_SHED, seen ? k : nd};
            nd++;
            continue;
        } else {
            o = deliver(ctx, &p, r->id, r->target, r->targetLen);
            if (o == OUT_OK) nok++;
            if (seen) slot[k].out = o; /* an earlier route shed it; this one decided */
        }
        slot[nd] = (Slot){o, seen ? k : nd};
        nd++;
        e->delivered = o == OUT_OK;
        e->missed = o == OUT_MISSED;
        e->failed = o == OUT_FAILED;
        swRouteOutcome(r, o == OUT_OK, p.m.ts, (uint32_t)swarmConfig.breakerThreshold);
        swDeltaRouteTakeBreaker(e, r);
    }
    delta.nroutes = nd;
    for (size_t i = 0; i < nd; i++) nlost += slot[i].rep == i && slot[i].out != OUT_OK;
    if (nd == 0) inc->unrouted = 1;
    Outcome dead = OUT_OK;
    int tried = nok == 0 && t->deflt != NULL;
    if (tried) {
        inc->deadlettered = 1;
        dead = deliver(ctx, &p, 0, t->deflt, t->defltLen);
        nlost += dead != OUT_OK;
    }
    inc->delivered = nok + (tried && dead == OUT_OK);

    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithStringBuffer(ctx, p.m.id, p.m.idlen);
    RedisModule_ReplyWithArray(ctx, (long)inc->delivered);
    for (size_t i = 0; i < nd; i++) {
        if (slot[i].rep == i && slot[i].out == OUT_OK)
            RedisModule_ReplyWithStringBuffer(ctx, d[i].route->target, d[i].route->targetLen);
    }
    if (tried && dead == OUT_OK) RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
    RedisModule_ReplyWithLongLong(ctx, p.receivers);
    RedisModule_ReplyWithArray(ctx, (long)nlost);
    for (size_t i = 0; i < nd; i++) {
        if (slot[i].rep == i && slot[i].out != OUT_OK)
            replyLost(ctx, d[i].route->target, d[i].route->targetLen, slot[i].out);
    }
    if (tried && dead != OUT_OK) replyLost(ctx, t->deflt, t->defltLen, dead);

    swRule *hit = res->allowRule;
    delta.rules = &hit;
    delta.nrules = hit ? 1 : 0;
    delta.clockMs = t->clockMs;
    delta.clockSeq = t->clockSeq;
    swDeltaCommit(t, &delta);
    SwarmTouched(ctx, argv[1], "swarm.publish");
    if (!propagate) {
        markChanged(ctx);
    } else {
        swBuf *b = encodeDelta(&delta);
        if (p.m.senderStr) {
            RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbbsss", argv[1], kindPublish, b->data,
                                  b->len, effects.data, effects.len, argv[2], argv[3],
                                  p.m.senderStr);
        } else {
            RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbbss", argv[1], kindPublish, b->data,
                                  b->len, effects.data, effects.len, argv[2], argv[3]);
        }
    }

    SwarmStats_CountPublish(inc);
    if (d != dstack) {
        RedisModule_Free(d);
        RedisModule_Free(slot);
    }
    if (repOf != rstack) RedisModule_Free(repOf);
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
    return SwarmRegister(
        ctx, NULL, "swarm.publish", SwarmPublish_RedisCommand, "write deny-oom", 1,
        &(RedisModuleCommandInfo){
            .summary = "Validates an event and delivers it along the swarm's routes",
            .complexity = "O(P + T) for a payload of P bytes and T targets, once the event "
                          "type's routes are cached",
            .arity = -4,
            .key_specs = SWARM_KEYSPEC(1, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_ACCESS |
                                              REDISMODULE_CMD_KEY_UPDATE),
            .args = (RedisModuleCommandArg[]){
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
                {0}}});
}
