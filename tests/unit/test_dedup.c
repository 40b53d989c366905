/* test_dedup.c -- unit tests of the de-duplication window (module/core/dedup.c): lookups,
 * expiry by the given clock, the bound (oldest forgotten first), a MSGID accepted again
 * after it expired, a randomized comparison with a plain list, entries carved from chunks
 * (prepared and discarded, memory given back as entries are forgotten), and allocation
 * failures. */
#include "unit_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/dedup.h"

static int find(const swDedup *d, const char *id, int64_t now, uint64_t *seq) {
    swDedupEntry e;
    if (!swDedupFind(d, id, strlen(id), now, &e)) return 0;
    if (seq) *seq = e.idSeq;
    return 1;
}

static void remember(swDedup *d, const char *id, uint64_t seq, int64_t expires, int64_t now,
                     uint64_t max) {
    assert_int_equal(swDedupRemember(d, id, strlen(id), 1000, seq, expires, now, max), SW_OK);
}

static void test_find_expire_and_bound(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    assert_non_null(d);
    assert_int_equal(find(NULL, "a", 0, NULL), 0);
    assert_int_equal(find(d, "a", 0, NULL), 0);
    remember(d, "a", 1, 100, 0, 10);
    remember(d, "b", 2, 150, 10, 10);
    uint64_t seq = 0;
    assert_true(find(d, "a", 99, &seq));
    assert_int_equal(seq, 1);
    assert_false(find(d, "a", 100, NULL)); /* expired exactly at expiresMs */
    assert_true(find(d, "b", 100, &seq));
    assert_int_equal(seq, 2);
    assert_false(find(d, "c", 0, NULL));
    assert_false(find(d, "ab", 0, NULL));
    assert_int_equal(swDedupCount(d), 2);
    /* Remembering at 120 forgets "a" (expired, at the front) but keeps "b". */
    remember(d, "c", 3, 300, 120, 10);
    assert_int_equal(swDedupCount(d), 2);
    swDedupEntry e;
    swDedupAt(d, 0, &e);
    assert_int_equal(e.len, 1);
    assert_memory_equal(e.msgid, "b", 1);
    /* The bound: the oldest goes first. */
    remember(d, "d", 4, 300, 120, 2);
    assert_int_equal(swDedupCount(d), 2);
    assert_false(find(d, "b", 120, NULL));
    assert_true(find(d, "c", 120, NULL));
    assert_true(find(d, "d", 120, NULL));
    remember(d, "e", 5, 300, 120, 1);
    assert_int_equal(swDedupCount(d), 1);
    assert_true(find(d, "e", 120, NULL));
    swDedupFree(d);
    swDedupFree(NULL);
}

/* An expired MSGID that is not at the front is still remembered; accepting it again moves it
 * to the back with its new id. */
static void test_expired_msgid_accepted_again(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    remember(d, "long", 1, 1000, 0, 10);
    remember(d, "short", 2, 50, 0, 10);
    remember(d, "other", 3, 1000, 0, 10);
    assert_false(find(d, "short", 60, NULL));
    remember(d, "short", 9, 500, 60, 10);
    assert_int_equal(swDedupCount(d), 3);
    uint64_t seq;
    assert_true(find(d, "short", 60, &seq));
    assert_int_equal(seq, 9);
    const char *order[] = {"long", "other", "short"};
    for (size_t i = 0; i < 3; i++) {
        swDedupEntry e;
        swDedupAt(d, i, &e);
        assert_int_equal(e.len, strlen(order[i]));
        assert_memory_equal(e.msgid, order[i], e.len);
    }
    assert_true(find(d, "long", 60, NULL));
    assert_true(find(d, "other", 60, NULL));
    swDedupFree(d);
}

static void test_append_refuses_bad_entries(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    swDedupEntry e = {"x", 1, 5, 6, 7};
    assert_int_equal(swDedupAppend(d, &e), SW_OK);
    assert_int_equal(swDedupAppend(d, &e), SW_ERR_CORRUPT); /* twice */
    e.len = 0;
    assert_int_equal(swDedupAppend(d, &e), SW_ERR_CORRUPT);
    char big[SW_DEDUP_KEY_MAX + 1];
    memset(big, 'k', sizeof(big));
    e = (swDedupEntry){big, sizeof(big), 1, 1, 1};
    assert_int_equal(swDedupAppend(d, &e), SW_ERR_CORRUPT);
    e.len = SW_DEDUP_KEY_MAX;
    assert_int_equal(swDedupAppend(d, &e), SW_OK);
    assert_int_equal(swDedupCount(d), 2);
    assert_true(swDedupMemUsage(d) > 2 * SW_DEDUP_KEY_MAX);
    swDedupFree(d);
}

/* ---- Randomized: the window against a plain list ---- */

