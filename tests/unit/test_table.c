/* test_table.c -- unit tests of the routing table's routes and rules (module/core/table.c):
 * creation, ids, identical routes, validation errors, deletion, the default target, the
 * message id clock, allocation failures at every allocation and memory accounting. */
#include "table_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/event.h"
#include "swarm/table.h"
#include "swarm/table_codec.h"

/* ---- Creation, ids, identical routes ---- */

static void test_table_new_empty(void **state) {
    (void)state;
    swTable *t = newTable();
    assert_true(swTableIsEmpty(t));
    assert_int_equal(t->lastId, 0);
    assert_int_equal(t->nroutes, 0);
    assert_int_equal(t->nrules, 0);
    assert_null(t->deflt);
    assert_null(swTableRoute(t, 1));
    assert_null(swTableRule(t, 1));
    assert_null(swTableRoute(t, 0));
    NO_ROUTES(t, "task.done");
    swTableFree(t);
    swTableFree(NULL);
}

static swStatus tableNewStep(void *arg) {
    swTable **t = arg;
    *t = swTableNew();
    return *t ? SW_OK : SW_ERR_NOMEM;
}

static void test_table_new_nomem(void **state) {
    (void)state;
    swTable *t;
    unitAllocSweep(tableNewStep, NULL, &t);
    swTableFree(t);
}

static void test_table_ids_shared_and_increasing(void **state) {
    (void)state;
    swTable *t = newTable();
    assert_int_equal(SUBJ(t, "task.*", "channel:a"), 1);
    assert_int_equal(ALLOW(t, "task\\..*"), 2);
    assert_int_equal(REGEX(t, "task\\..*", "channel:b"), 3);
    assert_int_equal(DENY(t, "task\\.secret"), 4);
    assert_int_equal(SUBJ(t, "task.>", "stream:s"), 5);
    assert_int_equal(t->nroutes, 3);
    assert_int_equal(t->nrules, 2);
    assert_int_equal(t->nallow, 1);
    assert_non_null(swTableRoute(t, 1));
    assert_null(swTableRule(t, 1));
    assert_non_null(swTableRule(t, 2));
    assert_null(swTableRoute(t, 2));
    assert_int_equal(swTableRoute(t, 3)->kind, SW_ROUTE_REGEX);
    assert_int_equal(swTableRule(t, 4)->action, SW_RULE_DENY);
    assert_null(swTableRoute(t, 6));

    /* Ids are never reused, not even after the highest one is deleted. */
    uint64_t five = 5, two = 2;
    assert_int_equal(swTableDel(t, &five, 1), 1);
    assert_int_equal(swTableDel(t, &two, 1), 1);
    assert_int_equal(SUBJ(t, "task.>", "stream:s"), 6);
    assert_int_equal(ALLOW(t, "task\\..*"), 7);
    assert_false(swTableIsEmpty(t));

    /* Stored copies are NUL-terminated and own their bytes. */
    char pattern[] = "own.*", target[] = "channel:own";
    uint64_t id = SUBJ(t, pattern, target);
    pattern[0] = 'X';
    target[8] = 'X';
    swRoute *r = swTableRoute(t, id);
    assert_string_equal(r->pattern, "own.*");
    assert_string_equal(r->target, "channel:own");
    assert_int_equal(r->pmin, 1);
    assert_int_equal(r->pmax, 9);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);
    expectResolveV(t, "own.x", 0, 0, 0, 1, (const uint64_t[]){8}); /* ALLOW 7 only */
    swTableFree(t);
}

static void test_table_identical_route(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t a = SUBJ(t, "task.*", "channel:a");
    uint64_t b = REGEX(t, "task\\..*", "channel:a");
    uint64_t c = ALLOW(t, "x.*");
    uint64_t id = 0;
    int created = -1;
    /* Identical: the existing id, created 0, nothing written (lastId unchanged). */
    assert_int_equal(swTableAddRoute(t, "task.*", 6, "channel:a", 9, SW_ROUTE_SUBJECT, 1, 9, MAXT,
                                     &id, &created, NULL),
                     SW_OK);
    assert_int_equal(id, a);
    assert_int_equal(created, 0);
    assert_int_equal(swTableAddRoute(t, "task\\..*", 8, "channel:a", 9, SW_ROUTE_REGEX, 1, 9, MAXT,
                                     &id, &created, NULL),
                     SW_OK);
    assert_int_equal(id, b);
    assert_int_equal(created, 0);
    assert_int_equal(swTableAddRule(t, SW_RULE_ALLOW, "x.*", 3, &id, &created, NULL), SW_OK);
    assert_int_equal(id, c);
    assert_int_equal(created, 0);
    assert_int_equal(t->lastId, 3);
    assert_int_equal(t->nroutes, 2);
    assert_int_equal(t->nrules, 1);

    /* Any difference makes a new route: target, priority range, kind, pattern. */
    assert_int_equal(SUBJ(t, "task.*", "channel:b"), 4);
    assert_int_equal(addRoute(t, "task.*", "channel:a", SW_ROUTE_SUBJECT, 1, 8), 5);
    assert_int_equal(addRoute(t, "task.*", "channel:a", SW_ROUTE_SUBJECT, 2, 9), 6);
    assert_int_equal(REGEX(t, "task.*", "channel:a"), 7);
    assert_int_equal(SUBJ(t, "task.>", "channel:a"), 8);
    assert_int_equal(DENY(t, "x.*"), 9); /* same regex, other action */
    assert_int_equal(ALLOW(t, "x.+"), 10);
    /* A subject route and a regex route with the same pattern text are different. */
    assert_int_equal(REGEX(t, "task.done", "channel:a"), 11);
    assert_int_equal(SUBJ(t, "task.done", "channel:a"), 12);
    static const uint64_t all[] = {1, 2, 4, 5, 6, 7, 8, 11, 12};
    expectResolveV(t, "task.done", 0, 0, 0, 9, all); /* ALLOW x.* and x.+ do not match */

    /* After deletion an identical route is new again, with a new id. */
    assert_int_equal(swTableDel(t, &a, 1), 1);
    assert_int_equal(SUBJ(t, "task.*", "channel:a"), 13);
    assert_int_equal(swTableAddRoute(t, "task.*", 6, "channel:a", 9, SW_ROUTE_SUBJECT, 1, 9, MAXT,
                                     &id, &created, NULL),
                     SW_OK);
    assert_int_equal(id, 13);
    assert_int_equal(created, 0);
    swTableFree(t);
}

