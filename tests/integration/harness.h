/* harness.h -- integration test harness: real redis-server processes with the swarm module
 * loaded, on free loopback ports, in throwaway directories.
 *
 * Servers are started by the test process itself and die with it (PR_SET_PDEATHSIG), are
 * stopped by itStop, and any still running at exit are killed by an atexit handler, so a
 * failing test never leaves a server behind. Paths come from the environment:
 * SWARM_MODULE (the built swarm.so) and the server binary: SWARM_REDIS_SERVER when set (to run
 * the same build against another server), else REDIS_SERVER (ctest sets it to the server
 * found at configure time), else redis-server on PATH. */
#ifndef SWARM_HARNESS_H
#define SWARM_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

typedef struct itServer {
    pid_t pid;
    int port;
    char dir[256];
    const char *modargs[16]; /* module load arguments, NULL-terminated */
    const char *extra[32];   /* extra redis-server arguments, NULL-terminated */
} itServer;

/* A free loopback port no higher than maxport (whose port+10000 is also free when
 * maxport <= 55535, for the cluster bus). */
int itFreePort(int maxport);

/* Starts a server in a fresh directory. modargs/extra may be NULL. Returns 0 or fails the
 * running test. */
int itStart(itServer *s, const char *const *modargs, const char *const *extra);
/* As itStart, on a given port and directory (for restarts and clusters). */
int itStartIn(itServer *s);
/* Stops the server (SIGTERM: saves if configured to, then exits) and waits for it. */
void itStop(itServer *s);
/* Stops and removes the directory. */
void itDestroy(itServer *s);
/* Stop then start again in the same directory and port. */
void itRestart(itServer *s);

redisContext *itConnect(const itServer *s);

/* Runs a command (printf-style, hiredis formats); fails the test when the connection fails. */
redisReply *itCmd(redisContext *c, const char *fmt, ...);
redisReply *itCmdArgv(redisContext *c, int argc, const char **argv, const size_t *lens);

/* Assertions that free the reply. */
void itExpectOk(redisReply *r);
void itExpectInt(redisReply *r, long long v);
void itExpectStr(redisReply *r, const char *s);
void itExpectNil(redisReply *r);
/* The error's first word must be code (e.g. "WRONGTYPE"), and contain needle if not NULL. */
void itExpectError(redisReply *r, const char *code, const char *needle);

/* The reply as itReplyRepr writes it must be want; frees the reply. */
void itExpectRepr(redisReply *r, const char *want);
/* itReplyRepr of r, then frees r (free the result). */
char *itReprOf(redisReply *r);

/* A string or status reply's text, copied into buf (truncated); the reply is freed. */
const char *itText(redisReply *r, char *buf, size_t len);
long long itInteger(redisReply *r);

/* In a map (RESP3) or flat field/value array (RESP2) reply, the element for name. */
redisReply *itField(redisReply *r, const char *name);

/* Polls an INFO field ("section", "field") until it equals want or timeout_ms passes. */
int itWaitInfo(redisContext *c, const char *section, const char *field, const char *want,
               int timeout_ms);
/* Value of an INFO field, copied into buf; "" when absent. */
const char *itInfo(redisContext *c, const char *section, const char *field, char *buf, size_t len);
/* An INFO field as a number; fails the test when the field is absent. */
long long itInfoNum(redisContext *c, const char *section, const char *field);
/* An integer field of SWARM.ROUTE STATS key; fails the test when it is absent. */
long long itStatField(redisContext *c, const char *key, const char *field);

/* Sends "HELLO 3", the inline command and "PING" on a raw connection; returns every byte the
 * server answered, the HELLO reply first and "+PONG\r\n" last (malloc'ed, NUL-terminated;
 * free it), for checking RESP3 types, which Debian's hiredis 0.14 cannot parse. */
char *itRawResp3(const itServer *s, const char *inline_cmd, size_t *len);

/* Sends inline_cmd on a RESP3 connection (itRawResp3) and fails the test unless its raw reply
 * is exactly want. An ECHO before it and the PING after it delimit the reply, so a missing or
 * extra reply is caught too. */
void itExpectResp3(const itServer *s, const char *inline_cmd, const char *want);

/* ---- Pub/sub and timing helpers ---- */

/* Sleeps for ms milliseconds. Not for synchronising tests: wait on a condition (itPoll and
 * the waits below) instead. */
void itSleepMs(int ms);

