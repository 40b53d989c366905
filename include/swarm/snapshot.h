/* snapshot.h -- the version history held by a swarm-snp key (SPEC section 7).
 *
 *            oldest                                  head
 *   versions:  v5      v6      v7      v8      v9        retained versions are consecutive
 *   stored as: delta   full    delta   delta   full      numbers, oldest to newest
 *                 \___from v6  \__from v8 \__from v9
 *
 * A history holds up to `keep` versions of a JSON document. Saving appends version head+1
 * and, once more than keep versions are held, evicts the oldest. Version numbers start at
 * 1 and are never reused, even after eviction (a key deleted and created again starts over,
 * as it is a new history). Each version keeps its timestamp, length and the XXH3-64
 * checksum of its bytes, computed when it is saved and verified when it is decoded.
 *
 * Deep history at small cost: the head is stored whole; every older version is stored as a
 * reverse delta from the version above it (splice.h: the byte ranges that differ), or whole
 * (a checkpoint) when the chain of deltas down from the newest whole version would otherwise
 * hold more than 1,024 non-empty deltas or more than max(32,768, length / 64) splices. A
 * one-member edit of an 88 KB document costs a few dozen bytes of history, and 1,000 small
 * edits need no checkpoint. Reading the head reconstructs nothing; reading an older version
 * applies at most that chain, through a rope (no copy per delta), and one final copy.
 *
 * The history stores bytes; it does not look at them. Callers validate documents first.
 * Saving costs one copy and one hash of the document, plus one comparison pass against the
 * previous head to compute its delta.
 *
 * Ownership: swSnapNew, swSnapDup and swSnapDecode return a history to free with swSnapFree
 * (swSnapFree(NULL) is a no-op). The head's pointer (swSnapHead, or Get/At/Lookup of the
 * head) stays valid until the next call that modifies the history (Save, Restore, SetKeep,
 * Free). An older version is rebuilt into one of two cache slots of the history, so its
 * pointer stays valid until the next modifying call or until two other older versions have
 * been read after it: a caller may hold two versions at once (DIFF), not three. Reading is
 * therefore not thread-safe, even on a const history. A function that fails leaves the
 * history exactly as it was (reads may have refilled the cache). */
#ifndef SWARM_SNAPSHOT_H
#define SWARM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

#define SW_SNAP_KEEP_DEFAULT 1000 /* small edits of an 88 KB document: 1.6x the document */
#define SW_SNAP_KEEP_MAX 1000000  /* keep is 1..SW_SNAP_KEEP_MAX */
#define SW_SNAP_FORMAT 2          /* first byte of swSnapEncode's output (Decode reads 1 too) */

/* One retained version. Read-only to callers. */
typedef struct swSnapVersion {
    uint64_t version;  /* 1, 2, ... */
    int64_t ts;        /* unix ms, as passed to swSnapSave */
    uint64_t checksum; /* XXH3_64bits(text, len) */
    size_t len;
    char *text; /* len bytes, NUL-terminated (the NUL is not counted); see the top of the
                 * file for how long it stays valid */
} swSnapVersion;

typedef struct swSnap swSnap;

/* What SWARM.SNAPSHOT INFO reports. head and oldest are 0 for a history never saved to. */
typedef struct swSnapInfo {
    uint64_t head;
    uint64_t oldest;
    size_t retained;
    size_t keep;
    size_t bytes;    /* sum of the retained documents' lengths */
    int64_t created; /* ts of the first save, 0 before it */
    int64_t updated; /* ts of the last save or restore, 0 before it */
} swSnapInfo;

/* ---- Life cycle ---- */

/* An empty history keeping SW_SNAP_KEEP_DEFAULT versions, or NULL when out of memory.
 * Free with swSnapFree. */
swSnap *swSnapNew(void);

/* Frees the history and every version it holds. NULL is a no-op. */
void swSnapFree(swSnap *s);

/* A deep copy (for COPY), or NULL when out of memory. Free with swSnapFree. */
swSnap *swSnapDup(const swSnap *s);

/* ---- Writing ---- */

/* Appends a copy of text[0..len) as version head+1 with timestamp ts and stores its number in
 * *version (may be NULL). keep > 0 first sets the history's keep limit; keep == 0 leaves it.
 * Then the oldest versions beyond the limit are evicted. Returns SW_OK; SW_ERR_RANGE when
 * keep exceeds SW_SNAP_KEEP_MAX; SW_ERR_LIMIT when the version counter is exhausted;
 * SW_ERR_NOMEM. text may point into the history itself (a retained version). */
swStatus swSnapSave(swSnap *s, const char *text, size_t len, int64_t ts, size_t keep,
                    uint64_t *version, swError *err);

/* Saves a copy of retained version v as the new head (SWARM.SNAPSHOT RESTORE), with the
 * same meaning of ts, keep and *version as swSnapSave; the checksum is reused, not
 * recomputed. SW_ERR_NOVERSION (with the message of swSnapLookup) when v is not retained,
 * otherwise as swSnapSave. */
swStatus swSnapRestore(swSnap *s, uint64_t v, int64_t ts, size_t keep, uint64_t *version,
                       swError *err);

/* Sets the keep limit (1..SW_SNAP_KEEP_MAX, else SW_ERR_RANGE) and evicts the oldest
 * versions beyond it. Never fails otherwise. */
