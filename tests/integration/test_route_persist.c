/* test_route_persist.c -- swarm-rtb values across DEBUG RELOAD, RDB save and restart, AOF
 * rewrite and restart, COPY, RENAME, EXPIRE, DUMP/RESTORE and SWARM.RESTORE, and corrupt
 * DUMP payloads and RDB files.
 *
 * "State" below is everything a client can observe of a table: TYPE, LIST, RULES, STATS,
 * MATCH of a fixed set of event types and DEBUG DIGEST-VALUE; a round trip must keep all
 * of it, and the id clock with it (the next ADD gets the next id, never a reused one).
 *
 * Corruption tests rebuild DUMP payloads byte by byte. With rdbcompression off a swarm-rtb
 * DUMP is
 *
 *   07 | module id (RDB length, 0x81 + 8 bytes) | 05 (string opcode) | RDB length | table
 *   encoding (see module/core/table.c) | 00 (EOF opcode) | 2-byte RDB version | CRC64
 *
 * where the CRC64 (Jones, reflected, as Redis's crc64.c) covers every byte before it,
 * little-endian. An RDB file ends with the same CRC64 over the whole file. */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REPLY_TIMEOUT_MS 10000

static itServer srv; /* the shared server, flushed before each test */
static itServer aux; /* a server of one test's own (restarts, special config) */
static redisContext *c;

/* ---- CRC64 (Jones polynomial, reflected; Redis's DUMP and RDB checksum) ---- */

/* Bitwise and reflected, so the constant is 0xad93d23594c935a9 with its bits reversed. */
static uint64_t crc64(uint64_t crc, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x95ac9329ac4bc9b5ULL & (0 - (crc & 1)));
    }
    return crc;
}

static uint64_t getLe64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void putLe64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* 1 when the last 8 bytes of buf are the CRC64 of the bytes before them. */
static int trailerOk(const unsigned char *buf, size_t len) {
    return len >= 8 && crc64(0, buf, len - 8) == getLe64(buf + len - 8);
}

static void fixTrailer(unsigned char *buf, size_t len) {
    putLe64(buf + len - 8, crc64(0, buf, len - 8));
}

/* ---- Connections and state ---- */

/* Everything observable of the table at key, as one string (malloc'ed). */
static char *tableState(redisContext *ctx, const char *key) {
    static const char *types[] = {"zqxjk.a", "zqxjk.a.b", "task.done",         "task.secret",
                                  "ev.a.b",  "other",     "zqxjk.b PRIORITY 9"};
    char *acc = NULL;
    itAppendReply(&acc, itCmd(ctx, "TYPE %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE LIST %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE RULES %s", key));
    itAppendReply(&acc, itCmd(ctx, "SWARM.ROUTE STATS %s", key));
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *argv[6] = {"SWARM.ROUTE", "MATCH", key};
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", types[i]);
        int argc = 3;
        for (char *p = strtok(buf, " "); p; p = strtok(NULL, " ")) argv[argc++] = p;
        itAppendReply(&acc, itCmdArgv(ctx, argc, argv, NULL));
    }
    itAppendText(&acc, itDigest(ctx, key));
    return acc;
}

static void expectSame(const char *before, const char *after, const char *what) {
    if (strcmp(before, after) != 0)
        fail_msg("%s changed the table:\n--- before\n%s\n--- after\n%s", what, before, after);
}

/* Routes, rules, a default target and deletions, so ids have gaps and the highest id
 * issued (6) belongs to no route or rule any more: the next id must be 7. */
static void populate(redisContext *ctx, const char *key) {
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s zqxjk.* channel:zq", key), 1);
    itExpectInt(
        itCmd(ctx, "SWARM.ROUTE ADD %s %s stream:inbox REGEX PRIORITY 2 8", key, "ta[a-z]+\\..*"),
        2);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ALLOW %s %s", key, "(zqxjk|task|ev)\\..*"), 3);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE DENY %s %s", key, "task\\.secret"), 4);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s ev.> channel:ev PRIORITY 8 9", key), 5);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE ADD %s tmp.x channel:tmp", key), 6);
    itExpectInt(itCmd(ctx, "SWARM.ROUTE DEL %s 6", key), 1);
    itExpectOk(itCmd(ctx, "SWARM.ROUTE DEFAULT %s stream:dead", key));
}

