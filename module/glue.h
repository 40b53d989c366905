/* glue.h -- what every Redis glue file may need and nothing else provides: the one place a
 * core status becomes an error reply, argument parsing that replies on failure, opening a
 * key of a module type, recording a change, and command registration with documentation.
 *
 * Dependencies point one way (see docs/design/01-core-glue-split.md):
 *
 *   module.c -> cmd_*.c -> type_*.c -> glue.c, config.c, stats.c -> module/core
 *
 * glue.c calls none of the files above it. */
#ifndef SWARM_GLUE_H
#define SWARM_GLUE_H

#include <stddef.h>

#include "redismodule.h"
#include "swarm/json.h"
#include "swarm/status.h"

/* The module version, from the project version in CMakeLists.txt: "major.minor.patch" for
 * INFO swarm and command docs, and major*10000 + minor*100 + patch for MODULE LIST, as
 * other modules report theirs. */
#define SWARM_STR_(x) #x
#define SWARM_STR(x) SWARM_STR_(x)
#define SWARM_VERSION                                                                              \
    SWARM_STR(SWARM_VERSION_MAJOR)                                                                 \
    "." SWARM_STR(SWARM_VERSION_MINOR) "." SWARM_STR(SWARM_VERSION_PATCH)
#define SWARM_VERSION_NUM                                                                          \
    (SWARM_VERSION_MAJOR * 10000 + SWARM_VERSION_MINOR * 100 + SWARM_VERSION_PATCH)

/* Installs the core allocator (RedisModule_Alloc & co.; libc in an AddressSanitizer build),
 * reads the server's mode, sets the module options and looks up
 * RedisModule_SetCommandACLCategories. Call first in OnLoad. */
void SwarmGlue_Init(RedisModuleCtx *ctx);

/* "redis", or "libc" in an AddressSanitizer build (INFO swarm's allocator field). */
const char *SwarmAllocatorName(void);

/* 1 when the server lets modules put commands in ACL categories (Redis 7.2+, Valkey): then
 * SwarmRegister puts every command in its categories. */
int SwarmHasAclCategories(void);

/* ---- Error replies: the only place an error reply is written ---- */

/* Replies with the error of a core status: its code word (ERR, EVENTTYPE, DENIED, PAYLOAD,
 * CONFLICT, NOVERSION, CROSSSLOT, NOSWARM, and EDIT's TESTFAILED, NOPATH, BADOP, TYPE; OOM for
 * SW_ERR_NOMEM) and err's message. */
int SwarmReplyStatus(RedisModuleCtx *ctx, swStatus st, const swError *err);

/* As SwarmReplyStatus, with the message formatted here (lowercase, no code word). */
int SwarmReplyError(RedisModuleCtx *ctx, swStatus st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- Map replies: fields counted as they are written (REDISMODULE_POSTPONED_LEN) ---- */

typedef struct SwarmMap {
    RedisModuleCtx *ctx;
    long n;
} SwarmMap;

/* Starts a map reply (a flat array under RESP2); end it with SwarmMapEnd. */
SwarmMap SwarmMapBegin(RedisModuleCtx *ctx);
/* A field whose value the caller replies next (any reply, arrays included). */
void SwarmMapKey(SwarmMap *m, const char *name);
void SwarmMapInt(SwarmMap *m, const char *name, long long v);
void SwarmMapStr(SwarmMap *m, const char *name, const char *s, size_t len);
void SwarmMapSimple(SwarmMap *m, const char *name, const char *value);
void SwarmMapEnd(SwarmMap *m);

/* ---- Arguments ---- */

/* The one number parser: a long long in [min, max]. SW_OK with *out set; SW_ERR_SYNTAX
 * "value is not an integer or out of range" (Redis's wording) or SW_ERR_RANGE "<what> must
 * be between <min> and <max>", *out unchanged. */
swStatus SwarmParseRange(RedisModuleString *arg, long long min, long long max, const char *what,
                         long long *out, swError *err);

/* As SwarmParseRange, replying the error and returning REDISMODULE_ERR on failure. */
int SwarmParseRangeOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                           long long max, const char *what, long long *out);