/* ---- Validation errors ---- */

static void expectAddRouteError(swTable *t, const char *pattern, size_t plen, const char *target,
                                size_t tlen, swRouteKind kind, int pmin, int pmax,
                                size_t maxTypeBytes, swStatus status, const char *msg,
                                size_t offset) {
    char *before, *after;
    size_t blen, alen;
    encode(t, &before, &blen);
    uint64_t id = 12345;
    int created = 7;
    swError err;
    memset(&err, 0, sizeof(err));
    swStatus st = swTableAddRoute(t, pattern, plen, target, tlen, kind, pmin, pmax, maxTypeBytes,
                                  &id, &created, &err);
    assert_int_equal(st, status);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.offset, offset);
    assert_int_equal(id, 12345);
    assert_int_equal(created, 7);
    assert_int_equal(swTableAddRoute(t, pattern, plen, target, tlen, kind, pmin, pmax, maxTypeBytes,
                                     &id, &created, NULL),
                     status);
    encode(t, &after, &alen);
    assertSameBytes(before, blen, after, alen);
    swFree(before);
    swFree(after);
}

#define BAD_ROUTE(t, p, tg, kind, pmin, pmax, st, msg, off)                                        \
    expectAddRouteError(t, p, strlen(p), tg, strlen(tg), kind, pmin, pmax, MAXT, st, msg, off)

static void test_table_add_route_errors(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t lastId = 0;
    for (int round = 0; round < 2; round++) {
        BAD_ROUTE(t, "task.*", "chan:x", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX, BADTARGET("chan:x"),
                  0);
        BAD_ROUTE(t, "task.*", "channel:", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX,
                  BADTARGET("channel:"), 0);
        BAD_ROUTE(t, "task.*", "stream:", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX,
                  BADTARGET("stream:"), 0);
        BAD_ROUTE(t, "task.*", "", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX, BADTARGET(""), 0);
        BAD_ROUTE(t, "task.*", "Channel:x", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX,
                  BADTARGET("Channel:x"), 0);
        BAD_ROUTE(t, "task..x", "channel:a", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_EVENTTYPE,
                  "pattern has an empty token at byte 5", 5);
        BAD_ROUTE(t, "ta*sk", "channel:a", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_EVENTTYPE,
                  "pattern has wildcard '*' inside a token (byte 2); a wildcard must be a whole "
                  "token",
                  2);
        BAD_ROUTE(t, "", "channel:a", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_EVENTTYPE, "pattern is empty",
                  0);
        expectAddRouteError(t, "task.created", 12, "channel:a", 9, SW_ROUTE_SUBJECT, 1, 9, 8,
                            SW_ERR_EVENTTYPE, "pattern is longer than 8 bytes", 8);
        BAD_ROUTE(t, "a(", "channel:a", SW_ROUTE_REGEX, 1, 9, SW_ERR_REGEX,
                  "invalid regex at offset 2: missing closing parenthesis", 2);
        BAD_ROUTE(t, "*x", "channel:a", SW_ROUTE_REGEX, 1, 9, SW_ERR_REGEX,
                  "invalid regex at offset 0: quantifier does not follow a repeatable item", 0);
        static const char *const rangeMsg[] = {
            "PRIORITY range 0..9 is invalid, expected 1 <= min <= max <= 9",
            "PRIORITY range 1..10 is invalid, expected 1 <= min <= max <= 9",
            "PRIORITY range 6..5 is invalid, expected 1 <= min <= max <= 9",
            "PRIORITY range -1..3 is invalid, expected 1 <= min <= max <= 9",
            "PRIORITY range 10..10 is invalid, expected 1 <= min <= max <= 9",
        };
        static const int ranges[][2] = {{0, 9}, {1, 10}, {6, 5}, {-1, 3}, {10, 10}};
        for (size_t i = 0; i < 5; i++) {
            BAD_ROUTE(t, "task.*", "channel:a", SW_ROUTE_SUBJECT, ranges[i][0], ranges[i][1],
                      SW_ERR_RANGE, rangeMsg[i], 0);
        }
        /* The range is checked first, then the target, then the pattern. */
        BAD_ROUTE(t, "a..b", "nope", SW_ROUTE_SUBJECT, 0, 9, SW_ERR_RANGE, rangeMsg[0], 0);
        BAD_ROUTE(t, "a..b", "nope", SW_ROUTE_SUBJECT, 1, 9, SW_ERR_SYNTAX, BADTARGET("nope"), 0);

        /* Sizes: a target and a regex of 64 KiB are the hard caps. */
        static char huge[SW_TABLE_MAX_TARGET + 2];
        size_t big = SW_TABLE_MAX_TARGET + 1;
        memcpy(huge, "channel:", 8);
        memset(huge + 8, 'x', big - 8);
        huge[big] = '\0';
        expectAddRouteError(t, "a", 1, huge, big, SW_ROUTE_SUBJECT, 1, 9, MAXT, SW_ERR_SYNTAX,
                            "target is longer than 65536 bytes", 0);
        memset(huge, 'a', big);
        expectAddRouteError(t, huge, big, "channel:a", 9, SW_ROUTE_REGEX, 1, 9, MAXT, SW_ERR_SYNTAX,
                            "regex is longer than 65536 bytes", 0);
        /* Nothing was consumed: no route, no id. */
        assert_true(swTableIsEmpty(t));
        assert_int_equal(t->lastId, lastId);
        /* Second round: the same errors after ids have been used. */
        if (round == 0) {
            uint64_t one = SUBJ(t, "task.*", "channel:a");
            assert_int_equal(swTableDel(t, &one, 1), 1);
            lastId = one;
        }
    }
    /* Limits that hold exactly. */
    static char edge[SW_TABLE_MAX_TARGET + 1];
    size_t cap = SW_TABLE_MAX_TARGET;
    memcpy(edge, "stream:", 7);
    memset(edge + 7, 'k', cap - 7);
    uint64_t id;
    int created;
    assert_int_equal(
        swTableAddRoute(t, "a", 1, edge, cap, SW_ROUTE_SUBJECT, 1, 9, MAXT, &id, &created, NULL),
        SW_OK);
    assert_int_equal(swTableAddRoute(t, "a.b", 3, "channel:a", 9, SW_ROUTE_SUBJECT, 1, 9, 3, &id,
                                     &created, NULL),
                     SW_OK);
    addRoute(t, "x", "channel:x", SW_ROUTE_SUBJECT, 9, 9);
    addRoute(t, "y", "channel:x", SW_ROUTE_SUBJECT, 1, 1);
    swTableFree(t);
}

