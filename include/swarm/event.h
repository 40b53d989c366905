/* event.h -- event types and subject patterns.
 *
 *   event type   task.completed      tokens of [A-Za-z0-9_:-]+ joined by '.'
 *   pattern      task.* / task.>     '*' is exactly one token; '>' (last token only) is
 *                                    one or more tokens
 *
 * Both checks are pure functions over (bytes, length): they never allocate. */
#ifndef SWARM_EVENT_H
#define SWARM_EVENT_H

#include <stddef.h>

#include "swarm/status.h"

/* Message priorities: 1 (lowest) to 9, 5 when a publish names none. Routes accept a range
 * of them; breaker.h lets SW_PRIORITY_CRITICAL and above through an open breaker. */
#define SW_PRIORITY_MIN 1
#define SW_PRIORITY_DEFAULT 5
#define SW_PRIORITY_MAX 9

/* SW_OK when s[0..len) is a valid event type of at most maxlen bytes; otherwise
 * SW_ERR_EVENTTYPE with a message and the offending byte offset in err. */
swStatus swEventTypeCheck(const char *s, size_t len, size_t maxlen, swError *err);

/* As swEventTypeCheck, for a subject pattern (tokens may also be '*', the last may be '>'). */
swStatus swPatternCheck(const char *s, size_t len, size_t maxlen, swError *err);

/* 1 when byte c may appear in a token. */
int swEventTokenChar(unsigned char c);

#endif
