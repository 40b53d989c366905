/* table_helpers.c -- see table_helpers.h. */
#include "table_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/event.h"
#include "swarm/table_codec.h"

swTable *newTable(void) {
    swTable *t = swTableNew();
    assert_non_null(t);
    return t;
}

uint64_t addRoute(swTable *t, const char *pattern, const char *target, swRouteKind kind, int pmin,
                  int pmax) {
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

uint64_t addRule(swTable *t, swRuleAction action, const char *regex) {
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

const swResolution *resolve(swTable *t, const char *type) {
    assert_int_equal(swEventTypeCheck(type, strlen(type), MAXT, NULL), SW_OK);
    const swResolution *res = NULL;
    assert_int_equal(swTableResolve(t, type, strlen(type), &res), SW_OK);
    assert_non_null(res);
    return res;
}

/* Asserts the admission verdict (deny/allow: rule ids, 0 for none) and the route ids. */
void expectResolveV(swTable *t, const char *type, int admitted, uint64_t deny, uint64_t allow,
                    size_t n, const uint64_t *ids) {
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

/* Admitted by ALLOW rule 'allow'. */

void resolveCopy(swTable *t, const char *type, resCopy *c) {
    const swResolution *res = resolve(t, type);
    memset(c, 0, sizeof(*c));
    c->admitted = res->admitted;
    c->deny = res->denyRule ? res->denyRule->id : 0;
    c->allow = res->allowRule ? res->allowRule->id : 0;
    assert_true(res->nroutes <= 64);
    c->n = res->nroutes;
    for (size_t i = 0; i < res->nroutes; i++) c->ids[i] = res->routes[i]->id;
}

void assertSameResolution(const resCopy *a, const resCopy *b) {
    assert_int_equal(a->admitted, b->admitted);
    assert_int_equal(a->deny, b->deny);
    assert_int_equal(a->allow, b->allow);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) assert_int_equal(a->ids[i], b->ids[i]);
}

void encode(const swTable *t, char **buf, size_t *len) {
    *buf = NULL;
    assert_int_equal(swTableEncode(t, buf, len), SW_OK);
    assert_non_null(*buf);
}

void assertSameBytes(const char *a, size_t alen, const char *b, size_t blen) {
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
}

void assertTablesEqual(const swTable *a, const swTable *b) {
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
void assertTableSane(swTable *t) {
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

void putHeaderClock(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt, uint64_t clockMs,
                    uint64_t clockSeq) {
    swBufPutU8(b, version);
    swBufPutU64(b, lastId);
    swBufPutU64(b, clockMs);
    swBufPutU64(b, clockSeq);
    for (int i = 0; i < 6; i++) swBufPutU64(b, 0); /* stats */
    swBufPutStr(b, deflt, deflt ? strlen(deflt) : 0);
}

void putHeader(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt) {
    putHeaderClock(b, version, lastId, deflt, 0, 0);
}

/* An empty table with this id and clock state, loaded the way RESTORE would. */
swTable *craftedTable(uint64_t lastId, uint64_t clockMs, uint64_t clockSeq) {
    swBuf b = {0};
    putHeaderClock(&b, FORMAT, lastId, NULL, clockMs, clockSeq);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, 0);
    assert_false(swBufFailed(&b));
    swTable *t = NULL;
    swStatus st = swTableDecode(b.data, b.len, SW_TABLE_MAX_PATTERN, &t, NULL);
    swBufFree(&b);
    return st == SW_OK ? t : NULL;
}

void putRoute(swBuf *b, uint64_t id, uint8_t kind, uint8_t pmin, uint8_t pmax, const char *pattern,
              const char *target, uint8_t breaker) {
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

void putRule(swBuf *b, uint64_t id, uint8_t action, const char *regex, uint64_t hits) {
    swBufPutU64(b, id);
    swBufPutU8(b, action);
    swBufPutStr(b, regex, strlen(regex));
    swBufPutU64(b, hits);
}

/* Decodes len bytes from an exact-size heap copy (so a read past the end is a read past
 * a block) and expects SW_ERR_CORRUPT with this message, or message prefix when prefix. */
void expectCorrupt(const char *buf, size_t len, const char *msg, int prefix) {
    char *copy = test_malloc(len ? len : 1);
    if (len) memcpy(copy, buf, len);
    swTable *out = (swTable *)(uintptr_t)0x1;
    swError err;
    memset(&err, 0, sizeof(err));
    swStatus st = swTableDecode(copy, len, SW_TABLE_MAX_PATTERN, &out, &err);
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
    assert_int_equal(swTableDecode(copy, len, SW_TABLE_MAX_PATTERN, &out, NULL), SW_ERR_CORRUPT);
    test_free(copy);
}

swTable *decodeOk(const char *buf, size_t len) {
    swTable *t = NULL;
    swError err;
    swStatus st = swTableDecode(buf, len, SW_TABLE_MAX_PATTERN, &t, &err);
    if (st != SW_OK) print_error("decode: %s\n", err.msg);
    assert_int_equal(st, SW_OK);
    assert_non_null(t);
    return t;
}

/* A table using every feature of the format. */
swTable *richTable(void) {
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
    r->openedMs = 1; /* the earliest a breaker can have opened: decoded clocks are >= 0 */
    r = swTableRoute(t, r5);
    r->c.matched = 77;
    swTableRule(t, 3)->hits = 42;
    swTableRule(t, 7)->hits = 1ull << 63;
    t->stats = (swTableStats){11, 12, 13, 14, 15, 16, 0};
    int64_t ms;
    uint64_t seq;
    swTableNextId(t, 1700000000000, &ms, &seq);
    swTableNextId(t, 1700000000000, &ms, &seq);
    swTableNextId(t, 1699999999999, &ms, &seq);
    assert_int_equal(t->clockSeq, 2);
    return t;
}
