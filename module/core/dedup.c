/* dedup.c -- the de-duplication window (see dedup.h). */
#include <string.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/dedup.h"

/* One allocation per entry: its fields and the MSGID's bytes. */
typedef struct swDedupNode {
    int64_t idMs;
    uint64_t idSeq;
    int64_t expiresMs;
    uint32_t hash;
    uint32_t len;
    char msgid[];
} swDedupNode;
typedef swDedupNode node;

struct swDedup {
    node **ring; /* acceptance order: ring[(head + i) % cap], i < count */
    size_t cap, head, count;
    uint32_t *index; /* 0 empty, else ring position + 1; icap a power of two, >= 2 * count */
    size_t icap;
};

#define EMPTY 0u

static uint32_t hashOf(const char *s, size_t len) {
    return (uint32_t)XXH3_64bits(s, len);
}

swDedup *swDedupNew(void) {
    return swCalloc(1, sizeof(swDedup));
}

void swDedupFree(swDedup *d) {
    if (d == NULL) return;
    for (size_t i = 0; i < d->count; i++) swFree(d->ring[(d->head + i) % d->cap]);
    swFree(d->ring);
    swFree(d->index);
    swFree(d);
}

size_t swDedupCount(const swDedup *d) {
    return d ? d->count : 0;
}

/* The index slot holding ring position pos's node, or of msgid when pos is SIZE_MAX: the
 * slot found, or the empty slot where the probe ended. */
static size_t probe(const swDedup *d, const char *msgid, size_t len, uint32_t h) {
    size_t mask = d->icap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t v = d->index[i];
        if (v == EMPTY) return i;
        const node *n = d->ring[v - 1];
        if (n->hash == h && n->len == len && memcmp(n->msgid, msgid, len) == 0) return i;
    }
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

/* Forgets the oldest entry. */
static void popFront(swDedup *d) {
    node *n = d->ring[d->head];
    indexDelete(d, probe(d, n->msgid, n->len, n->hash));
    swFree(n);
    d->ring[d->head] = NULL;
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

/* Rebuilds the index in place from the ring (positions as they are). */
static void reindex(swDedup *d) {
    memset(d->index, 0, d->icap * sizeof(*d->index));
    for (size_t k = 0; k < d->count; k++) {
        size_t pos = (d->head + k) % d->cap;
        const node *n = d->ring[pos];
        d->index[probe(d, n->msgid, n->len, n->hash)] = (uint32_t)(pos + 1);
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
    for (size_t k = 0; k < d->count; k++) ring[k] = d->ring[(d->head + k) % d->cap];
    swFree(d->ring);
    swFree(d->index);
    d->ring = ring;
    d->cap = cap;
    d->head = 0;
    d->index = index;
    d->icap = cap * 2;
    reindex(d);
    return SW_OK;
}

/* Appends n (its msgid absent from the index). */
static swStatus pushBack(swDedup *d, node *n) {
    if (reserve(d) != SW_OK) return SW_ERR_NOMEM;
    size_t pos = (d->head + d->count) % d->cap;
    d->ring[pos] = n;
    d->count++;
    d->index[probe(d, n->msgid, n->len, n->hash)] = (uint32_t)(pos + 1);
    return SW_OK;
}

static node *nodeNew(const char *msgid, size_t len, int64_t idMs, uint64_t idSeq,
                     int64_t expiresMs) {
    node *n = swAlloc(sizeof(node) + len);
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
    node *n = nodeNew(msgid, len, 0, 0, 0);
    if (n == NULL) return SW_ERR_NOMEM;
    if (reserve(d) != SW_OK) {
        swFree(n);
        return SW_ERR_NOMEM;
    }
    *out = n;
    return SW_OK;
}

void swDedupDiscard(swDedupNode *n) {
    swFree(n);
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
        swFree(d->ring[pos]);
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
    node *n = nodeNew(e->msgid, e->len, e->idMs, e->idSeq, e->expiresMs);
    if (n == NULL) return SW_ERR_NOMEM;
    if (pushBack(d, n) != SW_OK) {
        swFree(n);
        return SW_ERR_NOMEM;
    }
    return SW_OK;
}

size_t swDedupMemUsage(const swDedup *d) {
    if (d == NULL) return 0;
    size_t bytes = swAllocSize((void *)d, sizeof(*d)) +
                   (d->ring ? swAllocSize(d->ring, d->cap * sizeof(*d->ring)) : 0) +
                   (d->index ? swAllocSize(d->index, d->icap * sizeof(*d->index)) : 0);
    for (size_t i = 0; i < d->count; i++) {
        node *n = d->ring[(d->head + i) % d->cap];
        bytes += swAllocSize(n, sizeof(node) + n->len);
    }
    return bytes;
}
