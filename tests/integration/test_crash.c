/* test_crash.c -- durability under kill -9 and a truncated AOF tail (STYLE "Tests").
 *
 * With appendonly yes and appendfsync always, a reply is sent only after its write is in the
 * AOF on disk. A client publishes to a stream target and saves snapshots while another
 * process kills the server with SIGKILL at an arbitrary moment; after a restart in the same
 * directory every acknowledged publish is a stream entry (in order, at most the one write in
 * flight beyond them), every acknowledged snapshot version is there with its document, the
 * table's id clock is at its last stream entry, and new ids are strictly greater.
 *
 * Then the AOF's tail is cut in the middle of its last command (a publish: a MULTI/EXEC of
 * XADD and SWARM.APPLY): with aof-load-truncated yes the server loads what precedes it, and
 * the table and its stream stay consistent (no entry without the clock that issued it). */
#include "harness.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY "crash:t"
#define STREAM "crash:s"
#define SNAP "crash:snap"
#define LOAD_SECONDS 60 /* a safety cap: the killer fires long before */

static itServer srv;

static const char *const serverArgs[] = {
    "--appendonly", "yes", "--appendfsync", "always", "--aof-load-truncated", "yes", NULL};

/* ---- Message ids ---- */

typedef struct msgId {
    unsigned long long ms, seq;
} msgId;

static msgId parseId(const char *s) {
    msgId id = {0, 0};
    if (s == NULL || sscanf(s, "%llu-%llu", &id.ms, &id.seq) != 2)
        fail_msg("bad message id '%s'", s ? s : "(null)");
    return id;
}

static int idLess(msgId a, msgId b) {
    return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
}

static int idEqual(msgId a, msgId b) {
    return a.ms == b.ms && a.seq == b.seq;
}

/* The message ids (field "id") of every entry of the stream, oldest first; *n entries. */
static msgId *streamIds(redisContext *c, size_t *n) {
    redisReply *r = itCmd(c, "XRANGE %s - +", STREAM);
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("XRANGE answered type %d", r->type);
    msgId *ids = malloc((r->elements + 1) * sizeof(*ids));
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        const char *id = NULL;
        for (size_t k = 0; k + 1 < fields->elements; k += 2) {
            if (strcmp(fields->element[k]->str, "id") == 0) id = fields->element[k + 1]->str;
        }
        ids[i] = parseId(id);
    }
    *n = r->elements;
    freeReplyObject(r);
    return ids;
}

static msgId tableLastId(redisContext *c) {
    redisReply *r = itCmd(c, "SWARM.ROUTE STATS %s", KEY);
    redisReply *f = itField(r, "last-id");
    if (f == NULL || f->str == NULL) fail_msg("no last-id in SWARM.ROUTE STATS");
    msgId id = parseId(f->str);
    freeReplyObject(r);
    return id;
}

static msgId publishOne(redisContext *c, int k) {
    redisReply *r = itCmd(c, "SWARM.PUBLISH %s ev.crash {\"k\":%d}", KEY, k);
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        fail_msg("SWARM.PUBLISH answered type %d '%s'", r->type, r->str ? r->str : "");
    msgId id = parseId(r->element[0]->str);
    freeReplyObject(r);
    return id;
}

/* ---- The load ---- */

typedef struct loadResult {
    msgId *acked; /* acknowledged publishes, in order */
    size_t nacked;
    long long lastVersion; /* last acknowledged snapshot version, 0 when none */
    int lastDoc;           /* the k of the document saved as lastVersion */
} loadResult;

