/* jpointer.h -- JSON Pointer (RFC 6901) on JSON text.
 *
 * A pointer is resolved by walking only the containers on its path, up to the member or
 * element it names: the document is never skipped as a whole first, and nothing is
 * allocated. A pointer selects the first occurrence of a duplicated member name. */
#ifndef SWARM_JPOINTER_H
#define SWARM_JPOINTER_H

#include <stddef.h>

#include "swarm/jscan.h"
#include "swarm/status.h"

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

/* SW_OK when ptr[0..ptrlen) is a well-formed pointer, else SW_ERR_SYNTAX with the message
 * and offset swJsonPointerGet would give. */
swStatus swJsonPointerCheck(const char *ptr, size_t ptrlen, swError *err);

/* Where a new member or element is written relative to insertAt. */
typedef enum swJsonSep {
    SW_JSON_SEP_NONE = 0, /* into an empty container: "<new>" */
    SW_JSON_SEP_BEFORE,   /* after the last member or element: ",<new>" */
    SW_JSON_SEP_AFTER,    /* before an existing element: "<new>," */
} swJsonSep;

/* A location in a document, as JSON Patch (RFC 6902) needs it: the value there if any, how
 * to cut it out, and where a new value would go. Plain data pointing into the document and
 * the pointer it was located with. */
typedef struct swJsonLoc {
    swJsonKind parent;     /* SW_JSON_OBJECT or SW_JSON_ARRAY; SW_JSON_INVALID: the document */
    int found;             /* the location holds a value */
    swJsonSpan value;      /* found: its span */
    size_t cutFrom, cutTo; /* found in a container: deleting doc[cutFrom, cutTo) removes it and
                            * one separator, leaving the container well-formed */
    size_t insertAt;       /* in a container: where a new member (objects: always last) or
                            * element (arrays: before the one at index, or last) goes */
    swJsonSep sep;         /* how the new text is separated at insertAt */
    size_t index;          /* arrays: the element's index (the element count for "-") */
    const char *token;     /* the last reference token, escaped as in the pointer */
    size_t toklen;
    size_t depth; /* reference tokens in the pointer: containers enclosing the value */
} swJsonLoc;

/* Locates ptr[0..ptrlen) in doc[0..len) for a write. Returns:
 *   SW_OK           the parent exists: a container holding the target (loc->found) or able
 *                   to receive it (an object without the member; an array where the index is
 *                   the element count or "-"); or ptr is "" (the document, found)
 *   SW_ERR_NOTFOUND the parent does not exist or is a scalar; the last token is not an index
 *                   of the array ("-", leading zeros, letters...) or lies past its end
 *   SW_ERR_SYNTAX   as swJsonPointerGet
 *   SW_ERR_PAYLOAD  doc is malformed along the path or in the parent container
 * A duplicated member name selects its first occurrence. Never allocates. */
swStatus swJsonPointerLocate(const char *doc, size_t len, const char *ptr, size_t ptrlen,
                             swJsonLoc *loc, swError *err);

/* What a locate walked through, for the next one to start where they part: the offsets of
 * the values the first prefixes of the parent's pointer selected, and where known, their
 * ends (a later walk that must skip one of them, or one enclosing it, scans only from there).
 * The caller zeroes it before the first use, keeps the last pointer located alive while it
 * is used, and, when the text changes, keeps only the entries whose value starts before the
 * first changed byte (a walk reads nothing past the value it ends at), moving each end by
 * the change when it lies after it and forgetting it (0) when the change reaches it. */
#define SW_JSON_MEMO_DEPTH 16
typedef struct swJsonPathMemo {
    const char *ptr;                 /* the pointer last located */
    size_t n;                        /* entries in use */
    size_t end[SW_JSON_MEMO_DEPTH];  /* entry k: the prefix ptr[0..end[k]) (k + 1 tokens) */
    size_t off[SW_JSON_MEMO_DEPTH];  /* and the offset of the value it selects */
    size_t vend[SW_JSON_MEMO_DEPTH]; /* just past that value when a locate measured it (its
                                      * parent's end was wanted), else 0 */
    swJsonSpan known; /* set by the caller: a value it just wrote, not skipped again when met
                       * (len 0: none) */
} swJsonPathMemo;

/* As swJsonPointerLocate, doing less where flags (SW_JSON_LOC_*) say a field is not needed,
 * and starting from what memo (may be NULL) recorded. */
swStatus swJsonPointerLocateFlags(const char *doc, size_t len, const char *ptr, size_t ptrlen,
                                  unsigned flags, swJsonPathMemo *memo, swJsonLoc *loc,
                                  swError *err);

/* Flags of swJsonPointerLocateFlags. FOUND_ONLY: insertAt and sep are not wanted when the
 * target is found (the scan stops at a found member instead of going on to the end of the
 * object), and index is not wanted for "-" (the array is skipped whole, not counted: index
 * is left 0). A document malformed after the target, which the full scan would report, may
 * then go unnoticed. */
#define SW_JSON_LOC_FOUND_ONLY 1u

/* Writes the member name that the reference token tok[0..toklen) (checked syntax) stands for
 * ("~1" -> '/', "~0" -> '~') into out (toklen bytes suffice) and returns its length. */
size_t swJsonPointerUnescape(const char *tok, size_t toklen, char *out);

#endif
