/* test_publish.c -- SWARM.PUBLISH against a real redis-server:
 * the envelope byte for byte, the reply, ids, stream entries, every error with its code
 * word, atomicity of rejections, dead letters, the breaker, MULTI/EVAL, INFO counters and
 * the id clock across restarts and AOF rewrites.
 *
 * Most tests share one server and use their own keys; tests that change a config put it
 * back before they return. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static itServer srv;
static redisContext *c;

/* The file's server opens the internal commands to clients (a load-time-only config), so
 * that SWARM.APPLY's own input checks can be tested directly. */
static const char *const internalOpen[] = {"debug-internal-commands", "yes", NULL};

/* ---- Helpers ---- */

typedef struct MsgId {
    unsigned long long ms, seq;
} MsgId;

/* Parses "<ms>-<seq>" (digits only on both sides) or fails the test. */
static MsgId parseId(const char *s) {
    MsgId id = {0, 0};
    size_t a = strspn(s, "0123456789");
    if (a == 0 || s[a] != '-') fail_msg("bad message id '%s'", s);
    size_t b = strspn(s + a + 1, "0123456789");
    if (b == 0 || s[a + 1 + b] != '\0') fail_msg("bad message id '%s'", s);
    id.ms = strtoull(s, NULL, 10);
    id.seq = strtoull(s + a + 1, NULL, 10);
    return id;
}

static int idLess(MsgId x, MsgId y) {
    return x.ms < y.ms || (x.ms == y.ms && x.seq < y.seq);
}

#define pub(...) itPublish(c, __VA_ARGS__)

/* Checks a publish reply [id, [targets...], receivers, lost]: targets is a comma-separated
 * list ("" for none); lost is an array (test_publish_effect.c checks its contents). Copies the id
 * into idbuf (64 bytes) and frees the reply. */
static void expectPubReply(redisReply *r, const char *targets, long long receivers, char *idbuf) {
    if (r->type == REDIS_REPLY_ERROR) fail_msg("publish failed: %s", r->str);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    assert_int_equal(r->element[3]->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[4]->integer, 0); /* not a duplicate */
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    parseId(r->element[0]->str);
    if (idbuf) snprintf(idbuf, 64, "%s", r->element[0]->str);
    redisReply *t = r->element[1];
    assert_int_equal(t->type, REDIS_REPLY_ARRAY);
    char got[1024] = "";
    for (size_t i = 0; i < t->elements; i++) {
        assert_int_equal(t->element[i]->type, REDIS_REPLY_STRING);
        if (i) strcat(got, ",");
        strncat(got, t->element[i]->str, sizeof(got) - strlen(got) - 2);
    }
    if (strcmp(got, targets) != 0) fail_msg("expected targets [%s], got [%s]", targets, got);
    assert_int_equal(r->element[2]->type, REDIS_REPLY_INTEGER);
    if (r->element[2]->integer != receivers)
        fail_msg("expected %lld receivers, got %lld", receivers, r->element[2]->integer);
    freeReplyObject(r);
}

/* The route with this id in SWARM.ROUTE LIST key (the whole reply; free it), and the
 * element inside it. */
static redisReply *routeEntry(const char *key, long long id, redisReply **list) {
    *list = itCmd(c, "SWARM.ROUTE LIST %s", key);
    assert_int_equal((*list)->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < (*list)->elements; i++) {
        redisReply *f = itField((*list)->element[i], "id");
        if (f && f->type == REDIS_REPLY_INTEGER && f->integer == id) return (*list)->element[i];
    }
    fail_msg("route %lld not in LIST %s", id, key);
    return NULL;
}

static void setConfig(const char *name, const char *value) {
    itExpectOk(itCmd(c, "CONFIG SET %s %s", name, value));
}

/* The breaker state ROUTE LIST shows for route id of key, copied into buf. */
static const char *breakerOf(const char *key, long long id, char *buf, size_t len) {
    redisReply *list, *e = routeEntry(key, id, &list);
    redisReply *f = itField(e, "breaker");
    if (f == NULL || f->str == NULL) fail_msg("no breaker field");
    snprintf(buf, len, "%s", f->str);
    freeReplyObject(list);
    return buf;
}

static void expectBreaker(const char *key, long long id, const char *state) {
    char got[32];
    if (strcmp(breakerOf(key, id, got, sizeof(got)), state) != 0)
        fail_msg("route %lld of %s: expected breaker %s, got %s", id, key, state, got);
}

static int route1HalfOpen(void *key) {
    char got[32];
    return strcmp(breakerOf(key, 1, got, sizeof(got)), "half-open") == 0;
}

/* The cooldown is read when a breaker is checked: tests hold a breaker open with a 30 s
 * cooldown, and let route 1's cool down by setting 1 ms and polling ROUTE LIST until it
 * shows half-open, so no check races the clock. Put 30 s back before expecting "open". */
static void coolDownRoute1(const char *key) {
    setConfig("swarm.breaker-cooldown-ms", "1");
    if (!itPoll(route1HalfOpen, (void *)key, 5000))
        fail_msg("%s: route 1's open breaker never showed half-open with a 1 ms cooldown", key);
}

/* Checks route counters matched delivered missed failed shed in one call. */
static void expectCounters(const char *key, long long id, long long matched, long long delivered,
                           long long missed, long long failed, long long shed) {
    const char *names[] = {"matched", "delivered", "missed", "failed", "shed"};
    long long want[] = {matched, delivered, missed, failed, shed};
    redisReply *list, *e = routeEntry(key, id, &list);
    for (int i = 0; i < 5; i++) {
        redisReply *f = itField(e, names[i]);
        if (f == NULL || f->type != REDIS_REPLY_INTEGER) fail_msg("no counter %s", names[i]);
        if (f->integer != want[i])
            fail_msg("route %lld of %s: expected %s %lld, got %lld", id, key, names[i], want[i],
                     f->integer);
    }
    freeReplyObject(list);
}

static const char *lastId(redisContext *ctx, const char *key, char *buf) {
    redisReply *r = itCmd(ctx, "SWARM.ROUTE STATS %s", key);
    redisReply *f = itField(r, "last-id");
    if (f == NULL || f->str == NULL) fail_msg("no STATS last-id");
    snprintf(buf, 64, "%s", f->str);
    freeReplyObject(r);
    return buf;
}

static void expectLen(const char *stream, long long n) {
    itExpectInt(itCmd(c, "XLEN %s", stream), n);
}

/* ---- Envelope ---- */

