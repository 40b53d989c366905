/* test_snapshot_edit.c -- SWARM.SNAPSHOT EDIT, WAIT and GET WITHVERSION against a real
 * redis-server: reply shapes, every error word with nothing changed after it, many writers
 * at once (claims with test+replace, tickets with incr), WAIT woken by every write path, by
 * deletion and on a replica, and EDITed histories across DEBUG RELOAD, AOF rewrite and
 * replication.
 *
 * One server for the group (loaded with debug-internal-commands, so tests may send
 * SWARM.APPLY); tests needing other servers start their own. */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const internalOpen[] = {"debug-internal-commands", "yes", NULL};

static itServer srv;
static redisContext *c;

/* ---- Helpers ---- */

/* SWARM.SNAPSHOT EDIT key ops, as one argument each (ops hold spaces and quotes). */
static redisReply *edit(redisContext *cc, const char *key, const char *ops) {
    const char *argv[] = {"SWARM.SNAPSHOT", "EDIT", key, ops};
    size_t lens[] = {14, 4, strlen(key), strlen(ops)};
    return itCmdArgv(cc, 4, argv, lens);
}

static redisReply *editIf(redisContext *cc, const char *key, const char *ops, const char *v) {
    const char *argv[] = {"SWARM.SNAPSHOT", "EDIT", key, ops, "IFVERSION", v};
    size_t lens[] = {14, 4, strlen(key), strlen(ops), 9, strlen(v)};
    return itCmdArgv(cc, 6, argv, lens);
}

static redisReply *save(redisContext *cc, const char *key, const char *json) {
    const char *argv[] = {"SWARM.SNAPSHOT", "SAVE", key, json};
    size_t lens[] = {14, 4, strlen(key), strlen(json)};
    return itCmdArgv(cc, 4, argv, lens);
}

/* The reply as one line (itReplyRepr), compared with want; frees the reply. */
static void expectRepr(redisReply *r, const char *want) {
    char *got = itReplyRepr(r);
    freeReplyObject(r);
    if (strcmp(got, want) != 0) fail_msg("expected %s, got %s", want, got);
    free(got);
}

/* Everything observable of a history: LIST, INFO, every retained version, the digest. */
static char *fullState(redisContext *cc, const char *key) {
    char *acc = NULL;
    itAppendReply(&acc, itCmd(cc, "SWARM.SNAPSHOT LIST %s", key));
    redisReply *info = itCmd(cc, "SWARM.SNAPSHOT INFO %s", key);
    long long oldest = itField(info, "oldest")->integer, head = itField(info, "head")->integer;
    itAppendReply(&acc, info);
    for (long long v = oldest; v <= head; v++)
        itAppendReply(&acc, itCmd(cc, "SWARM.SNAPSHOT GET %s VERSION %lld", key, v));
    itAppendText(&acc, itDigest(cc, key));
    return acc;
}

static void expectSame(const char *a, const char *b, const char *what) {
    if (strcmp(a, b) != 0) fail_msg("%s differs:\n--- before\n%s\n--- after\n%s", what, a, b);
}

/* ---- EDIT: every op and the reply shape ---- */

static void test_edit_each_op(void **state) {
    (void)state;
    /* A missing key is edited from {}, like PATCH. */
    expectRepr(edit(c, "e:ops", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[1,2]}]"), "[:1,[]]");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":9}]"), "[:2,[]]");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:ops"), "{\"a\":[1,9,2]}");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"remove\",\"path\":\"/a/0\"}]"), "[:3,[]]");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"replace\",\"path\":\"/a/0\",\"value\":\"x\"}]"),
               "[:4,[]]");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]"), "[:5,[]]");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"move\",\"from\":\"/b\",\"path\":\"/c\"}]"), "[:6,[]]");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:ops"), "{\"a\":[\"x\",2],\"c\":[\"x\",2]}");
    expectRepr(edit(c, "e:ops", "[{\"op\":\"test\",\"path\":\"/c/1\",\"value\":2.0}]"), "[:7,[]]");
    /* incr values come back in op order; other ops add nothing to the inner array. */
    expectRepr(edit(c, "e:ops",
                    "[{\"op\":\"add\",\"path\":\"/n\",\"value\":40},"
                    "{\"op\":\"incr\",\"path\":\"/n\",\"value\":1},"
                    "{\"op\":\"replace\",\"path\":\"/a\",\"value\":0},"
                    "{\"op\":\"incr\",\"path\":\"/n\",\"value\":-3},"
                    "{\"op\":\"incr\",\"path\":\"/a\",\"value\":9223372036854775807}]"),
               "[:8,[:41,:38,:9223372036854775807]]");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:ops"),
                "{\"a\":9223372036854775807,\"c\":[\"x\",2],\"n\":38}");
    /* An empty patch is still a new version. */
    expectRepr(edit(c, "e:ops", "[]"), "[:9,[]]");
    expectRepr(editIf(c, "e:ops", "[]", "9"), "[:10,[]]");
    /* IFVERSION 0: the key must not exist. */
    expectRepr(editIf(c, "e:new", "[{\"op\":\"add\",\"path\":\"/k\",\"value\":1}]", "0"),
               "[:1,[]]");
    /* Numbers and untouched bytes are kept as written. */
    itExpectInt(save(c, "e:text", "{ \"big\" : 1.50e3 , \"n\":1 }"), 1);
    expectRepr(edit(c, "e:text", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]"), "[:2,[:2]]");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:text"), "{ \"big\" : 1.50e3 , \"n\":2 }");
}

