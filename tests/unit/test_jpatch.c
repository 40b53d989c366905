/* test_jpatch.c -- unit tests of JSON Patch on text (jpatch.h).
 *
 * RFC 6902 appendix A, example by example and byte for byte; every failure class with its
 * exact message; the extension op incr; then properties: ops derived from a merge diff turn
 * a into b, and random op sequences agree with the cJSON reference (jpatch_oracle.h, shared
 * with tests/fuzz/fuzz_edit.c) on outcome, failing op, result and incr values. Allocation
 * failures at every point leave nothing behind. */
#include "json_testutil.h"

#include "swarm/alloc.h"
#include "swarm/jmerge.h"
#include "swarm/jpatch.h"
#include "swarm/json.h"
#include "../fuzz/jpatch_oracle.h"

#define DEPTH 128

static swStatus edit(const char *doc, const char *ops, swJsonPatchResult *res, swError *err) {
    return swJsonPatchApply(doc, strlen(doc), ops, strlen(ops), DEPTH, res, err);
}

/* Applied, and the result is want byte for byte. */
static void expectEdit(const char *doc, const char *ops, const char *want) {
    swJsonPatchResult res;
    swError err = {{0}, 0};
    swStatus st = edit(doc, ops, &res, &err);
    if (st != SW_OK) fail_msg("%s on %s: status %d: %s", ops, doc, st, err.msg);
    if (res.len != strlen(want) || memcmp(res.doc, want, res.len) != 0) {
        fail_msg("%s on %s\n got  %s\n want %s", ops, doc, res.doc, want);
    }
    assert_int_equal(res.doc[res.len], '\0');
    swJsonPatchResultFree(&res);
    assert_null(res.doc);
}

/* Refused with status st and exactly the message msg; nothing allocated. */
static void expectFail(const char *doc, const char *ops, swStatus st, const char *msg) {
    swJsonPatchResult res;
    swError err = {{0}, 0};
    swStatus got = edit(doc, ops, &res, &err);
    if (got != st || strcmp(err.msg, msg) != 0) {
        fail_msg("%s on %s\n got  %d '%s'\n want %d '%s'", ops, doc, got, err.msg, st, msg);
    }
    assert_null(res.doc);
    assert_null(res.incr);
    assert_int_equal(res.len, 0);
}

/* ---- RFC 6902 appendix A ---- */

