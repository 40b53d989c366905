/* test_snapshot_persist.c -- swarm-snp values across DEBUG RELOAD, RDB, AOF (plain and
 * rewritten), COPY, DUMP/RESTORE, RENAME, replication, and corrupt RDB files and
 * SWARM.RESTORE payloads.
 *
 * Each test starts the servers it needs. "State" below is everything a client can observe
 * of a history: LIST (versions, timestamps, sizes, checksums), INFO, the text of every
 * retained version and DEBUG DIGEST-VALUE; a round trip must keep all of it. */
#include "harness.h"

#include <xxhash.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Helpers ---- */

static long long field(redisReply *r, const char *name) {
    redisReply *f = itField(r, name);
    if (f == NULL || f->type != REDIS_REPLY_INTEGER) fail_msg("no integer field '%s'", name);
    return f->integer;
}

/* Everything observable of the history at key, as one string (malloc'ed). */
static char *state(redisContext *c, const char *key) {
    char *acc = NULL;
    itAppendReply(&acc, itCmd(c, "TYPE %s", key));
    itAppendReply(&acc, itCmd(c, "SWARM.SNAPSHOT LIST %s", key));
    redisReply *info = itCmd(c, "SWARM.SNAPSHOT INFO %s", key);
    if (info->type != REDIS_REPLY_ARRAY) fail_msg("INFO %s: %s", key, info->str ? info->str : "");
    long long oldest = field(info, "oldest"), head = field(info, "head");
    itAppendReply(&acc, info);
    for (long long v = oldest; v <= head; v++)
        itAppendReply(&acc, itCmd(c, "SWARM.SNAPSHOT GET %s VERSION %lld", key, v));
    char *d = itDigest(c, key);
    acc = realloc(acc, strlen(acc) + strlen(d) + 1);
    strcat(acc, d);
    free(d);
    return acc;
}

static void expectSameState(const char *before, const char *after, const char *what) {
    if (strcmp(before, after) != 0)
        fail_msg("%s changed the history:\n--- before\n%s\n--- after\n%s", what, before, after);
}

/* Six versions, four retained (1 and 2 evicted), made by SAVE, PATCH and RESTORE, each in a
 * later millisecond than the last so that timestamps taken again on replay could not match. */
static void populate(redisContext *c, const char *key) {
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s %s KEEP 4", key,
                      "{\"agents\": [\"a\", \"b\"], \"n\": 9007199254740993}"),
                1);
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s %s", key, "{\"agents\":[\"a\"],\"n\":2}"), 2);
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH %s %s", key, "{\"tasks\":{\"t1\":\"open\"}}"), 3);
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE %s 1", key), 4);
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH %s %s", key, "{\"n\":null,\"x\":[1,2,3]}"), 5);
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s %s", key, "\"a string document\""), 6);
}

/* 1 when any regular file in dir contains needle. */
static int dirContains(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        size_t got = fread(buf, 1, (size_t)n, f);
        fclose(f);
        found = memmem(buf, got, needle, strlen(needle)) != NULL;
        free(buf);
    }
    closedir(d);
    return found;
}

/* ---- RDB ---- */

static void test_debug_reload_keeps_history(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:reload");
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE p:one {\"only\":1}"), 1);
    char *before = state(c, "p:reload"), *one = state(c, "p:one");
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    char *after = state(c, "p:reload"), *one2 = state(c, "p:one");
    expectSameState(before, after, "DEBUG RELOAD");
    expectSameState(one, one2, "DEBUG RELOAD");
    /* The reloaded history goes on numbering where it was. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE p:reload {}"), 7);
    free(before), free(after), free(one), free(one2);
    redisFree(c);
    itDestroy(&s);
}

static void test_save_and_restart_keeps_history(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:rdb");
    char *before = state(c, "p:rdb");
    char buf[32];
    long long n = atoll(itInfo(c, "swarm", "swarm_snapshots", buf, sizeof(buf)));
    long long bytes = atoll(itInfo(c, "swarm", "swarm_snapshot_bytes", buf, sizeof(buf)));
    itExpectOk(itCmd(c, "SAVE"));
    redisFree(c);
    itRestart(&s);
    c = itConnectTimeout(&s, 10000);
    char *after = state(c, "p:rdb");
    expectSameState(before, after, "SAVE and restart");
    /* Loading counts the loaded values. */
    assert_int_equal(atoll(itInfo(c, "swarm", "swarm_snapshots", buf, sizeof(buf))), n);
    assert_int_equal(atoll(itInfo(c, "swarm", "swarm_snapshot_bytes", buf, sizeof(buf))), bytes);
    free(before), free(after);
    redisFree(c);
    itDestroy(&s);
}

