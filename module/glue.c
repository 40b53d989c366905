/* glue.c -- the helpers every glue file shares (see glue.h): allocator, error replies,
 * argument parsing, keys, registration. It calls only Redis and the core. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "glue.h"
#include "stats.h"
#include "swarm/alloc.h"
#include "swarm/publish.h"

/* ---- Allocator ----
 *
 * The core allocates through Redis so INFO memory, maxmemory and MEMORY USAGE see it. Under
 * AddressSanitizer (SWARM_SANITIZER=address) it allocates through libc instead: Redis's
 * jemalloc hides module blocks from ASan, so an overflow in the core's memory would go
 * unnoticed in the integration tests. Then used_memory does not see the core's memory;
 * MEMORY USAGE still counts it (malloc_usable_size), and INFO swarm says which allocator is
 * in force (swarm_allocator:libc), so tests that compare the two know. */
#if defined(__SANITIZE_ADDRESS__)
#define SWARM_LIBC_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWARM_LIBC_ALLOCATOR 1
#endif
#endif

#ifdef SWARM_LIBC_ALLOCATOR
#include <malloc.h>
#include <stdlib.h>

static size_t SwarmMallocSize(void *p) {
    return malloc_usable_size(p);
}

static const swAllocator swarmAllocator = {malloc, calloc, realloc, free, SwarmMallocSize};

const char *SwarmAllocatorName(void) {
    return "libc";
}
#else
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

static const swAllocator swarmAllocator = {SwarmAlloc, SwarmCalloc, SwarmRealloc, SwarmFree,
                                           SwarmMallocSize};

const char *SwarmAllocatorName(void) {
    return "redis";
}
#endif

/* cluster-enabled cannot change while the server runs: read it once, at load. */
static int swarmClusterMode;

/* RedisModule_SetCommandACLCategories (Redis 7.2+, Valkey): absent from the 7.0 header, so
 * looked up by name at load; NULL on servers without it. */
typedef int (*SwarmSetAclCategoriesFn)(RedisModuleCommand *command, const char *categories);
static SwarmSetAclCategoriesFn swarmSetAclCategories;

void SwarmGlue_Init(RedisModuleCtx *ctx) {
    swSetAllocator(&swarmAllocator);
    swarmClusterMode = (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_CLUSTER) != 0;
    /* Writes signal WATCH themselves (SwarmTouched), so commands that change nothing, such
     * as a rejected publish or an identical route, leave transactions alone. */
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS |
                                          REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED);
    /* As REDISMODULE_GET_API does: the server writes the function's address into ours. */
    if (RedisModule_GetApi("RedisModule_SetCommandACLCategories", (void *)&swarmSetAclCategories) !=
        REDISMODULE_OK)
        swarmSetAclCategories = NULL;
}

int SwarmHasAclCategories(void) {
    return swarmSetAclCategories != NULL;
}

int SwarmInCluster(void) {
    return swarmClusterMode;
}

int SwarmIsReplay(RedisModuleCtx *ctx) {
    return (RedisModule_GetContextFlags(ctx) &
            (REDISMODULE_CTX_FLAGS_REPLICATED | REDISMODULE_CTX_FLAGS_LOADING)) != 0;
}

/* ---- Error replies ---- */

static const char *codeWord(swStatus st) {
    switch (st) {
    case SW_ERR_EVENTTYPE:
        return "EVENTTYPE";
    case SW_ERR_DENIED:
        return "DENIED";
    case SW_ERR_PAYLOAD:
        return "PAYLOAD";
    case SW_ERR_CONFLICT:
        return "CONFLICT";
    case SW_ERR_NOVERSION:
        return "NOVERSION";
    case SW_ERR_CROSSSLOT:
        return "CROSSSLOT";
    case SW_ERR_NOSWARM:
        return "NOSWARM";
    case SW_ERR_TESTFAILED:
        return "TESTFAILED";
    case SW_ERR_NOPATH:
        return "NOPATH";
    case SW_ERR_BADOP:
        return "BADOP";
    case SW_ERR_TYPE:
        return "TYPE";
    default:
        return "ERR";
    }
}

