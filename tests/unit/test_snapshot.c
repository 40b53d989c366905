/* test_snapshot.c -- unit tests of the snapshot history (snapshot.h). */
#include "unit_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/snapshot.h"
#include "swarm/splice.h"

/* ---- Helpers ---- */

/* The arena's segment size, as snapshot.c is built for this test: its default, or the 64
 * bytes of unit.test_snapshot_seg64, where nearly every stored item straddles segments. */
#ifndef SWARM_SNAP_SEGMENT
#define SWARM_SNAP_SEGMENT 16384
#endif
#define SEGMENT ((size_t)SWARM_SNAP_SEGMENT)

/* Document i: distinct bytes and lengths. */
static void docText(unsigned i, char *buf, size_t cap, size_t *len) {
    int n = snprintf(buf, cap, "{\"v\":%u,\"pad\":\"%.*s\"}", i, (int)(i % 37),
                     "abcdefghijklmnopqrstuvwxyz0123456789!");
    assert_true(n > 0 && (size_t)n < cap);
    *len = (size_t)n;
}

static uint64_t saveDoc(swSnap *s, unsigned i, size_t keep) {
    char buf[128];
    size_t len;
    uint64_t v = 0;
    docText(i, buf, sizeof(buf), &len);
    assert_int_equal(swSnapSave(s, buf, len, 1000 + (int64_t)i, keep, &v, NULL), SW_OK);
    return v;
}

static void assertVersionIsDoc(const swSnapVersion *v, uint64_t number, unsigned i) {
    char buf[128];
    size_t len;
    docText(i, buf, sizeof(buf), &len);
    assert_non_null(v);
    assert_int_equal(v->version, number);
    assert_int_equal(v->ts, 1000 + (int64_t)i);
    assert_int_equal(v->len, len);
    assert_memory_equal(v->text, buf, len);
    assert_int_equal(v->text[len], '\0');
    assert_int_equal(v->checksum, XXH3_64bits(buf, len));
}

/* Every observable property of two histories is the same. */
static void assertSameHistory(const swSnap *a, const swSnap *b) {
    swSnapInfo ia, ib;
    swSnapGetInfo(a, &ia);
    swSnapGetInfo(b, &ib);
    assert_int_equal(ia.head, ib.head);
    assert_int_equal(ia.oldest, ib.oldest);
    assert_int_equal(ia.retained, ib.retained);
    assert_int_equal(ia.keep, ib.keep);
    assert_int_equal(ia.bytes, ib.bytes);
    assert_int_equal(ia.created, ib.created);
    assert_int_equal(ia.updated, ib.updated);
    assert_int_equal(swSnapCount(a), swSnapCount(b));
    for (size_t i = 0; i < swSnapCount(a); i++) {
        const swSnapVersion *va = swSnapAt(a, i), *vb = swSnapAt(b, i);
        assert_int_equal(va->version, vb->version);
        assert_int_equal(va->ts, vb->ts);
        assert_int_equal(va->checksum, vb->checksum);
        assert_int_equal(va->len, vb->len);
        assert_memory_equal(va->text, vb->text, va->len);
        assert_int_equal(vb->text[vb->len], '\0');
        assert_ptr_not_equal(va->text, vb->text);
    }
}

/* A history of versions 1..saves of docText(1..saves), keeping keep. */
static swSnap *history(unsigned saves, size_t keep) {
    swSnap *s = swSnapNew();
    assert_non_null(s);
    for (unsigned i = 1; i <= saves; i++) assert_int_equal(saveDoc(s, i, keep), i);
    return s;
}

static void encode(const swSnap *s, char **buf, size_t *len) {
    assert_int_equal(swSnapEncode(s, buf, len), SW_OK);
    assert_non_null(*buf);
}

/* ---- History ---- */