/* The one option parser. A command lists its options (token, values that follow it); the
 * parser walks argv[from..argc) and stores in each option's at the argv index of its token
 * (the last one when repeated, as Redis's own options go), 0 when absent. The values are
 * then argv[at + 1 ..]; the command parses them (SwarmParseRange). */
typedef struct SwarmOption {
    const char *token; /* letters, matched in any case */
    size_t len;        /* strlen(token) */
    int nargs;         /* values after the token */
    int at;            /* out */
} SwarmOption;
#define SWARM_OPT(token, nargs)                                                                    \
    { (token), sizeof(token) - 1, (nargs), 0 }

/* SW_OK, or SW_ERR_SYNTAX "syntax error" for an unknown token or a missing value. */
swStatus SwarmParseOptions(RedisModuleString **argv, int argc, int from, SwarmOption *opts,
                           size_t n, swError *err);

/* As SwarmParseOptions, replying the error and returning REDISMODULE_ERR on failure. */
int SwarmParseOptionsOrReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int from,
                             SwarmOption *opts, size_t n);

/* SW_OK when text[0..len) is JSON nested at most depth deep; otherwise SW_ERR_PAYLOAD with
 * "invalid JSON at byte <n>: <reason>" (SwarmJsonError) and the offset in err. Inline: it
 * runs on every publish. */
swStatus SwarmJsonError(const swError *jerr, swError *err);
static inline swStatus SwarmJsonCheck(const char *text, size_t len, int depth, swError *err) {
    swError jerr;
    if (swJsonValidate(text, len, depth, &jerr) == SW_OK) return SW_OK;
    return SwarmJsonError(&jerr, err);
}

/* 1 when the server runs in cluster mode (read once, at load). */
int SwarmInCluster(void);

/* 1 when the command running in ctx replays a write: it came over the master link
 * (REDISMODULE_CTX_FLAGS_REPLICATED, also inside a replicated MULTI) or from the AOF being
 * loaded (REDISMODULE_CTX_FLAGS_LOADING). A replayed write was already checked where it
 * first ran: it applies the format's hard limits only, never this node's config limits or
 * the caller's ACL, so it lands the same on every node whatever its config. */
int SwarmIsReplay(RedisModuleCtx *ctx);

/* ---- Memory ----
 *
 * A write that would take used memory past maxmemory is refused before anything is written,
 * as Redis refuses a write it cannot make room for. Redis checks deny-oom commands only
 * before they run, which does not stop one command from growing memory by far more than its
 * arguments (one publish appends its payload to every stream target). Used memory is read
 * as Redis counts it for eviction (RedisModule_GetUsedMemoryRatio: one call, about 90
 * instructions); maxmemory and its policy are read with CONFIG GET at most once a second,
 * and again before refusing (INFO memory would gather the allocator's statistics). Under
 * noeviction a write is refused when used + need passes maxmemory; under an eviction policy
 * Redis makes room by evicting after the write, so only a write larger than maxmemory itself
 * is refused. Writes from the master link or AOF loading are never refused. */

/* REDISMODULE_OK when a write adding about need bytes fits; otherwise replies "OOM <what>
 * would add about N bytes<detail>, used memory U of maxmemory M (policy P)", adds 1 to the
 * counter stat (a SwarmStat) and returns REDISMODULE_ERR. detail may be "". */
int SwarmMemoryCheckOrReply(RedisModuleCtx *ctx, unsigned long long need, const char *what,
                            const char *detail, int stat);

/* The check for a publish (argv, argc: the command's arguments) about to deliver plan
 * (selected, not yet run): need is one stream entry (the bytes of the arguments after the
 * command name, payload included, plus a fixed overhead) for every stream target of the
 * plan, the default target included when it is a stream. Counted under rejected_oom. */
