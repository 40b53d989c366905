/* edit_replay.c -- replays the SWARM.SNAPSHOT SAVE and EDIT commands of one history key, as
 * captured by MONITOR during a bench run, through the core's swJsonPatchApply (what EDIT
 * calls to apply its ops), so that callgrind can count the instructions of applying the
 * saver's real op lists without a server. Each EDIT applies to the result of the previous
 * one, starting from the key's SAVE. With OUT, every document is written there, one a line
 * (to compare two builds byte for byte).
 *
 *   # capture: run the bench with a redis-server wrapper that also starts MONITOR
 *   cat > /tmp/rs.sh <<'EOF'
 *   #!/bin/bash
 *   for a in "$@"; do [ "$prev" = --port ] && port=$a; prev=$a; done
 *   ( until redis-cli -p $port ping >/dev/null 2>&1; do sleep 0.1; done
 *     exec redis-cli -p $port MONITOR > /tmp/monitor-$MODE.txt ) &
 *   exec redis-server "$@"
 *   EOF
 *   chmod +x /tmp/rs.sh
 *   (cd bench/langgraph && MODE=window READS=10 ONLY=SwarmSaver REDIS_SERVER=/tmp/rs.sh \
 *      SWARM_MODULE=$PWD/../../build/swarm.so node --expose-gc bench.mjs)
 *   # replay (key lg:{bench}:cp: is the default saver's, lg16:{bench}:cp: the opCost one's)
 *   cc -O2 -g -std=c11 -D_GNU_SOURCE -Iinclude bench/langgraph/edit_replay.c \
 *      build/libswarm_core.a -lxxhash -lpcre2-8 -o /tmp/edit_replay
 *   valgrind --tool=callgrind /tmp/edit_replay 'lg:{bench}:cp:' < /tmp/monitor-window.txt
 *   (swJsonPatchApply's inclusive count divided by the EDITs printed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "swarm/jpatch.h"

/* One quoted argument of a MONITOR line (sdscatrepr escapes) at *p, unescaped into out
 * (which has room); *p moves past it. 0 when there is none. */
static int arg(const char **p, char *out, size_t *n) {
    const char *s = *p;
    while (*s == ' ') s++;
    if (*s != '"') return 0;
    size_t k = 0;
    for (s++; *s && *s != '"'; s++) {
        if (*s != '\\') {
            out[k++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'n':
            out[k++] = '\n';
            break;
        case 'r':
            out[k++] = '\r';
            break;
        case 't':
            out[k++] = '\t';
            break;
        case 'a':
            out[k++] = '\a';
            break;
        case 'b':
            out[k++] = '\b';
            break;
        case 'x': {
            unsigned v;
            if (sscanf(s + 1, "%2x", &v) != 1) return 0;
            out[k++] = (char)v;
            s += 2;
            break;
        }
        default:
            out[k++] = *s;
            break;
        }
    }
    if (*s != '"') return 0;
    *p = s + 1;
    *n = k;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: edit_replay KEY [OUT] < monitor.txt\n");
        return 2;
    }
    FILE *out = argc > 2 ? fopen(argv[2], "wb") : NULL;
    char *line = NULL, *doc = NULL;
    size_t cap = 0, dlen = 0, ops = 0;
    ssize_t len;
    int edits = 0;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        const char *p = strstr(line, "] \"");
        if (p == NULL) continue;
        p += 1;
        char *a[4];
        size_t n[4];
        int i;
        for (i = 0; i < 4; i++) {
            if ((a[i] = malloc((size_t)len + 1)) == NULL) return 1;
            if (!arg(&p, a[i], &n[i])) break;
        }
        int save = i == 4 && n[1] == 4 && memcmp(a[1], "SAVE", 4) == 0;
        int edit = i == 4 && n[1] == 4 && memcmp(a[1], "EDIT", 4) == 0;
        if ((save || edit) && n[0] == 14 && memcmp(a[0], "SWARM.SNAPSHOT", 14) == 0 &&
            n[2] == strlen(argv[1]) && memcmp(a[2], argv[1], n[2]) == 0) {
            if (save) {
                free(doc);
                doc = a[3];
                dlen = n[3];
                a[3] = NULL;
            } else if (doc != NULL) {
                swJsonPatchResult res;
                swError err;
                if (swJsonPatchApply(doc, dlen, a[3], n[3], 128, &res, &err) != SW_OK) {
                    fprintf(stderr, "EDIT %d: %s\n", edits + 1, err.msg);
                    return 1;
                }
                free(doc);
                if ((doc = malloc(res.len + 1)) == NULL) return 1;
                memcpy(doc, res.doc, res.len);
                dlen = res.len;
                ops += res.ops;
                swJsonPatchResultFree(&res);
                edits++;
            }
            if (out != NULL && doc != NULL) {
                fwrite(doc, 1, dlen, out);
                fputc('\n', out);
            }
        }
        for (int j = 0; j < i && j < 4; j++) free(a[j]);
        if (i < 4) free(a[i]);
    }
    printf("%d EDITs (%zu ops), last document %zu B\n", edits, ops, dlen);
    free(line);
    free(doc);
    if (out != NULL) fclose(out);
    return 0;
}