/* ---- AOF ---- */

static void test_aof_rewrite_and_restart_keeps_history(void **state_) {
    (void)state_;
    const char *extra[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, 10000);
    itWaitAofRewrite(c, 10000);
    populate(c, "p:aof");
    itAofRewrite(c, 10000);
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/appendonlydir", s.dir);
    assert_true(dirContains(dir, "SWARM.RESTORE"));
    /* Written after the rewrite: replayed from the incremental file on top of the base. */
    itWaitNextMs(c);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH p:aof {\"after\":\"rewrite\"}"), 7);
    populate(c, "p:aof2");
    char *before = state(c, "p:aof"), *before2 = state(c, "p:aof2");
    redisFree(c);
    itRestart(&s);
    c = itConnectTimeout(&s, 10000);
    char *after = state(c, "p:aof"), *after2 = state(c, "p:aof2");
    expectSameState(before, after, "AOF rewrite and restart");
    expectSameState(before2, after2, "AOF rewrite and restart");
    free(before), free(after), free(before2), free(after2);
    redisFree(c);
    itDestroy(&s);
}

static void test_aof_replay_keeps_timestamps(void **state_) {
    (void)state_;
    const char *extra[] = {"--appendonly", "yes", NULL};
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, 10000);
    itWaitAofRewrite(c, 10000);
    populate(c, "p:replay");
    char *before = state(c, "p:replay");
    /* What the AOF holds is the deterministic effect, never the command that reads the clock. */
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/appendonlydir", s.dir);
    itWaitNextMs(c); /* the replay's clock is past every timestamp written */
    redisFree(c);
    itStop(&s);
    assert_true(dirContains(dir, "SWARM.APPLY"));
    assert_false(dirContains(dir, "SWARM.SNAPSHOT"));
    itStartIn(&s);
    c = itConnectTimeout(&s, 10000);
    char *after = state(c, "p:replay");
    expectSameState(before, after, "AOF replay");
    free(before), free(after);
    redisFree(c);
    itDestroy(&s);
}

/* ---- COPY, DUMP/RESTORE, RENAME ---- */

static void test_copy_is_deep(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:orig");
    char *orig = state(c, "p:orig");
    itExpectInt(itCmd(c, "COPY p:orig p:copy"), 1);
    char *copy = state(c, "p:copy");
    expectSameState(orig, copy, "COPY");
    itExpectInt(itCmd(c, "COPY p:orig p:copy"), 0);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH p:copy {\"agents\":[\"changed\"]}"), 7);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE p:copy [1] KEEP 1"), 8);
    char *orig2 = state(c, "p:orig");
    expectSameState(orig, orig2, "PATCH of a copy");
    char *d1 = itDigest(c, "p:orig"), *d2 = itDigest(c, "p:copy");
    assert_string_not_equal(d1, d2);
    char buf[32];
    assert_string_equal(itInfo(c, "swarm", "swarm_snapshots", buf, sizeof(buf)), "2");
    itExpectInt(itCmd(c, "DEL p:copy"), 1);
    char *orig3 = state(c, "p:orig");
    expectSameState(orig, orig3, "DEL of a copy");
    free(orig), free(copy), free(orig2), free(orig3), free(d1), free(d2);
    redisFree(c);
    itDestroy(&s);
}

static void test_dump_restore_round_trip(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:dump");
    char *before = state(c, "p:dump");
    redisReply *dump = itCmd(c, "DUMP p:dump");
    assert_int_equal(dump->type, REDIS_REPLY_STRING);
    const char *argv[] = {"RESTORE", "p:restored", "0", dump->str};
    const size_t lens[] = {7, 10, 1, dump->len};
    itExpectOk(itCmdArgv(c, 4, argv, lens));
    char *after = state(c, "p:restored");
    expectSameState(before, after, "DUMP/RESTORE");
    itExpectError(itCmdArgv(c, 4, argv, lens), "BUSYKEY", NULL);
    const char *argvr[] = {"RESTORE", "p:dump", "0", dump->str, "REPLACE"};
    const size_t lensr[] = {7, 6, 1, dump->len, 7};
    itExpectOk(itCmdArgv(c, 5, argvr, lensr));
    char *again = state(c, "p:dump");
    expectSameState(before, again, "RESTORE REPLACE");
    freeReplyObject(dump);
    free(before), free(after), free(again);
    redisFree(c);
    itDestroy(&s);
}

