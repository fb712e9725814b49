#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: the typed value format and TTLs (README "Types and
TTLs").

A sidecar with string_format typed beside the main one (raw, the default) on the same
devnode: TTL, PTTL, EXPIRETIME, PEXPIRETIME, SET KEEPTTL, EXPIRE NX/XX/GT/LT and PERSIST
answer as a local redis-server does; a read-modify-write keeps the TTL, so the tutorial
rate limiter resets; values written by either form are read by both; a raw value that
starts with the format's magic reads back exactly; TYPE and OBJECT ENCODING.

Usage: python3 tests/e2e/test_ttl.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import time

from harness import (E, Error, Sidecar, check, encode, eq, info_field, key, same_as_redis, test,
                     wait_for, main)

_typed = []


def typed():
    """The sidecar that writes strings in the typed format, started on first use."""
    if not _typed:
        _typed.append(Sidecar("typed-sidecar", E.dn, "--sidecar.string_format=typed"))
    return _typed[0]


def near(got, want, slack, what):
    check(isinstance(got, int) and abs(got - want) <= slack, "%s: %d (within %d)" % (
        what, want, slack), got)


@test
def ttl_typed_reads_back():
    k, m = key("ttl_typed"), key("ttl_typed", "missing")
    with typed().conn() as c:
        eq(c.cmd("SET", k, "v", "EX", 100), "OK", "SET EX 100")
        near(c.cmd("TTL", k), 100, 1, "TTL after SET EX 100")
        near(c.cmd("PTTL", k), 100000, 1500, "PTTL after SET EX 100")
        now = time.time()
        near(c.cmd("EXPIRETIME", k), int(now) + 100, 2, "EXPIRETIME")
        near(c.cmd("PEXPIRETIME", k), int(now * 1000) + 100000, 2000, "PEXPIRETIME")
        eq([c.cmd(x, m) for x in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")],
           [-2] * 4, "the four of a missing key")
        eq(c.cmd("SET", k, "w"), "OK", "SET without a time")
        eq([c.cmd(x, k) for x in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")],
           [-1] * 4, "the four of a key without a TTL")
        eq(c.cmd("GET", k), b"w", "GET of a typed string: the value alone")
        eq(c.cmd("OBJECT", "ENCODING", k), b"typed", "OBJECT ENCODING of a typed string")
        eq(c.cmd("TYPE", k), "string", "TYPE of a typed string")
        eq(c.cmd("TYPE", m), "none", "TYPE of a missing key")
        eq(c.cmd("OBJECT", "ENCODING", m), None, "OBJECT ENCODING of a missing key")
    with E.sc.conn() as c:  # the raw sidecar reads it too
        eq(c.cmd("GET", k), b"w", "GET of a typed string through a raw sidecar")
        eq(c.cmd("TTL", k), -1, "a raw sidecar knows a typed value's TTL too")
        raw = c.cmd("NORI.GET", k)
        check(isinstance(raw, list) and raw[0].startswith(b"\xf1NKT") and raw[0].endswith(b"w")
              and len(raw[0]) == 25, "NORI.GET to show the stored bytes, header included", raw)


@test
def ttl_same_as_redis():
    # replies that do not depend on the clock, compared with redis-server's word for word
    k, m = key("ttl_same"), key("ttl_same", "missing")
    cmds = [("SET", k, "10", "EX", 1000), ("INCR", k), ("TTL", k), ("EXPIRE", k, 2000, "NX"),
            ("EXPIRE", k, 2000, "XX"), ("EXPIRE", k, 1000, "GT"), ("EXPIRE", k, 3000, "GT"),
            ("EXPIRE", k, 4000, "LT"), ("EXPIRE", k, 10, "LT"), ("TTL", k), ("PERSIST", k),
            ("PERSIST", k), ("TTL", k), ("EXPIRE", k, 100, "XX"), ("EXPIRE", k, 100, "GT"),
            ("EXPIRE", k, 100, "NX"), ("TTL", k), ("SET", k, "x", "KEEPTTL"), ("TTL", k),
            ("GET", k), ("SET", k, "y", "KEEPTTL", "GET"), ("GETEX", k, "PERSIST"), ("TTL", k),
            ("PERSIST", m), ("EXPIRE", m, 10), ("TTL", m), ("EXPIRE", k, 10, "NX", "XX"),
            ("EXPIRE", k, 10, "GT", "LT"), ("EXPIRE", k, 10, "FOO"), ("EXPIRE", k, -1),
            ("EXISTS", k), ("TYPE", k)]
    same_as_redis(cmds, "TTL commands on typed strings", protos=(2, 3), sc=typed(),
                  near=("TTL",))


@test
def ttl_rate_limiter_resets():
    # the tutorial rate limiter: INCR, and EXPIRE on the first hit of the window. With
    # typed strings each INCR keeps the TTL, so the counter goes when the window does.
    k = key("ttl_limiter")
    with typed().conn() as c:
        eq(c.cmd("INCR", k), 1, "first hit")
        eq(c.cmd("PEXPIRE", k, 700), 1, "the window set on the first hit")
        eq(c.cmd("INCR", k), 2, "second hit")
        eq(c.cmd("INCR", k), 3, "third hit")
        ttl = c.cmd("PTTL", k)
        check(0 < ttl <= 700, "the window's TTL kept by INCR", ttl)
        time.sleep(0.9)
        eq(c.cmd("GET", k), None, "the counter once the window passed")
        eq(c.cmd("INCR", k), 1, "a new window starts at 1")
        eq(c.cmd("TTL", k), -1, "the new counter has no TTL until EXPIRE")


@test
def ttl_kept_by_grouped_increments():
    # 20 connections INCR one typed key with a TTL at once: the blocks queued on the key run
    # in groups (one read, one write), and the TTL survives every write, as in Redis
    k = key("ttl_grouped")
    merged = int(info_field(typed().info("stats"), "cas_merged_blocks"))
    with typed().conn() as c:
        eq(c.cmd("SET", k, "0", "EX", 100), "OK", "SET EX 100")
    conns = [typed().conn() for _ in range(20)]
    try:
        for c in conns:
            c.send(b"".join(encode("INCR", k) for _ in range(10)))
        got = sorted(c.reply() for c in conns for _ in range(10))
    finally:
        for c in conns:
            c.close()
    eq(got, list(range(1, 201)), "each INCR's reply, 1 to 200, once each")
    with typed().conn() as c:
        eq(c.cmd("GET", k), b"200", "the counter")
        check(95 <= c.cmd("TTL", k) <= 100, "its TTL kept by every write", c.cmd("TTL", k))
    now = int(info_field(typed().info("stats"), "cas_merged_blocks"))
    check(now > merged, "some of the INCRs to have run in groups (INFO cas_merged_blocks)",
          (merged, now))


@test
def ttl_expired_value_is_missing():
    # the header's expiry is authoritative: past it the key reads as missing at once, even
    # where NoriKV still holds the value (here a copy of the stored bytes put back with
    # NORI.PUT, without a NoriKV TTL)
    k, k2, k3 = key("ttl_expired"), key("ttl_expired", "copy"), key("ttl_expired", "del")
    with typed().conn() as c:
        t0 = time.monotonic()
        eq(c.cmd("SET", k, "v", "PX", 3000), "OK", "SET PX 3000")
        stored = []

        def read():
            r = c.cmd("NORI.GET", k)
            if isinstance(r, list) and r and r[0]:
                stored.append(r[0])
            return bool(stored)
        wait_for(read, 1.5, "the typed value to be visible")  # the real server applies late
        for copy in (k2, k3):
            r = c.cmd("NORI.PUT", copy, stored[0])
            check(not isinstance(r, Error), "NORI.PUT of the stored bytes, without a TTL", r)
        wait_for(lambda: c.cmd("GET", k2) == b"v", 1.5, "GET of the copy before it expires")
        time.sleep(max(0.0, 3.2 - (time.monotonic() - t0)))
        eq([c.cmd("GET", k2), c.cmd("EXISTS", k2), c.cmd("TTL", k2), c.cmd("STRLEN", k2),
            c.cmd("TYPE", k2), c.cmd("MGET", k2, k2)], [None, 0, -2, 0, "none", [None, None]],
           "GET, EXISTS, TTL, STRLEN, TYPE, MGET after it expired")
        r = c.cmd("NORI.GET", k2)
        check(isinstance(r, list) and r[0] == stored[0], "NoriKV still holds the copy", r)
        eq(c.cmd("DEL", k3), 0, "DEL of an expired key counts none")
        eq(c.cmd("INCR", k2), 1, "INCR of the expired key starts at 1")


@test
def ttl_raw_and_typed_together():
    k, m = key("ttl_mix"), key("ttl_mix", "m")
    with E.sc.conn() as raw, typed().conn() as t:
        eq(raw.cmd("SET", k, "5", "EX", 100), "OK", "SET through the raw sidecar")
        eq(raw.cmd("OBJECT", "ENCODING", k), b"raw", "OBJECT ENCODING of a plain string")
        r = t.cmd("TTL", k)
        check(isinstance(r, Error) and "plain" in r, "TTL of a plain string: unknown", r)
        eq(t.cmd("INCR", k), 6, "INCR through the typed sidecar")
        eq(t.cmd("OBJECT", "ENCODING", k), b"typed", "rewritten in the typed format")
        eq(t.cmd("TTL", k), -1, "its TTL is now known (INCR of a plain value drops it)")
        eq(raw.cmd("GET", k), b"6", "the raw sidecar reads the typed value")
        eq(raw.cmd("INCR", k), 7, "and rewrites it plain")
        eq(raw.cmd("OBJECT", "ENCODING", k), b"raw", "plain again")
        eq(raw.cmd("MSET", m, "a", k, "b"), "OK", "MSET through the raw sidecar")
        eq(t.cmd("MSET", m, "c", k, "d"), "OK", "MSET through the typed sidecar")
        eq([raw.cmd("MGET", m, k), raw.cmd("OBJECT", "ENCODING", m)], [[b"c", b"d"], b"typed"],
           "MSET's values typed, read by the raw sidecar")


@test
def ttl_magic_prefix_round_trips():
    # a plain value that starts with the format's magic is stored with a header, so that
    # it reads back as it was written, through either sidecar and every write path
    k = key("ttl_magic")
    value = b"\xf1NKT\x01\x01\x00\x00" + b"\x00" * 16 + b"not a hash"
    with E.sc.conn() as raw, typed().conn() as t:
        for c, name in ((raw, "raw"), (t, "typed")):
            eq(c.cmd("SET", k, value), "OK", "SET of the magic-prefixed value (%s)" % name)
            eq([raw.cmd("GET", k), t.cmd("GET", k), raw.cmd("TYPE", k)],
               [value, value, "string"], "read back exactly (%s)" % name)
            eq(c.cmd("APPEND", k, "!"), len(value) + 1, "APPEND (%s)" % name)
            eq(raw.cmd("GET", k), value + b"!", "after APPEND (%s)" % name)
            eq(c.cmd("MSET", k, value), "OK", "MSET (%s)" % name)
            eq(t.cmd("GET", k), value, "after MSET (%s)" % name)


@test
def ttl_plain_limits_stay():
    # with raw strings the sidecar cannot know a TTL: the refusals say so
    k = key("ttl_plain")
    with E.sc.conn() as c:
        eq(c.cmd("SET", k, "v", "EX", 100), "OK", "SET EX 100 (raw)")
        for args in (("TTL", k), ("EXPIRETIME", k), ("SET", k, "w", "KEEPTTL"),
                     ("EXPIRE", k, 10, "NX")):
            r = c.cmd(*args)
            check(isinstance(r, Error) and "not in the typed format" in r,
                  "%s of a plain string refused, saying why" % args[0], r)
        eq(c.cmd("PERSIST", k), 1, "PERSIST of a plain string: 1 (its TTL is unknown)")
        r = c.cmd("TTL", k)
        check(isinstance(r, Error) and "not in the typed format" in r,
              "TTL still refused: the value was rewritten plain, without a TTL", r)
        eq(c.cmd("GET", k), b"v", "the value kept")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
