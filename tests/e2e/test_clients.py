#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: redis-cli --pipe, redis-benchmark, redis-py.

Real clients under load: redis-cli --pipe (mass insertion), redis-benchmark (its default
run up to its first list command, GET/SET/MGET with 50 clients and with -P 16) and redis-py
(binary and 1 MiB values, the size limit, deep pipelines, parallel connections, error
replies as exceptions).

Usage: python3 tests/e2e/test_clients.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import random
import re
import sys
import threading
import time

import redis

from harness import (E, Error, Fail, REDIS_BENCHMARK, RUN, TEST_TIMEOUT, VALUE_MAX, check, encode,
                     eq, key, run, test, main)


@test
def cli_pipe_mass_insert():
    n = 2000
    keys = [key("pipe", "%d" % i) for i in range(n)]
    vals = ["value-%d-%s" % (i, "x" * (i % 37)) for i in range(n)]
    data = "".join(encode("SET", k, v).decode() for k, v in zip(keys, vals))
    r = E.sc.cli(opts=["--pipe"], stdin=data, timeout=60)
    check(r.rc == 0 and "errors: 0, replies: %d" % n in r.out,
          "redis-cli --pipe to report 'errors: 0, replies: %d'" % n, r)
    c = E.sc.client()
    sample = random.Random(7).sample(range(n), 40) + [0, n - 1]
    got = c.mget([keys[i] for i in sample])
    eq([g.decode() if g else g for g in got], [vals[i] for i in sample],
       "values of 42 of the inserted keys")


def bench_lines(text):
    return [l.strip() for l in re.split(r"[\r\n]", text) if l.strip()]


def rps_of(lines, name):
    for l in lines:
        m = re.match(r"%s: ([\d.]+) requests per second" % re.escape(name), l)
        if m:
            return float(m.group(1))
    return None


@test
def bench_default_run():
    # every test of redis-benchmark's default run, strings, lists, sets, hashes and sorted
    # sets alike (the collections in the typed format), with no error
    r = run([REDIS_BENCHMARK, "-s", E.sc.sock, "-n", "300", "-c", "10", "-q"], timeout=90)
    check(not r.timed_out and r.rc == 0, "redis-benchmark's default run to finish", r)
    lines = bench_lines(r.out + "\n" + r.err)
    for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP",
                 "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
                 "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)",
                 "LRANGE_600 (first 600 elements)", "MSET (10 keys)"):
        rps = rps_of(lines, name)
        check(rps and rps > 0, "a requests-per-second result for %s" % name, lines)
    errors = [l for l in lines if "Error" in l or "error" in l]
    eq(errors, [], "error lines in the run")
    check(not any("timeout" in l.lower() or "reset" in l.lower() for l in lines),
          "no timeout or reset", lines)
    check(E.sc.alive(), "the sidecar to be alive after the run", E.sc.proc.returncode)


def bench_mget_keys(n=3):
    return ["key:__rand_int__"] * n


def _bench_ok(extra, what):
    base = [REDIS_BENCHMARK, "-s", E.sc.sock, "-q", "-r", "10000"] + extra
    r = run(base + ["-n", "3000", "-t", "get,set,mget"], timeout=90)
    lines = bench_lines(r.out + "\n" + r.err)
    check(r.rc == 0 and not r.timed_out, "%s: redis-benchmark -t get,set,mget to exit 0" % what, r)
    for name in ("SET", "GET"):
        check((rps_of(lines, name) or 0) > 0, "%s: a requests-per-second result for %s" %
              (what, name), lines)
    # redis-benchmark has no built-in MGET test (-t mget selects nothing): run it as a command
    r = run(base + ["-n", "2000", "MGET"] + bench_mget_keys(), timeout=90)
    lines = bench_lines(r.out + "\n" + r.err)
    check(r.rc == 0 and not r.timed_out, "%s: redis-benchmark MGET to exit 0" % what, r)
    check((rps_of(lines, "MGET " + " ".join(bench_mget_keys())) or 0) > 0,
          "%s: a requests-per-second result for MGET" % what, lines)
    check(not any("rror" in l for l in lines), "%s: no error" % what, lines)


