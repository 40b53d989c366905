/* snapshot.h -- the version history held by a swarm-snp key (SPEC section 7).
 *
 *            oldest                            head
 *   ring:  [ v5 | v6 | v7 | v8 | v9 | -- | -- | -- ]   retained versions are consecutive
 *            ^start                                    numbers, oldest to newest
 *
 * A history holds up to `keep` versions of a JSON document. Saving appends version head+1
 * and, once more than keep versions are held, evicts the oldest. Version numbers start at
 * 1 and are never reused, even after eviction (a key deleted and created again starts over,
 * as it is a new history). Each version owns a copy of its bytes and the XXH3-64 checksum
 * of those bytes, computed when it is saved and verified when it is decoded.
 *
 * The history stores bytes; it does not look at them. Callers validate documents first.
 * Saving costs one allocation, one memcpy and one hash of the document.
 *
 * Ownership: swSnapNew, swSnapDup and swSnapDecode return a history to free with swSnapFree
 * (swSnapFree(NULL) is a no-op). Version pointers returned by the accessors point into the
 * history and stay valid until the next call that modifies it (Save, Restore, SetKeep,
 * Free). A function that fails leaves the history exactly as it was. */
#ifndef SWARM_SNAPSHOT_H
#define SWARM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

#define SW_SNAP_KEEP_DEFAULT 16
#define SW_SNAP_KEEP_MAX 1000000 /* keep is 1..SW_SNAP_KEEP_MAX */
#define SW_SNAP_FORMAT 1         /* first byte of swSnapEncode's output */

/* One retained version. Read-only to callers. */
typedef struct swSnapVersion {
    uint64_t version;  /* 1, 2, ... */
    int64_t ts;        /* unix ms, as passed to swSnapSave */
    uint64_t checksum; /* XXH3_64bits(text, len) */
    size_t len;
    char *text; /* len bytes, NUL-terminated (the NUL is not counted) */
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

/* ---- Reading ---- */

/* The newest version, or NULL when the history is empty. */
const swSnapVersion *swSnapHead(const swSnap *s);

/* Version v, or NULL when it is not retained (never saved yet, or evicted). */
const swSnapVersion *swSnapGet(const swSnap *s, uint64_t v);

/* As swSnapGet, but a missing version is SW_ERR_NOVERSION with a message telling why:
 * "version 3 was evicted, the oldest retained is 5" or "version 9 does not exist, the head
 * is 7". *out is set only on SW_OK. */
swStatus swSnapLookup(const swSnap *s, uint64_t v, const swSnapVersion **out, swError *err);

/* Retained versions, newest first: i = 0 is the head, i = swSnapCount() - 1 the oldest.
 * NULL when i is out of range. */
size_t swSnapCount(const swSnap *s);
const swSnapVersion *swSnapAt(const swSnap *s, size_t i);

void swSnapGetInfo(const swSnap *s, swSnapInfo *info);

/* Sum of the retained documents' lengths. */
size_t swSnapBytes(const swSnap *s);

/* Heap bytes held by the history, bookkeeping included (for MEMORY USAGE). */
size_t swSnapMemUsage(const swSnap *s);

/* ---- Serialization (RDB, DUMP/RESTORE, AOF) ---- */

/* Serializes the whole history into *buf (swAlloc'ed, free with swFree) and *len, in one
 * allocation of the exact size. Meant for histories that hold a version (those of keys).
 * Format, integers little-endian:
 *   u8 format (SW_SNAP_FORMAT) | u64 head | u64 keep | i64 created | i64 updated | u64 count
 *   then per version, oldest first: i64 ts | u64 checksum | u64 len | len bytes
 * Version numbers are implicit: head - count + 1 .. head.
 * SW_OK or SW_ERR_NOMEM (then *buf is NULL and *len 0). */
swStatus swSnapEncode(const swSnap *s, char **buf, size_t *len);

/* Rebuilds a history from swSnapEncode's output into *out (free with swSnapFree). Every
 * length and count is checked against the buffer and every version's checksum is verified.
 * A history holding no version is refused too: it cannot come from a key (Redis keeps no
 * empty aggregate), so a payload claiming one is forged or damaged.
 * SW_OK; SW_ERR_CORRUPT with a message (e.g. "checksum mismatch in version 7", "unsupported
 * snapshot format 9", "snapshot history holds no version at byte 33") for any
 * inconsistency; SW_ERR_NOMEM. On failure *out is NULL. */
swStatus swSnapDecode(const char *buf, size_t len, swSnap **out, swError *err);

#endif
