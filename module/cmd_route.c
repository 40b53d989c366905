/* cmd_route.c -- SWARM.ROUTE: the routing table's subcommands.
 *
 * Handler flow: arity (Redis checks it from the command info), parse every argument, open
 * the key, check its type, mutate, reply, replicate. Nothing is written before every
 * argument is known good. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd_route.h"
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "swarm/breaker.h"
#include "swarm/event.h"
#include "swarm/keyslot.h"
#include "swarm/resolve.h"
#include "swarm/table.h"
#include "type_rtb.h"

/* In cluster mode a stream target must live in the table's slot, or one publish would
 * write to two shards. So must a channel published as a shard channel (the default): its
 * subscribers are connected to the shard that owns the channel's slot. */
static int checkSlotOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname,
                            RedisModuleString *target) {
    /* A replayed write passed this check where it first ran, under that node's
     * swarm.cluster-pubsub. */
    if (!SwarmInCluster() || SwarmIsReplay(ctx)) return REDISMODULE_OK;
    size_t tlen, klen;
    const char *t = RedisModule_StringPtrLen(target, &tlen);
    const char *k = RedisModule_StringPtrLen(keyname, &klen);
    swTargetKind kind;
    size_t off;
    if (swTargetCheck(t, tlen, &kind, &off, NULL) != SW_OK) return REDISMODULE_OK;
    if (kind == SW_TARGET_CHANNEL && swarmConfig.clusterPubsubGlobal) return REDISMODULE_OK;
    unsigned int ts = swKeySlot(t + off, tlen - off), ks = swKeySlot(k, klen);
    if (ts == ks) return REDISMODULE_OK;
    SwarmReplyError(ctx, SW_ERR_CROSSSLOT,
                    "%s target '%.128s' hashes to slot %u but the routing table is in slot %u; "
                    "give both the same hash tag, e.g. swarm:{ops} and %s:swarm:{ops}:inbox",
                    kind == SW_TARGET_STREAM ? "stream" : "shard channel", t, ts, ks,
                    kind == SW_TARGET_STREAM ? "stream" : "channel");
    return REDISMODULE_ERR;
}

/* ---- Who may choose a target ---- */

/* A route (or the default target) writes to its target on behalf of whoever publishes
 * through the table later, so choosing the target takes the right to write there oneself:
 * write (insert) permission on a stream's key, publish permission on a channel, as XADD and
 * PUBLISH would need. Otherwise replies NOPERM naming the target, adds the entry Redis
 * would write to ACL LOG (context "module"), counts it in INFO swarm's targets_refused and
 * returns REDISMODULE_ERR. A target that is not well formed passes: the command refuses it
 * with its syntax error. Not checked for replayed writes (the master link and the AOF have
 * no user; the write was allowed where it first ran), nor for a context without a user,
 * which Redis treats as unrestricted. */
static int checkTargetAclOrReply(RedisModuleCtx *ctx, RedisModuleString *target) {
    size_t tlen, off;
    const char *t = RedisModule_StringPtrLen(target, &tlen);
    swTargetKind kind;
    if (SwarmIsReplay(ctx) || swTargetCheck(t, tlen, &kind, &off, NULL) != SW_OK)
        return REDISMODULE_OK;
    RedisModuleString *username = RedisModule_GetCurrentUserName(ctx);
    if (username == NULL) return REDISMODULE_OK;
    RedisModuleUser *user = RedisModule_GetModuleUserFromUserName(username);
    RedisModuleString *name = RedisModule_CreateString(ctx, t + off, tlen - off);
    int stream = kind == SW_TARGET_STREAM, allowed = 0;
    if (user) {
        allowed = stream ? RedisModule_ACLCheckKeyPermissions(
                               user, name, REDISMODULE_CMD_KEY_INSERT) == REDISMODULE_OK
                         : RedisModule_ACLCheckChannelPermissions(
                               user, name, REDISMODULE_CMD_CHANNEL_PUBLISH) == REDISMODULE_OK;
        if (!allowed)
            RedisModule_ACLAddLogEntry(
                ctx, user, name, stream ? REDISMODULE_ACL_LOG_KEY : REDISMODULE_ACL_LOG_CHANNEL);
        RedisModule_FreeModuleUser(user);
    }
    if (!allowed) {
        SwarmStats_Add(SWARM_STAT_TARGETS_REFUSED, 1);
        /* NOPERM is Redis's own code word for a permission the user lacks. */
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "NOPERM target '%.128s': this user has no permissions to %s '%.128s'", t,
                 stream ? "write key" : "publish to channel", t + off);
        RedisModule_ReplyWithError(ctx, msg);
    }
    RedisModule_FreeString(ctx, name);
    RedisModule_FreeString(ctx, username);
    return allowed ? REDISMODULE_OK : REDISMODULE_ERR;
}

