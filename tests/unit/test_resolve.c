/* test_resolve.c -- unit tests of event type resolution and its cache (module/core/resolve.c):
 * admission rules, merging subject and regex routes in id order, cache invalidation, many
 * types, allocation failures, and the targets selected for a priority. */
#include "table_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/resolve.h"
#include "swarm/table.h"

/* ---- Resolution ---- */

static void test_resolve_rules(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t r = SUBJ(t, ">", "channel:all");
    /* No rules: everything is admitted. */
    expectResolveV(t, "secret.x", 1, 0, 0, 1, &r);

    /* ALLOW-only: a type must match one. */
    uint64_t allowTask = ALLOW(t, "task\\..*");
    expectResolveV(t, "task.done", 1, 0, allowTask, 1, &r);
    expectResolveV(t, "other.done", 0, 0, 0, 1, &r);
    expectResolveV(t, "task", 0, 0, 0, 1, &r); /* anchored: task\..* needs the dot */
    uint64_t allowAgent = ALLOW(t, "agent\\..*");
    expectResolveV(t, "agent.x", 1, 0, allowAgent, 1, &r);
    expectResolveV(t, "task.x", 1, 0, allowTask, 1, &r);

    /* DENY wins over ALLOW. */
    uint64_t denySecret = DENY(t, "task\\.secret.*");
    expectResolveV(t, "task.secret", 0, denySecret, allowTask, 1, &r);
    expectResolveV(t, "task.secrets.x", 0, denySecret, allowTask, 1, &r);
    expectResolveV(t, "task.public", 1, 0, allowTask, 1, &r);
    /* The first (lowest id) matching rule of each kind is reported. */
    uint64_t denyAll = DENY(t, ".*");
    uint64_t allowAll = ALLOW(t, ".*");
    expectResolveV(t, "task.secret", 0, denySecret, allowTask, 1, &r);
    expectResolveV(t, "zzz", 0, denyAll, allowAll, 1, &r);
    uint64_t dels[] = {denySecret, denyAll};
    assert_int_equal(swTableDel(t, dels, 2), 2);
    expectResolveV(t, "zzz", 1, 0, allowAll, 1, &r);
    expectResolveV(t, "task.secret", 1, 0, allowTask, 1, &r);

    /* DENY-only: everything not denied is admitted. */
    uint64_t allows[] = {allowTask, allowAgent, allowAll};
    assert_int_equal(swTableDel(t, allows, 3), 3);
    assert_int_equal(t->nallow, 0);
    uint64_t denyX = DENY(t, "x\\..*");
    expectResolveV(t, "x.y", 0, denyX, 0, 1, &r);
    expectResolveV(t, "y.x", 1, 0, 0, 1, &r);
    swTableFree(t);
}

/* A type made of 61 'a', then "bc": "(a+)+b" backtracks exponentially on it (the 'b' PCRE2
 * requires is there, but not at the end) and hits the match limit. */
static const char *limitType(void) {
    static char type[64];
    memset(type, 'a', sizeof(type) - 3);
    type[sizeof(type) - 3] = 'b';
    type[sizeof(type) - 2] = 'c';
    type[sizeof(type) - 1] = '\0';
    return type;
}

static void expectRefusal(const swResolution *res, const char *type, swStatus want,
                          const char *msg) {
    swError err;
    assert_int_equal(swResolutionAdmit(res, type, strlen(type), &err), want);
    assert_string_equal(err.msg, msg);
}

/* Issue 9 item 2: a rule that cannot decide fails closed and says so: it never reads as a
 * match or a non-match, and a DENY rule that hits a limit no longer denies silently. */
