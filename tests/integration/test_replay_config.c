/* test_replay_config.c -- what replicas and the AOF receive applies the same on any node,
 * whatever its config: config limits bind commands from clients only, and decoding a value
 * (RDB, DEBUG RELOAD, DUMP/RESTORE, COPY, the AOF's SWARM.RESTORE) checks the format's hard
 * limits only, so a server always loads its own data.
 *
 * The cases: a master whose swarm.max-type-bytes was raised at runtime and a replica on the
 * default; the same commands in an AOF replayed after a restart that lost the CONFIG SET;
 * a table holding a pattern longer than the limit in force when it is reloaded, saved and
 * restarted. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_TIMEOUT_MS 10000

/* "a." + 300 'b' + suffix: a 304-byte type or pattern, over the default limit of 256. */
static char *longName(const char *suffix) {
    size_t n = 2 + 300 + strlen(suffix);
    char *s = malloc(n + 1);
    memcpy(s, "a.", 2);
    memset(s + 2, 'b', 300);
    strcpy(s + 302, suffix);
    return s;
}

static void expectDigestsEqual(redisContext *a, redisContext *b, const char *key,
                               const char *what) {
    char *da = itDigest(a, key), *db = itDigest(b, key);
    if (strcmp(da, db) != 0)
        fail_msg("%s: DEBUG DIGEST-VALUE %s differs: %s vs %s", what, key, da, db);
    free(da);
    free(db);
}

/* CONFIG GET swarm.max-type-bytes is want. */
static void expectTypeLimit(redisContext *c, const char *want) {
    redisReply *r = itCmd(c, "CONFIG GET swarm.max-type-bytes");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || strcmp(r->element[1]->str, want) != 0)
        fail_msg("swarm.max-type-bytes is not %s", want);
    freeReplyObject(r);
}

/* The entries of stream key as one line, message ids and timestamps included. */
static char *streamRepr(redisContext *c, const char *key) {
    return itCmdRepr(c, "XRANGE %s - +", key);
}

/* The stream holds exactly one entry, whose type field is type. */
static void expectOneEntryOfType(redisContext *c, const char *key, const char *type) {
    redisReply *r = itCmd(c, "XRANGE %s - +", key);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1)
        fail_msg("XRANGE %s: expected one entry, got type %d with %zu elements", key, r->type,
                 r->type == REDIS_REPLY_ARRAY ? r->elements : 0);
    redisReply *fields = r->element[0]->element[1];
    const char *got = NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (strcmp(fields->element[i]->str, "type") == 0) got = fields->element[i + 1]->str;
    }
    if (got == NULL || strcmp(got, type) != 0)
        fail_msg("XRANGE %s: entry of type '%.40s...', expected '%.40s...' (%zu bytes)", key,
                 got ? got : "(none)", type, strlen(type));
    freeReplyObject(r);
}

/* The reproduction: a route over the default max-type-bytes on a master configured for
 * 1000, a second route after it, a publish through each. */
static void runReproduction(redisContext *c) {
    char *pattern = longName(".>"), *type = longName(".c");
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-type-bytes 1000"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD swarm:t %s stream:s", pattern), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD swarm:t x.> stream:s2"), 2);
    redisReply *r = itPublish(c, "swarm:t", type, "{}", NULL);
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("PUBLISH of the long type failed");
    freeReplyObject(r);
    r = itPublish(c, "swarm:t", "x.y", "{}", NULL);
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("PUBLISH x.y failed");
    freeReplyObject(r);
    expectOneEntryOfType(c, "s", type);
    expectOneEntryOfType(c, "s2", "x.y");
    free(pattern);
    free(type);
}

