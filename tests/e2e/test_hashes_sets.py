#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: hashes and sets.

Every hash and set command against a local redis-server (same_as_redis: the same replies,
errors word for word, in RESP2 and RESP3), sets compared sorted (Redis orders them its own
way); then what deliberately differs, written out: the refusals (SMOVE, the STORE forms),
NoriKV's value limit, the random commands' shape; TYPE, MULTI/EXEC on a hash, HINCRBY from
20 connections at once, and a TTL on a hash.

Usage: python3 tests/e2e/test_hashes_sets.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import threading
import time

from harness import (E, Error, Fail, eq, key, same_as_redis, test, main)

LIMIT_ERR = "ERR the value of this key would exceed NoriKV's limit of 1048576 bytes"


def both(cmds, what, proto=2):
    """Runs cmds on the sidecar and on redis-server and returns both lists of replies."""
    out = []
    for conn in (E.sc.conn(), E.redis().conn()):
        with conn as c:
            if proto == 3:
                c.cmd("HELLO", 3)
            out.append([c.cmd(*x) for x in cmds])
    return out


def norm(v):
    """A reply with every list sorted: sets compare whatever their order."""
    if isinstance(v, list):
        return sorted((norm(x) for x in v), key=repr)
    return v


def same_sorted(cmds, what):
    for proto in (2, 3):
        a, b = both(cmds, what, proto)
        for c, ra, rb in zip(cmds, a, b):
            if norm(ra) != norm(rb) or type(ra) is not type(rb):
                raise Fail("%s: %r (RESP%d): redis-server answered %r; the sidecar %r" % (
                    what, c, proto, rb, ra))


@test
def hash_commands():
    h, s = key("hash_commands", "h"), key("hash_commands", "s")
    same_as_redis([
        ("DEL", h, s),
        ("HGET", h, "f"), ("HLEN", h), ("HGETALL", h), ("HKEYS", h), ("HVALS", h),
        ("HMGET", h, "a", "b"), ("HEXISTS", h, "a"), ("HSTRLEN", h, "a"), ("HDEL", h, "a"),
        ("HRANDFIELD", h), ("HRANDFIELD", h, 3), ("HRANDFIELD", h, -3, "WITHVALUES"),
        ("HSCAN", h, 0), ("HSCAN", h, 0, "BADOPT"),
        ("HSET", h, "a", "1", "b", "2", "a", "3"), ("HMSET", h, "c", "4", "d", ""),
        ("HGETALL", h), ("HKEYS", h), ("HVALS", h), ("HLEN", h),
        ("HGET", h, "a"), ("HGET", h, "zz"), ("HMGET", h, "a", "zz", "d"),
        ("HEXISTS", h, "d"), ("HEXISTS", h, "zz"), ("HSTRLEN", h, "c"), ("HSTRLEN", h, "zz"),
        ("HSETNX", h, "a", "x"), ("HSETNX", h, "e", "5"),
        ("HINCRBY", h, "a", "10"), ("HINCRBY", h, "new", "-7"), ("HINCRBY", h, "a", "x"),
        ("HINCRBY", h, "d", "1"), ("HINCRBY", h, "a", "9223372036854775807"),
        ("HINCRBY", h, "a", "1.5"), ("HINCRBY", h, "a", " 1"),
        ("HINCRBYFLOAT", h, "a", "0.25"), ("HINCRBYFLOAT", h, "f", "1e3"),
        ("HINCRBYFLOAT", h, "f", "-1000"), ("HINCRBYFLOAT", h, "a", "x"),
        ("HINCRBYFLOAT", h, "a", "inf"), ("HINCRBYFLOAT", h, "d", "1"),
        ("HINCRBYFLOAT", h, "g", "3.0e-2"),
        ("HGETALL", h),
        ("HRANDFIELD", h, 100), ("HRANDFIELD", h, 100, "WITHVALUES"), ("HRANDFIELD", h, 0),
        ("HRANDFIELD", h, 1, "WITHVALUE"), ("HRANDFIELD", h, 1, "WITHVALUES", "x"),
        ("HRANDFIELD", h, "x"), ("HRANDFIELD", h, "-9223372036854775808"),
        ("HRANDFIELD", h, "4611686018427387904", "WITHVALUES"),
        ("HSCAN", h, 0), ("HSCAN", h, 0, "MATCH", "[a-c]*"), ("HSCAN", h, 0, "MATCH", "*"),
        ("HSCAN", h, 0, "COUNT", 0), ("HSCAN", h, 0, "COUNT", "x"), ("HSCAN", h, "x"),
        ("HSCAN", h, 0, "MATCH"), ("HSCAN", h, 0, "COUNT", 100, "MATCH", "a"),
        ("HDEL", h, "a", "zz", "b"), ("HLEN", h),
        ("HDEL", h, "c", "d", "e", "new", "f", "g"), ("EXISTS", h), ("HGETALL", h),
        # wrong arity
        ("HSET", h), ("HSET", h, "a"), ("HSET", h, "a", "1", "b"), ("HMSET", h, "a"),
        ("HMSET", h, "a", "1", "b"), ("HGET", h), ("HGET", h, "a", "b"), ("HMGET", h),
        ("HDEL", h), ("HLEN", h, "x"), ("HGETALL",), ("HKEYS", h, h), ("HVALS",),
        ("HEXISTS", h), ("HSTRLEN", h), ("HINCRBY", h, "a"), ("HINCRBYFLOAT", h, "a"),
        ("HSETNX", h, "a"), ("HRANDFIELD",), ("HSCAN", h),
        # WRONGTYPE, both ways
        ("SET", s, "v"), ("HGET", s, "f"), ("HSET", s, "f", "v"), ("HGETALL", s),
        ("HINCRBY", s, "f", "1"), ("HINCRBY", s, "f", "x"), ("HSCAN", s, 0), ("HSCAN", s, "x"),
        ("HRANDFIELD", s), ("HRANDFIELD", s, 2), ("HLEN", s), ("HDEL", s, "f"),
        ("HSET", h, "f", "v"), ("GET", h), ("INCR", h), ("APPEND", h, "x"), ("STRLEN", h),
        ("SADD", h, "m"), ("SMEMBERS", h), ("SCARD", h), ("TYPE", h), ("TYPE", s),
        ("DEL", h, s),
    ], "hash commands", protos=(2, 3))


