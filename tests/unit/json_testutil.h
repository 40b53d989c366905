/* json_testutil.h -- helpers shared by the unit tests of the text-level JSON units (jscan,
 * jindex, jpointer, jmerge, jpatch): cJSON as the oracle, a seeded generator of random
 * documents and edits, and a large object for allocation-failure runs. Header-only (static
 * inline), cJSON only in tests. */
#ifndef SWARM_JSON_TESTUTIL_H
#define SWARM_JSON_TESTUTIL_H

#include "unit_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- cJSON as the oracle ---- */

/* The JSON text s[0..n) parsed, or NULL when it is not exactly one JSON text. */
static inline cJSON *oracleParse(const char *s, size_t n) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (j == NULL) return NULL;
    size_t i = (size_t)(end - s);
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (i != n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static inline int jsonEquals(const char *got, size_t gotlen, const char *want) {
    cJSON *g = oracleParse(got, gotlen);
    cJSON *w = oracleParse(want, strlen(want));
    assert_non_null(w);
    int eq = g != NULL && cJSON_Compare(g, w, 1);
    if (!eq) fprintf(stderr, "got  %.*s\nwant %s\n", (int)gotlen, got, want);
    cJSON_Delete(g);
    cJSON_Delete(w);
    return eq;
}

/* ---- Random documents ---- */

static uint64_t rng; /* the generator state: seed it in each test */

static inline uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static inline unsigned below(unsigned n) {
    return (unsigned)(rnd() % n);
}

static const char *const keyPool[] = {
    "a",   "b",    "c",    "id",          "name", "status", "x/y",
    "m~n", "q\"t", "b\\s", "caf\xc3\xa9", "nl\n", "",       "\xf0\x9f\x98\x80",
};

static inline void randomKey(char *key) {
    if (below(3) == 0) {
        sprintf(key, "k%u", below(40));
    } else {
        strcpy(key, keyPool[below(sizeof(keyPool) / sizeof(keyPool[0]))]);
    }
}

static inline cJSON *randomValue(int depth);

static inline cJSON *randomObject(int depth) {
    cJSON *o = cJSON_CreateObject();
    unsigned n = below(depth >= 2 ? 3 : 6);
    if (below(8) == 0) n = 9 + below(14); /* enough members for the hashed lookup */
    for (unsigned i = 0; i < n; i++) {
        char key[32];
        randomKey(key);
        if (cJSON_GetObjectItemCaseSensitive(o, key) == NULL) {
            cJSON_AddItemToObject(o, key, randomValue(depth + 1));
        }
    }
    return o;
}

static inline cJSON *randomValue(int depth) {
    static const char *const strings[] = {"",  "x",           "A",     "\"",   "\\",
                                          "/", "caf\xc3\xa9", "tab\t", "\x01", "long string value"};
    static const double numbers[] = {0, -1, 42, 3.5, -0.25, 1e20, 123456789, 1e-7};
    switch (depth >= 4 ? 3 + below(7) : below(10)) {
    case 0:
    case 1:
        return randomObject(depth);
    case 2: {
        cJSON *a = cJSON_CreateArray();
        unsigned n = below(4);
        for (unsigned i = 0; i < n; i++) cJSON_AddItemToArray(a, randomValue(depth + 1));
        return a;
    }
    case 3:
    case 4:
        return cJSON_CreateString(strings[below(sizeof(strings) / sizeof(strings[0]))]);
    case 5:
    case 6:
        return cJSON_CreateNumber(numbers[below(sizeof(numbers) / sizeof(numbers[0]))]);
    case 7:
        return cJSON_CreateBool(below(2));
    default:
        return cJSON_CreateNull();
    }
}

/* Changes a container in place: deletions, replacements, nulls, additions, recursion. */
static inline void mutate(cJSON *v, int depth) {
    if (cJSON_IsArray(v)) {
        cJSON *e = v->child;
        for (; e != NULL; e = e->next) {
            if (below(4) == 0 && (cJSON_IsObject(e) || cJSON_IsArray(e))) mutate(e, depth + 1);
        }
        if (below(5) == 0) cJSON_AddItemToArray(v, randomValue(depth + 1));
        return;
    }
    if (!cJSON_IsObject(v)) return;
    cJSON *m = v->child;
    while (m != NULL) {
        cJSON *next = m->next;
        unsigned r = below(20);
        if (r < 2) {
            cJSON_DeleteItemFromObjectCaseSensitive(v, m->string);
        } else if (r < 4) {
            cJSON_ReplaceItemInObjectCaseSensitive(v, m->string, randomValue(depth + 1));
        } else if (r == 4) {
            cJSON_ReplaceItemInObjectCaseSensitive(v, m->string, cJSON_CreateNull());
        } else if (r < 12) {
            mutate(m, depth + 1);
        }
        m = next;
    }
    while (below(3) == 0) {
        char key[32];
        randomKey(key);
        if (cJSON_GetObjectItemCaseSensitive(v, key) == NULL) {
            cJSON_AddItemToObject(v, key,
                                  below(6) == 0 ? cJSON_CreateNull() : randomValue(depth + 1));
        }
    }
}

/* Prints v compact or indented, and respells some letters inside strings (names included)
 * as \u escapes, so equal names and strings often differ byte-wise. Free with free(). */
static inline char *printRandomly(const cJSON *v) {
    char *text = below(2) ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
    assert_non_null(text);
    size_t n = strlen(text);
    char *out = malloc(n * 6 + 1), *o = out;
    if (out == NULL) abort();
    int escapes = below(3) == 0, inString = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!inString) {
            *o++ = c;
            if (c == '"') inString = 1;
        } else if (c == '\\') {
            size_t k = text[i + 1] == 'u' ? 6 : 2;
            memcpy(o, text + i, k);
            o += k;
            i += k - 1;
        } else if (c == '"') {
            *o++ = c;
            inString = 0;
        } else if (escapes && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && below(3) == 0) {
            o += sprintf(o, "\\u%04X", (unsigned)c);
        } else {
            *o++ = c;
        }
    }
    *o = '\0';
    cJSON_free(text);
    return out;
}

static inline cJSON *randomDocument(void) {
    return below(20) == 0 ? randomValue(0) : randomObject(0);
}

/* ---- Large inputs ---- */

static inline char *bigObject(int members, int salt) {
    char *s = malloc((size_t)members * 128 + 16), *p = s;
    if (s == NULL) abort();
    p += sprintf(p, "{");
    for (int i = 0; i < members; i++) {
        p += sprintf(p,
                     "%s\"m%d\":{\"v\":%d,\"w\":[{\"x%d\":1,\"y\":2,\"a\":3,\"b\":4,\"c\":5,"
                     "\"d\":6,\"e\":7,\"f\":8,\"g\":%d}]}",
                     i ? "," : "", i, (i % 7 == 0) ? salt : 0, i, i % 5 == 0 ? salt : 0);
    }
    sprintf(p, "}");
    return s;
}

#endif
