/* utf8.c -- UTF-8 well-formedness (see utf8.h), per the table in RFC 3629 section 4. */
#include "swarm/utf8.h"

size_t swUtf8SeqLen(const char *str, size_t len, size_t i) {
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[i];
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
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
        return 0;
    }
    if (len - i < n || s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 0;
    }
    return n;
}

int swUtf8Valid(const char *s, size_t len, size_t *bad) {
    for (size_t i = 0; i < len;) {
        size_t n = swUtf8SeqLen(s, len, i);
        if (n == 0) {
            if (bad) *bad = i;
            return 0;
        }
        i += n;
    }
    return 1;
}