/* The message quotes the target the caller passed: its len bytes, not what follows them in
 * memory (the buffer need not be NUL-terminated: swTableDecode passes a pointer into the
 * serialized payload). */
static void test_table_bad_target_message_quotes_only_target_bytes(void **state) {
    (void)state;
    swError err;
    assert_int_equal(swTargetCheck("chan:abcdef", 6, NULL, NULL, &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, BADTARGET("chan:a"));
    /* And at most 128 of them. */
    char longt[300];
    memset(longt, 'z', sizeof(longt) - 1);
    longt[sizeof(longt) - 1] = '\0';
    assert_int_equal(swTargetCheck(longt, 200, NULL, NULL, &err), SW_ERR_SYNTAX);
    char want[SW_ERRMSG_MAX];
    snprintf(want, sizeof(want), "invalid target '%.128s', expected channel:<name> or stream:<key>",
             longt);
    assert_string_equal(err.msg, want);
}

static void test_table_target_check(void **state) {
    (void)state;
    swTargetKind kind = (swTargetKind)-1;
    size_t off = 99;
    assert_int_equal(swTargetCheck("channel:x", 9, &kind, &off, NULL), SW_OK);
    assert_int_equal(kind, SW_TARGET_CHANNEL);
    assert_int_equal(off, 8);
    assert_int_equal(swTargetCheck("stream:swarm:{ops}:inbox", 24, &kind, &off, NULL), SW_OK);
    assert_int_equal(kind, SW_TARGET_STREAM);
    assert_int_equal(off, 7);
    assert_int_equal(swTargetCheck("stream:k", 8, NULL, NULL, NULL), SW_OK);
    /* The length governs: a valid prefix of a longer string. */
    assert_int_equal(swTargetCheck("channel:xyz", 8, NULL, NULL, NULL), SW_ERR_SYNTAX);
    assert_int_equal(swTargetCheck("channel:xyz", 9, NULL, NULL, NULL), SW_OK);
    assert_int_equal(swTargetCheck("channel", 7, NULL, NULL, NULL), SW_ERR_SYNTAX);
    assert_int_equal(swTargetCheck("stream", 6, NULL, NULL, NULL), SW_ERR_SYNTAX);
    assert_int_equal(swTargetCheck("list:x", 6, NULL, NULL, NULL), SW_ERR_SYNTAX);
}

static void test_table_add_rule_errors(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t id = 5;
    int created = 5;
    swError err;
    assert_int_equal(swTableAddRule(t, SW_RULE_DENY, "(x", 2, &id, &created, &err), SW_ERR_REGEX);
    assert_string_equal(err.msg, "invalid regex at offset 2: missing closing parenthesis");
    assert_int_equal(err.offset, 2);
    assert_int_equal(id, 5);
    assert_int_equal(created, 5);
    static char huge[SW_TABLE_MAX_PATTERN + 1];
    size_t big = sizeof(huge);
    memset(huge, 'a', big);
    assert_int_equal(swTableAddRule(t, SW_RULE_ALLOW, huge, big, &id, &created, &err),
                     SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "regex is longer than 65536 bytes");
    assert_true(swTableIsEmpty(t));
    assert_int_equal(t->lastId, 0);
    assert_int_equal(t->nallow, 0);
    swTableFree(t);
}

/* ---- Deletion and the default target ---- */

static void test_table_del(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t a = SUBJ(t, "task.*", "channel:a");     /* 1 */
    uint64_t b = SUBJ(t, "task.*", "channel:b");     /* 2: same pattern as a */
    uint64_t c = REGEX(t, "task\\..*", "channel:c"); /* 3 */
    uint64_t d = ALLOW(t, "task\\..*");              /* 4 */
    uint64_t e = DENY(t, "task\\.secret");           /* 5 */
    uint64_t f = SUBJ(t, ">", "channel:f");          /* 6 */
    ROUTES_A(t, "task.done", d, a, b, c, f);

    uint64_t none[] = {0, 99, 7, UINT64_MAX};
    assert_int_equal(swTableDel(t, none, 4), 0);
    assert_int_equal(swTableDel(t, none, 0), 0);
    ROUTES_A(t, "task.done", d, a, b, c, f);

    /* Repeated ids count once; unknown ids not at all. */
    uint64_t ids[] = {a, a, 99, a};
    assert_int_equal(swTableDel(t, ids, 4), 1);
    assert_null(swTableRoute(t, a));
    ROUTES_A(t, "task.done", d, b, c, f); /* b shares a's pattern and stays */

    uint64_t mixed[] = {e, c, e, 1000, d};
    assert_int_equal(swTableDel(t, mixed, 5), 3);
    assert_int_equal(t->nrules, 0);
    assert_int_equal(t->nallow, 0);
    assert_null(swTableRule(t, d));
    assert_null(swTableRoute(t, c));
    ROUTES(t, "task.done", b, f);
    ROUTES(t, "other", f);
    assert_false(swTableIsEmpty(t));

    uint64_t rest[] = {f, b};
    assert_int_equal(swTableDel(t, rest, 2), 2);
    assert_true(swTableIsEmpty(t));
    NO_ROUTES(t, "task.done");
    assert_int_equal(t->lastId, 6);
    assert_int_equal(swTableDel(t, rest, 2), 0);

    /* Deleting from the middle keeps the id order and the lookups. */
    uint64_t first = 0;
    for (int i = 0; i < 20; i++) {
        char p[16];
        snprintf(p, sizeof(p), "m%d", i);
        uint64_t id = i % 2 ? ALLOW(t, p) : SUBJ(t, p, "channel:m");
        if (i == 0) first = id;
    }
    uint64_t odd[] = {first + 3, first + 4, first + 10, first + 17};
    assert_int_equal(swTableDel(t, odd, 4), 4);
    assertTableSane(t);
    assert_int_equal(t->nroutes + t->nrules, 16);
    assert_null(swTableRoute(t, first + 4));
    assert_non_null(swTableRoute(t, first + 6));
    assert_non_null(swTableRule(t, first + 5));
    assert_null(swTableRule(t, first + 17));
    swTableFree(t);
}

/* Builds the same mixed table every time: subject routes sharing patterns (several ids on
 * one trie node), regex routes, ALLOW and DENY rules; ids 1..n. */
static swTable *mixedTable(size_t n) {
    swTable *t = newTable();
    for (size_t i = 1; i <= n; i++) {
        char p[32], tg[32];
        snprintf(tg, sizeof(tg), "channel:c%zu", i);
        uint64_t id = 0;
        switch (i % 4) {
        case 0:
            snprintf(p, sizeof(p), "p%zu.*", i % 37);
            id = SUBJ(t, p, tg);
            break;
        case 1:
            snprintf(p, sizeof(p), "r%zu\\..*", i);
            id = REGEX(t, p, tg);
            break;
        case 2:
            snprintf(p, sizeof(p), "a%zu", i);
            id = ALLOW(t, p);
            break;
        default:
            snprintf(p, sizeof(p), "d%zu", i);
            id = DENY(t, p);
            break;
        }
        assert_int_equal(id, i);
    }
    return t;
}

/* Checks t holds exactly the ids with alive[id] set, in every index: routes, rules, the
 * regex list, the trie and the ALLOW count. */
static void expectAlive(swTable *t, const unsigned char *alive, size_t n) {
    assertTableSane(t);
    size_t nr = 0, nu = 0, nx = 0, na = 0;
    for (size_t id = 1; id <= n; id++) {
        swRoute *r = swTableRoute(t, id);
        swRule *u = swTableRule(t, id);
        if (!alive[id]) {
            assert_null(r);
            assert_null(u);
            continue;
        }
        assert_true(r != NULL || u != NULL);
        if (r) {
            nr++;
            if (r->kind == SW_ROUTE_REGEX) assert_ptr_equal(t->regexRoutes[nx++], r);
        } else {
            nu++;
            na += u->action == SW_RULE_ALLOW;
        }
    }
    assert_int_equal(t->nroutes, nr);
    assert_int_equal(t->nrules, nu);
    assert_int_equal(t->nregex, nx);
    assert_int_equal(t->nallow, na);
    /* No deleted id stays in the trie. */
    for (size_t k = 0; k < 37; k++) {
        char p[32];
        snprintf(p, sizeof(p), "p%zu.*", k);
        size_t m;
        const uint64_t *ids = swTrieExact(t->trie, p, strlen(p), &m);
        for (size_t j = 0; j < m; j++) assert_true(ids[j] <= n && alive[ids[j]]);
    }
}

static void test_table_del_batch(void **state) {
    (void)state;
    const size_t n = 600;
    for (int nomem = 0; nomem < 2; nomem++) {
        swTable *t = mixedTable(n);
        unsigned char alive[601];
        memset(alive, 1, sizeof(alive));
        alive[0] = 0;
        /* Ids in no particular order, repeated, unknown (0, past lastId) and already gone. */
        uint32_t x = 12345;
        for (int round = 0; round < 4; round++) {
            uint64_t ids[300];
            size_t want = 0;
            for (size_t k = 0; k < 300; k++) {
                x = x * 1103515245u + 12345u;
                ids[k] = (x >> 8) % (n + 20);
                if (ids[k] <= n && alive[ids[k]]) {
                    alive[ids[k]] = 0;
                    want++;
                }
            }
            if (nomem) unitAllocFailAfter(0); /* no memory for the marks: one id at a time */
            size_t got = swTableDel(t, ids, 300);
            unitAllocFailAfter(-1);
            assert_int_equal(got, want);
            expectAlive(t, alive, n);
        }
        swTableFree(t);
    }
}

/* Many routes on one pattern: deleting most of them rebuilds the trie (or, without memory
 * for a new one, removes from the old one); matching sees exactly the routes left. */
static void test_table_del_many_on_one_pattern(void **state) {
    (void)state;
    const size_t n = 300;
    /* fail: how many allocations succeed during the DEL (-1: all). 0 fails the marks, 1 the
     * new trie, more fail an insert into it part way. */
    for (long fail = -1; fail <= 8; fail++) {
        swTable *t = newTable();
        for (size_t i = 1; i <= n; i++) {
            char tg[32];
            snprintf(tg, sizeof(tg), "channel:c%zu", i);
            assert_int_equal(SUBJ(t, i % 2 ? "s.>" : "s.x", tg), i);
        }
        assert_int_equal(SUBJ(t, "other.*", "channel:o"), n + 1);
        uint64_t ids[250];
        for (size_t k = 0; k < 250; k++) ids[k] = k + 1;
        unitAllocFailAfter(fail);
        assert_int_equal(swTableDel(t, ids, 250), 250);
        unitAllocFailAfter(-1);
        assertTableSane(t);
        assert_int_equal(t->nroutes, n - 250 + 1);
        size_t m;
        const uint64_t *left = swTrieExact(t->trie, "s.>", 3, &m);
        assert_int_equal(m, 25);
        for (size_t j = 0; j < m; j++) assert_true(left[j] > 250 && left[j] % 2 == 1);
        left = swTrieExact(t->trie, "s.x", 3, &m);
        assert_int_equal(m, 25);
        swTrieExact(t->trie, "other.*", 7, &m);
        assert_int_equal(m, 1);
        const uint64_t want[] = {251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263,
                                 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274, 275, 276,
                                 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288, 289,
                                 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300};
        expectResolveV(t, "s.x", 1, 0, 0, 50, want);
        swTableFree(t);
    }
}

/* Deleting every id at once leaves an empty table, whatever order they come in. */
static void test_table_del_everything(void **state) {
    (void)state;
    const size_t n = 200;
    swTable *t = mixedTable(n);
    uint64_t ids[200];
    for (size_t i = 0; i < n; i++) ids[i] = n - i;
    assert_int_equal(swTableDel(t, ids, n), n);
    assert_true(swTableIsEmpty(t));
    assert_int_equal(t->nregex, 0);
    assert_int_equal(t->nallow, 0);
    assert_int_equal(t->lastId, n);
    NO_ROUTES(t, "p1.x");
    assert_int_equal(swTableDel(t, ids, n), 0);
    swTableFree(t);
}

static void test_table_default(void **state) {
    (void)state;
    swTable *t = newTable();
    swError err;
    assert_int_equal(swTableSetDefault(t, "channel:dead", 12, &err), SW_OK);
    assert_false(swTableIsEmpty(t));
    assert_int_equal(t->defltLen, 12);
    assert_string_equal(t->deflt, "channel:dead");
    /* A bad target keeps the old default. */
    assert_int_equal(swTableSetDefault(t, "dead", 4, &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, BADTARGET("dead"));
    assert_string_equal(t->deflt, "channel:dead");
    /* Replaced, then cleared. */
    assert_int_equal(swTableSetDefault(t, "stream:dlq", 10, &err), SW_OK);
    assert_string_equal(t->deflt, "stream:dlq");
    assert_int_equal(t->defltLen, 10);
    assert_int_equal(swTableSetDefault(t, NULL, 0, &err), SW_OK);
    assert_null(t->deflt);
    assert_int_equal(t->defltLen, 0);
    assert_true(swTableIsEmpty(t));
    assert_int_equal(swTableSetDefault(t, NULL, 0, NULL), SW_OK); /* clearing twice */
    /* Out of memory keeps the old default. */
    assert_int_equal(swTableSetDefault(t, "channel:dead", 12, &err), SW_OK);
    unitAllocFailAfter(0);
    assert_int_equal(swTableSetDefault(t, "channel:other", 13, &err), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_string_equal(err.msg, "out of memory");
    assert_string_equal(t->deflt, "channel:dead");
    /* A default alone keeps a table non-empty; routes and rules do too. */
    uint64_t id = SUBJ(t, "a", "channel:a");
    assert_int_equal(swTableSetDefault(t, NULL, 0, NULL), SW_OK);
    assert_false(swTableIsEmpty(t));
    assert_int_equal(swTableDel(t, &id, 1), 1);
    assert_true(swTableIsEmpty(t));
    id = DENY(t, "a");
    assert_false(swTableIsEmpty(t));
    assert_int_equal(swTableDel(t, &id, 1), 1);
    assert_true(swTableIsEmpty(t));
    swTableFree(t);
}

/* ---- Message id clock ---- */

static void test_table_next_id(void **state) {
    (void)state;
    swTable *t = newTable();
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, 1000, &ms, &seq);
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, 0);
    swTableNextId(t, 1000, &ms, &seq); /* the clock stands still */
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, 1);
    swTableNextId(t, 999, &ms, &seq); /* the clock goes backwards */
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, 2);
    swTableNextId(t, 0, &ms, &seq);
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, 3);
    swTableNextId(t, -5000, &ms, &seq);
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, 4);
    swTableNextId(t, 1001, &ms, &seq);
    assert_int_equal(ms, 1001);
    assert_int_equal(seq, 0);
    assert_int_equal(t->clockMs, 1001);
    assert_int_equal(t->clockSeq, 0);

    /* Strictly increasing over an erratic clock. */
    int64_t prevMs = ms;
    uint64_t prevSeq = seq;
    uint64_t x = 88172645463325252ull;
    int64_t now = 1700000000000;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        now += (int64_t)(x % 7) - 3; /* forwards, still, backwards */
        swTableNextId(t, now, &ms, &seq);
        assert_true(ms > prevMs || (ms == prevMs && seq > prevSeq));
        assert_true(ms >= now);
        prevMs = ms;
        prevSeq = seq;
    }
    /* And across a save and load. */
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    swTable *u = decodeOk(buf, len);
    swFree(buf);
    swTableNextId(u, prevMs - 10, &ms, &seq);
    assert_int_equal(ms, prevMs);
    assert_int_equal(seq, prevSeq + 1);
    swTableFree(u);
    swTableFree(t);
}

