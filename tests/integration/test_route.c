/* test_route.c -- SWARM.ROUTE against a real redis-server.
 *
 * One server for the whole group; every test gets a fresh connection (with a read timeout,
 * so a command the module never answers fails the test instead of hanging it) on a flushed
 * keyspace with the default configuration. Replies are compared whole through
 * itReplyRepr: integers :N, strings and statuses "text", nil (nil), arrays [a,b]. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REPLY_TIMEOUT_MS 10000 /* the fixture connection's */
#define WRONGTYPE_MSG "WRONGTYPE Operation against a key holding the wrong kind of value"

static itServer srv;
static itServer argSrv; /* started by the module-argument test only */
static redisContext *c;

/* ---- Helpers ---- */

/* Runs a command; a missing reply (timeout, broken connection) fails the test naming it. */
static redisReply *cmd(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL)
        fail_msg("no reply to '%s' within %d ms: %s (the module sent no reply)", fmt,
                 REPLY_TIMEOUT_MS, c->errstr);
    return r;
}

/* Runs a command given as one line of space-separated words (no quoting). */
static redisReply *cmdLine(const char *line) {
    char buf[512];
    const char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *p = strtok(buf, " "); p && argc < 32; p = strtok(NULL, " ")) argv[argc++] = p;
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r == NULL)
        fail_msg("no reply to '%s' within %d ms: %s (the module sent no reply)", line,
                 REPLY_TIMEOUT_MS, c->errstr);
    return r;
}

static char *repr(redisReply *r) {
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    return s;
}

/* Asserts the whole reply; frees it. */
static void expectRepr(redisReply *r, const char *want) {
    char *got = repr(r);
    if (strcmp(got, want) != 0) fail_msg("expected %s\n     got %s", want, got);
    free(got);
}

static void expectSame(const char *before, const char *after, const char *what) {
    if (strcmp(before, after) != 0)
        fail_msg("%s changed:\n  before %s\n  after  %s", what, before, after);
}

/* The repr of one LIST entry with zero counters and a closed breaker. */
static const char *routeRepr(char *buf, size_t len, long long id, const char *pattern,
                             const char *kind, const char *target, int pmin, int pmax) {
    snprintf(buf, len,
             "[\"id\",:%lld,\"pattern\",\"%s\",\"kind\",\"%s\",\"target\",\"%s\",\"priority\","
             "[:%d,:%d],\"matched\",:0,\"delivered\",:0,\"missed\",:0,\"failed\",:0,\"shed\","
             ":0,\"breaker\",\"closed\"]",
             id, pattern, kind, target, pmin, pmax);
    return buf;
}

static void expectCounters(long long tables, long long routes, long long rules) {
    long long t = itInfoNum(c, "swarm", "swarm_tables"), r = itInfoNum(c, "swarm", "swarm_routes"),
              u = itInfoNum(c, "swarm", "swarm_rules");
    if (t != tables || r != routes || u != rules)
        fail_msg("INFO swarm: expected tables=%lld routes=%lld rules=%lld, got %lld %lld %lld",
                 tables, routes, rules, t, r, u);
}

/* Everything a client can observe of a table, as one string (malloc'ed). */
static char *tableState(const char *key) {
    char *parts[5] = {repr(cmd("SWARM.ROUTE LIST %s", key)), repr(cmd("SWARM.ROUTE RULES %s", key)),
                      repr(cmd("SWARM.ROUTE STATS %s", key)), itDigest(c, key),
                      repr(cmd("EXISTS %s", key))};
    size_t n = 1;
    for (int i = 0; i < 5; i++) n += strlen(parts[i]) + 1;
    char *s = malloc(n);
    s[0] = '\0';
    for (int i = 0; i < 5; i++) {
        strcat(s, parts[i]);
        strcat(s, "\n");
        free(parts[i]);
    }
    return s;
}

static void appendBigRoute(int i, void *arg) {
    redisAppendCommand(c, "SWARM.ROUTE ADD %s svc%d.evt channel:c%d", (const char *)arg, i, i);
}

/* ---- Fixtures ---- */

static int groupTeardown(void **state) {
    itDestroy(&argSrv);
    return itFixtureTeardown(state);
}

/* ---- ADD ---- */

static void test_add_ids_increase_and_are_shared_with_rules(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t task\\..*"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.> stream:inbox"), 3);
    itExpectInt(cmd("SWARM.ROUTE DENY t task\\.secret"), 4);
    itExpectInt(cmd("SWARM.ROUTE ADD t agent.* channel:agents"), 5);
    itExpectStr(cmd("TYPE t"), "swarm-rtb");
}

static void test_add_identical_route_returns_its_id_without_bumping_ids(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    /* Same pattern but another priority range, target or kind: a different route. */
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks PRIORITY 8 9"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks PRIORITY 8 9"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:other"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks REGEX"), 4);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks REGEX"), 4);
    /* An explicit default range 1..9 is the same route as no PRIORITY. */
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks PRIORITY 1 9"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks priority 8 9"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t x.y channel:tasks"), 5);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a.*"), 6);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a.*"), 6);
    itExpectInt(cmd("SWARM.ROUTE DENY t a.*"), 7);
    itExpectInt(cmd("SWARM.ROUTE DENY t a.*"), 7);
    itExpectInt(cmd("SWARM.ROUTE ADD t y.z channel:tasks"), 8);
}

static void test_add_ids_are_never_reused_after_del(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.c channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE DEL t 2"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.c channel:x"), 3);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a\\..*"), 4);
    itExpectInt(cmd("SWARM.ROUTE DEL t 4 3"), 2);
    itExpectInt(cmd("SWARM.ROUTE DENY t a\\..*"), 5);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.c channel:x"), 6);
}