static void test_resolve_rule_limit_fails_closed(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, ">", "channel:all");
    uint64_t deny = DENY(t, "(a+)+b");
    const char *type = limitType();
    char want[160];
    /* Twice: a resolution that hit a limit is not cached, so it runs (and counts) again. */
    for (int round = 0; round < 2; round++) {
        const swResolution *res = resolve(t, type);
        assert_false(res->admitted);
        assert_null(res->denyRule);
        assert_non_null(res->limitRule);
        assert_int_equal(res->limitRule->id, deny);
        assert_int_equal(res->limitResult, SW_REGEX_LIMIT_MATCH);
        assert_int_equal(res->limitHits, 1);
        snprintf(want, sizeof(want), "regex rule %llu hit the PCRE2 match limit",
                 (unsigned long long)deny);
        expectRefusal(res, type, SW_ERR_LIMIT, want);
    }
    /* Other types still resolve, and are cached: no limit, no count. */
    expectResolveV(t, "a.b", 1, 0, 0, 1, (uint64_t[]){1});
    assert_int_equal(resolve(t, "a.b")->limitHits, 0);
    /* A later DENY rule that matches is not reached: the first DENY rule decides. */
    DENY(t, "a+bc");
    assert_int_equal(resolve(t, type)->limitRule->id, deny);

    /* An ALLOW rule that cannot decide allows nothing and says why... */
    uint64_t dels[] = {deny, deny + 1};
    assert_int_equal(swTableDel(t, dels, 2), 2);
    uint64_t allow = ALLOW(t, "(a+)+b");
    const swResolution *res = resolve(t, type);
    assert_false(res->admitted);
    assert_null(res->allowRule);
    assert_int_equal(res->limitRule->id, allow);
    snprintf(want, sizeof(want), "regex rule %llu hit the PCRE2 match limit",
             (unsigned long long)allow);
    expectRefusal(res, type, SW_ERR_LIMIT, want);
    /* ... unless another ALLOW rule admits the type: then only the count says it. */
    uint64_t allow2 = ALLOW(t, "a+bc");
    res = resolve(t, type);
    assert_true(res->admitted);
    assert_int_equal(res->allowRule->id, allow2);
    assert_null(res->limitRule);
    assert_int_equal(res->limitHits, 1);
    /* A clean DENY refusal keeps its DENIED error. */
    uint64_t d = DENY(t, "a+bc");
    res = resolve(t, type);
    assert_int_equal(res->denyRule->id, d);
    assert_null(res->limitRule);
    snprintf(want, sizeof(want), "event type '%s' is denied by rule %llu", type,
             (unsigned long long)d);
    expectRefusal(res, type, SW_ERR_DENIED, want);
    swTableFree(t);
}

/* The heap limit stops a pattern whose frames are huge (thousands of capture groups), and
 * the refusal names it. */
static void test_resolve_rule_heap_limit(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, ">", "channel:all");
    size_t n = 6000;
    char *re = test_malloc(2 * n + 16);
    for (size_t i = 0; i < n; i++) memcpy(re + 2 * i, "()", 2);
    strcpy(re + 2 * n, "(?:a)*b");
    uint64_t rule = DENY(t, re);
    test_free(re);
    char type[254]; /* 252 a's and a 'b': PCRE2 needs the 'b' before it runs at all */
    memset(type, 'a', sizeof(type) - 2);
    type[sizeof(type) - 2] = 'b';
    type[sizeof(type) - 1] = '\0';
    const swResolution *res = resolve(t, type);
    assert_false(res->admitted);
    assert_int_equal(res->limitRule->id, rule);
    assert_int_equal(res->limitResult, SW_REGEX_LIMIT_HEAP);
    char want[160];
    snprintf(want, sizeof(want), "regex rule %llu hit the PCRE2 heap limit",
             (unsigned long long)rule);
    expectRefusal(res, type, SW_ERR_LIMIT, want);
    swTableFree(t);
}

/* A regex route that cannot decide is left out, counted, and the resolution not cached. */
static void test_resolve_regex_route_limit_counted(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t all = SUBJ(t, ">", "channel:all");
    REGEX(t, "(a+)+b", "channel:slow");
    const char *type = limitType();
    for (int round = 0; round < 2; round++) {
        const swResolution *res = resolve(t, type);
        assert_true(res->admitted);
        assert_null(res->limitRule);
        assert_int_equal(res->limitHits, 1);
        assert_int_equal(res->nroutes, 1);
        assert_int_equal(res->routes[0]->id, all);
    }
    swTableFree(t);
}

