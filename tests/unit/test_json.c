/* test_json.c -- unit tests of the strict JSON validator (module/core/json.c).
 *
 * Every case asserts the status, the exact error message and offset, and how cJSON judges
 * the same bytes (tests/fuzz/json_oracle.h): every disagreement must be one of the intended
 * differences listed in include/swarm/json.h, and the corpus pins each one to an example.
 *
 * Unpaired surrogate escapes: the RFC 8259 grammar admits "\uD800" alone, but it names no
 * character. swJsonValidate rejects it ("unpaired surrogate escape", reported at the
 * backslash), as cJSON does, so both agree on every such case below and a payload accepted
 * at depth 128 can always be parsed by the cJSON-based code downstream. */
#include "unit_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/json.h"
#include "../fuzz/json_oracle.h"

#define DEPTH 128 /* the payload nesting limit */

#define EOI "unexpected end of input"
#define TRAILING "unexpected data after the JSON text"
#define VALUE "expected a JSON value"
#define CTRL "control character in string"
#define BADUTF8 "invalid UTF-8 byte"
#define TRUNCUTF8 "truncated UTF-8 sequence"
#define BADNUM "invalid number"
#define UNPAIRED "unpaired surrogate escape"
#define BOM "unexpected byte order mark"

static const char seedPayload[] = "{\"agent\":\"coder-1\",\"task\":\"t-42\",\"status\":\"done\","
                                  "\"confidence\":0.88,\"files\":[\"a.c\",\"b.c\"]}";

/* ---- Checking one case ---- */

typedef struct jsonCase {
    const char *text;
    size_t len;          /* texts may hold NUL bytes */
    size_t offset;       /* expected error offset */
    const char *msg;     /* expected error message; NULL: the text is valid */
    jsonOracleDiff diff; /* how cJSON's verdict relates to ours */
} jsonCase;

#define OK(s)                                                                                      \
    { s, sizeof(s) - 1, 0, NULL, JSON_AGREE }
#define BAD(s, off, m, d)                                                                          \
    { s, sizeof(s) - 1, off, m, d }

/* A printable rendering of an input for failure messages. */
static const char *showInput(const char *buf, size_t len) {
    static char out[512];
    size_t i, o = 0;

    for (i = 0; i < len && o + 8 < sizeof(out); i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02X", c);
        }
    }
    if (i < len) o += (size_t)snprintf(out + o, sizeof(out) - o, "...");
    out[o] = '\0';
    return out;
}

/* Validates with and without an error out-parameter, checks the expectation, the oracle's
 * classification and the error contract. */
static void checkText(const char *buf, size_t len, int maxdepth, size_t offset, const char *msg,
                      jsonOracleDiff diff) {
    swError err;
    swStatus status;
    jsonOracleDiff got;
    const char *broken;

    memset(&err, 0, sizeof(err));
    got = jsonOracleRun(buf, len, maxdepth, &status, &err);
    if (msg == NULL) {
        if (status != SW_OK) {
            fail_msg("rejected valid '%s' at %zu: %s", showInput(buf, len), err.offset, err.msg);
        }
        assert_int_equal(swJsonValidate(buf, len, maxdepth, NULL), SW_OK);
        broken = jsonOracleCheckAccepted(buf, len, maxdepth);
        if (broken != NULL) fail_msg("'%s': %s", showInput(buf, len), broken);
    } else {
        if (status != SW_ERR_PAYLOAD) fail_msg("accepted invalid '%s'", showInput(buf, len));
        if (err.offset != offset || strcmp(err.msg, msg) != 0) {
            fail_msg("'%s': got \"%s\" at %zu, want \"%s\" at %zu", showInput(buf, len), err.msg,
                     err.offset, msg, offset);
        }
        assert_int_equal(swJsonValidate(buf, len, maxdepth, NULL), SW_ERR_PAYLOAD);
        broken = jsonOracleCheckError(buf, len, maxdepth, &err);
        if (broken != NULL) fail_msg("'%s': %s", showInput(buf, len), broken);
    }
    if (got != diff) {
        fail_msg("'%s': cJSON comparison gives '%s', want '%s'", showInput(buf, len),
                 jsonOracleDiffName(got), jsonOracleDiffName(diff));
    }
}

static void checkCases(const jsonCase *cases, size_t n) {
    size_t i;

    for (i = 0; i < n; i++) {
        checkText(cases[i].text, cases[i].len, DEPTH, cases[i].offset, cases[i].msg, cases[i].diff);
    }
}

#define CHECK_CASES(cases) checkCases(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- Corpus ---- */

static void test_json_seed_payload(void **state) {
    size_t i;
    (void)state;

    checkText(seedPayload, sizeof(seedPayload) - 1, DEPTH, 0, NULL, JSON_AGREE);
    /* Every proper prefix is a truncated text. */
    checkText(seedPayload, 0, DEPTH, 0, "empty input", JSON_AGREE);
    for (i = 1; i < sizeof(seedPayload) - 1; i++)
        checkText(seedPayload, i, DEPTH, i, EOI, JSON_AGREE);
}

