/* test_chaos.c -- a seeded, randomized differential test of replication and persistence.
 *
 * Two nodes, a master and its replica, receive random sequences of SWARM.ROUTE (ADD, DEL,
 * ALLOW, DENY, DEFAULT), SWARM.PUBLISH (channels, streams, a stream key of another type,
 * dead letters, breakers, priorities, oversized and invalid payloads) and SWARM.SNAPSHOT
 * (SAVE, PATCH, EDIT, RESTORE) commands, some inside MULTI/EXEC or a Lua script, with a
 * subscriber on the master in half the sequences, interleaved with topology and config
 * events: the replica detached and attached again, either node restarted (from its RDB, so
 * that a replica resumes with PSYNC, or from its AOF), FAILOVER, CONFIG SET appendonly
 * yes/no, BGREWRITEAOF, DEBUG RELOAD, and swarm configs that differ between the nodes, at
 * load time and at run time. Three fixed cases replay known divergences step by step.
 *
 * Invariants, 1 and 3 checked after every sequence, 2 at every restart and reload:
 *   1. every key exists on the master, on the replica and on a third node started from a copy
 *      of the master's AOF (with load-time configs of its own), with the same
 *      DEBUG DIGEST-VALUE; the replica's AOF, when it has one, restores the same keys too;
 *   2. a restart or a DEBUG RELOAD brings a node back with the same DEBUG DIGEST it had (a
 *      server always loads its own data);
 *   3. a table's message ids only grow: across restarts, reloads and failovers.
 *
 * A failure prints the seed, what broke, and every step since that seed's servers started
 * (node, command, reply), so SWARM_CHAOS_SEED=<seed> runs the same steps again. Timing
 * (breaker cooldowns, full syncs racing writes) can still make a rerun differ.
 *
 * Environment: SWARM_CHAOS_SEED=n runs only that seed (SWARM_CHAOS_SEQUENCES=k sequences);
 * SWARM_CHAOS_SECONDS=s gives random seeds s seconds (default 30) after the fixed cases and
 * fixed seeds; SWARM_CHAOS_FIXED=0 skips the fixed cases and seeds (bench/chaos.sh);
 * SWARM_CHAOS_SAME_CONFIG=1 keeps every node on the default configs, to tell a divergence
 * that needs differing configs from one that does not; SWARM_CHAOS_SKIP_CONFIG=a,b leaves
 * the configs named (without "swarm.") at their defaults; SWARM_CHAOS_TRACE=1 prints every
 * step to stderr as it runs, with the seconds since the run's servers started. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 20000
#define SETTLE_TIMEOUT_MS 30000
#define SEQUENCES_PER_SEED 8

/* ---- Text into an itBuf ---- */

__attribute__((format(printf, 2, 3))) static void bufPrintf(itBuf *b, const char *fmt, ...) {
    char tmp[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    itBufPut(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* An argument as the log shows it: quoted when it has spaces or quotes, long ones shortened
 * (the seed reproduces their exact bytes). */
static void bufArg(itBuf *b, const char *s, size_t n) {
    int quote = n == 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '"' || s[i] == '\'' || (unsigned char)s[i] < 32) quote = 1;
    size_t shown = n > 120 ? 40 : n;
    if (quote) itBufPut(b, "'", 1);
    for (size_t i = 0; i < shown; i++) {
        if ((unsigned char)s[i] < 32 || s[i] == '\'')
            bufPrintf(b, "\\x%02x", (unsigned char)s[i]);
        else
            itBufPut(b, s + i, 1);
    }
    if (shown < n) bufPrintf(b, "...<%zu bytes>", n);
    if (quote) itBufPut(b, "'", 1);
}

/* ---- The run: seed, PRNG, the log of steps ---- */

static unsigned long long seed;  /* of the current run; 0 for a fixed case */
static const char *runLabel;     /* "seed 42", or the fixed case's name */
static double runStart;          /* when its servers started */
static int seqNo, stepNo;        /* sequence and step within the run */
static itBuf steps;              /* every step of the run */
static uint64_t rng;             /* splitmix64 state */
static int sameConfig;           /* SWARM_CHAOS_SAME_CONFIG */
static long long totalSequences; /* sequences checked in this process */
static long long totalCommands;  /* swarm commands sent in them */
static double totalSeconds;      /* time those took */

enum {
    EV_ATTACH,
    EV_DETACH,
    EV_RESTART_RDB,
    EV_RESTART_AOF,
    EV_RELOAD,
    EV_FAILOVER,
    EV_AOF_TOGGLE,
    EV_REWRITE,
    EV_CONFIG,
    EV_PSYNC,
    EV_FULLSYNC,
    EV_N
};
static const char *evNames[EV_N] = {"attach",     "detach",   "restart-rdb", "restart-aof",
                                    "reload",     "failover", "aof-on/off",  "bgrewriteaof",
                                    "config-set", "psync-ok", "full-sync"};
static long long evCount[EV_N]; /* events that happened in this process */

static uint64_t rnext(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int rn(int n) {
    return (int)(rnext() % (uint64_t)n);
}

static int chance(int pct) {
    return rn(100) < pct;
}

#define PICK(a) ((a)[rn((int)(sizeof(a) / sizeof((a)[0])))])

static double nowSec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...) {
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    bufPrintf(&steps, "%4d.%-3d %s\n", seqNo, ++stepNo, tmp);
    if (getenv("SWARM_CHAOS_TRACE"))
        fprintf(stderr, "%8.3f %4d.%-3d %.200s\n", nowSec() - runStart, seqNo, stepNo, tmp);
}

__attribute__((format(printf, 1, 2))) static void chaosFail(const char *fmt, ...) {
    char msg[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "\n==== chaos FAILED: %s, sequence %d ====\n%s\n"
            "---- steps since the servers started (sequence.step node> command -> reply) ----\n"
            "%s---- end of steps; %s%llu ----\n",
            runLabel, seqNo, msg, steps.p ? steps.p : "",
            seed ? "rerun with SWARM_CHAOS_SEED=" : "fixed case, seed ", seed);
    fflush(stderr);
    fail_msg("chaos: %s failed in sequence %d (seed %llu): %.300s", runLabel, seqNo, seed, msg);
}

/* ---- Nodes ---- */

enum { MASTER = 0, REPLICA = 1 };

typedef struct chaosNode {
    itServer srv;
    redisContext *c;
    int up;
    int aofOn;    /* appendonly now */
    int startAof; /* --appendonly at the next start */
    char portStr[16];
    const char *loadArgs[16]; /* module load arguments, NULL-terminated */
} chaosNode;

static chaosNode nodes[2];
static chaosNode aofNode; /* started from a copy of another node's AOF */
static int masterIx;      /* which of nodes[] is the master */
static int attached;      /* the replica follows the master */
static int preamble;      /* aof-use-rdb-preamble of this run */

static int nodeOf(int role) {
    return role == MASTER ? masterIx : 1 - masterIx;
}

static const char *roleName(int role) {
    return role == MASTER ? "master" : "replica";
}

static void nodeFillArgs(chaosNode *n, int replicaOfMaster) {
    memset(n->srv.modargs, 0, sizeof(n->srv.modargs));
    for (int i = 0; n->loadArgs[i] && i < 15; i++) n->srv.modargs[i] = n->loadArgs[i];
    const char **e = n->srv.extra;
    int k = 0;
    e[k++] = "--repl-diskless-sync-delay";
    e[k++] = "0";
    e[k++] = "--appendfsync";
    e[k++] = "no";
    e[k++] = "--aof-use-rdb-preamble";
    e[k++] = preamble ? "yes" : "no";
    e[k++] = "--appendonly";
    e[k++] = n->startAof ? "yes" : "no";
    if (replicaOfMaster) {
        e[k++] = "--replicaof";
        e[k++] = "127.0.0.1";
        e[k++] = nodes[masterIx].portStr;
    }
    e[k] = NULL;
}

static void nodeCreate(chaosNode *n) {
    memset(n, 0, sizeof(*n));
    snprintf(n->srv.dir, sizeof(n->srv.dir), "/tmp/swarm-chaos-XXXXXX");
    if (mkdtemp(n->srv.dir) == NULL) fail_msg("mkdtemp failed");
    n->srv.port = itFreePort(55535);
    snprintf(n->portStr, sizeof(n->portStr), "%d", n->srv.port);
}

/* The last lines of a node's log (static buffer). */
static const char *logTail(const chaosNode *n, int lines) {
    static char out[6000];
    char path[300];
    snprintf(path, sizeof(path), "%s/redis.log", n->srv.dir);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f == NULL) return out;
    static char ring[40][300];
    int count = 0;
    char line[300];
    while (fgets(line, sizeof(line), f)) snprintf(ring[count++ % 40], 300, "%s", line);
    fclose(f);
    if (lines > 40) lines = 40;
    int from = count > lines ? count - lines : 0;
    size_t used = 0;
    for (int i = from; i < count && used + 300 < sizeof(out); i++)
        used += (size_t)snprintf(out + used, sizeof(out) - used, "    | %s", ring[i % 40]);
    return out;
}

/* Starts n (already filled); 0 when it answers PING, else -1. */
static int nodeLaunch(chaosNode *n) {
    if (itTryStart(&n->srv) != 0) return -1;
    n->c = itConnectTimeout(&n->srv, REPLY_TIMEOUT_MS);
    n->up = 1;
    n->aofOn = n->startAof;
    return 0;
}

static void nodeStop(chaosNode *n) {
    if (n->c) redisFree(n->c);
    n->c = NULL;
    n->up = 0;
    itStop(&n->srv);
}

static void nodeDestroy(chaosNode *n) {
    if (n->srv.dir[0] == '\0') return;
    nodeStop(n);
    itDestroy(&n->srv);
    memset(n, 0, sizeof(*n));
}

/* A command on node n, not logged; a lost connection fails the run. */
static redisReply *nodeCmd(chaosNode *n, const char *fmt, ...) {
    if (n->c == NULL) chaosFail("node on port %d is down", n->srv.port);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(n->c, fmt, ap);
    va_end(ap);
    if (r == NULL)
        chaosFail("node on port %d: connection lost (%s); its log:\n%s", n->srv.port, n->c->errstr,
                  logTail(n, 25));
    return r;
}

/* A field of an INFO text, copied into buf ("" when absent). */
static const char *infoField(const char *text, const char *field, char *buf, size_t len) {
    buf[0] = '\0';
    size_t flen = strlen(field);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            size_t i = 0;
            for (p += flen + 1; *p && *p != '\r' && *p != '\n' && i + 1 < len; p++) buf[i++] = *p;
            buf[i] = '\0';
            break;
        }
    }
    return buf;
}

