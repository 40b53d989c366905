/* test_jscan.c -- unit tests of the JSON text scanner (jscan.h): value kinds and spans,
 * iteration, string comparison. */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jscan.h"

#define DEPTH_ANY 1024

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

/* ---- Fast skipping: chunk boundaries ---- */

/* Skips the value at the start of a buffer allocated to exactly n bytes (so a read past the
 * end shows under ASan) and checks its end against want (0: must fail). */
static void expectSkip(const char *text, size_t n, size_t want) {
    char *b = malloc(n ? n : 1);
    if (b == NULL) abort();
    memcpy(b, text, n);
    swJsonSpan v;
    swStatus st = swJsonSkipValue(b, n, 0, &v);
    if (want == 0) {
        if (st == SW_OK) fail_msg("%.*s: skipped %zu bytes, want a failure", (int)n, text, v.len);
    } else if (st != SW_OK || v.off + v.len != want) {
        fail_msg("%.*s: status %d end %zu, want %zu", (int)n, text, st, v.off + v.len, want);
    }
    free(b);
}

/* Strings whose quotes and backslashes fall on every offset around the 8, 16 and 32 byte
 * chunks the scanner reads, alone, at the end of the buffer and inside containers. */
static void test_skip_string_boundaries(void **state) {
    (void)state;
    static const char *const stops[] = {"\\\"", "\\\\", "\\u0022", "\\u005C", "\\/", "\\n"};
    char t[256];
    for (size_t k = 0; k < 70; k++) {
        for (size_t si = 0; si < sizeof(stops) / sizeof(stops[0]); si++) {
            for (size_t after = 0; after < 40; after += 3) {
                size_t n = 0;
                t[n++] = '"';
                memset(t + n, 'a', k);
                n += k;
                memcpy(t + n, stops[si], strlen(stops[si]));
                n += strlen(stops[si]);
                memset(t + n, 'b', after);
                n += after;
                t[n++] = '"';
                expectSkip(t, n, n);     /* ends at the end of the buffer */
                expectSkip(t, n - 1, 0); /* no closing quote */
                memcpy(t + n, ",1]", 3); /* something after it */
                expectSkip(t, n + 3, n);
                /* the same string as a member and an element */
                char c[300];
                int m = snprintf(c, sizeof(c), "{\"k\" : [ %.*s , {\"%.*s\":1} ] }", (int)n, t,
                                 (int)(n - 2), t + 1);
                expectSkip(c, (size_t)m, (size_t)m);
                expectSkip(c, (size_t)m - 1, 0);
            }
        }
        /* a run of backslashes ending at the closing quote: even (the quote ends it) or odd
         * (the quote is escaped and the string goes on) */
        for (size_t bs = 1; bs < 6; bs++) {
            size_t n = 0;
            t[n++] = '"';
            memset(t + n, 'x', k);
            n += k;
            memset(t + n, '\\', bs);
            n += bs;
            t[n++] = '"';
            if (bs % 2 == 0) {
                expectSkip(t, n, n);
            } else {
                expectSkip(t, n, 0);
                t[n++] = '"';
                expectSkip(t, n, n);
            }
        }
        /* a backslash as the very last byte */
        t[0] = '"';
        memset(t + 1, 'y', k);
        t[k + 1] = '\\';
        expectSkip(t, k + 2, 0);
    }
}

/* Containers of every shape: empty, nested, brackets and braces inside strings, numbers with
 * exponents, whitespace as pretty printers write it, at every alignment. */
static void test_skip_container_shapes(void **state) {
    (void)state;
    static const char *const values[] = {
        "[]",
        "{}",
        "[ ]",
        "{ }",
        "[[[]]]",
        "{\"a\":{\"b\":{\"c\":[]}}}",
        "[\"]\",\"[\",\"}\",\"{\"]",
        "{\"}\":\"{\",\"]\":\"[\"}",
        "[1e5,-2.5E-3,0,1E+10,-0]",
        "[true,false,null]",
        "{\n  \"a\": [\n    1,\n    2\n  ],\n\t\"b\" :\r\n {}\n}",
        "[\"\\\\\",\"\\\"\",\"\\\\\\\"]\"]",
        "{\"x\":\"\\u005d\\u007d\"}",
        "[\"caf\xc3\xa9\",\"\xf0\x9f\x98\x80]\"]",
    };
    char t[512];
    for (size_t pad = 0; pad < 40; pad++) {
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            size_t vl = strlen(values[i]);
            memset(t, ' ', pad);
            memcpy(t + pad, values[i], vl);
            expectSkip(t, pad + vl, pad + vl);
            expectSkip(t, pad + vl - 1, 0);
            memcpy(t + pad + vl, " ,\"tail\"]", 9);
            expectSkip(t, pad + vl + 9, pad + vl);
        }
    }
}

/* Random documents printed compact or indented, with \u escapes, at every alignment: the
 * skipped span is the validator's. */