/* When the sequence of a millisecond is exhausted the next id must still be greater: like
 * Redis stream ids, it moves on to the next millisecond instead of wrapping to seq 0. */
static void test_table_next_id_sequence_exhausted(void **state) {
    (void)state;
    swTable *t = craftedTable(0, 1000, UINT64_MAX - 1);
    assert_non_null(t);
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, 1000, &ms, &seq);
    assert_int_equal(ms, 1000);
    assert_int_equal(seq, UINT64_MAX);
    swTableNextId(t, 1000, &ms, &seq);
    assert_true(ms > 1000); /* (1000, 0) would repeat an id issued before */
    assert_int_equal(ms, 1001);
    assert_int_equal(seq, 0);
    swTableFree(t);
}

/* Issue 9 item 3: the clock never passes SW_TABLE_CLOCK_MAX_MS, so no arithmetic on it
 * overflows; at its very end the table refuses to issue an id rather than repeat one. */
static void test_table_next_id_clock_end(void **state) {
    (void)state;
    int64_t ms;
    uint64_t seq;
    /* A server clock beyond the end counts as the end. */
    swTable *t = newTable();
    assert_int_equal(swTableNextId(t, INT64_MAX, &ms, &seq), SW_OK);
    assert_int_equal(ms, SW_TABLE_CLOCK_MAX_MS);
    assert_int_equal(seq, 0);
    assert_int_equal(swTableNextId(t, INT64_MIN, &ms, &seq), SW_OK);
    assert_int_equal(ms, SW_TABLE_CLOCK_MAX_MS);
    assert_int_equal(seq, 1);
    swTableFree(t);
    /* The last ids of the last millisecond, then a refusal that changes nothing. */
    t = craftedTable(0, (uint64_t)SW_TABLE_CLOCK_MAX_MS, UINT64_MAX - 1);
    assert_non_null(t);
    assert_int_equal(swTableNextId(t, 5, &ms, &seq), SW_OK);
    assert_int_equal(seq, UINT64_MAX);
    ms = 7;
    seq = 9;
    assert_int_equal(swTableNextId(t, SW_TABLE_CLOCK_MAX_MS, &ms, &seq), SW_ERR_LIMIT);
    assert_int_equal(ms, 7);
    assert_int_equal(seq, 9);
    assert_int_equal(t->clockMs, SW_TABLE_CLOCK_MAX_MS);
    assert_int_equal(t->clockSeq, UINT64_MAX);
    swTableFree(t);
    /* The clock the fuzzer found (INT64_MAX) does not load at all. */
    assert_null(craftedTable(0, (uint64_t)INT64_MAX, 0));
}

