#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: what an operator observes, and how it survives.

/metrics scraped with curl and checked with promtool (when Debian's prometheus package
provides it) and with a strict parser of the text format here, its names (no word said
twice, no precomputed rate), its latency buckets (fine from 1 to 5 ms) and its process_*
series against /proc; a regular file at [metrics] listen refused, as -t says; [::] serving
IPv4 and IPv6; /healthz, /readyz flipping to 503 when every devnode is killed and back to
200 when they are revived; a command with every node marked down answering UNAVAILABLE in
under 50 ms; INFO latencystats, errorstats
and memory, and redis-cli --stat reading them; log lines (time, PID, JSON) with one line
per burst of an event; the drain serving a client that connects after SIGTERM, and
drain_timeout bounding the wait for a command in flight.

Usage: python3 tests/e2e/test_observe.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from harness import (E, Conn, Devnode, Fail, REDIS_CLI, SIDECAR, Sidecar, Skip, _procs, _read,
                     check, encode, eq, info_field, key, reserve_ports, run, spawn, stop, test,
                     wait_for, main)

import redis

CURL = shutil.which("curl") or "curl"
PROMTOOL = shutil.which("promtool")
# the journal would take the lines' time and PID itself: these tests read plain stderr
os.environ.pop("JOURNAL_STREAM", None)


