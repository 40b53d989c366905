/* test_stats.c -- SWARM.STATS against a real redis-server: the paginated module-wide listing
 * of routing tables and their counters that monitoring (the Prometheus script) reads.
 *
 * One server for the whole group; every test gets a fresh connection with a read timeout on
 * a flushed keyspace. Replies are compared through itReplyRepr: integers :N, strings and
 * statuses "text", nil (nil), arrays [a,b]. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* SCAN stops after the bucket holding its COUNT-th key, so a page may run a few keys past
 * COUNT when keys share a bucket (or the dict is rehashing and two tables are visited). */
#define PAGE_SLACK 32
/* The STATS fields (12 pairs) then breakers-open. */
#define ROUTE_STATS_ELEMS 24
#define TABLE_STATS_ELEMS 26

static itServer srv;
static redisContext *c;

/* ---- Helpers ---- */

static void appendTable(int i, void *arg) {
    (void)arg;
    redisAppendCommand(c, "SWARM.ROUTE ADD tbl:%d evt.%d channel:c%d", i, i, i);
}

static void appendString(int i, void *arg) {
    (void)arg;
    redisAppendCommand(c, "SET str:%d v", i);
}

/* Checks the shape of a SWARM.STATS reply and returns its page (owned by r). */
static redisReply *pageOf(redisReply *r, char *next, size_t nextlen) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
        char *s = itReplyRepr(r);
        fail_msg("SWARM.STATS: expected [cursor, [entries]], got %s", s);
    }
    snprintf(next, nextlen, "%s", r->element[0]->str);
    redisReply *page = r->element[1];
    for (size_t i = 0; i < page->elements; i++) {
        redisReply *e = page->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY ||
            e->element[1]->elements != TABLE_STATS_ELEMS)
            fail_msg("SWARM.STATS: entry %zu is not [key, {13 fields}]", i);
    }
    return page;
}

/* Walks a whole iteration with the given COUNT (0: none given), counting in seen[i] how
 * often tbl:<i> came back; fails on any key that is not a table. Returns the page count. */
static int walk(long count, int ntables, int *seen, size_t *maxPage, size_t *minPage) {
    char cursor[32] = "0";
    int pages = 0;
    *maxPage = 0;
    *minPage = (size_t)-1;
    do {
        redisReply *r = count ? itCmd(c, "SWARM.STATS %s COUNT %ld", cursor, count)
                              : itCmd(c, "SWARM.STATS %s", cursor);
        redisReply *page = pageOf(r, cursor, sizeof(cursor));
        if (page->elements > *maxPage) *maxPage = page->elements;
        /* The last page may be short; every other one holds at least COUNT tables when
         * every key is a table. */
        if (strcmp(cursor, "0") != 0 && page->elements < *minPage) *minPage = page->elements;
        for (size_t i = 0; i < page->elements; i++) {
            const char *k = page->element[i]->element[0]->str;
            int n;
            char tail;
            if (sscanf(k, "tbl:%d%c", &n, &tail) != 1 || n < 0 || n >= ntables)
                fail_msg("SWARM.STATS returned '%s', which is not one of the tables", k);
            seen[n]++;
        }
        freeReplyObject(r);
        if (++pages > 1000000) fail_msg("SWARM.STATS never returned cursor 0");
    } while (strcmp(cursor, "0") != 0);
    return pages;
}

static void expectEachOnce(const int *seen, int n) {
    for (int i = 0; i < n; i++) {
        if (seen[i] != 1) fail_msg("tbl:%d was listed %d times over a whole iteration", i, seen[i]);
    }
}

