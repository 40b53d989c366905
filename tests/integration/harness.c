/* harness.c -- see harness.h. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 16

static pid_t livePids[MAX_SERVERS];
static int atexitInstalled;

static void killAll(void) {
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (livePids[i] > 0) {
            kill(livePids[i], SIGKILL);
            waitpid(livePids[i], NULL, 0);
            livePids[i] = 0;
        }
    }
}

static void track(pid_t pid, int add) {
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (add && livePids[i] == 0) {
            livePids[i] = pid;
            return;
        }
        if (!add && livePids[i] == pid) {
            livePids[i] = 0;
            return;
        }
    }
}

static void sleepMs(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int portFree(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

int itFreePort(int maxport) {
    static int seeded;
    if (!seeded) {
        srand((unsigned)(getpid() ^ time(NULL)));
        seeded = 1;
    }
    int lo = 20000, hi = maxport > 0 && maxport < 60999 ? maxport : 60999;
    for (int tries = 0; tries < 1000; tries++) {
        int port = lo + rand() % (hi - lo);
        if (!portFree(port)) continue;
        if (maxport > 0 && maxport <= 55535 && !portFree(port + 10000)) continue;
        return port;
    }
    fail_msg("no free loopback port");
    return -1;
}

static void dumpLog(const itServer *s) {
    char path[300];
    snprintf(path, sizeof(path), "%s/redis.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    fprintf(stderr, "---- %s ----\n", path);
    while (fgets(line, sizeof(line), f)) fputs(line, stderr);
    fclose(f);
}

/* The redis-server to run: $SWARM_REDIS_SERVER (chosen when the tests run, e.g. one server
 * of a matrix), else $REDIS_SERVER (set by ctest from the configure step), else PATH's. */
static const char *serverPath(void) {
    const char *server = getenv("SWARM_REDIS_SERVER");
    if (server == NULL || server[0] == '\0') server = getenv("REDIS_SERVER");
    return server && server[0] ? server : "redis-server";
}

/* Starts the server and waits for PING. When it exits or never answers: with failHard,
 * dump its log and fail the test; otherwise return -1. */
static int launch(itServer *s, int failHard) {
    const char *server = serverPath();
    const char *module = getenv("SWARM_MODULE");
    if (module == NULL) fail_msg("SWARM_MODULE is not set");
    if (!atexitInstalled) {
        atexit(killAll);
        atexitInstalled = 1;
    }
    char port[16], log[300];
    snprintf(port, sizeof(port), "%d", s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    const char *argv[96];
    int n = 0;
    argv[n++] = server;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--logfile";
    argv[n++] = log;
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--enable-debug-command";
    argv[n++] = "yes";
    argv[n++] = "--enable-module-command";
    argv[n++] = "yes";
    argv[n++] = "--loadmodule";
    argv[n++] = module;
    for (int i = 0; s->modargs[i]; i++) argv[n++] = s->modargs[i];
    for (int i = 0; s->extra[i]; i++) argv[n++] = s->extra[i];
    argv[n] = NULL;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execvp(server, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    track(pid, 1);
    for (int i = 0; i < 400; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            track(pid, 0);
            s->pid = 0;
            if (!failHard) return -1;
            dumpLog(s);
            fail_msg("redis-server exited during startup (status %d)", status);
        }
        redisContext *c = redisConnect("127.0.0.1", s->port);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            int up = r && r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
            redisFree(c);
            if (up) return 0;
        } else if (c) {
            redisFree(c);
        }
        sleepMs(25);
    }
    if (!failHard) {
        itStop(s);
        return -1;
    }
    dumpLog(s);
    fail_msg("redis-server did not answer PING on port %d", s->port);
    return -1;
}

int itStartIn(itServer *s) {
    return launch(s, 1);
}

int itStart(itServer *s, const char *const *modargs, const char *const *extra) {
    memset(s, 0, sizeof(*s));
    for (int i = 0; modargs && modargs[i] && i < 15; i++) s->modargs[i] = modargs[i];
    for (int i = 0; extra && extra[i] && i < 31; i++) s->extra[i] = extra[i];
    snprintf(s->dir, sizeof(s->dir), "/tmp/swarm-it-XXXXXX");
    if (mkdtemp(s->dir) == NULL) fail_msg("mkdtemp: %s", strerror(errno));
    s->port = itFreePort(55535);
    return itStartIn(s);
}