def http(where, path, method="GET"):
    """(status, body) of one request to the metrics listener at `where` (host:port or a
    socket path), with curl."""
    args = [CURL, "-sSg", "--max-time", "10", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
    if where.startswith("/"):
        args += ["--unix-socket", where, "http://localhost" + path]
    else:
        args += ["http://%s%s" % (where, path)]
    r = run(args, timeout=15)
    check(r.rc == 0, "curl %s %s to succeed" % (where, path), r)
    body, _, code = r.out.rpartition("\n")
    return int(code), body


# ---- the Prometheus text format, strictly -----------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))


def parse_metrics(text):
    """{family: {"type", "help", "samples": [(name, labels dict, value)]}}; raises Fail on any
    line that breaks the text format (version 0.0.4) or a rule Prometheus checks."""
    fams, current = {}, None
    check(text.endswith("\n"), "the exposition to end with a newline", text[-80:])
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            check(re.fullmatch(NAME, name), "a metric name in HELP", where)
            check(name not in fams, "one HELP per family", where)
            fams[name] = {"type": None, "help": line[len("# HELP " + name) + 1:], "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            check(len(parts) == 4 and parts[2] == current, "TYPE right after its HELP", where)
            check(parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"),
                  "a known type", where)
            check(not fams[current]["samples"], "TYPE before the family's samples", where)
            fams[current]["type"] = parts[3]
        elif line.startswith("#") or line == "":
            raise Fail("no other comments or blank lines; got %s" % where)
        else:
            m = SAMPLE.match(line)
            check(m, "a sample line", where)
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            check(current is not None and fams[current]["type"] is not None,
                  "a sample after its family's TYPE", where)
            t = fams[current]["type"]
            allowed = [current] if t != "histogram" else [current + s for s in
                                                           ("_bucket", "_sum", "_count")]
            check(name in allowed, "sample %s to belong to family %s" % (name, current), where)
            v = float(value)  # raises on anything but a Go float
            lab = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
            check(len(lab) == labels.count('="'), "distinct labels", where)
            if t == "counter":
                check(v >= 0 and not math.isnan(v), "a counter never negative", where)
            fams[current]["samples"].append((name, lab, v))
    for name, f in fams.items():
        check(f["type"] is not None, "a TYPE for every family", name)
        if f["type"] == "counter":
            check(name.endswith("_total"), "counter names ending in _total", name)
        if f["type"] == "histogram":
            series = {}
            for s, lab, v in f["samples"]:
                k = tuple(sorted((a, b) for a, b in lab.items() if a != "le"))
                series.setdefault(k, {"buckets": [], "sum": None, "count": None})
                if s.endswith("_bucket"):
                    series[k]["buckets"].append((float(lab["le"]), v))
                elif s.endswith("_sum"):
                    series[k]["sum"] = v
                else:
                    series[k]["count"] = v
            for k, h in series.items():
                les = [le for le, _ in h["buckets"]]
                check(les == sorted(les) and les[-1] == math.inf,
                      "buckets in order up to +Inf", (name, k, les))
                counts = [c for _, c in h["buckets"]]
                check(counts == sorted(counts), "cumulative bucket counts", (name, k, counts))
                eq(h["count"], counts[-1], "%s%s: _count equal to the +Inf bucket" % (name, k))
                check(h["sum"] is not None and h["sum"] >= 0, "a _sum", (name, k))
    return fams


def value(fams, family, sample=None, **labels):
    """The value of family's sample (the family's name, or one of a histogram's _bucket,
    _sum, _count) with these labels."""
    sample = sample or family
    for name, lab, v in fams.get(family, {"samples": []})["samples"]:
        if name == sample and all(lab.get(a) == b for a, b in labels.items()):
            return v
    raise Fail("no sample %s%r in /metrics" % (sample, labels))


def promtool_check(text):
    if PROMTOOL is None:
        print("    (promtool not installed: only the parser of this file checked /metrics)")
        return
    r = run([PROMTOOL, "check", "metrics"], stdin=text, timeout=30)
    check(r.rc == 0, "promtool check metrics to accept /metrics (exit 0, no lint problem)", r)


# ---- a sidecar with metrics -------------------------------------------------------------

_metrics = {}


def metrics_sidecar():
    """The main devnode with a sidecar serving metrics on a loopback port."""
    if "tcp" not in _metrics:
        port = reserve_ports(1)
        where = "127.0.0.1:%d" % port
        _metrics["tcp"] = (Sidecar("metrics-sidecar", E.dn, "--metrics.listen=" + where), where)
    return _metrics["tcp"]


@test
def metrics_scraped_and_parsed():
    sc, where = metrics_sidecar()
    c = sc.client()
    k = key("metrics")
    for i in range(5):
        c.set(k, "v%d" % i)
    eq(c.get(k), b"v4", "GET")
    try:
        c.execute_command("NO.SUCH.COMMAND")
    except redis.ResponseError:
        pass
    code, text = http(where, "/metrics")
    eq(code, 200, "/metrics status")
    fams = parse_metrics(text)
    promtool_check(text)
    check(value(fams, "norikv_sidecar_command_calls_total", command="set") >= 5,
          "at least 5 SET calls counted", text[:200])
    check(value(fams, "norikv_sidecar_command_duration_seconds",
                "norikv_sidecar_command_duration_seconds_count", command="set") >= 5,
          "SET's latency histogram to count them", "")
    check(value(fams, "norikv_sidecar_errors_total", kind="ERR") >= 1,
          "the unknown command counted as an ERR error reply", "")
    info = sc.info("everything")
    # every INFO figure of the stats and cluster client sections is there, with INFO's value
    # for the counters that do not move between the two reads
    for field, family in (("keyspace_hits", "norikv_sidecar_keyspace_hits_total"),
                          ("cas_rounds", "norikv_sidecar_cas_rounds_total"),
                          ("cas_merged_blocks", "norikv_sidecar_cas_merged_blocks_total"),
                          ("nodes_marked_down", "norikv_pool_nodes_marked_down_total"),
                          ("watch_streams", "norikv_topology_watch_streams_total")):
        eq(value(fams, family), float(info_field(info, field)), "%s against INFO %s" % (
            family, field))
    for family in ("norikv_sidecar_connections_received_total", "norikv_retries_attempts_total",
                   "norikv_retries_not_leader_total", "norikv_retries_fail_fast_total",
                   "norikv_topology_current_epoch", "norikv_topology_view_live",
                   "norikv_pool_nodes_down", "norikv_sidecar_memory_used_bytes",
                   "norikv_sidecar_memory_rss_bytes", "norikv_sidecar_connected_clients",
                   "norikv_sidecar_uptime_seconds", "norikv_retries_attempts_by_status_total",
                   "norikv_retries_failed_by_error_total"):
        check(family in fams, "family %s in /metrics" % family, sorted(fams))
    check(value(fams, "norikv_topology_current_epoch") > 0, "a view epoch", "")
    eq(value(fams, "norikv_topology_view_live"), 1.0, "the view live")
    eq(value(fams, "norikv_sidecar_ready"), 1.0, "ready")
    for addr in E.dn.addrs:
        eq(value(fams, "norikv_node_up", node=addr), 1.0, "node %s up" % addr)
    check(sum(v for _, _, v in fams["norikv_node_calls_total"]["samples"]) > 0,
          "calls counted per node", fams["norikv_node_calls_total"])


@test
def metrics_names_and_buckets():
    # What an operator's dashboards and alerts lean on: names that say each thing once,
    # counters rather than rates computed by the sidecar, and latency buckets fine where
    # the sidecar's commands end (1 to 5 ms).
    sc, where = metrics_sidecar()
    c = sc.client()
    c.set(key("names"), "v")
    code, text = http(where, "/metrics")
    fams = parse_metrics(text)
    for name in fams:
        words = name.split("_")
        check(all(a != b for a, b in zip(words, words[1:])), "no word twice in a row in a "
              "metric name", name)
        check(not name.endswith("_per_second"), "no precomputed rate (Prometheus derives "
              "rates from counters)", name)
    eq(fams.get("norikv_retries_total", {}).get("type"), "counter",
       "norikv_retries_total (attempts after a backoff), a counter")
    eq(fams.get("norikv_sidecar_commands_processed_total", {}).get("type"), "counter",
       "norikv_sidecar_commands_processed_total, a counter")
    les = [float(lab["le"]) for s, lab, _ in
           fams["norikv_sidecar_command_duration_seconds"]["samples"]
           if s.endswith("_bucket") and lab.get("command") == "set"]
    eq((les[0], les[-2], les[-1]), (0.0001, 10.0, math.inf), "the first and last buckets")
    fine = [le for le in les if 0.001 <= le <= 0.005]
    check(fine[0] == 0.001 and fine[-1] == 0.005 and
          all(b - a <= 0.0005 + 1e-12 for a, b in zip(fine, fine[1:])),
          "buckets at most 0.5 ms apart from 1 to 5 ms", fine)


def _proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M).group(1)) * 1024


