/* test_regex.c -- unit tests of the PCRE2 wrapper (module/core/regex.c).
 *
 * Patterns are anchored at both ends; compile errors carry PCRE2's offset and message;
 * matching is bounded by the match, depth and heap limits, each reported as its own result;
 * every allocation goes through the core allocator, so cmocka sees leaks, failures can be
 * injected at every allocation and the bytes a match holds can be counted. */
#include "unit_alloc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "swarm/alloc.h"
#include "swarm/regex.h"

static swRegex *compile(const char *pattern) {
    swRegex *re = NULL;
    swError err;
    swStatus st = swRegexCompile(pattern, strlen(pattern), &re, &err);
    if (st != SW_OK) print_error("'%s': %s\n", pattern, err.msg);
    assert_int_equal(st, SW_OK);
    assert_non_null(re);
    return re;
}

static int match(swRegex *re, const char *subject) {
    return swRegexMatch(re, subject, strlen(subject));
}

/* ---- Anchoring ---- */

static void test_regex_anchored_both_ends(void **state) {
    (void)state;
    swRegex *re = compile("task");
    assert_int_equal(match(re, "task"), 1);
    assert_int_equal(match(re, "task.done"), 0);
    assert_int_equal(match(re, "my.task"), 0);
    assert_int_equal(match(re, "xtaskx"), 0);
    assert_int_equal(match(re, "tas"), 0);
    assert_int_equal(match(re, ""), 0);
    swRegexFree(re);

    re = compile("task.*");
    assert_int_equal(match(re, "task.done"), 1);
    assert_int_equal(match(re, "task"), 1);
    assert_int_equal(match(re, "task.done.ok"), 1);
    assert_int_equal(match(re, "a.task.done"), 0);
    swRegexFree(re);

    re = compile("task\\.[a-z]+");
    assert_int_equal(match(re, "task.done"), 1);
    assert_int_equal(match(re, "task.done.ok"), 0);
    assert_int_equal(match(re, "taskXdone"), 0);
    swRegexFree(re);

    re = compile(".*done");
    assert_int_equal(match(re, "task.done"), 1);
    assert_int_equal(match(re, "task.done.x"), 0);
    swRegexFree(re);
}

static void test_regex_alternation_whole(void **state) {
    (void)state;
    swRegex *re = compile("a|b");
    assert_int_equal(match(re, "a"), 1);
    assert_int_equal(match(re, "b"), 1);
    assert_int_equal(match(re, "ab"), 0);
    assert_int_equal(match(re, "ba"), 0);
    assert_int_equal(match(re, "xa"), 0);
    assert_int_equal(match(re, "bx"), 0);
    assert_int_equal(match(re, ""), 0);
    swRegexFree(re);

    /* The end anchor applies to the whole match: a shorter first alternative that does not
     * reach the end must give way to a longer one. */
    re = compile("a|ab");
    assert_int_equal(match(re, "ab"), 1);
    assert_int_equal(match(re, "a"), 1);
    assert_int_equal(match(re, "abc"), 0);
    swRegexFree(re);

    re = compile("task\\.(created|done)|agent\\..*");
    assert_int_equal(match(re, "task.done"), 1);
    assert_int_equal(match(re, "agent.x.y"), 1);
    assert_int_equal(match(re, "task.done.x"), 0);
    assert_int_equal(match(re, "x.agent.y"), 0);
    swRegexFree(re);
}

static void test_regex_empty_and_binary(void **state) {
    (void)state;
    swRegex *re = compile("");
    assert_int_equal(match(re, ""), 1);
    assert_int_equal(match(re, "a"), 0);
    swRegexFree(re);

    /* Length governs, not NUL termination, for both the pattern and the subject. */
    re = NULL;
    assert_int_equal(swRegexCompile("a\0b", 3, &re, NULL), SW_OK);
    assert_int_equal(swRegexMatch(re, "a\0b", 3), 1);
    assert_int_equal(swRegexMatch(re, "a", 1), 0);
    assert_int_equal(swRegexMatch(re, "a\0bc", 3), 1);
    assert_int_equal(swRegexMatch(re, "a\0bc", 4), 0);
    swRegexFree(re);

    re = NULL;
    assert_int_equal(swRegexCompile("abcdef", 3, &re, NULL), SW_OK); /* "abc" */
    assert_int_equal(match(re, "abc"), 1);
    assert_int_equal(match(re, "abcdef"), 0);
    swRegexFree(re);
    swRegexFree(NULL);
}

