/* test_msgid.c -- idempotent publishes and reply targets: SWARM.PUBLISH ... MSGID mid answers
 * a remembered MSGID with the original message id and delivers nothing; the window is table
 * state (DEBUG RELOAD, DUMP/RESTORE, COPY, AOF rewrite and restart, a replica promoted with
 * REPLICAOF NO ONE); REPLYTO and MSGID ride in the envelope and the stream entry; INFO
 * swarm's duplicates counts each duplicate once. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static itServer srv;
static redisContext *c;

/* Each test's setup: the fixture's reset (an empty keyspace, the dedup configs back at their
 * start values). */
static int flush(void **state) {
    return itFixtureReset(state);
}

/* ---- Helpers ---- */

/* Checks a publish reply [id, delivered, receivers, lost, duplicate]: copies the id into
 * id (64 bytes), returns the number of delivered targets, and checks duplicate. */
static long long expectPub(redisReply *r, int duplicate, char *id) {
    if (r->type == REDIS_REPLY_ERROR) fail_msg("publish failed: %s", r->str);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    assert_int_equal(r->element[4]->type, REDIS_REPLY_INTEGER);
    if (r->element[4]->integer != duplicate)
        fail_msg("duplicate is %lld, expected %d", r->element[4]->integer, duplicate);
    if (id) snprintf(id, 64, "%s", r->element[0]->str);
    long long n = (long long)r->element[1]->elements;
    if (duplicate) {
        assert_int_equal(n, 0);
        assert_int_equal(r->element[2]->integer, 0);
        assert_int_equal(r->element[3]->elements, 0);
    }
    freeReplyObject(r);
    return n;
}

static long long xlen(redisContext *ctx, const char *key) {
    return itInteger(itCmd(ctx, "XLEN %s", key));
}

/* ---- Tests ---- */

static void test_duplicate_answers_the_original_id_and_delivers_nothing(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD d a.> stream:d:s"), 1);
    char first[64], again[64], other[64];
    assert_int_equal(
        expectPub(itPublish(c, "d", "a.b", "{\"n\":1}", "MSGID", "m-1", NULL), 0, first), 1);
    /* Another payload, priority or sender does not matter: the MSGID decides. */
    expectPub(itPublish(c, "d", "a.c", "{\"n\":2}", "MSGID", "m-1", "PRIORITY", "9", NULL), 1,
              again);
    assert_string_equal(again, first);
    assert_int_equal(xlen(c, "d:s"), 1);
    assert_int_equal(itStatField(c, "d", "published"), 1);
    assert_int_equal(itStatField(c, "d", "delivered"), 1);
    assert_int_equal(itStatField(c, "d", "rejected"), 0);
    assert_int_equal(itStatField(c, "d", "duplicates"), 1);
    assert_int_equal(itStatField(c, "d", "msgids"), 1);
    /* Another MSGID, and no MSGID at all, are published as usual. */
    expectPub(itPublish(c, "d", "a.b", "{}", "MSGID", "m-2", NULL), 0, other);
    assert_string_not_equal(other, first);
    expectPub(itPublish(c, "d", "a.b", "{}", NULL), 0, NULL);
    expectPub(itPublish(c, "d", "a.b", "{}", NULL), 0, NULL);
    assert_int_equal(xlen(c, "d:s"), 4);
    assert_int_equal(itStatField(c, "d", "msgids"), 2);
    /* MSGIDs are per table. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD d2 a.> stream:d:s"), 1);
    expectPub(itPublish(c, "d2", "a.b", "{}", "MSGID", "m-1", NULL), 0, NULL);
    /* A rejected publish with a MSGID is not remembered. */
    itExpectError(itPublish(c, "d", "a..b", "{}", "MSGID", "m-3", NULL), "EVENTTYPE", NULL);
    expectPub(itPublish(c, "d", "a.b", "{}", "MSGID", "m-3", NULL), 0, NULL);
}

