/* cmd_publish.c -- SWARM.PUBLISH (SPEC sections 5 and 6) and SWARM.APPLY, its replicated
 * effect.
 *
 *   validate everything -> open the table (NOSWARM when missing) -> resolve routes (cached
 *   per type) -> next id -> deliver per distinct target, breaker first -> dead letter ->
 *   reply [id, delivered, receivers, lost] -> one SWARM.APPLY for replicas and the AOF.
 *
 * Channels get the envelope through RedisModule_PublishMessage; streams get an entry
 * through RedisModule_StreamAdd, with what XADD does around it done here: the slot check in
 * cluster mode, keyspace events xadd and xtrim, SignalModifiedKey, and closing the key so
 * blocked XREAD/XREADGROUP clients are served.
 *
 * Replication is deterministic and costs one command per publish:
 *
 *   SWARM.APPLY key PUBLISH <delta> <effects> <type> <payload> [<sender>]
 *
 * <delta> is the table's change (delta.h), <effects> the id, ts, priority and deliveries
 * (effect.h: stream entries with their exact ids and trimmed lengths, channel publishes),
 * and the rest are this command's own argument strings, passed by reference. A replica
 * rebuilds the same envelope and entries from them, publishes the envelopes to its own
 * subscribers (an AOF being loaded publishes nothing) and never reads a clock or a
 * subscriber count of its own. In cluster mode envelopes travel over the cluster bus
 * instead, so no channel delivery is recorded. A rejected publish replicates
 * SWARM.APPLY key ROUTE <delta> (counters only); ROUTE with channel/envelope pairs is the
 * form older versions wrote, still applied when an old AOF is loaded. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "swarm.h"
#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/delta.h"
#include "swarm/effect.h"
#include "swarm/event.h"
#include "swarm/json.h"
#include "swarm/keyslot.h"
#include "swarm/utf8.h"

#define MAX_SENDER 128
#define DEFAULT_PRIORITY 5

/* ---- Envelope ---- */

/* Decimal digits of v at p; returns the end. snprintf costs more than the rest of the
 * envelope together. */
static char *putU64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *putLit(char *p, const char *lit, size_t len) {
    memcpy(p, lit, len);
    return p + len;
}
#define PUT_LIT(p, lit) putLit((p), (lit), sizeof(lit) - 1)

/* Writes s as the inside of a JSON string: quotes, backslashes and control bytes escaped,
 * and any byte that does not start well-formed UTF-8 (key names are binary-safe) written
 * as U+FFFD, so the envelope is always valid JSON. Needs room for 6 * len bytes. */
static char *putEscaped(char *p, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            *p++ = (char)c;
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? swUtf8SeqLen(s, len, i) : 1;
        if (n > 1) {
            memcpy(p, s + i, n);
            p += n;
            i += n;
            continue;
        }
        if (c >= 0x80) {
            p = PUT_LIT(p, "\\ufffd");
        } else if (c < 0x20) {
            p = PUT_LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = '\\';
            *p++ = (char)c;
        }
        i++;
    }
    return p;
}

typedef struct Message {
    const char *key;
    size_t klen;
    const char *type;
    size_t tlen;
    int priority;
    long long ts;
    const char *sender; /* NULL when not given */
    size_t slen;
    const char *payload;
    size_t plen;
    char id[48];
    size_t idlen;
    int64_t idMs;
    uint64_t idSeq;
    /* The command's own strings (key, type, payload, sender or NULL), reused as stream
     * field values and replicated arguments. */
    RedisModuleString *keyStr, *typeStr, *payloadStr, *senderStr;
    RedisModuleString *envelope;      /* created on first channel delivery */
    RedisModuleString *idStr, *tsStr; /* created on first stream delivery */
    swBuf *effects;                   /* deliveries to record, NULL on a replica */
} Message;

/* {"id":..,"swarm":..,"type":..,"priority":..,"ts":..,"sender":..,"payload":..} in one
 * allocation, as a RedisModuleString ready to publish and replicate. */