void itStop(itServer *s) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 400; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            track(s->pid, 0);
            s->pid = 0;
            return;
        }
        sleepMs(25);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    track(s->pid, 0);
    s->pid = 0;
}

void itDestroy(itServer *s) {
    itStop(s);
    if (s->dir[0] && getenv("SWARM_KEEP_TMP") == NULL) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s->dir);
    }
    s->dir[0] = '\0';
}

void itRestart(itServer *s) {
    itStop(s);
    itStartIn(s);
}

redisContext *itConnect(const itServer *s) {
    redisContext *c = redisConnect("127.0.0.1", s->port);
    if (c == NULL || c->err) fail_msg("connect to port %d failed", s->port);
    return c;
}

static redisReply *vcmd(redisContext *c, const char *fmt, va_list ap) {
    redisReply *r = redisvCommand(c, fmt, ap);
    if (r == NULL) fail_msg("no reply to '%s': %s", fmt, c->errstr);
    return r;
}

redisReply *itCmd(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, fmt, ap);
    va_end(ap);
    return r;
}

redisReply *itCmdArgv(redisContext *c, int argc, const char **argv, const size_t *lens) {
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (r == NULL) fail_msg("command failed: %s", c->errstr);
    return r;
}

void itExpectOk(redisReply *r) {
    if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0)
        fail_msg("expected OK, got type %d '%s'", r->type, r->str ? r->str : "");
    freeReplyObject(r);
}

void itExpectInt(redisReply *r, long long v) {
    if (r->type != REDIS_REPLY_INTEGER)
        fail_msg("expected integer %lld, got type %d '%s'", v, r->type, r->str ? r->str : "");
    long long got = r->integer;
    freeReplyObject(r);
    assert_int_equal(got, v);
}

void itExpectStr(redisReply *r, const char *s) {
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        fail_msg("expected '%s', got type %d '%s'", s, r->type, r->str ? r->str : "");
    if (strcmp(r->str, s) != 0) fail_msg("expected '%s', got '%s'", s, r->str);
    freeReplyObject(r);
}

void itExpectNil(redisReply *r) {
    if (r->type != REDIS_REPLY_NIL) fail_msg("expected nil, got type %d", r->type);
    freeReplyObject(r);
}

void itExpectError(redisReply *r, const char *code, const char *needle) {
    if (r->type != REDIS_REPLY_ERROR)
        fail_msg("expected %s error, got type %d '%s'", code, r->type, r->str ? r->str : "");
    size_t n = strlen(code);
    if (strncmp(r->str, code, n) != 0 || (r->str[n] != ' ' && r->str[n] != '\0'))
        fail_msg("expected error code %s, got '%s'", code, r->str);
    if (needle && strstr(r->str, needle) == NULL)
        fail_msg("expected '%s' in error '%s'", needle, r->str);
    freeReplyObject(r);
}

void itExpectRepr(redisReply *r, const char *want) {
    char *got = itReprOf(r);
    if (strcmp(got, want) != 0) fail_msg("expected %s\n     got %s", want, got);
    free(got);
}

char *itReprOf(redisReply *r) {
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    return s;
}

const char *itText(redisReply *r, char *buf, size_t len) {
    if (r->str == NULL) fail_msg("expected a string reply, got type %d", r->type);
    snprintf(buf, len, "%s", r->str);
    freeReplyObject(r);
    return buf;
}

