/* test_snapshot.c -- SWARM.SNAPSHOT against a real redis-server.
 *
 * One server for the whole group; every test uses its own keys, and a test that changes a
 * config sets it back before it ends. Persistence, replication and corrupt payloads are in
 * test_snapshot_persist.c. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static itServer srv;
static redisContext *c;

/* ---- Helpers ---- */

/* A command whose arguments are given one by one (no formatting, any bytes but NUL). */
static redisReply *cmd(int argc, ...) {
    const char *argv[16];
    size_t lens[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++) {
        argv[i] = va_arg(ap, const char *);
        lens[i] = strlen(argv[i]);
    }
    va_end(ap);
    return itCmdArgv(c, argc, argv, lens);
}

/* The text of a string reply (malloc'ed, free it); fails on anything else. */
static char *str(redisReply *r) {
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        fail_msg("expected a string, got type %d '%s'", r->type, r->str ? r->str : "");
    char *s = malloc(r->len + 1);
    memcpy(s, r->str, r->len);
    s[r->len] = '\0';
    freeReplyObject(r);
    return s;
}

static void save(const char *key, const char *json, long long expect) {
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s %s", key, json), expect);
}

/* JSON text without the whitespace between tokens: equal results of the merge operations
 * compare equal however their insignificant whitespace came out. */
static char *norm(const char *json) {
    char *out = malloc(strlen(json) + 1), *o = out;
    int instr = 0;
    for (const char *p = json; *p; p++) {
        if (instr) {
            *o++ = *p;
            if (*p == '\\' && p[1])
                *o++ = *++p;
            else if (*p == '"')
                instr = 0;
        } else if (*p == '"') {
            *o++ = *p;
            instr = 1;
        } else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static void expectJson(const char *got, const char *want, const char *what) {
    char *g = norm(got), *w = norm(want);
    if (strcmp(g, w) != 0) fail_msg("%s: expected %s, got %s", what, want, got);
    free(g);
    free(w);
}

static char *get(const char *key) {
    return str(itCmd(c, "SWARM.SNAPSHOT GET %s", key));
}

/* LIST and INFO as one comparable string. */
static char *repr(const char *fmt, const char *key) {
    redisReply *r = itCmd(c, fmt, key);
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    return s;
}

static long long field(redisReply *r, const char *name) {
    redisReply *f = itField(r, name);
    if (f == NULL || f->type != REDIS_REPLY_INTEGER) fail_msg("no integer field '%s'", name);
    return f->integer;
}

static long long serverMs(void) {
    redisReply *r = itCmd(c, "TIME");
    long long ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    freeReplyObject(r);
    return ms;
}

static long long infoSwarm(const char *name) {
    char buf[64];
    return atoll(itInfo(c, "swarm", name, buf, sizeof(buf)));
}

/* A JSON document of exactly n bytes: {"d":"xxx..."}. */
static char *bigDoc(size_t n, char fill) {
    char *d = malloc(n + 1);
    memcpy(d, "{\"d\":\"", 6);
    memset(d + 6, fill, n - 8);
    memcpy(d + n - 2, "\"}", 3);
    return d;
}

/* ---- SAVE and IFVERSION ---- */

static void test_save_returns_consecutive_versions(void **state) {
    (void)state;
    save("s:seq", "{\"n\":1}", 1);
    save("s:seq", "{\"n\":2}", 2);
    save("s:seq", "[3]", 3);
    char *g = get("s:seq");
    assert_string_equal(g, "[3]");
    free(g);
    itExpectStr(itCmd(c, "TYPE s:seq"), "swarm-snp");
}

static void test_save_ifversion(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv {} IFVERSION 0"), 1);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv {} IFVERSION 0"), "CONFLICT",
                  "version is 1, expected 0");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv {} IFVERSION 5"), "CONFLICT",
                  "version is 1, expected 5");
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv {\"a\":1} IFVERSION 1"), 2);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv:missing {} IFVERSION 1"), "CONFLICT",
                  "version is 0, expected 1");
    itExpectInt(itCmd(c, "EXISTS s:ifv:missing"), 0);
    char *g = get("s:ifv");
    assert_string_equal(g, "{\"a\":1}");
    free(g);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:ifv {} KEEP 4 IFVERSION 2"), 3);
}

/* ---- KEEP, LIST, GET VERSION ---- */

