/* test_breaker.c -- unit tests of the per-route circuit breaker (module/core/breaker.c). */
#include "table_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/breaker.h"
#include "swarm/table.h"

/* ---- Breaker ---- */

static void test_breaker(void **state) {
    (void)state;
    swTable *t = newTable();
    swRoute *r = swTableRoute(t, SUBJ(t, "task.*", "channel:a"));
    const uint32_t threshold = 3;
    const int64_t cooldown = 1000;
    int64_t now = 50000;
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* A success in the middle of a run resets it. */
    assert_true(swRouteAttempt(r, 5, now, cooldown));
    swRouteOutcome(r, 0, now, threshold);
    swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->failures, 2);
    swRouteOutcome(r, 1, now, threshold);
    assert_int_equal(r->failures, 0);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* threshold consecutive failures open it. */
    swRouteOutcome(r, 0, now++, threshold);
    swRouteOutcome(r, 0, now++, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);
    assert_true(swRouteAttempt(r, 1, now, cooldown));
    swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->failures, 3);
    const int64_t opened = now;
    assert_int_equal(r->openedMs, opened);

    /* Open: priorities below 8 skip it, 8 and 9 are attempted; no state change. */
    for (int p = 1; p <= 7; p++) assert_false(swRouteAttempt(r, p, opened + 10, cooldown));
    assert_true(swRouteAttempt(r, 8, opened + 10, cooldown));
    assert_true(swRouteAttempt(r, 9, opened + 10, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    /* A critical message failing through an open breaker does not extend the cooldown. */
    swRouteOutcome(r, 0, opened + 20, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, opened);
    assert_false(swRouteAttempt(r, 7, opened + cooldown - 1, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);

    /* After the cooldown the next message probes it: half-open. */
    assert_true(swRouteAttempt(r, 1, opened + cooldown, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);
    /* The probe succeeds: closed, run reset. */
    swRouteOutcome(r, 1, opened + cooldown, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);
    assert_int_equal(r->failures, 0);
    assert_true(swRouteAttempt(r, 1, opened + cooldown + 1, cooldown));

    /* Open it again; this time the probe fails: open again at once, new openedMs. */
    now = opened + 5000;
    for (uint32_t i = 0; i < threshold; i++) swRouteOutcome(r, 0, now, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, now);
    int64_t probeAt = now + cooldown + 250;
    assert_true(swRouteAttempt(r, 5, probeAt, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);
    swRouteOutcome(r, 0, probeAt, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, probeAt);
    assert_false(swRouteAttempt(r, 5, probeAt + 1, cooldown));
    assert_false(swRouteAttempt(r, 5, probeAt + cooldown - 1, cooldown));
    assert_true(swRouteAttempt(r, 9, probeAt + 1, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_true(swRouteAttempt(r, 5, probeAt + cooldown, cooldown));
    assert_int_equal(r->breaker, SW_BREAKER_HALF_OPEN);

    /* A critical message that gets through an open breaker closes it. */
    swRouteOutcome(r, 0, probeAt + cooldown, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_true(swRouteAttempt(r, 8, probeAt + cooldown + 1, cooldown));
    swRouteOutcome(r, 1, probeAt + cooldown + 1, threshold);
    assert_int_equal(r->breaker, SW_BREAKER_CLOSED);

    /* Threshold 1 opens on the first failure. */
    swRouteOutcome(r, 0, 7, 1);
    assert_int_equal(r->breaker, SW_BREAKER_OPEN);
    assert_int_equal(r->openedMs, 7);

    /* The failure count saturates. */
    r->failures = UINT32_MAX;
    r->breaker = SW_BREAKER_OPEN;
    swRouteOutcome(r, 0, 8, threshold);
    assert_int_equal(r->failures, UINT32_MAX);
    swTableFree(t);
}

/* Issue 9 item 3: the cooldown arithmetic takes any int64 values without overflow, and a
 * breaker opened "in the future" (the clock went back, a restored openedMs) is probed, not
 * left open forever. */
static void test_breaker_extreme_clocks(void **state) {
    (void)state;
    swRoute r;
    memset(&r, 0, sizeof(r));
    r.pmin = 1;
    r.pmax = 9;
    static const int64_t opened[] = {INT64_MIN, -1, 0, 1700000000000, INT64_MAX};
    static const int64_t nows[] = {INT64_MIN, 0, 1700000000000, INT64_MAX};
    for (size_t i = 0; i < sizeof(opened) / sizeof(opened[0]); i++) {
        for (size_t k = 0; k < sizeof(nows) / sizeof(nows[0]); k++) {
            r.breaker = SW_BREAKER_OPEN;
            r.openedMs = opened[i];
            /* Cooled down exactly when now - opened >= cooldown in exact arithmetic, or when
             * opened is after now. */
            int want =
                nows[k] < opened[i] || (long double)nows[k] - (long double)opened[i] >= 30000.0L;
            assert_int_equal(swRouteBreakerAt(&r, nows[k], 30000),
                             want ? SW_BREAKER_HALF_OPEN : SW_BREAKER_OPEN);
            assert_int_equal(r.breaker, SW_BREAKER_OPEN); /* BreakerAt changes nothing */
            assert_int_equal(swRouteAttempt(&r, 5, nows[k], 30000), want);
        }
    }
    /* Closed and half-open breakers are what they are. */
    r.breaker = SW_BREAKER_CLOSED;
    assert_int_equal(swRouteBreakerAt(&r, 0, 30000), SW_BREAKER_CLOSED);
    r.breaker = SW_BREAKER_HALF_OPEN;
    assert_int_equal(swRouteBreakerAt(&r, 0, 30000), SW_BREAKER_HALF_OPEN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_breaker_extreme_clocks),
        cmocka_unit_test(test_breaker),
    };
    return cmocka_run_group_tests_name("breaker", tests, unitAllocSetup, unitAllocTeardown);
}