/* ---- EDIT: every error word, nothing changed after it ---- */

static void test_edit_errors_change_nothing(void **state) {
    (void)state;
    itExpectInt(save(c, "e:err", "{\"tasks\":[{\"owner\":null}],\"n\":1,\"s\":\"x\"}"), 1);
    char *before = fullState(c, "e:err");
    struct {
        const char *ops, *code, *needle;
    } cases[] = {
        {"[{\"op\":\"replace\",\"path\":\"/n\",\"value\":5},"
         "{\"op\":\"test\",\"path\":\"/tasks/0/owner\",\"value\":\"me\"}]",
         "TESTFAILED", "op 1 test failed at '/tasks/0/owner'"},
        {"[{\"op\":\"remove\",\"path\":\"/nope\"}]", "NOPATH", "op 0 path '/nope' does not exist"},
        {"[{\"op\":\"replace\",\"path\":\"/n\",\"value\":5},{\"op\":\"inc\",\"path\":\"/n\"}]",
         "BADOP", "op 1 has an unknown op 'inc'"},
        {"{\"op\":\"add\"}", "BADOP", "ops must be a JSON array"},
        {"[{\"op\":\"incr\",\"path\":\"/s\",\"value\":1}]", "TYPE", "op 0 incr target at '/s'"},
        {"[{\"op\":\"incr\",\"path\":\"/n\",\"value\":9223372036854775807}]", "TYPE", "overflows"},
        {"[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1.5}]", "TYPE", "not an integer"},
        {"[{\"op\":\"add\",\"path\":\"/a\"", "PAYLOAD", "invalid JSON at byte"},
        {"[{\"op\":\"add\",\"path\":\"/n\",\"value\":2},{\"op\":\"copy\",\"from\":\"/x\","
         "\"path\":\"/y\"}]",
         "NOPATH", "op 1 from '/x' does not exist"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        itExpectError(edit(c, "e:err", cases[i].ops), cases[i].code, cases[i].needle);
        char *after = fullState(c, "e:err");
        expectSame(before, after, cases[i].ops);
        free(after);
    }
    /* A version conflict, with the text SAVE and PATCH use. */
    itExpectError(editIf(c, "e:err", "[]", "7"), "CONFLICT", "version is 1, expected 7");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT PATCH e:err {} IFVERSION 7"), "CONFLICT",
                  "version is 1, expected 7");
    itExpectError(editIf(c, "e:err", "[]", "0"), "CONFLICT", "version is 1, expected 0");
    /* Too big: the ops, and the edited document. */
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-snapshot-bytes 60"));
    itExpectError(edit(c, "e:err",
                       "[{\"op\":\"add\",\"path\":\"/big\",\"value\":\"0123456789012345678901234"
                       "56789012345678901234567890123456789\"}]"),
                  "PAYLOAD", "ops is");
    itExpectError(edit(c, "e:err", "[{\"op\":\"copy\",\"from\":\"/tasks\",\"path\":\"/t2\"}]"),
                  "PAYLOAD", "edited document is");
    itExpectOk(itCmd(c, "CONFIG SET swarm.max-snapshot-bytes 67108864"));
    /* Syntax. */
    itExpectError(itCmd(c, "SWARM.SNAPSHOT EDIT e:err [] IFVERSION"), "ERR", "syntax error");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT EDIT e:err [] KEEP 3"), "ERR", "syntax");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT EDIT e:err [] IFVERSION -1"), "ERR",
                  "version must be between 0 and 4611686018427387904");
    char *after = fullState(c, "e:err");
    expectSame(before, after, "failed EDITs");
    free(before), free(after);
    /* A failed EDIT of a missing key creates nothing; another type is WRONGTYPE. */
    itExpectError(edit(c, "e:none", "[{\"op\":\"remove\",\"path\":\"/x\"}]"), "NOPATH", NULL);
    itExpectInt(itCmd(c, "EXISTS e:none"), 0);
    itExpectOk(itCmd(c, "SET e:str x"));
    itExpectError(edit(c, "e:str", "[]"), "WRONGTYPE", NULL);
}

/* ---- EDIT: keyspace event, WATCH, replication effect ---- */

