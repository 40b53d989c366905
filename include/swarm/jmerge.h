/* jmerge.h -- JSON Merge Patch (RFC 7396) and the diff producing one, on JSON text.
 *
 * Values the patch does not touch are copied byte for byte; numbers are never reformatted.
 * Equality is that of jindex.h with numbers compared by text. Duplicate member names (legal
 * but not interoperable, RFC 8259 section 4): in a merge patch the last occurrence wins; in
 * a document every occurrence is patched alike. The round-trip guarantee of swJsonMergeDiff
 * holds only for documents without duplicate names.
 *
 * Functions that return a buffer allocate it with swAlloc; free it with swFree. The buffer
 * is NUL-terminated (the terminator is not counted in the length). On failure nothing is
 * allocated, *out is NULL and *outlen 0. No function modifies its input. Inputs are expected
 * to have passed swJsonValidate (json.h); recursion is bounded by SW_JSCAN_MAX_DEPTH nested
 * containers, deeper input fails with SW_ERR_PAYLOAD. */
#ifndef SWARM_JMERGE_H
#define SWARM_JMERGE_H

#include <stddef.h>

#include "swarm/status.h"

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
