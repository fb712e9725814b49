/*
 * check_cell: the string and expiry commands on one key's value (src/sidecar/cell.h). One
 * table: a command line, the cell before, the exact reply bytes, the result and the cell
 * after; Redis 7.2's answers and errors, and NoriKV's own where it cannot do the same.
 * Then cell_put_ttl, the cell's life cycle, and short sequences of commands on one cell.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>
#include <event2/buffer.h>

#include "cell.h"
#include "cellcase.h"
#include "xalloc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NOW   1700000000000LL /* the clock of every case, Unix ms */
#define LIMIT CELL_VALUE_LIMIT

#define NOTINT  "-ERR value is not an integer or out of range\r\n"
#define NOFLOAT "-ERR value is not a valid float\r\n"
#define SYNTAX  "-ERR syntax error\r\n"
/* a value given whole: the cluster client's own words, as plain SET answers */
#define BIGVALUE "-ERR invalid argument: value of 1048577 bytes exceeds the limit of 1048576\r\n"
#define TOOLONG                                                                                    \
    "-ERR string exceeds maximum allowed size (NoriKV values are at most 1048576 bytes)\r\n"
#define NOTTL                                                                                      \
    "the key's value is plain (not in the typed format), and NoriKV does not expose a key's "      \
    "remaining time to live\r\n"

/*
 * One case. The command line is split on spaces; '' is an empty argument and @N one of N
 * 'x' bytes. The cell before is fill 'x' bytes then val (has), else missing; ttl_known
 * with exp. On error the cell must be as before, not dirty; `same` says so of a success.
 * Otherwise the cell after is a_fill 'x' bytes then after (a_has), with a_dirty, a_known
 * and a_exp.
 */
typedef struct tcase {
    const char *cmd;
    int proto; /* 0: RESP2 */
    bool has;
    const char *val;
    size_t vlen, fill;
    bool ttl_known;
    int64_t exp;
    const char *reply;
    size_t reply_len;
    bool fail, same;
    bool a_has;
    const char *after;
    size_t after_len, a_fill;
    bool a_dirty, a_known;
    int64_t a_exp;
    tval_type type, a_type; /* the value's type, read and written (0: string) */
    bool typed;             /* string_format typed */
} tcase;

#define VAL(s)    .has = true, .val = s, .vlen = sizeof(s) - 1
#define BIG(n)    .has = true, .val = "", .fill = (n)
#define TTL(e)    .ttl_known = true, .exp = (e)
#define R(s)      .reply = s, .reply_len = sizeof(s) - 1
#define ERR(s)    R(s), .fail = true
#define SAME      .same = true
#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
#define TOO_LONG_TYPED                                                                             \
    "-ERR string exceeds maximum allowed size (NoriKV values are at most 1048576 bytes, the "      \
    "typed format's header included)\r\n"
/* written: the value after, its TTL unknown (kept from a read) or known */
#define W(s) .a_has = true, .after = s, .after_len = sizeof(s) - 1, .a_dirty = true
/* written, and of that type (W: a string) */
#define WT(s, t) W(s), .a_type = (t)
#define WBIG(n, s)                                                                                 \
    .a_has = true, .after = s, .after_len = sizeof(s) - 1, .a_fill = (n), .a_dirty = true
#define KNOWN(e)  .a_known = true, .a_exp = (e)
#define DELETED   .a_has = false, .a_dirty = true, KNOWN(0)
#define UNKNOWN_W .a_known = false