static void test_rfc6902_appendix_a(void **state) {
    (void)state;
    /* A.1 */
    expectEdit("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
               "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    /* A.2 */
    expectEdit("{\"foo\":[\"bar\",\"baz\"]}",
               "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
               "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    /* A.3 */
    expectEdit("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
               "{\"foo\":\"bar\"}");
    /* A.4 */
    expectEdit("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
               "{\"foo\":[\"bar\",\"baz\"]}");
    /* A.5 */
    expectEdit("{\"baz\":\"qux\",\"foo\":\"bar\"}",
               "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
               "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    /* A.6 */
    expectEdit("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
               "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
               "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    /* A.7 */
    expectEdit("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
               "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
               "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    /* A.8 */
    expectEdit("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
               "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
               "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
               "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    /* A.9 */
    expectFail("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
               SW_ERR_TESTFAILED, "op 0 test failed at '/baz'");
    /* A.10 */
    expectEdit("{\"foo\":\"bar\"}",
               "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
               "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    /* A.11 */
    expectEdit("{\"foo\":\"bar\"}",
               "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
               "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    /* A.12 */
    expectFail("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
               SW_ERR_NOPATH, "op 0 path '/baz/bat' does not exist");
    /* A.13 */
    expectFail("{\"foo\":\"bar\"}",
               "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]",
               SW_ERR_BADOP, "op 0 has two 'op' members");
    /* A.14 */
    expectEdit("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
               "{\"/\":9,\"~1\":10}");
    /* A.15 */
    expectFail("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]",
               SW_ERR_TESTFAILED, "op 0 test failed at '/~01'");
    /* A.16 */
    expectEdit("{\"foo\":[\"bar\"]}",
               "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
               "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
}

/* Section 4 details the appendix does not show. */
static void test_rfc6902_section4(void **state) {
    (void)state;
    /* add: the whole document, an existing member (replaced in place), array ends */
    expectEdit("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]", "[1]");
    expectEdit("{\"a\":1,\"b\":2}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":3}]",
               "{\"a\":3,\"b\":2}");
    expectEdit("[]", "[{\"op\":\"add\",\"path\":\"/0\",\"value\":1}]", "[1]");
    expectEdit("[]", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1}]", "[1]");
    expectEdit("[1,2]", "[{\"op\":\"add\",\"path\":\"/2\",\"value\":3}]", "[1,2,3]");
    expectEdit("[1,2]", "[{\"op\":\"add\",\"path\":\"/0\",\"value\":0}]", "[0,1,2]");
    expectEdit("{}", "[{\"op\":\"add\",\"path\":\"/\",\"value\":1}]", "{\"\":1}");
    expectEdit("{}", "[{\"op\":\"add\",\"path\":\"/a~1b~0c\",\"value\":1}]", "{\"a/b~c\":1}");
    /* names needing escapes are written as JSON strings */
    expectEdit("{}", "[{\"op\":\"add\",\"path\":\"/q\\\"\\\\\\u0001\",\"value\":1}]",
               "{\"q\\\"\\\\\\u0001\":1}");
    /* remove: first, middle, last, only; separators stay right */
    expectEdit("[1,2,3]", "[{\"op\":\"remove\",\"path\":\"/0\"}]", "[2,3]");
    expectEdit("[1,2,3]", "[{\"op\":\"remove\",\"path\":\"/2\"}]", "[1,2]");
    expectEdit("[1]", "[{\"op\":\"remove\",\"path\":\"/0\"}]", "[]");
    expectEdit("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{}");
    expectEdit("{ \"a\" : 1 , \"b\" : 2 }", "[{\"op\":\"remove\",\"path\":\"/a\"}]",
               "{ \"b\" : 2 }");
    expectEdit("{ \"a\" : 1 , \"b\" : 2 }", "[{\"op\":\"remove\",\"path\":\"/b\"}]",
               "{ \"a\" : 1 }");
    /* replace the document; move and copy; move to itself; a later op sees earlier ones */
    expectEdit("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":2}]", "2");
    expectEdit("{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
               "{\"a\":{\"b\":1},\"c\":{\"b\":1}}");
    expectEdit("{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":1}");
    expectEdit("{\"a\":[1]}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/-\"}]",
               "{\"a\":[1,[1]]}");
    expectEdit("{}",
               "[{\"op\":\"add\",\"path\":\"/a\",\"value\":{}},"
               "{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1},"
               "{\"op\":\"test\",\"path\":\"/a\",\"value\":{\"b\":1}}]",
               "{\"a\":{\"b\":1}}");
    /* test: numbers by value, strings decoded, objects in any order, the whole document */
    expectEdit("{\"n\":1.0}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1}]", "{\"n\":1.0}");
    expectEdit("{\"s\":\"A\"}", "[{\"op\":\"test\",\"path\":\"/s\",\"value\":\"\\u0041\"}]",
               "{\"s\":\"A\"}");
    expectEdit("{\"o\":{\"a\":1,\"b\":2}}",
               "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"b\":2,\"a\":1}}]",
               "{\"o\":{\"a\":1,\"b\":2}}");
    expectEdit("[1]", "[{\"op\":\"test\",\"path\":\"\",\"value\":[1]}]", "[1]");
    /* no ops: a copy */
    expectEdit(" {\"a\":1} ", "[]", " {\"a\":1} ");
}

/* Untouched bytes stay, numbers are not reformatted, whitespace around the target stays. */
static void test_verbatim(void **state) {
    (void)state;
    expectEdit("{\n  \"big\": 9007199254740993,\n  \"f\": 1.50e+3,\n  \"x\": [1, 2]\n}",
               "[{\"op\":\"replace\",\"path\":\"/x/1\",\"value\":   7}]",
               "{\n  \"big\": 9007199254740993,\n  \"f\": 1.50e+3,\n  \"x\": [1, 7]\n}");
    expectEdit("{\"a\": {\"k\": \"v\"}}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":[ 1 , 2 ]}]",
               "{\"a\": {\"k\": \"v\"},\"b\":[ 1 , 2 ]}");
}

/* ---- Failures ---- */

static void test_errors(void **state) {
    (void)state;
    const char *d = "{\"a\":{\"b\":[1,2]},\"s\":\"x\",\"n\":5}";
    /* PAYLOAD: the ops text */
    expectFail(d, "[{\"op\":\"add\"", SW_ERR_PAYLOAD,
               "invalid JSON at byte 12: unexpected end of input");
    expectFail(d, "", SW_ERR_PAYLOAD, "invalid JSON at byte 0: empty input");
    /* BADOP: shape */
    expectFail(d, "{}", SW_ERR_BADOP, "ops must be a JSON array");
    expectFail(d, "[1]", SW_ERR_BADOP, "op 0 is not an object");
    expectFail(d, "[{\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 has no 'op'");
    expectFail(d, "[{\"op\":1,\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 'op' is not a string");
    expectFail(d, "[{\"op\":\"inc\",\"path\":\"/a\"}]", SW_ERR_BADOP,
               "op 0 has an unknown op 'inc'");
    expectFail(d, "[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]", SW_ERR_BADOP,
               "op 0 has an unknown op 'ADD'");
    expectFail(d, "[{\"op\":\"remove\"}]", SW_ERR_BADOP, "op 0 has no 'path'");
    expectFail(d, "[{\"op\":\"remove\",\"path\":1}]", SW_ERR_BADOP, "op 0 'path' is not a string");
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"a\"}]", SW_ERR_BADOP,
               "op 0 has an invalid path: json pointer must be empty or start with '/'");
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"/a~2\"}]", SW_ERR_BADOP,
               "op 0 has an invalid path: invalid escape in json pointer at byte 2: '~' must be "
               "followed by '0' or '1'");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 has no 'value'");
    expectFail(d, "[{\"op\":\"replace\",\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 has no 'value'");
    expectFail(d, "[{\"op\":\"test\",\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 has no 'value'");
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/n\"}]", SW_ERR_BADOP, "op 0 has no 'value'");
    expectFail(d, "[{\"op\":\"move\",\"path\":\"/a\"}]", SW_ERR_BADOP, "op 0 has no 'from'");
    expectFail(d, "[{\"op\":\"copy\",\"path\":\"/a\",\"from\":null}]", SW_ERR_BADOP,
               "op 0 'from' is not a string");
    expectFail(d, "[{\"op\":\"copy\",\"path\":\"/a\",\"from\":\"x\"}]", SW_ERR_BADOP,
               "op 0 has an invalid from: json pointer must be empty or start with '/'");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1,\"value\":2}]", SW_ERR_BADOP,
               "op 0 has two 'value' members");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a\",\"path\":\"/b\",\"value\":1}]", SW_ERR_BADOP,
               "op 0 has two 'path' members");
    expectFail(d, "[{\"op\":\"move\",\"from\":\"/a\",\"from\":\"/s\",\"path\":\"/c\"}]",
               SW_ERR_BADOP, "op 0 has two 'from' members");
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"\"}]", SW_ERR_BADOP,
               "op 0 cannot remove the whole document");
    expectFail(d, "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/0\"}]", SW_ERR_BADOP,
               "op 0 moves '/a' into itself");
    expectFail(d, "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/z\"}]", SW_ERR_BADOP,
               "op 0 moves '' into itself");
    /* every BADOP is found before anything is applied: op 0 would fail NOPATH */
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"/zz\"},{\"op\":\"nope\",\"path\":\"\"}]",
               SW_ERR_BADOP, "op 1 has an unknown op 'nope'");
    /* NOPATH */
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"/zz\"}]", SW_ERR_NOPATH,
               "op 0 path '/zz' does not exist");
    expectFail(d, "[{\"op\":\"replace\",\"path\":\"/zz\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/zz' does not exist");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a/b/3\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/a/b/3' does not exist");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a/b/01\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/a/b/01' does not exist");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/a/b/x\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/a/b/x' does not exist");
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"/a/b/-\"}]", SW_ERR_NOPATH,
               "op 0 path '/a/b/-' does not exist");
    expectFail(d, "[{\"op\":\"add\",\"path\":\"/s/t\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/s/t' does not exist");
    expectFail(d, "[{\"op\":\"copy\",\"from\":\"/q\",\"path\":\"/c\"}]", SW_ERR_NOPATH,
               "op 0 from '/q' does not exist");
    expectFail(d, "[{\"op\":\"move\",\"from\":\"/q/r\",\"path\":\"/c\"}]", SW_ERR_NOPATH,
               "op 0 from '/q/r' does not exist");
    expectFail(d, "[{\"op\":\"move\",\"from\":\"/n\",\"path\":\"/q/r\"}]", SW_ERR_NOPATH,
               "op 0 path '/q/r' does not exist");
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/zz\",\"value\":1}]", SW_ERR_NOPATH,
               "op 0 path '/zz' does not exist");
    /* TESTFAILED: a different value, a missing one, a later op */
    expectFail(d,
               "[{\"op\":\"test\",\"path\":\"/n\",\"value\":5},"
               "{\"op\":\"test\",\"path\":\"/a/b/1\",\"value\":3}]",
               SW_ERR_TESTFAILED, "op 1 test failed at '/a/b/1'");
    expectFail(d, "[{\"op\":\"test\",\"path\":\"/tasks/3/owner\",\"value\":null}]",
               SW_ERR_TESTFAILED, "op 0 test failed at '/tasks/3/owner'");
    expectFail(d, "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"5\"}]", SW_ERR_TESTFAILED,
               "op 0 test failed at '/n'");
    /* TYPE */
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/s\",\"value\":1}]", SW_ERR_TYPE,
               "op 0 incr target at '/s' is not an integer");
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1.5}]", SW_ERR_TYPE,
               "op 0 incr value is not an integer");
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":\"1\"}]", SW_ERR_TYPE,
               "op 0 incr value is not an integer");
    expectFail(d, "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1e2}]", SW_ERR_TYPE,
               "op 0 incr value is not an integer");
    expectFail("{\"n\":1.0}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]", SW_ERR_TYPE,
               "op 0 incr target at '/n' is not an integer");
    expectFail("{\"n\":9223372036854775807}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]",
               SW_ERR_TYPE, "op 0 incr overflows int64 at '/n'");
    expectFail("{\"n\":-9223372036854775808}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":-1}]",
               SW_ERR_TYPE, "op 0 incr overflows int64 at '/n'");
    expectFail("{\"n\":9223372036854775808}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":0}]",
               SW_ERR_TYPE, "op 0 incr target at '/n' is not an integer");
    /* the error offset is the op's byte offset in the ops text */
    swJsonPatchResult res;
    swError err;
    assert_int_equal(
        edit(d, "[{\"op\":\"test\",\"path\":\"\",\"value\":1}, {\"op\":\"x\"}]", &res, &err),
        SW_ERR_BADOP);
    assert_int_equal(err.offset, 36);
    /* pointers in messages: control bytes shown as '?', cut at 128 bytes */
    expectFail(d, "[{\"op\":\"remove\",\"path\":\"/a\\nb\"}]", SW_ERR_NOPATH,
               "op 0 path '/a?b' does not exist");
    char ops[512], want[256];
    char longName[201];
    memset(longName, 'k', 200);
    longName[200] = '\0';
    snprintf(ops, sizeof(ops), "[{\"op\":\"remove\",\"path\":\"/%s\"}]", longName);
    snprintf(want, sizeof(want), "op 0 path '/%.127s...' does not exist", longName);
    expectFail(d, ops, SW_ERR_NOPATH, want);
}