static void test_keep_evicts_and_list_is_newest_first(void **state) {
    (void)state;
    long long before = serverMs();
    const char *docs[] = {"{\"v\":1}", "{\"v\":2}", "{\"v\":33}", "{\"v\":444}", "{\"v\":5555}"};
    for (int i = 0; i < 5; i++)
        itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:keep %s KEEP 3", docs[i]), i + 1);
    long long after = serverMs();
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT LIST s:keep");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3);
    long long prevTs = after;
    for (size_t i = 0; i < 3; i++) {
        redisReply *e = r->element[i];
        assert_int_equal(e->type, REDIS_REPLY_ARRAY);
        assert_int_equal(e->elements, 8);
        assert_string_equal(e->element[0]->str, "version");
        assert_string_equal(e->element[2]->str, "ts");
        assert_string_equal(e->element[4]->str, "bytes");
        assert_string_equal(e->element[6]->str, "checksum");
        assert_int_equal(field(e, "version"), 5 - (long long)i);
        long long ts = field(e, "ts");
        assert_true(ts >= before && ts <= prevTs);
        prevTs = ts;
        assert_int_equal(field(e, "bytes"), (long long)strlen(docs[4 - i]));
        redisReply *sum = itField(e, "checksum");
        assert_non_null(sum);
        assert_int_equal(sum->type, REDIS_REPLY_STRING);
        assert_int_equal(sum->len, 16);
        assert_int_equal(strspn(sum->str, "0123456789abcdef"), 16);
    }
    /* Different documents, different checksums. */
    assert_string_not_equal(itField(r->element[0], "checksum")->str,
                            itField(r->element[1], "checksum")->str);
    freeReplyObject(r);

    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET s:keep VERSION 1"), "NOVERSION", "evicted");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET s:keep VERSION 2"), "NOVERSION",
                  "version 2 was evicted, the oldest retained is 3");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET s:keep VERSION 6"), "NOVERSION",
                  "version 6 does not exist, the head is 5");
    for (int v = 3; v <= 5; v++) {
        char *g = str(itCmd(c, "SWARM.SNAPSHOT GET s:keep VERSION %d", v));
        assert_string_equal(g, docs[v - 1]);
        free(g);
    }
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET s:keep VERSION 0"), "ERR", "version");
}

static void test_get_missing_key_is_nil(void **state) {
    (void)state;
    itExpectNil(itCmd(c, "SWARM.SNAPSHOT GET s:nokey"));
    itExpectNil(itCmd(c, "SWARM.SNAPSHOT GET s:nokey PATH /a"));
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET s:nokey VERSION 1"), "NOVERSION", NULL);
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT LIST s:nokey");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    itExpectInt(itCmd(c, "EXISTS s:nokey"), 0);
}

/* ---- GET PATH: RFC 6901 section 5 ---- */

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

static void test_get_path_rfc6901_examples(void **state) {
    (void)state;
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:ptr", rfc6901Doc), 1);
    const struct {
        const char *ptr, *want;
    } rows[] = {
        {"", rfc6901Doc},      {"/foo", "[\"bar\", \"baz\"]"},
        {"/foo/0", "\"bar\""}, {"/", "0"},
        {"/a~1b", "1"},        {"/c%d", "2"},
        {"/e^f", "3"},         {"/g|h", "4"},
        {"/i\\j", "5"},        {"/k\"l", "6"},
        {"/ ", "7"},           {"/m~0n", "8"},
        {"/foo/1", "\"baz\""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        redisReply *r = cmd(5, "SWARM.SNAPSHOT", "GET", "s:ptr", "PATH", rows[i].ptr);
        if (r->type != REDIS_REPLY_STRING)
            fail_msg("pointer '%s': reply type %d '%s'", rows[i].ptr, r->type,
                     r->str ? r->str : "");
        if (strcmp(r->str, rows[i].want) != 0)
            fail_msg("pointer '%s': expected %s, got %s", rows[i].ptr, rows[i].want, r->str);
        freeReplyObject(r);
    }
    /* VERSION and PATH together, in either order. */
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:ptr", "{\"foo\":[\"new\"]}"), 2);
    itExpectStr(cmd(7, "SWARM.SNAPSHOT", "GET", "s:ptr", "VERSION", "1", "PATH", "/foo/1"),
                "\"baz\"");
    itExpectStr(cmd(7, "SWARM.SNAPSHOT", "GET", "s:ptr", "PATH", "/foo/0", "VERSION", "2"),
                "\"new\"");
}

