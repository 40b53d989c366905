/* test_drift.c -- the module's own command table against what users read and call: every
 * command, subcommand and option token that COMMAND DOCS reports for the SWARM.* commands
 * must appear in docs/commands.md and in the sources of both client libraries.
 *
 *   docs/commands.md   a command has a heading of its own ("## SWARM.ROUTE", "### SWARM.APPLY");
 *                      a subcommand is a word of that section (or "SWARM.ROUTE HELP" stands
 *                      anywhere); an option token is a word of
 *                      the subcommand's own "###" heading section (one whose heading names the
 *                      subcommand), or of the command's section for a command without
 *                      subcommands;
 *   clients/node/src   the command, subcommand and token each appear as a quoted literal
 *   clients/python/src ('SWARM.ROUTE', "ADD", `PRIORITY`) in some .ts / .py file.
 *
 * Commands documented under the "## Internal commands" heading (what replicas and the AOF
 * receive) are checked against the docs only: clients do not send them. Every gap found is
 * listed, then the test fails once, so one run shows the whole drift. */
#include "harness.h"

#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SWARM_SOURCE_DIR
#error "SWARM_SOURCE_DIR (the source tree) must be defined by the build"
#endif

static itServer srv;
static redisContext *c;

/* ---- Text helpers ---- */

static int wordChar(char ch) {
    return isalnum((unsigned char)ch) || ch == '_' || ch == '-';
}

/* Whether word occurs in [from, to) with no word character on either side. */
static int hasWord(const char *from, const char *to, const char *word) {
    size_t n = strlen(word);
    for (const char *p = from; p + n <= to; p++) {
        if (memcmp(p, word, n) != 0) continue;
        if ((p == from || !wordChar(p[-1])) && (p + n == to || !wordChar(p[n]))) return 1;
    }
    return 0;
}

static void upper(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

/* ---- docs/commands.md sections ---- */

static char *docs;

/* The markdown heading level of the line at p (1 for "# x"), 0 when it is not a heading. */
static int headingLevel(const char *p) {
    int n = 0;
    while (p[n] == '#') n++;
    return n > 0 && p[n] == ' ' ? n : 0;
}

/* The section of the first heading, of level minLevel or deeper, in [from, to) whose text
 * (after the "#"s) satisfies match: sets [*start, *end) to it, up to the next heading of its
 * level or a shallower one. Returns 0 when there is none. */
static int findSection(const char *from, const char *to, int minLevel,
                       int (*match)(const char *text, size_t len, const char *arg), const char *arg,
                       const char **start, const char **end) {
    for (const char *p = from; p < to; p = strchr(p, '\n'), p = p ? p + 1 : to) {
        int level = headingLevel(p);
        if (level < minLevel) continue;
        const char *text = p + level + 1, *eol = strchr(text, '\n');
        if (eol == NULL || eol > to) eol = to;
        if (!match(text, (size_t)(eol - text), arg)) continue;
        *start = p;
        *end = to;
        for (const char *q = eol; q < to; q = strchr(q, '\n'), q = q ? q + 1 : to) {
            int l = q == eol ? 0 : headingLevel(q);
            if (l > 0 && l <= level) {
                *end = q;
                break;
            }
        }
        return 1;
    }
    return 0;
}

static int headingIs(const char *text, size_t len, const char *name) {
    return len == strlen(name) && memcmp(text, name, len) == 0;
}

static int headingNames(const char *text, size_t len, const char *word) {
    return hasWord(text, text + len, word);
}

/* ---- Client sources ---- */

static char *clientText; /* the files being gathered, concatenated */
static size_t clientLen;
static const char *clientExt;

static int gather(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    size_t n = strlen(path), e = strlen(clientExt);
    if (type != FTW_F || n < e || strcmp(path + n - e, clientExt) != 0) return 0;
    char *text = itReadFile(path, NULL);
    size_t tl = strlen(text);
    clientText = realloc(clientText, clientLen + tl + 2);
    memcpy(clientText + clientLen, text, tl);
    clientLen += tl;
    clientText[clientLen++] = '\n';
    clientText[clientLen] = '\0';
    free(text);
    return 0;
}

/* Every .ext file below dir (relative to the source tree), concatenated (free it). */
static char *clientSources(const char *dir, const char *ext) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SWARM_SOURCE_DIR, dir);
    clientText = NULL;
    clientLen = 0;
    clientExt = ext;
    if (nftw(path, gather, 16, FTW_PHYS) != 0 || clientText == NULL)
        fail_msg("no %s sources under %s", ext, path);
    return clientText;
}

