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

#endif