static void test_regex_memusage(void **state) {
    (void)state;
    swRegex *small = compile("a");
    swRegex *big = compile("(alpha|beta|gamma|delta)\\.[a-z0-9]{1,20}\\.(x|y|z)+");
    assert_true(swRegexMemUsage(small) > 0);
    assert_true(swRegexMemUsage(big) > swRegexMemUsage(small));
    swRegexFree(small);
    swRegexFree(big);
}

/* ---- Memory: counted exactly, bounded by the heap limit, nothing kept ---- */

/* An allocator that counts the live bytes requested through it and their peak. */
typedef union countHeader {
    size_t size;
    max_align_t align;
} countHeader;

static size_t countLive, countPeak;

static void countAdd(size_t n) {
    countLive += n;
    if (countLive > countPeak) countPeak = countLive;
}
static void *countMalloc(size_t n) {
    countHeader *h = test_malloc(sizeof(*h) + n);
    h->size = n;
    countAdd(n);
    return h + 1;
}
static void *countCalloc(size_t n, size_t sz) {
    void *p = countMalloc(n * sz);
    memset(p, 0, n * sz);
    return p;
}
static void countFree(void *p) {
    if (p == NULL) return;
    countHeader *h = (countHeader *)p - 1;
    countLive -= h->size;
    test_free(h);
}
static void *countRealloc(void *p, size_t n) {
    void *q = countMalloc(n);
    if (p) {
        size_t old = ((countHeader *)p - 1)->size;
        memcpy(q, p, old < n ? old : n);
        countFree(p);
    }
    return q;
}

static void countInstall(void) {
    static const swAllocator a = {countMalloc, countCalloc, countRealloc, countFree, NULL};
    swSetAllocator(&a);
    countLive = countPeak = 0;
}

static void test_regex_memusage_exact(void **state) {
    countInstall();
    static const char *const patterns[] = {"a", "task\\..*", "(a|b)*c",
                                           "(alpha|beta|gamma)\\.[a-z]{1,8}(\\.x)?"};
    for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
        size_t before = countLive;
        swRegex *re = compile(patterns[p]);
        size_t held = countLive - before;
        assert_int_equal(swRegexMemUsage(re), held);
        /* Matching allocates and frees: what the regex holds does not change. */
        assert_int_equal(match(re, "abac"), p == 2);
        assert_int_equal(match(re, "task.x"), p == 1);
        assert_int_equal(countLive - before, held);
        assert_int_equal(swRegexMemUsage(re), held);
        swRegexFree(re);
        assert_int_equal(countLive, before);
    }
    unitAllocSetup(state);
}

/* '()' x 6000 then '(?:a)*b': every backtracking frame carries 6000 capture slots (96 KB),
 * and a 253-byte subject of a's ending in 'b' stacks one frame per 'a'. */
static char *attackPattern(size_t *len) {
    static char pat[6000 * 2 + 8];
    size_t n = 0;
    for (int i = 0; i < 6000; i++) {
        pat[n++] = '(';
        pat[n++] = ')';
    }
    memcpy(pat + n, "(?:a)*b", 7);
    *len = n + 7;
    return pat;
}

/* Regression for the attack of three ALLOW rules of this pattern and one MATCH of a
 * 253-byte type: each rule's kept match data grew to 123 MB of frames (369 MB that stayed
 * allocated) and the depth limit reported it only after the memory was spent. Now each
 * match stops at the heap limit, says so, and frees everything before returning. */