static const char *nodeInfo(chaosNode *n, const char *section, const char *field, char *buf,
                            size_t len) {
    redisReply *r = nodeCmd(n, "INFO %s", section);
    infoField(r->str, field, buf, len);
    freeReplyObject(r);
    return buf;
}

/* ---- Logged commands ---- */

/* Runs argv on the node in role, logs "node> argv -> reply", returns the reply (free it). */
static redisReply *runArgv(int role, int argc, const char **argv, const size_t *lens) {
    chaosNode *n = &nodes[nodeOf(role)];
    itBuf line = {0};
    bufPrintf(&line, "%s(n%d)>", roleName(role), nodeOf(role));
    for (int i = 0; i < argc; i++) {
        itBufPut(&line, " ", 1);
        bufArg(&line, argv[i], lens[i]);
    }
    if (n->c == NULL) chaosFail("%s: the %s is down", line.p, roleName(role));
    redisReply *r = redisCommandArgv(n->c, argc, argv, lens);
    if (r == NULL) {
        note("%s -> (connection lost: %s)", line.p, n->c->errstr);
        chaosFail("the %s lost its connection; its log:\n%s", roleName(role), logTail(n, 25));
    }
    char *repr = itReplyRepr(r);
    size_t rl = strlen(repr);
    note("%s -> %.*s%s", line.p, rl > 160 ? 160 : (int)rl, repr, rl > 160 ? "..." : "");
    free(repr);
    free(line.p);
    return r;
}

/* As runArgv with NUL-terminated arguments ending with NULL (at most 24). */
static redisReply *run(int role, const char *first, ...) {
    const char *argv[24];
    size_t lens[24];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 24; a = va_arg(ap, const char *)) {
        argv[n] = a;
        lens[n++] = strlen(a);
    }
    va_end(ap);
    return runArgv(role, n, argv, lens);
}

#define RUN(...) freeReplyObject(run(__VA_ARGS__, NULL))

/* The reply must be the integer want (fixed cases). */
static void expectInt(redisReply *r, long long want) {
    int ok = r->type == REDIS_REPLY_INTEGER && r->integer == want;
    char *repr = itReplyRepr(r);
    freeReplyObject(r);
    if (!ok) chaosFail("expected :%lld, got %s", want, repr);
    free(repr);
}

/* ---- Message ids only grow ---- */

static const char *tables[] = {"swarm:t0", "swarm:t1", "swarm:t2", "swarm:t3"};
#define NTABLES ((int)(sizeof(tables) / sizeof(tables[0])))

typedef struct chaosId {
    unsigned long long ms, seq;
    int set;
    char text[48];
} chaosId;

static chaosId lastIds[NTABLES];

static int tableIndex(const char *key) {
    for (int i = 0; i < NTABLES; i++)
        if (strcmp(tables[i], key) == 0) return i;
    return -1;
}

/* A table deleted or replaced starts a new clock: forget what was seen of it. */
static void forgetIds(const char *key) {
    int t = tableIndex(key);
    if (t >= 0) lastIds[t].set = 0;
}

/* A table left empty (its last route, rule and default removed) is deleted, and with it its
 * clock. */
static void forgetIfGone(const char *key) {
    redisReply *e = nodeCmd(&nodes[masterIx], "EXISTS %s", key);
    if (e->integer == 0) forgetIds(key);
    freeReplyObject(e);
}

static void checkId(int t, const char *id, const char *what) {
    chaosId now = {0};
    if (sscanf(id, "%llu-%llu", &now.ms, &now.seq) != 2)
        chaosFail("%s on %s: '%s' is not a message id", what, tables[t], id);
    now.set = 1;
    snprintf(now.text, sizeof(now.text), "%s", id);
    chaosId *last = &lastIds[t];
    if (last->set && (now.ms < last->ms || (now.ms == last->ms && now.seq <= last->seq)))
        chaosFail("message ids went back on %s: %s after %s (%s)", tables[t], id, last->text, what);
    *last = now;
}

/* After a publish: a new message id must be greater than every one before it. */
static void checkPublishReply(const char *key, const redisReply *r) {
    int t = tableIndex(key);
    if (t < 0 || r->type != REDIS_REPLY_ARRAY || r->elements < 4) return;
    if (r->element[0]->type != REDIS_REPLY_STRING) return;
    if (r->elements >= 5 && r->element[4]->type == REDIS_REPLY_INTEGER && r->element[4]->integer)
        return; /* a remembered duplicate answers the original id */
    checkId(t, r->element[0]->str, "PUBLISH");
}

/* STATS last-id on the master is never below the last id a publish answered. */
static void checkLastIds(void) {
    chaosNode *m = &nodes[masterIx];
    for (int t = 0; t < NTABLES; t++) {
        if (!lastIds[t].set) continue;
        /* Gone: only a DEL or emptying the table may do that, and both forget its ids. */
        redisReply *e = nodeCmd(m, "EXISTS %s", tables[t]);
        long long exists = e->integer;
        freeReplyObject(e);
        if (!exists) chaosFail("%s vanished from the master", tables[t]);
        redisReply *r = nodeCmd(m, "SWARM.ROUTE STATS %s", tables[t]);
        redisReply *f = itField(r, "last-id");
        if (f == NULL || f->str == NULL) chaosFail("no last-id in STATS %s", tables[t]);
        unsigned long long ms = 0, sq = 0;
        sscanf(f->str, "%llu-%llu", &ms, &sq);
        if (ms < lastIds[t].ms || (ms == lastIds[t].ms && sq < lastIds[t].seq))
            chaosFail("STATS last-id of %s is %s, below the id %s a publish answered", tables[t],
                      f->str, lastIds[t].text);
        freeReplyObject(r);
    }
}

