/* test_delta.c -- unit tests of the publish delta (module/core/delta.c): what a commit does
 * to a table, the encoded form written out by hand, round trips onto a copy of the table
 * (what a replica does), every corruption refused with the table unchanged, and allocation
 * failures. */
#include "table_helpers.h"

#include <string.h>

#include "swarm/alloc.h"
#include "swarm/breaker.h"
#include "swarm/delta.h"
#include "swarm/table.h"
#include "swarm/table_codec.h"

/* Routes 1 and 2, ALLOW rule 3, DENY rule 4. */
static swTable *fixture(void) {
    swTable *t = newTable();
    SUBJ(t, "task.*", "channel:a");
    REGEX(t, "agent\\..*", "stream:b");
    ALLOW(t, ".*");
    DENY(t, "secret\\..*");
    return t;
}

static swTable *copyOf(const swTable *t) {
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    swTable *c = NULL;
    assert_int_equal(swTableDecode(buf, len, SW_TABLE_MAX_PATTERN, &c, NULL), SW_OK);
    swFree(buf);
    return c;
}

/* The encoded form of d, as swDeltaEncode writes it (take b.data, free with swBufFree). */
static swBuf encodeDelta(const swDelta *d) {
    swBuf b = {0};
    swDeltaEncode(&b, d);
    assert_false(swBufFailed(&b));
    return b;
}

/* Expects swDeltaCheck to refuse buf[0..len) with SW_ERR_CORRUPT and this message, t
 * byte-for-byte unchanged. */
static void expectCorruptDelta(swTable *t, const char *buf, size_t len, const char *msg) {
    char *before, *after;
    size_t blen, alen;
    encode(t, &before, &blen);
    char *copy = test_malloc(len ? len : 1); /* exact size: a read past the end is caught */
    if (len) memcpy(copy, buf, len);
    swDelta d;
    swError err;
    assert_int_equal(swDeltaCheck(t, copy, len, &d, &err), SW_ERR_CORRUPT);
    assert_string_equal(err.msg, msg);
    assert_null(d.owned);
    assert_int_equal(swDeltaCheck(t, copy, len, &d, NULL), SW_ERR_CORRUPT);
    test_free(copy);
    encode(t, &after, &alen);
    assertSameBytes(before, blen, after, alen);
    swFree(before);
    swFree(after);
}

/* ---- Commit ---- */

static void test_delta_commit(void **state) {
    (void)state;
    swTable *t = fixture();
    swRoute *r1 = swTableRoute(t, 1), *r2 = swTableRoute(t, 2);
    r1->c = (swRouteCounters){10, 10, 10, 10, 10};
    r1->breaker = SW_BREAKER_OPEN;
    r1->failures = 9;
    t->stats = (swTableStats){1, 2, 3, 4, 5, 6, 0};
    swDeltaRoute routes[2] = {
        {.route = r1, .matched = 1, .delivered = 1, .breaker = SW_BREAKER_CLOSED},
        {.route = r2,
         .matched = 1,
         .missed = 1,
         .shed = 1,
         .breaker = SW_BREAKER_HALF_OPEN,
         .failures = 3,
         .openedMs = 77},
    };
    swRule *rules[2] = {swTableRule(t, 3), swTableRule(t, 4)};
    swDelta d = {.clockMs = 1700000000000,
                 .clockSeq = 4,
                 .inc = {1, 1, 0, 0, 1, 1, 0},
                 .routes = routes,
                 .nroutes = 2,
                 .rules = rules,
                 .nrules = 2};
    swDeltaCommit(t, &d);
    assert_int_equal(t->clockMs, 1700000000000);
    assert_int_equal(t->clockSeq, 4);
    swTableStats want = {2, 3, 3, 4, 6, 7, 0};
    assert_memory_equal(&t->stats, &want, sizeof(want));
    swRouteCounters c1 = {11, 11, 10, 10, 10}, c2 = {1, 0, 1, 0, 1};
    assert_memory_equal(&r1->c, &c1, sizeof(c1));
    assert_memory_equal(&r2->c, &c2, sizeof(c2));
    /* Breaker fields are absolute. */
    assert_int_equal(r1->breaker, SW_BREAKER_CLOSED);
    assert_int_equal(r1->failures, 0);
    assert_int_equal(r2->breaker, SW_BREAKER_HALF_OPEN);
    assert_int_equal(r2->failures, 3);
    assert_int_equal(r2->openedMs, 77);
    assert_int_equal(swTableRule(t, 3)->hits, 1);
    assert_int_equal(swTableRule(t, 4)->hits, 1);
    /* Committing again adds again: increments, not states. */
    swDeltaCommit(t, &d);
    assert_int_equal(r1->c.matched, 12);
    assert_int_equal(swTableRule(t, 3)->hits, 2);
    assert_int_equal(t->stats.published, 3);
    swTableFree(t);
}