static void test_get_path_absent_is_nil_malformed_is_err(void **state) {
    (void)state;
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:ptr2", "{\"a\":{\"b\":[10,20]},\"n\":null}"),
                1);
    const char *absent[] = {"/x",      "/a/c",     "/a/b/2", "/a/b/-",
                            "/a/b/01", "/a/b/0/z", "/n/0",   "/a/b/x"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        redisReply *r = cmd(5, "SWARM.SNAPSHOT", "GET", "s:ptr2", "PATH", absent[i]);
        if (r->type != REDIS_REPLY_NIL)
            fail_msg("pointer '%s': expected nil, got type %d '%s'", absent[i], r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    /* A member holding null is present: its value is the JSON text null, not nil. */
    itExpectStr(cmd(5, "SWARM.SNAPSHOT", "GET", "s:ptr2", "PATH", "/n"), "null");
    const char *malformed[] = {"a", "a/b", "/a~2", "/a~", "/~x"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        itExpectError(cmd(5, "SWARM.SNAPSHOT", "GET", "s:ptr2", "PATH", malformed[i]), "ERR",
                      "pointer");
    }
}

/* ---- PATCH: RFC 7396 appendix A ---- */

static void test_patch_rfc7396_appendix_a(void **state) {
    (void)state;
    const struct {
        const char *target, *patch, *result;
    } rows[] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\": {\"b\": \"c\"}}", "{\"a\": {\"b\": \"d\", \"c\": null}}",
         "{\"a\": {\"b\": \"d\"}}"},
        {"{\"a\": [{\"b\":\"c\"}]}", "{\"a\": [1]}", "{\"a\": [1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char key[32], what[64];
        snprintf(key, sizeof(key), "s:rfc7396:%zu", i);
        snprintf(what, sizeof(what), "RFC 7396 row %zu", i + 1);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", key, rows[i].target), 1);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "PATCH", key, rows[i].patch), 2);
        char *g = get(key);
        expectJson(g, rows[i].result, what);
        free(g);
        /* The target is still there as version 1, byte for byte. */
        itExpectStr(cmd(5, "SWARM.SNAPSHOT", "GET", key, "VERSION", "1"), rows[i].target);
    }
}

static void test_patch_keeps_untouched_bytes_and_numbers(void **state) {
    (void)state;
    const char *doc = "{\"big\": 9007199254740993, \"f\": 1.50, \"keep\": [ 1 ,  2 ], \"x\": 1}";
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:exact", doc), 1);
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "PATCH", "s:exact", "{\"x\":2}"), 2);
    char *g = get("s:exact");
    assert_non_null(strstr(g, "9007199254740993"));
    assert_non_null(strstr(g, "1.50"));
    assert_non_null(strstr(g, "[ 1 ,  2 ]"));
    expectJson(g, "{\"big\":9007199254740993,\"f\":1.50,\"keep\":[1,2],\"x\":2}", "exact");
    free(g);
}

static void test_patch_missing_key_patches_empty_object(void **state) {
    (void)state;
    itExpectInt(
        cmd(4, "SWARM.SNAPSHOT", "PATCH", "s:pnew", "{\"a\":1,\"b\":null,\"c\":{\"d\":null}}"), 1);
    char *g = get("s:pnew");
    expectJson(g, "{\"a\":1,\"c\":{}}", "patch of a missing key");
    free(g);
    itExpectStr(itCmd(c, "TYPE s:pnew"), "swarm-snp");
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO s:pnew");
    assert_int_equal(field(r, "keep"), 1000);
    freeReplyObject(r);
}

static void test_patch_ifversion(void **state) {
    (void)state;
    save("s:pif", "{\"a\":1}", 1);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT PATCH s:pif {\"a\":2} IFVERSION 0"), "CONFLICT",
                  "version is 1, expected 0");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT PATCH s:pif {\"a\":2} IFVERSION 2"), "CONFLICT",
                  "version is 1, expected 2");
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH s:pif {\"a\":2} IFVERSION 1"), 2);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT PATCH s:pif:new {\"a\":2} IFVERSION 1"), "CONFLICT",
                  "version is 0, expected 1");
    itExpectInt(itCmd(c, "EXISTS s:pif:new"), 0);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH s:pif:new {\"a\":2} IFVERSION 0"), 1);
    char *g = get("s:pif");
    assert_string_equal(g, "{\"a\":2}");
    free(g);
}

/* ---- DIFF ---- */

