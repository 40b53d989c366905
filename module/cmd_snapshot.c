/* cmd_snapshot.c -- SWARM.SNAPSHOT: versioned JSON state.
 *
 * Documents are validated with the allocation-free validator and stored as text: SAVE and
 * GET never build a tree. PATCH, DIFF and PATH work on the text too (jpointer.h, jmerge.h), so
 * numbers and untouched members keep their exact bytes.
 *
 * Every write replicates as SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json>
 * <keep-bytes>, so a replica and the AOF store the master's version numbers, timestamps and
 * evictions, never their own.
 * EDIT (jpatch.h) replicates the same way, with the resulting document.
 *
 * WAIT blocks on the key (RedisModule_BlockClientOnKeys). Every write goes through
 * SwarmSnapType_Write, which signals the key as ready, so the master's commands and the
 * replicated SWARM.APPLY on a replica both wake it. Redis 7.0 does not serve clients blocked
 * on a key that no longer exists, so the waiters are also kept in a registry (db and key to
 * a list of waiters) and answered 0 at once when their key is deleted, expires, is evicted,
 * renamed or moved away, or its database is flushed or swapped. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd_snapshot.h"
#include "config.h"
#include "glue.h"
#include "stats.h"
#include "swarm/alloc.h"
#include "swarm/jdup.h"
#include "swarm/jmerge.h"
#include "swarm/jpatch.h"
#include "swarm/jpointer.h"
#include "swarm/snapshot.h"
#include "type_snp.h"

/* ---- Helpers ---- */

/* Size of a document, patch or ops; replies PAYLOAD and returns REDISMODULE_ERR. */
static int checkSizeOrReply(RedisModuleCtx *ctx, const char *what, size_t len) {
    if ((long long)len <= swarmConfig.maxSnapshotBytes) return REDISMODULE_OK;
    SwarmReplyError(ctx, SW_ERR_PAYLOAD,
                    "%s is %zu bytes, more than swarm.max-snapshot-bytes (%lld)", what, len,
                    swarmConfig.maxSnapshotBytes);
    return REDISMODULE_ERR;
}

/* No object of a valid JSON text repeats a member name; replies PAYLOAD ("duplicate member
 * '<name>' at byte N", then " of the <what> document" when what is not NULL) and returns
 * REDISMODULE_ERR. A document must mean the same to every reader, and readers disagree on
 * which of two equal names wins. */
static int checkMembersOrReply(RedisModuleCtx *ctx, const char *text, size_t len,
                               const char *what) {
    swError err;
    swStatus st = swJsonDupCheck(text, len, &err);
    if (st == SW_OK) return REDISMODULE_OK;
    if (what && st == SW_ERR_PAYLOAD)
        SwarmReplyError(ctx, st, "%s of the %s document", err.msg, what);
    else
        SwarmReplyStatus(ctx, st, &err);
    return REDISMODULE_ERR;
}

/* Size, syntax and unique member names of a document or patch; replies PAYLOAD and returns
 * REDISMODULE_ERR. */