/* ---- Waiting ---- */

/* Until no AOF rewrite runs or waits. The fields come from one INFO reply: read from two, a
 * scheduled rewrite starting between them would look like none. */
static void waitRewriteIdle(chaosNode *n, const char *who) {
    char a[32], b[32], l[32];
    for (int waited = 0; waited < SETTLE_TIMEOUT_MS; waited += 10) {
        redisReply *r = nodeCmd(n, "INFO persistence");
        infoField(r->str, "aof_rewrite_in_progress", a, sizeof(a));
        infoField(r->str, "aof_rewrite_scheduled", b, sizeof(b));
        infoField(r->str, "loading", l, sizeof(l));
        freeReplyObject(r);
        if (strcmp(a, "0") == 0 && strcmp(b, "0") == 0 && strcmp(l, "0") == 0) return;
        itSleepMs(10);
    }
    chaosFail("the %s's AOF rewrite never finished; its log:\n%s", who, logTail(n, 20));
}

/* Until the replica has processed everything the master wrote. */
static void waitSynced(void) {
    chaosNode *m = &nodes[masterIx], *r = &nodes[1 - masterIx];
    char mo[32], ro[32], link[32], load[32];
    for (int waited = 0; waited < SETTLE_TIMEOUT_MS; waited += 10) {
        nodeInfo(m, "replication", "master_repl_offset", mo, sizeof(mo));
        redisReply *x = nodeCmd(r, "INFO");
        infoField(x->str, "master_link_status", link, sizeof(link));
        infoField(x->str, "loading", load, sizeof(load));
        infoField(x->str, "master_repl_offset", ro, sizeof(ro));
        freeReplyObject(x);
        if (strcmp(link, "up") == 0 && strcmp(load, "0") == 0 && strcmp(mo, ro) == 0) return;
        itSleepMs(10);
    }
    chaosFail("the replica never caught up (link %s, master offset %s, replica offset %s); "
              "replica log:\n%s",
              link, mo, ro, logTail(r, 25));
}

/* ---- Comparing nodes ---- */

static int cmpStr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct keyList {
    char **k;
    size_t n;
} keyList;

static keyList listKeys(chaosNode *n) {
    redisReply *r = nodeCmd(n, "KEYS *");
    if (r->type != REDIS_REPLY_ARRAY) chaosFail("KEYS * on port %d: %s", n->srv.port, r->str);
    keyList l = {calloc(r->elements + 1, sizeof(char *)), r->elements};
    for (size_t i = 0; i < r->elements; i++) l.k[i] = strdup(r->element[i]->str);
    freeReplyObject(r);
    qsort(l.k, l.n, sizeof(char *), cmpStr);
    return l;
}

static void freeKeys(keyList *l) {
    for (size_t i = 0; i < l->n; i++) free(l->k[i]);
    free(l->k);
    l->k = NULL;
    l->n = 0;
}

static void keysText(itBuf *b, const keyList *l) {
    for (size_t i = 0; i < l->n; i++) bufPrintf(b, "%s%s", i ? " " : "", l->k[i]);
    if (l->n == 0) bufPrintf(b, "(none)");
}

/* A command given as space-separated words, KEY standing for key, not logged. */
static redisReply *nodeWords(chaosNode *n, const char *words, const char *key) {
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", words);
    const char *argv[16];
    size_t lens[16];
    int argc = 0;
    for (char *w = strtok(copy, " "); w && argc < 16; w = strtok(NULL, " ")) {
        argv[argc] = strcmp(w, "KEY") == 0 ? key : w;
        lens[argc] = strlen(argv[argc]);
        argc++;
    }
    redisReply *r = redisCommandArgv(n->c, argc, argv, lens);
    if (r == NULL) chaosFail("node on port %d: connection lost (%s)", n->srv.port, n->c->errstr);
    return r;
}

/* What a node holds at key, for a failure report. */
static void describeKey(itBuf *b, chaosNode *n, const char *who, const char *key) {
    static const char *rtb[] = {"SWARM.ROUTE LIST KEY", "SWARM.ROUTE RULES KEY",
                                "SWARM.ROUTE STATS KEY"};
    static const char *snp[] = {"SWARM.SNAPSHOT INFO KEY", "SWARM.SNAPSHOT LIST KEY"};
    static const char *stream[] = {"XLEN KEY", "XRANGE KEY - + COUNT 4"};
    redisReply *t = nodeWords(n, "TYPE KEY", key);
    char type[64];
    snprintf(type, sizeof(type), "%s", t->str ? t->str : "?");
    freeReplyObject(t);
    bufPrintf(b, "  %s: TYPE %s = %s\n", who, key, type);
    const char **cmds = NULL;
    int nc = 0;
    if (strcmp(type, "swarm-rtb") == 0) cmds = rtb, nc = 3;
    if (strcmp(type, "swarm-snp") == 0) cmds = snp, nc = 2;
    if (strcmp(type, "stream") == 0) cmds = stream, nc = 2;
    for (int i = 0; i < nc; i++) {
        redisReply *r = nodeWords(n, cmds[i], key);
        char *repr = itReplyRepr(r);
        freeReplyObject(r);
        bufPrintf(b, "    %s (KEY=%s) -> %.1500s%s\n", cmds[i], key, repr,
                  strlen(repr) > 1500 ? "..." : "");
        free(repr);
    }
}

static keyList digests(chaosNode *n, const keyList *keys) {
    keyList d = {calloc(keys->n + 1, sizeof(char *)), keys->n};
    for (size_t i = 0; i < keys->n; i++) {
        redisReply *r = nodeCmd(n, "DEBUG DIGEST-VALUE %s", keys->k[i]);
        const char *s = r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->str
                            ? r->element[0]->str
                            : (r->str ? r->str : "?");
        d.k[i] = strdup(s);
        freeReplyObject(r);
    }
    return d;
}

/* The same keys with the same digests on both; else a report naming the keys. */
static void compareNodes(chaosNode *a, const char *aName, chaosNode *b, const char *bName) {
    keyList ka = listKeys(a), kb = listKeys(b);
    itBuf why = {0};
    int same = ka.n == kb.n;
    for (size_t i = 0; same && i < ka.n; i++) same = strcmp(ka.k[i], kb.k[i]) == 0;
    if (!same) {
        bufPrintf(&why, "keys differ:\n  %s: ", aName);
        keysText(&why, &ka);
        bufPrintf(&why, "\n  %s: ", bName);
        keysText(&why, &kb);
        bufPrintf(&why, "\n");
        /* Describe the keys that only one side has. */
        for (size_t i = 0; i < ka.n; i++) {
            redisReply *e = nodeCmd(b, "EXISTS %s", ka.k[i]);
            if (e->integer == 0) describeKey(&why, a, aName, ka.k[i]);
            freeReplyObject(e);
        }
        for (size_t i = 0; i < kb.n; i++) {
            redisReply *e = nodeCmd(a, "EXISTS %s", kb.k[i]);
            if (e->integer == 0) describeKey(&why, b, bName, kb.k[i]);
            freeReplyObject(e);
        }
    } else {
        keyList da = digests(a, &ka), db = digests(b, &ka);
        for (size_t i = 0; i < ka.n; i++) {
            if (strcmp(da.k[i], db.k[i]) == 0) continue;
            bufPrintf(&why, "DEBUG DIGEST-VALUE %s: %s on the %s, %s on the %s\n", ka.k[i], da.k[i],
                      aName, db.k[i], bName);
            describeKey(&why, a, aName, ka.k[i]);
            describeKey(&why, b, bName, ka.k[i]);
        }
        freeKeys(&da);
        freeKeys(&db);
    }
    freeKeys(&ka);
    freeKeys(&kb);
    if (why.len) {
        bufPrintf(&why, "  %s log:\n%s", aName, logTail(a, 12));
        bufPrintf(&why, "  %s log:\n%s", bName, logTail(b, 12));
        note("CHECK %s vs %s: DIFFERENT", aName, bName);
        chaosFail("%s and %s differ: %s", aName, bName, why.p);
    }
}

