/* test_jdup.c -- unit tests of the duplicate member name check (jdup.h): fixed cases with
 * their exact messages and offsets, escaped spellings of one name, the pairwise and the
 * sorted paths, random documents against cJSON (which keeps every member, so repeats can be
 * counted on its tree), and allocation failures. */
#include "json_testutil.h"

#include "swarm/jdup.h"
#include "swarm/json.h"

static swStatus check(const char *doc, swError *err) {
    assert_int_equal(swJsonValidate(doc, strlen(doc), SW_JSON_MAX_DEPTH, NULL), SW_OK);
    return swJsonDupCheck(doc, strlen(doc), err);
}

static void expectUnique(const char *doc) {
    swError err;
    if (check(doc, &err) != SW_OK) fail_msg("%s: %s", doc, err.msg);
}

static void expectDup(const char *doc, const char *msg, size_t offset) {
    swError err;
    assert_int_equal(check(doc, &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.offset, offset);
    assert_int_equal(doc[offset], '"');
}

static void test_unique(void **state) {
    (void)state;
    expectUnique("{}");
    expectUnique("[]");
    expectUnique("1");
    expectUnique("\"a\"");
    expectUnique("{\"a\":1}");
    expectUnique("{\"a\":1,\"b\":2,\"A\":3,\"a \":4,\"\":5}");
    /* Names in different objects, and values equal to names, never clash. */
    expectUnique("{\"a\":{\"a\":{\"a\":\"a\"}},\"b\":[{\"a\":1},{\"a\":2}],\"c\":\"a\"}");
    expectUnique("[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2}]");
    /* Brackets, commas and quotes inside strings are text. */
    expectUnique("{\"a\":\"},{\\\"a\\\":1\",\"x\":\"[,\\\\\",\"b\\\"\":1,\"b\":2}");
    expectUnique("  { \"a\" : 1 ,\n\t\"b\" : [ 1 , { \"a\" : 2 } ] , \"c\" : null }  ");
    /* Names that differ after decoding. */
    expectUnique("{\"\\u0061\":1,\"\\u0062\":2,\"a\\u0000\":3,\"\\u0063\":4,\"a0\":5}");
}

static void test_duplicates(void **state) {
    (void)state;
    expectDup("{\"a\":1,\"a\":2}", "duplicate member 'a' at byte 7", 7);
    expectDup("{\"a\":1,\"b\":2,\"a\":3}", "duplicate member 'a' at byte 13", 13);
    expectDup("{\"\":1,\"\":2}", "duplicate member '' at byte 6", 6);
    expectDup("{\"x\":{\"a\":1,\"b\":{},\"a\":2}}", "duplicate member 'a' at byte 19", 19);
    expectDup("[1,{\"k\":[],\"k\":{}}]", "duplicate member 'k' at byte 11", 11);
    /* Spelt differently, the same name; the message shows it as written. */
    expectDup("{\"a\":1,\"\\u0061\":2}", "duplicate member '\\u0061' at byte 7", 7);
    expectDup("{\"\\u0061\":1,\"a\":2}", "duplicate member 'a' at byte 12", 12);
    expectDup("{\"q\\\"\":1,\"q\\u0022\":2}", "duplicate member 'q\\u0022' at byte 9", 9);
    expectDup("{\"/\":1,\"\\/\":2}", "duplicate member '\\/' at byte 7", 7);
    expectDup("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}",
              "duplicate member '\\ud83d\\ude00' at byte 10", 10);
    expectDup("{\"caf\xc3\xa9\":1,\"caf\\u00e9\":2}", "duplicate member 'caf\\u00e9' at byte 11",
              11);
    expectDup("{\"t\\t\":1,\"t\\u0009\":2}", "duplicate member 't\\u0009' at byte 9", 9);
    /* Of several repeats, the first in the text, whichever object closes first. */
    expectDup("{\"a\":1,\"a\":{\"b\":1,\"b\":2}}", "duplicate member 'a' at byte 7", 7);
    expectDup("{\"o\":{\"b\":1,\"b\":2},\"a\":1,\"a\":2}", "duplicate member 'b' at byte 12", 12);
    expectDup("{\"a\":1,\"b\":1,\"b\":2,\"a\":2}", "duplicate member 'b' at byte 13", 13);
}

/* Objects wider than the pairwise limit go through the hash table (on the C stack up to 256
 * names, allocated beyond). */
static void test_wide_objects(void **state) {
    (void)state;
    char doc[4096], *p = doc;
    p += sprintf(p, "{");
    for (int i = 0; i < 200; i++) p += sprintf(p, "%s\"k%d\":%d", i ? "," : "", i, i);
    strcpy(p, "}");
    expectUnique(doc);
    size_t at = strlen(doc) - 1;
    strcpy(doc + at, ",\"k\\u0031\\u00317\":0,\"k3\":1}"); /* "k117" spelt with escapes */
    char want[64];
    snprintf(want, sizeof(want), "duplicate member 'k\\u0031\\u00317' at byte %zu", at + 1);
    expectDup(doc, want, at + 1);
    /* Two repeats: the earlier one in the text is reported. */
    p = doc;
    p += sprintf(p, "{");
    for (int i = 0; i < 30; i++) p += sprintf(p, "\"k%d\":0,", i);
    size_t first = (size_t)(p - doc);
    p += sprintf(p, "\"k29\":1,\"k0\":1}");
    snprintf(want, sizeof(want), "duplicate member 'k29' at byte %zu", first);
    expectDup(doc, want, first);
}

static void test_long_names_are_cut(void **state) {
    (void)state;
    char name[200], doc[512], want[300];
    memset(name, 'n', 100);
    name[100] = '\0';
    snprintf(doc, sizeof(doc), "{\"%s\":1,\"%s\":2}", name, name);
    snprintf(want, sizeof(want), "duplicate member '%.*s...' at byte 106", SW_JSON_DUP_NAME_MAX,
             name);
    expectDup(doc, want, 106);
    /* Cut before a character that does not fit whole. */
    memset(name, 'n', 63);
    strcpy(name + 63, "\xc3\xa9xyz");
    snprintf(doc, sizeof(doc), "{\"%s\":1,\"%s\":2}", name, name);
    snprintf(want, sizeof(want), "duplicate member '%.63s...' at byte 74", name);
    expectDup(doc, want, 74); /* the name is 68 bytes: 63 + 2 + 3 */
    /* Exactly the limit: shown whole. */
    memset(name, 'm', SW_JSON_DUP_NAME_MAX);
    name[SW_JSON_DUP_NAME_MAX] = '\0';
    snprintf(doc, sizeof(doc), "{\"%s\":1,\"%s\":2}", name, name);
    snprintf(want, sizeof(want), "duplicate member '%s' at byte 70", name);
    expectDup(doc, want, 70);
}

/* Deep nesting: every level's names stay apart; the repeat is in the innermost object. */
static void test_deep(void **state) {
    (void)state;
    size_t levels = SW_JSON_MAX_DEPTH;
    char *doc = malloc(levels * 8 + 32), *p = doc;
    for (size_t i = 0; i + 1 < levels; i++) p += sprintf(p, "{\"a\":");
    p += sprintf(p, "{\"a\":1,\"a\":2}");
    for (size_t i = 0; i + 1 < levels; i++) *p++ = '}';
    *p = '\0';
    swError err;
    assert_int_equal(check(doc, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, (levels - 1) * 5 + 7);
    free(doc);
}

/* Inputs that were not validated are read within bounds and answered somehow. */
static void test_unvalidated_input_is_harmless(void **state) {
    (void)state;
    static const char *const bad[] = {"{\"a",    "{\"a\\",   "}}}",  "]", "{\"a\":1,\"a",
                                      "\"\\u12", "{\"\\u00", "[[[[", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        char *copy = malloc(n ? n : 1); /* exact size: ASan/valgrind see an overread */
        memcpy(copy, bad[i], n);
        swStatus st = swJsonDupCheck(copy, n, NULL);
        assert_true(st == SW_OK || st == SW_ERR_PAYLOAD);
        free(copy);
    }
    char *deep = malloc(SW_JSON_MAX_DEPTH + 1);
    memset(deep, '[', SW_JSON_MAX_DEPTH + 1);
    assert_int_equal(swJsonDupCheck(deep, SW_JSON_MAX_DEPTH + 1, NULL), SW_ERR_PAYLOAD);
    free(deep);
}

/* ---- Random documents against cJSON ---- */

/* 1 when some object of v has two members whose decoded names are equal. */
static int oracleHasDup(const cJSON *v) {
    if (cJSON_IsObject(v)) {
        for (const cJSON *a = v->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0) return 1;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next)
            if (oracleHasDup(e)) return 1;
    }
    return 0;
}

/* Objects whose names are drawn with repeats allowed (cJSON keeps them all). */
static cJSON *dupValue(int depth) {
    unsigned kind = depth >= 4 ? 2 : below(4);
    if (kind == 0) {
        cJSON *o = cJSON_CreateObject();
        unsigned n = below(4) == 0 ? 10 + below(30) : below(6);
        int fresh = below(3) != 0; /* most objects draw distinct names */
        for (unsigned i = 0; i < n; i++) {
            char key[32];
            if (fresh) {
                sprintf(key, "k%u", i);
            } else {
                randomKey(key);
            }
            cJSON_AddItemToObject(o, key, dupValue(depth + 1));
        }
        return o;
    }
    if (kind == 1) {
        cJSON *a = cJSON_CreateArray();
        unsigned n = below(4);
        for (unsigned i = 0; i < n; i++) cJSON_AddItemToArray(a, dupValue(depth + 1));
        return a;
    }
    return randomValue(4);
}

static void test_random_against_cjson(void **state) {
    (void)state;
    rng = 0x5eed1dc0ffeeULL;
    int dups = 0, unique = 0;
    for (int i = 0; i < 3000; i++) {
        cJSON *v = dupValue(0);
        char *text = printRandomly(v);
        size_t n = strlen(text);
        cJSON *parsed = oracleParse(text, n);
        assert_non_null(parsed);
        int want = oracleHasDup(parsed);
        swError err;
        assert_int_equal(swJsonValidate(text, n, SW_JSON_MAX_DEPTH, NULL), SW_OK);
        swStatus st = swJsonDupCheck(text, n, &err);
        if (st != (want ? SW_ERR_PAYLOAD : SW_OK)) fail_msg("%s: got %d", text, (int)st);
        if (want) {
            assert_true(err.offset < n && text[err.offset] == '"');
            dups++;
        } else {
            unique++;
        }
        cJSON_Delete(parsed);
        cJSON_Delete(v);
        free(text);
    }
    assert_true(dups > 300 && unique > 300);
}

/* ---- Allocation failures ---- */

static void test_nomem(void **state) {
    (void)state;
    /* 32 names stay on the C stack: nothing is allocated. */
    char doc[16384], *p = doc;
    p += sprintf(p, "{");
    for (int i = 0; i < 32; i++) p += sprintf(p, "%s\"k%d\":0", i ? "," : "", i);
    strcpy(p, "}");
    unitAllocFailAfter(0);
    assert_int_equal(swJsonDupCheck(doc, strlen(doc), NULL), SW_OK);
    unitAllocFailAfter(-1);
    /* More names open at once: an allocation, then growth, then the hash table of an object
     * of 300 names. Every failure is reported and leaks nothing; with enough allocations the
     * answer comes. */
    p = doc;
    p += sprintf(p, "{\"o\":{");
    for (int i = 0; i < 20; i++) p += sprintf(p, "%s\"a%d\":0", i ? "," : "", i);
    p += sprintf(p, ",\"in\":{");
    for (int i = 0; i < 300; i++) p += sprintf(p, "%s\"b%d\":0", i ? "," : "", i);
    strcpy(p, ",\"b7\":1}}}");
    long n;
    swError err;
    for (n = 0;; n++) {
        unitAllocFailAfter(n);
        swStatus st = swJsonDupCheck(doc, strlen(doc), &err);
        unitAllocFailAfter(-1);
        if (st != SW_ERR_NOMEM) {
            assert_int_equal(st, SW_ERR_PAYLOAD);
            break;
        }
        assert_string_equal(err.msg, "out of memory");
    }
    assert_true(n >= 3);
    char want[64];
    snprintf(want, sizeof(want), "duplicate member 'b7' at byte %zu",
             (size_t)(strstr(doc, ",\"b7\":1") + 1 - doc));
    assert_string_equal(err.msg, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_wide_objects),
        cmocka_unit_test(test_long_names_are_cut),
        cmocka_unit_test(test_deep),
        cmocka_unit_test(test_unvalidated_input_is_harmless),
        cmocka_unit_test(test_random_against_cjson),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
