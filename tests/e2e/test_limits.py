#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: client limits.

Limits that protect the sidecar: sidecar.max_clients (the refused connection, INFO
rejected_connections; fitted to the open-files limit at start and on reload, which is
raised when the hard limit allows) and reply_backlog (a client that does not read its replies is
paused, not buffered without bound, while other clients are served).

Usage: python3 tests/e2e/test_limits.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import re
import shutil
import signal
import socket
import sys
import time

from harness import (E, Conn, Fail, SIDECAR, Sidecar, _read, check, encode, eq, info_field, key,
                     spawn, stop, test, wait_for, main)


def limited_sidecar(name, nofile, *opts):
    """A sidecar started under prlimit --nofile=SOFT:HARD (util-linux), serving on E.dn."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise Fail("prlimit (Debian: util-linux) to start the sidecar under a lower limit")
    sock = os.path.join(E.tmp, name + ".sock")
    log = os.path.join(E.tmp, name + ".log")
    p = spawn([prlimit, "--nofile=%d:%d" % nofile, SIDECAR, "--sidecar.listen=" + sock,
               "--cluster.nodes=" + E.dn.nodes] + list(opts), log)

    def serves():
        if p.poll() is not None:
            raise Fail("the sidecar under prlimit exited %s: %s" % (p.returncode, _read(log)))
        with Conn(sock, timeout=5) as c:
            return c.cmd("PING") == "PONG"
    wait_for(serves, 20, "the sidecar under prlimit --nofile=%d:%d to serve" % nofile)
    return p, sock, log


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        return int(re.search(r"^Max open files\s+(\d+)", f.read(), re.M).group(1))


@test
def limit_max_clients_fitted_to_open_files():
    """Under an open-files limit of 120 that it cannot raise, max_clients 1000 is lowered to
    what fits, with a warning naming the limit and the need; INFO and CONFIG GET show it,
    and the connection past it is refused. A SIGHUP fits it again. With a hard limit that
    allows it, the soft limit is raised instead and max_clients kept."""
    p, sock, log = limited_sidecar("nofile-sidecar", (120, 120), "--sidecar.max_clients=1000")
    try:
        warn = [ln for ln in _read(log).splitlines() if "open-files limit" in ln]
        check(len(warn) == 1 and "warning:" in warn[0] and "(120, hard 120)" in warn[0] and
              "max_clients 1000" in warn[0], "one warning naming the limit and max_clients",
              _read(log))
        m = re.search(r"needs \((\d+) more for the sidecar itself\): max_clients lowered to "
                      r"(\d+)", warn[0])
        check(m is not None, "the warning to say what is reserved and the new max_clients",
              warn[0])
        reserve, lowered = int(m.group(1)), int(m.group(2))
        eq(lowered, 120 - reserve, "max_clients lowered to the limit less the reserve")
        conns = []
        try:
            with Conn(sock) as c:
                eq(info_field(c.cmd("INFO", "clients").decode(), "maxclients"), str(lowered),
                   "INFO clients maxclients")
                eq(c.cmd("CONFIG", "GET", "sidecar.max_clients"),
                   [b"sidecar.max_clients", str(lowered).encode()], "CONFIG GET max_clients")
            for i in range(lowered):
                c = Conn(sock)
                conns.append(c)
                eq(c.cmd("PING"), "PONG", "PING on connection %d of %d" % (i + 1, lowered))
            with Conn(sock) as extra:
                eq(extra.rest_until_close(), b"-ERR max number of clients reached\r\n",
                   "the connection past the lowered max_clients")
        finally:
            for c in conns:
                c.close()
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload:" in _read(log), 10, "the reload in the log")
        check(_read(log).count("max_clients lowered to %d" % lowered) == 2,
              "the reload to warn again", _read(log)[-800:])
        with Conn(sock) as c:
            eq(c.cmd("CONFIG", "GET", "sidecar.max_clients"),
               [b"sidecar.max_clients", str(lowered).encode()], "max_clients after the reload")
    finally:
        stop(p)
    p, sock, log = limited_sidecar("nofile-raised-sidecar", (120, 4096),
                                   "--sidecar.max_clients=1000")
    try:
        check(soft_nofile(p.pid) >= 1000, "the soft limit raised to serve 1000 clients",
              soft_nofile(p.pid))
        check("open-files limit raised from 120" in _read(log) and "warning" not in _read(log),
              "a notice of the raise and no warning", _read(log))
        with Conn(sock) as c:
            eq(c.cmd("CONFIG", "GET", "sidecar.max_clients"),
               [b"sidecar.max_clients", b"1000"], "max_clients kept")
    finally:
        stop(p)


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
