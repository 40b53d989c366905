/* test_cluster.c -- swarm in a 3-master Redis Cluster on loopback: stream
 * targets must share the table's slot (CROSSSLOT otherwise), a publish appends to the
 * in-slot stream, channels are shard channels (SSUBSCRIBE) unless swarm.cluster-pubsub is
 * global, in which case a plain subscriber on any node receives the envelope. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NODES 3

static itServer node[NODES];
static redisContext *nc[NODES];
static char tag[NODES][16]; /* tag[i]: a hash tag whose slot node i owns */

/* The index of the node owning slot, from CLUSTER SLOTS. */
static int ownerOf(long long slot) {
    redisReply *r = itCmd(nc[0], "CLUSTER SLOTS");
    int owner = -1;
    for (size_t i = 0; i < r->elements && owner < 0; i++) {
        redisReply *range = r->element[i];
        if (slot < range->element[0]->integer || slot > range->element[1]->integer) continue;
        long long port = range->element[2]->element[1]->integer;
        for (int n = 0; n < NODES; n++)
            if (node[n].port == port) owner = n;
    }
    freeReplyObject(r);
    if (owner < 0) fail_msg("no node owns slot %lld", slot);
    return owner;
}

static long long keySlot(const char *key) {
    return itInteger(itCmd(nc[0], "CLUSTER KEYSLOT %s", key));
}

/* The slot of node i's hash tag. */
static long long tagSlot(int i) {
    char key[20];
    snprintf(key, sizeof(key), "{%.15s}", tag[i]);
    return keySlot(key);
}

static int setup(void **state) {
    (void)state;
    itStartCluster(node, nc, NODES, NODES);
    /* One hash tag per node. */
    int found = 0;
    for (int t = 0; found < NODES && t < 1000; t++) {
        char key[32];
        snprintf(key, sizeof(key), "{t%d}", t);
        int owner = ownerOf(keySlot(key));
        if (tag[owner][0]) continue;
        snprintf(tag[owner], sizeof(tag[owner]), "t%d", t);
        found++;
    }
    if (found < NODES) fail_msg("could not find a hash tag for every node");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    itStopCluster(node, nc, NODES);
    return 0;
}

/* ---- Tests ---- */

static void test_stream_target_must_share_the_tables_slot(void **state) {
    (void)state;
    for (int i = 0; i < NODES; i++) {
        int other = (i + 1) % NODES;
        redisReply *r =
            itCmd(nc[i], "SWARM.ROUTE ADD swarm:{%s} ev.* stream:swarm:{%s}:inbox", tag[i], tag[i]);
        itExpectInt(r, 1);
        char want[128];
        snprintf(want, sizeof(want), "but the routing table is in slot %lld", tagSlot(i));
        r = itCmd(nc[i], "SWARM.ROUTE ADD swarm:{%s} ev.* stream:swarm:{%s}:inbox", tag[i],
                  tag[other]);
        itExpectError(r, "CROSSSLOT", want);
        /* A target without a hash tag is refused unless it happens to share the slot. */
        int inboxShares = keySlot("inbox") == tagSlot(i);
        r = itCmd(nc[i], "SWARM.ROUTE ADD swarm:{%s} ev.* stream:inbox", tag[i]);
        if (inboxShares) {
            itExpectInt(r, 2);
        } else {
            itExpectError(r, "CROSSSLOT", NULL);
        }
        itExpectError(itCmd(nc[i], "SWARM.ROUTE DEFAULT swarm:{%s} stream:swarm:{%s}:dead", tag[i],
                            tag[other]),
                      "CROSSSLOT", NULL);
        itExpectOk(
            itCmd(nc[i], "SWARM.ROUTE DEFAULT swarm:{%s} stream:swarm:{%s}:dead", tag[i], tag[i]));
        /* The table key itself is routed like any key. */
        char moved[64];
        snprintf(moved, sizeof(moved), "%lld 127.0.0.1:%d", tagSlot(i), node[i].port);
        itExpectError(
            itCmd(nc[other], "SWARM.ROUTE ADD swarm:{%s} ev.* stream:swarm:{%s}:x", tag[i], tag[i]),
            "MOVED", moved);
        r = itCmd(nc[i], "SWARM.ROUTE LIST swarm:{%s}", tag[i]);
        assert_int_equal(r->elements, inboxShares ? 2 : 1);
        freeReplyObject(r);
    }
}

