/* snapshot.c -- the version history of a swarm-snp key (see snapshot.h).
 *
 *   meta ring (oldest first):  v5     v6     v7     v8     v9 (head)
 *   stored as:                 delta  full   delta  delta  headText
 *   arena (FIFO of bytes):     [d5][ v6 text + NUL ][d7][d8]
 *   in segments of SEG_SIZE:   |seg 0 ........|seg 1 ........|seg 2 ...   |
 *                                 ^astart          (v6 straddles)     ^aend
 *
 * Invariants:
 *   - ring[start], ring[start + 1], ... (indices modulo cap) hold count metas, oldest first,
 *     numbered head - count + 1 .. head without gaps, so finding a version is O(1);
 *   - the head's text is headText (len + 1 bytes, NUL-terminated); every other version is
 *     stored in the arena, in version order, either full (its text and a NUL) or as a reverse
 *     delta (splice.h) that turns the next newer version into it. Deltas only point to newer
 *     versions, so evicting the oldest never breaks a chain;
 *   - sinceFull, chainDeltas and chainSplices count the delta bytes, the non-empty deltas and
 *     their splices between the head and the newest full version below it (lastFull, 0
 *     when none): when saving would push the deltas or splices past the chain limits (see
 *     CHAIN_DELTAS), the version being stored is stored full instead (a checkpoint). Reading
 *     any version therefore applies at most that many deltas and splices;
 *   - the arena is a sequence of segments, seg[sfirst .. sfirst + nseg): every one SEG_SIZE
 *     bytes, but for a lone segment, which may be smaller (acap, grown up to SEG_SIZE). Arena
 *     index i is byte i % SEG_SIZE of segment i / SEG_SIZE; bytes [astart, aend) are live,
 *     astart < SEG_SIZE (eviction frees the segments astart passes; nothing moves) and the
 *     free room is all past aend. A version's logical offset (arena index + abase, abase
 *     being the offset of the first segment's first byte) is the sum of the slens below it,
 *     so freeing or compacting segments moves no meta. Stored items may straddle segments:
 *     code that needs one's bytes contiguous (applying a delta, a view of a whole version,
 *     hashing in the decoder) takes a pointer into its segment when it lies in one and a
 *     copy otherwise (arenaSpan); counting splices reads across segments (eviction must
 *     not allocate); writes go through arenaWrite;
 *   - 1 <= keep <= SW_SNAP_KEEP_MAX and count <= keep; count >= 1 once head > 0, so a history
 *     from a key is never empty and the decoder refuses an empty one;
 *   - bytes is the sum of the retained lengths (what the versions hold, not what they cost);
 *   - views are a cache of up to two reconstructed non-head versions, dropped by every call
 *     that modifies the history. */
#include <inttypes.h>
#include <string.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/snapshot.h"
#include "swarm/splice.h"

#define KIND_FULL 0
#define KIND_DELTA 1

/* A version is stored whole (a checkpoint) when the chain of deltas between it and the
 * newest whole version above it (the head, or a checkpoint) would otherwise hold more than
 * CHAIN_DELTAS non-empty deltas or more than max(CHAIN_SPLICES, its length / CHAIN_SPAN)
 * splices: what reading the oldest version of the chain applies through the rope, whose cost
 * is one pass over its chunks per delta plus a few dozen pieces per splice (splice.h). With
 * those limits a read applies at most 32,768 splices for documents up to 2 MB: under a
 * millisecond for the ~20 splices a step of a LangGraph thread makes, about 8 ms at worst,
 * when every splice lands in a different place and the pieces multiply; a 1,000-version
 * history of such steps, of a 20 KB or a 200 KB state, needs no checkpoint at all. Delta
 * bytes cost a read nothing (literals are not copied until the final write), so they do not
 * count. */
#define CHAIN_DELTAS 1024
#define CHAIN_SPLICES 32768
#define CHAIN_SPAN 64

/* The arena's segment size: a power of two, and an exact jemalloc size class (its smallest
 * large class, 4 pages), so a segment costs what it holds; a history pays its bytes plus
 * the unused end of its last segment (and with evictions, the dead front of its first)
 * where one contiguous buffer paid up to a quarter more to jemalloc's rounding (271 KB in a
 * 320 KiB block) and copied itself whenever it grew. A history smaller than a segment has
 * one segment of its own size, grown geometrically (from SEG_FIRST). Fuzzing builds
 * shrink it so that small inputs straddle segments. */
#ifndef SWARM_SNAP_SEGMENT
#define SWARM_SNAP_SEGMENT 16384
#endif
#define SEG_SIZE ((size_t)SWARM_SNAP_SEGMENT)
#define SEG_FIRST (SEG_SIZE < 256 ? SEG_SIZE : (size_t)256)
_Static_assert(SWARM_SNAP_SEGMENT >= 16 && (SWARM_SNAP_SEGMENT & (SWARM_SNAP_SEGMENT - 1)) == 0,
               "the segment size is a power of two");

/* 24 bytes a version. A version's place in the arena is not stored: versions lie there in
 * order, so it is the sum of the slens around it (offsetOf). Whether it is stored whole is
 * not stored either: a whole version takes len + 1 bytes, a delta at most len (a longer one
 * is stored whole instead, by commit and by the decoder), so slen says it (isFull). */
typedef struct snapMeta {
    int64_t ts;
    uint64_t checksum;
    uint32_t len;  /* at most SNAP_LEN_MAX */
    uint32_t slen; /* stored bytes: a delta, or len + 1 for a full version; 0 for the head */
} snapMeta;

#define SNAP_LEN_MAX (UINT32_MAX - 1) /* so that a whole version's len + 1 fits a slen */

typedef struct snapView {
    swSnapVersion v; /* v.version 0: empty */
    char *buf;       /* owned, when the text was reconstructed */
    size_t cap;
} snapView;