static void test_rename_keeps_history(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:old");
    char *before = state(c, "p:old");
    itExpectOk(itCmd(c, "RENAME p:old p:new"));
    itExpectInt(itCmd(c, "EXISTS p:old"), 0);
    char *after = state(c, "p:new");
    expectSameState(before, after, "RENAME");
    char buf[32];
    assert_string_equal(itInfo(c, "swarm", "swarm_snapshots", buf, sizeof(buf)), "1");
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE p:new {}"), 7);
    free(before), free(after);
    redisFree(c);
    itDestroy(&s);
}

/* ---- Replication ---- */

static void test_replica_holds_same_history(void **state_) {
    (void)state_;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServer m, r;
    redisContext *mc, *rc;
    itStartPair(&m, &mc, mextra, &r, &rc);
    populate(mc, "p:synced"); /* before the replica attaches: full sync */
    itAttachReplica(rc, &m, 10000);
    populate(mc, "p:live"); /* after: the replication stream */
    itExpectInt(itCmd(mc, "SWARM.SNAPSHOT SAVE p:live {\"k\":1} KEEP 2"), 7);
    itExpectInt(itCmd(mc, "SWARM.SNAPSHOT PATCH p:live:new {\"fresh\":true}"), 1);
    itExpectInt(itCmd(mc, "SWARM.SNAPSHOT SAVE p:gone {}"), 1);
    itExpectInt(itCmd(mc, "DEL p:gone"), 1);
    itWaitReplicas(mc, 1, 5000);
    const char *keys[] = {"p:synced", "p:live", "p:live:new"};
    for (size_t i = 0; i < 3; i++) {
        char *ms = state(mc, keys[i]), *rs = state(rc, keys[i]);
        expectSameState(ms, rs, keys[i]);
        free(ms), free(rs);
    }
    itExpectInt(itCmd(rc, "EXISTS p:gone"), 0);
    itExpectError(itCmd(rc, "SWARM.SNAPSHOT SAVE p:live {}"), "READONLY", NULL);
    redisFree(mc), redisFree(rc);
    itDestroy(&r);
    itDestroy(&m);
}

/* A sliding window of look-alike messages (the first dropped, one appended, per EDIT) makes
 * reverse deltas that skip shifted content and, every few dozen versions, a version stored
 * whole. The master reloads its history from RDB halfway, so its later choices rest on the
 * bookkeeping rebuilt from the stored forms; the replica, which never reloads, must still
 * hold the same bytes (DEBUG DIGEST-VALUE digests the stored forms). */
static void test_replica_same_deltas_for_shifted_edits(void **state_) {
    (void)state_;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServer m, r;
    itStart(&m, NULL, mextra);
    itStart(&r, NULL, NULL);
    redisContext *mc = itConnectTimeout(&m, 10000), *rc = itConnectTimeout(&r, 10000);
    itExpectOk(itCmd(rc, "REPLICAOF 127.0.0.1 %d", m.port));
    assert_true(itWaitInfo(rc, "replication", "master_link_status", "up", 10000));
    char doc[4096], ops[1024];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"n\":0,\"m\":[");
    for (int i = 0; i < 10; i++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"id\":\"msg-%d\",\"role\":\"%s\",\"text\":\"agent agent edge "
                              "agent plan agent agent agent edge agent agent\"}",
                              i ? "," : "", i, i % 2 ? "user" : "assistant");
    }
    snprintf(doc + n, sizeof(doc) - n, "]}");
    itExpectInt(itCmd(mc, "SWARM.SNAPSHOT SAVE w:win %s KEEP 1000", doc), 1);
    for (int i = 10; i < 310; i++) {
        snprintf(ops, sizeof(ops),
                 "[{\"op\":\"remove\",\"path\":\"/m/0\"},{\"op\":\"add\",\"path\":\"/m/-\","
                 "\"value\":{\"id\":\"msg-%d\",\"role\":\"%s\",\"text\":\"agent %s agent edge "
                 "agent plan agent agent agent edge agent agent\"}},"
                 "{\"op\":\"replace\",\"path\":\"/n\",\"value\":%d}]",
                 i, i % 2 ? "user" : "assistant", i % 3 ? "edge" : "plan", i);
        redisReply *e = itCmd(mc, "SWARM.SNAPSHOT EDIT w:win %s", ops);
        if (e->type != REDIS_REPLY_ARRAY || e->element[0]->integer != i - 8)
            fail_msg("EDIT %d: %s", i, e->str ? e->str : "unexpected reply");
        freeReplyObject(e);
        if (i == 160) itExpectOk(itCmd(mc, "DEBUG RELOAD"));
    }
    itExpectInt(itCmd(mc, "WAIT 1 5000"), 1);
    char *ms = state(mc, "w:win"), *rs = state(rc, "w:win");
    expectSameState(ms, rs, "the replica");
    free(ms), free(rs);
    redisFree(mc), redisFree(rc);
    itDestroy(&r);
    itDestroy(&m);
}

