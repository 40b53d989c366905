/* test_trie.c -- unit tests of the subject-route trie (module/core/trie.c).
 *
 * Matching is checked as a set: the trie reports ids unordered, so every result is sorted
 * and compared with the exact expected set, which also proves each id is reported once. */
#include "unit_alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/event.h"
#include "swarm/trie.h"

#define MAXIDS 64

static int idCmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void insert(swTrie *t, const char *pattern, uint64_t id) {
    /* The trie trusts its caller to have validated the pattern: make sure the tests do. */
    assert_int_equal(swPatternCheck(pattern, strlen(pattern), 256, NULL), SW_OK);
    assert_int_equal(swTrieInsert(t, pattern, strlen(pattern), id), SW_OK);
}

/* Asserts that type matches exactly the n ids given (any order in, sorted compare). */
static void expectMatchV(const swTrie *t, const char *type, size_t n, const uint64_t *want) {
    swIdVec out = {0};
    assert_int_equal(swTrieMatch(t, type, strlen(type), &out), SW_OK);
    uint64_t w[MAXIDS];
    assert_true(n <= MAXIDS);
    /* A loop, not memcpy: gcc -O2 sees want NULL (with n 0) through EXPECT_NONE and warns. */
    for (size_t i = 0; i < n; i++) w[i] = want[i];
    qsort(w, n, sizeof(*w), idCmp);
    if (out.len) qsort(out.ids, out.len, sizeof(*out.ids), idCmp);
    if (out.len != n) {
        print_error("'%s': %zu ids, expected %zu\n", type, out.len, n);
    }
    assert_int_equal(out.len, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(out.ids[i], w[i]);
    swIdVecFree(&out);
}

#define EXPECT_NONE(t, type) expectMatchV(t, type, 0, NULL)
#define EXPECT(t, type, ...)                                                                       \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        expectMatchV(t, type, sizeof(want_) / sizeof(want_[0]) - 1, want_ + 1);                    \
    } while (0)

/* ---- Id vectors ---- */

static void test_idvec(void **state) {
    (void)state;
    swIdVec v = {0};
    for (uint64_t i = 0; i < 1000; i++) assert_int_equal(swIdVecPush(&v, i * 3), SW_OK);
    assert_int_equal(v.len, 1000);
    assert_true(v.cap >= 1000);
    for (uint64_t i = 0; i < 1000; i++) assert_int_equal(v.ids[i], i * 3);
    swIdVecFree(&v);
    assert_null(v.ids);
    assert_int_equal(v.len, 0);
    assert_int_equal(v.cap, 0);
    swIdVecFree(&v); /* twice is harmless */

    /* A failed push leaves the vector as it was. */
    for (uint64_t i = 0; i < 4; i++) assert_int_equal(swIdVecPush(&v, i), SW_OK);
    unitAllocFailAfter(0);
    assert_int_equal(swIdVecPush(&v, 99), SW_ERR_NOMEM);
    unitAllocFailAfter(-1);
    assert_int_equal(v.len, 4);
    for (uint64_t i = 0; i < 4; i++) assert_int_equal(v.ids[i], i);
    swIdVecFree(&v);
}

/* ---- Matching ---- */

static void test_trie_new_free(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    assert_non_null(t);
    EXPECT_NONE(t, "task");
    EXPECT_NONE(t, "task.done");
    assert_true(swTrieMemUsage(t) > 0);
    swTrieFree(t);
    swTrieFree(NULL);
}

static swStatus trieNewStep(void *arg) {
    swTrie **t = arg;
    *t = swTrieNew();
    return *t ? SW_OK : SW_ERR_NOMEM;
}

static void test_trie_new_nomem(void **state) {
    (void)state;
    swTrie *t;
    assert_true(unitAllocSweep(trieNewStep, NULL, &t) >= 1);
    swTrieFree(t);
}

