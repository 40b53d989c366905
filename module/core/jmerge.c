/* jmerge.c -- JSON Merge Patch (RFC 7396) and its diff, on JSON text (see jmerge.h).
 *
 * Invariants:
 *   - output goes to one swBuf; untouched values are copied with memcpy, and a buffer that
 *     failed to grow stops the walk at the next container (SW_ERR_NOMEM);
 *   - objects are matched through swJsonIndex (jindex.h), so merging or diffing two objects
 *     of n members costs O(n);
 *   - recursion stops at SW_JSCAN_MAX_DEPTH. */
#include <stdint.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/jindex.h"
#include "swarm/jmerge.h"
#include "swarm/json.h"

/* A failure from swJsonIndexBuild, with the message it lacks. */
static swStatus scanFailure(swError *err, swStatus st, size_t off) {
    if (st == SW_ERR_PAYLOAD) return swJsonMalformed(err, off);
    return st;
}

/* ---- Merge patch ---- */

typedef struct mergeCtx {
    const char *doc, *patch;
    size_t dlen, plen;
    swBuf out;
    swError *err;
} mergeCtx;

static int isNullAt(const char *buf, size_t len, size_t off) {
    return swJsonKindAt(buf, len, off) == SW_JSON_NULL;
}

/* Merges the patch value pv into the doc value starting at dv->off (NULL: none). When it
 * walks a doc object (the patch value is an object too) *walkedEnd is set just past that
 * object, so the caller need not skip it again; otherwise it is left 0. */
static swStatus mergeValue(mergeCtx *c, const swJsonSpan *dv, swJsonSpan pv, int depth,
                           size_t *walkedEnd) {
    if (c->out.failed) return SW_ERR_NOMEM;
    if (swJsonKindAt(c->patch, c->plen, pv.off) != SW_JSON_OBJECT) {
        swBufAppend(&c->out, c->patch + pv.off, pv.len);
        return SW_OK;
    }
    if (depth >= SW_JSCAN_MAX_DEPTH) return swJsonTooDeep(c->err, pv.off);

    swJsonIndex idx;
    swStatus st = swJsonIndexBuild(&idx, c->patch, c->plen, pv.off);
    if (st != SW_OK) return scanFailure(c->err, st, pv.off);
    size_t n = 0;
    swBufPutU8(&c->out, '{');

    if (dv != NULL && swJsonKindAt(c->doc, c->dlen, dv->off) == SW_JSON_OBJECT) {
        swJsonIter it;
        swJsonSpan k, v;
        int rc;
        swJsonObjectBegin(&it, c->doc, c->dlen, dv->off);
        while ((rc = swJsonObjectNextKey(&it, &k)) == 1) {
            size_t i = swJsonIndexFind(&idx, c->doc, k);
            swJsonMember *m = i == SW_JSON_NOT_FOUND ? NULL : &idx.m[i];
            if (m) m->flags |= SW_JSON_MEMBER_USED;
            if (m == NULL || isNullAt(c->patch, c->plen, m->val.off)) {
                if (swJsonObjectSkipValue(&it, &v) != SW_OK) break;
                if (m) continue; /* deleted */
                /* Untouched: the member's text, name to value, in one copy. */
                if (n++ > 0) swBufPutU8(&c->out, ',');
                swBufAppend(&c->out, c->doc + k.off, v.off + v.len - k.off);
                continue;
            }
            if (n++ > 0) swBufPutU8(&c->out, ',');
            swBufAppend(&c->out, c->doc + k.off, k.len);
            swBufPutU8(&c->out, ':');
            /* Descend without skipping the member first: a merged object is walked once. */
            swJsonSpan sub = {it.pos, 0};
            size_t end = 0;
            if ((st = mergeValue(c, &sub, m->val, depth + 1, &end)) != SW_OK) goto done;
            if (end) {
                swJsonIterResume(&it, end);
            } else if (swJsonObjectSkipValue(&it, &v) != SW_OK) {
                break;
            }
        }
        if (swJsonIterFailed(&it)) {
            st = swJsonMalformed(c->err, it.pos);
            goto done;
        }
        *walkedEnd = it.pos;
    }

    for (size_t i = 0; i < idx.n; i++) {
        swJsonMember *m = &idx.m[i];
        if (m->flags & (SW_JSON_MEMBER_USED | SW_JSON_MEMBER_SHADOWED)) continue;
        if (isNullAt(c->patch, c->plen, m->val.off)) continue;
        if (n++ > 0) swBufPutU8(&c->out, ',');
        swBufAppend(&c->out, c->patch + m->key.off, m->key.len);
        swBufPutU8(&c->out, ':');
        size_t unused = 0;
        if ((st = mergeValue(c, NULL, m->val, depth + 1, &unused)) != SW_OK) goto done;
    }
    swBufPutU8(&c->out, '}');
    st = SW_OK;
done:
    swJsonIndexFree(&idx);
    return st;
}

