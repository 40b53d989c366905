/* test_route_acl.c -- SWARM.ROUTE under ACLs: every subcommand is a real
 * subcommand, so a user can be allowed `swarm.route|match` and nothing else, and the key
 * specs carry the right access flags, so read-only key permissions admit the read-only
 * subcommands only. ROUTE ADD and DEFAULT also check the caller could write the target
 * itself (write on a stream's key, publish on a channel: plain patterns, %W~ write-only
 * patterns, selectors where the server has them), answer NOPERM naming it, log it in ACL
 * LOG and count it; writes replayed from the master link or the AOF are not checked.
 *
 * Errors the server writes (a command or key the user may not use) are checked by their
 * code word only: their wording differs between server versions. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REPLY_TIMEOUT_MS 10000

static itServer srv;
static redisContext *admin;

static redisContext *loginAs(const char *user) {
    redisContext *ctx = itConnectTimeout(&srv, REPLY_TIMEOUT_MS);
    itExpectOk(itCmd(ctx, "AUTH %s pw", user));
    return ctx;
}

static void expectNoCommand(redisContext *ctx, const char *sub, const char *args) {
    char line[256];
    snprintf(line, sizeof(line), "SWARM.ROUTE %s %s", sub, args);
    const char *argv[16];
    int argc = 0;
    for (char *p = strtok(line, " "); p && argc < 16; p = strtok(NULL, " ")) argv[argc++] = p;
    itExpectError(itCmdArgv(ctx, argc, argv, NULL), "NOPERM", NULL);
}

/* The fixture's server, with the tables and users every test reads. */
static int groupSetup(void **state) {
    itFixtureSetup(state);
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD k task.* channel:tasks"), 1);
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD allowed:k task.> channel:ok"), 1);
    itExpectOk(itCmd(admin, "ACL SETUSER agent on >pw +@connection +swarm.route|match ~*"));
    itExpectOk(
        itCmd(admin, "ACL SETUSER scoped on >pw +@connection +swarm.route|match ~allowed:*"));
    itExpectOk(itCmd(admin, "ACL SETUSER reader on >pw +@connection +swarm.route %%R~*"));
    itExpectOk(itCmd(admin, "ACL SETUSER operator on >pw +@connection +swarm.route ~* &*"));
    return 0;
}

static void test_match_only_user_can_match_and_nothing_else(void **state) {
    (void)state;
    redisContext *a = loginAs("agent");
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "[\"channel:tasks\"]");
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done PRIORITY 9"), "[\"channel:tasks\"]");
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH nokey task.done"), "[]");
    /* Validation errors still come through for allowed commands. */
    itExpectError(itCmd(a, "SWARM.ROUTE MATCH k task.*"), "EVENTTYPE", NULL);
    expectNoCommand(a, "add", "k a.b channel:x");
    expectNoCommand(a, "del", "k 1");
    expectNoCommand(a, "list", "k");
    expectNoCommand(a, "allow", "k .*");
    expectNoCommand(a, "deny", "k .*");
    expectNoCommand(a, "rules", "k");
    expectNoCommand(a, "default", "k NONE");
    expectNoCommand(a, "stats", "k");
    itExpectError(itCmd(a, "SWARM.RESTORE k2 swarm-rtb x"), "NOPERM", NULL);
    redisFree(a);
    /* Nothing the agent tried changed the table. */
    itExpectRepr(itCmd(admin, "SWARM.ROUTE STATS k"),
                 "[\"published\",:0,\"delivered\",:0,\"rejected\",:0,\"unrouted\",:0,"
                 "\"deadlettered\",:0,\"shed\",:0,\"routes\",:1,\"rules\",:0,\"last-id\",\"0-0\","
                 "\"default\",(nil),\"duplicates\",:0,\"msgids\",:0]");
    itExpectInt(itCmd(admin, "EXISTS k2"), 0);
}

static void test_key_patterns_apply_to_subcommands(void **state) {
    (void)state;
    redisContext *a = loginAs("scoped");
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH allowed:k task.done"), "[\"channel:ok\"]");
    itExpectError(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "NOPERM", NULL);
    redisFree(a);
}

static void test_read_only_key_permission_admits_only_read_subcommands(void **state) {
    (void)state;
    redisContext *a = loginAs("reader");
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "[\"channel:tasks\"]");
    redisReply *r = itCmd(a, "SWARM.ROUTE LIST k");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) fail_msg("LIST as reader failed");
    freeReplyObject(r);
    itExpectRepr(itCmd(a, "SWARM.ROUTE RULES k"), "[]");
    r = itCmd(a, "SWARM.ROUTE STATS k");
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("STATS as reader failed");
    freeReplyObject(r);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD k a.b channel:x"), "NOPERM", NULL);
    itExpectError(itCmd(a, "SWARM.ROUTE DEL k 1"), "NOPERM", NULL);
    itExpectError(itCmd(a, "SWARM.ROUTE ALLOW k .*"), "NOPERM", NULL);
    itExpectError(itCmd(a, "SWARM.ROUTE DENY k .*"), "NOPERM", NULL);
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT k NONE"), "NOPERM", NULL);
    redisFree(a);
    itExpectRepr(itCmd(admin, "SWARM.ROUTE RULES k"), "[]");
}