static void test_envelope_and_entry_carry_msgid_and_reply_to(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD e a.> channel:e:ch"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD e a.> stream:e:s"), 2);
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "e:ch", 5000);
    char id[64];
    expectPub(itPublish(c, "e", "a.b", "{\"q\":1}", "SENDER", "agent-1", "MSGID", "q-\"1",
                        "REPLYTO", "stream:inbox:agent-1", NULL),
              0, id);
    char *env = itNextMessage(sub, "e:ch", NULL);
    redisReply *x = itCmd(c, "XRANGE e:s - +");
    assert_int_equal(x->elements, 1);
    redisReply *f = x->element[0]->element[1];
    const char *names[] = {"id",      "swarm",  "type",  "priority", "ts",
                           "payload", "sender", "msgid", "reply_to"};
    assert_int_equal(f->elements, 18);
    for (size_t i = 0; i < 9; i++) assert_string_equal(f->element[2 * i]->str, names[i]);
    assert_string_equal(f->element[1]->str, id);
    assert_string_equal(f->element[15]->str, "q-\"1");
    assert_string_equal(f->element[17]->str, "stream:inbox:agent-1");
    char want[512];
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"swarm\":\"e\",\"type\":\"a.b\",\"priority\":5,\"ts\":%s,"
             "\"sender\":\"agent-1\",\"msgid\":\"q-\\\"1\",\"reply_to\":\"stream:inbox:agent-1\","
             "\"payload\":{\"q\":1}}",
             id, f->element[9]->str);
    assert_string_equal(env, want);
    freeReplyObject(x);
    free(env);
    /* REPLYTO alone: no msgid in either. */
    expectPub(itPublish(c, "e", "a.b", "1", "REPLYTO", "channel:back", NULL), 0, id);
    env = itNextMessage(sub, "e:ch", NULL);
    assert_null(strstr(env, "\"msgid\""));
    assert_non_null(strstr(env, ",\"reply_to\":\"channel:back\",\"payload\":1}"));
    free(env);
    redisFree(sub);
}

static void test_msgid_and_replyto_errors(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD x a.> channel:x"), 1);
    char big[130];
    memset(big, 'm', 129);
    big[129] = '\0';
    itExpectError(itPublish(c, "x", "a.b", "{}", "MSGID", big, NULL), "ERR",
                  "MSGID must be 1 to 128 bytes");
    itExpectError(itPublish(c, "x", "a.b", "{}", "MSGID", "", NULL), "ERR",
                  "MSGID must be 1 to 128 bytes");
    itExpectError(itPublish(c, "x", "a.b", "{}", "MSGID", "a\tb", NULL), "ERR",
                  "MSGID has a control character at byte 1");
    itExpectError(itPublish(c, "x", "a.b", "{}", "MSGID", "ok\xff", NULL), "ERR",
                  "MSGID is not valid UTF-8 at byte 2");
    itExpectError(itPublish(c, "x", "a.b", "{}", "REPLYTO", "inbox", NULL), "ERR",
                  "invalid REPLYTO target 'inbox', expected channel:<name> or stream:<key>");
    itExpectError(itPublish(c, "x", "a.b", "{}", "REPLYTO", "channel:", NULL), "ERR",
                  "invalid REPLYTO target 'channel:'");
    itExpectError(itPublish(c, "x", "a.b", "{}", "MSGID", NULL), "ERR", "syntax error");
    /* Refused publishes count as rejected and remember nothing. */
    assert_int_equal(itStatField(c, "x", "rejected"), 7);
    assert_int_equal(itStatField(c, "x", "msgids"), 0);
}

static void test_window_off_and_bound(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD w a.> stream:w:s"), 1);
    itExpectOk(itCmd(c, "CONFIG SET swarm.dedup-window-ms 0"));
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "same", NULL), 0, NULL);
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "same", NULL), 0, NULL);
    assert_int_equal(xlen(c, "w:s"), 2);
    assert_int_equal(itStatField(c, "w", "msgids"), 0);
    /* At most dedup-max per table: the oldest is forgotten first. */
    itExpectOk(itCmd(c, "CONFIG SET swarm.dedup-window-ms 120000"));
    itExpectOk(itCmd(c, "CONFIG SET swarm.dedup-max 2"));
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "m1", NULL), 0, NULL);
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "m2", NULL), 0, NULL);
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "m3", NULL), 0, NULL);
    assert_int_equal(itStatField(c, "w", "msgids"), 2);
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "m3", NULL), 1, NULL);
    expectPub(itPublish(c, "w", "a.b", "{}", "MSGID", "m1", NULL), 0, NULL); /* forgotten */
    assert_int_equal(xlen(c, "w:s"), 6);
    itExpectError(itCmd(c, "CONFIG SET swarm.dedup-max 0"), "ERR", NULL);
}

/* A short window: the same MSGID is accepted again once it expired (polled, no sleep). */
static void test_expired_msgid_is_accepted_again(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD ex a.> stream:ex:s"), 1);
    itExpectOk(itCmd(c, "CONFIG SET swarm.dedup-window-ms 50"));
    char first[64], later[64];
    expectPub(itPublish(c, "ex", "a.b", "{}", "MSGID", "short", NULL), 0, first);
    int accepted = 0;
    for (int i = 0; i < 100000 && !accepted; i++) {
        redisReply *r = itPublish(c, "ex", "a.b", "{}", "MSGID", "short", NULL);
        accepted = r->element[4]->integer == 0;
        snprintf(later, sizeof(later), "%s", r->element[0]->str);
        freeReplyObject(r);
    }
    if (!accepted) fail_msg("the MSGID never expired");
    assert_string_not_equal(later, first);
    assert_int_equal(xlen(c, "ex:s"), 2);
}