static void test_resolve_merges_in_id_order(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t r1 = SUBJ(t, "task.*", "channel:1");
    uint64_t r2 = REGEX(t, "task\\..*", "channel:2");
    uint64_t r3 = SUBJ(t, ">", "channel:3");
    uint64_t r4 = REGEX(t, ".*done", "channel:4");
    uint64_t r5 = SUBJ(t, "task.done", "channel:5");
    uint64_t r6 = REGEX(t, "nothing", "channel:6");
    uint64_t r7 = SUBJ(t, "*.done", "channel:7");
    (void)r6;
    ROUTES(t, "task.done", r1, r2, r3, r4, r5, r7);
    ROUTES(t, "task.x", r1, r2, r3);
    ROUTES(t, "a.done", r3, r4, r7);
    ROUTES(t, "nothing", r3, r6);
    ROUTES(t, "zzz", r3);
    /* Deleting and re-adding moves a route to the end of the order. */
    assert_int_equal(swTableDel(t, &r1, 1), 1);
    uint64_t r8 = SUBJ(t, "task.*", "channel:1");
    ROUTES(t, "task.done", r2, r3, r4, r5, r7, r8);
    /* Many regex routes interleaved with many subject routes. */
    uint64_t want[40];
    size_t n = 0;
    swTable *u = newTable();
    for (int i = 0; i < 40; i++) {
        char tg[32];
        snprintf(tg, sizeof(tg), "channel:%d", i);
        uint64_t id = (i * 7) % 3 == 0 ? REGEX(u, "a\\.b", tg) : SUBJ(u, i % 2 ? "a.*" : "*.b", tg);
        want[n++] = id;
    }
    expectResolveV(u, "a.b", 1, 0, 0, n, want);
    swTableFree(u);
    swTableFree(t);
}

/* Every change to routes or rules drops the cache: resolve, change, resolve again. */
static void test_resolve_cache_invalidation(void **state) {
    (void)state;
    swTable *t = newTable();
    NO_ROUTES(t, "task.done");
    uint64_t a = SUBJ(t, "task.*", "channel:a");
    ROUTES(t, "task.done", a);
    ROUTES(t, "task.done", a); /* cached */
    const swResolution *p1 = resolve(t, "task.done");
    assert_ptr_equal(resolve(t, "task.done"), p1);
    uint64_t b = REGEX(t, ".*done", "channel:b");
    ROUTES(t, "task.done", a, b);
    uint64_t c = SUBJ(t, "task.done", "channel:c");
    ROUTES(t, "task.done", a, b, c);
    assert_int_equal(swTableDel(t, &a, 1), 1);
    ROUTES(t, "task.done", b, c);
    assert_int_equal(swTableDel(t, &b, 1), 1);
    ROUTES(t, "task.done", c);

    uint64_t d = DENY(t, "task\\.done");
    expectResolveV(t, "task.done", 0, d, 0, 1, &c);
    assert_int_equal(swTableDel(t, &d, 1), 1);
    ROUTES(t, "task.done", c);
    uint64_t al = ALLOW(t, "other");
    expectResolveV(t, "task.done", 0, 0, 0, 1, &c);
    uint64_t al2 = ALLOW(t, "task\\..*");
    expectResolveV(t, "task.done", 1, 0, al2, 1, &c);
    assert_int_equal(swTableDel(t, &al2, 1), 1);
    expectResolveV(t, "task.done", 0, 0, 0, 1, &c);
    assert_int_equal(swTableDel(t, &al, 1), 1);
    ROUTES(t, "task.done", c);

    /* An identical add or a delete of nothing need not drop anything, but must not break. */
    uint64_t id;
    int created;
    assert_int_equal(swTableAddRoute(t, "task.done", 9, "channel:c", 9, SW_ROUTE_SUBJECT, 1, 9,
                                     MAXT, &id, &created, NULL),
                     SW_OK);
    assert_int_equal(created, 0);
    uint64_t nothing = 999;
    assert_int_equal(swTableDel(t, &nothing, 1), 0);
    ROUTES(t, "task.done", c);
    /* A failed add changes nothing either. */
    assert_int_equal(swTableAddRoute(t, "task.done", 9, "bad", 3, SW_ROUTE_SUBJECT, 1, 9, MAXT, &id,
                                     &created, NULL),
                     SW_ERR_SYNTAX);
    ROUTES(t, "task.done", c);
    swTableFree(t);
}

/* More distinct types than the cache holds: answers stay right across its resets. */
static void test_resolve_many_types(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t all = SUBJ(t, ">", "channel:all");
    uint64_t even = REGEX(t, "t[0-9]*[02468]", "channel:even");
    char type[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2500; i++) {
            snprintf(type, sizeof(type), "t%d", i);
            if (i % 2 == 0) {
                ROUTES(t, type, all, even);
            } else {
                ROUTES(t, type, all);
            }
        }
    }
    assert_true(swTableMemUsage(t) > 0);
    swTableFree(t);
}

struct resolveRun {
    swTable *t;
    const char *type;
};

