/* splice.c -- byte-exact splice deltas and the rope that applies chains of them (see
 * splice.h).
 *
 * Invariants:
 *   - swSpliceDiff only ever emits a splice whose kept ranges it has compared byte for byte,
 *     so applying its output to the base gives the target exactly, whatever the anchors;
 *   - swSpliceApply and swSpliceRopeApply trust a delta only after swSpliceCheck; nothing
 *     here reads outside the base, the delta or the literals;
 *   - rope chunks live in slabs that never move; r->order[0 .. n) lists the chunks of the
 *     text in order, none of them empty; every other chunk is in the free list or is being
 *     read by the walk that applies a delta. */
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

/* ---- Refinement: splitting a splice at its interior common runs ---- */

#define GRAM 4            /* bytes hashed to find a common run inside a splice */
#define SPLIT_RUN 4       /* a kept run worth the 3-byte header of the splice it adds */
#define SPLIT_RUN_WIDE 6  /* the same when a side has 128+ bytes (2-byte varints) */
#define REFINE_MAX 512    /* splices with more bytes on either side go out as found */
#define REFINE_CHAIN 8    /* candidates looked at per gram of the deleted side */
#define REFINE_SLOTS 1024 /* hash slots for REFINE_MAX grams: at least twice as many */

static size_t gramSlot(const unsigned char *p, unsigned shift) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (size_t)((v * 0x9E3779B1u) >> shift);
}

/* Emits the splice base[i..a) -> target[j..t) (*kept: where the previous splice's deleted
 * range ends in base; updated). The anchors resolve differences only where ANCHOR bytes
 * agree, so a splice often holds a few changes separated by short common runs
 * ("1,\"messages\":501" for "0,\"messages\":500"). Every literal byte is stored and a splice
 * header costs about 3, so the splice goes out as several, split at each interior common run
 * longer than the header it adds: greedily left to right, taking the nearest run (fewest bytes
 * skipped on both sides) found through a hash of the target side's GRAM-byte grams. Each
 * split removes more literal bytes than the varints it adds (each byte trimmed off either end
 * at least as many), so the result is never larger; kept runs are compared byte for byte, so it
 * stays exact. Cost: linear in the splice (each position of either side is hashed or skipped a
 * bounded number of times). */
