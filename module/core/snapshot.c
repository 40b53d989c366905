/* snapshot.c -- the version history of a swarm-snp key (see snapshot.h).
 *
 * Invariants:
 *   - ring[start], ring[start + 1], ... (indices modulo cap) hold count versions, oldest
 *     first, numbered head - count + 1 .. head without gaps, so finding a version is O(1);
 *   - 1 <= keep <= SW_SNAP_KEEP_MAX and count <= keep; count >= 1 once head > 0 (keep is at
 *     least 1 and only a save moves head), so a history from a key is never empty and the
 *     decoder refuses an empty one;
 *   - bytes is the sum of the retained lengths; cap only grows on save (doubling, up to
 *     keep) and shrinks, best effort, when keep drops well below it. */
#include <inttypes.h>
#include <string.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"
#include "swarm/snapshot.h"

struct swSnap {
    swSnapVersion *ring;
    size_t cap;   /* slots in ring */
    size_t start; /* slot of the oldest version */
    size_t count; /* retained versions */
    size_t keep;
    uint64_t head; /* number of the newest version; 0 before the first save */
    int64_t created, updated;
    size_t bytes;
};

/* ---- Ring ---- */

/* The i-th retained version, 0 being the oldest. */
static swSnapVersion *slotAt(const swSnap *s, size_t i) {
    size_t j = s->start + i;
    if (j >= s->cap) j -= s->cap;
    return &s->ring[j];
}

/* Moves the versions into a new array of cap slots (cap >= count), oldest at slot 0. */
static swStatus ringResize(swSnap *s, size_t cap) {
    if (cap > SIZE_MAX / sizeof(swSnapVersion)) return SW_ERR_NOMEM;
    swSnapVersion *ring = swAlloc(cap * sizeof(swSnapVersion));
    if (ring == NULL) return SW_ERR_NOMEM;
    for (size_t i = 0; i < s->count; i++) ring[i] = *slotAt(s, i);
    swFree(s->ring);
    s->ring = ring;
    s->cap = cap;
    s->start = 0;
    return SW_OK;
}

static void evictOldest(swSnap *s) {
    swSnapVersion *v = slotAt(s, 0);
    s->bytes -= v->len;
    swFree(v->text);
    v->text = NULL;
    s->start = s->start + 1 == s->cap ? 0 : s->start + 1;
    s->count--;
}

/* After a drop in keep: give back most of an oversized ring. Failing to is harmless. */
static void ringTrim(swSnap *s) {
    if (s->cap > 8 && s->cap / 4 > s->count) {
        size_t cap = s->count * 2 > 8 ? s->count * 2 : 8;
        (void)ringResize(s, cap);
    }
}

static swStatus checkKeep(size_t keep, swError *err) {
    if (keep < 1 || keep > SW_SNAP_KEEP_MAX) {
        return swErrorSet(err, SW_ERR_RANGE, 0, "keep must be between 1 and %d", SW_SNAP_KEEP_MAX);
    }
    return SW_OK;
}

/* Makes the owned copy text[0..len) (with its checksum) the new head under the given keep
 * limit. On failure nothing changed and the caller still owns text. */
static swStatus commit(swSnap *s, char *text, size_t len, uint64_t checksum, int64_t ts,
                       size_t keep, uint64_t *version) {
    size_t evict = s->count + 1 > keep ? s->count + 1 - keep : 0;
    if (evict == 0 && s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        if (cap > keep) cap = keep;
        if (cap < s->count + 1) cap = s->count + 1;
        swStatus st = ringResize(s, cap);
        if (st != SW_OK) return st;
    }
    /* Nothing can fail from here on. */
    while (evict-- > 0) evictOldest(s);
    *slotAt(s, s->count) = (swSnapVersion){s->head + 1, ts, checksum, len, text};
    s->count++;
    s->head++;
    s->bytes += len;
    s->keep = keep;
    if (s->head == 1) s->created = ts;
    s->updated = ts;
    ringTrim(s);
    if (version != NULL) *version = s->head;
    return SW_OK;
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
    for (size_t i = 0; i < s->count; i++) swFree(slotAt(s, i)->text);
    swFree(s->ring);
    swFree(s);
}

