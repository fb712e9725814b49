#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: every key documented reloadable takes effect on SIGHUP.

One sidecar started with -c; each test rewrites the file, sends SIGHUP, waits until CONFIG
GET shows the new values, and then observes what the key changes, not just its value:
a connection refused, a request refused, a reply refused, reading paused, writes to
different keys overlapping, an idle client closed, a read-modify-write giving up, an
operation timing out, idle nodes probed more or less often, a silent cluster given up on
sooner or later, retries counted and timed, a line in the log and its format, a metrics
listener's connections capped, a drain's accepting and waiting (that one last but one: it
ends the sidecar). A last test checks that every key `--print-config` marks reloadable is
one of those observed. Each test puts the file back as it found it.

Usage: python3 tests/e2e/test_reload.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from harness import (E, SERVER, SIDECAR, Conn, Error, Skip, check, encode, eq, info_field, key,
                     spawn, stop, test, wait_for, writes_overlap, main)

OBSERVED = set()  # the keys a test has seen take effect


class Reloadable:
    """A sidecar run from a file, reloaded with other values on demand."""

    def __init__(self):
        self.conf = os.path.join(E.tmp, "reload.conf")
        self.sock = os.path.join(E.tmp, "reload.sock")
        self.log = os.path.join(E.tmp, "reload.log")
        self.metrics = os.path.join(E.tmp, "reload-metrics.sock")
        self.password = None
        self.write({})
        self.proc = spawn([SIDECAR, "-c", self.conf], self.log)

        def serves():
            with Conn(self.sock, timeout=5) as c:
                return b"norikv_view:yes" in c.cmd("INFO", "cluster")
        wait_for(serves, 20, "the sidecar run with -c to serve")

    def write(self, keys):
        sections = {"sidecar": {"listen": self.sock},
                    "cluster": {"nodes": E.dn.nodes},
                    "metrics": {"listen": self.metrics}}
        for name, value in keys.items():
            sec, k = name.split(".")
            sections.setdefault(sec, {})[k] = value
        with open(self.conf, "w") as f:
            for sec, kv in sections.items():
                f.write("[%s]\n" % sec)
                for k, v in kv.items():
                    f.write("%s = %s\n" % (k, v))

    def conn(self, timeout=10):
        c = Conn(self.sock, timeout)
        if self.password:
            eq(c.cmd("AUTH", self.password), "OK", "AUTH")
        return c

    def reload(self, keys):
        """Rewrites the file with keys (the rest at their defaults), SIGHUP, and waits until
        CONFIG GET shows every value."""
        self.write(keys)
        self.proc.send_signal(signal.SIGHUP)
        self.password = keys.get("sidecar.requirepass") or None

        def applied():
            with Conn(self.sock, timeout=5) as c:
                if self.password and c.cmd("AUTH", self.password) != "OK":
                    return False  # not reloaded yet
                for name, value in keys.items():
                    got = c.cmd("CONFIG", "GET", name)
                    if got != [name.encode(), str(value).encode()]:
                        return False
            return True
        wait_for(applied, 10, "the sidecar to show %r after SIGHUP" % keys)

    def stat(self, section, field):
        with self.conn() as c:
            return int(info_field(c.cmd("INFO", section).decode(), field) or 0)


R = None


def sidecar(keys):
    global R
    if R is None:
        R = Reloadable()
    R.reload(keys)
    for name in keys:
        OBSERVED.add(name)
    return R


def defaults():
    R.reload({})
    E.dn.control("clear")


def timed(fn):
    t = time.monotonic()
    out = fn()
    return out, time.monotonic() - t


@test
def reload_max_clients():
    r = sidecar({"sidecar.max_clients": 3})
    try:
        conns = [r.conn() for _ in range(3)]
        with r.conn() as c4:
            eq(c4.rest_until_close(), b"-ERR max number of clients reached\r\n",
               "the 4th connection with max_clients 3")
        for c in conns:
            c.close()
    finally:
        defaults()