static void test_envelope_exact_bytes_escaping_and_verbatim_payload(void **state) {
    (void)state;
    const char *key = "sw\"a\\b";
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD %s task.* channel:env", key), 1);
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "env", 2000);

    /* Whitespace around and inside the JSON text, multi-byte UTF-8 and escapes: all
     * verbatim. */
    const char *payload = " { \"a\" : [1, 2.5e3, true, null],\n\t\"u\": "
                          "\"\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80 \\u00e9\\n\\\"\" }\r\n";
    char id[64], want[1024];
    expectPubReply(
        pub(key, "task.done", payload, "PRIORITY", "7", "SENDER", "agent \"7\"\\x", NULL),
        "channel:env", 1, id);
    MsgId mid = parseId(id);
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"swarm\":\"sw\\\"a\\\\b\",\"type\":\"task.done\",\"priority\":7,"
             "\"ts\":%llu,\"sender\":\"agent \\\"7\\\"\\\\x\",\"payload\":%s}",
             id, mid.ms, payload);
    size_t len;
    char *got = itNextMessage(sub, "env", &len);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
    free(got);

    /* No SENDER: the field is absent, not null; control bytes in the key are \u escapes. */
    const char *key2 = "k\tx\x1f\xc3\xa9";
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD %s task.* channel:env", key2), 1);
    expectPubReply(pub(key2, "task.done", "[]", NULL), "channel:env", 1, id);
    mid = parseId(id);
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"swarm\":\"k\\u0009x\\u001f\xc3\xa9\",\"type\":\"task.done\","
             "\"priority\":5,\"ts\":%llu,\"payload\":[]}",
             id, mid.ms);
    got = itNextMessage(sub, "env", NULL);
    assert_string_equal(got, want);
    free(got);
    redisFree(sub);
}

/* Every byte of an envelope must be valid UTF-8 (RFC 8259 section 8.1), so a subscriber's
 * JSON parser never chokes on what a publish accepted. */
static int validUtf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t k;
        if (b < 0x80) {
            k = 0;
        } else if (b >= 0xC2 && b < 0xE0) {
            k = 1;
        } else if (b >= 0xE0 && b < 0xF0) {
            k = 2;
        } else if (b >= 0xF0 && b < 0xF5) {
            k = 3;
        } else {
            return 0;
        }
        if (k && i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* Publishes on key (with no SENDER) and checks the envelope is valid UTF-8 (what names the
 * input under test in the failure message). */
static void expectUtf8Envelope(const char *key, const char *what, const char *channel) {
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD %s task.* channel:%s", key, channel), 1);
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", channel, 2000);
    char target[64];
    snprintf(target, sizeof(target), "channel:%s", channel);
    expectPubReply(pub(key, "task.done", "{}", NULL), target, 1, NULL);
    size_t len;
    char *got = itNextMessage(sub, channel, &len);
    if (!validUtf8((const unsigned char *)got, len))
        fail_msg("envelope is not valid UTF-8 (%s bytes copied raw): %s", what, got);
    free(got);
    redisFree(sub);
}

/* A SENDER that is not UTF-8 would make the envelope invalid: it is refused, naming the first
 * bad byte, and nothing is published (test_hardening covers every kind of bad sequence). */
static void test_envelope_never_carries_a_non_utf8_sender(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD utf1 task.* channel:utf1"), 1);
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "utf1", 2000);
    itExpectError(pub("utf1", "task.done", "{}", "SENDER", "bad\xff\xfe", NULL), "ERR",
                  "SENDER is not valid UTF-8 at byte 3");
    assert_int_equal(itStatField(c, "utf1", "published"), 0);
    /* The next publish is the first message the subscriber gets. */
    expectPubReply(pub("utf1", "task.done", "{\"n\":2}", NULL), "channel:utf1", 1, NULL);
    char *got = itNextMessage(sub, "utf1", NULL);
    if (strstr(got, "{\"n\":2}") == NULL)
        fail_msg("first message is not the second publish: %s", got);
    free(got);
    redisFree(sub);
}

static void test_envelope_stays_valid_utf8_for_non_utf8_key(void **state) {
    (void)state;
    expectUtf8Envelope("utf2\xc3\x28", "key", "utf2");
}

static void test_reply_lists_distinct_ok_targets_and_sums_receivers(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.* channel:ra"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.* channel:rb"), 2);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.> channel:ra"), 3);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.* stream:shape:s"), 4);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.* channel:ra PRIORITY 8 9"), 5);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD shape a.* channel:nobody"), 6);
    redisContext *s1 = itSubscribe(&srv, "SUBSCRIBE", "ra", 2000);
    redisReply *r = itCmd(s1, "SUBSCRIBE rb");
    freeReplyObject(r);
    redisContext *s2 = itSubscribe(&srv, "SUBSCRIBE", "ra", 2000);

    /* ra has two receivers, rb one, nobody none; ra is delivered to once. */
    expectPubReply(pub("shape", "a.b", "1", NULL), "channel:ra,channel:rb,stream:shape:s", 3, NULL);
    free(itNextMessage(s1, "ra", NULL));
    free(itNextMessage(s1, "rb", NULL));
    free(itNextMessage(s2, "ra", NULL));
    expectCounters("shape", 1, 1, 1, 0, 0, 0);
    expectCounters("shape", 3, 1, 1, 0, 0, 0);
    expectCounters("shape", 5, 0, 0, 0, 0, 0); /* priority 5 is outside 8..9 */
    expectCounters("shape", 6, 1, 0, 1, 0, 0);
    expectLen("shape:s", 1);
    assert_int_equal(itStatField(c, "shape", "published"), 1);
    assert_int_equal(itStatField(c, "shape", "delivered"), 3);

    /* A missing key is not a table: NOSWARM, and no key appears. */
    itExpectError(pub("shape:missing", "a.b", "{}", NULL), "NOSWARM",
                  "no routing table at key 'shape:missing'");
    itExpectInt(itCmd(c, "EXISTS shape:missing"), 0);
    redisFree(s1);
    redisFree(s2);
}

/* ---- Ids and stream entries ---- */

static void test_ids_strictly_increase_within_one_millisecond(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD ids x.* stream:ids:s"), 1);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) redisAppendCommand(c, "SWARM.PUBLISH ids x.y {}");
    MsgId prev = {0, 0};
    int sameMs = 0;
    char last[64] = "";
    for (int i = 0; i < N; i++) {
        void *v;
        assert_int_equal(redisGetReply(c, &v), REDIS_OK);
        redisReply *r = v;
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(last, sizeof(last), "%s", r->element[0]->str);
        MsgId id = parseId(last);
        if (i > 0) {
            if (!idLess(prev, id)) fail_msg("id %d (%s) is not above the one before", i, last);
            if (id.ms == prev.ms) {
                assert_int_equal(id.seq, prev.seq + 1);
                sameMs++;
            } else {
                assert_int_equal(id.seq, 0);
            }
        }
        prev = id;
        freeReplyObject(r);
    }
    assert_true(sameMs > 0); /* 1000 pipelined publishes share milliseconds */
    char buf[64];
    assert_string_equal(lastId(c, "ids", buf), last);
    expectLen("ids:s", N);
}