static void test_publish_appends_to_the_in_slot_stream(void **state) {
    (void)state;
    for (int i = 0; i < NODES; i++) {
        redisReply *r = itCmd(nc[i], "SWARM.PUBLISH swarm:{%s} ev.x {\"n\":%d}", tag[i], i);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->element[1]->elements, 1);
        char target[64];
        snprintf(target, sizeof(target), "stream:swarm:{%s}:inbox", tag[i]);
        assert_string_equal(r->element[1]->element[0]->str, target);
        assert_int_equal(r->element[2]->integer, 0);
        freeReplyObject(r);
        itExpectInt(itCmd(nc[i], "XLEN swarm:{%s}:inbox", tag[i]), 1);
        /* Unrouted: the in-slot dead-letter stream. */
        r = itCmd(nc[i], "SWARM.PUBLISH swarm:{%s} other.x {}", tag[i]);
        snprintf(target, sizeof(target), "stream:swarm:{%s}:dead", tag[i]);
        assert_string_equal(r->element[1]->element[0]->str, target);
        freeReplyObject(r);
        itExpectInt(itCmd(nc[i], "XLEN swarm:{%s}:dead", tag[i]), 1);
        itExpectError(itCmd(nc[(i + 1) % NODES], "SWARM.PUBLISH swarm:{%s} ev.x {}", tag[i]),
                      "MOVED", NULL);
    }
}

static void test_shard_subscriber_receives_the_envelope(void **state) {
    (void)state;
    for (int i = 0; i < NODES; i++) {
        char channel[64];
        snprintf(channel, sizeof(channel), "swarm:{%s}:events", tag[i]);
        /* Ids so far: the inbox route, and "stream:inbox" if it happened to share the slot. */
        itExpectInt(itCmd(nc[i], "SWARM.ROUTE ADD swarm:{%s} ev.* channel:%s", tag[i], channel),
                    keySlot("inbox") == tagSlot(i) ? 3 : 2);
        redisContext *ssub = itSubscribe(&node[i], "SSUBSCRIBE", channel, 3000);
        /* A plain subscriber to the same name is not a receiver of a shard channel. */
        redisContext *plain = itSubscribe(&node[i], "SUBSCRIBE", channel, 3000);
        redisReply *r =
            itCmd(nc[i], "SWARM.PUBLISH swarm:{%s} ev.s {\"shard\":%d} SENDER n%d", tag[i], i, i);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        char id[64], target[80];
        snprintf(id, sizeof(id), "%s", r->element[0]->str);
        assert_int_equal(r->element[1]->elements, 2);
        snprintf(target, sizeof(target), "channel:%s", channel);
        assert_string_equal(r->element[1]->element[1]->str, target);
        assert_int_equal(r->element[2]->integer, 1);
        freeReplyObject(r);
        unsigned long long ms = strtoull(id, NULL, 10);
        char want[256];
        snprintf(want, sizeof(want),
                 "{\"id\":\"%s\",\"swarm\":\"swarm:{%s}\",\"type\":\"ev.s\",\"priority\":5,"
                 "\"ts\":%llu,\"sender\":\"n%d\",\"payload\":{\"shard\":%d}}",
                 id, tag[i], ms, i, i);
        char *got = itNextMessage(ssub, channel, NULL);
        assert_string_equal(got, want);
        free(got);
        redisFree(ssub);
        redisFree(plain);
    }
}

static void test_global_pubsub_reaches_subscribers_on_other_nodes(void **state) {
    (void)state;
    for (int i = 0; i < NODES; i++)
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.cluster-pubsub global"));
    for (int i = 0; i < NODES; i++) {
        char channel[64];
        snprintf(channel, sizeof(channel), "swarm:{%s}:events", tag[i]);
        int other = (i + 1) % NODES;
        redisContext *sub = itSubscribe(&node[other], "SUBSCRIBE", channel, 3000);
        redisReply *r = itCmd(nc[i], "SWARM.PUBLISH swarm:{%s} ev.g {\"global\":%d}", tag[i], i);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        char id[64];
        snprintf(id, sizeof(id), "%s", r->element[0]->str);
        /* Receivers are what PUBLISH returns on the publishing node: its local subscribers. */
        assert_int_equal(r->element[2]->integer, 0);
        freeReplyObject(r);
        char want[256];
        snprintf(want, sizeof(want),
                 "{\"id\":\"%s\",\"swarm\":\"swarm:{%s}\",\"type\":\"ev.g\",\"priority\":5,"
                 "\"ts\":%llu,\"payload\":{\"global\":%d}}",
                 id, tag[i], strtoull(id, NULL, 10), i);
        char *got = itNextMessage(sub, channel, NULL);
        assert_string_equal(got, want);
        free(got);
        redisFree(sub);
    }
    for (int i = 0; i < NODES; i++)
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.cluster-pubsub shard"));
}