/* The entry for key in a complete iteration (freed by the caller through *owner). */
static redisReply *findEntry(const char *key, redisReply **owner) {
    char cursor[32] = "0";
    do {
        redisReply *r = itCmd(c, "SWARM.STATS %s COUNT 1000", cursor);
        redisReply *page = pageOf(r, cursor, sizeof(cursor));
        for (size_t i = 0; i < page->elements; i++) {
            if (strcmp(page->element[i]->element[0]->str, key) == 0) {
                *owner = r;
                return page->element[i];
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    fail_msg("SWARM.STATS never listed '%s'", key);
    return NULL;
}

/* Routes of key whose breaker is not closed, from SWARM.ROUTE LIST. */
static long long breakersFromList(const char *key) {
    redisReply *r = itCmd(c, "SWARM.ROUTE LIST %s", key);
    long long n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *b = itField(r->element[i], "breaker");
        if (b == NULL) fail_msg("SWARM.ROUTE LIST %s: a route without a breaker field", key);
        if (strcmp(b->str, "closed") != 0) n++;
    }
    freeReplyObject(r);
    return n;
}

/* ---- Pagination ---- */

static void test_empty_database_is_cursor_zero_and_no_entries(void **state) {
    (void)state;
    itExpectRepr(itCmd(c, "SWARM.STATS 0"), "[\"0\",[]]");
    itExpectOk(itCmd(c, "SET plain v"));
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE snap {}"), 1);
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT 1000"), "[\"0\",[]]");
}

static void test_iteration_lists_every_table_exactly_once_among_other_keys(void **state) {
    (void)state;
    enum { NT = 2500, NS = 3000 };
    itPipelined(c, NT, appendTable, NULL);
    itPipelined(c, NS, appendString, NULL);
    for (int i = 0; i < 5; i++) itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE snap:%d {}", i), 1);
    const long counts[] = {0, 1, 7, 100, 1000};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        int *seen = calloc(NT, sizeof(int));
        size_t maxPage, minPage;
        int pages = walk(counts[k], NT, seen, &maxPage, &minPage);
        expectEachOnce(seen, NT);
        long bound = counts[k] ? counts[k] : 100;
        if ((long)maxPage > bound + PAGE_SLACK)
            fail_msg("COUNT %ld: a page held %zu tables", counts[k], maxPage);
        print_message("COUNT %ld: %d pages, largest %zu tables\n", counts[k], pages, maxPage);
        free(seen);
    }
}

static void test_count_sets_the_page_size(void **state) {
    (void)state;
    /* Only tables in the database: every key SCAN visits is listed, so a page holds at most
     * COUNT plus a bucket's worth, and one that is not the last at least COUNT unless SCAN
     * gave up after 10 x COUNT empty buckets (which cannot happen for COUNT >= 100 here: the
     * 4096-bucket dict holds 3000 keys). */
    enum { NT = 3000 };
    itPipelined(c, NT, appendTable, NULL);
    const long counts[] = {0, 1, 10, 100, 1000};
    int prevPages = 0;
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        int *seen = calloc(NT, sizeof(int));
        size_t maxPage, minPage;
        int pages = walk(counts[k], NT, seen, &maxPage, &minPage);
        expectEachOnce(seen, NT);
        long want = counts[k] ? counts[k] : 100; /* the default */
        if ((long)maxPage > want + PAGE_SLACK || (want >= 100 && pages > 1 && (long)minPage < want))
            fail_msg("COUNT %ld: pages held %zu to %zu tables", counts[k], minPage, maxPage);
        if (k >= 2 && pages >= prevPages)
            fail_msg("COUNT %ld took %d pages, no fewer than the smaller COUNT's %d", counts[k],
                     pages, prevPages);
        prevPages = pages;
        free(seen);
    }
    /* COUNT 1000 over 3000 tables: one call returns a thousand or so, not the default 100. */
    char next[32];
    redisReply *r = itCmd(c, "SWARM.STATS 0 COUNT 1000");
    redisReply *page = pageOf(r, next, sizeof(next));
    if (page->elements < 1000 || page->elements > 1000 + PAGE_SLACK || strcmp(next, "0") == 0)
        fail_msg("SWARM.STATS 0 COUNT 1000: %zu tables, next cursor %s", page->elements, next);
    freeReplyObject(r);
}