static void test_stream_entry_has_exact_fields(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD ent task.* stream:ent:s"), 1);
    char id1[64], id2[64];
    expectPubReply(pub("ent", "task.done", "{\"n\": 1}", NULL), "stream:ent:s", 0, id1);
    expectPubReply(pub("ent", "task.done", "[ 2 ]", "PRIORITY", "9", "SENDER", "me", NULL),
                   "stream:ent:s", 0, id2);
    redisReply *r = itCmd(c, "XRANGE ent:s - +");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    const char *ids[2] = {id1, id2};
    char ts[2][32];
    snprintf(ts[0], sizeof(ts[0]), "%llu", parseId(id1).ms);
    snprintf(ts[1], sizeof(ts[1]), "%llu", parseId(id2).ms);
    const char *want[2][14] = {{"id", id1, "swarm", "ent", "type", "task.done", "priority", "5",
                                "ts", ts[0], "payload", "{\"n\": 1}"},
                               {"id", id2, "swarm", "ent", "type", "task.done", "priority", "9",
                                "ts", ts[1], "payload", "[ 2 ]", "sender", "me"}};
    size_t nf[2] = {12, 14};
    MsgId prevStream = {0, 0};
    for (int e = 0; e < 2; e++) {
        redisReply *entry = r->element[e];
        assert_int_equal(entry->elements, 2);
        /* The stream assigns its own entry id (XADD *), close to the message's time. */
        MsgId sid = parseId(entry->element[0]->str);
        MsgId mid = parseId(ids[e]);
        assert_true(sid.ms + 1000 >= mid.ms && sid.ms <= mid.ms + 1000);
        if (e) assert_true(idLess(prevStream, sid));
        prevStream = sid;
        redisReply *f = entry->element[1];
        assert_int_equal(f->elements, nf[e]);
        for (size_t i = 0; i < nf[e]; i++) assert_string_equal(f->element[i]->str, want[e][i]);
    }
    freeReplyObject(r);
}

static void test_stream_is_trimmed_to_stream_maxlen_approximately(void **state) {
    (void)state;
    setConfig("swarm.stream-maxlen", "10");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD trim x.* stream:trim:s"), 1);
    for (int i = 0; i < 1000; i++) redisAppendCommand(c, "SWARM.PUBLISH trim x.y {}");
    for (int i = 0; i < 1000; i++) {
        void *v;
        assert_int_equal(redisGetReply(c, &v), REDIS_OK);
        assert_int_equal(((redisReply *)v)->type, REDIS_REPLY_ARRAY);
        freeReplyObject(v);
    }
    /* "~" trims whole macro nodes (stream-node-max-entries 100): at least 10 remain, and
     * far fewer than 1000. */
    long long n = itInteger(itCmd(c, "XLEN trim:s"));
    if (n < 10 || n > 110) fail_msg("XLEN is %lld, expected 10..110", n);
    setConfig("swarm.stream-maxlen", "100000");
}

/* ---- Errors ---- */

static void test_eventtype_errors(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD et > stream:et:s"), 1);
    itExpectError(pub("et", "task..done", "{}", NULL), "EVENTTYPE", NULL);
    redisReply *r = pub("et", "task..done", "{}", NULL);
    assert_string_equal(r->str, "EVENTTYPE event type has an empty token at byte 5");
    freeReplyObject(r);
    r = pub("et", "task.*", "{}", NULL);
    assert_string_equal(r->str, "EVENTTYPE event type may not contain wildcard '*' (byte 5)");
    freeReplyObject(r);
    r = pub("et", "", "{}", NULL);
    assert_string_equal(r->str, "EVENTTYPE event type is empty");
    freeReplyObject(r);
    r = pub("et", "ta sk", "{}", NULL);
    assert_string_equal(r->str, "EVENTTYPE event type has invalid byte 0x20 at byte 2; tokens "
                                "allow A-Z a-z 0-9 _ - :");
    freeReplyObject(r);
    itExpectError(pub("et", ".x", "{}", NULL), "EVENTTYPE", "empty token at byte 0");
    itExpectError(pub("et", "x.", "{}", NULL), "EVENTTYPE", "empty token at byte 2");
    char longType[258];
    memset(longType, 'a', 257);
    longType[257] = '\0';
    itExpectError(pub("et", longType, "{}", NULL), "EVENTTYPE",
                  "event type is longer than 256 bytes");
    longType[256] = '\0';
    expectPubReply(pub("et", longType, "{}", NULL), "stream:et:s", 0, NULL);
    expectLen("et:s", 1);
}

static void test_payload_errors_name_the_byte_offset(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD pl > stream:pl:s"), 1);
    struct {
        const char *payload, *error;
    } cases[] = {
        {"{\"a\":1 \"b\":2}", "PAYLOAD invalid JSON at byte 7: expected ',' or '}'"},
        {"", "PAYLOAD invalid JSON at byte 0: empty input"},
        {"   ", "PAYLOAD invalid JSON at byte 3: empty input"},
        {"{} x", "PAYLOAD invalid JSON at byte 3: unexpected data after the JSON text"},
        {"[1,", "PAYLOAD invalid JSON at byte 3: unexpected end of input"},
        {"{\"a\" 1}", "PAYLOAD invalid JSON at byte 5: expected ':'"},
        {"[01]", "PAYLOAD invalid JSON at byte 2: invalid number"},
        {"\"a\tb\"", "PAYLOAD invalid JSON at byte 2: control character in string"},
        {"[\"\xff\"]", "PAYLOAD invalid JSON at byte 2: invalid UTF-8 byte"},
        {"[\"\xc0\xaf\"]", "PAYLOAD invalid JSON at byte 2: invalid UTF-8 byte"},
        {"[\"\xed\xa0\x80\"]", "PAYLOAD invalid JSON at byte 3: invalid UTF-8 byte"},
        {"[\"\xe2\x98\"]", "PAYLOAD invalid JSON at byte 4: truncated UTF-8 sequence"},
        {"[\"\\ud800\"]", "PAYLOAD invalid JSON at byte 2: unpaired surrogate escape"},
        {"tru", "PAYLOAD invalid JSON at byte 3: unexpected end of input"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redisReply *r = pub("pl", "x.y", cases[i].payload, NULL);
        if (r->type != REDIS_REPLY_ERROR || strcmp(r->str, cases[i].error) != 0)
            fail_msg("case %zu: expected '%s', got type %d '%s'", i, cases[i].error, r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    expectLen("pl:s", 0);
}

static void test_payload_size_limit(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD big > stream:big:s"), 1);
    setConfig("swarm.max-payload-bytes", "100");
    char p[128];
    memset(p, ' ', sizeof(p));
    p[0] = '"';
    p[98] = '"';
    p[99] = ' ';
    p[100] = '\0'; /* exactly 100 bytes: allowed */
    expectPubReply(pub("big", "x.y", p, NULL), "stream:big:s", 0, NULL);
    p[100] = ' ';
    p[101] = '\0';
    redisReply *r = pub("big", "x.y", p, NULL);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str,
                        "PAYLOAD payload is 101 bytes, more than swarm.max-payload-bytes (100)");
    freeReplyObject(r);
    setConfig("swarm.max-payload-bytes", "1mb");
    r = itCmd(c, "CONFIG GET swarm.max-payload-bytes");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "1048576");
    freeReplyObject(r);
    expectPubReply(pub("big", "x.y", p, NULL), "stream:big:s", 0, NULL);

    /* The default limit, 1 MiB: a string filling it exactly is fine, one byte more is not. */
    size_t n = 1048576;
    char *huge = malloc(n + 2);
    memset(huge, 'a', n + 1);
    huge[0] = '"';
    huge[n - 1] = '"';
    huge[n] = '\0';
    expectPubReply(pub("big", "x.y", huge, NULL), "stream:big:s", 0, NULL);
    huge[n] = ' ';
    huge[n + 1] = '\0';
    itExpectError(pub("big", "x.y", huge, NULL), "PAYLOAD",
                  "payload is 1048577 bytes, more than swarm.max-payload-bytes (1048576)");
    free(huge);
    expectLen("big:s", 3);
}

static char *nested(int depth, char open, char close) {
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = open;
        s[depth * 2 - 1 - i] = close;
    }
    s[depth * 2] = '\0';
    return s;
}