/* A new connection to s that has sent cmd ("SUBSCRIBE" or "SSUBSCRIBE") for channel and
 * read its confirmation; reads on it time out after timeout_ms, so a message that never
 * comes fails the test instead of hanging it. Free with redisFree. */
redisContext *itSubscribe(const itServer *s, const char *cmd, const char *channel, int timeout_ms);

/* Reads the next pub/sub message on sub, checks it is a "message" or "smessage" for
 * channel, and returns its payload (malloc'ed, NUL-terminated; free it) with its length in
 * *len when len is not NULL. Fails the test on a timeout or anything else. */
char *itNextMessage(redisContext *sub, const char *channel, size_t *len);

/* ---- Snapshot test helpers ---- */

/* As itStartIn (same port and directory), but a server that exits during startup or does
 * not answer PING in time is not a test failure: returns 0 when it is up, -1 otherwise
 * (the process then reaped, or killed and reaped; s->pid is 0). For "this file must be
 * refused" tests. */
int itTryStart(itServer *s);

/* A reply as one comparable line: integers :N, strings and statuses "text", errors !text,
 * nil (nil), arrays [a,b,...], recursively. malloc'ed, NUL-terminated; free it. */
char *itReplyRepr(const redisReply *r);

/* A connection whose replies time out after ms, so a command the server never answers fails
 * its test instead of hanging the file. */
redisContext *itConnectTimeout(const itServer *s, int ms);

/* DEBUG DIGEST-VALUE of key (malloc'ed). */
char *itDigest(redisContext *c, const char *key);

/* Runs a command (printf-style) and returns itReplyRepr of its reply (free it); an error
 * reply fails the test. For comparing whole replies across servers or over time. */
char *itCmdRepr(redisContext *c, const char *fmt, ...);

/* INFO swarm's gauges of routing tables as one line, "tables=N routes=N rules=N" (free it). */
char *itTableCounters(redisContext *c);

/* Appends s and a newline to the malloc'ed string *acc (NULL to start) and frees s. */
void itAppendText(char **acc, char *s);
/* Appends itReplyRepr(r) the same way and frees r. */
void itAppendReply(char **acc, redisReply *r);

/* SWARM.PUBLISH key type payload [opts ...] with every argument binary safe; the option
 * list ends with NULL (at most 12 options). */
redisReply *itPublish(redisContext *c, const char *key, const char *type, const char *payload, ...);

/* The redis-cli next to the server binary (see above) when there is one, else "redis-cli" from
 * PATH. buf holds the path when it is returned. */
const char *itRedisCli(char *buf, size_t len);

/* 1 when CLUSTER INFO on c says cluster_state:ok. */
int itClusterOk(redisContext *c);

/* ---- Shared fixtures and waits ----
 * Tests wait on conditions polled with a deadline, never on time alone: these are the
 * waits they need, and itPoll for any other condition. */

/* Calls cond(arg) until it returns non-zero (then returns 1) or timeout_ms passes (then
 * returns 0), pausing a few milliseconds between calls. */
int itPoll(int (*cond)(void *arg), void *arg, int timeout_ms);

/* A group setup's work: starts *s as itStart does, connects *c and remembers the configs the
 * server started with (every swarm.* config, notify-keyspace-events, maxmemory,
 * maxmemory-policy) for itReset. Returns 0, for "return itServerSetup(...)". */
int itServerSetup(itServer *s, redisContext **c, const char *const *modargs,
                  const char *const *extra);
/* A group teardown's work: closes *c (and sets it NULL), stops and removes *s. Returns 0. */
int itServerTeardown(itServer *s, redisContext **c);
/* A per-test setup's work on a server started by itServerSetup: FLUSHALL, then every config
 * itServerSetup remembered that differs now is set back, so each test starts from an empty
 * keyspace and the starting configs even after a test that failed before restoring its own.
 * Fails the test when a config cannot be set back. */
void itReset(redisContext *c);

/* ---- The one-server fixture, as cmocka callbacks ----
 * A test file with one server for a group names its server and connection once:
 *
 *     itFixture(&srv, &c, modargs, extra);
 *     return cmocka_run_group_tests(tests, itFixtureSetup, itFixtureTeardown);
 *
 * with itFixtureReset (empty keyspace, starting configs, same connection) or
 * itFixtureReconnect (the same on a fresh connection) as each test's setup. Every fixture
 * connection has a 10 s reply timeout: a command the server never answers fails its test
 * instead of hanging the file. A later itFixture call replaces the fixture (for the next
 * group). */
