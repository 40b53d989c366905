/* cmd_publish.c -- SWARM.PUBLISH (SPEC sections 5 and 6) and SWARM.APPLY, its replicated
 * effect.
 *
 *   validate everything -> resolve routes (cached per type) -> next id -> envelope (one
 *   buffer) -> deliver per distinct target, breaker first -> dead letter -> reply ->
 *   replicate: XADD and PUBLISH propagate themselves (XADD with its explicit id, PUBLISH to
 *   replicas only, as the built-in does), then SWARM.APPLY carries the table's new clock,
 *   counters and breakers, so a replica and the AOF never read a clock or a subscriber
 *   count of their own. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "swarm.h"
#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/delta.h"
#include "swarm/event.h"
#include "swarm/json.h"
#include "swarm/utf8.h"

#define MAX_SENDER 128
#define MAX_DEPTH 128
#define DEFAULT_PRIORITY 5

/* ---- Envelope ---- */

/* Writes s as the inside of a JSON string: quotes, backslashes and control bytes escaped,
 * and any byte that does not start well-formed UTF-8 (key names are binary-safe) written
 * as U+FFFD, so the envelope is always valid JSON. */
static void putEscaped(swBuf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? swUtf8SeqLen(s, len, i) : 1;
        if (n > 1) {
            i += n;
            continue;
        }
        swBufAppend(b, s + run, i - run);
        if (c >= 0x80) {
            swBufAppend(b, "\\ufffd", 6);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            swBufAppend(b, esc, 6);
        } else {
            char esc[2] = {'\\', (char)c};
            swBufAppend(b, esc, 2);
        }
        run = ++i;
    }
    swBufAppend(b, s + run, len - run);
}

static void putLit(swBuf *b, const char *lit) {
    swBufAppend(b, lit, strlen(lit));
}

/* {"id":..,"swarm":..,"type":..,"priority":..,"ts":..,"sender":..,"payload":..} */
static void buildEnvelope(swBuf *b, const char *id, size_t idlen, const char *key, size_t klen,
                          const char *type, size_t tlen, int priority, long long ts,
                          const char *sender, size_t slen, const char *payload, size_t plen) {
    char num[48];
    b->len = 0;
    putLit(b, "{\"id\":\"");
    swBufAppend(b, id, idlen);
    putLit(b, "\",\"swarm\":\"");
    putEscaped(b, key, klen);
    putLit(b, "\",\"type\":\"");
    swBufAppend(b, type, tlen); /* event types never need escaping */
    int n = snprintf(num, sizeof(num), "\",\"priority\":%d,\"ts\":%lld", priority, ts);
    swBufAppend(b, num, (size_t)n);
    if (sender) {
        putLit(b, ",\"sender\":\"");
        putEscaped(b, sender, slen);
        putLit(b, "\"");
    }
    putLit(b, ",\"payload\":");
    swBufAppend(b, payload, plen);
    putLit(b, "}");
}

/* ---- Delivery ---- */

typedef enum { OUT_OK, OUT_MISSED, OUT_FAILED } Outcome;

typedef struct Message {
    RedisModuleString *key;
    const char *id;
    size_t idlen;
    const char *type;
    size_t tlen;
    int priority;
    long long ts;
    const char *sender;
    size_t slen;
    const char *payload;
    size_t plen;
    const swBuf *envelope;
} Message;

static Outcome deliver(RedisModuleCtx *ctx, const char *target, size_t len, const Message *m,
                       long long *receivers) {
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(target, len, &kind, &off, NULL) != SW_OK) return OUT_FAILED;
    const char *name = target + off;
    size_t nlen = len - off;
    RedisModuleCallReply *r;
    if (kind == SW_TARGET_CHANNEL) {
        /* Propagated to replicas only ("A"), as the built-in PUBLISH does, so subscribers
         * of a replica see the same envelope and the AOF does not keep it. */
        const char *cmd = SwarmInCluster(ctx) && !swarmConfig.clusterPubsubGlobal ? "SPUBLISH"
                                                                                   : "PUBLISH";
        r = RedisModule_Call(ctx, cmd, "!Abb", name, nlen, m->envelope->data, m->envelope->len);
        if (r == NULL || RedisModule_CallReplyType(r) != REDISMODULE_REPLY_INTEGER) {
            if (r) RedisModule_FreeCallReply(r);
            return OUT_FAILED;
        }
        long long n = RedisModule_CallReplyInteger(r);
        RedisModule_FreeCallReply(r);
        *receivers += n;
        /* A cluster-wide PUBLISH counts only this node's subscribers; the others cannot be
         * seen from here, so the delivery is not judged a miss. */
        if (cmd[0] == 'P' && SwarmInCluster(ctx)) return OUT_OK;
        return n > 0 ? OUT_OK : OUT_MISSED;
    }
    char maxlen[24];
    snprintf(maxlen, sizeof(maxlen), "%lld", swarmConfig.streamMaxlen);
    if (m->sender) {
        r = RedisModule_Call(ctx, "XADD", "!bcccccbcbclclcbcb", name, nlen, "MAXLEN", "~", maxlen,
                             "*", "id", m->id, m->idlen, "type", m->type, m->tlen, "priority",
                             (long long)m->priority, "ts", m->ts, "payload", m->payload, m->plen,
                             "sender", m->sender, m->slen);
    } else {
        r = RedisModule_Call(ctx, "XADD", "!bcccccbcbclclcb", name, nlen, "MAXLEN", "~", maxlen,
                             "*", "id", m->id, m->idlen, "type", m->type, m->tlen, "priority",
                             (long long)m->priority, "ts", m->ts, "payload", m->payload, m->plen);
    }
    Outcome o = r && RedisModule_CallReplyType(r) == REDISMODULE_REPLY_STRING ? OUT_OK : OUT_FAILED;
    if (r) RedisModule_FreeCallReply(r);
    return o;
}