static void test_new_is_empty(void **state) {
    (void)state;
    swSnap *s = swSnapNew();
    assert_non_null(s);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(info.head, 0);
    assert_int_equal(info.oldest, 0);
    assert_int_equal(info.retained, 0);
    assert_int_equal(info.keep, SW_SNAP_KEEP_DEFAULT);
    assert_int_equal(info.bytes, 0);
    assert_int_equal(info.created, 0);
    assert_int_equal(info.updated, 0);
    assert_null(swSnapHead(s));
    assert_null(swSnapGet(s, 0));
    assert_null(swSnapGet(s, 1));
    assert_null(swSnapAt(s, 0));
    assert_int_equal(swSnapCount(s), 0);
    assert_int_equal(swSnapBytes(s), 0);
    assert_true(swSnapMemUsage(s) > 0);
    swError err;
    const swSnapVersion *v = NULL;
    assert_int_equal(swSnapLookup(s, 1, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 1 does not exist, the head is 0");
    assert_null(v);
    swSnapFree(s);
    swSnapFree(NULL);
}

static void test_save_and_get(void **state) {
    (void)state;
    swSnap *s = history(3, 0);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(info.head, 3);
    assert_int_equal(info.oldest, 1);
    assert_int_equal(info.retained, 3);
    assert_int_equal(info.created, 1001);
    assert_int_equal(info.updated, 1003);
    for (unsigned i = 1; i <= 3; i++) assertVersionIsDoc(swSnapGet(s, i), i, i);
    assertVersionIsDoc(swSnapHead(s), 3, 3);
    assert_null(swSnapGet(s, 0));
    assert_null(swSnapGet(s, 4));
    /* Newest first. */
    assertVersionIsDoc(swSnapAt(s, 0), 3, 3);
    assertVersionIsDoc(swSnapAt(s, 2), 1, 1);
    assert_null(swSnapAt(s, 3));

    size_t bytes = 0;
    for (size_t i = 0; i < swSnapCount(s); i++) bytes += swSnapAt(s, i)->len;
    assert_int_equal(swSnapBytes(s), bytes);
    assert_int_equal(info.bytes, bytes);
    assert_true(swSnapMemUsage(s) >= bytes + 3 * sizeof(swSnapVersion));

    /* The history holds its own copy; empty documents and embedded NULs are bytes too. */
    char text[] = "{\"a\":\"x\"}";
    uint64_t v;
    assert_int_equal(swSnapSave(s, text, sizeof(text) - 1, 5, 0, &v, NULL), SW_OK);
    text[1] = 'X';
    assert_memory_equal(swSnapGet(s, v)->text, "{\"a\":\"x\"}", sizeof(text) - 1);
    assert_int_equal(swSnapSave(s, "", 0, 6, 0, &v, NULL), SW_OK);
    assert_int_equal(swSnapHead(s)->len, 0);
    assert_int_equal(swSnapHead(s)->checksum, XXH3_64bits("", 0));
    assert_int_equal(swSnapSave(s, "a\0b", 3, 7, 0, NULL, NULL), SW_OK);
    assert_memory_equal(swSnapHead(s)->text, "a\0b", 4);
    assert_int_equal(swSnapHead(s)->version, 6);
    swSnapFree(s);
}

static void test_keep_evicts_oldest(void **state) {
    (void)state;
    swSnap *s = history(5, 3);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(info.head, 5);
    assert_int_equal(info.oldest, 3);
    assert_int_equal(info.retained, 3);
    assert_int_equal(info.keep, 3);
    assert_int_equal(info.created, 1001); /* the first save, even though it was evicted */
    assert_null(swSnapGet(s, 1));
    assert_null(swSnapGet(s, 2));
    for (unsigned i = 3; i <= 5; i++) assertVersionIsDoc(swSnapGet(s, i), i, i);

    swError err;
    const swSnapVersion *v;
    assert_int_equal(swSnapLookup(s, 2, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 2 was evicted, the oldest retained is 3");
    assert_int_equal(swSnapLookup(s, 9, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 9 does not exist, the head is 5");
    assert_int_equal(swSnapLookup(s, 0, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 0 does not exist, the head is 5");
    assert_int_equal(swSnapLookup(s, 4, &v, &err), SW_OK);
    assertVersionIsDoc(v, 4, 4);

    /* Numbers are never reused after eviction. */
    assert_int_equal(swSnapSetKeep(s, 1, NULL), SW_OK);
    assert_int_equal(swSnapCount(s), 1);
    assertVersionIsDoc(swSnapHead(s), 5, 5);
    assert_int_equal(saveDoc(s, 6, 0), 6);
    assert_int_equal(swSnapCount(s), 1);
    /* keep 0 on save leaves the limit; a larger one lets the history grow again. */
    assert_int_equal(saveDoc(s, 7, 4), 7);
    assert_int_equal(saveDoc(s, 8, 0), 8);
    assert_int_equal(swSnapCount(s), 3);
    /* A smaller keep on save trims at once. */
    assert_int_equal(saveDoc(s, 9, 2), 9);
    assert_int_equal(swSnapCount(s), 2);
    assertVersionIsDoc(swSnapAt(s, 1), 8, 8);
    size_t bytes = swSnapAt(s, 0)->len + swSnapAt(s, 1)->len;
    assert_int_equal(swSnapBytes(s), bytes);
    swSnapFree(s);
}

static void test_keep_out_of_range(void **state) {
    (void)state;
    swSnap *s = history(2, 0);
    swError err;
    uint64_t v = 77;
    assert_int_equal(swSnapSetKeep(s, 0, &err), SW_ERR_RANGE);
    assert_string_equal(err.msg, "keep must be between 1 and 1000000");
    assert_int_equal(swSnapSetKeep(s, SW_SNAP_KEEP_MAX + 1, &err), SW_ERR_RANGE);
    assert_int_equal(swSnapSave(s, "{}", 2, 1, SW_SNAP_KEEP_MAX + 1, &v, &err), SW_ERR_RANGE);
    assert_int_equal(swSnapRestore(s, 1, 1, SW_SNAP_KEEP_MAX + 1, &v, &err), SW_ERR_RANGE);
    assert_int_equal(v, 77);
    /* Failures changed nothing. */
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(info.head, 2);
    assert_int_equal(info.retained, 2);
    assert_int_equal(info.keep, SW_SNAP_KEEP_DEFAULT);
    assert_int_equal(swSnapSetKeep(s, SW_SNAP_KEEP_MAX, &err), SW_OK);
    swSnapFree(s);
}

static void test_ring_wraps(void **state) {
    (void)state;
    /* Many saves through a small ring, with keep changes in both directions. */
    swSnap *s = swSnapNew();
    size_t keep = 5;
    for (unsigned i = 1; i <= 500; i++) {
        if (i % 97 == 0) keep = keep == 5 ? 40 : 5;
        assert_int_equal(saveDoc(s, i, keep), i);
        size_t count = swSnapCount(s);
        assert_true(count <= keep);
        assertVersionIsDoc(swSnapHead(s), i, i);
        assertVersionIsDoc(swSnapAt(s, count - 1), i - count + 1, i - (unsigned)count + 1);
        assertVersionIsDoc(swSnapGet(s, i - count + 1), i - count + 1, i - (unsigned)count + 1);
        assert_true(swSnapMemUsage(s) > swSnapBytes(s));
    }
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(keep, 40);
    assert_int_equal(info.retained, 5 + 16); /* 5 kept at 484, then 485..500 under keep 40 */
    for (uint64_t v = info.oldest; v <= info.head; v++) {
        assertVersionIsDoc(swSnapGet(s, v), v, (unsigned)v);
    }
    /* Dropping keep far below the ring's size gives the memory back. */
    size_t before = swSnapMemUsage(s);
    assert_int_equal(swSnapSetKeep(s, 1000, NULL), SW_OK);
    for (unsigned i = 501; i <= 700; i++) saveDoc(s, i, 0);
    size_t big = swSnapMemUsage(s);
    assert_true(big > before);
    assert_int_equal(swSnapSetKeep(s, 2, NULL), SW_OK);
    assert_true(swSnapMemUsage(s) < before);
    assertVersionIsDoc(swSnapAt(s, 1), 699, 699);
    swSnapFree(s);
}

static void test_save_from_own_text(void **state) {
    (void)state;
    /* The source of a save may be a version the save evicts. */
    swSnap *s = history(3, 3);
    const swSnapVersion *oldest = swSnapGet(s, 1);
    uint64_t v;
    assert_int_equal(swSnapSave(s, oldest->text, oldest->len, 1001, 1, &v, NULL), SW_OK);
    assert_int_equal(v, 4);
    assert_int_equal(swSnapCount(s), 1);
    assertVersionIsDoc(swSnapHead(s), 4, 1);
    swSnapFree(s);
}

static void test_restore(void **state) {
    (void)state;
    swSnap *s = history(5, 4);
    swError err;
    uint64_t v = 0;
    assert_int_equal(swSnapRestore(s, 3, 1003, 0, &v, NULL), SW_OK);
    assert_int_equal(v, 6);
    assertVersionIsDoc(swSnapHead(s), 6, 3);
    assert_int_equal(swSnapHead(s)->checksum, swSnapGet(s, 3)->checksum);
    /* Restoring the oldest with keep 1 evicts the source itself. */
    assert_int_equal(swSnapRestore(s, 3, 1003, 1, &v, NULL), SW_OK);
    assert_int_equal(v, 7);
    assert_int_equal(swSnapCount(s), 1);
    assertVersionIsDoc(swSnapHead(s), 7, 3);
    assert_int_equal(swSnapRestore(s, 6, 1, 0, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 6 was evicted, the oldest retained is 7");
    assert_int_equal(swSnapRestore(s, 8, 1, 0, &v, &err), SW_ERR_NOVERSION);
    assert_string_equal(err.msg, "version 8 does not exist, the head is 7");
    assert_int_equal(v, 7);
    assert_int_equal(swSnapCount(s), 1);
    swSnapFree(s);
}

static void test_dup(void **state) {
    (void)state;
    swSnap *s = history(20, 6);
    swSnap *d = swSnapDup(s);
    assert_non_null(d);
    assertSameHistory(s, d);
    /* Independent: changing one leaves the other. */
    saveDoc(s, 21, 2);
    swSnapInfo info;
    swSnapGetInfo(d, &info);
    assert_int_equal(info.head, 20);
    assert_int_equal(info.retained, 6);
    assertVersionIsDoc(swSnapGet(d, 15), 15, 15);
    saveDoc(d, 30, 0);
    assertVersionIsDoc(swSnapHead(d), 21, 30);
    swSnapFree(s);
    swSnapFree(d);

    swSnap *e = swSnapNew();
    d = swSnapDup(e);
    assertSameHistory(e, d);
    swSnapFree(e);
    swSnapFree(d);
}

static void test_version_numbers_exhausted(void **state) {
    (void)state;
    /* A history whose head is UINT64_MAX, built through the decoder. */
    swSnap *s = history(1, 1);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    for (int i = 0; i < 8; i++) buf[1 + i] = (char)0xff;
    swSnap *t = NULL;
    assert_int_equal(swSnapDecode(buf, len, &t, NULL), SW_OK);
    assert_int_equal(swSnapHead(t)->version, UINT64_MAX);
    swError err;
    uint64_t v = 5;
    assert_int_equal(swSnapSave(t, "{}", 2, 1, 0, &v, &err), SW_ERR_LIMIT);
    assert_string_equal(err.msg, "version numbers exhausted");
    assert_int_equal(swSnapRestore(t, UINT64_MAX, 1, 0, &v, &err), SW_ERR_LIMIT);
    assert_int_equal(v, 5);
    assert_int_equal(swSnapCount(t), 1);
    swFree(buf);
    swSnapFree(s);
    swSnapFree(t);
}

/* ---- Serialization ---- */

static void test_encode_decode_roundtrip(void **state) {
    (void)state;
    swSnap *s = history(25, 7);
    assert_int_equal(swSnapRestore(s, 20, -5, 0, NULL, NULL), SW_OK); /* negative ts */
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    assert_int_equal((unsigned char)buf[0], SW_SNAP_FORMAT);
    swSnap *d = NULL;
    assert_int_equal(swSnapDecode(buf, len, &d, NULL), SW_OK);
    assertSameHistory(s, d);
    /* The decoded history goes on numbering from the same head. */
    assert_int_equal(saveDoc(d, 99, 0), 27);
    swFree(buf);
    swSnapFree(d);
    swSnapFree(s);

    /* A history with no version never belongs to a key: it encodes, but is not accepted
     * back (regression: SWARM.RESTORE of such a payload created an empty key). */
    swSnap *e = swSnapNew();
    encode(e, &buf, &len);
    assert_int_equal(len, 41);
    swError err;
    d = (swSnap *)1;
    assert_int_equal(swSnapDecode(buf, len, &d, &err), SW_ERR_CORRUPT);
    assert_null(d);
    assert_string_equal(err.msg, "snapshot history holds no version at byte 33");
    swFree(buf);
    swSnapFree(e);
}

static void test_decode_every_truncation(void **state) {
    (void)state;
    swSnap *s = history(6, 4);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    for (size_t n = 0; n < len; n++) {
        /* A heap copy of exactly n bytes, so an overread would be seen by ASan/valgrind. */
        char *cut = malloc(n ? n : 1);
        if (cut == NULL) abort();
        memcpy(cut, buf, n);
        swSnap *d = (swSnap *)1;
        swError err;
        assert_int_equal(swSnapDecode(cut, n, &d, &err), SW_ERR_CORRUPT);
        assert_null(d);
        assert_non_null(strstr(err.msg, "truncated"));
        free(cut);
    }
    /* And one byte too many. */
    char *longer = malloc(len + 1);
    if (longer == NULL) abort();
    memcpy(longer, buf, len);
    longer[len] = 0;
    swSnap *d = NULL;
    swError err;
    assert_int_equal(swSnapDecode(longer, len + 1, &d, &err), SW_ERR_CORRUPT);
    assert_null(d);
    char want[64];
    snprintf(want, sizeof(want), "snapshot history has trailing bytes at byte %zu", len);
    assert_string_equal(err.msg, want);
    free(longer);
    swFree(buf);
    swSnapFree(s);
}

static void put64(char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (char)(v >> (8 * i));
}

static void expectCorrupt(const char *buf, size_t len, const char *msg) {
    swSnap *d = (swSnap *)1;
    swError err;
    assert_int_equal(swSnapDecode(buf, len, &d, &err), SW_ERR_CORRUPT);
    assert_null(d);
    assert_string_equal(err.msg, msg);
}

/* Appends one version record of format 2 at p: ts, checksum of text, len, kind, stored. */
static char *putVersion(char *p, int64_t ts, const char *text, size_t len, int kind,
                        const char *stored, size_t slen) {
    put64(p, (uint64_t)ts);
    put64(p + 8, XXH3_64bits(text, len));
    put64(p + 16, len);
    p[24] = (char)kind;
    put64(p + 25, slen);
    memcpy(p + 33, stored, slen);
    return p + 33 + slen;
}

/* A delta longer than its version (the saves never store one: they store the version
 * whole) still decodes: its version is kept whole, every version reads back, and encoding
 * again writes it whole. Both the delta one byte longer than the version and a longer one. */
static void test_decode_long_delta(void **state) {
    (void)state;
    char buf[256], *p = buf;
    buf[0] = 2;
    put64(buf + 1, 3);  /* head */
    put64(buf + 9, 10); /* keep */
    put64(buf + 17, 5); /* created */
    put64(buf + 25, 7); /* updated */
    put64(buf + 33, 3); /* count */
    p = buf + 41;
    /* version 1 "x" from "abz": gap 0, del 3, insert 1 "x" (4 bytes for 1) */
    p = putVersion(p, 5, "x", 1, 1, "\x00\x03\x01x", 4);
    /* version 2 "abz" from "abcd": gap 2, del 2, insert 1 "z" (4 bytes for 3: len + 1) */
    p = putVersion(p, 6, "abz", 3, 1, "\x02\x02\x01z", 4);
    p = putVersion(p, 7, "abcd", 4, 0, "abcd", 4);
    size_t len = (size_t)(p - buf);
    swSnap *d = NULL;
    swError err;
    assert_int_equal(swSnapDecode(buf, len, &d, &err), SW_OK);
    swSnapStorage st;
    swSnapGetStorage(d, &st);
    assert_int_equal(st.checkpoints, 2);
    assert_int_equal(st.deltas, 0);
    static const char *const want[] = {"", "x", "abz", "abcd"};
    for (uint64_t v = 1; v <= 3; v++) {
        const swSnapVersion *got = swSnapGet(d, v);
        assert_non_null(got);
        assert_int_equal(got->len, strlen(want[v]));
        assert_memory_equal(got->text, want[v], got->len);
        assert_int_equal(got->text[got->len], '\0');
    }
    char *again;
    size_t alen;
    encode(d, &again, &alen);
    assert_int_equal(again[41 + 24], 0); /* version 1: whole now */
    assert_int_equal(again[41 + 33 + 1 + 24], 0);
    swSnap *e = NULL;
    assert_int_equal(swSnapDecode(again, alen, &e, &err), SW_OK);
    for (uint64_t v = 1; v <= 3; v++) {
        assert_memory_equal(swSnapGet(e, v)->text, want[v], strlen(want[v]));
    }
    /* A save on top stores the old head as a delta again and keeps every version. */
    assert_int_equal(swSnapSave(e, "abcde", 5, 8, 0, NULL, NULL), SW_OK);
    for (uint64_t v = 1; v <= 3; v++) {
        assert_memory_equal(swSnapGet(e, v)->text, want[v], strlen(want[v]));
    }
    swFree(again);
    swSnapFree(e);
    swSnapFree(d);
}

static void test_decode_bad_header(void **state) {
    (void)state;
    swSnap *s = history(3, 4);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    char *b = malloc(len);
    if (b == NULL) abort();
    char truncated[64];
    snprintf(truncated, sizeof(truncated), "snapshot history truncated at byte %zu", len);

    memcpy(b, buf, len);
    b[0] = 3;
    expectCorrupt(b, len, "unsupported snapshot format 3 (expected 2)");
    b[0] = 1; /* the pre-release format, every version whole, is not read */
    expectCorrupt(b, len, "unsupported snapshot format 1 (expected 2)");
    b[0] = 0;
    expectCorrupt(b, len, "unsupported snapshot format 0 (expected 2)");

    memcpy(b, buf, len);
    put64(b + 9, 0);
    expectCorrupt(b, len, "snapshot history has a bad keep at byte 9");
    put64(b + 9, SW_SNAP_KEEP_MAX + 1);
    expectCorrupt(b, len, "snapshot history has a bad keep at byte 9");

    memcpy(b, buf, len);
    put64(b + 9, 2); /* keep 2 < count 3 */
    expectCorrupt(b, len, "snapshot history has a bad version count at byte 33");

    memcpy(b, buf, len);
    put64(b + 1, 2); /* head 2 < count 3 */
    expectCorrupt(b, len, "snapshot history has a bad version count at byte 33");

    memcpy(b, buf, len);
    put64(b + 33, 0); /* head 3 but nothing retained */
    expectCorrupt(b, len, "snapshot history holds no version at byte 33");
    put64(b + 1, 0); /* and with head 0, a fresh empty history */
    expectCorrupt(b, len, "snapshot history holds no version at byte 33");

    /* A huge count is refused before anything is allocated for it. */
    memcpy(b, buf, len);
    put64(b + 1, UINT64_MAX);
    put64(b + 9, SW_SNAP_KEEP_MAX);
    put64(b + 33, SW_SNAP_KEEP_MAX);
    unitAllocFailAfter(0);
    expectCorrupt(b, len, truncated);
    assert_int_equal(unitAllocCount(), 0);
    unitAllocFailAfter(-1);

    /* A stored length pointing past the end (after ts, checksum, len and kind). */
    memcpy(b, buf, len);
    put64(b + 41 + 25, UINT64_MAX);
    expectCorrupt(b, len, truncated);
    put64(b + 41 + 25, len);
    expectCorrupt(b, len, truncated);

    free(b);
    swFree(buf);
    swSnapFree(s);
}

/* ---- Deltas and checkpoints ---- */

static uint64_t rng = 0x5eedULL;

static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static size_t below(size_t n) {
    return n ? (size_t)(rnd() % n) : 0;
}

/* A JSON-ish text of n bytes. */
static char *randomDoc(size_t n) {
    static const char *const words[] = {
        "{\"task\":", "\"open\",", "\"owner\":\"a-", "12", "\"done\"", "],", "[", "}"};
    char *t = malloc(n + 1);
    if (t == NULL) abort();
    for (size_t k = 0; k < n;) {
        const char *w = words[below(8)];
        for (size_t i = 0; w[i] && k < n; i++) t[k++] = w[i];
    }
    t[n] = '\0';
    return t;
}

/* A small edit of t[0..*n) in place (cap bytes of room): a replacement, an insertion or a
 * deletion somewhere. */
static void smallEdit(char *t, size_t *n, size_t cap) {
    size_t at = below(*n + 1), del = below(*n - at < 8 ? *n - at + 1 : 8), ins = below(8);
    if (*n - del + ins > cap) ins = 0;
    memmove(t + at + ins, t + at + del, *n - at - del);
    for (size_t i = 0; i < ins; i++) t[at + i] = (char)('a' + below(26));
    *n = *n - del + ins;
    t[*n] = '\0';
}

typedef struct refVersion {
    char *text;
    size_t len;
    int64_t ts;
} refVersion;

/* Every retained version of s is the saved text, byte for byte: read newest first (one delta
 * at a time from a cached neighbour), in random order (through the rope) and as metadata. */
static void assertMatchesReference(const swSnap *s, refVersion *ref) {
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    size_t bytes = 0;
    for (size_t i = 0; i < swSnapCount(s); i++) {
        uint64_t v = info.head - i;
        const swSnapVersion *got = swSnapAt(s, i);
        assert_non_null(got);
        assert_int_equal(got->version, v);
        assert_int_equal(got->len, ref[v].len);
        assert_int_equal(got->ts, ref[v].ts);
        if (ref[v].len) assert_memory_equal(got->text, ref[v].text, ref[v].len);
        assert_int_equal(got->text[got->len], '\0');
        assert_int_equal(got->checksum, XXH3_64bits(ref[v].text, ref[v].len));
        swSnapVersion meta;
        assert_true(swSnapMetaAt(s, i, &meta));
        assert_int_equal(meta.version, v);
        assert_int_equal(meta.checksum, got->checksum);
        bytes += got->len;
    }
    assert_int_equal(swSnapBytes(s), bytes);
    for (int k = 0; k < 4 && info.retained > 0; k++) {
        uint64_t v = info.oldest + below(info.retained);
        const swSnapVersion *got = swSnapGet(s, v);
        assert_non_null(got);
        assert_int_equal(got->len, ref[v].len);
        if (ref[v].len) assert_memory_equal(got->text, ref[v].text, ref[v].len);
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_int_equal(st.deltas + st.checkpoints + 1, info.retained);
}

/* Thousands of random edit sequences with random keep, restores, keep changes, copies and
 * round trips through both formats, some under allocation failures (a failed call changes
 * nothing; the retry succeeds). */
static void test_property_history_exact(void **state) {
    (void)state;
    rng = 0xdecade5ULL;
    long failures = 0;
    size_t maxCheckpoints = 0, maxDeltas = 0;
    for (int seq = 0; seq < 2000; seq++) {
        int saves = 1 + (int)below(60);
        refVersion *ref = calloc((size_t)saves * 2 + 2, sizeof(refVersion));
        if (ref == NULL) abort();
        size_t cap = 4096, n = below(3000);
        char *cur = randomDoc(cap);
        cur[n] = '\0';
        swSnap *s = swSnapNew();
        assert_non_null(s);
        size_t keep = 1 + below(below(4) == 0 ? 3 : 40);
        int faulty = below(4) == 0;
        uint64_t head = 0;
        for (int i = 0; i < saves; i++) {
            int r = (int)below(20);
            if (r == 0) {
                char *fresh = randomDoc(below(3000));
                n = strlen(fresh);
                memcpy(cur, fresh, n + 1);
                free(fresh);
            } else {
                int edits = 1 + (int)below(3);
                for (int e = 0; e < edits; e++) smallEdit(cur, &n, cap - 1);
            }
            int64_t ts = 1000 + i;
            uint64_t v = 0;
            if (r == 1 && head > 0) {
                swSnapInfo info;
                swSnapGetInfo(s, &info);
                uint64_t from = info.oldest + below(info.retained);
                for (int attempt = 0;; attempt++) {
                    if (faulty && attempt == 0) unitAllocFailAfter((long)below(4));
                    swStatus st = swSnapRestore(s, from, ts, 0, &v, NULL);
                    unitAllocFailAfter(-1);
                    if (st == SW_OK) break;
                    assert_int_equal(st, SW_ERR_NOMEM);
                    failures++;
                }
                ref[v].text = malloc(ref[from].len + 1);
                if (ref[v].text == NULL) abort();
                memcpy(ref[v].text, ref[from].text, ref[from].len + 1);
                ref[v].len = ref[from].len;
            } else {
                for (int attempt = 0;; attempt++) {
                    if (faulty && attempt == 0) unitAllocFailAfter((long)below(6));
                    swStatus st = swSnapSave(s, cur, n, ts, keep, &v, NULL);
                    unitAllocFailAfter(-1);
                    if (st == SW_OK) break;
                    assert_int_equal(st, SW_ERR_NOMEM);
                    assert_int_equal(swSnapCount(s) ? swSnapHead(s)->version : 0, head);
                    failures++;
                }
                ref[v].text = malloc(n + 1);
                if (ref[v].text == NULL) abort();
                memcpy(ref[v].text, cur, n + 1);
                ref[v].len = n;
            }
            ref[v].ts = ts;
            head = v;
            if (below(15) == 0) {
                keep = 1 + below(40);
                assert_int_equal(swSnapSetKeep(s, keep, NULL), SW_OK);
            }
            assertMatchesReference(s, ref);
        }
        swSnapStorage st;
        swSnapGetStorage(s, &st);
        if (st.checkpoints > maxCheckpoints) maxCheckpoints = st.checkpoints;
        if (st.deltas > maxDeltas) maxDeltas = st.deltas;
        if (below(3) == 0) {
            char *buf;
            size_t len;
            swSnap *d = NULL;
            encode(s, &buf, &len);
            assert_int_equal(swSnapDecode(buf, len, &d, NULL), SW_OK);
            swFree(buf);
            assertMatchesReference(d, ref);
            swSnapFree(d);
            d = swSnapDup(s);
            assert_non_null(d);
            assertMatchesReference(d, ref);
            swSnapFree(d);
        }
        swSnapFree(s);
        for (int i = 0; i < saves * 2 + 2; i++) free(ref[i].text);
        free(ref);
        free(cur);
    }
    print_message("allocation failures injected: %ld; most checkpoints %zu, most deltas %zu\n",
                  failures, maxCheckpoints, maxDeltas);
    assert_true(failures > 500);
    assert_true(maxCheckpoints > 0 && maxDeltas > 20);
}

/* A rewrite of the whole document is stored whole; small edits as deltas, all of them
 * (300 one-place edits are far from the chain limits, see test_chain_bound). */
static void test_checkpoints(void **state) {
    (void)state;
    rng = 77;
    swSnap *s = swSnapNew();
    size_t n = 2000;
    char *doc = randomDoc(n);
    assert_int_equal(swSnapSave(s, doc, n, 1, 1000, NULL, NULL), SW_OK);
    for (int i = 0; i < 300; i++) {
        memcpy(doc + below(n - 8), "EDIT", 4);
        assert_int_equal(swSnapSave(s, doc, n, 2 + i, 0, NULL, NULL), SW_OK);
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_int_equal(st.checkpoints, 0);
    assert_int_equal(st.chainBytes, st.deltaBytes);
    assert_true(st.chainDeltas > 250 && st.chainDeltas <= 300);
    assert_true(st.chainSplices >= st.chainDeltas);
    assert_int_equal(st.deltas + st.checkpoints, 300);
    assert_true(st.deltas > 250);
    assert_true(st.deltaBytes < 300 * 24);
    char *other = randomDoc(n);
    assert_int_equal(swSnapSave(s, other, n, 999, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapSave(s, other, n, 1000, 0, NULL, NULL), SW_OK);
    swSnapStorage after;
    swSnapGetStorage(s, &after);
    assert_int_equal(after.checkpoints, st.checkpoints + 1); /* doc: unlike other, stored whole */
    /* Two older versions held at once stay valid (what DIFF does). */
    const swSnapVersion *a = swSnapGet(s, 5), *b = swSnapGet(s, 250);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->version, 5);
    assert_int_equal(b->version, 250);
    assert_int_equal(XXH3_64bits(a->text, a->len), a->checksum);
    assert_int_equal(XXH3_64bits(b->text, b->len), b->checksum);
    free(other);
    free(doc);
    swSnapFree(s);
}

/* Every version of s, oldest first (each read rebuilds its whole chain), hashes to sum[v]:
 * the XXH3-64 of the text saved as version v, n bytes long. */
static void assertEveryVersion(const swSnap *s, const uint64_t *sum, size_t n) {
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    for (uint64_t v = info.oldest; v <= info.head; v++) {
        const swSnapVersion *got = swSnapGet(s, v);
        assert_non_null(got);
        assert_int_equal(got->len, n);
        assert_int_equal(XXH3_64bits(got->text, n), sum[v]);
    }
}

/* The chain counters of s equal those a decode recomputes from the stored forms. */
static swSnap *assertCountersSurviveDecode(const swSnap *s) {
    char *buf;
    size_t len;
    swSnap *d = NULL;
    encode(s, &buf, &len);
    assert_int_equal(swSnapDecode(buf, len, &d, NULL), SW_OK);
    swFree(buf);
    swSnapStorage a, b;
    swSnapGetStorage(s, &a);
    swSnapGetStorage(d, &b);
    assert_int_equal(a.chainDeltas, b.chainDeltas);
    assert_int_equal(a.chainSplices, b.chainSplices);
    assert_int_equal(a.chainBytes, b.chainBytes);
    assert_int_equal(a.checkpoints, b.checkpoints);
    return d;
}

/* saves versions of an n-byte document, each changing `spots` places spread over it: a
 * version is stored whole exactly when its delta would take the chain below the head past
 * 1,024 non-empty deltas or past max(32,768, n / 64) splices, and never otherwise (bar a
 * delta longer than the version). Every version reads back exactly (by its hash), after
 * eviction, after an encode and decode, and in a copy. Returns the checkpoints taken. */
static size_t checkChainBound(size_t n, size_t spots, int saves) {
    uint64_t *sum = calloc((size_t)saves + 2, sizeof(uint64_t));
    char *prev = randomDoc(n), *next = malloc(n + 1);
    if (sum == NULL || next == NULL) abort();
    swSnap *s = swSnapNew();
    size_t limit = n / 64 > 32768 ? n / 64 : 32768, taken = 0;
    assert_int_equal(swSnapSave(s, prev, n, 1, (size_t)saves + 1, NULL, NULL), SW_OK);
    sum[1] = XXH3_64bits(prev, n);
    for (int i = 2; i <= saves + 1; i++) {
        memcpy(next, prev, n + 1);
        for (size_t k = 0; k < spots; k++) {
            size_t at = k * (n / spots) + below(n / spots - 4);
            for (int j = 0; j < 4; j++) next[at + j] = (char)('a' + below(26));
        }
        sum[i] = XXH3_64bits(next, n);
        swSnapStorage before, after;
        swSnapGetStorage(s, &before);
        swBuf d = {0};
        swSpliceDiff(next, n, prev, n, &d);
        size_t splices = swSpliceCount(d.data, d.len);
        int whole =
            d.len > n ||
            (d.len > 0 && (before.chainDeltas + 1 > 1024 || before.chainSplices + splices > limit));
        swBufFree(&d);
        assert_int_equal(swSnapSave(s, next, n, i, 0, NULL, NULL), SW_OK);
        swSnapGetStorage(s, &after);
        assert_int_equal(after.checkpoints, before.checkpoints + (size_t)whole);
        assert_true(after.chainDeltas <= 1024);
        assert_true(after.chainSplices <= limit);
        taken += (size_t)whole;
        char *t = prev;
        prev = next;
        next = t;
    }
    assertEveryVersion(s, sum, n);
    swSnap *d = assertCountersSurviveDecode(s);
    assertEveryVersion(d, sum, n);
    swSnapFree(d);
    d = swSnapDup(s);
    assert_non_null(d);
    assertEveryVersion(d, sum, n);
    swSnapFree(d);
    /* Evict the older half: the counters follow, the rest still reads exactly. */
    assert_int_equal(swSnapSetKeep(s, (size_t)saves / 2, NULL), SW_OK);
    d = assertCountersSurviveDecode(s);
    assertEveryVersion(d, sum, n);
    swSnapFree(d);
    assertEveryVersion(s, sum, n);
    swSnapFree(s);
    free(prev);
    free(next);
    free(sum);
    return taken;
}

/* The chain limits on deltas (a long history of one-place edits), on splices (edits in
 * 200 places), and the splice limit growing with a document over 2 MB (one splice per 64
 * bytes). */
static void test_chain_bound(void **state) {
    (void)state;
    rng = 0xc4a1;
    assert_int_equal(checkChainBound(2000, 1, 1100), 1); /* at the 1,025th delta */
    assert_true(checkChainBound(20000, 200, 400) >= 2);
    assert_int_equal(checkChainBound(4200000, 1000, 80), 1);
}

/* Saving the same document again stores empty deltas: no arena at all, nothing counted in
 * the chain, every version readable after eviction and a round trip. */
static void test_empty_deltas(void **state) {
    (void)state;
    swSnap *s = swSnapNew();
    for (int i = 1; i <= 50; i++) {
        assert_int_equal(swSnapSave(s, "{\"a\":1}", 7, i, 20, NULL, NULL), SW_OK);
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_int_equal(st.deltas, 19);
    assert_int_equal(st.deltaBytes, 0);
    assert_int_equal(st.chainDeltas, 0);
    assert_int_equal(st.chainSplices, 0);
    assert_int_equal(swSnapStoredBytes(s), 0);
    for (uint64_t v = 31; v <= 50; v++) assert_memory_equal(swSnapGet(s, v)->text, "{\"a\":1}", 8);
    assert_int_equal(swSnapSave(s, "{\"a\":2}", 7, 51, 0, NULL, NULL), SW_OK);
    swSnap *d = assertCountersSurviveDecode(s);
    for (uint64_t v = 32; v <= 50; v++) assert_memory_equal(swSnapGet(d, v)->text, "{\"a\":1}", 8);
    assert_memory_equal(swSnapGet(d, 51)->text, "{\"a\":2}", 8);
    swSnapGetStorage(d, &st);
    assert_int_equal(st.chainDeltas, 1);
    swSnapFree(d);
    swSnapFree(s);
    /* An empty version between two others: the decoder applies the older one's delta to
     * an empty text. */
    s = swSnapNew();
    assert_int_equal(swSnapSave(s, "ab", 2, 1, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapSave(s, "", 0, 2, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapSave(s, "abc", 3, 3, 0, NULL, NULL), SW_OK);
    d = assertCountersSurviveDecode(s);
    assert_int_equal(swSnapGet(d, 2)->len, 0);
    assert_memory_equal(swSnapGet(d, 1)->text, "ab", 3);
    swSnapFree(d);
    swSnapFree(s);
}

/* The head's "repeats no member name" mark: set on request, cleared by every new head and by
 * a decode, copied by Dup, never set on an empty history. */
static void test_head_unique_mark(void **state) {
    (void)state;
    swSnap *s = swSnapNew();
    swSnapMarkHeadUnique(s);
    assert_int_equal(swSnapHeadUnique(s), 0); /* nothing to mark */
    assert_int_equal(swSnapSave(s, "{\"a\":1}", 7, 1, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapHeadUnique(s), 0);
    swSnapMarkHeadUnique(s);
    assert_int_equal(swSnapHeadUnique(s), 1);
    swSnap *d = swSnapDup(s);
    assert_non_null(d);
    assert_int_equal(swSnapHeadUnique(d), 1);
    swSnapFree(d);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    assert_int_equal(swSnapDecode(buf, len, &d, NULL), SW_OK);
    assert_int_equal(swSnapHeadUnique(d), 0);
    swSnapFree(d);
    swFree(buf);
    assert_int_equal(swSnapSave(s, "{\"a\":2}", 7, 2, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapHeadUnique(s), 0);
    swSnapMarkHeadUnique(s);
    assert_int_equal(swSnapRestore(s, 1, 3, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapHeadUnique(s), 0);
    swSnapFree(s);
}

/* Format 2 payloads: damage anywhere is refused or harmless, never crashes. */
static void test_decode_v2_damage(void **state) {
    (void)state;
    rng = 99;
    swSnap *s = swSnapNew();
    size_t n = 300;
    char *doc = randomDoc(n);
    for (int i = 0; i < 12; i++) {
        if (i == 6) {
            free(doc);
            doc = randomDoc(n);
            memset(doc, 'Z', n); /* nothing in common with the last: a checkpoint */
        }
        memcpy(doc + below(n - 8), "EDIT", 4);
        assert_int_equal(swSnapSave(s, doc, n, i, 20, NULL, NULL), SW_OK);
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_true(st.deltas > 0 && st.checkpoints > 0);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    int refused = 0;
    for (size_t k = 1; k < len; k++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[k] ^= (char)(1 << bit);
            swSnap *d = (swSnap *)1;
            swError err;
            swStatus rc = swSnapDecode(buf, len, &d, &err);
            if (rc == SW_OK) {
                /* only timestamps and bookkeeping can change unnoticed: texts cannot */
                for (size_t i = 0; i < swSnapCount(s); i++) {
                    const swSnapVersion *want = swSnapAt(s, i), *got = swSnapAt(d, i);
                    assert_int_equal(got->len, want->len);
                    assert_memory_equal(got->text, want->text, want->len);
                }
                swSnapFree(d);
            } else {
                assert_int_equal(rc, SW_ERR_CORRUPT);
                assert_null(d);
                refused++;
            }
            buf[k] ^= (char)(1 << bit);
        }
    }
    assert_true(refused > (int)len);
    /* Exact reasons: a bad kind, the head stored as a delta, a delta beyond its base. */
    size_t first = 41; /* version 1 (a delta): ts, checksum, len, kind */
    buf[first + 24] = 7;
    expectCorrupt(buf, len, "snapshot history has a bad version kind at byte 65");
    buf[first + 24] = 1;
    uint64_t n1 = 0;
    for (int i = 0; i < 8; i++) n1 |= (uint64_t)(unsigned char)buf[first + 25 + i] << (8 * i);
    assert_true(n1 >= 4);
    /* The first splice: gap 16383 (varint ff 7f), far beyond the 300-byte base. */
    memcpy(buf + first + 33, "\xff\x7f\x00\x00", 4);
    swSnap *d = NULL;
    swError err;
    assert_int_equal(swSnapDecode(buf, len, &d, &err), SW_ERR_CORRUPT);
    assert_string_equal(
        err.msg, "snapshot history has a bad delta in version 1: delta range beyond the base");
    swFree(buf);
    free(doc);
    swSnapFree(s);
}

/* ---- Allocation failures ---- */

struct dupRun {
    swSnap *s, *d;
};

static swStatus dupStep(void *arg) {
    struct dupRun *a = arg;
    a->d = swSnapDup(a->s);
    return a->d ? SW_OK : SW_ERR_NOMEM;
}

static void test_nomem_new_and_dup(void **state) {
    (void)state;
    unitAllocFailAfter(0);
    assert_null(swSnapNew());
    unitAllocFailAfter(-1);

    struct dupRun a = {history(10, 4), NULL};
    /* The struct, the ring, the head's text, the arena's segment array and its segment (its
     * segments, when they are tiny). */
    long n = unitAllocSweep(dupStep, NULL, &a);
    if (SEGMENT >= 1024) {
        assert_int_equal(n, 5);
    } else {
        assert_true(n >= 5);
    }
    assertSameHistory(a.s, a.d);
    swSnapFree(a.d);
    swSnapFree(a.s);
}

struct saveRun {
    swSnap *s, *ref; /* ref: what s holds before the save */
    const char *text;
    size_t len;
    int64_t ts;
    uint64_t v;
    size_t keep; /* 0: 20 */
};

static swStatus saveStep(void *arg) {
    struct saveRun *a = arg;
    a->v = 0;
    return swSnapSave(a->s, a->text, a->len, a->ts, a->keep ? a->keep : 20, &a->v, NULL);
}

static void saveFailed(void *arg) {
    struct saveRun *a = arg;
    assert_int_equal(a->v, 0);
    assertSameHistory(a->ref, a->s); /* unchanged */
}

static void test_nomem_save(void **state) {
    (void)state;
    /* Each save of a growing history fails at every allocation first: the copy of the text
     * and, when the ring is full, the larger ring. */
    swSnap *s = swSnapNew();
    swSnap *ref = swSnapNew();
    int sawRingGrowth = 0;
    for (unsigned i = 1; i <= 40; i++) {
        char text[128];
        size_t len;
        docText(i, text, sizeof(text), &len);
        struct saveRun a = {s, ref, text, len, 1000 + (int64_t)i, 0, 0};
        long n = unitAllocSweep(saveStep, saveFailed, &a);
        assert_int_equal(a.v, i);
        if (n == 2) sawRingGrowth = 1;
        assert_true(n >= 1);
        saveDoc(ref, i, 20);
    }
    assert_true(sawRingGrowth);
    assertSameHistory(ref, s);
    swSnapFree(s);
    swSnapFree(ref);
}

static void test_nomem_restore(void **state) {
    (void)state;
    swSnap *s = history(4, 0);
    swSnap *ref = history(4, 0);
    uint64_t v = 0;
    unitAllocFailAfter(0);
    assert_int_equal(swSnapRestore(s, 2, 5, 0, &v, NULL), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_int_equal(v, 0);
    assertSameHistory(ref, s);
    assert_int_equal(swSnapRestore(s, 2, 5, 0, &v, NULL), SW_OK);
    assert_int_equal(v, 5);
    swSnapFree(s);
    swSnapFree(ref);
}

struct decodeRun {
    const char *buf;
    size_t len;
    swSnap *d;
};

static swStatus decodeStep(void *arg) {
    struct decodeRun *a = arg;
    a->d = (swSnap *)1;
    return swSnapDecode(a->buf, a->len, &a->d, NULL);
}

static void decodeFailed(void *arg) {
    assert_null(((struct decodeRun *)arg)->d);
}

static void test_nomem_encode_decode(void **state) {
    (void)state;
    swSnap *s = history(8, 5);
    char *buf = (char *)1;
    size_t len = 1;
    unitAllocFailAfter(0);
    assert_int_equal(swSnapEncode(s, &buf, &len), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_null(buf);
    assert_int_equal(len, 0);
    encode(s, &buf, &len);

    struct decodeRun a = {buf, len, NULL};
    /* The struct, the ring, the offsets, the head's text, the arena (as it grows) and the
     * buffers rebuilding the versions: every one of them failed once, cleanly. */
    assert_true(unitAllocSweep(decodeStep, decodeFailed, &a) >= 6);
    assertSameHistory(s, a.d);
    swSnapFree(a.d);
    swFree(buf);
    swSnapFree(s);
}

static void test_set_keep_survives_nomem(void **state) {
    (void)state;
    /* Shrinking the ring is best effort: without memory, SetKeep still trims. */
    swSnap *s = history(100, 100);
    unitAllocFailAfter(0);
    assert_int_equal(swSnapSetKeep(s, 2, NULL), SW_OK);
    unitAllocFailAfter(-1);
    assert_int_equal(swSnapCount(s), 2);
    assertVersionIsDoc(swSnapAt(s, 1), 99, 99);
    assertVersionIsDoc(swSnapAt(s, 0), 100, 100);
    assert_int_equal(saveDoc(s, 101, 0), 101);
    assertVersionIsDoc(swSnapAt(s, 1), 100, 100);
    swSnapFree(s);
}

/* A byte bound evicts the oldest versions until the older versions' stored bytes fit, never
 * the head; the keep limit stays, and what remains reads back exactly. */
static void test_trim_bytes(void **state) {
    (void)state;
    swSnap *s = history(50, 100);
    size_t stored = swSnapStoredBytes(s);
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_int_equal(stored, st.deltaBytes + st.checkpointBytes);
    assert_true(stored > 0);
    assert_int_equal(swSnapTrimBytes(s, stored), 0);
    assert_int_equal(swSnapCount(s), 50);
    size_t evicted = swSnapTrimBytes(s, stored / 2);
    assert_true(evicted > 0 && evicted < 49);
    assert_int_equal(swSnapCount(s), 50 - evicted);
    assert_true(swSnapStoredBytes(s) <= stored / 2);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    assert_int_equal(info.keep, 100);
    assert_int_equal(info.oldest, 1 + evicted);
    for (uint64_t v = info.oldest; v <= 50; v++)
        assertVersionIsDoc(swSnapGet(s, v), v, (unsigned)v);
    swSnapFree(s);
    /* The same bound on the same history evicts the same versions (replicas agree). */
    s = history(50, 100);
    assert_int_equal(swSnapTrimBytes(s, stored / 2), evicted);
    swSnapFree(s);
    /* 0 keeps only the head; saving goes on from there. */
    s = history(10, 100);
    assert_int_equal(swSnapTrimBytes(s, 0), 9);
    assert_int_equal(swSnapCount(s), 1);
    assert_int_equal(swSnapStoredBytes(s), 0);
    assertVersionIsDoc(swSnapHead(s), 10, 10);
    assert_int_equal(saveDoc(s, 11, 0), 11);
    assertVersionIsDoc(swSnapGet(s, 10), 10, 10);
    assert_true(swSnapStoredBytes(s) > 0);
    swSnapFree(s);
}

/* ---- Arena segments ---- */

/* n random letters: unrelated to any other text, so a version saved before one is stored
 * whole (its delta would be longer than itself). */
static char *letters(size_t n) {
    char *t = malloc(n + 1);
    if (t == NULL) abort();
    for (size_t k = 0; k < n; k++) t[k] = (char)('a' + below(26));
    t[n] = '\0';
    return t;
}

/* The next document after cur[0..*n): mostly an insertion or replacement of up to 2,000
 * random bytes somewhere (deltas of all sizes), sometimes a small edit, and one time in
 * eight an unrelated document of up to 9,000 bytes. Returns a malloc'ed text. */
static char *nextDoc(const char *cur, size_t *n) {
    size_t r = below(8);
    if (r == 0) {
        *n = below(9000);
        return letters(*n);
    }
    size_t cap = *n + 2048;
    char *t = malloc(cap + 1);
    if (t == NULL) abort();
    memcpy(t, cur, *n + 1);
    if (r == 1) {
        smallEdit(t, n, cap);
        return t;
    }
    size_t at = below(*n + 1), ins = 1 + below(2000), del = r == 2 ? below(*n - at + 1) : 0;
    if (*n > 12000) del = *n - at; /* keep documents bounded */
    memmove(t + at + ins, t + at + del, *n - at - del);
    for (size_t i = 0; i < ins; i++) t[at + i] = (char)('A' + below(26));
    *n = *n - del + ins;
    t[*n] = '\0';
    return t;
}

/* Saves versions 1..saves of nextDoc's sequence into s (keep as given) and their texts into
 * ref[1..saves] (free with freeRef). */
/* Saves `saves` versions of a drifting document into s (with keep), recording each in ref;
 * after every save, each(s, ref, v) when given. */
static void saveSequence(swSnap *s, refVersion *ref, unsigned saves, size_t keep,
                         void (*each)(const swSnap *, const refVersion *, unsigned)) {
    size_t n = 3000;
    char *cur = letters(n);
    for (unsigned v = 1; v <= saves; v++) {
        if (v > 1) {
            char *t = nextDoc(cur, &n);
            free(cur);
            cur = t;
        }
        ref[v] = (refVersion){malloc(n + 1), n, (int64_t)v};
        if (ref[v].text == NULL) abort();
        memcpy(ref[v].text, cur, n + 1);
        uint64_t got = 0;
        assert_int_equal(swSnapSave(s, cur, n, (int64_t)v, keep, &got, NULL), SW_OK);
        assert_int_equal(got, v);
        if (each) each(s, ref, v);
    }
    free(cur);
}

static void freeRef(refVersion *ref, unsigned saves) {
    for (unsigned v = 1; v <= saves; v++) free(ref[v].text);
}

/* Every retained version, read oldest first (each read rebuilds its chain from the newest
 * whole version above it), is the text saved. */
static void assertEveryRef(const swSnap *s, const refVersion *ref) {
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    for (uint64_t v = info.oldest; v <= info.head; v++) {
        const swSnapVersion *got = swSnapGet(s, v);
        assert_non_null(got);
        assert_int_equal(got->len, ref[v].len);
        if (got->len) assert_memory_equal(got->text, ref[v].text, got->len);
        assert_int_equal(got->text[got->len], '\0');
    }
}

/* How many of the stored items of an encoded history (oldest first, from arena offset 0,
 * as in a history that never evicted) straddle a segment boundary: deltas and whole
 * versions (text and NUL) apart. */
static void countStraddles(const char *buf, size_t len, size_t *deltas, size_t *wholes) {
    size_t p = 41, count = 0, off = 0;
    memcpy(&count, buf + 33, 8); /* little-endian hosts, as the tests run on */
    *deltas = *wholes = 0;
    for (size_t i = 0; i + 1 < count; i++) {
        uint64_t n;
        memcpy(&n, buf + p + 25, 8);
        size_t slen = buf[p + 24] == 0 ? (size_t)n + 1 : (size_t)n;
        if (slen > 0 && off / SEGMENT != (off + slen - 1) / SEGMENT) {
            if (buf[p + 24] == 0) {
                (*wholes)++;
            } else {
                (*deltas)++;
            }
        }
        off += slen;
        p += 33 + (size_t)n;
    }
    assert_true(p <= len);
}

/* A history many segments long, whose deltas and whole versions straddle segment
 * boundaries, reads back every version exactly, and so do its copy and its decoded form,
 * which encodes to the same bytes. */
static void test_segments_straddle(void **state) {
    (void)state;
    rng = 0x5e6;
    enum { SAVES = 300 };
    refVersion ref[SAVES + 1];
    swSnap *s = swSnapNew();
    saveSequence(s, ref, SAVES, 1000, NULL);
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    assert_true(swSnapStoredBytes(s) > 20 * SEGMENT);
    assert_true(st.checkpoints > 10 && st.deltas > 100);
    char *buf;
    size_t len, deltas, wholes;
    encode(s, &buf, &len);
    countStraddles(buf, len, &deltas, &wholes);
    assert_true(deltas > 0);
    assert_true(wholes > 0);
    assertEveryRef(s, ref);
    assertMatchesReference(s, ref);

    swSnap *d = NULL;
    assert_int_equal(swSnapDecode(buf, len, &d, NULL), SW_OK);
    assertEveryRef(d, ref);
    char *again;
    size_t alen;
    encode(d, &again, &alen);
    assert_int_equal(alen, len);
    assert_memory_equal(again, buf, len);
    swFree(again);
    swSnapFree(d);

    d = swSnapDup(s);
    assert_non_null(d);
    assertSameHistory(s, d);
    encode(d, &again, &alen);
    assert_int_equal(alen, len);
    assert_memory_equal(again, buf, len);
    swFree(again);
    swSnapFree(d);
    swFree(buf);
    swSnapFree(s);
    freeRef(ref, SAVES);
}

enum { EVICT_KEEP = 12 };

/* After each save: the arena's share of the memory (all but the struct, ring, head and
 * views) is the stored bytes plus at most two partly used segments and the segment array;
 * every 37th save, every retained version reads back. */
static void checkEvictBound(const swSnap *s, const refVersion *ref, unsigned v) {
    size_t most = 0;
    for (unsigned u = 1; u <= v; u++) {
        if (ref[u].len > most) most = ref[u].len;
    }
    size_t stored = swSnapStoredBytes(s);
    size_t segs = (stored + SEGMENT - 1) / SEGMENT + 2;
    size_t bound = 1024 + 2 * EVICT_KEEP * 24 + (ref[v].len + 1) + 2 * (most + 1) + segs * SEGMENT +
                   4 * segs * sizeof(char *) + 64; /* the array, at most 4x */
    assert_true(swSnapMemUsage(s) <= bound);
    if (v % 37 == 0) assertEveryRef(s, ref);
}

/* Evicting with a small keep frees the segments the oldest versions leave: the arena holds
 * the retained bytes plus at most two partly used segments (the dead front of the first,
 * the free end of the last), and every retained version reads back. */
static void test_segments_evict(void **state) {
    (void)state;
    rng = 0xe71c7;
    enum { SAVES = 400 };
    refVersion ref[SAVES + 1];
    swSnap *s = swSnapNew();
    saveSequence(s, ref, SAVES, EVICT_KEEP, checkEvictBound);
    assertEveryRef(s, ref);
    swSnap *d = assertCountersSurviveDecode(s);
    assertEveryRef(d, ref);
    swSnapFree(d);
    swSnapFree(s);
    freeRef(ref, SAVES);
}

/* Dropping keep (and a byte bound) on a history many segments long gives the memory back,
 * keeps the retained versions exact, and saving goes on from there. */
static void test_segments_keep_drop(void **state) {
    (void)state;
    rng = 0xd809;
    enum { SAVES = 250 };
    refVersion ref[SAVES + 3];
    swSnap *s = swSnapNew();
    saveSequence(s, ref, SAVES, 1000, NULL);
    size_t before = swSnapMemUsage(s);
    assert_true(swSnapStoredBytes(s) > 10 * SEGMENT);
    assert_int_equal(swSnapSetKeep(s, 3, NULL), SW_OK);
    size_t after = swSnapMemUsage(s);
    size_t stored = swSnapStoredBytes(s);
    size_t most = 0;
    for (unsigned v = SAVES - 2; v <= SAVES; v++) most = ref[v].len > most ? ref[v].len : most;
    assert_true(after < before / 4);
    assert_true(after <= 1024 + 1000 * 24 + 3 * (most + 1) + stored + 2 * SEGMENT + 64);
    assertEveryRef(s, ref);
    /* Saving on top, then trimming by bytes to only the head. */
    size_t n = ref[SAVES].len;
    for (unsigned v = SAVES + 1; v <= SAVES + 2; v++) {
        char *t = nextDoc(ref[v - 1].text, &n);
        ref[v] = (refVersion){t, n, (int64_t)v};
        assert_int_equal(swSnapSave(s, t, n, (int64_t)v, 0, NULL, NULL), SW_OK);
    }
    assertEveryRef(s, ref);
    assert_int_equal(swSnapTrimBytes(s, 0), 2);
    assert_int_equal(swSnapStoredBytes(s), 0);
    assertEveryRef(s, ref);
    freeRef(ref, SAVES + 2);
    swSnapFree(s);
}

/* Sizes as jemalloc reports them (8, 16, then 16 apart to 128, then 4 classes a doubling),
 * to measure what a history costs in a server. Wraps the unit allocator, which keeps
 * checking for leaks. */
static swAllocator unitTable;

static size_t jeClass(size_t n) {
    if (n <= 8) return 8;
    size_t lg = 0;
    while (((size_t)1 << (lg + 1)) <= n - 1) lg++;
    size_t step = lg >= 4 ? (size_t)1 << (lg - 2) : 4;
    if (step < 16) step = 16;
    return (n + step - 1) / step * step;
}

static void *jeAlloc(size_t n) {
    size_t *p = unitTable.alloc(n + 16);
    if (p == NULL) return NULL;
    *p = n;
    return p + 2;
}

static void *jeCalloc(size_t m, size_t n) {
    void *p = jeAlloc(m * n);
    if (p != NULL) memset(p, 0, m * n);
    return p;
}

/* When set, realloc always moves the block and free overwrites it first, so a pointer
 * left into a moved or freed block reads garbage (cmocka's allocator leaves it intact). */
static int jeScribble;

static void jeFree(void *q);

static void *jeRealloc(void *q, size_t n) {
    if (jeScribble && q != NULL) {
        void *p = jeAlloc(n);
        if (p == NULL) return NULL;
        size_t old = *((size_t *)q - 2);
        memcpy(p, q, old < n ? old : n);
        jeFree(q);
        return p;
    }
    size_t *p = unitTable.realloc(q ? (size_t *)q - 2 : NULL, n + 16);
    if (p == NULL) return NULL;
    *p = n;
    return p + 2;
}

static void jeFree(void *q) {
    if (q == NULL) return;
    if (jeScribble) memset(q, 0xdd, *((size_t *)q - 2));
    unitTable.free((size_t *)q - 2);
}

static size_t jeSize(void *q) {
    return jeClass(*((size_t *)q - 2));
}

static void jeInstall(void) {
    unitTable = *swGetAllocator();
    swSetAllocator(&(swAllocator){jeAlloc, jeCalloc, jeRealloc, jeFree, jeSize});
}

static void jeRemove(void) {
    swSetAllocator(&unitTable);
}

/* What a history costs by jemalloc's size classes: a tiny one a few hundred bytes of arena
 * (not a segment); one of ~271 KB of deltas its segments, where one buffer took a 320 KiB
 * block; histories of equal documents no arena at all. */
static void test_segments_memory(void **state) {
    (void)state;
    assert_int_equal(jeClass(271353), 327680);
    assert_int_equal(jeClass(16384), 16384);
    assert_int_equal(jeClass(100), 112);
    jeInstall();
    /* Tiny: 10 versions of a 40-byte document, a few hundred bytes of deltas. */
    swSnap *s = history(10, 100);
    assert_true(swSnapStoredBytes(s) < 400);
    size_t tiny = swSnapMemUsage(s);
    assert_true(tiny < 2048);
    swSnapFree(s);
    /* Equal documents: no arena. */
    s = swSnapNew();
    assert_int_equal(swSnapSave(s, "{\"a\":1}", 7, 1, 0, NULL, NULL), SW_OK);
    size_t one = swSnapMemUsage(s);
    for (int i = 2; i <= 4; i++)
        assert_int_equal(swSnapSave(s, "{\"a\":1}", 7, i, 0, NULL, NULL), SW_OK);
    assert_int_equal(swSnapMemUsage(s), one); /* the ring of 4 slots holds them */
    swSnapFree(s);

    /* ~271 KB of deltas: 1,000 versions of a 20 KB document, 270 bytes replaced in each. */
    rng = 0x271;
    size_t n = 20000;
    char *t = letters(n);
    s = swSnapNew();
    for (int v = 1; v <= 1000; v++) {
        size_t at = below(n - 270);
        for (size_t i = 0; i < 270; i++) t[at + i] = (char)('a' + below(26));
        assert_int_equal(swSnapSave(s, t, n, v, 1000, NULL, NULL), SW_OK);
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    size_t stored = swSnapStoredBytes(s);
    assert_int_equal(st.checkpoints, 0);
    assert_true(stored > 270000 && stored < 280000);
    size_t segs = (stored + SEGMENT - 1) / SEGMENT;
    /* All but the arena (the struct, a ring as large, the head): what the same number of
     * saves of one document costs, which has no arena. */
    swSnap *same = swSnapNew();
    for (int v = 1; v <= 1000; v++) {
        assert_int_equal(swSnapSave(same, t, n, v, 1000, NULL, NULL), SW_OK);
    }
    size_t others = swSnapMemUsage(same);
    swSnapFree(same);
    size_t arena = swSnapMemUsage(s) - others;
    assert_true(arena <= segs * SEGMENT + jeClass(2 * segs * sizeof(char *)));
    assert_true(arena < jeClass(stored)); /* under 320 KiB */
    swSnapFree(s);
    free(t);
    jeRemove();
}

/* A delta longer than its version, which the decoder rewrites as the whole version, where
 * that version straddles a segment boundary. */
static void test_segments_decode_long_delta(void **state) {
    (void)state;
    /* version 2 (text and NUL) starts 383 bytes before a segment boundary */
    size_t n1 = SEGMENT >= 1024 ? SEGMENT - 383 : 8 * SEGMENT - 383 % SEGMENT, n2 = 1000;
    char *v1 = letters(n1), *v2 = letters(n2);
    char *d2 = malloc(n2 + 8), *buf = malloc(41 + 3 * 33 + n1 + n2 + 8 + 4);
    assert_non_null(d2);
    assert_non_null(buf);
    /* version 2 from "abcd": gap 0, del 4, insert n2 bytes (longer than the text) */
    d2[0] = 0;
    d2[1] = 4;
    d2[2] = (char)(0x80 | (n2 & 127));
    d2[3] = (char)(n2 >> 7);
    memcpy(d2 + 4, v2, n2);
    buf[0] = 2;
    put64(buf + 1, 3);
    put64(buf + 9, 10);
    put64(buf + 17, 1);
    put64(buf + 25, 3);
    put64(buf + 33, 3);
    char *p = putVersion(buf + 41, 1, v1, n1, 0, v1, n1);
    p = putVersion(p, 2, v2, n2, 1, d2, n2 + 4);
    p = putVersion(p, 3, "abcd", 4, 0, "abcd", 4);
    swSnap *d = NULL;
    swError err;
    assert_int_equal(swSnapDecode(buf, (size_t)(p - buf), &d, &err), SW_OK);
    swSnapStorage st;
    swSnapGetStorage(d, &st);
    assert_int_equal(st.checkpoints, 2);
    const swSnapVersion *got = swSnapGet(d, 2);
    assert_int_equal(got->len, n2);
    assert_memory_equal(got->text, v2, n2);
    assert_int_equal(got->text[n2], '\0');
    got = swSnapGet(d, 1);
    assert_int_equal(got->len, n1);
    assert_memory_equal(got->text, v1, n1);
    swSnapFree(d);
    free(buf);
    free(d2);
    free(v1);
    free(v2);
}

/* Allocation failures on a history many segments long: saves that need new segments (and
 * a larger segment array) and evict across segments, reads that copy straddling items,
 * copies and decodes; each failure leaves everything as it was. */
struct readRun {
    const swSnap *s;
    uint64_t v;
    const swSnapVersion *got;
};

static swStatus readStep(void *arg) {
    struct readRun *a = arg;
    return swSnapLookup(a->s, a->v, &a->got, NULL);
}

static void test_segments_nomem(void **state) {
    (void)state;
    rng = 0x90e3;
    enum { SAVES = 80 };
    refVersion ref[SAVES + 1];
    swSnap *s = swSnapNew(), *r = swSnapNew();
    size_t n = 3000;
    char *cur = letters(n);
    long sweeps = 0;
    for (unsigned v = 1; v <= SAVES; v++) {
        if (v > 1) {
            char *t = nextDoc(cur, &n);
            free(cur);
            cur = t;
        }
        ref[v] = (refVersion){malloc(n + 1), n, 1000 + (int64_t)v};
        memcpy(ref[v].text, cur, n + 1);
        struct saveRun a = {s, r, cur, n, 1000 + (int64_t)v, 0, 40};
        sweeps += unitAllocSweep(saveStep, saveFailed, &a);
        assert_int_equal(a.v, v);
        assert_int_equal(swSnapSave(r, cur, n, 1000 + (int64_t)v, 40, NULL, NULL), SW_OK);
    }
    free(cur);
    assert_true(sweeps > SAVES);
    assert_true(swSnapStoredBytes(s) > 2 * SEGMENT);
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    for (uint64_t v = info.oldest; v < info.head; v++) {
        swSnap *fresh = swSnapDup(s); /* no cached view: every read rebuilds */
        assert_non_null(fresh);
        struct readRun a = {fresh, v, NULL};
        unitAllocSweep(readStep, NULL, &a);
        assert_int_equal(a.got->len, ref[v].len);
        if (a.got->len) assert_memory_equal(a.got->text, ref[v].text, a.got->len);
        swSnapFree(fresh);
    }
    struct dupRun dr = {s, NULL};
    assert_true(unitAllocSweep(dupStep, NULL, &dr) >= 6);
    assertSameHistory(s, dr.d);
    swSnapFree(dr.d);
    char *buf;
    size_t len;
    encode(s, &buf, &len);
    struct decodeRun de = {buf, len, NULL};
    assert_true(unitAllocSweep(decodeStep, decodeFailed, &de) >= 6);
    assertSameHistory(s, de.d);
    swSnapFree(de.d);
    swFree(buf);
    assertEveryRef(s, ref);
    freeRef(ref, SAVES);
    swSnapFree(s);
    swSnapFree(r);
}

/* A save that grows a lone segment (which may move it) and then fails on the ring leaves no
 * cached version pointing into the old block. */
struct viewRun {
    swSnap *s;
    const char *v1, *next;
    size_t n1, nnext;
};

static swStatus viewStep(void *arg) {
    struct viewRun *a = arg;
    return swSnapSave(a->s, a->next, a->nnext, 9, 0, NULL, NULL);
}

/* Reads version 1, which stays cached for the next run (a pointer into its segment, with
 * segments larger than it). */
static void viewFailed(void *arg) {
    struct viewRun *a = arg;
    const swSnapVersion *got = swSnapGet(a->s, 1);
    assert_non_null(got);
    assert_int_equal(got->len, a->n1);
    assert_memory_equal(got->text, a->v1, a->n1);
}

static void test_segments_view_survives_failed_save(void **state) {
    (void)state;
    rng = 0x71e3;
    static const size_t sizes[] = {100, 200, 30, 60, 50};
    char *t[5];
    jeInstall();
    jeScribble = 1;
    swSnap *s = swSnapNew();
    for (int i = 0; i < 4; i++) { /* unrelated texts: every version below the head is whole */
        t[i] = letters(sizes[i]);
        assert_int_equal(swSnapSave(s, t[i], sizes[i], i + 1, 0, NULL, NULL), SW_OK);
    }
    t[4] = letters(sizes[4]);
    struct viewRun a = {s, t[0], t[4], sizes[0], sizes[4]};
    viewFailed(&a);
    assert_true(unitAllocSweep(viewStep, viewFailed, &a) >= 2);
    for (int i = 0; i < 5; i++) {
        const swSnapVersion *got = swSnapGet(s, (uint64_t)i + 1);
        assert_int_equal(got->len, sizes[i]);
        assert_memory_equal(got->text, t[i], sizes[i]);
        free(t[i]);
    }
    swSnapFree(s);
    jeScribble = 0;
    jeRemove();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_empty),
        cmocka_unit_test(test_save_and_get),
        cmocka_unit_test(test_keep_evicts_oldest),
        cmocka_unit_test(test_keep_out_of_range),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_save_from_own_text),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_dup),
        cmocka_unit_test(test_version_numbers_exhausted),
        cmocka_unit_test(test_encode_decode_roundtrip),
        cmocka_unit_test(test_decode_every_truncation),
        cmocka_unit_test(test_decode_bad_header),
        cmocka_unit_test(test_decode_long_delta),
        cmocka_unit_test(test_nomem_new_and_dup),
        cmocka_unit_test(test_nomem_save),
        cmocka_unit_test(test_nomem_restore),
        cmocka_unit_test(test_nomem_encode_decode),
        cmocka_unit_test(test_set_keep_survives_nomem),
        cmocka_unit_test(test_trim_bytes),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_chain_bound),
        cmocka_unit_test(test_empty_deltas),
        cmocka_unit_test(test_head_unique_mark),
        cmocka_unit_test(test_decode_v2_damage),
        cmocka_unit_test(test_property_history_exact),
        cmocka_unit_test(test_segments_straddle),
        cmocka_unit_test(test_segments_evict),
        cmocka_unit_test(test_segments_keep_drop),
        cmocka_unit_test(test_segments_memory),
        cmocka_unit_test(test_segments_decode_long_delta),
        cmocka_unit_test(test_segments_nomem),
        cmocka_unit_test(test_segments_view_survives_failed_save),
    };
    return cmocka_run_group_tests_name("snapshot", tests, unitAllocSetup, unitAllocTeardown);
}