static swStatus resolveStep(void *arg) {
    struct resolveRun *a = arg;
    const swResolution *res = NULL;
    return swTableResolve(a->t, a->type, strlen(a->type), &res);
}

static void test_resolve_nomem(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t ids[12];
    for (int i = 0; i < 12; i++) {
        char tg[16];
        snprintf(tg, sizeof(tg), "channel:%d", i);
        ids[i] = i % 3 ? SUBJ(t, i % 2 ? ">" : "a.*", tg) : REGEX(t, "a\\..*", tg);
    }
    ALLOW(t, "a\\..*");
    char type[16];
    for (int k = 0; k < 40; k++) { /* enough types to make the cache grow under failures */
        snprintf(type, sizeof(type), "a.x%d", k);
        struct resolveRun a = {t, type};
        unitAllocSweep(resolveStep, NULL, &a);
        expectResolveV(t, type, 1, 0, 13, 12, ids);
    }
    swTableFree(t);
}

/* ---- Targets for a priority ---- */

static size_t targets(swTable *t, const char *type, int priority, uint64_t *ids) {
    const swResolution *res = resolve(t, type);
    swRoute **out = test_malloc((res->nroutes + 1) * sizeof(*out));
    size_t n = swResolutionTargets(res, priority, out);
    assert_true(n <= res->nroutes);
    for (size_t i = 0; i < n; i++) ids[i] = out[i]->id;
    test_free(out);
    return n;
}

#define TARGETS(t, type, p, ...)                                                                   \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        uint64_t got_[64];                                                                         \
        size_t n_ = targets(t, type, p, got_);                                                     \
        assert_int_equal(n_, sizeof(want_) / sizeof(want_[0]) - 1);                                \
        for (size_t i_ = 0; i_ < n_; i_++) assert_int_equal(got_[i_], want_[i_ + 1]);              \
    } while (0)

static void test_resolution_targets(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t r1 = SUBJ(t, "task.*", "channel:a");
    uint64_t r2 = addRoute(t, ">", "channel:b", SW_ROUTE_SUBJECT, 8, 9);
    uint64_t r3 = SUBJ(t, "task.>", "channel:a"); /* same target as r1 */
    uint64_t r4 = addRoute(t, ".*", "stream:s", SW_ROUTE_REGEX, 1, 5);
    uint64_t r5 = addRoute(t, "task.done", "channel:b", SW_ROUTE_SUBJECT, 1, 9);
    (void)r3;
    TARGETS(t, "task.done", 5, r1, r4, r5);
    TARGETS(t, "task.done", 1, r1, r4, r5);
    TARGETS(t, "task.done", 6, r1, r5);
    TARGETS(t, "task.done", 8, r1, r2); /* r5 has r2's target, r2 comes first */
    TARGETS(t, "task.done", 9, r1, r2);
    TARGETS(t, "other", 5, r4);
    uint64_t none[4];
    assert_int_equal(targets(t, "other", 7, none), 0);
    TARGETS(t, "other", 8, r2);
    /* When the first route of a target is out of range, the next one of it counts. */
    swTable *u = newTable();
    uint64_t u1 = addRoute(u, "a", "channel:x", SW_ROUTE_SUBJECT, 8, 9);
    uint64_t u2 = addRoute(u, "a", "channel:y", SW_ROUTE_SUBJECT, 1, 9);
    uint64_t u3 = addRoute(u, "*", "channel:x", SW_ROUTE_SUBJECT, 1, 9);
    uint64_t u4 = addRoute(u, "a", "channel:x", SW_ROUTE_REGEX, 1, 9);
    /* Same name, other kind: channel:x and stream:x are different targets. */
    uint64_t u5 = addRoute(u, ">", "stream:x", SW_ROUTE_SUBJECT, 1, 9);
    (void)u4;
    TARGETS(u, "a", 5, u2, u3, u5);
    TARGETS(u, "a", 9, u1, u2, u5);
    /* A target that is a prefix of another is a different target. */
    uint64_t u6 = addRoute(u, "a", "channel:xx", SW_ROUTE_SUBJECT, 1, 9);
    TARGETS(u, "a", 9, u1, u2, u5, u6);
    swTableFree(u);
    swTableFree(t);
}

/* Issue 9 item 4: 20,000 matching routes over 10,000 targets (each twice, the second copy
 * 10,000 ids later), de-duplicated in one linear pass: the quadratic loop it replaces took
 * 0.38 s for this in PUBLISH; here only the result is checked (bench/dedup.sh times it). */
