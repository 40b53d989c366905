/* test_effect.c -- unit tests of the publish effect record (module/core/effect.c): the
 * encoded form written out by hand, a round trip, targets resolved against a table (route
 * ids and the default target, kinds checked), and every malformed record refused. */
#include "table_helpers.h"

#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/effect.h"
#include "swarm/table.h"

static void putU(unsigned char *b, size_t *n, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) b[(*n)++] = (unsigned char)(v >> (8 * i));
}

static void test_effect_format_is_documented(void **state) {
    (void)state;
    swBuf b = {0};
    swEffectBegin(
        &b,
        &(swEffectHead){
            .idMs = 1700000000123, .idSeq = 4, .ts = 1700000000120, .priority = 8, .hasSender = 1});
    swEffectAdd(&b, &(swEffect){.kind = SW_EFFECT_CHANNEL, .target = 2});
    swEffectAdd(
        &b, &(swEffect){.kind = SW_EFFECT_STREAM, .target = 0, .ms = 77, .seq = 1, .trimTo = 10});
    swEffectAdd(
        &b, &(swEffect){.kind = SW_EFFECT_STREAM, .target = 5, .ms = 78, .seq = 0, .trimTo = -1});
    assert_false(swBufFailed(&b));
    unsigned char want[128];
    size_t n = 0;
    putU(want, &n, 1, 1);
    putU(want, &n, 1700000000123, 8);
    putU(want, &n, 4, 8);
    putU(want, &n, 1700000000120, 8);
    putU(want, &n, 8, 1);
    putU(want, &n, 1, 1);
    assert_int_equal(n, SW_EFFECT_HEAD_BYTES);
    putU(want, &n, 0, 1);
    putU(want, &n, 2, 8);
    putU(want, &n, 1, 1);
    putU(want, &n, 0, 8);
    putU(want, &n, 77, 8);
    putU(want, &n, 1, 8);
    putU(want, &n, 11, 8); /* length + 1 */
    putU(want, &n, 1, 1);
    putU(want, &n, 5, 8);
    putU(want, &n, 78, 8);
    putU(want, &n, 0, 8);
    putU(want, &n, 0, 8); /* not trimmed */
    assertSameBytes(b.data, b.len, (const char *)want, n);

    /* And back. */
    swEffectReader rd;
    swEffectHead h;
    swEffect e;
    assert_int_equal(swEffectOpen(&rd, b.data, b.len, &h, NULL), SW_OK);
    assert_int_equal(h.idMs, 1700000000123);
    assert_int_equal(h.idSeq, 4);
    assert_int_equal(h.ts, 1700000000120);
    assert_int_equal(h.priority, 8);
    assert_int_equal(h.hasSender, 1);
    assert_int_equal(h.hasMsgid, 0);
    assert_int_equal(h.hasReplyTo, 0);
    assert_int_equal(swEffectNext(&rd, &e, NULL), 1);
    assert_int_equal(e.kind, SW_EFFECT_CHANNEL);
    assert_int_equal(e.target, 2);
    assert_int_equal(e.trimTo, -1);
    assert_int_equal(swEffectNext(&rd, &e, NULL), 1);
    assert_int_equal(e.kind, SW_EFFECT_STREAM);
    assert_int_equal(e.target, 0);
    assert_int_equal(e.ms, 77);
    assert_int_equal(e.seq, 1);
    assert_int_equal(e.trimTo, 10);
    assert_int_equal(swEffectNext(&rd, &e, NULL), 1);
    assert_int_equal(e.target, 5);
    assert_int_equal(e.trimTo, -1);
    assert_int_equal(swEffectNext(&rd, &e, NULL), 0);
    swBufFree(&b);
}

/* Expects the record buf[0..len) to be refused with this message, at open or at a delivery. */
static void expectCorruptEffect(const unsigned char *buf, size_t len, const char *msg) {
    char *copy = test_malloc(len ? len : 1); /* exact size: a read past the end is caught */
    if (len) memcpy(copy, buf, len);
    swEffectReader rd;
    swEffectHead h;
    swEffect e;
    swError err;
    swStatus st = swEffectOpen(&rd, copy, len, &h, &err);
    if (st == SW_OK) {
        int r;
        while ((r = swEffectNext(&rd, &e, &err)) == 1) {
        }
        st = (swStatus)r;
    }
    assert_int_equal(st, SW_ERR_CORRUPT);
    assert_string_equal(err.msg, msg);
    test_free(copy);
}