swStatus swSnapSetKeep(swSnap *s, size_t keep, swError *err);

/* Evicts the oldest versions while the older versions' stored bytes (swSnapStoredBytes)
 * exceed max; the head is never evicted. Returns how many versions were evicted. Never
 * fails; keep is unchanged. */
size_t swSnapTrimBytes(swSnap *s, size_t max);

/* Records that the head repeats no member name (jdup.h): the caller checked it, or derived it
 * from a head already so marked (SWARM.SNAPSHOT EDIT). Every call that changes the head
 * (Save, Restore) clears the mark, and Decode starts without it; Dup copies it. The mark is
 * kept in memory only: it changes no stored byte. */
void swSnapMarkHeadUnique(swSnap *s);

/* 1 when the head carries the mark of swSnapMarkHeadUnique, else 0. */
int swSnapHeadUnique(const swSnap *s);

/* ---- Reading ---- */

/* The newest version, or NULL when the history is empty. */
const swSnapVersion *swSnapHead(const swSnap *s);

/* Version v, or NULL when it is not retained (never saved yet, or evicted), or when
 * rebuilding it runs out of memory (swSnapLookup tells the two apart). */
const swSnapVersion *swSnapGet(const swSnap *s, uint64_t v);

/* As swSnapGet, but a missing version is SW_ERR_NOVERSION with a message telling why:
 * "version 3 was evicted, the oldest retained is 5" or "version 9 does not exist, the head
 * is 7"; SW_ERR_NOMEM when rebuilding it fails. *out is set only on SW_OK. */
swStatus swSnapLookup(const swSnap *s, uint64_t v, const swSnapVersion **out, swError *err);

/* Retained versions, newest first: i = 0 is the head, i = swSnapCount() - 1 the oldest.
 * NULL when i is out of range. */
size_t swSnapCount(const swSnap *s);
const swSnapVersion *swSnapAt(const swSnap *s, size_t i);

/* The metadata of the i-th retained version, newest first, into *out without rebuilding
 * its text (out->text is the head's text for i = 0, NULL otherwise): what LIST needs.
 * 1, or 0 when i is out of range. */
int swSnapMetaAt(const swSnap *s, size_t i, swSnapVersion *out);

/* How the retained versions below the head are stored (for benchmarks and tests). */
typedef struct swSnapStorage {
    size_t deltas, deltaBytes;           /* reverse deltas and their encoded bytes */
    size_t checkpoints, checkpointBytes; /* versions stored whole (NUL included) */
    size_t chainBytes;                   /* delta bytes between the head and the newest
                                          * checkpoint */
    size_t chainDeltas, chainSplices;    /* non-empty deltas and splices in that chain:
                                          * the reconstruction work bound */
} swSnapStorage;

void swSnapGetStorage(const swSnap *s, swSnapStorage *st);

void swSnapGetInfo(const swSnap *s, swSnapInfo *info);

/* Bytes the versions below the head occupy as stored: their deltas, plus the text and NUL
 * of each checkpoint (what swSnapTrimBytes bounds). O(1). */
size_t swSnapStoredBytes(const swSnap *s);

/* Sum of the retained documents' lengths. */
size_t swSnapBytes(const swSnap *s);

/* Heap bytes held by the history, bookkeeping and the cache of rebuilt versions included
 * (for MEMORY USAGE). */
size_t swSnapMemUsage(const swSnap *s);

/* ---- Serialization (RDB, DUMP/RESTORE, AOF) ---- */

/* Serializes the whole history into *buf (swAlloc'ed, free with swFree) and *len, in one
 * allocation of the exact size, keeping the stored forms (deltas stay deltas). Meant for
 * histories that hold a version (those of keys). Format 2, integers little-endian:
 *   u8 format (2) | u64 head | u64 keep | i64 created | i64 updated | u64 count
 *   then per version, oldest first:
 *     i64 ts | u64 checksum | u64 len | u8 kind (0 whole, 1 delta) | u64 n | n bytes
 *   where a whole version's n bytes are its text (n == len) and a delta's are a splice list
 *   (splice.h) turning the next newer version into it. The head is whole.
 * Version numbers are implicit: head - count + 1 .. head.
 * SW_OK or SW_ERR_NOMEM (then *buf is NULL and *len 0). */
swStatus swSnapEncode(const swSnap *s, char **buf, size_t *len);

/* Rebuilds a history from swSnapEncode's output (format 2; any other format byte is
 * refused) into *out (free with swSnapFree). Every length
 * and count is checked against the buffer, every delta is checked against the version above
 * it, and every version is rebuilt and its checksum verified (one delta application per
 * version, newest to oldest). A history holding no version is refused too: it cannot come
 * from a key (Redis keeps no empty aggregate), so a payload claiming one is forged or
 * damaged. SW_OK; SW_ERR_CORRUPT with a message (e.g. "checksum mismatch in version 7",
 * "unsupported snapshot format 9", "snapshot history holds no version at byte 33",
 * "snapshot history has a bad delta in version 4: delta range beyond the base") for any
 * inconsistency; SW_ERR_NOMEM. On failure *out is NULL. */
swStatus swSnapDecode(const char *buf, size_t len, swSnap **out, swError *err);

#endif
