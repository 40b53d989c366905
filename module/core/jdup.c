/* jdup.c -- duplicate member names in a validated JSON text (see jdup.h).
 *
 * One forward pass. The input is known to be valid JSON, so the scanner needs to tell
 * apart only strings (skipped to the closing quote, eight bytes at a time), the four
 * brackets and commas; everything else (numbers, literals, colons, whitespace) is passed
 * over. A string right after '{' or after a ',' inside an object is a member name.
 *
 *   names:  [ names of the outermost open object | ... | names of the innermost ]
 *   base[d] = index in names where the object at depth d + 1 starts its names
 *
 * When an object closes its names form the top segment of the array; they are checked,
 * then dropped. Every read is bounds checked, so malformed input is harmless. */
#include <stdint.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/jdup.h"
#include "swarm/jscan.h"
#include "swarm/json.h"

/* A member name: its bytes as written are buf[off, off + len). hash (of the decoded string)
 * is computed only for objects too wide to check pairwise. */
typedef struct jdupName {
    size_t off;
    size_t len : 63;
    size_t escaped : 1; /* holds a backslash: compare decoded */
    uint64_t hash;
} jdupName;

#define JDUP_LOCAL 32    /* names kept on the C stack before anything is allocated */
#define JDUP_PAIRWISE 12 /* objects with at most this many names are checked pairwise */

#define JDUP_ONES UINT64_C(0x0101010101010101)
#define JDUP_HIGHS UINT64_C(0x8080808080808080)
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

typedef struct jdupState {
    const unsigned char *buf;
    jdupName *names;
    size_t n, cap;
    jdupName local[JDUP_LOCAL];
    size_t bestOff; /* the earliest repeat so far: the offset of its opening quote */
    const jdupName *best;
    jdupName bestName;
} jdupState;

/* ---- Names ---- */

static inline int jdupSame(const unsigned char *buf, const jdupName *a, const jdupName *b) {
    if (!a->escaped && !b->escaped)
        return a->len == b->len && memcmp(buf + a->off, buf + b->off, a->len) == 0;
    return swJsonContentsEqual((const char *)buf + a->off, a->len, (const char *)buf + b->off,
                               b->len);
}

/* FNV-1a over the decoded bytes. */
static uint64_t jdupHash(const unsigned char *buf, const jdupName *nm) {
    uint64_t h = FNV_OFFSET;
    if (!nm->escaped) {
        const unsigned char *p = buf + nm->off;
        for (size_t i = 0; i < nm->len; i++) h = (h ^ p[i]) * FNV_PRIME;
    } else {
        swJsonStrDecoder d;
        swJsonStrDecoderInit(&d, (const char *)buf + nm->off, nm->len);
        for (int b; (b = swJsonStrDecoderNext(&d)) >= 0;) h = (h ^ (unsigned)b) * FNV_PRIME;
    }
    return h;
}

/* ---- Checking one object ---- */

/* names[i] repeats an earlier name of its object: keep it if it is the earliest repeat. */
static void jdupFound(jdupState *s, const jdupName *nm) {
    if (nm->off - 1 < s->bestOff) {
        s->bestOff = nm->off - 1;
        s->bestName = *nm;
        s->best = &s->bestName;
    }
}

#define JDUP_EMPTY UINT32_MAX
#define JDUP_LOCAL_SLOTS 512 /* hash slots on the C stack: objects of up to 256 names */

/* The names[from..n) of an object that just closed. Names are in text order, so the first
 * one equal to an earlier name is the object's first repeat. SW_ERR_NOMEM when the hash
 * table of a very wide object cannot be allocated. */
static swStatus jdupCheckObject(jdupState *s, size_t from) {
    const jdupName *v = s->names + from;
    size_t n = s->n - from;
    if (n < 2) return SW_OK;
    if (n <= JDUP_PAIRWISE) {
        for (size_t j = 1; j < n; j++) {
            for (size_t i = 0; i < j; i++) {
                if (jdupSame(s->buf, &v[i], &v[j])) {
                    jdupFound(s, &v[j]);
                    return SW_OK;
                }
            }
        }
        return SW_OK;
    }
    /* Wider: an open-addressing table of name indexes, at most half full. */
    size_t cap = 64;
    while (cap < 2 * n) cap <<= 1;
    uint32_t local[JDUP_LOCAL_SLOTS];
    uint32_t *slot = cap <= JDUP_LOCAL_SLOTS ? local : swAlloc(cap * sizeof(*slot));
    if (slot == NULL) return SW_ERR_NOMEM;
    memset(slot, 0xff, cap * sizeof(*slot));
    for (size_t j = 0; j < n; j++) {
        uint64_t h = jdupHash(s->buf, &v[j]);
        size_t k = (size_t)(h ^ h >> 29) & (cap - 1);
        int repeat = 0;
        for (; slot[k] != JDUP_EMPTY; k = (k + 1) & (cap - 1)) {
            const jdupName *other = &v[slot[k]];
            if (other->hash == h && jdupSame(s->buf, other, &v[j])) {
                repeat = 1;
                break;
            }
        }
        if (repeat) {
            jdupFound(s, &v[j]);
            break;
        }
        s->names[from + j].hash = h;
        slot[k] = (uint32_t)j;
    }
    if (slot != local) swFree(slot);
    return SW_OK;
}

