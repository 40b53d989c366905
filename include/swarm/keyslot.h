/* keyslot.h -- Redis Cluster's key-to-slot mapping (CRC16/XMODEM of the key, or of the
 * first non-empty {hash tag}, modulo 16384), for checks that two keys share a slot. */
#ifndef SWARM_KEYSLOT_H
#define SWARM_KEYSLOT_H

#include <stddef.h>

unsigned int swKeySlot(const char *key, size_t len);

#endif
