#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: key commands.

Key commands through redis-cli: SET, GET, DEL, UNLINK, EXISTS, MSET, MGET, the expiry
forms (SETEX, PSETEX, SET EX/PX/EXAT/PXAT), the commands refused with a reason (SET NX,
SETNX, KEYS, ...), TTL (-2 or refused), unknown commands and wrong arities, as redis-cli prints them.

Usage: python3 tests/e2e/test_commands.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import time

from harness import (E, TYPED, check, cli_ok, key, test, main)


@test
def cli_ping():
    cli_ok(E.sc.cli("PING"), "PONG\n", "redis-cli PING")
    cli_ok(E.sc.cli("PING", "hello world"), "hello world\n", "redis-cli PING 'hello world'")
    cli_ok(E.sc.cli("ECHO", "x y"), "x y\n", "redis-cli ECHO 'x y'")


@test
def cli_set_get():
    k = key("cli_set_get")
    cli_ok(E.sc.cli("SET", k, "hello world"), "OK\n", "SET")
    cli_ok(E.sc.cli("GET", k), "hello world\n", "GET after SET")
    cli_ok(E.sc.cli("SET", k, "second"), "OK\n", "SET again")
    cli_ok(E.sc.cli("GET", k), "second\n", "GET after overwrite")


@test
def cli_get_missing():
    k = key("cli_get_missing", "never-set")
    # Without a terminal redis-cli prints a nil as an empty line, as it does against Redis.
    cli_ok(E.sc.cli("GET", k), "\n", "GET of a missing key (raw output)")
    cli_ok(E.sc.cli("GET", k, opts=["--no-raw"]), "(nil)\n", "GET of a missing key (--no-raw)")


@test
def cli_del_unlink_counts():
    a, b, c, m = (key("cli_del", x) for x in ("a", "b", "c", "missing"))
    cli_ok(E.sc.cli("MSET", a, "1", b, "2", c, "3"), "OK\n", "MSET")
    cli_ok(E.sc.cli("DEL", a, m, b), "2\n", "DEL of two existing keys and one missing")
    cli_ok(E.sc.cli("DEL", a), "0\n", "DEL of a deleted key")
    cli_ok(E.sc.cli("GET", b, opts=["--no-raw"]), "(nil)\n", "GET of a deleted key")
    cli_ok(E.sc.cli("UNLINK", c, m), "1\n", "UNLINK of one existing key and one missing")
    cli_ok(E.sc.cli("UNLINK", c), "0\n", "UNLINK of an unlinked key")
    cli_ok(E.sc.cli("EXISTS", c), "0\n", "EXISTS after UNLINK")


@test
def cli_exists_counts():
    a, b, m = (key("cli_exists", x) for x in ("a", "b", "missing"))
    cli_ok(E.sc.cli("MSET", a, "1", b, ""), "OK\n", "MSET (one empty value)")
    cli_ok(E.sc.cli("EXISTS", m), "0\n", "EXISTS of a missing key")
    cli_ok(E.sc.cli("EXISTS", a, b, m), "2\n", "EXISTS of two keys and a missing one")
    # Redis counts a key named twice twice.
    cli_ok(E.sc.cli("EXISTS", a, a, m, b), "3\n", "EXISTS with a key named twice")


@test
def cli_mset_mget_order():
    k1, k2, k3, m = (key("cli_mget", x) for x in ("one", "two", "three", "missing"))
    cli_ok(E.sc.cli("MSET", k1, "v1", k2, "v2", k3, "v3"), "OK\n", "MSET")
    cli_ok(E.sc.cli("MGET", k3, m, k1, k2, opts=["--no-raw"]),
           '1) "v3"\n2) (nil)\n3) "v1"\n4) "v2"\n', "MGET in request order with a missing key")
    cli_ok(E.sc.cli("MGET", k2, k2), "v2\nv2\n", "MGET of one key twice (raw)")


@test
def cli_setex_psetex():
    k1, k2 = key("cli_setex", "s"), key("cli_setex", "p")
    cli_ok(E.sc.cli("SETEX", k1, "100", "sv"), "OK\n", "SETEX k 100 v")
    cli_ok(E.sc.cli("GET", k1), "sv\n", "GET after SETEX")
    cli_ok(E.sc.cli("PSETEX", k2, "100000", "pv"), "OK\n", "PSETEX k 100000 v")
    cli_ok(E.sc.cli("GET", k2), "pv\n", "GET after PSETEX")
    cli_ok(E.sc.cli("SETEX", k1, "0", "x"), "ERR invalid expire time in 'setex' command\n\n",
           "SETEX with 0 seconds")
    cli_ok(E.sc.cli("PSETEX", k1, "abc", "x"), "ERR value is not an integer or out of range\n\n",
           "PSETEX with a non-integer")


@test
def cli_set_ex_expires():
    k, kp = key("cli_set_ex"), key("cli_set_ex", "px")
    cli_ok(E.sc.cli("SET", k, "short-lived", "EX", "1"), "OK\n", "SET k v EX 1")
    t0 = time.monotonic()
    cli_ok(E.sc.cli("PSETEX", kp, "400", "pv"), "OK\n", "PSETEX k 400 v")
    cli_ok(E.sc.cli("GET", k), "short-lived\n", "GET right after SET EX 1")
    time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
    cli_ok(E.sc.cli("GET", k, opts=["--no-raw"]), "(nil)\n", "GET 1.3 s after SET EX 1")
    cli_ok(E.sc.cli("GET", kp, opts=["--no-raw"]), "(nil)\n", "GET 1.3 s after PSETEX 400")
    cli_ok(E.sc.cli("EXISTS", k, kp), "0\n", "EXISTS after expiry")