static void test_diff_then_patch_reproduces_target(void **state) {
    (void)state;
    const struct {
        const char *a, *b;
    } rows[] = {
        {"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":3}"},
        {"{\"a\":{\"x\":1,\"y\":[1,2]},\"s\":\"t\"}", "{\"a\":{\"x\":2,\"y\":[1,2]},\"s\":\"t\"}"},
        {"{\"a\":{\"x\":1,\"y\":{\"z\":true}}}", "{\"a\":{\"y\":{\"z\":false,\"w\":\"\\u00e9\"}}}"},
        {"{\"n\":9007199254740993,\"l\":[null,1]}", "{\"n\":9007199254740995,\"l\":[null,2]}"},
        {"[1,2,3]", "{\"now\":\"object\"}"},
        {"{\"was\":\"object\"}", "[\"now\",\"array\"]"},
        {"{\"keep\":null,\"a\":1}", "{\"keep\":null,\"a\":2}"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char key[32], copy[32], what[64];
        snprintf(key, sizeof(key), "s:diff:%zu", i);
        snprintf(copy, sizeof(copy), "s:diff:%zu:copy", i);
        snprintf(what, sizeof(what), "DIFF row %zu", i + 1);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", key, rows[i].a), 1);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", key, rows[i].b), 2);
        char *p = str(cmd(5, "SWARM.SNAPSHOT", "DIFF", key, "1", "2"));
        char *p2 = str(cmd(4, "SWARM.SNAPSHOT", "DIFF", key, "1")); /* to defaults to head */
        assert_string_equal(p, p2);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", copy, rows[i].a), 1);
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "PATCH", copy, p), 2);
        char *g = get(copy);
        expectJson(g, rows[i].b, what);
        free(g);
        free(p);
        free(p2);
    }
    /* A one-member change has exactly one possible patch. */
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT DIFF s:diff:1 1 2"), "{\"a\":{\"x\":2}}");
    /* Backwards too. */
    char *back = str(itCmd(c, "SWARM.SNAPSHOT DIFF s:diff:0 2 1"));
    expectJson(back,
               strstr(back, "\"c\"") < strstr(back, "\"b\"") ? "{\"c\":null,\"b\":2}"
                                                             : "{\"b\":2,\"c\":null}",
               "backwards DIFF");
    free(back);
}

static void test_diff_identical_and_errors(void **state) {
    (void)state;
    save("s:d2", "{\"a\":{\"b\":1}}", 1);
    save("s:d2", "{\"a\":{\"b\":1}}", 2);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 1 2"), "{}");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 2 2"), "{}");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 1"), "{}");
    /* Setting a member to null is beyond merge patch. */
    save("s:d2", "{\"a\":null}", 3);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 1 3"), "ERR", "null");
    save("s:d2", "{\"a\":{\"b\":1,\"c\":null}}", 4);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 2"), "ERR", "/a/c");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 2 9"), "NOVERSION",
                  "version 9 does not exist");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2:missing 1"), "NOVERSION", NULL);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 x"), "ERR",
                  "value is not an integer or out of range");
    /* Evicted. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:d2 {} KEEP 1"), 5);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT DIFF s:d2 1"), "NOVERSION", "evicted");
}

/* ---- RESTORE ---- */

