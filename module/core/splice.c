/* splice.c -- byte-exact splice deltas and the rope that applies chains of them (see
 * splice.h).
 *
 * Invariants:
 *   - swSpliceDiff only ever emits a splice whose kept ranges it has compared byte for byte,
 *     so applying its output to the base gives the target exactly, whatever the anchors;
 *   - swSpliceApply and swSpliceRopeApply trust a delta only after swSpliceCheck; nothing
 *     here reads outside the base, the delta or the literals;
 *   - rope nodes live in one array and refer to each other by index (0: none); each holds a
 *     piece (pointer, length), the byte count of its subtree and a heap priority. */
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

typedef struct swSpliceNode {
    const char *p;
    size_t len; /* bytes of this piece */
    size_t sum; /* bytes of the subtree */
    uint32_t prio, l, r;
} swSpliceNode;

static size_t sumOf(const swSpliceRope *r, uint32_t n) {
    return n ? r->node[n].sum : 0;
}

static void update(swSpliceRope *r, uint32_t n) {
    swSpliceNode *x = &r->node[n];
    x->sum = sumOf(r, x->l) + x->len + sumOf(r, x->r);
}

static uint32_t nodeNew(swSpliceRope *r, const char *p, size_t len, uint32_t prio) {
    if (r->nodes == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        swSpliceNode *n = swRealloc(r->node, cap * sizeof(*n));
        if (n == NULL) return 0;
        r->node = n;
        r->cap = cap;
    }
    if (prio == 0) {
        r->seed ^= r->seed << 13;
        r->seed ^= r->seed >> 7;
        r->seed ^= r->seed << 17;
        prio = (uint32_t)(r->seed >> 32) | 1;
    }
    uint32_t i = (uint32_t)r->nodes++;
    r->node[i] = (swSpliceNode){p, len, len, prio, 0, 0};
    return i;
}

/* Splits tree t into the first k bytes (*a) and the rest (*b). A piece straddling k is cut in
 * two; the new right part takes its priority, so the heap order holds. 0 when out of memory. */
static int split(swSpliceRope *r, uint32_t t, size_t k, uint32_t *a, uint32_t *b) {
    if (t == 0) {
        *a = *b = 0;
        return 1;
    }
    size_t lsum = sumOf(r, r->node[t].l);
    if (k <= lsum) {
        uint32_t x;
        if (!split(r, r->node[t].l, k, a, &x)) return 0;
        r->node[t].l = x;
        update(r, t);
        *b = t;
    } else if (k >= lsum + r->node[t].len) {
        uint32_t x;
        if (!split(r, r->node[t].r, k - lsum - r->node[t].len, &x, b)) return 0;
        r->node[t].r = x;
        update(r, t);
        *a = t;
    } else {
        size_t off = k - lsum;
        uint32_t n = nodeNew(r, r->node[t].p + off, r->node[t].len - off, r->node[t].prio);
        if (n == 0) return 0;
        r->node[n].r = r->node[t].r;
        update(r, n);
        r->node[t].len = off;
        r->node[t].r = 0;
        update(r, t);
        *a = t;
        *b = n;
    }
    return 1;
}

static uint32_t merge(swSpliceRope *r, uint32_t a, uint32_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    if (r->node[a].prio >= r->node[b].prio) {
        r->node[a].r = merge(r, r->node[a].r, b);
        update(r, a);
        return a;
    }
    r->node[b].l = merge(r, a, r->node[b].l);
    update(r, b);
    return b;
}

swStatus swSpliceRopeInit(swSpliceRope *r, const char *base, size_t len) {
    memset(r, 0, sizeof(*r));
    r->seed = 0x9E3779B97F4A7C15ULL;
    r->cap = 64;
    r->node = swAlloc(r->cap * sizeof(swSpliceNode));
    if (r->node == NULL) return SW_ERR_NOMEM;
    r->nodes = 1;                                    /* index 0 is "none" */
    if (len > 0) r->root = nodeNew(r, base, len, 0); /* cannot fail: there is room */
    return SW_OK;
}

swStatus swSpliceRopeApply(swSpliceRope *r, const char *d, size_t dlen) {
    swReader rd;
    size_t pos = 0; /* in the rope's current coordinates */
    swReaderInit(&rd, d, dlen);
    while (!swReaderAtEnd(&rd)) {
        size_t gap = (size_t)swReadVarint(&rd), del = (size_t)swReadVarint(&rd);
        size_t n = (size_t)swReadVarint(&rd);
        const char *lit = swReadBytes(&rd, n);
        if (lit == NULL) return SW_ERR_CORRUPT;
        pos += gap;
        uint32_t a, b, m, c, x = 0;
        if (!split(r, r->root, pos, &a, &b) || !split(r, b, del, &m, &c)) return SW_ERR_NOMEM;
        if (n > 0 && (x = nodeNew(r, lit, n, 0)) == 0) return SW_ERR_NOMEM;
        r->root = merge(r, merge(r, a, x), c);
        pos += n;
    }
    return SW_OK;
}

size_t swSpliceRopeLen(const swSpliceRope *r) {
    return sumOf(r, r->root);
}

static char *writeTree(const swSpliceRope *r, uint32_t t, char *dst) {
    while (t != 0) {
        dst = writeTree(r, r->node[t].l, dst);
        memcpy(dst, r->node[t].p, r->node[t].len);
        dst += r->node[t].len;
        t = r->node[t].r; /* the right spine iteratively: only left recursion nests */
    }
    return dst;
}

void swSpliceRopeWrite(const swSpliceRope *r, char *dst) {
    writeTree(r, r->root, dst);
}

void swSpliceRopeFree(swSpliceRope *r) {
    swFree(r->node);
    memset(r, 0, sizeof(*r));
}
