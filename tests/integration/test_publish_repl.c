/* test_publish_repl.c -- SWARM.PUBLISH under replication: a replica holds
 * the same stream entries, ids, counters and breakers as its master, its pub/sub
 * subscribers receive the same envelopes, and a promoted replica keeps issuing increasing
 * ids. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static itServer master, replica;
static redisContext *m, *r;

static int setup(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServerSetup(&master, &m, NULL, mextra);
    itStartReplica(&replica, &r, &master, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    itServerTeardown(&replica, &r);
    return itServerTeardown(&master, &m);
}

/* ---- Helpers ---- */

static redisReply *pubArgs(redisContext *ctx, const char *key, const char *type,
                           const char *payload, const char *opt1, const char *val1,
                           const char *opt2, const char *val2) {
    const char *argv[8] = {"SWARM.PUBLISH", key, type, payload, opt1, val1, opt2, val2};
    size_t lens[8];
    int n = opt1 ? (opt2 ? 8 : 6) : 4;
    for (int i = 0; i < n; i++) lens[i] = strlen(argv[i]);
    return itCmdArgv(ctx, n, argv, lens);
}

/* The same reply on master and replica. */
static void expectSame(redisContext *a, redisContext *b, const char *fmt, const char *key) {
    char *x = itCmdRepr(a, fmt, key);
    char *y = itCmdRepr(b, fmt, key);
    if (strcmp(x, y) != 0) fail_msg("%s %s differs:\nmaster:  %s\nreplica: %s", fmt, key, x, y);
    free(x);
    free(y);
}

static void expectSameDigest(redisContext *a, redisContext *b, const char *key) {
    char *x = itCmdRepr(a, "DEBUG DIGEST-VALUE %s", key);
    char *y = itCmdRepr(b, "DEBUG DIGEST-VALUE %s", key);
    if (strstr(x, "0000000000000000000000000000000000000000"))
        fail_msg("key %s is missing on the master", key);
    if (strcmp(x, y) != 0) fail_msg("digest of %s differs: %s vs %s", key, x, y);
    free(x);
    free(y);
}

static void lastId(redisContext *ctx, const char *key, char *buf) {
    redisReply *x = itCmd(ctx, "SWARM.ROUTE STATS %s", key);
    redisReply *f = itField(x, "last-id");
    if (f == NULL || f->str == NULL) fail_msg("no last-id in STATS %s", key);
    snprintf(buf, 64, "%s", f->str);
    freeReplyObject(x);
}

/* Whether route 1 of rb shows half-open on the server arg is connected to. */
static int route1HalfOpen(void *arg) {
    redisReply *x = itCmd(arg, "SWARM.ROUTE LIST rb");
    redisReply *b =
        x->type == REDIS_REPLY_ARRAY && x->elements ? itField(x->element[0], "breaker") : NULL;
    int half = b && b->str && strcmp(b->str, "half-open") == 0;
    freeReplyObject(x);
    return half;
}

static int idLess(const char *a, const char *b) {
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    if (sscanf(a, "%llu-%llu", &am, &as) != 2 || sscanf(b, "%llu-%llu", &bm, &bs) != 2)
        fail_msg("bad ids '%s' '%s'", a, b);
    return am < bm || (am == bm && as < bs);
}

/* ---- Tests ---- */