static void test_restore_makes_new_head(void **state) {
    (void)state;
    const char *v1 = "{\"state\": \"one\",  \"n\": 1.0}";
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:rst", v1), 1);
    save("s:rst", "{\"state\":\"two\"}", 2);
    save("s:rst", "{\"state\":\"three\"}", 3);
    redisReply *info = itCmd(c, "SWARM.SNAPSHOT INFO s:rst");
    assert_int_equal(field(info, "head"), 3);
    freeReplyObject(info);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst 1"), 4);
    char *g = get("s:rst");
    assert_string_equal(g, v1);
    free(g);
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT LIST s:rst");
    assert_int_equal(r->elements, 4);
    assert_int_equal(field(r->element[0], "version"), 4);
    assert_int_equal(field(r->element[0], "bytes"), (long long)strlen(v1));
    /* Same bytes, same checksum. */
    assert_string_equal(itField(r->element[0], "checksum")->str,
                        itField(r->element[3], "checksum")->str);
    freeReplyObject(r);
    info = itCmd(c, "SWARM.SNAPSHOT INFO s:rst");
    assert_int_equal(field(info, "head"), 4);
    assert_int_equal(field(info, "retained"), 4);
    freeReplyObject(info);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT DIFF s:rst 1 4"), "{}");

    /* Restoring the head itself is a new version too. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst 4"), 5);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst 6"), "NOVERSION", "does not exist");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst:missing 1"), "NOVERSION", NULL);
    itExpectInt(itCmd(c, "EXISTS s:rst:missing"), 0);
}

static void test_restore_evicted_is_noversion(void **state) {
    (void)state;
    for (int i = 1; i <= 4; i++)
        itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:rst2 {\"i\":%d} KEEP 2", i), i);
    char *before = repr("SWARM.SNAPSHOT LIST %s", "s:rst2");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst2 2"), "NOVERSION", "evicted");
    char *after = repr("SWARM.SNAPSHOT LIST %s", "s:rst2");
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* Restoring the oldest retained version, which the save itself evicts, still works. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE s:rst2 3"), 5);
    char *g = get("s:rst2");
    assert_string_equal(g, "{\"i\":3}");
    free(g);
}

/* ---- INFO ---- */

static void test_info_fields(void **state) {
    (void)state;
    const char *docs[] = {"{\"a\":1}", "{\"a\":22}", "{\"a\":333}", "{\"a\":4444}"};
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:info %s KEEP 3", docs[0]), 1);
    redisReply *l = itCmd(c, "SWARM.SNAPSHOT LIST s:info");
    long long created = field(l->element[0], "ts");
    freeReplyObject(l);
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO s:info");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 14);
    const char *names[] = {"head", "oldest", "retained", "keep", "bytes", "created", "updated"};
    for (size_t i = 0; i < 7; i++) assert_string_equal(r->element[2 * i]->str, names[i]);
    assert_int_equal(field(r, "head"), 1);
    assert_int_equal(field(r, "oldest"), 1);
    assert_int_equal(field(r, "retained"), 1);
    assert_int_equal(field(r, "keep"), 3);
    assert_int_equal(field(r, "bytes"), (long long)strlen(docs[0]));
    assert_int_equal(field(r, "created"), created);
    assert_int_equal(field(r, "updated"), created);
    freeReplyObject(r);

    itWaitNextMs(c); /* the later versions' timestamps differ from created */
    for (int i = 1; i < 4; i++) save("s:info", docs[i], i + 1);
    l = itCmd(c, "SWARM.SNAPSHOT LIST s:info");
    long long headTs = field(l->element[0], "ts");
    freeReplyObject(l);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:info");
    assert_int_equal(field(r, "head"), 4);
    assert_int_equal(field(r, "oldest"), 2);
    assert_int_equal(field(r, "retained"), 3);
    assert_int_equal(field(r, "keep"), 3);
    assert_int_equal(field(r, "bytes"),
                     (long long)(strlen(docs[1]) + strlen(docs[2]) + strlen(docs[3])));
    assert_int_equal(field(r, "created"), created); /* the first save, though evicted */
    assert_int_equal(field(r, "updated"), headTs);
    assert_true(headTs > created);
    freeReplyObject(r);

    /* KEEP on a later save changes the limit and evicts at once. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:info {} KEEP 1"), 5);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:info");
    assert_int_equal(field(r, "oldest"), 5);
    assert_int_equal(field(r, "retained"), 1);
    assert_int_equal(field(r, "keep"), 1);
    assert_int_equal(field(r, "bytes"), 2);
    freeReplyObject(r);
}

static void test_info_missing_key(void **state) {
    (void)state;
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO s:info:missing");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str, "ERR no such key");
    freeReplyObject(r);
}

/* ---- Rejected writes change nothing ---- */

static void test_bad_json_is_payload_and_changes_nothing(void **state) {
    (void)state;
    save("s:bad", "{\"a\":1}", 1);
    char *info = repr("SWARM.SNAPSHOT INFO %s", "s:bad");
    char *list = repr("SWARM.SNAPSHOT LIST %s", "s:bad");
    char *dig = itDigest(c, "s:bad");
    long long saved = infoSwarm("swarm_snapshots_saved");

    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad", "{\"a\":1 \"b\":2}"), "PAYLOAD",
                  "invalid JSON at byte 7: expected ',' or '}'");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad", "{\"a\":1,}"), "PAYLOAD", "at byte 7");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad", ""), "PAYLOAD", "at byte 0");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad", "[1,2"), "PAYLOAD", "at byte 4");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad", "{} x"), "PAYLOAD", "at byte 3");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "PATCH", "s:bad", "{\"a\":tru}"), "PAYLOAD",
                  "invalid JSON at byte ");
    itExpectError(cmd(6, "SWARM.SNAPSHOT", "PATCH", "s:bad", "{\"a\"", "IFVERSION", "1"), "PAYLOAD",
                  "at byte 4");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:bad:new", "nope"), "PAYLOAD",
                  "at byte 1: expected 'null'");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "PATCH", "s:bad:new", "{"), "PAYLOAD", "at byte 1");
    itExpectInt(itCmd(c, "EXISTS s:bad:new"), 0);

    char *info2 = repr("SWARM.SNAPSHOT INFO %s", "s:bad");
    char *list2 = repr("SWARM.SNAPSHOT LIST %s", "s:bad");
    char *dig2 = itDigest(c, "s:bad");
    assert_string_equal(info, info2);
    assert_string_equal(list, list2);
    assert_string_equal(dig, dig2);
    assert_int_equal(infoSwarm("swarm_snapshots_saved"), saved);
    free(info), free(list), free(dig), free(info2), free(list2), free(dig2);
}

