/* test_utf8.c -- unit tests of the UTF-8 well-formedness check (module/core/utf8.c), along
 * the table of RFC 3629 section 4: every boundary of every row, overlong forms, surrogates,
 * code points above U+10FFFF, truncated sequences and stray continuation bytes. */
#include "unit_alloc.h"

#include <string.h>

#include "swarm/utf8.h"

/* swUtf8SeqLen at offset 0 of the literal s (its length is sizeof - 1). */
#define SEQ(s) swUtf8SeqLen((s), sizeof(s) - 1, 0)

static void test_utf8_seqlen_rows(void **state) {
    (void)state;
    assert_int_equal(SEQ("\x00"), 1);
    assert_int_equal(SEQ("A"), 1);
    assert_int_equal(SEQ("\x7f"), 1);
    /* U+0080..U+07FF */
    assert_int_equal(SEQ("\xc2\x80"), 2);
    assert_int_equal(SEQ("\xdf\xbf"), 2);
    /* U+0800..U+FFFF, with the E0 and ED rows narrowed */
    assert_int_equal(SEQ("\xe0\xa0\x80"), 3);
    assert_int_equal(SEQ("\xe1\x80\x80"), 3);
    assert_int_equal(SEQ("\xec\xbf\xbf"), 3);
    assert_int_equal(SEQ("\xed\x9f\xbf"), 3); /* U+D7FF */
    assert_int_equal(SEQ("\xee\x80\x80"), 3); /* U+E000 */
    assert_int_equal(SEQ("\xef\xbf\xbf"), 3);
    /* U+10000..U+10FFFF, with the F0 and F4 rows narrowed */
    assert_int_equal(SEQ("\xf0\x90\x80\x80"), 4);
    assert_int_equal(SEQ("\xf3\xbf\xbf\xbf"), 4);
    assert_int_equal(SEQ("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
}

static void test_utf8_seqlen_ill_formed(void **state) {
    (void)state;
    assert_int_equal(SEQ("\x80"), 0); /* stray continuation */
    assert_int_equal(SEQ("\xbf"), 0);
    assert_int_equal(SEQ("\xc0\x80"), 0);         /* overlong NUL */
    assert_int_equal(SEQ("\xc1\xbf"), 0);         /* overlong */
    assert_int_equal(SEQ("\xe0\x9f\xbf"), 0);     /* overlong 3-byte */
    assert_int_equal(SEQ("\xed\xa0\x80"), 0);     /* U+D800, a surrogate */
    assert_int_equal(SEQ("\xed\xbf\xbf"), 0);     /* U+DFFF */
    assert_int_equal(SEQ("\xf0\x8f\xbf\xbf"), 0); /* overlong 4-byte */
    assert_int_equal(SEQ("\xf4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(SEQ("\xf5\x80\x80\x80"), 0);
    assert_int_equal(SEQ("\xff"), 0);
    assert_int_equal(SEQ("\xc2\x41"), 0);         /* second byte not a continuation */
    assert_int_equal(SEQ("\xe1\x80\x41"), 0);     /* third byte not a continuation */
    assert_int_equal(SEQ("\xf1\x80\x80\xc0"), 0); /* fourth byte not a continuation */
}

/* A sequence cut by the end of the string is ill-formed, and nothing past len is read:
 * each string lives in an exact-size heap block. */
static void test_utf8_seqlen_truncated(void **state) {
    (void)state;
    static const char *const full[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(full[i]);
        for (size_t cut = 1; cut <= n; cut++) {
            char *s = test_malloc(cut);
            memcpy(s, full[i], cut);
            assert_int_equal(swUtf8SeqLen(s, cut, 0), cut == n ? n : 0);
            test_free(s);
        }
    }
    /* At an offset: the bytes before do not matter. */
    assert_int_equal(swUtf8SeqLen("ab\xe2\x82\xac", 5, 2), 3);
    assert_int_equal(swUtf8SeqLen("ab\xe2\x82\xac", 4, 2), 0);
}

static void test_utf8_valid(void **state) {
    (void)state;
    size_t bad = 12345;
    assert_true(swUtf8Valid("", 0, &bad));
    assert_int_equal(bad, 12345); /* untouched on success */
    assert_true(swUtf8Valid("plain ascii", 11, &bad));
    const char mixed[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_true(swUtf8Valid(mixed, sizeof(mixed) - 1, NULL));
    /* NUL bytes are well-formed: lengths, not terminators. */
    assert_true(swUtf8Valid("a\0b", 3, &bad));
}

static void test_utf8_invalid_offsets(void **state) {
    (void)state;
    size_t bad = 0;
    assert_false(swUtf8Valid("\x80", 1, &bad));
    assert_int_equal(bad, 0);
    assert_false(swUtf8Valid("ok\xed\xa0\x80", 5, &bad));
    assert_int_equal(bad, 2);
    /* The offset is where the ill-formed sequence starts, past earlier multi-byte ones. */
    assert_false(swUtf8Valid("\xc3\xa9\xe2\x82\xac\xc0\x80", 7, &bad));
    assert_int_equal(bad, 5);
    /* Cut at the end. */
    assert_false(swUtf8Valid("abc\xf0\x9f\x98", 6, &bad));
    assert_int_equal(bad, 3);
    /* bad may be NULL. */
    assert_false(swUtf8Valid("\xff", 1, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_seqlen_rows),      cmocka_unit_test(test_utf8_seqlen_ill_formed),
        cmocka_unit_test(test_utf8_seqlen_truncated), cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid_offsets),
    };
    return cmocka_run_group_tests_name("utf8", tests, unitAllocSetup, unitAllocTeardown);
}
