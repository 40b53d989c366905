/* jpatch_oracle.h -- a reference JSON Patch (RFC 6902, plus "incr") on cJSON trees, shared
 * by tests/unit/test_jpatch.c and tests/fuzz/fuzz_edit.c to check swJsonPatchApply.
 *
 * Written straight from the RFC, independently of module/core/jpatch.c: tokens are split and
 * unescaped up front, the tree is edited with cJSON's own calls. It answers the outcome class
 * and the failing op's index, which swJsonPatchApply must match exactly, and the result tree,
 * which must equal the parsed output of swJsonPatchApply (cJSON_Compare).
 *
 * Limits of the oracle, which its callers respect: numbers are doubles (tests compare only
 * numbers that doubles hold exactly and integers within 2^53, printed by cJSON so that an
 * integer never has a fraction); member names are unique; nesting is shallow. */
#ifndef SWARM_JPATCH_ORACLE_H
#define SWARM_JPATCH_ORACLE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

typedef enum refOutcome {
    REF_OK = 0,
    REF_BADOP,
    REF_NOPATH,
    REF_TESTFAILED,
    REF_TYPE,
} refOutcome;

#define REF_MAX_TOKENS 64

/* A pointer split into unescaped tokens (each a malloc'ed string); -1 when malformed. */
typedef struct refPointer {
    char *tok[REF_MAX_TOKENS];
    int n;
} refPointer;

static inline void refPointerFree(refPointer *p) {
    for (int i = 0; i < p->n; i++) free(p->tok[i]);
    p->n = 0;
}

static inline int refPointerParse(const char *s, refPointer *p) {
    p->n = 0;
    if (*s == '\0') return 0;
    if (*s != '/') return -1;
    while (*s == '/') {
        const char *e = s + 1;
        while (*e && *e != '/') e++;
        if (p->n == REF_MAX_TOKENS) {
            refPointerFree(p);
            return -1;
        }
        char *t = malloc((size_t)(e - s));
        size_t k = 0;
        if (t == NULL) abort();
        for (const char *c = s + 1; c < e; c++) {
            if (*c == '~') {
                if (c + 1 >= e || (c[1] != '0' && c[1] != '1')) {
                    free(t);
                    refPointerFree(p);
                    return -1;
                }
                t[k++] = c[1] == '0' ? '~' : '/';
                c++;
            } else {
                t[k++] = *c;
            }
        }
        t[k] = '\0';
        p->tok[p->n++] = t;
        s = e;
    }
    return 0;
}

/* An array index token: "0" or digits without a leading zero. */
static inline int refIndex(const char *t, long *out) {
    size_t n = strlen(t);
    if (n == 0 || n > 9 || (n > 1 && t[0] == '0')) return -1;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
    }
    *out = atol(t);
    return 0;
}

static inline cJSON *refChild(cJSON *v, const char *t) {
    long i;
    if (cJSON_IsObject(v)) return cJSON_GetObjectItemCaseSensitive(v, t);
    if (cJSON_IsArray(v) && refIndex(t, &i) == 0) return cJSON_GetArrayItem(v, (int)i);
    return NULL;
}

/* The value p names, or NULL. */
static inline cJSON *refGet(cJSON *doc, const refPointer *p) {
    cJSON *v = doc;
    for (int i = 0; i < p->n && v != NULL; i++) v = refChild(v, p->tok[i]);
    return v;
}

/* The parent of what p names (p->n >= 1), or NULL. */
static inline cJSON *refParent(cJSON *doc, const refPointer *p) {
    cJSON *v = doc;
    for (int i = 0; i + 1 < p->n && v != NULL; i++) v = refChild(v, p->tok[i]);
    return v;
}

/* Adds item at p (taking it); REF_NOPATH (item freed) when it cannot go there. */
static inline refOutcome refAdd(cJSON **doc, const refPointer *p, cJSON *item) {
    if (p->n == 0) {
        cJSON_Delete(*doc);
        *doc = item;
        return REF_OK;
    }
    cJSON *parent = refParent(*doc, p);
    const char *t = p->tok[p->n - 1];
    if (cJSON_IsObject(parent)) {
        if (cJSON_GetObjectItemCaseSensitive(parent, t) != NULL) {
            cJSON_ReplaceItemInObjectCaseSensitive(parent, t, item);
        } else {
            cJSON_AddItemToObject(parent, t, item);
        }
        return REF_OK;
    }
    if (cJSON_IsArray(parent)) {
        long i, size = cJSON_GetArraySize(parent);
        if (strcmp(t, "-") == 0)
            i = size;
        else if (refIndex(t, &i) < 0 || i > size) {
            cJSON_Delete(item);
            return REF_NOPATH;
        }
        /* By hand: cJSON_InsertItemInArray refuses every insert in Debian's 1.7.15-1+deb12u4. */
        cJSON *tail = cJSON_CreateArray();
        while (cJSON_GetArraySize(parent) > i) {
            cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(parent, (int)i));
        }
        cJSON_AddItemToArray(parent, item);
        while (tail->child != NULL)
            cJSON_AddItemToArray(parent, cJSON_DetachItemFromArray(tail, 0));
        cJSON_Delete(tail);
        return REF_OK;
    }
    cJSON_Delete(item);
    return REF_NOPATH;
}

/* Detaches what p names (p->n >= 1, known to exist). */
static inline cJSON *refDetach(cJSON *doc, const refPointer *p) {
    cJSON *parent = refParent(doc, p);
    const char *t = p->tok[p->n - 1];
    long i = 0;
    if (cJSON_IsObject(parent)) return cJSON_DetachItemFromObjectCaseSensitive(parent, t);
    refIndex(t, &i);
    return cJSON_DetachItemFromArray(parent, (int)i);
}

