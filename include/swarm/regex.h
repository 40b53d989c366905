/* regex.h -- PCRE2 patterns for regex routes and ALLOW/DENY rules.
 *
 * A pattern is compiled once (JIT when the platform has it) and always matched against a
 * whole subject: it is anchored at both ends. Every byte PCRE2 allocates for a pattern
 * (compiled code, contexts, and while a match runs its match data and backtracking frames)
 * comes from the core allocator through the pattern's own PCRE2 general context and is
 * counted, so swRegexMemUsage is exact. JIT code pages are mmap'ed by PCRE2 itself and are
 * neither allocated through it nor counted.
 *
 * Matching is bounded three ways, so no pattern can stall the caller or grow its memory:
 * a match limit (backtracking steps), a depth limit (nested backtracking frames) and a heap
 * limit (bytes of backtracking frames, the one that bounds memory: a pattern with thousands
 * of capture groups makes each frame tens of kilobytes). The match data and its frames are
 * created for one match and freed before swRegexMatch returns: nothing grows and stays.
 * Hitting a limit is reported as its own result, never as a match or a non-match. */
#ifndef SWARM_REGEX_H
#define SWARM_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

typedef struct swRegex swRegex;

#define SW_REGEX_MATCH_LIMIT 100000
#define SW_REGEX_DEPTH_LIMIT 1000
/* Default heap limit of one match, in KiB (PCRE2's own default is 20 GB). A legitimate
 * rule needs a few hundred bytes per frame and at most SW_REGEX_DEPTH_LIMIT frames. */
#define SW_REGEX_HEAP_LIMIT_KB_DEFAULT 1024
/* The bounds a caller (the swarm.regex-heap-limit-kb config) may set. */
#define SW_REGEX_HEAP_LIMIT_KB_MIN 16
#define SW_REGEX_HEAP_LIMIT_KB_MAX (1024 * 1024)

/* What swRegexMatch returns. Every negative value means "could not decide": a caller must
 * never read it as a non-match (a DENY rule that hits a limit has to say so). */
typedef enum swRegexResult {
    SW_REGEX_MATCH = 1,
    SW_REGEX_NOMATCH = 0,
    SW_REGEX_LIMIT_MATCH = -1, /* the match limit (backtracking steps) */
    SW_REGEX_LIMIT_DEPTH = -2, /* the depth limit, or the JIT's stack */
    SW_REGEX_LIMIT_HEAP = -3,  /* the heap limit (swRegexSetHeapLimitKb) */
    SW_REGEX_NOMEM = -4,       /* an allocation failed */
    SW_REGEX_ERROR = -5,       /* any other PCRE2 error */
} swRegexResult;

/* Compiles pattern[0..len). On SW_ERR_REGEX, err holds
 * "invalid regex at offset N: <PCRE2's message>" and err->offset = N. *out is set only on
 * success; free it with swRegexFree. */
swStatus swRegexCompile(const char *pattern, size_t len, swRegex **out, swError *err);

/* Matches the whole subject: an swRegexResult. Allocates (and frees before returning) the
 * match data and frames, at most the heap limit of them. */
swRegexResult swRegexMatch(swRegex *re, const char *subject, size_t len);

/* 1 when r is one of the SW_REGEX_LIMIT_* results. */
int swRegexIsLimit(swRegexResult r);

/* A short English name of a negative result for error replies and logs: "the PCRE2 match
 * limit", "the PCRE2 depth limit", "the PCRE2 heap limit", "out of memory",
 * "a PCRE2 error"; "" for SW_REGEX_MATCH and SW_REGEX_NOMATCH. */
const char *swRegexResultText(swRegexResult r);

/* The heap limit of every later match, process-wide, in KiB, clamped to
 * [SW_REGEX_HEAP_LIMIT_KB_MIN, SW_REGEX_HEAP_LIMIT_KB_MAX]. Like the allocator table it is
 * not thread-safe: set it from the thread that matches (the glue's config setter). */
void swRegexSetHeapLimitKb(uint32_t kb);
uint32_t swRegexHeapLimitKb(void);

void swRegexFree(swRegex *re);

/* Heap bytes held by the compiled pattern between matches: the struct, its contexts and
 * compiled code, as the allocator table counts them. */
size_t swRegexMemUsage(const swRegex *re);

#endif