struct swSnap {
    snapMeta *ring;
    size_t cap;   /* slots in ring */
    size_t start; /* slot of the oldest version */
    size_t count; /* retained versions, the head included */
    size_t keep;
    uint64_t head; /* number of the newest version; 0 before the first save */
    int64_t created, updated;
    size_t bytes;
    char *headText;
    swSnapVersion headView;
    char **seg;                 /* the arena's segments: seg[sfirst .. sfirst + nseg) */
    size_t scap, sfirst, nseg;  /* slots in seg, the first in use, segments in use */
    size_t acap, astart, aend;  /* arena indexes: bytes the segments hold, live range */
    uint64_t abase;             /* logical offset of the first segment's first byte */
    uint64_t offVersion, offAt; /* a version below the head and its logical arena offset, as
                                 * offsetOf last found them (valid while it is retained) */
    size_t sinceFull;           /* delta bytes in the chain below the head */
    size_t chainDeltas;         /* non-empty deltas in it */
    size_t chainSplices;        /* splices in them */
    uint64_t lastFull;
    snapView view[2];
    unsigned viewNext;
    int headUnique; /* swSnapMarkHeadUnique since the head was last replaced */
};

/* ---- Ring and arena ---- */

/* The i-th retained version, 0 being the oldest. */
static snapMeta *slotAt(const swSnap *s, size_t i) {
    size_t j = s->start + i;
    if (j >= s->cap) j -= s->cap;
    return &s->ring[j];
}

static snapMeta *metaOf(const swSnap *s, uint64_t v) {
    return slotAt(s, (size_t)(v - (s->head - s->count + 1)));
}

static int isFull(const snapMeta *m) {
    return m->slen == (uint64_t)m->len + 1;
}

/* The logical arena offset (arena index + abase) of the stored bytes of retained version v,
 * or for the head the end of the arena: a walk over the slens from the nearest of the
 * oldest version, the head and the version last looked up. */
static uint64_t offsetOf(const swSnap *cs, uint64_t v) {
    swSnap *s = (swSnap *)cs; /* the remembered offset is a cache */
    uint64_t oldest = s->head - s->count + 1;
    uint64_t at = oldest, off = s->abase + s->astart;
    if (s->head - v < v - oldest) {
        at = s->head;
        off = s->abase + s->aend;
    }
    if (s->offVersion >= oldest && s->offVersion < s->head &&
        (s->offVersion > v ? s->offVersion - v : v - s->offVersion) < (at > v ? at - v : v - at)) {
        at = s->offVersion;
        off = s->offAt;
    }
    for (; at < v; at++) off += metaOf(s, at)->slen;
    for (; at > v; at--) off -= metaOf(s, at - 1)->slen;
    if (v < s->head) {
        s->offVersion = v;
        s->offAt = off;
    }
    return off;
}

/* Moves the metas into a new array of cap slots (cap >= count), oldest at slot 0. */
static swStatus ringResize(swSnap *s, size_t cap) {
    if (cap > SIZE_MAX / sizeof(snapMeta)) return SW_ERR_NOMEM;
    snapMeta *ring = swAlloc(cap * sizeof(snapMeta));
    if (ring == NULL) return SW_ERR_NOMEM;
    for (size_t i = 0; i < s->count; i++) ring[i] = *slotAt(s, i);
    swFree(s->ring);
    s->ring = ring;
    s->cap = cap;
    s->start = 0;
    return SW_OK;
}

/* After a drop in keep: give back most of an oversized ring. Failing to is harmless. */
static void ringTrim(swSnap *s) {
    if (s->cap > 8 && s->cap / 4 > s->count) {
        size_t cap = s->count * 2 > 8 ? s->count * 2 : 8;
        (void)ringResize(s, cap);
    }
}

/* ---- Arena ---- */

/* The index (logical offset - abase) of the n bytes at i lies in one segment. */
static int arenaInOne(size_t i, size_t n) {
    return n == 0 || i / SEG_SIZE == (i + n - 1) / SEG_SIZE;
}

/* The byte at arena index i (i < acap). */
static char *arenaPtr(const swSnap *s, size_t i) {
    return s->seg[s->sfirst + i / SEG_SIZE] + i % SEG_SIZE;
}

static void arenaCopyOut(const swSnap *s, size_t i, char *dst, size_t n) {
    while (n > 0) {
        size_t k = SEG_SIZE - i % SEG_SIZE;
        if (k > n) k = n;
        memcpy(dst, arenaPtr(s, i), k);
        dst += k;
        i += k;
        n -= k;
    }
}

/* Writes src[0..n) at arena index i, across segments (the room was reserved). */
static void arenaWrite(swSnap *s, size_t i, const char *src, size_t n) {
    while (n > 0) {
        size_t k = SEG_SIZE - i % SEG_SIZE;
        if (k > n) k = n;
        memcpy(arenaPtr(s, i), src, k);
        src += k;
        i += k;
        n -= k;
    }
}

static void arenaAppendTo(const swSnap *s, size_t i, size_t n, swBuf *b) {
    while (n > 0) {
        size_t k = SEG_SIZE - i % SEG_SIZE;
        if (k > n) k = n;
        swBufAppend(b, arenaPtr(s, i), k);
        i += k;
        n -= k;
    }
}

/* The n bytes at logical offset off as one contiguous run: a pointer into their segment
 * when they lie in one, else a copy made at *scratch, which is advanced past it. */
static const char *arenaSpan(const swSnap *s, uint64_t off, size_t n, char **scratch) {
    /* A history whose stored deltas are all empty has no arena: nothing to point into. */
    if (n == 0) return "";
    size_t i = (size_t)(off - s->abase);
    if (arenaInOne(i, n)) return arenaPtr(s, i);
    char *p = *scratch;
    arenaCopyOut(s, i, p, n);
    *scratch += n;
    return p;
}

static uint64_t arenaVarint(const swSnap *s, size_t *i, size_t end) {
    uint64_t v = 0;
    for (int shift = 0; *i < end && shift < 64; shift += 7) {
        unsigned b = (unsigned char)*arenaPtr(s, (*i)++);
        v |= (uint64_t)(b & 127) << shift;
        if (b < 128) break;
    }
    return v;
}

/* swSpliceCount of the delta at arena index i, which may straddle segments: what eviction
 * needs without allocating. */