static int checkJsonOrReply(RedisModuleCtx *ctx, const char *what, const char *text, size_t len) {
    if (checkSizeOrReply(ctx, what, len) != REDISMODULE_OK) return REDISMODULE_ERR;
    swError err;
    swStatus st = SwarmJsonCheck(text, len, SWARM_SNAPSHOT_MAX_DEPTH, &err);
    if (st == SW_OK) return checkMembersOrReply(ctx, text, len, NULL);
    SwarmReplyStatus(ctx, st, &err);
    return REDISMODULE_ERR;
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

/* The common start of SAVE, PATCH and EDIT: the argument checked (its syntax only when
 * validate is set: EDIT's ops are validated by the patch itself), the key opened for writing,
 * IFVERSION honoured. On REDISMODULE_ERR the error is replied and nothing is open. */
static int beginWriteOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname, const char *what,
                             const char *text, size_t len, int validate, long long ifversion,
                             RedisModuleKey **key, swSnap **s) {
    if ((validate ? checkJsonOrReply(ctx, what, text, len) : checkSizeOrReply(ctx, what, len)) !=
            REDISMODULE_OK ||
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

/* Writes w to the history at key (creating it when missing), bounded by
 * swarm.snapshot-keep-bytes, then replicates the write as
 * SWARM.APPLY key SNAPSHOT <version> <ts> <keep> <json> <keep-bytes> (the bound travels with
 * the write, so a replica or an AOF replay evicts exactly what this node evicted) and
 * returns the new head version;
 * on failure replies the error and returns 0. src, when not NULL, is a Redis string holding
 * the document (SAVE's argument): it is replicated by reference instead of copying the
 * document once more. A write whose document would take used memory past maxmemory is
 * refused first (OOM; RESTORE counts the head's size, about what it stores). */
static uint64_t writeAndReplicate(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                  RedisModuleKey *key, swSnap *existing, const SwarmSnapWrite *w,
                                  RedisModuleString *src) {
    size_t need = w->text ? w->len : existing ? swSnapHead(existing)->len : 0;
    if (SwarmMemoryCheckOrReply(ctx, need, "snapshot write", "",
                                SWARM_STAT_SNAPSHOTS_REJECTED_OOM) != REDISMODULE_OK)
        return 0;
    swSnap *s;
    swError err;
    SwarmSnapWrite bounded = *w;
    bounded.keepBytes = (size_t)swarmConfig.snapshotKeepBytes;
    swStatus st = SwarmSnapType_Write(ctx, keyname, key, existing, &bounded, &s, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
        return 0;
    }
    SwarmStats_Add(SWARM_STAT_SNAPSHOTS_SAVED, 1);
    const swSnapVersion *head = swSnapHead(s);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    if (src) {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "sclllsl", keyname, "SNAPSHOT",
                              (long long)head->version, (long long)head->ts, (long long)info.keep,
                              src, (long long)bounded.keepBytes);
    } else {
        RedisModule_Replicate(ctx, "SWARM.APPLY", "sclllbl", keyname, "SNAPSHOT",
                              (long long)head->version, (long long)head->ts, (long long)info.keep,
                              head->text, head->len, (long long)bounded.keepBytes);
    }
    return head->version;
}

/* As writeAndReplicate, replying the new version. */
static void writeAndReply(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleKey *key,
                          swSnap *existing, const SwarmSnapWrite *w, RedisModuleString *src) {
    uint64_t v = writeAndReplicate(ctx, keyname, key, existing, w, src);
    if (v) RedisModule_ReplyWithLongLong(ctx, (long long)v);
}

/* ---- SAVE key json [IFVERSION v] [KEEP n] ---- */

static int SwarmSnapshotSave_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long ifversion = -1, keep = 0;
    SwarmOption opts[] = {SWARM_OPT("IFVERSION", 1), SWARM_OPT("KEEP", 1)};
    if (SwarmParseOptionsOrReply(ctx, argv, argc, 4, opts, 2) != REDISMODULE_OK ||
        (opts[0].at && parseVersionOrReply(ctx, argv[opts[0].at + 1], 0, &ifversion)) ||
        (opts[1].at &&
         SwarmParseRangeOrReply(ctx, argv[opts[1].at + 1], 1, SW_SNAP_KEEP_MAX, "KEEP", &keep)))
        return REDISMODULE_OK;
    size_t len;
    const char *text = RedisModule_StringPtrLen(argv[3], &len);
    swSnap *s;
    RedisModuleKey *key;
    if (beginWriteOrReply(ctx, argv[2], "document", text, len, 1, ifversion, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    if (keep == 0 && s == NULL) keep = swarmConfig.snapshotKeep;
    SwarmSnapWrite w = {.text = text,
                        .len = len,
                        .ts = RedisModule_Milliseconds(),
                        .keep = (size_t)keep,
                        .unique = 1}; /* checkJsonOrReply checked the names */
    writeAndReply(ctx, argv[2], key, s, &w, argv[3]);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- GET key [VERSION v] [PATH pointer] [WITHVERSION] ---- */

static int SwarmSnapshotGet_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long version = 0;
    const char *ptr = NULL;
    size_t ptrlen = 0;
    SwarmOption opts[] = {SWARM_OPT("VERSION", 1), SWARM_OPT("PATH", 1),
                          SWARM_OPT("WITHVERSION", 0)};
    if (SwarmParseOptionsOrReply(ctx, argv, argc, 3, opts, 3) != REDISMODULE_OK ||
        (opts[0].at && parseVersionOrReply(ctx, argv[opts[0].at + 1], 1, &version)))
        return REDISMODULE_OK;
    if (opts[1].at) ptr = RedisModule_StringPtrLen(argv[opts[1].at + 1], &ptrlen);
    int withversion = opts[2].at != 0;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *v = NULL;
    swError err;
    swStatus st = SW_OK;
    size_t off = 0, vlen = 0;
    if (version) {
        st = lookup(s, version, &v, &err);
    } else if (s) {
        v = swSnapHead(s);
    }
    if (st == SW_OK && v && ptr) {
        st = swJsonPointerGet(v->text, v->len, ptr, ptrlen, &off, &vlen, &err);
        if (st != SW_OK && st != SW_ERR_NOTFOUND) {
            RedisModule_CloseKey(key);
            return SwarmReplyError(ctx, SW_ERR_SYNTAX, "invalid JSON pointer '%.128s': %s", ptr,
                                   err.msg);
        }
    } else if (v) {
        vlen = v->len;
    }
    if (st != SW_OK && st != SW_ERR_NOTFOUND) {
        SwarmReplyStatus(ctx, st, &err);
    } else if (v == NULL) {
        RedisModule_ReplyWithNull(ctx); /* a missing key, even WITHVERSION */
    } else {
        if (withversion) {
            RedisModule_ReplyWithArray(ctx, 2);
            RedisModule_ReplyWithLongLong(ctx, (long long)v->version);
        }
        if (st == SW_ERR_NOTFOUND) {
            RedisModule_ReplyWithNull(ctx);
        } else {
            RedisModule_ReplyWithStringBuffer(ctx, v->text + off, vlen);
        }
    }
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* The optional IFVERSION v after the key and one argument (PATCH, EDIT): -1 when absent.
 * Replies the error and returns REDISMODULE_ERR on anything else. */
static int parseIfVersionOrReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                                 long long *ifversion) {
    *ifversion = -1;
    SwarmOption opt = SWARM_OPT("IFVERSION", 1);
    if (SwarmParseOptionsOrReply(ctx, argv, argc, 4, &opt, 1) != REDISMODULE_OK)
        return REDISMODULE_ERR;
    return opt.at ? parseVersionOrReply(ctx, argv[opt.at + 1], 0, ifversion) : REDISMODULE_OK;
}

/* Writes a document computed from the head (PATCH, EDIT) as the new version, after checking
 * it against swarm.max-snapshot-bytes ("<what> document is N bytes, ...") and for repeated
 * member names (a head saved before they were refused may hold some), unless derived says
 * the caller has shown it repeats none; a new key takes swarm.snapshot-keep. Returns the new
 * version, or 0 after replying the error. */
static uint64_t writeResultOrReply(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                   RedisModuleKey *key, swSnap *existing, const char *text,
                                   size_t len, const char *what, const char *event, int derived) {
    if ((long long)len > swarmConfig.maxSnapshotBytes) {
        SwarmReplyError(ctx, SW_ERR_PAYLOAD,
                        "%s document is %zu bytes, more than swarm.max-snapshot-bytes (%lld)", what,
                        len, swarmConfig.maxSnapshotBytes);
        return 0;
    }
    if (!derived && checkMembersOrReply(ctx, text, len, what) != REDISMODULE_OK) return 0;
    SwarmSnapWrite w = {.text = text,
                        .len = len,
                        .ts = RedisModule_Milliseconds(),
                        .keep = existing ? 0 : (size_t)swarmConfig.snapshotKeep,
                        .event = event,
                        .unique = 1};
    return writeAndReplicate(ctx, keyname, key, existing, &w, NULL);
}

/* ---- PATCH key merge-patch [IFVERSION v] ---- */

static int SwarmSnapshotPatch_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv,
                                           int argc) {
    long long ifversion;
    if (parseIfVersionOrReply(ctx, argv, argc, &ifversion) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t plen;
    const char *patch = RedisModule_StringPtrLen(argv[3], &plen);
    swSnap *s;
    RedisModuleKey *key;
    if (beginWriteOrReply(ctx, argv[2], "merge patch", patch, plen, 1, ifversion, &key, &s) !=
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
    } else {
        uint64_t v = writeResultOrReply(ctx, argv[2], key, s, out, outlen, "patched", NULL, 0);
        if (v) RedisModule_ReplyWithLongLong(ctx, (long long)v);
    }
    if (st == SW_OK) swFree(out);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* ---- EDIT key ops [IFVERSION v] ---- */

static int SwarmSnapshotEdit_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    long long ifversion;
    if (parseIfVersionOrReply(ctx, argv, argc, &ifversion) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t opslen;
    const char *ops = RedisModule_StringPtrLen(argv[3], &opslen);
    swSnap *s;
    RedisModuleKey *key;
    if (beginWriteOrReply(ctx, argv[2], "ops", ops, opslen, 0, ifversion, &key, &s) !=
        REDISMODULE_OK)
        return REDISMODULE_OK;
    const swSnapVersion *head = s ? swSnapHead(s) : NULL;
    swJsonPatchResult res;
    swError err;
    swStatus st = swJsonPatchApply(head ? head->text : "{}", head ? head->len : 2, ops, opslen,
                                   SWARM_SNAPSHOT_MAX_DEPTH, &res, &err);
    if (st != SW_OK) {
        SwarmReplyStatus(ctx, st, &err);
    } else if (checkMembersOrReply(ctx, ops, opslen, NULL) == REDISMODULE_OK) {
        /* Ops whose values repeat no name cannot make a head that repeats none repeat one:
         * add, copy and move to an existing member replace it (the pointer matches names as
         * decoded, as jdup.h compares them), and no other op writes a name. The result of a
         * head known unique (or of no head: "{}") needs no check of its own. */
        int derived = s == NULL || swSnapHeadUnique(s);
        uint64_t v = writeResultOrReply(ctx, argv[2], key, s, res.doc, res.len, "edited",
                                        "swarm.snapshot.edit", derived);
        if (v) {
            RedisModule_ReplyWithArray(ctx, 2);
            RedisModule_ReplyWithLongLong(ctx, (long long)v);
            RedisModule_ReplyWithArray(ctx, (long)res.nincr);
            for (size_t i = 0; i < res.nincr; i++)
                RedisModule_ReplyWithLongLong(ctx, (long long)res.incr[i]);
        }
    }
    swJsonPatchResultFree(&res);
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
            /* SW_ERR_RANGE (ERR): the change sets a member to null, which merge patch
             * cannot say. */
            SwarmReplyStatus(ctx, st, &err);
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
        swSnapVersion v; /* metadata only: LIST rebuilds no version */
        swSnapMetaAt(s, i, &v);
        char sum[17];
        snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)v.checksum);
        SwarmMap m = SwarmMapBegin(ctx);
        SwarmMapInt(&m, "version", (long long)v.version);
        SwarmMapInt(&m, "ts", (long long)v.ts);
        SwarmMapInt(&m, "bytes", (long long)v.len);
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
    } else if (checkMembersOrReply(ctx, old->text, old->len, "restored") == REDISMODULE_OK) {
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

/* ---- WAIT key version timeout-ms ----
 *
 * Answers the head version at once when it is greater than version. Otherwise the client
 * blocks on the key until a write makes it so (the reply callback answers the new head), the
 * timeout passes (nil; 0 waits forever) or the key goes away (0: deleted, expired, evicted,
 * renamed or moved away, overwritten by another type, or its database flushed or swapped). A key
 * that is missing when WAIT is called is waited for: WAIT key 0 t answers when it is created.
 * Inside MULTI or a script WAIT never blocks and answers nil unless the head is already
 * newer, as the built-in blocking commands do.
 *
 * What a waiter will answer lives in its privdata (SwarmWaiter.answer), set before the client
 * is unblocked: RedisModule_UnblockClient on a client blocked on keys runs the timeout
 * callback at once on Redis 7.0 and 7.2 but later, from the event loop, on 7.4 and after.
 *
 * A flush empties the key without deleting it one by one, and DEBUG RELOAD and a replica's
 * full resync flush before they load the same keys again. So a flush only marks the waiters
 * of the flushed databases whose key exists (flushed; a waiter for a key not created yet
 * keeps waiting for it), and a key loaded from an RDB file since marks its waiters again
 * (reloaded, from the "loaded" keyspace event). The waiters are then answered from a timer
 * (timers never run while a load is going on; file events, and so one-shot events, do), or
 * by the next write to their key, whichever comes first: a key not loaded again went away or
 * was replaced by a command (0); a key loaded again answers its head if that moved, else its
 * waiters keep waiting. */

/* A blocked WAIT: its privdata, and a node of the registry's list for (db, key). */
typedef struct SwarmWaiter {
    RedisModuleBlockedClient *bc;
    RedisModuleString *name; /* registry key: 4-byte db number, then the key */
    uint64_t version;
    long long answer; /* set before unblocking: the reply (0: the key went away); -1: nil */
    int flushed;      /* its database was flushed (see above) */
    int reloaded;     /* and its key was loaded again since */
    struct SwarmWaiter *prev, *next;
} SwarmWaiter;

static RedisModuleDict *swarmWaiters; /* registry key -> first SwarmWaiter of its list */
static size_t swarmWaiterCount;
static RedisModuleCtx *swarmWaitCtx; /* detached context for the flush check */
static int swarmFlushCheckScheduled; /* a timer for waitFlushCheck is set */

static RedisModuleString *waiterName(int db, RedisModuleString *key) {
    size_t len;
    const char *k = RedisModule_StringPtrLen(key, &len);
    uint32_t d = (uint32_t)db;
    RedisModuleString *name = RedisModule_CreateString(NULL, (const char *)&d, sizeof(d));
    RedisModule_StringAppendBuffer(NULL, name, k, len);
    return name;
}

static void waiterAdd(SwarmWaiter *w) {
    SwarmWaiter *first = RedisModule_DictGet(swarmWaiters, w->name, NULL);
    w->prev = NULL;
    w->next = first;
    if (first) first->prev = w;
    RedisModule_DictReplace(swarmWaiters, w->name, w);
    swarmWaiterCount++;
}

static void waiterRemove(SwarmWaiter *w) {
    if (w->prev) {
        w->prev->next = w->next;
    } else if (w->next) {
        RedisModule_DictReplace(swarmWaiters, w->name, w->next);
    } else {
        RedisModule_DictDel(swarmWaiters, w->name, NULL);
    }
    if (w->next) w->next->prev = w->prev;
    swarmWaiterCount--;
}

/* The waiter of a blocked client, for the timeout callback: its privdata where the server
 * passes it there, else found in the registry by the command's key and the client's handle
 * (Redis 7.0 passes no privdata to the timeout callback). */
static SwarmWaiter *waiterOf(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    SwarmWaiter *w = RedisModule_GetBlockedClientPrivateData(ctx);
    if (w || argc < 3) return w;
    RedisModuleBlockedClient *bc = RedisModule_GetBlockedClientHandle(ctx);
    RedisModuleString *name = waiterName(RedisModule_GetSelectedDb(ctx), argv[2]);
    for (w = RedisModule_DictGet(swarmWaiters, name, NULL); w && w->bc != bc; w = w->next) {
    }
    RedisModule_FreeString(NULL, name);
    return w;
}

/* Unblocks a waiter with answer (0: the key went away). A waiter already answered (waiting
 * only to be freed) keeps its first answer. */
static void waiterAnswer(SwarmWaiter *w, long long answer) {
    if (w->answer >= 0) return;
    w->answer = answer;
    RedisModule_UnblockClient(w->bc, NULL);
}

/* Answers 0 to every waiter of the list (the key went away). */
static void waitersGone(SwarmWaiter *w) {
    for (; w; w = w->next) waiterAnswer(w, 0);
}

static int waitReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    SwarmWaiter *w = RedisModule_GetBlockedClientPrivateData(ctx);
    if (w->answer >= 0) return RedisModule_ReplyWithLongLong(ctx, w->answer);
    if (w->flushed && !w->reloaded) {
        /* Written by a command after a flush: the history it waited on is gone. */
        w->answer = 0;
        return RedisModule_ReplyWithLongLong(ctx, 0);
    }
    w->flushed = w->reloaded = 0;
    RedisModuleString *keyname = RedisModule_GetBlockedClientReadyKey(ctx);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ);
    int type = RedisModule_KeyType(key);
    uint64_t head = 0;
    int found =
        type == REDISMODULE_KEYTYPE_MODULE && RedisModule_ModuleTypeGetType(key) == SwarmSnapType;
    if (found) head = swSnapHead(RedisModule_ModuleTypeGetValue(key))->version;
    RedisModule_CloseKey(key);
    if (type != REDISMODULE_KEYTYPE_EMPTY && !found) {
        w->answer = 0; /* overwritten by another type: history gone */
        return RedisModule_ReplyWithLongLong(ctx, 0);
    }
    if (head <= w->version) return REDISMODULE_ERR; /* keep waiting */
    w->answer = (long long)head;
    return RedisModule_ReplyWithLongLong(ctx, (long long)head);
}

