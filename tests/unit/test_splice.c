/* test_splice.c -- unit tests of splice deltas and the rope (splice.h): diffs are exact on
 * random texts and edits, small for small edits, checked deltas never read astray, and a
 * chain applied through the rope equals the chain applied one copy at a time. */
#include "unit_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/splice.h"

static uint64_t rng = 0x5911ce;

static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static size_t below(size_t n) {
    return n ? (size_t)(rnd() % n) : 0;
}

/* A JSON-like text: repetitive on purpose, so false anchors are everywhere. */
static char *randomText(size_t n) {
    static const char *const words[] = {"{\"status\":\"open\",",
                                        "\"owner\":\"a-1",
                                        "\"prio\":3}",
                                        ",\"t-",
                                        "busy",
                                        "done",
                                        "0",
                                        "7",
                                        "\n"};
    char *s = malloc(n + 1);
    if (s == NULL) abort();
    size_t k = 0;
    while (k < n) {
        const char *w = words[below(9)];
        for (size_t i = 0; w[i] && k < n; i++) s[k++] = w[i];
    }
    s[n] = '\0';
    return s;
}

/* A few random edits of a[0..alen): replacements, insertions, deletions. */
static char *randomEdit(const char *a, size_t alen, size_t *blen, int edits) {
    char *b = malloc(alen + (size_t)edits * 64 + 1);
    if (b == NULL) abort();
    memcpy(b, a, alen);
    size_t n = alen;
    for (int e = 0; e < edits; e++) {
        size_t at = below(n + 1), del = below(n - at < 12 ? n - at + 1 : 12), ins = below(12);
        memmove(b + at + ins, b + at + del, n - at - del);
        for (size_t i = 0; i < ins; i++) b[at + i] = (char)('A' + below(26));
        n = n - del + ins;
    }
    *blen = n;
    return b;
}

static void checkDiff(const char *a, size_t alen, const char *b, size_t blen) {
    swBuf d = {0};
    swSpliceDiff(a, alen, b, blen, &d);
    assert_false(swBufFailed(&d));
    size_t tlen = 0;
    assert_int_equal(swSpliceCheck(d.data, d.len, alen, &tlen, NULL), SW_OK);
    assert_int_equal(tlen, blen);
    swBuf out = {0};
    swSpliceApply(d.data, d.len, a, alen, &out);
    assert_int_equal(out.len, blen);
    if (blen) assert_memory_equal(out.data, b, blen);
    swBufFree(&out);
    swBufFree(&d);
}

static void test_diff_exact(void **state) {
    (void)state;
    checkDiff("", 0, "", 0);
    checkDiff("abc", 3, "", 0);
    checkDiff("", 0, "abc", 3);
    checkDiff("abc", 3, "abc", 3);
    checkDiff("abc", 3, "abd", 3);
    checkDiff("aaaa", 4, "aaaaaa", 6);
    for (int iter = 0; iter < 3000; iter++) {
        size_t alen = below(4) == 0 ? below(40) : below(6000), blen;
        char *a = randomText(alen);
        char *b;
        if (below(10) == 0) {
            blen = below(6000);
            b = randomText(blen);
        } else {
            b = randomEdit(a, alen, &blen, 1 + (int)below(6));
        }
        checkDiff(a, alen, b, blen);
        free(a);
        free(b);
    }
}

/* One small edit of a large text costs a small delta, wherever it lies. */
static void test_diff_small(void **state) {
    (void)state;
    char *a = randomText(90000);
    for (int iter = 0; iter < 200; iter++) {
        size_t at = below(90000 - 8);
        char *b = malloc(90000 + 4);
        if (b == NULL) abort();
        memcpy(b, a, 90000);
        memcpy(b + at, "WXYZ", 4); /* same length */
        size_t at2 = below(90000 - 8);
        memmove(b + at2 + 3, b + at2, 90000 - at2); /* and an insertion */
        memcpy(b + at2, "+++", 3);
        swBuf d = {0};
        swSpliceDiff(a, 90000, b, 90003, &d);
        if (d.len > 64) fail_msg("delta of %zu bytes for two edits", d.len);
        swBufFree(&d);
        free(b);
    }
    free(a);
}