static RedisModuleString *buildEnvelope(RedisModuleCtx *ctx, const Message *m) {
    static char *buf;
    static size_t cap;
    size_t need = 96 + m->idlen + 6 * m->klen + m->tlen + 6 * m->slen + m->plen;
    if (need > cap) {
        RedisModule_Free(buf);
        cap = need < 4096 ? 4096 : need;
        buf = RedisModule_Alloc(cap);
    }
    char *p = buf;
    p = PUT_LIT(p, "{\"id\":\"");
    p = putLit(p, m->id, m->idlen);
    p = PUT_LIT(p, "\",\"swarm\":\"");
    p = putEscaped(p, m->key, m->klen);
    p = PUT_LIT(p, "\",\"type\":\"");
    p = putLit(p, m->type, m->tlen); /* event types never need escaping */
    p = PUT_LIT(p, "\",\"priority\":");
    *p++ = (char)('0' + m->priority);
    p = PUT_LIT(p, ",\"ts\":");
    p = putU64(p, (uint64_t)m->ts);
    if (m->sender) {
        p = PUT_LIT(p, ",\"sender\":\"");
        p = putEscaped(p, m->sender, m->slen);
        *p++ = '"';
    }
    p = PUT_LIT(p, ",\"payload\":");
    p = putLit(p, m->payload, m->plen);
    *p++ = '}';
    RedisModuleString *env = RedisModule_CreateString(ctx, buf, (size_t)(p - buf));
    /* Keep a large envelope's memory only until the next small one. */
    if (cap > (1 << 20)) {
        RedisModule_Free(buf);
        buf = NULL;
        cap = 0;
    }
    return env;
}

/* ---- Delivery ---- */

typedef enum { OUT_OK, OUT_MISSED, OUT_FAILED, OUT_SHED } Outcome;
static const char *const outcomeNames[] = {"ok", "missed", "failed", "shed"};

/* Strings every publish uses, created once at load: stream field names, priority values
 * and the kinds of SWARM.APPLY. */
enum { F_ID, F_SWARM, F_TYPE, F_PRIORITY, F_TS, F_PAYLOAD, F_SENDER, F_COUNT };
static RedisModuleString *fieldName[F_COUNT];
static RedisModuleString *priorityValue[10];
static RedisModuleString *kindPublish, *kindRoute;

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

static RedisModuleString *createU64(RedisModuleCtx *ctx, uint64_t v) {
    char buf[24];
    return RedisModule_CreateString(ctx, buf, (size_t)(putU64(buf, v) - buf));
}

/* The entry's fields: id swarm type priority ts payload [sender]. Returns the pair count. */
static long streamFields(RedisModuleCtx *ctx, Message *m, RedisModuleString **f) {
    if (m->idStr == NULL) {
        m->idStr = RedisModule_CreateString(ctx, m->id, m->idlen);
        m->tsStr = createU64(ctx, (uint64_t)m->ts);
    }
    RedisModuleString *v[F_COUNT] = {
        m->idStr, m->keyStr,     m->typeStr,  priorityValue[m->priority],
        m->tsStr, m->payloadStr, m->senderStr};
    long n = m->senderStr ? F_COUNT : F_COUNT - 1;
    for (long i = 0; i < n; i++) {
        f[2 * i] = fieldName[i];
        f[2 * i + 1] = v[i];
    }
    return n;
}

/* Appends m's entry to stream name: with a fresh id (id NULL, on the master: the new id is
 * stored in *out and the stream trimmed approximately to swarm.stream-maxlen) or with the
 * given id (a replica, trimming exactly to trimTo when it is not negative), as XADD would.
 * *trimmed gets the length after trimming, -1 when nothing was trimmed. */
static Outcome appendEntry(RedisModuleCtx *ctx, const char *name, size_t nlen, Message *m,
                           const RedisModuleStreamID *id, int64_t trimTo, RedisModuleStreamID *out,
                           int64_t *trimmed) {
    RedisModuleString *kn = RedisModule_CreateString(ctx, name, nlen);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, kn, REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(k);
    Outcome o = OUT_FAILED;
    *trimmed = -1;
    if (type == REDISMODULE_KEYTYPE_EMPTY || type == REDISMODULE_KEYTYPE_STREAM) {
        RedisModuleString *f[2 * F_COUNT];
        long n = streamFields(ctx, m, f);
        *out = id ? *id : (RedisModuleStreamID){0, 0};
        if (RedisModule_StreamAdd(k, id ? 0 : REDISMODULE_STREAM_ADD_AUTOID, out, f, n) ==
            REDISMODULE_OK) {
            o = OUT_OK;
            RedisModule_SignalModifiedKey(ctx, kn);
            RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_STREAM, "xadd", kn);
            long long gone = id ? (trimTo >= 0 ? RedisModule_StreamTrimByLength(k, 0, trimTo) : 0)
                                : RedisModule_StreamTrimByLength(k, REDISMODULE_STREAM_TRIM_APPROX,
                                                                 swarmConfig.streamMaxlen);
            if (gone > 0) {
                RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_STREAM, "xtrim", kn);
                *trimmed = (int64_t)RedisModule_ValueLength(k);
            }
        }
    }
    /* Closing the key serves clients blocked on the stream. */
    RedisModule_CloseKey(k);
    RedisModule_FreeString(ctx, kn);
    return o;
}

