/* test_buf.c -- unit tests of the byte buffer and reader (module/core/buf.c).
 *
 * The serialized forms are little-endian whatever the host: the tests pin exact bytes. */
#include "unit_alloc.h"

#include <stdio.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"

/* ---- Writer ---- */

static void test_buf_exact_bytes(void **state) {
    (void)state;
    swBuf b = {0};
    swBufPutU8(&b, 0xab);
    swBufPutU32(&b, 0x01020304u);
    swBufPutU64(&b, 0x1122334455667788ull);
    swBufPutStr(&b, "hi", 2);
    swBufPutStr(&b, NULL, 0);
    swBufAppend(&b, "xyz", 3);
    swBufAppend(&b, NULL, 0);
    static const unsigned char want[] = {0xab, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55,
                                         0x44, 0x33, 0x22, 0x11, 0x02, 0x00, 0x00, 0x00, 'h',
                                         'i',  0x00, 0x00, 0x00, 0x00, 'x',  'y',  'z'};
    assert_false(swBufFailed(&b));
    assert_int_equal(b.len, sizeof(want));
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.data, want, sizeof(want));
    swBufFree(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.failed, 0);
    swBufFree(&b); /* freeing an empty buffer is harmless */
}

static void test_buf_extremes(void **state) {
    (void)state;
    swBuf b = {0};
    swBufPutU8(&b, 0);
    swBufPutU8(&b, 0xff);
    swBufPutU32(&b, 0);
    swBufPutU32(&b, UINT32_MAX);
    swBufPutU64(&b, 0);
    swBufPutU64(&b, UINT64_MAX);
    swBufPutU64(&b, 0x8000000000000000ull);
    assert_int_equal(b.len, 2 + 8 + 24);

    swReader r;
    swReaderInit(&r, b.data, b.len);
    assert_int_equal(swReadU8(&r), 0);
    assert_int_equal(swReadU8(&r), 0xff);
    assert_int_equal(swReadU32(&r), 0);
    assert_int_equal(swReadU32(&r), UINT32_MAX);
    assert_int_equal(swReadU64(&r), 0);
    assert_int_equal(swReadU64(&r), UINT64_MAX);
    assert_int_equal(swReadU64(&r), 0x8000000000000000ull);
    assert_true(swReaderAtEnd(&r));
    assert_false(swReaderFailed(&r));
    swBufFree(&b);
}

static void test_buf_growth(void **state) {
    (void)state;
    swBuf b = {0};
    char chunk[251];
    for (size_t i = 0; i < sizeof(chunk); i++) chunk[i] = (char)i;
    size_t total = 0;
    for (int k = 0; k < 400; k++) {
        size_t n = (size_t)(k * 37) % sizeof(chunk);
        swBufAppend(&b, chunk, n);
        total += n;
        assert_int_equal(b.len, total);
        assert_true(b.cap >= b.len);
    }
    /* Replay the same sequence to check every byte landed where it belongs. */
    size_t off = 0;
    for (int k = 0; k < 400; k++) {
        size_t n = (size_t)(k * 37) % sizeof(chunk);
        if (n) assert_memory_equal(b.data + off, chunk, n);
        off += n;
    }
    /* One append much larger than the current capacity. */
    static char big[100000];
    memset(big, 'q', sizeof(big));
    swBufAppend(&b, big, sizeof(big));
    assert_int_equal(b.len, total + sizeof(big));
    assert_memory_equal(b.data + total, big, sizeof(big));
    assert_false(swBufFailed(&b));
    swBufFree(&b);
}

/* A writer latches its first allocation failure: later appends change nothing, even ones
 * that would fit or that find memory again. */
static void test_buf_failure_latch(void **state) {
    (void)state;
    swBuf b = {0};
    unitAllocFailAfter(0);
    swBufPutU8(&b, 1);
    unitAllocFailAfter(-1);
    assert_true(swBufFailed(&b));
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    swBufPutU64(&b, 7);
    swBufPutStr(&b, "abc", 3);
    assert_true(swBufFailed(&b));
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    swBufFree(&b);
    assert_false(swBufFailed(&b));

    /* A failed growth keeps the bytes written so far and the old block. */
    char fill[64];
    memset(fill, 'f', sizeof(fill));
    swBufAppend(&b, fill, sizeof(fill));
    assert_false(swBufFailed(&b));
    size_t cap = b.cap;
    unitAllocFailAfter(0);
    swBufAppend(&b, fill, cap - b.len + 1);
    unitAllocFailAfter(-1);
    assert_true(swBufFailed(&b));
    assert_int_equal(b.len, sizeof(fill));
    assert_int_equal(b.cap, cap);
    assert_memory_equal(b.data, fill, sizeof(fill));
    swBufPutU8(&b, 1);
    assert_int_equal(b.len, sizeof(fill));
    swBufFree(&b);
}

