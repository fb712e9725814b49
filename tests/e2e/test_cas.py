#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: read-modify-write commands and transactions.

The commands that run as a compare-and-swap of one key (INCR and friends, INCRBYFLOAT,
APPEND, SETRANGE, STRLEN, GETRANGE, GETSET, GETDEL, GETEX, SET XX/GET, EXPIRE and friends,
PERSIST, TTL) through redis-py, as Redis answers them; a key's TTL lost on INCR (NoriKV's
documented limit); MULTI/EXEC/DISCARD/WATCH on one key through redis-py's pipeline and
transaction helper and on raw sockets (a transaction on several keys refused with
EXECABORT, the connection usable after it); concurrent INCRs through one sidecar (8 and
50 connections on one key: the INCRs queued on it share rounds, one read and one write for
a group), with replies lost by the cluster, and through two sidecars on one key: no
increment lost or applied twice.

Usage: python3 tests/e2e/test_cas.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import threading
import time

import redis

from harness import (E, SERVER, TYPED, Error, Fail, Sidecar, Skip, TEST_TIMEOUT, check, encode, eq,
                     info_field, key, test, main)

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808


def raises(fn, text, what, cls=redis.ResponseError):
    """fn() raises cls whose message is text (str) or contains every part (tuple)."""
    try:
        got = fn()
    except redis.RedisError as e:
        msg = str(e)
        ok = type(e) is cls and (msg == text if isinstance(text, str)
                                 else all(p in msg for p in text))
        check(ok, "%s: %s(%r)" % (what, cls.__name__, text), "%s(%r)" % (type(e).__name__, msg))
        return msg
    raise Fail("%s: expected %s(%r); it returned %r" % (what, cls.__name__, text, got))


def cas_stats(sc):
    text = sc.info("stats")
    return dict((f, int(info_field(text, f) or -1))
                for f in ("cas_rounds", "cas_conflicts", "cas_exhausted", "cas_waits",
                          "cas_watch_aborts", "cas_groups", "cas_merged_blocks"))


def stats_delta(before, after):
    return dict((f, after[f] - before[f]) for f in after)


def verbose_cas_lines(sc, what):
    if E.verbose:
        text = sc.info("stats")
        print("  %s INFO stats: %s" % (what, " ".join(
            l.strip() for l in text.split("\n") if l.startswith("cas_"))), flush=True)


def verbose(fmt, *args):
    if E.verbose:
        print("  " + (fmt % args if args else fmt), flush=True)


# ---- the commands, one at a time ------------------------------------------------------

@test
def py_incr_decr():
    r = E.sc.client()
    k = key("incr")
    eq(r.incr(k), 1, "INCR of a missing key")
    eq(r.incr(k), 2, "INCR")
    eq(r.incrby(k, 40), 42, "INCRBY 40")
    eq(r.decr(k), 41, "DECR")
    eq(r.decrby(k, 50), -9, "DECRBY 50")
    eq(r.incrby(k, -1), -10, "INCRBY -1")
    eq(r.get(k), b"-10", "GET after the increments")
    m = key("incr", "decr-missing")
    eq(r.decr(m), -1, "DECR of a missing key")
    r.set(k, LLONG_MAX - 1)
    eq(r.incr(k), LLONG_MAX, "INCR up to LLONG_MAX")
    eq(r.get(k), str(LLONG_MAX).encode(), "GET of LLONG_MAX")


@test
def py_incr_errors():
    r = E.sc.client()
    k = key("incr_errors")
    r.set(k, "abc")
    raises(lambda: r.incr(k), "value is not an integer or out of range", "INCR of 'abc'")
    raises(lambda: r.decrby(k, 2), "value is not an integer or out of range", "DECRBY of 'abc'")
    for bad in (" 1", "1 ", "01x", "1.5", "99999999999999999999", ""):
        r.set(k, bad)
        raises(lambda: r.incr(k), "value is not an integer or out of range", "INCR of %r" % bad)
        eq(r.get(k), bad.encode(), "the value after the refused INCR of %r" % bad)
    r.set(k, 5)
    raises(lambda: r.incrby(k, "x"), "value is not an integer or out of range",
           "INCRBY with a non-integer increment")
    raises(lambda: r.incrby(k, "1.0"), "value is not an integer or out of range",
           "INCRBY 1.0")
    r.set(k, LLONG_MAX)
    raises(lambda: r.incr(k), "increment or decrement would overflow", "INCR of LLONG_MAX")
    raises(lambda: r.incrby(k, 1), "increment or decrement would overflow", "INCRBY 1 of max")
    r.set(k, LLONG_MIN)
    raises(lambda: r.decr(k), "increment or decrement would overflow", "DECR of LLONG_MIN")
    r.set(k, 0)
    raises(lambda: r.decrby(k, LLONG_MIN), "decrement would overflow",
           "DECRBY LLONG_MIN (Redis 7's own wording)")
    eq(r.get(k), b"0", "the value after the refused DECRBY")
    # wrong arity, as redis-py raises it
    raises(lambda: r.execute_command("INCR"), "wrong number of arguments for 'incr' command",
           "INCR without a key")
    raises(lambda: r.execute_command("INCRBY", k), "wrong number of arguments for 'incrby' command",
           "INCRBY without an increment")


