/* test_table.c -- unit tests of the routing table (module/core/table.c): routes and rules,
 * resolution and its cache, target selection, the message id clock, the breaker, and the
 * serialized form (round trips, every truncation, every flipped byte, crafted corruptions,
 * allocation failures at every allocation).
 *
 * The serialized form is rebuilt here independently (putHeader/putRoute/putRule) from the
 * layout documented at the top of table.c, so a change to it has to be deliberate. */
#include "unit_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/event.h"
#include "swarm/table.h"

#define MAXT 256 /* swarm.max-type-bytes default */
#define FORMAT 1

/* ---- Helpers ---- */

static swTable *newTable(void) {
    swTable *t = swTableNew();
    assert_non_null(t);
    return t;
}

static uint64_t addRoute(swTable *t, const char *pattern, const char *target, swRouteKind kind,
                         int pmin, int pmax) {
    uint64_t id = 0;
    int created = -1;
    swError err;
    swStatus st = swTableAddRoute(t, pattern, strlen(pattern), target, strlen(target), kind, pmin,
                                  pmax, MAXT, &id, &created, &err);
    if (st != SW_OK) print_error("route '%s' -> '%s': %s\n", pattern, target, err.msg);
    assert_int_equal(st, SW_OK);
    assert_int_equal(created, 1);
    assert_true(id > 0);
    assert_int_equal(id, t->lastId);
    return id;
}

#define SUBJ(t, p, tg) addRoute(t, p, tg, SW_ROUTE_SUBJECT, 1, 9)
#define REGEX(t, p, tg) addRoute(t, p, tg, SW_ROUTE_REGEX, 1, 9)

static uint64_t addRule(swTable *t, swRuleAction action, const char *regex) {
    uint64_t id = 0;
    int created = -1;
    swError err;
    swStatus st = swTableAddRule(t, action, regex, strlen(regex), &id, &created, &err);
    if (st != SW_OK) print_error("rule '%s': %s\n", regex, err.msg);
    assert_int_equal(st, SW_OK);
    assert_int_equal(created, 1);
    assert_int_equal(id, t->lastId);
    return id;
}

#define ALLOW(t, re) addRule(t, SW_RULE_ALLOW, re)
#define DENY(t, re) addRule(t, SW_RULE_DENY, re)

static const swResolution *resolve(swTable *t, const char *type) {
    assert_int_equal(swEventTypeCheck(type, strlen(type), MAXT, NULL), SW_OK);
    const swResolution *res = NULL;
    assert_int_equal(swTableResolve(t, type, strlen(type), &res), SW_OK);
    assert_non_null(res);
    return res;
}

/* Asserts the admission verdict (deny/allow: rule ids, 0 for none) and the route ids. */
static void expectResolveV(swTable *t, const char *type, int admitted, uint64_t deny,
                           uint64_t allow, size_t n, const uint64_t *ids) {
    const swResolution *res = resolve(t, type);
    assert_int_equal(res->admitted, admitted);
    assert_int_equal(res->denyRule ? res->denyRule->id : 0, deny);
    assert_int_equal(res->allowRule ? res->allowRule->id : 0, allow);
    if (res->nroutes != n) {
        print_error("'%s': %zu routes, expected %zu:", type, res->nroutes, n);
        for (size_t i = 0; i < res->nroutes; i++)
            print_error(" %llu", (unsigned long long)res->routes[i]->id);
        print_error("\n");
    }
    assert_int_equal(res->nroutes, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(res->routes[i]->id, ids[i]);
}

#define ROUTES(t, type, ...)                                                                       \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        expectResolveV(t, type, 1, 0, 0, sizeof(want_) / sizeof(want_[0]) - 1, want_ + 1);         \
    } while (0)
/* Admitted by ALLOW rule 'allow'. */
#define ROUTES_A(t, type, allow, ...)                                                              \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        expectResolveV(t, type, 1, 0, allow, sizeof(want_) / sizeof(want_[0]) - 1, want_ + 1);     \
    } while (0)
#define NO_ROUTES(t, type) expectResolveV(t, type, 1, 0, 0, 0, NULL)

/* A resolution copied out of the table, to compare across changes. */
typedef struct resCopy {
    int admitted;
    uint64_t deny, allow;
    size_t n;
    uint64_t ids[64];
} resCopy;

static void resolveCopy(swTable *t, const char *type, resCopy *c) {
    const swResolution *res = resolve(t, type);
    memset(c, 0, sizeof(*c));
    c->admitted = res->admitted;
    c->deny = res->denyRule ? res->denyRule->id : 0;
    c->allow = res->allowRule ? res->allowRule->id : 0;
    assert_true(res->nroutes <= 64);
    c->n = res->nroutes;
    for (size_t i = 0; i < res->nroutes; i++) c->ids[i] = res->routes[i]->id;
}

static void assertSameResolution(const resCopy *a, const resCopy *b) {
    assert_int_equal(a->admitted, b->admitted);
    assert_int_equal(a->deny, b->deny);
    assert_int_equal(a->allow, b->allow);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) assert_int_equal(a->ids[i], b->ids[i]);
}

