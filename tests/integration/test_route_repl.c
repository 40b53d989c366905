/* test_route_repl.c -- swarm-rtb values on a replica: the initial full
 * sync carries existing tables, every SWARM.ROUTE write reaches the replica with the same
 * effect (same DEBUG DIGEST-VALUE, LIST, RULES, STATS, MATCH and INFO swarm counters),
 * commands that change nothing are not propagated, and the replica refuses writes but
 * serves reads.
 *
 * The master pings its replica once an hour (repl-ping-replica-period), so within a test
 * master_repl_offset moves only for commands we send. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REPLY_TIMEOUT_MS 10000

static itServer master, replica;
static redisContext *m, *r;

/* ---- Helpers ---- */

/* Everything observable of the table at key, as one string (malloc'ed). */
static char *tableState(redisContext *ctx, const char *key) {
    static const char *types[] = {"task.done", "task.secret", "agent.x.up", "other.x", "ev.a"};
    char *acc = NULL;
    itAppendReply(&acc, itCmd(ctx, "EXISTS %s", key));
    itAppendReply(&acc, itCmd(ctx, "TYPE %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE LIST %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE RULES %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE STATS %s", key));
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE MATCH %s %s", key, types[i]));
        itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE MATCH %s %s PRIORITY 9", key, types[i]));
    }
    redisReply *e = itCmd(ctx, "EXISTS %s", key);
    int exists = e->integer == 1;
    freeReplyObject(e);
    if (exists) itAppendText(&acc, itDigest(ctx, key));
    return acc;
}

/* Waits until the replica has acknowledged everything written so far. */
static void waitReplica(void) {
    itWaitReplicas(m, 1, 5000);
}

static void expectSameOnBoth(const char *key) {
    char *a = tableState(m, key), *b = tableState(r, key);
    if (strcmp(a, b) != 0)
        fail_msg("'%s' differs on the replica:\n--- master\n%s\n--- replica\n%s", key, a, b);
    free(a);
    free(b);
}

static void expectSameCounters(void) {
    char *a = itTableCounters(m), *b = itTableCounters(r);
    if (strcmp(a, b) != 0) fail_msg("INFO swarm: master %s, replica %s", a, b);
    free(a);
    free(b);
}

static long long replOffset(void) {
    char buf[32];
    return atoll(itInfo(m, "replication", "master_repl_offset", buf, sizeof(buf)));
}

static void populate(redisContext *ctx, const char *key) {
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s task.* channel:tasks", key), 1);
    itExpectInt(
        itCmd(ctx, "SWARM.ROUTE ADD %s %s stream:agents REGEX PRIORITY 2 9", key, "agent\\..+"), 2);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ALLOW %s %s", key, "(task|agent|ev)\\..*"), 3);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE DENY %s %s", key, "task\\.secret"), 4);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s ev.> channel:ev PRIORITY 8 9", key), 5);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s tmp.x channel:tmp", key), 6);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE DEL %s 6 99", key), 1);
    itExpectOk(itCmd(ctx, "SWARM.ROUTE DEFAULT %s stream:dead", key));
}

/* ---- Fixtures ---- */

static int groupSetup(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-ping-replica-period", "3600", "--repl-diskless-sync-delay", "0",
                            NULL};
    itStart(&master, NULL, mextra);
    m = itConnectTimeout(&master, REPLY_TIMEOUT_MS);
    /* A table that exists before the replica attaches travels in the full sync's RDB. */
    populate(m, "pre");
    itStartReplica(&replica, &r, &master, NULL);
    return 0;
}

static int groupTeardown(void **state) {
    (void)state;
    if (r) redisFree(r);
    if (m) redisFree(m);
    itDestroy(&replica);
    itDestroy(&master);
    return 0;
}

/* ---- Tests ---- */

static void test_full_sync_carries_existing_tables(void **state) {
    (void)state;
    waitReplica();
    expectSameOnBoth("pre");
    expectSameCounters();
    itExpectStr(itCmd(r, "TYPE pre"), "swarm-rtb");
}

