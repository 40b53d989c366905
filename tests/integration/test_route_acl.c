/* test_route_acl.c -- SWARM.ROUTE under ACLs: every subcommand is a real
 * subcommand, so a user can be allowed `swarm.route|match` and nothing else, and the key
 * specs carry the right access flags, so read-only key permissions admit the read-only
 * subcommands only. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REPLY_TIMEOUT_MS 10000
#define NOPERM_KEY "no permissions to access one of the keys used as arguments"

static itServer srv;
static redisContext *admin;

static redisContext *loginAs(const char *user) {
    redisContext *ctx = itConnectTimeout(&srv, REPLY_TIMEOUT_MS);
    itExpectOk(itCmd(ctx, "AUTH %s pw", user));
    return ctx;
}

static void expectRepr(redisReply *r, const char *want) {
    char *got = itReplyRepr(r);
    freeReplyObject(r);
    if (strcmp(got, want) != 0) fail_msg("expected %s, got %s", want, got);
    free(got);
}

static void expectNoCommand(redisContext *ctx, const char *sub, const char *args) {
    char needle[128];
    snprintf(needle, sizeof(needle), "no permissions to run the 'swarm.route|%s' command", sub);
    char line[256];
    snprintf(line, sizeof(line), "SWARM.ROUTE %s %s", sub, args);
    const char *argv[16];
    int argc = 0;
    for (char *p = strtok(line, " "); p && argc < 16; p = strtok(NULL, " ")) argv[argc++] = p;
    itExpectError(itCmdArgv(ctx, argc, argv, NULL), "NOPERM", needle);
}

static int groupSetup(void **state) {
    (void)state;
    itStart(&srv, NULL, NULL);
    admin = itConnectTimeout(&srv, REPLY_TIMEOUT_MS);
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD k task.* channel:tasks"), 1);
    itExpectInt(itCmd(admin, "SWARM.ROUTE ADD allowed:k task.> channel:ok"), 1);
    itExpectOk(itCmd(admin, "ACL SETUSER agent on >pw +@connection +swarm.route|match ~*"));
    itExpectOk(
        itCmd(admin, "ACL SETUSER scoped on >pw +@connection +swarm.route|match ~allowed:*"));
    itExpectOk(itCmd(admin, "ACL SETUSER reader on >pw +@connection +swarm.route %%R~*"));
    itExpectOk(itCmd(admin, "ACL SETUSER operator on >pw +@connection +swarm.route ~*"));
    return 0;
}

static int groupTeardown(void **state) {
    (void)state;
    if (admin) redisFree(admin);
    itDestroy(&srv);
    return 0;
}

static void test_match_only_user_can_match_and_nothing_else(void **state) {
    (void)state;
    redisContext *a = loginAs("agent");
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "[\"channel:tasks\"]");
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done PRIORITY 9"), "[\"channel:tasks\"]");
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH nokey task.done"), "[]");
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
    itExpectError(itCmd(a, "SWARM.RESTORE k2 swarm-rtb x"), "NOPERM",
                  "no permissions to run the 'swarm.restore' command");
    redisFree(a);
    /* Nothing the agent tried changed the table. */
    expectRepr(itCmd(admin, "SWARM.ROUTE STATS k"),
               "[\"published\",:0,\"delivered\",:0,\"rejected\",:0,\"unrouted\",:0,"
               "\"deadlettered\",:0,\"shed\",:0,\"routes\",:1,\"rules\",:0,\"last-id\",\"0-0\","
               "\"default\",(nil),\"duplicates\",:0,\"msgids\",:0]");
    itExpectInt(itCmd(admin, "EXISTS k2"), 0);
}

static void test_key_patterns_apply_to_subcommands(void **state) {
    (void)state;
    redisContext *a = loginAs("scoped");
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH allowed:k task.done"), "[\"channel:ok\"]");
    itExpectError(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "NOPERM", NOPERM_KEY);
    redisFree(a);
}

static void test_read_only_key_permission_admits_only_read_subcommands(void **state) {
    (void)state;
    redisContext *a = loginAs("reader");
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH k task.done"), "[\"channel:tasks\"]");
    redisReply *r = itCmd(a, "SWARM.ROUTE LIST k");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) fail_msg("LIST as reader failed");
    freeReplyObject(r);
    expectRepr(itCmd(a, "SWARM.ROUTE RULES k"), "[]");
    r = itCmd(a, "SWARM.ROUTE STATS k");
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("STATS as reader failed");
    freeReplyObject(r);
    itExpectError(itCmd(a, "SWARM.ROUTE ADD k a.b channel:x"), "NOPERM", NOPERM_KEY);
    itExpectError(itCmd(a, "SWARM.ROUTE DEL k 1"), "NOPERM", NOPERM_KEY);
    itExpectError(itCmd(a, "SWARM.ROUTE ALLOW k .*"), "NOPERM", NOPERM_KEY);
    itExpectError(itCmd(a, "SWARM.ROUTE DENY k .*"), "NOPERM", NOPERM_KEY);
    itExpectError(itCmd(a, "SWARM.ROUTE DEFAULT k NONE"), "NOPERM", NOPERM_KEY);
    redisFree(a);
    expectRepr(itCmd(admin, "SWARM.ROUTE RULES k"), "[]");
}

static void test_whole_command_user_can_use_every_subcommand(void **state) {
    (void)state;
    redisContext *a = loginAs("operator");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD ops a.b channel:x"), 1);
    itExpectInt(itCmd(a, "SWARM.ROUTE ALLOW ops a\\..*"), 2);
    itExpectInt(itCmd(a, "SWARM.ROUTE DENY ops a\\.c"), 3);
    itExpectOk(itCmd(a, "SWARM.ROUTE DEFAULT ops channel:dead"));
    expectRepr(itCmd(a, "SWARM.ROUTE MATCH ops a.b"), "[\"channel:x\"]");
    itExpectInt(itCmd(a, "SWARM.ROUTE DEL ops 1 2 3"), 3);
    expectRepr(itCmd(a, "SWARM.ROUTE LIST ops"), "[]");
    expectRepr(itCmd(a, "SWARM.ROUTE RULES ops"), "[]");
    redisReply *r = itCmd(a, "SWARM.ROUTE STATS ops");
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("STATS as operator failed");
    freeReplyObject(r);
    /* Other commands stay forbidden. */
    itExpectError(itCmd(a, "GET ops"), "NOPERM", "no permissions to run the 'get' command");
    redisFree(a);
}

static void test_acl_dryrun_agrees(void **state) {
    (void)state;
    itExpectOk(itCmd(admin, "ACL DRYRUN agent SWARM.ROUTE MATCH k a.b"));
    redisReply *r = itCmd(admin, "ACL DRYRUN agent SWARM.ROUTE ADD k a.b channel:x");
    if (r->type != REDIS_REPLY_STRING ||
        strstr(r->str, "no permissions to run the 'swarm.route|add' command") == NULL)
        fail_msg("ACL DRYRUN agent ADD: type %d '%s'", r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_only_user_can_match_and_nothing_else),
        cmocka_unit_test(test_key_patterns_apply_to_subcommands),
        cmocka_unit_test(test_read_only_key_permission_admits_only_read_subcommands),
        cmocka_unit_test(test_whole_command_user_can_use_every_subcommand),
        cmocka_unit_test(test_acl_dryrun_agrees),
    };
    return cmocka_run_group_tests(tests, groupSetup, groupTeardown);
}