static void test_json_structure(void **state) {
    static const jsonCase cases[] = {
        OK("{}"),
        OK("[]"),
        OK("[[]]"),
        OK("[{}]"),
        OK("{\"a\":{\"b\":[1,{\"c\":null}]}}"),
        OK("{\"\":0}"),
        OK("{\"a\":1,\"a\":2}"), /* duplicate keys are valid JSON */
        OK(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \t\r\n"),
        OK("                                [                                1]       "),
        OK("\"top-level string\""),
        BAD("", 0, "empty input", JSON_AGREE),
        BAD(" \t\r\n", 4, "empty input", JSON_AGREE),
        BAD("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'", JSON_AGREE),
        BAD("{\"a\":1]", 6, "expected ',' or '}'", JSON_AGREE),
        BAD("[1 2]", 3, "expected ',' or ']'", JSON_AGREE),
        BAD("[1}", 2, "expected ',' or ']'", JSON_AGREE),
        BAD("{", 1, EOI, JSON_AGREE),
        BAD("[", 1, EOI, JSON_AGREE),
        BAD("[ ", 2, EOI, JSON_AGREE),
        BAD("[1", 2, EOI, JSON_AGREE),
        BAD("[1,", 3, EOI, JSON_AGREE),
        BAD("{\"a\"", 4, EOI, JSON_AGREE),
        BAD("{\"a\":", 5, EOI, JSON_AGREE),
        BAD("{\"a\":1", 6, EOI, JSON_AGREE),
        BAD("{\"a\":1, ", 8, EOI, JSON_AGREE),
        BAD("{1:2}", 1, "expected '\"' or '}'", JSON_AGREE),
        BAD("{\"a\":1,}", 7, "expected '\"'", JSON_AGREE),
        BAD("{\"a\":1,,}", 7, "expected '\"'", JSON_AGREE),
        BAD("{\"a\" 1}", 5, "expected ':'", JSON_AGREE),
        BAD("{\"a\",1}", 4, "expected ':'", JSON_AGREE),
        BAD("[1,]", 3, VALUE, JSON_AGREE),
        BAD("{\"a\":}", 5, VALUE, JSON_AGREE),
        BAD("[,1]", 1, "expected a JSON value or ']'", JSON_AGREE),
        BAD("[ \n ,1]", 4, "expected a JSON value or ']'", JSON_AGREE),
        BAD("]", 0, VALUE, JSON_AGREE),
        BAD("}", 0, VALUE, JSON_AGREE),
        BAD(":", 0, VALUE, JSON_AGREE),
        BAD("'a'", 0, VALUE, JSON_AGREE),
        BAD("\xC3\xA9", 0, VALUE, JSON_AGREE),
        BAD("[1,\xC3\xA9]", 3, VALUE, JSON_AGREE),
        BAD("[1]]", 3, TRAILING, JSON_AGREE),
        BAD("1 2", 2, TRAILING, JSON_AGREE),
        BAD("{} x", 3, TRAILING, JSON_AGREE),
        BAD("\"a\"\"b\"", 3, TRAILING, JSON_AGREE),
        BAD("[1] \n,", 5, TRAILING, JSON_AGREE),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_literals(void **state) {
    static const jsonCase cases[] = {
        OK("true"),
        OK("false"),
        OK("null"),
        OK(" [true,false,null] "),
        BAD("t", 1, EOI, JSON_AGREE),
        BAD("tru", 3, EOI, JSON_AGREE),
        BAD("fals", 4, EOI, JSON_AGREE),
        BAD("nul", 3, EOI, JSON_AGREE),
        BAD("trux", 3, "expected 'true'", JSON_AGREE),
        BAD("tRUE", 1, "expected 'true'", JSON_AGREE),
        BAD("falsy", 4, "expected 'false'", JSON_AGREE),
        BAD("nul1", 3, "expected 'null'", JSON_AGREE),
        BAD("[nan]", 2, "expected 'null'", JSON_AGREE),
        BAD("True", 0, VALUE, JSON_AGREE),
        BAD("NaN", 0, VALUE, JSON_AGREE),
        BAD("Infinity", 0, VALUE, JSON_AGREE),
        BAD("-Infinity", 1, BADNUM, JSON_AGREE),
        BAD("truee", 4, TRAILING, JSON_AGREE),
        BAD("[truefalse]", 5, "expected ',' or ']'", JSON_AGREE),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_numbers(void **state) {
    static const jsonCase cases[] = {
        OK("0"),
        OK("-0"),
        OK("1"),
        OK("-1"),
        OK("1234567890"),
        OK("0.5"),
        OK("-0.5"),
        OK("1e5"),
        OK("1E5"),
        OK("1e+5"),
        OK("1e-5"),
        OK("1.5E-10"),
        OK("-0e0"),
        OK("0E+00"),
        OK("1e999"),
        OK("-1e-999"),
        OK("[0,1,-0,0.0,10,1e01,2.50]"),
        OK("{\"a\":-12.5e+3}"),
        /* cJSON hands these to strtod, which is more lenient than RFC 8259. */
        BAD("01", 1, BADNUM, JSON_DIFF_NUMBER),
        BAD("00", 1, BADNUM, JSON_DIFF_NUMBER),
        BAD("-01", 2, BADNUM, JSON_DIFF_NUMBER),
        BAD("[01]", 2, BADNUM, JSON_DIFF_NUMBER),
        BAD("-00.5", 2, BADNUM, JSON_DIFF_NUMBER),
        BAD("1.", 2, EOI, JSON_DIFF_NUMBER),
        BAD("2. ", 2, BADNUM, JSON_DIFF_NUMBER),
        BAD("[1.]", 3, BADNUM, JSON_DIFF_NUMBER),
        BAD("1.e5", 2, BADNUM, JSON_DIFF_NUMBER),
        BAD("-.5", 1, BADNUM, JSON_DIFF_NUMBER),
        BAD("[-.5e3]", 2, BADNUM, JSON_DIFF_NUMBER),
        /* Both reject these. */
        BAD(".5", 0, VALUE, JSON_AGREE),
        BAD("+1", 0, VALUE, JSON_AGREE),
        BAD("-", 1, EOI, JSON_AGREE),
        BAD("[-]", 2, BADNUM, JSON_AGREE),
        BAD("- 1", 1, BADNUM, JSON_AGREE),
        BAD("--1", 1, BADNUM, JSON_AGREE),
        BAD("-x", 1, BADNUM, JSON_AGREE),
        BAD("1.x", 2, BADNUM, JSON_AGREE),
        BAD("1e", 2, EOI, JSON_AGREE),
        BAD("1e+", 3, EOI, JSON_AGREE),
        BAD("[1e]", 3, BADNUM, JSON_AGREE),
        BAD("[1E+]", 4, BADNUM, JSON_AGREE),
        BAD("[1e+-5]", 4, BADNUM, JSON_AGREE),
        BAD("1.5.3", 3, TRAILING, JSON_AGREE),
        BAD("0x10", 1, TRAILING, JSON_AGREE),
        BAD("[0x10]", 2, "expected ',' or ']'", JSON_AGREE),
        BAD("1-2", 1, TRAILING, JSON_AGREE),
        BAD("[1.5e3.2]", 6, "expected ',' or ']'", JSON_AGREE),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_long_number(void **state) {
    /* RFC 8259 sets no length limit; Debian's cJSON carries the CVE-2023-26819 fix and
     * parses it too (upstream 1.7.15 truncated numbers at 63 bytes). */
    char buf[2 + 300 + 20];
    size_t n = 0;
    (void)state;

    buf[n++] = '[';
    buf[n++] = '-';
    memset(buf + n, '7', 300);
    n += 300;
    memcpy(buf + n, ".25e-0001]", 10);
    n += 10;
    checkText(buf, n, DEPTH, 0, NULL, JSON_AGREE);
    buf[2] = '0'; /* now a leading zero */
    checkText(buf, n, DEPTH, 3, BADNUM, JSON_DIFF_NUMBER);
}

static void test_json_strings_and_escapes(void **state) {
    static const jsonCase cases[] = {
        OK("\"\""),
        OK("\"abc\""),
        OK("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""),
        OK("\"\\u0041\\u00e9\\uFFFF\\u0000\\uabcd\""),
        OK("\"\\uD83D\\uDE00\""),
        OK("\"\\ud83d\\ude00\""),
        OK("\"\\uD800\\uDC00\\uDBFF\\uDFFF\""),
        OK("\"\x7f\""), /* DEL needs no escape */
        OK("{\"\":\"\"}"),
        BAD("\"", 1, EOI, JSON_AGREE),
        BAD("\"abc", 4, EOI, JSON_AGREE),
        BAD("\"a\x01"
            "b\"",
            2, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("\"\x1f\"", 1, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("\"a\tb\"", 2, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("\"line\nbreak\"", 5, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("{\"k\x01\":1}", 3, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("\"\\x\"", 2, "invalid escape", JSON_AGREE),
        BAD("\"\\a\"", 2, "invalid escape", JSON_AGREE),
        BAD("\"\\'\"", 2, "invalid escape", JSON_AGREE),
        BAD("\"\\U0041\"", 2, "invalid escape", JSON_AGREE),
        BAD("{\"\\x\":1}", 3, "invalid escape", JSON_AGREE),
        BAD("\"\\", 2, EOI, JSON_AGREE),
        BAD("\"\\u00", 5, EOI, JSON_AGREE),
        BAD("\"\\u12\"", 5, "invalid \\u escape", JSON_AGREE),
        /* cJSON reads a \u escape with a non-hex digit as U+0000. */
        BAD("\"\\uZZZZ\"", 3, "invalid \\u escape", JSON_DIFF_UESCAPE_HEX),
        BAD("\"\\u00G0\"", 5, "invalid \\u escape", JSON_DIFF_UESCAPE_HEX),
        BAD("\"\\u1\\\"ab\"", 4, "invalid \\u escape", JSON_DIFF_UESCAPE_HEX),
        /* Unpaired surrogates: rejected, as cJSON does (see the top of the file). */
        BAD("\"\\uD800\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uDC00\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uDFFF\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"ab\\uD800\\u0041\"", 3, UNPAIRED, JSON_AGREE),
        BAD("\"\\uD800\\n\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uD800x\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uD800\\uD800\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uDC00\\uD800\"", 1, UNPAIRED, JSON_AGREE),
        BAD("\"\\uD800\\uE000\"", 1, UNPAIRED, JSON_AGREE),
        BAD("{\"\\uDBFF\\u0000\":1}", 2, UNPAIRED, JSON_AGREE),
        BAD("\"\\uD800", 7, EOI, JSON_AGREE),
        BAD("\"\\uD800\\", 8, EOI, JSON_AGREE),
        BAD("\"\\uD800\\uDC", 11, EOI, JSON_AGREE),
        BAD("\"\\uD800\\uZZZZ\"", 9, "invalid \\u escape", JSON_AGREE),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_utf8(void **state) {
    static const jsonCase cases[] = {
        OK("\"\xC2\x80\""),         /* U+0080 */
        OK("\"\xDF\xBF\""),         /* U+07FF */
        OK("\"\xE0\xA0\x80\""),     /* U+0800 */
        OK("\"\xED\x9F\xBF\""),     /* U+D7FF */
        OK("\"\xEE\x80\x80\""),     /* U+E000 */
        OK("\"\xEF\xBF\xBF\""),     /* U+FFFF */
        OK("\"\xF0\x90\x80\x80\""), /* U+10000 */
        OK("\"\xF4\x8F\xBF\xBF\""), /* U+10FFFF */
        OK("{\"caf\xC3\xA9\":\"\xE2\x82\xAC \xF0\x9F\x98\x80\"}"),
        /* Overlong forms. */
        BAD("\"\xC0\xAF\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xC1\xBF\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xE0\x80\xAF\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xE0\x9F\xBF\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF0\x80\x80\xAF\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF0\x8F\xBF\xBF\"", 2, BADUTF8, JSON_DIFF_UTF8),
        /* UTF-16 surrogates encoded in UTF-8 (CESU-8 in the last one). */
        BAD("\"\xED\xA0\x80\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xED\xBF\xBF\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xED\xA0\xBD\xED\xB8\x80\"", 2, BADUTF8, JSON_DIFF_UTF8),
        /* Above U+10FFFF, and lead bytes that never occur. */
        BAD("\"\xF4\x90\x80\x80\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF5\x80\x80\x80\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF7\xBF\xBF\xBF\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF8\x88\x80\x80\x80\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xFE\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xFF\"", 1, BADUTF8, JSON_DIFF_UTF8),
        /* A continuation byte alone. */
        BAD("\"\x80\"", 1, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"a\xBF"
            "b\"",
            2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xC3\xA9\xA9\"", 3, BADUTF8, JSON_DIFF_UTF8),
        /* Truncated at the end of the input, and before another byte. */
        BAD("\"\xC3", 2, EOI, JSON_AGREE),
        BAD("\"\xE2\x82", 3, EOI, JSON_AGREE),
        BAD("\"\xF0\x9F\x98", 4, EOI, JSON_AGREE),
        BAD("\"\xC3\"", 2, TRUNCUTF8, JSON_DIFF_UTF8),
        BAD("\"\xE2\x82\"", 3, TRUNCUTF8, JSON_DIFF_UTF8),
        BAD("\"\xF0\x9F\x98\"", 4, TRUNCUTF8, JSON_DIFF_UTF8),
        BAD("\"\xC3\xC3\xA9\"", 2, TRUNCUTF8, JSON_DIFF_UTF8),
        BAD("\"\xE2"
            "a\"",
            2, TRUNCUTF8, JSON_DIFF_UTF8),
        BAD("{\"k\xC3\":1}", 4, TRUNCUTF8, JSON_DIFF_UTF8),
        /* A byte that is never valid, where a continuation was due, is no truncation. */
        BAD("\"\xF1\xFF\x89\xBA\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xE0\xC0\x80\"", 2, BADUTF8, JSON_DIFF_UTF8),
        BAD("\"\xC2\xF5\"", 2, BADUTF8, JSON_DIFF_UTF8),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_nul_and_control_bytes(void **state) {
    static const jsonCase cases[] = {
        BAD("\"a\0b\"", 2, CTRL, JSON_DIFF_CTRL_IN_STRING),
        BAD("\0", 0, VALUE, JSON_AGREE),
        BAD("\x01", 0, VALUE, JSON_AGREE),
        BAD("[1]\0", 3, TRAILING, JSON_AGREE),
        BAD("[1] \0", 4, TRAILING, JSON_AGREE),
        BAD("[1]\x01", 3, TRAILING, JSON_AGREE),
        /* cJSON's whitespace is every byte <= 0x20. */
        BAD("\0[1]", 0, VALUE, JSON_DIFF_CTRL_WS),
        BAD("[1,\0 2]", 3, VALUE, JSON_DIFF_CTRL_WS),
        BAD("{\"a\"\0:1}", 4, "expected ':'", JSON_DIFF_CTRL_WS),
        BAD("{\0}", 1, "expected '\"' or '}'", JSON_DIFF_CTRL_WS),
        BAD("\x0b[1]", 0, VALUE, JSON_DIFF_CTRL_WS),
        BAD("[1\x0c]", 2, "expected ',' or ']'", JSON_DIFF_CTRL_WS),
    };
    (void)state;
    CHECK_CASES(cases);
}

static void test_json_byte_order_mark(void **state) {
    static const jsonCase cases[] = {
        BAD("\xEF\xBB\xBF[1]", 0, BOM, JSON_DIFF_BOM),
        BAD("\xEF\xBB\xBF"
            "12",
            0, BOM, JSON_DIFF_BOM),
        /* cJSON skips a BOM only when at least 5 bytes are given. */
        BAD("\xEF\xBB\xBF"
            "1",
            0, BOM, JSON_AGREE),
        BAD("\xEF\xBB\xBF", 0, BOM, JSON_AGREE),
        BAD(" \xEF\xBB\xBF[1]", 1, BOM, JSON_AGREE),
        BAD("[\xEF\xBB\xBF]", 1, BOM, JSON_AGREE),
        BAD("\xEF\xBB", 0, VALUE, JSON_AGREE),
    };
    (void)state;
    CHECK_CASES(cases);
}

/* ---- String scanning at every alignment ---- */

/* Every byte value at every position of a string body longer than one 8-byte word, so the
 * word-at-a-time scan meets it in every lane and in the byte-wise tail. */
static void test_json_string_every_byte_every_lane(void **state) {
    char buf[32];
    int b;
    size_t body = 19, k;
    (void)state;

    for (b = 0; b < 256; b++) {
        for (k = 0; k < body; k++) {
            size_t len = body + 2;
            memset(buf, 'a', sizeof(buf));
            buf[0] = '"';
            buf[1 + k] = (char)b;
            buf[len - 1] = '"';
            if (b == '"') {
                checkText(buf, len, DEPTH, k + 2, TRAILING, JSON_AGREE);
            } else if (b == '\\') {
                /* "\a" -- or "\"" when it escapes the closing quote. */
                if (k + 1 == body) {
                    checkText(buf, len, DEPTH, len, EOI, JSON_AGREE);
                } else {
                    checkText(buf, len, DEPTH, k + 2, "invalid escape", JSON_AGREE);
                }
            } else if (b < 0x20) {
                checkText(buf, len, DEPTH, k + 1, CTRL, JSON_DIFF_CTRL_IN_STRING);
            } else if (b < 0x80) {
                checkText(buf, len, DEPTH, 0, NULL, JSON_AGREE);
            } else if (b < 0xC2 || b > 0xF4) {
                checkText(buf, len, DEPTH, k + 1, BADUTF8, JSON_DIFF_UTF8);
            } else {
                checkText(buf, len, DEPTH, k + 2, TRUNCUTF8, JSON_DIFF_UTF8);
            }
        }
    }
    /* Unterminated strings of every length end in the byte-wise tail or the word loop. */
    for (k = 0; k < 20; k++) {
        memset(buf, 'a', sizeof(buf));
        buf[0] = '"';
        checkText(buf, k + 1, DEPTH, k + 1, EOI, JSON_AGREE);
    }
}

/* An independent UTF-8 decoder: valid iff every sequence decodes to a scalar value in its
 * shortest form. */
static int refUtf8Valid(const unsigned char *s, size_t n) {
    size_t i = 0;

    while (i < n) {
        unsigned long cp, min;
        size_t need, k;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + need >= n) return 0;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += need + 1;
    }
    return 1;
}

static int plainOrHigh(unsigned c) {
    return c >= 0x20 && c != '"' && c != '\\';
}

/* The body alone in a string, so the last bytes go through the byte-wise checks, and then
 * padded with spaces, so they go through the four-bytes-at-a-time path too. */
static void checkUtf8Body(const unsigned char *body, size_t n) {
    char buf[16];
    swError err;
    swStatus status;
    size_t pad;

    for (pad = 0; pad <= 4; pad += 4) {
        size_t len = n + pad + 2;
        buf[0] = '"';
        memcpy(buf + 1, body, n);
        memset(buf + 1 + n, ' ', pad);
        buf[len - 1] = '"';
        status = swJsonValidate(buf, len, DEPTH, &err);
        if ((status == SW_OK) != refUtf8Valid(body, n)) {
            fail_msg("'%s': validator says %s, reference says %s", showInput(buf, len),
                     status == SW_OK ? "valid" : err.msg, status == SW_OK ? "invalid" : "valid");
        }
    }
}

/* Exhaustive over all 1-, 2- and 3-byte string bodies made of bytes that a string may hold
 * raw, and over 4-byte bodies with the interesting final bytes. */
static void test_json_utf8_exhaustive(void **state) {
    static const unsigned char lastBytes[] = {0x41, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xF4};
    unsigned char s[4];
    unsigned a, b, c, d;
    (void)state;

    for (a = 0x20; a < 0x100; a++) {
        if (!plainOrHigh(a)) continue;
        s[0] = (unsigned char)a;
        checkUtf8Body(s, 1);
        for (b = 0x20; b < 0x100; b++) {
            if (!plainOrHigh(b)) continue;
            s[1] = (unsigned char)b;
            checkUtf8Body(s, 2);
            if (a < 0xC0) continue; /* a 3-byte body only matters with a lead byte first */
            for (c = 0x20; c < 0x100; c++) {
                if (!plainOrHigh(c)) continue;
                s[2] = (unsigned char)c;
                checkUtf8Body(s, 3);
                if (a < 0xF0 || a > 0xF7 || b < 0x80 || c < 0x80) continue;
                for (d = 0; d < sizeof(lastBytes); d++) {
                    s[3] = lastBytes[d];
                    checkUtf8Body(s, 4);
                }
            }
        }
    }
}

/* ---- Nesting ---- */

/* depth levels of arrays ("[[1]]") or of objects ({"a":{"a":1}}) around a 1. */
static char *nested(int depth, int objects, size_t *len) {
    size_t open = objects ? 5 : 1, n = 0;
    char *buf = malloc((size_t)depth * (open + 1) + 1);
    int i;

    assert_non_null(buf);
    for (i = 0; i < depth; i++) {
        memcpy(buf + n, objects ? "{\"a\":" : "[", open);
        n += open;
    }
    buf[n++] = '1';
    memset(buf + n, objects ? '}' : ']', (size_t)depth);
    *len = n + (size_t)depth;
    return buf;
}

static void checkNested(int depth, int objects, int maxdepth, int accepted, jsonOracleDiff diff) {
    size_t len;
    char *buf = nested(depth, objects, &len);
    char msg[64];
    int limit = jsonOracleEffectiveDepth(maxdepth);

    snprintf(msg, sizeof(msg), "nesting deeper than %d", limit);
    checkText(buf, len, maxdepth, (size_t)limit * (objects ? 5 : 1), accepted ? NULL : msg, diff);
    free(buf);
}

static void test_json_depth_128(void **state) {
    (void)state;
    checkNested(128, 0, DEPTH, 1, JSON_AGREE);
    checkNested(128, 1, DEPTH, 1, JSON_AGREE);
    /* cJSON's own limit is 1000. */
    checkNested(129, 0, DEPTH, 0, JSON_DIFF_DEPTH_BELOW);
    checkNested(129, 1, DEPTH, 0, JSON_DIFF_DEPTH_BELOW);
    checkNested(500, 0, DEPTH, 0, JSON_DIFF_DEPTH_BELOW);
}

static void test_json_depth_limits(void **state) {
    (void)state;
    /* maxdepth 0 (and below) admits scalars only. */
    checkText("1", 1, 0, 0, NULL, JSON_AGREE);
    checkText("[]", 2, 0, 0, "nesting deeper than 0", JSON_DIFF_DEPTH_BELOW);
    checkText("{}", 2, -5, 0, "nesting deeper than 0", JSON_DIFF_DEPTH_BELOW);
    checkText("[]", 2, 1, 0, NULL, JSON_AGREE);
    checkText("[[]]", 4, 1, 1, "nesting deeper than 1", JSON_DIFF_DEPTH_BELOW);
    /* At cJSON's limit both agree. */
    checkNested(1000, 0, 1000, 1, JSON_AGREE);
    checkNested(1001, 0, 1000, 0, JSON_AGREE);
    /* Above it, up to the hard cap, only swJsonValidate accepts. */
    checkNested(1001, 0, SW_JSON_MAX_DEPTH, 1, JSON_DIFF_DEPTH_ABOVE);
    checkNested(SW_JSON_MAX_DEPTH, 1, SW_JSON_MAX_DEPTH, 1, JSON_DIFF_DEPTH_ABOVE);
    checkNested(SW_JSON_MAX_DEPTH + 1, 0, SW_JSON_MAX_DEPTH, 0, JSON_AGREE);
    /* Larger limits are the hard cap. */
    checkNested(SW_JSON_MAX_DEPTH, 0, 1 << 30, 1, JSON_DIFF_DEPTH_ABOVE);
    checkNested(SW_JSON_MAX_DEPTH + 1, 0, 1 << 30, 0, JSON_AGREE);
}

static uint64_t rngNext(uint64_t *s) {
    /* xorshift64*: deterministic, so every run tests the same inputs */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Appends a chain of depth levels whose kinds follow rng, each closed with a sibling after
 * the nested child, so a wrong bit anywhere in the bit-stack is a syntax error. */
static size_t chain(char *buf, size_t n, int depth, uint64_t *rng) {
    char kinds[SW_JSON_MAX_DEPTH];
    int i;

    for (i = 0; i < depth; i++) {
        kinds[i] = (char)(rngNext(rng) >> 63);
        memcpy(buf + n, kinds[i] ? "{\"k\":" : "[", kinds[i] ? 5 : 1);
        n += kinds[i] ? 5 : 1;
    }
    buf[n++] = '0';
    for (i = depth - 1; i >= 0; i--) {
        memcpy(buf + n, kinds[i] ? ",\"z\":1}" : ",1]", kinds[i] ? 7 : 3);
        n += kinds[i] ? 7 : 3;
    }
    return n;
}

static void test_json_bitstack_word_boundaries(void **state) {
    static const int depths[] = {1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 500, 1000, 1024};
    size_t i, cap = 2 * 12 * SW_JSON_MAX_DEPTH + 16;
    char *buf = malloc(cap);
    uint64_t rng = 42;
    (void)state;

    assert_non_null(buf);
    for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        int d = depths[i], r;
        for (r = 0; r < 8; r++) {
            size_t n = chain(buf, 0, d, &rng);
            checkText(buf, n, SW_JSON_MAX_DEPTH, 0, NULL,
                      d > JSON_ORACLE_CJSON_DEPTH ? JSON_DIFF_DEPTH_ABOVE : JSON_AGREE);
            /* Two deep siblings in one array: the second reuses stack words. */
            if (d < SW_JSON_MAX_DEPTH) {
                n = 0;
                buf[n++] = '[';
                n = chain(buf, n, d, &rng);
                buf[n++] = ',';
                n = chain(buf, n, d, &rng);
                buf[n++] = ']';
                checkText(buf, n, SW_JSON_MAX_DEPTH, 0, NULL,
                          d + 1 > JSON_ORACLE_CJSON_DEPTH ? JSON_DIFF_DEPTH_ABOVE : JSON_AGREE);
            }
        }
    }
    free(buf);
}

/* ---- The other entry points ---- */

static void test_json_scan_value(void **state) {
    static const char doc[] = "{\"k\":[1,{\"x\":null}],\"b\":true}";
    swError err;
    size_t end = 99, pos;
    (void)state;

    assert_int_equal(swJsonScanValue("[1] x", 5, 0, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 3);
    assert_int_equal(swJsonScanValue("1]", 2, 0, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 1);
    assert_int_equal(swJsonScanValue(" \"a\" , 1", 8, 0, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 4);
    assert_int_equal(swJsonScanValue(" \"a\" , 1", 8, 6, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 8);

    /* Walking the members of a validated object without a tree. */
    assert_int_equal(swJsonValidate(doc, sizeof(doc) - 1, DEPTH, &err), SW_OK);
    pos = 1;
    assert_int_equal(swJsonScanValue(doc, sizeof(doc) - 1, pos, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 4); /* "k" */
    pos = end + 1;
    assert_int_equal(swJsonScanValue(doc, sizeof(doc) - 1, pos, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 19); /* [1,{"x":null}] */
    pos = end + 1;
    assert_int_equal(swJsonScanValue(doc, sizeof(doc) - 1, pos, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 23); /* "b" */
    assert_int_equal(swJsonScanValue(doc, sizeof(doc) - 1, end + 1, DEPTH, &end, &err), SW_OK);
    assert_int_equal(end, 28); /* true */

    /* Errors: offsets count from buf; *end is left alone; whitespace only is a truncation. */
    end = 99;
    assert_int_equal(swJsonScanValue("xx[1,]", 6, 2, DEPTH, &end, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, 5);
    assert_string_equal(err.msg, VALUE);
    assert_int_equal(end, 99);
    assert_int_equal(swJsonScanValue("[1]   ", 6, 3, DEPTH, &end, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, 6);
    assert_string_equal(err.msg, EOI);
    assert_int_equal(swJsonScanValue("[1]", 3, 3, DEPTH, &end, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, 3);
    assert_string_equal(err.msg, EOI);
    assert_int_equal(swJsonScanValue(NULL, 0, 0, DEPTH, &end, NULL), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonScanValue("[[1]]", 5, 0, 1, &end, &err), SW_ERR_PAYLOAD);
    assert_string_equal(err.msg, "nesting deeper than 1");
    assert_int_equal(end, 99);
}

static void test_json_skip_whitespace(void **state) {
    (void)state;
    assert_int_equal(swJsonSkipWhitespace(" \t\r\nx", 5, 0), 4);
    assert_int_equal(swJsonSkipWhitespace(" \t\r\nx", 5, 4), 4);
    assert_int_equal(swJsonSkipWhitespace("x   ", 4, 1), 4);
    assert_int_equal(swJsonSkipWhitespace("                    y", 21, 0), 20);
    assert_int_equal(swJsonSkipWhitespace("\x0b", 1, 0), 0); /* not JSON whitespace */
    assert_int_equal(swJsonSkipWhitespace("\0", 1, 0), 0);
    assert_int_equal(swJsonSkipWhitespace("ab", 2, 5), 2);
    assert_int_equal(swJsonSkipWhitespace(NULL, 0, 0), 0);
}

static void test_json_null_arguments(void **state) {
    swError err;
    (void)state;

    assert_int_equal(swJsonValidate(NULL, 0, DEPTH, &err), SW_ERR_PAYLOAD);
    assert_int_equal(err.offset, 0);
    assert_string_equal(err.msg, "empty input");
    assert_int_equal(swJsonValidate(NULL, 0, DEPTH, NULL), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonValidate("{\"a\":", 5, DEPTH, NULL), SW_ERR_PAYLOAD);
    assert_int_equal(swJsonValidate("{}", 2, DEPTH, NULL), SW_OK);
}

/* The validator never allocates: not even one attempt reaches the allocator table. */
static void test_json_allocates_nothing(void **state) {
    static const char bad[] = "{\"a\":[1,2,\"\xC3\"]}";
    (void)state;

    unitAllocFailAfter(0);
    assert_int_equal(swJsonValidate(seedPayload, sizeof(seedPayload) - 1, DEPTH, NULL), SW_OK);
    assert_int_equal(swJsonValidate(bad, sizeof(bad) - 1, DEPTH, NULL), SW_ERR_PAYLOAD);
    assert_int_equal(unitAllocCount(), 0);
    unitAllocFailAfter(-1);
}

/* ---- Differential against cJSON ---- */

typedef struct genBuf {
    char *p;
    size_t len, cap;
    uint64_t rng;
} genBuf;

static unsigned genBelow(genBuf *g, unsigned n) {
    return (unsigned)(rngNext(&g->rng) >> 33) % n;
}

static void genPut(genBuf *g, const char *s, size_t n) {
    if (g->len + n > g->cap) {
        g->cap = (g->len + n) * 2;
        g->p = realloc(g->p, g->cap);
        assert_non_null(g->p);
    }
    memcpy(g->p + g->len, s, n);
    g->len += n;
}

static void genStr(genBuf *g, const char *s) {
    genPut(g, s, strlen(s));
}

static void genWs(genBuf *g) {
    static const char ws[] = " \t\n\r";
    while (genBelow(g, 4) == 0) genPut(g, &ws[genBelow(g, 4)], 1);
}

/* cp >= 0x80 as UTF-8. */
static void genUtf8(genBuf *g, unsigned long cp) {
    char b[4];
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;
    static const unsigned char leads[] = {0, 0, 0xC0, 0xE0, 0xF0};

    for (i = n - 1; i > 0; i--) {
        b[i] = (char)(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    b[0] = (char)(leads[n] | cp);
    genPut(g, b, n);
}

static void genString(genBuf *g) {
    static const char *const escapes[] = {"\\\"", "\\\\", "\\/", "\\b",     "\\f",
                                          "\\n",  "\\r",  "\\t", "\\u00e9", "\\uD83D\\uDE00"};
    unsigned n = genBelow(g, 4) == 0 ? genBelow(g, 40) : genBelow(g, 8), i;
    char hex[8];

    genPut(g, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned long cp;
        switch (genBelow(g, 12)) {
        case 0:
            genStr(g, escapes[genBelow(g, sizeof(escapes) / sizeof(escapes[0]))]);
            break;
        case 1:
            do cp = genBelow(g, 0x10000);
            while (cp >= 0xD800 && cp <= 0xDFFF);
            snprintf(hex, sizeof(hex), "\\u%04lX", cp);
            genPut(g, hex, 6);
            break;
        case 2:
            genUtf8(g, 0x80 + genBelow(g, 0x780));
            break;
        case 3:
            do cp = 0x800 + genBelow(g, 0xF800);
            while (cp >= 0xD800 && cp <= 0xDFFF);
            genUtf8(g, cp);
            break;
        case 4:
            genUtf8(g, 0x10000 + genBelow(g, 0x100000));
            break;
        default: {
            char c = (char)(0x20 + genBelow(g, 0x5F));
            if (c == '"' || c == '\\') c = 'q';
            genPut(g, &c, 1);
        }
        }
    }
    genPut(g, "\"", 1);
}

static void genDigits(genBuf *g, unsigned n) {
    while (n-- > 0) {
        char c = (char)('0' + genBelow(g, 10));
        genPut(g, &c, 1);
    }
}

static void genNumber(genBuf *g) {
    char c;
    if (genBelow(g, 3) == 0) genPut(g, "-", 1);
    if (genBelow(g, 4) == 0) {
        genPut(g, "0", 1);
    } else {
        c = (char)('1' + genBelow(g, 9));
        genPut(g, &c, 1);
        genDigits(g, genBelow(g, 8) == 0 ? genBelow(g, 90) : genBelow(g, 5));
    }
    if (genBelow(g, 3) == 0) {
        genPut(g, ".", 1);
        genDigits(g, 1 + genBelow(g, 6));
    }
    if (genBelow(g, 4) == 0) {
        genPut(g, genBelow(g, 2) ? "e" : "E", 1);
        if (genBelow(g, 2)) genPut(g, genBelow(g, 2) ? "+" : "-", 1);
        genDigits(g, 1 + genBelow(g, 3));
    }
}

static void genValue(genBuf *g, int depth) {
    unsigned i, n, kind = genBelow(g, depth > 6 ? 6 : 8);

    genWs(g);
    switch (kind) {
    case 0:
        genStr(g, genBelow(g, 2) ? "true" : "false");
        break;
    case 1:
        genStr(g, "null");
        break;
    case 2:
    case 3:
        genNumber(g);
        break;
    case 4:
    case 5:
        genString(g);
        break;
    case 6:
        genPut(g, "[", 1);
        n = genBelow(g, 5);
        for (i = 0; i < n; i++) {
            if (i) genPut(g, ",", 1);
            genValue(g, depth + 1);
        }
        genWs(g);
        genPut(g, "]", 1);
        break;
    default:
        genPut(g, "{", 1);
        n = genBelow(g, 5);
        for (i = 0; i < n; i++) {
            if (i) genPut(g, ",", 1);
            genWs(g);
            genString(g);
            genWs(g);
            genPut(g, ":", 1);
            genValue(g, depth + 1);
        }
        genWs(g);
        genPut(g, "}", 1);
        break;
    }
    genWs(g);
}

/* One random edit: the bytes that matter to a JSON lexer are favoured. */
static void mutate(genBuf *g) {
    static const unsigned char interesting[] = {
        0x00, 0x01, 0x0B, 0x1F, ' ',  '"',  '\\', '/',  '0',  '1',  '.',  'e',  'E',
        '+',  '-',  'u',  'D',  'x',  '[',  ']',  '{',  '}',  ',',  ':',  't',  'n',
        0x7F, 0x80, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    size_t at = g->len ? genBelow(g, (unsigned)g->len) : 0;
    unsigned char c = genBelow(g, 3) ? interesting[genBelow(g, sizeof(interesting))]
                                     : (unsigned char)genBelow(g, 256);
    unsigned op = genBelow(g, 25);

    if (op < 6) { /* overwrite */
        if (g->len) g->p[at] = (char)c;
    } else if (op < 12) { /* insert */
        genPut(g, " ", 1);
        memmove(g->p + at + 1, g->p + at, g->len - 1 - at);
        g->p[at] = (char)c;
    } else if (op < 17) { /* delete */
        if (g->len) {
            memmove(g->p + at, g->p + at + 1, g->len - at - 1);
            g->len--;
        }
    } else if (op < 20) { /* truncate */
        g->len = at;
    } else if (op < 24) { /* duplicate a slice at the end */
        size_t n = g->len - at < 16 ? g->len - at : 16;
        char tmp[16];
        memcpy(tmp, g->p + at, n);
        genPut(g, tmp, n);
    } else { /* a byte order mark in front */
        genPut(g, "   ", 3);
        memmove(g->p + 3, g->p, g->len - 3);
        memcpy(g->p, "\xEF\xBB\xBF", 3);
    }
}

static void checkDifferential(const char *buf, size_t len, unsigned long *seen) {
    swError err;
    swStatus status;
    jsonOracleDiff d = jsonOracleRun(buf, len, DEPTH, &status, &err);
    const char *broken = status == SW_OK ? jsonOracleCheckAccepted(buf, len, DEPTH)
                                         : jsonOracleCheckError(buf, len, DEPTH, &err);

    if (d == JSON_UNEXPLAINED) {
        fail_msg("'%s': unexplained disagreement with cJSON (ours: %s at %zu)", showInput(buf, len),
                 status == SW_OK ? "accepted" : err.msg, err.offset);
    }
    if (broken != NULL)
        fail_msg("'%s': %s (%s at %zu)", showInput(buf, len), broken, err.msg, err.offset);
    seen[d]++;
}

static void test_json_differential_generated(void **state) {
    genBuf g = {NULL, 0, 0, UINT64_C(0x5EED5EED12345678)};
    genBuf mutant = {NULL, 0, 0, UINT64_C(0x0123456789ABCDEF)};
    unsigned long seen[JSON_UNEXPLAINED + 1] = {0};
    unsigned long rejected = 0;
    int i, m, edits;
    (void)state;

    for (i = 0; i < 4000; i++) {
        swError err;
        g.len = 0;
        genValue(&g, 0);
        /* The generator only writes valid JSON; both must accept it. */
        if (swJsonValidate(g.p, g.len, DEPTH, &err) != SW_OK) {
            fail_msg("'%s': generated text rejected at %zu: %s", showInput(g.p, g.len), err.offset,
                     err.msg);
        }
        assert_int_equal(jsonOracleCjsonAccepts(g.p, g.len), 1);
        checkDifferential(g.p, g.len, seen);
        for (m = 0; m < 3; m++) {
            mutant.len = 0;
            genPut(&mutant, g.p, g.len);
            for (edits = 1 + (int)genBelow(&mutant, 3); edits > 0; edits--) mutate(&mutant);
            checkDifferential(mutant.p, mutant.len, seen);
            rejected += swJsonValidate(mutant.p, mutant.len, DEPTH, NULL) != SW_OK;
        }
    }
    print_message("differential: %lu agree, %lu ctrl-in-string, %lu utf8, %lu \\u-hex, "
                  "%lu number, %lu bom, %lu ctrl-ws, %lu depth; %lu mutants rejected\n",
                  seen[JSON_AGREE], seen[JSON_DIFF_CTRL_IN_STRING], seen[JSON_DIFF_UTF8],
                  seen[JSON_DIFF_UESCAPE_HEX], seen[JSON_DIFF_NUMBER], seen[JSON_DIFF_BOM],
                  seen[JSON_DIFF_CTRL_WS], seen[JSON_DIFF_DEPTH_BELOW], rejected);
    /* The mutator reaches the documented differences, not just agreement. */
    assert_true(seen[JSON_DIFF_CTRL_IN_STRING] > 0);
    assert_true(seen[JSON_DIFF_UTF8] > 0);
    assert_true(seen[JSON_DIFF_NUMBER] > 0);
    assert_true(seen[JSON_DIFF_BOM] > 0);
    assert_true(seen[JSON_DIFF_CTRL_WS] > 0);
    assert_true(rejected > 1000);
    free(g.p);
    free(mutant.p);
}

/* All inputs of one and two bytes, and of three bytes over the bytes a lexer cares about. */
static void test_json_differential_short_inputs(void **state) {
    static const char alphabet[] = " \t\n\"\\/[]{},:-+.0123456789eEtrufalsn\x01\x7f\x80\xc3\xef";
    unsigned long seen[JSON_UNEXPLAINED + 1] = {0};
    char buf[3];
    unsigned a, b, c, n = sizeof(alphabet) - 1;
    (void)state;

    for (a = 0; a < 256; a++) {
        buf[0] = (char)a;
        checkDifferential(buf, 1, seen);
        for (b = 0; b < 256; b++) {
            buf[1] = (char)b;
            checkDifferential(buf, 2, seen);
        }
    }
    for (a = 0; a < n; a++) {
        for (b = 0; b < n; b++) {
            for (c = 0; c < n; c++) {
                buf[0] = alphabet[a], buf[1] = alphabet[b], buf[2] = alphabet[c];
                checkDifferential(buf, 3, seen);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_seed_payload),
        cmocka_unit_test(test_json_structure),
        cmocka_unit_test(test_json_literals),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_long_number),
        cmocka_unit_test(test_json_strings_and_escapes),
        cmocka_unit_test(test_json_utf8),
        cmocka_unit_test(test_json_nul_and_control_bytes),
        cmocka_unit_test(test_json_byte_order_mark),
        cmocka_unit_test(test_json_string_every_byte_every_lane),
        cmocka_unit_test(test_json_utf8_exhaustive),
        cmocka_unit_test(test_json_depth_128),
        cmocka_unit_test(test_json_depth_limits),
        cmocka_unit_test(test_json_bitstack_word_boundaries),
        cmocka_unit_test(test_json_scan_value),
        cmocka_unit_test(test_json_skip_whitespace),
        cmocka_unit_test(test_json_null_arguments),
        cmocka_unit_test(test_json_allocates_nothing),
        cmocka_unit_test(test_json_differential_generated),
        cmocka_unit_test(test_json_differential_short_inputs),
    };
    return cmocka_run_group_tests_name("json", tests, unitAllocSetup, unitAllocTeardown);
}
