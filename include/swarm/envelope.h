/* envelope.h -- a published message as its receivers see it: the pub/sub envelope and the
 * fields of its stream entry, and the checks of the free-text options that name a message.
 *
 *   envelope  {"id":..,"swarm":..,"type":..,"priority":..,"ts":..,"sender":..,"msgid":..,
 *              "reply_to":..,"payload":..}          (sender, msgid, reply_to when given)
 *   entry     id swarm type priority ts payload [sender] [msgid] [reply_to]
 *
 * The master builds them when it publishes and a replica (or an AOF being loaded) rebuilds
 * them from the same facts through these same functions, so both hold the same bytes.
 * Nothing here allocates: the caller sizes the buffer with swEnvelopeBound. */
#ifndef SWARM_ENVELOPE_H
#define SWARM_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "swarm/status.h"

/* Bytes of "<ms>-<seq>" at most: two 20-digit numbers and a dash, plus a NUL. */
#define SW_MESSAGE_ID_MAX 48
/* SENDER and MSGID: 1 to this many bytes. */
#define SW_MESSAGE_LABEL_MAX 128

/* The facts of one message. The strings are borrowed (not copied, not NUL-terminated);
 * sender, msgid and replyTo are NULL when not given. */
typedef struct swMessage {
    const char *key, *type, *payload, *sender, *msgid, *replyTo;
    size_t klen, tlen, plen, slen, mlen, rlen;
    int priority;               /* 1..9 */
    int64_t ts;                 /* milliseconds, not negative */
    char id[SW_MESSAGE_ID_MAX]; /* "<ms>-<seq>", set by swMessageSetId */
    size_t idlen;
    int64_t idMs; /* the id's <ms> and its digits' length */
    size_t idMsLen;
} swMessage;

/* Sets m->id to "<ms>-<seq>" (ms read as unsigned). */
void swMessageSetId(swMessage *m, int64_t ms, uint64_t seq);

/* Decimal digits of v at p, no NUL; returns the end (at most 20 bytes written). */
char *swPutU64(char *p, uint64_t v);

/* The decimal digits of m->ts at p (after swMessageSetId), no NUL; returns the end. */
char *swMessagePutTs(const swMessage *m, char *p);

/* Checks a SENDER or MSGID value (what names the option in the message): 1 to
 * SW_MESSAGE_LABEL_MAX bytes (SW_ERR_RANGE "<what> must be 1 to 128 bytes"), no control
 * character (SW_ERR_SYNTAX "<what> has a control character at byte N"), valid UTF-8
 * (SW_ERR_SYNTAX "<what> is not valid UTF-8 at byte N"); the offset in err. */
swStatus swMessageCheckLabel(const char *what, const char *s, size_t len, swError *err);

/* ---- Envelope ---- */

/* Bytes enough for m's envelope (an upper bound, computed in O(1)). */
size_t swEnvelopeBound(const swMessage *m);

/* Writes m's envelope to buf (room for swEnvelopeBound(m) bytes); returns its length. The
 * key, sender, msgid and reply_to are JSON-escaped, and a byte that does not start
 * well-formed UTF-8 is written as U+FFFD, so the envelope is valid JSON whatever the key;
 * the type needs no escaping and the payload (already validated) is copied verbatim. */
size_t swEnvelopeWrite(const swMessage *m, char *buf);

/* ---- Stream entry ---- */

typedef enum swField {
    SW_FIELD_ID,
    SW_FIELD_SWARM,
    SW_FIELD_TYPE,
    SW_FIELD_PRIORITY,
    SW_FIELD_TS,
    SW_FIELD_PAYLOAD,
    SW_FIELD_SENDER,
    SW_FIELD_MSGID,
    SW_FIELD_REPLYTO,
    SW_FIELD_COUNT
} swField;

/* The field name of f ("id", "swarm", ..., "reply_to"). */
const char *swFieldName(swField f);

/* Stores in out the fields of m's stream entry, in entry order; returns how many. */
size_t swEntryFields(const swMessage *m, swField out[SW_FIELD_COUNT]);

#endif