static void test_buf_str_too_long(void **state) {
    (void)state;
#if SIZE_MAX > UINT32_MAX
    swBuf b = {0};
    /* The length does not fit the u32 prefix: the writer fails without reading s. */
    swBufPutStr(&b, "x", (size_t)UINT32_MAX + 1);
    assert_true(swBufFailed(&b));
    assert_int_equal(b.len, 0);
    swBufFree(&b);
#else
    skip();
#endif
}

/* ---- Reader ---- */

static void test_reader_round_trip(void **state) {
    (void)state;
    swBuf b = {0};
    for (uint64_t i = 0; i < 100; i++) {
        swBufPutU8(&b, (uint8_t)i);
        swBufPutU32(&b, (uint32_t)(i * 2654435761u));
        swBufPutU64(&b, i * 0x9e3779b97f4a7c15ull);
        char s[32];
        int n = snprintf(s, sizeof(s), "str-%llu", (unsigned long long)i);
        swBufPutStr(&b, s, (size_t)n);
    }
    swBufPutStr(&b, "a\0b", 3); /* strings are byte strings */
    assert_false(swBufFailed(&b));

    swReader r;
    swReaderInit(&r, b.data, b.len);
    for (uint64_t i = 0; i < 100; i++) {
        assert_int_equal(swReadU8(&r), (uint8_t)i);
        assert_int_equal(swReadU32(&r), (uint32_t)(i * 2654435761u));
        assert_int_equal(swReadU64(&r), i * 0x9e3779b97f4a7c15ull);
        char s[32];
        int n = snprintf(s, sizeof(s), "str-%llu", (unsigned long long)i);
        size_t len = 99;
        const char *p = swReadStr(&r, 64, &len);
        assert_non_null(p);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(p, s, len);
        assert_false(swReaderAtEnd(&r));
    }
    size_t len;
    const char *p = swReadStr(&r, 3, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "a\0b", 3);
    /* The pointer is into the buffer, not a copy. */
    assert_true(p > b.data && p + len == b.data + b.len);
    assert_true(swReaderAtEnd(&r));
    assert_false(swReaderFailed(&r));
    swBufFree(&b);
}

static void test_reader_overrun_latch(void **state) {
    (void)state;
    static const char data[] = {1, 2, 3};
    swReader r;
    swReaderInit(&r, data, 3);
    assert_false(swReaderAtEnd(&r));
    assert_int_equal(swReadU32(&r), 0); /* 4 > 3 */
    assert_true(swReaderFailed(&r));
    assert_false(swReaderAtEnd(&r));
    /* Latched: bytes that are there read as zero once the reader failed. */
    assert_int_equal(swReadU8(&r), 0);
    assert_int_equal(swReadU8(&r), 0);
    assert_int_equal(swReadU64(&r), 0);
    size_t len = 99;
    assert_null(swReadStr(&r, 100, &len));
    assert_int_equal(len, 0);
    assert_true(swReaderFailed(&r));

    /* Exactly at the end is not an overrun; one more byte is. */
    swReaderInit(&r, data, 3);
    assert_int_equal(swReadU8(&r), 1);
    assert_int_equal(swReadU8(&r), 2);
    assert_int_equal(swReadU8(&r), 3);
    assert_true(swReaderAtEnd(&r));
    assert_false(swReaderFailed(&r));
    assert_int_equal(swReadU8(&r), 0);
    assert_true(swReaderFailed(&r));
    assert_false(swReaderAtEnd(&r));

    /* A u64 short by one byte. */
    static const char seven[7] = {1, 1, 1, 1, 1, 1, 1};
    swReaderInit(&r, seven, 7);
    assert_int_equal(swReadU64(&r), 0);
    assert_true(swReaderFailed(&r));

    /* An empty reader. */
    swReaderInit(&r, data, 0);
    assert_true(swReaderAtEnd(&r));
    assert_int_equal(swReadU8(&r), 0);
    assert_true(swReaderFailed(&r));

    /* Re-initialising clears the latch. */
    swReaderInit(&r, data, 3);
    assert_false(swReaderFailed(&r));
}

