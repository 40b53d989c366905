/* trie.c -- token trie for subject patterns (see trie.h).
 *
 * Literal children live in an open-addressing table (linear probing, backward-shift
 * deletion, power-of-two capacity, at most 3/4 full) keyed by the token bytes.
 *
 * Nothing here recurses: a pattern may have 32,768 tokens, and a C stack frame per token
 * would overflow a server thread's stack. Every node knows its parent, so pruning climbs
 * the pattern's path back up and freeing a subtree walks it depth-first without a stack;
 * matching keeps its pending branches on an explicit stack. */
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
    swTrieNode *parent; /* NULL at the root */
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

/* What a block really occupies (swAllocSize); 0 for NULL. The trie counts every block it
 * holds this way, so MEMORY USAGE reports what the allocator holds. */
static size_t blockSize(const void *p, size_t requested) {
    return p ? swAllocSize((void *)p, requested) : 0;
}

static swTrieNode *nodeNew(swTrie *t, swTrieNode *parent) {
    swTrieNode *n = swCalloc(1, sizeof(*n));
    if (n == NULL) return NULL;
    n->parent = parent;
    t->bytes += blockSize(n, sizeof(*n));
    return n;
}

/* Uncounts every block of n but its children's tokens (counted off one by one as
 * nodeTakeChild frees them): n itself, its slot table and its id vectors. */
static void nodeUncount(swTrie *t, const swTrieNode *n) {
    t->bytes -= blockSize(n, sizeof(*n)) + blockSize(n->slots, n->cap * sizeof(swTrieSlot)) +
                blockSize(n->ids.ids, n->ids.cap * sizeof(uint64_t)) +
                blockSize(n->gt.ids, n->gt.cap * sizeof(uint64_t));
}

static int nodeEmpty(const swTrieNode *n) {
    return n->used == 0 && n->star == NULL && n->ids.len == 0 && n->gt.len == 0;
}

/* Detaches one child of n (its star, else the last literal child in its table) and returns
 * it, or NULL when n has none left. Only for a node being freed: the table shrinks from its
 * end, so each slot is looked at once, and its probe chains are no longer kept. */
static swTrieNode *nodeTakeChild(swTrie *t, swTrieNode *n) {
    if (n->star) {
        swTrieNode *c = n->star;
        n->star = NULL;
        return c;
    }
    while (n->cap) {
        swTrieSlot *s = &n->slots[--n->cap];
        if (s->tok == NULL) continue;
        t->bytes -= blockSize(s->tok, s->len + 1);
        swFree(s->tok);
        s->tok = NULL;
        n->used--;
        return s->child;
    }
    return NULL;
}

/* Frees n and everything below it, depth first: descend into a child while there is one,
 * free a node once it has none left and climb to its parent, until n itself is freed. The
 * caller has already unlinked n from its parent. */
static void nodeFree(swTrie *t, swTrieNode *n) {
    swTrieNode *cur = n;
    nodeUncount(t, cur); /* on the way down, while its slot table still has its capacity */
    while (cur != NULL) {
        swTrieNode *child = nodeTakeChild(t, cur);
        if (child != NULL) {
            cur = child;
            nodeUncount(t, cur);
            continue;
        }
        swTrieNode *up = cur == n ? NULL : cur->parent;
        swFree(cur->slots);
        swIdVecFree(&cur->ids);
        swIdVecFree(&cur->gt);
        swFree(cur);
        cur = up;
    }
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
    t->bytes += blockSize(slots, cap * sizeof(*slots));
    t->bytes -= blockSize(n->slots, n->cap * sizeof(*slots));
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
    swTrieNode *child = nodeNew(t, n);
    if (copy == NULL || child == NULL) {
        swFree(copy);
        if (child) {
            t->bytes -= blockSize(child, sizeof(*child));
            swFree(child);
        }
        return NULL;
    }
    uint32_t mask = n->cap - 1, i = h & mask;
    while (n->slots[i].tok) i = (i + 1) & mask;
    n->slots[i] = (swTrieSlot){copy, (uint32_t)len, h, child};
    n->used++;
    t->bytes += blockSize(copy, len + 1);
    return child;
}