swStatus swJsonMergePatch(const char *doc, size_t len, const char *patch, size_t plen, char **out,
                          size_t *outlen, swError *err) {
    *out = NULL;
    *outlen = 0;
    mergeCtx c = {doc, patch, len, plen, {NULL, 0, 0, 0}, err};
    swJsonSpan pv, dv;
    swStatus st = swJsonTopValue(patch, plen, &pv, err);
    if (st != SW_OK) return st;

    /* The document is not skipped up front (that would scan it twice): an object is walked
     * by the merge, which then checks what follows it; any other document only stands for
     * {} and is not looked at. */
    dv.off = swJsonSkipWhitespace(doc, len, 0);
    dv.len = 0;
    swJsonKind dkind = swJsonKindAt(doc, len, dv.off);
    if (dkind == SW_JSON_INVALID) return swJsonMalformed(err, dv.off);

    int walked = dkind == SW_JSON_OBJECT && swJsonKindAt(patch, plen, pv.off) == SW_JSON_OBJECT;
    size_t guess = walked ? len + pv.len + 2 : pv.len + 2;
    swBufReserve(&c.out, guess);
    size_t docEnd = 0;
    st = mergeValue(&c, &dv, pv, 0, &docEnd);
    if (st == SW_OK && walked) {
        size_t end = swJsonSkipWhitespace(doc, len, docEnd);
        if (end != len) st = swJsonMalformed(err, end);
    }
    if (st != SW_OK) {
        swBufFree(&c.out);
        return st;
    }
    return swBufTakeText(&c.out, out, outlen);
}

/* ---- Merge diff ---- */

typedef struct diffCtx {
    const char *a, *b;
    size_t alen, blen;
    swBuf out;
    swError *err;
    size_t aEnd, bEnd;                       /* just past the top-level objects, once walked */
    swJsonSpan path[SW_JSCAN_MAX_DEPTH + 1]; /* member names in b leading to the failure */
} diffCtx;

/* Appends "/" and the decoded name token to a JSON Pointer under construction in
 * dst[0..cap), escaping '~' and '/' and replacing control bytes (this is for a message).
 * Returns the new length; sets *cut when the name did not fit. */
