/*
 * check_resp: the RESP request parser and reply builder. Every input of the tables is fed
 * whole, one byte at a time, split in two at every offset and in random pieces, and must
 * give the same requests and the same error each way. Redis' own protocol conformance
 * cases, the limits, the bulk window, and the exact bytes of every reply in RESP2 and RESP3.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "resp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* For the inner loops: every ck_assert records a checkpoint (a write to the runner), which
 * would make a byte-by-byte feed of a big input crawl. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                                  \
    } while (0)
#define S(lit) lit, sizeof(lit) - 1

static const resp_limits lim_default = {1024 * 1024, 1000, 4 * 1024 * 1024, false};
static const resp_limits lim_small = {10, 3, 16, false};
static const resp_limits lim_restricted = {1024 * 1024, 1000, 4 * 1024 * 1024, true};

/* ---- the harness ----------------------------------------------------------------------
 * The outcome of feeding an input is rendered as text: each request as its arguments
 * joined by '|' and ended by ';' (bytes outside printable ASCII, and | ; \ !, as \xHH),
 * then "!" and the error text if the parser gave up. */

typedef enum { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_AT, SPLIT_RANDOM } split_kind;

static void render_request(FILE *f, const resp_arg *argv, int argc)
{
    for (int i = 0; i < argc; i++) {
        const unsigned char *s = (const unsigned char *)argv[i].ptr;

        REQUIRE(argv[i].ptr[argv[i].len] == '\0');
        if (i > 0)
            fputc('|', f);
        for (size_t k = 0; k < argv[i].len; k++) {
            if (s[k] < 0x20 || s[k] >= 0x7f || strchr("|;\\!", s[k]) != NULL)
                fprintf(f, "\\x%02x", s[k]);
            else
                fputc(s[k], f);
        }
    }
    fputc(';', f);
}

static size_t next_end(split_kind kind, size_t at, unsigned *seed, size_t off, size_t len)
{
    size_t end;

    switch (kind) {
    case SPLIT_BYTES:
        return off + 1;
    case SPLIT_AT:
        return off < at ? at : len;
    case SPLIT_RANDOM:
        *seed = *seed * 1103515245u + 12345u;
        end = off + 1 + (*seed >> 16) % 64;
        return end < len ? end : len;
    case SPLIT_WHOLE:
        break;
    }
    return len;
}

/* Feeds in as kind says; returns the rendered outcome (malloc'd). */
static char *run(const char *in, size_t len, const resp_limits *lim, split_kind kind, size_t at)
{
    resp_parser *p = resp_parser_new();
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    unsigned seed = (unsigned)at + 1;
    size_t off = 0, used;
    resp_arg *argv;
    int argc;
    const char *err;

    REQUIRE(p != NULL);
    REQUIRE(f != NULL);
    /* Nothing at all is a valid feed, and consumes nothing. */
    REQUIRE(resp_parse(p, lim, in, 0, &used, &argv, &argc, &err) == RESP_AGAIN);
    REQUIRE(used == 0);
    while (off < len) {
        size_t end = next_end(kind, at, &seed, off, len);

        while (off < end) {
            resp_status st = resp_parse(p, lim, in + off, end - off, &used, &argv, &argc, &err);

            if (st == RESP_OK) {
                REQUIRE(used > 0);
                REQUIRE(used <= end - off);
                REQUIRE(argc > 0);
                render_request(f, argv, argc);
                resp_argv_free(argv, argc);
                off += used;
            } else if (st == RESP_AGAIN) {
                REQUIRE(used == end - off);
                REQUIRE(argv == NULL);
                off = end;
            } else {
                REQUIRE(st == RESP_ERROR);
                REQUIRE(err != NULL);
                fprintf(f, "!%s", err);
                goto done;
            }
        }
    }
done:
    resp_parser_free(p);
    fclose(f);
    return out;
}

/* Every way of splitting in must agree with feeding it whole, and with want. */
static void check_all_splits(const char *name, const char *in, size_t len, const resp_limits *lim,
                             const char *want, bool every_offset)
{
    char *got = run(in, len, lim, SPLIT_WHOLE, 0);

    if (strcmp(got, want) != 0)
        ck_abort_msg("%s: whole gave \"%s\", expected \"%s\"", name, got, want);
    free(got);
    got = run(in, len, lim, SPLIT_BYTES, 0);
    if (strcmp(got, want) != 0)
        ck_abort_msg("%s: byte by byte gave \"%s\", expected \"%s\"", name, got, want);
    free(got);
    for (size_t k = 0; k <= len; k++) {
        if (!every_offset && k > 2 && k + 2 < len && k != len / 2)
            continue;
        got = run(in, len, lim, SPLIT_AT, k);
        if (strcmp(got, want) != 0)
            ck_abort_msg("%s: split at %zu gave \"%s\", expected \"%s\"", name, k, got, want);
        free(got);
    }
    for (size_t seed = 0; seed < 8; seed++) {
        got = run(in, len, lim, SPLIT_RANDOM, seed);
        if (strcmp(got, want) != 0)
            ck_abort_msg("%s: random pieces (seed %zu) gave \"%s\", expected \"%s\"", name, seed,
                         got, want);
        free(got);
    }
}