static void test_add_regex_route(void **state) {
    (void)state;
    char e1[512], e2[512], want[1100];
    itExpectInt(cmd("SWARM.ROUTE ADD t %s channel:orders REGEX", "ord(er)?s\\.[0-9]+"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t %s channel:all regex PRIORITY 2 3", ".*"), 2);
    snprintf(want, sizeof(want), "[%s,%s]",
             routeRepr(e1, sizeof(e1), 1, "ord(er)?s\\.[0-9]+", "regex", "channel:orders", 1, 9),
             routeRepr(e2, sizeof(e2), 2, ".*", "regex", "channel:all", 2, 3));
    expectRepr(cmd("SWARM.ROUTE LIST t"), want);
}

static void test_add_priority_range(void **state) {
    (void)state;
    char e1[512], e2[512], e3[512], want[1600];
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 1 1"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 9 9"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 3 7 REGEX"), 3);
    snprintf(want, sizeof(want), "[%s,%s,%s]",
             routeRepr(e1, sizeof(e1), 1, "a.b", "subject", "channel:x", 1, 1),
             routeRepr(e2, sizeof(e2), 2, "a.b", "subject", "channel:x", 9, 9),
             routeRepr(e3, sizeof(e3), 3, "a.b", "regex", "channel:x", 3, 7));
    expectRepr(cmd("SWARM.ROUTE LIST t"), want);
}

static void test_add_bad_target_is_err(void **state) {
    (void)state;
    itExpectError(cmd("SWARM.ROUTE ADD t a.b foo:x"), "ERR",
                  "invalid target 'foo:x', expected channel:<name> or stream:<key>");
    itExpectError(cmd("SWARM.ROUTE ADD t a.b channel:"), "ERR", "invalid target 'channel:'");
    itExpectError(cmd("SWARM.ROUTE ADD t a.b stream:"), "ERR", "invalid target 'stream:'");
    itExpectError(cmd("SWARM.ROUTE ADD t a.b tasks"), "ERR", "invalid target");
    itExpectError(cmd("SWARM.ROUTE ADD t a.b CHANNEL:x"), "ERR", "invalid target");
    itExpectInt(cmd("EXISTS t"), 0);
}

static void test_add_bad_subject_pattern_is_eventtype(void **state) {
    (void)state;
    itExpectError(cmd("SWARM.ROUTE ADD t task.** channel:x"), "EVENTTYPE",
                  "pattern has wildcard '*' inside a token (byte 5)");
    itExpectError(cmd("SWARM.ROUTE ADD t task..x channel:x"), "EVENTTYPE",
                  "pattern has an empty token at byte 5");
    itExpectError(cmd("SWARM.ROUTE ADD t .task channel:x"), "EVENTTYPE", "empty token at byte 0");
    itExpectError(cmd("SWARM.ROUTE ADD t task. channel:x"), "EVENTTYPE", "empty token at byte 5");
    itExpectError(cmd("SWARM.ROUTE ADD t a.>.b channel:x"), "EVENTTYPE",
                  "pattern has '>' before its last token (byte 2)");
    itExpectError(cmd("SWARM.ROUTE ADD t %s channel:x", "a b"), "EVENTTYPE",
                  "invalid byte 0x20 at byte 1");
    itExpectError(cmd("SWARM.ROUTE ADD t %s channel:x", ""), "EVENTTYPE", "pattern is empty");
    itExpectInt(cmd("EXISTS t"), 0);
    /* Wildcards as whole tokens are fine. */
    itExpectInt(cmd("SWARM.ROUTE ADD t * channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t *.*.> channel:x"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t A-z_0:9.x channel:x"), 4);
}

static void test_add_bad_regex_names_the_offset(void **state) {
    (void)state;
    itExpectError(cmd("SWARM.ROUTE ADD t a** channel:x REGEX"), "ERR",
                  "invalid regex at offset 2: quantifier does not follow a repeatable item");
    expectRepr(cmd("SWARM.ROUTE ADD t ab(c channel:x REGEX"),
               "!ERR invalid regex at offset 4: missing closing parenthesis");
    itExpectError(cmd("SWARM.ROUTE ADD t [z-a] channel:x REGEX"), "ERR",
                  "invalid regex at offset 3: range out of order in character class");
    itExpectInt(cmd("EXISTS t"), 0);
}

static void test_add_priority_errors(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 0 9"),
               "!ERR PRIORITY min must be between 1 and 9");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 1 10"),
               "!ERR PRIORITY max must be between 1 and 9");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 5 4"),
               "!ERR PRIORITY range 5..4 is invalid, expected 1 <= min <= max <= 9");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY x 4"),
               "!ERR value is not an integer or out of range");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 5"), "!ERR syntax error");
    itExpectInt(cmd("EXISTS t"), 0);
}

static void test_add_unknown_option_and_arity(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x FOO"), "!ERR syntax error");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b channel:x REGEX FOO"), "!ERR syntax error");
    expectRepr(cmd("SWARM.ROUTE ADD t a.b"),
               "!ERR wrong number of arguments for 'swarm.route|add' command");
    expectRepr(cmd("SWARM.ROUTE ADD t"),
               "!ERR wrong number of arguments for 'swarm.route|add' command");
    expectRepr(cmd("SWARM.ROUTE"), "!ERR wrong number of arguments for 'swarm.route' command");
    itExpectError(cmd("SWARM.ROUTE NOSUCH t"), "ERR", "unknown subcommand");
    itExpectInt(cmd("EXISTS t"), 0);
}

/* ---- DEL ---- */

static void test_del_counts_and_ignores_unknown_ids(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.c channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a\\..*"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.d channel:x"), 4);
    itExpectInt(cmd("SWARM.ROUTE DEL t 99"), 0);
    itExpectInt(cmd("SWARM.ROUTE DEL t 2 99 3 2"), 2);
    itExpectInt(cmd("SWARM.ROUTE DEL t 2 3"), 0);
    itExpectInt(cmd("SWARM.ROUTE DEL nokey 1"), 0);
    itExpectInt(cmd("EXISTS nokey"), 0);
    char e1[512], e4[512], want[1100];
    snprintf(want, sizeof(want), "[%s,%s]",
             routeRepr(e1, sizeof(e1), 1, "a.b", "subject", "channel:x", 1, 9),
             routeRepr(e4, sizeof(e4), 4, "a.d", "subject", "channel:x", 1, 9));
    expectRepr(cmd("SWARM.ROUTE LIST t"), want);
    expectRepr(cmd("SWARM.ROUTE RULES t"), "[]");
}

static void test_del_bad_id_is_err(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    expectRepr(cmd("SWARM.ROUTE DEL t abc"), "!ERR invalid id 'abc', expected a positive integer");
    expectRepr(cmd("SWARM.ROUTE DEL t 0"), "!ERR invalid id '0', expected a positive integer");
    expectRepr(cmd("SWARM.ROUTE DEL t -1"), "!ERR invalid id '-1', expected a positive integer");
    /* One bad id rejects the whole command: the good id before it is not removed. */
    itExpectError(cmd("SWARM.ROUTE DEL t 1 x"), "ERR", "invalid id 'x'");
    expectRepr(cmd("SWARM.ROUTE DEL t"),
               "!ERR wrong number of arguments for 'swarm.route|del' command");
    itExpectInt(cmd("SWARM.ROUTE DEL t 1"), 1);
}

static void test_del_last_route_or_rule_deletes_the_key(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a\\..*"), 2);
    itExpectInt(cmd("SWARM.ROUTE DEL t 1"), 1);
    itExpectInt(cmd("EXISTS t"), 1);
    itExpectInt(cmd("SWARM.ROUTE DEL t 2"), 1);
    itExpectInt(cmd("EXISTS t"), 0);

    /* With a default target the table is not empty; clearing the default then deletes it. */
    itExpectInt(cmd("SWARM.ROUTE ADD u a.b channel:x"), 1);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT u channel:dead"));
    itExpectInt(cmd("SWARM.ROUTE DEL u 1"), 1);
    itExpectInt(cmd("EXISTS u"), 1);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT u NONE"));
    itExpectInt(cmd("EXISTS u"), 0);
    expectCounters(0, 0, 0);
}

/* ---- LIST ---- */

static void test_list_fields_and_values(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t .*"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t %s stream:inbox REGEX PRIORITY 8 9", "t[a-z]+\\.done"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all PRIORITY 2 2"), 4);
    char e1[512], e3[512], e4[512], want[1600];
    snprintf(want, sizeof(want), "[%s,%s,%s]",
             routeRepr(e1, sizeof(e1), 1, "task.*", "subject", "channel:tasks", 1, 9),
             routeRepr(e3, sizeof(e3), 3, "t[a-z]+\\.done", "regex", "stream:inbox", 8, 9),
             routeRepr(e4, sizeof(e4), 4, ">", "subject", "channel:all", 2, 2));
    expectRepr(cmd("SWARM.ROUTE LIST t"), want);
    expectRepr(cmd("SWARM.ROUTE LIST t extra"),
               "!ERR wrong number of arguments for 'swarm.route|list' command");
}

static void test_list_is_a_resp3_map_per_route(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks PRIORITY 2 7"), 1);
    itExpectResp3(&srv, "SWARM.ROUTE LIST t",
                  "*1\r\n%11\r\n"
                  "+id\r\n:1\r\n"
                  "+pattern\r\n$6\r\ntask.*\r\n"
                  "+kind\r\n+subject\r\n"
                  "+target\r\n$13\r\nchannel:tasks\r\n"
                  "+priority\r\n*2\r\n:2\r\n:7\r\n"
                  "+matched\r\n:0\r\n+delivered\r\n:0\r\n"
                  "+missed\r\n:0\r\n+failed\r\n:0\r\n+shed\r\n:0\r\n"
                  "+breaker\r\n+closed\r\n");
}

/* ---- Missing keys read as empty tables ---- */

static void test_list_missing_key_is_empty_array(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE LIST nokey"), "[]");
    itExpectInt(cmd("EXISTS nokey"), 0);
}

static void test_list_missing_key_resp3_is_empty_array(void **state) {
    (void)state;
    itExpectResp3(&srv, "SWARM.ROUTE LIST nokey", "*0\r\n");
}

static void test_rules_missing_key_is_empty_array(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE RULES nokey"), "[]");
}