/* Repetitive text (JSON records that share most of their bytes) fills the anchor chains to
 * their cap: the diff stays exact, and an edit among the records stays small. */
static void test_diff_repetitive(void **state) {
    (void)state;
    size_t n = 0, cap = 40000;
    char *a = malloc(cap);
    if (a == NULL) abort();
    for (int r = 0; n + 64 < cap; r++) {
        n += (size_t)snprintf(a + n, cap - n, "{\"id\":\"r-%d\",\"status\":\"open\",\"score\":1},",
                              r % 7);
    }
    for (int iter = 0; iter < 100; iter++) {
        size_t blen;
        char *b = randomEdit(a, n, &blen, 1 + (int)below(4));
        checkDiff(a, n, b, blen);
        checkDiff(b, blen, a, n);
        free(b);
    }
    char *b = malloc(n);
    if (b == NULL) abort();
    memcpy(b, a, n);
    memcpy(b + n / 2, "XY", 2);
    swBuf d = {0};
    swSpliceDiff(a, n, b, n, &d);
    if (d.len > 16) fail_msg("delta of %zu bytes for one edit", d.len);
    swBufFree(&d);
    free(b);
    free(a);
}

/* A diff whose scratch tables cannot be had still gives an exact delta (larger, one splice
 * to the end of the differing middle), once its output buffer could grow. */
static void test_diff_scratch_nomem(void **state) {
    (void)state;
    char *a = randomText(5000);
    size_t blen;
    char *b = randomEdit(a, 5000, &blen, 4);
    swBuf d = {0};
    swBufReserve(&d, 2 * 5000 + 64); /* the output never needs to grow */
    unitAllocFailAfter(0);
    swSpliceDiff(a, 5000, b, blen, &d);
    unitAllocFailAfter(-1);
    assert_false(swBufFailed(&d));
    size_t tlen = 0;
    assert_int_equal(swSpliceCheck(d.data, d.len, 5000, &tlen, NULL), SW_OK);
    assert_int_equal(tlen, blen);
    swBuf out = {0};
    swSpliceApply(d.data, d.len, a, 5000, &out);
    assert_int_equal(out.len, blen);
    assert_memory_equal(out.data, b, blen);
    swBufFree(&out);
    swBufFree(&d);
    free(a);
    free(b);
}

/* A list of look-alike records that loses its first record and gains one at the end: the
 * delta is the dropped record put back and the new one deleted, not a splice per record. */
static void test_diff_shifted_list(void **state) {
    (void)state;
    char rec[12][200];
    for (int r = 0; r < 12; r++) {
        snprintf(rec[r], sizeof(rec[r]),
                 "{\"id\":\"msg-%d\",\"role\":\"%s\",\"content\":\"agent agent %s agent agent "
                 "agent edge agent agent agent agent agent agent agent agent agent agent\"}",
                 500 + r, r % 2 ? "user" : "assistant", r % 3 ? "edge" : "plan");
    }
    char a[4000], b[4000];
    size_t an = 0, bn = 0;
    an += (size_t)snprintf(a + an, sizeof(a) - an, "{\"messages\":[");
    bn += (size_t)snprintf(b + bn, sizeof(b) - bn, "{\"messages\":[");
    for (int r = 0; r < 10; r++) {
        an += (size_t)snprintf(a + an, sizeof(a) - an, "%s%s", r ? "," : "", rec[r]);
        bn += (size_t)snprintf(b + bn, sizeof(b) - bn, "%s%s", r ? "," : "", rec[r + 1]);
    }
    an += (size_t)snprintf(a + an, sizeof(a) - an, "]}");
    bn += (size_t)snprintf(b + bn, sizeof(b) - bn, "]}");
    checkDiff(b, bn, a, an);
    swBuf d = {0};
    swSpliceDiff(b, bn, a, an, &d); /* the reverse delta: from the new list to the old */
    size_t one = strlen(rec[0]) + 1;
    if (d.len > one + 16) fail_msg("delta of %zu bytes for one record of %zu", d.len, one);
    swBufFree(&d);
}