/* Ids are positive and never reused, and the glue replies and parses them as signed 64-bit
 * integers. A table whose lastId is at the end of the id space (a crafted RESTORE payload)
 * must refuse new ids rather than wrap to 0 and then hand out ids that exist already. */
static void test_table_ids_never_wrap(void **state) {
    (void)state;
    static const uint64_t ends[] = {UINT64_MAX, (uint64_t)INT64_MAX};
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        swTable *t = craftedTable(ends[i], 0, 0);
        if (t == NULL) continue; /* refusing such a table on load is fine too */
        uint64_t id = 0;
        int created = -1;
        swError err;
        swStatus st = swTableAddRoute(t, "a", 1, "channel:a", 9, SW_ROUTE_SUBJECT, 1, 9, MAXT, &id,
                                      &created, &err);
        if (st == SW_OK)
            print_error("lastId %llu: route got id %llu\n", (unsigned long long)ends[i],
                        (unsigned long long)id);
        assert_int_equal(st, SW_ERR_LIMIT);
        st = swTableAddRule(t, SW_RULE_DENY, "a", 1, &id, &created, &err);
        assert_int_equal(st, SW_ERR_LIMIT);
        assert_int_equal(t->lastId, ends[i]);
        assert_true(swTableIsEmpty(t));
        swTableFree(t);
    }
}