long long itInteger(redisReply *r) {
    if (r->type != REDIS_REPLY_INTEGER)
        fail_msg("expected integer, got type %d '%s'", r->type, r->str ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

redisReply *itField(redisReply *r, const char *name) {
    if (r->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *k = r->element[i];
        if (k->str && strcmp(k->str, name) == 0) return r->element[i + 1];
    }
    return NULL;
}

const char *itInfo(redisContext *c, const char *section, const char *field, char *buf, size_t len) {
    redisReply *r = itCmd(c, "INFO %s", section);
    buf[0] = '\0';
    if (r->str) {
        size_t flen = strlen(field);
        for (char *p = r->str; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
            if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
                size_t i = 0;
                for (p += flen + 1; *p && *p != '\r' && *p != '\n' && i + 1 < len; p++)
                    buf[i++] = *p;
                buf[i] = '\0';
                break;
            }
        }
    }
    freeReplyObject(r);
    return buf;
}

long long itInfoNum(redisContext *c, const char *section, const char *field) {
    char buf[64];
    itInfo(c, section, field, buf, sizeof(buf));
    if (buf[0] == '\0') fail_msg("INFO %s has no field %s", section, field);
    return strtoll(buf, NULL, 10);
}

long long itStatField(redisContext *c, const char *key, const char *field) {
    redisReply *r = itCmd(c, "SWARM.ROUTE STATS %s", key);
    redisReply *f = itField(r, field);
    if (f == NULL || f->type != REDIS_REPLY_INTEGER)
        fail_msg("no STATS field %s in %s", field, key);
    long long v = f->integer;
    freeReplyObject(r);
    return v;
}

int itWaitInfo(redisContext *c, const char *section, const char *field, const char *want,
               int timeout_ms) {
    char buf[256];
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (strcmp(itInfo(c, section, field, buf, sizeof(buf)), want) == 0) return 1;
        sleepMs(20);
    }
    return 0;
}

char *itRawResp3(const itServer *s, const char *inline_cmd, size_t *len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) fail_msg("raw connect");
    char req[1024];
    int n = snprintf(req, sizeof(req), "HELLO 3\r\n%s\r\nPING\r\n", inline_cmd);
    if (write(fd, req, (size_t)n) != n) fail_msg("raw write");
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    /* Read until the reply to the trailing PING ("+PONG") arrives. */
    while (used < cap - 1) {
        ssize_t r = read(fd, buf + used, cap - 1 - used);
        if (r <= 0) break;
        used += (size_t)r;
        buf[used] = '\0';
        if (used >= 7 && strcmp(buf + used - 7, "+PONG\r\n") == 0) break;
    }
    close(fd);
    buf[used] = '\0';
    /* All of it, the HELLO reply included: callers search the text or compare its tail. */
    *len = used;
    return buf;
}

void itExpectResp3(const itServer *s, const char *inline_cmd, const char *want) {
    char line[600];
    snprintf(line, sizeof(line), "ECHO <<\r\n%s", inline_cmd);
    size_t len;
    char *raw = itRawResp3(s, line, &len);
    char tail[4096];
    snprintf(tail, sizeof(tail), "$2\r\n<<\r\n%s+PONG\r\n", want);
    size_t tl = strlen(tail);
    if (len < tl || memcmp(raw + len - tl, tail, tl) != 0)
        fail_msg("RESP3 '%s': expected the reply\n%s\nthe server answered\n%s", inline_cmd, want,
                 raw);
    free(raw);
}

/* ---- Pub/sub and timing helpers ---- */

void itSleepMs(int ms) {
    sleepMs(ms);
}

redisContext *itSubscribe(const itServer *s, const char *cmd, const char *channel, int timeout_ms) {
    redisContext *c = itConnect(s);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "%s %s", cmd, channel);
    if (r == NULL) fail_msg("%s %s: %s", cmd, channel, c->errstr);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        fail_msg("%s %s: unexpected reply type %d '%s'", cmd, channel, r->type,
                 r->str ? r->str : "");
    freeReplyObject(r);
    return c;
}

char *itNextMessage(redisContext *sub, const char *channel, size_t *len) {
    void *v = NULL;
    if (redisGetReply(sub, &v) != REDIS_OK || v == NULL)
        fail_msg("no message on '%s': %s", channel, sub->errstr);
    redisReply *r = v;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->str == NULL ||
        (strcmp(r->element[0]->str, "message") != 0 &&
         strcmp(r->element[0]->str, "smessage") != 0) ||
        r->element[1]->str == NULL || strcmp(r->element[1]->str, channel) != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        fail_msg("expected a message on '%s', got reply type %d", channel, r->type);
    char *out = malloc(r->element[2]->len + 1);
    memcpy(out, r->element[2]->str, r->element[2]->len);
    out[r->element[2]->len] = '\0';
    if (len) *len = r->element[2]->len;
    freeReplyObject(r);
    return out;
}

