/* regex.c -- PCRE2 wrapper (see regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "swarm/alloc.h"
#include "swarm/regex.h"

struct swRegex {
    pcre2_general_context *gctx;
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    int jit; /* JIT compilation succeeded */
    size_t codeSize;
};

static void *pcreAlloc(PCRE2_SIZE size, void *data) {
    (void)data;
    return swAlloc(size);
}

static void pcreFree(void *ptr, void *data) {
    (void)data;
    swFree(ptr);
}

void swRegexFree(swRegex *re) {
    if (re == NULL) return;
    pcre2_match_context_free(re->mctx);
    pcre2_match_data_free(re->md);
    pcre2_code_free(re->code);
    pcre2_general_context_free(re->gctx);
    swFree(re);
}

swStatus swRegexCompile(const char *pattern, size_t len, swRegex **out, swError *err) {
    swRegex *re = swCalloc(1, sizeof(*re));
    if (re == NULL) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    re->gctx = pcre2_general_context_create(pcreAlloc, pcreFree, NULL);
    if (re->gctx == NULL) goto nomem;

    pcre2_compile_context *cctx = pcre2_compile_context_create(re->gctx);
    if (cctx == NULL) goto nomem;
    int errcode;
    PCRE2_SIZE erroff;
    re->code = pcre2_compile((PCRE2_SPTR)pattern, len,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                             &errcode, &erroff, cctx);
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
    /* JIT is an optimisation: without it (no JIT support, no executable memory) the
     * interpreter gives the same answers. */
    re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
    re->md = pcre2_match_data_create_from_pattern(re->code, re->gctx);
    re->mctx = pcre2_match_context_create(re->gctx);
    if (re->md == NULL || re->mctx == NULL) goto nomem;
    pcre2_set_match_limit(re->mctx, SW_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, SW_REGEX_DEPTH_LIMIT);
    pcre2_pattern_info(re->code, PCRE2_INFO_SIZE, &re->codeSize);
    *out = re;
    return SW_OK;

nomem:
    swRegexFree(re);
    return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
}

int swRegexMatch(swRegex *re, const char *subject, size_t len) {
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md, re->mctx);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    return rc < 0 ? rc : -1;
}

size_t swRegexMemUsage(const swRegex *re) {
    return sizeof(*re) + re->codeSize + 256; /* contexts and match data */
}
