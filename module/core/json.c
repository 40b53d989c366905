/* json.c -- the strict, allocation-free JSON validator (see json.h for the contract).
 *
 * One non-recursive state machine, jsonScan, walks the text with a pointer p that never
 * passes end: every dereference is preceded by a bounds check, so the input needs no
 * terminator and may hold NUL bytes. Nesting lives in a bit-stack on the C stack:
 *
 *   stack[d / 64] bit (d % 64) == 1   <=>   level d + 1 is an object (0: an array)
 *
 * and inObject caches the innermost level so the hot path never reads the stack; a level's
 * bit is written when it is entered and read only when the level above it is closed.
 *
 *   value:  a value starts at p (after optional whitespace)
 *   next:   a value just ended at p; the innermost container says what may follow
 *   key:    p is at the opening quote of an object key
 *
 * Errors report the first byte that cannot continue an acceptable text (json.h), so every
 * check below fails at the byte it looked at, and running out of input is always
 * "unexpected end of input" at len. Error paths are out of line and marked cold so the
 * hot loops stay small. */
#include <stdint.h>
#include <string.h>

#include "swarm/json.h"
#include "swarm/utf8.h"

#if defined(__GNUC__)
#define SW_JSON_INLINE inline __attribute__((always_inline))
#define SW_JSON_COLD __attribute__((cold, noinline))
#else
#define SW_JSON_INLINE inline
#define SW_JSON_COLD
#endif

/* In a little-endian word the first byte of interest in a chunk is found with one
 * count-trailing-zeros. Elsewhere the portable byte loops do the same work. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SW_JSON_LE 1
#else
#define SW_JSON_LE 0
#endif

#define SW_JSON_ONES UINT64_C(0x0101010101010101)
#define SW_JSON_HIGHS UINT64_C(0x8080808080808080)

/* ---- Errors (cold) ---- */

static SW_JSON_COLD swStatus jsonFail(swError *err, const unsigned char *buf,
                                      const unsigned char *at, const char *msg) {
    return swErrorSet(err, SW_ERR_PAYLOAD, (size_t)(at - buf), "%s", msg);
}

/* The same for helpers that return the position after what they consumed. */
static SW_JSON_COLD const unsigned char *jsonFailAt(swError *err, const unsigned char *buf,
                                                    const unsigned char *at, const char *msg) {
    jsonFail(err, buf, at, msg);
    return NULL;
}

/* Where a value was due: name what was expected, or the byte order mark if that is what
 * is in the way. Only whitespace lies between the previous token and p. */
static SW_JSON_COLD swStatus jsonValueError(swError *err, const unsigned char *buf,
                                            const unsigned char *start, const unsigned char *p,
                                            const unsigned char *end) {
    const unsigned char *q = p;

    if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        return jsonFail(err, buf, p, "unexpected byte order mark");
    }
    while (q > start && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' || q[-1] == '\r')) q--;
    if (q > start && q[-1] == '[') return jsonFail(err, buf, p, "expected a JSON value or ']'");
    return jsonFail(err, buf, p, "expected a JSON value");
}

/* ---- Lexical pieces (hot, inlined) ---- */