static size_t pathAppend(char *dst, size_t cap, size_t n, const char *tok, size_t toklen,
                         int *cut) {
    swJsonStrDecoder d;
    int ch;
    if (n >= cap) {
        *cut = 1;
        return n;
    }
    dst[n++] = '/';
    swJsonStrDecoderInit(&d, tok + 1, toklen - 2);
    while ((ch = swJsonStrDecoderNext(&d)) >= 0) {
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
    if (depth >= SW_JSCAN_MAX_DEPTH) return swJsonTooDeep(c->err, bv.off);
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
    return rc < 0 ? swJsonMalformed(c->err, it.pos) : SW_OK;
}

/* Appends the merge patch turning object va of a into object vb of b; *members receives how
 * many members it holds (the caller drops an empty nested patch). path[0..depth) names vb. */
static swStatus diffObjects(diffCtx *c, swJsonSpan va, swJsonSpan vb, int depth, size_t *members) {
    if (c->out.failed) return SW_ERR_NOMEM;
    if (depth >= SW_JSCAN_MAX_DEPTH) return swJsonTooDeep(c->err, vb.off);
    swJsonIndex idx;
    swStatus st = swJsonIndexBuild(&idx, c->b, c->blen, vb.off);
    if (st != SW_OK) return scanFailure(c->err, st, vb.off);
    if (depth == 0) c->bEnd = idx.end;
    size_t n = 0;
    swBufPutU8(&c->out, '{');

    swJsonIter it;
    swJsonSpan k, v;
    int rc;
    swJsonObjectBegin(&it, c->a, c->alen, va.off);
    while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) {
        size_t i = swJsonIndexFind(&idx, c->a, k);
        if (i == SW_JSON_NOT_FOUND) {
            if (n++ > 0) swBufPutU8(&c->out, ',');
            swBufAppend(&c->out, c->a + k.off, k.len);
            swBufAppend(&c->out, ":null", 5);
            continue;
        }
        swJsonMember *m = &idx.m[i];
        m->flags |= SW_JSON_MEMBER_USED;
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
            if (n > 0) swBufPutU8(&c->out, ',');
            swBufAppend(&c->out, c->b + m->key.off, m->key.len);
            swBufPutU8(&c->out, ':');
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
            st = swJsonValueEqual(c->a, c->alen, v, c->b, c->blen, bv, 0, depth + 1, &eq, c->err);
            if (st != SW_OK) goto done;
            if (eq) continue;
        }
        if (n++ > 0) swBufPutU8(&c->out, ',');
        swBufAppend(&c->out, c->b + m->key.off, m->key.len);
        swBufPutU8(&c->out, ':');
        swBufAppend(&c->out, c->b + bv.off, bv.len);
    }
    if (rc < 0) {
        st = swJsonMalformed(c->err, it.pos);
        goto done;
    }
    if (depth == 0) c->aEnd = it.pos;

    for (size_t i = 0; i < idx.n; i++) {
        swJsonMember *m = &idx.m[i];
        if (m->flags & (SW_JSON_MEMBER_USED | SW_JSON_MEMBER_SHADOWED)) continue;
        c->path[depth] = m->key;
        swJsonKind kb = swJsonKindAt(c->b, c->blen, m->val.off);
        if (kb == SW_JSON_NULL) {
            st = nullInexpressible(c, depth + 1, m->val.off);
            goto done;
        }
        if (kb == SW_JSON_OBJECT && (st = checkNullFree(c, m->val, depth + 1)) != SW_OK) {
            goto done;
        }
        if (n++ > 0) swBufPutU8(&c->out, ',');
        swBufAppend(&c->out, c->b + m->key.off, m->val.off + m->val.len - m->key.off);
    }
    swBufPutU8(&c->out, '}');
    st = SW_OK;
    *members = n;
done:
    swJsonIndexFree(&idx);
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
    if (ka == SW_JSON_INVALID) return swJsonMalformed(err, av.off);
    int walked = ka == SW_JSON_OBJECT && kb == SW_JSON_OBJECT;
    swStatus st;
    if (!walked && (st = swJsonTopValue(b, blen, &bv, err)) != SW_OK) return st;

    /* Large: the path stack. Allocated rather than put on the caller's stack. */
    diffCtx *c = swAlloc(sizeof(*c));
    if (c == NULL) return SW_ERR_NOMEM;
    c->a = a;
    c->b = b;
    c->alen = alen;
    c->blen = blen;
    c->out = (swBuf){NULL, 0, 0, 0};
    c->err = err;
    c->aEnd = c->bEnd = 0;

    if (walked) {
        size_t members, end;
        st = diffObjects(c, av, bv, 0, &members);
        if (st == SW_OK && (end = swJsonSkipWhitespace(a, alen, c->aEnd)) != alen) {
            st = swJsonMalformed(err, end);
        }
        if (st == SW_OK && (end = swJsonSkipWhitespace(b, blen, c->bEnd)) != blen) {
            st = swJsonMalformed(err, end);
        }
    } else {
        /* A non-object b can only be reached by sending b; an object b from a non-object a
         * is reached by b itself, provided the merge does not strip nulls from it. */
        st = kb == SW_JSON_OBJECT ? checkNullFree(c, bv, 0) : SW_OK;
        if (st == SW_OK) swBufAppend(&c->out, b + bv.off, bv.len);
    }
    if (st == SW_OK) {
        st = swBufTakeText(&c->out, out, outlen);
    } else {
        swBufFree(&c->out);
    }
    swFree(c);
    return st;
}