static void test_stats_missing_key_is_zero(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE STATS nokey"),
               "[\"published\",:0,\"delivered\",:0,\"rejected\",:0,\"unrouted\",:0,"
               "\"deadlettered\",:0,\"shed\",:0,\"routes\",:0,\"rules\",:0,\"last-id\",\"0-0\","
               "\"default\",(nil),\"duplicates\",:0,\"msgids\",:0]");
    itExpectInt(cmd("EXISTS nokey"), 0);
}

static void test_match_missing_key_is_empty_array(void **state) {
    (void)state;
    expectRepr(cmd("SWARM.ROUTE MATCH nokey task.done"), "[]");
    expectRepr(cmd("SWARM.ROUTE MATCH nokey task.done PRIORITY 9"), "[]");
    itExpectInt(cmd("EXISTS nokey"), 0);
}

static void test_match_missing_key_still_validates(void **state) {
    (void)state;
    itExpectError(cmd("SWARM.ROUTE MATCH nokey a..b"), "EVENTTYPE", "empty token at byte 2");
    itExpectError(cmd("SWARM.ROUTE MATCH nokey a.b PRIORITY 0"), "ERR",
                  "PRIORITY must be between 1 and 9");
}

/* ---- MATCH ---- */

static void test_match_wildcards(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:star"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.> channel:gt"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.done channel:exact"), 4);
    itExpectInt(cmd("SWARM.ROUTE ADD t *.done channel:anydone"), 5);
    expectRepr(cmd("SWARM.ROUTE MATCH t task.done"),
               "[\"channel:star\",\"channel:gt\",\"channel:all\",\"channel:exact\","
               "\"channel:anydone\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t task"), "[\"channel:all\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t task.done.ok"), "[\"channel:gt\",\"channel:all\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t task.failed"),
               "[\"channel:star\",\"channel:gt\",\"channel:all\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t agent.done"), "[\"channel:all\",\"channel:anydone\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t tasks.done"), "[\"channel:all\",\"channel:anydone\"]");
}

static void test_match_regex_routes_are_anchored_and_in_id_order(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t %s channel:r1 REGEX", "ord(er)?s\\.[0-9]+"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t orders.* channel:s2"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t %s channel:r3 REGEX", "o.*"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t orders.> channel:s4"), 4);
    expectRepr(cmd("SWARM.ROUTE MATCH t orders.12"),
               "[\"channel:r1\",\"channel:s2\",\"channel:r3\",\"channel:s4\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t ords.7"), "[\"channel:r1\",\"channel:r3\"]");
    /* Anchored at both ends: no partial matches. */
    expectRepr(cmd("SWARM.ROUTE MATCH t orders.12x"),
               "[\"channel:s2\",\"channel:r3\",\"channel:s4\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t xorders.12"), "[]");
}

static void test_match_deduplicates_targets_in_route_id_order(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.> channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:y"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.* channel:x"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t %s channel:y REGEX", "a\\.b"), 4);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b stream:x"), 5);
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b"), "[\"channel:x\",\"channel:y\",\"stream:x\"]");
    /* Without route 1, channel:y (route 2) comes before channel:x (route 3). */
    itExpectInt(cmd("SWARM.ROUTE DEL t 1"), 1);
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b"), "[\"channel:y\",\"channel:x\",\"stream:x\"]");
}

static void test_match_filters_by_priority(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t p.x channel:low PRIORITY 1 4"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t p.x channel:high PRIORITY 8 9"), 2);
    itExpectInt(cmd("SWARM.ROUTE ADD t p.> channel:any"), 3);
    itExpectInt(cmd("SWARM.ROUTE ADD t p.x channel:five PRIORITY 5 5"), 4);
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x"), "[\"channel:any\",\"channel:five\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x PRIORITY 1"), "[\"channel:low\",\"channel:any\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x PRIORITY 4"), "[\"channel:low\",\"channel:any\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x PRIORITY 5"), "[\"channel:any\",\"channel:five\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x PRIORITY 7"), "[\"channel:any\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x priority 8"), "[\"channel:high\",\"channel:any\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t p.x PRIORITY 9"), "[\"channel:high\",\"channel:any\"]");
}

static void test_match_default_target_when_nothing_matches(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x PRIORITY 8 9"), 1);
    expectRepr(cmd("SWARM.ROUTE MATCH t c.d"), "[]");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b"), "[]");
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t stream:dead"));
    expectRepr(cmd("SWARM.ROUTE MATCH t c.d"), "[\"stream:dead\"]");
    /* Routes filtered out by priority count as no match. */
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b"), "[\"stream:dead\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY 8"), "[\"channel:x\"]");
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t NONE"));
    expectRepr(cmd("SWARM.ROUTE MATCH t c.d"), "[]");
}

static void test_match_bad_type_is_eventtype(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all"), 1);
    expectRepr(cmd("SWARM.ROUTE MATCH t task.*"),
               "!EVENTTYPE event type may not contain wildcard '*' (byte 5)");
    itExpectError(cmd("SWARM.ROUTE MATCH t task.>"), "EVENTTYPE", "may not contain wildcard '>'");
    itExpectError(cmd("SWARM.ROUTE MATCH t a..b"), "EVENTTYPE",
                  "event type has an empty token at byte 2");
    itExpectError(cmd("SWARM.ROUTE MATCH t %s", ""), "EVENTTYPE", "event type is empty");
    itExpectError(cmd("SWARM.ROUTE MATCH t %s", "a/b"), "EVENTTYPE", "invalid byte 0x2f at byte 1");
    char longType[258];
    memset(longType, 'a', 257);
    longType[257] = '\0';
    itExpectError(cmd("SWARM.ROUTE MATCH t %s", longType), "EVENTTYPE",
                  "event type is longer than 256 bytes");
    longType[256] = '\0';
    expectRepr(cmd("SWARM.ROUTE MATCH t %s", longType), "[\"channel:all\"]");
}

static void test_match_deny_rule_is_denied_naming_the_rule(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all"), 1);
    itExpectInt(cmd("SWARM.ROUTE DENY t %s", "secret\\..*"), 2);
    expectRepr(cmd("SWARM.ROUTE MATCH t secret.plans"),
               "!DENIED event type 'secret.plans' is denied by rule 2");
    expectRepr(cmd("SWARM.ROUTE MATCH t public.plans"), "[\"channel:all\"]");
    /* DENY wins over a matching ALLOW. */
    itExpectInt(cmd("SWARM.ROUTE ALLOW t .*"), 3);
    expectRepr(cmd("SWARM.ROUTE MATCH t secret.plans"),
               "!DENIED event type 'secret.plans' is denied by rule 2");
    /* The first DENY rule (by id) is named. */
    itExpectInt(cmd("SWARM.ROUTE DENY t %s", ".*plans"), 4);
    expectRepr(cmd("SWARM.ROUTE MATCH t secret.plans"),
               "!DENIED event type 'secret.plans' is denied by rule 2");
    expectRepr(cmd("SWARM.ROUTE MATCH t public.plans"),
               "!DENIED event type 'public.plans' is denied by rule 4");
    /* The default target does not bypass rules. */
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t channel:dead"));
    itExpectError(cmd("SWARM.ROUTE MATCH t secret.plans"), "DENIED", "rule 2");
}

static void test_match_allow_rules_admit_only_matching_types(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t %s", "task\\..*"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t %s", "agent\\.[a-z]+"), 3);
    expectRepr(cmd("SWARM.ROUTE MATCH t task.done"), "[\"channel:all\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t agent.up"), "[\"channel:all\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t other.x"),
               "!DENIED event type 'other.x' matches no ALLOW rule of the table");
    /* Anchored: a prefix match does not admit. */
    itExpectError(cmd("SWARM.ROUTE MATCH t agent.up2"), "DENIED", "matches no ALLOW rule");
    /* Removing every ALLOW rule admits everything again. */
    itExpectInt(cmd("SWARM.ROUTE DEL t 2 3"), 2);
    expectRepr(cmd("SWARM.ROUTE MATCH t other.x"), "[\"channel:all\"]");
}

