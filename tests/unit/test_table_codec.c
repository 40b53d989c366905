/* test_table_codec.c -- unit tests of the routing table's serialized form
 * (module/core/table_codec.c): the documented layout, round trips, every truncation, every
 * flipped byte, crafted corruptions, and allocation failures at every allocation. */
#include "table_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/table.h"
#include "swarm/table_codec.h"

#include "../fuzz/fuzz_codec.h"

/* The same through swTableDecode, where the target points into the payload: the bytes after
 * it are the next fields (here a route count of "AAAA"), and at the end of the payload there
 * are no more bytes at all. The decoder must quote the target only. The payload lives on the
 * stack and ends in a NUL so that the test itself never reads out of bounds. */
static void test_table_codec_decode_bad_target_message_stays_in_bounds(void **state) {
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
    assert_int_equal(swTableDecode(payload, sizeof(payload) - 1, SW_TABLE_MAX_PATTERN, &out, &err),
                     SW_ERR_CORRUPT);
    assert_ptr_equal(out, (swTable *)(uintptr_t)0x1);
    assert_string_equal(err.msg, "corrupt routing table: " BADTARGET("nowhere"));
}

/* ---- Serialization ---- */

static void test_table_codec_format_is_documented(void **state) {
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

static void test_table_codec_round_trip(void **state) {
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

static void test_table_codec_decode_every_truncation(void **state) {
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

static void test_table_codec_decode_every_flipped_byte(void **state) {
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
            swStatus st = swTableDecode(copy, len, SW_TABLE_MAX_PATTERN, &u, &err);
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

static void test_table_codec_decode_version_and_trailing(void **state) {
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

static void test_table_codec_decode_crafted(void **state) {
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

struct decodeRun {
    const char *buf;
    size_t len;
    swTable *u;
    swError err;
};

static swStatus decodeStep(void *arg) {
    struct decodeRun *a = arg;
    a->u = (swTable *)(uintptr_t)0x1;
    memset(&a->err, 0, sizeof(a->err));
    return swTableDecode(a->buf, a->len, SW_TABLE_MAX_PATTERN, &a->u, &a->err);
}

/* A failed decode says why and leaves the output alone. */
static void decodeFailed(void *arg) {
    struct decodeRun *a = arg;
    assert_string_equal(a->err.msg, "out of memory");
    assert_ptr_equal(a->u, (swTable *)(uintptr_t)0x1);
}

static void test_table_codec_decode_nomem(void **state) {
    (void)state;
    swTable *t = richTable();
    char *buf;
    size_t len;
    encode(t, &buf, &len);
    struct decodeRun a = {.buf = buf, .len = len};
    assert_true(unitAllocSweep(decodeStep, decodeFailed, &a) > 10);
    assertTablesEqual(t, a.u);
    assertTableSane(a.u);
    swTableFree(a.u);
    swFree(buf);
    swTableFree(t);
}

struct encodeRun {
    const swTable *t;
    char *buf;
    size_t len;
};

static swStatus encodeStep(void *arg) {
    struct encodeRun *a = arg;
    a->buf = (char *)(uintptr_t)0x1;
    a->len = 12345;
    return swTableEncode(a->t, &a->buf, &a->len);
}

/* A failed encode leaves the outputs alone. */
static void encodeFailed(void *arg) {
    struct encodeRun *a = arg;
    assert_ptr_equal(a->buf, (char *)(uintptr_t)0x1);
    assert_int_equal(a->len, 12345);
}

static void test_table_codec_encode_nomem(void **state) {
    (void)state;
    swTable *t = richTable();
    char *want;
    size_t wlen;
    encode(t, &want, &wlen);
    struct encodeRun a = {t, NULL, 0};
    unitAllocSweep(encodeStep, encodeFailed, &a);
    assertSameBytes(want, wlen, a.buf, a.len);
    swFree(a.buf);
    swFree(want);
    swTableFree(t);
}

/* ---- Ranges of decoded fields ---- */

/* A table with one route whose breaker opened at openedMs, and this clock. */
static void craftClock(swBuf *b, uint64_t clockMs, uint64_t openedMs) {
    swBufFree(b);
    putHeaderClock(b, FORMAT, 1, NULL, clockMs, 0);
    swBufPutU32(b, 1);
    swBufPutU64(b, 1);
    swBufPutU8(b, SW_ROUTE_SUBJECT);
    swBufPutU8(b, 1);
    swBufPutU8(b, 9);
    swBufPutStr(b, "a.*", 3);
    swBufPutStr(b, "channel:a", 9);
    for (int k = 0; k < 5; k++) swBufPutU64(b, 0);
    swBufPutU8(b, SW_BREAKER_OPEN);
    swBufPutU32(b, 5);
    swBufPutU64(b, openedMs);
    swBufPutU32(b, 0);
    assert_false(swBufFailed(b));
}

static void test_table_codec_decode_clock_ranges(void **state) {
    (void)state;
    swBuf b = {0};
    const uint64_t max = (uint64_t)SW_TABLE_CLOCK_MAX_MS;
    /* The ends of the range load, and work. */
    craftClock(&b, max, max);
    swTable *t = decodeOk(b.data, b.len);
    assert_int_equal(t->clockMs, SW_TABLE_CLOCK_MAX_MS);
    assertTableSane(t);
    swTableFree(t);
    craftClock(&b, 0, 0);
    swTableFree(decodeOk(b.data, b.len));
    /* A clock past the end or negative (INT64_MAX issued ids that went backwards). */
    craftClock(&b, max + 1, 0);
    expectCorrupt(b.data, b.len, "corrupt routing table: id clock 253402300800000 out of range", 0);
    craftClock(&b, (uint64_t)INT64_MAX, 0);
    expectCorrupt(b.data, b.len, "corrupt routing table: id clock 9223372036854775807 out of range",
                  0);
    craftClock(&b, (uint64_t)-1, 0);
    expectCorrupt(b.data, b.len, "corrupt routing table: id clock -1 out of range", 0);
    /* A breaker opened at INT64_MIN or past the end (it stayed open forever). */
    craftClock(&b, 1000, (uint64_t)INT64_MIN);
    expectCorrupt(b.data, b.len,
                  "corrupt routing table: route 1: breaker opened at -9223372036854775808, out of "
                  "range",
                  0);
    craftClock(&b, 1000, max + 1);
    expectCorrupt(b.data, b.len,
                  "corrupt routing table: route 1: breaker opened at 253402300800000, out of range",
                  0);
    swBufFree(&b);
}

/* Issue 9 item 6: the decoder takes swarm.max-type-bytes: a subject pattern longer than any
 * type it could match is refused on load as ROUTE ADD refuses it. */
static void test_table_codec_decode_max_type_bytes(void **state) {
    (void)state;
    swBuf b = {0};
    putHeader(&b, FORMAT, 2, NULL);
    swBufPutU32(&b, 2);
    char pattern[302]; /* a.a.a...a: 301 bytes */
    memset(pattern, 'a', 301);
    for (int i = 1; i < 301; i += 2) pattern[i] = '.';
    pattern[301] = '\0';
    putRoute(&b, 1, SW_ROUTE_SUBJECT, 1, 9, pattern, "channel:a", SW_BREAKER_CLOSED);
    putRoute(&b, 2, SW_ROUTE_REGEX, 1, 9, pattern, "channel:a", SW_BREAKER_CLOSED); /* a regex */
    swBufPutU32(&b, 0);
    swTable *t = NULL;
    swError err;
    assert_int_equal(swTableDecode(b.data, b.len, 256, &t, &err), SW_ERR_CORRUPT);
    assert_null(t);
    assert_string_equal(err.msg, "corrupt routing table: pattern is longer than 256 bytes");
    assert_int_equal(swTableDecode(b.data, b.len, 300, &t, &err), SW_ERR_CORRUPT);
    assert_int_equal(swTableDecode(b.data, b.len, 301, &t, &err), SW_OK);
    assert_int_equal(t->nroutes, 2);
    swTableFree(t);
    swBufFree(&b);
}

/* The inputs that crashed fuzz_table (signed overflow from unchecked decoded clocks) now sit
 * in its corpus; here every build checks them the way fuzz_table does, and that they are
 * refused for the right reason. */
static void test_table_codec_fuzz_regressions(void **state) {
    (void)state;
    static const struct {
        const char *file, *msg;
    } cases[] = {
        {"clock-at-int64-max.bin", "corrupt routing table: id clock 9223372036854775807 out of "
                                   "range"},
        {"opened-ms-int64-min.bin", "corrupt routing table: route 2: breaker opened at "
                                    "57420895248973824, out of range"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/fuzz/corpus/table/%s", SWARM_TESTS_DIR, cases[i].file);
        FILE *f = fopen(path, "rb");
        if (f == NULL) fail_msg("cannot open %s", path);
        char buf[4096];
        size_t len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        swTable *t = NULL;
        swError err;
        err.msg[0] = '\0';
        swStatus st = swTableDecode(buf, len, SW_TABLE_MAX_PATTERN, &t, &err);
        if (st == SW_OK) {
            /* What fuzz_table does with an accepted table (never reached now). */
            size_t elen;
            swFree(fuzzTableRoundTrip(t, &elen));
            fuzzTableUse(t);
            swTableFree(t);
            fail_msg("%s decoded", cases[i].file);
        }
        fuzzDecodeFailed(st, &err);
        assert_string_equal(err.msg, cases[i].msg);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_codec_decode_bad_target_message_stays_in_bounds),
        cmocka_unit_test(test_table_codec_format_is_documented),
        cmocka_unit_test(test_table_codec_round_trip),
        cmocka_unit_test(test_table_codec_decode_every_truncation),
        cmocka_unit_test(test_table_codec_decode_every_flipped_byte),
        cmocka_unit_test(test_table_codec_decode_version_and_trailing),
        cmocka_unit_test(test_table_codec_decode_crafted),
        cmocka_unit_test(test_table_codec_decode_nomem),
        cmocka_unit_test(test_table_codec_decode_clock_ranges),
        cmocka_unit_test(test_table_codec_decode_max_type_bytes),
        cmocka_unit_test(test_table_codec_fuzz_regressions),
        cmocka_unit_test(test_table_codec_encode_nomem),
    };
    return cmocka_run_group_tests_name("table_codec", tests, unitAllocSetup, unitAllocTeardown);
}