static int waitTimeout(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    SwarmWaiter *w = waiterOf(ctx, argv, argc);
    if (w && w->answer >= 0) return RedisModule_ReplyWithLongLong(ctx, w->answer);
    return RedisModule_ReplyWithNull(ctx);
}

static void waitFree(RedisModuleCtx *ctx, void *privdata) {
    (void)ctx;
    SwarmWaiter *w = privdata;
    waiterRemove(w);
    RedisModule_FreeString(NULL, w->name);
    RedisModule_Free(w);
}

static int SwarmSnapshotWait_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argc;
    long long version, timeout;
    if (parseVersionOrReply(ctx, argv[3], 0, &version) ||
        SwarmParseRangeOrReply(ctx, argv[4], 0, SWARM_LLONG_BOUND, "timeout", &timeout))
        return REDISMODULE_OK;
    swSnap *s;
    RedisModuleKey *key;
    if (SwarmSnapType_OpenOrReply(ctx, argv[2], REDISMODULE_READ, &key, &s) != REDISMODULE_OK)
        return REDISMODULE_OK;
    uint64_t head = s ? swSnapHead(s)->version : 0;
    RedisModule_CloseKey(key);
    if (head > (uint64_t)version) return RedisModule_ReplyWithLongLong(ctx, (long long)head);
    if (RedisModule_GetContextFlags(ctx) &
        (REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_LUA |
         REDISMODULE_CTX_FLAGS_DENY_BLOCKING))
        return RedisModule_ReplyWithNull(ctx);
    SwarmWaiter *w = RedisModule_Alloc(sizeof(*w));
    w->name = waiterName(RedisModule_GetSelectedDb(ctx), argv[2]);
    w->version = (uint64_t)version;
    w->answer = -1;
    w->flushed = w->reloaded = 0;
    w->bc = RedisModule_BlockClientOnKeys(ctx, waitReply, waitTimeout, waitFree, timeout, &argv[2],
                                          1, w);
    waiterAdd(w);
    return REDISMODULE_OK;
}