@test
def metrics_process_series():
    # The process_* series every Prometheus client library exports, against what /proc
    # says of the sidecar's process.
    where = "127.0.0.1:%d" % reserve_ports(1)
    t0 = time.time()
    sc = Sidecar("process-sidecar", E.dn, "--metrics.listen=" + where)
    t1 = time.time()
    try:
        pid = sc.proc.pid
        code, text = http(where, "/metrics")
        eq(code, 200, "/metrics status")
        fams = parse_metrics(text)
        promtool_check(text)
        for name, t in (("process_cpu_seconds_total", "counter"),
                        ("process_resident_memory_bytes", "gauge"),
                        ("process_virtual_memory_bytes", "gauge"),
                        ("process_open_fds", "gauge"), ("process_max_fds", "gauge"),
                        ("process_start_time_seconds", "gauge")):
            eq(fams.get(name, {}).get("type"), t, "the type of %s" % name)
        rss = _proc_status(pid, "VmRSS")
        got = value(fams, "process_resident_memory_bytes")
        check(abs(got - rss) <= max(0.2 * rss, 4 << 20), "resident memory close to /proc's "
              "VmRSS (%d)" % rss, got)
        check(value(fams, "process_virtual_memory_bytes") >= got, "virtual memory at least the "
              "resident", value(fams, "process_virtual_memory_bytes"))
        start = value(fams, "process_start_time_seconds")
        check(t0 - 1 <= start <= t1 + 1, "the start time between %.1f and %.1f, when the "
              "test started the sidecar" % (t0, t1), start)
        fds = len(os.listdir("/proc/%d/fd" % pid))
        check(abs(value(fams, "process_open_fds") - fds) <= 3, "open descriptors close to "
              "/proc's count (%d)" % fds, value(fams, "process_open_fds"))
        with open("/proc/%d/limits" % pid) as f:
            soft = re.search(r"^Max open files\s+(\d+)", f.read(), re.M).group(1)
        eq(value(fams, "process_max_fds"), float(soft), "process_max_fds: the soft limit")
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        check(0 <= value(fams, "process_cpu_seconds_total") <= cpu + 0.05,
              "CPU time at most what /proc said after (%.2f s)" % cpu,
              value(fams, "process_cpu_seconds_total"))
    finally:
        stop(sc.proc)