swSnap *swSnapDup(const swSnap *s) {
    swSnap *d = swCalloc(1, sizeof(*d));
    if (d == NULL) return NULL;
    *d = *s;
    d->ring = NULL;
    d->cap = d->start = d->count = 0;
    d->bytes = 0;
    if (s->count == 0) return d;
    d->ring = swAlloc(s->count * sizeof(swSnapVersion));
    if (d->ring == NULL) goto fail;
    d->cap = s->count;
    for (size_t i = 0; i < s->count; i++) {
        const swSnapVersion *v = slotAt(s, i);
        char *text = swMemdup(v->text, v->len);
        if (text == NULL) goto fail;
        d->ring[i] = *v;
        d->ring[i].text = text;
        d->count++;
        d->bytes += v->len;
    }
    return d;
fail:
    swSnapFree(d);
    return NULL;
}

/* ---- Writing ---- */

swStatus swSnapSave(swSnap *s, const char *text, size_t len, int64_t ts, size_t keep,
                    uint64_t *version, swError *err) {
    if (keep != 0 && checkKeep(keep, err) != SW_OK) return SW_ERR_RANGE;
    if (s->head == UINT64_MAX) {
        return swErrorSet(err, SW_ERR_LIMIT, 0, "version numbers exhausted");
    }
    char *copy = swMemdup(text, len);
    if (copy == NULL) return SW_ERR_NOMEM;
    swStatus st = commit(s, copy, len, XXH3_64bits(copy, len), ts, keep ? keep : s->keep, version);
    if (st != SW_OK) swFree(copy);
    return st;
}

swStatus swSnapRestore(swSnap *s, uint64_t v, int64_t ts, size_t keep, uint64_t *version,
                       swError *err) {
    const swSnapVersion *from = NULL;
    swStatus st = swSnapLookup(s, v, &from, err);
    if (st != SW_OK) return st;
    if (keep != 0 && checkKeep(keep, err) != SW_OK) return SW_ERR_RANGE;
    if (s->head == UINT64_MAX) {
        return swErrorSet(err, SW_ERR_LIMIT, 0, "version numbers exhausted");
    }
    /* Copy before committing: the commit may evict the version we copy from. */
    char *copy = swMemdup(from->text, from->len);
    if (copy == NULL) return SW_ERR_NOMEM;
    st = commit(s, copy, from->len, from->checksum, ts, keep ? keep : s->keep, version);
    if (st != SW_OK) swFree(copy);
    return st;
}

swStatus swSnapSetKeep(swSnap *s, size_t keep, swError *err) {
    swStatus st = checkKeep(keep, err);
    if (st != SW_OK) return st;
    s->keep = keep;
    while (s->count > keep) evictOldest(s);
    ringTrim(s);
    return SW_OK;
}

/* ---- Reading ---- */

const swSnapVersion *swSnapHead(const swSnap *s) {
    return s->count ? slotAt(s, s->count - 1) : NULL;
}

const swSnapVersion *swSnapGet(const swSnap *s, uint64_t v) {
    uint64_t oldest = s->head - s->count + 1;
    if (s->count == 0 || v < oldest || v > s->head) return NULL;
    return slotAt(s, (size_t)(v - oldest));
}