static size_t arenaSpliceCount(const swSnap *s, size_t i, size_t n) {
    if (n == 0) return 0;
    if (arenaInOne(i, n)) return swSpliceCount(arenaPtr(s, i), n);
    size_t end = i + n, count = 0;
    while (i < end) {
        (void)arenaVarint(s, &i, end);
        (void)arenaVarint(s, &i, end);
        uint64_t lit = arenaVarint(s, &i, end);
        if (lit > end - i) break;
        i += (size_t)lit;
        count++;
    }
    return count;
}

/* Frees every segment and the segment array: the arena holds nothing live. Logical
 * offsets stay as they were (retained versions may have empty deltas, and offsetOf may
 * have one's offset cached). */
static void arenaClear(swSnap *s) {
    for (size_t k = 0; k < s->nseg; k++) swFree(s->seg[s->sfirst + k]);
    swFree(s->seg);
    s->seg = NULL;
    s->scap = s->sfirst = s->nseg = 0;
    s->abase += s->aend;
    s->acap = s->astart = s->aend = 0;
}

/* Room in the segment array for want segments from sfirst (which may move to 0). */
static swStatus arenaSlots(swSnap *s, size_t want) {
    if (s->sfirst + want <= s->scap) return SW_OK;
    if (want <= s->scap) {
        memmove(s->seg, s->seg + s->sfirst, s->nseg * sizeof(char *));
        s->sfirst = 0;
        return SW_OK;
    }
    size_t cap = s->scap * 2 > want ? s->scap * 2 : want;
    if (cap > SIZE_MAX / sizeof(char *)) return SW_ERR_NOMEM;
    char **seg = swRealloc(s->seg, cap * sizeof(char *));
    if (seg == NULL) return SW_ERR_NOMEM;
    memmove(seg, seg + s->sfirst, s->nseg * sizeof(char *));
    s->seg = seg;
    s->scap = cap;
    s->sfirst = 0;
    return SW_OK;
}

/* Makes room for n more arena bytes at the end. On failure the arena holds the same bytes
 * (its segment array may have grown). */
static swStatus arenaReserve(swSnap *s, size_t n) {
    if (s->acap - s->aend >= n) return SW_OK;
    size_t live = s->aend - s->astart;
    if (s->nseg == 1 && s->astart > 0 && s->astart >= live && s->acap - live >= n) {
        /* One segment, mostly dead in front: compact it (at most a segment's bytes). */
        memmove(s->seg[s->sfirst], s->seg[s->sfirst] + s->astart, live);
        s->abase += s->astart;
        s->aend = live;
        s->astart = 0;
        return SW_OK;
    }
    if (n > SIZE_MAX / 2 - s->aend) return SW_ERR_NOMEM;
    size_t need = s->aend + n;
    if (need <= SEG_SIZE && s->nseg <= 1) {
        /* The only segment, grown geometrically up to a whole one: a small history pays
         * for its bytes, not for a segment. */
        size_t cap = need + need / 4;
        if (cap < SEG_FIRST) cap = SEG_FIRST;
        if (cap > SEG_SIZE) cap = SEG_SIZE;
        if (arenaSlots(s, 1) != SW_OK) return SW_ERR_NOMEM;
        char *p = swRealloc(s->nseg ? s->seg[s->sfirst] : NULL, cap);
        if (p == NULL) return SW_ERR_NOMEM;
        s->seg[s->sfirst] = p;
        s->nseg = 1;
        s->acap = cap;
        return SW_OK;
    }
    size_t want = need / SEG_SIZE + (need % SEG_SIZE != 0);
    if (arenaSlots(s, want) != SW_OK) return SW_ERR_NOMEM;
    if (s->nseg == 1 && s->acap < SEG_SIZE) {
        char *p = swRealloc(s->seg[s->sfirst], SEG_SIZE);
        if (p == NULL) return SW_ERR_NOMEM;
        s->seg[s->sfirst] = p;
        s->acap = SEG_SIZE;
    }
    for (size_t k = s->nseg; k < want; k++) {
        char *p = swAlloc(SEG_SIZE);
        if (p == NULL) {
            while (k-- > s->nseg) swFree(s->seg[s->sfirst + k]);
            return SW_ERR_NOMEM;
        }
        s->seg[s->sfirst + k] = p;
    }
    s->nseg = want;
    s->acap = want * SEG_SIZE;
    return SW_OK;
}

/* After astart moved on: frees the segments it has passed, without moving a byte. */
static void arenaDropFront(swSnap *s) {
    while (s->nseg > 0 && s->astart >= SEG_SIZE) {
        swFree(s->seg[s->sfirst]);
        s->sfirst++;
        s->nseg--;
        s->astart -= SEG_SIZE;
        s->aend -= SEG_SIZE;
        s->acap -= SEG_SIZE;
        s->abase += SEG_SIZE;
    }
    if (s->nseg == 0) s->sfirst = 0;
}

/* After evictions: frees an empty arena, compacts and shrinks a lone segment that is mostly
 * dead, and gives back most of an oversized segment array. Best effort. */
static void arenaTrim(swSnap *s) {
    size_t live = s->aend - s->astart;
    if (live == 0) {
        arenaClear(s);
        return;
    }
    if (s->nseg == 1 && s->astart > 0 && s->astart >= live) {
        char *p = s->seg[s->sfirst];
        memmove(p, p + s->astart, live);
        s->abase += s->astart;
        s->aend = live;
        s->astart = 0;
        if (s->acap > SEG_FIRST && s->acap / 2 > live) {
            size_t cap = live + live / 2 + 64;
            if (cap > s->acap) cap = s->acap;
            p = swRealloc(p, cap);
            if (p != NULL) {
                s->seg[s->sfirst] = p;
                s->acap = cap;
            }
        }
    }
    if (s->scap > 4 && s->scap / 4 > s->nseg) {
        memmove(s->seg, s->seg + s->sfirst, s->nseg * sizeof(char *));
        s->sfirst = 0;
        char **seg = swRealloc(s->seg, s->nseg * 2 * sizeof(char *));
        if (seg != NULL) {
            s->seg = seg;
            s->scap = s->nseg * 2;
        }
    }
}

static void dropViews(swSnap *s) {
    for (int i = 0; i < 2; i++) s->view[i].v.version = 0;
}