static void test_payload_nesting_128_ok_129_rejected(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD deep > stream:deep:s"), 1);
    char *ok = nested(128, '[', ']');
    char *bad = nested(129, '[', ']');
    expectPubReply(pub("deep", "x.y", ok, NULL), "stream:deep:s", 0, NULL);
    redisReply *r = pub("deep", "x.y", bad, NULL);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str, "PAYLOAD invalid JSON at byte 128: nesting deeper than 128");
    freeReplyObject(r);
    /* Objects count the same as arrays. */
    char obj[2048] = "";
    for (int i = 0; i < 129; i++) strcat(obj, "{\"a\":");
    strcat(obj, "1");
    for (int i = 0; i < 129; i++) strcat(obj, "}");
    itExpectError(pub("deep", "x.y", obj, NULL), "PAYLOAD", "nesting deeper than 128");
    free(ok);
    free(bad);
    expectLen("deep:s", 1);
}

static void test_denied_names_the_rule_and_allow_rules_gate(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD rules > stream:rules:s"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE DENY rules secret\\..*"), 2);
    redisReply *r = pub("rules", "secret.plan", "{}", NULL);
    assert_int_equal(r->type, REDIS_REPLY_ERROR);
    assert_string_equal(r->str, "DENIED event type 'secret.plan' is denied by rule 2");
    freeReplyObject(r);

    itExpectInt(itCmd(c, "SWARM.ROUTE ALLOW rules (task|secret)\\..*"), 3);
    r = pub("rules", "other.x", "{}", NULL);
    assert_string_equal(r->str, "DENIED event type 'other.x' matches no ALLOW rule of the table");
    freeReplyObject(r);
    /* DENY wins over a matching ALLOW. */
    itExpectError(pub("rules", "secret.plan", "{}", NULL), "DENIED", "by rule 2");
    expectPubReply(pub("rules", "task.x", "{}", NULL), "stream:rules:s", 0, NULL);

    r = itCmd(c, "SWARM.ROUTE RULES rules");
    assert_int_equal(r->elements, 2);
    assert_int_equal(itField(r->element[0], "id")->integer, 2);
    assert_int_equal(itField(r->element[0], "hits")->integer, 2);
    assert_int_equal(itField(r->element[1], "id")->integer, 3);
    assert_int_equal(itField(r->element[1], "hits")->integer, 1);
    freeReplyObject(r);
    assert_int_equal(itStatField(c, "rules", "rejected"), 3);
    assert_int_equal(itStatField(c, "rules", "published"), 1);
    expectLen("rules:s", 1);
}

static void test_option_errors(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD opt > stream:opt:s"), 1);
    const char *range = "ERR PRIORITY must be between 1 and 9";
    const char *notint = "ERR value is not an integer or out of range";
    struct {
        const char *a[4];
        const char *error;
    } cases[] = {
        {{"PRIORITY", "0"}, range},
        {{"PRIORITY", "10"}, range},
        {{"PRIORITY", "-1"}, range},
        {{"PRIORITY", "x"}, notint},
        {{"PRIORITY", "5.5"}, notint},
        {{"PRIORITY", ""}, notint},
        {{"SENDER", ""}, "ERR SENDER must be 1 to 128 bytes"},
        {{"SENDER", "a\x01"
                    "b"},
         "ERR SENDER has a control character at byte 1"},
        {{"SENDER", "ab\n"}, "ERR SENDER has a control character at byte 2"},
        {{"SENDER", "\x7f"}, "ERR SENDER has a control character at byte 0"},
        {{"FOO", "1"}, "ERR syntax error"},
        {{"PRIORITY"}, "ERR syntax error"},
        {{"SENDER", "me", "PRIORITY"}, "ERR syntax error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redisReply *r =
            pub("opt", "x.y", "{}", cases[i].a[0], cases[i].a[1], cases[i].a[2], cases[i].a[3]);
        if (r->type != REDIS_REPLY_ERROR || strcmp(r->str, cases[i].error) != 0)
            fail_msg("case %zu: expected '%s', got type %d '%s'", i, cases[i].error, r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
    }
    char sender[130];
    memset(sender, 's', 129);
    sender[129] = '\0';
    redisReply *r = pub("opt", "x.y", "{}", "SENDER", sender, NULL);
    assert_string_equal(r->str, "ERR SENDER must be 1 to 128 bytes");
    freeReplyObject(r);
    sender[128] = '\0';
    expectPubReply(pub("opt", "x.y", "{}", "SENDER", sender, "priority", "1", NULL), "stream:opt:s",
                   0, NULL);
    itExpectError(itCmd(c, "SWARM.PUBLISH opt x.y"), "ERR", "wrong number of arguments");
    expectLen("opt:s", 1);
}

static void test_wrongtype_key(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "SET wt:str v"));
    itExpectError(pub("wt:str", "x.y", "{}", NULL), "WRONGTYPE",
                  "Operation against a key holding the wrong kind of value");
    itExpectStr(itCmd(c, "GET wt:str"), "v");
}

/* ---- Atomicity ---- */