static void encode(const swTable *t, char **buf, size_t *len) {
    *buf = NULL;
    assert_int_equal(swTableEncode(t, buf, len), SW_OK);
    assert_non_null(*buf);
}

static void assertSameBytes(const char *a, size_t alen, const char *b, size_t blen) {
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
}

static void assertTablesEqual(const swTable *a, const swTable *b) {
    assert_int_equal(a->lastId, b->lastId);
    assert_int_equal(a->clockMs, b->clockMs);
    assert_int_equal(a->clockSeq, b->clockSeq);
    assert_memory_equal(&a->stats, &b->stats, sizeof(a->stats));
    assert_int_equal(a->deflt == NULL, b->deflt == NULL);
    if (a->deflt) {
        assert_int_equal(a->defltLen, b->defltLen);
        assert_memory_equal(a->deflt, b->deflt, a->defltLen);
    }
    assert_int_equal(a->nroutes, b->nroutes);
    for (size_t i = 0; i < a->nroutes; i++) {
        const swRoute *x = a->routes[i], *y = b->routes[i];
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->patternLen, y->patternLen);
        assert_memory_equal(x->pattern, y->pattern, x->patternLen);
        assert_int_equal(x->targetLen, y->targetLen);
        assert_memory_equal(x->target, y->target, x->targetLen);
        assert_int_equal(x->pmin, y->pmin);
        assert_int_equal(x->pmax, y->pmax);
        assert_memory_equal(&x->c, &y->c, sizeof(x->c));
        assert_int_equal(x->breaker, y->breaker);
        assert_int_equal(x->failures, y->failures);
        assert_int_equal(x->openedMs, y->openedMs);
        assert_int_equal(x->re != NULL, y->re != NULL);
    }
    assert_int_equal(a->nrules, b->nrules);
    assert_int_equal(a->nallow, b->nallow);
    for (size_t i = 0; i < a->nrules; i++) {
        const swRule *x = a->rules[i], *y = b->rules[i];
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->action, y->action);
        assert_int_equal(x->regexLen, y->regexLen);
        assert_memory_equal(x->regex, y->regex, x->regexLen);
        assert_int_equal(x->hits, y->hits);
        assert_non_null(y->re);
    }
}

/* The invariants table.h promises, checked on any table (decoded ones included). */
static void assertTableSane(swTable *t) {
    uint64_t prev = 0;
    for (size_t i = 0; i < t->nroutes; i++) {
        const swRoute *r = t->routes[i];
        assert_true(r->id > prev && r->id <= t->lastId);
        prev = r->id;
        assert_true(r->kind == SW_ROUTE_SUBJECT || r->kind == SW_ROUTE_REGEX);
        assert_true(1 <= r->pmin && r->pmin <= r->pmax && r->pmax <= 9);
        assert_true(r->breaker <= SW_BREAKER_HALF_OPEN);
        assert_int_equal(swTargetCheck(r->target, r->targetLen, NULL, NULL, NULL), SW_OK);
        assert_int_equal(r->pattern[r->patternLen], '\0');
        assert_int_equal(r->target[r->targetLen], '\0');
        assert_ptr_equal(swTableRoute(t, r->id), r);
        assert_null(swTableRule(t, r->id));
        if (r->kind == SW_ROUTE_REGEX) {
            assert_non_null(r->re);
        } else {
            assert_null(r->re);
            assert_int_equal(swPatternCheck(r->pattern, r->patternLen, SW_TABLE_MAX_PATTERN, NULL),
                             SW_OK);
            size_t n;
            const uint64_t *ids = swTrieExact(t->trie, r->pattern, r->patternLen, &n);
            int found = 0;
            for (size_t k = 0; k < n; k++) found += ids[k] == r->id;
            assert_int_equal(found, 1);
        }
    }
    prev = 0;
    size_t nallow = 0;
    for (size_t i = 0; i < t->nrules; i++) {
        const swRule *r = t->rules[i];
        assert_true(r->id > prev && r->id <= t->lastId);
        prev = r->id;
        assert_true(r->action == SW_RULE_ALLOW || r->action == SW_RULE_DENY);
        assert_non_null(r->re);
        assert_ptr_equal(swTableRule(t, r->id), r);
        nallow += r->action == SW_RULE_ALLOW;
    }
    assert_int_equal(t->nallow, nallow);
    if (t->deflt) {
        assert_int_equal(swTargetCheck(t->deflt, t->defltLen, NULL, NULL, NULL), SW_OK);
    } else {
        assert_int_equal(t->defltLen, 0);
    }
    assert_int_equal(swTableIsEmpty(t), t->nroutes == 0 && t->nrules == 0 && !t->deflt);
    /* It resolves, and what it resolves is consistent. */
    const swResolution *res = resolve(t, "task.done");
    for (size_t i = 0; i < res->nroutes; i++) {
        assert_ptr_equal(swTableRoute(t, res->routes[i]->id), res->routes[i]);
        if (i) assert_true(res->routes[i - 1]->id < res->routes[i]->id);
    }
    assert_true(swTableMemUsage(t) > 0);
}

/* ---- Hand-written serialized form ---- */

