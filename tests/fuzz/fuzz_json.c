/* fuzz_json.c -- libFuzzer target: swJsonValidate against cJSON.
 *
 * Every input is judged by both at the production depth limit (128) and at the hard cap
 * (SW_JSON_MAX_DEPTH, above cJSON's 1000); the run aborts when they disagree outside the
 * intended differences of include/swarm/json.h (classified by json_oracle.h, the same code
 * the unit test uses) or when an error breaks the offset contract. AddressSanitizer checks
 * that the validator never reads outside the input, which libFuzzer hands over in a buffer
 * of exactly the input's size with no terminator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "swarm/json.h"
#include "json_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzzCheck(const char *buf, size_t len, int maxdepth) {
    swError err;
    swStatus status;
    jsonOracleDiff diff = jsonOracleRun(buf, len, maxdepth, &status, &err);
    const char *broken;

    if (diff == JSON_UNEXPLAINED) {
        fprintf(stderr, "maxdepth %d: swJsonValidate %s (%s at %zu), cJSON disagrees\n", maxdepth,
                status == SW_OK ? "accepts" : "rejects", status == SW_OK ? "-" : err.msg,
                status == SW_OK ? (size_t)0 : err.offset);
        abort();
    }
    broken = status == SW_OK ? jsonOracleCheckAccepted(buf, len, maxdepth)
                             : jsonOracleCheckError(buf, len, maxdepth, &err);
    if (broken != NULL) {
        fprintf(stderr, "maxdepth %d: %s (%s at %zu)\n", maxdepth, broken,
                status == SW_OK ? "accepted" : err.msg, status == SW_OK ? (size_t)0 : err.offset);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzzCheck((const char *)data, size, 128);
    fuzzCheck((const char *)data, size, SW_JSON_MAX_DEPTH);
    return 0;
}