/* Everything the reproduction wrote on node a equals node b's: digests, routes, entries. */
static void expectSameState(redisContext *a, redisContext *b, const char *what) {
    char *type = longName(".c");
    const char *keys[] = {"swarm:t", "s", "s2"};
    for (size_t i = 0; i < 3; i++) expectDigestsEqual(a, b, keys[i], what);
    char *la = itCmdRepr(a, "SWARM.ROUTE LIST swarm:t");
    char *lb = itCmdRepr(b, "SWARM.ROUTE LIST swarm:t");
    if (strcmp(la, lb) != 0) fail_msg("%s: ROUTE LIST differs:\n%s\n%s", what, la, lb);
    for (size_t i = 1; i < 3; i++) {
        char *sa = streamRepr(a, keys[i]), *sb = streamRepr(b, keys[i]);
        if (strcmp(sa, sb) != 0) fail_msg("%s: stream %s differs:\n%s\n%s", what, keys[i], sa, sb);
        free(sa);
        free(sb);
    }
    expectOneEntryOfType(b, "s", type);
    expectOneEntryOfType(b, "s2", "x.y");
    free(la);
    free(lb);
    free(type);
}

/* ---- Tests ---- */

static void test_replica_on_default_config_applies_what_master_accepted(void **state) {
    (void)state;
    itServer master, replica;
    const char *mextra[] = {"--repl-ping-replica-period", "3600", "--repl-diskless-sync-delay", "0",
                            NULL};
    itStart(&master, NULL, mextra);
    redisContext *m = itConnectTimeout(&master, REPLY_TIMEOUT_MS), *r;
    itStartReplica(&replica, &r, &master, NULL);
    /* The replica must attach before the writes, so they reach it as commands rather than
     * in the full sync's RDB. */
    itWaitReplicaCaughtUp(m, r, 60000, "after the link came up");

    runReproduction(m);
    itWaitReplicaCaughtUp(m, r, 60000, "after the writes");
    expectTypeLimit(r, "256");
    expectSameState(m, r, "replica");

    /* The replica still applies its own limit to its clients (a read-only command). */
    char *type = longName(".c");
    itExpectError(itCmd(r, "SWARM.ROUTE MATCH swarm:t %s", type), "EVENTTYPE", "256");
    free(type);

    redisFree(r);
    redisFree(m);
    itDestroy(&replica);
    itDestroy(&master);
}

static void test_aof_replay_after_restart_without_the_config_set(void **state) {
    (void)state;
    itServer s;
    const char *extra[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    itStart(&s, NULL, extra);
    redisContext *c = itConnectTimeout(&s, REPLY_TIMEOUT_MS);
    runReproduction(c);
    char *before[3];
    const char *keys[] = {"swarm:t", "s", "s2"};
    for (size_t i = 0; i < 3; i++) before[i] = itDigest(c, keys[i]);
    char *s1 = streamRepr(c, "s"), *s2 = streamRepr(c, "s2");
    redisFree(c);

    /* The CONFIG SET was never written to a file: the restart runs on 256. */
    itRestart(&s);
    c = itConnectTimeout(&s, REPLY_TIMEOUT_MS);
    expectTypeLimit(c, "256");
    for (size_t i = 0; i < 3; i++) {
        char *d = itDigest(c, keys[i]);
        if (strcmp(d, before[i]) != 0)
            fail_msg("after AOF replay, %s differs: %s vs %s", keys[i], d, before[i]);
        free(d);
    }
    char *a1 = streamRepr(c, "s"), *a2 = streamRepr(c, "s2");
    if (strcmp(a1, s1) != 0 || strcmp(a2, s2) != 0) fail_msg("a stream differs after AOF replay");
    char *type = longName(".c");
    expectOneEntryOfType(c, "s", type);
    expectOneEntryOfType(c, "s2", "x.y");
    free(a1);
    free(a2);

    /* Rewritten without the RDB preamble (the table as SWARM.RESTORE), then replayed on 256
     * again. */
    itExpectOk(itCmd(c, "CONFIG SET aof-use-rdb-preamble no"));
    itAofRewrite(c, 60000);
    redisFree(c);
    itRestart(&s);
    c = itConnectTimeout(&s, REPLY_TIMEOUT_MS);
    for (size_t i = 0; i < 3; i++) {
        char *d = itDigest(c, keys[i]);
        if (strcmp(d, before[i]) != 0)
            fail_msg("after the rewritten AOF, %s differs: %s vs %s", keys[i], d, before[i]);
        free(d);
    }
    expectOneEntryOfType(c, "s", type);
    free(type);
    redisReply *r = itCmd(c, "SWARM.ROUTE MATCH swarm:t x.y");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) fail_msg("route 2 is gone");
    freeReplyObject(r);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "grep -ci swarm.restore %s/appendonlydir/*.base.aof >/dev/null",
             s.dir);
    if (system(cmd) != 0) fail_msg("the rewritten AOF holds no SWARM.RESTORE");
    for (size_t i = 0; i < 3; i++) free(before[i]);
    free(s1);
    free(s2);
    redisFree(c);
    itDestroy(&s);
}

