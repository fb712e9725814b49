"""What the end-to-end tests of norikv-sidecar share: processes, clusters, clients, the runner.

The tests themselves are in the topic files next to this one (test_*.py); each runs on its
own, as `make check` runs it:

    python3 tests/e2e/test_TOPIC.py [-v] [NAME-SUBSTRING ...]

A topic file starts its own three-node norikv-devnode cluster (loopback, free ports) and a
norikv-sidecar (a Unix socket in a fresh temporary directory), then drives them with
redis-cli, redis-benchmark, redis-py (RESP2) and raw sockets, as users and client libraries
do. Every test runs on its own, a failure prints what was expected and what came, and the
run ends with one line `N passed, M failed` (exit status 1 when M > 0).

Binaries come from NORIKV_DEVNODE, NORIKV_SIDECAR and NORIKV_CLI (default ./norikv-devnode,
./norikv-sidecar, ./norikv-cli); the source tree (README.md, conf/) is found from this file's
own path. With NORIKV_SERVER naming a norikv-server binary, NoriKV's own server runs in
place of the devnode (class Real; make check-real), and a test that needs the devnode
prints `SKIP name: reason` and counts as skipped. Every process started here is stopped on
any exit: normal end, an exception, SIGINT, SIGTERM or SIGHUP; the kernel kills them if
this process dies.

Topic files may run at the same time (make -j check): each has its own temporary
directory, its own keys (RUN) and ports from blocks no other run of these files holds (see
reserve_ports).
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
except ImportError:  # tests/e2e/run-py.sh checks this first and skips
    sys.stderr.write("harness.py: the redis module (Debian: python3-redis) is missing\n")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
DEVNODE = os.path.abspath(os.environ.get("NORIKV_DEVNODE", "./norikv-devnode"))
SIDECAR = os.path.abspath(os.environ.get("NORIKV_SIDECAR", "./norikv-sidecar"))
CLI = os.path.abspath(os.environ.get("NORIKV_CLI", "./norikv-cli"))
# NORIKV_SERVER=/path/to/norikv-server runs the topics against NoriKV's own server instead
# of the devnode: NORIKV_SERVER_NODES of them (1, the default, or 3 with seeds), see Real.
SERVER = os.environ.get("NORIKV_SERVER") or None
SERVER_NODES = int(os.environ.get("NORIKV_SERVER_NODES", "1"))
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "redis-benchmark"
# Debian's redis-server (packaging/install-deps): the reference that same_as_redis compares
# the sidecar's replies with
REDIS_SERVER = os.environ.get("NORIKV_REDIS_SERVER") or shutil.which("redis-server") or \
    "/usr/bin/redis-server"
# seconds any one test may take: more against the real server, whose every write waits for
# its next 150 ms commit tick
TEST_TIMEOUT = int(os.environ.get("NORIKV_E2E_TEST_TIMEOUT", "180" if os.environ.get(
    "NORIKV_SERVER") else "45"))
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


class Skip(Exception):
    """A test that cannot run here, with the reason (only against the real server)."""


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


PORT_LOW, PORT_HIGH = 20000, 32000  # below the kernel's ephemeral range
PORT_BLOCK = 8  # ports are claimed in blocks of this many
_port_claims = []  # the abstract Unix sockets that hold this process's blocks


def reserve_ports(count):
    """A base port b such that b .. b+count-1 (count <= PORT_BLOCK) are free on 127.0.0.1 and
    held by this process until it ends. Topic files run at the same time, and a test that
    kills a node frees that node's port until it revives it: so that no other topic file
    takes such a port meanwhile, each block of ports is claimed by binding the abstract Unix
    socket "norikv-e2e-ports-<block>", which one process at a time can hold and which the
    kernel lets go of when that process ends (no file is left behind)."""
    assert 0 < count <= PORT_BLOCK
    blocks = (PORT_HIGH - PORT_LOW) // PORT_BLOCK
    for _ in range(200):
        block = random.randrange(blocks)
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind("\0norikv-e2e-ports-%d" % block)
        except OSError:  # another run holds it
            claim.close()
            continue
        base = PORT_LOW + block * PORT_BLOCK
        if all(_port_free(base + i) for i in range(count)):
            _port_claims.append(claim)
            return base
        claim.close()  # busy: something else (not a topic file) uses a port of it
    raise RuntimeError("no block of %d free ports between %d and %d" % (count, PORT_LOW,
                                                                          PORT_HIGH))


# Devnode options every cluster of the run starts with (tests/e2e/friendly.sh runs the
# suite again with "--profile friendly"); a test's own switches come after and win.
PROFILE_ARGS = os.environ.get("NORIKV_E2E_DEVNODE_ARGS", "").split()
# Sidecar options every sidecar of the run starts with (tests/e2e/typed.sh runs the data
# topics again with "--sidecar.string_format=typed"); a test's own options come after and win.
SIDECAR_ARGS = os.environ.get("NORIKV_E2E_SIDECAR_ARGS", "").split()
TYPED = "--sidecar.string_format=typed" in SIDECAR_ARGS  # strings stored typed, TTLs known
# The longest string a SET stores: NoriKV's 1 MiB, less the typed format's 24-byte header
# when strings are typed
VALUE_MAX = 1048576 - (24 if TYPED else 0)
# The real profile's timings (writes answered on a 150 ms commit tick, 250 ms of NOT_LEADER
# from a fresh shard, 500 ms before it listens) are the server's; the suite runs with them
# off unless a profile is named, and `make check-real` runs it against the server itself.
FAST_TIMINGS = ["--commit-tick-ms", "0", "--fresh-shard-ms", "0", "--start-delay-ms", "0"]

# Devnode options that ask for what the real server does anyway: a test that passes only
# these runs against it too. Others are refused with the reason the server lacks them.
REAL_AS_IS = {"--no-vector", "--no-transfer-shard"}
REAL_LACKS = {
    "--tls-cert": "the server serves no TLS (its configuration has none)",
    "--vector": "the server does not serve the Vector service (UNIMPLEMENTED)",
    "--view": "the server's one-node view never moves a leader (the devnode's --view cluster "
              "and control socket do)",
}


def Devnode(name, nodes=3, args=()):
    """The cluster a test runs against: a norikv-devnode of `nodes` nodes started with args
    (more devnode options, e.g. ("--view", "cluster") for a test that needs one of the
    friendly profile's features; none runs the default, the real profile), or with
    NORIKV_SERVER set, real norikv-server nodes (a test asking for devnode options is then
    skipped, naming them)."""
    if SERVER:
        for a in args:
            if a in REAL_LACKS:
                raise Skip("needs the devnode's %s: %s" % (a, REAL_LACKS[a]))
            if a.startswith("--") and a not in REAL_AS_IS:
                raise Skip("needs the devnode's %s" % " ".join(args))
        return Real(name)
    return DevnodeProc(name, nodes, args)


class DevnodeProc:
    def __init__(self, name, nodes=3, args=()):
        self.name = name
        self.ctl = os.path.join(_tmp, name + "-ctl.sock")
        last = ""
        for attempt in range(12):
            base = reserve_ports(nodes)
            self.log = os.path.join(_tmp, "%s-%d.log" % (name, attempt))
            timings = [] if any(a.startswith("--profile") for a in PROFILE_ARGS + list(args)) \
                else FAST_TIMINGS
            p = spawn([DEVNODE, "--nodes", str(nodes), "--base-port", str(base),
                       "--control", self.ctl] + timings + PROFILE_ARGS + list(args), self.log)
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


class Real:
    """NoriKV's own norikv-server (NORIKV_SERVER), SERVER_NODES nodes on free loopback
    ports, each with its own data directory, configured by environment (the server reads
    NORIKV_NODE_ID, NORIKV_RPC_ADDR, NORIKV_HTTP_ADDR, NORIKV_DATA_DIR and
    NORIKV_SEED_NODES when the config file it is given does not exist). Three nodes are
    named node0..node2 and each is given all three addresses as seeds, as the server's
    multi-node mode expects (its peers are named by their index in the seed list). Nodes
    are ready when they log "NoriKV server is ready". The devnode's control commands are
    not there: control() skips the test, naming the command; the faults a real server can
    take are done to its processes (kill, pause, resume, restart on the same data)."""

    def __init__(self, name, nodes=None):
        self.name = name
        n = nodes or SERVER_NODES
        base = reserve_ports(2 * n)  # gRPC ports, then the HTTP ports
        self.addrs = ["127.0.0.1:%d" % (base + i) for i in range(n)]
        self.http = ["127.0.0.1:%d" % (base + n + i) for i in range(n)]
        self.nodes = ",".join(self.addrs)
        self.base = base
        self.procs = [None] * n
        self.logs = [None] * n
        self.starts = [0] * n
        for i in range(n):
            self._spawn(i)
        for i in range(n):
            self._wait(i)
        self.log = self.logs[0]
        self.proc = self.procs[0]

    def _spawn(self, i):
        env = dict(os.environ)
        env.update(NORIKV_NODE_ID="node%d" % i, NORIKV_RPC_ADDR=self.addrs[i],
                   NORIKV_HTTP_ADDR=self.http[i],
                   NORIKV_DATA_DIR=os.path.join(_tmp, "%s-node%d" % (self.name, i)))
        if os.environ.get("NORIKV_SERVER_PRELOAD"):  # tests/real/no_fallocate.c
            env["LD_PRELOAD"] = os.environ["NORIKV_SERVER_PRELOAD"]
        if len(self.addrs) > 1:
            env["NORIKV_SEED_NODES"] = self.nodes
        else:
            env.pop("NORIKV_SEED_NODES", None)
        self.starts[i] += 1
        self.logs[i] = os.path.join(_tmp, "%s-node%d-%d.log" % (self.name, i, self.starts[i]))
        # a config path that does not exist: the server then reads its environment
        self.procs[i] = spawn([SERVER, os.path.join(_tmp, "no-such-norikv.yaml")],
                              self.logs[i], env=env)

    def _wait(self, i, timeout=30.0):
        p = self.procs[i]

        def ready():
            if p.poll() is not None:
                raise RuntimeError("norikv-server %s node%d exited with %s: %s" % (
                    self.name, i, p.returncode, _read(self.logs[i])[-800:]))
            return "NoriKV server is ready" in _read(self.logs[i])
        wait_for(ready, timeout, "norikv-server %s node%d to be ready" % (self.name, i))

    def control(self, line, timeout=20.0):
        if line == "clear":  # no fault was set: nothing to clear
            return ""
        raise Skip("needs the devnode's fault injection (control %r)" % line)

    def stats(self):
        raise Skip("needs the devnode's counters (control 'stats')")

    def kill(self, i):
        """SIGKILL node i (0-based) and reap it."""
        stop(self.procs[i], signal.SIGKILL)

    def pause(self, i):
        self.procs[i].send_signal(signal.SIGSTOP)

    def resume(self, i):
        self.procs[i].send_signal(signal.SIGCONT)

    def restart(self, i):
        """Starts node i again on the same ports and data directory (after kill)."""
        if self.procs[i].poll() is None:
            self.kill(i)
        self._spawn(i)
        self._wait(i)


def kill_node(dn, n):
    """Node n (1-based) stops: the devnode's control `kill`, or SIGKILL to the real
    server's process."""
    if isinstance(dn, Real):
        dn.kill(n - 1)
    else:
        dn.control("kill %d" % n)


def revive_node(dn, n):
    """Node n (1-based) serves again: the devnode's `revive`, or the real server started
    again on its ports and data directory."""
    if isinstance(dn, Real):
        dn.restart(n - 1)
    else:
        dn.control("revive %d" % n)


def hang_nodes(dn, on):
    """Every node stops answering (calls hang: SIGSTOP to the real server's processes, whose
    kernel still accepts connections; a 10-minute latency on the devnode), or answers again."""
    if isinstance(dn, Real):
        for i in range(len(dn.addrs)):
            (dn.pause if on else dn.resume)(i)
    else:
        dn.control("latency 0 600000" if on else "clear")


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
        self.args += SIDECAR_ARGS + list(opts)
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


class RedisServer:
    """A redis-server of the run's own, on a Unix socket in the run's directory, no
    persistence, no TCP: the reference the sidecar's replies are compared with."""

    def __init__(self):
        self.sock = os.path.join(_tmp, "redis-server.sock")
        log = os.path.join(_tmp, "redis-server.log")
        self.proc = spawn([REDIS_SERVER, "--port", "0", "--unixsocket", self.sock,
                           "--save", "", "--appendonly", "no", "--dir", _tmp,
                           "--logfile", log], log)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: " + _read(log)[-800:])
            return os.path.exists(self.sock)
        wait_for(up, 10, "redis-server to listen")

    def conn(self, timeout=10.0):
        return Conn(self.sock, timeout)


def same_as_redis(cmds, what, protos=(2,), sc=None, near=()):
    """Runs each command (a tuple of arguments) on the sidecar (sc, else the main one) and on
    the local redis-server, in order, on one connection each (per protocol in protos, HELLO
    first for 3), and asserts that every reply is the same, errors word for word; the
    integer replies of the commands named in near (e.g. TTL, whose seconds depend on how
    long the writes before took) may differ by 1. Returns the replies."""
    got = []
    for proto in protos:
        with (sc or E.sc).conn() as a, E.redis().conn() as b:
            if proto == 3:
                eq(isinstance(a.cmd("HELLO", 3), dict), True, "HELLO 3 on the sidecar")
                b.cmd("HELLO", 3)
            for c in cmds:
                ra, rb = a.cmd(*c), b.cmd(*c)
                if (str(c[0]).upper() in near and isinstance(ra, int) and
                        isinstance(rb, int) and ra >= 0 and rb >= 0 and abs(ra - rb) <= 1):
                    ra = rb
                if ra != rb or type(ra) is not type(rb):
                    raise Fail("%s: %s (RESP%d): redis-server answered %s; the sidecar %s" % (
                        what, _short(repr(c), 200), proto, _short(repr(rb)),
                        _short(repr(ra))))
                got.append(ra)
    return got


def key(test, name=""):
    return "e2e:%s:%s:%s" % (RUN, test, name)


# ---- the tests ------------------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Env:
    """What the tests share: the main cluster and sidecar (main starts them before the first
    test), the others started lazily, the run's temporary directory and whether -v was given."""

    def __init__(self):
        self.tmp = None
        self.verbose = False
        self._fault = None
        self._clusters = {}
        self._redis = None

    def redis(self):
        """The run's redis-server, started on first use."""
        if self._redis is None:
            self._redis = RedisServer()
        return self._redis

    def start(self):
        self.dn = Devnode("devnode")
        self.sc = Sidecar("sidecar", self.dn)

    def fault_cluster(self):
        if self._fault is None:
            dn = Devnode("fault-devnode")
            self._fault = (dn, Sidecar("fault-sidecar", dn),
                           Sidecar("fault-sidecar-1s", dn, "--cluster.timeout_ms=1000"))
        return self._fault

    def cluster(self, name, *devnode_args):
        """A devnode started with devnode_args and a sidecar on it, started on first use and
        shared by the tests that ask for the same name."""
        if name not in self._clusters:
            dn = Devnode(name + "-devnode", args=devnode_args)
            self._clusters[name] = (dn, Sidecar(name + "-sidecar", dn))
        return self._clusters[name]


E = Env()  # the topic files import it; main starts it


def writes_overlap(dn, sock, name, hold_ms=1500):
    """Whether the sidecar at sock lets a write take effect while an earlier write of the
    same connection, to another key, is still held by the cluster, as another connection
    sees it. Two keys led by different nodes; the first one's node delays every call by
    hold_ms; one pipeline SETs the first key, then the second; a second connection polls
    the second key for 60% of hold_ms. Both SETs must answer OK, in order, and the second
    be seen in the end."""
    with Conn(sock) as c, Conn(sock) as watcher:
        by_node = {}
        for i in range(400):
            k = key(name, "%d" % i)
            node = int(dn.control("leader %d" % c.cmd("NORI.SHARD", k)[0]))
            if node > 0 and node not in by_node:
                by_node[node] = k
            if len(by_node) == 2:
                break
        check(len(by_node) == 2, "two keys led by different nodes", by_node)
        (slow_node, held), (_, free) = sorted(by_node.items())
        for k in (held, free):
            wait_for(lambda: c.cmd("SET", k, "before") == "OK", 10, "a first SET of " + k)
        value = "after-%x" % random.getrandbits(32)
        dn.control("latency %d %d" % (slow_node, hold_ms))
        try:
            t0 = time.monotonic()
            c.send(encode("SET", held, value) + encode("SET", free, value))
            seen = False
            while not seen and time.monotonic() - t0 < 0.6 * hold_ms / 1000:
                seen = watcher.cmd("GET", free) == value.encode()
                time.sleep(0.02)
            eq([c.reply(), c.reply()], ["OK", "OK"], "the two pipelined SETs' replies")
            check(time.monotonic() - t0 >= 0.9 * hold_ms / 1000,
                  "the held SET to answer after its node's delay", time.monotonic() - t0)
        finally:
            dn.control("clear")
        eq(watcher.cmd("GET", free), value.encode(), "the second key once both SETs answered")
        return seen


def cli_ok(res, want_out, what):
    """A redis-cli result: exit 0 and exactly want_out on stdout."""
    if res.rc != 0 or res.out != want_out:
        raise Fail("%s: expected exit 0 and stdout %r; got %r" % (what, want_out, res))


# ---- main -----------------------------------------------------------------------------

def main(argv):
    """Runs the tests the topic file registered with @test (all, or those whose name holds
    one of the substrings in argv; -v prints tracebacks). Returns the exit status."""
    global _tmp
    prog = os.path.basename(sys.argv[0])
    args = [a for a in argv if a not in ("-v", "--verbose")]
    E.verbose = len(args) != len(argv)
    for b in (SERVER or DEVNODE, SIDECAR, CLI):
        if not os.access(b, os.X_OK):
            print(prog + ": %s is missing: build first, or set NORIKV_DEVNODE, NORIKV_SIDECAR "
                  "and NORIKV_CLI" % b)
            print("0 passed, 1 failed")
            return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    atexit.register(cleanup)
    _tmp = E.tmp = tempfile.mkdtemp(prefix="norikv-e2e-%s." % os.path.splitext(prog)[0])
    selected = [t for t in TESTS if not args or any(a in t.__name__ for a in args)]
    passed, failed, skipped = 0, [], []
    started = time.monotonic()
    try:
        try:
            E.start()
        except Exception as e:
            print("FAIL setup: the %s and the sidecar to start; got %s" % (
                "norikv-server nodes" if SERVER else "devnode cluster", e))
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
            except Skip as e:
                signal.setitimer(signal.ITIMER_REAL, 0)
                skipped.append(t.__name__)
                print("SKIP %s: %s" % (t.__name__, e), flush=True)
            except Exception as e:
                signal.setitimer(signal.ITIMER_REAL, 0)
                failed.append(t.__name__)
                kind = "" if isinstance(e, Fail) else "%s: " % type(e).__name__
                print("FAIL %s: %s%s" % (t.__name__, kind, e), flush=True)
                if E.verbose or not isinstance(e, (Fail, TestTimeout)):
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
    if skipped:
        print("%d skipped: %s" % (len(skipped), " ".join(skipped)))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0