static void test_regex_heap_limit_bounds_attack(void **state) {
    countInstall();
    size_t plen;
    const char *pat = attackPattern(&plen);
    char type[253];
    memset(type, 'a', sizeof(type) - 1);
    type[sizeof(type) - 1] = 'b';

    swRegex *rules[3];
    for (int i = 0; i < 3; i++) {
        rules[i] = NULL;
        assert_int_equal(swRegexCompile(pat, plen, &rules[i], NULL), SW_OK);
    }
    static const uint32_t limits[] = {SW_REGEX_HEAP_LIMIT_KB_DEFAULT, 4096, 64};
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        swRegexSetHeapLimitKb(limits[l]);
        size_t base = countLive;
        countPeak = countLive;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 3; i++) {
                swRegexResult r = swRegexMatch(rules[i], type, sizeof(type));
                /* The interpreter runs this pattern (too large for the JIT here). */
                assert_int_equal(r, SW_REGEX_LIMIT_HEAP);
                assert_true(swRegexIsLimit(r));
                assert_string_equal(swRegexResultText(r), "the PCRE2 heap limit");
                /* Nothing stays once the match returns. */
                assert_int_equal(countLive, base);
            }
        }
        /* While a match runs: at most the limit, twice while the frame vector is copied to
         * a larger one, plus the match data. */
        size_t limitBytes = (size_t)limits[l] * 1024;
        if (countPeak - base > 2 * limitBytes + 4096)
            print_error("limit %u KB: peak %zu bytes\n", limits[l], countPeak - base);
        assert_true(countPeak - base <= 2 * limitBytes + 4096);
    }
    /* Each empty group stacks a frame, so this pattern needs 6000 frames (576 GB) for any
     * subject: it can never match within a limit. Without the groups, the same regex
     * matches the same type well within the default limit. */
    swRegexSetHeapLimitKb(SW_REGEX_HEAP_LIMIT_KB_DEFAULT);
    assert_int_equal(swRegexMatch(rules[0], "ab", 2), SW_REGEX_LIMIT_HEAP);
    swRegex *plain = compile("(?:a)*b");
    assert_int_equal(swRegexMatch(plain, type, sizeof(type)), SW_REGEX_MATCH);
    assert_int_equal(swRegexMatch(plain, type, sizeof(type) - 1), SW_REGEX_NOMATCH);
    swRegexFree(plain);
    for (int i = 0; i < 3; i++) swRegexFree(rules[i]);
    assert_int_equal(countLive, 0);
    unitAllocSetup(state);
}

static void test_regex_heap_limit_setting(void **state) {
    (void)state;
    assert_int_equal(swRegexHeapLimitKb(), SW_REGEX_HEAP_LIMIT_KB_DEFAULT);
    swRegexSetHeapLimitKb(0);
    assert_int_equal(swRegexHeapLimitKb(), SW_REGEX_HEAP_LIMIT_KB_MIN);
    swRegexSetHeapLimitKb(UINT32_MAX);
    assert_int_equal(swRegexHeapLimitKb(), SW_REGEX_HEAP_LIMIT_KB_MAX);
    swRegexSetHeapLimitKb(2048);
    assert_int_equal(swRegexHeapLimitKb(), 2048);
    /* The smallest limit still lets ordinary patterns answer. */
    swRegexSetHeapLimitKb(SW_REGEX_HEAP_LIMIT_KB_MIN);
    swRegex *re = compile("task\\.(created|done)|agent\\..*");
    assert_int_equal(match(re, "task.done"), SW_REGEX_MATCH);
    assert_int_equal(match(re, "agent.a.b.c"), SW_REGEX_MATCH);
    assert_int_equal(match(re, "task.x"), SW_REGEX_NOMATCH);
    swRegexFree(re);
    swRegexSetHeapLimitKb(SW_REGEX_HEAP_LIMIT_KB_DEFAULT);
}

static void test_regex_result_text(void **state) {
    (void)state;
    assert_string_equal(swRegexResultText(SW_REGEX_MATCH), "");
    assert_string_equal(swRegexResultText(SW_REGEX_NOMATCH), "");
    assert_string_equal(swRegexResultText(SW_REGEX_LIMIT_MATCH), "the PCRE2 match limit");
    assert_string_equal(swRegexResultText(SW_REGEX_LIMIT_DEPTH), "the PCRE2 depth limit");
    assert_string_equal(swRegexResultText(SW_REGEX_LIMIT_HEAP), "the PCRE2 heap limit");
    assert_string_equal(swRegexResultText(SW_REGEX_NOMEM), "out of memory");
    assert_string_equal(swRegexResultText(SW_REGEX_ERROR), "a PCRE2 error");
    assert_false(swRegexIsLimit(SW_REGEX_MATCH));
    assert_false(swRegexIsLimit(SW_REGEX_NOMATCH));
    assert_false(swRegexIsLimit(SW_REGEX_NOMEM));
    assert_false(swRegexIsLimit(SW_REGEX_ERROR));
    assert_true(swRegexIsLimit(SW_REGEX_LIMIT_MATCH));
    assert_true(swRegexIsLimit(SW_REGEX_LIMIT_DEPTH));
}

