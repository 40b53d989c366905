/* test_publish.c -- unit tests of the publish plan (module/core/publish.c): selection by
 * priority with targets de-duplicated, the dry run MATCH shows, breakers shedding and
 * probing on an injected clock, dead letters, the delta, rejections and allocation
 * failures. Deliveries are simulated: a target's outcome comes from its name. */
#include "table_helpers.h"

#include <stdio.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/breaker.h"
#include "swarm/table_codec.h"
#include "swarm/publish.h"

static const swPublishConfig cfg = {.breakerCooldownMs = 1000, .breakerThreshold = 2};

/* The simulated receiver: "channel:gone*" has no subscriber, "stream:bad*" refuses the
 * entry, anything else takes it. */
static swOutcome outcomeOf(const swPublishSlot *s) {
    if (s->len >= 12 && memcmp(s->target, "channel:gone", 12) == 0) return SW_OUTCOME_MISSED;
    if (s->len >= 10 && memcmp(s->target, "stream:bad", 10) == 0) return SW_OUTCOME_FAILED;
    return SW_OUTCOME_OK;
}

/* What one publish did, as text: the deliveries tried in order, then the reply's delivered
 * and lost lists. */
typedef struct Run {
    char tried[512], delivered[512], lost[512];
    swTableStats inc;
} Run;

static void append(char *buf, const char *s, size_t len) {
    size_t n = strlen(buf);
    snprintf(buf + n, 512 - n, "%s%.*s", n ? " " : "", (int)len, s);
}

/* Publishes type at priority and time now through the plan; returns what happened. */
static Run publish(swTable *t, const char *type, int priority, int64_t now) {
    Run r = {{0}, {0}, {0}, {0}};
    const swResolution *res = resolve(t, type);
    swPublish p;
    assert_int_equal(swPublishSelect(&p, t, res, priority), SW_OK);
    int64_t ms;
    uint64_t seq;
    assert_int_equal(swPublishStart(&p, now, &cfg, &ms, &seq), SW_OK);
    assert_int_equal(ms, t->clockMs);
    swPublishSlot s;
    while (swPublishNext(&p, &s)) {
        assert_int_equal(s.outcome, SW_OUTCOME_PENDING);
        append(r.tried, s.target, s.len);
        swPublishReport(&p, outcomeOf(&s));
    }
    const swDelta *d = swPublishCommit(&p);
    r.inc = d->inc;
    size_t nd = 0, nl = 0;
    for (size_t i = 0; i < swPublishSlots(&p); i++) {
        if (!swPublishSlotAt(&p, i, &s)) continue;
        if (s.outcome == SW_OUTCOME_OK) {
            append(r.delivered, s.target, s.len);
            nd++;
        } else if (s.outcome != SW_OUTCOME_NONE) {
            char pair[300];
            snprintf(pair, sizeof(pair), "%.*s=%s", (int)s.len, s.target, swOutcomeName(s.outcome));
            append(r.lost, pair, strlen(pair));
            nl++;
        }
    }
    assert_int_equal(nd, swPublishDelivered(&p));
    assert_int_equal(nl, swPublishLost(&p));
    assert_int_equal(d->inc.delivered, nd);
    swPublishFree(&p);
    return r;
}

/* What MATCH shows: the dry run's pending slots. */
static void dryRun(swTable *t, const char *type, int priority, char *out) {
    out[0] = '\0';
    swPublish p;
    assert_int_equal(swPublishSelect(&p, t, resolve(t, type), priority), SW_OK);
    swPublishSlot s;
    for (size_t i = 0; i < swPublishSlots(&p); i++) {
        if (swPublishSlotAt(&p, i, &s) && s.outcome == SW_OUTCOME_PENDING)
            append(out, s.target, s.len);
    }
    swPublishFree(&p);
}

/* ---- Selection ---- */

