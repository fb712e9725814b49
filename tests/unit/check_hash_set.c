/*
 * check_hash_set: the hash and set commands on one key's value (cell_hash.c, cell_set.c,
 * coll.c) without a cluster: a cell is built, commands run on it in order, and each reply
 * is compared byte for byte; then WRONGTYPE both ways, the size limit, malformed payloads,
 * empty collections deleting the key, and the cost of big commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "cell.h"
#include "cell_hash_set.h"
#include "cellcase.h"
#include "coll.h"
#include "xalloc.h"

#define NOW 1700000000000LL

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
#define LIMIT_ERR "-" COLL_ERR_LIMIT "\r\n"

static cell_ctx ctx(int proto)
{
    cell_ctx x = {proto, NOW, false, 42, 0};
    return x;
}

static const cellcase_fn cmds[] = {
    {"HSET", cell_hset},
    {"HMSET", cell_hset},
    {"HSETNX", cell_hsetnx},
    {"HGET", cell_hget},
    {"HMGET", cell_hmget},
    {"HDEL", cell_hdel},
    {"HLEN", cell_hlen},
    {"HSTRLEN", cell_hstrlen},
    {"HEXISTS", cell_hexists},
    {"HGETALL", cell_hgetall},
    {"HKEYS", cell_hkeys},
    {"HVALS", cell_hvals},
    {"HINCRBY", cell_hincrby},
    {"HINCRBYFLOAT", cell_hincrbyfloat},
    {"HRANDFIELD", cell_hrandfield},
    {"HSCAN", cell_hscan},
    {"SADD", cell_sadd},
    {"SREM", cell_srem},
    {"SISMEMBER", cell_sismember},
    {"SMISMEMBER", cell_smismember},
    {"SMEMBERS", cell_smembers},
    {"SCARD", cell_scard},
    {"SPOP", cell_spop},
    {"SRANDMEMBER", cell_srandmember},
    {"SSCAN", cell_sscan},
    {"GET", cell_get},
    {"SET", cell_set},
    {"TYPE", cell_type},
};

/* Runs a command line (cellcase.h; the key is argv[1]) on c; the reply into *reply
 * (malloc'ed, NUL-terminated); the result is the function's. */
static bool run(cell *c, int proto, const char *line, char **reply)
{
    cell_ctx x = ctx(proto);
    size_t n;
    bool ok;

    *reply = cellcase_run(cmds, sizeof(cmds) / sizeof(cmds[0]), c, &x, line, &n, &ok);
    return ok;
}

/* Runs line and asserts the reply is want. */
static void expect(cell *c, int proto, const char *line, const char *want)
{
    char *got;

    run(c, proto, line, &got);
    ck_assert_msg(strcmp(got, want) == 0, "%s (RESP%d): got %s, want %s", line, proto, got, want);
    free(got);
}

/* The cell as read from a stored value: a typed value of type t and this payload. */
static void read_typed(cell *c, tval_type t, const char *payload, size_t len)
{
    unsigned char *buf = xmalloc(TVAL_HEADER_LEN + len + 1);

    tval_header(buf, t, 0);
    memcpy(buf + TVAL_HEADER_LEN, payload, len);
    cell_set_read(c, buf, TVAL_HEADER_LEN + len, NOW);
    free(buf);
}