/* Keyspace events on keys with waiters: a key that went away answers its waiters 0; a key
 * loaded from an RDB file marks them (see above); any other change (RENAME onto it, RESTORE,
 * SET over it, ...) signals it, and the reply callback looks at what the key holds now. */
static int waitKeyspaceEvent(RedisModuleCtx *ctx, int type, const char *event,
                             RedisModuleString *key) {
    (void)type;
    if (swarmWaiterCount == 0) return REDISMODULE_OK;
    RedisModuleString *name = waiterName(RedisModule_GetSelectedDb(ctx), key);
    SwarmWaiter *w = RedisModule_DictGet(swarmWaiters, name, NULL);
    RedisModule_FreeString(NULL, name);
    if (w == NULL) return REDISMODULE_OK;
    if (strcmp(event, "loaded") == 0) {
        for (; w; w = w->next) w->reloaded = w->flushed;
        return REDISMODULE_OK;
    }
    static const char *const gone[] = {"del", "expired", "evicted", "rename_from", "move_from"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
        if (strcmp(event, gone[i]) == 0) {
            waitersGone(w);
            return REDISMODULE_OK;
        }
    }
    RedisModule_SignalKeyAsReady(ctx, key);
    return REDISMODULE_OK;
}

/* The head version of the history at the registry key name (db, key): 0 when the key is
 * missing, -1 when it holds another type. */