@test
def reload_requirepass():
    # As in Redis, a password set later asks new connections for it; the open ones stay
    # authenticated, with a request half sent across the reload (past the 16 KiB a
    # connection may send before AUTH) served whole.
    k = key("reload", "pass")
    sidecar({})
    before = Conn(R.sock)
    try:
        eq(before.cmd("PING"), "PONG", "PING before the reload")
        half = encode("SET", k, "v" * 100000)
        before.send(half[:50000])
        r = sidecar({"sidecar.requirepass": "reload-secret"})
        with Conn(r.sock) as c:
            eq(c.cmd("GET", "k"), "NOAUTH Authentication required.", "GET before AUTH")
            eq(c.cmd("AUTH", "reload-secret"), "OK", "AUTH with the reloaded password")
        before.send(half[50000:])
        eq(before.reply(), "OK", "the 100 KB SET sent across the reload, on a connection "
           "opened before it")
        eq(len(before.cmd("GET", k)), 100000, "GET on that connection, without AUTH")
        eq(before.cmd("RESET"), "RESET", "RESET")
        eq(before.cmd("GET", k), "NOAUTH Authentication required.",
           "GET after RESET: the connection is new again")
    finally:
        before.close()
        defaults()


@test
def reload_max_bulk_and_args_and_query_buffer():
    r = sidecar({"sidecar.max_bulk": 2048, "sidecar.max_args": 3})
    try:
        with r.conn() as c:
            c.send(encode("SET", key("reload", "bulk"), "x" * 4096))
            eq(c.rest_until_close(), b"-ERR Protocol error: invalid bulk length\r\n",
               "a 4 KiB argument with max_bulk 2048")
        with r.conn() as c:
            c.send(encode("MSET", "a", "1", "b", "2"))
            eq(c.rest_until_close(), b"-ERR Protocol error: invalid multibulk length\r\n",
               "5 arguments with max_args 3")
        r = sidecar({"sidecar.max_bulk": 1048576, "sidecar.query_buffer_limit": 1048576})
        with r.conn() as c:
            try:  # the sidecar may close before taking all of it
                c.send(encode("MSET", "a", "x" * 600000, "b", "y" * 600000))
            except (BrokenPipeError, ConnectionResetError):
                pass
            got = c.rest_until_close()
            check(got.startswith(b"-ERR Protocol error") and b"too big" in got,
                  "a request of 1.2 MB with query_buffer_limit 1 MiB refused", got[:200])
    finally:
        defaults()


