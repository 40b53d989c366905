/* jindex.h -- the member index of a JSON object, and deep equality of JSON values, on text.
 *
 * Equality (used by the merge diff and by the JSON Patch "test" op):
 *   - object member names are compared by decoded value: "\u0041" names the member "A";
 *   - strings are compared by decoded value;
 *   - numbers are compared by their exact text by default: 1, 1.0 and 1e0 differ (the merge
 *     diff then carries the new text, so applying it reproduces the target byte for byte;
 *     comparing as doubles would lose 64-bit integers); with SW_JSON_EQ_NUMERIC they are
 *     compared by exact decimal value (RFC 6902 section 4.6), still without doubles;
 *   - objects member-wise regardless of order, arrays element-wise.
 * Duplicate member names (legal but not interoperable, RFC 8259 section 4): in the index
 * the last occurrence counts; swJsonValueEqual compares every member of a with b's last
 * member of that name.
 *
 * Inputs are expected to have passed swJsonValidate (json.h); nothing here reads outside the
 * buffers, and malformed text fails with SW_ERR_PAYLOAD. */
#ifndef SWARM_JINDEX_H
#define SWARM_JINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/jscan.h"
#include "swarm/status.h"

/* ---- Object index ---- */

#define SW_JSON_INDEX_INLINE 8
#define SW_JSON_MEMBER_USED 1u     /* free for the caller: e.g. "matched" */
#define SW_JSON_MEMBER_SHADOWED 2u /* a later member has the same name: the later one counts */
#define SW_JSON_MEMBER_ESCAPED 4u  /* the name holds a backslash */
#define SW_JSON_NOT_FOUND SIZE_MAX

typedef struct swJsonMember {
    swJsonSpan key, val;
    uint64_t hash;
    unsigned flags;
} swJsonMember;

/* The members of one object, in document order. Lives on the stack; free with
 * swJsonIndexFree (which releases what a large object needed on the heap). */
typedef struct swJsonIndex {
    const char *buf;
    swJsonMember *m; /* inl, or a heap array when the object has more than INDEX_INLINE */
    size_t n, cap;
    size_t canonical; /* members not shadowed */
    size_t *slots;    /* open addressing over m: index + 1, 0 is empty; NULL when n small */
    size_t mask;
    size_t end; /* just past the object's '}' */
    swJsonMember inl[SW_JSON_INDEX_INLINE];
} swJsonIndex;

/* Indexes the members of the object whose '{' is the first non-whitespace byte at or after
 * off in buf. SW_OK, SW_ERR_NOMEM, or SW_ERR_PAYLOAD (no object there, or malformed; err is
 * not set: the caller names the offset). On failure nothing is left to free. */
swStatus swJsonIndexBuild(swJsonIndex *idx, const char *buf, size_t len, size_t off);

/* The index in idx->m of the last member named like key (a name token in keybuf, quotes
 * included), or SW_JSON_NOT_FOUND. */
size_t swJsonIndexFind(const swJsonIndex *idx, const char *keybuf, swJsonSpan key);

void swJsonIndexFree(swJsonIndex *idx);

/* ---- Equality ---- */

#define SW_JSON_EQ_NUMERIC 1u /* numbers by value (RFC 6902), not by text */

/* 1 when the number tokens a and b (validated grammar) have the same decimal value: 1, 1.0,
 * 10e-1 and 0.1e1 are equal; 0 and -0 are equal. Exact, whatever the number of digits
 * (exponents beyond 10^14 are compared as text). */
int swJsonNumberEqual(const char *a, size_t alen, const char *b, size_t blen);

/* *eq = 1 when value va of a[0..alen) equals value vb of b[0..blen) under the equality above
 * (flags: 0 or SW_JSON_EQ_NUMERIC). depth is the nesting level of va and vb (0 at the top);
 * containers beyond SW_JSCAN_MAX_DEPTH fail. SW_OK, SW_ERR_NOMEM, or SW_ERR_PAYLOAD (with
 * err set). */
swStatus swJsonValueEqual(const char *a, size_t alen, swJsonSpan va, const char *b, size_t blen,
                          swJsonSpan vb, unsigned flags, int depth, int *eq, swError *err);

#endif
