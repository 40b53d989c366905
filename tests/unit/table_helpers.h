/* table_helpers.h -- what the unit tests of the routing table's files (test_table.c,
 * test_resolve.c, test_breaker.c, test_table_codec.c, test_delta.c) share: building tables,
 * resolving, comparing tables, and writing the serialized form by hand from the layout
 * documented in table_codec.h, so a change to it has to be deliberate. Every helper fails
 * the running test on a surprise. */
#ifndef SWARM_TABLE_HELPERS_H
#define SWARM_TABLE_HELPERS_H

#include "unit_alloc.h"

#include <stdint.h>

#include "swarm/buf.h"
#include "swarm/resolve.h"
#include "swarm/table.h"

#define MAXT 256 /* swarm.max-type-bytes default */
#define FORMAT 1

/* swTargetCheck's message for a bad target. */
#define BADTARGET(s) "invalid target '" s "', expected channel:<name> or stream:<key>"

/* A resolution copied out of the table, to compare across changes. */
typedef struct resCopy {
    int admitted;
    uint64_t deny, allow;
    size_t n;
    uint64_t ids[64];
} resCopy;

#define SUBJ(t, p, tg) addRoute(t, p, tg, SW_ROUTE_SUBJECT, 1, 9)

#define REGEX(t, p, tg) addRoute(t, p, tg, SW_ROUTE_REGEX, 1, 9)

#define ALLOW(t, re) addRule(t, SW_RULE_ALLOW, re)

#define DENY(t, re) addRule(t, SW_RULE_DENY, re)

#define ROUTES(t, type, ...)                                                                       \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        expectResolveV(t, type, 1, 0, 0, sizeof(want_) / sizeof(want_[0]) - 1, want_ + 1);         \
    } while (0)

#define ROUTES_A(t, type, allow, ...)                                                              \
    do {                                                                                           \
        const uint64_t want_[] = {0, __VA_ARGS__};                                                 \
        expectResolveV(t, type, 1, 0, allow, sizeof(want_) / sizeof(want_[0]) - 1, want_ + 1);     \
    } while (0)

#define NO_ROUTES(t, type) expectResolveV(t, type, 1, 0, 0, 0, NULL)

swTable *newTable(void);

uint64_t addRoute(swTable *t, const char *pattern, const char *target, swRouteKind kind, int pmin,
                  int pmax);

uint64_t addRule(swTable *t, swRuleAction action, const char *regex);

/* Checks the type's syntax and resolves it; never NULL. */
const swResolution *resolve(swTable *t, const char *type);

void expectResolveV(swTable *t, const char *type, int admitted, uint64_t deny, uint64_t allow,
                    size_t n, const uint64_t *ids);

void resolveCopy(swTable *t, const char *type, resCopy *c);

void assertSameResolution(const resCopy *a, const resCopy *b);

void encode(const swTable *t, char **buf, size_t *len);

void assertSameBytes(const char *a, size_t alen, const char *b, size_t blen);

void assertTablesEqual(const swTable *a, const swTable *b);

void assertTableSane(swTable *t);

void putHeaderClock(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt, uint64_t clockMs,
                    uint64_t clockSeq);

void putHeader(swBuf *b, uint8_t version, uint64_t lastId, const char *deflt);

swTable *craftedTable(uint64_t lastId, uint64_t clockMs, uint64_t clockSeq);

void putRoute(swBuf *b, uint64_t id, uint8_t kind, uint8_t pmin, uint8_t pmax, const char *pattern,
              const char *target, uint8_t breaker);

void putRule(swBuf *b, uint64_t id, uint8_t action, const char *regex, uint64_t hits);

void expectCorrupt(const char *buf, size_t len, const char *msg, int prefix);

swTable *decodeOk(const char *buf, size_t len);

swTable *richTable(void);

#endif