static void evictOldest(swSnap *s) {
    snapMeta *m = slotAt(s, 0);
    uint64_t number = s->head - s->count + 1;
    s->bytes -= (size_t)m->len;
    if (s->count > 1) { /* the head's text is not in the arena */
        if (!isFull(m) && number > s->lastFull) {
            s->sinceFull -= m->slen;
            s->chainSplices -= arenaSpliceCount(s, s->astart, m->slen);
            if (m->slen > 0) s->chainDeltas--;
        }
        if (isFull(m) && number == s->lastFull) s->lastFull = 0;
        s->astart += m->slen;
        arenaDropFront(s);
    }
    s->start = s->start + 1 == s->cap ? 0 : s->start + 1;
    s->count--;
}

static swStatus checkKeep(size_t keep, swError *err) {
    if (keep < 1 || keep > SW_SNAP_KEEP_MAX) {
        return swErrorSet(err, SW_ERR_RANGE, 0, "keep must be between 1 and %d", SW_SNAP_KEEP_MAX);
    }
    return SW_OK;
}

/* Makes the owned copy text[0..len) (with its checksum) the new head under the given keep
 * limit; the old head goes to the arena as a reverse delta from the new one, or in full. On
 * failure nothing changed and the caller still owns text. */
static swStatus commit(swSnap *s, char *text, size_t len, uint64_t checksum, int64_t ts,
                       size_t keep) {
    size_t evict = s->count + 1 > keep ? s->count + 1 - keep : 0;
    swBuf d = {0};
    if (len > SNAP_LEN_MAX) return SW_ERR_LIMIT;
    /* The old head is kept unless this save evicts it too (keep 1). */
    int storeOld = s->count > 0 && evict <= s->count - 1;
    size_t oldLen = s->count ? (size_t)slotAt(s, s->count - 1)->len : 0;
    int full = 0;
    size_t splices = 0;
    if (storeOld) {
        /* The delta that rebuilds the old head from the new one, unless it costs more than
         * the old head itself would, or would make the chain from the head too long. */
        swSpliceDiff(text, len, s->headText, oldLen, &d);
        if (d.failed) {
            swBufFree(&d);
            return SW_ERR_NOMEM;
        }
        splices = swSpliceCount(d.data, d.len);
        size_t maxSplices =
            oldLen / CHAIN_SPAN > CHAIN_SPLICES ? oldLen / CHAIN_SPAN : CHAIN_SPLICES;
        full = d.len > oldLen || (d.len > 0 && (s->chainDeltas + 1 > CHAIN_DELTAS ||
                                                s->chainSplices + splices > maxSplices));
        /* Reserving may move or compact a lone segment that a cached view points into: the
         * cache goes first, even if this save then fails. */
        dropViews(s);
        if (arenaReserve(s, full ? oldLen + 1 : d.len) != SW_OK) {
            swBufFree(&d);
            return SW_ERR_NOMEM;
        }
    }
    if (evict == 0 && s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        if (cap > keep) cap = keep;
        if (cap < s->count + 1) cap = s->count + 1;
        if (ringResize(s, cap) != SW_OK) {
            swBufFree(&d);
            return SW_ERR_NOMEM;
        }
    }
    /* Nothing can fail from here on. */
    dropViews(s);
    if (s->count > 0) {
        snapMeta *old = slotAt(s, s->count - 1);
        if (storeOld) {
            if (full) {
                arenaWrite(s, s->aend, s->headText, oldLen + 1);
                old->slen = (uint32_t)(oldLen + 1);
                s->sinceFull = 0;
                s->chainDeltas = 0;
                s->chainSplices = 0;
                s->lastFull = s->head;
            } else {
                arenaWrite(s, s->aend, d.data, d.len); /* none: texts equal */
                old->slen = (uint32_t)d.len;
                s->sinceFull += d.len;
                s->chainSplices += splices;
                if (d.len > 0) s->chainDeltas++;
            }
            s->aend += old->slen;
        } else {
            old->slen = 0; /* evicted below, before anything reads it */
        }
        swFree(s->headText);
    }
    swBufFree(&d);
    /* Evict before writing the new meta: a full ring's next slot is the oldest's. */
    while (evict-- > 0) evictOldest(s);
    s->headText = text;
    s->headUnique = 0;
    *slotAt(s, s->count) = (snapMeta){ts, checksum, (uint32_t)len, 0};
    s->count++;
    s->head++;
    s->bytes += len;
    s->keep = keep;
    if (s->count == 1) {
        arenaClear(s);
        s->sinceFull = 0;
        s->chainDeltas = 0;
        s->chainSplices = 0;
        s->lastFull = 0;
    }
    if (s->head == 1) s->created = ts;
    s->updated = ts;
    s->headView = (swSnapVersion){s->head, ts, checksum, len, text};
    ringTrim(s);
    arenaTrim(s);
    return SW_OK;
}

/* ---- Reconstruction ---- */

/* Reconstructs non-head version v into a view. Starts from the nearest version above v that
 * is whole already (a full one, the head, or a cached view) and applies the deltas down to
 * v: one delta by a direct copy, more through a rope. */
