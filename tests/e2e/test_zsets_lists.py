#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: lists and sorted sets in the typed format.

Every list and sorted-set command, its options and its errors, compared word for word with
a local redis-server in RESP2 and RESP3 (same_as_redis); what deliberately differs written
out: refusals (blocking commands, moves and stores across keys), NoriKV's 1 MiB limit.
TYPE of each kind, MULTI/EXEC on one key, 20 concurrent connections pushing to one list,
and a list used as a queue by producers and consumers: every item consumed exactly once.

Usage: python3 tests/e2e/test_zsets_lists.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import threading

from harness import (E, Error, check, eq, key, main, same_as_redis, test)

LIMIT_ERR = "the value of this key would exceed NoriKV's limit of 1048576 bytes"
BLOCKING = "blocking commands cannot be served: NoriKV cannot wait for a key to change"


def run_same(name, script):
    """script(k) gives the commands on key k; run in RESP2 and RESP3 on fresh keys. The
    key is deleted first on both sides, so each protocol starts from nothing."""
    for proto in (2, 3):
        k = key(name, "p%d" % proto)
        same_as_redis([("DEL", k)] + script(k) + [("DEL", k)], name, protos=(proto,))


def refused(c, args, why):
    r = c.cmd(*args)
    check(isinstance(r, Error) and why in r, "%s refused: %s" % (args[0], why), repr(r))


@test
def list_commands_as_redis():
    run_same("list_cmds", lambda k: [
        ("LPUSH", k, "a", "b", "c"), ("RPUSH", k, "d", "e"), ("LRANGE", k, 0, -1),
        ("LPUSHX", k + "x", "a"), ("RPUSHX", k + "x", "a"), ("LPUSHX", k, "z"),
        ("RPUSHX", k, "y"), ("LLEN", k), ("LLEN", k + "x"),
        ("LINDEX", k, 0), ("LINDEX", k, -1), ("LINDEX", k, 100), ("LINDEX", k, "x"),
        ("LINDEX", k + "x", "x"), ("LRANGE", k, -3, 100), ("LRANGE", k, 5, 2),
        ("LRANGE", k, "a", 2), ("LRANGE", k + "x", 0, -1),
        ("LSET", k, 1, "B"), ("LSET", k, -1, "Y"), ("LSET", k, 99, "x"), ("LSET", k + "x", 0, "x"),
        ("LSET", k, "x", "x"),
        ("LINSERT", k, "BEFORE", "B", "n"), ("LINSERT", k, "after", "Y", "m"),
        ("LINSERT", k, "AFTER", "nope", "m"), ("LINSERT", k + "x", "AFTER", "a", "m"),
        ("LINSERT", k, "MIDDLE", "a", "m"), ("LRANGE", k, 0, -1),
        ("RPUSH", k, "a", "a", "b", "a"),
        ("LPOS", k, "a"), ("LPOS", k, "a", "RANK", 2), ("LPOS", k, "a", "RANK", -1),
        ("LPOS", k, "a", "COUNT", 0), ("LPOS", k, "a", "COUNT", 2, "RANK", -2),
        ("LPOS", k, "a", "COUNT", 0, "MAXLEN", 9), ("LPOS", k, "nope"), ("LPOS", k, "nope", "COUNT", 1),
        ("LPOS", k, "a", "RANK", 0), ("LPOS", k, "a", "COUNT", -1), ("LPOS", k, "a", "MAXLEN", -1),
        ("LPOS", k, "a", "RANK"), ("LPOS", k, "a", "FOO", 1), ("LPOS", k + "x", "a"),
        ("LPOS", k + "x", "a", "COUNT", 3),
        ("LREM", k, 1, "a"), ("LREM", k, -1, "a"), ("LREM", k, 0, "nope"), ("LREM", k, "x", "a"),
        ("LREM", k + "x", 0, "a"), ("LRANGE", k, 0, -1),
        ("LPOP", k), ("RPOP", k), ("LPOP", k, 2), ("RPOP", k, 0), ("LPOP", k, -1),
        ("LPOP", k, "x"), ("LPOP", k, 1, 2), ("LPOP", k + "x"), ("LPOP", k + "x", 2),
        ("RPOP", k + "x", 0), ("LTRIM", k, 1, -2), ("LRANGE", k, 0, -1), ("LTRIM", k + "x", 0, 1),
        ("LTRIM", k, "x", 1), ("RPOP", k, 100), ("EXISTS", k), ("LPOP", k),
        ("RPUSH", k, "a", "b", "c"), ("LTRIM", k, 5, 10), ("EXISTS", k),
        ("RPUSH", k, "a", "b", "c"), ("LMOVE", k, k, "LEFT", "RIGHT"), ("LMOVE", k, k, "RIGHT", "LEFT"),
        ("LMOVE", k, k, "LEFT", "LEFT"), ("LMOVE", k, k, "UP", "LEFT"), ("RPOPLPUSH", k, k),
        ("LRANGE", k, 0, -1), ("LMOVE", k + "x", k + "x", "LEFT", "RIGHT"), ("RPOPLPUSH", k + "x", k + "x"),
        ("LREM", k, 0, "a"), ("LREM", k, 0, "b"), ("LREM", k, 0, "c"), ("EXISTS", k),
        ("SET", k, "str"), ("LPUSH", k, "a"), ("RPUSHX", k, "a"), ("LPOP", k), ("LLEN", k),
        ("LRANGE", k, 0, 1), ("LINDEX", k, 0), ("LSET", k, 0, "a"), ("LREM", k, 0, "a"),
        ("LTRIM", k, 0, 1), ("LINSERT", k, "BEFORE", "a", "b"), ("LPOS", k, "a"),
        ("LMOVE", k, k, "LEFT", "RIGHT"), ("TYPE", k), ("DEL", k),
        ("RPUSH", k, "x"), ("GET", k), ("TYPE", k), ("INCR", k), ("APPEND", k, "x"),
        ("LPUSH", k), ("LLEN", k, k), ("LINSERT", k, "BEFORE", "a"),
    ])


