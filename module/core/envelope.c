/* envelope.c -- a message's envelope and stream entry fields (see envelope.h). */
#include <string.h>

#include "swarm/envelope.h"
#include "swarm/utf8.h"

/* Envelope sizing: the bytes of the fixed JSON text around the fields (keys, quotes,
 * commas, the one-digit priority and a 20-digit ts), and the most one input byte can
 * become once escaped ("\u00XX" is six). */
#define ENVELOPE_FIXED_BYTES 128
#define ESCAPED_MAX_PER_BYTE 6

/* 1 for a byte copied into a JSON string as it is: printable ASCII but " and \\. */
static const unsigned char plainByte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* 1 for a control byte (below 0x20, and DEL). */
static const unsigned char controlByte[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

char *swPutU64(char *p, uint64_t v) {
    /* Two digits per division: snprintf, or one digit at a time, costs more than the rest of
     * the envelope together. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "6263646566676869707172737475767778798081828384858687888990919293"
                                "949596979899";
    char tmp[20];
    int n = 20;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--n] = pairs[k + 1];
        tmp[--n] = pairs[k];
    }
    if (v >= 10) {
        tmp[--n] = pairs[v * 2 + 1];
        tmp[--n] = pairs[v * 2];
    } else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(p, tmp + n, (size_t)(20 - n));
    return p + (20 - n);
}

void swMessageSetId(swMessage *m, int64_t ms, uint64_t seq) {
    char *p = swPutU64(m->id, (uint64_t)ms);
    m->idMs = ms;
    m->idMsLen = (size_t)(p - m->id);
    *p++ = '-';
    p = swPutU64(p, seq);
    m->idlen = (size_t)(p - m->id);
    *p = '\0';
}

char *swMessagePutTs(const swMessage *m, char *p) {
    /* The id's milliseconds are the timestamp unless the table's clock ran ahead of it. */
    if (m->ts == m->idMs && m->idMsLen) {
        memcpy(p, m->id, m->idMsLen);
        return p + m->idMsLen;
    }
    return swPutU64(p, (uint64_t)m->ts);
}

/* ---- Eight bytes at a time ----
 * Whether a word holds a byte below n (n <= 0x80) or a zero byte: exact about whether there is
 * one (the bit twiddling classics; they may mark the wrong byte, so a word marked is looked at
 * byte by byte). */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HAS_LESS(w, n) (((w)-ONES * (n)) & ~(w)&HIGHS)
#define HAS_ZERO(w) HAS_LESS(w, 1)

static uint64_t load8(const char *s) {
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* A control byte (below 0x20, or DEL) among the 8 of w. */
static int wordHasControl(uint64_t w) {
    return (HAS_LESS(w, 0x20) | HAS_ZERO(w ^ (ONES * 0x7f))) != 0;
}

/* A byte putEscaped does not copy as it is among the 8 of w: below 0x20, '"', '\\', or 0x80
 * and up. */
static int wordNeedsEscape(uint64_t w) {
    return ((HAS_LESS(w, 0x20) | HAS_ZERO(w ^ (ONES * '"')) | HAS_ZERO(w ^ (ONES * '\\'))) |
            (w & HIGHS)) != 0;
}

/* The check byte by byte from byte k (bytes before it clean, high the OR of their top bits),
 * with the error's offset. */
static swStatus checkLabelFrom(const char *what, const char *s, size_t len, size_t k,
                               unsigned char high, swError *err) {
    for (; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (controlByte[c])
            return swErrorSet(err, SW_ERR_SYNTAX, k, "%s has a control character at byte %zu", what,
                              k);
        high |= c;
    }
    size_t bad;
    if ((high & 0x80) && !swUtf8Valid(s, len, &bad))
        return swErrorSet(err, SW_ERR_SYNTAX, bad, "%s is not valid UTF-8 at byte %zu", what, bad);
    return SW_OK;
}

swStatus swMessageCheckLabel(const char *what, const char *s, size_t len, swError *err) {
    if (len < 1 || len > SW_MESSAGE_LABEL_MAX)
        return swErrorSet(err, SW_ERR_RANGE, 0, "%s must be 1 to %d bytes", what,
                          SW_MESSAGE_LABEL_MAX);
    uint64_t highs = 0;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        uint64_t w = load8(s + k);
        if (wordHasControl(w)) break; /* found byte by byte below */
        highs |= w;
    }
    /* The last bytes as one word overlapping what was seen, when that was all clean: then
     * ASCII needs nothing more. */
    if (k < len && len >= 8 && k + 8 > len) {
        uint64_t w = load8(s + len - 8);
        if (!wordHasControl(w)) {
            highs |= w;
            k = len;
        }
    }
    if (k == len && !(highs & HIGHS)) return SW_OK;
    return checkLabelFrom(what, s, len, k, (highs & HIGHS) ? 0x80 : 0, err);
}

/* ---- Envelope ---- */

static char *putLit(char *p, const char *lit, size_t len) {
    memcpy(p, lit, len);
    return p + len;
}
#define PUT_LIT(p, lit) putLit((p), (lit), sizeof(lit) - 1)

/* Writes s from byte i on as the inside of a JSON string: quotes, backslashes and control
 * bytes escaped, and any byte that does not start well-formed UTF-8 (key names are
 * binary-safe) written as U+FFFD. Needs room for ESCAPED_MAX_PER_BYTE * (len - i) bytes. */
static char *putEscapedFrom(char *p, const char *s, size_t len, size_t i) {
    static const char hex[] = "0123456789abcdef";
    while (i < len) {
        /* A run of bytes that need nothing is copied at once. */
        size_t run = i;
        while (run < len && plainByte[(unsigned char)s[run]]) run++;
        if (run > i) {
            if (run - i <= 8) {
                while (i < run) *p++ = s[i++];
            } else {
                memcpy(p, s + i, run - i);
                p += run - i;
                i = run;
            }
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        size_t n = c >= 0x80 ? swUtf8SeqLen(s, len, i) : 1;
        if (n > 1) {
            memcpy(p, s + i, n);
            p += n;
            i += n;
            continue;
        }
        if (c >= 0x80) {
            p = PUT_LIT(p, "\\ufffd");
        } else if (c < 0x20) {
            p = PUT_LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = '\\';
            *p++ = (char)c;
        }
        i++;
    }
    return p;
}

/* putEscapedFrom of the whole of s, with the common case apart (a small function, cheap to
 * call): eight bytes at a time while they need nothing (most keys and labels throughout). */
static char *putEscaped(char *p, const char *s, size_t len) {
    size_t i = 0;
    for (uint64_t w; i + 8 <= len && !wordNeedsEscape(w = load8(s + i)); i += 8, p += 8)
        memcpy(p, &w, 8);
    /* Everything so far was copied as it is, so output and input line up: the last bytes go
     * as one word overlapping what was written, when it needs nothing. */
    if (i < len && len >= 8 && i + 8 > len) {
        uint64_t w = load8(s + len - 8);
        if (!wordNeedsEscape(w)) {
            memcpy(p - (i + 8 - len), &w, 8);
            return p + (len - i);
        }
    }
    return i < len ? putEscapedFrom(p, s, len, i) : p;
}

size_t swEnvelopeBound(const swMessage *m) {
    return ENVELOPE_FIXED_BYTES + m->idlen + m->tlen + m->plen +
           ESCAPED_MAX_PER_BYTE * (m->klen + m->slen + m->mlen + m->rlen);
}

size_t swEnvelopeWrite(const swMessage *m, char *buf) {
    char *p = buf;
    p = PUT_LIT(p, "{\"id\":\"");
    p = putLit(p, m->id, m->idlen);
    p = PUT_LIT(p, "\",\"swarm\":\"");
    p = putEscaped(p, m->key, m->klen);
    p = PUT_LIT(p, "\",\"type\":\"");
    p = putLit(p, m->type, m->tlen); /* event types never need escaping */
    p = PUT_LIT(p, "\",\"priority\":");
    *p++ = (char)('0' + m->priority);
    p = PUT_LIT(p, ",\"ts\":");
    p = swMessagePutTs(m, p);
    if (m->sender) {
        p = PUT_LIT(p, ",\"sender\":\"");
        p = putEscaped(p, m->sender, m->slen);
        *p++ = '"';
    }
    if (m->msgid) {
        p = PUT_LIT(p, ",\"msgid\":\"");
        p = putEscaped(p, m->msgid, m->mlen);
        *p++ = '"';
    }
    if (m->replyTo) {
        p = PUT_LIT(p, ",\"reply_to\":\"");
        p = putEscaped(p, m->replyTo, m->rlen);
        *p++ = '"';
    }
    p = PUT_LIT(p, ",\"payload\":");
    p = putLit(p, m->payload, m->plen);
    *p++ = '}';
    return (size_t)(p - buf);
}

/* ---- Stream entry ---- */

static const char *const fieldNames[SW_FIELD_COUNT] = {
    "id", "swarm", "type", "priority", "ts", "payload", "sender", "msgid", "reply_to"};

const char *swFieldName(swField f) {
    return (unsigned)f < SW_FIELD_COUNT ? fieldNames[f] : "";
}

size_t swEntryFields(const swMessage *m, swField out[SW_FIELD_COUNT]) {
    size_t n = 0;
    for (int f = SW_FIELD_ID; f <= SW_FIELD_PAYLOAD; f++) out[n++] = (swField)f;
    if (m->sender) out[n++] = SW_FIELD_SENDER;
    if (m->msgid) out[n++] = SW_FIELD_MSGID;
    if (m->replyTo) out[n++] = SW_FIELD_REPLYTO;
    return n;
}
