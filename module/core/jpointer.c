/* jpointer.c -- JSON Pointer (RFC 6901) on JSON text (see jpointer.h). */
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
            swJsonArrayBegin(&it, doc, len, cur);
            while ((rc = swJsonArrayNext(&it, &v)) == 1 && index > 0) index--;
            break;
        }
        case SW_JSON_INVALID:
            return swJsonMalformed(err, cur);
        default:
            return SW_ERR_NOTFOUND; /* a scalar has no members */
        }
        if (rc < 0) return swJsonMalformed(err, it.pos);
        if (rc == 0) return SW_ERR_NOTFOUND;
        cur = v.off;
        p = te;
    }
    swJsonSpan v;
    if (swJsonSkipValue(doc, len, cur, &v) != SW_OK) return swJsonMalformed(err, cur);
    *off = v.off;
    *vlen = v.len;
    return SW_OK;
}