static void test_selection_by_priority_dedups_targets_in_route_order(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t r1 = addRoute(t, "task.*", "channel:a", SW_ROUTE_SUBJECT, 1, 9);
    uint64_t r2 = addRoute(t, "task.>", "stream:s", SW_ROUTE_SUBJECT, 6, 9);
    uint64_t r3 = addRoute(t, "task\\..*", "channel:a", SW_ROUTE_REGEX, 1, 9);
    uint64_t r4 = addRoute(t, "task.done", "channel:b", SW_ROUTE_SUBJECT, 1, 3);
    char dry[512];
    dryRun(t, "task.done", 5, dry);
    assert_string_equal(dry, "channel:a");
    dryRun(t, "task.done", 9, dry);
    assert_string_equal(dry, "channel:a stream:s");
    dryRun(t, "task.done", 2, dry);
    assert_string_equal(dry, "channel:a channel:b");
    dryRun(t, "other", 5, dry);
    assert_string_equal(dry, "");

    /* A publish tries exactly what the dry run shows, each target once. */
    Run r = publish(t, "task.done", 9, 1000);
    assert_string_equal(r.tried, "channel:a stream:s");
    assert_string_equal(r.delivered, "channel:a stream:s");
    assert_string_equal(r.lost, "");
    /* Every route in the range is matched and shares its target's outcome. */
    assert_int_equal(swTableRoute(t, r1)->c.matched, 1);
    assert_int_equal(swTableRoute(t, r1)->c.delivered, 1);
    assert_int_equal(swTableRoute(t, r2)->c.delivered, 1);
    assert_int_equal(swTableRoute(t, r3)->c.matched, 1);
    assert_int_equal(swTableRoute(t, r3)->c.delivered, 1);
    assert_int_equal(swTableRoute(t, r4)->c.matched, 0);
    assert_int_equal(r.inc.published, 1);
    assert_int_equal(r.inc.delivered, 2);
    assert_int_equal(t->stats.delivered, 2);
    swTableFree(t);
}

/* ---- Dead letters ---- */

static void test_dead_letter(void **state) {
    (void)state;
    swTable *t = newTable();
    assert_int_equal(swTableSetDefault(t, "stream:dead", 11, NULL), SW_OK);
    uint64_t r1 = SUBJ(t, "a.*", "channel:gone1");
    SUBJ(t, "a.b", "stream:bad1");
    SUBJ(t, "ok.*", "channel:fine");
    char dry[512];
    /* Nothing matches: the dry run and the publish both go to the default target. */
    dryRun(t, "zzz", 5, dry);
    assert_string_equal(dry, "stream:dead");
    Run r = publish(t, "zzz", 5, 10);
    assert_string_equal(r.tried, "stream:dead");
    assert_string_equal(r.delivered, "stream:dead");
    assert_int_equal(r.inc.unrouted, 1);
    assert_int_equal(r.inc.deadlettered, 1);
    assert_int_equal(r.inc.delivered, 1);

    /* Routes match, so the dry run shows them; every one misses or fails: dead letter. */
    dryRun(t, "a.b", 5, dry);
    assert_string_equal(dry, "channel:gone1 stream:bad1");
    r = publish(t, "a.b", 5, 20);
    assert_string_equal(r.tried, "channel:gone1 stream:bad1 stream:dead");
    assert_string_equal(r.delivered, "stream:dead");
    assert_string_equal(r.lost, "channel:gone1=missed stream:bad1=failed");
    assert_int_equal(r.inc.unrouted, 0);
    assert_int_equal(r.inc.deadlettered, 1);
    assert_int_equal(swTableRoute(t, r1)->c.missed, 1);

    /* A route delivers: no dead letter. */
    r = publish(t, "ok.x", 5, 30);
    assert_string_equal(r.tried, "channel:fine");
    assert_int_equal(r.inc.deadlettered, 0);

    /* A default target that fails is lost too. */
    assert_int_equal(swTableSetDefault(t, "stream:badDead", 14, NULL), SW_OK);
    r = publish(t, "zzz", 5, 40);
    assert_string_equal(r.delivered, "");
    assert_string_equal(r.lost, "stream:badDead=failed");
    assert_int_equal(r.inc.deadlettered, 1);
    assert_int_equal(r.inc.delivered, 0);

    /* No default: an unrouted message is just unrouted. */
    assert_int_equal(swTableSetDefault(t, NULL, 0, NULL), SW_OK);
    r = publish(t, "zzz", 5, 50);
    assert_string_equal(r.tried, "");
    assert_int_equal(r.inc.unrouted, 1);
    assert_int_equal(r.inc.deadlettered, 0);
    assert_int_equal(t->stats.published, 5);
    assert_int_equal(t->stats.deadlettered, 3);
    swTableFree(t);
}