static SW_JSON_INLINE uint64_t jsonLoad64(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* High bit set in each byte of w that a string body must stop at: '"', '\\', a byte below
 * 0x20 or one at or above 0x80. Each subtraction can only wrap (and borrow into the next
 * byte) at a byte that is itself flagged, so the lowest flagged byte is always exact;
 * flags above it may be spurious, which is harmless since scanning stops at the lowest. */
static SW_JSON_INLINE uint64_t jsonStringStops(uint64_t w) {
    uint64_t quote = w ^ (SW_JSON_ONES * '"');
    uint64_t bslash = w ^ (SW_JSON_ONES * '\\');
    return ((quote - SW_JSON_ONES) | (bslash - SW_JSON_ONES) | (w - SW_JSON_ONES * 0x20) | w) &
           SW_JSON_HIGHS;
}

static SW_JSON_INLINE int jsonIsWs(unsigned c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* A byte a string body holds as it is: not '"', '\\', a control character or non-ASCII. */
static SW_JSON_INLINE int jsonIsPlain(unsigned c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static SW_JSON_INLINE int jsonIsDigit(unsigned c) {
    return c - '0' < 10u;
}

/* Whitespace from p on; pretty-printed text has a newline and then a run of spaces. */
static const unsigned char *jsonSkipWsRun(const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        if (*p == ' ' && end - p >= 8) {
            /* A nonzero byte of other is the first byte that is not a space. */
            uint64_t other = jsonLoad64(p) ^ (SW_JSON_ONES * ' ');
            if (other == 0) {
                p += 8;
                continue;
            }
#if SW_JSON_LE
            p += (unsigned)__builtin_ctzll(other) >> 3;
            continue;
#endif
        }
        if (!jsonIsWs(*p)) break;
        p++;
    }
    return p;
}

static SW_JSON_INLINE const unsigned char *jsonSkipWs(const unsigned char *p,
                                                      const unsigned char *end) {
    /* Minified text has no whitespace at all: one compare and out. */
    if (p < end && p[0] > ' ') return p;
    return jsonSkipWsRun(p, end);
}

/* The four hex digits of a \u escape at p; returns the code unit or -1 after filling err. */
static long jsonHex4(swError *err, const unsigned char *buf, const unsigned char *p,
                     const unsigned char *end) {
    unsigned unit;
    size_t n = swJsonHex4((const char *)p, (size_t)(end - p), &unit);
    if (n == 4) return (long)unit;
    if (p + n == end) {
        jsonFail(err, buf, end, "unexpected end of input");
    } else {
        jsonFail(err, buf, p + n, "invalid \\u escape");
    }
    return -1;
}

/* p is at a backslash inside a string; returns the position after the escape (after both
 * halves of a surrogate pair) or NULL after filling err. */
static const unsigned char *jsonEscape(swError *err, const unsigned char *buf,
                                       const unsigned char *p, const unsigned char *end) {
    const unsigned char *q;
    long unit;

    if (end - p < 2) return jsonFailAt(err, buf, end, "unexpected end of input");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return jsonFailAt(err, buf, p + 1, "invalid escape");
    }
    unit = jsonHex4(err, buf, p + 2, end);
    if (unit < 0) return NULL;
    if (unit < 0xD800 || unit > 0xDFFF) return p + 6;
    if (unit >= 0xDC00) return jsonFailAt(err, buf, p, "unpaired surrogate escape");

    /* A high surrogate: only an escaped low surrogate may follow. */
    q = p + 6;
    if (q == end) return jsonFailAt(err, buf, end, "unexpected end of input");
    if (q[0] != '\\') return jsonFailAt(err, buf, p, "unpaired surrogate escape");
    if (q + 1 == end) return jsonFailAt(err, buf, end, "unexpected end of input");
    if (q[1] != 'u') return jsonFailAt(err, buf, p, "unpaired surrogate escape");
    unit = jsonHex4(err, buf, q + 2, end);
    if (unit < 0) return NULL;
    if (unit < 0xDC00 || unit > 0xDFFF) {
        return jsonFailAt(err, buf, p, "unpaired surrogate escape");
    }
    return q + 6;
}

/* p is at a byte >= 0x80 inside a string: one multi-byte sequence (utf8.h). Returns the
 * position after it or NULL after filling err. */
static const unsigned char *jsonUtf8(swError *err, const unsigned char *buf, const unsigned char *p,
                                     const unsigned char *end) {
    swUtf8Fault fault;
    size_t at;
    size_t n = swUtf8Check((const char *)p, (size_t)(end - p), 0, &fault, &at);
    if (n > 0) return p + n;
    switch (fault) {
    case SW_UTF8_END:
        return jsonFailAt(err, buf, end, "unexpected end of input");
    case SW_UTF8_TRUNCATED:
        return jsonFailAt(err, buf, p + at, "truncated UTF-8 sequence");
    default:
        return jsonFailAt(err, buf, p + at, "invalid UTF-8 byte");
    }
}

/* p is just past an opening quote; returns the position just past the closing quote or
 * NULL after filling err. */
static SW_JSON_INLINE const unsigned char *jsonString(swError *err, const unsigned char *buf,
                                                      const unsigned char *p,
                                                      const unsigned char *end) {
    for (;;) {
        unsigned c;

        if (end - p >= 8) {
            uint64_t stops = jsonStringStops(jsonLoad64(p));
            if (stops == 0) {
                p += 8;
                continue;
            }
#if SW_JSON_LE
            p += (unsigned)__builtin_ctzll(stops) >> 3;
#else
            while (jsonIsPlain(*p)) p++;
#endif
        } else {
            /* The last few bytes of the input. */
            while (p < end && jsonIsPlain(*p)) p++;
            if (p == end) return jsonFailAt(err, buf, end, "unexpected end of input");
        }

        c = *p;
        if (c == '"') return p + 1;
        if (c == '\\') {
            p = jsonEscape(err, buf, p, end);
        } else if (c >= 0x80) {
            const unsigned char *q = swUtf8SkipMultibyte(p, end);
            if (q != p) {
                p = q;
                continue;
            }
            p = jsonUtf8(err, buf, p, end);
        } else {
            return jsonFailAt(err, buf, p, "control character in string");
        }
        if (p == NULL) return NULL;
    }
}

/* p is at '-' or a digit; returns the position just past the number or NULL. */
static SW_JSON_INLINE const unsigned char *jsonNumber(swError *err, const unsigned char *buf,
                                                      const unsigned char *p,
                                                      const unsigned char *end) {
    if (*p == '-' && ++p == end) goto eof;
    if (*p == '0') {
        if (++p < end && jsonIsDigit(*p)) goto invalid; /* a leading zero */
    } else if (jsonIsDigit(*p)) {
        do p++;
        while (p < end && jsonIsDigit(*p));
    } else {
        goto invalid;
    }
    if (p < end && *p == '.') {
        if (++p == end) goto eof;
        if (!jsonIsDigit(*p)) goto invalid;
        do p++;
        while (p < end && jsonIsDigit(*p));
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p == end) goto eof;
        if ((*p == '+' || *p == '-') && ++p == end) goto eof;
        if (!jsonIsDigit(*p)) goto invalid;
        do p++;
        while (p < end && jsonIsDigit(*p));
    }
    return p;

eof:
    return jsonFailAt(err, buf, end, "unexpected end of input");
invalid:
    return jsonFailAt(err, buf, p, "invalid number");
}