static void putRefined(swBuf *out, size_t *kept, const char *base, size_t i, size_t a,
                       const char *target, size_t j, size_t t) {
    size_t lo = a - i < t - j ? a - i : t - j;
    size_t pre = firstDiff(base + i, target + j, lo);
    i += pre;
    j += pre;
    lo -= pre;
    while (lo > 0 && base[a - 1] == target[t - 1]) {
        a--;
        t--;
        lo--;
    }
    size_t n = a - i, m = t - j;
    if (n == 0 && m == 0) return;
    /* A split adds the run's gap varint (1 byte below 128) and the new splice's del and ins
     * varints (1 byte each below 128, 2 below 16384): the run must outweigh them. */
    size_t minRun = n < 128 && m < 128 ? SPLIT_RUN : SPLIT_RUN_WIDE;
    if (n < minRun || m < minRun || n > REFINE_MAX || m > REFINE_MAX) {
        putSplice(out, i - *kept, n, target + j, m);
        *kept = a;
        return;
    }
    const unsigned char *B = (const unsigned char *)base + i;
    const unsigned char *T = (const unsigned char *)target + j;
    /* head[s]: the first offset (+1) of T whose gram hashes to s, 0 when none; next[q]: the
     * following one. Chains run in increasing offset, so the nearest candidate comes first,
     * and offsets left behind (below y) are dropped from the head for good. */
    uint16_t head[REFINE_SLOTS], next[REFINE_MAX];
    unsigned bits = 4;
    while (((size_t)1 << bits) < 2 * m) bits++;
    unsigned shift = 32 - bits;
    memset(head, 0, ((size_t)1 << bits) * sizeof(head[0]));
    for (size_t q = m - GRAM + 1; q-- > 0;) {
        size_t s = gramSlot(T + q, shift);
        next[q] = head[s];
        head[s] = (uint16_t)(q + 1);
    }
    size_t x = 0, y = 0; /* the next splice starts at B + x, T + y */
    while (x + GRAM <= n && y + GRAM <= m) {
        size_t best = SIZE_MAX, bx = 0, by = 0, run = 0;
        for (size_t k = 0; x + k + GRAM <= n && k < best; k++) {
            size_t p = x + k, s = gramSlot(B + p, shift);
            while (head[s] != 0 && head[s] - 1u < y) head[s] = next[head[s] - 1];
            int steps = 0;
            for (uint16_t e = head[s]; e != 0 && steps < REFINE_CHAIN; e = next[e - 1], steps++) {
                size_t q = e - 1u;
                if (k + (q - y) >= best) break;
                if (memcmp(B + p, T + q, GRAM) != 0) continue;
                size_t lim = n - p < m - q ? n - p : m - q;
                size_t r = GRAM + firstDiff((const char *)B + p + GRAM, (const char *)T + q + GRAM,
                                            lim - GRAM);
                if (r < minRun) continue;
                best = k + (q - y);
                bx = p;
                by = q;
                run = r;
                break;
            }
        }
        if (best == SIZE_MAX) break;
        /* A chain cut short (repetitive text) can miss where the run really starts. */
        while (bx > x && by > y && B[bx - 1] == T[by - 1]) {
            bx--;
            by--;
            run++;
        }
        putSplice(out, i + x - *kept, bx - x, (const char *)T + y, by - y);
        *kept = i + bx;
        x = bx + run;
        y = by + run;
    }
    if (x < n || y < m) {
        putSplice(out, i + x - *kept, n - x, (const char *)T + y, m - y);
        *kept = a;
    }
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
        putRefined(out, &kept, base, i, a, target, j, t);
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
 * the chunks in text order and r->start the offset each starts at. Applying a delta builds the next
 * order left to right: the chunks that lie wholly between two splices are found by a
 * binary search over the offsets and move as they are (their entries copied, offsets
 * shifted, in one tight loop over a compact array, without touching the chunks), and only
 * the chunks a splice touches are rebuilt, a run of pieces at a time, into the open chunk
 * (the last one of the new order). A delta of s splices therefore costs
 * O(s (log chunks + ROPE_FAN)) plus a copy of the order's entries, with no recursion.
 * Chunks come from slabs that never move, so pointers to them stay valid while a delta is
 * applied. */
#define ROPE_FAN 16
#define ROPE_SLAB 64 /* chunks per slab */
/* The walk's two steps are inlined into the loop over a delta's splices: a call each cost
 * a sixth of the work. */
#define ROPE_INLINE inline __attribute__((always_inline))

typedef struct swSplicePiece {
    const char *p;
    size_t len;
} swSplicePiece;

typedef struct swSpliceChunk {
    struct swSpliceChunk *next; /* in the free list */
    size_t n;                   /* pieces */
    size_t bytes;               /* sum of the pieces' lengths */
    swSplicePiece piece[ROPE_FAN];
} swSpliceChunk;

/* A free chunk, from a new slab when the free list is empty; NULL when out of memory. */
static swSpliceChunk *chunkSlow(swSpliceRope *r) {
    if (r->slabs == r->slabCap) {
        size_t cap = r->slabCap * 2 + 4;
        void **sl = swRealloc(r->slab, cap * sizeof(*sl));
        if (sl == NULL) return NULL;
        r->slab = sl;
        r->slabCap = cap;
    }
    swSpliceChunk *c = swAlloc(ROPE_SLAB * sizeof(*c));
    if (c == NULL) return NULL;
    r->slab[r->slabs++] = c;
    for (size_t i = 1; i < ROPE_SLAB; i++) {
        c[i].next = r->free;
        r->free = &c[i];
    }
    return &c[0];
}

static swSpliceChunk *chunkNew(swSpliceRope *r) {
    swSpliceChunk *c = r->free;
    if (c != NULL) {
        r->free = c->next;
    } else if ((c = chunkSlow(r)) == NULL) {
        return NULL;
    }
    c->n = 0;
    c->bytes = 0;
    return c;
}

static void chunkRelease(swSpliceRope *r, swSpliceChunk *c) {
    c->next = r->free;
    r->free = c;
}

/* One delta's walk: the read cursor in the old order (chunk ci, piece pi, offset off in it;
 * read: its offset in the old text) and the new order being built in r->spare (no chunks,
 * out: the length of the new text so far; open: the last chunk, when pieces may be
 * appended to it). */
typedef struct ropeWalk {
    swSpliceRope *r;
    size_t ci, pi, off, read, no, out;
    swSpliceChunk *open;
} ropeWalk;

/* Appends the pieces src[0..cnt), of bytes bytes in all, to the open chunk, opening new
 * ones as they fill; the first joins the last piece when the two are adjacent in memory.
 * src is never in the open chunk (open chunks come from the free list, read ones only).
 * 0 when out of memory. */
static ROPE_INLINE int appendRun(ropeWalk *w, const swSplicePiece *src, size_t cnt, size_t bytes) {
    swSpliceChunk *c = w->open;
    if (c != NULL && c->n > 0 &&
        (uintptr_t)c->piece[c->n - 1].p + c->piece[c->n - 1].len == (uintptr_t)src[0].p) {
        c->piece[c->n - 1].len += src[0].len;
        c->bytes += src[0].len;
        w->out += src[0].len;
        bytes -= src[0].len;
        src++;
        cnt--;
    }
    if (c != NULL && ROPE_FAN - c->n >= cnt) { /* the usual case: it fits */
        for (size_t i = 0; i < cnt; i++) c->piece[c->n + i] = src[i];
        c->n += cnt;
        c->bytes += bytes;
        w->out += bytes;
        return 1;
    }
    while (cnt > 0) {
        if (c == NULL || c->n == ROPE_FAN) {
            if ((c = chunkNew(w->r)) == NULL) return 0;
            /* room reserved by swSpliceRopeApply */
            w->r->spare[w->no] = c;
            w->r->spareStart[w->no++] = w->out;
            w->open = c;
        }
        size_t take = ROPE_FAN - c->n < cnt ? ROPE_FAN - c->n : cnt;
        for (size_t i = 0; i < take; i++) {
            c->piece[c->n + i] = src[i];
            c->bytes += src[i].len;
            w->out += src[i].len;
        }
        c->n += take;
        src += take;
        cnt -= take;
    }
    return 1;
}

/* appendRun for one piece (a literal, or part of a piece cut by a splice). */
static ROPE_INLINE int appendOne(ropeWalk *w, const char *p, size_t len) {
    swSpliceChunk *c = w->open;
    if (c != NULL && c->n > 0 &&
        (uintptr_t)c->piece[c->n - 1].p + c->piece[c->n - 1].len == (uintptr_t)p) {
        c->piece[c->n - 1].len += len;
    } else if (c != NULL && c->n < ROPE_FAN) {
        c->piece[c->n++] = (swSplicePiece){p, len};
    } else {
        swSplicePiece one = {p, len};
        return appendRun(w, &one, 1, len);
    }
    c->bytes += len;
    w->out += len;
    return 1;
}

/* Past the chunks that lie wholly before offset to of the old text (the cursor at the
 * start of chunk ci, which is one of them): moves them to the new order, their offsets
 * shifted, found by a binary search over the old offsets and copied in one loop. */
static void moveWhole(ropeWalk *w, size_t to) {
    swSpliceRope *r = w->r;
    size_t lo = w->ci + 1, hi = r->n; /* the first chunk starting after to, or n */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->start[mid] > to) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    size_t end = lo; /* chunks ci .. end - 1 start at or before to; the last may not end by it */
    if ((end < r->n ? r->start[end] : r->len) > to) end--; /* never below ci + 1 */
    size_t cnt = end - w->ci, shift = w->out - w->read;    /* modulo 2^64: exact sums below */
    memcpy(r->spare + w->no, r->order + w->ci, cnt * sizeof(*r->spare));
    size_t *dst = r->spareStart + w->no;
    const size_t *src = r->start + w->ci;
    size_t i = 0;
    for (; i + 4 <= cnt; i += 4) { /* four at a time: long runs when the pieces are many */
        dst[i] = src[i] + shift;
        dst[i + 1] = src[i + 1] + shift;
        dst[i + 2] = src[i + 2] + shift;
        dst[i + 3] = src[i + 3] + shift;
    }
    for (; i < cnt; i++) dst[i] = src[i] + shift;
    size_t moved = (end < r->n ? r->start[end] : r->len) - w->read;
    w->no += end - w->ci;
    w->ci = end;
    w->read += moved;
    w->out += moved;
    w->open = NULL;
}