@test
def py_incrbyfloat_format():
    r = E.sc.client()
    k = key("incrbyfloat")
    # The examples of Redis' documentation, with Redis' long double arithmetic and format.
    r.set(k, "10.50")
    eq(r.incrbyfloat(k, 0.1), 10.6, "INCRBYFLOAT 10.50 0.1 (redis-py's float)")
    with E.sc.conn() as c:
        eq(c.cmd("GET", k), b"10.6", "the stored string after INCRBYFLOAT 10.50 0.1")
        eq(c.cmd("INCRBYFLOAT", k, "-5"), b"5.6", "INCRBYFLOAT -5 (the reply as sent)")
        c.cmd("SET", k, "5.0e3")
        eq(c.cmd("INCRBYFLOAT", k, "2.0e2"), b"5200", "INCRBYFLOAT 5.0e3 2.0e2")
        c.cmd("SET", k, "1.1")
        eq(c.cmd("INCRBYFLOAT", k, "2.2"), b"3.3", "INCRBYFLOAT 1.1 2.2 (long double)")
        c.cmd("SET", k, "3")
        eq(c.cmd("INCRBYFLOAT", k, "1.5"), b"4.5", "INCRBYFLOAT 3 1.5")
        eq(c.cmd("INCRBYFLOAT", k, "-4.5"), b"0", "INCRBYFLOAT back to 0")
        eq(c.cmd("INCRBYFLOAT", k, "-0.0"), b"0", "INCRBYFLOAT -0.0 (no '-0')")
        m = key("incrbyfloat", "missing")
        eq(c.cmd("INCRBYFLOAT", m, "0.25"), b"0.25", "INCRBYFLOAT of a missing key")
        eq(c.cmd("INCR", k), 1, "INCR of the '0' INCRBYFLOAT left")
    r.set(k, "abc")
    raises(lambda: r.incrbyfloat(k, 1), "value is not a valid float", "INCRBYFLOAT of 'abc'")
    r.set(k, 1)
    raises(lambda: r.incrbyfloat(k, "x"), "value is not a valid float", "INCRBYFLOAT x")
    raises(lambda: r.incrbyfloat(k, "nan"), "value is not a valid float", "INCRBYFLOAT nan")
    eq(r.get(k), b"1", "the value after the refused INCRBYFLOATs")


@test
def py_append_strlen_ranges():
    r = E.sc.client()
    k = key("append")
    m = key("append", "missing")
    eq(r.append(k, "Hello"), 5, "APPEND to a missing key")
    eq(r.append(k, " World"), 11, "APPEND")
    eq(r.get(k), b"Hello World", "GET after APPEND")
    eq(r.strlen(k), 11, "STRLEN")
    eq(r.strlen(m), 0, "STRLEN of a missing key")
    eq(r.append(k, b"\x00\r\n\xff"), 15, "APPEND of binary bytes")
    eq(r.get(k), b"Hello World\x00\r\n\xff", "GET after the binary APPEND")
    r.set(k, "This is a string")
    eq(r.getrange(k, 0, 3), b"This", "GETRANGE 0 3")
    eq(r.getrange(k, -3, -1), b"ing", "GETRANGE -3 -1")
    eq(r.getrange(k, 0, -1), b"This is a string", "GETRANGE 0 -1")
    eq(r.getrange(k, 10, 100), b"string", "GETRANGE 10 100")
    eq(r.getrange(k, 5, 2), b"", "GETRANGE with start after end")
    eq(r.getrange(m, 0, -1), b"", "GETRANGE of a missing key")
    r.set(k, "Hello World")
    eq(r.setrange(k, 6, "Redis"), 11, "SETRANGE 6 Redis")
    eq(r.get(k), b"Hello Redis", "GET after SETRANGE")
    eq(r.setrange(k, 13, "!"), 14, "SETRANGE past the end")
    eq(r.get(k), b"Hello Redis\x00\x00!", "SETRANGE pads with zero bytes")
    p = key("append", "pad")
    eq(r.setrange(p, 5, "Redis"), 10, "SETRANGE of a missing key at 5")
    eq(r.get(p), b"\x00" * 5 + b"Redis", "GET after SETRANGE of a missing key")
    eq(r.setrange(m, 5, ""), 0, "SETRANGE of a missing key with an empty value")
    eq(r.exists(m), 0, "SETRANGE with an empty value does not create the key")
    raises(lambda: r.setrange(k, -1, "x"), "offset is out of range", "SETRANGE -1")
    raises(lambda: r.setrange(k, 1 << 20, "x"), ("string exceeds maximum allowed size",),
           "SETRANGE past NoriKV's value limit")
    eq(r.get(k), b"Hello Redis\x00\x00!", "the value after the refused SETRANGEs")


