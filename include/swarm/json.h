/* json.h -- strict, allocation-free JSON validation.
 *
 * swJsonValidate answers one question on the hot path of SWARM.PUBLISH and SWARM.SNAPSHOT
 * SAVE: is buf[0..len) exactly one JSON text (RFC 8259) in valid UTF-8? It builds no tree,
 * allocates nothing, does not recurse (nesting is tracked in a fixed bit-stack on the C
 * stack, one bit per level: object or array) and never reads outside buf[0..len): buf need
 * not be NUL-terminated and may contain NUL bytes. Bodies of strings are scanned eight bytes
 * at a time, so plain ASCII runs at memory speed.
 *
 * What is accepted:
 *   - one value (object, array, string, number, true, false, null) with optional
 *     whitespace (space, tab, LF, CR) before and after it, nothing else (no BOM);
 *   - numbers exactly per the RFC grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
 *     of any length (no range check: 1e999 is a valid JSON number);
 *   - strings of well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates
 *     U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequences), no raw byte below
 *     0x20 (a raw NUL included), escapes exactly \" \\ \/ \b \f \n \r \t \uXXXX;
 *   - \u escapes of UTF-16 surrogates only as a high surrogate (D800..DBFF) immediately
 *     followed by an escaped low surrogate (DC00..DFFF). An unpaired surrogate escape is
 *     REJECTED, although the RFC 8259 grammar allows it: it names no character (RFC 8259
 *     section 8.2 leaves its meaning unpredictable, I-JSON RFC 7493 forbids it), and the
 *     cJSON used elsewhere in the module rejects it, so every text accepted here with
 *     maxdepth <= 1000 can be parsed by cJSON (see the differences below);
 *   - nesting (arrays plus objects) at most maxdepth levels: "[[1]]" has depth 2, a scalar
 *     depth 0. maxdepth < 0 counts as 0 (scalars only) and maxdepth > SW_JSON_MAX_DEPTH as
 *     SW_JSON_MAX_DEPTH.
 *
 * Errors: SW_ERR_PAYLOAD, and err (when not NULL) receives a lowercase message and a byte
 * offset. The offset is the first byte at which the input stops being the beginning of an
 * acceptable text, so buf[0..offset) is always such a beginning; "unexpected end of input"
 * has offset len. One exception: an unpaired surrogate escape is reported at the backslash
 * that starts it. The messages:
 *
 *   empty input                          nothing but whitespace (offset len)
 *   unexpected end of input              the text is truncated (offset len)
 *   unexpected data after the JSON text  something follows the value
 *   unexpected byte order mark           EF BB BF where a value should start
 *   expected a JSON value                also: expected a JSON value or ']'
 *   expected '"' or '}'                  after '{'; expected '"' after ',' in an object
 *   expected ':'
 *   expected ',' or '}'                  also: expected ',' or ']'
 *   expected 'true'                      also 'false', 'null': a misspelt literal
 *   invalid number                       leading zero, missing digits, ...
 *   control character in string          a raw byte below 0x20
 *   invalid escape                       the byte after a backslash
 *   invalid \u escape                    a non-hex digit in \uXXXX
 *   unpaired surrogate escape
 *   invalid UTF-8 byte                   bad lead, overlong, surrogate, > U+10FFFF
 *   truncated UTF-8 sequence             ASCII or a lead byte where a continuation was due
 *   nesting deeper than <n>
 *
 * Intended differences from cJSON 1.7.15 as shipped by Debian 12 (libcjson1
 * 1.7.15-1+deb12u4, which carries the CVE-2023-26819 fix, so numbers of any length parse
 * there too), with cJSON's verdict taken as "cJSON_ParseWithLengthOpts(buf, len, &end, 0)
 * succeeds and only whitespace follows end". tests/fuzz/json_oracle.h classifies them and
 * both the unit test and the fuzz target assert that every disagreement is one of these:
 *
 *   cJSON accepts, swJsonValidate rejects:
 *     1. raw control characters (bytes 0x00-0x1F) inside strings;
 *     2. invalid or truncated UTF-8 inside strings (cJSON copies string bytes verbatim);
 *     3. \u escapes with non-hex digits ("\uZZZZ" silently becomes U+0000);
 *     4. numbers with leading zeros ("01", "-00.5"), an empty fraction ("1.", "1.e5") or
 *        no integer digits after a minus ("-.5"): cJSON hands the token to strtod;
 *     5. a UTF-8 byte order mark at offset 0 (cJSON skips it when len >= 5);
 *     6. bytes 0x00-0x1F other than tab, LF and CR between tokens (cJSON's whitespace is
 *        every byte <= 0x20);
 *     7. nesting deeper than maxdepth when maxdepth < 1000 (cJSON's CJSON_NESTING_LIMIT).
 *   swJsonValidate accepts, cJSON rejects:
 *     8. nesting of 1001 to SW_JSON_MAX_DEPTH levels when maxdepth allows it.
 *   Both reject unpaired surrogate escapes and both accept numbers of any length and range.
 */
#ifndef SWARM_JSON_H
#define SWARM_JSON_H

#include <stddef.h>

#include "swarm/status.h"

/* The hard nesting cap: larger maxdepth values are treated as this. */
#define SW_JSON_MAX_DEPTH 1024

/* Returns SW_OK when buf[0..len) is exactly one JSON text as described above, else
 * SW_ERR_PAYLOAD with err (may be NULL) holding the message and offset. buf may be NULL
 * only when len is 0. Allocates nothing; reads nothing outside buf[0..len). */
swStatus swJsonValidate(const char *buf, size_t len, int maxdepth, swError *err);

/* Validates exactly one JSON value starting at buf[pos] after optional whitespace and
 * stores in *end the offset just past it; nothing after the value is examined, so
 * "1]" and "[1] x" pass with *end 1 and 3. Same rules, depth limit and errors as
 * swJsonValidate except that an input holding only whitespace gives "unexpected end of
 * input"; error offsets count from buf, not from pos. On failure *end is unchanged.
 * Requires pos <= len. Meant for walking the members of an already validated text (a
 * string key is a value too) without building a tree. */
swStatus swJsonScanValue(const char *buf, size_t len, size_t pos, int maxdepth, size_t *end,
                         swError *err);

/* The offset of the first byte at or after pos that is not JSON whitespace (space, tab, LF,
 * CR), or len when there is none. Requires pos <= len. */
size_t swJsonSkipWhitespace(const char *buf, size_t len, size_t pos);

/* ---- Hex digits of \uXXXX escapes (the one hex decoder of the core) ---- */

/* The value of the hex digit c (either case), or -1. */
static inline int swJsonHexDigit(unsigned c) {
    if (c - '0' < 10u) return (int)(c - '0');
    c |= 0x20; /* ASCII lower case; maps no non-letter onto 'a'..'f' */
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    return -1;
}

/* Decodes the four hex digits at p[0..avail) into *unit. Returns 4 on success; otherwise
 * how many hex digits came before the first non-hex byte or the end of p (0..3), and *unit
 * is unchanged. */
static inline size_t swJsonHex4(const char *p, size_t avail, unsigned *unit) {
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int d = i < avail ? swJsonHexDigit((unsigned char)p[i]) : -1;
        if (d < 0) return i;
        v = v << 4 | (unsigned)d;
    }
    *unit = v;
    return 4;
}

#endif
