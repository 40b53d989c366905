/* test_envelope.c -- unit tests of a message's envelope and stream entry fields and of the
 * SENDER/MSGID check (module/core/envelope.c). */
#include "unit_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/envelope.h"
#include "swarm/utf8.h"

static swMessage message(const char *key, const char *sender) {
    swMessage m = {0};
    m.key = key;
    m.klen = strlen(key);
    m.type = "task.done";
    m.tlen = 9;
    m.payload = "{\"a\":[1,2]}";
    m.plen = strlen(m.payload);
    m.sender = sender;
    m.slen = sender ? strlen(sender) : 0;
    m.priority = 7;
    m.ts = 1700000000123;
    swMessageSetId(&m, 1700000000123, 42);
    return m;
}

/* Writes m's envelope into a buffer of exactly swEnvelopeBound bytes (so an overrun is
 * caught by the sanitizers) and returns it NUL-terminated; free it. */
static char *envelope(const swMessage *m) {
    size_t bound = swEnvelopeBound(m);
    char *buf = malloc(bound + 1);
    assert_non_null(buf);
    size_t n = swEnvelopeWrite(m, buf);
    assert_true(n <= bound);
    buf[n] = '\0';
    return buf;
}

static void test_message_id(void **state) {
    (void)state;
    swMessage m = {0};
    swMessageSetId(&m, 0, 0);
    assert_string_equal(m.id, "0-0");
    assert_int_equal(m.idlen, 3);
    swMessageSetId(&m, INT64_MAX, UINT64_MAX);
    assert_string_equal(m.id, "9223372036854775807-18446744073709551615");
    assert_int_equal(m.idlen, strlen(m.id));
}

static void test_put_u64(void **state) {
    (void)state;
    static const uint64_t vals[] = {0,
                                    1,
                                    9,
                                    10,
                                    99,
                                    100,
                                    101,
                                    999,
                                    1000,
                                    65535,
                                    1700000000123ULL,
                                    9999999999999999999ULL,
                                    UINT64_MAX};
    char want[32], got[32];
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        for (int d = -1; d <= 1; d++) {
            uint64_t v = vals[i] + (uint64_t)d;
            snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
            *swPutU64(got, v) = '\0';
            assert_string_equal(got, want);
        }
    }
}

/* ts is written from the id's digits when they agree, and on its own when the table's clock
 * ran ahead of the message's time. */
static void test_ts_when_the_clock_ran_ahead(void **state) {
    (void)state;
    swMessage m = message("k", NULL);
    swMessageSetId(&m, 1700000009999, 0);
    char *e = envelope(&m);
    assert_non_null(strstr(e, "{\"id\":\"1700000009999-0\","));
    assert_non_null(strstr(e, ",\"ts\":1700000000123,"));
    free(e);
    char ts[24];
    *swMessagePutTs(&m, ts) = '\0';
    assert_string_equal(ts, "1700000000123");
    m.ts = 0;
    swMessageSetId(&m, 0, 5);
    *swMessagePutTs(&m, ts) = '\0';
    assert_string_equal(ts, "0");
}

static void test_envelope_key_order(void **state) {
    (void)state;
    swMessage m = message("swarm:ops", NULL);
    char *e = envelope(&m);
    assert_string_equal(e, "{\"id\":\"1700000000123-42\",\"swarm\":\"swarm:ops\",\"type\":"
                           "\"task.done\",\"priority\":7,\"ts\":1700000000123,\"payload\":"
                           "{\"a\":[1,2]}}");
    free(e);
    m = message("k", "agent-1");
    m.msgid = "m-1";
    m.mlen = 3;
    m.replyTo = "channel:inbox";
    m.rlen = 13;
    e = envelope(&m);
    assert_string_equal(e, "{\"id\":\"1700000000123-42\",\"swarm\":\"k\",\"type\":\"task.done\","
                           "\"priority\":7,\"ts\":1700000000123,\"sender\":\"agent-1\",\"msgid\":"
                           "\"m-1\",\"reply_to\":\"channel:inbox\",\"payload\":{\"a\":[1,2]}}");
    free(e);
}

/* Quotes, backslashes and control bytes are escaped; well-formed UTF-8 is kept; a byte that
 * does not start well-formed UTF-8 (keys are binary) becomes U+FFFD. */
static void test_envelope_escapes(void **state) {
    (void)state;
    swMessage m = message("a\"b\\c\x01\xff\xc3\xa9", "s\"\xe2\x82\xac");
    char *e = envelope(&m);
    assert_non_null(strstr(e, "\"swarm\":\"a\\\"b\\\\c\\u0001\\ufffd\xc3\xa9\","));
    assert_non_null(strstr(e, "\"sender\":\"s\\\"\xe2\x82\xac\","));
    free(e);
}

/* The bound holds for the worst input: every byte of every escaped field a control byte. */
static void test_envelope_bound_worst_case(void **state) {
    (void)state;
    char worst[300];
    memset(worst, 0x01, sizeof(worst));
    swMessage m = message("", NULL);
    m.key = m.sender = m.msgid = m.replyTo = worst;
    m.klen = m.slen = m.mlen = m.rlen = sizeof(worst);
    m.ts = INT64_MAX;
    swMessageSetId(&m, INT64_MAX, UINT64_MAX);
    char *e = envelope(&m);
    /* envelope() checked the bound; it is also tight (only the fixed text is rounded up). */
    assert_true(swEnvelopeBound(&m) - strlen(e) <= 16);
    free(e);
}