@test
def py_getset_getdel():
    r = E.sc.client()
    k = key("getset")
    eq(r.getset(k, "one"), None, "GETSET of a missing key")
    eq(r.getset(k, "two"), b"one", "GETSET")
    eq(r.get(k), b"two", "GET after GETSET")
    eq(r.getdel(k), b"two", "GETDEL")
    eq(r.get(k), None, "GET after GETDEL")
    eq(r.getdel(k), None, "GETDEL of a missing key")
    r.set(k, "short", px=300)
    eq(r.getset(k, "kept"), b"short", "GETSET of a key with a TTL")
    time.sleep(0.6)
    eq(r.get(k), b"kept", "GETSET drops the TTL, as in Redis: GET 600 ms later")


@test
def py_getex():
    r = E.sc.client()
    k, k2 = key("getex"), key("getex", "persist")
    eq(r.getex(key("getex", "missing"), ex=10), None, "GETEX of a missing key")
    r.set(k, "v")
    eq(r.getex(k), b"v", "GETEX without options")
    t0 = time.monotonic()
    eq(r.getex(k, ex=1), b"v", "GETEX EX 1")
    eq(r.get(k), b"v", "GET right after GETEX EX 1")
    r.set(k2, "p", px=400)
    eq(r.getex(k2, persist=True), b"p", "GETEX PERSIST")
    time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
    eq(r.get(k), None, "GET 1.3 s after GETEX EX 1")
    eq(r.get(k2), b"p", "GET 1.3 s after GETEX PERSIST of a 400 ms key")
    r.set(k, "v")
    raises(lambda: r.getex(k, ex=0), "invalid expire time in 'getex' command", "GETEX EX 0")
    raises(lambda: r.execute_command("GETEX", k, "EX"), "syntax error", "GETEX EX without time")
    eq(r.get(k), b"v", "the value after the refused GETEX")


@test
def py_set_xx_get():
    r = E.sc.client()
    k, m = key("set_xx"), key("set_xx", "missing")
    eq(r.set(m, "v", xx=True), None, "SET XX of a missing key")
    eq(r.exists(m), 0, "SET XX does not create the key")
    eq(r.set(m, "v", xx=True, get=True), None, "SET XX GET of a missing key")
    eq(r.exists(m), 0, "SET XX GET does not create the key")
    r.set(k, "old")
    eq(r.set(k, "new", xx=True), True, "SET XX of an existing key")
    eq(r.get(k), b"new", "GET after SET XX")
    eq(r.set(k, "newer", xx=True, get=True), b"new", "SET XX GET of an existing key")
    eq(r.get(k), b"newer", "GET after SET XX GET")
    eq(r.set(k, "newest", get=True), b"newer", "SET GET")
    eq(r.set(m, "created", get=True), None, "SET GET of a missing key")
    eq(r.get(m), b"created", "SET GET creates the key")
    t0 = time.monotonic()
    eq(r.set(k, "brief", xx=True, get=True, ex=1), b"newest", "SET XX GET EX 1")
    eq(r.get(k), b"brief", "GET right after SET XX GET EX 1")
    time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
    eq(r.get(k), None, "GET 1.3 s after SET XX GET EX 1")
    raises(lambda: r.execute_command("SET", k, "v", "NX", "XX"), "syntax error", "SET NX XX")


@test
def py_ttl_persist_expire_replies():
    r = E.sc.client()
    k, m = key("ttl"), key("ttl", "missing")
    eq(r.ttl(m), -2, "TTL of a missing key")
    eq(r.pttl(m), -2, "PTTL of a missing key")
    r.set(k, "v")
    if TYPED:  # the TTL is in the value: as Redis
        eq([r.ttl(k), r.pttl(k)], [-1, -1], "TTL and PTTL of a typed key without a TTL")
    else:
        raises(lambda: r.ttl(k), ("TTL", "NoriKV"), "TTL of an existing key names NoriKV's limit")
        raises(lambda: r.pttl(k), ("PTTL", "NoriKV"), "PTTL of an existing key")
    eq(r.expire(m, 10), False, "EXPIRE of a missing key")
    eq(r.exists(m), 0, "EXPIRE does not create the key")
    eq(r.expire(k, 100), True, "EXPIRE of an existing key")
    eq(r.persist(m), False, "PERSIST of a missing key")
    eq(r.persist(k), True, "PERSIST of an existing key")
    raises(lambda: r.expire(k, "soon"), "value is not an integer or out of range", "EXPIRE soon")
    if TYPED:
        eq(r.execute_command("EXPIRE", k, 10, "NX"), 1, "EXPIRE NX of a key without a TTL")
    else:
        raises(lambda: r.execute_command("EXPIRE", k, 10, "NX"), ("NX", "NoriKV"),
               "EXPIRE NX (needs the current TTL)")
    raises(lambda: r.execute_command("EXPIRE", k, 10, "BOGUS"), ("Unsupported option",),
           "EXPIRE with an unknown option")
    eq(r.get(k), b"v", "the value after all that")
    r.set(k, "p", px=400)
    eq(r.persist(k), True, "PERSIST of a key with a 400 ms TTL")
    time.sleep(0.7)
    eq(r.get(k), b"p", "GET 700 ms after PERSIST of a 400 ms key")