@test
def metrics_health_and_errors():
    sc, where = metrics_sidecar()
    eq(http(where, "/healthz"), (200, "ok\n"), "/healthz")
    eq(http(where, "/readyz"), (200, "ready\n"), "/readyz with a view and nodes answering")
    code, body = http(where, "/nope")
    eq(code, 404, "an unknown path: 404 (%s)" % body)
    code, _ = http(where, "/metrics", method="POST")
    check(code in (405, 501), "POST refused (405 or 501)", code)
    eq(http(where, "/healthz")[0], 200, "the listener still serves after those")


@test
def metrics_on_a_unix_socket():
    path = os.path.join(E.tmp, "metrics.sock")
    sc = Sidecar("metrics-unix-sidecar", E.dn, "--metrics.listen=" + path)
    try:
        check(os.path.exists(path), "the metrics socket file", path)
        eq(oct(os.stat(path).st_mode & 0o777), oct(0o660), "the socket's mode")
        code, text = http(path, "/metrics")
        eq(code, 200, "/metrics on the socket")
        parse_metrics(text)
        eq(http(path, "/readyz"), (200, "ready\n"), "/readyz on the socket")
    finally:
        eq(stop(sc.proc), 0, "exit status after SIGTERM")
    check(not os.path.exists(path), "the metrics socket removed at exit", path)


@test
def metrics_on_every_address():
    # [::], as the Kubernetes example listens: one listener answering over IPv4 and IPv6.
    # The one test that listens beyond loopback, for the fraction of a second it takes.
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        raise Skip("no IPv6 on this machine")
    port = reserve_ports(1)
    sc = Sidecar("dual-stack-sidecar", E.dn, "--metrics.listen=[::]:%d" % port)
    try:
        eq(http("127.0.0.1:%d" % port, "/healthz"), (200, "ok\n"), "/healthz over IPv4")
        eq(http("[::1]:%d" % port, "/healthz"), (200, "ok\n"), "/healthz over IPv6")
    finally:
        stop(sc.proc)


@test
def metrics_listen_refused():
    r = run([SIDECAR, "-t", "--metrics.listen=localhost:9121"])
    check(r.rc != 0 and "metrics.listen" in r.out + r.err and "IP address" in r.out + r.err,
          "-t to refuse a host name for metrics.listen, saying why", r)


@test
def metrics_listen_on_a_regular_file():
    # What -t says and what a start does agree: a file that is not a socket at [metrics]
    # listen's path stops the start, and the file is left as it was.
    path = os.path.join(E.tmp, "metrics-plain-file")
    with open(path, "w") as f:
        f.write("keep me\n")
    args = ["--sidecar.listen=" + os.path.join(E.tmp, "plain-metrics.sock"),
            "--cluster.nodes=" + E.dn.nodes, "--metrics.listen=" + path]
    r = run([SIDECAR, "-t"] + args)
    check(r.rc == 1 and path in r.err and "not a socket" in r.err,
          "-t to say a regular file at metrics.listen would stop the start", r)
    r = run([SIDECAR] + args, timeout=5)
    check(r.rc == 1 and not r.timed_out and "not a socket" in r.err,
          "the sidecar to refuse to start with a regular file at metrics.listen, saying why", r)
    with open(path) as f:
        eq(f.read(), "keep me\n", "the regular file at metrics.listen, left as it was")


# ---- readiness and failing fast ---------------------------------------------------------