/* Starts aofNode from a copy of node n's AOF and compares it with the master. */
static void checkAofOf(chaosNode *n, const char *who) {
    chaosNode *a = &aofNode;
    if (a->up) nodeStop(a);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/appendonlydir' && cp -r '%s/appendonlydir' '%s/'",
             a->srv.dir, n->srv.dir, a->srv.dir);
    if (system(cmd) != 0) chaosFail("could not copy the %s's AOF: %s", who, cmd);
    a->startAof = 1;
    nodeFillArgs(a, 0);
    int up = -1;
    /* A port found free can be taken by another test before the server binds it: retry. */
    for (int tries = 0; tries < 3 && up != 0; tries++) {
        a->srv.port = itFreePort(55535);
        up = nodeLaunch(a);
        if (up != 0 && strstr(logTail(a, 5), "Address already in use") == NULL) break;
    }
    if (up != 0)
        chaosFail("a node started from the %s's AOF did not come up; its log:\n%s", who,
                  logTail(a, 25));
    char label[64];
    snprintf(label, sizeof(label), "node restored from the %s's AOF", who);
    compareNodes(&nodes[masterIx], "master", a, label);
    nodeStop(a);
}

static void evAttach(void);
static void evAof(int role, int on);

/* Counts the partial and full resyncs each node served since the last look (a restart starts
 * its counters again). */
static void countSyncs(void) {
    static long long seen[2][2];
    static pid_t seenPid[2];
    for (int i = 0; i < 2; i++) {
        if (seenPid[i] != nodes[i].srv.pid) memset(seen[i], 0, sizeof(seen[i]));
        seenPid[i] = nodes[i].srv.pid;
        redisReply *r = nodeCmd(&nodes[i], "INFO stats");
        char p[32], f[32];
        long long np = atoll(infoField(r->str, "sync_partial_ok", p, sizeof(p)));
        long long nf = atoll(infoField(r->str, "sync_full", f, sizeof(f)));
        freeReplyObject(r);
        if (np > seen[i][0]) evCount[EV_PSYNC] += np - seen[i][0];
        if (nf > seen[i][1]) evCount[EV_FULLSYNC] += nf - seen[i][1];
        seen[i][0] = np;
        seen[i][1] = nf;
    }
}

/* The end of a sequence: the replica attached and caught up, the master's AOF on, then
 * invariants 1 and 3. */
static void settleAndCheck(void) {
    if (!attached) evAttach();
    chaosNode *m = &nodes[masterIx], *r = &nodes[1 - masterIx];
    waitRewriteIdle(m, "master");
    if (!m->aofOn) evAof(MASTER, 1);
    waitRewriteIdle(m, "master");
    waitSynced();
    countSyncs();
    waitRewriteIdle(r, "replica");
    compareNodes(m, "master", r, "replica");
    checkAofOf(m, "master");
    if (r->aofOn) checkAofOf(r, "replica");
    checkLastIds();
    note("CHECK master, replica and AOF restores agree");
}

/* ---- Events ---- */

static const char *dbDigest(chaosNode *n, char *buf, size_t len) {
    redisReply *r = nodeCmd(n, "DEBUG DIGEST");
    snprintf(buf, len, "%s", r->str ? r->str : "?");
    freeReplyObject(r);
    return buf;
}

static void evAttach(void) {
    if (attached) return;
    RUN(REPLICA, "REPLICAOF", "127.0.0.1", nodes[masterIx].portStr);
    attached = 1;
    evCount[EV_ATTACH]++;
}

static void evDetach(void) {
    if (!attached) return;
    RUN(REPLICA, "REPLICAOF", "NO", "ONE");
    attached = 0;
    evCount[EV_DETACH]++;
}

static void evAof(int role, int on) {
    chaosNode *n = &nodes[nodeOf(role)];
    redisReply *r = run(role, "CONFIG", "SET", "appendonly", on ? "yes" : "no", NULL);
    if (r->type != REDIS_REPLY_ERROR) n->aofOn = on, evCount[EV_AOF_TOGGLE]++;
    freeReplyObject(r);
}

/* Restarts the node in role: from its RDB (SHUTDOWN SAVE, so a replica, or the master's
 * replica, resumes with PSYNC) or from its AOF. Invariant 2: the same DEBUG DIGEST after. */
static void evRestart(int role, int fromAof) {
    int ix = nodeOf(role);
    chaosNode *n = &nodes[ix];
    if (fromAof && !n->aofOn) fromAof = 0;
    waitRewriteIdle(n, roleName(role));
    if (role == REPLICA && attached) waitSynced();
    char before[128], after[128];
    dbDigest(n, before, sizeof(before));
    if (!fromAof) {
        /* The reply is the connection closing; an error means SIGTERM below stops it. */
        redisReply *r = redisCommand(n->c, "SHUTDOWN SAVE");
        char *repr = r ? itReplyRepr(r) : strdup("(connection closed)");
        note("%s(n%d)> SHUTDOWN SAVE -> %s", roleName(role), ix, repr);
        free(repr);
        if (r) freeReplyObject(r);
    } else {
        note("%s(n%d): restart from its AOF", roleName(role), ix);
    }
    nodeStop(n);
    n->startAof = fromAof;
    nodeFillArgs(n, role == REPLICA && attached);
    if (nodeLaunch(n) != 0)
        chaosFail("the %s did not start again from its %s (a server must load its own data); "
                  "its log:\n%s",
                  roleName(role), fromAof ? "AOF" : "RDB", logTail(n, 25));
    note("%s(n%d): up again from its %s (runtime configs back to load-time ones)", roleName(role),
         ix, fromAof ? "AOF" : "RDB");
    evCount[fromAof ? EV_RESTART_AOF : EV_RESTART_RDB]++;
    dbDigest(n, after, sizeof(after));
    if (strcmp(before, after) != 0) {
        note("%s(n%d): DEBUG DIGEST %s before, %s after", roleName(role), ix, before, after);
        chaosFail("the %s restarted from its %s with other data: DEBUG DIGEST %s before, %s "
                  "after; its log:\n%s",
                  roleName(role), fromAof ? "AOF" : "RDB", before, after, logTail(n, 15));
    }
}

static void evReload(int role) {
    chaosNode *n = &nodes[nodeOf(role)];
    if (role == REPLICA && attached) waitSynced();
    char before[128], after[128];
    dbDigest(n, before, sizeof(before));
    redisReply *r = run(role, "DEBUG", "RELOAD", NULL);
    int ok = r->type == REDIS_REPLY_STATUS;
    char *repr = itReplyRepr(r);
    freeReplyObject(r);
    if (!ok) {
        chaosFail("DEBUG RELOAD on the %s answered %s (a server must load its own data); log:\n%s",
                  roleName(role), repr, logTail(n, 12));
    }
    free(repr);
    evCount[EV_RELOAD]++;
    dbDigest(n, after, sizeof(after));
    if (strcmp(before, after) != 0)
        chaosFail("DEBUG RELOAD changed the %s's data: DEBUG DIGEST %s before, %s after",
                  roleName(role), before, after);
}

