/*
 * check_zset_list: the list and sorted-set commands on one key's value (cell_list.c,
 * cell_zset.c). One table: a command line, the collection before, the exact reply bytes and
 * the collection after (or the key deleted, or untouched); Redis 7.2's answers and errors,
 * NoriKV's own for its size limit and for a malformed payload.
 */
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

#define NOW       1700000000000LL
#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
#define SYNTAX    "-ERR syntax error\r\n"
#define NOTINT    "-ERR value is not an integer or out of range\r\n"
#define NOFLOAT   "-ERR value is not a valid float\r\n"
#define TOOBIG    "-ERR the value of this key would exceed NoriKV's limit of 1048576 bytes\r\n"
#define LEXERR    "-ERR min or max not valid string range item\r\n"
#define ABC       "1:a,2:b,3:c"
#define LEX       "0:a,0:b,0:c,0:d"
#define MALFORMED(type)                                                                            \
    "-ERR the value of this key is malformed: its payload does not decode as a " type              \
    " (README, \"The typed value format\")\r\n"

/*
 * One case. The command line is split on spaces ('' an empty argument, @N N 'x' bytes).
 * before: the collection as items separated by ',' (a sorted set's as score:member), NULL
 * for a missing key; "=str" a string key, "=bad" a malformed payload of the case's type.
 * after: the same notation for the value written, NULL: deleted; unless same (untouched,
 * not dirty).
 */
typedef struct tcase {
    const char *cmd;
    tval_type type;
    const char *before;
    int proto;
    const char *reply;
    bool fail, same;
    const char *after;
} tcase;

#define L         .type = TVAL_LIST
#define Z         .type = TVAL_ZSET
#define R(s)      .reply = s
#define ERR(s)    .reply = s, .fail = true
#define SAME      .same = true
#define AFTER(s)  .after = s
#define DELETED   .after = NULL
#define P3        .proto = 3
#define BEFORE(s) .before = s

