/* test_publish_effect.c -- SWARM.PUBLISH's native stream appends and its one replicated effect:
 *
 *   - the reply [id, delivered, receivers, lost], lost naming each shed, missed or failed
 *     target with its outcome, the same in RESP2 and RESP3; NOSWARM for a missing table;
 *   - stream entries (fields id swarm type priority ts payload [sender]) appended as XADD
 *     would: the same keyspace events, blocked XREAD and XREADGROUP clients woken on the
 *     master and on a replica, trimming to swarm.stream-maxlen on both;
 *   - one SWARM.APPLY per publish (no MULTI/EXEC, no XADD) that leaves a replica and an AOF
 *     reload byte-identical (DEBUG DIGEST-VALUE of tables and streams);
 *   - replica subscribers get every envelope exactly once, and a master with replicas does
 *     not judge a channel without local subscribers a miss;
 *   - SWARM.APPLY and SWARM.RESTORE refused from clients (plain, MULTI, Lua, a replica's
 *     own clients), still working from the master link and AOF loading;
 *   - a 3-master cluster with a replica.
 *
 * Groups: "solo" (one server, no replica), "pair" (master + replica), "aof" (appendonly),
 * "cluster". */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Shared helpers ---- */

/* Checks a publish reply: 5 elements (the last 0: not a duplicate), a message id, then the repr of
 * delivered, receivers and lost as one line (e.g. `["stream:s"],:0,[["channel:c","missed"]]`).
 * Copies the id into idbuf (64 bytes) when not NULL; frees the reply. */
static void expectPub(redisReply *r, const char *want, char *idbuf) {
    if (r->type == REDIS_REPLY_ERROR) fail_msg("publish failed: %s", r->str);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    assert_int_equal(r->element[4]->integer, 0);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    unsigned long long ms, seq;
    char tail;
    if (sscanf(r->element[0]->str, "%llu-%llu%c", &ms, &seq, &tail) != 2)
        fail_msg("bad message id '%s'", r->element[0]->str);
    if (idbuf) snprintf(idbuf, 64, "%s", r->element[0]->str);
    char *a = itReplyRepr(r->element[1]), *b = itReplyRepr(r->element[2]),
         *c = itReplyRepr(r->element[3]);
    char got[4096];
    snprintf(got, sizeof(got), "%s,%s,%s", a, b, c);
    free(a);
    free(b);
    free(c);
    if (strcmp(got, want) != 0) fail_msg("publish reply\n  got:  %s\n  want: %s", got, want);
    freeReplyObject(r);
}

static void expectSameDigest(redisContext *a, redisContext *b, const char *key) {
    char *x = itDigest(a, key), *y = itDigest(b, key);
    if (strcmp(x, "0000000000000000000000000000000000000000") == 0)
        fail_msg("key %s is missing on the first server", key);
    if (strcmp(x, y) != 0) fail_msg("digest of %s differs: %s vs %s", key, x, y);
    free(x);
    free(y);
}

/* The same reply (as a repr line) for one command on both servers. */
static void expectSameReply(redisContext *a, redisContext *b, const char *fmt, const char *key) {
    redisReply *x = itCmd(a, fmt, key), *y = itCmd(b, fmt, key);
    char *rx = itReplyRepr(x), *ry = itReplyRepr(y);
    if (x->type == REDIS_REPLY_ERROR) fail_msg("%s %s: %s", fmt, key, rx);
    if (strcmp(rx, ry) != 0) fail_msg("%s %s differs:\n  %s\n  %s", fmt, key, rx, ry);
    free(rx);
    free(ry);
    freeReplyObject(x);
    freeReplyObject(y);
}

/* The field of a SWARM.ROUTE LIST entry of route id, as an integer or a string in buf. */
static long long routeField(redisContext *ctx, const char *key, long long id, const char *field,
                            char *buf, size_t len) {
    redisReply *r = itCmd(ctx, "SWARM.ROUTE LIST %s", key);
    long long v = -1;
    int seen = 0;
    for (size_t i = 0; i < r->elements && !seen; i++) {
        redisReply *e = r->element[i];
        if (itField(e, "id")->integer != id) continue;
        redisReply *f = itField(e, field);
        if (f == NULL) fail_msg("no field %s in LIST %s", field, key);
        if (f->type == REDIS_REPLY_INTEGER) v = f->integer;
        if (buf) snprintf(buf, len, "%s", f->str ? f->str : "");
        seen = 1;
    }
    freeReplyObject(r);
    if (!seen) fail_msg("route %lld not in LIST %s", id, key);
    return v;
}

/* Sends a command without waiting for its reply (for blocking commands). */
static void sendOnly(redisContext *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (redisvAppendCommand(ctx, fmt, ap) != REDIS_OK) fail_msg("append: %s", ctx->errstr);
    va_end(ap);
    int done = 0;
    while (!done)
        if (redisBufferWrite(ctx, &done) != REDIS_OK) fail_msg("write: %s", ctx->errstr);
}

static redisReply *readReply(redisContext *ctx) {
    void *r = NULL;
    if (redisGetReply(ctx, &r) != REDIS_OK || r == NULL)
        fail_msg("no reply: %s", ctx->errstr[0] ? ctx->errstr : "timeout");
    return r;
}

static void waitBlocked(redisContext *ctx, const char *n) {
    if (!itWaitInfo(ctx, "clients", "blocked_clients", n, 10000))
        fail_msg("blocked_clients never reached %s", n);
}

/* In an XREAD/XREADGROUP reply [[key, [[entry-id, [f, v, ...]]]]], the value of field in
 * the first entry, or fails. */
static const char *xreadField(const redisReply *r, const char *key, const char *field) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) fail_msg("XREAD reply type %d", r->type);
    const redisReply *s = r->element[0];
    assert_string_equal(s->element[0]->str, key);
    const redisReply *entry = s->element[1]->element[0];
    const redisReply *fv = entry->element[1];
    for (size_t i = 0; i + 1 < fv->elements; i += 2)
        if (strcmp(fv->element[i]->str, field) == 0) return fv->element[i + 1]->str;
    fail_msg("no field %s in the entry", field);
    return NULL;
}

/* ============================== solo: one server ============================== */

static itServer solo;
static redisContext *sc;

