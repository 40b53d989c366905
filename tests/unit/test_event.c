/* test_event.c -- unit tests of event type and subject pattern syntax (module/core/event.c).
 *
 * Every rejected form is pinned to its status, its exact message and the byte offset the
 * error names, for both checkers: an event type never admits a wildcard, a pattern admits
 * '*' as a whole token anywhere and '>' as a whole last token. */
#include "unit_alloc.h"

#include <stdio.h>
#include <string.h>

#include "swarm/event.h"

#define MAXLEN 256 /* swarm.max-type-bytes default */
#define ALLOWED "; tokens allow A-Z a-z 0-9 _ - :"

typedef swStatus (*checkFn)(const char *s, size_t len, size_t maxlen, swError *err);

static void expectOk(checkFn fn, const char *s, size_t len, size_t maxlen) {
    swError err;
    memset(&err, 0, sizeof(err));
    swStatus st = fn(s, len, maxlen, &err);
    if (st != SW_OK) print_error("'%.*s' rejected: %s\n", (int)len, s, err.msg);
    assert_int_equal(st, SW_OK);
    /* The error out-parameter is optional. */
    assert_int_equal(fn(s, len, maxlen, NULL), SW_OK);
}

static void expectBad(checkFn fn, const char *s, size_t len, size_t maxlen, size_t offset,
                      const char *msg) {
    swError err;
    memset(&err, 0, sizeof(err));
    swStatus st = fn(s, len, maxlen, &err);
    if (st == SW_OK) print_error("'%.*s' accepted\n", (int)len, s);
    assert_int_equal(st, SW_ERR_EVENTTYPE);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.offset, offset);
    assert_int_equal(fn(s, len, maxlen, NULL), SW_ERR_EVENTTYPE);
}

#define TYPE_OK(s) expectOk(swEventTypeCheck, s, sizeof(s) - 1, MAXLEN)
#define PAT_OK(s) expectOk(swPatternCheck, s, sizeof(s) - 1, MAXLEN)
#define TYPE_BAD(s, off, msg) expectBad(swEventTypeCheck, s, sizeof(s) - 1, MAXLEN, off, msg)
#define PAT_BAD(s, off, msg) expectBad(swPatternCheck, s, sizeof(s) - 1, MAXLEN, off, msg)

/* ---- Event types ---- */

static void test_event_type_valid(void **state) {
    (void)state;
    TYPE_OK("task.completed");
    TYPE_OK("agent.coder-1.heartbeat");
    TYPE_OK("a:b_c-d");
    TYPE_OK("a");
    TYPE_OK("A.Z.a.z.0.9._.-.:");
    TYPE_OK("ABCxyz0189_-:");
    TYPE_OK("-.:._");
    TYPE_OK("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z");
}

static void test_event_type_empty(void **state) {
    (void)state;
    TYPE_BAD("", 0, "event type is empty");
    /* Length governs, not NUL termination. */
    expectBad(swEventTypeCheck, "task", 0, MAXLEN, 0, "event type is empty");
}

static void test_event_type_length_limit(void **state) {
    (void)state;
    char buf[MAXLEN + 2];
    memset(buf, 'a', sizeof(buf));
    for (size_t i = 1; i < sizeof(buf); i += 2) buf[i] = '.';
    buf[MAXLEN - 1] = 'z'; /* exactly MAXLEN bytes must not end in a dot */
    expectOk(swEventTypeCheck, buf, MAXLEN, MAXLEN);
    memset(buf, 'a', sizeof(buf));
    expectOk(swEventTypeCheck, buf, MAXLEN, MAXLEN);
    expectBad(swEventTypeCheck, buf, MAXLEN + 1, MAXLEN, MAXLEN,
              "event type is longer than 256 bytes");
    expectBad(swEventTypeCheck, buf, MAXLEN + 2, MAXLEN, MAXLEN,
              "event type is longer than 256 bytes");
    /* maxlen is the configured value, not a constant. */
    expectOk(swEventTypeCheck, "abcd", 4, 4);
    expectBad(swEventTypeCheck, "abcde", 5, 4, 4, "event type is longer than 4 bytes");
    expectBad(swEventTypeCheck, "a", 1, 0, 0, "event type is longer than 0 bytes");
    /* The length check comes first, whatever the bytes. */
    expectBad(swEventTypeCheck, "a..b.", 5, 3, 3, "event type is longer than 3 bytes");
}