/* The flags byte says which of SENDER, MSGID and REPLYTO the replicated command carries. */
static void test_effect_flags(void **state) {
    (void)state;
    for (int f = 0; f < 8; f++) {
        swBuf b = {0};
        swEffectBegin(&b, &(swEffectHead){.idMs = 1,
                                          .idSeq = 2,
                                          .ts = 3,
                                          .priority = 5,
                                          .hasSender = f & 1,
                                          .hasMsgid = (f >> 1) & 1,
                                          .hasReplyTo = (f >> 2) & 1});
        assert_false(swBufFailed(&b));
        assert_int_equal((unsigned char)b.data[b.len - 1], f);
        swEffectReader rd;
        swEffectHead h;
        assert_int_equal(swEffectOpen(&rd, b.data, b.len, &h, NULL), SW_OK);
        assert_int_equal(h.hasSender, f & 1);
        assert_int_equal(h.hasMsgid, (f >> 1) & 1);
        assert_int_equal(h.hasReplyTo, (f >> 2) & 1);
        swBufFree(&b);
    }
}

static void test_effect_malformed(void **state) {
    (void)state;
    unsigned char b[128];
    size_t n = 0;
    putU(b, &n, 1, 1);
    putU(b, &n, 5, 8);
    putU(b, &n, 0, 8);
    putU(b, &n, 5, 8);
    putU(b, &n, 5, 1);
    putU(b, &n, 0, 1);
    size_t head = n;
    expectCorruptEffect(b, 0, "unknown publish effect format");
    expectCorruptEffect(b, head - 1, "malformed publish effect");
    b[0] = 2;
    expectCorruptEffect(b, head, "unknown publish effect format");
    b[0] = 1;
    b[head - 2] = 0; /* priority 0 */
    expectCorruptEffect(b, head, "malformed publish effect");
    b[head - 2] = 10;
    expectCorruptEffect(b, head, "malformed publish effect");
    b[head - 2] = 5;
    b[head - 1] = 8; /* unknown flag (1, 2 and 4 are SENDER, MSGID and REPLYTO) */
    expectCorruptEffect(b, head, "malformed publish effect");
    b[head - 1] = 0x80;
    expectCorruptEffect(b, head, "malformed publish effect");
    b[head - 1] = 0;
    putU(b, &n, 2, 1); /* unknown kind */
    putU(b, &n, 1, 8);
    expectCorruptEffect(b, n, "malformed publish effect");
    n = head;
    putU(b, &n, 1, 1); /* a stream entry cut short */
    putU(b, &n, 1, 8);
    putU(b, &n, 9, 8);
    expectCorruptEffect(b, n, "malformed publish effect");
    putU(b, &n, 0, 8);
    putU(b, &n, 0, 8);
    b[head + 9] = 0; /* entry id 0-0 */
    expectCorruptEffect(b, n, "malformed publish effect");
    b[head + 9] = 9;
    n -= 8;
    putU(b, &n, UINT64_MAX, 8); /* a trim length beyond INT64_MAX */
    expectCorruptEffect(b, n, "malformed publish effect");
}

static void test_effect_targets(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, "a.*", "channel:ch");   /* 1 */
    SUBJ(t, "a.*", "stream:s:key"); /* 2 */
    const char *name;
    size_t len;
    swError err;
    swEffect e = {.kind = SW_EFFECT_CHANNEL, .target = 1};
    assert_int_equal(swEffectTarget(t, &e, &name, &len, &err), SW_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(name, "ch", 2);
    e = (swEffect){.kind = SW_EFFECT_STREAM, .target = 2};
    assert_int_equal(swEffectTarget(t, &e, &name, &len, &err), SW_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(name, "s:key", 5);
    /* A kind that is not the target's, an unknown route, no default target. */
    e.target = 1;
    assert_int_equal(swEffectTarget(t, &e, &name, &len, &err), SW_ERR_CORRUPT);
    assert_string_equal(err.msg, "publish effect names unknown target 1");
    e.target = 3;
    assert_int_equal(swEffectTarget(t, &e, &name, &len, &err), SW_ERR_CORRUPT);
    e.target = 0;
    assert_int_equal(swEffectTarget(t, &e, &name, &len, &err), SW_ERR_CORRUPT);
    assert_string_equal(err.msg, "publish effect names unknown target 0");
    assert_int_equal(swTableSetDefault(t, "stream:dead", 11, NULL), SW_OK);
    assert_int_equal(swEffectTarget(t, &e, &name, &len, NULL), SW_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(name, "dead", 4);
    swTableFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effect_format_is_documented),
        cmocka_unit_test(test_effect_flags),
        cmocka_unit_test(test_effect_malformed),
        cmocka_unit_test(test_effect_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
