/* utf8.h -- UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF): the one checker of the core, used by the JSON validator for string
 * bodies and by the glue for strings it copies into JSON envelopes.
 *
 * swUtf8Check judges one sequence and says why it is broken; swUtf8SkipMultibyte is the
 * fast path that vouches for runs of well-formed multi-byte sequences a word at a time and
 * leaves everything it is unsure of to swUtf8Check. */
#ifndef SWARM_UTF8_H
#define SWARM_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Why a sequence is not well-formed. */
typedef enum swUtf8Fault {
    SW_UTF8_INVALID = 1, /* a byte that cannot be here: bad lead, overlong, surrogate,
                          * above U+10FFFF, or a continuation byte out of range */
    SW_UTF8_TRUNCATED,   /* ASCII or a lead byte where a continuation byte was due */
    SW_UTF8_END,         /* the input ended inside the sequence */
} swUtf8Fault;

/* Length (1-4) of the well-formed sequence starting at s[i] (i < len); or 0, with *fault
 * telling why and *at the offset of the byte that breaks it (len for SW_UTF8_END). */
size_t swUtf8Check(const char *s, size_t len, size_t i, swUtf8Fault *fault, size_t *at);

/* Length (1-4) of the well-formed sequence starting at s[i], or 0 when s[i] does not start
 * one within s[0..len). */
size_t swUtf8SeqLen(const char *s, size_t len, size_t i);

/* 1 when s[0..len) is well-formed; otherwise 0 and *bad (if not NULL) gets the offset of the
 * first byte that does not start a well-formed sequence. */
int swUtf8Valid(const char *s, size_t len, size_t *bad);

/* Skips the well-formed multi-byte sequences that follow one another from p, decoding a
 * 32-bit little-endian load at a time; stops at ASCII, at a sequence it cannot vouch for
 * (swUtf8Check then judges it byte by byte) and when fewer than 4 bytes are left. Returns p
 * itself on big-endian hosts. The checks are those of swUtf8Check on the same bits: the
 * lead's value bits and the top of the first continuation byte must not give an overlong
 * form, a surrogate or more than U+10FFFF. */
static inline const unsigned char *swUtf8SkipMultibyte(const unsigned char *p,
                                                       const unsigned char *end) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        if ((w & 0xC0E0) == 0x80C0) {
            /* 110xxxxx 10xxxxxx: C0 and C1 are overlong */
            if ((w & 0x1E) == 0) break;
            p += 2;
        } else if ((w & 0xC0C0F0) == 0x8080E0) {
            /* 1110xxxx 10xxxxxx 10xxxxxx: E0 needs A0..BF next (else overlong), ED needs
             * 80..9F (else a surrogate); bit 0x2000 is the 0x20 bit of the second byte */
            uint32_t t = w & 0x200F;
            if (t == 0 || t == 0x200D) break;
            p += 3;
        } else if ((w & 0xC0C0C0F8) == 0x808080F0) {
            /* 11110xxx 10xxxxxx x3: the plane (code point >> 16) must be 1..16 */
            uint32_t plane = (w & 0x07) << 2 | (w >> 12 & 0x03);
            if (plane == 0 || plane > 16) break;
            p += 4;
        } else {
            break;
        }
    }
#else
    (void)end;
#endif
    return p;
}

#endif
