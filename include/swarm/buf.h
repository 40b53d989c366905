/* buf.h -- a growable byte buffer and a bounds-checked reader, for the little-endian
 * serialization formats of the core types (RDB, AOF rewrite, DUMP).
 *
 * Writers latch the first allocation failure: after it every append is a no-op and
 * swBufFailed() is true, so an encoder checks once at the end. Readers latch the first
 * overrun the same way: every read past the end yields zeros and swReaderFailed() is true. */
#ifndef SWARM_BUF_H
#define SWARM_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct swBuf {
    char *data; /* swAlloc'ed; take it over or free it with swBufFree */
    size_t len, cap;
    int failed;
} swBuf;

void swBufAppend(swBuf *b, const void *p, size_t len);
void swBufPutU8(swBuf *b, uint8_t v);
void swBufPutU32(swBuf *b, uint32_t v);
void swBufPutU64(swBuf *b, uint64_t v);
/* A u32 length followed by the bytes. */
void swBufPutStr(swBuf *b, const char *s, size_t len);
int swBufFailed(const swBuf *b);
void swBufFree(swBuf *b);

typedef struct swReader {
    const unsigned char *p, *end;
    int failed;
} swReader;

void swReaderInit(swReader *r, const char *buf, size_t len);
uint8_t swReadU8(swReader *r);
uint32_t swReadU32(swReader *r);
uint64_t swReadU64(swReader *r);
/* Returns a pointer into the buffer (not NUL-terminated) and its length in *len; NULL and
 * a failed reader when the declared length overruns the buffer or exceeds max. */
const char *swReadStr(swReader *r, size_t max, size_t *len);
int swReaderFailed(const swReader *r);
int swReaderAtEnd(const swReader *r);

#endif
