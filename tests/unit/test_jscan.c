/* test_jscan.c -- unit tests of the JSON text scanner (jscan.h): value kinds and spans,
 * iteration, string comparison. */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jscan.h"

/* ---- Scanner ---- */

static void test_scanner_values(void **state) {
    (void)state;
    const char *s = " \t\r\n{\"a\" : [1, \"x\\\"]\", {\"b\":null}], \"c\":-1.5e+3}  ";
    size_t n = strlen(s);
    swJsonSpan v;
    assert_int_equal(swJsonSkipWhitespace(s, n, 0), 4);
    assert_int_equal(swJsonSkipWhitespace("  ", 2, 0), 2);
    assert_int_equal(swJsonKindAt(s, n, 4), SW_JSON_OBJECT);
    assert_int_equal(swJsonKindAt(s, n, 0), SW_JSON_INVALID);
    assert_int_equal(swJsonKindAt(s, n, n), SW_JSON_INVALID);
    assert_int_equal(swJsonSkipValue(s, n, 0, &v), SW_OK);
    assert_int_equal(v.off, 4);
    assert_int_equal(v.len, n - 6);

    struct {
        const char *text;
        swJsonKind kind;
        size_t len;
    } cases[] = {
        {"true,", SW_JSON_TRUE, 4},           {"false]", SW_JSON_FALSE, 5},
        {"null}", SW_JSON_NULL, 4},           {"-0.5e-7,", SW_JSON_NUMBER, 7},
        {"12345", SW_JSON_NUMBER, 5},         {"\"a\\\\\"x", SW_JSON_STRING, 5},
        {"\"\\\\\\\"\"", SW_JSON_STRING, 6},  {"[[],{}]", SW_JSON_ARRAY, 7},
        {"{\"]\":\"}\"}", SW_JSON_OBJECT, 9},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        assert_int_equal(swJsonKindAt(cases[i].text, len, 0), cases[i].kind);
        assert_int_equal(swJsonSkipValue(cases[i].text, len, 0, &v), SW_OK);
        assert_int_equal(v.off, 0);
        assert_int_equal(v.len, cases[i].len);
    }

    const char *bad[] = {"",     "   ",      "tru", "nul", "fals", "\"abc", "\"abc\\\"",
                         "[1,2", "{\"a\":1", "]",   "}",   "x",    "+1",    "{\"a\":\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(swJsonSkipValue(bad[i], strlen(bad[i]), 0, &v), SW_ERR_PAYLOAD);
    }
}

static void test_scanner_iterate_object(void **state) {
    (void)state;
    const char *s = "{ \"a\" : 1 , \"b\\u0041\":{\"x\":[1,2]},\"\":\"v\" }";
    size_t n = strlen(s);
    swJsonIter it;
    swJsonSpan k, v;
    assert_int_equal(swJsonObjectBegin(&it, s, n, 0), SW_OK);
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 1);
    assert_memory_equal(s + k.off, "\"a\"", k.len);
    assert_memory_equal(s + v.off, "1", v.len);
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 1);
    assert_int_equal(k.len, 9);
    assert_true(swJsonStringEqualBytes(s + k.off, k.len, "bA", 2));
    assert_int_equal(v.len, strlen("{\"x\":[1,2]}"));
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 1);
    assert_int_equal(k.len, 2);
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 0);
    assert_int_equal(it.pos, n);
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 0); /* stays at the end */

    assert_int_equal(swJsonObjectBegin(&it, "{}", 2, 0), SW_OK);
    assert_int_equal(swJsonObjectNext(&it, &k, &v), 0);
    assert_int_equal(swJsonObjectBegin(&it, "[]", 2, 0), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonObjectBegin(&it, "", 0, 0), SW_ERR_PAYLOAD);

    const char *bad[] = {
        "{",     "{\"a\"",    "{\"a\":", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
        "{1:2}", "{\"a\":1,", "{,}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        assert_int_equal(swJsonObjectBegin(&it, bad[i], strlen(bad[i]), 0), SW_OK);
        while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) continue;
        assert_int_equal(rc, SW_ERR_PAYLOAD);
        assert_int_equal(swJsonObjectNext(&it, &k, &v), SW_ERR_PAYLOAD);
    }
}

