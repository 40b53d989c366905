/* test_utf8.c -- unit tests of the UTF-8 checker (module/core/utf8.c): the verdict and the
 * fault of every short sequence against a reference written from RFC 3629 section 4, and
 * the word-at-a-time fast path against the byte-wise checker. */
#include "unit_alloc.h"

#include <string.h>

#include "swarm/utf8.h"

/* RFC 3629's grammar, spelled out by code point: the length of the well-formed sequence at
 * s[0..n), or 0. */
static size_t refSeqLen(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    if (s[0] < 0x80) return 1;
    size_t k;
    unsigned long cp;
    if ((s[0] & 0xE0) == 0xC0) {
        k = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        k = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        k = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const unsigned long minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minimum[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

static void test_utf8_check_matches_reference(void **state) {
    (void)state;
    unsigned char s[4];
    /* Every lead byte with every second byte, and third/fourth bytes from a set that covers
     * each class (ASCII, each continuation range edge, leads, invalid bytes). */
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                          0xBF, 0xC0, 0xC2, 0xE0, 0xF4, 0xF5, 0xFF};
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t t = 0; t < sizeof(tails); t++) {
                for (size_t u = 0; u < sizeof(tails); u++) {
                    s[0] = (unsigned char)a;
                    s[1] = (unsigned char)b;
                    s[2] = tails[t];
                    s[3] = tails[u];
                    for (size_t n = 1; n <= 4; n++) {
                        swUtf8Fault fault = 0;
                        size_t at = 99;
                        size_t got = swUtf8Check((const char *)s, n, 0, &fault, &at);
                        size_t want = refSeqLen(s, n);
                        if (got != want) fail_msg("%02x %02x %02x %02x n=%zu", a, b, s[2], s[3], n);
                        assert_int_equal(swUtf8SeqLen((const char *)s, n, 0), want);
                        if (got) continue;
                        assert_true(at <= n);
                        if (fault == SW_UTF8_END) {
                            assert_int_equal(at, n);
                        } else if (fault == SW_UTF8_TRUNCATED) {
                            /* ASCII or a lead byte where a continuation byte was due */
                            assert_true(at > 0 && at < n);
                            assert_true(s[at] < 0x80 || (s[at] >= 0xC2 && s[at] <= 0xF4));
                        } else {
                            assert_int_equal(fault, SW_UTF8_INVALID);
                            assert_true(at < n);
                        }
                    }
                }
            }
        }
    }
}

static void test_utf8_faults(void **state) {
    (void)state;
    swUtf8Fault fault;
    size_t at;
    assert_int_equal(swUtf8Check("\xC3\xA9", 2, 0, &fault, &at), 2);
    assert_int_equal(swUtf8Check("\xC3", 1, 0, &fault, &at), 0);
    assert_int_equal(fault, SW_UTF8_END);
    assert_int_equal(at, 1);
    assert_int_equal(swUtf8Check("\xE2\x82"
                                 "A",
                                 3, 0, &fault, &at),
                     0);
    assert_int_equal(fault, SW_UTF8_TRUNCATED);
    assert_int_equal(at, 2);
    assert_int_equal(swUtf8Check("\xED\xA0\x80", 3, 0, &fault, &at), 0); /* a surrogate */
    assert_int_equal(fault, SW_UTF8_INVALID);
    assert_int_equal(at, 1);
    assert_int_equal(swUtf8Check("\xC0\x80", 2, 0, &fault, &at), 0); /* overlong NUL */
    assert_int_equal(fault, SW_UTF8_INVALID);
    assert_int_equal(at, 0);
    assert_int_equal(swUtf8Check("x\xF4\x90\x80\x80", 5, 1, &fault, &at), 0); /* > U+10FFFF */
    assert_int_equal(fault, SW_UTF8_INVALID);
    assert_int_equal(at, 2);
}

static void test_utf8_valid_and_fast_path(void **state) {
    (void)state;
    size_t bad = 0;
    /* Long runs of multi-byte sequences go through the fast path. */
    static const char good[] =
        "caf\xC3\xA9 \xE2\x82\xAC\xE2\x82\xAC\xF0\x9F\x98\x80\xF0\x9F\x98\x80"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x82\xAC end";
    assert_true(swUtf8Valid(good, sizeof(good) - 1, &bad));
    const unsigned char *p = (const unsigned char *)good + 3;
    const unsigned char *q = swUtf8SkipMultibyte(p, (const unsigned char *)good + sizeof(good) - 1);
    assert_true(q == p + 2); /* stops at the space */
    /* A bad sequence in the middle of a run is found at its first byte. */
    char mixed[] = "\xE2\x82\xAC\xE2\x82\xAC\xED\xA0\x80\xE2\x82\xAC";
    assert_false(swUtf8Valid(mixed, sizeof(mixed) - 1, &bad));
    assert_int_equal(bad, 6);
    assert_false(swUtf8Valid("ab\xFF", 3, NULL));
    assert_true(swUtf8Valid("", 0, NULL));
    /* The fast path vouches for nothing the byte-wise check rejects: every 4-byte window. */
    unsigned char w[8];
    for (unsigned a = 0xC0; a < 0x100; a++) {
        for (unsigned b = 0x80; b < 0xC0; b++) {
            for (unsigned c = 0x70; c < 0xC8; c += 3) {
                w[0] = (unsigned char)a;
                w[1] = (unsigned char)b;
                w[2] = (unsigned char)c;
                w[3] = 0x80;
                memset(w + 4, 'x', 4);
                const unsigned char *e = swUtf8SkipMultibyte(w, w + 8);
                for (const unsigned char *x = w; x < e;) {
                    size_t n = refSeqLen(x, (size_t)(w + 8 - x));
                    assert_true(n > 0);
                    x += n;
                }
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_check_matches_reference),
        cmocka_unit_test(test_utf8_faults),
        cmocka_unit_test(test_utf8_valid_and_fast_path),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
