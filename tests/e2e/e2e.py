#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar with real Redis clients.

Starts its own three-node norikv-devnode clusters (loopback, random free ports) and
norikv-sidecar instances (Unix sockets in a fresh temporary directory), then drives them
with redis-cli, redis-benchmark, redis-py (RESP2) and raw sockets, as users and client
libraries do. Every test runs on its own, a failure prints what was expected and what came,
and the run ends with one line `N passed, M failed` (exit status 1 when M > 0).

Usage: tests/e2e.py [-v] [NAME-SUBSTRING ...]

Binaries come from NORIKV_DEVNODE, NORIKV_SIDECAR and NORIKV_CLI (default ./norikv-devnode,
./norikv-sidecar, ./norikv-cli). Every process started here is stopped on any exit: normal
end, an exception, SIGINT, SIGTERM or SIGHUP; the kernel kills them if this process dies.
"""

import atexit
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import redis
except ImportError:  # tests/e2e.sh checks this first and skips
    sys.stderr.write("e2e.py: the redis module (Debian: python3-redis) is missing\n")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
DEVNODE = os.path.abspath(os.environ.get("NORIKV_DEVNODE", "./norikv-devnode"))
SIDECAR = os.path.abspath(os.environ.get("NORIKV_SIDECAR", "./norikv-sidecar"))
CLI = os.path.abspath(os.environ.get("NORIKV_CLI", "./norikv-cli"))
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "redis-benchmark"
VERBOSE = False
TEST_TIMEOUT = 45  # seconds any one test may take
RUN = "%x" % random.getrandbits(32)  # keeps this run's keys apart

# ---- processes ------------------------------------------------------------------------

_libc = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    pass
_procs = []  # every Popen started here
_tmp = None
_cleaned = False


def _child_setup():
    # The kernel kills the child if this process (its parent thread) dies, even by SIGKILL.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setsid()  # own session: the terminal's Ctrl-C reaches only us; we stop it


def spawn(args, log_path, env=None):
    """Starts a long-lived process (from the main thread only) with output to log_path."""
    assert threading.current_thread() is threading.main_thread()
    log = open(log_path, "wb")
    try:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=_child_setup, close_fds=True, env=env)
    finally:
        log.close()
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=5.0):
    """Stops p: sig, then SIGKILL after `wait` seconds. Returns its exit status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    if p in _procs:
        _procs.remove(p)
    return p.returncode


class Result:
    def __init__(self, rc, out, err, timed_out):
        self.rc, self.out, self.err, self.timed_out = rc, out, err, timed_out

    def __repr__(self):
        return "exit %s%s, stdout %r, stderr %r" % (
            self.rc, " (killed at the timeout)" if self.timed_out else "",
            _short(self.out), _short(self.err))