static swStatus materialize(swSnap *s, uint64_t v, const swSnapVersion **out) {
    for (int i = 0; i < 2; i++) {
        if (s->view[i].v.version == v) {
            *out = &s->view[i].v;
            return SW_OK;
        }
    }
    const snapMeta *m = metaOf(s, v);
    snapView *view = &s->view[s->viewNext];
    size_t len = (size_t)m->len;
    size_t at = isFull(m) ? (size_t)(offsetOf(s, v) - s->abase) : 0;
    if (isFull(m) && arenaInOne(at, len + 1)) {
        /* Whole in one segment: the view points there. */
        s->viewNext ^= 1;
        view->v = (swSnapVersion){v, m->ts, m->checksum, len, arenaPtr(s, at)};
        *out = &view->v;
        return SW_OK;
    }
    if (view->cap < len + 1) {
        char *b = swRealloc(view->buf, len + 1);
        if (b == NULL) return SW_ERR_NOMEM;
        view->buf = b;
        view->cap = len + 1;
    }
    view->v.version = 0; /* its old contents are being overwritten */
    if (isFull(m)) {
        /* Whole but across segments: copied into the view. */
        arenaCopyOut(s, at, view->buf, len + 1);
        s->viewNext ^= 1;
        view->v = (swSnapVersion){v, m->ts, m->checksum, len, view->buf};
        *out = &view->v;
        return SW_OK;
    }
    uint64_t w = v + 1;
    const char *from = NULL;
    size_t fromLen = 0, fromAt = 0; /* fromAt: arena index + 1 of a whole version in it */
    for (; w <= s->head; w++) {
        const snapMeta *mw = metaOf(s, w);
        for (int i = 0; i < 2 && from == NULL; i++) {
            if (s->view[i].v.version == w && &s->view[i] != view) {
                from = s->view[i].v.text;
                fromLen = s->view[i].v.len;
            }
        }
        if (from == NULL && w == s->head) {
            from = s->headText;
            fromLen = (size_t)mw->len;
        } else if (from == NULL && isFull(mw)) {
            fromAt = (size_t)(offsetOf(s, w) - s->abase) + 1;
            fromLen = (size_t)mw->len;
            from = fromLen ? arenaPtr(s, fromAt - 1) : "";
        }
        if (from != NULL) break;
    }
    uint64_t off = offsetOf(s, w); /* walks down from w: each delta's offset from the next */
    /* The rope points into the base and the deltas until it is written: those that straddle
     * segments are copied, once, into one scratch block that lives as long. */
    size_t scratchLen = fromAt && !arenaInOne(fromAt - 1, fromLen) ? fromLen : 0;
    if (s->nseg > 1) {
        uint64_t o = off;
        for (uint64_t u = w - 1; u + 1 > v; u--) {
            const snapMeta *mu = metaOf(s, u);
            o -= mu->slen;
            if (!arenaInOne((size_t)(o - s->abase), mu->slen)) scratchLen += mu->slen;
        }
    }
    char *scratch = NULL, *sp = NULL;
    if (scratchLen > 0) {
        scratch = sp = swAlloc(scratchLen);
        if (scratch == NULL) return SW_ERR_NOMEM;
    }
    if (fromAt && !arenaInOne(fromAt - 1, fromLen)) {
        arenaCopyOut(s, fromAt - 1, sp, fromLen);
        from = sp;
        sp += fromLen;
    }
    swStatus st = SW_OK;
    if (w == v + 1) {
        swBuf b = {view->buf, 0, view->cap, 0};
        swSpliceApply(arenaSpan(s, off - m->slen, m->slen, &sp), m->slen, from, fromLen, &b);
        view->buf = b.data; /* the same block unless the delta lied about its length */
        view->cap = b.cap;
        if (b.failed) {
            st = SW_ERR_NOMEM;
        } else if (b.len != len) {
            st = SW_ERR_CORRUPT; /* not after a checked decode */
        }
    } else {
        swSpliceRope r;
        st = swSpliceRopeInit(&r, from, fromLen);
        for (uint64_t u = w - 1; st == SW_OK && u + 1 > v; u--) {
            const snapMeta *mu = metaOf(s, u);
            off -= mu->slen;
            st = swSpliceRopeApply(&r, arenaSpan(s, off, mu->slen, &sp), mu->slen);
        }
        if (st == SW_OK && swSpliceRopeLen(&r) != len) st = SW_ERR_CORRUPT;
        if (st == SW_OK) swSpliceRopeWrite(&r, view->buf);
        swSpliceRopeFree(&r);
    }
    swFree(scratch);
    if (st != SW_OK) return st;
    view->buf[len] = '\0';
    view->v = (swSnapVersion){v, m->ts, m->checksum, len, view->buf};
    s->viewNext ^= 1;
    *out = &view->v;
    return SW_OK;
}

static swStatus versionOf(const swSnap *cs, uint64_t v, const swSnapVersion **out) {
    swSnap *s = (swSnap *)cs; /* the views are a cache: reading fills them */
    if (v == s->head) {
        *out = &s->headView;
        return SW_OK;
    }
    return materialize(s, v, out);
}

/* ---- Life cycle ---- */

swSnap *swSnapNew(void) {
    swSnap *s = swCalloc(1, sizeof(*s));
    if (s == NULL) return NULL;
    s->keep = SW_SNAP_KEEP_DEFAULT;
    return s;
}

void swSnapFree(swSnap *s) {
    if (s == NULL) return;
    swFree(s->ring);
    swFree(s->headText);
    arenaClear(s);
    for (int i = 0; i < 2; i++) swFree(s->view[i].buf);
    swFree(s);
}

swSnap *swSnapDup(const swSnap *s) {
    swSnap *d = swCalloc(1, sizeof(*d));
    if (d == NULL) return NULL;
    d->keep = s->keep;
    d->head = s->head;
    d->created = s->created;
    d->updated = s->updated;
    d->sinceFull = s->sinceFull;
    d->chainDeltas = s->chainDeltas;
    d->chainSplices = s->chainSplices;
    d->lastFull = s->lastFull;
    d->headUnique = s->headUnique;
    if (s->count == 0) return d;
    d->ring = swAlloc(s->count * sizeof(snapMeta));
    d->headText = swMemdup(s->headText, (size_t)slotAt(s, s->count - 1)->len);
    if (d->ring == NULL || d->headText == NULL) {
        swSnapFree(d);
        return NULL;
    }
    if (s->nseg > 0) {
        /* The same segments, holding the same live bytes at the same indexes. */
        d->seg = swAlloc(s->nseg * sizeof(char *));
        if (d->seg == NULL) {
            swSnapFree(d);
            return NULL;
        }
        d->scap = s->nseg;
        d->acap = s->acap;
        for (; d->nseg < s->nseg; d->nseg++) {
            d->seg[d->nseg] = swAlloc(s->nseg == 1 ? s->acap : SEG_SIZE);
            if (d->seg[d->nseg] == NULL) {
                swSnapFree(d);
                return NULL;
            }
        }
        d->astart = s->astart;
        d->aend = s->aend;
        d->abase = s->abase;
        for (size_t i = s->astart; i < s->aend;) {
            size_t k = SEG_SIZE - i % SEG_SIZE;
            if (k > s->aend - i) k = s->aend - i;
            memcpy(arenaPtr(d, i), arenaPtr(s, i), k);
            i += k;
        }
    }
    for (size_t i = 0; i < s->count; i++) d->ring[i] = *slotAt(s, i);
    d->cap = d->count = s->count;
    d->bytes = s->bytes;
    d->headView = s->headView;
    d->headView.text = d->headText;
    return d;
}

