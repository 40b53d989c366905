/* jsontext.h -- JSON operations performed directly on JSON text (RFC 8259, UTF-8).
 *
 * The snapshot commands never build a tree: GET PATH, PATCH and DIFF work on the stored
 * text, locate values as byte spans and copy everything they do not touch verbatim. That
 * keeps a one-field PATCH of a large document at one linear scan plus a memcpy, and it keeps
 * numbers exact: a number is never converted to a double, so 9007199254740993 stays
 * 9007199254740993.
 *
 *   {"agents": [...80 KB...], "tasks": {"t-17": {"status": "open"}, ...}}
 *    ^^^^^^^^  ^^^^^^^^^^^^^^ member = key span + value span; a merge patch that only
 *    key span  value span     touches "tasks"/"t-17" copies the "agents" span as is
 *
 * Inputs are expected to have passed swJsonValidate (json.h) first. Nothing here
 * re-validates, but nothing reads outside [buf, buf + len) either: malformed input makes a
 * function fail with SW_ERR_PAYLOAD (or produce a meaningless span), never crash. Recursion
 * is bounded by SW_JSONTEXT_MAX_DEPTH nested containers; deeper input fails with
 * SW_ERR_PAYLOAD.
 *
 * Equality used by the merge operations:
 *   - object member names are compared by decoded value: "\u0041" names the member "A";
 *   - strings are compared by decoded value;
 *   - numbers are compared by their exact text: 1, 1.0 and 1e0 are different numbers to
 *     swJsonMergeDiff (the patch then carries the new text, so applying it reproduces the
 *     target byte for byte; comparing as doubles would lose 64-bit integers);
 *   - objects member-wise regardless of order, arrays element-wise.
 * Duplicate member names (legal but not interoperable, RFC 8259 section 4): in a merge patch
 * the last occurrence wins; in a document every occurrence is patched alike; a pointer
 * selects the first occurrence. The round-trip guarantee of swJsonMergeDiff holds only for
 * documents without duplicate names.
 *
 * Functions that return a buffer allocate it with swAlloc; free it with swFree. The buffer is
 * NUL-terminated (the terminator is not counted in the length). On failure nothing is
 * allocated, *out is NULL and *outlen 0. No function modifies its input. */
#ifndef SWARM_JSONTEXT_H
#define SWARM_JSONTEXT_H

#include <stddef.h>

#include "swarm/status.h"

/* Containers nested deeper than this make the recursive operations fail (SW_ERR_PAYLOAD).
 * Equal to the validator's hard cap (SW_JSON_MAX_DEPTH in json.h), so every document it
 * accepts fits. Each level costs under 1 KB of C stack, so the worst case stays below 1 MB
 * of the main thread's stack. */
#define SW_JSONTEXT_MAX_DEPTH 1024

/* A byte range [off, off + len) of a JSON text. String spans include their quotes. */
typedef struct swJsonSpan {
    size_t off;
    size_t len;
} swJsonSpan;

typedef enum swJsonKind {
    SW_JSON_INVALID = 0, /* not the first byte of a JSON value */
    SW_JSON_OBJECT,
    SW_JSON_ARRAY,
    SW_JSON_STRING,
    SW_JSON_NUMBER,
    SW_JSON_TRUE,
    SW_JSON_FALSE,
    SW_JSON_NULL,
} swJsonKind;

/* Cursor over the members of an object or the elements of an array. Plain data: copy it,
 * keep it on the stack, no cleanup. After the iteration ends (Next returned 0), pos is the
 * offset just past the closing bracket. */
typedef struct swJsonIter {
    const char *buf;
    size_t len;
    size_t pos;
    int state; /* internal */
} swJsonIter;

/* ---- Scanner ---- */

/* Whitespace is skipped with swJsonSkipWhitespace (json.h). */

/* The kind of the value whose first byte is at off (no whitespace skipping);
 * SW_JSON_INVALID when off >= len or the byte cannot start a value. */
swJsonKind swJsonKindAt(const char *buf, size_t len, size_t off);

/* Skips whitespace from off, then one value, and stores the value's span in *val (without
 * surrounding whitespace). SW_OK, or SW_ERR_PAYLOAD when the text ends early or a value
 * cannot start there. Containers are skipped by bracket counting, without recursion. */
swStatus swJsonSkipValue(const char *buf, size_t len, size_t off, swJsonSpan *val);

/* Starts iterating the object whose '{' is the first non-whitespace byte at or after off.
 * SW_OK, or SW_ERR_PAYLOAD when there is no '{' there. */
swStatus swJsonObjectBegin(swJsonIter *it, const char *buf, size_t len, size_t off);

/* The next member: 1 with *key (the name token, quotes included) and *val filled, 0 after
 * the last member, SW_ERR_PAYLOAD (negative) when the text is malformed. */