/* ---- Validation ---- */

typedef struct Args {
    int priority;
    const char *sender;
    size_t slen;
} Args;

/* Checks options, type and payload. Returns SW_OK or a status with err filled in. */
static swStatus validate(RedisModuleString **argv, int argc, Args *a, swError *err) {
    a->priority = DEFAULT_PRIORITY;
    a->sender = NULL;
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
                return swErrorSet(err, SW_ERR_SYNTAX, bad,
                                  "SENDER is not valid UTF-8 at byte %zu", bad);
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
    if (swJsonValidate(payload, plen, MAX_DEPTH, &jerr) != SW_OK) {
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
    atomic_fetch_add(c, 1);
}

static swBuf scratch; /* envelope buffer, reused across calls */
static swBuf deltaBuf;

static void replicateDelta(RedisModuleCtx *ctx, RedisModuleString *key, const swTable *t,
                           const swTableStats *inc, const swDeltaRoute *routes, size_t n,
                           const swRule *const *rules, size_t nrules) {
    deltaBuf.len = 0;
    swDeltaEncode(&deltaBuf, t, inc, routes, n, rules, nrules);
    RedisModule_Replicate(ctx, "SWARM.APPLY", "scb", key, "ROUTE", deltaBuf.data, deltaBuf.len);
}

/* ---- SWARM.PUBLISH key type payload [PRIORITY p] [SENDER id] ---- */

static int SwarmPublish_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK) return REDISMODULE_OK;

    Args a;
    swError err;
    swStatus st = validate(argv, argc, &a, &err);
    size_t tlen;
    const char *type = RedisModule_StringPtrLen(argv[2], &tlen);
    const swResolution *res = NULL;
    if (st == SW_OK && t) {
        if (swTableResolve(t, type, tlen, &res) != SW_OK) {
            st = swErrorSet(&err, SW_ERR_NOMEM, 0, "out of memory");
        } else if (!res->admitted) {
            if (res->denyRule) {
                st = swErrorSet(&err, SW_ERR_DENIED, 0, "event type '%.128s' is denied by rule %llu",
                                type, (unsigned long long)res->denyRule->id);
            } else {
                st = swErrorSet(&err, SW_ERR_DENIED, 0,
                                "event type '%.128s' matches no ALLOW rule of the table", type);
            }
        }
    }
    if (st != SW_OK) {
        countRejection(st);
        if (t) {
            /* Only the rejection counters change, on the master and, through the delta, on
             * its replicas and in the AOF. */
            swTableStats inc = {.rejected = 1};
            const swRule *hit = res && res->denyRule ? res->denyRule : NULL;
            t->stats.rejected++;
            if (hit) res->denyRule->hits++;
            replicateDelta(ctx, argv[1], t, &inc, NULL, 0, &hit, hit ? 1 : 0);
        }
        RedisModule_CloseKey(key);
        return SwarmReplyStatus(ctx, st, &err);
    }
    if (t == NULL) {
        /* A missing key is an empty table: nothing to route to, no id issued. */
        atomic_fetch_add(&swarmCounters.published, 1);
        atomic_fetch_add(&swarmCounters.unrouted, 1);
        RedisModule_CloseKey(key);
        RedisModule_ReplyWithArray(ctx, 3);
        RedisModule_ReplyWithNull(ctx);
        RedisModule_ReplyWithArray(ctx, 0);
        return RedisModule_ReplyWithLongLong(ctx, 0);
    }

    long long now = RedisModule_Milliseconds();
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, now, &ms, &seq);
    char id[48];
    size_t idlen = (size_t)snprintf(id, sizeof(id), "%lld-%llu", (long long)ms,
                                    (unsigned long long)seq);
    size_t klen, plen;
    const char *keyname = RedisModule_StringPtrLen(argv[1], &klen);
    const char *payload = RedisModule_StringPtrLen(argv[3], &plen);
    buildEnvelope(&scratch, id, idlen, keyname, klen, type, tlen, a.priority, now, a.sender,
                  a.slen, payload, plen);
    if (swBufFailed(&scratch)) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "OOM out of memory");
    }
    Message m = {argv[1], id, idlen, type, tlen, a.priority, now, a.sender, a.slen,
                 payload, plen, &scratch};

    /* Per matching route: reuse the outcome of an earlier route with the same target (each
     * target gets the message once), else consult the breaker, else deliver. */
    size_t n = res->nroutes;
    swDeltaRoute dstack[16];
    Outcome ostack[16];
    swDeltaRoute *d = n <= 16 ? dstack : RedisModule_Alloc(n * sizeof(*d));
    Outcome *outs = n <= 16 ? ostack : RedisModule_Alloc(n * sizeof(*outs));
    size_t nd = 0, okTargets = 0;
    long long receivers = 0;
    swTableStats inc = {.published = 1};
    int64_t cooldown = swarmConfig.breakerCooldownMs;
    uint32_t threshold = (uint32_t)swarmConfig.breakerThreshold;
    RedisModule_ReplyWithArray(ctx, 3);
    RedisModule_ReplyWithStringBuffer(ctx, id, idlen);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    for (size_t i = 0; i < n; i++) {
        swRoute *r = res->routes[i];
        if (a.priority < r->pmin || a.priority > r->pmax) continue;
        swDeltaRoute *e = &d[nd];
        *e = (swDeltaRoute){.route = r, .matched = 1};
        size_t k = 0;
        while (k < nd && !(d[k].route->targetLen == r->targetLen &&
                           memcmp(d[k].route->target, r->target, r->targetLen) == 0 &&
                           !d[k].shed))
            k++;
        Outcome o;
        if (k < nd) {
            o = outs[k];
        } else if (!swRouteAttempt(r, a.priority, now, cooldown)) {
            e->shed = 1;
            inc.shed++;
            outs[nd++] = OUT_MISSED;
            continue;
        } else {
            o = deliver(ctx, r->target, r->targetLen, &m, &receivers);
            if (o == OUT_OK) {
                okTargets++;
                RedisModule_ReplyWithStringBuffer(ctx, r->target, r->targetLen);
            }
        }
        outs[nd++] = o;
        e->delivered = o == OUT_OK;
        e->missed = o == OUT_MISSED;
        e->failed = o == OUT_FAILED;
        swRouteOutcome(r, o == OUT_OK, now, threshold);
    }
    if (nd == 0) inc.unrouted = 1;
    if (okTargets == 0 && t->deflt) {
        inc.deadlettered = 1;
        if (deliver(ctx, t->deflt, t->defltLen, &m, &receivers) == OUT_OK) {
            okTargets++;
            RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
        }
    }
    RedisModule_ReplySetArrayLength(ctx, (long)okTargets);
    RedisModule_ReplyWithLongLong(ctx, receivers);
    inc.delivered = okTargets;

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
    replicateDelta(ctx, argv[1], t, &inc, d, nd, &hit, hit ? 1 : 0);

    atomic_fetch_add(&swarmCounters.published, 1);
    atomic_fetch_add(&swarmCounters.delivered, inc.delivered);
    if (inc.unrouted) atomic_fetch_add(&swarmCounters.unrouted, 1);
    if (inc.deadlettered) atomic_fetch_add(&swarmCounters.deadlettered, 1);
    if (inc.shed) atomic_fetch_add(&swarmCounters.shed, inc.shed);
    if (d != dstack) {
        RedisModule_Free(d);
        RedisModule_Free(outs);
    }
    /* Keep a large envelope's memory only until the next small one. */
    if (scratch.cap > 1 << 20) swBufFree(&scratch);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.APPLY key ROUTE delta | key SNAPSHOT version ts keep json ----
 * The replicated effect of a publish (or of a snapshot write, see cmd_snapshot.c). */