static Outcome deliverStream(RedisModuleCtx *ctx, uint64_t target, const char *name, size_t nlen,
                             Message *m) {
    /* What RM_Call checked for XADD: in cluster mode the key must be served here. */
    if (SwarmInCluster(ctx) && swKeySlot(name, nlen) != swKeySlot(m->key, m->klen))
        return OUT_FAILED;
    RedisModuleStreamID sid;
    int64_t trimmed;
    Outcome o = appendEntry(ctx, name, nlen, m, NULL, -1, &sid, &trimmed);
    if (o == OUT_OK && m->effects) {
        swEffectAdd(m->effects, &(swEffect){.kind = SW_EFFECT_STREAM,
                                            .target = target,
                                            .ms = sid.ms,
                                            .seq = sid.seq,
                                            .trimTo = trimmed});
    }
    return o;
}

static Outcome deliverChannel(RedisModuleCtx *ctx, uint64_t target, const char *name, size_t nlen,
                              Message *m, long long *receivers) {
    int cluster = SwarmInCluster(ctx), shard = cluster && !swarmConfig.clusterPubsubGlobal;
    /* A shard channel outside the table's slot has its subscribers on another shard. */
    if (shard && swKeySlot(name, nlen) != swKeySlot(m->key, m->klen)) return OUT_FAILED;
    if (m->envelope == NULL) m->envelope = buildEnvelope(ctx, m);
    RedisModuleString *chan = RedisModule_CreateString(ctx, name, nlen);
    int n = shard ? RedisModule_PublishMessageShard(ctx, chan, m->envelope)
                  : RedisModule_PublishMessage(ctx, chan, m->envelope);
    RedisModule_FreeString(ctx, chan);
    *receivers += n;
    /* In cluster mode the message travels to the other nodes (and the shard's replicas)
     * over the cluster bus; otherwise replicas publish it from SWARM.APPLY. */
    if (!cluster && m->effects)
        swEffectAdd(m->effects, &(swEffect){.kind = SW_EFFECT_CHANNEL, .target = target});
    /* Subscribers this node cannot count -- a replica's, or another node's in global mode --
     * receive it too, so no local receiver is not a miss then. */
    if (n > 0 || attachedReplicas > 0 || (cluster && !shard)) return OUT_OK;
    return OUT_MISSED;
}

/* Delivers m to a target ("channel:..." or "stream:..."); target id is the route's id, 0
 * for the default target (how the effect record names it). */
static Outcome deliver(RedisModuleCtx *ctx, uint64_t targetId, const char *target, size_t len,
                       Message *m, long long *receivers) {
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(target, len, &kind, &off, NULL) != SW_OK) return OUT_FAILED;
    if (kind == SW_TARGET_CHANNEL)
        return deliverChannel(ctx, targetId, target + off, len - off, m, receivers);
    return deliverStream(ctx, targetId, target + off, len - off, m);
}

/* ---- Validation ---- */

typedef struct Args {
    int priority;
    const char *sender;
    size_t slen;
} Args;