static void test_whole_command_user_can_use_every_subcommand(void **state) {
    (void)state;
    redisContext *a = loginAs("operator");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD ops a.b channel:x"), 1);
    itExpectInt(itCmd(a, "SWARM.ROUTE ALLOW ops a\\..*"), 2);
    itExpectInt(itCmd(a, "SWARM.ROUTE DENY ops a\\.c"), 3);
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT ops channel:dead"));
    itExpectRepr(itCmd(a, "SWARM.ROUTE MATCH ops a.b"), "[\"channel:x\"]");
    itExpectInt(itCmd(a, "SWARM.ROUTE DEL ops 1 2 3"), 3);
    itExpectRepr(itCmd(a, "SWARM.ROUTE LIST ops"), "[]");
    itExpectRepr(itCmd(a, "SWARM.ROUTE RULES ops"), "[]");
    redisReply *r = itCmd(a, "SWARM.ROUTE STATS ops");
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("STATS as operator failed");
    freeReplyObject(r);
    /* Other commands stay forbidden. */
    itExpectError(itCmd(a, "GET ops"), "NOPERM", NULL);
    redisFree(a);
}

static void test_acl_dryrun_agrees(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL DRYRUN agent SWARM.ROUTE MATCH k a.b"));
    redisReply *r = itCmd(admin, "ACL DRYRUN agent SWARM.ROUTE ADD k a.b channel:x");
    if (r->type != REDIS_REPLY_STRING || strstr(r->str, "'swarm.route|add'") == NULL)
        fail_msg("ACL DRYRUN agent ADD: type %d '%s'", r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

/* ---- Route targets: the author must be able to write there ---- */

/* INFO swarm's targets_refused. */
static long long refusedCount(void) {
    char buf[32];
    return atoll(itInfo(admin, "swarm", "swarm_targets_refused", buf, sizeof(buf)));
}

/* 1 when the server has ACL selectors (Redis 7.2+, Valkey, which reports 7.2.4). */
static int hasSelectors(void) {
    char buf[64];
    const char *v = itInfo(admin, "server", "redis_version", buf, sizeof(buf));
    int major = 0, minor = 0;
    if (sscanf(v, "%d.%d", &major, &minor) != 2) fail_msg("redis_version '%s'", v);
    return major > 7 || (major == 7 && minor >= 2);
}

/* The newest ACL LOG entry has these reason, object and username, and context "module". */
static void expectAclLog(const char *reason, const char *object, const char *username) {
    redisReply *r = itCmd(admin, "ACL LOG 1");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) fail_msg("ACL LOG 1: no entry");
    redisReply *e = r->element[0];
    const char *want[][2] = {
        {"reason", reason}, {"object", object}, {"username", username}, {"context", "module"}};
    for (size_t i = 0; i < 4; i++) {
        redisReply *f = itField(e, want[i][0]);
        if (f == NULL || f->type != REDIS_REPLY_STRING || strcmp(f->str, want[i][1]) != 0)
            fail_msg("ACL LOG entry: %s is '%s', expected '%s'", want[i][0],
                     f && f->str ? f->str : "(none)", want[i][1]);
    }
    freeReplyObject(r);
}

static void test_stream_target_needs_write_permission_on_its_key(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL SETUSER team-a on >pw +@connection +swarm.route +swarm.publish "
                            "~swarm:a:* ~team-a:* &team-a:*"));
    itExpectOk(itCmd(admin, "ACL LOG RESET"));
    long long refused = refusedCount();
    redisContext *a = loginAs("team-a");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops x.> stream:team-a:inbox"), 1);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops y.> stream:payments:ledger"), "NOPERM",
                  "target 'stream:payments:ledger': this user has no permissions to write key "
                  "'payments:ledger'");
    expectAclLog("key", "payments:ledger", "team-a");
    assert_int_equal(refusedCount(), refused + 1);
    /* Refused on a table that does not exist yet: nothing is created. */
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:new y.> stream:payments:ledger"), "NOPERM",
                  "target 'stream:payments:ledger'");
    itExpectInt(itCmd(admin, "EXISTS swarm:a:new payments:ledger"), 0);
    /* Nothing changed and no id was used up. */
    itExpectRepr(itCmd(admin, "SWARM.ROUTE MATCH swarm:a:ops y.z"), "[]");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops z.> stream:team-a:other"), 2);
    /* Publishing through the table stays on the module's behalf. */
    redisReply *r = itPublish(a, "swarm:a:ops", "x.y", "{}", NULL);
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("PUBLISH through the team's table failed");
    freeReplyObject(r);
    itExpectInt(itCmd(admin, "XLEN team-a:inbox"), 1);
    assert_int_equal(refusedCount(), refused + 2);
    redisFree(a);
}

