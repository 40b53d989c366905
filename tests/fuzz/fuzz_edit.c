/* fuzz_edit.c -- libFuzzer target: swJsonPatchApply (EDIT) against the reference JSON Patch
 * on a cJSON tree (jpatch_oracle.h, shared with tests/unit/test_jpatch.c).
 *
 * Two modes, chosen by the first input byte:
 *   - structured (odd byte): the rest of the input drives a small generator that builds a
 *     document and an ops array as cJSON trees (names from a pool with '/', '~', quotes and
 *     escapes; integers and halves; paths taken from the document, mangled or invented),
 *     prints them (compact or indented, member names sometimes respelled with \u escapes),
 *     and runs both implementations. They must agree on the outcome class, the failing op's
 *     index (the message starts with "op N "), the result (cJSON_Compare) and the values incr
 *     produced; a result must validate at the depth limit.
 *   - raw (even byte): the rest is "document NUL ops"; the document is used when it
 *     validates, and EDIT must answer a status without crashing or reading out of bounds
 *     (AddressSanitizer), and an OK result must validate.
 * Any disagreement aborts with both sides printed. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/alloc.h"
#include "swarm/jdup.h"
#include "swarm/jpatch.h"
#include "swarm/json.h"
#include "jpatch_oracle.h"

/* SWARM.SNAPSHOT EDIT does not check the result of a head known to repeat no member name
 * (cmd_snapshot.c): ops whose text repeats none must not make such a document repeat one. */