static void test_scanner_iterate_array(void **state) {
    (void)state;
    const char *s = "[ 1 ,\"two\", [3] ,{\"four\":4},null]";
    const char *want[] = {"1", "\"two\"", "[3]", "{\"four\":4}", "null"};
    size_t n = strlen(s), i = 0;
    swJsonIter it;
    swJsonSpan v;
    int rc;
    assert_int_equal(swJsonArrayBegin(&it, s, n, 0), SW_OK);
    while ((rc = swJsonArrayNext(&it, &v)) == 1) {
        assert_true(i < 5);
        assert_int_equal(v.len, strlen(want[i]));
        assert_memory_equal(s + v.off, want[i], v.len);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, 5);
    assert_int_equal(it.pos, n);

    const char *bad[] = {"[", "[1", "[1,", "[1,]", "[1 2]", "[,1]", "[1,}"};
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(swJsonArrayBegin(&it, bad[i], strlen(bad[i]), 0), SW_OK);
        while ((rc = swJsonArrayNext(&it, &v)) == 1) continue;
        assert_int_equal(rc, SW_ERR_PAYLOAD);
    }
    assert_int_equal(swJsonArrayBegin(&it, "{}", 2, 0), SW_ERR_PAYLOAD);
}

static void test_string_equal(void **state) {
    (void)state;
#define SEQ(a, b) swJsonStringEqual(a, strlen(a), b, strlen(b))
    assert_true(SEQ("\"A\"", "\"\\u0041\""));
    assert_true(SEQ("\"\\u0041\"", "\"\\u0041\""));
    assert_true(SEQ("\"caf\xc3\xa9\"", "\"caf\\u00e9\""));
    assert_true(SEQ("\"caf\xc3\xa9\"", "\"caf\\u00E9\""));
    assert_true(SEQ("\"\xe2\x82\xac\"", "\"\\u20ac\""));
    assert_true(SEQ("\"\xf0\x9f\x98\x80\"", "\"\\ud83d\\ude00\""));
    assert_true(SEQ("\"a/b\"", "\"a\\/b\""));
    assert_true(SEQ("\"\\n\\t\\r\\b\\f\"", "\"\\u000a\\u0009\\u000d\\u0008\\u000c\""));
    assert_true(SEQ("\"\\\"\\\\\"", "\"\\u0022\\u005c\""));
    assert_true(SEQ("\"\"", "\"\""));
    assert_true(SEQ("\"\\ud800\"", "\"\\ud800\"")); /* lone surrogates compare by escape */
    assert_false(SEQ("\"A\"", "\"B\""));
    assert_false(SEQ("\"A\"", "\"\\u0042\""));
    assert_false(SEQ("\"AB\"", "\"\\u0041\""));
    assert_false(SEQ("\"\\u0041\"", "\"A \""));
    assert_false(SEQ("\"a\"", "\"ab\""));
    /* A malformed escape only matches the same bytes. */
    assert_true(SEQ("\"\\x\"", "\"\\x\""));
    assert_false(SEQ("\"\\x\"", "\"\\y\""));
    assert_false(SEQ("\"\\x\"", "\"x\""));
    assert_false(SEQ("\"\\u12\"", "\"\\u13\""));
    assert_false(SEQ("\"\\", "\"\\"));
    assert_false(SEQ("a", "a"));
    assert_false(SEQ("\"", "\""));
#undef SEQ
    assert_true(swJsonStringEqualBytes("\"a\\u0000b\"", 10, "a\0b", 3));
    assert_true(swJsonStringEqualBytes("\"abc\"", 5, "abc", 3));
    assert_false(swJsonStringEqualBytes("\"abc\"", 5, "ab", 2));
    assert_false(swJsonStringEqualBytes("\"\\u0061bc\"", 10, "ab", 2));
    assert_false(swJsonStringEqualBytes("\"\\u0061\"", 8, "abc", 3));
    assert_false(swJsonStringEqualBytes("abc", 3, "b", 1));
    assert_false(swJsonStringEqualBytes("\"i\\\\j\"", 6, "i\\\\j", 4));
    assert_true(swJsonStringEqualBytes("\"i\\\\j\"", 6, "i\\j", 3));
}

