/* trie.c -- token trie for subject patterns (see trie.h).
 *
 * Literal children live in an open-addressing table (linear probing, backward-shift
 * deletion, power-of-two capacity, at most 3/4 full) keyed by the token bytes. */
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/trie.h"

typedef struct swTrieNode swTrieNode;

typedef struct swTrieSlot {
    char *tok; /* NULL when the slot is free */
    uint32_t len;
    uint32_t hash;
    swTrieNode *child;
} swTrieSlot;

struct swTrieNode {
    swTrieSlot *slots;
    uint32_t cap, used;
    swTrieNode *star;
    swIdVec ids; /* patterns ending here */
    swIdVec gt;  /* patterns ending with '>' here */
};

struct swTrie {
    swTrieNode *root;
    size_t bytes;
};

/* ---- Id vectors ---- */

swStatus swIdVecPush(swIdVec *v, uint64_t id) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        uint64_t *ids = swRealloc(v->ids, cap * sizeof(*ids));
        if (ids == NULL) return SW_ERR_NOMEM;
        v->ids = ids;
        v->cap = cap;
    }
    v->ids[v->len++] = id;
    return SW_OK;
}

void swIdVecFree(swIdVec *v) {
    swFree(v->ids);
    v->ids = NULL;
    v->len = v->cap = 0;
}

static int idVecRemove(swIdVec *v, uint64_t id) {
    for (size_t i = 0; i < v->len; i++) {
        if (v->ids[i] == id) {
            memmove(v->ids + i, v->ids + i + 1, (v->len - i - 1) * sizeof(*v->ids));
            v->len--;
            return 1;
        }
    }
    return 0;
}

/* ---- Nodes ---- */

static uint32_t tokHash(const char *s, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static swTrieNode *nodeNew(swTrie *t) {
    swTrieNode *n = swCalloc(1, sizeof(*n));
    if (n) t->bytes += sizeof(*n);
    return n;
}

static int nodeEmpty(const swTrieNode *n) {
    return n->used == 0 && n->star == NULL && n->ids.len == 0 && n->gt.len == 0;
}

static void nodeFree(swTrie *t, swTrieNode *n) {
    if (n == NULL) return;
    for (uint32_t i = 0; i < n->cap; i++) {
        if (n->slots[i].tok) {
            t->bytes -= n->slots[i].len + 1;
            swFree(n->slots[i].tok);
            nodeFree(t, n->slots[i].child);
        }
    }
    t->bytes -= n->cap * sizeof(swTrieSlot) + (n->ids.cap + n->gt.cap) * sizeof(uint64_t);
    swFree(n->slots);
    nodeFree(t, n->star);
    swIdVecFree(&n->ids);
    swIdVecFree(&n->gt);
    swFree(n);
    t->bytes -= sizeof(*n);
}

static swTrieSlot *slotFind(const swTrieNode *n, const char *tok, size_t len, uint32_t h) {
    if (n->cap == 0) return NULL;
    uint32_t mask = n->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        swTrieSlot *s = &n->slots[i];
        if (s->tok == NULL) return NULL;
        if (s->hash == h && s->len == len && memcmp(s->tok, tok, len) == 0) return s;
    }
}