/* ---- Breakers, on an injected clock ---- */

static void test_breaker_sheds_then_probes(void **state) {
    (void)state;
    swTable *t = newTable();
    assert_int_equal(swTableSetDefault(t, "channel:dlq", 11, NULL), SW_OK);
    uint64_t id = SUBJ(t, "x", "channel:gone");
    swRoute *route = swTableRoute(t, id);
    int64_t now = 1700000000000;
    /* threshold (2) misses in a row open it. */
    Run r = publish(t, "x", 5, now);
    assert_string_equal(r.lost, "channel:gone=missed");
    assert_int_equal(route->breaker, SW_BREAKER_CLOSED);
    r = publish(t, "x", 5, now + 1);
    assert_int_equal(route->breaker, SW_BREAKER_OPEN);
    assert_int_equal(route->openedMs, now + 1);
    /* Open: priority 7 is shed (not tried), counted, dead-lettered, and reported lost. */
    r = publish(t, "x", 7, now + 2);
    assert_string_equal(r.tried, "channel:dlq");
    assert_string_equal(r.lost, "channel:gone=shed");
    assert_string_equal(r.delivered, "channel:dlq");
    assert_int_equal(r.inc.shed, 1);
    assert_int_equal(route->c.shed, 1);
    assert_int_equal(route->c.matched, 3);
    /* The dry run does not consult the breaker: MATCH shows what routes select. */
    char dry[512];
    dryRun(t, "x", 7, dry);
    assert_string_equal(dry, "channel:gone");
    /* Critical priorities are attempted through it and do not extend the cooldown. */
    r = publish(t, "x", 8, now + 500);
    assert_string_equal(r.tried, "channel:gone channel:dlq");
    assert_string_equal(r.lost, "channel:gone=missed");
    assert_int_equal(route->breaker, SW_BREAKER_OPEN);
    assert_int_equal(route->openedMs, now + 1);
    /* One ms before the cooldown passes: still shed. */
    r = publish(t, "x", 1, now + 1 + 999);
    assert_string_equal(r.lost, "channel:gone=shed");
    /* Cooled down: the next message probes; it misses, so the breaker opens again at once. */
    r = publish(t, "x", 1, now + 1 + 1000);
    assert_string_equal(r.tried, "channel:gone channel:dlq");
    assert_int_equal(route->breaker, SW_BREAKER_OPEN);
    assert_int_equal(route->openedMs, now + 1001);
    swTableFree(t);
}

static void test_probe_that_delivers_closes_the_breaker(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *route = swTableRoute(t, SUBJ(t, "x", "channel:fine"));
    route->breaker = SW_BREAKER_OPEN;
    route->failures = 9;
    route->openedMs = 5000;
    Run r = publish(t, "x", 5, 5999);
    assert_string_equal(r.lost, "channel:fine=shed");
    r = publish(t, "x", 5, 6000);
    assert_string_equal(r.delivered, "channel:fine");
    assert_int_equal(route->breaker, SW_BREAKER_CLOSED);
    assert_int_equal(route->failures, 0);
    swTableFree(t);
}