static void evFailover(void) {
    if (!attached) return;
    waitSynced();
    chaosNode *m = &nodes[masterIx], *r = &nodes[1 - masterIx];
    redisReply *x = run(MASTER, "FAILOVER", "TIMEOUT", "10000", NULL);
    int started = x->type == REDIS_REPLY_STATUS;
    freeReplyObject(x);
    if (!started) return;
    char state[64], mrole[32], rrole[32];
    for (int waited = 0; waited < SETTLE_TIMEOUT_MS; waited += 10) {
        nodeInfo(m, "replication", "master_failover_state", state, sizeof(state));
        if (strcmp(state, "no-failover") == 0) break;
        itSleepMs(10);
    }
    nodeInfo(m, "replication", "role", mrole, sizeof(mrole));
    nodeInfo(r, "replication", "role", rrole, sizeof(rrole));
    if (strcmp(mrole, "master") == 0) {
        note("FAILOVER did not happen (old master's role %s, replica's %s)", mrole, rrole);
        return;
    }
    if (strcmp(rrole, "master") != 0)
        chaosFail("after FAILOVER neither node is master (%s, %s)", mrole, rrole);
    masterIx = 1 - masterIx;
    evCount[EV_FAILOVER]++;
    note("FAILOVER: n%d is the master now, n%d its replica", masterIx, 1 - masterIx);
}

/* ---- Configs ---- */

static const char *const configs[][2] = {
    {"max-type-bytes", "64"},        {"max-type-bytes", "256"},
    {"max-type-bytes", "1000"},      {"max-type-bytes", "2048"},
    {"max-payload-bytes", "200"},    {"max-payload-bytes", "5000"},
    {"max-payload-bytes", "1mb"},    {"max-snapshot-bytes", "300"},
    {"max-snapshot-bytes", "5000"},  {"max-snapshot-bytes", "64mb"},
    {"snapshot-keep", "1"},          {"snapshot-keep", "3"},
    {"snapshot-keep", "1000"},       {"snapshot-keep-bytes", "0"},
    {"snapshot-keep-bytes", "200"},  {"snapshot-keep-bytes", "2000"},
    {"snapshot-keep-bytes", "16mb"}, {"stream-maxlen", "1"},
    {"stream-maxlen", "3"},          {"stream-maxlen", "100000"},
    {"breaker-threshold", "1"},      {"breaker-threshold", "2"},
    {"breaker-threshold", "5"},      {"breaker-cooldown-ms", "1"},
    {"breaker-cooldown-ms", "20"},   {"breaker-cooldown-ms", "30000"},
    {"resolve-cache-bytes", "0"},    {"resolve-cache-bytes", "1mb"},
};
#define NCONFIGS ((int)(sizeof(configs) / sizeof(configs[0])))

/* Runtime-only configs: a load argument naming one a server does not know would stop it. */
static const char *const runtimeConfigs[][2] = {
    {"dedup-window-ms", "0"}, {"dedup-window-ms", "50"}, {"dedup-window-ms", "120000"},
    {"dedup-max", "1"},       {"dedup-max", "100000"},
};

/* 1 when SWARM_CHAOS_SKIP_CONFIG (names separated by commas) names this config. */
static int skipConfig(const char *name) {
    const char *skip = getenv("SWARM_CHAOS_SKIP_CONFIG");
    size_t n = strlen(name);
    for (const char *p = skip; p && (p = strstr(p, name)) != NULL; p += n)
        if ((p == skip || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
    return 0;
}

/* Up to three distinct load arguments, or none. */
static void randomLoadArgs(const char **out) {
    int k = 0;
    out[0] = NULL;
    if (sameConfig || chance(40)) return;
    int want = 1 + rn(3);
    for (int tries = 0; tries < 10 && k / 2 < want; tries++) {
        int c = rn(NCONFIGS), dup = skipConfig(configs[c][0]);
        for (int j = 0; j < k; j += 2) dup |= strcmp(out[j], configs[c][0]) == 0;
        if (dup) continue;
        out[k++] = configs[c][0];
        out[k++] = configs[c][1];
    }
    out[k] = NULL;
}

static void evConfig(int role) {
    if (sameConfig) return;
    char name[64];
    const char *const *c = chance(90) ? configs[rn(NCONFIGS)] : PICK(runtimeConfigs);
    if (skipConfig(c[0])) return;
    snprintf(name, sizeof(name), "swarm.%s", c[0]);
    RUN(role, "CONFIG", "SET", name, c[1]);
    evCount[EV_CONFIG]++;
}

/* ---- Random commands ---- */

static const char *snaps[] = {"snp:0", "snp:1", "snp:2"};
static const char *toks[] = {"a", "b", "c", "x", "y"};
static const char *targets[] = {"channel:c0",
                                "channel:c1",
                                "stream:q0",
                                "stream:q1",
                                "stream:q2",
                                "stream:dead",
                                "stream:sx:str" /* a string */,
                                "stream:snp:0" /* a history */};
static const char *regexes[] = {"a\\..*", "(x|y)\\.[a-z]+", "b.*", "c\\.c"};
static const char *ruleRegexes[] = {"(a|b|c|x)\\..*", ".*", "y\\..*", "x\\.y", "a\\.b+\\.c"};
static char *longTok[3]; /* 40, 300 and 700 'b's */

static void genType(char *buf, size_t cap) {
    if (chance(8)) {
        snprintf(buf, cap, "a.%s.%s", longTok[rn(3)], PICK(toks));
        return;
    }
    int n = 1 + rn(3);
    size_t used = 0;
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "." : "", PICK(toks));
}

static void genPattern(char *buf, size_t cap) {
    if (chance(8)) {
        snprintf(buf, cap, "a.%s.%s", longTok[rn(3)], chance(50) ? ">" : "*");
        return;
    }
    int n = 1 + rn(3);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        const char *t = chance(25) ? "*" : PICK(toks);
        if (i == n - 1 && chance(25)) t = ">";
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "." : "", t);
    }
}

static void genJson(char *buf, size_t cap, int big) {
    if (big) {
        int n = 200 + rn(6000);
        size_t used = (size_t)snprintf(buf, cap, "{\"blob\":\"");
        for (int i = 0; i < n && used + 4 < cap; i++) buf[used++] = (char)('a' + rn(26));
        snprintf(buf + used, cap - used, "\",\"n\":%d}", rn(100));
        return;
    }
    switch (rn(6)) {
    case 0:
        snprintf(buf, cap, "{\"a\":%d,\"b\":\"%s\",\"c\":{\"x\":%d,\"y\":[1,2]},\"n\":%d}", rn(9),
                 PICK(toks), rn(9), rn(5));
        break;
    case 1:
        snprintf(buf, cap, "{\"n\":%d,\"d\":%d}", rn(100), rn(3));
        break;
    case 2:
        snprintf(buf, cap, "[%d,\"%s\",null,true,{\"k\":%d}]", rn(50), PICK(toks), rn(9));
        break;
    case 3:
        snprintf(buf, cap, "{\"a\":%d,\"a\":%d}", rn(9), rn(9)); /* a duplicate name */
        break;
    case 4:
        snprintf(buf, cap, "{\"b\":\"%s \\u00e9\",\"c\":{\"x\":%d}}", PICK(toks), rn(9));
        break;
    default:
        snprintf(buf, cap, "%d", rn(1000));
        break;
    }
}

static char bigBuf[8192];

static void opRouteAdd(void) {
    char pattern[1024];
    const char *table = tables[rn(3)];
    const char *target = PICK(targets);
    const char *argv[10] = {"SWARM.ROUTE", "ADD", table, pattern, target};
    int n = 5;
    if (chance(15)) {
        snprintf(pattern, sizeof(pattern), "%s", chance(10) ? "a(" : PICK(regexes));
        argv[n++] = "REGEX";
    } else {
        genPattern(pattern, sizeof(pattern));
    }
    char lo[4], hi[4];
    if (chance(25)) {
        int a = 1 + rn(9), b = a + rn(10 - a);
        snprintf(lo, sizeof(lo), "%d", a);
        snprintf(hi, sizeof(hi), "%d", b);
        argv[n++] = "PRIORITY";
        argv[n++] = lo;
        argv[n++] = hi;
    }
    size_t lens[10];
    for (int i = 0; i < n; i++) lens[i] = strlen(argv[i]);
    freeReplyObject(runArgv(MASTER, n, argv, lens));
}