@test
def bench_get_set_mget_50_clients():
    _bench_ok(["-c", "50"], "-c 50")


@test
def bench_get_set_mget_pipeline_16():
    _bench_ok(["-c", "50", "-P", "16"], "-c 50 -P 16")


@test
def py_binary_values():
    c = E.sc.client()
    values = {
        key("bin", "nul"): b"a\x00b\x00",
        key("bin", "crlf"): b"line1\r\nline2\r\n$3\r\n*1\r\n",
        key("bin", "all"): bytes(range(256)) * 4,
        key("bin", "empty"): b"",
        b"e2e:bin:\x00\r\nkey\xff" + RUN.encode(): b"binary key",
    }
    for k, v in values.items():
        eq(c.set(k, v), True, "SET %r" % k)
    for k, v in values.items():
        eq(c.get(k), v, "GET %r" % k)
    eq(c.mget(list(values)), list(values.values()), "MGET of the binary values")
    eq(c.exists(*values), len(values), "EXISTS of the binary keys (empty value included)")


@test
def py_value_1mib():
    c = E.sc.client()
    v = os.urandom(VALUE_MAX)  # 1 MiB, less a typed string's header when strings are typed
    k = key("mib")
    eq(c.set(k, v), True, "SET of a 1 MiB value")
    got = c.get(k)
    check(got == v, "the same 1 MiB back", "%s bytes%s" % (
        len(got) if got is not None else None, "" if got is None else " (differing)"))


@test
def py_value_too_large():
    c = E.sc.client()
    k = key("too-large")
    c.set(k, b"small")
    try:
        c.set(k, b"z" * ((1 << 20) + 1))
        raise Fail("SET of 1 MiB + 1 byte to fail; it answered OK")
    except redis.ResponseError as e:
        check("invalid argument" in str(e), "ResponseError with 'invalid argument'", str(e))
    eq(c.get(k), b"small", "the key after the refused SET")
    eq(c.ping(), True, "PING on the same connection")


@test
def py_pipeline_500_mixed():
    c = E.sc.client()
    keys = [key("pipe500", "%d" % i) for i in range(120)]
    p = c.pipeline(transaction=False)
    for k in keys:
        p.execute_command("NORI.SHARD", k)
    shards = set(s[0] for s in p.execute())
    check(len(shards) >= 80, "the 120 keys on at least 80 shards", len(shards))
    c.delete(*keys)
    rnd = random.Random(500)
    model = {}
    p = c.pipeline(transaction=False)
    want = []
    for i in range(500):
        op = rnd.choice("SSSGGGMD")
        k = rnd.choice(keys)
        if op == "S":
            v = b"v%d-%d" % (i, rnd.getrandbits(30))
            p.set(k, v)
            model[k] = v
            want.append(("SET", k, True))
        elif op == "G":
            p.get(k)
            want.append(("GET", k, model.get(k)))
        elif op == "M":
            ks = rnd.sample(keys, 4)
            p.mget(ks)
            want.append(("MGET", ks, [model.get(x) for x in ks]))
        else:
            p.delete(k)
            want.append(("DEL", k, 1 if model.pop(k, None) is not None else 0))
    got = p.execute()
    eq(len(got), 500, "number of replies")
    for i, (w, g) in enumerate(zip(want, got)):
        if g != w[2]:
            raise Fail("reply %d (%s %s): expected %r; got %r" % (i, w[0], w[1], w[2], g))


@test
def py_pipeline_write_then_read():
    c = E.sc.client()
    for rnd in range(4):
        p = c.pipeline(transaction=False)
        vals = []
        for i in range(300):
            k = key("wtr", "%d" % (i % 150))  # each key written twice per round
            v = "r%d-i%d" % (rnd, i)
            p.set(k, v)
            p.get(k)
            vals.append(v.encode())
        got = p.execute()
        bad = [(i, vals[i], got[2 * i + 1]) for i in range(300)
               if got[2 * i] is not True or got[2 * i + 1] != vals[i]]
        check(not bad, "every GET to read the SET just before it (round %d)" % rnd, bad[:5])