/* Checks options, type and payload. Returns SW_OK or a status with err filled in. */
static swStatus validate(RedisModuleString **argv, int argc, Args *a, int *senderArg,
                         swError *err) {
    a->priority = DEFAULT_PRIORITY;
    a->sender = NULL;
    a->slen = 0;
    for (int i = 4; i < argc; i += 2) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (i + 1 >= argc) return swErrorSet(err, SW_ERR_SYNTAX, 0, "syntax error");
        if (strcasecmp(opt, "PRIORITY") == 0) {
            long long p;
            if (RedisModule_StringToLongLong(argv[i + 1], &p) != REDISMODULE_OK)
                return swErrorSet(err, SW_ERR_SYNTAX, 0, "value is not an integer or out of range");
            if (p < 1 || p > 9)
                return swErrorSet(err, SW_ERR_RANGE, 0, "PRIORITY must be between 1 and 9");
            a->priority = (int)p;
        } else if (strcasecmp(opt, "SENDER") == 0) {
            a->sender = RedisModule_StringPtrLen(argv[i + 1], &a->slen);
            *senderArg = i + 1;
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
    swError jerr;
    if (swJsonValidate(payload, plen, SWARM_JSON_MAX_DEPTH, &jerr) != SW_OK) {
        return swErrorSet(err, SW_ERR_PAYLOAD, jerr.offset, "invalid JSON at byte %zu: %s",
                          jerr.offset, jerr.msg);
    }
    return SW_OK;
}

static void countRejection(swStatus st) {
    atomic_ullong *c = st == SW_ERR_EVENTTYPE ? &swarmCounters.rejectedEventType
                       : st == SW_ERR_DENIED  ? &swarmCounters.rejectedDenied
                       : st == SW_ERR_PAYLOAD ? &swarmCounters.rejectedPayload
                                              : &swarmCounters.rejectedOther;
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* The table's delta, encoded into a buffer reused across calls. */
static swBuf *encodeDelta(const swTable *t, const swTableStats *inc, const swDeltaRoute *routes,
                          size_t n, const swRule *const *rules, size_t nrules) {
    static swBuf delta;
    delta.len = 0;
    swDeltaEncode(&delta, t, inc, routes, n, rules, nrules);
    return &delta;
}

/* Rejections count on the table too: only the rejection counters (and the DENY rule's
 * hits) change, on the master and, through SWARM.APPLY key ROUTE <delta>, on replicas and
 * in the AOF. */
static int rejectAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, swTable *t,
                          swRule *denyRule, swStatus st, const swError *err) {
    countRejection(st);
    if (t) {
        swTableStats inc = {.rejected = 1};
        const swRule *hit = denyRule;
        t->stats.rejected++;
        if (denyRule) denyRule->hits++;
        if (propagationPossible(ctx)) {
            swBuf *d = encodeDelta(t, &inc, NULL, 0, &hit, hit ? 1 : 0);
            RedisModule_Replicate(ctx, "SWARM.APPLY", "ssb", keyname, kindRoute, d->data, d->len);
        } else {
            markChanged(ctx);
        }
    }
    return SwarmReplyStatus(ctx, st, err);
}

/* ---- SWARM.PUBLISH key type payload [PRIORITY p] [SENDER id] ---- */

#define STACK_ROUTES 16

/* Per matching route: its delta entry and, for the first route of each distinct target
 * (its representative), the target's outcome. */
typedef struct Slot {
    Outcome out; /* this route's outcome; at a representative, the target's */
    size_t rep;  /* index of the representative of this route's target */
} Slot;

static int sameTarget(const swRoute *a, const swRoute *b) {
    return a->targetLen == b->targetLen && memcmp(a->target, b->target, a->targetLen) == 0;
}

static int SwarmPublish_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    Args a;
    swError err;
    int senderArg = 0;
    swStatus st = validate(argv, argc, &a, &senderArg, &err);
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (st == SW_OK && t == NULL) {
        /* A typo in a table name must not drop messages silently. */
        RedisModule_CloseKey(key);
        atomic_fetch_add_explicit(&swarmCounters.rejectedNoswarm, 1, memory_order_relaxed);
        size_t klen;
        const char *k = RedisModule_StringPtrLen(argv[1], &klen);
        char msg[200];
        snprintf(msg, sizeof(msg), "NOSWARM no routing table at key '%.*s'",
                 (int)(klen > 128 ? 128 : klen), k);
        return RedisModule_ReplyWithError(ctx, msg);
    }
    Message m = {.priority = a.priority, .sender = a.sender, .slen = a.slen};
    m.type = RedisModule_StringPtrLen(argv[2], &m.tlen);
    const swResolution *res = NULL;
    if (st == SW_OK) {
        if (swTableResolve(t, m.type, m.tlen, &res) != SW_OK) {
            st = swErrorSet(&err, SW_ERR_NOMEM, 0, "out of memory");
        } else if (!res->admitted && res->denyRule) {
            st = swErrorSet(&err, SW_ERR_DENIED, 0, "event type '%.128s' is denied by rule %llu",
                            m.type, (unsigned long long)res->denyRule->id);
        } else if (!res->admitted) {
            st = swErrorSet(&err, SW_ERR_DENIED, 0,
                            "event type '%.128s' matches no ALLOW rule of the table", m.type);
        }
    }
    if (st != SW_OK) {
        rejectAndReply(ctx, argv[1], t, res ? res->denyRule : NULL, st, &err);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }

    m.ts = RedisModule_Milliseconds();
    swTableNextId(t, m.ts, &m.idMs, &m.idSeq);
    char *p = putU64(m.id, (uint64_t)m.idMs);
    *p++ = '-';
    m.idlen = (size_t)(putU64(p, m.idSeq) - m.id);
    m.key = RedisModule_StringPtrLen(argv[1], &m.klen);
    m.payload = RedisModule_StringPtrLen(argv[3], &m.plen);
    m.keyStr = argv[1];
    m.typeStr = argv[2];
    m.payloadStr = argv[3];
    m.senderStr = senderArg ? argv[senderArg] : NULL;
    static swBuf effects; /* reused across calls */
    int propagate = propagationPossible(ctx);
    if (propagate) {
        effects.len = 0;
        m.effects = &effects;
        swEffectBegin(&effects, &(swEffectHead){.idMs = m.idMs,
                                                .idSeq = m.idSeq,
                                                .ts = m.ts,
                                                .priority = m.priority,
                                                .hasSender = m.senderStr != NULL});
    }

    /* Per matching route: reuse the outcome of an earlier route with the same target (each
     * target gets the message once), else consult the breaker, else deliver. */
    size_t n = res->nroutes;
    swDeltaRoute dstack[STACK_ROUTES];
    Slot sstack[STACK_ROUTES];
    swDeltaRoute *d = n <= STACK_ROUTES ? dstack : RedisModule_Alloc(n * sizeof(*d));
    Slot *slot = n <= STACK_ROUTES ? sstack : RedisModule_Alloc(n * sizeof(*slot));
    size_t nd = 0, nok = 0, nlost = 0;
    long long receivers = 0;
    swTableStats inc = {.published = 1};
    for (size_t i = 0; i < n; i++) {
        swRoute *r = res->routes[i];
        if (a.priority < r->pmin || a.priority > r->pmax) continue;
        swDeltaRoute *e = &d[nd];
        *e = (swDeltaRoute){.route = r, .matched = 1};
        size_t k = 0;
        while (k < nd && (slot[k].rep != k || !sameTarget(d[k].route, r))) k++;
        int seen = k < nd;
        Outcome o;
        if (seen && slot[k].out != OUT_SHED) {
            o = slot[k].out;
        } else if (!swRouteAttempt(r, a.priority, m.ts, swarmConfig.breakerCooldownMs)) {
            /* Skipped: counted shed, and the target is lost unless a later route with the
             * same target delivers it. */
            e->shed = 1;
            inc.shed++;
            slot[nd] = (Slot){OUT_SHED, seen ? k : nd};
            nd++;
            continue;
        } else {
            o = deliver(ctx, r->id, r->target, r->targetLen, &m, &receivers);
            if (o == OUT_OK) nok++;
            if (seen) slot[k].out = o; /* an earlier route shed it; this one decided */
        }
        slot[nd] = (Slot){o, seen ? k : nd};
        nd++;
        e->delivered = o == OUT_OK;
        e->missed = o == OUT_MISSED;
        e->failed = o == OUT_FAILED;
        swRouteOutcome(r, o == OUT_OK, m.ts, (uint32_t)swarmConfig.breakerThreshold);
    }
    for (size_t i = 0; i < nd; i++) nlost += slot[i].rep == i && slot[i].out != OUT_OK;
    if (nd == 0) inc.unrouted = 1;
    Outcome dead = OUT_OK;
    int tried = 0;
    if (nok == 0 && t->deflt) {
        inc.deadlettered = 1;
        tried = 1;
        dead = deliver(ctx, 0, t->deflt, t->defltLen, &m, &receivers);
        nlost += dead != OUT_OK;
    }
    inc.delivered = nok + (tried && dead == OUT_OK);

    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithStringBuffer(ctx, m.id, m.idlen);
    RedisModule_ReplyWithArray(ctx, (long)inc.delivered);
    for (size_t i = 0; i < nd; i++) {
        if (slot[i].rep == i && slot[i].out == OUT_OK)
            RedisModule_ReplyWithStringBuffer(ctx, d[i].route->target, d[i].route->targetLen);
    }
    if (tried && dead == OUT_OK) RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
    RedisModule_ReplyWithLongLong(ctx, receivers);
    RedisModule_ReplyWithArray(ctx, (long)nlost);
    for (size_t i = 0; i < nd; i++) {
        if (slot[i].rep != i || slot[i].out == OUT_OK) continue;
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithStringBuffer(ctx, d[i].route->target, d[i].route->targetLen);
        RedisModule_ReplyWithCString(ctx, outcomeNames[slot[i].out]);
    }
    if (tried && dead != OUT_OK) {
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
        RedisModule_ReplyWithCString(ctx, outcomeNames[dead]);
    }

    for (size_t i = 0; i < nd; i++) {
        swRouteCounters *c = &d[i].route->c;
        c->matched += d[i].matched;
        c->delivered += d[i].delivered;
        c->missed += d[i].missed;
        c->failed += d[i].failed;
        c->shed += d[i].shed;
    }
    swTableStats *s = &t->stats;
    s->published++;
    s->delivered += inc.delivered;
    s->unrouted += inc.unrouted;
    s->deadlettered += inc.deadlettered;
    s->shed += inc.shed;
    const swRule *hit = res->allowRule;
    if (res->allowRule) res->allowRule->hits++;
    SwarmTouched(ctx, argv[1], "swarm.publish");
    swBuf *delta = propagate ? encodeDelta(t, &inc, d, nd, &hit, hit ? 1 : 0) : NULL;
    if (!propagate) {
        markChanged(ctx);
    } else if (m.senderStr) {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbbsss", argv[1], kindPublish, delta->data,
                              delta->len, effects.data, effects.len, argv[2], argv[3], m.senderStr);
    } else {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbbss", argv[1], kindPublish, delta->data,
                              delta->len, effects.data, effects.len, argv[2], argv[3]);
    }

    atomic_fetch_add_explicit(&swarmCounters.published, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&swarmCounters.delivered, inc.delivered, memory_order_relaxed);
    if (inc.unrouted) atomic_fetch_add_explicit(&swarmCounters.unrouted, 1, memory_order_relaxed);
    if (inc.deadlettered)
        atomic_fetch_add_explicit(&swarmCounters.deadlettered, 1, memory_order_relaxed);
    if (inc.shed) atomic_fetch_add_explicit(&swarmCounters.shed, inc.shed, memory_order_relaxed);
    if (d != dstack) {
        RedisModule_Free(d);
        RedisModule_Free(slot);
    }
    if (m.envelope) RedisModule_FreeString(ctx, m.envelope);
    if (m.idStr) {
        RedisModule_FreeString(ctx, m.idStr);
        RedisModule_FreeString(ctx, m.tsStr);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.APPLY ----
 *   key PUBLISH delta effects type payload [sender]   a publish (this file)
 *   key ROUTE delta [channel envelope ...]            a rejection; older versions' publish
 *   key SNAPSHOT version ts keep json                 a snapshot write (cmd_snapshot.c)
 * Internal: only the master link and AOF loading run it. */

/* Redoes a publish's deliveries on a replica or while loading the AOF. The table has been
 * checked to hold every target. Returns the number of stream appends that failed (a
 * replica that diverged from its master). */
static int redoDeliveries(RedisModuleCtx *ctx, swTable *t, const char *buf, size_t len,
                          Message *m) {
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
            if (appendEntry(ctx, name, nlen, m, &id, e.trimTo, &out, &trimmed) != OUT_OK)
                failures++;
        } else if (!loading) {
            /* Subscribers of this replica get the master's envelopes; an AOF being loaded
             * publishes nothing (its messages were delivered long ago). */
            if (m->envelope == NULL) m->envelope = buildEnvelope(ctx, m);
            RedisModuleString *chan = RedisModule_CreateString(ctx, name, nlen);
            RedisModule_PublishMessage(ctx, chan, m->envelope);
            RedisModule_FreeString(ctx, chan);
        }
    }
    return failures;
}