static long long waitHeadOf(const char *name, size_t len) {
    uint32_t d;
    memcpy(&d, name, sizeof(d));
    if (RedisModule_SelectDb(swarmWaitCtx, (int)d) != REDISMODULE_OK) return 0;
    RedisModuleString *keyname = RedisModule_CreateString(NULL, name + sizeof(d), len - sizeof(d));
    RedisModuleKey *key = RedisModule_OpenKey(swarmWaitCtx, keyname, REDISMODULE_READ);
    int type = RedisModule_KeyType(key);
    long long head = 0;
    if (type == REDISMODULE_KEYTYPE_MODULE && RedisModule_ModuleTypeGetType(key) == SwarmSnapType)
        head = (long long)swSnapHead(RedisModule_ModuleTypeGetValue(key))->version;
    else if (type != REDISMODULE_KEYTYPE_EMPTY)
        head = -1;
    RedisModule_CloseKey(key);
    RedisModule_FreeString(NULL, keyname);
    return head;
}

static void waitFlushCheck(RedisModuleCtx *ctx, void *unused);

static void waitFlushCheckLater(long long ms) {
    if (swarmFlushCheckScheduled) return;
    RedisModule_CreateTimer(swarmWaitCtx, ms, waitFlushCheck, NULL);
    swarmFlushCheckScheduled = 1;
}