def run(args, stdin=None, timeout=20.0, text=True):
    """Runs a short command to completion, bounded by timeout; kills it on any exception."""
    p = subprocess.Popen(args, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_child_setup,
                         close_fds=True)
    _procs.append(p)
    timed_out = False
    try:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        try:
            out, err = p.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            p.kill()
            out, err = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        _procs.remove(p)
    if text:
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
    return Result(p.returncode, out, err, timed_out)


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, signal.SIG_IGN)  # finish cleaning up whatever comes
        except (ValueError, OSError):
            pass
    signal.setitimer(signal.ITIMER_REAL, 0)
    for p in list(reversed(_procs)):  # sidecars before the devnodes they use
        if p.poll() is None:
            try:
                p.terminate()
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in list(_procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    _procs.clear()
    if _tmp is not None and not os.environ.get("E2E_KEEP_TMP"):
        shutil.rmtree(_tmp, ignore_errors=True)


class Interrupted(BaseException):
    pass


class TestTimeout(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def _on_alarm(signum, frame):
    raise TestTimeout("the test did not finish within %d s" % TEST_TIMEOUT)


# ---- failures -------------------------------------------------------------------------

class Fail(Exception):
    pass


def _short(v, n=600):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "...(%d more)" % (len(s) - n)


def check(cond, expected, got):
    if not cond:
        got = got if isinstance(got, str) else repr(got)
        raise Fail("expected %s; got %s" % (expected, _short(got)))


def eq(got, want, what):
    if got != want:
        raise Fail("%s: expected %s; got %s" % (what, _short(repr(want)), _short(repr(got))))


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
            if last:
                return last
        except (OSError, EOFError, redis.RedisError) as e:
            last = e
        if time.monotonic() > deadline:
            raise Fail("%s within %.1f s; last seen %s" % (what, timeout, _short(repr(last))))
        time.sleep(interval)


# ---- RESP over a raw socket -----------------------------------------------------------

class Status(str):
    """+simple string"""


class Error(str):
    """-error"""


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A client connection over a Unix socket that speaks RESP by hand."""

    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, *args):
        self.send(encode(*args))
        return self.reply()

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("the server closed the connection")
        if self.pos > 0:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += d

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _bytes(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode())
        if t == b"-":
            return Error(rest.decode())
        if t == b":":
            return int(rest)
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None
            data = self._bytes(n)
            return Error(data.decode()) if t == b"!" else data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return dict((self._key(self.reply()), self.reply()) for _ in range(n))
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        raise Fail("unparsable reply line %r" % line)

    @staticmethod
    def _key(k):
        return k.decode() if isinstance(k, bytes) else k

    def raw_reply_line(self):
        return self._line()

    def rest_until_close(self, timeout=5.0):
        """Everything the server sends until it closes; raises Fail if it does not close."""
        self.s.settimeout(timeout)
        data = bytes(self.buf[self.pos:])
        self.buf, self.pos = bytearray(), 0
        deadline = time.monotonic() + timeout
        while True:
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                raise Fail("the connection to stay open no longer than %.0f s after the "
                           "error; it stayed open, having sent %r" % (timeout, data))
            except ConnectionResetError:
                return data
            if not d:
                return data
            data += d
            if time.monotonic() > deadline:
                raise Fail("the server to close the connection; it kept sending %r" % data[-200:])


def info_field(text, field):
    m = re.search(r"^%s:(.*?)\r?$" % re.escape(field), text, re.M)
    return m.group(1) if m else None


# ---- the cluster and the sidecars -----------------------------------------------------

def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Devnode:
    def __init__(self, name, nodes=3):
        self.name = name
        self.ctl = os.path.join(_tmp, name + "-ctl.sock")
        last = ""
        for attempt in range(12):
            base = random.randint(20000, 32000)  # below the kernel's ephemeral range
            if not all(_port_free(base + i) for i in range(nodes)):
                continue
            self.log = os.path.join(_tmp, "%s-%d.log" % (name, attempt))
            p = spawn([DEVNODE, "--nodes", str(nodes), "--base-port", str(base),
                       "--control", self.ctl], self.log)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and p.poll() is None:
                if _read(self.log).count("ready on") >= nodes:
                    break
                time.sleep(0.05)
            if p.poll() is None and _read(self.log).count("ready on") >= nodes:
                self.proc, self.base = p, base
                self.addrs = ["127.0.0.1:%d" % (base + i) for i in range(nodes)]
                self.nodes = ",".join(self.addrs)
                wait_for(lambda: os.path.exists(self.ctl), 10, "the devnode's control socket")
                return
            last = _read(self.log)[-500:]
            stop(p, wait=3)
        raise RuntimeError("norikv-devnode did not start after 12 tries; last output: " + last)

    def control(self, line, timeout=20.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.ctl)
            s.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                d = s.recv(65536)
                if not d:
                    break
                data += d
        finally:
            s.close()
        answer = data.decode().strip()
        if not answer.startswith("OK"):
            raise Fail("devnode control %r to answer OK; got %r" % (line, answer))
        return answer[2:].strip()

    def stats(self):
        return json.loads(self.control("stats"))


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Sidecar:
    count = 0

    def __init__(self, name, devnode, *opts, password=None, ready=True):
        Sidecar.count += 1
        self.name = name
        self.password = password
        self.sock = os.path.join(_tmp, "%s.sock" % name)
        self.log = os.path.join(_tmp, "%s-%d.log" % (name, Sidecar.count))
        self.args = [SIDECAR, "--sidecar.listen=" + self.sock, "--cluster.nodes=" + devnode.nodes]
        self.args += list(opts)
        self.proc = spawn(self.args, self.log)
        if ready:
            self.wait_ready()

    def wait_ready(self, timeout=20.0):
        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("norikv-sidecar %s exited with %s: %s" % (
                    self.name, self.proc.returncode, _read(self.log)[-800:]))
            if not os.path.exists(self.sock):
                return False
            with Conn(self.sock, timeout=5) as c:
                if self.password:
                    c.cmd("AUTH", self.password)
                text = c.cmd("INFO", "cluster")
                return isinstance(text, bytes) and b"norikv_view:yes" in text
        wait_for(up, timeout, "norikv-sidecar %s to serve with a cluster view" % self.name)

    def client(self, **kw):
        kw.setdefault("socket_timeout", 20)
        kw.setdefault("socket_connect_timeout", 5)
        if self.password:
            kw.setdefault("password", self.password)
        return redis.Redis(unix_socket_path=self.sock, **kw)

    def conn(self, timeout=10.0):
        return Conn(self.sock, timeout)

    def cli(self, *args, stdin=None, opts=(), timeout=20.0):
        return run([REDIS_CLI, "-s", self.sock] + list(opts) + [str(a) for a in args],
                   stdin=stdin, timeout=timeout)

    def info(self, section):
        with self.conn() as c:
            if self.password:
                c.cmd("AUTH", self.password)
            text = c.cmd("INFO", section)
        return text.decode()

    def alive(self):
        return self.proc.poll() is None


def key(test, name=""):
    return "e2e:%s:%s:%s" % (RUN, test, name)


# ---- the tests ------------------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Env:
    """What the tests share: the main cluster and sidecar, and the others started lazily."""

    def __init__(self):
        self.dn = Devnode("devnode")
        self.sc = Sidecar("sidecar", self.dn)
        self._fault = None

    def fault_cluster(self):
        if self._fault is None:
            dn = Devnode("fault-devnode")
            self._fault = (dn, Sidecar("fault-sidecar", dn),
                           Sidecar("fault-sidecar-1s", dn, "--cluster.timeout_ms=1000"))
        return self._fault


E = None  # the Env


def cli_ok(res, want_out, what):
    """A redis-cli result: exit 0 and exactly want_out on stdout."""
    if res.rc != 0 or res.out != want_out:
        raise Fail("%s: expected exit 0 and stdout %r; got %r" % (what, want_out, res))


# ---- redis-cli ----

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
        (["TTL", key("x")], "ERR TTL is not supported: NoriKV does not expose a key's "
                            "remaining time to live"),
        (["PTTL", key("x")], "ERR PTTL is not supported: NoriKV does not expose a key's "
                             "remaining time to live"),
        (["DBSIZE"], "ERR DBSIZE is not supported: NoriKV cannot count keys"),
        (["SCAN", "0"], "ERR SCAN is not supported: NoriKV cannot enumerate keys"),
        (["FLUSHALL"], "ERR FLUSHALL is not supported: NoriKV has no way to drop every key"),
        (["MULTI"], "ERR MULTI is not supported: NoriKV has no transactions across keys"),
    ]
    for args, want in cases:
        cli_ok(E.sc.cli(*args), want + "\n\n", " ".join(args))


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


@test
def cli_nori_put_get_del():
    k = key("nori_put_get")
    r = E.sc.cli("NORI.PUT", k, "v1")
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m, "NORI.PUT to print the version as two integers", r)
    term, index = int(m.group(1)), int(m.group(2))
    cli_ok(E.sc.cli("NORI.GET", k), "v1\n%d\n%d\n" % (term, index), "NORI.GET after NORI.PUT")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "STALE_OK"), "v1\n%d\n%d\n" % (term, index),
           "NORI.GET CONSISTENCY STALE_OK")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "linearizable"),
           "v1\n%d\n%d\n" % (term, index), "NORI.GET CONSISTENCY linearizable")
    r = E.sc.cli("NORI.PUT", k, "v2", "IFMATCH", term, index)
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m and int(m.group(2)) > index,
          "NORI.PUT IFMATCH <current version> to print a newer version", r)
    cli_ok(E.sc.cli("NORI.GET", k), "v2\n%s\n%s\n" % (m.group(1), m.group(2)),
           "NORI.GET after the IFMATCH put")
    cli_ok(E.sc.cli("NORI.DEL", k), "1\n", "NORI.DEL")
    cli_ok(E.sc.cli("NORI.GET", k, opts=["--no-raw"]), "(nil)\n", "NORI.GET after NORI.DEL")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "strong"),
           "ERR unknown consistency level 'strong': expected lease, linearizable or stale_ok\n\n",
           "NORI.GET with an unknown level")
    r = E.sc.cli("NORI.PUT", k, "ttl", "TTL", "60000", "IDEMPOTENCY", "e2e-" + RUN)
    check(r.rc == 0 and re.fullmatch(r"\d+\n\d+\n", r.out), "NORI.PUT TTL IDEMPOTENCY to work", r)
    again = E.sc.cli("NORI.PUT", k, "other", "IDEMPOTENCY", "e2e-" + RUN)
    eq(again.out, r.out, "NORI.PUT replayed with the same idempotency key: the first version")
    cli_ok(E.sc.cli("GET", k), "ttl\n", "GET after the replayed NORI.PUT")


@test
def cli_nori_put_ifmatch_mismatch():
    k = key("nori_ifmatch")
    r1 = E.sc.cli("NORI.PUT", k, "a").out.split()
    r2 = E.sc.cli("NORI.PUT", k, "b", "IFMATCH", r1[0], r1[1]).out.split()
    check(len(r1) == 2 and len(r2) == 2, "two versions", (r1, r2))
    res = E.sc.cli("NORI.PUT", k, "c", "IFMATCH", r1[0], r1[1])
    cli_ok(res, "VERSIONMISMATCH expected %s:%s, current %s:%s\n\n" % (r1[0], r1[1], r2[0], r2[1]),
           "NORI.PUT IFMATCH <stale version>")
    cli_ok(E.sc.cli("GET", k), "b\n", "GET after the refused CAS")


@test
def cli_nori_put_ifmatch_missing():
    k = key("nori_ifmatch_missing")
    cli_ok(E.sc.cli("NORI.PUT", k, "v", "IFMATCH", "0", "5"),
           "VERSIONMISMATCH expected 0:5, key does not exist\n\n",
           "NORI.PUT IFMATCH on a missing key")
    cli_ok(E.sc.cli("EXISTS", k), "0\n", "EXISTS after the refused CAS")


@test
def cli_nori_shard():
    k = key("nori_shard")
    r = E.sc.cli("NORI.SHARD", k)
    m = re.fullmatch(r"(\d+)\n(127\.0\.0\.1:\d+)\n", r.out)
    check(r.rc == 0 and m, "NORI.SHARD to print a shard and a node address", r)
    shard, addr = int(m.group(1)), m.group(2)
    check(0 <= shard < 1024, "a shard in [0, 1024)", shard)
    node = int(E.dn.control("leader %d" % shard))
    eq(addr, E.dn.addrs[node - 1],
       "NORI.SHARD's leader vs the devnode's leader of shard %d" % shard)
    cli_ok(E.sc.cli("NORI.SHARD", k), r.out, "NORI.SHARD again (stable)")


@test
def cli_nori_topology():
    r = E.sc.cli("NORI.TOPOLOGY")
    lines = r.out.split("\n")
    check(r.rc == 0 and lines[:1] == ["epoch"] and lines[1].isdigit(),
          "NORI.TOPOLOGY to start with epoch <n>", r)
    eq(lines[2:4], ["total_shards", "1024"], "NORI.TOPOLOGY total_shards")
    eq(lines[4], "nodes", "NORI.TOPOLOGY's third field")
    nodes = lines[5:5 + 18]
    for i, addr in enumerate(E.dn.addrs):
        check(addr in nodes, "node %s in NORI.TOPOLOGY's nodes" % addr, nodes)
    eq(lines[23], "shards", "the field after the three nodes")
    shards = lines[24:24 + 2048]
    eq([int(s) for s in shards[0::2]], list(range(1024)), "shard ids 0..1023 in order")
    check(all(a in E.dn.addrs for a in shards[1::2]), "every shard led by one of the nodes",
          sorted(set(shards[1::2]))[:5])
    leader7 = int(E.dn.control("leader 7"))
    eq(shards[2 * 7 + 1], E.dn.addrs[leader7 - 1], "shard 7's leader vs the devnode's")


@test
def cli_nori_stats():
    r = E.sc.cli("NORI.STATS")
    lines = r.out.split("\n")
    check(r.rc == 0, "exit 0", r)
    for sec in ("pool", "router", "topology", "retries"):
        check(sec in lines, "section %s in NORI.STATS" % sec, r.out)
    fields = dict(zip(lines[lines.index("router") + 1::2], lines[lines.index("router") + 2::2]))
    eq(fields.get("total_shards"), "1024", "router total_shards")
    eq(fields.get("total_nodes"), "3", "router total_nodes")
    check("operations" in lines and "not_leader" in lines, "retries operations and not_leader",
          r.out)


@test
def cli_nori_consistency():
    cli_ok(E.sc.cli("NORI.CONSISTENCY"), "lease\n", "NORI.CONSISTENCY on a new connection")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "stale_ok"), "OK\n", "NORI.CONSISTENCY stale_ok")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "LINEARIZABLE"), "OK\n", "NORI.CONSISTENCY LINEARIZABLE")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "bogus"),
           "ERR unknown consistency level 'bogus': expected lease, linearizable or stale_ok\n\n",
           "NORI.CONSISTENCY bogus")
    # the level is the connection's own
    with E.sc.conn() as c:
        eq(c.cmd("NORI.CONSISTENCY", "stale_ok"), "OK", "NORI.CONSISTENCY stale_ok")
        eq(c.cmd("NORI.CONSISTENCY"), b"stale_ok", "NORI.CONSISTENCY on the same connection")
        with E.sc.conn() as other:
            eq(other.cmd("NORI.CONSISTENCY"), b"lease", "NORI.CONSISTENCY on another connection")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("NORI.CONSISTENCY"), b"lease", "NORI.CONSISTENCY after RESET")


@test
def cli_info_server():
    r = E.sc.cli("INFO", "server")
    text = r.out.replace("\r", "")
    check(r.rc == 0 and text.startswith("# Server\n"), "INFO server to start with '# Server'", r)
    v = info_field(text, "redis_version")
    check(v and re.fullmatch(r"\d+\.\d+\.\d+", v), "redis_version:<x.y.z>", text)
    eq(info_field(text, "loading"), "0", "loading")
    eq(info_field(text, "process_id"), str(E.sc.proc.pid), "process_id")
    eq(info_field(text, "unix_socket"), E.sc.sock, "unix_socket")


@test
def cli_info_cluster():
    r = E.sc.cli("INFO", "cluster")
    text = r.out.replace("\r", "")
    check(r.rc == 0 and text.startswith("# Cluster\n"), "INFO cluster to start with '# Cluster'", r)
    eq(info_field(text, "cluster_enabled"), "0", "cluster_enabled")
    eq(info_field(text, "norikv_nodes"), E.dn.nodes, "norikv_nodes")
    eq(info_field(text, "norikv_known_nodes"), "3", "norikv_known_nodes")
    r = E.sc.cli("INFO")
    for sec in ("# Server", "# Clients", "# Stats", "# Cluster"):
        check(sec in r.out, "section %r in the default INFO" % sec, r.out)


def top_level_commands():
    r = run([SIDECAR, "--commands"])
    rows = [l for l in r.out.split("\n") if l.startswith("| `")]
    return r, sorted(set(re.match(r"\| `([^ `]+)", l).group(1) for l in rows))


@test
def cli_command_count():
    r, names = top_level_commands()
    check(r.rc == 0 and len(names) > 10, "norikv-sidecar --commands to list commands", r)
    cli_ok(E.sc.cli("COMMAND", "COUNT"), "%d\n" % len(names),
           "COMMAND COUNT vs the %d top-level commands of --commands" % len(names))
    listed = sorted(E.sc.cli("COMMAND", "LIST").out.upper().split())
    eq(listed, names, "COMMAND LIST vs --commands")


@test
def cli_command_docs_get():
    r = E.sc.cli("COMMAND", "DOCS", "GET")
    lines = r.out.split("\n")
    check(r.rc == 0 and lines[0] == "get" and "summary" in lines,
          "COMMAND DOCS GET to name get and have a summary", r)
    summary = lines[lines.index("summary") + 1]
    check(len(summary) > 5, "a non-empty summary", summary)


@test
def command_docs_keys_are_bulk_strings():
    # Redis sends COMMAND DOCS field names as bulk strings; redis-cli asserts that they are
    # (cliCountCommands) when it loads the command docs, as it does on every stdin session.
    with E.sc.conn() as c:
        c.send(b"COMMAND DOCS get\r\n")
        lines = [c.raw_reply_line() for _ in range(4)]
    eq(lines, [b"*2", b"$3", b"get", b"*10"], "the first lines of COMMAND DOCS get")
    with E.sc.conn() as c:
        c.send(b"COMMAND DOCS get\r\n")
        for _ in range(4):
            c.raw_reply_line()
        eq(c.raw_reply_line(), b"$7", "the field name 'summary' as a bulk string")


@test
def cli_config_get():
    cli_ok(E.sc.cli("CONFIG", "GET", "save"), "save\n\n", "CONFIG GET save")
    cli_ok(E.sc.cli("CONFIG", "GET", "appendonly"), "appendonly\nno\n", "CONFIG GET appendonly")
    cli_ok(E.sc.cli("CONFIG", "GET", "sidecar.max_clients"), "sidecar.max_clients\n10000\n",
           "CONFIG GET sidecar.max_clients")
    cli_ok(E.sc.cli("CONFIG", "GET", "cluster.nodes"), "cluster.nodes\n%s\n" % E.dn.nodes,
           "CONFIG GET cluster.nodes")
    r = E.sc.cli("CONFIG", "GET", "retry.*")
    eq(r.out.split("\n")[0::2][:4], ["retry.max_attempts", "retry.initial_delay_ms",
                                      "retry.max_delay_ms", "retry.jitter_ms"],
       "CONFIG GET retry.* (a glob)")


@test
def cli_time():
    before = time.time()
    r = E.sc.cli("TIME")
    after = time.time()
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m, "TIME to print seconds and microseconds", r)
    t = int(m.group(1)) + int(m.group(2)) / 1e6
    check(before - 1 <= t <= after + 1, "a time between %.3f and %.3f" % (before, after), t)
    check(int(m.group(2)) < 1000000, "microseconds below 1000000", m.group(2))


@test
def cli_client_one_connection():
    name = "e2e-conn-" + RUN
    r = E.sc.cli(stdin="CLIENT SETNAME %s\nCLIENT GETNAME\nCLIENT ID\nCLIENT LIST\nCLIENT INFO\n"
                 % name)
    lines = r.out.split("\n")
    check(r.rc == 0 and len(lines) >= 5, "redis-cli reading commands from stdin to exit 0", r)
    eq(lines[0:2], ["OK", name], "CLIENT SETNAME then CLIENT GETNAME")
    cid = lines[2]
    check(cid.isdigit(), "CLIENT ID as an integer", cid)
    mine = [l for l in lines[3:] if l.startswith("id=%s " % cid)]
    check(len(mine) == 2, "this connection (id=%s) in CLIENT LIST and CLIENT INFO" % cid, r.out)
    for l in mine:
        check(" name=%s " % name in l, "name=%s in %r" % (name, l), l)


@test
def client_commands_raw():
    name = "raw-" + RUN
    with E.sc.conn() as c, E.sc.conn() as other:
        eq(c.cmd("CLIENT", "GETNAME"), None, "CLIENT GETNAME before SETNAME")
        eq(c.cmd("CLIENT", "SETNAME", name), "OK", "CLIENT SETNAME")
        eq(c.cmd("CLIENT", "GETNAME"), name.encode(), "CLIENT GETNAME")
        eq(c.cmd("CLIENT", "SETNAME", "has space"),
           "ERR Client names cannot contain spaces, newlines or special characters.",
           "CLIENT SETNAME with a space")
        cid = c.cmd("CLIENT", "ID")
        oid = other.cmd("CLIENT", "ID")
        check(isinstance(cid, int) and isinstance(oid, int) and cid != oid,
              "two different integer ids", (cid, oid))
        listing = c.cmd("CLIENT", "LIST").decode()
        check(re.search(r"^id=%d .* name=%s " % (cid, name), listing, re.M) and
              re.search(r"^id=%d " % oid, listing, re.M),
              "both connections in CLIENT LIST, this one named", listing)
        info = c.cmd("CLIENT", "INFO").decode()
        check(info.startswith("id=%d " % cid) and " name=%s " % name in info,
              "CLIENT INFO of this connection", info)
        eq(c.cmd("CLIENT", "NOSUCH"), "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.",
           "CLIENT NOSUCH")


@test
def client_kill_and_reset():
    with E.sc.conn() as c, E.sc.conn() as victim, E.sc.conn() as third:
        vid = victim.cmd("CLIENT", "ID")
        tid = third.cmd("CLIENT", "ID")
        eq(c.cmd("CLIENT", "KILL", "ID", str(vid)), 1, "CLIENT KILL ID of another client")
        try:
            got = victim.cmd("PING")
            raise Fail("the killed connection to be closed; PING answered %r" % (got,))
        except (EOFError, ConnectionError, OSError):
            pass
        eq(c.cmd("CLIENT", "KILL", "ID", str(vid)), 0, "CLIENT KILL ID of a gone client")
        eq(c.cmd("CLIENT", "KILL", "127.0.0.1:1"), "ERR No such client",
           "CLIENT KILL of an unknown address (old form)")
        eq(third.cmd("PING"), "PONG", "other clients are untouched")
        eq(c.cmd("CLIENT", "KILL", "ID", str(tid), "SKIPME", "yes"), 1, "CLIENT KILL ... SKIPME yes")
        # RESET: protocol 2 again, no name, default consistency
        c.cmd("HELLO", "3")
        c.cmd("CLIENT", "SETNAME", "before-reset")
        c.cmd("NORI.CONSISTENCY", "stale_ok")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("CLIENT", "GETNAME"), None, "no name after RESET")
        eq(c.cmd("NORI.CONSISTENCY"), b"lease", "default consistency after RESET")
        c.send(encode("GET", key("reset-missing")))
        eq(c._line(), b"$-1", "RESP2 null after RESET")


@test
def cli_select():
    cli_ok(E.sc.cli("SELECT", "0"), "OK\n", "SELECT 0")
    cli_ok(E.sc.cli("SELECT", "1"), "ERR DB index is out of range\n\n", "SELECT 1")
    cli_ok(E.sc.cli("SELECT", "x"), "ERR value is not an integer or out of range\n\n", "SELECT x")


@test
def cli_hello3():
    r = E.sc.cli("HELLO", "3", opts=["-3", "--no-raw"])
    want = ['1# "server" => "norikv-sidecar"', '3# "proto" => (integer) 3',
            '5# "mode" => "standalone"', '6# "role" => "master"', '7# "modules" => (empty array)']
    check(r.rc == 0 and all(w in r.out.split("\n") for w in want),
          "redis-cli -3 HELLO 3 to print a map with %s" % want, r)
    check(re.search(r'^2# "version" => "\d+\.\d+\.\d+"$', r.out, re.M), "the version in the map",
          r.out)
    cli_ok(E.sc.cli("GET", key("hello3", "missing"), opts=["-3", "--no-raw"]), "(nil)\n",
           "redis-cli -3 GET <missing>")
    k = key("hello3")
    cli_ok(E.sc.cli("SET", k, "v3", opts=["-3"]), "OK\n", "redis-cli -3 SET")
    cli_ok(E.sc.cli("MGET", k, key("hello3", "missing"), opts=["-3", "--no-raw"]),
           '1) "v3"\n2) (nil)\n', "redis-cli -3 MGET")


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


# ---- redis-benchmark ----

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
    r = run([REDIS_BENCHMARK, "-s", E.sc.sock, "-n", "300", "-c", "10", "-q"], timeout=60)
    check(not r.timed_out, "redis-benchmark's default run to finish within 60 s", r)
    lines = bench_lines(r.out + "\n" + r.err)
    for name in ("PING_INLINE", "PING_MBULK", "SET", "GET"):
        rps = rps_of(lines, name)
        check(rps and rps > 0, "a requests-per-second result for %s" % name, lines)
    errors = [l for l in lines if "Error" in l or "error" in l]
    check(any(re.search(r"Error from server: ERR unknown command 'INCR'", l) for l in errors),
          "the run to stop at INCR with 'unknown command'", errors or lines)
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


# ---- redis-py ----

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
    v = os.urandom(1 << 20)
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


# ---- raw protocol ----

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
    # MULTI is refused; a client that pipelines MULTI, commands, EXEC (redis-py, ioredis and
    # go-redis all do) sees EXEC fail and takes the transaction as not done, so the commands
    # it queued must not take effect either.
    k = key("multi")
    with E.sc.conn() as c:
        c.send(encode("MULTI") + encode("SET", k, "queued") + encode("EXEC"))
        first = c.reply()
        eq(first, "ERR MULTI is not supported: NoriKV has no transactions across keys", "MULTI")
        replies = [c.reply(), c.reply()]
        check(isinstance(replies[1], Error), "EXEC to fail", replies)
    eq(E.sc.client().get(k), None, "the key SET inside the refused MULTI (replies %r)" % replies)


@test
def info_commandstats():
    c = E.sc.client()
    before = _cmdstat(c, "get")
    k = key("cmdstat")
    c.get(k)
    c.get(k)
    try:
        c.execute_command("GET")
    except redis.ResponseError:
        pass
    after = _cmdstat(c, "get")
    delta = dict((f, after.get(f, 0) - before.get(f, 0)) for f in ("calls", "rejected_calls"))
    # as Redis counts them: a command refused before it runs (arity) is a rejected call,
    # not a call
    eq(delta, {"calls": 2, "rejected_calls": 1},
       "cmdstat_get changes after two GETs and one GET of the wrong arity")


def _cmdstat(c, name):
    v = c.info("commandstats").get("cmdstat_" + name, {})
    return v if isinstance(v, dict) else {}


# ---- auth ----

def auth_sidecar():
    if not hasattr(auth_sidecar, "sc"):
        auth_sidecar.sc = Sidecar("auth-sidecar", E.dn, "--sidecar.requirepass=secret",
                                  password="secret")
    return auth_sidecar.sc


@test
def auth_noauth_before_auth():
    a = auth_sidecar()
    with a.conn() as c:
        eq(c.cmd("GET", "k"), "NOAUTH Authentication required.", "GET before AUTH")
        eq(c.cmd("PING"), "NOAUTH Authentication required.", "PING before AUTH")
        eq(c.cmd("SET", "k", "v"), "NOAUTH Authentication required.", "SET before AUTH")
    r = a.cli("GET", "k")
    cli_ok(r, "NOAUTH Authentication required.\n\n", "redis-cli GET without -a")


@test
def auth_wrong_password():
    a = auth_sidecar()
    want = "WRONGPASS invalid username-password pair or user is disabled."
    with a.conn() as c:
        eq(c.cmd("AUTH", "wrong"), want, "AUTH wrong")
        eq(c.cmd("AUTH", "default", "secreT"), want, "AUTH default secreT")
        eq(c.cmd("AUTH", "someone", "secret"), want, "AUTH someone secret")
        eq(c.cmd("AUTH", "secretsecret"), want, "AUTH secretsecret")
        eq(c.cmd("GET", "k"), "NOAUTH Authentication required.", "GET after failed AUTHs")
    with a.client(password="nope") as c:
        try:
            c.ping()
            raise Fail("redis-py with a wrong password to fail")
        except redis.ResponseError as e:  # redis-py 4.3 has no class of its own for WRONGPASS
            eq(str(e), want, "redis-py's error for a wrong password")


@test
def auth_then_ok():
    a = auth_sidecar()
    k = key("auth")
    with a.conn() as c:
        eq(c.cmd("AUTH", "secret"), "OK", "AUTH secret")
        eq(c.cmd("PING"), "PONG", "PING after AUTH")
        eq(c.cmd("SET", k, "authed"), "OK", "SET after AUTH")
        eq(c.cmd("GET", k), b"authed", "GET after AUTH")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("GET", k), "NOAUTH Authentication required.", "GET after RESET")
    with a.conn() as c:
        eq(c.cmd("AUTH", "default", "secret"), "OK", "AUTH default secret")
        eq(c.cmd("GET", k), b"authed", "GET after AUTH default secret")


@test
def auth_hello3():
    a = auth_sidecar()
    with a.conn() as c:
        r = c.cmd("HELLO", "3")
        check(isinstance(r, Error) and r.startswith("NOAUTH HELLO must be called with the client "
                                                    "already authenticated"),
              "HELLO 3 without AUTH refused with NOAUTH", r)
        r = c.cmd("HELLO", "3", "AUTH", "default", "wrong")
        check(isinstance(r, Error) and r.startswith("WRONGPASS"), "HELLO 3 AUTH wrong: WRONGPASS",
              r)
        r = c.cmd("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "h3")
        check(isinstance(r, dict) and r.get("proto") == 3 and r.get("server") == b"norikv-sidecar",
              "a RESP3 map with proto 3", r)
        eq(c.cmd("GET", key("hello3-auth-missing")), None, "GET of a missing key (RESP3 null)")
        eq(c.cmd("CLIENT", "GETNAME"), b"h3", "the name HELLO set")
    r = a.cli("HELLO", "3", "AUTH", "default", "secret", opts=["--no-raw"])
    check(r.rc == 0 and '"proto"' in r.out, "redis-cli HELLO 3 AUTH default secret", r)


@test
def auth_redis_cli_a():
    a = auth_sidecar()
    k = key("auth-cli")
    cli_ok(a.cli("SET", k, "via-cli", opts=["-a", "secret", "--no-auth-warning"]), "OK\n",
           "redis-cli -a secret SET")
    cli_ok(a.cli("GET", k, opts=["-a", "secret", "--no-auth-warning"]), "via-cli\n",
           "redis-cli -a secret GET")
    r = a.cli("PING", opts=["-a", "wrong", "--no-auth-warning"])
    check("WRONGPASS" in r.out + r.err, "redis-cli -a wrong to show WRONGPASS", r)


@test
def auth_redis_py():
    a = auth_sidecar()
    c = a.client(password="secret")
    k = key("auth-py")
    eq(c.set(k, "py"), True, "SET with password")
    eq(c.get(k), b"py", "GET with password")
    c2 = redis.Redis(unix_socket_path=a.sock, socket_timeout=10)
    try:
        c2.get(k)
        raise Fail("redis-py without a password to fail")
    except redis.AuthenticationError as e:
        check("Authentication required" in str(e), "AuthenticationError 'Authentication required'",
              str(e))


# ---- limits ----

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


# ---- faults ----

@test
def fault_kill_and_revive_node():
    dn, sc, _ = E.fault_cluster()
    ok, failed, stop_flag = {}, [], threading.Event()
    counts = {}

    def writer(t):
        c = sc.client()
        i = 0
        while not stop_flag.is_set():
            k = key("fault", "t%d-%d" % (t, i))
            v = "%s-%d-%d" % (RUN, t, i)
            try:
                if c.set(k, v) is True:
                    ok[k] = v
            except redis.RedisError as e:
                failed.append(str(e))
            i += 1

    ths = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    for th in ths:
        th.start()
    try:
        time.sleep(0.8)
        counts["before"] = len(ok)
        dn.control("kill 1")
        time.sleep(2.0)
        counts["killed"] = len(ok)
        dn.control("revive 1")
        time.sleep(1.2)
    finally:
        stop_flag.set()
        for th in ths:
            th.join(25)
    check(not any(th.is_alive() for th in ths), "the writers to stop", "a writer hangs")
    counts["after"] = len(ok)
    if VERBOSE:
        print("  acknowledged writes: %r, failed %d" % (counts, len(failed)))
    check(counts["before"] > 20 and len(ok) > counts["killed"] > counts["before"],
          "writes to succeed before, during and after the outage", counts)
    c = sc.client()
    keys = list(ok)
    bad = []
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for k, v in zip(chunk, c.mget(chunk)):
            if v is None or v.decode() != ok[k]:
                bad.append((k, ok[k], v))
    check(not bad, "all %d acknowledged writes to read back (%d failed writes)" %
          (len(ok), len(failed)), bad[:5])
    st = dn.stats()
    eq(st["duplicate_applies"], 0, "devnode duplicate_applies (writes applied twice)")
    check(st["puts_applied"] >= len(ok), "puts_applied >= acknowledged writes",
          (st["puts_applied"], len(ok)))


@test
def fault_revived_node_serves_again():
    # Node 1 dies under load (the sidecar marks it down) and comes back; then shards are
    # moved to it, as a Raft leadership transfer does. The sidecar knows the new leaders
    # from the cluster view and the node answers: each write must go through at once
    # (within 2 s), not wait out the down-node probe pause while other nodes answer
    # NOT_LEADER until the deadline.
    dn, sc, _ = E.fault_cluster()
    c = sc.client()
    feeders, targets = [], []
    for i in range(400):
        k = key("revived", "%d" % i)
        shard = c.execute_command("NORI.SHARD", k)[0]
        if shard in [s for _, s in feeders + targets]:
            continue
        (feeders if len(feeders) < 8 else targets).append((k, shard))
        if len(targets) == 3:
            break
    for k, shard in feeders:
        dn.control("move %d 1" % shard)
    for k, shard in targets:
        dn.control("move %d 3" % shard)
    wait_for(lambda: all(c.set(k, "warm") for k, _ in feeders + targets), 10, "warm-up writes")
    stop_flag = threading.Event()

    def writer(t):
        w = sc.client(socket_timeout=10)
        n = 0
        while not stop_flag.is_set():
            try:
                w.set(feeders[(t + n) % len(feeders)][0], "w%d-%d" % (t, n))
            except redis.RedisError:
                pass
            n += 1

    ths = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    took = []
    dead = False
    try:
        dn.control("kill 1")
        dead = True
        for th in ths:
            th.start()
        time.sleep(2.5)
        dn.control("revive 1")
        dead = False
        time.sleep(0.5)
        stop_flag.set()
        for th in ths:
            th.join(15)
        if VERBOSE:
            print("  before the moves: " + _diag(sc))
        for k, shard in targets:
            dn.control("move %d 1" % shard)
        for k, shard in targets:
            t0 = time.monotonic()
            try:
                c.set(k, "after")
                took.append(round(time.monotonic() - t0, 3))
            except redis.ResponseError as e:
                raise Fail("SET to shard %d (moved to the revived node 1) to succeed; got %r "
                           "after %.2f s; sidecar %s" % (shard, str(e), time.monotonic() - t0,
                                                         _diag(sc)))
    finally:
        stop_flag.set()
        if dead:
            dn.control("revive 1")
    check(max(took) < 2.0, "each SET to a shard moved to the revived node within 2 s",
          "%s s; sidecar %s" % (took, _diag(sc)))


@test
def fault_failover_write_latency():
    # After a shard's leader dies, the devnode elects a new one within --election-ms
    # (300 ms) and pushes the new view; with the retry backoff (100, 200, 400 ms, each
    # + <= 100 ms jitter) a write to that shard completes in about 1 s. Six failovers in a
    # row (the victim revived after each, as a restarted node): each write within 2 s.
    dn, sc, _ = E.fault_cluster()
    c = sc.client()
    n = 0
    for rnd, victim in enumerate((2, 3, 1, 2, 3, 1)):
        keys = []
        while len(keys) < 3 and n < 3000:
            k = key("failover", "%d" % n)
            n += 1
            if int(dn.control("leader %d" % c.execute_command("NORI.SHARD", k)[0])) == victim:
                keys.append(k)
        if len(keys) < 3:  # node `victim` leads no shard now (revived): give it some
            keys = [key("failover", "m%d-%d" % (rnd, j)) for j in range(3)]
            for k in keys:
                dn.control("move %d %d" % (c.execute_command("NORI.SHARD", k)[0], victim))
        for k in keys:
            wait_for(lambda: c.set(k, "before") is True, 10, "SET before failover %d" % (rnd + 1))
        took = []
        dn.control("kill %d" % victim)
        try:
            for k in keys:
                t0 = time.monotonic()
                try:
                    c.set(k, "after-%d" % rnd)
                except redis.ResponseError as e:
                    shard = c.execute_command("NORI.SHARD", k)
                    raise Fail("failover %d (node %d killed): SET to succeed; got %r after %.2f s; "
                               "shard %s led by node %s, by %r for the sidecar; sidecar %s" % (
                                   rnd + 1, victim, str(e), time.monotonic() - t0, shard[0],
                                   dn.control("leader %d" % shard[0]), shard[1], _diag(sc)))
                took.append(round(time.monotonic() - t0, 3))
        finally:
            dn.control("revive %d" % victim)
        check(max(took) < 2.0, "failover %d (node %d killed): each SET to its shards within 2 s"
              % (rnd + 1, victim), "%s s; sidecar %s" % (took, _diag(sc)))
        time.sleep(0.5)


def _diag(sc):
    """The sidecar's view of the cluster, for failure messages."""
    text = sc.info("pool") + sc.info("topology")
    return "; ".join(l for l in text.replace("\r", "").split("\n") if l and l[0] != "#")


@test
def fault_all_nodes_dead():
    dn, _, sc = E.fault_cluster()  # the sidecar with cluster.timeout_ms=1000
    c = sc.client()
    k = key("dead")
    eq(c.set(k, "before"), True, "SET before the outage")
    try:
        for n in (1, 2, 3):
            dn.control("kill %d" % n)
        t0 = time.monotonic()
        try:
            got = c.set(k, "during")
            raise Fail("SET with every node dead to fail; it returned %r" % got)
        except redis.ResponseError as e:
            took = time.monotonic() - t0
            check(re.match(r"(UNAVAILABLE|TIMEOUT) ", str(e)), "an UNAVAILABLE or TIMEOUT error",
                  str(e))
        check(took < 1.0 + 1.5, "the error within timeout_ms 1000 plus 1.5 s slack",
              "%.2f s" % took)
        t0 = time.monotonic()
        try:
            got = c.get(k)
            raise Fail("GET with every node dead to fail; it returned %r" % got)
        except redis.ResponseError as e:
            check(re.match(r"(UNAVAILABLE|TIMEOUT) ", str(e)), "an UNAVAILABLE or TIMEOUT error",
                  str(e))
        check(time.monotonic() - t0 < 2.5, "the GET error within 2.5 s", time.monotonic() - t0)
        eq(c.ping(), True, "PING while the cluster is down")
    finally:
        for n in (1, 2, 3):
            dn.control("revive %d" % n)

    def back():
        try:
            return c.set(k, "after") is True
        except redis.ResponseError:
            return False
    wait_for(back, 15, "SET to work again after every node came back")
    eq(c.get(k), b"after", "GET after recovery")


# ---- the daemon ----

def _conf_text():
    with open(os.path.join(SRCDIR, "conf", "norikv-sidecar.conf")) as f:
        return f.read()


@test
def daemon_config_check():
    good = os.path.join(_tmp, "good.conf")
    text = _conf_text()
    with open(good, "w") as f:
        f.write(text)
    r = run([SIDECAR, "-t", "-c", good])
    check(r.rc == 0, "norikv-sidecar -t with the shipped file to exit 0", r)
    lines = text.split("\n")
    ln = next(i for i, l in enumerate(lines) if re.match(r"max_clients\s*=", l)) + 1
    for bad_line, word in (("max_clients = lots", "lots"), ("max_clientz = 5", "max_clientz")):
        bad = os.path.join(_tmp, "bad.conf")
        bl = list(lines)
        bl[ln - 1] = bad_line
        with open(bad, "w") as f:
            f.write("\n".join(bl))
        r = run([SIDECAR, "-t", "-c", bad])
        msg = r.out + r.err
        check(r.rc != 0, "-t with %r to exit non-zero" % bad_line, r)
        check("%s:%d" % (bad, ln) in msg and word in msg,
              "the message to name %s:%d and %r" % (bad, ln, word), msg)
    r = run([SIDECAR, "-t", "--sidecar.max_clients=0"])
    check(r.rc != 0 and "max_clients" in r.out + r.err,
          "-t --sidecar.max_clients=0 to fail naming max_clients", r)


@test
def daemon_help_version():
    r = run([SIDECAR, "--help"])
    check(r.rc == 0 and "Usage: norikv-sidecar" in r.out, "--help: exit 0 and usage", r)
    r = run([SIDECAR, "--version"])
    check(r.rc == 0 and re.match(r"norikv-sidecar \d+\.\d+", r.out), "--version: exit 0", r)
    r = run([SIDECAR, "--no-such-option"])
    check(r.rc != 0, "an unknown option to exit non-zero", r)


@test
def daemon_print_config_is_conf_file():
    r = run([SIDECAR, "--print-config"])
    check(r.rc == 0, "--print-config to exit 0", r)
    want = _conf_text()
    if r.out != want:
        a, b = r.out.split("\n"), want.split("\n")
        i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        raise Fail("--print-config to equal conf/norikv-sidecar.conf; first difference at line "
                   "%d: %r vs %r (%d vs %d lines)" % (i + 1, a[i] if i < len(a) else None,
                                                     b[i] if i < len(b) else None, len(a), len(b)))


@test
def daemon_sigterm_with_idle_client():
    t = Sidecar("sigterm-sidecar", E.dn)
    with t.conn() as c:
        eq(c.cmd("PING"), "PONG", "PING")
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        try:
            rc = t.proc.wait(6)
        except subprocess.TimeoutExpired:
            stop(t.proc, signal.SIGKILL)
            raise Fail("the sidecar to exit within 6 s of SIGTERM with an idle client; it did not")
        took = time.monotonic() - t0
        _procs.remove(t.proc)
        eq(rc, 0, "exit status after SIGTERM (took %.2f s)" % took)
        check(not os.path.exists(t.sock), "the socket file removed", t.sock)
        try:
            eq(c.rest_until_close(2), b"", "the idle client's connection closed")
        except OSError:
            pass


@test
def daemon_sigterm_drains_in_flight():
    t = Sidecar("drain-sidecar", E.dn)
    k = key("drain")
    try:
        with t.conn() as c:
            eq(c.cmd("SET", k, "drained"), "OK", "SET")
            E.dn.control("latency 0 1200")
            c.send(encode("GET", k))
            time.sleep(0.3)  # the GET is held by the cluster
            t0 = time.monotonic()
            t.proc.send_signal(signal.SIGTERM)
            got = c.rest_until_close(8)
            eq(got, b"$7\r\ndrained\r\n", "the reply to the GET in flight at SIGTERM, then close")
            rc = t.proc.wait(8)
            _procs.remove(t.proc)
            eq(rc, 0, "exit status after the drain (%.2f s)" % (time.monotonic() - t0))
    finally:
        E.dn.control("clear")
        stop(t.proc)


@test
def daemon_sighup_reloads():
    conf = os.path.join(_tmp, "hup.conf")
    sock = os.path.join(_tmp, "hup.sock")

    def write(password):
        with open(conf, "w") as f:
            f.write("[sidecar]\nlisten = %s\nrequirepass = %s\n[cluster]\nnodes = %s\n" %
                    (sock, password, E.dn.nodes))
    write("")
    p = spawn([SIDECAR, "-c", conf], os.path.join(_tmp, "hup.log"))
    try:
        def serves():
            with Conn(sock) as c:
                return c.cmd("PING") == "PONG"
        wait_for(serves, 15, "the sidecar with -c to serve")
        write("hup-secret")
        p.send_signal(signal.SIGHUP)

        def needs_auth():
            with Conn(sock) as c:
                return c.cmd("GET", "k") == "NOAUTH Authentication required."
        wait_for(needs_auth, 5, "requirepass from the re-read file (SIGHUP) to apply")
        with Conn(sock) as c:
            eq(c.cmd("AUTH", "hup-secret"), "OK", "AUTH with the new password")
        check(p.poll() is None, "the sidecar to keep running after SIGHUP", p.returncode)
    finally:
        stop(p)


@test
def daemon_tcp_port_and_idle_timeout():
    port = next(x for x in (random.randint(20000, 32000) for _ in range(50)) if _port_free(x))
    t = Sidecar("tcp-sidecar", E.dn, "--sidecar.port=%d" % port, "--sidecar.timeout=1")
    try:
        r = run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), "PING"])
        cli_ok(r, "PONG\n", "redis-cli -h 127.0.0.1 -p <sidecar.port> PING")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        with s:
            s.sendall(b"PING\r\n")
            eq(s.recv(100), b"+PONG\r\n", "PING over TCP")
        with t.conn() as c:
            eq(c.cmd("PING"), "PONG", "PING")
            t0 = time.monotonic()
            got = c.rest_until_close(6)
            took = time.monotonic() - t0
        eq(got, b"", "nothing sent to the idle client before closing")
        check(0.9 <= took <= 4.0, "an idle client closed 1 s (sidecar.timeout=1) after its last "
              "command, within 4 s", "%.2f s" % took)
        with t.conn() as c:  # a busy client is not cut
            for _ in range(6):
                eq(c.cmd("PING"), "PONG", "PING every 0.4 s")
                time.sleep(0.4)
    finally:
        stop(t.proc)


