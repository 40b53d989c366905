/* dedup.c -- the de-duplication window (see dedup.h). */
#include <stddef.h>
#include <string.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/dedup.h"

/* Entries are carved from chunks, not allocated one by one: entries are made and forgotten
 * in (nearly) acceptance order, so a chunk is handed out front to back and freed when the
 * last entry it holds is forgotten. A window holds the chunk being filled (tail) and the
 * older chunks that still hold a remembered entry; an entry forgotten out of order (the same
 * MSGID remembered again) only keeps its chunk a little longer. */
typedef struct chunk {
    size_t live;  /* entries in it not yet forgotten (a prepared one included) */
    size_t used;  /* bytes of data handed out, front to back */
    size_t cap;   /* bytes of data */
    size_t bytes; /* what the allocation occupies (swAllocSize) */
    char data[];
} chunk;

/* An entry: its fields and the MSGID's bytes, 8-byte aligned in its chunk. */
typedef struct swDedupNode {
    int64_t idMs;
    uint64_t idSeq;
    int64_t expiresMs;
    chunk *owner; /* the chunk holding it */
    uint32_t hash;
    uint32_t len;
    char msgid[];
} swDedupNode;
typedef swDedupNode node;

#define NODE_SIZE(len) ((offsetof(node, msgid) + (len) + 7) & ~(size_t)7)
/* Chunk allocations, header included: 256 bytes for a new window, growing with the window
 * (about 16 bytes per entry held) up to CHUNK_MAX. */
#define CHUNK_MIN 256
#define CHUNK_MAX 16384

struct swDedup {
    node **ring; /* acceptance order: ring[(head + i) % cap], i < count */
    size_t cap, head, count;
    uint32_t *index; /* 0 empty, else ring position + 1; icap a power of two, >= 2 * count */
    size_t icap;
    chunk *tail;       /* where new entries are carved from, NULL before the first */
    size_t chunkBytes; /* what every chunk held occupies */
};

#define EMPTY 0u

static uint32_t hashOf(const char *s, size_t len) {
    return (uint32_t)XXH3_64bits(s, len);
}

static void chunkFree(swDedup *d, chunk *c) {
    d->chunkBytes -= c->bytes;
    swFree(c);
}

/* A node for len bytes from the tail chunk (a new chunk when it has no room), its fields
 * unset but its chunk; NULL when out of memory (d unchanged). */
static node *nodeAlloc(swDedup *d, size_t len) {
    size_t need = NODE_SIZE(len);
    chunk *c = d->tail;
    if (c == NULL || c->cap - c->used < need) {
        size_t total = CHUNK_MIN;
        while (total < CHUNK_MAX && total < d->count * 16) total *= 2;
        if (total < sizeof(chunk) + need) total = sizeof(chunk) + need;
        chunk *nc = swAlloc(total);
        if (nc == NULL) return NULL;
        *nc = (chunk){.cap = total - sizeof(chunk), .bytes = swAllocSize(nc, total)};
        d->chunkBytes += nc->bytes;
        /* The old tail is freed now if nothing in it is remembered, else by its last entry. */
        if (c && c->live == 0) chunkFree(d, c);
        d->tail = c = nc;
    }
    node *n = (node *)(void *)(c->data + c->used);
    c->used += need;
    c->live++;
    n->owner = c;
    return n;
}

/* Forgets node n's bytes: its chunk is freed with its last entry, but for the tail, which is
 * handed out again from the start. */
static void nodeRelease(swDedup *d, node *n) {
    chunk *c = n->owner;
    if (--c->live > 0) return;
    if (c == d->tail)
        c->used = 0;
    else
        chunkFree(d, c);
}

swDedup *swDedupNew(void) {
    return swCalloc(1, sizeof(swDedup));
}

void swDedupFree(swDedup *d) {
    if (d == NULL) return;
    for (size_t i = 0; i < d->count; i++) nodeRelease(d, d->ring[(d->head + i) % d->cap]);
    swFree(d->tail);
    swFree(d->ring);
    swFree(d->index);
    swFree(d);
}

size_t swDedupCount(const swDedup *d) {
    return d ? d->count : 0;
}

/* The index slot of msgid (hash h): the slot found, or the empty slot where the probe
 * ended. */