static void test_match_priority_and_syntax_errors(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t > channel:all"), 1);
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY 0"), "!ERR PRIORITY must be between 1 and 9");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY 10"), "!ERR PRIORITY must be between 1 and 9");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY x"),
               "!ERR value is not an integer or out of range");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY"), "!ERR syntax error");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b FOO 1"), "!ERR syntax error");
    expectRepr(cmd("SWARM.ROUTE MATCH t a.b PRIORITY 1 2"), "!ERR syntax error");
    expectRepr(cmd("SWARM.ROUTE MATCH t"),
               "!ERR wrong number of arguments for 'swarm.route|match' command");
}

/* ---- ALLOW, DENY, RULES ---- */

static void test_allow_deny_rules_listing(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ALLOW t %s", "task\\..*"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE DENY t %s", "task\\.secret"), 3);
    itExpectInt(cmd("SWARM.ROUTE DENY t %s", "task\\..*"), 4);
    expectRepr(cmd("SWARM.ROUTE RULES t"),
               "[[\"id\",:1,\"action\",\"allow\",\"regex\",\"task\\..*\",\"hits\",:0],"
               "[\"id\",:3,\"action\",\"deny\",\"regex\",\"task\\.secret\",\"hits\",:0],"
               "[\"id\",:4,\"action\",\"deny\",\"regex\",\"task\\..*\",\"hits\",:0]]");
    /* MATCH is a dry run: it counts no hits. */
    itExpectError(cmd("SWARM.ROUTE MATCH t task.secret"), "DENIED", "rule 3");
    expectRepr(cmd("SWARM.ROUTE RULES t"),
               "[[\"id\",:1,\"action\",\"allow\",\"regex\",\"task\\..*\",\"hits\",:0],"
               "[\"id\",:3,\"action\",\"deny\",\"regex\",\"task\\.secret\",\"hits\",:0],"
               "[\"id\",:4,\"action\",\"deny\",\"regex\",\"task\\..*\",\"hits\",:0]]");

    itExpectResp3(&srv, "SWARM.ROUTE RULES t",
                  "*3\r\n"
                  "%4\r\n+id\r\n:1\r\n+action\r\n+allow\r\n+regex\r\n$8\r\ntask\\..*\r\n"
                  "+hits\r\n:0\r\n"
                  "%4\r\n+id\r\n:3\r\n+action\r\n+deny\r\n+regex\r\n$12\r\ntask\\.secret\r\n"
                  "+hits\r\n:0\r\n"
                  "%4\r\n+id\r\n:4\r\n+action\r\n+deny\r\n+regex\r\n$8\r\ntask\\..*\r\n"
                  "+hits\r\n:0\r\n");
}

static void test_allow_deny_errors(void **state) {
    (void)state;
    itExpectError(cmd("SWARM.ROUTE ALLOW t a**"), "ERR",
                  "invalid regex at offset 2: quantifier does not follow a repeatable item");
    itExpectError(cmd("SWARM.ROUTE DENY t (a"), "ERR",
                  "invalid regex at offset 2: missing closing parenthesis");
    expectRepr(cmd("SWARM.ROUTE ALLOW t"),
               "!ERR wrong number of arguments for 'swarm.route|allow' command");
    expectRepr(cmd("SWARM.ROUTE DENY t a b"),
               "!ERR wrong number of arguments for 'swarm.route|deny' command");
    expectRepr(cmd("SWARM.ROUTE RULES"),
               "!ERR wrong number of arguments for 'swarm.route|rules' command");
    itExpectInt(cmd("EXISTS t"), 0);
}

/* ---- DEFAULT and STATS ---- */

static void test_default_set_none_and_errors(void **state) {
    (void)state;
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t channel:dead"));
    itExpectStr(cmd("TYPE t"), "swarm-rtb");
    redisReply *r = cmd("SWARM.ROUTE STATS t");
    redisReply *d = itField(r, "default");
    if (d == NULL || d->str == NULL || strcmp(d->str, "channel:dead") != 0)
        fail_msg("STATS default is not channel:dead");
    freeReplyObject(r);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t stream:dead"));
    itExpectError(cmd("SWARM.ROUTE DEFAULT t dead"), "ERR",
                  "invalid target 'dead', expected channel:<name> or stream:<key>");
    itExpectError(cmd("SWARM.ROUTE DEFAULT t channel:"), "ERR", "invalid target");
    expectRepr(cmd("SWARM.ROUTE DEFAULT t"),
               "!ERR wrong number of arguments for 'swarm.route|default' command");
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    expectRepr(cmd("SWARM.ROUTE MATCH t z.z"), "[\"stream:dead\"]");
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t none"));
    expectRepr(cmd("SWARM.ROUTE MATCH t z.z"), "[]");
    itExpectInt(cmd("EXISTS t"), 1);
    /* NONE on a missing key is OK and creates nothing; a bad target creates nothing. */
    itExpectOk(cmd("SWARM.ROUTE DEFAULT u NONE"));
    itExpectInt(cmd("EXISTS u"), 0);
    itExpectError(cmd("SWARM.ROUTE DEFAULT u bad"), "ERR", "invalid target");
    itExpectInt(cmd("EXISTS u"), 0);
}

static void test_stats_on_existing_table(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t a.c channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t a\\..*"), 3);
    expectRepr(cmd("SWARM.ROUTE STATS t"),
               "[\"published\",:0,\"delivered\",:0,\"rejected\",:0,\"unrouted\",:0,"
               "\"deadlettered\",:0,\"shed\",:0,\"routes\",:2,\"rules\",:1,\"last-id\",\"0-0\","
               "\"default\",(nil),\"duplicates\",:0,\"msgids\",:0]");
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t channel:dead"));
    itExpectInt(cmd("SWARM.ROUTE DEL t 1"), 1);
    expectRepr(cmd("SWARM.ROUTE STATS t"),
               "[\"published\",:0,\"delivered\",:0,\"rejected\",:0,\"unrouted\",:0,"
               "\"deadlettered\",:0,\"shed\",:0,\"routes\",:1,\"rules\",:1,\"last-id\",\"0-0\","
               "\"default\",\"channel:dead\",\"duplicates\",:0,\"msgids\",:0]");
    expectRepr(cmd("SWARM.ROUTE STATS t x"),
               "!ERR wrong number of arguments for 'swarm.route|stats' command");

    itExpectResp3(&srv, "SWARM.ROUTE STATS t",
                  "%12\r\n+published\r\n:0\r\n+delivered\r\n:0\r\n+rejected\r\n:0\r\n"
                  "+unrouted\r\n:0\r\n+deadlettered\r\n:0\r\n+shed\r\n:0\r\n"
                  "+routes\r\n:1\r\n+rules\r\n:1\r\n+last-id\r\n$3\r\n0-0\r\n"
                  "+default\r\n$12\r\nchannel:dead\r\n+duplicates\r\n:0\r\n+msgids\r\n:0\r\n");
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t NONE"));
    itExpectResp3(&srv, "SWARM.ROUTE STATS t",
                  "%12\r\n+published\r\n:0\r\n+delivered\r\n:0\r\n+rejected\r\n:0\r\n"
                  "+unrouted\r\n:0\r\n+deadlettered\r\n:0\r\n+shed\r\n:0\r\n"
                  "+routes\r\n:1\r\n+rules\r\n:1\r\n+last-id\r\n$3\r\n0-0\r\n"
                  "+default\r\n_\r\n+duplicates\r\n:0\r\n+msgids\r\n:0\r\n");
}

/* ---- Type errors and atomicity ---- */

static void test_every_subcommand_answers_wrongtype_on_a_string(void **state) {
    (void)state;
    itExpectOk(cmd("SET s v"));
    const char *subs[] = {"ADD s a.b channel:x",    "DEL s 1",        "LIST s",   "MATCH s a.b",
                          "MATCH s a.b PRIORITY 9", "ALLOW s x",      "DENY s x", "RULES s",
                          "DEFAULT s channel:x",    "DEFAULT s NONE", "STATS s"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "SWARM.ROUTE %s", subs[i]);
        char *got = repr(cmdLine(line));
        if (strcmp(got, "!" WRONGTYPE_MSG) != 0)
            fail_msg("SWARM.ROUTE %s: expected %s, got %s", subs[i], WRONGTYPE_MSG, got);
        free(got);
    }
    itExpectStr(cmd("GET s"), "v");
    /* And the reverse: Redis's own commands on a table. */
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    expectRepr(cmd("GET t"), "!" WRONGTYPE_MSG);
    expectRepr(cmd("LPUSH t x"), "!" WRONGTYPE_MSG);
}

