/* cmd_snapshot.c -- SWARM.SNAPSHOT: versioned JSON state (SPEC section 7).
 *
 * Documents are validated with the allocation-free validator and stored as text: SAVE and
 * GET never build a tree. PATCH, DIFF and PATH work on the text too (jpointer.h, jmerge.h), so
 * numbers and untouched members keep their exact bytes.
 *
 * Every write replicates as SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json>, so a
 * replica and the AOF store the master's version numbers and timestamps, never their own. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "swarm.h"
#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jmerge.h"
#include "swarm/jpointer.h"

/* ---- Helpers ---- */

static int replyError(RedisModuleCtx *ctx, swStatus st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int replyError(RedisModuleCtx *ctx, swStatus st, const char *fmt, ...) {
    swError err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    return SwarmReplyStatus(ctx, st, &err);
}

/* Size and syntax of a document or patch; replies PAYLOAD and returns REDISMODULE_ERR. */
static int checkJsonOrReply(RedisModuleCtx *ctx, const char *what, const char *text, size_t len) {
    if ((long long)len > swarmConfig.maxSnapshotBytes) {
        replyError(ctx, SW_ERR_PAYLOAD,
                   "%s is %zu bytes, more than swarm.max-snapshot-bytes (%lld)", what, len,
                   swarmConfig.maxSnapshotBytes);
        return REDISMODULE_ERR;
    }
    swError err;
    if (swJsonValidate(text, len, SWARM_SNAPSHOT_MAX_DEPTH, &err) != SW_OK) {
        replyError(ctx, SW_ERR_PAYLOAD, "invalid JSON at byte %zu: %s", err.offset, err.msg);
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}

/* IFVERSION: 0 means the key must not exist; otherwise the head must be v. */
static int checkVersionOrReply(RedisModuleCtx *ctx, const swSnap *s, long long want) {
    if (want < 0) return REDISMODULE_OK;
    const swSnapVersion *head = s ? swSnapHead(s) : NULL;
    unsigned long long have = head ? head->version : 0;
    if (have == (unsigned long long)want) return REDISMODULE_OK;
    replyError(ctx, SW_ERR_CONFLICT, "version is %llu, expected %lld", have, want);
    return REDISMODULE_ERR;
}

static int parseVersionOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                               long long *v) {
    return SwarmParseRangeOrReply(ctx, arg, min, (1LL << 62), "version", v);
}

/* The common start of SAVE and PATCH: the JSON argument checked, the key opened for
 * writing, IFVERSION honoured. On REDISMODULE_ERR the error is replied and nothing is open. */
static int beginWriteOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, const char *what,
                             const char *text, size_t len, long long ifversion,
                             RedisModuleKey **key, swSnap **s) {
    if (checkJsonOrReply(ctx, what, text, len) != REDISMODULE_OK ||
        SwarmSnapType_OpenOrReply(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE, key, s) !=
            REDISMODULE_OK)
        return REDISMODULE_ERR;
    if (checkVersionOrReply(ctx, *s, ifversion) != REDISMODULE_OK) {
        RedisModule_CloseKey(*key);
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}

/* Version v of s, or NOVERSION in err (also for a missing key). */
static swStatus lookup(const swSnap *s, long long v, const swSnapVersion **out, swError *err) {
    if (s == NULL) {
        return swErrorSet(err, SW_ERR_NOVERSION, 0, "version %lld does not exist, the key is empty",
                          v);
    }
    return swSnapLookup(s, (uint64_t)v, out, err);
}

/* Saves text as the new head, creating the key when missing, then replicates the write.
 * src, when not NULL, is a Redis string holding the same bytes as text (SAVE's argument):
 * it is replicated by reference instead of copying the document once more. */
static void saveAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                         swSnap *existing, const char *text, size_t len, long long keep,
                         RedisModuleString *src) {
    swSnap *s = existing ? existing : swSnapNew();
    uint64_t version;
    swError err;
    if (existing) SwarmSnapType_Account(s, -1);
    swStatus st =
        s ? swSnapSave(s, text, len, RedisModule_Milliseconds(), (size_t)keep, &version, &err)
          : SW_ERR_NOMEM;
    if (st != SW_OK) {
        if (existing) {
            SwarmSnapType_Account(s, 1);
        } else {
            swSnapFree(s);
        }
        SwarmReplyStatus(ctx, st, &err);
        return;
    }
    SwarmSnapType_Account(s, 1);
    if (!existing) RedisModule_ModuleTypeSetValue(key, SwarmSnapType, s);
    SwarmTouched(ctx, keyname, "swarm.snapshot.save");
    atomic_fetch_add(&swarmCounters.snapshotsSaved, 1);
    const swSnapVersion *head = swSnapHead(s);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    if (src) {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "scllls", keyname, "SNAPSHOT",
                              (long long)head->version, (long long)head->ts, (long long)info.keep,
                              src);
    } else {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "sclllb", keyname, "SNAPSHOT",
                              (long long)head->version, (long long)head->ts, (long long)info.keep,
                              head->text, head->len);
    }
    RedisModule_ReplyWithLongLong(ctx, (long long)version);
}