static void test_two_step_members(void **state) {
    (void)state;
    const char *doc = " {\"a\" : [1, {\"x\":2}], \"b\":true } ";
    size_t len = strlen(doc);
    swJsonIter it;
    swJsonSpan k, v;
    assert_int_equal(swJsonObjectBegin(&it, doc, len, 0), SW_OK);
    assert_int_equal(swJsonObjectNextKey(&it, &k), 1);
    assert_memory_equal(doc + k.off, "\"a\"", 3);
    assert_int_equal(doc[it.pos], '[');
    /* The caller walks the value itself and resumes after it. */
    swJsonSpan walked;
    assert_int_equal(swJsonSkipValue(doc, len, it.pos, &walked), SW_OK);
    swJsonIterResume(&it, walked.off + walked.len);
    assert_int_equal(swJsonObjectNextKey(&it, &k), 1);
    assert_memory_equal(doc + k.off, "\"b\"", 3);
    assert_int_equal(swJsonObjectSkipValue(&it, &v), SW_OK);
    assert_memory_equal(doc + v.off, "true", 4);
    assert_int_equal(swJsonObjectNextKey(&it, &k), 0);
    assert_false(swJsonIterFailed(&it));
    assert_int_equal(swJsonSkipWhitespace(doc, len, it.pos), len);

    const char *bad = "{\"a\" 1}";
    assert_int_equal(swJsonObjectBegin(&it, bad, strlen(bad), 0), SW_OK);
    assert_int_equal(swJsonObjectNextKey(&it, &k), SW_ERR_PAYLOAD);
    assert_true(swJsonIterFailed(&it));
    assert_int_equal(swJsonObjectNext(&it, &k, &v), SW_ERR_PAYLOAD);
}

static void test_top_value_and_errors(void **state) {
    (void)state;
    swError err;
    swJsonSpan v;
    assert_int_equal(swJsonTopValue(" [1] \n", 6, &v, &err), SW_OK);
    assert_int_equal(v.off, 1);
    assert_int_equal(v.len, 3);
    assert_int_equal(swJsonTopValue("[1] x", 5, &v, &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "malformed json at byte 4");
    assert_int_equal(err.offset, 4);
    assert_int_equal(swJsonTopValue("  ", 2, &v, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, 2);
    assert_int_equal(swJsonTooDeep(&err, 7), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "json nested deeper than 1024 levels at byte 7");
}

static void test_string_decoder(void **state) {
    (void)state;
    static const char contents[] = "a\\u00e9\\ud83d\\ude00\\n\\\"";
    swJsonStrDecoder d;
    swJsonStrDecoderInit(&d, contents, strlen(contents));
    static const unsigned char want[] = {'a', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, '\n', '"'};
    for (size_t i = 0; i < sizeof(want); i++) assert_int_equal(swJsonStrDecoderNext(&d), want[i]);
    assert_int_equal(swJsonStrDecoderNext(&d), -1);
    swJsonStrDecoderInit(&d, "\\uZZZZ", 6);
    assert_int_equal(swJsonStrDecoderNext(&d), -2);
    swJsonStrDecoderInit(&d, "\\u00", 4);
    assert_int_equal(swJsonStrDecoderNext(&d), -2);
    assert_true(swJsonContentsEqual("\\u0041b", 7, "Ab", 2));
    assert_true(swJsonContentsEqualBytes("\\u0041b", 7, "Ab", 2));
    assert_false(swJsonContentsEqualBytes("Ab", 2, "\\u0041b", 7));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_step_members),       cmocka_unit_test(test_top_value_and_errors),
        cmocka_unit_test(test_string_decoder),         cmocka_unit_test(test_scanner_values),
        cmocka_unit_test(test_scanner_iterate_object), cmocka_unit_test(test_scanner_iterate_array),
        cmocka_unit_test(test_string_equal),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