static void test_lost_lists_missed_failed_and_shed_targets(void **state) {
    (void)state;
    itExpectOk(itCmd(sc, "CONFIG SET swarm.breaker-threshold 2"));
    itExpectOk(itCmd(sc, "SET lo:str x"));
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD lo a.* channel:lo:nobody"), 1);
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD lo a.* stream:lo:str"), 2);
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD lo a.* stream:lo:s"), 3);
    /* A second route to the same channel: the target is attempted and listed once. */
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD lo a.> channel:lo:nobody"), 4);
    for (int i = 0; i < 2; i++)
        expectPub(itPublish(sc, "lo", "a.x", "{}", NULL),
                  "[\"stream:lo:s\"],:0,[[\"channel:lo:nobody\",\"missed\"],"
                  "[\"stream:lo:str\",\"failed\"]]",
                  NULL);
    /* Both breakers are open now: priority 5 skips them, 8 and 9 still try. */
    expectPub(
        itPublish(sc, "lo", "a.x", "{}", NULL),
        "[\"stream:lo:s\"],:0,[[\"channel:lo:nobody\",\"shed\"],[\"stream:lo:str\",\"shed\"]]",
        NULL);
    expectPub(itPublish(sc, "lo", "a.x", "{}", "PRIORITY", "8", NULL),
              "[\"stream:lo:s\"],:0,[[\"channel:lo:nobody\",\"missed\"],"
              "[\"stream:lo:str\",\"failed\"]]",
              NULL);
    assert_int_equal(itStatField(sc, "lo", "shed"), 3); /* routes 1, 2 and 4 */
    assert_int_equal(routeField(sc, "lo", 4, "shed", NULL, 0), 1);
    itExpectInt(itCmd(sc, "XLEN lo:s"), 4);

    /* With a subscriber the channel is delivered; nothing lost. */
    redisContext *sub = itSubscribe(&solo, "SUBSCRIBE", "lo:nobody", 3000);
    itExpectInt(itCmd(sc, "SWARM.ROUTE DEL lo 2"), 1);
    expectPub(itPublish(sc, "lo", "a.x", "{}", "PRIORITY", "9", NULL),
              "[\"channel:lo:nobody\",\"stream:lo:s\"],:1,[]", NULL);
    free(itNextMessage(sub, "lo:nobody", NULL));
    redisFree(sub);

    /* Dead letters: every target lost, the default delivered; a missing default target is
     * itself listed. */
    itExpectOk(itCmd(sc, "SWARM.ROUTE DEFAULT lo stream:lo:dead"));
    expectPub(itPublish(sc, "lo", "b.x", "{}", NULL), "[\"stream:lo:dead\"],:0,[]", NULL);
    itExpectOk(itCmd(sc, "SWARM.ROUTE DEFAULT lo channel:lo:deadchan"));
    expectPub(itPublish(sc, "lo", "b.x", "{}", NULL),
              "[],:0,[[\"channel:lo:deadchan\",\"missed\"]]", NULL);
    itExpectOk(itCmd(sc, "SWARM.ROUTE DEFAULT lo stream:lo:str"));
    itExpectInt(itCmd(sc, "SWARM.ROUTE DEL lo 3"), 1);
    expectPub(itPublish(sc, "lo", "a.x", "{}", "PRIORITY", "9", NULL),
              "[],:0,[[\"channel:lo:nobody\",\"missed\"],[\"stream:lo:str\",\"failed\"]]", NULL);
    itExpectOk(itCmd(sc, "CONFIG SET swarm.breaker-threshold 5"));
}

/* A publish changes the dataset: save points see it (rdb_changes_since_last_save), also on a
 * server where nothing receives the replicated effect (no AOF, no replica ever). */
static void test_publish_counts_as_a_change_for_save_points(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD dy a.* channel:dy:ch"), 1);
    char buf[32];
    long long before = strtoll(
        itInfo(sc, "persistence", "rdb_changes_since_last_save", buf, sizeof(buf)), NULL, 10);
    expectPub(itPublish(sc, "dy", "a.x", "{}", NULL), "[],:0,[[\"channel:dy:ch\",\"missed\"]]",
              NULL);
    itExpectError(itPublish(sc, "dy", "a..x", "{}", NULL), "EVENTTYPE", NULL);
    long long after = strtoll(
        itInfo(sc, "persistence", "rdb_changes_since_last_save", buf, sizeof(buf)), NULL, 10);
    assert_int_equal(after, before + 2);
}

static void test_reply_shape_is_the_same_in_resp3(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD r3 a.* channel:r3:nobody"), 1);
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD r3 a.* stream:r3:s"), 2);
    size_t len;
    char *raw = itRawResp3(&solo, "SWARM.PUBLISH r3 a.x {}", &len);
    /* [id, ["stream:r3:s"], 0, [["channel:r3:nobody", "missed"]], 0] as RESP3 arrays. */
    const char *want = "*1\r\n$11\r\nstream:r3:s\r\n:0\r\n*1\r\n*2\r\n$17\r\nchannel:r3:nobody\r\n"
                       "$6\r\nmissed\r\n:0\r\n+PONG\r\n";
    if (len < strlen(want) || strcmp(raw + len - strlen(want), want) != 0)
        fail_msg("RESP3 reply ends unexpectedly: %s", raw);
    assert_non_null(strstr(raw, "*5\r\n$"));
    free(raw);
}

static void test_missing_table_answers_noswarm_and_counts_rejected(void **state) {
    (void)state;
    long long rej = itInfoNum(sc, "swarm", "swarm_rejected"),
              nos = itInfoNum(sc, "swarm", "swarm_rejected_noswarm"),
              pub = itInfoNum(sc, "swarm", "swarm_published");
    itExpectError(itPublish(sc, "no:such:table", "a.x", "{}", NULL), "NOSWARM",
                  "NOSWARM no routing table at key 'no:such:table'");
    itExpectError(
        itPublish(sc, "no:such:table", "a.x", "{}", "PRIORITY", "9", "SENDER", "me", NULL),
        "NOSWARM", NULL);
    itExpectInt(itCmd(sc, "EXISTS no:such:table"), 0);
    assert_int_equal(itInfoNum(sc, "swarm", "swarm_rejected"), rej + 2);
    assert_int_equal(itInfoNum(sc, "swarm", "swarm_rejected_noswarm"), nos + 2);
    assert_int_equal(itInfoNum(sc, "swarm", "swarm_published"), pub);
    /* The command's own syntax is checked first; a wrong type is still WRONGTYPE. */
    itExpectError(itPublish(sc, "no:such:table", "a..x", "{}", NULL), "EVENTTYPE", NULL);
    itExpectOk(itCmd(sc, "SET no:str x"));
    itExpectError(itPublish(sc, "no:str", "a.x", "{}", NULL), "WRONGTYPE", NULL);
}

