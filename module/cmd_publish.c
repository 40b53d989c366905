/* cmd_publish.c -- SWARM.PUBLISH: validated, routed events.
 *
 *   validate everything -> resolve routes (cached per type) -> next id -> envelope (one
 *   buffer) -> deliver per distinct target, breaker first -> dead letter -> reply ->
 *   replicate.
 *
 * Replication is deterministic: a stream XADD propagates itself with the id it generated;
 * then one SWARM.APPLY key ROUTE <delta> [<channel> <envelope> ...] carries the table's new
 * clock, counters and breakers and the envelopes published here, which a replica publishes
 * to its own subscribers (and an AOF being loaded does not). In cluster mode envelopes
 * travel over the cluster bus instead. A replica never reads a clock or a subscriber count
 * of its own. */
#include <string.h>
#include <strings.h>

#include "cmd_publish.h"
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "swarm/breaker.h"
#include "swarm/buf.h"
#include "swarm/delta.h"
#include "swarm/event.h"
#include "swarm/keyslot.h"
#include "swarm/resolve.h"
#include "swarm/utf8.h"
#include "type_rtb.h"

#define MAX_SENDER 128

/* Envelope sizing: the bytes of the fixed JSON text around the fields (keys, quotes,
 * commas, the one-digit priority and a 20-digit ts), and the most one input byte can
 * become once escaped ("\u00XX" is six). */
#define ENVELOPE_FIXED_BYTES 96
#define ESCAPED_MAX_PER_BYTE 6

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
 * as U+FFFD, so the envelope is always valid JSON. Needs room for ESCAPED_MAX_PER_BYTE * len
 * bytes. */
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
    RedisModuleString *envelope; /* created on first channel delivery */
    /* Channel/envelope pairs published here, for replicas (not in cluster mode). */
    RedisModuleString **pubs; /* pubstack until it overflows */
    size_t npubs, cappubs;
    RedisModuleString *pubstack[8];
} Message;

/* {"id":..,"swarm":..,"type":..,"priority":..,"ts":..,"sender":..,"payload":..} in one
 * allocation, as a RedisModuleString ready to publish and replicate. */
static RedisModuleString *buildEnvelope(RedisModuleCtx *ctx, const Message *m) {
    static char *buf;
    static size_t cap;
    size_t need = ENVELOPE_FIXED_BYTES + m->idlen + ESCAPED_MAX_PER_BYTE * m->klen + m->tlen +
                  ESCAPED_MAX_PER_BYTE * m->slen + m->plen;
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

typedef enum { OUT_OK, OUT_MISSED, OUT_FAILED } Outcome;

static Outcome deliverChannel(RedisModuleCtx *ctx, const char *name, size_t nlen, Message *m,
                              long long *receivers) {
    int cluster = SwarmInCluster(), shard = cluster && !swarmConfig.clusterPubsubGlobal;
    /* A shard channel outside the table's slot has its subscribers on another shard. */
    if (shard && swKeySlot(name, nlen) != swKeySlot(m->key, m->klen)) return OUT_FAILED;
    if (m->envelope == NULL) m->envelope = buildEnvelope(ctx, m);
    RedisModuleString *chan = RedisModule_CreateString(ctx, name, nlen);
    int n = shard ? RedisModule_PublishMessageShard(ctx, chan, m->envelope)
                  : RedisModule_PublishMessage(ctx, chan, m->envelope);
    *receivers += n;
    if (cluster) {
        /* The message travels to the other nodes over the cluster bus. */
        RedisModule_FreeString(ctx, chan);
    } else {
        /* Replicas publish it too, from the SWARM.APPLY that carries this publish's effect
         * (one replicated command per publish instead of two). */
        if (m->npubs + 2 > m->cappubs) {
            size_t cap = m->cappubs * 2;
            RedisModuleString **more = RedisModule_Alloc(cap * sizeof(*more));
            memcpy(more, m->pubs, m->npubs * sizeof(*more));
            if (m->pubs != m->pubstack) RedisModule_Free(m->pubs);
            m->pubs = more;
            m->cappubs = cap;
        }
        m->pubs[m->npubs++] = chan;
        m->pubs[m->npubs++] = m->envelope;
    }
    /* A cluster-wide PUBLISH counts only this node's subscribers; the others cannot be
     * seen from here, so the delivery is not judged a miss. */
    if (cluster && !shard) return OUT_OK;
    return n > 0 ? OUT_OK : OUT_MISSED;
}

static Outcome deliverStream(RedisModuleCtx *ctx, const char *name, size_t nlen, const Message *m) {
    RedisModuleCallReply *r;
    /* "!" propagates the XADD with the id it generated and its trimming made exact. */
    if (m->sender) {
        r = RedisModule_Call(ctx, "XADD", "!bcclccbcbclclcbcb", name, nlen, "MAXLEN", "~",
                             swarmConfig.streamMaxlen, "*", "id", m->id, m->idlen, "type", m->type,
                             m->tlen, "priority", (long long)m->priority, "ts", m->ts, "payload",
                             m->payload, m->plen, "sender", m->sender, m->slen);
    } else {
        r = RedisModule_Call(ctx, "XADD", "!bcclccbcbclclcb", name, nlen, "MAXLEN", "~",
                             swarmConfig.streamMaxlen, "*", "id", m->id, m->idlen, "type", m->type,
                             m->tlen, "priority", (long long)m->priority, "ts", m->ts, "payload",
                             m->payload, m->plen);
    }
    Outcome o = r && RedisModule_CallReplyType(r) == REDISMODULE_REPLY_STRING ? OUT_OK : OUT_FAILED;
    if (r) RedisModule_FreeCallReply(r);
    return o;
}

static Outcome deliver(RedisModuleCtx *ctx, const char *target, size_t len, Message *m,
                       long long *receivers) {
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(target, len, &kind, &off, NULL) != SW_OK) return OUT_FAILED;
    if (kind == SW_TARGET_CHANNEL)
        return deliverChannel(ctx, target + off, len - off, m, receivers);
    return deliverStream(ctx, target + off, len - off, m);
}