static void test_resolution_targets_20k(void **state) {
    (void)state;
    swTable *t = newTable();
    enum { N = 10000 };
    char tg[32];
    for (int copy = 0; copy < 2; copy++) {
        for (int i = 0; i < N; i++) {
            snprintf(tg, sizeof(tg), "channel:t%d", i);
            /* Odd targets' first copy is out of priority range 5: their second copy wins. */
            addRoute(t,
                     copy    ? ">"
                     : i % 2 ? "x.*"
                             : "x.>",
                     tg, SW_ROUTE_SUBJECT, copy == 0 && i % 2 ? 8 : 1, 9);
        }
    }
    const swResolution *res = resolve(t, "x.y");
    assert_int_equal(res->nroutes, 2 * N);
    assert_int_equal(res->ntargets, N);
    for (size_t i = 0; i < res->nroutes; i++)
        assert_int_equal(res->targetIndex[i], i % N); /* ids follow insertion order */
    swRoute **out = test_malloc(res->nroutes * sizeof(*out));
    size_t n = swResolutionTargets(res, 5, out);
    assert_int_equal(n, N);
    for (size_t k = 0; k < n; k++) {
        /* Even targets: the first copy (ids 1..N); odd ones only from the second copy. */
        swRoute *r = out[k];
        size_t target = (size_t)atoi(r->target + 9);
        assert_int_equal(r->id, target % 2 ? N + target + 1 : target + 1);
    }
    n = swResolutionTargets(res, 9, out); /* the scratch is clean between calls */
    assert_int_equal(n, N);
    for (size_t k = 0; k < n; k++) assert_int_equal(out[k]->id, k + 1);
    test_free(out);
    swTableFree(t);
}

/* Issue 9 item 5: the cache is bounded by bytes, not entries. Resolutions of 500 routes
 * (about 6.5 KB each) for 2,000 distinct types stay under a 64 KB bound; with 0 nothing is
 * cached, yet every resolution stays valid until the next one. */
static void test_resolve_cache_bounded_by_bytes(void **state) {
    (void)state;
    swTable *t = newTable();
    char tg[32], type[32];
    for (int i = 0; i < 500; i++) {
        snprintf(tg, sizeof(tg), "channel:c%d", i);
        SUBJ(t, ">", tg);
    }
    size_t empty = swTableMemUsage(t);
    swResolveSetCacheBytes(64 * 1024);
    size_t most = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(type, sizeof(type), "t%d", i);
        const swResolution *res = resolve(t, type);
        assert_int_equal(res->nroutes, 500);
        size_t now = swTableMemUsage(t);
        if (now > most) most = now;
    }
    /* The bound, plus the one resolution that may be held uncached. */
    assert_true(most <= empty + 64 * 1024 + 500 * 13 + 64);
    assert_true(most > empty + 32 * 1024); /* it did cache */
    /* A cached type comes back as the same resolution. */
    const swResolution *a = resolve(t, "t1999");
    assert_ptr_equal(resolve(t, "t1999"), a);

    swResolveSetCacheBytes(0);
    const swResolution *x = resolve(t, "new.a");
    assert_int_equal(x->nroutes, 500);
    assert_true(swTableMemUsage(t) <= empty + 500 * 13 + 64); /* the cache let go at once */
    const swResolution *y = resolve(t, "new.a");
    assert_int_equal(y->nroutes, 500);
    swResolveSetCacheBytes(SW_RESOLVE_CACHE_BYTES_DEFAULT);
    swTableFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_rules),
        cmocka_unit_test(test_resolve_rule_limit_fails_closed),
        cmocka_unit_test(test_resolve_rule_heap_limit),
        cmocka_unit_test(test_resolve_regex_route_limit_counted),
        cmocka_unit_test(test_resolve_merges_in_id_order),
        cmocka_unit_test(test_resolve_cache_invalidation),
        cmocka_unit_test(test_resolve_many_types),
        cmocka_unit_test(test_resolve_nomem),
        cmocka_unit_test(test_resolution_targets),
        cmocka_unit_test(test_resolution_targets_20k),
        cmocka_unit_test(test_resolve_cache_bounded_by_bytes),
    };
    return cmocka_run_group_tests_name("resolve", tests, unitAllocSetup, unitAllocTeardown);
}
