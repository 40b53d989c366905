/* regex.c -- PCRE2 wrapper (see regex.h).
 *
 * Each regex owns a general context whose allocator prefixes every block with its size, so
 * the regex knows to the byte what PCRE2 holds for it (re->bytes). The match data is not
 * kept between matches: PCRE2 10.41+ keeps the backtracking frames in the match data, so a
 * kept one would hold the largest frame vector any subject ever needed (hundreds of MB for
 * a pattern with thousands of capture groups). Creating it per match costs one small
 * allocation with the JIT, a few tens of nanoseconds. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>

#include "swarm/alloc.h"
#include "swarm/regex.h"

struct swRegex {
    pcre2_general_context *gctx;
    pcre2_code *code;
    pcre2_match_context *mctx;
    size_t bytes; /* live bytes allocated through gctx, headers included */
};

static uint32_t heapLimitKb = SW_REGEX_HEAP_LIMIT_KB_DEFAULT;

/* ---- Counting allocator ---- */

/* The block header keeps the payload aligned for any type. */
typedef union blockHeader {
    size_t size;
    max_align_t align;
} blockHeader;

static void *pcreAlloc(PCRE2_SIZE size, void *data) {
    swRegex *re = data;
    if (size > (size_t)-1 - sizeof(blockHeader)) return NULL;
    blockHeader *h = swAlloc(sizeof(*h) + size);
    if (h == NULL) return NULL;
    h->size = swAllocSize(h, sizeof(*h) + size);
    re->bytes += h->size;
    return h + 1;
}

static void pcreFree(void *ptr, void *data) {
    swRegex *re = data;
    if (ptr == NULL) return;
    blockHeader *h = (blockHeader *)ptr - 1;
    re->bytes -= h->size;
    swFree(h);
}

/* ---- Public API ---- */

void swRegexSetHeapLimitKb(uint32_t kb) {
    if (kb < SW_REGEX_HEAP_LIMIT_KB_MIN) kb = SW_REGEX_HEAP_LIMIT_KB_MIN;
    if (kb > SW_REGEX_HEAP_LIMIT_KB_MAX) kb = SW_REGEX_HEAP_LIMIT_KB_MAX;
    heapLimitKb = kb;
}

uint32_t swRegexHeapLimitKb(void) {
    return heapLimitKb;
}

void swRegexFree(swRegex *re) {
    if (re == NULL) return;
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    pcre2_general_context_free(re->gctx);
    swFree(re);
}

swStatus swRegexCompile(const char *pattern, size_t len, swRegex **out, swError *err) {
    swRegex *re = swCalloc(1, sizeof(*re));
    if (re == NULL) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    re->gctx = pcre2_general_context_create(pcreAlloc, pcreFree, re);
    if (re->gctx == NULL) goto nomem;

    pcre2_compile_context *cctx = pcre2_compile_context_create(re->gctx);
    if (cctx == NULL) goto nomem;
    int errcode;
    PCRE2_SIZE erroff;
    re->code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_ANCHORED | PCRE2_ENDANCHORED, &errcode,
                             &erroff, cctx);
    pcre2_compile_context_free(cctx);
    if (re->code == NULL) {
        /* Compile reports a failed allocation as a compile error code, not as the match
         * error PCRE2_ERROR_NOMEMORY; both mean out of memory, not a bad pattern. */
        if (errcode == PCRE2_ERROR_HEAP_FAILED || errcode == PCRE2_ERROR_NOMEMORY) goto nomem;
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0) msg[0] = '\0';
        swRegexFree(re);
        return swErrorSet(err, SW_ERR_REGEX, erroff, "invalid regex at offset %zu: %s",
                          (size_t)erroff, (const char *)msg);
    }
    /* JIT is an optimisation: without it (no JIT support, no executable memory, a pattern
     * too large for it) the interpreter gives the same answers under the same limits. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    re->mctx = pcre2_match_context_create(re->gctx);
    if (re->mctx == NULL) goto nomem;
    pcre2_set_match_limit(re->mctx, SW_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, SW_REGEX_DEPTH_LIMIT);
    *out = re;
    return SW_OK;

nomem:
    swRegexFree(re);
    return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
}

swRegexResult swRegexMatch(swRegex *re, const char *subject, size_t len) {
    /* One ovector pair: we ask "does it match", never for captures. The frames do not
     * depend on it: PCRE2 sizes them for every group of the pattern. */
    pcre2_match_data *md = pcre2_match_data_create(1, re->gctx);
    if (md == NULL) return SW_REGEX_NOMEM;
    pcre2_set_heap_limit(re->mctx, heapLimitKb);
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
    pcre2_match_data_free(md);
    if (rc >= 0) return SW_REGEX_MATCH; /* 0: matched, the ovector too small for groups */
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return SW_REGEX_NOMATCH;
    case PCRE2_ERROR_MATCHLIMIT:
        return SW_REGEX_LIMIT_MATCH;
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
        return SW_REGEX_LIMIT_DEPTH;
    case PCRE2_ERROR_HEAPLIMIT:
        return SW_REGEX_LIMIT_HEAP;
    case PCRE2_ERROR_NOMEMORY:
        return SW_REGEX_NOMEM;
    default:
        return SW_REGEX_ERROR;
    }
}

int swRegexIsLimit(swRegexResult r) {
    return r == SW_REGEX_LIMIT_MATCH || r == SW_REGEX_LIMIT_DEPTH || r == SW_REGEX_LIMIT_HEAP;
}

const char *swRegexResultText(swRegexResult r) {
    switch (r) {
    case SW_REGEX_MATCH:
    case SW_REGEX_NOMATCH:
        return "";
    case SW_REGEX_LIMIT_MATCH:
        return "the PCRE2 match limit";
    case SW_REGEX_LIMIT_DEPTH:
        return "the PCRE2 depth limit";
    case SW_REGEX_LIMIT_HEAP:
        return "the PCRE2 heap limit";
    case SW_REGEX_NOMEM:
        return "out of memory";
    default:
        return "a PCRE2 error";
    }
}

size_t swRegexMemUsage(const swRegex *re) {
    return swAllocSize((void *)re, sizeof(*re)) + re->bytes;
}