static void test_trie_literal(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "task.done", 1);
    EXPECT(t, "task.done", 1);
    EXPECT_NONE(t, "task");
    EXPECT_NONE(t, "task.done.ok");
    EXPECT_NONE(t, "task.don");
    EXPECT_NONE(t, "task.doneX");
    EXPECT_NONE(t, "done.task");
    EXPECT_NONE(t, "Task.done"); /* case-sensitive */
    swTrieFree(t);
}

static void test_trie_star(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "task.*", 7);
    EXPECT(t, "task.done", 7);
    EXPECT(t, "task.x", 7);
    EXPECT_NONE(t, "task");
    EXPECT_NONE(t, "task.done.ok");
    EXPECT_NONE(t, "other.done");
    insert(t, "*", 8);
    EXPECT(t, "task", 8);
    EXPECT(t, "x", 8);
    EXPECT(t, "task.done", 7);
    insert(t, "*.done", 9);
    EXPECT(t, "task.done", 7, 9);
    EXPECT(t, "a.done", 9);
    EXPECT_NONE(t, "a.done.x");
    swTrieFree(t);
}

static void test_trie_gt(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "task.>", 4);
    EXPECT(t, "task.done", 4);
    EXPECT(t, "task.done.ok", 4);
    EXPECT(t, "task.a.b.c.d.e", 4);
    EXPECT_NONE(t, "task");
    EXPECT_NONE(t, "tasks.done");
    EXPECT_NONE(t, "other.task.done");
    insert(t, ">", 5);
    EXPECT(t, "task", 5);
    EXPECT(t, "x", 5);
    EXPECT(t, "a.b.c.d", 5);
    EXPECT(t, "task.done", 4, 5);
    insert(t, "*.>", 6);
    EXPECT(t, "task", 5);
    EXPECT(t, "task.done", 4, 5, 6);
    EXPECT(t, "a.b.c", 5, 6);
    swTrieFree(t);
}

static void test_trie_overlapping(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "a.b", 1);
    insert(t, "a.*", 2);
    insert(t, "*.b", 3);
    insert(t, "a.>", 4);
    insert(t, ">", 5);
    insert(t, "*.*", 6);
    insert(t, "a.b", 7); /* a second id on the same pattern */
    insert(t, "*.*.>", 8);
    EXPECT(t, "a.b", 1, 2, 3, 4, 5, 6, 7);
    EXPECT(t, "a.c", 2, 4, 5, 6);
    EXPECT(t, "c.b", 3, 5, 6);
    EXPECT(t, "c.d", 5, 6);
    EXPECT(t, "a", 5);
    EXPECT(t, "b", 5);
    EXPECT(t, "a.b.c", 4, 5, 8);
    EXPECT(t, "x.b.c", 5, 8);
    EXPECT(t, "a.b.c.d", 4, 5, 8);

    /* Removing one id keeps the others, including those sharing its pattern. */
    assert_int_equal(swTrieRemove(t, "a.b", 3, 1), 1);
    EXPECT(t, "a.b", 2, 3, 4, 5, 6, 7);
    assert_int_equal(swTrieRemove(t, "a.b", 3, 1), 0);
    assert_int_equal(swTrieRemove(t, "a.b", 3, 7), 1);
    EXPECT(t, "a.b", 2, 3, 4, 5, 6);
    assert_int_equal(swTrieRemove(t, "a.>", 3, 4), 1);
    EXPECT(t, "a.b", 2, 3, 5, 6);
    EXPECT(t, "a.b.c", 5, 8);
    assert_int_equal(swTrieRemove(t, ">", 1, 5), 1);
    EXPECT_NONE(t, "a");
    EXPECT(t, "a.b", 2, 3, 6);
    assert_int_equal(swTrieRemove(t, "*.*", 3, 6), 1);
    EXPECT(t, "a.b", 2, 3);
    EXPECT_NONE(t, "c.d");
    swTrieFree(t);
}