/* swarm.snapshot-keep-bytes bounds what the older versions take. The bound travels with each
 * replicated write, so a replica configured otherwise, and an AOF replayed by a server
 * configured otherwise, evict exactly the same versions. */
static void test_keep_bytes_evicts_the_same_everywhere(void **state_) {
    (void)state_;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", "--appendonly", "yes", NULL};
    itServer m, r;
    redisContext *mc, *rc;
    itStartPair(&m, &mc, mextra, &r, &rc);
    itAttachReplica(rc, &m, 10000);
    itExpectOk(itCmd(mc, "CONFIG SET swarm.snapshot-keep-bytes 4096"));
    itExpectOk(itCmd(rc, "CONFIG SET swarm.snapshot-keep-bytes 0"));
    /* Ten unrelated 1 KB documents: each older version costs about a document. */
    char doc[1100];
    for (int v = 1; v <= 10; v++) {
        int n = snprintf(doc, sizeof(doc), "{\"v\":%d,\"pad\":\"", v);
        for (int i = 0; i < 1000; i++) doc[n + i] = (char)('a' + (v * 7 + i * 13) % 26);
        snprintf(doc + n + 1000, sizeof(doc) - (size_t)n - 1000, "\"}");
        itExpectInt(itCmd(mc, "SWARM.SNAPSHOT SAVE p:big %s", doc), v);
    }
    redisReply *info = itCmd(mc, "SWARM.SNAPSHOT INFO p:big");
    long long retained = field(info, "retained"), oldest = field(info, "oldest");
    freeReplyObject(info);
    /* At most about 4096 bytes of older versions besides the head, and at least one. */
    if (retained < 2 || retained > 6) fail_msg("retained %lld versions under 4096 bytes", retained);
    assert_int_equal(oldest, 10 - retained + 1);
    itExpectError(itCmd(mc, "SWARM.SNAPSHOT GET p:big VERSION 1"), "NOVERSION", NULL);
    itWaitReplicas(mc, 1, 5000);
    char *ms = state(mc, "p:big"), *rs = state(rc, "p:big");
    expectSameState(ms, rs, "replica with no byte bound of its own");
    free(rs);
    /* The AOF replayed by a server with another bound (the restart takes the default,
     * 16 MiB, which would keep all ten) ends the same. */
    redisFree(mc), redisFree(rc);
    itDestroy(&r);
    itRestart(&m);
    mc = itConnectTimeout(&m, 10000);
    char *after = state(mc, "p:big");
    expectSameState(ms, after, "AOF replay without the bound");
    free(ms), free(after);
    redisFree(mc);
    itDestroy(&m);
}

/* ---- Corrupt data is refused ---- */