/* The window is part of the value: it survives DEBUG RELOAD, DUMP/RESTORE and COPY. */
static void test_window_persists(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD p a.> stream:p:s"), 1);
    char id[64], dup[64];
    expectPub(itPublish(c, "p", "a.b", "{}", "MSGID", "keep-me", NULL), 0, id);
    expectPub(itPublish(c, "p", "a.b", "{}", "MSGID", "keep-me", NULL), 1, NULL);
    char *before = itDigest(c, "p");
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    char *after = itDigest(c, "p");
    assert_string_equal(after, before);
    expectPub(itPublish(c, "p", "a.b", "{}", "MSGID", "keep-me", NULL), 1, dup);
    assert_string_equal(dup, id);
    assert_int_equal(itStatField(c, "p", "duplicates"), 2);
    redisReply *d = itCmd(c, "DUMP p");
    assert_int_equal(d->type, REDIS_REPLY_STRING);
    itExpectOk(itCmd(c, "RESTORE p2 0 %b", d->str, d->len));
    freeReplyObject(d);
    expectPub(itPublish(c, "p2", "a.b", "{}", "MSGID", "keep-me", NULL), 1, dup);
    assert_string_equal(dup, id);
    itExpectInt(itCmd(c, "COPY p p3"), 1);
    expectPub(itPublish(c, "p3", "a.b", "{}", "MSGID", "keep-me", NULL), 1, dup);
    assert_string_equal(dup, id);
    /* The copies are independent windows. */
    expectPub(itPublish(c, "p3", "a.b", "{}", "MSGID", "only-p3", NULL), 0, NULL);
    expectPub(itPublish(c, "p", "a.b", "{}", "MSGID", "only-p3", NULL), 0, NULL);
    free(before);
    free(after);
}

/* AOF: the effects replayed, and a rewritten AOF (SWARM.RESTORE), both restore the window. */
static void test_window_survives_aof_replay_and_rewrite(void **state) {
    (void)state;
    itServer a;
    const char *extra[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    itStart(&a, NULL, extra);
    redisContext *ac = itConnect(&a);
    itWaitAofRewrite(ac, 10000);
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD f a.> stream:f:s"), 1);
    char id[64], dup[64];
    expectPub(itPublish(ac, "f", "a.b", "{}", "MSGID", "aof-1", NULL), 0, id);
    expectPub(itPublish(ac, "f", "a.b", "{}", "MSGID", "aof-1", NULL), 1, NULL);
    char *before = itDigest(ac, "f");
    redisFree(ac);
    itRestart(&a); /* replays the effects */
    ac = itConnect(&a);
    if (!itWaitInfo(ac, "persistence", "loading", "0", 10000)) fail_msg("still loading");
    char *replayed = itDigest(ac, "f");
    assert_string_equal(replayed, before);
    expectPub(itPublish(ac, "f", "a.b", "{}", "MSGID", "aof-1", NULL), 1, dup);
    assert_string_equal(dup, id);
    itAofRewrite(ac, 10000);
    char *rewritten = itDigest(ac, "f");
    redisFree(ac);
    itRestart(&a); /* loads the rewritten base */
    ac = itConnect(&a);
    if (!itWaitInfo(ac, "persistence", "loading", "0", 10000)) fail_msg("still loading");
    char *loaded = itDigest(ac, "f");
    assert_string_equal(loaded, rewritten);
    expectPub(itPublish(ac, "f", "a.b", "{}", "MSGID", "aof-1", NULL), 1, dup);
    assert_string_equal(dup, id);
    free(before);
    free(replayed);
    free(rewritten);
    free(loaded);
    redisFree(ac);
    itDestroy(&a);
}

/* A replica holds the master's window, whatever its own configuration, and once promoted
 * still answers the duplicates its old master would have. */
/* INFO swarm's duplicates moves by exactly one per publish answered as a duplicate, and by
 * nothing for a new MSGID, a rejected publish naming a remembered one, or a publish with the
 * window off; published does not count duplicates. */
static void test_info_duplicates_counts_each_duplicate(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD q a.> stream:q:s"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD q2 a.> stream:q:s"), 1);
    long long dup0 = itInfoNum(c, "swarm", "swarm_duplicates"),
              pub0 = itInfoNum(c, "swarm", "swarm_published");
    expectPub(itPublish(c, "q", "a.b", "{}", "MSGID", "k-1", NULL), 0, NULL);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_duplicates"), dup0);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_published"), pub0 + 1);
    const char *tokens[] = {"MSGID", "msgid", "MsGiD"}; /* options in any case */
    for (int i = 1; i <= 3; i++) {
        expectPub(itPublish(c, "q", "a.b", "{}", tokens[i - 1], "k-1", NULL), 1, NULL);
        assert_int_equal(itInfoNum(c, "swarm", "swarm_duplicates"), dup0 + i);
        assert_int_equal(itInfoNum(c, "swarm", "swarm_published"), pub0 + 1);
    }
    /* Another table does not remember it; a rejected publish is not a duplicate. */
    expectPub(itPublish(c, "q2", "a.b", "{}", "MSGID", "k-1", NULL), 0, NULL);
    itExpectError(itPublish(c, "q", "a..b", "{}", "MSGID", "k-1", NULL), "EVENTTYPE", NULL);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_duplicates"), dup0 + 3);
    /* The window off: published again, no duplicate. */
    itExpectOk(itCmd(c, "CONFIG SET swarm.dedup-window-ms 0"));
    expectPub(itPublish(c, "q", "a.b", "{}", "MSGID", "k-1", NULL), 0, NULL);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_duplicates"), dup0 + 3);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_published"), pub0 + 3);
    assert_int_equal(itStatField(c, "q", "duplicates"), 3);
}