static void test_stream_entry_fields_match_the_envelope(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD fe a.* stream:fe:s"), 1);
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD fe a.* channel:fe:ch"), 2);
    redisContext *sub = itSubscribe(&solo, "SUBSCRIBE", "fe:ch", 3000);
    char id[64];
    expectPub(itPublish(sc, "fe", "a.x", "{\"k\":[1,2]}", "PRIORITY", "7", "SENDER", "bot-1", NULL),
              "[\"stream:fe:s\",\"channel:fe:ch\"],:1,[]", id);
    char *env = itNextMessage(sub, "fe:ch", NULL);
    redisFree(sub);
    unsigned long long ms = strtoull(id, NULL, 10);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"swarm\":\"fe\",\"type\":\"a.x\",\"priority\":7,\"ts\":%llu,"
             "\"sender\":\"bot-1\",\"payload\":{\"k\":[1,2]}}",
             id, ms);
    assert_string_equal(env, want);
    free(env);
    redisReply *r = itCmd(sc, "XRANGE fe:s - +");
    assert_int_equal(r->elements, 1);
    char *fields = itReplyRepr(r->element[0]->element[1]);
    snprintf(want, sizeof(want),
             "[\"id\",\"%s\",\"swarm\",\"fe\",\"type\",\"a.x\",\"priority\",\"7\",\"ts\",\"%llu\","
             "\"payload\",\"{\"k\":[1,2]}\",\"sender\",\"bot-1\"]",
             id, ms);
    assert_string_equal(fields, want);
    free(fields);
    freeReplyObject(r);
    /* Without SENDER there is no sender field. */
    expectPub(itPublish(sc, "fe", "a.y", "1", NULL),
              "[\"stream:fe:s\"],:0,[[\"channel:fe:ch\",\"missed\"]]", id);
    r = itCmd(sc, "XREVRANGE fe:s + - COUNT 1");
    assert_int_equal(r->element[0]->element[1]->elements, 12);
    freeReplyObject(r);
}

/* Reads keyspace events for keys under prefix until the sentinel channel; returns
 * "key:event key:event ..." (malloc'ed). */
static char *readEvents(redisContext *ps, const char *sentinel) {
    char *acc = calloc(1, 1);
    size_t n = 0;
    for (;;) {
        redisReply *m = readReply(ps);
        if (m->type != REDIS_REPLY_ARRAY || m->elements != 4) fail_msg("not a pmessage");
        const char *chan = m->element[2]->str, *msg = m->element[3]->str;
        if (strcmp(chan, sentinel) == 0) {
            freeReplyObject(m);
            return acc;
        }
        const char *key = strrchr(chan, ':') ? strchr(chan, ':') + 1 : chan;
        size_t add = strlen(key) + strlen(msg) + 3;
        acc = realloc(acc, n + add);
        n += (size_t)snprintf(acc + n, add, "%s%s=%s", n ? " " : "", key, msg);
        freeReplyObject(m);
    }
}

static void test_keyspace_events_and_trimming_as_xadd(void **state) {
    (void)state;
    itExpectOk(itCmd(sc, "CONFIG SET notify-keyspace-events KEA"));
    itExpectOk(itCmd(sc, "CONFIG SET stream-node-max-entries 4"));
    itExpectOk(itCmd(sc, "CONFIG SET swarm.stream-maxlen 6"));
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD ke a.* stream:ke:s"), 1);
    redisContext *ps = itConnectTimeout(&solo, 5000);
    freeReplyObject(itCmd(ps, "PSUBSCRIBE __keyspace@0__:ke:* ke-done"));
    freeReplyObject(readReply(ps));
    for (int i = 0; i < 20; i++) {
        freeReplyObject(itCmd(sc, "XADD ke:x MAXLEN ~ 6 * id %d swarm ke", i));
        expectPub(itPublish(sc, "ke", "a.x", "{}", NULL), "[\"stream:ke:s\"],:0,[]", NULL);
    }
    freeReplyObject(itCmd(sc, "PUBLISH ke-done x"));
    char *ev = readEvents(ps, "ke-done");
    redisFree(ps);
    /* The same sequence for the stream written by XADD and by SWARM.PUBLISH. */
    char *x = calloc(1, strlen(ev) + 1), *s = calloc(1, strlen(ev) + 1);
    for (char *tok = strtok(ev, " "); tok; tok = strtok(NULL, " ")) {
        char *dst = strncmp(tok, "ke:x=", 5) == 0 ? x : strncmp(tok, "ke:s=", 5) == 0 ? s : NULL;
        if (dst == NULL) fail_msg("unexpected event %s", tok);
        strcat(dst, tok + 5);
        strcat(dst, " ");
    }
    assert_non_null(strstr(x, "xtrim"));
    assert_non_null(strstr(x, "xadd"));
    assert_string_equal(s, x);
    free(x);
    free(s);
    free(ev);
    /* Trimmed as XADD MAXLEN ~ trims: to the same length. */
    long long lx = itInteger(itCmd(sc, "XLEN ke:x"));
    itExpectInt(itCmd(sc, "XLEN ke:s"), lx);
    assert_true(lx >= 6 && lx < 10);
    itExpectOk(itCmd(sc, "CONFIG SET notify-keyspace-events %s", ""));
    itExpectOk(itCmd(sc, "CONFIG SET stream-node-max-entries 100"));
    itExpectOk(itCmd(sc, "CONFIG SET swarm.stream-maxlen 100000"));
}

static void test_blocked_readers_wake_on_a_new_and_an_existing_stream(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD bk a.* stream:bk:new"), 1);
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD bk a.* stream:bk:old"), 2);
    itExpectOk(itCmd(sc, "XGROUP CREATE bk:old g $ MKSTREAM"));
    redisContext *a = itConnectTimeout(&solo, 15000), *b = itConnectTimeout(&solo, 15000);
    sendOnly(a, "XREAD BLOCK 10000 STREAMS bk:new $");
    sendOnly(b, "XREADGROUP GROUP g c1 BLOCK 10000 STREAMS bk:old >");
    waitBlocked(sc, "2");
    char id[64];
    expectPub(itPublish(sc, "bk", "a.x", "{\"w\":1}", NULL),
              "[\"stream:bk:new\",\"stream:bk:old\"],:0,[]", id);
    redisReply *ra = readReply(a), *rb = readReply(b);
    assert_string_equal(xreadField(ra, "bk:new", "id"), id);
    assert_string_equal(xreadField(rb, "bk:old", "id"), id);
    assert_string_equal(xreadField(rb, "bk:old", "payload"), "{\"w\":1}");
    freeReplyObject(ra);
    freeReplyObject(rb);
    redisFree(a);
    redisFree(b);
}

