/* jscan.h -- scanning JSON text (RFC 8259, UTF-8) without building a tree.
 *
 * The snapshot commands never build a tree: GET PATH, PATCH, EDIT and DIFF work on the
 * stored text, locate values as byte spans and copy everything they do not touch verbatim.
 * That keeps a one-field change of a large document at one linear scan plus a memcpy, and it
 * keeps numbers exact: a number is never converted to a double, so 9007199254740993 stays
 * 9007199254740993.
 *
 *   {"agents": [...80 KB...], "tasks": {"t-17": {"status": "open"}, ...}}
 *    ^^^^^^^^  ^^^^^^^^^^^^^^ member = key span + value span; an operation that only
 *    key span  value span     touches "tasks"/"t-17" copies the "agents" span as is
 *
 * This unit is the bottom layer: value kinds and spans, skipping a value, iterating the
 * members of an object or the elements of an array, decoding and comparing strings. The
 * layers above: jindex.h (object member index, deep equality), jpointer.h (RFC 6901),
 * jmerge.h (RFC 7396 merge patch and diff), jpatch.h (RFC 6902 JSON Patch).
 *
 * Inputs are expected to have passed swJsonValidate (json.h) first. Nothing here
 * re-validates, but nothing reads outside [buf, buf + len) either: malformed input makes a
 * function fail with SW_ERR_PAYLOAD (or produce a meaningless span), never crash. Nothing
 * here allocates. */
#ifndef SWARM_JSCAN_H
#define SWARM_JSCAN_H

#include <stddef.h>

#include "swarm/status.h"

/* Containers nested deeper than this make the recursive operations above this unit fail
 * (SW_ERR_PAYLOAD). Equal to the validator's hard cap (SW_JSON_MAX_DEPTH in json.h), so
 * every document it accepts fits. Each level costs under 1 KB of C stack, so the worst case
 * stays below 1 MB of the main thread's stack. */
#define SW_JSCAN_MAX_DEPTH 1024

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

/* Iterator states (internal to jscan.c; exposed so iterators can live on the stack). */
enum {
    SW_JSON_ITER_FIRST = 0,
    SW_JSON_ITER_NEXT = 1,
    SW_JSON_ITER_DONE = 2,
    SW_JSON_ITER_ERROR = 3,
};

/* Cursor over the members of an object or the elements of an array. Plain data: copy it,
 * keep it on the stack, no cleanup. After the iteration ends (Next returned 0), pos is the
 * offset just past the closing bracket. */
typedef struct swJsonIter {
    const char *buf;
    size_t len;
    size_t pos;
    int state; /* SW_JSON_ITER_* */
} swJsonIter;

/* ---- Values ---- */

/* Whitespace is skipped with swJsonSkipWhitespace (json.h). */

/* The kind of the value whose first byte is at off (no whitespace skipping);
 * SW_JSON_INVALID when off >= len or the byte cannot start a value. */
swJsonKind swJsonKindAt(const char *buf, size_t len, size_t off);

/* Skips whitespace from off, then one value, and stores the value's span in *val (without
 * surrounding whitespace). SW_OK, or SW_ERR_PAYLOAD when the text ends early or a value
 * cannot start there. Containers are skipped by bracket counting, without recursion. */
swStatus swJsonSkipValue(const char *buf, size_t len, size_t off, swJsonSpan *val);

/* The top-level value of buf[0..len) in *v, which must be followed by nothing but
 * whitespace. SW_OK, or SW_ERR_PAYLOAD with err set (swJsonMalformed's message). */
swStatus swJsonTopValue(const char *buf, size_t len, swJsonSpan *v, swError *err);

/* How deep the value v of a valid text nests: "[[1]]" is 2, "{}" 1, a scalar 0. */
size_t swJsonDepthOf(const char *buf, swJsonSpan v);

/* pos lies between tokens inside levels open containers: stores the offset just past the
 * bracket that closes the outermost of them (levels 0: pos). SW_ERR_PAYLOAD when the text
 * ends first. */
swStatus swJsonSkipOut(const char *buf, size_t len, size_t pos, size_t levels, size_t *end);

/* ---- Iteration ---- */

/* Starts iterating the object whose '{' is the first non-whitespace byte at or after off.
 * SW_OK, or SW_ERR_PAYLOAD when there is no '{' there. */