static void test_rejection_changes_only_rejection_counters(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE DENY atom bad\\..*"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD atom > stream:atom:s"), 2);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD atom > channel:atom:c"), 3);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT atom stream:atom:dl"));
    expectPubReply(pub("atom", "ok.x", "{}", NULL), "stream:atom:s", 0, NULL);
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "atom:c", 300);

    char *list0 = itCmdRepr(c, "SWARM.ROUTE LIST %s", "atom");
    char *stats0 = itCmdRepr(c, "SWARM.ROUTE STATS %s", "atom");
    char *xr0 = itCmdRepr(c, "XRANGE %s - +", "atom:s");
    char id0[64];
    lastId(c, "atom", id0);
    long long rejected0 = itStatField(c, "atom", "rejected");
    long long published0 = itInfoNum(c, "swarm", "swarm_published");
    long long delivered0 = itInfoNum(c, "swarm", "swarm_delivered");

    itExpectError(pub("atom", "bad.x", "{}", NULL), "DENIED", "rule 1");
    itExpectError(pub("atom", "ok..x", "{}", NULL), "EVENTTYPE", NULL);
    itExpectError(pub("atom", "ok.x", "{", NULL), "PAYLOAD", NULL);
    itExpectError(pub("atom", "ok.x", "{}", "PRIORITY", "0", NULL), "ERR",
                  "PRIORITY must be between 1 and 9");
    itExpectError(pub("atom", "ok.x", "{}", "SENDER", "", NULL), "ERR",
                  "SENDER must be 1 to 128 bytes");
    itExpectError(pub("atom", "ok.x", "{}", "NOPE", "1", NULL), "ERR", "syntax error");
    /* Validation comes before admission: a denied type with a bad payload is PAYLOAD. */
    itExpectError(pub("atom", "bad.x", "nope", NULL), "PAYLOAD", NULL);

    char *list1 = itCmdRepr(c, "SWARM.ROUTE LIST %s", "atom");
    char *xr1 = itCmdRepr(c, "XRANGE %s - +", "atom:s");
    assert_string_equal(list1, list0);
    assert_string_equal(xr1, xr0);
    char id1[64];
    assert_string_equal(lastId(c, "atom", id1), id0);
    assert_int_equal(itStatField(c, "atom", "rejected"), rejected0 + 7);
    assert_int_equal(itStatField(c, "atom", "published"), 1);
    assert_int_equal(itStatField(c, "atom", "delivered"), 1);
    assert_int_equal(itStatField(c, "atom", "deadlettered"), 0);
    itExpectInt(itCmd(c, "EXISTS atom:dl"), 0);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_published"), published0);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_delivered"), delivered0);
    redisReply *r = itCmd(c, "SWARM.ROUTE RULES atom");
    assert_int_equal(itField(r->element[0], "hits")->integer, 1); /* only the DENIED one */
    freeReplyObject(r);
    /* STATS differs in exactly the rejected field. */
    char *stats1 = itCmdRepr(c, "SWARM.ROUTE STATS %s", "atom");
    char want[64], got[64];
    snprintf(want, sizeof(want), "\"rejected\",:%lld,", rejected0);
    snprintf(got, sizeof(got), "\"rejected\",:%lld,", rejected0 + 7);
    char *at = strstr(stats1, got);
    if (at == NULL) fail_msg("no %s in %s", got, stats1);
    char fixed[65536];
    snprintf(fixed, sizeof(fixed), "%.*s%s%s", (int)(at - stats1), stats1, want, at + strlen(got));
    assert_string_equal(fixed, stats0);

    /* Nothing reached the channel. */
    void *v = NULL;
    assert_int_equal(redisGetReply(sub, &v), REDIS_ERR);
    redisFree(sub);

    /* A rejected publish to a missing key creates nothing. */
    itExpectError(pub("atom:none", "bad..x", "{}", NULL), "EVENTTYPE", NULL);
    itExpectInt(itCmd(c, "EXISTS atom:none"), 0);
    free(list0);
    free(list1);
    free(stats0);
    free(stats1);
    free(xr0);
    free(xr1);
}

/* ---- Dead letters ---- */

static void test_unrouted_message_goes_to_default_target(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD dl1 a.* channel:dl1"), 1);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT dl1 stream:dl1:dead"));
    expectPubReply(pub("dl1", "b.x", "{\"x\":1}", NULL), "stream:dl1:dead", 0, NULL);
    expectLen("dl1:dead", 1);
    assert_int_equal(itStatField(c, "dl1", "unrouted"), 1);
    assert_int_equal(itStatField(c, "dl1", "deadlettered"), 1);
    assert_int_equal(itStatField(c, "dl1", "delivered"), 1);
    expectCounters("dl1", 1, 0, 0, 0, 0, 0);
    /* MATCH shows the same: the default target when nothing matches. */
    redisReply *r = itCmd(c, "SWARM.ROUTE MATCH dl1 b.x");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, "stream:dl1:dead");
    freeReplyObject(r);

    /* Without a default, an unrouted message is only counted. */
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT dl1 NONE"));
    expectPubReply(pub("dl1", "b.x", "{}", NULL), "", 0, NULL);
    assert_int_equal(itStatField(c, "dl1", "unrouted"), 2);
    assert_int_equal(itStatField(c, "dl1", "deadlettered"), 1);
    expectLen("dl1:dead", 1);
}

static void test_all_targets_missed_goes_to_default_target(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD dl2 a.* channel:dl2:a"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD dl2 a.* channel:dl2:b"), 2);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT dl2 channel:dl2:dead"));
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "dl2:dead", 2000);
    char id[64];
    expectPubReply(pub("dl2", "a.x", "{}", NULL), "channel:dl2:dead", 1, id);
    char *env = itNextMessage(sub, "dl2:dead", NULL);
    char want[128];
    snprintf(want, sizeof(want), "{\"id\":\"%s\",", id);
    assert_true(strncmp(env, want, strlen(want)) == 0);
    free(env);
    expectCounters("dl2", 1, 1, 0, 1, 0, 0);
    expectCounters("dl2", 2, 1, 0, 1, 0, 0);
    assert_int_equal(itStatField(c, "dl2", "unrouted"), 0);
    assert_int_equal(itStatField(c, "dl2", "deadlettered"), 1);
    assert_int_equal(itStatField(c, "dl2", "delivered"), 1);
    redisFree(sub);
}

static void test_wrongtype_stream_target_fails_alone(void **state) {
    (void)state;
    itExpectOk(itCmd(c, "SET iso:str keep"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD iso x.* stream:iso:str"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD iso x.* channel:iso:c"), 2);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT iso stream:iso:dead"));
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "iso:c", 2000);
    char id[64];
    expectPubReply(pub("iso", "x.y", "{}", NULL), "channel:iso:c", 1, id);
    char *env = itNextMessage(sub, "iso:c", NULL);
    assert_non_null(strstr(env, id));
    free(env);
    expectCounters("iso", 1, 1, 0, 0, 1, 0);
    expectCounters("iso", 2, 1, 1, 0, 0, 0);
    itExpectStr(itCmd(c, "GET iso:str"), "keep");
    itExpectInt(itCmd(c, "EXISTS iso:dead"), 0); /* one target was ok: no dead letter */
    assert_int_equal(itStatField(c, "iso", "deadlettered"), 0);
    redisFree(sub);
}