static int SwarmApply_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    const char *kind = argc > 2 ? RedisModule_StringPtrLen(argv[2], NULL) : "";
    if (argc == 7 && strcasecmp(kind, "SNAPSHOT") == 0) return SwarmSnapshot_Apply(ctx, argv);
    if (argc != 4 || strcasecmp(kind, "ROUTE") != 0) return RedisModule_WrongArity(ctx);
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK) return REDISMODULE_OK;
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
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* ---- Registration ---- */

static RedisModuleCommandKeySpec publishKeys[] = {
    {.flags = REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE,
     .begin_search_type = REDISMODULE_KSPEC_BS_INDEX,
     .bs.index.pos = 1,
     .find_keys_type = REDISMODULE_KSPEC_FK_RANGE,
     .fk.range = {0, 1, 0}},
    {0}};

int SwarmPublish_Register(RedisModuleCtx *ctx) {
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
                    {.name = "priority", .type = REDISMODULE_ARG_TYPE_INTEGER,
                     .token = "PRIORITY", .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                    {.name = "sender", .type = REDISMODULE_ARG_TYPE_STRING, .token = "SENDER",
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
            .key_specs = publishKeys,
            .args = (RedisModuleCommandArg[]){
                {.name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0},
                {.name = "kind", .type = REDISMODULE_ARG_TYPE_STRING},
                {.name = "effect", .type = REDISMODULE_ARG_TYPE_STRING,
                 .flags = REDISMODULE_CMD_ARG_MULTIPLE},
                {0}}});
}
