/* test_keyslot.c -- unit tests of the cluster key slot (module/core/keyslot.c): CRC16 of the
 * key, or of its hash tag, modulo 16384, as redis-server computes it. */
#include "unit_alloc.h"

#include <stdio.h>
#include <string.h>

#include "swarm/keyslot.h"

static unsigned slot(const char *key) {
    return swKeySlot(key, strlen(key));
}

static void test_keyslot_known_values(void **state) {
    (void)state;
    /* CRC16/XMODEM("123456789") is 0x31C3 (the check value of the Redis Cluster spec). */
    assert_int_equal(slot("123456789"), 0x31C3 & 16383);
    assert_int_equal(slot("123456789"), 12739);
    /* CLUSTER KEYSLOT answers from redis-server. */
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot("somekey"), 11058);
    assert_int_equal(slot("hello"), 866);
    assert_int_equal(slot("foo{hash_tag}"), 2515);
    assert_int_equal(slot("bar{hash_tag}"), 2515);
    assert_int_equal(slot(""), 0);
    /* A key with NUL bytes hashes all its bytes. */
    assert_int_not_equal(swKeySlot("a\0b", 3), swKeySlot("a", 1));
}

static void test_keyslot_hash_tags(void **state) {
    (void)state;
    unsigned following = slot("{user1000}.following");
    assert_int_equal(following, slot("{user1000}.followers"));
    assert_int_equal(following, slot("user1000"));
    assert_int_equal(following, 3443);
    /* An empty tag does not count: the whole key is hashed. */
    assert_int_equal(slot("foo{}{bar}"), 8363);
    assert_int_not_equal(slot("foo{}{bar}"), slot("bar"));
    assert_int_equal(slot("{}"), 15257);
    /* The tag runs from the first '{' to the first '}' after it. */
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{{bar}}zap"), 4015);
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
    assert_int_equal(slot("a}b{bar}"), slot("bar"));
    /* No closing brace: the whole key. */
    assert_int_equal(slot("foo{bar"), swKeySlot("foo{bar", 7));
    assert_int_not_equal(slot("foo{bar"), slot("bar"));
    /* Hash tags are how a stream target shares its table's slot. */
    assert_int_equal(slot("swarm:{ops}"), slot("swarm:{ops}:inbox"));
    assert_int_equal(slot("swarm:{ops}"), slot("ops"));
    /* The length bounds the key: a tag closed only past it does not count. */
    assert_int_equal(swKeySlot("x{ab}", 4), swKeySlot("x{ab", 4));
    assert_int_equal(swKeySlot("{ab}", 4), slot("ab"));
}

static void test_keyslot_range(void **state) {
    (void)state;
    char key[32];
    unsigned seen[16384 / 32] = {0};
    for (int i = 0; i < 200000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        unsigned s = swKeySlot(key, (size_t)n);
        assert_true(s < 16384);
        seen[s / 32] |= 1u << (s % 32);
    }
    /* 200,000 keys cover every slot. */
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
        assert_int_equal(seen[i], 0xffffffffu);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyslot_known_values),
        cmocka_unit_test(test_keyslot_hash_tags),
        cmocka_unit_test(test_keyslot_range),
    };
    return cmocka_run_group_tests_name("keyslot", tests, NULL, NULL);
}