static void test_corrupt_rdb_is_refused_loudly(void **state_) {
    (void)state_;
    /* Without Redis's own file checksum and compression, a flipped byte of the document
     * reaches the module, and only the version's checksum can catch it. */
    const char *extra[] = {"--rdbchecksum", "no", "--rdbcompression", "no", NULL};
    const char *canary = "SWARM-CORRUPTION-CANARY-0123456789";
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, 10000);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE p:canary {\"marker\":\"%s\"}", canary), 1);
    itExpectOk(itCmd(c, "SAVE"));
    redisFree(c);
    /* The untouched file loads. */
    itRestart(&s);
    c = itConnectTimeout(&s, 10000);
    itExpectInt(itCmd(c, "EXISTS p:canary"), 1);
    redisFree(c);
    itStop(&s);

    char path[300];
    snprintf(path, sizeof(path), "%s/dump.rdb", s.dir);
    size_t len;
    char *rdb = itReadFile(path, &len);
    char *at = memmem(rdb, len, canary, strlen(canary));
    assert_non_null(at);
    assert_null(memmem(at + 1, len - (size_t)(at + 1 - rdb), canary, strlen(canary)));
    at[6] ^= 0x01; /* 'C' -> 'B': still valid JSON, a different document */
    itWriteFile(path, rdb, len);
    free(rdb);

    assert_int_equal(itTryStart(&s), -1);
    snprintf(path, sizeof(path), "%s/redis.log", s.dir);
    char *log = itReadFile(path, &len);
    if (strstr(log, "checksum mismatch in version 1") == NULL || strstr(log, "swarm-snp") == NULL)
        fail_msg("redis.log does not name the checksum mismatch:\n%s", log);
    if (strstr(log, "crashed by signal") != NULL) fail_msg("the server crashed:\n%s", log);
    free(log);
    itDestroy(&s);
}

/* A history whose older versions are stored as reverse deltas: version 1 held the canary,
 * which later versions replaced, so the canary's bytes live only in a delta. */
static const char *deltaCanary = "SWARM-DELTA-CANARY-0123456789";

static void populateDeltaChain(redisContext *c, const char *key) {
    char doc[4200];
    int n = snprintf(doc, sizeof(doc), "{\"marker\":\"%s\",\"n\":0,\"filler\":\"", deltaCanary);
    memset(doc + n, 'f', 4000);
    snprintf(doc + n + 4000, sizeof(doc) - (size_t)n - 4000, "\"}");
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s %s", key, doc), 1);
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT EDIT %s %s", key,
                          "[{\"op\":\"replace\",\"path\":\"/marker\",\"value\":\"gone\"}]");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    for (int i = 0; i < 3; i++) {
        r = itCmd(c, "SWARM.SNAPSHOT EDIT %s %s", key,
                  "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]");
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        freeReplyObject(r);
    }
}

/* A flipped byte inside a stored delta changes the version rebuilt from it; its checksum
 * catches that when the RDB is loaded, and the server refuses to start instead of serving
 * the wrong state. */
static void test_corrupt_delta_chain_in_rdb_is_refused_loudly(void **state_) {
    (void)state_;
    const char *extra[] = {"--rdbchecksum", "no", "--rdbcompression", "no", NULL};
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, 10000);
    populateDeltaChain(c, "p:chain");
    redisReply *head = itCmd(c, "SWARM.SNAPSHOT GET p:chain");
    assert_null(strstr(head->str, deltaCanary)); /* only an older version holds it */
    freeReplyObject(head);
    itExpectOk(itCmd(c, "SAVE"));
    redisFree(c);
    itStop(&s);

    char path[300];
    snprintf(path, sizeof(path), "%s/dump.rdb", s.dir);
    size_t len;
    char *rdb = itReadFile(path, &len);
    char *at = memmem(rdb, len, deltaCanary, strlen(deltaCanary));
    assert_non_null(at);
    assert_null(memmem(at + 1, len - (size_t)(at + 1 - rdb), deltaCanary, strlen(deltaCanary)));
    at[6] ^= 0x01; /* 'D' -> 'E': still valid JSON, a different version 1 */
    itWriteFile(path, rdb, len);
    free(rdb);

    assert_int_equal(itTryStart(&s), -1);
    snprintf(path, sizeof(path), "%s/redis.log", s.dir);
    char *log = itReadFile(path, &len);
    if (strstr(log, "refusing corrupt swarm-snp value") == NULL ||
        strstr(log, "checksum mismatch in version 1") == NULL)
        fail_msg("redis.log does not name the corrupt delta chain:\n%s", log);
    if (strstr(log, "crashed by signal") != NULL) fail_msg("the server crashed:\n%s", log);
    free(log);
    itDestroy(&s);
}