/* A table rt written under max-type-bytes 512 (a 301-byte pattern) on a server set back to
 * 256 afterwards; *digest and *list get its DEBUG DIGEST-VALUE and ROUTE LIST. */
static redisContext *startWithLongPattern(itServer *s, char **digest, char **list) {
    itStart(s, NULL, NULL);
    redisContext *c = itConnectTimeout(s, REPLY_TIMEOUT_MS);
    char pattern[302];
    memset(pattern, 'p', 301);
    pattern[301] = '\0';
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-type-bytes 512"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD rt %s channel:long", pattern), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD rt x.> channel:x"), 2);
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-type-bytes 256"));
    /* A client is held to the limit in force. */
    itExpectError(itCmd(c, "SWARM.ROUTE ADD rt2 %s channel:long", pattern), "EVENTTYPE", "256");
    *digest = itDigest(c, "rt");
    *list = itCmdRepr(c, "SWARM.ROUTE LIST rt");
    return c;
}

static void expectDigest(redisContext *c, const char *key, const char *want, const char *what) {
    char *d = itDigest(c, key);
    if (strcmp(d, want) != 0) fail_msg("%s changed %s: %s vs %s", what, key, d, want);
    free(d);
}

static void test_debug_reload_keeps_a_table_over_the_type_limit(void **state) {
    (void)state;
    itServer s;
    char *before, *list;
    redisContext *c = startWithLongPattern(&s, &before, &list);
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    itExpectInt(itCmd(c, "DBSIZE"), 1);
    expectDigest(c, "rt", before, "DEBUG RELOAD");
    /* DUMP/RESTORE and COPY decode the same way. */
    redisReply *dump = itCmd(c, "DUMP rt");
    if (dump->type != REDIS_REPLY_STRING) fail_msg("DUMP rt failed");
    itExpectOk(itCmd(c, "RESTORE rt-restored 0 %b", dump->str, dump->len));
    freeReplyObject(dump);
    itExpectInt(itCmd(c, "COPY rt rt-copy"), 1);
    expectDigest(c, "rt-restored", before, "DUMP/RESTORE");
    expectDigest(c, "rt-copy", before, "COPY");
    free(list);
    free(before);
    redisFree(c);
    itDestroy(&s);
}

static void test_restart_loads_a_table_over_the_type_limit(void **state) {
    (void)state;
    itServer s;
    char *before, *list;
    redisContext *c = startWithLongPattern(&s, &before, &list);
    itExpectOk(itCmd(c, "SAVE"));
    redisFree(c);
    itRestart(&s); /* fails the test when the server does not start */
    c = itConnectTimeout(&s, REPLY_TIMEOUT_MS);
    itExpectInt(itCmd(c, "DBSIZE"), 1);
    expectDigest(c, "rt", before, "SAVE and restart");
    char *after = itCmdRepr(c, "SWARM.ROUTE LIST rt");
    if (strcmp(after, list) != 0) fail_msg("restart changed the routes:\n%s\n%s", list, after);
    free(after);
    free(list);
    free(before);
    redisFree(c);
    itDestroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_on_default_config_applies_what_master_accepted),
        cmocka_unit_test(test_aof_replay_after_restart_without_the_config_set),
        cmocka_unit_test(test_debug_reload_keeps_a_table_over_the_type_limit),
        cmocka_unit_test(test_restart_loads_a_table_over_the_type_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