static void test_oversized_document_is_payload(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-snapshot-bytes 1000"));
    char *ok = bigDoc(1000, 'a'), *big = bigDoc(1001, 'b');
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:big", ok), 1);
    char *dig = itDigest(c, "s:big");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:big", big), "PAYLOAD", "1001 bytes");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:big:new", big), "PAYLOAD",
                  "swarm.max-snapshot-bytes");
    /* A small patch that makes the document too large. */
    itExpectError(itCmd(c, "SWARM.SNAPSHOT PATCH s:big {\"more\":1}"), "PAYLOAD",
                  "swarm.max-snapshot-bytes");
    itExpectError(cmd(4, "SWARM.SNAPSHOT", "PATCH", "s:big", big), "PAYLOAD",
                  "swarm.max-snapshot-bytes");
    itExpectInt(itCmd(c, "EXISTS s:big:new"), 0);
    char *dig2 = itDigest(c, "s:big");
    assert_string_equal(dig, dig2);
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-snapshot-bytes 64mb"));
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:big", big), 2);
    free(ok), free(big), free(dig), free(dig2);
}

/* ---- Configuration ---- */

static void test_snapshot_keep_config_applies_to_new_keys(void **state) {
    (void)state;
    redisReply *r = itCmd(c, "CONFIG GET swarm.snapshot-keep");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "1000");
    freeReplyObject(r);
    save("s:cfg:old", "{}", 1);

    itExpectOk(itCmd(c, "CONFIG SET swarm.snapshot-keep 2"));
    for (int i = 1; i <= 3; i++) save("s:cfg:new", "{}", i);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:cfg:new");
    assert_int_equal(field(r, "keep"), 2);
    assert_int_equal(field(r, "retained"), 2);
    assert_int_equal(field(r, "oldest"), 2);
    freeReplyObject(r);
    /* A key created by PATCH too. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH s:cfg:patched {}"), 1);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:cfg:patched");
    assert_int_equal(field(r, "keep"), 2);
    freeReplyObject(r);
    /* An existing history keeps the limit it was created with. */
    for (int i = 2; i <= 4; i++) save("s:cfg:old", "{}", i);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:cfg:old");
    assert_int_equal(field(r, "keep"), 1000);
    assert_int_equal(field(r, "retained"), 4);
    freeReplyObject(r);
    /* An explicit KEEP wins over the config. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:cfg:explicit {} KEEP 5"), 1);
    r = itCmd(c, "SWARM.SNAPSHOT INFO s:cfg:explicit");
    assert_int_equal(field(r, "keep"), 5);
    freeReplyObject(r);

    /* The refusal's text is the server's: the value left in force is the check. */
    r = itCmd(c, "CONFIG GET swarm.snapshot-keep");
    char *keepBefore = itReplyRepr(r);
    freeReplyObject(r);
    itExpectError(itCmd(c, "CONFIG SET swarm.snapshot-keep 0"), "ERR", NULL);
    r = itCmd(c, "CONFIG GET swarm.snapshot-keep");
    char *keepAfter = itReplyRepr(r);
    freeReplyObject(r);
    assert_string_equal(keepAfter, keepBefore);
    free(keepBefore);
    free(keepAfter);
    itExpectOk(itCmd(c, "CONFIG SET swarm.snapshot-keep 1000"));
}

/* ---- A first-class Redis value ---- */