static void test_edit_event_and_watch(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "CONFIG SET notify-keyspace-events Kd"));
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "__keyspace@0__:e:ev", 5000);
    expectRepr(edit(c, "e:ev", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]"), "[:1,[]]");
    char *msg = itNextMessage(sub, "__keyspace@0__:e:ev", NULL);
    assert_string_equal(msg, "swarm.snapshot.edit");
    free(msg);
    redisFree(sub);
    itExpectOk(itCmd(c, "CONFIG SET notify-keyspace-events %s", ""));

    redisContext *other = itConnectTimeout(&srv, 10000);
    itExpectOk(itCmd(c, "WATCH e:ev"));
    expectRepr(edit(other, "e:ev", "[{\"op\":\"incr\",\"path\":\"/a\",\"value\":1}]"), "[:2,[:2]]");
    itExpectOk(itCmd(c, "MULTI"));
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT GET e:ev");
    freeReplyObject(r);
    r = itCmd(c, "EXEC");
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    /* A failed EDIT does not touch a watched key. */
    itExpectOk(itCmd(c, "WATCH e:ev"));
    itExpectError(edit(other, "e:ev", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":0}]"),
                  "TESTFAILED", NULL);
    itExpectOk(itCmd(c, "MULTI"));
    freeReplyObject(itCmd(c, "SWARM.SNAPSHOT GET e:ev"));
    r = itCmd(c, "EXEC");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    redisFree(other);
}

/* ---- Many writers ---- */

#define WORKERS 50
#define TASKS 1000

typedef struct worker {
    int id;
    int claimed[TASKS];
    int nclaimed;
    int conflicts, other;
    long long tickets[TASKS];
    int ntickets;
    char error[256];
} worker;

static worker workers[WORKERS];

/* Tries to claim every task, in an order of its own, pipelining 50 claims at a time. */
static void *claimer(void *arg) {
    worker *w = arg;
    redisContext *cc = redisConnect("127.0.0.1", srv.port);
    if (cc == NULL || cc->err) {
        snprintf(w->error, sizeof(w->error), "connect failed");
        return NULL;
    }
    int order[TASKS];
    for (int i = 0; i < TASKS; i++) order[i] = (i * 7 + w->id * 20) % TASKS;
    char ops[256];
    for (int b = 0; b < TASKS; b += 50) {
        for (int i = b; i < b + 50; i++) {
            snprintf(ops, sizeof(ops),
                     "[{\"op\":\"test\",\"path\":\"/tasks/%d/owner\",\"value\":null},"
                     "{\"op\":\"replace\",\"path\":\"/tasks/%d/owner\",\"value\":\"w%d\"}]",
                     order[i], order[i], w->id);
            redisAppendCommand(cc, "SWARM.SNAPSHOT EDIT e:claims %s", ops);
        }
        for (int i = b; i < b + 50; i++) {
            redisReply *r;
            if (redisGetReply(cc, (void **)&r) != REDIS_OK) {
                snprintf(w->error, sizeof(w->error), "connection error");
                redisFree(cc);
                return NULL;
            }
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
                w->claimed[w->nclaimed++] = order[i];
            } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "CONFLICT", 8) == 0) {
                w->conflicts++;
            } else if (!(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "TESTFAILED ", 11) == 0)) {
                w->other++;
                snprintf(w->error, sizeof(w->error), "unexpected reply type %d %s", r->type,
                         r->str ? r->str : "");
            }
            freeReplyObject(r);
        }
    }
    redisFree(cc);
    return NULL;
}