@test
def py_incr_drops_ttl():
    # NoriKV never returns a key's TTL and every Put replaces it: INCR of a plain key with a
    # TTL leaves it with none (the documented limit), unlike Redis; a typed one keeps it.
    r = E.sc.client()
    k = key("incr_ttl")
    eq(r.set(k, 1, px=300), True, "SET k 1 PX 300")
    eq(r.incr(k), 2, "INCR")
    time.sleep(0.6)
    eq(r.get(k), None if TYPED else b"2",
       "GET 600 ms after INCR of a key with a 300 ms TTL (%s)" % (
           "typed: the TTL kept, as in Redis" if TYPED else "plain: the TTL is gone"))
    a = key("incr_ttl", "append")
    r.set(a, "x", px=300)
    eq(r.append(a, "y"), 2, "APPEND to a key with a TTL")
    time.sleep(0.6)
    eq(r.get(a), None if TYPED else b"xy", "GET 600 ms after APPEND")


@test
def py_expire_expires():
    r = E.sc.client()
    k, kp, ka = key("expire"), key("expire", "p"), key("expire", "at")
    r.set(k, "v")
    r.set(kp, "v")
    r.set(ka, "v")
    t0 = time.monotonic()
    eq(r.expire(k, 1), True, "EXPIRE k 1")
    eq(r.pexpire(kp, 500), True, "PEXPIRE k 500")
    eq(r.execute_command("PEXPIREAT", ka, int(time.time() * 1000) + 800), 1, "PEXPIREAT +800 ms")
    eq(r.mget(k, kp, ka), [b"v", b"v", b"v"], "the keys right after EXPIRE")
    time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
    eq(r.mget(k, kp, ka), [None, None, None], "the keys 1.3 s after EXPIRE 1 / PEXPIRE 500 / "
       "PEXPIREAT +800")


@test
def py_expire_nonpositive_deletes():
    r = E.sc.client()
    cases = [("PEXPIRE", -1), ("PEXPIRE", 0), ("EXPIRE", -5), ("EXPIRE", 0),
             ("EXPIREAT", int(time.time()) - 10), ("PEXPIREAT", 1)]
    for name, t in cases:
        k = key("expire_del", "%s%d" % (name, t))
        r.set(k, "v")
        eq(r.execute_command(name, k, t), 1, "%s k %d" % (name, t))
        eq(r.get(k), None, "GET right after %s k %d" % (name, t))
        eq(r.exists(k), 0, "EXISTS right after %s k %d" % (name, t))


# ---- transactions ---------------------------------------------------------------------

@test
def raw_multi_incr_expire():
    # MULTI; INCR k; EXPIRE k 1; EXEC writes the value and its TTL in one go.
    k, k2 = key("multi_incr_expire"), key("multi_incr_expire", "ttl")
    with E.sc.conn() as c:
        eq(c.cmd("MULTI"), "OK", "MULTI")
        eq(c.cmd("INCR", k), "QUEUED", "INCR queued")
        eq(c.cmd("EXPIRE", k, 1), "QUEUED", "EXPIRE queued")
        eq(c.cmd("EXEC"), [1, 1], "EXEC of INCR, EXPIRE 1")
        # the TTL runs from the write's apply, which is before EXEC's reply (the real
        # server applies a write up to 150 ms after it arrives)
        t0 = time.monotonic()
        eq(c.cmd("GET", k), b"1", "GET right after EXEC")
        # meanwhile: TTL and PTTL inside MULTI know a TTL the transaction set, no other
        c.cmd("SET", k2, "v")
        c.cmd("MULTI")
        c.cmd("GET", k2)
        c.cmd("TTL", k2)
        c.cmd("PEXPIRE", k2, 60000)
        c.cmd("PTTL", k2)
        c.cmd("TTL", k2)
        got = c.cmd("EXEC")
        check(isinstance(got, list) and len(got) == 5 and got[0] == b"v" and
              (got[1] == -1 if TYPED else isinstance(got[1], Error) and "NoriKV" in got[1]) and
              got[2] == 1 and
              59000 <= got[3] <= 60000 and got[4] == 60,
              "EXEC of GET, TTL (unknown: an error naming NoriKV), PEXPIRE 60000, PTTL (known: "
              "~60000), TTL (60)", got)
        time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
        eq(c.cmd("GET", k), None, "GET 1.3 s after the EXEC with EXPIRE 1")
        eq(c.cmd("GET", k2), b"v", "the key with a 60 s TTL")
        eq(c.cmd("PING"), "PONG", "the connection after the transactions")


@test
def raw_multi_set_ex_written_at_once():
    # value and TTL in one write: the key expires though the TTL came in the same EXEC
    k = key("multi_set_ex")
    with E.sc.conn() as c:
        c.cmd("MULTI")
        c.cmd("SET", k, "a")
        c.cmd("APPEND", k, "b")
        c.cmd("PEXPIRE", k, 400)
        c.cmd("PTTL", k)
        got = c.cmd("EXEC")
        check(isinstance(got, list) and got[:3] == ["OK", 2, 1] and 0 < got[3] <= 400,
              "[OK, 2, 1, <=400]", got)
        eq(c.cmd("GET", k), b"ab", "GET right after EXEC")
        time.sleep(0.7)
        eq(c.cmd("GET", k), None, "GET 700 ms after EXEC with PEXPIRE 400")