/* ---- Snapshot test helpers ---- */

int itTryStart(itServer *s) {
    return launch(s, 0);
}

void itBufPut(itBuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) fail_msg("out of memory");
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void reprReply(itBuf *b, const redisReply *r) {
    char num[32];
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        itBufPut(b, num, (size_t)snprintf(num, sizeof(num), ":%lld", r->integer));
        break;
    case REDIS_REPLY_NIL:
        itBufPut(b, "(nil)", 5);
        break;
    case REDIS_REPLY_ARRAY:
        itBufPut(b, "[", 1);
        for (size_t i = 0; i < r->elements; i++) {
            if (i) itBufPut(b, ",", 1);
            reprReply(b, r->element[i]);
        }
        itBufPut(b, "]", 1);
        break;
    default:
        itBufPut(b, r->type == REDIS_REPLY_ERROR ? "!" : "\"", 1);
        itBufPut(b, r->str ? r->str : "", r->str ? r->len : 0);
        if (r->type != REDIS_REPLY_ERROR) itBufPut(b, "\"", 1);
        break;
    }
}

char *itReplyRepr(const redisReply *r) {
    itBuf b = {0};
    itBufPut(&b, "", 0);
    reprReply(&b, r);
    return b.p;
}

redisContext *itConnectTimeout(const itServer *s, int ms) {
    redisContext *c = itConnect(s);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisSetTimeout(c, tv);
    return c;
}

char *itDigest(redisContext *c, const char *key) {
    redisReply *r = itCmd(c, "DEBUG DIGEST-VALUE %s", key);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 || r->element[0]->str == NULL)
        fail_msg("DEBUG DIGEST-VALUE %s: unexpected reply type %d", key, r->type);
    char *d = strdup(r->element[0]->str);
    freeReplyObject(r);
    return d;
}

char *itCmdRepr(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcmd(c, fmt, ap);
    va_end(ap);
    if (r->type == REDIS_REPLY_ERROR) fail_msg("%s: %s", fmt, r->str);
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    return s;
}

char *itTableCounters(redisContext *c) {
    char t[32], r[32], u[32], out[128];
    itInfo(c, "swarm", "swarm_tables", t, sizeof(t));
    itInfo(c, "swarm", "swarm_routes", r, sizeof(r));
    itInfo(c, "swarm", "swarm_rules", u, sizeof(u));
    snprintf(out, sizeof(out), "tables=%s routes=%s rules=%s", t, r, u);
    return strdup(out);
}

void itAppendText(char **acc, char *s) {
    size_t n = *acc ? strlen(*acc) : 0;
    *acc = realloc(*acc, n + strlen(s) + 2);
    strcpy(*acc + n, s);
    strcat(*acc + n, "\n");
    free(s);
}

void itAppendReply(char **acc, redisReply *r) {
    char *s = itReplyRepr(r);
    freeReplyObject(r);
    itAppendText(acc, s);
}

/* ---- Shared command helpers ---- */

redisReply *itPublish(redisContext *c, const char *key, const char *type, const char *payload,
                      ...) {
    const char *argv[16] = {"SWARM.PUBLISH", key, type, payload};
    size_t lens[16];
    int n = 4;
    va_list ap;
    va_start(ap, payload);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 16) argv[n++] = a;
    va_end(ap);
    for (int i = 0; i < n; i++) lens[i] = strlen(argv[i]);
    return itCmdArgv(c, n, argv, lens);
}

const char *itRedisCli(char *buf, size_t len) {
    const char *server = serverPath();
    const char *slash = strrchr(server, '/');
    if (slash) {
        snprintf(buf, len, "%.*s/redis-cli", (int)(slash - server), server);
        if (access(buf, X_OK) == 0) return buf;
    }
    return "redis-cli";
}