int SwarmReplyStatus(RedisModuleCtx *ctx, swStatus st, const swError *err) {
    if (st == SW_ERR_NOMEM) return RedisModule_ReplyWithError(ctx, "OOM out of memory");
    char buf[SW_ERRMSG_MAX + 32];
    snprintf(buf, sizeof(buf), "%s %s", codeWord(st), err ? err->msg : "error");
    return RedisModule_ReplyWithError(ctx, buf);
}

int SwarmReplyError(RedisModuleCtx *ctx, swStatus st, const char *fmt, ...) {
    swError err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    return SwarmReplyStatus(ctx, st, &err);
}

/* ---- Map replies ---- */

SwarmMap SwarmMapBegin(RedisModuleCtx *ctx) {
    RedisModule_ReplyWithMap(ctx, REDISMODULE_POSTPONED_LEN);
    return (SwarmMap){ctx, 0};
}

void SwarmMapKey(SwarmMap *m, const char *name) {
    RedisModule_ReplyWithSimpleString(m->ctx, name);
    m->n++;
}

void SwarmMapInt(SwarmMap *m, const char *name, long long v) {
    SwarmMapKey(m, name);
    RedisModule_ReplyWithLongLong(m->ctx, v);
}

void SwarmMapStr(SwarmMap *m, const char *name, const char *s, size_t len) {
    SwarmMapKey(m, name);
    RedisModule_ReplyWithStringBuffer(m->ctx, s, len);
}

void SwarmMapSimple(SwarmMap *m, const char *name, const char *value) {
    SwarmMapKey(m, name);
    RedisModule_ReplyWithSimpleString(m->ctx, value);
}

void SwarmMapEnd(SwarmMap *m) {
    RedisModule_ReplySetMapLength(m->ctx, m->n);
}

/* ---- Arguments ---- */

swStatus SwarmParseRange(RedisModuleString *arg, long long min, long long max, const char *what,
                         long long *out, swError *err) {
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK)
        return swErrorSet(err, SW_ERR_SYNTAX, 0, "value is not an integer or out of range");
    if (v < min || v > max)
        return swErrorSet(err, SW_ERR_RANGE, 0, "%s must be between %lld and %lld", what, min, max);
    *out = v;
    return SW_OK;
}

int SwarmParseRangeOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                           long long max, const char *what, long long *out) {
    swError err;
    swStatus st = SwarmParseRange(arg, min, max, what, out, &err);
    if (st == SW_OK) return REDISMODULE_OK;
    SwarmReplyStatus(ctx, st, &err);
    return REDISMODULE_ERR;
}

/* Whether arg (len bytes) is token in any case: cheaper inline than a strncasecmp call.
 * Tokens are letters, for which | 0x20 folds case exactly (a byte that is not the letter in
 * either case never matches). */
static int tokenEqual(const char *token, const char *arg, size_t len) {
    for (size_t j = 0; j < len; j++) {
        if (((unsigned char)token[j] | 0x20) != ((unsigned char)arg[j] | 0x20)) return 0;
    }
    return 1;
}

swStatus SwarmParseOptions(RedisModuleString **argv, int argc, int from, SwarmOption *opts,
                           size_t n, swError *err) {
    for (size_t k = 0; k < n; k++) opts[k].at = 0;
    for (int i = from; i < argc;) {
        size_t len;
        const char *tok = RedisModule_StringPtrLen(argv[i], &len);
        size_t k = 0;
        while (k < n && !(opts[k].len == len && tokenEqual(opts[k].token, tok, len))) k++;
        if (k == n || i + opts[k].nargs >= argc)
            return swErrorSet(err, SW_ERR_SYNTAX, 0, "syntax error");
        opts[k].at = i;
        i += 1 + opts[k].nargs;
    }
    return SW_OK;
}

int SwarmParseOptionsOrReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int from,
                             SwarmOption *opts, size_t n) {
    swError err;
    swStatus st = SwarmParseOptions(argv, argc, from, opts, n, &err);
    if (st == SW_OK) return REDISMODULE_OK;
    SwarmReplyStatus(ctx, st, &err);
    return REDISMODULE_ERR;
}