static swStatus slotsGrow(swTrie *t, swTrieNode *n) {
    uint32_t cap = n->cap ? n->cap * 2 : 4;
    swTrieSlot *slots = swCalloc(cap, sizeof(*slots));
    if (slots == NULL) return SW_ERR_NOMEM;
    for (uint32_t i = 0; i < n->cap; i++) {
        swTrieSlot *s = &n->slots[i];
        if (s->tok == NULL) continue;
        uint32_t j = s->hash & (cap - 1);
        while (slots[j].tok) j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    t->bytes += (cap - n->cap) * sizeof(swTrieSlot);
    swFree(n->slots);
    n->slots = slots;
    n->cap = cap;
    return SW_OK;
}

/* The child for a literal token, created when 'create' is set; NULL when absent or OOM. */
static swTrieNode *childGet(swTrie *t, swTrieNode *n, const char *tok, size_t len, int create) {
    uint32_t h = tokHash(tok, len);
    swTrieSlot *s = slotFind(n, tok, len, h);
    if (s) return s->child;
    if (!create) return NULL;
    if ((n->used + 1) * 4 > n->cap * 3 && slotsGrow(t, n) != SW_OK) return NULL;
    char *copy = swMemdup(tok, len);
    swTrieNode *child = nodeNew(t);
    if (copy == NULL || child == NULL) {
        swFree(copy);
        if (child) {
            swFree(child);
            t->bytes -= sizeof(*child);
        }
        return NULL;
    }
    uint32_t mask = n->cap - 1, i = h & mask;
    while (n->slots[i].tok) i = (i + 1) & mask;
    n->slots[i] = (swTrieSlot){copy, (uint32_t)len, h, child};
    n->used++;
    t->bytes += len + 1;
    return child;
}

/* Removes a literal child slot (the child must already be freed or empty and freed here). */
static void childDelete(swTrie *t, swTrieNode *n, const char *tok, size_t len) {
    swTrieSlot *s = slotFind(n, tok, len, tokHash(tok, len));
    if (s == NULL) return;
    uint32_t mask = n->cap - 1, i = (uint32_t)(s - n->slots);
    t->bytes -= s->len + 1;
    swFree(s->tok);
    nodeFree(t, s->child);
    s->tok = NULL;
    n->used--;
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    for (uint32_t j = (i + 1) & mask; n->slots[j].tok; j = (j + 1) & mask) {
        uint32_t home = n->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            n->slots[i] = n->slots[j];
            n->slots[j].tok = NULL;
            i = j;
        }
    }
}

/* ---- Public API ---- */

swTrie *swTrieNew(void) {
    swTrie *t = swCalloc(1, sizeof(*t));
    if (t == NULL) return NULL;
    t->bytes = sizeof(*t);
    t->root = nodeNew(t);
    if (t->root == NULL) {
        swFree(t);
        return NULL;
    }
    return t;
}

void swTrieFree(swTrie *t) {
    if (t == NULL) return;
    nodeFree(t, t->root);
    swFree(t);
}

/* Splits the next token off [*pos, len); returns its length and advances *pos past it. */
static size_t nextToken(const char *s, size_t len, size_t *pos, const char **tok) {
    size_t start = *pos, i = start;
    while (i < len && s[i] != '.') i++;
    *tok = s + start;
    *pos = i + 1;
    return i - start;
}

/* Descends the path of a pattern; returns the node and whether the pattern ends in '>'. */
static swTrieNode *walk(swTrie *t, swTrieNode *n, const char *p, size_t len, int create,
                        int *isGt) {
    size_t pos = 0;
    *isGt = 0;
    while (n && pos <= len) {
        const char *tok;
        size_t tlen = nextToken(p, len, &pos, &tok);
        if (tlen == 1 && tok[0] == '>') {
            *isGt = 1;
            return n;
        }
        if (tlen == 1 && tok[0] == '*') {
            if (n->star == NULL && create) n->star = nodeNew(t);
            n = n->star;
        } else {
            n = childGet(t, n, tok, tlen, create);
        }
    }
    return n;
}

/* Releases the child table and id vectors a node no longer uses: the root is never freed,
 * so without this a trie emptied of its patterns would keep their largest tables. */
static void nodeCompact(swTrie *t, swTrieNode *n) {
    if (n->used == 0 && n->cap) {
        t->bytes -= n->cap * sizeof(swTrieSlot);
        swFree(n->slots);
        n->slots = NULL;
        n->cap = 0;
    }
    if (n->ids.len == 0 && n->ids.cap) {
        t->bytes -= n->ids.cap * sizeof(uint64_t);
        swIdVecFree(&n->ids);
    }
    if (n->gt.len == 0 && n->gt.cap) {
        t->bytes -= n->gt.cap * sizeof(uint64_t);
        swIdVecFree(&n->gt);
    }
}