/* Regression: with every decoded string empty, the path arena was never allocated and the
 * message for op 0 read from a NULL arena (found by fuzz_edit under UBSan). */
static void test_all_strings_empty(void **state) {
    (void)state;
    expectFail("{}", "[{\"op\":\"test\",\"path\":\"\",\"value\":1}]", SW_ERR_TESTFAILED,
               "op 0 test failed at ''");
    expectEdit("{}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{}}]", "{}");
}

static void test_incr(void **state) {
    (void)state;
    swJsonPatchResult res;
    assert_int_equal(edit("{\"done\":7,\"t\":[0,-5]}",
                          "[{\"op\":\"incr\",\"path\":\"/done\",\"value\":1},"
                          "{\"op\":\"incr\",\"path\":\"/t/1\",\"value\":-10},"
                          "{\"op\":\"incr\",\"path\":\"/done\",\"value\":-0}]",
                          &res, NULL),
                     SW_OK);
    assert_string_equal(res.doc, "{\"done\":8,\"t\":[0,-15]}");
    assert_int_equal(res.nincr, 3);
    assert_int_equal(res.incr[0], 8);
    assert_int_equal(res.incr[1], -15);
    assert_int_equal(res.incr[2], 8);
    assert_int_equal(res.ops, 3);
    swJsonPatchResultFree(&res);
    swJsonPatchResultFree(&res); /* a zeroed result is a no-op */
    expectEdit("{\"n\":9223372036854775806}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]",
               "{\"n\":9223372036854775807}");
    expectEdit("{\"n\":-9223372036854775807}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":-1}]",
               "{\"n\":-9223372036854775808}");
    expectEdit("{\"n\":-0}", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":0}]", "{\"n\":0}");
    expectEdit("41", "[{\"op\":\"incr\",\"path\":\"\",\"value\":1}]", "42");
    /* no incr: no array */
    assert_int_equal(edit("{}", "[]", &res, NULL), SW_OK);
    assert_null(res.incr);
    assert_int_equal(res.nincr, 0);
    swJsonPatchResultFree(&res);
}

