#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: RESP over raw sockets.

The Redis protocol over a raw socket: inline commands and their quoting, each protocol
error reply followed by the close (and other connections untouched), pipelines, QUIT,
clients that leave with operations in flight or half-close, a MULTI on two keys refused with
its queue; the benchmark's lean RESP client (tests/bench/resp-rtt) against the sidecar.

Usage: python3 tests/e2e/test_protocol.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import re
import socket
import sys
import time

from harness import (E, Error, check, encode, eq, info_field, key, run, test, wait_for, main)


@test
def raw_inline_commands():
    with E.sc.conn() as c:
        c.send(b"PING\r\n")
        eq(c.reply(), "PONG", "inline PING")
        c.send(b"PING\n")
        eq(c.reply(), "PONG", "inline PING ended by LF alone")
        k = key("inline")
        c.send(b'set %s "a b"\r\nget %s\r\n' % (k.encode(), k.encode()))
        eq([c.reply(), c.reply()], ["OK", b"a b"], 'inline set k "a b" then get')
        c.send(b"set %s 'it\\'s'\r\nget %s\r\n" % (k.encode(), k.encode()))
        eq([c.reply(), c.reply()], ["OK", b"it's"], "single quotes with an escaped quote")
        c.send(b'set %s "x\\ny\\x41\\t"\r\nget %s\r\n' % (k.encode(), k.encode()))
        eq([c.reply(), c.reply()], ["OK", b"x\nyA\t"], "escapes in double quotes")
        c.send(b"\r\n\r\n   \r\nPING\r\n")
        eq(c.reply(), "PONG", "empty lines are skipped")
        c.send(b"ECHO    spaced     \r\n")
        eq(c.reply(), b"spaced", "inline ECHO with extra blanks")


def _protocol_error(send, want_error):
    with E.sc.conn() as other:
        eq(other.cmd("PING"), "PONG", "PING on a second connection")
        with E.sc.conn() as c:
            c.send(send)
            got = c.rest_until_close()
            eq(got, want_error, "reply to %r, then the connection closed" % send)
        eq(other.cmd("PING"), "PONG", "PING on the other connection after the protocol error")