static size_t probe(const swDedup *d, const char *msgid, size_t len, uint32_t h) {
    size_t mask = d->icap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t v = d->index[i];
        if (v == EMPTY) return i;
        const node *n = d->ring[v - 1];
        if (n->hash == h && n->len == len && memcmp(n->msgid, msgid, len) == 0) return i;
    }
}

/* Puts ring position pos (hash h, a MSGID absent from the index) in the first empty slot
 * from its home. */
static void indexPlace(swDedup *d, uint32_t h, size_t pos) {
    size_t mask = d->icap - 1, i = h & mask;
    while (d->index[i] != EMPTY) i = (i + 1) & mask;
    d->index[i] = (uint32_t)(pos + 1);
}

int swDedupFind(const swDedup *d, const char *msgid, size_t len, int64_t nowMs, swDedupEntry *e) {
    if (d == NULL || d->count == 0) return 0;
    uint32_t v = d->index[probe(d, msgid, len, hashOf(msgid, len))];
    if (v == EMPTY) return 0;
    const node *n = d->ring[v - 1];
    if (n->expiresMs <= nowMs) return 0;
    *e = (swDedupEntry){n->msgid, n->len, n->idMs, n->idSeq, n->expiresMs};
    return 1;
}

/* Removes index slot i (backward-shift deletion, so no tombstones are needed). */
static void indexDelete(swDedup *d, size_t i) {
    size_t mask = d->icap - 1;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uint32_t v = d->index[j];
        if (v == EMPTY) break;
        size_t home = d->ring[v - 1]->hash & mask;
        /* Move j back to i when its home is not in (i, j] (cyclically). */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            d->index[i] = v;
            i = j;
        }
    }
    d->index[i] = EMPTY;
}

/* Forgets the oldest entry. Its slot is the one holding its ring position, found from its
 * home without comparing MSGIDs. */
