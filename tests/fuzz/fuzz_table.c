/* fuzz_table.c -- libFuzzer target: the routing table codec (swTableDecode, swTableEncode).
 *
 * Inputs are serialized tables, as RDB, DUMP/RESTORE and SWARM.RESTORE carry them (the seeds
 * in corpus/table are real DUMP payloads with the RDB framing stripped). A table the decoder
 * accepts must round-trip to a fixed point and stand up to use (fuzz_codec.h). */
#include <stdint.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    swTable *t = NULL;
    swError err;
    err.msg[0] = '\0';
    swStatus st = swTableDecode((const char *)data, size, SW_TABLE_MAX_PATTERN, &t, &err);
    if (st != SW_OK) {
        FUZZ_CHECK(t == NULL, "a failed decode left a table");
        fuzzDecodeFailed(st, &err);
        return 0;
    }
    size_t len;
    swFree(fuzzTableRoundTrip(t, &len));
    fuzzTableUse(t);
    swTableFree(t);
    return 0;
}