/* ---- Allocation failures ---- */

static const char *const probeTypes[] = {"task.done", "task.x",  "agent.a", "secret.x",
                                         "k3",        "k12.x.y", "zzz"};
#define NPROBES (sizeof(probeTypes) / sizeof(probeTypes[0]))

/* A table and what it held before an operation under allocation failures. */
typedef struct tableBefore {
    swTable *t;
    char *bytes; /* its encoding */
    size_t blen;
    const char *const *types; /* the event types whose resolutions are kept */
    size_t ntypes;
    resCopy want[NPROBES];
} tableBefore;

static void tableBeforeTake(tableBefore *b, swTable *t, const char *const *types, size_t n) {
    assert_true(n <= NPROBES);
    b->t = t;
    encode(t, &b->bytes, &b->blen);
    b->types = types;
    b->ntypes = n;
    for (size_t i = 0; i < n; i++) resolveCopy(t, types[i], &b->want[i]);
}

/* The table is byte-for-byte and resolution-for-resolution as before, and its trie holds no
 * id the table does not know. */
static void tableBeforeCheck(const tableBefore *b) {
    char *after;
    size_t alen;
    encode(b->t, &after, &alen);
    assertSameBytes(b->bytes, b->blen, after, alen);
    swFree(after);
    for (size_t i = 0; i < b->ntypes; i++) {
        resCopy got;
        resolveCopy(b->t, b->types[i], &got);
        assertSameResolution(&b->want[i], &got);
        /* Below the cache: the trie itself. */
        swIdVec ids = {0};
        assert_int_equal(swTrieMatch(b->t->trie, b->types[i], strlen(b->types[i]), &ids), SW_OK);
        for (size_t k = 0; k < ids.len; k++) assert_non_null(swTableRoute(b->t, ids.ids[k]));
        swIdVecFree(&ids);
    }
}