/* ---- Breaker ---- */

static void test_breaker_opens_sheds_probes_and_closes(void **state) {
    (void)state;
    setConfig("swarm.breaker-threshold", "2");
    setConfig("swarm.breaker-cooldown-ms", "30000");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD brk ops.* channel:brk"), 1);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT brk stream:brk:dead"));
    long long shedInfo0 = itInfoNum(c, "swarm", "swarm_shed");

    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectBreaker("brk", 1, "closed");
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectBreaker("brk", 1, "open");
    expectCounters("brk", 1, 2, 0, 2, 0, 0);

    /* Open: priority 5 is not attempted, counts shed and is dead-lettered as a miss. */
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectCounters("brk", 1, 3, 0, 2, 0, 1);
    assert_int_equal(itStatField(c, "brk", "shed"), 1);
    assert_int_equal(itInfoNum(c, "swarm", "swarm_shed"), shedInfo0 + 1);
    expectPubReply(pub("brk", "ops.x", "{}", "PRIORITY", "7", NULL), "stream:brk:dead", 0, NULL);
    expectCounters("brk", 1, 4, 0, 2, 0, 2);

    /* Priority 8 and 9 are always attempted; the breaker stays open. */
    expectPubReply(pub("brk", "ops.x", "{}", "PRIORITY", "9", NULL), "stream:brk:dead", 0, NULL);
    expectPubReply(pub("brk", "ops.x", "{}", "PRIORITY", "8", NULL), "stream:brk:dead", 0, NULL);
    expectCounters("brk", 1, 6, 0, 4, 0, 2);
    expectBreaker("brk", 1, "open");
    assert_int_equal(itStatField(c, "brk", "deadlettered"), 6);

    /* After the cooldown, with a receiver, the next message probes and closes it. */
    redisContext *sub = itSubscribe(&srv, "SUBSCRIBE", "brk", 2000);
    coolDownRoute1("brk");
    expectPubReply(pub("brk", "ops.x", "{\"probe\":1}", NULL), "channel:brk", 1, NULL);
    expectBreaker("brk", 1, "closed");
    expectCounters("brk", 1, 7, 1, 4, 0, 2);
    free(itNextMessage(sub, "brk", NULL));
    redisReply *r = itCmd(sub, "UNSUBSCRIBE brk");
    freeReplyObject(r);
    redisFree(sub);

    /* Reopen, then a probe that misses reopens it at once and restarts the cooldown. */
    setConfig("swarm.breaker-cooldown-ms", "30000");
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectBreaker("brk", 1, "closed");
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectBreaker("brk", 1, "open");
    coolDownRoute1("brk");
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    setConfig("swarm.breaker-cooldown-ms", "30000");
    expectBreaker("brk", 1, "open");
    expectCounters("brk", 1, 10, 1, 7, 0, 2); /* the probe was attempted: missed, not shed */
    expectPubReply(pub("brk", "ops.x", "{}", NULL), "stream:brk:dead", 0, NULL);
    expectCounters("brk", 1, 11, 1, 7, 0, 3);
    assert_int_equal(itStatField(c, "brk", "shed"), 3);

    setConfig("swarm.breaker-threshold", "5");
    setConfig("swarm.breaker-cooldown-ms", "30000");
}

static void test_failed_stream_target_opens_breaker(void **state) {
    (void)state;
    setConfig("swarm.breaker-threshold", "2");
    itExpectOk(itCmd(c, "SET fbk:str x"));
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD fbk x.* stream:fbk:str"), 1);
    expectPubReply(pub("fbk", "x.y", "{}", NULL), "", 0, NULL);
    expectPubReply(pub("fbk", "x.y", "{}", NULL), "", 0, NULL);
    expectBreaker("fbk", 1, "open");
    expectPubReply(pub("fbk", "x.y", "{}", NULL), "", 0, NULL);
    expectCounters("fbk", 1, 3, 0, 0, 2, 1);
    setConfig("swarm.breaker-threshold", "5");
}

/* ---- Transactions, scripts, INFO ---- */

static void test_multi_exec_and_eval(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD tx x.* stream:tx:s"), 1);
    itExpectOk(itCmd(c, "MULTI"));
    itExpectStr(itCmd(c, "SWARM.PUBLISH tx x.a {}"), "QUEUED");
    itExpectStr(itCmd(c, "SWARM.PUBLISH tx x.b [1]"), "QUEUED");
    redisReply *r = itCmd(c, "EXEC");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    char ids[2][64];
    for (int i = 0; i < 2; i++) {
        redisReply *e = r->element[i];
        assert_int_equal(e->type, REDIS_REPLY_ARRAY);
        assert_int_equal(e->elements, 5);
        snprintf(ids[i], sizeof(ids[i]), "%s", e->element[0]->str);
        assert_int_equal(e->element[1]->elements, 1);
        assert_string_equal(e->element[1]->element[0]->str, "stream:tx:s");
        assert_int_equal(e->element[2]->integer, 0);
    }
    freeReplyObject(r);
    assert_true(idLess(parseId(ids[0]), parseId(ids[1])));

    r = itCmd(c, "EVAL %s 1 tx x.c {\"e\":1}",
              "return redis.call('SWARM.PUBLISH', KEYS[1], ARGV[1], ARGV[2])");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 5);
    assert_true(idLess(parseId(ids[1]), parseId(r->element[0]->str)));
    assert_int_equal(r->element[1]->elements, 1);
    assert_string_equal(r->element[1]->element[0]->str, "stream:tx:s");
    assert_int_equal(r->element[2]->integer, 0);
    freeReplyObject(r);
    /* An error inside a script keeps its code word. */
    r = itCmd(c, "EVAL %s 1 tx x..c {}",
              "return redis.pcall('SWARM.PUBLISH', KEYS[1], ARGV[1], ARGV[2])");
    itExpectError(r, "EVENTTYPE", NULL);
    expectLen("tx:s", 3);
    assert_int_equal(itStatField(c, "tx", "published"), 3);
    assert_int_equal(itStatField(c, "tx", "rejected"), 1);
}