/* Runs from a timer after a flush: answers the flushed waiters (see above). Should a load
 * still be going on (a server loading in the background), it tries again later. */
static void waitFlushCheck(RedisModuleCtx *ctx, void *unused) {
    (void)ctx;
    (void)unused;
    swarmFlushCheckScheduled = 0;
    if (swarmWaiterCount == 0) return;
    if (RedisModule_GetContextFlags(swarmWaitCtx) & REDISMODULE_CTX_FLAGS_LOADING) {
        waitFlushCheckLater(10);
        return;
    }
    RedisModuleDictIter *it = RedisModule_DictIteratorStartC(swarmWaiters, "^", NULL, 0);
    char *k;
    size_t klen;
    SwarmWaiter *first;
    while ((k = RedisModule_DictNextC(it, &klen, (void **)&first)) != NULL) {
        long long head = -2; /* looked up once per key, when one of its waiters needs it */
        for (SwarmWaiter *w = first; w; w = w->next) {
            if (!w->flushed || w->answer >= 0) continue;
            int reloaded = w->reloaded;
            w->flushed = w->reloaded = 0;
            if (head == -2) head = waitHeadOf(k, klen);
            if (!reloaded || head <= 0) {
                waiterAnswer(w, 0);
            } else if ((uint64_t)head > w->version) {
                waiterAnswer(w, head);
            }
        }
    }
    RedisModule_DictIteratorStop(it);
}

