/* effect.c -- the replicated record of a publish's deliveries (see effect.h). */
#include "swarm/effect.h"

#define FLAG_SENDER 1u
#define FLAG_MSGID 2u
#define FLAG_REPLYTO 4u

void swEffectBegin(swBuf *b, const swEffectHead *h) {
    swBufPutU8(b, SW_EFFECT_FORMAT);
    swBufPutU64(b, (uint64_t)h->idMs);
    swBufPutU64(b, h->idSeq);
    swBufPutU64(b, (uint64_t)h->ts);
    swBufPutU8(b, (uint8_t)h->priority);
    swBufPutU8(b, (uint8_t)((h->hasSender ? FLAG_SENDER : 0) | (h->hasMsgid ? FLAG_MSGID : 0) |
                            (h->hasReplyTo ? FLAG_REPLYTO : 0)));
}

void swEffectAdd(swBuf *b, const swEffect *e) {
    swBufPutU8(b, (uint8_t)e->kind);
    swBufPutU64(b, e->target);
    if (e->kind != SW_EFFECT_STREAM) return;
    swBufPutU64(b, e->ms);
    swBufPutU64(b, e->seq);
    swBufPutU64(b, e->trimTo < 0 ? 0 : (uint64_t)e->trimTo + 1);
}

swStatus swEffectOpen(swEffectReader *rd, const char *buf, size_t len, swEffectHead *h,
                      swError *err) {
    swReaderInit(&rd->r, buf, len);
    if (swReadU8(&rd->r) != SW_EFFECT_FORMAT)
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "unknown publish effect format");
    h->idMs = (int64_t)swReadU64(&rd->r);
    h->idSeq = swReadU64(&rd->r);
    h->ts = (int64_t)swReadU64(&rd->r);
    h->priority = swReadU8(&rd->r);
    uint8_t flags = swReadU8(&rd->r);
    h->hasSender = (flags & FLAG_SENDER) != 0;
    h->hasMsgid = (flags & FLAG_MSGID) != 0;
    h->hasReplyTo = (flags & FLAG_REPLYTO) != 0;
    if (swReaderFailed(&rd->r) || h->idMs < 0 || h->ts < 0 || h->priority < 1 || h->priority > 9 ||
        (flags & ~(FLAG_SENDER | FLAG_MSGID | FLAG_REPLYTO)) != 0)
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish effect");
    return SW_OK;
}

int swEffectNext(swEffectReader *rd, swEffect *e, swError *err) {
    if (swReaderAtEnd(&rd->r)) return 0;
    uint8_t kind = swReadU8(&rd->r);
    e->target = swReadU64(&rd->r);
    e->ms = e->seq = 0;
    e->trimTo = -1;
    if (kind == SW_EFFECT_STREAM) {
        e->ms = swReadU64(&rd->r);
        e->seq = swReadU64(&rd->r);
        uint64_t trim = swReadU64(&rd->r);
        if (trim > (uint64_t)INT64_MAX)
            return swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish effect");
        e->trimTo = (int64_t)trim - 1;
        /* Stream ids start above 0-0. */
        if (e->ms == 0 && e->seq == 0)
            return swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish effect");
    }
    if (swReaderFailed(&rd->r) || kind > SW_EFFECT_STREAM)
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "malformed publish effect");
    e->kind = (swEffectKind)kind;
    return 1;
}

swStatus swEffectTarget(const swTable *t, const swEffect *e, const char **name, size_t *len,
                        swError *err) {
    const char *target = NULL;
    size_t tlen = 0;
    if (e->target == 0) {
        target = t->deflt;
        tlen = t->defltLen;
    } else {
        const swRoute *r = swTableRoute(t, e->target);
        if (r) {
            target = r->target;
            tlen = r->targetLen;
        }
    }
    swTargetKind kind;
    size_t off;
    if (target == NULL || swTargetCheck(target, tlen, &kind, &off, NULL) != SW_OK ||
        (kind == SW_TARGET_STREAM) != (e->kind == SW_EFFECT_STREAM))
        return swErrorSet(err, SW_ERR_CORRUPT, 0, "publish effect names unknown target %llu",
                          (unsigned long long)e->target);
    *name = target + off;
    *len = tlen - off;
    return SW_OK;
}