/* A route shed by its breaker leaves its target to a later route with the same target. */
static void test_shed_target_delivered_by_a_later_route(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *a = swTableRoute(t, SUBJ(t, "x", "channel:c"));
    swRoute *b = swTableRoute(t, SUBJ(t, ">", "channel:c"));
    swRoute *c = swTableRoute(t, SUBJ(t, "*", "channel:c"));
    a->breaker = SW_BREAKER_OPEN;
    a->openedMs = 100;
    Run r = publish(t, "x", 5, 200);
    assert_string_equal(r.tried, "channel:c");
    assert_string_equal(r.delivered, "channel:c");
    assert_string_equal(r.lost, "");
    assert_int_equal(r.inc.shed, 1);
    assert_int_equal(r.inc.delivered, 1);
    assert_int_equal(a->c.shed, 1);
    assert_int_equal(a->c.delivered, 0);
    assert_int_equal(b->c.delivered, 1);
    assert_int_equal(c->c.delivered, 1); /* shares b's delivery, not tried again */
    /* Every route with that target shed: the target is lost once, as shed. */
    b->breaker = c->breaker = SW_BREAKER_OPEN;
    b->openedMs = c->openedMs = 200;
    r = publish(t, "x", 5, 300);
    assert_string_equal(r.tried, "");
    assert_string_equal(r.lost, "channel:c=shed");
    assert_int_equal(r.inc.shed, 3);
    assert_int_equal(r.inc.unrouted, 0);
    swTableFree(t);
}

/* Two routes with one target: one delivery, both routes count its outcome and move their
 * own breakers. */
static void test_shared_target_outcome_counts_on_every_route(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *a = swTableRoute(t, SUBJ(t, "x", "channel:gone"));
    swRoute *b = swTableRoute(t, SUBJ(t, "*", "channel:gone"));
    Run r = publish(t, "x", 5, 1);
    assert_string_equal(r.tried, "channel:gone");
    assert_string_equal(r.lost, "channel:gone=missed");
    r = publish(t, "x", 5, 2);
    assert_int_equal(a->c.missed, 2);
    assert_int_equal(b->c.missed, 2);
    assert_int_equal(a->breaker, SW_BREAKER_OPEN);
    assert_int_equal(b->breaker, SW_BREAKER_OPEN);
    swTableFree(t);
}

/* ---- The delta ---- */

/* The delta the plan commits is the one replicas apply: encoded, checked against a copy of
 * the table as it was before and committed there, it gives the same table. */
static void test_delta_reproduces_the_publish(void **state) {
    (void)state;
    swTable *t = newTable();
    ALLOW(t, "^x$");
    SUBJ(t, "x", "channel:gone");
    SUBJ(t, "x", "stream:s");
    char *before;
    size_t blen;
    encode(t, &before, &blen);
    swTable *copy = decodeOk(before, blen);
    swFree(before);
    const swResolution *res = resolve(t, "x");
    swPublish p;
    assert_int_equal(swPublishSelect(&p, t, res, 5), SW_OK);
    int64_t ms;
    uint64_t seq;
    assert_int_equal(swPublishStart(&p, 777, &cfg, &ms, &seq), SW_OK);
    swPublishSlot s;
    while (swPublishNext(&p, &s)) swPublishReport(&p, outcomeOf(&s));
    const swDelta *d = swPublishCommit(&p);
    swBuf b = {0};
    swDeltaEncode(&b, d);
    assert_false(swBufFailed(&b));
    swPublishFree(&p);
    swDelta dd;
    assert_int_equal(swDeltaCheck(copy, b.data, b.len, &dd, NULL), SW_OK);
    swDeltaCommit(copy, &dd);
    swDeltaRelease(&dd);
    assertTablesEqual(t, copy);
    assert_int_equal(t->rules[0]->hits, 1);
    assert_int_equal(t->clockMs, 777);
    swBufFree(&b);
    swTableFree(copy);
    swTableFree(t);
}