/* ---- SAVE key json [IFVERSION v] [KEEP n] ---- */

static int SwarmSnapshotSave_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long ifversion = -1, keep = 0;
    for (int i = 4; i < argc; i += 2) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (i + 1 >= argc) return RedisModule_ReplyWithError(ctx, "ERR syntax error");
        if (strcasecmp(opt, "IFVERSION") == 0) {
            if (parseVersionOrReply(ctx, argv[i + 1], 0, &ifversion)) return REDISMODULE_OK;
        } else if (strcasecmp(opt, "KEEP") == 0) {
            if (SwarmParseRangeOrReply(ctx, argv[i + 1], 1, SW_SNAP_KEEP_MAX, "KEEP", &keep))
                return REDISMODULE_OK;
        } else {
            return RedisModule_ReplyWithError(ctx, "ERR syntax error");
        }
    }
    size_t len;
    const char *text = RedisModule_StringPtrLen(argv[3], &len);
    swSnap *s;
    RedisModuleKey *key;
    if (beginWriteOrReply(ctx, argv[2], "document", text, len, ifversion, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (keep == 0 && s == NULL) keep = swarmConfig.snapshotKeep;
    saveAndReply(ctx, argv[2], key, s, text, len, keep, argv[3]);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- GET key [VERSION v] [PATH pointer] ---- */

static int SwarmSnapshotGet_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long version = 0;
    const char *ptr = NULL;
    size_t ptrlen = 0;
    for (int i = 3; i < argc; i += 2) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (i + 1 >= argc) return RedisModule_ReplyWithError(ctx, "ERR syntax error");
        if (strcasecmp(opt, "VERSION") == 0) {
            if (parseVersionOrReply(ctx, argv[i + 1], 1, &version)) return REDISMODULE_OK;
        } else if (strcasecmp(opt, "PATH") == 0) {
            ptr = RedisModule_StringPtrLen(argv[i + 1], &ptrlen);
        } else {
            return RedisModule_ReplyWithError(ctx, "ERR syntax error");
        }
    }
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *v = NULL;
    swError err;
    swStatus st = SW_OK;
    if (version) {
        st = lookup(s, version, &v, &err);
    } else if (s) {
        v = swSnapHead(s);
    }
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else if (v == NULL) {
        RedisModule_ReplyWithNull(ctx);
    } else if (ptr == NULL) {
        RedisModule_ReplyWithStringBuffer(ctx, v->text, v->len);
    } else {
        size_t off, vlen;
        st = swJsonPointerGet(v->text, v->len, ptr, ptrlen, &off, &vlen, &err);
        if (st == SW_OK) {
            RedisModule_ReplyWithStringBuffer(ctx, v->text + off, vlen);
        } else if (st == SW_ERR_NOTFOUND) {
            RedisModule_ReplyWithNull(ctx);
        } else {
            replyError(ctx, SW_ERR_SYNTAX, "invalid JSON pointer '%.128s': %s", ptr, err.msg);
        }
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- PATCH key merge-patch [IFVERSION v] ---- */

static int SwarmSnapshotPatch_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv,
                                           int argc) {
    long long ifversion = -1;
    if (argc == 6 && strcasecmp(RedisModule_StringPtrLen(argv[4], NULL), "IFVERSION") == 0) {
        if (parseVersionOrReply(ctx, argv[5], 0, &ifversion)) return REDISMODULE_OK;
    } else if (argc != 4) {
        return RedisModule_ReplyWithError(ctx, "ERR syntax error");
    }
    size_t plen;
    const char *patch = RedisModule_StringPtrLen(argv[3], &plen);
    swSnap *s;
    RedisModuleKey *key;
    if (beginWriteOrReply(ctx, argv[2], "merge patch", patch, plen, ifversion, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *head = s ? swSnapHead(s) : NULL;
    char *out;
    size_t outlen;
    swError err;
    swStatus st = swJsonMergePatch(head ? head->text : "{}", head ? head->len : 2, patch, plen,
                                   &out, &outlen, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else if ((long long)outlen > swarmConfig.maxSnapshotBytes) {
        replyError(ctx, SW_ERR_PAYLOAD,
                   "patched document is %zu bytes, more than swarm.max-snapshot-bytes (%lld)",
                   outlen, swarmConfig.maxSnapshotBytes);
    } else {
        saveAndReply(ctx, argv[2], key, s, out, outlen, s ? 0 : swarmConfig.snapshotKeep, NULL);
    }
    if (st == SW_OK) swFree(out);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- DIFF key from [to] ---- */

static int SwarmSnapshotDiff_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long from, to = 0;
    if (argc > 5) return RedisModule_WrongArity(ctx);
    if (parseVersionOrReply(ctx, argv[3], 1, &from)) return REDISMODULE_OK;
    if (argc == 5 && parseVersionOrReply(ctx, argv[4], 1, &to)) return REDISMODULE_OK;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *a = NULL, *b = NULL;
    swError err;
    swStatus st = lookup(s, from, &a, &err);
    if (st == SW_OK && to) st = lookup(s, to, &b, &err);
    if (st == SW_OK && !to) b = swSnapHead(s);
    if (st == SW_OK) {
        char *out;
        size_t outlen;
        st = swJsonMergeDiff(a->text, a->len, b->text, b->len, &out, &outlen, &err);
        if (st == SW_OK) {
            RedisModule_ReplyWithStringBuffer(ctx, out, outlen);
            swFree(out);
        } else {
            /* SW_ERR_RANGE: the change sets a member to null, which merge patch cannot say. */
            SwarmReplyStatus(ctx, st == SW_ERR_RANGE ? SW_ERR_SYNTAX : st, &err);
        }
    } else {
        SwarmReplyStatus(ctx, st, &err);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- LIST key ---- */

static int SwarmSnapshotList_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    size_t n = s ? swSnapCount(s) : 0;
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        const swSnapVersion *v = swSnapAt(s, i);
        char sum[17];
        snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)v->checksum);
        RedisModule_ReplyWithMap(ctx, 4);
        RedisModule_ReplyWithSimpleString(ctx, "version");
        RedisModule_ReplyWithLongLong(ctx, (long long)v->version);
        RedisModule_ReplyWithSimpleString(ctx, "ts");
        RedisModule_ReplyWithLongLong(ctx, (long long)v->ts);
        RedisModule_ReplyWithSimpleString(ctx, "bytes");
        RedisModule_ReplyWithLongLong(ctx, (long long)v->len);
        RedisModule_ReplyWithSimpleString(ctx, "checksum");
        RedisModule_ReplyWithStringBuffer(ctx, sum, 16);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- RESTORE key v ---- */

static int SwarmSnapshotRestore_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv,
                                             int argc) {
    (void)argc;
    long long v;
    if (parseVersionOrReply(ctx, argv[3], 1, &v)) return REDISMODULE_OK;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ | REDISMODULE_WRITE, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *old;
    swError err;
    swStatus st = lookup(s, v, &old, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else {
        /* Save the old version's text as the new head; swSnapSave copies before it evicts. */
        saveAndReply(ctx, argv[2], key, s, old->text, old->len, 0, NULL);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- INFO key ---- */

static int SwarmSnapshotInfo_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    if (s == NULL) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR no such key");
    }
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    const struct {
        const char *name;
        long long v;
    } f[] = {{"head", (long long)info.head},         {"oldest", (long long)info.oldest},
             {"retained", (long long)info.retained}, {"keep", (long long)info.keep},
             {"bytes", (long long)info.bytes},       {"created", (long long)info.created},
             {"updated", (long long)info.updated}};
    RedisModule_ReplyWithMap(ctx, 7);
    for (size_t i = 0; i < 7; i++) {
        RedisModule_ReplyWithSimpleString(ctx, f[i].name);
        RedisModule_ReplyWithLongLong(ctx, f[i].v);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.APPLY key SNAPSHOT version ts keep json (replicas and the AOF) ---- */

int SwarmSnapshot_Apply(RedisModuleCtx *ctx, RedisModuleString **argv) {
    long long version, ts, keep;
    if (RedisModule_StringToLongLong(argv[3], &version) != REDISMODULE_OK ||
        RedisModule_StringToLongLong(argv[4], &ts) != REDISMODULE_OK ||
        RedisModule_StringToLongLong(argv[5], &keep) != REDISMODULE_OK || keep < 1 ||
        keep > SW_SNAP_KEEP_MAX)
        return RedisModule_ReplyWithError(ctx, "ERR value is not an integer or out of range");
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *head = s ? swSnapHead(s) : NULL;
    if ((head ? head->version : 0) + 1 != (unsigned long long)version) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR snapshot version out of sequence");
    }
    size_t len;
    const char *text = RedisModule_StringPtrLen(argv[6], &len);
    swError jerr;
    if (swJsonValidate(text, len, SWARM_SNAPSHOT_MAX_DEPTH, &jerr) != SW_OK) {
        RedisModule_CloseKey(key);
        return replyError(ctx, SW_ERR_PAYLOAD, "invalid JSON at byte %zu: %s", jerr.offset,
                          jerr.msg);
    }
    swSnap *t = s ? s : swSnapNew();
    swError err;
    if (s) SwarmSnapType_Account(s, -1);
    swStatus st = t ? swSnapSave(t, text, len, ts, (size_t)keep, NULL, &err) : SW_ERR_NOMEM;
    if (st == SW_OK) {
        SwarmSnapType_Account(t, 1);
        if (!s) RedisModule_ModuleTypeSetValue(key, SwarmSnapType, t);
        SwarmTouched(ctx, argv[1], "swarm.snapshot.save");
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_ReplyWithSimpleString(ctx, "OK");
    } else {
        if (s)
            SwarmSnapType_Account(s, 1);
        else
            swSnapFree(t);
        SwarmReplyStatus(ctx, st, &err);
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- SWARM.SNAPSHOT HELP ---- */

static int SwarmSnapshotHelp_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    static const char *const lines[] = {
        "SWARM.SNAPSHOT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "SAVE <key> <json> [IFVERSION <v>] [KEEP <n>]",
        "    Save a JSON document as the next version; returns the version.",
        "GET <key> [VERSION <v>] [PATH <json-pointer>]",
        "    Return the head (or version v), or the value at a JSON Pointer.",
        "PATCH <key> <merge-patch> [IFVERSION <v>]",
        "    Apply an RFC 7396 merge patch to the head as a new version.",
        "DIFF <key> <from> [<to>]",
        "    Return the merge patch turning version <from> into <to> (head by default).",
        "LIST <key>",
        "    List retained versions, newest first.",
        "RESTORE <key> <v>",
        "    Save version v again as the new head.",
        "INFO <key>",
        "    Return head, oldest, retained, keep, bytes, created, updated.",
        "HELP",
        "    Print this help.",
        NULL};
    return SwarmReplyHelp(ctx, lines);
}

/* ---- Registration ---- */

#define S REDISMODULE_ARG_TYPE_STRING
#define I REDISMODULE_ARG_TYPE_INTEGER

int SwarmSnapshot_Register(RedisModuleCtx *ctx) {
    const SwarmSubcommand subs[] = {
        {"save",
         SwarmSnapshotSave_RedisCommand,
         "write deny-oom",
         {.summary = "Saves a JSON document as the new version, optionally only if the head is "
                     "at a given version",
          .complexity = "O(N) for a document of N bytes",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG("json", S),
                                            SWARM_ARG_OPT("ifversion", I, "IFVERSION"),
                                            SWARM_ARG_OPT("keep", I, "KEEP"), SWARM_ARG_END}}},
        {"get",
         SwarmSnapshotGet_RedisCommand,
         "readonly",
         {.summary = "Returns the head or a retained version, or the value at a JSON Pointer",
          .complexity = "O(N) for a document of N bytes",
          .arity = -3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_OPT("version", I, "VERSION"),
                                            SWARM_ARG_OPT("pointer", S, "PATH"), SWARM_ARG_END}}},
        {"patch",
         SwarmSnapshotPatch_RedisCommand,
         "write deny-oom",
         {.summary = "Applies an RFC 7396 JSON Merge Patch to the head as a new version",
          .complexity = "O(N + P) for a document of N bytes and a patch of P bytes",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG("merge-patch", S),
                                            SWARM_ARG_OPT("ifversion", I, "IFVERSION"),
                                            SWARM_ARG_END}}},
        {"diff",
         SwarmSnapshotDiff_RedisCommand,
         "readonly",
         {.summary = "Returns the RFC 7396 merge patch turning one version into another",
          .complexity = "O(N) in the size of both versions",
          .arity = -4,
          .key_specs = SWARM_KS_READ,
          .args =
              (RedisModuleCommandArg[]){
                  SWARM_ARG_KEY,
                  SWARM_ARG("from", I),
                  {.name = "to", .type = I, .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                  SWARM_ARG_END}}},
        {"list",
         SwarmSnapshotList_RedisCommand,
         "readonly",
         {.summary = "Lists the retained versions, newest first",
          .complexity = "O(V) for V retained versions",
          .arity = 3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_END}}},
        {"restore",
         SwarmSnapshotRestore_RedisCommand,
         "write deny-oom",
         {.summary = "Saves a retained version again as the new head",
          .complexity = "O(N) for a document of N bytes",
          .arity = 4,
          .key_specs = SWARM_KS_WRITE,
          .args =
              (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG("version", I), SWARM_ARG_END}}},
        {"info",
         SwarmSnapshotInfo_RedisCommand,
         "readonly fast",
         {.summary = "Returns the history's head, oldest, retained, keep, bytes, created and "
                     "updated",
          .complexity = "O(1)",
          .arity = 3,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY, SWARM_ARG_END}}},
    };
    return SwarmRegisterFamily(ctx, "swarm.snapshot", "Keeps versioned JSON state", subs,
                               sizeof(subs) / sizeof(subs[0]), SwarmSnapshotHelp_RedisCommand);
}