static int applyPublish(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 7 && argc != 8) return RedisModule_WrongArity(ctx);
    size_t dlen, elen;
    const char *delta = RedisModule_StringPtrLen(argv[3], &dlen);
    const char *eff = RedisModule_StringPtrLen(argv[4], &elen);
    swError err;
    swEffectReader rd;
    swEffectHead h;
    if (swEffectOpen(&rd, eff, elen, &h, &err) != SW_OK)
        return SwarmReplyStatus(ctx, SW_ERR_CORRUPT, &err);
    if (h.hasSender != (argc == 8))
        return RedisModule_ReplyWithError(ctx,
                                          "ERR publish effect and arguments disagree on SENDER");
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (t == NULL) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR no such routing table");
    }
    /* Check every delivery against the table before anything changes. */
    swEffect e;
    int more;
    while ((more = swEffectNext(&rd, &e, &err)) == 1) {
        const char *name;
        size_t nlen;
        if (swEffectTarget(t, &e, &name, &nlen, &err) != SW_OK) {
            more = SW_ERR_CORRUPT;
            break;
        }
    }
    swStatus st = more < 0 ? SW_ERR_CORRUPT : swDeltaApply(t, delta, dlen, &err);
    if (st != SW_OK) {
        RedisModule_CloseKey(key);
        return SwarmReplyStatus(ctx, st, &err);
    }
    Message m = {.priority = h.priority, .ts = h.ts, .idMs = h.idMs, .idSeq = h.idSeq};
    char *p = putU64(m.id, (uint64_t)h.idMs);
    *p++ = '-';
    m.idlen = (size_t)(putU64(p, h.idSeq) - m.id);
    m.keyStr = argv[1];
    m.typeStr = argv[5];
    m.payloadStr = argv[6];
    m.senderStr = argc == 8 ? argv[7] : NULL;
    m.key = RedisModule_StringPtrLen(argv[1], &m.klen);
    m.type = RedisModule_StringPtrLen(argv[5], &m.tlen);
    m.payload = RedisModule_StringPtrLen(argv[6], &m.plen);
    if (m.senderStr) m.sender = RedisModule_StringPtrLen(m.senderStr, &m.slen);
    int failures = redoDeliveries(ctx, t, eff, elen, &m);
    RedisModule_CloseKey(key);
    if (m.envelope) RedisModule_FreeString(ctx, m.envelope);
    if (m.idStr) {
        RedisModule_FreeString(ctx, m.idStr);
        RedisModule_FreeString(ctx, m.tsStr);
    }
    SwarmTouched(ctx, argv[1], "swarm.publish");
    RedisModule_ReplicateVerbatim(ctx);
    if (failures) {
        RedisModule_Log(ctx, "warning",
                        "swarm: SWARM.APPLY could not append %d stream entries of message %s "
                        "(a stream key differs from the master's)",
                        failures, m.id);
        return RedisModule_ReplyWithError(ctx, "ERR a stream entry of the publish could not be "
                                               "appended");
    }
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* The form rejections use, and publishes of older versions (envelopes as pairs; their
 * stream entries came as separate XADDs). */