typedef struct addRouteRun {
    tableBefore before;
    const char *pattern, *target;
    swRouteKind kind;
    int pmin, pmax;
    uint64_t lastId;
    size_t nroutes;
    uint64_t id;
    int created;
    swError err;
} addRouteRun;

static swStatus addRouteStep(void *arg) {
    addRouteRun *a = arg;
    a->id = 777;
    a->created = 777;
    memset(&a->err, 0, sizeof(a->err));
    return swTableAddRoute(a->before.t, a->pattern, strlen(a->pattern), a->target,
                           strlen(a->target), a->kind, a->pmin, a->pmax, MAXT, &a->id, &a->created,
                           &a->err);
}

static void addRouteFailed(void *arg) {
    addRouteRun *a = arg;
    assert_string_equal(a->err.msg, "out of memory");
    assert_int_equal(a->id, 777);
    assert_int_equal(a->created, 777);
    assert_int_equal(a->before.t->lastId, a->lastId);
    assert_int_equal(a->before.t->nroutes, a->nroutes);
    assert_null(swTableRoute(a->before.t, a->lastId + 1));
    tableBeforeCheck(&a->before);
}

/* Checks an operation under failure at every allocation index until it succeeds: each
 * failure is SW_ERR_NOMEM with the table byte-for-byte and resolution-for-resolution as
 * before, and the trie holding no id the table does not know. */
static void addRouteUnderFailures(swTable *t, const char *pattern, const char *target,
                                  swRouteKind kind, int pmin, int pmax) {
    addRouteRun a = {.pattern = pattern,
                     .target = target,
                     .kind = kind,
                     .pmin = pmin,
                     .pmax = pmax,
                     .lastId = t->lastId,
                     .nroutes = t->nroutes};
    tableBeforeTake(&a.before, t, probeTypes, NPROBES);
    unitAllocSweep(addRouteStep, addRouteFailed, &a);
    assert_int_equal(a.created, 1);
    assert_int_equal(a.id, a.lastId + 1);
    swFree(a.before.bytes);
    assertTableSane(t);
}

