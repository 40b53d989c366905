/* jindex.c -- the member index of an object and deep equality (see jindex.h).
 *
 * Invariants:
 *   - a small object (up to SW_JSON_INDEX_INLINE members) lives in the index's inline
 *     table and is searched linearly; a larger one gets an open-addressing hash table over
 *     decoded names, so matching two objects of n members costs O(n), not O(n^2);
 *   - of members sharing a name only the last counts; the others are SW_JSON_MEMBER_SHADOWED. */
#include <stdint.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/jindex.h"

/* ---- Object index ---- */

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
    swJsonStrDecoder d;
    swJsonStrDecoderInit(&d, c, n);
    int ch;
    while ((ch = swJsonStrDecoderNext(&d)) >= 0) {
        h ^= (unsigned)ch;
        h *= prime;
    }
    return h;
}

static int memberKeyEqual(const char *abuf, swJsonSpan a, const char *bbuf, swJsonSpan b) {
    return swJsonContentsEqual(abuf + a.off + 1, a.len - 2, bbuf + b.off + 1, b.len - 2);
}

/* Whether member m of the index is named like key (in keybuf). */
static int memberNamed(const swJsonIndex *idx, const swJsonMember *m, const char *keybuf,
                       swJsonSpan key) {
    if (m->flags & SW_JSON_MEMBER_ESCAPED) return memberKeyEqual(idx->buf, m->key, keybuf, key);
    return swJsonContentsEqualBytes(keybuf + key.off + 1, key.len - 2, idx->buf + m->key.off + 1,
                                    m->key.len - 2);
}

void swJsonIndexFree(swJsonIndex *idx) {
    if (idx->m != idx->inl) swFree(idx->m);
    swFree(idx->slots);
}

static swStatus indexAppend(swJsonIndex *idx, swJsonSpan key, swJsonSpan val) {
    if (idx->n == idx->cap) {
        if (idx->cap > SIZE_MAX / 2 / sizeof(swJsonMember)) return SW_ERR_NOMEM;
        size_t cap = idx->cap * 2;
        swJsonMember *m;
        if (idx->m == idx->inl) {
            m = swAlloc(cap * sizeof(swJsonMember));
            if (m != NULL) memcpy(m, idx->inl, sizeof(idx->inl));
        } else {
            m = swRealloc(idx->m, cap * sizeof(swJsonMember));
        }
        if (m == NULL) return SW_ERR_NOMEM;
        idx->m = m;
        idx->cap = cap;
    }
    unsigned flags = memchr(idx->buf + key.off + 1, '\\', key.len - 2) ? SW_JSON_MEMBER_ESCAPED : 0;
    idx->m[idx->n++] = (swJsonMember){key, val, 0, flags};
    return SW_OK;
}

size_t swJsonIndexFind(const swJsonIndex *idx, const char *keybuf, swJsonSpan key) {
    if (idx->slots == NULL) {
        for (size_t i = idx->n; i-- > 0;) {
            if (memberNamed(idx, &idx->m[i], keybuf, key)) return i;
        }
        return SW_JSON_NOT_FOUND;
    }
    uint64_t h = nameHash(keybuf + key.off, key.len);
    for (size_t s = (size_t)h & idx->mask;; s = (s + 1) & idx->mask) {
        size_t e = idx->slots[s];
        if (e == 0) return SW_JSON_NOT_FOUND;
        const swJsonMember *m = &idx->m[e - 1];
        if (m->hash == h && memberNamed(idx, m, keybuf, key)) return e - 1;
    }
}

swStatus swJsonIndexBuild(swJsonIndex *idx, const char *buf, size_t len, size_t off) {
    idx->buf = buf;
    idx->m = idx->inl;
    idx->n = 0;
    idx->cap = SW_JSON_INDEX_INLINE;
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

    if (idx->n <= SW_JSON_INDEX_INLINE) {
        /* Few members: a quadratic pass to mark duplicates beats hashing. */
        for (size_t i = 0; i < idx->n; i++) {
            for (size_t j = i + 1; j < idx->n; j++) {
                if (memberKeyEqual(buf, idx->m[i].key, buf, idx->m[j].key)) {
                    idx->m[i].flags |= SW_JSON_MEMBER_SHADOWED;
                    break;
                }
            }
            if (!(idx->m[i].flags & SW_JSON_MEMBER_SHADOWED)) idx->canonical++;
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
        swJsonMember *m = &idx->m[i];
        m->hash = nameHash(buf + m->key.off, m->key.len);
        size_t s = (size_t)m->hash & idx->mask;
        for (;; s = (s + 1) & idx->mask) {
            size_t e = idx->slots[s];
            if (e == 0) {
                idx->canonical++;
                break;
            }
            swJsonMember *o = &idx->m[e - 1];
            if (o->hash == m->hash && memberKeyEqual(buf, o->key, buf, m->key)) {
                o->flags |= SW_JSON_MEMBER_SHADOWED;
                break;
            }
        }
        idx->slots[s] = i + 1;
    }
    return SW_OK;
fail:
    swJsonIndexFree(idx);
    idx->m = idx->inl;
    idx->slots = NULL;
    return st;
}

/* ---- Numbers ---- */

/* A number token split into the parts numeric comparison needs: the significant digits are
 * those of int[0..in) followed by frac[0..fn); exp is the exponent as written. */
typedef struct numParts {
    const char *ip, *fp;
    size_t in, fn;
    int neg;
    long long exp;
    int huge; /* the exponent does not fit: compare the texts instead */
} numParts;

static void numSplit(const char *s, size_t n, numParts *p) {
    size_t i = 0;
    memset(p, 0, sizeof(*p));
    if (i < n && s[i] == '-') {
        p->neg = 1;
        i++;
    }
    p->ip = s + i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    p->in = (size_t)(s + i - p->ip);
    p->fp = s + i;
    if (i < n && s[i] == '.') {
        p->fp = s + ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        p->fn = (size_t)(s + i - p->fp);
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (p->exp > 100000000000000LL) {
                p->huge = 1;
                break;
            }
            p->exp = p->exp * 10 + (s[i] - '0');
        }
        if (eneg) p->exp = -p->exp;
    }
}