@test
def set_commands():
    s, t = key("set_commands", "s"), key("set_commands", "t")
    same_as_redis([
        ("DEL", s, t),
        ("SCARD", s), ("SMEMBERS", s), ("SISMEMBER", s, "a"), ("SMISMEMBER", s, "a", "b"),
        ("SPOP", s), ("SPOP", s, 3), ("SPOP", s, 0), ("SRANDMEMBER", s), ("SRANDMEMBER", s, 5),
        ("SRANDMEMBER", s, -5), ("SREM", s, "a"), ("SSCAN", s, 0), ("SSCAN", s, 0, "BAD"),
        ("SADD", s, "a"), ("SADD", s, "a", "b", "a"), ("SREM", s, "zz"), ("SCARD", s),
        ("SISMEMBER", s, "a"), ("SISMEMBER", s, "zz"), ("SMISMEMBER", s, "zz", "a", "b"),
        ("SRANDMEMBER", s, 0), ("SPOP", s, 0),
        ("SPOP", s, -1), ("SPOP", s, "x"), ("SPOP", s, 1, 2), ("SRANDMEMBER", s, 1, 2),
        ("SRANDMEMBER", s, "x"), ("SRANDMEMBER", s, "-9223372036854775808"),
        ("SSCAN", s, 0, "COUNT", 0), ("SSCAN", s, "x"), ("SSCAN", s, 0, "MATCH"),
        ("SSCAN", s, 0, "MATCH", "zz*"),
        ("SREM", s, "a", "b", "c"), ("EXISTS", s), ("SMEMBERS", s),
        # arity
        ("SADD", s), ("SREM", s), ("SISMEMBER", s), ("SMISMEMBER", s), ("SMEMBERS",),
        ("SCARD", s, s), ("SPOP",), ("SRANDMEMBER",), ("SSCAN", s),
        # WRONGTYPE both ways
        ("SET", t, "v"), ("SADD", t, "a"), ("SREM", t, "a"), ("SMEMBERS", t), ("SPOP", t),
        ("SPOP", t, 2), ("SPOP", t, -1), ("SRANDMEMBER", t, 2), ("SISMEMBER", t, "a"),
        ("SSCAN", t, 0), ("SCARD", t),
        ("SADD", s, "m"), ("GET", s), ("HGET", s, "f"), ("GETRANGE", s, 0, 1), ("TYPE", s),
        ("DEL", s, t),
    ], "set commands", protos=(2, 3))
    # orders differ (Redis: intsets sorted, big sets hashed): compared sorted
    same_sorted([
        ("DEL", s), ("SADD", s, "x", "y", "z", "1", "2", "w"), ("SMEMBERS", s),
        ("SRANDMEMBER", s, 100), ("SSCAN", s, 0), ("SADD", s, "3", "2", "-1"),
        ("SMEMBERS", s), ("SPOP", s, 100), ("EXISTS", s), ("SMEMBERS", s),
    ], "set commands, sorted")