static void test_replica_subscribers_get_identical_envelopes(void **state) {
    (void)state;
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD rep ev.* channel:rep:ch"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD rep ev.* stream:rep:s"), 2);
    itWaitReplicas(m, 1, 5000);
    redisContext *subM = itSubscribe(&master, "SUBSCRIBE", "rep:ch", 3000);
    redisContext *subR = itSubscribe(&replica, "SUBSCRIBE", "rep:ch", 3000);
    struct {
        const char *type, *payload, *o1, *v1, *o2, *v2;
    } msgs[] = {
        {"ev.a", "{}", NULL, NULL, NULL, NULL},
        {"ev.b", " [1, \"\xe2\x98\x83\", {\"k\": null}] ", "SENDER", "agent \"x\"", NULL, NULL},
        {"ev.c", "\"s\"", "PRIORITY", "9", "SENDER", "me"},
        {"ev.d", "3.25e-2", "PRIORITY", "1", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        redisReply *x = pubArgs(m, "rep", msgs[i].type, msgs[i].payload, msgs[i].o1, msgs[i].v1,
                                msgs[i].o2, msgs[i].v2);
        assert_int_equal(x->type, REDIS_REPLY_ARRAY);
        /* Only the master's subscriber counts: receivers are what PUBLISH returned there. */
        assert_int_equal(x->element[2]->integer, 1);
        char id[64];
        snprintf(id, sizeof(id), "%s", x->element[0]->str);
        freeReplyObject(x);
        size_t lm, lr;
        char *em = itNextMessage(subM, "rep:ch", &lm);
        char *er = itNextMessage(subR, "rep:ch", &lr);
        assert_int_equal(lm, lr);
        assert_memory_equal(em, er, lm);
        char head[128];
        snprintf(head, sizeof(head), "{\"id\":\"%s\",\"swarm\":\"rep\",\"type\":\"%s\",", id,
                 msgs[i].type);
        assert_true(strncmp(em, head, strlen(head)) == 0);
        free(em);
        free(er);
    }

    /* From a transaction and a script too; a rejected publish sends nothing. */
    itExpectOk(itCmd(m, "MULTI"));
    itExpectStr(itCmd(m, "SWARM.PUBLISH rep ev.m {\"n\":1}"), "QUEUED");
    itExpectStr(itCmd(m, "SWARM.PUBLISH rep ev..bad {}"), "QUEUED");
    itExpectStr(itCmd(m, "SWARM.PUBLISH rep ev.m {\"n\":2}"), "QUEUED");
    freeReplyObject(itCmd(m, "EXEC"));
    freeReplyObject(itCmd(m, "EVAL %s 1 rep ev.l {\"n\":3}",
                          "return redis.call('SWARM.PUBLISH', KEYS[1], ARGV[1], ARGV[2])"));
    for (int i = 0; i < 3; i++) {
        size_t lm, lr;
        char *em = itNextMessage(subM, "rep:ch", &lm);
        char *er = itNextMessage(subR, "rep:ch", &lr);
        assert_int_equal(lm, lr);
        assert_memory_equal(em, er, lm);
        char want[16];
        snprintf(want, sizeof(want), "{\"n\":%d}}", i + 1);
        assert_string_equal(em + lm - strlen(want), want);
        free(em);
        free(er);
    }
    redisFree(subM);
    redisFree(subR);
}

static void test_replica_holds_identical_table_and_stream(void **state) {
    (void)state;
    itWaitReplicas(m, 1, 5000);
    expectSameDigest(m, r, "rep");
    expectSameDigest(m, r, "rep:s");
    expectSame(m, r, "XRANGE %s - +", "rep:s");
    expectSame(m, r, "SWARM.ROUTE LIST %s", "rep");
    expectSame(m, r, "SWARM.ROUTE STATS %s", "rep");
    itExpectInt(itCmd(r, "XLEN rep:s"), 7);
}

static void test_breakers_counters_and_rejections_replicate(void **state) {
    (void)state;
    /* Only the master evaluates breakers: the replica keeps its default threshold. ROUTE LIST
     * shows an open breaker whose cooldown has passed as half-open, by the local clock and
     * the cooldown read at that moment: both keep the default 30 s while breakers must stay
     * open, and a 1 ms cooldown lets them cool down without racing the clock. */
    itExpectOk(itCmd(m, "CONFIG SET swarm.breaker-threshold 2"));
    itExpectOk(itCmd(m, "SET rb:str x"));
    itExpectOk(itCmd(m, "SET rb:str2 x"));
    /* A failing stream, not a channel without subscribers: with a replica attached, which
     * publishes every envelope to its own subscribers, a channel never counts as missed. */
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD rb a.* stream:rb:str2"), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD rb a.* stream:rb:s PRIORITY 5 9"), 2);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD rb b.* stream:rb:str"), 3);
    itExpectInt(itCmd(m, "SWARM.ROUTE DENY rb deny\\..*"), 4);
    itExpectInt(itCmd(m, "SWARM.ROUTE ALLOW rb (a|b|c|deny)\\..*"), 5);
    itExpectOk(itCmd(m, "SWARM.ROUTE DEFAULT rb stream:rb:dead"));

    const char *seq[][4] = {
        {"a.x", "{}", NULL, NULL},       /* route 1 fails, stream ok */
        {"a.x", "{}", NULL, NULL},       /* route 1's breaker opens */
        {"a.x", "{}", NULL, NULL},       /* shed */
        {"a.x", "{}", "PRIORITY", "9"},  /* attempted while open */
        {"a.x", "{}", "PRIORITY", "1"},  /* shed, stream out of range: dead letter */
        {"b.x", "{}", NULL, NULL},       /* WRONGTYPE stream: failed, dead letter */
        {"b.x", "{}", NULL, NULL},       /* its breaker opens */
        {"b.x", "{}", NULL, NULL},       /* shed */
        {"c.x", "{}", NULL, NULL},       /* unrouted: dead letter */
        {"deny.x", "{}", NULL, NULL},    /* DENIED by rule 4 */
        {"other.x", "{}", NULL, NULL},   /* DENIED: no ALLOW rule */
        {"a.x", "{", NULL, NULL},        /* PAYLOAD */
        {"a..x", "{}", NULL, NULL},      /* EVENTTYPE */
        {"a.x", "{}", "SENDER", ""},     /* ERR */
        {"a.x", "{}", "PRIORITY", "10"}, /* ERR */
    };
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        redisReply *x = pubArgs(m, "rb", seq[i][0], seq[i][1], seq[i][2], seq[i][3], NULL, NULL);
        freeReplyObject(x);
    }
    /* A probe after the cooldown that fails reopens route 1. */
    itExpectOk(itCmd(m, "CONFIG SET swarm.breaker-cooldown-ms 1"));
    if (!itPoll(route1HalfOpen, m, 5000)) fail_msg("route 1 never cooled down on the master");
    freeReplyObject(pubArgs(m, "rb", "a.x", "{}", NULL, NULL, NULL, NULL));
    itExpectOk(itCmd(m, "CONFIG SET swarm.breaker-cooldown-ms 30000"));
    itWaitReplicas(m, 1, 5000);

    redisReply *x = itCmd(m, "SWARM.ROUTE STATS rb");
    assert_int_equal(itField(x, "rejected")->integer, 6);
    assert_int_equal(itField(x, "shed")->integer, 3);
    assert_int_equal(itField(x, "published")->integer, 10);
    freeReplyObject(x);
    x = itCmd(r, "SWARM.ROUTE LIST rb");
    assert_string_equal(itField(x->element[0], "breaker")->str, "open"); /* the probe reopened it */
    assert_string_equal(itField(x->element[2], "breaker")->str, "open");
    freeReplyObject(x);
    expectSame(m, r, "SWARM.ROUTE LIST %s", "rb");
    /* The replica holds the breakers' open times: with 1 ms both show half-open there too. */
    itExpectOk(itCmd(r, "CONFIG SET swarm.breaker-cooldown-ms 1"));
    if (!itPoll(route1HalfOpen, r, 5000)) fail_msg("route 1 never cooled down on the replica");
    x = itCmd(r, "SWARM.ROUTE LIST rb");
    assert_string_equal(itField(x->element[2], "breaker")->str, "half-open");
    freeReplyObject(x);
    expectSame(m, r, "SWARM.ROUTE STATS %s", "rb");
    expectSame(m, r, "SWARM.ROUTE RULES %s", "rb");
    expectSame(m, r, "XRANGE %s - +", "rb:s");
    expectSame(m, r, "XRANGE %s - +", "rb:dead");
    expectSameDigest(m, r, "rb");
    expectSameDigest(m, r, "rb:s");
    expectSameDigest(m, r, "rb:dead");
    itExpectOk(itCmd(m, "CONFIG SET swarm.breaker-threshold 5"));
    itExpectOk(itCmd(m, "CONFIG SET swarm.breaker-cooldown-ms 30000"));
    itExpectOk(itCmd(r, "CONFIG SET swarm.breaker-cooldown-ms 30000"));
}