@test
def list_refusals_and_limit():
    k, j = key("list_refusals"), key("list_refusals", "other")
    with E.sc.conn() as c:
        c.cmd("DEL", k)
        for args in (("BLPOP", k, 0), ("BRPOP", k, 1), ("BLMOVE", k, j, "LEFT", "RIGHT", 0),
                     ("BRPOPLPUSH", k, j, 0), ("BLMPOP", 0, 1, k, "LEFT")):
            refused(c, args, BLOCKING)
        refused(c, ("LMPOP", 1, k, "LEFT"), "use LPOP or RPOP with a count")
        c.cmd("RPUSH", k, "a")
        refused(c, ("LMOVE", k, j, "LEFT", "RIGHT"), "LMOVE is not supported across two keys")
        refused(c, ("RPOPLPUSH", k, j), "RPOPLPUSH is not supported across two keys")
        eq(c.cmd("LRANGE", k, 0, -1), [b"a"], "the list after refused moves")
        big = "x" * 600000
        eq(c.cmd("RPUSH", k, big), 2, "RPUSH of 600 kB")
        refused(c, ("RPUSH", k, big), LIMIT_ERR)
        refused(c, ("LINSERT", k, "BEFORE", "a", big), LIMIT_ERR)
        eq(c.cmd("LLEN", k), 2, "LLEN after writes refused for the limit")
        # Redis 7.2 (not the 7.0 reference) refuses the one rank it cannot negate
        refused(c, ("LPOS", k, "a", "RANK", "-9223372036854775808"),
                "value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807")
        eq(c.cmd("TYPE", k), "list", "TYPE of a list")
        eq(c.cmd("OBJECT", "ENCODING", k), b"typed", "OBJECT ENCODING of a list")
        c.cmd("DEL", k)