@test
def daemon_second_sidecar_refused():
    args = [SIDECAR, "--sidecar.listen=" + E.sc.sock, "--cluster.nodes=" + E.dn.nodes]
    r = run(args, timeout=15)
    check(not r.timed_out and r.rc != 0, "a second sidecar on the same socket to exit non-zero", r)
    check(E.sc.sock in r.out + r.err, "its message to name the socket", r)
    check(os.path.exists(E.sc.sock), "the first sidecar's socket to stay", E.sc.sock)
    cli_ok(E.sc.cli("PING"), "PONG\n", "PING to the first sidecar")


@test
def daemon_readme_command_table():
    with open(os.path.join(SRCDIR, "README.md")) as f:
        readme = f.read()
    m = re.search(r"<!-- commands -->\n(.*?)<!-- /commands -->", readme, re.S)
    if not m:
        raise Fail("README.md to hold the command table between '<!-- commands -->' and "
                   "'<!-- /commands -->'; it has no such markers")
    r = run([SIDECAR, "--commands"])
    check(r.rc == 0, "--commands to exit 0", r)
    if m.group(1) != r.out:
        a, b = m.group(1).split("\n"), r.out.split("\n")
        diff = [(x, y) for x, y in zip(a, b) if x != y][:3]
        raise Fail("README's command table to equal norikv-sidecar --commands; differs: %r "
                   "(%d vs %d lines)" % (diff, len(a), len(b)))