static void test_internal_commands_refused_from_clients(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD ic a.* channel:ic:ch"), 1);
    const char *msg = "only the master link and AOF loading may run it";
    itExpectError(itCmd(sc, "SWARM.APPLY ic ROUTE xyz"), "ERR", msg);
    itExpectError(itCmd(sc, "SWARM.APPLY ic SNAPSHOT 1 2 3 {}"), "ERR", msg);
    itExpectError(itCmd(sc, "SWARM.RESTORE ic:new swarm-rtb xyz"), "ERR", msg);
    itExpectError(itCmd(sc, "SWARM.RESTORE ic swarm-rtb xyz REPLACE"), "ERR", msg);
    /* In a transaction. */
    itExpectOk(itCmd(sc, "MULTI"));
    itExpectStr(itCmd(sc, "SWARM.APPLY ic ROUTE xyz"), "QUEUED");
    itExpectStr(itCmd(sc, "SWARM.RESTORE ic swarm-rtb xyz REPLACE"), "QUEUED");
    redisReply *r = itCmd(sc, "EXEC");
    assert_int_equal(r->elements, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r->element[i]->type, REDIS_REPLY_ERROR);
        assert_non_null(strstr(r->element[i]->str, msg));
        assert_true(strncmp(r->element[i]->str, "ERR ", 4) == 0);
    }
    freeReplyObject(r);
    /* From a script. */
    r = itCmd(sc, "EVAL %s 1 ic", "return redis.pcall('SWARM.APPLY', KEYS[1], 'ROUTE', 'x')");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(r->str, msg));
    freeReplyObject(r);
    r = itCmd(sc, "EVAL %s 1 ic:l",
              "return redis.pcall('SWARM.RESTORE', KEYS[1], 'swarm-rtb', 'x')");
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(r->str, msg));
    freeReplyObject(r);
    itExpectInt(itCmd(sc, "EXISTS ic:new ic:l"), 0);
    /* The switch that opens them (for tests of their input checks) is load-time only. */
    /* The refusal's text is the server's: the value left in force is the check. */
    itExpectError(itCmd(sc, "CONFIG SET swarm.debug-internal-commands yes"), "ERR", NULL);
    redisReply *cfg = itCmd(sc, "CONFIG GET swarm.debug-internal-commands");
    assert_int_equal(cfg->type, REDIS_REPLY_ARRAY);
    assert_int_equal(cfg->elements, 2);
    assert_string_equal(cfg->element[1]->str, "no");
    freeReplyObject(cfg);
}

/* The reply names targets and lost targets: reading the table. A user who may only write
 * its keys (%W~) may not publish; one who may read and write may. */
static void test_publish_needs_read_access_to_the_table(void **state) {
    (void)state;
    itExpectInt(itCmd(sc, "SWARM.ROUTE ADD acl:t a.* stream:acl:t:s"), 1);
    itExpectOk(itCmd(sc, "ACL SETUSER wo on nopass %%W~acl:* +@all"));
    itExpectOk(itCmd(sc, "ACL SETUSER rw on nopass ~acl:* +@all"));
    redisContext *u = itConnect(&solo);
    itExpectOk(itCmd(u, "AUTH wo x"));
    itExpectError(itPublish(u, "acl:t", "a.x", "{}", NULL), "NOPERM", NULL);
    itExpectOk(itCmd(u, "AUTH rw x"));
    expectPub(itPublish(u, "acl:t", "a.x", "{}", NULL), "[\"stream:acl:t:s\"],:0,[]", NULL);
    redisFree(u);
    redisReply *r = itCmd(sc, "COMMAND INFO swarm.publish");
    char *info = itReplyRepr(r);
    freeReplyObject(r);
    assert_non_null(strstr(info, "\"RW\",\"access\",\"update\""));
    free(info);
    itExpectInt(itCmd(sc, "ACL DELUSER wo rw"), 2);
}

/* ============================== pair: master + replica ============================== */

static itServer master, replica;
static redisContext *mc, *rc;

static int pairSetup(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServerSetup(&master, &mc, NULL, mextra);
    itStartReplica(&replica, &rc, &master, NULL);
    if (!itWaitInfo(mc, "replication", "connected_slaves", "1", 10000))
        fail_msg("the master does not see its replica");
    return 0;
}

static int pairTeardown(void **state) {
    (void)state;
    itServerTeardown(&replica, &rc);
    return itServerTeardown(&master, &mc);
}

static void test_replica_subscriber_gets_every_envelope_exactly_once(void **state) {
    (void)state;
    enum { N = 150 };
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD eo ev.* channel:eo:ch"), 1);
    itWaitReplicas(mc, 1, 10000);
    redisContext *sub = itSubscribe(&replica, "SUBSCRIBE", "eo:ch", 5000);
    static char ids[N][64];
    for (int i = 0; i < N; i++) {
        char payload[32];
        snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
        /* No subscriber on the master, yet the channel counts as delivered: its replica
         * publishes the envelope too. */
        expectPub(itPublish(mc, "eo", "ev.x", payload, NULL), "[\"channel:eo:ch\"],:0,[]", ids[i]);
    }
    /* PUBLISH is replicated after the last SWARM.APPLY: everything before it arrived. */
    itExpectInt(itCmd(mc, "PUBLISH eo:ch sentinel"), 0);
    for (int i = 0; i < N; i++) {
        char *env = itNextMessage(sub, "eo:ch", NULL);
        char head[96];
        snprintf(head, sizeof(head), "{\"id\":\"%s\",", ids[i]);
        if (strncmp(env, head, strlen(head)) != 0)
            fail_msg("message %d: %.80s, expected id %s", i, env, ids[i]);
        free(env);
    }
    char *last = itNextMessage(sub, "eo:ch", NULL);
    assert_string_equal(last, "sentinel");
    free(last);
    redisFree(sub);
    char state_[32];
    routeField(mc, "eo", 1, "breaker", state_, sizeof(state_));
    assert_string_equal(state_, "closed");
    assert_int_equal(routeField(mc, "eo", 1, "delivered", NULL, 0), N);
    assert_int_equal(routeField(mc, "eo", 1, "missed", NULL, 0), 0);
    assert_int_equal(routeField(mc, "eo", 1, "shed", NULL, 0), 0);
    itWaitReplicas(mc, 1, 10000);
    expectSameDigest(mc, rc, "eo");
}

