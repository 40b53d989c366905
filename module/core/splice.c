/* splice.c -- byte-exact splice deltas and the rope that applies chains of them (see
 * splice.h).
 *
 * Invariants:
 *   - swSpliceDiff only ever emits a splice whose kept ranges it has compared byte for byte,
 *     so applying its output to the base gives the target exactly, whatever the anchors;
 *   - swSpliceApply and swSpliceRopeApply trust a delta only after swSpliceCheck; nothing
 *     here reads outside the base, the delta or the literals;
 *   - rope chunks live in one pool and are referred to by index; r->order[0 .. n) lists the
 *     chunks of the text in order, none of them empty; every other chunk of the pool is in
 *     the free list or is being read by the walk that applies a delta. */
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/splice.h"

/* ---- Diff ---- */

#define ANCHOR 16         /* bytes two texts must share to count as back in step */
#define WINDOW_SMALL 256  /* first search window after a difference */
#define WINDOW_LARGE 8192 /* second one */
#define CHAIN_MAX 32      /* candidates looked at per hash bucket */
#define SHIFT_RUN 256     /* bytes that must agree to step back in at a shifted offset */
#define HASH_MUL 0x100000001b3ULL

/* Offset of the first difference of a[0..n) and b[0..n), or n. */
static size_t firstDiff(const char *a, const char *b, size_t n) {
    size_t i = 0;
    while (n - i >= 64 && memcmp(a + i, b + i, 64) == 0) i += 64;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static uint64_t gramHash(const unsigned char *p) {
    uint64_t h = 0;
    for (int k = 0; k < ANCHOR; k++) h = h * HASH_MUL + p[k];
    return h;
}

static uint64_t powAnchor(void) {
    uint64_t p = 1;
    for (int k = 0; k < ANCHOR - 1; k++) p *= HASH_MUL;
    return p;
}

/* Whether two texts that share ANCHOR bytes go on agreeing for SHIFT_RUN bytes (or to the end
 * of either). Shifted similar content (a list whose first element was dropped, records that
 * look alike) shares short runs everywhere: stepping back in at one of those would align
 * each element with its neighbour and record their differences as dozens of small splices,
 * where one insertion and one deletion say it all. */
static int agreeFor(const unsigned char *b, size_t bn, const unsigned char *t, size_t tn) {
    size_t n = bn < tn ? bn : tn;
    if (n > SHIFT_RUN) n = SHIFT_RUN;
    return memcmp(b, t, n) == 0;
}

/* After a difference at base[i] / target[j] (ends bend, tend): the nearest offsets *a >= i,
 * *t >= j, smallest (a - i) + (t - j) first, where ANCHOR bytes agree (SHIFT_RUN bytes when
 * a - i != t - j), searching window bytes ahead on each side. 1 when found; 0 when not (or when the
 * scratch table cannot be had). */
static int resync(const char *base, size_t i, size_t bend, const char *target, size_t j,
                  size_t tend, size_t window, size_t *a, size_t *t) {
    if (bend - i < ANCHOR || tend - j < ANCHOR) return 0;
    size_t tn = tend - j - ANCHOR + 1, bn = bend - i - ANCHOR + 1;
    if (tn > window) tn = window;
    if (bn > window) bn = window;
    size_t slots = 1;
    while (slots < tn * 2) slots <<= 1;
    /* head[s]: the first offset (+1) of chain s, 0 when empty; tail[s] and len[s] (valid
     * once head[s] is set): its last offset (+1) and its length, so appending is O(1). */
    size_t words = 2 * slots + tn, bytes;
    if (words > SIZE_MAX / sizeof(uint32_t)) return 0;
    bytes = words * sizeof(uint32_t);
    if (slots > SIZE_MAX - bytes) return 0;
    uint32_t *head = swAlloc(bytes + slots);
    if (head == NULL) return 0;
    memset(head, 0, slots * sizeof(uint32_t));
    uint32_t *tail = head + slots, *next = tail + slots;
    unsigned char *len = (unsigned char *)(next + tn);
    const unsigned char *T = (const unsigned char *)target + j;
    const unsigned char *B = (const unsigned char *)base + i;
    uint64_t top = powAnchor(), h = gramHash(T);
    /* Each offset goes to the tail of its chain, so chains run from the nearest offset
     * outwards; a chain stops growing at CHAIN_MAX + 1 offsets (repetitive text). */
    for (size_t k = 0; k < tn; k++) {
        if (k > 0) h = (h - T[k - 1] * top) * HASH_MUL + T[k + ANCHOR - 1];
        size_t s = (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 32) & (slots - 1);
        next[k] = 0;
        if (head[s] == 0) {
            head[s] = tail[s] = (uint32_t)(k + 1);
            len[s] = 1;
        } else if (len[s] <= CHAIN_MAX) {
            next[tail[s] - 1] = (uint32_t)(k + 1);
            tail[s] = (uint32_t)(k + 1);
            len[s]++;
        }
    }
    size_t best = SIZE_MAX;
    h = gramHash(B);
    for (size_t k = 0; k < bn && k < best; k++) {
        if (k > 0) h = (h - B[k - 1] * top) * HASH_MUL + B[k + ANCHOR - 1];
        size_t s = (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 32) & (slots - 1);
        int steps = 0;
        for (uint32_t e = head[s]; e != 0 && steps < CHAIN_MAX; e = next[e - 1], steps++) {
            size_t m = e - 1;
            if (k + m >= best) break; /* chains run nearest first */
            /* In step again after k == m bytes: a substitution, ANCHOR bytes suffice; at a
             * shift, the texts must agree for longer (agreeFor). */
            if (memcmp(B + k, T + m, ANCHOR) == 0 &&
                (k == m || agreeFor(B + k, bend - i - k, T + m, tend - j - m))) {
                best = k + m;
                *a = i + k;
                *t = j + m;
                break;
            }
        }
    }
    swFree(head);
    return best != SIZE_MAX;
}

static void putSplice(swBuf *out, size_t gap, size_t del, const char *lit, size_t n) {
    swBufPutVarint(out, gap);
    swBufPutVarint(out, del);
    swBufPutVarint(out, n);
    swBufAppend(out, lit, n);
}

void swSpliceDiff(const char *base, size_t blen, const char *target, size_t tlen, swBuf *out) {
    size_t min = blen < tlen ? blen : tlen;
    size_t pre = firstDiff(base, target, min);
    size_t suf = 0;
    while (suf < min - pre && base[blen - 1 - suf] == target[tlen - 1 - suf]) suf++;
    size_t bend = blen - suf, tend = tlen - suf;
    size_t i = pre, j = pre, kept = 0; /* kept: end of the last splice's range in base */
    while (i < bend || j < tend) {
        size_t same = firstDiff(base + i, target + j, (bend - i < tend - j ? bend - i : tend - j));
        i += same;
        j += same;
        if (i == bend && j == tend) break;
        size_t a = bend, t = tend;
        if (i < bend && j < tend && !resync(base, i, bend, target, j, tend, WINDOW_SMALL, &a, &t) &&
            !resync(base, i, bend, target, j, tend, WINDOW_LARGE, &a, &t)) {
            a = bend;
            t = tend;
        }
        putSplice(out, i - kept, a - i, target + j, t - j);
        kept = a;
        i = a;
        j = t;
    }
}

/* ---- Check and apply ---- */

swStatus swSpliceCheck(const char *d, size_t dlen, size_t blen, size_t *tlen, swError *err) {
    swReader r;
    size_t pos = 0, out = 0;
    swReaderInit(&r, d, dlen);
    while (!swReaderAtEnd(&r)) {
        uint64_t gap = swReadVarint(&r), del = swReadVarint(&r), n = swReadVarint(&r);
        if (swReaderFailed(&r)) return swErrorSet(err, SW_ERR_CORRUPT, 0, "truncated delta");
        if (gap > blen - pos || del > blen - pos - gap) {
            return swErrorSet(err, SW_ERR_CORRUPT, 0, "delta range beyond the base");
        }
        if (swReadBytes(&r, (size_t)n) == NULL) {
            return swErrorSet(err, SW_ERR_CORRUPT, 0, "truncated delta literal");
        }
        pos += (size_t)(gap + del);
        out += (size_t)(gap + n);
    }
    *tlen = out + (blen - pos);
    return SW_OK;
}

void swSpliceApply(const char *d, size_t dlen, const char *base, size_t blen, swBuf *out) {
    swReader r;
    size_t pos = 0;
    swReaderInit(&r, d, dlen);
    while (!swReaderAtEnd(&r)) {
        size_t gap = (size_t)swReadVarint(&r), del = (size_t)swReadVarint(&r);
        size_t n = (size_t)swReadVarint(&r);
        const char *lit = swReadBytes(&r, n);
        if (lit == NULL) return; /* not checked: stop rather than read astray */
        swBufAppend(out, base + pos, gap);
        swBufAppend(out, lit, n);
        pos += gap + del;
    }
    swBufAppend(out, base + pos, blen - pos);
}

/* ---- Rope ---- */

/* The rope is a list of pieces cut into chunks of at most ROPE_FAN pieces; r->order lists
 * the chunks in text order. Applying a delta walks the list once, left to right: a chunk
 * that lies wholly between two splices moves to the new order as it is (one index copied),
 * and only the chunks a splice touches are rebuilt, piece by piece, into the chunk being
 * filled (the last one of the new order). A delta of s splices therefore costs
 * O(chunks + s * ROPE_FAN), with no search and no recursion. */
#define ROPE_FAN 16

typedef struct swSplicePiece {
    const char *p;
    size_t len;
} swSplicePiece;

typedef struct swSpliceChunk {
    uint32_t n;        /* pieces */
    uint32_t nextFree; /* in the free list: the next free chunk + 1, 0 for none */
    size_t bytes;      /* sum of the pieces' lengths */
    swSplicePiece piece[ROPE_FAN];
} swSpliceChunk;

/* A chunk from the free list or the end of the pool; UINT32_MAX when out of memory. The
 * pool may move: callers hold indices, not pointers, across this call. */
static uint32_t chunkNew(swSpliceRope *r) {
    uint32_t id;
    if (r->freeList != 0) {
        id = r->freeList - 1;
        r->freeList = r->chunk[id].nextFree;
    } else {
        if (r->chunks == r->chunkCap) {
            size_t cap = r->chunkCap ? r->chunkCap * 2 : 8;
            if (cap > UINT32_MAX - 1) return UINT32_MAX;
            swSpliceChunk *c = swRealloc(r->chunk, cap * sizeof(*c));
            if (c == NULL) return UINT32_MAX;
            r->chunk = c;
            r->chunkCap = cap;
        }
        id = (uint32_t)r->chunks++;
    }
    r->chunk[id].n = 0;
    r->chunk[id].bytes = 0;
    return id;
}

static void chunkRelease(swSpliceRope *r, uint32_t id) {
    r->chunk[id].nextFree = r->freeList;
    r->freeList = id + 1;
}

/* The state of one delta's walk: the read cursor in the old order (chunk ci, piece pi,
 * offset off in it) and the new order being built in r->spare (no chunks, the last one
 * open for appending when open is set). */
typedef struct ropeWalk {
    swSpliceRope *r;
    size_t ci, no;
    uint32_t pi;
    size_t off;
    int open;
} ropeWalk;

static int pushChunk(ropeWalk *w, uint32_t id) {
    swSpliceRope *r = w->r;
    if (w->no == r->spareCap) {
        size_t cap = r->spareCap * 2 + 8;
        uint32_t *o = swRealloc(r->spare, cap * sizeof(*o));
        if (o == NULL) return 0;
        r->spare = o;
        r->spareCap = cap;
    }
    r->spare[w->no++] = id;
    return 1;
}

/* Appends a piece to the new order: to the open chunk (merged with its last piece when the
 * two are adjacent in memory), or to a new one. 0 when out of memory. */
static int appendPiece(ropeWalk *w, const char *p, size_t len) {
    swSpliceRope *r = w->r;
    if (len == 0) return 1;
    if (w->no > 0) {
        swSpliceChunk *c = &r->chunk[r->spare[w->no - 1]];
        if (w->open && c->n > 0) {
            swSplicePiece *last = &c->piece[c->n - 1];
            if ((uintptr_t)last->p + last->len == (uintptr_t)p) {
                last->len += len;
                c->bytes += len;
                return 1;
            }
        }
        if (c->n < ROPE_FAN) {
            c->piece[c->n++] = (swSplicePiece){p, len};
            c->bytes += len;
            w->open = 1;
            return 1;
        }
    }
    uint32_t id = chunkNew(r);
    if (id == UINT32_MAX || !pushChunk(w, id)) return 0;
    r->chunk[id].piece[0] = (swSplicePiece){p, len};
    r->chunk[id].n = 1;
    r->chunk[id].bytes = len;
    w->open = 1;
    return 1;
}

/* Appends cnt pieces (a local copy: the pool may move) to the new order, filling the open
 * chunk first. 0 when out of memory. */
static int appendRun(ropeWalk *w, const swSplicePiece *src, uint32_t cnt) {
    swSpliceRope *r = w->r;
    if (cnt == 0) return 1;
    if (!appendPiece(w, src[0].p, src[0].len)) return 0; /* may merge with the last piece */
    src++;
    cnt--;
    while (cnt > 0) {
        swSpliceChunk *c = &r->chunk[r->spare[w->no - 1]];
        if (c->n == ROPE_FAN) {
            if (!appendPiece(w, src[0].p, src[0].len)) return 0; /* opens a new chunk */
            src++;
            cnt--;
            continue;
        }
        uint32_t take = ROPE_FAN - c->n < cnt ? ROPE_FAN - c->n : cnt;
        memcpy(&c->piece[c->n], src, take * sizeof(*src));
        for (uint32_t i = 0; i < take; i++) c->bytes += src[i].len;
        c->n += take;
        src += take;
        cnt -= take;
    }
    return 1;
}

/* Moves the read cursor k bytes on, copying what it passes to the new order (copy) or
 * dropping it. 1; 0 when out of memory; -1 when the rope is shorter than the delta says. */
static int walk(ropeWalk *w, size_t k, int copy) {
    swSpliceRope *r = w->r;
    swSplicePiece run[ROPE_FAN];
    while (k > 0) {
        if (w->ci >= r->n) return -1;
        uint32_t id = r->order[w->ci];
        swSpliceChunk *c = &r->chunk[id];
        if (w->pi == 0 && w->off == 0 && c->bytes <= k) { /* the whole chunk */
            k -= c->bytes;
            w->ci++;
            if (!copy) {
                chunkRelease(r, id);
                continue;
            }
            if (w->open && w->no > 0 && r->chunk[r->spare[w->no - 1]].n + c->n <= ROPE_FAN) {
                /* Small enough to join the chunk being filled: keeps chunks full. */
                memcpy(run, c->piece, c->n * sizeof(*run));
                (void)appendRun(w, run, c->n); /* there is room */
                chunkRelease(r, id);
                continue;
            }
            if (!pushChunk(w, id)) return 0;
            w->open = 0;
            continue;
        }
        if (w->off > 0 || c->piece[w->pi].len > k) { /* within one piece */
            swSplicePiece pc = c->piece[w->pi];
            size_t take = pc.len - w->off < k ? pc.len - w->off : k;
            if (copy && !appendPiece(w, pc.p + w->off, take)) return 0;
            k -= take;
            w->off += take;
            if (w->off < pc.len) continue;
            w->off = 0;
            w->pi++;
        } else { /* whole pieces, as many as k covers */
            uint32_t j = w->pi;
            while (j < c->n && c->piece[j].len <= k) k -= c->piece[j++].len;
            if (copy) {
                memcpy(run, &c->piece[w->pi], (j - w->pi) * sizeof(*run));
                if (!appendRun(w, run, j - w->pi)) return 0;
            }
            w->pi = j;
        }
        if (w->pi == r->chunk[id].n) { /* read to its end: the chunk is free again */
            w->pi = 0;
            w->ci++;
            chunkRelease(r, id);
        }
    }
    return 1;
}

swStatus swSpliceRopeInit(swSpliceRope *r, const char *base, size_t len) {
    memset(r, 0, sizeof(*r));
    r->order = swAlloc(8 * sizeof(uint32_t));
    r->spare = swAlloc(8 * sizeof(uint32_t));
    if (r->order == NULL || r->spare == NULL) {
        swSpliceRopeFree(r);
        return SW_ERR_NOMEM;
    }
    r->orderCap = r->spareCap = 8;
    if (len > 0) {
        uint32_t id = chunkNew(r);
        if (id == UINT32_MAX) {
            swSpliceRopeFree(r);
            return SW_ERR_NOMEM;
        }
        r->chunk[id].piece[0] = (swSplicePiece){base, len};
        r->chunk[id].n = 1;
        r->chunk[id].bytes = len;
        r->order[0] = id;
        r->n = 1;
    }
    r->len = len;
    return SW_OK;
}

swStatus swSpliceRopeApply(swSpliceRope *r, const char *d, size_t dlen) {
    swReader rd;
    ropeWalk w = {r, 0, 0, 0, 0, 0};
    size_t read = 0, out = 0; /* bytes of the old text passed, of the new text written */
    int ok = 1;
    if (dlen == 0) return SW_OK; /* the empty delta changes nothing */
    swReaderInit(&rd, d, dlen);
    while (ok == 1 && !swReaderAtEnd(&rd)) {
        size_t gap = (size_t)swReadVarint(&rd), del = (size_t)swReadVarint(&rd);
        size_t n = (size_t)swReadVarint(&rd);
        const char *lit = swReadBytes(&rd, n);
        if (lit == NULL || gap > r->len - read || del > r->len - read - gap) return SW_ERR_CORRUPT;
        ok = walk(&w, gap, 1);
        if (ok == 1) ok = walk(&w, del, 0);
        if (ok == 1 && !appendPiece(&w, lit, n)) ok = 0;
        read += gap + del;
        out += gap + n;
    }
    if (ok == 1) ok = walk(&w, r->len - read, 1);
    if (ok != 1) return ok == 0 ? SW_ERR_NOMEM : SW_ERR_CORRUPT;
    uint32_t *t = r->order;
    size_t cap = r->orderCap;
    r->order = r->spare;
    r->orderCap = r->spareCap;
    r->spare = t;
    r->spareCap = cap;
    r->n = w.no;
    r->len = out + (r->len - read);
    return SW_OK;
}

size_t swSpliceRopeLen(const swSpliceRope *r) {
    return r->len;
}

void swSpliceRopeWrite(const swSpliceRope *r, char *dst) {
    for (size_t i = 0; i < r->n; i++) {
        const swSpliceChunk *c = &r->chunk[r->order[i]];
        for (uint32_t j = 0; j < c->n; j++) {
            memcpy(dst, c->piece[j].p, c->piece[j].len);
            dst += c->piece[j].len;
        }
    }
}

void swSpliceRopeFree(swSpliceRope *r) {
    swFree(r->chunk);
    swFree(r->order);
    swFree(r->spare);
    memset(r, 0, sizeof(*r));
}