static char *nest(int depth) {
    char *s = malloc((size_t)depth * 2 + 2);
    if (s == NULL) abort();
    for (int i = 0; i < depth; i++) s[i] = '[';
    for (int i = 0; i < depth; i++) s[depth + i] = ']';
    s[depth * 2] = '\0';
    return s;
}

static void test_depth_limit(void **state) {
    (void)state;
    swJsonPatchResult res;
    swError err;
    char ops[1024];
    /* The ops document itself: as swJsonValidate with maxdepth. */
    char *deep = nest(DEPTH);
    snprintf(ops, sizeof(ops), "[{\"op\":\"add\",\"path\":\"/a\",\"value\":%s}]", deep);
    assert_int_equal(edit("{}", ops, &res, &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "invalid JSON at byte 159: nesting deeper than 128");
    free(deep);
    /* The result: the value's nesting plus the containers above its place. */
    deep = nest(DEPTH - 2); /* fits in ops at depth 2 */
    snprintf(ops, sizeof(ops), "[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":%s}]", deep);
    expectFail("{\"a\":{\"b\":{}}}", ops, SW_ERR_PAYLOAD,
               "op 0 nests the document deeper than 128 levels");
    snprintf(ops, sizeof(ops), "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":%s}]", deep);
    assert_int_equal(edit("{\"a\":{\"b\":{}}}", ops, &res, &err), SW_OK); /* 2 + 126 */
    assert_int_equal(swJsonValidate(res.doc, res.len, DEPTH, NULL), SW_OK);
    swJsonPatchResultFree(&res);
    free(deep);
    /* A value copied from the document counts too. */
    deep = nest(DEPTH - 2);
    char doc[512];
    snprintf(doc, sizeof(doc), "{\"a\":[%s]}", deep); /* depth 128 */
    expectFail(doc, "[{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/0/0\"}]", SW_ERR_PAYLOAD,
               "op 0 nests the document deeper than 128 levels");
    assert_int_equal(
        edit(doc, "[{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]", &res, &err),
        SW_OK); /* 2 + 126 */
    swJsonPatchResultFree(&res);
    free(deep);
}

/* ---- Properties ---- */

/* Appends to ops the RFC 6902 ops doing what merge patch p does to a, under pointer base. */
static void opsFromMergePatch(cJSON *ops, const cJSON *a, const cJSON *p, const char *base) {
    if (!cJSON_IsObject(p)) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "op", "replace");
        cJSON_AddStringToObject(op, "path", base);
        cJSON_AddItemToObject(op, "value", cJSON_Duplicate(p, 1));
        cJSON_AddItemToArray(ops, op);
        return;
    }
    for (const cJSON *m = p->child; m != NULL; m = m->next) {
        char path[2048];
        size_t k = (size_t)snprintf(path, sizeof(path), "%s/", base);
        for (const char *c = m->string; *c && k < sizeof(path) - 3; c++) {
            if (*c == '~' || *c == '/') {
                path[k++] = '~';
                path[k++] = *c == '~' ? '0' : '1';
            } else {
                path[k++] = *c;
            }
        }
        path[k] = '\0';
        const cJSON *am = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, m->string) : NULL;
        if (cJSON_IsObject(m) && cJSON_IsObject(am)) {
            opsFromMergePatch(ops, am, m, path);
            continue;
        }
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "op", cJSON_IsNull(m) ? "remove" : "add");
        cJSON_AddStringToObject(op, "path", path);
        if (!cJSON_IsNull(m)) cJSON_AddItemToObject(op, "value", cJSON_Duplicate(m, 1));
        cJSON_AddItemToArray(ops, op);
    }
}