/* ---- Splitting splices at interior common runs ---- */

typedef struct {
    size_t at, del, ins; /* offset in the base, bytes deleted, bytes inserted */
    const char *lit;
} splice;

/* Diffs a into b, checks the delta round-trips, and decodes its splices into sp (at most
 * cap; the count comes back). */
static size_t spliceList(const char *a, size_t alen, const char *b, size_t blen, splice *sp,
                         size_t cap, swBuf *d) {
    checkDiff(a, alen, b, blen);
    swSpliceDiff(a, alen, b, blen, d);
    assert_false(swBufFailed(d));
    swReader r;
    size_t n = 0, pos = 0;
    swReaderInit(&r, d->data, d->len);
    while (!swReaderAtEnd(&r)) {
        size_t gap = (size_t)swReadVarint(&r), del = (size_t)swReadVarint(&r);
        size_t ins = (size_t)swReadVarint(&r);
        const char *lit = swReadBytes(&r, ins);
        assert_non_null(lit);
        if (n < cap) sp[n] = (splice){pos + gap, del, ins, lit};
        n++;
        pos += gap + del;
    }
    return n;
}

static void expectSplice(const splice *sp, size_t at, size_t del, const char *lit) {
    assert_int_equal(sp->at, at);
    assert_int_equal(sp->del, del);
    assert_int_equal(sp->ins, strlen(lit));
    if (sp->ins) assert_memory_equal(sp->lit, lit, sp->ins);
}

#define DIFF_STR(a, b, sp, d) spliceList(a, strlen(a), b, strlen(b), sp, 8, d)

/* Changes separated by a common run too short to resync on (16 bytes) go out as one splice
 * each when the run outweighs a splice header (3 bytes, 4+ byte runs), else as one. */
static void test_diff_split_crafted(void **state) {
    (void)state;
    splice sp[8];
    swBuf d = {0};
    /* the counter and the count beside it, at the very start and end of the texts */
    assert_int_equal(DIFF_STR("1,\"messages\":501", "0,\"messages\":500", sp, &d), 2);
    expectSplice(&sp[0], 0, 1, "0");
    expectSplice(&sp[1], 15, 1, "0");
    assert_int_equal(d.len, 8);
    d.len = 0;
    /* the same inside a document */
    assert_int_equal(DIFF_STR("{\"rev\":501,\"messages\":501,\"x\":1}",
                              "{\"rev\":500,\"messages\":500,\"x\":1}", sp, &d),
                     2);
    expectSplice(&sp[0], 9, 1, "0");
    expectSplice(&sp[1], 24, 1, "0");
    d.len = 0;
    /* three changes of different lengths in one record */
    assert_int_equal(
        DIFF_STR(
            "\"t-9\":{\"status\":\"done\",\"owner\":\"agent-5\",\"score\":572,\"attempts\":17}}",
            "\"t-9\":{\"status\":\"failed\",\"owner\":\"agent-5\",\"score\":101,\"attempts\":16}}",
            sp, &d),
        3);
    expectSplice(&sp[0], 17, 4, "failed");
    expectSplice(&sp[1], 49, 3, "101");
    expectSplice(&sp[2], 65, 1, "6");
    d.len = 0;
    /* changes 1 byte apart stay one splice */
    assert_int_equal(DIFF_STR("abcdefgh", "aXcYefgh", sp, &d), 1);
    expectSplice(&sp[0], 1, 3, "XcY");
    d.len = 0;
    /* a run of exactly 4 bytes splits; one of 3 does not */
    assert_int_equal(DIFF_STR("<Qwxyz!>", "<qwxyz?>", sp, &d), 2);
    expectSplice(&sp[0], 1, 1, "q");
    expectSplice(&sp[1], 6, 1, "?");
    d.len = 0;
    assert_int_equal(DIFF_STR("<Qwxy!>", "<qwxy?>", sp, &d), 1);
    expectSplice(&sp[0], 1, 5, "qwxy?");
    d.len = 0;
    /* insertions only (empty deletes), and the reverse: deletions only (empty inserts) */
    assert_int_equal(DIFF_STR("[common]", "[XXXXcommonYYYY]", sp, &d), 2);
    expectSplice(&sp[0], 1, 0, "XXXX");
    expectSplice(&sp[1], 7, 0, "YYYY");
    d.len = 0;
    assert_int_equal(DIFF_STR("[XXXXcommonYYYY]", "[common]", sp, &d), 2);
    expectSplice(&sp[0], 1, 4, "");
    expectSplice(&sp[1], 11, 4, "");
    d.len = 0;
    /* UTF-8: splits fall between any two bytes; the delta is exact all the same */
    assert_int_equal(DIFF_STR("«état: élevé, prix: 5 €»", "«état: élevè, prix: 6 €»", sp, &d), 2);
    assert_int_equal(sp[0].at, 15); /* the last byte of "é" */
    assert_int_equal(sp[1].at, 24);
    d.len = 0;
    swBufFree(&d);
}

