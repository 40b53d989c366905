/* table_codec.h -- the one serialized form of a routing table, used by RDB, AOF rewrite
 * (SWARM.RESTORE), DUMP/RESTORE, COPY and DEBUG DIGEST alike.
 *
 * Layout (all integers little-endian), format version SW_TABLE_FORMAT:
 *
 *   u8 version | u64 lastId | u64 clockMs | u64 clockSeq | 6 x u64 stats
 *   str default (length 0: none)
 *   u32 nroutes, then per route: u64 id | u8 kind | u8 pmin | u8 pmax | str pattern |
 *       str target | 5 x u64 counters | u8 breaker | u32 failures | u64 openedMs
 *   u32 nrules, then per rule: u64 id | u8 action | str regex | u64 hits
 *
 * where str is a u32 length and the bytes. Decoding trusts nothing: a payload may come
 * from a damaged RDB or a forged SWARM.RESTORE. */
#ifndef SWARM_TABLE_CODEC_H
#define SWARM_TABLE_CODEC_H

#include <stddef.h>

#include "swarm/status.h"
#include "swarm/table.h"

#define SW_TABLE_FORMAT 1

/* Serializes t into *buf (swAlloc'ed, free with swFree) and *len. SW_OK or SW_ERR_NOMEM
 * (then *buf is untouched). */
swStatus swTableEncode(const swTable *t, char **buf, size_t *len);

/* Rebuilds a table from swTableEncode's output into *out (free with swTableFree). Validates
 * every field as the commands would have: lengths, ids (increasing, at most lastId), subject
 * patterns against maxTypeBytes (the module passes SW_TABLE_MAX_PATTERN, the format's hard
 * limit, so a node loads every table it or its master ever wrote whatever its
 * swarm.max-type-bytes), targets, priority ranges, enums, the id clock
 * and each breaker's openedMs (both 0..SW_TABLE_CLOCK_MAX_MS), and recompiles
 * regexes. On failure returns SW_ERR_CORRUPT ("corrupt routing table: ...") or SW_ERR_NOMEM
 * with a message, creates nothing and leaves *out untouched. */
swStatus swTableDecode(const char *buf, size_t len, size_t maxTypeBytes, swTable **out,
                       swError *err);

#endif
