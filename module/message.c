/* message.c -- a message's envelope and stream entry (see message.h). */
#include <string.h>

#include "message.h"
#include "swarm/event.h"
#include "swarm/utf8.h"

/* Envelope sizing: the bytes of the fixed JSON text around the fields (keys, quotes,
 * commas, the one-digit priority and a 20-digit ts), and the most one input byte can
 * become once escaped ("\u00XX" is six). */
#define ENVELOPE_FIXED_BYTES 96
#define ESCAPED_MAX_PER_BYTE 6

/* Decimal digits of v at p; returns the end. snprintf costs more than the rest of the
 * envelope together. */
static char *putU64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *putLit(char *p, const char *lit, size_t len) {
    memcpy(p, lit, len);
    return p + len;
}
#define PUT_LIT(p, lit) putLit((p), (lit), sizeof(lit) - 1)

/* Writes s as the inside of a JSON string: quotes, backslashes and control bytes escaped,
 * and any byte that does not start well-formed UTF-8 (key names are binary-safe) written
 * as U+FFFD, so the envelope is always valid JSON. Needs room for ESCAPED_MAX_PER_BYTE * len
 * bytes. */
static char *putEscaped(char *p, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            *p++ = (char)c;
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? swUtf8SeqLen(s, len, i) : 1;
        if (n > 1) {
            memcpy(p, s + i, n);
            p += n;
            i += n;
            continue;
        }
        if (c >= 0x80) {
            p = PUT_LIT(p, "\\ufffd");
        } else if (c < 0x20) {
            p = PUT_LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = '\\';
            *p++ = (char)c;
        }
        i++;
    }
    return p;
}

/* ---- Envelope ---- */

/* {"id":..,"swarm":..,"type":..,"priority":..,"ts":..,"sender":..,"payload":..} in one
 * allocation, as a RedisModuleString ready to publish and replicate. */
static RedisModuleString *buildEnvelope(RedisModuleCtx *ctx, const SwarmMessage *m) {
    static char *buf;
    static size_t cap;
    size_t need = ENVELOPE_FIXED_BYTES + m->idlen + ESCAPED_MAX_PER_BYTE * m->klen + m->tlen +
                  ESCAPED_MAX_PER_BYTE * m->slen + m->plen;
    if (need > cap) {
        RedisModule_Free(buf);
        cap = need < 4096 ? 4096 : need;
        buf = RedisModule_Alloc(cap);
    }
    char *p = buf;
    p = PUT_LIT(p, "{\"id\":\"");
    p = putLit(p, m->id, m->idlen);
    p = PUT_LIT(p, "\",\"swarm\":\"");
    p = putEscaped(p, m->key, m->klen);
    p = PUT_LIT(p, "\",\"type\":\"");
    p = putLit(p, m->type, m->tlen); /* event types never need escaping */
    p = PUT_LIT(p, "\",\"priority\":");
    *p++ = (char)('0' + m->priority);
    p = PUT_LIT(p, ",\"ts\":");
    p = putU64(p, (uint64_t)m->ts);
    if (m->sender) {
        p = PUT_LIT(p, ",\"sender\":\"");
        p = putEscaped(p, m->sender, m->slen);
        *p++ = '"';
    }
    p = PUT_LIT(p, ",\"payload\":");
    p = putLit(p, m->payload, m->plen);
    *p++ = '}';
    RedisModuleString *env = RedisModule_CreateString(ctx, buf, (size_t)(p - buf));
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
    *m = (SwarmMessage){.keyStr = key,
                        .typeStr = type,
                        .payloadStr = payload,
                        .senderStr = sender,
                        .priority = priority,
                        .ts = ts};
    m->key = RedisModule_StringPtrLen(key, &m->klen);
    m->type = RedisModule_StringPtrLen(type, &m->tlen);
    m->payload = RedisModule_StringPtrLen(payload, &m->plen);
    if (sender) m->sender = RedisModule_StringPtrLen(sender, &m->slen);
}

void SwarmMessage_SetId(SwarmMessage *m, int64_t ms, uint64_t seq) {
    char *p = putU64(m->id, (uint64_t)ms);
    *p++ = '-';
    m->idlen = (size_t)(putU64(p, seq) - m->id);
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
enum { F_ID, F_SWARM, F_TYPE, F_PRIORITY, F_TS, F_PAYLOAD, F_SENDER, F_COUNT };
static RedisModuleString *fieldName[F_COUNT];
static RedisModuleString *priorityValue[SW_PRIORITY_MAX + 1];

void SwarmMessage_Init(void) {
    static const char *const names[F_COUNT] = {"id", "swarm",   "type",  "priority",
                                               "ts", "payload", "sender"};
    for (int i = 0; i < F_COUNT; i++)
        fieldName[i] = RedisModule_CreateString(NULL, names[i], strlen(names[i]));
    for (int p = SW_PRIORITY_MIN; p <= SW_PRIORITY_MAX; p++)
        priorityValue[p] = RedisModule_CreateStringFromLongLong(NULL, p);
}

/* The entry's field/value pairs into f; returns the pair count. */
static long entryFields(RedisModuleCtx *ctx, SwarmMessage *m, RedisModuleString **f) {
    if (m->idStr == NULL) {
        char ts[24];
        m->idStr = RedisModule_CreateString(ctx, m->id, m->idlen);
        m->tsStr = RedisModule_CreateString(ctx, ts, (size_t)(putU64(ts, (uint64_t)m->ts) - ts));
    }
    RedisModuleString *v[F_COUNT] = {
        m->idStr, m->keyStr,     m->typeStr,  priorityValue[m->priority],
        m->tsStr, m->payloadStr, m->senderStr};
    long n = m->senderStr ? F_COUNT : F_COUNT - 1;
    for (long i = 0; i < n; i++) {
        f[2 * i] = fieldName[i];
        f[2 * i + 1] = v[i];
    }
    return n;
}

int SwarmMessage_Append(RedisModuleCtx *ctx, SwarmMessage *m, const char *name, size_t nlen,
                        const RedisModuleStreamID *id, long long maxlen, int64_t trimTo,
                        RedisModuleStreamID *out, int64_t *trimmed) {
    RedisModuleString *kn = RedisModule_CreateString(ctx, name, nlen);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, kn, REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(k), ret = REDISMODULE_ERR;
    *trimmed = -1;
    if (type == REDISMODULE_KEYTYPE_EMPTY || type == REDISMODULE_KEYTYPE_STREAM) {
        RedisModuleString *f[2 * F_COUNT];
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