/* With a side of 128 bytes or more the varints take 2 bytes: a run must be 6 bytes to split
 * a splice. Past 512 bytes a side (here 600 + 12 + 1), splices go out as the anchors found them. */
static void test_diff_split_wide(void **state) {
    (void)state;
    splice sp[8];
    swBuf d = {0};
    char a[1400], b[1400];
    static const struct {
        size_t side;
        const char *run;
        size_t splices;
    } cases[] = {{130, "123456", 2},       {130, "12345", 1}, {480, "123456789012", 2},
                 {600, "123456789012", 1}, {40, "1234", 2},   {40, "123", 1}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t side = cases[c].side, run = strlen(cases[c].run), n = 0;
        /* distinct letters on each side, so the run is the only common part */
        a[n] = b[n] = '[';
        n++;
        for (size_t k = 0; k < side; k++, n++) {
            a[n] = (char)('A' + k % 26);
            b[n] = (char)('a' + k % 26);
        }
        memcpy(a + n, cases[c].run, run);
        memcpy(b + n, cases[c].run, run);
        n += run;
        a[n] = '!';
        b[n] = '?';
        n++;
        a[n] = b[n] = ']';
        n++;
        size_t got = spliceList(a, n, b, n, sp, 8, &d);
        if (got != cases[c].splices) {
            fail_msg("side %zu run %zu: %zu splices, want %zu", side, run, got, cases[c].splices);
        }
        if (got == 2) {
            assert_int_equal(sp[0].at, 1);
            assert_int_equal(sp[0].del, side);
            assert_int_equal(sp[1].at, 1 + side + run);
            assert_int_equal(sp[1].del, 1);
        }
        d.len = 0;
    }
    swBufFree(&d);
}

/* A few edits within a hundred bytes or so of each other (so that the anchors see them as
 * one difference and the split finds common runs inside), both ways: the delta is exact,
 * no splice starts or ends with a byte that base and target share, and splices are at least
 * 4 bytes apart. */