static void test_blocked_readers_wake_on_master_and_replica(void **state) {
    (void)state;
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD bw a.* stream:bw:s"), 1);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD bw a.* stream:bw:r"), 2);
    itExpectOk(itCmd(mc, "XGROUP CREATE bw:s g $ MKSTREAM"));
    itWaitReplicas(mc, 1, 10000);
    redisContext *a = itConnectTimeout(&master, 15000), *b = itConnectTimeout(&master, 15000),
                 *ra = itConnectTimeout(&replica, 15000), *rn = itConnectTimeout(&replica, 15000);
    sendOnly(a, "XREAD BLOCK 10000 STREAMS bw:s $");
    sendOnly(b, "XREADGROUP GROUP g c1 BLOCK 10000 STREAMS bw:s >");
    sendOnly(ra, "XREAD BLOCK 10000 STREAMS bw:s $");
    sendOnly(rn, "XREAD BLOCK 10000 STREAMS bw:r $"); /* does not exist yet */
    waitBlocked(mc, "2");
    waitBlocked(rc, "2");
    char id[64];
    expectPub(itPublish(mc, "bw", "a.x", "{}", "SENDER", "s1", NULL),
              "[\"stream:bw:s\",\"stream:bw:r\"],:0,[]", id);
    redisContext *all[] = {a, b, ra, rn};
    const char *keys[] = {"bw:s", "bw:s", "bw:s", "bw:r"};
    for (int i = 0; i < 4; i++) {
        redisReply *r = readReply(all[i]);
        assert_string_equal(xreadField(r, keys[i], "id"), id);
        assert_string_equal(xreadField(r, keys[i], "sender"), "s1");
        freeReplyObject(r);
        redisFree(all[i]);
    }
    /* XREADGROUP on a replica that accepts writes from its clients (its group is local). */
    itExpectOk(itCmd(rc, "CONFIG SET replica-read-only no"));
    itExpectOk(itCmd(rc, "XGROUP CREATE bw:r g $"));
    redisContext *rg = itConnectTimeout(&replica, 15000);
    sendOnly(rg, "XREADGROUP GROUP g c1 BLOCK 10000 STREAMS bw:r >");
    waitBlocked(rc, "1");
    expectPub(itPublish(mc, "bw", "a.y", "[]", NULL), "[\"stream:bw:s\",\"stream:bw:r\"],:0,[]",
              id);
    redisReply *r = readReply(rg);
    assert_string_equal(xreadField(r, "bw:r", "id"), id);
    assert_string_equal(xreadField(r, "bw:r", "type"), "a.y");
    freeReplyObject(r);
    redisFree(rg);
    itExpectOk(itCmd(rc, "CONFIG SET replica-read-only yes"));
    itWaitReplicas(mc, 1, 10000);
    expectSameDigest(mc, rc, "bw:s");
}

static void test_trimming_holds_stream_maxlen_on_master_and_replica(void **state) {
    (void)state;
    itExpectOk(itCmd(mc, "CONFIG SET stream-node-max-entries 4"));
    itExpectOk(itCmd(rc, "CONFIG SET stream-node-max-entries 4"));
    itExpectOk(itCmd(mc, "CONFIG SET swarm.stream-maxlen 10"));
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD tr a.* stream:tr:s"), 1);
    for (int i = 0; i < 100; i++)
        expectPub(itPublish(mc, "tr", "a.x", "{}", NULL), "[\"stream:tr:s\"],:0,[]", NULL);
    long long len = itInteger(itCmd(mc, "XLEN tr:s"));
    assert_true(len >= 10 && len < 14);
    itWaitReplicas(mc, 1, 10000);
    itExpectInt(itCmd(rc, "XLEN tr:s"), len);
    expectSameReply(mc, rc, "XRANGE %s - +", "tr:s");
    expectSameDigest(mc, rc, "tr:s");
    expectSameDigest(mc, rc, "tr");
    itExpectOk(itCmd(mc, "CONFIG SET swarm.stream-maxlen 100000"));
    itExpectOk(itCmd(mc, "CONFIG SET stream-node-max-entries 100"));
    itExpectOk(itCmd(rc, "CONFIG SET stream-node-max-entries 100"));
}

static void test_replica_identical_after_mixed_workload(void **state) {
    (void)state;
    itExpectOk(itCmd(mc, "CONFIG SET swarm.breaker-threshold 2"));
    itExpectOk(itCmd(mc, "SET mx:str x"));
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD mx a.* channel:mx:ch"), 1);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD mx a.* stream:mx:s"), 2);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD mx b.* stream:mx:str"), 3);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD mx c.> channel:mx:ch2 PRIORITY 5 9"), 4);
    itExpectInt(itCmd(mc, "SWARM.ROUTE DENY mx ^a\\.denied$"), 5);
    itExpectOk(itCmd(mc, "SWARM.ROUTE DEFAULT mx stream:mx:dl"));
    itWaitReplicas(mc, 1, 10000);
    redisContext *sub = itSubscribe(&replica, "SUBSCRIBE", "mx:ch", 5000);
    int sawFailed = 0, sawShed = 0, channelMsgs = 0;
    const char *types[] = {"a.x", "b.y", "c.z.w", "d.q", "a.denied", "a..bad"};
    for (int i = 0; i < 60; i++) {
        const char *t = types[i % 6];
        char pri[4], payload[48];
        snprintf(pri, sizeof(pri), "%d", 1 + i % 9);
        snprintf(payload, sizeof(payload), "{\"i\":%d,\"s\":\"\\u00e9\"}", i);
        redisReply *r = i % 4 == 0
                            ? itPublish(mc, "mx", t, payload, "PRIORITY", pri, "SENDER", "w", NULL)
                            : itPublish(mc, "mx", t, payload, "PRIORITY", pri, NULL);
        if (r->type == REDIS_REPLY_ARRAY) {
            char *lost = itReplyRepr(r->element[3]);
            sawFailed |= strstr(lost, "\"failed\"") != NULL;
            sawShed |= strstr(lost, "\"shed\"") != NULL;
            free(lost);
            if (strcmp(t, "a.x") == 0) channelMsgs++;
        }
        freeReplyObject(r);
    }
    assert_true(sawFailed);
    assert_true(sawShed);
    for (int i = 0; i < channelMsgs; i++) free(itNextMessage(sub, "mx:ch", NULL));
    redisFree(sub);
    itWaitReplicas(mc, 1, 10000);
    const char *keys[] = {"mx", "mx:s", "mx:dl", "mx:str"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) expectSameDigest(mc, rc, keys[i]);
    expectSameReply(mc, rc, "SWARM.ROUTE LIST %s", "mx");
    expectSameReply(mc, rc, "SWARM.ROUTE STATS %s", "mx");
    expectSameReply(mc, rc, "SWARM.ROUTE RULES %s", "mx");
    expectSameReply(mc, rc, "XRANGE %s - +", "mx:dl");
    itExpectOk(itCmd(mc, "CONFIG SET swarm.breaker-threshold 5"));
}