int itClusterOk(redisContext *c) {
    redisReply *r = itCmd(c, "CLUSTER INFO");
    int ok = r->str && strstr(r->str, "cluster_state:ok") != NULL;
    freeReplyObject(r);
    return ok;
}

/* ---- Shared fixtures and waits ---- */

int itPoll(int (*cond)(void *arg), void *arg, int timeout_ms) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (cond(arg)) return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ms =
            (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms > timeout_ms) return 0;
        sleepMs(2);
    }
}

/* The configs itServerSetup remembered, per server port. */
static const char *const resetConfigs[] = {"swarm.*", "notify-keyspace-events", "maxmemory",
                                           "maxmemory-policy"};
#define N_RESET_CONFIGS (sizeof(resetConfigs) / sizeof(resetConfigs[0]))

static struct {
    int port;
    redisReply *configs; /* CONFIG GET of resetConfigs: name, value, ... */
} startConfigs[MAX_SERVERS];

static redisReply *getResetConfigs(redisContext *c) {
    const char *argv[2 + N_RESET_CONFIGS] = {"CONFIG", "GET"};
    for (size_t i = 0; i < N_RESET_CONFIGS; i++) argv[2 + i] = resetConfigs[i];
    redisReply *r = itCmdArgv(c, 2 + (int)N_RESET_CONFIGS, argv, NULL);
    if (r->type != REDIS_REPLY_ARRAY) fail_msg("CONFIG GET: reply type %d", r->type);
    return r;
}

int itServerSetup(itServer *s, redisContext **c, const char *const *modargs,
                  const char *const *extra) {
    itStart(s, modargs, extra);
    *c = itConnect(s);
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (startConfigs[i].port == 0 || startConfigs[i].port == s->port) {
            freeReplyObject(startConfigs[i].configs);
            startConfigs[i].port = s->port;
            startConfigs[i].configs = getResetConfigs(*c);
            return 0;
        }
    }
    fail_msg("more than %d servers set up", MAX_SERVERS);
    return -1;
}

int itServerTeardown(itServer *s, redisContext **c) {
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (startConfigs[i].port == s->port) {
            freeReplyObject(startConfigs[i].configs);
            startConfigs[i].port = 0;
            startConfigs[i].configs = NULL;
        }
    }
    if (*c) redisFree(*c);
    *c = NULL;
    itDestroy(s);
    return 0;
}

void itReset(redisContext *c) {
    redisReply *start = NULL;
    for (int i = 0; i < MAX_SERVERS; i++)
        if (startConfigs[i].port == c->tcp.port) start = startConfigs[i].configs;
    if (start == NULL) fail_msg("itReset: no itServerSetup for port %d", c->tcp.port);
    itExpectOk(itCmd(c, "FLUSHALL SYNC"));
    redisReply *now = getResetConfigs(c);
    for (size_t i = 0; i + 1 < start->elements; i += 2) {
        const redisReply *name = start->element[i], *want = start->element[i + 1];
        redisReply *got = itField(now, name->str);
        if (got && got->str && strcmp(got->str, want->str) == 0) continue;
        redisReply *r = itCmd(c, "CONFIG SET %s %s", name->str, want->str);
        if (r->type != REDIS_REPLY_STATUS)
            fail_msg("itReset: CONFIG SET %s '%s': %s", name->str, want->str, r->str);
        freeReplyObject(r);
    }
    freeReplyObject(now);
}

static struct {
    itServer *s;
    redisContext **c;
    const char *const *modargs, *const *extra;
} fixture;

void itFixture(itServer *s, redisContext **c, const char *const *modargs,
               const char *const *extra) {
    fixture.s = s;
    fixture.c = c;
    fixture.modargs = modargs;
    fixture.extra = extra;
}

static const struct timeval fixtureTimeout = {10, 0};

int itFixtureSetup(void **state) {
    (void)state;
    if (fixture.s == NULL) fail_msg("itFixtureSetup without itFixture");
    itServerSetup(fixture.s, fixture.c, fixture.modargs, fixture.extra);
    redisSetTimeout(*fixture.c, fixtureTimeout);
    return 0;
}

