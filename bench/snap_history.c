/* snap_history.c -- core-level benchmark of the snapshot history (reverse deltas) and of
 * EDIT vs PATCH on the 88 KB bench document, without a server.
 *
 *   python3 bench/gen_state.py > /tmp/state.json
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/snap_history.c build/libswarm_core.a \
 *      -lxxhash -lpcre2-8 -o /tmp/snap_history && /tmp/snap_history /tmp/state.json
 *
 * For KEEP 16, 100 and 1000 it saves 1000 + KEEP versions, each one EDIT of the previous
 * one (a task's status replaced and "rev" incremented: one small change), and reports:
 *   - memory: swSnapMemUsage (allocator block sizes, as MEMORY USAGE sees them) against one
 *     block holding the document alone;
 *   - the cost of a save (the delta computed against the previous head included);
 *   - GET of the head (no reconstruction) and of every retained version, in random order
 *     with the two-slot cache defeated, worst and mean;
 *   - decoding the encoded history (RDB load: every version rebuilt and its checksum checked).
 * Then one-member EDIT against one-member PATCH (merge patch) on the same document. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "swarm/alloc.h"
#include "swarm/jmerge.h"
#include "swarm/jpatch.h"
#include "swarm/snapshot.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t usable(void *p) {
    return malloc_usable_size(p);
}

static char *readFile(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n) exit(1);
    fclose(f);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

/* The i-th edit: one task's status, and the revision. */
static void nextVersion(char **doc, size_t *len, unsigned i) {
    static const char *const words[] = {"open", "busy", "done", "held"};
    char ops[256];
    snprintf(ops, sizeof(ops),
             "[{\"op\":\"replace\",\"path\":\"/tasks/t-%u/status\",\"value\":\"%s\"},"
             "{\"op\":\"incr\",\"path\":\"/rev\",\"value\":1}]",
             (i * 7919u) % 1500u, words[i % 4]);
    swJsonPatchResult res;
    swError err;
    if (swJsonPatchApply(*doc, *len, ops, strlen(ops), 128, &res, &err) != SW_OK) {
        fprintf(stderr, "edit %u: %s\n", i, err.msg);
        exit(1);
    }
    swFree(*doc);
    *doc = res.doc;
    *len = res.len;
    swFree(res.incr);
}

static void benchKeep(const char *base, size_t baseLen, size_t keep) {
    char *doc = swMemdup(base, baseLen);
    size_t len = baseLen;
    swSnap *s = swSnapNew();
    unsigned saves = 1000 + (unsigned)keep;
    double saveTime = 0, copyTime = 0;
    for (unsigned i = 0; i < saves; i++) {
        nextVersion(&doc, &len, i);
        double t = now();
        if (swSnapSave(s, doc, len, i, keep, NULL, NULL) != SW_OK) exit(1);
        saveTime += now() - t;
        /* what a save cost before deltas: a copy and a hash */
        t = now();
        char *copy = swMemdup(doc, len);
        volatile uint64_t h = XXH3_64bits(copy, len);
        (void)h;
        swFree(copy);
        copyTime += now() - t;
    }
    void *alone = malloc(len + 1);
    size_t docMem = usable(alone);
    free(alone);
    size_t mem = swSnapMemUsage(s);
    swSnapStorage st;
    swSnapGetStorage(s, &st);

    double t = now();
    for (int k = 0; k < 100000; k++) {
        if (swSnapHead(s)->len != len) exit(1);
    }
    double headNs = (now() - t) / 100000 * 1e9;

    /* Every retained version, in an order that defeats the cache. */
    swSnapInfo info;
    swSnapGetInfo(s, &info);
    double worst = 0, total = 0;
    uint64_t worstV = 0;
    for (size_t k = 0; k < info.retained; k++) {
        uint64_t v = info.oldest + (k * 7 + (k & 1) * (info.retained / 2)) % info.retained;
        /* Fill both cache slots with the newest older versions: v is rebuilt from the head
         * (or the nearest checkpoint), the worst case. */
        if (info.retained > 3) {
            swSnapGet(s, info.head - 1);
            swSnapGet(s, info.head - 2);
        }
        double t0 = now();
        const swSnapVersion *ver = swSnapGet(s, v);
        double dt = now() - t0;
        if (ver == NULL || ver->version != v) exit(1);
        total += dt;
        if (dt > worst) {
            worst = dt;
            worstV = v;
        }
    }
    char *enc;
    size_t enclen;
    if (swSnapEncode(s, &enc, &enclen) != SW_OK) exit(1);
    swSnap *d = NULL;
    swError err;
    t = now();
    if (swSnapDecode(enc, enclen, &d, &err) != SW_OK) {
        fprintf(stderr, "decode: %s\n", err.msg);
        exit(1);
    }
    double decodeMs = (now() - t) * 1e3;
    printf("KEEP %-5zu memory %7zu B = %.2fx the document alone (%zu B); %zu deltas (%zu B), "
           "%zu checkpoints (%zu B)\n",
           keep, mem, (double)mem / (double)docMem, docMem, st.deltas, st.deltaBytes,
           st.checkpoints, st.checkpointBytes);
    printf("           save %.1f us/version (copy+hash alone %.1f us); GET head %.1f ns; GET "
           "older (cold): worst %.3f ms (v%llu), mean %.3f ms; encoded %zu B, decode %.2f ms\n",
           saveTime / saves * 1e6, copyTime / saves * 1e6, headNs, worst * 1e3,
           (unsigned long long)worstV, total / (double)info.retained * 1e3, enclen, decodeMs);
    swFree(enc);
    swSnapFree(d);
    swSnapFree(s);
    swFree(doc);
}

static void benchEditPatch(const char *doc, size_t len) {
    const char *ops = "[{\"op\":\"replace\",\"path\":\"/tasks/t-42/status\",\"value\":\"done\"}]";
    const char *patch = "{\"tasks\":{\"t-42\":{\"status\":\"done\"}}}";
    int n = 2000;
    double t = now();
    for (int i = 0; i < n; i++) {
        swJsonPatchResult res;
        if (swJsonPatchApply(doc, len, ops, strlen(ops), 128, &res, NULL) != SW_OK) exit(1);
        swJsonPatchResultFree(&res);
    }
    double edit = (now() - t) / n * 1e6;
    t = now();
    for (int i = 0; i < n; i++) {
        char *out;
        size_t outlen;
        if (swJsonMergePatch(doc, len, patch, strlen(patch), &out, &outlen, NULL) != SW_OK) exit(1);
        swFree(out);
    }
    double merge = (now() - t) / n * 1e6;
    printf("one member on %zu B: EDIT %.1f us, PATCH %.1f us (EDIT/PATCH %.2f)\n", len, edit, merge,
           edit / merge);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: snap_history state.json\n");
        return 2;
    }
    swAllocator a = {malloc, calloc, realloc, free, usable};
    swSetAllocator(&a);
    size_t len;
    char *doc = readFile(argv[1], &len);
    benchEditPatch(doc, len);
    benchKeep(doc, len, 16);
    benchKeep(doc, len, 100);
    benchKeep(doc, len, 1000);
    free(doc);
    return 0;
}