void itFixture(itServer *s, redisContext **c, const char *const *modargs, const char *const *extra);
/* Group setup: itServerSetup of the fixture's server, with the reply timeout. */
int itFixtureSetup(void **state);
/* Group teardown: itServerTeardown of the fixture's server and connection. */
int itFixtureTeardown(void **state);
/* Test setup: itReset on the fixture's connection. */
int itFixtureReset(void **state);
/* Test setup: closes the fixture's connection, opens a new one (with the reply timeout) in
 * its place and itReset on it, so no state of an earlier test's connection carries over. */
int itFixtureReconnect(void **state);

/* Waits until no AOF rewrite is in progress or scheduled (both in one INFO reply), then
 * checks that the last one succeeded; fails the test after timeout_ms. */
void itWaitAofRewrite(redisContext *c, int timeout_ms);
/* BGREWRITEAOF (queued behind a rewrite or save already running) and itWaitAofRewrite. */
void itAofRewrite(redisContext *c, int timeout_ms);

/* WAIT n timeout_ms on a master: fails the test unless n replicas acknowledged every write
 * sent on master so far. */
void itWaitReplicas(redisContext *master, int n, int timeout_ms);
/* Waits until a replica's master_link_status is up; fails the test after timeout_ms. */
void itWaitLinkUp(redisContext *replica, int timeout_ms);
/* Waits until the replica has processed everything the master has propagated so far (its
 * slave_repl_offset reaches the master's master_repl_offset), whichever connection wrote it:
 * WAIT counts only the writes of the connection that sends it. Fails the test, naming what,
 * after timeout_ms. */
void itWaitReplicaCaughtUp(redisContext *master, redisContext *replica, int timeout_ms,
                           const char *what);
/* REPLICAOF the master on an already started server, then itWaitLinkUp. */
void itAttachReplica(redisContext *replica, const itServer *master, int timeout_ms);
/* Starts *replica as itStart does (no module arguments) with extra (may be NULL) and
 * "--replicaof 127.0.0.1 <master's port>", so a restart replicates again; connects *c to it
 * (with a 10 s reply timeout) and waits until its link to the master is up (10 s). */
void itStartReplica(itServer *replica, redisContext **c, const itServer *master,
                    const char *const *extra);

/* Starts *master (itStart with no module arguments and mextra, which may be NULL) and
 * *replica (no arguments, not yet replicating: the test attaches it when it is ready, with
 * itAttachReplica), and connects *mc and *rc to them with a 10 s reply timeout. */
void itStartPair(itServer *master, redisContext **mc, const char *const *mextra, itServer *replica,
                 redisContext **rc);

/* Waits until CLUSTER INFO on c says cluster_state:ok; fails the test after timeout_ms. */
void itWaitClusterOk(redisContext *c, int timeout_ms);

/* Starts n cluster-enabled servers (cluster-node-timeout 2 s), connects c[i] to each, and
 * makes the first nmasters of them one cluster of masters with redis-cli --cluster create
 * (the slots spread over them), waiting until each says cluster_state:ok; the other
 * n - nmasters are left for the test to add. Fails the test when any step fails. */
void itStartCluster(itServer *nodes, redisContext **c, int n, int nmasters);
/* Closes c[i] and stops and removes nodes[i], for i < n. */
void itStopCluster(itServer *nodes, redisContext **c, int n);

/* Sends count commands, each appended to c by fn(i, arg) (redisAppendCommand), pipelined in
 * chunks of 1000; fails the test when a reply does not come or is an error. */
void itPipelined(redisContext *c, int count, void (*fn)(int i, void *arg), void *arg);

/* A growable NUL-terminated text buffer: start from {0}; free(b.p) when done. */
typedef struct itBuf {
    char *p;
    size_t len, cap;
} itBuf;
/* Appends n bytes of s (and keeps a NUL after them); fails the test when out of memory. */
void itBufPut(itBuf *b, const char *s, size_t n);

/* The whole file at path (malloc'ed, NUL-terminated; free it), its length in *len when len
 * is not NULL; fails the test when it cannot be read. */
char *itReadFile(const char *path, size_t *len);
/* Writes len bytes of buf to path, replacing the file; fails the test when it cannot. */
void itWriteFile(const char *path, const void *buf, size_t len);

/* Waits until the server's clock (TIME) has passed the millisecond it showed when called,
 * so that what is written before and after gets different timestamps. */
void itWaitNextMs(redisContext *c);

#endif