static void test_property_skip_matches_validator(void **state) {
    (void)state;
    rng = 0x5c4e5c4eULL;
    for (int iter = 0; iter < 3000; iter++) {
        cJSON *v = randomValue(0);
        if (below(3) == 0) {
            cJSON *a = cJSON_CreateArray();
            unsigned n = 1 + below(20);
            for (unsigned i = 0; i < n; i++) {
                cJSON_AddItemToArray(a, cJSON_CreateString("a longer string with \"quotes\" "
                                                           "and \\backslashes\\ in it"));
                cJSON_AddItemToArray(a, randomValue(1));
            }
            cJSON_AddItemToArray(a, v);
            v = a;
        }
        char *text = printRandomly(v);
        size_t n = strlen(text), pad = below(24);
        char *b = malloc(pad + n + 2);
        if (b == NULL) abort();
        memset(b, ' ', pad);
        memcpy(b + pad, text, n);
        memcpy(b + pad + n, " ]", 2);
        size_t end;
        assert_int_equal(swJsonScanValue(b, pad + n + 2, pad, DEPTH_ANY, &end, NULL), SW_OK);
        expectSkip(b, pad + n + 2, end);
        expectSkip(b, pad + n, end);
        free(b);
        free(text);
        cJSON_Delete(v);
    }
}

/* ---- Finding a member ---- */

static void test_object_find(void **state) {
    (void)state;
    const char *d = " { \"a\" : 1 ,\"b\\u0063\":[\"}\"],\"b\":{\"x\":\"\\\"\"},\"bc\":2, \"\":null,"
                    "\"a\":3 } ";
    size_t n = strlen(d), prev;
    swJsonSpan k, v;
    /* the first of two "a", with its value skipped or not */
    assert_int_equal(swJsonObjectFind(d, n, 0, "a", 1, 1, NULL, &k, &v, &prev), 1);
    assert_int_equal(k.off, 3);
    assert_int_equal(k.len, 3);
    assert_int_equal(v.off, 9);
    assert_int_equal(v.len, 1);
    assert_int_equal(prev, 0);
    assert_int_equal(swJsonObjectFind(d, n, 0, "a", 1, 0, NULL, &k, &v, &prev), 1);
    assert_int_equal(v.off, 9);
    /* a name spelled with an escape is longer raw than the name it stands for */
    assert_int_equal(swJsonObjectFind(d, n, 0, "bc", 2, 1, NULL, &k, &v, &prev), 1);
    assert_int_equal(k.off, 12);
    assert_memory_equal(d + v.off, "[\"}\"]", v.len);
    assert_int_equal(prev, 10);
    /* same length, different bytes; a member after one with brackets in strings */
    assert_int_equal(swJsonObjectFind(d, n, 0, "b", 1, 1, NULL, &k, &v, &prev), 1);
    assert_memory_equal(d + v.off, "{\"x\":\"\\\"\"}", v.len);
    assert_int_equal(swJsonObjectFind(d, n, 0, "", 0, 1, NULL, &k, &v, &prev), 1);
    assert_memory_equal(d + v.off, "null", v.len);
    /* missing: the end of the last value and the closing brace */
    assert_int_equal(swJsonObjectFind(d, n, 0, "zz", 2, 1, NULL, &k, &v, &prev), 0);
    assert_int_equal(prev, n - 3);
    assert_int_equal(v.off, n - 2);
    /* "b\\u0063" raw is not the name "b\\u0063" */
    assert_int_equal(swJsonObjectFind(d, n, 0, "b\\u0063", 7, 1, NULL, &k, &v, &prev), 0);
    /* empty objects */
    assert_int_equal(swJsonObjectFind("{}", 2, 0, "a", 1, 1, NULL, &k, &v, &prev), 0);
    assert_int_equal(prev, 0);
    assert_int_equal(v.off, 1);
    assert_int_equal(swJsonObjectFind("{ \n }", 5, 0, "", 0, 1, NULL, &k, &v, &prev), 0);
    assert_int_equal(v.off, 4);
    /* malformed, or not an object */
    static const char *const bad[] = {"[]",       "{\"a\"}",    "{\"a\":}",
                                      "{\"a\":1", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
                                      "{a:1}",    "{\"a",       ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (swJsonObjectFind(bad[i], strlen(bad[i]), 0, "b", 1, 1, NULL, &k, &v, &prev) >= 0) {
            fail_msg("%s: found or ended", bad[i]);
        }
    }
}