START_TEST(test_hash_basics)
{
    cell c;

    cell_init(&c);
    expect(&c, 2, "HGET h f", "$-1\r\n");
    expect(&c, 3, "HGET h f", "_\r\n");
    expect(&c, 2, "HLEN h", ":0\r\n");
    expect(&c, 2, "HGETALL h", "*0\r\n");
    expect(&c, 3, "HGETALL h", "%0\r\n");
    ck_assert(!c.dirty);
    expect(&c, 2, "HSET h a 1 b 2 a 3", ":2\r\n");
    ck_assert(c.dirty && c.exists && c.type == TVAL_HASH);
    expect(&c, 2, "HSET h a", "-ERR wrong number of arguments for 'hset' command\r\n");
    expect(&c, 2, "HMSET h c 4", "+OK\r\n");
    expect(&c, 2, "HGETALL h",
           "*6\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n4\r\n");
    expect(&c, 3, "HGETALL h",
           "%3\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n4\r\n");
    expect(&c, 2, "HKEYS h", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    expect(&c, 2, "HVALS h", "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n4\r\n");
    expect(&c, 2, "HMGET h a x c", "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n4\r\n");
    expect(&c, 2, "HSETNX h a 9", ":0\r\n");
    expect(&c, 2, "HSETNX h d ''", ":1\r\n");
    expect(&c, 2, "HSTRLEN h d", ":0\r\n");
    expect(&c, 2, "HSTRLEN h a", ":1\r\n");
    expect(&c, 2, "HEXISTS h d", ":1\r\n");
    expect(&c, 2, "HEXISTS h z", ":0\r\n");
    expect(&c, 2, "HINCRBY h a 10", ":13\r\n");
    expect(&c, 2, "HINCRBY h n -5", ":-5\r\n");
    expect(&c, 2, "HINCRBY h a x", "-ERR value is not an integer or out of range\r\n");
    expect(&c, 2, "HINCRBY h d 1", "-ERR hash value is not an integer\r\n");
    expect(&c, 2, "HINCRBY h a 9223372036854775807",
           "-ERR increment or decrement would overflow\r\n");
    expect(&c, 2, "HINCRBYFLOAT h a 0.5", "$4\r\n13.5\r\n");
    expect(&c, 2, "HINCRBYFLOAT h f 1e3", "$4\r\n1000\r\n");
    expect(&c, 2, "HINCRBYFLOAT h a inf", "-ERR value is NaN or Infinity\r\n");
    expect(&c, 2, "HINCRBYFLOAT h a x", "-ERR value is not a valid float\r\n");
    expect(&c, 2, "HINCRBYFLOAT h d 1", "-ERR hash value is not a float\r\n");
    expect(&c, 2, "HDEL h a b zz", ":2\r\n");
    expect(&c, 2, "HLEN h", ":4\r\n");
    expect(&c, 2, "HDEL h c d n f", ":4\r\n");
    ck_assert(!c.exists && c.dirty); /* an empty hash is deleted */
    cell_free(&c);
}
END_TEST

START_TEST(test_hash_random_scan)
{
    cell c;
    char *got;

    cell_init(&c);
    expect(&c, 2, "HRANDFIELD h", "$-1\r\n");
    expect(&c, 2, "HRANDFIELD h 3", "*0\r\n");
    expect(&c, 2, "HSET h a 1 b 2", ":2\r\n");
    expect(&c, 2, "HRANDFIELD h 5", "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    expect(&c, 3, "HRANDFIELD h 5 WITHVALUES",
           "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    expect(&c, 2, "HRANDFIELD h 5 WITHVALUES",
           "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    expect(&c, 2, "HRANDFIELD h 0", "*0\r\n");
    expect(&c, 2, "HRANDFIELD h 1 x", "-ERR syntax error\r\n");
    expect(&c, 2, "HRANDFIELD h -9223372036854775808",
           "-ERR value is out of range, value must between -9223372036854775807 and "
           "9223372036854775807\r\n");
    expect(&c, 2, "HRANDFIELD h 4611686018427387904 WITHVALUES", "-ERR value is out of range\r\n");
    expect(&c, 2, "HRANDFIELD h -2000000",
           "-ERR count is over the sidecar's limit of 1048576 random picks\r\n");
    run(&c, 2, "HRANDFIELD h -5", &got);
    ck_assert_int_eq(strncmp(got, "*5\r\n", 4), 0);
    free(got);
    expect(&c, 2, "HSCAN h 0",
           "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    expect(&c, 2, "HSCAN h 0 COUNT 1", "*2\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    expect(&c, 2, "HSCAN h 1 COUNT 1", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    expect(&c, 2, "HSCAN h 0 MATCH b*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    expect(&c, 2, "HSCAN h 0 COUNT 0", "-ERR syntax error\r\n");
    expect(&c, 2, "HSCAN h 0 NOVALUES COUNT 1", "*2\r\n$1\r\n1\r\n*1\r\n$1\r\na\r\n");
    expect(&c, 2, "HSCAN h 1 MATCH * NOVALUES", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n");
    expect(&c, 2, "HSCAN h x", "-ERR invalid cursor\r\n");
    expect(&c, 2, "HSCAN h 0 FOO", "-ERR syntax error\r\n");
    expect(&c, 2, "HSCAN h 99", "*2\r\n$1\r\n0\r\n*0\r\n"); /* past the end */
    cell_free(&c);
    cell_init(&c);
    expect(&c, 2, "HSCAN h 0 FOO", "*2\r\n$1\r\n0\r\n*0\r\n"); /* missing: options unread */
    cell_free(&c);
}
END_TEST

START_TEST(test_set_basics)
{
    cell c;
    char *got;

    cell_init(&c);
    expect(&c, 2, "SMEMBERS s", "*0\r\n");
    expect(&c, 3, "SMEMBERS s", "~0\r\n");
    expect(&c, 2, "SPOP s", "$-1\r\n");
    expect(&c, 3, "SPOP s 2", "~0\r\n");
    expect(&c, 2, "SRANDMEMBER s 2", "*0\r\n");
    expect(&c, 2, "SREM s a", ":0\r\n");
    ck_assert(!c.dirty);
    expect(&c, 2, "SADD s b a b c", ":3\r\n");
    expect(&c, 2, "SADD s a", ":0\r\n");
    expect(&c, 3, "SMEMBERS s", "~3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n");
    expect(&c, 2, "SCARD s", ":3\r\n");
    expect(&c, 2, "SISMEMBER s a", ":1\r\n");
    expect(&c, 2, "SMISMEMBER s a x c", "*3\r\n:1\r\n:0\r\n:1\r\n");
    expect(&c, 2, "SRANDMEMBER s 10", "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n");
    expect(&c, 2, "SRANDMEMBER s 1 2", "-ERR syntax error\r\n");
    expect(&c, 2, "SPOP s -1", "-ERR value is out of range, must be positive\r\n");
    expect(&c, 2, "SPOP s x", "-ERR value is out of range, must be positive\r\n");
    expect(&c, 2, "SPOP s 1 2", "-ERR syntax error\r\n");
    expect(&c, 2, "SSCAN s 0 MATCH [ac]", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nc\r\n");
    expect(&c, 2, "SSCAN s 0 NOVALUES", "-ERR syntax error\r\n"); /* HSCAN's alone */
    ck_assert(run(&c, 2, "SPOP s", &got));
    ck_assert_int_eq(strncmp(got, "$1\r\n", 4), 0);
    free(got);
    expect(&c, 2, "SCARD s", ":2\r\n");
    ck_assert(run(&c, 3, "SPOP s 5", &got));
    ck_assert_int_eq(strncmp(got, "~2\r\n", 4), 0);
    free(got);
    ck_assert(!c.exists && c.dirty); /* popped empty: deleted */
    cell_free(&c);
}
END_TEST

/* SPOP count of a big set: distinct members, the rest kept. */
START_TEST(test_spop_distinct)
{
    cell c;
    char *got, line[4096];
    size_t n = 0;

    cell_init(&c);
    n += (size_t)snprintf(line, sizeof(line), "SADD s");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " m%03d", i);
    expect(&c, 2, line, ":200\r\n");
    ck_assert(run(&c, 2, "SPOP s 150", &got));
    ck_assert_int_eq(strncmp(got, "*150\r\n", 6), 0);
    /* every popped member gone; with 50 left, none was popped twice */
    for (char *p = strstr(got, "m"); p != NULL; p = strstr(p + 1, "m")) {
        char cmd[32];
        snprintf(cmd, sizeof(cmd), "SISMEMBER s %.4s", p);
        expect(&c, 2, cmd, ":0\r\n");
    }
    free(got);
    expect(&c, 2, "SCARD s", ":50\r\n");
    cell_free(&c);
}
END_TEST

START_TEST(test_wrongtype)
{
    cell c;

    cell_init(&c);
    expect(&c, 2, "SET k v", "+OK\r\n");
    expect(&c, 2, "HGET k f", WRONGTYPE);
    expect(&c, 2, "HSET k f v", WRONGTYPE);
    expect(&c, 2, "SADD k m", WRONGTYPE);
    expect(&c, 2, "HSCAN k 0", WRONGTYPE);
    expect(&c, 2, "HINCRBY k f 1", WRONGTYPE);
    cell_free(&c);
    cell_init(&c);
    expect(&c, 2, "HSET k f v", ":1\r\n");
    expect(&c, 2, "GET k", WRONGTYPE);
    expect(&c, 2, "SMEMBERS k", WRONGTYPE);
    expect(&c, 2, "SPOP k", WRONGTYPE);
    expect(&c, 2, "TYPE k", "+hash\r\n");
    cell_free(&c);
    cell_init(&c);
    expect(&c, 2, "SADD k m", ":1\r\n");
    expect(&c, 2, "HGETALL k", WRONGTYPE);
    expect(&c, 2, "TYPE k", "+set\r\n");
    cell_free(&c);
}
END_TEST

/* The payload would pass NoriKV's value limit: an error, the cell as it was. */
START_TEST(test_limit)
{
    cell c;
    size_t big = CELL_VALUE_LIMIT - TVAL_HEADER_LEN - 4 - 8 - 40;
    char *line = xmalloc(big + 64), *got;

    cell_init(&c);
    memcpy(line, "HSET h f ", 9);
    memset(line + 9, 'x', big);
    line[9 + big] = '\0';
    expect(&c, 2, line, ":1\r\n");
    c.dirty = false;
    expect(&c, 2, "HSET h g 0123456789012345678901234567890123456789", LIMIT_ERR);
    ck_assert(!c.dirty);
    expect(&c, 2, "HLEN h", ":1\r\n");
    expect(&c, 2, "HSET h g 9999999999", ":1\r\n"); /* room for 30 bytes */
    expect(&c, 2, "HINCRBY h g 1", ":10000000000\r\n");
    expect(&c, 2, "HSET h g 123456789012345678901234567890", ":0\r\n"); /* exactly */
    expect(&c, 2, "HSET h g 1234567890123456789012345678901", LIMIT_ERR);
    expect(&c, 2, "HGET h g", "$30\r\n123456789012345678901234567890\r\n");
    free(line);
    cell_free(&c);

    cell_init(&c);
    line = xmalloc(big + 128);
    memcpy(line, "SADD s ", 7);
    memset(line + 7, 'y', big + 80);
    line[7 + big + 80] = '\0';
    ck_assert(!run(&c, 2, line, &got));
    ck_assert_str_eq(got, LIMIT_ERR);
    ck_assert(!c.exists && !c.dirty);
    free(got);
    free(line);
    cell_free(&c);
}
END_TEST

/* Replies that repeat an item as often as the client asks stop once they pass reply_max:
 * the error instead, nothing changed; under it they answer whole. */
#define V64 "0123456789012345678901234567890123456789012345678901234567890123"

static char *run_with(cell *c, const cell_ctx *x, const char *line, bool *ok)
{
    size_t n;

    return cellcase_run(cmds, sizeof(cmds) / sizeof(cmds[0]), c, x, line, &n, ok);
}

START_TEST(test_reply_max)
{
    cell_ctx x = {2, NOW, false, 42, 1000};
    const char *over = "-ERR reply over max_reply (1000 bytes): ";
    const char *refused[] = {
        "HMGET h " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64
        " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64 " " V64,
        "HRANDFIELD h -20", "HRANDFIELD h -20 WITHVALUES", "SRANDMEMBER s -20"};
    cell h, st;
    bool ok;
    char *got;

    cell_init(&h);
    cell_init(&st);
    expect(&h, 2, "HSET h " V64 " " V64, ":1\r\n");
    expect(&st, 2, "SADD s " V64, ":1\r\n");
    h.dirty = st.dirty = false;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        got = run_with(refused[i][0] == 'S' ? &st : &h, &x, refused[i], &ok);
        ck_assert_msg(!ok && strncmp(got, over, strlen(over)) == 0, "%.40s: got %.200s", refused[i],
                      got);
        free(got);
    }
    ck_assert(!h.dirty && !st.dirty);
    got = run_with(&h, &x, "HMGET h " V64 " " V64 " " V64 " " V64 " " V64 " " V64, &ok);
    ck_assert_msg(ok && strncmp(got, "*6\r\n$64\r\n", 9) == 0, "HMGET of 6: %.200s", got);
    free(got);
    got = run_with(&st, &x, "SRANDMEMBER s -10", &ok);
    ck_assert_msg(ok && strncmp(got, "*10\r\n$64\r\n", 10) == 0, "SRANDMEMBER -10: %.200s", got);
    free(got);
    cell_free(&h);
    cell_free(&st);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct {
        const char *p;
        size_t len;
        tval_type t;
    } bad[] = {
        {"", 0, TVAL_HASH},                /* no count */
        {"\x01\x00\x00", 3, TVAL_SET},     /* short count */
        {"\x01\x00\x00\x00", 4, TVAL_SET}, /* a member missing */
        {"\x01\x00\x00\x00\x05\x00\x00\x00"
         "ab",
         10, TVAL_SET}, /* a short member */
        {"\x01\x00\x00\x00\x01\x00\x00\x00"
         "a",
         9, TVAL_HASH}, /* a field without value */
        {"\x02\x00\x00\x00\x01\x00\x00\x00"
         "a\x01\x00\x00\x00"
         "a",
         14, TVAL_SET},                     /* twice */
        {"\x00\x00\x00\x00z", 5, TVAL_SET}, /* trailing bytes */
        {"\xff\xff\xff\xff", 4, TVAL_HASH}, /* a huge count */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cell c;
        char *got;
        bool hash = bad[i].t == TVAL_HASH;

        read_typed(&c, bad[i].t, bad[i].p, bad[i].len);
        ck_assert(!run(&c, 2, hash ? "HGETALL k" : "SMEMBERS k", &got));
        ck_assert_msg(strncmp(got, "-ERR the value of this key is malformed", 39) == 0, "%zu: %s",
                      i, got);
        free(got);
        ck_assert(!run(&c, 2, hash ? "HSET k a b" : "SADD k a", &got));
        ck_assert(!c.dirty);
        free(got);
        cell_free(&c);
    }
}
END_TEST

/* HSET of m fields on a hash of n: linear, not n*m (a few seconds at most if quadratic
 * would be minutes). */
START_TEST(test_big_linear)
{
    cell c;
    size_t n = 20000, cap = n * 16 + 16, len;
    char *line = xmalloc(cap), *got;

    cell_init(&c);
    len = (size_t)snprintf(line, cap, "HSET h");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(line + len, cap - len, " f%zu %zu", i, i);
    expect(&c, 2, line, ":20000\r\n");
    len = (size_t)snprintf(line, cap, "HDEL h");
    for (size_t i = 0; i < n; i += 2)
        len += (size_t)snprintf(line + len, cap - len, " f%zu", i);
    expect(&c, 2, line, ":10000\r\n");
    expect(&c, 2, "HGET h f19999", "$5\r\n19999\r\n");
    ck_assert(run(&c, 2, "HSCAN h 9990 COUNT 20", &got));
    ck_assert_int_eq(strncmp(got, "*2\r\n$1\r\n0\r\n*20\r\n", 16), 0);
    free(got);
    free(line);
    cell_free(&c);
}
END_TEST

/* SINTER, SUNION, SDIFF, SINTERCARD on cells read apart. */
START_TEST(test_combine)
{
    cell k[4];
    struct evbuffer *out = evbuffer_new();
    char buf[256];
    size_t n;
    static const struct {
        cell_set_op op;
        int first, n;
        long long limit;
        const char *want;
    } cases[] = {
        {CELL_SET_INTER, 0, 2, 0, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"},
        {CELL_SET_INTER, 0, 3, 0, "*0\r\n"}, /* with a missing key */
        {CELL_SET_UNION, 0, 3, 0, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
        {CELL_SET_DIFF, 0, 3, 0, "*1\r\n$1\r\na\r\n"},
        {CELL_SET_DIFF, 2, 1, 0, "*0\r\n"}, /* a missing first key */
        {CELL_SET_INTERCARD, 0, 2, 0, ":2\r\n"},
        {CELL_SET_INTERCARD, 0, 2, 1, ":1\r\n"},
        {CELL_SET_INTER, 0, 4, 0, WRONGTYPE}, /* k[3] is a hash */
        {CELL_SET_UNION, 3, 1, 0, WRONGTYPE},
    };

    for (int i = 0; i < 4; i++)
        cell_init(&k[i]);
    expect(&k[0], 2, "SADD a a b c", ":3\r\n");
    expect(&k[1], 2, "SADD b b c d", ":3\r\n");
    expect(&k[3], 2, "HSET h f v", ":1\r\n");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok =
            cell_set_combine(&k[cases[i].first], cases[i].n, cases[i].op, cases[i].limit, 2, out);
        int got = evbuffer_remove(out, buf, sizeof(buf) - 1);
        n = got > 0 ? (size_t)got : 0;
        buf[n] = '\0';
        ck_assert_msg(strcmp(buf, cases[i].want) == 0, "case %zu: %s", i, buf);
        ck_assert(ok == (cases[i].want[0] != '-'));
        evbuffer_drain(out, evbuffer_get_length(out));
    }
    read_typed(&k[2], TVAL_SET, "\x05", 1); /* malformed */
    ck_assert(!cell_set_combine(k, 3, CELL_SET_UNION, 0, 2, out));
    evbuffer_free(out);
    for (int i = 0; i < 4; i++)
        cell_free(&k[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash_set");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hash_basics);
    tcase_add_test(tc, test_hash_random_scan);
    tcase_add_test(tc, test_set_basics);
    tcase_add_test(tc, test_spop_distinct);
    tcase_add_test(tc, test_wrongtype);
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_reply_max);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_big_linear);
    tcase_add_test(tc, test_combine);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