static const tcase cases[] = {
    /* ---- LPUSH RPUSH LPUSHX RPUSHX ---- */
    {"LPUSH k a b c", L, R(":3\r\n"), AFTER("c,b,a")},
    {"RPUSH k a b c", L, BEFORE("x"), R(":4\r\n"), AFTER("x,a,b,c")},
    {"LPUSH k a", L, BEFORE("x,y"), R(":3\r\n"), AFTER("a,x,y")},
    {"LPUSHX k a", L, R(":0\r\n"), SAME},
    {"RPUSHX k a b", L, BEFORE("x"), R(":3\r\n"), AFTER("x,a,b")},
    {"LPUSH k a", L, BEFORE("=str"), ERR(WRONGTYPE)},
    {"RPUSHX k a", L, BEFORE("=str"), ERR(WRONGTYPE)},
    {"RPUSH k a", L, BEFORE("=bad"), ERR(MALFORMED("list"))},
    {"RPUSH k ''", L, R(":1\r\n"), AFTER("")},
    {"RPUSH k @1048560", L, ERR(TOOBIG)},
    {"RPUSH k @1048500", L, R(":1\r\n"), AFTER("@1048500")},
    /* ---- LPOP RPOP ---- */
    {"LPOP k", L, R("$-1\r\n"), SAME},
    {"LPOP k", L, P3, R("_\r\n"), SAME},
    {"LPOP k 2", L, R("*-1\r\n"), SAME},
    {"LPOP k 2", L, P3, R("_\r\n"), SAME},
    {"LPOP k", L, BEFORE("a,b"), R("$1\r\na\r\n"), AFTER("b")},
    {"RPOP k", L, BEFORE("a,b"), R("$1\r\nb\r\n"), AFTER("a")},
    {"RPOP k", L, BEFORE("a"), R("$1\r\na\r\n"), DELETED},
    {"LPOP k 2", L, BEFORE("a,b,c"), R("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), AFTER("c")},
    {"RPOP k 5", L, BEFORE("a,b"), R("*2\r\n$1\r\nb\r\n$1\r\na\r\n"), DELETED},
    {"LPOP k 0", L, BEFORE("a"), R("*0\r\n"), SAME},
    {"LPOP k -1", L, BEFORE("a"), ERR("-ERR value is out of range, must be positive\r\n")},
    {"LPOP k x", L, ERR("-ERR value is out of range, must be positive\r\n")},
    {"LPOP k 1 2", L, ERR("-ERR wrong number of arguments for 'lpop' command\r\n")},
    {"LPOP k", L, BEFORE("=str"), ERR(WRONGTYPE)},
    {"LPOP k", L, BEFORE("=bad"), ERR(MALFORMED("list"))},
    /* ---- LLEN LINDEX LRANGE ---- */
    {"LLEN k", L, R(":0\r\n"), SAME},
    {"LLEN k", L, BEFORE("a,b"), R(":2\r\n"), SAME},
    {"LLEN k", L, BEFORE("=str"), ERR(WRONGTYPE)},
    {"LINDEX k 0", L, BEFORE("a,b"), R("$1\r\na\r\n"), SAME},
    {"LINDEX k -1", L, BEFORE("a,b"), R("$1\r\nb\r\n"), SAME},
    {"LINDEX k 2", L, BEFORE("a,b"), R("$-1\r\n"), SAME},
    {"LINDEX k x", L, BEFORE("a,b"), ERR(NOTINT)},
    {"LINDEX k x", L, R("$-1\r\n"), SAME},
    {"LRANGE k 0 -1", L, BEFORE("a,b,c"), R("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), SAME},
    {"LRANGE k -2 10", L, BEFORE("a,b,c"), R("*2\r\n$1\r\nb\r\n$1\r\nc\r\n"), SAME},
    {"LRANGE k 2 1", L, BEFORE("a,b,c"), R("*0\r\n"), SAME},
    {"LRANGE k 0 -1", L, R("*0\r\n"), SAME},
    {"LRANGE k a 1", L, ERR(NOTINT)},
    /* ---- LSET LTRIM LREM LINSERT ---- */
    {"LSET k 0 x", L, ERR("-ERR no such key\r\n")},
    {"LSET k -1 x", L, BEFORE("a,b"), R("+OK\r\n"), AFTER("a,x")},
    {"LSET k 2 x", L, BEFORE("a,b"), ERR("-ERR index out of range\r\n")},
    {"LSET k 0 @1048560", L, BEFORE("a"), ERR(TOOBIG)},
    {"LTRIM k 1 -1", L, BEFORE("a,b,c"), R("+OK\r\n"), AFTER("b,c")},
    {"LTRIM k 0 -1", L, BEFORE("a,b,c"), R("+OK\r\n"), SAME},
    {"LTRIM k 5 10", L, BEFORE("a,b,c"), R("+OK\r\n"), DELETED},
    {"LTRIM k 0 1", L, R("+OK\r\n"), SAME},
    {"LREM k 0 a", L, BEFORE("a,b,a,c,a"), R(":3\r\n"), AFTER("b,c")},
    {"LREM k 2 a", L, BEFORE("a,b,a,c,a"), R(":2\r\n"), AFTER("b,c,a")},
    {"LREM k -2 a", L, BEFORE("a,b,a,c,a"), R(":2\r\n"), AFTER("a,b,c")},
    {"LREM k 0 a", L, BEFORE("a,a"), R(":2\r\n"), DELETED},
    {"LREM k 0 z", L, BEFORE("a"), R(":0\r\n"), SAME},
    {"LREM k -9223372036854775808 a", L, BEFORE("a"),
     ERR("-ERR value is out of range, value must between -9223372036854775807 and "
         "9223372036854775807\r\n")},
    {"LINSERT k BEFORE b x", L, BEFORE("a,b"), R(":3\r\n"), AFTER("a,x,b")},
    {"LINSERT k after b x", L, BEFORE("a,b"), R(":3\r\n"), AFTER("a,b,x")},
    {"LINSERT k AFTER z x", L, BEFORE("a,b"), R(":-1\r\n"), SAME},
    {"LINSERT k AFTER z x", L, R(":0\r\n"), SAME},
    {"LINSERT k MIDDLE z x", L, BEFORE("a"), ERR(SYNTAX)},
    /* ---- LPOS ---- */
    {"LPOS k a", L, BEFORE("a,b,a,a"), R(":0\r\n"), SAME},
    {"LPOS k a RANK 2", L, BEFORE("a,b,a,a"), R(":2\r\n"), SAME},
    {"LPOS k a RANK -1", L, BEFORE("a,b,a,a"), R(":3\r\n"), SAME},
    {"LPOS k a COUNT 0", L, BEFORE("a,b,a,a"), R("*3\r\n:0\r\n:2\r\n:3\r\n"), SAME},
    {"LPOS k a COUNT 2 RANK -1", L, BEFORE("a,b,a,a"), R("*2\r\n:3\r\n:2\r\n"), SAME},
    {"LPOS k a COUNT 0 MAXLEN 3", L, BEFORE("a,b,a,a"), R("*2\r\n:0\r\n:2\r\n"), SAME},
    {"LPOS k z", L, BEFORE("a"), R("$-1\r\n"), SAME},
    {"LPOS k z COUNT 1", L, R("*0\r\n"), SAME},
    {"LPOS k a RANK 0", L, BEFORE("a"),
     ERR("-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
         "or use negative to start from the end of the list\r\n")},
    {"LPOS k a COUNT -1", L, ERR("-ERR COUNT can't be negative\r\n")},
    {"LPOS k a MAXLEN x", L, ERR("-ERR MAXLEN can't be negative\r\n")},
    {"LPOS k a RANK", L, ERR(SYNTAX)},
    /* ---- LMOVE RPOPLPUSH on one key ---- */
    {"LMOVE k k LEFT RIGHT", L, BEFORE("a,b,c"), R("$1\r\na\r\n"), AFTER("b,c,a")},
    {"RPOPLPUSH k k", L, BEFORE("a,b,c"), R("$1\r\nc\r\n"), AFTER("c,a,b")},
    {"LMOVE k k UP RIGHT", L, BEFORE("a"), ERR(SYNTAX)},
    {"LMOVE k j LEFT RIGHT", L, BEFORE("a"),
     ERR("-ERR LMOVE is not supported across two keys: NoriKV cannot write two keys in one "
         "atomic step (the source and destination must be the same key)\r\n")},
    {"RPOPLPUSH k k", L, R("$-1\r\n"), SAME},
    /* ---- sorted sets ---- */
    {"ZADD k 2 b 1 a", Z, R(":2\r\n"), AFTER("1:a,2:b")},
    {"ZADD k 1 b 1 a", Z, BEFORE("1:a,2:b"), R(":0\r\n"), AFTER("1:a,1:b")},
    {"ZADD k CH GT 3 a 0 b", Z, BEFORE("1:a,2:b"), R(":1\r\n"), AFTER("2:b,3:a")},
    {"ZADD k INCR 2 a", Z, BEFORE("1:a"), P3, R(",3\r\n"), AFTER("3:a")},
    {"ZADD k XX 1 a", Z, R(":0\r\n"), SAME},
    {"ZADD k 1 a", Z, BEFORE("=str"), ERR(WRONGTYPE)},
    {"ZADD k 1 a", Z, BEFORE("=bad"), ERR(MALFORMED("zset"))},
    {"ZADD k 1 @1048560", Z, ERR(TOOBIG)},
    {"ZADD k nan a", Z, ERR(NOFLOAT)},
    {"ZADD k INCR -inf a", Z, BEFORE("inf:a"),
     ERR("-ERR resulting score is not a number (NaN)\r\n")},
    {"ZREM k a", Z, BEFORE("1:a"), R(":1\r\n"), DELETED},
    {"ZPOPMIN k", Z, BEFORE("1:a,2:b"), P3, R("*2\r\n$1\r\na\r\n,1\r\n"), AFTER("2:b")},
    {"ZPOPMAX k 5", Z, BEFORE("1:a,2:b"), R("*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
     DELETED},
    {"ZSCORE k a", Z, BEFORE("1.5:a"), R("$3\r\n1.5\r\n"), SAME},
    {"ZRANGE k 0 -1 REV WITHSCORES", Z, BEFORE("1:a,2:b"), P3,
     R("*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"), SAME},
    {"ZCARD k", Z, BEFORE("=bad"), ERR(MALFORMED("zset"))},
    /* ---- ranges of scores and of members ---- */
    {"ZRANGEBYSCORE k 1 2", Z, BEFORE(ABC), R("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGEBYSCORE k (1 +inf WITHSCORES", Z, BEFORE(ABC),
     R("*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"), SAME},
    {"ZRANGEBYSCORE k -inf +inf LIMIT 1 1", Z, BEFORE(ABC), R("*1\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGEBYSCORE k -inf +inf LIMIT 1 -1", Z, BEFORE(ABC), R("*2\r\n$1\r\nb\r\n$1\r\nc\r\n"),
     SAME},
    {"ZRANGEBYSCORE k -inf +inf LIMIT -1 5", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k -inf +inf LIMIT 3 5", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k 1 (3 LIMIT 1 0", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k (1 (2", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k 2 1", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k (2 2", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k '' (1", Z, BEFORE("0:z,1:a"), R("*1\r\n$1\r\nz\r\n"), SAME},
    {"ZRANGEBYSCORE k 0 10", Z, R("*0\r\n"), SAME},
    {"ZRANGEBYSCORE k x 1", Z, BEFORE(ABC), ERR("-ERR min or max is not a float\r\n")},
    {"ZRANGEBYSCORE k 1 nan", Z, ERR("-ERR min or max is not a float\r\n")},
    {"ZRANGEBYSCORE k 1 2 REV", Z, BEFORE(ABC), ERR(SYNTAX)},
    {"ZRANGEBYSCORE k 1 2 LIMIT 1", Z, BEFORE(ABC), ERR(SYNTAX)},
    {"ZRANGEBYSCORE k 1 2 LIMIT x 1", Z, BEFORE(ABC), ERR(NOTINT)},
    {"ZRANGEBYSCORE k 1 2", Z, BEFORE("=str"), ERR(WRONGTYPE)},
    {"ZREVRANGEBYSCORE k 3 (1", Z, BEFORE(ABC), R("*2\r\n$1\r\nc\r\n$1\r\nb\r\n"), SAME},
    {"ZREVRANGEBYSCORE k +inf -inf LIMIT 1 1 WITHSCORES", Z, BEFORE(ABC), P3,
     R("*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"), SAME},
    {"ZREVRANGEBYSCORE k +inf -inf LIMIT 2 5", Z, BEFORE(ABC), R("*1\r\n$1\r\na\r\n"), SAME},
    {"ZRANGE k 3 (1 BYSCORE REV", Z, BEFORE(ABC), R("*2\r\n$1\r\nc\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGE k 0 1 LIMIT 0 1", Z, BEFORE(ABC),
     ERR("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or "
         "BYLEX\r\n")},
    {"ZRANGE k 0 1 LIMIT 5 -1", Z, BEFORE(ABC), R("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGE k - + BYLEX WITHSCORES", Z, BEFORE(ABC),
     ERR("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n")},
    {"ZRANGE k 0 1 BYSCORE BYLEX", Z, BEFORE(ABC), ERR(SYNTAX)},
    {"ZRANGE k [b + BYLEX LIMIT 0 1", Z, BEFORE(LEX), R("*1\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGEBYLEX k [b (d", Z, BEFORE(LEX), R("*2\r\n$1\r\nb\r\n$1\r\nc\r\n"), SAME},
    {"ZRANGEBYLEX k - + LIMIT 1 2", Z, BEFORE(LEX), R("*2\r\n$1\r\nb\r\n$1\r\nc\r\n"), SAME},
    {"ZRANGEBYLEX k (b [b", Z, BEFORE(LEX), R("*0\r\n"), SAME},
    {"ZRANGEBYLEX k + -", Z, BEFORE(LEX), R("*0\r\n"), SAME},
    {"ZRANGEBYLEX k [ (b", Z, BEFORE("0:,0:a,0:b"), R("*2\r\n$0\r\n\r\n$1\r\na\r\n"), SAME},
    {"ZREVRANGEBYLEX k + [c", Z, BEFORE(LEX), R("*2\r\n$1\r\nd\r\n$1\r\nc\r\n"), SAME},
    {"ZREVRANGEBYLEX k (d - LIMIT 1 1", Z, BEFORE(LEX), R("*1\r\n$1\r\nb\r\n"), SAME},
    {"ZRANGEBYLEX k a [b", Z, BEFORE(LEX), ERR(LEXERR)},
    {"ZRANGEBYLEX k - +x", Z, ERR(LEXERR)},
    {"ZRANGEBYLEX k '' +", Z, ERR(LEXERR)},
    {"ZRANGEBYLEX k - + WITHSCORES", Z, BEFORE(LEX),
     ERR("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n")},
    {"ZCOUNT k (1 3", Z, BEFORE(ABC), R(":2\r\n"), SAME},
    {"ZCOUNT k -inf +inf", Z, BEFORE(ABC), R(":3\r\n"), SAME},
    {"ZCOUNT k 5 +inf", Z, BEFORE(ABC), R(":0\r\n"), SAME},
    {"ZCOUNT k 0 10", Z, R(":0\r\n"), SAME},
    {"ZCOUNT k 1 x", Z, BEFORE(ABC), ERR("-ERR min or max is not a float\r\n")},
    {"ZLEXCOUNT k [b +", Z, BEFORE(LEX), R(":3\r\n"), SAME},
    {"ZLEXCOUNT k - (a", Z, BEFORE(LEX), R(":0\r\n"), SAME},
    {"ZLEXCOUNT k b +", Z, BEFORE(LEX), ERR(LEXERR)},
    {"ZLEXCOUNT k - +", Z, BEFORE("=str"), ERR(WRONGTYPE)},
    /* ---- ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ---- */
    {"ZREMRANGEBYSCORE k 2 +inf", Z, BEFORE(ABC), R(":2\r\n"), AFTER("1:a")},
    {"ZREMRANGEBYSCORE k (1 (2", Z, BEFORE(ABC), R(":0\r\n"), SAME},
    {"ZREMRANGEBYSCORE k -inf +inf", Z, BEFORE(ABC), R(":3\r\n"), DELETED},
    {"ZREMRANGEBYSCORE k 1 x", Z, BEFORE(ABC), ERR("-ERR min or max is not a float\r\n")},
    {"ZREMRANGEBYSCORE k 1 2", Z, BEFORE("=str"), ERR(WRONGTYPE)},
    {"ZREMRANGEBYRANK k 1 1", Z, BEFORE(ABC), R(":1\r\n"), AFTER("1:a,3:c")},
    {"ZREMRANGEBYRANK k 0 -1", Z, BEFORE(ABC), R(":3\r\n"), DELETED},
    {"ZREMRANGEBYRANK k -2 100", Z, BEFORE(ABC), R(":2\r\n"), AFTER("1:a")},
    {"ZREMRANGEBYRANK k 5 10", Z, BEFORE(ABC), R(":0\r\n"), SAME},
    {"ZREMRANGEBYRANK k 0 -1", Z, R(":0\r\n"), SAME},
    {"ZREMRANGEBYRANK k x 1", Z, BEFORE(ABC), ERR(NOTINT)},
    {"ZREMRANGEBYLEX k [a (c", Z, BEFORE(LEX), R(":2\r\n"), AFTER("0:c,0:d")},
    {"ZREMRANGEBYLEX k - +", Z, BEFORE(LEX), R(":4\r\n"), DELETED},
    {"ZREMRANGEBYLEX k x y", Z, BEFORE(LEX), ERR(LEXERR)},
    {"ZREMRANGEBYSCORE k 0 2", Z, BEFORE("=bad"), ERR(MALFORMED("zset"))},
    /* ---- ZRANDMEMBER (deterministic cases: the whole set, or a set of one) ---- */
    {"ZRANDMEMBER k 5", Z, BEFORE(ABC), R("*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"), SAME},
    {"ZRANDMEMBER k 3 WITHSCORES", Z, BEFORE("1:a,2:b"), P3,
     R("*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"), SAME},
    {"ZRANDMEMBER k -3", Z, BEFORE("1:a"), R("*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"), SAME},
    {"ZRANDMEMBER k -2 WITHSCORES", Z, BEFORE("1:a"),
     R("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"), SAME},
    {"ZRANDMEMBER k", Z, BEFORE("1:a"), R("$1\r\na\r\n"), SAME},
    {"ZRANDMEMBER k", Z, R("$-1\r\n"), SAME},
    {"ZRANDMEMBER k", Z, P3, R("_\r\n"), SAME},
    {"ZRANDMEMBER k 3", Z, R("*0\r\n"), SAME},
    {"ZRANDMEMBER k 0", Z, BEFORE(ABC), R("*0\r\n"), SAME},
    {"ZRANDMEMBER k 1 x", Z, BEFORE(ABC), ERR(SYNTAX)},
    {"ZRANDMEMBER k x", Z, BEFORE(ABC), ERR(NOTINT)},
    {"ZRANDMEMBER k -2000000", Z, BEFORE("1:a"),
     ERR("-ERR count is over the sidecar's limit of 1048576 random picks\r\n")},
    {"ZRANDMEMBER k 4611686018427387904 WITHSCORES", Z, BEFORE(ABC),
     ERR("-ERR value is out of range\r\n")},
    {"ZRANDMEMBER k -9223372036854775808", Z, BEFORE(ABC),
     ERR("-ERR value is out of range, value must between -9223372036854775807 and "
         "9223372036854775807\r\n")},
    {"ZRANDMEMBER k 1", Z, BEFORE("=str"), ERR(WRONGTYPE)},
    /* ---- ZSCAN ---- */
    {"ZSCAN k 0", Z, BEFORE("1:a,2.5:b"),
     R("*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"), SAME},
    {"ZSCAN k 0 COUNT 1", Z, BEFORE("1:a,2.5:b"), P3,
     R("*2\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"), SAME},
    {"ZSCAN k 1 COUNT 1", Z, BEFORE("1:a,2.5:b"),
     R("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n"), SAME},
    {"ZSCAN k 0 MATCH b* COUNT 5", Z, BEFORE("1:a,2:b,3:bc"),
     R("*2\r\n$1\r\n0\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nbc\r\n$1\r\n3\r\n"), SAME},
    {"ZSCAN k 9 MATCH *", Z, BEFORE("1:a"), R("*2\r\n$1\r\n0\r\n*0\r\n"), SAME},
    {"ZSCAN k 0 COUNT 0", Z, R("*2\r\n$1\r\n0\r\n*0\r\n"), SAME},
    {"ZSCAN k x", Z, ERR("-ERR invalid cursor\r\n")},
    {"ZSCAN k 0 COUNT 0", Z, BEFORE("1:a"), ERR(SYNTAX)},
    {"ZSCAN k 0 COUNT x", Z, BEFORE("1:a"), ERR(NOTINT)},
    {"ZSCAN k 0 MATCH", Z, BEFORE("1:a"), ERR(SYNTAX)},
    {"ZSCAN k 0", Z, BEFORE("=str"), ERR(WRONGTYPE)},
};

/* ---- building and reading values ------------------------------------------------------ */

/* The payload a spec stands for (tval.h); spec items separated by ','. */
static char *payload(tval_type type, const char *spec, size_t *len)
{
    tval_writer w;
    uint32_t count = 0;
    const char *s;

    tval_writer_init(&w, 64);
    tval_write_u32(&w, 0);
    for (s = spec; s != NULL;) {
        size_t n = strcspn(s, ","), wl;
        char *item = cellcase_word(s, n, &wl);

        if (type == TVAL_ZSET) {
            char *colon = strchr(item, ':');
            tval_write_double(&w, strtod(item, NULL));
            tval_write_str(&w, colon + 1, strlen(colon + 1));
        } else {
            tval_write_str(&w, item, wl);
        }
        free(item);
        count++;
        s = s[n] == ',' ? s + n + 1 : NULL;
    }
    w.buf[0] = (char)(count & 0xff);
    w.buf[1] = (char)(count >> 8);
    return tval_writer_take(&w, len);
}

static void start_cell(const tcase *t, cell *c)
{
    cell_init(c);
    if (t->before == NULL)
        return;
    c->exists = true;
    c->ttl_known = true;
    c->read_typed = true;
    c->type = t->type;
    if (strcmp(t->before, "=str") == 0) {
        c->type = TVAL_STRING;
        c->value = xstrdup("v");
        c->len = 1;
    } else if (strcmp(t->before, "=bad") == 0) {
        c->value = xmemdup0("\5\0\0\0\1\0\0\0a", 9);
        c->len = 9;
    } else {
        c->value = payload(t->type, t->before, &c->len);
    }
}

static const cellcase_fn fns[] = {
    {"LPUSH", cell_lpush},
    {"RPUSH", cell_rpush},
    {"LPUSHX", cell_lpushx},
    {"RPUSHX", cell_rpushx},
    {"LPOP", cell_lpop},
    {"RPOP", cell_rpop},
    {"LLEN", cell_llen},
    {"LINDEX", cell_lindex},
    {"LRANGE", cell_lrange},
    {"LSET", cell_lset},
    {"LTRIM", cell_ltrim},
    {"LREM", cell_lrem},
    {"LINSERT", cell_linsert},
    {"LPOS", cell_lpos},
    {"LMOVE", cell_lmove},
    {"RPOPLPUSH", cell_rpoplpush},
    {"ZADD", cell_zadd},
    {"ZREM", cell_zrem},
    {"ZPOPMIN", cell_zpopmin},
    {"ZPOPMAX", cell_zpopmax},
    {"ZSCORE", cell_zscore},
    {"ZRANGE", cell_zrange},
    {"ZCARD", cell_zcard},
    {"ZRANGEBYSCORE", cell_zrangebyscore},
    {"ZREVRANGEBYSCORE", cell_zrevrangebyscore},
    {"ZRANGEBYLEX", cell_zrangebylex},
    {"ZREVRANGEBYLEX", cell_zrevrangebylex},
    {"ZCOUNT", cell_zcount},
    {"ZLEXCOUNT", cell_zlexcount},
    {"ZREMRANGEBYRANK", cell_zremrangebyrank},
    {"ZREMRANGEBYSCORE", cell_zremrangebyscore},
    {"ZREMRANGEBYLEX", cell_zremrangebylex},
    {"ZRANDMEMBER", cell_zrandmember},
    {"ZSCAN", cell_zscan},
};

START_TEST(test_table)
{
    const tcase *t = &cases[_i];
    cell_ctx x = {t->proto ? t->proto : 2, NOW, false, 0, 0};
    cell c, before;
    bool ok;
    size_t rlen;
    char *reply;

    start_cell(t, &c);
    start_cell(t, &before);
    reply = cellcase_run(fns, N(fns), &c, &x, t->cmd, &rlen, &ok);
    cellcase_check_reply(t->cmd, reply, rlen, t->reply, strlen(t->reply));
    ck_assert_msg(ok == !t->fail, "%s: returned %d", t->cmd, ok);
    if (t->fail || t->same) {
        ck_assert_msg(!c.dirty, "%s: dirty", t->cmd);
        ck_assert(c.exists == before.exists && c.len == before.len);
        ck_assert(c.len == 0 || memcmp(c.value, before.value, c.len) == 0);
    } else if (t->after == NULL) {
        ck_assert_msg(c.dirty && !c.exists, "%s: not deleted", t->cmd);
    } else {
        size_t len;
        char *want = payload(t->type, t->after, &len);

        ck_assert_msg(c.dirty && c.exists && c.type == t->type, "%s: not written", t->cmd);
        ck_assert_msg(c.len == len && memcmp(c.value, want, len) == 0, "%s: wrong value", t->cmd);
        free(want);
    }
    free(reply);
    cell_free(&c);
    cell_free(&before);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zset_list");
    TCase *tc = tcase_create("zset_list");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_table, 0, N(cases));
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