static void test_rejected_commands_change_nothing(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(cmd("SWARM.ROUTE ADD t %s stream:inbox REGEX PRIORITY 2 8", "t.+"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t %s", "t.*"), 3);
    itExpectInt(cmd("SWARM.ROUTE DENY t %s", "t\\.secret"), 4);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t channel:dead"));
    itExpectInt(cmd("SWARM.ROUTE DEL t 2"), 1);
    char *before = tableState("t");
    long long dirty = 0;
    {
        char buf[64];
        dirty = atoll(itInfo(c, "persistence", "rdb_changes_since_last_save", buf, sizeof(buf)));
    }

    /* Each refusal with its code word and swarm's text; arity errors (NULL) are worded by
     * the server (RedisModule_WrongArity). */
    static const char *const rejected[][3] = {
        {"SWARM.ROUTE ADD t task.* foo:x", "ERR",
         "invalid target 'foo:x', expected channel:<name> or stream:<key>"},
        {"SWARM.ROUTE ADD t task.** channel:x", "EVENTTYPE",
         "pattern has wildcard '*' inside a token (byte 5); a wildcard must be a whole token"},
        {"SWARM.ROUTE ADD t a** channel:x REGEX", "ERR",
         "invalid regex at offset 2: quantifier does not follow a repeatable item"},
        {"SWARM.ROUTE ADD t a.b channel:x PRIORITY 0 5", "ERR",
         "PRIORITY min must be between 1 and 9"},
        {"SWARM.ROUTE ADD t a.b channel:x PRIORITY 6 5", "ERR",
         "PRIORITY range 6..5 is invalid, expected 1 <= min <= max <= 9"},
        {"SWARM.ROUTE ADD t a.b channel:x PRIORITY 5", "ERR", "syntax error"},
        {"SWARM.ROUTE ADD t a.b channel:x BOGUS", "ERR", "syntax error"},
        {"SWARM.ROUTE ADD t a.b", "ERR", NULL},
        {"SWARM.ROUTE DEL t 1 nope", "ERR", "invalid id 'nope', expected a positive integer"},
        {"SWARM.ROUTE DEL t 0", "ERR", "invalid id '0', expected a positive integer"},
        {"SWARM.ROUTE ALLOW t (", "ERR", "invalid regex at offset 1: missing closing parenthesis"},
        {"SWARM.ROUTE DENY t [", "ERR",
         "invalid regex at offset 1: missing terminating ] for character class"},
        {"SWARM.ROUTE DEFAULT t nowhere", "ERR",
         "invalid target 'nowhere', expected channel:<name> or stream:<key>"},
        {"SWARM.ROUTE MATCH t t.secret", "DENIED", "event type 't.secret' is denied by rule 4"},
        {"SWARM.ROUTE MATCH t x.y", "DENIED",
         "event type 'x.y' matches no ALLOW rule of the table"},
        {"SWARM.ROUTE MATCH t t..x", "EVENTTYPE", "event type has an empty token at byte 2"},
        {"SWARM.ROUTE MATCH t t.x PRIORITY 11", "ERR", "PRIORITY must be between 1 and 9"},
        {"SWARM.ROUTE LIST t extra", "ERR", NULL},
    };
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        redisReply *r = cmdLine(rejected[i][0]);
        if (r->type != REDIS_REPLY_ERROR) fail_msg("'%s' was not rejected", rejected[i][0]);
        size_t n = strlen(rejected[i][1]);
        if (strncmp(r->str, rejected[i][1], n) != 0 || r->str[n] != ' ' ||
            (rejected[i][2] && strcmp(r->str + n + 1, rejected[i][2]) != 0))
            fail_msg("'%s' answered '%s', expected '%s %s'", rejected[i][0], r->str, rejected[i][1],
                     rejected[i][2] ? rejected[i][2] : "...");
        freeReplyObject(r);
    }
    /* Identical route and rule: answered with the existing ids, nothing written. */
    itExpectInt(cmd("SWARM.ROUTE ADD t task.* channel:tasks"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t %s", "t.*"), 3);
    itExpectInt(cmd("SWARM.ROUTE DEL t 2 99"), 0);

    char *after = tableState("t");
    expectSame(before, after, "rejected commands");
    char buf[64];
    long long dirtyAfter =
        atoll(itInfo(c, "persistence", "rdb_changes_since_last_save", buf, sizeof(buf)));
    if (dirtyAfter != dirty)
        fail_msg("rejected or no-op commands dirtied the dataset: %lld -> %lld changes", dirty,
                 dirtyAfter);
    free(before);
    free(after);
    /* No id was consumed by the rejected or identical commands. */
    itExpectInt(cmd("SWARM.ROUTE ADD t new.route channel:x"), 5);
}

/* ---- Keyspace integration ---- */

/* WATCH k; another client runs line; MULTI; PING; EXEC. Returns 1 when EXEC ran, 0 when
 * the transaction was aborted because k was touched. */
static int execAfter(const char *key, const char *line) {
    redisContext *other = itConnect(&srv);
    struct timeval tv = {REPLY_TIMEOUT_MS / 1000, 0};
    redisSetTimeout(other, tv);
    itExpectOk(cmd("WATCH %s", key));
    redisContext *saved = c;
    c = other;
    freeReplyObject(cmdLine(line));
    c = saved;
    redisFree(other);
    itExpectOk(cmd("MULTI"));
    itExpectStr(cmd("PING"), "QUEUED");
    redisReply *r = cmd("EXEC");
    int ran = r->type == REDIS_REPLY_ARRAY;
    if (!ran && r->type != REDIS_REPLY_NIL) fail_msg("EXEC: reply type %d", r->type);
    freeReplyObject(r);
    return ran;
}

static void test_watch_is_invalidated_by_changes(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    const char *changes[] = {"SWARM.ROUTE ADD t a.c channel:x", "SWARM.ROUTE ALLOW t .*",
                             "SWARM.ROUTE DENY t x", "SWARM.ROUTE DEFAULT t channel:d",
                             "SWARM.ROUTE DEL t 2"};
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        if (execAfter("t", changes[i])) fail_msg("'%s' did not invalidate WATCH", changes[i]);
    }
}

static void test_watch_survives_reads(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    const char *reads[] = {"SWARM.ROUTE MATCH t a.b", "SWARM.ROUTE LIST t", "SWARM.ROUTE RULES t",
                           "SWARM.ROUTE STATS t"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        if (!execAfter("t", reads[i])) fail_msg("'%s' invalidated WATCH", reads[i]);
    }
}

/* An identical route writes nothing, and a rejected command writes nothing.
 * Redis's own no-op writes (SADD of a present member, a failed HINCRBY) leave WATCH alone. */
static void test_watch_survives_rejected_and_no_op_writes(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE ALLOW t x"), 2);
    /* Control: Redis's own no-op write keeps the WATCH. */
    itExpectInt(cmd("SADD set m"), 1);
    if (!execAfter("set", "SADD set m")) fail_msg("control: SADD of a present member aborted");
    const char *noops[] = {"SWARM.ROUTE ADD t a.b channel:x",
                           "SWARM.ROUTE ALLOW t x",
                           "SWARM.ROUTE DEL t 99",
                           "SWARM.ROUTE ADD t a.. channel:x",
                           "SWARM.ROUTE ADD t a** channel:x REGEX",
                           "SWARM.ROUTE ALLOW t (",
                           "SWARM.ROUTE DEFAULT nokey NONE"};
    char bad[1024] = "";
    for (size_t i = 0; i < sizeof(noops) / sizeof(noops[0]); i++) {
        const char *key = strstr(noops[i], "nokey") ? "nokey" : "t";
        if (!execAfter(key, noops[i]))
            snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "\n  '%s' (WATCH %s)", noops[i],
                     key);
    }
    if (bad[0]) fail_msg("commands that changed nothing invalidated WATCH:%s", bad);
}

static void test_scan_type_finds_tables(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD t1 a.b channel:x"), 1);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT t2 channel:dead"));
    itExpectInt(cmd("SWARM.ROUTE ALLOW t3 .*"), 1);
    itExpectOk(cmd("SET s v"));
    itExpectInt(cmd("HSET h f v"), 1);
    redisReply *r = cmd("SCAN 0 TYPE swarm-rtb COUNT 1000");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) fail_msg("bad SCAN reply");
    itExpectStr(r->element[0], "0");
    r->element[0] = NULL;
    redisReply *keys = r->element[1];
    int seen[3] = {0};
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        if (strcmp(k, "t1") == 0)
            seen[0]++;
        else if (strcmp(k, "t2") == 0)
            seen[1]++;
        else if (strcmp(k, "t3") == 0)
            seen[2]++;
        else
            fail_msg("SCAN TYPE swarm-rtb returned '%s'", k);
    }
    if (keys->elements != 3 || !seen[0] || !seen[1] || !seen[2])
        fail_msg("SCAN TYPE swarm-rtb did not return exactly t1 t2 t3");
    freeReplyObject(r);
    itExpectStr(cmd("TYPE t2"), "swarm-rtb");
}