static void test_many_writers_claim_each_task_once(void **state) {
    (void)state;
    size_t cap = 32 + TASKS * 20;
    char *doc = malloc(cap);
    size_t n = (size_t)snprintf(doc, cap, "{\"tasks\":[");
    for (int i = 0; i < TASKS; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s{\"owner\":null}", i ? "," : "");
    snprintf(doc + n, cap - n, "]}");
    itExpectInt(save(c, "e:claims", doc), 1);
    free(doc);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, claimer, &workers[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
    int owner[TASKS];
    for (int t = 0; t < TASKS; t++) owner[t] = -1;
    int total = 0;
    for (int i = 0; i < WORKERS; i++) {
        if (workers[i].error[0]) fail_msg("worker %d: %s", i, workers[i].error);
        assert_int_equal(workers[i].conflicts, 0);
        assert_int_equal(workers[i].other, 0);
        for (int k = 0; k < workers[i].nclaimed; k++) {
            int t = workers[i].claimed[k];
            if (owner[t] != -1) fail_msg("task %d claimed by w%d and w%d", t, owner[t], i);
            owner[t] = i;
        }
        total += workers[i].nclaimed;
    }
    assert_int_equal(total, TASKS);
    /* The document agrees: every owner is the worker whose claim succeeded. */
    for (int t = 0; t < TASKS; t++)
        redisAppendCommand(c, "SWARM.SNAPSHOT GET e:claims PATH /tasks/%d/owner", t);
    for (int t = 0; t < TASKS; t++) {
        redisReply *r;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        char want[16];
        snprintf(want, sizeof(want), "\"w%d\"", owner[t]);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, want);
        freeReplyObject(r);
    }
    /* One version per successful claim. */
    redisReply *info = itCmd(c, "SWARM.SNAPSHOT INFO e:claims");
    assert_int_equal(itField(info, "head")->integer, 1 + TASKS);
    freeReplyObject(info);
}

#define INCRS 20

static void *incrementer(void *arg) {
    worker *w = arg;
    redisContext *cc = redisConnect("127.0.0.1", srv.port);
    if (cc == NULL || cc->err) {
        snprintf(w->error, sizeof(w->error), "connect failed");
        return NULL;
    }
    for (int i = 0; i < INCRS; i++)
        redisAppendCommand(cc, "SWARM.SNAPSHOT EDIT e:counter %s",
                           "[{\"op\":\"incr\",\"path\":\"/done\",\"value\":1}]");
    for (int i = 0; i < INCRS; i++) {
        redisReply *r;
        if (redisGetReply(cc, (void **)&r) != REDIS_OK) {
            snprintf(w->error, sizeof(w->error), "connection error");
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements == 1) {
            w->tickets[w->ntickets++] = r->element[1]->element[0]->integer;
        } else {
            snprintf(w->error, sizeof(w->error), "unexpected reply %s", r->str ? r->str : "");
        }
        freeReplyObject(r);
    }
    redisFree(cc);
    return NULL;
}

static void test_many_writers_incr_sums_exactly(void **state) {
    (void)state;
    itExpectInt(save(c, "e:counter", "{\"done\":0,\"log\":[]}"), 1);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        assert_int_equal(pthread_create(&th[i], NULL, incrementer, &workers[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
    static char seen[WORKERS * INCRS + 1];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < WORKERS; i++) {
        if (workers[i].error[0]) fail_msg("worker %d: %s", i, workers[i].error);
        assert_int_equal(workers[i].ntickets, INCRS);
        for (int k = 0; k < INCRS; k++) {
            long long t = workers[i].tickets[k];
            if (t < 1 || t > WORKERS * INCRS || seen[t])
                fail_msg("ticket %lld twice or out of range", t);
            seen[t] = 1;
            /* One client's tickets increase: its EDITs run in order. */
            if (k) assert_true(t > workers[i].tickets[k - 1]);
        }
    }
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:counter PATH /done"), "1000");
}

/* ---- GET WITHVERSION ---- */

static void test_get_withversion(void **state) {
    (void)state;
    itExpectInt(save(c, "e:wv", "{\"a\":{\"b\":1}}"), 1);
    itExpectInt(save(c, "e:wv", "{\"a\":{\"b\":2}}"), 2);
    expectRepr(itCmd(c, "SWARM.SNAPSHOT GET e:wv WITHVERSION"), "[:2,\"{\"a\":{\"b\":2}}\"]");
    expectRepr(itCmd(c, "SWARM.SNAPSHOT GET e:wv VERSION 1 WITHVERSION"),
               "[:1,\"{\"a\":{\"b\":1}}\"]");
    expectRepr(itCmd(c, "SWARM.SNAPSHOT GET e:wv withversion PATH /a/b"), "[:2,\"2\"]");
    expectRepr(itCmd(c, "SWARM.SNAPSHOT GET e:wv PATH /a/x WITHVERSION"), "[:2,(nil)]");
    /* A missing key answers nil, not an array. */
    expectRepr(itCmd(c, "SWARM.SNAPSHOT GET e:wv:none WITHVERSION"), "(nil)");
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET e:wv VERSION 9 WITHVERSION"), "NOVERSION", NULL);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT GET e:wv WITHVERSION VERSION"), "ERR", "syntax");
    itExpectStr(itCmd(c, "SWARM.SNAPSHOT GET e:wv"), "{\"a\":{\"b\":2}}");
}

/* ---- WAIT ---- */

static int blockedClients(redisContext *cc) {
    char buf[32];
    return atoi(itInfo(cc, "clients", "blocked_clients", buf, sizeof(buf)));
}

/* Sends WAIT key version timeout on a new connection and waits until the server holds it
 * blocked. */
static redisContext *startWait(itServer *s, redisContext *admin, const char *key, long long version,
                               long long timeout) {
    redisContext *w = itConnectTimeout(s, 10000);
    int before = blockedClients(admin);
    redisAppendCommand(w, "SWARM.SNAPSHOT WAIT %s %lld %lld", key, version, timeout);
    assert_int_equal(redisBufferWrite(w, &(int){0}), REDIS_OK);
    for (int i = 0; i < 1000 && blockedClients(admin) != before + 1; i++) itSleepMs(5);
    assert_int_equal(blockedClients(admin), before + 1);
    return w;
}

static char *waitAnswer(redisContext *w) {
    redisReply *r;
    if (redisGetReply(w, (void **)&r) != REDIS_OK) fail_msg("WAIT never answered");
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    redisFree(w);
    return s;
}

static void expectWaitAnswer(redisContext *w, const char *want, const char *what) {
    char *got = waitAnswer(w);
    if (strcmp(got, want) != 0)
        fail_msg("WAIT woken by %s answered %s, expected %s", what, got, want);
    free(got);
}

static void test_wait_immediate_and_timeout(void **state) {
    (void)state;
    itExpectInt(save(c, "w:a", "{}"), 1);
    itExpectInt(save(c, "w:a", "{}"), 2);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT WAIT w:a 0 0"), 2);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT WAIT w:a 1 100"), 2);
    itExpectNil(itCmd(c, "SWARM.SNAPSHOT WAIT w:a 2 50"));
    itExpectNil(itCmd(c, "SWARM.SNAPSHOT WAIT w:missing 0 50"));
    assert_int_equal(blockedClients(c), 0);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT WAIT w:a -1 10"), "ERR", NULL);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT WAIT w:a 1 -5"), "ERR", NULL);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT WAIT w:a x 10"), "ERR", NULL);
    itExpectError(itCmd(c, "SWARM.SNAPSHOT WAIT w:a 1"), "ERR", NULL);
    itExpectOk(itCmd(c, "SET w:str x"));
    itExpectError(itCmd(c, "SWARM.SNAPSHOT WAIT w:str 0 10"), "WRONGTYPE", NULL);
}