/* Publishes and saves until the connection dies; records only what was acknowledged. */
static void runLoad(loadResult *res) {
    redisContext *c = itConnect(&srv);
    size_t cap = 1024;
    res->acked = malloc(cap * sizeof(*res->acked));
    res->nacked = 0;
    res->lastVersion = 0;
    res->lastDoc = 0;
    time_t start = time(NULL);
    for (int k = 0; time(NULL) - start < LOAD_SECONDS; k++) {
        redisReply *r;
        if (k % 4 == 3) {
            r = redisCommand(c, "SWARM.SNAPSHOT SAVE %s {\"k\":%d,\"pad\":\"%0128d\"}", SNAP, k, k);
            if (r == NULL) break;
            if (r->type != REDIS_REPLY_INTEGER) fail_msg("SAVE answered type %d", r->type);
            assert_true(res->lastVersion == 0 || r->integer == res->lastVersion + 1);
            res->lastVersion = r->integer;
            res->lastDoc = k;
        } else {
            r = redisCommand(c, "SWARM.PUBLISH %s ev.crash {\"k\":%d}", KEY, k);
            if (r == NULL) break;
            if (r->type != REDIS_REPLY_ARRAY)
                fail_msg("PUBLISH answered type %d '%s'", r->type, r->str ? r->str : "");
            if (res->nacked == cap) res->acked = realloc(res->acked, (cap *= 2) * sizeof(msgId));
            res->acked[res->nacked++] = parseId(r->element[0]->str);
        }
        freeReplyObject(r);
    }
    redisFree(c);
}

/* Kills the server with SIGKILL from another process while the load runs. The server is
 * then reaped by itStop (a SIGTERM to a dead child is harmless) so the harness forgets it. */