/* ---- Rejections and limits ---- */

static void test_reject_counts_and_hits_the_deny_rule(void **state) {
    (void)state;
    swTable *t = newTable();
    uint64_t id = DENY(t, "^bad");
    t->clockMs = 42;
    t->clockSeq = 7;
    swPublish p;
    const swDelta *d = swPublishReject(&p, t, swTableRule(t, id));
    assert_int_equal(d->inc.rejected, 1);
    assert_int_equal(d->inc.published, 0);
    assert_int_equal(d->clockMs, 42);
    assert_int_equal(d->clockSeq, 7);
    assert_int_equal(t->stats.rejected, 1);
    assert_int_equal(swTableRule(t, id)->hits, 1);
    d = swPublishReject(&p, t, NULL);
    assert_int_equal(d->nrules, 0);
    assert_int_equal(t->stats.rejected, 2);
    assert_int_equal(swTableRule(t, id)->hits, 1);
    swTableFree(t);
}

static void test_ids_used_up_leave_the_table_unchanged(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *r = swTableRoute(t, SUBJ(t, "x", "channel:a"));
    t->clockMs = SW_TABLE_CLOCK_MAX_MS;
    t->clockSeq = UINT64_MAX;
    swPublish p;
    assert_int_equal(swPublishSelect(&p, t, resolve(t, "x"), 5), SW_OK);
    int64_t ms = -1;
    uint64_t seq = 0;
    assert_int_equal(swPublishStart(&p, 5, &cfg, &ms, &seq), SW_ERR_LIMIT);
    assert_int_equal(ms, -1);
    assert_int_equal(t->clockSeq, UINT64_MAX);
    assert_int_equal(r->c.matched, 0);
    swPublishFree(&p);
    swTableFree(t);
}

/* Past SW_PUBLISH_STACK_ROUTES routes the plan takes one heap block: its failure leaves
 * the table as it was, and the sweep finds every allocation. */
static void test_allocation_failures(void **state) {
    (void)state;
    swTable *t = newTable();
    char target[32];
    for (int i = 0; i < 40; i++) {
        snprintf(target, sizeof(target), "channel:c%d", i % 30);
        addRoute(t, "x.>", target, SW_ROUTE_SUBJECT, 1 + i % 2, i < 30 ? 9 : 8);
    }
    const swResolution *res = resolve(t, "x.y");
    assert_int_equal(res->nroutes, 40);
    long failures = 0;
    for (long n = 0;; n++) {
        swPublish p;
        unitAllocFailAfter(n);
        swStatus st = swPublishSelect(&p, t, res, 1);
        long attempted = unitAllocCount();
        unitAllocFailAfter(-1);
        if (st == SW_ERR_NOMEM) {
            failures++;
            swPublishFree(&p); /* a no-op after a failure */
            assert_int_equal(t->stats.published, 0);
            continue;
        }
        assert_int_equal(st, SW_OK);
        assert_true(attempted <= n);
        /* Priority 1: the 20 routes whose range starts at 1, on 15 distinct targets. */
        size_t targets = 0;
        swPublishSlot s;
        for (size_t i = 0; i < swPublishSlots(&p); i++) targets += swPublishSlotAt(&p, i, &s);
        assert_int_equal(targets, 15);
        swPublishFree(&p);
        break;
    }
    assert_int_equal(failures, 1);
    Run r = publish(t, "x.y", 2, 9);
    assert_int_equal(r.inc.delivered, 30);
    assert_int_equal(t->stats.published, 1);
    swTableFree(t);
}

/* ---- Idempotent publishes ---- */