static void opRouteDel(void) {
    const char *table = tables[rn(3)];
    char ids[3][8];
    int n = 1 + rn(3);
    for (int i = 0; i < 3; i++) snprintf(ids[i], sizeof(ids[i]), "%d", 1 + rn(16));
    redisReply *r = n == 1 ? run(MASTER, "SWARM.ROUTE", "DEL", table, ids[0], NULL)
                    : n == 2
                        ? run(MASTER, "SWARM.ROUTE", "DEL", table, ids[0], ids[1], NULL)
                        : run(MASTER, "SWARM.ROUTE", "DEL", table, ids[0], ids[1], ids[2], NULL);
    freeReplyObject(r);
    forgetIfGone(table);
}

static void opRule(void) {
    const char *table = tables[rn(3)];
    if (chance(40))
        RUN(MASTER, "SWARM.ROUTE", "ALLOW", table, ruleRegexes[rn(2)]);
    else
        RUN(MASTER, "SWARM.ROUTE", "DENY", table, ruleRegexes[2 + rn(3)]);
}

static void opDefault(void) {
    const char *table = tables[rn(3)];
    RUN(MASTER, "SWARM.ROUTE", "DEFAULT", table, chance(25) ? "NONE" : PICK(targets));
    forgetIfGone(table);
}

static void opPublish(void) {
    const char *table = tables[rn(NTABLES)];
    char type[1024], prio[4], sender[16], msgid[16];
    genType(type, sizeof(type));
    int bad = chance(4), big = !bad && chance(8);
    if (bad)
        snprintf(bigBuf, sizeof(bigBuf), "{\"n\":");
    else
        genJson(bigBuf, sizeof(bigBuf), big);
    const char *argv[12] = {"SWARM.PUBLISH", table, type, bigBuf};
    int n = 4;
    if (chance(60)) {
        snprintf(prio, sizeof(prio), "%d", 1 + rn(9));
        argv[n++] = "PRIORITY";
        argv[n++] = prio;
    }
    if (chance(30)) {
        snprintf(sender, sizeof(sender), "agent-%d", rn(3));
        argv[n++] = "SENDER";
        argv[n++] = sender;
    }
    if (chance(10)) {
        snprintf(msgid, sizeof(msgid), "m%d", rn(4));
        argv[n++] = "MSGID";
        argv[n++] = msgid;
    }
    size_t lens[12];
    for (int i = 0; i < n; i++) lens[i] = strlen(argv[i]);
    redisReply *r = runArgv(MASTER, n, argv, lens);
    checkPublishReply(table, r);
    freeReplyObject(r);
}

static void opSnapSave(void) {
    const char *key = PICK(snaps);
    genJson(bigBuf, sizeof(bigBuf), chance(10));
    const char *argv[8] = {"SWARM.SNAPSHOT", "SAVE", key, bigBuf};
    int n = 4;
    char v[8], keep[8];
    if (chance(20)) {
        snprintf(v, sizeof(v), "%d", rn(6));
        argv[n++] = "IFVERSION";
        argv[n++] = v;
    }
    if (chance(15)) {
        snprintf(keep, sizeof(keep), "%d", 1 + rn(5));
        argv[n++] = "KEEP";
        argv[n++] = keep;
    }
    size_t lens[8];
    for (int i = 0; i < n; i++) lens[i] = strlen(argv[i]);
    freeReplyObject(runArgv(MASTER, n, argv, lens));
}

static void opSnapPatch(void) {
    const char *key = PICK(snaps);
    char patch[256], v[8];
    switch (rn(4)) {
    case 0:
        snprintf(patch, sizeof(patch), "{\"a\":%d,\"c\":{\"x\":null}}", rn(9));
        break;
    case 1:
        snprintf(patch, sizeof(patch), "{\"a\":null,\"e\":[%d]}", rn(9));
        break;
    case 2:
        snprintf(patch, sizeof(patch), "{\"n\":%d}", rn(100));
        break;
    default:
        snprintf(patch, sizeof(patch), "[%d]", rn(9));
        break;
    }
    snprintf(v, sizeof(v), "%d", rn(6));
    if (chance(20))
        RUN(MASTER, "SWARM.SNAPSHOT", "PATCH", key, patch, "IFVERSION", v);
    else
        RUN(MASTER, "SWARM.SNAPSHOT", "PATCH", key, patch);
}

static void opSnapEdit(void) {
    const char *key = PICK(snaps);
    char ops[256];
    int k = rn(20);
    switch (rn(8)) {
    case 0:
        snprintf(ops, sizeof(ops), "[{\"op\":\"incr\",\"path\":\"/n\",\"value\":%d}]", k);
        break;
    case 1:
        snprintf(ops, sizeof(ops), "[{\"op\":\"add\",\"path\":\"/d\",\"value\":%d}]", k);
        break;
    case 2:
        snprintf(ops, sizeof(ops), "[{\"op\":\"remove\",\"path\":\"/a\"}]");
        break;
    case 3:
        snprintf(ops, sizeof(ops), "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":\"w%d\"}]", k);
        break;
    case 4:
        snprintf(ops, sizeof(ops),
                 "[{\"op\":\"test\",\"path\":\"/n\",\"value\":%d},"
                 "{\"op\":\"incr\",\"path\":\"/n\",\"value\":1}]",
                 k % 5);
        break;
    case 5:
        snprintf(ops, sizeof(ops), "[{\"op\":\"copy\",\"from\":\"/c\",\"path\":\"/e\"}]");
        break;
    case 6:
        snprintf(ops, sizeof(ops), "[{\"op\":\"move\",\"from\":\"/d\",\"path\":\"/f\"}]");
        break;
    default:
        snprintf(ops, sizeof(ops),
                 "[{\"op\":\"add\",\"path\":\"/n\",\"value\":9223372036854775800},"
                 "{\"op\":\"incr\",\"path\":\"/n\",\"value\":%d}]",
                 k);
        break;
    }
    char v[8];
    snprintf(v, sizeof(v), "%d", rn(6));
    if (chance(15))
        RUN(MASTER, "SWARM.SNAPSHOT", "EDIT", key, ops, "IFVERSION", v);
    else
        RUN(MASTER, "SWARM.SNAPSHOT", "EDIT", key, ops);
}

static void opSnapRestore(void) {
    char v[8];
    snprintf(v, sizeof(v), "%d", 1 + rn(8));
    RUN(MASTER, "SWARM.SNAPSHOT", "RESTORE", PICK(snaps), v);
}

static void opKeys(void) {
    if (chance(50)) {
        const char *from = tables[rn(3)];
        RUN(MASTER, "COPY", from, "swarm:t3", "REPLACE");
        forgetIds("swarm:t3");
    } else {
        static const char *victims[] = {"swarm:t0", "swarm:t1", "swarm:t2", "swarm:t3",
                                        "snp:0",    "snp:1",    "q0",       "dead"};
        const char *k = PICK(victims);
        RUN(MASTER, "DEL", k);
        forgetIds(k);
    }
}

/* Writes inside MULTI/EXEC (each still one propagated command, inside the transaction), or a
 * publish from a Lua script. */
static void opTransaction(void) {
    if (chance(30)) {
        const char *table = tables[rn(3)];
        char type[1024];
        genType(type, sizeof(type));
        genJson(bigBuf, sizeof(bigBuf), 0);
        redisReply *r =
            run(MASTER, "EVAL", "return redis.call('SWARM.PUBLISH', KEYS[1], ARGV[1], ARGV[2])",
                "1", table, type, bigBuf, NULL);
        checkPublishReply(table, r);
        freeReplyObject(r);
        return;
    }
    RUN(MASTER, "MULTI");
    for (int i = 2 + rn(3); i > 0; i--) {
        switch (rn(5)) {
        case 0:
            opSnapSave();
            break;
        case 1:
            opSnapEdit();
            break;
        case 2:
            opRouteAdd();
            break;
        default:
            opPublish(); /* answers QUEUED: its id is not checked */
            break;
        }
    }
    RUN(MASTER, "EXEC");
}