static void test_shard_channel_target_must_share_the_tables_slot(void **state) {
    (void)state;
    int other = 1;
    char want[256];
    snprintf(want, sizeof(want),
             "CROSSSLOT shard channel target 'channel:swarm:{%s}:elsewhere' hashes to slot %lld "
             "but the routing table is in slot %lld",
             tag[other], tagSlot(other), tagSlot(0));
    itExpectError(itCmd(nc[0], "SWARM.ROUTE ADD swarm:{%s} xs.* channel:swarm:{%s}:elsewhere",
                        tag[0], tag[other]),
                  "CROSSSLOT", want);

    /* Global channels may be named anything; if the config goes back to shard, such a route
     * fails on its own and the others still deliver. */
    itExpectOk(itCmd(nc[0], "CONFIG SET swarm.cluster-pubsub global"));
    long long id = itInteger(itCmd(
        nc[0], "SWARM.ROUTE ADD swarm:{%s} xs.* channel:swarm:{%s}:elsewhere", tag[0], tag[other]));
    itExpectInt(
        itCmd(nc[0], "SWARM.ROUTE ADD swarm:{%s} xs.* stream:swarm:{%s}:inbox", tag[0], tag[0]),
        id + 1);
    itExpectOk(itCmd(nc[0], "CONFIG SET swarm.cluster-pubsub shard"));
    redisReply *r = itCmd(nc[0], "SWARM.PUBLISH swarm:{%s} xs.a {}", tag[0]);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[1]->elements, 1);
    char target[64];
    snprintf(target, sizeof(target), "stream:swarm:{%s}:inbox", tag[0]);
    assert_string_equal(r->element[1]->element[0]->str, target);
    freeReplyObject(r);
    r = itCmd(nc[0], "SWARM.ROUTE LIST swarm:{%s}", tag[0]);
    int seen = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (itField(e, "id")->integer != id) continue;
        assert_int_equal(itField(e, "matched")->integer, 1);
        assert_int_equal(itField(e, "delivered")->integer, 0);
        assert_int_equal(itField(e, "failed")->integer, 1);
        seen = 1;
    }
    assert_true(seen);
    freeReplyObject(r);
}

/* With global channels a subscriber on another node is a receiver PUBLISH cannot count
 * locally. Such a channel must not look like a miss to the breaker, or after
 * swarm.breaker-threshold messages it opens and sheds every message of priority below 8
 * that the subscriber would have received. */
static void test_global_channel_with_remote_subscriber_is_not_shed(void **state) {
    (void)state;
    for (int i = 0; i < NODES; i++) {
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.cluster-pubsub global"));
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.breaker-threshold 2"));
    }
    char channel[64];
    snprintf(channel, sizeof(channel), "swarm:{%s}:remote", tag[0]);
    long long id =
        itInteger(itCmd(nc[0], "SWARM.ROUTE ADD swarm:{%s} rm.* channel:%s", tag[0], channel));
    redisContext *sub = itSubscribe(&node[1], "SUBSCRIBE", channel, 3000);
    for (int n = 0; n < 4; n++) {
        freeReplyObject(itCmd(nc[0], "SWARM.PUBLISH swarm:{%s} rm.x {\"n\":%d}", tag[0], n));
        char *got = itNextMessage(sub, channel, NULL);
        char want[32];
        snprintf(want, sizeof(want), "{\"n\":%d}}", n);
        assert_string_equal(got + strlen(got) - strlen(want), want);
        free(got);
    }
    redisReply *r = itCmd(nc[0], "SWARM.ROUTE LIST swarm:{%s}", tag[0]);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (itField(e, "id")->integer != id) continue;
        assert_int_equal(itField(e, "shed")->integer, 0);
        assert_string_equal(itField(e, "breaker")->str, "closed");
    }
    freeReplyObject(r);
    redisFree(sub);
    for (int i = 0; i < NODES; i++) {
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.cluster-pubsub shard"));
        itExpectOk(itCmd(nc[i], "CONFIG SET swarm.breaker-threshold 5"));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_target_must_share_the_tables_slot),
        cmocka_unit_test(test_publish_appends_to_the_in_slot_stream),
        cmocka_unit_test(test_shard_subscriber_receives_the_envelope),
        cmocka_unit_test(test_global_pubsub_reaches_subscribers_on_other_nodes),
        cmocka_unit_test(test_shard_channel_target_must_share_the_tables_slot),
        cmocka_unit_test(test_global_channel_with_remote_subscriber_is_not_shed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