@test
def py_pipeline_transaction_one_key():
    r = E.sc.client()
    k = key("pipeline_tx")
    p = r.pipeline()  # transaction=True: MULTI ... EXEC
    p.set(k, "a").append(k, "b").get(k).strlen(k).getset(k, "5").incr(k).incrbyfloat(k, 0.5)
    p.getrange(k, 0, 0).exists(k).getdel(k).get(k)
    eq(p.execute(), [True, 2, b"ab", 2, b"ab", 6, 6.5, b"6", 1, b"6.5", None],
       "a transaction of 11 commands on one key")
    eq(r.get(k), None, "GET after the transaction")
    p = r.pipeline()
    p.ping().echo("hi")
    eq(p.execute(), [True, b"hi"], "a transaction of keyless commands (PING, ECHO)")
    p = r.pipeline()
    p.incr(k).incr(k).incr(k)
    eq(p.execute(), [1, 2, 3], "three INCRs in one transaction")
    eq(r.get(k), b"3", "GET after them")
    # a failed command inside a transaction fails alone, as in Redis
    p = r.pipeline()
    p.set(k, "x").incr(k).append(k, "y")
    got = p.execute(raise_on_error=False)
    check(len(got) == 3 and got[0] is True and isinstance(got[1], redis.ResponseError) and
          "not an integer" in str(got[1]) and got[2] == 2,
          "[True, ResponseError(not an integer), 2]", got)
    eq(r.get(k), b"xy", "GET after the transaction with a failed INCR")


@test
def py_pipeline_several_keys_execabort():
    r = E.sc.client()
    a, b = key("pipeline_2keys", "a"), key("pipeline_2keys", "b")
    p = r.pipeline()
    p.set(a, "1").set(b, "2")
    msg = raises(p.execute, (a, b), "a transaction on two keys (the reason names both)",
                 cls=redis.exceptions.ExecAbortError)
    check("single key" in msg or "one key" in msg, "the reason to say why", msg)
    eq(r.mget(a, b), [None, None], "nothing written")
    eq(r.ping(), True, "PING after the refused transaction")
    # the same commands without MULTI run, one by one
    p = r.pipeline(transaction=False)
    p.set(a, "1").set(b, "2")
    eq(p.execute(), [True, True], "the pipeline without MULTI")
    eq(r.mget(a, b), [b"1", b"2"], "written")


@test
def py_transaction_watch_retry():
    r, other = E.sc.client(), E.sc.client()
    k = key("tx_watch_retry")
    r.set(k, 10)
    calls = []

    def fn(pipe):
        calls.append(1)
        v = int(pipe.get(k))
        if len(calls) == 1:
            other.incr(k)  # another client changes the watched key in between
        pipe.multi()
        pipe.set(k, v * 2)

    got = r.transaction(fn, k)
    eq(got, [True], "the transaction's reply once it went through")
    check(len(calls) >= 2, "fn to be called again after the key changed (>= 2 calls)", calls)
    eq(len(calls), 2, "calls of fn (one lost to the other client, one that went through)")
    eq(r.get(k), b"22", "the value: (10 + 1 from the other client) * 2")
    st = cas_stats(E.sc)
    check(st["cas_watch_aborts"] >= 1, "INFO stats cas_watch_aborts >= 1", st)


@test
def raw_watch_changed_exec_nil():
    k, m = key("watch_nil"), key("watch_nil", "missing")
    with E.sc.conn() as c, E.sc.conn() as o:
        o.cmd("SET", k, "first")
        eq(c.cmd("WATCH", k), "OK", "WATCH")
        eq(o.cmd("SET", k, "other"), "OK", "another client's SET")
        c.cmd("MULTI")
        c.cmd("SET", k, "mine")
        eq(c.cmd("EXEC"), None, "EXEC after the watched key changed (null array)")
        eq(c.cmd("GET", k), b"other", "the other client's value stands")
        # watch a missing key; another client creates it
        eq(c.cmd("WATCH", m), "OK", "WATCH of a missing key")
        o.cmd("SET", m, "created")
        c.cmd("MULTI")
        c.cmd("INCR", m)
        eq(c.cmd("EXEC"), None, "EXEC after the watched missing key was created")
        eq(c.cmd("GET", m), b"created", "the other client's value stands")
        # the same value rewritten is a change too (a new version)
        c.cmd("WATCH", k)
        o.cmd("SET", k, "other")
        c.cmd("MULTI")
        c.cmd("GET", k)
        eq(c.cmd("EXEC"), None, "EXEC after the key was rewritten with the same value")
        # unchanged: EXEC runs, and the watch ends with it
        c.cmd("WATCH", k)
        c.cmd("MULTI")
        c.cmd("SET", k, "mine")
        c.cmd("GET", k)
        eq(c.cmd("EXEC"), ["OK", b"mine"], "EXEC with the watched key unchanged")
        o.cmd("SET", k, "later")
        c.cmd("MULTI")
        c.cmd("SET", k, "again")
        eq(c.cmd("EXEC"), ["OK"], "EXEC after the previous EXEC ended the watch")
        # UNWATCH forgets it
        c.cmd("WATCH", k)
        o.cmd("SET", k, "changed")
        eq(c.cmd("UNWATCH"), "OK", "UNWATCH")
        c.cmd("MULTI")
        c.cmd("GET", k)
        eq(c.cmd("EXEC"), [b"changed"], "EXEC after UNWATCH")
        eq(c.cmd("PING"), "PONG", "PING")


