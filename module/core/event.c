/* event.c -- event type and subject pattern syntax (see event.h). */
#include "swarm/event.h"

int swEventTokenChar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == ':';
}

/* One scanner for both forms: wildcards are accepted only when 'pattern' is set. */
static swStatus check(const char *what, const char *s, size_t len, size_t maxlen, int pattern,
                      swError *err) {
    if (len == 0) return swErrorSet(err, SW_ERR_EVENTTYPE, 0, "%s is empty", what);
    if (len > maxlen) {
        return swErrorSet(err, SW_ERR_EVENTTYPE, maxlen, "%s is longer than %zu bytes", what,
                          maxlen);
    }
    size_t start = 0; /* first byte of the current token */
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') continue;
        size_t tlen = i - start;
        if (tlen == 0) {
            return swErrorSet(err, SW_ERR_EVENTTYPE, i, "%s has an empty token at byte %zu", what,
                              i);
        }
        if (tlen == 1 && (s[start] == '*' || s[start] == '>')) {
            if (!pattern) {
                return swErrorSet(err, SW_ERR_EVENTTYPE, start,
                                  "%s may not contain wildcard '%c' (byte %zu)", what, s[start],
                                  start);
            }
            if (s[start] == '>' && i != len) {
                return swErrorSet(err, SW_ERR_EVENTTYPE, start,
                                  "%s has '>' before its last token (byte %zu)", what, start);
            }
        } else {
            for (size_t j = start; j < i; j++) {
                unsigned char c = (unsigned char)s[j];
                if (!swEventTokenChar(c)) {
                    if (c == '*' || c == '>') {
                        return swErrorSet(err, SW_ERR_EVENTTYPE, j,
                                          "%s has wildcard '%c' inside a token (byte %zu)%s", what,
                                          c, j,
                                          pattern ? "; a wildcard must be a whole token" : "");
                    }
                    return swErrorSet(err, SW_ERR_EVENTTYPE, j,
                                      "%s has invalid byte 0x%02x at byte %zu; tokens allow "
                                      "A-Z a-z 0-9 _ - :",
                                      what, c, j);
                }
            }
        }
        start = i + 1;
    }
    return SW_OK;
}

swStatus swEventTypeCheck(const char *s, size_t len, size_t maxlen, swError *err) {
    return check("event type", s, len, maxlen, 0, err);
}

swStatus swPatternCheck(const char *s, size_t len, size_t maxlen, swError *err) {
    return check("pattern", s, len, maxlen, 1, err);
}