swStatus swJsonObjectBegin(swJsonIter *it, const char *buf, size_t len, size_t off);

/* The next member: 1 with *key (the name token, quotes included) and *val filled, 0 after
 * the last member, SW_ERR_PAYLOAD (negative) when the text is malformed. */
int swJsonObjectNext(swJsonIter *it, swJsonSpan *key, swJsonSpan *val);

/* The next member in two steps, for walks that descend into a value without skipping it
 * first: NextKey returns 1 with *key filled and it->pos at the value's first byte, 0 at the
 * end, negative when malformed. Before asking for the next member the caller either calls
 * SkipValue (SW_OK with the value's span, or SW_ERR_PAYLOAD) or walks the value itself and
 * calls swJsonIterResume with the offset just past it. */
int swJsonObjectNextKey(swJsonIter *it, swJsonSpan *key);
swStatus swJsonObjectSkipValue(swJsonIter *it, swJsonSpan *val);
void swJsonIterResume(swJsonIter *it, size_t pos);

/* Looks for the first member of the object at off (its '{' the first non-whitespace byte)
 * whose name decodes to name[0..namelen), in one tight pass. Returns 1 when found: *key is
 * its name token, *val its value (skipFound 0: only val->off is set, the value is not
 * skipped), *prevEnd the offset just past the previous member's value (0: it is the first).
 * Returns 0 when there is none: *prevEnd is just past the last member's value (0: the object
 * is empty) and val->off is the offset of the closing '}'. SW_ERR_PAYLOAD (negative) when
 * the text is malformed along the way. known (may be NULL) is the span of a value already
 * measured, which is then not skipped again. */
int swJsonObjectFind(const char *buf, size_t len, size_t off, const char *name, size_t namelen,
                     int skipFound, const swJsonSpan *known, swJsonSpan *key, swJsonSpan *val,
                     size_t *prevEnd);

/* As swJsonObjectBegin/Next, for an array: 1 with *val filled, 0 at the end, or
 * SW_ERR_PAYLOAD. */
swStatus swJsonArrayBegin(swJsonIter *it, const char *buf, size_t len, size_t off);
int swJsonArrayNext(swJsonIter *it, swJsonSpan *val);

/* 1 once an iterator met malformed text (every later Next fails too). */
int swJsonIterFailed(const swJsonIter *it);

/* ---- Strings ---- */

/* Streams the decoded bytes of a string's contents (between the quotes). Plain data. */
typedef struct swJsonStrDecoder {
    const unsigned char *p, *end;
    unsigned char pending[4];
    unsigned npending, ipending;
} swJsonStrDecoder;

void swJsonStrDecoderInit(swJsonStrDecoder *d, const char *contents, size_t n);

/* The next decoded byte; -1 at the end; -2 on a malformed escape. A surrogate pair becomes
 * one 4-byte UTF-8 sequence; a lone surrogate is encoded as its 3-byte form, so equal
 * escapes still compare equal. */
int swJsonStrDecoderNext(swJsonStrDecoder *d);

/* 1 when the JSON string tokens a[0..alen) and b[0..blen) (quotes included) decode to the
 * same bytes, else 0. Byte-identical tokens are equal; otherwise a malformed token is equal
 * to nothing. Raw memcmp when neither holds a '\'. */
int swJsonStringEqual(const char *a, size_t alen, const char *b, size_t blen);

/* 1 when the JSON string token tok[0..toklen) (quotes included) decodes to s[0..slen);
 * 0 otherwise, and for a malformed token. */
int swJsonStringEqualBytes(const char *tok, size_t toklen, const char *s, size_t slen);

/* As the two above, on string contents (the bytes between the quotes). */
int swJsonContentsEqual(const char *a, size_t alen, const char *b, size_t blen);
int swJsonContentsEqualBytes(const char *c, size_t n, const char *s, size_t slen);

/* ---- Errors shared by the text operations ---- */

/* SW_ERR_PAYLOAD with "malformed json at byte <off>" in err. */
swStatus swJsonMalformed(swError *err, size_t off);

/* SW_ERR_PAYLOAD with "json nested deeper than <SW_JSCAN_MAX_DEPTH> levels at byte <off>". */
swStatus swJsonTooDeep(swError *err, size_t off);

#endif
