/* jpatch.c -- JSON Patch (RFC 6902) on JSON text (see jpatch.h).
 *
 * Two passes over the ops. The first checks every op's shape and decodes its path and from
 * strings into one arena sized once (ops refer to them by offset).
 * The second applies the ops in order: each one locates its target in the current text and
 * splices it, and nothing outside the target changes.
 *
 *   cur:  {"a":1,"tasks":[...],"done":7}
 *                               ^^^ splice [off, off + 1) <- "8"
 *   next: {"a":1,"tasks":[...],"done":8}
 *
 * Ops that copy no value out of the document (all but move and copy) are applied in one
 * buffer with a gap after the last write (gap mode, below): an op costs the scan to its
 * target, which starts where its pointer parts from the previous op's, plus moving the gap
 * there. The others take the plain way: each op writes the next text as prefix + new bytes
 * + suffix, one copy of the document per op.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/jindex.h"
#include "swarm/jpatch.h"
#include "swarm/jpointer.h"
#include "swarm/jscan.h"
#include "swarm/json.h"

typedef enum opKind { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST, OP_INCR } opKind;

static const struct {
    const char *name;
    opKind kind;
    int needsValue, needsFrom;
} opTable[] = {
    {"add", OP_ADD, 1, 0},   {"remove", OP_REMOVE, 0, 0}, {"replace", OP_REPLACE, 1, 0},
    {"move", OP_MOVE, 0, 1}, {"copy", OP_COPY, 0, 1},     {"test", OP_TEST, 1, 0},
    {"incr", OP_INCR, 1, 0},
};

typedef struct patchOp {
    opKind kind;
    size_t at;            /* byte offset of the op in the ops text */
    size_t path, pathlen; /* the decoded path: arena offset and length */
    size_t from, fromlen; /* the decoded from (move, copy) */
    swJsonSpan value;     /* in the ops text (add, replace, test, incr) */
} patchOp;

typedef struct patchCtx {
    const char *ops;
    size_t opslen;
    int maxdepth;
    swBuf arena; /* decoded paths */
    patchOp *op;
    size_t nop;
    const char *cur; /* the current text: the input, or text owned by one of the buffers */
    size_t curlen;
    swBuf bufs[2]; /* the text after the previous op and the one being written */
    int which;     /* bufs[which] is the next to write */
    swBuf scratch; /* a value moved or copied, an incr result */
    /* Gap mode (see applyGapped): the text is bufs[0] with a run of spaces at [gs, ge) that is
     * not part of it; before the first write the text is still the input (gapText 0). */
    int gapMode, gapText;
    size_t gs, ge;
    size_t slack;        /* gap mode: the gap's size when it is made */
    swBuf ins;           /* gap mode: a new member or element being written */
    swJsonPathMemo memo; /* gap mode: where the last locate went */
    int64_t *incr;
    size_t nincr, capincr;
    swError *err;
} patchCtx;

/* ---- Messages ---- */