static void test_trie_remove_wrong(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "a.b", 1);
    insert(t, "a.>", 2);
    insert(t, "a.*", 3);
    /* Wrong id, wrong pattern, a prefix of a pattern, a pattern reaching the wrong kind. */
    assert_int_equal(swTrieRemove(t, "a.b", 3, 2), 0);
    assert_int_equal(swTrieRemove(t, "a.c", 3, 1), 0);
    assert_int_equal(swTrieRemove(t, "a", 1, 1), 0);
    assert_int_equal(swTrieRemove(t, "a.b.c", 5, 1), 0);
    assert_int_equal(swTrieRemove(t, "a.*", 3, 2), 0); /* 2 is under a.> */
    assert_int_equal(swTrieRemove(t, "a.>", 3, 3), 0); /* 3 is under a.* */
    assert_int_equal(swTrieRemove(t, ">", 1, 2), 0);
    assert_int_equal(swTrieRemove(t, "x.y.z", 5, 1), 0);
    EXPECT(t, "a.b", 1, 2, 3);
    assert_int_equal(swTrieRemove(t, "a.>", 3, 2), 1);
    assert_int_equal(swTrieRemove(t, "a.*", 3, 3), 1);
    assert_int_equal(swTrieRemove(t, "a.b", 3, 1), 1);
    EXPECT_NONE(t, "a.b");
    swTrieFree(t);
}

static void test_trie_exact(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    insert(t, "task.*", 1);
    insert(t, "task.>", 2);
    insert(t, "task.done", 3);
    insert(t, "task.*", 4);
    insert(t, ">", 5);
    size_t n = 99;
    const uint64_t *ids = swTrieExact(t, "task.*", 6, &n);
    assert_int_equal(n, 2);
    assert_non_null(ids);
    assert_true((ids[0] == 1 && ids[1] == 4) || (ids[0] == 4 && ids[1] == 1));
    ids = swTrieExact(t, "task.>", 6, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 2);
    ids = swTrieExact(t, "task.done", 9, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 3);
    ids = swTrieExact(t, ">", 1, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 5);
    /* Exact is not matching: task.x matches task.* but holds nothing itself. */
    n = 99;
    ids = swTrieExact(t, "task.x", 6, &n);
    assert_int_equal(n, 0);
    n = 99;
    swTrieExact(t, "task", 4, &n); /* an inner node with no pattern ending there */
    assert_int_equal(n, 0);
    n = 99;
    swTrieExact(t, "*", 1, &n);
    assert_int_equal(n, 0);
    n = 99;
    swTrieExact(t, "nope.x.y", 8, &n);
    assert_int_equal(n, 0);
    /* Exact never creates nodes. */
    size_t before = swTrieMemUsage(t);
    swTrieExact(t, "new.path.here", 13, &n);
    assert_int_equal(swTrieMemUsage(t), before);
    EXPECT(t, "new.path.here", 5);
    swTrieFree(t);
}

/* Many literal siblings stress the open-addressing child table: growth, probing and
 * backward-shift deletion must keep every remaining child reachable. */
static void test_trie_many_siblings(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    char p[64];
    const int n = 2000;
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "k%d", i);
        insert(t, p, (uint64_t)i + 1);
        snprintf(p, sizeof(p), "k%d.x", i);
        insert(t, p, (uint64_t)i + 1 + n);
    }
    /* Remove in a scrambled order: every third, then the leaves of every seventh. */
    for (int i = 0; i < n; i += 3) {
        snprintf(p, sizeof(p), "k%d", i);
        assert_int_equal(swTrieRemove(t, p, strlen(p), (uint64_t)i + 1), 1);
        snprintf(p, sizeof(p), "k%d.x", i);
        assert_int_equal(swTrieRemove(t, p, strlen(p), (uint64_t)i + 1 + n), 1);
    }
    for (int i = 1; i < n; i += 7) {
        if (i % 3 == 0) continue;
        snprintf(p, sizeof(p), "k%d.x", i);
        assert_int_equal(swTrieRemove(t, p, strlen(p), (uint64_t)i + 1 + n), 1);
    }
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "k%d", i);
        if (i % 3 == 0) {
            EXPECT_NONE(t, p);
        } else {
            EXPECT(t, p, (uint64_t)i + 1);
        }
        snprintf(p, sizeof(p), "k%d.x", i);
        if (i % 3 == 0 || i % 7 == 1) {
            EXPECT_NONE(t, p);
        } else {
            EXPECT(t, p, (uint64_t)i + 1 + n);
        }
    }
    swTrieFree(t);
}