static void test_table_add_route_nomem(void **state) {
    (void)state;
    swTable *t = newTable();
    addRouteUnderFailures(t, "task.*", "channel:a", SW_ROUTE_SUBJECT, 1, 9); /* first route */
    ALLOW(t, ".*");
    DENY(t, "secret\\..*");
    addRouteUnderFailures(t, "agent\\..*", "stream:s", SW_ROUTE_REGEX, 1, 9);
    addRouteUnderFailures(t, "task.done", "channel:b", SW_ROUTE_SUBJECT, 2, 8);
    addRouteUnderFailures(t, "task.*", "channel:c", SW_ROUTE_SUBJECT, 1, 9); /* same node */
    addRouteUnderFailures(t, ">", "channel:d", SW_ROUTE_SUBJECT, 8, 9);
    char p[16];
    for (int i = 0; i < 14; i++) { /* grows the routes array and the trie's child tables */
        snprintf(p, sizeof(p), "k%d.>", i);
        addRouteUnderFailures(t, p, "channel:k", SW_ROUTE_SUBJECT, 1, 9);
    }
    addRouteUnderFailures(t, "k12.x.*", "channel:k12", SW_ROUTE_SUBJECT, 1, 9);
    addRouteUnderFailures(t, "z.*|k3", "channel:z", SW_ROUTE_REGEX, 1, 9);
    /* 1 task.*, 2 ALLOW, 3 DENY, 4 agent, 5 task.done, 6 task.*, 7 >, 8..21 k<i>.>,
     * 22 k12.x.*, 23 z.*|k3 */
    expectResolveV(t, "k3", 1, 0, 2, 2, (const uint64_t[]){7, 23});
    expectResolveV(t, "k12.x.y", 1, 0, 2, 3, (const uint64_t[]){7, 20, 22});
    expectResolveV(t, "task.done", 1, 0, 2, 4, (const uint64_t[]){1, 5, 6, 7});
    swTableFree(t);
}

typedef struct addRuleRun {
    tableBefore before;
    swRuleAction action;
    const char *re;
    swError err;
} addRuleRun;

static swStatus addRuleStep(void *arg) {
    addRuleRun *a = arg;
    uint64_t id;
    int created;
    return swTableAddRule(a->before.t, a->action, a->re, strlen(a->re), &id, &created, &a->err);
}

static void addRuleFailed(void *arg) {
    addRuleRun *a = arg;
    assert_string_equal(a->err.msg, "out of memory");
    tableBeforeCheck(&a->before);
}

static void test_table_add_rule_nomem(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, ">", "channel:all");
    for (int k = 0; k < 12; k++) { /* grows the rules array */
        char re[32];
        snprintf(re, sizeof(re), "r%d\\..*", k);
        addRuleRun a = {.action = k % 2 ? SW_RULE_DENY : SW_RULE_ALLOW, .re = re};
        static const char *const r3[] = {"r3.x"};
        tableBeforeTake(&a.before, t, r3, 1);
        unitAllocSweep(addRuleStep, addRuleFailed, &a);
        swFree(a.before.bytes);
    }
    assertTableSane(t);
    expectResolveV(t, "r3.x", 0, 5, 0, 1, (const uint64_t[]){1});
    expectResolveV(t, "r2.x", 1, 0, 4, 1, (const uint64_t[]){1});
    swTableFree(t);
}

/* ---- Memory accounting ---- */

static void test_table_memusage(void **state) {
    (void)state;
    swTable *t = newTable();
    size_t empty = swTableMemUsage(t);
    uint64_t a = SUBJ(t, "task.*", "channel:a");
    size_t one = swTableMemUsage(t);
    assert_true(one > empty);
    uint64_t b = REGEX(t, "agent\\..*", "channel:b");
    size_t two = swTableMemUsage(t);
    assert_true(two > one);
    uint64_t c = DENY(t, "x");
    assert_true(swTableMemUsage(t) > two);
    uint64_t ids[] = {a, b, c};
    assert_int_equal(swTableDel(t, ids, 3), 3);
    assert_true(swTableMemUsage(t) < two);
    swTableFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_new_empty),
        cmocka_unit_test(test_table_new_nomem),
        cmocka_unit_test(test_table_ids_shared_and_increasing),
        cmocka_unit_test(test_table_identical_route),
        cmocka_unit_test(test_table_add_route_errors),
        cmocka_unit_test(test_table_bad_target_message_quotes_only_target_bytes),
        cmocka_unit_test(test_table_target_check),
        cmocka_unit_test(test_table_add_rule_errors),
        cmocka_unit_test(test_table_del),
        cmocka_unit_test(test_table_del_batch),
        cmocka_unit_test(test_table_del_many_on_one_pattern),
        cmocka_unit_test(test_table_del_everything),
        cmocka_unit_test(test_table_default),
        cmocka_unit_test(test_table_next_id),
        cmocka_unit_test(test_table_next_id_sequence_exhausted),
        cmocka_unit_test(test_table_next_id_clock_end),
        cmocka_unit_test(test_table_ids_never_wrap),
        cmocka_unit_test(test_table_add_route_nomem),
        cmocka_unit_test(test_table_add_rule_nomem),
        cmocka_unit_test(test_table_memusage),
    };
    return cmocka_run_group_tests_name("table", tests, unitAllocSetup, unitAllocTeardown);
}