/* Frees the nodes along a pattern's path that became empty, deepest first. */
static int prune(swTrie *t, swTrieNode *n, const char *p, size_t len, size_t pos) {
    if (pos <= len) {
        const char *tok;
        size_t next = pos, tlen = nextToken(p, len, &next, &tok);
        if (!(tlen == 1 && tok[0] == '>')) {
            if (tlen == 1 && tok[0] == '*') {
                if (n->star && prune(t, n->star, p, len, next)) {
                    nodeFree(t, n->star);
                    n->star = NULL;
                }
            } else {
                swTrieNode *c = childGet(t, n, tok, tlen, 0);
                if (c && prune(t, c, p, len, next)) {
                    /* childDelete frees c itself. */
                    childDelete(t, n, tok, tlen);
                }
            }
        }
    }
    nodeCompact(t, n);
    return nodeEmpty(n);
}

swStatus swTrieInsert(swTrie *t, const char *pattern, size_t len, uint64_t id) {
    int isGt;
    swTrieNode *n = walk(t, t->root, pattern, len, 1, &isGt);
    swStatus st = SW_ERR_NOMEM;
    if (n) {
        swIdVec *v = isGt ? &n->gt : &n->ids;
        size_t cap = v->cap;
        st = swIdVecPush(v, id);
        t->bytes += (v->cap - cap) * sizeof(uint64_t);
    }
    if (st != SW_OK) prune(t, t->root, pattern, len, 0);
    return st;
}

int swTrieRemove(swTrie *t, const char *pattern, size_t len, uint64_t id) {
    int isGt;
    swTrieNode *n = walk(t, t->root, pattern, len, 0, &isGt);
    if (n == NULL || !idVecRemove(isGt ? &n->gt : &n->ids, id)) return 0;
    prune(t, t->root, pattern, len, 0);
    return 1;
}

static swStatus appendAll(swIdVec *out, const swIdVec *v) {
    for (size_t i = 0; i < v->len; i++) {
        if (swIdVecPush(out, v->ids[i]) != SW_OK) return SW_ERR_NOMEM;
    }
    return SW_OK;
}

/* Depth-first over the (at most two) nodes each token can lead to; depth is bounded by the
 * number of tokens in the type, itself bounded by swarm.max-type-bytes. */
static swStatus matchFrom(const swTrieNode *n, const char *s, size_t len, size_t pos,
                          swIdVec *out) {
    if (pos > len) return appendAll(out, &n->ids);
    /* At least one token remains, so '>' at this node matches. */
    if (n->gt.len && appendAll(out, &n->gt) != SW_OK) return SW_ERR_NOMEM;
    const char *tok;
    size_t next = pos, tlen = nextToken(s, len, &next, &tok);
    if (n->used) {
        swTrieSlot *slot = slotFind(n, tok, tlen, tokHash(tok, tlen));
        if (slot && matchFrom(slot->child, s, len, next, out) != SW_OK) return SW_ERR_NOMEM;
    }
    if (n->star) return matchFrom(n->star, s, len, next, out);
    return SW_OK;
}

swStatus swTrieMatch(const swTrie *t, const char *type, size_t len, swIdVec *out) {
    return matchFrom(t->root, type, len, 0, out);
}

const uint64_t *swTrieExact(const swTrie *t, const char *pattern, size_t len, size_t *n) {
    int isGt;
    swTrieNode *node = walk((swTrie *)t, t->root, pattern, len, 0, &isGt);
    *n = 0;
    if (node == NULL) return NULL;
    const swIdVec *v = isGt ? &node->gt : &node->ids;
    *n = v->len;
    return v->ids;
}

size_t swTrieMemUsage(const swTrie *t) {
    return t->bytes;
}