typedef struct parse_row {
    const char *name;
    const char *in;
    size_t len;
    const resp_limits *lim; /* NULL: lim_default */
    const char *want;
} parse_row;

/* ---- inputs that parse --------------------------------------------------------------- */

static const parse_row good[] = {
    {"multibulk", S("*1\r\n$4\r\nPING\r\n"), NULL, "PING;"},
    {"multibulk set", S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), NULL, "SET|key|value;"},
    {"inline crlf", S("PING\r\n"), NULL, "PING;"},
    {"inline lf", S("set k v\n"), NULL, "set|k|v;"},
    {"inline whitespace", S("  set \t k   v  \r\n"), NULL, "set|k|v;"},
    {"inline cr inside", S("a\rb\n"), NULL, "a|b;"},
    {"inline vtab is not a separator", S("a\vb c\r\n"), NULL, "a\\x0bb|c;"},
    {"inline starting with $", S("$foo bar\r\n"), NULL, "$foo|bar;"},
    {"inline quotes", S("set \"a b\" 'c d'\r\n"), NULL, "set|a b|c d;"},
    {"inline every double-quote escape",
     S("echo \"\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7a\\xfF\\q\\xZZ\\x4\"\r\n"), NULL,
     "echo|\\x0a\\x0d\\x09\\x08\\x07\\x5c\"Az\\xffqxZZx4;"},
    {"inline single-quote escapes", S("echo 'it\\'s' 'a\\nb\"c'\r\n"), NULL,
     "echo|it's|a\\x5cnb\"c;"},
    {"inline quote inside a token", S("set ab\"c d\"\r\n"), NULL, "set|abc d;"},
    {"inline closing quote then tab", S("set \"a\"\tb\r\n"), NULL, "set|a|b;"},
    {"inline closing quote at end", S("get \"k\"\r\n"), NULL, "get|k;"},
    {"inline empty quoted", S("set k \"\" ''\r\n"), NULL, "set|k||;"},
    {"inline NUL ends the arguments", S("get a\0b c\r\nPING\r\n"), NULL, "get|a;PING;"},
    {"inline only NULs", S("\0\0\0\r\n"), NULL, ""},
    {"binary bulk", S("*2\r\n$3\r\nSET\r\n$8\r\na\0b\r\n\r\nc\r\n"), NULL,
     "SET|a\\x00b\\x0d\\x0a\\x0d\\x0ac;"},
    {"bulk of CRLFs", S("*1\r\n$4\r\n\r\n\r\n\r\n"), NULL, "\\x0d\\x0a\\x0d\\x0a;"},
    {"empty bulk", S("*2\r\n$3\r\nGET\r\n$0\r\n\r\n"), NULL, "GET|;"},
    {"only empty bulks", S("*2\r\n$0\r\n\r\n$0\r\n\r\n"), NULL, "|;"},
    {"pipelined", S("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\nGET x\n"), NULL,
     "PING;ECHO|hi;PING;GET|x;"},
    {"empty requests mixed in", S("\r\n*0\r\n*1\r\n$1\r\na\r\n*-1\r\n\n   \r\n*-10\r\nb\r\n\n"),
     NULL, "a;b;"},
    {"length lines at the edges", S("*1\r\n$9\r\n*$\r\n0-9$*\r\n*1\r\n$1\r\n$\r\n"), NULL,
     "*$\\x0d\\x0a0-9$*;$;"},
    /* Redis tests/unit/protocol.tcl: "Handle an empty query", "Negative multibulk length" */
    {"redis empty query", S("\r\n*1\r\n$4\r\nPING\r\n"), NULL, "PING;"},
    {"redis negative multibulk length", S("*-10\r\n*1\r\n$4\r\nPING\r\n"), NULL, "PING;"},
    /* the limits, at their edge */
    {"max_args reached", S("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), &lim_small, "a|b|c;"},
    {"max_args inline reached", S("a b c\r\n"), &lim_small, "a|b|c;"},
    {"max_bulk reached", S("*1\r\n$10\r\n0123456789\r\n"), &lim_small, "0123456789;"},
    {"max_request reached", S("*2\r\n$10\r\n0123456789\r\n$6\r\n012345\r\n"), &lim_small,
     "0123456789|012345;"},
    {"max_request is per request",
     S("*2\r\n$10\r\n0123456789\r\n$6\r\n012345\r\n*2\r\n$10\r\n0123456789\r\n$6\r\n012345\r\n"),
     &lim_small, "0123456789|012345;0123456789|012345;"},
    {"restricted 10 args",
     S("*10\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
       "$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n"),
     &lim_restricted, "0|1|2|3|4|5|6|7|8|9;"},
    {"restricted 10 inline args", S("0 1 2 3 4 5 6 7 8 9\r\n"), &lim_restricted,
     "0|1|2|3|4|5|6|7|8|9;"},
};

/* ---- inputs that end in an error (requests before it still count) ------------------- */

static const parse_row bad[] = {
    /* Redis tests/unit/protocol.tcl */
    {"redis out of range multibulk length", S("*3000000000\r\n"), NULL,
     "!Protocol error: invalid multibulk length"},
    {"redis wrong multibulk payload header", S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), NULL,
     "!Protocol error: expected '$', got 'f'"},
    {"redis negative multibulk payload length", S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"redis out of range multibulk payload length",
     S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"redis non-number multibulk payload length", S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n"),
     NULL, "!Protocol error: invalid bulk length"},
    {"redis multibulk not followed by bulk", S("*1\r\nfoo\r\n"), NULL,
     "!Protocol error: expected '$', got 'f'"},
    {"redis negative bulk length", S("*1\r\n$-10\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"redis bulk length over max_bulk", S("*1\r\n$2000000000\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"redis non-number bulk length", S("*1\r\n$blabla\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"redis unbalanced quotes", S("set \"\"\"test-key\"\"\" test-value\r\nping\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    {"redis unbalanced quotes 2", S("set \"\"\"test-value\r\nping\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    /* counts and lengths */
    {"count not a number", S("*1x\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count leading zero", S("*01\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count plus sign", S("*+1\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count space", S("* 1\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count empty", S("*\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count minus zero", S("*-0\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count without CR", S("*1\n$1\r\na\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count overflows", S("*99999999999999999999999\r\n"), NULL,
     "!Protocol error: invalid multibulk length"},
    {"count INT_MAX + 1", S("*2147483648\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"count over max_args", S("*1001\r\n"), NULL, "!Protocol error: invalid multibulk length"},
    {"bulk length leading zero", S("*1\r\n$01\r\na\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"bulk length empty", S("*1\r\n$\r\n"), NULL, "!Protocol error: invalid bulk length"},
    {"bulk length without CR", S("*1\r\n$1\na\r\n"), NULL, "!Protocol error: invalid bulk length"},
    {"bulk length overflows", S("*1\r\n$99999999999999999999\r\n"), NULL,
     "!Protocol error: invalid bulk length"},
    {"expected $ got *", S("*2\r\n$1\r\na\r\n*1\r\n"), NULL,
     "!Protocol error: expected '$', got '*'"},
    {"no CRLF after data", S("*1\r\n$3\r\nfooXY"), NULL,
     "!Protocol error: expected CRLF after bulk data"},
    {"CR then junk after data", S("*1\r\n$3\r\nfoo\rX"), NULL,
     "!Protocol error: expected CRLF after bulk data"},
    {"LF alone after data", S("*1\r\n$3\r\nfoo\n"), NULL,
     "!Protocol error: expected CRLF after bulk data"},
    {"requests before an error count", S("PING\r\n*1\r\n$1\r\na\r\n*1\r\nfoo"), NULL,
     "PING;a;!Protocol error: expected '$', got 'f'"},
    /* inline quoting */
    {"unterminated double quote", S("get \"abc\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    {"unterminated single quote", S("get 'abc\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    {"single quote closed then text", S("get 'a'b\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    {"backslash at the end in quotes", S("get \"abc\\\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    {"NUL inside quotes", S("get \"a\0b\"\r\n"), NULL,
     "!Protocol error: unbalanced quotes in request"},
    /* limits */
    {"max_args exceeded", S("*4\r\n"), &lim_small, "!Protocol error: invalid multibulk length"},
    {"max_args inline exceeded", S("a b c d\r\n"), &lim_small,
     "!Protocol error: invalid multibulk length"},
    {"max_bulk exceeded", S("*1\r\n$11\r\n"), &lim_small, "!Protocol error: invalid bulk length"},
    {"max_bulk inline exceeded", S("get 01234567890\r\n"), &lim_small,
     "!Protocol error: invalid bulk length"},
    {"max_request exceeded", S("*2\r\n$10\r\n0123456789\r\n$7\r\n"), &lim_small,
     "!Protocol error: too big request"},
    {"max_request inline exceeded", S("0123456789 0123456\r\n"), &lim_small,
     "!Protocol error: too big request"},
    {"restricted 11 args", S("*11\r\n"), &lim_restricted,
     "!Protocol error: unauthenticated multibulk length"},
    {"restricted 11 inline args", S("0 1 2 3 4 5 6 7 8 9 10\r\n"), &lim_restricted,
     "!Protocol error: unauthenticated multibulk length"},
    {"restricted big bulk", S("*1\r\n$16385\r\n"), &lim_restricted,
     "!Protocol error: unauthenticated bulk length"},
};

START_TEST(test_good)
{
    const parse_row *r = &good[_i];

    check_all_splits(r->name, r->in, r->len, r->lim ? r->lim : &lim_default, r->want, true);
}
END_TEST

START_TEST(test_bad)
{
    const parse_row *r = &bad[_i];

    check_all_splits(r->name, r->in, r->len, r->lim ? r->lim : &lim_default, r->want, true);
}
END_TEST

/* ---- big inputs, built here --------------------------------------------------------- */

typedef struct big_row {
    const char *name;
    const char *head; /* then fill repeated n times, then tail */
    size_t head_len;
    char fill;
    size_t n;
    const char *tail;
    size_t tail_len;
    const resp_limits *lim;
    const char *want; /* "=FILL;" : one request, fill repeated n times */
} big_row;

static const big_row bigs[] = {
    /* Redis tests/unit/protocol.tcl "Protocol desync regression test": 1 MiB floods */
    {"desync NULs", S(""), '\0', 1024 * 1024, S(""), NULL,
     "!Protocol error: too big inline request"},
    {"desync *NULs", S("*"), '\0', 1024 * 1024, S(""), NULL,
     "!Protocol error: too big mbulk count string"},
    {"desync $NULs", S("$"), '\0', 1024 * 1024, S(""), NULL,
     "!Protocol error: too big inline request"},
    {"NULs up to the inline limit", S(""), '\0', RESP_INLINE_MAX, S(""), NULL, ""},
    {"NULs up to the inline limit, then LF", S(""), '\0', RESP_INLINE_MAX, S("\n"), NULL, ""},
    {"inline at the limit", S(""), 'a', RESP_INLINE_MAX, S("\n"), NULL, "=FILL;"},
    {"inline at the limit with CR", S(""), 'a', RESP_INLINE_MAX - 1, S("\r\n"), NULL, "=FILL;"},
    {"inline over the limit", S(""), 'a', RESP_INLINE_MAX + 1, S("\n"), NULL,
     "!Protocol error: too big inline request"},
    {"count line over the limit", S("*"), '1', RESP_INLINE_MAX + 1, S(""), NULL,
     "!Protocol error: too big mbulk count string"},
    {"count line at the limit is just invalid", S("*"), '1', RESP_INLINE_MAX - 1, S("\r\n"), NULL,
     "!Protocol error: invalid multibulk length"},
    {"bulk length line over the limit", S("*1\r\n$"), '1', RESP_INLINE_MAX + 1, S(""), NULL,
     "!Protocol error: too big bulk count string"},
    {"restricted bulk at the limit", S("*1\r\n$16384\r\n"), 'x', RESP_RESTRICTED_BULK, S("\r\n"),
     &lim_restricted, "=FILL;"},
    {"big bulk", S("*1\r\n$100000\r\n"), 'x', 100000, S("\r\n"), NULL, "=FILL;"},
    {"inline under restricted bulk limit", S(""), 'b', RESP_RESTRICTED_BULK + 1, S("\r\n"),
     &lim_restricted, "!Protocol error: unauthenticated bulk length"},
};

START_TEST(test_big)
{
    const big_row *r = &bigs[_i];
    size_t len = r->head_len + r->n + r->tail_len;
    char *in = malloc(len);
    char *want;

    memcpy(in, r->head, r->head_len);
    memset(in + r->head_len, r->fill, r->n);
    memcpy(in + r->head_len + r->n, r->tail, r->tail_len);
    if (strcmp(r->want, "=FILL;") == 0) {
        want = malloc(r->n + 2);
        memset(want, r->fill, r->n);
        strcpy(want + r->n, ";");
    } else {
        want = strdup(r->want);
    }
    check_all_splits(r->name, in, len, r->lim ? r->lim : &lim_default, want, false);
    free(want);
    free(in);
}
END_TEST

/* A flood is rejected as soon as it is too big, however long it goes on after that. */
START_TEST(test_flood_fails_early)
{
    size_t len = 8 * 1024 * 1024, used;
    char *in = calloc(1, len);
    resp_parser *p = resp_parser_new();
    resp_arg *argv;
    int argc;
    const char *err;

    in[0] = '*';
    ck_assert_int_eq(resp_parse(p, &lim_default, in, len, &used, &argv, &argc, &err), RESP_ERROR);
    ck_assert_str_eq(err, "Protocol error: too big mbulk count string");
    ck_assert_uint_le(used, RESP_INLINE_MAX + 2);
    /* fed again anyway: the same answer, nothing consumed */
    ck_assert_int_eq(resp_parse(p, &lim_default, "\r\n", 2, &used, &argv, &argc, &err), RESP_ERROR);
    ck_assert_str_eq(err, "Protocol error: too big mbulk count string");
    ck_assert_uint_eq(used, 0);
    resp_parser_free(p);
    free(in);
}
END_TEST

/* Many arguments: the argv array grows past any first guess and keeps every one. */
START_TEST(test_many_args)
{
    resp_limits lim = lim_default;
    char *in = NULL, *want = NULL, *got;
    size_t inlen = 0, wantlen = 0;
    FILE *fi = open_memstream(&in, &inlen), *fw = open_memstream(&want, &wantlen);
    int n = 5000;

    lim.max_args = n;
    fprintf(fi, "*%d\r\n", n);
    for (int i = 0; i < n; i++) {
        fprintf(fi, "$%d\r\n%d\r\n", snprintf(NULL, 0, "%d", i), i);
        fprintf(fw, "%s%d", i ? "|" : "", i);
    }
    fputc(';', fw);
    fclose(fi);
    fclose(fw);
    got = run(in, inlen, &lim, SPLIT_WHOLE, 0);
    ck_assert_str_eq(got, want);
    free(got);
    got = run(in, inlen, &lim, SPLIT_BYTES, 0);
    ck_assert_str_eq(got, want);
    free(got);
    lim.max_args = n - 1;
    got = run(in, inlen, &lim, SPLIT_WHOLE, 0);
    ck_assert_str_eq(got, "!Protocol error: invalid multibulk length");
    free(got);
    free(in);
    free(want);
}
END_TEST

/* Partial requests at every stage are freed with the parser (ASan / valgrind check it). */
START_TEST(test_free_partial)
{
    static const char in[] = "*3\r\n$3\r\nSET\r\n$100000\r\nabc";
    size_t used;
    resp_arg *argv;
    int argc;
    const char *err;

    for (size_t k = 0; k <= sizeof(in) - 1; k++) {
        resp_parser *p = resp_parser_new();

        ck_assert_int_eq(resp_parse(p, &lim_default, in, k, &used, &argv, &argc, &err), RESP_AGAIN);
        resp_parser_free(p);
    }
    resp_parser_free(NULL);
    resp_argv_free(NULL, 0);
}
END_TEST

/* What a partial request holds is told: each argument at its allocated size from its length
 * line on (a bulk of 100,000 bytes of which 3 came), the array, and nothing once the
 * request is handed over. */
START_TEST(test_held)
{
    static const char in[] = "*3\r\n$3\r\nSET\r\n$100000\r\nabc";
    resp_parser *p = resp_parser_new();
    size_t used;
    resp_arg *argv;
    int argc;
    const char *err;
    char *rest = malloc(100000 - 3 + 2);

    ck_assert_uint_eq(resp_parser_held(p), 0);
    ck_assert_int_eq(resp_parse(p, &lim_default, in, 4, &used, &argv, &argc, &err), RESP_AGAIN);
    ck_assert_uint_eq(resp_parser_held(p), 0); /* a count alone allocates nothing */
    ck_assert_int_eq(
        resp_parse(p, &lim_default, in + 4, sizeof(in) - 1 - 4, &used, &argv, &argc, &err),
        RESP_AGAIN);
    ck_assert_uint_ge(resp_parser_held(p), 3 + 1 + 100000 + 1 + 3 * sizeof(resp_arg));
    ck_assert_uint_le(resp_parser_held(p), 3 + 1 + 100000 + 1 + 8 * sizeof(resp_arg));
    memset(rest, 'x', 100000 - 3);
    memcpy(rest + 100000 - 3, "\r\n", 2);
    ck_assert_int_eq(resp_parse(p, &lim_default, rest, 100000 - 3 + 2, &used, &argv, &argc, &err),
                     RESP_AGAIN);
    ck_assert_int_eq(resp_parse(p, &lim_default, "$1\r\nv\r\n", 7, &used, &argv, &argc, &err),
                     RESP_OK);
    ck_assert_int_eq(argc, 3);
    ck_assert_uint_eq(resp_parser_held(p), 0);
    resp_argv_free(argv, argc);
    resp_parser_free(p);
    free(rest);
}
END_TEST

/* ---- the bulk window --------------------------------------------------------------- */

START_TEST(test_bulk_window)
{
    static const char head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$102400\r\n";
    const size_t big = 100 * 1024;
    char *data = malloc(big);
    resp_parser *p = resp_parser_new();
    size_t used, want, filled = 0;
    resp_arg *argv;
    int argc;
    const char *err;
    char *dst;
    const size_t steps[] = {1, 4095, 30000, 0, 777};

    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 7 + i / 251);
    ck_assert(!resp_bulk_window(p, &dst, &want)); /* nothing in progress */
    /* a small bulk is never offered */
    ck_assert_int_eq(resp_parse(p, &lim_default, head, 17, &used, &argv, &argc, &err), RESP_AGAIN);
    ck_assert(!resp_bulk_window(p, &dst, &want));
    ck_assert_int_eq(
        resp_parse(p, &lim_default, head + 17, sizeof(head) - 1 - 17, &used, &argv, &argc, &err),
        RESP_AGAIN);
    ck_assert(resp_bulk_window(p, &dst, &want));
    ck_assert_uint_eq(want, big);
    for (size_t s = 0; s < N(steps); s++) {
        char *d2;
        size_t w2;

        memcpy(dst, data + filled, steps[s]);
        resp_bulk_commit(p, steps[s]);
        filled += steps[s];
        ck_assert(resp_bulk_window(p, &d2, &w2));
        ck_assert_ptr_eq(d2, dst + steps[s]);
        ck_assert_uint_eq(w2, big - filled);
        dst = d2;
    }
    /* the ordinary path in the middle: resp_parse copies into the same argument */
    ck_assert_int_eq(resp_parse(p, &lim_default, data + filled, 1000, &used, &argv, &argc, &err),
                     RESP_AGAIN);
    filled += 1000;
    ck_assert(resp_bulk_window(p, &dst, &want));
    ck_assert_uint_eq(want, big - filled);
    memcpy(dst, data + filled, want - 10);
    resp_bulk_commit(p, want - 10);
    filled += want - 10;
    ck_assert(resp_bulk_window(p, &dst, &want));
    ck_assert_uint_eq(want, 10);
    memcpy(dst, data + filled, 10);
    resp_bulk_commit(p, 10);
    /* complete: no window any more, only the CRLF is missing */
    ck_assert(!resp_bulk_window(p, &dst, &want));
    ck_assert_int_eq(resp_parse(p, &lim_default, "\r", 1, &used, &argv, &argc, &err), RESP_AGAIN);
    ck_assert_int_eq(resp_parse(p, &lim_default, "\nPING\r\n", 7, &used, &argv, &argc, &err),
                     RESP_OK);
    ck_assert_uint_eq(used, 1);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[0].ptr, "SET");
    ck_assert_str_eq(argv[1].ptr, "k");
    ck_assert_uint_eq(argv[2].len, big);
    ck_assert(memcmp(argv[2].ptr, data, big) == 0);
    ck_assert_int_eq(argv[2].ptr[big], '\0');
    resp_argv_free(argv, argc);
    ck_assert(!resp_bulk_window(p, &dst, &want));
    resp_parser_free(p);
    free(data);
}
END_TEST

/* The window opens at exactly RESP_BIG_ARG bytes, and a commit cannot overrun it. */
START_TEST(test_bulk_window_edges)
{
    char head[64];
    resp_parser *p = resp_parser_new();
    size_t used, want;
    resp_arg *argv;
    int argc;
    const char *err;
    char *dst;
    int n;

    n = snprintf(head, sizeof(head), "*1\r\n$%d\r\n", RESP_BIG_ARG - 1);
    ck_assert_int_eq(resp_parse(p, &lim_default, head, (size_t)n, &used, &argv, &argc, &err),
                     RESP_AGAIN);
    ck_assert(!resp_bulk_window(p, &dst, &want));
    resp_parser_free(p);

    p = resp_parser_new();
    n = snprintf(head, sizeof(head), "*1\r\n$%d\r\n", RESP_BIG_ARG);
    ck_assert_int_eq(resp_parse(p, &lim_default, head, (size_t)n, &used, &argv, &argc, &err),
                     RESP_AGAIN);
    ck_assert(resp_bulk_window(p, &dst, &want));
    ck_assert_uint_eq(want, RESP_BIG_ARG);
    memset(dst, 'z', want);
    resp_bulk_commit(p, want + 100);
    ck_assert(!resp_bulk_window(p, &dst, &want));
    ck_assert_int_eq(resp_parse(p, &lim_default, "\r\n", 2, &used, &argv, &argc, &err), RESP_OK);
    ck_assert_int_eq(argc, 1);
    ck_assert_uint_eq(argv[0].len, RESP_BIG_ARG);
    ck_assert_int_eq(argv[0].ptr[RESP_BIG_ARG - 1], 'z');
    ck_assert_int_eq(argv[0].ptr[RESP_BIG_ARG], '\0');
    resp_argv_free(argv, argc);
    resp_bulk_commit(p, 5); /* nothing in progress: ignored */
    resp_parser_free(p);
}
END_TEST

/* ---- replies ------------------------------------------------------------------------ */

static void expect(struct evbuffer *b, const char *want, size_t len)
{
    size_t got = evbuffer_get_length(b);
    char *s = (char *)evbuffer_pullup(b, -1);

    ck_assert_msg(got == len && (len == 0 || memcmp(s, want, len) == 0),
                  "reply \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)", (int)got, s ? s : "",
                  got, (int)len, want, len);
    evbuffer_drain(b, got);
}

typedef enum {
    OP_SIMPLE,
    OP_ERROR,
    OP_INT,
    OP_BULK,
    OP_BULK_STR,
    OP_NULL,
    OP_NULL_ARRAY,
    OP_ARRAY,
    OP_MAP,
    OP_SET,
    OP_PUSH,
    OP_BOOL,
    OP_DOUBLE,
    OP_VERBATIM,
} reply_op;

typedef struct reply_row {
    reply_op op;
    const char *s; /* text or bytes */
    size_t slen;
    long long n;
    double d;
    const char *want2;
    size_t want2_len;
    const char *want3;
    size_t want3_len;
} reply_row;

#define SAME(lit) lit, sizeof(lit) - 1, lit, sizeof(lit) - 1

static const reply_row replies[] = {
    {OP_SIMPLE, "OK", 0, 0, 0, SAME("+OK\r\n")},
    {OP_SIMPLE, "", 0, 0, 0, SAME("+\r\n")},
    {OP_ERROR, "ERR unknown command", 0, 0, 0, SAME("-ERR unknown command\r\n")},
    {OP_ERROR, "ERR bad\r\nthing\n\r", 0, 0, 0, SAME("-ERR bad  thing  \r\n")},
    {OP_INT, NULL, 0, 0, 0, SAME(":0\r\n")},
    {OP_INT, NULL, 0, -1, 0, SAME(":-1\r\n")},
    {OP_INT, NULL, 0, 1234567890123LL, 0, SAME(":1234567890123\r\n")},
    {OP_INT, NULL, 0, LLONG_MAX, 0, SAME(":9223372036854775807\r\n")},
    {OP_INT, NULL, 0, LLONG_MIN, 0, SAME(":-9223372036854775808\r\n")},
    {OP_BULK, "abc", 3, 0, 0, SAME("$3\r\nabc\r\n")},
    {OP_BULK, "", 0, 0, 0, SAME("$0\r\n\r\n")},
    {OP_BULK, "a\0\r\nb", 5, 0, 0, SAME("$5\r\na\0\r\nb\r\n")},
    {OP_BULK_STR, "hello", 0, 0, 0, SAME("$5\r\nhello\r\n")},
    {OP_NULL, NULL, 0, 0, 0, S("$-1\r\n"), S("_\r\n")},
    {OP_NULL_ARRAY, NULL, 0, 0, 0, S("*-1\r\n"), S("_\r\n")},
    {OP_ARRAY, NULL, 0, 3, 0, SAME("*3\r\n")},
    {OP_ARRAY, NULL, 0, 0, 0, SAME("*0\r\n")},
    {OP_ARRAY, NULL, 0, -1, 0, SAME("*-1\r\n")},
    {OP_MAP, NULL, 0, 2, 0, S("*4\r\n"), S("%2\r\n")},
    {OP_MAP, NULL, 0, 0, 0, S("*0\r\n"), S("%0\r\n")},
    {OP_SET, NULL, 0, 5, 0, S("*5\r\n"), S("~5\r\n")},
    {OP_PUSH, NULL, 0, 3, 0, S("*3\r\n"), S(">3\r\n")},
    {OP_BOOL, NULL, 0, 1, 0, S(":1\r\n"), S("#t\r\n")},
    {OP_BOOL, NULL, 0, 0, 0, S(":0\r\n"), S("#f\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 1.5, S("$3\r\n1.5\r\n"), S(",1.5\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 3.0, S("$1\r\n3\r\n"), S(",3\r\n")},
    {OP_DOUBLE, NULL, 0, 0, -2.25, S("$5\r\n-2.25\r\n"), S(",-2.25\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 1e300, S("$6\r\n1e+300\r\n"), S(",1e+300\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 0.1, S("$3\r\n0.1\r\n"), S(",0.1\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 0.1 + 0.2, S("$19\r\n0.30000000000000004\r\n"),
     S(",0.30000000000000004\r\n")},
    {OP_DOUBLE, NULL, 0, 0, 0.0, S("$1\r\n0\r\n"), S(",0\r\n")},
    {OP_DOUBLE, NULL, 0, 0, INFINITY, S("$3\r\ninf\r\n"), S(",inf\r\n")},
    {OP_DOUBLE, NULL, 0, 0, -INFINITY, S("$4\r\n-inf\r\n"), S(",-inf\r\n")},
    {OP_DOUBLE, NULL, 0, 0, NAN, S("$3\r\nnan\r\n"), S(",nan\r\n")},
    {OP_VERBATIM, "hello", 5, 0, 0, S("$5\r\nhello\r\n"), S("=9\r\ntxt:hello\r\n")},
    {OP_VERBATIM, "a\r\nb", 4, 0, 0, S("$4\r\na\r\nb\r\n"), S("=8\r\nmkd:a\r\nb\r\n")},
    {OP_VERBATIM, "", 0, 0, 0, S("$0\r\n\r\n"), S("=4\r\ntxt:\r\n")},
};

static void add_reply(struct evbuffer *b, const reply_row *r, int proto)
{
    switch (r->op) {
    case OP_SIMPLE:
        resp_add_simple(b, r->s);
        break;
    case OP_ERROR:
        resp_add_error(b, r->s);
        break;
    case OP_INT:
        resp_add_int(b, r->n);
        break;
    case OP_BULK:
        resp_add_bulk(b, r->s, r->slen);
        break;
    case OP_BULK_STR:
        resp_add_bulk_str(b, r->s);
        break;
    case OP_NULL:
        resp_add_null(b, proto);
        break;
    case OP_NULL_ARRAY:
        resp_add_null_array(b, proto);
        break;
    case OP_ARRAY:
        resp_add_array(b, (long)r->n);
        break;
    case OP_MAP:
        resp_add_map(b, proto, (long)r->n);
        break;
    case OP_SET:
        resp_add_set(b, proto, (long)r->n);
        break;
    case OP_PUSH:
        resp_add_push(b, proto, (long)r->n);
        break;
    case OP_BOOL:
        resp_add_bool(b, proto, r->n != 0);
        break;
    case OP_DOUBLE:
        resp_add_double(b, proto, r->d);
        break;
    case OP_VERBATIM:
        resp_add_verbatim(b, proto, memchr(r->s, '\r', r->slen) ? "mkd" : "txt", r->s, r->slen);
        break;
    }
}

START_TEST(test_reply)
{
    const reply_row *r = &replies[_i];
    struct evbuffer *b = evbuffer_new();

    add_reply(b, r, 2);
    expect(b, r->want2, r->want2_len);
    add_reply(b, r, 3);
    expect(b, r->want3, r->want3_len);
    /* appended, never replacing what the buffer held */
    evbuffer_add(b, "x", 1);
    add_reply(b, r, 3);
    ck_assert_uint_eq(evbuffer_get_length(b), 1 + r->want3_len);
    ck_assert_int_eq(*(char *)evbuffer_pullup(b, 1), 'x');
    evbuffer_free(b);
}
END_TEST

START_TEST(test_reply_formatted)
{
    struct evbuffer *b = evbuffer_new();
    size_t big = 10000;
    char *text = malloc(big + 1), *want = malloc(big + 64);
    int n;

    resp_add_errorf(b, "ERR %s %d", "x\ny", 42);
    expect(b, S("-ERR x y 42\r\n"));
    resp_add_errorf(b, "WRONGTYPE %s", "\r\n");
    expect(b, S("-WRONGTYPE   \r\n"));
    resp_add_bulkf(b, "%d-%s", 7, "x");
    expect(b, S("$3\r\n7-x\r\n"));
    resp_add_bulkf(b, "%s", "");
    expect(b, S("$0\r\n\r\n"));
    resp_add_bulkf(b, "a\r\n%c", 'b'); /* bulks carry any bytes as they are */
    expect(b, S("$4\r\na\r\nb\r\n"));

    /* longer than any fixed buffer a formatter might start with */
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('a' + i % 26);
    text[big] = '\0';
    text[5000] = '\n';
    resp_add_bulkf(b, "<%s>", text);
    n = snprintf(want, big + 64, "$%zu\r\n<%s>\r\n", big + 2, text);
    expect(b, want, (size_t)n);
    resp_add_errorf(b, "ERR %s", text);
    text[5000] = ' ';
    n = snprintf(want, big + 64, "-ERR %s\r\n", text);
    expect(b, want, (size_t)n);
    free(text);
    free(want);
    evbuffer_free(b);
}
END_TEST

/* What a parser reads back is what the builder wrote, for any bytes. */
START_TEST(test_reply_bulk_roundtrip)
{
    struct evbuffer *b = evbuffer_new();
    char bytes[256];
    resp_parser *p = resp_parser_new();
    size_t used, len;
    resp_arg *argv;
    int argc;
    const char *err;
    char *wire;

    for (int i = 0; i < 256; i++)
        bytes[i] = (char)i;
    resp_add_array(b, 2);
    resp_add_bulk(b, bytes, sizeof(bytes));
    resp_add_bulk_str(b, "tail");
    len = evbuffer_get_length(b);
    wire = (char *)evbuffer_pullup(b, -1);
    ck_assert_int_eq(resp_parse(p, &lim_default, wire, len, &used, &argv, &argc, &err), RESP_OK);
    ck_assert_uint_eq(used, len);
    ck_assert_int_eq(argc, 2);
    ck_assert_uint_eq(argv[0].len, sizeof(bytes));
    ck_assert(memcmp(argv[0].ptr, bytes, sizeof(bytes)) == 0);
    ck_assert_str_eq(argv[1].ptr, "tail");
    resp_argv_free(argv, argc);
    resp_parser_free(p);
    evbuffer_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resp");
    TCase *parse = tcase_create("parse");
    TCase *window = tcase_create("bulk window");
    TCase *reply = tcase_create("reply");
    SRunner *sr;
    int failed;

    tcase_set_timeout(parse, 120);
    tcase_add_loop_test(parse, test_good, 0, (int)N(good));
    tcase_add_loop_test(parse, test_bad, 0, (int)N(bad));
    tcase_add_loop_test(parse, test_big, 0, (int)N(bigs));
    tcase_add_test(parse, test_flood_fails_early);
    tcase_add_test(parse, test_many_args);
    tcase_add_test(parse, test_free_partial);
    tcase_add_test(parse, test_held);
    suite_add_tcase(s, parse);
    tcase_add_test(window, test_bulk_window);
    tcase_add_test(window, test_bulk_window_edges);
    suite_add_tcase(s, window);
    tcase_add_loop_test(reply, test_reply, 0, (int)N(replies));
    tcase_add_test(reply, test_reply_formatted);
    tcase_add_test(reply, test_reply_bulk_roundtrip);
    suite_add_tcase(s, reply);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