@test
def set_algebra():
    a, b, c, m, st = (key("set_algebra", x) for x in ("a", "b", "c", "missing", "str"))
    setup = [("DEL", a, b, c, m, st), ("SADD", a, "1", "2", "3", "x", "y"),
             ("SADD", b, "2", "3", "4", "y", "z"), ("SADD", c, "3", "y", "q"), ("SET", st, "v")]
    same_sorted(setup + [
        ("SINTER", a), ("SINTER", a, b), ("SINTER", a, b, c), ("SINTER", a, m), ("SINTER", m),
        ("SINTER", a, a), ("SUNION", a), ("SUNION", a, b, c), ("SUNION", m, a), ("SUNION", m),
        ("SDIFF", a, b), ("SDIFF", a, b, c), ("SDIFF", a, m), ("SDIFF", m, a), ("SDIFF", a, a),
        ("SINTER", a, st), ("SINTER", m, st), ("SUNION", a, st), ("SDIFF", st, a),
        ("SDIFF", a, st),
        # a key named again (read once): no change but SDIFF's first key again (empty)
        ("SMEMBERS", a), ("SINTER", a, a, a), ("SINTER", a, b, a, b), ("SUNION", a, b, a),
        ("SUNION", m, m), ("SDIFF", a, b, a), ("SDIFF", a, a, b), ("SDIFF", b, a, a),
        ("SDIFF", a, b, b, c), ("SDIFF", m, m), ("SDIFF", st, st), ("SDIFF", a, st, a),
        ("SDIFF", a, m, a), ("SINTER", a, st, a), ("SUNION", st, st),
    ], "SINTER SUNION SDIFF")
    same_as_redis(setup + [
        ("SINTERCARD", 1, a), ("SINTERCARD", 2, a, b), ("SINTERCARD", 3, a, b, c),
        ("SINTERCARD", 2, a, b, "LIMIT", 1), ("SINTERCARD", 2, a, b, "LIMIT", 0),
        ("SINTERCARD", 2, a, b, "limit", 100), ("SINTERCARD", 2, a, m),
        ("SINTERCARD", 0, a), ("SINTERCARD", -1, a), ("SINTERCARD", "x", a),
        ("SINTERCARD", 3, a, b), ("SINTERCARD", 1, a, "LIMIT", -1),
        ("SINTERCARD", 1, a, "LIMIT", "x"), ("SINTERCARD", 1, a, "LIMIT"),
        ("SINTERCARD", 1, a, "FOO", 1), ("SINTERCARD", 2, a, st), ("SINTERCARD", 1),
        ("SINTER",), ("SUNION",), ("SDIFF",),
        ("SINTERCARD", 2, a, a), ("SINTERCARD", 3, a, b, a), ("SINTERCARD", 2, a, a, "LIMIT", 2),
        ("SINTERCARD", 2, a, a, a), ("SINTERCARD", 2, a, a, "LIMIT", 1, "LIMIT", 3),
        ("EXISTS", a, a), ("EXISTS", a, m, a, st, m, a), ("EXISTS", m, m),
        ("DEL", a, b, c, st),
    ], "SINTERCARD, errors", protos=(2, 3))


@test
def resp3_types():
    """RESP3 types the harness' parser folds: SMEMBERS and SPOP count are sets (~), HGETALL a
    map (%), HRANDFIELD WITHVALUES an array of pairs."""
    h, s = key("resp3_types", "h"), key("resp3_types", "s")
    for conn in (E.sc.conn(), E.redis().conn()):
        with conn as c:
            c.cmd("HELLO", 3)
            c.cmd("DEL", h, s)
            c.cmd("HSET", h, "a", "1")
            c.cmd("SADD", s, "a", "b")
            for args, first in ((("SMEMBERS", s), b"~2"), (("HGETALL", h), b"%1"),
                                (("SPOP", s, 1), b"~1"), (("SPOP", key("resp3_types", "no"), 2), b"~0"),
                                (("HRANDFIELD", h, 1, "WITHVALUES"), b"*1"),
                                (("HGETALL", key("resp3_types", "no")), b"%0"),
                                (("HSCAN", h, 0), b"*2"), (("HGET", h, "x"), b"_"),
                                (("SUNION", s, h + "no"), b"~1"), (("SINTER", h + "no"), b"~0")):
                c.send(__import__("harness").encode(*args))
                eq(c.raw_reply_line(), first, "%r: its RESP3 type" % (args,))
                rest = first[1:]
                if rest.isdigit() and first[:1] in b"~%*":
                    n = int(rest) * (2 if first[:1] == b"%" else 1)
                    for _ in range(n):
                        c.reply()
            c.cmd("DEL", h, s)


