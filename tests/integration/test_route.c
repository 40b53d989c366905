/* test_route.c -- SWARM.ROUTE against a real redis-server. */
#include "harness.h"

#include <string.h>

static itServer srv;
static redisContext *c;

static int setup(void **state) {
    (void)state;
    itStart(&srv, NULL, NULL);
    c = itConnect(&srv);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    redisFree(c);
    itDestroy(&srv);
    return 0;
}

static void test_add_returns_ids_and_identical_route_is_idempotent(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t1 task.* channel:tasks"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t1 task.* channel:tasks"), 1);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD t1 task.* channel:tasks PRIORITY 8 9"), 2);
    itExpectStr(itCmd(c, "TYPE t1"), "swarm-rtb");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_returns_ids_and_identical_route_is_idempotent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