/* ---- Memory ---- */

static void test_trie_remove_prunes(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    const size_t empty = swTrieMemUsage(t);
    static const char *const pats[] = {"a.b.c", "a.b.*", "a.>",     "*.*.>", ">",
                                       "*",     "x.y",   "x.y.z.w", "a.b.c", "*.b"};
    const size_t npats = sizeof(pats) / sizeof(pats[0]);
    char p[64];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < npats; i++) insert(t, pats[i], i + 1);
        for (int i = 0; i < 500; i++) {
            snprintf(p, sizeof(p), "svc%d.event.*", i);
            insert(t, p, (uint64_t)i + 100);
            snprintf(p, sizeof(p), "svc%d.>", i);
            insert(t, p, (uint64_t)i + 1000);
        }
        assert_true(swTrieMemUsage(t) > empty);
        for (size_t i = 0; i < npats; i++)
            assert_int_equal(swTrieRemove(t, pats[i], strlen(pats[i]), i + 1), 1);
        for (int i = 0; i < 500; i++) {
            snprintf(p, sizeof(p), "svc%d.event.*", i);
            assert_int_equal(swTrieRemove(t, p, strlen(p), (uint64_t)i + 100), 1);
            snprintf(p, sizeof(p), "svc%d.>", i);
            assert_int_equal(swTrieRemove(t, p, strlen(p), (uint64_t)i + 1000), 1);
        }
        EXPECT_NONE(t, "a.b.c");
        EXPECT_NONE(t, "svc1.event.x");
        /* Every node and table the patterns needed is gone again. */
        assert_int_equal(swTrieMemUsage(t), empty);
    }
    swTrieFree(t);
}

/* Regression: the root is never freed, and it used to keep the child table and id vectors
 * its removed patterns had grown, so an emptied trie never returned to its initial size. */
static void test_trie_emptied_root_releases_tables(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    const size_t empty = swTrieMemUsage(t);
    insert(t, "a", 1);
    assert_int_equal(swTrieRemove(t, "a", 1, 1), 1);
    assert_int_equal(swTrieMemUsage(t), empty);
    for (uint64_t i = 1; i <= 9; i++) insert(t, ">", i);
    for (uint64_t i = 1; i <= 9; i++) assert_int_equal(swTrieRemove(t, ">", 1, i), 1);
    assert_int_equal(swTrieMemUsage(t), empty);
    /* A table released when emptied is rebuilt on the next insert. */
    insert(t, "a.b", 2);
    insert(t, "c", 3);
    EXPECT(t, "a.b", 2);
    EXPECT(t, "c", 3);
    swTrieFree(t);
}

static void test_trie_memusage_tracks_growth(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    size_t prev = swTrieMemUsage(t);
    char p[64];
    for (int i = 0; i < 200; i++) {
        snprintf(p, sizeof(p), "grow%d.a.b", i);
        insert(t, p, (uint64_t)i + 1);
        size_t now = swTrieMemUsage(t);
        assert_true(now > prev); /* at least the token copies and the new nodes */
        prev = now;
    }
    swTrieFree(t);
}

/* ---- Scale ---- */