/* The same through RESTORE of a DUMP payload (Redis's own checksum switched off, so the bytes
 * reach the module): refused, nothing created, the reason in the log. */
static void test_corrupt_delta_chain_in_dump_payload_is_refused(void **state_) {
    (void)state_;
    const char *extra[] = {"--rdbcompression", "no", NULL};
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, 10000);
    populateDeltaChain(c, "p:chain");
    redisReply *dump = itCmd(c, "DUMP p:chain");
    assert_int_equal(dump->type, REDIS_REPLY_STRING);
    char *at = memmem(dump->str, dump->len, deltaCanary, strlen(deltaCanary));
    assert_non_null(at);
    /* The untouched payload restores to the same state. */
    const char *argv[] = {"RESTORE", "p:copy", "0", dump->str};
    size_t lens[] = {7, 6, 1, dump->len};
    itExpectOk(itCmdArgv(c, 4, argv, lens));
    char *a = state(c, "p:chain"), *b = state(c, "p:copy");
    expectSameState(a, b, "RESTORE of an untouched DUMP");
    free(a), free(b);

    at[6] ^= 0x01;
    itExpectOk(itCmd(c, "DEBUG SET-SKIP-CHECKSUM-VALIDATION 1"));
    argv[1] = "p:bad";
    lens[1] = 5;
    redisReply *r = itCmdArgv(c, 4, argv, lens);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    itExpectInt(itCmd(c, "EXISTS p:bad"), 0);
    itExpectStr(itCmd(c, "PING"), "PONG");
    freeReplyObject(dump);
    redisFree(c);

    char path[300];
    size_t len;
    snprintf(path, sizeof(path), "%s/redis.log", s.dir);
    char *log = itReadFile(path, &len);
    if (strstr(log, "checksum mismatch in version 1") == NULL)
        fail_msg("redis.log does not name the corrupt delta chain:\n%s", log);
    free(log);
    itDestroy(&s);
}

/* The serialized form documented in snapshot.h, built from what LIST, INFO and GET show. */
typedef struct payload {
    char *p;
    size_t len;
} payload;

static void put64(payload *b, unsigned long long v) {
    for (int i = 0; i < 8; i++) b->p[b->len++] = (char)((v >> (8 * i)) & 0xff);
}

static payload encodeFromServer(redisContext *c, const char *key) {
    redisReply *info = itCmd(c, "SWARM.SNAPSHOT INFO %s", key);
    redisReply *list = itCmd(c, "SWARM.SNAPSHOT LIST %s", key);
    payload b = {malloc(1 << 16), 0};
    b.p[b.len++] = 2; /* format: every version stored whole, as the format allows */
    put64(&b, (unsigned long long)field(info, "head"));
    put64(&b, (unsigned long long)field(info, "keep"));
    put64(&b, (unsigned long long)field(info, "created"));
    put64(&b, (unsigned long long)field(info, "updated"));
    put64(&b, list->elements);
    for (size_t i = list->elements; i-- > 0;) { /* LIST is newest first */
        redisReply *e = list->element[i];
        put64(&b, (unsigned long long)field(e, "ts"));
        put64(&b, strtoull(itField(e, "checksum")->str, NULL, 16));
        redisReply *text = itCmd(c, "SWARM.SNAPSHOT GET %s VERSION %lld", key, field(e, "version"));
        put64(&b, text->len);
        b.p[b.len++] = 0; /* whole */
        put64(&b, text->len);
        memcpy(b.p + b.len, text->str, text->len);
        b.len += text->len;
        freeReplyObject(text);
    }
    freeReplyObject(info);
    freeReplyObject(list);
    return b;
}

static redisReply *swarmRestore(redisContext *c, const char *key, const char *buf, size_t len,
                                int replace) {
    const char *argv[] = {"SWARM.RESTORE", key, "swarm-snp", buf, "REPLACE"};
    const size_t lens[] = {13, strlen(key), 9, len, 7};
    return itCmdArgv(c, replace ? 5 : 4, argv, lens);
}

/* These servers open the internal commands to clients (a load-time-only config) so that
 * their own input checks can be tested directly. */
static const char *const internalOpen[] = {"debug-internal-commands", "yes", NULL};