static void test_property_ops_from_diff(void **state) {
    (void)state;
    rng = 0x5eed0f6902ULL;
    int checked = 0;
    for (int iter = 0; iter < 1500; iter++) {
        cJSON *a = randomObject(0), *b = cJSON_Duplicate(a, 1);
        mutate(b, 0);
        char *at = printRandomly(a), *bt = printRandomly(b);
        char *patch = NULL;
        size_t plen = 0;
        swStatus st = swJsonMergeDiff(at, strlen(at), bt, strlen(bt), &patch, &plen, NULL);
        if (st == SW_OK) {
            cJSON *p = oracleParse(patch, plen);
            assert_non_null(p);
            cJSON *ops = cJSON_CreateArray();
            /* the merge patch applies to a as a whole object */
            opsFromMergePatch(ops, a, p, "");
            char *ot = cJSON_PrintUnformatted(ops);
            swJsonPatchResult res;
            swError err;
            st = swJsonPatchApply(at, strlen(at), ot, strlen(ot), DEPTH, &res, &err);
            if (st != SW_OK) fail_msg("%s\non %s: %s", ot, at, err.msg);
            assert_true(jsonEquals(res.doc, res.len, bt));
            swJsonPatchResultFree(&res);
            cJSON_free(ot);
            cJSON_Delete(ops);
            cJSON_Delete(p);
            swFree(patch);
            checked++;
        } else {
            assert_int_equal(st, SW_ERR_RANGE); /* a null merge patch cannot set */
        }
        free(at);
        free(bt);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    print_message("%d of 1500 diffs expressible\n", checked);
    assert_true(checked > 800);
}

/* Every pointer to a value of v (and some that miss), into paths[]. */
static void collectPaths(const cJSON *v, char *ptr, size_t n, char paths[][256], int *np, int max) {
    if (*np < max) {
        memcpy(paths[*np], ptr, n);
        paths[(*np)++][n] = '\0';
    }
    if (n > 200) return;
    int i = 0;
    for (const cJSON *m = v->child; m != NULL && (cJSON_IsArray(v) || cJSON_IsObject(v));
         m = m->next, i++) {
        size_t k = n;
        ptr[k++] = '/';
        if (cJSON_IsArray(v)) {
            k += (size_t)sprintf(ptr + k, "%d", i);
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
        collectPaths(m, ptr, k, paths, np, max);
    }
}

static const char *randomPath(char paths[][256], int np, char *buf) {
    const char *p = paths[below((unsigned)np)];
    switch (below(8)) {
    case 0:
        snprintf(buf, 256, "%s/-", p);
        return buf;
    case 1:
        snprintf(buf, 256, "%s/%u", p, below(4));
        return buf;
    case 2:
        snprintf(buf, 256, "%s/new", p);
        return buf;
    case 3:
        return "/nope/x";
    default:
        return p;
    }
}

static cJSON *randomOp(char paths[][256], int np) {
    static const char *const kinds[] = {"add", "remove", "replace", "move", "copy", "test", "incr"};
    char b1[256], b2[256];
    cJSON *op = cJSON_CreateObject();
    const char *kind = kinds[below(7)];
    cJSON_AddStringToObject(op, "op", kind);
    cJSON_AddStringToObject(op, "path", randomPath(paths, np, b1));
    if (!strcmp(kind, "move") || !strcmp(kind, "copy")) {
        cJSON_AddStringToObject(op, "from", randomPath(paths, np, b2));
    }
    if (!strcmp(kind, "incr")) {
        cJSON_AddNumberToObject(op, "value", below(5) == 0 ? 1.5 : (double)((int)below(100) - 50));
    } else if (strcmp(kind, "remove") != 0 && strcmp(kind, "move") && strcmp(kind, "copy")) {
        cJSON_AddItemToObject(op, "value", randomValue(3));
    }
    return op;
}

static refOutcome outcomeOf(swStatus st) {
    switch (st) {
    case SW_OK:
        return REF_OK;
    case SW_ERR_BADOP:
        return REF_BADOP;
    case SW_ERR_NOPATH:
        return REF_NOPATH;
    case SW_ERR_TESTFAILED:
        return REF_TESTFAILED;
    case SW_ERR_TYPE:
        return REF_TYPE;
    default:
        fail_msg("unexpected status %d", st);
        return REF_BADOP;
    }
}

/* Random op sequences on random documents agree with the reference. */
static void test_property_matches_reference(void **state) {
    (void)state;
    rng = 0x0ac1e0f6902ULL;
    static char paths[64][256];
    int outcomes[5] = {0};
    for (int iter = 0; iter < 4000; iter++) {
        cJSON *a = randomDocument();
        char ptr[512];
        int np = 0;
        collectPaths(a, ptr, 0, paths, &np, 64);
        cJSON *ops = cJSON_CreateArray();
        unsigned nops = 1 + below(4);
        for (unsigned i = 0; i < nops; i++) cJSON_AddItemToArray(ops, randomOp(paths, np));
        char *at = printRandomly(a), *ot = cJSON_PrintUnformatted(ops);

        int64_t incr[8];
        size_t nincr, failedAt;
        cJSON *ref = cJSON_Duplicate(a, 1);
        refOutcome want = refPatch(&ref, ops, incr, &nincr, &failedAt);
        swJsonPatchResult res;
        swError err;
        swStatus st = swJsonPatchApply(at, strlen(at), ot, strlen(ot), DEPTH, &res, &err);
        refOutcome got = outcomeOf(st);
        if (got != want)
            fail_msg("ops %s\non %s\n got %d (%s), want %d at op %zu", ot, at, got,
                     st ? err.msg : "-", want, failedAt);
        outcomes[got]++;
        if (got == REF_OK) {
            char *rt = cJSON_PrintUnformatted(ref);
            if (!jsonEquals(res.doc, res.len, rt)) fail_msg("ops %s\non %s", ot, at);
            assert_int_equal(res.nincr, nincr);
            for (size_t i = 0; i < nincr; i++) assert_int_equal(res.incr[i], incr[i]);
            assert_int_equal(swJsonValidate(res.doc, res.len, DEPTH, NULL), SW_OK);
            cJSON_free(rt);
            swJsonPatchResultFree(&res);
        } else {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "op %zu ", failedAt);
            if (strncmp(err.msg, prefix, strlen(prefix)) != 0) {
                fail_msg("ops %s\non %s: '%s' should start with '%s'", ot, at, err.msg, prefix);
            }
        }
        cJSON_Delete(ref);
        cJSON_free(ot);
        free(at);
        cJSON_Delete(ops);
        cJSON_Delete(a);
    }
    print_message("outcomes: ok %d, badop %d, nopath %d, testfailed %d, type %d\n", outcomes[0],
                  outcomes[1], outcomes[2], outcomes[3], outcomes[4]);
    for (int i = 0; i < 5; i++) {
        if (i != REF_BADOP) assert_true(outcomes[i] > 50);
    }
}

/* ---- One buffer with a gap against a rewrite per op ----
 *
 * A patch without move or copy is applied in one buffer with a gap; the same ops followed by
 * a move that changes nothing ("" to "") take the rewrite-per-op way. Both must give the
 * same bytes, incr values, status, message and offset. */

static void expectSameAsPlain(const char *doc, size_t len, const char *ops, int *ok) {
    size_t n = strlen(ops);
    char *plain = malloc(n + 64);
    if (plain == NULL) abort();
    memcpy(plain, ops, n - 1); /* without the closing ']' */
    size_t m = n - 1 +
               (size_t)sprintf(plain + n - 1, "%s{\"op\":\"move\",\"from\":\"\",\"path\":\"\"}]",
                               n > 2 ? "," : "");
    swJsonPatchResult a, b;
    swError ea = {{0}, 0}, eb = {{0}, 0};
    swStatus sa = swJsonPatchApply(doc, len, ops, n, DEPTH, &a, &ea);
    swStatus sb = swJsonPatchApply(doc, len, plain, m, DEPTH, &b, &eb);
    if (sa != sb || (sa != SW_OK && (strcmp(ea.msg, eb.msg) != 0 || ea.offset != eb.offset))) {
        fail_msg("ops %s\non %s\n gap   %d '%s' at %zu\n plain %d '%s' at %zu", ops, doc, sa,
                 ea.msg, ea.offset, sb, eb.msg, eb.offset);
    }
    if (sa == SW_OK) {
        if (a.len != b.len || memcmp(a.doc, b.doc, a.len) != 0 || a.nincr != b.nincr ||
            (a.nincr && memcmp(a.incr, b.incr, a.nincr * sizeof(int64_t)) != 0)) {
            fail_msg("ops %s\non %s\n gap   %s\n plain %s", ops, doc, a.doc, b.doc);
        }
        assert_int_equal(a.doc[a.len], '\0');
        assert_int_equal(a.ops, b.ops - 1);
        assert_int_equal(b.rewrote, 1);
        if (a.rewrote) fail_msg("ops %s\non %s: applied again the plain way", ops, doc);
        (*ok)++;
        swJsonPatchResultFree(&a);
        swJsonPatchResultFree(&b);
    }
    free(plain);
}

static void test_gap_cases(void **state) {
    (void)state;
    int ok = 0;
    static const char doc[] =
        "{ \"c\" : {\"id\":\"x1\", \"k\":{\"v\":4,\"ts\":\"t\"},\n "
        "\"v\":{\"f\":{\"f1\":{\"s\":\"a\","
        "\"n\":1},\"f2\":{\"s\":\"b\",\"n\":2},\"f3\":{}},\"m\":[{\"t\":\"he said \\\"hi\\\"\"}, "
        "[] ,\"\\\\\"]},\"q\":1}, \"e\":{}, \"a\":[], \"i\":{\"x1\":1, \"x0\" : 0}}";
    static const char *const cases[] = {
        /* the saver's shape, in document order */
        "[{\"op\":\"test\",\"path\":\"/c/id\",\"value\":\"x1\"},{\"op\":\"add\",\"path\":\"/c/id\","
        "\"value\":\"x2\"},{\"op\":\"add\",\"path\":\"/c/k\",\"value\":{\"v\":5}},{\"op\":"
        "\"replace\",\"path\":\"/c/v/f/f1/s\",\"value\":\"busy\"},{\"op\":\"replace\",\"path\":"
        "\"/c/v/f/f1/n\",\"value\":7},{\"op\":\"replace\",\"path\":\"/c/v/f/f2/s\",\"value\":\"\"},"
        "{\"op\":\"remove\",\"path\":\"/c/v/m/0\"},{\"op\":\"add\",\"path\":\"/c/v/m/-\",\"value\":"
        "{\"t\":\"new\"}},{\"op\":\"add\",\"path\":\"/i/x2\",\"value\":2}]",
        /* backwards: the gap moves back each time */
        "[{\"op\":\"add\",\"path\":\"/i/x9\",\"value\":9},{\"op\":\"add\",\"path\":\"/c/v/m/-\","
        "\"value\":1},{\"op\":\"replace\",\"path\":\"/c/v/f/f2/n\",\"value\":[1,2]},{\"op\":"
        "\"remove\",\"path\":\"/c/id\"},{\"op\":\"add\",\"path\":\"/c/v/f/f3/z\",\"value\":null}]",
        /* writes next to each other, then containers that hold the gap tested and replaced */
        "[{\"op\":\"replace\",\"path\":\"/c/v/f/f1/s\",\"value\":\"long value to grow the text\"},"
        "{\"op\":\"replace\",\"path\":\"/c/v/f/f1/n\",\"value\":2},{\"op\":\"test\",\"path\":"
        "\"/c/v/f/f1\",\"value\":{\"n\":2,\"s\":\"long value to grow the text\"}},{\"op\":"
        "\"test\",\"path\":\"/c/v/f\",\"value\":{\"f3\":{},\"f2\":{\"n\":2,\"s\":\"b\"},\"f1\":{"
        "\"s\":\"long value to grow the text\",\"n\":2}}},{\"op\":\"replace\",\"path\":\"/c/v\","
        "\"value\":{}},{\"op\":\"add\",\"path\":\"/c/v/new\",\"value\":[]},{\"op\":\"add\","
        "\"path\":\"/c/v/new/0\",\"value\":\"x\"},{\"op\":\"add\",\"path\":\"/c/v/new/0\","
        "\"value\":\"y\"}]",
        /* removals around the gap, first and last members and elements */
        "[{\"op\":\"remove\",\"path\":\"/c/v/m/1\"},{\"op\":\"remove\",\"path\":\"/c/v/m/0\"},"
        "{\"op\":\"remove\",\"path\":\"/c/v/m/0\"},{\"op\":\"add\",\"path\":\"/c/v/m/-\",\"value\":"
        "0},{\"op\":\"remove\",\"path\":\"/c/id\"},{\"op\":\"remove\",\"path\":\"/c/k\"},{\"op\":"
        "\"remove\",\"path\":\"/c/q\"},{\"op\":\"add\",\"path\":\"/e/a\",\"value\":1},{\"op\":"
        "\"add\",\"path\":\"/a/-\",\"value\":1},{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]",
        /* incr, names that need escaping, the whole document */
        "[{\"op\":\"incr\",\"path\":\"/c/q\",\"value\":41},{\"op\":\"add\",\"path\":\"/e/a~1b~0\\\""
        "\\u0001\",\"value\":1},{\"op\":\"incr\",\"path\":\"/c/q\",\"value\":-2},{\"op\":\"test\","
        "\"path\":\"\",\"value\":{\"i\":{\"x0\":0,\"x1\":1},\"a\":[],\"e\":{\"a/b~\\\"\\u0001\":1},"
        "\"c\":{\"q\":40,\"v\":{\"m\":[{\"t\":\"he said "
        "\\\"hi\\\"\"},[],\"\\\\\"],\"f\":{\"f3\":{},"
        "\"f2\":{\"n\":2,\"s\":\"b\"},\"f1\":{\"n\":1,\"s\":\"a\"}}},\"k\":{\"ts\":\"t\",\"v\":4},"
        "\"id\":\"x1\"}}},{\"op\":\"replace\",\"path\":\"\",\"value\":[1]},{\"op\":\"add\","
        "\"path\":"
        "\"/-\",\"value\":2},{\"op\":\"add\",\"path\":\"\",\"value\":{\"z\":0}},{\"op\":\"incr\","
        "\"path\":\"/z\",\"value\":1}]",
        /* failures after writes: the message and offset are the plain way's */
        "[{\"op\":\"add\",\"path\":\"/c/id\",\"value\":\"x2\"},{\"op\":\"test\",\"path\":\"/c/id\","
        "\"value\":\"x1\"}]",
        "[{\"op\":\"add\",\"path\":\"/c/id\",\"value\":\"x2\"},{\"op\":\"remove\",\"path\":"
        "\"/c/v/m/3\"}]",
        "[{\"op\":\"add\",\"path\":\"/c/id\",\"value\":\"x2\"},{\"op\":\"incr\",\"path\":\"/c/id\","
        "\"value\":1}]",
        "[{\"op\":\"add\",\"path\":\"/c/id\",\"value\":\"x2\"},{\"op\":\"add\",\"path\":\"/c/v/f/"
        "f3/"
        "z\",\"value\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]}]",
        "[{\"op\":\"add\",\"path\":\"/c/nope/x\",\"value\":1}]",
        "[]",
        "[{\"op\":\"test\",\"path\":\"/c/v/f/f2\",\"value\":{\"s\":\"b\",\"n\":2}}]",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expectSameAsPlain(doc, strlen(doc), cases[i], &ok);
    }
    assert_int_equal(ok, 7);
    /* After the whole document is replaced, nothing found in the old one is reused: here
     * the old offset of /c holds /x in the new one. */
    expectEdit("{\"c\":{\"q\":1}}",
               "[{\"op\":\"replace\",\"path\":\"/c/q\",\"value\":2},{\"op\":\"replace\","
               "\"path\":\"\",\"value\":{\"x\":{\"q\":7},\"c\":{\"q\":3}}},{\"op\":"
               "\"replace\",\"path\":\"/c/q\",\"value\":4}]",
               "{\"x\":{\"q\":7},\"c\":{\"q\":4}}");
}

static cJSON *randomGapOp(char paths[][256], int np, int j) {
    /* mostly writes: a test or an incr on a random value fails */
    static const char *const kinds[] = {"add",     "add",     "add",     "add",     "add",
                                        "replace", "replace", "replace", "replace", "replace",
                                        "remove",  "remove",  "test",    "incr"};
    char b1[256];
    cJSON *op = cJSON_CreateObject();
    const char *kind = kinds[below(sizeof(kinds) / sizeof(kinds[0]))];
    cJSON_AddStringToObject(op, "op", kind);
    cJSON_AddStringToObject(op, "path", below(4) ? paths[j] : randomPath(paths + j, np - j, b1));
    if (!strcmp(kind, "incr")) {
        cJSON_AddNumberToObject(op, "value", (double)((int)below(100) - 50));
    } else if (strcmp(kind, "remove") != 0) {
        cJSON_AddItemToObject(op, "value", randomValue(1 + below(3)));
    }
    return op;
}

/* Random documents, printed compact or indented, and up to 24 ops, each chosen on the
 * document the ops before it made (so that most apply): in document order (as the
 * checkpoint saver sends them), backwards or at random; some patches end with an op that
 * fails. */
static void test_property_gap_matches_plain(void **state) {
    (void)state;
    rng = 0x9a9b0ffe5ULL;
    static char paths[64][256];
    int ok = 0, total = 0;
    for (int iter = 0; iter < 3000; iter++) {
        cJSON *a = randomDocument(), *cur = cJSON_Duplicate(a, 1);
        cJSON *ops = cJSON_CreateArray();
        unsigned order = below(3), nops = 1 + below(24);
        for (unsigned i = 0; i < nops; i++) {
            char ptr[512];
            int np = 0;
            collectPaths(cur, ptr, 0, paths, &np, 64);
            int j = order == 2 ? (int)below((unsigned)np) : (int)((i * (unsigned)np) / nops);
            if (order == 1) j = np - 1 - j;
            cJSON *op = randomGapOp(paths, np, j), *one = cJSON_CreateArray(),
                  *next = cJSON_Duplicate(cur, 1);
            cJSON_AddItemToArray(one, op);
            int64_t incr[2];
            size_t nincr, failedAt;
            refOutcome r = refPatch(&next, one, incr, &nincr, &failedAt);
            cJSON_DetachItemFromArray(one, 0);
            cJSON_Delete(one);
            int keep = r == REF_OK || below(16) == 0;
            if (keep) {
                cJSON_AddItemToArray(ops, op);
            } else {
                cJSON_Delete(op);
            }
            if (r != REF_OK) {
                cJSON_Delete(next);
                if (keep) break; /* the failing op ends the patch */
                continue;
            }
            cJSON_Delete(cur);
            cur = next;
        }
        char *at = printRandomly(a), *ot = cJSON_PrintUnformatted(ops);
        expectSameAsPlain(at, strlen(at), ot, &ok);
        total++;
        cJSON_free(ot);
        free(at);
        cJSON_Delete(ops);
        cJSON_Delete(cur);
        cJSON_Delete(a);
    }
    print_message("%d of %d patches applied\n", ok, total);
    assert_true(ok > total / 2);
}

/* ---- Allocation failures ---- */

typedef struct editRun {
    const char *doc, *ops;
    swJsonPatchResult res;
} editRun;

static swStatus editStep(void *arg) {
    editRun *a = arg;
    return edit(a->doc, a->ops, &a->res, NULL);
}

static void editFailed(void *arg) {
    editRun *a = arg;
    assert_null(a->res.doc);
    assert_null(a->res.incr);
}

static void failEveryAllocation(const char *doc, const char *ops) {
    swJsonPatchResult want;
    assert_int_equal(edit(doc, ops, &want, NULL), SW_OK);
    editRun a = {.doc = doc, .ops = ops};
    assert_true(unitAllocSweep(editStep, editFailed, &a) >= 3);
    swJsonPatchResult res = a.res;
    assert_int_equal(res.len, want.len);
    assert_memory_equal(res.doc, want.doc, want.len);
    assert_int_equal(res.nincr, want.nincr);
    swJsonPatchResultFree(&res);
    swJsonPatchResultFree(&want);
}

static void test_nomem(void **state) {
    (void)state;
    char *big = bigObject(40, 3);
    failEveryAllocation(big, "[{\"op\":\"test\",\"path\":\"/m3/w/0\",\"value\":{\"x3\":1,\"y\":2,"
                             "\"a\":3,\"b\":4,\"c\":5,\"d\":6,\"e\":7,\"f\":8,\"g\":0}},"
                             "{\"op\":\"incr\",\"path\":\"/m1/v\",\"value\":5},"
                             "{\"op\":\"incr\",\"path\":\"/m2/v\",\"value\":5},"
                             "{\"op\":\"incr\",\"path\":\"/m3/v\",\"value\":5},"
                             "{\"op\":\"incr\",\"path\":\"/m4/v\",\"value\":5},"
                             "{\"op\":\"incr\",\"path\":\"/m5/v\",\"value\":5},"
                             "{\"op\":\"move\",\"from\":\"/m0\",\"path\":\"/zz\"},"
                             "{\"op\":\"copy\",\"from\":\"/m1\",\"path\":\"/m2/w/-\"},"
                             "{\"op\":\"remove\",\"path\":\"/m39\"}]");
    /* without move or copy: the one-buffer way, and the plain way when that one fails */
    failEveryAllocation(big, "[{\"op\":\"test\",\"path\":\"/m3/v\",\"value\":0},"
                             "{\"op\":\"incr\",\"path\":\"/m1/v\",\"value\":5},"
                             "{\"op\":\"add\",\"path\":\"/m2/w/-\",\"value\":[1]},"
                             "{\"op\":\"replace\",\"path\":\"/m3/w/0/g\",\"value\":2},"
                             "{\"op\":\"add\",\"path\":\"/m~1\",\"value\":{}},"
                             "{\"op\":\"remove\",\"path\":\"/m0\"}]");
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6902_appendix_a),
        cmocka_unit_test(test_rfc6902_section4),
        cmocka_unit_test(test_verbatim),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_all_strings_empty),
        cmocka_unit_test(test_incr),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_property_ops_from_diff),
        cmocka_unit_test(test_property_matches_reference),
        cmocka_unit_test(test_gap_cases),
        cmocka_unit_test(test_property_gap_matches_plain),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
