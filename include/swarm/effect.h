/* effect.h -- what one SWARM.PUBLISH did outside its routing table, for replicas and the AOF.
 *
 * The table's own change travels as a delta (delta.h). The message travels as the publish
 * command's own arguments (type, payload, sender), so the replicated command reuses them.
 * An effect record holds the rest: the message id, its timestamp and priority, and each
 * delivery a replica (or an AOF being loaded) must redo, in the master's order:
 *
 *   u8 format | u64 id ms | u64 id seq | u64 ts | u8 priority
 *   u8 flags (bit 0: SENDER, bit 1: MSGID, bit 2: REPLYTO: the arguments that follow)
 *   then, up to the end, per delivery:
 *     u8 kind (0 channel, 1 stream) | u64 target (a route id; 0 is the default target)
 *     stream only: u64 entry ms | u64 entry seq | u64 trim (0: none, else length + 1)
 *
 * A channel delivery is the envelope published on the target's channel (a replica
 * publishes it to its own subscribers). A stream delivery is the entry appended with that
 * exact id, then, when the master's approximate trim removed entries, the stream trimmed
 * exactly to the length the master was left with. Targets are named by route id because
 * the replica holds the same table: the record stays small whatever the names. */
#ifndef SWARM_EFFECT_H
#define SWARM_EFFECT_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/status.h"
#include "swarm/table.h"

#define SW_EFFECT_FORMAT 1
/* Bytes of the head and of the largest delivery entry. */
#define SW_EFFECT_HEAD_BYTES (1 + 8 + 8 + 8 + 1 + 1)
#define SW_EFFECT_ENTRY_MAX (1 + 8 + 8 + 8 + 8)

typedef enum swEffectKind { SW_EFFECT_CHANNEL = 0, SW_EFFECT_STREAM = 1 } swEffectKind;

typedef struct swEffectHead {
    int64_t idMs; /* the message id <idMs>-<idSeq> */
    uint64_t idSeq;
    int64_t ts;
    int priority;   /* 1..9 */
    int hasSender;  /* the replicated command carries a SENDER argument */
    int hasMsgid;   /* ... a MSGID argument (after the sender) */
    int hasReplyTo; /* ... a REPLYTO argument (last) */
} swEffectHead;

typedef struct swEffect {
    swEffectKind kind;
    uint64_t target;  /* route id, 0 for the table's default target */
    uint64_t ms, seq; /* stream entry id (streams only) */
    int64_t trimTo;   /* length the stream was trimmed to, -1 when not trimmed */
} swEffect;

/* Appends the head, then one delivery per swEffectAdd (check swBufFailed at the end). */
void swEffectBegin(swBuf *b, const swEffectHead *h);
void swEffectAdd(swBuf *b, const swEffect *e);

typedef struct swEffectReader {
    swReader r;
} swEffectReader;

/* Reads the head of an encoded record: SW_OK, or SW_ERR_CORRUPT for an unknown format, a
 * short buffer or a field out of range. */
swStatus swEffectOpen(swEffectReader *rd, const char *buf, size_t len, swEffectHead *h,
                      swError *err);

/* Reads the next delivery into e: 1, 0 at the end, or SW_ERR_CORRUPT (negative) when the
 * entry is malformed. */
int swEffectNext(swEffectReader *rd, swEffect *e, swError *err);

/* The name of an effect's target in t (after "channel:" or "stream:"): SW_OK, or
 * SW_ERR_CORRUPT when t has no such route (or no default target) or the target is not of
 * the effect's kind. */
swStatus swEffectTarget(const swTable *t, const swEffect *e, const char **name, size_t *len,
                        swError *err);

#endif
