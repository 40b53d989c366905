/* json_oracle.h -- swJsonValidate against cJSON: the differential oracle shared by
 * tests/unit/test_json.c and tests/fuzz/fuzz_json.c.
 *
 * cJSON's verdict on buf[0..len) is "cJSON_ParseWithLengthOpts(buf, len, &end, 0) returns a
 * tree and only JSON whitespace follows end". When it differs from swJsonValidate's, the
 * classifier names which of the intended differences listed in include/swarm/json.h
 * explains it, checking the claim against the bytes rather than trusting the validator's
 * message alone, and answers JSON_UNEXPLAINED otherwise: that is a bug in one of the two.
 * When swJsonValidate rejects, the explanation is sought at its error offset (the first
 * byte it objects to); what cJSON makes of the rest does not matter once it accepted.
 *
 * jsonOracleCheckError checks the offset contract of json.h on its own: the input before
 * the offset is an acceptable beginning, and (but for unpaired surrogates and running out
 * of input) one more byte is not.
 *
 * Header-only (static inline) so the unit test and the fuzz target share one copy. */
#ifndef SWARM_JSON_ORACLE_H
#define SWARM_JSON_ORACLE_H

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "swarm/json.h"

/* cJSON_ParseWithLengthOpts's nesting limit (CJSON_NESTING_LIMIT in cJSON.c). */
#define JSON_ORACLE_CJSON_DEPTH 1000

typedef enum jsonOracleDiff {
    JSON_AGREE = 0,           /* same verdict */
    JSON_DIFF_CTRL_IN_STRING, /* 1. raw 0x00-0x1F in a string: cJSON accepts */
    JSON_DIFF_UTF8,           /* 2. invalid/truncated UTF-8 in a string: cJSON accepts */
    JSON_DIFF_UESCAPE_HEX,    /* 3. non-hex digit in \uXXXX: cJSON reads U+0000 */
    JSON_DIFF_NUMBER,         /* 4. leading zero, "1.", "-.5": cJSON's strtod accepts */
    JSON_DIFF_BOM,            /* 5. leading UTF-8 BOM: cJSON skips it */
    JSON_DIFF_CTRL_WS,        /* 6. 0x00-0x1F between tokens: cJSON skips it */
    JSON_DIFF_DEPTH_BELOW,    /* 7. maxdepth < depth <= 1000: cJSON accepts */
    JSON_DIFF_DEPTH_ABOVE,    /* 8. 1000 < depth <= maxdepth: cJSON rejects */
    JSON_UNEXPLAINED,         /* a bug in swJsonValidate (or in this oracle) */
} jsonOracleDiff;

static inline const char *jsonOracleDiffName(jsonOracleDiff d) {
    static const char *const names[] = {"agree",
                                        "control character in string",
                                        "invalid UTF-8",
                                        "non-hex \\u escape",
                                        "number",
                                        "byte order mark",
                                        "control byte as whitespace",
                                        "depth below cJSON's",
                                        "depth above cJSON's",
                                        "UNEXPLAINED"};
    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

static inline int jsonOracleIsWs(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int jsonOracleIsDigit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static inline int jsonOracleIsHex(unsigned char c) {
    return jsonOracleIsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The bytes cJSON's parse_number hands to strtod. */
static inline int jsonOracleIsNumChar(unsigned char c) {
    return jsonOracleIsDigit(c) || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.';
}

static inline int jsonOracleMsgIs(const swError *err, const char *msg) {
    return strcmp(err->msg, msg) == 0;
}

/* cJSON's verdict (see the top of the file). */
static inline int jsonOracleCjsonAccepts(const char *buf, size_t len) {
    const char *end = NULL;
    cJSON *item;
    size_t i;

    if (len == 0) return 0;
    item = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (item == NULL) return 0;
    cJSON_Delete(item);
    for (i = (size_t)(end - buf); i < len; i++) {
        if (!jsonOracleIsWs((unsigned char)buf[i])) return 0;
    }
    return 1;
}

/* Bracket depth of a valid text or of an acceptable beginning of one: the deepest level
 * reached and the level open at len. Strings are skipped, so brackets in them don't count. */
static inline void jsonOracleDepth(const char *buf, size_t len, long *maxDepth, long *endDepth) {
    long depth = 0, deepest = 0;
    int inString = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (inString) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                inString = 0;
            }
        } else if (c == '"') {
            inString = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    if (maxDepth != NULL) *maxDepth = deepest;
    if (endDepth != NULL) *endDepth = depth;
}

/* Whether s[0..n) is exactly a number of the RFC 8259 grammar. */
static inline int jsonOracleStrictNumber(const char *s, size_t n) {
    size_t i = 0;

    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && jsonOracleIsDigit((unsigned char)s[i])) i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i == n || !jsonOracleIsDigit((unsigned char)s[i])) return 0;
        while (i < n && jsonOracleIsDigit((unsigned char)s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i == n || !jsonOracleIsDigit((unsigned char)s[i])) return 0;
        while (i < n && jsonOracleIsDigit((unsigned char)s[i])) i++;
    }
    return i == n;
}