int itFixtureTeardown(void **state) {
    (void)state;
    return itServerTeardown(fixture.s, fixture.c);
}

int itFixtureReset(void **state) {
    (void)state;
    itReset(*fixture.c);
    return 0;
}

int itFixtureReconnect(void **state) {
    (void)state;
    if (*fixture.c) redisFree(*fixture.c);
    *fixture.c = itConnect(fixture.s);
    redisSetTimeout(*fixture.c, fixtureTimeout);
    itReset(*fixture.c);
    return 0;
}

/* aof_rewrite_in_progress and aof_rewrite_scheduled both 0 in one INFO reply. */
static int aofRewriteIdle(void *arg) {
    redisReply *r = itCmd(arg, "INFO persistence");
    int idle = r->str && strstr(r->str, "aof_rewrite_in_progress:0\r\n") &&
               strstr(r->str, "aof_rewrite_scheduled:0\r\n");
    freeReplyObject(r);
    return idle;
}

void itWaitAofRewrite(redisContext *c, int timeout_ms) {
    if (!itPoll(aofRewriteIdle, c, timeout_ms))
        fail_msg("an AOF rewrite was still running or scheduled after %d ms", timeout_ms);
    char status[32];
    if (strcmp(itInfo(c, "persistence", "aof_last_bgrewrite_status", status, sizeof(status)),
               "ok") != 0)
        fail_msg("the last AOF rewrite failed: aof_last_bgrewrite_status:%s", status);
}

void itAofRewrite(redisContext *c, int timeout_ms) {
    redisReply *r = itCmd(c, "BGREWRITEAOF");
    if (r->type != REDIS_REPLY_STATUS) fail_msg("BGREWRITEAOF: %s", r->str ? r->str : "");
    freeReplyObject(r);
    itWaitAofRewrite(c, timeout_ms);
}

void itWaitReplicas(redisContext *master, int n, int timeout_ms) {
    long long acked = itInteger(itCmd(master, "WAIT %d %d", n, timeout_ms));
    if (acked < n) fail_msg("WAIT %d %d: only %lld replicas acknowledged", n, timeout_ms, acked);
}

void itWaitLinkUp(redisContext *replica, int timeout_ms) {
    if (!itWaitInfo(replica, "replication", "master_link_status", "up", timeout_ms))
        fail_msg("the replica's link to its master was not up after %d ms", timeout_ms);
}

/* The replica's processed offset has reached the master's offset w->want. */
typedef struct offsetWait {
    redisContext *replica;
    long long want;
} offsetWait;

static int replicaReached(void *arg) {
    offsetWait *w = arg;
    char buf[32];
    return atoll(itInfo(w->replica, "replication", "slave_repl_offset", buf, sizeof(buf))) >=
           w->want;
}

void itWaitReplicaCaughtUp(redisContext *master, redisContext *replica, int timeout_ms,
                           const char *what) {
    char buf[32];
    offsetWait w = {replica,
                    atoll(itInfo(master, "replication", "master_repl_offset", buf, sizeof(buf)))};
    if (!itPoll(replicaReached, &w, timeout_ms))
        fail_msg("%s: the replica did not reach offset %lld", what, w.want);
}

void itAttachReplica(redisContext *replica, const itServer *master, int timeout_ms) {
    itExpectOk(itCmd(replica, "REPLICAOF 127.0.0.1 %d", master->port));
    itWaitLinkUp(replica, timeout_ms);
}

static int clusterOk(void *c) {
    return itClusterOk(c);
}

void itWaitClusterOk(redisContext *c, int timeout_ms) {
    if (!itPoll(clusterOk, c, timeout_ms))
        fail_msg("port %d never reached cluster_state:ok in %d ms", c->tcp.port, timeout_ms);
}