static void test_multi_exec_and_lua_replicate_once(void **state) {
    (void)state;
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD ml a.* channel:ml:ch"), 1);
    itExpectInt(itCmd(mc, "SWARM.ROUTE ADD ml a.* stream:ml:s"), 2);
    itWaitReplicas(mc, 1, 10000);
    redisContext *sub = itSubscribe(&replica, "SUBSCRIBE", "ml:ch", 5000);
    itExpectOk(itCmd(mc, "MULTI"));
    itExpectStr(itCmd(mc, "SWARM.PUBLISH ml a.m {\"n\":1}"), "QUEUED");
    itExpectStr(itCmd(mc, "SWARM.PUBLISH ml a..bad {}"), "QUEUED");
    itExpectStr(itCmd(mc, "SWARM.PUBLISH ml a.m {\"n\":2}"), "QUEUED");
    redisReply *r = itCmd(mc, "EXEC");
    assert_int_equal(r->elements, 3);
    assert_int_equal(r->element[0]->elements, 5);
    assert_int_equal(r->element[1]->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = itCmd(mc, "EVAL %s 1 ml a.l {\"n\":3}",
              "local a = redis.call('SWARM.PUBLISH', KEYS[1], ARGV[1], ARGV[2]) "
              "redis.call('SWARM.PUBLISH', KEYS[1], ARGV[1], '{\"n\":4}') return a");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    freeReplyObject(r);
    itExpectInt(itCmd(mc, "PUBLISH ml:ch sentinel"), 0);
    for (int i = 1; i <= 4; i++) {
        char *env = itNextMessage(sub, "ml:ch", NULL);
        char want[16];
        snprintf(want, sizeof(want), "{\"n\":%d}}", i);
        assert_string_equal(env + strlen(env) - strlen(want), want);
        free(env);
    }
    char *last = itNextMessage(sub, "ml:ch", NULL);
    assert_string_equal(last, "sentinel");
    free(last);
    redisFree(sub);
    itWaitReplicas(mc, 1, 10000);
    expectSameDigest(mc, rc, "ml");
    expectSameDigest(mc, rc, "ml:s");
    itExpectInt(itCmd(rc, "XLEN ml:s"), 4);
}

static void test_internal_commands_refused_on_a_replica(void **state) {
    (void)state;
    itExpectError(itCmd(rc, "SWARM.APPLY eo ROUTE x"), "READONLY", NULL);
    itExpectOk(itCmd(rc, "CONFIG SET replica-read-only no"));
    itExpectError(itCmd(rc, "SWARM.APPLY eo ROUTE x"), "ERR", "only the master link");
    itExpectError(itCmd(rc, "SWARM.RESTORE eo swarm-rtb x REPLACE"), "ERR", "only the master link");
    itExpectOk(itCmd(rc, "CONFIG SET replica-read-only yes"));
    /* And on the master: the replica's link still applies everything. */
    itExpectError(itCmd(mc, "SWARM.APPLY eo ROUTE x"), "ERR", "only the master link");
    expectPub(itPublish(mc, "eo", "ev.y", "{}", NULL), "[\"channel:eo:ch\"],:0,[]", NULL);
    itWaitReplicas(mc, 1, 10000);
    expectSameDigest(mc, rc, "eo");
}

/* Last in the group: the replica goes away. */
static void test_without_replicas_a_channel_without_subscribers_misses(void **state) {
    (void)state;
    itExpectOk(itCmd(rc, "REPLICAOF NO ONE"));
    if (!itWaitInfo(mc, "replication", "connected_slaves", "0", 10000))
        fail_msg("the master still sees its replica");
    expectPub(itPublish(mc, "eo", "ev.z", "{}", NULL), "[],:0,[[\"channel:eo:ch\",\"missed\"]]",
              NULL);
    assert_int_equal(routeField(mc, "eo", 1, "missed", NULL, 0), 1);
}

/* ============================== aof ============================== */

static itServer aof;
static redisContext *ac;

static int aofSetup(void **state) {
    (void)state;
    const char *extra[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    itStart(&aof, NULL, extra);
    ac = itConnect(&aof);
    return 0;
}

static int aofTeardown(void **state) {
    (void)state;
    redisFree(ac);
    itDestroy(&aof);
    return 0;
}

/* Everything in the AOF directory's files with this suffix, concatenated (malloc'ed). */
static char *readAof(const char *suffix, size_t *len) {
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cat %s/appendonlydir/*%s", aof.dir, suffix);
    FILE *f = popen(cmd, "r");
    if (f == NULL) fail_msg("popen");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    pclose(f);
    *len = n;
    return buf;
}

static size_t countIn(const char *buf, size_t len, const char *needle) {
    size_t n = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(buf + i, needle, nl) == 0) n++;
    return n;
}

static const char *aofKeys[] = {"af", "af:s", "af:dl"};
#define AOF_KEYS (sizeof(aofKeys) / sizeof(aofKeys[0]))

static void aofDigests(char *out[AOF_KEYS]) {
    for (size_t i = 0; i < AOF_KEYS; i++) out[i] = itDigest(ac, aofKeys[i]);
}

static void expectDigests(char *before[AOF_KEYS], const char *what) {
    for (size_t i = 0; i < AOF_KEYS; i++) {
        char *d = itDigest(ac, aofKeys[i]);
        if (strcmp(d, before[i]) != 0) fail_msg("%s: digest of %s changed", what, aofKeys[i]);
        free(d);
    }
}

static void freeDigests(char *d[AOF_KEYS]) {
    for (size_t i = 0; i < AOF_KEYS; i++) free(d[i]);
}

static void test_aof_holds_one_apply_per_publish_and_reloads_identically(void **state) {
    (void)state;
    itExpectOk(itCmd(ac, "SET af:str x"));
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD af a.* channel:af:ch"), 1);
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD af a.* stream:af:s"), 2);
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD af b.* stream:af:str"), 3);
    itExpectOk(itCmd(ac, "SWARM.ROUTE DEFAULT af stream:af:dl"));
    size_t len0;
    free(readAof(".incr.aof", &len0));
    for (int i = 0; i < 30; i++) {
        const char *t = i % 3 == 0 ? "a.x" : i % 3 == 1 ? "b.y" : "c.z";
        freeReplyObject(itPublish(ac, "af", t, "{\"v\":[true,null]}", "SENDER", "aof", NULL));
    }
    size_t len;
    char *incr = readAof(".incr.aof", &len);
    /* One SWARM.APPLY per publish, nothing else: no XADD, no transaction wrapper. */
    assert_int_equal(countIn(incr + len0, len - len0, "SWARM.APPLY"), 30);
    assert_int_equal(countIn(incr + len0, len - len0, "XADD"), 0);
    assert_int_equal(countIn(incr + len0, len - len0, "MULTI"), 0);
    free(incr);
    char *before[AOF_KEYS];
    aofDigests(before);
    itRestart(&aof);
    redisFree(ac);
    ac = itConnect(&aof);
    expectDigests(before, "AOF reload");
    freeDigests(before);

    /* The id clock and the streams go on after the reload. */
    char id1[64], id2[64];
    /* Priority 9: the channel's breaker opened long ago (no subscriber), 9 still tries it. */
    expectPub(itPublish(ac, "af", "a.x", "{}", "PRIORITY", "9", NULL),
              "[\"stream:af:s\"],:0,[[\"channel:af:ch\",\"missed\"]]", id1);
    itAofRewrite(ac, 20000);
    expectPub(itPublish(ac, "af", "a.x", "{}", "PRIORITY", "9", NULL),
              "[\"stream:af:s\"],:0,[[\"channel:af:ch\",\"missed\"]]", id2);
    assert_true(strcmp(id1, id2) != 0);
    aofDigests(before);
    itRestart(&aof);
    redisFree(ac);
    ac = itConnect(&aof);
    expectDigests(before, "AOF rewrite and reload");
    freeDigests(before);
    itExpectInt(itCmd(ac, "XLEN af:s"), 12);
}

/* The attack of the hardening issue: a delta copied from the AOF, sent by a client. */
static void test_apply_copied_from_the_aof_is_refused(void **state) {
    (void)state;
    size_t len;
    char *incr = readAof(".incr.aof", &len);
    char *p = NULL;
    for (size_t i = 0; i + 11 <= len && p == NULL; i++)
        if (memcmp(incr + i, "SWARM.APPLY", 11) == 0) p = incr + i;
    if (p == NULL) fail_msg("no SWARM.APPLY in the AOF");
    /* Back to the array header, then read the bulk strings. */
    while (p > incr && *p != '*') p--;
    int argc = atoi(p + 1);
    const char *argv[16];
    size_t lens[16];
    p = strchr(p, '\n') + 1;
    for (int i = 0; i < argc && i < 16; i++) {
        lens[i] = strtoul(p + 1, NULL, 10);
        p = strchr(p, '\n') + 1;
        argv[i] = p;
        p += lens[i] + 2;
    }
    long long published = itStatField(ac, "af", "published");
    redisReply *r = itCmdArgv(ac, argc, argv, lens);
    itExpectError(r, "ERR", "only the master link and AOF loading may run it");
    assert_int_equal(itStatField(ac, "af", "published"), published);
    free(incr);
}

/* ============================== cluster ============================== */

#define NODES 3

static itServer node[NODES + 1]; /* node[NODES] is a replica of node[0] */
static redisContext *nc[NODES + 1];
static char tag0[16];

/* CLUSTER REPLICATE ((const char **)arg)[0] on the extra node; 1 when it is accepted. */
static int replicates(void *arg) {
    redisReply *r = itCmd(nc[NODES], "CLUSTER REPLICATE %s", ((const char **)arg)[0]);
    int ok = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok;
}

static int clusterSetup(void **state) {
    (void)state;
    itStartCluster(node, nc, NODES + 1, NODES); /* node[NODES] joins as a replica */
    char id0[64];
    itText(itCmd(nc[0], "CLUSTER MYID"), id0, sizeof(id0));
    itExpectOk(itCmd(nc[NODES], "CLUSTER MEET 127.0.0.1 %d", node[0].port));
    /* Refused until the new node has learnt node 0 through the cluster bus. */
    const char *replicateOf[] = {id0};
    if (!itPoll(replicates, (void *)replicateOf, 20000))
        fail_msg("CLUSTER REPLICATE never succeeded");
    itWaitLinkUp(nc[NODES], 20000);
    for (int i = 0; i <= NODES; i++) itWaitClusterOk(nc[i], 20000);
    /* A hash tag whose slot node 0 owns. */
    for (int t = 0; t < 1000 && !tag0[0]; t++) {
        char key[32];
        snprintf(key, sizeof(key), "{t%d}", t);
        redisReply *r = itCmd(nc[0], "SWARM.ROUTE LIST %s", key);
        if (r->type == REDIS_REPLY_ARRAY) snprintf(tag0, sizeof(tag0), "t%d", t);
        freeReplyObject(r);
    }
    if (!tag0[0]) fail_msg("no hash tag for node 0");
    return 0;
}

static int clusterTeardown(void **state) {
    (void)state;
    itStopCluster(node, nc, NODES + 1);
    return 0;
}

static void test_cluster_stream_and_shard_channel_with_a_replica(void **state) {
    (void)state;
    redisContext *m = nc[0], *r = nc[NODES];
    char chan[64], target[80], starget[80], key[32], skey[48];
    snprintf(key, sizeof(key), "swarm:{%s}", tag0);
    snprintf(chan, sizeof(chan), "swarm:{%s}:ev", tag0);
    snprintf(skey, sizeof(skey), "swarm:{%s}:s", tag0);
    snprintf(target, sizeof(target), "channel:%s", chan);
    snprintf(starget, sizeof(starget), "stream:%s", skey);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD %s a.* %s", key, target), 1);
    itExpectInt(itCmd(m, "SWARM.ROUTE ADD %s a.* %s", key, starget), 2);
    itWaitReplicas(m, 1, 10000);
    /* Shard subscribers on the master and on its replica: each envelope once on each. */
    redisContext *subM = itSubscribe(&node[0], "SSUBSCRIBE", chan, 5000);
    redisContext *subR = itSubscribe(&node[NODES], "SSUBSCRIBE", chan, 5000);
    enum { N = 20 };
    char ids[N][64], want[256];
    snprintf(want, sizeof(want), "[\"%s\",\"%s\"],:1,[]", target, starget);
    for (int i = 0; i < N; i++) expectPub(itPublish(m, key, "a.x", "{}", NULL), want, ids[i]);
    itExpectInt(itCmd(m, "SPUBLISH %s sentinel", chan), 1);
    redisContext *subs[] = {subM, subR};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < N; i++) {
            char *env = itNextMessage(subs[s], chan, NULL);
            char head[96];
            snprintf(head, sizeof(head), "{\"id\":\"%s\",", ids[i]);
            if (strncmp(env, head, strlen(head)) != 0)
                fail_msg("subscriber %d message %d: %.80s", s, i, env);
            free(env);
        }
        char *last = itNextMessage(subs[s], chan, NULL);
        assert_string_equal(last, "sentinel");
        free(last);
        redisFree(subs[s]);
    }
    /* Without a local subscriber the master still has a replica that publishes too. */
    snprintf(want, sizeof(want), "[\"%s\",\"%s\"],:0,[]", target, starget);
    expectPub(itPublish(m, key, "a.x", "{}", NULL), want, NULL);
    itWaitReplicas(m, 1, 10000);
    expectSameDigest(m, r, key);
    expectSameDigest(m, r, skey);
    itExpectInt(itCmd(m, "XLEN %s", skey), N + 1);
    /* Blocked reader on the master wakes. */
    redisContext *b = itConnectTimeout(&node[0], 15000);
    sendOnly(b, "XREAD BLOCK 10000 STREAMS %s $", skey);
    waitBlocked(m, "1");
    char id[64];
    expectPub(itPublish(m, key, "a.x", "{}", NULL), want, id);
    redisReply *x = readReply(b);
    assert_string_equal(xreadField(x, skey, "id"), id);
    freeReplyObject(x);
    redisFree(b);
}

