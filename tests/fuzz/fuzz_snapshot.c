/* fuzz_snapshot.c -- libFuzzer target: the snapshot history codec (swSnapDecode,
 * swSnapEncode).
 *
 * Inputs are serialized histories (the seeds in corpus/snapshot are real DUMP payloads with
 * the RDB framing stripped). A history the decoder accepts must hold a version, number its
 * versions consecutively up to the head, round-trip to a fixed point and copy. */
#include <stdint.h>

#include "fuzz_codec.h"
#include "swarm/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encodeOrDie(const swSnap *s, size_t *len) {
    char *buf = NULL;
    FUZZ_CHECK(swSnapEncode(s, &buf, len) == SW_OK, "encode");
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    swSnap *s = NULL;
    swError err;
    err.msg[0] = '\0';
    swStatus st = swSnapDecode((const char *)data, size, &s, &err);
    if (st != SW_OK) {
        FUZZ_CHECK(s == NULL, "a failed decode left a history");
        fuzzDecodeFailed(st, &err);
        return 0;
    }
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    size_t count = swSnapCount(s);
    FUZZ_CHECK(count > 0 && count == info.retained, "count %zu retained %zu", count, info.retained);
    FUZZ_CHECK(info.head >= count && info.oldest == info.head - count + 1,
               "head %llu oldest %llu count %zu", (unsigned long long)info.head,
               (unsigned long long)info.oldest, count);
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
        const swSnapVersion *v = swSnapAt(s, i);
        FUZZ_CHECK(v != NULL && v->version == info.head - i, "version at %zu", i);
        FUZZ_CHECK(swSnapGet(s, v->version) == v, "get %llu", (unsigned long long)v->version);
        FUZZ_CHECK(v->text[v->len] == '\0', "text not terminated");
        bytes += v->len;
    }
    FUZZ_CHECK(bytes == info.bytes, "bytes %zu != %zu", bytes, info.bytes);
    /* Deltas make a history smaller than its documents' bytes; it holds the head and the
     * stored forms at least. */
    FUZZ_CHECK(swSnapMemUsage(s) >= swSnapHead(s)->len + 1 + swSnapStoredBytes(s),
               "memusage below the head and the stored bytes");

    size_t alen, blen;
    char *a = encodeOrDie(s, &alen);
    swSnap *u = NULL;
    st = swSnapDecode(a, alen, &u, &err);
    FUZZ_CHECK(st == SW_OK, "re-decoding an encoded history: %d %s", st, err.msg);
    char *b = encodeOrDie(u, &blen);
    FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0, "encoding not stable");
    swFree(b);
    swSnapFree(u);

    swSnap *d = swSnapDup(s);
    if (d != NULL) {
        b = encodeOrDie(d, &blen);
        FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0, "a copy encodes differently");
        swFree(b);
        swSnapFree(d);
    }
    swFree(a);
    swSnapFree(s);
    return 0;
}