/* p is at the first letter of lit (n bytes); msg names it for the error. */
static SW_JSON_INLINE const unsigned char *jsonLiteral(swError *err, const unsigned char *buf,
                                                       const unsigned char *p,
                                                       const unsigned char *end, const char *lit,
                                                       size_t n, const char *msg) {
    size_t i;

    if ((size_t)(end - p) >= n && memcmp(p, lit, n) == 0) return p + n;
    for (i = 1; p + i < end && p[i] == (unsigned char)lit[i]; i++) continue;
    if (p + i == end) return jsonFailAt(err, buf, end, "unexpected end of input");
    return jsonFailAt(err, buf, p + i, msg);
}

/* ---- The state machine ---- */

/* One value starting at buf[pos] after optional whitespace; *endOut gets the offset just
 * past it. pos <= len. */
static swStatus jsonScan(const unsigned char *buf, size_t len, size_t pos, int maxdepth,
                         size_t *endOut, swError *err) {
    const unsigned char *const start = buf + pos;
    const unsigned char *const end = buf + len;
    const unsigned char *p = start;
    uint64_t stack[SW_JSON_MAX_DEPTH / 64];
    int limit = maxdepth < 0 ? 0 : maxdepth > SW_JSON_MAX_DEPTH ? SW_JSON_MAX_DEPTH : maxdepth;
    int depth = 0;
    int inObject = 0;

value:
    p = jsonSkipWs(p, end);
    if (p == end) goto eof;
    switch (*p) {
    case '"':
        p = jsonString(err, buf, p + 1, end);
        if (p == NULL) return SW_ERR_PAYLOAD;
        break;
    case '{':
    case '[':
        if (depth == limit) {
            return swErrorSet(err, SW_ERR_PAYLOAD, (size_t)(p - buf), "nesting deeper than %d",
                              limit);
        }
        inObject = *p == '{';
        /* A word's bit 0 is assigned whole, so no stack word is read before written. */
        if ((depth & 63) == 0) {
            stack[depth >> 6] = (uint64_t)inObject;
        } else if (inObject) {
            stack[depth >> 6] |= (uint64_t)1 << (depth & 63);
        } else {
            stack[depth >> 6] &= ~((uint64_t)1 << (depth & 63));
        }
        depth++;
        p = jsonSkipWs(p + 1, end);
        if (p == end) goto eof;
        if (*p == (inObject ? '}' : ']')) {
            p++;
            goto close;
        }
        if (!inObject) goto value;
        if (*p != '"') return jsonFail(err, buf, p, "expected '\"' or '}'");
        goto key;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        p = jsonNumber(err, buf, p, end);
        if (p == NULL) return SW_ERR_PAYLOAD;
        break;
    case 't':
        p = jsonLiteral(err, buf, p, end, "true", 4, "expected 'true'");
        if (p == NULL) return SW_ERR_PAYLOAD;
        break;
    case 'f':
        p = jsonLiteral(err, buf, p, end, "false", 5, "expected 'false'");
        if (p == NULL) return SW_ERR_PAYLOAD;
        break;
    case 'n':
        p = jsonLiteral(err, buf, p, end, "null", 4, "expected 'null'");
        if (p == NULL) return SW_ERR_PAYLOAD;
        break;
    default:
        return jsonValueError(err, buf, start, p, end);
    }

next:
    if (depth == 0) {
        *endOut = (size_t)(p - buf);
        return SW_OK;
    }
    p = jsonSkipWs(p, end);
    if (p == end) goto eof;
    if (*p == ',') {
        if (!inObject) {
            p++;
            goto value;
        }
        p = jsonSkipWs(p + 1, end);
        if (p == end) goto eof;
        if (*p != '"') return jsonFail(err, buf, p, "expected '\"'");
        goto key;
    }
    if (*p == (inObject ? '}' : ']')) {
        p++;
        goto close;
    }
    return jsonFail(err, buf, p, inObject ? "expected ',' or '}'" : "expected ',' or ']'");

close: /* the container at level depth just ended */
    depth--;
    inObject = depth > 0 && (stack[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1);
    goto next;

key:
    p = jsonString(err, buf, p + 1, end);
    if (p == NULL) return SW_ERR_PAYLOAD;
    p = jsonSkipWs(p, end);
    if (p == end) goto eof;
    if (*p != ':') return jsonFail(err, buf, p, "expected ':'");
    p++;
    goto value;

eof:
    return jsonFail(err, buf, end, "unexpected end of input");
}

/* ---- Public API ---- */

swStatus swJsonValidate(const char *buf, size_t len, int maxdepth, swError *err) {
    const unsigned char *b = (const unsigned char *)buf;
    size_t pos, end = 0;
    swStatus status;

    if (len == 0) return swErrorSet(err, SW_ERR_PAYLOAD, 0, "empty input");
    pos = swJsonSkipWhitespace(buf, len, 0);
    if (pos == len) return swErrorSet(err, SW_ERR_PAYLOAD, len, "empty input");
    status = jsonScan(b, len, pos, maxdepth, &end, err);
    if (status != SW_OK) return status;
    pos = swJsonSkipWhitespace(buf, len, end);
    if (pos != len) {
        return swErrorSet(err, SW_ERR_PAYLOAD, pos, "unexpected data after the JSON text");
    }
    return SW_OK;
}

swStatus swJsonScanValue(const char *buf, size_t len, size_t pos, int maxdepth, size_t *end,
                         swError *err) {
    if (pos >= len) return swErrorSet(err, SW_ERR_PAYLOAD, len, "unexpected end of input");
    return jsonScan((const unsigned char *)buf, len, pos, maxdepth, end, err);
}

size_t swJsonSkipWhitespace(const char *buf, size_t len, size_t pos) {
    const unsigned char *b = (const unsigned char *)buf;

    if (pos >= len) return len;
    return (size_t)(jsonSkipWs(b + pos, b + len) - b);
}