static void test_wait_woken_by_every_write(void **state) {
    (void)state;
    itExpectInt(save(c, "w:b", "{\"n\":1}"), 1);
    redisContext *w = startWait(&srv, c, "w:b", 1, 0);
    itExpectInt(save(c, "w:b", "{\"n\":2}"), 2);
    expectWaitAnswer(w, ":2", "SAVE");
    w = startWait(&srv, c, "w:b", 2, 10000);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT PATCH w:b {\"n\":3}"), 3);
    expectWaitAnswer(w, ":3", "PATCH");
    w = startWait(&srv, c, "w:b", 3, 10000);
    expectRepr(edit(c, "w:b", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]"), "[:4,[:4]]");
    expectWaitAnswer(w, ":4", "EDIT");
    w = startWait(&srv, c, "w:b", 4, 10000);
    itExpectInt(itCmd(c, "SWARM.SNAPSHOT RESTORE w:b 1"), 5);
    expectWaitAnswer(w, ":5", "RESTORE");
    /* A replicated effect sent by hand (as a replica receives it). */
    w = startWait(&srv, c, "w:b", 5, 10000);
    itExpectOk(itCmd(c, "SWARM.APPLY w:b SNAPSHOT 6 1700000000000 16 {\"n\":6}"));
    expectWaitAnswer(w, ":6", "SWARM.APPLY");
    /* A failed write wakes nobody; a waiter for a later version keeps waiting. */
    w = startWait(&srv, c, "w:b", 7, 10000);
    itExpectError(edit(c, "w:b", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":0}]"), "TESTFAILED",
                  NULL);
    itExpectInt(save(c, "w:b", "{}"), 7);
    /* A waiter a write wakes is unblocked before that write's reply is sent (the server
     * handles unblocked module clients before it writes replies), so the count is final. */
    assert_int_equal(blockedClients(c), 1);
    itExpectInt(save(c, "w:b", "{}"), 8);
    expectWaitAnswer(w, ":8", "a second SAVE");
    /* Several waiters on one key all wake. */
    redisContext *w1 = startWait(&srv, c, "w:b", 8, 10000);
    redisContext *w2 = startWait(&srv, c, "w:b", 8, 0);
    itExpectInt(save(c, "w:b", "{}"), 9);
    expectWaitAnswer(w1, ":9", "SAVE (first waiter)");
    expectWaitAnswer(w2, ":9", "SAVE (second waiter)");
    assert_int_equal(blockedClients(c), 0);
}

static void test_wait_for_creation_and_forever(void **state) {
    (void)state;
    /* A missing key is waited for; 0 waits forever. */
    redisContext *w = startWait(&srv, c, "w:c", 0, 0);
    /* The one sleep here is deliberate: "0 never times out" can only be observed by letting
     * time pass; nothing else is synchronised by it. */
    itSleepMs(300);
    assert_int_equal(blockedClients(c), 1);
    expectRepr(edit(c, "w:c", "[{\"op\":\"add\",\"path\":\"/x\",\"value\":1}]"), "[:1,[]]");
    expectWaitAnswer(w, ":1", "EDIT creating the key");
    /* The timeout answers nil after blocking. */
    w = startWait(&srv, c, "w:c", 1, 100);
    expectWaitAnswer(w, "(nil)", "the timeout");
}