static char numDigit(const numParts *p, size_t k) {
    return k < p->in ? p->ip[k] : p->fp[k - p->in];
}

/* The significant digits [*lo, *hi) of p (leading and trailing zeros dropped); lo == hi for
 * zero. */
static void numSignificant(const numParts *p, size_t *lo, size_t *hi) {
    size_t n = p->in + p->fn, l = 0, h = n;
    while (l < n && numDigit(p, l) == '0') l++;
    while (h > l && numDigit(p, h - 1) == '0') h--;
    *lo = l;
    *hi = h;
}

int swJsonNumberEqual(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen == blen && memcmp(a, b, alen) == 0) return 1;
    numParts pa, pb;
    numSplit(a, alen, &pa);
    numSplit(b, blen, &pb);
    if (pa.huge || pb.huge) return 0; /* texts differ */
    size_t la, ha, lb, hb;
    numSignificant(&pa, &la, &ha);
    numSignificant(&pb, &lb, &hb);
    if (la == ha || lb == hb) return la == ha && lb == hb; /* zero, whatever its sign */
    if (pa.neg != pb.neg || ha - la != hb - lb) return 0;
    /* value = 0.d1d2... x 10^(exp + in - lo): the position of the leading digit. */
    if (pa.exp + (long long)pa.in - (long long)la != pb.exp + (long long)pb.in - (long long)lb) {
        return 0;
    }
    for (size_t k = 0; k < ha - la; k++) {
        if (numDigit(&pa, la + k) != numDigit(&pb, lb + k)) return 0;
    }
    return 1;
}

/* ---- Equality ---- */

/* A failure from swJsonIndexBuild, with the message it lacks. */
static swStatus scanFailure(swError *err, swStatus st, size_t off) {
    if (st == SW_ERR_PAYLOAD) return swJsonMalformed(err, off);
    return st;
}

/* Both sides of a comparison: the two texts, the flags and where errors go. */
typedef struct eqCtx {
    const char *a, *b;
    size_t alen, blen;
    unsigned flags;
    swError *err;
} eqCtx;

static swStatus valueEqual(const eqCtx *c, swJsonSpan va, swJsonSpan vb, int depth, int *eq) {
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
    case SW_JSON_NUMBER:
        if (c->flags & SW_JSON_EQ_NUMERIC) {
            *eq = swJsonNumberEqual(c->a + va.off, va.len, c->b + vb.off, vb.len);
        }
        return SW_OK; /* otherwise equal only when their text is */
    default:
        return SW_OK;
    }
    if (depth >= SW_JSCAN_MAX_DEPTH) return swJsonTooDeep(c->err, vb.off);

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
            if (ra < 0) return swJsonMalformed(c->err, ia.pos);
            if (rb < 0) return swJsonMalformed(c->err, ib.pos);
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

    swJsonIndex idx;
    if ((st = swJsonIndexBuild(&idx, c->b, c->blen, vb.off)) != SW_OK) {
        return scanFailure(c->err, st, vb.off);
    }
    size_t matched = 0;
    int same = 1;
    swJsonObjectBegin(&ia, c->a, c->alen, va.off);
    while (same && (ra = swJsonObjectNext(&ia, &ka, &ea)) == 1) {
        size_t i = swJsonIndexFind(&idx, c->a, ka);
        if (i == SW_JSON_NOT_FOUND) {
            same = 0;
            break;
        }
        if (!(idx.m[i].flags & SW_JSON_MEMBER_USED)) matched++;
        idx.m[i].flags |= SW_JSON_MEMBER_USED;
        if ((st = valueEqual(c, ea, idx.m[i].val, depth + 1, &same)) != SW_OK) goto done;
    }
    if (same && ra < 0) {
        st = swJsonMalformed(c->err, ia.pos);
        goto done;
    }
    *eq = same && matched == idx.canonical;
    st = SW_OK;
done:
    swJsonIndexFree(&idx);
    return st;
}

swStatus swJsonValueEqual(const char *a, size_t alen, swJsonSpan va, const char *b, size_t blen,
                          swJsonSpan vb, unsigned flags, int depth, int *eq, swError *err) {
    eqCtx c = {a, b, alen, blen, flags, err};
    return valueEqual(&c, va, vb, depth, eq);
}