/* Removes a literal child slot (the child must already be freed or empty and freed here). */
static void childDelete(swTrie *t, swTrieNode *n, const char *tok, size_t len) {
    swTrieSlot *s = slotFind(n, tok, len, tokHash(tok, len));
    if (s == NULL) return;
    uint32_t mask = n->cap - 1, i = (uint32_t)(s - n->slots);
    t->bytes -= blockSize(s->tok, s->len + 1);
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
    t->bytes = blockSize(t, sizeof(*t));
    t->root = nodeNew(t, NULL);
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

/* Descends the path of a pattern, creating missing nodes when 'create' is set. Returns the
 * node the pattern ends at (for a pattern ending in '>', the node before it) and sets *isGt;
 * NULL when a node is missing (or could not be created). *last receives the deepest node
 * reached and *lastEnd the offset just past the token that led to it (0 for the root), so a
 * caller can prune from there. */
static swTrieNode *walk(swTrie *t, const char *p, size_t len, int create, int *isGt,
                        swTrieNode **last, size_t *lastEnd) {
    swTrieNode *n = t->root;
    size_t pos = 0;
    *isGt = 0;
    *last = n;
    *lastEnd = 0;
    while (pos <= len) {
        const char *tok;
        size_t tlen = nextToken(p, len, &pos, &tok);
        if (tlen == 1 && tok[0] == '>') {
            *isGt = 1;
            return n;
        }
        swTrieNode *next;
        if (tlen == 1 && tok[0] == '*') {
            if (n->star == NULL && create) n->star = nodeNew(t, n);
            next = n->star;
        } else {
            next = childGet(t, n, tok, tlen, create);
        }
        if (next == NULL) return NULL;
        n = next;
        *last = n;
        *lastEnd = (size_t)(tok - p) + tlen;
    }
    return n;
}

/* Releases the child table and id vectors a node no longer uses: the root is never freed,
 * so without this a trie emptied of its patterns would keep their largest tables. */
static void nodeCompact(swTrie *t, swTrieNode *n) {
    if (n->used == 0 && n->cap) {
        t->bytes -= blockSize(n->slots, n->cap * sizeof(swTrieSlot));
        swFree(n->slots);
        n->slots = NULL;
        n->cap = 0;
    }
    if (n->ids.len == 0 && n->ids.cap) {
        t->bytes -= blockSize(n->ids.ids, n->ids.cap * sizeof(uint64_t));
        swIdVecFree(&n->ids);
    }
    if (n->gt.len == 0 && n->gt.cap) {
        t->bytes -= blockSize(n->gt.ids, n->gt.cap * sizeof(uint64_t));
        swIdVecFree(&n->gt);
    }
}

/* Climbs from n, reached through the token of p ending at offset end, compacting each node
 * and freeing those left empty, until a node that still holds something (or the root). The
 * token that led to each node is the one before it in p, so no path needs to be stored. */
static void pruneUp(swTrie *t, swTrieNode *n, const char *p, size_t end) {
    for (;;) {
        nodeCompact(t, n);
        if (n == t->root || !nodeEmpty(n)) return;
        swTrieNode *parent = n->parent;
        size_t start = end;
        while (start > 0 && p[start - 1] != '.') start--;
        const char *tok = p + start;
        size_t tlen = end - start;
        if (parent->star == n) {
            parent->star = NULL;
            nodeFree(t, n);
        } else {
            childDelete(t, parent, tok, tlen); /* frees n */
        }
        n = parent;
        end = start ? start - 1 : 0;
    }
}

swStatus swTrieInsert(swTrie *t, const char *pattern, size_t len, uint64_t id) {
    int isGt;
    swTrieNode *last;
    size_t lastEnd;
    swTrieNode *n = walk(t, pattern, len, 1, &isGt, &last, &lastEnd);
    swStatus st = SW_ERR_NOMEM;
    if (n) {
        swIdVec *v = isGt ? &n->gt : &n->ids;
        size_t before = blockSize(v->ids, v->cap * sizeof(uint64_t));
        st = swIdVecPush(v, id);
        t->bytes += blockSize(v->ids, v->cap * sizeof(uint64_t)) - before;
    }
    if (st != SW_OK) pruneUp(t, last, pattern, lastEnd);
    return st;
}

int swTrieRemove(swTrie *t, const char *pattern, size_t len, uint64_t id) {
    int isGt;
    swTrieNode *last;
    size_t lastEnd;
    swTrieNode *n = walk(t, pattern, len, 0, &isGt, &last, &lastEnd);
    if (n == NULL || !idVecRemove(isGt ? &n->gt : &n->ids, id)) return 0;
    pruneUp(t, n, pattern, lastEnd);
    return 1;
}

static swStatus appendAll(swIdVec *out, const swIdVec *v) {
    for (size_t i = 0; i < v->len; i++) {
        if (swIdVecPush(out, v->ids[i]) != SW_OK) return SW_ERR_NOMEM;
    }
    return SW_OK;
}

/* A branch still to explore: a node and the offset of the next token of the type. */
typedef struct matchBranch {
    const swTrieNode *n;
    size_t pos;
} matchBranch;

#define MATCH_STACK_LOCAL 32

/* Depth first over the (at most two) nodes each token can lead to, with the pending
 * branches on an explicit stack: each token leaves at most one branch waiting, so the stack
 * holds at most one entry per token of the type, plus one. */
swStatus swTrieMatch(const swTrie *t, const char *type, size_t len, swIdVec *out) {
    matchBranch local[MATCH_STACK_LOCAL], *stack = local;
    size_t cap = MATCH_STACK_LOCAL, top = 0;
    swStatus st = SW_OK;
    stack[top++] = (matchBranch){t->root, 0};
    while (top > 0) {
        matchBranch b = stack[--top];
        if (b.pos > len) {
            if ((st = appendAll(out, &b.n->ids)) != SW_OK) break;
            continue;
        }
        /* At least one token remains, so '>' at this node matches. */
        if (b.n->gt.len && (st = appendAll(out, &b.n->gt)) != SW_OK) break;
        const char *tok;
        size_t next = b.pos, tlen = nextToken(type, len, &next, &tok);
        const swTrieSlot *slot = b.n->used ? slotFind(b.n, tok, tlen, tokHash(tok, tlen)) : NULL;
        if (top + 2 > cap) {
            size_t ncap = cap * 2;
            matchBranch *more = stack == local ? swAlloc(ncap * sizeof(*more))
                                               : swRealloc(stack, ncap * sizeof(*more));
            if (more == NULL) {
                st = SW_ERR_NOMEM;
                break;
            }
            if (stack == local) memcpy(more, local, top * sizeof(*more));
            stack = more;
            cap = ncap;
        }
        if (b.n->star) stack[top++] = (matchBranch){b.n->star, next};
        if (slot) stack[top++] = (matchBranch){slot->child, next};
    }
    if (stack != local) swFree(stack);
    return st;
}

const uint64_t *swTrieExact(const swTrie *t, const char *pattern, size_t len, size_t *n) {
    int isGt;
    swTrieNode *last;
    size_t lastEnd;
    swTrieNode *node = walk((swTrie *)t, pattern, len, 0, &isGt, &last, &lastEnd);
    *n = 0;
    if (node == NULL) return NULL;
    const swIdVec *v = isGt ? &node->gt : &node->ids;
    *n = v->len;
    return v->ids;
}

size_t swTrieMemUsage(const swTrie *t) {
    return t->bytes;
}
