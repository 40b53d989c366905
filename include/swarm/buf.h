/* buf.h -- a growable byte buffer and a bounds-checked reader: the one buffer type of the
 * core, for the little-endian serialization formats of the core types (RDB, AOF rewrite,
 * DUMP) and for the texts the JSON operations produce.
 *
 * Writers latch the first allocation failure: after it every append is a no-op and
 * swBufFailed() is true, so an encoder checks once at the end. Readers latch the first
 * overrun the same way: every read past the end yields zeros and swReaderFailed() is true. */
#ifndef SWARM_BUF_H
#define SWARM_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "swarm/status.h"

typedef struct swBuf {
    char *data; /* swAlloc'ed; take it over or free it with swBufFree */
    size_t len, cap;
    int failed;
} swBuf;

/* Makes room for len more bytes (sets failed when it cannot). Out of line: the appends
 * below are inline so encoders on hot paths pay a compare and a memcpy per field. */
void swBufGrow(swBuf *b, size_t len);

static inline void swBufAppend(swBuf *b, const void *p, size_t len) {
    if (b->cap - b->len < len) swBufGrow(b, len);
    if (b->failed) return;
    if (len) memcpy(b->data + b->len, p, len);
    b->len += len;
}

/* Integers are written little-endian whatever the host, with one bounds check and one
 * store each (the delta and effect encoders run on every publish). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SW_LE32(v) __builtin_bswap32(v)
#define SW_LE64(v) __builtin_bswap64(v)
#else
#define SW_LE32(v) (v)
#define SW_LE64(v) (v)
#endif

static inline void swBufPutU8(swBuf *b, uint8_t v) {
    swBufAppend(b, &v, 1);
}

static inline void swBufPutU32(swBuf *b, uint32_t v) {
    v = SW_LE32(v);
    swBufAppend(b, &v, 4);
}

static inline void swBufPutU64(swBuf *b, uint64_t v) {
    v = SW_LE64(v);
    swBufAppend(b, &v, 8);
}
/* Grows the capacity to exactly len + extra when it is smaller, for writers that know the
 * final size (one allocation, no slack). Sets failed when it cannot. */
void swBufReserve(swBuf *b, size_t extra);

/* Hands the contents over NUL-terminated (the NUL is not counted): SW_OK with *out (free
 * with swFree) and *outlen. When the buffer has failed, or the terminator cannot be added,
 * frees it and returns SW_ERR_NOMEM with *out NULL and *outlen 0. Either way the buffer is
 * empty afterwards. */
swStatus swBufTakeText(swBuf *b, char **out, size_t *outlen);

/* An unsigned LEB128 varint: 7 bits a byte, low bits first, 1 to 10 bytes. */
static inline void swBufPutVarint(swBuf *b, uint64_t v) {
    unsigned char x[10];
    size_t n = 0;
    do {
        x[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v) x[n] |= 0x80;
        n++;
    } while (v);
    swBufAppend(b, x, n);
}

/* A u32 length followed by the bytes. */
void swBufPutStr(swBuf *b, const char *s, size_t len);
int swBufFailed(const swBuf *b);
void swBufFree(swBuf *b);

typedef struct swReader {
    const unsigned char *p, *end;
    int failed;
} swReader;

void swReaderInit(swReader *r, const char *buf, size_t len);

/* The next n bytes, or NULL (and the reader failed) when fewer remain. Inline, like the
 * readers below: a replica decodes a delta and an effect record per publish. */
static inline const unsigned char *swReaderTake(swReader *r, size_t n) {
    if (r->failed || (size_t)(r->end - r->p) < n) {
        r->failed = 1;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    return p;
}

static inline uint8_t swReadU8(swReader *r) {
    const unsigned char *p = swReaderTake(r, 1);
    return p ? p[0] : 0;
}

static inline uint32_t swReadU32(swReader *r) {
    const unsigned char *p = swReaderTake(r, 4);
    uint32_t v = 0;
    if (p) memcpy(&v, p, 4);
    return SW_LE32(v);
}

static inline uint64_t swReadU64(swReader *r) {
    const unsigned char *p = swReaderTake(r, 8);
    uint64_t v = 0;
    if (p) memcpy(&v, p, 8);
    return SW_LE64(v);
}

/* A varint as swBufPutVarint writes it; fails the reader when it is truncated, longer than 10
 * bytes or above UINT64_MAX. */
uint64_t swReadVarint(swReader *r);
/* The next n bytes (a pointer into the buffer), or NULL and a failed reader when fewer are
 * left. */
const char *swReadBytes(swReader *r, size_t n);
/* Returns a pointer into the buffer (not NUL-terminated) and its length in *len; NULL and
 * a failed reader when the declared length overruns the buffer or exceeds max. */
const char *swReadStr(swReader *r, size_t max, size_t *len);
int swReaderFailed(const swReader *r);
int swReaderAtEnd(const swReader *r);

#endif