static void test_each_database_lists_its_own_tables(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD zero a.b channel:x"), 1);
    itExpectOk(itCmd(c, "SELECT 1"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD one a.b channel:x"), 1);
    char next[32];
    redisReply *r = itCmd(c, "SWARM.STATS 0");
    redisReply *page = pageOf(r, next, sizeof(next));
    if (page->elements != 1 || strcmp(page->element[0]->element[0]->str, "one") != 0)
        fail_msg("db 1 should list only 'one'");
    freeReplyObject(r);
    itExpectOk(itCmd(c, "SELECT 0"));
    r = itCmd(c, "SWARM.STATS 0");
    page = pageOf(r, next, sizeof(next));
    if (page->elements != 1 || strcmp(page->element[0]->element[0]->str, "zero") != 0)
        fail_msg("db 0 should list only 'zero'");
    freeReplyObject(r);
}

/* ---- Counters ---- */

static void publishN(const char *key, const char *type, int n) {
    for (int i = 0; i < n; i++) freeReplyObject(itCmd(c, "SWARM.PUBLISH %s %s {}", key, type));
}

static void test_counters_equal_route_stats_and_count_open_breakers(void **state) {
    (void)state;
    /* ta: its only route has no subscriber, so it misses; five misses open its breaker and
     * the sixth message is shed. Misses and unrouted messages go to the dead-letter stream.
     * Denied and malformed types are rejected. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD ta task.> channel:nobody"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD ta never.* channel:nobody2"), 2);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT ta stream:dead"));
    itExpectInt(itCmd(c, "SWARM.ROUTE DENY ta secret\\..*"), 3);
    publishN("ta", "task.x", 6);
    publishN("ta", "other.x", 2);
    itExpectError(itCmd(c, "SWARM.PUBLISH ta secret.x {}"), "DENIED", NULL);
    itExpectError(itCmd(c, "SWARM.PUBLISH ta a..b {}"), "EVENTTYPE", NULL);
    itExpectError(itCmd(c, "SWARM.PUBLISH ta task.x {bad"), "PAYLOAD", NULL);
    /* tb: three deliveries to a stream. tc: rules only. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD tb job.* stream:jobs"), 1);
    publishN("tb", "job.a", 3);
    itExpectInt(itCmd(c, "SWARM.ROUTE ALLOW tc job\\..*"), 1);

    const struct {
        const char *key;
        long long breakers;
    } want[] = {{"ta", 1}, {"tb", 0}, {"tc", 0}};
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        redisReply *owner = NULL;
        redisReply *e = findEntry(want[k].key, &owner);
        redisReply *stats = itCmd(c, "SWARM.ROUTE STATS %s", want[k].key);
        if (stats->elements != ROUTE_STATS_ELEMS)
            fail_msg("SWARM.ROUTE STATS %s has %zu elements", want[k].key, stats->elements);
        redisReply *got = e->element[1];
        for (size_t i = 0; i < ROUTE_STATS_ELEMS; i++) {
            char *a = itReplyRepr(got->element[i]), *b = itReplyRepr(stats->element[i]);
            if (strcmp(a, b) != 0)
                fail_msg("%s element %zu: SWARM.STATS %s, SWARM.ROUTE STATS %s", want[k].key, i, a,
                         b);
            free(a);
            free(b);
        }
        freeReplyObject(stats);
        if (strcmp(got->element[24]->str, "breakers-open") != 0 ||
            got->element[25]->type != REDIS_REPLY_INTEGER ||
            got->element[25]->integer != want[k].breakers ||
            breakersFromList(want[k].key) != want[k].breakers)
            fail_msg("%s: breakers-open should be %lld", want[k].key, want[k].breakers);
        freeReplyObject(owner);
    }
    /* The workload did what the comments say, so the comparison above is not vacuous. */
    redisReply *r = itCmd(c, "SWARM.ROUTE STATS ta");
    char want8[512];
    snprintf(want8, sizeof(want8),
             "[\"published\",:8,\"delivered\",:8,\"rejected\",:3,\"unrouted\",:2,"
             "\"deadlettered\",:8,\"shed\",:1,\"routes\",:2,\"rules\",:1,\"last-id\","
             "\"%s\",\"default\",\"stream:dead\",\"duplicates\",:0,\"msgids\",:0]",
             itField(r, "last-id")->str);
    itExpectRepr(r, want8);
}

static void test_resp3_entry_is_a_map(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectResp3(&srv, "SWARM.STATS 0",
                  "*2\r\n$1\r\n0\r\n*1\r\n*2\r\n$1\r\nt\r\n%13\r\n"
                  "+published\r\n:0\r\n+delivered\r\n:0\r\n+rejected\r\n:0\r\n"
                  "+unrouted\r\n:0\r\n+deadlettered\r\n:0\r\n+shed\r\n:0\r\n"
                  "+routes\r\n:1\r\n+rules\r\n:0\r\n+last-id\r\n$3\r\n0-0\r\n"
                  "+default\r\n_\r\n+duplicates\r\n:0\r\n+msgids\r\n:0\r\n"
                  "+breakers-open\r\n:0\r\n");
}

static void test_listing_does_not_touch_the_tables(void **state) {
    (void)state;
    /* Under an LFU policy a new key's counter is 5 and its first read makes it 6 for sure
     * (the increment probability is 1 at the initial value), so a read is visible. */
    itExpectOk(itCmd(c, "CONFIG SET maxmemory-policy allkeys-lfu"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t a.b channel:x"), 1);
    itExpectInt(itCmd(c, "OBJECT FREQ t"), 5);
    freeReplyObject(itCmd(c, "SWARM.STATS 0"));
    freeReplyObject(itCmd(c, "SWARM.STATS 0 COUNT 1000"));
    itExpectInt(itCmd(c, "OBJECT FREQ t"), 5);
    freeReplyObject(itCmd(c, "SWARM.ROUTE STATS t"));
    itExpectInt(itCmd(c, "OBJECT FREQ t"), 6);
}

/* ---- Errors ---- */

static void test_bad_cursor_and_count_are_err(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t a.b channel:x"), 1);
    const char *cursors[] = {"x", "-1", "1.5", "", " 1", "18446744073709551616", "0x10"};
    for (size_t i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++)
        itExpectRepr(itCmd(c, "SWARM.STATS %s", cursors[i]), "!ERR invalid cursor");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT 0"), "!ERR COUNT must be between 1 and 1000");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT 1001"), "!ERR COUNT must be between 1 and 1000");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT -5"), "!ERR COUNT must be between 1 and 1000");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT ten"),
                 "!ERR value is not an integer or out of range");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 COUNT"), "!ERR syntax error");
    itExpectRepr(itCmd(c, "SWARM.STATS 0 MATCH *"), "!ERR syntax error");
    itExpectRepr(itCmd(c, "SWARM.STATS"),
                 "!ERR wrong number of arguments for 'swarm.stats' command");
    /* The largest cursor is accepted (and simply ends the walk), as SCAN accepts it. */
    char next[32];
    redisReply *r = itCmd(c, "SWARM.STATS 18446744073709551615 COUNT 1000");
    pageOf(r, next, sizeof(next));
    freeReplyObject(r);
    /* Bounds are inclusive. */
    r = itCmd(c, "SWARM.STATS 0 COUNT 1");
    pageOf(r, next, sizeof(next));
    freeReplyObject(r);
    r = itCmd(c, "SWARM.STATS 0 count 1000");
    pageOf(r, next, sizeof(next));
    freeReplyObject(r);
}

