/* test_jmerge.c -- unit tests of JSON Merge Patch and its diff on text (jmerge.h).
 *
 * cJSON is the oracle: outputs are parsed with it and compared with cJSON_Compare, and a
 * small cJSON implementation of RFC 7396 checks swJsonMergePatch on random inputs. */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jmerge.h"
#include "swarm/jpointer.h"

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

/* Nesting deeper than SW_JSCAN_MAX_DEPTH is refused, not recursed into. */
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
    char *deep = nested(SW_JSCAN_MAX_DEPTH + 10, "1");
    char *fits = nested(SW_JSCAN_MAX_DEPTH, "1");
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
    char *deep2 = nested(SW_JSCAN_MAX_DEPTH + 10, "2");
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

typedef struct binaryRun {
    binaryOp op;
    const char *x, *y;
    char *out;
    size_t outlen;
} binaryRun;

static swStatus binaryStep(void *arg) {
    binaryRun *a = arg;
    a->out = (char *)1;
    a->outlen = 1;
    return a->op(a->x, strlen(a->x), a->y, strlen(a->y), &a->out, &a->outlen, NULL);
}

static void binaryFailed(void *arg) {
    binaryRun *a = arg;
    assert_null(a->out);
    assert_int_equal(a->outlen, 0);
}

/* Fails the 1st, 2nd, ... allocation of op(x, y) until it succeeds: every failure is a
 * clean SW_ERR_NOMEM (cmocka reports any leak), and the final result is the expected one. */
static long failEveryAllocation(binaryOp op, const char *x, const char *y) {
    char *want = NULL;
    size_t wantlen = 0;
    assert_int_equal(op(x, strlen(x), y, strlen(y), &want, &wantlen, NULL), SW_OK);
    binaryRun a = {op, x, y, NULL, 0};
    long n = unitAllocSweep(binaryStep, binaryFailed, &a);
    assert_int_equal(a.outlen, wantlen);
    assert_memory_equal(a.out, want, wantlen);
    swFree(a.out);
    swFree(want);
    return n;
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

int main(void) {
    const struct CMUnitTest tests[] = {
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
        cmocka_unit_test(test_robust_against_garbage),
        cmocka_unit_test(test_nomem_merge_patch),
        cmocka_unit_test(test_nomem_merge_diff),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
