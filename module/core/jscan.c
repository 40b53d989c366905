/* jscan.c -- scanning JSON text without a tree (see jscan.h).
 *
 * Invariants:
 *   - every read is bounds-checked against the buffer length, whatever the input;
 *   - containers are skipped by bracket counting (no recursion), jumping from one quote,
 *     backslash or bracket to the next 16 bytes at a time (SSE2; 8 with 64-bit words
 *     elsewhere): the text is validated, so nothing else needs looking at;
 *   - a string's escapes are decoded lazily, one byte at a time, only when two names or
 *     values must be compared and one of them holds a backslash. */
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "swarm/json.h"
#include "swarm/jscan.h"

/* ---- Scanner ---- */

/* Bytes that matter when skipping the inside of a container. */
static const unsigned char structural[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
};

/* Bytes a number token is made of (the validator has checked the grammar). */
static const unsigned char numberByte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['+'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1,
};

/* swJsonSkipWhitespace without a call when there is none (minified text). */
static inline size_t skipWs(const char *buf, size_t len, size_t off) {
    if (off < len && (unsigned char)buf[off] > ' ') return off;
    return swJsonSkipWhitespace(buf, len, off);
}

swJsonKind swJsonKindAt(const char *buf, size_t len, size_t off) {
    if (off >= len) return SW_JSON_INVALID;
    switch (buf[off]) {
    case '{':
        return SW_JSON_OBJECT;
    case '[':
        return SW_JSON_ARRAY;
    case '"':
        return SW_JSON_STRING;
    case 't':
        return SW_JSON_TRUE;
    case 'f':
        return SW_JSON_FALSE;
    case 'n':
        return SW_JSON_NULL;
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
        return SW_JSON_NUMBER;
    default:
        return SW_JSON_INVALID;
    }
}

/* Bytes that end a plain run inside a string. */
static const unsigned char stringStop[256] = {['"'] = 1, ['\\'] = 1};

/* The first offset in [p, len) holding a '"' or a '\\', or len. 16 bytes at a time with
 * SSE2, 8 with plain 64-bit words elsewhere, then byte by byte for the last few. */
static inline size_t findStringStop(const unsigned char *b, size_t p, size_t len) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    while (len - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        if (m != 0) return p + (size_t)__builtin_ctz(m);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (len - p >= 8) {
        uint64_t w, q, s;
        memcpy(&w, b + p, 8);
        q = w ^ (ones * '"');
        s = w ^ (ones * '\\');
        /* Nonzero exactly when q or s has a zero byte, i.e. the word holds a stop. */
        uint64_t z = ((q - ones) & ~q & highs) | ((s - ones) & ~s & highs);
        if (z != 0) break; /* the byte loop below finds it */
        p += 8;
    }
#endif
    while (p < len && !stringStop[b[p]]) p++;
    return p;
}

/* The first offset in [p, len) holding a byte that matters between the tokens of a
 * container ('"', '{', '}', '[', ']'), or len. */
static inline size_t findStructural(const unsigned char *b, size_t p, size_t len) {
#if defined(__SSE2__)
    /* '[' and ']' are '{' and '}' without the 0x20 bit, and no other byte becomes either
     * when that bit is set. */
    const __m128i quote = _mm_set1_epi8('"'), open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}'),
                  bit = _mm_set1_epi8(0x20);
    while (len - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        __m128i f = _mm_or_si128(v, bit);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                   _mm_or_si128(_mm_cmpeq_epi8(f, open), _mm_cmpeq_epi8(f, close)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m != 0) return p + (size_t)__builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < len && !structural[b[p]]) p++;
    return p;
}

/* buf[i] is an opening quote. Stores the offset just past the closing quote in *end. */
static inline int skipString(const char *buf, size_t len, size_t i, size_t *end) {
    const unsigned char *b = (const unsigned char *)buf;
    size_t p = i + 1;
    for (;;) {
        p = findStringStop(b, p, len);
        if (p >= len) return -1;
        if (b[p] == '"') {
            *end = p + 1;
            return 0;
        }
        p += 2; /* the byte after a backslash cannot end the string */
        if (p > len) return -1;
    }
}

/* From i, between tokens inside depth open containers (0: buf[i] is the '{' or '[' that opens
 * one), to just past the bracket that closes the outermost. Counts brackets outside strings;
 * does not check that they pair up ('[' closed by '}'), which the validator has done.
 * Nothing between the stops (quotes, brackets) is looked at, and strings are skipped by
 * their quotes and backslashes only. */
