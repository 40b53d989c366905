/* buf.c -- byte buffer and reader (see buf.h). */
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/buf.h"

void swBufGrow(swBuf *b, size_t len) {
    if (b->failed || b->cap - b->len >= len) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < len) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return;
        }
        cap *= 2;
    }
    char *data = swRealloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return;
    }
    b->data = data;
    b->cap = cap;
}

void swBufReserve(swBuf *b, size_t extra) {
    if (b->failed || b->cap - b->len >= extra) return;
    if (extra > SIZE_MAX - b->len) {
        b->failed = 1;
        return;
    }
    char *data = swRealloc(b->data, b->len + extra);
    if (data == NULL) {
        b->failed = 1;
        return;
    }
    b->data = data;
    b->cap = b->len + extra;
}

swStatus swBufTakeText(swBuf *b, char **out, size_t *outlen) {
    swBufPutU8(b, 0);
    if (b->failed) {
        swBufFree(b);
        *out = NULL;
        *outlen = 0;
        return SW_ERR_NOMEM;
    }
    *out = b->data;
    *outlen = b->len - 1;
    memset(b, 0, sizeof(*b));
    return SW_OK;
}

void swBufPutStr(swBuf *b, const char *s, size_t len) {
    if (len > UINT32_MAX) {
        b->failed = 1;
        return;
    }
    swBufPutU32(b, (uint32_t)len);
    swBufAppend(b, s, len);
}

int swBufFailed(const swBuf *b) {
    return b->failed;
}

void swBufFree(swBuf *b) {
    swFree(b->data);
    memset(b, 0, sizeof(*b));
}

void swReaderInit(swReader *r, const char *buf, size_t len) {
    r->p = (const unsigned char *)buf;
    r->end = len ? r->p + len : r->p; /* NULL + 0 is undefined: an empty buffer may be NULL */
    r->failed = 0;
}

uint64_t swReadVarint(swReader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        const unsigned char *p = swReaderTake(r, 1);
        if (p == NULL) return 0;
        if (shift == 63 && (*p & 0x7E) != 0) break; /* bits above 64 */
        v |= (uint64_t)(*p & 0x7F) << shift;
        if (!(*p & 0x80)) return v;
    }
    r->failed = 1;
    return 0;
}

const char *swReadBytes(swReader *r, size_t n) {
    return (const char *)swReaderTake(r, n);
}

const char *swReadStr(swReader *r, size_t max, size_t *len) {
    size_t n = swReadU32(r);
    *len = 0;
    if (r->failed) return NULL;
    if (n > max) {
        r->failed = 1;
        return NULL;
    }
    const unsigned char *p = swReaderTake(r, n);
    if (p == NULL) return NULL;
    *len = n;
    return (const char *)p;
}

int swReaderFailed(const swReader *r) {
    return r->failed;
}

int swReaderAtEnd(const swReader *r) {
    return !r->failed && r->p == r->end;
}