static void test_wait_answers_zero_when_the_key_goes(void **state) {
    (void)state;
    const char *how[] = {"DEL w:d",
                         "UNLINK w:d",
                         "FLUSHALL",
                         "FLUSHDB",
                         "PEXPIRE w:d 1",
                         "SET w:d x",
                         "RENAME w:d w:d2",
                         "MOVE w:d 1",
                         "SWAPDB 0 1",
                         "SUNIONSTORE w:d w:set",
                         "SORT w:list STORE w:d"};
    for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
        itExpectInt(save(c, "w:d", "{}"), 1);
        itExpectInt(itCmd(c, "SADD w:set a"), 1);
        itExpectInt(itCmd(c, "RPUSH w:list 2 1"), 2);
        redisContext *w = startWait(&srv, c, "w:d", 1, 0);
        freeReplyObject(itCmd(c, how[i]));
        expectWaitAnswer(w, ":0", how[i]);
        if (strncmp(how[i], "SWAPDB", 6) == 0) freeReplyObject(itCmd(c, "SWAPDB 0 1"));
        if (strncmp(how[i], "MOVE", 4) == 0) {
            itExpectOk(itCmd(c, "SELECT 1"));
            itExpectInt(itCmd(c, "DEL w:d"), 1);
            itExpectOk(itCmd(c, "SELECT 0"));
        }
        freeReplyObject(itCmd(c, "DEL w:d w:d2 w:set w:list"));
    }
    /* A flush of another database leaves the waiter alone. */
    itExpectInt(save(c, "w:d", "{}"), 1);
    redisContext *w = startWait(&srv, c, "w:d", 1, 0);
    redisContext *db1 = itConnectTimeout(&srv, 10000);
    itExpectOk(itCmd(db1, "SELECT 1"));
    itExpectOk(itCmd(db1, "FLUSHDB"));
    itExpectInt(itCmd(db1, "DEL w:d"), 0);
    redisFree(db1);
    /* As above: a wake-up the flush caused would be done before FLUSHDB's reply was sent. */
    assert_int_equal(blockedClients(c), 1);
    itExpectInt(save(c, "w:d", "{}"), 2);
    expectWaitAnswer(w, ":2", "SAVE after another db's flush");
    itExpectInt(itCmd(c, "DEL w:d"), 1);
}

/* Two round trips: the server has run at least one more event loop iteration since the last
 * command on cc, so work it deferred to the event loop (the check after a flush) is done. */
static void settle(redisContext *cc) {
    for (int i = 0; i < 2; i++) itExpectStr(itCmd(cc, "PING"), "PONG");
}

static void test_wait_keeps_waiting_across_debug_reload(void **state) {
    (void)state;
    itExpectInt(save(c, "w:r", "{\"n\":1}"), 1);
    redisContext *w = startWait(&srv, c, "w:r", 1, 0);
    /* A waiter for a key not created yet keeps waiting too. */
    redisContext *wn = startWait(&srv, c, "w:r:new", 0, 0);
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    settle(c);
    assert_int_equal(blockedClients(c), 2);
    itExpectInt(save(c, "w:r", "{\"n\":2}"), 2);
    expectWaitAnswer(w, ":2", "SAVE after DEBUG RELOAD");
    itExpectInt(save(c, "w:r:new", "{}"), 1);
    expectWaitAnswer(wn, ":1", "creating the key after DEBUG RELOAD");
    /* A write pipelined right behind the reload, before the event loop ran again. */
    w = startWait(&srv, c, "w:r", 2, 0);
    redisAppendCommand(c, "DEBUG RELOAD");
    redisAppendCommand(c, "SWARM.SNAPSHOT SAVE w:r {}");
    redisReply *r;
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    itExpectOk(r);
    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    itExpectInt(r, 3);
    expectWaitAnswer(w, ":3", "SAVE pipelined after DEBUG RELOAD");
    /* A flush, then a new history under the same name: the old one is gone. */
    w = startWait(&srv, c, "w:r", 3, 0);
    itExpectOk(itCmd(c, "MULTI"));
    freeReplyObject(itCmd(c, "FLUSHDB"));
    freeReplyObject(itCmd(c, "SWARM.SNAPSHOT SAVE w:r {}"));
    expectRepr(itCmd(c, "EXEC"), "[\"OK\",:1]");
    expectWaitAnswer(w, ":0", "FLUSHDB then SAVE in one transaction");
    itExpectInt(itCmd(c, "DEL w:r w:r:new"), 1);
}

/* A replica's full resync flushes and loads the master's data: its waiters keep waiting when
 * their key is at the same version, and answer the head when it moved. */
static void test_wait_on_replica_across_full_resync(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServer m, r;
    redisContext *mc, *rc;
    itStartPair(&m, &mc, mextra, &r, &rc);
    itExpectInt(save(mc, "f:k", "{\"n\":1}"), 1);
    itAttachReplica(rc, &m, 10000);
    assert_true(itWaitInfo(mc, "stats", "sync_full", "1", 10000));
    itWaitReplicas(mc, 1, 5000);
    redisContext *w = startWait(&r, rc, "f:k", 1, 0);
    /* Same data: a new replication id makes the replica's next PSYNC a full resync. */
    itExpectOk(itCmd(mc, "DEBUG CHANGE-REPL-ID"));
    freeReplyObject(itCmd(mc, "CLIENT KILL TYPE replica"));
    assert_true(itWaitInfo(mc, "stats", "sync_full", "2", 10000));
    itWaitLinkUp(rc, 10000);
    itWaitReplicas(mc, 1, 5000);
    settle(rc);
    assert_int_equal(blockedClients(rc), 1);
    /* Moved while the replica was away (the write is not sent on a link being closed): it
     * answers the version it loaded. */
    itExpectOk(itCmd(mc, "MULTI"));
    freeReplyObject(itCmd(mc, "DEBUG CHANGE-REPL-ID"));
    freeReplyObject(itCmd(mc, "CLIENT KILL TYPE replica"));
    freeReplyObject(itCmd(mc, "SWARM.SNAPSHOT SAVE f:k {\"n\":2}"));
    expectRepr(itCmd(mc, "EXEC"), "[\"OK\",:1,:2]");
    expectWaitAnswer(w, ":2", "a full resync that moved the key");
    assert_true(itWaitInfo(mc, "stats", "sync_full", "3", 10000));
    itWaitLinkUp(rc, 10000);
    itExpectStr(itCmd(rc, "SWARM.SNAPSHOT GET f:k PATH /n"), "2");
    redisFree(mc), redisFree(rc);
    itDestroy(&r);
    itDestroy(&m);
}

