/* jsontext.c -- JSON operations performed directly on JSON text (see jsontext.h).
 *
 * Invariants:
 *   - every read is bounds-checked against the buffer length, whatever the input;
 *   - containers are skipped by bracket counting (no recursion); only the operations that
 *     must descend (merge, diff, equality) recurse, and they stop at SW_JSONTEXT_MAX_DEPTH;
 *   - objects are looked up through an objIndex: a member table that lives on the stack for
 *     small objects and gets a hash table over decoded names for larger ones, so merging or
 *     diffing two objects of n members costs O(n), not O(n^2);
 *   - output goes to one growable buffer; untouched values are copied with memcpy. */
#include <stdint.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/json.h"
#include "swarm/jsontext.h"

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

/* buf[i] is an opening quote. Stores the offset just past the closing quote in *end.
 * Short strings (most names and values) go through a byte loop; once a string proves long,
 * memchr finds candidate quotes, and a quote preceded by an odd run of backslashes is
 * escaped. Each run is counted once, so this stays linear. */
static inline int skipString(const char *buf, size_t len, size_t i, size_t *end) {
    size_t start = i + 1, p = start;
    size_t lim = len - p > 32 ? p + 32 : len;
    while (p < lim) {
        unsigned char c = (unsigned char)buf[p];
        if (!stringStop[c]) {
            p++;
        } else if (c == '"') {
            *end = p + 1;
            return 0;
        } else {
            p += 2; /* the escaped byte cannot end the string */
        }
    }
    while (p < len) {
        const char *q = memchr(buf + p, '"', len - p);
        if (q == NULL) return -1;
        size_t qi = (size_t)(q - buf);
        size_t bs = 0;
        while (qi - bs > start && buf[qi - bs - 1] == '\\') bs++;
        if ((bs & 1) == 0) {
            *end = qi + 1;
            return 0;
        }
        p = qi + 1;
    }
    return -1;
}

/* buf[i] is '{' or '['. Counts brackets outside strings; does not check that they pair up
 * ('[' closed by '}'), which the validator has done. One tight loop: strings are skipped
 * inline, since the stops (quotes, brackets) are only a few bytes apart in typical documents
 * and a call per string would cost more than the scan. */