/* ---- SWARM.ROUTE ADD key pattern target [REGEX] [PRIORITY min max] ---- */

static int SwarmRouteAdd_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    int regex = 0;
    long long pmin = SW_PRIORITY_MIN, pmax = SW_PRIORITY_MAX;
    for (int i = 5; i < argc; i++) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (strcasecmp(opt, "REGEX") == 0) {
            regex = 1;
        } else if (strcasecmp(opt, "PRIORITY") == 0 && i + 2 < argc) {
            if (SwarmParseRangeOrReply(ctx, argv[i + 1], SW_PRIORITY_MIN, SW_PRIORITY_MAX,
                                       "PRIORITY min", &pmin) ||
                SwarmParseRangeOrReply(ctx, argv[i + 2], SW_PRIORITY_MIN, SW_PRIORITY_MAX,
                                       "PRIORITY max", &pmax))
                return REDISMODULE_OK;
            i += 2;
        } else {
            return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
        }
    }
    if (checkSlotOrReply(ctx, argv[2], argv[4]) != REDISMODULE_OK ||
        checkTargetAclOrReply(ctx, argv[4]) != REDISMODULE_OK)
        return REDISMODULE_OK;

    swTable *existing;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ | REDISMODULE_WRITE, &key,
                                   &existing) != REDISMODULE_OK)
        return REDISMODULE_OK;
    swTable *t = SwarmRouteType_BeginWrite(existing);
    size_t plen, tlen;
    const char *pattern = RedisModule_StringPtrLen(argv[3], &plen);
    const char *target = RedisModule_StringPtrLen(argv[4], &tlen);
    uint64_t id;
    int created = 0;
    swError err;
    /* swarm.max-type-bytes binds clients only: the master link and the AOF replay what a
     * node configured otherwise accepted, up to the format's hard limit. */
    size_t maxType = SwarmIsReplay(ctx) ? SW_TABLE_MAX_PATTERN : (size_t)swarmConfig.maxTypeBytes;
    swStatus st = t ? swTableAddRoute(t, pattern, plen, target, tlen,
                                      regex ? SW_ROUTE_REGEX : SW_ROUTE_SUBJECT, (int)pmin,
                                      (int)pmax, maxType, &id, &created, &err)
                    : SW_ERR_NOMEM;
    SwarmRouteType_EndWrite(key, existing, t);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else {
        if (created) {
            SwarmTouched(ctx, argv[2], "swarm.route.add");
            RedisModule_ReplicateVerbatim(ctx);
        }
        RedisModule_ReplyWithLongLong(ctx, (long long)id);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE ALLOW|DENY key regex ---- */

static int addRule(RedisModuleCtx *ctx, RedisModuleString **argv, swRuleAction action) {
    swTable *existing;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ | REDISMODULE_WRITE, &key,
                                   &existing) != REDISMODULE_OK)
        return REDISMODULE_OK;
    swTable *t = SwarmRouteType_BeginWrite(existing);
    size_t len;
    const char *regex = RedisModule_StringPtrLen(argv[3], &len);
    uint64_t id;
    int created = 0;
    swError err;
    swStatus st = t ? swTableAddRule(t, action, regex, len, &id, &created, &err) : SW_ERR_NOMEM;
    SwarmRouteType_EndWrite(key, existing, t);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else {
        if (created) {
            SwarmTouched(ctx, argv[2],
                         action == SW_RULE_ALLOW ? "swarm.route.allow" : "swarm.route.deny");
            RedisModule_ReplicateVerbatim(ctx);
        }
        RedisModule_ReplyWithLongLong(ctx, (long long)id);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

static int SwarmRouteAllow_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    return addRule(ctx, argv, SW_RULE_ALLOW);
}

static int SwarmRouteDeny_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    return addRule(ctx, argv, SW_RULE_DENY);
}