static void test_info_counters_follow_the_keyspace(void **state) {
    (void)state;
    expectCounters(0, 0, 0);
    itExpectInt(cmd("SWARM.ROUTE ADD a a.b channel:x"), 1);
    expectCounters(1, 1, 0);
    itExpectInt(cmd("SWARM.ROUTE ADD a a.c channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW a a\\..*"), 3);
    expectCounters(1, 2, 1);
    itExpectInt(cmd("SWARM.ROUTE ADD b a.c channel:x"), 1);
    itExpectInt(cmd("SWARM.ROUTE DENY b x"), 2);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT c channel:x"));
    expectCounters(3, 3, 2);
    /* Identical and rejected adds change nothing. */
    itExpectInt(cmd("SWARM.ROUTE ADD a a.c channel:x"), 2);
    itExpectInt(cmd("SWARM.ROUTE ALLOW a a\\..*"), 3);
    itExpectError(cmd("SWARM.ROUTE ADD a a.. channel:x"), "EVENTTYPE", NULL);
    itExpectError(cmd("SWARM.ROUTE ADD d a.. channel:x"), "EVENTTYPE", NULL);
    expectCounters(3, 3, 2);
    itExpectInt(cmd("SWARM.ROUTE DEL a 1 3 77"), 2);
    expectCounters(3, 2, 1);
    itExpectInt(cmd("DEL b"), 1);
    expectCounters(2, 1, 0);
    itExpectInt(cmd("COPY a a2"), 1);
    expectCounters(3, 2, 0);
    itExpectOk(cmd("RENAME a2 a3"));
    expectCounters(3, 2, 0);
    itExpectInt(cmd("SWARM.ROUTE DEL a3 2"), 1); /* last route: the key goes */
    expectCounters(2, 1, 0);
    itExpectOk(cmd("SWARM.ROUTE DEFAULT c NONE"));
    expectCounters(1, 1, 0);
    itExpectInt(cmd("SWARM.ROUTE ALLOW a x"), 4);
    itExpectInt(cmd("SWARM.ROUTE ADD e e.f channel:x"), 1);
    expectCounters(2, 2, 1);
    itExpectOk(cmd("FLUSHALL SYNC"));
    expectCounters(0, 0, 0);
    itExpectInt(cmd("SWARM.ROUTE ADD a a.b channel:x"), 1);
    itExpectOk(cmd("FLUSHALL ASYNC"));
    if (!itWaitInfo(c, "swarm", "swarm_tables", "0", 5000)) fail_msg("FLUSHALL ASYNC: tables");
    expectCounters(0, 0, 0);
}

/* ---- Command introspection ---- */

static void test_command_info_describes_subcommands(void **state) {
    (void)state;
    const struct {
        const char *name;
        int arity;
        const char *flags;
        const char *keyflags;
    } subs[] = {
        {"add", -5, "[\"write\",\"denyoom\",\"module\"]", "[\"RW\",\"access\",\"update\"]"},
        {"del", -4, "[\"write\",\"module\"]", "[\"RW\",\"access\",\"update\"]"},
        {"list", 3, "[\"readonly\",\"module\"]", "[\"RO\",\"access\"]"},
        {"match", -4, "[\"readonly\",\"module\"]", "[\"RO\",\"access\"]"},
        {"allow", 4, "[\"write\",\"denyoom\",\"module\"]", "[\"RW\",\"access\",\"update\"]"},
        {"deny", 4, "[\"write\",\"denyoom\",\"module\"]", "[\"RW\",\"access\",\"update\"]"},
        {"rules", 3, "[\"readonly\",\"module\"]", "[\"RO\",\"access\"]"},
        {"default", 4, "[\"write\",\"denyoom\",\"module\"]", "[\"RW\",\"access\",\"update\"]"},
        {"stats", 3, "[\"readonly\",\"module\",\"fast\"]", "[\"RO\",\"access\"]"},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        redisReply *r = cmd("COMMAND INFO swarm.route|%s", subs[i].name);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
            r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements < 10)
            fail_msg("COMMAND INFO swarm.route|%s: unexpected reply", subs[i].name);
        redisReply *e = r->element[0];
        char name[64];
        snprintf(name, sizeof(name), "swarm.route|%s", subs[i].name);
        if (e->element[0]->str == NULL || strcmp(e->element[0]->str, name) != 0)
            fail_msg("COMMAND INFO %s: name", name);
        if (e->element[1]->integer != subs[i].arity)
            fail_msg("%s: arity %lld, expected %d", name, e->element[1]->integer, subs[i].arity);
        char *flags = itReplyRepr(e->element[2]);
        if (strcmp(flags, subs[i].flags) != 0)
            fail_msg("%s: flags %s, expected %s", name, flags, subs[i].flags);
        free(flags);
        if (e->element[3]->integer != 2 || e->element[4]->integer != 2 ||
            e->element[5]->integer != 1)
            fail_msg("%s: first/last/step %lld/%lld/%lld, expected 2/2/1", name,
                     e->element[3]->integer, e->element[4]->integer, e->element[5]->integer);
        redisReply *ks = e->element[8];
        if (ks->type != REDIS_REPLY_ARRAY || ks->elements != 1)
            fail_msg("%s: expected one key spec", name);
        char want[400];
        snprintf(want, sizeof(want),
                 "[\"flags\",%s,\"begin_search\",[\"type\",\"index\",\"spec\",[\"index\",:2]],"
                 "\"find_keys\",[\"type\",\"range\",\"spec\",[\"lastkey\",:0,\"keystep\",:1,"
                 "\"limit\",:0]]]",
                 subs[i].keyflags);
        char *spec = itReplyRepr(ks->element[0]);
        if (strcmp(spec, want) != 0) fail_msg("%s: key spec %s\nexpected %s", name, spec, want);
        free(spec);
        freeReplyObject(r);
    }
    /* The container lists every documented subcommand (others, e.g. HELP, may
     * follow). */
    redisReply *r = cmd("COMMAND INFO swarm.route");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 || r->element[0]->elements < 10)
        fail_msg("COMMAND INFO swarm.route: unexpected reply");
    assert_int_equal(r->element[0]->element[1]->integer, -2);
    redisReply *list = r->element[0]->element[9];
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "swarm.route|%s", subs[i].name);
        int found = 0;
        for (size_t k = 0; k < list->elements; k++) {
            redisReply *e = list->element[k];
            if (e->type == REDIS_REPLY_ARRAY && e->elements > 0 && e->element[0]->str &&
                strcmp(e->element[0]->str, name) == 0)
                found = 1;
        }
        if (!found) fail_msg("COMMAND INFO swarm.route does not list %s", name);
    }
    freeReplyObject(r);
}