def outage_cluster():
    """A devnode cluster of its own and a sidecar with metrics on it, 1 s operations."""
    if "outage" not in _metrics:
        dn = Devnode("outage-devnode")
        port = reserve_ports(1)
        where = "127.0.0.1:%d" % port
        sc = Sidecar("outage-sidecar", dn, "--metrics.listen=" + where,
                     "--cluster.timeout_ms=3000")
        _metrics["outage"] = (dn, sc, where)
    return _metrics["outage"]


def _set_ok(c, k, v):
    try:
        return c.set(k, v) is True
    except redis.ResponseError:
        return False


@test
def readiness_flips_with_the_cluster():
    dn, sc, where = outage_cluster()
    c = sc.client()
    k = key("ready")
    wait_for(lambda: _set_ok(c, k, "before"), 10, "SET before the outage")
    eq(http(where, "/readyz"), (200, "ready\n"), "/readyz before the outage")
    try:
        for n in (1, 2, 3):
            dn.control("kill %d" % n)

        def not_ready():
            code, body = http(where, "/readyz")
            return (code, body) if code == 503 else None
        code, body = wait_for(not_ready, 10, "/readyz to answer 503 with every node killed")
        check("cluster view lost" in body or "marked down" in body,
              "the reason in the body (view lost or nodes down)", body)
        eq(http(where, "/healthz"), (200, "ok\n"), "/healthz while the cluster is down")
    finally:
        for n in (1, 2, 3):
            dn.control("revive %d" % n)
    wait_for(lambda: http(where, "/readyz") == (200, "ready\n"), 15,
             "/readyz back to 200 after the nodes were revived")
    wait_for(lambda: _set_ok(c, k, "after"), 15, "SET after the outage")


@test
def fail_fast_when_every_node_is_down():
    dn, sc, where = outage_cluster()
    c = sc.client()
    k = key("fast")
    log_start = len(_read(sc.log))
    wait_for(lambda: _set_ok(c, k, "before"), 10, "SET before the outage")
    try:
        for n in (1, 2, 3):
            dn.control("kill %d" % n)
        # the first commands find the nodes gone and mark them down (3 failures each)

        def marked_down():
            try:
                c.set(k, "during")
            except redis.ResponseError as e:
                return "marked down" in str(e)
            return False
        wait_for(marked_down, 20, "a SET answered with every node marked down", interval=0.01)
        times = []
        for i in range(5):
            t0 = time.monotonic()
            try:
                got = c.get(k)
                raise Fail("GET with every node down to fail; it returned %r" % got)
            except redis.ResponseError as e:
                times.append(time.monotonic() - t0)
                check(str(e).startswith("UNAVAILABLE every node of the cluster is marked down")
                      and "last: " in str(e), "UNAVAILABLE with the cause", str(e))
        check(sorted(times)[2] < 0.05, "answers in under 50 ms with every node marked down",
              ["%.1f ms" % (t * 1000) for t in times])
        _, text = http(where, "/metrics")
        fams = parse_metrics(text)
        check(value(fams, "norikv_retries_fail_fast_total") >= 1, "fail_fast counted", "")
        eq(value(fams, "norikv_pool_nodes_down"), 3.0, "three nodes down")
        eq(c.ping(), True, "PING while the cluster is down")
    finally:
        for n in (1, 2, 3):
            dn.control("revive %d" % n)
    wait_for(lambda: _set_ok(c, k, "after"), 15, "SET after the nodes came back")
    wait_for(lambda: c.get(k) == b"after", 15, "GET to read the value written after")
    log = _read(sc.log)[log_start:]
    # one burst: each event once, however many commands met it
    eq(len(re.findall(r"every node of the cluster \(3\) is unreachable", log)), 1,
       "lines saying every node is unreachable")
    for addr in dn.addrs:
        check(len(re.findall(r"node %s marked down" % re.escape(addr), log)) <= 1,
              "at most one 'marked down' line for %s in the burst" % addr, log[-2000:])


# ---- INFO ---------------------------------------------------------------------------------