@test
def list_multi_exec():
    k = key("list_multi")
    with E.sc.conn() as c:
        c.cmd("DEL", k)
        eq(c.cmd("MULTI"), "OK", "MULTI")
        for args in (("RPUSH", k, "a", "b", "c"), ("LPOP", k), ("LMOVE", k, k, "LEFT", "RIGHT"),
                     ("LRANGE", k, 0, -1)):
            eq(c.cmd(*args), "QUEUED", "%s queued" % args[0])
        eq(c.cmd("EXEC"), [3, b"a", b"b", [b"c", b"b"]], "EXEC of a list transaction")
        eq(c.cmd("LRANGE", k, 0, -1), [b"c", b"b"], "the list after EXEC")
        c.cmd("DEL", k)


@test
def zset_commands_as_redis():
    run_same("zset_cmds", lambda k: [
        ("ZADD", k, 1, "a", 2, "b", 3, "c"), ("ZADD", k, "NX", 5, "a", 4, "d"),
        ("ZADD", k, "XX", "CH", "1.5", "a", 9, "z"), ("ZADD", k, "GT", "CH", 0, "b", 7, "c"),
        ("ZADD", k, "LT", "CH", 0, "b", 70, "c"), ("ZADD", k, "INCR", "2.5", "a"),
        ("ZADD", k, "NX", "INCR", 1, "a"), ("ZADD", k, "XX", "INCR", 1, "nope"),
        ("ZADD", k, "NX", "XX", 1, "a"), ("ZADD", k, "GT", "LT", 1, "a"), ("ZADD", k, "GT", "NX", 1, "a"),
        ("ZADD", k, "INCR", 1, "a", 2, "b"), ("ZADD", k, 1), ("ZADD", k, "x", "a"),
        ("ZADD", k, "nan", "a"), ("ZADD", k, "inf", "i", "-inf", "j"), ("ZADD", k, "INCR", "-inf", "i"),
        ("ZADD", k, 1, "m", 2, "m"), ("ZADD", k + "x", "XX", 1, "a"), ("ZADD", k + "x", "XX", "INCR", 1, "a"),
        ("ZCARD", k), ("ZCARD", k + "x"), ("ZSCORE", k, "a"), ("ZSCORE", k, "nope"), ("ZSCORE", k, "i"),
        ("ZSCORE", k + "x", "a"), ("ZMSCORE", k, "a", "nope", "j"), ("ZMSCORE", k + "x", "a"),
        ("ZINCRBY", k, 2, "b"), ("ZINCRBY", k, "x", "b"), ("ZINCRBY", k, 1, "new"),
        ("ZRANK", k, "a"), ("ZRANK", k, "nope"), ("ZREVRANK", k, "a"), ("ZRANK", k + "x", "a"),
        ("ZRANGE", k, 0, -1), ("ZRANGE", k, 0, -1, "WITHSCORES"), ("ZRANGE", k, 1, 2, "REV"),
        ("ZRANGE", k, -2, -1, "REV", "WITHSCORES"), ("ZRANGE", k, 5, 1), ("ZRANGE", k, "a", 1),
        ("ZRANGE", k, 0, 1, "FOO"), ("ZRANGE", k + "x", 0, -1), ("ZREVRANGE", k, 0, 2),
        ("ZREVRANGE", k, 0, 1, "WITHSCORES"), ("ZREVRANGE", k, 0, 1, "REV"),
        ("ZREM", k, "a", "a", "nope"), ("ZREM", k + "x", "a"),
        ("ZPOPMIN", k), ("ZPOPMAX", k), ("ZPOPMIN", k, 2), ("ZPOPMAX", k, 0), ("ZPOPMIN", k, -1),
        ("ZPOPMIN", k + "x"), ("ZPOPMAX", k + "x", 3), ("ZPOPMIN", k, 100), ("EXISTS", k),
        ("ZADD", k, 1, "a"), ("ZREM", k, "a"), ("EXISTS", k),
        ("SET", k, "s"), ("ZADD", k, 1, "a"), ("ZSCORE", k, "a"), ("ZRANGE", k, 0, 1), ("ZCARD", k),
        ("ZREM", k, "a"), ("ZPOPMIN", k), ("DEL", k), ("ZADD", k, 1, "a"), ("GET", k), ("LPUSH", k, "x"),
        ("TYPE", k),
    ])