/* ---- Validation ---- */

typedef struct Args {
    int priority;
    const char *sender;
    size_t slen;
} Args;

/* Checks options, type and payload. Returns SW_OK or a status with err filled in. */
static swStatus validate(RedisModuleString **argv, int argc, Args *a, swError *err) {
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

/* Applies a publish's effect to the table and replicates it as SWARM.APPLY key ROUTE
 * <delta> [<channel> <envelope> ...]. */
static RedisModuleString *routeKind; /* "ROUTE", shared by every SWARM.APPLY replicated */

static void commitDelta(RedisModuleCtx *ctx, RedisModuleString *key, swTable *t, swDelta *d,
                        RedisModuleString **pubs, size_t npubs) {
    static swBuf delta; /* reused across calls */
    d->clockMs = t->clockMs;
    d->clockSeq = t->clockSeq;
    swDeltaCommit(t, d);
    delta.len = 0;
    swDeltaEncode(&delta, d);
    if (npubs) {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "ssbv", key, routeKind, delta.data, delta.len,
                              pubs, npubs);
    } else {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "ssb", key, routeKind, delta.data, delta.len);
    }
}

/* Rejections count on the table too: only the rejection counters (and the DENY rule's
 * hits) change, on the master and, through the delta, on replicas and in the AOF. */
static int rejectAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, swTable *t,
                          swRule *denyRule, swStatus st, const swError *err) {
    SwarmStats_CountRejection(st);
    if (t) {
        swDelta d = {.inc = {.rejected = 1}, .rules = &denyRule, .nrules = denyRule ? 1 : 0};
        commitDelta(ctx, keyname, t, &d, NULL, 0);
    }
    return SwarmReplyStatus(ctx, st, err);
}

/* ---- SWARM.PUBLISH key type payload [PRIORITY p] [SENDER id] ---- */

#define STACK_ROUTES 16