swStatus SwarmJsonError(const swError *jerr, swError *err) {
    return swErrorSet(err, SW_ERR_PAYLOAD, jerr->offset, "invalid JSON at byte %zu: %s",
                      jerr->offset, jerr->msg);
}

/* ---- Memory ---- */

/* maxmemory and whether its policy evicts, read with CONFIG GET at most once a second
 * (INFO memory would cost far more: it gathers the allocator's statistics). */
static unsigned long long swarmMaxmemory;
static int swarmEvicts;
static long long swarmMaxmemoryRead = -1; /* when, in ms; -1: never */
static char swarmPolicy[32] = "noeviction";

static void readMaxmemory(RedisModuleCtx *ctx) {
    swarmMaxmemoryRead = RedisModule_Milliseconds();
    /* "maxmemory*": maxmemory, maxmemory-policy and the other maxmemory-* settings, as
     * name/value pairs (a map under RESP3, which RM_Call without '3' does not use). */
    RedisModuleCallReply *r = RedisModule_Call(ctx, "CONFIG", "cc", "GET", "maxmemory*");
    if (r == NULL) return;
    size_t n = RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ARRAY
                   ? RedisModule_CallReplyLength(r)
                   : 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t klen, vlen;
        const char *k =
            RedisModule_CallReplyStringPtr(RedisModule_CallReplyArrayElement(r, i), &klen);
        const char *v =
            RedisModule_CallReplyStringPtr(RedisModule_CallReplyArrayElement(r, i + 1), &vlen);
        if (k == NULL || v == NULL) continue;
        if (klen == 9 && memcmp(k, "maxmemory", 9) == 0) {
            char num[32];
            snprintf(num, sizeof(num), "%.*s", (int)(vlen < 31 ? vlen : 31), v);
            swarmMaxmemory = strtoull(num, NULL, 10);
        } else if (klen == 16 && memcmp(k, "maxmemory-policy", 16) == 0) {
            snprintf(swarmPolicy, sizeof(swarmPolicy), "%.*s", (int)vlen, v);
            swarmEvicts = strcmp(swarmPolicy, "noeviction") != 0;
        }
    }
    RedisModule_FreeCallReply(r);
}

/* 1 when a write adding need bytes passes maxmemory (used is filled in), with ratio the
 * server's used/maxmemory. */
static int overMaxmemory(double ratio, unsigned long long need, unsigned long long *used) {
    *used = (unsigned long long)(ratio * (double)swarmMaxmemory);
    if (swarmMaxmemory == 0) return 0;
    if (swarmEvicts) return need > swarmMaxmemory;
    return need > swarmMaxmemory || *used > swarmMaxmemory - need;
}

/* 1 when a write adding need bytes fits (glue.h says when), with used filled in for the
 * message. Cheap when it fits: no INFO read but once a second, no formatting. */
static int memoryFits(RedisModuleCtx *ctx, float ratio, unsigned long long need,
                      unsigned long long *used) {
    *used = 0;
    if (ratio <= 0) return 1; /* no maxmemory */
    long long now = RedisModule_Milliseconds();
    if (swarmMaxmemoryRead < 0 || now - swarmMaxmemoryRead >= 1000) readMaxmemory(ctx);
    if (!overMaxmemory(ratio, need, used)) return 1;
    readMaxmemory(ctx); /* refuse only on a fresh reading */
    if (!overMaxmemory(ratio, need, used)) return 1;
    return SwarmIsReplay(ctx);
}

static int refuseOom(RedisModuleCtx *ctx, unsigned long long need, unsigned long long used,
                     const char *what, const char *detail, int stat) {
    SwarmStats_Add((SwarmStat)stat, 1);
    char msg[SW_ERRMSG_MAX + 64];
    snprintf(msg, sizeof(msg),
             "OOM %s would add about %llu bytes%s, used memory %llu of maxmemory %llu (policy %s)",
             what, need, detail, used, swarmMaxmemory, swarmPolicy);
    RedisModule_ReplyWithError(ctx, msg);
    return REDISMODULE_ERR;
}