static void test_wrongtype_for_every_subcommand(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "SET s:str hello"));
    const char *cmds[] = {
        "SWARM.SNAPSHOT SAVE s:str {}",   "SWARM.SNAPSHOT SAVE s:str {} IFVERSION 0",
        "SWARM.SNAPSHOT GET s:str",       "SWARM.SNAPSHOT GET s:str VERSION 1 PATH /a",
        "SWARM.SNAPSHOT PATCH s:str {}",  "SWARM.SNAPSHOT DIFF s:str 1",
        "SWARM.SNAPSHOT DIFF s:str 1 2",  "SWARM.SNAPSHOT LIST s:str",
        "SWARM.SNAPSHOT RESTORE s:str 1", "SWARM.SNAPSHOT INFO s:str",
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        redisReply *r = itCmd(c, cmds[i]);
        if (r->type != REDIS_REPLY_ERROR ||
            strcmp(r->str, "WRONGTYPE Operation against a key holding the wrong kind of value") !=
                0)
            fail_msg("%s: expected WRONGTYPE, got type %d '%s'", cmds[i], r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    itExpectStr(itCmd(c, "GET s:str"), "hello");
    /* And the other way round: a string command on a snapshot key. */
    save("s:wt", "{}", 1);
    itExpectError(itCmd(c, "GET s:wt"), "WRONGTYPE", NULL);
}

static void test_type_and_scan_type(void **state) {
    (void)state;
    save("s:scan:1", "{}", 1);
    save("s:scan:2", "{}", 1);
    itExpectOk(itCmd(c, "SET s:scan:str x"));
    itExpectStr(itCmd(c, "TYPE s:scan:1"), "swarm-snp");
    int found = 0, wrong = 0;
    char cursor[32] = "0";
    do {
        redisReply *r = itCmd(c, "SCAN %s MATCH s:scan:* COUNT 1000 TYPE swarm-snp", cursor);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            if (strcmp(k, "s:scan:1") == 0 || strcmp(k, "s:scan:2") == 0)
                found++;
            else
                wrong++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    assert_int_equal(found, 2);
    assert_int_equal(wrong, 0);
}

static void test_memory_usage_grows_with_stored_bytes(void **state) {
    (void)state;
    char *small = bigDoc(1024, 's'), *large = bigDoc(100 * 1024, 'l');
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:mem:small", small), 1);
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:mem:large", large), 1);
    long long us = itInteger(itCmd(c, "MEMORY USAGE s:mem:small"));
    long long ul = itInteger(itCmd(c, "MEMORY USAGE s:mem:large"));
    assert_true(us >= 1024);
    assert_true(ul >= 100 * 1024);
    assert_true(ul - us >= 99 * 1024 - 1024);
    /* Older versions are kept as deltas from the head: an identical second version costs a
     * few bytes of history, an entirely different one a whole copy of the old head. */
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:mem:large", large), 2);
    long long ul2 = itInteger(itCmd(c, "MEMORY USAGE s:mem:large"));
    assert_true(ul2 - ul < 1024);
    char *other = bigDoc(100 * 1024, 'm');
    itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:mem:large", other), 3);
    long long ul3 = itInteger(itCmd(c, "MEMORY USAGE s:mem:large"));
    assert_true(ul3 - ul2 >= 100 * 1024);
    free(small), free(large), free(other);
}

static void test_info_swarm_counters_move(void **state) {
    (void)state;
    long long n0 = infoSwarm("swarm_snapshots");
    long long saved0 = infoSwarm("swarm_snapshots_saved");
    long long bytes0 = infoSwarm("swarm_snapshot_bytes");
    save("s:ctr", "{\"a\":1}", 1);                                    /* 7 bytes */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH s:ctr {\"b\":2}"), 2); /* 13 bytes */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE s:ctr 1"), 3);       /* 7 bytes */
    assert_int_equal(infoSwarm("swarm_snapshots"), n0 + 1);
    assert_int_equal(infoSwarm("swarm_snapshots_saved"), saved0 + 3);
    assert_int_equal(infoSwarm("swarm_snapshot_bytes"), bytes0 + 7 + 13 + 7);
    /* Eviction gives bytes back. */
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE s:ctr {} KEEP 1"), 4);
    assert_int_equal(infoSwarm("swarm_snapshot_bytes"), bytes0 + 2);
    itExpectInt(itCmd(c, "DEL s:ctr"), 1);
    assert_int_equal(infoSwarm("swarm_snapshots"), n0);
    assert_int_equal(infoSwarm("swarm_snapshot_bytes"), bytes0);
    assert_int_equal(infoSwarm("swarm_snapshots_saved"), saved0 + 4);
}

static void test_unlink_large_history_server_stays_responsive(void **state) {
    (void)state;
    long long n0 = infoSwarm("swarm_snapshots");
    long long bytes0 = infoSwarm("swarm_snapshot_bytes");
    char *doc = bigDoc(1024 * 1024, 'u');
    for (int i = 1; i <= 16; i++) {
        doc[10] = (char)('a' + i); /* sixteen different documents */
        itExpectInt(cmd(4, "SWARM.SNAPSHOT", "SAVE", "s:unlink", doc), i);
    }
    free(doc);
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO s:unlink");
    assert_int_equal(field(r, "retained"), 16);
    assert_int_equal(field(r, "bytes"), 16LL * 1024 * 1024);
    freeReplyObject(r);
    assert_int_equal(infoSwarm("swarm_snapshot_bytes"), bytes0 + 16LL * 1024 * 1024);
    itExpectInt(itCmd(c, "UNLINK s:unlink"), 1);
    itExpectStr(itCmd(c, "PING"), "PONG");
    itExpectInt(itCmd(c, "EXISTS s:unlink"), 0);
    itExpectNil(itCmd(c, "SWARM.SNAPSHOT GET s:unlink"));
    /* Freed (possibly by the lazy-free thread): the counters come back. */
    char want[32];
    snprintf(want, sizeof(want), "%lld", bytes0);
    assert_true(itWaitInfo(c, "swarm", "swarm_snapshot_bytes", want, 5000));
    assert_int_equal(infoSwarm("swarm_snapshots"), n0);
    itExpectStr(itCmd(c, "PING"), "PONG");
}

/* ---- Syntax, arity, HELP ---- */

static void test_syntax_errors(void **state) {
    (void)state;
    save("s:syn", "{}", 1);
    const char *syntax[] = {
        "SWARM.SNAPSHOT SAVE s:syn {} IFVERSION", "SWARM.SNAPSHOT SAVE s:syn {} KEEP",
        "SWARM.SNAPSHOT SAVE s:syn {} BOGUS 1",   "SWARM.SNAPSHOT SAVE s:syn {} KEEP 2 IFVERSION",
        "SWARM.SNAPSHOT GET s:syn VERSION",       "SWARM.SNAPSHOT GET s:syn PATH",
        "SWARM.SNAPSHOT GET s:syn BOGUS 1",       "SWARM.SNAPSHOT PATCH s:syn {} IFVERSION",
        "SWARM.SNAPSHOT PATCH s:syn {} BOGUS 1",  "SWARM.SNAPSHOT PATCH s:syn {} IFVERSION 1 extra",
    };
    for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
        redisReply *r = itCmd(c, syntax[i]);
        if (r->type != REDIS_REPLY_ERROR || strcmp(r->str, "ERR syntax error") != 0)
            fail_msg("%s: expected 'ERR syntax error', got type %d '%s'", syntax[i], r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    const char *arity[] = {
        "SWARM.SNAPSHOT SAVE s:syn",
        "SWARM.SNAPSHOT GET",
        "SWARM.SNAPSHOT PATCH s:syn",
        "SWARM.SNAPSHOT DIFF s:syn",
        "SWARM.SNAPSHOT DIFF s:syn 1 2 3",
        "SWARM.SNAPSHOT LIST",
        "SWARM.SNAPSHOT LIST s:syn x",
        "SWARM.SNAPSHOT RESTORE s:syn",
        "SWARM.SNAPSHOT INFO",
        "SWARM.SNAPSHOT INFO s:syn x",
        "SWARM.SNAPSHOT RESTORE s:syn 1 2",
    };
    for (size_t i = 0; i < sizeof(arity) / sizeof(arity[0]); i++) {
        redisReply *r = itCmd(c, arity[i]);
        if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "ERR wrong number of arguments", 29))
            fail_msg("%s: expected an arity error, got type %d '%s'", arity[i], r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:syn {} KEEP 0"), "ERR",
                  "KEEP must be between 1 and 1000000");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:syn {} KEEP x"), "ERR",
                  "value is not an integer or out of range");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT SAVE s:syn {} IFVERSION -1"), "ERR", "version");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT RESTORE s:syn 0"), "ERR", "version");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT BOGUS s:syn"), "ERR", "unknown subcommand");
    /* Nothing was written by any of them. */
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO s:syn");
    assert_int_equal(field(r, "head"), 1);
    freeReplyObject(r);
}

