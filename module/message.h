/* message.h -- one published message as the glue delivers it: its pub/sub envelope
 * published, its stream entry appended. What they hold, and in which order, is the core's
 * (swarm/envelope.h); this file turns them into Redis strings and calls. SWARM.PUBLISH
 * builds them on the master and SWARM.APPLY rebuilds them on a replica (or while the AOF
 * loads) from the same facts, through these same functions, so both hold the same bytes.
 *
 * A stream entry is appended as XADD appends one: the key created when missing, keyspace
 * events xadd and xtrim, WATCH signalled, and the key closed so that clients blocked in
 * XREAD/XREADGROUP are served. */
#ifndef SWARM_MESSAGE_H
#define SWARM_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "redismodule.h"
#include "swarm/envelope.h"

typedef struct SwarmMessage {
    /* The facts. key, type, payload and sender point into the strings below. */
    swMessage facts;
    /* The command's own argument strings, reused as entry values (and, by SWARM.PUBLISH,
     * as replicated arguments). senderStr, msgidStr and replyToStr are NULL when not given. */
    RedisModuleString *keyStr, *typeStr, *payloadStr, *senderStr, *msgidStr, *replyToStr;
    /* Built on first use, freed by SwarmMessage_Release. */
    RedisModuleString *envelope, *idStr, *tsStr;
} SwarmMessage;

/* Creates the strings every message shares (field names, priority values). Call at load. */
void SwarmMessage_Init(void);

/* Fills m's facts from its strings (sender may be NULL), without an id yet. */
void SwarmMessage_Set(SwarmMessage *m, RedisModuleString *key, RedisModuleString *type,
                      RedisModuleString *payload, RedisModuleString *sender, int priority,
                      long long ts);

/* Adds the MSGID and REPLYTO strings (either may be NULL) to m's facts. */
void SwarmMessage_SetExtras(SwarmMessage *m, RedisModuleString *msgid, RedisModuleString *replyTo);

/* Sets the message id <ms>-<seq>. */
void SwarmMessage_SetId(SwarmMessage *m, int64_t ms, uint64_t seq);

/* The envelope, built once per message. */
RedisModuleString *SwarmMessage_Envelope(RedisModuleCtx *ctx, SwarmMessage *m);

/* Publishes the envelope on channel name (a shard channel when shard is set); returns the
 * receivers on this node, as PUBLISH would. */
int SwarmMessage_Publish(RedisModuleCtx *ctx, SwarmMessage *m, const char *name, size_t nlen,
                         int shard);

/* Appends m's entry to the stream at name. With id NULL (the master) the stream picks the
 * entry id, stored in *out, and is trimmed like MAXLEN ~ maxlen; with an id (a replica) the
 * entry gets exactly that id and the stream is trimmed exactly to trimTo when it is not
 * negative. *trimmed gets the length after trimming, or -1 when trimming removed nothing.
 * REDISMODULE_ERR when the key holds another type or the stream refused the entry (an id
 * not above its last one); nothing is written then. */
int SwarmMessage_Append(RedisModuleCtx *ctx, SwarmMessage *m, const char *name, size_t nlen,
                        const RedisModuleStreamID *id, long long maxlen, int64_t trimTo,
                        RedisModuleStreamID *out, int64_t *trimmed);

/* Frees what the message built (envelope, id and ts strings); the facts stay. */
void SwarmMessage_Release(RedisModuleCtx *ctx, SwarmMessage *m);

#endif