/* Random objects: the member found is the one the iterator finds with swJsonStringEqualBytes. */
static void test_property_object_find(void **state) {
    (void)state;
    rng = 0xf17dULL;
    for (int iter = 0; iter < 2000; iter++) {
        cJSON *o = randomObject(1);
        char *text = printRandomly(o);
        size_t n = strlen(text);
        for (size_t q = 0; q < 16; q++) {
            char name[32];
            randomKey(name);
            size_t nl = strlen(name), prev, wantPrev = 0;
            swJsonSpan k, v, wk, wv, found = {0, 0};
            swJsonIter it;
            int rc, want = 0;
            swJsonObjectBegin(&it, text, n, 0);
            while ((rc = swJsonObjectNext(&it, &wk, &wv)) == 1) {
                if (swJsonStringEqualBytes(text + wk.off, wk.len, name, nl)) {
                    want = 1;
                    found = wv;
                    break;
                }
                wantPrev = wv.off + wv.len;
            }
            assert_true(rc >= 0);
            int got = swJsonObjectFind(text, n, 0, name, nl, 1, NULL, &k, &v, &prev);
            if (got != want || prev != wantPrev ||
                (want && (v.off != found.off || v.len != found.len || k.off != wk.off))) {
                fail_msg("'%s' in %s: got %d prev %zu, want %d prev %zu", name, text, got, prev,
                         want, wantPrev);
            }
            if (!want) assert_int_equal(text[v.off], '}');
            /* a value measured before is taken as it is, not skipped again */
            swJsonIter it2;
            swJsonSpan k2, v2, kk, kv, fake;
            swJsonObjectBegin(&it2, text, n, 0);
            for (unsigned m = below(4); swJsonObjectNext(&it2, &k2, &v2) == 1 && m > 0; m--) {
            }
            if (swJsonIterFailed(&it2) || it2.state == SW_JSON_ITER_DONE) continue;
            assert_int_equal(swJsonObjectFind(text, n, 0, name, nl, 1, &v2, &kk, &kv, &prev), got);
            if (got) assert_int_equal(kv.off, v.off);
            assert_int_equal(prev, wantPrev);
            /* and really not skipped: a wrong length shows */
            fake = v2;
            fake.len = v2.len + 1;
            if (!got || v.off > v2.off) {
                int r = swJsonObjectFind(text, n, 0, name, nl, 1, &fake, &kk, &kv, &prev);
                assert_true(r < 0 || prev != wantPrev || (r == 1 && kv.off != v.off) ||
                            (r == 0 && kv.off != v.off));
            }
        }
        free(text);
        cJSON_Delete(o);
    }
}

static void test_skip_out(void **state) {
    (void)state;
    const char *d = "{\"a\":{\"b\":[1,\"]}\" , [2]] , \"c\" : {}} ,\"d\":0} ";
    size_t n = strlen(d), e;
    /* from just past [2]: out of the array, of /a and of the document */
    size_t pos = (size_t)(strstr(d, "[2]") - d) + 3;
    assert_int_equal(swJsonSkipOut(d, n, pos, 0, &e), SW_OK);
    assert_int_equal(e, pos);
    assert_int_equal(swJsonSkipOut(d, n, pos, 1, &e), SW_OK);
    assert_int_equal(e, (size_t)(strstr(d, "] , \"c") - d) + 1);
    assert_int_equal(swJsonSkipOut(d, n, pos, 2, &e), SW_OK);
    assert_int_equal(e, (size_t)(strstr(d, "}} ,") - d) + 2);
    assert_int_equal(swJsonSkipOut(d, n, pos, 3, &e), SW_OK);
    assert_int_equal(e, n - 1);
    assert_int_equal(swJsonSkipOut(d, n, pos, 4, &e), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonSkipOut(d, n - 2, pos, 3, &e), SW_ERR_PAYLOAD);
}

static void test_depth_of(void **state) {
    (void)state;
    static const struct {
        const char *text;
        size_t depth;
    } cases[] = {
        {"1", 0},
        {"\"[{\"", 0},
        {"[]", 1},
        {"{}", 1},
        {"[[1],[[]]]", 3},
        {"{\"a\":\"]]]\",\"b\":[{\"c\":\"\\\"[\"}]}", 3},
        {"[\"\\\\\",[\"\\\\\\\"]\"]]", 2},
        {" [ [ ] , { \"x\" : [ ] } ] ", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        swJsonSpan v;
        const char *t = cases[i].text;
        assert_int_equal(swJsonSkipValue(t, strlen(t), 0, &v), SW_OK);
        if (swJsonDepthOf(t, v) != cases[i].depth) {
            fail_msg("%s: depth %zu, want %zu", t, swJsonDepthOf(t, v), cases[i].depth);
        }
    }
    /* nested to every depth, with strings of brackets in between, at every alignment */
    char t[600];
    for (size_t d = 0; d < 60; d++) {
        size_t n = 0;
        for (size_t k = 0; k < d; k++) n += (size_t)sprintf(t + n, "[\"]%zu\",", k);
        n += (size_t)sprintf(t + n, "\"[[[\"");
        for (size_t k = 0; k < d; k++) t[n++] = ']';
        swJsonSpan v = {0, n};
        assert_int_equal(swJsonDepthOf(t, v), d);
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
        cmocka_unit_test(test_two_step_members),
        cmocka_unit_test(test_top_value_and_errors),
        cmocka_unit_test(test_string_decoder),
        cmocka_unit_test(test_scanner_values),
        cmocka_unit_test(test_scanner_iterate_object),
        cmocka_unit_test(test_scanner_iterate_array),
        cmocka_unit_test(test_string_equal),
        cmocka_unit_test(test_skip_string_boundaries),
        cmocka_unit_test(test_skip_container_shapes),
        cmocka_unit_test(test_property_skip_matches_validator),
        cmocka_unit_test(test_object_find),
        cmocka_unit_test(test_property_object_find),
        cmocka_unit_test(test_skip_out),
        cmocka_unit_test(test_depth_of),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