static void randomEvent(void) {
    int roll = rn(100);
    if (roll < 35)
        evConfig(chance(55) ? MASTER : REPLICA);
    else if (roll < 47)
        attached ? evDetach() : evAttach();
    else if (roll < 53)
        evRestart(MASTER, chance(50));
    else if (roll < 58)
        evRestart(REPLICA, chance(50));
    else if (roll < 65)
        evFailover();
    else if (roll < 79) {
        int role = chance(60) ? MASTER : REPLICA;
        evAof(role, !nodes[nodeOf(role)].aofOn);
    } else if (roll < 90)
        RUN(chance(70) ? MASTER : REPLICA, "BGREWRITEAOF"), evCount[EV_REWRITE]++;
    else
        evReload(chance(70) ? MASTER : REPLICA);
}

static void randomStep(void) {
    int roll = rn(100);
    if (roll < 20)
        opRouteAdd();
    else if (roll < 24)
        opRouteDel();
    else if (roll < 27)
        opRule();
    else if (roll < 30)
        opDefault();
    else if (roll < 60)
        opPublish();
    else if (roll < 67)
        opSnapSave();
    else if (roll < 72)
        opSnapPatch();
    else if (roll < 77)
        opSnapEdit();
    else if (roll < 79)
        opSnapRestore();
    else if (roll < 80)
        opKeys();
    else if (roll < 81)
        opTransaction();
    else if (roll < 88)
        randomEvent();
    else
        opPublish();
    if (roll < 81 || roll >= 88) totalCommands++;
}

/* ---- A run: servers for one seed or one fixed case ---- */

static const char *loadArgStore[3][16];

static redisContext *subscriber;

static void chaosEnd(void) {
    if (subscriber) redisFree(subscriber);
    subscriber = NULL;
    nodeDestroy(&nodes[0]);
    nodeDestroy(&nodes[1]);
    nodeDestroy(&aofNode);
    free(steps.p);
    memset(&steps, 0, sizeof(steps));
}

/* Starts a master (appendonly yes) and its replica. loadArgs: per node (master, replica, AOF
 * restore), NULL-terminated module arguments, or NULL for none. */
static void chaosBegin(const char *label, unsigned long long s, const char *const *margs,
                       const char *const *rargs, const char *const *aargs, int withPreamble) {
    chaosEnd();
    runLabel = label;
    runStart = nowSec();
    seed = s;
    seqNo = 0;
    stepNo = 0;
    memset(lastIds, 0, sizeof(lastIds));
    masterIx = 0;
    attached = 1;
    preamble = withPreamble;
    for (int i = 0; i < 3; i++) {
        if (longTok[i]) continue;
        static const int lens[3] = {40, 300, 700};
        longTok[i] = malloc((size_t)lens[i] + 1);
        memset(longTok[i], 'b', (size_t)lens[i]);
        longTok[i][lens[i]] = '\0';
    }
    chaosNode *all[3] = {&nodes[0], &nodes[1], &aofNode};
    const char *const *args[3] = {margs, rargs, aargs};
    for (int i = 0; i < 3; i++) {
        nodeCreate(all[i]);
        for (int j = 0; args[i] && args[i][j] && j < 15; j++) all[i]->loadArgs[j] = args[i][j];
    }
    bufPrintf(&steps, "     %s: aof-use-rdb-preamble %s\n", label, preamble ? "yes" : "no");
    const char *names[3] = {"n0 (master)", "n1 (replica)", "AOF restores"};
    for (int i = 0; i < 3; i++) {
        itBuf a = {0};
        for (int j = 0; all[i]->loadArgs[j]; j++) bufPrintf(&a, " %s", all[i]->loadArgs[j]);
        bufPrintf(&steps, "     %s load arguments:%s\n", names[i], a.p ? a.p : " (none)");
        free(a.p);
    }
    nodes[0].startAof = 1;
    nodeFillArgs(&nodes[0], 0);
    if (nodeLaunch(&nodes[0]) != 0)
        chaosFail("the master did not start:\n%s", logTail(&nodes[0], 20));
    nodes[1].startAof = 0;
    nodeFillArgs(&nodes[1], 1);
    if (nodeLaunch(&nodes[1]) != 0)
        chaosFail("the replica did not start:\n%s", logTail(&nodes[1], 20));
    RUN(MASTER, "SET", "sx:str", "a string where a stream target points");
}

/* In half the sequences a client on the master subscribes to channel c0, so that deliveries
 * there are ok even while the master has no replica (c1 has no subscriber: missed). It is
 * never read, and closed at the end of the sequence. */

static void randomSequence(void) {
    seqNo++;
    stepNo = 0;
    if (chance(50)) {
        subscriber = itSubscribe(&nodes[masterIx].srv, "SUBSCRIBE", "c0", REPLY_TIMEOUT_MS);
        note("a client subscribes to c0 on the master (n%d)", masterIx);
    }
    int n = 15 + rn(26);
    for (int i = 0; i < n; i++) randomStep();
    if (subscriber) redisFree(subscriber);
    subscriber = NULL;
    settleAndCheck();
}

/* One seed: its own servers and configs, `sequences` random sequences. */
static void runSeed(unsigned long long s, int sequences, double deadline) {
    static char label[64];
    snprintf(label, sizeof(label), "seed %llu", s);
    rng = s;
    for (int i = 0; i < 3; i++) randomLoadArgs(loadArgStore[i]);
    int withPreamble = chance(50);
    chaosBegin(label, s, loadArgStore[0], loadArgStore[1], loadArgStore[2], withPreamble);
    double t0 = nowSec();
    int done = 0;
    for (; done < sequences; done++) {
        if (deadline > 0 && done > 0 && nowSec() > deadline) break;
        randomSequence();
    }
    double took = nowSec() - t0;
    totalSequences += done;
    totalSeconds += took;
    printf("chaos: seed %llu: %d sequences ok in %.1f s\n", s, done, took);
    fflush(stdout);
    chaosEnd();
}

static int teardown(void **state) {
    (void)state;
    if (seed == 0 && runLabel)
        printf("chaos: fixed case '%s': %.1f s\n", runLabel, nowSec() - runStart);
    chaosEnd();
    return 0;
}

/* ---- Fixed cases ---- */

static const char *const noArgs[] = {NULL};

/* The digest of every key on n, as "key=digest" lines (malloc'ed). */
static char *allDigests(chaosNode *n) {
    keyList k = listKeys(n), d = digests(n, &k);
    itBuf b = {0};
    bufPrintf(&b, "%s", "");
    for (size_t i = 0; i < k.n; i++) bufPrintf(&b, "%s=%s\n", k.k[i], d.k[i]);
    freeKeys(&k);
    freeKeys(&d);
    return b.p;
}

static void expectStreamTypes(int role, const char *stream, const char *want) {
    chaosNode *n = &nodes[nodeOf(role)];
    redisReply *r = nodeCmd(n, "XRANGE %s - +", stream);
    itBuf got = {0};
    bufPrintf(&got, "%s", "");
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        for (size_t j = 0; j + 1 < f->elements; j += 2)
            if (strcmp(f->element[j]->str, "type") == 0)
                bufPrintf(&got, "%s%.8s", got.len ? "," : "", f->element[j + 1]->str);
    }
    freeReplyObject(r);
    if (strcmp(got.p, want) != 0)
        chaosFail("on the %s, stream %s holds types [%s], expected [%s]", roleName(role), stream,
                  got.p, want);
    free(got.p);
}

static void routeAndPublishLongType(void) {
    char pattern[400], type[400];
    snprintf(pattern, sizeof(pattern), "a.%.300s.>", longTok[1]);
    snprintf(type, sizeof(type), "a.%.300s.c", longTok[1]);
    redisReply *r = run(MASTER, "SWARM.ROUTE", "ADD", "swarm:t", pattern, "stream:s", NULL);
    expectInt(r, 1);
    r = run(MASTER, "SWARM.ROUTE", "ADD", "swarm:t", "x.>", "stream:s2", NULL);
    expectInt(r, 2);
    r = run(MASTER, "SWARM.PUBLISH", "swarm:t", type, "{}", NULL);
    if (r->type != REDIS_REPLY_ARRAY) chaosFail("PUBLISH of the long type: %s", r->str);
    freeReplyObject(r);
    r = run(MASTER, "SWARM.PUBLISH", "swarm:t", "x.y", "{}", NULL);
    if (r->type != REDIS_REPLY_ARRAY) chaosFail("PUBLISH x.y: %s", r->str);
    freeReplyObject(r);
}

