#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: client limits.

Limits that protect the sidecar: sidecar.max_clients (the refused connection, INFO
rejected_connections) and reply_backlog (a client that does not read its replies is
paused, not buffered without bound, while other clients are served).

Usage: python3 tests/e2e/test_limits.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import socket
import sys
import time

from harness import (E, Sidecar, check, encode, eq, info_field, key, stop, test, wait_for, main)


@test
def limit_max_clients():
    m = Sidecar("maxclients-sidecar", E.dn, "--sidecar.max_clients=3")
    conns = []
    try:
        for i in range(3):
            c = m.conn()
            conns.append(c)
            eq(c.cmd("PING"), "PONG", "PING on connection %d of 3" % (i + 1))
        with m.conn() as c4:
            got = c4.rest_until_close()
        eq(got, b"-ERR max number of clients reached\r\n", "the 4th connection")
        eq(conns[0].cmd("PING"), "PONG", "PING on a connection within the limit")
        stats = conns[1].cmd("INFO", "stats").decode()
        eq(info_field(stats, "rejected_connections"), "1", "INFO stats rejected_connections")
        conns.pop().close()

        def fourth_ok():
            with m.conn() as c:
                return c.cmd("PING") == "PONG"
        wait_for(fourth_ok, 5, "a new connection to be served after one closed")
    finally:
        for c in conns:
            c.close()
        stop(m.proc)


@test
def limit_reply_backlog():
    b = Sidecar("backlog-sidecar", E.dn)
    try:
        k = key("backlog")
        big = os.urandom(512 * 1024)
        b.client().set(k, big)
        rss0 = _rss_mib(b.proc.pid)
        pauses0 = int(info_field(b.info("stats"), "client_query_pauses"))
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        slow.settimeout(30)
        slow.connect(b.sock)
        lat, peak = [], [0]
        other = b.client(single_connection_client=True)
        batches, per = 50, 4
        get = encode("GET", k)
        for i in range(batches):  # 200 GETs of 512 KiB (100 MiB of replies), never read
            slow.sendall(get * per)
            t = time.monotonic()
            eq(other.ping(), True, "PING on the second connection")
            lat.append(time.monotonic() - t)
            if i % 10 == 9:
                eq(other.get(k), big, "GET on the second connection")
                peak[0] = max(peak[0], _rss_mib(b.proc.pid) - rss0)
            time.sleep(0.03)
        time.sleep(0.5)
        peak[0] = max(peak[0], _rss_mib(b.proc.pid) - rss0)
        stats = b.info("stats")
        # now read everything: the sidecar resumes and every reply arrives whole
        want = batches * per * (len(b"$%d\r\n" % len(big)) + len(big) + 2)
        got = 0
        head = b""
        while got < want:
            d = slow.recv(1 << 20)
            if not d:
                break
            if len(head) < 64:
                head += d[:64]
            got += len(d)
        slow.close()
        eq(got, want, "bytes of the 200 replies read afterwards")
        check(head.startswith(b"$%d\r\n" % len(big)), "replies of the value", head[:20])
        check(max(lat) < 1.0, "the second connection's PING within 1 s while the first "
              "does not read", "max %.3f s" % max(lat))
        check(peak[0] < 60, "the sidecar to hold far less than the 100 MiB of replies "
              "(reading paused)", "RSS grew %d MiB" % peak[0])
        pauses = int(info_field(stats, "client_query_pauses"))
        check(pauses > pauses0, "INFO stats client_query_pauses above %d after a client "
              "outgrew reply_backlog" % pauses0, "client_query_pauses:%d" % pauses)
    finally:
        stop(b.proc)


def _rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) // 1024
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