/* ---- SWARM.ROUTE DEL key id [id ...] ---- */

static int SwarmRouteDel_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    size_t n = (size_t)argc - 3;
    uint64_t *ids = RedisModule_Alloc(n * sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
        long long v;
        if (RedisModule_StringToLongLong(argv[3 + i], &v) != REDISMODULE_OK || v < 1) {
            RedisModule_Free(ids);
            return SwarmReplyError(ctx, SW_ERR_SYNTAX,
                                   "invalid id '%.128s', expected a positive integer",
                                   RedisModule_StringPtrLen(argv[3 + i], NULL));
        }
        ids[i] = (uint64_t)v;
    }
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ | REDISMODULE_WRITE, &key, &t) !=
        REDISMODULE_OK) {
        RedisModule_Free(ids);
        return REDISMODULE_OK;
    }
    size_t removed = 0;
    if (t) {
        SwarmRouteType_BeginWrite(t);
        removed = swTableDel(t, ids, n);
        SwarmRouteType_EndWrite(key, t, t);
        if (removed) {
            SwarmTouched(ctx, argv[2], "swarm.route.del");
            RedisModule_ReplicateVerbatim(ctx);
        }
    }
    RedisModule_Free(ids);
    RedisModule_CloseKey(key);
    return RedisModule_ReplyWithLongLong(ctx, (long long)removed);
}

/* ---- SWARM.ROUTE DEFAULT key target|NONE ---- */

static int SwarmRouteDefault_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    size_t len;
    const char *target = RedisModule_StringPtrLen(argv[3], &len);
    int none = strcasecmp(target, "NONE") == 0;
    swError err;
    swStatus st;
    if (!none && (st = swTargetCheck(target, len, NULL, NULL, &err)) != SW_OK)
        return SwarmReplyStatus(ctx, st, &err);
    if (!none && (checkSlotOrReply(ctx, argv[2], argv[3]) != REDISMODULE_OK ||
                  checkTargetAclOrReply(ctx, argv[3]) != REDISMODULE_OK))
        return REDISMODULE_OK;

    swTable *existing;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ | REDISMODULE_WRITE, &key,
                                   &existing) != REDISMODULE_OK)
        return REDISMODULE_OK;
    /* Clearing no default, or setting the one in force, changes nothing: it fires, touches
     * and replicates nothing. */
    int same = existing && (none ? existing->deflt == NULL
                                 : existing->deflt && existing->defltLen == len &&
                                       memcmp(existing->deflt, target, len) == 0);
    if ((none && existing == NULL) || same) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    swTable *t = SwarmRouteType_BeginWrite(existing);
    st = t ? swTableSetDefault(t, none ? NULL : target, len, &err) : SW_ERR_NOMEM;
    SwarmRouteType_EndWrite(key, existing, t);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else {
        SwarmTouched(ctx, argv[2], "swarm.route.default");
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_ReplyWithSimpleString(ctx, "OK");
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE LIST key ---- */

static const char *kindName(swRouteKind k) {
    return k == SW_ROUTE_REGEX ? "regex" : "subject";
}

static const char *breakerName(swBreaker b) {
    return b == SW_BREAKER_OPEN ? "open" : b == SW_BREAKER_HALF_OPEN ? "half-open" : "closed";
}

static int SwarmRouteList_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    /* An open breaker whose cooldown has passed shows as half-open: the next message probes
     * it. The state itself changes only when a publish attempts the route. */
    int64_t now = (int64_t)RedisModule_Milliseconds();
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &t) != REDISMODULE_OK)
        return REDISMODULE_OK;
    size_t n = t ? t->nroutes : 0;
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        const swRoute *r = t->routes[i];
        SwarmMap m = SwarmMapBegin(ctx);
        SwarmMapInt(&m, "id", (long long)r->id);
        SwarmMapStr(&m, "pattern", r->pattern, r->patternLen);
        SwarmMapSimple(&m, "kind", kindName(r->kind));
        SwarmMapStr(&m, "target", r->target, r->targetLen);
        SwarmMapKey(&m, "priority");
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithLongLong(ctx, r->pmin);
        RedisModule_ReplyWithLongLong(ctx, r->pmax);
        SwarmMapInt(&m, "matched", (long long)r->c.matched);
        SwarmMapInt(&m, "delivered", (long long)r->c.delivered);
        SwarmMapInt(&m, "missed", (long long)r->c.missed);
        SwarmMapInt(&m, "failed", (long long)r->c.failed);
        SwarmMapInt(&m, "shed", (long long)r->c.shed);
        SwarmMapSimple(&m, "breaker",
                       breakerName(swRouteBreakerAt(r, now, swarmConfig.breakerCooldownMs)));
        SwarmMapEnd(&m);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE RULES key ---- */

