/* splice.h -- byte-exact deltas between two texts, as lists of splices, for the snapshot
 * history's reverse deltas (snapshot.h).
 *
 * A delta from a base text B to a target text T replaces a few byte ranges of B:
 *
 *   B:  {"rev":1001,"updated":...,"tasks":{..."t-7":{"status":"busy",...}...}}
 *               ^^^^                              ^^^^
 *   T:  {"rev":1000,"updated":...,"tasks":{..."t-7":{"status":"open",...}...}}
 *   delta: [gap 7, delete 4, insert "1000"] [gap 63012, delete 4, insert "open"]
 *
 * Encoding: a sequence of splices sorted by offset in B, each
 *   varint gap (bytes of B kept since the end of the previous splice's deleted range)
 *   varint del (bytes of B deleted) | varint n | n literal bytes inserted
 * with LEB128 varints (7 bits a byte, low first, at most 10 bytes). Bytes of B after the last
 * splice are kept. The empty delta turns B into B.
 *
 * swSpliceDiff finds the ranges by a common prefix and suffix, then walks the middle and, at
 * each difference, looks for the nearest point where the texts agree again (16-byte anchors
 * hashed over a window that grows from 256 bytes to 8 KB; where one text has more bytes to
 * skip than the other, they must agree for 256 bytes, so that shifted look-alike content,
 * such as a list that lost its first element, costs one insertion and one deletion instead
 * of a splice per element). Differences it cannot resolve
 * within the window become one splice to the end of the middle, so the delta is always exact
 * (reconstruction never depends on the heuristics), only sometimes larger than needed.
 *
 * Changes closer than an anchor end up in one splice ("1,\"messages\":501" for
 * "0,\"messages\":500"), whose literal holds the bytes between them too. So each splice of
 * up to 512 bytes a side is then trimmed of bytes common to both ends and split at every
 * interior common run that outweighs the header of the splice it adds (runs of 4 bytes or
 * more; 6 when a side has 128 bytes or more, whose varints take 2): greedily left to right,
 * the nearest such run first, found through a hash of the literal side's 4-byte grams. The
 * example becomes [delete "1", insert "0"] [gap 14, delete "1", insert "0"]. A split never
 * makes the delta larger, and every kept run is compared byte for byte; it does give the
 * rope more, smaller splices to apply. Cost: one comparison pass, a hash window per
 * difference, and a pass linear in each splice's size.
 *
 * Applying a chain of k deltas one after the other costs k copies of the text; swSpliceRope
 * applies them to a list of pieces (pointers into the base and the literals) cut into
 * chunks of 16 instead: a delta of s splices costs a binary search and one rebuilt chunk per
 * splice, O(s (log chunks + 16)), plus a copy of the list of chunks (the untouched ones move
 * whole), and the chain one final copy of the text. */
#ifndef SWARM_SPLICE_H
#define SWARM_SPLICE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/status.h"

/* Appends to out the delta that turns base[0..blen) into target[0..tlen). Never fails by
 * itself: an allocation failure latches out (swBufFailed). */
void swSpliceDiff(const char *base, size_t blen, const char *target, size_t tlen, swBuf *out);

/* Checks that d[0..dlen) is a well-formed delta for a base of blen bytes (every varint
 * complete, every range inside the base, in order, literals inside d) and stores the length
 * of the text it produces in *tlen. SW_OK or SW_ERR_CORRUPT (err says what and where). */
swStatus swSpliceCheck(const char *d, size_t dlen, size_t blen, size_t *tlen, swError *err);

/* Appends the text that the checked delta d produces from base to out (allocation failures
 * latch out). */
void swSpliceApply(const char *d, size_t dlen, const char *base, size_t blen, swBuf *out);

/* A text being rewritten by a chain of deltas: pieces of stable buffers (the base and the
 * deltas' literals, which must outlive the rope), in chunks of up to 16 pieces. Plain
 * data: zero it or use swSpliceRopeInit, free with swSpliceRopeFree. */
typedef struct swSpliceRope {
    struct swSpliceChunk **order; /* chunks in text order (one block with start) */
    size_t *start;                /* the offset of each one's first byte */
    struct swSpliceChunk **spare; /* the next order, while a delta is applied */
    size_t *spareStart;
    size_t n, orderCap, spareCap;
    struct swSpliceChunk *free; /* free chunks */
    void **slab;                /* the blocks chunks come from */
    size_t slabs, slabCap;
    size_t len; /* bytes of the text */
} swSpliceRope;

/* Starts a rope holding base[0..len). SW_OK or SW_ERR_NOMEM (then nothing to free). */
swStatus swSpliceRopeInit(swSpliceRope *r, const char *base, size_t len);

/* Applies the checked delta d (for a base of the rope's current length) to the rope.
 * SW_OK; SW_ERR_NOMEM or SW_ERR_CORRUPT (a delta for a longer base): the rope is then
 * unusable, free it. */
swStatus swSpliceRopeApply(swSpliceRope *r, const char *d, size_t dlen);

size_t swSpliceRopeLen(const swSpliceRope *r);

/* The number of splices in the checked delta d: with the number of deltas, what applying a
 * chain through a rope costs. */
size_t swSpliceCount(const char *d, size_t dlen);

/* Copies the rope's text to dst (swSpliceRopeLen bytes). */
void swSpliceRopeWrite(const swSpliceRope *r, char *dst);

void swSpliceRopeFree(swSpliceRope *r);

#endif