/* ---- Files ---- */

/* Offset of the only occurrence of needle in buf; fails unless there is exactly one. */
static size_t findOnce(const unsigned char *buf, size_t len, const char *needle) {
    size_t n = strlen(needle), at = (size_t)-1, hits = 0;
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, needle, n) == 0) {
            at = i;
            hits++;
        }
    }
    if (hits != 1) fail_msg("'%s' occurs %zu times, expected once", needle, hits);
    return at;
}

/* ---- DUMP payload surgery (rdbcompression off) ---- */

typedef struct dumpParts {
    unsigned char prefix[32]; /* type, module id, string opcode */
    size_t prefixLen;
    unsigned char *data; /* the table's own encoding (malloc'ed) */
    size_t dataLen;
    unsigned char version[2];
} dumpParts;

/* Reads an RDB length at p; returns its size in bytes (0 for a special encoding). */
static size_t rdbLen(const unsigned char *p, uint64_t *len) {
    switch (p[0] >> 6) {
    case 0:
        *len = p[0] & 0x3f;
        return 1;
    case 1:
        *len = ((uint64_t)(p[0] & 0x3f) << 8) | p[1];
        return 2;
    case 2:
        if (p[0] == 0x80) {
            *len = ((uint64_t)p[1] << 24) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 8) | p[4];
            return 5;
        }
        if (p[0] == 0x81) {
            *len = 0;
            for (int i = 1; i <= 8; i++) *len = (*len << 8) | p[i];
            return 9;
        }
        return 0;
    default:
        return 0;
    }
}

/* Writes an RDB length in the smallest encoding, as Redis does; returns its size. */
static size_t rdbPutLen(unsigned char *p, uint64_t len) {
    if (len < 64) {
        p[0] = (unsigned char)len;
        return 1;
    }
    if (len < 16384) {
        p[0] = (unsigned char)(0x40 | (len >> 8));
        p[1] = (unsigned char)(len & 0xff);
        return 2;
    }
    p[0] = 0x80;
    for (int i = 0; i < 4; i++) p[1 + i] = (unsigned char)(len >> (24 - 8 * i));
    return 5;
}

static void splitDump(const unsigned char *p, size_t len, dumpParts *d) {
    uint64_t v;
    size_t off = 0, n;
    if (len < 20 || p[0] != 7) fail_msg("DUMP is not a module value (type %u)", p[0]);
    off = 1;
    if ((n = rdbLen(p + off, &v)) == 0) fail_msg("DUMP: bad module id");
    off += n;
    if ((n = rdbLen(p + off, &v)) != 1 || v != 5) fail_msg("DUMP: expected a string opcode");
    off += n;
    if (off > sizeof(d->prefix)) fail_msg("DUMP: prefix too long");
    memcpy(d->prefix, p, off);
    d->prefixLen = off;
    if ((n = rdbLen(p + off, &v)) == 0) fail_msg("DUMP: compressed or encoded string");
    off += n;
    if (off + v + 1 + 10 != len) fail_msg("DUMP: unexpected layout");
    d->data = malloc(v);
    memcpy(d->data, p + off, v);
    d->dataLen = v;
    off += v;
    if (p[off] != 0) fail_msg("DUMP: expected the EOF opcode");
    memcpy(d->version, p + off + 1, 2);
}

/* A DUMP payload around data (malloc'ed), with a correct CRC. */
static unsigned char *buildDump(const dumpParts *d, const unsigned char *data, size_t dataLen,
                                size_t *len) {
    unsigned char *p = malloc(d->prefixLen + 5 + dataLen + 1 + 10);
    size_t off = d->prefixLen;
    memcpy(p, d->prefix, off);
    off += rdbPutLen(p + off, dataLen);
    memcpy(p + off, data, dataLen);
    off += dataLen;
    p[off++] = 0;
    memcpy(p + off, d->version, 2);
    off += 2;
    off += 8;
    fixTrailer(p, off);
    *len = off;
    return p;
}