/* Where modules have ACL categories (Redis 7.2+, Valkey), WAIT is in @blocking, so a user
 * without it cannot block; Redis 7.0 has no way to put it there. */
static void test_wait_in_blocking_category(void **state) {
    (void)state;
    char version[32];
    itInfo(c, "server", "redis_version", version, sizeof(version));
    int major = 0, minor = 0;
    sscanf(version, "%d.%d", &major, &minor);
    itExpectOk(itCmd(c, "ACL SETUSER noblock on nopass ~* +@all -@blocking"));
    itExpectInt(save(c, "w:acl", "{}"), 1);
    redisContext *u = itConnectTimeout(&srv, 10000);
    itExpectOk(itCmd(u, "AUTH noblock x"));
    redisReply *r = itCmd(u, "SWARM.SNAPSHOT WAIT w:acl 0 0");
    if (major == 7 && minor < 2) {
        itExpectInt(r, 1);
        print_message("redis %s has no module ACL categories: -@blocking checked on 7.2+\n",
                      version);
    } else {
        itExpectError(r, "NOPERM", NULL);
        expectRepr(itCmd(u, "SWARM.SNAPSHOT GET w:acl WITHVERSION"), "[:1,\"{}\"]");
    }
    redisFree(u);
    itExpectInt(itCmd(c, "ACL DELUSER noblock"), 1);
    itExpectInt(itCmd(c, "DEL w:acl"), 1);
}

static void test_wait_never_blocks_in_multi_or_lua(void **state) {
    (void)state;
    itExpectInt(save(c, "w:m", "{}"), 1);
    itExpectOk(itCmd(c, "MULTI"));
    redisReply *r = itCmd(c, "SWARM.SNAPSHOT WAIT w:m 1 0");
    freeReplyObject(r);
    r = itCmd(c, "SWARM.SNAPSHOT WAIT w:m 0 0");
    freeReplyObject(r);
    expectRepr(itCmd(c, "EXEC"), "[(nil),:1]");
    itExpectNil(itCmd(c, "EVAL %s 0", "return redis.call('SWARM.SNAPSHOT','WAIT','w:m','1','0')"));
    itExpectInt(itCmd(c, "EVAL %s 0", "return redis.call('SWARM.SNAPSHOT','WAIT','w:m','0','0')"),
                1);
    assert_int_equal(blockedClients(c), 0);
}

/* ---- Replication and persistence of EDITed histories ---- */

static void test_replica_wait_and_digests(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServer m, r;
    redisContext *mc, *rc;
    itStartPair(&m, &mc, mextra, &r, &rc);
    itExpectInt(save(mc, "r:k", "{\"n\":0,\"tasks\":[]}"), 1);
    itAttachReplica(rc, &m, 10000);
    itWaitReplicas(mc, 1, 5000);
    redisContext *w = startWait(&r, rc, "r:k", 1, 10000);
    expectRepr(edit(mc, "r:k",
                    "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":5},"
                    "{\"op\":\"add\",\"path\":\"/tasks/-\",\"value\":1.0e0}]"),
               "[:2,[:5]]");
    expectWaitAnswer(w, ":2", "the master's EDIT on a replica");
    /* A key created on the master wakes a replica's waiter for it. */
    w = startWait(&r, rc, "r:new", 0, 10000);
    expectRepr(edit(mc, "r:new", "[]"), "[:1,[]]");
    expectWaitAnswer(w, ":1", "the master creating the key");
    /* Deletion on the master answers 0 on the replica. */
    w = startWait(&r, rc, "r:new", 1, 0);
    itExpectInt(itCmd(mc, "DEL r:new"), 1);
    expectWaitAnswer(w, ":0", "the master's DEL");
    for (int i = 0; i < 20; i++) {
        redisReply *e = edit(mc, "r:k", "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]");
        assert_int_equal(e->type, REDIS_REPLY_ARRAY);
        freeReplyObject(e);
    }
    itWaitReplicas(mc, 1, 5000);
    char *ms = fullState(mc, "r:k"), *rs = fullState(rc, "r:k");
    expectSame(ms, rs, "the replica's history");
    free(ms), free(rs);
    char *md = itDigest(mc, "r:k"), *rd = itDigest(rc, "r:k");
    assert_string_equal(md, rd);
    free(md), free(rd);
    redisFree(mc), redisFree(rc);
    itDestroy(&r);
    itDestroy(&m);
}

