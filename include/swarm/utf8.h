/* utf8.h -- UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), for strings the module copies into JSON envelopes. */
#ifndef SWARM_UTF8_H
#define SWARM_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed sequence starting at s[i], or 0 when s[i] does not start
 * one within s[0..len). */
size_t swUtf8SeqLen(const char *s, size_t len, size_t i);

/* 1 when s[0..len) is well-formed; otherwise 0 and *bad (if not NULL) gets the offset of the
 * first byte that does not start a well-formed sequence. */
int swUtf8Valid(const char *s, size_t len, size_t *bad);

#endif
