/* jpatch.h -- JSON Patch (RFC 6902) applied to JSON text, plus the extension op "incr".
 *
 * Like the merge patch (jmerge.h), a patch is applied without building a tree: each op
 * locates its target with swJsonPointerLocateFlags (jpointer.h) and splices the text, so
 * every byte the ops do not touch is copied verbatim and numbers are never reformatted (only
 * the target of an incr is rewritten, as a plain decimal integer).
 *
 * Ops, applied in order to the result of the previous one:
 *   add      {"op":"add","path":P,"value":V}      object member set or added (added last),
 *                                                 array element inserted before index P or
 *                                                 appended with "-"; "" replaces the document
 *   remove   {"op":"remove","path":P}             P must exist and not be ""
 *   replace  {"op":"replace","path":P,"value":V}  P must exist
 *   move     {"op":"move","from":F,"path":P}      remove F, add its value at P; P must not
 *                                                 lie inside F; F == P changes nothing
 *   copy     {"op":"copy","from":F,"path":P}      add the value at F at P
 *   test     {"op":"test","path":P,"value":V}     P must hold a value equal to V (jindex.h
 *                                                 equality, numbers by value: 1 == 1.0)
 *   incr     {"op":"incr","path":P,"value":N}     P must hold an integer I and N be an
 *                                                 integer, both in int64; P becomes I + N,
 *                                                 which is also returned (a counter that
 *                                                 hands out tickets)
 * Members other than op, path, from and value are ignored (RFC 6902 section 4); one of these
 * four given twice is a BADOP (RFC 6902 appendix A.13). An integer is a JSON number without
 * fraction or exponent ("-0" is 0).
 *
 * All or nothing: the ops are checked for shape first (every BADOP is found before anything
 * is applied), then applied one by one; the first failure discards everything.
 *
 * Failures. The status picks the code word the glue puts in front of err->msg; the message
 * names the op by its index in the ops array (0-based) and err->offset is the op's byte
 * offset in the ops text:
 *   SW_ERR_PAYLOAD     ("PAYLOAD")    ops is not valid JSON or nests deeper than maxdepth
 *                                     ("invalid JSON at byte 7: expected ':'"), or an op
 *                                     would nest the document deeper than maxdepth ("op 1
 *                                     nests the document deeper than 128 levels")
 *   SW_ERR_BADOP       ("BADOP")      "ops must be a JSON array", "op 0 is not an object",
 *                                     "op 2 has no 'path'", "op 1 has an unknown op 'inc'",
 *                                     "op 0 has two 'op' members", "op 3 'path' is not a
 *                                     string", "op 0 has an invalid path: json pointer must
 *                                     be empty or start with '/'", "op 4 cannot remove the
 *                                     whole document", "op 2 moves '/a' into itself"
 *   SW_ERR_NOPATH      ("NOPATH")     "op 1 path '/a/b' does not exist", "op 3 from '/x'
 *                                     does not exist" (a missing parent, a scalar parent, a
 *                                     bad or out-of-range array index, a missing target for
 *                                     remove, replace, move, copy and incr)
 *   SW_ERR_TESTFAILED  ("TESTFAILED") "op 1 test failed at '/tasks/3/owner'" (the value
 *                                     differs or is missing)
 *   SW_ERR_TYPE        ("TYPE")       "op 0 incr target at '/n' is not an integer", "op 0
 *                                     incr value is not an integer", "op 0 incr overflows
 *                                     int64 at '/n'"
 *   SW_ERR_NOMEM
 * Pointers in messages are quoted as given, cut at 128 bytes, control bytes shown as '?'.
 *
 * The document is expected to be valid JSON (a stored snapshot); the ops text is validated
 * here. Neither input is modified. */
#ifndef SWARM_JPATCH_H
#define SWARM_JPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

/* What a successful swJsonPatchApply produced. Free with swJsonPatchResultFree. */
typedef struct swJsonPatchResult {
    char *doc; /* the patched document, NUL-terminated (not counted in len) */
    size_t len;
    int64_t *incr; /* the values the incr ops produced, in op order; NULL when none */
    size_t nincr;
    size_t ops;  /* how many ops were applied */
    int rewrote; /* the ops were applied the way that rewrites the document per op: they move
                  * or copy, or the one-buffer way failed (tests check it never does where
                  * that way succeeds) */
} swJsonPatchResult;

/* Applies the JSON Patch ops[0..opslen) to doc[0..len). maxdepth bounds the nesting of both
 * the ops document (as swJsonValidate's maxdepth) and the patched document. On SW_OK *res
 * holds the result (owned by the caller). On failure *res is zeroed, nothing is allocated,
 * and err (may be NULL) says why (see the top of this file). */
swStatus swJsonPatchApply(const char *doc, size_t len, const char *ops, size_t opslen, int maxdepth,
                          swJsonPatchResult *res, swError *err);

/* Frees what a result holds and zeroes it. A zeroed result is a no-op. */
void swJsonPatchResultFree(swJsonPatchResult *res);

#endif
