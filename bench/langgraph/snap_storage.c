/* snap_storage.c -- how a snapshot history stores a sequence of documents: replays them,
 * one per line on stdin, into a core history (KEEP 1000000) and prints its storage (reverse
 * deltas, versions stored whole, memory as MEMORY USAGE counts it). For the versions of a
 * history KEY on a server at PORT (JSON without newlines, as the saver writes it):
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude bench/langgraph/snap_storage.c \
 *      build/libswarm_core.a -lxxhash -lpcre2-8 -o /tmp/snap_storage
 *   for v in $(seq 1 400); do redis-cli -p PORT --raw SWARM.SNAPSHOT GET KEY VERSION $v; done \
 *      | /tmp/snap_storage
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "swarm/snapshot.h"

int main(void) {
    swSnap *s = swSnapNew();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int versions = 0;
    swError err;
    if (s == NULL) return 1;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') n--;
        if (swSnapSave(s, line, (size_t)n, versions++, 1000000, NULL, &err) != SW_OK) {
            fprintf(stderr, "version %d: %s\n", versions, err.msg);
            return 1;
        }
    }
    swSnapStorage st;
    swSnapGetStorage(s, &st);
    printf("versions %d, reverse deltas %zu (%zu bytes, %.0f a version), stored whole %zu "
           "(%zu bytes), head %zu bytes, memory %zu bytes\n",
           versions, st.deltas, st.deltaBytes, st.deltas ? (double)st.deltaBytes / st.deltas : 0,
           st.checkpoints, st.checkpointBytes, versions ? swSnapHead(s)->len : 0,
           swSnapMemUsage(s));
    free(line);
    swSnapFree(s);
    return 0;
}