static void editMany(redisContext *cc, const char *key, int n) {
    for (int i = 0; i < n; i++) {
        char ops[160];
        snprintf(ops, sizeof(ops),
                 "[{\"op\":\"add\",\"path\":\"/log/-\",\"value\":%d},"
                 "{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]",
                 i);
        redisReply *r = edit(cc, key, ops);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        freeReplyObject(r);
    }
}

static void test_edited_history_persists(void **state) {
    (void)state;
    const char *extra[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    itServer s;
    itStart(&s, NULL, extra);
    redisContext *cc = itConnectTimeout(&s, 10000);
    itExpectInt(save(cc, "p:e", "{\"n\":0,\"log\":[]}"), 1);
    editMany(cc, "p:e", 60);
    char *before = fullState(cc, "p:e");
    itExpectOk(itCmd(cc, "DEBUG RELOAD"));
    char *after = fullState(cc, "p:e");
    expectSame(before, after, "DEBUG RELOAD");
    free(after);
    itAofRewrite(cc, 10000);
    editMany(cc, "p:e", 5); /* after the rewrite: replayed from the incremental file */
    free(before);
    before = fullState(cc, "p:e");
    redisFree(cc);
    itRestart(&s);
    cc = itConnectTimeout(&s, 10000);
    after = fullState(cc, "p:e");
    expectSame(before, after, "AOF rewrite and restart");
    itExpectStr(itCmd(cc, "SWARM.SNAPSHOT GET p:e PATH /n"), "65");
    free(before), free(after);
    redisFree(cc);
    itDestroy(&s);
}

/* ---- Defaults and introspection ---- */

static void test_default_keep_and_command_info(void **state) {
    (void)state;
    redisReply *r = itCmd(c, "CONFIG GET swarm.snapshot-keep");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_string_equal(r->element[1]->str, "1000");
    freeReplyObject(r);
    itExpectInt(save(c, "i:k", "{}"), 1);
    r = itCmd(c, "SWARM.SNAPSHOT INFO i:k");
    assert_int_equal(itField(r, "keep")->integer, 1000);
    freeReplyObject(r);
    r = itCmd(c, "COMMAND INFO swarm.snapshot|edit swarm.snapshot|wait");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[1]->type, REDIS_REPLY_ARRAY);
    char *wait = itReplyRepr(r->element[1]);
    assert_non_null(strstr(wait, "\"readonly\""));
    assert_non_null(strstr(wait, "\"blocking\""));
    freeReplyObject(r);
    free(wait);
    r = itCmd(c, "SWARM.SNAPSHOT HELP");
    char *help = itReplyRepr(r);
    freeReplyObject(r);
    assert_non_null(strstr(help, "EDIT <key> <ops> [IFVERSION <v>]"));
    assert_non_null(strstr(help, "WAIT <key> <version> <timeout-ms>"));
    assert_non_null(strstr(help, "WITHVERSION"));
    free(help);
    /* ACL: EDIT and WAIT are real subcommands. */
    itExpectOk(itCmd(c, "ACL SETUSER edituser on nopass ~* +swarm.snapshot|wait"));
    redisContext *u = itConnectTimeout(&srv, 10000);
    itExpectOk(itCmd(u, "AUTH edituser x"));
    itExpectInt(itCmd(u, "SWARM.SNAPSHOT WAIT i:k 0 0"), 1);
    itExpectError(edit(u, "i:k", "[]"), "NOPERM", NULL);
    redisFree(u);
    itExpectInt(itCmd(c, "ACL DELUSER edituser"), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_each_op),
        cmocka_unit_test(test_edit_errors_change_nothing),
        cmocka_unit_test(test_edit_event_and_watch),
        cmocka_unit_test(test_many_writers_claim_each_task_once),
        cmocka_unit_test(test_many_writers_incr_sums_exactly),
        cmocka_unit_test(test_get_withversion),
        cmocka_unit_test(test_wait_immediate_and_timeout),
        cmocka_unit_test(test_wait_woken_by_every_write),
        cmocka_unit_test(test_wait_for_creation_and_forever),
        cmocka_unit_test(test_wait_answers_zero_when_the_key_goes),
        cmocka_unit_test(test_wait_keeps_waiting_across_debug_reload),
        cmocka_unit_test(test_wait_in_blocking_category),
        cmocka_unit_test(test_wait_never_blocks_in_multi_or_lua),
        cmocka_unit_test(test_wait_on_replica_across_full_resync),
        cmocka_unit_test(test_replica_wait_and_digests),
        cmocka_unit_test(test_edited_history_persists),
        cmocka_unit_test(test_default_keep_and_command_info),
    };
    itFixture(&srv, &c, internalOpen, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
}