static void putHeaderClock(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt,
                           uint64_t clockMs, uint64_t clockSeq) {
    swBufPutU8(b, version);
    swBufPutU64(b, lastId);
    swBufPutU64(b, clockMs);
    swBufPutU64(b, clockSeq);
    for (int i = 0; i < 6; i++) swBufPutU64(b, 0); /* stats */
    swBufPutStr(b, deflt, deflt ? strlen(deflt) : 0);
}

static void putHeader(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt) {
    putHeaderClock(b, version, lastId, deflt, 0, 0);
}

/* An empty table with this id and clock state, loaded the way RESTORE would. */
static swTable *craftedTable(uint64_t lastId, uint64_t clockMs, uint64_t clockSeq) {
    swBuf b = {0};
    putHeaderClock(&b, FORMAT, lastId, NULL, clockMs, clockSeq);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, 0);
    assert_false(swBufFailed(&b));
    swTable *t = NULL;
    swStatus st = swTableDecode(b.data, b.len, &t, NULL);
    swBufFree(&b);
    return st == SW_OK ? t : NULL;
}

static void putRoute(swBuf *b, uint64_t id, uint8_t kind, uint8_t pmin, uint8_t pmax,
                     const char *pattern, const char *target, uint8_t breaker) {
    swBufPutU64(b, id);
    swBufPutU8(b, kind);
    swBufPutU8(b, pmin);
    swBufPutU8(b, pmax);
    swBufPutStr(b, pattern, strlen(pattern));
    swBufPutStr(b, target, strlen(target));
    for (int k = 0; k < 5; k++) swBufPutU64(b, (uint64_t)k);
    swBufPutU8(b, breaker);
    swBufPutU32(b, 0);
    swBufPutU64(b, 0);
}

static void putRule(swBuf *b, uint64_t id, uint8_t action, const char *regex, uint64_t hits) {
    swBufPutU64(b, id);
    swBufPutU8(b, action);
    swBufPutStr(b, regex, strlen(regex));
    swBufPutU64(b, hits);
}

/* Decodes len bytes from an exact-size heap copy (so a read past the end is a read past
 * a block) and expects SW_ERR_CORRUPT with this message, or message prefix when prefix. */
static void expectCorrupt(const char *buf, size_t len, const char *msg, int prefix) {
    char *copy = test_malloc(len ? len : 1);
    if (len) memcpy(copy, buf, len);
    swTable *out = (swTable *)(uintptr_t)0x1;
    swError err;
    memset(&err, 0, sizeof(err));
    swStatus st = swTableDecode(copy, len, &out, &err);
    if (st != SW_ERR_CORRUPT) print_error("decode: %d %s\n", st, err.msg);
    assert_int_equal(st, SW_ERR_CORRUPT);
    assert_ptr_equal(out, (swTable *)(uintptr_t)0x1);
    if (msg) {
        if (prefix) {
            if (strncmp(err.msg, msg, strlen(msg)) != 0) print_error("message: %s\n", err.msg);
            assert_int_equal(strncmp(err.msg, msg, strlen(msg)), 0);
        } else {
            assert_string_equal(err.msg, msg);
        }
    }
    assert_int_equal(swTableDecode(copy, len, &out, NULL), SW_ERR_CORRUPT);
    test_free(copy);
}

static swTable *decodeOk(const char *buf, size_t len) {
    swTable *t = NULL;
    swError err;
    swStatus st = swTableDecode(buf, len, &t, &err);
    if (st != SW_OK) print_error("decode: %s\n", err.msg);
    assert_int_equal(st, SW_OK);
    assert_non_null(t);
    return t;
}

/* A table using every feature of the format. */
static swTable *richTable(void) {
    swTable *t = newTable();
    uint64_t r1 = SUBJ(t, "task.*", "channel:tasks");
    uint64_t r2 = addRoute(t, "agent\\..*", "stream:swarm:{ops}:inbox", SW_ROUTE_REGEX, 3, 9);
    ALLOW(t, ".*");
    DENY(t, "secret\\..*");
    uint64_t r5 = addRoute(t, ">", "channel:critical", SW_ROUTE_SUBJECT, 8, 9);
    uint64_t r6 = SUBJ(t, "x.y", "channel:gone");
    assert_int_equal(swTableDel(t, &r6, 1), 1);
    DENY(t, "x\\.y");
    /* Patterns and targets are byte strings. */
    uint64_t r8;
    int created;
    assert_int_equal(swTableAddRoute(t, "a\0b", 3, "channel:bin\0ary", 15, SW_ROUTE_REGEX, 1, 1,
                                     MAXT, &r8, &created, NULL),
                     SW_OK);
    assert_int_equal(r8, 8);
    assert_int_equal(swTableSetDefault(t, "stream:dead", 11, NULL), SW_OK);

    swRoute *r = swTableRoute(t, r1);
    r->c = (swRouteCounters){1, 2, 3, 4, 5};
    r->breaker = SW_BREAKER_OPEN;
    r->failures = 7;
    r->openedMs = 1700000000123;
    r = swTableRoute(t, r2);
    r->c = (swRouteCounters){UINT64_MAX, 0, 1ull << 40, 9, 10};
    r->breaker = SW_BREAKER_HALF_OPEN;
    r->failures = UINT32_MAX;
    r->openedMs = -5;
    r = swTableRoute(t, r5);
    r->c.matched = 77;
    swTableRule(t, 3)->hits = 42;
    swTableRule(t, 7)->hits = 1ull << 63;
    t->stats = (swTableStats){11, 12, 13, 14, 15, 16};
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, 1700000000000, &ms, &seq);
    swTableNextId(t, 1700000000000, &ms, &seq);
    swTableNextId(t, 1699999999999, &ms, &seq);
    assert_int_equal(t->clockSeq, 2);
    return t;
}

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