static int skipNested(const char *buf, size_t len, size_t i, size_t depth, size_t *end) {
    const unsigned char *p = (const unsigned char *)buf;
    while (i < len) {
        i = findStructural(p, i, len);
        if (i >= len) return -1;
        unsigned char c = p[i++];
        if (c == '"') {
            size_t e;
            if (skipString(buf, len, i - 1, &e) < 0) return -1;
            i = e;
        } else if (c == '{' || c == '[') {
            depth++;
        } else {
            if (depth == 0) return -1;
            if (--depth == 0) {
                *end = i;
                return 0;
            }
        }
    }
    return -1;
}

static int skipContainer(const char *buf, size_t len, size_t i, size_t *end) {
    return skipNested(buf, len, i, 0, end);
}

size_t swJsonDepthOf(const char *buf, swJsonSpan v) {
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = v.off, end = v.off + v.len, depth = 0, max = 0;
    while ((i = findStructural(p, i, end)) < end) {
        unsigned char c = p[i];
        if (c == '"') {
            if (skipString(buf, end, i, &i) < 0) break;
        } else if (c == '{' || c == '[') {
            i++;
            if (++depth > max) max = depth;
        } else {
            i++;
            if (depth > 0) depth--;
        }
    }
    return max;
}

swStatus swJsonSkipOut(const char *buf, size_t len, size_t pos, size_t levels, size_t *end) {
    if (levels == 0) {
        *end = pos;
        return SW_OK;
    }
    return skipNested(buf, len, pos, levels, end) < 0 ? SW_ERR_PAYLOAD : SW_OK;
}

static int skipLiteral(const char *buf, size_t len, size_t i, const char *lit, size_t n,
                       size_t *end) {
    if (len - i < n || memcmp(buf + i, lit, n) != 0) return -1;
    *end = i + n;
    return 0;
}

/* The value whose first byte is at i: *end just past it; -1 when it cannot be skipped. */
static inline int skipValueAt(const char *buf, size_t len, size_t i, size_t *end) {
    if (i >= len) return -1;
    switch (buf[i]) {
    case '{':
    case '[':
        return skipContainer(buf, len, i, end);
    case '"':
        return skipString(buf, len, i, end);
    case 't':
        return skipLiteral(buf, len, i, "true", 4, end);
    case 'f':
        return skipLiteral(buf, len, i, "false", 5, end);
    case 'n':
        return skipLiteral(buf, len, i, "null", 4, end);
    default:
        if (buf[i] != '-' && (buf[i] < '0' || buf[i] > '9')) return -1;
        size_t e = i + 1;
        while (e < len && numberByte[(unsigned char)buf[e]]) e++;
        *end = e;
        return 0;
    }
}

swStatus swJsonSkipValue(const char *buf, size_t len, size_t off, swJsonSpan *val) {
    size_t i = skipWs(buf, len, off), end;
    if (skipValueAt(buf, len, i, &end) < 0) return SW_ERR_PAYLOAD;
    val->off = i;
    val->len = end - i;
    return SW_OK;
}

int swJsonObjectFind(const char *buf, size_t len, size_t off, const char *name, size_t namelen,
                     int skipFound, const swJsonSpan *known, swJsonSpan *key, swJsonSpan *val,
                     size_t *prevEnd) {
    size_t i = skipWs(buf, len, off), prev = 0;
    if (i >= len || buf[i] != '{') return SW_ERR_PAYLOAD;
    i = skipWs(buf, len, i + 1);
    if (i < len && buf[i] == '}') {
        *prevEnd = 0;
        val->off = i;
        return 0;
    }
    for (;;) {
        size_t kend, vend;
        if (i >= len || buf[i] != '"' || skipString(buf, len, i, &kend) < 0) return SW_ERR_PAYLOAD;
        size_t c = skipWs(buf, len, kend);
        if (c >= len || buf[c] != ':') return SW_ERR_PAYLOAD;
        size_t v = skipWs(buf, len, c + 1), klen = kend - i - 2;
        const char *k = buf + i + 1;
        /* Same raw length: equal only as the same bytes without escapes; longer: only
         * through escapes; shorter: never (decoding never lengthens). */
        int eq = klen == namelen
                     ? memcmp(k, name, namelen) == 0 && memchr(k, '\\', klen) == NULL
                     : klen > namelen && swJsonContentsEqualBytes(k, klen, name, namelen);
        if (eq && !skipFound) {
            key->off = i;
            key->len = kend - i;
            val->off = v;
            val->len = 0;
            *prevEnd = prev;
            return 1;
        }
        if (known != NULL && v == known->off && known->len > 0) {
            vend = v + known->len;
        } else if (skipValueAt(buf, len, v, &vend) < 0) {
            return SW_ERR_PAYLOAD;
        }
        if (eq) {
            key->off = i;
            key->len = kend - i;
            val->off = v;
            val->len = vend - v;
            *prevEnd = prev;
            return 1;
        }
        prev = vend;
        i = skipWs(buf, len, vend);
        if (i < len && buf[i] == ',') {
            i = skipWs(buf, len, i + 1);
        } else if (i < len && buf[i] == '}') {
            *prevEnd = prev;
            val->off = i;
            return 0;
        } else {
            return SW_ERR_PAYLOAD;
        }
    }
}