@test
def raw_multi_two_keys_execabort_then_ping():
    # phpredis and Perl's Redis read each reply in turn: after the refused EXEC the very next
    # command must get its own reply, and nothing queued may have run.
    a, b = key("multi_2keys", "a"), key("multi_2keys", "b")
    with E.sc.conn() as c:
        c.send(encode("MULTI") + encode("SET", a, "1") + encode("SET", b, "2") + encode("EXEC") +
               encode("PING") + encode("GET", a))
        got = [c.reply() for _ in range(6)]
    eq(got[:3], ["OK", "QUEUED", "QUEUED"], "MULTI, SET a, SET b")
    check(isinstance(got[3], Error) and got[3].startswith("EXECABORT") and a in got[3] and
          b in got[3], "EXEC: -EXECABORT naming %r and %r" % (a, b), got[3])
    eq(got[4:], ["PONG", None], "PING, GET a after the refused EXEC")
    eq(E.sc.client().get(b), None, "GET b")
    with E.sc.conn() as c:  # one at a time, as phpredis does
        eq(c.cmd("MULTI"), "OK", "MULTI")
        eq(c.cmd("SET", a, "1"), "QUEUED", "SET a")
        eq(c.cmd("GET", b), "QUEUED", "GET b")
        e = c.cmd("EXEC")
        check(isinstance(e, Error) and e.startswith("EXECABORT"), "EXECABORT", e)
        eq(c.cmd("PING"), "PONG", "PING")
        eq(c.cmd("GET", a), None, "GET a")
        eq(c.cmd("EXEC"), "ERR EXEC without MULTI", "EXEC again: the transaction is over")


@test
def raw_multi_queue_error_execabort():
    k = key("multi_queue_error")
    with E.sc.conn() as c:
        eq(c.cmd("MULTI"), "OK", "MULTI")
        eq(c.cmd("SET", k, "v"), "QUEUED", "SET")
        e = c.cmd("NOSUCHCMD", "x")
        check(isinstance(e, Error) and e.startswith("ERR unknown command 'NOSUCHCMD'"),
              "the unknown command's own error", e)
        e = c.cmd("GET")
        eq(e, "ERR wrong number of arguments for 'get' command", "GET without a key")
        eq(c.cmd("EXEC"), "EXECABORT Transaction discarded because of previous errors.", "EXEC")
        eq(c.cmd("GET", k), None, "nothing written")
        eq(c.cmd("PING"), "PONG", "PING after EXECABORT")
        # a command that cannot run on one key's value (MGET): EXECABORT, naming it
        eq(c.cmd("MULTI"), "OK", "MULTI")
        eq(c.cmd("MGET", k), "QUEUED", "MGET queued")
        e = c.cmd("EXEC")
        check(isinstance(e, Error) and e.startswith("EXECABORT") and "MGET" in e,
              "EXECABORT naming MGET", e)
        eq(c.cmd("PING"), "PONG", "PING after it")


@test
def raw_discard_and_misuse():
    k = key("discard")
    with E.sc.conn() as c:
        eq(c.cmd("EXEC"), "ERR EXEC without MULTI", "EXEC without MULTI")
        eq(c.cmd("DISCARD"), "ERR DISCARD without MULTI", "DISCARD without MULTI")
        # which leaves a WATCH as it is, as in Redis: EXEC still sees the other client's write
        with E.sc.conn() as o:
            eq(c.cmd("WATCH", k), "OK", "WATCH")
            eq(o.cmd("SET", k, "theirs"), "OK", "another client's SET")
            eq(c.cmd("DISCARD"), "ERR DISCARD without MULTI", "DISCARD without MULTI, watching")
            c.cmd("MULTI")
            c.cmd("SET", k, "mine")
            eq(c.cmd("EXEC"), None, "EXEC after the watched key changed: DISCARD kept the watch")
            eq(o.cmd("GET", k), b"theirs", "the other client's value stands")
            eq(o.cmd("DEL", k), 1, "DEL")
        eq(c.cmd("MULTI"), "OK", "MULTI")
        eq(c.cmd("MULTI"), "ERR MULTI calls can not be nested", "MULTI inside MULTI")
        eq(c.cmd("SET", k, "v"), "QUEUED", "SET queued")
        e = c.cmd("WATCH", k)
        check(isinstance(e, Error) and "WATCH" in e and "MULTI" in e,
              "WATCH inside MULTI to be an error", e)
        eq(c.cmd("DISCARD"), "OK", "DISCARD")
        eq(c.cmd("GET", k), None, "GET after DISCARD: runs at once and nothing was written")
        eq(c.cmd("EXEC"), "ERR EXEC without MULTI", "EXEC after DISCARD")
        e = c.cmd("WATCH", k, key("discard", "b"))
        check(isinstance(e, Error) and e.startswith("ERR") and "NoriKV" in e,
              "WATCH of two keys refused with the reason", e)
        eq(c.cmd("WATCH", k), "OK", "WATCH of one key")
        e = c.cmd("WATCH", key("discard", "c"))
        check(isinstance(e, Error) and e.startswith("ERR"), "WATCH of a second key refused", e)
        c.cmd("MULTI")
        c.cmd("SET", key("discard", "c"), "v")
        e = c.cmd("EXEC")
        check(isinstance(e, Error) and e.startswith("EXECABORT"),
              "EXECABORT for a transaction on another key than the watched one", e)
        eq(c.cmd("PING"), "PONG", "PING at the end")