static void test_event_type_empty_tokens(void **state) {
    (void)state;
    TYPE_BAD(".task", 0, "event type has an empty token at byte 0");
    TYPE_BAD(".", 0, "event type has an empty token at byte 0");
    /* A trailing dot leaves an empty last token that starts at the end of the input. */
    TYPE_BAD("task.", 5, "event type has an empty token at byte 5");
    TYPE_BAD("task..done", 5, "event type has an empty token at byte 5");
    TYPE_BAD("a.b..", 4, "event type has an empty token at byte 4");
    TYPE_BAD("..", 0, "event type has an empty token at byte 0");
}

static void test_event_type_invalid_bytes(void **state) {
    (void)state;
    TYPE_BAD("task done", 4, "event type has invalid byte 0x20 at byte 4" ALLOWED);
    TYPE_BAD(" task", 0, "event type has invalid byte 0x20 at byte 0" ALLOWED);
    TYPE_BAD("task.done ", 9, "event type has invalid byte 0x20 at byte 9" ALLOWED);
    /* UTF-8 is not admitted: the first byte of the sequence is named. */
    TYPE_BAD("caf\xc3\xa9", 3, "event type has invalid byte 0xc3 at byte 3" ALLOWED);
    TYPE_BAD("a.\xff", 2, "event type has invalid byte 0xff at byte 2" ALLOWED);
    /* A NUL byte inside the length is a byte like any other. */
    TYPE_BAD("ab\0cd", 2, "event type has invalid byte 0x00 at byte 2" ALLOWED);
    TYPE_BAD("a.\0", 2, "event type has invalid byte 0x00 at byte 2" ALLOWED);
    TYPE_BAD("a/b", 1, "event type has invalid byte 0x2f at byte 1" ALLOWED);
    TYPE_BAD("a\tb", 1, "event type has invalid byte 0x09 at byte 1" ALLOWED);
    TYPE_BAD("a.b\n", 3, "event type has invalid byte 0x0a at byte 3" ALLOWED);
    TYPE_BAD("a?", 1, "event type has invalid byte 0x3f at byte 1" ALLOWED);
    /* The first offending byte wins. */
    TYPE_BAD("ok.a b c", 4, "event type has invalid byte 0x20 at byte 4" ALLOWED);
    TYPE_BAD("a b..", 1, "event type has invalid byte 0x20 at byte 1" ALLOWED);
}

static void test_event_type_wildcards(void **state) {
    (void)state;
    TYPE_BAD("*", 0, "event type may not contain wildcard '*' (byte 0)");
    TYPE_BAD(">", 0, "event type may not contain wildcard '>' (byte 0)");
    TYPE_BAD("task.*", 5, "event type may not contain wildcard '*' (byte 5)");
    TYPE_BAD("task.>", 5, "event type may not contain wildcard '>' (byte 5)");
    TYPE_BAD("*.task", 0, "event type may not contain wildcard '*' (byte 0)");
    TYPE_BAD("a.>.b", 2, "event type may not contain wildcard '>' (byte 2)");
    TYPE_BAD("ta*sk", 2, "event type has wildcard '*' inside a token (byte 2)");
    TYPE_BAD("task.do>", 7, "event type has wildcard '>' inside a token (byte 7)");
    TYPE_BAD("**", 0, "event type has wildcard '*' inside a token (byte 0)");
}

static void test_event_type_every_byte(void **state) {
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        int allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == ':';
        assert_int_equal(swEventTokenChar((unsigned char)c) != 0, allowed);
        char s[3] = {'x', (char)c, 'y'};
        swError err;
        swStatus st = swEventTypeCheck(s, 3, MAXLEN, &err);
        if (allowed || c == '.') { /* "x.y" is two tokens */
            assert_int_equal(st, SW_OK);
            continue;
        }
        assert_int_equal(st, SW_ERR_EVENTTYPE);
        assert_int_equal(err.offset, 1);
        char msg[SW_ERRMSG_MAX];
        if (c == '*' || c == '>') {
            snprintf(msg, sizeof(msg), "event type has wildcard '%c' inside a token (byte 1)",
                     (char)c);
        } else {
            snprintf(msg, sizeof(msg), "event type has invalid byte 0x%02x at byte 1" ALLOWED, c);
        }
        assert_string_equal(err.msg, msg);
    }
}

