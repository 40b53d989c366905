/* trie.h -- the subject-route trie: patterns keyed by token, matched in time that depends
 * on the event type and on how many patterns match it, never on how many patterns exist.
 *
 *   root --task--> n1 --*--> n2 {ids: 7}         task.*      -> 7
 *               \          `--done--> n3 {ids: 9} task.done  -> 9
 *                `-->  {gt: 4}                   >           -> 4
 *
 * Each node has a hash table of literal children, one '*' child, the ids of patterns that
 * end at it, and the ids of patterns that end with '>' at it. A pattern is stored at exactly
 * one node, so a match reports each id at most once. Patterns must have passed
 * swPatternCheck; the trie does not re-validate them. */
#ifndef SWARM_TRIE_H
#define SWARM_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

/* A growable vector of ids. Zero-initialise; free the array with swIdVecFree. */
typedef struct swIdVec {
    uint64_t *ids;
    size_t len, cap;
} swIdVec;

swStatus swIdVecPush(swIdVec *v, uint64_t id);
void swIdVecFree(swIdVec *v);

typedef struct swTrie swTrie;

/* A new empty trie, or NULL when out of memory. Free with swTrieFree. */
swTrie *swTrieNew(void);
void swTrieFree(swTrie *t);

/* Adds id under pattern. SW_ERR_NOMEM leaves the trie as it was (as far as matching goes). */
swStatus swTrieInsert(swTrie *t, const char *pattern, size_t len, uint64_t id);

/* Removes id from pattern; returns 1 when it was there, 0 otherwise. Empty nodes are freed. */
int swTrieRemove(swTrie *t, const char *pattern, size_t len, uint64_t id);

/* Appends to out the ids of every pattern matching the event type (unordered, no
 * duplicates). On SW_ERR_NOMEM out holds a partial result the caller must discard. */
swStatus swTrieMatch(const swTrie *t, const char *type, size_t len, swIdVec *out);

/* The ids stored for exactly this pattern (not what matches it); *n receives the count. */
const uint64_t *swTrieExact(const swTrie *t, const char *pattern, size_t len, size_t *n);

/* Heap bytes held by the trie. */
size_t swTrieMemUsage(const swTrie *t);

#endif