static void test_diff_split_random(void **state) {
    (void)state;
    static splice sp[4096];
    swBuf d = {0};
    for (int iter = 0; iter < 4000; iter++) {
        size_t alen = below(3) == 0 ? below(64) : below(3000), blen;
        char *a = randomText(alen);
        char *b = malloc(alen + 64 * 16 + 1);
        if (b == NULL) abort();
        memcpy(b, a, alen);
        blen = alen;
        size_t at = below(alen + 1);
        int edits = 1 + (int)below(12);
        for (int e = 0; e < edits; e++) {
            /* near the previous edit, sometimes at the very start or end */
            size_t p = at + below(40) < 20 ? 0 : at + below(40) - 20;
            if (below(8) == 0) p = below(2) ? 0 : blen;
            if (p > blen) p = blen;
            size_t del = below(blen - p < 6 ? blen - p + 1 : 6), ins = below(6);
            memmove(b + p + ins, b + p + del, blen - p - del);
            for (size_t i = 0; i < ins; i++) {
                /* letters, or bytes of the text itself (look-alike content) */
                b[p + i] = below(2) ? (char)('A' + below(26)) : a[below(alen ? alen : 1)];
                if (alen == 0) b[p + i] = 'x';
            }
            blen = blen - del + ins;
            at = p;
        }
        for (int way = 0; way < 2; way++) {
            const char *x = way ? b : a, *y = way ? a : b;
            size_t xn = way ? blen : alen, yn = way ? alen : blen;
            size_t n = spliceList(x, xn, y, yn, sp, 4096, &d);
            assert_true(n <= 4096);
            for (size_t k = 0; k < n; k++) {
                if (k > 0 && sp[k].at < sp[k - 1].at + sp[k - 1].del + 4) {
                    fail_msg("splices %zu and %zu only %zu bytes apart", k - 1, k,
                             sp[k].at - sp[k - 1].at - sp[k - 1].del);
                }
                if (sp[k].del && sp[k].ins &&
                    (x[sp[k].at] == sp[k].lit[0] ||
                     x[sp[k].at + sp[k].del - 1] == sp[k].lit[sp[k].ins - 1])) {
                    fail_msg("splice %zu starts or ends with a common byte", k);
                }
            }
            d.len = 0;
        }
        free(a);
        free(b);
    }
    swBufFree(&d);
}

static void test_check_refuses_bad_deltas(void **state) {
    (void)state;
    swError err;
    size_t tlen;
    /* gap 5 beyond a base of 3 */
    assert_int_equal(swSpliceCheck("\x05\x00\x00", 3, 3, &tlen, &err), SW_ERR_CORRUPT);
    assert_string_equal(err.msg, "delta range beyond the base");
    /* delete beyond */
    assert_int_equal(swSpliceCheck("\x01\x03\x00", 3, 3, &tlen, &err), SW_ERR_CORRUPT);
    /* a literal longer than the delta */
    assert_int_equal(swSpliceCheck("\x00\x00\x05"
                                   "ab",
                                   5, 3, &tlen, &err),
                     SW_ERR_CORRUPT);
    assert_string_equal(err.msg, "truncated delta literal");
    /* a varint cut short, and one too long */
    assert_int_equal(swSpliceCheck("\x80", 1, 3, &tlen, &err), SW_ERR_CORRUPT);
    assert_string_equal(err.msg, "truncated delta");
    assert_int_equal(
        swSpliceCheck("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00", 13, 3, &tlen, &err),
        SW_ERR_CORRUPT);
    /* fine: keep 1, replace 1 by "xy", keep the rest */
    assert_int_equal(swSpliceCheck("\x01\x01\x02xy", 5, 3, &tlen, &err), SW_OK);
    assert_int_equal(tlen, 4);
    swBuf out = {0};
    swSpliceApply("\x01\x01\x02xy", 5, "abc", 3, &out);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "axyc", 4);
    swBufFree(&out);
    /* every truncation of a real delta is refused or harmless */
    char *a = randomText(3000);
    size_t blen;
    char *b = randomEdit(a, 3000, &blen, 5);
    swBuf d = {0};
    swSpliceDiff(a, 3000, b, blen, &d);
    for (size_t n = 0; n < d.len; n++) {
        char *cut = malloc(n ? n : 1);
        if (cut == NULL) abort();
        memcpy(cut, d.data, n);
        if (swSpliceCheck(cut, n, 3000, &tlen, NULL) == SW_OK) {
            swSpliceApply(cut, n, a, 3000, &out);
            assert_int_equal(out.len, tlen);
            out.len = 0;
        }
        free(cut);
    }
    swBufFree(&out);
    swBufFree(&d);
    free(a);
    free(b);
}