static void test_entry_fields(void **state) {
    (void)state;
    swField f[SW_FIELD_COUNT];
    swMessage m = message("k", NULL);
    size_t n = swEntryFields(&m, f);
    const char *want[] = {"id", "swarm", "type", "priority", "ts", "payload"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) assert_string_equal(swFieldName(f[i]), want[i]);
    m = message("k", "s");
    m.msgid = "m";
    m.mlen = 1;
    m.replyTo = "stream:r";
    m.rlen = 8;
    n = swEntryFields(&m, f);
    assert_int_equal(n, 9);
    assert_string_equal(swFieldName(f[6]), "sender");
    assert_string_equal(swFieldName(f[7]), "msgid");
    assert_string_equal(swFieldName(f[8]), "reply_to");
    m.sender = NULL;
    n = swEntryFields(&m, f);
    assert_int_equal(n, 8);
    assert_string_equal(swFieldName(f[6]), "msgid");
    assert_string_equal(swFieldName(SW_FIELD_COUNT), "");
}

static void test_label_check(void **state) {
    (void)state;
    swError err;
    assert_int_equal(swMessageCheckLabel("SENDER", "agent-1", 7, &err), SW_OK);
    char big[SW_MESSAGE_LABEL_MAX + 1];
    memset(big, 'a', sizeof(big));
    assert_int_equal(swMessageCheckLabel("SENDER", big, SW_MESSAGE_LABEL_MAX, &err), SW_OK);
    assert_int_equal(swMessageCheckLabel("MSGID", big, sizeof(big), &err), SW_ERR_RANGE);
    assert_string_equal(err.msg, "MSGID must be 1 to 128 bytes");
    assert_int_equal(swMessageCheckLabel("SENDER", "", 0, &err), SW_ERR_RANGE);
    assert_string_equal(err.msg, "SENDER must be 1 to 128 bytes");
    assert_int_equal(swMessageCheckLabel("SENDER", "ab\ncd", 5, &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "SENDER has a control character at byte 2");
    assert_int_equal(err.offset, 2);
    assert_int_equal(swMessageCheckLabel("SENDER", "a\x7f", 2, &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "SENDER has a control character at byte 1");
    assert_int_equal(swMessageCheckLabel("SENDER", "ok\xff", 3, &err), SW_ERR_SYNTAX);
    assert_string_equal(err.msg, "SENDER is not valid UTF-8 at byte 2");
    assert_int_equal(swMessageCheckLabel("SENDER", "\xc3\xa9t\xc3\xa9", 5, &err), SW_OK);
    assert_int_equal(swMessageCheckLabel("SENDER", "x", 1, NULL), SW_OK);
}

/* ---- Eight bytes at a time, against byte by byte ---- */

/* The escaping and the check a byte at a time, as the contract in envelope.h says. */
static size_t refEscape(char *p, const char *s, size_t len) {
    char *start = p;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c >= 0x80 ? swUtf8SeqLen(s, len, i) : 1;
        if (n > 1) {
            memcpy(p, s + i, n);
            p += n;
            i += n;
            continue;
        }
        if (c >= 0x80)
            p += sprintf(p, "\\ufffd");
        else if (c < 0x20)
            p += sprintf(p, "\\u%04x", c);
        else if (c == '"' || c == '\\')
            p += sprintf(p, "\\%c", c);
        else
            *p++ = (char)c;
        i++;
    }
    *p = '\0';
    return (size_t)(p - start);
}

static swStatus refCheck(const char *s, size_t len, size_t *at) {
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f) {
            *at = k;
            return SW_ERR_SYNTAX;
        }
    }
    return swUtf8Valid(s, len, at) ? SW_OK : SW_ERR_SYNTAX;
}

/* Every byte value at every position of labels 1 to 40 bytes long (one or two special bytes
 * among plain ones, and a UTF-8 sequence), escaped and checked as byte by byte would. */
static void test_words_agree_with_bytes(void **state) {
    (void)state;
    static const char *const fill[] = {
        "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
    char s[41], want[41 * 6 + 1], seg[41 * 6 + 32];
    for (size_t f = 0; f < 2; f++) {
        for (size_t len = 1; len <= 40; len++) {
            for (size_t at = 0; at < len; at++) {
                for (int b = 0; b < 256; b++) {
                    memcpy(s, fill[f], len);
                    s[len] = '\0';
                    s[at] = (char)b;
                    if (b == 0) s[len] = 'x'; /* keep the NUL: lengths are explicit */
                    size_t rat = 0, gat = 0;
                    swError err;
                    swStatus want1 = refCheck(s, len, &rat);
                    swStatus got1 = swMessageCheckLabel("MSGID", s, len, &err);
                    gat = err.offset;
                    assert_int_equal(got1, want1);
                    if (got1 != SW_OK) assert_int_equal(gat, rat);
                    swMessage m = message("k", NULL);
                    m.msgid = s;
                    m.mlen = len;
                    size_t wn = refEscape(want, s, len);
                    char *e = envelope(&m);
                    int n = snprintf(seg, sizeof(seg), ",\"msgid\":\"%.*s\",", (int)wn, want);
                    if (strstr(e, seg) == NULL)
                        fail_msg("fill %zu len %zu at %zu byte %d: %s", f, len, at, b, e);
                    (void)n;
                    free(e);
                }
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_put_u64),
        cmocka_unit_test(test_ts_when_the_clock_ran_ahead),
        cmocka_unit_test(test_envelope_key_order),
        cmocka_unit_test(test_envelope_escapes),
        cmocka_unit_test(test_envelope_bound_worst_case),
        cmocka_unit_test(test_entry_fields),
        cmocka_unit_test(test_label_check),
        cmocka_unit_test(test_words_agree_with_bytes),
    };
    return cmocka_run_group_tests_name("envelope", tests, unitAllocSetup, unitAllocTeardown);
}