static void test_swarm_restore_corrupt_payload_is_refused(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, internalOpen, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    populate(c, "p:src");
    payload good = encodeFromServer(c, "p:src");
    /* The documented format is what the module reads: the same history (every version
     * here stored whole, where the source stores deltas, so the digests differ). */
    itExpectOk(swarmRestore(c, "p:dst", good.p, good.len, 0));
    char *a = state(c, "p:src"), *b = state(c, "p:dst");
    char *a1 = strdup(a), *b1 = strdup(b);
    *strrchr(a1, '\n') = '\0'; /* the digest, on the last line */
    *strrchr(b1, '\n') = '\0';
    expectSameState(a1, b1, "SWARM.RESTORE");
    free(a1), free(b1);
    itExpectError(swarmRestore(c, "p:dst", good.p, good.len, 0), "BUSYKEY", NULL);
    itExpectError(itCmd(c, "SWARM.RESTORE p:x swarm-nope abc"), "ERR", "unknown type");

    char *bad = malloc(good.len + 16);
    /* header, then the oldest version's ts, sum, len, kind and stored length */
    const size_t firstText = 41 + 33;
    struct {
        const char *what, *needle;
        size_t len;
        size_t at;
        unsigned char set; /* XORed into byte at; 0: no change */
    } cases[] = {
        {"flipped document byte", "checksum mismatch in version 3", good.len, firstText + 3, 1},
        {"flipped checksum byte", "checksum mismatch in version 3", good.len, 41 + 8, 0x80},
        {"flipped last byte", "checksum mismatch in version 6", good.len, good.len - 2, 4},
        {"truncated", "truncated", good.len - 1, 0, 0},
        {"header only", "truncated", 20, 0, 0},
        {"empty", "truncated", 0, 0, 0},
        {"trailing byte", "trailing bytes", good.len + 1, 0, 0},
        {"unknown format", "unsupported snapshot format 9", good.len, 0,
         0x2 ^ 9}, /* format 2 -> 9 */
        {"pre-release format 1", "unsupported snapshot format 1", good.len, 0,
         0x2 ^ 1},                                                      /* format 2 -> 1 */
        {"keep 0", "bad keep", good.len, 9, 4},                         /* keep 4 -> 0 */
        {"count above keep", "bad version count", good.len, 33, 4 ^ 5}, /* count 4 -> 5 */
        {"huge count", "bad version count at byte 33", good.len, 40, 0x10},
        {"huge length", "truncated at byte", good.len, 41 + 25 + 7, 0x40},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* An empty needle would let any ERR pass. */
        assert_true(cases[i].needle[0] != '\0');
        memcpy(bad, good.p, good.len);
        bad[good.len] = '\0';
        if (cases[i].len) bad[cases[i].at] ^= (char)cases[i].set;
        redisReply *r = swarmRestore(c, "p:corrupt", bad, cases[i].len, 0);
        if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "ERR ", 4) != 0 ||
            strstr(r->str, cases[i].needle) == NULL)
            fail_msg("%s: expected ERR ...%s..., got type %d '%s'", cases[i].what, cases[i].needle,
                     r->type, r->str ? r->str : "");
        freeReplyObject(r);
        itExpectInt(itCmd(c, "EXISTS p:corrupt"), 0);
        /* REPLACE with a corrupt payload leaves the existing value alone. */
        r = swarmRestore(c, "p:dst", bad, cases[i].len, 1);
        assert_int_equal(r->type, REDIS_REPLY_ERROR);
        freeReplyObject(r);
        char *b2 = state(c, "p:dst");
        expectSameState(b, b2, cases[i].what);
        free(b2);
    }
    itExpectStr(itCmd(c, "PING"), "PONG");
    char buf[32];
    assert_string_equal(itInfo(c, "swarm", "swarm_snapshots", buf, sizeof(buf)), "2");
    free(bad), free(good.p), free(a), free(b);
    redisFree(c);
    itDestroy(&s);
}

/* The internal commands take only JSON too: a forged SWARM.APPLY or SWARM.RESTORE (right
 * checksum, not JSON) is refused and creates nothing. */