/* ---- Iteration ---- */

static swStatus iterBegin(swJsonIter *it, const char *buf, size_t len, size_t off, char open) {
    size_t i = skipWs(buf, len, off);
    if (i >= len || buf[i] != open) return SW_ERR_PAYLOAD;
    it->buf = buf;
    it->len = len;
    it->pos = i + 1;
    it->state = SW_JSON_ITER_FIRST;
    return SW_OK;
}

/* Consumes the separator before the next item. 1: an item starts at *at; 0: the container
 * closed; negative: malformed. */
static int iterStep(swJsonIter *it, char close, size_t *at) {
    if (it->state == SW_JSON_ITER_DONE) return 0;
    if (it->state == SW_JSON_ITER_ERROR) return SW_ERR_PAYLOAD;
    size_t i = skipWs(it->buf, it->len, it->pos);
    if (i >= it->len) goto bad;
    if (it->buf[i] == close) {
        it->pos = i + 1;
        it->state = SW_JSON_ITER_DONE;
        return 0;
    }
    if (it->state == SW_JSON_ITER_NEXT) {
        if (it->buf[i] != ',') goto bad;
        i = skipWs(it->buf, it->len, i + 1);
    }
    *at = i;
    return 1;
bad:
    it->state = SW_JSON_ITER_ERROR;
    return SW_ERR_PAYLOAD;
}

swStatus swJsonObjectBegin(swJsonIter *it, const char *buf, size_t len, size_t off) {
    return iterBegin(it, buf, len, off, '{');
}

int swJsonObjectNextKey(swJsonIter *it, swJsonSpan *key) {
    size_t i, kend;
    int rc = iterStep(it, '}', &i);
    if (rc <= 0) return rc;
    if (i >= it->len || it->buf[i] != '"' || skipString(it->buf, it->len, i, &kend) < 0) {
        goto bad;
    }
    size_t colon = skipWs(it->buf, it->len, kend);
    if (colon >= it->len || it->buf[colon] != ':') goto bad;
    key->off = i;
    key->len = kend - i;
    it->pos = skipWs(it->buf, it->len, colon + 1);
    return 1;
bad:
    it->state = SW_JSON_ITER_ERROR;
    return SW_ERR_PAYLOAD;
}

swStatus swJsonObjectSkipValue(swJsonIter *it, swJsonSpan *val) {
    if (swJsonSkipValue(it->buf, it->len, it->pos, val) != SW_OK) {
        it->state = SW_JSON_ITER_ERROR;
        return SW_ERR_PAYLOAD;
    }
    it->pos = val->off + val->len;
    it->state = SW_JSON_ITER_NEXT;
    return SW_OK;
}

int swJsonObjectNext(swJsonIter *it, swJsonSpan *key, swJsonSpan *val) {
    int rc = swJsonObjectNextKey(it, key);
    if (rc <= 0) return rc;
    return swJsonObjectSkipValue(it, val) == SW_OK ? 1 : SW_ERR_PAYLOAD;
}

swStatus swJsonArrayBegin(swJsonIter *it, const char *buf, size_t len, size_t off) {
    return iterBegin(it, buf, len, off, '[');
}

int swJsonArrayNext(swJsonIter *it, swJsonSpan *val) {
    size_t i;
    int rc = iterStep(it, ']', &i);
    if (rc <= 0) return rc;
    if (swJsonSkipValue(it->buf, it->len, i, val) != SW_OK) {
        it->state = SW_JSON_ITER_ERROR;
        return SW_ERR_PAYLOAD;
    }
    it->pos = val->off + val->len;
    it->state = SW_JSON_ITER_NEXT;
    return 1;
}

void swJsonIterResume(swJsonIter *it, size_t pos) {
    it->pos = pos;
    it->state = SW_JSON_ITER_NEXT;
}

int swJsonIterFailed(const swJsonIter *it) {
    return it->state == SW_JSON_ITER_ERROR;
}