static void test_late_replica_full_sync_is_identical(void **state) {
    (void)state;
    itServer late;
    redisContext *l;
    itStartReplica(&late, &l, &master, NULL);
    itWaitReplicas(m, 2, 5000);
    const char *keys[] = {"rep", "rep:s", "rb", "rb:s", "rb:dead"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) expectSameDigest(m, l, keys[i]);
    expectSame(m, l, "SWARM.ROUTE LIST %s", "rb");
    /* The synced replica keeps following the master's publishes. */
    freeReplyObject(pubArgs(m, "rb", "a.x", "{}", "PRIORITY", "9", NULL, NULL));
    itWaitReplicas(m, 2, 5000);
    expectSameDigest(m, l, "rb");
    expectSame(m, l, "SWARM.ROUTE LIST %s", "rb");
    redisFree(l);
    itDestroy(&late);
}

static void test_promoted_replica_issues_greater_ids(void **state) {
    (void)state;
    char last[64], onReplica[64];
    for (int i = 0; i < 50; i++)
        freeReplyObject(pubArgs(m, "rep", "ev.z", "{}", NULL, NULL, NULL, NULL));
    lastId(m, "rep", last);
    itWaitReplicas(m, 1, 5000);
    lastId(r, "rep", onReplica);
    assert_string_equal(onReplica, last);
    long long xlen = itInteger(itCmd(r, "XLEN rep:s"));

    itExpectOk(itCmd(r, "REPLICAOF NO ONE"));
    redisReply *x = pubArgs(r, "rep", "ev.z", "{}", NULL, NULL, NULL, NULL);
    assert_int_equal(x->type, REDIS_REPLY_ARRAY);
    if (!idLess(last, x->element[0]->str))
        fail_msg("promoted replica issued %s, not above the master's last %s", x->element[0]->str,
                 last);
    assert_int_equal(x->element[1]->elements, 1);
    assert_string_equal(x->element[1]->element[0]->str, "stream:rep:s");
    freeReplyObject(x);
    itExpectInt(itCmd(r, "XLEN rep:s"), xlen + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_subscribers_get_identical_envelopes),
        cmocka_unit_test(test_replica_holds_identical_table_and_stream),
        cmocka_unit_test(test_breakers_counters_and_rejections_replicate),
        cmocka_unit_test(test_late_replica_full_sync_is_identical),
        cmocka_unit_test(test_promoted_replica_issues_greater_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