/* Whether text holds word as a quoted literal: 'word', "word" or `word`. */
static int hasLiteral(const char *text, const char *word) {
    static const char quotes[] = "'\"`";
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        if (p > text && strchr(quotes, p[-1]) && p[n] == p[-1]) return 1;
    }
    return 0;
}

/* ---- What COMMAND DOCS reports ---- */

typedef struct item {
    char cmd[64];   /* SWARM.ROUTE */
    char sub[64];   /* ADD, or "" for the command itself or its own options */
    char token[64]; /* an option token, or "" for the command or subcommand */
} item;

static item items[512];
static size_t nitems;

static void addItem(const char *cmd, const char *sub, const char *token) {
    if (nitems == sizeof(items) / sizeof(items[0])) fail_msg("more than %zu items", nitems);
    item *it = &items[nitems++];
    snprintf(it->cmd, sizeof(it->cmd), "%s", cmd);
    snprintf(it->sub, sizeof(it->sub), "%s", sub);
    snprintf(it->token, sizeof(it->token), "%s", token);
    upper(it->cmd);
    upper(it->sub);
}

/* The option tokens of an argument list (nested blocks and oneofs included). */
static void addTokens(const char *cmd, const char *sub, redisReply *args) {
    if (args == NULL) return;
    if (args->type != REDIS_REPLY_ARRAY) fail_msg("%s %s: arguments is not an array", cmd, sub);
    for (size_t i = 0; i < args->elements; i++) {
        redisReply *tok = itField(args->element[i], "token");
        if (tok && tok->str) addItem(cmd, sub, tok->str);
        addTokens(cmd, sub, itField(args->element[i], "arguments"));
    }
}

static void collect(void) {
    redisReply *list = itCmd(c, "COMMAND LIST FILTERBY MODULE swarm");
    assert_int_equal(list->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < list->elements; i++) {
        const char *name = list->element[i]->str;
        if (strchr(name, '|')) continue; /* subcommands come with their command's docs */
        redisReply *r = itCmd(c, "COMMAND DOCS %s", name);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            fail_msg("COMMAND DOCS %s: unexpected reply type %d", name, r->type);
        redisReply *doc = r->element[1];
        addItem(name, "", "");
        addTokens(name, "", itField(doc, "arguments"));
        redisReply *subs = itField(doc, "subcommands");
        for (size_t j = 0; subs && j + 1 < subs->elements; j += 2) {
            const char *bar = strchr(subs->element[j]->str, '|');
            if (bar == NULL) fail_msg("subcommand '%s' has no '|'", subs->element[j]->str);
            addItem(name, bar + 1, "");
            addTokens(name, bar + 1, itField(subs->element[j + 1], "arguments"));
        }
        freeReplyObject(r);
    }
    freeReplyObject(list);
}

/* ---- Fixtures ---- */

static int groupSetup(void **state) {
    itFixtureSetup(state);
    char path[512];
    snprintf(path, sizeof(path), "%s/docs/commands.md", SWARM_SOURCE_DIR);
    docs = itReadFile(path, NULL);
    collect();
    return 0;
}

static int groupTeardown(void **state) {
    free(docs);
    return itFixtureTeardown(state);
}

/* ---- Tests ---- */

/* The module reports what this test walks: if COMMAND DOCS lost its subcommands or tokens,
 * every other test here would pass over nothing. */
static void test_command_docs_report_subcommands_and_options(void **state) {
    (void)state;
    int route = 0, routeAdd = 0, regex = 0, sender = 0;
    for (size_t i = 0; i < nitems; i++) {
        const item *it = &items[i];
        route |= strcmp(it->cmd, "SWARM.ROUTE") == 0 && !it->sub[0] && !it->token[0];
        routeAdd |= strcmp(it->sub, "ADD") == 0 && !it->token[0];
        regex |= strcmp(it->sub, "ADD") == 0 && strcmp(it->token, "REGEX") == 0;
        sender |= strcmp(it->cmd, "SWARM.PUBLISH") == 0 && strcmp(it->token, "SENDER") == 0;
    }
    if (!route || !routeAdd || !regex || !sender)
        fail_msg("COMMAND DOCS misses SWARM.ROUTE, ROUTE ADD, its REGEX or PUBLISH's SENDER");
}