/* Moves the read cursor k bytes on, copying what it passes to the new order (copy) or
 * dropping it. 1; 0 when out of memory; -1 when the rope is shorter than the delta says. */
static ROPE_INLINE int walk(ropeWalk *w, size_t k, int copy) {
    swSpliceRope *r = w->r;
    size_t to = w->read + k;
    while (w->read < to) {
        if (w->ci >= r->n) return -1;
        swSpliceChunk *c = r->order[w->ci];
        if (w->pi == 0 && w->off == 0 && c->bytes <= to - w->read) { /* whole chunks */
            if (!copy) {
                w->read += c->bytes;
                w->ci++;
                chunkRelease(r, c);
            } else if (w->open != NULL && w->open->n + c->n <= ROPE_FAN) {
                /* Small enough to join the open chunk: keeps chunks full. */
                if (!appendRun(w, c->piece, c->n, c->bytes)) return 0; /* cannot fail */
                w->read += c->bytes;
                w->ci++;
                chunkRelease(r, c);
            } else {
                moveWhole(w, to);
            }
            continue;
        }
        size_t j = w->pi, left = to - w->read;
        if (w->off == 0) { /* whole pieces, as many as fit before to */
            while (j < c->n && c->piece[j].len <= left) left -= c->piece[j++].len;
        }
        if (j > w->pi) {
            size_t bytes = to - w->read - left;
            if (copy && !appendRun(w, &c->piece[w->pi], j - w->pi, bytes)) return 0;
            w->read += bytes;
            w->pi = j;
        } else { /* part of one piece */
            swSplicePiece pc = c->piece[j];
            size_t take = pc.len - w->off < left ? pc.len - w->off : left;
            if (copy && !appendOne(w, pc.p + w->off, take)) return 0;
            w->read += take;
            w->off += take;
            if (w->off < pc.len) continue;
            w->off = 0;
            w->pi++;
        }
        if (w->pi == c->n) { /* read to its end: the chunk is free again */
            w->pi = 0;
            w->ci++;
            chunkRelease(r, c);
        }
    }
    return 1;
}