/* ---- Writing ---- */

/* Appends a copy of text[0..len) as the new head. The copy is made first: text may point
 * into the history itself (a version the commit evicts, or a view it drops). */
static swStatus commitCopy(swSnap *s, const char *text, size_t len, uint64_t checksum, int64_t ts,
                           size_t keep, uint64_t *version, swError *err) {
    if (keep != 0 && checkKeep(keep, err) != SW_OK) return SW_ERR_RANGE;
    if (s->head == UINT64_MAX) {
        return swErrorSet(err, SW_ERR_LIMIT, 0, "version numbers exhausted");
    }
    char *copy = swMemdup(text, len);
    if (copy == NULL) return SW_ERR_NOMEM;
    swStatus st = commit(s, copy, len, checksum, ts, keep ? keep : s->keep);
    if (st != SW_OK) {
        swFree(copy);
        if (st == SW_ERR_LIMIT) swErrorSet(err, st, 0, "document too large to keep in history");
        return st;
    }
    if (version != NULL) *version = s->head;
    return SW_OK;
}

swStatus swSnapSave(swSnap *s, const char *text, size_t len, int64_t ts, size_t keep,
                    uint64_t *version, swError *err) {
    return commitCopy(s, text, len, XXH3_64bits(text, len), ts, keep, version, err);
}

swStatus swSnapRestore(swSnap *s, uint64_t v, int64_t ts, size_t keep, uint64_t *version,
                       swError *err) {
    const swSnapVersion *from = NULL;
    swStatus st = swSnapLookup(s, v, &from, err);
    if (st != SW_OK) return st;
    return commitCopy(s, from->text, from->len, from->checksum, ts, keep, version, err);
}

swStatus swSnapSetKeep(swSnap *s, size_t keep, swError *err) {
    swStatus st = checkKeep(keep, err);
    if (st != SW_OK) return st;
    s->keep = keep;
    if (s->count > keep) {
        dropViews(s);
        while (s->count > keep) evictOldest(s);
    }
    ringTrim(s);
    arenaTrim(s);
    return SW_OK;
}

size_t swSnapTrimBytes(swSnap *s, size_t max) {
    size_t evicted = 0;
    if (s->count < 2 || s->aend - s->astart <= max) return 0;
    dropViews(s);
    while (s->count > 1 && s->aend - s->astart > max) {
        evictOldest(s);
        evicted++;
    }
    ringTrim(s);
    arenaTrim(s);
    return evicted;
}

void swSnapMarkHeadUnique(swSnap *s) {
    s->headUnique = s->count > 0;
}

int swSnapHeadUnique(const swSnap *s) {
    return s->headUnique;
}

/* ---- Reading ---- */

const swSnapVersion *swSnapHead(const swSnap *s) {
    return s->count ? &s->headView : NULL;
}

const swSnapVersion *swSnapGet(const swSnap *s, uint64_t v) {
    const swSnapVersion *out = NULL;
    uint64_t oldest = s->head - s->count + 1;
    if (s->count == 0 || v < oldest || v > s->head) return NULL;
    return versionOf(s, v, &out) == SW_OK ? out : NULL;
}

swStatus swSnapLookup(const swSnap *s, uint64_t v, const swSnapVersion **out, swError *err) {
    if (s->count > 0 && v >= s->head - s->count + 1 && v <= s->head) {
        swStatus st = versionOf(s, v, out);
        if (st == SW_ERR_CORRUPT) {
            return swErrorSet(err, st, 0, "version %" PRIu64 " cannot be rebuilt", v);
        }
        return st;
    }
    if (v >= 1 && v <= s->head) {
        return swErrorSet(err, SW_ERR_NOVERSION, 0,
                          "version %" PRIu64 " was evicted, the oldest retained is %" PRIu64, v,
                          s->head - s->count + 1);
    }
    return swErrorSet(err, SW_ERR_NOVERSION, 0,
                      "version %" PRIu64 " does not exist, the head is %" PRIu64, v, s->head);
}

size_t swSnapCount(const swSnap *s) {
    return s->count;
}

const swSnapVersion *swSnapAt(const swSnap *s, size_t i) {
    return i < s->count ? swSnapGet(s, s->head - i) : NULL;
}

int swSnapMetaAt(const swSnap *s, size_t i, swSnapVersion *out) {
    if (i >= s->count) return 0;
    const snapMeta *m = slotAt(s, s->count - 1 - i);
    *out = (swSnapVersion){s->head - i, m->ts, m->checksum, (size_t)m->len,
                           i == 0 ? s->headText : NULL};
    return 1;
}

void swSnapGetInfo(const swSnap *s, swSnapInfo *info) {
    info->head = s->head;
    info->oldest = s->count ? s->head - s->count + 1 : 0;
    info->retained = s->count;
    info->keep = s->keep;
    info->bytes = s->bytes;
    info->created = s->created;
    info->updated = s->updated;
}

size_t swSnapStoredBytes(const swSnap *s) {
    return s->count > 1 ? s->aend - s->astart : 0;
}

size_t swSnapBytes(const swSnap *s) {
    return s->bytes;
}

size_t swSnapMemUsage(const swSnap *s) {
    /* What each block really occupies (allocator rounding included: an 88 KB document takes
     * a 96 KiB block), falling back to the requested sizes. */
    size_t bytes = swAllocSize((void *)s, sizeof(*s));
    if (s->ring) bytes += swAllocSize(s->ring, s->cap * sizeof(snapMeta));
    if (s->headText) bytes += swAllocSize(s->headText, s->headView.len + 1);
    if (s->seg) bytes += swAllocSize(s->seg, s->scap * sizeof(char *));
    for (size_t k = 0; k < s->nseg; k++) {
        bytes += swAllocSize(s->seg[s->sfirst + k], s->nseg == 1 ? s->acap : SEG_SIZE);
    }
    for (int i = 0; i < 2; i++) {
        if (s->view[i].buf) bytes += swAllocSize(s->view[i].buf, s->view[i].cap);
    }
    return bytes;
}