static void test_internal_commands_refuse_non_json(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, internalOpen, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 1 5 16 %s", "not json"), "PAYLOAD",
                  "invalid JSON at byte 1");
    itExpectError(itCmd(c, "SWARM.APPLY p:j NOPE x"), "ERR", "unknown effect kind");
    itExpectInt(itCmd(c, "EXISTS p:j"), 0);
    /* The snapshot effect's other checks: versions in sequence, keep-bytes a size. */
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 2 5 16 {}"), "ERR",
                  "snapshot version out of sequence");
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 1 5 16 {} -1"), "ERR",
                  "not an integer or out of range");
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 1 5 16 {} 0 extra"), "ERR",
                  "wrong number of arguments");
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 1 5 0 {}"), "ERR",
                  "value is not an integer or out of range");
    itExpectError(itCmd(c, "SWARM.APPLY p:j SNAPSHOT x 5 16 {}"), "ERR",
                  "value is not an integer or out of range");
    itExpectError(itCmd(c, "SWARM.RESTORE p:j swarm-snp x NOPE"), "ERR", "syntax error");
    itExpectInt(itCmd(c, "EXISTS p:j"), 0);
    itExpectOk(itCmd(c, "SWARM.APPLY p:j SNAPSHOT 1 5 16 {} 4096"));
    itExpectInt(itCmd(c, "EXISTS p:j"), 1);
    itExpectInt(itCmd(c, "DEL p:j"), 1);

    const char *doc = "not json";
    payload b = {malloc(128), 0};
    b.p[b.len++] = 2;
    put64(&b, 1);  /* head */
    put64(&b, 16); /* keep */
    put64(&b, 5);  /* created */
    put64(&b, 5);  /* updated */
    put64(&b, 1);  /* count */
    put64(&b, 5);  /* ts */
    put64(&b, (unsigned long long)XXH3_64bits(doc, strlen(doc)));
    put64(&b, strlen(doc));
    b.p[b.len++] = 0; /* whole */
    put64(&b, strlen(doc));
    memcpy(b.p + b.len, doc, strlen(doc));
    b.len += strlen(doc);
    itExpectError(swarmRestore(c, "p:j", b.p, b.len, 0), "ERR", "version 1 is not valid JSON");
    itExpectInt(itCmd(c, "EXISTS p:j"), 0);
    free(b.p);
    redisFree(c);
    itDestroy(&s);
}

/* A history with no version cannot come from the module; as a key it would be an empty
 * aggregate, which Redis never keeps. */
static void test_swarm_restore_empty_history_is_refused(void **state_) {
    (void)state_;
    itServer s;
    itStart(&s, NULL, NULL);
    redisContext *c = itConnectTimeout(&s, 10000);
    payload empty = {malloc(64), 0};
    empty.p[empty.len++] = 1;
    put64(&empty, 0);  /* head */
    put64(&empty, 16); /* keep */
    put64(&empty, 0);  /* created */
    put64(&empty, 0);  /* updated */
    put64(&empty, 0);  /* count */
    redisReply *r = swarmRestore(c, "p:empty", empty.p, empty.len, 0);
    int refused = r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR ", 4) == 0;
    char *text = itReplyRepr(r);
    freeReplyObject(r);
    long long exists = itInteger(itCmd(c, "EXISTS p:empty"));
    free(empty.p);
    redisFree(c);
    itDestroy(&s);
    if (!refused || exists != 0)
        fail_msg("SWARM.RESTORE of an empty history answered %s and left EXISTS %lld", text,
                 exists);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debug_reload_keeps_history),
        cmocka_unit_test(test_replica_same_deltas_for_shifted_edits),
        cmocka_unit_test(test_save_and_restart_keeps_history),
        cmocka_unit_test(test_aof_rewrite_and_restart_keeps_history),
        cmocka_unit_test(test_aof_replay_keeps_timestamps),
        cmocka_unit_test(test_copy_is_deep),
        cmocka_unit_test(test_dump_restore_round_trip),
        cmocka_unit_test(test_rename_keeps_history),
        cmocka_unit_test(test_replica_holds_same_history),
        cmocka_unit_test(test_keep_bytes_evicts_the_same_everywhere),
        cmocka_unit_test(test_corrupt_rdb_is_refused_loudly),
        cmocka_unit_test(test_corrupt_delta_chain_in_rdb_is_refused_loudly),
        cmocka_unit_test(test_corrupt_delta_chain_in_dump_payload_is_refused),
        cmocka_unit_test(test_swarm_restore_corrupt_payload_is_refused),
        cmocka_unit_test(test_swarm_restore_empty_history_is_refused),
        cmocka_unit_test(test_internal_commands_refuse_non_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