@test
def py_pipeline_beyond_max_pending():
    # 6000 commands in one pipeline: more than max_pending (1024) requests wait at once, so
    # the sidecar pauses reading this client and resumes; every reply still comes, in order.
    c = E.sc.client()
    p = c.pipeline(transaction=False)
    for i in range(3000):
        k = key("deep", "%d" % (i % 700))
        p.set(k, "d%d" % i)
        p.get(k)
    t0 = time.monotonic()
    got = p.execute()
    bad = [(i, got[2 * i], got[2 * i + 1]) for i in range(3000)
           if got[2 * i] is not True or got[2 * i + 1] != b"d%d" % i]
    check(len(got) == 6000 and not bad, "6000 replies in order, each GET its SET's value",
          "%d replies, wrong: %r" % (len(got), bad[:5]))
    check(time.monotonic() - t0 < 30, "the pipeline within 30 s", time.monotonic() - t0)


@test
def py_parallel_connections():
    nthreads, nops = 20, 200
    errors, done = [], []
    barrier = threading.Barrier(nthreads, timeout=20)

    def worker(t):
        try:
            c = E.sc.client(single_connection_client=True)
            mine = {}
            barrier.wait()
            for j in range(nops):
                k = key("par", "t%d-k%d" % (t, j % 10))
                if j % 4 == 3:
                    ks = [key("par", "t%d-k%d" % (t, x)) for x in range(3)]
                    got = c.mget(ks)
                    if got != [mine.get(x) for x in ks]:
                        errors.append((t, j, "MGET", got))
                elif j % 2 == 0:
                    v = ("t%d-j%d" % (t, j)).encode()
                    if c.set(k, v) is not True:
                        errors.append((t, j, "SET"))
                    mine[k] = v
                else:
                    got = c.get(k)
                    if got != mine.get(k):
                        errors.append((t, j, "GET", k, mine.get(k), got))
            c.close()
            done.append(t)
        except Exception as e:  # reported below
            errors.append((t, "exception", repr(e)))

    ths = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(nthreads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(TEST_TIMEOUT - 10)
    check(len(done) == nthreads and not errors,
          "%d threads x %d ops with no error or cross-talk" % (nthreads, nops),
          "%d threads done, errors %r" % (len(done), errors[:5]))


@test
def py_error_replies():
    c = E.sc.client()
    cases = [
        (("NOSUCHCMD", "a"), redis.ResponseError,
         "unknown command 'NOSUCHCMD', with args beginning with: 'a' "),
        (("GET",), redis.ResponseError, "wrong number of arguments for 'get' command"),
        (("SETNX", "k", "v"), redis.ResponseError,
         "SETNX is not supported: NoriKV has no atomic put-if-absent"),
        (("SET", "k", "v", "EX", "soon"), redis.ResponseError,
         "value is not an integer or out of range"),
        (("NORI.PUT", key("pyerr"), "v", "IFMATCH", "0", "99"), redis.ResponseError,
         "VERSIONMISMATCH expected 0:99, key does not exist"),
        (("AUTH", "x"), redis.ResponseError,
         "AUTH <password> called without any password configured for the default user. "
         "Are you sure your configuration is correct?"),
    ]
    for args, cls, text in cases:
        try:
            got = c.execute_command(*args)
            raise Fail("%s to raise %s; it returned %r" % (args, cls.__name__, got))
        except redis.RedisError as e:
            check(type(e) is cls and str(e) == text, "%s: %s(%r)" % (args, cls.__name__, text),
                  "%s(%r)" % (type(e).__name__, str(e)))
    # and on the wire: the code prefixes redis-py maps to exceptions
    with E.sc.conn() as w:
        eq(w.cmd("NOSUCHCMD")[:4], "ERR ", "the code of an unknown command")
        eq(w.cmd("NORI.PUT", key("pyerr"), "v", "IFMATCH", "0", "99").split(" ")[0],
           "VERSIONMISMATCH", "the code of a CAS on a missing key")
        r = w.cmd("SET", key("pyerr", "big"), "x" * ((1 << 20) + 1))
        check(isinstance(r, Error) and r.startswith("ERR invalid argument: "),
              "-ERR invalid argument: ...", r)
    eq(c.ping(), True, "PING after the errors")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