@test
def random_commands():
    h, s = key("random_commands", "h"), key("random_commands", "s")
    with E.sc.conn() as c:
        c.cmd("DEL", h, s)
        fields = ["f%d" % i for i in range(50)]
        c.cmd("HSET", h, *[x for f in fields for x in (f, "v" + f)])
        c.cmd("SADD", s, *fields)
        for n in (1, 5, 49):
            got = c.cmd("HRANDFIELD", h, n)
            eq(len(got), n, "HRANDFIELD %d: how many" % n)
            eq(len(set(got)), n, "HRANDFIELD %d: distinct" % n)
            eq(set(got) <= set(f.encode() for f in fields), True, "HRANDFIELD: fields")
            got = c.cmd("SRANDMEMBER", s, n)
            eq(len(set(got)), n, "SRANDMEMBER %d: distinct" % n)
        got = c.cmd("HRANDFIELD", h, -200, "WITHVALUES")
        eq(len(got), 400, "HRANDFIELD -200 WITHVALUES: 200 pairs")
        for i in range(0, 400, 2):
            eq(got[i + 1], b"v" + got[i], "a pair of HRANDFIELD WITHVALUES")
        eq(len(set(got[::2])) > 30, True, "HRANDFIELD -200 repeats, but covers the hash")
        eq(len(c.cmd("SRANDMEMBER", s, -200)), 200, "SRANDMEMBER -200")
        eq(c.cmd("HRANDFIELD", h, -2000000),
           Error("ERR count is over the sidecar's limit of 1048576 random picks"),
           "HRANDFIELD of too many repeats")
        eq(c.cmd("HGET", h, c.cmd("HRANDFIELD", h)[0:0] + b"f7"), b"vf7", "HGET")
        popped = c.cmd("SPOP", s, 20)
        eq(len(set(popped)), 20, "SPOP 20: distinct")
        eq(c.cmd("SCARD", s), 30, "SCARD after SPOP 20")
        eq(c.cmd("SMISMEMBER", s, *popped), [0] * 20, "the popped members are gone")
        one = c.cmd("SPOP", s)
        eq(c.cmd("SISMEMBER", s, one), 0, "SPOP's member gone")
        eq(len(c.cmd("SPOP", s, 100)), 29, "SPOP of more than there is: the rest")
        eq(c.cmd("EXISTS", s), 0, "a set popped empty is deleted")
        c.cmd("DEL", h)


@test
def scan_cursor():
    h, s = key("scan_cursor", "h"), key("scan_cursor", "s")
    with E.sc.conn() as c:
        c.cmd("DEL", h, s)
        fields = ["f%03d" % i for i in range(100)]
        c.cmd("HSET", h, *[x for f in fields for x in (f, f.upper())])
        c.cmd("SADD", s, *fields)
        for cmd, k, per in (("HSCAN", h, 2), ("SSCAN", s, 1)):
            cursor, seen, calls = b"0", [], 0
            while True:
                cursor, items = c.cmd(cmd, k, cursor, "COUNT", 7)
                seen += items
                calls += 1
                if cursor == b"0":
                    break
            eq(calls, 15, "%s COUNT 7 over 100: calls" % cmd)
            eq(seen[::per], [f.encode() for f in fields], "%s: every item once, in order" % cmd)
            # past the end (Redis ignores the cursor of a small hash or set: all of it)
            eq(c.cmd(cmd, k, 100), [b"0", []], "%s from a cursor past the end" % cmd)
            eq(c.cmd(cmd, k, "18446744073709551615"), [b"0", []], "%s cursor 2^64-1" % cmd)
            cursor, items = c.cmd(cmd, k, 0, "MATCH", "f09*", "COUNT", 1000)
            eq((cursor, items[::per]), (b"0", [b"f09%d" % i for i in range(10)]),
               "%s MATCH" % cmd)
        # Redis 7.4's NOVALUES (7.2 answers a syntax error): the fields alone
        eq(c.cmd("HSCAN", h, 0, "COUNT", 3, "NOVALUES"), [b"3", [b"f000", b"f001", b"f002"]],
           "HSCAN NOVALUES")
        eq(c.cmd("SSCAN", s, 0, "NOVALUES"), Error("ERR syntax error"), "SSCAN NOVALUES")
        c.cmd("DEL", h, s)


