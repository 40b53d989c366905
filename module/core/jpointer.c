/* jpointer.c -- JSON Pointer (RFC 6901) on JSON text (see jpointer.h).
 *
 * Both entry points check the pointer's syntax first, then walk the reference tokens one
 * container at a time; Locate walks all but the last and then scans the parent once for
 * the target, the separators around it and the end of the container. With FOUND_ONLY the
 * scans stop at what is found and use jscan's one-pass member search, and a memo lets a
 * sequence of locates start each walk where its pointer parts from the previous one. */
#include <stdint.h>
#include <string.h>

#include "swarm/json.h"
#include "swarm/jpointer.h"

/* Compares a member name token with a pointer reference token (already checked: every '~'
 * is followed by '0' or '1'); tilde tells whether the token holds one. */
static int nameEqualsRefToken(const char *name, size_t namelen, const char *tok, size_t toklen,
                              int tilde) {
    if (!tilde) return swJsonContentsEqualBytes(name + 1, namelen - 2, tok, toklen);
    swJsonStrDecoder d;
    swJsonStrDecoderInit(&d, name + 1, namelen - 2);
    size_t i = 0;
    for (;;) {
        int ch = swJsonStrDecoderNext(&d);
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

swStatus swJsonPointerCheck(const char *ptr, size_t ptrlen, swError *err) {
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
    return SW_OK;
}

/* Follows the reference tokens of ptr[0..ptrlen) (checked syntax) from the value at *cur, and
 * leaves *cur at the first byte of the value they select. Only the containers on the path are
 * scanned, and only up to the member or element the pointer names: the document is never
 * skipped as a whole first. */
static swStatus walkFrom(const char *doc, size_t len, const char *ptr, size_t ptrlen, size_t p,
                         size_t *cur, int fast, const swJsonSpan *known, swJsonPathMemo *memo,
                         swError *err) {
    for (; p < ptrlen; known = NULL) {
        size_t ts = p + 1, te = ts;
        while (te < ptrlen && ptr[te] != '/') te++;
        swJsonIter it;
        swJsonSpan k, v;
        int rc = 0;
        switch (swJsonKindAt(doc, len, *cur)) {
        case SW_JSON_OBJECT: {
            int tilde = memchr(ptr + ts, '~', te - ts) != NULL;
            if (fast && !tilde) {
                size_t prev;
                rc = swJsonObjectFind(doc, len, *cur, ptr + ts, te - ts, 0, known, &k, &v, &prev);
                if (rc < 0) return swJsonMalformed(err, *cur);
                break;
            }
            swJsonObjectBegin(&it, doc, len, *cur);
            while ((rc = swJsonObjectNextKey(&it, &k)) == 1) {
                if (nameEqualsRefToken(doc + k.off, k.len, ptr + ts, te - ts, tilde)) {
                    v.off = it.pos; /* descend without skipping the member first */
                    break;
                }
                if (swJsonObjectSkipValue(&it, &v) != SW_OK) rc = SW_ERR_PAYLOAD;
                if (rc < 0) break;
            }
            break;
        }
        case SW_JSON_ARRAY: {
            size_t index;
            if (parseIndex(ptr + ts, te - ts, &index) < 0) return SW_ERR_NOTFOUND;
            swJsonArrayBegin(&it, doc, len, *cur);
            while ((rc = swJsonArrayNext(&it, &v)) == 1 && index > 0) index--;
            break;
        }
        case SW_JSON_INVALID:
            return swJsonMalformed(err, *cur);
        default:
            return SW_ERR_NOTFOUND; /* a scalar has no members */
        }
        if (rc < 0) return swJsonMalformed(err, it.pos);
        if (rc == 0) return SW_ERR_NOTFOUND;
        *cur = v.off;
        p = te;
        if (memo != NULL && memo->n < SW_JSON_MEMO_DEPTH) {
            memo->end[memo->n] = p;
            memo->vend[memo->n] = 0;
            memo->off[memo->n++] = v.off;
        }
    }
    return SW_OK;
}

static swStatus walk(const char *doc, size_t len, const char *ptr, size_t ptrlen, size_t *cur,
                     swError *err) {
    return walkFrom(doc, len, ptr, ptrlen, 0, cur, 0, NULL, NULL, err);
}

swStatus swJsonPointerGet(const char *doc, size_t len, const char *ptr, size_t ptrlen, size_t *off,
                          size_t *vlen, swError *err) {
    swStatus st = swJsonPointerCheck(ptr, ptrlen, err);
    if (st != SW_OK) return st;
    size_t cur = swJsonSkipWhitespace(doc, len, 0);
    if ((st = walk(doc, len, ptr, ptrlen, &cur, err)) != SW_OK) return st;
    swJsonSpan v;
    if (swJsonSkipValue(doc, len, cur, &v) != SW_OK) return swJsonMalformed(err, cur);
    *off = v.off;
    *vlen = v.len;
    return SW_OK;
}

/* Where a new last member or element of the container at off goes: after the last one,
 * which ends at prevEnd, or just inside the opening bracket of an empty container. */
static void locateEnd(const char *doc, size_t len, size_t off, size_t prevEnd, swJsonLoc *loc) {
    if (prevEnd) {
        loc->insertAt = prevEnd;
        loc->sep = SW_JSON_SEP_BEFORE;
    } else {
        loc->insertAt = swJsonSkipWhitespace(doc, len, off) + 1;
        loc->sep = SW_JSON_SEP_NONE;
    }
}

/* The cut that removes a member (starting at from) or an element with value v, and one
 * separator: the comma before it, or for the first one, the comma after it. */
static void cutAround(const char *doc, size_t len, size_t from, swJsonSpan v, size_t prevEnd,
                      swJsonLoc *loc) {
    if (prevEnd) {
        loc->cutFrom = prevEnd; /* the comma before it goes with it */
        loc->cutTo = v.off + v.len;
    } else {
        loc->cutFrom = from;
        loc->cutTo = v.off + v.len;
        size_t next = swJsonSkipWhitespace(doc, len, loc->cutTo);
        if (next < len && doc[next] == ',') {
            loc->cutTo = swJsonSkipWhitespace(doc, len, next + 1); /* and the comma after */
        }
    }
}

/* The member of the object at off named by the reference token tok[0..toklen). */
static swStatus locateMember(const char *doc, size_t len, size_t off, const char *tok,
                             size_t toklen, unsigned flags, const swJsonSpan *known, size_t *end,
                             swJsonLoc *loc, swError *err) {
    swJsonIter it;
    swJsonSpan k, v;
    int rc;
    int tilde = memchr(tok, '~', toklen) != NULL;
    size_t prevEnd = 0; /* just past the previous member's value; 0: none yet */
    if ((flags & SW_JSON_LOC_FOUND_ONLY) && !tilde) {
        rc = swJsonObjectFind(doc, len, off, tok, toklen, 1, known, &k, &v, &prevEnd);
        if (rc < 0) return swJsonMalformed(err, off);
        if (rc == 1) {
            loc->found = 1;
            loc->value = v;
            cutAround(doc, len, k.off, v, prevEnd, loc);
            return SW_OK;
        }
        *end = v.off + 1; /* v.off: the closing brace */
        locateEnd(doc, len, off, prevEnd, loc);
        return SW_OK;
    }
    swJsonObjectBegin(&it, doc, len, off);
    while ((rc = swJsonObjectNextKey(&it, &k)) == 1) {
        if (swJsonObjectSkipValue(&it, &v) != SW_OK) return swJsonMalformed(err, it.pos);
        if (!loc->found && nameEqualsRefToken(doc + k.off, k.len, tok, toklen, tilde)) {
            loc->found = 1;
            loc->value = v;
            cutAround(doc, len, k.off, v, prevEnd, loc);
            if (flags & SW_JSON_LOC_FOUND_ONLY) return SW_OK;
        }
        prevEnd = v.off + v.len;
    }
    if (rc < 0) return swJsonMalformed(err, it.pos);
    /* A new member goes last. */
    locateEnd(doc, len, off, prevEnd, loc);
    return SW_OK;
}

/* The element of the array at off named by tok[0..toklen): an index, or "-" for the end. */
static swStatus locateElement(const char *doc, size_t len, size_t off, const char *tok,
                              size_t toklen, unsigned flags, size_t *parentEnd, swJsonLoc *loc,
                              swError *err) {
    size_t index = SIZE_MAX;
    int end = toklen == 1 && tok[0] == '-';
    if (!end && parseIndex(tok, toklen, &index) < 0) return SW_ERR_NOTFOUND;
    if (end && (flags & SW_JSON_LOC_FOUND_ONLY)) {
        /* The end without counting: skip the array whole, then back from its ']' over
         * whitespace to the end of the last element, or to the '['. */
        swJsonSpan a;
        if (swJsonSkipValue(doc, len, off, &a) != SW_OK) return swJsonMalformed(err, off);
        *parentEnd = a.off + a.len;
        size_t i = a.off + a.len - 1;
        while (i > a.off && (doc[i - 1] == ' ' || doc[i - 1] == '\t' || doc[i - 1] == '\n' ||
                             doc[i - 1] == '\r'))
            i--;
        loc->insertAt = i;
        loc->sep = i == a.off + 1 ? SW_JSON_SEP_NONE : SW_JSON_SEP_BEFORE;
        return SW_OK;
    }
    swJsonIter it;
    swJsonSpan v;
    int rc;
    size_t i = 0, prevEnd = 0;
    swJsonArrayBegin(&it, doc, len, off);
    while ((rc = swJsonArrayNext(&it, &v)) == 1) {
        if (i == index) {
            loc->found = 1;
            loc->value = v;
            loc->insertAt = v.off; /* a new element goes before it */
            loc->sep = SW_JSON_SEP_AFTER;
            if (prevEnd) {
                loc->cutFrom = prevEnd;
                loc->cutTo = v.off + v.len;
            } else {
                loc->cutFrom = v.off;
                loc->cutTo = v.off + v.len;
                size_t next = swJsonSkipWhitespace(doc, len, loc->cutTo);
                if (next < len && doc[next] == ',') {
                    loc->cutTo = swJsonSkipWhitespace(doc, len, next + 1);
                }
            }
            loc->index = i;
            return SW_OK;
        }
        prevEnd = v.off + v.len;
        i++;
    }
    if (rc < 0) return swJsonMalformed(err, it.pos);
    if (!end && index != i) return SW_ERR_NOTFOUND; /* past the end */
    loc->index = i;
    locateEnd(doc, len, off, prevEnd, loc);
    return SW_OK;
}

swStatus swJsonPointerLocate(const char *doc, size_t len, const char *ptr, size_t ptrlen,
                             swJsonLoc *loc, swError *err) {
    return swJsonPointerLocateFlags(doc, len, ptr, ptrlen, 0, NULL, loc, err);
}

swStatus swJsonPointerLocateFlags(const char *doc, size_t len, const char *ptr, size_t ptrlen,
                                  unsigned flags, swJsonPathMemo *memo, swJsonLoc *loc,
                                  swError *err) {
    memset(loc, 0, sizeof(*loc));
    swStatus st = swJsonPointerCheck(ptr, ptrlen, err);
    if (st != SW_OK) return st;
    size_t cur = swJsonSkipWhitespace(doc, len, 0);
    if (ptrlen == 0) {
        loc->parent = SW_JSON_INVALID;
        loc->found = 1;
        if (swJsonSkipValue(doc, len, cur, &loc->value) != SW_OK) return swJsonMalformed(err, cur);
        return SW_OK;
    }
    size_t last = ptrlen;
    while (ptr[--last] != '/') continue;
    for (size_t i = 0; i < ptrlen; i++) loc->depth += ptr[i] == '/';
    size_t p = 0;
    swJsonSpan known = {0, 0};
    if (memo != NULL) {
        /* Start from the longest recorded prefix of the parent's pointer. */
        size_t k = memo->n;
        while (k > 0) {
            size_t e = memo->end[k - 1];
            if (e <= last && (e == last || ptr[e] == '/') && memcmp(memo->ptr, ptr, e) == 0) break;
            k--;
        }
        /* Where the pointers part, the old one's value may have to be skipped: measure it
         * from the deepest end known inside it. */
        size_t j = memo->n;
        while (j > k && memo->vend[j - 1] == 0) j--;
        size_t e;
        if (j > k && swJsonSkipOut(doc, len, memo->vend[j - 1], j - 1 - k, &e) == SW_OK) {
            known.off = memo->off[k];
            known.len = e - memo->off[k];
        }
        if (known.len == 0) known = memo->known;
        memo->n = k;
        memo->ptr = ptr;
        if (k > 0) {
            p = memo->end[k - 1];
            cur = memo->off[k - 1];
        }
    }
    int fast = (flags & SW_JSON_LOC_FOUND_ONLY) != 0;
    int walks = p < last;
    if ((st = walkFrom(doc, len, ptr, last, p, &cur, fast, &known, memo, err)) != SW_OK) {
        if (memo != NULL) memo->n = 0;
        return st;
    }
    size_t end = 0; /* just past the parent, when measured */
    loc->token = ptr + last + 1;
    loc->toklen = ptrlen - last - 1;
    loc->parent = swJsonKindAt(doc, len, cur);
    switch (loc->parent) {
    case SW_JSON_OBJECT:
        st = locateMember(doc, len, cur, loc->token, loc->toklen, flags, walks ? NULL : &known,
                          &end, loc, err);
        break;
    case SW_JSON_ARRAY:
        st = locateElement(doc, len, cur, loc->token, loc->toklen, flags, &end, loc, err);
        break;
    case SW_JSON_INVALID:
        return swJsonMalformed(err, cur);
    default:
        return SW_ERR_NOTFOUND; /* a scalar has no members */
    }
    if (st == SW_OK && memo != NULL && memo->n > 0 && memo->end[memo->n - 1] == last) {
        memo->vend[memo->n - 1] = end;
    }
    return st;
}

size_t swJsonPointerUnescape(const char *tok, size_t toklen, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < toklen; i++) {
        char c = tok[i];
        if (c == '~' && i + 1 < toklen) c = tok[++i] == '0' ? '~' : '/';
        out[n++] = c;
    }
    return n;
}