static void test_delta_take_breaker(void **state) {
    (void)state;
    swTable *t = fixture();
    swRoute *r = swTableRoute(t, 1);
    swDeltaRoute e = {.route = r};
    assert_true(swRouteAttempt(r, 5, 1000, 10));
    swRouteOutcome(r, 0, 1000, 1);
    swDeltaRouteTakeBreaker(&e, r);
    assert_int_equal(e.breaker, SW_BREAKER_OPEN);
    assert_int_equal(e.failures, 1);
    assert_int_equal(e.openedMs, 1000);
    swTableFree(t);
}

/* ---- Encoded form ---- */

static void test_delta_format_is_documented(void **state) {
    (void)state;
    swTable *t = fixture();
    swDeltaRoute routes[1] = {{.route = swTableRoute(t, 2),
                               .matched = 1,
                               .failed = 1,
                               .breaker = SW_BREAKER_OPEN,
                               .failures = 5,
                               .openedMs = 123}};
    swRule *rules[1] = {swTableRule(t, 4)};
    swDelta d = {.clockMs = 9,
                 .clockSeq = 8,
                 .inc = {1, 0, 0, 0, 0, 0, 0},
                 .routes = routes,
                 .nroutes = 1,
                 .rules = rules,
                 .nrules = 1};
    swBuf got = encodeDelta(&d);
    swBuf want = {0};
    swBufPutU8(&want, SW_DELTA_FORMAT);
    swBufPutU64(&want, 9);
    swBufPutU64(&want, 8);
    uint64_t s[6] = {1, 0, 0, 0, 0, 0};
    for (int i = 0; i < 6; i++) swBufPutU64(&want, s[i]);
    swBufPutU32(&want, 1);
    swBufPutU64(&want, 2);
    uint32_t c[5] = {1, 0, 0, 1, 0};
    for (int i = 0; i < 5; i++) swBufPutU32(&want, c[i]);
    swBufPutU8(&want, SW_BREAKER_OPEN);
    swBufPutU32(&want, 5);
    swBufPutU64(&want, 123);
    swBufPutU32(&want, 1);
    swBufPutU64(&want, 4);
    assertSameBytes(got.data, got.len, want.data, want.len);
    swBufFree(&got);
    swBufFree(&want);
    swTableFree(t);
}

/* What a replica does: the master commits and encodes, the replica checks and commits the
 * bytes onto its copy; both end byte-for-byte equal. */