/* FLUSHDB, FLUSHALL, DEBUG RELOAD and a replica's full resync, before the keys go: marks
 * the waiters of the existing keys of the flushed databases for waitFlushCheck. */
static void waitFlushEvent(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)ctx;
    (void)e;
    if (sub != REDISMODULE_SUBEVENT_FLUSHDB_START || swarmWaiterCount == 0) return;
    int db = ((RedisModuleFlushInfo *)data)->dbnum;
    RedisModuleDictIter *it = RedisModule_DictIteratorStartC(swarmWaiters, "^", NULL, 0);
    char *k;
    size_t klen;
    SwarmWaiter *w;
    while ((k = RedisModule_DictNextC(it, &klen, (void **)&w)) != NULL) {
        uint32_t d;
        memcpy(&d, k, sizeof(d));
        if ((db != -1 && (uint32_t)db != d) || waitHeadOf(k, klen) == 0) continue;
        for (; w; w = w->next) {
            w->flushed = 1;
            w->reloaded = 0;
        }
    }
    RedisModule_DictIteratorStop(it);
    waitFlushCheckLater(0);
}

/* SWAPDB replaces what every key of both databases holds: their waiters are answered 0, as
 * for a key that went away, and read the history again. */
static void waitSwapEvent(RedisModuleCtx *ctx, RedisModuleEvent e, uint64_t sub, void *data) {
    (void)ctx;
    (void)e;
    (void)sub;
    if (swarmWaiterCount == 0) return;
    const RedisModuleSwapDbInfo *info = data;
    RedisModuleDictIter *it = RedisModule_DictIteratorStartC(swarmWaiters, "^", NULL, 0);
    char *k;
    size_t klen;
    SwarmWaiter *w;
    while ((k = RedisModule_DictNextC(it, &klen, (void **)&w)) != NULL) {
        uint32_t d;
        memcpy(&d, k, sizeof(d));
        if ((int32_t)d == info->dbnum_first || (int32_t)d == info->dbnum_second) waitersGone(w);
    }
    RedisModule_DictIteratorStop(it);
}

/* ---- SWARM.SNAPSHOT HELP ---- */