static void test_channel_target_needs_publish_permission(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL LOG RESET"));
    long long refused = refusedCount();
    redisContext *a = loginAs("team-a");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:a:ch x.> channel:team-a:events"), 1);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:ch x.> channel:payments"), "NOPERM",
                  "target 'channel:payments': this user has no permissions to publish to "
                  "channel 'payments'");
    expectAclLog("channel", "payments", "team-a");
    /* Another team's channels are refused, whatever the name looks like. */
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:ch x.> channel:team-b:*"), "NOPERM",
                  "target 'channel:team-b:*'");
    itExpectRepr(itCmd(admin, "SWARM.ROUTE MATCH swarm:a:ch x.y"), "[\"channel:team-a:events\"]");
    assert_int_equal(refusedCount(), refused + 2);
    redisFree(a);
}

static void test_default_target_is_checked_too(void **state) {
    (void)state;
    long long refused = refusedCount();
    redisContext *a = loginAs("team-a");
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops stream:payments:dead"), "NOPERM",
                  "target 'stream:payments:dead'");
    expectAclLog("key", "payments:dead", "team-a");
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops channel:ops-dead"), "NOPERM",
                  "target 'channel:ops-dead'");
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:nokey channel:ops-dead"), "NOPERM", NULL);
    itExpectInt(itCmd(admin, "EXISTS swarm:a:nokey"), 0);
    redisReply *r = itCmd(admin, "SWARM.ROUTE STATS swarm:a:ops");
    if (itField(r, "default")->type != REDIS_REPLY_NIL) fail_msg("a refused DEFAULT was set");
    freeReplyObject(r);
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops stream:team-a:dead"));
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops channel:team-a:dead"));
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops NONE"));
    /* A malformed target is a syntax error, not a permission error. */
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops nowhere"), "ERR", "invalid target");
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops x.> nowhere"), "ERR", "invalid target");
    assert_int_equal(refusedCount(), refused + 3);
    redisFree(a);
}

/* A script runs with its caller's permissions: it cannot route where the caller may not. */
static void test_scripts_are_checked_as_their_caller(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL SETUSER scripter on >pw +@connection +swarm.route +eval "
                            "~swarm:a:* ~team-a:* &team-a:*"));
    redisContext *a = loginAs("scripter");
    itExpectError(itCmd(a, "EVAL %s 0",
                        "return redis.call('SWARM.ROUTE','ADD','swarm:a:lua','x.>',"
                        "'stream:payments:ledger')"),
                  "NOPERM", "target 'stream:payments:ledger'");
    itExpectInt(itCmd(a, "EVAL %s 0",
                      "return redis.call('SWARM.ROUTE','ADD','swarm:a:lua','x.>',"
                      "'stream:team-a:lua')"),
                1);
    itExpectInt(itCmd(admin, "EXISTS payments:ledger"), 0);
    itExpectRepr(itCmd(admin, "SWARM.ROUTE MATCH swarm:a:lua x.y"), "[\"stream:team-a:lua\"]");
    redisFree(a);
}

static void test_write_only_key_patterns(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL SETUSER writer on >pw +@connection +swarm.route ~swarm:w:* "
                            "%%W~out:* %%R~in:* &*"));
    redisContext *a = loginAs("writer");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:w:t x.> stream:out:x"), 1);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:w:t y.> stream:in:x"), "NOPERM",
                  "target 'stream:in:x': this user has no permissions to write key 'in:x'");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:w:t y.> channel:anything"), 2);
    redisFree(a);
}

static void test_selectors(void **state) {
    (void)state;
    if (!hasSelectors()) {
        printf("[  SKIP    ] ACL selectors need Redis 7.2 or later\n");
        return;
    }
    itExpectOk(itCmd(admin, "ACL SETUSER sel on >pw +@connection +swarm.route ~swarm:s:* "
                            "(~sel:* &selch:* +@all)"));
    redisContext *a = loginAs("sel");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:s:t x.> stream:sel:inbox"), 1);
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:s:t x.> channel:selch:1"), 2);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:s:t y.> stream:other"), "NOPERM",
                  "target 'stream:other'");
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:s:t y.> channel:other"), "NOPERM",
                  "target 'channel:other'");
    redisFree(a);
}