static void test_trie_ten_thousand_routes(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    char p[64];
    const int n = 10000;
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "svc%d.event.*", i);
        insert(t, p, (uint64_t)i + 1);
    }
    /* 100 '>' routes: svc<k>.> for k < 90, and a few catch-alls. */
    for (int k = 0; k < 90; k++) {
        snprintf(p, sizeof(p), "svc%d.>", k);
        insert(t, p, (uint64_t)20001 + k);
    }
    insert(t, "*.event.>", 30001);
    for (int k = 0; k < 9; k++) {
        snprintf(p, sizeof(p), "other%d.*.>", k);
        insert(t, p, (uint64_t)30002 + k);
    }
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "svc%d.event.created", i);
        if (i < 90) {
            EXPECT(t, p, (uint64_t)i + 1, (uint64_t)20001 + i, 30001);
        } else {
            EXPECT(t, p, (uint64_t)i + 1, 30001);
        }
    }
    EXPECT(t, "svc42.event", 20043);
    EXPECT(t, "svc42.event.x.y", 20043, 30001);
    EXPECT(t, "svc5000.event.x.y", 30001);
    EXPECT_NONE(t, "svc5000.event");
    EXPECT(t, "svc10000.event.x", 30001);
    EXPECT(t, "other3.a.b", 30005);
    EXPECT_NONE(t, "other3.a");
    EXPECT_NONE(t, "nothing.here");
    swTrieFree(t);
}

/* ---- Allocation failures ---- */

static const char *const probeTypes[] = {
    "a",   "a.b",       "a.b.c", "a.b.c.d", "x.y", "x.y.z", "new.deep.path.z",
    "new", "task.done", "k1",    "k2.x"};
#define NPROBES (sizeof(probeTypes) / sizeof(probeTypes[0]))

/* Records what every probe type matches, as sorted id lists. */
static void snapshotMatches(const swTrie *t, swIdVec *snap) {
    for (size_t i = 0; i < NPROBES; i++) {
        memset(&snap[i], 0, sizeof(snap[i]));
        assert_int_equal(swTrieMatch(t, probeTypes[i], strlen(probeTypes[i]), &snap[i]), SW_OK);
        if (snap[i].len) qsort(snap[i].ids, snap[i].len, sizeof(uint64_t), idCmp);
    }
}

static void assertSameMatches(const swTrie *t, const swIdVec *snap) {
    for (size_t i = 0; i < NPROBES; i++) expectMatchV(t, probeTypes[i], snap[i].len, snap[i].ids);
}

static void freeSnapshot(swIdVec *snap) {
    for (size_t i = 0; i < NPROBES; i++) swIdVecFree(&snap[i]);
}

typedef struct trieInsert {
    swTrie *t;
    const char *pattern;
    uint64_t id;
    swIdVec snap[NPROBES]; /* the matches before the insert */
} trieInsert;

static swStatus trieInsertStep(void *arg) {
    trieInsert *a = arg;
    return swTrieInsert(a->t, a->pattern, strlen(a->pattern), a->id);
}

/* A failed insert changed no match and left no trace of the id. */
static void trieInsertFailed(void *arg) {
    trieInsert *a = arg;
    assertSameMatches(a->t, a->snap);
    size_t cnt;
    const uint64_t *ids = swTrieExact(a->t, a->pattern, strlen(a->pattern), &cnt);
    for (size_t i = 0; i < cnt; i++) assert_int_not_equal(ids[i], a->id);
}

static void insertUnderFailures(swTrie *t, const char *pattern, uint64_t id) {
    trieInsert a = {.t = t, .pattern = pattern, .id = id};
    snapshotMatches(t, a.snap);
    unitAllocSweep(trieInsertStep, trieInsertFailed, &a);
    freeSnapshot(a.snap);
    size_t cnt;
    const uint64_t *ids = swTrieExact(t, pattern, strlen(pattern), &cnt);
    int found = 0;
    for (size_t i = 0; i < cnt; i++) found += ids[i] == id;
    assert_int_equal(found, 1);
}

