/* keyslot.c -- cluster hash slots (see keyslot.h). */
#include <stdint.h>

#include "swarm/keyslot.h"

static uint16_t crc16(const unsigned char *p, size_t len) {
    uint16_t crc = 0; /* CRC16/XMODEM: poly 0x1021, init 0, no reflection */
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned int swKeySlot(const char *key, size_t len) {
    const unsigned char *k = (const unsigned char *)key;
    size_t s, e;
    for (s = 0; s < len && k[s] != '{'; s++) {
    }
    if (s < len) {
        for (e = s + 1; e < len && k[e] != '}'; e++) {
        }
        /* Only a non-empty tag counts, as in Redis. */
        if (e < len && e != s + 1) return crc16(k + s + 1, e - s - 1) & 16383;
    }
    return crc16(k, len) & 16383;
}