/* ---- Strings ---- */

void swJsonStrDecoderInit(swJsonStrDecoder *d, const char *s, size_t n) {
    d->p = (const unsigned char *)s;
    d->end = d->p + n;
    d->npending = d->ipending = 0;
}

int swJsonStrDecoderNext(swJsonStrDecoder *d) {
    if (d->ipending < d->npending) return d->pending[d->ipending++];
    if (d->p >= d->end) return -1;
    unsigned c = *d->p++;
    if (c != '\\') return (int)c;
    if (d->p >= d->end) return -2;
    c = *d->p++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        return (int)c;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u':
        break;
    default:
        return -2;
    }
    unsigned cp, lo;
    if (swJsonHex4((const char *)d->p, (size_t)(d->end - d->p), &cp) != 4) return -2;
    d->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && d->end - d->p >= 6 && d->p[0] == '\\' && d->p[1] == 'u' &&
        swJsonHex4((const char *)d->p + 2, (size_t)(d->end - d->p - 2), &lo) == 4 && lo >= 0xDC00 &&
        lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        d->p += 6;
    }
    unsigned char *o = d->pending;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        d->npending = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        d->npending = 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        d->npending = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        d->npending = 4;
    }
    d->ipending = 1;
    return o[0];
}

static int isStringToken(const char *tok, size_t toklen) {
    return toklen >= 2 && tok[0] == '"' && tok[toklen - 1] == '"';
}

int swJsonContentsEqual(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen == blen && memcmp(a, b, alen) == 0) return 1;
    if (memchr(a, '\\', alen) == NULL && memchr(b, '\\', blen) == NULL) return 0;
    swJsonStrDecoder da, db;
    swJsonStrDecoderInit(&da, a, alen);
    swJsonStrDecoderInit(&db, b, blen);
    for (;;) {
        int ca = swJsonStrDecoderNext(&da);
        int cb = swJsonStrDecoderNext(&db);
        if (ca == -2 || cb == -2 || ca != cb) return 0;
        if (ca == -1) return 1;
    }
}

static int decodedEqualsBytes(const char *c, size_t n, const char *s, size_t slen) {
    swJsonStrDecoder d;
    swJsonStrDecoderInit(&d, c, n);
    for (size_t i = 0;; i++) {
        int ch = swJsonStrDecoderNext(&d);
        if (ch == -1) return i == slen;
        if (ch < 0 || i >= slen || (unsigned char)s[i] != ch) return 0;
    }
}

/* Decoding never lengthens (every escape is longer than what it stands for), which settles
 * most mismatches on the lengths and a memcmp, without looking for backslashes. */
int swJsonContentsEqualBytes(const char *c, size_t n, const char *s, size_t slen) {
    if (n < slen) return 0;
    if (n == slen) {
        /* Equal raw bytes are equal values unless they hold an escape (which would make the
         * decoded value shorter than s). */
        if (memcmp(c, s, n) != 0) return 0;
        return memchr(c, '\\', n) == NULL || decodedEqualsBytes(c, n, s, slen);
    }
    return memchr(c, '\\', n) != NULL && decodedEqualsBytes(c, n, s, slen);
}

int swJsonStringEqual(const char *a, size_t alen, const char *b, size_t blen) {
    if (!isStringToken(a, alen) || !isStringToken(b, blen)) return 0;
    return swJsonContentsEqual(a + 1, alen - 2, b + 1, blen - 2);
}

int swJsonStringEqualBytes(const char *tok, size_t toklen, const char *s, size_t slen) {
    if (!isStringToken(tok, toklen)) return 0;
    return swJsonContentsEqualBytes(tok + 1, toklen - 2, s, slen);
}

/* ---- Errors ---- */

swStatus swJsonMalformed(swError *err, size_t off) {
    return swErrorSet(err, SW_ERR_PAYLOAD, off, "malformed json at byte %zu", off);
}

swStatus swJsonTooDeep(swError *err, size_t off) {
    return swErrorSet(err, SW_ERR_PAYLOAD, off, "json nested deeper than %d levels at byte %zu",
                      SW_JSCAN_MAX_DEPTH, off);
}

swStatus swJsonTopValue(const char *buf, size_t len, swJsonSpan *v, swError *err) {
    if (swJsonSkipValue(buf, len, 0, v) != SW_OK) {
        return swJsonMalformed(err, swJsonSkipWhitespace(buf, len, 0));
    }
    size_t end = swJsonSkipWhitespace(buf, len, v->off + v->len);
    if (end != len) return swJsonMalformed(err, end);
    return SW_OK;
}
