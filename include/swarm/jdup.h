/* jdup.h -- duplicate member names in a JSON text.
 *
 * RFC 8259 says member names SHOULD be unique and leaves a text that repeats one to each
 * parser: some keep the first value, most the last. A stored document must mean one thing to
 * every reader, so snapshots refuse such texts. swJsonDupCheck finds the repeats in one pass
 * over a text already accepted by swJsonValidate (json.h), without building a tree:
 *
 *   - names are compared as the strings they denote: "a" and "\u0061" are the same name;
 *   - each object's names are collected (offset and length) on one stack shared by every
 *     open object and checked when the object closes: pairwise for small objects, through
 *     a hash table (64-bit hashes of the decoded names) for wider ones, so a text of N bytes
 *     costs O(N);
 *   - names in different objects never clash: {"a":{"a":1}} is fine;
 *   - the first 32 names of the open objects, and the hash table of an object of up to 256
 *     names, live on the C stack: typical texts allocate nothing; others allocate with
 *     swAlloc/swRealloc and free before returning.
 *
 * Of several repeated names the one reported is the repeat that comes first in the text
 * (the second occurrence, so err->offset is where a reader's value would have been
 * overwritten). */
#ifndef SWARM_JDUP_H
#define SWARM_JDUP_H

#include <stddef.h>

#include "swarm/status.h"

/* How many bytes of a repeated name the error message quotes. */
#define SW_JSON_DUP_NAME_MAX 64

/* SW_OK when no object of buf[0..len) repeats a member name. Otherwise SW_ERR_PAYLOAD with
 * err (may be NULL) saying "duplicate member '<name>' at byte <n>": name as written in the
 * text (escapes left as they are), its first SW_JSON_DUP_NAME_MAX bytes at most (cut at a
 * character boundary, "..." appended when cut), n and err->offset the offset of the
 * repeat's opening quote. SW_ERR_NOMEM when an allocation failed ("out of memory").
 * buf must be a text swJsonValidate accepted; any other input is read within
 * buf[0..len) only and may give either answer. */
swStatus swJsonDupCheck(const char *buf, size_t len, swError *err);

#endif