static void popFront(swDedup *d) {
    node *n = d->ring[d->head];
    size_t mask = d->icap - 1, i = n->hash & mask;
    while (d->index[i] != (uint32_t)(d->head + 1)) i = (i + 1) & mask;
    indexDelete(d, i);
    nodeRelease(d, n);
    d->ring[d->head] = NULL;
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

/* Rebuilds the index in place from the ring (positions as they are). */
static void reindex(swDedup *d) {
    memset(d->index, 0, d->icap * sizeof(*d->index));
    for (size_t k = 0; k < d->count; k++) {
        size_t pos = (d->head + k) % d->cap;
        indexPlace(d, d->ring[pos]->hash, pos);
    }
}

/* Room for one more entry: a bigger ring (made contiguous from 0) and index when full. */
static swStatus reserve(swDedup *d) {
    if (d->count < d->cap) return SW_OK;
    size_t cap = d->cap ? d->cap * 2 : 8;
    if (cap > UINT32_MAX - 1) return SW_ERR_NOMEM;
    node **ring = swAlloc(cap * sizeof(*ring));
    if (ring == NULL) return SW_ERR_NOMEM;
    uint32_t *index = swCalloc(cap * 2, sizeof(*index));
    if (index == NULL) {
        swFree(ring);
        return SW_ERR_NOMEM;
    }
    /* The ring is full: its entries in order are [head, cap) then [0, head). */
    size_t first = d->cap - d->head;
    if (d->count) {
        memcpy(ring, d->ring + d->head, first * sizeof(*ring));
        memcpy(ring + first, d->ring, d->head * sizeof(*ring));
    }
    swFree(d->ring);
    swFree(d->index);
    d->ring = ring;
    d->cap = cap;
    d->head = 0;
    d->index = index;
    d->icap = cap * 2;
    for (size_t k = 0; k < d->count; k++) indexPlace(d, ring[k]->hash, k);
    return SW_OK;
}

/* Appends n (its msgid absent from the index). */
static swStatus pushBack(swDedup *d, node *n) {
    if (reserve(d) != SW_OK) return SW_ERR_NOMEM;
    size_t pos = (d->head + d->count) % d->cap;
    d->ring[pos] = n;
    d->count++;
    indexPlace(d, n->hash, pos);
    return SW_OK;
}

static node *nodeNew(swDedup *d, const char *msgid, size_t len, int64_t idMs, uint64_t idSeq,
                     int64_t expiresMs) {
    node *n = nodeAlloc(d, len);
    if (n == NULL) return NULL;
    n->idMs = idMs;
    n->idSeq = idSeq;
    n->expiresMs = expiresMs;
    n->hash = hashOf(msgid, len);
    n->len = (uint32_t)len;
    memcpy(n->msgid, msgid, len);
    return n;
}

swStatus swDedupPrepare(swDedup *d, const char *msgid, size_t len, swDedupNode **out) {
    if (reserve(d) != SW_OK) return SW_ERR_NOMEM;
    node *n = nodeNew(d, msgid, len, 0, 0, 0);
    if (n == NULL) return SW_ERR_NOMEM;
    *out = n;
    return SW_OK;
}

void swDedupDiscard(swDedupNode *n) {
    if (n == NULL) return;
    chunk *c = n->owner;
    /* Nothing changed the window since n was prepared: n is its tail's newest node, whose
     * bytes are handed out again. */
    if ((char *)n + NODE_SIZE(n->len) == c->data + c->used) c->used -= NODE_SIZE(n->len);
    c->live--;
}

void swDedupCommit(swDedup *d, swDedupNode *n, int64_t idMs, uint64_t idSeq, int64_t expiresMs,
                   int64_t nowMs, uint64_t max) {
    n->idMs = idMs;
    n->idSeq = idSeq;
    n->expiresMs = expiresMs;
    while (d->count && d->ring[d->head]->expiresMs <= nowMs) popFront(d);
    size_t slot = probe(d, n->msgid, n->len, n->hash);
    uint32_t v = d->index[slot];
    if (v == EMPTY) {
        /* The usual case: the slot probed is where the new entry goes (room reserved by
         * swDedupPrepare; pops only made more). */
        size_t pos = (d->head + d->count) % d->cap;
        d->ring[pos] = n;
        d->count++;
        d->index[slot] = (uint32_t)(pos + 1);
    } else {
        /* The same MSGID, expired but not yet forgotten: it leaves its place in the order
         * (the entries behind it move up; rare, so the index is rebuilt). */
        size_t pos = v - 1;
        nodeRelease(d, d->ring[pos]);
        size_t at = (pos + d->cap - d->head) % d->cap;
        for (size_t k = at; k + 1 < d->count; k++) {
            size_t to = (d->head + k) % d->cap, from = (d->head + k + 1) % d->cap;
            d->ring[to] = d->ring[from];
        }
        d->count--;
        reindex(d);
        pushBack(d, n);
    }
    while (d->count > max) popFront(d);
}

swStatus swDedupRemember(swDedup *d, const char *msgid, size_t len, int64_t idMs, uint64_t idSeq,
                         int64_t expiresMs, int64_t nowMs, uint64_t max) {
    swDedupNode *n;
    if (swDedupPrepare(d, msgid, len, &n) != SW_OK) return SW_ERR_NOMEM;
    swDedupCommit(d, n, idMs, idSeq, expiresMs, nowMs, max);
    return SW_OK;
}

void swDedupAt(const swDedup *d, size_t i, swDedupEntry *e) {
    const node *n = d->ring[(d->head + i) % d->cap];
    *e = (swDedupEntry){n->msgid, n->len, n->idMs, n->idSeq, n->expiresMs};
}

swStatus swDedupAppend(swDedup *d, const swDedupEntry *e) {
    if (e->len < 1 || e->len > SW_DEDUP_KEY_MAX) return SW_ERR_CORRUPT;
    uint32_t h = hashOf(e->msgid, e->len);
    if (d->count && d->index[probe(d, e->msgid, e->len, h)] != EMPTY) return SW_ERR_CORRUPT;
    swDedupNode *n;
    if (swDedupPrepare(d, e->msgid, e->len, &n) != SW_OK) return SW_ERR_NOMEM;
    n->idMs = e->idMs;
    n->idSeq = e->idSeq;
    n->expiresMs = e->expiresMs;
    pushBack(d, n); /* room reserved */
    return SW_OK;
}

size_t swDedupMemUsage(const swDedup *d) {
    if (d == NULL) return 0;
    return swAllocSize((void *)d, sizeof(*d)) +
           (d->ring ? swAllocSize(d->ring, d->cap * sizeof(*d->ring)) : 0) +
           (d->index ? swAllocSize(d->index, d->icap * sizeof(*d->index)) : 0) + d->chunkBytes;
}