@test
def cli_set_exat_past_deletes():
    k, k2 = key("cli_exat"), key("cli_exat", "px")
    cli_ok(E.sc.cli("SET", k, "v"), "OK\n", "SET")
    cli_ok(E.sc.cli("SET", k, "v2", "EXAT", str(int(time.time()) - 100)), "OK\n",
           "SET k v EXAT <100 s ago>")
    cli_ok(E.sc.cli("GET", k, opts=["--no-raw"]), "(nil)\n", "GET after SET EXAT in the past")
    cli_ok(E.sc.cli("SET", k2, "v"), "OK\n", "SET")
    cli_ok(E.sc.cli("SET", k2, "v2", "PXAT", str(int(time.time() * 1000) - 5000)), "OK\n",
           "SET k v PXAT <5 s ago>")
    cli_ok(E.sc.cli("EXISTS", k2), "0\n", "EXISTS after SET PXAT in the past")
    k3 = key("cli_exat", "future")
    cli_ok(E.sc.cli("SET", k3, "v3", "EXAT", str(int(time.time()) + 600)), "OK\n",
           "SET k v EXAT <in 10 min>")
    cli_ok(E.sc.cli("GET", k3), "v3\n", "GET after SET EXAT in the future")


@test
def cli_set_nx_refused():
    k = key("cli_nx")
    cli_ok(E.sc.cli("SET", k, "old"), "OK\n", "SET")
    cli_ok(E.sc.cli("SET", k, "new", "NX"),
           "ERR SET NX is not supported: NoriKV has no atomic put-if-absent\n\n", "SET k v NX")
    cli_ok(E.sc.cli("SETNX", k, "new"),
           "ERR SETNX is not supported: NoriKV has no atomic put-if-absent\n\n", "SETNX k v")
    cli_ok(E.sc.cli("GET", k), "old\n", "GET after the refused SET NX and SETNX")
    m = key("cli_nx", "missing")
    cli_ok(E.sc.cli("SETNX", m, "x"),
           "ERR SETNX is not supported: NoriKV has no atomic put-if-absent\n\n",
           "SETNX on a missing key")
    cli_ok(E.sc.cli("EXISTS", m), "0\n", "EXISTS after the refused SETNX")


@test
def cli_refused_with_reasons():
    cases = [
        (["KEYS", "*"], "ERR KEYS is not supported: NoriKV cannot enumerate keys"),
        (["DBSIZE"], "ERR DBSIZE is not supported: NoriKV cannot count keys"),
        (["SCAN", "0"], "ERR SCAN is not supported: NoriKV cannot enumerate keys"),
        (["FLUSHALL"], "ERR FLUSHALL is not supported: NoriKV has no way to drop every key"),
    ]
    for args, want in cases:
        cli_ok(E.sc.cli(*args), want + "\n\n", " ".join(args))


@test
def cli_ttl_missing_or_refused():
    # TTL and PTTL: -2 for a missing key; for an existing one stored plain (string_format
    # raw, the default) NoriKV cannot tell its TTL.
    k, m = key("cli_ttl"), key("cli_ttl", "missing")
    cli_ok(E.sc.cli("TTL", m), "-2\n", "TTL of a missing key")
    cli_ok(E.sc.cli("PTTL", m), "-2\n", "PTTL of a missing key")
    cli_ok(E.sc.cli("SET", k, "v", "EX", "100"), "OK\n", "SET k v EX 100")
    if TYPED:  # the TTL is in the value: as Redis
        ttl = E.sc.cli("TTL", k)
        check(ttl.rc == 0 and ttl.out in ("100\n", "99\n"), "TTL of a typed key", ttl)
        return
    plain = ("the key's value is plain (not in the typed format), and NoriKV does not expose "
             "a key's remaining time to live\n\n")
    cli_ok(E.sc.cli("TTL", k), "ERR TTL is not supported on this key: " + plain,
           "TTL of an existing key")
    cli_ok(E.sc.cli("PTTL", k), "ERR PTTL is not supported on this key: " + plain,
           "PTTL of an existing key")


@test
def cli_unknown_command():
    cli_ok(E.sc.cli("FOO", "bar", "baz"),
           "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' \n\n",
           "FOO bar baz")
    cli_ok(E.sc.cli("nosuchcmd"),
           "ERR unknown command 'nosuchcmd', with args beginning with: \n\n", "nosuchcmd")
    cli_ok(E.sc.cli("PING"), "PONG\n", "PING after unknown commands")


@test
def cli_wrong_arity():
    cases = [(["GET"], "get"), (["GET", "a", "b"], "get"), (["SET", "k"], "set"),
             (["MSET", "a"], "mset"), (["MSET", "a", "b", "c"], "mset"), (["DEL"], "del"),
             (["SETEX", "k", "1"], "setex"), (["CLIENT"], "client"), (["ECHO"], "echo"),
             (["NORI.SHARD"], "nori.shard")]
    for args, name in cases:
        cli_ok(E.sc.cli(*args), "ERR wrong number of arguments for '%s' command\n\n" % name,
               " ".join(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