/* The DUMP of key taken with rdbcompression off (and the setting restored). */
static unsigned char *dumpPlain(redisContext *ctx, const char *key, size_t *len) {
    itExpectOk(itCmd(ctx, "CONFIG SET rdbcompression no"));
    redisReply *r = itCmd(ctx, "DUMP %s", key);
    itExpectOk(itCmd(ctx, "CONFIG SET rdbcompression yes"));
    if (r->type != REDIS_REPLY_STRING) fail_msg("DUMP %s: type %d", key, r->type);
    unsigned char *p = malloc(r->len);
    memcpy(p, r->str, r->len);
    *len = r->len;
    freeReplyObject(r);
    return p;
}

/* ---- Fixtures ---- */

/* The group's server opens the internal commands to clients (a load-time-only config) so
 * that SWARM.RESTORE's own input checks can be tested directly. */
static const char *const internalOpen[] = {"debug-internal-commands", "yes", NULL};

static int groupTeardown(void **state) {
    itDestroy(&aux);
    return itFixtureTeardown(state);
}

static int testTeardown(void **state) {
    (void)state;
    itDestroy(&aux);
    return 0;
}

/* ---- The CRC itself ---- */

static void test_crc64_matches_redis_and_dump_trailers(void **state) {
    (void)state;
    /* Redis's crc64.c self-test vector. */
    assert_true(crc64(0, (const unsigned char *)"123456789", 9) == 0xe9c6d914c4b8d9caULL);
    populate(c, "k");
    redisReply *r = itCmd(c, "DUMP k");
    if (r->type != REDIS_REPLY_STRING) fail_msg("DUMP k: type %d", r->type);
    if (!trailerOk((const unsigned char *)r->str, r->len))
        fail_msg("recomputed CRC64 differs from the DUMP trailer");
    freeReplyObject(r);
    /* And the rebuilt uncompressed payload is byte for byte what Redis produced. */
    size_t len, blen;
    unsigned char *p = dumpPlain(c, "k", &len);
    assert_true(trailerOk(p, len));
    dumpParts d;
    splitDump(p, len, &d);
    unsigned char *b = buildDump(&d, d.data, d.dataLen, &blen);
    assert_int_equal(blen, len);
    assert_memory_equal(b, p, len);
    free(b);
    free(d.data);
    free(p);
}

/* ---- Round trips ---- */

static void test_debug_reload_keeps_the_table(void **state) {
    (void)state;
    populate(c, "k");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD other a.b channel:x"), 1);
    char *before = tableState(c, "k"), *cb = itTableCounters(c);
    itExpectOk(itCmd(c, "DEBUG RELOAD"));
    char *after = tableState(c, "k"), *ca = itTableCounters(c);
    expectSame(before, after, "DEBUG RELOAD");
    expectSame(cb, ca, "DEBUG RELOAD (INFO swarm counters)");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD k new.x channel:x"), 7);
    free(before);
    free(after);
    free(cb);
    free(ca);
}

static void test_save_and_restart_keeps_the_table(void **state) {
    (void)state;
    const char *extra[] = {"--save", "", NULL};
    itStart(&aux, NULL, extra);
    redisContext *a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    populate(a, "k");
    itExpectInt(itCmd(a, "SWARM.ROUTE ALLOW k2 .*"), 1);
    char *before = tableState(a, "k"), *cb = itTableCounters(a);
    itExpectOk(itCmd(a, "SAVE"));
    redisFree(a);
    itStop(&aux);
    itStartIn(&aux);
    a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    char *after = tableState(a, "k"), *ca = itTableCounters(a);
    expectSame(before, after, "SAVE and restart");
    expectSame(cb, ca, "SAVE and restart (INFO swarm counters)");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD k new.x channel:x"), 7);
    itExpectInt(itCmd(a, "SWARM.ROUTE ALLOW k2 .*"), 1);
    redisFree(a);
    free(before);
    free(after);
    free(cb);
    free(ca);
}

/* The server's current base AOF file (named in its manifest), read whole (malloc'ed). */
static unsigned char *readBaseAof(const itServer *s, size_t *len) {
    char path[600];
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.manifest", s->dir);
    size_t mlen;
    char *manifest = itReadFile(path, &mlen);
    /* Lines are "file <name> seq <n> type b|h|i"; the one base file has type b. */
    char name[256] = "";
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, " type b") && sscanf(line, "file %255s", name) == 1) break;
        name[0] = '\0';
    }
    free(manifest);
    if (!name[0]) fail_msg("no base file in %s", path);
    snprintf(path, sizeof(path), "%s/appendonlydir/%s", s->dir, name);
    return (unsigned char *)itReadFile(path, len);
}