static const tcase cases[] = {
    /* ---- GET, EXISTS, STRLEN, DEL, GETDEL ---- */
    {"GET k", R("$-1\r\n"), SAME},
    {"GET k", .proto = 3, R("_\r\n"), SAME},
    {"GET k", VAL("hello"), R("$5\r\nhello\r\n"), SAME},
    {"GET k", VAL("a\0b\r\n"), R("$5\r\na\0b\r\n\r\n"), SAME},
    {"GET k", VAL(""), R("$0\r\n\r\n"), SAME},
    {"EXISTS k", R(":0\r\n"), SAME},
    {"EXISTS k", VAL(""), R(":1\r\n"), SAME},
    {"STRLEN k", R(":0\r\n"), SAME},
    {"STRLEN k", VAL("hello"), R(":5\r\n"), SAME},
    {"STRLEN k", VAL("\0\0\0"), R(":3\r\n"), SAME},
    {"DEL k", R(":0\r\n"), SAME},
    {"DEL k", VAL("v"), R(":1\r\n"), DELETED},
    {"DEL k", VAL("v"), TTL(NOW + 5000), R(":1\r\n"), DELETED},
    {"GETDEL k", R("$-1\r\n"), SAME},
    {"GETDEL k", .proto = 3, R("_\r\n"), SAME},
    {"GETDEL k", VAL("old"), R("$3\r\nold\r\n"), DELETED},

    /* ---- SET ---- */
    {"SET k v", R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k v", VAL("old"), R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k v", VAL("old"), TTL(NOW + 5000), R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k ''", VAL("old"), R("+OK\r\n"), W(""), KNOWN(0)},
    {"SET k v EX 100", R("+OK\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"set k v ex 100", VAL("old"), R("+OK\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"SET k v PX 100", R("+OK\r\n"), W("v"), KNOWN(NOW + 100)},
    {"SET k v EXAT 1700000100", R("+OK\r\n"), W("v"), KNOWN(1700000100000LL)},
    {"SET k v PXAT 1700000000500", R("+OK\r\n"), W("v"), KNOWN(1700000000500LL)},
    {"SET k v PXAT 9223372036854775807", R("+OK\r\n"), W("v"), KNOWN(LLONG_MAX)},
    {"SET k v EX 10 EX 20", R("+OK\r\n"), W("v"), KNOWN(NOW + 20000)},
    /* an absolute time already past: the key is deleted, the answer is still OK */
    {"SET k v PXAT 1699999999999", VAL("old"), R("+OK\r\n"), DELETED},
    {"SET k v PXAT 1700000000000", VAL("old"), R("+OK\r\n"), DELETED},
    {"SET k v EXAT 1", R("+OK\r\n"), SAME},
    {"SET k v EX 0", VAL("old"), ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v PX -1", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v EXAT 0", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v EX 9223372036854776", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v EX 9223372036854775", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v PX 9223372036854775807", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"set k v ex 0", ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v EX abc", ERR(NOTINT)},
    {"SET k v EX 010", ERR(NOTINT)},
    {"SET k v EX 1.5", ERR(NOTINT)},
    {"SET k v NX", ERR("-ERR SET NX is not supported: NoriKV has no atomic put-if-absent\r\n")},
    {"SET k v nx GET", VAL("old"),
     ERR("-ERR SET NX is not supported: NoriKV has no atomic put-if-absent\r\n")},
    {"SET k v KEEPTTL", VAL("old"), ERR("-ERR SET KEEPTTL is not supported on this key: " NOTTL)},
    {"SET k v KEEPTTL", VAL("old"), TTL(NOW + 5000), R("+OK\r\n"), W("v"), KNOWN(NOW + 5000)},
    {"SET k v KEEPTTL", VAL("old"), TTL(0), R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k v KEEPTTL", R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k v XX KEEPTTL GET", VAL("old"), TTL(NOW + 7), R("$3\r\nold\r\n"), W("v"),
     KNOWN(NOW + 7)},
    {"SET k v NX XX", ERR(SYNTAX)},
    {"SET k v XX NX", ERR(SYNTAX)},
    {"SET k v EX 10 PX 10", ERR(SYNTAX)},
    {"SET k v EXAT 10 PXAT 10", ERR(SYNTAX)},
    {"SET k v KEEPTTL EX 10", ERR(SYNTAX)},
    {"SET k v EX 10 KEEPTTL", ERR(SYNTAX)},
    {"SET k v EX", ERR(SYNTAX)},
    {"SET k v GET PX", ERR(SYNTAX)},
    {"SET k v FOO", ERR(SYNTAX)},
    {"SET k v PERSIST", ERR(SYNTAX)},
    {"SET k v EXX 10", ERR(SYNTAX)},
    {"SET k v GET", R("$-1\r\n"), W("v"), KNOWN(0)},
    {"SET k v GET", .proto = 3, R("_\r\n"), W("v"), KNOWN(0)},
    {"SET k v GET", VAL("old"), R("$3\r\nold\r\n"), W("v"), KNOWN(0)},
    {"SET k v get GET", VAL("old"), R("$3\r\nold\r\n"), W("v"), KNOWN(0)},
    {"SET k v GET EX 100", VAL("old"), R("$3\r\nold\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"SET k v GET EX 0", VAL("old"), ERR("-ERR invalid expire time in 'set' command\r\n")},
    {"SET k v XX", R("$-1\r\n"), SAME},
    {"SET k v XX", .proto = 3, R("_\r\n"), SAME},
    {"SET k v XX", VAL("old"), R("+OK\r\n"), W("v"), KNOWN(0)},
    {"SET k v XX GET", R("$-1\r\n"), SAME},
    {"SET k v XX GET PX 100", VAL("old"), R("$3\r\nold\r\n"), W("v"), KNOWN(NOW + 100)},
    {"SET k v XX EXAT 1", VAL("old"), R("+OK\r\n"), DELETED},
    {"SET k @1048577", VAL("old"), ERR(BIGVALUE)},
    {"SET k @1048576", R("+OK\r\n"), WBIG(LIMIT, ""), KNOWN(0)},

    /* ---- SETEX, PSETEX, GETSET ---- */
    {"SETEX k 100 v", VAL("old"), R("+OK\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"SETEX k 0 v", ERR("-ERR invalid expire time in 'setex' command\r\n")},
    {"SETEX k -5 v", VAL("old"), ERR("-ERR invalid expire time in 'setex' command\r\n")},
    {"SETEX k 9223372036854776 v", ERR("-ERR invalid expire time in 'setex' command\r\n")},
    {"SETEX k abc v", ERR(NOTINT)},
    {"SETEX k 10 @1048577", ERR(BIGVALUE)},
    {"PSETEX k 1500 v", R("+OK\r\n"), W("v"), KNOWN(NOW + 1500)},
    {"psetex k 0 v", ERR("-ERR invalid expire time in 'psetex' command\r\n")},
    {"PSETEX k 9223372036854775807 v", ERR("-ERR invalid expire time in 'psetex' command\r\n")},
    {"GETSET k v", R("$-1\r\n"), W("v"), KNOWN(0)},
    {"GETSET k v", VAL("old"), R("$3\r\nold\r\n"), W("v"), KNOWN(0)},
    {"GETSET k v", VAL("old"), TTL(NOW + 5000), R("$3\r\nold\r\n"), W("v"), KNOWN(0)},
    {"GETSET k @1048577", VAL("old"), ERR(BIGVALUE)},

    /* ---- GETEX ---- */
    {"GETEX k", VAL("v"), R("$1\r\nv\r\n"), SAME},
    {"GETEX k", R("$-1\r\n"), SAME},
    {"GETEX k EX 100", .proto = 3, R("_\r\n"), SAME},
    {"GETEX k EX 0", R("$-1\r\n"), SAME}, /* the key is looked up before the time is read */
    {"GETEX k EX 100", VAL("v"), R("$1\r\nv\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"GETEX k PX 100", VAL("v"), TTL(NOW + 5), R("$1\r\nv\r\n"), W("v"), KNOWN(NOW + 100)},
    {"GETEX k EXAT 1700000100", VAL("v"), R("$1\r\nv\r\n"), W("v"), KNOWN(1700000100000LL)},
    {"GETEX k PXAT 1699999999999", VAL("v"), R("$1\r\nv\r\n"), DELETED},
    {"GETEX k PERSIST", VAL("v"), R("$1\r\nv\r\n"), W("v"), KNOWN(0)},
    {"GETEX k PERSIST", VAL("v"), TTL(NOW + 5000), R("$1\r\nv\r\n"), W("v"), KNOWN(0)},
    {"GETEX k persist", VAL("v"), TTL(0), R("$1\r\nv\r\n"), SAME},
    {"GETEX k EX 0", VAL("v"), ERR("-ERR invalid expire time in 'getex' command\r\n")},
    {"GETEX k PXAT -1", VAL("v"), ERR("-ERR invalid expire time in 'getex' command\r\n")},
    {"GETEX k EX abc", VAL("v"), ERR(NOTINT)},
    {"GETEX k EX 10 PERSIST", VAL("v"), ERR(SYNTAX)},
    {"GETEX k PERSIST EX 10", VAL("v"), ERR(SYNTAX)},
    {"GETEX k EX 10 PX 10", VAL("v"), ERR(SYNTAX)},
    {"GETEX k KEEPTTL", VAL("v"), ERR(SYNTAX)},
    {"GETEX k NX", VAL("v"), ERR(SYNTAX)},
    {"GETEX k GET", VAL("v"), ERR(SYNTAX)},
    {"GETEX k EX", VAL("v"), ERR(SYNTAX)},
    {"GETEX k FOO", ERR(SYNTAX)},

    /* ---- INCR, DECR, INCRBY, DECRBY: Redis' integer rules ---- */
    {"INCR k", R(":1\r\n"), W("1"), KNOWN(0)},
    {"INCR k", VAL("10"), R(":11\r\n"), W("11"), UNKNOWN_W},
    {"INCR k", VAL("10"), TTL(NOW + 5000), R(":11\r\n"), W("11"), KNOWN(NOW + 5000)},
    {"INCR k", VAL("-1"), R(":0\r\n"), W("0"), UNKNOWN_W},
    {"DECR k", R(":-1\r\n"), W("-1"), KNOWN(0)},
    {"DECR k", VAL("0"), R(":-1\r\n"), W("-1"), UNKNOWN_W},
    {"INCR k", VAL("abc"), ERR(NOTINT)},
    {"INCR k", VAL(" 1"), ERR(NOTINT)},
    {"INCR k", VAL("1 "), ERR(NOTINT)},
    {"INCR k", VAL("+1"), ERR(NOTINT)},
    {"INCR k", VAL("01"), ERR(NOTINT)},
    {"INCR k", VAL("-0"), ERR(NOTINT)},
    {"INCR k", VAL("-"), ERR(NOTINT)},
    {"INCR k", VAL(""), ERR(NOTINT)},
    {"INCR k", VAL("1.5"), ERR(NOTINT)},
    {"INCR k", VAL("1\0"), ERR(NOTINT)},
    {"INCR k", VAL("9223372036854775808"), ERR(NOTINT)},
    {"INCR k", VAL("-9223372036854775809"), ERR(NOTINT)},
    {"INCR k", VAL("000000000000000000001"), ERR(NOTINT)},
    {"INCR k", VAL("9223372036854775807"), ERR("-ERR increment or decrement would overflow\r\n")},
    {"INCR k", VAL("9223372036854775806"), R(":9223372036854775807\r\n"), W("9223372036854775807"),
     UNKNOWN_W},
    {"DECR k", VAL("-9223372036854775808"), ERR("-ERR increment or decrement would overflow\r\n")},
    {"DECR k", VAL("-9223372036854775807"), R(":-9223372036854775808\r\n"),
     W("-9223372036854775808"), UNKNOWN_W},
    {"INCRBY k 5", VAL("10"), R(":15\r\n"), W("15"), UNKNOWN_W},
    {"INCRBY k -15", VAL("10"), R(":-5\r\n"), W("-5"), UNKNOWN_W},
    {"INCRBY k 0", R(":0\r\n"), W("0"), KNOWN(0)},
    {"INCRBY k -9223372036854775808", VAL("0"), R(":-9223372036854775808\r\n"),
     W("-9223372036854775808"), UNKNOWN_W},
    {"INCRBY k -9223372036854775808", VAL("-1"),
     ERR("-ERR increment or decrement would overflow\r\n")},
    {"INCRBY k 1", VAL("9223372036854775807"),
     ERR("-ERR increment or decrement would overflow\r\n")},
    {"INCRBY k abc", VAL("10"), ERR(NOTINT)},
    {"INCRBY k +5", VAL("10"), ERR(NOTINT)},
    {"INCRBY k 05", ERR(NOTINT)},
    {"INCRBY k ''", ERR(NOTINT)},
    {"INCRBY k 1", VAL("x"), ERR(NOTINT)},
    {"DECRBY k 5", VAL("10"), R(":5\r\n"), W("5"), UNKNOWN_W},
    {"DECRBY k -5", R(":5\r\n"), W("5"), KNOWN(0)},
    {"DECRBY k -9223372036854775808", VAL("0"), ERR("-ERR decrement would overflow\r\n")},
    {"DECRBY k 9223372036854775807", VAL("-2"),
     ERR("-ERR increment or decrement would overflow\r\n")},
    {"DECRBY k 9223372036854775807", VAL("-1"), R(":-9223372036854775808\r\n"),
     W("-9223372036854775808"), UNKNOWN_W},
    {"DECRBY k 1.0", VAL("1"), ERR(NOTINT)},

    /* ---- INCRBYFLOAT: long double sums, %.17Lf without trailing zeros ---- */
    {"INCRBYFLOAT k 0.1", VAL("10.5"), R("$4\r\n10.6\r\n"), W("10.6"), UNKNOWN_W},
    {"INCRBYFLOAT k 0", VAL("5.0e3"), R("$4\r\n5000\r\n"), W("5000"), UNKNOWN_W},
    {"INCRBYFLOAT k 3.0e3", R("$4\r\n3000\r\n"), W("3000"), KNOWN(0)},
    {"INCRBYFLOAT k 0", VAL("3"), R("$1\r\n3\r\n"), W("3"), UNKNOWN_W},
    {"INCRBYFLOAT k -1.5", VAL("1.5"), R("$1\r\n0\r\n"), W("0"), UNKNOWN_W},
    {"INCRBYFLOAT k -3.25", VAL("1"), R("$5\r\n-2.25\r\n"), W("-2.25"), UNKNOWN_W},
    {"INCRBYFLOAT k 1.5", VAL("-5"), R("$4\r\n-3.5\r\n"), W("-3.5"), UNKNOWN_W},
    {"INCRBYFLOAT k 1.5", VAL("1.5"), TTL(NOW + 9), R("$1\r\n3\r\n"), W("3"), KNOWN(NOW + 9)},
    {"INCRBYFLOAT k 0.25", VAL("1"), R("$4\r\n1.25\r\n"), W("1.25"), UNKNOWN_W},
    {"INCRBYFLOAT k 1.1", R("$3\r\n1.1\r\n"), W("1.1"), KNOWN(0)},
    {"INCRBYFLOAT k 1e27", VAL("1e27"), R("$28\r\n2000000000000000000000000000\r\n"),
     W("2000000000000000000000000000"), UNKNOWN_W},
    {"INCRBYFLOAT k 1.5", VAL("17179869184"), R("$13\r\n17179869185.5\r\n"), W("17179869185.5"),
     UNKNOWN_W},
    {"INCRBYFLOAT k 17179869184", VAL("17179869184"), R("$11\r\n34359738368\r\n"), W("34359738368"),
     UNKNOWN_W},
    {"INCRBYFLOAT k 0", VAL("3.14159265358979323846"), R("$19\r\n3.14159265358979324\r\n"),
     W("3.14159265358979324"), UNKNOWN_W},
    {"INCRBYFLOAT k 0", VAL("-1e-30"), R("$1\r\n0\r\n"), W("0"), UNKNOWN_W}, /* no "-0" */
    {"INCRBYFLOAT k 1e-20", VAL("0"), R("$1\r\n0\r\n"), W("0"), UNKNOWN_W},
    {"INCRBYFLOAT k 0x10", VAL("0"), R("$2\r\n16\r\n"), W("16"), UNKNOWN_W},
    {"INCRBYFLOAT k +1", VAL("1"), R("$1\r\n2\r\n"), W("2"), UNKNOWN_W},
    {"INCRBYFLOAT k 1", VAL("abc"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL(" 11"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL("11 "), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL("11 11"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL("1\0002"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL(""), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1", VAL("nan"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k nan", VAL("1"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1e5000", VAL("1"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k 1e-5000", VAL("1"), ERR(NOFLOAT)},
    {"INCRBYFLOAT k abc", ERR(NOFLOAT)},
    {"INCRBYFLOAT k ''", ERR(NOFLOAT)},
    {"INCRBYFLOAT k +inf", VAL("0"), ERR("-ERR increment would produce NaN or Infinity\r\n")},
    {"INCRBYFLOAT k 1", VAL("inf"), ERR("-ERR increment would produce NaN or Infinity\r\n")},
    {"INCRBYFLOAT k -inf", VAL("inf"), ERR("-ERR increment would produce NaN or Infinity\r\n")},
    {"INCRBYFLOAT k 1e4932", VAL("1e4932"),
     ERR("-ERR increment would produce NaN or Infinity\r\n")},

    /* ---- APPEND ---- */
    {"APPEND k abc", R(":3\r\n"), W("abc"), KNOWN(0)},
    {"APPEND k def", VAL("abc"), R(":6\r\n"), W("abcdef"), UNKNOWN_W},
    {"APPEND k def", VAL("abc"), TTL(NOW + 7), R(":6\r\n"), W("abcdef"), KNOWN(NOW + 7)},
    {"APPEND k ''", R(":0\r\n"), W(""), KNOWN(0)},
    {"APPEND k ab", BIG(LIMIT - 2), R(":1048576\r\n"), WBIG(LIMIT - 2, "ab"), UNKNOWN_W},
    {"APPEND k abc", BIG(LIMIT - 2), ERR(TOOLONG)},
    {"APPEND k @1048577", ERR(TOOLONG)},

    /* ---- GETRANGE: Redis 7.2's rules ---- */
    {"GETRANGE k 0 3", VAL("Hello World"), R("$4\r\nHell\r\n"), SAME},
    {"GETRANGE k 0 -1", VAL("Hello World"), R("$11\r\nHello World\r\n"), SAME},
    {"GETRANGE k -4 -1", VAL("Hello World"), R("$4\r\norld\r\n"), SAME},
    {"GETRANGE k 5 3", VAL("Hello World"), R("$0\r\n\r\n"), SAME},
    {"GETRANGE k 5 5000", VAL("Hello World"), R("$6\r\n World\r\n"), SAME},
    {"GETRANGE k -5000 10000", VAL("Hello World"), R("$11\r\nHello World\r\n"), SAME},
    {"GETRANGE k -1 -5", VAL("Hello World"), R("$0\r\n\r\n"), SAME},
    {"GETRANGE k -1 -1", VAL("Hello World"), R("$1\r\nd\r\n"), SAME},
    {"GETRANGE k 0 -100", VAL("Hello World"), R("$1\r\nH\r\n"), SAME}, /* end clamped to 0 */
    {"GETRANGE k 11 11", VAL("Hello World"), R("$0\r\n\r\n"), SAME},
    {"GETRANGE k 100 200", VAL("Hello World"), R("$0\r\n\r\n"), SAME},
    {"GETRANGE k 0 4294967297", VAL("Hello"), R("$5\r\nHello\r\n"), SAME},
    {"GETRANGE k -9223372036854775808 9223372036854775807", VAL("Hello"), R("$5\r\nHello\r\n"),
     SAME},
    {"GETRANGE k 0 2", VAL("1234"), R("$3\r\n123\r\n"), SAME},
    {"GETRANGE k -3 -1", VAL("1234"), R("$3\r\n234\r\n"), SAME},
    {"GETRANGE k 3 5000", VAL("1234"), R("$1\r\n4\r\n"), SAME},
    {"GETRANGE k 1 2", VAL("a\0\0b"), R("$2\r\n\0\0\r\n"), SAME},
    {"GETRANGE k 0 -1", R("$0\r\n\r\n"), SAME},
    {"GETRANGE k 0 -1", .proto = 3, R("$0\r\n\r\n"), SAME},
    {"GETRANGE k 0 -1", VAL(""), R("$0\r\n\r\n"), SAME},
    {"GETRANGE k a 1", VAL("Hello"), ERR(NOTINT)},
    {"GETRANGE k 0 1x", ERR(NOTINT)},

    /* ---- SETRANGE ---- */
    {"SETRANGE k 0 foo", R(":3\r\n"), W("foo"), KNOWN(0)},
    {"SETRANGE k 0 ''", R(":0\r\n"), SAME},
    {"SETRANGE k 1 foo", R(":4\r\n"), W("\0foo"), KNOWN(0)},
    {"SETRANGE k 0 b", VAL("foo"), R(":3\r\n"), W("boo"), UNKNOWN_W},
    {"SETRANGE k 0 ''", VAL("foo"), R(":3\r\n"), SAME},
    {"SETRANGE k 1 b", VAL("foo"), R(":3\r\n"), W("fbo"), UNKNOWN_W},
    {"SETRANGE k 4 bar", VAL("foo"), R(":7\r\n"), W("foo\0bar"), UNKNOWN_W},
    {"SETRANGE k 0 2", VAL("1234"), R(":4\r\n"), W("2234"), UNKNOWN_W},
    {"SETRANGE k 1 3", VAL("1234"), R(":4\r\n"), W("1334"), UNKNOWN_W},
    {"SETRANGE k 5 2", VAL("1234"), R(":6\r\n"), W("1234\0002"), UNKNOWN_W},
    {"SETRANGE k 10 x", VAL("ab"), TTL(NOW + 3), R(":11\r\n"), W("ab\0\0\0\0\0\0\0\0x"),
     KNOWN(NOW + 3)},
    {"SETRANGE k -1 world", VAL("foo"), ERR("-ERR offset is out of range\r\n")},
    {"SETRANGE k -1 ''", ERR("-ERR offset is out of range\r\n")},
    {"SETRANGE k x world", VAL("foo"), ERR(NOTINT)},
    {"SETRANGE k 1048573 abcd", ERR(TOOLONG)},
    {"SETRANGE k 9223372036854775807 a", VAL("foo"), ERR(TOOLONG)},
    {"SETRANGE k 0 @1048577", ERR(TOOLONG)},
    {"SETRANGE k 1048572 abcd", BIG(LIMIT - 4), R(":1048576\r\n"), WBIG(LIMIT - 4, "abcd"),
     UNKNOWN_W},
    {"SETRANGE k 1048573 abcd", BIG(LIMIT - 4), ERR(TOOLONG)},
    {"SETRANGE k 9223372036854775807 ''", VAL("foo"), R(":3\r\n"), SAME},
    {"SETRANGE k 9223372036854775807 ''", R(":0\r\n"), SAME},

    /* ---- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ---- */
    {"EXPIRE k 100", R(":0\r\n"), SAME},
    {"EXPIRE k 100", VAL("v"), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100", VAL("v"), TTL(NOW + 5), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 0", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIRE k -1", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIRE k 0", R(":0\r\n"), SAME},
    {"PEXPIRE k 1500", VAL("v"), R(":1\r\n"), W("v"), KNOWN(NOW + 1500)},
    {"PEXPIRE k 0", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIREAT k 1700000100", VAL("v"), R(":1\r\n"), W("v"), KNOWN(1700000100000LL)},
    {"EXPIREAT k 1700000000", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIREAT k 1699999999", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIREAT k 9223372036854775", VAL("v"), R(":1\r\n"), W("v"), KNOWN(9223372036854775000LL)},
    {"PEXPIREAT k 1700000000001", VAL("v"), R(":1\r\n"), W("v"), KNOWN(NOW + 1)},
    {"PEXPIREAT k -9223372036854775808", VAL("v"), R(":1\r\n"), DELETED},
    {"EXPIRE k abc", VAL("v"), ERR(NOTINT)},
    {"EXPIRE k abc", ERR(NOTINT)},
    {"EXPIRE k 1.5", VAL("v"), ERR(NOTINT)},
    {"EXPIRE k 9223372036854776", VAL("v"),
     ERR("-ERR invalid expire time in 'expire' command\r\n")},
    {"EXPIRE k -9223372036854776", VAL("v"),
     ERR("-ERR invalid expire time in 'expire' command\r\n")},
    {"EXPIRE k 9223372036854775", VAL("v"),
     ERR("-ERR invalid expire time in 'expire' command\r\n")},
    {"expire k 9223372036854775", ERR("-ERR invalid expire time in 'expire' command\r\n")},
    {"PEXPIRE k 9223372036854775807", VAL("v"),
     ERR("-ERR invalid expire time in 'pexpire' command\r\n")},
    {"EXPIREAT k 9223372036854776", VAL("v"),
     ERR("-ERR invalid expire time in 'expireat' command\r\n")},
    {"EXPIRE k 100 FOO", VAL("v"), ERR("-ERR Unsupported option FOO\r\n")},
    {"EXPIRE k 100 NX FOO", VAL("v"), ERR("-ERR Unsupported option FOO\r\n")},
    {"EXPIRE k abc FOO", VAL("v"), ERR("-ERR Unsupported option FOO\r\n")},
    {"EXPIRE k 100 NX XX", VAL("v"),
     ERR("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")},
    {"EXPIRE k 100 gt nx", VAL("v"),
     ERR("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")},
    {"EXPIRE k 100 GT LT", VAL("v"),
     ERR("-ERR GT and LT options at the same time are not compatible\r\n")},
    /* options with the TTL unknown: an error, unless the key is missing */
    {"EXPIRE k 100 NX", VAL("v"), ERR("-ERR EXPIRE NX is not supported here: " NOTTL)},
    {"pexpire k 100 gt", VAL("v"), ERR("-ERR PEXPIRE GT is not supported here: " NOTTL)},
    {"EXPIREAT k 100 XX GT", VAL("v"), ERR("-ERR EXPIREAT XX is not supported here: " NOTTL)},
    {"PEXPIREAT k 100 LT", VAL("v"), ERR("-ERR PEXPIREAT LT is not supported here: " NOTTL)},
    {"EXPIRE k 100 NX", R(":0\r\n"), SAME},
    /* options with the TTL known (0: none, which counts as infinite) */
    {"EXPIRE k 100 NX", VAL("v"), TTL(0), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 NX", VAL("v"), TTL(NOW + 5), R(":0\r\n"), SAME},
    {"EXPIRE k 100 XX", VAL("v"), TTL(0), R(":0\r\n"), SAME},
    {"EXPIRE k 100 XX", VAL("v"), TTL(NOW + 5), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 GT", VAL("v"), TTL(0), R(":0\r\n"), SAME},
    {"EXPIRE k 100 GT", VAL("v"), TTL(NOW + 5), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 GT", VAL("v"), TTL(NOW + 100000), R(":0\r\n"), SAME},
    {"EXPIRE k 100 GT", VAL("v"), TTL(NOW + 200000), R(":0\r\n"), SAME},
    {"EXPIRE k 100 LT", VAL("v"), TTL(0), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 LT", VAL("v"), TTL(NOW + 200000), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 LT", VAL("v"), TTL(NOW + 100000), R(":0\r\n"), SAME},
    {"EXPIRE k 100 LT", VAL("v"), TTL(NOW + 5), R(":0\r\n"), SAME},
    {"EXPIRE k -1 LT", VAL("v"), TTL(0), R(":1\r\n"), DELETED},
    {"EXPIRE k 100 XX GT", VAL("v"), TTL(NOW + 5), R(":1\r\n"), W("v"), KNOWN(NOW + 100000)},
    {"EXPIRE k 100 XX LT", VAL("v"), TTL(0), R(":0\r\n"), SAME},
    {"PEXPIREAT k 1700000000001 GT", VAL("v"), TTL(NOW + 5), R(":0\r\n"), SAME},

    /* ---- PERSIST ---- */
    {"PERSIST k", R(":0\r\n"), SAME},
    {"PERSIST k", VAL("v"), TTL(0), R(":0\r\n"), SAME},
    {"PERSIST k", VAL("v"), TTL(NOW + 5000), R(":1\r\n"), W("v"), KNOWN(0)},
    {"PERSIST k", VAL("v"), R(":1\r\n"), W("v"), KNOWN(0)}, /* unknown: rewritten without */

    /* ---- TTL, PTTL ---- */
    {"TTL k", R(":-2\r\n"), SAME},
    {"PTTL k", R(":-2\r\n"), SAME},
    {"TTL k", VAL("v"), TTL(0), R(":-1\r\n"), SAME},
    {"PTTL k", VAL("v"), TTL(0), R(":-1\r\n"), SAME},
    {"TTL k", VAL("v"), TTL(NOW + 100000), R(":100\r\n"), SAME},
    {"PTTL k", VAL("v"), TTL(NOW + 100000), R(":100000\r\n"), SAME},
    {"TTL k", VAL("v"), TTL(NOW + 1499), R(":1\r\n"), SAME},
    {"TTL k", VAL("v"), TTL(NOW + 1500), R(":2\r\n"), SAME},
    {"TTL k", VAL("v"), TTL(NOW + 499), R(":0\r\n"), SAME},
    {"PTTL k", VAL("v"), TTL(NOW + 499), R(":499\r\n"), SAME},
    {"TTL k", VAL("v"), ERR("-ERR TTL is not supported on this key: " NOTTL)},
    {"pttl k", VAL("v"), ERR("-ERR PTTL is not supported on this key: " NOTTL)},

    /* ---- EXPIRETIME, PEXPIRETIME, TYPE, OBJECT ENCODING ---- */
    {"EXPIRETIME k", R(":-2\r\n"), SAME},
    {"EXPIRETIME k", VAL("v"), TTL(0), R(":-1\r\n"), SAME},
    {"EXPIRETIME k", VAL("v"), TTL(NOW + 100999), R(":1700000100\r\n"), SAME},
    {"PEXPIRETIME k", VAL("v"), TTL(NOW + 100999), R(":1700000100999\r\n"), SAME},
    {"EXPIRETIME k", VAL("v"), ERR("-ERR EXPIRETIME is not supported on this key: " NOTTL)},
    {"TYPE k", R("+none\r\n"), SAME},
    {"TYPE k", VAL("v"), R("+string\r\n"), SAME},
    {"TYPE k", VAL("v"), .type = TVAL_HASH, R("+hash\r\n"), SAME},
    {"TYPE k", VAL("v"), .type = TVAL_ZSET, R("+zset\r\n"), SAME},
    {"OBJECT k", R("$-1\r\n"), SAME},
    {"OBJECT k", VAL("v"), R("$3\r\nraw\r\n"), SAME},

    /* ---- a key of another type: WRONGTYPE, nothing changed ---- */
    {"GET k", VAL("v"), .type = TVAL_HASH, ERR(WRONGTYPE)},
    {"SET k v GET", VAL("v"), .type = TVAL_LIST, ERR(WRONGTYPE)},
    {"GETSET k v", VAL("v"), .type = TVAL_SET, ERR(WRONGTYPE)},
    {"GETDEL k", VAL("v"), .type = TVAL_SET, ERR(WRONGTYPE)},
    {"GETEX k PERSIST", VAL("v"), .type = TVAL_SET, ERR(WRONGTYPE)},
    {"INCR k", VAL("1"), .type = TVAL_HASH, ERR(WRONGTYPE)},
    {"INCRBYFLOAT k 1", VAL("1"), .type = TVAL_HASH, ERR(WRONGTYPE)},
    {"APPEND k x", VAL("v"), .type = TVAL_ZSET, ERR(WRONGTYPE)},
    {"STRLEN k", VAL("v"), .type = TVAL_ZSET, ERR(WRONGTYPE)},
    {"GETRANGE k 0 1", VAL("v"), .type = TVAL_LIST, ERR(WRONGTYPE)},
    {"SETRANGE k 0 x", VAL("v"), .type = TVAL_LIST, ERR(WRONGTYPE)},
    /* ... but SET replaces any type, and the keyspace commands take any */
    {"SET k v", VAL("x"), .type = TVAL_HASH, TTL(NOW + 5), R("+OK\r\n"), W("v"), KNOWN(0)},
    {"DEL k", VAL("x"), .type = TVAL_HASH, R(":1\r\n"), DELETED},
    {"EXISTS k", VAL("x"), .type = TVAL_LIST, R(":1\r\n"), SAME},
    {"PERSIST k", VAL("x"), .type = TVAL_SET, TTL(NOW + 5), R(":1\r\n"), WT("x", TVAL_SET),
     KNOWN(0)},
    {"EXPIRE k 10", VAL("x"), .type = TVAL_SET, TTL(0), R(":1\r\n"), WT("x", TVAL_SET),
     KNOWN(NOW + 10000)},

    /* ---- the typed string format: the limit leaves room for the header ---- */
    {"SETRANGE k 1048552 x", .typed = true, ERR(TOO_LONG_TYPED)},
    {"SETRANGE k 1048551 x", .typed = true, BIG(1048551), R(":1048552\r\n"), WBIG(1048551, "x")},
    {"APPEND k @1048553", .typed = true, ERR(TOO_LONG_TYPED)},
    {"SET k @1048553", .typed = true,
     ERR("-ERR invalid argument: value of 1048553 bytes exceeds the limit of 1048552\r\n")},

    /* ---- PING, ECHO ---- */
    {"PING", R("+PONG\r\n"), SAME},
    {"PING", .proto = 3, VAL("v"), R("+PONG\r\n"), SAME},
    {"PING hello", R("$5\r\nhello\r\n"), SAME},
    {"PING ''", R("$0\r\n\r\n"), SAME},
    {"PING a b", ERR("-ERR wrong number of arguments for 'ping' command\r\n")},
    {"SELECT 0", VAL("v"), R("+OK\r\n"), SAME},
    {"SELECT 1", ERR("-ERR DB index is out of range\r\n")},
    {"SELECT x", ERR(NOTINT)},
    {"UNWATCH", VAL("v"), R("+OK\r\n"), SAME},
    {"ECHO hello", VAL("v"), R("$5\r\nhello\r\n"), SAME},
};

/* ---- the harness ------------------------------------------------------------------------ */

static const cellcase_fn fns[] = {
    {"GET", cell_get},
    {"SET", cell_set},
    {"SETEX", cell_setex},
    {"PSETEX", cell_psetex},
    {"GETSET", cell_getset},
    {"GETDEL", cell_getdel},
    {"GETEX", cell_getex},
    {"DEL", cell_del},
    {"EXISTS", cell_exists},
    {"INCR", cell_incr},
    {"DECR", cell_decr},
    {"INCRBY", cell_incrby},
    {"DECRBY", cell_decrby},
    {"INCRBYFLOAT", cell_incrbyfloat},
    {"APPEND", cell_append},
    {"STRLEN", cell_strlen},
    {"GETRANGE", cell_getrange},
    {"SETRANGE", cell_setrange},
    {"EXPIRE", cell_expire},
    {"PEXPIRE", cell_pexpire},
    {"EXPIREAT", cell_expireat},
    {"PEXPIREAT", cell_pexpireat},
    {"PERSIST", cell_persist},
    {"TTL", cell_ttl},
    {"PTTL", cell_ttl},
    {"PING", cell_ping},
    {"EXPIRETIME", cell_expiretime},
    {"PEXPIRETIME", cell_expiretime},
    {"TYPE", cell_type},
    {"OBJECT", cell_object_encoding},
    {"ECHO", cell_echo},
    {"SELECT", cell_select},
    {"UNWATCH", cell_unwatch},
};

/* fill 'x' bytes then len bytes of s, in a fresh buffer */
static char *filled(size_t fill, const char *s, size_t len)
{
    char *p = malloc(fill + len + 1);

    ck_assert_ptr_nonnull(p);
    memset(p, 'x', fill);
    memcpy(p + fill, s, len);
    p[fill + len] = '\0';
    return p;
}

static void start_cell(const tcase *t, cell *c)
{
    cell_init(c);
    if (t->has) {
        char *v = filled(t->fill, t->val, t->vlen);
        cell_set_read(c, v, t->fill + t->vlen, NOW);
        free(v);
    }
    c->type = t->type;
    c->ttl_known = t->ttl_known;
    c->expire_at = t->exp;
}

static void check_cell(const tcase *t, const cell *c, bool has, const char *val, size_t fill,
                       size_t vlen, bool dirty, bool known, int64_t exp)
{
    const char *cmd = t->cmd;

    ck_assert_msg(c->exists == has, "%s: exists %d", cmd, c->exists);
    ck_assert_msg(c->dirty == dirty, "%s: dirty %d", cmd, c->dirty);
    ck_assert_msg(c->ttl_known == known, "%s: ttl_known %d", cmd, c->ttl_known);
    ck_assert_msg(c->expire_at == exp, "%s: expire_at %lld", cmd, (long long)c->expire_at);
    if (!has) {
        ck_assert_msg(c->value == NULL && c->len == 0, "%s: a value left", cmd);
        return;
    }
    char *want = filled(fill, val, vlen);
    ck_assert_msg(c->len == fill + vlen, "%s: len %zu", cmd, c->len);
    ck_assert_msg(memcmp(c->value, want, c->len) == 0, "%s: value %.40s", cmd, c->value);
    ck_assert_msg(c->value[c->len] == '\0', "%s: no NUL after the value", cmd);
    free(want);
}

START_TEST(test_table)
{
    const tcase *t = &cases[_i];
    cell_ctx x = {t->proto ? t->proto : 2, NOW, t->typed, 0, 0};
    cell c;
    size_t n;
    char *reply;
    bool ok;

    start_cell(t, &c);
    reply = cellcase_run(fns, N(fns), &c, &x, t->cmd, &n, &ok);
    cellcase_check_reply(t->cmd, reply, n, t->reply, t->reply_len);
    ck_assert_msg(ok == !t->fail, "%s: returned %d", t->cmd, ok);
    ck_assert_msg(!c.exists || c.type == (t->fail || t->same ? t->type : t->a_type), "%s: type %d",
                  t->cmd, c.type);
    if (t->fail || t->same)
        check_cell(t, &c, t->has, t->val, t->fill, t->vlen, false, t->ttl_known, t->exp);
    else
        check_cell(t, &c, t->a_has, t->after, t->a_fill, t->after_len, t->a_dirty, t->a_known,
                   t->a_exp);
    cell_free(&c);
    free(reply);
}
END_TEST

/* ---- cell_put_ttl, the life cycle ------------------------------------------------------- */

START_TEST(test_put_ttl)
{
    static const struct {
        bool known;
        int64_t exp;
        uint64_t ttl;
        bool expired;
    } t[] = {
        {false, 0, 0, false},      {false, NOW + 5000, 0, false},
        {true, 0, 0, false},       {true, NOW + 5000, 5000, false},
        {true, NOW + 1, 1, false}, {true, NOW, 0, true},
        {true, NOW - 1, 0, true},
    };

    for (size_t i = 0; i < N(t); i++) {
        cell c;
        bool expired = !t[i].expired;

        cell_set_read(&c, "v", 1, NOW);
        c.ttl_known = t[i].known;
        c.expire_at = t[i].exp;
        ck_assert_uint_eq(cell_put_ttl(&c, NOW, &expired), t[i].ttl);
        ck_assert_int_eq(expired, t[i].expired);
        cell_free(&c);
    }
}
END_TEST

START_TEST(test_life)
{
    cell c;

    cell_init(&c);
    ck_assert(!c.exists && c.value == NULL && c.len == 0 && !c.dirty && !c.ttl_known);
    cell_free(&c);
    cell_set_read(&c, "a\0b", 3, NOW);
    ck_assert(c.exists && c.len == 3 && memcmp(c.value, "a\0b", 4) == 0);
    ck_assert(!c.dirty && !c.ttl_known && c.expire_at == 0);
    cell_free(&c);
    ck_assert(!c.exists && c.value == NULL && c.len == 0);
    cell_free(&c); /* twice is harmless */
}
END_TEST

/* ---- sequences: a block's commands on one cell, in order -------------------------------- */

static const struct seq {
    bool has;
    const char *val;
    const char *cmds[6];
    const char *replies;
    bool exists, dirty, known;
    int64_t exp;
} seqs[] = {
    /* a TTL set in the block is known to the commands after it */
    {false,
     NULL,
     {"SET k 10 EX 100", "INCR k", "TTL k", "PTTL k"},
     "+OK\r\n:11\r\n:100\r\n:100000\r\n",
     true,
     true,
     true,
     NOW + 100000},
    /* read from the cluster: unknown until set */
    {true,
     "10",
     {"INCR k", "TTL k", "PERSIST k", "TTL k"},
     ":11\r\n-ERR TTL is not supported on this key: " NOTTL ":1\r\n:-1\r\n",
     true,
     true,
     true,
     0},
    /* deleted, then created: no TTL */
    {true,
     "5",
     {"DEL k", "TTL k", "INCR k", "TTL k"},
     ":1\r\n:-2\r\n:1\r\n:-1\r\n",
     true,
     true,
     true,
     0},
    /* an expiry in the past is a deletion */
    {true, "v", {"EXPIRE k 0", "GET k", "EXISTS k"}, ":1\r\n$-1\r\n:0\r\n", false, true, true, 0},
    /* reads leave a read cell clean */
    {true,
     "v",
     {"GET k", "STRLEN k", "GETRANGE k 0 -1", "EXISTS k", "GETEX k"},
     "$1\r\nv\r\n:1\r\n$1\r\nv\r\n:1\r\n$1\r\nv\r\n",
     true,
     false,
     false,
     0},
    /* an error changes nothing, the commands after it go on */
    {true,
     "abc",
     {"INCR k", "APPEND k d", "GET k"},
     NOTINT ":4\r\n$4\r\nabcd\r\n",
     true,
     true,
     false,
     0},
};

START_TEST(test_seq)
{
    const struct seq *s = &seqs[_i];
    cell_ctx x = {2, NOW, false, 0, 0};
    struct evbuffer *out = evbuffer_new();
    cell c;
    size_t n;

    cell_init(&c);
    if (s->has)
        cell_set_read(&c, s->val, strlen(s->val), NOW);
    for (int i = 0; i < 6 && s->cmds[i] != NULL; i++) {
        bool ok;
        char *reply = cellcase_run(fns, N(fns), &c, &x, s->cmds[i], &n, &ok);

        evbuffer_add(out, reply, n);
        free(reply);
    }
    n = evbuffer_get_length(out);
    ck_assert_msg(n == strlen(s->replies) && memcmp(evbuffer_pullup(out, -1), s->replies, n) == 0,
                  "%s...: replies %.*s", s->cmds[0], (int)n, evbuffer_pullup(out, -1));
    ck_assert(c.exists == s->exists && c.dirty == s->dirty && c.ttl_known == s->known);
    ck_assert_int_eq(c.expire_at, s->exp);
    cell_free(&c);
    evbuffer_free(out);
}
END_TEST

/* ---- the typed value format (tval.h) ---------------------------------------------------- */

/* A value stored from a cell of this type, payload and expiry, typed or not. */
static char *stored(tval_type type, const char *payload, size_t len, int64_t exp, bool typed,
                    size_t *n)
{
    cell c;
    char *owned, *copy;
    const char *v;

    cell_init(&c);
    c.exists = true;
    c.type = type;
    c.value = xmemdup0(payload, len);
    c.len = len;
    c.ttl_known = exp != 0;
    c.expire_at = exp;
    v = cell_stored(&c, typed, n, &owned);
    copy = xmemdup0(v, *n);
    free(owned);
    cell_free(&c);
    return copy;
}

START_TEST(test_typed_format)
{
    size_t n;
    char *v = stored(TVAL_HASH, "pay\0load", 8, NOW + 5000, false, &n);
    tval t;
    cell c;

    /* header then payload, read back whole */
    ck_assert_uint_eq(n, TVAL_HEADER_LEN + 8);
    ck_assert(memcmp(v, "\xF1NKT\x01\x01\x01\x00", 8) == 0);
    ck_assert(tval_decode(v, n, &t));
    ck_assert_int_eq(t.type, TVAL_HASH);
    ck_assert_int_eq(t.expire_at, NOW + 5000);
    ck_assert_uint_eq(t.len, 8);
    ck_assert(memcmp(t.payload, "pay\0load", 8) == 0);
    cell_set_read(&c, v, n, NOW);
    ck_assert(c.exists && c.type == TVAL_HASH && c.ttl_known && c.expire_at == NOW + 5000);
    ck_assert(c.read_typed && c.len == 8 && memcmp(c.value, "pay\0load", 8) == 0);
    cell_free(&c);
    /* expired: missing */
    cell_set_read(&c, v, n, NOW + 5000);
    ck_assert(!c.exists);
    cell_free(&c);
    /* any byte of the header changed, or the value cut short: a plain string */
    for (size_t i = 0; i < TVAL_HEADER_LEN; i++) {
        v[i] ^= 0x20;
        ck_assert_msg(!tval_decode(v, n, &t), "byte %zu changed still decodes", i);
        ck_assert(t.type == TVAL_STRING && t.len == n && t.payload == v && t.expire_at == 0);
        cell_set_read(&c, v, n, NOW);
        ck_assert(c.exists && c.type == TVAL_STRING && !c.ttl_known && !c.read_typed);
        cell_free(&c);
        v[i] ^= 0x20;
    }
    ck_assert(!tval_decode(v, TVAL_HEADER_LEN - 1, &t));
    free(v);

    /* a string: plain in raw form, typed in typed form, without an expiry when none */
    v = stored(TVAL_STRING, "abc", 3, 0, false, &n);
    ck_assert(n == 3 && memcmp(v, "abc", 3) == 0);
    free(v);
    v = stored(TVAL_STRING, "abc", 3, 0, true, &n);
    ck_assert(n == TVAL_HEADER_LEN + 3 && tval_decode(v, n, &t));
    ck_assert(t.type == TVAL_STRING && t.expire_at == 0 && t.len == 3);
    free(v);
    /* a plain string that starts with the magic is stored typed, and reads back exactly */
    v = stored(TVAL_STRING, "\xF1NKT\x01\x00\x00\x00rest", 12, 0, false, &n);
    ck_assert_uint_eq(n, TVAL_HEADER_LEN + 12);
    cell_set_read(&c, v, n, NOW);
    ck_assert(c.type == TVAL_STRING && c.len == 12 &&
              memcmp(c.value, "\xF1NKT\x01\x00\x00\x00rest", 12) == 0);
    cell_free(&c);
    free(v);
}
END_TEST

START_TEST(test_payload_codec)
{
    tval_writer w;
    tval_reader r;
    const char *p;
    size_t len, n;
    uint32_t count;
    double d;
    char *buf;

    tval_writer_init(&w, 1);
    tval_write_u32(&w, 2);
    tval_write_double(&w, -1.5);
    tval_write_str(&w, "member", 6);
    tval_write_str(&w, "", 0);
    buf = tval_writer_take(&w, &n);
    ck_assert_uint_eq(n, 4 + 8 + 4 + 6 + 4);
    tval_reader_init(&r, buf, n);
    ck_assert(tval_read_u32(&r, &count) && count == 2);
    ck_assert(tval_read_double(&r, &d) && d == -1.5);
    ck_assert(tval_read_str(&r, &p, &len) && len == 6 && memcmp(p, "member", 6) == 0);
    ck_assert(tval_read_str(&r, &p, &len) && len == 0);
    ck_assert(tval_reader_done(&r));
    ck_assert(!tval_read_u32(&r, &count));
    /* a length past the end reads as an error, not past the buffer */
    tval_reader_init(&r, buf, n - 1);
    ck_assert(tval_read_u32(&r, &count) && tval_read_double(&r, &d));
    ck_assert(tval_read_str(&r, &p, &len));
    ck_assert(!tval_read_str(&r, &p, &len));
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cell");
    TCase *tc = tcase_create("cell");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_table, 0, N(cases));
    tcase_add_test(tc, test_put_ttl);
    tcase_add_test(tc, test_life);
    tcase_add_loop_test(tc, test_seq, 0, N(seqs));
    tcase_add_test(tc, test_typed_format);
    tcase_add_test(tc, test_payload_codec);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