static void test_trie_insert_nomem(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    /* Into an empty trie: every node of the path is new. */
    insertUnderFailures(t, "new.deep.path.*", 1);
    EXPECT(t, "new.deep.path.z", 1);
    insertUnderFailures(t, "a.b", 2);
    insertUnderFailures(t, "a.b", 3); /* existing node */
    insertUnderFailures(t, "a.b", 4);
    insertUnderFailures(t, "a.b", 5);
    insertUnderFailures(t, "a.b", 6); /* the id vector grows past 4 */
    insertUnderFailures(t, "a.>", 7);
    insertUnderFailures(t, ">", 8);
    insertUnderFailures(t, "*", 9);
    insertUnderFailures(t, "*.*.>", 10);
    insertUnderFailures(t, "a.b.c.d", 11); /* shares a prefix with a.b */
    /* Enough root children that the child table must grow under failure. */
    char p[32];
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof(p), "k%d.x", i);
        insertUnderFailures(t, p, (uint64_t)100 + i);
    }
    EXPECT(t, "a.b", 2, 3, 4, 5, 6, 7, 8);
    EXPECT(t, "a.b.c.d", 7, 8, 10, 11);
    EXPECT(t, "k2.x", 8, 102);
    EXPECT(t, "x", 8, 9);
    swTrieFree(t);
}

/* A failed insert frees the nodes it created: once the other patterns are removed the trie
 * is back to its empty size (empty nodes would match nothing, but would hold memory until
 * the trie is freed). */
static void test_trie_failed_insert_leaves_no_nodes(void **state) {
    (void)state;
    static const char *const pats[] = {"x.y.z.>", "a.new.*", "*.*.q", "a.b.c.d"};
    for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
        for (long n = 0;; n++) {
            swTrie *t = swTrieNew();
            const size_t empty = swTrieMemUsage(t);
            insert(t, "a.b", 1);
            unitAllocFailAfter(n);
            swStatus st = swTrieInsert(t, pats[p], strlen(pats[p]), 2);
            unitAllocFailAfter(-1);
            if (st == SW_OK) {
                swTrieFree(t);
                break;
            }
            assert_int_equal(swTrieRemove(t, "a.b", 3, 1), 1);
            assert_int_equal(swTrieMemUsage(t), empty);
            swTrieFree(t);
        }
    }
}

static swStatus trieMatchStep(void *t) {
    swIdVec out = {0};
    swStatus st = swTrieMatch(t, "a.b", 3, &out);
    swIdVecFree(&out); /* a partial result is the caller's to free */
    return st;
}