static int addsRepeat(const char *doc, size_t dlen, const char *ops, size_t olen,
                      const swJsonPatchResult *res) {
    return swJsonDupCheck(doc, dlen, NULL) == SW_OK && swJsonDupCheck(ops, olen, NULL) == SW_OK &&
           swJsonDupCheck(res->doc, res->len, NULL) != SW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH 64

typedef struct gen {
    const uint8_t *p;
    size_t n, i;
} gen;

static unsigned take(gen *g, unsigned below) {
    if (below == 0) return 0;
    unsigned v = g->i < g->n ? g->p[g->i++] : 0;
    return v % below;
}

static const char *const names[] = {"a",    "b", "tasks", "owner", "x/y", "m~n",
                                    "q\"t", "",  "0",     "-",     "01",  "caf\xc3\xa9"};

static cJSON *genValue(gen *g, int depth);

static cJSON *genObject(gen *g, int depth) {
    cJSON *o = cJSON_CreateObject();
    unsigned n = take(g, depth > 3 ? 2 : 5);
    for (unsigned i = 0; i < n; i++) {
        const char *k = names[take(g, sizeof(names) / sizeof(names[0]))];
        if (cJSON_GetObjectItemCaseSensitive(o, k) == NULL) {
            cJSON_AddItemToObject(o, k, genValue(g, depth + 1));
        }
    }
    return o;
}

static cJSON *genValue(gen *g, int depth) {
    switch (take(g, depth > 4 ? 4 : 7)) {
    case 0:
        return cJSON_CreateNumber((double)((int)take(g, 21) - 10));
    case 1:
        return cJSON_CreateString(take(g, 2) ? "x" : "open");
    case 2:
        return take(g, 3) ? cJSON_CreateBool(take(g, 2)) : cJSON_CreateNull();
    case 3:
        return cJSON_CreateNumber(take(g, 2) ? 0.5 : 1e3);
    case 4:
    case 5:
        return genObject(g, depth);
    default: {
        cJSON *a = cJSON_CreateArray();
        unsigned n = take(g, 4);
        for (unsigned i = 0; i < n; i++) cJSON_AddItemToArray(a, genValue(g, depth + 1));
        return a;
    }
    }
}

/* A pointer into doc (walking some way down), sometimes mangled. */
static void genPath(gen *g, const cJSON *doc, char *out, size_t cap) {
    size_t k = 0;
    const cJSON *v = doc;
    out[0] = '\0';
    while (v != NULL && (cJSON_IsObject(v) || cJSON_IsArray(v)) && take(g, 4) != 0 &&
           k < cap - 40) {
        int n = cJSON_GetArraySize(v);
        if (n == 0) break;
        int i = (int)take(g, (unsigned)n);
        const cJSON *c = cJSON_GetArrayItem(v, i);
        out[k++] = '/';
        if (cJSON_IsArray(v)) {
            k += (size_t)snprintf(out + k, cap - k, "%d", i);
        } else {
            for (const char *s = c->string; *s && k < cap - 8; s++) {
                if (*s == '~' || *s == '/') {
                    out[k++] = '~';
                    out[k++] = *s == '~' ? '0' : '1';
                } else {
                    out[k++] = *s;
                }
            }
        }
        v = c;
    }
    switch (take(g, 8)) {
    case 0:
        k += (size_t)snprintf(out + k, cap - k, "/-");
        break;
    case 1:
        k += (size_t)snprintf(out + k, cap - k, "/%u", take(g, 4));
        break;
    case 2:
        k += (size_t)snprintf(out + k, cap - k, "/%s", names[take(g, 12)]);
        break;
    case 3:
        if (k > 0 && (unsigned char)out[k - 1] < 0x80) k--; /* cut the last byte (not UTF-8) */
        break;
    case 4:
        k += (size_t)snprintf(out + k, cap - k, take(g, 2) ? "/~2" : "x");
        break;
    default:
        break;
    }
    out[k] = '\0';
}

static cJSON *genOps(gen *g, const cJSON *doc) {
    static const char *const kinds[] = {"add",  "remove", "replace", "move",
                                        "copy", "test",   "incr",    "nope"};
    cJSON *ops = cJSON_CreateArray();
    unsigned n = 1 + take(g, 5);
    char path[256], from[256];
    for (unsigned i = 0; i < n; i++) {
        cJSON *op = cJSON_CreateObject();
        const char *kind = kinds[take(g, 8)];
        genPath(g, doc, path, sizeof(path));
        if (take(g, 16) != 0) cJSON_AddStringToObject(op, "op", kind);
        if (take(g, 16) != 0) cJSON_AddStringToObject(op, "path", path);
        if (!strcmp(kind, "move") || !strcmp(kind, "copy") || take(g, 8) == 0) {
            genPath(g, doc, from, sizeof(from));
            cJSON_AddStringToObject(op, "from", from);
        }
        if (strcmp(kind, "remove") && strcmp(kind, "move") && strcmp(kind, "copy") &&
            take(g, 16) != 0) {
            cJSON *v = genValue(g, 2);
            if (!strcmp(kind, "test") && take(g, 2)) {
                /* often test what is there */
                refPointer p;
                if (refPointerParse(path, &p) == 0) {
                    cJSON *have = refGet((cJSON *)doc, &p);
                    if (have != NULL) {
                        cJSON_Delete(v);
                        v = cJSON_Duplicate(have, 1);
                    }
                    refPointerFree(&p);
                }
            }
            cJSON_AddItemToObject(op, "value", v);
        }
        if (take(g, 32) == 0) cJSON_AddNumberToObject(op, "extra", 1);
        cJSON_AddItemToArray(ops, op);
    }
    return ops;
}

static refOutcome outcomeOf(swStatus st) {
    switch (st) {
    case SW_OK:
        return REF_OK;
    case SW_ERR_BADOP:
        return REF_BADOP;
    case SW_ERR_NOPATH:
        return REF_NOPATH;
    case SW_ERR_TESTFAILED:
        return REF_TESTFAILED;
    case SW_ERR_TYPE:
        return REF_TYPE;
    default:
        return (refOutcome)-1;
    }
}

/* The same ops followed by a move that changes nothing ("" to "") are applied the way that
 * rewrites the document per op; ops without move or copy take the one-buffer way. Both must
 * give the same bytes, incr values, status, message and offset, and the one-buffer way must
 * not have fallen back to the other where that one succeeds. ops is a valid JSON array. */
static void samePlain(const char *doc, size_t dlen, const char *ops, size_t olen) {
    size_t end = olen, first = swJsonSkipWhitespace(ops, olen, 0);
    while (end > 0 && ops[end - 1] != ']') end--;
    if (first >= olen || ops[first] != '[' || end == 0 || first >= end) return;
    size_t inner = swJsonSkipWhitespace(ops, olen, first + 1);
    static const char move[] = "{\"op\":\"move\",\"from\":\"\",\"path\":\"\"}";
    char *plain = malloc(olen + sizeof(move) + 2);
    if (plain == NULL) abort();
    size_t m = end - 1;
    memcpy(plain, ops, m);
    if (inner != end - 1) plain[m++] = ',';
    memcpy(plain + m, move, sizeof(move) - 1);
    m += sizeof(move) - 1;
    memcpy(plain + m, ops + end - 1, olen - end + 1);
    m += olen - end + 1;
    swJsonPatchResult a, b;
    swError ea = {{0}, 0}, eb = {{0}, 0};
    swStatus sa = swJsonPatchApply(doc, dlen, ops, olen, DEPTH, &a, &ea);
    swStatus sb = swJsonPatchApply(doc, dlen, plain, m, DEPTH, &b, &eb);
    const char *broken = NULL;
    if (sa != sb) {
        broken = "status differs from the plain way";
    } else if (sa != SW_OK && (strcmp(ea.msg, eb.msg) != 0 || ea.offset != eb.offset)) {
        broken = "error differs from the plain way";
    } else if (sa == SW_OK) {
        if (a.len != b.len || memcmp(a.doc, b.doc, a.len) != 0)
            broken = "result differs from the plain way";
        else if (a.nincr != b.nincr ||
                 (a.nincr && memcmp(a.incr, b.incr, a.nincr * sizeof(int64_t)) != 0))
            broken = "incr differs from the plain way";
        else if (a.rewrote && memmem(ops, olen, "\"move\"", 6) == NULL &&
                 memmem(ops, olen, "\"copy\"", 6) == NULL && memmem(ops, olen, "\\u", 2) == NULL)
            broken = "the one-buffer way fell back where the plain way succeeds";
    }
    if (broken) {
        fprintf(stderr, "%s\ndoc %.*s\nops %.*s\n one-buffer %d '%s' %.*s\n plain %d '%s' %.*s\n",
                broken, (int)dlen, doc, (int)olen, ops, (int)sa, ea.msg, (int)a.len,
                a.doc ? a.doc : "", (int)sb, eb.msg, (int)b.len, b.doc ? b.doc : "");
        abort();
    }
    swJsonPatchResultFree(&a);
    swJsonPatchResultFree(&b);
    free(plain);
}

static void structured(const uint8_t *data, size_t size) {
    gen g = {data, size, 0};
    cJSON *doc = take(&g, 8) == 0 ? genValue(&g, 0) : genObject(&g, 0);
    cJSON *ops = genOps(&g, doc);
    char *dt = take(&g, 2) ? cJSON_PrintUnformatted(doc) : cJSON_Print(doc);
    char *ot = cJSON_PrintUnformatted(ops);

    int64_t incr[8];
    size_t nincr = 0, failedAt = 0;
    cJSON *ref = cJSON_Duplicate(doc, 1);
    refOutcome want = refPatch(&ref, ops, incr, &nincr, &failedAt);

    swJsonPatchResult res;
    swError err = {{0}, 0};
    swStatus st = swJsonPatchApply(dt, strlen(dt), ot, strlen(ot), DEPTH, &res, &err);
    refOutcome got = outcomeOf(st);
    const char *broken = NULL;
    char prefix[32];
    if (got != want) {
        broken = "outcome differs";
    } else if (got == REF_OK) {
        char *rt = cJSON_PrintUnformatted(ref);
        cJSON *mine = cJSON_ParseWithLength(res.doc, res.len);
        if (mine == NULL || !cJSON_Compare(mine, ref, 1))
            broken = "result differs";
        else if (res.nincr != nincr)
            broken = "incr count differs";
        else if (nincr && memcmp(res.incr, incr, nincr * sizeof(int64_t)) != 0)
            broken = "incr values differ";
        else if (swJsonValidate(res.doc, res.len, SW_JSON_MAX_DEPTH, NULL) != SW_OK)
            broken = "result is not valid JSON";
        else if (addsRepeat(dt, strlen(dt), ot, strlen(ot), &res))
            broken = "result repeats a member name";
        if (broken) fprintf(stderr, "want %s\ngot  %.*s\n", rt, (int)res.len, res.doc);
        cJSON_Delete(mine);
        cJSON_free(rt);
        swJsonPatchResultFree(&res);
    } else {
        snprintf(prefix, sizeof(prefix), "op %zu ", failedAt);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0) broken = "failing op differs";
    }
    if (broken) {
        fprintf(stderr, "%s\ndoc %s\nops %s\nEDIT %d '%s', reference %d at op %zu\n", broken, dt,
                ot, (int)st, err.msg, (int)want, failedAt);
        abort();
    }
    samePlain(dt, strlen(dt), ot, strlen(ot));
    cJSON_Delete(ref);
    cJSON_free(dt);
    cJSON_free(ot);
    cJSON_Delete(doc);
    cJSON_Delete(ops);
}

