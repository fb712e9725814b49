#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: the operator commands, against a real redis-server.

MONITOR's lines (Redis' quoting, the Unix client's address, AUTH's and HELLO's passwords
redacted, CONFIG not shown, a monitor refused the keyspace, RESET ending it) compared line
for line with redis-server's; a monitor that never reads while another client pipelines
200,000 commands (closed, RSS bounded, the other client's PING prompt); SLOWLOG's entries
(arguments cut at 32 and 128 bytes, address, name, the passwords) and CONFIG GET/SET of
slowlog-log-slower-than and slowlog-max-len compared with redis-server's; LATENCY LATEST and
HISTORY after GETs slowed by the devnode; LATENCY HISTOGRAM's shape as redis-server's; MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE;
INFO cpu; INFO commandstats rows of commands only rejected or failed, as redis-server's; the
pre-AUTH limits' wording.

Usage: python3 tests/e2e/test_ops.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import re
import socket
import sys
import threading
import time

from harness import (E, Conn, Error, Fail, Sidecar, Status, check, encode, eq, info_field, key,
                     same_as_redis, stop, test, wait_for, main)

MIB = 1024 * 1024
SANITIZERS = bool(os.environ.get("NORIKV_SANITIZERS"))
if SANITIZERS:
    # AddressSanitizer keeps freed memory in quarantine and returns it to the system on its
    # own schedule: the memory bound reads INFO's used_memory (the bytes allocated) there
    os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [
        os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=1",
        "thread_local_quarantine_size_kb=64"]))
LINE = re.compile(r"^(\d+)\.(\d{6}) \[0 ([^\]]+)\] (.*)$")


def _rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _monitor_lines(sock, cmds, want):
    """Starts a monitor on the socket at sock, runs cmds on another connection there, and
    returns the monitor's first `want` lines, each split as (time, addr, arguments)."""
    with Conn(sock) as m, Conn(sock) as o:
        eq(m.cmd("MONITOR"), "OK", "MONITOR's reply")
        for c in cmds:
            o.cmd(*c)
        out = []
        for _ in range(want):
            line = m.reply()
            check(isinstance(line, Status), "a monitor line as a simple string", repr(line))
            g = LINE.match(line)
            check(g is not None, "a monitor line as '<sec>.<usec> [0 <addr>] ...'", line)
            out.append((float(g.group(1) + "." + g.group(2)), g.group(3), g.group(4)))
        return out