static int SwarmRouteRules_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &t) != REDISMODULE_OK)
        return REDISMODULE_OK;
    size_t n = t ? t->nrules : 0;
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        const swRule *r = t->rules[i];
        SwarmMap m = SwarmMapBegin(ctx);
        SwarmMapInt(&m, "id", (long long)r->id);
        SwarmMapSimple(&m, "action", r->action == SW_RULE_DENY ? "deny" : "allow");
        SwarmMapStr(&m, "regex", r->regex, r->regexLen);
        SwarmMapInt(&m, "hits", (long long)r->hits);
        SwarmMapEnd(&m);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE STATS key ---- */

static int SwarmRouteStats_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &t) != REDISMODULE_OK)
        return REDISMODULE_OK;
    SwarmRouteType_ReplyStats(ctx, t, 0);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE MATCH key type [PRIORITY p] ---- */

static int SwarmRouteMatch_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long priority = SW_PRIORITY_DEFAULT;
    if (argc == 6 && strcasecmp(RedisModule_StringPtrLen(argv[4], NULL), "PRIORITY") == 0) {
        if (SwarmParseRangeOrReply(ctx, argv[5], SW_PRIORITY_MIN, SW_PRIORITY_MAX, "PRIORITY",
                                   &priority))
            return REDISMODULE_OK;
    } else if (argc != 4) {
        return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
    }
    size_t len;
    const char *type = RedisModule_StringPtrLen(argv[3], &len);
    swError err;
    swStatus st = swEventTypeCheck(type, len, (size_t)swarmConfig.maxTypeBytes, &err);
    if (st != SW_OK) return SwarmReplyStatus(ctx, st, &err);

    swTable *t;
    RedisModuleKey *key;
    if (SwarmRouteType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &t) != REDISMODULE_OK)
        return REDISMODULE_OK;
    const swResolution *res;
    if (t == NULL) {
        RedisModule_ReplyWithArray(ctx, 0);
    } else if ((st = SwarmRouteType_Resolve(t, type, len, &res, &err)) != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else {
        swRoute **sel = RedisModule_Alloc((res->nroutes + 1) * sizeof(*sel));
        size_t n = swResolutionTargets(res, (int)priority, sel);
        if (n == 0 && t->deflt) {
            RedisModule_ReplyWithArray(ctx, 1);
            RedisModule_ReplyWithStringBuffer(ctx, t->deflt, t->defltLen);
        } else {
            RedisModule_ReplyWithArray(ctx, (long)n);
            for (size_t i = 0; i < n; i++)
                RedisModule_ReplyWithStringBuffer(ctx, sel[i]->target, sel[i]->targetLen);
        }
        RedisModule_Free(sel);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.ROUTE HELP ---- */

static int SwarmRouteHelp_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    static const char *const lines[] = {
        "SWARM.ROUTE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ADD <key> <pattern> <target> [REGEX] [PRIORITY <min> <max>]",
        "    Add a route from a subject pattern (or PCRE2 regex) to channel:<name> or",
        "    stream:<key>; returns its id.",
        "DEL <key> <id> [<id> ...]",
        "    Remove routes or rules by id.",
        "LIST <key>",
        "    List routes with their counters and breaker state.",
        "MATCH <key> <type> [PRIORITY <p>]",
        "    Return the targets a publish of <type> would reach.",
        "ALLOW <key> <regex>",
        "    Admit only event types matching an ALLOW rule.",
        "DENY <key> <regex>",
        "    Reject event types matching the regex.",
        "RULES <key>",
        "    List admission rules.",
        "DEFAULT <key> <target>|NONE",
        "    Set or clear the dead-letter target.",
        "STATS <key>",
        "    Return the table's publish counters.",
        "HELP",
        "    Print this help.",
        NULL};
    return SwarmReplyHelp(ctx, lines);
}

/* ---- Registration and documentation ---- */

int SwarmRoute_Register(RedisModuleCtx *ctx) {
    const SwarmSubcommand subs[] = {
        {"add",
         SwarmRouteAdd_RedisCommand,
         "write deny-oom",
         {.summary = "Adds a route from a subject pattern or regex to a channel or stream "
                     "target; returns its id",
          .complexity = "O(T) where T is the number of tokens in the pattern (O(R) for REGEX "
                        "routes with R regex routes)",
          .arity = -5,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("pattern", REDISMODULE_ARG_TYPE_STRING),
                                            SWARM_ARG("target", REDISMODULE_ARG_TYPE_STRING),
                                            {.name = "regex",
                                             .type = REDISMODULE_ARG_TYPE_PURE_TOKEN,
                                             .token = "REGEX",
                                             .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                                            {.name = "priority",
                                             .type = REDISMODULE_ARG_TYPE_BLOCK,
                                             .token = "PRIORITY",
                                             .flags = REDISMODULE_CMD_ARG_OPTIONAL,
                                             .subargs =
                                                 (RedisModuleCommandArg[]){
                                                     SWARM_ARG("min", REDISMODULE_ARG_TYPE_INTEGER),
                                                     SWARM_ARG("max", REDISMODULE_ARG_TYPE_INTEGER),
                                                     SWARM_ARG_END}},
                                            SWARM_ARG_END}}},
        {"del",
         SwarmRouteDel_RedisCommand,
         "write",
         {.summary = "Removes routes or rules by id; returns how many were removed",
          .complexity = "O(N*log(R+U) + R + U) for N ids, R routes and U rules",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            {.name = "id",
                                             .type = REDISMODULE_ARG_TYPE_INTEGER,
                                             .flags = REDISMODULE_CMD_ARG_MULTIPLE},
                                            SWARM_ARG_END}}},
        {"list",
         SwarmRouteList_RedisCommand,
         "readonly",
         {.summary = "Lists the routes of a table with their counters and breaker state",
          .complexity = "O(R) for R routes",
          .arity = 3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_END}}},
        {"match",
         SwarmRouteMatch_RedisCommand,
         "readonly",
         {.summary = "Returns the targets a publish of this event type would reach (dry run)",
          .complexity = "O(T) for a type of T tokens once cached; O(T + U + X) on first use "
                        "with U rules and X regex routes",
          .arity = -4,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("type", REDISMODULE_ARG_TYPE_STRING),
                                            {.name = "priority",
                                             .type = REDISMODULE_ARG_TYPE_INTEGER,
                                             .token = "PRIORITY",
                                             .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                                            SWARM_ARG_END}}},
        {"allow",
         SwarmRouteAllow_RedisCommand,
         "write deny-oom",
         {.summary = "Adds an ALLOW admission rule (a PCRE2 regex over event types)",
          .complexity = "O(U) for U rules",
          .arity = 4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("regex", REDISMODULE_ARG_TYPE_STRING),
                                            SWARM_ARG_END}}},
        {"deny",
         SwarmRouteDeny_RedisCommand,
         "write deny-oom",
         {.summary = "Adds a DENY admission rule (a PCRE2 regex over event types)",
          .complexity = "O(U) for U rules",
          .arity = 4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("regex", REDISMODULE_ARG_TYPE_STRING),
                                            SWARM_ARG_END}}},
        {"rules",
         SwarmRouteRules_RedisCommand,
         "readonly",
         {.summary = "Lists the admission rules of a table",
          .complexity = "O(U) for U rules",
          .arity = 3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_END}}},
        {"default",
         SwarmRouteDefault_RedisCommand,
         "write deny-oom",
         {.summary = "Sets or clears (NONE) the dead-letter target",
          .complexity = "O(1)",
          .arity = 4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("target", REDISMODULE_ARG_TYPE_STRING),
                                            SWARM_ARG_END}}},
        {"stats",
         SwarmRouteStats_RedisCommand,
         "readonly fast",
         {.summary = "Returns the table's publish counters",
          .complexity = "O(1)",
          .arity = 3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_END}}},
    };
    return SwarmRegisterFamily(ctx, "swarm.route", "Manages a swarm's routing table", subs,
                               sizeof(subs) / sizeof(subs[0]), SwarmRouteHelp_RedisCommand);
}