static void test_table_new_nomem(void **state) {
    (void)state;
    for (long n = 0;; n++) {
        unitAllocFailAfter(n);
        swTable *t = swTableNew();
        unitAllocFailAfter(-1);
        if (t) {
            swTableFree(t);
            break;
        }
    }
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

#define BADTARGET(s) "invalid target '" s "', expected channel:<name> or stream:<key>"

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

/* The same through swTableDecode, where the target points into the payload: the bytes after
 * it are the next fields (here a route count of "AAAA"), and at the end of the payload there
 * are no more bytes at all. The decoder must quote the target only. The payload lives on the
 * stack and ends in a NUL so that the test itself never reads out of bounds. */
static void test_table_decode_bad_target_message_stays_in_bounds(void **state) {
    (void)state;
    static const char payload[] = "\x01"                             /* format */
                                  "\x05\0\0\0\0\0\0\0"               /* lastId */
                                  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" /* clockMs, clockSeq */
                                  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" /* stats */
                                  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                  "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                  "\x07\0\0\0nowhere" /* default target */
                                  "AAAA"              /* route count */
                                  "\0\0\0\0";         /* rule count */
    swTable *out = (swTable *)(uintptr_t)0x1;
    swError err;
    assert_int_equal(swTableDecode(payload, sizeof(payload) - 1, &out, &err), SW_ERR_CORRUPT);
    assert_ptr_equal(out, (swTable *)(uintptr_t)0x1);
    assert_string_equal(err.msg, "corrupt routing table: " BADTARGET("nowhere"));
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

/* ---- Resolution ---- */

static void test_table_resolve_rules(void **state) {
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

/* A rule that cannot decide within the match limit fails closed. */
static void test_table_resolve_rule_limit_fails_closed(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, ">", "channel:all");
    uint64_t deny = DENY(t, "(a+)+b");
    /* The 'b' PCRE2 requires is there, but not at the end: exponential backtracking. */
    char type[64];
    memset(type, 'a', sizeof(type) - 3);
    type[sizeof(type) - 3] = 'b';
    type[sizeof(type) - 2] = 'c';
    type[sizeof(type) - 1] = '\0';
    const swResolution *res = resolve(t, type);
    assert_false(res->admitted);
    assert_non_null(res->denyRule);
    assert_int_equal(res->denyRule->id, deny);
    assert_int_equal(swTableDel(t, &deny, 1), 1);
    ALLOW(t, "(a+)+b");
    res = resolve(t, type);
    assert_false(res->admitted);
    assert_null(res->allowRule);
    swTableFree(t);
}

static void test_table_resolve_merges_in_id_order(void **state) {
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
static void test_table_resolve_cache_invalidation(void **state) {
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
static void test_table_resolve_many_types(void **state) {
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

static void test_table_resolve_nomem(void **state) {
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
        for (long n = 0;; n++) {
            const swResolution *res = NULL;
            unitAllocFailAfter(n);
            swStatus st = swTableResolve(t, type, strlen(type), &res);
            unitAllocFailAfter(-1);
            if (st == SW_OK) break;
            assert_int_equal(st, SW_ERR_NOMEM);
        }
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

static void test_table_resolution_targets(void **state) {
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

/* ---- Breaker ---- */

static void test_table_breaker(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *r = swTableRoute(t, SUBJ(t, "task.*", "channel:a"));
    const uint32_t threshold = 3;
    const int64_t cooldown = 1000;
    int64_t now = 50000;
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* A success in the middle of a run resets it. */
    assert_true(swRouteAttempt(r, 5, now, cooldown));
    swRouteOutcome(r, 0, now, threshold);
    swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->failures, 2);
    swRouteOutcome(r, 1, now, threshold);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* threshold consecutive failures open it. */
    swRouteOutcome(r, 0, now++, threshold);
    swRouteOutcome(r, 0, now++, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);
    assert_true(swRouteAttempt(r, 1, now, cooldown));
    swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->failures, 3);
    const int64_t opened = now;
    assert_int_equal(r->openedMs, opened);

    /* Open: priorities below 8 skip it, 8 and 9 are attempted; no state change. */
    for (int p = 1; p <= 7; p++) assert_false(swRouteAttempt(r, p, opened + 10, cooldown));
    assert_true(swRouteAttempt(r, 8, opened + 10, cooldown));
    assert_true(swRouteAttempt(r, 9, opened + 10, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    /* A critical message failing through an open breaker does not extend the cooldown. */
    swRouteOutcome(r, 0, opened + 20, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, opened);
    assert_false(swRouteAttempt(r, 7, opened + cooldown - 1, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);

    /* After the cooldown the next message probes it: half-open. */
    assert_true(swRouteAttempt(r, 1, opened + cooldown, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);
    /* The probe succeeds: closed, run reset. */
    swRouteOutcome(r, 1, opened + cooldown, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);
    assert_int_equal(r->failures, 0);
    assert_true(swRouteAttempt(r, 1, opened + cooldown + 1, cooldown));

    /* Open it again; this time the probe fails: open again at once, new openedMs. */
    now = opened + 5000;
    for (uint32_t i = 0; i < threshold; i++) swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, now);
    int64_t probeAt = now + cooldown + 250;
    assert_true(swRouteAttempt(r, 5, probeAt, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);
    swRouteOutcome(r, 0, probeAt, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, probeAt);
    assert_false(swRouteAttempt(r, 5, probeAt + 1, cooldown));
    assert_false(swRouteAttempt(r, 5, probeAt + cooldown - 1, cooldown));
    assert_true(swRouteAttempt(r, 9, probeAt + 1, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_true(swRouteAttempt(r, 5, probeAt + cooldown, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);

    /* A critical message that gets through an open breaker closes it. */
    swRouteOutcome(r, 0, probeAt + cooldown, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_true(swRouteAttempt(r, 8, probeAt + cooldown + 1, cooldown));
    swRouteOutcome(r, 1, probeAt + cooldown + 1, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* Threshold 1 opens on the first failure. */
    swRouteOutcome(r, 0, 7, 1);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, 7);

    /* The failure count saturates. */
    r->failures = UINT32_MAX;
    r->breaker = SW_BREAKER_OPEN;
    swRouteOutcome(r, 0, 8, threshold);
    assert_int_equal(r->failures, UINT32_MAX);
    swTableFree(t);
}

/* ---- Serialization ---- */

static void test_table_format_is_documented(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, "task.*", "channel:a");
    ALLOW(t, "x");
    assert_int_equal(swTableSetDefault(t, "stream:d", 8, NULL), SW_OK);
    /* putRoute writes counters 0..4; make the route match. */
    swTableRoute(t, 1)->c = (swRouteCounters){0, 1, 2, 3, 4};
    swBuf b = {0};
    putHeader(&b, FORMAT, 2, "stream:d");
    swBufPutU32(&b, 1);
    putRoute(&b, 1, SW_ROUTE_SUBJECT, 1, 9, "task.*", "channel:a", SW_BREAKER_CLOSED);
    swBufPutU32(&b, 1);
    putRule(&b, 2, SW_RULE_ALLOW, "x", 0);
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    assertSameBytes(buf, len, b.data, b.len);
    swFree(buf);
    swBufFree(&b);
    swTableFree(t);
}

static void test_table_round_trip(void **state) {
    (void)state;
    swTable *t = richTable();
    assertTableSane(t);
    char *buf, *again;
    size_t len, againLen;
    encode(t, &buf, &len);
    swTable *u = decodeOk(buf, len);
    assertTablesEqual(t, u);
    assertTableSane(u);
    encode(u, &again, &againLen);
    assertSameBytes(buf, len, again, againLen);
    swFree(again);

    /* The decoded table behaves like the original: tries and regexes are rebuilt. */
    resCopy a, b;
    static const char *const types[] = {"task.done", "agent.x", "secret.x", "x.y", "a", "other"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        resolveCopy(t, types[i], &a);
        resolveCopy(u, types[i], &b);
        assertSameResolution(&a, &b);
    }
    const swResolution *res = NULL;
    assert_int_equal(swTableResolve(u, "a\0b", 3, &res), SW_OK);
    assert_int_equal(res->nroutes, 2);
    assert_int_equal(res->routes[0]->id, 5); /* > */
    assert_int_equal(res->routes[1]->id, 8);
    assert_int_equal(swTableRoute(u, 8)->targetLen, 15);
    assert_memory_equal(swTableRoute(u, 8)->target, "channel:bin\0ary", 15);
    resolveCopy(u, "secret.x", &b);
    assert_false(b.admitted);
    assert_int_equal(b.deny, 4);
    /* Its ids continue after the original's lastId. */
    assert_int_equal(u->lastId, 8);
    assert_int_equal(SUBJ(u, "new", "channel:new"), 9);
    /* An identical route is found in the decoded table. */
    uint64_t id;
    int created;
    assert_int_equal(swTableAddRoute(u, "task.*", 6, "channel:tasks", 13, SW_ROUTE_SUBJECT, 1, 9,
                                     MAXT, &id, &created, NULL),
                     SW_OK);
    assert_int_equal(created, 0);
    assert_int_equal(id, 1);
    swTableFree(u);
    swFree(buf);

    /* The empty table. */
    swTable *e = newTable();
    encode(e, &buf, &len);
    assert_int_equal(len, 1 + 8 * 9 + 4 + 4 + 4);
    u = decodeOk(buf, len);
    assertTablesEqual(e, u);
    assert_true(swTableIsEmpty(u));
    swTableFree(u);
    swTableFree(e);
    swFree(buf);
    swTableFree(t);
}

static void test_table_decode_every_truncation(void **state) {
    (void)state;
    swTable *t = richTable();
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        expectCorrupt(buf, cut, "corrupt routing table: truncated routing table", 0);
    }
    swFree(buf);
    swTableFree(t);
}

static void test_table_decode_every_flipped_byte(void **state) {
    (void)state;
    swTable *t = richTable();
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    static const unsigned char masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
    char *copy = test_malloc(len);
    size_t ok = 0, bad = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            memcpy(copy, buf, len);
            copy[pos] = (char)(copy[pos] ^ masks[m]);
            swTable *u = (swTable *)(uintptr_t)0x1;
            swError err;
            memset(&err, 0, sizeof(err));
            swStatus st = swTableDecode(copy, len, &u, &err);
            if (st != SW_OK) {
                assert_int_equal(st, SW_ERR_CORRUPT);
                assert_ptr_equal(u, (swTable *)(uintptr_t)0x1);
                assert_true(strncmp(err.msg, "corrupt routing table: ", 23) == 0 ||
                            strncmp(err.msg, "unknown routing table format ", 29) == 0);
                bad++;
                continue;
            }
            ok++;
            assertTableSane(u);
            /* A table that loads saves to the same bytes and loads again. */
            char *re;
            size_t relen;
            encode(u, &re, &relen);
            assertSameBytes(copy, len, re, relen);
            swTable *v = decodeOk(re, relen);
            assertTablesEqual(u, v);
            swTableFree(v);
            swFree(re);
            swTableFree(u);
        }
    }
    assert_true(ok > 0);  /* counters, clock, stats: any value is valid */
    assert_true(bad > 0); /* ids, enums, lengths, patterns: most values are not */
    test_free(copy);
    swFree(buf);
    swTableFree(t);
}

static void test_table_decode_version_and_trailing(void **state) {
    (void)state;
    swTable *t = richTable();
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    char *copy = test_malloc(len + 8);
    memcpy(copy, buf, len);
    static const unsigned char versions[] = {0, 2, 3, 0x81, 0xff};
    for (size_t i = 0; i < sizeof(versions); i++) {
        copy[0] = (char)versions[i];
        char msg[64];
        snprintf(msg, sizeof(msg), "unknown routing table format %u", versions[i]);
        expectCorrupt(copy, len, msg, 0);
    }
    copy[0] = FORMAT;
    memset(copy + len, 0, 8);
    expectCorrupt(copy, len + 1, "corrupt routing table: trailing bytes", 0);
    expectCorrupt(copy, len + 8, "corrupt routing table: trailing bytes", 0);
    test_free(copy);
    swFree(buf);
    swTableFree(t);
}

static void test_table_decode_crafted(void **state) {
    (void)state;
    swBuf b = {0};
#define CRAFT_BEGIN(lastId, deflt) (swBufFree(&b), putHeader(&b, FORMAT, lastId, deflt))
#define CORRUPT(msg) (assert_false(swBufFailed(&b)), expectCorrupt(b.data, b.len, msg, 0))

    /* A crafted valid table, as a baseline. */
    CRAFT_BEGIN(3, "channel:d");
    swBufPutU32(&b, 2);
    putRoute(&b, 1, SW_ROUTE_SUBJECT, 1, 9, "a.*", "channel:a", SW_BREAKER_CLOSED);
    putRoute(&b, 3, SW_ROUTE_REGEX, 2, 8, "a|b", "stream:s", SW_BREAKER_HALF_OPEN);
    swBufPutU32(&b, 1);
    putRule(&b, 2, SW_RULE_DENY, "x", 5);
    swTable *t = decodeOk(b.data, b.len);
    assertTableSane(t);
    assert_int_equal(t->nroutes, 2);
    assert_int_equal(swTableRule(t, 2)->hits, 5);
    swTableFree(t);

    /* Duplicate and non-increasing route ids. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 2);
    putRoute(&b, 1, 0, 1, 9, "a", "channel:a", 0);
    putRoute(&b, 1, 0, 1, 9, "b", "channel:b", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 1: bad id, kind or breaker state");

    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 2);
    putRoute(&b, 2, 0, 1, 9, "a", "channel:a", 0);
    putRoute(&b, 1, 0, 1, 9, "b", "channel:b", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 1: bad id, kind or breaker state");

    /* Id 0, and an id above lastId. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 0, 0, 1, 9, "a", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 0: bad id, kind or breaker state");

    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 6, 0, 1, 9, "a", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 6: bad id, kind or breaker state");

    /* Rules: duplicate, decreasing, above lastId, sharing a route's id, id 0. */
    static const uint64_t ruleIds[][2] = {{2, 2}, {3, 2}, {2, 9}, {1, 2}, {0, 2}};
    static const char *const ruleMsgs[] = {
        "corrupt routing table: rule 2: bad id or action",
        "corrupt routing table: rule 2: bad id or action",
        "corrupt routing table: rule 9: bad id or action",
        "corrupt routing table: rule 1: bad id or action",
        "corrupt routing table: rule 0: bad id or action",
    };
    for (size_t i = 0; i < 5; i++) {
        CRAFT_BEGIN(5, NULL);
        swBufPutU32(&b, 1);
        putRoute(&b, 1, 0, 1, 9, "a", "channel:a", 0);
        swBufPutU32(&b, 2);
        putRule(&b, ruleIds[i][0], SW_RULE_ALLOW, "a", 0);
        putRule(&b, ruleIds[i][1], SW_RULE_DENY, "b", 0);
        CORRUPT(ruleMsgs[i]);
    }

    /* Bad enums. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 2, 1, 9, "a", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 1: bad id, kind or breaker state");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 0, 1, 9, "a", "channel:a", 3);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: route 1: bad id, kind or breaker state");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, 1);
    putRule(&b, 1, 2, "a", 0);
    CORRUPT("corrupt routing table: rule 1: bad id or action");

    /* Content that would be refused by the commands is refused on load. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 0, 0, 9, "a", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: PRIORITY range 0..9 is invalid, expected 1 <= min <= max "
            "<= 9");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 0, 9, 8, "a", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: PRIORITY range 9..8 is invalid, expected 1 <= min <= max "
            "<= 9");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 0, 1, 9, "a..b", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: pattern has an empty token at byte 2");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 1, 1, 9, "a(", "channel:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: invalid regex at offset 2: missing closing parenthesis");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    putRoute(&b, 1, 0, 1, 9, "a", "chan:a", 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: " BADTARGET("chan:a"));
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, 1);
    putRule(&b, 1, SW_RULE_ALLOW, "[", 0);
    CORRUPT("corrupt routing table: invalid regex at offset 1: missing terminating ] for "
            "character class");
    CRAFT_BEGIN(5, "nowhere");
    swBufPutU32(&b, 0);
    swBufPutU32(&b, 0);
    CORRUPT("corrupt routing table: " BADTARGET("nowhere"));

    /* Counts larger than the data: truncated, not a huge allocation. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, UINT32_MAX);
    putRoute(&b, 1, 0, 1, 9, "a", "channel:a", 0);
    CORRUPT("corrupt routing table: truncated routing table");
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, UINT32_MAX);
    CORRUPT("corrupt routing table: truncated routing table");
    /* A string length beyond the hard cap. */
    CRAFT_BEGIN(5, NULL);
    swBufPutU32(&b, 1);
    swBufPutU64(&b, 1);
    swBufPutU8(&b, 0);
    swBufPutU8(&b, 1);
    swBufPutU8(&b, 9);
    swBufPutU32(&b, SW_TABLE_MAX_PATTERN + 1);
    CORRUPT("corrupt routing table: truncated routing table");
    swBufFree(&b);
#undef CRAFT_BEGIN
#undef CORRUPT
}

/* ---- Allocation failures ---- */

static const char *const probeTypes[] = {"task.done", "task.x",  "agent.a", "secret.x",
                                         "k3",        "k12.x.y", "zzz"};
#define NPROBES (sizeof(probeTypes) / sizeof(probeTypes[0]))

/* Checks an operation under failure at every allocation index until it succeeds: each
 * failure is SW_ERR_NOMEM with the table byte-for-byte and resolution-for-resolution as
 * before, and the trie holding no id the table does not know. */
static void addRouteUnderFailures(swTable *t, const char *pattern, const char *target,
                                  swRouteKind kind, int pmin, int pmax) {
    char *before;
    size_t blen;
    encode(t, &before, &blen);
    resCopy want[NPROBES];
    for (size_t i = 0; i < NPROBES; i++) resolveCopy(t, probeTypes[i], &want[i]);
    uint64_t lastId = t->lastId;
    size_t nroutes = t->nroutes;
    for (long n = 0;; n++) {
        uint64_t id = 777;
        int created = 777;
        swError err;
        memset(&err, 0, sizeof(err));
        unitAllocFailAfter(n);
        swStatus st = swTableAddRoute(t, pattern, strlen(pattern), target, strlen(target), kind,
                                      pmin, pmax, MAXT, &id, &created, &err);
        unitAllocFailAfter(-1);
        if (st == SW_OK) {
            assert_int_equal(created, 1);
            assert_int_equal(id, lastId + 1);
            break;
        }
        assert_int_equal(st, SW_ERR_NOMEM);
        assert_string_equal(err.msg, "out of memory");
        assert_int_equal(id, 777);
        assert_int_equal(created, 777);
        assert_int_equal(t->lastId, lastId);
        assert_int_equal(t->nroutes, nroutes);
        assert_null(swTableRoute(t, lastId + 1));
        char *after;
        size_t alen;
        encode(t, &after, &alen);
        assertSameBytes(before, blen, after, alen);
        swFree(after);
        for (size_t i = 0; i < NPROBES; i++) {
            resCopy got;
            resolveCopy(t, probeTypes[i], &got);
            assertSameResolution(&want[i], &got);
            /* Below the cache: the trie itself. */
            swIdVec ids = {0};
            assert_int_equal(swTrieMatch(t->trie, probeTypes[i], strlen(probeTypes[i]), &ids),
                             SW_OK);
            for (size_t k = 0; k < ids.len; k++) assert_non_null(swTableRoute(t, ids.ids[k]));
            swIdVecFree(&ids);
        }
    }
    swFree(before);
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

static void test_table_add_rule_nomem(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, ">", "channel:all");
    for (int k = 0; k < 12; k++) { /* grows the rules array */
        char re[32];
        snprintf(re, sizeof(re), "r%d\\..*", k);
        char *before;
        size_t blen;
        encode(t, &before, &blen);
        resCopy want;
        resolveCopy(t, "r3.x", &want);
        swRuleAction action = k % 2 ? SW_RULE_DENY : SW_RULE_ALLOW;
        for (long n = 0;; n++) {
            uint64_t id;
            int created;
            swError err;
            unitAllocFailAfter(n);
            swStatus st = swTableAddRule(t, action, re, strlen(re), &id, &created, &err);
            unitAllocFailAfter(-1);
            if (st == SW_OK) break;
            assert_int_equal(st, SW_ERR_NOMEM);
            assert_string_equal(err.msg, "out of memory");
            char *after;
            size_t alen;
            encode(t, &after, &alen);
            assertSameBytes(before, blen, after, alen);
            swFree(after);
            resCopy got;
            resolveCopy(t, "r3.x", &got);
            assertSameResolution(&want, &got);
        }
        swFree(before);
    }
    assertTableSane(t);
    expectResolveV(t, "r3.x", 0, 5, 0, 1, (const uint64_t[]){1});
    expectResolveV(t, "r2.x", 1, 0, 4, 1, (const uint64_t[]){1});
    swTableFree(t);
}

static void test_table_decode_nomem(void **state) {
    (void)state;
    swTable *t = richTable();
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    long failures = 0;
    for (long n = 0;; n++) {
        swTable *u = (swTable *)(uintptr_t)0x1;
        swError err;
        memset(&err, 0, sizeof(err));
        unitAllocFailAfter(n);
        swStatus st = swTableDecode(buf, len, &u, &err);
        unitAllocFailAfter(-1);
        if (st == SW_OK) {
            assertTablesEqual(t, u);
            assertTableSane(u);
            swTableFree(u);
            break;
        }
        if (st != SW_ERR_NOMEM) print_error("n=%ld: %d %s\n", n, st, err.msg);
        assert_int_equal(st, SW_ERR_NOMEM);
        assert_string_equal(err.msg, "out of memory");
        assert_ptr_equal(u, (swTable *)(uintptr_t)0x1);
        failures++;
    }
    assert_true(failures > 10);
    swFree(buf);
    swTableFree(t);
}

static void test_table_encode_nomem(void **state) {
    (void)state;
    swTable *t = richTable();
    char *want;
    size_t wlen;
    encode(t, &want, &wlen);
    for (long n = 0;; n++) {
        char *buf = (char *)(uintptr_t)0x1;
        size_t len = 12345;
        unitAllocFailAfter(n);
        swStatus st = swTableEncode(t, &buf, &len);
        unitAllocFailAfter(-1);
        if (st == SW_OK) {
            assertSameBytes(want, wlen, buf, len);
            swFree(buf);
            break;
        }
        assert_int_equal(st, SW_ERR_NOMEM);
        assert_ptr_equal(buf, (char *)(uintptr_t)0x1);
        assert_int_equal(len, 12345);
    }
    swFree(want);
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
        cmocka_unit_test(test_table_decode_bad_target_message_stays_in_bounds),
        cmocka_unit_test(test_table_target_check),
        cmocka_unit_test(test_table_add_rule_errors),
        cmocka_unit_test(test_table_del),
        cmocka_unit_test(test_table_default),
        cmocka_unit_test(test_table_resolve_rules),
        cmocka_unit_test(test_table_resolve_rule_limit_fails_closed),
        cmocka_unit_test(test_table_resolve_merges_in_id_order),
        cmocka_unit_test(test_table_resolve_cache_invalidation),
        cmocka_unit_test(test_table_resolve_many_types),
        cmocka_unit_test(test_table_resolve_nomem),
        cmocka_unit_test(test_table_resolution_targets),
        cmocka_unit_test(test_table_next_id),
        cmocka_unit_test(test_table_next_id_sequence_exhausted),
        cmocka_unit_test(test_table_ids_never_wrap),
        cmocka_unit_test(test_table_breaker),
        cmocka_unit_test(test_table_format_is_documented),
        cmocka_unit_test(test_table_round_trip),
        cmocka_unit_test(test_table_decode_every_truncation),
        cmocka_unit_test(test_table_decode_every_flipped_byte),
        cmocka_unit_test(test_table_decode_version_and_trailing),
        cmocka_unit_test(test_table_decode_crafted),
        cmocka_unit_test(test_table_add_route_nomem),
        cmocka_unit_test(test_table_add_rule_nomem),
        cmocka_unit_test(test_table_decode_nomem),
        cmocka_unit_test(test_table_encode_nomem),
        cmocka_unit_test(test_table_memusage),
    };
    return cmocka_run_group_tests_name("table", tests, unitAllocSetup, unitAllocTeardown);
}