static void test_promoted_replica_rejects_the_duplicate(void **state) {
    (void)state;
    itServer m, r;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itStart(&m, NULL, mextra);
    char port[16];
    snprintf(port, sizeof(port), "%d", m.port);
    const char *rextra[] = {"--replicaof", "127.0.0.1", port, NULL};
    const char *rmod[] = {"dedup-window-ms", "1", "dedup-max", "1", NULL};
    itStart(&r, rmod, rextra);
    redisContext *mc = itConnect(&m), *rc = itConnect(&r);
    itWaitLinkUp(rc, 10000);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD h a.> stream:h:s"), 1);
    char ids[3][64], dup[64];
    const char *mids[] = {"fo-1", "fo-2", "fo-3"};
    for (int i = 0; i < 3; i++)
        expectPub(itPublish(mc, "h", "a.b", "{}", "MSGID", mids[i], NULL), 0, ids[i]);
    expectPub(itPublish(mc, "h", "a.b", "{}", "MSGID", "fo-2", NULL), 1, NULL);
    itWaitReplicas(mc, 1, 5000);
    char *dm = itDigest(mc, "h"), *dr = itDigest(rc, "h");
    assert_string_equal(dr, dm);
    assert_int_equal(itStatField(rc, "h", "msgids"), 3);
    assert_int_equal(itStatField(rc, "h", "duplicates"), 1);
    /* INFO counts what this node's commands did: the replica applied the duplicate. */
    assert_int_equal(itInfoNum(mc, "swarm", "swarm_duplicates"), 1);
    assert_int_equal(itInfoNum(rc, "swarm", "swarm_duplicates"), 0);
    /* The master dies; the replica is promoted (with the master's configuration now). */
    itDestroy(&m);
    redisFree(mc);
    itExpectOk(itCmd(rc, "REPLICAOF NO ONE"));
    itExpectOk(itCmd(rc, "CONFIG SET swarm.dedup-window-ms 120000"));
    itExpectOk(itCmd(rc, "CONFIG SET swarm.dedup-max 100000"));
    for (int i = 0; i < 3; i++) {
        expectPub(itPublish(rc, "h", "a.b", "{}", "MSGID", mids[i], NULL), 1, dup);
        assert_string_equal(dup, ids[i]);
    }
    assert_int_equal(xlen(rc, "h:s"), 3);
    assert_int_equal(itInfoNum(rc, "swarm", "swarm_duplicates"), 3);
    expectPub(itPublish(rc, "h", "a.b", "{}", "MSGID", "fo-4", NULL), 0, NULL);
    assert_int_equal(xlen(rc, "h:s"), 4);
    free(dm);
    free(dr);
    redisFree(rc);
    itDestroy(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_duplicate_answers_the_original_id_and_delivers_nothing, flush),
        cmocka_unit_test_setup(test_envelope_and_entry_carry_msgid_and_reply_to, flush),
        cmocka_unit_test_setup(test_msgid_and_replyto_errors, flush),
        cmocka_unit_test_setup(test_window_off_and_bound, flush),
        cmocka_unit_test_setup(test_expired_msgid_is_accepted_again, flush),
        cmocka_unit_test_setup(test_window_persists, flush),
        cmocka_unit_test(test_window_survives_aof_replay_and_rewrite),
        cmocka_unit_test_setup(test_info_duplicates_counts_each_duplicate, flush),
        cmocka_unit_test(test_promoted_replica_rejects_the_duplicate),
    };
    itFixture(&srv, &c, NULL, NULL);
    return cmocka_run_group_tests_name("msgid", tests, itFixtureSetup, itFixtureTeardown);
}