static swStatus jdupPush(jdupState *s, const jdupName *nm) {
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        jdupName *grown;
        if (s->names == s->local) {
            grown = swAlloc(cap * sizeof(*grown));
            if (grown) memcpy(grown, s->local, s->n * sizeof(*grown));
        } else {
            grown = swRealloc(s->names, cap * sizeof(*grown));
        }
        if (grown == NULL) return SW_ERR_NOMEM;
        s->names = grown;
        s->cap = cap;
    }
    s->names[s->n++] = *nm;
    return SW_OK;
}

/* ---- The scan ---- */

/* p is just past an opening quote; returns the closing quote (or end) and sets *escaped
 * when the body holds a backslash. */
static const unsigned char *jdupStringEnd(const unsigned char *p, const unsigned char *end,
                                          int *escaped) {
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, sizeof(w));
            uint64_t q = w ^ (JDUP_ONES * '"'), b = w ^ (JDUP_ONES * '\\');
            /* Exact for the lowest flagged byte (see json.c's jsonStringStops). */
            uint64_t stops = ((q - JDUP_ONES) & ~q) | ((b - JDUP_ONES) & ~b);
            stops &= JDUP_HIGHS;
            if (stops == 0) {
                p += 8;
                continue;
            }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            p += (unsigned)__builtin_ctzll(stops) >> 3;
#else
            while (*p != '"' && *p != '\\') p++;
#endif
            break;
        }
        while (p < end && *p != '"' && *p != '\\') p++;
        if (p >= end || *p == '"') return p;
        *escaped = 1;
        p += 2; /* the backslash and the byte it escapes; \uXXXX's digits hold no quote */
        if (p > end) return end;
    }
}

/* The bytes outside strings the scan acts on. */
static const unsigned char jdupSyntax[256] = {
    ['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1, [','] = 1};

static swStatus jdupScan(jdupState *s, size_t len) {
    const unsigned char *p = s->buf, *end = s->buf + len;
    uint64_t isObject[SW_JSON_MAX_DEPTH / 64];
    size_t base[SW_JSON_MAX_DEPTH];
    int depth = 0, inObject = 0, expectName = 0;
    while (p < end) {
        if (!jdupSyntax[*p]) { /* numbers, literals, ':' and whitespace */
            p++;
            continue;
        }
        switch (*p) {
        case '"': {
            int escaped = 0;
            const unsigned char *q = jdupStringEnd(p + 1, end, &escaped);
            if (expectName) {
                jdupName nm = {.off = (size_t)(p + 1 - s->buf),
                               .len = (size_t)(q - p - 1),
                               .escaped = (size_t)escaped};
                if (jdupPush(s, &nm) != SW_OK) return SW_ERR_NOMEM;
                expectName = 0;
            }
            p = q + 1;
            continue;
        }
        case '{':
        case '[':
            if (depth == SW_JSON_MAX_DEPTH) return SW_ERR_PAYLOAD; /* not validated */
            inObject = *p == '{';
            /* A word's bit 0 is assigned whole, so no word is read before written. */
            if ((depth & 63) == 0) {
                isObject[depth >> 6] = (uint64_t)inObject;
            } else if (inObject) {
                isObject[depth >> 6] |= (uint64_t)1 << (depth & 63);
            } else {
                isObject[depth >> 6] &= ~((uint64_t)1 << (depth & 63));
            }
            base[depth++] = s->n;
            expectName = inObject;
            break;
        case '}':
        case ']':
            if (depth == 0) return SW_ERR_PAYLOAD; /* not validated */
            depth--;
            if (inObject && jdupCheckObject(s, base[depth]) != SW_OK) return SW_ERR_NOMEM;
            s->n = base[depth];
            inObject = depth > 0 && (isObject[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1);
            expectName = 0;
            break;
        case ',':
            expectName = inObject;
            break;
        default:
            break;
        }
        p++;
    }
    return SW_OK;
}

/* ---- Public API ---- */

swStatus swJsonDupCheck(const char *buf, size_t len, swError *err) {
    jdupState s;
    s.buf = (const unsigned char *)buf;
    s.names = s.local;
    s.n = 0;
    s.cap = JDUP_LOCAL;
    s.bestOff = SIZE_MAX;
    s.best = NULL;
    swStatus st = len ? jdupScan(&s, len) : SW_OK;
    if (s.names != s.local) swFree(s.names);
    if (st == SW_ERR_NOMEM) return swErrorSet(err, SW_ERR_NOMEM, 0, "out of memory");
    if (st != SW_OK) return swErrorSet(err, SW_ERR_PAYLOAD, 0, "invalid JSON");
    if (s.best == NULL) return SW_OK;
    /* The name as written, cut at a character boundary. */
    size_t n = s.best->len, shown = n;
    const char *name = buf + s.best->off;
    if (shown > SW_JSON_DUP_NAME_MAX) {
        shown = SW_JSON_DUP_NAME_MAX;
        while (shown > 0 && ((unsigned char)name[shown] & 0xC0) == 0x80) shown--;
    }
    return swErrorSet(err, SW_ERR_PAYLOAD, s.bestOff, "duplicate member '%.*s%s' at byte %zu",
                      (int)shown, name, shown < n ? "..." : "", s.bestOff);
}