/* A master with a larger swarm.max-type-bytes than its replica: the replica must hold the
 * 300-byte route and the same messages (it used to refuse the route, then misapply the next
 * publish's effects). */
static void test_replica_with_a_smaller_max_type_bytes(void **state) {
    (void)state;
    chaosBegin("replica with a smaller max-type-bytes", 0, noArgs, noArgs, noArgs, 1);
    seqNo = 1;
    RUN(MASTER, "CONFIG", "SET", "swarm.max-type-bytes", "1000");
    routeAndPublishLongType();
    waitSynced();
    expectStreamTypes(MASTER, "s", "a.bbbbbb");
    expectStreamTypes(MASTER, "s2", "x.y");
    expectStreamTypes(REPLICA, "s", "a.bbbbbb");
    expectStreamTypes(REPLICA, "s2", "x.y");
    settleAndCheck();
    /* Ids go on from the same clock on both after a failover. */
    evFailover();
    RUN(MASTER, "SWARM.PUBLISH", "swarm:t", "x.z", "{}");
    settleAndCheck();
}

/* The same writes in an AOF replayed by a server on the default swarm.max-type-bytes: the
 * master restarted without its CONFIG SET, and a third node restored from the AOF. */
static void test_aof_replayed_with_a_smaller_max_type_bytes(void **state) {
    (void)state;
    chaosBegin("AOF replayed with a smaller max-type-bytes", 0, noArgs, noArgs, noArgs, 0);
    seqNo = 1;
    RUN(MASTER, "CONFIG", "SET", "swarm.max-type-bytes", "1000");
    routeAndPublishLongType();
    char *before = allDigests(&nodes[masterIx]);
    evRestart(MASTER, 1);
    char *after = allDigests(&nodes[masterIx]);
    if (strcmp(before, after) != 0)
        chaosFail("the master's keys changed across its AOF restart:\n--- before\n%s--- after\n%s",
                  before, after);
    free(before);
    free(after);
    expectStreamTypes(MASTER, "s", "a.bbbbbb");
    expectStreamTypes(MASTER, "s2", "x.y");
    settleAndCheck();
    /* Once more with the AOF rewritten (an RDB preamble or SWARM.RESTORE commands). */
    seqNo = 2;
    RUN(MASTER, "CONFIG", "SET", "swarm.max-type-bytes", "1000");
    RUN(MASTER, "BGREWRITEAOF");
    waitRewriteIdle(&nodes[masterIx], "master");
    RUN(MASTER, "SWARM.PUBLISH", "swarm:t", "x.y", "{\"after\":\"rewrite\"}");
    evRestart(MASTER, 1);
    settleAndCheck();
}

/* A route added under a raised swarm.max-type-bytes, the config then lowered: DEBUG RELOAD,
 * a restart from the RDB, DUMP/RESTORE and COPY all keep the table. */
static void test_server_loads_its_own_data_after_lowering_max_type_bytes(void **state) {
    (void)state;
    chaosBegin("server loads its own data", 0, noArgs, noArgs, noArgs, 1);
    seqNo = 1;
    char pattern[400];
    snprintf(pattern, sizeof(pattern), "a.%.297s.>", longTok[1]); /* 301 bytes */
    RUN(MASTER, "CONFIG", "SET", "swarm.max-type-bytes", "512");
    RUN(REPLICA, "CONFIG", "SET", "swarm.max-type-bytes", "512");
    expectInt(run(MASTER, "SWARM.ROUTE", "ADD", "swarm:t", pattern, "stream:s", NULL), 1);
    RUN(MASTER, "CONFIG", "SET", "swarm.max-type-bytes", "256");
    RUN(REPLICA, "CONFIG", "SET", "swarm.max-type-bytes", "256");
    evReload(MASTER);
    expectInt(run(MASTER, "DBSIZE", NULL), 2);
    evReload(REPLICA);
    redisReply *d = run(MASTER, "DUMP", "swarm:t", NULL);
    if (d->type != REDIS_REPLY_STRING) chaosFail("DUMP swarm:t: not a string");
    const char *argv[] = {"RESTORE", "swarm:u", "0", d->str};
    size_t lens[] = {7, 7, 1, d->len};
    redisReply *r = runArgv(MASTER, 4, argv, lens);
    freeReplyObject(d);
    if (r->type == REDIS_REPLY_ERROR) chaosFail("RESTORE of its own DUMP: %s", r->str);
    freeReplyObject(r);
    expectInt(run(MASTER, "COPY", "swarm:t", "swarm:v", NULL), 1);
    evRestart(MASTER, 0);
    evRestart(REPLICA, 0);
    settleAndCheck();
}

/* ---- Seeds ---- */

static int fixedEnabled(void) {
    const char *f = getenv("SWARM_CHAOS_FIXED");
    return getenv("SWARM_CHAOS_SEED") == NULL && !(f && strcmp(f, "0") == 0);
}

static void test_fixed_seeds(void **state) {
    (void)state;
    static const unsigned long long fixed[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        runSeed(fixed[i], SEQUENCES_PER_SEED, 0);
}

static void test_random_seeds(void **state) {
    (void)state;
    const char *one = getenv("SWARM_CHAOS_SEED");
    if (one) {
        const char *k = getenv("SWARM_CHAOS_SEQUENCES");
        runSeed(strtoull(one, NULL, 10), k ? atoi(k) : SEQUENCES_PER_SEED, 0);
        return;
    }
    const char *secs = getenv("SWARM_CHAOS_SECONDS");
    double budget = secs ? atof(secs) : 30.0;
    double deadline = nowSec() + budget;
    unsigned long long base = (unsigned long long)time(NULL) * 1000003ULL ^ (unsigned)getpid();
    for (int i = 0; i == 0 || nowSec() < deadline; i++) {
        uint64_t mix = base + (uint64_t)i * 0x9E3779B97F4A7C15ULL;
        unsigned long long s = (mix ^ (mix >> 29)) % 1000000000ULL + 1;
        runSeed(s, SEQUENCES_PER_SEED, deadline);
    }
}

int main(void) {
    sameConfig =
        getenv("SWARM_CHAOS_SAME_CONFIG") && strcmp(getenv("SWARM_CHAOS_SAME_CONFIG"), "0");
    const struct CMUnitTest fixedTests[] = {
        cmocka_unit_test_teardown(test_replica_with_a_smaller_max_type_bytes, teardown),
        cmocka_unit_test_teardown(test_aof_replayed_with_a_smaller_max_type_bytes, teardown),
        cmocka_unit_test_teardown(test_server_loads_its_own_data_after_lowering_max_type_bytes,
                                  teardown),
        cmocka_unit_test_teardown(test_fixed_seeds, teardown),
    };
    const struct CMUnitTest randomTests[] = {
        cmocka_unit_test_teardown(test_random_seeds, teardown),
    };
    int failed = 0;
    double t0 = nowSec();
    if (fixedEnabled())
        failed += cmocka_run_group_tests_name("chaos-fixed", fixedTests, NULL, NULL);
    failed += cmocka_run_group_tests_name("chaos-random", randomTests, NULL, NULL);
    printf("chaos: %lld sequences checked in %.1f s of seeds (%.1f sequences per minute); "
           "%.1f s in all\n",
           totalSequences, totalSeconds,
           totalSeconds > 0 ? (double)totalSequences * 60.0 / totalSeconds : 0.0, nowSec() - t0);
    printf("chaos: %lld swarm and key commands; events:", totalCommands);
    for (int i = 0; i < EV_N; i++) printf(" %s %lld", evNames[i], evCount[i]);
    printf("\n");
    return failed;
}