/* Runs a publish of "x" at now remembering msgid; returns its delta's encoded form. */
static void publishMsgid(swTable *t, const char *msgid, int64_t now, swBuf *out) {
    swPublish p;
    assert_int_equal(swPublishSelect(&p, t, resolve(t, "x"), 5), SW_OK);
    int64_t ms;
    uint64_t seq;
    assert_int_equal(swPublishStart(&p, now, &cfg, &ms, &seq), SW_OK);
    assert_int_equal(swPublishRemember(&p, msgid, strlen(msgid), 1000, 2), SW_OK);
    swPublishSlot s;
    while (swPublishNext(&p, &s)) swPublishReport(&p, outcomeOf(&s));
    const swDelta *d = swPublishCommit(&p);
    out->len = 0;
    swDeltaEncode(out, d);
    assert_false(swBufFailed(out));
    swPublishFree(&p);
}

/* Applies an encoded delta to t as a replica does. */
static void applyDelta(swTable *t, const swBuf *b) {
    swDelta d;
    swError err;
    swStatus st = swDeltaCheck(t, b->data, b->len, &d, &err);
    if (st != SW_OK) print_error("delta: %s\n", err.msg);
    assert_int_equal(st, SW_OK);
    swDeltaCommit(t, &d);
    swDeltaRelease(&d);
}

static void assertSameEncoding(const swTable *a, const swTable *b) {
    char *x, *y;
    size_t xl, yl;
    encode(a, &x, &xl);
    encode(b, &y, &yl);
    assertSameBytes(x, xl, y, yl);
    swFree(x);
    swFree(y);
}

/* A MSGID is remembered with the id it was accepted as, found until it expires, carried by
 * the delta so a replica holds the same window, and persisted by the codec. */
static void test_msgid_window_replicates_and_persists(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, "x", "channel:c");
    char *enc;
    size_t elen;
    encode(t, &enc, &elen);
    swTable *replica = decodeOk(enc, elen);
    swFree(enc);
    swBuf b = {0};
    publishMsgid(t, "m-1", 5000, &b);
    applyDelta(replica, &b);
    int64_t ms;
    uint64_t seq;
    assert_true(swPublishFindDuplicate(t, "m-1", 3, 5999, &ms, &seq));
    assert_int_equal(ms, 5000);
    assert_int_equal(seq, 0);
    assert_false(swPublishFindDuplicate(t, "m-1", 3, 6000, &ms, &seq)); /* expired */
    assert_false(swPublishFindDuplicate(t, "m-2", 3, 5000, &ms, &seq));
    assert_true(swPublishFindDuplicate(replica, "m-1", 3, 5999, &ms, &seq));
    assertSameEncoding(t, replica);

    /* A duplicate counts only as a duplicate, on both. */
    swPublish p;
    const swDelta *d = swPublishDuplicate(&p, t);
    b.len = 0;
    swDeltaEncode(&b, d);
    applyDelta(replica, &b);
    assert_int_equal(t->stats.duplicates, 1);
    assert_int_equal(t->stats.published, 1);
    assert_int_equal(replica->stats.duplicates, 1);

    /* The bound (2 here) forgets the oldest, on both; a later time expires the rest. */
    publishMsgid(t, "m-2", 5001, &b);
    applyDelta(replica, &b);
    publishMsgid(t, "m-3", 5002, &b);
    applyDelta(replica, &b);
    assert_int_equal(swTableDedupCount(t), 2);
    assert_false(swPublishFindDuplicate(t, "m-1", 3, 5002, &ms, &seq));
    assert_true(swPublishFindDuplicate(replica, "m-3", 3, 5002, &ms, &seq));
    assert_int_equal(seq, 0);
    assert_int_equal(ms, 5002);
    assertSameEncoding(t, replica);

    /* The codec keeps the window and the counter. */
    encode(t, &enc, &elen);
    swTable *loaded = decodeOk(enc, elen);
    swFree(enc);
    assert_int_equal(swTableDedupCount(loaded), 2);
    assert_int_equal(loaded->stats.duplicates, 1);
    assert_true(swPublishFindDuplicate(loaded, "m-2", 3, 5002, &ms, &seq));
    assert_int_equal(ms, 5001);
    assertSameEncoding(t, loaded);
    publishMsgid(t, "m-4", 7000, &b); /* m-2 and m-3 expired: forgotten */
    assert_int_equal(swTableDedupCount(t), 1);
    swBufFree(&b);
    swTableFree(loaded);
    swTableFree(replica);
    swTableFree(t);
}