/* A failed match-data allocation is "out of memory", never a non-match. */
static void test_regex_match_nomem(void **state) {
    (void)state;
    swRegex *re = compile("task\\..*");
    unitAllocFailAfter(0);
    assert_int_equal(match(re, "task.done"), SW_REGEX_NOMEM);
    assert_int_equal(match(re, "other"), SW_REGEX_NOMEM);
    unitAllocFailAfter(-1);
    assert_int_equal(match(re, "task.done"), SW_REGEX_MATCH);
    swRegexFree(re);
}

/* ---- Compile errors ---- */

static void expectInvalid(const char *pattern, size_t len, int pcreCode, size_t offset) {
    char pmsg[160], want[512];
    assert_true(pcre2_get_error_message(pcreCode, (PCRE2_UCHAR *)pmsg, sizeof(pmsg)) > 0);
    snprintf(want, sizeof(want), "invalid regex at offset %zu: %s", offset, pmsg);
    swRegex *re = (swRegex *)(uintptr_t)0x1; /* must stay untouched */
    swError err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(swRegexCompile(pattern, len, &re, &err), SW_ERR_REGEX);
    assert_ptr_equal(re, (swRegex *)(uintptr_t)0x1);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.offset, offset);
    assert_int_equal(swRegexCompile(pattern, len, &re, NULL), SW_ERR_REGEX);
}

static void test_regex_invalid(void **state) {
    (void)state;
    expectInvalid("a(b", 3, PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS, 3);
    expectInvalid("*a", 2, PCRE2_ERROR_QUANTIFIER_INVALID, 0);
    expectInvalid("task.(x", 7, PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS, 7);
    expectInvalid("ab)", 3, PCRE2_ERROR_UNMATCHED_CLOSING_PARENTHESIS, 2);
    expectInvalid("x[b", 3, PCRE2_ERROR_MISSING_SQUARE_BRACKET, 3);
    expectInvalid("abc\\", 4, PCRE2_ERROR_END_BACKSLASH, 4);
    expectInvalid("a{3,1}", 6, PCRE2_ERROR_QUANTIFIER_OUT_OF_ORDER, 5);
    expectInvalid("(?<n>a)(?<n>b)", 14, PCRE2_ERROR_DUPLICATE_SUBPATTERN_NAME, 12);
    /* The length bounds the pattern: "a(b)" cut at 3 is unbalanced. */
    expectInvalid("a(b)", 3, PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS, 3);

    /* One message spelled out, as a client sees it after the code word. */
    swRegex *re = NULL;
    swError err;
    assert_int_equal(swRegexCompile("a(b", 3, &re, &err), SW_ERR_REGEX);
    assert_string_equal(err.msg, "invalid regex at offset 3: missing closing parenthesis");
    assert_null(re);
}

/* ---- Limits ---- */

static double elapsedMs(const struct timespec *a, const struct timespec *b) {
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* (a+)+$ against a long run of a's followed by a non-matching byte backtracks
 * exponentially; the match limit must stop it with an error, not a "no match". */
static void expectCatastropheBounded(swRegex *re) {
    char subject[4096];
    /* 20 a's take about a million steps: PCRE2's default limit (10 million) lets that run
     * to "no match", SW_REGEX_MATCH_LIMIT must not. */
    static const size_t lens[] = {21, 24, 40, 64, 1000, sizeof(subject) - 1};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k];
        memset(subject, 'a', n - 1);
        subject[n - 1] = '!';
        struct timespec t0, t1;
        timespec_get(&t0, TIME_UTC);
        int rc = swRegexMatch(re, subject, n);
        timespec_get(&t1, TIME_UTC);
        if (rc >= 0) print_error("length %zu: rc %d\n", n, rc);
        assert_true(swRegexIsLimit(rc));
        assert_true(elapsedMs(&t0, &t1) < 2000.0);
    }
    /* The same regex still answers ordinary subjects. */
    assert_int_equal(match(re, "aaaa"), 1);
    assert_int_equal(match(re, "aaab"), 0);
}