# ---- norikv-cli ----

@test
def norikv_cli_sees_sidecar_writes():
    c = E.sc.client()
    k = key("cli-tool")
    c.set(k, "through the sidecar")
    r = run([CLI, "--nodes", E.dn.nodes, "get", k])
    eq((r.rc, r.out), (0, "through the sidecar\n"), "norikv-cli get of a key SET via the sidecar")
    k2 = key("cli-tool", "2")
    r = run([CLI, "--nodes", E.dn.nodes, "put", k2, "from norikv-cli"])
    check(r.rc == 0, "norikv-cli put", r)
    eq(c.get(k2), b"from norikv-cli", "GET via the sidecar of a key norikv-cli put")
    eq(c.delete(k), 1, "DEL via the sidecar")
    r = run([CLI, "--nodes", E.dn.nodes, "get", k])
    eq(r.rc, 1, "norikv-cli get exit status after the DEL (1: not found)")


# ---- main -----------------------------------------------------------------------------

def main(argv):
    global _tmp, E, VERBOSE
    args = [a for a in argv if a not in ("-v", "--verbose")]
    VERBOSE = len(args) != len(argv)
    for b in (DEVNODE, SIDECAR, CLI):
        if not os.access(b, os.X_OK):
            print("e2e.py: %s is missing: build first, or set NORIKV_DEVNODE, NORIKV_SIDECAR "
                  "and NORIKV_CLI" % b)
            print("0 passed, 1 failed")
            return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    atexit.register(cleanup)
    _tmp = tempfile.mkdtemp(prefix="norikv-e2e.")
    selected = [t for t in TESTS if not args or any(a in t.__name__ for a in args)]
    passed, failed = 0, []
    started = time.monotonic()
    try:
        try:
            E = Env()
        except Exception as e:
            print("FAIL setup: the devnode cluster and the sidecar to start; got %s" % e)
            print("0 passed, 1 failed")
            return 1
        for t in selected:
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
            try:
                t()
                signal.setitimer(signal.ITIMER_REAL, 0)
                passed += 1
                print("PASS %s (%.2f s)" % (t.__name__, time.monotonic() - t0), flush=True)
            except Exception as e:
                signal.setitimer(signal.ITIMER_REAL, 0)
                failed.append(t.__name__)
                kind = "" if isinstance(e, Fail) else "%s: " % type(e).__name__
                print("FAIL %s: %s%s" % (t.__name__, kind, e), flush=True)
                if VERBOSE or not isinstance(e, (Fail, TestTimeout)):
                    traceback.print_exc(file=sys.stdout)
            if not E.sc.alive():
                print("FAIL main sidecar: it exited (%s) during %s; its log ends: %s" % (
                    E.sc.proc.returncode, t.__name__, _read(E.sc.log)[-1000:]))
                failed.append("sidecar-alive")
                break
    except Interrupted as e:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("interrupted by %s" % e)
        cleanup()
        print("%d passed, %d failed" % (passed, len(failed) + 1))
        return 130 if str(e) == "SIGINT" else 143
    finally:
        cleanup()
    print("%.1f s; failed: %s" % (time.monotonic() - started, " ".join(failed) or "none"))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