swStatus swSnapLookup(const swSnap *s, uint64_t v, const swSnapVersion **out, swError *err) {
    const swSnapVersion *found = swSnapGet(s, v);
    if (found != NULL) {
        *out = found;
        return SW_OK;
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
    return i < s->count ? slotAt(s, s->count - 1 - i) : NULL;
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

size_t swSnapBytes(const swSnap *s) {
    return s->bytes;
}

size_t swSnapMemUsage(const swSnap *s) {
    /* What each text really occupies (allocator rounding included: an 88 KB document takes
     * a 96 KiB block), falling back to its length and NUL terminator. */
    size_t bytes = sizeof(*s) + s->cap * sizeof(swSnapVersion);
    for (size_t i = 0; i < s->count; i++) {
        const swSnapVersion *v = swSnapAt(s, i);
        bytes += swAllocSize(v->text, v->len + 1);
    }
    return bytes;
}

/* ---- Serialization ---- */

#define HEADER_BYTES (1 + 8 * 5)
#define VERSION_BYTES (8 * 3)

swStatus swSnapEncode(const swSnap *s, char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    size_t total = HEADER_BYTES;
    for (size_t i = 0; i < s->count; i++) {
        size_t n = slotAt(s, i)->len;
        if (n > SIZE_MAX - VERSION_BYTES - total) return SW_ERR_NOMEM;
        total += VERSION_BYTES + n;
    }
    swBuf b = {0};
    swBufReserve(&b, total);
    swBufPutU8(&b, SW_SNAP_FORMAT);
    swBufPutU64(&b, s->head);
    swBufPutU64(&b, s->keep);
    swBufPutU64(&b, (uint64_t)s->created);
    swBufPutU64(&b, (uint64_t)s->updated);
    swBufPutU64(&b, s->count);
    for (size_t i = 0; i < s->count; i++) {
        const swSnapVersion *v = slotAt(s, i);
        swBufPutU64(&b, (uint64_t)v->ts);
        swBufPutU64(&b, v->checksum);
        swBufPutU64(&b, v->len);
        swBufAppend(&b, v->text, v->len);
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

swStatus swSnapDecode(const char *buf, size_t len, swSnap **out, swError *err) {
    *out = NULL;
    if (len < 1) return corrupt(NULL, err, 0, "truncated");
    if ((unsigned char)buf[0] != SW_SNAP_FORMAT) {
        swErrorSet(err, SW_ERR_CORRUPT, 0, "unsupported snapshot format %u (expected %d)",
                   (unsigned)(unsigned char)buf[0], SW_SNAP_FORMAT);
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
    size_t off = HEADER_BYTES;
    if (keep < 1 || keep > SW_SNAP_KEEP_MAX) return corrupt(NULL, err, 9, "has a bad keep");
    if (count == 0) return corrupt(NULL, err, 33, "holds no version");
    if (count > keep || count > head) return corrupt(NULL, err, 33, "has a bad version count");
    /* Before allocating for count versions, make sure the buffer can hold them. */
    if (count > (len - off) / VERSION_BYTES) return corrupt(NULL, err, len, "truncated");

    swSnap *s = swCalloc(1, sizeof(*s));
    if (s == NULL) return SW_ERR_NOMEM;
    s->keep = (size_t)keep;
    s->head = head;
    s->created = created;
    s->updated = updated;
    s->ring = swAlloc((size_t)count * sizeof(swSnapVersion));
    if (s->ring == NULL) {
        swSnapFree(s);
        return SW_ERR_NOMEM;
    }
    s->cap = (size_t)count;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t number = head - count + 1 + i;
        int64_t ts = (int64_t)swReadU64(&r);
        uint64_t checksum = swReadU64(&r);
        uint64_t n = swReadU64(&r);
        if (swReaderFailed(&r)) return corrupt(s, err, len, "truncated");
        off += VERSION_BYTES;
        if (n > len - off) return corrupt(s, err, len, "truncated");
        const char *text = swReadBytes(&r, (size_t)n);
        if (XXH3_64bits(text, (size_t)n) != checksum) {
            swSnapFree(s);
            return swErrorSet(err, SW_ERR_CORRUPT, off, "checksum mismatch in version %" PRIu64,
                              number);
        }
        char *copy = swMemdup(text, (size_t)n);
        if (copy == NULL) {
            swSnapFree(s);
            return SW_ERR_NOMEM;
        }
        off += (size_t)n;
        s->ring[s->count++] = (swSnapVersion){number, ts, checksum, (size_t)n, copy};
        s->bytes += (size_t)n;
    }
    if (!swReaderAtEnd(&r)) return corrupt(s, err, off, "has trailing bytes");
    *out = s;
    return SW_OK;
}