static void test_regex_catastrophic_bounded(void **state) {
    (void)state;
    swRegex *re = compile("(a+)+$");
    expectCatastropheBounded(re);
    swRegexFree(re);
    /* No 'y' at all is answered at once (PCRE2 knows 'y' is required), but a 'y' in the
     * wrong place forces the full backtracking search. */
    re = compile("(x+x+)+y");
    char subject[66];
    memset(subject, 'x', sizeof(subject));
    assert_int_equal(swRegexMatch(re, subject, sizeof(subject)), 0);
    subject[sizeof(subject) - 2] = 'y';
    int rc = swRegexMatch(re, subject, sizeof(subject));
    assert_true(swRegexIsLimit(rc));
    assert_int_equal(swRegexMatch(re, subject, sizeof(subject) - 1), 1);
    swRegexFree(re);
}

/* Deep recursion is bounded too: whatever the engine, a limit is an error, never a wrong
 * answer. */
static void test_regex_deep_subject(void **state) {
    (void)state;
    static char subject[200001];
    memset(subject, 'a', sizeof(subject) - 2);
    subject[sizeof(subject) - 2] = 'c';
    subject[sizeof(subject) - 1] = '\0';
    swRegex *re = compile("(a|b)*c");
    int rc = swRegexMatch(re, subject, sizeof(subject) - 1);
    assert_true(rc == 1 || rc < 0);                      /* a match, or a limit: never "no match" */
    rc = swRegexMatch(re, subject, sizeof(subject) - 2); /* no 'c': cannot match */
    assert_true(rc <= 0);
    swRegexFree(re);
}

/* ---- Allocation failures ---- */

/* Regression: pcre2_compile reports a failed allocation as compile error 121 ("failed to
 * allocate heap memory"), which was turned into SW_ERR_REGEX "invalid regex at offset ..."
 * instead of SW_ERR_NOMEM. */
static void test_regex_compile_nomem_is_not_invalid_regex(void **state) {
    (void)state;
    static const char *const patterns[] = {"a", "task\\..*", "(a+)+$",
                                           "(alpha|beta|gamma)\\.[a-z]{1,8}(\\.x)?"};
    for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
        const char *pat = patterns[p];
        /* How many allocations an unhindered compile makes. */
        unitAllocFailAfter(1L << 30);
        swRegex *re = NULL;
        assert_int_equal(swRegexCompile(pat, strlen(pat), &re, NULL), SW_OK);
        long total = unitAllocCount();
        unitAllocFailAfter(-1);
        swRegexFree(re);
        assert_true(total >= 3);

        long failures = 0;
        for (long n = 0; n <= total; n++) {
            swError err;
            memset(&err, 0, sizeof(err));
            re = (swRegex *)(uintptr_t)0x1;
            unitAllocFailAfter(n);
            swStatus st = swRegexCompile(pat, strlen(pat), &re, &err);
            unitAllocFailAfter(-1);
            if (st == SW_OK) {
                /* A failure that only cost the JIT still compiles a working regex. */
                assert_int_equal(match(re, "a"), strcmp(pat, "a") == 0 || p == 2);
                swRegexFree(re);
                continue;
            }
            if (st != SW_ERR_NOMEM) print_error("'%s' n=%ld: %d %s\n", pat, n, st, err.msg);
            assert_int_equal(st, SW_ERR_NOMEM);
            assert_string_equal(err.msg, "out of memory");
            assert_ptr_equal(re, (swRegex *)(uintptr_t)0x1);
            failures++;
        }
        assert_true(failures >= 3); /* at least the struct, the contexts and the code */
    }
}

/* unit_alloc fails every allocation after the n-th, so a failed JIT compile is always
 * followed by a failed match-data allocation. This allocator fails exactly one allocation,
 * the n-th, which is how a regex ends up compiled without its JIT code. */
static long oneShotAt = -1, oneShotCount;