# ---- concurrency ----------------------------------------------------------------------

def incr_threads(sidecars, k, nthreads, nops):
    """nthreads redis-py connections per sidecar, each INCR k nops times. Returns the
    replies each thread saw and the errors."""
    errors, replies = [], []
    lock = threading.Lock()

    def worker(sc):
        c = sc.client()
        mine = []
        try:
            for _ in range(nops):
                try:
                    mine.append(c.incr(k))
                except redis.RedisError as e:
                    with lock:
                        errors.append(str(e))
        finally:
            with lock:
                replies.append(mine)
            c.close()

    ths = [threading.Thread(target=worker, args=(sc,), daemon=True)
           for sc in sidecars for _ in range(nthreads)]
    t0 = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join(max(1.0, TEST_TIMEOUT - 5 - (time.monotonic() - t0)))
    check(not any(th.is_alive() for th in ths), "the INCR threads to finish",
          "%d still running" % sum(th.is_alive() for th in ths))
    verbose("%d threads x %d INCR in %.2f s", len(ths), nops, time.monotonic() - t0)
    return replies, errors


def check_incr_replies(replies, errors, total):
    check(not errors, "no INCR to fail", "%d errors: %r" % (len(errors), errors[:5]))
    seen = sorted(v for mine in replies for v in mine)
    eq(len(seen), total, "INCR replies")
    check(seen == list(range(1, total + 1)),
          "the replies to be 1..%d, each once" % total,
          [v for i, v in enumerate(seen) if v != i + 1][:10])
    for mine in replies:
        check(mine == sorted(mine), "each connection to see its own INCRs increase", mine[:20])


@test
def conc_incr_8x200():
    k = key("conc_incr")
    before = cas_stats(E.sc)
    # the real server answers a write on its 150 ms tick: 8 x 25 there (about 30 s)
    per = 25 if SERVER else 200
    replies, errors = incr_threads([E.sc], k, 8, per)
    after = cas_stats(E.sc)
    verbose("INFO stats, this test: %s", stats_delta(before, after))
    verbose_cas_lines(E.sc, "main sidecar")
    check_incr_replies(replies, errors, 8 * per)
    eq(E.sc.client().get(k), b"%d" % (8 * per), "GET after 8 x %d INCR" % per)
    d = stats_delta(before, after)
    check_rounds(d, 8 * per)


def check_rounds(d, blocks):
    """One sidecar, every block acknowledged: one round per group (a block alone, or blocks
    merged: they queued on the key while another ran), none lost, none given up."""
    eq(d["cas_exhausted"], 0, "cas_exhausted")
    eq(d["cas_conflicts"], 0, "cas_conflicts (one sidecar's blocks on a key never race)")
    eq(d["cas_rounds"], blocks - d["cas_merged_blocks"] + d["cas_groups"],
       "cas_rounds: one per block alone and one per group (%r)" % d)
    check(d["cas_merged_blocks"] > 0, "some INCRs to have shared a round", d)


@test
def conc_incr_hot_key_50():
    # 50 connections on one key through one sidecar, each pipelining its INCRs: the INCRs
    # that wait for the key while one group runs make the next group, one read and one
    # conditional write for them all.
    k = key("conc_incr_hot")
    before = cas_stats(E.sc)
    per = 4 if SERVER else 20
    conns = [E.sc.conn(timeout=60) for _ in range(50)]
    try:
        for c in conns:
            c.send(b"".join(encode("INCR", k) for _ in range(per)))
        replies = [c.reply() for c in conns for _ in range(per)]
    finally:
        for c in conns:
            c.close()
    after = cas_stats(E.sc)
    d = stats_delta(before, after)
    verbose("INFO stats, this test: %s", d)
    eq(sorted(replies), list(range(1, 50 * per + 1)), "every INCR's reply, each value once")
    eq(E.sc.client().get(k), b"%d" % (50 * per), "GET after 50 x %d INCR" % per)
    check_rounds(d, 50 * per)
    check(d["cas_rounds"] * 2 <= 50 * per, "50 x %d INCR in half as many rounds at most" % per, d)


_lose_sidecar = None