/* A chain of deltas, newest first (as the history applies them), through the rope and one
 * copy at a time. */
static void test_rope_matches_chain(void **state) {
    (void)state;
    for (int iter = 0; iter < 60; iter++) {
        int k = 1 + (int)below(300);
        size_t len[301];
        char *text[301];
        swBuf delta[301];
        text[0] = randomText(below(8000));
        len[0] = strlen(text[0]);
        for (int i = 1; i <= k; i++) {
            text[i] = randomEdit(text[i - 1], len[i - 1], &len[i], 1 + (int)below(3));
            delta[i] = (swBuf){0};
            /* delta[i] turns text[i] back into text[i - 1] */
            swSpliceDiff(text[i], len[i], text[i - 1], len[i - 1], &delta[i]);
        }
        swSpliceRope r;
        assert_int_equal(swSpliceRopeInit(&r, text[k], len[k]), SW_OK);
        for (int i = k; i >= 1; i--) {
            assert_int_equal(swSpliceRopeApply(&r, delta[i].data, delta[i].len), SW_OK);
            if (i % 37 == 0 || i == 1) {
                assert_int_equal(swSpliceRopeLen(&r), len[i - 1]);
                char *got = malloc(len[i - 1] + 1);
                if (got == NULL) abort();
                swSpliceRopeWrite(&r, got);
                if (len[i - 1]) assert_memory_equal(got, text[i - 1], len[i - 1]);
                free(got);
            }
        }
        swSpliceRopeFree(&r);
        for (int i = 0; i <= k; i++) {
            free(text[i]);
            if (i) swBufFree(&delta[i]);
        }
    }
}

/* A random delta for a base of blen bytes, written splice by splice (not by the diff), so
 * every shape occurs: splices at 0 and at the end, empty literals, deletions of everything,
 * many splices close together. Stores the length of the text it produces in *tlen. */
static int fragment; /* set: many splices that delete little, so the pieces multiply */