static void killMidLoad(loadResult *res, int delayMs) {
    pid_t server = srv.pid;
    pid_t killer = fork();
    assert_true(killer >= 0);
    if (killer == 0) {
        /* The one sleep in the tests that synchronises nothing: it only picks where in the
         * load the kill lands, and every check holds wherever that is. */
        struct timespec ts = {delayMs / 1000, (long)(delayMs % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(server, SIGKILL);
        _exit(0);
    }
    runLoad(res);
    int status;
    assert_int_equal(waitpid(killer, &status, 0), killer);
    itStop(&srv);
}

/* Checks the state after a restart against what the client saw acknowledged. */
static void checkDurable(redisContext *c, const loadResult *res, size_t *nentries) {
    size_t n;
    msgId *ids = streamIds(c, &n);
    if (n < res->nacked || n > res->nacked + 1)
        fail_msg("%zu stream entries for %zu acknowledged publishes", n, res->nacked);
    for (size_t i = 0; i < res->nacked; i++) {
        if (!idEqual(ids[i], res->acked[i]))
            fail_msg("entry %zu is %llu-%llu, acknowledged %llu-%llu", i, ids[i].ms, ids[i].seq,
                     res->acked[i].ms, res->acked[i].seq);
    }
    for (size_t i = 1; i < n; i++) assert_true(idLess(ids[i - 1], ids[i]));
    /* The clock that issued the last entry came back with it. */
    if (n > 0) assert_true(idEqual(tableLastId(c), ids[n - 1]));

    if (res->lastVersion > 0) {
        redisReply *info = itCmd(c, "SWARM.SNAPSHOT INFO %s", SNAP);
        redisReply *head = itField(info, "head");
        assert_non_null(head);
        long long h = head->integer;
        freeReplyObject(info);
        assert_true(h == res->lastVersion || h == res->lastVersion + 1);
        char want[256];
        snprintf(want, sizeof(want), "{\"k\":%d,\"pad\":\"%0128d\"}", res->lastDoc, res->lastDoc);
        itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET %s VERSION %lld", SNAP, res->lastVersion), want);
    }

    /* New ids stay strictly increasing after the restart. */
    msgId next = publishOne(c, -1);
    if (n > 0) assert_true(idLess(ids[n - 1], next));
    free(ids);
    *nentries = n + 1;
}

/* ---- AOF files ---- */

/* The path of the last incremental AOF file (Redis 7's appendonlydir). */
static void lastIncrAof(char *path, size_t len) {
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/appendonlydir", srv.dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    long best = -1;
    while ((e = readdir(d)) != NULL) {
        const char *incr = strstr(e->d_name, ".incr.aof");
        if (incr == NULL || incr[9] != '\0') continue;
        /* appendonly.aof.<seq>.incr.aof */
        const char *p = incr;
        while (p > e->d_name && p[-1] >= '0' && p[-1] <= '9') p--;
        long seq = strtol(p, NULL, 10);
        if (seq > best) {
            best = seq;
            snprintf(path, len, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (best < 0) fail_msg("no incremental AOF in %s", dir);
}

static long fileSize(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* ---- Tests ---- */

static void test_kill9_keeps_every_acknowledged_write(void **state) {
    (void)state;
    itStart(&srv, NULL, serverArgs);
    redisContext *c = itConnect(&srv);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD %s ev.* stream:%s", KEY, STREAM), 1);
    msgId prev = publishOne(c, -1);
    redisFree(c);

    /* Three rounds: the kill lands at a different point of the load each time, and each
     * restart loads an AOF that already went through a crash. */
    static const int delays[] = {400, 250, 600};
    for (size_t round = 0; round < sizeof(delays) / sizeof(delays[0]); round++) {
        /* Each round starts with an empty stream, so its entries are this round's. */
        c = itConnect(&srv);
        freeReplyObject(itCmd(c, "DEL %s", STREAM));
        redisFree(c);
        loadResult res;
        killMidLoad(&res, delays[round]);
        assert_true(res.nacked > 0);
        print_message("round %zu: killed after %zu publishes and snapshot version %lld\n", round,
                      res.nacked, res.lastVersion);
        itStartIn(&srv);
        c = itConnect(&srv);
        size_t n;
        checkDurable(c, &res, &n);
        /* Ids keep increasing across the crash: this round's first is after the last id
         * issued before it. */
        assert_true(idLess(prev, res.acked[0]));
        prev = tableLastId(c);
        redisFree(c);
        free(res.acked);
    }
    itDestroy(&srv);
}

static void test_truncated_aof_tail_loads(void **state) {
    (void)state;
    itStart(&srv, NULL, serverArgs);
    redisContext *c = itConnect(&srv);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD %s ev.* stream:%s", KEY, STREAM), 1);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT SAVE %s {\"v\":1}", SNAP), 1);
    msgId ids[8];
    for (int k = 0; k < 8; k++) ids[k] = publishOne(c, k);
    redisFree(c);
    itStop(&srv);

    /* Cut the last command (the last publish's MULTI/EXEC) in its middle: 20 bytes before
     * the end lands inside the SWARM.APPLY or the EXEC that closes it. */
    char path[600];
    lastIncrAof(path, sizeof(path));
    long size = fileSize(path);
    assert_true(size > 20);
    assert_int_equal(truncate(path, size - 20), 0);

    itStartIn(&srv);
    c = itConnect(&srv);
    size_t n;
    msgId *got = streamIds(c, &n);
    /* The cut publish is gone entirely, stream entry and clock alike. */
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++) assert_true(idEqual(got[i], ids[i]));
    assert_true(idEqual(tableLastId(c), ids[6]));
    msgId next = publishOne(c, 99);
    assert_true(idLess(ids[6], next));
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET %s", SNAP), "{\"v\":1}");
    free(got);
    redisFree(c);

    /* The same cut without aof-load-truncated is refused, not loaded half-way. */
    itStop(&srv);
    lastIncrAof(path, sizeof(path));
    size = fileSize(path);
    assert_int_equal(truncate(path, size - 20), 0);
    itServer strict = srv;
    strict.extra[5] = "no";
    assert_int_equal(itTryStart(&strict), -1);
    itStartIn(&srv); /* aof-load-truncated yes again */
    c = itConnect(&srv);
    got = streamIds(c, &n);
    assert_int_equal(n, 7);
    free(got);
    redisFree(c);
    itDestroy(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_keeps_every_acknowledged_write),
        cmocka_unit_test(test_truncated_aof_tail_loads),
    };
    return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