static void test_reader_str_bounds(void **state) {
    (void)state;
    swBuf b = {0};
    swBufPutStr(&b, "abcdef", 6);
    size_t len = 99;
    swReader r;

    swReaderInit(&r, b.data, b.len);
    const char *p = swReadStr(&r, 6, &len); /* exactly max */
    assert_non_null(p);
    assert_int_equal(len, 6);
    assert_true(swReaderAtEnd(&r));

    swReaderInit(&r, b.data, b.len);
    len = 99;
    assert_null(swReadStr(&r, 5, &len)); /* over max */
    assert_int_equal(len, 0);
    assert_true(swReaderFailed(&r));

    swReaderInit(&r, b.data, b.len - 1); /* declared length overruns the buffer */
    len = 99;
    assert_null(swReadStr(&r, 100, &len));
    assert_int_equal(len, 0);
    assert_true(swReaderFailed(&r));

    swReaderInit(&r, b.data, 3); /* not even the length prefix */
    len = 99;
    assert_null(swReadStr(&r, 100, &len));
    assert_int_equal(len, 0);
    assert_true(swReaderFailed(&r));
    swBufFree(&b);

    /* A huge declared length is rejected by max, never trusted. */
    static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    swReaderInit(&r, (const char *)huge, sizeof(huge));
    assert_null(swReadStr(&r, SIZE_MAX, &len));
    assert_true(swReaderFailed(&r));

    /* A zero-length string is a valid, empty string. */
    static const unsigned char zero[] = {0, 0, 0, 0};
    swReaderInit(&r, (const char *)zero, sizeof(zero));
    len = 99;
    p = swReadStr(&r, 0, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_true(swReaderAtEnd(&r));
}

static void test_reader_never_allocates(void **state) {
    (void)state;
    static const char data[] = {5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    unitAllocFailAfter(0);
    swReader r;
    swReaderInit(&r, data, sizeof(data));
    size_t len;
    assert_non_null(swReadStr(&r, 5, &len));
    assert_int_equal(unitAllocCount(), 0);
    unitAllocFailAfter(-1);
}

static void test_buf_reserve_and_take_text(void **state) {
    (void)state;
    swBuf b = {0};
    swBufReserve(&b, 10);
    assert_int_equal(b.cap, 10); /* exact: no slack */
    swBufAppend(&b, "0123456789", 10);
    assert_int_equal(b.cap, 10);
    char *out = NULL;
    size_t outlen = 0;
    assert_int_equal(swBufTakeText(&b, &out, &outlen), SW_OK);
    assert_int_equal(outlen, 10);
    assert_string_equal(out, "0123456789");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    swFree(out);

    /* A failed buffer hands nothing over and is freed. */
    swBufAppend(&b, "abc", 3);
    unitAllocFailAfter(0);
    swBufAppend(&b, NULL, 0);
    swBufReserve(&b, 1000);
    unitAllocFailAfter(-1);
    assert_true(swBufFailed(&b));
    out = (char *)1;
    outlen = 1;
    assert_int_equal(swBufTakeText(&b, &out, &outlen), SW_ERR_NOMEM);
    assert_null(out);
    assert_int_equal(outlen, 0);
    assert_null(b.data);

    /* The terminator itself can be what fails. */
    swBufReserve(&b, 3);
    swBufAppend(&b, "xyz", 3);
    unitAllocFailAfter(0);
    assert_int_equal(swBufTakeText(&b, &out, &outlen), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_null(out);
}

static void test_reader_bytes(void **state) {
    (void)state;
    swReader r;
    swReaderInit(&r, "abcdef", 6);
    const char *p = swReadBytes(&r, 4);
    assert_non_null(p);
    assert_memory_equal(p, "abcd", 4);
    assert_null(swReadBytes(&r, 3));
    assert_true(swReaderFailed(&r));
    assert_null(swReadBytes(&r, 0)); /* latched */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_exact_bytes),
        cmocka_unit_test(test_buf_reserve_and_take_text),
        cmocka_unit_test(test_reader_bytes),
        cmocka_unit_test(test_buf_extremes),
        cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_buf_failure_latch),
        cmocka_unit_test(test_buf_str_too_long),
        cmocka_unit_test(test_reader_round_trip),
        cmocka_unit_test(test_reader_overrun_latch),
        cmocka_unit_test(test_reader_str_bounds),
        cmocka_unit_test(test_reader_never_allocates),
    };
    return cmocka_run_group_tests_name("buf", tests, unitAllocSetup, unitAllocTeardown);
}