static int applyRoute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc % 2 != 0)
        return RedisModule_ReplyWithError(ctx,
                                          "ERR syntax error, channels and envelopes come in pairs");
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (t == NULL) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR no such routing table");
    }
    size_t len;
    const char *buf = RedisModule_StringPtrLen(argv[3], &len);
    swError err;
    swStatus st = swDeltaApply(t, buf, len, &err);
    RedisModule_CloseKey(key);
    if (st != SW_OK) return SwarmReplyStatus(ctx, st, &err);
    if (!(RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_LOADING)) {
        for (int i = 4; i + 1 < argc; i += 2) RedisModule_PublishMessage(ctx, argv[i], argv[i + 1]);
    }
    SwarmTouched(ctx, argv[1], "swarm.publish");
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int SwarmApply_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (!SwarmInternalAllowed(ctx)) return SwarmReplyInternal(ctx, "SWARM.APPLY");
    const char *kind = RedisModule_StringPtrLen(argv[2], NULL);
    if (strcasecmp(kind, "PUBLISH") == 0) return applyPublish(ctx, argv, argc);
    if (strcasecmp(kind, "ROUTE") == 0) return applyRoute(ctx, argv, argc);
    if (strcasecmp(kind, "SNAPSHOT") == 0) {
        if (argc != 7) return RedisModule_WrongArity(ctx);
        return SwarmSnapshot_Apply(ctx, argv);
    }
    return RedisModule_ReplyWithError(
        ctx, "ERR unknown effect kind, expected PUBLISH, ROUTE or SNAPSHOT");
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