/* A pointer for a message: at most 128 bytes, control bytes as '?', "..." when cut. */
static const char *quoted(char *dst, size_t cap, const char *p, size_t n) {
    size_t max = cap - 4, k = 0;
    for (; k < n && k < max; k++) {
        unsigned char c = (unsigned char)p[k];
        dst[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return dst;
}

#define QUOTE_CAP (128 + 4)

static const char *opPath(const patchCtx *c, const patchOp *op, char *dst) {
    return quoted(dst, QUOTE_CAP, c->arena.data + op->path, op->pathlen);
}

static const char *opFrom(const patchCtx *c, const patchOp *op, char *dst) {
    return quoted(dst, QUOTE_CAP, c->arena.data + op->from, op->fromlen);
}

/* ---- Shape of the ops (first pass) ---- */

/* Decodes the JSON string token at tok into the arena; *off and *n locate it there. */
static swStatus decodeInto(swBuf *arena, const char *tok, size_t toklen, size_t *off, size_t *n) {
    swJsonStrDecoder d;
    int ch;
    *off = arena->len;
    swJsonStrDecoderInit(&d, tok + 1, toklen - 2);
    while ((ch = swJsonStrDecoderNext(&d)) >= 0) swBufPutU8(arena, (uint8_t)ch);
    if (arena->failed) return SW_ERR_NOMEM;
    *n = arena->len - *off;
    return ch == -1 ? SW_OK : SW_ERR_PAYLOAD; /* -2: the validator lets no bad escape by */
}

static int nameIs(const char *ops, swJsonSpan k, const char *name) {
    return swJsonStringEqualBytes(ops + k.off, k.len, name, strlen(name));
}

static swStatus badOp(patchCtx *c, size_t i, size_t at, const char *what) {
    return swErrorSet(c->err, SW_ERR_BADOP, at, "op %zu %s", i, what);
}

static swStatus checkPointer(patchCtx *c, size_t i, size_t at, const char *which, size_t off,
                             size_t n) {
    swError perr;
    if (swJsonPointerCheck(c->arena.data + off, n, &perr) != SW_OK) {
        return swErrorSet(c->err, SW_ERR_BADOP, at, "op %zu has an invalid %s: %s", i, which,
                          perr.msg);
    }
    return SW_OK;
}

static swStatus parseOp(patchCtx *c, size_t i, swJsonSpan ov, patchOp *op) {
    swJsonIter it;
    swJsonSpan k, v, kind = {0, 0}, path = {0, 0}, from = {0, 0}, value = {0, 0};
    int rc;
    memset(op, 0, sizeof(*op));
    op->at = ov.off;
    if (swJsonKindAt(c->ops, c->opslen, ov.off) != SW_JSON_OBJECT) {
        return badOp(c, i, ov.off, "is not an object");
    }
    swJsonObjectBegin(&it, c->ops, c->opslen, ov.off);
    while ((rc = swJsonObjectNext(&it, &k, &v)) == 1) {
        swJsonSpan *slot = nameIs(c->ops, k, "op")      ? &kind
                           : nameIs(c->ops, k, "path")  ? &path
                           : nameIs(c->ops, k, "from")  ? &from
                           : nameIs(c->ops, k, "value") ? &value
                                                        : NULL;
        if (slot == NULL) continue;
        if (slot->len != 0) {
            const char *name = slot == &kind   ? "has two 'op' members"
                               : slot == &path ? "has two 'path' members"
                               : slot == &from ? "has two 'from' members"
                                               : "has two 'value' members";
            return badOp(c, i, ov.off, name);
        }
        *slot = v;
    }
    if (rc < 0) return swJsonMalformed(c->err, it.pos);

    if (kind.len == 0) return badOp(c, i, ov.off, "has no 'op'");
    if (swJsonKindAt(c->ops, c->opslen, kind.off) != SW_JSON_STRING) {
        return badOp(c, i, ov.off, "'op' is not a string");
    }
    size_t t = 0, nt = sizeof(opTable) / sizeof(opTable[0]);
    while (t < nt && !nameIs(c->ops, kind, opTable[t].name)) t++;
    if (t == nt) {
        char q[QUOTE_CAP];
        size_t off, n;
        swStatus st = decodeInto(&c->arena, c->ops + kind.off, kind.len, &off, &n);
        if (st != SW_OK) return st;
        return swErrorSet(c->err, SW_ERR_BADOP, ov.off, "op %zu has an unknown op '%s'", i,
                          quoted(q, sizeof(q), c->arena.data + off, n));
    }
    op->kind = opTable[t].kind;

    if (path.len == 0) return badOp(c, i, ov.off, "has no 'path'");
    if (swJsonKindAt(c->ops, c->opslen, path.off) != SW_JSON_STRING) {
        return badOp(c, i, ov.off, "'path' is not a string");
    }
    swStatus st = decodeInto(&c->arena, c->ops + path.off, path.len, &op->path, &op->pathlen);
    if (st != SW_OK) return st;
    if ((st = checkPointer(c, i, ov.off, "path", op->path, op->pathlen)) != SW_OK) return st;

    if (opTable[t].needsFrom) {
        if (from.len == 0) return badOp(c, i, ov.off, "has no 'from'");
        if (swJsonKindAt(c->ops, c->opslen, from.off) != SW_JSON_STRING) {
            return badOp(c, i, ov.off, "'from' is not a string");
        }
        st = decodeInto(&c->arena, c->ops + from.off, from.len, &op->from, &op->fromlen);
        if (st != SW_OK) return st;
        if ((st = checkPointer(c, i, ov.off, "from", op->from, op->fromlen)) != SW_OK) return st;
    }
    if (opTable[t].needsValue) {
        if (value.len == 0) return badOp(c, i, ov.off, "has no 'value'");
        op->value = value;
    }
    return SW_OK;
}

static swStatus parseOps(patchCtx *c) {
    swJsonSpan top, ov;
    swJsonIter it;
    int rc;
    swStatus st = swJsonTopValue(c->ops, c->opslen, &top, c->err);
    if (st != SW_OK) return st;
    /* Decoding never lengthens a string, so the arena never needs to grow (and is never
     * NULL, even when every string is empty). */
    swBufReserve(&c->arena, c->opslen + 1);
    if (c->arena.failed) return SW_ERR_NOMEM;
    if (swJsonKindAt(c->ops, c->opslen, top.off) != SW_JSON_ARRAY) {
        return swErrorSet(c->err, SW_ERR_BADOP, top.off, "ops must be a JSON array");
    }
    size_t n = 0;
    swJsonArrayBegin(&it, c->ops, c->opslen, top.off);
    while ((rc = swJsonArrayNext(&it, &ov)) == 1) n++;
    if (rc < 0) return swJsonMalformed(c->err, it.pos);
    if (n > 0) {
        c->op = swAlloc(n * sizeof(patchOp)); /* n <= opslen / 2: no overflow */
        if (c->op == NULL) return SW_ERR_NOMEM;
    }
    swJsonArrayBegin(&it, c->ops, c->opslen, top.off);
    while (swJsonArrayNext(&it, &ov) == 1) {
        if ((st = parseOp(c, c->nop, ov, &c->op[c->nop])) != SW_OK) return st;
        c->nop++;
    }
    return SW_OK;
}

/* ---- Text surgery (second pass) ---- */

/* The buffer the next text goes to, emptied. */
static swBuf *nextBuf(patchCtx *c) {
    swBuf *b = &c->bufs[c->which];
    b->len = 0;
    b->failed = 0;
    return b;
}

/* Makes the text just written the current one. */
static swStatus advance(patchCtx *c, swBuf *b) {
    if (b->failed) return SW_ERR_NOMEM;
    c->cur = b->data;
    c->curlen = b->len;
    c->which ^= 1;
    return SW_OK;
}

/* Gap mode: the offset in the text of offset pos of the buffer (a pos inside the gap is where
 * the gap is). */
static size_t gapReal(const patchCtx *c, size_t pos) {
    if (!c->gapText || pos <= c->gs) return pos;
    return pos >= c->ge ? pos - (c->ge - c->gs) : c->gs;
}

/* Gap mode's splice: moves the gap to the text offset of from (copying only the bytes between
 * where it was and there), widens it over the bytes cut, writes ins at its start and fills
 * the rest with spaces, so the buffer stays a JSON text with the same value as the text. */
static swStatus gapSplice(patchCtx *c, size_t from, size_t to, const char *ins, size_t n) {
    swBuf *b = &c->bufs[0];
    size_t rf = gapReal(c, from), rt = gapReal(c, to);
    /* The memo keeps what lies before the write: text offsets, which are also buffer offsets
     * once the gap is at the write. */
    size_t keep = 0;
    while (keep < c->memo.n && gapReal(c, c->memo.off[keep]) < rf) {
        c->memo.off[keep] = gapReal(c, c->memo.off[keep]);
        size_t e = c->memo.vend[keep] ? gapReal(c, c->memo.vend[keep]) : 0;
        if (e > rf) e = e >= rt ? e - (rt - rf) + n : 0; /* as a text offset after the write */
        c->memo.vend[keep] = e;
        keep++;
    }
    c->memo.n = keep;
    c->memo.known = (swJsonSpan){0, 0};
    /* The gap is all spaces between writes; each step below fills what it adds to it. */
    if (!c->gapText) {
        /* The first write: the input with the gap at the first edit. The slack is the most
         * the remaining ops can write (see applyGapped), so it is rarely outgrown. */
        size_t tail = c->curlen - rt;
        swBufReserve(b, rf + n + c->slack + tail);
        if (b->failed) return SW_ERR_NOMEM;
        memcpy(b->data, c->cur, rf);
        memcpy(b->data + rf + n + c->slack, c->cur + rt, tail);
        b->len = rf + n + c->slack + tail;
        c->gs = rf;
        c->ge = rf + n + c->slack;
        memset(b->data + c->gs, ' ', c->ge - c->gs);
        c->gapText = 1;
    } else {
        size_t g = c->ge - c->gs;
        if (rf < c->gs) { /* back: the bytes before the gap go after it */
            size_t d = c->gs - rf, was = c->gs;
            memmove(b->data + c->ge - d, b->data + rf, d);
            c->gs = rf;
            c->ge -= d;
            memset(b->data + c->gs, ' ', (was < c->ge ? was : c->ge) - c->gs);
        } else if (rf > c->gs) { /* forward: the bytes after the gap go before it */
            size_t d = rf - c->gs, was = c->ge;
            memmove(b->data + c->gs, b->data + c->ge, d);
            c->gs = rf;
            c->ge = rf + g;
            size_t fill = was > c->gs ? was : c->gs;
            memset(b->data + fill, ' ', c->ge - fill);
        }
        memset(b->data + c->ge, ' ', rt - rf); /* the cut */
        c->ge += rt - rf;
        if (c->ge - c->gs < n) {
            size_t more = n - (c->ge - c->gs) + 64 + b->len / 8, tail = b->len - c->ge;
            swBufReserve(b, more);
            if (b->failed) return SW_ERR_NOMEM;
            memmove(b->data + c->ge + more, b->data + c->ge, tail);
            memset(b->data + c->ge, ' ', more);
            c->ge += more;
            b->len += more;
        }
    }
    if (n > 0) memcpy(b->data + c->gs, ins, n); /* ins is NULL for a cut */
    c->gs += n;
    for (size_t k = 0; k < c->memo.n; k++) { /* the ends after the write: past the gap */
        if (c->memo.vend[k] >= c->gs) c->memo.vend[k] += c->ge - c->gs;
    }
    c->cur = b->data;
    c->curlen = b->len;
    return SW_OK;
}

/* next = cur[0..from) + ins[0..n) + cur[to..): the whole of an op's effect on the text. */
static swStatus splice(patchCtx *c, size_t from, size_t to, const char *ins, size_t n) {
    if (c->gapMode) return gapSplice(c, from, to, ins, n);
    swBuf *b = nextBuf(c);
    swBufReserve(b, from + n + (c->curlen - to));
    swBufAppend(b, c->cur, from);
    swBufAppend(b, ins, n);
    swBufAppend(b, c->cur + to, c->curlen - to);
    return advance(c, b);
}

/* A splice that writes a whole value in place of one: in gap mode the next locate need not
 * skip it (its span is known until the next write). */
static swStatus spliceValue(patchCtx *c, size_t from, size_t to, const char *ins, size_t n) {
    swStatus st = splice(c, from, to, ins, n);
    if (st == SW_OK && c->gapMode) c->memo.known = (swJsonSpan){c->gs - n, n};
    return st;
}

/* Appends the JSON string token naming the member that token tok (escaped) stands for. */
static void putName(swBuf *b, const char *tok, size_t toklen) {
    static const char hex[] = "0123456789abcdef";
    swBufPutU8(b, '"');
    for (size_t i = 0; i < toklen; i++) {
        unsigned char ch = (unsigned char)tok[i];
        if (ch == '~' && i + 1 < toklen) ch = tok[++i] == '0' ? '~' : '/';
        if (ch == '"' || ch == '\\') {
            swBufPutU8(b, '\\');
            swBufPutU8(b, ch);
        } else if (ch < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            swBufAppend(b, esc, sizeof(esc));
        } else {
            swBufPutU8(b, ch);
        }
    }
    swBufPutU8(b, '"');
}

/* ",<name>:<value>", "<value>," ... : a new member or element as it goes at loc->insertAt. */
static void putNewItem(swBuf *b, const swJsonLoc *loc, const char *val, swJsonSpan v) {
    if (loc->sep == SW_JSON_SEP_BEFORE) swBufPutU8(b, ',');
    if (loc->parent == SW_JSON_OBJECT) {
        putName(b, loc->token, loc->toklen);
        swBufPutU8(b, ':');
    }
    swBufAppend(b, val + v.off, v.len);
    if (loc->sep == SW_JSON_SEP_AFTER) swBufPutU8(b, ',');
}

static swStatus noPath(patchCtx *c, size_t i, const char *which, const char *ptr) {
    return swErrorSet(c->err, SW_ERR_NOPATH, c->op[i].at, "op %zu %s '%s' does not exist", i, which,
                      ptr);
}

/* Locates the op's path in the current text; a missing parent is NOPATH. */
static swStatus locate(patchCtx *c, size_t i, const char *ptr, size_t n, const char *which,
                       swJsonLoc *loc) {
    /* Gap mode never uses insertAt for a found target, nor the index of "-"; the plain way
     * keeps the full scan (and so its exact errors on a malformed document). */
    swStatus st =
        swJsonPointerLocateFlags(c->cur, c->curlen, ptr, n, c->gapMode ? SW_JSON_LOC_FOUND_ONLY : 0,
                                 c->gapMode ? &c->memo : NULL, loc, c->err);
    if (st == SW_ERR_NOTFOUND) {
        char q[QUOTE_CAP];
        return noPath(c, i, which, quoted(q, sizeof(q), ptr, n));
    }
    return st;
}

/* Adds the value val[v] (a text that is not the current one) at the op's path. */
static swStatus addValue(patchCtx *c, size_t i, const char *val, swJsonSpan v) {
    const patchOp *op = &c->op[i];
    swJsonLoc loc;
    swStatus st = locate(c, i, c->arena.data + op->path, op->pathlen, "path", &loc);
    if (st != SW_OK) return st;
    if (loc.depth + swJsonDepthOf(val, v) > (size_t)c->maxdepth) {
        return swErrorSet(c->err, SW_ERR_PAYLOAD, op->at,
                          "op %zu nests the document deeper than %d levels", i, c->maxdepth);
    }
    if (loc.parent == SW_JSON_INVALID) return splice(c, 0, c->curlen, val + v.off, v.len);
    if (loc.parent == SW_JSON_OBJECT && loc.found) {
        return spliceValue(c, loc.value.off, loc.value.off + loc.value.len, val + v.off, v.len);
    }
    /* A new member or element: build ",<text>" or "<text>," in the other buffer's place (gap
     * mode: on its own, then spliced in). */
    swBuf *b = c->gapMode ? &c->ins : nextBuf(c);
    if (c->gapMode) {
        b->len = 0;
        swBufReserve(b, v.len + loc.toklen * 6 + 8);
        putNewItem(b, &loc, val, v);
        if (b->failed) return SW_ERR_NOMEM;
        return splice(c, loc.insertAt, loc.insertAt, b->data, b->len);
    }
    swBufReserve(b, c->curlen + v.len + loc.toklen + 8);
    swBufAppend(b, c->cur, loc.insertAt);
    putNewItem(b, &loc, val, v);
    swBufAppend(b, c->cur + loc.insertAt, c->curlen - loc.insertAt);
    return advance(c, b);
}

/* Copies the value at the op's from into scratch (the text it lives in is about to change). */
static swStatus takeFrom(patchCtx *c, size_t i, swJsonLoc *loc, swJsonSpan *v) {
    const patchOp *op = &c->op[i];
    swStatus st = locate(c, i, c->arena.data + op->from, op->fromlen, "from", loc);
    if (st != SW_OK) return st;
    if (!loc->found) {
        char q[QUOTE_CAP];
        return noPath(c, i, "from", opFrom(c, op, q));
    }
    c->scratch.len = 0;
    swBufAppend(&c->scratch, c->cur + loc->value.off, loc->value.len);
    if (c->scratch.failed) return SW_ERR_NOMEM;
    *v = (swJsonSpan){0, loc->value.len};
    return SW_OK;
}

/* An integer token: -?(0|[1-9][0-9]*) within int64. */
static int parseInt64(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = n > 0 && s[0] == '-';
    i = (size_t)neg;
    if (i >= n) return -1;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (limit - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static swStatus applyIncr(patchCtx *c, size_t i) {
    const patchOp *op = &c->op[i];
    char q[QUOTE_CAP];
    swJsonLoc loc;
    int64_t have, by;
    swStatus st = locate(c, i, c->arena.data + op->path, op->pathlen, "path", &loc);
    if (st != SW_OK) return st;
    if (!loc.found) return noPath(c, i, "path", opPath(c, op, q));
    if (swJsonKindAt(c->ops, c->opslen, op->value.off) != SW_JSON_NUMBER ||
        parseInt64(c->ops + op->value.off, op->value.len, &by) < 0) {
        return swErrorSet(c->err, SW_ERR_TYPE, op->at, "op %zu incr value is not an integer", i);
    }
    if (swJsonKindAt(c->cur, c->curlen, loc.value.off) != SW_JSON_NUMBER ||
        parseInt64(c->cur + loc.value.off, loc.value.len, &have) < 0) {
        return swErrorSet(c->err, SW_ERR_TYPE, op->at,
                          "op %zu incr target at '%s' is not an integer", i, opPath(c, op, q));
    }
    if ((by > 0 && have > INT64_MAX - by) || (by < 0 && have < INT64_MIN - by)) {
        return swErrorSet(c->err, SW_ERR_TYPE, op->at, "op %zu incr overflows int64 at '%s'", i,
                          opPath(c, op, q));
    }
    int64_t sum = have + by;
    if (c->nincr == c->capincr) {
        size_t cap = c->capincr ? c->capincr * 2 : 4;
        int64_t *p = swRealloc(c->incr, cap * sizeof(int64_t));
        if (p == NULL) return SW_ERR_NOMEM;
        c->incr = p;
        c->capincr = cap;
    }
    c->incr[c->nincr++] = sum;
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, sum);
    if (loc.parent == SW_JSON_INVALID) return splice(c, 0, c->curlen, num, (size_t)n);
    return spliceValue(c, loc.value.off, loc.value.off + loc.value.len, num, (size_t)n);
}

static int isPrefixPath(const char *from, size_t fromlen, const char *path, size_t pathlen) {
    return fromlen < pathlen && memcmp(from, path, fromlen) == 0 && path[fromlen] == '/';
}

static swStatus applyOp(patchCtx *c, size_t i) {
    const patchOp *op = &c->op[i];
    const char *path = c->arena.data + op->path;
    char q[QUOTE_CAP];
    swJsonLoc loc;
    swJsonSpan v;
    swStatus st;
    switch (op->kind) {
    case OP_ADD:
        return addValue(c, i, c->ops, op->value);
    case OP_REMOVE:
    case OP_REPLACE:
        if ((st = locate(c, i, path, op->pathlen, "path", &loc)) != SW_OK) return st;
        if (!loc.found) return noPath(c, i, "path", opPath(c, op, q));
        if (op->kind == OP_REMOVE) {
            if (loc.parent == SW_JSON_INVALID) {
                return badOp(c, i, op->at, "cannot remove the whole document");
            }
            return splice(c, loc.cutFrom, loc.cutTo, NULL, 0);
        }
        if (loc.depth + swJsonDepthOf(c->ops, op->value) > (size_t)c->maxdepth) {
            return swErrorSet(c->err, SW_ERR_PAYLOAD, op->at,
                              "op %zu nests the document deeper than %d levels", i, c->maxdepth);
        }
        if (loc.parent == SW_JSON_INVALID) {
            return splice(c, 0, c->curlen, c->ops + op->value.off, op->value.len);
        }
        return spliceValue(c, loc.value.off, loc.value.off + loc.value.len, c->ops + op->value.off,
                           op->value.len);
    case OP_MOVE: {
        const char *from = c->arena.data + op->from;
        if (isPrefixPath(from, op->fromlen, path, op->pathlen) ||
            (op->fromlen == 0 && op->pathlen > 0)) {
            char qf[QUOTE_CAP];
            return swErrorSet(c->err, SW_ERR_BADOP, op->at, "op %zu moves '%s' into itself", i,
                              opFrom(c, op, qf));
        }
        if ((st = takeFrom(c, i, &loc, &v)) != SW_OK) return st;
        if (op->fromlen == op->pathlen && memcmp(from, path, op->pathlen) == 0) return SW_OK;
        if (loc.parent == SW_JSON_INVALID) return badOp(c, i, op->at, "cannot move the document");
        if ((st = splice(c, loc.cutFrom, loc.cutTo, NULL, 0)) != SW_OK) return st;
        return addValue(c, i, c->scratch.data, v);
    }
    case OP_COPY:
        if ((st = takeFrom(c, i, &loc, &v)) != SW_OK) return st;
        return addValue(c, i, c->scratch.data, v);
    case OP_TEST: {
        size_t off, vlen;
        int eq = 0;
        st = swJsonPointerGet(c->cur, c->curlen, path, op->pathlen, &off, &vlen, c->err);
        if (st == SW_OK) {
            st = swJsonValueEqual(c->cur, c->curlen, (swJsonSpan){off, vlen}, c->ops, c->opslen,
                                  op->value, SW_JSON_EQ_NUMERIC, 0, &eq, c->err);
            if (st != SW_OK) return st;
        } else if (st != SW_ERR_NOTFOUND) {
            return st;
        }
        if (eq) return SW_OK;
        return swErrorSet(c->err, SW_ERR_TESTFAILED, op->at, "op %zu test failed at '%s'", i,
                          opPath(c, op, q));
    }
    case OP_INCR:
        return applyIncr(c, i);
    }
    return SW_ERR_BADOP; /* not reached */
}

/* ---- Gap mode ----
 *
 * Rewriting the whole text for every op makes an EDIT of k ops cost k copies of the
 * document. When no op copies a value out of the document (move, copy), the ops are applied
 * to one buffer instead, holding the text with a gap of spaces right after the last write:
 *
 *   {"c":{"id":"x2","k":{...}      ,"v":{...}},"i":{...}}
 *                          ^^^^^^ the gap: whitespace to the scanner, not in the text
 *
 * Each write moves the gap to its place (copying the bytes in between: ops in document
 * order move it forward a total of one document), cuts into it and writes at its start.
 * The pointer functions see a valid JSON text with the same value, and every offset they
 * return maps to one in the text (gapReal). Values spanning the gap are only compared (test),
 * never copied, which is why move and copy go the other way. When an op fails, the patch
 * is applied again the other way from the start, so errors (messages, offsets) are exactly
 * the same. */

/* 1 when every op can be applied in gap mode; sets c->slack to the most bytes they write. */
static int gapEligible(patchCtx *c) {
    size_t slack = 64;
    for (size_t i = 0; i < c->nop; i++) {
        const patchOp *op = &c->op[i];
        if (op->kind == OP_MOVE || op->kind == OP_COPY) return 0;
        /* a value; for add, a name (each byte escaped as \u00XX at worst), its quotes, ':'
         * and ','; for incr, an int64 */
        if (op->kind == OP_ADD) {
            size_t tok = op->pathlen;
            while (tok > 0 && c->arena.data[op->path + tok - 1] != '/') tok--;
            slack += op->value.len + 6 * (op->pathlen - tok) + 4;
        } else if (op->kind == OP_REPLACE) {
            slack += op->value.len;
        } else if (op->kind == OP_INCR) {
            slack += 24;
        }
    }
    c->slack = slack;
    return 1;
}

/* Applies every op in gap mode, the result in bufs[0]. */
static swStatus applyGapped(patchCtx *c, const char *doc, size_t len) {
    swStatus st = SW_OK;
    c->gapMode = 1;
    for (size_t i = 0; st == SW_OK && i < c->nop; i++) st = applyOp(c, i);
    swBuf *b = &c->bufs[0];
    if (st == SW_OK && c->gapText) {
        memmove(b->data + c->gs, b->data + c->ge, b->len - c->ge);
        b->len -= c->ge - c->gs;
    } else if (st == SW_OK) {
        b->len = 0;
        swBufAppend(b, doc, len);
    }
    return st;
}

/* Back to the input, for the plain way. */
static void gapReset(patchCtx *c, const char *doc, size_t len) {
    c->gapMode = c->gapText = 0;
    c->memo.n = 0;
    c->memo.known = (swJsonSpan){0, 0};
    c->gs = c->ge = 0;
    c->cur = doc;
    c->curlen = len;
    c->nincr = 0;
    c->which = 0;
    c->bufs[0].len = 0;
    c->bufs[0].failed = 0;
}

/* ---- Entry points ---- */

static void ctxFree(patchCtx *c) {
    swBufFree(&c->arena);
    swBufFree(&c->bufs[0]);
    swBufFree(&c->bufs[1]);
    swBufFree(&c->scratch);
    swBufFree(&c->ins);
    swFree(c->op);
    swFree(c->incr);
}

swStatus swJsonPatchApply(const char *doc, size_t len, const char *ops, size_t opslen, int maxdepth,
                          swJsonPatchResult *res, swError *err) {
    memset(res, 0, sizeof(*res));
    if (maxdepth < 0) maxdepth = 0;
    if (maxdepth > SW_JSON_MAX_DEPTH) maxdepth = SW_JSON_MAX_DEPTH;
    swError verr;
    if (swJsonValidate(ops, opslen, maxdepth, &verr) != SW_OK) {
        return swErrorSet(err, SW_ERR_PAYLOAD, verr.offset, "invalid JSON at byte %zu: %s",
                          verr.offset, verr.msg);
    }
    patchCtx c;
    memset(&c, 0, sizeof(c));
    c.ops = ops;
    c.opslen = opslen;
    c.maxdepth = maxdepth;
    c.cur = doc;
    c.curlen = len;
    c.err = err;
    swStatus st = parseOps(&c);
    if (st == SW_OK && gapEligible(&c)) {
        if ((st = applyGapped(&c, doc, len)) == SW_OK) {
            st = swBufTakeText(&c.bufs[0], &res->doc, &res->len);
            goto done;
        }
        gapReset(&c, doc, len);
        st = SW_OK;
    }
    for (size_t i = 0; st == SW_OK && i < c.nop; i++) st = applyOp(&c, i);
    if (st == SW_OK) {
        /* The result is the last text written, or a copy of the input when no op wrote. */
        swBuf *last = &c.bufs[c.which ^ 1];
        if (c.cur != last->data) {
            last->len = 0;
            swBufAppend(last, doc, len);
        }
        st = swBufTakeText(last, &res->doc, &res->len);
    }
done:
    if (st != SW_OK) {
        ctxFree(&c);
        memset(res, 0, sizeof(*res));
        return st;
    }
    res->incr = c.incr;
    res->nincr = c.nincr;
    res->ops = c.nop;
    res->rewrote = !c.gapMode;
    c.incr = NULL;
    ctxFree(&c);
    return SW_OK;
}

void swJsonPatchResultFree(swJsonPatchResult *res) {
    swFree(res->doc);
    swFree(res->incr);
    memset(res, 0, sizeof(*res));
}