static void test_info_counters_move(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD inf x.* stream:inf:s"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD inf y.* channel:inf:none"), 2);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT inf stream:inf:dead"));
    const char *f[] = {"swarm_published",          "swarm_delivered",    "swarm_rejected",
                       "swarm_rejected_payload",   "swarm_deadlettered", "swarm_shed",
                       "swarm_rejected_eventtype", "swarm_unrouted"};
    enum { NF = sizeof(f) / sizeof(f[0]) };
    long long before[NF];
    for (int i = 0; i < NF; i++) before[i] = itInfoNum(c, "swarm", f[i]);

    expectPubReply(pub("inf", "x.a", "{}", NULL), "stream:inf:s", 0, NULL);
    itExpectError(pub("inf", "x.a", "{", NULL), "PAYLOAD", NULL);
    itExpectError(pub("inf", "x..a", "{}", NULL), "EVENTTYPE", NULL);
    expectPubReply(pub("inf", "y.a", "{}", NULL), "stream:inf:dead", 0, NULL);
    expectPubReply(pub("inf", "z.a", "{}", NULL), "stream:inf:dead", 0, NULL);

    long long want[NF] = {3, 3, 2, 1, 2, 0, 1, 1};
    for (int i = 0; i < NF; i++) {
        long long d = itInfoNum(c, "swarm", f[i]) - before[i];
        if (d != want[i]) fail_msg("%s moved by %lld, expected %lld", f[i], d, want[i]);
    }
}

/* ---- SWARM.APPLY: the replicated effect ---- */

typedef struct Delta {
    unsigned char b[256];
    size_t len;
} Delta;

static void putU(Delta *d, unsigned long long v, int bytes) {
    for (int i = 0; i < bytes; i++) d->b[d->len++] = (unsigned char)(v >> (8 * i));
}

/* A publish delta: clock, table stats increments, one route entry when route is non-zero,
 * no rule hits. */
static void makeDelta(Delta *d, int version, unsigned long long ms, unsigned long long seq,
                      unsigned long long route) {
    d->len = 0;
    putU(d, (unsigned long long)version, 1);
    putU(d, ms, 8);
    putU(d, seq, 8);
    putU(d, 1, 8); /* published */
    for (int i = 0; i < 5; i++) putU(d, 0, 8);
    putU(d, route ? 1 : 0, 4);
    if (route) {
        putU(d, route, 8);
        for (int i = 0; i < 5; i++) putU(d, 1, 4);
        putU(d, 0, 1); /* closed */
        putU(d, 0, 4);
        putU(d, 0, 8);
    }
    putU(d, 0, 4);
}

static void test_apply_refuses_malformed_deltas_and_changes_nothing(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD apl x.* stream:apl:s"), 1);
    expectPubReply(pub("apl", "x.y", "{}", NULL), "stream:apl:s", 0, NULL);
    char *before = itCmdRepr(c, "DEBUG DIGEST-VALUE %s", "apl");
    Delta d;
    makeDelta(&d, 1, 9999999999999ULL, 5, 99);
    itExpectError(itCmd(c, "SWARM.APPLY apl ROUTE %b", d.b, d.len), "ERR", "unknown route 99");
    itExpectError(itCmd(c, "SWARM.APPLY apl ROUTE %b", d.b, (size_t)10), "ERR",
                  "malformed publish delta");
    makeDelta(&d, 2, 9999999999999ULL, 5, 0);
    itExpectError(itCmd(c, "SWARM.APPLY apl ROUTE %b", d.b, d.len), "ERR", "format");
    makeDelta(&d, 1, 9999999999999ULL, 5, 0);
    d.b[d.len++] = 0;
    itExpectError(itCmd(c, "SWARM.APPLY apl ROUTE %b", d.b, d.len), "ERR",
                  "malformed publish delta");
    /* The ROUTE effect is the delta alone (no envelopes ride along). */
    itExpectError(itCmd(c, "SWARM.APPLY apl ROUTE %b chan {}", d.b, d.len - 1), "ERR",
                  "syntax error, ROUTE takes one delta");
    itExpectError(itCmd(c, "SWARM.APPLY apl NOPE x"), "ERR", "unknown effect kind");
    char *after = itCmdRepr(c, "DEBUG DIGEST-VALUE %s", "apl");
    assert_string_equal(after, before);
    free(before);
    free(after);
    itExpectError(itCmd(c, "SWARM.APPLY apl:none ROUTE %b", d.b, d.len - 1), "ERR",
                  "no such routing table");
    itExpectInt(itCmd(c, "EXISTS apl:none"), 0);

    /* A clock ahead of the wall clock (a failover from a master whose clock ran ahead):
     * ids keep increasing from it. */
    makeDelta(&d, 1, 9999999999999ULL, 5, 1);
    itExpectOk(itCmd(c, "SWARM.APPLY apl ROUTE %b", d.b, d.len));
    char buf[64];
    assert_string_equal(lastId(c, "apl", buf), "9999999999999-5");
    expectCounters("apl", 1, 2, 2, 1, 1, 1);
    char id[64];
    expectPubReply(pub("apl", "x.y", "{}", NULL), "stream:apl:s", 0, id);
    assert_string_equal(id, "9999999999999-6");

    /* The PUBLISH form: the delta, the effect record (effect.h), then type, payload and the
     * sender when the record says so. Any disagreement is refused before anything changes. */
    before = itCmdRepr(c, "DEBUG DIGEST-VALUE %s", "apl");
    char *xlen0 = itCmdRepr(c, "XLEN %s", "apl:s");
    makeDelta(&d, 1, 9999999999999ULL, 7, 1);
    Delta e = {{0}, 0};
    putU(&e, 1, 1);                /* format */
    putU(&e, 9999999999999ULL, 8); /* id */
    putU(&e, 7, 8);
    putU(&e, 1234, 8); /* ts */
    putU(&e, 5, 1);    /* priority */
    putU(&e, 0, 1);    /* no sender */
    size_t head = e.len;
    putU(&e, 1, 1); /* a stream append */
    putU(&e, 9, 8); /* to route 9: not in the table */
    putU(&e, 9999999999999ULL, 8);
    putU(&e, 1, 8);
    putU(&e, 0, 8);
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, d.len, e.b, e.len), "ERR",
                  "unknown target 9");
    e.b[head + 1] = 1; /* route 1, a stream route */
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {} me", d.b, d.len, e.b, e.len),
                  "ERR", "disagree on SENDER");
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y", d.b, d.len, e.b, e.len), "ERR",
                  "wrong number of arguments");
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, d.len, e.b, e.len - 3),
                  "ERR", "malformed publish effect");
    e.b[head] = 0; /* a channel delivery to a stream route */
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, d.len, e.b, head + 9),
                  "ERR", "unknown target 1");
    e.b[head] = 1;
    e.b[0] = 2;
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, d.len, e.b, e.len), "ERR",
                  "unknown publish effect format");
    e.b[0] = 1;
    itExpectError(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, (size_t)10, e.b, e.len),
                  "ERR", "malformed publish delta");
    after = itCmdRepr(c, "DEBUG DIGEST-VALUE %s", "apl");
    assert_string_equal(after, before);
    char *xlen1 = itCmdRepr(c, "XLEN %s", "apl:s");
    assert_string_equal(xlen1, xlen0);
    free(before);
    free(after);
    free(xlen0);
    free(xlen1);
    /* A well-formed record applies: the entry with its exact id, the clock. */
    itExpectOk(itCmd(c, "SWARM.APPLY apl PUBLISH %b %b x.y {}", d.b, d.len, e.b, e.len));
    assert_string_equal(lastId(c, "apl", buf), "9999999999999-7");
    redisReply *x = itCmd(c, "XREVRANGE apl:s + - COUNT 1");
    assert_string_equal(x->element[0]->element[0]->str, "9999999999999-1");
    char *fields = itReplyRepr(x->element[0]->element[1]);
    assert_string_equal(fields, "[\"id\",\"9999999999999-7\",\"swarm\",\"apl\",\"type\",\"x.y\","
                                "\"priority\",\"5\",\"ts\",\"1234\",\"payload\",\"{}\"]");
    free(fields);
    freeReplyObject(x);
}