/* Creates the shared strings and starts counting replicas (already attached ones too, for a
 * MODULE LOAD at run time). */
static int initPublish(RedisModuleCtx *ctx) {
    static const char *names[F_COUNT] = {"id", "swarm",   "type",  "priority",
                                         "ts", "payload", "sender"};
    for (int i = 0; i < F_COUNT; i++)
        fieldName[i] = RedisModule_CreateString(NULL, names[i], strlen(names[i]));
    for (int p = 1; p <= 9; p++) priorityValue[p] = RedisModule_CreateStringFromLongLong(NULL, p);
    kindPublish = RedisModule_CreateString(NULL, "PUBLISH", 7);
    kindRoute = RedisModule_CreateString(NULL, "ROUTE", 5);
    RedisModuleServerInfoData *info = RedisModule_GetServerInfo(ctx, "replication");
    if (info) {
        attachedReplicas =
            (int)RedisModule_ServerInfoGetFieldSigned(info, "connected_slaves", NULL);
        const char *role = RedisModule_ServerInfoGetFieldC(info, "role");
        replicationSeen =
            attachedReplicas > 0 || (role && strcmp(role, "master") != 0) ||
            RedisModule_ServerInfoGetFieldSigned(info, "repl_backlog_active", NULL) != 0;
        RedisModule_FreeServerInfo(ctx, info);
    } else {
        replicationSeen = 1;
    }
    if (RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ReplicationRoleChanged,
                                           onReplicationSign) == REDISMODULE_ERR ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_MasterLinkChange,
                                           onReplicationSign) == REDISMODULE_ERR ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ForkChild, onReplicationSign) ==
            REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_ReplicaChange, onReplicaChange);
}

