/* fuzz_codec.h -- checks shared by the codec fuzz targets (fuzz_table, fuzz_snapshot,
 * fuzz_delta): what every decoded routing table must satisfy, whatever bytes it came from.
 *
 * A failed check prints what broke and aborts, which libFuzzer reports as a crash with the
 * input saved; AddressSanitizer and UBSan (signed overflow included) abort on their own. */
#ifndef SWARM_FUZZ_CODEC_H
#define SWARM_FUZZ_CODEC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/breaker.h"
#include "swarm/publish.h"
#include "swarm/resolve.h"
#include "swarm/table.h"
#include "swarm/table_codec.h"

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A failed decode must say why with a code the glue knows, and create nothing. */
static inline void fuzzDecodeFailed(swStatus st, const swError *err) {
    FUZZ_CHECK(st == SW_ERR_CORRUPT || st == SW_ERR_NOMEM, "status %d", st);
    FUZZ_CHECK(err->msg[0] != '\0', "status %d without a message", st);
}

/* Encoding a decoded table and decoding that again must succeed and reach a fixed point:
 * whatever the decoder accepts, the encoder writes back the same way. Returns the encoding
 * (free with swFree). */
static inline char *fuzzTableRoundTrip(const swTable *t, size_t *len) {
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    FUZZ_CHECK(swTableEncode(t, &a, &alen) == SW_OK, "encode");
    swTable *u = NULL;
    swError err;
    err.msg[0] = '\0';
    swStatus st = swTableDecode(a, alen, SW_TABLE_MAX_PATTERN, &u, &err);
    FUZZ_CHECK(st == SW_OK, "re-decoding an encoded table: %d %s", st, err.msg);
    FUZZ_CHECK(swTableEncode(u, &b, &blen) == SW_OK, "encode");
    FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0, "encoding not stable (%zu, %zu bytes)",
               alen, blen);
    swFree(b);
    swTableFree(u);
    *len = alen;
    return a;
}

/* A type that a subject pattern matches: each '*' and a final '>' become "x". */
static inline char *fuzzTypeFor(const swRoute *r, size_t *len) {
    char *s = swAlloc(r->patternLen + 2);
    size_t n = 0;
    for (size_t i = 0; i < r->patternLen; i++) {
        char c = r->pattern[i];
        s[n++] = (c == '*' || c == '>') ? 'x' : c;
    }
    s[n] = '\0';
    *len = n;
    return s;
}

/* Uses a decoded table as the server would: resolves types (every subject route must match
 * a type made from its own pattern), attempts routes and issues ids, which must strictly
 * increase from the table's clock whatever it was decoded as. */
static inline void fuzzTableUse(swTable *t) {
    FUZZ_CHECK(swTableMemUsage(t) > 0, "memusage");
    for (size_t i = 0; i < t->nroutes && i < 16; i++) {
        swRoute *r = t->routes[i];
        if (r->kind != SW_ROUTE_SUBJECT) continue;
        size_t tlen;
        char *type = fuzzTypeFor(r, &tlen);
        const swResolution *res = NULL;
        if (swTableResolve(t, type, tlen, &res) == SW_OK) {
            int found = 0;
            for (size_t k = 0; k < res->nroutes; k++) found |= res->routes[k] == r;
            FUZZ_CHECK(found, "route %llu does not match '%.64s'", (unsigned long long)r->id, type);
        }
        swFree(type);
    }
    static const char *const types[] = {"task.done", "a", "agent.x.y.z", "x"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const swResolution *res = NULL;
        if (swTableResolve(t, types[i], strlen(types[i]), &res) == SW_OK) {
            swPublish p;
            if (swPublishSelect(&p, t, res, 5) == SW_OK) {
                FUZZ_CHECK(swPublishSlots(&p) <= res->nroutes + 1, "targets");
                swPublishFree(&p);
            }
        }
    }
    static const int64_t nows[] = {0, 1700000000000LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < t->nroutes && i < 16; i++) {
        for (size_t k = 0; k < sizeof(nows) / sizeof(nows[0]); k++) {
            swRouteAttempt(t->routes[i], 5, nows[k], 30000);
        }
    }
    for (size_t k = 0; k < sizeof(nows) / sizeof(nows[0]); k++) {
        int64_t prevMs = t->clockMs, ms;
        uint64_t prevSeq = t->clockSeq, seq;
        if (swTableNextId(t, nows[k], &ms, &seq) != SW_OK) {
            /* Every id used up: only at the clock's end, and nothing changed. */
            FUZZ_CHECK(prevMs == SW_TABLE_CLOCK_MAX_MS && prevSeq == UINT64_MAX &&
                           t->clockMs == prevMs && t->clockSeq == prevSeq,
                       "id clock refused at %lld-%llu", (long long)prevMs,
                       (unsigned long long)prevSeq);
            continue;
        }
        FUZZ_CHECK(ms > prevMs || (ms == prevMs && seq > prevSeq),
                   "id %lld-%llu not after %lld-%llu", (long long)ms, (unsigned long long)seq,
                   (long long)prevMs, (unsigned long long)prevSeq);
    }
}

#endif