@test
def reload_reply_backlog_and_max_pending():
    k = key("reload", "backlog")
    r = sidecar({})
    with r.conn() as c:
        eq(c.cmd("SET", k, "v" * 100000), "OK", "SET of 100 KB")

    def unread_gets(n):
        """n GETs of the 100 KB value from a client that does not read: its requests not
        run yet (CLIENT LIST pending) half a second later."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.connect(r.sock)
        if r.password:
            s.sendall(encode("AUTH", r.password))
        s.sendall(encode("CLIENT", "SETNAME", "unread") + encode("GET", k) * n)
        time.sleep(0.5)
        with r.conn() as c:
            for line in c.cmd("CLIENT", "LIST").decode().splitlines():
                if "name=unread " in line:
                    pending = int(line.rsplit("pending=", 1)[1].split()[0])
        s.close()
        return pending
    try:
        eq(unread_gets(20), 0, "GETs of 2 MB of replies left to run, unread, by default")
        sidecar({"sidecar.reply_backlog": 65536})
        check(unread_gets(20) >= 15, "most of 2 MB of unread GETs held back with "
              "reply_backlog 64 KiB", "fewer")
        sidecar({"sidecar.max_pending": 2})
        E.dn.control("latency 0 100")
        with r.conn() as c:
            before = r.stat("stats", "client_query_pauses")
            c.send(encode("GET", k + "-none") * 6)
            for _ in range(6):
                eq(c.reply(), None, "GET of a missing key")
        check(r.stat("stats", "client_query_pauses") > before, "reading paused with 6 GETs "
              "pipelined and max_pending 2", 0)
    finally:
        defaults()


@test
def reload_ordering():
    r = sidecar({})
    try:
        check(not writes_overlap(E.dn, r.sock, "reload-connection"),
              "by connection: a SET unseen while the SET before it is held", "it was seen")
        sidecar({"sidecar.ordering": "key"})
        check(writes_overlap(E.dn, r.sock, "reload-key"),
              "after a reload to key: a SET seen while the SET before it is held", "it was not")
    finally:
        defaults()


@test
def reload_string_format():
    # raw: a SET stores the plain bytes; after a reload to typed, the next SET stores the
    # typed format (its TTL readable), and the plain value written before still reads
    k, k2 = key("reload", "fmt-raw"), key("reload", "fmt-typed")
    r = sidecar({})
    try:
        with r.conn() as c:
            eq(c.cmd("SET", k, "v", "EX", 100), "OK", "SET under raw")
            eq(c.cmd("OBJECT", "ENCODING", k), b"raw", "stored plain under raw")
        sidecar({"sidecar.string_format": "typed"})
        with r.conn() as c:
            eq(c.cmd("SET", k2, "v", "EX", 100), "OK", "SET under typed")
            eq(c.cmd("OBJECT", "ENCODING", k2), b"typed", "stored typed after the reload")
            check(98 <= c.cmd("TTL", k2) <= 100, "its TTL readable", c.cmd("TTL", k2))
            eq(c.cmd("GET", k), b"v", "the plain value still reads")
    finally:
        defaults()


@test
def reload_slowlog_and_latency_monitor():
    # slowlog_log_slower_than 0 logs every command, slowlog_max_len 2 keeps two; a
    # latency_monitor_threshold of 1 ms records a GET the devnode delays by 30 ms
    k = key("reload", "slowlog")
    r = sidecar({})
    try:
        with r.conn() as c:
            eq(c.cmd("SLOWLOG", "RESET"), "OK", "SLOWLOG RESET")
            c.cmd("PING")
            eq(c.cmd("SLOWLOG", "GET"), [], "a PING unlogged at the default 10 ms")
            eq(c.cmd("LATENCY", "LATEST"), [], "no latency event with the monitor off")
        sidecar({"sidecar.slowlog_log_slower_than": 0, "sidecar.slowlog_max_len": 2,
                 "sidecar.latency_monitor_threshold": 1})
        with r.conn() as c:
            for _ in range(4):
                c.cmd("PING")
            eq(c.cmd("SLOWLOG", "LEN"), 2, "every command logged, two kept")
            E.dn.control("latency 0 30")
            c.cmd("GET", k)
            E.dn.control("clear")
            events = [e[0] for e in c.cmd("LATENCY", "LATEST")]
            check(b"command" in events or b"fast-command" in events,
                  "a 30 ms GET recorded with the 1 ms threshold", events)
    finally:
        E.dn.control("clear")
        defaults()


@test
def reload_max_reply():
    k = key("reload", "maxreply")
    r = sidecar({})
    try:
        with r.conn() as c:
            eq(c.cmd("SET", k, "v" * 50000), "OK", "SET of 50 KB")
            eq(len(c.cmd("MGET", k, k)), 2, "MGET of 100 KB by default")
        sidecar({"sidecar.max_reply": 65536})
        with r.conn() as c:
            got = c.cmd("MGET", k, k)
            check(isinstance(got, Error) and "max_reply" in got,
                  "MGET of 100 KB with max_reply 64 KiB refused", str(got)[:100])
    finally:
        defaults()


@test
def reload_timeout():
    r = sidecar({"sidecar.timeout": 1})
    try:
        with r.conn() as c:
            eq(c.rest_until_close(5), b"", "an idle connection closed with timeout 1")
    finally:
        defaults()


@test
def reload_cas_max_rounds():
    k = key("reload", "cas")
    r = sidecar({"sidecar.cas_max_rounds": 1})
    try:
        with r.conn() as c:
            eq(c.cmd("SET", k, "1"), "OK", "SET k 1")
        E.dn.control("latency 0 400")  # INCR's read is served at 400 ms, its write at 800
        with r.conn(timeout=20) as a, r.conn(timeout=20) as b:
            a.send(encode("INCR", k))
            time.sleep(0.2)
            eq(b.cmd("SET", k, "10"), "OK", "a SET served between INCR's read and write")
            got = a.reply()
        check(isinstance(got, Error) and got.startswith("CONFLICT"),
              "INCR to give up after one round with cas_max_rounds 1", got)
        E.dn.control("clear")
        sidecar({})
        E.dn.control("latency 0 400")
        with r.conn(timeout=20) as a, r.conn(timeout=20) as b:
            a.send(encode("INCR", k))
            time.sleep(0.2)
            eq(b.cmd("SET", k, "10"), "OK", "the same SET")
            eq(a.reply(), 11, "INCR redone after the race with cas_max_rounds 16")
    finally:
        defaults()


@test
def reload_cluster_timeout_ms():
    k = key("reload", "timeout")
    r = sidecar({})
    try:
        E.dn.control("latency 0 800")
        with r.conn() as c:
            got, took = timed(lambda: c.cmd("GET", k))
        eq(got, None, "GET held 800 ms with timeout_ms 5000")
        sidecar({"cluster.timeout_ms": 300})
        with r.conn() as c:
            got, took = timed(lambda: c.cmd("GET", k))
        check(isinstance(got, Error) and got.startswith("TIMEOUT"),
              "GET held 800 ms to time out with timeout_ms 300", got)
        check(took < 0.75, "the TIMEOUT before the 800 ms hold ends", "%.2f s" % took)
    finally:
        defaults()


def silence_cluster(on):
    """Every node stops answering while the kernel still takes connections (SIGSTOP: the
    devnode's one process, or each real server's), or answers again (SIGCONT)."""
    procs = [p for p in getattr(E.dn, "procs", [getattr(E.dn, "proc", None)]) if p is not None]
    for p in procs:
        p.send_signal(signal.SIGSTOP if on else signal.SIGCONT)


@test
def reload_probe_interval_and_connect_timeout():
    k = key("reload", "silent")
    r = sidecar({"cluster.probe_interval_ms": 100})
    try:
        # idle nodes are probed every probe_interval_ms (or half of connect_timeout_ms)
        def probes_in_a_second():
            before = r.stat("pool", "probes")
            time.sleep(1.0)
            return r.stat("pool", "probes") - before
        fast = probes_in_a_second()
        sidecar({"cluster.probe_interval_ms": 1000})
        slow = probes_in_a_second()
        check(fast >= 15 and slow <= 10, "idle probes of 3 nodes in a second: 15 or more every "
              "100 ms, 10 or fewer every 1000 ms", (fast, slow))
        # a silent cluster is given up on after connect_timeout_ms (at least half of it after
        # the command is sent)
        for timeout_ms, least, most in ((3000, 1.4, 3.3), (300, 0.0, 0.6)):
            sidecar({"cluster.connect_timeout_ms": timeout_ms})
            with r.conn() as c:
                wait_for(lambda: c.cmd("GET", k) is None, 10, "GET served")
                silence_cluster(True)
                try:
                    got, took = timed(lambda: c.cmd("GET", k))
                finally:
                    silence_cluster(False)
            check(isinstance(got, Error) and got.startswith("UNAVAILABLE"),
                  "GET to a silent cluster to answer UNAVAILABLE", got)
            check(least <= took < most, "the answer within %.1f to %.1f s with "
                  "connect_timeout_ms %d" % (least, most, timeout_ms), "%.2f s" % took)
    finally:
        silence_cluster(False)
        defaults()
        with r.conn() as c:  # the nodes found again before the next test
            wait_for(lambda: c.cmd("GET", k) is None, 10, "GET served again")


@test
def reload_retry_policy():
    k = key("reload", "retry")
    r = sidecar({"retry.max_attempts": 1})
    try:
        E.dn.control("fail 0 1 UNAVAILABLE")
        before = r.stat("retries", "attempts_UNAVAILABLE")
        with r.conn() as c:
            got = c.cmd("GET", k)
        check(isinstance(got, Error), "GET to fail when every call fails", got)
        eq(r.stat("retries", "attempts_UNAVAILABLE") - before, 1,
           "attempts of one GET with max_attempts 1")

        def elapsed(keys, n=1):
            sidecar(keys)
            t = time.monotonic()
            with r.conn(timeout=20) as c:
                for _ in range(n):
                    got = c.cmd("GET", k)
                    check(isinstance(got, Error), "GET to fail when every call fails", got)
            return time.monotonic() - t
        none = {"retry.max_attempts": 3, "retry.initial_delay_ms": 0, "retry.max_delay_ms": 0,
                "retry.jitter_ms": 0}
        t = elapsed(none)
        check(t < 0.3, "3 attempts without delays within 0.3 s", "%.2f s" % t)
        t = elapsed(dict(none, **{"retry.initial_delay_ms": 400, "retry.max_delay_ms": 400}))
        check(t >= 0.75, "3 attempts 400 ms apart (initial_delay_ms) to take 0.8 s",
              "%.2f s" % t)
        capped = {"retry.max_attempts": 4, "retry.initial_delay_ms": 150,
                  "retry.max_delay_ms": 150, "retry.jitter_ms": 0}
        t = elapsed(capped)
        check(t < 0.8, "4 attempts with waits capped at 150 ms (max_delay_ms) within 0.8 s",
              "%.2f s" % t)
        t = elapsed(dict(capped, **{"retry.max_delay_ms": 2000}))
        check(t >= 0.95, "4 attempts waiting 150, 300, 600 ms with max_delay_ms 2000",
              "%.2f s" % t)
        t = elapsed(dict(none, **{"retry.max_attempts": 4, "retry.jitter_ms": 500}), n=3)
        check(t >= 0.6, "3 GETs of 4 attempts each waiting up to 500 ms of jitter to take "
              "0.6 s or more (2.25 s expected)", "%.2f s" % t)
    finally:
        defaults()


@test
def reload_log_level():
    r = sidecar({"log.level": "info"})
    try:
        with r.conn() as c:
            c.send(b"*1\r\n$x\r\n")
            c.rest_until_close()

        def logged():
            with open(r.log) as f:
                return "; closing" in f.read()
        wait_for(logged, 5, "the protocol error logged at level info")
    finally:
        defaults()


@test
def reload_log_format():
    r = sidecar({"log.format": "json"})
    try:
        def json_line():
            with open(r.log) as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
            return lines and lines[-1].startswith("{") and '"message"' in lines[-1]
        sidecar({"log.format": "json", "log.level": "info"})
        with r.conn() as c:
            c.send(b"*1\r\n$x\r\n")
            c.rest_until_close()
        wait_for(json_line, 5, "a JSON log line after log.format became json")
    finally:
        defaults()


@test
def reload_metrics_max_connections():
    r = sidecar({"metrics.max_connections": 2})
    held = []
    try:
        for _ in range(2):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(r.metrics)
            held.append(c)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as third:
            third.settimeout(5)
            third.connect(r.metrics)
            eq(third.recv(100), b"", "what a 3rd connection to the metrics listener reads "
               "with metrics.max_connections 2: closed at once")
    finally:
        for c in held:
            c.close()
        defaults()


@test
def reload_drain_settings():  # last but one: it ends the sidecar
    global R
    k = key("reload", "drain")
    r = sidecar({"sidecar.drain_accept_ms": 1000, "sidecar.drain_timeout": 1})
    try:
        E.dn.control("latency 0 4000")
        held = r.conn(timeout=20)
        held.send(encode("GET", k))
        time.sleep(0.2)
        t0 = time.monotonic()
        r.proc.send_signal(signal.SIGTERM)
        time.sleep(0.4)
        with Conn(r.sock, timeout=5) as c:  # drain_accept_ms: still accepting
            eq(c.cmd("PING"), "PONG", "a new client 0.4 s into a drain with drain_accept_ms 1000")
        r.proc.wait(10)
        took = time.monotonic() - t0
        check(1.0 <= took < 3.5, "the exit after drain_accept_ms 1000 and drain_timeout 1 (a GET "
              "held 4 s still in flight)", "%.2f s" % took)
        held.close()
    finally:
        E.dn.control("clear")
        stop(r.proc)
        R = None


@test
def reload_every_reloadable_key_observed():
    text = subprocess.run([SIDECAR, "--print-config"], capture_output=True, text=True,
                          timeout=10).stdout
    section, reloadable, marked = None, set(), False
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif line == "# reloadable on SIGHUP":
            marked = True
        elif line and not line.startswith("#"):
            if marked:
                reloadable.add("%s.%s" % (section, line.split("=")[0].strip()))
            marked = False
    check(len(reloadable) >= 10, "the reloadable keys of --print-config", sorted(reloadable))
    if SERVER and reloadable - OBSERVED:
        raise Skip("the tests that observe %s need the devnode's faults" % ", ".join(
            sorted(reloadable - OBSERVED)))
    eq(sorted(reloadable - OBSERVED), [], "reloadable keys no test saw take effect")


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.exit(rc)