/* ---- Subject patterns ---- */

static void test_pattern_valid(void **state) {
    (void)state;
    PAT_OK("*");
    PAT_OK(">");
    PAT_OK("task.*");
    PAT_OK("task.>");
    PAT_OK("*.*.>");
    PAT_OK("*.task");
    PAT_OK("a.*.b");
    PAT_OK("*.>");
    PAT_OK("task.completed");
    PAT_OK("agent.coder-1.heartbeat");
    PAT_OK("a:b_c-d.*.>");
}

static void test_pattern_bad_forms(void **state) {
    (void)state;
    PAT_BAD("", 0, "pattern is empty");
    PAT_BAD(".task", 0, "pattern has an empty token at byte 0");
    PAT_BAD("task.", 5, "pattern has an empty token at byte 5");
    PAT_BAD("task..*", 5, "pattern has an empty token at byte 5");
    PAT_BAD("*..>", 2, "pattern has an empty token at byte 2");
    PAT_BAD(">.", 0, "pattern has '>' before its last token (byte 0)");
    PAT_BAD("task.>.done", 5, "pattern has '>' before its last token (byte 5)");
    PAT_BAD(">.>", 0, "pattern has '>' before its last token (byte 0)");
    PAT_BAD("ta*sk", 2,
            "pattern has wildcard '*' inside a token (byte 2); a wildcard must be a whole token");
    PAT_BAD("task*", 4,
            "pattern has wildcard '*' inside a token (byte 4); a wildcard must be a whole token");
    PAT_BAD("a.>b", 2,
            "pattern has wildcard '>' inside a token (byte 2); a wildcard must be a whole token");
    PAT_BAD("a.b>", 3,
            "pattern has wildcard '>' inside a token (byte 3); a wildcard must be a whole token");
    PAT_BAD("**", 0,
            "pattern has wildcard '*' inside a token (byte 0); a wildcard must be a whole token");
    PAT_BAD(">>", 0,
            "pattern has wildcard '>' inside a token (byte 0); a wildcard must be a whole token");
    PAT_BAD("task.* ", 5,
            "pattern has wildcard '*' inside a token (byte 5); a wildcard must be a whole token");
    PAT_BAD("task.x ", 6, "pattern has invalid byte 0x20 at byte 6" ALLOWED);
    PAT_BAD("a b", 1, "pattern has invalid byte 0x20 at byte 1" ALLOWED);
    PAT_BAD("a.\xc3\xa9", 2, "pattern has invalid byte 0xc3 at byte 2" ALLOWED);
    PAT_BAD("a\0.*", 1, "pattern has invalid byte 0x00 at byte 1" ALLOWED);
    PAT_BAD("*\0", 0,
            "pattern has wildcard '*' inside a token (byte 0); a wildcard must be a whole token");
    expectBad(swPatternCheck, "a.b.>", 5, 4, 4, "pattern is longer than 4 bytes");
    expectOk(swPatternCheck, "a.b.>", 5, 5);
}

static void test_checks_never_allocate(void **state) {
    (void)state;
    unitAllocFailAfter(0);
    TYPE_OK("task.completed");
    PAT_OK("task.*.>");
    TYPE_BAD("task..x", 5, "event type has an empty token at byte 5");
    assert_int_equal(unitAllocCount(), 0);
    unitAllocFailAfter(-1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_type_valid),
        cmocka_unit_test(test_event_type_empty),
        cmocka_unit_test(test_event_type_length_limit),
        cmocka_unit_test(test_event_type_empty_tokens),
        cmocka_unit_test(test_event_type_invalid_bytes),
        cmocka_unit_test(test_event_type_wildcards),
        cmocka_unit_test(test_event_type_every_byte),
        cmocka_unit_test(test_pattern_valid),
        cmocka_unit_test(test_pattern_bad_forms),
        cmocka_unit_test(test_checks_never_allocate),
    };
    return cmocka_run_group_tests_name("event", tests, unitAllocSetup, unitAllocTeardown);
}