MONITORED = [
    ("SET", key("mon", "a\x01\""), "\\\n\t\xff\r\a\b"),
    ("PING",),
    ("AUTH", "nobody-has-this"),
    ("AUTH", "someone", "secret"),
    ("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "ops"),
    ("CONFIG", "GET", "slowlog-max-len"),  # administrative: never shown
    ("GET",),                              # refused before running: never shown
    ("ECHO", "last"),
]


@test
def monitor_lines_as_redis():
    want = 6  # all but CONFIG and the GET without its key
    t0 = time.time()
    got = _monitor_lines(E.sc.sock, MONITORED, want)
    ref = _monitor_lines(E.redis().sock, MONITORED, want)
    eq([g[2] for g in got], [r[2] for r in ref], "the monitor lines' arguments (the sidecar's "
       "against redis-server's)")
    eq({g[1] for g in got}, {"unix:" + E.sc.sock}, "a Unix client's address in the lines")
    eq({r[1] for r in ref}, {"unix:" + E.redis().sock}, "redis-server's form of it")
    for g in got:
        check(t0 - 1 <= g[0] <= time.time() + 1, "each line's time to be now", g[0])
    print("    e.g. %s" % got[0][2])


@test
def monitor_refuses_the_keyspace_and_reset_ends_it():
    same_as_redis([("MONITOR",), ("GET", key("mon", "k")), ("SET", "k", "v"), ("RESET",),
                   ("PING",)], "a monitor's own commands")
    with E.sc.conn() as m, E.sc.conn() as o:
        eq(m.cmd("MONITOR"), "OK", "MONITOR")
        line = None
        o.cmd("ECHO", "before")
        line = m.reply()
        check("\"ECHO\" \"before\"" in line, "the monitor to see ECHO before", line)
        lst = o.cmd("CLIENT", "LIST").decode()
        check(" flags=O " in lst, "CLIENT LIST to show the monitor's flag O", lst)
        eq(m.cmd("RESET"), "RESET", "RESET on the monitor")
        o.cmd("ECHO", "after")
        eq(m.cmd("PING"), "PONG", "the next reply after RESET: no monitor line before it")
    with E.sc.conn() as m, E.sc.conn() as o:
        eq(m.cmd("MONITOR"), "OK", "MONITOR")
        m.send(encode("QUIT"))
        eq(m.reply(), "OK", "QUIT on a monitor")
        o.cmd("ECHO", "after-quit")
        eq(m.rest_until_close(), b"", "nothing after QUIT's +OK")


@test
def monitor_that_never_reads_is_closed():
    s = Sidecar("monitor-sidecar", E.dn)
    try:
        def mem(conn):
            """RSS, or under the sanitizers the bytes allocated (INFO memory)."""
            if SANITIZERS:
                return int(info_field(conn.cmd("INFO", "memory").decode(), "used_memory"))
            return _rss(s.proc.pid)
        with Conn(s.sock) as c:
            rss0 = mem(c)
        m = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        m.connect(s.sock)
        m.sendall(encode("CLIENT", "SETNAME", "unread-monitor") + encode("MONITOR"))
        m.settimeout(5)
        got = b""
        while got.count(b"\r\n") < 2:
            got += m.recv(100)
        check(got.startswith(b"+OK\r\n+OK\r\n"), "SETNAME's and MONITOR's +OK", got)
        # then it never reads again, while another client pipelines 200,000 commands
        n, sent, done = 200000, [0], threading.Event()
        w = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        w.connect(s.sock)
        w.settimeout(30)

        def writer():
            batch = encode("ECHO", "x" * 20) * 1000
            for _ in range(n // 1000):
                w.sendall(batch)
                sent[0] += 1000
            done.set()
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        peak, replies, pings = rss0, 0, []
        want = len(b"$20\r\n" + b"x" * 20 + b"\r\n") * n
        with Conn(s.sock) as p:
            while replies < want:
                d = w.recv(1 << 20)
                if not d:
                    raise Fail("the writer's connection closed after %d bytes of replies" %
                               replies)
                replies += len(d)
                peak = max(peak, mem(p))
                if len(pings) < 200:
                    t1 = time.monotonic()
                    eq(p.cmd("PING"), "PONG", "another client's PING")
                    pings.append(time.monotonic() - t1)
        t.join(30)
        w.close()
        with Conn(s.sock) as c:
            names = c.cmd("CLIENT", "LIST").decode()
            stats = c.cmd("INFO", "stats").decode()
        check("name=unread-monitor" not in names, "the monitor that never read to be closed",
              names)
        check(int(info_field(stats, "client_output_buffer_limit_disconnections")) >= 1,
              "INFO stats to count the monitor closed", stats)
        pings.sort()
        print("    %s %d -> peak %d MiB; other client's PING median %.1f ms, max %.1f ms (%d)" % (
            "used_memory" if SANITIZERS else "RSS", rss0 // MIB, peak // MIB,
            pings[len(pings) // 2] * 1e3, pings[-1] * 1e3, len(pings)))
        check(peak - rss0 < 48 * MIB, "memory to grow less than 48 MiB (reply_backlog is 4 MiB)",
              "%d MiB" % ((peak - rss0) // MIB))
        check(pings[len(pings) // 2] < 0.050, "the other client's PING below 50 ms (median)",
              "%.1f ms" % (pings[len(pings) // 2] * 1e3))
        check(pings[-1] < 1.0, "every PING of the other client within 1 s",
              "%.1f ms" % (pings[-1] * 1e3))
        with open(s.log) as f:
            log = f.read()
        check("MONITOR lines still coming; closing it" in log, "the log to say why", log[-800:])
        m.close()
    finally:
        stop(s.proc)


def _same_help(cmd):
    """cmd HELP as redis-server's, but for its last line: Redis 7.2 says "Print this help."
    where the 7.0 of Debian 12 says "Prints"."""
    with E.sc.conn() as a, E.redis().conn() as b:
        got, ref = a.cmd(cmd, "HELP"), b.cmd(cmd, "HELP")
    eq(got[:-1], ref[:-1], "%s HELP as redis-server's" % cmd)
    eq(got[-1], "    Print this help.", "%s HELP's last line, as Redis 7.2's" % cmd)


def _slowlog_entries(conn, sock):
    """SLOWLOG GET -1 of a connection with ids, times and durations checked and dropped, and
    the socket path in the address replaced by SOCK."""
    out = []
    now = time.time()
    for e in conn.cmd("SLOWLOG", "GET", "-1"):
        check(len(e) == 6, "a slowlog entry of 6 fields", e)
        check(isinstance(e[0], int) and abs(e[1] - now) < 60 and e[2] >= 0,
              "id, unix time and microseconds", e)
        out.append((e[3], e[4].replace(sock.encode(), b"SOCK"), e[5]))
    return out


SLOW = [
    ("CLIENT", "SETNAME", "ops-slowlog"),
    ("CONFIG", "SET", "slowlog-log-slower-than", "0"),
    ("SLOWLOG", "RESET"),
    ("ECHO", "y" * 300),
    ("MGET",) + tuple(key("slow", str(i)) for i in range(40)),
    ("AUTH", "nobody-has-this"),
    ("SLOWLOG", "LEN"),
]


@test
def slowlog_as_redis():
    same_as_redis(SLOW, "SLOWLOG's commands")
    with E.sc.conn() as a, E.redis().conn() as b:
        got, ref = a.cmd("CONFIG", "GET", "slowlog-*"), b.cmd("CONFIG", "GET", "slowlog-*")
    eq(dict(zip(got[0::2], got[1::2])), dict(zip(ref[0::2], ref[1::2])),
       "CONFIG GET slowlog-* (the defaults) as redis-server's")
    try:
        with E.sc.conn() as a, E.redis().conn() as b:
            for c in SLOW + [("HELLO", "2", "AUTH", "default", "secret")]:
                a.cmd(*c)
                b.cmd(*c)
            got = _slowlog_entries(a, E.sc.sock)
            ref = _slowlog_entries(b, E.redis().sock)
        eq(got, ref, "SLOWLOG GET -1's arguments, addresses and names (the sidecar's against "
           "redis-server's)")
        mget = [e for e in got if e[0][0] == b"MGET"][0][0]
        eq((len(mget), mget[-1]), (32, b"... (10 more arguments)"),
           "MGET of 40 keys cut at 32 arguments")
        same_as_redis([("SLOWLOG", "GET", "x"), ("SLOWLOG", "GET", "-2"), ("SLOWLOG", "FOO"),
                       ("CONFIG", "SET", "slowlog-max-len", "2"),
                       ("ECHO", "1"), ("ECHO", "2"), ("ECHO", "3"), ("SLOWLOG", "LEN"),
                       ("CONFIG", "GET", "slowlog-max-len")], "SLOWLOG's errors and max-len")
        _same_help("SLOWLOG")
    finally:
        same_as_redis([("CONFIG", "SET", "slowlog-log-slower-than", "10000", "slowlog-max-len",
                        "128"), ("SLOWLOG", "RESET")], "the defaults back")


@test
def slowlog_duration_and_config():
    r = E.sc.client()
    try:
        r.config_set("slowlog-log-slower-than", 0)
        r.slowlog_reset()
        k = key("slowdur", "k")
        t = time.monotonic()
        r.get(k)
        took = (time.monotonic() - t) * 1e6
        e = [e for e in r.slowlog_get(10) if e["command"] == b"GET " + k.encode()]
        check(len(e) == 1, "the GET in SLOWLOG GET", r.slowlog_get(10))
        check(0 < e[0]["duration"] <= took, "its duration within the round trip the client "
              "saw (%.0f us)" % took, e[0]["duration"])
        r.config_set("slowlog-log-slower-than", -1)
        r.slowlog_reset()
        r.get(k)
        eq(r.slowlog_len(), 0, "nothing logged with slowlog-log-slower-than -1")
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
        r.slowlog_reset()
    res = E.sc.client()
    bad = None
    try:
        res.config_set("slowlog-max-len", "lots")
    except Exception as ex:
        bad = str(ex)
    check(bad is not None and bad.startswith("CONFIG SET failed (possibly related to argument "
                                             "'slowlog-max-len')"), "a bad value refused", bad)
    bad = None
    try:
        res.config_set("maxmemory", "1")
    except Exception as ex:
        bad = str(ex)
    check(bad is not None and "Unknown option" in bad, "a key CONFIG SET cannot change refused",
          bad)
    eq(res.config_get("slowlog-max-len"), {"slowlog-max-len": "128"}, "unchanged")


def _pairs(x):
    """A map reply as (key, value) pairs, keys as bytes: RESP3's map or RESP2's flat array."""
    items = list(x.items()) if isinstance(x, dict) else list(zip(x[::2], x[1::2]))
    return [(k.encode() if isinstance(k, str) else k, v) for k, v in items]


def _histogram_shape(conn, names):
    """LATENCY HISTOGRAM names... after three PINGs and an ECHO on a connection of its own:
    the names answered (in order), each entry's keys, whether it has calls, and whether its
    cumulative counts rise to its calls at rising bounds; and the bounds of each."""
    for _ in range(3):
        conn.cmd("PING")
    conn.cmd("ECHO", "x")
    shape, bounds = [], []
    for name, entry in _pairs(conn.cmd("LATENCY", "HISTOGRAM", *names)):
        entry = dict(_pairs(entry))
        hist = _pairs(entry[b"histogram_usec"])
        counts = [h[1] for h in hist]
        bounds.append([int(h[0]) for h in hist])
        shape.append((name, sorted(entry), entry[b"calls"] >= 1,
                      bounds[-1] == sorted(set(bounds[-1])) and counts == sorted(counts) and
                      counts[-1] == entry[b"calls"]))
    return shape, bounds


@test
def latency_histogram():
    # Redis 7's LATENCY HISTOGRAM, which redis_exporter reads for its latency histograms:
    # the same shape as redis-server's, only the named commands with calls (a name twice,
    # twice, in RESP2), in RESP2 and RESP3; the sidecar's bounds are powers of two of
    # microseconds.
    for proto, names in ((2, ("ping", "nosuchcommand", "PING", "echo")),
                         (3, ("ping", "nosuchcommand", "echo"))):
        s = Sidecar("hist%d-sidecar" % proto, E.dn)
        try:
            with s.conn() as c, E.redis().conn() as r:
                if proto == 3:
                    c.cmd("HELLO", 3)
                    r.cmd("HELLO", 3)
                r.cmd("CONFIG", "RESETSTAT")
                mine, bounds = _histogram_shape(c, names)
                eq(mine, _histogram_shape(r, names)[0],
                   "LATENCY HISTOGRAM's shape (RESP%d)" % proto)
                check(all(b > 0 and b & (b - 1) == 0 for bs in bounds for b in bs),
                      "the bounds powers of two of microseconds", bounds)
        finally:
            stop(s.proc)
    s = Sidecar("hist-sidecar", E.dn)
    try:
        with s.conn() as c:
            c.cmd("PING")
            names = [n for n, _ in _pairs(c.cmd("LATENCY", "HISTOGRAM"))]
            check(b"ping" in names and b"echo" not in names and len(set(names)) == len(names),
                  "LATENCY HISTOGRAM alone: every command with calls (PING; not ECHO), once",
                  names)
    finally:
        stop(s.proc)


@test
def latency_latest_and_history():
    r = E.sc.client()
    same_as_redis([("LATENCY", "LATEST"), ("LATENCY", "HISTORY", "command"),
                   ("LATENCY", "RESET"), ("CONFIG", "GET", "latency-monitor-threshold")],
                  "the latency monitor off")
    try:
        r.config_set("latency-monitor-threshold", 20)
        E.dn.control("latency 0 40")
        t = time.time()
        for i in range(3):
            r.get(key("lat", str(i)))
        E.dn.control("clear")
        latest = {e[0]: e[1:] for e in r.execute_command("LATENCY", "LATEST")}
        check(b"fast-command" in latest, "LATENCY LATEST to have fast-command (GET is fast)",
              latest)
        when, last, most = latest[b"fast-command"]
        check(abs(when - t) <= 5 and 40 <= last <= most < 5000,
              "[time, latest ms, max ms] with GETs slowed by 40 ms", latest[b"fast-command"])
        hist = r.execute_command("LATENCY", "HISTORY", "fast-command")
        check(1 <= len(hist) <= 3 and all(len(h) == 2 and h[1] >= 40 for h in hist),
              "LATENCY HISTORY's [time, ms] samples (one per second at most)", hist)
        doctor = r.execute_command("LATENCY", "DOCTOR")
        check(b"fast-command" in doctor, "LATENCY DOCTOR to tell of fast-command", doctor)
        eq(r.execute_command("LATENCY", "RESET", "fast-command", "nothing"), 1,
           "LATENCY RESET of one event")
        check(b"fast-command" not in {e[0] for e in r.execute_command("LATENCY", "LATEST")},
              "fast-command gone after RESET", r.execute_command("LATENCY", "LATEST"))
    finally:
        E.dn.control("clear")
        r.config_set("latency-monitor-threshold", 0)
        r.execute_command("LATENCY", "RESET")


@test
def memory_commands():
    r = E.sc.client()
    k = key("mem", "k")
    r.set(k, b"v" * 100)
    eq(r.memory_usage(k), len(k) + 100 + 64, "MEMORY USAGE: key, value and 64 bytes")
    eq(r.memory_usage(key("mem", "missing")), None, "MEMORY USAGE of a missing key")
    same_as_redis([("MEMORY", "USAGE", key("mem", "missing"), "SAMPLES", "x"),
                   ("MEMORY", "USAGE", key("mem", "missing"), "SAMPLES", "-1"),
                   ("MEMORY", "USAGE", key("mem", "missing"), "FOO"),
                   ("MEMORY", "USAGE", key("mem", "missing"), "SAMPLES", "0"),
                   ("MEMORY", "USAGE"), ("MEMORY", "FOO"), ("MEMORY", "PURGE")],
                  "MEMORY's errors and PURGE")
    _same_help("MEMORY")
    st = r.memory_stats()
    for f in ("peak.allocated", "total.allocated", "startup.allocated", "clients.normal",
              "clients.slaves", "overhead.total", "keys.count", "dataset.bytes",
              "fragmentation", "allocator.resident"):
        check(f in st, "MEMORY STATS to have %s" % f, st)
    check(0 < st["total.allocated"] <= st["peak.allocated"], "total.allocated within the peak",
          st)
    eq((st["dataset.bytes"], st["keys.count"]), (0, 0), "no dataset in the sidecar")
    check(st["clients.normal"] > 0, "clients.normal to count this client", st)
    ref = E.redis().conn().cmd("MEMORY", "STATS")
    names = [ref[i] for i in range(0, len(ref), 2)]
    missing = [f for f in st if f.encode() not in names]
    eq(missing, [], "MEMORY STATS' fields to be among redis-server's")
    doc = r.execute_command("MEMORY", "DOCTOR")
    check(isinstance(doc, bytes) and len(doc) > 20, "MEMORY DOCTOR's report", doc)
    ms = r.execute_command("MEMORY", "MALLOC-STATS")
    check(b"<malloc" in ms, "MEMORY MALLOC-STATS: glibc's malloc_info", ms[:200])


@test
def info_cpu():
    text = E.sc.info("cpu")
    ref = E.redis().conn().cmd("INFO", "cpu").decode()
    fields = lambda t: [l.split(":")[0] for l in t.splitlines() if ":" in l]
    eq(fields(text), fields(ref), "INFO cpu's fields (the sidecar's against redis-server's)")
    for f in fields(text):
        check(re.fullmatch(r"\d+\.\d{6}", info_field(text, f)) is not None,
              "%s in seconds with 6 decimals" % f, info_field(text, f))
    check(float(info_field(text, "used_cpu_user")) >= float(
        info_field(text, "used_cpu_user_main_thread")), "the process' time at least the loop's",
        text)
    for how in ((), ("default",), ("all",), ("everything",)):
        with E.sc.conn() as c:
            check(b"# CPU\r\n" in c.cmd("INFO", *how), "INFO %s to hold # CPU" % " ".join(how),
                  "")
    with E.sc.conn() as c:
        check(b"# CPU" not in c.cmd("INFO", "commandstats"), "INFO commandstats without CPU", "")


def _cmdstat(text, name):
    v = info_field(text, "cmdstat_" + name)
    return re.sub(r"usec=\d+,usec_per_call=[\d.]+", "usec=U", v) if v is not None else None


@test
def commandstats_of_rejected_and_failed_commands():
    s = Sidecar("cmdstat-sidecar", E.dn)
    try:
        cmds = [("ECHO",), ("ECHO", "a", "b"), ("SELECT", "99"), ("CONFIG", "FOO"),
                ("TIME", "x")]
        with s.conn() as a, E.redis().conn() as b:
            b.cmd("CONFIG", "RESETSTAT")
            for c in cmds:
                ra, rb = a.cmd(*c), b.cmd(*c)
                eq(ra, rb, "%s's reply" % " ".join(c))
            got, ref = a.cmd("INFO", "commandstats").decode(), b.cmd("INFO", "commandstats")
            ref = ref.decode()
        eq(info_field(got, "cmdstat_echo"), "calls=0,usec=0,usec_per_call=0.00,"
           "rejected_calls=2,failed_calls=0", "ECHO only rejected (arity)")
        for name in ("echo", "select", "time"):
            eq(_cmdstat(got, name), _cmdstat(ref, name), "cmdstat_%s as redis-server's" % name)
        eq(_cmdstat(got, "config"), None, "no row for CONFIG FOO (unknown subcommand), as Redis")
    finally:
        stop(s.proc)
    s = Sidecar("noauth-sidecar", E.dn, "--sidecar.requirepass=pw", password="pw")
    try:
        with s.conn() as a:
            eq(a.cmd("ECHO", "x"), "NOAUTH Authentication required.", "ECHO before AUTH")
            eq(a.cmd("AUTH", "pw"), "OK", "AUTH")
            eq(info_field(a.cmd("INFO", "commandstats").decode(), "cmdstat_echo"),
               "calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
               "ECHO refused with NOAUTH counted as rejected")
        with s.conn() as a:
            a.send(b"*11\r\n")
            eq(a.rest_until_close(), b"-ERR Protocol error: unauthenticated multibulk "
               b"length\r\n", "11 arguments before AUTH")
        with s.conn() as a:
            a.send(b"*1\r\n$16385\r\n")
            eq(a.rest_until_close(), b"-ERR Protocol error: unauthenticated bulk length\r\n",
               "a 16385-byte bulk before AUTH")
        with s.conn() as a:
            a.send(b"*1\r\n$600000000\r\n")
            eq(a.rest_until_close(), b"-ERR Protocol error: invalid bulk length\r\n",
               "a bulk over max_bulk before AUTH: invalid, as Redis checks that first")
    finally:
        stop(s.proc)


@test
def command_docs_of_the_operator_commands():
    with E.sc.conn() as c:
        docs = c.cmd("COMMAND", "DOCS", "SLOWLOG", "LATENCY", "MEMORY", "MONITOR")
        info = c.cmd("COMMAND", "INFO", "MONITOR")[0]
    eq(sorted(docs[0::2]), [b"latency", b"memory", b"monitor", b"slowlog"],
       "COMMAND DOCS' names")
    check(b"from its start to its reply" in repr(docs).encode(), "SLOWLOG's and LATENCY's docs "
          "to say what a command's time is", "")
    for sub in (b"slowlog|get", b"latency|latest", b"latency|history", b"memory|usage",
                b"memory|stats"):
        check(sub in repr(docs).encode(), "COMMAND DOCS to document %s" % sub.decode(), "")
    check("admin" in info[2], "MONITOR flagged admin", info)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