void itStartCluster(itServer *nodes, redisContext **c, int n, int nmasters) {
    static const char *const extra[] = {"--cluster-enabled",
                                        "yes",
                                        "--cluster-config-file",
                                        "nodes.conf",
                                        "--cluster-node-timeout",
                                        "2000",
                                        NULL};
    for (int i = 0; i < n; i++) {
        itStart(&nodes[i], NULL, extra);
        c[i] = itConnect(&nodes[i]);
    }
    char cli[512], cmd[2048];
    int len = snprintf(cmd, sizeof(cmd), "%s --cluster create", itRedisCli(cli, sizeof(cli)));
    for (int i = 0; i < nmasters && len < (int)sizeof(cmd) - 64; i++)
        len += snprintf(cmd + len, sizeof(cmd) - (size_t)len, " 127.0.0.1:%d", nodes[i].port);
    snprintf(cmd + len, sizeof(cmd) - (size_t)len, " --cluster-yes >/dev/null 2>&1");
    if (system(cmd) != 0) fail_msg("redis-cli --cluster create failed: %s", cmd);
    for (int i = 0; i < nmasters; i++) itWaitClusterOk(c[i], 20000);
}

void itStopCluster(itServer *nodes, redisContext **c, int n) {
    for (int i = 0; i < n; i++) {
        if (c[i]) redisFree(c[i]);
        c[i] = NULL;
        itDestroy(&nodes[i]);
    }
}

void itStartReplica(itServer *replica, redisContext **c, const itServer *master,
                    const char *const *extra) {
    /* The port strings outlive the call: itRestart passes the same arguments again. */
    static char ports[MAX_SERVERS][16];
    char *port = NULL;
    char want[16];
    snprintf(want, sizeof(want), "%d", master->port);
    for (int i = 0; i < MAX_SERVERS && port == NULL; i++)
        if (ports[i][0] == '\0' || strcmp(ports[i], want) == 0) port = strcpy(ports[i], want);
    if (port == NULL) fail_msg("more than %d masters", MAX_SERVERS);
    const char *args[32];
    int n = 0;
    for (; extra && extra[n] && n < 28; n++) args[n] = extra[n];
    args[n++] = "--replicaof";
    args[n++] = "127.0.0.1";
    args[n++] = port;
    args[n] = NULL;
    itStart(replica, NULL, args);
    *c = itConnectTimeout(replica, 10000);
    itWaitLinkUp(*c, 10000);
}

void itPipelined(redisContext *c, int count, void (*fn)(int i, void *arg), void *arg) {
    const int chunk = 1000;
    for (int base = 0; base < count; base += chunk) {
        int n = count - base < chunk ? count - base : chunk;
        for (int i = 0; i < n; i++) fn(base + i, arg);
        for (int i = 0; i < n; i++) {
            void *v = NULL;
            if (redisGetReply(c, &v) != REDIS_OK || v == NULL)
                fail_msg("pipelined reply %d: %s", base + i, c->errstr);
            redisReply *r = v;
            if (r->type == REDIS_REPLY_ERROR)
                fail_msg("pipelined command %d: %s", base + i, r->str);
            freeReplyObject(r);
        }
    }
}

char *itReadFile(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n < 0 ? NULL : malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) fail_msg("cannot read %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

void itWriteFile(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        fail_msg("cannot write %s", path);
}

void itStartPair(itServer *master, redisContext **mc, const char *const *mextra, itServer *replica,
                 redisContext **rc) {
    itStart(master, NULL, mextra);
    itStart(replica, NULL, NULL);
    *mc = itConnectTimeout(master, 10000);
    *rc = itConnectTimeout(replica, 10000);
}

typedef struct clockWait {
    redisContext *c;
    long long startMs;
} clockWait;

static long long serverMs(redisContext *c) {
    redisReply *r = itCmd(c, "TIME");
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) fail_msg("TIME: reply type %d", r->type);
    long long ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    freeReplyObject(r);
    return ms;
}

static int clockPassed(void *arg) {
    clockWait *w = arg;
    return serverMs(w->c) > w->startMs;
}

void itWaitNextMs(redisContext *c) {
    clockWait w = {c, serverMs(c)};
    if (!itPoll(clockPassed, &w, 10000)) fail_msg("the server clock stood still for 10 s");
}
