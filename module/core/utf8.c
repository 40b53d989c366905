/* utf8.c -- UTF-8 well-formedness (see utf8.h), per the table in RFC 3629 section 4
 * (table 3-7 of the Unicode standard). */
#include "swarm/utf8.h"

size_t swUtf8Check(const char *str, size_t len, size_t i, swUtf8Fault *fault, size_t *at) {
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[i];
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the next continuation byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0; /* no overlong */
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90; /* no overlong */
        if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        /* A continuation byte with no lead, C0/C1 (always overlong), or F5..FF. */
        *fault = SW_UTF8_INVALID;
        *at = i;
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if (i + k >= len) {
            *fault = SW_UTF8_END;
            *at = len;
            return 0;
        }
        unsigned char b = s[i + k];
        if (b < lo || b > hi) {
            /* ASCII or a lead byte cut the sequence short; anything else is a byte that
             * cannot be here (a continuation out of range) or anywhere (C0, C1, F5..FF). */
            *fault = b < 0x80 || (b >= 0xC2 && b <= 0xF4) ? SW_UTF8_TRUNCATED : SW_UTF8_INVALID;
            *at = i + k;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

size_t swUtf8SeqLen(const char *s, size_t len, size_t i) {
    swUtf8Fault fault;
    size_t at;
    return swUtf8Check(s, len, i, &fault, &at);
}

int swUtf8Valid(const char *s, size_t len, size_t *bad) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t j = (size_t)(swUtf8SkipMultibyte(p + i, end) - p);
        if (j != i) {
            i = j;
            continue;
        }
        size_t n = swUtf8SeqLen(s, len, i);
        if (n == 0) {
            if (bad) *bad = i;
            return 0;
        }
        i += n;
    }
    return 1;
}
