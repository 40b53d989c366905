/* test_jsontext.c -- unit tests of the text-level JSON operations (jsontext.h).
 *
 * cJSON is the oracle: outputs are parsed with it and compared with cJSON_Compare, and a
 * small cJSON implementation of RFC 7396 checks swJsonMergePatch on random inputs. */
#include "unit_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jsontext.h"

/* ---- Helpers ---- */

/* The JSON text s[0..n) parsed, or NULL when it is not exactly one JSON text. */
static cJSON *oracleParse(const char *s, size_t n) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (j == NULL) return NULL;
    size_t i = (size_t)(end - s);
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (i != n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static int jsonEquals(const char *got, size_t gotlen, const char *want) {
    cJSON *g = oracleParse(got, gotlen);
    cJSON *w = oracleParse(want, strlen(want));
    assert_non_null(w);
    int eq = g != NULL && cJSON_Compare(g, w, 1);
    if (!eq) fprintf(stderr, "got  %.*s\nwant %s\n", (int)gotlen, got, want);
    cJSON_Delete(g);
    cJSON_Delete(w);
    return eq;
}

static swStatus merge(const char *doc, const char *patch, char **out, size_t *outlen) {
    return swJsonMergePatch(doc, strlen(doc), patch, strlen(patch), out, outlen, NULL);
}

static swStatus diff(const char *a, const char *b, char **out, size_t *outlen, swError *err) {
    return swJsonMergeDiff(a, strlen(a), b, strlen(b), out, outlen, err);
}

/* Merge patch applied, output compared byte for byte and as JSON. */
static void expectMerge(const char *doc, const char *patch, const char *want) {
    char *out = (char *)1;
    size_t outlen = 1;
    assert_int_equal(merge(doc, patch, &out, &outlen), SW_OK);
    assert_non_null(out);
    assert_int_equal(out[outlen], '\0');
    assert_true(jsonEquals(out, outlen, want));
    assert_int_equal(outlen, strlen(want));
    assert_memory_equal(out, want, outlen);
    swFree(out);
}

static void expectDiff(const char *a, const char *b, const char *want) {
    char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(diff(a, b, &out, &outlen, NULL), SW_OK);
    if (outlen != strlen(want) || memcmp(out, want, outlen) != 0) {
        fprintf(stderr, "diff(%s, %s)\n got  %s\n want %s\n", a, b, out, want);
        fail();
    }
    /* And the patch does its job. */
    char *merged = NULL;
    size_t mlen = 0;
    assert_int_equal(merge(a, out, &merged, &mlen), SW_OK);
    assert_true(jsonEquals(merged, mlen, b));
    swFree(merged);
    swFree(out);
}

static void expectInexpressible(const char *a, const char *b, const char *msg) {
    swError err;
    char *out = (char *)1;
    size_t outlen = 1;
    assert_int_equal(diff(a, b, &out, &outlen, &err), SW_ERR_RANGE);
    assert_null(out);
    assert_int_equal(outlen, 0);
    assert_string_equal(err.msg, msg);
}

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

/* ---- JSON Pointer ---- */

/* RFC 6901 section 5, with the RFC's layout. */
static const char rfc6901Doc[] = "{\n"
                                 "   \"foo\": [\"bar\", \"baz\"],\n"
                                 "   \"\": 0,\n"
                                 "   \"a/b\": 1,\n"
                                 "   \"c%d\": 2,\n"
                                 "   \"e^f\": 3,\n"
                                 "   \"g|h\": 4,\n"
                                 "   \"i\\\\j\": 5,\n"
                                 "   \"k\\\"l\": 6,\n"
                                 "   \" \": 7,\n"
                                 "   \"m~n\": 8\n"
                                 "}";

static const struct {
    const char *pointer;  /* the JSON string representation, decoded */
    const char *fragment; /* the URI fragment representation */
    const char *value;
} rfc6901Examples[] = {
    {"", "#", rfc6901Doc},
    {"/foo", "#/foo", "[\"bar\", \"baz\"]"},
    {"/foo/0", "#/foo/0", "\"bar\""},
    {"/", "#/", "0"},
    {"/a~1b", "#/a~1b", "1"},
    {"/c%d", "#/c%25d", "2"},
    {"/e^f", "#/e%5Ef", "3"},
    {"/g|h", "#/g%7Ch", "4"},
    {"/i\\j", "#/i%5Cj", "5"},
    {"/k\"l", "#/k%22l", "6"},
    {"/ ", "#/%20", "7"},
    {"/m~0n", "#/m~0n", "8"},
};

static swStatus pointerGet(const char *doc, const char *ptr, size_t ptrlen, char *value, size_t cap,
                           swError *err) {
    size_t off = 12345, vlen = 12345;
    swStatus st = swJsonPointerGet(doc, strlen(doc), ptr, ptrlen, &off, &vlen, err);
    if (st != SW_OK) {
        assert_int_equal(off, 12345); /* untouched on failure */
        assert_int_equal(vlen, 12345);
        return st;
    }
    assert_true(vlen < cap);
    memcpy(value, doc + off, vlen);
    value[vlen] = '\0';
    return st;
}

/* Percent-decodes a URI fragment and drops its '#': what a client would send. */
static size_t fragmentToPointer(const char *frag, char *out) {
    size_t n = 0;
    assert_int_equal(frag[0], '#');
    for (const char *p = frag + 1; *p; p++) {
        if (*p == '%') {
            unsigned v;
            assert_int_equal(sscanf(p + 1, "%2x", &v), 1);
            out[n++] = (char)v;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n;
}

static void test_pointer_rfc6901_examples(void **state) {
    (void)state;
    char value[512], ptr[64];
    for (size_t i = 0; i < sizeof(rfc6901Examples) / sizeof(rfc6901Examples[0]); i++) {
        const char *p = rfc6901Examples[i].pointer;
        assert_int_equal(pointerGet(rfc6901Doc, p, strlen(p), value, sizeof(value), NULL), SW_OK);
        assert_string_equal(value, rfc6901Examples[i].value);

        size_t n = fragmentToPointer(rfc6901Examples[i].fragment, ptr);
        assert_int_equal(n, strlen(p));
        assert_memory_equal(ptr, p, n);
        assert_int_equal(pointerGet(rfc6901Doc, ptr, n, value, sizeof(value), NULL), SW_OK);
        assert_string_equal(value, rfc6901Examples[i].value);

        /* The fragment form itself is not a pointer string. */
        swError err;
        const char *f = rfc6901Examples[i].fragment;
        assert_int_equal(pointerGet(rfc6901Doc, f, strlen(f), value, sizeof(value), &err),
                         SW_ERR_SYNTAX);
    }
    /* Whitespace around the document is not part of the whole-document value. */
    assert_int_equal(pointerGet("  [1] \n", "", 0, value, sizeof(value), NULL), SW_OK);
    assert_string_equal(value, "[1]");
}

static void test_pointer_not_found(void **state) {
    (void)state;
    char value[256];
    const char *doc =
        "{\"foo\":[\"bar\",{\"baz\":[10,11]}],\"n\":null,\"s\":\"str\",\"0\":\"zero\"}";
    assert_int_equal(pointerGet(doc, "/foo/1/baz/1", 12, value, sizeof(value), NULL), SW_OK);
    assert_string_equal(value, "11");
    assert_int_equal(pointerGet(doc, "/0", 2, value, sizeof(value), NULL), SW_OK);
    assert_string_equal(value, "\"zero\"");
    assert_int_equal(pointerGet(doc, "/n", 2, value, sizeof(value), NULL), SW_OK);
    assert_string_equal(value, "null");

    /* "-" (past the end) never names a value; indices have no leading zeros, signs,
     * exponents or spaces, and an empty token is no index; scalars have no members. */
    const char *absent[] = {
        "/foo/-",
        "/foo/01",
        "/foo/00",
        "/foo/2",
        "/foo/+1",
        "/foo/-1",
        "/foo/1e0",
        "/foo/",
        "/foo/ 0",
        "/foo/0/x",
        "/n/x",
        "/s/0",
        "/nope",
        "/FOO",
        "//",
        "/foo/1/baz/2",
        "/foo/99999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        assert_int_equal(pointerGet(doc, absent[i], strlen(absent[i]), value, sizeof(value), NULL),
                         SW_ERR_NOTFOUND);
    }
}

static void test_pointer_syntax_errors(void **state) {
    (void)state;
    char value[64];
    swError err;
    const char *doc = "{\"a\":1}";
    assert_int_equal(pointerGet(doc, "a", 1, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "json pointer must be empty or start with '/'");
    assert_int_equal(err.offset, 0);
    assert_int_equal(pointerGet(doc, "#/a", 3, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_int_equal(pointerGet(doc, " /a", 3, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_int_equal(pointerGet(doc, "/a~2", 4, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "invalid escape in json pointer at byte 2: '~' must be "
                                 "followed by '0' or '1'");
    assert_int_equal(err.offset, 2);
    assert_int_equal(pointerGet(doc, "/a~", 3, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_int_equal(err.offset, 2);
    assert_int_equal(pointerGet(doc, "/~/x", 4, value, sizeof(value), &err), SW_ERR_SYNTAX);
    /* The whole pointer is checked, even past the point where the lookup would stop. */
    assert_int_equal(pointerGet(doc, "/nope/~x", 8, value, sizeof(value), &err), SW_ERR_SYNTAX);
    assert_int_equal(err.offset, 6);
    assert_int_equal(pointerGet(doc, "a", 1, value, sizeof(value), NULL), SW_ERR_SYNTAX);
}

static void test_pointer_escaped_keys(void **state) {
    (void)state;
    char value[64];
    const char *doc = "{\"\\u0041\":1,\"a\\/b\":{\"c~d\":2},\"x\\u0000y\":3,\"\\u00e9t\\u00E9\":4,"
                      "\"\\ud83d\\ude00\":5,\"\\\"q\\\"\":6,\"~1\":7}";
    struct {
        const char *ptr;
        size_t len;
        const char *value;
    } cases[] = {
        {"/A", 2, "1"},
        {"/a~1b/c~0d", 10, "2"},
        {"/x\0y", 4, "3"},
        {"/\xc3\xa9t\xc3\xa9", 6, "4"},
        {"/\xf0\x9f\x98\x80", 5, "5"},
        {"/\"q\"", 4, "6"},
        {"/~01", 4, "7"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pointerGet(doc, cases[i].ptr, cases[i].len, value, sizeof(value), NULL),
                         SW_OK);
        assert_string_equal(value, cases[i].value);
    }
    /* Raw bytes equal to a name's escaped spelling are not its name. */
    assert_int_equal(pointerGet(doc, "/\\u0041", 7, value, sizeof(value), NULL), SW_ERR_NOTFOUND);
    assert_int_equal(pointerGet(rfc6901Doc, "/i\\\\j", 5, value, sizeof(value), NULL),
                     SW_ERR_NOTFOUND);
    assert_int_equal(pointerGet(doc, "/x", 2, value, sizeof(value), NULL), SW_ERR_NOTFOUND);
    assert_int_equal(pointerGet(doc, "/~1", 3, value, sizeof(value), NULL), SW_ERR_NOTFOUND);
    assert_int_equal(pointerGet(doc, "/a/b", 4, value, sizeof(value), NULL), SW_ERR_NOTFOUND);
    /* Duplicate names: the first occurrence. */
    assert_int_equal(pointerGet("{\"a\":1,\"a\":2}", "/a", 2, value, sizeof(value), NULL), SW_OK);
    assert_string_equal(value, "1");
}

static void test_pointer_malformed_doc(void **state) {
    (void)state;
    char value[64];
    swError err;
    /* The pointer reads only the path it walks: "{\"a\":[1,2" holds /a/1 before the
     * damage, so it is found (the server only ever walks validated documents). */
    assert_int_equal(pointerGet("{\"a\":[1,2", "/a/1", 4, value, sizeof(value), &err), SW_OK);
    assert_string_equal(value, "2");
    const char *truncated[] = {"", "  ", "{", "{\"a\":", "[1,", "{\"a\":[1,", "\"abc"};
    for (size_t i = 0; i < sizeof(truncated) / sizeof(truncated[0]); i++) {
        swStatus st = pointerGet(truncated[i], "/a/1", 4, value, sizeof(value), &err);
        assert_true(st == SW_ERR_PAYLOAD || st == SW_ERR_NOTFOUND);
        assert_int_equal(pointerGet(truncated[i], "", 0, value, sizeof(value), &err),
                         SW_ERR_PAYLOAD);
    }
    /* Containers are skipped by bracket counting: damage inside one is only seen when the
     * pointer walks through it. */
    assert_int_equal(pointerGet("{\"a\":tru}", "", 0, value, sizeof(value), &err), SW_OK);
    assert_int_equal(pointerGet("{\"a\":tru}", "/a", 2, value, sizeof(value), &err),
                     SW_ERR_PAYLOAD);
    assert_int_equal(pointerGet("{\"a\" 1}", "/a", 2, value, sizeof(value), &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "malformed json at byte 1");
}

/* ---- Merge patch ---- */

/* RFC 7396 Appendix A, every row. */
static const struct {
    const char *original, *patch, *result;
} rfc7396AppendixA[] = {
    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
    {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
    {"{\"a\":\"foo\"}", "null", "null"},
    {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
    {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

static void test_merge_rfc7396_appendix_a(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(rfc7396AppendixA) / sizeof(rfc7396AppendixA[0]); i++) {
        expectMerge(rfc7396AppendixA[i].original, rfc7396AppendixA[i].patch,
                    rfc7396AppendixA[i].result);
    }
}

/* RFC 7396 section 3, whitespace and all. */
static void test_merge_rfc7396_section3(void **state) {
    (void)state;
    const char *doc = "{\n"
                      "  \"title\": \"Goodbye!\",\n"
                      "  \"author\" : {\n"
                      "    \"givenName\" : \"John\",\n"
                      "    \"familyName\" : \"Doe\"\n"
                      "  },\n"
                      "  \"tags\":[ \"example\", \"sample\" ],\n"
                      "  \"content\": \"This will be unchanged\"\n"
                      "}";
    const char *patch = "{\n"
                        "  \"title\": \"Hello!\",\n"
                        "  \"phoneNumber\": \"+01-123-456-7890\",\n"
                        "  \"author\": {\n"
                        "    \"familyName\": null\n"
                        "  },\n"
                        "  \"tags\": [ \"example\" ]\n"
                        "}";
    const char *want = "{\"title\":\"Hello!\",\"author\":{\"givenName\" : \"John\"},"
                       "\"tags\":[ \"example\" ],\"content\": \"This will be unchanged\","
                       "\"phoneNumber\":\"+01-123-456-7890\"}";
    expectMerge(doc, patch, want);
}

static void test_merge_verbatim_and_order(void **state) {
    (void)state;
    /* Numbers never go through a double; untouched values keep their bytes. */
    expectMerge("{\"id\":9007199254740993,\"big\":123456789012345678901234567890,"
                "\"f\":1.000000000000000000001,\"e\":-1.5E+300}",
                "{\"x\":true}",
                "{\"id\":9007199254740993,\"big\":123456789012345678901234567890,"
                "\"f\":1.000000000000000000001,\"e\":-1.5E+300,\"x\":true}");
    expectMerge("{\"a\" :  [ 1 , 2 ] ,\n \"b\":{ \"c\" : \"\\u0041\" }}", "{\"z\":-0}",
                "{\"a\" :  [ 1 , 2 ],\"b\":{ \"c\" : \"\\u0041\" },\"z\":-0}");
    /* Kept members stay in the document's order, new ones follow in the patch's order. */
    expectMerge("{\"c\":3,\"a\":1,\"b\":2}", "{\"z\":26,\"b\":20,\"y\":25,\"c\":null}",
                "{\"a\":1,\"b\":20,\"z\":26,\"y\":25}");
    /* Patch values are copied verbatim too, whitespace inside included. */
    expectMerge("{}", " { \"a\" : [ 1 ,2 ] } ", "{\"a\":[ 1 ,2 ]}");
    expectMerge("{}", "{}", "{}");
    expectMerge("{\"a\":1}", "{}", "{\"a\":1}");
    expectMerge("\"str\"", "{\"a\":1}", "{\"a\":1}");
    expectMerge("17", "{\"a\":null}", "{}");
    expectMerge("null", " 42 ", "42");
    expectMerge("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":{\"c\":null,\"d\":[null]}}}",
                "{\"a\":{\"b\":{\"d\":[null]}}}");
    expectMerge("{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":null,\"c\":null}}", "{\"a\":{}}");
    expectMerge("{\"a\":1}", "{\"b\":{\"c\":{\"d\":{}}}}", "{\"a\":1,\"b\":{\"c\":{\"d\":{}}}}");
}

static void test_merge_escaped_keys(void **state) {
    (void)state;
    /* Names match by decoded value; the document's spelling of a kept name is kept. */
    expectMerge("{\"A\":1,\"b\":2}", "{\"\\u0041\":null}", "{\"b\":2}");
    expectMerge("{\"\\u0041\":1,\"b\":2}", "{\"A\":5}", "{\"\\u0041\":5,\"b\":2}");
    expectMerge("{\"caf\xc3\xa9\":{\"x\":1}}", "{\"caf\\u00e9\":{\"y\":2}}",
                "{\"caf\xc3\xa9\":{\"x\":1,\"y\":2}}");
    expectMerge("{\"a/b\":1}", "{\"a\\/b\":2,\"\\\"\":3}", "{\"a/b\":2,\"\\\"\":3}");
    expectMerge("{\"\xf0\x9f\x98\x80\":1}", "{\"\\ud83d\\ude00\":null}", "{}");
}

static void test_merge_duplicate_names(void **state) {
    (void)state;
    /* In a patch the last occurrence wins, as with the RFC's sequential algorithm. */
    expectMerge("{\"a\":0}", "{\"a\":1,\"a\":2}", "{\"a\":2}");
    expectMerge("{}", "{\"a\":1,\"a\":null}", "{}");
    expectMerge("{\"b\":0}", "{\"a\":1,\"\\u0061\":2}", "{\"b\":0,\"\\u0061\":2}");
    /* The same with enough members to take the hashed path. */
    expectMerge("{\"k\":0}",
                "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"a\":2,"
                "\"k\":null}",
                "{\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"a\":2}");
    /* In a document every occurrence is patched alike. */
    expectMerge("{\"a\":1,\"a\":2}", "{\"a\":3}", "{\"a\":3,\"a\":3}");
}

static void test_merge_large_objects(void **state) {
    (void)state;
    /* 300 members on each side: the hashed lookup. */
    char doc[8192], patch[8192], want[16384];
    size_t d = 0, p = 0, w = 0;
    d += (size_t)snprintf(doc + d, sizeof(doc) - d, "{");
    p += (size_t)snprintf(patch + p, sizeof(patch) - p, "{");
    w += (size_t)snprintf(want + w, sizeof(want) - w, "{");
    for (int i = 0; i < 300; i++) {
        d += (size_t)snprintf(doc + d, sizeof(doc) - d, "%s\"k%d\":%d", i ? "," : "", i, i);
    }
    for (int i = 150; i < 450; i++) {
        /* every third deleted, the rest doubled, the new ones escaped */
        if (i % 3 == 0) {
            p += (size_t)snprintf(patch + p, sizeof(patch) - p, "%s\"k%d\":null",
                                  i > 150 ? "," : "", i);
        } else {
            p += (size_t)snprintf(patch + p, sizeof(patch) - p, "%s\"\\u006b%d\":%d",
                                  i > 150 ? "," : "", i, 2 * i);
        }
    }
    for (int i = 0; i < 450; i++) {
        if (i >= 150 && i % 3 == 0) continue;
        const char *k = i < 300 ? "k" : "\\u006b";
        w += (size_t)snprintf(want + w, sizeof(want) - w, "%s\"%s%d\":%d", w > 1 ? "," : "", k, i,
                              i < 150 ? i : 2 * i);
    }
    snprintf(doc + d, sizeof(doc) - d, "}");
    snprintf(patch + p, sizeof(patch) - p, "}");
    snprintf(want + w, sizeof(want) - w, "}");
    expectMerge(doc, patch, want);
}

static void test_merge_malformed(void **state) {
    (void)state;
    char *out = (char *)1;
    size_t outlen = 1;
    swError err;
    const char *badDoc[] = {"", " ", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\":1,}", "x", "{\"a\" 1}"};
    for (size_t i = 0; i < sizeof(badDoc) / sizeof(badDoc[0]); i++) {
        assert_int_equal(
            swJsonMergePatch(badDoc[i], strlen(badDoc[i]), "{\"b\":1}", 7, &out, &outlen, &err),
            SW_ERR_PAYLOAD);
        assert_null(out);
        assert_int_equal(outlen, 0);
        out = (char *)1;
        outlen = 1;
    }
    const char *badPatch[] = {"", "{", "{\"a\":1} 2", "[1,", "nul", "{\"a\":}"};
    for (size_t i = 0; i < sizeof(badPatch) / sizeof(badPatch[0]); i++) {
        assert_int_equal(
            swJsonMergePatch("{}", 2, badPatch[i], strlen(badPatch[i]), &out, &outlen, &err),
            SW_ERR_PAYLOAD);
        assert_null(out);
    }
    assert_int_equal(swJsonMergePatch("{\"a\":1} x", 9, "{}", 2, &out, &outlen, &err),
                     SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "malformed json at byte 8");
    assert_int_equal(err.offset, 8);
}

/* Nesting deeper than SW_JSONTEXT_MAX_DEPTH is refused, not recursed into. */
static char *nested(int depth, const char *leaf) {
    size_t n = (size_t)depth * 6 + strlen(leaf) + 1;
    char *s = malloc(n);
    if (s == NULL) abort();
    size_t k = 0;
    for (int i = 0; i < depth; i++, k += 5) memcpy(s + k, "{\"a\":", 5);
    memcpy(s + k, leaf, strlen(leaf));
    k += strlen(leaf);
    for (int i = 0; i < depth; i++) s[k++] = '}';
    s[k] = '\0';
    return s;
}

static void test_merge_depth_limit(void **state) {
    (void)state;
    char *out;
    size_t outlen;
    swError err;
    char *deep = nested(SW_JSONTEXT_MAX_DEPTH + 10, "1");
    char *fits = nested(SW_JSONTEXT_MAX_DEPTH, "1");
    assert_int_equal(merge("{}", deep, &out, &outlen), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonMergePatch("{}", 2, deep, strlen(deep), &out, &outlen, &err),
                     SW_ERR_PAYLOAD);
    assert_non_null(strstr(err.msg, "nested deeper than"));
    assert_int_equal(merge("{}", fits, &out, &outlen), SW_OK);
    assert_string_equal(out, fits); /* not cJSON_Compare: it is exponential in the depth */
    swFree(out);
    /* A deep document under a shallow patch is only copied. */
    assert_int_equal(merge(deep, "{\"b\":2}", &out, &outlen), SW_OK);
    swFree(out);
    char *deep2 = nested(SW_JSONTEXT_MAX_DEPTH + 10, "2");
    assert_int_equal(swJsonMergeDiff(deep, strlen(deep), deep2, strlen(deep2), &out, &outlen, &err),
                     SW_ERR_PAYLOAD);
    assert_int_equal(diff(deep, deep, &out, &outlen, NULL), SW_OK);
    assert_string_equal(out, "{}");
    swFree(out);
    free(deep);
    free(deep2);
    free(fits);
}

/* ---- Merge diff ---- */

static void test_diff_basic(void **state) {
    (void)state;
    expectDiff("{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":3,\"c\":4}", "{\"b\":3,\"c\":4}");
    expectDiff("{\"a\":1,\"b\":2}", "{\"b\":2}", "{\"a\":null}");
    expectDiff("{\"a\":1}", "{\"a\":1}", "{}");
    expectDiff("{}", "{}", "{}");
    expectDiff("{\"a\":1,\"b\":[1,{\"c\":2,\"d\":3}]}", " {\"b\" : [1,{\"d\":3,\"c\":2}], \"a\":1}",
               "{}");
    expectDiff("{\"s\":\"A\",\"t\":\"caf\xc3\xa9\"}", "{\"s\":\"\\u0041\",\"t\":\"caf\\u00e9\"}",
               "{}");
    expectDiff("{\"\\u0041\":1}", "{\"A\":1}", "{}");
    expectDiff("{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}",
               "{\"a\":{\"b\":{\"c\":1,\"d\":5},\"e\":3}}", "{\"a\":{\"b\":{\"d\":5}}}");
    expectDiff("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1},\"c\":{\"d\":{}}}", "{\"c\":{\"d\":{}}}");
    expectDiff("{\"a\":{\"b\":1}}", "{\"a\":{}}", "{\"a\":{\"b\":null}}");
    expectDiff("{\"a\":[1,2,3]}", "{\"a\":[1,2]}", "{\"a\":[1,2]}");
    expectDiff("{\"a\":[1,2]}", "{\"a\":[1,2,3]}", "{\"a\":[1,2,3]}");
    expectDiff("{\"a\":[null]}", "{\"a\":[null,{\"x\":null}]}", "{\"a\":[null,{\"x\":null}]}");
    expectDiff("{\"a\":1}", "{\"a\":{\"b\":[null]}}", "{\"a\":{\"b\":[null]}}");
    expectDiff("{\"a\":{\"b\":1}}", "{\"a\":2}", "{\"a\":2}");
    expectDiff("{\"a\":true}", "{\"a\":false}", "{\"a\":false}");
    expectDiff("{\"a\":\"x\"}", "{\"a\":\"y\"}", "{\"a\":\"y\"}");
    /* Nulls b shares with a need no patch entry. */
    expectDiff("{\"a\":null,\"b\":{\"c\":null}}", "{\"a\":null,\"b\":{\"c\":null,\"d\":1}}",
               "{\"b\":{\"d\":1}}");
    /* Numbers compare by text: a double would call these equal. */
    expectDiff("{\"n\":9007199254740993}", "{\"n\":9007199254740992}", "{\"n\":9007199254740992}");
    expectDiff("{\"n\":1.0}", "{\"n\":1}", "{\"n\":1}");
    expectDiff("{\"n\":[1e2]}", "{\"n\":[100]}", "{\"n\":[100]}");
    /* A non-object b is the patch; so is an object b from a non-object a. */
    expectDiff("{\"a\":1}", "[1,2]", "[1,2]");
    expectDiff("[1,2]", "[1,2]", "[1,2]");
    expectDiff("{\"a\":1}", "null", "null");
    expectDiff("\"x\"", " 7 ", "7");
    expectDiff("[1]", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}");
    expectDiff("null", "{}", "{}");
    /* Member order: a's changes and deletions first, then b's additions in b's order. */
    expectDiff("{\"x\":1,\"y\":2,\"z\":3}", "{\"q\":0,\"z\":3,\"y\":9,\"p\":1}",
               "{\"x\":null,\"y\":9,\"q\":0,\"p\":1}");
}

static void test_diff_inexpressible(void **state) {
    (void)state;
    expectInexpressible("{\"a\":1}", "{\"a\":null}", "merge patch cannot set '/a' to null");
    expectInexpressible("{}", "{\"x\":{\"y\":null}}", "merge patch cannot set '/x/y' to null");
    expectInexpressible("{\"x\":1}", "{\"x\":{\"y\":null}}",
                        "merge patch cannot set '/x/y' to null");
    expectInexpressible("{\"x\":{\"y\":1}}", "{\"x\":{\"y\":null}}",
                        "merge patch cannot set '/x/y' to null");
    expectInexpressible("{\"x\":{\"y\":{}}}", "{\"x\":{\"y\":{\"z\":null}}}",
                        "merge patch cannot set '/x/y/z' to null");
    expectInexpressible("[1]", "{\"a\":null}", "merge patch cannot set '/a' to null");
    expectInexpressible("5", "{\"a\":{\"b\":{\"c\":null}}}",
                        "merge patch cannot set '/a/b/c' to null");
    expectInexpressible("{}", "{\"a/b\":{\"c~d\":null}}",
                        "merge patch cannot set '/a~1b/c~0d' to null");
    expectInexpressible("{}", "{\"\\u0041\\n\":null}", "merge patch cannot set '/A?' to null");
    expectInexpressible("{\"a\":[1]}", "{\"a\":{\"b\":null}}",
                        "merge patch cannot set '/a/b' to null");

    swError err;
    char *out = NULL;
    size_t outlen = 0;
    const char *b = "{\"k\":1,\"n\":null}";
    assert_int_equal(diff("{}", b, &out, &outlen, &err), SW_ERR_RANGE);
    assert_int_equal(err.offset, 11); /* where the null is in b */
    assert_int_equal(diff("{}", b, &out, &outlen, NULL), SW_ERR_RANGE);

    /* A long path is cut, visibly. */
    char longb[600];
    size_t n = (size_t)sprintf(longb, "{\"%0200d\":{\"%0200d\":null}}", 1, 2);
    assert_int_equal(swJsonMergeDiff("{}", 2, longb, n, &out, &outlen, &err), SW_ERR_RANGE);
    assert_true(strlen(err.msg) < SW_ERRMSG_MAX);
    assert_non_null(strstr(err.msg, "...' to null"));
}

static void test_diff_malformed(void **state) {
    (void)state;
    char *out = (char *)1;
    size_t outlen = 1;
    swError err;
    assert_int_equal(diff("{\"a\":", "{}", &out, &outlen, &err), SW_ERR_PAYLOAD);
    assert_null(out);
    assert_int_equal(diff("{}", "", &out, &outlen, &err), SW_ERR_PAYLOAD);
    assert_int_equal(diff("{}", "{} {}", &out, &outlen, &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "malformed json at byte 3");
}

/* ---- Property tests ---- */

static uint64_t rng;

static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static unsigned below(unsigned n) {
    return (unsigned)(rnd() % n);
}

static const char *const keyPool[] = {
    "a",   "b",    "c",    "id",          "name", "status", "x/y",
    "m~n", "q\"t", "b\\s", "caf\xc3\xa9", "nl\n", "",       "\xf0\x9f\x98\x80",
};

static void randomKey(char *key) {
    if (below(3) == 0) {
        sprintf(key, "k%u", below(40));
    } else {
        strcpy(key, keyPool[below(sizeof(keyPool) / sizeof(keyPool[0]))]);
    }
}

static cJSON *randomValue(int depth);

static cJSON *randomObject(int depth) {
    cJSON *o = cJSON_CreateObject();
    unsigned n = below(depth >= 2 ? 3 : 6);
    if (below(8) == 0) n = 9 + below(14); /* enough members for the hashed lookup */
    for (unsigned i = 0; i < n; i++) {
        char key[32];
        randomKey(key);
        if (cJSON_GetObjectItemCaseSensitive(o, key) == NULL) {
            cJSON_AddItemToObject(o, key, randomValue(depth + 1));
        }
    }
    return o;
}

static cJSON *randomValue(int depth) {
    static const char *const strings[] = {"",  "x",           "A",     "\"",   "\\",
                                          "/", "caf\xc3\xa9", "tab\t", "\x01", "long string value"};
    static const double numbers[] = {0, -1, 42, 3.5, -0.25, 1e20, 123456789, 1e-7};
    switch (depth >= 4 ? 3 + below(7) : below(10)) {
    case 0:
    case 1:
        return randomObject(depth);
    case 2: {
        cJSON *a = cJSON_CreateArray();
        unsigned n = below(4);
        for (unsigned i = 0; i < n; i++) cJSON_AddItemToArray(a, randomValue(depth + 1));
        return a;
    }
    case 3:
    case 4:
        return cJSON_CreateString(strings[below(sizeof(strings) / sizeof(strings[0]))]);
    case 5:
    case 6:
        return cJSON_CreateNumber(numbers[below(sizeof(numbers) / sizeof(numbers[0]))]);
    case 7:
        return cJSON_CreateBool(below(2));
    default:
        return cJSON_CreateNull();
    }
}

/* Changes a container in place: deletions, replacements, nulls, additions, recursion. */
static void mutate(cJSON *v, int depth) {
    if (cJSON_IsArray(v)) {
        cJSON *e = v->child;
        for (; e != NULL; e = e->next) {
            if (below(4) == 0 && (cJSON_IsObject(e) || cJSON_IsArray(e))) mutate(e, depth + 1);
        }
        if (below(5) == 0) cJSON_AddItemToArray(v, randomValue(depth + 1));
        return;
    }
    if (!cJSON_IsObject(v)) return;
    cJSON *m = v->child;
    while (m != NULL) {
        cJSON *next = m->next;
        unsigned r = below(20);
        if (r < 2) {
            cJSON_DeleteItemFromObjectCaseSensitive(v, m->string);
        } else if (r < 4) {
            cJSON_ReplaceItemInObjectCaseSensitive(v, m->string, randomValue(depth + 1));
        } else if (r == 4) {
            cJSON_ReplaceItemInObjectCaseSensitive(v, m->string, cJSON_CreateNull());
        } else if (r < 12) {
            mutate(m, depth + 1);
        }
        m = next;
    }
    while (below(3) == 0) {
        char key[32];
        randomKey(key);
        if (cJSON_GetObjectItemCaseSensitive(v, key) == NULL) {
            cJSON_AddItemToObject(v, key,
                                  below(6) == 0 ? cJSON_CreateNull() : randomValue(depth + 1));
        }
    }
}

/* Prints v compact or indented, and respells some letters inside strings (names included)
 * as \u escapes, so equal names and strings often differ byte-wise. Free with free(). */
static char *printRandomly(const cJSON *v) {
    char *text = below(2) ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
    assert_non_null(text);
    size_t n = strlen(text);
    char *out = malloc(n * 6 + 1), *o = out;
    if (out == NULL) abort();
    int escapes = below(3) == 0, inString = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!inString) {
            *o++ = c;
            if (c == '"') inString = 1;
        } else if (c == '\\') {
            size_t k = text[i + 1] == 'u' ? 6 : 2;
            memcpy(o, text + i, k);
            o += k;
            i += k - 1;
        } else if (c == '"') {
            *o++ = c;
            inString = 0;
        } else if (escapes && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && below(3) == 0) {
            o += sprintf(o, "\\u%04X", (unsigned)c);
        } else {
            *o++ = c;
        }
    }
    *o = '\0';
    cJSON_free(text);
    return out;
}

/* RFC 7396 section 2, on cJSON trees. Takes target, returns the result. */
static cJSON *refMerge(cJSON *target, const cJSON *patch) {
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        target = cJSON_CreateObject();
    }
    for (const cJSON *m = patch->child; m != NULL; m = m->next) {
        if (cJSON_IsNull(m)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
        } else {
            cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(target, m->string);
            cJSON_AddItemToObject(target, m->string, refMerge(old, m));
        }
    }
    return target;
}

static int hasNullMember(const cJSON *v) {
    if (!cJSON_IsObject(v)) return 0;
    for (const cJSON *m = v->child; m != NULL; m = m->next) {
        if (cJSON_IsNull(m) || hasNullMember(m)) return 1;
    }
    return 0;
}

/* Whether no merge patch turns a into b: b has a null member that a does not hold at the
 * same place, reached through objects. */
static int mustRefuse(const cJSON *a, const cJSON *b) {
    if (!cJSON_IsObject(b)) return 0;
    if (!cJSON_IsObject(a)) return hasNullMember(b);
    for (const cJSON *m = b->child; m != NULL; m = m->next) {
        const cJSON *am = cJSON_GetObjectItemCaseSensitive(a, m->string);
        if (cJSON_IsNull(m)) {
            if (am == NULL || !cJSON_IsNull(am)) return 1;
        } else if (cJSON_IsObject(m)) {
            if (am != NULL && cJSON_IsObject(am) ? mustRefuse(am, m) : hasNullMember(m)) {
                return 1;
            }
        }
    }
    return 0;
}

static cJSON *randomDocument(void) {
    return below(20) == 0 ? randomValue(0) : randomObject(0);
}

static void test_property_diff_roundtrip(void **state) {
    (void)state;
    rng = 0x5eed5eed12345678ULL;
    int expressible = 0, refused = 0, empty = 0;
    for (int iter = 0; iter < 6000; iter++) {
        cJSON *a = randomDocument(), *b;
        unsigned r = below(20);
        if (r == 0) {
            b = randomValue(0);
        } else if (r == 1) {
            b = randomObject(0);
        } else {
            b = cJSON_Duplicate(a, 1);
            if (below(8) != 0) mutate(b, 0);
        }
        char *at = printRandomly(a), *bt = printRandomly(b);
        char *patch = NULL, *merged = NULL;
        size_t plen = 0, mlen = 0;
        swError err;
        swStatus st = swJsonMergeDiff(at, strlen(at), bt, strlen(bt), &patch, &plen, &err);
        int refuse = mustRefuse(a, b);
        if (st != (refuse ? SW_ERR_RANGE : SW_OK)) {
            fprintf(stderr, "iteration %d: a=%s\nb=%s\nstatus %d, expected refusal %d\n", iter, at,
                    bt, st, refuse);
            fail();
        }
        if (st == SW_OK) {
            expressible++;
            cJSON *pj = oracleParse(patch, plen);
            assert_non_null(pj);
            if (cJSON_IsObject(pj) && pj->child == NULL) empty++;
            cJSON_Delete(pj);
            assert_int_equal(swJsonMergePatch(at, strlen(at), patch, plen, &merged, &mlen, NULL),
                             SW_OK);
            cJSON *mj = oracleParse(merged, mlen);
            if (mj == NULL || !cJSON_Compare(mj, b, 1)) {
                fprintf(stderr, "iteration %d: a=%s\nb=%s\npatch=%s\nmerged=%s\n", iter, at, bt,
                        patch, merged);
                fail();
            }
            cJSON_Delete(mj);
            /* Equal documents have nothing to say to each other. */
            if (cJSON_IsObject(a) && cJSON_IsObject(b) && cJSON_Compare(a, b, 1)) {
                assert_string_equal(patch, "{}");
            }
            swFree(merged);
            swFree(patch);
        } else {
            assert_null(patch);
            assert_non_null(strstr(err.msg, "merge patch cannot set '/"));
            refused++;
        }
        free(at);
        free(bt);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    /* The generator exercised every outcome. */
    assert_true(expressible - empty > 1500);
    assert_true(refused > 1000);
    assert_true(empty > 500);
}

static void test_property_merge_matches_reference(void **state) {
    (void)state;
    rng = 0x0123456789abcdefULL;
    for (int iter = 0; iter < 4000; iter++) {
        cJSON *a = randomDocument();
        cJSON *p;
        if (below(10) == 0) {
            p = randomValue(0);
        } else if (below(2) == 0) {
            p = randomObject(0);
        } else {
            p = cJSON_Duplicate(a, 1);
            mutate(p, 0);
        }
        char *at = printRandomly(a), *pt = printRandomly(p);
        char *out = NULL;
        size_t outlen = 0;
        assert_int_equal(swJsonMergePatch(at, strlen(at), pt, strlen(pt), &out, &outlen, NULL),
                         SW_OK);
        cJSON *want = refMerge(cJSON_Duplicate(a, 1), p);
        cJSON *got = oracleParse(out, outlen);
        if (got == NULL || !cJSON_Compare(got, want, 1)) {
            char *wt = cJSON_PrintUnformatted(want);
            fprintf(stderr, "iteration %d: doc=%s\npatch=%s\ngot=%s\nwant=%s\n", iter, at, pt, out,
                    wt);
            cJSON_free(wt);
            fail();
        }
        cJSON_Delete(got);
        cJSON_Delete(want);
        swFree(out);
        free(at);
        free(pt);
        cJSON_Delete(a);
        cJSON_Delete(p);
    }
}

/* Pointers to every value of random documents find exactly what cJSON finds there. */
static void pointerWalk(const char *doc, const cJSON *v, char *ptr, size_t n) {
    size_t off, vlen;
    assert_int_equal(swJsonPointerGet(doc, strlen(doc), ptr, n, &off, &vlen, NULL), SW_OK);
    cJSON *got = oracleParse(doc + off, vlen);
    assert_non_null(got);
    assert_true(cJSON_Compare(got, v, 1));
    cJSON_Delete(got);
    if (n > 200) return;
    size_t i = 0;
    for (const cJSON *m = v->child; m != NULL; m = m->next, i++) {
        size_t k = n;
        ptr[k++] = '/';
        if (cJSON_IsArray(v)) {
            k += (size_t)sprintf(ptr + k, "%zu", i);
        } else {
            for (const char *c = m->string; *c; c++) {
                if (*c == '~' || *c == '/') {
                    ptr[k++] = '~';
                    ptr[k++] = *c == '~' ? '0' : '1';
                } else {
                    ptr[k++] = *c;
                }
            }
        }
        pointerWalk(doc, m, ptr, k);
    }
    if (cJSON_IsArray(v)) {
        size_t k = n + (size_t)sprintf(ptr + n, "/%zu", i);
        assert_int_equal(swJsonPointerGet(doc, strlen(doc), ptr, k, &off, &vlen, NULL),
                         SW_ERR_NOTFOUND);
    }
}

static void test_property_pointer(void **state) {
    (void)state;
    rng = 0xfeedfacecafebeefULL;
    char ptr[1024];
    for (int iter = 0; iter < 500; iter++) {
        cJSON *a = randomDocument();
        char *at = printRandomly(a);
        pointerWalk(at, a, ptr, 0);
        free(at);
        cJSON_Delete(a);
    }
}

/* Truncated and corrupted inputs: a status, never a crash or an out-of-bounds read (the suite
 * also runs under valgrind and ASan). */
static void test_robust_against_garbage(void **state) {
    (void)state;
    rng = 0xabad1deaULL;
    static const swStatus allowed[] = {SW_OK, SW_ERR_PAYLOAD, SW_ERR_RANGE, SW_ERR_NOTFOUND,
                                       SW_ERR_SYNTAX};
    for (int iter = 0; iter < 150; iter++) {
        cJSON *a = randomObject(0), *b = cJSON_Duplicate(a, 1);
        mutate(b, 0);
        char *at = printRandomly(a), *bt = printRandomly(b);
        size_t alen = strlen(at), blen = strlen(bt);
        for (size_t cut = 0; cut <= alen; cut++) {
            /* a heap copy of exactly cut bytes so a tool sees any overread */
            char *t = malloc(cut + 1);
            char *u = malloc(cut + 1);
            if (t == NULL || u == NULL) abort();
            memcpy(t, at, cut);
            memcpy(u, at, cut);
            if (cut > 0 && below(2)) u[below((unsigned)cut)] = "{}[]\",:\\ u0"[below(12)];
            char *out;
            size_t outlen, off, vlen;
            swStatus sts[5];
            sts[0] = swJsonMergePatch(t, cut, bt, blen, &out, &outlen, NULL);
            if (sts[0] == SW_OK) swFree(out);
            sts[1] = swJsonMergePatch(bt, blen, u, cut, &out, &outlen, NULL);
            if (sts[1] == SW_OK) swFree(out);
            sts[2] = swJsonMergeDiff(u, cut, bt, blen, &out, &outlen, NULL);
            if (sts[2] == SW_OK) swFree(out);
            sts[3] = swJsonMergeDiff(bt, blen, u, cut, &out, &outlen, NULL);
            if (sts[3] == SW_OK) swFree(out);
            sts[4] = swJsonPointerGet(u, cut, "/a/0/b", 6, &off, &vlen, NULL);
            if (sts[4] == SW_OK) assert_true(off + vlen <= cut);
            for (int i = 0; i < 5; i++) {
                int ok = 0;
                for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++) {
                    ok |= sts[i] == allowed[j];
                }
                assert_true(ok);
            }
            if (cut < alen) assert_int_equal(sts[0], SW_ERR_PAYLOAD);
            free(t);
            free(u);
        }
        free(at);
        free(bt);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

/* ---- Allocation failures ---- */

typedef swStatus (*binaryOp)(const char *, size_t, const char *, size_t, char **, size_t *,
                             swError *);

/* Fails the 1st, 2nd, ... allocation of op(x, y) until it succeeds: every failure is a
 * clean SW_ERR_NOMEM (cmocka reports any leak), and the final result is the expected one. */
static long failEveryAllocation(binaryOp op, const char *x, const char *y) {
    char *want = NULL, *out;
    size_t wantlen = 0, outlen;
    assert_int_equal(op(x, strlen(x), y, strlen(y), &want, &wantlen, NULL), SW_OK);
    long n;
    for (n = 0;; n++) {
        out = (char *)1;
        outlen = 1;
        unitAllocFailAfter(n);
        swStatus st = op(x, strlen(x), y, strlen(y), &out, &outlen, NULL);
        unitAllocFailAfter(-1);
        if (st == SW_OK) break;
        assert_int_equal(st, SW_ERR_NOMEM);
        assert_null(out);
        assert_int_equal(outlen, 0);
    }
    assert_int_equal(outlen, wantlen);
    assert_memory_equal(out, want, wantlen);
    swFree(out);
    swFree(want);
    return n;
}

static char *bigObject(int members, int salt) {
    char *s = malloc((size_t)members * 128 + 16), *p = s;
    if (s == NULL) abort();
    p += sprintf(p, "{");
    for (int i = 0; i < members; i++) {
        p += sprintf(p,
                     "%s\"m%d\":{\"v\":%d,\"w\":[{\"x%d\":1,\"y\":2,\"a\":3,\"b\":4,\"c\":5,"
                     "\"d\":6,\"e\":7,\"f\":8,\"g\":%d}]}",
                     i ? "," : "", i, (i % 7 == 0) ? salt : 0, i, i % 5 == 0 ? salt : 0);
    }
    sprintf(p, "}");
    return s;
}

static void test_nomem_merge_patch(void **state) {
    (void)state;
    char *doc = bigObject(40, 1);
    char *patch = bigObject(40, 2);
    long fails = failEveryAllocation(swJsonMergePatch, doc, patch);
    assert_true(fails >= 3);
    fails = failEveryAllocation(swJsonMergePatch, "{\"a\":1}", "[1]");
    assert_true(fails >= 1);
    free(doc);
    free(patch);
}

static void test_nomem_merge_diff(void **state) {
    (void)state;
    char *a = bigObject(40, 1);
    char *b = bigObject(40, 2);
    long fails = failEveryAllocation(swJsonMergeDiff, a, b);
    assert_true(fails >= 3);
    /* Member-wise equality of objects inside arrays allocates too. */
    fails = failEveryAllocation(swJsonMergeDiff,
                                "{\"x\":[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
                                "\"h\":8,\"i\":9}]}",
                                "{\"x\":[{\"i\":9,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
                                "\"g\":7,\"h\":8}]}");
    assert_true(fails >= 3);
    fails = failEveryAllocation(swJsonMergeDiff, "[1]", "[2]");
    assert_true(fails >= 1);
    free(a);
    free(b);
}

static void test_pointer_never_allocates(void **state) {
    (void)state;
    char *doc = bigObject(40, 1);
    size_t off, vlen;
    unitAllocFailAfter(0);
    assert_int_equal(swJsonPointerGet(doc, strlen(doc), "/m39/w/0/g", 10, &off, &vlen, NULL),
                     SW_OK);
    assert_int_equal(unitAllocCount(), 0);
    unitAllocFailAfter(-1);
    assert_memory_equal(doc + off, "0", 1);
    free(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner_values),
        cmocka_unit_test(test_scanner_iterate_object),
        cmocka_unit_test(test_scanner_iterate_array),
        cmocka_unit_test(test_string_equal),
        cmocka_unit_test(test_pointer_rfc6901_examples),
        cmocka_unit_test(test_pointer_not_found),
        cmocka_unit_test(test_pointer_syntax_errors),
        cmocka_unit_test(test_pointer_escaped_keys),
        cmocka_unit_test(test_pointer_malformed_doc),
        cmocka_unit_test(test_merge_rfc7396_appendix_a),
        cmocka_unit_test(test_merge_rfc7396_section3),
        cmocka_unit_test(test_merge_verbatim_and_order),
        cmocka_unit_test(test_merge_escaped_keys),
        cmocka_unit_test(test_merge_duplicate_names),
        cmocka_unit_test(test_merge_large_objects),
        cmocka_unit_test(test_merge_malformed),
        cmocka_unit_test(test_merge_depth_limit),
        cmocka_unit_test(test_diff_basic),
        cmocka_unit_test(test_diff_inexpressible),
        cmocka_unit_test(test_diff_malformed),
        cmocka_unit_test(test_property_diff_roundtrip),
        cmocka_unit_test(test_property_merge_matches_reference),
        cmocka_unit_test(test_property_pointer),
        cmocka_unit_test(test_robust_against_garbage),
        cmocka_unit_test(test_nomem_merge_patch),
        cmocka_unit_test(test_nomem_merge_diff),
        cmocka_unit_test(test_pointer_never_allocates),
    };
    return cmocka_run_group_tests_name("jsontext", tests, unitAllocSetup, unitAllocTeardown);
}