static void test_trie_match_nomem(void **state) {
    (void)state;
    swTrie *t = swTrieNew();
    for (uint64_t i = 1; i <= 10; i++) insert(t, ">", i);
    insert(t, "a.*", 11);
    unitAllocSweep(trieMatchStep, NULL, t);
    EXPECT(t, "a.b", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    swTrieFree(t);
}

/* ---- No recursion: the deepest patterns on a small stack ---- */

/* 32,768 tokens, the most a 65,535-byte pattern holds. A recursive trie needs a C frame per
 * token (over a megabyte here): a restored table with such a pattern crashed the server at
 * MATCH, and at DEL. Every operation below runs on a 64 KB thread stack, so any recursion
 * per token overflows it and the test dies. */
#define DEEP_TOKENS 32768
#define DEEP_STACK (64 * 1024)

typedef struct deepRun {
    char *lit;    /* a.a.a...a */
    char *stars;  /* a.*.a.*... */
    char *gt;     /* a.a...a.> (the last token of lit replaced by '>') */
    char *type;   /* equal to lit */
    size_t len;   /* of lit, stars, gt and type */
    size_t empty; /* swTrieMemUsage of an empty trie */
    int step;     /* the last step that passed */
} deepRun;

static void *deepOps(void *arg) {
    deepRun *d = arg;
    swTrie *t = swTrieNew();
    if (t == NULL) return NULL;
    if (swTrieInsert(t, d->lit, d->len, 1) != SW_OK) goto out;
    if (swTrieInsert(t, d->stars, d->len, 2) != SW_OK) goto out;
    if (swTrieInsert(t, d->gt, d->len, 3) != SW_OK) goto out;
    d->step = 1;

    swIdVec v = {0};
    swStatus st = swTrieMatch(t, d->type, d->len, &v);
    int seen = 0;
    for (size_t i = 0; i < v.len; i++) seen |= 1 << v.ids[i];
    size_t n = v.len;
    swIdVecFree(&v);
    if (st != SW_OK || n != 3 || seen != 0xE) goto out;
    /* One token short: only 'a.a...a.>' cannot match (it needs one more token). */
    st = swTrieMatch(t, d->type, d->len - 2, &v);
    n = v.len;
    swIdVecFree(&v);
    if (st != SW_OK || n != 0) goto out;
    d->step = 2;

    size_t cnt;
    const uint64_t *ids = swTrieExact(t, d->stars, d->len, &cnt);
    if (cnt != 1 || ids[0] != 2) goto out;
    d->step = 3;

    /* Removing prunes a 32,768-node path; the other two stay. */
    if (swTrieRemove(t, d->stars, d->len, 2) != 1) goto out;
    st = swTrieMatch(t, d->type, d->len, &v);
    n = v.len;
    swIdVecFree(&v);
    if (st != SW_OK || n != 2) goto out;
    if (swTrieRemove(t, d->lit, d->len, 1) != 1 || swTrieRemove(t, d->gt, d->len, 3) != 1) goto out;
    if (swTrieMemUsage(t) != d->empty) goto out;
    d->step = 4;

    /* Freeing a trie that still holds the deep paths. */
    if (swTrieInsert(t, d->lit, d->len, 1) != SW_OK) goto out;
    if (swTrieInsert(t, d->stars, d->len, 2) != SW_OK) goto out;
    d->step = 5;
out:
    swTrieFree(t);
    return NULL;
}

static void test_trie_deep_pattern_small_stack(void **state) {
    (void)state;
    deepRun d = {0};
    d.len = DEEP_TOKENS * 2 - 1;
    d.lit = test_malloc(d.len + 1);
    d.stars = test_malloc(d.len + 1);
    d.gt = test_malloc(d.len + 1);
    for (size_t i = 0; i < d.len; i++) {
        int sep = i % 2 == 1;
        d.lit[i] = sep ? '.' : 'a';
        d.stars[i] = sep ? '.' : (i / 2) % 2 ? '*' : 'a';
        d.gt[i] = d.lit[i];
    }
    d.gt[d.len - 1] = '>';
    d.lit[d.len] = d.stars[d.len] = d.gt[d.len] = '\0';
    d.type = d.lit;
    assert_int_equal(swPatternCheck(d.lit, d.len, 65536, NULL), SW_OK);
    assert_int_equal(swPatternCheck(d.stars, d.len, 65536, NULL), SW_OK);
    assert_int_equal(swPatternCheck(d.gt, d.len, 65536, NULL), SW_OK);
    swTrie *t = swTrieNew();
    d.empty = swTrieMemUsage(t);
    swTrieFree(t);

    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, DEEP_STACK), 0);
    assert_int_equal(pthread_create(&th, &attr, deepOps, &d), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&attr);
    if (d.step != 5) print_error("deep trie stopped after step %d\n", d.step);
    assert_int_equal(d.step, 5);
    test_free(d.lit);
    test_free(d.stars);
    test_free(d.gt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idvec),
        cmocka_unit_test(test_trie_new_free),
        cmocka_unit_test(test_trie_new_nomem),
        cmocka_unit_test(test_trie_literal),
        cmocka_unit_test(test_trie_star),
        cmocka_unit_test(test_trie_gt),
        cmocka_unit_test(test_trie_overlapping),
        cmocka_unit_test(test_trie_remove_wrong),
        cmocka_unit_test(test_trie_exact),
        cmocka_unit_test(test_trie_many_siblings),
        cmocka_unit_test(test_trie_remove_prunes),
        cmocka_unit_test(test_trie_emptied_root_releases_tables),
        cmocka_unit_test(test_trie_memusage_tracks_growth),
        cmocka_unit_test(test_trie_ten_thousand_routes),
        cmocka_unit_test(test_trie_insert_nomem),
        cmocka_unit_test(test_trie_failed_insert_leaves_no_nodes),
        cmocka_unit_test(test_trie_match_nomem),
        cmocka_unit_test(test_trie_deep_pattern_small_stack),
    };
    return cmocka_run_group_tests_name("trie", tests, unitAllocSetup, unitAllocTeardown);
}