static void aofRoundTrip(const char *preamble) {
    const char *extra[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", preamble, NULL};
    itStart(&aux, NULL, extra);
    redisContext *a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    itWaitAofRewrite(a, 10000); /* the one appendonly yes starts with */
    populate(a, "k");
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD gone a.b channel:x"), 1);
    itExpectInt(itCmd(a, "SWARM.ROUTE DEL gone 1"), 1);

    itAofRewrite(a, 10000);
    size_t len;
    unsigned char *base = readBaseAof(&aux, &len);
    if (strcmp(preamble, "no") == 0) {
        /* The type's aof_rewrite method wrote the table as one SWARM.RESTORE. */
        (void)findOnce(base, len, "SWARM.RESTORE");
        (void)findOnce(base, len, "swarm-rtb");
    } else if (len < 5 || memcmp(base, "REDIS", 5) != 0) {
        fail_msg("expected an RDB preamble in the base AOF");
    }
    free(base);

    /* Changes after the rewrite go to the incremental file and replay on top of it. */
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD k late.x channel:late"), 7);
    itExpectInt(itCmd(a, "SWARM.ROUTE DEL k 7"), 1);
    char *before = tableState(a, "k"), *cb = itTableCounters(a);
    redisFree(a);
    itStop(&aux);
    itStartIn(&aux);
    a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    char *after = tableState(a, "k"), *ca = itTableCounters(a);
    expectSame(before, after, "AOF rewrite and restart");
    expectSame(cb, ca, "AOF rewrite and restart (INFO swarm counters)");
    itExpectInt(itCmd(a, "EXISTS gone"), 0);
    itExpectInt(itCmd(a, "SWARM.ROUTE ADD k new.x channel:x"), 8);
    redisFree(a);
    free(before);
    free(after);
    free(cb);
    free(ca);
}

static void test_aof_rewrite_and_restart_keeps_the_table(void **state) {
    (void)state;
    aofRoundTrip("no");
}

static void test_aof_rewrite_with_rdb_preamble_and_restart_keeps_the_table(void **state) {
    (void)state;
    aofRoundTrip("yes");
}

static void test_copy_is_deep(void **state) {
    (void)state;
    populate(c, "a");
    char *a0 = tableState(c, "a");
    itExpectInt(itCmd(c, "COPY a b"), 1);
    char *b0 = tableState(c, "b");
    expectSame(a0, b0, "COPY (the copy)");
    /* Changes to the copy do not reach the original, and vice versa. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD b zqxjk.> channel:copy"), 7);
    itExpectInt(itCmd(c, "SWARM.ROUTE DEL b 3"), 1);
    itExpectOk(itCmd(c, "SWARM.ROUTE DEFAULT b NONE"));
    char *a1 = tableState(c, "a");
    expectSame(a0, a1, "a change to the COPY");
    char *b1 = tableState(c, "b");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD a zqxjk.> channel:orig"), 7);
    itExpectInt(itCmd(c, "DEL a"), 1);
    char *b2 = tableState(c, "b");
    expectSame(b1, b2, "DEL of the original");
    itExpectInt(itCmd(c, "EXISTS a"), 0);
    /* COPY onto an existing key needs REPLACE. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD x a.b channel:x"), 1);
    itExpectInt(itCmd(c, "COPY b x"), 0);
    itExpectInt(itCmd(c, "COPY b x REPLACE"), 1);
    char *x = tableState(c, "x");
    expectSame(b2, x, "COPY REPLACE");
    char *cs = itTableCounters(c);
    expectSame("tables=2 routes=8 rules=2", cs, "COPY (INFO swarm counters)");
    free(a0);
    free(b0);
    free(a1);
    free(b1);
    free(b2);
    free(x);
    free(cs);
}

static void test_rename_keeps_the_table(void **state) {
    (void)state;
    populate(c, "a");
    char *before = tableState(c, "a");
    itExpectOk(itCmd(c, "RENAME a b"));
    itExpectInt(itCmd(c, "EXISTS a"), 0);
    char *after = tableState(c, "b");
    expectSame(before, after, "RENAME");
    /* RENAME over another table replaces it. */
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD c a.b channel:x"), 1);
    itExpectOk(itCmd(c, "RENAME b c"));
    char *over = tableState(c, "c");
    expectSame(before, over, "RENAME over a table");
    char *cs = itTableCounters(c);
    expectSame("tables=1 routes=3 rules=2", cs, "RENAME (INFO swarm counters)");
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD c new.x channel:x"), 7);
    free(before);
    free(after);
    free(over);
    free(cs);
}

/* Whether the key arg no longer exists (reading it expires it when its time has come). */
static int keyGone(void *arg) {
    return itInteger(itCmd(c, "EXISTS %s", (const char *)arg)) == 0;
}

static void test_expire_removes_the_table(void **state) {
    (void)state;
    populate(c, "a");
    itExpectInt(itCmd(c, "EXPIRE a 100"), 1);
    long long ttl = itInteger(itCmd(c, "TTL a"));
    if (ttl < 90 || ttl > 100) fail_msg("TTL a: %lld", ttl);
    itExpectInt(itCmd(c, "PEXPIRE a 20"), 1);
    if (!itPoll(keyGone, "a", 5000)) fail_msg("'a' still exists 5 s after PEXPIRE a 20");
    char *cs = itTableCounters(c);
    expectSame("tables=0 routes=0 rules=0", cs, "expiry (INFO swarm counters)");
    free(cs);
}

static void test_dump_restore_round_trip(void **state) {
    (void)state;
    populate(c, "a");
    char *before = tableState(c, "a");
    redisReply *d = itCmd(c, "DUMP a");
    if (d->type != REDIS_REPLY_STRING) fail_msg("DUMP a: type %d", d->type);
    itExpectOk(itCmd(c, "RESTORE b 0 %b", d->str, d->len));
    char *after = tableState(c, "b");
    expectSame(before, after, "DUMP/RESTORE");
    itExpectError(itCmd(c, "RESTORE b 0 %b", d->str, d->len), "BUSYKEY", NULL);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD b more.x channel:x"), 7);
    itExpectOk(itCmd(c, "RESTORE b 0 %b REPLACE", d->str, d->len));
    char *replaced = tableState(c, "b");
    expectSame(before, replaced, "RESTORE REPLACE");
    /* With a TTL. */
    itExpectOk(itCmd(c, "RESTORE e 100000 %b", d->str, d->len));
    long long pttl = itInteger(itCmd(c, "PTTL e"));
    if (pttl <= 0 || pttl > 100000) fail_msg("PTTL e: %lld", pttl);
    freeReplyObject(d);
    char *cs = itTableCounters(c);
    expectSame("tables=3 routes=9 rules=6", cs, "RESTORE (INFO swarm counters)");
    free(before);
    free(after);
    free(replaced);
    free(cs);
}

/* ---- Corrupt payloads ---- */

typedef struct corruption {
    const char *what;
    unsigned char *data;
    size_t len;
} corruption;

/* Offsets in the table encoding of populate()'s "zq" table. */
#define OFF_VERSION 0
#define OFF_LASTID 1

static corruption *corruptions(const dumpParts *d, size_t *count) {
    static corruption list[16];
    size_t n = 0;
#define NEW(desc)                                                                                  \
    (list[n].what = (desc), list[n].len = d->dataLen, list[n].data = malloc(d->dataLen + 1),       \
     memcpy(list[n].data, d->data, d->dataLen), list[n].data)
    size_t pat = findOnce(d->data, d->dataLen, "zqxjk.*");
    size_t tgt = findOnce(d->data, d->dataLen, "channel:zq");
    size_t rule = findOnce(d->data, d->dataLen, "task\\.secret");
    unsigned char *p;

    p = NEW("format version 2");
    p[OFF_VERSION] = 2;
    n++;
    p = NEW("last id below the ids in use");
    memset(p + OFF_LASTID, 0, 8);
    p[OFF_LASTID] = 1;
    n++;
    p = NEW("a control byte in a subject pattern");
    p[pat + 2] = 0x01;
    n++;
    p = NEW("an invalid byte in a pattern token");
    p[pat + 6] = '#';
    n++;
    p = NEW("an unknown target kind");
    p[tgt] = 'x';
    n++;
    p = NEW("route kind 7");
    p[pat - 4 - 3] = 7; /* id | kind | pmin | pmax | u32 length | pattern */
    n++;
    p = NEW("priority 0");
    p[pat - 4 - 2] = 0;
    n++;
    p = NEW("priority min above max");
    p[pat - 4 - 2] = 9;
    p[pat - 4 - 1] = 3;
    n++;
    p = NEW("breaker state 9");
    p[tgt + strlen("channel:zq") + 5 * 8] = 9; /* target | 5 counters | breaker */
    n++;
    p = NEW("an invalid rule regex");
    p[rule + 4] = '('; /* task(.secret */
    n++;
    p = NEW("rule action 5");
    p[rule - 4 - 1] = 5; /* id | action | u32 length | regex */
    n++;
    p = NEW("a rule id out of order (equal to route 1)");
    p[rule - 4 - 1 - 8] = 1;
    n++;
    p = NEW("truncated by one byte");
    list[n].len--;
    n++;
    p = NEW("a trailing byte");
    p[d->dataLen] = 0;
    list[n].len++;
    n++;
    p = NEW("a route count one too high");
    {
        /* The u32 route count follows the default target: u32 length + bytes. */
        size_t dflt = findOnce(d->data, d->dataLen, "stream:dead");
        p[dflt + strlen("stream:dead")]++;
    }
    n++;
#undef NEW
    *count = n;
    return list;
}

static void test_restore_of_a_corrupt_dump_is_bad_data_format(void **state) {
    (void)state;
    populate(c, "k");
    size_t len;
    unsigned char *orig = dumpPlain(c, "k", &len);
    dumpParts d;
    splitDump(orig, len, &d);
    char *cb = itTableCounters(c);

    /* Control: a valid change (channel:zq -> channel:yq) with a recomputed CRC is accepted,
     * so the failures below come from the module's validation, not from Redis's checksum. */
    size_t blen;
    unsigned char *valid = malloc(d.dataLen);
    memcpy(valid, d.data, d.dataLen);
    valid[findOnce(valid, d.dataLen, "channel:zq") + 8] = 'y';
    unsigned char *b = buildDump(&d, valid, d.dataLen, &blen);
    itExpectOk(itCmd(c, "RESTORE ok 0 %b", b, blen));
    redisReply *r = itCmd(c, "SWARM.ROUTE MATCH ok zqxjk.a");
    char *got = itReplyRepr(r);
    freeReplyObject(r);
    if (strcmp(got, "[\"channel:yq\"]") != 0) fail_msg("modified RESTORE: MATCH gave %s", got);
    free(got);
    free(b);
    free(valid);
    itExpectInt(itCmd(c, "DEL ok"), 1);

    /* A flipped byte without a new CRC is Redis's own rejection. */
    orig[len - 12] ^= 0x20;
    itExpectError(itCmd(c, "RESTORE bad 0 %b", orig, len), "ERR",
                  "DUMP payload version or checksum are wrong");
    orig[len - 12] ^= 0x20;

    size_t n;
    corruption *list = corruptions(&d, &n);
    for (size_t i = 0; i < n; i++) {
        b = buildDump(&d, list[i].data, list[i].len, &blen);
        r = itCmd(c, "RESTORE bad 0 %b", b, blen);
        if (r->type != REDIS_REPLY_ERROR || strcmp(r->str, "ERR Bad data format") != 0)
            fail_msg("RESTORE with %s: expected 'ERR Bad data format', got type %d '%s'",
                     list[i].what, r->type, r->str ? r->str : "");
        freeReplyObject(r);
        itExpectStr(itCmd(c, "PING"), "PONG");
        itExpectInt(itCmd(c, "EXISTS bad"), 0);
        free(b);
    }
    char *ca = itTableCounters(c);
    expectSame(cb, ca, "rejected RESTOREs (INFO swarm counters)");
    for (size_t i = 0; i < n; i++) free(list[i].data);
    free(d.data);
    free(orig);
    free(cb);
    free(ca);
}

/* A table whose id clock was restored at its very end (year 9999 and the last sequence
 * number) issues no id that would go backwards: PUBLISH refuses, counted as rejected. */
static void test_publish_with_exhausted_id_clock_is_refused(void **state) {
    (void)state;
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD k ev.* channel:ev"), 1);
    size_t len;
    unsigned char *orig = dumpPlain(c, "k", &len);
    dumpParts d;
    splitDump(orig, len, &d);
    /* The serialized table: format byte, lastId, clockMs, clockSeq (little-endian). */
    unsigned char *t = malloc(d.dataLen);
    memcpy(t, d.data, d.dataLen);
    unsigned long long ms = 253402300799999ULL, seq = ~0ULL;
    for (int i = 0; i < 8; i++) {
        t[9 + i] = (unsigned char)(ms >> (8 * i));
        t[17 + i] = (unsigned char)(seq >> (8 * i));
    }
    itExpectOk(itCmd(c, "SWARM.RESTORE end swarm-rtb %b", t, d.dataLen));
    itExpectError(itPublish(c, "end", "ev.x", "{}", NULL), "ERR",
                  "message ids of this table are used up");
    redisReply *r = itCmd(c, "SWARM.ROUTE STATS end");
    assert_int_equal(itField(r, "rejected")->integer, 1);
    assert_int_equal(itField(r, "published")->integer, 0);
    freeReplyObject(r);
    free(t);
    free(d.data);
    free(orig);
}

static void test_swarm_restore_round_trip_and_errors(void **state) {
    (void)state;
    populate(c, "k");
    char *before = tableState(c, "k");
    size_t len;
    unsigned char *orig = dumpPlain(c, "k", &len);
    dumpParts d;
    splitDump(orig, len, &d);

    itExpectOk(itCmd(c, "SWARM.RESTORE r swarm-rtb %b", d.data, d.dataLen));
    char *after = tableState(c, "r");
    expectSame(before, after, "SWARM.RESTORE of the serialized table");
    itExpectError(itCmd(c, "SWARM.RESTORE r swarm-rtb %b", d.data, d.dataLen), "BUSYKEY",
                  "Target key name already exists");
    itExpectError(itCmd(c, "SWARM.RESTORE k swarm-rtb %b", d.data, d.dataLen), "BUSYKEY", NULL);
    itExpectInt(itCmd(c, "SWARM.ROUTE ADD r x.y channel:x"), 7);
    itExpectOk(itCmd(c, "SWARM.RESTORE r swarm-rtb %b REPLACE", d.data, d.dataLen));
    char *replaced = tableState(c, "r");
    expectSame(before, replaced, "SWARM.RESTORE REPLACE");
    itExpectOk(itCmd(c, "SET s v"));
    itExpectOk(itCmd(c, "SWARM.RESTORE s swarm-rtb %b REPLACE", d.data, d.dataLen));
    itExpectStr(itCmd(c, "TYPE s"), "swarm-rtb");

    char *cb = itTableCounters(c);
    itExpectError(itCmd(c, "SWARM.RESTORE g swarm-rtb garbage"), "ERR",
                  "unknown routing table format 103"); /* 'g' */
    itExpectError(itCmd(c, "SWARM.RESTORE g swarm-rtb %b", "", (size_t)0), "ERR",
                  "corrupt routing table: truncated routing table");
    itExpectError(itCmd(c, "SWARM.RESTORE g no-such-type %b", d.data, d.dataLen), "ERR",
                  "unknown type");
    itExpectError(itCmd(c, "SWARM.RESTORE g swarm-rtb %b FORCE", d.data, d.dataLen), "ERR",
                  "syntax error");
    itExpectError(itCmd(c, "SWARM.RESTORE g swarm-rtb"), "ERR", "wrong number of arguments");
    size_t n;
    corruption *list = corruptions(&d, &n);
    for (size_t i = 0; i < n; i++) {
        redisReply *r = itCmd(c, "SWARM.RESTORE g swarm-rtb %b", list[i].data, list[i].len);
        if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "ERR ", 4) != 0)
            fail_msg("SWARM.RESTORE with %s: expected an ERR error, got type %d '%s'", list[i].what,
                     r->type, r->str ? r->str : "");
        freeReplyObject(r);
        /* REPLACE with a corrupt payload must not destroy the existing value. */
        r = itCmd(c, "SWARM.RESTORE r swarm-rtb %b REPLACE", list[i].data, list[i].len);
        if (r->type != REDIS_REPLY_ERROR)
            fail_msg("SWARM.RESTORE REPLACE with %s was accepted", list[i].what);
        freeReplyObject(r);
        free(list[i].data);
    }
    itExpectInt(itCmd(c, "EXISTS g"), 0);
    char *still = tableState(c, "r");
    expectSame(before, still, "rejected SWARM.RESTORE ... REPLACE");
    char *ca = itTableCounters(c);
    expectSame(cb, ca, "rejected SWARM.RESTOREs (INFO swarm counters)");
    itExpectStr(itCmd(c, "PING"), "PONG");
    free(before);
    free(after);
    free(replaced);
    free(still);
    free(cb);
    free(ca);
    free(d.data);
    free(orig);
}