@test
def raw_expected_dollar():
    _protocol_error(b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n")


@test
def raw_unbalanced_quotes():
    _protocol_error(b'set k "abc\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n")
    _protocol_error(b"get 'abc\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n")


@test
def raw_invalid_bulk_length():
    max_bulk = 1114112
    _protocol_error(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % (max_bulk + 1),
                    b"-ERR Protocol error: invalid bulk length\r\n")
    _protocol_error(b"*2\r\n$3\r\nGET\r\n$-7\r\n", b"-ERR Protocol error: invalid bulk length\r\n")
    # max_bulk itself is no protocol error: the value is refused, the connection stays
    with E.sc.conn() as c:
        r = c.cmd("SET", key("maxbulk"), b"m" * max_bulk)
        check(isinstance(r, Error) and r.startswith("ERR invalid argument"),
              "-ERR invalid argument for a value of max_bulk bytes", r)
        eq(c.cmd("PING"), "PONG", "PING on the same connection")


@test
def raw_pipeline_then_garbage():
    k = key("garbage")
    _protocol_error(b"SET %s 1\r\nGET %s\r\n*1\r\nfoo\r\n" % (k.encode(), k.encode()),
                    b"+OK\r\n$1\r\n1\r\n-ERR Protocol error: expected '$', got 'f'\r\n")
    eq(E.sc.client().get(k), b"1", "the key the pipeline set")


@test
def raw_quit():
    with E.sc.conn() as c:
        c.send(b"QUIT\r\nPING\r\n")
        eq(c.rest_until_close(), b"+OK\r\n", "QUIT then PING: +OK and the connection closed")
    k = key("quit")
    with E.sc.conn() as c:
        c.send(encode("SET", k, "before") + encode("QUIT") + encode("SET", k, "after") +
               encode("PING"))
        eq(c.rest_until_close(), b"+OK\r\n+OK\r\n", "SET, QUIT, SET, PING: two +OK and close")
    eq(E.sc.client().get(k), b"before", "the key after a SET sent behind QUIT")


@test
def raw_disconnect_in_flight():
    k = key("inflight")
    keep = E.sc.client(single_connection_client=True)  # open throughout
    keep.set(k, "v")
    base = int(info_field(E.sc.info("clients"), "connected_clients"))
    try:
        E.dn.control("latency 0 300")
        c = E.sc.conn()
        c.send(encode("GET", k) * 100)
        c.close()
        t0 = time.monotonic()
        with E.sc.conn() as p:
            eq(p.cmd("PING"), "PONG", "PING right after the client left")
        check(time.monotonic() - t0 < 2.0, "PING answered within 2 s while operations are held",
              time.monotonic() - t0)
        time.sleep(0.8)  # the held operations complete with nobody to answer
    finally:
        E.dn.control("clear")
    check(E.sc.alive(), "the sidecar to stay up", E.sc.proc.returncode)
    wait_for(lambda: info_field(E.sc.info("clients"), "connected_clients") == str(base), 5,
             "INFO clients connected_clients back to %d (the INFO connection itself)" % base)
    eq(keep.get(k), b"v", "GET after the client left")
    keep.close()


@test
def raw_half_close_gets_replies():
    # A client that sends its commands and shuts down its sending side (printf ... | nc -U)
    # still gets every reply, as from Redis, before the server closes.
    k = key("halfclose")
    with E.sc.conn() as c:
        c.send(encode("SET", k, "hc") + encode("GET", k) + b"PING\r\n")
        c.s.shutdown(socket.SHUT_WR)
        got = c.rest_until_close(10)
    eq(got, b"+OK\r\n$2\r\nhc\r\n+PONG\r\n", "replies to SET, GET, PING sent before a half-close")


@test
def raw_refused_multi_runs_nothing():
    # A transaction on two keys is refused at EXEC (EXECABORT); a client that pipelines
    # MULTI, commands, EXEC (redis-py, ioredis and go-redis all do) takes the transaction as
    # not done, so the commands it queued must not take effect, and the command after EXEC
    # gets its own reply.
    a, b = key("multi", "a"), key("multi", "b")
    with E.sc.conn() as c:
        c.send(encode("MULTI") + encode("SET", a, "queued") + encode("SET", b, "queued") +
               encode("EXEC") + encode("PING"))
        replies = [c.reply() for _ in range(5)]
    eq(replies[:3], ["OK", "QUEUED", "QUEUED"], "MULTI, SET a, SET b")
    check(isinstance(replies[3], Error) and replies[3].startswith("EXECABORT "),
          "EXEC to fail with EXECABORT", replies[3])
    eq(replies[4], "PONG", "PING after the refused EXEC")
    eq(E.sc.client().mget(a, b), [None, None],
       "the keys SET inside the refused MULTI (replies %r)" % replies)


RESP_RTT = os.path.abspath(os.environ.get("NORIKV_RESP_RTT", "./tests/bench/resp-rtt"))


@test
def bench_lean_client_round_trips():
    # tests/bench/resp-rtt, the benchmark's lean client: one command at a time, each reply
    # read whole; it reports the percentiles of COUNT round trips and fails on an error reply
    k = key("rtt")
    with E.sc.conn() as c:
        eq(c.cmd("SET", k, "x" * 400000), "OK", "SET of a value longer than a socket buffer")
    r = run([RESP_RTT, E.sc.sock, "200", "GET", k])
    eq(r.rc, 0, "resp-rtt GET exit status (stderr %r)" % r.err)
    m = re.fullmatch(r"rtt: p50_us=([0-9.]+) p90_us=([0-9.]+) p99_us=([0-9.]+) replies=200\n",
                     r.out)
    check(m is not None, "resp-rtt's report", r.out)
    p50, p90, p99 = (float(m.group(i)) for i in (1, 2, 3))
    check(0 < p50 <= p90 <= p99, "ordered percentiles", r.out)
    r = run([RESP_RTT, E.sc.sock, "50", "GET", key("rtt-missing")])
    eq(r.rc, 0, "resp-rtt of a nil reply (stderr %r)" % r.err)
    r = run([RESP_RTT, E.sc.sock, "50", "NOSUCHCOMMAND"])
    eq(r.rc, 1, "resp-rtt exit status on an error reply")
    check("ERR unknown command" in r.err, "resp-rtt shows the error reply", r.err)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