typedef struct ref {
    char id[16];
    uint64_t seq;
    int64_t expires;
} ref;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_randomized_against_a_list(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    ref *list = calloc(5000, sizeof(*list));
    size_t n = 0;
    int64_t now = 0;
    const uint64_t max = 300;
    for (uint64_t step = 1; step <= 20000; step++) {
        now += (int64_t)(rnd() % 3);
        char id[16];
        snprintf(id, sizeof(id), "m%u", (unsigned)(rnd() % 600));
        /* The reference: expired entries at the front forgotten, then lookup. */
        size_t k = 0;
        while (k < n && list[k].expires <= now) k++;
        memmove(list, list + k, (n - k) * sizeof(*list));
        n -= k;
        int want = 0;
        size_t at = n;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(list[i].id, id) == 0) {
                at = i;
                want = list[i].expires > now;
            }
        }
        uint64_t seq = 0;
        int got = find(d, id, now, &seq);
        assert_int_equal(got, want);
        if (got) {
            assert_int_equal(seq, list[at].seq);
            continue;
        }
        int64_t expires = now + 1 + (int64_t)(rnd() % 200);
        remember(d, id, step, expires, now, max);
        if (at < n) {
            memmove(list + at, list + at + 1, (n - at - 1) * sizeof(*list));
            n--;
        }
        list[n++] = (ref){{0}, step, expires};
        snprintf(list[n - 1].id, sizeof(list[n - 1].id), "%s", id);
        if (n > max) {
            memmove(list, list + 1, (n - 1) * sizeof(*list));
            n--;
        }
        assert_int_equal(swDedupCount(d), n);
    }
    for (size_t i = 0; i < n; i++) {
        swDedupEntry e;
        swDedupAt(d, i, &e);
        assert_int_equal(e.len, strlen(list[i].id));
        assert_memory_equal(e.msgid, list[i].id, e.len);
        assert_int_equal(e.idSeq, list[i].seq);
    }
    free(list);
    swDedupFree(d);
}

/* ---- Chunks ---- */

/* A prepared entry discarded gives its bytes back: preparing and discarding over and over
 * neither grows the window's memory nor changes what it remembers, and the next entry is
 * remembered as usual. Also when the prepare took a new chunk, and in a new window. */
static void test_prepare_and_discard(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    swDedupNode *n;
    assert_int_equal(swDedupPrepare(d, "p", 1, &n), SW_OK);
    swDedupDiscard(n);
    swDedupDiscard(NULL);
    assert_int_equal(swDedupCount(d), 0);
    assert_false(find(d, "p", 0, NULL));
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "kept-%d", i);
        remember(d, id, (uint64_t)i, 1000, 0, 100);
    }
    size_t mem = swDedupMemUsage(d);
    for (int i = 0; i < 1000; i++) {
        /* Long MSGIDs, so that some prepares need a chunk of their own. */
        char big[SW_DEDUP_KEY_MAX];
        memset(big, 'a' + i % 26, sizeof(big));
        assert_int_equal(swDedupPrepare(d, big, (size_t)(1 + i % SW_DEDUP_KEY_MAX), &n), SW_OK);
        swDedupDiscard(n);
        assert_int_equal(swDedupCount(d), 50);
    }
    /* At most the one chunk a discarded prepare left as the tail more. */
    assert_true(swDedupMemUsage(d) <= mem + 16384);
    remember(d, "after", 99, 1000, 0, 100);
    uint64_t seq = 0;
    assert_true(find(d, "after", 0, &seq));
    assert_int_equal(seq, 99);
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "kept-%d", i);
        assert_true(find(d, id, 0, &seq));
        assert_int_equal(seq, (uint64_t)i);
    }
    swDedupFree(d);
}

/* Memory follows what is remembered: a window that keeps forgetting (bound or expiry) stays
 * the same size however many MSGIDs pass through it, and gives its chunks back when its
 * entries expire. */
static void test_memory_follows_the_window(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    char id[48];
    size_t mem1000 = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof(id), "3f2b8c1e-0000-4000-8000-%012d", i);
        remember(d, id, (uint64_t)i, 10 + i, i, 1000);
        if (i == 1999) mem1000 = swDedupMemUsage(d);
    }
    assert_int_equal(swDedupCount(d), 10);
    size_t memExpiring = swDedupMemUsage(d);
    assert_true(memExpiring <= mem1000);
    /* By the bound alone. */
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof(id), "bound-%d", i);
        remember(d, id, (uint64_t)i, 1000000, 30000, 1000);
        if (i == 1999) mem1000 = swDedupMemUsage(d);
    }
    assert_int_equal(swDedupCount(d), 1000);
    assert_true(swDedupMemUsage(d) <= mem1000 + 16384);
    /* Everything expired: one more entry forgets the rest, and their chunks go (the ring and
     * index keep their size; the tail chunk may stay). */
    remember(d, "last", 1, 3000000, 2000000, 1000);
    assert_int_equal(swDedupCount(d), 1);
    assert_true(swDedupMemUsage(d) + 1000 * 48 <= mem1000 + 16384);
    assert_true(find(d, "last", 2000000, NULL));
    swDedupFree(d);
}

/* Every allocation of Remember can fail and leaves the window as it was. */
static void test_allocation_failures(void **state) {
    (void)state;
    swDedup *d = swDedupNew();
    long failures = 0;
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof(id), "id-%d", i);
        for (long k = 0;; k++) {
            size_t before = swDedupCount(d);
            unitAllocFailAfter(k);
            swStatus st = swDedupRemember(d, id, strlen(id), 1, (uint64_t)i, 1000, 0, 30);
            unitAllocFailAfter(-1);
            if (st == SW_OK) break;
            assert_int_equal(st, SW_ERR_NOMEM);
            failures++;
            assert_int_equal(swDedupCount(d), before);
            assert_false(find(d, id, 0, NULL));
        }
        assert_true(find(d, id, 0, NULL));
    }
    assert_int_equal(swDedupCount(d), 30);
    /* The ring and index grew three times (two allocations each) and entries took several
     * chunks: each allocation failed once. */
    assert_true(failures >= 10);
    unitAllocFailAfter(0);
    assert_null(swDedupNew());
    unitAllocFailAfter(-1);
    swDedupFree(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_expire_and_bound),
        cmocka_unit_test(test_expired_msgid_accepted_again),
        cmocka_unit_test(test_append_refuses_bad_entries),
        cmocka_unit_test(test_randomized_against_a_list),
        cmocka_unit_test(test_prepare_and_discard),
        cmocka_unit_test(test_memory_follows_the_window),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests_name("dedup", tests, unitAllocSetup, unitAllocTeardown);
}