void swSnapGetStorage(const swSnap *s, swSnapStorage *st) {
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i + 1 < s->count; i++) {
        const snapMeta *m = slotAt(s, i);
        if (isFull(m)) {
            st->checkpoints++;
            st->checkpointBytes += m->slen;
        } else {
            st->deltas++;
            st->deltaBytes += m->slen;
        }
    }
    st->chainBytes = s->sinceFull;
    st->chainDeltas = s->chainDeltas;
    st->chainSplices = s->chainSplices;
}

/* ---- Serialization ---- */

#define HEADER_BYTES (1 + 8 * 5)
#define V2_VERSION_BYTES (8 * 3 + 1 + 8)

swStatus swSnapEncode(const swSnap *s, char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    size_t total = HEADER_BYTES;
    for (size_t i = 0; i < s->count; i++) {
        const snapMeta *m = slotAt(s, i);
        size_t n = i + 1 == s->count || isFull(m) ? (size_t)m->len : m->slen;
        if (n > SIZE_MAX - V2_VERSION_BYTES - total) return SW_ERR_NOMEM;
        total += V2_VERSION_BYTES + n;
    }
    swBuf b = {0};
    swBufReserve(&b, total);
    swBufPutU8(&b, SW_SNAP_FORMAT);
    swBufPutU64(&b, s->head);
    swBufPutU64(&b, s->keep);
    swBufPutU64(&b, (uint64_t)s->created);
    swBufPutU64(&b, (uint64_t)s->updated);
    swBufPutU64(&b, s->count);
    uint64_t off = s->abase + s->astart;
    for (size_t i = 0; i < s->count; i++) {
        const snapMeta *m = slotAt(s, i);
        int isHead = i + 1 == s->count;
        swBufPutU64(&b, (uint64_t)m->ts);
        swBufPutU64(&b, m->checksum);
        swBufPutU64(&b, m->len);
        swBufPutU8(&b, isHead || isFull(m) ? KIND_FULL : KIND_DELTA);
        if (isHead) {
            swBufPutU64(&b, m->len);
            swBufAppend(&b, s->headText, (size_t)m->len);
        } else if (isFull(m)) {
            swBufPutU64(&b, m->len);
            arenaAppendTo(s, (size_t)(off - s->abase), (size_t)m->len, &b);
        } else {
            swBufPutU64(&b, m->slen);
            arenaAppendTo(s, (size_t)(off - s->abase), m->slen, &b);
        }
        off += m->slen;
    }
    if (b.failed) {
        swBufFree(&b);
        return SW_ERR_NOMEM;
    }
    *buf = b.data;
    *len = b.len;
    return SW_OK;
}

static swStatus corrupt(swSnap *s, swError *err, size_t off, const char *what) {
    swSnapFree(s);
    return swErrorSet(err, SW_ERR_CORRUPT, off, "snapshot history %s at byte %zu", what, off);
}

static swStatus checksumMismatch(swSnap *s, swError *err, size_t off, uint64_t number) {
    swSnapFree(s);
    return swErrorSet(err, SW_ERR_CORRUPT, off, "checksum mismatch in version %" PRIu64, number);
}

/* The stored forms as they are, but for a delta longer than its version, which is stored
 * whole (as a save would have). Every delta is checked against the version above it and
 * every version is rebuilt, newest to oldest, and its checksum verified. */
