/* fuzz_splice.c -- libFuzzer target: swSpliceDiff and the appliers (splice.h) on any two texts.
 *
 * Input: u16 little-endian k | base (k bytes, fewer when the input is shorter) | target (the
 * rest). The delta from base to target, and the one back, must pass swSpliceCheck, produce
 * the other text exactly through swSpliceApply and through the rope, keep its splices in
 * order at least 4 bytes apart, and start and end no splice on a byte both texts share
 * there (the diff trims such bytes and splits at common runs of 4 bytes or more). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/splice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void oneWay(const char *a, size_t alen, const char *b, size_t blen) {
    swBuf d = {0};
    swSpliceDiff(a, alen, b, blen, &d);
    FUZZ_CHECK(!swBufFailed(&d), "diff failed");
    const char *dp = d.len ? d.data : ""; /* an empty delta has no buffer */
    size_t tlen = 0;
    swError err;
    FUZZ_CHECK(swSpliceCheck(dp, d.len, alen, &tlen, &err) == SW_OK, "check: %s", err.msg);
    FUZZ_CHECK(tlen == blen, "length %zu, want %zu", tlen, blen);

    swBuf out = {0};
    swSpliceApply(dp, d.len, a, alen, &out);
    FUZZ_CHECK(!swBufFailed(&out) && out.len == blen && (blen == 0 || !memcmp(out.data, b, blen)),
               "apply differs from the target");
    swBufFree(&out);

    swSpliceRope r;
    FUZZ_CHECK(swSpliceRopeInit(&r, a, alen) == SW_OK, "rope init");
    FUZZ_CHECK(swSpliceRopeApply(&r, dp, d.len) == SW_OK, "rope apply");
    FUZZ_CHECK(swSpliceRopeLen(&r) == blen, "rope length");
    char *got = malloc(blen ? blen : 1);
    FUZZ_CHECK(got != NULL, "malloc");
    swSpliceRopeWrite(&r, got);
    FUZZ_CHECK(blen == 0 || !memcmp(got, b, blen), "rope differs from the target");
    free(got);
    swSpliceRopeFree(&r);

    swReader rd;
    size_t pos = 0, k = 0;
    swReaderInit(&rd, dp, d.len);
    while (!swReaderAtEnd(&rd)) {
        size_t gap = (size_t)swReadVarint(&rd), del = (size_t)swReadVarint(&rd);
        size_t n = (size_t)swReadVarint(&rd);
        const char *lit = swReadBytes(&rd, n);
        FUZZ_CHECK(k == 0 || gap >= 4, "splice %zu only %zu bytes after the previous one", k, gap);
        FUZZ_CHECK(del > 0 || n > 0, "empty splice %zu", k);
        pos += gap;
        if (del > 0 && n > 0) {
            FUZZ_CHECK(a[pos] != lit[0] && a[pos + del - 1] != lit[n - 1],
                       "splice %zu starts or ends on a common byte", k);
        }
        pos += del;
        k++;
    }
    swBufFree(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t k = (size_t)data[0] | (size_t)data[1] << 8;
    if (k > size - 2) k = size - 2;
    const char *a = (const char *)data + 2, *b = a + k;
    size_t blen = size - 2 - k;
    oneWay(a, k, b, blen);
    oneWay(b, blen, a, k);
    return 0;
}
