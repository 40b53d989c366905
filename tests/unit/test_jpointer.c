/* test_jpointer.c -- unit tests of JSON Pointer on text (jpointer.h), cJSON as the oracle. */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jpointer.h"

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

/* ---- Locate with flags and a memo ---- */

static void collectPointers(const cJSON *v, char *ptr, size_t n, char (*out)[256], int *np,
                            int max) {
    static const char *const tails[] = {"", "/-", "/new", "/0", "/99", "/01"};
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]) && *np < max; t++) {
        snprintf(out[(*np)++], 256, "%.*s%s", (int)n, ptr, tails[t]);
    }
    if (n > 200) return;
    size_t i = 0;
    for (const cJSON *m = v->child; m != NULL; m = m->next, i++) {
        size_t k = n;
        ptr[k++] = '/';
        if (cJSON_IsArray(v)) {
            k += (size_t)sprintf(ptr + k, "%zu", i);
        } else {
            for (const char *c = m->string; *c && k < 240; c++) {
                if (*c == '~' || *c == '/') {
                    ptr[k++] = '~';
                    ptr[k++] = *c == '~' ? '0' : '1';
                } else {
                    ptr[k++] = *c;
                }
            }
        }
        collectPointers(m, ptr, k, out, np, max);
    }
}

/* FOUND_ONLY gives what a full locate gives in every field it promises, and a memo carried
 * from pointer to pointer (in any order) changes nothing. */
static void expectSameLoc(const char *doc, const char *p, const swJsonLoc *a, const swJsonLoc *b,
                          int foundOnly) {
    int end = a->toklen == 1 && a->token[0] == '-';
    if (a->parent != b->parent || a->found != b->found || a->depth != b->depth ||
        a->token != b->token || a->toklen != b->toklen ||
        (a->found && (a->value.off != b->value.off || a->value.len != b->value.len ||
                      a->cutFrom != b->cutFrom || a->cutTo != b->cutTo)) ||
        ((!a->found || a->parent == SW_JSON_ARRAY || !foundOnly) &&
         (a->insertAt != b->insertAt || a->sep != b->sep)) ||
        ((!end || !foundOnly) && a->index != b->index)) {
        fail_msg("%s in %s: locations differ (insertAt %zu/%zu sep %d/%d)", p, doc, a->insertAt,
                 b->insertAt, a->sep, b->sep);
    }
}

static void test_property_locate_flags_and_memo(void **state) {
    (void)state;
    rng = 0x10ca7e5ULL;
    static char ptrs[400][256];
    char ptr[512];
    for (int iter = 0; iter < 400; iter++) {
        cJSON *a = randomDocument();
        char *doc = printRandomly(a);
        size_t len = strlen(doc);
        int np = 0;
        collectPointers(a, ptr, 0, ptrs, &np, 400);
        swJsonPathMemo memo = {0};
        for (int round = 0; round < 2 * np; round++) {
            /* first in document order (as a patch usually goes), then at random */
            const char *p = ptrs[round < np ? round : (int)below((unsigned)np)];
            size_t n = strlen(p);
            swJsonLoc full, plain, fast;
            swError e1, e2, e3;
            swStatus s1 = swJsonPointerLocate(doc, len, p, n, &full, &e1);
            swStatus s2 = swJsonPointerLocateFlags(doc, len, p, n, 0, NULL, &plain, &e2);
            swStatus s3 =
                swJsonPointerLocateFlags(doc, len, p, n, SW_JSON_LOC_FOUND_ONLY, &memo, &fast, &e3);
            if (s1 != s2 || s1 != s3) fail_msg("%s in %s: status %d %d %d", p, doc, s1, s2, s3);
            if (s1 != SW_OK) continue;
            expectSameLoc(doc, p, &full, &plain, 0);
            expectSameLoc(doc, p, &full, &fast, 1);
        }
        free(doc);
        cJSON_Delete(a);
    }
}

static void test_locate_end_of_array(void **state) {
    (void)state;
    static const struct {
        const char *doc;
        size_t insertAt;
        swJsonSep sep;
    } cases[] = {
        {"{\"a\":[]}", 6, SW_JSON_SEP_NONE},
        {"{\"a\":[ \n ]}", 6, SW_JSON_SEP_NONE},
        {"{\"a\":[1]}", 7, SW_JSON_SEP_BEFORE},
        {"{\"a\":[1 , \"]\" \t\r\n ] }", 13, SW_JSON_SEP_BEFORE},
        {"{\"a\" : [ [ ] ]}", 12, SW_JSON_SEP_BEFORE},
        {"{\"a\":[{\"x\":[1,2]},\"\\\\\"]}", 22, SW_JSON_SEP_BEFORE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        swJsonLoc loc;
        const char *d = cases[i].doc;
        assert_int_equal(swJsonPointerLocateFlags(d, strlen(d), "/a/-", 4, SW_JSON_LOC_FOUND_ONLY,
                                                  NULL, &loc, NULL),
                         SW_OK);
        if (loc.insertAt != cases[i].insertAt || loc.sep != cases[i].sep || loc.found) {
            fail_msg("%s: insertAt %zu sep %d", d, loc.insertAt, loc.sep);
        }
        assert_int_equal(swJsonPointerLocate(d, strlen(d), "/a/-", 4, &loc, NULL), SW_OK);
        assert_int_equal(loc.insertAt, cases[i].insertAt); /* as the full scan finds it */
        assert_int_equal(loc.sep, cases[i].sep);
    }
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
        cmocka_unit_test(test_pointer_rfc6901_examples),
        cmocka_unit_test(test_pointer_not_found),
        cmocka_unit_test(test_pointer_syntax_errors),
        cmocka_unit_test(test_pointer_escaped_keys),
        cmocka_unit_test(test_pointer_malformed_doc),
        cmocka_unit_test(test_property_pointer),
        cmocka_unit_test(test_pointer_never_allocates),
        cmocka_unit_test(test_property_locate_flags_and_memo),
        cmocka_unit_test(test_locate_end_of_array),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