static swStatus decodeStored(const char *buf, swReader *r, size_t len, swSnap *s, uint64_t count,
                             swError *err) {
    size_t off = HEADER_BYTES;
    /* at[i]: byte offset of each version; raw[i]: the length of a delta stored whole, else 0 */
    size_t *at = swAlloc((size_t)count * 2 * sizeof(size_t)), *raw = at + count;
    if (at == NULL) {
        swSnapFree(s);
        return SW_ERR_NOMEM;
    }
    swStatus st = SW_OK;
    for (uint64_t i = 0; i < count; i++) {
        int isHead = i + 1 == count;
        int64_t ts = (int64_t)swReadU64(r);
        uint64_t checksum = swReadU64(r);
        uint64_t n = swReadU64(r);
        uint8_t kind = swReadU8(r);
        uint64_t slen = swReadU64(r);
        if (swReaderFailed(r) || slen > len - off - V2_VERSION_BYTES) {
            st = corrupt(s, err, len, "truncated");
            goto done;
        }
        at[i] = off;
        off += V2_VERSION_BYTES;
        const char *stored = swReadBytes(r, (size_t)slen);
        if (kind > KIND_DELTA || (isHead && kind != KIND_FULL)) {
            st = corrupt(s, err, off - 9, "has a bad version kind");
            goto done;
        }
        if (kind == KIND_FULL && slen != n) {
            st = corrupt(s, err, off - 8, "has a bad version length");
            goto done;
        }
        if (n > UINT32_MAX - 1 || (kind == KIND_DELTA && slen > UINT32_MAX)) {
            st = corrupt(s, err, off - 8, "has a version too large");
            goto done;
        }
        snapMeta *m = &s->ring[s->count++];
        *m = (snapMeta){ts, checksum, (uint32_t)n, 0};
        raw[i] = kind == KIND_DELTA && slen > n ? (size_t)slen : 0;
        if (isHead) {
            s->headText = swMemdup(stored, (size_t)n);
            if (s->headText == NULL) {
                swSnapFree(s);
                st = SW_ERR_NOMEM;
                goto done;
            }
        } else {
            int whole = kind == KIND_FULL || raw[i] != 0;
            size_t need = whole ? (size_t)n + 1 : (size_t)slen;
            if (arenaReserve(s, need) != SW_OK) {
                swSnapFree(s);
                st = SW_ERR_NOMEM;
                goto done;
            }
            m->slen = (uint32_t)need;
            if (kind == KIND_FULL || !whole) arenaWrite(s, s->aend, stored, (size_t)slen);
            if (kind == KIND_FULL) arenaWrite(s, s->aend + (size_t)slen, "", 1);
            s->aend += need; /* a long delta's whole text is written once rebuilt, below */
        }
        s->bytes += (size_t)n;
        off += (size_t)slen;
    }
    if (!swReaderAtEnd(r)) {
        st = corrupt(s, err, off, "has trailing bytes");
        goto done;
    }

    /* Rebuild every version from the head down, one delta at a time, checking each delta
     * against the version above it and each result against its length and checksum. */
    {
        const snapMeta *hm = slotAt(s, count - 1);
        if (XXH3_64bits(s->headText, (size_t)hm->len) != hm->checksum) {
            st = checksumMismatch(s, err, at[count - 1], s->head);
            goto done;
        }
        swBuf cur = {0}, next = {0}, span = {0}; /* span: a delta copied out of its segments */
        const char *above = s->headText;
        size_t aboveLen = (size_t)hm->len, aoff = s->aend;
        for (uint64_t i = count - 1; i-- > 0;) {
            uint64_t number = s->head - count + 1 + i;
            snapMeta *m = slotAt(s, (size_t)i);
            aoff -= m->slen;
            const char *text;
            if (isFull(m) && raw[i] == 0) {
                if (arenaInOne(aoff, m->slen)) {
                    text = arenaPtr(s, aoff);
                } else { /* across segments: hashed and used as a base from a copy */
                    next.len = 0;
                    swBufReserve(&next, m->slen);
                    if (next.failed) {
                        st = SW_ERR_NOMEM;
                        break;
                    }
                    arenaCopyOut(s, aoff, next.data, m->slen);
                    swBuf t = cur;
                    cur = next;
                    next = t;
                    text = cur.data;
                }
            } else {
                size_t tlen = 0, dlen = m->slen;
                const char *stored;
                swError derr;
                if (raw[i] != 0) { /* a long delta, read where it was decoded from */
                    stored = buf + at[i] + V2_VERSION_BYTES;
                    dlen = raw[i];
                } else if (arenaInOne(aoff, dlen)) {
                    stored = dlen ? arenaPtr(s, aoff) : "";
                } else {
                    span.len = 0;
                    swBufReserve(&span, dlen);
                    if (span.failed) {
                        st = SW_ERR_NOMEM;
                        break;
                    }
                    arenaCopyOut(s, aoff, span.data, dlen);
                    stored = span.data;
                }
                int bad = swSpliceCheck(stored, dlen, aboveLen, &tlen, &derr) != SW_OK;
                if (bad || tlen != m->len) {
                    st =
                        swErrorSet(err, SW_ERR_CORRUPT, at[i],
                                   "snapshot history has a bad delta in version %" PRIu64 ": %s",
                                   number, bad ? derr.msg : "it builds a text of the wrong length");
                    break;
                }
                next.len = 0;
                swSpliceApply(stored, dlen, above, aboveLen, &next);
                if (next.failed) {
                    st = SW_ERR_NOMEM;
                    break;
                }
                swBuf t = cur;
                cur = next;
                next = t;
                text = cur.data;
                if (raw[i] != 0) {
                    arenaWrite(s, aoff, text, (size_t)m->len);
                    arenaWrite(s, aoff + (size_t)m->len, "", 1);
                }
            }
            if (XXH3_64bits(text, (size_t)m->len) != m->checksum) {
                st = checksumMismatch(NULL, err, at[i], number);
                break;
            }
            above = text != NULL ? text : ""; /* an empty text may have no buffer */
            aboveLen = (size_t)m->len;
        }
        swBufFree(&cur);
        swBufFree(&next);
        swBufFree(&span);
        if (st != SW_OK) {
            swSnapFree(s);
            goto done;
        }
    }

    /* The chain bookkeeping, as the saves would have left it. */
    for (size_t i = count - 1, aoff = s->aend; i-- > 0;) {
        snapMeta *m = slotAt(s, i);
        if (isFull(m)) {
            s->lastFull = s->head - count + 1 + i;
            break;
        }
        aoff -= m->slen;
        s->sinceFull += m->slen;
        s->chainSplices += arenaSpliceCount(s, aoff, m->slen);
        if (m->slen > 0) s->chainDeltas++;
    }
    s->headView = (swSnapVersion){s->head, slotAt(s, count - 1)->ts, slotAt(s, count - 1)->checksum,
                                  (size_t)slotAt(s, count - 1)->len, s->headText};
done:
    swFree(at);
    return st;
}

swStatus swSnapDecode(const char *buf, size_t len, swSnap **out, swError *err) {
    *out = NULL;
    if (len < 1) return corrupt(NULL, err, 0, "truncated");
    unsigned format = (unsigned char)buf[0];
    if (format != SW_SNAP_FORMAT) {
        swErrorSet(err, SW_ERR_CORRUPT, 0, "unsupported snapshot format %u (expected %d)", format,
                   SW_SNAP_FORMAT);
        return SW_ERR_CORRUPT;
    }
    if (len < HEADER_BYTES) return corrupt(NULL, err, len, "truncated");
    swReader r;
    swReaderInit(&r, buf, len);
    (void)swReadU8(&r);
    uint64_t head = swReadU64(&r);
    uint64_t keep = swReadU64(&r);
    int64_t created = (int64_t)swReadU64(&r);
    int64_t updated = (int64_t)swReadU64(&r);
    uint64_t count = swReadU64(&r);
    size_t per = V2_VERSION_BYTES;
    if (keep < 1 || keep > SW_SNAP_KEEP_MAX) return corrupt(NULL, err, 9, "has a bad keep");
    if (count == 0) return corrupt(NULL, err, 33, "holds no version");
    if (count > keep || count > head) return corrupt(NULL, err, 33, "has a bad version count");
    /* Before allocating for count versions, make sure the buffer can hold them. */
    if (count > (len - HEADER_BYTES) / per) return corrupt(NULL, err, len, "truncated");

    swSnap *s = swCalloc(1, sizeof(*s));
    if (s == NULL) return SW_ERR_NOMEM;
    s->keep = (size_t)keep;
    s->head = head;
    s->created = created;
    s->updated = updated;
    s->ring = swAlloc((size_t)count * sizeof(snapMeta));
    if (s->ring == NULL) {
        swSnapFree(s);
        return SW_ERR_NOMEM;
    }
    s->cap = (size_t)count;
    swStatus st = decodeStored(buf, &r, len, s, count, err);
    if (st != SW_OK) return st; /* s is freed */
    *out = s;
    return SW_OK;
}