static void test_corrupt_rdb_file_is_refused_without_crashing(void **state) {
    (void)state;
    const char *extra[] = {"--save", "", "--rdbcompression", "no", NULL};
    itStart(&aux, NULL, extra);
    redisContext *a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    populate(a, "k");
    itExpectOk(itCmd(a, "SAVE"));
    redisFree(a);
    itStop(&aux);

    char path[400], logPath[400];
    snprintf(path, sizeof(path), "%s/dump.rdb", aux.dir);
    snprintf(logPath, sizeof(logPath), "%s/redis.log", aux.dir);
    size_t len;
    unsigned char *rdb = (unsigned char *)itReadFile(path, &len);
    if (len < 9 || memcmp(rdb, "REDIS", 5) != 0) fail_msg("%s is not an RDB file", path);
    if (!trailerOk(rdb, len)) fail_msg("recomputed CRC64 differs from the RDB file's");
    size_t pat = findOnce(rdb, len, "zqxjk.*");

    /* Control: a valid change (channel:zq -> channel:yq) with a fixed checksum loads. */
    rdb[findOnce(rdb, len, "channel:zq") + 8] = 'y';
    fixTrailer(rdb, len);
    itWriteFile(path, rdb, len);
    itStartIn(&aux);
    a = itConnectTimeout(&aux, REPLY_TIMEOUT_MS);
    redisReply *r = itCmd(a, "SWARM.ROUTE MATCH k zqxjk.a");
    char *got = itReplyRepr(r);
    freeReplyObject(r);
    if (strcmp(got, "[\"channel:yq\"]") != 0) fail_msg("edited RDB: MATCH gave %s", got);
    free(got);
    redisFree(a);
    itStop(&aux);

    /* An invalid byte in the pattern, with a correct file checksum. */
    size_t logLen;
    free(itReadFile(logPath, &logLen));
    rdb[pat + 1] = 0x01;
    fixTrailer(rdb, len);
    itWriteFile(path, rdb, len);
    int rc = itTryStart(&aux);
    if (rc == 0) fail_msg("the server started from an RDB file with a corrupt routing table");
    size_t n;
    unsigned char *log = (unsigned char *)itReadFile(logPath, &n);
    const char *run = (const char *)log + (logLen <= n ? logLen : 0);
    if (strstr(run, "swarm") == NULL)
        fail_msg("the log of the refused start does not mention swarm:\n%s", run);
    if (strstr(run, "crashed by signal") || strstr(run, "Guru Meditation") ||
        strstr(run, "STACK TRACE"))
        fail_msg("the server crashed on the corrupt RDB instead of refusing it:\n%s", run);
    free(log);
    free(rdb);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, itFixtureReconnect, testTeardown)
    const struct CMUnitTest tests[] = {
        T(test_crc64_matches_redis_and_dump_trailers),
        T(test_debug_reload_keeps_the_table),
        T(test_save_and_restart_keeps_the_table),
        T(test_aof_rewrite_and_restart_keeps_the_table),
        T(test_aof_rewrite_with_rdb_preamble_and_restart_keeps_the_table),
        T(test_copy_is_deep),
        T(test_rename_keeps_the_table),
        T(test_expire_removes_the_table),
        T(test_dump_restore_round_trip),
        T(test_restore_of_a_corrupt_dump_is_bad_data_format),
        T(test_swarm_restore_round_trip_and_errors),
        T(test_publish_with_exhausted_id_clock_is_refused),
        T(test_corrupt_rdb_file_is_refused_without_crashing),
    };
#undef T
    itFixture(&srv, &c, internalOpen, NULL);
    return cmocka_run_group_tests(tests, itFixtureSetup, groupTeardown);
}