/* Regression: a master restarted from its RDB restores its replication id and backlog, and
 * its replica resumes with PSYNC. Publishes made between the restart and the replica's
 * return must reach the backlog as effects; the module once judged at load that nothing could
 * receive them (no backlog yet while loading) and let SWARM.PUBLISH propagate verbatim, so
 * the replica re-ran it with its own clock and diverged. */
static void test_replica_resuming_after_master_restart_gets_the_effects(void **state) {
    (void)state;
    const char *mextra[] = {"--repl-diskless-sync-delay", "0", NULL};
    itServer m, r;
    redisContext *pm, *pr;
    itStartPair(&m, &pm, mextra, &r, &pr);
    itAttachReplica(pr, &m, 10000);
    itExpectInt(itCmd(pm, "SWARM.ROUTE ADD rs a.> stream:rs:s"), 1);
    freeReplyObject(itPublish(pm, "rs", "a.b", "{\"n\":0}", NULL));
    itWaitReplicas(pm, 1, 10000);
    /* SHUTDOWN SAVE stores the replication id and offset the replica last acknowledged. */
    redisReply *bye = redisCommand(pm, "SHUTDOWN SAVE");
    if (bye) freeReplyObject(bye);
    redisFree(pm);
    itRestart(&m);
    pm = itConnectTimeout(&m, 10000);
    char buf[32];
    assert_string_equal(itInfo(pm, "replication", "repl_backlog_active", buf, sizeof(buf)), "1");
    for (int i = 1; i <= 3; i++) {
        char payload[16];
        snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
        redisReply *x = itPublish(pm, "rs", "a.b", payload, NULL);
        assert_int_equal(x->type, REDIS_REPLY_ARRAY);
        freeReplyObject(x);
    }
    itWaitReplicas(pm, 1, 10000);
    redisReply *x = itCmd(pm, "INFO stats");
    if (strstr(x->str, "sync_partial_ok:1") == NULL)
        fail_msg("the replica did not resume with PSYNC:\n%s", x->str);
    freeReplyObject(x);
    expectSameDigest(pm, pr, "rs");
    expectSameDigest(pm, pr, "rs:s");
    redisFree(pm), redisFree(pr);
    itDestroy(&r);
    itDestroy(&m);
}