static void test_help(void **state) {
    (void)state;
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT HELP");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements >= 15);
    int seen = 0;
    const char *subs[] = {"SAVE", "GET", "PATCH", "DIFF", "LIST", "RESTORE", "INFO", "HELP"};
    for (size_t i = 0; i < r->elements; i++) {
        assert_non_null(r->element[i]->str);
        for (size_t j = 0; j < 8; j++)
            if (strncmp(r->element[i]->str, subs[j], strlen(subs[j])) == 0) seen |= 1 << j;
    }
    assert_int_equal(seen, 0xff);
    freeReplyObject(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_returns_consecutive_versions),
        cmocka_unit_test(test_save_ifversion),
        cmocka_unit_test(test_keep_evicts_and_list_is_newest_first),
        cmocka_unit_test(test_get_missing_key_is_nil),
        cmocka_unit_test(test_get_path_rfc6901_examples),
        cmocka_unit_test(test_get_path_absent_is_nil_malformed_is_err),
        cmocka_unit_test(test_patch_rfc7396_appendix_a),
        cmocka_unit_test(test_patch_keeps_untouched_bytes_and_numbers),
        cmocka_unit_test(test_patch_missing_key_patches_empty_object),
        cmocka_unit_test(test_patch_ifversion),
        cmocka_unit_test(test_diff_then_patch_reproduces_target),
        cmocka_unit_test(test_diff_identical_and_errors),
        cmocka_unit_test(test_restore_makes_new_head),
        cmocka_unit_test(test_restore_evicted_is_noversion),
        cmocka_unit_test(test_info_fields),
        cmocka_unit_test(test_info_missing_key),
        cmocka_unit_test(test_bad_json_is_payload_and_changes_nothing),
        cmocka_unit_test(test_oversized_document_is_payload),
        cmocka_unit_test(test_snapshot_keep_config_applies_to_new_keys),
        cmocka_unit_test(test_wrongtype_for_every_subcommand),
        cmocka_unit_test(test_type_and_scan_type),
        cmocka_unit_test(test_memory_usage_grows_with_stored_bytes),
        cmocka_unit_test(test_info_swarm_counters_move),
        cmocka_unit_test(test_unlink_large_history_server_stays_responsive),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_help),
    };
    itFixture(&srv, &c, NULL, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
}