static void test_writes_replicate_with_identical_digests(void **state) {
    (void)state;
    populate(m, "t");
    /* Identical adds, a key whose last route goes, COPY, RENAME and SWARM.RESTORE. */
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ALLOW t %s", "(task|agent|ev)\\..*"), 3);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD gone a.b channel:x"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE DEL gone 1"), 1);
    itExpectInt(itCmd(m, "COPY t t2"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD t2 agent.* channel:copy"), 7);
    itExpectOk(itCmd(m, "RENAME t2 t3"));
    itExpectInt(itCmd(m, "SWARM.ROUTE DEL t3 3"), 1);
    itExpectOk(itCmd(m, "CONFIG SET rdbcompression no"));
    redisReply *d = itCmd(m, "DUMP t");
    itExpectOk(itCmd(m, "CONFIG SET rdbcompression yes"));
    itExpectOk(itCmd(m, "RESTORE t4 0 %b", d->str, d->len));
    freeReplyObject(d);
    waitReplica();
    const char *keys[] = {"t", "gone", "t2", "t3", "t4", "pre"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) expectSameOnBoth(keys[i]);
    itExpectInt(itCmd(r, "EXISTS gone"), 0);
    expectSameCounters();
    /* Ids continue from the same clock on both: the next id on the master is 7. */
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD t late.x channel:late"), 7);
    waitReplica();
    expectSameOnBoth("t");
}

static void test_no_op_and_rejected_writes_are_not_propagated(void **state) {
    (void)state;
    populate(m, "n");
    waitReplica();
    long long before = replOffset();
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD n task.* channel:tasks"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ALLOW n %s", "(task|agent|ev)\\..*"), 3);
    itExpectInt(itCmd(m, "SWARM.ROUTE DENY n %s", "task\\.secret"), 4);
    itExpectInt(itCmd(m, "SWARM.ROUTE DEL n 6 98 99"), 0);
    itExpectInt(itCmd(m, "SWARM.ROUTE DEL nokey 1"), 0);
    itExpectOk(itCmd(m, "SWARM.ROUTE DEFAULT nokey NONE"));
    itExpectError(itCmd(m, "SWARM.ROUTE ADD n a.. channel:x"), "EVENTTYPE", NULL);
    itExpectError(itCmd(m, "SWARM.ROUTE ADD n a** channel:x REGEX"), "ERR", "invalid regex");
    itExpectError(itCmd(m, "SWARM.ROUTE ADD n a.b bad"), "ERR", "invalid target");
    itExpectError(itCmd(m, "SWARM.ROUTE ALLOW n ("), "ERR", "invalid regex");
    itExpectError(itCmd(m, "SWARM.ROUTE DEFAULT n bad"), "ERR", "invalid target");
    itExpectError(itCmd(m, "SWARM.ROUTE DEL n x"), "ERR", "invalid id");
    itExpectError(itCmd(m, "SWARM.ROUTE MATCH n task.secret"), "DENIED", "rule 4");
    itExpectError(itCmd(m, "SWARM.RESTORE n swarm-rtb garbage REPLACE"), "ERR",
                  "SWARM.RESTORE is internal: only the master link and AOF loading may run it");
    redisReply *x = itCmd(m, "SWARM.ROUTE LIST n");
    freeReplyObject(x);
    long long after = replOffset();
    if (after != before)
        fail_msg("commands that changed nothing moved master_repl_offset by %lld bytes",
                 after - before);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD n new.x channel:x"), 7);
    if (replOffset() == after) fail_msg("a real ADD was not propagated");
    waitReplica();
    expectSameOnBoth("n");
}

static void test_replica_refuses_writes_and_serves_reads(void **state) {
    (void)state;
    populate(m, "ro");
    waitReplica();
    const char *readonlyMsg = "You can't write against a read only replica";
    itExpectError(itCmd(r, "SWARM.ROUTE ADD ro x.y channel:x"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.ROUTE ADD fresh x.y channel:x"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.ROUTE DEL ro 1"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.ROUTE ALLOW ro .*"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.ROUTE DENY ro .*"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.ROUTE DEFAULT ro NONE"), "READONLY", readonlyMsg);
    itExpectError(itCmd(r, "SWARM.RESTORE ro swarm-rtb x REPLACE"), "READONLY", readonlyMsg);
    itExpectInt(itCmd(r, "EXISTS fresh"), 0);

    redisReply *rep = itCmd(r, "SWARM.ROUTE MATCH ro task.done");
    char *got = itReplyRepr(rep);
    freeReplyObject(rep);
    if (strcmp(got, "[\"channel:tasks\"]") != 0) fail_msg("MATCH on the replica: %s", got);
    free(got);
    rep = itCmd(r, "SWARM.ROUTE MATCH ro ev.a PRIORITY 9");
    got = itReplyRepr(rep);
    freeReplyObject(rep);
    if (strcmp(got, "[\"channel:ev\"]") != 0) fail_msg("MATCH PRIORITY 9 on the replica: %s", got);
    free(got);
    itExpectError(itCmd(r, "SWARM.ROUTE MATCH ro task.secret"), "DENIED", "rule 4");
    itExpectError(itCmd(r, "SWARM.ROUTE MATCH ro x..y"), "EVENTTYPE", NULL);
    rep = itCmd(r, "SWARM.ROUTE MATCH missing task.done");
    got = itReplyRepr(rep);
    freeReplyObject(rep);
    if (strcmp(got, "[]") != 0) fail_msg("MATCH of a missing key on the replica: %s", got);
    free(got);
    expectSameOnBoth("ro");
}

static void test_flushall_and_del_reach_the_replica(void **state) {
    (void)state;
    populate(m, "f");
    waitReplica();
    itExpectInt(itCmd(m, "DEL f"), 1);
    waitReplica();
    itExpectInt(itCmd(r, "EXISTS f"), 0);
    expectSameCounters();
    itExpectOk(itCmd(m, "FLUSHALL"));
    waitReplica();
    /* Valkey may free the flushed keys in the background: the gauges reach 0 when it is done. */
    itWaitInfo(r, "swarm", "swarm_tables", "0", 5000);
    char *cs = itTableCounters(r);
    if (strcmp(cs, "tables=0 routes=0 rules=0") != 0) fail_msg("replica after FLUSHALL: %s", cs);
    free(cs);
    expectSameCounters();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_sync_carries_existing_tables),
        cmocka_unit_test(test_writes_replicate_with_identical_digests),
        cmocka_unit_test(test_no_op_and_rejected_writes_are_not_propagated),
        cmocka_unit_test(test_replica_refuses_writes_and_serves_reads),
        cmocka_unit_test(test_flushall_and_del_reach_the_replica),
    };
    return cmocka_run_group_tests(tests, groupSetup, groupTeardown);
}