@test
def info_latency_error_and_memory():
    sc = E.sc
    c = sc.client()
    k = key("info")
    c.set(k, "x")
    c.get(k)
    for _ in range(3):
        try:
            c.execute_command("INCR", k)  # not an integer
        except redis.ResponseError:
            pass
    lat = sc.info("latencystats")
    check(re.search(r"^latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},"
                    r"p99\.9=\d+\.\d{3}\r$", lat, re.M), "a latencystats line for GET", lat)
    m = re.search(r"^latency_percentiles_usec_set:p50=([\d.]+),p99=([\d.]+),p99\.9=([\d.]+)",
                  lat, re.M)
    check(m and 0 < float(m.group(1)) <= float(m.group(2)) <= float(m.group(3)),
          "SET's percentiles positive and in order", lat)
    err = sc.info("errorstats")
    m = re.search(r"^errorstat_ERR:count=(\d+)\r$", err, re.M)
    check(m and int(m.group(1)) >= 3, "errorstat_ERR counting the failed INCRs", err)
    mem = sc.info("memory")
    for f in ("used_memory", "used_memory_rss", "used_memory_peak"):
        check(int(info_field(mem, f)) > 0, "%s above 0" % f, mem)
    check(re.fullmatch(r"\d+(\.\d\d)?[BKMGT]", info_field(mem, "used_memory_human")),
          "used_memory_human as redis-cli prints sizes", mem)
    default = sc.info("default")
    check("# Memory" in default and "# Errorstats" in default and "# Latencystats" not in default,
          "INFO's default sections as Redis 7 (memory, errorstats; latencystats only asked)",
          default)


@test
def redis_cli_stat_reads_memory():
    # stdbuf: redis-cli's rows reach the pipe as they are printed, not at a buffer's end
    p = subprocess.Popen(["stdbuf", "-oL", REDIS_CLI, "-s", E.sc.sock, "--stat", "-i", "0.2"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _procs.append(p)
    try:
        time.sleep(1.2)
    finally:
        stop(p, signal.SIGINT)
    out = p.stdout.read().decode("utf-8", "replace")
    rows = [l.split() for l in out.splitlines() if re.match(r"^\s*\d+\s", l)]
    check(rows, "redis-cli --stat to print rows", out)
    # columns: keys, mem, clients, blocked, requests, connections
    check(all(re.fullmatch(r"[\d.]+[BKMGT]", r[1]) and r[1] != "0B" for r in rows),
          "the mem column to read a real size", out)


# ---- logs ---------------------------------------------------------------------------------

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z norikv-sidecar\[(\d+)\]: "
                       r"(error|warning|notice|info|debug): .+$")


@test
def logs_text_json_and_bursts():
    sc = Sidecar("logs-sidecar", E.dn, "--sidecar.max_clients=2",
                 "--sidecar.requirepass=logs-secret", password="logs-secret")
    held = [sc.conn(), sc.conn()]
    for c in held:
        eq(c.cmd("AUTH", "logs-secret"), "OK", "AUTH")
    for _ in range(6):  # a burst of clients turned away
        with sc.conn() as c:
            c.rest_until_close(5)
    for c in held:
        c.close()

    def auth_free():
        with sc.conn() as c:
            return c.cmd("AUTH", "logs-secret") == "OK"
    wait_for(auth_free, 5, "a slot free again")
    with sc.conn() as c:
        for _ in range(5):  # a burst of wrong passwords
            check(c.cmd("AUTH", "wrong").startswith("WRONGPASS"), "WRONGPASS", "")
    stop(sc.proc)
    lines = _read(sc.log).splitlines()
    for l in lines:
        m = TEXT_LINE.match(l)
        check(m and int(m.group(1)) == sc.proc.pid, "time, program, PID and level on each line",
              l)
    eq(sum("turned a client away" in l for l in lines), 1,
       "lines for a burst of 6 clients turned away")
    eq(sum("with a wrong password" in l for l in lines), 1,
       "lines for a burst of 5 wrong passwords")

    js = Sidecar("json-sidecar", E.dn, "--log.format=json")
    js.cli("PING")
    stop(js.proc)
    lines = _read(js.log).splitlines()
    check(lines, "log lines in JSON", lines)
    for l in lines:
        o = json.loads(l)
        eq(sorted(o), ["level", "message", "pid", "program", "time"], "the JSON fields")
        eq(o["pid"], js.proc.pid, "pid")
        eq(o["program"], "norikv-sidecar", "program")
    check(any(json.loads(l)["message"].startswith("ready: clients on") for l in lines),
          "the ready line among them", lines)


@test
def logs_reload_names_the_keys():
    conf = os.path.join(E.tmp, "reload.conf")
    sock = os.path.join(E.tmp, "reload.sock")

    def write(fmt):
        with open(conf, "w") as f:
            f.write("[sidecar]\nlisten = %s\n[cluster]\nnodes = %s\n[log]\nformat = %s\n" %
                    (sock, E.dn.nodes, fmt))
    write("text")
    log = os.path.join(E.tmp, "reload.log")
    p = spawn([SIDECAR, "-c", conf], log)
    try:
        def serves():
            with Conn(sock) as c:
                return c.cmd("PING") == "PONG"
        wait_for(serves, 15, "the sidecar with -c to serve")
        write("json")
        p.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload: 1 key changed (log.format)" in _read(log), 10,
                 "a JSON line saying the reload changed log.format")
        last = _read(log).splitlines()[-1]
        eq(json.loads(last)["message"], "reload: 1 key changed (log.format)", "the reload line")
    finally:
        stop(p)