/* ---- Introspection ---- */

static void test_command_info_and_docs(void **state) {
    (void)state;
    char *info = itReprOf(itCmd(c, "COMMAND INFO swarm.stats"));
    const char *want = "[[\"swarm.stats\",:-2,[\"readonly\",\"module\"],:0,:0,:0,";
    if (strncmp(info, want, strlen(want)) != 0)
        fail_msg("COMMAND INFO swarm.stats: %s, expected it to start with %s", info, want);
    free(info);
    char *docs = itReprOf(itCmd(c, "COMMAND DOCS swarm.stats"));
    if (strstr(docs, "\"summary\"") == NULL || strstr(docs, "\"cursor\"") == NULL ||
        strstr(docs, "\"COUNT\"") == NULL)
        fail_msg("COMMAND DOCS swarm.stats lacks summary or arguments: %s", docs);
    free(docs);
    /* SWARM.STATS declares no key: the server refuses GETKEYS in its own words. */
    itExpectError(itCmd(c, "COMMAND GETKEYS SWARM.STATS 0"), "ERR", NULL);
}

/* ---- The module's version ---- */

/* MODULE LIST reports major*10000 + minor*100 + patch, as other modules do, and it agrees
 * with INFO swarm's swarm_version. */
static void test_module_list_version_agrees_with_info(void **state) {
    (void)state;
    char buf[64];
    const char *v = itInfo(c, "swarm", "swarm_version", buf, sizeof(buf));
    assert_non_null(v);
    int major, minor, patch;
    assert_int_equal(sscanf(v, "%d.%d.%d", &major, &minor, &patch), 3);
    redisReply *r = itCmd(c, "MODULE LIST");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 1);
    redisReply *ver = itField(r->element[0], "ver");
    assert_non_null(ver);
    assert_int_equal(ver->type, REDIS_REPLY_INTEGER);
    assert_int_equal(ver->integer, major * 10000 + minor * 100 + patch);
    freeReplyObject(r);
}

int main(void) {
#define T(f) cmocka_unit_test_setup(f, itFixtureReconnect)
    const struct CMUnitTest tests[] = {
        T(test_empty_database_is_cursor_zero_and_no_entries),
        T(test_iteration_lists_every_table_exactly_once_among_other_keys),
        T(test_count_sets_the_page_size),
        T(test_each_database_lists_its_own_tables),
        T(test_counters_equal_route_stats_and_count_open_breakers),
        T(test_resp3_entry_is_a_map),
        T(test_listing_does_not_touch_the_tables),
        T(test_bad_cursor_and_count_are_err),
        T(test_command_info_and_docs),
        T(test_module_list_version_agrees_with_info),
    };
#undef T
    itFixture(&srv, &c, NULL, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
}