int SwarmMemoryCheckOrReply(RedisModuleCtx *ctx, unsigned long long need, const char *what,
                            const char *detail, int stat) {
    unsigned long long used;
    if (memoryFits(ctx, RedisModule_GetUsedMemoryRatio(), need, &used)) return REDISMODULE_OK;
    return refuseOom(ctx, need, used, what, detail, stat);
}

/* Per stream entry beyond its arguments: the other fields and their names, the entry id and
 * the stream's bookkeeping, roughly; and the allocator's rounding up to its size classes
 * (jemalloc's take up to a quarter more: measured 1.15 times the payload for large
 * entries). */
#define SWARM_STREAM_ENTRY_OVERHEAD 256
#define SWARM_STREAM_ENTRY_SCALE(n) ((n) + (n) / 4)

int SwarmPublishMemoryOrReply(RedisModuleCtx *ctx, const swPublish *plan, RedisModuleString **argv,
                              int argc) {
    float ratio = RedisModule_GetUsedMemoryRatio();
    if (ratio <= 0) return REDISMODULE_OK; /* no maxmemory */
    size_t streams = 0;
    swPublishSlot slot;
    for (size_t i = 0, n = swPublishSlots(plan); i < n; i++)
        streams += swPublishSlotAt(plan, i, &slot) && slot.len >= 7 &&
                   memcmp(slot.target, "stream:", 7) == 0;
    if (streams == 0) return REDISMODULE_OK;
    size_t entry = SWARM_STREAM_ENTRY_OVERHEAD;
    for (int i = 1; i < argc; i++) {
        size_t len;
        RedisModule_StringPtrLen(argv[i], &len);
        entry += len;
    }
    entry = SWARM_STREAM_ENTRY_SCALE(entry);
    unsigned long long need = (unsigned long long)streams * entry, used;
    if (memoryFits(ctx, ratio, need, &used)) return REDISMODULE_OK;
    char detail[96];
    snprintf(detail, sizeof(detail), " (%zu stream deliveries of %zu bytes)", streams, entry);
    return refuseOom(ctx, need, used, "publish", detail, SWARM_STAT_REJECTED_OOM);
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

/* ---- Registration ---- */

/* 1 when the space-separated flags hold word. */
static int hasFlag(const char *flags, const char *word) {
    size_t n = strlen(word);
    for (const char *p = flags; (p = strstr(p, word)) != NULL; p += n) {
        if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    }
    return 0;
}

/* The ACL categories of a command, as Redis gives its own commands from their flags (write,
 * read, fast or else slow, blocking), plus the caller's extra ones. */
static void aclCategories(const char *flags, const char *extra, char *out, size_t size) {
    snprintf(out, size, "%s%s%s%s%s%s", hasFlag(flags, "write") ? "write " : "",
             hasFlag(flags, "readonly") ? "read " : "", hasFlag(flags, "fast") ? "fast" : "slow",
             hasFlag(flags, "blocking") ? " blocking" : "", extra ? " " : "", extra ? extra : "");
}

int SwarmRegister(RedisModuleCtx *ctx, const char *parent, const char *name, RedisModuleCmdFunc fn,
                  const char *flags, int firstkey, const RedisModuleCommandInfo *info) {
    return SwarmRegisterAcl(ctx, parent, name, fn, flags, firstkey, info, NULL);
}

int SwarmRegisterAcl(RedisModuleCtx *ctx, const char *parent, const char *name,
                     RedisModuleCmdFunc fn, const char *flags, int firstkey,
                     const RedisModuleCommandInfo *info, const char *aclExtra) {
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
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, full);
    if (cmd == NULL) return REDISMODULE_ERR;
    /* A container command (no handler) is never run itself: its subcommands carry the
     * categories, as Redis's own containers do. */
    if (swarmSetAclCategories && fn) {
        char cats[64];
        aclCategories(flags, aclExtra, cats, sizeof(cats));
        if (swarmSetAclCategories(cmd, cats) == REDISMODULE_ERR) return REDISMODULE_ERR;
    }
    if (info == NULL) return REDISMODULE_OK;
    RedisModuleCommandInfo ci = *info;
    ci.version = REDISMODULE_COMMAND_INFO_VERSION;
    if (ci.since == NULL) ci.since = SWARM_VERSION;
    return RedisModule_SetCommandInfo(cmd, &ci);
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