/* Whether the number token around off is one cJSON reads up to off at least (with strtod,
 * as parse_number does) although it is not an RFC number. */
static inline int jsonOracleLenientNumberAt(const char *buf, size_t len, size_t off) {
    size_t start = off, n = 0, used;
    char *tmp, *after;

    while (start > 0 && jsonOracleIsNumChar((unsigned char)buf[start - 1])) start--;
    if (start >= len) return 0;
    if (buf[start] != '-' && !jsonOracleIsDigit((unsigned char)buf[start])) return 0;
    while (start + n < len && jsonOracleIsNumChar((unsigned char)buf[start + n])) n++;
    tmp = malloc(n + 1);
    if (tmp == NULL) return 0;
    memcpy(tmp, buf + start, n);
    tmp[n] = '\0';
    (void)strtod(tmp, &after);
    used = (size_t)(after - tmp);
    free(tmp);
    if (used == 0) return 0;
    if (start + used < off) return 0; /* cJSON's number ends before the error */
    return !jsonOracleStrictNumber(buf + start, used);
}

static inline int jsonOracleEffectiveDepth(int maxdepth) {
    if (maxdepth < 0) return 0;
    return maxdepth > SW_JSON_MAX_DEPTH ? SW_JSON_MAX_DEPTH : maxdepth;
}

/* swJsonValidate rejected with err, cJSON accepted: which intended difference is it? */
static inline jsonOracleDiff jsonOracleExplainReject(const char *buf, size_t len, int maxdepth,
                                                     const swError *err) {
    size_t off = err->offset;
    int c = off < len ? (unsigned char)buf[off] : -1;
    size_t j;

    if (jsonOracleMsgIs(err, "control character in string") && c >= 0 && c < 0x20) {
        return JSON_DIFF_CTRL_IN_STRING;
    }
    if (jsonOracleMsgIs(err, "invalid UTF-8 byte") && c >= 0x80) return JSON_DIFF_UTF8;
    if (jsonOracleMsgIs(err, "truncated UTF-8 sequence") && c >= 0 &&
        (c < 0x80 || (c >= 0xC2 && c <= 0xF4))) {
        for (j = 1; j <= 3 && j <= off; j++) {
            unsigned char lead = (unsigned char)buf[off - j];
            if (lead >= 0xC2 && lead <= 0xF4) return JSON_DIFF_UTF8;
        }
        return JSON_UNEXPLAINED;
    }
    if (jsonOracleMsgIs(err, "invalid \\u escape") && c >= 0 &&
        !jsonOracleIsHex((unsigned char)c)) {
        for (j = 2; j <= 5 && j <= off; j++) {
            if (buf[off - j] == '\\' && buf[off - j + 1] == 'u') return JSON_DIFF_UESCAPE_HEX;
        }
        return JSON_UNEXPLAINED;
    }
    if (jsonOracleMsgIs(err, "invalid number") || jsonOracleMsgIs(err, "unexpected end of input")) {
        return jsonOracleLenientNumberAt(buf, len, off) ? JSON_DIFF_NUMBER : JSON_UNEXPLAINED;
    }
    if (jsonOracleMsgIs(err, "unexpected byte order mark") && off == 0 && len >= 5 &&
        memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        return JSON_DIFF_BOM;
    }
    if (strncmp(err->msg, "nesting deeper than ", 20) == 0) {
        long openBefore = 0;
        int limit = jsonOracleEffectiveDepth(maxdepth);
        jsonOracleDepth(buf, off, NULL, &openBefore);
        if (limit < JSON_ORACLE_CJSON_DEPTH && (c == '[' || c == '{') && openBefore == limit) {
            return JSON_DIFF_DEPTH_BELOW;
        }
        return JSON_UNEXPLAINED;
    }
    if (strncmp(err->msg, "expected ", 9) == 0 && c >= 0 && c <= 0x20 &&
        !jsonOracleIsWs((unsigned char)c)) {
        return JSON_DIFF_CTRL_WS;
    }
    return JSON_UNEXPLAINED;
}