# ---- drain ----------------------------------------------------------------------------------

@test
def drain_serves_a_client_that_connects_late():
    port = reserve_ports(1)
    where = "127.0.0.1:%d" % port
    sc = Sidecar("late-sidecar", E.dn, "--sidecar.drain_accept_ms=1500",
                 "--sidecar.drain_timeout=2", "--metrics.listen=" + where)
    k = key("late")
    eq(sc.client().set(k, "early"), True, "SET before SIGTERM")
    t0 = time.monotonic()
    sc.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    code, body = http(where, "/readyz")
    eq((code, body.startswith("draining")), (503, True), "/readyz while draining (%s)" % body)
    c = sc.client()  # a new connection, 0.5 s after SIGTERM
    eq(c.get(k), b"early", "GET from a client that connected during drain_accept_ms")
    eq(c.set(k, "late"), True, "SET from it")
    c.close()
    try:
        rc = sc.proc.wait(8)
    except subprocess.TimeoutExpired:
        raise Fail("the sidecar to exit after drain_accept_ms; it did not")
    took = time.monotonic() - t0
    _procs.remove(sc.proc)
    eq(rc, 0, "exit status after the drain")
    check(1.4 <= took < 1.5 + 2 + 1, "exit after the 1.5 s accept window (and not much later)",
          "%.2f s" % took)
    check(not os.path.exists(sc.sock), "the socket file removed", sc.sock)
    log = _read(sc.log)
    check("still accepting clients for 1500 ms" in log, "the drain window logged", log[-800:])
    eq(E.sc.client().get(k), b"late", "the late client's write")



@test
def drain_timeout_bounds_the_wait():
    sc = Sidecar("bounded-sidecar", E.dn, "--sidecar.drain_timeout=1")
    k = key("bounded")
    try:
        with sc.conn() as c:
            eq(c.cmd("SET", k, "v"), "OK", "SET")
            E.dn.control("latency 0 4000")
            c.send(encode("GET", k))
            time.sleep(0.3)  # the GET is held by the cluster
            t0 = time.monotonic()
            sc.proc.send_signal(signal.SIGTERM)
            try:
                rc = sc.proc.wait(8)
            except subprocess.TimeoutExpired:
                raise Fail("the sidecar to exit about drain_timeout (1 s) after SIGTERM")
            took = time.monotonic() - t0
            _procs.remove(sc.proc)
            eq(rc, 0, "exit status")
            check(0.9 <= took < 3.0, "exit after drain_timeout=1 although the GET was held 4 s",
                  "%.2f s" % took)
        check("1 s passed with commands in flight: exiting anyway" in _read(sc.log),
              "the log to say the drain gave up", _read(sc.log)[-600:])
    finally:
        E.dn.control("clear")
        stop(sc.proc)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