int swJsonObjectNext(swJsonIter *it, swJsonSpan *key, swJsonSpan *val);

/* As swJsonObjectBegin/Next, for an array: 1 with *val filled, 0 at the end, or
 * SW_ERR_PAYLOAD. */
swStatus swJsonArrayBegin(swJsonIter *it, const char *buf, size_t len, size_t off);
int swJsonArrayNext(swJsonIter *it, swJsonSpan *val);

/* 1 when the JSON string tokens a[0..alen) and b[0..blen) (quotes included) decode to the
 * same bytes, else 0. Byte-identical tokens are equal; otherwise a malformed token is equal
 * to nothing. Raw memcmp when neither holds a '\'. */
int swJsonStringEqual(const char *a, size_t alen, const char *b, size_t blen);

/* 1 when the JSON string token tok[0..toklen) (quotes included) decodes to s[0..slen);
 * 0 otherwise, and for a malformed token. */
int swJsonStringEqualBytes(const char *tok, size_t toklen, const char *s, size_t slen);

/* ---- JSON Pointer (RFC 6901) ---- */

/* Resolves the pointer ptr[0..ptrlen) (its string form: "" or "/a/0/b~1c", not the URI
 * fragment form) in doc[0..len). The empty pointer selects the whole document. "~0" and
 * "~1" are unescaped; an array index is "0" or a decimal without leading zeros; "-" never
 * matches. Returns:
 *   SW_OK           *off and *vlen hold the span of the value in doc (no surrounding whitespace)
 *   SW_ERR_NOTFOUND the pointer is well-formed but selects nothing
 *   SW_ERR_SYNTAX   the pointer is malformed (does not start with '/', or a '~' not followed
 *                   by '0' or '1'); err gets a message and the offending offset in ptr
 *   SW_ERR_PAYLOAD  doc is malformed along the path walked (only the containers on the path
 *                   are read, up to the member or element named, and the value found; damage
 *                   elsewhere is not looked for: validate documents first)
 * Never allocates. *off and *vlen are written only on SW_OK. */
swStatus swJsonPointerGet(const char *doc, size_t len, const char *ptr, size_t ptrlen, size_t *off,
                          size_t *vlen, swError *err);

/* ---- JSON Merge Patch (RFC 7396) ---- */

/* Applies the merge patch patch[0..plen) to doc[0..len) and returns the result in *out
 * (swAlloc'ed, NUL-terminated, free with swFree) and *outlen:
 *   - a patch that is not an object is the result (copied verbatim);
 *   - a doc that is not an object is treated as {} (and not looked at beyond its first
 *     byte);
 *   - a null member deletes the member; an object member merges recursively; any other
 *     member replaces the doc's value;
 *   - kept members stay in the doc's order, new members follow in the patch's order;
 *   - null members of an object the patch adds are dropped (the RFC's algorithm applies
 *     the new object as a patch to {}).
 * Values the patch does not touch are copied byte for byte (their inner whitespace
 * included); the whitespace between the members of a rewritten object is dropped.
 * SW_OK, SW_ERR_NOMEM, or SW_ERR_PAYLOAD (malformed or too deeply nested input; err gets a
 * message). Inputs are never modified; on failure *out is NULL and *outlen 0. */
swStatus swJsonMergePatch(const char *doc, size_t len, const char *patch, size_t plen, char **out,
                          size_t *outlen, swError *err);

/* Computes the merge patch P that turns a[0..alen) into b[0..blen), that is
 * swJsonMergePatch(a, P) equals b (as JSON values, under the equality above), and returns it
 * in *out and *outlen (swAlloc'ed, NUL-terminated, free with swFree).
 *   - when b is an object and a an object, P holds only what differs: removed members as
 *     null, changed ones with b's value (objects recursively), new ones; equal documents
 *     give "{}";
 *   - when b is not an object, P is b itself (the only patch producing a non-object);
 *   - when b is an object and a is not, P is b (a is not looked at beyond its first byte).
 * A changed array is sent whole: merge patch has no way to address its elements.
 * What merge patch cannot express: a member whose value is null in b, unless a holds the
 * same member with a null value at the same place (reached through objects only). A patch
 * can delete a member but never set one to null, and an object it introduces loses its null
 * members. Nulls inside arrays are fine (arrays are replaced whole). In that case the result
 * is SW_ERR_RANGE and err says which member, e.g. "merge patch cannot set '/a/b' to null"
 * (offset: the null's byte offset in b).
 * Other results: SW_OK, SW_ERR_NOMEM, SW_ERR_PAYLOAD (malformed or too deeply nested
 * input). Inputs are never modified; on failure *out is NULL and *outlen 0. */
swStatus swJsonMergeDiff(const char *a, size_t alen, const char *b, size_t blen, char **out,
                         size_t *outlen, swError *err);

#endif