static int oneShotFails(void) {
    return ++oneShotCount == oneShotAt;
}
static void *oneShotMalloc(size_t n) {
    return oneShotFails() ? NULL : test_malloc(n);
}
static void *oneShotCalloc(size_t n, size_t sz) {
    return oneShotFails() ? NULL : test_calloc(n, sz);
}
static void *oneShotRealloc(void *p, size_t n) {
    return oneShotFails() ? NULL : test_realloc(p, n);
}
static void oneShotFree(void *p) {
    test_free(p);
}

static void oneShotInstall(long at) {
    static const swAllocator a = {oneShotMalloc, oneShotCalloc, oneShotRealloc, oneShotFree, NULL};
    swSetAllocator(&a);
    oneShotAt = at;
    oneShotCount = 0;
}

/* Checks for a regex compiled with one allocation failure: it runs in the interpreter. */
static void checkCatastrophe(swRegex *re) {
    expectCatastropheBounded(re);
}

/* The interpreter (unlike the JIT, which has its own stack limit) stacks a backtracking
 * frame per iteration of (a|b)*: 5000 iterations are far below the match limit but above
 * SW_REGEX_DEPTH_LIMIT, and PCRE2's default depth limit would let them match. */
static void checkDepth(swRegex *re) {
    static char subject[5001];
    memset(subject, 'a', sizeof(subject) - 1);
    subject[sizeof(subject) - 1] = 'c';
    int rc = swRegexMatch(re, subject, sizeof(subject));
    if (rc >= 0) print_error("depth: rc %d\n", rc);
    assert_int_equal(rc, SW_REGEX_LIMIT_DEPTH);
    assert_int_equal(match(re, "abac"), 1);
    assert_int_equal(match(re, "abab"), 0);
}

/* Compiles pattern with exactly one allocation failing, at every allocation: the compile
 * fails cleanly, or (when only the JIT lost its memory) yields a regex in the interpreter
 * that gives the same answers and honours the same limits. Returns how many succeeded. */
static long compileUnderOneFailure(const char *pattern, void (*check)(swRegex *re)) {
    oneShotInstall(-1);
    swRegex *re = NULL;
    assert_int_equal(swRegexCompile(pattern, strlen(pattern), &re, NULL), SW_OK);
    long total = oneShotCount;
    swRegexFree(re);
    long oks = 0;
    for (long n = 1; n <= total; n++) {
        re = (swRegex *)(uintptr_t)0x1;
        swError err;
        oneShotInstall(n);
        swStatus st = swRegexCompile(pattern, strlen(pattern), &re, &err);
        if (st != SW_OK) {
            assert_int_equal(st, SW_ERR_NOMEM);
            assert_string_equal(err.msg, "out of memory");
            assert_ptr_equal(re, (swRegex *)(uintptr_t)0x1);
            continue;
        }
        oks++;
        oneShotAt = -1; /* matching itself must not fail here */
        check(re);
        swRegexFree(re);
    }
    return oks;
}

static void test_regex_single_failures_every_engine(void **state) {
    long oks = compileUnderOneFailure("(a+)+$", checkCatastrophe);
    long depthOks = compileUnderOneFailure("(a|b)*c", checkDepth);
    unitAllocSetup(state);
    /* On a platform with a working JIT, some allocations belong to the JIT alone. */
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    if (jit) {
        assert_true(oks >= 1);
        assert_true(depthOks >= 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regex_anchored_both_ends),
        cmocka_unit_test(test_regex_alternation_whole),
        cmocka_unit_test(test_regex_empty_and_binary),
        cmocka_unit_test(test_regex_memusage),
        cmocka_unit_test(test_regex_memusage_exact),
        cmocka_unit_test(test_regex_heap_limit_bounds_attack),
        cmocka_unit_test(test_regex_heap_limit_setting),
        cmocka_unit_test(test_regex_result_text),
        cmocka_unit_test(test_regex_match_nomem),
        cmocka_unit_test(test_regex_invalid),
        cmocka_unit_test(test_regex_catastrophic_bounded),
        cmocka_unit_test(test_regex_deep_subject),
        cmocka_unit_test(test_regex_compile_nomem_is_not_invalid_regex),
        cmocka_unit_test(test_regex_single_failures_every_engine),
    };
    return cmocka_run_group_tests_name("regex", tests, unitAllocSetup, unitAllocTeardown);
}