static inline int refIsInt(const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (d != floor(d) || fabs(d) > 9007199254740992.0) return 0;
    *out = (int64_t)d;
    return 1;
}

/* A member of op named name: 0 when absent, 1 with *out, 2 when given twice. */
static inline int refMember(const cJSON *op, const char *name, const cJSON **out) {
    int n = 0;
    for (const cJSON *m = op->child; m != NULL; m = m->next) {
        if (m->string != NULL && strcmp(m->string, name) == 0) {
            *out = m;
            n++;
        }
    }
    return n > 2 ? 2 : n;
}

static inline int refIsPrefix(const char *from, const char *path) {
    size_t n = strlen(from);
    return strlen(path) > n && strncmp(from, path, n) == 0 && path[n] == '/';
}

/* Applies ops to *doc (replaced by the result, which may be garbage on failure). *failed gets
 * the failing op's index; incr results go to incr[0..*nincr) (room for every op). */
static inline refOutcome refPatch(cJSON **doc, const cJSON *ops, int64_t *incr, size_t *nincr,
                                  size_t *failed) {
    static const char *const names[] = {"add", "remove", "replace", "move", "copy", "test", "incr"};
    *nincr = 0;
    *failed = 0;
    if (!cJSON_IsArray(ops)) return REF_BADOP;
    /* Shape of every op first. */
    size_t i = 0;
    for (const cJSON *op = ops->child; op != NULL; op = op->next, i++) {
        const cJSON *o = NULL, *p = NULL, *f = NULL, *v = NULL;
        refPointer ptr;
        *failed = i;
        if (!cJSON_IsObject(op)) return REF_BADOP;
        int no = refMember(op, "op", &o), np = refMember(op, "path", &p);
        int nf = refMember(op, "from", &f), nv = refMember(op, "value", &v);
        if (no > 1 || np > 1 || nf > 1 || nv > 1) return REF_BADOP;
        if (!no || !cJSON_IsString(o)) return REF_BADOP;
        int k = 0;
        while (k < 7 && strcmp(o->valuestring, names[k]) != 0) k++;
        if (k == 7) return REF_BADOP;
        if (!np || !cJSON_IsString(p) || refPointerParse(p->valuestring, &ptr) < 0) {
            return REF_BADOP;
        }
        refPointerFree(&ptr);
        if (k == 3 || k == 4) {
            if (!nf || !cJSON_IsString(f) || refPointerParse(f->valuestring, &ptr) < 0) {
                return REF_BADOP;
            }
            refPointerFree(&ptr);
        }
        if ((k == 0 || k == 2 || k == 5 || k == 6) && !nv) return REF_BADOP;
    }
    i = 0;
    for (const cJSON *op = ops->child; op != NULL; op = op->next, i++) {
        const cJSON *o = NULL, *p = NULL, *f = NULL, *v = NULL;
        refPointer path, from = {{0}, 0};
        refOutcome r = REF_OK;
        *failed = i;
        refMember(op, "op", &o);
        refMember(op, "path", &p);
        refMember(op, "from", &f);
        refMember(op, "value", &v);
        refPointerParse(p->valuestring, &path);
        const char *name = o->valuestring;
        if (strcmp(name, "add") == 0) {
            r = refAdd(doc, &path, cJSON_Duplicate(v, 1));
        } else if (strcmp(name, "remove") == 0) {
            if (refGet(*doc, &path) == NULL) {
                r = REF_NOPATH;
            } else if (path.n == 0) {
                r = REF_BADOP;
            } else {
                cJSON_Delete(refDetach(*doc, &path));
            }
        } else if (strcmp(name, "replace") == 0) {
            if (refGet(*doc, &path) == NULL) {
                r = REF_NOPATH;
            } else if (path.n == 0) {
                cJSON_Delete(*doc);
                *doc = cJSON_Duplicate(v, 1);
            } else {
                cJSON_Delete(refDetach(*doc, &path));
                r = refAdd(doc, &path, cJSON_Duplicate(v, 1));
            }
        } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
            refPointerParse(f->valuestring, &from);
            int move = name[0] == 'm';
            if (move &&
                (refIsPrefix(f->valuestring, p->valuestring) || (from.n == 0 && path.n > 0))) {
                r = REF_BADOP;
            } else if (refGet(*doc, &from) == NULL) {
                r = REF_NOPATH;
            } else if (move && strcmp(f->valuestring, p->valuestring) == 0) {
                r = REF_OK;
            } else if (move) {
                r = refAdd(doc, &path, refDetach(*doc, &from));
            } else {
                r = refAdd(doc, &path, cJSON_Duplicate(refGet(*doc, &from), 1));
            }
        } else if (strcmp(name, "test") == 0) {
            cJSON *have = refGet(*doc, &path);
            if (have == NULL || !cJSON_Compare(have, v, 1)) r = REF_TESTFAILED;
        } else { /* incr */
            cJSON *have = refGet(*doc, &path);
            int64_t a, b;
            if (have == NULL) {
                r = REF_NOPATH;
            } else if (!refIsInt(v, &b) || !refIsInt(have, &a)) {
                r = REF_TYPE;
            } else {
                cJSON_SetNumberValue(have, (double)(a + b));
                incr[(*nincr)++] = a + b;
            }
        }
        refPointerFree(&path);
        refPointerFree(&from);
        if (r != REF_OK) return r;
    }
    return REF_OK;
}

#endif
