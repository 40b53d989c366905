/* test_snapshot_members.c -- snapshot documents refuse repeated member names: SAVE, PATCH
 * and EDIT values, PATCH and EDIT results and RESTORE answer PAYLOAD naming the member and
 * its byte offset and write nothing; what replicas and the AOF carry (SWARM.APPLY) is
 * applied as it is, so data stored before the rule still loads and can be repaired.
 *
 * One server for the group, loaded with debug-internal-commands so tests may send
 * SWARM.APPLY as a master would. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const internalOpen[] = {"debug-internal-commands", "yes", NULL};

static itServer srv;
static redisContext *c;

static redisReply *snap(const char *sub, const char *key, const char *arg) {
    const char *argv[] = {"SWARM.SNAPSHOT", sub, key, arg};
    size_t lens[] = {14, strlen(sub), strlen(key), strlen(arg)};
    return itCmdArgv(c, 4, argv, lens);
}

/* The error reply's whole text must be want; frees the reply. */
static void expectErrorText(redisReply *r, const char *want) {
    if (r->type != REDIS_REPLY_ERROR || strcmp(r->str, want) != 0)
        fail_msg("expected error '%s', got type %d '%s'", want, r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

static long long headOf(const char *key) {
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT INFO %s", key);
    long long head = itField(r, "head")->integer;
    freeReplyObject(r);
    return head;
}

static void test_save_refuses_repeated_names(void **state) {
    (void)state;
    expectErrorText(snap("SAVE", "m:s", "{\"a\":1,\"a\":2}"),
                    "PAYLOAD duplicate member 'a' at byte 7");
    expectErrorText(snap("SAVE", "m:s", "{\"list\":[{\"id\":1,\"\\u0069d\":2}]}"),
                    "PAYLOAD duplicate member '\\u0069d' at byte 17");
    itExpectInt(itCmd(c, "EXISTS m:s"), 0);
    /* Equal names in different objects are fine. */
    itExpectInt(snap("SAVE", "m:s", "{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}"), 1);
    expectErrorText(snap("SAVE", "m:s", "{\"x\":{\"k\":1,\"k\":1}}"),
                    "PAYLOAD duplicate member 'k' at byte 12");
    assert_int_equal(headOf("m:s"), 1);
    itExpectInt(itCmd(c, "DEL m:s"), 1);
}

static void test_patch_and_edit_values(void **state) {
    (void)state;
    itExpectInt(snap("SAVE", "m:p", "{\"a\":1}"), 1);
    expectErrorText(snap("PATCH", "m:p", "{\"b\":{\"x\":1,\"x\":2}}"),
                    "PAYLOAD duplicate member 'x' at byte 12");
    expectErrorText(
        snap("EDIT", "m:p", "[{\"op\":\"add\",\"path\":\"/c\",\"value\":{\"y\":1,\"y\":2}}]"),
        "PAYLOAD duplicate member 'y' at byte 40");
    assert_int_equal(headOf("m:p"), 1);
    /* A name spelt another way replaces the member instead of repeating it. */
    itExpectInt(snap("PATCH", "m:p", "{\"\\u0061\":2}"), 2);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:p"), "{\"a\":2}");
    itExpectInt(itCmd(c, "DEL m:p"), 1);
}

/* EDIT of a head that passed the check does not check its result again: none of its ops can
 * add a repeat. add, copy and move onto a name the head already holds, written with escapes,
 * replace that member; a value that repeats a name is refused in the ops. */
static void test_edit_of_a_checked_head_adds_no_repeat(void **state) {
    (void)state;
    itExpectInt(snap("SAVE", "m:e", "{\"\\u0061\":1,\"b\":{\"c\":1}}"), 1);
    redisReply *r = snap("EDIT", "m:e", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:e"), "{\"\\u0061\":2,\"b\":{\"c\":1}}");
    r = snap("EDIT", "m:e",
             "[{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/a\"},"
             "{\"op\":\"move\",\"from\":\"/b/c\",\"path\":\"/a/c\"}]");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:e"), "{\"\\u0061\":{\"c\":1},\"b\":{}}");
    expectErrorText(
        snap("EDIT", "m:e", "[{\"op\":\"add\",\"path\":\"/d\",\"value\":{\"x\":1,\"x\":2}}]"),
        "PAYLOAD duplicate member 'x' at byte 40");
    assert_int_equal(headOf("m:e"), 3);
    itExpectInt(itCmd(c, "DEL m:e"), 1);
}

/* Histories that hold repeats (stored before they were refused, here through the replicated
 * effect, which is applied as it is) still load and read; a write whose result still repeats
 * a name is refused, one that removes the repeat is taken. */
static void test_old_repeats_are_read_and_repaired(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "SWARM.APPLY m:o SNAPSHOT 1 1700000000000 10 %s 0", "{\"a\":1,\"a\":2}"));
    itExpectOk(itCmd(c, "SWARM.APPLY m:o SNAPSHOT 2 1700000000001 10 %s 0", "{\"b\":1}"));
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:o VERSION 1"), "{\"a\":1,\"a\":2}");
    expectErrorText(itCmd(c, "SWARM.SNAPSHOT RESTORE m:o 1"),
                    "PAYLOAD duplicate member 'a' at byte 7 of the restored document");
    assert_int_equal(headOf("m:o"), 2);
    itExpectOk(
        itCmd(c, "SWARM.APPLY m:o SNAPSHOT 3 1700000000002 10 %s 0", "{\"a\":1,\"b\":0,\"a\":2}"));
    expectErrorText(snap("PATCH", "m:o", "{\"b\":1}"),
                    "PAYLOAD duplicate member 'a' at byte 13 of the patched document");
    expectErrorText(snap("EDIT", "m:o", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]"),
                    "PAYLOAD duplicate member 'a' at byte 13 of the edited document");
    assert_int_equal(headOf("m:o"), 3);
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:o"), "{\"a\":1,\"b\":0,\"a\":2}");
    /* Merge patch null removes the member, both occurrences. */
    itExpectInt(snap("PATCH", "m:o", "{\"a\":null}"), 4);
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET m:o"), "{\"b\":0}");
    itExpectInt(itCmd(c, "DEL m:o"), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_refuses_repeated_names),
        cmocka_unit_test(test_patch_and_edit_values),
        cmocka_unit_test(test_old_repeats_are_read_and_repaired),
        cmocka_unit_test(test_edit_of_a_checked_head_adds_no_repeat),
    };
    itFixture(&srv, &c, internalOpen, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
}