static int skipContainer(const char *buf, size_t len, size_t i, size_t *end) {
    const unsigned char *p = (const unsigned char *)buf;
    size_t depth = 0;
    while (i < len) {
        unsigned char c = p[i++];
        if (!structural[c]) continue;
        if (c == '"') {
            for (;;) {
                while (i < len && !stringStop[p[i]]) i++;
                if (i >= len) return -1;
                if (p[i++] == '"') break;
                i++; /* the byte after a backslash cannot end the string */
            }
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

static int skipLiteral(const char *buf, size_t len, size_t i, const char *lit, size_t n,
                       size_t *end) {
    if (len - i < n || memcmp(buf + i, lit, n) != 0) return -1;
    *end = i + n;
    return 0;
}

swStatus swJsonSkipValue(const char *buf, size_t len, size_t off, swJsonSpan *val) {
    size_t i = swJsonSkipWhitespace(buf, len, off);
    size_t end = i;
    int rc;
    switch (swJsonKindAt(buf, len, i)) {
    case SW_JSON_OBJECT:
    case SW_JSON_ARRAY:
        rc = skipContainer(buf, len, i, &end);
        break;
    case SW_JSON_STRING:
        rc = skipString(buf, len, i, &end);
        break;
    case SW_JSON_NUMBER:
        end = i + 1;
        while (end < len && numberByte[(unsigned char)buf[end]]) end++;
        rc = 0;
        break;
    case SW_JSON_TRUE:
        rc = skipLiteral(buf, len, i, "true", 4, &end);
        break;
    case SW_JSON_FALSE:
        rc = skipLiteral(buf, len, i, "false", 5, &end);
        break;
    case SW_JSON_NULL:
        rc = skipLiteral(buf, len, i, "null", 4, &end);
        break;
    default:
        rc = -1;
        break;
    }
    if (rc < 0) return SW_ERR_PAYLOAD;
    val->off = i;
    val->len = end - i;
    return SW_OK;
}

/* ---- Iteration ---- */

enum { ITER_FIRST = 0, ITER_NEXT = 1, ITER_DONE = 2, ITER_ERROR = 3 };

static swStatus iterBegin(swJsonIter *it, const char *buf, size_t len, size_t off, char open) {
    size_t i = swJsonSkipWhitespace(buf, len, off);
    if (i >= len || buf[i] != open) return SW_ERR_PAYLOAD;
    it->buf = buf;
    it->len = len;
    it->pos = i + 1;
    it->state = ITER_FIRST;
    return SW_OK;
}

/* Consumes the separator before the next item. 1: an item starts at *at; 0: the container
 * closed; negative: malformed. */
static int iterStep(swJsonIter *it, char close, size_t *at) {
    if (it->state == ITER_DONE) return 0;
    if (it->state == ITER_ERROR) return SW_ERR_PAYLOAD;
    size_t i = swJsonSkipWhitespace(it->buf, it->len, it->pos);
    if (i >= it->len) goto bad;
    if (it->buf[i] == close) {
        it->pos = i + 1;
        it->state = ITER_DONE;
        return 0;
    }
    if (it->state == ITER_NEXT) {
        if (it->buf[i] != ',') goto bad;
        i = swJsonSkipWhitespace(it->buf, it->len, i + 1);
    }
    *at = i;
    return 1;
bad:
    it->state = ITER_ERROR;
    return SW_ERR_PAYLOAD;
}

swStatus swJsonObjectBegin(swJsonIter *it, const char *buf, size_t len, size_t off) {
    return iterBegin(it, buf, len, off, '{');
}

/* The next member's name, stopping before its value: 1 with *key filled and it->pos at the
 * value's first byte, 0 at the end, negative when malformed. The caller descends into the
 * value or calls memberSkipValue before asking for the next member, so a path lookup
 * never scans the member it follows twice. */
static int memberKey(swJsonIter *it, swJsonSpan *key) {
    size_t i, kend;
    int rc = iterStep(it, '}', &i);
    if (rc <= 0) return rc;
    if (i >= it->len || it->buf[i] != '"' || skipString(it->buf, it->len, i, &kend) < 0) {
        goto bad;
    }
    size_t colon = swJsonSkipWhitespace(it->buf, it->len, kend);
    if (colon >= it->len || it->buf[colon] != ':') goto bad;
    key->off = i;
    key->len = kend - i;
    it->pos = swJsonSkipWhitespace(it->buf, it->len, colon + 1);
    return 1;
bad:
    it->state = ITER_ERROR;
    return SW_ERR_PAYLOAD;
}

/* Skips the value memberKey stopped at; SW_OK with its span in *val, or SW_ERR_PAYLOAD. */
static swStatus memberSkipValue(swJsonIter *it, swJsonSpan *val) {
    if (swJsonSkipValue(it->buf, it->len, it->pos, val) != SW_OK) {
        it->state = ITER_ERROR;
        return SW_ERR_PAYLOAD;
    }
    it->pos = val->off + val->len;
    it->state = ITER_NEXT;
    return SW_OK;
}

int swJsonObjectNext(swJsonIter *it, swJsonSpan *key, swJsonSpan *val) {
    int rc = memberKey(it, key);
    if (rc <= 0) return rc;
    return memberSkipValue(it, val) == SW_OK ? 1 : SW_ERR_PAYLOAD;
}

swStatus swJsonArrayBegin(swJsonIter *it, const char *buf, size_t len, size_t off) {
    return iterBegin(it, buf, len, off, '[');
}

int swJsonArrayNext(swJsonIter *it, swJsonSpan *val) {
    size_t i;
    int rc = iterStep(it, ']', &i);
    if (rc <= 0) return rc;
    if (swJsonSkipValue(it->buf, it->len, i, val) != SW_OK) {
        it->state = ITER_ERROR;
        return SW_ERR_PAYLOAD;
    }
    it->pos = val->off + val->len;
    it->state = ITER_NEXT;
    return 1;
}

/* ---- Strings ---- */

/* Streams the decoded bytes of a string's contents (between the quotes). */
typedef struct strDecoder {
    const unsigned char *p, *end;
    unsigned char pending[4];
    unsigned npending, ipending;
} strDecoder;

static void strDecoderInit(strDecoder *d, const char *s, size_t n) {
    d->p = (const unsigned char *)s;
    d->end = d->p + n;
    d->npending = d->ipending = 0;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    if (end - p < 4) return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* The next decoded byte; -1 at the end; -2 on a malformed escape. A surrogate pair becomes
 * one 4-byte UTF-8 sequence; a lone surrogate is encoded as its 3-byte form, so equal
 * escapes still compare equal. */
static int strDecoderNext(strDecoder *d) {
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
    if (hex4(d->p, d->end, &cp) < 0) return -2;
    d->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && d->end - d->p >= 6 && d->p[0] == '\\' && d->p[1] == 'u' &&
        hex4(d->p + 2, d->end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
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

/* Contents a[0..alen) and b[0..blen) of two strings, compared by decoded value. */
static int contentsEqual(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen == blen && memcmp(a, b, alen) == 0) return 1;
    if (memchr(a, '\\', alen) == NULL && memchr(b, '\\', blen) == NULL) return 0;
    strDecoder da, db;
    strDecoderInit(&da, a, alen);
    strDecoderInit(&db, b, blen);
    for (;;) {
        int ca = strDecoderNext(&da);
        int cb = strDecoderNext(&db);
        if (ca == -2 || cb == -2 || ca != cb) return 0;
        if (ca == -1) return 1;
    }
}

static int decodedEqualsBytes(const char *c, size_t n, const char *s, size_t slen) {
    strDecoder d;
    strDecoderInit(&d, c, n);
    for (size_t i = 0;; i++) {
        int ch = strDecoderNext(&d);
        if (ch == -1) return i == slen;
        if (ch < 0 || i >= slen || (unsigned char)s[i] != ch) return 0;
    }
}

/* Whether string contents c[0..n) decode to the plain bytes s[0..slen). Decoding never
 * lengthens (every escape is longer than what it stands for), which settles most
 * mismatches on the lengths and a memcmp, without looking for backslashes. */
static int contentsEqualBytes(const char *c, size_t n, const char *s, size_t slen) {
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
    return contentsEqual(a + 1, alen - 2, b + 1, blen - 2);
}

int swJsonStringEqualBytes(const char *tok, size_t toklen, const char *s, size_t slen) {
    if (!isStringToken(tok, toklen)) return 0;
    return contentsEqualBytes(tok + 1, toklen - 2, s, slen);
}

/* FNV-1a over the decoded name, so "\u0041" and "A" land in the same bucket. */
static uint64_t nameHash(const char *tok, size_t toklen) {
    const uint64_t prime = 1099511628211ULL;
    uint64_t h = 14695981039346656037ULL;
    const char *c = tok + 1;
    size_t n = toklen - 2;
    if (memchr(c, '\\', n) == NULL) {
        for (size_t i = 0; i < n; i++) {
            h ^= (unsigned char)c[i];
            h *= prime;
        }
        return h;
    }
    strDecoder d;
    strDecoderInit(&d, c, n);
    int ch;
    while ((ch = strDecoderNext(&d)) >= 0) {
        h ^= (unsigned)ch;
        h *= prime;
    }
    return h;
}

/* ---- Output buffer ---- */

typedef struct outBuf {
    char *p;
    size_t len, cap;
} outBuf;

static swStatus outReserve(outBuf *o, size_t extra) {
    if (o->cap - o->len >= extra) return SW_OK;
    if (extra > SIZE_MAX - o->len) return SW_ERR_NOMEM;
    size_t need = o->len + extra;
    size_t cap = o->cap ? o->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = swRealloc(o->p, cap);
    if (p == NULL) return SW_ERR_NOMEM;
    o->p = p;
    o->cap = cap;
    return SW_OK;
}

static swStatus outPut(outBuf *o, const char *s, size_t n) {
    swStatus st = outReserve(o, n);
    if (st != SW_OK) return st;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return SW_OK;
}

static swStatus outByte(outBuf *o, char c) {
    return outPut(o, &c, 1);
}

/* Hands the buffer over NUL-terminated, or frees it when st is an error. */
static swStatus outFinish(outBuf *o, swStatus st, char **out, size_t *outlen) {
    if (st == SW_OK) st = outByte(o, '\0');
    if (st != SW_OK) {
        swFree(o->p);
        return st;
    }
    *out = o->p;
    *outlen = o->len - 1;
    return SW_OK;
}

/* ---- Object index ---- */

#define INDEX_INLINE 8
#define MEMBER_USED 1u
#define MEMBER_SHADOWED 2u /* a later member has the same name: the later one counts */
#define MEMBER_ESCAPED 4u  /* the name holds a backslash */
#define NOT_FOUND SIZE_MAX

typedef struct member {
    swJsonSpan key, val;
    uint64_t hash;
    unsigned flags;
} member;

typedef struct objIndex {
    const char *buf;
    member *m; /* inl, or a heap array when the object has more than INDEX_INLINE */
    size_t n, cap;
    size_t canonical; /* members not shadowed */
    size_t *slots;    /* open addressing over m: index + 1, 0 is empty; NULL when n small */
    size_t mask;
    size_t end; /* just past the object's '}' */
    member inl[INDEX_INLINE];
} objIndex;

static int memberKeyEqual(const char *abuf, swJsonSpan a, const char *bbuf, swJsonSpan b) {
    return contentsEqual(abuf + a.off + 1, a.len - 2, bbuf + b.off + 1, b.len - 2);
}

/* Whether member m of the index is named like key (in keybuf). */
static int memberNamed(const objIndex *idx, const member *m, const char *keybuf, swJsonSpan key) {
    if (m->flags & MEMBER_ESCAPED) return memberKeyEqual(idx->buf, m->key, keybuf, key);
    return contentsEqualBytes(keybuf + key.off + 1, key.len - 2, idx->buf + m->key.off + 1,
                              m->key.len - 2);
}

static void indexFree(objIndex *idx) {
    if (idx->m != idx->inl) swFree(idx->m);
    swFree(idx->slots);
}

static swStatus indexAppend(objIndex *idx, swJsonSpan key, swJsonSpan val) {
    if (idx->n == idx->cap) {
        if (idx->cap > SIZE_MAX / 2 / sizeof(member)) return SW_ERR_NOMEM;
        size_t cap = idx->cap * 2;
        member *m;
        if (idx->m == idx->inl) {
            m = swAlloc(cap * sizeof(member));
            if (m != NULL) memcpy(m, idx->inl, sizeof(idx->inl));
        } else {
            m = swRealloc(idx->m, cap * sizeof(member));
        }
        if (m == NULL) return SW_ERR_NOMEM;
        idx->m = m;
        idx->cap = cap;
    }
    unsigned flags = memchr(idx->buf + key.off + 1, '\\', key.len - 2) ? MEMBER_ESCAPED : 0;
    idx->m[idx->n++] = (member){key, val, 0, flags};
    return SW_OK;
}

/* The last member named like key (a name token in keybuf), or NOT_FOUND. */
static size_t indexFind(const objIndex *idx, const char *keybuf, swJsonSpan key) {
    if (idx->slots == NULL) {
        for (size_t i = idx->n; i-- > 0;) {
            if (memberNamed(idx, &idx->m[i], keybuf, key)) return i;
        }
        return NOT_FOUND;
    }
    uint64_t h = nameHash(keybuf + key.off, key.len);
    for (size_t s = (size_t)h & idx->mask;; s = (s + 1) & idx->mask) {
        size_t e = idx->slots[s];
        if (e == 0) return NOT_FOUND;
        const member *m = &idx->m[e - 1];
        if (m->hash == h && memberNamed(idx, m, keybuf, key)) return e - 1;
    }
}

/* Indexes the members of the object whose '{' is at off in buf. On failure nothing is left
 * to free. */
static swStatus indexBuild(objIndex *idx, const char *buf, size_t len, size_t off) {
    idx->buf = buf;
    idx->m = idx->inl;
    idx->n = 0;
    idx->cap = INDEX_INLINE;
    idx->canonical = 0;
    idx->slots = NULL;
    idx->mask = 0;

    swJsonIter it;
    swJsonSpan k, v;
    int rc;
    swStatus st = swJsonObjectBegin(&it, buf, len, off);
    if (st != SW_OK) return st;
    while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) {
        if ((st = indexAppend(idx, k, v)) != SW_OK) goto fail;
    }
    if (rc < 0) {
        st = SW_ERR_PAYLOAD;
        goto fail;
    }
    idx->end = it.pos;

    if (idx->n <= INDEX_INLINE) {
        /* Few members: a quadratic pass to mark duplicates beats hashing. */
        for (size_t i = 0; i < idx->n; i++) {
            for (size_t j = i + 1; j < idx->n; j++) {
                if (memberKeyEqual(buf, idx->m[i].key, buf, idx->m[j].key)) {
                    idx->m[i].flags |= MEMBER_SHADOWED;
                    break;
                }
            }
            if (!(idx->m[i].flags & MEMBER_SHADOWED)) idx->canonical++;
        }
        return SW_OK;
    }

    size_t tcap = 16;
    while (tcap < idx->n * 2) tcap *= 2; /* n <= len, far from overflow */
    idx->slots = swCalloc(tcap, sizeof(size_t));
    if (idx->slots == NULL) {
        st = SW_ERR_NOMEM;
        goto fail;
    }
    idx->mask = tcap - 1;
    for (size_t i = 0; i < idx->n; i++) {
        member *m = &idx->m[i];
        m->hash = nameHash(buf + m->key.off, m->key.len);
        size_t s = (size_t)m->hash & idx->mask;
        for (;; s = (s + 1) & idx->mask) {
            size_t e = idx->slots[s];
            if (e == 0) {
                idx->canonical++;
                break;
            }
            member *o = &idx->m[e - 1];
            if (o->hash == m->hash && memberKeyEqual(buf, o->key, buf, m->key)) {
                o->flags |= MEMBER_SHADOWED;
                break;
            }
        }
        idx->slots[s] = i + 1;
    }
    return SW_OK;
fail:
    indexFree(idx);
    idx->m = idx->inl;
    idx->slots = NULL;
    return st;
}

/* ---- Errors ---- */

static swStatus malformed(swError *err, size_t off) {
    return swErrorSet(err, SW_ERR_PAYLOAD, off, "malformed json at byte %zu", off);
}

static swStatus tooDeep(swError *err, size_t off) {
    return swErrorSet(err, SW_ERR_PAYLOAD, off, "json nested deeper than %d levels at byte %zu",
                      SW_JSONTEXT_MAX_DEPTH, off);
}

/* A failure from indexBuild or an iterator, with the message it lacks. */
static swStatus scanFailure(swError *err, swStatus st, size_t off) {
    if (st == SW_ERR_PAYLOAD) return malformed(err, off);
    return st;
}

/* The top-level value of buf, which must be followed by nothing but whitespace. */
static swStatus topValue(const char *buf, size_t len, swJsonSpan *v, swError *err) {
    if (swJsonSkipValue(buf, len, 0, v) != SW_OK) {
        return malformed(err, swJsonSkipWhitespace(buf, len, 0));
    }
    size_t end = swJsonSkipWhitespace(buf, len, v->off + v->len);
    if (end != len) return malformed(err, end);
    return SW_OK;
}

/* ---- JSON Pointer ---- */

/* Compares a member name token with a pointer reference token (already checked: every '~'
 * is followed by '0' or '1'); tilde tells whether the token holds one. */
static int nameEqualsRefToken(const char *name, size_t namelen, const char *tok, size_t toklen,
                              int tilde) {
    if (!tilde) return contentsEqualBytes(name + 1, namelen - 2, tok, toklen);
    strDecoder d;
    strDecoderInit(&d, name + 1, namelen - 2);
    size_t i = 0;
    for (;;) {
        int ch = strDecoderNext(&d);
        if (i >= toklen) return ch == -1;
        if (ch < 0) return 0;
        int t = (unsigned char)tok[i++];
        if (t == '~') t = tok[i++] == '0' ? '~' : '/';
        if (ch != t) return 0;
    }
}

/* An array index token: "0" or digits without a leading zero, fitting in size_t. */
static int parseIndex(const char *tok, size_t toklen, size_t *out) {
    if (toklen == 0 || (toklen > 1 && tok[0] == '0')) return -1;
    size_t v = 0;
    for (size_t i = 0; i < toklen; i++) {
        if (tok[i] < '0' || tok[i] > '9') return -1;
        size_t d = (size_t)(tok[i] - '0');
        if (v > (SIZE_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

swStatus swJsonPointerGet(const char *doc, size_t len, const char *ptr, size_t ptrlen, size_t *off,
                          size_t *vlen, swError *err) {
    if (ptrlen > 0 && ptr[0] != '/') {
        return swErrorSet(err, SW_ERR_SYNTAX, 0, "json pointer must be empty or start with '/'");
    }
    for (size_t i = 0; i < ptrlen; i++) {
        if (ptr[i] == '~' && (i + 1 >= ptrlen || (ptr[i + 1] != '0' && ptr[i + 1] != '1'))) {
            return swErrorSet(err, SW_ERR_SYNTAX, i,
                              "invalid escape in json pointer at byte %zu: '~' must be "
                              "followed by '0' or '1'",
                              i);
        }
    }

    /* Only the containers on the path are scanned, and only up to the member or element
     * the pointer names: the document is never skipped as a whole first. */
    size_t cur = swJsonSkipWhitespace(doc, len, 0);
    size_t p = 0;
    while (p < ptrlen) {
        size_t ts = p + 1, te = ts;
        while (te < ptrlen && ptr[te] != '/') te++;
        swJsonIter it;
        swJsonSpan k, v;
        int rc = 0;
        switch (swJsonKindAt(doc, len, cur)) {
        case SW_JSON_OBJECT: {
            int tilde = memchr(ptr + ts, '~', te - ts) != NULL;
            swJsonObjectBegin(&it, doc, len, cur);
            while ((rc = memberKey(&it, &k)) == 1) {
                if (nameEqualsRefToken(doc + k.off, k.len, ptr + ts, te - ts, tilde)) {
                    v.off = it.pos; /* descend without skipping the member first */
                    break;
                }
                if (memberSkipValue(&it, &v) != SW_OK) rc = SW_ERR_PAYLOAD;
                if (rc < 0) break;
            }
            break;
        }
        case SW_JSON_ARRAY: {
            size_t index;
            if (parseIndex(ptr + ts, te - ts, &index) < 0) return SW_ERR_NOTFOUND;
            swJsonArrayBegin(&it, doc, len, cur);
            while ((rc = swJsonArrayNext(&it, &v)) == 1 && index > 0) index--;
            break;
        }
        case SW_JSON_INVALID:
            return malformed(err, cur);
        default:
            return SW_ERR_NOTFOUND; /* a scalar has no members */
        }
        if (rc < 0) return malformed(err, it.pos);
        if (rc == 0) return SW_ERR_NOTFOUND;
        cur = v.off;
        p = te;
    }
    swJsonSpan v;
    if (swJsonSkipValue(doc, len, cur, &v) != SW_OK) return malformed(err, cur);
    *off = v.off;
    *vlen = v.len;
    return SW_OK;
}

/* ---- Merge patch ---- */

typedef struct mergeCtx {
    const char *doc, *patch;
    size_t dlen, plen;
    outBuf out;
    swError *err;
} mergeCtx;

static int isNullAt(const char *buf, size_t len, size_t off) {
    return swJsonKindAt(buf, len, off) == SW_JSON_NULL;
}

/* Appends MergePatch(target, patch value pv) to the output. target is the value dv of the
 * document, or {} when dv is NULL. */
/* Merges the patch value pv into the doc value starting at dv->off (NULL: none). When it
 * walks a doc object (the patch value is an object too) *walkedEnd is set just past that
 * object, so the caller need not skip it again; otherwise it is left 0. */
static swStatus mergeValue(mergeCtx *c, const swJsonSpan *dv, swJsonSpan pv, int depth,
                           size_t *walkedEnd) {
    if (swJsonKindAt(c->patch, c->plen, pv.off) != SW_JSON_OBJECT) {
        return outPut(&c->out, c->patch + pv.off, pv.len);
    }
    if (depth >= SW_JSONTEXT_MAX_DEPTH) return tooDeep(c->err, pv.off);

    objIndex idx;
    swStatus st = indexBuild(&idx, c->patch, c->plen, pv.off);
    if (st != SW_OK) return scanFailure(c->err, st, pv.off);
    size_t n = 0;
    if ((st = outByte(&c->out, '{')) != SW_OK) goto done;

    if (dv != NULL && swJsonKindAt(c->doc, c->dlen, dv->off) == SW_JSON_OBJECT) {
        swJsonIter it;
        swJsonSpan k, v;
        int rc;
        swJsonObjectBegin(&it, c->doc, c->dlen, dv->off);
        while ((rc = memberKey(&it, &k)) == 1) {
            size_t i = indexFind(&idx, c->doc, k);
            member *m = i == NOT_FOUND ? NULL : &idx.m[i];
            if (m) m->flags |= MEMBER_USED;
            if (m == NULL || isNullAt(c->patch, c->plen, m->val.off)) {
                if (memberSkipValue(&it, &v) != SW_OK) break;
                if (m) continue; /* deleted */
                /* Untouched: the member's text, name to value, in one copy. */
                if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
                st = outPut(&c->out, c->doc + k.off, v.off + v.len - k.off);
                if (st != SW_OK) goto done;
                continue;
            }
            if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
            if ((st = outPut(&c->out, c->doc + k.off, k.len)) != SW_OK) goto done;
            if ((st = outByte(&c->out, ':')) != SW_OK) goto done;
            /* Descend without skipping the member first: a merged object is walked once. */
            swJsonSpan sub = {it.pos, 0};
            size_t end = 0;
            if ((st = mergeValue(c, &sub, m->val, depth + 1, &end)) != SW_OK) goto done;
            if (end) {
                it.pos = end;
                it.state = ITER_NEXT;
            } else if (memberSkipValue(&it, &v) != SW_OK) {
                break;
            }
        }
        if (it.state == ITER_ERROR) {
            st = malformed(c->err, it.pos);
            goto done;
        }
        *walkedEnd = it.pos;
    }

    for (size_t i = 0; i < idx.n; i++) {
        member *m = &idx.m[i];
        if (m->flags & (MEMBER_USED | MEMBER_SHADOWED)) continue;
        if (isNullAt(c->patch, c->plen, m->val.off)) continue;
        if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
        if ((st = outPut(&c->out, c->patch + m->key.off, m->key.len)) != SW_OK) goto done;
        if ((st = outByte(&c->out, ':')) != SW_OK) goto done;
        size_t unused = 0;
        if ((st = mergeValue(c, NULL, m->val, depth + 1, &unused)) != SW_OK) goto done;
    }
    st = outByte(&c->out, '}');
done:
    indexFree(&idx);
    return st;
}

swStatus swJsonMergePatch(const char *doc, size_t len, const char *patch, size_t plen, char **out,
                          size_t *outlen, swError *err) {
    *out = NULL;
    *outlen = 0;
    mergeCtx c = {doc, patch, len, plen, {NULL, 0, 0}, err};
    swJsonSpan pv, dv;
    swStatus st = topValue(patch, plen, &pv, err);
    if (st != SW_OK) return st;

    /* The document is not skipped up front (that would scan it twice): an object is walked
     * by the merge, which then checks what follows it; any other document only stands for
     * {} and is not looked at. */
    dv.off = swJsonSkipWhitespace(doc, len, 0);
    dv.len = 0;
    swJsonKind dkind = swJsonKindAt(doc, len, dv.off);
    if (dkind == SW_JSON_INVALID) return malformed(err, dv.off);

    int walked = dkind == SW_JSON_OBJECT && swJsonKindAt(patch, plen, pv.off) == SW_JSON_OBJECT;
    size_t guess = walked ? len + pv.len + 2 : pv.len + 2;
    if ((st = outReserve(&c.out, guess)) != SW_OK) return outFinish(&c.out, st, out, outlen);
    size_t docEnd = 0;
    st = mergeValue(&c, &dv, pv, 0, &docEnd);
    if (st == SW_OK && walked) {
        size_t end = swJsonSkipWhitespace(doc, len, docEnd);
        if (end != len) st = malformed(err, end);
    }
    return outFinish(&c.out, st, out, outlen);
}

/* ---- Merge diff ---- */

typedef struct diffCtx {
    const char *a, *b;
    size_t alen, blen;
    outBuf out;
    swError *err;
    size_t aEnd, bEnd;                          /* just past the top-level objects, once walked */
    swJsonSpan path[SW_JSONTEXT_MAX_DEPTH + 1]; /* member names in b leading to the failure */
} diffCtx;

/* Appends "/" and the decoded name token to a JSON Pointer under construction in
 * dst[0..cap), escaping '~' and '/' and replacing control bytes (this is for a message).
 * Returns the new length; sets *cut when the name did not fit. */
static size_t pathAppend(char *dst, size_t cap, size_t n, const char *tok, size_t toklen,
                         int *cut) {
    strDecoder d;
    int ch;
    if (n >= cap) {
        *cut = 1;
        return n;
    }
    dst[n++] = '/';
    strDecoderInit(&d, tok + 1, toklen - 2);
    while ((ch = strDecoderNext(&d)) >= 0) {
        int escape = ch == '~' || ch == '/';
        if (n + 1 + (size_t)escape > cap) {
            *cut = 1;
            break;
        }
        if (escape) {
            dst[n++] = '~';
            dst[n++] = ch == '~' ? '0' : '1';
        } else {
            dst[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
        }
    }
    return n;
}

/* b holds a null member at path[0..depth) that no patch can produce. */
static swStatus nullInexpressible(diffCtx *c, int depth, size_t nulloff) {
    char ptr[128];
    size_t n = 0;
    int cut = 0;
    for (int i = 0; i < depth && !cut; i++) {
        n = pathAppend(ptr, sizeof(ptr) - 4, n, c->b + c->path[i].off, c->path[i].len, &cut);
    }
    if (cut) {
        memcpy(ptr + n, "...", 3);
        n += 3;
    }
    ptr[n] = '\0';
    return swErrorSet(c->err, SW_ERR_RANGE, nulloff, "merge patch cannot set '%s' to null", ptr);
}

/* SW_OK when the object value bv of b (reached through path[0..depth)) has no null member at
 * any depth reached through objects, i.e. when MergePatch({}, bv) == bv. */
static swStatus checkNullFree(diffCtx *c, swJsonSpan bv, int depth) {
    if (swJsonKindAt(c->b, c->blen, bv.off) != SW_JSON_OBJECT) return SW_OK;
    if (depth >= SW_JSONTEXT_MAX_DEPTH) return tooDeep(c->err, bv.off);
    swJsonIter it;
    swJsonSpan k, v;
    int rc;
    swJsonObjectBegin(&it, c->b, c->blen, bv.off);
    while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) {
        c->path[depth] = k;
        swJsonKind kind = swJsonKindAt(c->b, c->blen, v.off);
        if (kind == SW_JSON_NULL) return nullInexpressible(c, depth + 1, v.off);
        if (kind == SW_JSON_OBJECT) {
            swStatus st = checkNullFree(c, v, depth + 1);
            if (st != SW_OK) return st;
        }
    }
    return rc < 0 ? malformed(c->err, it.pos) : SW_OK;
}

/* *eq = 1 when value va of a equals value vb of b (see jsontext.h for what equal means). */
static swStatus valueEqual(diffCtx *c, swJsonSpan va, swJsonSpan vb, int depth, int *eq) {
    *eq = 0;
    if (va.len == vb.len && memcmp(c->a + va.off, c->b + vb.off, va.len) == 0) {
        *eq = 1;
        return SW_OK;
    }
    swJsonKind kind = swJsonKindAt(c->a, c->alen, va.off);
    if (kind != swJsonKindAt(c->b, c->blen, vb.off)) return SW_OK;
    switch (kind) {
    case SW_JSON_STRING:
        *eq = swJsonStringEqual(c->a + va.off, va.len, c->b + vb.off, vb.len);
        return SW_OK;
    case SW_JSON_TRUE:
    case SW_JSON_FALSE:
    case SW_JSON_NULL:
        *eq = 1;
        return SW_OK;
    case SW_JSON_ARRAY:
    case SW_JSON_OBJECT:
        break;
    default:
        return SW_OK; /* numbers: equal only when their text is */
    }
    if (depth >= SW_JSONTEXT_MAX_DEPTH) return tooDeep(c->err, vb.off);

    swStatus st;
    swJsonIter ia, ib;
    swJsonSpan ka, ea, eb;
    int ra = 0, rb;
    if (kind == SW_JSON_ARRAY) {
        swJsonArrayBegin(&ia, c->a, c->alen, va.off);
        swJsonArrayBegin(&ib, c->b, c->blen, vb.off);
        for (;;) {
            ra = swJsonArrayNext(&ia, &ea);
            rb = swJsonArrayNext(&ib, &eb);
            if (ra < 0) return malformed(c->err, ia.pos);
            if (rb < 0) return malformed(c->err, ib.pos);
            if (ra != rb) {
                *eq = 0; /* one array is longer */
                return SW_OK;
            }
            if (ra == 0) break;
            if ((st = valueEqual(c, ea, eb, depth + 1, eq)) != SW_OK || !*eq) return st;
        }
        *eq = 1;
        return SW_OK;
    }

    objIndex idx;
    if ((st = indexBuild(&idx, c->b, c->blen, vb.off)) != SW_OK) {
        return scanFailure(c->err, st, vb.off);
    }
    size_t matched = 0;
    int same = 1;
    swJsonObjectBegin(&ia, c->a, c->alen, va.off);
    while (same && (ra = swJsonObjectNext(&ia, &ka, &ea)) == 1) {
        size_t i = indexFind(&idx, c->a, ka);
        if (i == NOT_FOUND) {
            same = 0;
            break;
        }
        if (!(idx.m[i].flags & MEMBER_USED)) matched++;
        idx.m[i].flags |= MEMBER_USED;
        if ((st = valueEqual(c, ea, idx.m[i].val, depth + 1, &same)) != SW_OK) goto done;
    }
    if (same && ra < 0) {
        st = malformed(c->err, ia.pos);
        goto done;
    }
    *eq = same && matched == idx.canonical;
    st = SW_OK;
done:
    indexFree(&idx);
    return st;
}

/* Appends the merge patch turning object va of a into object vb of b; *members receives how
 * many members it holds (the caller drops an empty nested patch). path[0..depth) names vb. */
static swStatus diffObjects(diffCtx *c, swJsonSpan va, swJsonSpan vb, int depth, size_t *members) {
    if (depth >= SW_JSONTEXT_MAX_DEPTH) return tooDeep(c->err, vb.off);
    objIndex idx;
    swStatus st = indexBuild(&idx, c->b, c->blen, vb.off);
    if (st != SW_OK) return scanFailure(c->err, st, vb.off);
    if (depth == 0) c->bEnd = idx.end;
    size_t n = 0;
    if ((st = outByte(&c->out, '{')) != SW_OK) goto done;

    swJsonIter it;
    swJsonSpan k, v;
    int rc;
    swJsonObjectBegin(&it, c->a, c->alen, va.off);
    while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) {
        size_t i = indexFind(&idx, c->a, k);
        if (i == NOT_FOUND) {
            if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
            if ((st = outPut(&c->out, c->a + k.off, k.len)) != SW_OK) goto done;
            if ((st = outPut(&c->out, ":null", 5)) != SW_OK) goto done;
            continue;
        }
        member *m = &idx.m[i];
        m->flags |= MEMBER_USED;
        swJsonSpan bv = m->val;
        if (v.len == bv.len && memcmp(c->a + v.off, c->b + bv.off, v.len) == 0) continue;
        c->path[depth] = m->key;
        swJsonKind ka = swJsonKindAt(c->a, c->alen, v.off);
        swJsonKind kb = swJsonKindAt(c->b, c->blen, bv.off);
        if (kb == SW_JSON_NULL) {
            if (ka == SW_JSON_NULL) continue;
            st = nullInexpressible(c, depth + 1, bv.off);
            goto done;
        }
        if (kb == SW_JSON_OBJECT && ka == SW_JSON_OBJECT) {
            /* Write the name, recurse, and take it all back if nothing differed. */
            size_t mark = c->out.len, sub = 0;
            if (n > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
            if ((st = outPut(&c->out, c->b + m->key.off, m->key.len)) != SW_OK) goto done;
            if ((st = outByte(&c->out, ':')) != SW_OK) goto done;
            if ((st = diffObjects(c, v, bv, depth + 1, &sub)) != SW_OK) goto done;
            if (sub == 0) {
                c->out.len = mark;
            } else {
                n++;
            }
            continue;
        }
        if (kb == SW_JSON_OBJECT) {
            if ((st = checkNullFree(c, bv, depth + 1)) != SW_OK) goto done;
        } else {
            int eq;
            if ((st = valueEqual(c, v, bv, depth + 1, &eq)) != SW_OK) goto done;
            if (eq) continue;
        }
        if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
        if ((st = outPut(&c->out, c->b + m->key.off, m->key.len)) != SW_OK) goto done;
        if ((st = outByte(&c->out, ':')) != SW_OK) goto done;
        if ((st = outPut(&c->out, c->b + bv.off, bv.len)) != SW_OK) goto done;
    }
    if (rc < 0) {
        st = malformed(c->err, it.pos);
        goto done;
    }
    if (depth == 0) c->aEnd = it.pos;

    for (size_t i = 0; i < idx.n; i++) {
        member *m = &idx.m[i];
        if (m->flags & (MEMBER_USED | MEMBER_SHADOWED)) continue;
        c->path[depth] = m->key;
        swJsonKind kb = swJsonKindAt(c->b, c->blen, m->val.off);
        if (kb == SW_JSON_NULL) {
            st = nullInexpressible(c, depth + 1, m->val.off);
            goto done;
        }
        if (kb == SW_JSON_OBJECT && (st = checkNullFree(c, m->val, depth + 1)) != SW_OK) {
            goto done;
        }
        if (n++ > 0 && (st = outByte(&c->out, ',')) != SW_OK) goto done;
        if ((st = outPut(&c->out, c->b + m->key.off, m->val.off + m->val.len - m->key.off)) !=
            SW_OK) {
            goto done;
        }
    }
    st = outByte(&c->out, '}');
    *members = n;
done:
    indexFree(&idx);
    return st;
}

swStatus swJsonMergeDiff(const char *a, size_t alen, const char *b, size_t blen, char **out,
                         size_t *outlen, swError *err) {
    *out = NULL;
    *outlen = 0;
    /* As for merge: two objects are walked once, by the diff itself, and what follows them is
     * checked afterwards; otherwise only b's span matters. */
    swJsonSpan av = {swJsonSkipWhitespace(a, alen, 0), 0},
               bv = {swJsonSkipWhitespace(b, blen, 0), 0};
    swJsonKind ka = swJsonKindAt(a, alen, av.off), kb = swJsonKindAt(b, blen, bv.off);
    if (ka == SW_JSON_INVALID) return malformed(err, av.off);
    int walked = ka == SW_JSON_OBJECT && kb == SW_JSON_OBJECT;
    swStatus st;
    if (!walked && (st = topValue(b, blen, &bv, err)) != SW_OK) return st;

    /* Large: the path stack. Allocated rather than put on the caller's stack. */
    diffCtx *c = swAlloc(sizeof(*c));
    if (c == NULL) return SW_ERR_NOMEM;
    c->a = a;
    c->b = b;
    c->alen = alen;
    c->blen = blen;
    c->out = (outBuf){NULL, 0, 0};
    c->err = err;
    c->aEnd = c->bEnd = 0;

    if (walked) {
        size_t members, end;
        st = diffObjects(c, av, bv, 0, &members);
        if (st == SW_OK && (end = swJsonSkipWhitespace(a, alen, c->aEnd)) != alen) {
            st = malformed(err, end);
        }
        if (st == SW_OK && (end = swJsonSkipWhitespace(b, blen, c->bEnd)) != blen) {
            st = malformed(err, end);
        }
    } else {
        /* A non-object b can only be reached by sending b; an object b from a non-object a
         * is reached by b itself, provided the merge does not strip nulls from it. */
        st = kb == SW_JSON_OBJECT ? checkNullFree(c, bv, 0) : SW_OK;
        if (st == SW_OK) st = outPut(&c->out, b + bv.off, bv.len);
    }
    st = outFinish(&c->out, st, out, outlen);
    swFree(c);
    return st;
}
