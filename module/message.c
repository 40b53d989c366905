/* message.c -- a message's envelope published and stream entry appended (see message.h). */
#include <string.h>

#include "message.h"
#include "swarm/event.h"

/* ---- Envelope ---- */

/* The envelope (swEnvelopeWrite) as a RedisModuleString ready to publish, written in a
 * buffer reused across messages. */
static RedisModuleString *buildEnvelope(RedisModuleCtx *ctx, const SwarmMessage *m) {
    static char *buf;
    static size_t cap;
    size_t need = swEnvelopeBound(&m->facts);
    if (need > cap) {
        RedisModule_Free(buf);
        cap = need < 4096 ? 4096 : need;
        buf = RedisModule_Alloc(cap);
    }
    RedisModuleString *env = RedisModule_CreateString(ctx, buf, swEnvelopeWrite(&m->facts, buf));
    /* Keep a large envelope's memory only until the next small one. */
    if (cap > (1 << 20)) {
        RedisModule_Free(buf);
        buf = NULL;
        cap = 0;
    }
    return env;
}

RedisModuleString *SwarmMessage_Envelope(RedisModuleCtx *ctx, SwarmMessage *m) {
    if (m->envelope == NULL) m->envelope = buildEnvelope(ctx, m);
    return m->envelope;
}

int SwarmMessage_Publish(RedisModuleCtx *ctx, SwarmMessage *m, const char *name, size_t nlen,
                         int shard) {
    RedisModuleString *env = SwarmMessage_Envelope(ctx, m);
    RedisModuleString *chan = RedisModule_CreateString(ctx, name, nlen);
    int n = shard ? RedisModule_PublishMessageShard(ctx, chan, env)
                  : RedisModule_PublishMessage(ctx, chan, env);
    RedisModule_FreeString(ctx, chan);
    return n;
}

/* ---- The message ---- */

void SwarmMessage_Set(SwarmMessage *m, RedisModuleString *key, RedisModuleString *type,
                      RedisModuleString *payload, RedisModuleString *sender, int priority,
                      long long ts) {
    *m = (SwarmMessage){.keyStr = key, .typeStr = type, .payloadStr = payload, .senderStr = sender};
    swMessage *f = &m->facts;
    f->priority = priority;
    f->ts = ts;
    f->key = RedisModule_StringPtrLen(key, &f->klen);
    f->type = RedisModule_StringPtrLen(type, &f->tlen);
    f->payload = RedisModule_StringPtrLen(payload, &f->plen);
    if (sender) f->sender = RedisModule_StringPtrLen(sender, &f->slen);
}

void SwarmMessage_SetExtras(SwarmMessage *m, RedisModuleString *msgid, RedisModuleString *replyTo) {
    m->msgidStr = msgid;
    m->replyToStr = replyTo;
    if (msgid) m->facts.msgid = RedisModule_StringPtrLen(msgid, &m->facts.mlen);
    if (replyTo) m->facts.replyTo = RedisModule_StringPtrLen(replyTo, &m->facts.rlen);
}

void SwarmMessage_SetId(SwarmMessage *m, int64_t ms, uint64_t seq) {
    swMessageSetId(&m->facts, ms, seq);
}

void SwarmMessage_Release(RedisModuleCtx *ctx, SwarmMessage *m) {
    if (m->envelope) RedisModule_FreeString(ctx, m->envelope);
    if (m->idStr) RedisModule_FreeString(ctx, m->idStr);
    if (m->tsStr) RedisModule_FreeString(ctx, m->tsStr);
    m->envelope = m->idStr = m->tsStr = NULL;
}

/* ---- Stream entry ---- */

/* Field names and priority values, created once: an entry's other values are the
 * command's own strings, so appending one creates only its id and ts strings. */
static RedisModuleString *fieldName[SW_FIELD_COUNT];
static RedisModuleString *priorityValue[SW_PRIORITY_MAX + 1];

void SwarmMessage_Init(void) {
    for (int i = 0; i < SW_FIELD_COUNT; i++) {
        const char *name = swFieldName((swField)i);
        fieldName[i] = RedisModule_CreateString(NULL, name, strlen(name));
    }
    for (int p = SW_PRIORITY_MIN; p <= SW_PRIORITY_MAX; p++)
        priorityValue[p] = RedisModule_CreateStringFromLongLong(NULL, p);
}

/* The entry's field/value pairs (swEntryFields) into f; returns the pair count. */
static long entryFields(RedisModuleCtx *ctx, SwarmMessage *m, RedisModuleString **f) {
    const swMessage *x = &m->facts;
    if (m->idStr == NULL) {
        char ts[24];
        m->idStr = RedisModule_CreateString(ctx, x->id, x->idlen);
        m->tsStr = RedisModule_CreateString(ctx, ts, (size_t)(swMessagePutTs(x, ts) - ts));
    }
    RedisModuleString *v[SW_FIELD_COUNT] = {
        [SW_FIELD_ID] = m->idStr,          [SW_FIELD_SWARM] = m->keyStr,
        [SW_FIELD_TYPE] = m->typeStr,      [SW_FIELD_PRIORITY] = priorityValue[x->priority],
        [SW_FIELD_TS] = m->tsStr,          [SW_FIELD_PAYLOAD] = m->payloadStr,
        [SW_FIELD_SENDER] = m->senderStr,  [SW_FIELD_MSGID] = m->msgidStr,
        [SW_FIELD_REPLYTO] = m->replyToStr};
    swField order[SW_FIELD_COUNT];
    size_t n = swEntryFields(x, order);
    for (size_t i = 0; i < n; i++) {
        f[2 * i] = fieldName[order[i]];
        f[2 * i + 1] = v[order[i]];
    }
    return (long)n;
}

int SwarmMessage_Append(RedisModuleCtx *ctx, SwarmMessage *m, const char *name, size_t nlen,
                        const RedisModuleStreamID *id, long long maxlen, int64_t trimTo,
                        RedisModuleStreamID *out, int64_t *trimmed) {
    RedisModuleString *kn = RedisModule_CreateString(ctx, name, nlen);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, kn, REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(k), ret = REDISMODULE_ERR;
    *trimmed = -1;
    if (type == REDISMODULE_KEYTYPE_EMPTY || type == REDISMODULE_KEYTYPE_STREAM) {
        RedisModuleString *f[2 * SW_FIELD_COUNT];
        long n = entryFields(ctx, m, f);
        *out = id ? *id : (RedisModuleStreamID){0, 0};
        if (RedisModule_StreamAdd(k, id ? 0 : REDISMODULE_STREAM_ADD_AUTOID, out, f, n) ==
            REDISMODULE_OK) {
            ret = REDISMODULE_OK;
            RedisModule_SignalModifiedKey(ctx, kn);
            RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_STREAM, "xadd", kn);
            long long gone = 0;
            if (id == NULL)
                gone = RedisModule_StreamTrimByLength(k, REDISMODULE_STREAM_TRIM_APPROX, maxlen);
            else if (trimTo >= 0)
                gone = RedisModule_StreamTrimByLength(k, 0, trimTo);
            if (gone > 0) {
                RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_STREAM, "xtrim", kn);
                *trimmed = (int64_t)RedisModule_ValueLength(k);
            }
        }
    }
    /* Closing the key serves the clients blocked on the stream. */
    RedisModule_CloseKey(k);
    RedisModule_FreeString(ctx, kn);
    return ret;
}