/* Classifies the two verdicts; err is swJsonValidate's error when ours is not SW_OK. */
static inline jsonOracleDiff jsonOracleClassify(const char *buf, size_t len, int maxdepth,
                                                swStatus ours, const swError *err, int cjsonOk) {
    if ((ours == SW_OK) == (cjsonOk != 0)) return JSON_AGREE;
    if (ours != SW_OK) return jsonOracleExplainReject(buf, len, maxdepth, err);
    {
        long deepest = 0;
        jsonOracleDepth(buf, len, &deepest, NULL);
        if (deepest > JSON_ORACLE_CJSON_DEPTH) return JSON_DIFF_DEPTH_ABOVE;
    }
    return JSON_UNEXPLAINED;
}

/* Runs both and classifies; *ours and *err (both optional) receive swJsonValidate's result. */
static inline jsonOracleDiff jsonOracleRun(const char *buf, size_t len, int maxdepth,
                                           swStatus *ours, swError *err) {
    swError local;
    swStatus status;

    memset(&local, 0, sizeof(local));
    status = swJsonValidate(buf, len, maxdepth, &local);
    if (ours != NULL) *ours = status;
    if (err != NULL) *err = local;
    return jsonOracleClassify(buf, len, maxdepth, status, &local, jsonOracleCjsonAccepts(buf, len));
}

/* Checks the error contract of json.h for a rejected input; NULL when it holds, else what
 * is wrong. Also checks that swJsonScanValue agrees with swJsonValidate. */
static inline const char *jsonOracleCheckError(const char *buf, size_t len, int maxdepth,
                                               const swError *err) {
    swError prefixErr, scanErr;
    swStatus status;
    size_t off = err->offset, end = 0;
    int atEnd =
        jsonOracleMsgIs(err, "unexpected end of input") || jsonOracleMsgIs(err, "empty input");

    if (off > len) return "offset past the end of the input";
    if (err->msg[0] == '\0') return "empty message";
    if (atEnd && off != len) return "end-of-input error not at len";

    /* buf[0..off) must be an acceptable beginning. */
    status = swJsonValidate(buf, off, maxdepth, &prefixErr);
    if (status != SW_OK && !jsonOracleMsgIs(&prefixErr, "unexpected end of input") &&
        !jsonOracleMsgIs(&prefixErr, "empty input")) {
        return "the input before the error offset is already rejected";
    }
    /* ... and buf[0..off] must not, failing at off itself. */
    if (!atEnd && !jsonOracleMsgIs(err, "unpaired surrogate escape")) {
        status = swJsonValidate(buf, off + 1, maxdepth, &prefixErr);
        if (status == SW_OK || prefixErr.offset != off ||
            jsonOracleMsgIs(&prefixErr, "unexpected end of input")) {
            return "the byte at the error offset is not where the input goes wrong";
        }
    }

    /* swJsonScanValue fails the same way unless only trailing data was wrong. */
    status = swJsonScanValue(buf, len, 0, maxdepth, &end, &scanErr);
    if (jsonOracleMsgIs(err, "unexpected data after the JSON text")) {
        if (status != SW_OK || swJsonSkipWhitespace(buf, len, end) != off) {
            return "swJsonScanValue disagrees on where the value ends";
        }
    } else if (jsonOracleMsgIs(err, "empty input")) {
        if (status == SW_OK || !jsonOracleMsgIs(&scanErr, "unexpected end of input")) {
            return "swJsonScanValue accepts an empty input";
        }
    } else if (status == SW_OK || scanErr.offset != off || strcmp(scanErr.msg, err->msg) != 0) {
        return "swJsonScanValue reports a different error";
    }
    return NULL;
}

/* For an accepted input: swJsonScanValue must end where the trailing whitespace starts. */
static inline const char *jsonOracleCheckAccepted(const char *buf, size_t len, int maxdepth) {
    size_t end = 0, i;

    if (swJsonScanValue(buf, len, 0, maxdepth, &end, NULL) != SW_OK) {
        return "swJsonScanValue rejects an accepted text";
    }
    if (end == 0 || end > len || jsonOracleIsWs((unsigned char)buf[end - 1])) {
        return "swJsonScanValue ends at a wrong place";
    }
    for (i = end; i < len; i++) {
        if (!jsonOracleIsWs((unsigned char)buf[i])) return "swJsonScanValue ends too early";
    }
    return NULL;
}

#endif
