/* dedup.h -- the de-duplication window of a routing table: the MSGIDs it accepted lately.
 *
 * A publish that names a MSGID is looked up here first; a MSGID remembered and not expired
 * is a duplicate, answered with the message id it was first accepted as. Every entry holds
 * the MSGID's bytes, that message id and when the entry expires (the master's publish time
 * plus the window it published under). Entries are kept in acceptance order, so the oldest
 * is forgotten first when a bound is reached:
 *
 *   ring (acceptance order)   [oldest] [ ] [ ] ... [newest]       evict from the front
 *   index (open addressing)   hash(MSGID) -> ring position         O(1) lookup, no tombstones
 *   chunks                    the entries' bytes, carved in order  no allocation per entry
 *
 * Every change takes its time and bounds as arguments (never the configuration or a clock),
 * so a replica or an AOF replay applying the master's values reaches the master's window
 * exactly, whatever its own configuration. */
#ifndef SWARM_DEDUP_H
#define SWARM_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

/* The longest MSGID (the option's own bound, SW_MESSAGE_LABEL_MAX) and the most entries one
 * window holds (the decoder refuses more). */
#define SW_DEDUP_KEY_MAX 128
#define SW_DEDUP_MAX_ENTRIES 100000000ULL

typedef struct swDedup swDedup;

typedef struct swDedupEntry {
    const char *msgid;
    size_t len;
    int64_t idMs; /* the message id it was accepted as */
    uint64_t idSeq;
    int64_t expiresMs;
} swDedupEntry;

/* A new empty window, or NULL when out of memory. Free with swDedupFree (NULL is a no-op). */
swDedup *swDedupNew(void);
void swDedupFree(swDedup *d);

/* Remembered entries, expired ones not yet forgotten included. */
size_t swDedupCount(const swDedup *d);

/* The entry remembering msgid, not expired at nowMs (expiresMs > nowMs): 1 with *e set, or
 * 0. O(1). d may be NULL. */
int swDedupFind(const swDedup *d, const char *msgid, size_t len, int64_t nowMs, swDedupEntry *e);

/* Remembering takes two steps, so that a publish can allocate before it delivers anything
 * and then commit without failing:
 *
 *   swDedupPrepare   allocates the entry for msgid (1 to SW_DEDUP_KEY_MAX bytes) and the
 *                    room to add it: SW_OK with *out set, or SW_ERR_NOMEM with d's entries
 *                    unchanged (its room may have grown)
 *   swDedupCommit    never fails: forgets the entries at the front that have expired at
 *                    nowMs and any entry with the same msgid, adds the prepared one as
 *                    message <idMs>-<idSeq> until expiresMs, then forgets the oldest
 *                    entries beyond max (max >= 1)
 *
 * A prepared entry not committed is given back with swDedupDiscard (NULL is a no-op; the
 * window it was prepared in must still exist). Nothing may change d between swDedupPrepare
 * and swDedupCommit or swDedupDiscard. */
typedef struct swDedupNode swDedupNode;
swStatus swDedupPrepare(swDedup *d, const char *msgid, size_t len, swDedupNode **out);
void swDedupCommit(swDedup *d, swDedupNode *n, int64_t idMs, uint64_t idSeq, int64_t expiresMs,
                   int64_t nowMs, uint64_t max);
void swDedupDiscard(swDedupNode *n);

/* Both steps at once: SW_OK, or SW_ERR_NOMEM with d's entries unchanged. */
swStatus swDedupRemember(swDedup *d, const char *msgid, size_t len, int64_t idMs, uint64_t idSeq,
                         int64_t expiresMs, int64_t nowMs, uint64_t max);

/* Entry i in acceptance order, 0 the oldest (for the codec). */
void swDedupAt(const swDedup *d, size_t i, swDedupEntry *e);

/* Appends an entry as swDedupAt returned it, newest last, without expiring or bounding (the
 * decoder). SW_ERR_CORRUPT when msgid is empty, too long or already there; SW_ERR_NOMEM. */
swStatus swDedupAppend(swDedup *d, const swDedupEntry *e);

/* Heap bytes held (for MEMORY USAGE). */
size_t swDedupMemUsage(const swDedup *d);

#endif