/* A chunk order of cap entries: one block, the chunk pointers then their offsets. */
#define ROPE_ENTRY (sizeof(swSpliceChunk *) + sizeof(size_t))

static int orderAlloc(size_t cap, swSpliceChunk ***order, size_t **start) {
    if (cap > SIZE_MAX / ROPE_ENTRY) return 0;
    swSpliceChunk **o = swAlloc(cap * ROPE_ENTRY);
    if (o == NULL) return 0;
    *order = o;
    *start = (size_t *)(o + cap);
    return 1;
}

swStatus swSpliceRopeInit(swSpliceRope *r, const char *base, size_t len) {
    memset(r, 0, sizeof(*r));
    if (!orderAlloc(8, &r->order, &r->start) || !orderAlloc(8, &r->spare, &r->spareStart)) {
        swSpliceRopeFree(r);
        return SW_ERR_NOMEM;
    }
    r->orderCap = r->spareCap = 8;
    if (len > 0) {
        swSpliceChunk *c = chunkNew(r);
        if (c == NULL) {
            swSpliceRopeFree(r);
            return SW_ERR_NOMEM;
        }
        c->piece[0] = (swSplicePiece){base, len};
        c->n = 1;
        c->bytes = len;
        r->order[0] = c;
        r->start[0] = 0;
        r->n = 1;
    }
    r->len = len;
    return SW_OK;
}

