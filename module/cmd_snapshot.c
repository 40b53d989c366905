/* cmd_snapshot.c -- SWARM.SNAPSHOT: versioned JSON state (SPEC section 7).
 *
 * Documents are validated with the allocation-free validator and stored as text: SAVE and
 * GET never build a tree. PATCH, DIFF and PATH work on the text too (jpointer.h, jmerge.h), so
 * numbers and untouched members keep their exact bytes.
 *
 * Every write replicates as SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json>, so a
 * replica and the AOF store the master's version numbers and timestamps, never their own. */
#include <stdio.h>
#include <strings.h>

#include "cmd_snapshot.h"
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "swarm/alloc.h"
#include "swarm/jmerge.h"
#include "swarm/jpointer.h"
#include "swarm/snapshot.h"
#include "type_snp.h"

/* ---- Helpers ---- */

/* Size and syntax of a document or patch; replies PAYLOAD and returns REDISMODULE_ERR. */
static int checkJsonOrReply(RedisModuleCtx *ctx, const char *what, const char *text, size_t len) {
    if ((long long)len > swarmConfig.maxSnapshotBytes) {
        SwarmReplyError(ctx, SW_ERR_PAYLOAD,
                        "%s is %zu bytes, more than swarm.max-snapshot-bytes (%lld)", what, len,
                        swarmConfig.maxSnapshotBytes);
        return REDISMODULE_ERR;
    }
    swError err;
    swStatus st = SwarmJsonCheck(text, len, SWARM_SNAPSHOT_MAX_DEPTH, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
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
    SwarmReplyError(ctx, SW_ERR_CONFLICT, "version is %llu, expected %lld", have, want);
    return REDISMODULE_ERR;
}

static int parseVersionOrReply(RedisModuleCtx *ctx, RedisModuleString *arg, long long min,
                               long long *v) {
    return SwarmParseRangeOrReply(ctx, arg, min, SWARM_LLONG_BOUND, "version", v);
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

/* Writes w to the history at key (creating it when missing), then replicates the write as
 * SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json> and replies the new version. src,
 * when not NULL, is a Redis string holding the document (SAVE's argument): it is replicated
 * by reference instead of copying the document once more. */
static void writeAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                          swSnap *existing, const SwarmSnapWrite *w, RedisModuleString *src) {
    swSnap *s;
    swError err;
    swStatus st = SwarmSnapType_Write(ctx, keyname, key, existing, w, &s, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
        return;
    }
    SwarmStats_Add(SWARM_STAT_SNAPSHOTS_SAVED, 1);
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
    RedisModule_ReplyWithLongLong(ctx, (long long)head->version);
}

/* ---- SAVE key json [IFVERSION v] [KEEP n] ---- */

static int SwarmSnapshotSave_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long ifversion = -1, keep = 0;
    for (int i = 4; i < argc; i += 2) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (i + 1 >= argc) return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
        if (strcasecmp(opt, "IFVERSION") == 0) {
            if (parseVersionOrReply(ctx, argv[i + 1], 0, &ifversion)) return REDISMODULE_OK;
        } else if (strcasecmp(opt, "KEEP") == 0) {
            if (SwarmParseRangeOrReply(ctx, argv[i + 1], 1, SW_SNAP_KEEP_MAX, "KEEP", &keep))
                return REDISMODULE_OK;
        } else {
            return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
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
    SwarmSnapWrite w = {
        .text = text, .len = len, .ts = RedisModule_Milliseconds(), .keep = (size_t)keep};
    writeAndReply(ctx, argv[2], key, s, &w, argv[3]);
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
        if (i + 1 >= argc) return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
        if (strcasecmp(opt, "VERSION") == 0) {
            if (parseVersionOrReply(ctx, argv[i + 1], 1, &version)) return REDISMODULE_OK;
        } else if (strcasecmp(opt, "PATH") == 0) {
            ptr = RedisModule_StringPtrLen(argv[i + 1], &ptrlen);
        } else {
            return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
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
            SwarmReplyError(ctx, SW_ERR_SYNTAX, "invalid JSON pointer '%.128s': %s", ptr, err.msg);
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
        return SwarmReplyError(ctx, SW_ERR_SYNTAX, "syntax error");
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
        SwarmReplyError(ctx, SW_ERR_PAYLOAD,
                        "patched document is %zu bytes, more than swarm.max-snapshot-bytes (%lld)",
                        outlen, swarmConfig.maxSnapshotBytes);
    } else {
        SwarmSnapWrite w = {.text = out,
                            .len = outlen,
                            .ts = RedisModule_Milliseconds(),
                            .keep = s ? 0 : (size_t)swarmConfig.snapshotKeep};
        writeAndReply(ctx, argv[2], key, s, &w, NULL);
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
        SwarmMap m = SwarmMapBegin(ctx);
        SwarmMapInt(&m, "version", (long long)v->version);
        SwarmMapInt(&m, "ts", (long long)v->ts);
        SwarmMapInt(&m, "bytes", (long long)v->len);
        SwarmMapStr(&m, "checksum", sum, 16);
        SwarmMapEnd(&m);
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
        SwarmSnapWrite w = {.from = (uint64_t)v, .ts = RedisModule_Milliseconds()};
        writeAndReply(ctx, argv[2], key, s, &w, NULL);
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
        return SwarmReplyError(ctx, SW_ERR_NOTFOUND, "no such key");
    }
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    SwarmMap m = SwarmMapBegin(ctx);
    SwarmMapInt(&m, "head", (long long)info.head);
    SwarmMapInt(&m, "oldest", (long long)info.oldest);
    SwarmMapInt(&m, "retained", (long long)info.retained);
    SwarmMapInt(&m, "keep", (long long)info.keep);
    SwarmMapInt(&m, "bytes", (long long)info.bytes);
    SwarmMapInt(&m, "created", (long long)info.created);
    SwarmMapInt(&m, "updated", (long long)info.updated);
    SwarmMapEnd(&m);
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