static void raw(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    if (nul == NULL) return;
    size_t dlen = (size_t)(nul - data), olen = size - dlen - 1;
    /* exact-size heap copies so any overread is caught */
    char *doc = malloc(dlen ? dlen : 1), *ops = malloc(olen ? olen : 1);
    if (doc == NULL || ops == NULL) abort();
    memcpy(doc, data, dlen);
    memcpy(ops, nul + 1, olen);
    if (swJsonValidate(doc, dlen, DEPTH, NULL) == SW_OK) {
        if (swJsonValidate(ops, olen, DEPTH, NULL) == SW_OK) samePlain(doc, dlen, ops, olen);
        swJsonPatchResult res;
        swError err;
        swStatus st = swJsonPatchApply(doc, dlen, ops, olen, DEPTH, &res, &err);
        if (st == SW_OK) {
            if (swJsonValidate(res.doc, res.len, DEPTH, NULL) != SW_OK) {
                fprintf(stderr, "EDIT produced invalid JSON: %.*s\n", (int)res.len, res.doc);
                abort();
            }
            if (addsRepeat(doc, dlen, ops, olen, &res)) {
                fprintf(stderr, "EDIT made a repeated member name: %.*s\n", (int)res.len, res.doc);
                abort();
            }
            swJsonPatchResultFree(&res);
        } else if (outcomeOf(st) == (refOutcome)-1 && st != SW_ERR_PAYLOAD) {
            fprintf(stderr, "unexpected status %d: %s\n", (int)st, err.msg);
            abort();
        }
    }
    free(doc);
    free(ops);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 1) {
        structured(data + 1, size - 1);
    } else {
        raw(data + 1, size - 1);
    }
    return 0;
}
