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
    r->end = r->p + len;
    r->failed = 0;
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