@test
def conc_incr_lose_reply():
    # The cluster applies 10% of the writes and answers UNAVAILABLE: the client library
    # retries them with their idempotency key and the cluster answers from its cache, so
    # no INCR is lost, applied twice or failed. A sidecar of its own with short retry waits:
    # with the default ones (100 ms + up to 100 ms) every lost reply holds the key's queue
    # for ~150 ms, and 8 x 200 INCRs take ~30 s.
    global _lose_sidecar
    dn, _, _ = E.fault_cluster()
    if _lose_sidecar is None:
        _lose_sidecar = Sidecar("lose-sidecar", dn, "--retry.initial_delay_ms=10",
                                "--retry.jitter_ms=10")
    sc = _lose_sidecar
    k = key("conc_incr_lose")
    st0, before = dn.stats(), cas_stats(sc)
    dn.control("lose-reply 0.1")
    try:
        replies, errors = incr_threads([sc], k, 8, 200)
    finally:
        dn.control("clear")
    st1, after = dn.stats(), cas_stats(sc)
    d = stats_delta(before, after)
    dd = dict((f, st1[f] - st0[f]) for f in ("replies_lost", "idempotent_replays",
                                             "duplicate_applies", "puts_applied"))
    verbose("INFO stats, this test: %s", d)
    verbose_cas_lines(sc, "lose-reply sidecar")
    verbose("devnode, this test: %s; duplicate_applies in all: %d", dd, st1["duplicate_applies"])
    check(dd["replies_lost"] > 20, "the devnode to have lost some replies", dd)
    check_incr_replies(replies, errors, 1600)
    eq(sc.client().get(k), b"1600", "GET after 8 x 200 INCR with 10% of replies lost")
    eq(st1["duplicate_applies"], 0, "devnode duplicate_applies")
    eq(dd["puts_applied"], d["cas_rounds"] - d["cas_conflicts"],
       "devnode puts_applied by this test (one per round that was not lost)")


_many_rounds = None


def two_sidecars(k, nthreads, nops, many_rounds=False):
    global _many_rounds
    dn, sc1, sc2 = E.fault_cluster()
    if many_rounds:
        if _many_rounds is None:
            _many_rounds = tuple(Sidecar("rounds-sidecar-%d" % i, dn,
                                         "--sidecar.cas_max_rounds=1000") for i in (1, 2))
        sc1, sc2 = _many_rounds
    sc1.client().set(k, 0)  # the key exists first: creating a key is unconditional
    b1, b2 = cas_stats(sc1), cas_stats(sc2)
    replies, errors = incr_threads([sc1, sc2], k, nthreads, nops)
    d1, d2 = stats_delta(b1, cas_stats(sc1)), stats_delta(b2, cas_stats(sc2))
    verbose("INFO stats, sidecar 1: %s", d1)
    verbose("INFO stats, sidecar 2: %s", d2)
    return dn, sc2, replies, errors


def two_sidecars_exact_on_this_server():
    """Skips against the real server: its conditional Put is checked on arrival and applied
    on the next 150 ms tick, so two sidecars' rounds on one version can both succeed and
    INCRs are lost (about half: tests/bench/incr_race.py; README, "NoriKV server behaviours
    the sidecar works around"). One sidecar stays exact there (conc_incr_8x200)."""
    if SERVER:
        raise Skip("the server's conditional Put is not atomic: two sidecars lose INCRs "
                   "(README: NoriKV server behaviours the sidecar works around)")


@test
def conc_incr_two_sidecars_exact():
    # Two sidecars (default cas_max_rounds, 16) on one key: their rounds race in the cluster
    # and the conditional write makes the loser read again. Every acknowledged INCR counts
    # once; one that gave up with CONFLICT (a few in 800: the winner's next block reads
    # before the loser's redo, so a loser can lose 16 rounds in a row) wrote nothing.
    two_sidecars_exact_on_this_server()
    k = key("conc_incr_2sc")
    dn, sc, replies, errors = two_sidecars(k, 4, 100)
    ok = sum(len(mine) for mine in replies)
    check(all(e.startswith("CONFLICT ") for e in errors), "only CONFLICT errors", errors[:5])
    verbose("acknowledged %d, CONFLICT %d", ok, len(errors))
    eq(ok + len(errors), 800, "replies")
    seen = sorted(v for mine in replies for v in mine)
    check(seen == list(range(1, ok + 1)), "the replies to be 1..%d, each once" % ok,
          [v for i, v in enumerate(seen) if v != i + 1][:10])
    eq(sc.client().get(k), str(ok).encode(), "GET: every acknowledged INCR, no other")
    eq(dn.stats()["duplicate_applies"], 0, "devnode duplicate_applies")


@test
def conc_incr_two_sidecars_many_rounds():
    # The same race with cas_max_rounds 1000: no INCR gives up, the count is exact.
    two_sidecars_exact_on_this_server()
    k = key("conc_incr_2sc_rounds")
    dn, sc, replies, errors = two_sidecars(k, 4, 100, many_rounds=True)
    check_incr_replies(replies, errors, 800)
    eq(sc.client().get(k), b"800", "GET after 2 sidecars x 4 connections x 100 INCR")
    eq(dn.stats()["duplicate_applies"], 0, "devnode duplicate_applies")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