static void test_command_docs_has_summaries(void **state) {
    (void)state;
    redisReply *r = cmd("COMMAND DOCS swarm.route|match");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) fail_msg("COMMAND DOCS: bad reply");
    itExpectStr(r->element[0], "swarm.route|match");
    r->element[0] = NULL;
    redisReply *summary = itField(r->element[1], "summary");
    if (summary == NULL || summary->str == NULL ||
        strcmp(summary->str,
               "Returns the targets a publish of this event type would reach (dry run)") != 0)
        fail_msg("COMMAND DOCS swarm.route|match: no or wrong summary");
    redisReply *group = itField(r->element[1], "group");
    if (group == NULL || group->str == NULL || strcmp(group->str, "module") != 0)
        fail_msg("COMMAND DOCS swarm.route|match: group");
    redisReply *module = itField(r->element[1], "module");
    if (module == NULL || module->str == NULL || strcmp(module->str, "swarm") != 0)
        fail_msg("COMMAND DOCS swarm.route|match: module");
    freeReplyObject(r);

    /* Every subcommand documents a summary and a complexity. */
    r = cmd("COMMAND DOCS swarm.route");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) fail_msg("COMMAND DOCS: bad reply");
    redisReply *docs = r->element[1];
    if (itField(docs, "summary") == NULL) fail_msg("swarm.route has no summary");
    redisReply *subs = itField(docs, "subcommands");
    if (subs == NULL) fail_msg("swarm.route: no subcommands in COMMAND DOCS");
    const char *required[] = {"add",  "del",   "list",    "match", "allow",
                              "deny", "rules", "default", "stats"};
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        char name[64];
        snprintf(name, sizeof(name), "swarm.route|%s", required[k]);
        if (itField(subs, name) == NULL) fail_msg("COMMAND DOCS swarm.route lacks %s", name);
    }
    for (size_t i = 0; i + 1 < subs->elements; i += 2) {
        const char *name = subs->element[i]->str;
        redisReply *s = itField(subs->element[i + 1], "summary");
        redisReply *cx = itField(subs->element[i + 1], "complexity");
        if (s == NULL || s->str == NULL || s->len == 0) fail_msg("%s has no summary", name);
        if (cx == NULL || cx->str == NULL || cx->len == 0) fail_msg("%s has no complexity", name);
    }
    freeReplyObject(r);
}

static void test_command_getkeys_finds_the_table_key(void **state) {
    (void)state;
    const char *calls[] = {"ADD k p channel:x",
                           "ADD k p channel:x REGEX PRIORITY 1 2",
                           "DEL k 1 2 3",
                           "LIST k",
                           "MATCH k a.b",
                           "MATCH k a.b PRIORITY 3",
                           "ALLOW k x",
                           "DENY k x",
                           "RULES k",
                           "DEFAULT k NONE",
                           "STATS k"};
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "COMMAND GETKEYS SWARM.ROUTE %s", calls[i]);
        char *got = repr(cmdLine(line));
        if (strcmp(got, "[\"k\"]") != 0)
            fail_msg("COMMAND GETKEYS SWARM.ROUTE %s: %s, expected [\"k\"]", calls[i], got);
        free(got);
    }
}

/* ---- Configuration ---- */

static void test_config_max_type_bytes(void **state) {
    (void)state;
    expectRepr(cmd("CONFIG GET swarm.max-type-bytes"), "[\"swarm.max-type-bytes\",\"256\"]");
    itExpectOk(cmd("CONFIG SET swarm.max-type-bytes 8"));
    expectRepr(cmd("CONFIG GET swarm.max-type-bytes"), "[\"swarm.max-type-bytes\",\"8\"]");
    itExpectError(cmd("CONFIG SET swarm.max-type-bytes 0"), "ERR", "swarm.max-type-bytes");
    itExpectError(cmd("CONFIG SET swarm.max-type-bytes 65537"), "ERR", "between 1 and 65536");
    itExpectError(cmd("CONFIG SET swarm.max-type-bytes abc"), "ERR", "swarm.max-type-bytes");
    expectRepr(cmd("CONFIG GET swarm.max-type-bytes"), "[\"swarm.max-type-bytes\",\"8\"]");

    itExpectInt(cmd("SWARM.ROUTE ADD t abcd.fgh channel:x"), 1); /* 8 bytes */
    expectRepr(cmd("SWARM.ROUTE ADD t abcd.fghi channel:x"),
               "!EVENTTYPE pattern is longer than 8 bytes");
    expectRepr(cmd("SWARM.ROUTE MATCH t abcd.fgh"), "[\"channel:x\"]");
    expectRepr(cmd("SWARM.ROUTE MATCH t abcd.fghi"),
               "!EVENTTYPE event type is longer than 8 bytes");
    /* Regex routes are not event types. */
    itExpectInt(cmd("SWARM.ROUTE ADD t abcdefghijkl channel:x REGEX"), 2);

    itExpectOk(cmd("CONFIG SET swarm.max-type-bytes 256"));
    itExpectInt(cmd("SWARM.ROUTE ADD t abcd.fghi channel:x"), 3);
}

static void test_config_from_module_arguments(void **state) {
    (void)state;
    const char *modargs[] = {
        "max-type-bytes", "16", "swarm.max-payload-bytes", "64kb", "cluster-pubsub",
        "global",         NULL};
    itStart(&argSrv, modargs, NULL);
    redisContext *saved = c;
    c = itConnect(&argSrv);
    struct timeval tv = {REPLY_TIMEOUT_MS / 1000, 0};
    redisSetTimeout(c, tv);
    expectRepr(cmd("CONFIG GET swarm.max-type-bytes"), "[\"swarm.max-type-bytes\",\"16\"]");
    /* Sizes in bytes take memory units and the swarm. prefix, as in redis.conf. */
    expectRepr(cmd("CONFIG GET swarm.max-payload-bytes"),
               "[\"swarm.max-payload-bytes\",\"65536\"]");
    expectRepr(cmd("CONFIG GET swarm.cluster-pubsub"), "[\"swarm.cluster-pubsub\",\"global\"]");
    itExpectInt(cmd("SWARM.ROUTE ADD t abcdefgh.ijklmno channel:x"), 1); /* 16 bytes */
    itExpectError(cmd("SWARM.ROUTE ADD t abcdefgh.ijklmnop channel:x"), "EVENTTYPE",
                  "pattern is longer than 16 bytes");
    redisFree(c);
    c = saved;
    itDestroy(&argSrv);
}

/* Prepares argSrv (fresh directory and port) without starting it. */
static void prepareArgServer(const char *const *modargs, const char *const *extra) {
    memset(&argSrv, 0, sizeof(argSrv));
    for (int i = 0; modargs && modargs[i] && i < 15; i++) argSrv.modargs[i] = modargs[i];
    for (int i = 0; extra && extra[i] && i < 31; i++) argSrv.extra[i] = extra[i];
    snprintf(argSrv.dir, sizeof(argSrv.dir), "/tmp/swarm-it-XXXXXX");
    if (mkdtemp(argSrv.dir) == NULL) fail_msg("mkdtemp failed");
    argSrv.port = itFreePort(55535);
}