int main(void) {
    const struct CMUnitTest soloTests[] = {
        cmocka_unit_test(test_lost_lists_missed_failed_and_shed_targets),
        cmocka_unit_test(test_publish_counts_as_a_change_for_save_points),
        cmocka_unit_test(test_reply_shape_is_the_same_in_resp3),
        cmocka_unit_test(test_missing_table_answers_noswarm_and_counts_rejected),
        cmocka_unit_test(test_stream_entry_fields_match_the_envelope),
        cmocka_unit_test(test_keyspace_events_and_trimming_as_xadd),
        cmocka_unit_test(test_blocked_readers_wake_on_a_new_and_an_existing_stream),
        cmocka_unit_test(test_internal_commands_refused_from_clients),
        cmocka_unit_test(test_publish_needs_read_access_to_the_table),
        cmocka_unit_test(test_replica_resuming_after_master_restart_gets_the_effects),
    };
    const struct CMUnitTest pairTests[] = {
        cmocka_unit_test(test_replica_subscriber_gets_every_envelope_exactly_once),
        cmocka_unit_test(test_blocked_readers_wake_on_master_and_replica),
        cmocka_unit_test(test_trimming_holds_stream_maxlen_on_master_and_replica),
        cmocka_unit_test(test_replica_identical_after_mixed_workload),
        cmocka_unit_test(test_multi_exec_and_lua_replicate_once),
        cmocka_unit_test(test_internal_commands_refused_on_a_replica),
        cmocka_unit_test(test_without_replicas_a_channel_without_subscribers_misses),
    };
    const struct CMUnitTest aofTests[] = {
        cmocka_unit_test(test_aof_holds_one_apply_per_publish_and_reloads_identically),
        cmocka_unit_test(test_apply_copied_from_the_aof_is_refused),
    };
    const struct CMUnitTest clusterTests[] = {
        cmocka_unit_test(test_cluster_stream_and_shard_channel_with_a_replica),
    };
    itFixture(&solo, &sc, NULL, NULL);
    int failed = cmocka_run_group_tests_name("solo", soloTests, itFixtureSetup, itFixtureTeardown);
    failed += cmocka_run_group_tests_name("pair", pairTests, pairSetup, pairTeardown);
    failed += cmocka_run_group_tests_name("aof", aofTests, aofSetup, aofTeardown);
    failed += cmocka_run_group_tests_name("cluster", clusterTests, clusterSetup, clusterTeardown);
    return failed;
}