static int SwarmPublish_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;

    Args a;
    swError err;
    swStatus st = validate(argv, argc, &a, &err);
    Message m = {.priority = a.priority, .sender = a.sender, .slen = a.slen};
    m.type = RedisModule_StringPtrLen(argv[2], &m.tlen);
    const swResolution *res = NULL;
    if (st == SW_OK && t) {
        if (swTableResolve(t, m.type, m.tlen, &res) != SW_OK) {
            st = swErrorSet(&err, SW_ERR_NOMEM, 0, "out of memory");
        } else {
            st = swResolutionAdmit(res, m.type, m.tlen, &err);
        }
    }
    if (st != SW_OK) {
        rejectAndReply(ctx, argv[1], t, res ? res->denyRule : NULL, st, &err);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }
    if (t == NULL) {
        /* A missing key is an empty table: nothing to route to, no id issued. */
        SwarmStats_CountPublish(&(swTableStats){.published = 1, .unrouted = 1});
        RedisModule_CloseKey(key);
        RedisModule_ReplyWithArray(ctx, 3);
        RedisModule_ReplyWithNull(ctx);
        RedisModule_ReplyWithArray(ctx, 0);
        return RedisModule_ReplyWithLongLong(ctx, 0);
    }

    m.ts = RedisModule_Milliseconds();
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, m.ts, &ms, &seq);
    char *p = putU64(m.id, (uint64_t)ms);
    *p++ = '-';
    m.idlen = (size_t)(putU64(p, seq) - m.id);
    m.key = RedisModule_StringPtrLen(argv[1], &m.klen);
    m.payload = RedisModule_StringPtrLen(argv[3], &m.plen);
    m.pubs = m.pubstack;
    m.cappubs = sizeof(m.pubstack) / sizeof(m.pubstack[0]);

    /* Per matching route: reuse the outcome of an earlier route with the same target (each
     * target gets the message once), else consult the breaker, else deliver. */
    size_t n = res->nroutes;
    swDeltaRoute dstack[STACK_ROUTES];
    Outcome ostack[STACK_ROUTES];
    swRoute *okstack[STACK_ROUTES + 1];
    swDeltaRoute *d = n <= STACK_ROUTES ? dstack : RedisModule_Alloc(n * sizeof(*d));
    Outcome *outs = n <= STACK_ROUTES ? ostack : RedisModule_Alloc(n * sizeof(*outs));
    swRoute **ok = n <= STACK_ROUTES ? okstack : RedisModule_Alloc((n + 1) * sizeof(*ok));
    size_t nd = 0, nok = 0;
    long long receivers = 0;
    swDelta delta = {.inc = {.published = 1}, .routes = d};
    swTableStats *inc = &delta.inc;
    for (size_t i = 0; i < n; i++) {
        swRoute *r = res->routes[i];
        if (a.priority < r->pmin || a.priority > r->pmax) continue;
        swDeltaRoute *e = &d[nd];
        *e = (swDeltaRoute){.route = r, .matched = 1};
        size_t k = 0;
        while (k < nd && (d[k].shed || d[k].route->targetLen != r->targetLen ||
                          memcmp(d[k].route->target, r->target, r->targetLen) != 0))
            k++;
        Outcome o;
        if (k < nd) {
            o = outs[k];
        } else if (!swRouteAttempt(r, a.priority, m.ts, swarmConfig.breakerCooldownMs)) {
            e->shed = 1;
            inc->shed++;
            swDeltaRouteTakeBreaker(e, r);
            outs[nd++] = OUT_MISSED;
            continue;
        } else {
            o = deliver(ctx, r->target, r->targetLen, &m, &receivers);
            if (o == OUT_OK) ok[nok++] = r;
        }
        outs[nd++] = o;
        e->delivered = o == OUT_OK;
        e->missed = o == OUT_MISSED;
        e->failed = o == OUT_FAILED;
        swRouteOutcome(r, o == OUT_OK, m.ts, (uint32_t)swarmConfig.breakerThreshold);
        swDeltaRouteTakeBreaker(e, r);
    }
    delta.nroutes = nd;
    if (nd == 0) inc->unrouted = 1;
    const char *dead = NULL;
    if (nok == 0 && t->deflt) {
        inc->deadlettered = 1;
        if (deliver(ctx, t->deflt, t->defltLen, &m, &receivers) == OUT_OK) dead = t->deflt;
    }
    inc->delivered = nok + (dead != NULL);

    RedisModule_ReplyWithArray(ctx, 3);
    RedisModule_ReplyWithStringBuffer(ctx, m.id, m.idlen);
    RedisModule_ReplyWithArray(ctx, (long)inc->delivered);
    for (size_t i = 0; i < nok; i++)
        RedisModule_ReplyWithStringBuffer(ctx, ok[i]->target, ok[i]->targetLen);
    if (dead) RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
    RedisModule_ReplyWithLongLong(ctx, receivers);

    swRule *hit = res->allowRule;
    delta.rules = &hit;
    delta.nrules = hit ? 1 : 0;
    SwarmTouched(ctx, argv[1], "swarm.publish");
    commitDelta(ctx, argv[1], t, &delta, m.pubs, m.npubs);
    for (size_t i = 0; i < m.npubs; i += 2) RedisModule_FreeString(ctx, m.pubs[i]);
    if (m.pubs != m.pubstack) RedisModule_Free(m.pubs);

    SwarmStats_CountPublish(inc);
    if (d != dstack) {
        RedisModule_Free(d);
        RedisModule_Free(outs);
        RedisModule_Free(ok);
    }
    if (m.envelope) RedisModule_FreeString(ctx, m.envelope);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- Registration ---- */

int SwarmPublish_Register(RedisModuleCtx *ctx) {
    routeKind = RedisModule_CreateString(NULL, "ROUTE", 5);
    return SwarmRegister(
        ctx, NULL, "swarm.publish", SwarmPublish_RedisCommand, "write deny-oom", 1,
        &(RedisModuleCommandInfo){
            .summary = "Validates an event and delivers it along the swarm's routes",
            .complexity = "O(P + T) for a payload of P bytes and T targets, once the event "
                          "type's routes are cached",
            .arity = -4,
            .key_specs = SWARM_KEYSPEC(1, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE),
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
