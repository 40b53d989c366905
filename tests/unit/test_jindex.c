/* test_jindex.c -- unit tests of the object member index and deep equality (jindex.h). */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/jindex.h"

static swJsonSpan spanOf(const char *s) {
    swJsonSpan v;
    assert_int_equal(swJsonSkipValue(s, strlen(s), 0, &v), SW_OK);
    return v;
}

static int equal(const char *a, const char *b, unsigned flags) {
    int eq = -1;
    swError err;
    assert_int_equal(
        swJsonValueEqual(a, strlen(a), spanOf(a), b, strlen(b), spanOf(b), flags, 0, &eq, &err),
        SW_OK);
    return eq;
}

static void test_number_equal(void **state) {
    (void)state;
    static const char *const same[][2] = {
        {"1", "1.0"},
        {"1", "1e0"},
        {"10", "1e1"},
        {"0.1", "1e-1"},
        {"100", "1E+2"},
        {"0", "-0"},
        {"0", "0.000e5"},
        {"-2.50", "-25e-1"},
        {"123.456", "123456e-3"},
        {"9007199254740993", "9007199254740993.000"},
        {"1e-400", "0.1e-399"},
    };
    static const char *const differ[][2] = {
        {"1", "2"},     {"1", "-1"},
        {"10", "1"},    {"0.1", "1"},
        {"1e1", "1e2"}, {"9007199254740993", "9007199254740992"},
        {"12", "21"},   {"1e99999999999999999999", "1e99999999999999999998"},
        {"100", "1e3"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const char *a = same[i][0], *b = same[i][1];
        if (!swJsonNumberEqual(a, strlen(a), b, strlen(b))) fail_msg("%s != %s", a, b);
        assert_true(swJsonNumberEqual(b, strlen(b), a, strlen(a)));
    }
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        const char *a = differ[i][0], *b = differ[i][1];
        if (swJsonNumberEqual(a, strlen(a), b, strlen(b))) fail_msg("%s == %s", a, b);
    }
}

static void test_value_equal(void **state) {
    (void)state;
    assert_true(equal("{\"a\":1,\"b\":[1,2]}", "{ \"b\" : [1, 2], \"\\u0061\": 1 }", 0));
    assert_false(equal("{\"a\":1}", "{\"a\":1.0}", 0));
    assert_true(equal("{\"a\":1}", "{\"a\":1.0}", SW_JSON_EQ_NUMERIC));
    assert_false(equal("[1,2]", "[2,1]", 0));
    assert_false(equal("[1]", "[1,1]", 0));
    assert_false(equal("{\"a\":1}", "{\"a\":1,\"b\":2}", 0));
    assert_false(equal("{\"a\":1,\"b\":2}", "{\"a\":1}", 0));
    assert_true(equal("\"A\"", "\"\\u0041\"", 0));
    assert_false(equal("null", "false", 0));
    assert_true(equal("true", "true", 0));
    /* Duplicates: b's last occurrence counts, and every occurrence in a must match it. */
    assert_true(equal("{\"a\":2,\"a\":2}", "{\"a\":1,\"a\":2}", 0));
    assert_false(equal("{\"a\":1,\"a\":2}", "{\"a\":2}", 0));
}

static void test_index_find(void **state) {
    (void)state;
    char *big = bigObject(30, 7);
    swJsonIndex idx;
    assert_int_equal(swJsonIndexBuild(&idx, big, strlen(big), 0), SW_OK);
    assert_int_equal(idx.n, 30);
    assert_int_equal(idx.canonical, 30);
    assert_non_null(idx.slots); /* hashed */
    const char *key = "\"m\\u0031\\u0037\"";
    size_t i = swJsonIndexFind(&idx, key, (swJsonSpan){0, strlen(key)});
    assert_int_equal(i, 17);
    assert_int_equal(swJsonIndexFind(&idx, "\"nope\"", (swJsonSpan){0, 6}), SW_JSON_NOT_FOUND);
    assert_int_equal(idx.end, strlen(big));
    swJsonIndexFree(&idx);
    free(big);

    const char *dup = "{\"a\":1,\"b\":2,\"a\":3}";
    assert_int_equal(swJsonIndexBuild(&idx, dup, strlen(dup), 0), SW_OK);
    assert_int_equal(idx.canonical, 2);
    assert_true(idx.m[0].flags & SW_JSON_MEMBER_SHADOWED);
    assert_int_equal(swJsonIndexFind(&idx, "\"a\"", (swJsonSpan){0, 3}), 2);
    swJsonIndexFree(&idx);

    assert_int_equal(swJsonIndexBuild(&idx, "[1]", 3, 0), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonIndexBuild(&idx, "{\"a\":1", 6, 0), SW_ERR_PAYLOAD);
}

struct indexRun {
    const char *doc;
    swJsonIndex idx;
};

static swStatus indexStep(void *arg) {
    struct indexRun *a = arg;
    return swJsonIndexBuild(&a->idx, a->doc, strlen(a->doc), 0);
}

static void test_index_nomem(void **state) {
    (void)state;
    char *big = bigObject(30, 7);
    struct indexRun a = {big, {0}};
    unitAllocSweep(indexStep, NULL, &a);
    swJsonIndexFree(&a.idx);
    int eq = 0;
    swJsonSpan v = spanOf(big);
    unitAllocFailAfter(0);
    assert_int_equal(swJsonValueEqual(big, strlen(big), v, big, strlen(big), v, 0, 0, &eq, NULL),
                     SW_OK); /* identical bytes: no index needed */
    unitAllocFailAfter(-1);
    assert_true(eq);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_equal),
        cmocka_unit_test(test_value_equal),
        cmocka_unit_test(test_index_find),
        cmocka_unit_test(test_index_nomem),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