@test
def refused():
    s, t = key("refused", "s"), key("refused", "t")
    with E.sc.conn() as c:
        c.cmd("SADD", s, "a")
        eq(c.cmd("SMOVE", s, t, "a"),
           Error("ERR SMOVE is not supported: NoriKV has no writes across keys"), "SMOVE")
        for cmd in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            eq(c.cmd(cmd, t, s), Error("ERR %s is not supported: NoriKV has no writes across "
                                       "keys" % cmd), cmd)
        eq(c.cmd("SMEMBERS", s), [b"a"], "the refusals changed nothing")
        c.cmd("DEL", s)


@test
def size_limit():
    h, s = key("size_limit", "h"), key("size_limit", "s")
    big = b"x" * (1048576 - 24 - 4 - 8 - 64)
    with E.sc.conn() as c:
        c.cmd("DEL", h, s)
        eq(c.cmd("HSET", h, "f", big), 1, "HSET of a value just under the limit")
        eq(c.cmd("HSET", h, "g", "y" * 100), Error(LIMIT_ERR), "HSET over the limit")
        eq(c.cmd("HINCRBYFLOAT", h, "g", "1" * 80), Error(LIMIT_ERR), "HINCRBYFLOAT over it")
        eq(c.cmd("HKEYS", h), [b"f"], "nothing changed")
        eq(c.cmd("HSET", h, "g", "y"), 1, "a small field still fits")
        eq(c.cmd("SADD", s, big + b"y" * 100), Error(LIMIT_ERR), "SADD over the limit")
        eq(c.cmd("EXISTS", s), 0, "nothing created")
        c.cmd("DEL", h, s)


@test
def types_and_tx():
    h, s, st = (key("types_and_tx", x) for x in ("h", "s", "str"))
    same_as_redis([
        ("DEL", h, s, st), ("TYPE", h), ("HSET", h, "a", "1"), ("SADD", s, "m"),
        ("SET", st, "v"), ("TYPE", h), ("TYPE", s), ("TYPE", st),
        ("MULTI",), ("HSET", h, "b", "2"), ("HINCRBY", h, "a", "5"), ("HDEL", h, "b"),
        ("HGETALL", h), ("HGET", h, "a"), ("EXEC",),
        ("MULTI",), ("HINCRBY", h, "a", "x"), ("HSET", h, "c", "3"), ("EXEC",), ("HGETALL", h),
        ("MULTI",), ("SADD", s, "n"), ("SREM", s, "m"), ("SCARD", s), ("EXEC",),
        ("DEL", h, s, st),
    ], "TYPE and MULTI/EXEC on one hash", protos=(2, 3))


@test
def hincrby_concurrent():
    h = key("hincrby_concurrent", "h")
    n, each = 20, 25
    errors = []

    def worker(i):
        try:
            with E.sc.conn(timeout=60) as c:
                for _ in range(each):
                    r = c.cmd("HINCRBY", h, "n", i + 1)
                    if not isinstance(r, int):
                        errors.append(r)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with E.sc.conn() as c:
        c.cmd("DEL", h)
        c.cmd("HSET", h, "other", "x")
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eq(errors, [], "HINCRBY errors")
    with E.sc.conn() as c:
        eq(c.cmd("HGET", h, "n"), b"%d" % (each * n * (n + 1) // 2), "the exact sum")
        eq(c.cmd("HGET", h, "other"), b"x", "the other field kept")
        c.cmd("DEL", h)


@test
def hash_ttl():
    h, s = key("hash_ttl", "h"), key("hash_ttl", "s")
    with E.sc.conn() as c:
        c.cmd("DEL", h, s)
        c.cmd("HSET", h, "a", "1")
        eq(c.cmd("TTL", h), -1, "TTL of a hash without one")
        eq(c.cmd("EXPIRE", h, 100), 1, "EXPIRE")
        eq(c.cmd("TTL", h), 100, "TTL after EXPIRE 100")
        eq(c.cmd("HSET", h, "b", "2"), 1, "HSET keeps the TTL")
        eq(c.cmd("TTL", h), 100, "TTL after HSET")
        eq(c.cmd("PEXPIRE", h, 300), 1, "PEXPIRE 300")
        c.cmd("SADD", s, "m")
        eq(c.cmd("PEXPIRE", s, 300), 1, "PEXPIRE on a set")
        time.sleep(0.5)
        eq(c.cmd("EXISTS", h), 0, "the hash expired")
        eq(c.cmd("HGETALL", h), [], "HGETALL of the expired hash")
        eq(c.cmd("SCARD", s), 0, "the set expired")
        eq(c.cmd("HSET", h, "c", "3"), 1, "HSET after expiry creates a new hash")
        eq(c.cmd("TTL", h), -1, "without a TTL")
        c.cmd("DEL", h)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