static void test_delta_round_trip(void **state) {
    (void)state;
    swTable *master = fixture();
    swTable *replica = copyOf(master);
    int64_t ms;
    uint64_t seq;
    swTableNextId(master, 1700000000000, &ms, &seq);
    swRoute *r1 = swTableRoute(master, 1), *r2 = swTableRoute(master, 2);
    swDeltaRoute routes[2] = {{.route = r1, .matched = 1, .delivered = 1},
                              {.route = r2, .matched = 1, .missed = 1}};
    swRouteOutcome(r1, 1, ms, 5);
    swDeltaRouteTakeBreaker(&routes[0], r1);
    swRouteOutcome(r2, 0, ms, 1);
    swDeltaRouteTakeBreaker(&routes[1], r2);
    swRule *hit = swTableRule(master, 3);
    swDelta d = {.clockMs = master->clockMs,
                 .clockSeq = master->clockSeq,
                 .inc = {.published = 1, .delivered = 1},
                 .routes = routes,
                 .nroutes = 2,
                 .rules = &hit,
                 .nrules = 1};
    swDeltaCommit(master, &d);
    swBuf b = encodeDelta(&d);

    swDelta got;
    swError err;
    assert_int_equal(swDeltaCheck(replica, b.data, b.len, &got, &err), SW_OK);
    assert_int_equal(got.nroutes, 2);
    assert_ptr_equal(got.routes[0].route, swTableRoute(replica, 1));
    assert_int_equal(got.nrules, 1);
    assert_ptr_equal(got.rules[0], swTableRule(replica, 3));
    swDeltaCommit(replica, &got);
    swDeltaRelease(&got);
    assert_null(got.owned);
    swDeltaRelease(&got); /* twice is fine */
    assertTablesEqual(master, replica);
    assert_int_equal(replica->routes[1]->breaker, SW_BREAKER_OPEN);

    /* An empty delta (a rejection on a table without routes hit) round-trips too. */
    swDelta rej = {
        .clockMs = master->clockMs, .clockSeq = master->clockSeq, .inc = {.rejected = 1}};
    swBufFree(&b);
    b = encodeDelta(&rej);
    assert_int_equal(swDeltaCheck(replica, b.data, b.len, &got, NULL), SW_OK);
    assert_int_equal(got.nroutes + got.nrules, 0);
    swDeltaCommit(replica, &got);
    swDeltaRelease(&got);
    assert_int_equal(replica->stats.rejected, 1);
    swBufFree(&b);
    swTableFree(master);
    swTableFree(replica);
}

/* ---- Corruption: refused, nothing changes ---- */

/* A valid delta naming route rid and rule uid, with nroutes/nrules as declared. */
static swBuf craft(uint8_t format, uint32_t nroutes, uint64_t rid, uint8_t breaker, uint32_t nrules,
                   uint64_t uid) {
    swBuf b = {0};
    swBufPutU8(&b, format);
    for (int i = 0; i < 8; i++) swBufPutU64(&b, 1); /* clock and stats */
    swBufPutU32(&b, nroutes);
    if (nroutes) {
        swBufPutU64(&b, rid);
        for (int k = 0; k < 5; k++) swBufPutU32(&b, 1);
        swBufPutU8(&b, breaker);
        swBufPutU32(&b, 0);
        swBufPutU64(&b, 0);
    }
    swBufPutU32(&b, nrules);
    if (nrules) swBufPutU64(&b, uid);
    assert_false(swBufFailed(&b));
    return b;
}

static void test_delta_check_corrupt(void **state) {
    (void)state;
    swTable *t = fixture();
    swBuf b = craft(SW_DELTA_FORMAT, 1, 1, SW_BREAKER_CLOSED, 1, 3);
    swDelta d;
    assert_int_equal(swDeltaCheck(t, b.data, b.len, &d, NULL), SW_OK);
    swDeltaRelease(&d);

    /* Every truncation, and a trailing byte. */
    for (size_t n = 0; n < b.len; n++) {
        expectCorruptDelta(t, b.data, n,
                           n == 0 ? "unknown publish delta format" : "malformed publish delta");
    }
    swBufPutU8(&b, 0);
    expectCorruptDelta(t, b.data, b.len, "malformed publish delta");
    swBufFree(&b);

    b = craft(2, 0, 0, 0, 0, 0);
    expectCorruptDelta(t, b.data, b.len, "unknown publish delta format");
    swBufFree(&b);
    b = craft(SW_DELTA_FORMAT, 1, 99, SW_BREAKER_CLOSED, 0, 0);
    expectCorruptDelta(t, b.data, b.len, "publish delta names unknown route 99");
    swBufFree(&b);
    b = craft(SW_DELTA_FORMAT, 1, 3, SW_BREAKER_CLOSED, 0, 0); /* 3 is a rule */
    expectCorruptDelta(t, b.data, b.len, "publish delta names unknown route 3");
    swBufFree(&b);
    b = craft(SW_DELTA_FORMAT, 1, 1, SW_BREAKER_HALF_OPEN + 1, 0, 0);
    expectCorruptDelta(t, b.data, b.len, "publish delta names unknown route 1");
    swBufFree(&b);
    b = craft(SW_DELTA_FORMAT, 0, 0, 0, 1, 1); /* 1 is a route */
    expectCorruptDelta(t, b.data, b.len, "publish delta names unknown rule");
    swBufFree(&b);
    /* Counts far beyond the bytes: refused without allocating for them. */
    b = craft(SW_DELTA_FORMAT, UINT32_MAX, 1, SW_BREAKER_CLOSED, 0, 0);
    expectCorruptDelta(t, b.data, b.len, "malformed publish delta");
    swBufFree(&b);
    b = craft(SW_DELTA_FORMAT, 0, 0, 0, UINT32_MAX, 3);
    expectCorruptDelta(t, b.data, b.len, "malformed publish delta");
    swBufFree(&b);
    swTableFree(t);
}