static void test_default_and_unrestricted_users_unchanged(void **state) {
    (void)state;
    long long refused = refusedCount();
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD swarm:open x.> stream:payments:ledger"), 1);
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD swarm:open y.> channel:payments"), 2);
    redisContext *a = loginAs("operator"); /* ~* &* */
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:open z.> stream:anything"), 3);
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT swarm:open channel:anything"));
    redisFree(a);
    assert_int_equal(refusedCount(), refused);
}

/* A route added by a user whose permissions were reduced afterwards (or who no longer
 * exists) is replayed by the replica and by the AOF all the same. */
static void test_replay_ignores_the_authors_permissions(void **state) {
    (void)state;
    itServer master, replica;
    const char *mextra[] = {"--appendonly", "yes", "--repl-diskless-sync-delay", "0", NULL};
    itStart(&master, NULL, mextra);
    redisContext *m = itConnectTimeout(&master, REPLY_TIMEOUT_MS), *r;
    itStartReplica(&replica, &r, &master, NULL);
    itWaitReplicaCaughtUp(m, r, 60000, "after the link came up");

    itExpectOk(itCmd(m, "ACL SETUSER team-a on >pw +@connection +swarm.route +swarm.publish "
                        "~swarm:a:* ~team-a:* &team-a:*"));
    redisContext *a = itConnectTimeout(&master, REPLY_TIMEOUT_MS);
    itExpectOk(itCmd(a, "AUTH team-a pw"));
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops x.> stream:team-a:inbox"), 1);
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT swarm:a:ops channel:team-a:dead"));
    /* The same user could not add these targets now. */
    itExpectOk(itCmd(m, "ACL SETUSER team-a resetkeys ~swarm:a:* resetchannels"));
    itExpectError(itCmd(a, "SWARM.ROUTE ADD swarm:a:ops y.> stream:team-a:other"), "NOPERM",
                  "target 'stream:team-a:other'");
    redisReply *p = itPublish(a, "swarm:a:ops", "x.y", "{}", NULL);
    if (p->type != REDIS_REPLY_ARRAY) fail_msg("PUBLISH after the reduction failed");
    freeReplyObject(p);
    redisFree(a);
    itWaitReplicaCaughtUp(m, r, 60000, "after the writes");
    const char *keys[] = {"swarm:a:ops", "team-a:inbox"};
    char *want[2];
    for (int i = 0; i < 2; i++) {
        want[i] = itDigest(m, keys[i]);
        char *got = itDigest(r, keys[i]);
        if (strcmp(got, want[i]) != 0) {
            char *ms = itReplyRepr(itCmd(m, "SWARM.ROUTE STATS swarm:a:ops"));
            char *rs = itReplyRepr(itCmd(r, "SWARM.ROUTE STATS swarm:a:ops"));
            char *ml = itReplyRepr(itCmd(m, "SWARM.ROUTE LIST swarm:a:ops"));
            char *rl = itReplyRepr(itCmd(r, "SWARM.ROUTE LIST swarm:a:ops"));
            fail_msg("replica: %s differs\nmaster  %s\n        %s\nreplica %s\n        %s", keys[i],
                     ms, ml, rs, rl);
        }
        free(got);
    }
    redisFree(r);
    itDestroy(&replica);

    /* The AOF replays it without the user, who was never saved. */
    redisFree(m);
    itRestart(&master);
    m = itConnectTimeout(&master, REPLY_TIMEOUT_MS);
    itExpectError(itCmd(m, "AUTH team-a pw"), "WRONGPASS", NULL);
    for (int i = 0; i < 2; i++) {
        char *got = itDigest(m, keys[i]);
        if (strcmp(got, want[i]) != 0) fail_msg("AOF replay: %s differs", keys[i]);
        free(got);
        free(want[i]);
    }
    itExpectRepr(itCmd(m, "SWARM.ROUTE MATCH swarm:a:ops x.y"), "[\"stream:team-a:inbox\"]");
    redisFree(m);
    itDestroy(&master);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_only_user_can_match_and_nothing_else),
        cmocka_unit_test(test_key_patterns_apply_to_subcommands),
        cmocka_unit_test(test_read_only_key_permission_admits_only_read_subcommands),
        cmocka_unit_test(test_whole_command_user_can_use_every_subcommand),
        cmocka_unit_test(test_acl_dryrun_agrees),
        cmocka_unit_test(test_stream_target_needs_write_permission_on_its_key),
        cmocka_unit_test(test_channel_target_needs_publish_permission),
        cmocka_unit_test(test_default_target_is_checked_too),
        cmocka_unit_test(test_scripts_are_checked_as_their_caller),
        cmocka_unit_test(test_write_only_key_patterns),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_default_and_unrestricted_users_unchanged),
        cmocka_unit_test(test_replay_ignores_the_authors_permissions),
    };
    itFixture(&srv, &admin, NULL, NULL);
    return cmocka_run_group_tests(tests, groupSetup, itFixtureTeardown);
}