/* ---- Persistence: the id clock and the table survive restarts and AOF rewrites ---- */

static void digests(redisContext *ctx, const char *const *keys, char out[][64]) {
    for (int i = 0; keys[i]; i++) {
        redisReply *r = itCmd(ctx, "DEBUG DIGEST-VALUE %s", keys[i]);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 1);
        snprintf(out[i], 64, "%s", r->element[0]->str);
        assert_string_not_equal(out[i], "0000000000000000000000000000000000000000");
        freeReplyObject(r);
    }
}

static void test_ids_and_state_survive_restart_and_aof_rewrite(void **state) {
    (void)state;
    itServer a;
    const char *extra[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    itStart(&a, NULL, extra);
    redisContext *ac = itConnect(&a);
    itExpectOk(itCmd(ac, "CONFIG SET swarm.breaker-threshold 2"));
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD per x.* stream:per:s"), 1);
    itExpectInt(itCmd(ac, "SWARM.ROUTE ADD per x.* channel:per:none"), 2);
    itExpectInt(itCmd(ac, "SWARM.ROUTE DENY per bad\\..*"), 3);
    itExpectOk(itCmd(ac, "SWARM.ROUTE DEFAULT per stream:per:dead"));
    char id[64] = "";
    for (int i = 0; i < 20; i++) {
        redisReply *r = itPublish(ac, "per", "x.y", "{\"i\":1}", NULL);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(id, sizeof(id), "%s", r->element[0]->str);
        freeReplyObject(r);
    }
    itExpectError(itPublish(ac, "per", "bad.y", "{}", NULL), "DENIED", NULL);
    expectPubReply(itPublish(ac, "per", "q.y", "{}", NULL), "stream:per:dead", 0, id);
    const char *keys[] = {"per", "per:s", "per:dead", NULL};
    char d0[3][64], d1[3][64], buf[64];
    digests(ac, keys, d0);
    assert_string_equal(lastId(ac, "per", buf), id);

    /* Restart: the AOF replays the deltas to the same table, clock included. */
    redisFree(ac);
    itRestart(&a);
    ac = itConnect(&a);
    assert_string_equal(lastId(ac, "per", buf), id);
    digests(ac, keys, d1);
    for (int i = 0; i < 3; i++) assert_string_equal(d1[i], d0[i]);
    char id2[64];
    expectPubReply(itPublish(ac, "per", "x.y", "{}", NULL), "stream:per:s", 0, id2);
    assert_true(idLess(parseId(id), parseId(id2)));

    /* AOF rewrite (SWARM.RESTORE commands), then restart. */
    digests(ac, keys, d0);
    itAofRewrite(ac, 10000);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -q -a SWARM.RESTORE %s/appendonlydir/*.base.aof", a.dir);
    if (system(cmd) != 0) fail_msg("the rewritten base AOF has no SWARM.RESTORE");
    redisFree(ac);
    itRestart(&a);
    ac = itConnect(&a);
    digests(ac, keys, d1);
    for (int i = 0; i < 3; i++) assert_string_equal(d1[i], d0[i]);
    assert_string_equal(lastId(ac, "per", buf), id2);
    char id3[64];
    expectPubReply(itPublish(ac, "per", "x.y", "{}", NULL), "stream:per:s", 0, id3);
    assert_true(idLess(parseId(id2), parseId(id3)));

    /* An RDB round trip. */
    digests(ac, keys, d0);
    itExpectOk(itCmd(ac, "DEBUG RELOAD"));
    digests(ac, keys, d1);
    for (int i = 0; i < 3; i++) assert_string_equal(d1[i], d0[i]);
    assert_string_equal(lastId(ac, "per", buf), id3);

    /* The same with an RDB preamble. */
    itExpectOk(itCmd(ac, "CONFIG SET aof-use-rdb-preamble yes"));
    digests(ac, keys, d0);
    itAofRewrite(ac, 10000);
    redisFree(ac);
    itRestart(&a);
    ac = itConnect(&a);
    digests(ac, keys, d1);
    for (int i = 0; i < 3; i++) assert_string_equal(d1[i], d0[i]);
    assert_string_equal(lastId(ac, "per", buf), id3);
    redisFree(ac);
    itDestroy(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_exact_bytes_escaping_and_verbatim_payload),
        cmocka_unit_test(test_envelope_never_carries_a_non_utf8_sender),
        cmocka_unit_test(test_envelope_stays_valid_utf8_for_non_utf8_key),
        cmocka_unit_test(test_reply_lists_distinct_ok_targets_and_sums_receivers),
        cmocka_unit_test(test_ids_strictly_increase_within_one_millisecond),
        cmocka_unit_test(test_stream_entry_has_exact_fields),
        cmocka_unit_test(test_stream_is_trimmed_to_stream_maxlen_approximately),
        cmocka_unit_test(test_eventtype_errors),
        cmocka_unit_test(test_payload_errors_name_the_byte_offset),
        cmocka_unit_test(test_payload_size_limit),
        cmocka_unit_test(test_payload_nesting_128_ok_129_rejected),
        cmocka_unit_test(test_denied_names_the_rule_and_allow_rules_gate),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_wrongtype_key),
        cmocka_unit_test(test_rejection_changes_only_rejection_counters),
        cmocka_unit_test(test_unrouted_message_goes_to_default_target),
        cmocka_unit_test(test_all_targets_missed_goes_to_default_target),
        cmocka_unit_test(test_wrongtype_stream_target_fails_alone),
        cmocka_unit_test(test_breaker_opens_sheds_probes_and_closes),
        cmocka_unit_test(test_failed_stream_target_opens_breaker),
        cmocka_unit_test(test_multi_exec_and_eval),
        cmocka_unit_test(test_info_counters_move),
        cmocka_unit_test(test_apply_refuses_malformed_deltas_and_changes_nothing),
        cmocka_unit_test(test_ids_and_state_survive_restart_and_aof_rewrite),
    };
    itFixture(&srv, &c, internalOpen, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
}
