/* regex.h -- PCRE2 patterns for regex routes and ALLOW/DENY rules.
 *
 * A pattern is compiled once (JIT when the platform has it) and always matched against a
 * whole subject: it is anchored at both ends. Compilation and matching memory comes from
 * the core allocator through a PCRE2 general context (JIT code pages are mmap'ed by PCRE2
 * itself and are not seen by it). Matching runs under match and depth limits, so no pattern
 * can stall the caller; hitting a limit is reported as an error, not as a match. */
#ifndef SWARM_REGEX_H
#define SWARM_REGEX_H

#include <stddef.h>

#include "swarm/status.h"

typedef struct swRegex swRegex;

#define SW_REGEX_MATCH_LIMIT 100000
#define SW_REGEX_DEPTH_LIMIT 1000

/* Compiles pattern[0..len). On SW_ERR_REGEX, err holds
 * "invalid regex at offset N: <PCRE2's message>" and err->offset = N. *out is set only on
 * success; free it with swRegexFree. */
swStatus swRegexCompile(const char *pattern, size_t len, swRegex **out, swError *err);

/* 1 when the whole subject matches, 0 when it does not, negative on a PCRE2 error
 * (match or depth limit, out of memory). */
int swRegexMatch(swRegex *re, const char *subject, size_t len);

void swRegexFree(swRegex *re);

/* Heap bytes held by the compiled pattern (an estimate including PCRE2's code size). */
size_t swRegexMemUsage(const swRegex *re);

#endif