/* Regression: fuzz_delta found a delta with a negative id clock applied to a table that then
 * failed to load after an RDB save. Clock and breaker times stay in the table codec's range. */
static void test_delta_check_time_ranges(void **state) {
    (void)state;
    swTable *t = fixture();
    static const uint64_t bad[] = {(uint64_t)INT64_MIN, (uint64_t)-1,
                                   (uint64_t)SW_TABLE_CLOCK_MAX_MS + 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        swBuf b = craft(SW_DELTA_FORMAT, 1, 1, SW_BREAKER_OPEN, 0, 0);
        memcpy(b.data + 1, &bad[i], 8); /* clockMs, little-endian on the hosts we build for */
        expectCorruptDelta(t, b.data, b.len, "publish delta id clock out of range");
        swBufFree(&b);
        b = craft(SW_DELTA_FORMAT, 1, 1, SW_BREAKER_OPEN, 0, 0);
        memcpy(b.data + b.len - 4 - 8, &bad[i], 8); /* the route's openedMs, before nrules */
        expectCorruptDelta(t, b.data, b.len, "publish delta breaker time out of range");
        swBufFree(&b);
    }
    swBuf b = craft(SW_DELTA_FORMAT, 1, 1, SW_BREAKER_OPEN, 0, 0);
    uint64_t max = (uint64_t)SW_TABLE_CLOCK_MAX_MS;
    memcpy(b.data + 1, &max, 8);
    memcpy(b.data + b.len - 4 - 8, &max, 8);
    swDelta d;
    assert_int_equal(swDeltaCheck(t, b.data, b.len, &d, NULL), SW_OK);
    swDeltaRelease(&d);
    swBufFree(&b);
    swTableFree(t);
}

static void test_delta_check_nomem(void **state) {
    (void)state;
    swTable *t = fixture();
    swBuf b = craft(SW_DELTA_FORMAT, 1, 2, SW_BREAKER_OPEN, 1, 4);
    swDelta d;
    swError err;
    unitAllocFailAfter(0);
    assert_int_equal(swDeltaCheck(t, b.data, b.len, &d, &err), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_string_equal(err.msg, "out of memory");
    assert_null(d.owned);
    assert_int_equal(swTableRoute(t, 2)->c.matched, 0);
    assert_int_equal(swDeltaCheck(t, b.data, b.len, &d, &err), SW_OK);
    swDeltaCommit(t, &d);
    swDeltaRelease(&d);
    assert_int_equal(swTableRoute(t, 2)->breaker, SW_BREAKER_OPEN);
    assert_int_equal(swTableRule(t, 4)->hits, 1);
    swBufFree(&b);
    swTableFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_commit),
        cmocka_unit_test(test_delta_take_breaker),
        cmocka_unit_test(test_delta_format_is_documented),
        cmocka_unit_test(test_delta_round_trip),
        cmocka_unit_test(test_delta_check_corrupt),
        cmocka_unit_test(test_delta_check_time_ranges),
        cmocka_unit_test(test_delta_check_nomem),
    };
    return cmocka_run_group_tests_name("delta", tests, unitAllocSetup, unitAllocTeardown);
}