static char *argServerLog(void) {
    char path[300];
    snprintf(path, sizeof(path), "%s/redis.log", argSrv.dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) return strdup("");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_config_from_the_command_line(void **state) {
    (void)state;
    const char *extra[] = {"--swarm.max-type-bytes", "32", NULL};
    itStart(&argSrv, NULL, extra);
    redisContext *a = itConnect(&argSrv);
    redisReply *r = itCmd(a, "CONFIG GET swarm.max-type-bytes");
    char *got = itReplyRepr(r);
    freeReplyObject(r);
    if (strcmp(got, "[\"swarm.max-type-bytes\",\"32\"]") != 0)
        fail_msg("CONFIG GET after --swarm.max-type-bytes 32: %s", got);
    free(got);
    redisFree(a);
    itDestroy(&argSrv);
}

static void test_bad_module_arguments_refuse_to_load(void **state) {
    (void)state;
    const struct {
        const char *args[3];
        const char *log;
    } cases[] = {
        {{"max-type-bytes", "0", NULL}, "max-type-bytes must be between 1 and 65536"},
        {{"max-type-bytes", "65537", NULL}, "max-type-bytes must be between 1 and 65536"},
        {{"no-such-option", "1", NULL}, "unknown load argument 'no-such-option'"},
        {{"max-type-bytes", NULL, NULL}, "name/value pairs"},
        /* Memory units only for sizes in bytes, as CONFIG SET accepts them. */
        {{"max-type-bytes", "16kb", NULL}, "max-type-bytes must be between 1 and 65536"},
        {{"cluster-pubsub", "everywhere", NULL}, "cluster-pubsub must be shard or global"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        prepareArgServer(cases[i].args, NULL);
        if (itTryStart(&argSrv) == 0)
            fail_msg("the server loaded the module with '%s %s'", cases[i].args[0],
                     cases[i].args[1] ? cases[i].args[1] : "");
        char *log = argServerLog();
        if (strstr(log, cases[i].log) == NULL)
            fail_msg("the log does not say '%s':\n%s", cases[i].log, log);
        free(log);
        itDestroy(&argSrv);
    }
}

/* ---- Memory ---- */

static void test_memory_usage_grows_with_the_table(void **state) {
    (void)state;
    itExpectInt(cmd("SWARM.ROUTE ADD small svc0.evt channel:c0"), 1);
    itPipelined(c, 1000, appendBigRoute, "big");
    long long small = itInteger(cmd("MEMORY USAGE small"));
    long long big = itInteger(cmd("MEMORY USAGE big"));
    if (small <= 0 || big < small + 1000 * 64)
        fail_msg("MEMORY USAGE: 1 route %lld bytes, 1000 routes %lld bytes", small, big);
    itExpectInt(cmd("SWARM.ROUTE ADD small svc1.evt channel:c1"), 2);
    long long two = itInteger(cmd("MEMORY USAGE small"));
    if (two <= small) fail_msg("MEMORY USAGE did not grow: %lld -> %lld", small, two);
}

static void test_unlink_of_a_big_table_is_freed_lazily(void **state) {
    (void)state;
    itPipelined(c, 10000, appendBigRoute, "big");
    itExpectInt(cmd("SWARM.ROUTE ADD small a.b channel:x"), 1);
    expectCounters(2, 10001, 0);
    expectRepr(cmd("SWARM.ROUTE MATCH big svc9999.evt"), "[\"channel:c9999\"]");
    itExpectInt(cmd("UNLINK big"), 1);
    itExpectInt(cmd("EXISTS big"), 0);
    if (!itWaitInfo(c, "swarm", "swarm_routes", "1", 5000))
        fail_msg("swarm_routes did not drop to 1 after UNLINK (now %lld)",
                 itInfoNum(c, "swarm", "swarm_routes"));
    expectCounters(1, 1, 0);
    itExpectStr(cmd("PING"), "PONG");
    expectRepr(cmd("SWARM.ROUTE MATCH small a.b"), "[\"channel:x\"]");
}

static void appendLeakRound(int i, void *arg) {
    (void)arg;
    int table = i / 55, step = i % 55;
    if (step < 50) {
        redisAppendCommand(c, "SWARM.ROUTE ADD leak%d svc%d.*.evt channel:c%d", table, step, step);
    } else if (step == 50) {
        redisAppendCommand(c, "SWARM.ROUTE ADD leak%d %s channel:re REGEX", table,
                           "s.c[0-9]+\\..*");
    } else if (step == 51) {
        redisAppendCommand(c, "SWARM.ROUTE ALLOW leak%d %s", table, "svc.*");
    } else if (step == 52) {
        redisAppendCommand(c, "SWARM.ROUTE DEFAULT leak%d channel:dead", table);
    } else if (step == 53) {
        redisAppendCommand(c, "SWARM.ROUTE MATCH leak%d svc7.x.evt", table);
    } else {
        redisAppendCommand(c, "SWARM.ROUTE DEL leak%d 3 52", table);
    }
}

static void appendLeakDel(int i, void *arg) {
    (void)arg;
    redisAppendCommand(c, "DEL leak%d", i);
}

static void leakRound(void) {
    itPipelined(c, 200 * 55, appendLeakRound, NULL);
    expectCounters(200, 200 * 50, 0); /* 50 subject + 1 regex - 1 deleted; the rule deleted */
    itPipelined(c, 200, appendLeakDel, NULL);
    expectCounters(0, 0, 0);
}

static void test_create_and_delete_leaves_no_memory_behind(void **state) {
    (void)state;
    leakRound(); /* warm-up: allocator caches, dict sizes, client buffers */
    long long before = itInfoNum(c, "memory", "used_memory");
    leakRound();
    long long after = itInfoNum(c, "memory", "used_memory");
    long long diff = after - before;
    print_message("used_memory after the warm-up round %lld, after the second round %lld\n", before,
                  after);
    if (diff > 64 * 1024 || diff < -64 * 1024)
        fail_msg("used_memory moved by %lld bytes over a round of 200 tables x 50 routes "
                 "(%lld -> %lld)",
                 diff, before, after);
}

int main(void) {
#define T(f) cmocka_unit_test_setup(f, itFixtureReconnect)
    const struct CMUnitTest tests[] = {
        T(test_add_ids_increase_and_are_shared_with_rules),
        T(test_add_identical_route_returns_its_id_without_bumping_ids),
        T(test_add_ids_are_never_reused_after_del),
        T(test_add_regex_route),
        T(test_add_priority_range),
        T(test_add_bad_target_is_err),
        T(test_add_bad_subject_pattern_is_eventtype),
        T(test_add_bad_regex_names_the_offset),
        T(test_add_priority_errors),
        T(test_add_unknown_option_and_arity),
        T(test_del_counts_and_ignores_unknown_ids),
        T(test_del_bad_id_is_err),
        T(test_del_last_route_or_rule_deletes_the_key),
        T(test_list_fields_and_values),
        T(test_list_is_a_resp3_map_per_route),
        T(test_list_missing_key_is_empty_array),
        T(test_list_missing_key_resp3_is_empty_array),
        T(test_rules_missing_key_is_empty_array),
        T(test_stats_missing_key_is_zero),
        T(test_match_missing_key_is_empty_array),
        T(test_match_missing_key_still_validates),
        T(test_match_wildcards),
        T(test_match_regex_routes_are_anchored_and_in_id_order),
        T(test_match_deduplicates_targets_in_route_id_order),
        T(test_match_filters_by_priority),
        T(test_match_default_target_when_nothing_matches),
        T(test_match_bad_type_is_eventtype),
        T(test_match_deny_rule_is_denied_naming_the_rule),
        T(test_match_allow_rules_admit_only_matching_types),
        T(test_match_priority_and_syntax_errors),
        T(test_allow_deny_rules_listing),
        T(test_allow_deny_errors),
        T(test_default_set_none_and_errors),
        T(test_stats_on_existing_table),
        T(test_every_subcommand_answers_wrongtype_on_a_string),
        T(test_rejected_commands_change_nothing),
        T(test_watch_is_invalidated_by_changes),
        T(test_watch_survives_reads),
        T(test_watch_survives_rejected_and_no_op_writes),
        T(test_scan_type_finds_tables),
        T(test_info_counters_follow_the_keyspace),
        T(test_command_info_describes_subcommands),
        T(test_command_docs_has_summaries),
        T(test_command_getkeys_finds_the_table_key),
        T(test_config_max_type_bytes),
        T(test_config_from_module_arguments),
        T(test_config_from_the_command_line),
        T(test_bad_module_arguments_refuse_to_load),
        T(test_memory_usage_grows_with_the_table),
        T(test_unlink_of_a_big_table_is_freed_lazily),
        T(test_create_and_delete_leaves_no_memory_behind),
    };
#undef T
    itFixture(&srv, &c, NULL, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, groupTeardown);
}
