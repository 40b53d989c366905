/* fuzz_delta.c -- libFuzzer target: the publish delta decoder (swDeltaCheck, then swDeltaCommit),
 * which replicas and AOF loading run on what SWARM.APPLY carries.
 *
 * Input: u32 little-endian n | n bytes of a serialized table | the delta. When the table
 * part does not decode, the delta is applied to a fixed table (routes 1-3, rules 4-5), so
 * most inputs reach the delta decoder. A delta that fails leaves the table byte for byte
 * unchanged; one that applies leaves a table that still encodes, decodes and stands up to
 * use (fuzz_codec.h). */
#include <stdint.h>

#include "fuzz_codec.h"
#include "swarm/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static swTable *fixedTable(void) {
    swTable *t = swTableNew();
    uint64_t id;
    int created;
    FUZZ_CHECK(t != NULL, "new");
    FUZZ_CHECK(swTableAddRoute(t, "task.*", 6, "channel:tasks", 13, SW_ROUTE_SUBJECT, 1, 9, 256,
                               &id, &created, NULL) == SW_OK,
               "route");
    FUZZ_CHECK(swTableAddRoute(t, "task.>", 6, "stream:log", 10, SW_ROUTE_SUBJECT, 5, 9, 256, &id,
                               &created, NULL) == SW_OK,
               "route");
    FUZZ_CHECK(swTableAddRoute(t, "agent\\..*", 9, "channel:agents", 14, SW_ROUTE_REGEX, 1, 9, 256,
                               &id, &created, NULL) == SW_OK,
               "route");
    FUZZ_CHECK(swTableAddRule(t, SW_RULE_ALLOW, "task\\..*|agent\\..*", 18, &id, &created, NULL) ==
                   SW_OK,
               "rule");
    FUZZ_CHECK(swTableAddRule(t, SW_RULE_DENY, "task\\.secret", 12, &id, &created, NULL) == SW_OK,
               "rule");
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    swTable *t = NULL;
    if (size >= 4) {
        uint32_t n = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
        if (n <= size - 4) {
            swError err;
            if (swTableDecode(p + 4, n, SW_TABLE_MAX_PATTERN, &t, &err) == SW_OK) {
                p += 4 + n;
                size -= 4 + (size_t)n;
            }
        }
    }
    if (t == NULL) t = fixedTable();

    size_t beforeLen, afterLen;
    char *before = fuzzTableRoundTrip(t, &beforeLen);
    swError err;
    err.msg[0] = '\0';
    swDelta d;
    swStatus st = swDeltaCheck(t, p, size, &d, &err);
    if (st == SW_OK) {
        swDeltaCommit(t, &d);
        swDeltaRelease(&d);
    }
    if (st != SW_OK) {
        fuzzDecodeFailed(st, &err);
        char *after = NULL;
        FUZZ_CHECK(swTableEncode(t, &after, &afterLen) == SW_OK, "encode");
        FUZZ_CHECK(afterLen == beforeLen && memcmp(before, after, afterLen) == 0,
                   "a refused delta changed the table");
        swFree(after);
    } else {
        swFree(fuzzTableRoundTrip(t, &afterLen));
        fuzzTableUse(t);
    }
    swFree(before);
    swTableFree(t);
    return 0;
}