@test
def zset_refusals_and_concurrency():
    k, j = key("zset_refusals"), key("zset_refusals", "other")
    with E.sc.conn() as c:
        c.cmd("DEL", k)
        for args in (("ZUNIONSTORE", j, 1, k), ("ZINTERSTORE", j, 1, k), ("ZDIFFSTORE", j, 1, k),
                     ("ZRANGESTORE", j, k, 0, -1)):
            refused(c, args, "NoriKV cannot write a key from others in one atomic step")
        for args in (("BZPOPMIN", k, 0), ("BZPOPMAX", k, 0), ("BZMPOP", 0, 1, k, "MIN")):
            refused(c, args, BLOCKING)
        eq(c.cmd("ZADD", k, 1, "x" * 600000), 1, "ZADD of 600 kB")
        refused(c, ("ZADD", k, 2, "y" * 600000), LIMIT_ERR)
        eq(c.cmd("ZCARD", k), 1, "ZCARD after a ZADD refused for the limit")
        eq(c.cmd("TYPE", k), "zset", "TYPE of a sorted set")
        eq(c.cmd("ZRANK", k, "x" * 600000, "WITHSCORE"), [0, b"1"], "ZRANK WITHSCORE (7.2)")
        c.cmd("DEL", k)
        eq(c.cmd("MULTI"), "OK", "MULTI")
        for args in (("ZADD", k, 1, "a", 2, "b"), ("ZINCRBY", k, 5, "a"), ("ZPOPMIN", k)):
            eq(c.cmd(*args), "QUEUED", "%s queued" % args[0])
        eq(c.cmd("EXEC"), [2, b"6", [b"b", b"2"]], "EXEC of a sorted-set transaction")
        c.cmd("DEL", k)

    def incr(i):
        cl = E.sc.client()
        for _ in range(10):
            cl.zincrby(k, 1, "m")
        cl.close()

    threads(20, incr)
    eq(E.sc.client().zscore(k, "m"), 200.0, "ZINCRBY from 20 connections, none lost")
    E.sc.client().delete(k)


def threads(n, fn):
    errors = []
    lock = threading.Lock()

    def run(i):
        try:
            fn(i)
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(e))

    ths = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(120)
    check(not any(th.is_alive() for th in ths), "the threads to finish", "some still run")
    check(not errors, "no command to fail", repr(errors[:5]))


@test
def list_concurrent_rpush():
    k = key("list_concurrent")
    E.sc.client().delete(k)

    def push(i):
        c = E.sc.client()
        for j in range(10):
            c.rpush(k, "%d:%d" % (i, j))
        c.close()

    threads(20, push)
    got = E.sc.client().lrange(k, 0, -1)
    eq(sorted(got), sorted(b"%d:%d" % (i, j) for i in range(20) for j in range(10)),
       "every RPUSH of 20 connections in the list, once")
    for i in range(20):  # each connection's items in its own order
        mine = [x for x in got if x.startswith(b"%d:" % i)]
        eq(mine, [b"%d:%d" % (i, j) for j in range(10)], "connection %d's order" % i)
    E.sc.client().delete(k)


@test
def list_as_queue():
    k = key("list_queue")
    E.sc.client().delete(k)
    consumed, lock = [], threading.Lock()
    produced = 10 * 20
    done = threading.Event()

    def work(i):
        c = E.sc.client()
        if i < 10:  # producers
            for j in range(20):
                c.rpush(k, "%d:%d" % (i, j))
        else:  # consumers: until every item is taken
            while not done.is_set():
                v = c.lpop(k)
                if v is None:
                    continue
                with lock:
                    consumed.append(v)
                    if len(consumed) == produced:
                        done.set()
        c.close()

    threads(20, work)
    eq(len(consumed), produced, "items consumed")
    eq(len(set(consumed)), produced, "every item consumed exactly once")
    eq(E.sc.client().exists(k), 0, "the queue's key gone once empty")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