static int SwarmSnapshotHelp_RedisCommand(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    static const char *const lines[] = {
        "SWARM.SNAPSHOT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "SAVE <key> <json> [IFVERSION <v>] [KEEP <n>]",
        "    Save a JSON document as the next version; returns the version.",
        "GET <key> [VERSION <v>] [PATH <json-pointer>] [WITHVERSION]",
        "    Return the head (or version v), or the value at a JSON Pointer; WITHVERSION",
        "    answers [version, json].",
        "PATCH <key> <merge-patch> [IFVERSION <v>]",
        "    Apply an RFC 7396 merge patch to the head as a new version.",
        "EDIT <key> <ops> [IFVERSION <v>]",
        "    Apply an RFC 6902 JSON Patch (plus incr) to the head as a new version, all or",
        "    nothing; returns [version, [incr results]].",
        "WAIT <key> <version> <timeout-ms>",
        "    Block until the head version is greater than <version>; returns the head, 0 when",
        "    the key is deleted, nil on timeout (0 waits forever).",
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

int SwarmSnapshot_Register(RedisModuleCtx *ctx) {
    const SwarmSubcommand subs[] = {
        {"save",
         SwarmSnapshotSave_RedisCommand,
         "write deny-oom",
         {.summary = "Saves a JSON document as the new version, optionally only if the head is "
                     "at a given version",
          .complexity = "O(N) for a document of N bytes",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args =
              (RedisModuleCommandArg[]){
                  SWARM_ARG_KEY, SWARM_ARG("json", REDISMODULE_ARG_TYPE_STRING),
                  SWARM_ARG_OPT("ifversion", REDISMODULE_ARG_TYPE_INTEGER, "IFVERSION"),
                  SWARM_ARG_OPT("keep", REDISMODULE_ARG_TYPE_INTEGER, "KEEP"), SWARM_ARG_END}}},
        {"get",
         SwarmSnapshotGet_RedisCommand,
         "readonly",
         {.summary = "Returns the head or a retained version, or the value at a JSON Pointer",
          .complexity = "O(N) for a document of N bytes",
          .arity = -3,
          .key_specs = SWARM_KS_READ,
          .args =
              (RedisModuleCommandArg[]){
                  SWARM_ARG_KEY,
                  SWARM_ARG_OPT("version", REDISMODULE_ARG_TYPE_INTEGER, "VERSION"),
                  SWARM_ARG_OPT("pointer", REDISMODULE_ARG_TYPE_STRING, "PATH"),
                  {.name = "withversion",
                   .type = REDISMODULE_ARG_TYPE_PURE_TOKEN,
                   .token = "WITHVERSION",
                   .flags = REDISMODULE_CMD_ARG_OPTIONAL},
                  SWARM_ARG_END}}},
        {"patch",
         SwarmSnapshotPatch_RedisCommand,
         "write deny-oom",
         {.summary = "Applies an RFC 7396 JSON Merge Patch to the head as a new version",
          .complexity = "O(N + P) for a document of N bytes and a patch of P bytes",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args =
              (RedisModuleCommandArg[]){
                  SWARM_ARG_KEY, SWARM_ARG("merge-patch", REDISMODULE_ARG_TYPE_STRING),
                  SWARM_ARG_OPT("ifversion", REDISMODULE_ARG_TYPE_INTEGER, "IFVERSION"),
                  SWARM_ARG_END}}},
        {"edit",
         SwarmSnapshotEdit_RedisCommand,
         "write deny-oom",
         {.summary = "Applies an RFC 6902 JSON Patch (plus incr) to the head as a new version, "
                     "all or nothing",
          .complexity = "O(N + P) for a document of N bytes and ops of P bytes",
          .arity = -4,
          .key_specs = SWARM_KS_WRITE_ACCESS,
          .args =
              (RedisModuleCommandArg[]){
                  SWARM_ARG_KEY, SWARM_ARG("ops", REDISMODULE_ARG_TYPE_STRING),
                  SWARM_ARG_OPT("ifversion", REDISMODULE_ARG_TYPE_INTEGER, "IFVERSION"),
                  SWARM_ARG_END}}},
        {"wait",
         SwarmSnapshotWait_RedisCommand,
         "readonly blocking",
         {.summary = "Blocks until the head version is greater than a given version",
          .complexity = "O(1)",
          .arity = 5,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("version", REDISMODULE_ARG_TYPE_INTEGER),
                                            SWARM_ARG("timeout-ms", REDISMODULE_ARG_TYPE_INTEGER),
                                            SWARM_ARG_END}}},
        {"diff",
         SwarmSnapshotDiff_RedisCommand,
         "readonly",
         {.summary = "Returns the RFC 7396 merge patch turning one version into another",
          .complexity = "O(N) in the size of both versions",
          .arity = -4,
          .key_specs = SWARM_KS_READ,
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("from", REDISMODULE_ARG_TYPE_INTEGER),
                                            {.name = "to",
                                             .type = REDISMODULE_ARG_TYPE_INTEGER,
                                             .flags = REDISMODULE_CMD_ARG_OPTIONAL},
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
          .args = (RedisModuleCommandArg[]){SWARM_ARG_KEY,
                                            SWARM_ARG("version", REDISMODULE_ARG_TYPE_INTEGER),
                                            SWARM_ARG_END}}},
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
    swarmWaiters = RedisModule_CreateDict(NULL);
    swarmWaitCtx = RedisModule_GetDetachedThreadSafeContext(ctx);
    if (RedisModule_SubscribeToKeyspaceEvents(
            ctx,
            REDISMODULE_NOTIFY_GENERIC | REDISMODULE_NOTIFY_EXPIRED | REDISMODULE_NOTIFY_EVICTED |
                REDISMODULE_NOTIFY_STRING | REDISMODULE_NOTIFY_LIST | REDISMODULE_NOTIFY_SET |
                REDISMODULE_NOTIFY_ZSET | REDISMODULE_NOTIFY_LOADED,
            waitKeyspaceEvent) != REDISMODULE_OK ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_FlushDB, waitFlushEvent) !=
            REDISMODULE_OK ||
        RedisModule_SubscribeToServerEvent(ctx, RedisModuleEvent_SwapDB, waitSwapEvent) !=
            REDISMODULE_OK)
        return REDISMODULE_ERR;
    return SwarmRegisterFamily(ctx, "swarm.snapshot", "Keeps versioned JSON state", subs,
                               sizeof(subs) / sizeof(subs[0]), SwarmSnapshotHelp_RedisCommand);
}