/* Remembering allocates before anything is delivered, and the replica's check allocates
 * before anything changes: every failure leaves the table as it was. */
static void test_msgid_allocation_failures(void **state) {
    (void)state;
    swTable *t = newTable();
    SUBJ(t, "x", "channel:c");
    const swResolution *res = resolve(t, "x");
    long failures = 0;
    for (long n = 0;; n++) {
        swPublish p;
        assert_int_equal(swPublishSelect(&p, t, res, 5), SW_OK);
        int64_t ms;
        uint64_t seq;
        assert_int_equal(swPublishStart(&p, 10, &cfg, &ms, &seq), SW_OK);
        unitAllocFailAfter(n);
        swStatus st = swPublishRemember(&p, "abc", 3, 100, 10);
        unitAllocFailAfter(-1);
        if (st == SW_OK) {
            swPublishSlot s;
            while (swPublishNext(&p, &s)) swPublishReport(&p, SW_OUTCOME_OK);
            swPublishCommit(&p);
            swPublishFree(&p);
            break;
        }
        assert_int_equal(st, SW_ERR_NOMEM);
        failures++;
        swPublishFree(&p);
        assert_null(swTableDedup(t));
    }
    assert_true(failures >= 2); /* the window, the entry, the ring */
    assert_int_equal(swTableDedupCount(t), 1);

    /* The replica side: swDeltaCheck prepares the entry. */
    swTable *replica = newTable();
    SUBJ(replica, "x", "channel:c");
    swBuf b = {0};
    publishMsgid(t, "def", 20, &b);
    failures = 0;
    for (long n = 0;; n++) {
        swDelta d;
        unitAllocFailAfter(n);
        swStatus st = swDeltaCheck(replica, b.data, b.len, &d, NULL);
        unitAllocFailAfter(-1);
        if (st == SW_OK) {
            swDeltaCommit(replica, &d);
            swDeltaRelease(&d);
            break;
        }
        assert_int_equal(st, SW_ERR_NOMEM);
        failures++;
        assert_null(swTableDedup(replica));
    }
    assert_true(failures >= 3);
    int64_t ms;
    uint64_t seq;
    assert_true(swPublishFindDuplicate(replica, "def", 3, 20, &ms, &seq));
    /* Checked but released instead of committed: nothing changes, nothing leaks. */
    publishMsgid(t, "ghi", 30, &b);
    swDelta d;
    assert_int_equal(swDeltaCheck(replica, b.data, b.len, &d, NULL), SW_OK);
    swDeltaRelease(&d);
    assert_int_equal(swTableDedupCount(replica), 1);
    swBufFree(&b);
    swTableFree(replica);
    swTableFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_by_priority_dedups_targets_in_route_order),
        cmocka_unit_test(test_dead_letter),
        cmocka_unit_test(test_breaker_sheds_then_probes),
        cmocka_unit_test(test_probe_that_delivers_closes_the_breaker),
        cmocka_unit_test(test_shed_target_delivered_by_a_later_route),
        cmocka_unit_test(test_shared_target_outcome_counts_on_every_route),
        cmocka_unit_test(test_delta_reproduces_the_publish),
        cmocka_unit_test(test_reject_counts_and_hits_the_deny_rule),
        cmocka_unit_test(test_ids_used_up_leave_the_table_unchanged),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_msgid_window_replicates_and_persists),
        cmocka_unit_test(test_msgid_allocation_failures),
    };
    return cmocka_run_group_tests_name("publish", tests, unitAllocSetup, unitAllocTeardown);
}