/* The next varint of a checked delta (0 past its end). */
static ROPE_INLINE size_t ropeVarint(const unsigned char **p, const unsigned char *end) {
    if (*p < end && **p < 128) return *(*p)++; /* most gaps, deletions and literals */
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned b = *(*p)++;
        v |= (uint64_t)(b & 127) << shift;
        if (b < 128) break;
    }
    return (size_t)v;
}

swStatus swSpliceRopeApply(swSpliceRope *r, const char *d, size_t dlen) {
    if (dlen == 0) return SW_OK; /* the empty delta changes nothing */
    /* Room in the new order for every chunk it can hold: the old chunks moved whole (at
     * most n), the chunks opened at the start or after a move (at most n + 1), and those
     * opened because the open one was full: at most the pieces appended over ROPE_FAN,
     * which are the old pieces (at most ROPE_FAN n) plus a literal and a cut piece's second
     * part per splice, with s <= dlen / 3 + 1 splices (3 varints each, bar a truncated
     * last one). */
    size_t need = 3 * r->n + dlen / 3 + 2;
    if (r->spareCap < need) { /* its contents need not be kept */
        size_t cap = need < SIZE_MAX / 2 / ROPE_ENTRY ? need + need / 2 : need;
        swSpliceChunk **o;
        size_t *st;
        if (!orderAlloc(cap, &o, &st)) return SW_ERR_NOMEM;
        swFree(r->spare);
        r->spare = o;
        r->spareStart = st;
        r->spareCap = cap;
    }
    const unsigned char *p = (const unsigned char *)d, *end = p + dlen;
    ropeWalk w = {r, 0, 0, 0, 0, 0, 0, NULL};
    int ok = 1;
    while (ok == 1 && p < end) {
        size_t gap = ropeVarint(&p, end), del = ropeVarint(&p, end), n = ropeVarint(&p, end);
        if (n > (size_t)(end - p) || gap > r->len - w.read || del > r->len - w.read - gap) {
            return SW_ERR_CORRUPT;
        }
        ok = walk(&w, gap, 1);
        if (ok == 1) ok = walk(&w, del, 0);
        if (ok == 1 && n > 0) ok = appendOne(&w, (const char *)p, n);
        p += n;
    }
    if (ok == 1) ok = walk(&w, r->len - w.read, 1);
    if (ok != 1) return ok == 0 ? SW_ERR_NOMEM : SW_ERR_CORRUPT;
    swSpliceChunk **t = r->order;
    size_t *ts = r->start, cap = r->orderCap;
    r->order = r->spare;
    r->start = r->spareStart;
    r->orderCap = r->spareCap;
    r->spare = t;
    r->spareStart = ts;
    r->spareCap = cap;
    r->n = w.no;
    r->len = w.out;
    return SW_OK;
}

size_t swSpliceCount(const char *d, size_t dlen) {
    const unsigned char *p = (const unsigned char *)d, *end = p + dlen;
    size_t count = 0;
    while (p < end) {
        (void)ropeVarint(&p, end);
        (void)ropeVarint(&p, end);
        size_t n = ropeVarint(&p, end);
        if (n > (size_t)(end - p)) break;
        p += n;
        count++;
    }
    return count;
}

size_t swSpliceRopeLen(const swSpliceRope *r) {
    return r->len;
}

void swSpliceRopeWrite(const swSpliceRope *r, char *dst) {
    for (size_t i = 0; i < r->n; i++) {
        const swSpliceChunk *c = r->order[i];
        for (size_t j = 0; j < c->n; j++) {
            memcpy(dst, c->piece[j].p, c->piece[j].len);
            dst += c->piece[j].len;
        }
    }
}

void swSpliceRopeFree(swSpliceRope *r) {
    for (size_t i = 0; i < r->slabs; i++) swFree(r->slab[i]);
    swFree(r->slab);
    swFree(r->order);
    swFree(r->spare);
    memset(r, 0, sizeof(*r));
}