/* ---- Registration ---- */

/* The reply names targets, so the key is read too (ACCESS): a write-only ACL user may not
 * publish. */
static RedisModuleCommandKeySpec publishKeys[] = {
    {.flags = REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_ACCESS | REDISMODULE_CMD_KEY_UPDATE,
     .begin_search_type = REDISMODULE_KSPEC_BS_INDEX,
     .bs.index.pos = 1,
     .find_keys_type = REDISMODULE_KSPEC_FK_RANGE,
     .fk.range = {0, 1, 0}},
    {0}};

static RedisModuleCommandKeySpec applyKeys[] = {
    {.flags = REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE,
     .begin_search_type = REDISMODULE_KSPEC_BS_INDEX,
     .bs.index.pos = 1,
     .find_keys_type = REDISMODULE_KSPEC_FK_RANGE,
     .fk.range = {0, 1, 0}},
    {0}};

int SwarmPublish_Register(RedisModuleCtx *ctx) {
    if (initPublish(ctx) == REDISMODULE_ERR) return REDISMODULE_ERR;
    if (SwarmRegister(
            ctx, NULL, "swarm.publish", SwarmPublish_RedisCommand, "write deny-oom", 1,
            &(RedisModuleCommandInfo){
                .summary = "Validates an event and delivers it along the swarm's routes",
                .complexity = "O(P + T) for a payload of P bytes and T targets, once the event "
                              "type's routes are cached",
                .arity = -4,
                .key_specs = publishKeys,
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
                    {0}}}) == REDISMODULE_ERR)
        return REDISMODULE_ERR;
    return SwarmRegister(
        ctx, NULL, "swarm.apply", SwarmApply_RedisCommand, "write", 1,
        &(RedisModuleCommandInfo){
            .summary = "Applies the replicated effect of SWARM.PUBLISH or of a snapshot write "
                       "(internal: what replicas and the AOF receive)",
            .complexity = "O(R) for R routes in the delta; O(N) for a snapshot of N bytes",
            .arity = -4,
            .key_specs = applyKeys,
            .args = (RedisModuleCommandArg[]){
                {.name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0},
                {.name = "kind", .type = REDISMODULE_ARG_TYPE_STRING},
                {.name = "effect",
                 .type = REDISMODULE_ARG_TYPE_STRING,
                 .flags = REDISMODULE_CMD_ARG_MULTIPLE},
                {0}}});
}