struct swPublish;
int SwarmPublishMemoryOrReply(RedisModuleCtx *ctx, const struct swPublish *plan,
                              RedisModuleString **argv, int argc);

/* ---- Keys ---- */

/* Opens keyname into *key and its value of the given module type into *value (NULL when
 * the key is missing; *key may then be NULL in READ mode, and closing NULL is fine).
 * Replies WRONGTYPE and returns REDISMODULE_ERR when the key holds anything else. */
int SwarmOpenOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, int mode,
                     RedisModuleType *type, RedisModuleKey **key, void **value);

/* Records a change to keyname: signals WATCH and fires the keyspace event (class
 * REDISMODULE_NOTIFY_MODULE, e.g. "swarm.route.add"). Every write that changed a value
 * calls it; commands that changed nothing do not. */
void SwarmTouched(RedisModuleCtx *ctx, RedisModuleString *keyname, const char *event);

/* ---- Registration ---- */

/* Registers a command, or a subcommand of the command named parent, with its documentation
 * (info may be NULL; its version and since are filled in). Where the server supports it
 * (SwarmHasAclCategories), also puts the command in its ACL categories, as Redis does for
 * its own commands: write, read, fast or else slow, blocking from the flags. REDISMODULE_ERR
 * when refused. */
int SwarmRegister(RedisModuleCtx *ctx, const char *parent, const char *name, RedisModuleCmdFunc fn,
                  const char *flags, int firstkey, const RedisModuleCommandInfo *info);

/* As SwarmRegister, with more ACL categories (space-separated, e.g. "pubsub" for a command
 * that publishes, "dangerous" for one that writes state unchecked; NULL for none). */
int SwarmRegisterAcl(RedisModuleCtx *ctx, const char *parent, const char *name,
                     RedisModuleCmdFunc fn, const char *flags, int firstkey,
                     const RedisModuleCommandInfo *info, const char *aclExtra);

/* A subcommand of a command family (SWARM.ROUTE, SWARM.SNAPSHOT): key at argv[2]. */
typedef struct SwarmSubcommand {
    const char *name;
    RedisModuleCmdFunc fn;
    const char *flags;
    RedisModuleCommandInfo info;
} SwarmSubcommand;

/* Registers the container command, its subcommands and a HELP subcommand replying the
 * NULL-terminated help lines, as the built-in HELP subcommands do. */
int SwarmRegisterFamily(RedisModuleCtx *ctx, const char *parent, const char *summary,
                        const SwarmSubcommand *subs, size_t n, RedisModuleCmdFunc help);

/* Replies a NULL-terminated list of lines (a family's HELP). */
int SwarmReplyHelp(RedisModuleCtx *ctx, const char *const *lines);

/* Key specs and argument docs for the command tables. */
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
/* The key of a family's subcommand (argv[2]). */
#define SWARM_KS_READ SWARM_KEYSPEC(2, REDISMODULE_CMD_KEY_RO | REDISMODULE_CMD_KEY_ACCESS)
#define SWARM_KS_WRITE SWARM_KEYSPEC(2, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE)
/* A write whose reply reveals what the key holds (ids, counts): ACL key permissions then
 * need read access too, so a write-only (%W~) user is refused. */
#define SWARM_KS_WRITE_ACCESS                                                                      \
    SWARM_KEYSPEC(2, REDISMODULE_CMD_KEY_RW | REDISMODULE_CMD_KEY_UPDATE |                         \
                         REDISMODULE_CMD_KEY_ACCESS)
#define SWARM_ARG_KEY                                                                              \
    { .name = "key", .type = REDISMODULE_ARG_TYPE_KEY, .key_spec_index = 0 }
#define SWARM_ARG(n, t)                                                                            \
    { .name = (n), .type = (t) }
#define SWARM_ARG_OPT(n, t, tok)                                                                   \
    { .name = (n), .type = (t), .token = (tok), .flags = REDISMODULE_CMD_ARG_OPTIONAL }
#define SWARM_ARG_END                                                                              \
    { 0 }

#endif