/* The section of it's command in the docs; 0 (and a reported gap) when it has none. */
static int commandSection(const item *it, const char **start, const char **end) {
    if (findSection(docs, docs + strlen(docs), 2, headingIs, it->cmd, start, end)) return 1;
    return 0;
}

static void test_every_command_subcommand_and_option_is_documented(void **state) {
    (void)state;
    int gaps = 0;
    for (size_t i = 0; i < nitems; i++) {
        const item *it = &items[i];
        const char *s, *e;
        if (!commandSection(it, &s, &e)) {
            if (!it->sub[0] && !it->token[0]) {
                fprintf(stderr, "docs/commands.md: no heading '%s'\n", it->cmd);
                gaps++;
            }
            continue;
        }
        char phrase[140];
        snprintf(phrase, sizeof(phrase), "%s %s", it->cmd, it->sub);
        if (it->sub[0] && !it->token[0] && !hasWord(s, e, it->sub) &&
            !hasWord(docs, docs + strlen(docs), phrase)) {
            fprintf(stderr, "docs/commands.md: neither the %s section nor '%s' names %s\n", it->cmd,
                    phrase, it->sub);
            gaps++;
        }
        if (!it->token[0]) continue;
        /* An option of a subcommand belongs in the subcommand's own section. */
        const char *ss = s, *se = e;
        if (it->sub[0] && !findSection(s, e, 3, headingNames, it->sub, &ss, &se)) {
            fprintf(stderr, "docs/commands.md: no heading for %s %s (to document %s)\n", it->cmd,
                    it->sub, it->token);
            gaps++;
            continue;
        }
        if (!hasWord(ss, se, it->token)) {
            fprintf(stderr, "docs/commands.md: %s%s%s section never names option %s\n", it->cmd,
                    it->sub[0] ? " " : "", it->sub, it->token);
            gaps++;
        }
    }
    if (gaps) fail_msg("%d gaps between COMMAND DOCS and docs/commands.md (listed above)", gaps);
}

/* Whether it's command is documented under "## Internal commands" (not sent by clients). */
static int isInternal(const item *it) {
    const char *s, *e, *is, *ie;
    if (!findSection(docs, docs + strlen(docs), 2, headingIs, "Internal commands", &is, &ie))
        return 0;
    return commandSection(it, &s, &e) && s >= is && s < ie;
}

static int clientGaps(const char *client, const char *text) {
    int gaps = 0;
    for (size_t i = 0; i < nitems; i++) {
        const item *it = &items[i];
        if (isInternal(it)) continue;
        const char *word = it->token[0] ? it->token : it->sub[0] ? it->sub : it->cmd;
        if (hasLiteral(text, word)) continue;
        fprintf(stderr, "%s: no quoted '%s' (%s%s%s%s%s)\n", client, word, it->cmd,
                it->sub[0] ? " " : "", it->sub, it->token[0] ? " option " : "", it->token);
        gaps++;
    }
    return gaps;
}

static void test_every_command_subcommand_and_option_is_reachable_from_node(void **state) {
    (void)state;
    char *text = clientSources("clients/node/src", ".ts");
    int gaps = clientGaps("clients/node/src", text);
    free(text);
    if (gaps) fail_msg("%d COMMAND DOCS items the Node client never sends (listed above)", gaps);
}

static void test_every_command_subcommand_and_option_is_reachable_from_python(void **state) {
    (void)state;
    char *text = clientSources("clients/python/src", ".py");
    int gaps = clientGaps("clients/python/src", text);
    free(text);
    if (gaps) fail_msg("%d COMMAND DOCS items the Python client never sends (listed above)", gaps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_docs_report_subcommands_and_options),
        cmocka_unit_test(test_every_command_subcommand_and_option_is_documented),
        cmocka_unit_test(test_every_command_subcommand_and_option_is_reachable_from_node),
        cmocka_unit_test(test_every_command_subcommand_and_option_is_reachable_from_python),
    };
    itFixture(&srv, &c, NULL, NULL);
    return cmocka_run_group_tests(tests, groupSetup, groupTeardown);
}