static void randomDelta(size_t blen, swBuf *d, size_t *tlen) {
    size_t pos = 0, out = 0, splices = below(4) == 0 ? below(3) : below(fragment ? 120 : 40);
    static const char lit[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (below(20) == 0) splices = 200;
    for (size_t i = 0; i < splices && pos <= blen; i++) {
        size_t left = blen - pos;
        size_t gap = below(4) == 0 ? 0 : below(left / (splices - i) + 1);
        size_t most = fragment ? 2 : 24;
        size_t del = below(3) == 0 ? 0 : below((left - gap < most ? left - gap : most) + 1);
        if (below(fragment ? 5000 : 50) == 0) del = left - gap; /* to the end */
        size_t n = below(3) == 0 ? 0 : below(sizeof(lit));
        if (gap == 0 && del == 0 && n == 0 && i > 0) continue;
        swBufPutVarint(d, gap);
        swBufPutVarint(d, del);
        swBufPutVarint(d, n);
        swBufAppend(d, lit + below(sizeof(lit) - n), n);
        pos += gap + del;
        out += gap + n;
    }
    *tlen = out + (blen - pos);
}

/* Long chains of random deltas through the rope equal the deltas applied one copy at a
 * time; the pieces grow into hundreds of chunks, so chunks are moved, merged, rebuilt and
 * drawn from several slabs. */
static void test_rope_random_deltas(void **state) {
    (void)state;
    rng = 0x40be;
    size_t most = 0;
    for (int iter = 0; iter < 40; iter++) {
        int k = 1 + (int)below(400);
        fragment = iter % 3 == 0;
        swBuf *delta = calloc((size_t)k, sizeof(swBuf));
        swBuf cur = {0}, next = {0};
        if (delta == NULL) abort();
        char *base = randomText(below(4) == 0 ? below(40) : below(30000));
        size_t blen = strlen(base);
        swBufAppend(&cur, base, blen);
        swSpliceRope r;
        assert_int_equal(swSpliceRopeInit(&r, base, blen), SW_OK);
        for (int i = 0; i < k; i++) {
            size_t tlen = 0, checked = 0;
            randomDelta(cur.len, &delta[i], &tlen);
            assert_int_equal(swSpliceCheck(delta[i].data, delta[i].len, cur.len, &checked, NULL),
                             SW_OK);
            assert_int_equal(checked, tlen);
            next.len = 0;
            swSpliceApply(delta[i].data, delta[i].len, cur.data, cur.len, &next);
            swBuf t = cur;
            cur = next;
            next = t;
            assert_int_equal(swSpliceRopeApply(&r, delta[i].data, delta[i].len), SW_OK);
            assert_int_equal(swSpliceRopeLen(&r), cur.len);
            if (r.n > most) most = r.n;
            if (i % 23 == 0 || i == k - 1) {
                char *got = malloc(cur.len + 1);
                if (got == NULL) abort();
                swSpliceRopeWrite(&r, got);
                if (cur.len) assert_memory_equal(got, cur.data, cur.len);
                free(got);
            }
        }
        swSpliceRopeFree(&r);
        for (int i = 0; i < k; i++) swBufFree(&delta[i]);
        free(delta);
        swBufFree(&cur);
        swBufFree(&next);
        free(base);
    }
    fragment = 0;
    print_message("most chunks in a rope: %zu\n", most);
    assert_true(most > 64); /* more than one slab */
}

/* swSpliceCount counts splices, empty ones included; a delta for a longer base than the
 * rope holds is refused, not read astray. */
static void test_splice_count_and_short_rope(void **state) {
    (void)state;
    swBuf d = {0};
    assert_int_equal(swSpliceCount("", 0), 0);
    swBufPutVarint(&d, 3);
    swBufPutVarint(&d, 2);
    swBufPutVarint(&d, 1);
    swBufAppend(&d, "x", 1);
    swBufPutVarint(&d, 0);
    swBufPutVarint(&d, 0);
    swBufPutVarint(&d, 0);
    swBufPutVarint(&d, 200);
    swBufPutVarint(&d, 1);
    swBufPutVarint(&d, 2);
    swBufAppend(&d, "yz", 2);
    assert_int_equal(swSpliceCount(d.data, d.len), 3);
    swSpliceRope r;
    assert_int_equal(swSpliceRopeInit(&r, "0123456789", 10), SW_OK);
    assert_int_equal(swSpliceRopeApply(&r, d.data, d.len), SW_ERR_CORRUPT);
    swSpliceRopeFree(&r);
    swBufFree(&d);
}

struct chainRun {
    const char *text;
    size_t len;
    const swBuf *delta;
    int k;
    swSpliceRope r;
};

static swStatus chainStep(void *arg) {
    struct chainRun *a = arg;
    swStatus st = swSpliceRopeInit(&a->r, a->text, a->len);
    for (int i = 0; st == SW_OK && i < a->k; i++) {
        st = swSpliceRopeApply(&a->r, a->delta[i].data, a->delta[i].len);
    }
    return st;
}

static void chainFailed(void *arg) {
    swSpliceRopeFree(&((struct chainRun *)arg)->r);
}

/* A chain long enough to need new slabs and larger chunk orders fails cleanly (nothing
 * leaks) at every allocation, and succeeds exactly once the allocations are let through. */
static void test_rope_chain_nomem(void **state) {
    (void)state;
    rng = 0xfa11;
    enum { K = 60 };
    swBuf delta[K], cur = {0}, next = {0};
    char *base = randomText(20000);
    swBufAppend(&cur, base, 20000);
    for (int i = 0; i < K; i++) {
        size_t tlen;
        delta[i] = (swBuf){0};
        do {
            delta[i].len = 0;
            randomDelta(cur.len, &delta[i], &tlen);
        } while (swSpliceCount(delta[i].data, delta[i].len) < 20);
        next.len = 0;
        swSpliceApply(delta[i].data, delta[i].len, cur.data, cur.len, &next);
        swBuf t = cur;
        cur = next;
        next = t;
    }
    struct chainRun run = {base, 20000, delta, K, {0}};
    assert_true(unitAllocSweep(chainStep, chainFailed, &run) >= 4);
    assert_int_equal(swSpliceRopeLen(&run.r), cur.len);
    char *got = malloc(cur.len + 1);
    if (got == NULL) abort();
    swSpliceRopeWrite(&run.r, got);
    if (cur.len) assert_memory_equal(got, cur.data, cur.len);
    free(got);
    swSpliceRopeFree(&run.r);
    for (int i = 0; i < K; i++) swBufFree(&delta[i]);
    swBufFree(&cur);
    swBufFree(&next);
    free(base);
}

struct ropeRun {
    const char *text;
    size_t len;
    const swBuf *diff;
    swSpliceRope r;
};

static swStatus ropeStep(void *arg) {
    struct ropeRun *a = arg;
    swStatus st = swSpliceRopeInit(&a->r, a->text, a->len);
    return st == SW_OK ? swSpliceRopeApply(&a->r, a->diff->data, a->diff->len) : st;
}

/* A failed rope is still the caller's to free. */
static void ropeFailed(void *arg) {
    swSpliceRopeFree(&((struct ropeRun *)arg)->r);
}

/* 40 edits far enough apart (more than the diff's 256-byte shift run) to stay 40 splices. */
#define ROPE_TEXT 50000

static void test_rope_nomem(void **state) {
    (void)state;
    char *a = randomText(ROPE_TEXT);
    size_t blen;
    char *b = randomEdit(a, ROPE_TEXT, &blen, 40);
    swBuf d = {0};
    swSpliceDiff(b, blen, a, ROPE_TEXT, &d);
    struct ropeRun run = {b, blen, &d, {0}};
    assert_true(unitAllocSweep(ropeStep, ropeFailed, &run) >= 2);
    char *got = malloc(ROPE_TEXT);
    if (got == NULL) abort();
    swSpliceRopeWrite(&run.r, got);
    assert_memory_equal(got, a, ROPE_TEXT);
    free(got);
    swSpliceRopeFree(&run.r);
    /* A failing diff latches its buffer. */
    swBuf f = {0};
    unitAllocFailAfter(0);
    swSpliceDiff(b, blen, a, ROPE_TEXT, &f);
    unitAllocFailAfter(-1);
    assert_true(swBufFailed(&f));
    swBufFree(&f);
    swBufFree(&d);
    free(a);
    free(b);
}

static void test_varint(void **state) {
    (void)state;
    static const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX};
    swBuf b = {0};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) swBufPutVarint(&b, values[i]);
    swReader r;
    swReaderInit(&r, b.data, b.len);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(swReadVarint(&r), values[i]);
    }
    assert_true(swReaderAtEnd(&r));
    swBufFree(&b);
    /* 2^64 does not fit */
    swReaderInit(&r, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
    swReadVarint(&r);
    assert_true(swReaderFailed(&r));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_exact),
        cmocka_unit_test(test_diff_small),
        cmocka_unit_test(test_diff_repetitive),
        cmocka_unit_test(test_diff_scratch_nomem),
        cmocka_unit_test(test_diff_shifted_list),
        cmocka_unit_test(test_diff_split_crafted),
        cmocka_unit_test(test_diff_split_wide),
        cmocka_unit_test(test_diff_split_random),
        cmocka_unit_test(test_check_refuses_bad_deltas),
        cmocka_unit_test(test_rope_matches_chain),
        cmocka_unit_test(test_rope_nomem),
        cmocka_unit_test(test_rope_random_deltas),
        cmocka_unit_test(test_splice_count_and_short_rope),
        cmocka_unit_test(test_rope_chain_nomem),
        cmocka_unit_test(test_varint),
    };
    return cmocka_run_group_tests(tests, unitAllocSetup, unitAllocTeardown);
}
